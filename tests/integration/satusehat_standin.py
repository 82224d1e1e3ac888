"""A local stand-in for Indonesia's SATUSEHAT platform, for the router's
tests: HTTPS with a throw-away test CA, the endpoints seed 003's DICOM Router
uses, strict about what it accepts, and able to misbehave on demand.

  POST /oauth2/v1/accesstoken?grant_type=client_credentials   form client_id, client_secret
  GET  /fhir-r4/v1/ServiceRequest?identifier=<acsn system>|<accession>
  GET  /fhir-r4/v1/ImagingStudy?identifier=<acsn system>|<accession>
  POST /fhir-r4/v1/ImagingStudy, PUT /fhir-r4/v1/ImagingStudy/<id>
  POST /dicom/v1/dicomWeb/studies   one instance, Content-Type application/dicom, X-ImagingStudy-ID
  GET  /fhir-r4/v1/DiagnosticReport?identifier=<diagnostic system>|<report id>
  POST /fhir-r4/v1/DiagnosticReport, PUT /fhir-r4/v1/DiagnosticReport/<id>

Every FHIR call needs a valid bearer token; an ImagingStudy is checked against
FHIR R4's JSON schema and the profile (ACSN identifier of the organization,
urn:dicom:uid, subject and basedOn of the ServiceRequest); a second
ImagingStudy for one accession is refused; an image must name the
ImagingStudy of its own study. A DiagnosticReport (the radiologist's reading)
is checked against the R4 schema and the platform's documented shape: one
official identifier of http://sys-ids.kemkes.go.id/diagnostic/<org>/rad,
basedOn the ServiceRequest, its subject, the ServiceRequest's code (the
platform wants DiagnosticReport.code to be ServiceRequest.code) and the
ImagingStudy of the same accession; a second one for one identifier is
refused. What it refuses is kept in `rejections`."""

import http.server
import io
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

import orthanc_harness as h

pydicom = h.pydicom


