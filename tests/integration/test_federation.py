"""Federation: three real Orthanc + HospitalBridge sites wired as peers.

Each site is a real /usr/sbin/Orthanc with the plugin, on its own loopback
ports. Site A (HOS-001) knows B and C through Orthanc's "OrthancPeers", with
per-peer credentials; B and C have a HospitalBridge user "hos-001" with role
peer, and so on for every pair. DICOM is generated with pydicom and sent with
storescu. The tests look at what staff see: /bridge/federation/query,
/bridge/federation/retrieve, /bridge/patients, /bridge/sites, and at what
each Orthanc really stores.

A tiny HTTP server that answers garbage stands in for a broken peer.
"""

import hashlib
import http.server
import json
import os
import shutil
import signal
import tempfile
import threading
import time
import unittest

import orthanc_harness as h

TIMEOUT_MS = 1500                       # Federation.PeerTimeoutMs of every site
MAX_ANSWER_S = TIMEOUT_MS / 1000.0 + 1.0  # a query answers within the timeout + 1 s

A_ID, B_ID, C_ID = "HOS-001", "HOS-002", "HOS-003"
NAMES = {A_ID: "General Hospital", B_ID: "St. Mary Clinic", C_ID: "Regional Imaging Centre"}

# patients (PatientID = national ID unless said otherwise)
P1 = {"PatientID": "199012345678901234", "PatientName": "NKOSI^THANDI",
      "PatientBirthDate": "19901203", "PatientSex": "F"}       # at A, B and C
P2 = {"PatientID": "198507224455667788", "PatientName": "MOKOENA^SIPHO",
      "PatientBirthDate": "19850722", "PatientSex": "M"}       # at B only (retrieved by A)
P3_NATIONAL = "197203150011223344"
P3 = {"PatientID": P3_NATIONAL, "PatientName": "VAN DER MERWE^ANNA",
      "PatientBirthDate": "19720315", "PatientSex": "F"}       # at A (national ID) ...
P3_LOCAL_B = "SMC-000731"
P3_AT_B = dict(P3, PatientID=P3_LOCAL_B)                       # ... and at B under a hospital number
P5_AT_B = {"PatientID": "SMC-999001", "PatientName": "LOCALONLY^PIETER",
           "PatientBirthDate": "19600101", "PatientSex": "M"}  # at B, never linked
UNKNOWN_NATIONAL = "000000000000424242"

OK = "ok"


def site_config(site_id, extra=None):
    cfg = {"HospitalBridge": {
        "Site": {"Id": site_id, "Name": NAMES[site_id]},
        "Modules": {"StudyIndex": True, "WebApp": True, "Registry": True, "Federation": True},
        "Registry": {"NationalId": {"Source": "PatientID", "Pattern": "^[0-9]{6,20}$"}},
        "Federation": {"PeerTimeoutMs": TIMEOUT_MS},
        # every peer call comes from 127.0.0.1: the deliberate failures
        # (wrong peer password) must not lock the address out
        "Security": {"LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}},
    }}
    return h.deep_merge(cfg, extra or {})


class Study(object):
    """A generated study: its files and what a user should see of it."""

    def __init__(self, tmp, label, patient, date, description, series):
        """series: list of (modality, number of instances)."""
        self.uid = h.generate_uid()
        self.label = label
        self.patient = patient
        self.date = "%s-%s-%s" % (date[0:4], date[4:6], date[6:8])
        self.time = "10:15:00"
        self.description = description
        self.accession = "ACC-" + label.upper()
        self.modalities = []
        self.files = []
        for modality, count in series:
            series_uid = h.generate_uid()
            base = h.sample("MR_small.dcm" if modality == "MR" else "CT_small.dcm")
            if modality not in self.modalities:
                self.modalities.append(modality)
            for i in range(count):
                path = os.path.join(tmp, "%s-%s-%d.dcm" % (label, series_uid[-6:], i))
                h.make_variant(base, path, study_uid=self.uid, series_uid=series_uid,
                               StudyDate=date, StudyTime="101500", StudyDescription=description,
                               AccessionNumber=self.accession, Modality=modality, **patient)
                self.files.append(path)
        self.series_count = len(series)
        self.instance_count = len(self.files)


class JunkPeer(object):
    """An HTTP server posing as a peer: answers 200 with garbage.
    URL prefixes choose the garbage: /text/ (not JSON), /huge/ (valid JSON
    of the right shape, far larger than Federation.MaxAnswerKilobytes'
    default 8 MB), /shape/ (JSON of the wrong shape)."""

    def __init__(self):
        self.hits = {"text": 0, "huge": 0, "shape": 0}
        studies = [{"study_uid": "1.2.826.0.1.3680043.99.%d" % i, "date": "2020-01-01",
                    "time": "10:00:00", "modality": "CT", "modalities": ["CT"],
                    "description": "x" * 200, "accession_number": "", "series_count": 1,
                    "instance_count": 1} for i in range(45000)]
        self.huge = json.dumps({"site": {"id": "JUNK", "name": "Junk"}, "patient": None,
                                "studies": studies}).encode()
        junk = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                mode = self.path.strip("/").split("/")[0]
                if mode in junk.hits:
                    junk.hits[mode] += 1
                body = {"text": b"not json", "huge": junk.huge,
                        "shape": b'{"site": "nope", "studies": {"a": 1}, "patient": 7}'}.get(mode, b"?")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, mode):
        return "http://127.0.0.1:%d/%s/" % (self.port, mode)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def hospitals_count(answer):
    v = answer.get("hospitals_accessed")
    return len(v) if isinstance(v, list) else v


