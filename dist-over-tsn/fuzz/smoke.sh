#!/usr/bin/env bash
# Fuzz smoke run: every target for N seconds (default 30), seeded from the golden vectors.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on our stable toolchain RUSTC_BOOTSTRAP=1
# stands in for nightly. Usage: fuzz/smoke.sh [seconds]
set -euo pipefail
secs="${1:-30}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
"$here/seed_corpus.sh"
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
    echo "== $target for ${secs}s"
    cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -max_len=65536 \
        -rss_limit_mb=2048
done
