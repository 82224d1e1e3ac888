#!/usr/bin/env python3
"""HospitalBridge viewer benchmark (issue 13): time from click to first image of a CT in
OHIF, with and without HospitalBridge's gate in front of DICOMweb, in the same run.

Two real /usr/sbin/Orthanc processes with Debian's DICOMweb plugin hold the same CT study
(--instances slices, 512x512 16-bit, one series):

  gated    Orthanc + DICOMweb + libHospitalBridge.so: every DICOMweb request passes the
           gate (session cookie, permission table, audit of the opening);
  ungated  stock Orthanc + DICOMweb, no HospitalBridge.

Debian's nginx listens on two loopback ports, one per case, configured alike: /bridge/viewer/
(OHIF's files, as the plugin serves them) from the gated Orthanc in both cases, /dicom-web/ from
the gated Orthanc on the first port and from the ungated one on the second. nginx adds a signed-in
radiologist's session cookie to every request it passes to the gated Orthanc (the cookie a
browser would send), so the browser and the static files are the same in both cases and only
DICOMweb's path differs: the gate is the difference.

Headless Chromium (one profile, so OHIF's files come from its cache after a warm-up round per
port, as for a radiologist who opened a study before) opens
/bridge/viewer/viewer?StudyInstanceUIDs=<uid>: the click. A script injected into every document
checks the viewport's canvas on each animation frame and records performance.now() (time since
the navigation started) when the CT is drawn: the first image. Rounds alternate the order.

Result: medians per case and the ratio gated / ungated (target: the gate costs <= 5 %, ratio
<= 1.05). Exit code 0 when measured (whatever the figures), 1 when something broke.
Run with Debian's /usr/bin/python3 after scripts/build.sh.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
os.environ.setdefault("HB_SOURCE_DIR", SOURCE_DIR)
os.environ.setdefault("HB_PLUGIN", os.path.join(SOURCE_DIR, "build", "libHospitalBridge.so"))
os.environ.setdefault("HB_ARTIFACTS", os.path.join(SOURCE_DIR, "build", "bench-viewer"))

import orthanc_harness as h  # noqa: E402
import cdp  # noqa: E402
import viewer_support as v  # noqa: E402

TARGET_RATIO = 1.05

# Runs in every document before its own scripts: the first animation frame whose viewport
# canvas shows the image sets window.__hbFirstImage (ms since the navigation started).
PROBE = """
(function () {
  if (!/\\/bridge\\/viewer\\/viewer/.test(location.pathname)) return;
  function lit() { return %s; }
  function check() {
    if (window.__hbFirstImage) return;
    if (lit() > 20000) { window.__hbFirstImage = performance.now(); return; }
    requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
""" % v.DRAWN_PIXELS_JS.strip()

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream gated {{ server 127.0.0.1:{gated}; keepalive 32; }}
  upstream ungated {{ server 127.0.0.1:{ungated}; keepalive 32; }}
{servers}
}}
"""

SERVER = """
  server {{
    listen 127.0.0.1:{port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_buffering on;
    location /bridge/viewer/ {{
      proxy_set_header Cookie "hb_session={cookie}";
      proxy_pass http://gated;
    }}
    location /dicom-web/ {{
      {dicomweb_cookie}
      proxy_pass http://{dicomweb};
    }}
  }}
"""


def log(*args):
    print(*args, flush=True)


def start_nginx(root, gated_port, ungated_port, cookie):
    ports = {"gated": h.free_port(), "ungated": h.free_port()}
    servers = ""
    for case, port in ports.items():
        servers += SERVER.format(port=port, cookie=cookie, dicomweb=case,
                                 dicomweb_cookie=('proxy_set_header Cookie "hb_session=%s";' % cookie)
                                 if case == "gated" else 'proxy_set_header Cookie "";')
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(root=root, gated=gated_port, ungated=ungated_port, servers=servers))
    process = subprocess.Popen(["/usr/sbin/nginx", "-p", root, "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, preexec_fn=h._pdeathsig)
    h.register_process(process)
    for port in ports.values():
        h.wait_until(lambda: h.requests.get("http://127.0.0.1:%d/dicom-web/studies" % port, timeout=2,
                                            proxies={"http": None}).status_code == 200, 20,
                     message="nginx does not answer on %d" % port)
    return process, ports


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=7, help="measured rounds per case (after one warm-up each)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not os.path.exists(v.DICOMWEB_PLUGIN):
        log("orthanc-dicomweb is not installed (scripts/install-dependencies.sh)")
        return 1
    tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-bench-viewer-"))
    sites = []
    nginx = None
    try:
        gated = h.OrthancSite("bench-viewer-gated", extra_config=v.dicomweb_config())
        ungated = h.OrthancSite("bench-viewer-ungated", plugin=False,
                                extra_config=v.dicomweb_config(plugin=False))
        sites = [gated, ungated]
        for site in sites:
            site.start()
        password = gated.create_user("bench-rad", "radiologist")
        login = h.requests.post(gated.url + "/bridge/login", json={"username": "bench-rad", "password": password},
                                proxies={"http": None}, timeout=60)
        login.raise_for_status()
        cookie = login.cookies.get("hb_session")
        log("generating %d CT slices of 512x512 ..." % args.instances)
        uid, files = v.make_ct_series(os.path.join(tmp, "ct"), args.instances, scale=4,
                                      PatientID="BENCH-VIEWER", PatientName="BENCH^Viewer")
        for site in sites:
            site.storescu(files)
        gated.wait_indexed(uid, 120, predicate=lambda s: s["instance_count"] == args.instances)
        nginx, ports = start_nginx(tmp, gated.http_port, ungated.http_port, cookie)
        for case, port in ports.items():
            r = h.requests.get("http://127.0.0.1:%d/dicom-web/studies/%s/series" % (port, uid),
                               proxies={"http": None}, timeout=30)
            assert r.status_code == 200 and r.json()[0]["00201209"]["Value"][0] == args.instances, (case, r.text)

        times = {"gated": [], "ungated": []}
        with cdp.Browser() as b:
            b.set_viewport(1366, 768)
            b.call("Page.addScriptToEvaluateOnNewDocument", source=PROBE)
            order = ["gated", "ungated"]
            for round_ in range(args.rounds + 1):
                for case in (order if round_ % 2 == 0 else list(reversed(order))):
                    b.navigate("about:blank")
                    url = "http://127.0.0.1:%d/bridge/viewer/viewer?StudyInstanceUIDs=%s" % (ports[case], uid)
                    b.call("Page.navigate", url=url)
                    ms = h.wait_until(lambda: b.evaluate("window.__hbFirstImage || 0"), 120, interval=0.05,
                                      message="no image drawn (%s)" % case)
                    if round_ > 0:
                        times[case].append(ms)
                    log("round %d %-8s first image after %7.1f ms%s" % (round_, case, ms,
                                                                        "" if round_ else " (warm-up)"))
            b.screenshot(os.path.join(h.artifacts_dir(), "bench-viewer-last.png"))
            problems = [p for p in b.problems if "status of 4" in p or "uncaught" in p]
            if problems:
                log("problems in the browser: %s" % problems[:5])
        med = {case: statistics.median(values) for case, values in times.items()}
        ratio = med["gated"] / med["ungated"]
        log("")
        log("time to first image, %d instances, %d rounds (ms): gated median %.1f [%s], ungated median %.1f [%s]"
            % (args.instances, args.rounds, med["gated"], ", ".join("%.0f" % t for t in times["gated"]),
               med["ungated"], ", ".join("%.0f" % t for t in times["ungated"])))
        log("ratio gated / ungated: %.3f (target <= %.2f: %s)" % (ratio, TARGET_RATIO,
                                                                 "met" if ratio <= TARGET_RATIO else "NOT met"))
        events = gated.admin.get(gated.url + "/bridge/audit", params={"action": "study.viewed",
                                                                      "actor": "bench-rad", "limit": 1000},
                                 timeout=30).json()["events"]
        log("audit: %d study.viewed events for the gated case's %d openings" % (len(events), args.rounds + 1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"instances": args.instances, "rounds": args.rounds, "times_ms": times,
                           "median_ms": med, "ratio": ratio, "machine": platform.node(),
                           "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                          f, indent=2)
        return 0
    except Exception as e:  # noqa: BLE001
        log("benchmark failed: %r" % (e,))
        return 1
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        for site in sites:
            site.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
