use std::collections::{BTreeMap, HashMap};

use tsn_netlink::{Ack, Qdisc, QdiscOptions, TC_H_ROOT};

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
}

fn target(dev: &str, p: &PortPlan, mode: Mode) -> Target {
    Target {
        dev: dev.into(),
        qdiscs: p.qdiscs(0, mode, 0),
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
