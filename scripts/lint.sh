#!/usr/bin/env bash
# Style and static checks, run by CTest (labels "lint"):
#   scripts/lint.sh format          clang-format, with the root .clang-format
#   scripts/lint.sh tidy BUILD_DIR  clang-tidy's default checks on the plugin's sources
#   scripts/lint.sh layers          no include runs back up the house (see LAYERS below)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
sources() { find Plugins tests/unit \( -name '*.cpp' -o -name '*.h' \) | sort; }

# The floors of the house, bottom first. A module may include the modules of
# the floors below its own, never one of its own floor or above: the ground
# floor (what every module speaks: identity and roles, the audit event and
# sink, Orthanc's REST and peer interfaces, the storage seam, clock, errors)
# includes no module at all. The composition root (Plugins/Bridge.*) and the
# SDK adapter (Plugins/OrthancAdapter) stand on top and may include anything.
LAYERS=(
  "Common"
  "Dicom"
  "Security Index Web Import"
  "Registry"
  "Audit Consent Federation System"
  "Share"
  "Orders"
  "Viewer Reports"
  "Router"
)

floor_of() {
  local i
  for i in "${!LAYERS[@]}"; do
    for module in ${LAYERS[$i]}; do
      if [ "$module" = "$1" ]; then echo "$i"; return; fi
    done
  done
  echo ""
}

case "${1:-}" in
  layers)
    failures=0
    for dir in Plugins/*/; do
      module=$(basename "$dir")
      [ "$module" = "OrthancAdapter" ] && continue
      floor=$(floor_of "$module")
      if [ -z "$floor" ]; then
        echo "layers: Plugins/$module is on no floor: add it to LAYERS in scripts/lint.sh" >&2
        failures=$((failures + 1))
        continue
      fi
      while IFS=: read -r file included; do
        target=${included%%/*}
        [ "$target" = "$module" ] && continue
        [ -d "Plugins/$target" ] || continue
        target_floor=$(floor_of "$target")
        if [ -z "$target_floor" ] || [ "$target_floor" -ge "$floor" ]; then
          echo "layers: $file includes $included: $target is not below $module" >&2
          failures=$((failures + 1))
        fi
      done < <(grep -rHoE '#include "[A-Za-z]+/[^"]+"' "$dir" | sed -E 's/#include "([^"]+)"/\1/')
    done
    if [ "$failures" -gt 0 ]; then exit 1; fi
    echo "layers: every include in Plugins/ points down ($(echo "${LAYERS[@]}" | wc -w) modules on ${#LAYERS[@]} floors)"
    ;;
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
    echo "usage: $0 format | tidy BUILD_DIR | layers" >&2
    exit 2
    ;;
esac
