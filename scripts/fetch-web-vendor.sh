#!/usr/bin/env bash
# Fetches one pinned npm package for the web pages (WebAssets/vendor/vendor.json),
# checks its SHA-256 and copies the files it names into an output folder. The
# build calls it once per package of the manifest (Resources/CMake/WebVendor.cmake);
# it needs curl, sha256sum and tar, not node.
#
#   fetch-web-vendor.sh --name preact --version 11.2.0 --url https://registry.npmjs.org/... \
#       --sha256 <hex> --out <dir> [--import preact=./preact.js]... package/dist/x.mjs=preact/x.js ...
#   fetch-web-vendor.sh --name @ohif/app ... --out <dir> --tree package/dist
#
# With --tree, the whole folder of the package is written to <dir> as it is (the
# diagnostic viewer's ready-built app, served from disk by the plugin): into a
# fresh folder beside <dir> that replaces it at the end, with
# .hospitalbridge-viewer.json (name, version, sha256) written last, so a
# half-extracted tree is never taken for an installed one.
#
# The tarball is kept in ${HB_CACHE_DIR:-~/.cache/hospitalbridge}/npm/, so a rebuild
# works offline once it was fetched; a cached copy is checked like a download.
# JavaScript files get one comment line naming the package, a bare import specifier
# given with --import rewritten to the relative path (the pages have no import map),
# and their source-map comment dropped; other files (licenses) are copied as they are.
set -euo pipefail

die() {
  echo "fetch-web-vendor: error: $*" >&2
  exit 1
}

name="" version="" url="" sha="" out="" tree=""
imports=()
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --sha256) sha=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --import) imports+=("$2"); shift 2 ;;
    --tree) tree=$2; shift 2 ;;
    -*) die "unknown option $1" ;;
    *) files+=("$1"); shift ;;
  esac
done
[ -n "$name" ] && [ -n "$version" ] && [ -n "$url" ] && [ -n "$sha" ] && [ -n "$out" ] ||
  die "usage: $0 --name N --version V --url URL --sha256 HEX --out DIR [--import SPEC=PATH]... FROM=TO..."
[ ${#files[@]} -gt 0 ] || [ -n "$tree" ] || die "$name: no file to take from the package"
[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$name: the pinned sha256 '$sha' is not 64 lowercase hex digits"
[[ "$url" == https://* ]] || die "$name: the tarball URL must be https: $url"
for tool in curl sha256sum tar sed; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-dependencies.sh installs it)"
done

cache=${HB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hospitalbridge}/npm
tarball=$cache/${name//\//_}-$version.tgz
mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/hb-web-vendor.XXXXXX")
trap 'rm -rf "$work"' EXIT

sum_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$tarball" ] && [ "$(sum_of "$tarball")" != "$sha" ]; then
  echo "fetch-web-vendor: the cached $tarball does not have the pinned SHA-256; downloading it again" >&2
  rm -f "$tarball"
fi
if [ ! -f "$tarball" ]; then
  echo "fetch-web-vendor: downloading $name $version from $url"
  if ! curl -fsSL --retry 2 --connect-timeout 20 --max-time 300 -o "$work/download.tgz" "$url"; then
    die "could not download $name $version from $url. Without network, put that tarball at $tarball" \
      "(its SHA-256 must be $sha), or set HB_CACHE_DIR to a folder holding npm/$name-$version.tgz."
  fi
  got=$(sum_of "$work/download.tgz")
  if [ "$got" != "$sha" ]; then
    die "SHA-256 MISMATCH for $name $version downloaded from $url:" \
      "expected $sha (pinned in WebAssets/vendor/vendor.json), got $got." \
      "The build stops: this is not the file that was reviewed. If the version was changed on purpose," \
      "check the new tarball and pin its SHA-256 in the manifest."
  fi
  mv "$work/download.tgz" "$tarball"
fi

if [ -n "$tree" ]; then
  [[ "$tree" =~ ^package(/[A-Za-z0-9._-]+)*$ ]] || die "$name: --tree '$tree' must be a folder of the package"
  staging="$out.new"
  rm -rf "$staging"
  mkdir -p "$staging" "$work/package"
  tar -xzf "$tarball" -C "$work/package" -- "$tree" || die "$name $version: the tarball has no folder $tree"
  cp -a "$work/package/$tree/." "$staging/"
  if tar -xzf "$tarball" -C "$work/package" -- package/LICENSE 2>/dev/null; then
    cp "$work/package/package/LICENSE" "$staging/LICENSE.txt"
  fi
  [ -f "$staging/index.html" ] || die "$name $version: $tree has no index.html"
  printf '{"name": "%s", "version": "%s", "sha256": "%s", "tarball": "%s"}\n' "$name" "$version" "$sha" "$url" \
    >"$staging/.hospitalbridge-viewer.json"
  rm -rf "$out.old"
  [ -e "$out" ] && mv "$out" "$out.old"
  mv "$staging" "$out"
  rm -rf "$out.old"
  echo "fetch-web-vendor: $name $version checked (sha256 $sha), $(find "$out" -type f | wc -l) files in $out"
  exit 0
fi

mkdir -p "$out"
members=()
for pair in "${files[@]}"; do
  [[ "$pair" == *=* ]] || die "$name: '$pair' is not FROM=TO"
  to=${pair#*=}
  [[ "$to" != /* && "$to" != *..* ]] || die "$name: output path '$to' must stay inside $out"
  members+=("${pair%%=*}")
done
mkdir -p "$work/package"
tar -xzf "$tarball" -C "$work/package" -- "${members[@]}" ||
  die "$name $version: the tarball lacks one of: ${members[*]}"

rewrites=(-e '/^\/\/# sourceMappingURL=/d')
for spec in "${imports[@]+"${imports[@]}"}"; do
  from=${spec%%=*}
  to=${spec#*=}
  [[ "$from" =~ ^[A-Za-z0-9@/._-]+$ && "$to" =~ ^\.{1,2}/[A-Za-z0-9/._-]+$ ]] ||
    die "$name: import rewrite '$spec' must be SPECIFIER=./relative/path"
  rewrites+=(-e "s#(from|import)([[:space:]]*)([\"'])${from//./\\.}([\"'])#\\1\\2\\3${to}\\4#g")
done

for pair in "${files[@]}"; do
  src=$work/package/${pair%%=*}
  dest=$out/${pair#*=}
  mkdir -p "$(dirname "$dest")"
  if [[ "$dest" == *.js ]]; then
    {
      printf '/* %s %s from the npm registry, SHA-256 of its tarball checked at build time ' "$name" "$version"
      printf '(WebAssets/vendor/vendor.json); license: LICENSE.txt beside this file. */\n'
      sed -E "${rewrites[@]}" "$src"
    } >"$dest.tmp"
    if grep -Eqn "(^|[^A-Za-z0-9_\$.])(from|import)[[:space:]]*[\"'][^./\"']" "$dest.tmp"; then
      grep -Eon "(from|import)[[:space:]]*[\"'][^./\"'][^\"']*[\"']" "$dest.tmp" | head -5 >&2
      rm -f "$dest.tmp"
      die "$name: ${pair%%=*} imports a bare module name (above); add an \"imports\" entry to the manifest"
    fi
  else
    cp "$src" "$dest.tmp"
  fi
  mv "$dest.tmp" "$dest"
done
echo "fetch-web-vendor: $name $version checked (sha256 $sha), ${#files[@]} file(s) in $out"
