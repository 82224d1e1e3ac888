#!/usr/bin/env bash
# Three hospitals on this machine, each an Orthanc with HospitalBridge, that
# ask each other "what imaging does this patient have anywhere?".
#
#   OrthancConfiguration/federation-demo/start-demo.sh        start (or restart)
#   OrthancConfiguration/federation-demo/start-demo.sh stop   stop the three sites
#
# Needs build/libHospitalBridge.so (scripts/build.sh), /usr/sbin/Orthanc,
# storescu (dcmtk), curl and python3-pydicom.
#
# Environment: HB_DEMO_DIR (data, logs, passwords; default: data/ next to this
# script), HB_PLUGIN (default build/libHospitalBridge.so),
# HB_HOS00{1,2,3}_HTTP_PORT (8051, 8052, 8053), HB_HOS00{1,2,3}_DICOM_PORT
# (4251, 4252, 4253), HOSPITALBRIDGE_ADMIN_PASSWORD (default: generated once
# into $HB_DEMO_DIR/admin-password, mode 600).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export HB_DEMO_DIR=${HB_DEMO_DIR:-$HERE/data}
export HB_PLUGIN=${HB_PLUGIN:-$ROOT/build/libHospitalBridge.so}
PY=/usr/bin/python3
SITES="001 002 003"

declare -A NAME=([001]="General Hospital" [002]="St. Mary Clinic" [003]="Regional Imaging Centre")
declare -A ADDRESS=([001]="12 Hospital Street, Cape Town 8001"
                    [002]="45 Church Road, Stellenbosch 7600"
                    [003]="3 Valley Drive, Paarl 7646")
declare -A PHONE=([001]="+27 21 555 0101" [002]="+27 21 555 0202" [003]="+27 21 555 0303")
declare -A EMAIL=([001]="radiology@general-hospital.example" [002]="imaging@stmary-clinic.example"
                  [003]="pacs@regional-imaging.example")
declare -A HTTP DICOM
for n in $SITES; do
  var=HB_HOS${n}_HTTP_PORT;  export "$var=${!var:-805${n: -1}}"; HTTP[$n]=${!var}
  var=HB_HOS${n}_DICOM_PORT; export "$var=${!var:-425${n: -1}}"; DICOM[$n]=${!var}
done

pid_file() { echo "$HB_DEMO_DIR/hos-$1/orthanc.pid"; }

stop_demo() {
  local n pid stopped=0
  for n in $SITES; do
    [ -f "$(pid_file "$n")" ] || continue
    pid=$(cat "$(pid_file "$n")")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      stopped=1
    fi
    rm -f "$(pid_file "$n")"
  done
  [ "$stopped" = 1 ] && echo "Stopped the federation demo ($HB_DEMO_DIR)."
  return 0
}

case "${1:-start}" in
  stop) stop_demo; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac

if [ ! -f "$HB_PLUGIN" ]; then
  echo "The plugin is not built: $HB_PLUGIN is missing." >&2
  echo "Run $ROOT/scripts/build.sh first (scripts/install-dependencies.sh installs what it needs)." >&2
  exit 1
fi
for tool in /usr/sbin/Orthanc storescu curl "$PY"; do
  command -v "$tool" >/dev/null || { echo "Missing $tool (see scripts/install-dependencies.sh)." >&2; exit 1; }
done
"$PY" -c 'import pydicom' 2>/dev/null || { echo "Missing python3-pydicom." >&2; exit 1; }

stop_demo
mkdir -p "$HB_DEMO_DIR"
chmod 700 "$HB_DEMO_DIR"

# --- secrets, generated once and kept (mode 600) ---------------------------
new_secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))'; }
if [ -z "${HOSPITALBRIDGE_ADMIN_PASSWORD:-}" ]; then
  if [ ! -s "$HB_DEMO_DIR/admin-password" ]; then
    (umask 077 && new_secret > "$HB_DEMO_DIR/admin-password")
  fi
  HOSPITALBRIDGE_ADMIN_PASSWORD=$(cat "$HB_DEMO_DIR/admin-password")
