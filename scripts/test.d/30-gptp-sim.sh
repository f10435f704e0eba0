#!/usr/bin/env bash
# gPTP in the simulator, as issue 3 promises it: a grandmaster, 31 time-aware relays and an
# end station, clocks within ±100 ppm, 60 simulated seconds. Every node must lock and the
# end station (hop 32) must stay within 1 µs of the grandmaster after lock.
set -euo pipefail
limit_ns=1000
json=$(cargo run --release --locked --quiet -p gptp --bin gptp-sim -- \
  --hops 32 --ppm 100 --seconds 60 --json)
summary=$(jq -r --argjson limit "$limit_ns" '
  (.nodes | map(select(.locked | not)) | map(.name)) as $unlocked
  | (.nodes | map(select(.hop == 32))) as $far
  | (.nodes | max_by(.max_abs_error_ns // 1e18)) as $worst
  | (.nodes | map(.lock_time_s // 1e18) | max) as $lock
  | {
      ok: (($unlocked | length) == 0 and ($far | length) == 1
           and ($far[0].max_abs_error_ns // 1e18) <= $limit),
      line: "gptp-sim 32 hops: gm \(.gm), \(.nodes | length) nodes, unlocked \($unlocked | length) \($unlocked), hop-32 max |error| \($far[0].max_abs_error_ns // "none") ns (limit \($limit)), worst \($worst.name) \($worst.max_abs_error_ns) ns, last lock \($lock) s"
    }
  | "\(.ok) \(.line)"' <<<"$json")
echo "${summary#* }"
if [[ $summary != true\ * ]]; then
  echo "gptp-sim: FAILED (a node did not lock or hop 32 exceeded ${limit_ns} ns)" >&2
  jq -c '.nodes[] | {name, hop, locked, lock_time_s, max_abs_error_ns}' <<<"$json" >&2
  exit 1
fi
