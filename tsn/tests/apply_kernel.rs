//! taprio, mqprio, etf and cbs on a real kernel, over our own netlink code. These tests are
//! `#[ignore]`d: the host's kernel lacks the qdiscs, so `vm_apply.rs` boots Debian's kernel
//! and runs them there with `--include-ignored` (they also run on any Linux host with the
//! modules, as root, with `TSN_IN_VM=1`).

use std::process::Command;

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use tsn::apply::txn::{self, Target};
use tsn::apply::{Mode, PortPlan, ROOT_MAJOR};
use tsn_netlink::{
    CLOCK_TAI, CbsOptions, EtfOptions, MqprioOptions, MqprioQopt, Qdisc, QdiscOptions, Rtnl,
    TC_H_ROOT, TaprioOptions, handle,
};

fn in_vm(what: &str) -> bool {
    if !tsn_testbed::in_vm() {
        eprintln!("skipped {what}: runs inside the kernel VM (tests/vm_apply.rs)");
        return false;
    }
    tsn_testbed::require_real(what)
}

fn sh(script: &str) -> String {
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A veth pair `a`/`b` with `queues` tx queues, both up; removed when dropped.
struct Veth(String);

impl Veth {
    fn new(a: &str, queues: u32) -> Self {
        sh(&format!(
            "ip link add {a} numtxqueues {queues} numrxqueues {queues} type veth peer name {a}-p \
             numtxqueues {queues} numrxqueues {queues} && \
             for d in {a} {a}-p; do echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6 || true; done && \
             ip link set {a} up && ip link set {a}-p up"
        ));
        Self(a.into())
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

fn root(rtnl: &mut Rtnl, dev: &str) -> Qdisc {
    let ifindex = tsn_netlink::ifindex(dev).unwrap();
    rtnl.qdiscs(ifindex)
        .unwrap()
        .into_iter()
        .find(|q| q.parent == TC_H_ROOT)
        .unwrap()
}

fn random_plan(dev: &str, n: usize, seed: u64) -> PortPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // >= 10 us per entry: shorter software intervals can livelock an emulated guest.
    let entries: Vec<(u8, u64)> = (0..n)
        .map(|_| {
            (
                rng.random_range(0..=255u8),
                rng.random_range(10..=100u64) * 1000,
            )
        })
        .collect();
    PortPlan {
        dev: dev.into(),
        label: format!("random {n} entries"),
        num_tc: 8,
        prio_tc_map: [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0],
        cycle_ns: entries.iter().map(|e| e.1).sum(),
        entries,
        max_sdu: Vec::new(),
        vlans: Vec::new(),
    }
}

/// What the kernel reports must be what we asked for (index and dump-only fields aside).
fn assert_same_schedule(got: &TaprioOptions, want: &TaprioOptions) {
    assert_eq!(got.priomap, want.priomap);
    assert_eq!(got.clockid, want.clockid);
    assert_eq!(got.flags.unwrap_or(0), want.flags.unwrap_or(0));
    let (s, w) = (got.effective_sched(), want.effective_sched());
    assert_eq!(s.base_time, w.base_time);
    assert_eq!(s.cycle_time, w.cycle_time);
    assert_eq!(s.entries.len(), w.entries.len());
    for (i, (g, w)) in s.entries.iter().zip(&w.entries).enumerate() {
        assert_eq!(g.index, Some(i as u32));
        assert_eq!(
            (g.cmd, g.gate_mask, g.interval_ns),
            (w.cmd, w.gate_mask, w.interval_ns),
            "entry {i}"
        );
    }
}

fn base() -> i64 {
    // Cycle-aligned time 0 is valid for any cycle and lies in the past: the kernel starts
    // at the next cycle boundary.
    0
}

#[test]
#[ignore = "needs sch_taprio: runs in the kernel VM"]
fn large_schedule_applies_reads_back_and_replaces() {
    if !in_vm("large_schedule_applies_reads_back_and_replaces") {
        return;
    }
    let _v = Veth::new("tl0", 8);
    let mut rtnl = Rtnl::new().unwrap();
    let first = random_plan("tl0", 240, 1);
    first.check(Mode::Software).unwrap();
    let t = Target {
        dev: "tl0".into(),
        qdiscs: first.qdiscs(0, Mode::Software, base()),
        vlans: Vec::new(),
    };
    txn::apply(&mut rtnl, &[t]).unwrap();
    let q = root(&mut rtnl, "tl0");
    assert_eq!(
        (q.kind.as_str(), q.handle),
        ("taprio", handle(ROOT_MAJOR, 0))
    );
    assert_same_schedule(q.taprio().unwrap(), &first.taprio(Mode::Software, base()));

    // Same map: replaced in place, the new schedule becomes the admin schedule.
    let second = random_plan("tl0", 300, 2);
    let t = Target {
        dev: "tl0".into(),
        qdiscs: second.qdiscs(0, Mode::Software, base()),
        vlans: Vec::new(),
    };
    txn::apply(&mut rtnl, &[t]).unwrap();
    assert_same_schedule(
        root(&mut rtnl, "tl0").taprio().unwrap(),
        &second.taprio(Mode::Software, base()),
    );

    // Another map: deleted and created again.
    let mut third = random_plan("tl0", 50, 3);
    third.num_tc = 4;
    third.prio_tc_map = [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for e in &mut third.entries {
        e.0 &= 0x0f;
    }
    let t = Target {
        dev: "tl0".into(),
        qdiscs: third.qdiscs(0, Mode::Software, base()),
        vlans: Vec::new(),
    };
    txn::apply(&mut rtnl, &[t]).unwrap();
    assert_same_schedule(
        root(&mut rtnl, "tl0").taprio().unwrap(),
        &third.taprio(Mode::Software, base()),
    );
}

#[test]
#[ignore = "needs sch_taprio: runs in the kernel VM"]
fn second_interface_failing_rolls_back_the_first() {
    if !in_vm("second_interface_failing_rolls_back_the_first") {
        return;
    }
    let _a = Veth::new("tr0", 8);
    let _b = Veth::new("tr1", 1); // single queue: taprio refuses it
    let mut rtnl = Rtnl::new().unwrap();
    let old = random_plan("tr0", 20, 4);
    let t = Target {
        dev: "tr0".into(),
        qdiscs: old.qdiscs(0, Mode::Software, base()),
        vlans: Vec::new(),
    };
    txn::apply(&mut rtnl, &[t]).unwrap();
    let before_a = root(&mut rtnl, "tr0");
    let before_b = root(&mut rtnl, "tr1");

    let new = random_plan("x", 30, 5);
    let targets: Vec<Target> = ["tr0", "tr1"]
        .iter()
        .map(|d| Target {
            dev: (*d).into(),
            qdiscs: new.qdiscs(0, Mode::Software, base()),
            vlans: Vec::new(),
        })
        .collect();
    let err = txn::apply(&mut rtnl, &targets).unwrap_err();
    eprintln!("expected failure: {err}");
    assert_eq!(err.dev, "tr1");
    assert!(
        matches!(err.source, tsn_netlink::Error::Kernel { .. }),
        "{err}"
    );
    assert!(err.hint.is_some(), "{err}");
    assert!(err.rollback_failures.is_empty(), "{err}");
    assert_eq!(err.restored, ["tr1", "tr0"]);
    let after_a = root(&mut rtnl, "tr0");
    assert_same_schedule(after_a.taprio().unwrap(), before_a.taprio().unwrap());
    assert_eq!(root(&mut rtnl, "tr1").kind, before_b.kind);
}

#[test]
#[ignore = "needs sch_mqprio, sch_etf, sch_cbs: runs in the kernel VM"]
fn mqprio_etf_and_cbs_round_trip() {
    if !in_vm("mqprio_etf_and_cbs_round_trip") {
        return;
    }
    let _v = Veth::new("tm0", 8);
    let mut rtnl = Rtnl::new().unwrap();
    let ifindex = tsn_netlink::ifindex("tm0").unwrap();
    let qopt = MqprioQopt::new(
        [0, 1, 2, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0],
        &[(1, 0), (1, 1), (2, 2), (4, 4)],
    )
    .unwrap();
    let mq = Qdisc::new(
        ifindex,
        TC_H_ROOT,
        handle(0x100, 0),
        QdiscOptions::Mqprio(MqprioOptions::new(qopt.clone())),
    );
    let etf = Qdisc::new(
        ifindex,
        handle(0x100, 1),
        handle(0x201, 0),
        QdiscOptions::Etf(EtfOptions {
            delta_ns: 200_000,
            clockid: CLOCK_TAI,
            flags: tsn_netlink::etf_flags::DEADLINE_MODE | tsn_netlink::etf_flags::SKIP_SOCK_CHECK,
            unknown: Vec::new(),
        }),
    );
    let cbs = Qdisc::new(
        ifindex,
        handle(0x100, 2),
        handle(0x202, 0),
        QdiscOptions::Cbs(CbsOptions {
            offload: 0,
            hicredit: 153,
            locredit: -1389,
            idleslope: 98_688,
            sendslope: -901_312,
            unknown: Vec::new(),
        }),
    );
    for q in [&mq, &etf, &cbs] {
        rtnl.request("test", |seq| q.replace_message(seq)).unwrap();
    }
    let got = rtnl.qdiscs(ifindex).unwrap();
    let find = |h: u32| {
        got.iter()
            .find(|q| q.handle == h)
            .unwrap_or_else(|| panic!("no {h:x} in {got:?}"))
    };
    match &find(handle(0x100, 0)).options {
        Some(QdiscOptions::Mqprio(m)) => assert_eq!(m.qopt, qopt),
        o => panic!("mqprio options {o:?}"),
    }
    assert_eq!(find(handle(0x201, 0)).options, etf.options);
    assert_eq!(find(handle(0x202, 0)).parent, handle(0x100, 2));
    assert_eq!(find(handle(0x202, 0)).options, cbs.options);
}

/// Sends `n` broadcast frames at skb priority `prio` from a packet socket on `dev`.
fn send_frames(dev: &str, prio: u32, n: usize) {
    let errors = try_send_frames(dev, prio, n);
    assert!(errors.is_empty(), "sendto: {errors:?}");
}

/// Like [`send_frames`]; the error of every frame the kernel refused.
fn try_send_frames(dev: &str, prio: u32, n: usize) -> Vec<std::io::Error> {
    let mut errors = Vec::new();
    let ifindex = tsn_netlink::ifindex(dev).unwrap();
    // SAFETY: plain socket calls with valid pointers and lengths.
    unsafe {
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let p = prio as libc::c_int;
        let rc = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PRIORITY,
            (&raw const p).cast(),
            4,
        );
        assert_eq!(rc, 0);
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex;
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let mut frame = vec![0xffu8; 6];
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]); // local experimental ethertype
        frame.resize(64, prio as u8);
        for _ in 0..n {
            let sent = libc::sendto(
                fd,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            );
            if sent != 64 {
                errors.push(std::io::Error::last_os_error());
            }
        }
        libc::close(fd);
    }
    errors
}

