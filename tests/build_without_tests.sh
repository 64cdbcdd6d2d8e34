#!/usr/bin/env bash
# The README's first command on a machine without the test packages: `make demo` into a
# scratch build folder while pkg-config cannot see cmocka, then the demo's files checked.
# Fails if the default build configures the tests again (or needs anything else that
# only `scripts/deps.sh test` installs and pkg-config finds).
# Usage: tests/build_without_tests.sh [C_COMPILER]          (ctest: build_demo_without_tests)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every .pc file of the system's search path but cmocka's, in one folder (first one wins,
# as in pkg-config's own order).
mkdir "$work/pc"
IFS=: read -r -a pcdirs <<< "$(pkg-config --variable pc_path pkg-config)"
for d in "${pcdirs[@]}"; do
  [ -d "$d" ] || continue
  for pc in "$d"/*.pc; do
    [ -e "$pc" ] || continue
    name=$(basename "$pc")
    [ "$name" = cmocka.pc ] && continue
    [ -e "$work/pc/$name" ] || ln -s "$pc" "$work/pc/$name"
  done
done
export PKG_CONFIG_LIBDIR=$work/pc
unset PKG_CONFIG_PATH
if pkg-config --exists cmocka; then
  echo "build_without_tests: cmocka is still visible to pkg-config" >&2
  exit 1
fi

[ -n "${1:-}" ] && export CC=$1
make -C "$src" --no-print-directory demo BUILD="$work/build" JOBS=2 >"$work/make.log" 2>&1 || {
  tail -n 40 "$work/make.log" >&2
  echo "build_without_tests: make demo failed without cmocka" >&2
  exit 1
}
# The demo prints one path per file it wrote: a figure in each format and the data.
mapfile -t files < <(grep -E '^/' "$work/make.log" || true)
for ext in pdf png pkl; do
  found=0
  for f in "${files[@]}"; do
    if [[ "$f" == *.$ext ]]; then
      [ -s "$f" ] || { echo "build_without_tests: $f printed but empty or missing" >&2; exit 1; }
      found=1
    fi
  done
  if [ $found -eq 0 ]; then
    cat "$work/make.log" >&2
    echo "build_without_tests: the demo printed no .$ext file" >&2
    exit 1
  fi
done
# The folder is the demo's own mkdtemp under /tmp (make demo passes no -d).
out=$(dirname "${files[0]}")
[[ "$out" == /tmp/iotplot-demo-* ]] && rm -rf "$out"
echo "build_without_tests: make demo built and ran without cmocka: ${files[*]}"
