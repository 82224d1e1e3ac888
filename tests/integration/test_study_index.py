"""Study index: what GET /bridge/studies shows after DICOM arrives.

The expected values are read from the DICOM files with pydicom and from
Orthanc's own REST API, never hard-coded.
"""

import datetime
import os
import re
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h

# pydicom sample files that Orthanc accepts over C-STORE (uncompressed),
# each with its own study.
SAMPLES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtdose.dcm",
           "waveform_ecg.dcm", "SC_rgb_small_odd.dcm"]

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def parse_iso(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def get_json(session, url, expect=200, **params):
    r = session.get(url, params=params, timeout=30)
    if r.status_code != expect:
        raise AssertionError("GET %s -> %d (expected %d): %s" % (r.url, r.status_code, expect, r.text[:500]))
    return r.json()


class StudyIndexTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-studyidx-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        cls.site = h.OrthancSite("study-index")
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.url = cls.site.url
        cls.admin = cls.site.admin

        # model of what the site holds: study_uid -> expected fields + modalities + counts
        cls.model = {}

        # 1. original samples over DICOM
        cls.sample_paths = [h.sample(f) for f in SAMPLES]
        h.storescu(cls.site.dicom_port, cls.sample_paths, calling_aet="TESTSCU")
        for p in cls.sample_paths:
            e = h.expected_study(p)
            e["modalities"] = {e["modality"]}
            e["series"] = 1
            e["instances"] = 1
            e["origin"] = "DicomProtocol"
            cls.model[e["study_uid"]] = e

        # 2. a multi-series study: 2 CT instances in one series + 1 MR instance
        study_uid = h.generate_uid()
        ct_series = h.generate_uid()
        ct = h.expected_study(h.sample("CT_small.dcm"))
        same_patient = dict(PatientID=ct["patient_id"], PatientName=ct["patient_name"],
                            StudyDate=h.pydicom.dcmread(h.sample("CT_small.dcm")).StudyDate,
                            StudyTime="235959", StudyDescription="Multi series study",
                            AccessionNumber="ACC-MULTI-1")
        files = [
            h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "m1.dcm"),
                           study_uid=study_uid, series_uid=ct_series, **same_patient),
            h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "m2.dcm"),
                           study_uid=study_uid, series_uid=ct_series, **same_patient),
            h.make_variant(h.sample("MR_small.dcm"), os.path.join(cls.tmp, "m3.dcm"),
                           study_uid=study_uid, new_series=True,
                           PatientSex=h.pydicom.dcmread(h.sample("CT_small.dcm")).PatientSex,
                           **same_patient),
        ]
        h.storescu(cls.site.dicom_port, files, calling_aet="MULTISCU")
        e = h.expected_study(files[0])
        e.update(modalities={"CT", "MR"}, series=2, instances=3, origin="DicomProtocol")
        cls.multi_uid = study_uid
        cls.model[study_uid] = e

        # 3. a REST upload (new study, distinctive description)
        rest_file = h.make_variant(h.sample("MR_small.dcm"), os.path.join(cls.tmp, "rest.dcm"),
                                   StudyDescription="Knee Arthro Left", PatientID="REST-PAT-1",
                                   PatientName="Restupload^Rita", StudyDate="20111111")
        r = cls.site.upload(rest_file)
        assert r.status_code == 200, "POST /instances -> %d %s" % (r.status_code, r.text)
        e = h.expected_study(rest_file)
        e.update(modalities={"MR"}, series=1, instances=1, origin="RestApi")
        cls.rest_uid = e["study_uid"]
        cls.model[cls.rest_uid] = e

        # wait until every study is indexed with its full instance count
        for uid, e in cls.model.items():
            cls.site.wait_indexed(uid, timeout=30,
                                  predicate=lambda st, n=e["instances"]: st.get("instance_count") == n)
        cls.t1 = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)

    # -- helpers -----------------------------------------------------------

    def list_all(self, **params):
        params.setdefault("limit", 500)
        return get_json(self.admin, self.url + "/bridge/studies", **params)

    def uids(self, answer):
        return [s["study_uid"] for s in answer["studies"]]

    def expect_filter(self, pred, **params):
        answer = self.list_all(**params)
        got = set(self.uids(answer))
        expected = {uid for uid, e in self.model.items() if pred(e)}
        self.assertTrue(expected, "test bug: filter %r matches nothing" % params)
        self.assertEqual(got, expected, "GET /bridge/studies?%r" % params)
        self.assertEqual(answer["total"], len(expected), "total for %r" % params)
        return answer

    # -- listing and fields --------------------------------------------------

    def test_list_has_every_study(self):
        answer = self.list_all()
        self.assertEqual(set(self.uids(answer)), set(self.model))
        self.assertEqual(answer["total"], len(self.model))
        self.assertEqual(len(self.uids(answer)), len(set(self.uids(answer))), "duplicates in list")
        self.assertEqual(answer["offset"], 0)
        self.assertEqual(answer["limit"], 500)

    def test_default_page_size(self):
        answer = get_json(self.admin, self.url + "/bridge/studies")
        self.assertEqual(answer["limit"], 50)
        self.assertEqual(answer["offset"], 0)
        self.assertEqual(len(answer["studies"]), len(self.model))

    def test_fields_match_dicom_files(self):
        listed = {s["study_uid"]: s for s in self.list_all()["studies"]}
        for uid, e in self.model.items():
            with self.subTest(study=uid, patient=e["patient_name"]):
                st = listed[uid]
                for field in ("patient_id", "patient_name", "patient_birth_date", "patient_sex",
                              "study_date", "study_time", "description", "accession_number"):
                    self.assertEqual(st.get(field), e[field], "field %s" % field)
                self.assertEqual(sorted(st["modalities"]), sorted(e["modalities"]))
                self.assertEqual(st["series_count"], e["series"])
                self.assertEqual(st["instance_count"], e["instances"])
                # GET /bridge/studies/{uid} says the same as the list
                one = self.site.bridge_study(uid)
                self.assertIsNotNone(one, "GET /bridge/studies/%s -> 404" % uid)
                self.assertEqual(one, st)

    def test_birth_date_and_accession_formatting(self):
        # waveform_ecg.dcm is the sample with a birth date and an accession number
        e = h.expected_study(h.sample("waveform_ecg.dcm"))
        self.assertRegex(e["patient_birth_date"], r"^\d{4}-\d{2}-\d{2}$", "test sample changed")
        st = self.site.bridge_study(e["study_uid"])
        self.assertEqual(st["patient_birth_date"], e["patient_birth_date"])
        self.assertEqual(st["accession_number"], e["accession_number"])
        self.assertRegex(st["study_time"], r"^\d{2}:\d{2}:\d{2}$")

    def test_orthanc_id_and_counts_match_orthanc(self):
        for uid, e in self.model.items():
            with self.subTest(study=uid):
                st = self.site.bridge_study(uid)
                oid = self.site.orthanc_study_id(uid)
                self.assertEqual(st["orthanc_id"], oid, "orthanc_id vs POST /tools/lookup")
                ostudy = get_json(self.admin, self.url + "/studies/" + oid)
                self.assertEqual(st["series_count"], len(ostudy["Series"]))
                inst = get_json(self.admin, self.url + "/studies/%s/instances" % oid)
                self.assertEqual(st["instance_count"], len(inst))
                tags = ostudy["MainDicomTags"]
                self.assertEqual(st["study_uid"], tags["StudyInstanceUID"])
                self.assertEqual(st["accession_number"], tags.get("AccessionNumber", ""))
                self.assertEqual(st["description"], tags.get("StudyDescription", ""))
                self.assertEqual(st["patient_id"], ostudy["PatientMainDicomTags"].get("PatientID", ""))

    def test_multi_series_study(self):
        st = self.site.bridge_study(self.multi_uid)
        self.assertEqual(sorted(st["modalities"]), ["CT", "MR"])
        self.assertEqual(st["series_count"], 2)
        self.assertEqual(st["instance_count"], 3)
        self.assertEqual(st["sources"][0]["aet"], "MULTISCU")

    def test_sources_dicom(self):
        for p in self.sample_paths:
            uid = h.expected_study(p)["study_uid"]
            with self.subTest(file=os.path.basename(p)):
                st = self.site.bridge_study(uid)
                self.assertTrue(st["sources"], "no source recorded")
                src = st["sources"][0]
                self.assertEqual(src["origin"], "DicomProtocol")
                self.assertEqual(src["aet"], "TESTSCU")
                self.assertEqual(src["ip"], "127.0.0.1")

    def test_source_rest_upload(self):
        st = self.site.bridge_study(self.rest_uid)
        self.assertTrue(st["sources"], "no source recorded")
        self.assertEqual(st["sources"][0]["origin"], "RestApi")

    def test_received_timestamps(self):
        for uid in self.model:
            with self.subTest(study=uid):
                st = self.site.bridge_study(uid)
                for f in ("first_received", "last_received"):
                    self.assertRegex(st[f], ISO_UTC, f)
                    self.assertTrue(self.t0 <= parse_iso(st[f]) <= self.t1,
                                    "%s=%s outside the test window %s..%s" % (f, st[f], self.t0, self.t1))
                self.assertLessEqual(parse_iso(st["first_received"]), parse_iso(st["last_received"]))

    def test_new_instance_updates_study(self):
        src = os.path.join(self.tmp, "grow1.dcm")
        h.make_variant(h.sample("CT_small.dcm"), src, PatientID="GROW-1", StudyDescription="Growing")
        uid = h.expected_study(src)["study_uid"]
        self.site.storescu([src])
        first = self.site.wait_indexed(uid, timeout=30)
        self.assertEqual(first["instance_count"], 1)
        time.sleep(1.1)  # so that last_received can move
        more = os.path.join(self.tmp, "grow2.dcm")
        h.make_variant(h.sample("CT_small.dcm"), more, study_uid=uid, new_series=True,
                       PatientID="GROW-1", StudyDescription="Growing")
        self.site.storescu([more])
        try:
            st = self.site.wait_indexed(uid, timeout=30,
                                        predicate=lambda s: s["instance_count"] == 2 and s["series_count"] == 2)
            self.assertGreater(parse_iso(st["last_received"]), parse_iso(first["last_received"]),
                               "last_received did not move when an instance arrived")
            self.assertEqual(st["first_received"], first["first_received"])
        finally:
            oid = self.site.orthanc_study_id(uid)
            if oid:
                self.admin.delete(self.url + "/studies/" + oid, timeout=30)
            h.wait_until(lambda: self.site.bridge_study(uid) is None, 30,
                         message="grown study still in index after delete")

    # -- filters ---------------------------------------------------------------

    def test_filter_patient_id(self):
        pid = h.expected_study(h.sample("rtplan.dcm"))["patient_id"]
        self.expect_filter(lambda e: e["patient_id"] == pid, patient_id=pid)

    def test_filter_patient_id_unknown(self):
        answer = self.list_all(patient_id="NO-SUCH-PATIENT-42")
        self.assertEqual(answer["studies"], [])
        self.assertEqual(answer["total"], 0)

    def test_filter_modality(self):
        self.expect_filter(lambda e: "CT" in e["modalities"], modality="CT")
        self.expect_filter(lambda e: "MR" in e["modalities"], modality="MR")
        self.expect_filter(lambda e: "RTDOSE" in e["modalities"], modality="RTDOSE")

    def test_filter_q_patient_name(self):
        name = h.expected_study(h.sample("SC_rgb_small_odd.dcm"))["patient_name"]  # Lestrade^G
        part = name.split("^")[0]
        self.expect_filter(lambda e: part in e["patient_name"] or part in e["description"], q=part)

    def test_filter_q_description(self):
        self.expect_filter(lambda e: "Arthro" in e["description"] or "Arthro" in e["patient_name"],
                           q="Arthro")

    def test_filter_q_is_case_insensitive(self):
        name = h.expected_study(h.sample("SC_rgb_small_odd.dcm"))["patient_name"]
        part = name.split("^")[0]
        self.expect_filter(lambda e: part.lower() in e["patient_name"].lower()
                           or part.lower() in e["description"].lower(), q=part.lower())

    def test_filter_dates(self):
        ct_date = h.expected_study(h.sample("CT_small.dcm"))["study_date"]
        year = ct_date[:4]
        self.expect_filter(lambda e: e["study_date"] and year + "-01-01" <= e["study_date"] <= year + "-12-31",
                           **{"from": year + "-01-01", "to": year + "-12-31"})
        # bounds are inclusive
        self.expect_filter(lambda e: e["study_date"] == ct_date, **{"from": ct_date, "to": ct_date})
        self.expect_filter(lambda e: e["study_date"] and e["study_date"] >= ct_date, **{"from": ct_date})
        self.expect_filter(lambda e: e["study_date"] and e["study_date"] <= ct_date, to=ct_date)

    def test_filters_combine(self):
        ct = h.expected_study(h.sample("CT_small.dcm"))
        self.expect_filter(lambda e: e["patient_id"] == ct["patient_id"] and "MR" in e["modalities"],
                           patient_id=ct["patient_id"], modality="MR")

    def test_malformed_dates_are_400(self):
        for param, value in (("from", "2004-13-45"), ("from", "yesterday"), ("to", "20040119x"),
                             ("to", "2004/01/19")):
            with self.subTest(param=param, value=value):
                r = self.admin.get(self.url + "/bridge/studies", params={param: value}, timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:300])
                body = r.json()
                self.assertIn("error", body)
                text = body.get("error", "") + "\n" + body.get("detail", "")
                names_it = (r"(['\"`]%s['\"`]|\b%s\s*[:=]|parameter\W+%s\b|^%s\b)"
                            % (param, param, param, param))
                self.assertRegex(text, re.compile(names_it, re.M), "error does not name the parameter %r: %r" % (param, body))

    def test_malformed_limit_is_400(self):
        for params in ({"limit": "abc"}, {"offset": "-3"}, {"limit": "-1"}):
            with self.subTest(params=params):
                r = self.admin.get(self.url + "/bridge/studies", params=params, timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:300])
                body = r.json()
                name = list(params)[0]
                self.assertIn(name, body.get("error", "") + " " + body.get("detail", ""),
                              "error does not name the parameter: %r" % body)

    # -- order and paging --------------------------------------------------------

    def test_newest_first(self):
        studies = self.list_all()["studies"]
        keys = [(s["study_date"], s["study_time"]) for s in studies if s["study_date"]]
        self.assertEqual(keys, sorted(keys, reverse=True), "not newest first: %r" % keys)
        self.assertEqual(studies[0]["study_uid"],
                         max(self.model.values(), key=lambda e: (e["study_date"], e["study_time"]))["study_uid"])

    def test_paging_is_stable(self):
        full = self.uids(self.list_all())
        pages = []
        offset = 0
        while True:
            answer = get_json(self.admin, self.url + "/bridge/studies", limit=2, offset=offset)
            self.assertEqual(answer["total"], len(full))
            self.assertEqual(answer["limit"], 2)
            self.assertEqual(answer["offset"], offset)
            self.assertLessEqual(len(answer["studies"]), 2)
            if not answer["studies"]:
                break
            pages += self.uids(answer)
            offset += 2
            self.assertLess(offset, 100, "paging never ends")
        self.assertEqual(pages, full)
        # same request twice: same answer
        a = get_json(self.admin, self.url + "/bridge/studies", limit=3, offset=1)
        b = get_json(self.admin, self.url + "/bridge/studies", limit=3, offset=1)
        self.assertEqual(self.uids(a), self.uids(b))
        self.assertEqual(self.uids(a), full[1:4])

    def test_offset_past_end(self):
        answer = get_json(self.admin, self.url + "/bridge/studies", offset=1000)
        self.assertEqual(answer["studies"], [])
        self.assertEqual(answer["total"], len(self.model))

    # -- single study, 404, delete ----------------------------------------------

    def test_unknown_uid_is_404(self):
        r = self.admin.get(self.url + "/bridge/studies/1.2.3.4.5.6.7.8.9.999999", timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:300])
        self.assertIn("error", r.json())

    def test_anonymous_cannot_list(self):
        r = h.requests.get(self.url + "/bridge/studies", timeout=30, proxies={"http": None})
        self.assertEqual(r.status_code, 403)
        self.assertNotIn(b"CompressedSamples", r.content)

    def test_delete_study_leaves_index(self):
        src = os.path.join(self.tmp, "del.dcm")
        h.make_variant(h.sample("rtdose.dcm"), src, PatientID="DEL-1", PatientName="Delete^Me")
        uid = h.expected_study(src)["study_uid"]
        self.site.storescu([src])
        self.site.wait_indexed(uid, timeout=30)
        oid = self.site.orthanc_study_id(uid)
        r = self.admin.delete(self.url + "/studies/" + oid, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        h.wait_until(lambda: self.site.bridge_study(uid) is None, 30,
                     message="deleted study still answered by GET /bridge/studies/{uid}")
        h.wait_until(lambda: uid not in self.uids(self.list_all(patient_id="DEL-1")) and
                     uid not in self.uids(self.list_all()), 10,
                     message="deleted study still in /bridge/studies")


class ReconcileTest(unittest.TestCase):
    """Changes made while the plugin was not loaded are picked up at start."""

    def test_reconcile_after_stock_orthanc(self):
        tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-reconcile-files-"))
        self.addCleanup(shutil.rmtree, tmp, True)
        a = h.make_variant(h.sample("CT_small.dcm"), os.path.join(tmp, "a.dcm"), PatientID="REC-A")
        b = h.make_variant(h.sample("MR_small.dcm"), os.path.join(tmp, "b.dcm"), PatientID="REC-B")
        c = h.make_variant(h.sample("rtplan.dcm"), os.path.join(tmp, "c.dcm"), PatientID="REC-C")
        ua, ub, uc = (h.expected_study(p)["study_uid"] for p in (a, b, c))

        with h.OrthancSite("reconcile") as site:
            site.storescu([a, b])
            site.wait_indexed(ua, timeout=30)
            site.wait_indexed(ub, timeout=30)

            # plugin absent: add C, delete B
            site.restart(plugin=False)
            r = site.session().get(site.url + "/bridge/studies", timeout=10)
            self.assertNotEqual(r.status_code, 200, "stock Orthanc should not answer /bridge")
            site.storescu([c], calling_aet="OFFLINESCU")
            stock = site.session()
            ids = stock.post(site.url + "/tools/lookup", data=ub, timeout=30).json()
            self.assertEqual(len(ids), 1, ids)
            self.assertEqual(stock.delete(site.url + "/studies/" + ids[0]["ID"], timeout=30).status_code, 200)
            oid_c = stock.post(site.url + "/tools/lookup", data=uc, timeout=30).json()[0]["ID"]

            # plugin back
            site.restart(plugin=True)
            st = site.wait_indexed(uc, timeout=60)
            self.assertEqual(st["orthanc_id"], oid_c)
            self.assertEqual(st["patient_id"], "REC-C")
            self.assertEqual(st["instance_count"], 1)
            self.assertEqual(st["modalities"], [h.expected_study(c)["modality"]])
            h.wait_until(lambda: site.bridge_study(ub) is None, 60,
                         message="study deleted while the plugin was absent is still indexed")
            self.assertIsNotNone(site.bridge_study(ua), "untouched study lost by reconcile")
            listed = {s["study_uid"] for s in site.admin.get(site.url + "/bridge/studies",
                                                              timeout=30).json()["studies"]}
            self.assertEqual(listed, {ua, uc})
            system = site.admin.get(site.url + "/bridge/system", timeout=30).json()
            self.assertEqual(system["index"]["studies"], 2)
            self.assertRegex(system["index"].get("last_reconcile") or "", r"^\d{4}-\d{2}-\d{2}T.*Z$")


if __name__ == "__main__":
    unittest.main()
