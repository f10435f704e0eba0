#!/usr/bin/env bash
# Fuzz smoke test of one cargo-fuzz directory: runs each of its targets for N seconds
# (default 30), starting from its seed corpus.
#
#   scripts/cargo-fuzz-smoke.sh FUZZ_DIR [SECONDS]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On our stable toolchain cargo-fuzz's
# `-Z` flags need RUSTC_BOOTSTRAP=1, set here. SANITIZER=none skips AddressSanitizer (our
# code is `unsafe`-free, so ASan mostly guards libFuzzer itself); default: address.
# New inputs go to a scratch corpus, so the committed seed corpus stays as it is. A failure
# leaves the crashing input under FUZZ_DIR/artifacts/<target>/ and exits non-zero.
set -euo pipefail

dir="${1:?usage: cargo-fuzz-smoke.sh FUZZ_DIR [SECONDS]}"
seconds="${2:-30}"
sanitizer="${SANITIZER:-address}"
cd "$dir"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for src in fuzz_targets/*.rs; do
    target="$(basename "$src" .rs)"
    mkdir -p "$scratch/$target" "corpus/$target"
    echo "== fuzzing $target for ${seconds}s (sanitizer: $sanitizer)"
    cargo fuzz run --sanitizer "$sanitizer" "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1
done
