"""Reading and reporting in a real (headless) Chromium (issue 14):

  1. the reading queue updates without a reload when a second radiologist
     claims a study (long polling), and DICOM markup stays text;
  2. the editor: start a report from a template, type the findings (a
     markup-laden finding), the draft autosaved, Sign with the password
     again, the signature and its SHA-256 shown;
  3. the patient's share page at 390x844 shows the final report (impression,
     the PDF link) as text, no wider than the phone;
  4. an administrator edits a template: an unknown field type refused by
     name, then a new version listed (the first one unchanged);
  5. an amendment from the editor: reason, addendum autosaved, signed again,
     two versions with their hashes; the patient's page shows the amended
     report with its note;
  6. an administrator assigns a study from the queue to a radiologist chosen
     from the active ones;
  7. a critical finding: signing is refused until the editor records to whom
     it was told, then the report is signed and the record audited.

Screenshots in build/test-artifacts/ (reports-*.png).
"""

import json
import os
import re
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h
import cdp

PASSWORD = "Rad-Browser-Pw-42!"
MARKUP_NAME = "Rbx<b>Bold</b><img src><i>It</i>"
MARKUP_DESCRIPTION = "<img src=x onerror=\"window.hbXss=1\">Head CT"
MARKUP_FINDING = "Mass <b>3 cm</b> <img src=x onerror=\"window.hbXss=1\"> in left lobe"
IMPRESSION = "Left lobe mass, see findings."

INJECTED_JS = """(function(){
    var r = {};
    r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
               function(e){return e.textContent==='Bold' || e.textContent==='3 cm';}).length;
    r.italic = Array.prototype.filter.call(document.querySelectorAll('i'),
               function(e){return e.textContent==='It';}).length;
    r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
               function(e){var s=e.getAttribute('src'); return s===null || s==='' || s==='x';}).length;
    r.xss = (typeof window.hbXss !== 'undefined');
    return r; })()"""
CLEAN = {"bold": 0, "italic": 0, "imgs": 0, "xss": False}


class ReportsBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-reports-browser-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("reports-browser", extra_config={"HospitalBridge": {
            "Reports": {"Queue": {"Modalities": ["CT"]}, "LiveUpdates": {"WaitSeconds": 5}},
            "Consent": {"Share": "opt-out"},
        }})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        s = cls.site
        cls.rad_a = s.user_session("dr.a", "radiologist", PASSWORD)
        cls.rad_b = s.user_session("dr.b", "radiologist", PASSWORD + "b")
        cls.uids = []
        for i, name in enumerate([MARKUP_NAME, "PLAIN^PATIENT"]):
            path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "ct-%d.dcm" % i),
                                  PatientName=name, PatientID="RB-%d" % i, PatientBirthDate="19700101",
                                  StudyDescription=MARKUP_DESCRIPTION if i == 0 else "Plain CT",
                                  StudyDate="20261120", AccessionNumber="RBACC%d" % i)
            r = s.upload(path)
            assert r.status_code == 200, r.text[:300]
            cls.uids.append(h.expected_study(path)["study_uid"])
        cls.ids = [cls.queued(uid)["id"] for uid in cls.uids]

    @classmethod
    def queued(cls, uid):
        def probe():
            r = cls.rad_a.get(cls.site.url + "/bridge/reports/queue", params={"status": "all", "study": uid},
                              timeout=30)
            r.raise_for_status()
            reports = r.json()["reports"]
            return reports[0] if reports else None
        return h.wait_until(probe, 30, message="study %s not in the reading queue" % uid)

    def setUp(self):
        self.browser = cdp.Browser()
        self.browser.start()
        self.addCleanup(self.browser.close)

    def shot(self, name, full_page=False):
        path = os.path.join(self.out, "reports-%s.png" % name)
        data = self.browser.screenshot(path, full_page=full_page)
        self.assertGreater(len(data), 1000, "empty screenshot %s" % path)

    def body_text(self):
        return self.browser.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_js(self, expression, timeout, what):
        try:
            self.browser.wait_js(expression, timeout)
        except AssertionError:
            self.shot("timeout-" + re.sub(r"\W+", "-", what)[:40])
            self.fail("%s: never true: %s; the page shows %r; console %r"
                      % (what, expression, self.body_text()[:1200], self.browser.problems))

    def assert_clean(self, what):
        b = self.browser
        self.assertEqual(b.csp_violations(), [], "Content-Security-Policy violations " + what)
        self.assertEqual(b.problems, [], "console errors / uncaught exceptions " + what)
        self.assertEqual(b.evaluate(INJECTED_JS), CLEAN, "markup interpreted as HTML " + what)

    def sign_in(self, username, password):
        b = self.browser
        b.navigate(self.site.url + "/bridge/app/login.html")
        self.wait_js("document.readyState==='complete' && !!document.getElementById('username')", 20, "login page")
        b.type_into("#username", username)
        b.type_into("input[type=password]", password)
        b.click("button[type=submit]")
        self.wait_js("location.pathname.indexOf('login') === -1", 20, "signing in as " + username)

    def row(self, rid):
        return "document.querySelector('#queue-body tr[data-report=\"%d\"]')" % rid

    # --- 1. the queue, live ----------------------------------------------------------

    def test_1_queue_updates_live_when_a_colleague_claims(self):
        b = self.browser
        b.set_viewport(1366, 768)
        self.sign_in("dr.a", PASSWORD)
        b.navigate(self.site.url + "/bridge/app/reading.html")
        first, second = self.ids
        self.wait_js("!!%s && !!%s && !!document.querySelector('#live-status.hb-live-live')"
                     % (self.row(first), self.row(second)), 30, "the queue listing both studies, live")
        self.assertIn(MARKUP_NAME, self.body_text(), "the patient name is not shown as text")
        self.assertIn(MARKUP_DESCRIPTION, self.body_text(), "the description is not shown as text")
        self.assertEqual(b.evaluate("!!document.querySelector('a.hb-nav-link[aria-current=page][href$=\"reading.html\"]')"),
                         True, "the Reading link is not the current page")
        self.shot("queue-1366x768")
        b.evaluate("window.hbSamePage = 1")

        # dr.b claims the first study in another session: dr.a's page shows it without a reload.
        started = time.monotonic()
        r = self.rad_b.post(self.site.url + "/bridge/reports/%d/claim" % first, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:500])
        self.wait_js("%s.querySelector('.hb-reader').textContent.trim() === 'dr.b'" % self.row(first), 15,
                     "the queue showing dr.b's claim")
        elapsed = time.monotonic() - started
        self.assertEqual(b.evaluate("window.hbSamePage"), 1, "the page was reloaded")
        self.assertEqual(b.evaluate("!!%s.querySelector('.hb-claim')" % self.row(first)), False,
                         "a claimed study still offers Claim")
        print("queue showed a colleague's claim after %.2f s" % elapsed)
        self.shot("queue-after-claim-1366x768")

        # dr.a claims the second from the page.
        b.click("#queue-body tr[data-report=\"%d\"] .hb-claim" % second)
        self.wait_js("%s.querySelector('.hb-reader').textContent.trim() === 'dr.a'" % self.row(second), 15,
                     "dr.a's own claim")
        self.assert_clean("on the reading queue")
        r = self.rad_b.post(self.site.url + "/bridge/reports/%d/release" % first, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:500])

    # --- 2. the editor ------------------------------------------------------------

    def test_2_editor_drafts_autosaves_and_signs(self):
        b = self.browser
        b.set_viewport(1366, 900)
        self.sign_in("dr.a", PASSWORD)
        rid = self.ids[0]
        b.navigate(self.site.url + "/bridge/app/report.html?id=%d" % rid)
        self.wait_js("!!document.getElementById('start') && !!document.getElementById('template')", 20,
                     "the report page offering to start")
        b.evaluate("(function(){var s=document.getElementById('template'); s.value='ct-head';"
                   " s.dispatchEvent(new Event('change', {bubbles: true}));})()")
        b.click("#start")
        self.wait_js("!!document.getElementById('section-findings') && !!document.getElementById('section-impression')",
                     20, "the draft's sections")
        b.type_into("#section-findings", MARKUP_FINDING)
        b.type_into("#section-impression", IMPRESSION)
        self.wait_js("document.getElementById('save-state').dataset.state === 'saved'", 15, "the draft autosaved")
        saved = self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()
        self.assertEqual(saved["version"]["content"]["sections"]["findings"], MARKUP_FINDING)
        self.assertEqual(saved["status"], "draft")
        self.shot("editor-draft-1366x900", full_page=True)

        b.click("#sign")
        self.wait_js("!!document.getElementById('sign-dialog') && document.getElementById('sign-dialog').open", 10,
                     "the sign dialog open")
        b.type_into("#sign-password", "not-my-password")
        b.click("#sign-submit")
        self.wait_js("document.getElementById('sign-error').textContent.length > 0", 15, "a wrong password refused")
        self.assertEqual(self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()["status"],
                         "draft")
        # The refused sign-off is an expected 403 in the console.
        b.problems[:] = [p for p in b.problems if "403" not in p]
        b.type_into("#sign-password", PASSWORD)
        b.click("#sign-submit")
        self.wait_js("/^[0-9a-f]{64}$/.test((document.getElementById('content-hash') || {}).textContent || '')", 30,
                     "the signature and its hash")
        self.wait_js("!!document.getElementById('stored')", 20, "the PDF stored with the images")
        shown_hash = b.evaluate("document.getElementById('content-hash').textContent")
        report = self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()
        self.assertEqual(report["status"], "final")
        self.assertEqual(report["version"]["content_hash"], shown_hash)
        self.assertIn(MARKUP_FINDING, self.body_text(), "the finding is not shown as text once signed")
        self.assertEqual(b.evaluate("document.getElementById('report-status').dataset.status"), "final")
        self.assertEqual(b.evaluate("!!document.getElementById('sign')"), False, "Sign still offered")
        self.assertEqual(b.evaluate("document.querySelectorAll('#versions-table tbody tr').length"), 1)
        self.shot("editor-signed-1366x900", full_page=True)
        self.assert_clean("on the report editor")

    # --- 3. the patient's page ------------------------------------------------------

    def test_3_patient_page_shows_the_final_report_on_a_phone(self):
        rid = self.ids[0]
        report = h.wait_until(lambda: (lambda j: j if j["status"] == "final" else None)(
            self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()), 90,
            message="report %d is not final (test 2 signs it)" % rid)
        made = self.site.admin.post(self.site.url + "/bridge/shares", timeout=30, json={
            "study": report["study"]["orthanc_id"], "consent_attested": True})
        self.assertEqual(made.status_code, 200, made.text[:500])
        share = made.json()
        b = self.browser
        b.set_viewport(390, 844, mobile=True)
        b.navigate(share["url"])
        self.wait_js("document.readyState==='complete' && !!document.querySelector('input[name=pin]')", 15,
                     "the share landing page")
        b.type_into("input[name=pin]", share["pin"])
        b.click("form button, form input[type=submit]")
        self.wait_js("location.pathname==='/s/app' && !!document.querySelector('.s-report')", 20,
                     "the patient's page with the report")
        text = b.evaluate("document.querySelector('.s-report').innerText")
        self.assertIn(IMPRESSION, text)
        self.assertEqual(b.evaluate("!!document.querySelector('.s-report a[href$=\"/report.pdf\"]')"), True,
                         "no link to the PDF")
        pdf = b.evaluate("document.querySelector('.s-report a[href$=\"/report.pdf\"]').getAttribute('href')")
        self.assertRegex(pdf, r"^/s/api/studies/[0-9a-f-]+/report\.pdf$")
        self.assertLessEqual(b.evaluate("document.documentElement.scrollWidth - window.innerWidth"), 1,
                             "the patient's page is wider than the phone")
        b.evaluate("document.querySelector('.s-report').scrollIntoView()")
        self.shot("patient-report-390x844")
        self.assertEqual(b.evaluate(INJECTED_JS), CLEAN, "markup interpreted as HTML on the patient's page")
        self.assertEqual(b.csp_violations(), [])
        self.assertEqual(b.problems, [], "console errors on the patient's page")


    # --- 4. the templates ----------------------------------------------------------

    def test_4_admin_edits_a_template_into_a_new_version(self):
        b = self.browser
        b.set_viewport(1366, 900)
        self.sign_in(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        b.navigate(self.site.url + "/bridge/app/reading.html")
        self.wait_js("!!document.getElementById('templates-link')", 20, "the queue's link to the templates")
        b.click("#templates-link")
        self.wait_js("document.querySelectorAll('#templates-body tr').length >= 5", 20, "the shipped templates")
        row = "#templates-body tr[data-template=\"us-abdomen\"]"
        self.assertEqual(b.evaluate("document.querySelector('%s .hb-template-version').textContent" % row), "1")
        b.click(row + " .hb-template-edit")
        self.wait_js("!!document.getElementById('template-json')", 10, "the template editor")
        current = json.loads(b.evaluate("document.getElementById('template-json').value"))
        self.assertEqual(current["name"], "Ultrasound abdomen")
        wrong = dict(current, sections=current["sections"] + [{"id": "score", "label": "Score", "type": "slider"}])
        b.type_into("#template-json", json.dumps(wrong))
        b.click("#template-save")
        self.wait_js("/slider/.test(document.getElementById('template-error').textContent)", 15,
                     "the unknown field type named")
        b.problems[:] = [p for p in b.problems if "400" not in p]  # the refused save, expected
        right = dict(current, sections=current["sections"] + [
            {"id": "spleen", "label": "Spleen <size>", "type": "choice", "options": ["Normal", "Enlarged"]}])
        b.type_into("#template-json", json.dumps(right))
        b.click("#template-save")
        self.wait_js("document.querySelector('%s .hb-template-version').textContent === '2'" % row, 15,
                     "the template's second version listed")
        self.assertIn("version 2", b.evaluate("document.getElementById('page-notice').textContent"))
        self.assertIn("Spleen <size>", self.body_text(), "the new section's label is not shown as text")
        served = self.site.admin.get(self.site.url + "/bridge/report-templates/us-abdomen", timeout=30).json()
        self.assertEqual((served["version"], served["sections"][-1]["id"]), (2, "spleen"))
        first = self.site.admin.get(self.site.url + "/bridge/report-templates/us-abdomen", params={"version": 1},
                                    timeout=30).json()
        self.assertNotIn("spleen", [x["id"] for x in first["sections"]], "version 1 changed")
        self.shot("templates-1366x900", full_page=True)
        self.assert_clean("on the templates page")

    # --- 5. an amendment from the editor -----------------------------------------------

    def test_5_amendment_from_the_editor_replaces_the_patients_report(self):
        rid = self.ids[0]
        h.wait_until(lambda: self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()["status"]
                     == "final", 90, message="report %d is not final (test 2 signs it)" % rid)
        b = self.browser
        b.set_viewport(1366, 900)
        self.sign_in("dr.a", PASSWORD)
        b.navigate(self.site.url + "/bridge/app/report.html?id=%d" % rid)
        self.wait_js("!!document.getElementById('amend')", 20, "the Amend button on a final report")
        b.click("#amend")
        self.wait_js("!!document.getElementById('amend-reason')", 10, "the amendment form")
        b.type_into("#amend-reason", "Size <corrected>")
        b.click("#amend-start")
        self.wait_js("!!document.getElementById('addendum')", 15, "the addendum draft")
        self.assertIn("Size <corrected>", self.body_text())
        addendum = "The mass measures <b>3.5 cm</b>, not 3 cm."
        b.type_into("#addendum", addendum)
        self.wait_js("document.getElementById('save-state').dataset.state === 'saved'", 15, "the addendum autosaved")
        b.click("#sign")
        self.wait_js("document.getElementById('sign-dialog') && document.getElementById('sign-dialog').open", 10,
                     "the sign dialog open")
        b.type_into("#sign-password", PASSWORD)
        b.click("#sign-submit")
        self.wait_js("document.getElementById('report-status').dataset.status === 'amended' && "
                     "document.querySelectorAll('#versions-table tbody tr').length === 2 && "
                     "!!document.getElementById('stored')", 30, "the amendment signed and stored")
        hashes = b.evaluate("Array.prototype.map.call(document.querySelectorAll('#versions-table .hb-hash'),"
                            " function (e) { return e.textContent; })")
        self.assertEqual(len(set(hashes)), 2, hashes)
        self.assertEqual(b.evaluate("document.getElementById('addendum-text').textContent"), addendum)
        self.shot("editor-amended-1366x900", full_page=True)
        self.assert_clean("on the amended report")

        # The patient's page now shows the amended report, with its note and the addendum.
        report = self.rad_a.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()
        share = self.site.admin.post(self.site.url + "/bridge/shares", timeout=30, json={
            "study": report["study"]["orthanc_id"], "consent_attested": True}).json()
        phone = self.site.session()
        r = phone.post(share["url"], data={"pin": share["pin"]}, allow_redirects=False, timeout=30)
        self.assertIn(r.status_code, (301, 302, 303), r.text[:300])
        shown = phone.get(self.site.url + "/s/api/share", timeout=30).json()["studies"][0]["report"]
        self.assertEqual((shown["status"], shown["amended"], shown["version"]), ("amended", True, 2))
        self.assertEqual(shown["addendum"], addendum)
        self.assertIn("replaces the earlier one", shown["note"])

    # --- 6. assigning from the queue -------------------------------------------------

    def test_6_administrator_assigns_a_study_from_the_queue(self):
        b = self.browser
        b.set_viewport(1366, 768)
        self.sign_in(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        b.navigate(self.site.url + "/bridge/app/reading.html")
        rid = self.ids[1]
        self.wait_js("!!%s && !!%s.querySelector('.hb-assign')" % (self.row(rid), self.row(rid)), 30,
                     "the queue with Assign")
        b.click("#queue-body tr[data-report=\"%d\"] .hb-assign" % rid)
        self.wait_js("%s.querySelectorAll('select.hb-assign-user option').length >= 2" % self.row(rid), 10,
                     "the radiologists to choose from")
        names = b.evaluate("Array.prototype.map.call(%s.querySelectorAll('select.hb-assign-user option'),"
                           " function (o) { return o.value; })" % self.row(rid))
        self.assertEqual(names, ["dr.a", "dr.b"], "only the active radiologists are offered")
        b.evaluate("(function(){var s=%s.querySelector('select.hb-assign-user'); s.value='dr.b';})()" % self.row(rid))
        b.click("#queue-body tr[data-report=\"%d\"] .hb-assign-submit" % rid)
        self.wait_js("%s.querySelector('.hb-reader').textContent.trim() === 'dr.b'" % self.row(rid), 15,
                     "the study assigned to dr.b")
        self.assertEqual(self.rad_b.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()["assigned_to"],
                         "dr.b")
        self.shot("queue-assigned-1366x768")
        self.assert_clean("on the queue after assigning")

    # --- 7. a critical finding ----------------------------------------------------------

    def test_7_critical_finding_must_be_told_before_signing(self):
        path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(self.tmp, "ct-critical.dcm"),
                              PatientName="CRITICAL^CARL", PatientID="RB-CRIT", StudyDescription="CT head",
                              StudyDate="20261121", AccessionNumber="RBCRIT")
        self.assertEqual(self.site.upload(path).status_code, 200)
        rid = self.queued(h.expected_study(path)["study_uid"])["id"]
        b = self.browser
        b.set_viewport(1366, 900)
        self.sign_in("dr.b", PASSWORD + "b")
        b.navigate(self.site.url + "/bridge/app/report.html?id=%d" % rid)
        self.wait_js("!!document.getElementById('start')", 20, "the report page offering to start")
        b.click("#start")
        self.wait_js("!!document.getElementById('section-findings')", 20, "the draft's sections")
        b.type_into("#section-findings", "Large acute subdural haematoma with midline shift.")
        b.type_into("#section-impression", "Acute subdural haematoma: neurosurgical emergency.")
        b.click("#critical")
        self.wait_js("!!document.getElementById('critical-box') && "
                     "document.getElementById('save-state').dataset.state === 'saved'", 15,
                     "the critical flag saved and its record asked for")
        # Signing before the finding was told is refused.
        b.click("#sign")
        self.wait_js("document.getElementById('sign-dialog') && document.getElementById('sign-dialog').open", 10,
                     "the sign dialog open")
        b.type_into("#sign-password", PASSWORD + "b")
        b.click("#sign-submit")
        self.wait_js("/communicated/.test(document.getElementById('sign-error').textContent)", 15,
                     "signing refused until the finding is told")
        b.problems[:] = [p for p in b.problems if "400" not in p]  # the refused sign-off, expected
        b.evaluate("document.getElementById('sign-dialog').close()")
        b.evaluate("document.getElementById('sign-dialog').dispatchEvent(new Event('cancel'))")
        b.type_into("#critical-to", "Dr <Ward> (neurosurgery)")
        b.click("#critical-submit")
        self.wait_js("!!document.getElementById('critical-list') && "
                     "/Dr <Ward> \\(neurosurgery\\)/.test(document.getElementById('critical-list').textContent)", 15,
                     "the communication recorded")
        b.click("#sign")
        self.wait_js("document.getElementById('sign-dialog') && document.getElementById('sign-dialog').open", 10,
                     "the sign dialog open again")
        b.type_into("#sign-password", PASSWORD + "b")
        b.click("#sign-submit")
        self.wait_js("document.getElementById('report-status').dataset.status === 'final'", 30, "signed")
        report = self.rad_b.get(self.site.url + "/bridge/reports/%d" % rid, timeout=30).json()
        self.assertTrue(report["critical"])
        self.assertEqual(report["critical_communications"][0]["to"], "Dr <Ward> (neurosurgery)")
        events = self.site.admin.get(self.site.url + "/bridge/audit", params={"action": "report.critical_communicated"},
                                     timeout=30).json()["events"]
        self.assertEqual(len(events), 1, events)
        self.shot("editor-critical-1366x900", full_page=True)
        self.assert_clean("on the critical report")

if __name__ == "__main__":
    unittest.main()
