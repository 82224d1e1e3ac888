#!/usr/bin/env bash
# Builds the Debian package on Debian 12 (this machine) and Debian 13 (the
# cached trixie root of scripts/test-debian13.sh), then installs each into a
# fresh minimal root of its release and checks it as a hospital admin would
# use it (tests/integration/package_test.py): Orthanc started as Debian's
# orthanc.service starts it, the generated password, an upgrade from the
# previous version, backup under C-STORE load and restore, remove and purge,
# and the refusals (an Orthanc too old, a backup too new, a missing password).
#
#   scripts/test-package.sh                 both releases
#   scripts/test-package.sh bookworm        one of them (or trixie)
#
# Fresh roots: a base root per release (mmdebstrap --variant=apt with orthanc
# and the package's dependencies) is kept in $HB_CACHE_DIR/pkgtest-<release>
# (default /var/cache/hospitalbridge) and made again after 30 days
# (HB_PKGTEST_MAX_AGE_DAYS), when its recipe changes or with
# HB_PKGTEST_REBUILD=1; each test root is an overlay on it, thrown away after.
#
# The previous version: no release exists yet, so it is built from git
# history, HB_PACKAGE_PREVIOUS (default: d7e720d, the last commit before
# database migration 006), packaged with this checkout's packaging files as
# version <upstream>~git.<commit>; those .debs are kept in
# $HB_CACHE_DIR/packages/ (one build per commit and release).
#
# Output and logs: build-package/ (HB_PACKAGE_OUT). Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HB_CACHE_DIR:-/var/cache/hospitalbridge}
OUT=${HB_PACKAGE_OUT:-$ROOT/build-package}
PREVIOUS=${HB_PACKAGE_PREVIOUS:-d7e720d}
# The sources of "this version": the checkout, or (to test a snapshot while the
# checkout changes) a folder inside $HB_PACKAGE_OUT.
SOURCE=${HB_PACKAGE_SOURCE:-$ROOT}
MAX_AGE_DAYS=${HB_PKGTEST_MAX_AGE_DAYS:-30}
TRIXIE_ROOT=$CACHE/trixie-root
RELEASES=("${@:-bookworm trixie}")
RELEASES=(${RELEASES[*]})

if [ "$(id -u)" -ne 0 ]; then
  echo "$0 needs root (mmdebstrap, mounts, chroot)." >&2
  exit 1
fi
mkdir -p "$OUT" "$CACHE/packages"
OUT=$(cd "$OUT" && pwd)