def sop_and_digest(site, study_uid):
    """[(SOPInstanceUID, sha256 of the stored file)] of a study as the
    site's Orthanc holds it, sorted (a duplicate would show twice)."""
    oid = site.orthanc_study_id(study_uid)
    if oid is None:
        return []
    r = site.admin.get(site.url + "/studies/%s/instances" % oid, timeout=30)
    r.raise_for_status()
    out = []
    for inst in r.json():
        f = site.admin.get(site.url + "/instances/%s/file" % inst["ID"], timeout=30)
        f.raise_for_status()
        out.append((inst["MainDicomTags"]["SOPInstanceUID"], hashlib.sha256(f.content).hexdigest()))
    return sorted(out)


class FederationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-federation-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.junk = JunkPeer()
        cls.addClassCleanup(cls.junk.close)

        junk_peers = {"OrthancPeers": {"junk-text": {"Url": cls.junk.url("text")},
                                       "junk-huge": {"Url": cls.junk.url("huge")},
                                       "junk-shape": {"Url": cls.junk.url("shape")}}}
        cls.A = h.OrthancSite("fed-a", extra_config=site_config(A_ID, junk_peers))
        cls.B = h.OrthancSite("fed-b", extra_config=site_config(B_ID))
        cls.C = h.OrthancSite("fed-c", extra_config=site_config(C_ID))
        for s in (cls.A, cls.B, cls.C):
            cls.addClassCleanup(s.close)
        cls.fed = h.federate([cls.A, cls.B, cls.C])
        A, B, C = cls.A, cls.B, cls.C

        # staff accounts
        def pw():
            return "Fed-Staff-Pw-" + h.generate_uid()[-10:]
        cls.rad_a = A.user_session("dr_amara", "radiologist", pw())
        cls.rec_a = A.user_session("desk_a", "reception", pw())
        cls.rec_b = B.user_session("desk_b", "reception", pw())

        T = cls.tmp
        # P1 everywhere; S1ab stored at A and at B (same files, same UIDs)
        cls.s1a = Study(T, "s1a", P1, "20240110", "CT chest", [("CT", 2)])
        cls.s1b = Study(T, "s1b", P1, "20240602", "MR brain", [("MR", 1)])
        cls.s1c = Study(T, "s1c", P1, "20231120", "CR abdomen", [("CR", 1)])
        cls.s1ab = Study(T, "s1ab", P1, "20210505", "CT sinus", [("CT", 1)])
        # P2 at B only: two series, three instances
        cls.s2 = Study(T, "s2", P2, "20220808", "Trauma series", [("CT", 2), ("MR", 1)])
        # P3 at A (national ID) and at B (hospital number)
        cls.s3a = Study(T, "s3a", P3, "20230301", "CT thorax", [("CT", 1)])
        cls.s3b = Study(T, "s3b", P3_AT_B, "20230415", "MR knee", [("MR", 1)])
        # a patient of B who has no national ID
        cls.s5 = Study(T, "s5", P5_AT_B, "20230505", "MR spine", [("MR", 1)])

        cls.held = {A: [cls.s1a, cls.s1ab, cls.s3a],
                    B: [cls.s1b, cls.s1ab, cls.s2, cls.s3b, cls.s5],
                    C: [cls.s1c]}
        for site, studies in cls.held.items():
            site.storescu([f for st in studies for f in st.files])
        for site, studies in cls.held.items():
            for st in studies:
                site.wait_indexed(st.uid, timeout=30,
                                  predicate=lambda x, st=st: x["instance_count"] == st.instance_count)
        for site in cls.held:
            site.wait_idle(timeout=30)

    # -- helpers ---------------------------------------------------------------

    def query(self, site=None, session=None, expect=200, **params):
        """GET /bridge/federation/query; (answer, seconds)."""
        site = site or self.A
        session = session or (self.rad_a if site is self.A else site.admin)
        t0 = time.monotonic()
        r = session.get(site.url + "/bridge/federation/query", params=params, timeout=60)
        elapsed = time.monotonic() - t0
        if expect is not None and r.status_code != expect:
            raise AssertionError("GET %s -> %d (expected %d): %s"
                                 % (r.url, r.status_code, expect, r.text[:1000]))
        return (r.json() if expect == 200 else r), elapsed

    def query_until(self, uids, statuses=None, site=None, timeout=30, **params):
        """Repeat the query until it lists exactly `uids` (a set) and, if
        given, the sites have `statuses` ({site_id: status}): the index and
        the registry are filled a moment after DICOM arrives."""
        def probe():
            ans, elapsed = self.query(site=site, **params)
            got = {s["study_uid"] for s in ans["studies"]}
            st = {s["id"]: s["status"] for s in ans["sites"]}
            if got != uids or (statuses and any(st.get(k) != v for k, v in statuses.items())):
                raise AssertionError("studies %s, sites %s" % (sorted(got), st))
            return ans, elapsed
        return h.wait_until(probe, timeout, interval=0.3,
                            message="federation query %r never listed %s" % (params, sorted(uids)))

    def sites_of(self, answer):
        return {s["id"]: s for s in answer["sites"]}

    def assert_site_failed(self, answer, site_id, statuses):
        s = self.sites_of(answer)[site_id]
        self.assertIn(s["status"], statuses, s)
        self.assertEqual(s["name"], NAMES.get(site_id, s["name"]))
        self.assertIsInstance(s.get("detail"), str, s)
        self.assertTrue(s["detail"].strip(), "a failed site should say why: %r" % s)

    def assert_p1_without_c(self, answer):
        """P1 as seen at A while C does not answer."""
        uids = [s["study_uid"] for s in answer["studies"]]
        self.assertEqual(sorted(uids), sorted([self.s1a.uid, self.s1b.uid, self.s1ab.uid]))
        self.assertEqual(answer["total_studies"], 3)
        self.assertEqual(hospitals_count(answer), 2)
        sites = self.sites_of(answer)
        self.assertEqual(sites[A_ID]["status"], OK)
        self.assertEqual(sites[B_ID]["status"], OK)

    def wait_all_ok(self):
        """After a failure test: the federation is whole again."""
        self.query_until({self.s1a.uid, self.s1b.uid, self.s1c.uid, self.s1ab.uid},
                         statuses={A_ID: OK, B_ID: OK, C_ID: OK}, national_id=P1["PatientID"])

    # -- the query ---------------------------------------------------------------

    def test_query_lists_studies_of_every_site(self):
        all_uids = {self.s1a.uid, self.s1b.uid, self.s1c.uid, self.s1ab.uid}
        ans, elapsed = self.query_until(all_uids, statuses={A_ID: OK, B_ID: OK, C_ID: OK},
                                        national_id=P1["PatientID"])
        self.assertLess(elapsed, MAX_ANSWER_S)

        # the shared study is listed once
        self.assertEqual(len(ans["studies"]), 4, [s["study_uid"] for s in ans["studies"]])
        self.assertEqual(ans["total_studies"], 4)
        self.assertEqual(hospitals_count(ans), 3)

        p = ans["patient"]
        self.assertIsNotNone(p)
        self.assertEqual(p["national_id"], P1["PatientID"])
        self.assertEqual((p["last_name"], p["first_name"]), ("NKOSI", "THANDI"))
        self.assertEqual(p["date_of_birth"], "1990-12-03")
        self.assertEqual(p["gender"], "F")
        self.assertTrue(p["id"].startswith("PAT-"), p)

        sites = self.sites_of(ans)
        self.assertEqual(set(sites), {A_ID, B_ID, C_ID})
        self.assertEqual(ans["sites"][0]["id"], A_ID, "this site first")
        for sid, count in ((A_ID, 2), (B_ID, 2), (C_ID, 1)):
            with self.subTest(site=sid):
                self.assertEqual(sites[sid]["name"], NAMES[sid])
                self.assertEqual(sites[sid]["status"], OK)
                self.assertEqual(sites[sid]["count"], count)
                self.assertIsInstance(sites[sid]["latency_ms"], (int, float))
                self.assertGreaterEqual(sites[sid]["latency_ms"], 0)

        by_uid = {s["study_uid"]: s for s in ans["studies"]}
        expected = [(self.s1a, [A_ID]), (self.s1b, [B_ID]), (self.s1c, [C_ID]), (self.s1ab, [A_ID, B_ID])]
        for st, where in expected:
            with self.subTest(study=st.label):
                got = by_uid[st.uid]
                self.assertEqual(sorted(x["id"] for x in got["sites"]), sorted(where))
                for x in got["sites"]:
                    self.assertEqual(x["name"], NAMES[x["id"]])
                self.assertIn(got["site_id"], where)
                self.assertEqual(got["site_name"], NAMES[got["site_id"]])
                self.assertEqual(got["local"], A_ID in where)
                self.assertEqual(got["date"], st.date)
                self.assertEqual(got["time"], st.time)
                self.assertEqual(got["description"], st.description)
                self.assertEqual(got["accession_number"], st.accession)
                self.assertEqual(got["modality"], st.modalities[0])
                self.assertEqual(sorted(got["modalities"]), sorted(st.modalities))
                self.assertEqual(got["series_count"], st.series_count)
                self.assertEqual(got["instance_count"], st.instance_count)
        # newest first
        self.assertEqual([s["study_uid"] for s in ans["studies"]],
                         [self.s1b.uid, self.s1a.uid, self.s1c.uid, self.s1ab.uid])

    def test_query_by_registry_id_and_local_patient_id(self):
        ans, _ = self.query_until({self.s1a.uid, self.s1b.uid, self.s1c.uid, self.s1ab.uid},
                                  national_id=P1["PatientID"])
        pat_id = ans["patient"]["id"]
        for params in ({"patient_id": pat_id}, {"local_patient_id": P1["PatientID"]}):
            with self.subTest(params=params):
                got, _ = self.query(**params)
                self.assertEqual(got["patient"]["id"], pat_id)
                self.assertEqual(got["patient"]["national_id"], P1["PatientID"])
                self.assertEqual(sorted(s["study_uid"] for s in got["studies"]),
                                 sorted(s["study_uid"] for s in ans["studies"]))
                self.assertEqual(got["total_studies"], 4)

    def test_unknown_national_id_is_empty(self):
        ans, elapsed = self.query(national_id=UNKNOWN_NATIONAL)
        self.assertEqual(ans["studies"], [])
        self.assertEqual(ans["total_studies"], 0)
        self.assertIsNone(ans["patient"])
        self.assertEqual({s["id"]: s["status"] for s in ans["sites"]}, {A_ID: OK, B_ID: OK, C_ID: OK})
        self.assertEqual(hospitals_count(ans), 3)
        self.assertLess(elapsed, MAX_ANSWER_S)

    def test_bad_parameters_are_400_naming_them(self):
        cases = [({}, "national_id"),
                 ({"national_id": ""}, "national_id"),
                 ({"national_id": "12ab'; DROP TABLE patients"}, "national_id"),
                 ({"patient_id": "PAT-'; DROP"}, "patient_id"),
                 ({"nationalid": P1["PatientID"]}, "nationalid")]
        for params, name in cases:
            with self.subTest(params=params):
                r, _ = self.query(expect=400, **params)
                body = r.json()
                self.assertIn("error", body)
                self.assertIn(name, body.get("detail", "") + " " + body["error"])

    # -- peers that do not answer well ------------------------------------------

    def test_stopped_peer_gives_partial_answer(self):
        self.C.stop()
        try:
            ans, elapsed = self.query(national_id=P1["PatientID"])
            self.assertLess(elapsed, MAX_ANSWER_S)
            self.assert_p1_without_c(ans)
            self.assert_site_failed(ans, C_ID, ("error", "timeout"))
        finally:
            self.C.start()
        self.wait_all_ok()

    def test_frozen_peer_times_out(self):
        # SIGSTOP: the kernel still accepts the TCP connection, nobody answers
        pid = self.C.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            ans, elapsed = self.query(national_id=P1["PatientID"])
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertLess(elapsed, MAX_ANSWER_S)
        self.assert_p1_without_c(ans)
        self.assert_site_failed(ans, C_ID, ("timeout",))
        self.wait_all_ok()

    def test_wrong_peer_credentials_are_unauthorized(self):
        # C changes the password of A's peer account; A still sends the old one
        user, old_pw = self.fed.credentials[(A_ID, C_ID)]
        r = self.C.admin.put(self.C.url + "/bridge/users/" + user,
                             json={"password": "Rotated-Peer-Secret-" + h.generate_uid()[-8:]}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        try:
            ans, elapsed = self.query(national_id=P1["PatientID"])
            self.assertLess(elapsed, MAX_ANSWER_S)
            self.assert_p1_without_c(ans)
            self.assert_site_failed(ans, C_ID, ("unauthorized",))
        finally:
            r = self.C.admin.put(self.C.url + "/bridge/users/" + user, json={"password": old_pw}, timeout=30)
            self.assertEqual(r.status_code, 200, r.text)
        self.wait_all_ok()

    def test_garbage_peer_is_an_error(self):
        junk_sites = {"JUNK-TEXT": "junk-text", "JUNK-HUGE": "junk-huge", "JUNK-SHAPE": "junk-shape"}
        for sid, peer in junk_sites.items():
            r = self.A.admin.post(self.A.url + "/bridge/sites", timeout=30,
                                  json={"id": sid, "name": "Broken " + peer, "orthanc_peer": peer})
            self.assertIn(r.status_code, (200, 201), r.text)
            self.addCleanup(self.A.admin.delete, self.A.url + "/bridge/sites/" + sid, timeout=30)
        before = dict(self.junk.hits)
        ans, elapsed = self.query(national_id=P1["PatientID"])
        self.assertLess(elapsed, MAX_ANSWER_S)
        for sid, peer in junk_sites.items():
            with self.subTest(site=sid):
                self.assertGreater(self.junk.hits[peer[5:]], before[peer[5:]], "%s was never asked" % sid)
                self.assert_site_failed(ans, sid, ("error",))
        sites = self.sites_of(ans)
        for sid in (A_ID, B_ID, C_ID):
            self.assertEqual(sites[sid]["status"], OK, sites[sid])
        self.assertEqual(sorted(s["study_uid"] for s in ans["studies"]),
                         sorted([self.s1a.uid, self.s1b.uid, self.s1c.uid, self.s1ab.uid]))
        self.assertEqual(ans["total_studies"], 4)
        self.assertEqual(hospitals_count(ans), 3)
        self.assertNotIn("1.2.826.0.1.3680043.99.", json.dumps(ans))

        for sid in junk_sites:
            r = self.A.admin.delete(self.A.url + "/bridge/sites/" + sid, timeout=30)
            self.assertIn(r.status_code, (200, 204), r.text)
        listed = {s["id"] for s in self.A.admin.get(self.A.url + "/bridge/sites", timeout=30).json()["sites"]}
        self.assertEqual(listed, {A_ID, B_ID, C_ID})

    # -- sites ------------------------------------------------------------------------

    def test_sites_registration(self):
        r = self.A.admin.get(self.A.url + "/bridge/sites", timeout=30)
        self.assertEqual(r.status_code, 200, r.text)
        sites = r.json()["sites"]
        self.assertEqual(sites[0]["id"], A_ID)
        self.assertTrue(sites[0]["local"])
        self.assertEqual(sites[0]["name"], NAMES[A_ID])
        by_id = {s["id"]: s for s in sites}
        for sid in (B_ID, C_ID):
            self.assertFalse(by_id[sid]["local"])
            self.assertEqual(by_id[sid]["orthanc_peer"], h.peer_name(sid))
            self.assertEqual(by_id[sid]["name"], NAMES[sid])

        # a peer Orthanc does not know
        r = self.A.admin.post(self.A.url + "/bridge/sites", timeout=30, json={
            "id": "HOS-404", "name": "Nowhere Clinic", "orthanc_peer": "no-such-peer"})
        self.assertEqual(r.status_code, 400, r.text)
        body = r.json()
        text = body["error"] + " " + body.get("detail", "")
        self.assertIn("no-such-peer", text)
        self.assertIn("peer", body["error"].lower())
        # a bad id, an id already taken
        r = self.A.admin.post(self.A.url + "/bridge/sites", timeout=30,
                              json={"id": "bad id!", "name": "X"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("id", r.json().get("detail", "") + r.json()["error"])
        r = self.A.admin.post(self.A.url + "/bridge/sites", timeout=30,
                              json={"id": B_ID, "name": "Again", "orthanc_peer": h.peer_name(B_ID)})
        self.assertEqual(r.status_code, 409, r.text)
        # none of them was registered; reception may not register sites
        r = self.rec_a.post(self.A.url + "/bridge/sites", timeout=30, json={"id": "HOS-REC", "name": "Rec"})
        self.assertEqual(r.status_code, 403, r.text)
        listed = {s["id"]: s for s in self.rec_a.get(self.A.url + "/bridge/sites", timeout=30).json()["sites"]}
        self.assertEqual(set(listed), {A_ID, B_ID, C_ID})
        self.assertEqual(listed[B_ID]["name"], NAMES[B_ID])

    # -- who may call what ---------------------------------------------------------------

    def test_peer_routes_are_for_peers_only(self):
        national = P1["PatientID"]
        v1 = self.A.url + "/bridge/federation/v1/studies"
        for who, s in (("admin", self.A.admin), ("radiologist", self.rad_a), ("reception", self.rec_a)):
            with self.subTest(user=who):
                r = s.get(v1, params={"national_id": national}, timeout=30)
                self.assertEqual(r.status_code, 403, r.text[:300])
                self.assertNotIn(self.s1a.uid, r.text)

        peer_at_a = self.fed.peer_session(B_ID, self.A)   # B's account at A
        for path in ("/bridge/federation/query?national_id=" + national, "/bridge/studies",
                     "/bridge/patients", "/bridge/sites", "/studies", "/patients", "/bridge/system"):
            with self.subTest(peer_path=path):
                r = peer_at_a.get(self.A.url + path, timeout=30)
                self.assertEqual(r.status_code, 403, r.text[:300])
                self.assertNotIn(self.s1a.uid, r.text)
        r = peer_at_a.post(self.A.url + "/bridge/federation/retrieve", timeout=30,
                           json={"site": B_ID, "study_uid": self.s2.uid})
        self.assertEqual(r.status_code, 403, r.text[:300])

        # what a peer does see
        r = peer_at_a.get(v1, params={"national_id": national}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:500])
        ans = r.json()
        self.assertEqual(ans["site"], {"id": A_ID, "name": NAMES[A_ID]})
        self.assertEqual(ans["patient"]["national_id"], national)
        self.assertEqual(sorted(s["study_uid"] for s in ans["studies"]), sorted([self.s1a.uid, self.s1ab.uid]))
        one = {s["study_uid"]: s for s in ans["studies"]}[self.s1a.uid]
        self.assertEqual((one["date"], one["modality"], one["description"], one["series_count"],
                          one["instance_count"]), (self.s1a.date, "CT", "CT chest", 1, 2))
        r = peer_at_a.get(v1, timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertIn("national_id", r.json().get("detail", "") + r.json()["error"])

        # files: only of studies the peer route lists
        peer_at_b = self.fed.peer_session(A_ID, self.B)
        r = peer_at_b.get(self.B.url + "/bridge/federation/v1/studies/%s/instances" % self.s1b.uid,
                          params={"national_id": national}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:500])
        inst = r.json()["instances"]
        self.assertEqual(len(inst), 1)
        f = peer_at_b.get(self.B.url + "/bridge/federation/v1/instances/%s/file" % inst[0]["id"], timeout=30)
        self.assertEqual(f.status_code, 200, f.text[:300])
        path = os.path.join(self.tmp, "peer-fetched.dcm")
        with open(path, "wb") as out:
            out.write(f.content)
        self.assertEqual(str(h.pydicom.dcmread(path).SOPInstanceUID), inst[0]["sop_instance_uid"])
        self.assertEqual(inst[0]["sop_instance_uid"], h.expected_study(self.s1b.files[0])["sop_uid"])

        # a study of another patient under P1's national ID, and a patient without national ID
        r = peer_at_b.get(self.B.url + "/bridge/federation/v1/studies/%s/instances" % self.s5.uid,
                          params={"national_id": national}, timeout=30)
        self.assertTrue(r.status_code in (403, 404) or (r.status_code == 200 and r.json()["instances"] == []),
                        "%d %s" % (r.status_code, r.text[:300]))
        s5_orthanc = self.B.orthanc_study_id(self.s5.uid)
        s5_inst = self.B.admin.get(self.B.url + "/studies/%s/instances" % s5_orthanc, timeout=30).json()[0]["ID"]
        r = peer_at_b.get(self.B.url + "/bridge/federation/v1/instances/%s/file" % s5_inst, timeout=30)
        self.assertIn(r.status_code, (403, 404), r.text[:300])
        self.assertNotIn(b"DICM", r.content[:200])

    # -- retrieve --------------------------------------------------------------------------

    def wait_job(self, job_id, timeout=60):
        def probe():
            r = self.rad_a.get(self.A.url + "/bridge/federation/retrieve/" + job_id, timeout=30)
            if r.status_code != 200:
                raise AssertionError("%d %s" % (r.status_code, r.text[:300]))
            j = r.json()
            return j if j["state"] in ("succeeded", "failed") else None
        return h.wait_until(probe, timeout, interval=0.3, message="retrieve job %s never ended" % job_id)

    def retrieve(self, site_id, study_uid):
        r = self.rad_a.post(self.A.url + "/bridge/federation/retrieve", timeout=30,
                            json={"site": site_id, "study_uid": study_uid})
        self.assertIn(r.status_code, (200, 201, 202), r.text[:500])
        job = r.json()
        self.assertEqual((job["site"], job["study_uid"]), (site_id, study_uid))
        self.assertIn(job["state"], ("pending", "running", "succeeded"))
        return self.wait_job(job["job_id"])

    def test_retrieve_copies_the_study_once(self):
        s2 = self.s2
        # the user finds the study first
        ans, _ = self.query_until({s2.uid}, national_id=P2["PatientID"])
        listed = ans["studies"][0]
        self.assertEqual((listed["site_id"], listed["local"]), (B_ID, False))
        self.assertIsNone(self.A.orthanc_study_id(s2.uid))

        # reception may look but not retrieve
        r = self.rec_a.post(self.A.url + "/bridge/federation/retrieve", timeout=30,
                            json={"site": B_ID, "study_uid": s2.uid})
        self.assertEqual(r.status_code, 403, r.text[:300])

        job = self.retrieve(B_ID, s2.uid)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["instances_total"], 3, job)
        self.assertEqual(job["instances_done"], 3, job)
        self.assertEqual(job["instances_skipped"], 0, job)
        self.assertIn(job["error"], ("", None), job)

        at_b = sop_and_digest(self.B, s2.uid)
        self.assertEqual(len(at_b), 3)
        self.assertEqual(sop_and_digest(self.A, s2.uid), at_b)
        self.assertEqual(sorted(x[0] for x in at_b), sorted(h.expected_study(f)["sop_uid"] for f in s2.files))

        st = self.A.wait_indexed(s2.uid, timeout=30, predicate=lambda x: x["instance_count"] == 3)
        self.assertEqual(st["origin_site"], B_ID)
        self.assertEqual((st["series_count"], sorted(st["modalities"])), (2, ["CT", "MR"]))
        self.assertEqual(self.A.bridge_study(self.s1a.uid)["origin_site"], "")

        # again: nothing new
        job2 = self.retrieve(B_ID, s2.uid)
        self.assertNotEqual(job2["job_id"], job["job_id"])
        self.assertEqual(job2["state"], "succeeded", job2)
        self.assertEqual(job2["instances_total"], 3, job2)
        self.assertEqual(job2["instances_skipped"], 3, job2)
        self.assertEqual(sop_and_digest(self.A, s2.uid), at_b)
        lookup = self.A.admin.post(self.A.url + "/tools/lookup", data=s2.uid, timeout=30).json()
        self.assertEqual(len([x for x in lookup if x["Type"] == "Study"]), 1)
        self.A.wait_idle()
        self.assertEqual(self.A.bridge_study(s2.uid)["instance_count"], 3)

        jobs = self.rad_a.get(self.A.url + "/bridge/federation/retrieve", timeout=30).json()["jobs"]
        self.assertEqual([j["job_id"] for j in jobs[:2]], [job2["job_id"], job["job_id"]])

        # now listed once, held at A and B
        ans, _ = self.query_until({s2.uid}, national_id=P2["PatientID"])
        one = ans["studies"][0]
        self.assertEqual(sorted(x["id"] for x in one["sites"]), [A_ID, B_ID])
        self.assertTrue(one["local"])

        # bad requests
        r = self.rad_a.post(self.A.url + "/bridge/federation/retrieve", json={"site": B_ID}, timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertIn("study_uid", r.json().get("detail", "") + r.json()["error"])
        r = self.rad_a.post(self.A.url + "/bridge/federation/retrieve", timeout=30,
                            json={"site": "HOS-NOPE", "study_uid": s2.uid})
        self.assertIn(r.status_code, (400, 404), r.text[:300])
        self.assertIn("HOS-NOPE", r.text)

    # -- one person, two identifiers -------------------------------------------------------

    def test_linked_local_patient_id_joins_the_federation(self):
        s3a, s3b = self.s3a, self.s3b
        # before linking: B knows the study only under its hospital number
        self.query_until({s3a.uid}, statuses={A_ID: OK, B_ID: OK, C_ID: OK}, national_id=P3_NATIONAL)

        def unlinked_at_b():
            r = self.rec_b.get(self.B.url + "/bridge/patients", params={"status": "unlinked"}, timeout=30)
            r.raise_for_status()
            for p in r.json()["patients"]:
                if any(i["site_id"] == B_ID and i["patient_id"] == P3_LOCAL_B for i in p["identifiers"]):
                    return p
            return None
        unlinked = h.wait_until(unlinked_at_b, 20, message="no unlinked entry for %s at B" % P3_LOCAL_B)
        self.assertEqual(unlinked["national_id"], "")
        self.assertEqual((unlinked["last_name"], unlinked["first_name"]), ("VAN DER MERWE", "ANNA"))

        # B's staff register the person with the national ID and merge the entry in
        r = self.rec_b.post(self.B.url + "/bridge/patients", timeout=30, json={
            "national_id": P3_NATIONAL, "first_name": "ANNA", "last_name": "VAN DER MERWE",
            "date_of_birth": "1972-03-15", "gender": "F"})
        self.assertIn(r.status_code, (200, 201), r.text[:500])
        registered = r.json()
        r = self.rec_b.post(self.B.url + "/bridge/patients/%s/merge" % registered["id"], timeout=30,
                            json={"from": unlinked["id"], "reason": "hospital number %s is this person" % P3_LOCAL_B})
        self.assertEqual(r.status_code, 200, r.text[:500])
        survivor = r.json()
        self.assertEqual(survivor["id"], registered["id"])
        self.assertIn((B_ID, P3_LOCAL_B), [(i["site_id"], i["patient_id"]) for i in survivor["identifiers"]])

        r = self.rec_b.get(self.B.url + "/bridge/patients/" + unlinked["id"], timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json()["merged_into"], registered["id"])
        self.assertEqual(r.json()["identifiers"], [])
        r = self.rec_b.get(self.B.url + "/bridge/patients", params={"national_id": P3_NATIONAL}, timeout=30)
        live = [p for p in r.json()["patients"] if not p.get("merged_into")]
        self.assertEqual([p["id"] for p in live], [registered["id"]])
        detail = self.rec_b.get(self.B.url + "/bridge/patients/" + registered["id"], timeout=30).json()
        self.assertIn(s3b.uid, [s["study_uid"] for s in detail["studies"]])

        # A now finds both hospitals' studies
        ans, _ = self.query_until({s3a.uid, s3b.uid}, national_id=P3_NATIONAL)
        by_uid = {s["study_uid"]: s for s in ans["studies"]}
        self.assertEqual((by_uid[s3b.uid]["site_id"], by_uid[s3b.uid]["site_name"]), (B_ID, NAMES[B_ID]))
        self.assertEqual(by_uid[s3a.uid]["site_id"], A_ID)
        self.assertEqual(ans["total_studies"], 2)
        # and B, asked by its own hospital number, finds A's study too
        ans_b, _ = self.query_until({s3a.uid, s3b.uid}, site=self.B, local_patient_id=P3_LOCAL_B)
        self.assertEqual(ans_b["patient"]["national_id"], P3_NATIONAL)
        self.assertEqual(ans_b["patient"]["id"], registered["id"])


if __name__ == "__main__":
    unittest.main()
