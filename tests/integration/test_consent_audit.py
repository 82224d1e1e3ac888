"""Consent and audit: real Orthanc + HospitalBridge sites.

Three federated sites (A = HOS-001, B = HOS-002, C = HOS-003, wired with
orthanc_harness.federate) carry most tests:
  - A: consent defaults, audit of logins, users, DICOM, Orthanc core routes,
    federation queries, exports, access report; its audit trail is forwarded
    to a UDP syslog listener started by the test;
  - B: "Consent.Federation" opt-out (the default): a patient who said no is
    left out of A's federation query;
  - C: "Consent.Federation" opt-in: a patient shows up only after a permit.
Two more single sites: one whose SQLite file is tampered with (audit chain
verification), one whose TCP syslog receiver is down at first (spool, then
drain).

Every check looks at what a user or an administrator sees through HTTP, the
syslog wire or the SQLite file. Audit events are written asynchronously:
helpers poll /bridge/audit with a deadline, then wait for the audit queue to
be empty before counting ("exactly one").
"""

import base64
import datetime
import json
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

import orthanc_harness as h

A_ID, B_ID, C_ID = "HOS-001", "HOS-002", "HOS-003"
NAMES = {A_ID: "General Hospital", B_ID: "St. Mary Clinic", C_ID: "Regional Imaging Centre"}
STORE_AET = "AUDITSCU"            # calling AET of the C-STOREs to A

# patients (PatientID = national ID)
P_AUDIT = {"PatientID": "198001010000000111", "PatientName": "AUDIT^ALICE",
           "PatientBirthDate": "19800101", "PatientSex": "F"}        # at A
P_REPORT = {"PatientID": "198102020000000222", "PatientName": "REPORT^ROBERT",
            "PatientBirthDate": "19810202", "PatientSex": "M"}       # at A (access report)
P_DENY = {"PatientID": "197703030000000333", "PatientName": "NOLAN^DENISE",
          "PatientBirthDate": "19770303", "PatientSex": "F"}         # at B, says no
P_PERMIT = {"PatientID": "197904040000000444", "PatientName": "YATES^PETER",
            "PatientBirthDate": "19790404", "PatientSex": "M"}       # at B, says yes
P_OPTIN = {"PatientID": "196505050000000555", "PatientName": "ORTIZ^OLGA",
           "PatientBirthDate": "19650505", "PatientSex": "F"}        # at C (opt-in)
P_FEDAUDIT = {"PatientID": "199106060000000666", "PatientName": "FEDERER^FRANK",
              "PatientBirthDate": "19910606", "PatientSex": "M"}     # at B (audit of queries)

PDF_BYTES = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
             b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")

RFC5424 = re.compile(r"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\S+) (\S+) HospitalBridge (\S+) (\S+) (\S+) (.*)$",
                     re.DOTALL)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$")
