#!/bin/sh
# Renderer benchmark, side by side with matplotlib (Agg) in one run:
#   (a) the classic sinusoid to PDF: whole process (best of 5) and warm in-process
#   (b) 1M points to PNG, warm
#   (c) 10M points to PNG: warm render time and the whole process's peak RSS
#   (d) loading: load.sh (iotplot plot of a million rows from files and the store)
# Usage: bench/render/run.sh BUILD_DIR   (needs /usr/bin/python3 with matplotlib, pandas)
set -eu
BUILD=${1:?usage: bench/render/run.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${IOTPLOT_PYTHON:-/usr/bin/python3}
cmake --build "$BUILD" --target bench_render >/dev/null
BIN="$BUILD/bench/render/bench_render"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

now() { date +%s.%N; }
# best wall time of $1 runs of the rest of the command line
best_of() {
  n=$1; shift; best=
  for _ in $(seq "$n"); do
    t0=$(now); "$@" >/dev/null; t1=$(now)
    best=$(echo "$t0 $t1 $best" | awk '{d=$2-$1; if ($3=="" || d<$3) print d; else print $3}')
  done
  echo "$best"
}
field() { awk -v k="$1" '$1==k {print $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a/b}'; }
peak_mb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

printf '%-42s %12s %12s %9s\n' "figure" "iotplot" "matplotlib" "ratio"
a_c=$(best_of 5 "$BIN" sinusoid "$OUT/a.pdf")
a_m=$(best_of 5 "$PY" "$HERE/mpl_bench.py" sinusoid "$OUT/a_mpl.pdf")
printf '%-42s %11.4fs %11.4fs %9s\n' "(a) sinusoid PDF, whole process" "$a_c" "$a_m" "$(ratio "$a_m" "$a_c")"
w_c=$("$BIN" sinusoid "$OUT/w.pdf" 20 | field render_s)
w_m=$("$PY" "$HERE/mpl_bench.py" sinusoid "$OUT/w_mpl.pdf" 10 | field render_s)
printf '%-42s %11.4fs %11.4fs %9s\n' "(a) sinusoid PDF, warm in-process" "$w_c" "$w_m" "$(ratio "$w_m" "$w_c")"
b_c=$("$BIN" points 1000000 "$OUT/b.png" 10 | field render_s)
b_m=$("$PY" "$HERE/mpl_bench.py" points 1000000 "$OUT/b_mpl.png" 3 | field render_s)
printf '%-42s %11.4fs %11.4fs %9s\n' "(b) 1M points PNG, warm" "$b_c" "$b_m" "$(ratio "$b_m" "$b_c")"
c_c=$("$BIN" points 10000000 "$OUT/c.png" 3 | field render_s)
c_m=$("$PY" "$HERE/mpl_bench.py" points 10000000 "$OUT/c_mpl.png" 1 | field render_s)
printf '%-42s %11.4fs %11.4fs %9s\n' "(c) 10M points PNG, warm render" "$c_c" "$c_m" "$(ratio "$c_m" "$c_c")"
r_c=$(peak_mb "$BIN" points 10000000 "$OUT/c.png")
r_m=$(peak_mb "$PY" "$HERE/mpl_bench.py" points 10000000 "$OUT/c_mpl.png")
printf '%-42s %10sMB %10sMB %9s\n' "(c) 10M points PNG, peak RSS (one render)" "$r_c" "$r_m" "$(ratio "$r_m" "$r_c")"
t_c=$(best_of 1 "$BIN" points 10000000 "$OUT/c.png")
t_m=$(best_of 1 "$PY" "$HERE/mpl_bench.py" points 10000000 "$OUT/c_mpl.png")
printf '%-42s %11.4fs %11.4fs %9s\n' "(c) 10M points PNG, whole process" "$t_c" "$t_m" "$(ratio "$t_m" "$t_c")"
# (d) loading: iotplot plot of a million rows from CSV, JSON, pickle and the store,
# against pandas / json / pickle with matplotlib
echo
"$HERE/load.sh" "$BUILD"
