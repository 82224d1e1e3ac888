"""The holes an outside attack found, each tried again against a real Orthanc:
guessing limits under truly simultaneous requests, the timing of unknown user
names, one path form for the gate and the audit, bodies and DICOM files that
would crash Orthanc 1.10.1, method overrides from another origin, names and
bytes that would forge log lines or break the audit exports, and reads of
study data that left no trace."""

import http.client
import io
import json
import os
import re
import secrets
import shutil
import statistics
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET
import zipfile

import orthanc_harness as h

ADMIN = (h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)


def nested_dicom(path, depth, patient_id="NEST-1"):
    """A small valid SR instance whose ContentSequence nests `depth` levels."""
    import sys
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    ds = Dataset()
    ds.PatientID = patient_id
    ds.PatientName = "NEST^DEEP"
    ds.StudyInstanceUID = h.generate_uid()
    ds.SeriesInstanceUID = h.generate_uid()
    ds.SOPInstanceUID = h.generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.Modality = "SR"
    inner = Dataset()
    inner.TextValue = "leaf"
    for _ in range(depth):
        outer = Dataset()
        outer.ContentSequence = [inner]
        inner = outer
    ds.ContentSequence = inner.ContentSequence
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * depth + 1000))
    try:
        ds.save_as(path, write_like_original=False)
    finally:
        sys.setrecursionlimit(limit)
    return path


def request_from(site, source, method, path, body=None, headers=None, timeout=60):
    """One HTTP request to the site from loopback address `source`:
    (status, headers dict (lower case), body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=timeout, source_address=(source, 0))
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def all_at_once(calls):
    """Runs the callables in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as e:  # kept for the assertion message
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def audit(site, **params):
    params.setdefault("limit", 1000)
    r = site.admin.get(site.url + "/bridge/audit", params=params, timeout=60)
    r.raise_for_status()
    return r.json()["events"]


def make_share(site, study_uid):
    r = site.admin.post(site.url + "/bridge/shares", json={"study": study_uid, "consent_attested": True},
                        timeout=60)
    if r.status_code != 200:
        raise AssertionError("POST /bridge/shares -> %d %s" % (r.status_code, r.text[:500]))
    return r.json()


def other_pin(pin):
    return "%06d" % ((int(pin) + 1) % 1000000)


def store_study(site, tmp, label, patient_id):
    path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(tmp, label + ".dcm"), PatientID=patient_id)
    site.storescu([path])
    uid = h.expected_study(path)["study_uid"]
    site.wait_indexed(uid, timeout=30)
    return uid, h.wait_until(lambda: site.orthanc_study_id(uid), 20)


