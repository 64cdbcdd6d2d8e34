#!/bin/sh
# Broker benchmark: our broker and mosquitto alternately on the same loads (fan-in, pairs,
# fan-out at QoS 0 and 1, latency at 5,000 msg/s, 10,000 idle connections); prints each
# figure with the ratio. Usage: bench/broker/run.sh BUILD_DIR
set -eu
BUILD=${1:?usage: bench/broker/run.sh BUILD_DIR}
cmake --build "$BUILD" --target ipb_loadgen iotplot >/dev/null
exec python3 "$(dirname "$0")/bench.py" "$BUILD" --seconds 3 --rounds 2
