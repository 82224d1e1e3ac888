"""The router with real Orthancs: site A (HospitalBridge) sends CT studies to
site B over DICOMweb (a stock Orthanc with Debian's orthanc-dicomweb, behind a
relay that counts what reaches it) and to site C over C-STORE. What arrives is
compared file by file (SOP Instance UIDs and SHA-256). B stopped: the delivery
retries and arrives once B is back. A killed with SIGKILL in the middle of a
200-instance delivery: after the restart all 200 are at B, none sent twice. A
destination answering garbage fails with the answer's first bytes; a rule
naming an unknown destination keeps Orthanc from starting."""

import http.server
import os
import shutil
import tempfile
import threading
import time
import unittest

import orthanc_harness as h
import router_harness as rh


class GarbageServer(object):
    """Answers every request with 200 and an HTML page."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b"<html><body>Welcome to the garbage server</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def router_config(b_url, c_site, garbage_url, batch=50):
    return {
        "DicomModalities": {"site-c": [c_site.aet, "127.0.0.1", c_site.dicom_port]},
        "HospitalBridge": {
            "Modules": {"Router": True},
            "Router": {
                "Destinations": [
                    {"Name": "b-web", "Type": "dicomweb", "Url": b_url + "/dicom-web", "BatchSize": batch},
                    {"Name": "c-dicom", "Type": "dicom", "Target": "site-c", "BatchSize": 100},
                    {"Name": "junk", "Type": "dicomweb", "Url": garbage_url},
                ],
                "Rules": [
                    {"Name": "ct-to-b", "Modalities": ["CT"], "DescriptionPattern": "^CT", "Destinations": ["b-web"]},
                    {"Name": "ct-to-c", "Modalities": ["CT"], "DescriptionPattern": "^CT HEAD",
                     "Destinations": ["c-dicom"]},
                    {"Name": "junk", "DescriptionPattern": "^JUNK", "Destinations": ["junk"]},
                    {"Name": "ordered", "DescriptionPattern": "^ORDERED", "RequireOrder": True,
                     "Destinations": ["b-web"]},
                ],
                "Retry": {"MinDelaySeconds": 1, "MaxDelaySeconds": 2, "MaxAttempts": 100},
            },
        },
    }


class RouterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-router-"))
        cls.b = rh.dicomweb_site("router-b").allocate_ports()
        cls.b.start()
        cls.c = h.OrthancSite("router-c", plugin=False).allocate_ports()
        cls.c.aet = "SITEC"
        cls.c.start()
        cls.relay = rh.StowRelay(cls.b.url)
        cls.garbage = GarbageServer()
        cls.a = h.OrthancSite("router-a", extra_config=router_config(cls.relay.url, cls.c, cls.garbage.url, batch=5))
        cls.a.start()

    @classmethod
    def tearDownClass(cls):
        for site in (cls.a, cls.b, cls.c):
            site.close()
        cls.relay.close()
        cls.garbage.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def folder(self):
        return tempfile.mkdtemp(dir=self.tmp)

    def test_1_ct_study_arrives_identical_over_dicomweb_and_cstore(self):
        study = rh.CtStudy(self.folder(), 6, accession="ACC-ROUTE-1", description="CT HEAD")
        other = rh.CtStudy(self.folder(), 1, accession="ACC-MR", description="MR KNEE", modality="MR")
        self.a.storescu(study.files + other.files, calling_aet="CT01")
        web = rh.wait_delivery(self.a, study.uid, "b-web", ["delivered"], timeout=60)
        dicom = rh.wait_delivery(self.a, study.uid, "c-dicom", ["delivered"], timeout=60)
        # What A holds, byte for byte, is what B and C hold.
        expected = rh.instances_at(self.a, study.uid)
        self.assertEqual(set(study.sops), set(expected))
        self.assertEqual(expected, rh.instances_at(self.b, study.uid))
        self.assertEqual(expected, rh.instances_at(self.c, study.uid))
        for d in (web, dicom):
            self.assertEqual(6, d["instances_received"])
            self.assertEqual(6, d["instances_sent"])
            self.assertEqual(6, d["instances_confirmed"])
            self.assertEqual(1, d["attempts"])
        self.assertTrue(web["remote_url"].endswith("/dicom-web/studies/" + study.uid), web)
        self.assertEqual({sop: 1 for sop in study.sops}, {s: self.relay.received[s] for s in study.sops})
        # The MR study matched no rule.
        self.a.wait_idle()
        self.assertEqual([], rh.study_proof(self.a, other.uid)["deliveries"])
        self.assertEqual({}, rh.instances_at(self.b, other.uid))

        # One more instance later: an update of the same delivery, sending it alone.
        more = os.path.join(self.folder(), "late.dcm")
        h.make_variant(study.files[0], more, study_uid=study.uid, new_series=False, InstanceNumber=7)
        self.a.storescu([more], calling_aet="CT01")
        late_sop = str(rh.pydicom.dcmread(more, stop_before_pixels=True).SOPInstanceUID)
        h.wait_until(lambda: rh.wait_delivery(self.a, study.uid, "b-web", ["delivered"])["instances_sent"] == 7,
                     60, message="the late instance was not sent")
        proof = rh.study_proof(self.a, study.uid)
        self.assertEqual(2, len(proof["deliveries"]), proof)
        self.assertEqual(1, self.relay.received[late_sop])
        self.assertTrue(all(self.relay.received[s] == 1 for s in study.sops))

        # The audit says what was delivered; /bridge/system shows the backlog.
        def audited():
            events = self.a.admin.get(self.a.url + "/bridge/audit", params={"action": "router.delivered"},
                                      timeout=30).json()["events"]
            return [e for e in events if e.get("study_uid") == study.uid]
        self.assertTrue(h.wait_until(audited, 30, message="no router.delivered audit event"))
        system = self.a.admin.get(self.a.url + "/bridge/system", timeout=30).json()
        self.assertIn("backlog", system["router"])
        self.assertNotIn("secret", str(system["router"]).lower())

    def test_2_destination_down_retries_then_delivers_once(self):
        self.b.stop()
        try:
            study = rh.CtStudy(self.folder(), 3, accession="ACC-ROUTE-2", description="CT CHEST")
            self.a.storescu(study.files, calling_aet="CT01")
            retrying = rh.wait_delivery(self.a, study.uid, "b-web", ["retrying"], timeout=60)
            self.assertTrue(retrying["reason"], retrying)
        finally:
            self.b.start()
        delivered = rh.wait_delivery(self.a, study.uid, "b-web", ["delivered"], timeout=60)
        self.assertGreaterEqual(delivered["attempts"], 2)
        self.assertEqual(rh.instances_at(self.a, study.uid), rh.instances_at(self.b, study.uid))
        self.assertEqual({sop: 1 for sop in study.sops}, {s: self.relay.received[s] for s in study.sops})

    def test_3_garbage_answer_fails_with_its_first_bytes(self):
        study = rh.CtStudy(self.folder(), 1, accession="ACC-JUNK", description="JUNK STUDY", modality="OT")
        self.a.storescu(study.files)
        failed = rh.wait_delivery(self.a, study.uid, "junk", ["failed"], timeout=60)
        self.assertIn("Welcome to the garbage server", failed["reason"])
        self.assertEqual(1, failed["attempts"])
        # Staff resend it: it fails the same way again, once more.
        r = self.a.admin.post(self.a.url + "/bridge/router/deliveries/%d/resend" % failed["id"], timeout=30)
        self.assertEqual(200, r.status_code, r.text)
        h.wait_until(lambda: rh.wait_delivery(self.a, study.uid, "junk", ["failed"])["reason"] != "resent by staff",
                     30)
        summary = self.a.admin.get(self.a.url + "/bridge/router/summary", timeout=30).json()
        junk = [d for d in summary["destinations"] if d["name"] == "junk"][0]
        self.assertEqual(1, junk["failed"])
        # Reception may look, not act.
        viewer = self.a.user_session("router-viewer", "reception")
        self.assertEqual(200, viewer.get(self.a.url + "/bridge/router/summary", timeout=30).status_code)
        self.assertEqual(403, viewer.post(self.a.url + "/bridge/router/resend-failed", json={},
                                          timeout=30).status_code)

    def test_4_sigkill_in_the_middle_of_200_instances(self):
        study = rh.CtStudy(self.folder(), 200, accession="ACC-ROUTE-200", description="CT BIG")
        self.a.storescu(study.files, calling_aet="CT01")

        def partly_sent():
            for d in rh.study_proof(self.a, study.uid)["deliveries"]:
                if d["destination"] == "b-web" and 0 < d["instances_sent"] < 150:
                    return d
            return None
        h.wait_until(partly_sent, 90, interval=0.02, message="the delivery never was under way")
        self.a.process.kill()  # SIGKILL: nothing is finished, nothing flushed
        self.a.process.wait(timeout=10)
        self.a.stop()
        self.a.start()
        rh.wait_delivery(self.a, study.uid, "b-web", ["delivered"], timeout=120)
        at_a = rh.instances_at(self.a, study.uid)
        self.assertEqual(set(study.sops), set(at_a))
        self.assertEqual(at_a, rh.instances_at(self.b, study.uid))
        received = {s: self.relay.received.get(s, 0) for s in study.sops}
        self.assertEqual({sop: 1 for sop in study.sops}, received,
                         "sent twice: %s" % [s for s, n in received.items() if n != 1])

    def test_5_required_order_sent_within_seconds_of_the_order(self):
        # RequireOrder: the study waits until the orders module has its accession number; the
        # slow re-check is 600 s, so being delivered within 20 s shows the order was noticed.
        study = rh.CtStudy(self.folder(), 2, accession="ACC-ORD-5", description="ORDERED CT")
        self.a.storescu(study.files, calling_aet="CT01")
        waiting = rh.wait_delivery(self.a, study.uid, "b-web", ["waiting"], timeout=60)
        self.assertEqual("no order for accession ACC-ORD-5", waiting["reason"])
        self.assertEqual({}, rh.instances_at(self.b, study.uid))
        order = {"accession_number": "ACC-ORD-5", "modality": "CT", "station_aet": "CT01",
                 "patient": {"patient_id": "RT-0001", "name": "ROUTER^TEST"},
                 "scheduled_start": time.strftime("%Y-%m-%dT23:50")}
        r = self.a.admin.post(self.a.url + "/bridge/orders", json=order, timeout=30)
        self.assertEqual(201, r.status_code, r.text)
        t0 = time.monotonic()
        rh.wait_delivery(self.a, study.uid, "b-web", ["delivered"], timeout=20)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(rh.instances_at(self.a, study.uid), rh.instances_at(self.b, study.uid))


class RouterConfigurationTest(unittest.TestCase):
    def test_rule_naming_an_unknown_destination_stops_orthanc(self):
        site = h.OrthancSite("router-bad", extra_config={"HospitalBridge": {"Modules": {"Router": True}, "Router": {
            "Destinations": [{"Name": "b", "Type": "dicomweb", "Url": "http://127.0.0.1:9/dicom-web"}],
            "Rules": [{"Name": "r", "Destinations": ["atlantis"]}]}}})
        try:
            site.launch()
            self.assertIsNotNone(site.wait_exit(timeout=30), "Orthanc started anyway")
            log = site.run_log_text()
            self.assertIn("Router.Rules[0].Destinations", log)
            self.assertIn("atlantis", log)
        finally:
            site.close()


if __name__ == "__main__":
    unittest.main()
