#!/usr/bin/env bash
# Captures the rtnetlink requests iproute2's `tc` sends for the qdiscs tsn-netlink encodes,
# as hex, into captures.txt next to this script, and those `ip link` sends for VLAN devices
# into links.txt. The requests are captured with strace even
# when the running kernel rejects them (this host's kernel has no taprio/mqprio/etf/cbs), and
# `tc` runs in a fresh network namespace so nothing on the host can change: `lo` there has
# ifindex 1. The sequence number (bytes 8..12) is zeroed so the file is reproducible.
#
# Usage (root, strace and iproute2 installed): tsn/netlink/tests/vectors/capture.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/captures.txt"

capture() { # name, tc args...
    local name=$1
    shift
    local hex
    # tc itself fails here (unknown qdisc kind): only the request matters.
    hex=$({ unshare -n strace -f -e trace=sendmsg -e write=3 -s 0 tc "$@" 2>&1 || true; } |
        grep -E '^ \| [0-9a-f]{5} ' | cut -c11-58 | tr -d ' \n')
    if [ -z "$hex" ]; then
        echo "capture.sh: tc sent nothing for $name: tc $*" >&2
        exit 1
    fi
    hex="${hex:0:16}00000000${hex:24}"
    printf '[%s]\ncmd = tc %s\nhex = %s\n\n' "$name" "$*" "$hex" >>"$out"
}

{
    echo "# rtnetlink requests sent by $(tc -V), captured by capture.sh (strace -e write=3)."
    echo "# One block per case: the tc command line and the whole netlink message in hex, seq zeroed."
    echo
} >"$out"

map_3tc="2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2"
map_2tc="1 1 0 0 1 1 1 1 1 1 1 1 1 1 1 1"

capture taprio-software qdisc replace dev lo parent root handle 100 taprio num_tc 3 \
    map $map_3tc queues 1@0 1@1 2@2 base-time 1000000000 \
    sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 clockid CLOCK_TAI
capture taprio-txtime-assist qdisc replace dev lo parent root handle 100 taprio num_tc 2 \
    map $map_2tc queues 1@0 1@1 base-time 0 sched-entry S 01 100000 sched-entry S 02 100000 \
    flags 0x1 txtime-delay 200000 cycle-time 200000 cycle-time-extension 10000 clockid CLOCK_TAI
capture taprio-full-offload qdisc replace dev lo parent root handle 100 taprio num_tc 2 \
    map $map_2tc queues 1@0 1@1 base-time 0 sched-entry S 01 100000 sched-entry S 02 100000 \
    flags 0x2
capture taprio-change-schedule-only qdisc replace dev lo parent root taprio \
    sched-entry S 03 50000 base-time 5
capture mqprio-software qdisc replace dev lo root handle 100 mqprio num_tc 3 \
    map $map_3tc queues 1@0 1@1 2@2 hw 0
capture mqprio-channel-shaper qdisc replace dev lo root handle 100 mqprio num_tc 2 \
    map 1 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 queues 1@0 1@1 hw 1 mode channel shaper bw_rlimit \
    min_rate 1Mbit 2Mbit max_rate 5Mbit 10Mbit
capture etf-all-flags qdisc replace dev lo parent 100:1 etf clockid CLOCK_TAI delta 300000 \
    offload deadline_mode skip_sock_check
capture etf-plain qdisc replace dev lo parent 100:2 etf clockid CLOCK_TAI delta 200000
capture cbs-software qdisc replace dev lo parent 100:4 cbs idleslope 98688 sendslope -901312 \
    hicredit 153 locredit -1389 offload 0
capture qdisc-delete-root qdisc del dev lo root
# `ip` first probes the kernel and resolves names with other requests: keep the last one
# written to its main socket (fd 3).
capture_ip() { # name, ip args...
    local name=$1
    shift
    local hex
    hex=$({ unshare -n strace -e trace=sendmsg,sendto -e write=3 -s 0 ip "$@" 2>&1 || true; } |
        awk '/^(sendmsg|sendto)\(3,/ { hex = "" } /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] / { hex = hex substr($0, 11, 48) }
             END { print hex }' | tr -d ' \n')
    if [ -z "$hex" ]; then
        echo "capture.sh: ip sent nothing for $name: ip $*" >&2
        exit 1
    fi
    hex="${hex:0:16}00000000${hex:24}"
    printf '[%s]\ncmd = ip %s\nhex = %s\n\n' "$name" "$*" "$hex" >>"$links"
}

links="$here/links.txt"
{
    echo "# rtnetlink requests sent by $(ip -V), captured by capture.sh (strace -e write=3)."
    echo "# One block per case: the ip command line and the whole netlink message in hex, seq zeroed."
    echo "# This host's kernel has no 802.1Q: it refuses them, only the requests matter."
    echo
} >"$links"
identity="0:0 1:1 2:2 3:3 4:4 5:5 6:6 7:7"
capture_ip vlan-add-up link add link lo name lo.5 up type vlan id 5 egress-qos-map $identity
capture_ip vlan-add-down link add link lo name lo.4094 type vlan id 4094 egress-qos-map \
    0:0 1:0 2:3 3:3 4:5 5:5 6:7 7:7
capture_ip vlan-set-egress link set dev lo type vlan egress-qos-map $identity
capture_ip link-delete link del dev lo
echo "capture.sh: wrote $out and $links"
