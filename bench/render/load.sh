#!/bin/sh
# Loading benchmark: `iotplot plot FILE -o OUT.png` against matplotlib with the usual
# Python reader of the same file (pandas read_csv / read_json / read_sql, json.load,
# pickle.load), whole process each, for one series of ROWS rows (time, value).
# The runs are interleaved (ours, theirs, ours...) so that a busy neighbour slows both;
# the best and the slowest of ROUNDS runs are printed, the ratio of the bests, and the
# same for the CPU time of each process (load_time.py).
# Usage: bench/render/load.sh BUILD_DIR [ROWS [ROUNDS]]
#   (needs /usr/bin/python3 with matplotlib and pandas, Debian python3-matplotlib and
#   python3-pandas)
set -eu
BUILD=${1:?usage: bench/render/load.sh BUILD_DIR [ROWS [ROUNDS]]}
ROWS=${2:-1000000}
ROUNDS=${3:-7}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${IOTPLOT_PYTHON:-/usr/bin/python3}
cmake --build "$BUILD" --target iotplot >/dev/null
BIN="$BUILD/src/cli/iotplot"
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
"$PY" "$HERE/load_data.py" "$ROWS" "$DATA"

"$PY" "$HERE/load_time.py" "$ROUNDS" "$BIN" "$DATA" "$HERE/load_bench.py" "$PY"
