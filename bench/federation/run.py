#!/usr/bin/env python3
"""HospitalBridge federation benchmark.

Three peer sites (HOS-002, HOS-003, HOS-004), each with a study index of --studies rows
(default 100 000) and a patient registry of --patients entries (default 1 000 000), and one
querying site HOS-001 with the same registry and no studies. The databases are filled by
hb-bench-federation-populate through the plugin's own stores (no DICOM), then four real
/usr/sbin/Orthanc processes with libHospitalBridge.so are started on them and wired as
federation peers with tests/integration/orthanc_harness.py (federate()).

Measured in the same run, interleaved request by request (for each national ID: peer B, peer C,
peer D, then the federation query at A), sequentially, one new TCP connection per request:
  (a) each single peer: GET /bridge/federation/v1/studies?national_id=X on that peer, with the
      peer account HOS-001 has there;
  (b) the federation query: GET /bridge/federation/query?national_id=X at HOS-001 (admin),
      which asks the three peers in parallel and merges.
Target: federation p95 <= 1.5 x the slowest single peer's p95.
Also: PatientStore::FindByNationalId timed in-process on each site's file (what the server runs
for a national ID, without HTTP), target p50 <= 1 ms; and GET /bridge/patients?national_id=X
at HOS-001 over HTTP, for reference.

Exit code: 0 when the measurement completed (whatever the figures), 1 when something broke
(missing build output, population failed, Orthanc did not start, a request failed, a peer was
not "ok", or the federation answer did not hold exactly the studies the peers gave), 2 on bad
usage. Needs build/libHospitalBridge.so and build/hb-bench-federation-populate (it builds nothing).
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(SOURCE_DIR, "build")
DEFAULT_PLUGIN = os.path.join(BUILD_DIR, "libHospitalBridge.so")
DEFAULT_POPULATE = os.path.join(BUILD_DIR, "hb-bench-federation-populate")
# Bump when populate.cpp generates different data: --workdir then populates again.
DATA_VERSION = 1
TARGET_RATIO = 1.5
TARGET_LOOKUP_P50_US = 1000.0

QUERYING = "HOS-001"
PEERS = ["HOS-002", "HOS-003", "HOS-004"]
NAMES = {"HOS-001": "General Hospital", "HOS-002": "St. Mary Clinic",
         "HOS-003": "Regional Imaging Centre", "HOS-004": "University Hospital"}

# Same formula as populate.cpp: national ID of registry patient i.
NATIONAL_ID_BASE = 100000000000
NATIONAL_ID_RANGE = 900000000000
NATIONAL_ID_MULTIPLIER = 104729314187


def national_id(i):
    return str(NATIONAL_ID_BASE + (i * NATIONAL_ID_MULTIPLIER) % NATIONAL_ID_RANGE)


class BenchError(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def stats(values):
    return {"count": len(values), "p50": percentile(values, 0.50), "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99), "max": max(values) if values else float("nan"),
            "mean": sum(values) / len(values) if values else float("nan")}


# ---------------------------------------------------------------------------------------------
# population

def populate_all(populate, pristine, args):
    """Fills pristine/<site>.db for every site, two processes at a time (or reuses them)."""
    params = {"patients": args.patients, "studies": args.studies, "seed": args.seed,
              "shared": args.shared, "sites": [QUERYING] + PEERS,
              "data_version": DATA_VERSION}
    stamp = os.path.join(pristine, "params.json")
    if os.path.exists(stamp):
        try:
            with open(stamp) as f:
                old = json.load(f)
        except ValueError:
            old = None
        files_ok = all(os.path.exists(os.path.join(pristine, s + ".db")) and
                       os.path.exists(os.path.join(pristine, s + ".populate.json"))
                       for s in params["sites"])
        if old == params and files_ok:
            log("reusing the databases populated earlier in %s" % pristine)
            return load_summaries(pristine), 0.0
    shutil.rmtree(pristine, ignore_errors=True)
    os.makedirs(pristine)

    started = time.monotonic()
    jobs = []
    for site in [QUERYING] + PEERS:
        studies = 0 if site == QUERYING else args.studies
        cmd = [populate, "--database", os.path.join(pristine, site + ".db"), "--site-id", site,
               "--patients", str(args.patients), "--studies", str(studies), "--seed", str(args.seed),
               "--summary", os.path.join(pristine, site + ".populate.json")]
        if args.shared is not None:
            cmd += ["--shared-patients", str(args.shared)]
        jobs.append((site, cmd))
    parallel = max(1, min(args.parallel, len(jobs)))
    log("populating %d databases (%d patients each; %d studies at each peer), %d at a time"
        % (len(jobs), args.patients, args.studies, parallel))
    failures = []
    lock = threading.Lock()

    def run(site, cmd):
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        for line in p.stdout:
            line = line.rstrip()
            if line:
                with lock:
                    log("  [%s %5.0f s] %s" % (site, time.monotonic() - started, line.strip()))
        if p.wait() != 0:
            with lock:
                failures.append("%s: populate exited with %d" % (site, p.returncode))

    pending = list(jobs)
    running = []
    while pending or running:
        while pending and len(running) < parallel:
            site, cmd = pending.pop(0)
            t = threading.Thread(target=run, args=(site, cmd))
            t.start()
            running.append(t)
        running[0].join()
        running = [t for t in running if t.is_alive()]
    if failures:
        raise BenchError("population failed: " + "; ".join(failures))
    with open(stamp, "w") as f:
        json.dump(params, f)
    seconds = time.monotonic() - started
    log("populated in %.0f s" % seconds)
    return load_summaries(pristine), seconds


def load_summaries(pristine):
    out = {}
    for site in [QUERYING] + PEERS:
        with open(os.path.join(pristine, site + ".populate.json")) as f:
            out[site] = json.load(f)
    return out


def lookup_benchmarks(populate, run_dir, args):
    """In-process PatientStore::FindByNationalId on each site's file, one site at a time."""
    results = {}
    for site in [QUERYING] + PEERS:
        out = os.path.join(run_dir, site + ".lookup.json")
        cmd = [populate, "--database", os.path.join(run_dir, site + ".db"), "--site-id", site,
               "--patients", str(args.patients), "--studies", "0", "--seed", str(args.seed),
               "--lookup-benchmark", str(args.lookups), "--summary", out]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        for line in r.stdout.splitlines():
            if " us" in line:
                log("  [%s] %s" % (site, line.split(": ", 1)[-1]))
        if r.returncode != 0:
            raise BenchError("lookup benchmark on %s failed:\n%s" % (site, r.stdout[-3000:]))
        with open(out) as f:
            results[site] = json.load(f)
    return results


