//! A bridge in a namespace with two veth ports, behind `TSN_REAL_TESTS=1`.
//!
//! `bridge_vlan_filtering_separates_vlans` needs `CONFIG_BRIDGE_VLAN_FILTERING`, which the
//! development/CI kernel lacks: it is `#[ignore]`d here and run inside the VM from `vm.rs`.

use std::time::Duration;

use tsn_testbed::{Bridge, Netns, VethPair, require_real};

/// Two hosts, each in its own namespace, wired to `br0` in a third ("switch") namespace.
struct Star {
    // Drop order is field order: ports and bridge go before the namespaces.
    _ports: [VethPair; 2],
    br: Bridge,
    hosts: [Netns; 2],
    switch: Netns,
}

fn star(vlan_filtering: bool) -> Star {
    let switch = Netns::new("tb-sw").unwrap();
    let hosts = [Netns::new("tb-h").unwrap(), Netns::new("tb-h").unwrap()];
    let br = Bridge::builder()
        .netns(&switch)
        .name("br0")
        .vlan_filtering(vlan_filtering)
        .create()
        .unwrap();
    let ports = [0, 1].map(|i| {
        let port = VethPair::builder()
            .a_netns(&switch)
            .a_name(&format!("p{}", i + 1))
            .b_netns(&hosts[i])
            .b_name("eth0")
            .b_addr(&format!("10.97.0.{}/24", i + 1))
            .create()
            .unwrap();
        br.add_port(port.a()).unwrap();
        port
    });
    Star {
        _ports: ports,
        br,
        hosts,
        switch,
    }
}

fn ping_ok(from: &Netns, addr: &str) -> bool {
    (0..3).any(|_| from.ping(addr).is_ok())
}

#[test]
fn bridge_forwards_between_two_veth_ports() {
    if !require_real("bridge_forwards_between_two_veth_ports") {
        return;
    }
    let s = star(false);
    let switch_name = s.switch.name().to_owned();
    assert_eq!(s.br.ports().unwrap(), ["p1", "p2"]);
    s.br.link()
        .wait_operstate("UP", Duration::from_secs(10))
        .unwrap();
    assert!(
        ping_ok(&s.hosts[0], "10.97.0.2"),
        "h1 cannot reach h2 through br0"
    );
    // The bridge learned both hosts' MACs on their ports.
    let fdb = s.br.bridge_cmd(&["fdb", "show", "br", "br0"]).unwrap();
    for port in ["p1", "p2"] {
        assert!(
            fdb.lines()
                .any(|l| l.contains(&format!("dev {port}")) && !l.contains("permanent")),
            "no learned entry on {port}:\n{fdb}"
        );
    }
    drop(s);
    assert!(!Netns::exists(&switch_name));
}

#[test]
fn bridge_drop_releases_ports() {
    if !require_real("bridge_drop_releases_ports") {
        return;
    }
    let sw = Netns::new("tb-sw").unwrap();
    let port = VethPair::builder()
        .a_netns(&sw)
        .b_netns(&sw)
        .create()
        .unwrap();
    let br = Bridge::builder().netns(&sw).create().unwrap();
    br.add_port(port.a()).unwrap();
    let br_link = br.link().clone();
    assert!(br_link.exists());
    drop(br);
    assert!(!br_link.exists());
    assert!(port.a().exists(), "the port itself must survive its bridge");
    let shown = port
        .a()
        .ip(&["link", "show", "dev", port.a().name()])
        .unwrap();
    assert!(!shown.contains("master"), "{shown}");
}

#[test]
#[ignore = "needs the Debian kernel (BRIDGE_VLAN_FILTERING): runs inside the VM, see vm.rs"]
fn bridge_vlan_filtering_separates_vlans() {
    if !require_real("bridge_vlan_filtering_separates_vlans") {
        return;
    }
    let s = star(true);
    for port in ["p1", "p2"] {
        s.br.bridge_cmd(&["vlan", "add", "dev", port, "vid", "10", "pvid", "untagged"])
            .unwrap();
        s.br.bridge_cmd(&["vlan", "del", "dev", port, "vid", "1"])
            .unwrap();
    }
    let vlans = s.br.bridge_cmd(&["-j", "vlan", "show"]).unwrap();
    assert!(vlans.contains("\"vlan\":10"), "{vlans}");
    assert!(ping_ok(&s.hosts[0], "10.97.0.2"), "same VLAN 10 must pass");

    s.br.bridge_cmd(&["vlan", "del", "dev", "p2", "vid", "10"])
        .unwrap();
    s.br.bridge_cmd(&["vlan", "add", "dev", "p2", "vid", "20", "pvid", "untagged"])
        .unwrap();
    assert!(
        s.hosts[0].ping("10.97.0.2").is_err(),
        "VLAN 10 -> 20 must be filtered"
    );
}
