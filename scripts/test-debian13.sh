#!/usr/bin/env bash
# Builds and tests HospitalBridge on Debian 13 "trixie" (Orthanc 1.12) inside a
# chroot made with mmdebstrap from Debian's archive, next to the Debian 12 host.
#
#   scripts/test-debian13.sh [CTEST ARGUMENTS...]    e.g. -R integration.share
#
# The root is kept between runs in $HB_CACHE_DIR/trixie-root (default
# /var/cache/hospitalbridge) and made again when its package list changes, when
# it is older than HB_D13_MAX_AGE_DAYS (30) or with HB_D13_REBUILD=1. The build
# goes to $HB_D13_BUILD_DIR (default build-debian13/ in the source tree), never
# to the host's build/. Unit and integration tests run with CTest inside the
# chroot against trixie's /usr/sbin/Orthanc; lint runs on the host only.
# Needs root (mounts and chroot). Exits non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HB_CACHE_DIR:-/var/cache/hospitalbridge}
CHROOT=$CACHE/trixie-root
STAMP_FILE=.hospitalbridge-root
BUILD=${HB_D13_BUILD_DIR:-$ROOT/build-debian13}
MAX_AGE_DAYS=${HB_D13_MAX_AGE_DAYS:-30}
SUITE=trixie

# What scripts/install-dependencies.sh installs (one list to keep up to date),
# as named in trixie, without the linters: lint runs once, on the host.
LINT_ONLY=" clang-format clang-tidy "
declare -A TRIXIE_NAME=()  # bookworm name -> trixie name, where they differ (none so far)
PACKAGES=()
for package in $(sed -n '/^PACKAGES=(/,/^)/p' "$ROOT/scripts/install-dependencies.sh" | sed -e '1d' -e '$d' -e 's/#.*//'); do
  [[ $LINT_ONLY == *" $package "* ]] && continue
  PACKAGES+=("${TRIXIE_NAME[$package]:-$package}")
