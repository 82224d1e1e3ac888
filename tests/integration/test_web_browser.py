"""The web app in a real (headless) Chromium: login, dashboard, no markup
injection from DICOM data, no console errors, screenshots; every staff page
loaded as native ES modules (WebAssets/lib/) without a script error or a
Content-Security-Policy violation; texts from the locale file (lib/locale/en.js)
and every key the page scripts use present in it; the Sites page, written with
the vendored view library (Preact + htm), adding, editing and removing a site."""

import glob
import json
import os
import re
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

INJECTED_JS = """(function(){
    var r = {};
    r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
               function(e){return e.textContent==='Bold';}).length;
    r.italic = Array.prototype.filter.call(document.querySelectorAll('i'),
               function(e){return e.textContent==='It';}).length;
    r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
               function(e){var s=e.getAttribute('src'); return s===null || s==='' || s==='x';}).length;
    r.xss = (typeof window.hbXss !== 'undefined');
    return r; })()"""

# What the page says about its scripts: [type, src] of every <script>.
SCRIPTS_JS = ("Array.prototype.map.call(document.scripts, function(s){"
              " return [s.type, s.getAttribute('src')]; })")

# The locale keys the page scripts look up with a literal key (t('x.y'), tParts('x.y')).
LOCALE_KEY = re.compile(r"\b(?:t|tParts)\('([a-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)+)'")


def literal_locale_keys():
    web = os.path.join(h.SOURCE_DIR, "WebAssets")
    keys = set()
    for path in glob.glob(os.path.join(web, "js", "*.js")) + [os.path.join(web, "share", "share.js")]:
        with open(path, encoding="utf-8") as f:
            keys.update(LOCALE_KEY.findall(f.read()))
    return sorted(keys)


USER_SELECTORS = ["input[name=username]", "#username", "input[autocomplete=username]",
                  "input[type=text]", "input[type=email]", "input:not([type])"]
SUBMIT_SELECTORS = ["button[type=submit]", "input[type=submit]", "form button", "button"]


class WebBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-browser-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        # The router on, to an address nobody answers: the Router page lists the markup study.
        cls.site = h.OrthancSite("web-browser", extra_config={"HospitalBridge": {
            "Modules": {"Router": True},
            "Router": {"Destinations": [{"Name": "archive", "Type": "dicomweb", "Url": "http://127.0.0.1:9/dicom-web"}],
                       "Rules": [{"Name": "all", "Destinations": ["archive"]}]}}})
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
        injected = b.evaluate(INJECTED_JS)
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

    # --- modules, locale, the view library -------------------------------------------

    def sign_in(self, username, password):
        b = self.browser
        b.navigate(self.site.url + "/bridge/app/login.html")
        b.wait_js("document.readyState==='complete' && !!document.getElementById('username')", 20,
                  message="login page not ready")
        self.fill_login(username, password)
        b.wait_js("location.pathname.indexOf('/bridge/app/') === 0 && location.pathname.indexOf('login') === -1",
                  20, message="%s could not sign in: %r" % (username, self.body_text()[:500]))
        b.wait_js("document.readyState==='complete'", 20)

    def registry_id(self, patient_id):
        def probe():
            r = self.site.admin.get(self.site.url + "/bridge/patients", params={"limit": 500}, timeout=30)
            r.raise_for_status()
            for p in r.json()["patients"]:
                if not p.get("merged_into") and any(i.get("patient_id") == patient_id for i in p.get("identifiers", [])):
                    return p["id"]
            return None
        return h.wait_until(probe, 20, message="no registry entry for PatientID %s" % patient_id)

    def open_page(self, path, ready, name):
        """Loads path and waits for `ready` (JS); returns the URLs it requested."""
        b = self.browser
        del b.problems[:]
        del b.requests_failed[:]
        b.navigate("about:blank")
        first = len(b.events("Network.requestWillBeSent"))
        b.navigate(self.site.url + path)
        try:
            b.wait_js("document.readyState==='complete' && (%s)" % ready, 30)
        except AssertionError:
            self.shot("%s-timeout" % name)
            self.fail("%s did not get ready (%s); it shows %r; console %r"
                      % (path, ready, self.body_text()[:800], b.problems))
        time.sleep(0.5)   # the page's last requests
        return b.requested_urls(first)

    def assert_clean(self, what):
        b = self.browser
        self.assertEqual(b.csp_violations(), [], "Content-Security-Policy violations " + what)
        self.assertEqual(b.problems, [], "console errors / uncaught exceptions " + what)
        self.assertEqual([(p.get("errorText"), p.get("type")) for p in b.requests_failed], [],
                         "failed requests " + what)

    def test_every_staff_page_loads_as_modules(self):
        b = self.browser
        b.set_viewport(1366, 768)
        self.sign_in(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        pid = self.registry_id("WEB-1")
        study = h.expected_study(self.markup_file)["study_uid"]
        made = self.site.admin.post(self.site.url + "/bridge/shares", timeout=30,
                                    json={"study": self.site.orthanc_study_id(study), "consent_attested": True})
        self.assertEqual(made.status_code, 200, made.text[:500])
        slip = made.json()["slip"]
        loaded_nav = "!!document.querySelector('.hb-nav-link[aria-current=page]') && "
        pages = [
            ("/bridge/app/", "dashboard", loaded_nav + "/Updated/.test(document.getElementById('refresh-status').textContent)"),
            ("/bridge/app/patients.html", "patients", loaded_nav + "!document.getElementById('results-wrap').hidden"),
            ("/bridge/app/patients.html?id=" + pid, "patient", loaded_nav +
             "!document.getElementById('detail-body').hidden && document.getElementById('consent-current').children.length===3"),
            ("/bridge/app/federation.html?local_patient_id=WEB-1", "federation", loaded_nav +
             "!document.getElementById('fed-results').hidden && !document.getElementById('fed-studies-wrap').hidden"),
            ("/bridge/app/sites.html", "sites", loaded_nav + "document.querySelectorAll('#sites-body tr').length >= 1"),
            ("/bridge/app/reception.html", "reception", loaded_nav +
             "/Updated/.test(document.getElementById('refresh-status').textContent)"),
            ("/bridge/app/audit.html", "audit", loaded_nav +
             "/intact/.test(document.getElementById('chain-text').textContent) && "
             "!document.getElementById('events-wrap').hidden"),
            ("/bridge/app/router.html", "router", loaded_nav + "!!document.getElementById('router-destinations') && "
             "!!document.getElementById('router-deliveries-body')"),
            ("/bridge/app/access-report.html?id=" + pid, "access-report", loaded_nav +
             "!document.getElementById('report').hidden"),
            ("/bridge/app/login.html", "login", "!!document.getElementById('username')"),
        ]
        for path, name, ready in pages:
            urls = self.open_page(path, ready, "page-" + name)
            self.shot("page-%s-1366x768" % name)
            scripts = b.evaluate(SCRIPTS_JS)
            self.assertTrue(scripts, "%s has no script" % path)
            for kind, src in scripts:
                self.assertEqual(kind, "module", "%s loads %s as a classic script" % (path, src))
                self.assertTrue(src and src.startswith("/bridge/app/js/"), "%s: script %r" % (path, src))
            self.assertTrue(any("/bridge/app/lib/" in u for u in urls), "%s loaded nothing from lib/: %r" % (path, urls))
            self.assertFalse([u for u in urls if u.startswith("http") and not u.startswith(self.site.url)],
                             "%s asked another origin" % path)
            self.assertEqual(b.evaluate(INJECTED_JS), {"bold": 0, "italic": 0, "imgs": 0, "xss": False},
                             "DICOM markup was interpreted as HTML on " + path)
            self.assert_clean("on " + path)
            if name in ("patients", "patient", "access-report"):
                self.assertIn(MARKUP_NAME.split("<")[0], self.body_text())

        # The slip: its template (Resources/Templates/slip.html) loads the page's module,
        # which enables the buttons.
        urls = self.open_page(slip + "?format=a6", "!document.getElementById('slip-print').disabled", "slip")
        self.assertIn(self.site.url + "/bridge/app/js/slip-page.js", urls)
        self.assertTrue(any("/bridge/app/lib/" in u for u in urls), urls)
        self.assert_clean("on the slip")

    def test_locale_texts(self):
        b = self.browser
        b.set_viewport(1366, 768)
        self.sign_in(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        self.open_page("/bridge/app/", "/Updated/.test(document.getElementById('refresh-status').textContent)",
                       "locale")
        keys = literal_locale_keys()
        self.assertGreater(len(keys), 300, "the key scan found too few keys: %r" % keys[:20])
        got = b.evaluate("""Promise.all([import('/bridge/app/lib/locale/en.js'), import('/bridge/app/lib/i18n.js')])
            .then(function (m) {
              var en = m[0].default, i18n = m[1];
              return {
                nav: Array.prototype.map.call(document.querySelectorAll('.hb-nav-link'), function (a) { return a.textContent; }),
                navTexts: ['nav.dashboard', 'nav.patients', 'nav.federation', 'nav.sites', 'nav.reception', 'nav.audit',
                           'nav.explorer'].map(function (k) { return en[k]; }),
                skip: document.querySelector('.hb-skip-link').textContent, skipText: en['layout.skip'],
                signOut: document.querySelector('.hb-signout').textContent, signOutText: en['layout.signOut'],
                status: document.getElementById('refresh-status').textContent,
                statusTemplate: en['refresh.updated'],
                one: i18n.t('sites.summary', {count: 1, peers: 0}),
                many: i18n.t('sites.summary', {count: 1234, peers: 2}),
                parts: i18n.tParts('dashboard.noStudies', {aet: 'X', explorer: 'Y'}).join('|'),
                language: i18n.language, htmlLang: document.documentElement.lang,
                missing: %s.filter(function (k) { return !i18n.has(k); })
              };
            })""" % json.dumps(keys), await_promise=True)
        self.assertEqual(got["missing"], [], "keys the page scripts use but lib/locale/en.js lacks")
        self.assertEqual([t for t in got["nav"] if t in got["navTexts"]], got["navTexts"],
                         "the navigation does not show the locale's texts")
        self.assertEqual(got["skip"], got["skipText"])
        self.assertEqual(got["signOut"], got["signOutText"])
        self.assertEqual(got["statusTemplate"], "Updated {time} \u00b7 refreshes every {seconds} s")
        self.assertRegex(got["status"], r"^Updated .+ \u00b7 refreshes every 10 s$")
        self.assertEqual(got["one"], "1 other hospital, 0 reachable for federation search")
        self.assertEqual(got["many"], "%s other hospitals, 2 reachable for federation search"
                         % b.evaluate("(1234).toLocaleString()"))
        self.assertEqual(got["parts"], "No studies yet \u2014 send DICOM to AET |X| or upload in |Y")
        self.assertEqual((got["language"], got["htmlLang"]), ("en", "en"))
        # A language this build has no catalogue for falls back to English.
        b.evaluate("localStorage.setItem('hb.language', 'xx')")
        self.open_page("/bridge/app/", "/Updated/.test(document.getElementById('refresh-status').textContent)",
                       "locale-xx")
        self.assertEqual(b.evaluate("document.documentElement.lang"), "en")
        self.assertIn("Dashboard", b.evaluate("document.querySelector('.hb-nav-link[aria-current=page]').textContent"))
        b.evaluate("localStorage.removeItem('hb.language')")
        self.assert_clean("with the locale")

    def test_sites_page_with_preact(self):
        b = self.browser
        b.set_viewport(1366, 768)
        self.sign_in(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        row = ("Array.prototype.filter.call(document.querySelectorAll('#sites-body tr'),"
               " function(r){return r.textContent.indexOf(%s)>=0;})[0]")
        urls = self.open_page("/bridge/app/sites.html",
                              "!!(%s) && !document.getElementById('add-toggle').hidden" % (row % json.dumps("HOS-001")),
                              "sites")
        for module in ("/bridge/app/vendor/preact/preact.js", "/bridge/app/vendor/preact/hooks.js",
                       "/bridge/app/vendor/htm/htm.js", "/bridge/app/lib/view.js"):
            self.assertIn(self.site.url + module, urls, "the Sites page did not load " + module)
        self.assertIn("this site", b.evaluate("(%s).textContent" % (row % json.dumps("HOS-001"))))
        self.assertEqual(b.evaluate("document.getElementById('sites-summary').textContent"),
                         "No other hospital is registered yet.")
        self.assertTrue(b.evaluate("document.getElementById('readonly-note').hidden"))

        # add: the form refuses a bad ID, then saves
        b.click("#add-toggle")
        b.wait_js("!!document.getElementById('site-form') && document.activeElement.id==='site-id'", 10,
                  message="the add form did not open with the ID field focused")
        b.type_into("#site-id", "bad id!")
        b.click("#site-submit")
        b.wait_js("/1 to 32/.test(document.getElementById('site-message').textContent) && "
                  "document.getElementById('site-id').getAttribute('aria-invalid')==='true'", 10,
                  message="a bad site ID was not refused")
        b.type_into("#site-id", "HOS-777")
        b.type_into("#site-name", "Hbx<b>Bold</b> Clinic")
        b.type_into("#site-peer", "no-such-peer")
        self.shot("sites-form-1366x768")
        # the server's 400 (Orthanc has no such peer) is shown and marks the field
        b.click("#site-submit")
        b.wait_js("/Not saved: .*peer/.test(document.getElementById('site-message').textContent) && "
                  "document.getElementById('site-peer').getAttribute('aria-invalid')==='true'", 20,
                  message="the server's refusal of an unknown peer was not shown")
        self.assertTrue(b.evaluate("document.getElementById('sites-notice').hidden"))
        # the browser itself logs the 400 of that request; nothing else
        self.assertEqual([p for p in b.problems if not ("400" in p and p.endswith("/bridge/sites"))], [])
        del b.problems[:]
        b.evaluate("(function(){var e=document.getElementById('site-peer'); e.value='';"
                   " e.dispatchEvent(new Event('input', {bubbles: true})); return 1;})()")
        b.click("#site-submit")
        b.wait_js("/Added/.test(document.getElementById('sites-notice').textContent) && !!(%s) && "
                  "!document.getElementById('site-form')" % (row % json.dumps("HOS-777")), 20,
                  message="the new site was not added: %r" % b.evaluate(
                      "(document.getElementById('site-message')||{}).textContent"))
        self.assertEqual(b.evaluate("document.getElementById('sites-summary').textContent"),
                         "1 other hospital, 0 reachable for federation search")
        self.assertIn("none (not searched)", b.evaluate("(%s).textContent" % (row % json.dumps("HOS-777"))))
        self.assertEqual(b.evaluate(INJECTED_JS)["bold"], 0, "a site name became markup")
        sites = {s["id"]: s for s in self.site.admin.get(self.site.url + "/bridge/sites", timeout=30).json()["sites"]}
        self.assertEqual((sites["HOS-777"]["name"], sites["HOS-777"].get("orthanc_peer", "")), ("Hbx<b>Bold</b> Clinic", ""))
        self.shot("sites-added-1366x768")

        # edit: the ID cannot change, the name can
        self.mark_and_click("Array.prototype.filter.call((%s).querySelectorAll('button'),"
                            " function(x){return x.textContent==='Edit';})[0]" % (row % json.dumps("HOS-777")), "edit")
        b.wait_js("!!document.getElementById('site-form') && document.getElementById('site-id').readOnly && "
                  "document.getElementById('site-name').value.indexOf('Clinic')>=0 && "
                  "document.activeElement.id==='site-name'", 10, message="the edit form did not open")
        b.type_into("#site-name", "Renamed Clinic")
        b.click("#site-submit")
        b.wait_js("/Saved Renamed Clinic/.test(document.getElementById('sites-notice').textContent)", 20,
                  message="the edit was not saved")
        # the list is read again after the notice: the row may take a moment
        b.wait_js("/Renamed Clinic/.test((%s || {}).textContent)" % (row % json.dumps("HOS-777")), 10,
                  message="the row of HOS-777 does not show the new name")

        # remove, after the confirmation dialog
        self.mark_and_click("Array.prototype.filter.call((%s).querySelectorAll('button'),"
                            " function(x){return x.textContent==='Remove';})[0]" % (row % json.dumps("HOS-777")), "remove")
        b.wait_js("!!document.querySelector('dialog.hb-dialog[open]')", 10, message="no confirmation dialog")
        self.assertIn("Remove this site?", b.evaluate("document.querySelector('dialog.hb-dialog').textContent"))
        b.click("dialog.hb-dialog .hb-button-danger")
        b.wait_js("/Removed Renamed Clinic/.test(document.getElementById('sites-notice').textContent) && !(%s)"
                  % (row % json.dumps("HOS-777")), 20, message="the site was not removed")
        ids = [s["id"] for s in self.site.admin.get(self.site.url + "/bridge/sites", timeout=30).json()["sites"]]
        self.assertNotIn("HOS-777", ids)
        self.assert_clean("on the Preact page")

        # another role reads the list, without the edit controls
        user, password = "web_radiologist", "Web-Radiologist-" + h.generate_uid()[-10:]
        self.site.create_user(user, "radiologist", password)
        b.evaluate("fetch('/bridge/logout', {method: 'POST', credentials: 'same-origin'}).then(function(){return 1;})",
                   await_promise=True)
        self.sign_in(user, password)
        self.open_page("/bridge/app/sites.html", "!document.getElementById('readonly-note').hidden && !!(%s)"
                       % (row % json.dumps("HOS-001")), "sites-radiologist")
        self.assertTrue(b.evaluate("document.getElementById('add-toggle').hidden"))
        self.assertEqual(b.evaluate("document.querySelectorAll('#sites-body button').length"), 0)
        self.assertIsNone(b.evaluate("document.getElementById('actions-head')"))
        self.shot("sites-radiologist-1366x768")
        self.assert_clean("for a radiologist on the Sites page")

    def mark_and_click(self, expression, tag):
        found = self.browser.evaluate("(function(){var e=(%s); if(!e) return false;"
                                      " e.setAttribute('data-hb-test', %s); return true;})()" % (expression, json.dumps(tag)))
        self.assertTrue(found, "no element for " + tag)
        self.browser.click("[data-hb-test=%s]" % tag)


if __name__ == "__main__":
    unittest.main()
