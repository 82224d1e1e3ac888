#!/usr/bin/env bash
# Style and static checks, run by CTest (labels "lint"):
#   scripts/lint.sh format          clang-format, with the root .clang-format
#   scripts/lint.sh tidy BUILD_DIR  clang-tidy's default checks on the plugin's sources
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
sources() { find Plugins tests/unit \( -name '*.cpp' -o -name '*.h' \) | sort; }

case "${1:-}" in
  format)
    sources | xargs clang-format --dry-run --Werror
    echo "clang-format: $(sources | wc -l) files formatted as .clang-format says"
    ;;
  tidy)
    build=${2:?usage: lint.sh tidy BUILD_DIR}
    output=$(run-clang-tidy -p "$build" -j "$(nproc)" -quiet "$ROOT/Plugins/.*\.cpp$" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
    findings=$(printf '%s\n' "$output" | grep -E '(warning|error):' || true)
    if [ -n "$findings" ]; then
      echo "clang-tidy found:" >&2
      printf '%s\n' "$output" >&2
      exit 1
    fi
    echo "clang-tidy: no findings in $(printf '%s\n' "$output" | grep -c '^clang-tidy') files"
    ;;
  *)
    echo "usage: $0 format | tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
