#!/usr/bin/python3
"""HospitalBridge router benchmark: 1000 instances to a DICOMweb destination.

Each round, in alternating order, the same studies already stored in site A (Orthanc +
HospitalBridge + Debian's DICOMweb plugin) are sent to a fresh destination B (stock Orthanc +
DICOMweb) twice:
  - "orthanc": Orthanc's own DICOMweb client, POST /dicom-web/servers/b/stow (synchronous,
    every study at once), timed from the request to its answer;
  - "router": HospitalBridge's router, POST /bridge/router/studies/{uid}/route for every study
    (queued at once), timed until every delivery is "delivered" (polled every 50 ms).
B must then hold exactly N instances. Result: instances/s of each, ratio router / orthanc
(target >= 0.9). Exit code 0 when measured, 1 when something broke.

Then (--ingest-rounds, 3; 0 skips it) bench/ingest/run.py is run with --route-url pointing at B: the
C-STORE ingest of stock Orthanc against Orthanc + HospitalBridge with the router sending every
complete study to B while the ingest goes on (StableAge 2). Its ratio plugin / stock (target >= 0.95)
is reported too, and how many instances B received in the plugin runs.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ingest"))
os.environ.setdefault("HB_SOURCE_DIR", ROOT)
os.environ.setdefault("HB_ARTIFACTS", os.path.join(tempfile.gettempdir(), "hb-bench-router-artifacts"))

import orthanc_harness as h  # noqa: E402
import router_harness as rh  # noqa: E402

TARGET = 0.9
INGEST_TARGET = 0.95


def a_config(b_url, batch, concurrent):
    return {
        "Plugins": [h.PLUGIN, rh.DICOMWEB_PLUGIN],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False,
                     "Servers": {"b": [b_url + "/dicom-web/"]}},
        "HospitalBridge": {
            "Modules": {"Router": True},
            "Router": {"Destinations": [{"Name": "b", "Type": "dicomweb", "Url": b_url + "/dicom-web",
                                         "BatchSize": batch, "MaxConcurrent": concurrent}],
                       "Rules": [{"Name": "all", "Destinations": ["b"]}]}}}


def count_at(site):
    return int(site.admin.get(site.url + "/statistics", timeout=30).json()["CountInstances"])


def measure_orthanc(a, b, n):
    studies = a.admin.get(a.url + "/studies", timeout=30).json()
    t0 = time.monotonic()
    r = a.admin.post(a.url + "/dicom-web/servers/b/stow", json={"Resources": studies, "Synchronous": True},
                     timeout=3600)
    elapsed = time.monotonic() - t0
    if r.status_code != 200:
        raise RuntimeError("Orthanc's STOW client: HTTP %d %s" % (r.status_code, r.text[:300]))
    got = count_at(b)
    if got != n:
        raise RuntimeError("Orthanc's STOW client: B holds %d of %d instances" % (got, n))
    return elapsed


def measure_router(a, b, n, uids):
    t0 = time.monotonic()
    for uid in uids:
        r = a.admin.post(a.url + "/bridge/router/studies/%s/route" % uid, timeout=60)
        if r.status_code != 200:
            raise RuntimeError("route %s: HTTP %d %s" % (uid, r.status_code, r.text[:300]))
    while True:
        summary = a.admin.get(a.url + "/bridge/router/summary", timeout=30).json()
        dest = summary["destinations"][0]
        if dest["failed"]:
            raise RuntimeError("router: %d deliveries failed" % dest["failed"])
        if dest["delivered"] >= len(uids) and not (dest["queued"] or dest["sending"] or dest["retrying"]):
            break
        if time.monotonic() - t0 > 3600:
            raise RuntimeError("router: not delivered after an hour: %s" % dest)
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    got = count_at(b)
    if got != n:
        raise RuntimeError("router: B holds %d of %d instances" % (got, n))
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=50, help="router BatchSize (instances per STOW request)")
    ap.add_argument("--concurrent", type=int, default=1, help="router MaxConcurrent")
    ap.add_argument("--ingest-rounds", type=int, default=3, help="bench/ingest rounds with routing on (0: skip)")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="hb-bench-router-")
    data = os.path.join(work, "data")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "ingest", "generate.py"), "--instances",
                    str(args.instances), "--quiet", data], check=True, stdout=subprocess.DEVNULL)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(data) for f in fs if f.endswith(".dcm"))
    uids = sorted({str(h.pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID) for f in files})
    results = {"orthanc": [], "router": []}
    try:
        b = rh.dicomweb_site("bench-b").allocate_ports()
        b.start()
        a = h.OrthancSite("bench-a", extra_config=a_config(b.url, args.batch, args.concurrent))
        a.start()
        h.storescu(a.dicom_port, files, called_aet=a.aet, timeout=600)
        a.wait_idle(timeout=120)
        time.sleep(3)  # the studies are stable (StableAge 2): nothing else runs during the timing
        for round_no in range(args.rounds):
            order = ["orthanc", "router"] if round_no % 2 == 0 else ["router", "orthanc"]
            for kind in order:
                # a fresh B, and A forgets what it sent before
                b.stop()
                shutil.rmtree(b.storage_dir)
                shutil.rmtree(b.index_dir)
                os.makedirs(b.storage_dir)
                os.makedirs(b.index_dir)
                b.start()
                if kind == "router":
                    a.stop()
                    subprocess.run(["sqlite3", a.database_path, "DELETE FROM router_sent_instances; "
                                    "DELETE FROM router_deliveries;"], check=True)
                    a.start()
                    elapsed = measure_router(a, b, args.instances, uids)
                else:
                    elapsed = measure_orthanc(a, b, args.instances)
                rate = args.instances / elapsed
                results[kind].append(rate)
                print("round %d %-8s %7.2f s  %7.1f instances/s" % (round_no + 1, kind, elapsed, rate), flush=True)
        a.close()
        ingest = None
        if args.ingest_rounds > 0:
            ingest = measure_ingest(b, args.instances, args.ingest_rounds, work)
        b.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    orthanc = statistics.median(results["orthanc"])
    router = statistics.median(results["router"])
    ratio = router / orthanc
    print("median: Orthanc's DICOMweb client %.1f instances/s, router %.1f instances/s, ratio %.3f (target >= %.1f)"
          % (orthanc, router, ratio, TARGET))
    if ingest is not None:
        print("ingest with routing on: stock %.1f instances/s, plugin %.1f instances/s, ratio %.3f (target >= %.2f); "
              "B received %d instances during the plugin runs"
              % (ingest["stock"], ingest["plugin"], ingest["ratio"], INGEST_TARGET, ingest["received_at_b"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"instances": args.instances, "rounds": args.rounds, "batch": args.batch, "runs": results,
                       "median": {"orthanc": orthanc, "router": router}, "ratio": ratio, "ingest": ingest},
                      f, indent=2)
    return 0


def measure_ingest(b, n, rounds, work):
    """bench/ingest with the router sending every complete study to B."""
    b.stop()
    shutil.rmtree(b.storage_dir)
    shutil.rmtree(b.index_dir)
    os.makedirs(b.storage_dir)
    os.makedirs(b.index_dir)
    b.start()
    out = os.path.join(work, "ingest.json")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "ingest", "run.py"), "--instances", str(n),
                        "--rounds", str(rounds), "--plugin", h.PLUGIN, "--route-url", b.url + "/dicom-web",
                        "--json", out])
    if r.returncode != 0:
        raise RuntimeError("bench/ingest with routing failed (exit %d)" % r.returncode)
    with open(out) as f:
        summary = json.load(f)["summary"]
    return {"stock": summary["stock_median_inst_per_s"], "plugin": summary["plugin_median_inst_per_s"],
            "ratio": summary["ratio"], "rounds": rounds, "received_at_b": count_at(b)}


if __name__ == "__main__":
    sys.exit(main())
