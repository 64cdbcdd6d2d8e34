#!/usr/bin/env bash
# Regenerates the codec seed corpora from the unit tests' hand-written vectors.
# Usage: fuzz/make_corpus.sh BUILD_DIR   (a build with the codec tests built)
#
# The vector tests write every vector they check into $IPMT_CORPUS_DIR, prefixed by the
# version-selecting byte (0 = 3.1, 1 = 3.1.1, 2 = 5.0). From those:
#   corpus/fuzz_roundtrip: every valid vector;
#   corpus/fuzz_decode:    half of them, a quarter of the malformed ones, and a few
#                          multi-packet streams per version.
# corpus/fuzz_encode holds byte strings that fill packet structs, not packets: it is
# generated once (one per version and type) and not touched here.
set -euo pipefail
build=${1:?usage: fuzz/make_corpus.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in test_codec_vectors test_codec_vectors_v5 test_codec_malformed; do
  IPMT_CORPUS_DIR=$tmp "$build/tests/unit/codec/$t" >/dev/null 2>&1
done

rt=$here/corpus/fuzz_roundtrip
dec=$here/corpus/fuzz_decode
rm -rf "$rt" "$dec"
mkdir -p "$rt" "$dec"
cp "$tmp"/vec-* "$tmp"/dec-* "$rt/"
ls "$tmp" | grep -E '^(vec|dec)-' | awk 'NR % 2 == 1' | while read -r f; do cp "$tmp/$f" "$dec/"; done
ls "$tmp" | grep '^bad-' | awk 'NR % 4 == 1' | while read -r f; do cp "$tmp/$f" "$dec/"; done

# Streams: the selector byte once, then several whole packets of one version back to back.
for v in 3 4 5; do
  mapfile -t files < <(ls "$tmp" | grep "^vec-v$v-")
  for part in 0 1; do
    out=$dec/stream-v$v-$part
    head -c 1 "$tmp/${files[0]}" > "$out"
    for ((i = part; i < ${#files[@]}; i += 2)); do
      tail -c +2 "$tmp/${files[$i]}" >> "$out"
    done
  done
done
echo "fuzz_roundtrip: $(ls "$rt" | wc -l) seeds, fuzz_decode: $(ls "$dec" | wc -l) seeds"
