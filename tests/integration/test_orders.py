"""Orders and the modality worklist with a real Orthanc: orders made over REST
and over FHIR reach DCMTK's findscu -W (queries shaped like a modality's:
wildcards, date and time ranges, station AE, empty return keys, non-ASCII
names), unknown callers are refused and audited, malformed queries fail
without harm, images carrying an order's accession move it to in-progress and
then completed, and a study without an order is attached to one in Orthanc.
"""

import datetime
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import orthanc_harness as h
import pydicom

TODAY = datetime.date.today()
DA = TODAY.strftime("%Y%m%d")
TOMORROW = (TODAY + datetime.timedelta(days=1)).strftime("%Y%m%d")
ISO_TODAY = TODAY.isoformat()

# What a modality asks: every key it can show, most of them empty.
RETURN_KEYS = [
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientWeight", "MedicalAlerts",
    "AccessionNumber", "StudyInstanceUID", "RequestedProcedureID", "RequestedProcedureDescription",
    "RequestedProcedurePriority", "ReferringPhysicianName",
]
STEP_KEYS = [
    "Modality", "ScheduledStationAETitle", "ScheduledStationName", "ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepStartTime", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepLocation", "ScheduledProcedureStepStatus",
]


def findscu(site, keys, aet="CT1", step=None, extra_args=()):
    """findscu -W with `keys` (name=value, '' for a return key) and the
    ScheduledProcedureStepSequence item `step` (dict; None = every step key
    empty). Returns (final status line, [pydicom datasets])."""
    out_dir = tempfile.mkdtemp(prefix="hb-findscu-")
    try:
        args = ["findscu", "-v", "-W", "-X", "-od", out_dir, "-aet", aet, "-aec", site.aet]
        args += list(extra_args)
        values = dict((k, "") for k in RETURN_KEYS)
        values.update(keys)
        for name, value in values.items():
            args += ["-k", "%s=%s" % (name, value) if value != "" else name]
        step_values = dict((k, "") for k in STEP_KEYS)
        step_values.update(step or {})
        for name, value in step_values.items():
            args += ["-k", "ScheduledProcedureStepSequence[0].%s%s" % (name, "=" + value if value else "")]
        args += ["127.0.0.1", str(site.dicom_port)]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           env=dict(os.environ, TCP_NODELAY="1"))
        text = r.stdout.decode("utf-8", "replace")
        final = [l for l in text.splitlines() if "Final Find Response" in l or "Find Failed" in l
                 or "Association" in l and ("Abort" in l or "Rejected" in l)]
        answers = [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(out_dir, "rsp*.dcm")))]
        return (final[-1] if final else text[-500:]), answers
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def step_of(answer):
    return answer.ScheduledProcedureStepSequence[0]


class OrdersTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-orders-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("orders", extra_config={
            "StableAge": 2,
            # Every worklist query reaches HospitalBridge, which decides.
            "DicomAlwaysAllowFindWorklist": True,
            "DefaultEncoding": "Utf8",
            "DicomModalities": {
                "ct": {"AET": "CT1", "Host": "127.0.0.1", "Port": 104},
                "mr": ["MR1", "127.0.0.1", 105],
                "us": {"AET": "US1", "Host": "127.0.0.1", "Port": 106, "AllowFindWorklist": False},
            },
            "HospitalBridge": {"Orders": {"Worklist": {"MaxAnswers": 40}}},
        })
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.url = cls.site.url
        cls.admin = cls.site.admin
        cls.reception = cls.site.user_session("desk1", "reception")
        cls.radiologist = cls.site.user_session("reader1", "radiologist")

    # --- helpers ----------------------------------------------------------

    def order(self, expect=201, session=None, **fields):
        body = {"patient": {"patient_id": "P-%d" % (time.time_ns() % 10 ** 9), "name": "DOE^JANE"},
                "modality": "CT", "station_aet": "CT1", "scheduled_start": ISO_TODAY + "T10:30"}
        patient = fields.pop("patient", {})
        body["patient"].update(patient)
        body.update(fields)
        r = (session or self.reception).post(self.url + "/bridge/orders", json=body, timeout=30)
        self.assertEqual(r.status_code, expect, r.text)
        return r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}

    def get_order(self, order_id):
        r = self.admin.get(self.url + "/bridge/orders/%d" % order_id, timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()

    def audit(self, **params):
        r = self.admin.get(self.url + "/bridge/audit", params=params, timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["events"]

    def send_ct(self, label, **tags):
        path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(self.tmp, label + ".dcm"), **tags)
        self.site.storescu([path], calling_aet="CT1")
        return pydicom.dcmread(path)

    def wait_status(self, order_id, status, timeout=30):
        return h.wait_until(lambda: self.get_order(order_id)["status"] == status and self.get_order(order_id),
                            timeout, message="order %d never became %s" % (order_id, status))

    # --- REST and FHIR intake ----------------------------------------------

    def test_an_order_made_over_rest_reaches_the_modality(self):
        made = self.order(patient={"patient_id": "PID-REST-1", "name": "MÜLLER^ZOË", "birth_date": "1961-04-30",
                                   "sex": "F"},
                          station_aet="CT1", station_name="CT ROOM 1", location="RAD-2",
                          procedure={"code": "24627-2", "scheme": "LN", "description": "CT chest"},
                          priority="urgent", referring_physician="HOUSE^GREGORY",
                          scheduled_start=ISO_TODAY + "T09:15:00")
        self.assertEqual(made["status"], "scheduled")
        self.assertTrue(made["study_uid"].startswith("2.25."))
        self.assertRegex(made["accession_number"], r"^%s\d{4}$" % DA)
        status, answers = findscu(self.site, {"PatientID": "PID-REST-1"},
                                  step={"Modality": "CT", "ScheduledStationAETitle": "CT1",
                                        "ScheduledProcedureStepStartDate": DA})
        self.assertIn("Success", status)
        self.assertEqual(len(answers), 1)
        a = answers[0]
        self.assertEqual(a.SpecificCharacterSet, "ISO_IR 192")
        self.assertEqual(str(a.PatientName), "MÜLLER^ZOË")
        self.assertEqual(a.PatientBirthDate, "19610430")
        self.assertEqual(a.PatientSex, "F")
        self.assertEqual(a.AccessionNumber, made["accession_number"])
        self.assertEqual(a.StudyInstanceUID, made["study_uid"])
        self.assertEqual(a.RequestedProcedureID, made["accession_number"])
        self.assertEqual(a.RequestedProcedureDescription, "CT chest")
        self.assertEqual(a.RequestedProcedurePriority, "HIGH")
        self.assertEqual(str(a.ReferringPhysicianName), "HOUSE^GREGORY")
        # Return keys asked for without a value come back empty.
        self.assertIn("PatientWeight", a)
        self.assertEqual(str(a.PatientWeight or ""), "")
        self.assertIn("MedicalAlerts", a)
        s = step_of(a)
        self.assertEqual(s.Modality, "CT")
        self.assertEqual(s.ScheduledStationAETitle, "CT1")
        self.assertEqual(s.ScheduledStationName, "CT ROOM 1")
        self.assertEqual(s.ScheduledProcedureStepLocation, "RAD-2")
        self.assertEqual(s.ScheduledProcedureStepStartDate, DA)
        self.assertEqual(s.ScheduledProcedureStepStartTime, "091500")
        self.assertEqual(s.ScheduledProcedureStepID, made["accession_number"] + "-1")
        self.assertEqual(s.ScheduledProcedureStepStatus, "SCHEDULED")
        # Only what was asked for: no attribute the query did not name.
        self.assertNotIn("RequestedProcedureCodeSequence", a)
        self.assertEqual(self.audit(action="order.created", study_uid=made["study_uid"])[0]["actor"]["name"],
                         "desk1")

    def test_wildcards_ranges_stations_and_names_in_other_scripts(self):
        tag = "W%d" % (time.time_ns() % 10 ** 6)
        made = {
            "ivanov": self.order(patient={"patient_id": tag + "-1", "name": "ИВАНОВ^ИВАН"}, station_aet="CT1",
                                 scheduled_start=ISO_TODAY + "T08:00"),
            "yamada": self.order(patient={"patient_id": tag + "-2", "name": "YAMADA^TARO=山田^太郎"},
                                 station_aet="CT1", scheduled_start=ISO_TODAY + "T13:00"),
            "mr": self.order(patient={"patient_id": tag + "-3", "name": "SMITH^ANNA"}, modality="MR",
                             station_aet="MR1", scheduled_start=ISO_TODAY + "T11:00"),
            "tomorrow": self.order(patient={"patient_id": tag + "-4", "name": "SMITH^BOB"}, station_aet="CT1",
                                   scheduled_start=(TODAY + datetime.timedelta(days=1)).isoformat() + "T08:00"),
        }
        ids = lambda answers: sorted(a.PatientID for a in answers if a.PatientID.startswith(tag))

        # PN: wildcards, any case, any script.
        self.assertEqual(ids(findscu(self.site, {"PatientName": "иван*"})[1]), [tag + "-1"])
        self.assertEqual(ids(findscu(self.site, {"PatientName": "山田*"})[1]), [tag + "-2"])
        self.assertEqual(ids(findscu(self.site, {"PatientName": "smith^*"})[1]), [tag + "-3", tag + "-4"])
        self.assertEqual(ids(findscu(self.site, {"PatientName": "SMITH^B?B"})[1]), [tag + "-4"])
        ivanov = findscu(self.site, {"PatientID": tag + "-1"})[1][0]
        self.assertEqual(str(ivanov.PatientName), "ИВАНОВ^ИВАН")
        # The station's own list for today, as a CT asks it.
        ct_today = findscu(self.site, {"PatientID": tag + "*"},
                           step={"ScheduledStationAETitle": "CT1", "ScheduledProcedureStepStartDate": DA})[1]
        self.assertEqual(ids(ct_today), [tag + "-1", tag + "-2"])
        # Date and time ranges.
        self.assertEqual(ids(findscu(self.site, {"PatientID": tag + "*"},
                                     step={"ScheduledProcedureStepStartDate": DA + "-" + TOMORROW})[1]),
                         [tag + "-1", tag + "-2", tag + "-3", tag + "-4"])
        self.assertEqual(ids(findscu(self.site, {"PatientID": tag + "*"},
                                     step={"ScheduledProcedureStepStartDate": TOMORROW + "-"})[1]), [tag + "-4"])
        self.assertEqual(ids(findscu(self.site, {"PatientID": tag + "*"},
                                     step={"ScheduledProcedureStepStartDate": DA,
                                           "ScheduledProcedureStepStartTime": "0700-1159"})[1]),
                         [tag + "-1", tag + "-3"])
        # Modality and station wildcards; a list of study UIDs.
        self.assertEqual(ids(findscu(self.site, {"PatientID": tag + "*"}, step={"Modality": "MR"})[1]), [tag + "-3"])
        self.assertEqual(ids(findscu(self.site, {"PatientID": tag + "*"}, step={"ScheduledStationAETitle": "MR?"})[1]),
                         [tag + "-3"])
        uids = "\\".join([made["ivanov"]["study_uid"], made["mr"]["study_uid"]])
        self.assertEqual(ids(findscu(self.site, {"StudyInstanceUID": uids})[1]), [tag + "-1", tag + "-3"])
        # The [AET, host, port] form of DicomModalities may ask too.
        self.assertIn("Success", findscu(self.site, {"PatientID": tag + "-3"}, aet="MR1")[0])

    def test_fhir_service_request_intake(self):
        request = {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "original-order",
            "priority": "stat",
            "identifier": [
                {"system": "http://sys-ids.kemkes.go.id/servicerequest/10000004", "value": "SR-0001"},
                {"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                      "code": "ACSN"}]},
                 "system": "http://sys-ids.kemkes.go.id/acsn/10000004", "value": "ACSN-%d" % (time.time_ns() % 10 ** 8)},
            ],
            "subject": {"reference": "#pat1"},
            "contained": [{
                "resourceType": "Patient", "id": "pat1",
                "identifier": [{"system": "http://sys-ids.kemkes.go.id/mrn/10000004", "value": "MRN-FHIR-1"},
                               {"system": "https://fhir.kemkes.go.id/id/nik", "value": "3171000000000001"}],
                "name": [{"family": "Santoso", "given": ["Budi"]}],
                "gender": "male", "birthDate": "1980-07-01"}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "24648-8",
                                 "display": "XR Chest PA upright"}], "text": "Thorax PA"},
            "orderDetail": [
                {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "DX"}],
                 "text": "Modality Code: DX"},
                {"coding": [{"system": "http://sys-ids.kemkes.go.id/ae-title", "display": "XR0001"}]}],
            "occurrenceDateTime": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
            "requester": {"reference": "Practitioner/N10000001", "display": "Dokter Bronsig"},
            "reasonCode": [{"text": "Cough for three weeks"}],
        }
        accession = request["identifier"][1]["value"]
        r = self.reception.post(self.url + "/bridge/fhir/ServiceRequest", json=request, timeout=30,
                                headers={"Content-Type": "application/fhir+json"})
        self.assertEqual(r.status_code, 201, r.text)
        self.assertTrue(r.headers["Content-Type"].startswith("application/fhir+json"))
        created = r.json()
        uid_ids = [i for i in created["identifier"] if i["system"] == "urn:dicom:uid"]
        self.assertEqual(len(uid_ids), 1)
        self.assertTrue(uid_ids[0]["value"].startswith("urn:oid:2.25."))
        self.assertEqual(r.headers["Location"], "/bridge/fhir/ServiceRequest/" + created["id"])
        again = self.radiologist.get(self.url + r.headers["Location"], timeout=30).json()
        self.assertEqual(again["identifier"], created["identifier"])
        self.assertEqual(again["status"], "active")
        order = self.get_order(int(created["id"]))
        self.assertEqual((order["accession_number"], order["patient"]["patient_id"], order["station_aet"],
                          order["modality"], order["priority"], order["source"]),
                         (accession, "MRN-FHIR-1", "XR0001", "DX", "stat", "fhir"))
        self.assertEqual(order["placer_id"], "SR-0001")
        # On the worklist of the DX room (the caller must be listed: add it).
        self.assertEqual(self.admin.put(self.url + "/modalities/dx", json={"AET": "XR0001", "Host": "127.0.0.1",
                                                                             "Port": 107}, timeout=30).status_code, 200)
        h.wait_until(lambda: "XR0001" in self.admin.get(self.url + "/bridge/system", timeout=30)
                     .json()["orders"]["worklist"]["calling_aets"], 40, message="XR0001 not picked up")
        status, answers = findscu(self.site, {"AccessionNumber": accession}, aet="XR0001",
                                  step={"ScheduledStationAETitle": "XR0001", "Modality": "DX"})
        self.assertIn("Success", status)
        self.assertEqual(len(answers), 1)
        self.assertEqual(str(answers[0].PatientName), "Santoso^Budi")
        self.assertEqual(answers[0].RequestedProcedurePriority, "STAT")
        self.assertEqual(answers[0].StudyInstanceUID, uid_ids[0]["value"][len("urn:oid:"):])

        # Bad input: each names what is wrong.
        no_accession = dict(request, identifier=request["identifier"][:1])
        r = self.reception.post(self.url + "/bridge/fhir/ServiceRequest", json=no_accession, timeout=30)
        self.assertEqual(r.status_code, 400)
        self.assertIn("ServiceRequest.identifier", r.json()["detail"])
        no_patient = {k: v for k, v in request.items() if k != "contained"}
        r = self.reception.post(self.url + "/bridge/fhir/ServiceRequest", json=no_patient, timeout=30)
        self.assertEqual(r.status_code, 400)
        self.assertIn("Patient", r.json()["detail"])
        r = self.reception.post(self.url + "/bridge/fhir/ServiceRequest", json=request, timeout=30)
        self.assertEqual(r.status_code, 409, r.text)

    def test_bad_input_over_rest(self):
        past = self.order(scheduled_start=(TODAY - datetime.timedelta(days=3)).isoformat() + "T08:00")
        self.assertEqual(len(past["warnings"]), 1)
        self.assertIn("past", past["warnings"][0])
        r = self.reception.post(self.url + "/bridge/orders", json={"patient": {"patient_id": "X"}, "modality": "CT"},
                                timeout=30)
        self.assertEqual(r.status_code, 400)
        self.assertIn("patient_name", r.json()["detail"])
        r = self.reception.post(self.url + "/bridge/orders", json={"patient": {"patient_id": "X", "name": "A^B"},
                                                                    "modality": "CT", "colour": "red"}, timeout=30)
        self.assertEqual(r.status_code, 400)
        made = self.order(accession_number="DUP-%d" % (time.time_ns() % 10 ** 8))
        again = self.order(expect=409, accession_number=made["accession_number"])
        self.assertIn(made["accession_number"], again["detail"])
        # Reading is for staff; a radiologist may not make orders.
        self.order(expect=403, session=self.radiologist)
        r = self.reception.get(self.url + "/bridge/orders", params={"status": "bogus"}, timeout=30)
        self.assertEqual(r.status_code, 400)

    # --- who may ask, and what breaks nothing --------------------------------

    def test_unknown_callers_are_refused_and_audited(self):
        self.order(patient={"name": "VISIBLE^TO^CT1"})
        status, answers = findscu(self.site, {"PatientName": "VISIBLE*"}, aet="ROGUE")
        self.assertNotIn("Success", status)
        self.assertEqual(answers, [])
        status, answers = findscu(self.site, {"PatientName": "VISIBLE*"}, aet="US1")  # AllowFindWorklist false
        self.assertNotIn("Success", status)
        self.assertEqual(answers, [])
        events = h.wait_until(lambda: self.audit(action="worklist.refused", actor="ROGUE"), 20)
        self.assertEqual(events[0]["outcome"], "denied")
        self.assertEqual(events[0]["detail"]["called_aet"], self.site.aet)
        self.assertTrue(h.wait_until(lambda: self.audit(action="worklist.refused", actor="US1"), 20))
        self.assertIn("Success", findscu(self.site, {"PatientName": "VISIBLE*"}, aet="CT1")[0])

    def test_malformed_queries_fail_and_orthanc_carries_on(self):
        status, _ = findscu(self.site, {}, step={"ScheduledProcedureStepStartDate": "2026-13-45"})
        self.assertIn("Failed", status)
        status, _ = findscu(self.site, {}, step={"ScheduledProcedureStepStartTime": "25"})
        self.assertIn("Failed", status)
        status, _ = findscu(self.site, {"PatientName": ""},
                            extra_args=["-k", "ScheduledProcedureStepSequence[1].Modality=CT"])
        self.assertIn("Failed", status)
        self.assertEqual(self.admin.get(self.url + "/system", timeout=30).status_code, 200)
        self.assertIn("Success", findscu(self.site, {"PatientName": "NOBODY*"})[0])

    def test_the_answer_limit(self):
        tag = "LIM%d" % (time.time_ns() % 10 ** 6)
        for i in range(45):
            self.order(patient={"patient_id": "%s-%02d" % (tag, i), "name": "LIMIT^%s" % tag})
        status, answers = findscu(self.site, {"PatientName": "LIMIT^" + tag})
        self.assertEqual(len(answers), 40)
        self.assertIn("Cancel", status)  # "matching terminated"

    # --- arrival and reconciliation ------------------------------------------

    def test_cancelled_orders_leave_the_worklist_and_their_images_are_listed(self):
        made = self.order(patient={"patient_id": "PID-CANCEL", "name": "CANCEL^ME"})
        self.assertEqual(len(findscu(self.site, {"PatientID": "PID-CANCEL"})[1]), 1)
        r = self.reception.post(self.url + "/bridge/orders/%d/cancel" % made["id"], json={}, timeout=30)
        self.assertEqual(r.status_code, 400)  # a reason is required
        r = self.reception.post(self.url + "/bridge/orders/%d/cancel" % made["id"], json={"reason": "duplicate"},
                                timeout=30)
        self.assertEqual(r.json()["status"], "cancelled")
        self.assertEqual(findscu(self.site, {"PatientID": "PID-CANCEL"})[1], [])
        # The modality sends images anyway: stored, indexed, listed.
        ds = self.send_ct("cancelled", PatientID="PID-CANCEL", AccessionNumber=made["accession_number"])
        self.site.wait_indexed(ds.StudyInstanceUID)

        def listed():
            entries = self.admin.get(self.url + "/bridge/orders/reconciliation", timeout=30).json()["studies"]
            return [e for e in entries if e["study_uid"] == ds.StudyInstanceUID]
        entry = h.wait_until(listed, 30, message="images for a cancelled order not listed")[0]
        self.assertEqual(entry["kind"], "order-cancelled")
        self.assertEqual(entry["order_id"], made["id"])
        self.assertEqual(self.get_order(made["id"])["status"], "cancelled")

    def test_images_move_their_order_to_in_progress_then_completed(self):
        made = self.order(patient={"patient_id": "PID-ARRIVE", "name": "ARRIVE^ANNA"})
        r = self.reception.post(self.url + "/bridge/orders/%d/arrive" % made["id"], timeout=30)
        self.assertEqual(r.json()["status"], "arrived")
        self.assertEqual(step_of(findscu(self.site, {"PatientID": "PID-ARRIVE"})[1][0]).ScheduledProcedureStepStatus,
                         "ARRIVED")
        # The modality took the accession from the worklist, not the UID.
        ds = self.send_ct("arrive", PatientID="PID-ARRIVE", AccessionNumber=made["accession_number"])
        order = self.wait_status(made["id"], "in-progress", timeout=20)
        self.assertEqual(order["studies"][0]["study_uid"], ds.StudyInstanceUID)
        self.assertEqual(order["studies"][0]["matched_by"], "accession")
        self.wait_status(made["id"], "completed", timeout=30)
        study = self.site.bridge_study(ds.StudyInstanceUID)
        self.assertEqual(study["order"]["id"], made["id"])
        self.assertEqual(study["order"]["status"], "completed")
        listed = self.admin.get(self.url + "/bridge/studies", params={"q": made["accession_number"]},
                                timeout=30).json()["studies"]
        self.assertEqual(listed[0]["order"]["accession_number"], made["accession_number"])
        actions = [e["action"] for e in self.audit(study_uid=ds.StudyInstanceUID)]
        self.assertEqual(actions.count("order.started"), 1)
        self.assertEqual(actions.count("order.completed"), 1)
        # No longer on the worklist (only scheduled and arrived are offered).
        self.assertEqual(findscu(self.site, {"PatientID": "PID-ARRIVE"})[1], [])

    def test_a_study_without_order_is_attached_to_one(self):
        made = self.order(patient={"patient_id": "PID-RIGHT", "name": "RIGHT^RUTH", "birth_date": "1950-05-05",
                                   "sex": "F"})
        ds = self.send_ct("no-order", PatientID="PID-TYPO", PatientName="RIHGT^RUTH", AccessionNumber="")
        original = self.site.orthanc_study_id(ds.StudyInstanceUID)

        def listed():
            entries = self.admin.get(self.url + "/bridge/orders/reconciliation", timeout=30).json()["studies"]
            return [e for e in entries if e["study_uid"] == ds.StudyInstanceUID]
        entry = h.wait_until(listed, 30, message="study without order not listed")[0]
        self.assertEqual(entry["kind"], "no-accession")
        self.assertIn(made["id"], [c["id"] for c in entry["candidates"]])
        # Reception may not change images; a technician may.
        r = self.reception.post(self.url + "/bridge/orders/reconciliation/%s/attach" % original,
                                json={"order_id": made["id"]}, timeout=30)
        self.assertEqual(r.status_code, 403)
        tech = self.site.user_session("tech-%d" % (time.time_ns() % 10 ** 6), "technician")
        r = tech.post(self.url + "/bridge/orders/reconciliation/%s/attach" % original, json={"order_id": made["id"]},
                      timeout=30)
        self.assertEqual(r.status_code, 202, r.text)
        order = self.wait_status(made["id"], "completed", timeout=60)
        # The corrected study in Orthanc carries the order's identifiers, with
        # the same SOP Instance UID; the original is gone.
        copy = self.site.orthanc_study_id(made["study_uid"])
        self.assertIsNotNone(copy)
        tags = self.admin.get(self.url + "/studies/%s/instances" % copy, timeout=30).json()
        self.assertEqual(len(tags), 1)
        instance = self.admin.get(self.url + "/instances/%s/simplified-tags" % tags[0]["ID"], timeout=30).json()
        self.assertEqual(instance["AccessionNumber"], made["accession_number"])
        self.assertEqual(instance["PatientID"], "PID-RIGHT")
        self.assertEqual(instance["PatientName"], "RIGHT^RUTH")
        self.assertEqual(instance["SOPInstanceUID"], ds.SOPInstanceUID)
        self.assertEqual(self.admin.get(self.url + "/studies/" + original, timeout=30).status_code, 404)
        self.assertEqual(order["studies"][0]["study_uid"], made["study_uid"])
        entry = self.admin.get(self.url + "/bridge/orders/reconciliation", params={"status": "all"},
                               timeout=30).json()["studies"]
        entry = [e for e in entry if e["orthanc_id"] == original][0]
        self.assertEqual(entry["resolution"], "attached")
        self.assertEqual(entry["attachments"][-1]["state"], "done")
        steps = [e["detail"].get("step") for e in self.audit(action="order.reconciled")
                 if e["detail"].get("source_orthanc_id") == original]
        self.assertEqual(sorted(steps), ["done", "requested"])
        self.assertIsNone(self.site.bridge_study(ds.StudyInstanceUID))
        self.assertEqual(self.site.bridge_study(made["study_uid"])["patient_id"], "PID-RIGHT")


if __name__ == "__main__":
    unittest.main()