FHIR_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def site_config(site_id, extra=None):
    cfg = {"HospitalBridge": {
        "Site": {"Id": site_id, "Name": NAMES.get(site_id, "Audit Test Site")},
        "Modules": {"StudyIndex": True, "WebApp": True, "Registry": True, "Federation": True,
                    "Consent": True, "Audit": True},
        "Registry": {"NationalId": {"Source": "PatientID", "Pattern": "^[0-9]{6,20}$"}},
        "Federation": {"PeerTimeoutMs": 2000},
        "Security": {"LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}},
    }}
    return h.deep_merge(cfg, extra or {})


def staff_pw():
    return "Audit-Staff-Pw-" + h.generate_uid()[-10:]


def make_study(tmp, label, patient, n=1, modality="CT"):
    """Files of one fresh study (n instances, one series): (uid, [paths])."""
    uid, series = h.generate_uid(), h.generate_uid()
    base = h.sample("MR_small.dcm" if modality == "MR" else "CT_small.dcm")
    files = []
    for i in range(n):
        p = os.path.join(tmp, "%s-%d.dcm" % (label, i))
        h.make_variant(base, p, study_uid=uid, series_uid=series, StudyDate="20240301",
                       StudyTime="101500", StudyDescription="Audit " + label, Modality=modality, **patient)
        files.append(p)
    return uid, files


def error_text(r):
    try:
        body = r.json()
    except ValueError:
        return r.text
    return "%s %s" % (body.get("error", ""), body.get("detail", ""))


def local_name(tag):
    return tag.rsplit("}", 1)[-1]


def iso_utc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_event_time(t):
    """ISO UTC with ms -> aware datetime."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", t)
    if not m:
        raise AssertionError("event time is not ISO UTC: %r" % t)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)


def check_syslog_message(test, raw):
    """raw: bytes of one syslog message. Asserts RFC 5424 + an AuditMessage;
    returns the XML root."""
    text = raw.decode("utf-8")
    m = RFC5424.match(text)
    test.assertIsNotNone(m, "not an RFC 5424 HospitalBridge message: %r" % text[:300])
    pri, stamp = int(m.group(1)), m.group(2)
    test.assertLessEqual(pri, 191, text[:100])
    test.assertRegex(stamp, RFC3339, "TIMESTAMP of %r" % text[:100])
    msg = m.group(7).lstrip("\ufeff")
    try:
        root = ET.fromstring(msg)
    except ET.ParseError as e:
        raise AssertionError("syslog MSG is not XML (%s): %r" % (e, msg[:300]))
    test.assertEqual(local_name(root.tag), "AuditMessage", msg[:200])
    test.assertIsNotNone(find_child(root, "EventIdentification"), msg[:300])
    return root


def find_child(el, name):
    for c in el:
        if local_name(c.tag) == name:
            return c
    return None


def children(el, name):
    return [c for c in el if local_name(c.tag) == name]


# ---------------------------------------------------------------------------
# syslog receivers
# ---------------------------------------------------------------------------

class UdpSyslog(object):
    """Collects every datagram sent to a loopback UDP port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.messages = []
        self.lock = threading.Lock()
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(data)

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        self._stop = True
        self.thread.join(5)
        self.sock.close()


class TcpSyslog(object):
    """A TCP syslog receiver with octet-counting framing ("LEN SP MSG").
    Frames that break the framing are kept in `errors`."""

    def __init__(self, port):
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.port = port
        self.messages = []
        self.errors = []
        self.lock = threading.Lock()
        self._stop = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._read, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _read(self, conn):
        conn.settimeout(0.2)
        buf = b""
        with conn:
            while not self._stop:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    break
                buf += data
                while True:
                    m = re.match(rb"^([1-9][0-9]{0,8}) ", buf)
                    if not m:
                        if len(buf) >= 10 and not re.match(rb"^[0-9]{1,9}$", buf[:10].split(b" ")[0]):
                            with self.lock:
                                self.errors.append(buf[:200])
                            buf = b""
                        break
                    n = int(m.group(1))
                    start = m.end()
                    if len(buf) < start + n:
                        break
                    with self.lock:
                        self.messages.append(buf[start:start + n])
                    buf = buf[start + n:]
            if buf:
                with self.lock:
                    self.errors.append(b"incomplete frame at close: " + buf[:200])

    def snapshot(self):
        with self.lock:
            return list(self.messages), list(self.errors)

    def close(self):
        self._stop = True
        try:
            self.srv.close()
        except OSError:
            pass
        for t in self.threads:
            t.join(5)


# ---------------------------------------------------------------------------
# audit helpers (mixed into the test classes)
# ---------------------------------------------------------------------------

class AuditHelpers(object):

    def audit(self, site, expect=200, **params):
        """GET /bridge/audit as admin: the answer (dict), or the response
        when expect is not 200."""
        params.setdefault("limit", 500)
        r = site.admin.get(site.url + "/bridge/audit", params=params, timeout=30)
        if expect is not None and r.status_code != expect:
            raise AssertionError("GET %s -> %d (expected %d): %s" % (r.url, r.status_code, expect, r.text[:800]))
        return r.json() if expect == 200 else r

    def wait_audit_idle(self, site, timeout=15):
        """Until /bridge/system says the audit queue is empty."""
        def probe():
            r = site.admin.get(site.url + "/bridge/system", timeout=30)
            r.raise_for_status()
            return r.json()["audit"]["queue_depth"] == 0
        h.wait_until(probe, timeout, message="audit queue of %s never empty" % site.name)

    def event_ids(self, site, action):
        """Ids of the events of `action` so far (once earlier work is
        recorded: the queue is empty)."""
        self.wait_audit_idle(site)
        return {e["id"] for e in self.audit(site, action=action)["events"]}

    def new_events(self, site, action, before, match=None, timeout=15, settle=True):
        """Events of `action` not in `before` (ids) for which match(e) holds:
        waits until at least one exists, then (settle) until the audit queue
        is empty, and returns all of them (for "exactly one" checks)."""
        def probe():
            got = [e for e in self.audit(site, action=action)["events"]
                   if e["id"] not in before and (match is None or match(e))]
            return got or None
        got = h.wait_until(probe, timeout, interval=0.25,
                           message="no new %r audit event at %s" % (action, site.name))
        if settle:
            self.wait_audit_idle(site)
            time.sleep(0.3)
            got = probe()
        return got

    def one_event(self, site, action, before, match=None, timeout=15):
        got = self.new_events(site, action, before, match, timeout)
        self.assertEqual(len(got), 1, "expected exactly one new %r event, got %s"
                         % (action, json.dumps(got, indent=1)[:3000]))
        return got[0]

    def assert_event(self, e, action, actor, role, outcome, kind=None):
        self.assertEqual(e["action"], action, e)
        self.assertEqual(e["actor"]["name"], actor, e)
        if role is not None:
            self.assertEqual(e["actor"]["role"], role, e)
        if kind is not None:
            self.assertEqual(e["actor"]["kind"], kind, e)
        self.assertEqual(e["outcome"], outcome, e)
        for key in ("id", "time", "source_ip", "patient_id", "study_uid", "detail", "hash"):
            self.assertIn(key, e)
        parse_event_time(e["time"])
        self.assertIsInstance(e["detail"], dict, e)


# ---------------------------------------------------------------------------
# three federated sites
# ---------------------------------------------------------------------------

class ConsentAuditFederationTest(AuditHelpers, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-consent-audit-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.udp = UdpSyslog()
        cls.addClassCleanup(cls.udp.close)

        cls.A = h.OrthancSite("ca-a", extra_config=site_config(A_ID, {"HospitalBridge": {"Audit": {"Syslog": {
            "Enabled": True, "Host": "127.0.0.1", "Port": cls.udp.port, "Protocol": "udp",
            "RetryIntervalMs": 500}}}}))
        cls.B = h.OrthancSite("ca-b", extra_config=site_config(B_ID))
        cls.C = h.OrthancSite("ca-c", extra_config=site_config(
            C_ID, {"HospitalBridge": {"Consent": {"Federation": "opt-in"}}}))
        for s in (cls.A, cls.B, cls.C):
            cls.addClassCleanup(s.close)
        cls.fed = h.federate([cls.A, cls.B, cls.C])
        A, B, C = cls.A, cls.B, cls.C

        cls.rad_a_name, cls.rec_a_name = "dr_ada", "desk_ada"
        cls.rad_a = A.user_session(cls.rad_a_name, "radiologist", staff_pw())
        cls.rec_a = A.user_session(cls.rec_a_name, "reception", staff_pw())
        cls.rec_b_name = "desk_bea"
        cls.rec_b = B.user_session(cls.rec_b_name, "reception", staff_pw())

        T = cls.tmp
        cls.s_audit, f_audit = make_study(T, "audit", P_AUDIT, n=2)
        cls.s_delete, f_delete = make_study(T, "delete", P_AUDIT, n=1, modality="MR")
        cls.s_report, f_report = make_study(T, "report", P_REPORT, n=1)
        cls.s_deny, f_deny = make_study(T, "deny", P_DENY)
        cls.s_permit, f_permit = make_study(T, "permit", P_PERMIT)
        cls.s_fedaudit, f_fedaudit = make_study(T, "fedaudit", P_FEDAUDIT)
        cls.s_optin, f_optin = make_study(T, "optin", P_OPTIN)
        A.storescu(f_audit + f_delete + f_report, calling_aet=STORE_AET)
        B.storescu(f_deny + f_permit + f_fedaudit)
        C.storescu(f_optin)
        for site, uid in ((A, cls.s_audit), (A, cls.s_delete), (A, cls.s_report), (B, cls.s_deny),
                          (B, cls.s_permit), (B, cls.s_fedaudit), (C, cls.s_optin)):
            site.wait_indexed(uid, timeout=30)
        for site in (A, B, C):
            site.wait_idle(timeout=30)

    # -- helpers ------------------------------------------------------------------

    def registry_patient(self, site, national_id, session=None):
        """The live registry entry of a national ID at a site (polls: linking
        follows the index)."""
        s = session or site.admin

        def probe():
            r = s.get(site.url + "/bridge/patients", params={"national_id": national_id}, timeout=30)
            r.raise_for_status()
            live = [p for p in r.json()["patients"] if not p.get("merged_into")]
            return live[0] if len(live) == 1 else None
        return h.wait_until(probe, 20, message="no registry entry for %s at %s" % (national_id, site.name))

    def new_patient(self, session=None, **fields):
        body = {"national_id": "19" + h.generate_uid().replace(".", "")[-14:], "first_name": "CONSENT",
                "last_name": "TESTER", "date_of_birth": "1970-07-07", "gender": "F"}
        body.update(fields)
        r = (session or self.rec_a).post(self.A.url + "/bridge/patients", json=body, timeout=30)
        self.assertIn(r.status_code, (200, 201), r.text[:500])
        return r.json()

    def record(self, site, session, patient_id, expect=(200, 201), **body):
        r = session.post(site.url + "/bridge/patients/%s/consents" % patient_id, json=body, timeout=30)
        if expect is not None:
            self.assertIn(r.status_code, expect, "POST consents %r -> %d %s"
                          % (body, r.status_code, r.text[:500]))
        return r

    def consents(self, site, session, patient_id):
        r = session.get(site.url + "/bridge/patients/%s/consents" % patient_id, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:500])
        return r.json()

    def fed_query(self, national_id, session=None):
        r = (session or self.rad_a).get(self.A.url + "/bridge/federation/query",
                                        params={"national_id": national_id}, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:800])
        return r.json()

    def site_entry(self, answer, site_id):
        by_id = {s["id"]: s for s in answer["sites"]}
        self.assertIn(site_id, by_id, answer["sites"])
        return by_id[site_id]

    def fed_query_until(self, national_id, site_id, count, uid):
        """Repeat A's query until site_id answers ok with `count` studies and
        `uid` is listed (count > 0) or absent (count == 0)."""
        def probe():
            ans = self.fed_query(national_id)
            s = self.site_entry(ans, site_id)
            listed = uid in [x["study_uid"] for x in ans["studies"]]
            if s["status"] != "ok" or s["count"] != count or listed != (count > 0):
                raise AssertionError("site %s: %r; listed: %s" % (site_id, s, listed))
            return ans
        return h.wait_until(probe, 20, interval=0.3,
                            message="A's federation query for %s never saw %d studies at %s"
                            % (national_id, count, site_id))

    def index_study(self, site, uid):
        st = site.bridge_study(uid)
        self.assertIsNotNone(st, "study %s not in %s's index" % (uid, site.name))
        return st

    # -- consent: records, history, current -----------------------------------------

    def test_consent_unknown_patient_is_404(self):
        r = self.record(self.A, self.rec_a, "PAT-ZZZZZZZZZZ", expect=None,
                        kind="federation", decision="permit", method="verbal")
        self.assertEqual(r.status_code, 404, r.text[:300])
        self.assertIn("error", r.json())
        r = self.rec_a.get(self.A.url + "/bridge/patients/PAT-ZZZZZZZZZZ/consents", timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:300])

    def test_consent_permit_then_deny(self):
        p = self.new_patient()
        # before any record: the defaults (A: federation opt-out, share/research opt-in)
        c0 = self.consents(self.A, self.rec_a, p["id"])
        self.assertEqual(c0["patient_id"], p["id"])
        self.assertEqual(c0["history"], [])
        self.assertEqual({k: (v["decision"], v["source"]) for k, v in c0["current"].items()},
                         {"federation": ("permit", "default"), "share": ("deny", "default"),
                          "research": ("deny", "default")})

        permit = self.record(self.A, self.rec_a, p["id"], kind="federation", decision="permit",
                             method="signed-form", valid_until="2099-12-31", note="asked at admission").json()
        deny = self.record(self.A, self.rec_a, p["id"], kind="federation", decision="deny",
                           method="verbal", note="changed her mind").json()
        for rec, decision, method in ((permit, "permit", "signed-form"), (deny, "deny", "verbal")):
            self.assertEqual((rec["patient_id"], rec["kind"], rec["decision"], rec["method"]),
                             (p["id"], "federation", decision, method), rec)
            self.assertEqual(rec["recorded_by"], self.rec_a_name, rec)
            self.assertFalse(rec["has_attachment"], rec)
            parse_event_time(rec["recorded_at"])
        self.assertEqual(permit["valid_until"], "2099-12-31")
        self.assertEqual(permit["note"], "asked at admission")
        self.assertNotEqual(permit["id"], deny["id"])

        c = self.consents(self.A, self.rec_a, p["id"])
        self.assertEqual([x["id"] for x in c["history"]], [deny["id"], permit["id"]], "newest first")
        self.assertEqual([x["decision"] for x in c["history"]], ["deny", "permit"])
        cur = c["current"]["federation"]
        self.assertEqual((cur["decision"], cur["source"], cur["record_id"]), ("deny", "record", deny["id"]), cur)
        self.assertEqual((c["current"]["share"]["decision"], c["current"]["share"]["source"]), ("deny", "default"))

    def test_consent_attachment_round_trip(self):
        p = self.new_patient()
        rec = self.record(self.A, self.rec_a, p["id"], kind="share", decision="permit", method="signed-form",
                          attachment=base64.b64encode(PDF_BYTES).decode(),
                          attachment_type="application/pdf").json()
        self.assertTrue(rec["has_attachment"], rec)
        r = self.rec_a.get(self.A.url + "/bridge/patients/%s/consents/%s/attachment" % (p["id"], rec["id"]),
                           timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.content, PDF_BYTES)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/pdf"), r.headers)
        # a record without attachment has none to give
        plain = self.record(self.A, self.rec_a, p["id"], kind="research", decision="deny", method="verbal").json()
        r = self.rec_a.get(self.A.url + "/bridge/patients/%s/consents/%s/attachment" % (p["id"], plain["id"]),
                           timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:300])

    def test_consent_bad_input_is_400_naming_the_field(self):
        p = self.new_patient()
        good = {"kind": "research", "decision": "permit", "method": "verbal"}
        cases = [({"kind": "marketing"}, "kind"),
                 ({"decision": "maybe"}, "decision"),
                 ({"method": "telepathy"}, "method"),
                 ({"valid_from": "2024-13-45"}, "valid_from"),
                 ({"valid_until": "31/12/2030"}, "valid_until"),
                 ({"attachment": "%%% this is not base64 %%%", "attachment_type": "application/pdf"},
                  "attachment")]
        for change, field in cases:
            with self.subTest(field=field):
                r = self.record(self.A, self.rec_a, p["id"], expect=None, **dict(good, **change))
                self.assertEqual(r.status_code, 400, r.text[:300])
                self.assertIn(field, error_text(r))
        missing = dict(good)
        del missing["kind"]
        r = self.record(self.A, self.rec_a, p["id"], expect=None, **missing)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertIn("kind", error_text(r))
        self.assertEqual(self.consents(self.A, self.rec_a, p["id"])["history"], [], "nothing was recorded")

    def test_consent_fhir(self):
        national = "19" + h.generate_uid().replace(".", "")[-14:]
        p = self.new_patient(national_id=national, first_name="GRACE", last_name="HOPPER",
                             date_of_birth="1956-12-09", gender="F")
        r = self.rec_a.get(self.A.url + "/bridge/patients/%s/fhir" % p["id"], timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        pat = r.json()
        self.assertEqual(pat["resourceType"], "Patient")
        ids = [(i.get("system"), i.get("value")) for i in pat.get("identifier", [])]
        self.assertIn(("urn:hospitalbridge:national-id", national), ids)
        self.assertEqual(pat.get("birthDate"), "1956-12-09")
        self.assertEqual(pat.get("gender"), "female")
        self.assertIn("HOPPER", json.dumps(pat.get("name")))

        self.record(self.A, self.rec_a, p["id"], kind="federation", decision="permit", method="electronic")
        self.record(self.A, self.rec_a, p["id"], kind="research", decision="deny", method="verbal")
        r = self.rec_a.get(self.A.url + "/bridge/patients/%s/consents/fhir" % p["id"], timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        b = r.json()
        self.assertEqual(b["resourceType"], "Bundle")
        self.assertIn(b.get("type"), ("collection", "searchset"))
        res = [e["resource"] for e in b.get("entry", [])]
        self.assertEqual(len(res), 2, json.dumps(b)[:1500])
        for c in res:
            with self.subTest(consent=c.get("id")):
                self.assertEqual(c["resourceType"], "Consent")
                self.assertIn(c.get("status"), ("draft", "proposed", "active", "rejected", "inactive",
                                                "entered-in-error"))
                self.assertTrue(c.get("scope", {}).get("coding") or c.get("scope", {}).get("text"), c)
                self.assertIsInstance(c.get("category"), list)
                self.assertGreaterEqual(len(c["category"]), 1, c)
                self.assertTrue(c.get("patient", {}).get("reference", "").endswith(p["id"]), c)
                self.assertTrue(c.get("policy") or c.get("policyRule"), "policy or policyRule: %r" % c)
        types = sorted(c.get("provision", {}).get("type") for c in res)
        self.assertEqual(types, ["deny", "permit"], res)

    # -- consent: enforcement in federation --------------------------------------------

    def test_federation_deny_at_b_hides_the_patient(self):
        # before: both of B's patients are visible from A (B is opt-out)
        self.fed_query_until(P_DENY["PatientID"], B_ID, 1, self.s_deny)
        self.fed_query_until(P_PERMIT["PatientID"], B_ID, 1, self.s_permit)
        self.assertFalse(self.index_study(self.B, self.s_deny)["restricted"]["federation"])

        deny_pat = self.registry_patient(self.B, P_DENY["PatientID"], self.rec_b)
        permit_pat = self.registry_patient(self.B, P_PERMIT["PatientID"], self.rec_b)
        self.record(self.B, self.rec_b, permit_pat["id"], kind="federation", decision="permit",
                    method="signed-form")
        self.record(self.B, self.rec_b, deny_pat["id"], kind="federation", decision="deny", method="verbal")

        ans = self.fed_query(P_DENY["PatientID"])
        b = self.site_entry(ans, B_ID)
        self.assertEqual((b["status"], b["count"]), ("ok", 0), b)
        self.assertEqual(ans["studies"], [])
        self.assertNotIn(self.s_deny, json.dumps(ans))

        ans = self.fed_query(P_PERMIT["PatientID"])
        b = self.site_entry(ans, B_ID)
        self.assertEqual((b["status"], b["count"]), ("ok", 1), b)
        self.assertEqual([s["study_uid"] for s in ans["studies"]], [self.s_permit])

        # what B's staff see: the denied patient's study is restricted
        r = self.rec_b.get(self.B.url + "/bridge/studies", params={"patient_id": P_DENY["PatientID"]}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        st = r.json()["studies"]
        self.assertEqual([s["study_uid"] for s in st], [self.s_deny])
        self.assertIs(st[0]["restricted"]["federation"], True, st[0])
        self.assertIs(self.index_study(self.B, self.s_permit)["restricted"]["federation"], False)

    def test_federation_opt_in_at_c(self):
        national = P_OPTIN["PatientID"]
        ans = self.fed_query_until(national, C_ID, 0, self.s_optin)
        self.assertEqual(ans["studies"], [])
        self.assertIs(self.index_study(self.C, self.s_optin)["restricted"]["federation"], True)
        pat = self.registry_patient(self.C, national)
        sysc = self.C.admin.get(self.C.url + "/bridge/system", timeout=30).json()["consent"]["defaults"]
        self.assertEqual(sysc["federation"], "opt-in", sysc)
        c = self.consents(self.C, self.C.admin, pat["id"])
        self.assertEqual((c["current"]["federation"]["decision"], c["current"]["federation"]["source"]),
                         ("deny", "default"))

        self.record(self.C, self.C.admin, pat["id"], kind="federation", decision="permit", method="attestation")
        ans = self.fed_query(national)
        c_entry = self.site_entry(ans, C_ID)
        self.assertEqual((c_entry["status"], c_entry["count"]), ("ok", 1), c_entry)
        self.assertEqual([s["study_uid"] for s in ans["studies"]], [self.s_optin])
        self.assertEqual(ans["studies"][0]["site_id"], C_ID)
        self.assertIs(self.index_study(self.C, self.s_optin)["restricted"]["federation"], False)

    # -- audit: accounts -------------------------------------------------------------------

    def test_audit_login_logout_and_failed_login(self):
        A = self.A
        name, pw = "aud_login", staff_pw()
        A.create_user(name, "technician", pw)
        who = lambda e: e["actor"]["name"] == name  # noqa: E731

        before = self.event_ids(A, "login")
        s = A.session()
        r = s.post(A.url + "/bridge/login", json={"username": name, "password": pw}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        e = self.one_event(A, "login", before, who)
        self.assert_event(e, "login", name, "technician", "success")
        self.assertEqual(e["source_ip"], "127.0.0.1")
        self.assertNotIn(pw, json.dumps(e))

        before = self.event_ids(A, "logout")
        r = s.post(A.url + "/bridge/logout", timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        e = self.one_event(A, "logout", before, who)
        self.assert_event(e, "logout", name, "technician", "success")

        wrong = "Wrong-Secret-" + h.generate_uid()[-12:]
        before = self.event_ids(A, "login.failed")
        r = A.session().post(A.url + "/bridge/login", json={"username": name, "password": wrong}, timeout=30)
        self.assertEqual(r.status_code, 403, r.text[:300])
        e = self.one_event(A, "login.failed", before, who)
        self.assert_event(e, "login.failed", name, None, "failure")
        self.assertEqual(e["source_ip"], "127.0.0.1")
        for secret in (wrong, pw):
            self.assertNotIn(secret, json.dumps(e))
            self.assertNotIn(secret, A.log_text(), "a password is in Orthanc's log")
            self.assertFalse(any(secret.encode() in m for m in self.udp.snapshot()), "a password went to syslog")

    def test_audit_user_created_and_changed(self):
        A = self.A
        name = "aud_newbie"
        pw = staff_pw()
        mentions = lambda e: name in json.dumps(e)  # noqa: E731

        before = self.event_ids(A, "user.created")
        A.create_user(name, "reception", pw)
        e = self.one_event(A, "user.created", before, mentions)
        self.assert_event(e, "user.created", h.ADMIN_USER, "admin", "success")
        self.assertNotIn(pw, json.dumps(e))

        before = self.event_ids(A, "user.changed")
        r = A.admin.put(A.url + "/bridge/users/" + name, json={"role": "technician"}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        e = self.one_event(A, "user.changed", before, mentions)
        self.assert_event(e, "user.changed", h.ADMIN_USER, "admin", "success")
        self.assertIn("technician", json.dumps(e["detail"]), "the event should say what changed: %r" % e)

    # -- audit: DICOM and Orthanc's routes ---------------------------------------------------

    def test_audit_dicom_stored(self):
        A = self.A
        pat = self.registry_patient(A, P_AUDIT["PatientID"])

        def probe():
            ev = self.audit(A, action="dicom.stored", study_uid=self.s_audit)["events"]
            return ev or None
        h.wait_until(probe, 20, message="no dicom.stored event for %s" % self.s_audit)
        # StableAge 2: give a late duplicate every chance to show up
        A.wait_indexed(self.s_audit)
        time.sleep(2.5)
        self.wait_audit_idle(A)
        ev = [e for e in self.audit(A, action="dicom.stored")["events"] if e["study_uid"] == self.s_audit]
        self.assertEqual(len(ev), 1, json.dumps(ev, indent=1)[:3000])
        e = ev[0]
        self.assertEqual(e["action"], "dicom.stored")
        self.assertEqual(e["outcome"], "success")
        self.assertEqual(e["actor"]["kind"], "dicom", e)
        self.assertEqual(e["detail"]["aet"], STORE_AET, e)
        self.assertEqual(e["detail"]["instances"], 2, e)
        self.assertEqual(e["detail"]["ip"], "127.0.0.1", e)
        self.assertEqual(e["patient_id"], pat["id"], e)

    def test_audit_study_viewed_and_downloaded(self):
        A = self.A
        oid = A.orthanc_study_id(self.s_audit)
        by_rec = lambda e: e["actor"]["name"] == self.rec_a_name and e["study_uid"] == self.s_audit  # noqa: E731

        before = self.event_ids(A, "study.viewed")
        r = self.rec_a.get(A.url + "/studies/" + oid, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        e = self.one_event(A, "study.viewed", before, by_rec)
        self.assert_event(e, "study.viewed", self.rec_a_name, "reception", "success", kind="user")

        before = self.event_ids(A, "study.downloaded")
        r = self.rec_a.get(A.url + "/studies/%s/archive" % oid, timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.content[:2], b"PK")
        e = self.one_event(A, "study.downloaded", before, by_rec)
        self.assert_event(e, "study.downloaded", self.rec_a_name, "reception", "success", kind="user")

    def test_audit_study_deleted(self):
        A = self.A
        oid = A.orthanc_study_id(self.s_delete)
        self.assertIsNotNone(oid)
        of_study = lambda e: e["study_uid"] == self.s_delete  # noqa: E731

        before = self.event_ids(A, "study.deleted")
        r = self.rec_a.delete(A.url + "/studies/" + oid, timeout=30)
        self.assertEqual(r.status_code, 403, r.text[:300])
        e = self.one_event(A, "study.deleted", before, of_study)
        self.assert_event(e, "study.deleted", self.rec_a_name, "reception", "denied")
        self.assertIsNotNone(A.orthanc_study_id(self.s_delete), "reception must not delete")

        before = self.event_ids(A, "study.deleted")
        r = A.admin.delete(A.url + "/studies/" + oid, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        e = self.one_event(A, "study.deleted", before, of_study)
        self.assert_event(e, "study.deleted", h.ADMIN_USER, "admin", "success")
        self.assertIsNone(A.orthanc_study_id(self.s_delete))

    # -- audit: federation and consent ---------------------------------------------------------

    def test_audit_federation_query(self):
        A, B = self.A, self.B
        national = P_FEDAUDIT["PatientID"]
        self.fed_query_until(national, B_ID, 1, self.s_fedaudit)
        peer_user = h.peer_username(A_ID)

        before_a = self.event_ids(A, "federation.query.sent")
        before_b = self.event_ids(B, "federation.query.answered")
        self.fed_query(national)
        e = self.one_event(A, "federation.query.sent", before_a)
        self.assert_event(e, "federation.query.sent", self.rad_a_name, "radiologist", "success")
        sites = json.dumps(e["detail"]["sites"])
        self.assertIn(B_ID, sites)
        self.assertIn(C_ID, sites)

        e = self.one_event(B, "federation.query.answered", before_b)
        self.assert_event(e, "federation.query.answered", peer_user, "peer", "success", kind="peer")
        pat_b = self.registry_patient(B, national)
        self.assertIn(e["patient_id"], (pat_b["id"], ""), e)

    def test_audit_consent_recorded(self):
        p = self.new_patient()
        before = self.event_ids(self.A, "consent.recorded")
        rec = self.record(self.A, self.rec_a, p["id"], kind="research", decision="permit", method="verbal").json()
        e = self.one_event(self.A, "consent.recorded", before, lambda e: e["patient_id"] == p["id"])
        self.assert_event(e, "consent.recorded", self.rec_a_name, "reception", "success")
        self.assertEqual(rec["recorded_by"], self.rec_a_name)
        # a refused record is not recorded
        self.record(self.A, self.rec_a, p["id"], expect=(400,), kind="nope", decision="permit", method="verbal")
        self.wait_audit_idle(self.A)
        got = [e for e in self.audit(self.A, action="consent.recorded", patient_id=p["id"])["events"]]
        self.assertEqual(len(got), 1, got)

    # -- audit: reading it ------------------------------------------------------------------------

    def test_audit_filters(self):
        A = self.A
        # an event of each kind we filter on
        r = self.rec_a.get(A.url + "/studies/" + A.orthanc_study_id(self.s_report), timeout=30)
        self.assertEqual(r.status_code, 200)
        self.new_events(A, "study.viewed", set(), lambda e: e["study_uid"] == self.s_report)

        ev = self.audit(A, study_uid=self.s_report)
        self.assertGreaterEqual(ev["total"], 1)
        self.assertTrue(all(e["study_uid"] == self.s_report for e in ev["events"]), ev["events"])
        self.assertIn("study.viewed", [e["action"] for e in ev["events"]])

        ev = self.audit(A, actor=self.rec_a_name)
        self.assertGreaterEqual(ev["total"], 1)
        self.assertTrue(all(e["actor"]["name"] == self.rec_a_name for e in ev["events"]), ev["events"])

        ev = self.audit(A, action="study.viewed")
        self.assertTrue(all(e["action"] == "study.viewed" for e in ev["events"]))
        pat = self.registry_patient(A, P_AUDIT["PatientID"])
        ev = self.audit(A, patient_id=pat["id"])
        self.assertGreaterEqual(ev["total"], 1)
        self.assertTrue(all(e["patient_id"] == pat["id"] for e in ev["events"]), ev["events"])

        everything = self.audit(A)
        self.assertEqual(everything["total"], len(everything["events"]))
        times = [parse_event_time(e["time"]) for e in everything["events"]]
        self.assertEqual(times, sorted(times, reverse=True), "newest first")
        page = self.audit(A, limit=2, offset=1)
        self.assertEqual((page["limit"], page["offset"]), (2, 1))
        self.assertEqual([e["id"] for e in page["events"]], [e["id"] for e in everything["events"][1:3]])

        # dates and datetimes
        newest = everything["events"][0]
        t = parse_event_time(newest["time"])
        today = t.strftime("%Y-%m-%d")
        ids = lambda **p: [e["id"] for e in self.audit(A, **p)["events"]]  # noqa: E731
        self.assertIn(newest["id"], ids(**{"from": today, "to": today}))
        self.assertNotIn(newest["id"], ids(to=(t - datetime.timedelta(days=1)).strftime("%Y-%m-%d")))
        self.assertEqual(self.audit(A, to="2001-01-01")["total"], 0)

        for name, value in (("from", "yesterday"), ("to", "2024-13-01"), ("from", "2024-02-30T25:00:00Z")):
            with self.subTest(**{name: value}):
                r = self.audit(A, expect=400, **{name: value})
                self.assertEqual(r.status_code, 400)
                self.assertIn(name, error_text(r))

        # admin only
        r = self.rec_a.get(A.url + "/bridge/audit", timeout=30)
        self.assertEqual(r.status_code, 403, r.text[:200])

        # ISO datetimes, sent as every HTTP client sends them (":" percent-encoded)
        self.assertIn(newest["id"], ids(**{"from": iso_utc(t - datetime.timedelta(seconds=2)),
                                           "to": iso_utc(t + datetime.timedelta(seconds=2))}))
        self.assertEqual(self.audit(A, **{"from": iso_utc(t + datetime.timedelta(minutes=5))})["total"], 0)

    def test_audit_export_fhir(self):
        A = self.A
        name, pw = "aud_export", staff_pw()
        A.create_user(name, "radiologist", pw)
        s = A.session()
        before = self.event_ids(A, "logout")
        self.assertEqual(s.post(A.url + "/bridge/login", json={"username": name, "password": pw}).status_code, 200)
        self.assertEqual(s.post(A.url + "/bridge/logout").status_code, 200)
        self.new_events(A, "logout", before, lambda e: e["actor"]["name"] == name)
        expected = self.audit(A, actor=name)
        self.assertEqual(expected["total"], 2, expected)

        r = A.admin.get(A.url + "/bridge/audit/export", params={"format": "fhir", "actor": name}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/fhir+json"), r.headers)
        b = r.json()
        self.assertEqual(b["resourceType"], "Bundle")
        res = [x["resource"] for x in b.get("entry", [])]
        self.assertEqual(len(res), 2, json.dumps(b)[:2000])
        for ae in res:
            with self.subTest(event=ae.get("id")):
                self.assertEqual(ae["resourceType"], "AuditEvent")
                t = ae.get("type") or {}
                self.assertTrue(t.get("system") and t.get("code"), "type must be a Coding: %r" % t)
                self.assertRegex(ae.get("recorded", ""), FHIR_INSTANT)
                self.assertIsInstance(ae.get("agent"), list)
                self.assertGreaterEqual(len(ae["agent"]), 1)
                for ag in ae["agent"]:
                    self.assertIsInstance(ag.get("requestor"), bool, ag)
                    self.assertTrue(ag.get("who") or ag.get("name"), ag)
                self.assertIn(name, json.dumps(ae["agent"]))
                self.assertTrue((ae.get("source") or {}).get("observer"), "source.observer: %r" % ae.get("source"))
                if "outcome" in ae:
                    self.assertIn(ae["outcome"], ("0", "4", "8", "12"))
                if "action" in ae:
                    self.assertIn(ae["action"], ("C", "R", "U", "D", "E"))

        r = A.admin.get(A.url + "/bridge/audit/export", params={"format": "csv"}, timeout=30)
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertIn("format", error_text(r))
        r = self.rad_a.get(A.url + "/bridge/audit/export", params={"format": "fhir"}, timeout=30)
        self.assertEqual(r.status_code, 403)

    def test_audit_export_dicom(self):
        A = self.A
        filters = {"action": "dicom.stored"}
        h.wait_until(lambda: self.audit(A, **filters)["total"] >= 2, 20, message="no dicom.stored events")
        n = self.audit(A, **filters)["total"]
        r = A.admin.get(A.url + "/bridge/audit/export", params=dict(filters, format="dicom"), timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/xml"), r.headers)
        root = ET.fromstring(r.content)
        self.assertEqual(local_name(root.tag), "AuditMessages")
        msgs = children(root, "AuditMessage")
        self.assertEqual(len(msgs), n, r.text[:1500])
        for m in msgs:
            ev = find_child(m, "EventIdentification")
            self.assertIsNotNone(ev, ET.tostring(m)[:500])
            for attr in ("EventActionCode", "EventDateTime", "EventOutcomeIndicator"):
                self.assertTrue(ev.get(attr), "%s missing: %r" % (attr, ET.tostring(ev)[:400]))
            self.assertIn(ev.get("EventActionCode"), ("C", "R", "U", "D", "E"))
            self.assertIn(ev.get("EventOutcomeIndicator"), ("0", "4", "8", "12"))
            eid = find_child(ev, "EventID")
            self.assertIsNotNone(eid, ET.tostring(ev)[:400])
            self.assertTrue(eid.get("csd-code"), ET.tostring(eid))
            aps = children(m, "ActiveParticipant")
            self.assertGreaterEqual(len(aps), 1)
            for ap in aps:
                self.assertTrue(ap.get("UserID"), ET.tostring(ap)[:300])
            src = find_child(m, "AuditSourceIdentification")
            self.assertIsNotNone(src)
            self.assertTrue(src.get("AuditSourceID"), ET.tostring(src))
        self.assertIn(STORE_AET, r.text)

    def test_audit_syslog_udp(self):
        A = self.A
        name, pw = "aud_udp", staff_pw()
        A.create_user(name, "reception", pw)
        r = A.session().post(A.url + "/bridge/login", json={"username": name, "password": pw}, timeout=30)
        self.assertEqual(r.status_code, 200)
        h.wait_until(lambda: any(name.encode() in m for m in self.udp.snapshot()), 15,
                     message="the login of %s never reached the UDP syslog listener" % name)
        msgs = self.udp.snapshot()
        for raw in msgs:
            check_syslog_message(self, raw)
        sysinfo = A.admin.get(A.url + "/bridge/system", timeout=30).json()["audit"]["syslog"]
        self.assertIs(sysinfo["enabled"], True, sysinfo)
        self.assertEqual(sysinfo["backlog"], 0, sysinfo)

    def test_access_report(self):
        A = self.A
        pat = self.registry_patient(A, P_REPORT["PatientID"])
        oid = A.orthanc_study_id(self.s_report)
        self.assertEqual(self.rec_a.get(A.url + "/studies/" + oid, timeout=30).status_code, 200)
        self.assertEqual(self.rad_a.get(A.url + "/studies/%s/archive" % oid, timeout=60).status_code, 200)
        self.new_events(A, "study.downloaded", set(), lambda e: e["study_uid"] == self.s_report)

        def actor_of(e):
            a = e.get("actor")
            return (a.get("name"), a.get("role")) if isinstance(a, dict) else (e.get("actor_name"),
                                                                               e.get("actor_role"))

        def study_of(e):
            s = e.get("study")
            if isinstance(s, dict):
                return s.get("study_uid") or s.get("uid")
            return s or e.get("study_uid")

        for who in (A.admin, self.rec_a):
            r = who.get(A.url + "/bridge/patients/%s/access-report" % pat["id"], timeout=30)
            self.assertEqual(r.status_code, 200, r.text[:300])
        rep = r.json()
        self.assertEqual(rep["patient"]["id"], pat["id"])
        seen = {(e["action"], actor_of(e), study_of(e)) for e in rep["events"]}
        self.assertIn(("study.viewed", (self.rec_a_name, "reception"), self.s_report), seen)
        self.assertIn(("study.downloaded", (self.rad_a_name, "radiologist"), self.s_report), seen)
        self.assertTrue(all(study_of(e) == self.s_report for e in rep["events"]),
                        "another patient's study in the report: %r" % rep["events"])
        for e in rep["events"]:
            parse_event_time(e["time"])
            self.assertIn(e["outcome"], ("success", "failure", "denied"))
        r = self.rad_a.get(A.url + "/bridge/patients/%s/access-report" % pat["id"], timeout=30)
        self.assertEqual(r.status_code, 403, r.text[:300])
        r = A.admin.get(A.url + "/bridge/patients/PAT-ZZZZZZZZZZ/access-report", timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:300])


# ---------------------------------------------------------------------------
# tamper evidence
# ---------------------------------------------------------------------------

def audit_table(con):
    """(table, columns) of the audit events in the plugin's SQLite file: the
    table whose name says audit and that has both an id and a hash column."""
    found = []
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % name)]
        if "audit" in name.lower() and "id" in cols and any("hash" in c for c in cols):
            n = con.execute("SELECT COUNT(*) FROM %s" % name).fetchone()[0]
            found.append((n, name, cols))
    if not found:
        raise AssertionError("no audit table with id and hash columns in the database")
    found.sort(reverse=True)
    return found[0][1], found[0][2]


class AuditTamperTest(AuditHelpers, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.site = h.OrthancSite("audit-tamper", extra_config=site_config("HOS-TAMPER"))
        cls.addClassCleanup(cls.site.close)
        cls.site.start()

    def verify(self):
        r = self.site.admin.get(self.site.url + "/bridge/audit/verify", timeout=60)
        self.assertEqual(r.status_code, 200, r.text[:300])
        return r.json()

    def edit_db(self, fn):
        """Stop the site, run fn(connection, table, columns) on its SQLite
        file, start it again."""
        db = self.site.admin.get(self.site.url + "/bridge/system", timeout=30).json()["database"]["path"]
        self.assertTrue(os.path.exists(db), db)
        self.wait_audit_idle(self.site)
        self.site.stop()
        con = sqlite3.connect(db)
        try:
            table, cols = audit_table(con)
            fn(con, table, cols)
            con.commit()
        finally:
            con.close()
        self.site.start()

    def test_verify_names_edited_and_deleted_rows(self):
        site = self.site
        names = []
        for i in range(4):
            name, pw = "tamper_%d" % i, staff_pw()
            site.create_user(name, "reception", pw)
            r = site.session().post(site.url + "/bridge/login", json={"username": name, "password": pw}, timeout=30)
            self.assertEqual(r.status_code, 200)
            names.append(name)
        logins = self.new_events(site, "login", set(), lambda e: e["actor"]["name"] in names)
        self.assertEqual(len(logins), 4, logins)
        chrono = sorted(logins, key=lambda e: (e["time"], str(e["id"])))

        v = self.verify()
        self.assertIs(v["ok"], True, v)
        self.assertIsNone(v["first_broken"], v)
        self.assertIsNone(v["checkpoint"], v)
        self.assertGreaterEqual(v["events_checked"], self.audit(site)["total"] - 1)
        r = self.rec_session().get(site.url + "/bridge/audit/verify", timeout=30)
        self.assertEqual(r.status_code, 403)

        # 1. one column of one row changed
        target = chrono[1]
        column = {}

        def edit(con, table, cols):
            for c in ("action", "outcome", "source_ip", "actor_name", "actor", "study_uid"):
                if c in cols:
                    column["name"] = c
                    break
            self.assertIn("name", column, "no editable column among %r" % cols)
            c = column["name"]
            (old,) = con.execute("SELECT %s FROM %s WHERE id = ?" % (c, table), (target["id"],)).fetchone()
            column["old"] = old
            new = "logout" if c == "action" else ("denied" if c == "outcome" else "10.66.66.66")
            cur = con.execute("UPDATE %s SET %s = ? WHERE id = ?" % (table, c), (new, target["id"]))
            self.assertEqual(cur.rowcount, 1)
        self.edit_db(edit)
        v = self.verify()
        self.assertIs(v["ok"], False, v)
        self.assertEqual(str(v["first_broken"]["id"]), str(target["id"]), v)
        self.assertTrue(v["first_broken"].get("reason"), v)

        # put it back: the chain is whole again
        def restore(con, table, cols):
            con.execute("UPDATE %s SET %s = ? WHERE id = ?" % (table, column["name"]),
                        (column["old"], target["id"]))
        self.edit_db(restore)
        v = self.verify()
        self.assertIs(v["ok"], True, v)

        # 2. one row deleted
        gone, after = chrono[2], chrono[3]

        def delete(con, table, cols):
            cur = con.execute("DELETE FROM %s WHERE id = ?" % table, (gone["id"],))
            self.assertEqual(cur.rowcount, 1)
        self.edit_db(delete)
        v = self.verify()
        self.assertIs(v["ok"], False, v)
        self.assertIsNotNone(v["first_broken"], v)
        self.assertIn(str(v["first_broken"]["id"]), (str(gone["id"]), str(after["id"])), v)
        self.assertTrue(v["first_broken"].get("reason"), v)

    def rec_session(self):
        return self.site.user_session("tamper_desk", "reception", staff_pw())


# ---------------------------------------------------------------------------
# syslog over TCP: spool while the receiver is down
# ---------------------------------------------------------------------------

class AuditSyslogTcpTest(AuditHelpers, unittest.TestCase):

    def test_tcp_spools_then_drains(self):
        port = h.free_port()
        site = h.OrthancSite("audit-tcp", extra_config=site_config("HOS-TCP", {"HospitalBridge": {"Audit": {
            "Syslog": {"Enabled": True, "Host": "127.0.0.1", "Port": port, "Protocol": "tcp",
                       "RetryIntervalMs": 500}}}}))
        self.addCleanup(site.close)
        site.start()

        names, pws = [], []
        for i in range(3):
            name, pw = "tcp_user_%d" % i, staff_pw()
            site.create_user(name, "technician", pw)
            r = site.session().post(site.url + "/bridge/login", json={"username": name, "password": pw}, timeout=30)
            self.assertEqual(r.status_code, 200)
            names.append(name)
            pws.append(pw)

        def syslog_state():
            r = site.admin.get(site.url + "/bridge/system", timeout=30)
            r.raise_for_status()
            return r.json()["audit"]["syslog"]
        st = h.wait_until(lambda: (lambda s: s if s["backlog"] > 0 and s.get("last_error") else None)(
            syslog_state()), 15, message="no backlog and error shown while the syslog receiver is down")
        self.assertIs(st["enabled"], True, st)

        # requests keep working while the receiver is down
        for _ in range(5):
            t0 = time.monotonic()
            r = site.admin.get(site.url + "/bridge/studies", timeout=30)
            self.assertEqual(r.status_code, 200)
            self.assertLess(time.monotonic() - t0, 2.0)
        self.assertGreater(syslog_state()["backlog"], 0)

        rx = TcpSyslog(port)
        self.addCleanup(rx.close)
        h.wait_until(lambda: syslog_state()["backlog"] == 0, 20, message="the syslog backlog never drained")

        def all_arrived():
            msgs, _ = rx.snapshot()
            return all(any(n.encode() in m for m in msgs) for n in names)
        h.wait_until(all_arrived, 10, message="spooled logins never arrived over TCP")
        msgs, errors = rx.snapshot()
        self.assertEqual(errors, [], "octet-counting framing broken")
        for raw in msgs:
            check_syslog_message(self, raw)
        # and new events go straight through
        before = len(msgs)
        r = site.session().post(site.url + "/bridge/login", json={"username": names[0], "password": pws[0]},
                                timeout=30)
        self.assertEqual(r.status_code, 200)
        h.wait_until(lambda: any(names[0].encode() in m for m in rx.snapshot()[0][before:]), 10,
                     message="a new event did not reach the receiver")


if __name__ == "__main__":
    unittest.main()
