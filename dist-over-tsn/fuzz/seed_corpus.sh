#!/usr/bin/env bash
# Writes one seed file per golden vector (both atom encodings) into corpus/term_roundtrip/.
# Usage: fuzz/seed_corpus.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpus/term_roundtrip"
mkdir -p "$out"
grep -v '^#' "$here/../tests/vectors/etf_vectors.txt" | while read -r key utf8 latin1; do
    # The 64 KiB string vectors only slow libFuzzer down (-max_len); keep the rest.
    [ "${#utf8}" -le 16384 ] || continue
    printf '%s' "$utf8" | xxd -r -p > "$out/$key"
    [ "$latin1" = "=" ] || printf '%s' "$latin1" | xxd -r -p > "$out/$key.latin1"
done
echo "seeded $(ls "$out" | wc -l) files in $out"
