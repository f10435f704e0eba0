//! Namespaces and veth pairs on the test machine's kernel, behind `TSN_REAL_TESTS=1`.
//!
//! The `#[ignore]`d tests need kernel features the development/CI kernel lacks (802.1Q); they
//! run inside Debian's kernel from `vm.rs` with `--include-ignored`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tsn_testbed::{Error, Netns, VethPair, require_real, run_checked};

/// Pings with a few retries: a fresh veth can take a moment to pass traffic (and a TCG guest
/// is slow).
fn ping(from: &Netns, addr: &str) {
    let mut last = None;
    for _ in 0..3 {
        match from.ping(addr) {
            Ok(_) => return,
            Err(e) => last = Some(e),
        }
    }
    panic!(
        "ping {addr} from {} failed: {}",
        from.name(),
        last.map(|e| e.to_string()).unwrap()
    );
}

#[test]
fn veth_pair_with_4_tx_queues_joins_two_namespaces() {
    if !require_real("veth_pair_with_4_tx_queues_joins_two_namespaces") {
        return;
    }
    let (ns1, ns2) = (
        Netns::new("tb-veth").unwrap(),
        Netns::new("tb-veth").unwrap(),
    );
    let names = (ns1.name().to_owned(), ns2.name().to_owned());
    assert_ne!(names.0, names.1);
    {
        let veth = VethPair::builder()
            .a_netns(&ns1)
            .a_name("eth0")
            .a_addr("10.99.0.1/24")
            .b_netns(&ns2)
            .b_name("eth0")
            .b_addr("10.99.0.2/24")
            .tx_queues(4)
            .create()
            .unwrap();
        assert_eq!(veth.a().netns(), Some(names.0.as_str()));
        assert_eq!(veth.a().num_tx_queues().unwrap(), 4);
        assert_eq!(veth.b().num_tx_queues().unwrap(), 4);
        let shown = ns1.ip(&["-d", "link", "show", "dev", "eth0"]).unwrap();
        assert!(shown.contains("numtxqueues 4"), "{shown}");
        assert!(shown.contains(",UP,LOWER_UP>"), "{shown}");
        ping(&ns1, "10.99.0.2");
        ping(&ns2, "10.99.0.1");
        // Dropping the pair deletes both ends; the namespaces stay.
        drop(veth);
        assert!(ns1.ip(&["link", "show", "dev", "eth0"]).is_err());
        assert!(ns2.ip(&["link", "show", "dev", "eth0"]).is_err());
    }
    assert!(Netns::exists(&names.0));
    drop((ns1, ns2));
    assert!(!Netns::exists(&names.0), "{} left behind", names.0);
    assert!(!Netns::exists(&names.1), "{} left behind", names.1);
}

#[test]
fn namespaces_are_removed_when_a_test_panics() {
    if !require_real("namespaces_are_removed_when_a_test_panics") {
        return;
    }
    let created = Mutex::new(Vec::<String>::new());
    let result = catch_unwind(AssertUnwindSafe(|| {
        let ns1 = Netns::new("tb-panic").unwrap();
        let ns2 = Netns::new("tb-panic").unwrap();
        let _veth = VethPair::builder()
            .a_netns(&ns1)
            .b_netns(&ns2)
            .tx_queues(2)
            .create()
            .unwrap();
        let host_side = VethPair::builder().a_netns(&ns1).create().unwrap();
        created.lock().unwrap().extend([
            ns1.name().to_owned(),
            ns2.name().to_owned(),
            host_side.b().name().to_owned(),
        ]);
        panic!("deliberate panic with two namespaces and two veth pairs alive");
    }));
    assert!(result.is_err(), "the closure must have panicked");
    let created = created.into_inner().unwrap();
    assert_eq!(created.len(), 3);
    for ns in &created[..2] {
        assert!(!Netns::exists(ns), "netns {ns} survived the panic");
    }
    // The veth end that lived in the test's own namespace went too.
    let host_end = tsn_testbed::Link::new(&created[2], None);
    assert!(
        !host_end.exists(),
        "veth end {} survived the panic",
        created[2]
    );
}

