#!/usr/bin/env bash
# Writes one seed file per golden vector (both atom encodings) into corpus/term_roundtrip/,
# and one carrier datagram of each kind into corpus/datagram/.
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

dg="$here/corpus/datagram"
mkdir -p "$dg"
# Hello, Challenge, Confirm, Data (first+last), Ack, Tick, Close (layouts in src/carrier/wire.rs).
h=d1570101
printf '%s' "${h}0000000000000000$(printf '11%.0s' $(seq 16))000000000000000701" | xxd -r -p > "$dg/hello"
printf '61' | xxd -r -p >> "$dg/hello"
printf '%s' "d15701020000000000000007$(printf '22%.0s' $(seq 16))0000000000000009$(printf '33%.0s' $(seq 32))0162" | xxd -r -p > "$dg/challenge"
printf '%s' "d15701030000000000000009$(printf '44%.0s' $(seq 32))" | xxd -r -p > "$dg/confirm"
printf '%s' "d15701040000000000000009020300000000000000000000000000000000000500000000" | xxd -r -p > "$dg/data"
printf 'hello' >> "$dg/data"
printf '%s' "d157010500000000000000090300000000000000000000010000000000000003000100000" | xxd -r -p > "$dg/ack"
printf '%s' "d15701060000000000000009" | xxd -r -p > "$dg/tick"
printf '%s' "d15701070000000000000009" | xxd -r -p > "$dg/close"
echo "seeded $(ls "$dg" | wc -l) files in $dg"
