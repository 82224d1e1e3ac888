#!/usr/bin/env bash
# Makes a self-signed certificate for each name given, for a demo or a test only: browsers
# and phones warn about it (see README.md for a real certificate).
#
#   make-demo-certificate.sh [-d DIR] [-days N] [NAME...]
#
# Writes DIR/NAME/fullchain.pem and DIR/NAME/privkey.pem (the layout of Let's Encrypt's
# /etc/letsencrypt/live/NAME/), the key readable by root only. Defaults: DIR
# /etc/ssl/hospitalbridge, 90 days, names pacs.hospital.example and images.hospital.example.
# An existing key or certificate is left alone unless -f is given.
set -euo pipefail

dir=/etc/ssl/hospitalbridge
days=90
force=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    -d) dir=${2:?"-d needs a folder"}; shift 2 ;;
    -days) days=${2:?"-days needs a number"}; shift 2 ;;
    -f) force=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see $0 --help)" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(pacs.hospital.example images.hospital.example)
command -v openssl >/dev/null || { echo "openssl is missing: apt-get install openssl" >&2; exit 1; }

umask 077
for name in "${names[@]}"; do
  if ! [[ "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    echo "not a host name: $name" >&2
    exit 2
  fi
  out="$dir/$name"
  if [ -e "$out/privkey.pem" ] && [ $force -eq 0 ]; then
    echo "$out/privkey.pem exists; left as it is (-f to replace it)"
    continue
  fi
  mkdir -p "$out"
  # ECDSA P-256: small and fast; every current browser and phone accepts it.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -days "$days" -subj "/CN=$name" \
    -addext "subjectAltName=DNS:$name" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$out/privkey.pem.tmp" -out "$out/fullchain.pem.tmp" 2>/dev/null
  chmod 600 "$out/privkey.pem.tmp"
  chmod 644 "$out/fullchain.pem.tmp"
  mv -f "$out/privkey.pem.tmp" "$out/privkey.pem"
  mv -f "$out/fullchain.pem.tmp" "$out/fullchain.pem"
  echo "$out/fullchain.pem: self-signed for $name, valid $days days"
done
