#!/usr/bin/env bash
# Runs gptpd and ptp4l as slaves of the same master in one run and prints both offset
# distributions side by side.
#
#   [SWAP=1] gptp/daemon/scripts/compare-ptp4l.sh [SECONDS]   (root; needs linuxptp, iproute2, jq)
#
# Topology: namespace cmpm holds the master, a two-port gptpd on a virtual clock (offset 0,
# so it reads host TAI); veth pairs lead to namespace cmpg (gptpd slave, virtual clock started
# 20 us off and 30 ppm fast) and cmpp (ptp4l slave, gPTP profile, software timestamps,
# free_running so it never touches the host clock).
#
# Columns: gptpd "true error" = slave virtual clock minus master virtual clock (both read
# against the one host clock); gptpd "reported" = the offset its servo sees; ptp4l "reported"
# = its `master offset` (free running, so this is its true offset plus measurement error).
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
WARMUP=12
top=$(cd "$(dirname "$0")/../../.." && pwd)
bin=$top/target/release
[ -x "$bin/gptpd" ] && [ -x "$bin/gptpctl" ] || (cd "$top" && cargo build --release -p gptpd >&2)
for p in ptp4l ip jq; do command -v $p >/dev/null || { echo "missing $p" >&2; exit 69; }; done
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces, raw sockets)" >&2; exit 77; }

run=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in cmpm cmpg cmpp; do ip netns del $n 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT

for n in cmpm cmpg cmpp; do ip netns add $n; ip -n $n link set lo up; done
ip link add m0 netns cmpm type veth peer name g0 netns cmpg
ip link add m1 netns cmpm type veth peer name p0 netns cmpp
for x in "cmpm m0" "cmpm m1" "cmpg g0" "cmpp p0"; do
  set -- $x
  ip netns exec $1 sysctl -q net.ipv6.conf.$2.disable_ipv6=1
  ip -n $1 link set $2 up
done

common=(--clock virtual --timestamping software --neighbor-prop-delay-thresh 100us --log-level warn)
# The master sends each Sync on its ports in this order; the first goes out "cold" (see the
# report: software TX->RX delay on veth is ~1.7 us after idle, ~0.3 us right after other
# work), which biases whichever slave sits on it. SWAP=1 puts ptp4l first.
ports=(-i m0 -i m1)
[ "${SWAP:-0}" = 1 ] && ports=(-i m1 -i m0)
ip netns exec cmpm "$bin/gptpd" "${ports[@]}" --priority1 100 --socket "$run/m.sock" "${common[@]}" 2>"$run/m.log" &
pids+=($!)
ip netns exec cmpg "$bin/gptpd" -i g0 --socket "$run/g.sock" "${common[@]}" \
  --virtual-offset-ns 20000 --virtual-freq-ppb 30000 2>"$run/g.log" &
pids+=($!)
{ cat "$top/gptp/daemon/tests/ptp4l-gptp.cfg"
  printf 'priority1 248\nslaveOnly 1\nsummary_interval -3\n'
} >"$run/p.cfg"
ip netns exec cmpp ptp4l -f "$run/p.cfg" -i p0 -m --uds_address="$run/p.uds" >"$run/p.log" 2>&1 &
pids+=($!)

sleep $WARMUP
t_end=$((SECONDS + SECONDS_TO_RUN))
: >"$run/g.txt"
while [ $SECONDS -lt $t_end ]; do
  m=$("$bin/gptpctl" --socket "$run/m.sock" status --json | jq .virtual_offset_from_host_ns)
  "$bin/gptpctl" --socket "$run/g.sock" status --json |
    jq -r --argjson m "$m" '"\(.virtual_offset_from_host_ns - $m) \(.offset_from_master_ns // "nan")"' >>"$run/g.txt"
  sleep 0.1
done
gm=$("$bin/gptpctl" --socket "$run/m.sock" status --json | jq -r .clock_identity)
# ptp4l lines after it selected our master, minus the warm-up.
awk -v gm="$gm" '/selected best master clock/ {sel = index($0, gm) > 0}
  sel && /master offset/ {for (i = 1; i <= NF; i++) if ($i == "offset") print $(i+1)}' "$run/p.log" >"$run/p.txt"

stats() { # column file -> n mean sd p99|x| max|x|  (plain awk + sort: no gawk needed)
  local v
  v=$(awk -v c="$1" '$c != "nan" {print $c}' "$2")
  [ -n "$v" ] || { echo "0 - - - -"; return; }
  local ms abs
  ms=$(awk '{s += $1; ss += $1 * $1; n++} END {m = s / n; d = ss / n - m * m;
    printf "%d %.0f %.0f", n, m, (d > 0 ? sqrt(d) : 0)}' <<<"$v")
  abs=$(awk '{print ($1 < 0 ? -$1 : $1)}' <<<"$v" | sort -g)
  local n k
  n=$(wc -l <<<"$abs")
  k=$(awk -v n="$n" 'BEGIN {printf "%d", 0.99 * (n - 1) + 1.5}')
  printf '%s %.0f %.0f\n' "$ms" "$(sed -n "${k}p" <<<"$abs")" "$(tail -n1 <<<"$abs")"
}
read -r gn gm_ gs gp gx < <(stats 1 "$run/g.txt")
read -r rn rm rs rp rx < <(stats 2 "$run/g.txt")
read -r pn pm ps pp px < <(stats 1 "$run/p.txt")
printf '%ss after %ss warm-up, software timestamps over veth, one gptpd master (2 ports, %s first)\n' \
  "$SECONDS_TO_RUN" "$WARMUP" "$([ "${SWAP:-0}" = 1 ] && echo ptp4l || echo gptpd)"
printf '%-28s %8s %8s %8s %8s %8s\n' "ns" n mean sd "p99|x|" "max|x|"
printf '%-28s %8s %8s %8s %8s %8s\n' "gptpd slave, true error" "$gn" "$gm_" "$gs" "$gp" "$gx"
printf '%-28s %8s %8s %8s %8s %8s\n' "gptpd slave, reported" "$rn" "$rm" "$rs" "$rp" "$rx"
printf '%-28s %8s %8s %8s %8s %8s\n' "ptp4l slave, reported" "$pn" "$pm" "$ps" "$pp" "$px"