#[test]
#[ignore = "needs sch_taprio: runs in the kernel VM"]
fn frames_land_in_their_priority_class() {
    if !in_vm("frames_land_in_their_priority_class") {
        return;
    }
    let _v = Veth::new("tf0", 8);
    let mut rtnl = Rtnl::new().unwrap();
    let plan = PortPlan {
        dev: "tf0".into(),
        label: "three gates".into(),
        num_tc: 3,
        prio_tc_map: [0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cycle_ns: 300_000,
        entries: vec![(1, 100_000), (2, 100_000), (4, 100_000)],
        max_sdu: Vec::new(),
        vlans: Vec::new(),
    };
    let t = Target {
        dev: "tf0".into(),
        qdiscs: plan.qdiscs(0, Mode::Software, base()),
        vlans: Vec::new(),
    };
    txn::apply(&mut rtnl, &[t]).unwrap();
    for (prio, n) in [(0, 5), (1, 7), (2, 11)] {
        send_frames("tf0", prio, n);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stats: serde_json::Value =
        serde_json::from_str(&sh("tc -s -j qdisc show dev tf0")).unwrap();
    let packets = |parent: &str| -> u64 {
        stats
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["parent"] == parent)
            .map(|q| q["packets"].as_u64().unwrap_or(0))
            .sum()
    };
    eprintln!("{stats}");
    assert_eq!(
        [packets("100:1"), packets("100:2"), packets("100:3")],
        [5, 7, 11]
    );
    assert_eq!(
        (4..=8).map(|i| packets(&format!("100:{i}"))).sum::<u64>(),
        0
    );
}

#[test]
#[ignore = "needs sch_taprio: runs in the kernel VM"]
fn cli_applies_a_plant_schedule_and_shows_it() {
    if !in_vm("cli_applies_a_plant_schedule_and_shows_it") {
        return;
    }
    let (Ok(bin), Ok(plant), Ok(schedule)) = (
        std::env::var("TSN_BIN"),
        std::env::var("TSN_PLANT"),
        std::env::var("TSN_SCHEDULE"),
    ) else {
        panic!("vm_apply.rs sets TSN_BIN, TSN_PLANT and TSN_SCHEDULE");
    };
    let _v: Vec<Veth> = ["cam", "plc", "sw2"]
        .iter()
        .map(|d| Veth::new(d, 8))
        .collect();
    let out = Command::new(&bin)
        .args(["apply", &plant, &schedule, "--node", "sw1"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    let sched = tsn::Schedule::load(&schedule).unwrap();
    for to in ["plc", "sw2"] {
        let out = Command::new(&bin)
            .args(["show", to, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let taprio = v["qdiscs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["kind"] == "taprio")
            .unwrap();
        let entries = taprio["options"]["schedule"]["entries"].as_array().unwrap();
        let gcl = &sched.port("sw1", to).unwrap().gcl;
        assert_eq!(entries.len(), gcl.len(), "{to}");
        for (e, g) in entries.iter().zip(gcl) {
            assert_eq!(e["gate_mask"].as_u64(), Some(u64::from(g.gate_mask)));
            assert_eq!(e["interval_ns"].as_u64(), Some(g.duration_ns));
        }
    }
    // A missing device: refused before anything changes, exit 1, the device named.
    let out = Command::new(&bin)
        .args(["apply", &plant, &schedule, "--node", "sw2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no network interface"));
}

/// A packet socket on a device that reports each frame's VLAN tag, wherever the kernel kept
/// it (out of band in `PACKET_AUXDATA` when the tag was offloaded, else in the frame).
struct Tap(libc::c_int);

impl Tap {
    fn open(dev: &str) -> Self {
        let ifindex = tsn_netlink::ifindex(dev).unwrap();
        let all = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket calls with valid pointers and lengths.
        unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, libc::c_int::from(all));
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let one: libc::c_int = 1;
            let rc = libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                (&raw const one).cast(),
                4,
            );
            assert_eq!(rc, 0);
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 300_000,
            };
            let rc = libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const tv).cast(),
                size_of::<libc::timeval>() as u32,
            );
            assert_eq!(rc, 0);
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_protocol = all;
            addr.sll_ifindex = ifindex;
            let rc = libc::bind(
                fd,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            );
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            Self(fd)
        }
    }

    /// `(VID, PCP, first payload byte)` of each tagged frame of `ethertype`, until `n` came
    /// or none for 300 ms.
    fn tagged(&self, ethertype: u16, n: usize) -> Vec<(u16, u8, u8)> {
        let mut out = Vec::new();
        while out.len() < n {
            let mut buf = [0u8; 2048];
            let mut ctrl = [0u64; 64];
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: msghdr points at live buffers of the given sizes; cmsg walking uses the
            // libc macros within msg_controllen.
            let (len, aux_tci) = unsafe {
                let mut msg: libc::msghdr = std::mem::zeroed();
                msg.msg_iov = &raw mut iov;
                msg.msg_iovlen = 1;
                msg.msg_control = ctrl.as_mut_ptr().cast();
                msg.msg_controllen = size_of_val(&ctrl);
                let len = libc::recvmsg(self.0, &raw mut msg, 0);
                let mut tci = None;
                let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
                while len >= 0 && !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA
                    {
                        let aux: libc::tpacket_auxdata =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                            tci = Some(aux.tp_vlan_tci);
                        }
                    }
                    c = libc::CMSG_NXTHDR(&raw const msg, c);
                }
                (len, tci)
            };
            let Ok(len) = usize::try_from(len) else {
                break; // timeout
            };
            let frame = &buf[..len];
            let (tci, rest) = match aux_tci {
                Some(tci) => (tci, &frame[12..]),
                None if frame.len() >= 18 && frame[12..14] == [0x81, 0x00] => {
                    (u16::from_be_bytes([frame[14], frame[15]]), &frame[16..])
                }
                None => continue, // untagged: not from the VLAN device
            };
            if rest.len() >= 3 && u16::from_be_bytes([rest[0], rest[1]]) == ethertype {
                out.push((tci & 0x0fff, (tci >> 13) as u8, rest[2]));
            }
        }
        out
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

