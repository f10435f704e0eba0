use std::collections::{BTreeMap, HashMap};

use tsn_netlink::{Ack, Link, LinkData, Qdisc, QdiscOptions, TC_H_ROOT};

use super::txn::{self, Kernel, Target};
use super::*;
use crate::schedule::synthesize;

fn line_plant() -> Plant {
    let text = include_str!("../../../configs/plant-line.yaml");
    Plant::from_yaml(text, "plant-line.yaml").unwrap()
}

fn plan(entries: Vec<(u8, u64)>, cycle_ns: u64) -> PortPlan {
    PortPlan {
        dev: "eth0".into(),
        label: "test".into(),
        num_tc: 3,
        prio_tc_map: [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
        cycle_ns,
        entries,
        max_sdu: Vec::new(),
        vlans: Vec::new(),
    }
}

#[test]
fn plans_follow_the_schedule_of_each_port() {
    let plant = line_plant();
    let schedule = synthesize(&plant);
    let devs: BTreeMap<String, String> = [("sw2".to_owned(), "eth1".to_owned())].into();
    let plans = plan_node(&plant, &schedule, "sw1", &devs).unwrap();
    assert!(!plans.is_empty());
    for p in &plans {
        let to = p.label.strip_prefix("sw1->").unwrap();
        let port = schedule.port("sw1", to).unwrap();
        assert_eq!(p.cycle_ns, port.cycle_ns);
        assert_eq!(p.entries.len(), port.gcl.len());
        assert_eq!(p.dev, if to == "sw2" { "eth1" } else { to });
        p.check(Mode::Software).unwrap();
        let t = p.taprio(Mode::Software, 0);
        let sum: u64 = t
            .sched
            .entries
            .iter()
            .map(|e| u64::from(e.interval_ns))
            .sum();
        assert_eq!(sum, p.cycle_ns);
        assert_eq!(t.priomap.unwrap().queues().len(), usize::from(p.num_tc));
    }
    assert!(matches!(
        plan_node(&plant, &schedule, "nope", &BTreeMap::new()),
        Err(NodePlanError::UnknownNode(_))
    ));
    let wrong: BTreeMap<String, String> = [("cam".to_owned(), "x".to_owned())].into();
    assert!(matches!(
        plan_node(&plant, &schedule, "sw3", &wrong),
        Err(NodePlanError::UnknownPort { .. })
    ));
}

#[test]
fn invalid_plans_are_rejected_with_every_reason() {
    assert!(
        plan(vec![(1, 500), (2, 500)], 1000)
            .check(Mode::Software)
            .is_ok()
    );
    let e = plan(vec![(1, 0), (0x10, 900)], 1000)
        .check(Mode::Software)
        .unwrap_err();
    let all = e.problems.join("\n");
    assert!(all.contains("entry 0 lasts 0 ns"), "{all}");
    assert!(all.contains("gate mask 0x10"), "{all}");
    assert!(all.contains("sum to 900 ns but the cycle is 1000"), "{all}");
    let e = plan(vec![(1, 5_000_000_000)], 5_000_000_000)
        .check(Mode::Software)
        .unwrap_err();
    assert!(e.problems[0].contains("32-bit"), "{e}");
    let e = plan(vec![(1, 1000)], 1000)
        .check(Mode::TxtimeAssist { delay_ns: 1000 })
        .unwrap_err();
    assert!(e.problems[0].contains("txtime delay"), "{e}");
    let many = vec![(1, 1); MAX_ENTRIES + 1];
    let e = plan(many, MAX_ENTRIES as u64 + 1)
        .check(Mode::Software)
        .unwrap_err();
    assert!(e.problems[0].contains("vanish"), "{e}");
}

#[test]
fn base_time_is_the_next_cycle_start() {
    assert_eq!(base_time(1_000_000_123, 1_000, 0), 1_000_001_000);
    assert_eq!(base_time(1_000_000_000, 1_000, 0), 1_000_000_000);
    assert_eq!(base_time(1_000_000_000, 1_000, 1), 1_000_001_000);
    assert_eq!(base_time(-1_500, 1_000, 0), -1_000);
    assert_eq!(base_time(7, 250_000, 1_000_000), 1_250_000);
}

#[test]
fn modes_set_flags_clock_and_children() {
    let p = plan(vec![(1, 500), (6, 500)], 1000);
    let sw = p.qdiscs(3, Mode::Software, 5000);
    assert_eq!(sw.len(), 1);
    let t = sw[0].taprio().unwrap();
    assert_eq!((t.clockid, t.flags), (Some(CLOCK_TAI), None));
    assert_eq!(t.sched.base_time, Some(5000));
    let off = p.qdiscs(3, Mode::FullOffload, 0);
    let t = off[0].taprio().unwrap();
    assert_eq!(
        (t.clockid, t.flags),
        (None, Some(taprio_flags::FULL_OFFLOAD))
    );
    let ta = p.qdiscs(3, Mode::TxtimeAssist { delay_ns: 200 }, 0);
    assert_eq!(ta.len(), 4, "taprio + one etf per class");
    assert_eq!(ta[0].taprio().unwrap().txtime_delay, Some(200));
    assert_eq!(ta[3].parent, handle(ROOT_MAJOR, 3));
    assert!(matches!(&ta[1].options, Some(QdiscOptions::Etf(e)) if e.delta_ns == 200));
}

#[test]
fn dry_run_lines_are_tc_syntax() {
    let p = plan(vec![(1, 300_000), (2, 300_000), (4, 400_000)], 1_000_000);
    let lines = tc_lines(
        "va",
        &p.qdiscs(0, Mode::TxtimeAssist { delay_ns: 200_000 }, 1_000_000_000),
    );
    assert_eq!(
        lines[0],
        "tc qdisc replace dev va root handle 100: taprio num_tc 3 map 2 2 1 0 2 2 2 2 2 2 2 2 2 \
         2 2 2 queues 1@0 1@1 1@2 base-time 1000000000 cycle-time 1000000 sched-entry S 01 \
         300000 sched-entry S 02 300000 sched-entry S 04 400000 flags 0x1 txtime-delay 200000 \
         clockid CLOCK_TAI"
    );
    assert_eq!(
        lines[1],
        "tc qdisc replace dev va parent 100:1 etf clockid CLOCK_TAI delta 200000 skip_sock_check"
    );
}

#[test]
fn interface_file_loads_and_reports_paths() {
    let ok = "interfaces:\n  - device: va\n    traffic-classes: 3\n    priority-map: [2, 2, 1, 0, 2, 2, 2, 2]\n    max-sdu: [0, 200]\n    gate-control-list:\n      - { gates: [0], duration: 300us }\n      - { gates: [1, 2], duration: 700us }\n";
    let plans = file::from_yaml(ok, "ports.yaml").unwrap();
    assert_eq!(plans[0].entries, vec![(1, 300_000), (6, 700_000)]);
    assert_eq!(plans[0].cycle_ns, 1_000_000);
    assert_eq!(plans[0].prio_tc_map[8..], [2; 8]);
    assert_eq!(plans[0].taprio(Mode::Software, 0).tc_entries.len(), 1);
    let bad = ok
        .replace("gates: [1, 2]", "gates: [1, 5]")
        .replace("duration: 300us", "duration: 0");
    let err = file::from_yaml(&bad, "ports.yaml").unwrap_err().to_string();
    assert!(
        err.contains("interfaces[0].gate-control-list[1].gates[1]"),
        "{err}"
    );
    assert!(
        err.contains("interfaces[0].gate-control-list[0].duration"),
        "{err}"
    );
    assert!(err.contains("ports.yaml:8:22"), "{err}");
    let example = include_str!("example-interfaces.yaml");
    for p in file::from_yaml(example, "example").unwrap() {
        p.check(Mode::Software).unwrap();
    }
}

/// A kernel model: one qdisc list per interface, taprio's "no map change while running"
/// rule, and an injectable failure.
#[derive(Debug, Default)]
struct Model {
    devs: HashMap<String, i32>,
    qdiscs: HashMap<i32, Vec<Qdisc>>,
    fail_on: Option<(i32, String)>,
    log: Vec<String>,
    /// Links by name (the VLAN devices; the ethN devices have no entry).
    links: HashMap<String, Link>,
    no_8021q: bool,
}

fn default_root(ifindex: i32) -> Qdisc {
    let mut q = Qdisc::new(ifindex, TC_H_ROOT, 0, QdiscOptions::Other(Vec::new()));
    q.kind = "mq".into();
    q
}

impl Model {
    fn with_devs(n: i32) -> Self {
        let mut m = Self::default();
        for i in 1..=n {
            m.devs.insert(format!("eth{i}"), i);
            m.qdiscs.insert(i, vec![default_root(i)]);
        }
        m
    }
    fn refuse(msg: &str) -> tsn_netlink::Error {
        tsn_netlink::Error::Kernel {
            op: "test".into(),
            errno: libc::EINVAL,
            extack: Some(msg.into()),
        }
    }
}

impl Kernel for Model {
    fn ifindex(&mut self, dev: &str) -> tsn_netlink::Result<i32> {
        self.devs
            .get(dev)
            .copied()
            .ok_or_else(|| tsn_netlink::Error::NoSuchDevice(dev.into()))
    }
    fn qdiscs(&mut self, ifindex: i32) -> tsn_netlink::Result<Vec<Qdisc>> {
        Ok(self.qdiscs[&ifindex].clone())
    }
    fn replace(&mut self, q: &Qdisc) -> tsn_netlink::Result<Ack> {
        self.log
            .push(format!("replace {} {} on {}", q.kind, q.parent, q.ifindex));
        if self.fail_on.as_ref() == Some(&(q.ifindex, q.kind.clone())) {
            return Err(Self::refuse("Device does not have a PTP clock"));
        }
        let list = self.qdiscs.get_mut(&q.ifindex).unwrap();
        if q.parent == TC_H_ROOT {
            if let (Some(old), Some(new)) = (list[0].taprio(), q.taprio())
                && old.priomap.is_some()
                && new.priomap != old.priomap
            {
                return Err(Self::refuse(
                    "Changing the traffic mapping of a running schedule is not supported",
                ));
            }
            *list = vec![q.clone()];
        } else {
            list.retain(|c| c.parent != q.parent);
            list.push(q.clone());
        }
        Ok(Ack::default())
    }
    fn delete(&mut self, ifindex: i32, parent: u32) -> tsn_netlink::Result<()> {
        self.log.push(format!("delete {parent} on {ifindex}"));
        let list = self.qdiscs.get_mut(&ifindex).unwrap();
        if list[0].handle == 0 {
            return Err(Self::refuse("Cannot delete qdisc with handle of zero"));
        }
        *list = vec![default_root(ifindex)];
        Ok(())
    }
    fn link(&mut self, name: &str) -> tsn_netlink::Result<Option<Link>> {
        Ok(self.links.get(name).cloned())
    }
    fn create_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack> {
        let name = l.name.clone().unwrap();
        self.log.push(format!("create link {name}"));
        if self.no_8021q {
            return Err(tsn_netlink::Error::Kernel {
                op: "test".into(),
                errno: libc::EOPNOTSUPP,
                extack: Some("Unknown device type".into()),
            });
        }
        assert!(!self.links.contains_key(&name) && !self.devs.contains_key(&name));
        let mut l = l.clone();
        l.ifindex = 100 + self.links.len() as i32;
        // The kernel keeps only non-zero PCPs.
        if let Some(LinkData::Vlan(v)) = l.info.as_mut().and_then(|i| i.data.as_mut()) {
            v.egress_qos.as_mut().unwrap().retain(|m| m.to != 0);
        }
        self.links.insert(name, l);
        Ok(Ack::default())
    }
    fn change_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack> {
        self.log.push(format!("change link {}", l.ifindex));
        let have = self
            .links
            .values_mut()
            .find(|h| h.ifindex == l.ifindex)
            .unwrap();
        let Some(LinkData::Vlan(v)) = have.info.as_mut().and_then(|i| i.data.as_mut()) else {
            panic!("not a VLAN");
        };
        let map = v.egress_qos.get_or_insert_with(Vec::new);
        for m in l.vlan().unwrap().egress_qos.clone().unwrap() {
            map.retain(|o| o.from != m.from);
            if m.to != 0 {
                map.push(m);
            }
        }
        map.sort_by_key(|m| m.from);
        Ok(Ack::default())
    }
    fn delete_link(&mut self, ifindex: i32) -> tsn_netlink::Result<()> {
        self.log.push(format!("delete link {ifindex}"));
        self.links.retain(|_, l| l.ifindex != ifindex);
        Ok(())
    }
}

fn target(dev: &str, p: &PortPlan, mode: Mode) -> Target {
    Target {
        dev: dev.into(),
        ..p.target(mode, 0)
    }
}

#[test]
fn second_interface_failing_restores_both() {
    let mut k = Model::with_devs(2);
    // eth1 starts with our earlier schedule, eth2 with the kernel default.
    let old = plan(vec![(7, 1000)], 1000);
    txn::apply(&mut k, &[target("eth1", &old, Mode::Software)]).unwrap();
    let before1 = k.qdiscs[&1].clone();
    let before2 = k.qdiscs[&2].clone();
    k.fail_on = Some((2, "etf".into()));
    let new = plan(vec![(1, 500), (2, 500)], 1000);
    let err = txn::apply(
        &mut k,
        &[
            target("eth1", &new, Mode::TxtimeAssist { delay_ns: 100 }),
            target("eth2", &new, Mode::TxtimeAssist { delay_ns: 100 }),
        ],
    )
    .unwrap_err();
    assert_eq!(err.dev, "eth2");
    assert!(err.to_string().contains("PTP clock"), "{err}");
    assert!(err.hint.is_some());
    assert_eq!(err.restored, ["eth2", "eth1"]);
    assert!(err.rollback_failures.is_empty(), "{err}");
    assert_eq!(k.qdiscs[&1], before1);
    assert_eq!(k.qdiscs[&2], before2);
}

#[test]
fn a_different_map_deletes_the_running_taprio_first() {
    let mut k = Model::with_devs(1);
    let a = plan(vec![(1, 1000)], 1000);
    txn::apply(&mut k, &[target("eth1", &a, Mode::Software)]).unwrap();
    let mut b = plan(vec![(1, 400), (2, 600)], 1000);
    b.prio_tc_map[0] = 0;
    txn::apply(&mut k, &[target("eth1", &b, Mode::Software)]).unwrap();
    assert!(k.log.iter().any(|l| l.starts_with("delete")), "{:?}", k.log);
    assert_eq!(k.qdiscs[&1][0].taprio(), Some(&b.taprio(Mode::Software, 0)));
    // Same map: replaced in place.
    k.log.clear();
    let c = PortPlan {
        entries: vec![(3, 1000)],
        ..b.clone()
    };
    txn::apply(&mut k, &[target("eth1", &c, Mode::Software)]).unwrap();
    assert!(
        !k.log.iter().any(|l| l.starts_with("delete")),
        "{:?}",
        k.log
    );
}

#[test]
fn an_unknown_device_fails_before_any_change() {
    let mut k = Model::with_devs(1);
    let p = plan(vec![(1, 1000)], 1000);
    let err = txn::apply(
        &mut k,
        &[
            target("eth1", &p, Mode::Software),
            target("nope", &p, Mode::Software),
        ],
    )
    .unwrap_err();
    assert_eq!(err.dev, "nope");
    assert!(k.log.is_empty(), "{:?}", k.log);
}

#[test]
fn kernel_texts_get_explanations() {
    for (text, errno, want) in [
        (
            "Specified qdisc kind is unknown.",
            libc::ENOENT,
            "lacks the qdisc",
        ),
        (
            "Changing the traffic mapping of a running schedule is not supported",
            libc::ENOTSUP,
            "cannot change",
        ),
        (
            "Specifying a 'clockid' is mandatory",
            libc::EINVAL,
            "clock id",
        ),
        (
            "sch_taprio: Multi-queue device is required",
            libc::EOPNOTSUPP,
            "multi-queue",
        ),
        ("", libc::EPERM, "CAP_NET_ADMIN"),
    ] {
        let e = tsn_netlink::Error::Kernel {
            op: "x".into(),
            errno,
            extack: Some(text.into()),
        };
        let h = txn::explain(&e).unwrap_or_default();
        assert!(h.contains(want), "{text}: {h}");
    }
}

fn vlan_plan(dev: &str, id: u16) -> PortPlan {
    PortPlan {
        dev: dev.into(),
        vlans: vec![VlanPlan::identity(dev, id)],
        ..plan(vec![(1, 500), (2, 500)], 1000)
    }
}

#[test]
fn vlans_are_created_after_the_qdiscs_and_updated_in_place() {
    let mut k = Model::with_devs(1);
    let p = vlan_plan("eth1", 5);
    txn::apply(&mut k, &[target("eth1", &p, Mode::Software)]).unwrap();
    let l = &k.links["eth1.5"];
    assert_eq!((l.lower, l.flags & tsn_netlink::IFF_UP), (Some(1), 1));
    assert_eq!(l.vlan().unwrap().id, Some(5));
    assert_eq!(l.vlan().unwrap().egress_pcp(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(k.log.last().unwrap(), "create link eth1.5");
    // Again with another map: the existing device is updated, not created.
    let mut q = p.clone();
    q.vlans[0].egress_pcp = [1, 1, 1, 1, 6, 6, 6, 6];
    k.log.clear();
    txn::apply(&mut k, &[target("eth1", &q, Mode::Software)]).unwrap();
    assert!(
        k.log.iter().any(|l| l.starts_with("change link")),
        "{:?}",
        k.log
    );
    assert_eq!(
        k.links["eth1.5"].vlan().unwrap().egress_pcp(),
        [1, 1, 1, 1, 6, 6, 6, 6]
    );
}

#[test]
fn a_failure_deletes_created_vlans_and_restores_old_maps() {
    let mut k = Model::with_devs(3);
    // eth1.7 exists with its own map; eth2.8 does not exist yet.
    let mut old = vlan_plan("eth1", 7);
    old.vlans[0].egress_pcp = [0, 0, 0, 0, 0, 0, 5, 5];
    txn::apply(&mut k, &[target("eth1", &old, Mode::Software)]).unwrap();
    let before = k.links.clone();
    let before_q: Vec<_> = (1..=3).map(|i| k.qdiscs[&i].clone()).collect();
    k.fail_on = Some((3, "taprio".into()));
    let err = txn::apply(
        &mut k,
        &[
            target("eth1", &vlan_plan("eth1", 7), Mode::Software),
            target("eth2", &vlan_plan("eth2", 8), Mode::Software),
            target("eth3", &vlan_plan("eth3", 9), Mode::Software),
        ],
    )
    .unwrap_err();
    assert_eq!(err.dev, "eth3");
    assert_eq!(err.restored, ["eth3", "eth2", "eth1"], "{err}");
    assert!(err.rollback_failures.is_empty(), "{err}");
    assert_eq!(k.links, before);
    assert_eq!(
        k.links["eth1.7"].vlan().unwrap().egress_pcp(),
        [0, 0, 0, 0, 0, 0, 5, 5]
    );
    for i in 1..=3 {
        assert_eq!(k.qdiscs[&i], before_q[i as usize - 1]);
    }
    assert!(
        k.log.iter().any(|l| l == "create link eth2.8"),
        "{:?}",
        k.log
    );
}

#[test]
fn a_kernel_without_8021q_is_reported_and_rolled_back() {
    let mut k = Model::with_devs(1);
    k.no_8021q = true;
    let before = k.qdiscs[&1].clone();
    let err = txn::apply(
        &mut k,
        &[target("eth1", &vlan_plan("eth1", 5), Mode::Software)],
    )
    .unwrap_err();
    assert!(err.source.is_unknown_link_kind(), "{err}");
    assert!(err.hint.unwrap().contains("802.1Q"), "{err}");
    assert!(err.step.contains("VLAN"), "{err}");
    assert_eq!(err.restored, ["eth1"]);
    assert_eq!(k.qdiscs[&1], before);
}

#[test]
fn a_foreign_device_with_the_vlan_name_stops_everything() {
    let mut k = Model::with_devs(2);
    // eth2.5 exists but is VLAN 6 on eth2.
    let mut other = vlan_plan("eth2", 6);
    other.vlans[0].name = "eth2.5".into();
    txn::apply(&mut k, &[target("eth2", &other, Mode::Software)]).unwrap();
    k.log.clear();
    let err = txn::apply(
        &mut k,
        &[
            target("eth1", &vlan_plan("eth1", 5), Mode::Software),
            target("eth2", &vlan_plan("eth2", 5), Mode::Software),
        ],
    )
    .unwrap_err();
    assert_eq!(err.dev, "eth2");
    assert!(err.to_string().contains("not VLAN 5 on eth2"), "{err}");
    assert!(k.log.is_empty(), "changed something: {:?}", k.log);
}

#[test]
fn vlan_plans_are_checked_and_printed_as_ip_commands() {
    let mut p = vlan_plan("eth0", 5);
    p.check(Mode::Software).unwrap();
    assert_eq!(
        p.vlans[0].ip_line("eth0"),
        "ip link add link eth0 name eth0.5 up type vlan id 5 egress-qos-map 0:0 1:1 2:2 3:3 4:4 \
         5:5 6:6 7:7"
    );
    p.vlans.push(VlanPlan {
        name: "a-very-long-name.4095".into(),
        id: 4095,
        egress_pcp: [8, 0, 0, 0, 0, 0, 0, 0],
    });
    p.vlans.push(p.vlans[0].clone());
    let all = p.check(Mode::Software).unwrap_err().problems.join("\n");
    for want in [
        "4095 is out of range",
        "longer than 15",
        "PCP 8",
        "given twice",
    ] {
        assert!(all.contains(want), "{want}: {all}");
    }
}

#[test]
fn interface_file_vlans_load_with_paths() {
    let text = "interfaces:\n  - device: va\n    traffic-classes: 2\n    gate-control-list:\n      - { gates: [0, 1], duration: 1ms }\n    vlan:\n      id: 10\n";
    let plans = file::from_yaml(text, "p.yaml").unwrap();
    assert_eq!(plans[0].vlans, [VlanPlan::identity("va", 10)]);
    let custom = text.replace(
        "id: 10\n",
        "id: 10\n      name: plc\n      egress-qos-map: [0, 0, 0, 3, 3, 3, 7, 7]\n",
    );
    let v = &file::from_yaml(&custom, "p.yaml").unwrap()[0].vlans[0];
    assert_eq!(
        (v.name.as_str(), v.egress_pcp),
        ("plc", [0, 0, 0, 3, 3, 3, 7, 7])
    );
    let bad = text.replace(
        "id: 10\n",
        "id: 4095\n      name: plc/x\n      egress-qos-map: [0, 9, 0, 0, 0, 0, 0, 0]\n",
    );
    let err = file::from_yaml(&bad, "p.yaml").unwrap_err().to_string();
    for want in [
        "interfaces[0].vlan.id",
        "interfaces[0].vlan.name",
        "interfaces[0].vlan.egress-qos-map[1]",
        "p.yaml:7:",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    let short = text.replace("id: 10\n", "id: 10\n      egress-qos-map: [1, 2]\n");
    let err = file::from_yaml(&short, "p.yaml").unwrap_err().to_string();
    assert!(err.contains("has 2 entries; give 8"), "{err}");
}
