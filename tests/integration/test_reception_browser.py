"""The reception page (issue 4) in a real headless Chromium, signed in as a
`reception` user through the login page, against a real Orthanc +
HospitalBridge:

  1. today's studies list the stored studies, a patient name with markup
     shown as text (no element made from it), no console error, a 1366x768
     screenshot;
  2. a receptionist makes a share link from a study row. Share consent is
     opt-in by default and nothing is recorded, so the server refuses
     without attestation (409 "Consent required"); the index already marks
     the study restricted, so the page flags the row and shows the consent
     box at once (if it did not, the first submit would get the 409 and
     show it then). Submitting without the tick is stopped by the page;
     with it, the link is made, the slip opens in a new tab (or the page
     says the tab was blocked) and the 6-digit PIN is shown; exactly one
     share exists for that study, and the slip carries that PIN;
  3. the page's own handling of the server's 409: consent recorded, the
     dialog opened (no consent box), the patient withdraws meanwhile, the
     submit gets the 409, the page shows the server's message and the box;
     ticked, the link is made;
  4. the link is revoked from "Recent shares" with a reason (the page
     insists on one);
  5. "reception.html#share=<Orthanc study ID>" opens the create dialog for
     that study;
  6. Orthanc Explorer's study page has the "Share (QR)" button leading there;
  7. the page fits a phone screen (390x844, no horizontal overflow).

Screenshots go to HB_ARTIFACTS as reception-*.png.
"""

import json
import os
import re
import shutil
import tempfile
import unittest

import orthanc_harness as h

