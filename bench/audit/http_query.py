#!/usr/bin/env python3
"""Replays hb-bench-audit-query's per-patient audit queries through HTTP.

Starts a real /usr/sbin/Orthanc + libHospitalBridge.so (the integration tests'
harness, tests/integration/orthanc_harness.py) whose HospitalBridge database is
the file that hb-bench-audit-query populated, then, as admin (HTTP Basic, one
keep-alive connection), times

  A  GET /bridge/audit?patient_id=P                       (default page: limit 100)
  B  GET /bridge/audit?patient_id=P&action=X&from=D1&to=D2
  V  GET /bridge/audit/verify                             (once)

with the same patients, actions and windows as the in-process run (its
--summary file, "replay"; the first "replay_warmup" entries warm up). Each
time is the client's: request sent to body read (requests + JSON decode
excluded: the body is read as bytes).

    /usr/bin/python3 bench/audit/http_query.py --database /tmp/hbaq.db \
        --summary /tmp/hbaq.json [--plugin PATH] [--json OUT]

The plugin appends its own events to the file (system.started, logins), so
run it after the in-process figures, not before. Exit code 1 if Orthanc does
not start or a request fails.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))


def percentiles(values):
    values = sorted(values)
    if not values:
        return {}

    def at(q):
        return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": values[-1],
            "mean": statistics.fmean(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--summary", required=True, help="hb-bench-audit-query --summary output")
    parser.add_argument("--plugin", default=os.path.join(SOURCE_DIR, "build", "libHospitalBridge.so"))
    parser.add_argument("--queries", type=int, default=0, help="at most this many (default: all)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    os.environ.setdefault("HB_PLUGIN", os.path.abspath(args.plugin))
    os.environ.setdefault("HB_SOURCE_DIR", SOURCE_DIR)
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
    import orthanc_harness as h  # noqa: E402

    with open(args.summary) as f:
        summary = json.load(f)
    replay = summary["replay"]
    warmup = int(summary.get("replay_warmup", 0))
    measured = replay[warmup:]
    if args.queries:
        measured = measured[:args.queries]
    database = os.path.abspath(args.database)
    if not os.path.exists(database):
        sys.exit("no such database: %s" % database)

    extra = {"HospitalBridge": {"DatabasePath": database,
                                "Modules": {"StudyIndex": True, "WebApp": True, "Audit": True}}}
    result = {"database": database, "plugin": os.environ["HB_PLUGIN"], "queries": len(measured)}
    started = time.monotonic()
    with h.OrthancSite("audit-bench", extra_config=extra, start_timeout=300) as site:
        result["start_seconds"] = time.monotonic() - started
        session = site.admin
        url = site.url + "/bridge/audit"

        def get(params):
            t0 = time.perf_counter()
            r = session.get(url, params=params, timeout=120)
            body = r.content
            elapsed = (time.perf_counter() - t0) * 1000.0
            if r.status_code != 200:
                raise SystemExit("GET /bridge/audit %r: %s %s" % (params, r.status_code, body[:300]))
            return elapsed, body

        def shape_a(q):
            return {"patient_id": q["patient_id"]}

        def shape_b(q):
            return {"patient_id": q["patient_id"], "action": q["action"], "from": q["from"], "to": q["to"]}

        for q in replay[:warmup]:
            get(shape_a(q))
            get(shape_b(q))
        figures = {}
        for name, shape in (("patient", shape_a), ("patient_action_time", shape_b)):
            times, totals = [], []
            for q in measured:
                ms, body = get(shape(q))
                times.append(ms)
                totals.append(json.loads(body)["total"])
            figures[name] = {"milliseconds": percentiles(times), "matching_median": statistics.median(totals),
                             "matching_max": max(totals)}
            p = figures[name]["milliseconds"]
            print("HTTP %-22s n=%-4d p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  max %7.2f ms  "
                  "(matching: median %g, max %g)"
                  % (name, len(times), p["p50"], p["p95"], p["p99"], p["max"],
                     figures[name]["matching_median"], figures[name]["matching_max"]))
        t0 = time.perf_counter()
        r = session.get(site.url + "/bridge/audit/verify", timeout=600)
        verify_ms = (time.perf_counter() - t0) * 1000.0
        if r.status_code != 200:
            raise SystemExit("GET /bridge/audit/verify: %s %s" % (r.status_code, r.text[:300]))
        verdict = r.json()
        print("HTTP /bridge/audit/verify: ok=%s, %s events checked in %.2f s"
              % (verdict.get("ok"), verdict.get("events_checked"), verify_ms / 1000.0))
        figures["verify"] = {"seconds": verify_ms / 1000.0, "ok": verdict.get("ok"),
                             "events_checked": verdict.get("events_checked")}
        result["http"] = figures
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
