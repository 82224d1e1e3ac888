"""HospitalBridge behind Debian's nginx (OrthancConfiguration/nginx/), over
HTTPS, as a hospital deploys it: a staff host and a patient host in front of
one Orthanc whose Security.TrustedProxies names the proxy.

  - ReverseProxyTest: a real Orthanc + nginx (the shipped configuration, see
    nginx_harness.py); clients connect to nginx from distinct loopback
    addresses (127.0.0.3, 127.0.0.4, ...) to play distinct people, nginx
    connects to Orthanc from 127.0.0.2, the only trusted proxy. Signing in,
    the share flow on the phone, what the patient host refuses, throttles and
    the audit trail keyed on the forwarded address, headless Chromium;
  - DirectForgedHeadersTest: a client that reaches Orthanc's port directly
    (127.0.0.1, not a trusted proxy) and sends X-Forwarded-For /
    X-Forwarded-Proto of its own: ignored;
  - ProductionSampleTest: OrthancConfiguration/production/orthanc.json agrees
    with the nginx files, and Orthanc starts with it as written (only paths
    and ports put in): the plugin accepts its section and believes the
    forwarding headers from 127.0.0.1, where nginx connects from.
"""

import io
import json
import os
import re
import secrets
import shutil
import tempfile
import unittest
import zipfile

import orthanc_harness as h
import nginx_harness as nh