CHROMIUM_OK = os.path.exists(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
if CHROMIUM_OK:
    import cdp

SITE_NAME = "General Hospital"
# No '^' and no '=' (PN separators): the page shows it unchanged, as text.
MARKUP_NAME = "Hbx<b>Bold</b><img src>"
MARKUP_ID = "RCP-MARKUP-1"
PLAIN_NAME = "RECEPTION^PLAIN"
PLAIN_SHOWN = "RECEPTION, PLAIN"          # as HB.formatPatientName shows it
PLAIN_ID = "RCP-PLAIN-2"
# Share consent recorded, then withdrawn while the create dialog is open.
STALE_NAME = "STALE^CONSENT"
STALE_SHOWN = "STALE, CONSENT"
STALE_ID = "RCP-STALE-3"
REVOKE_REASON = "Slip lost at the desk"

# Bounds of the waits: generous, for a loaded 2-core machine running Orthanc,
# Chromium and the test at once. The page polls every 15 s; a refresh it
# skips (because one is already running) shows up one period later, hence
# POLL_TIMEOUT for what appears in the lists after an action.
PAGE_TIMEOUT = 30
UI_TIMEOUT = 20
POLL_TIMEOUT = 45

INJECTED_JS = """(function(){
    var r = {};
    r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
               function(e){return e.textContent==='Bold';}).length;
    r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
               function(e){var s=e.getAttribute('src'); return s===null || s==='';}).length;
    return r; })()"""


def js(value):
    return json.dumps(value)


def study_row_js(text):
    """JS: the first row of today's studies whose text contains `text`."""
    return ("Array.prototype.filter.call(document.querySelectorAll('#studies-body tr'),"
            " function(r){return r.textContent.indexOf(%s)>=0;})[0]" % js(text))


def share_row_js(share_id):
    """JS: the row of Recent shares for share #share_id."""
    return ("Array.prototype.filter.call(document.querySelectorAll('#shares-body tr'),"
            " function(r){return /#%d(\\D|$)/.test(r.textContent);})[0]" % int(share_id))


@unittest.skipUnless(CHROMIUM_OK, "chromium not installed")
class ReceptionBrowserTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-reception-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("reception-browser")
        cls.addClassCleanup(cls.site.close)
        cls.site.allocate_ports()
        cls.site.extra_config = {"HospitalBridge": {
            "Site": {"Id": "HOS-001", "Name": SITE_NAME},
            "Shares": {"PublicBaseUrl": cls.site.url}}}
        cls.site.start()

        # Fresh UIDs: each study belongs to this test only.
        files = {}
        for key, src, name, pid, desc in (
                ("markup", "CT_small.dcm", MARKUP_NAME, MARKUP_ID, "Reception chest"),
                ("plain", "MR_small.dcm", PLAIN_NAME, PLAIN_ID, "Reception head"),
                ("stale", "CT_small.dcm", STALE_NAME, STALE_ID, "Reception abdomen")):
            files[key] = h.make_variant(h.sample(src), os.path.join(cls.tmp, key + ".dcm"),
                                        PatientName=name, PatientID=pid, StudyDescription=desc)
        cls.site.storescu([files["markup"], files["plain"], files["stale"]])
        cls.uid = {k: h.expected_study(f)["study_uid"] for k, f in files.items()}
        cls.oid = {}
        for key, uid in cls.uid.items():
            cls.site.wait_indexed(uid, timeout=30)
            cls.oid[key] = h.wait_until(lambda: cls.site.orthanc_study_id(uid), 20)
        cls.site.wait_idle(timeout=30)
        st = cls.site.bridge_study(cls.uid["markup"])
        assert st["patient_name"] == MARKUP_NAME, "the index altered the name: %r" % st["patient_name"]
        assert st["orthanc_id"] == cls.oid["markup"], st

        cls.rec_user = "desk_reception"
        cls.rec_pw = "Desk-Browser-Pw-" + h.generate_uid()[-10:]
        cls.site.create_user(cls.rec_user, "reception", cls.rec_pw)
        cls.reception = cls.site.session(cls.rec_user, cls.rec_pw)

        # The "stale" patient agreed to sharing: its study is not flagged.
        cls.stale_patient = cls.registry_patient(STALE_ID)
        cls.record_share_consent(cls.stale_patient, "permit")
        h.wait_until(lambda: cls.site.bridge_study(cls.uid["stale"])["restricted"]["share"] is False, 20,
                     message="recording the share consent did not lift the study's restriction")

        # One browser for the class, signed in once through the login page.
        cls.browser = cdp.Browser()
        cls.addClassCleanup(cls.browser.close)
        cls.browser.start()
        cls._sign_in()

    @classmethod
    def registry_patient(cls, patient_id):
        """The registry entry (id) linked to a local DICOM PatientID."""
        def probe():
            r = cls.site.admin.get(cls.site.url + "/bridge/patients", params={"limit": 500}, timeout=30)
            r.raise_for_status()
            for p in r.json()["patients"]:
                if p.get("merged_into"):
                    continue
                if any(i.get("patient_id") == patient_id for i in p.get("identifiers", [])):
                    return p["id"]
            return None
        return h.wait_until(probe, 20, message="no registry entry for PatientID %s" % patient_id)

    @classmethod
    def record_share_consent(cls, registry_id, decision):
        r = cls.reception.post(cls.site.url + "/bridge/patients/%s/consents" % registry_id, timeout=30,
                               json={"kind": "share", "decision": decision, "method": "verbal",
                                     "note": "reception browser test"})
        assert r.status_code in (200, 201), "POST consents %s -> %d %s" % (decision, r.status_code, r.text[:500])

    @classmethod
    def _sign_in(cls):
        b = cls.browser
        b.set_viewport(1366, 768)
        b.navigate(cls.site.url + "/bridge/app/login.html", timeout=PAGE_TIMEOUT)
        b.wait_js("document.readyState==='complete' && !!document.getElementById('username') && "
                  "!!document.getElementById('password')", UI_TIMEOUT, message="login page not ready")
        b.type_into("#username", cls.rec_user)
        b.type_into("#password", cls.rec_pw)
        b.click("#login-submit")
        try:
            b.wait_js("location.pathname.indexOf('/bridge/app/') === 0 && "
                      "location.pathname.indexOf('login') === -1", PAGE_TIMEOUT)
        except AssertionError:
            raise AssertionError("the reception user could not sign in; the login page shows %r"
                                 % (b.evaluate("document.body && document.body.innerText") or "")[:600])
        b.wait_js("document.readyState==='complete'", PAGE_TIMEOUT)
        me = b.evaluate("fetch('/bridge/me', {credentials: 'same-origin'}).then(function(r){return r.json();})",
                        await_promise=True)
        assert me.get("role") == "reception", me
        assert "hb_session" not in (b.evaluate("document.cookie") or ""), "session cookie readable by JS"

    # ------------------------------------------------------------------ helpers

    def setUp(self):
        self.b = self.browser
        # In front: a background tab (e.g. behind a slip tab a failed test
        # left) has document.hidden, and the page does not poll then.
        self.b.call("Page.bringToFront")
        self.b.set_viewport(1366, 768)
        del self.b.problems[:]
        del self.b.requests_failed[:]

    def shot(self, name):
        path = os.path.join(self.out, "reception-%s.png" % name)
        data = self.b.screenshot(path)
        self.assertGreater(len(data), 1000, "empty screenshot %s" % path)
        return path

    def body_text(self):
        return self.b.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_js(self, expression, timeout, message, shot=None):
        """Browser.wait_js; on failure a screenshot and what the page shows."""
        try:
            return self.b.wait_js(expression, timeout, message=message)
        except AssertionError as e:
            if shot:
                try:
                    self.shot(shot + "-timeout")
                except Exception:
                    pass
            self.fail("%s\npage %s shows: %r\nconsole: %r" % (
                e, self.b.evaluate("location.href"), self.body_text()[:1500], self.b.problems))

    def js_text(self, element_id):
        return self.b.evaluate("document.getElementById(%s).textContent" % js(element_id))

    def js_hidden(self, element_id):
        return self.b.evaluate("document.getElementById(%s).hidden" % js(element_id))

    def open_reception(self, fragment=""):
        """A fresh load of the reception page (about:blank first, so that a
        change of the fragment alone is a real load too)."""
        b = self.b
        b.navigate("about:blank", timeout=PAGE_TIMEOUT)
        b.navigate(self.site.url + "/bridge/app/reception.html" + fragment, timeout=PAGE_TIMEOUT)
        self.wait_js("document.readyState==='complete' && location.pathname==='/bridge/app/reception.html'",
                     PAGE_TIMEOUT, "the reception page did not load (signed out?)", "load")

    def wait_studies_listed(self, names, shot):
        """Today's studies list shows every name, and the first refresh is done."""
        self.wait_js("(function(){var t=document.getElementById('studies-body');"
                     " if(!t || document.getElementById('studies-wrap').hidden) return false;"
                     " var s=t.textContent; return %s.every(function(n){return s.indexOf(n)>=0;}) &&"
                     " /Updated/.test(document.getElementById('refresh-status').textContent);})()" % js(names),
                     PAGE_TIMEOUT, "today's studies do not list %r" % (names,), shot)

    def mark(self, expression, tag):
        """data-hb-test=tag on the element `expression` evaluates to (for
        Browser.click); fails when there is none."""
        found = self.b.evaluate("(function(){var e=(%s); if(!e) return false;"
                                " e.setAttribute('data-hb-test', %s); return true;})()" % (expression, js(tag)))
        self.assertTrue(found, "no element for %s" % tag)
        return "[data-hb-test=%s]" % tag

    def click_marked(self, expression, tag):
        """Mark and click; again if the page re-rendered the element in
        between (its lists are rebuilt on every refresh). Returns the selector."""
        for attempt in range(3):
            selector = self.mark(expression, tag)
            try:
                self.b.click(selector)
                return selector
            except cdp.CDPError:
                if attempt == 2:
                    raise

    def unexpected_problems(self, expected=()):
        """Console errors / exceptions, minus expected network noise:
        entries naming one of `expected` (HTTP status, URL fragment)."""
        return [p for p in self.b.problems
                if not any(("status of %d" % status) in p and frag in p for status, frag in expected)]

    def assert_no_problems(self, what, expected=()):
        self.assertEqual(self.unexpected_problems(expected), [], "console errors / exceptions " + what)
        self.assertEqual([(p.get("errorText"), p.get("type")) for p in self.b.requests_failed], [],
                         "failed requests " + what)

    def share_posts(self):
        """[(requestId, status or None)] of the page's POST /bridge/shares."""
        ids = [e["params"]["requestId"] for e in self.b.events("Network.requestWillBeSent")
               if e["params"]["request"].get("method") == "POST"
               and e["params"]["request"].get("url") == self.site.url + "/bridge/shares"]
        status = {e["params"]["requestId"]: e["params"]["response"].get("status")
                  for e in self.b.events("Network.responseReceived")}
        return [(i, status.get(i)) for i in ids]

    def new_share_post_statuses(self, before):
        """HTTP statuses of the page's POST /bridge/shares after the first
        `before` ones (waits briefly for the CDP events of their answers)."""
        h.wait_until(lambda: all(st is not None for _, st in self.share_posts()[before:]), 10,
                     message="no answer seen for the page's POST /bridge/shares")
        return [st for _, st in self.share_posts()[before:]]

    def admin_get(self, path, **params):
        r = self.site.admin.get(self.site.url + path, params=params, timeout=30)
        self.assertEqual(r.status_code, 200, "GET %s -> %d %s" % (path, r.status_code, r.text[:500]))
        return r.json()

    def shares_of(self, key):
        return self.admin_get("/bridge/shares", status="all", study=self.oid[key])

    def open_create_from_row(self, name):
        b = self.b
        self.assertEqual(b.evaluate("(%s).querySelector('button').textContent.trim()" % study_row_js(name)),
                         "Create and print slip")
        self.click_marked("(%s).querySelector('button')" % study_row_js(name), "row-create")
        self.wait_js("document.getElementById('create-dialog').open && "
                     "!document.getElementById('create-form').hidden", UI_TIMEOUT,
                     "the create dialog did not open", "create-dialog")
        self.assertEqual(self.js_text("create-patient").count(name), 1, self.js_text("create-patient"))

    def submit_with_consent_ticked(self, key):
        """Tick "The patient agreed", submit; the result with its PIN.
        Returns (share, pin) after checking that exactly one share exists
        for the study."""
        b = self.b
        b.click("#consent-attested")
        self.wait_js("document.getElementById('consent-attested').checked", 5, "the consent box did not tick")
        posts = len(self.share_posts())
        b.click("#create-submit")
        self.wait_js("!document.getElementById('create-result').hidden && "
                     "/^\\d{6}$/.test(document.getElementById('result-pin').textContent)",
                     UI_TIMEOUT, "no result with a PIN after ticking consent", "result-" + key)
        pin = self.js_text("result-pin")
        self.assertRegex(pin, r"^\d{6}$")
        self.assertFalse(self.js_hidden("result-pin-box"), "the PIN is not shown")
        self.assertEqual(self.new_share_post_statuses(posts), [200], self.share_posts())

        shares = self.shares_of(key)
        self.assertEqual((shares["total"], len(shares["shares"])), (1, 1),
                         "not exactly one share for the study: %r" % shares)
        share = shares["shares"][0]
        self.assertEqual(share["status"], "active", share)
        self.assertEqual(share["created_by"], self.rec_user, share)
        self.assertEqual(share["second_factor"], "pin", share)
        self.assertEqual(share["scope"], "study", share)
        self.assertEqual([s["id"] for s in share["studies"]], [self.oid[key]], share)
        self.assertTrue(share["slip_pending"] or share["printed_at"], share)
        self.assertIn("#%s " % share["id"], self.js_text("result-message") + " ")
        return share, pin

    def check_slip(self, share, pin):
        """The slip: opened in a new tab (its address seen through CDP
        Target events, then the tab is closed), or the page says the tab was
        blocked; the "Open the slip" link and the slip's PIN either way."""
        b = self.b
        slip_path = "/bridge/shares/%s/slip" % share["id"]
        href = b.evaluate("document.getElementById('result-slip').getAttribute('href')")
        self.assertEqual(href, slip_path + "?format=a6", "the slip link is %r" % href)
        slip_targets = []
        if self.js_hidden("result-blocked"):
            def slip_target():
                urls = {}
                for ev in b.events("Target.targetCreated") + b.events("Target.targetInfoChanged"):
                    info = ev.get("params", {}).get("targetInfo", {})
                    if info.get("type") == "page":
                        urls[info.get("targetId")] = info.get("url", "")
                return [(tid, u) for tid, u in urls.items() if slip_path in u]
            slip_targets = h.wait_until(slip_target, UI_TIMEOUT, message="the page says the slip opened in a new "
                                        "tab, but no tab shows %s" % slip_path)
            for tid, _ in slip_targets:
                self.addCleanup(self.close_target, tid)
            self.assertEqual(len(slip_targets), 1, slip_targets)
            # "#print" (print at once) may already be gone: slip-page.js may consume it.
            self.assertRegex(slip_targets[0][1], "^" + re.escape(self.site.url + slip_path + "?format=a6")
                             + "(#print)?$")
            self.assertIn("new tab", self.js_text("result-message"))
        else:
            self.assertIn("did not open", self.js_text("result-blocked"))
        # The slip carries the PIN the page shows (unless the new tab printed
        # it already: then the PIN is no longer kept, the "printed" page, 410
        # where Orthanc can send it: h.page_status).
        r = self.site.admin.get(self.site.url + slip_path, timeout=30)
        if "s-kind-printed" not in r.text:
            self.assertEqual(r.status_code, 200, r.text[:300])
            self.assertIn(pin, r.text, "the slip does not carry the PIN the page shows")
        else:
            self.assertEqual(r.status_code, h.page_status(410), r.text[:300])
            self.assertNotIn(pin, r.text, "the printed notice shows the PIN")
        for tid, _ in slip_targets:
            self.close_target(tid)
        b.call("Page.bringToFront")
        self.wait_js("document.visibilityState==='visible'", UI_TIMEOUT, "the reception tab is not visible")

    def close_target(self, target_id):
        """Close another tab (e.g. the slip; already closed is fine) and
        bring the test's tab back to the front."""
        try:
            self.b.call("Target.closeTarget", targetId=target_id)
        except cdp.CDPError:
            pass
        self.b.call("Page.bringToFront")

    def close_result(self):
        self.b.click("#result-close")
        self.wait_js("!document.getElementById('create-dialog').open && "
                     "!/\\d/.test(document.getElementById('result-pin').textContent)",
                     UI_TIMEOUT, "the result dialog did not close (or left the PIN on screen)")

    # --------------------------------------------------------------- the tests

    def test_1_today_create_with_consent_and_revoke(self):
        b = self.b
        # --- today's studies ------------------------------------------------------------
        self.open_reception()
        self.wait_studies_listed([MARKUP_NAME, PLAIN_SHOWN, STALE_SHOWN], "1366x768")
        self.shot("1366x768")
        rows = b.evaluate("Array.prototype.map.call(document.querySelectorAll('#studies-body tr'),"
                          " function(r){return r.textContent;})")
        for name in (MARKUP_NAME, PLAIN_SHOWN, STALE_SHOWN):
            self.assertEqual(len([r for r in rows if name in r]), 1, "%r in %r" % (name, rows))
        self.assertIn(MARKUP_NAME, self.body_text(), "the markup name is not shown as literal text")
        self.assertIn(MARKUP_ID, self.body_text())
        self.assertEqual(b.evaluate(INJECTED_JS), {"bold": 0, "imgs": 0}, "DICOM markup became elements")
        self.assert_no_problems("on the reception page")
        # Shares.PublicBaseUrl is set: no warning about the address in the QR codes
        # (test_web_browser checks the warning on a site without it).
        self.assertNotIn("phones cannot open", b.evaluate("document.getElementById('page-warning').textContent"))

        # --- the server's rule: no consent recorded (opt-in) -> 409 without attestation
        r = self.reception.post(self.site.url + "/bridge/shares", json={"study": self.oid["markup"]}, timeout=30)
        self.assertEqual(r.status_code, 409, r.text[:500])
        self.assertEqual(r.json().get("error"), "Consent required", r.text[:500])
        self.assertEqual(self.shares_of("markup")["total"], 0)

        # --- "Create and print slip" on the markup study's row ---------------------------
        b.call("Target.setDiscoverTargets", discover=True)   # the slip opens in a new tab
        self.addCleanup(b.call, "Target.setDiscoverTargets", discover=False)
        self.open_create_from_row(MARKUP_NAME)
        self.assertEqual(b.evaluate(INJECTED_JS), {"bold": 0, "imgs": 0}, "DICOM markup became elements")
        if self.js_hidden("consent-box"):
            # The page does not know yet: the first submit gets the server's 409.
            posts = len(self.share_posts())
            b.click("#create-submit")
            self.wait_js("!document.getElementById('consent-box').hidden && "
                         "!document.getElementById('create-submit').disabled", UI_TIMEOUT,
                         "no consent box after the server's 409", "consent")
            self.assertEqual(self.new_share_post_statuses(posts), [409], self.share_posts())
        else:
            # The index marks the study restricted: the row says so and the
            # box is there at once; without the tick the page sends nothing.
            self.assertIn("No sharing consent", b.evaluate("(%s).textContent" % study_row_js(MARKUP_NAME)))
            posts = len(self.share_posts())
            b.click("#create-submit")
            self.wait_js("!document.getElementById('create-error').hidden && "
                         "/agreed/.test(document.getElementById('create-error').textContent)", UI_TIMEOUT,
                         "submitting without the consent tick gave no message", "consent")
            self.assertEqual(self.share_posts()[posts:], [], "a request was sent without the consent tick")
        self.assertRegex(b.evaluate("document.getElementById('consent-box').innerText"), r"(?i)consent required")
        self.assertRegex(self.js_text("consent-message"), r"(?i)consent|shar")
        self.assertFalse(b.evaluate("document.getElementById('consent-attested').checked"))
        self.assertTrue(self.js_hidden("create-result"), "a result without consent")
        self.assertEqual(self.shares_of("markup")["total"], 0, "a share was made without consent")
        self.shot("consent-1366x768")

        share, pin = self.submit_with_consent_ticked("markup")
        sid = share["id"]
        self.assertEqual(share["patient_name"], MARKUP_NAME, share)
        self.assertEqual(share["patient_id"], MARKUP_ID, share)
        self.check_slip(share, pin)
        self.shot("created-1366x768")
        self.assertEqual(self.shares_of("plain")["total"], 0)

        # --- revoke it from "Recent shares" ------------------------------------------------
        self.close_result()
        row = share_row_js(sid)
        self.wait_js("(function(){var r=%s; return !!r && Array.prototype.some.call(r.querySelectorAll('button'),"
                     " function(x){return x.textContent.trim()==='Revoke';});})()" % row,
                     POLL_TIMEOUT, "share #%s has no Revoke button in Recent shares" % sid, "shares")
        self.assertIn(MARKUP_NAME, b.evaluate("(%s).textContent" % row))
        self.assertEqual(b.evaluate(INJECTED_JS), {"bold": 0, "imgs": 0}, "DICOM markup became elements")
        self.click_marked("Array.prototype.filter.call((%s).querySelectorAll('button'),"
                          " function(x){return x.textContent.trim()==='Revoke';})[0]" % row, "revoke")
        self.wait_js("document.getElementById('revoke-dialog').open", UI_TIMEOUT, "the revoke dialog did not open",
                     "revoke")
        self.assertIn("#%s" % sid, self.js_text("revoke-who"))
        # No reason: the page asks for one, nothing is revoked.
        b.click("#revoke-submit")
        self.wait_js("/reason/i.test(document.getElementById('revoke-error').textContent)", UI_TIMEOUT,
                     "revoking without a reason did not ask for one", "revoke")
        self.assertTrue(b.evaluate("document.getElementById('revoke-dialog').open"))
        self.assertEqual(self.admin_get("/bridge/shares/%s" % sid)["status"], "active")
        b.type_into("#revoke-reason", REVOKE_REASON)
        self.shot("revoke-1366x768")
        b.click("#revoke-submit")
        self.wait_js("!document.getElementById('revoke-dialog').open", UI_TIMEOUT, "the revoke dialog stayed open",
                     "revoke")
        got = self.admin_get("/bridge/shares/%s" % sid)
        self.assertEqual(got["status"], "revoked", got)
        self.assertEqual(got["revoke_reason"], REVOKE_REASON, got)
        self.assertEqual(got["revoked_by"], self.rec_user, got)
        self.assertTrue(got["revoked_at"], got)
        # The list shows it revoked, with the reason, and no Revoke button.
        self.wait_js("(function(){var r=%s; return !!r && /Revoked/.test(r.textContent) && "
                     "r.textContent.indexOf(%s)>=0 && !Array.prototype.some.call(r.querySelectorAll('button'),"
                     " function(x){return x.textContent.trim()==='Revoke';});})()" % (row, js(REVOKE_REASON)),
                     POLL_TIMEOUT, "Recent shares does not show #%s revoked" % sid, "revoked")
        self.shot("revoked-1366x768")
        self.assertEqual(self.shares_of("markup")["total"], 1)
        self.assert_no_problems("while creating and revoking")

    def test_2_server_409_shows_the_consent_box(self):
        b = self.b
        self.open_reception()
        self.wait_studies_listed([STALE_SHOWN], "stale")
        self.assertNotIn("No sharing consent", b.evaluate("(%s).textContent" % study_row_js(STALE_SHOWN)),
                         "the study is flagged although the patient's consent is recorded")
        b.call("Target.setDiscoverTargets", discover=True)
        self.addCleanup(b.call, "Target.setDiscoverTargets", discover=False)
        self.open_create_from_row(STALE_SHOWN)
        self.assertTrue(self.js_hidden("consent-box"), "consent box shown for a patient who agreed")
        # The patient withdraws while the dialog is open: the server refuses.
        self.record_share_consent(self.stale_patient, "deny")
        posts = len(self.share_posts())
        b.click("#create-submit")
        self.wait_js("!document.getElementById('consent-box').hidden && "
                     "!document.getElementById('create-submit').disabled", UI_TIMEOUT,
                     "no consent box after the server's 409", "stale-409")
        self.assertEqual(self.new_share_post_statuses(posts), [409], self.share_posts())
        self.assertIn("Consent required", self.js_text("consent-message"), "not the server's message")
        self.assertTrue(self.js_hidden("create-result"))
        self.assertEqual(b.evaluate("document.activeElement && document.activeElement.id"), "consent-attested")
        self.assertEqual(self.shares_of("stale")["total"], 0)
        self.shot("consent-409-1366x768")
        share, pin = self.submit_with_consent_ticked("stale")
        self.check_slip(share, pin)
        self.close_result()
        self.assert_no_problems("around the 409", expected=[(409, "/bridge/shares")])

    def test_3_share_fragment_opens_the_dialog(self):
        b = self.b
        self.open_reception("#share=" + self.oid["plain"])
        self.wait_js("document.getElementById('create-dialog').open && "
                     "!document.getElementById('create-form').hidden && "
                     "document.getElementById('create-patient').textContent.indexOf(%s)>=0"
                     % js(PLAIN_SHOWN), PAGE_TIMEOUT, "#share=<id> did not open the create dialog for the study",
                     "hash")
        self.assertIn(PLAIN_ID, self.js_text("create-patient"))
        self.assertIn("Reception head", self.js_text("create-study"))
        self.assertTrue(self.js_hidden("page-error"), self.js_text("page-error"))
        self.assertEqual(b.evaluate("location.hash"), "", "the #share= fragment is kept (a reload reopens it)")
        self.shot("hash-dialog-1366x768")
        b.click("#create-cancel")
        self.wait_js("!document.getElementById('create-dialog').open", UI_TIMEOUT, "cancel did not close the dialog")
        self.assertEqual(self.shares_of("plain")["total"], 0)
        self.assert_no_problems("when opening #share=")

    def test_4_explorer_share_button(self):
        b = self.b
        b.navigate(self.site.url + "/app/explorer.html#study?uuid=" + self.oid["markup"], timeout=PAGE_TIMEOUT)
        self.wait_js("(function(){var a=document.getElementById('hospitalbridge-share');"
                     " return !!a && /#share=/.test(a.getAttribute('href')||'') &&"
                     " a.getBoundingClientRect().width > 0;})()",
                     PAGE_TIMEOUT, "Orthanc Explorer's study page has no Share (QR) button for the study", "explorer")
        link = b.evaluate("(function(){var a=document.getElementById('hospitalbridge-share');"
                          " return {href: a.href, text: a.textContent.trim(), target: a.getAttribute('target'),"
                          " disabled: a.classList.contains('ui-disabled')};})()")
        self.assertEqual(link, {"href": self.site.url + "/bridge/app/reception.html#share=" + self.oid["markup"],
                                "text": "Share (QR)", "target": "_blank", "disabled": False})
        self.shot("explorer-study-1366x768")
        self.assertEqual([p for p in b.problems if "uncaught" in p.lower() or "exception" in p.lower()], [],
                         "script errors in Orthanc Explorer")

    def test_5_phone_layout(self):
        b = self.b
        self.addCleanup(b.set_viewport, 1366, 768)
        b.set_viewport(390, 844, mobile=True, scale=1)
        self.open_reception()
        self.wait_js("window.innerWidth===390", UI_TIMEOUT, "the phone viewport did not apply")
        self.wait_studies_listed([MARKUP_NAME, PLAIN_SHOWN], "390x844")
        b.evaluate("window.scrollTo(0,0)")
        self.shot("390x844")
        width = b.evaluate("document.documentElement.scrollWidth")
        self.assertLessEqual(width, 390, "the page is %s px wide on a 390 px phone" % width)
        self.assertIn(MARKUP_NAME, self.body_text())
        self.assert_no_problems("at phone size")


if __name__ == "__main__":
    unittest.main()
