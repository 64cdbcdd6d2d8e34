#!/usr/bin/env bash
# Builds the Debian packages (debian/, debhelper) from a copy of the tree in OUT.
# dpkg-buildpackage writes its packages into the folder above the source and its build
# folders into the source itself; building a copy keeps both inside OUT, which is one of
# the ignored build folders. Usage: scripts/deb.sh [OUT]   (default: build-deb)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$here/build-deb}")
version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
src="$out/iotplot-$version"

rm -rf "$src" "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"
cd "$here"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and new files as they are on disk, without the ignored build folders.
    git ls-files -z --cached --others --exclude-standard |
        tar -c --null --ignore-failed-read -T - 2>/dev/null | tar -x -C "$src"
else
    tar -c --exclude='./build*' --exclude=node_modules . | tar -x -C "$src"
fi
# The console's npm packages (scripts/deps.sh installs them): the build embeds the
# console only when they are there.
if [ -d "$here/web/node_modules" ]; then
    ln -s "$here/web/node_modules" "$src/web/node_modules"
fi

cd "$src"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b
ls -1 "$out"/*.deb
