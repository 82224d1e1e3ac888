#!/usr/bin/env bash
# Builds the Debian package hospitalbridge_<version>_amd64.deb for the Debian
# release this runs on (12 "bookworm" or 13 "trixie"), with dpkg-deb:
#
#   scripts/build-package.sh      -> build-package/hospitalbridge_0.1.0-1+deb12_amd64.deb
#
# The version is CMakeLists.txt's project() version, Debian revision 1 and the
# release (+deb12, +deb13). The plugin is built with Debian's hardening flags
# (dpkg-buildflags), tests left out; the package depends on the Orthanc whose
# plugin SDK it was compiled against (OrthancPluginCheckVersion refuses an
# older one) and on the libraries dpkg-shlibdeps finds. What goes where and
# why: packaging/README.md. Runs lintian when it is installed
# (HB_PACKAGE_LINTIAN=0 skips it) and prints the .deb's path last.
#
# Environment:
#   HB_PACKAGE_OUT        output folder (default: build-package/ in this checkout)
#   HB_PACKAGE_BUILD_DIR  CMake build folder (default: $HB_PACKAGE_OUT/build-<codename>)
#   HB_PACKAGE_SOURCE     source tree to build (default: this checkout); the
#                         packaging files always come from this checkout
#   HB_PACKAGE_UPSTREAM   upstream version instead of CMakeLists.txt's
#   HB_PACKAGE_REVISION   Debian revision (default 1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKAGING=$ROOT/packaging/debian
SOURCE=$(cd "${HB_PACKAGE_SOURCE:-$ROOT}" && pwd)
OUT=${HB_PACKAGE_OUT:-$ROOT/build-package}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

die() { echo "build-package: $*" >&2; exit 1; }

# --- the release -------------------------------------------------------------
. /etc/os-release
case "${VERSION_ID:-}" in
  12) CODENAME=bookworm; SYSTEMD_UNITS=/lib/systemd/system ;;
  13) CODENAME=trixie; SYSTEMD_UNITS=/usr/lib/systemd/system ;;
  *) die "Debian 12 or 13 expected, this is ${PRETTY_NAME:-unknown}" ;;
esac
for tool in cmake dpkg-deb dpkg-shlibdeps dpkg-buildflags strip; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-dependencies.sh"
done

