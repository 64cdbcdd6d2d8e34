#!/usr/bin/env bash
# Installs what building, testing and the demo need, and nothing that is already there.
# Idempotent: a second run only checks. Usage: scripts/deps.sh [build|test|bench|all]
set -euo pipefail

want=${1:-all}
here=$(cd "$(dirname "$0")/.." && pwd)

# What `make build` and `make demo` need, and nothing only the tests use. gcc only
# recommends the C library's headers, and recommends are not installed here: libc6-dev.
build_pkgs=(cmake make gcc libc6-dev pkg-config libuv1-dev libssl-dev libsqlite3-dev libcjson-dev
            libcairo2-dev libpango1.0-dev fonts-dejavu-core nodejs npm
            libsystemd-dev libxlsxwriter-dev libmatio-dev libavahi-client-dev)
# What `make test` adds: cmocka (unit tests), clang (the clang pass and libFuzzer), the
# peers of the interop tests, chromium (browser tests), the Cortex-M toolchain (make size).
# python3-openpyxl, python3-scipy and octave (GNU Octave, ~250 MB) open the .xlsx and
# .mat files the plot server writes, in tests/interop/plot. avahi-daemon and avahi-utils
# (avahi-browse) for the discovery tests, in tests/interop/discover. sqlite3 (the command)
# damages a series store on purpose in tests/unit/plot/test_readers.c.
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev mosquitto mosquitto-clients
           python3 python3-paho-mqtt poppler-utils gcc-arm-none-eabi libnewlib-arm-none-eabi
           binutils-arm-none-eabi openssl chromium debhelper dpkg-dev lintian systemd
           logrotate man-db python3-openpyxl python3-scipy octave prometheus
           avahi-daemon avahi-utils sqlite3)

pkgs=("${build_pkgs[@]}")
# The benchmarks run matplotlib (pandas reading the files) and mosquitto beside our programs.
bench_pkgs=(python3-matplotlib python3-pandas time)

case "$want" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench|all) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm may already be present without the Debian package (a node toolchain of its own).
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<< "${missing[*]:-}"

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The console's npm packages, pinned by the committed lockfile: the build embeds them.
if [ -f "$here/web/package-lock.json" ]; then
  if [ ! -d "$here/web/node_modules" ] || [ "$here/web/package-lock.json" -nt "$here/web/node_modules/.package-lock.json" ]; then
    (cd "$here/web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
# MQTT.js for the broker's interop tests (tests/interop/broker), run under node.
if [ "$want" != build ] && [ -f "$here/tests/node/package-lock.json" ]; then
  if [ ! -d "$here/tests/node/node_modules" ] || [ "$here/tests/node/package-lock.json" -nt "$here/tests/node/node_modules/.package-lock.json" ]; then
    (cd "$here/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
