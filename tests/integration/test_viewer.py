"""The diagnostic viewer (OHIF) behind HospitalBridge's gate, with a real Orthanc,
Debian's DICOMweb plugin and the built plugin: DICOMweb reads for the clinical roles
and refused to everyone else, one audit event per opening, the viewer's pages and
headers, a CT drawn in headless Chromium with no request leaving the machine."""

import json
import os
import re
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h
import cdp
import nginx_harness as nh
import viewer_support as v

CT_SLICES = 12


def anon():
    s = h.requests.Session()
    s.trust_env = False
    return s


def multipart_parts(response):
    """The bodies of a multipart/related answer."""
    ctype = response.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        raise AssertionError("not multipart: %r" % ctype)
    boundary = ("--" + m.group(1)).encode()
    parts = []
    for chunk in response.content.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.partition(b"\r\n\r\n")
        parts.append(body[:-2] if body.endswith(b"\r\n") else body)
    return parts


@unittest.skipUnless(os.path.exists(v.DICOMWEB_PLUGIN), "orthanc-dicomweb is not installed")
class Viewer(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-viewer-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("viewer", extra_config=v.dicomweb_config())
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        site = cls.site
        cls.rad_pw = site.create_user("rad", "radiologist")
        cls.tech_pw = site.create_user("tech", "technician")
        cls.desk_pw = site.create_user("desk", "reception")
        cls.peer_pw = site.create_user("hos-009", "peer")
        cls.rad = site.session("rad", cls.rad_pw)
        cls.tech = site.session("tech", cls.tech_pw)
        cls.desk = site.session("desk", cls.desk_pw)
        cls.peer = site.session("hos-009", cls.peer_pw)
        # A CT with a national ID as PatientID (so the registry files it) and an accession number.
        cls.uid, cls.files = v.make_ct_series(os.path.join(cls.tmp, "ct"), CT_SLICES,
                                              PatientID="7001002003", PatientName="VIEWER^Test<b>",
                                              AccessionNumber="ACC-VIEW-1", StudyDescription="CT viewer test")
        site.storescu(cls.files)
        site.wait_indexed(cls.uid, 30, predicate=lambda s: s["instance_count"] == CT_SLICES)

    # --- DICOMweb through the gate ----------------------------------------------------

    def test_qido_and_wado_for_a_radiologist(self):
        url = self.site.url + "/dicom-web"
        r = self.rad.get(url + "/studies", params={"StudyInstanceUID": self.uid}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        studies = r.json()
        self.assertEqual(len(studies), 1)
        self.assertEqual(studies[0]["0020000D"]["Value"], [self.uid])
        self.assertEqual(studies[0]["00080050"]["Value"], ["ACC-VIEW-1"])
        series = self.rad.get(url + "/studies/%s/series" % self.uid, timeout=30).json()
        self.assertEqual(len(series), 1)
        series_uid = series[0]["0020000E"]["Value"][0]
        r = self.rad.get(url + "/studies/%s/series/%s/metadata" % (self.uid, series_uid), timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        metadata = r.json()
        self.assertEqual(len(metadata), CT_SLICES, "one metadata object per stored instance")
        sop = metadata[0]["00080018"]["Value"][0]
        rows, cols = metadata[0]["00280010"]["Value"][0], metadata[0]["00280011"]["Value"][0]
        r = self.rad.get(url + "/studies/%s/series/%s/instances/%s/frames/1" % (self.uid, series_uid, sop),
                         headers={"Accept": 'multipart/related; type="application/octet-stream"'}, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        parts = multipart_parts(r)
        self.assertEqual(len(parts), 1)
        self.assertEqual(len(parts[0]), rows * cols * 2, "one uncompressed 16-bit frame")
        # WADO-URI too, for the clinical roles.
        # (DICOMweb 1.7 does not percent-decode contentType: the slash is sent as is.)
        r = self.tech.get(self.site.url + "/wado?requestType=WADO&studyUID=%s&seriesUID=%s&objectUID=%s"
                          "&contentType=application/dicom" % (self.uid, series_uid, sop), timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.content[128:132], b"DICM")

    def test_odd_dicomweb_queries_get_orthancs_own_answer(self):
        for path in ("/dicom-web/studies?limit=abc", "/dicom-web/studies/1.2.3.4.999/metadata",
                     "/dicom-web/studies?StudyDate=not-a-date", "/dicom-web/studies/%zz/series",
                     "/dicom-web/studies/" + "9" * 300):
            r = self.rad.get(self.site.url + path, timeout=30)
            self.assertIn(r.status_code, (200, 204, 400, 404), path)
        self.assertEqual(self.site.admin.get(self.site.url + "/system", timeout=10).status_code, 200,
                         "Orthanc is still there")

    def test_everyone_else_is_refused(self):
        reads = ["/dicom-web/studies", "/dicom-web/studies/%s/metadata" % self.uid, "/wado?requestType=WADO",
                 "/bridge/viewer/", "/bridge/viewer/app-config.js", "/bridge/viewer/open?accession=ACC-VIEW-1"]
        for path in reads:
            r = anon().get(self.site.url + path, allow_redirects=False, timeout=30)
            self.assertIn(r.status_code, (401, 403), "anonymous %s -> %d" % (path, r.status_code))
            for name, session in (("reception", self.desk), ("peer", self.peer)):
                r = session.get(self.site.url + path, allow_redirects=False, timeout=30)
                self.assertEqual(r.status_code, 403, "%s %s -> %d" % (name, path, r.status_code))
        # A patient's unlocked share cookie opens nothing of the viewer nor of DICOMweb.
        share = self.site.admin.post(self.site.url + "/bridge/shares",
                                     json={"study": self.uid, "consent_attested": True}, timeout=60)
        self.assertEqual(share.status_code, 200, share.text[:300])
        phone = anon()
        r = phone.post(self.site.url + "/s/" + share.json()["token"], data={"pin": share.json()["pin"]},
                       allow_redirects=False, timeout=30)
        cookie = phone.cookies.get("hb_share")
        self.assertTrue(cookie, "the PIN did not unlock the link: %d" % r.status_code)
        self.assertEqual(phone.get(self.site.url + "/s/api/share", timeout=30).status_code, 200)
        for path in reads:
            r = anon().get(self.site.url + path, headers={"Cookie": "hb_share=" + cookie},
                           allow_redirects=False, timeout=30)
            self.assertIn(r.status_code, (401, 403), "patient cookie %s -> %d" % (path, r.status_code))
        # STOW-RS follows the upload rule: clinical roles, not reception.
        with open(self.files[0], "rb") as f:
            dicom = f.read()
        boundary = "hb-stow-boundary"
        body = (("--%s\r\nContent-Type: application/dicom\r\n\r\n" % boundary).encode() + dicom +
                ("\r\n--%s--\r\n" % boundary).encode())
        headers = {"Content-Type": 'multipart/related; type="application/dicom"; boundary=%s' % boundary,
                   "Accept": "application/dicom+json"}
        r = self.desk.post(self.site.url + "/dicom-web/studies", data=body, headers=headers, timeout=60)
        self.assertEqual(r.status_code, 403, "reception may not STOW")
        r = self.tech.post(self.site.url + "/dicom-web/studies", data=body, headers=headers, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertIn("00081199", r.json(), "STOW-RS answers the stored instance")

    def test_reception_by_configuration(self):
        with h.OrthancSite("viewer-reception", extra_config=h.deep_merge(
                v.dicomweb_config(), {"HospitalBridge": {"Viewer": {"AllowReception": True}}})) as site:
            desk = site.user_session("desk", "reception")
            self.assertEqual(desk.get(site.url + "/dicom-web/studies", timeout=30).status_code, 200)
            self.assertEqual(desk.get(site.url + "/bridge/viewer/", timeout=30).status_code, 200)
            self.assertEqual(desk.get(site.url + "/bridge/viewer/status", timeout=30).json()["may_open"], True)
            peer = site.user_session("hos-002", "peer")
            self.assertEqual(peer.get(site.url + "/dicom-web/studies", timeout=30).status_code, 403)

    # --- audit -------------------------------------------------------------------------

    def audit(self, **filters):
        r = self.site.admin.get(self.site.url + "/bridge/audit", params=dict(limit=500, **filters), timeout=30)
        r.raise_for_status()
        return r.json()["events"]

    def test_an_opening_is_one_event_and_consent_restrictions_are_said(self):
        site = self.site
        reader = site.user_session("reader", "radiologist")
        url = site.url + "/dicom-web/studies/%s" % self.uid
        series_uid = reader.get(url + "/series", timeout=30).json()[0]["0020000E"]["Value"][0]
        for _ in range(3):
            self.assertEqual(reader.get(url + "/series/%s/metadata" % series_uid, timeout=30).status_code, 200)
            self.assertEqual(reader.get(url + "/metadata", timeout=30).status_code, 200)

        def events():
            return [e for e in self.audit(actor="reader", action="study.viewed") if e.get("study_uid") == self.uid]
        h.wait_until(events, 20, message="no study.viewed event for the reader")
        time.sleep(1.5)  # anything late would be a second event
        got = events()
        self.assertEqual(len(got), 1, "seven reads of one study are one opening: %s" % json.dumps(got)[:800])
        self.assertEqual(got[0]["outcome"], "success")
        self.assertEqual(got[0]["detail"]["via"], "DICOMweb")
        self.assertNotIn("consent_restricted", got[0]["detail"])

        # The patient refuses federation: the study is restricted, still opens, and says so.
        patient = h.wait_until(lambda: [p for p in site.admin.get(
            site.url + "/bridge/patients", params={"national_id": "7001002003"}, timeout=30).json()["patients"]],
            20, message="the CT's patient was not registered")[0]
        r = site.admin.post(site.url + "/bridge/patients/%s/consents" % patient["id"],
                            json={"kind": "federation", "decision": "deny", "method": "verbal"}, timeout=30)
        self.assertIn(r.status_code, (200, 201), r.text[:300])
        site.wait_indexed(self.uid, 20, predicate=lambda s: (s.get("restricted") or {}).get("federation") is True)
        other = site.user_session("reader2", "technician")
        self.assertEqual(other.get(url + "/metadata", timeout=30).status_code, 200, "care is not sharing")
        restricted = h.wait_until(lambda: [e for e in self.audit(actor="reader2", action="study.viewed")
                                           if e.get("study_uid") == self.uid], 20)
        self.assertEqual(restricted[0]["detail"].get("consent_restricted"), ["federation"])
        # Refused reads are recorded as refused.
        self.assertEqual(self.desk.get(url + "/metadata", timeout=30).status_code, 403)
        denied = h.wait_until(lambda: [e for e in self.audit(actor="desk", action="study.viewed")
                                       if e.get("outcome") == "denied"], 20)
        self.assertEqual(denied[0]["study_uid"], self.uid)

    # --- the viewer's pages ------------------------------------------------------------

    def test_viewer_pages_headers_and_ways_in(self):
        url = self.site.url + "/bridge/viewer"
        r = self.rad.get(url + "/", timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertIn('<script src="/bridge/viewer/hb-viewer-boot.js"></script>', r.text)
        self.assertNotRegex(r.text, r"<script(?![^>]*\bsrc=)[^>]*>", "an inline script is left")
        self.assertNotRegex(r.text, r'(src|href)="/(?!bridge/viewer/)', "a root path is left")
        csp = r.headers.get("Content-Security-Policy", "")
        self.assertIn("'wasm-unsafe-eval'", csp)
        self.assertIn("worker-src 'self' blob:", csp)
        self.assertNotIn("http", csp, "no other origin")
        self.assertNotIn("'unsafe-eval'", csp)
        self.assertEqual(len(r.headers.get("Content-Security-Policy").split(", default-src")), 1,
                         "one policy, not the staff pages' one beside it")
        self.assertEqual(r.headers.get("Cross-Origin-Opener-Policy"), "same-origin")
        self.assertEqual(r.headers.get("Cross-Origin-Embedder-Policy"), "require-corp")
        self.assertEqual(r.headers.get("Cache-Control"), "no-cache")
        config = self.rad.get(url + "/app-config.js", timeout=30)
        self.assertEqual(config.status_code, 200)
        self.assertIn("at('../../dicom-web')", config.text)
        self.assertIn("General Hospital", config.text)
        # A hashed bundle is cached for good; an unhashed file is revalidated with its ETag.
        bundle = re.search(r'src="/bridge/viewer/(app\.bundle\.[0-9a-f]+\.js)"', r.text).group(1)
        b = self.rad.get(url + "/" + bundle, timeout=60)
        self.assertEqual(b.status_code, 200)
        self.assertIn("immutable", b.headers.get("Cache-Control", ""))
        self.assertIn("javascript", b.headers.get("Content-Type", ""))
        self.assertNotIn('__webpack_require__.p = "/";', b.text, "its chunks load from /bridge/viewer/")
        css = self.rad.get(url + "/app.bundle.css", timeout=30)
        self.assertEqual(css.status_code, 200)
        self.assertEqual(css.headers.get("Cache-Control"), "no-cache")
        again = self.rad.get(url + "/app.bundle.css", headers={"If-None-Match": css.headers["ETag"]}, timeout=30)
        self.assertEqual(again.status_code, 304)
        self.assertEqual(again.content, b"")
        wasm = [n for n in os.listdir(v.VIEWER_DIR) if n.endswith(".wasm")][0]
        self.assertEqual(self.rad.get(url + "/" + wasm, timeout=60).headers.get("Content-Type"), "application/wasm")
        for bad in ("/../../etc/passwd", "/.hospitalbridge-viewer.json", "/nothing.js", "/%2e%2e/%2e%2e/etc/passwd"):
            self.assertIn(self.rad.get(url + bad, timeout=30).status_code, (400, 403, 404), bad)

        # Ways in: by StudyInstanceUID and by accession number.
        r = self.rad.get(url + "/", params={"StudyInstanceUIDs": self.uid}, allow_redirects=False, timeout=30)
        self.assertIn(r.status_code, (301, 303))
        self.assertEqual(r.headers["Location"], "/bridge/viewer/viewer?StudyInstanceUIDs=" + self.uid)
        r = self.rad.get(url + "/open", params={"accession": "ACC-VIEW-1"}, allow_redirects=False, timeout=30)
        self.assertIn(r.status_code, (301, 303))
        self.assertEqual(r.headers["Location"], "/bridge/viewer/viewer?StudyInstanceUIDs=" + self.uid)
        r = self.rad.get(url + "/viewer", params={"StudyInstanceUIDs": self.uid}, timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertIn("hb-viewer-boot.js", r.text)
        # Unknown ones get a page that says so.
        for path, params, words in (("/viewer", {"StudyInstanceUIDs": "1.2.3.999"}, "1.2.3.999"),
                                    ("/viewer", {"StudyInstanceUIDs": "<script>x</script>"}, "&lt;script&gt;"),
                                    ("/open", {"accession": "NO-SUCH-ACC"}, "NO-SUCH-ACC")):
            r = self.rad.get(url + path, params=params, timeout=30)
            self.assertEqual(r.status_code, h.page_status(404), path)
            self.assertIn("text/html", r.headers.get("Content-Type", ""))
            self.assertIn("No such study here", r.text)
            self.assertIn(words, r.text)
            self.assertNotIn("<script>x", r.text)
        status = self.rad.get(url + "/status", timeout=30).json()
        self.assertEqual(status["may_open"], True)
        self.assertEqual(self.desk.get(url + "/status", timeout=30).json()["may_open"], False)
        system = self.site.admin.get(self.site.url + "/bridge/system", timeout=30).json()
        self.assertEqual(system["viewer"]["installed"], True)
        self.assertEqual(system["viewer"]["package"], "@ohif/app")
        self.assertRegex(system["viewer"]["version"], r"^3\.")

    def test_missing_files_say_how_to_install(self):
        with h.OrthancSite("viewer-missing", extra_config=h.deep_merge(
                v.dicomweb_config(), {"HospitalBridge": {"Viewer": {"Directory": "/nonexistent/ohif"}}})) as site:
            rad = site.user_session("rad", "radiologist")
            r = rad.get(site.url + "/bridge/viewer/", timeout=30)
            self.assertEqual(r.status_code, h.page_status(503))
            self.assertIn("The viewer is not installed", r.text)
            self.assertIn("/nonexistent/ohif", r.text)
            self.assertIn("scripts/build.sh", r.text)
            self.assertEqual(rad.get(site.url + "/bridge/viewer/app.bundle.css", timeout=30).status_code, 404)
            system = site.admin.get(site.url + "/bridge/system", timeout=30).json()
            self.assertEqual(system["viewer"]["installed"], False)
            self.assertEqual(system["viewer"]["directory"], "/nonexistent/ohif")
            self.assertEqual(rad.get(site.url + "/bridge/viewer/status", timeout=30).json()["may_open"], False)

    # --- in a browser --------------------------------------------------------------------

    # What OHIF 3.13 itself prints as errors while working normally, each with the reason
    # it is harmless here. Anything else fails the test.
    HARMLESS = [
        # OHIF's i18n backend asks for locale files it does not ship for English variants.
        (r"locales/.*\.json", "missing translation files of OHIF's language detector"),
    ]

    def test_a_ct_opens_from_the_study_list_and_is_drawn(self):
        with cdp.Browser() as b:
            b.set_viewport(1366, 768)
            b.navigate(self.site.url + "/bridge/app/login.html")
            b.wait_js("document.readyState==='complete' && !!document.getElementById('username')", 20)
            b.type_into("#username", "rad")
            b.type_into("#password", self.rad_pw)
            b.click("#login-submit")
            b.wait_js("location.pathname.indexOf('/bridge/app/') === 0 && location.pathname.indexOf('login') < 0",
                      20, message="the radiologist could not sign in")
            link = "a.hb-viewer-link[href*='%s']" % self.uid
            b.wait_js("!!document.querySelector(%s)" % json.dumps(link), 30,
                      message="no 'Open in viewer' on the study list")
            self.assertEqual(b.evaluate("document.querySelector(%s).textContent" % json.dumps(link)), "Open in viewer")
            first_request = len(b.events("Network.requestWillBeSent"))
            # Same tab (the link opens a new one): what a click on it loads.
            b.evaluate("document.querySelector(%s).removeAttribute('target')" % json.dumps(link))
            b.click(link)
            b.wait_js("location.pathname === '/bridge/viewer/viewer'", 20, message="the link did not open the viewer")
            lit = b.wait_js(v.DRAWN_PIXELS_JS + " > 2000 && " + v.DRAWN_PIXELS_JS, 90,
                            message="the viewport never drew the CT")
            self.assertGreater(lit, 2000)
            # The viewport's overlay counts the series' images: all of them were listed.
            b.wait_js("document.body.innerText.indexOf('(1/%d)') >= 0" % CT_SLICES, 20,
                      message="the viewport does not show the series' %d images" % CT_SLICES)
            # OHIF's first-visit tour covers part of the image: skip it for the screenshot.
            b.evaluate("(function(){var b=[].slice.call(document.querySelectorAll('button'))"
                       ".filter(function(x){return /Skip all/.test(x.textContent);})[0]; if(b) b.click();})()")
            time.sleep(1.0)
            b.screenshot(os.path.join(h.artifacts_dir(), "viewer-ct-1366x768.png"))
            self.assertTrue(b.evaluate("window.crossOriginIsolated === true"), "cross-origin isolation")
            urls = b.requested_urls(first_request)
            outside = [u for u in urls if not (u.startswith(self.site.url + "/") or u.startswith("data:")
                                               or u.startswith("blob:"))]
            self.assertEqual(outside, [], "requests that left the machine")
            self.assertTrue(any("/dicom-web/studies/%s" % self.uid in u for u in urls), "read through DICOMweb")
            self.assertEqual(b.csp_violations(), [], "CSP violations")
            unexpected = [p for p in b.problems if not any(re.search(pattern, p) for pattern, _ in self.HARMLESS)]
            self.maxDiff = None
            self.assertEqual(unexpected, [], "script errors in the viewer")

            # The other ways in: the patient's page, the federation results (a study held here)
            # and Orthanc Explorer's study page all offer the same link.
            patient = self.site.admin.get(self.site.url + "/bridge/patients", params={"national_id": "7001002003"},
                                          timeout=30).json()["patients"][0]["id"]
            href = "/bridge/viewer/viewer?StudyInstanceUIDs=" + self.uid
            for page in ("/bridge/app/patients.html?id=" + patient,
                         "/bridge/app/federation.html?national_id=7001002003",
                         "/app/explorer.html#study?uuid=" + self.site.orthanc_study_id(self.uid)):
                b.navigate(self.site.url + page)
                selector = "a.hb-viewer-link, a#hospitalbridge-viewer"
                b.wait_js("[].some.call(document.querySelectorAll(%s), function (a) {"
                          " return a.getAttribute('href').indexOf(%s) >= 0 && a.offsetParent !== null; })"
                          % (json.dumps(selector), json.dumps(href)), 30,
                          message="no visible 'Open in viewer' for the CT on " + page)



@unittest.skipUnless(os.path.exists(v.DICOMWEB_PLUGIN), "orthanc-dicomweb is not installed")
@unittest.skipIf(nh.missing_tools(), "nginx or openssl missing")
class ViewerBehindNginx(unittest.TestCase):
    """The shipped nginx staff host in front (HTTPS, another port): the viewer finds
    DICOMweb through its relative configuration and draws the CT."""

    def test_the_viewer_works_over_https_through_nginx(self):
        tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-viewer-proxy-"))
        self.addCleanup(shutil.rmtree, tmp, True)
        site = h.OrthancSite("viewer-proxy")
        self.addCleanup(site.close)
        site.allocate_ports()
        proxy = nh.NginxProxy(site.http_port, "viewer-proxy")
        self.addCleanup(proxy.close)
        proxy.start()
        site.extra_config = h.deep_merge(v.dicomweb_config(), {
            "RemoteAccessAllowed": True,
            "HospitalBridge": {"Security": {"TrustedProxies": [nh.PROXY_ADDRESS]}}})
        site.start()
        password = site.create_user("rad", "radiologist")
        uid, files = v.make_ct_series(os.path.join(tmp, "ct"), 4, PatientID="PROXY-1", PatientName="PROXY^Ct")
        site.storescu(files)
        site.wait_indexed(uid, 30, predicate=lambda s: s["instance_count"] == 4)
        staff = "https://%s:%d" % (nh.STAFF_HOST, proxy.https_port)
        client = proxy.client(nh.STAFF_HOST)
        client.auth = ("rad", password)
        r = client.get("/dicom-web/studies", params={"StudyInstanceUID": uid}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertTrue(r.json()[0]["00081190"]["Value"][0].startswith(staff + "/dicom-web/studies/"),
                        "DICOMweb's own URLs name the address the browser used (Forwarded)")
        with cdp.Browser(extra_args=["--ignore-certificate-errors",
                                     "--host-resolver-rules=MAP %s 127.0.0.1" % nh.STAFF_HOST]) as b:
            b.set_viewport(1366, 768)
            b.navigate(staff + "/bridge/app/login.html")
            b.wait_js("document.readyState==='complete' && !!document.getElementById('username')", 20)
            b.type_into("#username", "rad")
            b.type_into("#password", password)
            b.click("#login-submit")
            b.wait_js("location.pathname.indexOf('/bridge/app/') === 0 && location.pathname.indexOf('login') < 0",
                      20, message="no sign-in over HTTPS")
            first_request = len(b.events("Network.requestWillBeSent"))
            b.navigate(staff + "/bridge/viewer/open?accession=")
            self.assertIn("Which study?", b.evaluate("document.body.innerText"))
            b.navigate(staff + "/bridge/viewer/viewer?StudyInstanceUIDs=" + uid)
            b.wait_js(v.DRAWN_PIXELS_JS + " > 2000", 90, message="the viewport never drew the CT over HTTPS")
            self.assertEqual(b.evaluate("location.protocol"), "https:")
            urls = b.requested_urls(first_request)
            self.assertTrue(any(u.startswith(staff + "/dicom-web/studies/" + uid) for u in urls))
            self.assertEqual([u for u in urls if not (u.startswith(staff + "/") or u.startswith("data:")
                                                      or u.startswith("blob:"))], [])

if __name__ == "__main__":
    unittest.main()
