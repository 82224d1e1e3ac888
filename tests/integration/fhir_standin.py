"""A local stand-in for a FHIR R4 server behind an OAuth2 authorization
server, for the router's `fhir` destinations: HTTPS with a throw-away test CA
(satusehat_standin.make_test_ca), strict about what it accepts, and able to
misbehave on demand.

  POST /oauth2/token        RFC 6749 client credentials (grant_type in the
                            form; client_id/client_secret in the form or HTTP
                            Basic); answers {"access_token", "token_type":
                            "Bearer", "expires_in"}
  GET  /fhir/<Type>?identifier=<system>|<value>      a searchset Bundle
  POST /fhir/<Type>         create (no id in the body); 201 with the resource
  PUT  /fhir/<Type>/<id>    update of an existing resource (the body's id is
                            the URL's); a new meta.versionId

<Type> is ImagingStudy or DiagnosticReport. Every /fhir call needs a bearer
token this server issued and that has not expired (401 otherwise, with
WWW-Authenticate); bodies must be application/fhir+json and answers are asked
for as FHIR JSON. A resource is checked against FHIR R4's JSON schema, the
elements R4 requires (ImagingStudy: status, subject, series uid/modality,
instance uid/sopClass; DiagnosticReport: status, code), the counts an
ImagingStudy states, and referential integrity: a relative literal reference
("ImagingStudy/<id>") must name a resource this server has. One ImagingStudy
per Study Instance UID and one DiagnosticReport per identifier: a second one
is refused (409). What it refuses is kept in `rejections`.

The token service echoes the client_secret it was given in its refusal, as
careless servers do, so that a test sees whether the router keeps the secret
out of its reasons and logs."""

import base64
import copy
import http.server
import json
import re
import ssl
import threading
import time
import urllib.parse
import uuid

import satusehat_standin

FHIR_JSON = "application/fhir+json"
TYPES = ("ImagingStudy", "DiagnosticReport")
REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def identifiers_of(resource):
    return [(i.get("system"), i.get("value")) for i in resource.get("identifier", [])]


