"""QR share links (issue 4): a real Orthanc + HospitalBridge, a cookie-keeping
HTTP client playing the patient's phone, zbarimg reading the QR codes and a
headless Chromium for the screenshots.

Sites:
  - ShareTest: the main site (shares, slips, the patient pages, downloads,
    security headers, audit, screenshots); Shares.MaxFailuresPerAddress is
    raised so that the deliberate failures of its tests (all from 127.0.0.1)
    cannot throttle the others;
  - ShareThrottleTest: a small Shares.MaxFailuresPerAddress; the per-address
    rate limit of token look-ups and unlocks;
  - AutoShareTest: Shares.AutoShare for CT and "Consent.Share": "opt-out";
    a stored CT study gets a pending slip on its own.

Every site's PublicBaseUrl is its own loopback URL, so that the URL in the
QR code can be followed by the test.
"""

import base64
import calendar
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import unittest
import zipfile

import orthanc_harness as h

TOKEN_RE = r"[A-Za-z0-9_-]{22}"
ZBARIMG = shutil.which("zbarimg")
RSVG = shutil.which("rsvg-convert")
CHROMIUM_OK = os.path.exists(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
SITE_NAME = "General Hospital"

# Shown as text wherever it appears. No '^' and no '=' (PN separators).
MARKUP_NAME = "Hbx<b>Bold</b><img src><i>It</i>"
# LO: '=' allowed, a script payload.
MARKUP_DESCRIPTION = "<img src=x onerror=\"window.hbXss=1\">Chest"

P_MAIN = {"PatientID": "SHR-MAIN-1", "PatientName": "SHARE^ALICE", "PatientBirthDate": "19800102",
          "PatientSex": "F"}
P_OTHER = {"PatientID": "SHR-OTHER-2", "PatientName": "OTHER^BOB", "PatientBirthDate": "19710203",
           "PatientSex": "M"}
P_TWO = {"PatientID": "SHR-TWO-3", "PatientName": "TWICE^CAROL", "PatientBirthDate": "19650304",
         "PatientSex": "F"}
P_MARKUP = {"PatientID": "SHR-MARKUP-4", "PatientName": MARKUP_NAME, "PatientBirthDate": "19900405",
            "PatientSex": "M"}
P_NOCONSENT = {"PatientID": "SHR-NOCONSENT-5", "PatientName": "NOCONSENT^ERIC", "PatientBirthDate": "19920607",
               "PatientSex": "M"}
P_CONSENT = {"PatientID": "198805060000000777", "PatientName": "CONSENT^DORA",
             "PatientBirthDate": "19880506", "PatientSex": "F"}

SECURITY_HEADERS = ("Referrer-Policy", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options",
                    "X-Frame-Options")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

_SESSIONS = []


def anon():
    """A client without staff credentials (closed when the module's tests end)."""
    s = h.requests.Session()
    s.trust_env = False
    _SESSIONS.append(s)
    return s


def tearDownModule():
    for s in _SESSIONS:
        s.close()


def share_config(site, extra=None):
    """The HospitalBridge.Shares section for a site whose ports are chosen."""
    cfg = {"HospitalBridge": {
        "Site": {"Id": "HOS-001", "Name": SITE_NAME},
        "Shares": {"PublicBaseUrl": site.url},
    }}
    return h.deep_merge(cfg, extra or {})


def make_study(tmp, label, patient, n=1, modality="CT", **tags):
    """Files of one fresh study (n instances, one series): (uid, [paths])."""
    uid, series = h.generate_uid(), h.generate_uid()
    base = h.sample("MR_small.dcm" if modality == "MR" else "CT_small.dcm")
    files = []
    fields = {"StudyDate": "20240301", "StudyTime": "101500", "StudyDescription": "Share " + label}
    fields.update(tags)
    fields.update(patient)
    for i in range(n):
        p = os.path.join(tmp, "%s-%d.dcm" % (label, i))
        h.make_variant(base, p, study_uid=uid, series_uid=series, Modality=modality, InstanceNumber=i + 1,
                       **fields)
        files.append(p)
    return uid, files


def error_text(r):
    try:
        body = r.json()
    except ValueError:
        return r.text[:500]
    if isinstance(body, dict):
        return "%s %s" % (body.get("error", ""), body.get("detail", ""))
    return r.text[:500]


def describe(r):
    return "%s %s -> %d %s" % (r.request.method, r.request.url, r.status_code, r.text[:600])


def zbar_decode(path):
    """The symbols zbarimg reads in an image file (list of str)."""
    if not ZBARIMG:
        raise unittest.SkipTest("zbarimg not installed (apt-get install zbar-tools)")
    r = subprocess.run([ZBARIMG, "--raw", "-q", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return [line.strip() for line in r.stdout.decode("utf-8", "replace").splitlines() if line.strip()]


def svg_to_png(svg_bytes, out_png, workdir):
    """Render an SVG to PNG (white background, quiet zone): rsvg-convert when
    present, else headless Chromium. Returns the converter's name, or None
    when there is none."""
    svg_path = os.path.join(workdir, os.path.basename(out_png)[:-4] + ".svg")
    with open(svg_path, "wb") as f:
        f.write(svg_bytes)
    if RSVG:
        r = subprocess.run([RSVG, "-w", "400", "-h", "400", "-b", "white", "-o", out_png, svg_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode == 0:
            return "rsvg-convert"
    if not CHROMIUM_OK:
        return None
    import cdp
    page = os.path.join(workdir, os.path.basename(out_png)[:-4] + ".html")
    with open(page, "w") as f:
        f.write("<!doctype html><html><body style=\"margin:0;background:#fff\">"
                "<div style=\"padding:40px;background:#fff;width:400px;height:400px\">"
                "<img src=\"%s\" style=\"width:400px;height:400px;display:block\"></div></body></html>"
                % os.path.basename(svg_path))
    with cdp.Browser() as b:
        b.set_viewport(480, 480)
        b.navigate("file://" + page)
        b.wait_js("document.images.length===1 && document.images[0].complete", 10)
        b.screenshot(out_png)
    return "chromium"


def cookie_attributes(set_cookies, name="hb_share"):
    """(value, {attr_lower: value}) of cookie `name` among raw Set-Cookie
    header values (list of str)."""
    for raw in set_cookies:
        for part in re.split(r",(?=\s*[A-Za-z0-9_-]+=)", raw or ""):
            items = [x.strip() for x in part.split(";")]
            if items and items[0].startswith(name + "="):
                attrs = {}
                for a in items[1:]:
                    k, _, v = a.partition("=")
                    attrs[k.strip().lower()] = v.strip()
                return items[0][len(name) + 1:], attrs
    return None, {}


def set_cookie_headers(r):
    try:
        return list(r.raw.headers.getlist("Set-Cookie"))
    except AttributeError:  # pragma: no cover
        v = r.headers.get("Set-Cookie")
        return [v] if v else []


def content_types(r):
    """Every Content-Type header of an answer (requests would join them)."""
    try:
        return list(r.raw.headers.getlist("Content-Type"))
    except AttributeError:  # pragma: no cover
        v = r.headers.get("Content-Type")
        return [v] if v else []


def has_pin_form(html):
    return re.search(r"<input[^>]*name=[\"']?pin\b", html or "", re.I) is not None


def is_jpeg(data):
    return data[:3] == b"\xff\xd8\xff"


def grey_stats(jpeg):
    """(mean, max) grey level of a JPEG, or None without PIL."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return None
    im = Image.open(io.BytesIO(jpeg)).convert("L")
    hist = im.histogram()
    n = sum(hist)
    return sum(i * c for i, c in enumerate(hist)) / float(n), max(i for i, c in enumerate(hist) if c)


def other_pin(pin, k=0):
    """A 6-digit PIN that is not `pin`."""
    while True:
        cand = "%06d" % ((int(pin) + 111111 * (k + 1) + 7) % 1000000)
        if cand != pin:
            return cand
        k += 1


# ---------------------------------------------------------------------------
# shared mixin
# ---------------------------------------------------------------------------

class ShareHelpers(object):

    site = None

    # -- staff side -------------------------------------------------------------

    def create_share(self, expect=200, session=None, consent_attested=True, **body):
        if consent_attested is not None:
            body["consent_attested"] = consent_attested
        r = (session or self.site.admin).post(self.site.url + "/bridge/shares", json=body, timeout=60)
        if expect is not None:
            self.assertEqual(r.status_code, expect, "POST /bridge/shares %r -> %d %s"
                             % (body, r.status_code, r.text[:800]))
        if expect != 200:
            return r
        ans = r.json()
        for key in ("share", "token", "url", "qr_png", "qr_svg", "slip"):
            self.assertIn(key, ans, "create answer lacks %r: %r" % (key, ans))
        self.assertRegex(ans["token"], "^" + TOKEN_RE + "$", "token is not 22 base64url characters")
        self.assertEqual(ans["url"], self.site.url + "/s/" + ans["token"],
                         "url is not <PublicBaseUrl>/s/<token>")
        factor = body.get("second_factor", "pin")
        if factor == "pin":
            self.assertRegex(ans.get("pin", ""), r"^\d{6}$", "no 6-digit PIN in %r" % ans)
        else:
            self.assertNotIn("pin", ans, "a PIN answered for second_factor %s" % factor)
        self.assertEqual(ans["share"]["status"], "active", ans["share"])
        self.assertTrue(ans["share"]["slip_pending"], ans["share"])
        return ans

    def get_share(self, share_id):
        r = self.site.admin.get(self.site.url + "/bridge/shares/%s" % share_id, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        return r.json()

    def staff_post(self, path, body=None, expect=200):
        r = self.site.admin.post(self.site.url + path, json=body if body is not None else {}, timeout=60)
        if expect is not None:
            self.assertEqual(r.status_code, expect, describe(r))
        return r

    def decode_qr_png(self, share_id, label):
        r = self.site.admin.get(self.site.url + "/bridge/shares/%s/qr.png" % share_id, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertTrue(r.headers.get("Content-Type", "").startswith("image/png"), r.headers)
        self.assertEqual(r.content[:8], b"\x89PNG\r\n\x1a\n", "qr.png is not a PNG")
        path = os.path.join(h.artifacts_dir(), "share-%s-qr.png" % label)
        with open(path, "wb") as f:
            f.write(r.content)
        return zbar_decode(path)

    # -- patient side -----------------------------------------------------------

    def phone(self):
        """A fresh cookie-keeping client with no staff credentials."""
        s = anon()
        self.addCleanup(s.close)
        return s

    def unlock(self, phone, url, pin=None, birth_date=None, expect_ok=True):
        data = {}
        if pin is not None:
            data["pin"] = pin
        if birth_date is not None:
            data["birth_date"] = birth_date
        r = phone.post(url, data=data, allow_redirects=False, timeout=30)
        if expect_ok:
            # 303 expected; Orthanc's OrthancPluginRedirect can only send 301
            self.assertIn(r.status_code, (301, 302, 303), "unlock did not redirect: " + describe(r))
            loc = r.headers.get("Location", "")
            self.assertTrue(loc == "/s/app" or loc == self.site.url + "/s/app",
                            "unlock redirects to %r, not /s/app" % loc)
            value, attrs = cookie_attributes(set_cookie_headers(r))
            self.assertTrue(value, "no hb_share cookie in %r" % set_cookie_headers(r))
        return r

    def open_app(self, phone):
        r = phone.get(self.site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        return r.json()

    def assert_s_headers(self, r, what=None):
        """The security headers every /s/ answer carries."""
        what = what or r.request.url
        hd = r.headers
        missing = [k for k in SECURITY_HEADERS if k not in hd]
        self.assertEqual(missing, [], "%s (%d) lacks %s; headers: %r" % (what, r.status_code, missing, dict(hd)))
        self.assertEqual(hd["Referrer-Policy"].strip().lower(), "no-referrer", what)
        self.assertIn("no-store", hd["Cache-Control"].lower(), what)
        csp = hd["Content-Security-Policy"]
        self.assertRegex(csp, r"(^|;)\s*default-src 'self'\s*(;|$)", "%s CSP %r" % (what, csp))
        self.assertRegex(csp, r"frame-ancestors 'none'", "%s CSP %r" % (what, csp))
        self.assertNotIn("unsafe-inline", csp, "%s CSP allows inline code: %r" % (what, csp))
        self.assertEqual(hd["X-Content-Type-Options"].strip().lower(), "nosniff", what)
        self.assertEqual(hd["X-Frame-Options"].strip().upper(), "DENY", what)

    def assert_page(self, r, status, what):
        """One of the plugin's HTML pages, answered with `status` (200 where
        Orthanc cannot send a page with another: h.page_status), labelled
        HTML and nothing else."""
        self.assertEqual(r.status_code, h.page_status(status), "%s: %s" % (what, describe(r)))
        self.assertEqual(content_types(r), ["text/html; charset=utf-8"], "%s: not labelled HTML only" % what)

    def assert_locked_page(self, r, what):
        self.assertIn(r.status_code, (h.page_status(423), h.page_status(403)),
                      "%s: not the locked page: %s" % (what, describe(r)))
        self.assertEqual(content_types(r), ["text/html; charset=utf-8"], "%s: not labelled HTML only" % what)
        self.assertFalse(has_pin_form(r.text), "%s: the locked page still has a PIN form" % what)
        self.assert_notice_kind(r, "locked", what)

    def assert_notice_kind(self, r, kind, what):
        """notice.html renders its kind as the body class s-kind-<kind>."""
        self.assertIn("s-kind-%s" % kind, r.text, "%s: not the %r notice: %s" % (what, kind, describe(r)))

    # -- DB ---------------------------------------------------------------------

    def set_expired(self, share_id):
        """Make a share expire now: its expires_at in the plugin's SQLite
        file (written while Orthanc runs, as the lead suggested)."""
        con = sqlite3.connect(self.site.database_path, timeout=30)
        try:
            row = con.execute("SELECT expires_at FROM shares WHERE id=?", (share_id,)).fetchone()
            self.assertIsNotNone(row, "share %s not in table shares" % share_id)
            old = row[0]
            now = int(time.time())
            if isinstance(old, str) and not old.strip().isdigit():
                new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 120))
            elif int(old) > 10 ** 11:  # milliseconds
                new = (now - 120) * 1000
            else:
                new = now - 120
            con.execute("UPDATE shares SET expires_at=? WHERE id=?", (new, share_id))
            con.commit()
        finally:
            con.close()

    # -- audit ------------------------------------------------------------------

    def audit_events(self, action, **params):
        params.update({"action": action, "limit": 500})
        r = self.site.admin.get(self.site.url + "/bridge/audit", params=params, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        return r.json()["events"]


# ---------------------------------------------------------------------------
# the main site
# ---------------------------------------------------------------------------

class ShareTest(ShareHelpers, unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-share-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("share")
        cls.addClassCleanup(cls.site.close)
        cls.site.allocate_ports()
        cls.site.extra_config = share_config(cls.site, {"HospitalBridge": {"Shares": {
            "MaxFailuresPerAddress": 100000}}})
        cls.site.start()
        T = cls.tmp
        cls.uid_main, f_main = make_study(T, "main", P_MAIN, n=3, StudyDescription="CHEST CT")
        cls.uid_other, f_other = make_study(T, "other", P_OTHER, n=1, modality="MR")
        cls.uid_two_a, f_two_a = make_study(T, "two-a", P_TWO, n=1, StudyDate="20230101")
        cls.uid_two_b, f_two_b = make_study(T, "two-b", P_TWO, n=1, modality="MR", StudyDate="20240202")
        cls.uid_markup, f_markup = make_study(T, "markup", P_MARKUP, n=2, StudyDescription=MARKUP_DESCRIPTION)
        cls.uid_consent, f_consent = make_study(T, "consent", P_CONSENT, n=1)
        cls.uid_noconsent, f_noconsent = make_study(T, "noconsent", P_NOCONSENT, n=1)
        cls.site.storescu(f_main + f_other + f_two_a + f_two_b + f_markup + f_consent + f_noconsent)
        cls.ids = {}
        for uid in (cls.uid_main, cls.uid_other, cls.uid_two_a, cls.uid_two_b, cls.uid_markup, cls.uid_consent,
                    cls.uid_noconsent):
            cls.site.wait_indexed(uid, timeout=30)
            cls.ids[uid] = h.wait_until(lambda: cls.site.orthanc_study_id(uid), 20)
        cls.site.wait_idle(timeout=30)
        cls.id_main = cls.ids[cls.uid_main]
        cls.id_other = cls.ids[cls.uid_other]
        cls.rec_pw = "Share-Desk-Pw-" + h.generate_uid()[-10:]
        cls.reception = cls.site.user_session("desk_share", "reception", cls.rec_pw)

    # -- creation, QR ----------------------------------------------------------

    def test_qr_png_and_svg_decode_to_the_url(self):
        ans = self.create_share(session=self.reception, study=self.uid_main)
        sid = ans["share"]["id"]
        self.assertEqual(ans["share"]["created_by"], "desk_share")
        self.assertEqual([s["id"] for s in ans["share"]["studies"]], [self.id_main])
        self.assertEqual(ans["share"]["permissions"], ["view", "download"])
        self.assertEqual(ans["share"]["second_factor"], "pin")
        self.assertEqual(ans["qr_png"], "/bridge/shares/%s/qr.png" % sid)
        self.assertEqual(ans["qr_svg"], "/bridge/shares/%s/qr.svg" % sid)

        got = self.decode_qr_png(sid, "png")
        self.assertEqual(got, [ans["url"]], "qr.png decodes to %r, the answer's url is %r" % (got, ans["url"]))
        self.assertRegex(got[0], "^" + re.escape(self.site.url) + "/s/" + TOKEN_RE + "$")

        # the secret is kept only as a hash: neither the token nor the PIN in the share JSON or list
        listing = self.site.admin.get(self.site.url + "/bridge/shares", params={"status": "all"}, timeout=30)
        self.assertEqual(listing.status_code, 200, describe(listing))
        self.assertIn(sid, [s["id"] for s in listing.json()["shares"]])
        for text in (json.dumps(self.get_share(sid)), listing.text):
            self.assertNotIn(ans["token"], text, "token readable again after creation")
        self.assertNotRegex(json.dumps(self.get_share(sid)), r"\b%s\b" % ans["pin"])

        # an anonymous client or the patient cannot fetch the QR
        self.assertIn(anon().get(self.site.url + "/bridge/shares/%s/qr.png" % sid, timeout=30).status_code,
                      (401, 403))

        sysinfo = self.site.admin.get(self.site.url + "/bridge/system", timeout=30).json()
        self.assertIn("shares", sysinfo, "no shares section in /bridge/system")
        self.assertTrue(sysinfo["shares"]["enabled"], sysinfo["shares"])
        self.assertEqual(sysinfo["shares"]["public_base_url"], self.site.url)
        self.assertGreaterEqual(sysinfo["shares"]["active"], 1)
        self.assertGreaterEqual(sysinfo["shares"]["pending_slips"], 1)

        # last: the SVG (the rest of the test does not depend on a converter)
        r = self.site.admin.get(self.site.url + "/bridge/shares/%s/qr.svg" % sid, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertIn("svg", r.headers.get("Content-Type", ""), r.headers)
        self.assertRegex(r.text[:300], r"<(\?xml|svg)", "qr.svg is not SVG")
        out = os.path.join(h.artifacts_dir(), "share-svg-qr.png")
        converter = svg_to_png(r.content, out, self.tmp)
        if converter is None:
            self.skipTest("only the qr.svg decoding is skipped (everything before it passed): no SVG converter "
                          "(rsvg-convert or chromium)")
        got = zbar_decode(out)
        self.assertEqual(got, [ans["url"]], "qr.svg (rendered by %s) decodes to %r" % (converter, got))

    def test_create_errors(self):
        missing = "1.2.826.0.1.3680043.8.498.99999999999999999"
        r = self.create_share(expect=404, study=missing)
        self.assertIn(missing, r.text, "404 does not name the study: " + r.text[:300])
        r = self.create_share(expect=404, study="0123456789abcdef-not-an-orthanc-id")
        self.assertIn("0123456789abcdef-not-an-orthanc-id", r.text)
        r = self.create_share(expect=404, patient_id="NOBODY-HERE-123")
        self.assertIn("No studies for this patient", error_text(r))
        # consent: opt-in by default for Share, nothing recorded -> 409 (a patient no test shares: an
        # attested share may well record the patient's consent)
        r = self.create_share(expect=409, consent_attested=None, study=self.uid_noconsent)
        self.assertIn("Consent required", error_text(r))
        r = self.create_share(expect=409, consent_attested=False, study=self.uid_noconsent)
        r = self.create_share(expect=409, consent_attested=None, patient_id=P_NOCONSENT["PatientID"])
        # bad fields: 400
        for body in ({"study": self.uid_main, "patient_id": P_MAIN["PatientID"]},
                     {},
                     {"study": self.uid_main, "valid_days": 0},
                     {"study": self.uid_main, "valid_days": 100000},
                     {"study": self.uid_main, "valid_days": "7"},
                     {"study": self.uid_main, "second_factor": "sms"},
                     {"study": self.uid_main, "second_factor": "none"},   # not allowed by default
                     {"study": self.uid_main, "permissions": ["download"]},
                     {"study": self.uid_main, "permissions": ["view", "delete"]},
                     {"study": self.uid_main, "max_uses": 0},
                     {"study": self.uid_main, "max_uses": 1001},
                     {"study": self.uid_main, "bogus": 1}):
            r = self.create_share(expect=None, **body)
            self.assertEqual(r.status_code, 400, "POST /bridge/shares %r -> %d %s"
                             % (body, r.status_code, r.text[:300]))
            self.assertTrue(r.json().get("error"), r.text[:300])
        # by Orthanc ID as well as by StudyInstanceUID
        ans = self.create_share(study=self.id_main)
        self.assertEqual(ans["share"]["studies"][0]["study_uid"], self.uid_main)
        self.assertEqual(ans["share"]["scope"], "study")
        # no staff credentials -> no share
        r = anon().post(self.site.url + "/bridge/shares", json={"study": self.uid_main, "consent_attested": True},
                        timeout=30)
        self.assertIn(r.status_code, (401, 403), describe(r))

    def test_consent_permit_allows_share_without_attestation(self):
        def probe():
            r = self.site.admin.get(self.site.url + "/bridge/patients",
                                    params={"national_id": P_CONSENT["PatientID"]}, timeout=30)
            r.raise_for_status()
            live = [p for p in r.json()["patients"] if not p.get("merged_into")]
            return live[0] if len(live) == 1 else None
        pat = h.wait_until(probe, 20, message="no registry entry for the consent patient")
        self.create_share(expect=409, consent_attested=None, study=self.uid_consent)
        r = self.site.admin.post(self.site.url + "/bridge/patients/%s/consents" % pat["id"], timeout=30,
                                 json={"kind": "share", "decision": "permit", "method": "verbal"})
        self.assertIn(r.status_code, (200, 201), describe(r))
        ans = self.create_share(consent_attested=None, study=self.uid_consent)
        self.assertEqual(ans["share"]["patient_id"], P_CONSENT["PatientID"])

    # -- the patient's whole journey -------------------------------------------

    def test_patient_flow_lock_unlock_list_download(self):
        site = self.site
        ans = self.create_share(study=self.uid_main, note="flow")
        sid, url, token, pin = ans["share"]["id"], ans["url"], ans["token"], ans["pin"]
        phone = self.phone()

        # landing: the hospital, no patient data, no token in the page
        r = phone.get(url, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assert_s_headers(r, "landing")
        self.assertIn(SITE_NAME, r.text, "landing page does not name the hospital")
        self.assertTrue(has_pin_form(r.text), "landing page has no PIN input")
        self.assertNotIn(token, r.text, "the token is written in the landing page")
        for secret in ("SHARE", "ALICE", P_MAIN["PatientID"], "CHEST CT"):
            self.assertNotIn(secret, r.text, "landing page shows %r before the unlock" % secret)

        # 1: a PIN of the wrong shape is a failure, with a clear message
        r = phone.post(url, data={"pin": "12ab"}, allow_redirects=False, timeout=30)
        self.assert_page(r, 403, "PIN '12ab'")
        self.assert_s_headers(r, "failed unlock")
        self.assertTrue(has_pin_form(r.text), "after one failure the form must be shown again")
        self.assertRegex(r.text, r"(?i)(6|six)\s*(-\s*)?digit", "no clear message for PIN '12ab'")
        self.assertEqual(cookie_attributes(set_cookie_headers(r))[0], None, "cookie after a failure")
        self.assertEqual(self.get_share(sid)["failed_attempts"], 1, "the malformed PIN was not counted")

        # 2..4: wrong PINs
        for k in range(3):
            r = phone.post(url, data={"pin": other_pin(pin, k)}, allow_redirects=False, timeout=30)
            self.assert_page(r, 403, "wrong PIN %d" % (k + 2))
            self.assertTrue(has_pin_form(r.text), "wrong PIN %d: no form" % (k + 2))
            self.assertNotIn(token, r.text)
        self.assertEqual(self.get_share(sid)["failed_attempts"], 4)

        # 5: locked (on this answer, or at the latest on the next look-up)
        r5 = phone.post(url, data={"pin": other_pin(pin, 5)}, allow_redirects=False, timeout=30)
        self.assertIn(r5.status_code, (h.page_status(403), h.page_status(423)), describe(r5))
        r = phone.get(url, timeout=30)
        self.assert_locked_page(r, "GET after 5 wrong PINs")
        self.assert_s_headers(r, "locked page")
        self.assertIn(SITE_NAME, r.text, "the locked page does not give the hospital's name")
        if has_pin_form(r5.text):
            print("note: the 5th wrong PIN answered the landing page; the lock shows on the next GET")
        st = self.get_share(sid)
        self.assertEqual(st["status"], "locked", st)
        self.assertTrue(st["locked_at"], st)
        # the right PIN does not open a locked share
        r = phone.post(url, data={"pin": pin}, allow_redirects=False, timeout=30)
        self.assert_locked_page(r, "right PIN while locked")
        self.assertEqual(cookie_attributes(set_cookie_headers(r))[0], None, "locked share gave a session")

        # staff unlock -> right PIN -> /s/app
        st = self.staff_post("/bridge/shares/%s/unlock" % sid).json()
        self.assertEqual(st["status"], "active", st)
        r = phone.get(url, timeout=30)
        self.assertEqual(r.status_code, 200, "after the staff unlock: " + describe(r))
        r = self.unlock(phone, url, pin=pin)
        value, attrs = cookie_attributes(set_cookie_headers(r))
        self.assertIn("httponly", attrs, "hb_share cookie not HttpOnly: %r" % set_cookie_headers(r))
        self.assertEqual(attrs.get("path"), "/s", "cookie path %r" % attrs.get("path"))
        self.assertEqual(attrs.get("samesite", "").lower(), "strict", attrs)
        self.assertIn("max-age", attrs, "no Max-Age: %r" % set_cookie_headers(r))
        self.assertTrue(0 < int(attrs["max-age"]) <= 3600, attrs)
        self.assertNotIn(token, value, "the cookie carries the token")
        self.assertNotIn(token, r.headers.get("Location", ""))
        self.assertEqual(self.get_share(sid)["uses"], 1)

        r = phone.get(site.url + "/s/app", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assert_s_headers(r, "/s/app")
        self.assertNotIn(token, r.text)
        self.assertNotRegex(r.text, r"<script(?![^>]*\bsrc=)[^>]*>", "inline script in /s/app")
        self.assertNotRegex(r.text, r"\sstyle=|<style", "inline style in /s/app")

        # the list
        r = phone.get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assert_s_headers(r, "/s/api/share")
        self.assertNotIn(token, r.text)
        share = r.json()
        self.assertEqual(share["hospital"]["name"], SITE_NAME)
        self.assertEqual(share["permissions"], {"view": True, "download": True})
        self.assertEqual([s["id"] for s in share["studies"]], [self.id_main])
        study = share["studies"][0]
        self.assertEqual(study["date"], "2024-03-01")
        self.assertEqual(study["modalities"], ["CT"])
        self.assertEqual(study["images"], 3)
        self.assertEqual(study["description"], "CHEST CT")
        self.assertEqual(study["modality_info"][0]["code"], "CT")
        self.assertTrue(study["modality_info"][0]["text"])
        self.assertEqual(len(study["series"]), 1)
        self.assertEqual(study["downloads"]["dicom"], "/s/api/studies/%s/dicom.zip" % self.id_main)
        self.assertEqual(study["downloads"]["jpeg"], "/s/api/studies/%s/images.zip" % self.id_main)
        for k in ("expires_at", "session_expires_at"):
            self.assertRegex(share[k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", k)
        session_end = calendar.timegm(time.strptime(share["session_expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertLessEqual(session_end, time.time() + 3600 + 5, "session longer than one hour: %r" % share)
        self.assertGreater(session_end, time.time() + 60, share)

        # series, images
        series = study["series"][0]
        r = phone.get(site.url + series["preview"], timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertTrue(is_jpeg(r.content), "preview is not a JPEG")
        self.assert_s_headers(r, "preview")
        r = phone.get(site.url + "/s/api/series/%s/instances" % series["id"], timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        instances = r.json()["instances"]
        self.assertEqual([i["number"] for i in instances], [1, 2, 3], "not ordered by InstanceNumber")
        for preset in ("default", "lung", "bone"):
            r = phone.get(site.url + instances[0]["image"], params={"size": "full", "preset": preset},
                          timeout=30)
            self.assertEqual(r.status_code, 200, describe(r))
            self.assertTrue(is_jpeg(r.content), "image with preset %s is not a JPEG" % preset)
        # the default rendering shows the image (CT_small has no WindowCenter/Width: the window must
        # come from the pixel data, as Orthanc's own preview does), not a black square
        for size in ("thumb", "full"):
            r = phone.get(site.url + instances[0]["image"], params={"size": size}, timeout=30)
            self.assertEqual(r.status_code, 200, describe(r))
            stats = grey_stats(r.content)
            if stats is not None:
                self.assertTrue(stats[1] >= 64 and stats[0] >= 5,
                                "size=%s default rendering is (nearly) black: mean %.1f, max %d"
                                % (size, stats[0], stats[1]))

        # DICOM ZIP: DICOMDIR + exactly the stored SOP Instance UIDs
        stored = site.admin.get(site.url + "/studies/%s/instances" % self.id_main, timeout=30).json()
        stored_uids = sorted(i["MainDicomTags"]["SOPInstanceUID"] for i in stored)
        # The /s/ route hands the phone a single-use ticket to Orthanc's own
        # streaming ZIP (Orthanc 1.10 cannot stream a plugin's answer).
        r = phone.get(site.url + study["downloads"]["dicom"], timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertEqual([x.status_code for x in r.history], [303], "dicom.zip redirects once")
        self.assert_s_headers(r.history[0], "dicom.zip")
        ticketed = r.history[0].headers["Location"]
        self.assertRegex(ticketed, r"^/studies/%s/media\?ticket=[A-Za-z0-9_-]{22}$" % self.id_main)
        self.assertIn("zip", r.headers.get("Content-Type", ""), r.headers)
        again = anon().get(site.url + ticketed, timeout=30)
        self.assertEqual(again.status_code, 403, "a used ticket opens nothing")
        path = os.path.join(self.tmp, "flow-dicom.zip")
        with open(path, "wb") as f:
            f.write(r.content)
        self.check_dicom_zip(path, stored_uids)
        # JPEG ZIP: one JPEG per instance
        r = phone.get(site.url + study["downloads"]["jpeg"], timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            files = [n for n in z.namelist() if not n.endswith("/")]
            self.assertEqual(len(files), len(stored_uids), "images.zip entries: %r" % files)
            for n in files:
                self.assertTrue(is_jpeg(z.read(n)), "%s in images.zip is not a JPEG" % n)

        # another study (not in the share) -> 403, whatever the route
        other = site.admin.get(site.url + "/studies/%s" % self.id_other, timeout=30).json()
        other_series = other["Series"][0]
        other_inst = site.admin.get(site.url + "/series/%s" % other_series, timeout=30).json()["Instances"][0]
        for path in ("/s/api/studies/%s/dicom.zip" % self.id_other,
                     "/s/api/studies/%s/images.zip" % self.id_other,
                     "/s/api/series/%s/instances" % other_series,
                     "/s/api/instances/%s/image" % other_inst,
                     "/s/api/instances/%s/image?size=thumb" % other_inst):
            r = phone.get(site.url + path, timeout=30)
            self.assertEqual(r.status_code, 403, "patient session reached another study: " + describe(r))
            self.assertNotIn(P_OTHER["PatientName"], r.text)
            self.assert_s_headers(r, path)
        # assets
        for asset in ("/s/assets/share.css", "/s/assets/share.js"):
            r = phone.get(site.url + asset, timeout=30)
            self.assertEqual(r.status_code, 200, describe(r))
            self.assert_s_headers(r, asset)

        # the patient cookie opens nothing outside /s/
        intruder = anon()
        intruder.headers["Cookie"] = "hb_share=" + value
        for path in ("/bridge/studies", "/bridge/shares", "/bridge/system", "/studies",
                     "/studies/%s" % self.id_main, "/studies/%s/archive" % self.id_main,
                     "/bridge/shares/pending", "/instances"):
            r = intruder.get(site.url + path, timeout=30, allow_redirects=False)
            self.assertIn(r.status_code, (301, 302, 303, 401, 403),
                          "the patient cookie opened %s: %s" % (path, describe(r)))
            self.assertNotIn(P_MAIN["PatientID"], r.text)
        # the session ends on logout
        r = phone.post(site.url + "/s/api/logout", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertEqual(r.json(), {"ok": True})
        r = phone.get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 403, "session still valid after logout: " + describe(r))
        r = intruder.get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 403, "the old cookie still works after logout: " + describe(r))
        r = phone.get(site.url + "/s/app", timeout=30)
        self.assert_page(r, 403, "/s/app after logout")
        self.assert_s_headers(r, "session ended")
        self.assert_notice_kind(r, "session", "/s/app after logout")

    def check_dicom_zip(self, path, stored_uids):
        import pydicom
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            dirs = [n for n in names if n.rsplit("/", 1)[-1].upper() == "DICOMDIR"]
            self.assertEqual(len(dirs), 1, "dicom.zip has no (or several) DICOMDIR: %r" % names[:20])
            prefix = dirs[0][:-len("DICOMDIR")]
            dicomdir = pydicom.dcmread(io.BytesIO(z.read(dirs[0])), force=True)
            referenced = set()
            for rec in getattr(dicomdir, "DirectoryRecordSequence", []):
                fid = rec.get("ReferencedFileID")
                if fid:
                    parts = [fid] if isinstance(fid, str) else list(fid)
                    referenced.add(prefix + "/".join(parts))
            uids = []
            for n in names:
                if n in dirs:
                    continue
                ds = pydicom.dcmread(io.BytesIO(z.read(n)), stop_before_pixels=True, force=True)
                uid = str(ds.get("SOPInstanceUID", "")).strip()
                if uid:
                    uids.append(uid)
                    self.assertIn(n.upper(), {x.upper() for x in referenced},
                                  "%s is not referenced by the DICOMDIR (%r)" % (n, sorted(referenced)[:5]))
            self.assertEqual(sorted(uids), stored_uids, "SOP Instance UIDs in dicom.zip differ from Orthanc's")
            self.assertEqual(len(referenced), len(stored_uids), "DICOMDIR references %r" % sorted(referenced))

    def test_birth_date_factor_and_max_uses(self):
        ans = self.create_share(study=self.uid_main, second_factor="birth-date", max_uses=1,
                                permissions=["view"])
        url = ans["url"]
        phone = self.phone()
        r = phone.get(url, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        self.assertRegex(r.text, r"(?i)<input[^>]*name=[\"']?birth_date", "no birth date input")
        self.assertFalse(has_pin_form(r.text), "a PIN input for a birth-date share")
        r = phone.post(url, data={"birth_date": "1980-02-01"}, allow_redirects=False, timeout=30)
        self.assert_page(r, 403, "wrong birth date")
        r = phone.post(url, data={"birth_date": "garbage"}, allow_redirects=False, timeout=30)
        self.assert_page(r, 403, "malformed birth date")
        self.assertEqual(self.get_share(ans["share"]["id"])["failed_attempts"], 2)
        self.unlock(phone, url, birth_date="1980-01-02")
        share = self.open_app(phone)
        self.assertEqual(share["permissions"], {"view": True, "download": False})
        self.assertNotIn("downloads", share["studies"][0], "downloads offered without the permission")
        r = phone.get(self.site.url + "/s/api/studies/%s/dicom.zip" % self.id_main, timeout=60)
        self.assertEqual(r.status_code, 403, "download without the permission: " + describe(r))
        # max_uses=1: a second unlock is refused (used-up: 410)
        st = self.get_share(ans["share"]["id"])
        self.assertEqual((st["uses"], st["status"]), (1, "used-up"), st)
        phone2 = self.phone()
        r = phone2.get(url, timeout=30)
        self.assert_page(r, 410, "used-up share")
        self.assert_notice_kind(r, "used-up", "used-up link")
        r = phone2.post(url, data={"birth_date": "1980-01-02"}, allow_redirects=False, timeout=30)
        self.assert_page(r, 410, "unlock of a used-up share")
        self.assert_notice_kind(r, "used-up", "unlock of a used-up share")
        self.assertEqual(cookie_attributes(set_cookie_headers(r))[0], None)
        # the session obtained before stays valid
        self.open_app(phone)

    def test_patient_scope_lists_both_studies(self):
        ans = self.create_share(patient_id=P_TWO["PatientID"])
        self.assertEqual(ans["share"]["scope"], "patient")
        want = sorted([self.ids[self.uid_two_a], self.ids[self.uid_two_b]])
        self.assertEqual(sorted(s["id"] for s in ans["share"]["studies"]), want)
        self.assertEqual(ans["share"]["patient_birth_date"], "1965-03-04")
        phone = self.phone()
        self.unlock(phone, ans["url"], pin=ans["pin"])
        share = self.open_app(phone)
        self.assertEqual(sorted(s["id"] for s in share["studies"]), want)
        self.assertEqual(sorted(m for s in share["studies"] for m in s["modalities"]), ["CT", "MR"])
        for s in share["studies"]:
            r = phone.get(self.site.url + s["downloads"]["dicom"], timeout=60)
            self.assertEqual(r.status_code, 200, describe(r))
        r = phone.get(self.site.url + "/s/api/studies/%s/dicom.zip" % self.id_main, timeout=60)
        self.assertEqual(r.status_code, 403, describe(r))

    # -- invalid, revoked, expired ---------------------------------------------------

    def test_revoked_expired_and_invalid_links(self):
        site = self.site
        # revoked -> 410
        rev = self.create_share(study=self.uid_main)
        st = self.staff_post("/bridge/shares/%s/revoke" % rev["share"]["id"], {"reason": "wrong patient"}).json()
        self.assertEqual(st["status"], "revoked")
        self.assertEqual(st["revoke_reason"], "wrong patient")
        self.assertEqual(st["revoked_by"], h.ADMIN_USER)
        phone = self.phone()
        r = phone.get(rev["url"], timeout=30)
        self.assert_page(r, 410, "revoked link")
        self.assert_s_headers(r, "revoked page")
        self.assert_notice_kind(r, "revoked", "revoked link")
        self.assertIn(SITE_NAME, r.text)
        self.assertFalse(has_pin_form(r.text))
        r = phone.post(rev["url"], data={"pin": rev["pin"]}, allow_redirects=False, timeout=30)
        self.assert_page(r, 410, "right PIN on a revoked link")
        self.assert_notice_kind(r, "revoked", "right PIN on a revoked link")
        self.assertEqual(cookie_attributes(set_cookie_headers(r))[0], None)
        # DELETE revokes too
        rev2 = self.create_share(study=self.uid_main)
        r = site.admin.delete(site.url + "/bridge/shares/%s" % rev2["share"]["id"], timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        r = phone.get(rev2["url"], timeout=30)
        self.assert_page(r, 410, "link revoked by DELETE")
        self.assert_notice_kind(r, "revoked", "link revoked by DELETE")

        # a session opened before the revocation ends with it
        live = self.create_share(study=self.uid_main)
        p2 = self.phone()
        self.unlock(p2, live["url"], pin=live["pin"])
        self.open_app(p2)
        self.staff_post("/bridge/shares/%s/revoke" % live["share"]["id"], {"reason": "test"})
        r = p2.get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 403, "session survived the revocation: " + describe(r))
        r = p2.get(site.url + "/s/api/studies/%s/dicom.zip" % self.id_main, timeout=30)
        self.assertEqual(r.status_code, 403, describe(r))

        # expired -> 410
        exp = self.create_share(study=self.uid_main, valid_days=1)
        self.assertEqual(phone.get(exp["url"], timeout=30).status_code, 200)
        self.set_expired(exp["share"]["id"])
        r = phone.get(exp["url"], timeout=30)
        self.assert_page(r, 410, "expired link")
        self.assertIn(SITE_NAME, r.text)
        self.assert_notice_kind(r, "expired", "expired link")
        r = phone.post(exp["url"], data={"pin": exp["pin"]}, allow_redirects=False, timeout=30)
        self.assert_page(r, 410, "right PIN on an expired link")
        self.assert_notice_kind(r, "expired", "right PIN on an expired link")
        self.assertEqual(self.get_share(exp["share"]["id"])["status"], "expired")

        # unknown, malformed, truncated -> the same "not valid" page, 404
        token = rev["token"]
        unknown = secrets.token_urlsafe(16)
        variants = {
            "unknown": "/s/" + unknown,
            "truncated": "/s/" + token[:-1],
            "too long": "/s/" + token + "A",
            "short": "/s/abc",
            "bad characters": "/s/" + token[:20] + "%2B%2F",
            "markup": "/s/%3Cscript%3Ealert(1)%3Cscript%3E",
            "very long": "/s/" + "A" * 300,
            "split by a slash": "/s/" + token[:11] + "/" + token[11:],
        }
        bodies, wrong = {}, []
        for label, path in variants.items():
            r = phone.get(site.url + path, timeout=30)
            if r.status_code != h.page_status(404) or content_types(r) != ["text/html; charset=utf-8"]:
                wrong.append("%s token: %s %r" % (label, describe(r), content_types(r)))
            else:
                self.assert_s_headers(r, label + " token")
            bodies[label] = r.text
        base = bodies["unknown"]
        self.assertIn(SITE_NAME, base)
        self.assertRegex(base, r"(?i)not valid|invalid|cannot be used")
        self.assertIn("s-kind-invalid", base)
        wrong += ["the %r page differs from the unknown-token page" % label
                  for label, body in bodies.items() if body != base]
        self.assertEqual(wrong, [], "malformed tokens must get the unknown token's 404 page (%d here)"
                         % h.page_status(404))
        self.assertNotIn("<script>alert", bodies["markup"])
        # POST to an unknown token: same page
        r = phone.post(site.url + "/s/" + unknown, data={"pin": "123456"}, allow_redirects=False, timeout=30)
        self.assert_page(r, 404, "unlock of an unknown link")
        self.assertEqual(r.text, base)
        # the app without a session
        r = anon().get(site.url + "/s/app", timeout=30)
        self.assert_page(r, 403, "/s/app without a session")
        self.assert_notice_kind(r, "session", "/s/app without a session")
        r = anon().get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 403, describe(r))
        r = anon().get(site.url + "/s/api/studies/%s/dicom.zip" % self.id_main, timeout=30)
        self.assertEqual(r.status_code, 403, describe(r))
        forged = anon()
        forged.headers["Cookie"] = "hb_share=" + secrets.token_urlsafe(32)
        r = forged.get(site.url + "/s/api/share", timeout=30)
        self.assertEqual(r.status_code, 403, "a forged cookie: " + describe(r))

        # staff: the list filtered by status
        bad = []
        for status in ("active", "revoked", "expired", "locked", "used-up", "all"):
            r = site.admin.get(site.url + "/bridge/shares", params={"status": status}, timeout=30)
            if r.status_code != 200:
                bad.append(describe(r))
        self.assertEqual(bad, [], "GET /bridge/shares?status=... failed")
        r = site.admin.get(site.url + "/bridge/shares", params={"status": "revoked"}, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        listed = r.json()
        self.assertIn(rev["share"]["id"], [s["id"] for s in listed["shares"]])
        self.assertTrue(all(s["status"] == "revoked" for s in listed["shares"]), listed)

    def test_unknown_and_revoked_tokens_take_the_same_time(self):
        rev = self.create_share(study=self.uid_main)
        self.staff_post("/bridge/shares/%s/revoke" % rev["share"]["id"], {"reason": "timing"})
        phone = self.phone()
        rounds, warm = 40, 5
        times = {"unknown": [], "revoked": []}
        for i in range(rounds + warm):
            pair = [("unknown", "/s/" + secrets.token_urlsafe(16)), ("revoked", "/s/" + rev["token"])]
            if i % 2:
                pair.reverse()
            for label, path in pair:
                t0 = time.perf_counter()
                r = phone.get(self.site.url + path, timeout=30)
                dt = time.perf_counter() - t0
                self.assertEqual(r.status_code, h.page_status(404 if label == "unknown" else 410), describe(r))
                if i >= warm:
                    times[label].append(dt * 1000.0)
        mu, mr = statistics.median(times["unknown"]), statistics.median(times["revoked"])
        bound = max(3.0, 0.5 * min(mu, mr))
        print("\ntiming: unknown p50 %.2f ms, revoked p50 %.2f ms, difference %.2f ms (bound %.2f ms)"
              % (mu, mr, abs(mu - mr), bound))
        self.assertLess(abs(mu - mr), bound, "look-up times tell unknown (%.2f ms) from revoked (%.2f ms)"
                        % (mu, mr))

    # -- reprint, printed -------------------------------------------------------

    def test_reprint_then_printed(self):
        site = self.site
        old = self.create_share(study=self.uid_main, valid_days=10, permissions=["view"])
        r = self.staff_post("/bridge/shares/%s/reprint" % old["share"]["id"])
        new = r.json()
        self.assertRegex(new["token"], "^" + TOKEN_RE + "$")
        self.assertNotEqual(new["token"], old["token"])
        self.assertNotEqual(new["share"]["id"], old["share"]["id"])
        self.assertEqual(new["share"]["replaces"], old["share"]["id"])
        self.assertEqual(new["share"]["permissions"], ["view"])
        self.assertEqual([s["id"] for s in new["share"]["studies"]], [self.id_main])
        st = self.get_share(old["share"]["id"])
        self.assertEqual(st["status"], "revoked", st)
        self.assertEqual(st["revoke_reason"], "reprinted as #%s" % new["share"]["id"])
        self.assertEqual(st["replaced_by"], new["share"]["id"])
        phone = self.phone()
        r = phone.get(old["url"], timeout=30)
        self.assert_page(r, 410, "old link after reprint")
        self.assert_notice_kind(r, "revoked", "old link after reprint")
        self.assertEqual(self.decode_qr_png(new["share"]["id"], "reprint"), [new["url"]])
        r = site.admin.get(site.url + "/bridge/shares/%s/qr.png" % old["share"]["id"], timeout=30)
        self.assertIn(r.status_code, (404, 410), "a slip for the revoked share's dead link: " + describe(r))

        # a slip waiting to print keeps its token and PIN sealed: the database
        # (file and WAL, as a backup would copy them) never holds them in clear
        sid = new["share"]["id"]
        con = sqlite3.connect(site.database_path, timeout=30)
        try:
            waiting = con.execute("SELECT token, pin FROM share_pending_slips WHERE share_id=?", (sid,)).fetchone()
            dump = "\n".join(con.iterdump())
        finally:
            con.close()
        self.assertIsNotNone(waiting, "no pending slip row before printing")
        self.assertNotIn(new["token"], dump, "a pending slip's token in clear in the database")
        self.assertNotIn(new["pin"], waiting[1], "a pending slip's PIN in clear in the database")
        for suffix in ("", "-wal"):
            if os.path.exists(site.database_path + suffix):
                with open(site.database_path + suffix, "rb") as f:
                    self.assertNotIn(new["token"].encode(), f.read(), "token in clear in the file " + suffix)
        key = site.database_path + ".slip-key"
        self.assertTrue(os.path.exists(key), "no slip key beside the database")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600, "the slip key is readable by others")

        # slip, then printed: nothing secret is kept
        for fmt in ("a6", "receipt"):
            r = site.admin.get(site.url + "/bridge/shares/%s/slip" % sid, params={"format": fmt}, timeout=30)
            self.assertEqual(r.status_code, 200, describe(r))
            self.assertIn(new["pin"], r.text, "the slip does not show the PIN")
            self.assertIn("<svg", r.text, "the slip has no inline QR")
            self.assertIn(SITE_NAME, r.text)
        st = self.staff_post("/bridge/shares/%s/printed" % sid).json()
        self.assertFalse(st["slip_pending"], st)
        self.assertTrue(st["printed_at"], st)
        for path in ("qr.png", "qr.svg", "slip", "slip?format=receipt"):
            r = site.admin.get(site.url + "/bridge/shares/%s/%s" % (sid, path), timeout=30)
            if path.startswith("slip"):
                self.assert_page(r, 410, "slip after printed")
                self.assert_notice_kind(r, "printed", "slip after printed")
            else:
                self.assertEqual(r.status_code, 410, "after printed: " + describe(r))
            self.assertNotIn(new["pin"], r.text)
            self.assertNotIn(new["token"], r.text)
        pending = site.admin.get(site.url + "/bridge/shares/pending", timeout=30).json()["shares"]
        self.assertNotIn(sid, [s["id"] for s in pending])
        # nothing secret left in the database: the tokens only as hashes, no pending slip row
        con = sqlite3.connect(site.database_path, timeout=30)
        try:
            dump = "\n".join(con.iterdump())
            rows = con.execute("SELECT count(*) FROM share_pending_slips WHERE share_id=?", (sid,)).fetchone()[0]
        finally:
            con.close()
        self.assertNotIn(new["token"], dump, "the printed share's token is still in the database")
        self.assertEqual(rows, 0, "share_pending_slips still has the printed share")
        # the link itself still works
        self.unlock(phone, new["url"], pin=new["pin"])
        self.open_app(phone)
        # reprint after printed: a new slip again
        again = self.staff_post("/bridge/shares/%s/reprint" % sid).json()
        self.assertEqual(self.decode_qr_png(again["share"]["id"], "reprint-2"), [again["url"]])

    # -- audit ------------------------------------------------------------------

    def test_audit_events(self):
        ans = self.create_share(study=self.uid_main, note="audit")
        phone = self.phone()
        phone.get(ans["url"], timeout=30)
        self.unlock(phone, ans["url"], pin=ans["pin"])
        share = self.open_app(phone)
        r = phone.get(self.site.url + share["studies"][0]["downloads"]["dicom"], timeout=120)
        self.assertEqual(r.status_code, 200, describe(r))

        def probe(action):
            def f():
                return [e for e in self.audit_events(action)
                        if e.get("study_uid") == self.uid_main or e.get("patient_id") == P_MAIN["PatientID"]]
            return f
        for action in ("share.created", "share.opened", "share.downloaded"):
            got = h.wait_until(probe(action), 20, interval=0.3, message="no %s audit event" % action)
            for e in got:
                self.assertNotIn(ans["token"], json.dumps(e), "the token is in the audit trail")
                self.assertNotIn(ans["pin"], json.dumps(e.get("detail", {})), "the PIN is in the audit trail")
        created = probe("share.created")()
        self.assertTrue(any(e["actor"]["name"] == h.ADMIN_USER for e in created), created)

    # -- the browser ------------------------------------------------------------

    @unittest.skipUnless(CHROMIUM_OK, "chromium not installed")
    def test_browser_screenshots(self):
        import cdp
        site = self.site
        out = h.artifacts_dir()
        ans = self.create_share(study=self.uid_markup)
        sid, url, pin = ans["share"]["id"], ans["url"], ans["pin"]
        b = cdp.Browser()
        b.start()
        self.addCleanup(b.close)

        def shot(name, full_page=False):
            path = os.path.join(out, "share-%s.png" % name)
            data = b.screenshot(path, full_page=full_page)
            self.assertGreater(len(data), 1000, "empty screenshot " + path)
            return path

        def body():
            return b.evaluate("document.body ? document.body.innerText : ''") or ""

        def overflow():
            return b.evaluate("document.documentElement.scrollWidth - window.innerWidth")

        # landing
        b.set_viewport(390, 844, mobile=True)
        b.navigate(url)
        b.wait_js("document.readyState==='complete' && !!document.querySelector('input[name=pin]')", 15,
                  message="landing page has no PIN input")
        shot("landing-390x844")
        self.assertIn(SITE_NAME, body())
        self.assertLessEqual(overflow(), 1, "landing wider than the phone")
        pin_input = b.evaluate("(function(){var e=document.querySelector('input[name=pin]'); return "
                               "[e.getAttribute('inputmode'), e.getAttribute('autocomplete'), e.type];})()")
        self.assertEqual(pin_input[:2], ["numeric", "one-time-code"], pin_input)
        self.assertEqual(b.problems, [], "console errors on the landing page")

        # unlock error state
        b.type_into("input[name=pin]", other_pin(pin))
        n = len(b.events("Page.loadEventFired"))
        b.click("form button, form input[type=submit]")
        h.wait_until(lambda: len(b.events("Page.loadEventFired")) > n, 15, message="no page after the submit")
        b.wait_js("document.readyState==='complete' && !!document.querySelector('input[name=pin]')", 15)
        shot("unlock-error-390x844")
        self.assertRegex(body(), r"(?i)wrong|incorrect|not (right|correct)|does not match|invalid|try again",
                         "no error message after a wrong PIN")
        self.assertNotIn(ans["token"], b.evaluate("location.href.replace(/\\/s\\/[^/?#]+$/, '')"))
        # the 403 of the failed unlock itself is expected noise
        expected = [p for p in b.problems if "403" in p]
        self.assertEqual([p for p in b.problems if p not in expected], [], "console errors on the error page")
        del b.problems[:]

        # right PIN -> /s/app, the study list
        b.type_into("input[name=pin]", pin)
        b.click("form button, form input[type=submit]")
        b.wait_js("location.pathname==='/s/app'", 15, message="right PIN did not lead to /s/app")
        try:
            b.wait_js("document.readyState==='complete' && document.body.innerText.indexOf(%s) >= 0"
                      % json.dumps(MARKUP_NAME), 20)
        except AssertionError:
            shot("app-timeout-390x844")
            self.fail("/s/app does not show the patient name %r as text; it shows %r; console %r"
                      % (MARKUP_NAME, body()[:1500], b.problems))
        b.wait_js("Array.prototype.every.call(document.images, function(i){return i.complete;})", 20)
        shot("app-390x844")
        self.assertNotIn(ans["token"], b.evaluate("location.href"))
        self.assertEqual(b.evaluate("document.cookie.indexOf('hb_share')"), -1, "hb_share readable by JS")
        self.assertIn(MARKUP_DESCRIPTION, body(), "description not shown as text")
        self.assertIn(SITE_NAME, body())
        self.assertLessEqual(overflow(), 1, "/s/app wider than the phone")
        injected = b.evaluate("""(function(){
            var r = {};
            r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
                       function(e){return e.textContent==='Bold';}).length;
            r.italic = Array.prototype.filter.call(document.querySelectorAll('i'),
                       function(e){return e.textContent==='It';}).length;
            r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
                       function(e){var s=e.getAttribute('src'); return s===null || s==='' || s==='x';}).length;
            r.xss = (typeof window.hbXss !== 'undefined');
            return r; })()""")
        self.assertEqual(injected, {"bold": 0, "italic": 0, "imgs": 0, "xss": False},
                         "DICOM markup was interpreted as HTML")
        previews = b.evaluate("Array.prototype.filter.call(document.images, function(i){"
                              "return /size=thumb/.test(i.src) && i.naturalWidth > 0;}).length")
        self.assertGreaterEqual(previews, 1, "no series preview shown")
        # one native module, on the lib/ shared with the staff pages, all under /s/ (the
        # patient host passes nothing else on), and no CSP violation
        scripts = b.evaluate("Array.prototype.map.call(document.scripts, function(s){"
                             "return [s.type, s.getAttribute('src')];})")
        self.assertEqual(scripts, [["module", "/s/assets/share.js"]])
        asked = b.requested_urls()
        self.assertTrue(any("/s/assets/lib/" in u for u in asked), asked)
        self.assertEqual([u for u in asked if "/bridge/" in u or not u.startswith(site.url + "/s/")], [],
                         "the patient's pages asked for something outside /s/")
        self.assertEqual(b.csp_violations(), [], "CSP violations on /s/app")

        # the viewer
        b.evaluate("(function(){var i=Array.prototype.filter.call(document.images, function(i){"
                   "return /size=thumb/.test(i.src);})[0]; var t=i.closest('a,button,[role=button]')||i;"
                   "t.setAttribute('data-hb-test','preview');})()")
        b.click("[data-hb-test=preview]")
        try:
            b.wait_js("Array.prototype.some.call(document.images, function(i){return "
                      "/\\/s\\/api\\/instances\\/[^/]+\\/image/.test(i.src) && !/size=thumb/.test(i.src) && "
                      "i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 200;})", 20)
        except AssertionError:
            shot("viewer-timeout-390x844")
            self.fail("clicking a preview did not open the viewer with a full image; page shows %r" % body()[:800])
        shot("viewer-390x844")
        self.assertEqual(b.problems, [], "console errors / exceptions on /s/app")
        failed = [(p.get("errorText"), p.get("type")) for p in b.requests_failed]
        self.assertEqual(failed, [], "failed requests on /s/app")

        # the slip, printed (staff): A6 and receipt, QR read back from the page
        cred = base64.b64encode(("%s:%s" % (h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)).encode()).decode()
        b.call("Network.setExtraHTTPHeaders", headers={"Authorization": "Basic " + cred})
        b.call("Emulation.setEmulatedMedia", media="print")
        for fmt, width in (("a6", 420), ("receipt", 320)):
            b.set_viewport(width, 900, mobile=False, scale=2)
            b.navigate(site.url + "/bridge/shares/%s/slip?format=%s" % (sid, fmt))
            b.wait_js("document.readyState==='complete' && !!document.querySelector('svg')", 15,
                      message="slip %s has no QR svg" % fmt)
            path = shot("slip-%s-print" % fmt, full_page=True)
            text = body()
            self.assertIn(pin, text, "slip %s does not show the PIN" % fmt)
            self.assertIn(MARKUP_NAME, text, "slip %s does not show the patient name as text" % fmt)
            self.assertIn(SITE_NAME, text)
            self.assertEqual(b.evaluate("document.querySelectorAll('b,i').length"), 0,
                             "markup interpreted on the slip")
            got = zbar_decode(path)
            self.assertEqual(got, [url], "QR on the printed %s slip decodes to %r" % (fmt, got))
        self.assertEqual(b.problems, [], "console errors on the slip")
        self.assertTrue(self.get_share(sid)["slip_pending"], "print emulation marked the slip printed")


# ---------------------------------------------------------------------------
# per-address throttle
# ---------------------------------------------------------------------------

class ShareThrottleTest(ShareHelpers, unittest.TestCase):
    LIMIT = 6

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-share-throttle-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("share-throttle")
        cls.addClassCleanup(cls.site.close)
        cls.site.allocate_ports()
        # RemoteAccessAllowed: a second loopback address (127.0.0.2) plays
        # another phone; the plugin's gate still requires staff credentials.
        cls.site.extra_config = share_config(cls.site, {"RemoteAccessAllowed": True, "HospitalBridge": {
            "Shares": {"MaxFailuresPerAddress": cls.LIMIT}}})
        cls.site.start()
        cls.uid, files = make_study(cls.tmp, "throttle", P_MAIN, n=1)
        cls.site.storescu(files)
        cls.site.wait_indexed(cls.uid, timeout=30)

    def from_address(self, source, path):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.site.http_port, timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def test_per_address_rate_limit(self):
        ans = self.create_share(study=self.uid)
        phone = self.phone()
        statuses = []
        throttled = None
        for i in range(self.LIMIT * 4):
            r = phone.get(self.site.url + "/s/" + secrets.token_urlsafe(16), timeout=30)
            # the page's kind tells them apart where both are answered with 200
            kind = re.search(r"s-kind-([a-z-]+)", r.text)
            statuses.append((r.status_code, kind.group(1) if kind else None))
            if statuses[-1][1] == "throttled":
                throttled = r
                break
            self.assert_page(r, 404, "unknown token %d" % i)
            self.assert_notice_kind(r, "invalid", "unknown token %d" % i)
        self.assertIsNotNone(throttled, "no throttle after %d unknown tokens: %r" % (len(statuses), statuses))
        self.assertGreaterEqual(statuses.count((h.page_status(404), "invalid")), self.LIMIT - 1, statuses)
        self.assert_page(throttled, 403, "throttled address")
        self.assertIn("Retry-After", throttled.headers, "throttled answer without Retry-After")
        self.assertGreater(int(throttled.headers["Retry-After"]), 0)
        self.assert_s_headers(throttled, "throttled page")
        self.assert_notice_kind(throttled, "throttled", "throttled address")
        # the address is throttled for valid links as well, and for unlocks
        r = phone.get(ans["url"], timeout=30)
        self.assert_page(r, 403, "valid link from a throttled address")
        self.assert_notice_kind(r, "throttled", "valid link from a throttled address")
        self.assertIn("Retry-After", r.headers)
        r = phone.post(ans["url"], data={"pin": ans["pin"]}, allow_redirects=False, timeout=30)
        self.assert_page(r, 403, "unlock from a throttled address")
        self.assert_notice_kind(r, "throttled", "unlock from a throttled address")
        self.assertEqual(cookie_attributes(set_cookie_headers(r))[0], None)
        # it is per address: the throttled phone did not lock the share
        self.assertEqual(self.get_share(ans["share"]["id"])["status"], "active")
        try:
            status, text = self.from_address("127.0.0.2", "/s/" + ans["token"])
        except OSError as e:
            self.skipTest("cannot connect from 127.0.0.2 (%s); the per-address part is not checked" % e)
        self.assertEqual(status, 200, "another address is throttled too: %s" % text[:300])
        # staff routes are not throttled by the patients' failures
        r = self.site.admin.get(self.site.url + "/bridge/shares", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))


# ---------------------------------------------------------------------------
# auto-share
# ---------------------------------------------------------------------------

class AutoShareTest(ShareHelpers, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-autoshare-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("autoshare")
        cls.addClassCleanup(cls.site.close)
        cls.site.allocate_ports()
        cls.site.extra_config = share_config(cls.site, {"HospitalBridge": {
            "Consent": {"Share": "opt-out"},
            "Shares": {"AutoShare": {"Enabled": True, "Modalities": ["CT"]}}}})
        cls.site.start()

    def pending(self):
        r = self.site.admin.get(self.site.url + "/bridge/shares/pending", timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        return r.json()["shares"]

    def test_auto_share_pending_then_printed(self):
        info = self.site.admin.get(self.site.url + "/bridge/system", timeout=30).json()["shares"]
        self.assertTrue(info["auto_share"]["enabled"], info)
        self.assertEqual(info["auto_share"]["modalities"], ["CT"], info)
        uid_ct, f_ct = make_study(self.tmp, "auto-ct", P_MAIN, n=2)
        uid_mr, f_mr = make_study(self.tmp, "auto-mr", P_OTHER, n=1, modality="MR")
        self.site.storescu(f_ct + f_mr)

        def find():
            return [s for s in self.pending() if uid_ct in [x["study_uid"] for x in s["studies"]]]
        got = h.wait_until(find, 40, interval=0.5, message="no pending auto share for the CT study")
        self.assertEqual(len(got), 1, "several auto shares for one study: %r" % got)
        share = got[0]
        self.assertTrue(share["auto"], share)
        self.assertTrue(share["slip_pending"], share)
        self.assertEqual(share["status"], "active", share)
        self.assertEqual(share["scope"], "study", share)
        self.assertEqual(share["patient_id"], P_MAIN["PatientID"])
        sid = share["id"]
        # MR is not auto-shared (give its stable event the same time and a margin)
        self.site.wait_indexed(uid_mr, timeout=30)
        time.sleep(3)
        pending = self.pending()
        self.assertEqual([s for s in pending if uid_mr in [x["study_uid"] for x in s["studies"]]], [])
        self.assertEqual(len(find()), 1, "the CT study got a second auto share")
        self.assertGreaterEqual(self.site.admin.get(self.site.url + "/bridge/system", timeout=30)
                                .json()["shares"]["pending_slips"], 1)

        urls = self.decode_qr_png(sid, "auto")
        self.assertEqual(len(urls), 1, urls)
        self.assertRegex(urls[0], "^" + re.escape(self.site.url) + "/s/" + TOKEN_RE + "$")
        r = anon().get(urls[0], timeout=30)
        self.assertEqual(r.status_code, 200, "the auto share's link: " + describe(r))
        r = self.site.admin.get(self.site.url + "/bridge/shares/%s/slip" % sid, timeout=30)
        self.assertEqual(r.status_code, 200, describe(r))
        pin = re.findall(r"\b\d{6}\b", r.text)
        self.assertTrue(pin, "no PIN on the auto share's slip")

        st = self.staff_post("/bridge/shares/%s/printed" % sid).json()
        self.assertFalse(st["slip_pending"], st)
        self.assertNotIn(sid, [s["id"] for s in self.pending()], "printed share still pending")
        r = self.site.admin.get(self.site.url + "/bridge/shares/%s/qr.png" % sid, timeout=30)
        self.assertEqual(r.status_code, 410, describe(r))
        # the printed slip's link still opens
        self.assertEqual(anon().get(urls[0], timeout=30).status_code, 200)


if __name__ == "__main__":
    unittest.main()
