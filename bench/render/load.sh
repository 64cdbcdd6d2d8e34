#!/bin/sh
# Loading benchmark: `iotplot plot FILE -o OUT.png` against matplotlib with the usual
# Python reader of the same file (pandas read_csv / read_json / read_sql, json.load,
# pickle.load), whole process each, for one series of ROWS rows (time, value).
# The runs are interleaved (ours, theirs, ours...) so that a busy neighbour slows both;
# the best and the slowest of ROUNDS runs are printed, and the ratio of the bests.
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

now() { date +%s.%N; }
# seconds of one run of the command line
once() { t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t0 $t1" | awk '{printf "%.4f", $2-$1}'; }
# best and worst of a list of seconds
best() { tr ' ' '\n' | sort -n | head -1; }
worst() { tr ' ' '\n' | sort -n | tail -1; }

printf '%-34s %20s %20s %8s\n' "input ($ROWS rows, best of $ROUNDS)" "iotplot (slowest)" \
  "Python (slowest)" "ratio"
row() { # label, python kind, python path, iotplot arguments...
  label=$1 kind=$2 src=$3; shift 3
  ours="" theirs=""
  for _ in $(seq "$ROUNDS"); do
    ours="$ours $(once "$BIN" plot "$@" -o "$DATA/ours.png")"
    theirs="$theirs $(once "$PY" "$HERE/load_bench.py" "$kind" "$src" "$DATA/theirs.png")"
  done
  bo=$(echo $ours | best) wo=$(echo $ours | worst)
  bt=$(echo $theirs | best) wt=$(echo $theirs | worst)
  printf '%-34s %9.4fs (%.3fs) %9.4fs (%.3fs) %7.1fx\n' "$label" "$bo" "$wo" "$bt" "$wt" \
    "$(echo "$bt $bo" | awk '{print $1/$2}')"
}
row "CSV, pandas.read_csv" csv "$DATA/signal.csv" "$DATA/signal.csv"
row "JSON columns, pandas.read_json" json "$DATA/signal.json" "$DATA/signal.json"
row "JSON rows, json.load" rows.json "$DATA/rows.json" "$DATA/rows.json"
row "pickle, pickle.load" pkl "$DATA/signal.pkl" "$DATA/signal.pkl"
row "store (--db), pandas.read_sql" db "$DATA" --db "$DATA" --session bench --series signal