class SimultaneousGuessesTest(unittest.TestCase):
    """Every guessing limit holds when 40 to 60 guesses arrive together."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-hardening-limits-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        # RemoteAccessAllowed: distinct loopback addresses (127.0.x.y) play
        # distinct clients; the gate still requires credentials.
        cls.site = h.OrthancSite("hardening-limits", extra_config={
            "RemoteAccessAllowed": True, "HttpThreadsCount": 80,
            "HospitalBridge": {
                "Shares": {"MaxFailedUnlocks": 5, "MaxFailuresPerAddress": 20},
                "Security": {"LoginThrottle": {"MaxFailuresPerUser": 5, "MaxFailuresPerAddress": 20}}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.uid, cls.study_id = store_study(cls.site, cls.tmp, "limits", "LIM-1")

    def test_sixty_simultaneous_wrong_pins_check_at_most_five(self):
        share = make_share(self.site, self.uid)
        token, pin, share_id = share["token"], share["pin"], share["share"]["id"]
        wrong = other_pin(pin)
        # Each guess from its own address: only the link's own limit applies.
        results = all_at_once([
            (lambda i=i: request_from(self.site, "127.0.1.%d" % (i + 1), "POST", "/s/" + token,
                                      body="pin=" + wrong,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"}))
            for i in range(60)])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        checked = [e for e in audit(self.site, action="share.unlock_failed")
                   if e["detail"].get("share_id") == share_id or ("share #%d" % share_id) == e["actor"]["name"]]
        self.assertEqual(len(checked), 5, "PINs checked for one link: %d" % len(checked))
        locked = [e for e in audit(self.site, action="share.locked")
                  if ("share #%d" % share_id) == e["actor"]["name"]]
        self.assertEqual(len(locked), 1)
        status, _, page = request_from(self.site, "127.0.2.1", "POST", "/s/" + token, body="pin=" + pin,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        # the "locked" page: 423, or 200 where Orthanc cannot send a page with it (h.page_status)
        self.assertEqual(status, h.page_status(423), "the right PIN after the lock: %d %s" % (status, page[:300]))
        self.assertIn("s-kind-locked", page)

    def test_sixty_simultaneous_unknown_links_from_one_address_check_at_most_twenty(self):
        results = all_at_once([
            (lambda: request_from(self.site, "127.0.3.1", "GET", "/s/" + secrets.token_urlsafe(16)))
            for _ in range(60)])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        # told apart by the page, where Orthanc answers both pages with 200 (h.page_status)
        looked_up = [r for r in results if r[0] == h.page_status(404) and "s-kind-invalid" in r[2]]
        throttled = [r for r in results if r[0] == h.page_status(403) and "s-kind-throttled" in r[2]]
        self.assertLessEqual(len(looked_up), 20, [r[0] for r in results])
        self.assertEqual(len(looked_up) + len(throttled), 60, [r[0] for r in results])
        share = make_share(self.site, self.uid)
        status, headers, page = request_from(self.site, "127.0.3.1", "GET", "/s/" + share["token"])
        self.assertEqual(status, h.page_status(403), "a real link from the throttled address")
        self.assertIn("s-kind-throttled", page)
        self.assertIn("retry-after", headers)
        status, _, _ = request_from(self.site, "127.0.3.2", "GET", "/s/" + share["token"])
        self.assertEqual(status, 200, "another address is not affected")

    def test_forty_simultaneous_wrong_passwords_check_at_most_five(self):
        password = self.site.create_user("victim", "radiologist")
        results = all_at_once([
            (lambda i=i: request_from(self.site, "127.0.4.%d" % (i + 1), "POST", "/bridge/login",
                                      body={"username": "victim", "password": "Wrong-Password-%d!" % i}))
            for i in range(40)])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        checked = [e for e in audit(self.site, action="login.failed", actor="victim")
                   if e["detail"].get("reason") == "invalid user name or password"]
        self.assertEqual(len(checked), 5, "passwords checked: %d" % len(checked))
        status, _, body = request_from(self.site, "127.0.4.200", "POST", "/bridge/login",
                                       body={"username": "victim", "password": password})
        self.assertEqual(status, 403, "the right password while locked: " + body)
        self.assertIn("Too many failed attempts", body)

    def test_sixty_simultaneous_logins_from_one_address_check_at_most_twenty(self):
        results = all_at_once([
            (lambda i=i: request_from(self.site, "127.0.5.1", "POST", "/bridge/login",
                                      body={"username": "nobody%d" % i, "password": "Wrong-Password-1!"}))
            for i in range(60)])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        checked = [e for e in audit(self.site, action="login.failed")
                   if e["source_ip"] == "127.0.5.1" and e["detail"].get("reason") == "invalid user name or password"]
        self.assertLessEqual(len(checked), 20)
        self.assertGreaterEqual(len(checked), 19, "the limit should be reached, not undershot far")
        status, _, body = request_from(self.site, "127.0.5.1", "POST", "/bridge/login",
                                       body={"username": h.ADMIN_USER, "password": h.DEFAULT_ADMIN_PASSWORD})
        self.assertEqual(status, 403, body)


class UserNameTimingTest(unittest.TestCase):
    """An unknown user name costs what a wrong password for a real one does."""

    @classmethod
    def setUpClass(cls):
        cls.site = h.OrthancSite("hardening-timing", extra_config={"HospitalBridge": {"Security": {
            "PasswordHashIterations": 200000,
            "LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.site.create_user("known_user", "technician")

    def test_medians_differ_by_less_than_fifteen_percent(self):
        s = self.site.session()
        times = {"known_user": [], "unknown_user": []}
        for i in range(100):
            for name in (("known_user", "unknown_user") if i % 2 == 0 else ("unknown_user", "known_user")):
                start = time.perf_counter()
                r = s.post(self.site.url + "/bridge/login",
                           json={"username": name, "password": "Wrong-Password-%d!" % i}, timeout=30)
                times[name].append(time.perf_counter() - start)
                self.assertEqual(r.status_code, 403)
                self.assertNotIn("Too many", r.text)
        known = statistics.median(times["known_user"])
        unknown = statistics.median(times["unknown_user"])
        report = "medians: known %.1f ms, unknown %.1f ms" % (known * 1000, unknown * 1000)
        print(report)
        with open(os.path.join(h.artifacts_dir(), "login-timing.txt"), "w") as f:
            f.write(report + "\n")
        self.assertLess(abs(known - unknown) / max(known, unknown), 0.15, report)


class HardeningTest(unittest.TestCase):
    """One site: path forms, bodies, files, overrides, names, reads."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-hardening-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.watch = os.path.join(cls.tmp, "scanner")
        os.makedirs(cls.watch)
        cls.site = h.OrthancSite("hardening", extra_config={
            "RemoteAccessAllowed": True,
            "HospitalBridge": {
                "Shares": {"MaxFailuresPerAddress": 1000},
                "Security": {"LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}},
                "WatchFolders": {"Folders": [{"Path": cls.watch}], "ScanIntervalMs": 200, "SettleMs": 300}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.uid, cls.study_id = store_study(cls.site, cls.tmp, "main", "HARD-1")
        series = cls.site.admin.get(cls.site.url + "/studies/%s/series" % cls.study_id, timeout=30).json()
        cls.series_id = series[0]["ID"]
        cls.instance_id = cls.site.admin.get(cls.site.url + "/series/%s/instances" % cls.series_id,
                                             timeout=30).json()[0]["ID"]
        cls.reception_pw = cls.site.create_user("desk", "reception")
        cls.reception = cls.site.session("desk", cls.reception_pw)
        cls.technician = cls.site.user_session("tech", "technician")

    def assert_alive(self):
        self.assertTrue(self.site.running, "Orthanc died:\n" + self.site.run_log_text()[-3000:])
        r = self.site.admin.get(self.site.url + "/system", timeout=30)
        self.assertEqual(r.status_code, 200)

    # -- one path form ------------------------------------------------------

    def test_each_route_family_behaves_the_same_with_a_trailing_slash(self):
        share = make_share(self.site, self.uid)
        wrong = other_pin(share["pin"])
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for slash in ("", "/", "//"):
            with self.subTest(slash=repr(slash)):
                source = "127.0.9.%d" % (len(slash) + 1)
                status, _, _ = request_from(self.site, source, "POST", "/bridge/login" + slash,
                                            body={"username": "desk", "password": "Not-The-Password-1!"})
                self.assertEqual(status, 403)
                status, _, page = request_from(self.site, source, "POST", "/s/" + share["token"] + slash,
                                               body="pin=" + wrong, headers=form)
                self.assertEqual(status, h.page_status(403))  # the PIN form again, with the error
                self.assertIn('name="pin"', page)
                r = self.reception.get(self.site.url + "/bridge/studies" + slash, timeout=30)
                self.assertEqual(r.status_code, 200, r.text[:200])
                r = self.reception.get(self.site.url + "/studies/%s%s" % (self.study_id, slash), timeout=30)
                self.assertEqual(r.status_code, 200)
                r = self.reception.delete(self.site.url + "/studies/%s%s" % (self.study_id, slash), timeout=30)
                self.assertEqual(r.status_code, 403, "reception may not delete, whatever the path's form")
                r = self.reception.get(self.site.url + "/bridge/users" + slash, timeout=30)
                self.assertEqual(r.status_code, 403)
                failures = [e for e in audit(self.site, action="login.failed", actor="desk")
                            if e["source_ip"] == source]
                self.assertEqual(len(failures), 1, "login failure audited under its address %s" % source)
                unlocks = [e for e in audit(self.site, action="share.unlock_failed")
                           if e["source_ip"] == source]
                self.assertEqual(len(unlocks), 1, "unlock failure audited under its address %s" % source)
        self.assertIsNotNone(self.site.orthanc_study_id(self.uid))
        self.assertFalse([e for e in audit(self.site) if e["source_ip"] == "" and e["action"] in (
            "login.failed", "share.unlock_failed", "login")], "events without their caller's address")

    # -- bodies and files Orthanc would die of ----------------------------------

    def test_deeply_nested_json_is_refused_on_every_route_and_orthanc_survives(self):
        deep = "[" * 3000 + "]" * 3000
        routes = [
            (self.reception, "/tools/find"),
            (self.reception, "/tools/create-archive"),
            (self.reception, "/tools/create-media"),
            (self.technician, "/studies/%s/modify" % self.study_id),
            (self.technician, "/studies/%s/anonymize" % self.study_id),
            (self.technician, "/series/%s/modify" % self.series_id),
            (self.technician, "/modalities/NONE/store"),
            (self.technician, "/peers/NONE/store"),
        ]
        for session, path in routes:
            with self.subTest(path=path):
                r = session.post(self.site.url + path, data=deep, timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:300])
                self.assertIn("nests more than 64 levels", r.json()["detail"])
                self.assert_alive()
        # Orthanc's streaming downloads keep their route: a POST body there
        # must be short enough that it cannot nest deeply.
        for path in ("/studies/%s/archive" % self.study_id, "/studies/%s/media" % self.study_id):
            with self.subTest(path=path):
                r = self.reception.post(self.site.url + path, data=deep, timeout=30)
                self.assertEqual(r.status_code, 403)
                self.assert_alive()
                r = self.reception.post(self.site.url + path, json={"Synchronous": True}, timeout=60)
                self.assertEqual(r.status_code, 200, "short options still work")
                self.assertEqual(r.content[:2], b"PK")
        r = self.site.session().post(self.site.url + "/bridge/login", data=deep, timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:300])
        r = self.reception.post(self.site.url + "/bridge/shares", data='{"study":' + deep + "}", timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:300])
        # Ordinary requests pass through the guard untouched.
        r = self.reception.post(self.site.url + "/tools/find",
                                json={"Level": "Study", "Query": {"PatientID": "HARD-1"}}, timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), [self.study_id])
        r = self.reception.post(self.site.url + "/tools/find", json={"Level": "Nonsense", "Query": {}},
                                timeout=30)
        self.assertEqual(r.status_code, 400, "Orthanc's own refusal comes back as before")
        refused = audit(self.site, action="request.refused")
        self.assertTrue([e for e in refused if e["actor"]["name"] == "desk" and e["detail"]["path"] == "/tools/find"])
        self.assert_alive()

    def test_deeply_nested_dicom_is_refused_by_every_way_in(self):
        deep = nested_dicom(os.path.join(self.tmp, "deep.dcm"), 3000, "NEST-DEEP")
        fine = nested_dicom(os.path.join(self.tmp, "fine.dcm"), 8, "NEST-FINE")
        with open(deep, "rb") as f:
            deep_bytes = f.read()
        # Orthanc's own upload route stays Orthanc's (so that its metadata names the
        # uploader); the file is checked as Orthanc receives it, before it parses it,
        # and refused: 400, and the audit says why.
        r = self.technician.post(self.site.url + "/instances", data=deep_bytes, timeout=60)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assert_alive()
        self.assertEqual(self.site.admin.post(self.site.url + "/tools/find", json={
            "Level": "Patient", "Query": {"PatientID": "NEST-DEEP"}}, timeout=30).json(), [])
        refused = [e for e in audit(self.site, action="request.refused") if e["detail"].get("what") == "DICOM instance"]
        self.assertTrue(refused, "the refused upload is audited")
        self.assertIn("nest more than 32 levels", refused[0]["detail"]["reason"])
        self.assertEqual(refused[0]["source_ip"], "127.0.0.1")
        self.assertIn("nest more than 32 levels", self.site.run_log_text())
        # Inside a ZIP (a CD copied into an archive): Orthanc answers for the files it
        # stored; the nested one is left out (and audited), the others are kept.
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(fine, "CD/IM1")
            z.write(deep, "CD/IM2")
        r = self.technician.post(self.site.url + "/instances", data=buffer.getvalue(), timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual([x["Status"] for x in r.json()], ["Success"], r.text[:500])
        self.assert_alive()
        self.assertEqual(len([e for e in audit(self.site, action="request.refused")
                              if e["detail"].get("what") == "DICOM instance"]), 2)
        # A file nested like real structured reports is stored as before, and Orthanc
        # records who uploaded it.
        with open(fine, "rb") as f:
            r = self.technician.post(self.site.url + "/instances", data=f.read(), timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json()["Status"], "AlreadyStored", "stored from the ZIP")
        origin = self.site.admin.get(self.site.url + "/instances/%s/metadata/Origin" % r.json()["ID"], timeout=30)
        self.assertEqual(origin.text, "RestApi")
        # The scanner's watch folder: the file is set aside with the reason,
        # and Orthanc keeps running (it would crash again at every restart).
        shutil.copy(deep, os.path.join(self.watch, "deep.dcm"))
        reason_file = os.path.join(self.watch, "failed", "deep.dcm.reason.txt")
        h.wait_until(lambda: os.path.exists(reason_file), 20, message="the nested file was not set aside")
        with open(reason_file) as f:
            self.assertIn("nest more than 32 levels", f.read())
        self.assert_alive()

    # -- method overrides ---------------------------------------------------------

    def test_a_get_turned_into_delete_from_another_origin_deletes_nothing(self):
        uid, study_id = store_study(self.site, self.tmp, "override", "HARD-OVR")
        login = self.site.session()
        r = login.post(self.site.url + "/bridge/login",
                       json={"username": h.ADMIN_USER, "password": h.DEFAULT_ADMIN_PASSWORD}, timeout=30)
        self.assertEqual(r.status_code, 200)
        cookie = "hb_session=" + login.cookies.get("hb_session")
        host = "127.0.0.1:%d" % self.site.http_port
        attacks = [
            # What an <img src> on another port of this host sends.
            ("GET", "/studies/%s?_method=DELETE" % study_id, {"Sec-Fetch-Site": "same-site"}),
            ("GET", "/studies/%s?_method=DELETE" % study_id, {}),
            ("GET", "/studies/%s" % study_id, {"X-HTTP-Method-Override": "DELETE"}),
            ("POST", "/studies/%s?_method=DELETE" % study_id, {"Origin": "http://127.0.0.1:9"}),
            ("DELETE", "/studies/%s" % study_id, {"Sec-Fetch-Site": "same-site"}),
        ]
        for method, path, headers in attacks:
            with self.subTest(method=method, path=path, headers=headers):
                status, _, _ = request_from(self.site, "127.0.0.1", method, path,
                                            headers=dict(headers, Cookie=cookie, Host=host))
                self.assertEqual(status, 403)
                self.assertIsNotNone(self.site.orthanc_study_id(uid), "the study was deleted")
        denied = [e for e in audit(self.site, action="study.deleted") if e["outcome"] == "denied"]
        self.assertTrue(denied, "refused deletions are audited")
        # The same delete from the page's own origin still works.
        status, _, body = request_from(self.site, "127.0.0.1", "DELETE", "/studies/%s" % study_id, headers={
            "Cookie": cookie, "Host": host, "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.site.orthanc_study_id(uid))

    # -- names and bytes -------------------------------------------------------------

    def test_user_names_must_survive_a_path_segment_and_every_user_can_be_managed(self):
        for name in (".", "..", "a/b", "a b", "eve\nW1127 forged", "caf\u00e9"):
            with self.subTest(name=name):
                r = self.site.admin.post(self.site.url + "/bridge/users", json={
                    "username": name, "password": "A-Long-Password-42!", "role": "admin"}, timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:200])
        r = self.site.admin.post(self.site.url + "/bridge/users", data=b'{"username":"ab\xff","password":"x"}',
                                 headers={"Content-Type": "application/json"}, timeout=30)
        self.assertEqual(r.status_code, 400)
        self.assertIn("UTF-8", r.json()["error"])
        r = self.site.admin.get(self.site.url + "/bridge/users", timeout=30)
        for user in r.json()["users"]:
            with self.subTest(user=user["username"]):
                r = self.site.admin.get(self.site.url + "/bridge/users/" + user["username"], timeout=30)
                self.assertEqual(r.status_code, 200, "user %r cannot be managed" % user["username"])

    def test_nothing_a_client_sends_forges_a_log_line_or_breaks_the_exports(self):
        forged = "eve\nW1127 00:00:00.000000 main.cpp:1] Orthanc has started"
        self.site.session().post(self.site.url + "/bridge/login",
                                 json={"username": forged, "password": "Wrong-Password-1!"}, timeout=30)
        # Invalid UTF-8 in a Basic user name (a header is bytes, not JSON).
        conn = http.client.HTTPConnection("127.0.0.1", self.site.http_port, timeout=30)
        import base64
        conn.putrequest("GET", "/bridge/me")
        conn.putheader("Authorization", "Basic " + base64.b64encode(b"mall\xff\xfeory:wrong").decode())
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 403)
        conn.close()
        log = self.site.run_log_text()
        self.assertNotIn("\nW1127 00:00:00.000000 main.cpp:1] Orthanc has started", log)
        self.assertIn("eve\\nW1127", log, "the name is in the log, escaped")
        r = self.site.admin.get(self.site.url + "/bridge/audit/export", params={"format": "fhir"}, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        r.content.decode("utf-8")  # strict
        bundle = json.loads(r.content)
        names = [e["agent"][0]["name"] for e in (x["resource"] for x in bundle["entry"])]
        self.assertTrue([n for n in names if n.startswith("mall\ufffd")], names[-5:])
        r = self.site.admin.get(self.site.url + "/bridge/audit/export", params={"format": "dicom"}, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        r.content.decode("utf-8")
        root = ET.fromstring(r.content)  # well-formed, or this raises
        self.assertTrue([p for p in root.iter("ActiveParticipant") if p.get("UserID", "").startswith("mall\ufffd")])

    # -- every read audited ---------------------------------------------------------------

    @staticmethod
    def orthanc_route_templates():
        """Every route of Orthanc's REST API under a study, series or
        instance: the templates Orthanc registers (read from its binary, since
        1.10's OpenAPI output leaves many out), plus its OpenAPI paths."""
        with open(os.path.realpath(h.ORTHANC_BIN), "rb") as f:
            binary = f.read()
        templates = set()
        for level in (b"studies", b"series", b"instances"):
            for m in re.findall(rb"/" + level + rb"/\{id\}[/A-Za-z0-9{}*._-]*", binary):
                templates.add(m.decode())
            for m in re.findall(rb"\x00(/\{id\}/[/A-Za-z0-9{}*._-]+)", binary):
                templates.add("/" + level.decode() + m.decode())
        spec_path = os.path.join(h.artifacts_dir(), "orthanc-openapi.json")
        import subprocess
        subprocess.run([h.ORTHANC_BIN, "--openapi=" + spec_path], timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.path.exists(spec_path):
            with open(spec_path) as f:
                for template, operations in json.load(f)["paths"].items():
                    if re.match(r"^/(studies|series|instances)/\{id\}", template) and "get" in operations:
                        templates.add(template)
        return sorted(templates)

    def test_every_read_of_a_study_through_orthancs_api_leaves_its_event(self):
        ids = {"studies": self.study_id, "series": self.series_id, "instances": self.instance_id}
        # The few reads that say how data is stored, never what it holds.
        no_patient_data = re.compile(r"/(statistics|attachments(/[^/]+(/(size|md5|compressed-size|"
                                     r"compressed-md5|is-compressed|info|uncompressed-size|uncompressed-md5))?)?)$")
        walked = []
        for template in self.orthanc_route_templates():
            level = template.split("/")[1]
            path = template.replace("{id}", ids[level])
            path = path.replace("{name}", "dicom").replace("{frame}", "0").replace("*", "0010-0010")
            if "{" in path:
                continue  # a parameter this walk cannot fill
            r = self.reception.get(self.site.url + path, timeout=60)
            walked.append((path, r.status_code))
            if r.status_code != 200:
                continue
            expect_event = not no_patient_data.search(path)
            events = [e for e in audit(self.site, actor="desk")
                      if e["detail"].get("path") == path and e["action"] in ("study.viewed", "study.downloaded")]
            with self.subTest(path=path):
                if expect_event:
                    self.assertTrue(events, "no audit event for GET %s" % path)
                    self.assertEqual(events[0]["study_uid"], self.uid)
                else:
                    self.assertFalse(events)
        with open(os.path.join(h.artifacts_dir(), "audited-reads.txt"), "w") as f:
            f.write("\n".join("%d %s" % (s, p) for p, s in walked) + "\n")
        answered = [p for p, s in walked if s == 200]
        self.assertGreaterEqual(len(answered), 40, walked)
        for path in ("/instances/%s/attachments/dicom/data" % self.instance_id,
                     "/studies/%s/instances-tags" % self.study_id, "/studies/%s/shared-tags" % self.study_id,
                     "/series/%s/ordered-slices" % self.series_id, "/instances/%s/header" % self.instance_id):
            self.assertIn(path, answered)


if __name__ == "__main__":
    unittest.main()
