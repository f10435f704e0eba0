#!/usr/bin/env bash
# Fuzz smoke test of switch-ctl-core's IS-IS wire codec, seeded with the PDUs of the FRR
# captures:
#   ./smoke.sh [SECONDS]   (see scripts/cargo-fuzz-smoke.sh)
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/cargo-fuzz-smoke.sh" "$here" "$@"
