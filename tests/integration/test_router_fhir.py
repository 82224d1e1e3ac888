"""The router's FHIR destinations for real (issue 15): a real Orthanc with the
plugin routes studies and signed reports to a FHIR R4 server stand-in
(fhir_standin.py: HTTPS with a test CA, OAuth2 client credentials on every
call, FHIR JSON, R4 schema, required elements, referential integrity) and
signed reports to the SATUSEHAT stand-in (satusehat_standin.py).

What a user sees is what is checked: the delivery states and reasons of
GET /bridge/router/studies/<uid>, and what the servers hold:

  1. a study becomes one ImagingStudy with its identifiers, series and
     instances; an instance added later updates it (PUT, version 2), no
     second ImagingStudy;
  2. a token that expires is answered 401 once: one new token, the delivery
     delivered at its first attempt; tokens are cached across deliveries;
  3. a signed report (ordered study) becomes one DiagnosticReport, final,
     linked to the ImagingStudy on that server, of the same patient, with
     the conclusion, the signer, the content hash and the PDF; its amendment
     (addendum, signed again) updates it to amended, with the new hash and
     the one it replaces;
  4. the SATUSEHAT profile sends the signed report of a delivered study once,
     in the platform's documented shape;
  5. a wrong secret: the token service refuses (401), the delivery fails with
     a reason naming it, and no secret is in the reason or Orthanc's log.
"""

import base64
import os
import shutil
import tempfile
import time
import unittest

import fhir_standin
import orthanc_harness as h
import router_harness as rh
import satusehat_standin

pydicom = h.pydicom

CLIENT_ID = "hb-router"
CLIENT_SECRET = "Fhir-Client-Secret-Never-Logged-7731"
WRONG_SECRET = "Wrong-Fhir-Secret-Never-Logged-5519"
SS_ORGANIZATION = "100026489"
SS_CLIENT_ID = "hb-ss-client"
SS_SECRET = "Satusehat-Secret-Never-Logged-0088"
MRN_SYSTEM = "http://hospital.example/fhir/mrn"
PASSWORD = "Rad-Fhir-Integration-Pw-37!"
CT_IMAGE_STORAGE = "urn:oid:1.2.840.10008.5.1.4.1.1.2"
REPORT_SYSTEM = "urn:hospitalbridge:HOS-001:report"
HASH_SYSTEM = "urn:hospitalbridge:report-content-sha256"


class Study(object):
    """A generated CT study (fresh UIDs); add() makes one more instance of
    its series."""

    def __init__(self, folder, count, description, accession, patient_id, patient_name="FHIR^TEST"):
        self.folder = folder
        self.uid = h.generate_uid()
        self.series = h.generate_uid()
        self.tags = {"AccessionNumber": accession, "StudyDescription": description, "PatientID": patient_id,
                     "PatientName": patient_name, "Modality": "CT", "StudyDate": "20261120",
                     "StudyTime": "101500"}
        self.accession = accession
        self.sops = []
        self.files = []
        for _ in range(count):
            self.add()

    def add(self):
        path = os.path.join(self.folder, "%s-%04d.dcm" % (self.uid[-12:], len(self.files)))
        h.make_variant(h.sample("CT_small.dcm"), path, study_uid=self.uid, series_uid=self.series,
                       InstanceNumber=len(self.files) + 1, **self.tags)
        self.files.append(path)
        self.sops.append(str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID))
        return path


class FhirRouterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-router-fhir-"))
        schema = rh.fhir_schema()
        os.makedirs(os.path.join(cls.tmp, "fhir"))
        os.makedirs(os.path.join(cls.tmp, "ss"))
        cls.fhir = fhir_standin.FhirServer(os.path.join(cls.tmp, "fhir"), CLIENT_ID, CLIENT_SECRET, schema)
        cls.platform = satusehat_standin.Platform(os.path.join(cls.tmp, "ss"), SS_ORGANIZATION, SS_CLIENT_ID,
                                                  SS_SECRET, schema)
        secrets = {}
        for name, value in (("good", CLIENT_SECRET), ("wrong", WRONG_SECRET), ("ss", SS_SECRET)):
            secrets[name] = os.path.join(cls.tmp, name + "-secret")
            with open(secrets[name], "w") as f:
                f.write(value + "\n")
        fhir = {"Type": "fhir", "Url": cls.fhir.base, "Auth": "oauth2", "TokenUrl": cls.fhir.token_url,
                "Username": CLIENT_ID, "CaFile": cls.fhir.ca, "PatientIdentifierSystem": MRN_SYSTEM,
                "TimeoutMs": 5000}
        cls.site = h.OrthancSite("router-fhir", extra_config={"HospitalBridge": {
            "Modules": {"Router": True},
            "Reports": {"Queue": {"Modalities": ["CT"]}},
            "Router": {
                "Destinations": [
                    dict(fhir, Name="ehr", SecretFile=secrets["good"]),
                    dict(fhir, Name="ehr-wrong", SecretFile=secrets["wrong"]),
                    {"Name": "satusehat", "Type": "satusehat", "Url": cls.platform.url, "CaFile": cls.platform.ca,
                     "OrganizationId": SS_ORGANIZATION, "Username": SS_CLIENT_ID, "SecretFile": secrets["ss"],
                     "TimeoutMs": 5000}],
                "Rules": [
                    {"Name": "ehr-studies", "DescriptionPattern": "^CT FHIR", "Destinations": ["ehr"]},
                    {"Name": "ehr-reports", "Trigger": "report", "DescriptionPattern": "^CT FHIR",
                     "Destinations": ["ehr"]},
                    {"Name": "wrong", "DescriptionPattern": "^CT WRONG", "Destinations": ["ehr-wrong"]},
                    {"Name": "national", "DescriptionPattern": "^CT SS", "Destinations": ["satusehat"]},
                    {"Name": "national-reports", "Trigger": "report", "DescriptionPattern": "^CT SS",
                     "Destinations": ["satusehat"]}],
                "Retry": {"MinDelaySeconds": 1, "MaxDelaySeconds": 2, "MaxAttempts": 5},
                "WaitingRecheckSeconds": 2,
                "TimeZoneOffset": "+07:00"}}})
        cls.site.start()
        cls.radiologist = cls.site.user_session("dr.fhir", "radiologist", PASSWORD)
        cls.reception = cls.site.user_session("desk.fhir", "reception")

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.fhir.close()
        cls.platform.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- helpers ------------------------------------------------------------

    def send(self, count, description, accession, patient_id="FH-0001", patient_name="FHIR^TEST"):
        study = Study(tempfile.mkdtemp(dir=self.tmp), count, description, accession, patient_id, patient_name)
        self.site.storescu(study.files, calling_aet="CT01")
        return study

    def delivery(self, uid, destination, trigger="study", until=lambda d: d["state"] == "delivered",
                 timeout=60):
        """The delivery of `uid` to `destination` for `trigger` once `until`
        holds; a test failure at once when it failed instead."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            for d in rh.study_proof(self.site, uid)["deliveries"]:
                if d["destination"] == destination and d["trigger"] == trigger:
                    seen = d
                    if until(d):
                        return d
                    if d["state"] == "failed":
                        deadline = 0
            time.sleep(0.2)
        self.fail("delivery of %s to %s (%s) never got there; last seen %s; rejections %s"
                  % (uid, destination, trigger, seen, self.fhir.rejections + self.platform.rejections))

    def imaging_study(self, uid):
        found = self.fhir.find("ImagingStudy", "urn:dicom:uid", "urn:oid:" + uid)
        self.assertEqual(1, len(found), "ImagingStudies of %s: %s" % (uid, found))
        return found[0]

    def ok(self, r, what=""):
        self.assertTrue(r.ok, "%s %s -> %d %s" % (what, r.request.url, r.status_code, r.text[:800]))
        return r.json()

    def report_of(self, uid):
        def probe():
            r = self.radiologist.get(self.site.url + "/bridge/reports/queue",
                                     params={"status": "all", "study": uid}, timeout=30)
            r.raise_for_status()
            return r.json()["reports"][0]["id"] if r.json()["reports"] else None
        return h.wait_until(probe, 30, message="study %s not in the reading queue" % uid)

    def write_and_sign(self, uid, impression):
        rid = self.report_of(uid)
        self.ok(self.radiologist.post(self.site.url + "/bridge/reports", json={"study": uid, "template": "ct-head"},
                                      timeout=30), "create")
        self.ok(self.radiologist.put(self.site.url + "/bridge/reports/%d" % rid, json={
            "sections": {"findings": "Extra-axial mass, 2 cm.", "impression": impression}}, timeout=30), "draft")
        return rid, self.sign(rid)

    def sign(self, rid):
        return self.ok(self.radiologist.post(self.site.url + "/bridge/reports/%d/sign" % rid,
                                             json={"password": PASSWORD}, timeout=60), "sign")

    # --- 1. ImagingStudy, created then updated --------------------------------

    def test_1_study_becomes_one_imaging_study_updated_by_a_new_instance(self):
        tokens_before = self.fhir.token_requests
        study = self.send(2, "CT FHIR HEAD", "ACC-FH-1")
        d = self.delivery(study.uid, "ehr")
        resource = self.imaging_study(study.uid)
        self.assertEqual(resource["id"], d["remote_id"])
        self.assertEqual(self.fhir.base + "/ImagingStudy/" + resource["id"], d["remote_url"])
        self.assertEqual(2, d["instances_confirmed"])
        self.assertEqual("available", resource["status"])
        self.assertIn("ACC-FH-1", [i["value"] for i in resource["identifier"]
                                   if any(c["code"] == "ACSN" for c in i.get("type", {}).get("coding", []))])
        self.assertEqual({"system": MRN_SYSTEM, "value": "FH-0001"}, resource["subject"]["identifier"])
        self.assertEqual(["CT"], [m["code"] for m in resource["modality"]])
        self.assertEqual("2026-11-20T10:15:00+07:00", resource["started"])
        self.assertEqual([study.series], [s["uid"] for s in resource["series"]])
        self.assertEqual(study.sops, [i["uid"] for i in resource["series"][0]["instance"]])
        self.assertEqual({CT_IMAGE_STORAGE}, {i["sopClass"]["code"] for i in resource["series"][0]["instance"]})
        self.assertEqual((1, 2), (resource["numberOfSeries"], resource["numberOfInstances"]))

        # One more instance of the same series: the same ImagingStudy, updated.
        self.site.storescu([study.add()], calling_aet="CT01")
        d = self.delivery(study.uid, "ehr", until=lambda d: d["state"] == "delivered" and
                          d["instances_confirmed"] == 3)
        updated = self.imaging_study(study.uid)
        self.assertEqual(resource["id"], updated["id"])
        self.assertEqual(resource["id"], d["remote_id"])
        self.assertEqual(study.sops, [i["uid"] for i in updated["series"][0]["instance"]])
        self.assertEqual(3, updated["numberOfInstances"])
        self.assertEqual(["1", "2"], [v["meta"]["versionId"] for v in self.fhir.versions("ImagingStudy", updated["id"])])
        # Both deliveries with one token at most (none if an earlier one is still valid).
        self.assertLessEqual(self.fhir.token_requests, tokens_before + 1)
        self.assertEqual([], self.fhir.rejections)

    # --- 2. An expired token ----------------------------------------------------

    def test_2_expired_token_is_renewed_once_and_cached(self):
        first = self.send(1, "CT FHIR TOKEN 1", "ACC-FH-2A")
        self.delivery(first.uid, "ehr")  # a token is cached now
        tokens, refused = self.fhir.token_requests, self.fhir.unauthorized
        self.fhir.expire_tokens()
        second = self.send(2, "CT FHIR TOKEN 2", "ACC-FH-2B")
        d = self.delivery(second.uid, "ehr")
        self.assertEqual(1, d["attempts"], "the 401 was not handled within the attempt: %s" % d)
        self.assertEqual(refused + 1, self.fhir.unauthorized, "the expired token was used more than once")
        self.assertEqual(tokens + 1, self.fhir.token_requests)
        self.assertEqual(2, len(self.imaging_study(second.uid)["series"][0]["instance"]))
        # The new token is kept for the next delivery.
        third = self.send(1, "CT FHIR TOKEN 3", "ACC-FH-2C")
        self.delivery(third.uid, "ehr")
        self.imaging_study(third.uid)
        self.assertEqual(tokens + 1, self.fhir.token_requests)
        self.assertEqual(refused + 1, self.fhir.unauthorized)
        self.assertEqual([], self.fhir.rejections)

    # --- 3. A signed report, then its amendment -----------------------------------

    def test_3_signed_report_becomes_a_diagnostic_report_then_amended(self):
        order = self.ok(self.reception.post(self.site.url + "/bridge/orders", json={
            "patient": {"patient_id": "FH-RPT-1", "name": "REPORT^RITA"}, "modality": "CT", "priority": "routine",
            "referring_physician": "REFERRER^ROSA", "reason": "Headache"}, timeout=30), "order")
        accession = order["accession_number"]
        study = self.send(1, "CT FHIR REPORT", accession, patient_id="FH-RPT-1", patient_name="REPORT^RITA")
        self.delivery(study.uid, "ehr")
        rid, signed = self.write_and_sign(study.uid, "Left frontal meningioma.")
        self.assertEqual("final", signed["status"])
        v1 = signed["version"]
        trigger = "report:%d" % rid
        d = self.delivery(study.uid, "ehr", trigger=trigger)

        reports = self.fhir.find("DiagnosticReport", REPORT_SYSTEM, str(rid))
        self.assertEqual(1, len(reports), reports)
        report = reports[0]
        self.assertEqual(report["id"], d["remote_id"])
        self.assertEqual(self.fhir.base + "/DiagnosticReport/" + report["id"], d["remote_url"])
        imaging = self.imaging_study(study.uid)
        self.assertEqual("final", report["status"])
        self.assertEqual("ImagingStudy/" + imaging["id"], report["imagingStudy"][0]["reference"])
        self.assertEqual(imaging["subject"]["identifier"], report["subject"]["identifier"],
                         "the report's patient is not the ImagingStudy's")
        self.assertEqual("Left frontal meningioma.", report["conclusion"])
        self.assertTrue(report["resultsInterpreter"][0]["display"].startswith("dr.fhir"), report["resultsInterpreter"])
        self.assertIn((HASH_SYSTEM, v1["content_hash"]), fhir_standin.identifiers_of(report))
        self.assertEqual(("http://loinc.org", "18748-4"),
                         (report["code"]["coding"][0]["system"], report["code"]["coding"][0]["code"]))
        self.assertEqual(accession, report["basedOn"][0]["identifier"]["value"])
        pdf = base64.b64decode(report["presentedForm"][0]["data"])
        self.assertTrue(pdf.startswith(b"%PDF-"))
        self.assertIn(v1["content_hash"], report["presentedForm"][0]["title"])

        # The addendum, signed: the same DiagnosticReport, now amended.
        self.ok(self.radiologist.post(self.site.url + "/bridge/reports/%d/amend" % rid,
                                      json={"reason": "Size corrected"}, timeout=30), "amend")
        self.ok(self.radiologist.put(self.site.url + "/bridge/reports/%d" % rid,
                                     json={"addendum": "The mass measures 2.5 cm."}, timeout=30), "addendum")
        signed2 = self.sign(rid)
        self.assertEqual("amended", signed2["status"])
        v2 = signed2["version"]

        def amended():
            there = self.fhir.find("DiagnosticReport", REPORT_SYSTEM, str(rid))
            return there and there[0]["status"] == "amended" and there
        try:
            h.wait_until(amended, 60, interval=0.2)
        except Exception:
            self.fail("the amendment never reached the server: %s; rejections %s"
                      % (rh.study_proof(self.site, study.uid)["deliveries"], self.fhir.rejections))
        d = self.delivery(study.uid, "ehr", trigger=trigger)
        reports = self.fhir.find("DiagnosticReport", REPORT_SYSTEM, str(rid))
        self.assertEqual(1, len(reports), "a second DiagnosticReport for one report: %s" % reports)
        self.assertEqual(report["id"], reports[0]["id"])
        self.assertEqual(report["id"], d["remote_id"])
        self.assertEqual(["final", "amended"], [v["status"] for v in self.fhir.versions("DiagnosticReport", report["id"])])
        identifiers = fhir_standin.identifiers_of(reports[0])
        self.assertIn((HASH_SYSTEM, v2["content_hash"]), identifiers)
        self.assertNotIn((HASH_SYSTEM, v1["content_hash"]), identifiers)
        self.assertEqual(v1["content_hash"], reports[0]["extension"][0]["valueIdentifier"]["value"])
        self.assertNotEqual(pdf, base64.b64decode(reports[0]["presentedForm"][0]["data"]))
        self.assertEqual([], self.fhir.rejections)
        self.assertEqual(1, len(self.fhir.find("ImagingStudy", "urn:dicom:uid", "urn:oid:" + study.uid)))

    # --- 4. SATUSEHAT: the signed report of a delivered study ---------------------

    def test_4_satusehat_gets_the_signed_report_once(self):
        order = self.platform.post_service_request("ACC-SS-R1")
        study = self.send(1, "CT SS HEAD", "ACC-SS-R1", patient_id="SS-0001")
        d = self.delivery(study.uid, "satusehat")
        rid, signed = self.write_and_sign(study.uid, "No acute intracranial finding.")
        self.assertEqual("final", signed["status"])
        r = self.delivery(study.uid, "satusehat", trigger="report:%d" % rid)
        reports = self.platform.reports_for(str(rid))
        self.assertEqual(1, len(reports), "DiagnosticReports for %d: %s" % (rid, reports))
        report = reports[0]
        self.assertEqual(report["id"], r["remote_id"])
        self.assertEqual(1, r["attempts"], r)
        self.assertEqual("final", report["status"])
        self.assertEqual([{"reference": "ServiceRequest/" + order["id"]}], report["basedOn"])
        self.assertEqual(order["subject"], report["subject"])
        self.assertEqual([{"reference": "ImagingStudy/" + d["remote_id"]}], report["imagingStudy"])
        self.assertEqual(order["code"]["coding"], report["code"]["coding"])
        self.assertEqual("No acute intracranial finding.", report["conclusion"])
        self.assertEqual(1, len(self.platform.studies_for("ACC-SS-R1")))
        self.assertEqual([], self.platform.rejections)

    # --- 5. The token service refuses the secret ----------------------------------

    def test_5_refused_secret_fails_with_a_reason_and_no_secret_in_the_log(self):
        refused = self.fhir.tokens_refused
        study = self.send(1, "CT WRONG SECRET", "ACC-FH-5")
        d = self.delivery(study.uid, "ehr-wrong", until=lambda d: d["state"] in ("failed", "delivered"))
        self.assertEqual("failed", d["state"], d)
        self.assertEqual(1, d["attempts"], "a refused secret is not worth retrying: %s" % d)
        self.assertIn("token service answered HTTP 401", d["reason"])
        self.assertIn("invalid_client", d["reason"])
        # The token service echoed the secret; the router's reason has it scrubbed.
        self.assertIn("[secret]", d["reason"])
        self.assertNotIn(WRONG_SECRET, d["reason"])
        self.assertEqual(refused + 1, self.fhir.tokens_refused)
        self.assertEqual([], self.fhir.find("ImagingStudy", "urn:dicom:uid", "urn:oid:" + study.uid))
        failed = self.ok(self.site.admin.get(self.site.url + "/bridge/router/deliveries",
                                             params={"state": "failed"}, timeout=30))["deliveries"]
        self.assertIn(study.uid, [x["study_uid"] for x in failed])
        time.sleep(0.5)  # Orthanc's last lines reach the log file
        log = self.site.log_text()
        self.assertIn("to ehr-wrong failed: the token service answered HTTP 401", log)
        for secret in (WRONG_SECRET, CLIENT_SECRET, SS_SECRET):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main()
