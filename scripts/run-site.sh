#!/usr/bin/env bash
# Installs what is missing, builds, and starts one HospitalBridge site on this
# machine: stock Orthanc with the plugin and its SQLite database, on loopback,
# with a few sample studies. Prints the addresses and how to log in.
#
#   scripts/run-site.sh          start (or restart) the site
#   scripts/run-site.sh stop     stop it
#
# Environment: HB_SITE_DIR (default ./site), HB_HTTP_PORT (8042), HB_DICOM_PORT
# (4242), HOSPITALBRIDGE_ADMIN_PASSWORD (default: generated once, kept in
# $HB_SITE_DIR/admin-password with mode 600).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export HB_SITE_DIR=${HB_SITE_DIR:-$ROOT/site}
PID_FILE=$HB_SITE_DIR/orthanc.pid
LOG=$HB_SITE_DIR/orthanc.log

stop_site() {
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    kill "$(cat "$PID_FILE")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break; sleep 0.2; done
    echo "Stopped the site in $HB_SITE_DIR."
  fi
  rm -f "$PID_FILE"
}

if [ "${1:-}" = "stop" ]; then
  stop_site
  exit 0
fi

"$ROOT/scripts/install-dependencies.sh"
"$ROOT/scripts/build.sh"
stop_site

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}
export HB_HTTP_PORT=${HB_HTTP_PORT:-$(pick_port 8042)}
export HB_DICOM_PORT=${HB_DICOM_PORT:-$(pick_port 4242)}
export HB_PLUGIN=${HB_BUILD_DIR:-$ROOT/build}/libHospitalBridge.so

mkdir -p "$HB_SITE_DIR/storage"
chmod 700 "$HB_SITE_DIR"
if [ -z "${HOSPITALBRIDGE_ADMIN_PASSWORD:-}" ]; then
  if [ ! -s "$HB_SITE_DIR/admin-password" ]; then
    (umask 077 && /usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(15))' > "$HB_SITE_DIR/admin-password")
  fi
  HOSPITALBRIDGE_ADMIN_PASSWORD=$(cat "$HB_SITE_DIR/admin-password")
fi
export HOSPITALBRIDGE_ADMIN_PASSWORD

# DCMTK inside Orthanc leaves Nagle's algorithm on without this: C-STORE
# becomes about 20 times slower.
export TCP_NODELAY=1
nohup /usr/sbin/Orthanc "$ROOT/OrthancConfiguration/single-site/orthanc.json" > "$LOG" 2>&1 &
echo $! > "$PID_FILE"

URL="http://127.0.0.1:$HB_HTTP_PORT"
AUTH="admin:$HOSPITALBRIDGE_ADMIN_PASSWORD"
for _ in $(seq 1 60); do
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    echo "Orthanc stopped while starting. Its log ($LOG) ends with:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  curl -sf -u "$AUTH" "$URL/bridge/system" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf -u "$AUTH" "$URL/bridge/system" >/dev/null || { echo "The site does not answer on $URL; see $LOG" >&2; exit 1; }

# Sample data: real DICOM files shipped with python3-pydicom, sent over
# C-STORE like a modality would (-R proposes each file's own transfer
# syntax); a file storescu cannot send is uploaded through the REST API.
SAMPLES=/usr/lib/python3/dist-packages/pydicom/data/test_files
for name in CT_small.dcm MR_small.dcm JPEG-lossy.dcm rtplan.dcm J2K_pixelrep_mismatch.dcm liver_1frame.dcm \
            waveform_ecg.dcm; do
  [ -f "$SAMPLES/$name" ] || continue
  storescu -R -aet MODALITY1 -aec HBRIDGE 127.0.0.1 "$HB_DICOM_PORT" "$SAMPLES/$name" >/dev/null 2>&1 ||
    curl -sf -u "$AUTH" --data-binary @"$SAMPLES/$name" "$URL/instances" >/dev/null ||
    echo "Note: Orthanc did not accept the sample $name." >&2
done
for _ in $(seq 1 40); do
  depth=$(curl -sf -u "$AUTH" "$URL/bridge/system" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["index"]["queue_depth"])')
  [ "$depth" = "0" ] && break
  sleep 0.5
done
studies=$(curl -sf -u "$AUTH" "$URL/bridge/studies?limit=1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')

# A sample order for today on the demo scanner, once: it is on MODALITY1's
# worklist, and images sent with its accession number are matched to it.
order_count() {
  curl -sf -u "$AUTH" "$URL/bridge/orders?limit=1&station=MODALITY1" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}
if [ "$(order_count 2>/dev/null || echo 0)" = "0" ]; then
  start=$(date -d "+1 hour" +%Y-%m-%dT%H:00)
  curl -sf -u "$AUTH" -H 'Content-Type: application/json' "$URL/bridge/orders" -d @- >/dev/null <<ORDER ||
{"patient": {"patient_id": "DEMO-0001", "name": "DEMO^PATIENT", "birth_date": "1970-01-01", "sex": "O"},
 "modality": "CT", "station_aet": "MODALITY1", "station_name": "CT ROOM 1", "scheduled_start": "$start",
 "procedure": {"code": "CTCHEST", "scheme": "LOCAL", "description": "CT chest"}, "priority": "routine",
 "referring_physician": "DEMO^REFERRER", "reason": "demo order"}
ORDER
    echo "Note: the sample order was not created." >&2
fi

cat <<INFO

HospitalBridge is running: General Hospital (HOS-001), $studies studies indexed.

  Staff pages       $URL/bridge/app/
  Reception         $URL/bridge/app/reception.html   (share links with QR slips)
  Orders            $URL/bridge/app/orders.html   (today's schedule, reconciliation)
  Reading queue     $URL/bridge/app/reading.html   (radiologists: claim, report, sign)
  Viewer            $URL/bridge/viewer/   (OHIF, for clinical staff)
  Scanner folder    $HB_SITE_DIR/scanner-out   (DICOM files dropped here are imported)
  Orthanc Explorer  $URL/app/explorer.html   (sign in on the staff pages first)
  REST API          $URL/bridge/system         (HTTP Basic or the session cookie)
  DICOM             AE title HBRIDGE, port $HB_DICOM_PORT
                    e.g. TCP_NODELAY=1 storescu -aec HBRIDGE 127.0.0.1 $HB_DICOM_PORT file.dcm
  Worklist          findscu -W -aet MODALITY1 -aec HBRIDGE -k PatientName -k AccessionNumber \\
                      -k "ScheduledProcedureStepSequence[0].Modality=CT" 127.0.0.1 $HB_DICOM_PORT

  Sign in as        admin / $HOSPITALBRIDGE_ADMIN_PASSWORD
                    (kept in $HB_SITE_DIR/admin-password unless you set HOSPITALBRIDGE_ADMIN_PASSWORD)

  Data and log      $HB_SITE_DIR   (orthanc.log)
  Stop              scripts/run-site.sh stop
INFO
