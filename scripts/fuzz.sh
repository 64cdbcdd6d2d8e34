#!/usr/bin/env bash
# Runs every libFuzzer binary named fuzz_* in BUILD_DIR for SECONDS each.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS]        (make fuzz-smoke)
#
# Each target works on a temporary copy of fuzz/corpus/<target>/ (the repository's seeds
# are never modified) with fuzz/<target>.dict if there is one, else fuzz/mqtt.dict.
# Crash, leak and timeout inputs are kept in BUILD_DIR/fuzz-artifacts/<target>/ and their
# paths printed; the script exits non-zero if any target failed.
set -uo pipefail

build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
here=$(cd "$(dirname "$0")/.." && pwd)

# fuzz-replay/ holds the tests' seed replayers (fuzz/replay.cmake), not libFuzzer binaries.
mapfile -t bins < <(find "$build" -type f -name 'fuzz_*' -perm -u+x -not -path '*/fuzz-replay/*' \
                      2>/dev/null | sort)
if [ ${#bins[@]} -eq 0 ]; then
  echo "fuzz: no fuzz_* binaries in $build (make fuzz builds them)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
summary=()

for bin in "${bins[@]}"; do
  name=$(basename "$bin")
  corpus=$work/corpus/$name
  mkdir -p "$corpus"
  if [ -d "$here/fuzz/corpus/$name" ]; then
    cp -R "$here/fuzz/corpus/$name/." "$corpus/"
  fi
  dict=()
  if [ -f "$here/fuzz/$name.dict" ]; then
    dict=(-dict="$here/fuzz/$name.dict")
  elif [ -f "$here/fuzz/mqtt.dict" ]; then
    dict=(-dict="$here/fuzz/mqtt.dict")
  fi
  artifacts=$(cd "$build" && pwd)/fuzz-artifacts/$name/
  mkdir -p "$artifacts"
  log=$work/$name.log

  echo "fuzz: $name for ${secs}s ($(ls "$corpus" | wc -l) seeds)"
  "$bin" "$corpus" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
  summary+=("$name: ${execs:-?} executions, ${cov:-cov: ?}, exit $rc")
  if [ $rc -ne 0 ]; then
    failed+=("$name")
    tail -n 40 "$log" >&2
    grep -h 'Test unit written to' "$log" | sed 's/^.*Test unit written to /fuzz: crash input: /' >&2
  fi
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#bins[@]} targets ran clean"
