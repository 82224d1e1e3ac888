#!/usr/bin/env python3
"""HospitalBridge share-link benchmark (issue 4).

One real /usr/sbin/Orthanc + libHospitalBridge.so (tests/integration/orthanc_harness.py), one
study of --instances synthetic CT instances (default 200: 4 series x 50, 256x256 16-bit, made
from bench/ingest/generate.py), one share of that study unlocked with its PIN. Then, over HTTP
on loopback:

  (a) unlocked study list: GET /s/api/share with the patient's session cookie, on one
      keep-alive connection, --list-requests times after a warm-up: p50 / p95 / p99 (ms,
      client wall time, i.e. server time + loopback HTTP), and Orthanc's CPU per request. Target
      (issue): p50 <= 5 ms in the server, which the client figure bounds from above.
  (b) DICOM ZIP of the whole study, in the same run, alternating the order every round:
        share   GET /s/api/studies/{id}/dicom.zip   (patient session; ZIP with DICOMDIR)
        archive GET /studies/{id}/archive           (admin; Orthanc's own ZIP, no DICOMDIR)
        media   GET /studies/{id}/media             (admin; Orthanc's ZIP with DICOMDIR, for reference)
      each on a new connection, body read in 1 MiB chunks to the last byte. Throughput in
      MB/s and instances/s, Orthanc's CPU seconds per download (/proc). Ratio = share
      instances/s / archive instances/s (medians). Target ratio >= 0.9.
  (c) QR PNG over HTTP: GET /bridge/shares/{id}/qr.png as admin (Basic, credential cache) on one
      keep-alive connection, --qr-requests times: requests/s. The issue's target (>= 2000/s on
      one core) is for the generation itself, in the server (build/hb-bench-share-qr, --server-bench).

Untimed checks: the share ZIP holds a DICOMDIR and exactly --instances DICOM files, the archive
ZIP --instances files, the study list names the study with --instances images, qr.png is a PNG.

Exit code: 0 when the measurement completed (whatever the figures), 1 when something broke,
2 on bad usage. Run with Debian's /usr/bin/python3 (pydicom, requests).
"""

import argparse
import base64
import http.client
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(SOURCE_DIR, "build")
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "bench", "ingest"))

TARGET_ZIP_RATIO = 0.9
TARGET_LIST_P50_MS = 5.0
TARGET_QR_PER_S = 2000.0


class BenchError(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def proc_cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# data

def generate_study(outdir, n, seed, noise=True):
    """n CT instances of ONE study (series of 50), from bench/ingest/generate.py's phantom.
    noise: add Gaussian noise (sigma 20 HU) inside the body, so that the pixel data compresses like
    a real CT (about 2:1 with deflate) rather than 25:1 like the smooth phantom; needs numpy."""
    import generate
    import pydicom
    from pydicom.uid import generate_uid
    np = None
    if noise:
        try:
            import numpy as np
        except ImportError:
            log("   note: numpy not importable, no noise: the ZIPs will compress far better than real CTs")
    rng = np.random.default_rng(12345) if np is not None else None
    raw = os.path.join(outdir, "raw")
    paths = generate.generate(raw, n=n, seed=seed, quiet=True)
    study_uid = generate_uid(entropy_srcs=[seed, "share-study"])
    series_numbers = {}
    out = []
    for p in paths:
        ds = pydicom.dcmread(p)
        series_numbers.setdefault(ds.SeriesInstanceUID, len(series_numbers) + 1)
        ds.StudyInstanceUID = study_uid
        ds.SeriesNumber = series_numbers[ds.SeriesInstanceUID]
        ds.PatientID = "HBSHARE0001"
        ds.PatientName = "BENCH^SHARE"
        ds.PatientBirthDate = "19700101"
        ds.StudyDescription = "CT BENCH %d" % n
        ds.AccessionNumber = "SHAREBENCH"
        if rng is not None:
            px = np.frombuffer(ds.PixelData, dtype="<u2").astype(np.int32)
            body = px > 0
            px[body] += rng.normal(0, 20, int(body.sum())).astype(np.int32)
            ds.PixelData = np.clip(px, 0, 4095).astype("<u2").tobytes()
        dst = os.path.join(outdir, os.path.basename(p))
        ds.save_as(dst, write_like_original=False)
        out.append(dst)
    shutil.rmtree(raw, ignore_errors=True)
    return study_uid, out


# ---------------------------------------------------------------------------------------------
# HTTP

class Conn(object):
    """A keep-alive http.client connection with fixed headers."""

    def __init__(self, port, headers=None):
        self.port = port
        self.headers = dict(headers or {})
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path):
        self.c.request("GET", path, headers=self.headers)
        r = self.c.getresponse()
        body = r.read()
        return r.status, r, body

    def close(self):
        self.c.close()


