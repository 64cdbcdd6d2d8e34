#!/bin/sh
# Every benchmark, one after the other: each runs our program and its peer (mosquitto,
# matplotlib) on the same load in the same run and prints the ratio.
# Usage: bench/run.sh BUILD_DIR   (`make bench` builds and installs what they need)
set -eu
BUILD=${1:?usage: bench/run.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$HERE"/*/run.sh; do
    [ -x "$script" ] || continue
    name=$(basename "$(dirname "$script")")
    printf '\n== %s (%s)\n' "$name" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    "$script" "$BUILD" || { echo "bench $name failed"; status=1; }
done
exit $status