# ---------------------------------------------------------------------------------------------
# HTTP

def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def timed_get(port, path, auth):
    """One GET on a new connection; (seconds, status, body)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": auth, "Connection": "close"})
        r = conn.getresponse()
        body = r.read()
        elapsed = time.perf_counter() - started
        return elapsed, r.status, body
    finally:
        conn.close()


def sample_ids(summaries, args):
    """The national IDs queried: half shared by the three peers, 30 % held by one peer, 20 %
    registered everywhere with no study anywhere (from the last tenth of the registry)."""
    rnd = random.Random(args.seed)
    shared = sorted(set(summaries[PEERS[0]]["sample_shared"]))
    site_only = {p: list(summaries[p]["sample_site_only"]) for p in PEERS}
    no_study_lo = max(int(args.patients * 0.9), 0)
    ids = []
    for k in range(args.requests):
        r = k % 10
        if r < 5 and shared:
            ids.append(("shared", rnd.choice(shared)))
        elif r < 8 and any(site_only.values()):
            peer = PEERS[k % len(PEERS)]
            pool = site_only[peer] or [x for v in site_only.values() for x in v]
            ids.append(("one_peer", rnd.choice(pool)))
        else:
            ids.append(("no_study", national_id(rnd.randrange(no_study_lo, args.patients))))
    rnd.shuffle(ids)
    return ids


def measure(fed, sites, ids, args):
    a = sites[QUERYING]
    admin = basic("admin", a.admin_password)
    peer_auth = {p: basic(*fed.credentials[(QUERYING, p)]) for p in PEERS}
    peer_ms = {p: [] for p in PEERS}
    fed_ms = []
    fed_by_kind = {}
    inner_ms = {p: [] for p in PEERS}  # the peer call as timed inside HOS-001
    patients_ms = []
    problems = []
    studies_seen = {"shared": [], "one_peer": [], "no_study": []}

    def query(kind, nid, record):
        q = urllib.parse.quote(nid)
        uids = set()
        for p in PEERS:
            t, status, body = timed_get(sites[p].http_port, "/bridge/federation/v1/studies?national_id=" + q,
                                        peer_auth[p])
            if status != 200:
                problems.append("%s peer route %s -> HTTP %d %s" % (p, nid, status, body[:200]))
                continue
            answer = json.loads(body)
            uids.update(s["study_uid"] for s in answer.get("studies", []))
            if record:
                peer_ms[p].append(t * 1000)
        t, status, body = timed_get(a.http_port, "/bridge/federation/query?national_id=" + q, admin)
        if status != 200:
            problems.append("federation query %s -> HTTP %d %s" % (nid, status, body[:200]))
            return
        answer = json.loads(body)
        bad = [s for s in answer.get("sites", []) if s.get("status") != "ok"]
        if bad:
            problems.append("federation query %s: sites not ok: %r" % (nid, bad))
        got = set(s["study_uid"] for s in answer.get("studies", []))
        if got != uids:
            problems.append("federation query %s: %d studies, the peers hold %d distinct"
                            % (nid, len(got), len(uids)))
        if record:
            fed_ms.append(t * 1000)
            fed_by_kind.setdefault(kind, []).append(t * 1000)
            studies_seen[kind].append(len(got))
            for s in answer.get("sites", []):
                if s.get("id") in inner_ms:
                    inner_ms[s["id"]].append(s.get("latency_ms", 0))
            t, status, body = timed_get(a.http_port, "/bridge/patients?national_id=" + q, admin)
            if status != 200:
                problems.append("GET /bridge/patients %s -> HTTP %d" % (nid, status))
            else:
                patients_ms.append(t * 1000)

    log("warm-up: %d queries (not counted)" % args.warmup)
    for kind, nid in ids[:args.warmup]:
        query(kind, nid, False)
    log("measuring: %d national IDs x (3 single peers + 1 federation query), sequential" % len(ids))
    started = time.monotonic()
    for n, (kind, nid) in enumerate(ids, 1):
        query(kind, nid, True)
        if n % max(1, len(ids) // 5) == 0:
            log("  %d / %d (%.0f s)" % (n, len(ids), time.monotonic() - started))
    return {"peer_ms": peer_ms, "federation_ms": fed_ms, "federation_by_kind": fed_by_kind,
            "inner_ms": inner_ms, "patients_ms": patients_ms, "problems": problems,
            "studies_seen": studies_seen, "seconds": time.monotonic() - started}


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--studies", type=int, default=100000, help="indexed studies at each peer (100000)")
    ap.add_argument("--patients", type=int, default=1000000,
                    help="registry size at every site (1000000)")
    ap.add_argument("--shared", type=int, default=None,
                    help="patients with 2 studies at every peer (populate's default: min(10000, studies/4))")
    ap.add_argument("--requests", type=int, default=300, help="national IDs queried (300)")
    ap.add_argument("--warmup", type=int, default=30, help="unmeasured queries first (30)")
    ap.add_argument("--lookups", type=int, default=20000, help="in-process lookups per site (20000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--parallel", type=int, default=os.cpu_count() or 2,
                    help="populate processes at a time (CPU count)")
    ap.add_argument("--plugin", default=os.environ.get("HB_PLUGIN", DEFAULT_PLUGIN))
    ap.add_argument("--populate", default=DEFAULT_POPULATE)
    ap.add_argument("--workdir", help="keep the populated databases here and reuse them when run again "
                                      "with the same sizes and seed")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and the Orthanc logs")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.patients < 10 or args.studies < 4 or args.requests < 1:
        ap.error("need --patients >= 10, --studies >= 4, --requests >= 1")

    missing = [p for p in (args.plugin, args.populate) if not os.path.exists(p)]
    if missing:
        log("missing: %s\nbuild first: cmake --build build --target HospitalBridge hb-bench-federation-populate"
            % ", ".join(missing))
        return 1
    os.environ["HB_PLUGIN"] = os.path.abspath(args.plugin)
    os.environ.setdefault("HB_ARTIFACTS", os.path.join(BUILD_DIR, "test-artifacts", "bench-federation"))
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
    import orthanc_harness as h  # noqa: E402  (reads HB_PLUGIN at import)

    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="hb-bench-federation-")
    os.makedirs(workdir, exist_ok=True)
    keep_all = args.keep
    pristine = os.path.join(workdir, "pristine")
    run_dir = os.path.join(workdir, "run")
    sites = {}
    result = {"started": datetime.datetime.utcnow().isoformat() + "Z", "host": platform.node(),
              "cpus": os.cpu_count(), "plugin": os.path.abspath(args.plugin),
              "parameters": {k: getattr(args, k) for k in ("studies", "patients", "shared", "requests",
                                                            "warmup", "lookups", "seed")}}
    code = 1
    try:
        summaries, populate_seconds = populate_all(args.populate, pristine, args)
        result["populate_seconds"] = populate_seconds
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        for site in [QUERYING] + PEERS:  # each run starts from the pristine files
            shutil.copyfile(os.path.join(pristine, site + ".db"), os.path.join(run_dir, site + ".db"))

        log("in-process national-ID lookups (%d per site, fresh connection with the plugin's settings)"
            % args.lookups)
        lookups = lookup_benchmarks(args.populate, run_dir, args)
        result["lookup_in_process"] = {s: {"registry_size": v["lookup"]["registry_size"],
                                           "studies": v["lookup"]["studies"],
                                           "microseconds": v["lookup"]["microseconds"],
                                           "peer_answer_microseconds": v.get("peer_answer_in_process", {})
                                           .get("microseconds")}
                                       for s, v in lookups.items()}

        for site in [QUERYING] + PEERS:
            sites[site] = h.OrthancSite("bench-" + site.lower(), start_timeout=300, extra_config={
                "HospitalBridge": {
                    "Site": {"Id": site, "Name": NAMES[site]},
                    "DatabasePath": os.path.join(run_dir, site + ".db"),
                    "Modules": {"StudyIndex": True, "WebApp": True, "Registry": True, "Federation": True},
                    # Orthanc holds none of these studies: a reconcile would drop every index row.
                    "StudyIndex": {"ReconcileAtStart": False},
                    "Registry": {"NationalId": {"Source": "PatientID", "Pattern": "^[0-9]{6,20}$"}},
                    "Federation": {"PeerTimeoutMs": 3000},
                    "Security": {"CredentialCacheSeconds": 3600,
                                 "LoginThrottle": {"MaxFailuresPerUser": 1000, "MaxFailuresPerAddress": 100000}},
                }})
        log("starting 4 Orthanc sites and wiring them as federation peers")
        t0 = time.monotonic()
        fed = h.federate([sites[s] for s in [QUERYING] + PEERS])
        result["start_seconds"] = time.monotonic() - t0
        log("  ready in %.1f s: %s" % (result["start_seconds"],
                                       ", ".join("%s :%d" % (s, sites[s].http_port) for s in sites)))
        for site in PEERS:
            r = sites[site].admin.get(sites[site].url + "/bridge/system", timeout=60).json()
            if r.get("index", {}).get("studies") != args.studies:
                raise BenchError("%s: the index holds %r studies, expected %d (reconcile ran?)"
                                 % (site, r.get("index", {}).get("studies"), args.studies))

        ids = sample_ids(summaries, args)
        m = measure(fed, sites, ids, args)

        peer_stats = {p: stats(v) for p, v in m["peer_ms"].items()}
        fed_stats = stats(m["federation_ms"])
        slowest = max(PEERS, key=lambda p: peer_stats[p]["p95"])
        ratio = fed_stats["p95"] / peer_stats[slowest]["p95"]
        lookup_p50 = max(v["lookup"]["microseconds"]["p50"] for v in lookups.values())
        result.update({
            "single_peer_ms": peer_stats, "federation_ms": fed_stats,
            "federation_ms_by_kind": {k: stats(v) for k, v in m["federation_by_kind"].items()},
            "peer_call_inside_querying_site_ms": {p: stats(v) for p, v in m["inner_ms"].items()},
            "patients_by_national_id_http_ms": stats(m["patients_ms"]),
            "studies_per_query": {k: (sum(v) / len(v) if v else 0) for k, v in m["studies_seen"].items()},
            "slowest_peer": slowest, "ratio_p95": ratio, "target_ratio": TARGET_RATIO,
            "overhead_p95_ms": fed_stats["p95"] - peer_stats[slowest]["p95"],
            "lookup_p50_us_worst_site": lookup_p50, "target_lookup_p50_us": TARGET_LOOKUP_P50_US,
            "measure_seconds": m["seconds"], "problems": m["problems"][:50],
            "problem_count": len(m["problems"]),
        })

        log("")
        log("== federation benchmark: %d peers x %d studies, registry %d patients per site, %d queries =="
            % (len(PEERS), args.studies, args.patients, len(ids)))
        log("%-44s %9s %9s %9s" % ("", "p50 ms", "p95 ms", "p99 ms"))
        for p in PEERS:
            s = peer_stats[p]
            log("%-44s %9.2f %9.2f %9.2f" % ("single peer %s (v1/studies, direct)" % p, s["p50"], s["p95"], s["p99"]))
        log("%-44s %9.2f %9.2f %9.2f" % ("federation query at %s (3 peers)" % QUERYING,
                                         fed_stats["p50"], fed_stats["p95"], fed_stats["p99"]))
        for kind, s in sorted(result["federation_ms_by_kind"].items()):
            log("%-44s %9.2f %9.2f %9.2f" % ("  of which %s (%d, %.1f studies)"
                                             % (kind, s["count"], result["studies_per_query"][kind]),
                                             s["p50"], s["p95"], s["p99"]))
        for p in PEERS:
            s = result["peer_call_inside_querying_site_ms"][p]
            log("%-44s %9.0f %9.0f %9.0f" % ("  peer call %s as timed inside %s" % (p, QUERYING),
                                             s["p50"], s["p95"], s["p99"]))
        s = result["patients_by_national_id_http_ms"]
        log("%-44s %9.2f %9.2f %9.2f" % ("GET /bridge/patients?national_id at %s" % QUERYING,
                                         s["p50"], s["p95"], s["p99"]))
        log("")
        log("ratio federation p95 / slowest single peer p95 (%s): %.2f  (target <= %.1f: %s)"
            % (slowest, ratio, TARGET_RATIO, "met" if ratio <= TARGET_RATIO else "NOT met"))
        log("federation p95 - slowest single peer p95: %+.2f ms (what the extra hop, the parallel calls and "
            "the merge add)" % (fed_stats["p95"] - peer_stats[slowest]["p95"]))
        log("national-ID lookup in-process, PatientStore::FindByNationalId (us):")
        for site, v in lookups.items():
            us = v["lookup"]["microseconds"]
            log("  %s registry %d: p50 %.1f  p95 %.1f  p99 %.1f" % (site, v["lookup"]["registry_size"],
                                                                  us["p50"], us["p95"], us["p99"]))
        log("  worst p50 %.1f us (target <= %.0f us: %s)" % (lookup_p50, TARGET_LOOKUP_P50_US,
                                                           "met" if lookup_p50 <= TARGET_LOOKUP_P50_US
                                                           else "NOT met"))
        if m["problems"]:
            log("")
            log("PROBLEMS (%d):" % len(m["problems"]))
            for p in m["problems"][:20]:
                log("  " + p)
        code = 0 if not m["problems"] else 1
    except (BenchError, h.OrthancSiteError, AssertionError, OSError, ValueError) as e:
        log("FAILED: %s" % e)
        result["error"] = str(e)
        code = 1
    finally:
        for s in sites.values():
            if keep_all:
                s.stop()
            else:
                s.close()
        if args.json:
            result["exit_code"] = code
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2, default=str)
            log("figures written to %s" % args.json)
        if keep_all:
            log("kept: %s (Orthanc folders: %s)" % (workdir, ", ".join(s.root for s in sites.values())))
        elif args.workdir:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
