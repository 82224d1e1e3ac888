"""The durable path after a study is indexed: Orthanc is killed (SIGKILL) just
after a study's index row and its event were written, before anything that
follows indexing could run; after the restart, the patient link, the
automatic share link, the "dicom.stored" audit event and the order the study
fulfils (completed, with one audit event per step) each exist exactly once."""

import os
import shutil
import sqlite3
import tempfile
import time
import unittest

import orthanc_harness as h

NATIONAL_ID = "1987020312345"


def read_db(path, sql, params=()):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


class StudyEventsSurviveACrashTest(unittest.TestCase):

    def setUp(self):
        self.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-events-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start_site(self, name, delay_ms):
        site = h.OrthancSite(name, extra_config={
            "StableAge": 3,
            "HospitalBridge": {
                "StudyIndex": {"EventDelayMs": delay_ms},
                "Consent": {"Share": "opt-out"},
                "Shares": {"AutoShare": {"Enabled": True, "Modalities": ["CR"]}}}})
        self.addCleanup(site.close)
        site.start()
        return site

    def restart(self, site, delay_ms):
        site.extra_config["HospitalBridge"]["StudyIndex"]["EventDelayMs"] = delay_ms
        site.start()

    def send_cr(self, site, label):
        r = site.admin.post(site.url + "/bridge/orders", timeout=30, json={
            "patient": {"patient_id": NATIONAL_ID + label[-1], "name": "CRASH^" + label}, "modality": "CR"})
        self.assertEqual(r.status_code, 201, r.text)
        self.order_id = r.json()["id"]
        path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(self.tmp, label + ".dcm"),
                              Modality="CR", PatientID=NATIONAL_ID + label[-1], PatientName="CRASH^" + label,
                              AccessionNumber=r.json()["accession_number"])
        site.storescu([path])
        return h.expected_study(path)["study_uid"]

    def wait_for_event(self, site, uid, kind, timeout=30):
        def probe():
            rows = read_db(site.database_path,
                           "SELECT seq FROM study_events WHERE study_uid = ? AND kind = ?", (uid, kind))
            return rows[0][0] if rows else None
        return h.wait_until(probe, timeout, interval=0.05, message="no %s event for %s" % (kind, uid))

    def nothing_followed(self, site, uid, seq, order_statuses=("scheduled",), reports_at_most=0):
        """At the kill: every consumer's cursor is before the event, and none of its work exists.
        `order_statuses`: what the order may be at the kill (the study's earlier "indexed" event
        may already have made it in-progress when the kill follows the "stable" one), and
        `reports_at_most` (that event may already have put the study in the reading queue)."""
        cursors = dict(read_db(site.database_path, "SELECT consumer, seq FROM study_event_cursors"))
        self.assertEqual(sorted(cursors), ["auto-share", "consent-marks", "order-arrival", "patient-link",
                                           "reading-queue", "stored-report"])
        self.assertLessEqual(read_db(site.database_path, "SELECT count(*) FROM reports WHERE study_uid = ?",
                                     (uid,))[0][0], reports_at_most)
        self.assertTrue(all(c < seq for c in cursors.values()), cursors)
        self.assertEqual(read_db(site.database_path, "SELECT count(*) FROM share_studies WHERE study_uid = ?",
                                 (uid,))[0][0], 0)
        self.assertIn(read_db(site.database_path, "SELECT status FROM orders WHERE id = ?",
                              (self.order_id,))[0][0], order_statuses)

    def wait_caught_up(self, site):
        def probe():
            events = site.admin.get(site.url + "/bridge/system", timeout=30).json().get("index", {}).get("events", {})
            consumers = events.get("consumers", [])
            return consumers and all(c["backlog"] == 0 and not c["last_error"] for c in consumers)
        h.wait_until(probe, 60, message="the study events were not all handled")

    def assert_exactly_once(self, site, uid, label):
        self.wait_caught_up(site)
        patients = site.admin.get(site.url + "/bridge/patients", params={"national_id": NATIONAL_ID + label[-1]},
                                  timeout=30).json()["patients"]
        self.assertEqual(len(patients), 1, patients)
        self.assertEqual([i["patient_id"] for i in patients[0]["identifiers"]], [NATIONAL_ID + label[-1]])
        shares = site.admin.get(site.url + "/bridge/shares", params={"study": uid, "status": "all"},
                                timeout=30).json()["shares"]
        self.assertEqual(len(shares), 1, "automatic links: %r" % shares)
        self.assertTrue(shares[0]["auto"])
        stored = site.admin.get(site.url + "/bridge/audit", params={"action": "dicom.stored", "study_uid": uid},
                                timeout=30).json()["events"]
        self.assertEqual(len(stored), 1, stored)
        self.assertEqual(stored[0]["patient_id"], patients[0]["id"])
        order = site.admin.get(site.url + "/bridge/orders/%d" % self.order_id, timeout=30).json()
        self.assertEqual(order["status"], "completed")
        self.assertEqual([s["study_uid"] for s in order["studies"]], [uid])
        # The study fulfils an order: it is in the reading queue once, with its order.
        reports = read_db(site.database_path, "SELECT id, order_id FROM reports WHERE study_uid = ?", (uid,))
        self.assertEqual([r[1] for r in reports], [self.order_id])
        self.assertEqual(read_db(site.database_path, "SELECT count(*) FROM report_changes WHERE report_id = ? "
                                 "AND kind = 'queued'", (reports[0][0],))[0][0], 1)
        for action in ("order.started", "order.completed"):
            events = site.admin.get(site.url + "/bridge/audit", params={"action": action, "study_uid": uid},
                                    timeout=30).json()["events"]
            self.assertEqual(len(events), 1, events)
        self.assertTrue(site.admin.get(site.url + "/bridge/audit/verify", timeout=60).json()["ok"])

    def test_killed_after_the_study_was_complete(self):
        site = self.start_site("events-stable", delay_ms=4000)
        uid = self.send_cr(site, "stable-1")
        seq = self.wait_for_event(site, uid, "stable")
        site.process.kill()  # SIGKILL: no chance to finish anything
        site.process.wait(10)
        self.nothing_followed(site, uid, seq, order_statuses=("scheduled", "in-progress"), reports_at_most=1)
        self.restart(site, delay_ms=0)
        self.assert_exactly_once(site, uid, "stable-1")
        # A second restart changes nothing.
        site.restart()
        self.assert_exactly_once(site, uid, "stable-1")

    def test_killed_before_orthanc_said_the_study_was_complete(self):
        site = self.start_site("events-indexed", delay_ms=4000)
        uid = self.send_cr(site, "indexed-2")
        seq = self.wait_for_event(site, uid, "indexed")
        site.process.kill()
        site.process.wait(10)
        self.nothing_followed(site, uid, seq)
        self.assertEqual(read_db(site.database_path, "SELECT count(*) FROM study_events WHERE study_uid = ? "
                                 "AND kind = 'stable'", (uid,))[0][0], 0,
                         "killed before StableStudy (StableAge is 3 s)")
        # Orthanc will not say StableStudy again for it: the reconcile at start
        # completes it.
        self.restart(site, delay_ms=0)
        self.assert_exactly_once(site, uid, "indexed-2")


if __name__ == "__main__":
    unittest.main()
