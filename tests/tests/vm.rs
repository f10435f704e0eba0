//! Debian's kernel under qemu, behind `TSN_REAL_TESTS=1`.
//!
//! - `taprio_schedule_reads_back_in_vm`: applies a taprio schedule on an 8-queue veth in the
//!   guest and checks on the host, from `tc -j` output, that what the kernel reports equals
//!   what was applied.
//! - `kernel_only_tests_pass_in_vm`: builds this crate's `netns` and `bridge` test binaries,
//!   boots them in the guest and runs them with `--include-ignored`, so the tests our own kernel
//!   cannot run (802.1Q devices, bridge VLAN filtering) run there. This is the pattern for
//!   other crates' kernel tests (taprio over netlink in `tsn`).

use std::time::Duration;

use serde_json::Value;
use tsn_testbed::{Payload, VmRun, build_test_binaries, require_vm};

/// One `sched-entry S <gatemask> <interval>`. Intervals stay >= 10 us: software taprio with
/// microsecond intervals can livelock an emulated guest (timer storm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    gate_mask: u32,
    interval_ns: u64,
}

/// What we apply, and therefore what must come back.
struct Schedule {
    num_tc: u64,
    map: [u64; 16],
    /// (count, offset) per traffic class.
    queues: [(u64, u64); 3],
    base_time: u64,
    entries: [Entry; 3],
}

const SCHEDULE: Schedule = Schedule {
    num_tc: 3,
    map: [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    queues: [(1, 0), (1, 1), (2, 2)],
    base_time: 1_000_000_000,
    entries: [
        Entry {
            gate_mask: 0x01,
            interval_ns: 300_000,
        },
        Entry {
            gate_mask: 0x02,
            interval_ns: 300_000,
        },
        Entry {
            gate_mask: 0x04,
            interval_ns: 400_000,
        },
    ],
};

impl Schedule {
    fn tc_command(&self, dev: &str) -> String {
        let map: Vec<String> = self.map.iter().map(u64::to_string).collect();
        let queues: Vec<String> = self
            .queues
            .iter()
            .map(|(c, o)| format!("{c}@{o}"))
            .collect();
        let entries: Vec<String> = self
            .entries
            .iter()
            .map(|e| format!("sched-entry S {:02x} {}", e.gate_mask, e.interval_ns))
            .collect();
        format!(
            "tc qdisc replace dev {dev} parent root handle 100 taprio num_tc {} map {} queues {} \
             base-time {} {} clockid CLOCK_TAI",
            self.num_tc,
            map.join(" "),
            queues.join(" "),
            self.base_time,
            entries.join(" ")
        )
    }
}

/// The value after `KEY=` on the line that starts with it.
fn tagged_line<'a>(output: &'a str, key: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= line in the guest output:\n{output}"))
}

fn u64_at(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer at {path}: {v}"))
}