/// Packets counted by the qdisc under `parent` of `dev` (`tc -s -j`).
fn class_packets(dev: &str, parent: &str) -> u64 {
    let stats: serde_json::Value =
        serde_json::from_str(&sh(&format!("tc -s -j qdisc show dev {dev}"))).unwrap();
    stats
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["parent"] == parent)
        .map(|q| q["packets"].as_u64().unwrap_or(0))
        .sum()
}

fn tsn_bin() -> String {
    std::env::var("TSN_BIN").expect("vm_apply.rs sets TSN_BIN")
}

#[test]
#[ignore = "needs 8021q and sch_taprio: runs in the kernel VM"]
fn vlan_device_tags_each_priority_with_its_pcp_and_rolls_back() {
    if !in_vm("vlan_device_tags_each_priority_with_its_pcp_and_rolls_back") {
        return;
    }
    let _v = Veth::new("tv0", 8);
    let _single = Veth::new("tv1", 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vlan.yaml");
    let yaml = "interfaces:\n  - device: tv0\n    traffic-classes: 8\n    \
                priority-map: [0, 1, 2, 3, 4, 5, 6, 7]\n    gate-control-list:\n      \
                - { gates: [0, 1, 2, 3, 4, 5, 6, 7], duration: 100us }\n      \
                - { gates: [7], duration: 100us }\n    vlan:\n      id: 5\n";
    std::fs::write(&file, yaml).unwrap();
    // The VLAN device is created up: without this its IPv6 autoconfiguration would add
    // neighbour discovery frames (priority 7) to the counts below.
    let v6_default = "/proc/sys/net/ipv6/conf/default/disable_ipv6";
    let v6_before = std::fs::read_to_string(v6_default).unwrap_or_default();
    let _ = std::fs::write(v6_default, "1");
    let out = Command::new(tsn_bin())
        .args([
            "apply",
            "--file",
            file.to_str().unwrap(),
            "--mode",
            "software",
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("tv0.5: VLAN 5 on tv0, up"), "{text}");
    let _ = std::fs::write(v6_default, v6_before.trim());

    // What the kernel reports, through iproute2 and through our own parser.
    let identity: Vec<serde_json::Value> = (1..8)
        .map(|p| serde_json::json!({ "from": p, "to": p }))
        .collect();
    let egress_of = |dev: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&sh(&format!("ip -d -j link show {dev}"))).unwrap();
        let data = v[0]["linkinfo"]["info_data"].clone();
        assert_eq!(data["id"], 5, "{v}");
        assert_eq!(v[0]["link"], "tv0", "{v}");
        data["egress_qos"].clone()
    };
    assert_eq!(
        egress_of("tv0.5"),
        serde_json::Value::Array(identity.clone())
    );
    let mut rtnl = Rtnl::new().unwrap();
    let link = rtnl.link_by_name("tv0.5").unwrap().unwrap();
    assert_eq!(link.lower, Some(tsn_netlink::ifindex("tv0").unwrap()));
    assert_eq!(link.flags & tsn_netlink::IFF_UP, tsn_netlink::IFF_UP);
    assert_eq!(link.vlan().unwrap().egress_pcp(), [0, 1, 2, 3, 4, 5, 6, 7]);

    // Frames at skb priority p leave the lower device with PCP p, through taprio class p.
    let tap = Tap::open("tv0-p");
    for prio in 0..8 {
        send_frames("tv0.5", prio, 3);
    }
    let mut got = tap.tagged(0x88b5, 24);
    got.sort_unstable();
    let want: Vec<(u16, u8, u8)> = (0..8u8).flat_map(|p| [(5, p, p); 3]).collect();
    assert_eq!(got, want, "(VID, PCP, SO_PRIORITY) of every frame");
    for p in 0..8 {
        assert_eq!(
            class_packets("tv0", &format!("100:{}", p + 1)),
            3,
            "class {p}"
        );
    }

    // A failing second interface: tv0.5's new map is undone, tv0.9 deleted again, tv0's
    // schedule restored.
    let before = root(&mut rtnl, "tv0");
    let bad = yaml.replace(
        "id: 5\n",
        "id: 5\n      egress-qos-map: [7, 6, 5, 4, 3, 2, 1, 0]\n",
    ) + "  - device: tv1\n    traffic-classes: 2\n    gate-control-list:\n      \
           - { gates: [0, 1], duration: 1ms }\n";
    std::fs::write(&file, bad).unwrap();
    let out = Command::new(tsn_bin())
        .args([
            "apply",
            "--file",
            file.to_str().unwrap(),
            "--vlan",
            "tv0.9",
            "--mode",
            "software",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("expected failure: {err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("restored: tv1, tv0"), "{err}");
    assert_eq!(egress_of("tv0.5"), serde_json::Value::Array(identity));
    assert!(
        rtnl.link_by_name("tv0.9").unwrap().is_none(),
        "tv0.9 left behind"
    );
    assert_same_schedule(
        root(&mut rtnl, "tv0").taprio().unwrap(),
        before.taprio().unwrap(),
    );
    let _ = Command::new("ip").args(["link", "del", "tv0.5"]).status();
}

#[test]
#[ignore = "needs sch_taprio and sch_etf: runs in the kernel VM"]
fn txtime_assist_runs_over_etf_children() {
    if !in_vm("txtime_assist_runs_over_etf_children") {
        return;
    }
    let _v = Veth::new("tx0", 8);
    let mut rtnl = Rtnl::new().unwrap();
    let plan = PortPlan {
        dev: "tx0".into(),
        label: "txtime-assist".into(),
        num_tc: 2,
        prio_tc_map: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cycle_ns: 40_000_000,
        entries: vec![(1, 20_000_000), (2, 20_000_000)],
        max_sdu: Vec::new(),
        vlans: Vec::new(),
    };
    // etf drops a frame whose txtime passed before its dequeue timer fired; the emulated
    // guest's timers run late by more than the usual few hundred µs, so give 10 ms.
    let mode = Mode::TxtimeAssist {
        delay_ns: 10_000_000,
    };
    plan.check(mode).unwrap();
    let applied = txn::apply(&mut rtnl, &[plan.target(mode, base())]);
    // 6.1 accepts it on a veth; should a kernel refuse, its words are in the failure.
    let applied = applied.unwrap_or_else(|e| panic!("txtime-assist refused: {e}"));
    eprintln!("warnings: {:?}", applied.warnings);
    let got = rtnl.qdiscs(tsn_netlink::ifindex("tx0").unwrap()).unwrap();
    let want = plan.qdiscs(0, mode, base());
    let root_q = got.iter().find(|q| q.parent == TC_H_ROOT).unwrap();
    let t = root_q.taprio().unwrap();
    assert_eq!(t.flags, Some(tsn_netlink::taprio_flags::TXTIME_ASSIST));
    assert_eq!(t.txtime_delay, Some(10_000_000));
    assert_same_schedule(t, want[0].taprio().unwrap());
    for child in &want[1..] {
        let q = got
            .iter()
            .find(|q| q.parent == child.parent)
            .unwrap_or_else(|| panic!("no etf under {:x}", child.parent));
        assert_eq!((q.kind.as_str(), &q.options), ("etf", &child.options));
    }
    // Plain frames (no SO_TXTIME): taprio stamps a txtime in their class's next window and
    // the class's etf releases them.
    send_frames("tx0", 0, 5);
    send_frames("tx0", 1, 7);
    std::thread::sleep(std::time::Duration::from_millis(300));
    eprintln!("{}", sh("tc -s qdisc show dev tx0"));
    assert_eq!(
        [class_packets("tx0", "100:1"), class_packets("tx0", "100:2")],
        [5, 7]
    );
}