def make_test_ca(folder):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns
    (ca.pem, server.pem, server.key)."""
    def run(*args):
        r = subprocess.run(["openssl"] + list(args), cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], r.stdout))
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=HospitalBridge test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    return [os.path.join(folder, n) for n in ("ca.pem", "server.pem", "server.key")]


class Platform(object):
    def __init__(self, folder, organization, client_id, client_secret, schema):
        import jsonschema
        self.organization = organization
        self.client_id = client_id
        self.client_secret = client_secret
        self.acsn_system = "http://sys-ids.kemkes.go.id/acsn/" + organization
        self.diagnostic_system = "http://sys-ids.kemkes.go.id/diagnostic/%s/rad" % organization
        self.validator = jsonschema.Draft6Validator(
            {"$ref": "#/definitions/ImagingStudy", "definitions": schema["definitions"]})
        self.report_validator = jsonschema.Draft6Validator(
            {"$ref": "#/definitions/DiagnosticReport", "definitions": schema["definitions"]})
        self.lock = threading.Lock()
        self.tokens = {}            # token -> expiry (time.time())
        self.token_requests = 0
        self.unauthorized = 0
        self.service_requests = {}  # accession -> resource
        self.imaging_studies = {}   # id -> resource
        self.diagnostic_reports = {}  # id -> resource
        self.instances = {}         # SOP Instance UID -> times received
        self.instance_study = {}    # SOP Instance UID -> ImagingStudy id
        self.rejections = []
        self.fail_next = 0          # answer the next N requests with 500
        self.delay_next = 0         # hold the next N requests for `delay` seconds
        self.delay = 0
        self.ca, cert, key = make_test_ca(folder)
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with platform.lock:
                    fail = platform.fail_next > 0
                    if fail:
                        platform.fail_next -= 1
                    delay = platform.delay if platform.delay_next > 0 else 0
                    if delay:
                        platform.delay_next -= 1
                if delay:
                    time.sleep(delay)
                if fail:
                    return self.reply(500, {"error": "Internal Server Error (on demand)"})
                try:
                    status, answer = platform.route(method, self.path, self.headers, body)
                except Exception as e:  # a bug in the stand-in shows in the test
                    status, answer = 599, {"error": "stand-in: %r" % (e,)}
                self.reply(status, answer)

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def do_PUT(self):
                self.handle_any("PUT")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what a test does ------------------------------------------------

    def post_service_request(self, accession, patient="P02478375538"):
        with self.lock:
            resource = {"resourceType": "ServiceRequest", "id": str(uuid.uuid4()),
                        "identifier": [{"system": self.acsn_system, "value": accession}],
                        "subject": {"reference": "Patient/" + patient},
                        "code": {"coding": [{"system": "http://loinc.org", "code": "24725-4",
                                             "display": "CT Head"}], "text": "CT kepala"},
                        "encounter": {"reference": "Encounter/" + str(uuid.uuid4())}}
            self.service_requests[accession] = resource
            return resource

    def expire_tokens(self):
        with self.lock:
            self.tokens = {t: 0 for t in self.tokens}

    def studies_for(self, accession):
        with self.lock:
            return [s for s in self.imaging_studies.values()
                    if any(i.get("system") == self.acsn_system and i.get("value") == accession
                           for i in s.get("identifier", []))]

    def reports_for(self, report_id):
        with self.lock:
            return [r for r in self.diagnostic_reports.values()
                    if {"system": self.diagnostic_system, "use": "official", "value": report_id}
                    in r.get("identifier", [])]

    # --- the endpoints ---------------------------------------------------

    def reject(self, status, why):
        self.rejections.append(why)
        return status, {"resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "invalid", "diagnostics": why}]}

    def route(self, method, path, headers, body):
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/oauth2/v1/accesstoken" and method == "POST":
            form = urllib.parse.parse_qs(body.decode())
            with self.lock:
                self.token_requests += 1
            if query.get("grant_type") != ["client_credentials"]:
                return self.reject(400, "grant_type must be client_credentials")
            if form.get("client_id") != [self.client_id] or form.get("client_secret") != [self.client_secret]:
                return self.reject(401, "invalid client")
            token = uuid.uuid4().hex
            with self.lock:
                self.tokens[token] = time.time() + 3600
            return 200, {"access_token": token, "expires_in": "3599", "token_type": "BearerToken",
                         "organization_name": "test"}
        auth = headers.get("Authorization", "")
        with self.lock:
            valid = auth.startswith("Bearer ") and self.tokens.get(auth[7:], 0) > time.time()
            if not valid:
                self.unauthorized += 1
        if not valid:
            return 401, {"fault": {"faultstring": "Invalid Access Token", "detail": {"errorcode": "invalid"}}}
        if url.path in ("/fhir-r4/v1/ServiceRequest", "/fhir-r4/v1/ImagingStudy") and method == "GET":
            identifier = query.get("identifier", [""])[0]
            system, _, accession = identifier.rpartition("|")
            if system != self.acsn_system or not accession:
                return self.reject(400, "identifier must be %s|<accession>, got %r" % (self.acsn_system, identifier))
            if url.path.endswith("ServiceRequest"):
                with self.lock:
                    found = [self.service_requests[accession]] if accession in self.service_requests else []
            else:
                found = self.studies_for(accession)
            return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"resource": r} for r in found]}
        if url.path.startswith("/fhir-r4/v1/ImagingStudy") and method in ("POST", "PUT"):
            return self.save_imaging_study(method, url.path, body)
        if url.path == "/fhir-r4/v1/DiagnosticReport" and method == "GET":
            identifier = query.get("identifier", [""])[0]
            system, _, value = identifier.rpartition("|")
            if system != self.diagnostic_system or not value:
                return self.reject(400, "identifier must be %s|<id>, got %r" % (self.diagnostic_system, identifier))
            found = self.reports_for(value)
            return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"resource": r} for r in found]}
        if url.path.startswith("/fhir-r4/v1/DiagnosticReport") and method in ("POST", "PUT"):
            return self.save_diagnostic_report(method, url.path, body)
        if url.path == "/dicom/v1/dicomWeb/studies" and method == "POST":
            return self.store_instance(headers, body)
        return self.reject(404, "no such endpoint: %s %s" % (method, url.path))

    def save_imaging_study(self, method, path, body):
        try:
            resource = json.loads(body)
        except ValueError:
            return self.reject(400, "not JSON")
        errors = sorted(self.validator.iter_errors(resource), key=lambda e: list(e.path))
        if errors:
            return self.reject(400, "not a valid FHIR R4 ImagingStudy: %s at %s"
                               % (errors[0].message[:200], list(errors[0].path)))
        identifiers = resource.get("identifier", [])
        acsn = [i for i in identifiers if i.get("system") == self.acsn_system and
                any(c.get("code") == "ACSN" for c in i.get("type", {}).get("coding", []))]
        uid = [i for i in identifiers if i.get("system") == "urn:dicom:uid" and
               str(i.get("value", "")).startswith("urn:oid:")]
        if len(acsn) != 1 or len(uid) != 1:
            return self.reject(400, "identifiers: one ACSN of %s and one urn:dicom:uid needed" % self.acsn_system)
        accession = acsn[0]["value"]
        with self.lock:
            order = self.service_requests.get(accession)
        if order is None:
            return self.reject(400, "no ServiceRequest for accession " + accession)
        if resource.get("basedOn") != [{"reference": "ServiceRequest/" + order["id"]}]:
            return self.reject(400, "basedOn must be the ServiceRequest of the accession")
        if resource.get("subject") != order["subject"]:
            return self.reject(400, "subject must be the ServiceRequest's")
        existing = self.studies_for(accession)
        if method == "POST":
            if existing:
                return self.reject(409, "an ImagingStudy exists for accession " + accession)
            resource["id"] = str(uuid.uuid4())
        else:
            wanted = path.rsplit("/", 1)[-1]
            if not existing or existing[0]["id"] != wanted or resource.get("id") != wanted:
                return self.reject(400, "PUT must name the ImagingStudy of the accession")
        with self.lock:
            self.imaging_studies[resource["id"]] = resource
        return (201 if method == "POST" else 200), resource

    def save_diagnostic_report(self, method, path, body):
        try:
            resource = json.loads(body)
        except ValueError:
            return self.reject(400, "not JSON")
        errors = sorted(self.report_validator.iter_errors(resource), key=lambda e: list(e.path))
        if errors:
            return self.reject(400, "not a valid FHIR R4 DiagnosticReport: %s at %s"
                               % (errors[0].message[:200], list(errors[0].path)))
        identifiers = [i for i in resource.get("identifier", []) if i.get("system") == self.diagnostic_system]
        if len(identifiers) != 1 or identifiers[0].get("use") != "official" or not identifiers[0].get("value"):
            return self.reject(400, "identifier: one official identifier of %s needed" % self.diagnostic_system)
        if resource.get("status") not in ("preliminary", "final", "amended", "corrected", "appended"):
            return self.reject(400, "status %r is not one of a reading" % resource.get("status"))
        with self.lock:
            orders = {"ServiceRequest/" + o["id"]: (a, o) for a, o in self.service_requests.items()}
        based = resource.get("basedOn", [])
        if len(based) != 1 or based[0].get("reference") not in orders:
            return self.reject(400, "basedOn must be the ServiceRequest of the reading, got %r" % (based,))
        accession, order = orders[based[0]["reference"]]
        if resource.get("subject") != order["subject"]:
            return self.reject(400, "subject must be the ServiceRequest's")
        codes = [(c.get("system"), c.get("code")) for c in resource.get("code", {}).get("coding", [])]
        wanted = [(c["system"], c["code"]) for c in order["code"]["coding"]]
        if not set(wanted) <= set(codes):
            return self.reject(400, "code must be the ServiceRequest's code %r, got %r" % (wanted, codes))
        if not any(c.get("code") == "RAD" for cat in resource.get("category", []) for c in cat.get("coding", [])):
            return self.reject(400, "category must be RAD")
        studies = self.studies_for(accession)
        if not studies or resource.get("imagingStudy") != [{"reference": "ImagingStudy/" + studies[0]["id"]}]:
            return self.reject(400, "imagingStudy must be the ImagingStudy of accession " + accession)
        existing = self.reports_for(identifiers[0]["value"])
        if method == "POST":
            if existing:
                return self.reject(409, "a DiagnosticReport exists for " + identifiers[0]["value"])
            resource["id"] = str(uuid.uuid4())
        else:
            wanted_id = path.rsplit("/", 1)[-1]
            if not existing or existing[0]["id"] != wanted_id or resource.get("id") != wanted_id:
                return self.reject(400, "PUT must name the DiagnosticReport of the identifier")
        with self.lock:
            self.diagnostic_reports[resource["id"]] = resource
        return (201 if method == "POST" else 200), resource

    def store_instance(self, headers, body):
        if headers.get("Content-Type", "") != "application/dicom":
            return self.reject(415, "Content-Type must be application/dicom")
        study_id = headers.get("X-ImagingStudy-ID", "")
        with self.lock:
            study = self.imaging_studies.get(study_id)
        if study is None:
            return self.reject(400, "X-ImagingStudy-ID names no ImagingStudy: %r" % study_id)
        try:
            ds = pydicom.dcmread(io.BytesIO(body), stop_before_pixels=True)
        except Exception as e:
            return self.reject(400, "not DICOM: %r" % (e,))
        uid = [i["value"] for i in study["identifier"] if i.get("system") == "urn:dicom:uid"][0]
        if uid != "urn:oid:" + str(ds.StudyInstanceUID):
            return self.reject(400, "the image is not of ImagingStudy %s" % study_id)
        sop = str(ds.SOPInstanceUID)
        with self.lock:
            if sop in self.instances:
                self.instances[sop] += 1
                return 400, {"error": "Instance already exists"}
            self.instances[sop] = 1
            self.instance_study[sop] = study_id
        return 200, {"status": "success", "SOPInstanceUID": sop}
