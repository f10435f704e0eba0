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
# RUNS=N (default 1) repeats the whole measurement N times, alternating ours and OTP's, and
# prints the median of each column; "pings" is how many round trips the loaded phase made
# (a faster pinger also takes more CPU from its own bulk stream: see INTERVAL_MS).
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
busy_us="${BUSY_POLL_US:-200}"
runs="${RUNS:-1}"

erlc -o "$work" "$here/distbench.erl"
if ! epmd -names >/dev/null 2>&1; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd >/dev/null 2>&1 & pids+=($!)
    sleep 0.5
fi
common=(-setcookie distbench -noshell -pa "$work" -kernel inet_dist_use_interface '{127,0,0,1}')

# One line per measurement into $work/results: label TAB json.
record() { printf '%s\t%s\n' "$1" "$2" >>"$work/results"; }
otp_label=""
for run in $(seq 1 "$runs"); do
    record "dist-over-tsn (UDP)" "$("${bench[@]}")"
    if rt="$("${bench[@]}" --rt-priority 10 2>/dev/null)"; then
        record "dist-over-tsn, SCHED_FIFO" "$rt"
    fi
    if [ "$busy_us" -gt 0 ]; then
        record "dist-over-tsn, busy poll" "$("${bench[@]}" --busy-poll-us "$busy_us")"
        if rt="$("${bench[@]}" --busy-poll-us "$busy_us" --rt-priority 10 2>/dev/null)"; then
            record "dist-over-tsn, FIFO+busy poll" "$rt"
        fi
    fi
    erl -name "dba$run@127.0.0.1" "${common[@]}" -eval 'distbench:start_peer()' >"$work/a.log" 2>&1 &
    peer=$!; pids+=($peer)
    for _ in $(seq 1 50); do epmd -names 2>/dev/null | grep -q "name dba$run " && break; sleep 0.2; done
    theirs="$(timeout 600 erl -name "dbb$run@127.0.0.1" "${common[@]}" \
        -eval "distbench:run('dba$run@127.0.0.1', $pings, $bulk, $secs, $interval_ms), halt()." | grep '^{')"
    kill "$peer" 2>/dev/null || true
    otp_label="Erlang/OTP $(jq -r .otp <<<"$theirs") (TCP dist)"
    record "$otp_label" "$theirs"
done

echo "round trip of a small message (us), idle and while 8 MB messages stream over the same"
echo "node pair; loopback, $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), load average$(uptime | sed 's/.*load average//')"
[ "$interval_ms" -gt 0 ] && echo "pingers paced: one ping ${interval_ms} ms after each reply"
[ "$runs" -gt 1 ] && echo "median of $runs runs"
{
    printf 'impl\tidle p50\tidle p99\tidle p99.9\tloaded p50\tloaded p99\tloaded p99.9\tbulk MB/s\tpings\n'
    # Labels in first-seen order; per label and column, the median over the runs.
    cut -f1 "$work/results" | awk '!seen[$0]++' | while IFS= read -r label; do
        awk -F'\t' -v l="$label" '$1 == l { print $2 }' "$work/results" | jq -rs --arg l "$label" '
            def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                else (.[length / 2 - 1] + .[length / 2]) / 2 end;
            def col(f): [.[] | f] | median | . * 10 | round / 10 | tostring;
            [$l, col(.idle.p50_us), col(.idle.p99_us), col(.idle.p999_us), col(.loaded.p50_us),
             col(.loaded.p99_us), col(.loaded.p999_us), col(.bulk_mb_s), col(.loaded.n)] | @tsv'
    done
} | awk -F'\t' '{ printf "%-30s %9s %9s %10s %10s %10s %12s %9s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
