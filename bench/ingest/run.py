#!/usr/bin/env python3
"""HospitalBridge ingest benchmark: C-STORE throughput of stock Orthanc vs Orthanc + HospitalBridge.

For every round, a fresh Orthanc is started (fresh temporary storage, free loopback ports,
TCP_NODELAY=1) once without and once with the plugin, in alternating order (the order flips
every round to cancel drift). All generated files are sent with ONE storescu association, and
the time from storescu's start to its exit gives instances/s. After each run Orthanc's
/statistics must report exactly N instances, or the benchmark fails.
For the plugin run, the time until the plugin's study index has caught up (queue_depth 0 and
/bridge/studies total == generated studies) is reported separately as "index settle time".
After that (untimed), the plugin run checks the audit trail: GET /bridge/audit?action=dicom.stored
must reach one event per generated study (one sender), and GET /bridge/audit/verify must be ok.
A plugin without the audit routes (404) is reported as "-"; a shortfall is a warning, not a failure.

Result: median instances/s per variant, ratio = plugin / stock, target >= 0.97.
Exit code: 0 when the measurement completed (whatever the ratio), 1 when something broke
(lost instances, Orthanc failed to start, index never settled...), 2 on bad usage.

Stdlib only; the DICOM files are written by generate.py (needs pydicom, run with whichever
python3 can import it: this one, or Debian's /usr/bin/python3).
"""

import argparse
import base64
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (only its pure-Python layout helpers are used here)

TARGET_RATIO = 0.97
DEFAULT_PLUGIN = "/work/main/build/libHospitalBridge.so"
CALLED_AET = "HBRIDGE"
CALLING_AET = "HBBENCH"
ADMIN_USER = "admin"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# helpers