# --- timing and clean-up ---------------------------------------------------------
STEPS=()
step_name=""
step_start=0
script_start=$(date +%s)
begin() { step_name=$1; step_start=$(date +%s); echo "=== $1"; }
finish() { STEPS+=("$(printf '%-52s %4d s' "$step_name" $(($(date +%s) - step_start)))"); step_name=""; }
MOUNTED_ROOT=""
unmount_root() {
  [ -n "$MOUNTED_ROOT" ] || return 0
  local mountpoint
  for mountpoint in $(awk -v root="$MOUNTED_ROOT" '$5 == root || index($5, root "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r); do
    umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint"
  done
  MOUNTED_ROOT=""
}
on_exit() {
  local status=$?
  trap - EXIT INT TERM
  unmount_root || status=1
  [ -z "$step_name" ] || { step_name="$step_name (FAILED)"; finish; }
  echo "=== package test timings"
  local line
  for line in "${STEPS[@]}"; do echo "  $line"; done
  printf '  %-52s %4d s\n' "total" $(($(date +%s) - script_start))
  [ $status -eq 0 ] && echo "Package tests: no failure." || echo "Package tests: FAILED (exit $status)." >&2
  exit $status
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the mirror (as scripts/test-debian13.sh finds it) ---------------------------------
host_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/\[[^]]*\]//' | awk -v c="$codename" '$1 == "deb" && $3 == c { print $2 }'
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

# --- building in the trixie root ---------------------------------------------------------
# The root of scripts/test-debian13.sh, under its lock; the checkout read-only
# at /src, build-package/ at /out.
in_trixie() {
  local passed=() name
  for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -z "${!name:-}" ] || passed+=("$name=${!name}")
  done
  chroot "$TRIXIE_ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb "${passed[@]}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
mount_trixie() {
  MOUNTED_ROOT=$TRIXIE_ROOT
  mkdir -p "$TRIXIE_ROOT/src" "$TRIXIE_ROOT/out"
  mount -t proc proc "$TRIXIE_ROOT/proc"
  mount --bind /dev "$TRIXIE_ROOT/dev"
  mount --bind "$ROOT" "$TRIXIE_ROOT/src"
  mount -o remount,bind,ro "$TRIXIE_ROOT/src"
  mount --bind "$OUT" "$TRIXIE_ROOT/out"
  cp -L /etc/resolv.conf "$TRIXIE_ROOT/etc/resolv.conf"
  local bundle=/etc/ssl/certs/ca-certificates.crt
  if [ -f "$bundle" ]; then
    [ -e "$TRIXIE_ROOT$bundle" ] || touch "$TRIXIE_ROOT$bundle"
    mount --bind "$bundle" "$TRIXIE_ROOT$bundle"
    mount -o remount,bind,ro "$TRIXIE_ROOT$bundle"
  fi
}

# build_package RELEASE SOURCE UPSTREAM COMMIT NAME: the .deb's path on the
# host; NAME names the build folder and log (build-package/<NAME>...).
build_package() {
  local release=$1 source=$2 upstream=$3 commit=$4 name=$5 epoch log
  epoch=$(git -C "$ROOT" log -1 --format=%ct "$commit")
  log=$OUT/$name.log
  local env=(HB_PACKAGE_COMMIT="${commit:0:12}" SOURCE_DATE_EPOCH="$epoch")
  [ -z "$upstream" ] || env+=(HB_PACKAGE_UPSTREAM="$upstream" HB_PACKAGE_LINTIAN=0)
  if [ "$release" = bookworm ]; then
    env "${env[@]}" HB_PACKAGE_SOURCE="$source" HB_PACKAGE_OUT="$OUT" HB_PACKAGE_BUILD_DIR="$OUT/$name" \
      bash "$ROOT/scripts/build-package.sh" >"$log" 2>&1 ||
      { tail -n 40 "$log" >&2; echo "building the $release package failed: $log" >&2; return 1; }
    tail -n 1 "$log"
  else
    local inside=/out/${source#"$OUT"/}
    [ "$source" = "$ROOT" ] && inside=/src
    in_trixie env "${env[@]}" HB_PACKAGE_SOURCE="$inside" HB_PACKAGE_OUT=/out HB_PACKAGE_BUILD_DIR="/out/$name" \
      bash /src/scripts/build-package.sh >"$log" 2>&1 ||
      { tail -n 40 "$log" >&2; echo "building the $release package failed: $log" >&2; return 1; }
    echo "$OUT/$(basename "$(tail -n 1 "$log")")"
  fi
}

# The previous version: PREVIOUS's sources, packaged as <upstream>~git.<commit>
# (lower than any build of this checkout's version), cached per commit.
previous_package() {
  local release=$1 commit short upstream cached source deb
  commit=$(git -C "$ROOT" rev-parse --verify "$PREVIOUS^{commit}")
  short=${commit:0:7}
  upstream="$(git -C "$ROOT" show "$commit:CMakeLists.txt" | sed -n 's/^project(HospitalBridge VERSION \([0-9.]*\).*/\1/p')~git.$short"
  cached=$(ls "$CACHE/packages/hospitalbridge_${upstream}-1+deb"*"_amd64.deb" 2>/dev/null |
    grep -F "+deb$([ "$release" = bookworm ] && echo 12 || echo 13)_" || true)
  if [ -n "$cached" ]; then
    echo "$cached"
    return 0
  fi
  source=$OUT/previous-$short
  rm -rf "$source" "$OUT/build-$release-previous"
  mkdir -p "$source"
  git -C "$ROOT" archive "$commit" | tar -x -C "$source"
  deb=$(build_package "$release" "$source" "$upstream" "$commit" "build-$release-previous")
  cp "$deb" "$CACHE/packages/"
  rm -rf "$source" "$OUT/build-$release-previous" "$deb"
  echo "$CACHE/packages/$(basename "$deb")"
}

# --- the fresh roots -------------------------------------------------------------------------
# What the test roots hold besides a minimal apt system: Orthanc and what the
# package needs from the archive, so that "apt install ./x.deb" finds every
# dependency already there (apt's lists are kept for anything else).
base_root() {
  local release=$1 dir=$CACHE/pkgtest-$release recipe hash stamp reason=""
  local packages=orthanc,sqlite3,libqrencode4,ca-certificates
  local options=(--variant=apt --components=main --include="$packages" --skip=cleanup/apt/lists
    --aptopt='Acquire::Retries "3"'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-include=/usr/share/locale/locale.alias'
    # no service starts inside these roots: the test starts Orthanc itself
    --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod 0755 "$1/usr/sbin/policy-rc.d"')
  recipe="release=$release mirror=$MIRROR options=${options[*]}"
  hash=$(printf '%s' "$recipe" | sha256sum | cut -d' ' -f1)
  stamp=$dir/.hospitalbridge-root
  if [ ! -f "$stamp" ]; then
    reason="no root yet"
  elif [ "$(head -n 1 "$stamp")" != "$hash" ]; then
    reason="its recipe changed"
  elif [ -n "$(find "$stamp" -mtime +"$MAX_AGE_DAYS")" ]; then
    reason="it is older than $MAX_AGE_DAYS days"
  elif [ "${HB_PKGTEST_REBUILD:-0}" = 1 ]; then
    reason="HB_PKGTEST_REBUILD=1"
  fi
  if [ -n "$reason" ]; then
    echo "Making $dir: $reason." >&2
    if awk -v root="$dir" '$5 == root || index($5, root "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
      echo "Refusing to remake $dir: something is mounted inside it." >&2
      return 1
    fi
    rm -rf --one-file-system "$dir.new"
    mmdebstrap "${options[@]}" "$release" "$dir.new" "deb $MIRROR $release main" >&2
    { echo "$hash"; echo "$recipe"; echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ)"; } >"$dir.new/.hospitalbridge-root"
    rm -rf --one-file-system "$dir"
    mv "$dir.new" "$dir"
  fi
  echo "$dir"
}

# --- 1. packages ---------------------------------------------------------------------------------
command -v mmdebstrap >/dev/null || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
}
HEAD_COMMIT=$(git -C "$ROOT" rev-parse HEAD)
declare -A CURRENT=() OLD=()
for release in "${RELEASES[@]}"; do
  case "$release" in
    bookworm)
      [ "$(. /etc/os-release && echo "$VERSION_ID")" = 12 ] || { echo "the host must be Debian 12" >&2; exit 1; }
      begin "package on Debian 12 (host)"
      CURRENT[bookworm]=$(build_package bookworm "$SOURCE" "" "$HEAD_COMMIT" build-bookworm)
      echo "${CURRENT[bookworm]}"
      finish
      begin "previous version ($PREVIOUS) on Debian 12"
      OLD[bookworm]=$(previous_package bookworm)
      echo "${OLD[bookworm]}"
      finish
      ;;
    trixie)
      [ -f "$TRIXIE_ROOT/.hospitalbridge-root" ] ||
        { echo "No Debian 13 root in $TRIXIE_ROOT: run scripts/test-debian13.sh once first (it makes and caches it)." >&2; exit 1; }
      exec 9>"$CACHE/trixie.lock"
      flock -n 9 || { echo "Waiting for another user of $TRIXIE_ROOT." >&2; flock 9; }
      mount_trixie
      begin "package on Debian 13 (trixie root)"
      CURRENT[trixie]=$(build_package trixie "$SOURCE" "" "$HEAD_COMMIT" build-trixie)
      echo "${CURRENT[trixie]}"
      finish
      begin "previous version ($PREVIOUS) on Debian 13"
      OLD[trixie]=$(previous_package trixie)
      echo "${OLD[trixie]}"
      finish
      unmount_root
      flock -u 9
      ;;
    *) echo "unknown release $release (bookworm, trixie)" >&2; exit 2 ;;
  esac
done

# --- 2. install and use them in fresh roots ---------------------------------------------------------
exec 8>"$CACHE/pkgtest.lock"
flock -n 8 || { echo "Waiting for another package test." >&2; flock 8; }
for release in "${RELEASES[@]}"; do
  begin "base root for $release"
  base=$(base_root "$release")
  echo "$base: $(sed -n 3p "$base/.hospitalbridge-root"), orthanc $(chroot "$base" dpkg-query -W -f='${Version}' orthanc)"
  finish
  other=()
  if [ "$release" = bookworm ] && [ -n "${CURRENT[trixie]:-}" ]; then
    other=(--other-release-deb "${CURRENT[trixie]}")
  fi
  begin "install, upgrade, backup, restore on $release"
  /usr/bin/python3 "$ROOT/tests/integration/package_test.py" --release "$release" --base "$base" \
    --source "$SOURCE" --work "$OUT/test-$release" --deb "${CURRENT[$release]}" --previous "${OLD[$release]}" "${other[@]}"
  finish
done