UPSTREAM=${HB_PACKAGE_UPSTREAM:-$(sed -n 's/^project(HospitalBridge VERSION \([0-9.]*\).*/\1/p' "$SOURCE/CMakeLists.txt")}
[ -n "$UPSTREAM" ] || die "cannot read the version in $SOURCE/CMakeLists.txt"
VERSION="$UPSTREAM-${HB_PACKAGE_REVISION:-1}+deb$VERSION_ID"
PACKAGE=hospitalbridge
MAINTAINER="HospitalBridge maintainers <maintainers@users.noreply.b-seed-ed919ef5.example>"
# The highest database migration this build carries: a backup with a newer
# schema cannot be restored under it (hospitalbridge-admin).
SCHEMA=$(find "$SOURCE/Resources/Migrations" -name '[0-9]*_*.sql' -printf '%f\n' | sed 's/_.*//' | sort -n | tail -n 1)
SCHEMA=$((10#$SCHEMA))
# Reproducible dates: the source's last commit, else now.
COMMIT=${HB_PACKAGE_COMMIT:-$(git -C "$SOURCE" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$SOURCE" log -1 --format=%ct 2>/dev/null || date +%s)}

# --- build the plugin ----------------------------------------------------------
BUILD=${HB_PACKAGE_BUILD_DIR:-$OUT/build-$CODENAME}
echo "=== building HospitalBridge $UPSTREAM for Debian $VERSION_ID ($CODENAME) in $BUILD"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CXXFLAGS_DEB="$(cd "$SOURCE" && dpkg-buildflags --get CXXFLAGS) $(cd "$SOURCE" && dpkg-buildflags --get CPPFLAGS)"
LDFLAGS_DEB=$(dpkg-buildflags --get LDFLAGS)
cmake -S "$SOURCE" -B "$BUILD" -DCMAKE_BUILD_TYPE=None -DHB_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="$CXXFLAGS_DEB" -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS_DEB" >/dev/null
cmake --build "$BUILD" --target HospitalBridge -j"$(nproc)"
SDK_DIR=$(sed -n 's/^ORTHANC_SDK_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
sdk_number() { sed -n "s/^#define ORTHANC_PLUGINS_MINIMAL_$1_NUMBER *\([0-9]*\).*/\1/p" "$SDK_DIR/orthanc/OrthancCPlugin.h"; }
ORTHANC_MINIMUM="$(sdk_number MAJOR).$(sdk_number MINOR).$(sdk_number REVISION)"
[[ $ORTHANC_MINIMUM =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the SDK version in $SDK_DIR/orthanc/OrthancCPlugin.h"

# --- the package's files -------------------------------------------------------
STAGE=$OUT/stage-$CODENAME
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN"
DOC=$STAGE/usr/share/doc/$PACKAGE
install -d -m 0755 "$STAGE/usr/lib/orthanc" "$STAGE/usr/share/orthanc/plugins" "$STAGE/usr/sbin" \
  "$STAGE/usr/share/man/man8" "$STAGE/etc/hospitalbridge" "$STAGE$SYSTEMD_UNITS/orthanc.service.d" "$DOC"
# The library in /usr/lib/orthanc/, linked from the folder Debian's
# orthanc.json loads plugins from, as Debian's own Orthanc plugins are.
install -m 0644 "$BUILD/libHospitalBridge.so" "$STAGE/usr/lib/orthanc/libHospitalBridge.so"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$STAGE/usr/lib/orthanc/libHospitalBridge.so"
ln -s ../../../lib/orthanc/libHospitalBridge.so "$STAGE/usr/share/orthanc/plugins/libHospitalBridge.so"
sed -e "s/@HB_VERSION@/$VERSION/" -e "s/@HB_SCHEMA@/$SCHEMA/" "$ROOT/scripts/hospitalbridge-admin" \
  >"$STAGE/usr/sbin/hospitalbridge-admin"
chmod 0755 "$STAGE/usr/sbin/hospitalbridge-admin"
gzip -9n <"$PACKAGING/hospitalbridge-admin.8" >"$STAGE/usr/share/man/man8/hospitalbridge-admin.8.gz"
install -m 0644 "$PACKAGING/hospitalbridge.json" "$STAGE/etc/hospitalbridge/hospitalbridge.json"
install -m 0644 "$PACKAGING/orthanc.service.d/hospitalbridge.conf" \
  "$STAGE$SYSTEMD_UNITS/orthanc.service.d/hospitalbridge.conf"
gzip -9n <"$SOURCE/README.md" >"$DOC/README.md.gz"
install -d -m 0755 "$STAGE/usr/share/lintian/overrides"
sed -e "s/^$CODENAME: //" -e '/^[a-z]*: #/d' -e '/^\(bookworm\|trixie\): /d' "$PACKAGING/lintian-overrides" \
  >"$STAGE/usr/share/lintian/overrides/$PACKAGE"
chmod 0644 "$STAGE/usr/share/lintian/overrides/$PACKAGE"
# copyright: the template, plus the license text of each library the pages
# embed (MIT needs its text; Apache-2.0 is in /usr/share/common-licenses).
{
  cat "$PACKAGING/copyright"
  echo
  echo "License: MIT"
  sed -e 's/^[[:space:]]*$/./' -e 's/^/ /' "$BUILD/web-vendor/WebAssets/vendor/preact/LICENSE.txt"
} >"$DOC/copyright"
chmod 0644 "$DOC/copyright"
{
  echo "$PACKAGE ($VERSION) $CODENAME; urgency=medium"
  echo
  echo "  * HospitalBridge $UPSTREAM (git $COMMIT) for Debian $VERSION_ID \"$CODENAME\","
  echo "    built against the Orthanc plugin SDK $ORTHANC_MINIMUM; database schema $SCHEMA."
  echo
  echo " -- $MAINTAINER  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$DOC/changelog.Debian.gz"
chmod 0644 "$DOC/README.md.gz" "$DOC/changelog.Debian.gz" "$STAGE/usr/share/man/man8/hospitalbridge-admin.8.gz"

# --- control -------------------------------------------------------------------
for script in postinst postrm; do
  install -m 0755 "$PACKAGING/$script" "$STAGE/DEBIAN/$script"
done
echo /etc/hospitalbridge/hospitalbridge.json >"$STAGE/DEBIAN/conffiles"
# The libraries the plugin links, with the versions its symbols need.
SHLIBS_DIR=$(mktemp -d)
trap 'rm -rf "$SHLIBS_DIR"' EXIT
mkdir -p "$SHLIBS_DIR/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$SHLIBS_DIR/debian/control"
SHLIBS=$(cd "$SHLIBS_DIR" && dpkg-shlibdeps -O "$STAGE/usr/lib/orthanc/libHospitalBridge.so" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || die "dpkg-shlibdeps found no dependency"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$STAGE/DEBIAN/md5sums"
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $VERSION
Architecture: amd64
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_SIZE
Depends: orthanc (>= $ORTHANC_MINIMUM), sqlite3, fonts-dejavu-core, $SHLIBS
Section: science
Priority: optional
Description: hospital imaging hub: security gate, audit, sharing for Orthanc
 HospitalBridge is a plugin for the Orthanc DICOM server. It adds a security
 gate with staff accounts and roles in front of every HTTP route, a study
 index, a patient registry, federation between hospitals, consent records, a
 tamper-evident audit trail, share links with QR codes for patients, a watch
 folder for scanners and staff web pages.
 .
 The package loads the plugin into Debian's Orthanc service, switches
 Orthanc's own HTTP authentication off in favour of the plugin's gate, and
 generates the first administrator's password in
 /etc/hospitalbridge/admin-password. hospitalbridge-admin backs up and
 restores the plugin's database while Orthanc runs.
EOF

# --- the .deb ------------------------------------------------------------------
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +
DEB=$OUT/${PACKAGE}_${VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "=== $DEB"
echo "    Depends: orthanc (>= $ORTHANC_MINIMUM), sqlite3, fonts-dejavu-core, $SHLIBS"
if [ "${HB_PACKAGE_LINTIAN:-1}" != 0 ]; then
  if command -v lintian >/dev/null; then
    # Errors fail the build; what remains at lower levels is explained in
    # packaging/README.md ("lintian").
    echo "=== lintian"
    as_user=()
    [ "$(id -u)" -ne 0 ] || as_user=(runuser -u nobody --)  # lintian warns when run as root
    "${as_user[@]}" lintian --info --display-info --fail-on error "$DEB" || die "lintian found errors in $DEB"
  else
    echo "(lintian is not installed: not checked)"
  fi
fi
echo "$DEB"
