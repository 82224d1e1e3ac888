"""The web app in a real (headless) Chromium: login, dashboard, no markup
injection from DICOM data, no console errors, screenshots."""

import json
import os
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h
import cdp

# No '^' (so any name formatting leaves it alone) and no '=' (PN group
# separator): plain markup that must be shown as text.
MARKUP_NAME = "Hbx<b>Bold</b><img src><i>It</i>"
# A script payload where '=' is allowed (LO).
MARKUP_DESCRIPTION = "<img src=x onerror=\"window.hbXss=1\">Scan"

USER_SELECTORS = ["input[name=username]", "#username", "input[autocomplete=username]",
                  "input[type=text]", "input[type=email]", "input:not([type])"]
SUBMIT_SELECTORS = ["button[type=submit]", "input[type=submit]", "form button", "button"]


class WebBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-browser-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("web-browser")
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.markup_file = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "markup.dcm"),
                                         PatientName=MARKUP_NAME, PatientID="WEB-1",
                                         StudyDescription=MARKUP_DESCRIPTION, StudyDate="20301231")
        cls.plain_file = h.sample("MR_small.dcm")
        cls.site.storescu([cls.markup_file, cls.plain_file])
        for p in (cls.markup_file, cls.plain_file):
            cls.site.wait_indexed(h.expected_study(p)["study_uid"], timeout=30)
        st = cls.site.bridge_study(h.expected_study(cls.markup_file)["study_uid"])
        assert st["patient_name"] == MARKUP_NAME, "the index altered the name: %r" % st["patient_name"]

    def setUp(self):
        self.browser = cdp.Browser()
        self.browser.start()
        self.addCleanup(self.browser.close)

    def shot(self, name):
        path = os.path.join(self.out, "web-%s.png" % name)
        data = self.browser.screenshot(path)
        self.assertGreater(len(data), 1000, "empty screenshot %s" % path)
        return path

    def first_selector(self, candidates):
        for sel in candidates:
            if self.browser.evaluate("!!(function(){var e=document.querySelector(%s);"
                                     " return e && e.offsetParent!==null;})()" % json.dumps(sel)):
                return sel
        self.fail("none of %r on page %s; body: %s" % (
            candidates, self.browser.evaluate("location.href"),
            (self.browser.evaluate("document.body && document.body.innerText") or "")[:500]))

    def fill_login(self, username, password):
        b = self.browser
        user_sel = self.first_selector(USER_SELECTORS)
        b.evaluate("document.querySelector(%s).value=''" % json.dumps(user_sel))
        b.evaluate("document.querySelector('input[type=password]').value=''")
        b.type_into(user_sel, username)
        b.type_into("input[type=password]", password)
        b.click(self.first_selector(SUBMIT_SELECTORS))

    def body_text(self):
        return self.browser.evaluate("document.body ? document.body.innerText : ''") or ""

    def test_login_and_dashboard(self):
        b = self.browser
        b.set_viewport(1366, 768)
        b.navigate(self.site.url + "/bridge/app/login.html")
        b.wait_js("document.readyState==='complete' && !!document.querySelector('input[type=password]')",
                  message="login page has no password field")
        self.shot("login-1366x768")

        # 1. wrong password: an error is shown, we stay on the login page
        self.fill_login(h.ADMIN_USER, "Wrong-Browser-Passw0rd")
        b.wait_js("/invalid|incorrect|wrong|failed|refused/i.test(document.body.innerText)", 15,
                  message="no error message shown after a wrong password")
        self.assertIn("login", b.evaluate("location.pathname"))
        self.shot("login-error-1366x768")
        # the browser itself reports the 403 of the failed fetch; that one is expected
        expected_noise = [p for p in b.problems if "/bridge/login" in p and "403" in p]
        unexpected = [p for p in b.problems if p not in expected_noise]
        self.assertEqual(unexpected, [], "console errors on the login page")
        del b.problems[:]

        # 2. right password: the dashboard
        self.fill_login(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        b.wait_js("!/login/.test(location.pathname) || /General Hospital/.test(document.body.innerText)", 20,
                  message="login did not lead anywhere")
        try:
            b.wait_js("document.readyState==='complete' && document.body.innerText.indexOf(%s) >= 0 && "
                      "document.body.innerText.indexOf(%s) >= 0"
                      % (json.dumps("General Hospital"), json.dumps(MARKUP_NAME)), 20)
        except AssertionError:
            self.shot("dashboard-timeout-1366x768")
            self.fail("dashboard does not show the site name and the patient name %r; page %s shows: %r; "
                      "console: %r" % (MARKUP_NAME, b.evaluate("location.href"), self.body_text()[:1500],
                                       b.problems))
        self.assertNotIn("login.html", b.evaluate("location.pathname"))
        self.shot("dashboard-1366x768")

        text = self.body_text()
        self.assertIn("General Hospital", text)
        self.assertIn(MARKUP_NAME, text, "patient name not shown as literal text")
        mr_name = h.expected_study(self.plain_file)["patient_name"]
        self.assertTrue(mr_name in text or mr_name.replace("^", " ") in text or mr_name.split("^")[0] in text,
                        "second study's patient %r not shown" % mr_name)

        # 3. markup from DICOM never became elements, and no script ran
        injected = b.evaluate("""(function(){
            var r = {};
            r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
                       function(e){return e.textContent==='Bold';}).length;
            r.italic = Array.prototype.filter.call(document.querySelectorAll('i'),
                       function(e){return e.textContent==='It';}).length;
            r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
                       function(e){var s=e.getAttribute('src'); return s===null || s==='' || s==='x';}).length;
            r.xss = (typeof window.hbXss !== 'undefined');
            return r; })()""")
        self.assertEqual(injected, {"bold": 0, "italic": 0, "imgs": 0, "xss": False},
                         "DICOM markup was interpreted as HTML")
        self.assertNotIn("hb_session", b.evaluate("document.cookie"), "session cookie readable by JS")

        # 4. phone size
        b.set_viewport(390, 844, mobile=True, scale=1)
        b.wait_js("window.innerWidth===390", 5)
        b.evaluate("window.scrollTo(0,0)")
        self.shot("dashboard-390x844")
        self.assertIn(MARKUP_NAME, self.body_text())
        overflow = b.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        self.assertLessEqual(overflow, 1, "page wider than the phone screen by %s px" % overflow)

        # 5. no console error, no uncaught exception, no failed request
        self.assertEqual(b.problems, [], "console errors / uncaught exceptions on the dashboard")
        failed = [(p.get("errorText"), p.get("type")) for p in b.requests_failed]
        self.assertEqual(failed, [], "failed requests")

        # 6. the same session opens Orthanc Explorer, which now carries a way
        # back to HospitalBridge, without breaking Explorer's own scripts
        b.set_viewport(1366, 768)
        b.navigate(self.site.url + "/app/explorer.html")
        b.wait_js("!!document.getElementById('hospitalbridge-link')", 20,
                  message="Orthanc Explorer has no HospitalBridge link (or did not load)")
        self.assertEqual(b.evaluate("document.getElementById('hospitalbridge-link').getAttribute('href')"),
                         "../bridge/app/")
        self.shot("explorer-1366x768")
        self.assertEqual([p for p in b.problems if "uncaught" in p.lower() or "exception" in p.lower()], [],
                         "script errors in Orthanc Explorer")

        # 7. this site has no Shares.PublicBaseUrl and is opened at 127.0.0.1: the
        # reception page warns that its QR codes would carry an address phones
        # cannot open
        self.assertIn("127.0.0.1", self.site.url)
        b.navigate(self.site.url + "/bridge/app/reception.html")
        b.wait_js("!document.getElementById('page-warning').hidden && "
                  "document.getElementById('page-warning').textContent.indexOf('phones cannot open') >= 0", 20,
                  message="the reception page does not warn about the loopback address in its QR codes")
        self.shot("reception-loopback-warning-1366x768")

    def test_dashboard_requires_login(self):
        b = self.browser
        b.set_viewport(1366, 768)
        # straight to the app without a session: no patient data may appear
        b.navigate(self.site.url + "/bridge/app/")
        b.wait_js("document.readyState==='complete'", 10)
        time.sleep(2)  # let the page's own requests finish
        text = self.body_text()
        self.shot("anonymous-app-1366x768")
        self.assertNotIn(MARKUP_NAME, text)
        self.assertNotIn(h.expected_study(self.plain_file)["patient_name"], text)
        self.assertEqual([p for p in b.problems if "uncaught" in p], [],
                         "uncaught exceptions for an anonymous visitor")


if __name__ == "__main__":
    unittest.main()
