#!/usr/bin/env python3
"""HospitalBridge worklist benchmark: modality worklist C-FIND over 10 000 scheduled orders,
HospitalBridge's orders store against Debian's sample worklist plugin (libModalityWorklists.so,
which reads one .wl file per order at every query), in the same run.

Both variants hold the same orders: HospitalBridge gets them through POST /bridge/orders (the
REST intake a hospital information system uses), the sample plugin as .wl files written with
pydicom carrying the same attributes. Each variant is a fresh Orthanc (fresh temporary storage,
free loopback ports, TCP_NODELAY=1) answering worklist C-FIND on its own DICOM port.

What is timed: a typical modality query (the modality asks for its own station's steps of one
day, every return key a modality shows left empty), repeated --queries times, each day of the
schedule in turn. All queries of a variant go through ONE findscu association (one query file
per C-FIND), and findscu's own log, timestamped to the millisecond by a log4cplus
configuration, gives the time from "Sending Find Request" to "Received Final Find Response" of
each query. Process start and association set-up are therefore not counted for either variant.
Before timing, one query per day is sent untimed to both variants and their answers must match
(same accession numbers), or the benchmark fails.

Result: p50 and p95 per variant (ms), speed-up = sample p50 / HospitalBridge p50.
Target: HospitalBridge p50 <= 20 ms and speed-up >= 5.
Exit code: 0 when the measurement completed (whatever the figures), 1 when something broke,
2 on bad usage.
"""

import argparse
import base64
import datetime
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                              "libHospitalBridge.so")
SAMPLE_PLUGIN = "/usr/share/orthanc/plugins/libModalityWorklists.so"
CALLED_AET = "HBRIDGE"
ADMIN_USER = "admin"
MODALITIES = ["CT", "MR", "US", "CR", "MG"]
STATIONS_PER_MODALITY = 2
TARGET_P50_MS = 20.0
TARGET_SPEEDUP = 5.0

RETURN_KEYS = [
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber",
    "StudyInstanceUID", "RequestedProcedureID", "RequestedProcedureDescription",
    "RequestedProcedurePriority", "ReferringPhysicianName",
]
STEP_RETURN_KEYS = [
    "ScheduledStationName", "ScheduledProcedureStepStartTime", "ScheduledProcedureStepID",
    "ScheduledProcedureStepDescription", "ScheduledProcedureStepLocation",
]


