#!/usr/bin/env bash
# Fuzz smoke run of every cargo-fuzz target in the tree (parse -> emit -> parse properties of
# our wire codecs), FUZZ_SECONDS each (default 20). The same properties also run over the seed
# corpora and thousands of fixed mutations in plain `cargo test`; this adds coverage guidance.
# Installs cargo-fuzz on first use (about a minute); RUSTC_BOOTSTRAP=1 stands in for nightly.
set -euo pipefail
secs=${FUZZ_SECONDS:-20}
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
for smoke in gptp/core/fuzz/smoke.sh dist-over-tsn/fuzz/smoke.sh switch-ctl/core/fuzz/smoke.sh; do
  echo "== $smoke ($secs s per target)"
  bash "$smoke" "$secs"
done