#[test]
fn commands_run_inside_and_errors_name_the_command() {
    if !require_real("commands_run_inside_and_errors_name_the_command") {
        return;
    }
    let ns = Netns::new("tb-exec").unwrap();
    // Only loopback lives in a fresh namespace.
    let links = ns.exec(&["ip", "-o", "link", "show"]).unwrap();
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains("lo:") && links.contains("UP"), "{links}");
    assert_eq!(ns.sh("echo $((6 * 7))").unwrap().trim(), "42");

    let err = ns.sh("echo 'no such qdisc' >&2; exit 3").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Command { .. }), "{msg}");
    assert!(
        msg.contains(&format!("ip netns exec {} bash -c", ns.name())),
        "{msg}"
    );
    assert!(
        msg.contains("no such qdisc") && msg.contains("exit status: 3"),
        "{msg}"
    );

    let err = ns
        .ip(&["link", "show", "dev", "nonexistent0"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("ip -n {} link show dev nonexistent0", ns.name())),
        "{err}"
    );
}

#[test]
fn spawned_processes_are_killed_before_their_namespace_goes() {
    if !require_real("spawned_processes_are_killed_before_their_namespace_goes") {
        return;
    }
    let ns = Netns::new("tb-spawn").unwrap();
    // Asked from outside: run inside, `ip netns pids` would list itself.
    let pids = || run_checked(Command::new("ip").args(["netns", "pids", ns.name()])).unwrap();
    let daemon = ns.spawn(&["sleep", "600"]).unwrap();
    // `ip netns exec` enters the namespace after the fork: wait until the child is in it.
    let pid = daemon.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = pids().stdout;
        if before.split_whitespace().any(|p| p == pid) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never entered {}: {before}",
            ns.name()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(daemon);
    let after = pids().stdout;
    assert_eq!(after.trim(), "", "still running in {}: {after}", ns.name());
}

#[test]
fn parallel_namespaces_get_distinct_names() {
    if !require_real("parallel_namespaces_get_distinct_names") {
        return;
    }
    let names: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let ns = Netns::new("tb-par").unwrap();
                    let _veth = VethPair::builder().a_netns(&ns).create().unwrap();
                    ns.name().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{names:?}");
    assert!(names.iter().all(|n| !Netns::exists(n)), "{names:?}");
}

#[test]
#[ignore = "needs the Debian kernel (8021q): runs inside the VM, see vm.rs"]
fn vlan_device_carries_tagged_traffic() {
    if !require_real("vlan_device_carries_tagged_traffic") {
        return;
    }
    let (ns1, ns2) = (
        Netns::new("tb-vlan").unwrap(),
        Netns::new("tb-vlan").unwrap(),
    );
    let _veth = VethPair::builder()
        .a_netns(&ns1)
        .a_name("eth0")
        .b_netns(&ns2)
        .b_name("eth0")
        .create()
        .unwrap();
    for (ns, addr) in [(&ns1, "10.98.5.1/24"), (&ns2, "10.98.5.2/24")] {
        ns.ip(&[
            "link", "add", "link", "eth0", "name", "eth0.5", "type", "vlan", "id", "5",
        ])
        .unwrap();
        ns.ip(&[
            "link",
            "set",
            "eth0.5",
            "type",
            "vlan",
            "egress-qos-map",
            "0:0",
            "6:6",
        ])
        .unwrap();
        ns.ip(&["addr", "add", addr, "dev", "eth0.5"]).unwrap();
        ns.ip(&["link", "set", "eth0.5", "up"]).unwrap();
    }
    let shown = ns1.ip(&["-d", "link", "show", "dev", "eth0.5"]).unwrap();
    assert!(shown.contains("vlan protocol 802.1Q id 5"), "{shown}");
    assert!(shown.contains("egress-qos-map { 6:6 }"), "{shown}");
    ping(&ns1, "10.98.5.2");
}
