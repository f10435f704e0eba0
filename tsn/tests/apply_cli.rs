//! `tsn apply --dry-run` and `tsn show` from the command line, on the examples in
//! `configs/`, and the exit codes of `tsn apply`.

use std::path::PathBuf;
use std::process::{Command, Output};

use tsn_testbed::{Netns, VethPair, require_real};

fn tsn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsn"))
        .args(args)
        .output()
        .unwrap()
}

fn config(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(name)
        .display()
        .to_string()
}

fn schedule_file(dir: &tempfile::TempDir, plant: &str) -> String {
    let path = dir.path().join("schedule.json");
    let out = tsn(&["schedule", &config(plant), "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    path.display().to_string()
}

#[test]
fn dry_run_prints_one_taprio_per_scheduled_port_of_every_node() {
    let dir = tempfile::tempdir().unwrap();
    for plant_name in ["plant-line.yaml", "plant-ring.yaml"] {
        let sched_path = schedule_file(&dir, plant_name);
        let schedule = tsn::Schedule::load(&sched_path).unwrap();
        let plant = tsn::Plant::load(config(plant_name)).unwrap();
        for node in &plant.nodes {
            let ports: Vec<_> = schedule
                .ports
                .iter()
                .filter(|p| p.node == node.name)
                .collect();
            let out = tsn(&[
                "apply",
                &config(plant_name),
                &sched_path,
                "--node",
                &node.name,
                "--dry-run",
            ]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            if ports.is_empty() {
                assert_eq!(
                    out.status.code(),
                    Some(78),
                    "{plant_name} {}: {out:?}",
                    node.name
                );
                continue;
            }
            assert!(out.status.success(), "{plant_name} {}: {out:?}", node.name);
            let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("tc ")).collect();
            assert_eq!(lines.len(), ports.len(), "{stdout}");
            for p in ports {
                let line = lines
                    .iter()
                    .find(|l| {
                        l.starts_with(&format!(
                            "tc qdisc replace dev {} root handle 100: taprio ",
                            p.to
                        ))
                    })
                    .unwrap_or_else(|| panic!("no line for {}->{}:\n{stdout}", p.node, p.to));
                assert_eq!(
                    line.matches("sched-entry S ").count(),
                    p.gcl.len(),
                    "{line}"
                );
                assert!(line.ends_with("clockid CLOCK_TAI"), "{line}");
                let cycle: u64 = line
                    .split(" cycle-time ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|c| c.parse().ok())
                    .unwrap();
                assert_eq!(cycle, p.cycle_ns);
                let base: u64 = line
                    .split(" base-time ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|c| c.parse().ok())
                    .unwrap();
                assert_eq!(base % p.cycle_ns, 0, "base time aligned to the cycle");
            }
        }
    }
}

#[test]
fn dry_run_honours_ports_modes_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let sched = schedule_file(&dir, "plant-line.yaml");
    let out = tsn(&[
        "apply",
        &config("plant-line.yaml"),
        &sched,
        "--node",
        "sw1",
        "--port",
        "sw2=eth7",
        "--mode",
        "txtime-assist",
        "--txtime-delay",
        "100000",
        "--base-time",
        "0",
        "--dry-run",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("tc qdisc replace dev eth7 root handle 100: taprio "),
        "{stdout}"
    );
    assert!(stdout.contains(" base-time 0 "), "{stdout}");
    assert!(
        stdout.contains("flags 0x1 txtime-delay 100000 clockid CLOCK_TAI"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("tc qdisc replace dev eth7 parent 100:8 etf clockid CLOCK_TAI delta 100000"),
        "{stdout}"
    );

    let file = dir.path().join("ports.yaml");
    std::fs::write(&file, include_str!("../src/apply/example-interfaces.yaml")).unwrap();
    let out = tsn(&[
        "apply",
        "--file",
        file.to_str().unwrap(),
        "--mode",
        "full-offload",
        "--dry-run",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(
            "sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 flags 0x2"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("clockid"),
        "full offload has no clock id: {stdout}"
    );
}

#[test]
fn invalid_inputs_are_refused_before_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let sched = schedule_file(&dir, "plant-line.yaml");
    let out = tsn(&[
        "apply",
        &config("plant-line.yaml"),
        &sched,
        "--node",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let out = tsn(&[
        "apply",
        &config("plant-line.yaml"),
        &sched,
        "--node",
        "sw1",
        "--port",
        "ctrl=x",
    ]);
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no link to \"ctrl\""));
    let out = tsn(&["apply", "--file", "/nonexistent.yaml"]);
    assert_eq!(out.status.code(), Some(66), "{out:?}");
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "interfaces:\n  - device: x\n    traffic-classes: 2\n    cycle: 1ms\n    gate-control-list:\n      - { gates: [0], duration: 500us }\n").unwrap();
    let out = tsn(&["apply", "--file", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("interfaces[0].cycle") && err.contains("sum to 500000 ns"),
        "{err}"
    );
}

#[test]
fn show_reads_the_loopback_qdisc() {
    let out = tsn(&["show", "lo", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dev"], "lo");
    assert!(v["qdiscs"].is_array(), "{v}");
    let out = tsn(&["show", "no-such-dev0"]);
    assert_eq!(out.status.code(), Some(1));
}

/// On a kernel without sch_taprio (this host's), `tsn apply` exits 69 and says so; with it,
/// the schedule is applied. Either way, in a namespace of our own.
#[test]
fn apply_on_this_kernel_applies_or_exits_69() {
    if !require_real("apply_on_this_kernel_applies_or_exits_69") {
        return;
    }
    let ns = Netns::new("tsn-apply").unwrap();
    let _veth = VethPair::builder()
        .a_netns(&ns)
        .b_netns(&ns)
        .a_name("eth0")
        .b_name("peer0")
        .tx_queues(8)
        .up(true)
        .create()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ports.yaml");
    std::fs::write(&file, include_str!("../src/apply/example-interfaces.yaml")).unwrap();
    let out = ns
        .command(env!("CARGO_BIN_EXE_tsn"))
        .args([
            "apply",
            "--file",
            file.to_str().unwrap(),
            "--mode",
            "software",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let taprio_here = std::path::Path::new("/sys/module/sch_taprio").exists();
    if taprio_here {
        assert!(out.status.success(), "{err}");
    } else {
        assert_eq!(out.status.code(), Some(69), "{err}");
        assert!(err.contains("lacks the qdisc"), "{err}");
    }
}

#[test]
fn dry_run_prints_vlan_devices_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let sched = schedule_file(&dir, "plant-line.yaml");
    let base = [
        "apply",
        &config("plant-line.yaml"),
        &sched,
        "--node",
        "sw1",
        "--port",
        "sw2=eth7",
        "--dry-run",
    ];
    let out = tsn(&[&base[..], &["--vlan", "eth7.100"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    let vlan = lines
        .iter()
        .position(|l| {
            *l == "ip link add link eth7 name eth7.100 up type vlan id 100 egress-qos-map 0:0 \
                   1:1 2:2 3:3 4:4 5:5 6:6 7:7"
        })
        .unwrap_or_else(|| panic!("no ip line: {stdout}"));
    // After eth7's qdiscs, before the next port's.
    assert!(
        lines[vlan - 1].starts_with("tc qdisc replace dev eth7 "),
        "{stdout}"
    );
    // Not an interface being scheduled: refused as configuration.
    let out = tsn(&[&base[..], &["--vlan", "eth9.100"]].concat());
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("eth9 is not an interface being scheduled"),
        "{out:?}"
    );
    // Out of range: a usage error.
    let out = tsn(&[&base[..], &["--vlan", "eth7.4095"]].concat());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// On a kernel without 802.1Q (this host's), creating a VLAN device fails with the error
/// `tsn apply` maps to exit 69 and explains; with it, the device is there as asked. Either
/// way in a namespace of our own, over our own netlink code.
#[test]
fn vlan_on_this_kernel_is_created_or_reported_missing() {
    use std::os::fd::AsRawFd as _;
    if !require_real("vlan_on_this_kernel_is_created_or_reported_missing") {
        return;
    }
    let ns = Netns::new("tsn-vlan").unwrap();
    let _veth = VethPair::builder()
        .a_netns(&ns)
        .b_netns(&ns)
        .a_name("eth0")
        .b_name("peer0")
        .up(true)
        .create()
        .unwrap();
    let path = format!("/run/netns/{}", ns.name());
    let (result, link, lower) = std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        // SAFETY: setns on this thread only, with a namespace fd we hold open.
        assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        let mut rtnl = tsn_netlink::Rtnl::new().unwrap();
        let lower = tsn_netlink::ifindex("eth0").unwrap();
        let v = tsn::apply::VlanPlan::identity("eth0", 5);
        let r = rtnl.request("creating eth0.5", |seq| v.link(lower).create_message(seq));
        (r, rtnl.link_by_name("eth0.5").unwrap(), lower)
    })
    .join()
    .unwrap();
    match result {
        Ok(_) => {
            let link = link.expect("created but not found");
            assert_eq!(link.lower, Some(lower));
            assert_eq!(link.vlan().unwrap().id, Some(5));
            assert_eq!(link.vlan().unwrap().egress_pcp(), [0, 1, 2, 3, 4, 5, 6, 7]);
        }
        Err(e) => {
            assert!(e.is_unknown_link_kind(), "{e}");
            let hint = tsn::apply::txn::explain(&e).unwrap_or_default();
            assert!(hint.contains("802.1Q"), "{hint}");
            assert!(link.is_none());
        }
    }
}
