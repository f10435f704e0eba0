#!/usr/bin/env bash
# Fuzz smoke test of gptp-core's wire codec, seeded with the frames of the reference captures:
#   ./smoke.sh [SECONDS]   (see scripts/cargo-fuzz-smoke.sh)
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/cargo-fuzz-smoke.sh" "$here" "$@"