class BenchError(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def tail(path, lines=30):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


def percentile(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------------------------------------
# the schedule both variants serve

def station(modality, n):
    return "%s%d" % (modality, n + 1)


def make_schedule(count, days, first_day):
    """`count` orders spread evenly over `days` days, the modalities and their stations."""
    stations = [(m, station(m, s)) for m in MODALITIES for s in range(STATIONS_PER_MODALITY)]
    orders = []
    for i in range(count):
        modality, aet = stations[i % len(stations)]
        day = first_day + datetime.timedelta(days=(i // len(stations)) % days)
        minute = 7 * 60 + (i * 7) % (10 * 60)
        orders.append({
            "accession_number": "BW%08d" % i,
            "patient": {"patient_id": "BWP%06d" % (i % 7919), "name": "PATIENT^NUMBER%d" % i,
                        "birth_date": "19%02d-%02d-%02d" % (40 + i % 60, 1 + i % 12, 1 + i % 28),
                        "sex": "FMO"[i % 3]},
            "modality": modality,
            "station_aet": aet,
            "station_name": aet + " ROOM",
            "location": "RAD-%d" % (1 + i % 4),
            "scheduled_start": "%sT%02d:%02d:00" % (day.isoformat(), minute // 60, minute % 60),
            "procedure": {"code": "P%03d" % (i % 50), "scheme": "LOCAL",
                          "description": "%s procedure %d" % (modality, i % 50)},
            "priority": ["routine", "routine", "urgent", "stat"][i % 4],
            "referring_physician": "REFERRER^NUMBER%d" % (i % 97),
        })
    return orders


def dicom_date(iso):
    return iso[:10].replace("-", "")


def write_wl_files(orders, folder, uids):
    """The same orders as .wl files for the sample plugin (needs pydicom)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    for o, uid in zip(orders, uids):
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = o["patient"]["name"]
        ds.PatientID = o["patient"]["patient_id"]
        ds.PatientBirthDate = dicom_date(o["patient"]["birth_date"])
        ds.PatientSex = o["patient"]["sex"]
        ds.AccessionNumber = o["accession_number"]
        ds.StudyInstanceUID = uid
        ds.RequestedProcedureID = o["accession_number"]
        ds.RequestedProcedureDescription = o["procedure"]["description"]
        ds.RequestedProcedurePriority = {"stat": "STAT", "urgent": "HIGH"}.get(o["priority"], "ROUTINE")
        ds.ReferringPhysicianName = o["referring_physician"]
        step = Dataset()
        step.Modality = o["modality"]
        step.ScheduledStationAETitle = o["station_aet"]
        step.ScheduledStationName = o["station_name"]
        step.ScheduledProcedureStepStartDate = dicom_date(o["scheduled_start"])
        step.ScheduledProcedureStepStartTime = o["scheduled_start"][11:19].replace(":", "")
        step.ScheduledProcedureStepID = o["accession_number"] + "-1"
        step.ScheduledProcedureStepDescription = o["procedure"]["description"]
        step.ScheduledProcedureStepLocation = o["location"]
        step.ScheduledProcedureStepStatus = "SCHEDULED"
        ds.ScheduledProcedureStepSequence = [step]
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = "1.2.276.0.7230010.3.1.0.1"
        ds.file_meta.MediaStorageSOPInstanceUID = "2.25.%d" % (int.from_bytes(secrets.token_bytes(15), "big"))
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(os.path.join(folder, o["accession_number"] + ".wl"), write_like_original=False)


def write_query_files(queries, folder, aet):
    """One findscu query file per query, each (modality, station, day) with empty return keys."""
    paths = []
    for n, (modality, station_aet, day) in enumerate(queries):
        txt = os.path.join(folder, "q%05d.txt" % n)
        with open(txt, "w") as f:
            f.write("(0008,0005) CS [ISO_IR 192]\n")
            for key in RETURN_KEYS:
                f.write("%s\n" % dump_line(key))
            f.write("(0040,0100) SQ\n(fffe,e000) -\n")
            f.write('(0008,0060) CS [%s]\n' % modality)
            f.write('(0040,0001) AE [%s]\n' % station_aet)
            f.write('(0040,0002) DA [%s]\n' % day)
            for key in STEP_RETURN_KEYS:
                f.write("%s\n" % dump_line(key))
            f.write("(fffe,e00d) -\n(fffe,e0dd) -\n")
        path = txt[:-4] + ".dcm"
        run(["dump2dcm", "-q", txt, path])
        paths.append(path)
    return paths


TAGS = {
    "PatientName": "(0010,0010) PN", "PatientID": "(0010,0020) LO", "PatientBirthDate": "(0010,0030) DA",
    "PatientSex": "(0010,0040) CS", "AccessionNumber": "(0008,0050) SH",
    "StudyInstanceUID": "(0020,000d) UI", "RequestedProcedureID": "(0040,1001) SH",
    "RequestedProcedureDescription": "(0032,1060) LO", "RequestedProcedurePriority": "(0040,1003) SH",
    "ReferringPhysicianName": "(0008,0090) PN", "ScheduledStationName": "(0040,0010) SH",
    "ScheduledProcedureStepStartTime": "(0040,0003) TM", "ScheduledProcedureStepID": "(0040,0009) SH",
    "ScheduledProcedureStepDescription": "(0040,0007) LO", "ScheduledProcedureStepLocation": "(0040,0011) SH",
}


def dump_line(key):
    return "%s (no value available)" % TAGS[key]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    if r.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (" ".join(cmd[:3]), r.returncode,
                                                 r.stdout.decode("utf-8", "replace")[-800:]))
    return r.stdout.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# one Orthanc

class Http:
    def __init__(self, port, user, password):
        self.port = port
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.headers = {"Authorization": "Basic " + token, "Content-Type": "application/json"}
        self.conn = None

    def request(self, method, path, body=None, timeout=30):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=None if body is None else json.dumps(body),
                                  headers=self.headers)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        try:
            return r.status, json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            return r.status, data.decode("utf-8", "replace")


class Orthanc:
    def __init__(self, args, kind, work, password):
        self.args, self.kind, self.password = args, kind, password
        self.dir = os.path.join(work, kind)
        os.makedirs(os.path.join(self.dir, "storage"))
        self.log_path = os.path.join(self.dir, "orthanc.log")
        self.http_port, self.dicom_port = free_port(), free_port()
        while self.dicom_port == self.http_port:
            self.dicom_port = free_port()
        self.wl_dir = os.path.join(self.dir, "worklists")
        os.makedirs(self.wl_dir)
        self.proc = None

    def fail(self, msg):
        raise BenchError("[%s] %s\n--- last lines of %s ---\n%s" % (self.kind, msg, self.log_path,
                                                                   tail(self.log_path)))

    def start(self):
        stations = {station(m, s).lower(): {"AET": station(m, s), "Host": "127.0.0.1", "Port": 104}
                    for m in MODALITIES for s in range(STATIONS_PER_MODALITY)}
        cfg = {
            "Name": "HB-WORKLIST-BENCH", "StorageDirectory": os.path.join(self.dir, "storage"),
            "IndexDirectory": os.path.join(self.dir, "storage"), "HttpPort": self.http_port,
            "DicomPort": self.dicom_port, "DicomAet": CALLED_AET, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomCheckCalledAet": False, "DefaultEncoding": "Utf8",
            "DicomModalities": stations,
        }
        if self.kind == "hospitalbridge":
            cfg["Plugins"] = [os.path.abspath(self.args.plugin)]
            cfg["HospitalBridge"] = {
                "Site": {"Id": "HOS-001", "Name": "General Hospital"},
                "Security": {"BootstrapAdmin": {"Username": ADMIN_USER,
                                                "PasswordEnvironmentVariable": "HOSPITALBRIDGE_ADMIN_PASSWORD",
                                                "PasswordFile": ""},
                             "PasswordHashIterations": 100000},
                "Orders": {"PastGraceMinutes": 10080, "Worklist": {"MaxAnswers": 10000}},
            }
            self.http = Http(self.http_port, ADMIN_USER, self.password)
        else:
            cfg["Plugins"] = [SAMPLE_PLUGIN]
            cfg["Worklists"] = {"Enable": True, "Database": self.wl_dir}
            self.http = Http(self.http_port, "-", "-")
        path = os.path.join(self.dir, "orthanc.json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        env = dict(os.environ, TCP_NODELAY="1", HOSPITALBRIDGE_ADMIN_PASSWORD=self.password)
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.args.orthanc, path], stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.dir)
        deadline = time.monotonic() + 60
        probe = "/bridge/system" if self.kind == "hospitalbridge" else "/system"
        while True:
            if self.proc.poll() is not None:
                self.fail("Orthanc exited during start-up with code %d" % self.proc.returncode)
            try:
                status, _ = self.http.request("GET", probe, timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.fail("not answering %s after 60 s" % probe)
            time.sleep(0.2)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()

    def find(self, query_files, aet, timed):
        """Sends every query file over one association; returns (ms per query or None,
        accession numbers answered per query)."""
        out = os.path.join(self.dir, "answers")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        logcfg = os.path.join(self.dir, "findscu.logcfg")
        with open(logcfg, "w") as f:
            f.write("log4cplus.rootLogger = INFO, console\n"
                    "log4cplus.appender.console = log4cplus::ConsoleAppender\n"
                    "log4cplus.appender.console.layout = log4cplus::PatternLayout\n"
                    "log4cplus.appender.console.layout.ConversionPattern = %D{%H:%M:%S.%q} %m%n\n")
        cmd = ["findscu", "-W", "-lc", logcfg, "-aet", aet, "-aec", CALLED_AET, "-to", "300"]
        if not timed:
            cmd += ["-X", "-od", out]
        cmd += ["127.0.0.1", str(self.dicom_port)] + query_files
        text = run(cmd, env=dict(os.environ, TCP_NODELAY="1"), timeout=3600)
        times, sent = [], None
        for line in text.splitlines():
            m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) (.*)", line)
            if not m:
                continue
            at = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))) * 1000.0 + int(m.group(4))
            message = m.group(5)
            if message.startswith("Sending Find Request"):
                sent = at
            elif message.startswith("Received Final Find Response"):
                if sent is None:
                    raise BenchError("findscu log out of order:\n" + text[-1500:])
                if "Success" not in message and "Pending" not in message:
                    raise BenchError("[%s] a query failed: %s" % (self.kind, message))
                times.append((at - sent) % 86400000.0)
                sent = None
        if len(times) != len(query_files):
            raise BenchError("[%s] %d of %d queries answered:\n%s" % (self.kind, len(times), len(query_files),
                                                                      text[-1500:]))
        answers = []
        if not timed:
            import pydicom
            answers = sorted(str(pydicom.dcmread(p).AccessionNumber) for p in glob.glob(os.path.join(out, "*.dcm")))
        return times, answers


# ---------------------------------------------------------------------------------------------

def post_orders(site, orders):
    uids = []
    t0 = time.monotonic()
    for n, order in enumerate(orders):
        status, body = site.http.request("POST", "/bridge/orders", order)
        if status != 201:
            site.fail("POST /bridge/orders answered %d: %s" % (status, str(body)[:300]))
        uids.append(body["study_uid"])
        if (n + 1) % 2000 == 0:
            log("    %d orders made (%.0f/s)" % (n + 1, (n + 1) / (time.monotonic() - t0)))
    return uids, time.monotonic() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plugin", default=DEFAULT_PLUGIN, help="libHospitalBridge.so to load")
    p.add_argument("--orthanc", default="/usr/sbin/Orthanc")
    p.add_argument("--orders", type=int, default=10000, help="scheduled orders (default 10000)")
    p.add_argument("--days", type=int, default=20, help="days the orders are spread over (default 20)")
    p.add_argument("--queries", type=int, default=60, help="timed queries per variant (default 60)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    if args.orders < 1 or args.days < 1 or args.queries < 2:
        p.error("--orders, --days must be >= 1 and --queries >= 2")
    for tool in ("findscu", "dump2dcm"):
        if not shutil.which(tool):
            log("%s not found: install dcmtk" % tool)
            return 1
    for path in (args.plugin, args.orthanc, SAMPLE_PLUGIN):
        if not os.path.exists(path):
            log("not found: %s" % path)
            return 1

    work = tempfile.mkdtemp(prefix="hb-bench-worklist-")
    password = secrets.token_urlsafe(18)
    sites = []
    try:
        first_day = datetime.date.today()
        orders = make_schedule(args.orders, args.days, first_day)
        days = [(first_day + datetime.timedelta(days=d)).strftime("%Y%m%d") for d in range(args.days)]
        hb = Orthanc(args, "hospitalbridge", work, password)
        sample = Orthanc(args, "sample", work, password)
        sites = [hb, sample]
        log("HospitalBridge worklist benchmark: %d orders over %d days, %d stations"
            % (args.orders, args.days, len(MODALITIES) * STATIONS_PER_MODALITY))
        hb.start()
        log("  making the orders through POST /bridge/orders ...")
        uids, made_s = post_orders(hb, orders)
        log("  %d orders made in %.1f s (%.0f orders/s)" % (len(orders), made_s, len(orders) / made_s))
        log("  writing the same orders as .wl files for the sample plugin ...")
        write_wl_files(orders, sample.wl_dir, uids)
        sample.start()

        # The typical query: CT1's steps of one day; every day in turn.
        modality, aet = "CT", station("CT", 0)
        qdir = os.path.join(work, "queries")
        os.makedirs(qdir)
        check_files = write_query_files([(modality, aet, d) for d in days], os.path.join(qdir), aet)
        expected = sorted(o["accession_number"] for o in orders if o["station_aet"] == aet)
        for site in sites:
            _, answered = site.find(check_files, aet, timed=False)
            if answered != expected:
                raise BenchError("[%s] answered %d accession numbers for %s over %d days, expected %d"
                                 % (site.kind, len(answered), aet, len(days), len(expected)))
        log("  both answer the same %d steps for %s over %d days (%.0f per query)"
            % (len(expected), aet, len(days), len(expected) / float(len(days))))

        timed_files = [check_files[n % len(check_files)] for n in range(args.queries)]
        results = {}
        # Alternate the variants, twice each, so drift falls on both.
        for rnd in range(2):
            for site in (sites if rnd == 0 else list(reversed(sites))):
                times, _ = site.find(timed_files, aet, timed=True)
                results.setdefault(site.kind, []).extend(times)
        log("")
        log("%-16s %8s %8s %8s %8s" % ("variant", "queries", "p50 ms", "p95 ms", "max ms"))
        for kind in ("hospitalbridge", "sample"):
            t = results[kind]
            log("%-16s %8d %8.1f %8.1f %8.1f" % (kind, len(t), percentile(t, 50), percentile(t, 95), max(t)))
        hb_p50 = percentile(results["hospitalbridge"], 50)
        sample_p50 = percentile(results["sample"], 50)
        speedup = sample_p50 / max(hb_p50, 0.5)
        log("")
        log("speed-up (sample p50 / HospitalBridge p50): %.1fx (target >= %.0fx); HospitalBridge p50 %.1f ms "
            "(target <= %.0f ms)%s" % (speedup, TARGET_SPEEDUP, hb_p50, TARGET_P50_MS,
                                       "" if hb_p50 >= 1 else " [below findscu's 1 ms log resolution]"))
        log("TARGETS MET" if hb_p50 <= TARGET_P50_MS and speedup >= TARGET_SPEEDUP else "TARGETS NOT MET")
        return 0
    except BenchError as e:
        log("BENCHMARK FAILED: %s" % e)
        return 1
    finally:
        for site in sites:
            site.stop()
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