#[test]
fn taprio_schedule_reads_back_in_vm() {
    if !require_vm("taprio_schedule_reads_back_in_vm") {
        return;
    }
    let payload = Payload::new().unwrap();
    let script = format!(
        "set -eu
ip link add va numtxqueues 8 numrxqueues 8 type veth peer name vb numtxqueues 8 numrxqueues 8
ip link set va up
ip link set vb up
{}
echo \"LINK_JSON=$(ip -j -d link show dev va)\"
echo \"QDISC_JSON=$(tc -j qdisc show dev va)\"
tc qdisc show dev va
",
        SCHEDULE.tc_command("va")
    );
    payload.write_script("taprio.sh", &script).unwrap();
    let out = VmRun::new(payload.path())
        .timeout(Duration::from_secs(300))
        .run("./taprio.sh")
        .unwrap();
    out.assert_success();
    eprintln!(
        "VM run: {:.1} s total, qemu {:.1} s",
        out.wall.as_secs_f64(),
        out.qemu_wall().unwrap_or_default().as_secs_f64()
    );

    let link: Value = serde_json::from_str(tagged_line(&out.output, "LINK_JSON")).unwrap();
    assert_eq!(u64_at(&link, "/0/num_tx_queues"), 8, "{link}");
    assert_eq!(
        link.pointer("/0/qdisc").and_then(Value::as_str),
        Some("taprio"),
        "{link}"
    );

    let qdiscs: Value = serde_json::from_str(tagged_line(&out.output, "QDISC_JSON")).unwrap();
    let taprio = qdiscs
        .as_array()
        .and_then(|a| a.iter().find(|q| q["kind"] == "taprio"))
        .unwrap_or_else(|| panic!("no taprio qdisc in {qdiscs}"));
    assert_eq!(taprio["handle"], "100:", "{taprio}");
    assert_eq!(taprio["root"], true, "{taprio}");
    let opts = &taprio["options"];
    assert_eq!(u64_at(opts, "/tc"), SCHEDULE.num_tc, "{opts}");
    let map: Vec<u64> = opts["map"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(map, SCHEDULE.map, "{opts}");
    let queues: Vec<(u64, u64)> = opts["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (u64_at(q, "/count"), u64_at(q, "/offset")))
        .collect();
    assert_eq!(queues, SCHEDULE.queues, "{opts}");
    assert_eq!(opts["clockid"], "TAI", "{opts}");
    assert_eq!(u64_at(opts, "/base_time"), SCHEDULE.base_time, "{opts}");
    let cycle: u64 = SCHEDULE.entries.iter().map(|e| e.interval_ns).sum();
    assert_eq!(u64_at(opts, "/cycle_time"), cycle, "{opts}");

    let entries: Vec<Entry> = opts["schedule"]
        .as_array()
        .unwrap_or_else(|| panic!("no schedule in {opts}"))
        .iter()
        .enumerate()
        .map(|(i, e)| {
            assert_eq!(u64_at(e, "/index"), i as u64, "{e}");
            assert_eq!(e["cmd"], "S", "{e}");
            let mask = e["gatemask"]
                .as_str()
                .and_then(|m| m.strip_prefix("0x"))
                .unwrap();
            Entry {
                gate_mask: u32::from_str_radix(mask, 16).unwrap(),
                interval_ns: u64_at(e, "/interval"),
            }
        })
        .collect();
    assert_eq!(entries, SCHEDULE.entries);

    // One pfifo child per tx queue.
    let children = qdiscs
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["kind"] == "pfifo")
        .count();
    assert_eq!(children, 8, "{qdiscs}");
}

#[test]
fn kernel_only_tests_pass_in_vm() {
    if !require_vm("kernel_only_tests_pass_in_vm") {
        return;
    }
    let bins =
        build_test_binaries("tsn-testbed", &["--test", "netns", "--test", "bridge"]).unwrap();
    let payload = Payload::new().unwrap();
    for b in &bins {
        payload.copy_in(&b.path, &b.staged_name()).unwrap();
    }
    let mut names: Vec<String> = bins.iter().map(|b| b.staged_name()).collect();
    names.sort();
    assert_eq!(names, ["bridge-test", "netns-test"]);

    let cmd = VmRun::run_all_command(&bins, "--include-ignored --test-threads=1");
    let out = VmRun::new(payload.path())
        .timeout(Duration::from_secs(400))
        .env("RUST_BACKTRACE", "1")
        .run(&cmd)
        .unwrap();
    out.assert_success();
    eprintln!(
        "VM run: {:.1} s total, qemu {:.1} s",
        out.wall.as_secs_f64(),
        out.qemu_wall().unwrap_or_default().as_secs_f64()
    );
    for test in [
        "vlan_device_carries_tagged_traffic",
        "bridge_vlan_filtering_separates_vlans",
    ] {
        assert!(
            out.output.contains(&format!("test {test} ... ok")),
            "{test} did not pass in the VM:\n{out}"
        );
    }
    assert!(
        !out.output.contains("skipped"),
        "a test skipped inside the VM:\n{out}"
    );
}
