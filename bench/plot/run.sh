#!/bin/sh
# Plot server ingest: 100 devices publishing rows at QoS 1 through our broker into the
# plot server, acknowledged once committed, and the plot server alone; fails if a row is
# lost or acknowledged before its commit.
# Usage: bench/plot/run.sh BUILD_DIR
set -eu
BUILD=${1:?usage: bench/plot/run.sh BUILD_DIR}
cmake --build "$BUILD" --target bench_plot_ingest >/dev/null
"$BUILD/bench/plot/bench_plot_ingest" 100 2000      # a thread per device
"$BUILD/bench/plot/bench_plot_ingest" 100 10000
"$BUILD/bench/plot/bench_plot_ingest" 100 10000 2    # the 100 devices on two threads
"$BUILD/bench/plot/bench_plot_ingest" 100 10000 2 200  # 200 rows in flight per device