CHROMIUM_OK = os.path.exists(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
NGINX_MISSING = nh.missing_tools()
SITE_NAME = "General Hospital"
# Shares.MaxFailuresPerAddress and Security.LoginThrottle.MaxFailuresPerAddress
LIMIT = 3
PATIENT = {"PatientID": "RP-1", "PatientName": "PROXY^PAULA", "PatientBirthDate": "19800102",
           "PatientSex": "F", "StudyDate": "20240301", "StudyDescription": "Chest via proxy"}
FORGED = "203.0.113.50"  # TEST-NET-3: nobody's address

USER_SELECTORS = ["input[name=username]", "#username", "input[autocomplete=username]",
                  "input[type=text]", "input:not([type])"]
SUBMIT_SELECTORS = ["button[type=submit]", "input[type=submit]", "form button", "button"]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def set_cookies(r):
    try:
        return list(r.raw.headers.getlist("Set-Cookie"))
    except AttributeError:  # pragma: no cover
        v = r.headers.get("Set-Cookie")
        return [v] if v else []


def cookie(r, name):
    """(value, {attribute_lower: value}) of cookie `name` set by response r,
    or (None, {})."""
    for raw in set_cookies(r):
        for part in re.split(r",(?=\s*[A-Za-z0-9_-]+=)", raw or ""):
            items = [x.strip() for x in part.split(";")]
            if items and items[0].startswith(name + "="):
                attrs = {}
                for a in items[1:]:
                    k, _, v = a.partition("=")
                    attrs[k.strip().lower()] = v.strip()
                return items[0][len(name) + 1:], attrs
    return None, {}


def describe(r):
    return "%s %s -> %d %s" % (r.request.method, r.request.url, r.status_code, r.text[:400])


def strip_json_comments(text):
    """Orthanc's JSON with // and /* */ comments -> plain JSON (strings kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def large_dicom(path, megabytes=5, **tags):
    """A CT image of about `megabytes` MB of noise (a fresh study)."""
    ds = h.pydicom.dcmread(h.sample("CT_small.dcm"))
    side = int((megabytes * 1024 * 1024 / 2) ** 0.5)
    ds.Rows = ds.Columns = side
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel = 1
    ds.PixelData = os.urandom(side * side * 2)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = h.generate_uid(), h.generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = h.generate_uid()
    for k, v in tags.items():
        setattr(ds, k, v)
    ds.save_as(path, write_like_original=True)
    return path


class AuditMixin(object):
    site = None
    admin = None  # a session allowed to read /bridge/audit

    def audit(self, **params):
        params.setdefault("limit", 500)
        r = self.admin.get(self.site.url + "/bridge/audit", params=params, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        return r.json()["events"]

    def wait_audit(self, predicate, message, **params):
        return h.wait_until(lambda: [e for e in self.audit(**params) if predicate(e)], 20, interval=0.3,
                            message=message)


# ---------------------------------------------------------------------------
# Orthanc behind nginx
# ---------------------------------------------------------------------------

@unittest.skipIf(NGINX_MISSING, "not installed: %s (scripts/install-dependencies.sh)" % NGINX_MISSING)
class ReverseProxyTest(AuditMixin, unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-reverse-proxy-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("reverse-proxy")
        cls.addClassCleanup(cls.site.close)
        cls.site.allocate_ports()
        cls.nginx = nh.NginxProxy(cls.site.http_port, "reverse-proxy")
        cls.addClassCleanup(cls.nginx.close)
        cls.nginx.start()
        cls.patient_base = "https://%s:%d" % (nh.PATIENT_HOST, cls.nginx.https_port)
        # RemoteAccessAllowed: nginx connects from 127.0.0.2, and Orthanc
        # without it answers only 127.0.0.1 (on a hospital's server nginx
        # connects from 127.0.0.1 and it stays false).
        cls.site.extra_config = {
            "RemoteAccessAllowed": True,
            "HospitalBridge": {
                "Site": {"Id": "HOS-001", "Name": SITE_NAME},
                "Security": {"TrustedProxies": [nh.PROXY_ADDRESS],
                             "LoginThrottle": {"MaxFailuresPerAddress": LIMIT}},
                "Shares": {"PublicBaseUrl": cls.patient_base, "MaxFailuresPerAddress": LIMIT},
            }}
        cls.site.start()
        cls.admin = cls.site.admin  # Basic, straight to Orthanc (test bookkeeping only)
        cls.staff_password = "Rp-Reception-Pw-%s" % h.generate_uid()[-8:]
        cls.site.create_user("rp_reception", "reception", cls.staff_password)

        cls.study_uid, series_uid = h.generate_uid(), h.generate_uid()
        files = []
        for i in range(2):
            p = os.path.join(cls.tmp, "study-%d.dcm" % i)
            h.make_variant(h.sample("CT_small.dcm"), p, study_uid=cls.study_uid, series_uid=series_uid,
                           InstanceNumber=i + 1, **PATIENT)
            files.append(p)
        cls.site.storescu(files)
        cls.site.wait_indexed(cls.study_uid, timeout=30, predicate=lambda s: s["instance_count"] == 2)
        cls.study_id = cls.site.orthanc_study_id(cls.study_uid)

    # -- helpers ------------------------------------------------------------------

    def staff(self, source="127.0.0.10", basic=True):
        """A client of the staff host; with the administrator's Basic
        credentials unless basic=False."""
        c = self.nginx.client(nh.STAFF_HOST, source)
        if basic:
            c.auth = (h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        return c

    def phone(self, source):
        return self.nginx.client(nh.PATIENT_HOST, source)

    def create_share(self):
        """POST /bridge/shares on the staff host, as the reception would."""
        r = self.staff().post("/bridge/shares", json={"study": self.study_uid, "consent_attested": True})
        self.assertEqual(r.status_code, 200, describe(r))
        ans = r.json()
        self.assertRegex(ans["url"], "^" + re.escape(self.patient_base) + r"/s/[A-Za-z0-9_-]{22}$",
                         "the link does not use Shares.PublicBaseUrl (the patient host)")
        ans["path"] = ans["url"][len(self.patient_base):]
        return ans

    def login(self, client, username, password, **kwargs):
        return client.post("/bridge/login", json={"username": username, "password": password}, **kwargs)

    def assert_nginx_404(self, host, method, path, body=None, source="127.0.0.7"):
        """nginx itself answers 404: Orthanc never sees the request."""
        test_id = secrets.token_hex(8)
        status, headers, content = self.nginx.raw(host, method, path, body=body, source=source,
                                                  headers={"X-Test-Id": test_id})
        what = "%s %s on %s" % (method, path, host)
        self.assertEqual(status, 404, "%s: %d %r" % (what, status, content[:300]))
        self.assertEqual(self.nginx.upstream_of(test_id), "-", "%s reached Orthanc" % what)
        self.assertNotIn(b"General Hospital", content, what)

    # -- staff host ---------------------------------------------------------------

    def test_staff_host_sign_in_sets_a_secure_cookie(self):
        password = self.site.create_user("rp_signin", "reception")
        c = self.staff("127.0.0.6", basic=False)
        r = c.get("/bridge/app/login.html")
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn("text/html", r.headers.get("Content-Type", ""))
        self.assertEqual(r.headers.get("Strict-Transport-Security"), "max-age=31536000")
        r = self.login(c, "rp_signin", password)
        self.assertEqual(r.status_code, 200, describe(r))
        value, attrs = cookie(r, "hb_session")
        self.assertTrue(value, "no hb_session cookie: %r" % set_cookies(r))
        self.assertIn("secure", attrs, "hb_session over HTTPS without Secure: %r" % set_cookies(r))
        self.assertIn("httponly", attrs)
        # the cookie opens the staff pages and the API (no Basic credentials)
        self.assertEqual(c.get("/bridge/me").json(), {"username": "rp_signin", "role": "reception"})
        for path in ("/bridge/app/", "/bridge/app/reception.html", "/app/explorer.html"):
            r = c.get(path)
            self.assertEqual(r.status_code, 200, describe(r))
            self.assertIn("text/html", r.headers.get("Content-Type", ""), path)
        r = c.get("/bridge/studies")
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn(self.study_uid, [s["study_uid"] for s in r.json()["studies"]])
        # the audit trail names the browser's address, not nginx's
        got = self.wait_audit(lambda e: e["actor"]["name"] == "rp_signin",
                              "no login event for rp_signin", action="login")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.6"}, got)

    def test_staff_host_takes_a_large_upload_and_gives_a_large_download(self):
        # nginx's default limit is 1 MB: a DICOM upload of several MB
        # passes, is stored, and comes back as a ZIP through the proxy.
        uid = h.generate_uid()
        path = large_dicom(os.path.join(self.tmp, "large.dcm"), 5, PatientID="RP-LARGE", StudyInstanceUID=uid)
        size = os.path.getsize(path)
        self.assertGreater(size, 5 * 1000 * 1000)
        c = self.staff()
        with open(path, "rb") as f:
            r = c.post("/instances", data=f.read(), headers={"Content-Type": "application/dicom"}, timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        oid = r.json()["ParentStudy"]
        r = c.get("/studies/%s/archive" % oid, timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        z = zipfile.ZipFile(io.BytesIO(r.content))
        members = [i for i in z.infolist() if not i.filename.endswith("/")]
        self.assertEqual(len(members), 1, z.namelist())
        self.assertEqual(members[0].file_size, size, "the archive's file is not the uploaded one")

    def test_plain_http_redirects_to_https(self):
        c = self.nginx.client(nh.PATIENT_HOST, "127.0.0.7", https=False)
        r = c.get("/s/abcdefghijklmnopqrstuv?x=1", allow_redirects=False)
        self.assertEqual(r.status_code, 301, describe(r))
        self.assertEqual(r.headers["Location"], "https://%s/s/abcdefghijklmnopqrstuv?x=1" % nh.PATIENT_HOST)
        # ... except Let's Encrypt's challenge (certbot --webroot)
        challenge = os.path.join(self.nginx.root, "acme", ".well-known", "acme-challenge")
        os.makedirs(challenge, exist_ok=True)
        with open(os.path.join(challenge, "tok3n"), "w") as f:
            f.write("tok3n.thumbprint")
        os.chmod(os.path.join(challenge, "tok3n"), 0o644)
        for d in (os.path.join(self.nginx.root, "acme"), os.path.join(self.nginx.root, "acme", ".well-known"),
                  challenge):
            os.chmod(d, 0o755)
        r = c.get("/.well-known/acme-challenge/tok3n", allow_redirects=False)
        self.assertEqual((r.status_code, r.text), (200, "tok3n.thumbprint"), describe(r))

    def test_tls_only_for_the_two_names(self):
        for name in (nh.STAFF_HOST, nh.PATIENT_HOST):
            self.assertIn(self.nginx.tls_handshake(name), ("TLSv1.2", "TLSv1.3"), name)
        # a scanner trying the address or another name gets no certificate
        for name in (None, "other.hospital.example"):
            with self.subTest(server_name=name):
                with self.assertRaises(OSError):  # ssl.SSLError
                    self.nginx.tls_handshake(name)

    # -- patient host -------------------------------------------------------------

    def test_patient_host_share_flow(self):
        ans = self.create_share()
        phone = self.phone("127.0.0.5")
        r = phone.get(ans["path"])
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertRegex(r.text, r"<input[^>]*name=[\"']?pin\b", "no PIN form on the landing page")
        self.assertEqual(r.headers.get("Strict-Transport-Security"), "max-age=31536000")
        r = phone.post(ans["path"], data={"pin": ans["pin"]}, allow_redirects=False)
        self.assertIn(r.status_code, (301, 302, 303), "unlock did not redirect: " + describe(r))
        self.assertIn(r.headers.get("Location"), ("/s/app", self.patient_base + "/s/app"))
        value, attrs = cookie(r, "hb_share")
        self.assertTrue(value, "no hb_share cookie: %r" % set_cookies(r))
        self.assertIn("secure", attrs, "hb_share over HTTPS without Secure: %r" % set_cookies(r))
        self.assertIn("httponly", attrs)
        r = phone.get("/s/app")
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn("text/html", r.headers.get("Content-Type", ""))
        r = phone.get("/s/api/share")
        self.assertEqual(r.status_code, 200, describe(r))
        studies = r.json()["studies"]
        self.assertEqual(len(studies), 1, studies)
        r = phone.get(studies[0]["downloads"]["dicom"], timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertEqual(r.content[:2], b"PK", "the DICOM download is not a ZIP")
        # Streamed by Orthanc through the patient host, on a ticket bound to the phone's
        # forwarded address; the answer carries what a download from /s/ would.
        self.assertEqual([x.status_code for x in r.history], [303])
        self.assertRegex(r.history[0].headers["Location"], r"^/studies/[0-9a-f-]+/media\?ticket=")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertEqual(r.headers.get("Referrer-Policy"), "no-referrer")
        self.assertIn("attachment", r.headers.get("Content-Disposition", ""))
        self.assertEqual(r.headers.get("Strict-Transport-Security"), "max-age=31536000")
        again = self.phone("127.0.0.5").get(r.history[0].headers["Location"])
        self.assertEqual(again.status_code, 403, "a used ticket opens nothing")
        got = self.wait_audit(lambda e: e["detail"].get("streamed") is True, "no streamed download event",
                              action="share.downloaded")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.5"}, got)
        # the phone's session opens nothing of the staff's through this host
        r = phone.get("/bridge/me")
        self.assertEqual(r.status_code, 404, describe(r))
        got = self.wait_audit(lambda e: e["detail"].get("share_id") == ans["share"]["id"],
                              "no share.opened event", action="share.opened")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.5"}, got)

    def test_patient_host_answers_404_for_everything_else(self):
        for method, path in (("GET", "/"), ("GET", "/bridge"), ("GET", "/bridge/app/"),
                             ("GET", "/bridge/app/login.html"), ("POST", "/bridge/login"),
                             ("GET", "/bridge/me"), ("GET", "/bridge/shares"), ("GET", "/app/explorer.html"),
                             ("GET", "/patients"), ("GET", "/studies"), ("GET", "/instances"),
                             ("POST", "/instances"), ("GET", "/system"), ("GET", "/tools/now"),
                             ("GET", "/dicom-web/studies"), ("GET", "/s"), ("GET", "/S/app"),
                             ("GET", "/studies/%s" % self.study_id),
                             ("GET", "/studies/%s/archive" % self.study_id),
                             # paths that mean something else once resolved
                             ("GET", "/s/../bridge/app/login.html"), ("GET", "/s/%2e%2e/bridge/app/"),
                             ("GET", "/s/..%2Fbridge%2Fapp%2Flogin.html"), ("GET", "//bridge/app/"),
                             ("GET", "/s/./../patients"), ("GET", "/s%2F..%2Fpatients"),
                             ("GET", "/studies/%s/media/../../../patients" % self.study_id)):
            with self.subTest(method=method, path=path):
                self.assert_nginx_404(nh.PATIENT_HOST, method, path, body=b"{}" if method == "POST" else None)

    def test_patient_host_takes_small_bodies_only(self):
        ans = self.create_share()
        test_id = secrets.token_hex(8)
        body = ("pin=%s&filler=%s" % (ans["pin"], "x" * 20000)).encode()
        status, _, _ = self.nginx.raw(nh.PATIENT_HOST, "POST", ans["path"], body=body, source="127.0.0.7",
                                      headers={"X-Test-Id": test_id,
                                               "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 413, "a 20 KB body was not refused by nginx")
        self.assertEqual(self.nginx.upstream_of(test_id), "-", "the 20 KB body reached Orthanc")

    def test_patient_host_passes_only_get_of_a_study_media(self):
        media = "/studies/%s/media" % self.study_id
        # passed to Orthanc, where the plugin wants a ticket (none here)
        for auth in (None, (h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)):
            with self.subTest(basic_credentials=bool(auth)):
                test_id = secrets.token_hex(8)
                r = self.phone("127.0.0.7").get(media, auth=auth, headers={"X-Test-Id": test_id})
                self.assertNotEqual(self.nginx.upstream_of(test_id), "-", "GET %s did not reach Orthanc" % media)
                self.assertNotEqual(r.status_code, 200, describe(r))
                self.assertNotEqual(r.content[:2], b"PK", "the study left through the patient host without "
                                    "a ticket%s" % (" (staff credentials were passed on)" if auth else ""))
        # the same request on the staff host, with staff credentials: the ZIP
        r = self.staff().get(media, timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertEqual(r.content[:2], b"PK")
        # anything else around it is not there
        for method, path in (("POST", media), ("PUT", media), ("DELETE", media), ("GET", media + "/"),
                             ("GET", "/studies/%s/media" % self.study_id.upper()),
                             ("GET", "/studies/%s/media" % self.study_id[:-1])):
            with self.subTest(method=method, path=path):
                self.assert_nginx_404(nh.PATIENT_HOST, method, path, body=b"" if method != "GET" else None)

    # -- the forwarded address ----------------------------------------------------

    def test_share_throttle_keys_on_the_forwarded_address(self):
        ans = self.create_share()
        guesser = self.phone("127.0.0.3")
        statuses = []
        throttled = None
        for i in range(LIMIT * 3):
            if i % 2 == 0:
                r = guesser.post(ans["path"], data={"pin": "%06d" % ((int(ans["pin"]) + 1 + i) % 1000000)},
                                 allow_redirects=False)
            else:
                r = guesser.get("/s/" + secrets.token_urlsafe(16))
            statuses.append(r.status_code)
            if "Retry-After" in r.headers:  # a wrong PIN answers 403 too, without it
                throttled = r
                break
        self.assertIsNotNone(throttled, "127.0.0.3 never throttled: %r" % statuses)
        # the "too many attempts" page: 403, or 200 where Orthanc cannot send a page with it
        self.assertEqual(throttled.status_code, h.page_status(403), describe(throttled))
        self.assertIn("s-kind-throttled", throttled.text, describe(throttled))
        self.assertEqual(len(statuses), LIMIT + 1, "throttled after %r, not after %d failures"
                         % (statuses, LIMIT))
        self.assertGreater(int(throttled.headers.get("Retry-After", "0")), 0, "no Retry-After")
        # even the right PIN from 127.0.0.3 waits now
        r = guesser.post(ans["path"], data={"pin": ans["pin"]}, allow_redirects=False)
        self.assertEqual(r.status_code, h.page_status(403), describe(r))
        self.assertIn("s-kind-throttled", r.text, describe(r))
        self.assertIsNone(cookie(r, "hb_share")[0])
        # another phone (127.0.0.4) opens the same link: the limit is not nginx's address
        phone = self.phone("127.0.0.4")
        self.assertEqual(phone.get(ans["path"]).status_code, 200)
        r = phone.post(ans["path"], data={"pin": ans["pin"]}, allow_redirects=False)
        self.assertIn(r.status_code, (301, 302, 303), describe(r))
        self.assertEqual(phone.get("/s/api/share").status_code, 200)
        # the audit trail names the guesser's address
        sid = ans["share"]["id"]
        failed = self.wait_audit(lambda e: e["detail"].get("share_id") == sid, "no share.unlock_failed event",
                                 action="share.unlock_failed")
        self.assertEqual({e["source_ip"] for e in failed}, {"127.0.0.3"}, failed)
        opened = self.wait_audit(lambda e: e["detail"].get("share_id") == sid, "no share.opened event",
                                 action="share.opened")
        self.assertEqual({e["source_ip"] for e in opened}, {"127.0.0.4"}, opened)

    def test_login_throttle_keys_on_the_forwarded_address(self):
        guesser = self.staff("127.0.0.13", basic=False)
        names = []
        throttled = None
        for i in range(LIMIT * 3):
            names.append("rp-guess-%d" % i)
            r = self.login(guesser, names[-1], "Wrong-Password-%d-xyz" % i)
            self.assertEqual(r.status_code, 403, describe(r))
            if "Retry-After" in r.headers:
                throttled = r
                break
        self.assertIsNotNone(throttled, "127.0.0.13 never throttled")
        self.assertEqual(len(names), LIMIT + 1, "throttled after %d failures, not %d" % (len(names) - 1, LIMIT))
        self.assertGreater(int(throttled.headers["Retry-After"]), 0)
        # the right password from 127.0.0.13 waits too; from 127.0.0.14 it works
        r = self.login(guesser, "rp_reception", self.staff_password)
        self.assertEqual(r.status_code, 403, describe(r))
        self.assertIsNone(cookie(r, "hb_session")[0])
        r = self.login(self.staff("127.0.0.14", basic=False), "rp_reception", self.staff_password)
        self.assertEqual(r.status_code, 200, describe(r))
        failed = self.wait_audit(lambda e: e["actor"]["name"] in names, "no login.failed events",
                                 action="login.failed")
        self.assertEqual({e["actor"]["name"] for e in failed}, set(names), failed)
        self.assertEqual({e["source_ip"] for e in failed}, {"127.0.0.13"}, failed)

    def test_forwarding_headers_sent_by_a_client_are_replaced_by_nginx(self):
        c = self.staff("127.0.0.8", basic=False)
        c.headers.update({"X-Forwarded-For": FORGED, "X-Forwarded-Proto": "http",
                          "Forwarded": "for=%s;proto=http" % FORGED})
        r = self.login(c, "rp-forger", "Wrong-Password-forger")
        self.assertEqual(r.status_code, 403, describe(r))
        r = self.login(c, "rp_reception", self.staff_password)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn("secure", cookie(r, "hb_session")[1], "X-Forwarded-Proto: http from the client was believed")
        got = self.wait_audit(lambda e: e["actor"]["name"] == "rp-forger", "no login.failed for rp-forger",
                              action="login.failed")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.8"}, got)

    # -- a real browser ---------------------------------------------------------------

    @unittest.skipUnless(CHROMIUM_OK, "chromium not installed")
    def test_browser_over_https(self):
        import cdp
        port = self.nginx.https_port
        b = cdp.Browser(extra_args=[
            # the throw-away certificate is self-signed
            "--ignore-certificate-errors",
            "--host-resolver-rules=MAP %s 127.0.0.1, MAP %s 127.0.0.1" % (nh.STAFF_HOST, nh.PATIENT_HOST)])
        b.start()
        self.addCleanup(b.close)
        out = h.artifacts_dir()
        staff = "https://%s:%d" % (nh.STAFF_HOST, port)

        def body():
            return b.evaluate("document.body ? document.body.innerText : ''") or ""

        def first(candidates):
            for sel in candidates:
                if b.evaluate("!!(function(){var e=document.querySelector(%s); return e && e.offsetParent!==null;})()"
                              % json.dumps(sel)):
                    return sel
            self.fail("none of %r on %s: %s" % (candidates, b.evaluate("location.href"), body()[:500]))

        # staff: sign in and the dashboard
        b.set_viewport(1366, 768)
        b.navigate(staff + "/bridge/app/login.html")
        b.wait_js("document.readyState==='complete' && !!document.querySelector('input[type=password]')",
                  message="no login form over HTTPS")
        self.assertEqual(b.evaluate("location.protocol"), "https:")
        b.type_into(first(USER_SELECTORS), "rp_reception")
        b.type_into("input[type=password]", self.staff_password)
        b.click(first(SUBMIT_SELECTORS))
        try:
            b.wait_js("!/login/.test(location.pathname) && document.readyState==='complete' && "
                      "document.body.innerText.indexOf(%s) >= 0 && document.body.innerText.indexOf(%s) >= 0"
                      % (json.dumps(SITE_NAME), json.dumps("PROXY")), 25)
        except AssertionError:
            b.screenshot(os.path.join(out, "reverse-proxy-dashboard-timeout.png"))
            self.fail("no dashboard with the study after signing in over HTTPS: %s; problems %r"
                      % (body()[:1000], b.problems))
        b.screenshot(os.path.join(out, "reverse-proxy-dashboard-1366x768.png"))
        cookies = {c["name"]: c for c in b.call("Network.getCookies", urls=[staff + "/"])["cookies"]}
        self.assertIn("hb_session", cookies, cookies)
        self.assertTrue(cookies["hb_session"]["secure"], cookies["hb_session"])
        self.assertEqual(b.problems, [], "script errors on the staff pages over HTTPS")

        # a write from the page (the reception making a link): the plugin
        # compares the browser's Origin with the Host nginx passed on
        created = b.evaluate(
            "fetch('/bridge/shares', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            " body: JSON.stringify({study: %s, consent_attested: true})})"
            ".then(function(r){ return r.text().then(function(t){ return [r.status, t]; }); })"
            % json.dumps(self.study_uid), await_promise=True)
        self.assertEqual(created[0], 200, "POST /bridge/shares from the staff page over HTTPS: %r" % (created,))
        ans = json.loads(created[1])
        self.assertTrue(ans["url"].startswith(self.patient_base + "/s/"), ans["url"])

        # patient: the link on a phone, PIN, the study
        b.set_viewport(390, 844, mobile=True)
        b.navigate(ans["url"])
        b.wait_js("document.readyState==='complete' && !!document.querySelector('input[name=pin]')", 15,
                  message="no PIN form on the patient host")
        b.type_into("input[name=pin]", ans["pin"])
        b.click("form button, form input[type=submit]")
        b.wait_js("location.pathname==='/s/app' && document.readyState==='complete' && "
                  "document.body.innerText.indexOf('PROXY') >= 0", 20,
                  message="the right PIN did not open the study over HTTPS")
        b.wait_js("Array.prototype.every.call(document.images, function(i){return i.complete;})", 20)
        b.screenshot(os.path.join(out, "reverse-proxy-patient-390x844.png"))
        self.assertEqual(b.evaluate("location.origin"), self.patient_base)
        cookies = {c["name"]: c for c in b.call("Network.getCookies", urls=[self.patient_base + "/s/app"])["cookies"]}
        self.assertIn("hb_share", cookies, cookies)
        self.assertTrue(cookies["hb_share"]["secure"], cookies["hb_share"])
        self.assertEqual(b.problems, [], "script errors on the patient pages over HTTPS")


# ---------------------------------------------------------------------------
# Straight to Orthanc's port, with forwarding headers of one's own
# ---------------------------------------------------------------------------

class DirectForgedHeadersTest(AuditMixin, unittest.TestCase):
    """Orthanc trusts only 127.0.0.2 (the proxy). A client on 127.0.0.1 that
    connects to Orthanc's port itself and claims to be someone else over
    HTTPS is still 127.0.0.1 over plain HTTP."""

    FORGED_HEADERS = {"X-Forwarded-For": FORGED, "X-Forwarded-Proto": "https",
                      "Forwarded": "for=%s;proto=https" % FORGED}

    @classmethod
    def setUpClass(cls):
        cls.site = h.OrthancSite("forged-headers", extra_config={
            # a second loopback address (127.0.0.9) keeps the administrator's
            # own requests apart from the throttled 127.0.0.1
            "RemoteAccessAllowed": True,
            "HospitalBridge": {
                "Security": {"TrustedProxies": [nh.PROXY_ADDRESS],
                             "LoginThrottle": {"MaxFailuresPerAddress": LIMIT}},
                "Shares": {"MaxFailuresPerAddress": LIMIT}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.admin = cls.site.session(h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)
        cls.admin.mount("http://", nh._SourceAdapter(None, "127.0.0.9"))
        cls.site.admin = cls.admin  # the harness's helpers too
        cls.password = "Rp-Direct-Pw-%s" % h.generate_uid()[-8:]
        cls.site.create_user("rp_direct", "reception", cls.password)

    def direct(self, **extra_headers):
        """A client on 127.0.0.1 that sends forged forwarding headers."""
        s = self.site.session()
        s.headers.update(self.FORGED_HEADERS)
        s.headers.update(extra_headers)
        return s

    def test_login_from_a_direct_client(self):
        url = self.site.url + "/bridge/login"
        c = self.direct()
        r = c.post(url, json={"username": "rp_direct", "password": self.password}, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        value, attrs = cookie(r, "hb_session")
        self.assertTrue(value)
        self.assertNotIn("secure", attrs, "a forged X-Forwarded-Proto made the cookie Secure")
        got = self.wait_audit(lambda e: e["actor"]["name"] == "rp_direct", "no login event", action="login")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.1"}, got)
        # failures count under 127.0.0.1 whatever address each one claims
        names = []
        throttled = None
        for i in range(LIMIT * 3):
            names.append("rp-direct-guess-%d" % i)
            r = self.direct(**{"X-Forwarded-For": "203.0.113.%d" % (60 + i)}).post(
                url, json={"username": names[-1], "password": "Wrong-Password-%d-abc" % i}, timeout=30)
            self.assertEqual(r.status_code, 403, describe(r))
            if "Retry-After" in r.headers:
                throttled = r
                break
        self.assertIsNotNone(throttled, "never throttled: each forged address counted apart")
        self.assertEqual(len(names), LIMIT + 1)
        failed = self.wait_audit(lambda e: e["actor"]["name"] in names, "no login.failed", action="login.failed")
        self.assertEqual({e["source_ip"] for e in failed}, {"127.0.0.1"}, failed)

    def test_share_failures_from_a_direct_client(self):
        uid = h.generate_uid()
        tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-forged-"))
        self.addCleanup(shutil.rmtree, tmp, True)
        p = h.make_variant(h.sample("CT_small.dcm"), os.path.join(tmp, "a.dcm"), study_uid=uid,
                           PatientID="RP-DIRECT")
        self.site.storescu([p])
        self.site.wait_indexed(uid, timeout=30)
        r = self.admin.post(self.site.url + "/bridge/shares", json={"study": uid, "consent_attested": True},
                            timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        ans = r.json()
        path = "/s/" + ans["token"]
        # the right PIN with a forged X-Forwarded-Proto: https: no Secure cookie
        r = self.direct().post(self.site.url + path, data={"pin": ans["pin"]}, allow_redirects=False, timeout=30)
        self.assertIn(r.status_code, (301, 302, 303), describe(r))
        value, attrs = cookie(r, "hb_share")
        self.assertTrue(value, set_cookies(r))
        self.assertNotIn("secure", attrs, "a forged X-Forwarded-Proto made hb_share Secure")
        opened = self.wait_audit(lambda e: e["detail"].get("share_id") == ans["share"]["id"], "no share.opened",
                                 action="share.opened")
        self.assertEqual({e["source_ip"] for e in opened}, {"127.0.0.1"}, opened)
        wrong = "%06d" % ((int(ans["pin"]) + 1) % 1000000)
        statuses = []
        throttled = None
        for i in range(LIMIT * 3):
            c = self.direct(**{"X-Forwarded-For": "203.0.113.%d" % (80 + i)})
            if i == 0:
                r = c.post(self.site.url + path, data={"pin": wrong}, allow_redirects=False, timeout=30)
            else:
                r = c.get(self.site.url + "/s/" + secrets.token_urlsafe(16), timeout=30)
            statuses.append(r.status_code)
            if "Retry-After" in r.headers:
                throttled = r
                break
        self.assertIsNotNone(throttled, "never throttled: each forged address counted apart: %r" % statuses)
        self.assertEqual(throttled.status_code, h.page_status(403), describe(throttled))
        self.assertIn("s-kind-throttled", throttled.text, describe(throttled))
        self.assertEqual(len(statuses), LIMIT + 1, statuses)
        got = self.wait_audit(lambda e: e["detail"].get("share_id") == ans["share"]["id"], "no share.unlock_failed",
                              action="share.unlock_failed")
        self.assertEqual({e["source_ip"] for e in got}, {"127.0.0.1"}, got)


# ---------------------------------------------------------------------------
# The production sample
# ---------------------------------------------------------------------------

class ProductionSampleTest(unittest.TestCase):
    SAMPLE = os.path.join(h.SOURCE_DIR, "OrthancConfiguration", "production", "orthanc.json")
    NGINX_SITE = os.path.join(h.SOURCE_DIR, "OrthancConfiguration", "nginx", "hospitalbridge.conf")

    @classmethod
    def setUpClass(cls):
        with open(cls.SAMPLE) as f:
            cls.config = json.loads(strip_json_comments(f.read()))
        with open(cls.NGINX_SITE) as f:
            cls.nginx_site = f.read()

    def test_sample_matches_the_nginx_files(self):
        cfg = self.config
        self.assertFalse(cfg.get("SslEnabled", False), "SslEnabled crashes Debian 12's Orthanc")
        self.assertNotIn("SslCertificate", cfg)
        self.assertIs(cfg.get("RemoteAccessAllowed"), False, "Orthanc's port must stay on loopback")
        self.assertIs(cfg.get("AuthenticationEnabled"), False)
        self.assertIn("server 127.0.0.1:%d;" % cfg["HttpPort"], self.nginx_site)
        bridge = cfg["HospitalBridge"]
        self.assertEqual(bridge["Security"]["TrustedProxies"], ["127.0.0.1"])
        names = re.findall(r"server_name ([^;\s]+);", self.nginx_site)
        self.assertEqual(names, [nh.STAFF_HOST, nh.PATIENT_HOST], names)
        self.assertEqual(bridge["Shares"]["PublicBaseUrl"], "https://" + nh.PATIENT_HOST)

    def test_orthanc_starts_with_the_sample(self):
        site = SampleSite(self.SAMPLE)
        self.addCleanup(site.close)
        site.start()
        self.assertIs(site.config["RemoteAccessAllowed"], False)
        # nginx on this server connects from 127.0.0.1: its forwarding headers are believed
        s = site.session()
        r = s.post(site.url + "/bridge/login", json={"username": h.ADMIN_USER, "password": h.DEFAULT_ADMIN_PASSWORD},
                   headers={"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"}, timeout=60)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn("secure", cookie(r, "hb_session")[1])
        r = site.admin.get(site.url + "/bridge/audit", params={"action": "login", "limit": 50}, timeout=60)
        self.assertEqual(r.status_code, 200, describe(r))
        forms = [e for e in r.json()["events"] if e["detail"].get("method") == "form"]
        self.assertEqual([e["source_ip"] for e in forms], ["198.51.100.20"], forms)
        # and Orthanc's port answers nobody but this server
        other = site.session()
        other.mount("http://", nh._SourceAdapter(None, "127.0.0.3"))
        self.assertEqual(s.get(site.url + "/bridge/app/login.html", timeout=30).status_code, 200)
        r = other.get(site.url + "/bridge/app/login.html", timeout=30)
        self.assertNotEqual(r.status_code, 200, "Orthanc's port answers another address: " + describe(r))


class SampleSite(h.OrthancSite):
    """Orthanc started with OrthancConfiguration/production/orthanc.json as
    written (comments and all), with only this machine's paths and ports
    put in and the ATNA repository switched off."""

    def __init__(self, sample):
        with open(sample) as f:
            self.sample_text = f.read()
        super().__init__("production-sample", admin_password=h.DEFAULT_ADMIN_PASSWORD,
                         env={"HB_PEER_PASSWORD_ST_MARY": "Peer-Pw-St-Mary-123",
                              "HB_PEER_PASSWORD_REGIONAL_IMAGING": "Peer-Pw-Regional-123"})
        self.password_file = os.path.join(self.root, "admin-password")
        with open(self.password_file, "w") as f:
            f.write(h.DEFAULT_ADMIN_PASSWORD + "\n")
        os.chmod(self.password_file, 0o600)

    def config_text(self):
        text = self.sample_text
        for old, new, count in (
                ('"/var/lib/orthanc/db"', json.dumps(self.storage_dir), 2),
                ('"/usr/local/lib/orthanc/libHospitalBridge.so"', json.dumps(h.PLUGIN), 1),
                ('"HttpPort": 8042', '"HttpPort": %d' % self.http_port, 1),
                ('"DicomPort": 4242', '"DicomPort": %d' % self.dicom_port, 1),
                ('"/etc/orthanc/tls/hospitals-ca.pem"', '"/etc/ssl/certs/ca-certificates.crt"', 1),
                ('"/etc/orthanc/hospitalbridge-admin-password"', json.dumps(self.password_file), 1),
                ('"Syslog": { "Enabled": true,', '"Syslog": { "Enabled": false,', 1)):
            text = nh.replace_exactly(text, old, new, count, "production/orthanc.json")
        for folder in ("/srv/scanner-out", "/srv/scanner-archive", "/srv/scanner-failed"):
            path = os.path.join(self.root, os.path.basename(folder))
            os.makedirs(path, exist_ok=True)
            text = nh.replace_exactly(text, json.dumps(folder), json.dumps(path), 1, "production/orthanc.json")
        return text

    def build_config(self):
        # what the harness reads back (name, ports, database)
        return json.loads(strip_json_comments(self.config_text()))

if __name__ == "__main__":
    unittest.main()
