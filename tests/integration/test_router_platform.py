"""The SATUSEHAT profile against a local stand-in for the national platform
(satusehat_standin.py: HTTPS with a test CA, strict about tokens, identifier
systems, the ImagingStudy (FHIR R4 JSON schema and profile) and the
X-ImagingStudy-ID header, misbehaving on demand). Every case ends delivered
exactly once (one ImagingStudy per accession, each image once) or waiting /
failed with a clear reason; the secret key never reaches the log."""

import os
import shutil
import tempfile
import unittest

import orthanc_harness as h
import router_harness as rh
import satusehat_standin

ORGANIZATION = "100026489"
CLIENT_ID = "hb-client-key"
CLIENT_SECRET = "Secret-Key-Never-In-Logs-4242"


class PlatformTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-platform-"))
        cls.platform = satusehat_standin.Platform(cls.tmp, ORGANIZATION, CLIENT_ID, CLIENT_SECRET, rh.fhir_schema())
        secret_file = os.path.join(cls.tmp, "satusehat-secret")
        with open(secret_file, "w") as f:
            f.write(CLIENT_SECRET + "\n")
        common = {"Type": "satusehat", "Url": cls.platform.url, "OrganizationId": ORGANIZATION,
                  "Username": CLIENT_ID, "SecretFile": secret_file, "TimeoutMs": 2000}
        cls.site = h.OrthancSite("platform-a", extra_config={"HospitalBridge": {
            "Modules": {"Router": True},
            "Router": {
                "Destinations": [dict(common, Name="satusehat", CaFile=cls.platform.ca),
                                 dict(common, Name="untrusted")],
                "Rules": [{"Name": "national", "Modalities": ["CT"], "DescriptionPattern": "^CT",
                           "Destinations": ["satusehat"]},
                          {"Name": "untrusted", "DescriptionPattern": "^UNTRUSTED", "Destinations": ["untrusted"]}],
                "Retry": {"MinDelaySeconds": 1, "MaxDelaySeconds": 2, "MaxAttempts": 100},
                "WaitingRecheckSeconds": 2,
                "TimeZoneOffset": "+07:00"}}})
        cls.site.start()

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        log = cls.site.log_text()
        cls.platform.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert CLIENT_SECRET not in log, "the secret key reached Orthanc's log"

    def send(self, count, accession, description="CT HEAD"):
        study = rh.CtStudy(tempfile.mkdtemp(dir=self.tmp), count, accession=accession, description=description)
        self.site.storescu(study.files, calling_aet="CT01")
        return study

    def assert_delivered_once(self, study):
        d = rh.wait_delivery(self.site, study.uid, "satusehat", ["delivered"], timeout=90)
        studies = self.platform.studies_for(study.accession)
        self.assertEqual(1, len(studies), "ImagingStudies for %s: %s" % (study.accession, studies))
        self.assertEqual(studies[0]["id"], d["remote_id"])
        self.assertTrue(d["remote_url"].endswith("/fhir-r4/v1/ImagingStudy/" + d["remote_id"]), d)
        self.assertEqual({s: 1 for s in study.sops}, {s: self.platform.instances.get(s, 0) for s in study.sops})
        self.assertTrue(all(self.platform.instance_study[s] == d["remote_id"] for s in study.sops))
        self.assertEqual(len(study.sops), studies[0]["numberOfInstances"])
        self.assertEqual(len(study.sops), d["instances_confirmed"])
        return d

    def test_1_order_known_study_delivered(self):
        self.platform.post_service_request("ACC-SS-1")
        study = self.send(3, "ACC-SS-1")
        self.assert_delivered_once(study)
        self.assertEqual([], self.platform.rejections)

    def test_2_waits_until_the_service_request_is_posted(self):
        study = self.send(2, "ACC-SS-2")
        waiting = rh.wait_delivery(self.site, study.uid, "satusehat", ["waiting"], timeout=60)
        self.assertEqual("ServiceRequest not found for accession ACC-SS-2", waiting["reason"])
        self.platform.post_service_request("ACC-SS-2")
        self.assert_delivered_once(study)

    def test_3_expired_token_is_renewed(self):
        self.platform.post_service_request("ACC-SS-3")
        before = self.platform.token_requests
        self.platform.expire_tokens()
        study = self.send(2, "ACC-SS-3")
        self.assert_delivered_once(study)
        self.assertGreaterEqual(self.platform.token_requests, before + 1)

    def test_4_server_errors_and_timeouts_retry(self):
        self.platform.post_service_request("ACC-SS-4")
        self.platform.fail_next = 3
        self.platform.delay, self.platform.delay_next = 3, 1
        study = self.send(3, "ACC-SS-4", description="CT CHEST")
        d = self.assert_delivered_once(study)
        self.assertGreaterEqual(d["attempts"], 2)

    def test_5_no_accession_number_waits_for_staff(self):
        study = self.send(1, "")
        waiting = rh.wait_delivery(self.site, study.uid, "satusehat", ["waiting"], timeout=60)
        self.assertEqual("no accession number", waiting["reason"])
        listed = self.site.admin.get(self.site.url + "/bridge/router/deliveries", params={"state": "waiting"},
                                     timeout=30).json()["deliveries"]
        self.assertIn(study.uid, [d["study_uid"] for d in listed])

    def test_6_certificates_are_verified(self):
        study = self.send(1, "ACC-SS-6", description="UNTRUSTED CT")
        d = rh.wait_delivery(self.site, study.uid, "untrusted", ["failed"], timeout=60)
        self.assertIn("certificate is not trusted", d["reason"])
        self.assertEqual(1, d["attempts"], "no retry makes a certificate trusted: failed at the first attempt")
        self.assertNotIn(CLIENT_SECRET, d["reason"])


if __name__ == "__main__":
    unittest.main()