done
if [ ${#PACKAGES[@]} -lt 10 ]; then
  echo "Cannot read the package list (PACKAGES=( ... )) of scripts/install-dependencies.sh." >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$0 needs root (mmdebstrap, mounts, chroot)." >&2
  exit 1
fi

# --- timing --------------------------------------------------------------------
STEPS=()
TESTS_LINE=""
step_start=0
step_name=""
script_start=$(date +%s)
begin() { step_name=$1; step_start=$(date +%s); echo "=== $1"; }
finish() { STEPS+=("$(printf '%-44s %4d s' "$step_name" $(($(date +%s) - step_start)))"); step_name=""; }
report() {
  [ -z "$step_name" ] || { step_name="$step_name (FAILED)"; finish; }
  echo "=== Debian 13 timings"
  local line
  for line in "${STEPS[@]}"; do echo "  $line"; done
  printf '  %-44s %4d s\n' "total" $(($(date +%s) - script_start))
}

# --- mounts --------------------------------------------------------------------
# Mount points under the root, deepest first.
mounts_under() {
  awk -v root="$1" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
processes_in_root() {
  local link pid
  for link in /proc/[0-9]*/root; do
    pid=${link#/proc/}
    pid=${pid%/root}
    [ "$(readlink "$link" 2>/dev/null)" = "$CHROOT" ] && echo "$pid"
  done
  return 0
}
unmount_all() {
  # Whatever this run started inside the root (a test's Orthanc or Chromium
  # left behind) would keep the mounts busy.
  local pids
  pids=$(processes_in_root)
  if [ -n "$pids" ]; then
    echo "Stopping processes left in the root: $(echo $pids)" >&2
    kill -KILL $pids 2>/dev/null || true
    sleep 1
  fi
  local mountpoint
  for mountpoint in $(mounts_under "$CHROOT"); do
    umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint"
  done
}
mount_all() {
  mkdir -p "$CHROOT/src" "$CHROOT/build" "$CHROOT/dev/shm" "$CHROOT/dev/pts"
  mount -t proc proc "$CHROOT/proc"
  mount -t sysfs sysfs "$CHROOT/sys"
  mount --bind /dev "$CHROOT/dev"
  mount --bind /dev/pts "$CHROOT/dev/pts"
  mount -t tmpfs -o mode=1777,size=2g tmpfs "$CHROOT/dev/shm"
  # The source tree read-only: nothing in the chroot writes into the checkout.
  mount --bind "$ROOT" "$CHROOT/src"
  mount -o remount,bind,ro "$CHROOT/src"
  mount --bind "$BUILD" "$CHROOT/build"
  # The build fetches the web pages' pinned npm packages (scripts/fetch-web-vendor.sh):
  # the host's name servers, and the certificate authorities the host trusts (a
  # network whose proxy has its own CA, as here), read-only and for this run only.
  cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf"
  local bundle=/etc/ssl/certs/ca-certificates.crt
  if [ -f "$bundle" ]; then
    mkdir -p "$CHROOT/etc/ssl/certs"
    [ -e "$CHROOT$bundle" ] || touch "$CHROOT$bundle"
    mount --bind "$bundle" "$CHROOT$bundle"
    mount -o remount,bind,ro "$CHROOT$bundle"
  fi
}
in_root() {
  local passed=() name
  for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -z "${!name:-}" ] || passed+=("$name=${!name}")
  done
  chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" "${passed[@]}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM
  unmount_all || status=1
  report
  [ $status -eq 0 ] && echo "Debian 13: no failure." || echo "Debian 13: FAILED (exit $status)." >&2
  [ -z "$TESTS_LINE" ] || echo "$TESTS_LINE"
  exit $status
}

mkdir -p "$CACHE"
exec 9>"$CACHE/trixie.lock"
flock -n 9 || { echo "Another test-debian13.sh uses $CHROOT; waiting for it." >&2; flock 9; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A run killed without its trap (SIGKILL, power loss) may have left mounts.
unmount_all

# --- 1. mmdebstrap on the host -------------------------------------------------
begin "mmdebstrap on the host"
if ! command -v mmdebstrap >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  }
fi
finish

# --- 2. the trixie root --------------------------------------------------------
# Debian's archive as the host's apt reaches it: the URI of the host's own
# release (not -security) in /etc/apt/sources.list*, else deb.debian.org.
host_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  {
    # one-line style: deb [options] URI suite components
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/\[[^]]*\]//' |
      awk -v c="$codename" '$1 == "deb" && $3 == c { print $2 }'
    # deb822 style
    for file in /etc/apt/sources.list.d/*.sources; do
      [ -f "$file" ] || continue
      awk -v c="$codename" '
        function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " c " ") && enabled != "no") print uris; types = suites = uris = ""; enabled = "" }
        /^[ \t]*$/ { flush(); next }
        /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
        /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
        /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $1 }
        /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = tolower($0) }
        END { flush() }' "$file"
    done
  } | head -n 1
}
MIRROR=${HB_DEBIAN_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}

MMDEBSTRAP_OPTIONS=(
  --variant=apt --components=main --aptopt='Acquire::Retries "3"'
  # no manuals, translations or documentation (copyrights kept): a smaller, faster root
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
recipe="suite=$SUITE mirror=$MIRROR packages=${PACKAGES[*]} options=${MMDEBSTRAP_OPTIONS[*]}"
recipe_hash=$(printf '%s' "$recipe" | sha256sum | cut -d' ' -f1)
stamp="$CHROOT/$STAMP_FILE"
reason=""
if [ ! -f "$stamp" ]; then
  reason="no root yet"
elif [ "$(head -n 1 "$stamp")" != "$recipe_hash" ]; then
  reason="its package list or options changed"
elif [ -n "$(find "$stamp" -mtime +"$MAX_AGE_DAYS")" ]; then
  reason="it is older than $MAX_AGE_DAYS days"
elif [ "${HB_D13_REBUILD:-0}" = 1 ]; then
  reason="HB_D13_REBUILD=1"
fi

if [ -n "$reason" ]; then
  begin "create the trixie root"
  echo "Making $CHROOT: $reason."
  new="$CHROOT.new"
  # Never remove a folder with something mounted inside (the source tree!).
  for dir in "$new" "$CHROOT"; do
    if [ -n "$(mounts_under "$dir")" ]; then
      echo "Refusing to remove $dir: still mounted: $(mounts_under "$dir" | tr '\n' ' ')" >&2
      exit 1
    fi
  done
  rm -rf --one-file-system "$new"
  include=$(IFS=,; echo "${PACKAGES[*]}")
  mmdebstrap "${MMDEBSTRAP_OPTIONS[@]}" --include="$include" "$SUITE" "$new" "deb $MIRROR $SUITE main"
  {
    echo "$recipe_hash"
    echo "$recipe"
    echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$new/$STAMP_FILE"
  rm -rf --one-file-system "$CHROOT"
  mv "$new" "$CHROOT"
  finish
else
  begin "reuse the trixie root"
  echo "$CHROOT: $(sed -n 3p "$stamp")"
  finish
fi
echo "Orthanc in the root: $(in_root dpkg-query -W -f='${Version}' orthanc)," \
  "SDK $(in_root dpkg-query -W -f='${Version}' orthanc-dev)," \
  "GCC $(in_root dpkg-query -W -f='${Version}' gcc)"

# --- 3. build inside the root --------------------------------------------------
mkdir -p "$BUILD"
mount_all
begin "build in trixie"
in_root env HB_BUILD_DIR=/build bash /src/scripts/build.sh
finish

# --- 4. unit and integration tests --------------------------------------------
begin "ctest in trixie (unit + integration)"
status=0
in_root bash -c 'cd /build && exec ctest --output-on-failure -j2 -LE lint "$@"' ctest "$@" 2>&1 |
  tee "$BUILD/ctest-debian13.log" || status=$?
finish
echo "Logs and screenshots: $BUILD/test-artifacts/, CTest's output: $BUILD/ctest-debian13.log"
# CTest's summary, e.g. "97% tests passed, 2 tests failed out of 64", as one closing line.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$BUILD/ctest-debian13.log" | tail -n 1 || true)
if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
  TESTS_LINE="trixie: $((BASH_REMATCH[2] - BASH_REMATCH[1])) passed, ${BASH_REMATCH[1]} failed"
fi
exit "$status"
