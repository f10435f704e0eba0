#!/usr/bin/env bash
# tsnkit against `tsn schedule`, on instances from tsnkit's own generator.
#
# Makes a virtualenv (default ~/.cache/tsn-tsnkit-venv, or $TSNKIT_VENV), installs tsnkit
# and z3-solver from PyPI, builds our release binary, then runs tsn/bench/tsnkit_bench.py:
# each instance is solved by every tsnkit method in $METHODS (each under a time limit of
# $TSNKIT_TIMEOUT seconds) and by `tsn import-tsnkit` + `tsn schedule`; each of our
# schedules is checked with `tsn verify`. Prints one table.
#
#   bash tsn/bench/tsnkit.sh                       # default instance set
#   METHODS="ls smt_wa" TSNKIT_TIMEOUT=60 bash tsn/bench/tsnkit.sh
#
# tsnkit is run as an external program and never linked or copied.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TSNKIT_VENV:-$HOME/.cache/tsn-tsnkit-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import tsnkit, z3" 2>/dev/null; then
    "$venv/bin/pip" install --quiet tsnkit z3-solver
fi
(cd "$root" && cargo build --release --quiet -p tsn --bin tsn)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/tsnkit_bench.py" \
    --tsn "$root/target/release/tsn" \
    --work "$work" \
    --methods ${METHODS:-ls dt smt_wa at} \
    --timeout "${TSNKIT_TIMEOUT:-120}" \
    "$@"
