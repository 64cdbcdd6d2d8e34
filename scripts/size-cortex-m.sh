#!/usr/bin/env bash
# The microcontroller build: the codec and the client core for a Cortex-M4 with newlib,
# no malloc, no POSIX (ports/ipm_port_config.h). Prints the text of each object, then links
# the example firmware (ports/example/device.c, which uses the whole client API) with
# --gc-sections and prints what of the codec and the client it carries. Fails if anything
# fails to compile, includes a POSIX header, or if that linked codec + client text exceeds
# the budget (12 KiB for MQTT 3.1.1 + 5.0 with QoS 0-2).
# Usage: scripts/size-cortex-m.sh [budget-bytes]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
budget=${1:-12288}
cc=arm-none-eabi-gcc
for tool in "$cc" arm-none-eabi-ar arm-none-eabi-size python3; do
  command -v "$tool" >/dev/null || { echo "size: $tool missing (scripts/deps.sh test installs it)" >&2; exit 1; }
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

flags=(-std=c11 -Os -mcpu=cortex-m4 -mthumb -DNDEBUG -ffunction-sections -fdata-sections
       -include "$here/ports/ipm_port_config.h" -Wall -Wextra -Werror -Wno-unused-parameter
       -I"$here/include")
# reason.c (names of reason codes, for people) is not part of the device build.
sources=("$here"/src/codec/*.c "$here/src/client/client.c" "$here/src/client/io.c"
         "$here/src/client/store.c")

objs=()
for src in "${sources[@]}"; do
  obj="$out/$(basename "$(dirname "$src")")_$(basename "${src%.c}").o"
  # -H lists every header used: none may be POSIX's or the host's.
  "$cc" "${flags[@]}" -H -c "$src" -o "$obj" 2>"$obj.headers" || { cat "$obj.headers" >&2; exit 1; }
  if grep -E '(unistd|pthread|poll|netdb|socket|fcntl|signal|sys/time|sys/types)\.h' "$obj.headers" >&2; then
    echo "size: $src includes a POSIX header" >&2
    exit 1
  fi
  objs+=("$obj")
done
lib="$out/libiotplot-mcu.a"
arm-none-eabi-ar rcs "$lib" "${objs[@]}"

echo "Cortex-M4 (-Os -mthumb, newlib, no malloc): every function of the codec and client core"
arm-none-eabi-size -t "$lib" | sed "s|$lib|lib|; s| (ex lib)||"

"$cc" "${flags[@]}" -I"$here/ports/example" "$here/ports/example/device.c" \
  "$here/ports/example/modem_stub.c" "$lib" -specs=nosys.specs -Wl,--gc-sections \
  -Wl,-Map="$out/fw.map" -o "$out/fw.elf"

# Text (code and constants) each object of the library contributes to the firmware.
python3 - "$out/fw.map" "$budget" <<'PY'
import collections, re, sys
mapfile, budget = sys.argv[1], int(sys.argv[2])
text = open(mapfile).read().split("Linker script and memory map", 1)[1]
sizes, section = collections.Counter(), None
for line in text.splitlines():
    m = re.match(r"^ (\.\S+)(.*)$", line)
    rest = line
    if m:
        section, rest = m.group(1), m.group(2)
    m = re.match(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+\S*libiotplot-mcu\.a\((\S+)\)", rest)
    if m and section and section.startswith((".text", ".rodata")):
        sizes[m.group(2)] += int(m.group(1), 16)
print("\nLinked into the example firmware (whole client API; unused codec paths dropped):")
for name, size in sorted(sizes.items()):
    print(f"  {size:6d}  {name}")
total = sum(sizes.values())
print(f"  {total:6d}  codec + client")
if total > budget:
    print(f"size: FAIL: {total} bytes of text, budget {budget}", file=sys.stderr)
    sys.exit(1)
print(f"size: ok: {total} bytes of text (budget {budget})")
PY

# The device-side plot client, reported beside the MQTT budget (not part of it).
plot_objs=()
for src in "$here/src/plotclient/plotclient.c" "$here/src/plotclient/json_out.c"; do
  obj="$out/plot_$(basename "${src%.c}").o"
  "$cc" "${flags[@]}" -c "$src" -o "$obj"
  plot_objs+=("$obj")
done
echo
echo "Plot client (src/plotclient/plotclient.c, json_out.c), text in bytes, not in the budget:"
arm-none-eabi-size -t "${plot_objs[@]}" | awk 'END { print "  " $1 }'
