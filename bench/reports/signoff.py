#!/usr/bin/env python3
"""HospitalBridge reporting benchmark: sign-off to the PDF stored in Orthanc.

A fresh Orthanc (the test harness: fresh storage, free loopback ports) with the freshly built
plugin. --reports CT studies are stored (one instance each) and enter the reading queue; for each,
a radiologist claims it and saves a CT-head draft of realistic length (about 2 KB of findings),
untimed. Then each report is signed in turn, and what is timed is, per report, from sending
POST /bridge/reports/{id}/sign {"password"} until the signed version names its Encapsulated PDF
instance in Orthanc: the sign route answers once the signature is committed (it does not wait for
the delivery worker), then GET /bridge/reports/{id} is polled every 10 ms. Each PDF
instance is then checked to exist in Orthanc (GET /instances/{id}) and to be application/pdf.

What a sign-off does in that time: the password checked again (scrypt), the canonical content
and its SHA-256, the PDF rendered with cairo and pango, the signature and its audit event in one
transaction, then the delivery worker's POST /tools/create-dicom (Encapsulated PDF in the study).

Result: p50, p95, max (ms). Target: p50 <= 500 ms.
Exit code: 0 when the measurement completed (whatever the figures), 1 when something broke.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
os.environ.setdefault("HB_SOURCE_DIR", SOURCE_DIR)
os.environ.setdefault("HB_PLUGIN", os.path.join(SOURCE_DIR, "build", "libHospitalBridge.so"))
os.environ.setdefault("HB_ARTIFACTS", os.path.join(SOURCE_DIR, "build", "bench-reports"))

import orthanc_harness as h  # noqa: E402

TARGET_P50_MS = 500.0
PASSWORD = "Bench-Radiologist-Pw-7!"
FINDINGS = (
    "The ventricles and sulci are of normal size and configuration for the patient's age. "
    "No intra-axial or extra-axial haemorrhage. No mass effect or midline shift. The grey-white "
    "matter differentiation is preserved. The basal cisterns are patent. ") * 8


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--summary", help="write the figures as JSON here")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="hb-bench-reports-")
    site = h.OrthancSite("bench-reports", extra_config={"HospitalBridge": {
        "Reports": {"Queue": {"Modalities": ["CT"]}}}})
    try:
        site.start()
        rad = site.user_session("dr.bench", "radiologist", PASSWORD)
        url = site.url
        uids = []
        for i in range(args.reports):
            path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(tmp, "ct-%d.dcm" % i),
                                  PatientID="BENCH-%d" % i, PatientName="BENCH^P%d" % i,
                                  AccessionNumber="BENCHACC%d" % i, StudyDescription="CT head")
            r = site.upload(path)
            r.raise_for_status()
            uids.append(h.expected_study(path)["study_uid"])

        def queued(uid):
            r = rad.get(url + "/bridge/reports/queue", params={"status": "all", "study": uid}, timeout=30)
            r.raise_for_status()
            reports = r.json()["reports"]
            return reports[0]["id"] if reports else None
        ids = [h.wait_until(lambda u=uid: queued(u), 60, message="not queued") for uid in uids]
        for rid, uid in zip(ids, uids):
            rad.post(url + "/bridge/reports", json={"study": uid, "template": "ct-head"}, timeout=30).raise_for_status()
            rad.put(url + "/bridge/reports/%d" % rid, json={"sections": {
                "clinical": "Sudden headache.", "findings": FINDINGS, "haemorrhage": "None",
                "impression": "No acute intracranial abnormality."}}, timeout=30).raise_for_status()

        times, from_answer = [], 0
        for rid in ids:
            started = time.monotonic()
            r = rad.post(url + "/bridge/reports/%d/sign" % rid, json={"password": PASSWORD}, timeout=60)
            r.raise_for_status()
            instance = r.json()["version"].get("pdf_instance")
            if instance:
                from_answer += 1
            while not instance:
                time.sleep(0.01)
                instance = rad.get(url + "/bridge/reports/%d" % rid, timeout=30).json()["version"].get("pdf_instance")
            times.append((time.monotonic() - started) * 1000)
            tags = site.admin.get(url + "/instances/%s/simplified-tags" % instance, timeout=30)
            tags.raise_for_status()
            if tags.json().get("MIMETypeOfEncapsulatedDocument") != "application/pdf":
                raise RuntimeError("instance %s is not an Encapsulated PDF" % instance)

        result = {"reports": len(times), "p50_ms": round(statistics.median(times), 1),
                  "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1),
                  "mean_ms": round(statistics.mean(times), 1), "stored_within_answer": from_answer,
                  "target_p50_ms": TARGET_P50_MS, "met": statistics.median(times) <= TARGET_P50_MS,
                  "orthanc": h.orthanc_version()}
        print(json.dumps(result, indent=2))
        if args.summary:
            with open(args.summary, "w") as f:
                json.dump(result, f, indent=2)
        return 0
    except Exception as e:  # noqa: BLE001
        print("benchmark failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        site.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