def rss_kb(pid):
    """Resident memory of a process (kB), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory(object):
    """Samples a process's resident memory every 10 ms while in a with-block."""

    def __init__(self, pid):
        self.pid = pid
        self.idle_kb = rss_kb(pid)
        self.peak_kb = self.idle_kb
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.is_set():
            kb = rss_kb(self.pid)
            if kb is not None and (self.peak_kb is None or kb > self.peak_kb):
                self.peak_kb = kb
            self._stop.wait(0.01)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    @property
    def growth_mb(self):
        if self.idle_kb is None or self.peak_kb is None:
            return None
        return (self.peak_kb - self.idle_kb) / 1024.0


def stream_get(port, path, headers, keep=False):
    """GET on a new connection, reading the body in 1 MiB chunks to the last byte; a redirect (the
    share's single-use download ticket) is followed once, on a new connection, inside the timing.
    Returns (status, body size, seconds to the last byte, the body when keep else b"", seconds to the
    first body byte)."""
    t0 = time.perf_counter()
    for _ in range(2):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            if r.status in (301, 302, 303, 307) and r.getheader("Location"):
                r.read()
                path = r.getheader("Location")
                continue
            n = 0
            chunks = []
            ttfb = None
            while True:
                b = r.read1(1 << 20) if ttfb is None else r.read(1 << 20)
                if ttfb is None:
                    ttfb = time.perf_counter() - t0
                if not b:
                    break
                n += len(b)
                if keep:
                    chunks.append(b)
            dt = time.perf_counter() - t0
            return r.status, n, dt, b"".join(chunks), ttfb
        finally:
            c.close()
    raise BenchError("GET %s: redirected more than once" % path)


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200, help="instances in the study (200)")
    ap.add_argument("--list-requests", type=int, default=500, help="timed GET /s/api/share (500)")
    ap.add_argument("--zip-rounds", type=int, default=7, help="rounds of share/archive/media downloads (7)")
    ap.add_argument("--no-noise", action="store_true",
                    help="keep the smooth phantom (compresses ~25:1; default: add noise, ~2:1 like a real CT)")
    ap.add_argument("--qr-requests", type=int, default=500, help="timed GET qr.png (500)")
    ap.add_argument("--no-media", action="store_true", help="skip Orthanc's /media in (b)")
    ap.add_argument("--plugin", default=os.path.join(BUILD_DIR, "libHospitalBridge.so"))
    ap.add_argument("--server-bench", action="store_true",
                    help="also run build/hb-bench-share-qr (QR generation on one core, in-process) and show its output")
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    ap.add_argument("--seed", default="hospitalbridge-share-bench")
    ap.add_argument("--keep", action="store_true", help="keep the generated files and the Orthanc folder")
    args = ap.parse_args(argv)
    if args.instances < 1 or args.list_requests < 10 or args.zip_rounds < 1 or args.qr_requests < 10:
        ap.error("--instances >= 1, --list-requests >= 10, --zip-rounds >= 1, --qr-requests >= 10")
    if not os.path.isfile(args.plugin):
        ap.error("plugin not found: %s (build it first)" % args.plugin)
    os.environ["HB_PLUGIN"] = os.path.abspath(args.plugin)
    os.environ.setdefault("HB_ARTIFACTS", os.path.join(tempfile.gettempdir(), "hb-bench-share-artifacts"))
    if args.keep:
        os.environ["HB_KEEP_TEMP"] = "1"
    try:
        import orthanc_harness as h  # needs Debian's requests + pydicom
    except ImportError as e:
        log("cannot import the test harness (%s): run with /usr/bin/python3" % e)
        return 2

    work = tempfile.mkdtemp(prefix="hb-bench-share-")
    site = None
    results = {"instances": args.instances, "machine": {"host": platform.node(), "cpus": os.cpu_count(),
                                                        "platform": platform.platform()},
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "plugin": args.plugin}
    rc = 0
    try:
        log("== HospitalBridge share benchmark: one study of %d instances, work dir %s" % (args.instances, work))
        t0 = time.monotonic()
        study_uid, files = generate_study(os.path.join(work, "dicom"), args.instances, args.seed,
                                        noise=not args.no_noise)
        log("   generation: %.1f s, %.1f MB" % (time.monotonic() - t0,
                                                  sum(os.path.getsize(p) for p in files) / 1e6))

        site = h.OrthancSite("bench-share")
        site.allocate_ports()
        site.extra_config = {"HospitalBridge": {
            "Site": {"Id": "HOS-001", "Name": "General Hospital"},
            "Shares": {"PublicBaseUrl": site.url, "MaxFailuresPerAddress": 100000}}}
        site.start()
        pid = site.process.pid
        t0 = time.monotonic()
        env = dict(os.environ, TCP_NODELAY="1")
        scu = subprocess.run(["storescu", "-aet", "HBBENCH", "-aec", site.aet, "+sd", "-nh", "127.0.0.1",
                              str(site.dicom_port), os.path.join(work, "dicom")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        if scu.returncode != 0:
            raise BenchError("storescu failed: %s" % scu.stdout.decode()[-2000:])
        study = site.wait_indexed(study_uid, timeout=120,
                                  predicate=lambda s: s.get("instance_count") == args.instances)
        site.wait_idle(timeout=60)
        study_id = site.orthanc_study_id(study_uid)
        log("   stored and indexed in %.1f s; Orthanc study %s (%d series)"
            % (time.monotonic() - t0, study_id, study.get("series_count", 0)))

        # a share, unlocked with its PIN
        r = site.admin.post(site.url + "/bridge/shares", json={"study": study_uid, "consent_attested": True},
                            timeout=60)
        if r.status_code != 200:
            raise BenchError("POST /bridge/shares -> %d %s" % (r.status_code, r.text[:500]))
        share = r.json()
        share_id = share["share"]["id"]
        token_path = urllib.parse.urlparse(share["url"]).path
        c = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=60)
        c.request("POST", token_path, body=urllib.parse.urlencode({"pin": share["pin"]}),
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = c.getresponse()
        resp.read()
        cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        c.close()
        m = re.search(r"hb_share=([^;,\s]+)", " ".join(cookies))
        if resp.status not in (302, 303) or not m:
            raise BenchError("unlock: HTTP %d, Set-Cookie %r" % (resp.status, cookies))
        patient = {"Cookie": "hb_share=" + m.group(1)}
        admin = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (h.ADMIN_USER, h.DEFAULT_ADMIN_PASSWORD)).encode()).decode()}

        # (a) study list
        conn = Conn(site.http_port, patient)
        st, _, body = conn.get("/s/api/share")
        if st != 200:
            raise BenchError("GET /s/api/share -> %d %s" % (st, body[:300]))
        doc = json.loads(body)
        if [s["id"] for s in doc["studies"]] != [study_id] or doc["studies"][0].get("images") != args.instances:
            raise BenchError("/s/api/share does not list the study with %d images: %s"
                             % (args.instances, json.dumps(doc)[:500]))
        for _ in range(30):
            conn.get("/s/api/share")
        times = []
        cpu0 = proc_cpu_seconds(pid)
        for _ in range(args.list_requests):
            t = time.perf_counter()
            st, _, body = conn.get("/s/api/share")
            times.append((time.perf_counter() - t) * 1000.0)
            if st != 200:
                raise BenchError("GET /s/api/share -> %d during the run" % st)
        cpu1 = proc_cpu_seconds(pid)
        conn.close()
        results["list"] = {"requests": args.list_requests, "p50_ms": round(statistics.median(times), 3),
                           "p95_ms": round(percentile(times, 95), 3), "p99_ms": round(percentile(times, 99), 3),
                           "mean_ms": round(statistics.mean(times), 3), "bytes": len(body),
                           "orthanc_cpu_ms_per_request": None if cpu0 is None else
                           round((cpu1 - cpu0) * 1000.0 / args.list_requests, 3)}

        # (b) ZIP downloads
        variants = [("share", "/s/api/studies/%s/dicom.zip" % study_id, patient),
                    ("archive", "/studies/%s/archive" % study_id, admin)]
        if not args.no_media:
            variants.append(("media", "/studies/%s/media" % study_id, admin))
        # warm-up + untimed content checks
        for name, path, hd in variants:
            st, n, dt, data, _ = stream_get(site.http_port, path, hd, keep=True)
            if st != 200:
                raise BenchError("GET %s -> %d %s" % (path, st, data[:300]))
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [x for x in z.namelist() if not x.endswith("/")]
            dicomdir = [x for x in names if x.rsplit("/", 1)[-1].upper() == "DICOMDIR"]
            want_dir = name in ("share", "media")
            if len(names) - len(dicomdir) != args.instances or (len(dicomdir) == 1) != want_dir:
                raise BenchError("%s ZIP: %d entries, DICOMDIR %r (expected %d files%s)"
                                 % (name, len(names), dicomdir, args.instances, " + DICOMDIR" if want_dir else ""))
            log("   %-7s warm-up: %.1f MB in %.2f s, %d entries%s" % (
                name, n / 1e6, dt, len(names), ", DICOMDIR" if dicomdir else ""))
            del data
        runs = {name: [] for name, _, _ in variants}
        for rnd in range(args.zip_rounds):
            order = variants if rnd % 2 == 0 else list(reversed(variants))
            for name, path, hd in order:
                c0 = proc_cpu_seconds(pid)
                with PeakMemory(pid) as memory:
                    st, n, dt, _, ttfb = stream_get(site.http_port, path, hd)
                c1 = proc_cpu_seconds(pid)
                if st != 200:
                    raise BenchError("GET %s -> %d in round %d" % (path, st, rnd + 1))
                runs[name].append({"seconds": dt, "bytes": n, "ttfb": ttfb, "memory_mb": memory.growth_mb,
                                   "cpu_s": None if c0 is None else c1 - c0})
        results["zip"] = {}
        for name, lst in runs.items():
            secs = statistics.median(x["seconds"] for x in lst)
            cpus = [x["cpu_s"] for x in lst if x["cpu_s"] is not None]
            results["zip"][name] = {
                "rounds": len(lst), "median_s": round(secs, 4),
                "MB_per_s": round(statistics.median(x["bytes"] / x["seconds"] / 1e6 for x in lst), 1),
                "instances_per_s": round(statistics.median(args.instances / x["seconds"] for x in lst), 1),
                "bytes": lst[0]["bytes"], "first_byte_s": round(statistics.median(x["ttfb"] for x in lst), 4),
                "first_byte_max_s": round(max(x["ttfb"] for x in lst), 4),
                "orthanc_memory_growth_mb_max": (round(max(x["memory_mb"] for x in lst), 1)
                                                 if all(x["memory_mb"] is not None for x in lst) else None),
                "orthanc_cpu_s": round(statistics.median(cpus), 3) if cpus else None,
                "per_round_s": [round(x["seconds"], 4) for x in lst]}
        z = results["zip"]
        results["zip_ratio"] = round(z["share"]["instances_per_s"] / z["archive"]["instances_per_s"], 3)
        per_round = [a["seconds"] / s["seconds"] for s, a in zip(runs["share"], runs["archive"])]
        results["zip_ratio_per_round"] = [round(x, 3) for x in per_round]

        # (c) QR PNG over HTTP
        conn = Conn(site.http_port, admin)
        qr = "/bridge/shares/%s/qr.png" % share_id
        st, r, body = conn.get(qr)
        if st != 200 or body[:8] != b"\x89PNG\r\n\x1a\n":
            raise BenchError("GET %s -> %d (%r)" % (qr, st, body[:16]))
        png_bytes = len(body)
        for _ in range(30):
            conn.get(qr)
        t = time.perf_counter()
        c0 = proc_cpu_seconds(pid)
        for _ in range(args.qr_requests):
            st, _, _ = conn.get(qr)
            if st != 200:
                raise BenchError("GET qr.png -> %d during the run" % st)
        dt = time.perf_counter() - t
        c1 = proc_cpu_seconds(pid)
        conn.close()
        results["qr"] = {"requests": args.qr_requests, "per_s": round(args.qr_requests / dt, 1),
                         "png_bytes": png_bytes,
                         "orthanc_cpu_ms_per_request": None if c0 is None else
                         round((c1 - c0) * 1000.0 / args.qr_requests, 3)}
    except BenchError as e:
        log("\nBENCHMARK FAILED: %s" % e)
        if site is not None:
            log("--- Orthanc log tail ---\n" + site.run_log_text()[-3000:])
        rc = 1
    except KeyboardInterrupt:
        log("\ninterrupted")
        rc = 1
    finally:
        if site is not None:
            site.close()
        if args.keep:
            log("   kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    servers = [os.path.join(BUILD_DIR, x) for x in ("hb-bench-share-qr", "hb-bench-share")]
    server = ([x for x in servers if os.path.exists(x)] or servers[:1])[0]
    if rc == 0:
        L, Z, Q = results["list"], results["zip"], results["qr"]
        log("")
        log("| measure | figure | target |")
        log("|---|---|---|")
        log("| (a) GET /s/api/share over HTTP, p50 / p95 / p99 | %.2f / %.2f / %.2f ms | p50 <= %.0f ms in the server |"
            % (L["p50_ms"], L["p95_ms"], L["p99_ms"], TARGET_LIST_P50_MS))
        if L["orthanc_cpu_ms_per_request"] is not None:
            log("| (a) Orthanc CPU per study list | %.2f ms | |" % L["orthanc_cpu_ms_per_request"])
        for name in Z:
            log("| (b) %s ZIP (%.1f MB), median of %d | %.3f s (first byte %.3f s, worst %.3f s), %.1f MB/s, "
                "%.0f inst/s, Orthanc CPU %s s, Orthanc memory +%s MB at most | %s |"
                % (name, Z[name]["bytes"] / 1e6, Z[name]["rounds"], Z[name]["median_s"], Z[name]["first_byte_s"],
                   Z[name]["first_byte_max_s"], Z[name]["MB_per_s"], Z[name]["instances_per_s"],
                   Z[name]["orthanc_cpu_s"], Z[name]["orthanc_memory_growth_mb_max"],
                   "first byte <= 1 s, memory <= +100 MB" if name == "share" else ""))
        log("| (b) ratio share / archive (inst/s) | **%.3f** (per round %s) | >= %.1f |"
            % (results["zip_ratio"], ", ".join("%.2f" % x for x in results["zip_ratio_per_round"]),
               TARGET_ZIP_RATIO))
        log("| (c) GET qr.png over HTTP | %.0f /s (%d B PNG, CPU %s ms each) | >= %.0f/s generation, one core |"
            % (Q["per_s"], Q["png_bytes"], Q["orthanc_cpu_ms_per_request"], TARGET_QR_PER_S))
        log("")
        log("   zip ratio %s target %.1f -> %s" % ("%.3f" % results["zip_ratio"], TARGET_ZIP_RATIO,
                                                 "PASS" if results["zip_ratio"] >= TARGET_ZIP_RATIO else "BELOW"))
    if os.path.exists(server):
        if args.server_bench:
            log("\n== %s (in-server figures)" % server)
            r = subprocess.run([server, "3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
            log(r.stdout.decode("utf-8", "replace")[-4000:])
            results["server_bench_output"] = r.stdout.decode("utf-8", "replace")[-4000:]
        else:
            log("   in-server figures (study list, QR generation): %s (or --server-bench)" % server)
    else:
        log("   no %s: in-server figures not measured here" % server)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        log("   JSON written to %s" % args.json)
    return rc


if __name__ == "__main__":
    sys.exit(main())
