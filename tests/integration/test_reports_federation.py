"""The report page lists the patient's prior studies at peer sites (issue 14):
two real Orthanc + HospitalBridge sites federated; the patient (national ID as
PatientID) has an older CT at site B and a new one at site A. A radiologist at
A opens the new study's report in headless Chromium: the prior at B is listed
with B's name, its description shown as text, next to nothing from A twice."""

import os
import shutil
import tempfile
import unittest

import orthanc_harness as h
import cdp

A_ID, B_ID = "HOS-001", "HOS-002"
NAMES = {A_ID: "General Hospital", B_ID: "Harbour Clinic"}
NATIONAL_ID = "199012345670001"
PASSWORD = "Rad-Federation-Pw-5!"
PEER_DESCRIPTION = "Older CT <i>at</i> B"
INJECTED_JS = """(function(){
    var r = {};
    r.italic = Array.prototype.filter.call(document.querySelectorAll('i'),
               function(e){return e.textContent==='at';}).length;
    return r; })()"""


def site_config(site_id, extra=None):
    cfg = {"HospitalBridge": {
        "Site": {"Id": site_id, "Name": NAMES[site_id]},
        "Registry": {"NationalId": {"Source": "PatientID", "Pattern": "^[0-9]{6,20}$"}},
        "Security": {"LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}},
    }}
    return h.deep_merge(cfg, extra or {})


class ReportPriorsAtPeersTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-reports-fed-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.a = h.OrthancSite("reports-fed-a", extra_config=site_config(
            A_ID, {"HospitalBridge": {"Reports": {"Queue": {"Modalities": ["CT"]}}}}))
        cls.b = h.OrthancSite("reports-fed-b", extra_config=site_config(B_ID))
        cls.addClassCleanup(cls.a.close)
        cls.addClassCleanup(cls.b.close)
        h.federate([cls.a, cls.b])
        patient = {"PatientID": NATIONAL_ID, "PatientName": "FEDERATED^FRIDA", "PatientBirthDate": "19700101",
                   "PatientSex": "F"}
        older = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "b.dcm"), StudyDate="20250105",
                               StudyDescription=PEER_DESCRIPTION, AccessionNumber="FEDB1", **patient)
        newer = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "a.dcm"), StudyDate="20261120",
                               StudyDescription="New CT at A", AccessionNumber="FEDA1", **patient)
        cls.b.storescu([older])
        cls.a.storescu([newer])
        cls.older_uid = h.expected_study(older)["study_uid"]
        cls.newer_uid = h.expected_study(newer)["study_uid"]
        cls.b.wait_indexed(cls.older_uid, timeout=30)
        cls.rad = cls.a.user_session("dr.fed", "radiologist", PASSWORD)

        def queued():
            r = cls.rad.get(cls.a.url + "/bridge/reports/queue", params={"study": cls.newer_uid}, timeout=30)
            r.raise_for_status()
            return (r.json()["reports"] or [None])[0]
        cls.report = h.wait_until(queued, 30, message="the study at A never entered the queue")

    def test_report_page_lists_the_prior_at_the_peer(self):
        rid = self.report["id"]
        full = self.rad.get(self.a.url + "/bridge/reports/%d" % rid, timeout=30).json()
        self.assertEqual(full["patient"]["national_id"], NATIONAL_ID)
        b = cdp.Browser()
        b.start()
        self.addCleanup(b.close)
        b.set_viewport(1366, 900)
        b.navigate(self.a.url + "/bridge/app/login.html")
        b.wait_js("document.readyState==='complete' && !!document.getElementById('username')", 20)
        b.type_into("#username", "dr.fed")
        b.type_into("input[type=password]", PASSWORD)
        b.click("button[type=submit]")
        b.wait_js("location.pathname.indexOf('login') === -1", 20, message="could not sign in")
        b.navigate(self.a.url + "/bridge/app/report.html?id=%d" % rid)
        try:
            b.wait_js("!!document.querySelector('#priors-list .hb-prior-peer')", 30)
        except AssertionError:
            b.screenshot(os.path.join(h.artifacts_dir(), "reports-priors-peer-timeout.png"))
            self.fail("no prior at the peer listed; the page shows %r; console %r"
                      % (b.evaluate("document.body.innerText")[:1500], b.problems))
        peers = b.evaluate("Array.prototype.map.call(document.querySelectorAll('#priors-list .hb-prior-peer'),"
                           " function (e) { return e.textContent; })")
        self.assertEqual(len(peers), 1, peers)
        self.assertIn(PEER_DESCRIPTION, peers[0])
        self.assertIn(NAMES[B_ID], peers[0])
        self.assertIn("2025-01-05", peers[0])
        self.assertEqual(b.evaluate(INJECTED_JS), {"italic": 0}, "the peer's description was read as HTML")
        b.screenshot(os.path.join(h.artifacts_dir(), "reports-priors-peer-1366x900.png"), full_page=True)
        self.assertEqual(b.problems, [], "console errors on the report page")


if __name__ == "__main__":
    unittest.main()
