"""Security gate: who may do what, sessions, throttling, input limits, logs."""

import json
import os
import re
import shutil
import tempfile
import unittest

import orthanc_harness as h

NO_PROXY = {"http": None, "https": None}


def anon():
    s = h.requests.Session()
    s.trust_env = False
    return s


def cookie_attributes(set_cookie, name="hb_session"):
    """Parse the Set-Cookie header for `name`: (value, {attr_lower: value})."""
    for part in re.split(r",(?=\s*[A-Za-z0-9_-]+=)", set_cookie or ""):
        items = [x.strip() for x in part.split(";")]
        if items and items[0].startswith(name + "="):
            attrs = {}
            for a in items[1:]:
                k, _, v = a.partition("=")
                attrs[k.strip().lower()] = v.strip()
            return items[0][len(name) + 1:], attrs
    return None, {}


class SecurityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-security-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        # --verbose: more log lines in which a password could leak
        # MaxFailuresPerAddress raised so that the deliberate failures of
        # several tests (all from 127.0.0.1) cannot lock the others out.
        cls.site = h.OrthancSite("security", orthanc_args=["--verbose"], extra_config={
            "HospitalBridge": {"Security": {"LoginThrottle": {"MaxFailuresPerAddress": 100}}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.url = cls.site.url
        cls.admin = cls.site.admin
        cls.secrets = {h.DEFAULT_ADMIN_PASSWORD}

        cls.pw = {}
        cls.users = {}
        for role in ("radiologist", "technician", "reception", "peer"):
            name = "u_" + role
            pw = "Sec-%s-Passw0rd-%s" % (role, h.generate_uid()[-6:])
            cls.site.create_user(name, role, pw)
            cls.pw[role] = pw
            cls.secrets.add(pw)
            cls.users[role] = cls.site.session(name, pw)

        # a study to play with
        cls.study_file = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "a.dcm"),
                                        PatientID="SEC-1")
        cls.site.storescu([cls.study_file])
        cls.study_uid = h.expected_study(cls.study_file)["study_uid"]
        cls.study_id = h.wait_until(lambda: cls.site.orthanc_study_id(cls.study_uid), 20)

    def note_secret(self, s):
        self.secrets.add(s)
        return s

    def new_study(self, tag):
        p = h.make_variant(h.sample("MR_small.dcm"), os.path.join(self.tmp, tag + ".dcm"), PatientID=tag)
        self.site.storescu([p])
        uid = h.expected_study(p)["study_uid"]
        return h.wait_until(lambda: self.site.orthanc_study_id(uid), 20)

    # -- anonymous ---------------------------------------------------------------

    def test_anonymous_core_routes_are_403(self):
        for path in ("/patients", "/studies", "/system", "/app/explorer.html", "/bridge/system",
                     "/bridge/users", "/bridge/studies", "/tools/execute-script", "/plugins"):
            with self.subTest(path=path):
                r = anon().get(self.url + path, timeout=30)
                self.assertEqual(r.status_code, 403, r.text[:200])
                self.assertNotIn(b"CompressedSamples", r.content)

    def test_anonymous_write_is_403(self):
        with open(self.study_file, "rb") as f:
            r = anon().post(self.url + "/instances", data=f.read(), timeout=30)
        self.assertEqual(r.status_code, 403)
        r = anon().delete(self.url + "/studies/" + self.study_id, timeout=30)
        self.assertEqual(r.status_code, 403)
        r = anon().post(self.url + "/tools/execute-script", data="print(1)", timeout=30)
        self.assertEqual(r.status_code, 403)
        self.assertIsNotNone(self.site.orthanc_study_id(self.study_uid))

    def test_anonymous_login_page_is_public(self):
        r = anon().get(self.url + "/bridge/app/login.html", timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertIn("text/html", r.headers.get("Content-Type", ""))

    # -- Basic auth ----------------------------------------------------------------

    def test_basic_wrong_password_is_403(self):
        wrong = self.note_secret("Totally-Wrong-Pw-1234")
        r = anon().get(self.url + "/patients", auth=(h.ADMIN_USER, wrong), timeout=30)
        self.assertEqual(r.status_code, 403)
        r = anon().get(self.url + "/patients", auth=("nobody_here", wrong), timeout=30)
        self.assertEqual(r.status_code, 403)

    def test_admin_basic_ok(self):
        r = self.admin.get(self.url + "/patients", timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertIsInstance(r.json(), list)
        me = self.admin.get(self.url + "/bridge/me", timeout=30)
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json()["username"], h.ADMIN_USER)
        self.assertEqual(me.json()["role"], "admin")

    def test_me_reports_role(self):
        for role, s in self.users.items():
            if role == "peer":
                continue
            with self.subTest(role=role):
                r = s.get(self.url + "/bridge/me", timeout=30)
                self.assertEqual(r.status_code, 200, r.text[:200])
                self.assertEqual((r.json()["username"], r.json()["role"]), ("u_" + role, role))

    # -- roles -------------------------------------------------------------------------

    def test_users_listed_with_roles(self):
        r = self.admin.get(self.url + "/bridge/users", timeout=30)
        self.assertEqual(r.status_code, 200)
        users = {u["username"]: u for u in r.json()["users"]}
        self.assertEqual(users[h.ADMIN_USER]["role"], "admin")
        for role in self.users:
            self.assertEqual(users["u_" + role]["role"], role)
            self.assertFalse(users["u_" + role]["disabled"])
        for u in r.json()["users"]:
            self.assertFalse({"password", "password_hash", "hash", "salt"} & set(u), u)
        for s in self.secrets:
            self.assertNotIn(s, r.text)

    def test_reception_reads_but_cannot_delete(self):
        rec = self.users["reception"]
        r = rec.get(self.url + "/studies/" + self.study_id, timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["ID"], self.study_id)
        r = rec.delete(self.url + "/studies/" + self.study_id, timeout=30)
        self.assertEqual(r.status_code, 403)
        self.assertIsNotNone(self.site.orthanc_study_id(self.study_uid), "study deleted by reception!")

    def test_reception_forbidden_admin_routes(self):
        rec = self.users["reception"]
        for method, path, body in (("POST", "/tools/execute-script", "print('x')"),
                                   ("GET", "/plugins", None),
                                   ("GET", "/bridge/users", None),
                                   ("POST", "/bridge/users", json.dumps({"username": "evil", "role": "admin",
                                                                         "password": "Evil-Pw-0123456789"}))):
            with self.subTest(method=method, path=path):
                r = rec.request(method, self.url + path, data=body, timeout=30)
                self.assertEqual(r.status_code, 403, r.text[:200])
        users = self.admin.get(self.url + "/bridge/users", timeout=30).json()["users"]
        self.assertNotIn("evil", [u["username"] for u in users])

    def test_admin_can_delete(self):
        oid = self.new_study("SEC-DEL")
        r = self.admin.delete(self.url + "/studies/" + oid, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:200])
        self.assertEqual(self.admin.get(self.url + "/studies/" + oid, timeout=30).status_code, 404)

    def test_technician_can_upload(self):
        p = h.make_variant(h.sample("rtplan.dcm"), os.path.join(self.tmp, "tech.dcm"), PatientID="SEC-TECH")
        r = self.site.upload(p, session=self.users["technician"])
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertIsNotNone(self.site.orthanc_study_id(h.expected_study(p)["study_uid"]))

    def test_radiologist_reads(self):
        r = self.users["radiologist"].get(self.url + "/studies", timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertIn(self.study_id, r.json())
        r = self.users["radiologist"].get(self.url + "/bridge/studies", timeout=30)
        self.assertEqual(r.status_code, 200)

    def test_peer_limited(self):
        peer = self.users["peer"]
        for path in ("/studies", "/patients", "/bridge/studies", "/bridge/users", "/app/explorer.html"):
            with self.subTest(path=path):
                r = peer.get(self.url + path, timeout=30)
                self.assertEqual(r.status_code, 403, r.text[:200])

    # -- cookie sessions ---------------------------------------------------------------

    def login(self, username, password, session=None):
        s = session or anon()
        try:
            r = s.post(self.url + "/bridge/login", json={"username": username, "password": password}, timeout=30)
        except h.requests.ConnectionError as e:
            raise AssertionError("POST /bridge/login (user %r): no HTTP answer, the server closed the "
                                 "connection (%s)" % (username, e.__class__.__name__))
        return s, r

    def test_login_cookie_flags_and_use(self):
        s, r = self.login(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json()["username"], h.ADMIN_USER)
        self.assertEqual(r.json()["role"], "admin")
        value, attrs = cookie_attributes(r.headers.get("Set-Cookie"))
        self.assertTrue(value, "no hb_session cookie in %r" % r.headers.get("Set-Cookie"))
        self.assertGreaterEqual(len(value), 22, "session token looks short (< 128 bits)")
        self.assertIn("httponly", attrs)
        self.assertEqual(attrs.get("samesite", "").lower(), "strict")
        self.assertEqual(attrs.get("path"), "/")
        for path in ("/bridge/system", "/app/explorer.html", "/bridge/me"):
            with self.subTest(path=path):
                r2 = s.get(self.url + path, timeout=30)
                self.assertEqual(r2.status_code, 200, r2.text[:200])
        self.assertEqual(s.get(self.url + "/bridge/system", timeout=30).json()["user"]["username"],
                         h.ADMIN_USER)
        # a cookie of a non-admin user works too
        s2, r = self.login("u_radiologist", self.pw["radiologist"])
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual((r.json()["username"], r.json()["role"]), ("u_radiologist", "radiologist"))
        self.assertEqual(s2.get(self.url + "/bridge/me", timeout=30).json()["role"], "radiologist")

    def test_logout_invalidates_token(self):
        s, r = self.login("u_reception", self.pw["reception"])
        self.assertEqual(r.status_code, 200)
        token = s.cookies.get("hb_session")
        self.assertTrue(token)
        self.assertEqual(s.get(self.url + "/bridge/me", timeout=30).status_code, 200)
        r = s.post(self.url + "/bridge/logout", timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertFalse(s.cookies.get("hb_session"), "logout did not clear the cookie")
        # the old token, replayed, must be dead on the server side
        replay = anon()
        r = replay.get(self.url + "/bridge/system", headers={"Cookie": "hb_session=" + token}, timeout=30)
        self.assertEqual(r.status_code, 403)
        r = replay.get(self.url + "/patients", headers={"Cookie": "hb_session=" + token}, timeout=30)
        self.assertEqual(r.status_code, 403)

    def test_forged_cookie_is_403(self):
        r = anon().get(self.url + "/bridge/system", headers={"Cookie": "hb_session=" + "A" * 43}, timeout=30)
        self.assertEqual(r.status_code, 403)

    def test_wrong_login(self):
        wrong = self.note_secret("Not-The-Right-One-987")
        s, r = self.login("u_technician", wrong)
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.json().get("error"), "Invalid user name or password")
        self.assertFalse(s.cookies.get("hb_session"))
        # an unknown user gets exactly the same answer (no user enumeration)
        s2, r2 = self.login("no_such_user_x", wrong)
        self.assertEqual(r2.status_code, 403)
        self.assertEqual(r2.json(), r.json())

    def test_login_throttle(self):
        pw = self.note_secret("Throttle-Me-Passw0rd-77")
        self.site.create_user("u_throttled", "radiologist", pw)
        s, r = self.login("u_throttled", pw)
        self.assertEqual(r.status_code, 200, "control: right password works before the failures")
        statuses = []
        for i in range(6):
            _, r = self.login("u_throttled", self.note_secret("Bad-Guess-%02d-xyzzy" % i))
            statuses.append(r.status_code)
        self.assertTrue(all(c == 403 for c in statuses), statuses)
        # Orthanc 1.10 cannot send 429: a locked account answers 403 with its
        # own error, a detail saying when to retry, and Retry-After.
        session, r = self.login("u_throttled", pw)
        self.assertEqual(r.status_code, 403, "right password after 6 failures: %d %s" % (r.status_code, r.text))
        body = r.json()
        self.assertEqual(body["error"], "Too many failed attempts")
        self.assertIn("minute", body["detail"])
        self.assertGreater(int(r.headers["Retry-After"]), 0)
        self.assertIsNone(session.cookies.get("hb_session"))
        # other users are not locked out by it
        _, r = self.login("u_technician", self.pw["technician"])
        self.assertEqual(r.status_code, 200)

    # -- malformed input ---------------------------------------------------------------

    def test_malformed_login_json_is_400(self):
        for body in ('{"username": "admin", "password": ', "not json at all", "[1,2,3]", '{"username": 5}'):
            with self.subTest(body=body):
                r = anon().post(self.url + "/bridge/login", data=body,
                                headers={"Content-Type": "application/json"}, timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:200])
                self.assertIn("error", r.json())

    def test_unknown_bridge_route_is_404(self):
        r = self.admin.get(self.url + "/bridge/nope", timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:200])
        self.assertIn("error", r.json())
        r = anon().get(self.url + "/bridge/nope", timeout=30)
        self.assertEqual(r.status_code, 403, "anonymous must not learn which routes exist")

    def test_wrong_method_is_405(self):
        r = self.admin.delete(self.url + "/bridge/system", timeout=30)
        self.assertEqual(r.status_code, 405, r.text[:200])

    def test_body_too_large_is_413(self):
        big = json.dumps({"username": "x", "password": "y" * (1100 * 1024)})
        r = anon().post(self.url + "/bridge/login", data=big,
                        headers={"Content-Type": "application/json"}, timeout=60)
        self.assertEqual(r.status_code, 413, r.text[:200])
        big = json.dumps({"username": "big_user", "role": "reception", "password": "z" * (1100 * 1024)})
        r = self.admin.post(self.url + "/bridge/users", data=big,
                            headers={"Content-Type": "application/json"}, timeout=60)
        self.assertEqual(r.status_code, 413, r.text[:200])
        self.assertIn("error", r.json())

    # -- user management -----------------------------------------------------------------

    def test_disabled_user_is_403(self):
        pw = self.note_secret("Disable-Me-Passw0rd-55")
        self.site.create_user("u_disable", "radiologist", pw)
        s = self.site.session("u_disable", pw)
        self.assertEqual(s.get(self.url + "/studies", timeout=30).status_code, 200, "control")
        cs, r = self.login("u_disable", pw)
        self.assertEqual(r.status_code, 200, "control")
        # used once, so the session cache remembers whom the cookie names
        self.assertEqual(cs.get(self.url + "/bridge/me", timeout=30).status_code, 200, "control")
        r = self.admin.put(self.url + "/bridge/users/u_disable", json={"disabled": True}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:200])
        # immediately, despite the credential cache and the open session
        self.assertEqual(s.get(self.url + "/studies", timeout=30).status_code, 403, "Basic auth still works")
        self.assertEqual(cs.get(self.url + "/bridge/me", timeout=30).status_code, 403, "cookie still works")
        _, r = self.login("u_disable", pw)
        self.assertEqual(r.status_code, 403)
        users = {u["username"]: u for u in self.admin.get(self.url + "/bridge/users", timeout=30).json()["users"]}
        self.assertTrue(users["u_disable"]["disabled"])
        # and back
        r = self.admin.put(self.url + "/bridge/users/u_disable", json={"disabled": False}, timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(s.get(self.url + "/studies", timeout=30).status_code, 200)

    def test_password_change_takes_effect(self):
        old = self.note_secret("Old-Passw0rd-Change-1")
        new = self.note_secret("New-Passw0rd-Change-2")
        self.site.create_user("u_change", "reception", old)
        s_old = self.site.session("u_change", old)
        self.assertEqual(s_old.get(self.url + "/studies", timeout=30).status_code, 200)
        r = self.admin.put(self.url + "/bridge/users/u_change", json={"password": new}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:200])
        self.assertEqual(s_old.get(self.url + "/studies", timeout=30).status_code, 403, "old password still works")
        self.assertEqual(self.site.session("u_change", new).get(self.url + "/studies", timeout=30).status_code, 200)

    def test_weak_password_is_400(self):
        for i, pw in enumerate(("short1!", "password", "Short-11chr", "123456789012")):
            with self.subTest(password=pw):
                r = self.admin.post(self.url + "/bridge/users",
                                    json={"username": "weak%d" % i, "password": pw, "role": "reception"},
                                    timeout=30)
                self.assertEqual(r.status_code, 400, r.text[:200])
                body = r.json()
                self.assertIn("error", body)
                self.assertIn("password", (body.get("error", "") + body.get("detail", "")).lower())
        users = [u["username"] for u in self.admin.get(self.url + "/bridge/users", timeout=30).json()["users"]]
        self.assertFalse([u for u in users if u.startswith("weak")], users)

    def test_bad_role_is_400(self):
        r = self.admin.post(self.url + "/bridge/users",
                            json={"username": "u_badrole", "password": "Good-Passw0rd-Role-9", "role": "god"},
                            timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:200])
        self.assertIn("role", r.text)

    def test_duplicate_user_rejected(self):
        r = self.admin.post(self.url + "/bridge/users",
                            json={"username": "u_reception", "password": "Another-Passw0rd-11", "role": "admin"},
                            timeout=30)
        self.assertIn(r.status_code, (400, 409), r.text[:200])
        self.note_secret("Another-Passw0rd-11")
        users = {u["username"]: u for u in self.admin.get(self.url + "/bridge/users", timeout=30).json()["users"]}
        self.assertEqual(users["u_reception"]["role"], "reception", "duplicate POST changed the existing user")

    # -- last: logs ------------------------------------------------------------------------

    def test_zz_log_never_contains_passwords(self):
        # make sure the password paths ran at least once in this process
        self.login(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        self.login(h.ADMIN_USER, self.note_secret("Last-Wrong-Pw-For-Log-1"))
        log = self.site.log_text()
        self.assertIn("HospitalBridge", log, "log looks empty; the test would prove nothing")
        for secret in sorted(self.secrets):
            if len(secret) < 8:
                continue
            with self.subTest(secret=secret[:4] + "..."):
                self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main()