class FhirServer(object):
    def __init__(self, folder, client_id, client_secret, schema):
        import jsonschema
        self.client_id = client_id
        self.client_secret = client_secret
        self.validators = {t: jsonschema.Draft6Validator({"$ref": "#/definitions/" + t,
                                                          "definitions": schema["definitions"]})
                           for t in TYPES}
        self.lock = threading.Lock()
        self.tokens = {}             # token -> expiry (time.time())
        self.token_requests = 0
        self.tokens_refused = 0
        self.unauthorized = 0        # resource calls answered 401
        self.resources = {t: {} for t in TYPES}  # type -> id -> resource
        self.history = {t: {} for t in TYPES}    # type -> id -> [versions]
        self.calls = []              # (method, path) of authorized resource calls
        self.rejections = []
        self.ca, cert, key = satusehat_standin.make_test_ca(folder)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, answer, extra = server.route(method, self.path, self.headers, body)
                except Exception as e:  # a bug in the stand-in shows in the test
                    status, answer, extra = 599, {"error": "stand-in: %r" % (e,)}, {}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", extra.pop("Content-Type", FHIR_JSON + "; charset=utf-8"))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def do_PUT(self):
                self.handle_any("PUT")

            def do_DELETE(self):
                self.handle_any("DELETE")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.base = self.url + "/fhir"
        self.token_url = self.url + "/oauth2/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what a test does ------------------------------------------------

    def expire_tokens(self):
        """Every token issued so far expires now: its next use gets 401."""
        with self.lock:
            self.tokens = {t: 0 for t in self.tokens}

    def find(self, resource_type, system, value):
        with self.lock:
            return [copy.deepcopy(r) for r in self.resources[resource_type].values()
                    if (system, value) in identifiers_of(r)]

    def all(self, resource_type):
        with self.lock:
            return [copy.deepcopy(r) for r in self.resources[resource_type].values()]

    def versions(self, resource_type, rid):
        with self.lock:
            return copy.deepcopy(self.history[resource_type].get(rid, []))

    # --- the endpoints ---------------------------------------------------

    def reject(self, status, why, extra=None):
        with self.lock:
            self.rejections.append(why)
        return status, {"resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "invalid", "diagnostics": why}]}, extra or {}

    def issue_token(self, headers, body):
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request", "error_description": "form body expected"}, {
                "Content-Type": "application/json"}
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        with self.lock:
            self.token_requests += 1
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type"}, {"Content-Type": "application/json"}
        client_id, secret = (form.get("client_id") or [None])[0], (form.get("client_secret") or [None])[0]
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, secret = urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
        if client_id != self.client_id or secret != self.client_secret:
            with self.lock:
                self.tokens_refused += 1
            return 401, {"error": "invalid_client",
                         "error_description": "client %s with secret %s is unknown" % (client_id, secret)}, {
                "Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="token"'}
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = time.time() + 3600
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}, {
            "Content-Type": "application/json", "Cache-Control": "no-store"}

    def route(self, method, path, headers, body):
        url = urllib.parse.urlsplit(path)
        if url.path == "/oauth2/token":
            if method != "POST":
                return 405, {"error": "POST only"}, {"Content-Type": "application/json"}
            return self.issue_token(headers, body)
        auth = headers.get("Authorization", "")
        with self.lock:
            valid = auth.startswith("Bearer ") and self.tokens.get(auth[7:], 0) > time.time()
            if not valid:
                self.unauthorized += 1
        if not valid:
            return 401, {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "error", "code": "login", "diagnostics": "invalid token"}]}, {
                "WWW-Authenticate": 'Bearer error="invalid_token"'}
        with self.lock:
            self.calls.append((method, url.path))
        parts = url.path.split("/")
        if len(parts) < 3 or parts[1] != "fhir" or parts[2] not in TYPES or len(parts) > 4:
            return self.reject(404, "no such endpoint: %s %s" % (method, url.path))
        if "json" not in headers.get("Accept", ""):
            return self.reject(406, "Accept must ask for FHIR JSON, got %r" % headers.get("Accept"))
        resource_type = parts[2]
        rid = parts[3] if len(parts) == 4 else None
        if method == "GET" and rid is None:
            return self.search(resource_type, urllib.parse.parse_qs(url.query))
        if method == "GET":
            with self.lock:
                found = copy.deepcopy(self.resources[resource_type].get(rid))
            return (200, found, {}) if found else self.reject(404, "%s/%s is not here" % (resource_type, rid))
        if method in ("POST", "PUT"):
            if headers.get("Content-Type", "").split(";")[0].strip() != FHIR_JSON:
                return self.reject(415, "Content-Type must be %s, got %r" % (FHIR_JSON, headers.get("Content-Type")))
            if (method == "POST") != (rid is None):
                return self.reject(405, "POST to the type, PUT to an id")
            return self.save(method, resource_type, rid, body)
        return self.reject(405, "%s is not supported" % method)

    def search(self, resource_type, query):
        if set(query) != {"identifier"} or len(query["identifier"]) != 1:
            return self.reject(400, "search by one identifier only, got %r" % (query,))
        system, bar, value = query["identifier"][0].partition("|")
        if not bar or not system or not value:
            return self.reject(400, "identifier must be <system>|<value>")
        found = self.find(resource_type, system, value)
        return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                     "entry": [{"fullUrl": "%s/%s/%s" % (self.base, resource_type, r["id"]), "resource": r,
                                "search": {"mode": "match"}} for r in found]}, {}

    def references(self, value, out):
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "reference" and isinstance(v, str):
                    out.append(v)
                else:
                    self.references(v, out)
        elif isinstance(value, list):
            for v in value:
                self.references(v, out)
        return out

    def check(self, resource_type, resource):
        """Why `resource` is not acceptable, or None."""
        errors = sorted(self.validators[resource_type].iter_errors(resource), key=lambda e: list(e.path))
        if errors:
            return "not a valid FHIR R4 %s: %s at %s" % (resource_type, errors[0].message[:200], list(errors[0].path))
        for reference in self.references(resource, []):
            m = REFERENCE.match(reference)
            if reference.startswith("#"):
                continue
            if not m:
                return "reference %r is not a relative literal reference of this server" % reference
            with self.lock:
                known = m.group(1) in self.resources and m.group(2) in self.resources[m.group(1)]
            if not known:
                return "reference %s does not resolve on this server" % reference
        if not resource.get("identifier"):
            return "an identifier is needed to find the resource again"
        if resource_type == "ImagingStudy":
            if not resource.get("status") or not resource.get("subject"):
                return "ImagingStudy.status and .subject are required (1..1)"
            uids = [v for s, v in identifiers_of(resource) if s == "urn:dicom:uid"]
            if len(uids) != 1 or not uids[0].startswith("urn:oid:"):
                return "one urn:dicom:uid identifier (urn:oid:<Study Instance UID>) needed"
            count = 0
            for series in resource.get("series", []):
                if not series.get("uid") or not series.get("modality"):
                    return "ImagingStudy.series.uid and .modality are required (1..1)"
                instances = series.get("instance", [])
                for i in instances:
                    if not i.get("uid") or not i.get("sopClass"):
                        return "ImagingStudy.series.instance.uid and .sopClass are required (1..1)"
                if series.get("numberOfInstances", len(instances)) != len(instances):
                    return "series %s states %s instances and lists %d" % (
                        series["uid"], series.get("numberOfInstances"), len(instances))
                count += len(instances)
            if resource.get("numberOfSeries", len(resource.get("series", []))) != len(resource.get("series", [])):
                return "numberOfSeries does not match the series listed"
            if resource.get("numberOfInstances", count) != count:
                return "numberOfInstances %s, %d listed" % (resource.get("numberOfInstances"), count)
        else:
            if not resource.get("status") or not resource.get("code"):
                return "DiagnosticReport.status and .code are required (1..1)"
            for form in resource.get("presentedForm", []):
                if "data" in form and not form.get("contentType"):
                    return "att-1: an Attachment with data needs a contentType"
                if "data" in form and "size" in form and len(base64.b64decode(form["data"])) != form["size"]:
                    return "presentedForm.size is not the size of its data"
        return None

    def save(self, method, resource_type, rid, body):
        try:
            resource = json.loads(body)
        except ValueError:
            return self.reject(400, "not JSON")
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            return self.reject(400, "resourceType must be %s" % resource_type)
        if method == "POST" and "id" in resource:
            return self.reject(400, "a resource to create has no id")
        if method == "PUT":
            if resource.get("id") != rid:
                return self.reject(400, "the body's id must be the URL's (%s)" % rid)
            with self.lock:
                exists = rid in self.resources[resource_type]
            if not exists:
                return self.reject(404, "%s/%s is not here (no create by PUT)" % (resource_type, rid))
        why = self.check(resource_type, resource)
        if why:
            return self.reject(400, why)
        with self.lock:
            others = [r for r in self.resources[resource_type].values() if r["id"] != rid and
                      (set(identifiers_of(r)) & set(identifiers_of(resource)))]
        if others:
            return self.reject(409, "%s/%s already has identifier %s" % (
                resource_type, others[0]["id"], sorted(set(identifiers_of(others[0])) & set(identifiers_of(resource)))))
        with self.lock:
            if method == "POST":
                rid = str(uuid.uuid4())
                resource["id"] = rid
            versions = self.history[resource_type].setdefault(rid, [])
            resource["meta"] = {"versionId": str(len(versions) + 1),
                                "lastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            versions.append(copy.deepcopy(resource))
            self.resources[resource_type][rid] = copy.deepcopy(resource)
        return (201 if method == "POST" else 200), resource, {
            "Location": "%s/%s/%s/_history/%s" % (self.base, resource_type, rid, resource["meta"]["versionId"])}
