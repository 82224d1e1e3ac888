#!/usr/bin/env bash
# Installs, from Debian bookworm's packages, what HospitalBridge needs to build,
# run and test. Installs only what is missing; needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build (curl and ca-certificates: the web pages' view library is fetched from the
  # npm registry at build time, scripts/fetch-web-vendor.sh)
  build-essential cmake pkg-config clang-format clang-tidy curl ca-certificates
  orthanc-dev libjsoncpp-dev libsqlite3-dev libssl-dev libgtest-dev libqrencode-dev zlib1g-dev
  # the signed report's PDF: cairo and pango, and the font it names
  libpango1.0-dev fonts-dejavu-core
  # the router's HTTPS client (DICOMweb, FHIR and national-platform destinations)
  libcurl4-openssl-dev
  # the Debian package (scripts/build-package.sh; dpkg-dev comes with build-essential)
  lintian
  # run (nginx: HTTPS in front of Orthanc, see OrthancConfiguration/nginx/)
  orthanc orthanc-dicomweb nginx openssl
  # sample data, tests and benchmarks
  dcmtk python3 python3-pydicom python3-numpy python3-requests python3-websocket
  chromium zbar-tools sqlite3 curl procps poppler-utils python3-jsonschema
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Installing ${missing[*]} needs root: run as root or install sudo." >&2; exit 1; }
  SUDO=sudo
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's orthanc package starts a system-wide Orthanc on ports 8042/4242, and
# its nginx package a web server on port 80; HospitalBridge's scripts and tests
# start their own on free ports, so leave those services as they were.
