#!/usr/bin/env bash
# Side by side: dist-bench (dist-over-tsn over UDP) and the same measurement between two
# real Erlang nodes over standard TCP distribution, in the same run.
# Usage: bench/compare.sh [PINGS] [SECONDS] [BULK_BYTES] [INTERVAL_MS]
#   (defaults 20000 10 8388608 0; INTERVAL_MS > 0 paces both pingers, one ping per
#   INTERVAL_MS after each reply, instead of back to back; use fewer PINGS then)
# Needs erlang-base (erl, erlc, epmd) and jq. Starts epmd on 127.0.0.1 when none runs and
# stops only the processes it started, by PID. Our side runs twice: as is, and with the node
# thread in SCHED_FIFO (--rt-priority 10) when the user may do that (root or RLIMIT_RTPRIO);
# then both again with busy polling (--busy-poll-us, BUSY_POLL_US=200 by default; 0 skips).
set -euo pipefail
pings="${1:-20000}"; secs="${2:-10}"; bulk="${3:-8388608}"; interval_ms="${4:-0}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet --release --locked -p dist-over-tsn --bin dist-bench --manifest-path "$root/Cargo.toml"
bench=("$root/target/release/dist-bench" --json --pings "$pings" --seconds "$secs"
    --bulk-bytes "$bulk" --interval-us "$((interval_ms * 1000))")
ours="$("${bench[@]}")"
ours_rt="$("${bench[@]}" --rt-priority 10 2>/dev/null || true)"
busy_us="${BUSY_POLL_US:-200}"
ours_bp=""; ours_rt_bp=""
if [ "$busy_us" -gt 0 ]; then
    ours_bp="$("${bench[@]}" --busy-poll-us "$busy_us")"
    ours_rt_bp="$("${bench[@]}" --busy-poll-us "$busy_us" --rt-priority 10 2>/dev/null || true)"
fi

erlc -o "$work" "$here/distbench.erl"
if ! epmd -names >/dev/null 2>&1; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd >/dev/null 2>&1 & pids+=($!)
    sleep 0.5
fi
common=(-setcookie distbench -noshell -pa "$work" -kernel inet_dist_use_interface '{127,0,0,1}')
erl -name dba@127.0.0.1 "${common[@]}" -eval 'distbench:start_peer()' >"$work/a.log" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do epmd -names 2>/dev/null | grep -q "name dba " && break; sleep 0.2; done
theirs="$(timeout 600 erl -name dbb@127.0.0.1 "${common[@]}" \
    -eval "distbench:run('dba@127.0.0.1', $pings, $bulk, $secs, $interval_ms), halt()." | grep '^{')"

row() { # label json
    jq -r --arg l "$1" '[$l,
        (.idle.p50_us|tostring), (.idle.p99_us|tostring), (.idle.p999_us|tostring),
        (.loaded.p50_us|tostring), (.loaded.p99_us|tostring), (.loaded.p999_us|tostring),
        (.bulk_mb_s|tostring)] | @tsv' <<<"$2"
}
echo "round trip of a small message (us), idle and while 8 MB messages stream over the same"
echo "node pair; loopback, $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), load average$(uptime | sed 's/.*load average//')"
[ "$interval_ms" -gt 0 ] && echo "pingers paced: one ping ${interval_ms} ms after each reply"
{
    printf 'impl\tidle p50\tidle p99\tidle p99.9\tloaded p50\tloaded p99\tloaded p99.9\tbulk MB/s\n'
    row "dist-over-tsn (UDP)" "$ours"
    [ -n "$ours_rt" ] && row "dist-over-tsn, SCHED_FIFO" "$ours_rt"
    [ -n "$ours_bp" ] && row "dist-over-tsn, busy poll" "$ours_bp"
    [ -n "$ours_rt_bp" ] && row "dist-over-tsn, FIFO+busy poll" "$ours_rt_bp"
    row "Erlang/OTP $(jq -r .otp <<<"$theirs") (TCP dist)" "$theirs"
} | awk -F'\t' '{ printf "%-30s %9s %9s %10s %10s %10s %12s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