def log(msg=""):
    print(msg, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def two_free_ports():
    while True:
        a, b = free_port(), free_port()
        if a != b:
            return a, b


def tail(path, lines=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


def proc_cpu_seconds(pid):
    """utime + stime of a process, from /proc (Linux); None if unavailable."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / float(ticks)
    except (OSError, ValueError, IndexError):
        return None


def find_generator_python():
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3")]
    seen = set()
    for py in candidates:
        if not py or py in seen or not os.path.exists(py):
            continue
        seen.add(py)
        r = subprocess.run([py, "-c", "import pydicom"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return py
    raise BenchError("no python3 with pydicom found (tried %s); install python3-pydicom"
                     % ", ".join(sorted(seen)))


class Http:
    def __init__(self, port, user=None, password=None):
        self.port = port
        self.headers = {}
        if user is not None:
            token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            self.headers["Authorization"] = "Basic " + token

    def get(self, path, timeout=10):
        """Returns (status, parsed JSON or raw text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=self.headers)
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            return r.status, body.decode("utf-8", "replace")

    def get_ok(self, path, timeout=10):
        status, body = self.get(path, timeout)
        if status != 200:
            raise BenchError("GET %s -> HTTP %d: %s" % (path, status, str(body)[:300]))
        return body


# ---------------------------------------------------------------------------------------------
# one Orthanc run

def orthanc_config(run_dir, http_port, dicom_port, plugin, iterations, route_url=None):
    cfg = {
        "Name": "HB-BENCH",
        "StorageDirectory": os.path.join(run_dir, "storage"),
        "IndexDirectory": os.path.join(run_dir, "index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": CALLED_AET,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpDescribeErrors": True,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowStore": True,
        "StableAge": 2,
    }
    if plugin:
        cfg["Plugins"] = [plugin]
        cfg["HospitalBridge"] = {
            "Site": {"Id": "HOS-001", "Name": "General Hospital"},
            "DatabasePath": "",
            "Modules": {"StudyIndex": True, "WebApp": True},
            "StudyIndex": {"RefreshDelayMs": 500, "ReconcileAtStart": True,
                           "DefaultPageSize": 50, "MaxPageSize": 500},
            "Security": {
                "BootstrapAdmin": {"Username": ADMIN_USER,
                                   "PasswordEnvironmentVariable": "HOSPITALBRIDGE_ADMIN_PASSWORD",
                                   "PasswordFile": ""},
                "PasswordHashIterations": iterations,
            },
        }
        if route_url:
            # --route-url: the router sends every complete study to that DICOMweb server.
            cfg["HospitalBridge"]["Modules"]["Router"] = True
            cfg["HospitalBridge"]["Router"] = {
                "Destinations": [{"Name": "bench", "Type": "dicomweb", "Url": route_url}],
                "Rules": [{"Name": "all", "Destinations": ["bench"]}]}
    return cfg


class OrthancRun:
    def __init__(self, args, kind, round_no, work, data_dir, n, n_studies, password):
        self.args = args
        self.kind = kind
        self.round_no = round_no
        self.n = n
        self.n_studies = n_studies
        self.data_dir = data_dir
        self.password = password
        self.run_dir = os.path.join(work, "r%d-%s" % (round_no, kind))
        self.log_path = os.path.join(self.run_dir, "orthanc.log")
        self.scu_log_path = os.path.join(self.run_dir, "storescu.log")
        self.proc = None
        self.plugin = args.plugin if kind == "plugin" else None
        self.audit_stored = None      # plugin run: /bridge/audit?action=dicom.stored total
        self.audit_chain_ok = None    # plugin run: /bridge/audit/verify "ok"

    def fail(self, msg):
        raise BenchError("[round %d, %s] %s\n--- last lines of %s ---\n%s"
                         % (self.round_no, self.kind, msg, self.log_path, tail(self.log_path)))

    def start(self):
        os.makedirs(os.path.join(self.run_dir, "storage"))
        os.makedirs(os.path.join(self.run_dir, "index"))
        self.http_port, self.dicom_port = two_free_ports()
        cfg = orthanc_config(self.run_dir, self.http_port, self.dicom_port, self.plugin,
                             self.args.hash_iterations, self.args.route_url)
        cfg_path = os.path.join(self.run_dir, "orthanc.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
        env = dict(os.environ)
        env["TCP_NODELAY"] = "1"
        env["HOSPITALBRIDGE_ADMIN_PASSWORD"] = self.password  # same env for both variants
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.args.orthanc, cfg_path], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.run_dir)
        if self.plugin:
            self.http = Http(self.http_port, ADMIN_USER, self.password)
        else:
            self.http = Http(self.http_port)
        t0 = time.monotonic()
        deadline = t0 + self.args.start_timeout
        while True:
            if self.proc.poll() is not None:
                self.fail("Orthanc exited during start-up with code %d" % self.proc.returncode)
            try:
                status, body = self.http.get("/system", timeout=2)
                if status == 200:
                    break
                last = "HTTP %d" % status
            except OSError as e:
                last = str(e)
            if time.monotonic() > deadline:
                self.fail("REST API not answering after %.0f s (%s)" % (self.args.start_timeout, last))
            time.sleep(0.1)
        self.startup_s = time.monotonic() - t0
        if self.plugin:
            # the plugin must be loaded and idle (start-up reconcile done) before timing starts
            while True:
                try:
                    status, body = self.http.get("/bridge/system", timeout=5)
                except OSError as e:
                    status, body = None, str(e)
                if status == 200 and isinstance(body, dict):
                    idx = body.get("index") or {}
                    if idx.get("queue_depth") == 0 and idx.get("state", "idle") == "idle":
                        self.plugin_version = (body.get("plugin") or {}).get("version")
                        break
                if self.proc.poll() is not None:
                    self.fail("Orthanc exited with code %d" % self.proc.returncode)
                if time.monotonic() > deadline:
                    self.fail("GET /bridge/system not ready after %.0f s (last: %s %s); is the "
                              "plugin loaded?" % (self.args.start_timeout, status, str(body)[:300]))
                time.sleep(0.2)
        stats = self.http.get_ok("/statistics")
        if int(stats.get("CountInstances", -1)) != 0:
            self.fail("fresh Orthanc is not empty: %s" % stats)

    def ingest(self):
        os.sync()       # don't let a previous run's dirty pages be flushed during this timing
        time.sleep(self.args.pause)
        env = dict(os.environ)
        env["TCP_NODELAY"] = "1"
        cmd = [self.args.storescu, "-aet", CALLING_AET, "-aec", CALLED_AET, "+sd", "+r", "-nh",
               "127.0.0.1", str(self.dicom_port), self.data_dir]
        cpu0 = proc_cpu_seconds(self.proc.pid)
        with open(self.scu_log_path, "wb") as scu_log:
            t0 = time.perf_counter()
            scu = subprocess.run(cmd, stdout=scu_log, stderr=subprocess.STDOUT, env=env)
            t1 = time.perf_counter()
        cpu1 = proc_cpu_seconds(self.proc.pid)
        self.ingest_end = time.monotonic()
        self.seconds = t1 - t0
        self.orthanc_cpu_s = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
        if scu.returncode != 0:
            self.fail("storescu exited with code %d; its log %s ends with:\n%s"
                      % (scu.returncode, self.scu_log_path, tail(self.scu_log_path, 15)))
        stats = self.http.get_ok("/statistics")
        got = int(stats.get("CountInstances", -1))
        if got != self.n:
            self.fail("LOST INSTANCES: sent %d, Orthanc /statistics CountInstances = %d (storescu log: %s)"
                      % (self.n, got, self.scu_log_path))
        if int(stats.get("CountStudies", -1)) != self.n_studies:
            self.fail("Orthanc CountStudies = %s, expected %d" % (stats.get("CountStudies"), self.n_studies))
        self.rate = self.n / self.seconds

    def settle(self):
        """Plugin run: wait for the study index to catch up; returns seconds since storescu exit."""
        deadline = self.ingest_end + self.args.settle_timeout
        last = None
        while True:
            try:
                st, sysinfo = self.http.get("/bridge/system")
                st2, studies = self.http.get("/bridge/studies?limit=1")
                if st == 200 and st2 == 200:
                    idx = sysinfo.get("index") or {}
                    total = studies.get("total")
                    last = "queue_depth=%s state=%s total=%s" % (idx.get("queue_depth"), idx.get("state"), total)
                    if idx.get("queue_depth") == 0 and total == self.n_studies:
                        self.settle_s = time.monotonic() - self.ingest_end
                        self.index_info = idx
                        if idx.get("instances") not in (None, self.n):
                            log("  warning: /bridge/system index.instances = %s, expected %d"
                                % (idx.get("instances"), self.n))
                        return self.settle_s
                else:
                    last = "HTTP %s / %s" % (st, st2)
            except (OSError, AttributeError, http.client.HTTPException) as e:
                last = repr(e)
            if self.proc.poll() is not None:
                self.fail("Orthanc exited with code %d while waiting for the index" % self.proc.returncode)
            if time.monotonic() > deadline:
                self.fail("index did not settle within %.0f s after ingest (last: %s, expected %d studies)"
                          % (self.args.settle_timeout, last, self.n_studies))
            time.sleep(0.05)

    def audit_check(self, timeout=30.0):
        """Plugin run, after settle (not timed): dicom.stored events (one per study and sender,
        here one sender) and the chain's verdict. None when the plugin has no audit routes."""
        deadline = time.monotonic() + timeout
        while True:
            st, page = self.http.get("/bridge/audit?action=dicom.stored&limit=1")
            if st == 404:
                log("  note: GET /bridge/audit -> 404 (audit module off or not in this build)")
                return
            if st != 200 or not isinstance(page, dict):
                log("  warning: GET /bridge/audit -> HTTP %s: %s" % (st, str(page)[:200]))
                return
            self.audit_stored = page.get("total")
            if self.audit_stored == self.n_studies or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if self.audit_stored != self.n_studies:
            log("  warning: %s dicom.stored audit events after %.0f s, expected %d (one per study)"
                % (self.audit_stored, timeout, self.n_studies))
        st, verdict = self.http.get("/bridge/audit/verify", timeout=60)
        if st == 200 and isinstance(verdict, dict):
            self.audit_chain_ok = verdict.get("ok")
            if not self.audit_chain_ok:
                log("  warning: /bridge/audit/verify: %s" % verdict)
        else:
            log("  warning: GET /bridge/audit/verify -> HTTP %s: %s" % (st, str(verdict)[:200]))

    def stop(self):
        if self.proc is None:
            return
        self.exit_code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.args.stop_timeout)
            except subprocess.TimeoutExpired:
                log("  warning: Orthanc (pid %d) did not stop within %d s after SIGTERM; killing it"
                    % (self.proc.pid, self.args.stop_timeout))
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self.logf.close()
        self.proc = None
        if self.exit_code not in (0, None):
            log("  warning: Orthanc exited with code %s (log: %s)" % (self.exit_code, self.log_path))

    def result(self):
        return {
            "round": self.round_no, "variant": self.kind, "instances": self.n,
            "seconds": round(self.seconds, 4), "instances_per_s": round(self.rate, 2),
            "orthanc_cpu_s": None if self.orthanc_cpu_s is None else round(self.orthanc_cpu_s, 2),
            "startup_s": round(self.startup_s, 3),
            "index_settle_s": round(self.settle_s, 3) if self.kind == "plugin" else None,
            "audit_dicom_stored": self.audit_stored,
            "audit_chain_ok": self.audit_chain_ok,
            "orthanc_exit_code": self.exit_code,
        }


def one_run(args, kind, round_no, work, data_dir, n, n_studies, password):
    run = OrthancRun(args, kind, round_no, work, data_dir, n, n_studies, password)
    try:
        run.start()
        run.ingest()
        if kind == "plugin":
            run.settle()
            run.audit_check()
    finally:
        run.stop()
    if not args.keep:
        shutil.rmtree(run.run_dir, ignore_errors=True)
    return run.result()


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=1000, help="instances to generate and send (1000)")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds, each = one stock + one plugin run (3)")
    ap.add_argument("--plugin", default=DEFAULT_PLUGIN, help="path of libHospitalBridge.so (%(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep generated files, storages and logs")
    ap.add_argument("--json", metavar="OUT", help="write results as JSON to OUT")
    ap.add_argument("--warmup", type=int, default=1,
                    help="unmeasured stock runs before the rounds, to warm caches (1)")
    ap.add_argument("--workdir", help="where to put data and storages (default: new dir under /tmp)")
    ap.add_argument("--orthanc", default="/usr/sbin/Orthanc")
    ap.add_argument("--storescu", default=shutil.which("storescu") or "storescu")
    ap.add_argument("--hash-iterations", type=int, default=100000,
                    help="HospitalBridge.Security.PasswordHashIterations (100000)")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds to wait after start-up before sending (1)")
    ap.add_argument("--start-timeout", type=float, default=60)
    ap.add_argument("--settle-timeout", type=float, default=300)
    ap.add_argument("--stop-timeout", type=int, default=60)
    ap.add_argument("--seed", default="hospitalbridge-bench")
    ap.add_argument("--route-url", help="plugin runs: route every study to this DICOMweb root (bench/router)")
    args = ap.parse_args(argv)
    if args.instances < 1 or args.rounds < 1 or args.warmup < 0:
        ap.error("--instances and --rounds must be >= 1, --warmup >= 0")
    for tool in (args.orthanc, args.storescu):
        if not (os.path.exists(tool) or shutil.which(tool)):
            ap.error("not found: %s" % tool)

    plugin_ok = bool(args.plugin) and os.path.isfile(args.plugin)
    if plugin_ok:
        args.plugin = os.path.abspath(args.plugin)
    else:
        log("!! plugin not found at %s: running STOCK Orthanc only (no ratio)." % args.plugin)
    variants = ["stock", "plugin"] if plugin_ok else ["stock"]

    n = args.instances
    n_studies = generate.count_studies(n)
    work = args.workdir or tempfile.mkdtemp(prefix="hb-bench-ingest-")
    os.makedirs(work, exist_ok=True)
    data_dir = os.path.join(work, "dicom")
    password = "Bench-" + secrets.token_urlsafe(18)

    results = []
    rc = 0
    try:
        log("== HospitalBridge ingest benchmark: %d instances (%d studies), %d round(s), work dir %s"
            % (n, n_studies, args.rounds, work))
        py = find_generator_python()
        t0 = time.monotonic()
        gen = subprocess.run([py, os.path.join(HERE, "generate.py"), data_dir, "--instances", str(n),
                              "--seed", args.seed, "--quiet"])
        if gen.returncode != 0:
            raise BenchError("generate.py failed (exit %d)" % gen.returncode)
        log("   generation: %.1f s (%s)" % (time.monotonic() - t0, py))

        for w in range(args.warmup):
            r = one_run(args, "stock", -1 - w, work, data_dir, n, n_studies, password)
            log("   warm-up (stock, not counted): %.2f s, %.1f inst/s" % (r["seconds"], r["instances_per_s"]))

        log("")
        log("%-6s %-7s %9s %10s %12s %12s %13s" % ("round", "variant", "seconds", "inst/s", "orthanc cpu",
                                                 "index settle", "audit stored"))
        for rnd in range(args.rounds):
            order = variants if rnd % 2 == 0 else list(reversed(variants))
            for kind in order:
                r = one_run(args, kind, rnd + 1, work, data_dir, n, n_studies, password)
                results.append(r)
                log("%-6d %-7s %9.2f %10.1f %12s %12s %13s" % (
                    r["round"], kind, r["seconds"], r["instances_per_s"],
                    "-" if r["orthanc_cpu_s"] is None else "%.2f s" % r["orthanc_cpu_s"],
                    "-" if r["index_settle_s"] is None else "%.2f s" % r["index_settle_s"],
                    "-" if r["audit_dicom_stored"] is None else "%s%s" % (
                        r["audit_dicom_stored"], "" if r["audit_chain_ok"] else " (chain!)")))
    except BenchError as e:
        log("\nBENCHMARK FAILED: %s" % e)
        rc = 1
    except KeyboardInterrupt:
        log("\ninterrupted")
        rc = 1

    summary = {"instances": n, "studies": n_studies, "rounds_requested": args.rounds,
               "target_ratio": TARGET_RATIO, "plugin": args.plugin if plugin_ok else None}
    for kind in ("stock", "plugin"):
        rates = [r["instances_per_s"] for r in results if r["variant"] == kind]
        summary[kind + "_median_inst_per_s"] = round(statistics.median(rates), 2) if rates else None
    settles = [r["index_settle_s"] for r in results if r["variant"] == "plugin"]
    summary["plugin_median_index_settle_s"] = round(statistics.median(settles), 3) if settles else None
    summary["audit_dicom_stored"] = [r["audit_dicom_stored"] for r in results if r["variant"] == "plugin"]
    summary["audit_chain_ok"] = [r["audit_chain_ok"] for r in results if r["variant"] == "plugin"]
    ratio = None
    if summary["stock_median_inst_per_s"] and summary["plugin_median_inst_per_s"]:
        ratio = summary["plugin_median_inst_per_s"] / summary["stock_median_inst_per_s"]
    summary["ratio"] = None if ratio is None else round(ratio, 4)
    if rc != 0:
        verdict = "FAILED"
    elif ratio is None:
        verdict = "NO RATIO (stock only)"
    else:
        verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
    summary["verdict"] = verdict

    log("")
    log("== summary (medians over %d round(s))" % len([r for r in results if r["variant"] == "stock"]))
    log("   stock  : %s inst/s" % summary["stock_median_inst_per_s"])
    log("   plugin : %s inst/s" % summary["plugin_median_inst_per_s"])
    if summary["plugin_median_index_settle_s"] is not None:
        log("   index settle time (plugin, after storescu exit, not in ratio): %.2f s"
            % summary["plugin_median_index_settle_s"])
    if any(v is not None for v in summary["audit_dicom_stored"]):
        log("   audit (plugin, after settle, not timed): dicom.stored events per run %s, expected %d; "
            "chain verified %s" % (summary["audit_dicom_stored"], n_studies, summary["audit_chain_ok"]))
    log("   ratio plugin/stock: %s   (target >= %.2f)  -> %s"
        % ("n/a" if ratio is None else "%.3f" % ratio, TARGET_RATIO, verdict))

    if args.json:
        doc = {"summary": summary, "runs": results,
               "machine": {"host": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform()},
               "orthanc": args.orthanc, "storescu": args.storescu,
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        log("   JSON written to %s" % args.json)

    if args.keep or rc != 0:
        log("   kept (logs, storages): %s" % work)
    elif not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
