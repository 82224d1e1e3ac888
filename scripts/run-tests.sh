#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration)
# with CTest. Screenshots and logs land in build/test-artifacts/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HB_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-dependencies.sh"
"$ROOT/scripts/build.sh"
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