fi
export HOSPITALBRIDGE_ADMIN_PASSWORD
# HB_PEER_PW_<caller>_<callee>: what <caller>'s Orthanc sends to <callee>,
# where user "hos-<caller>" has role peer.
if [ ! -s "$HB_DEMO_DIR/peer-passwords" ]; then
  (umask 077
   for a in $SITES; do for b in $SITES; do
     [ "$a" = "$b" ] || echo "HB_PEER_PW_${a}_${b}=$(new_secret)"
   done; done > "$HB_DEMO_DIR/peer-passwords")
fi
set -a
# shellcheck disable=SC1091
. "$HB_DEMO_DIR/peer-passwords"
set +a

# --- start the three Orthancs ------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for n in $SITES; do
  for port in "${HTTP[$n]}" "${DICOM[$n]}"; do
    port_free "$port" || { echo "Port $port (HOS-$n) is in use; set HB_HOS${n}_HTTP_PORT / HB_HOS${n}_DICOM_PORT." >&2; exit 1; }
  done
done

# DCMTK inside Orthanc leaves Nagle's algorithm on without this: C-STORE
# becomes about 20 times slower.
export TCP_NODELAY=1
for n in $SITES; do
  mkdir -p "$HB_DEMO_DIR/hos-$n/storage"
  nohup /usr/sbin/Orthanc "$HERE/hos-$n.json" > "$HB_DEMO_DIR/hos-$n/orthanc.log" 2>&1 &
  echo $! > "$(pid_file "$n")"
done

AUTH="admin:$HOSPITALBRIDGE_ADMIN_PASSWORD"
url() { echo "http://127.0.0.1:${HTTP[$1]}"; }
# api METHOD SITE PATH [JSON]: prints the body, then the status on its own line
api() {
  local args=(-s -u "$AUTH" -X "$1" -w '\n%{http_code}')
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${args[@]}" "$(url "$2")$3" || echo 000
}
status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
fail() {
  echo "$1" >&2
  [ -n "${2:-}" ] && { echo "Its log ($HB_DEMO_DIR/hos-$2/orthanc.log) ends with:" >&2; tail -n 15 "$HB_DEMO_DIR/hos-$2/orthanc.log" >&2; }
  stop_demo >&2
  exit 1
}

for n in $SITES; do
  for _ in $(seq 1 100); do
    kill -0 "$(cat "$(pid_file "$n")")" 2>/dev/null || fail "HOS-$n (Orthanc) stopped while starting." "$n"
    curl -sf -u "$AUTH" "$(url "$n")/bridge/system" >/dev/null 2>&1 && break
    sleep 0.3
  done
  curl -sf -u "$AUTH" "$(url "$n")/bridge/system" >/dev/null || fail "HOS-$n does not answer on $(url "$n")." "$n"
done
r=$(api GET 001 /bridge/sites)
[ "$(status_of "$r")" = 200 ] || fail "This build of HospitalBridge has no federation (/bridge/sites answers $(status_of "$r")); rebuild with scripts/build.sh."

# --- peer accounts and the hospital directory ------------------------------------
for b in $SITES; do
  for a in $SITES; do
    [ "$a" = "$b" ] && continue
    var=HB_PEER_PW_${a}_${b}
    r=$(api POST "$b" /bridge/users "{\"username\":\"hos-$a\",\"password\":\"${!var}\",\"role\":\"peer\"}")
    case $(status_of "$r") in
      200|201) ;;
      409) r=$(api PUT "$b" "/bridge/users/hos-$a" "{\"password\":\"${!var}\",\"role\":\"peer\",\"disabled\":false}")
           [ "$(status_of "$r")" = 200 ] || fail "HOS-$b: cannot update peer user hos-$a: $(body_of "$r")" ;;
      *) fail "HOS-$b: cannot create peer user hos-$a: $(body_of "$r")" ;;
    esac
  done
done
site_json() { # site_json N [peer]
  local peer=""
  [ -n "${2:-}" ] && peer=",\"orthanc_peer\":\"$2\""
  echo "{\"id\":\"HOS-$1\",\"name\":\"${NAME[$1]}\",\"address\":\"${ADDRESS[$1]}\",\"phone\":\"${PHONE[$1]}\",\"email\":\"${EMAIL[$1]}\"$peer}"
}
for a in $SITES; do
  for b in $SITES; do
    # this site itself is listed from its configuration (HospitalBridge.Site)
    [ "$a" = "$b" ] && continue
    r=$(api POST "$a" /bridge/sites "$(site_json "$b" "hos-$b")")
    case $(status_of "$r") in
      200|201) ;;
      409) r=$(api PUT "$a" "/bridge/sites/HOS-$b" "$(site_json "$b" "hos-$b")")
           [ "$(status_of "$r")" = 200 ] || fail "HOS-$a: cannot update site HOS-$b: $(body_of "$r")" ;;
      *) fail "HOS-$a: cannot register site HOS-$b: $(body_of "$r")" ;;
    esac
  done
done

# --- demo patients and studies (generated and sent once) --------------------------
if [ ! -f "$HB_DEMO_DIR/dicom/.sent" ]; then
  if [ ! -d "$HB_DEMO_DIR/dicom" ]; then
    "$PY" "$HERE/make-demo-data.py" "$HB_DEMO_DIR/dicom.tmp"
    mv "$HB_DEMO_DIR/dicom.tmp" "$HB_DEMO_DIR/dicom"
  fi
  for n in $SITES; do
    storescu -aet MODALITY -aec "HOS$n" 127.0.0.1 "${DICOM[$n]}" "$HB_DEMO_DIR/dicom/hos-$n/"*.dcm >/dev/null 2>&1 ||
      fail "storescu could not send the demo studies to HOS-$n." "$n"
  done
  touch "$HB_DEMO_DIR/dicom/.sent"
fi
for n in $SITES; do
  for _ in $(seq 1 60); do
    depth=$(curl -sf -u "$AUTH" "$(url "$n")/bridge/system" |
            "$PY" -c 'import json,sys; print(json.load(sys.stdin)["index"]["queue_depth"])' 2>/dev/null || echo "?")
    [ "$depth" = 0 ] && break
    sleep 0.5
  done
done
count() { curl -sf -u "$AUTH" "$(url "$1")/bridge/studies?limit=1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

Q="$(url 001)/bridge/federation/query?national_id=199012345678901234"
cat <<INFO

The HospitalBridge federation demo is running: three hospitals that are each other's peers.

  HOS-001 General Hospital         $(url 001)/bridge/app/   DICOM HOS001 port ${DICOM[001]}   $(count 001) studies
  HOS-002 St. Mary Clinic          $(url 002)/bridge/app/   DICOM HOS002 port ${DICOM[002]}   $(count 002) studies
  HOS-003 Regional Imaging Centre  $(url 003)/bridge/app/   DICOM HOS003 port ${DICOM[003]}   $(count 003) studies

  Sign in everywhere as  admin / $HOSPITALBRIDGE_ADMIN_PASSWORD
  Peer accounts          hos-001, hos-002, hos-003 (role peer; passwords in $HB_DEMO_DIR/peer-passwords)

  Where has NKOSI^THANDI (national ID 199012345678901234) been imaged? Asked at General Hospital:
    curl -u 'admin:$HOSPITALBRIDGE_ADMIN_PASSWORD' '$Q'
  Other patients: 198507224455667788 (MOKOENA^SIPHO), 200101019988776655 (DLAMINI^LERATO),
  197203150011223344 (VAN DER MERWE^ANNA).

  To link: St. Mary Clinic holds VAN DER MERWE^ANNA under its hospital number SMC-000731, so the
  federation does not find that study yet. At St. Mary Clinic, find the unlinked entry
    curl -u 'admin:$HOSPITALBRIDGE_ADMIN_PASSWORD' '$(url 002)/bridge/patients?status=unlinked'
  register her national ID (POST /bridge/patients {"national_id":"197203150011223344",...}) and merge
  the unlinked entry into it (POST /bridge/patients/{id}/merge {"from":"PAT-...","reason":"..."}).

  Data and logs  $HB_DEMO_DIR   (hos-00N/orthanc.log)
  Stop           $0 stop
INFO
