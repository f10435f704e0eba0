//! Pushing schedules to Linux: per-interface taprio plans, base time, dry-run `tc` lines,
//! and the all-or-nothing transaction that applies them over rtnetlink ([`txn`]).
//!
//! Who calls what: `tsn apply` builds [`PortPlan`]s from a plant and schedule for one node
//! ([`plan_node`]) or from a per-interface file ([`file::load`]), checks them with
//! [`PortPlan::check`] before anything touches the kernel, picks a base time with
//! [`base_time`] from a TAI reading it passes in, turns each plan into qdiscs with
//! [`PortPlan::qdiscs`], then either prints [`tc_lines`] (`--dry-run`) or hands the qdiscs
//! to [`txn::apply`], which restores every interface it touched if any step fails.
//! Everything here except [`txn`]'s kernel backend is pure: no clock reads, no sockets.
//!
//! Queues and map: traffic class N uses tx queue N alone (`1@N`), so a port with T classes
//! needs a device with at least T tx queues; skb priority p (0..=7) goes to the plant's
//! `priority-map[p]` and priorities 8..=15 to the class of priority 0 (best effort).
//!
//! VLANs: a plan may carry 802.1Q devices on top of its interface ([`VlanPlan`]), created
//! up with an egress-qos-map (skb priority p -> PCP, identity unless the file says
//! otherwise: in the plant a stream's priority is its PCP). Frames sent on the VLAN device
//! keep their skb priority, so the lower device's taprio classifies them by the same map.

pub mod cmd;
pub mod file;
pub mod show;
pub mod txn;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tsn_netlink::{
    CLOCK_TAI, EtfOptions, Link, MqprioQopt, Qdisc, QdiscOptions, QosMapping, Sched, SchedEntry,
    TC_H_ROOT, TaprioOptions, etf_flags, handle, handle_to_string, taprio_flags,
};

use crate::plant::Plant;
use crate::schedule::Schedule;

/// Most entries we put in one schedule: the kernel accepts more, but above about a thousand
/// (admin plus operational) a taprio qdisc no longer fits in one dump message and vanishes
/// from `RTM_GETQDISC` dumps, so it could not be read back or rolled back.
pub const MAX_ENTRIES: usize = 1000;
/// Root handle of the qdiscs we install (`100:`).
pub const ROOT_MAJOR: u16 = 0x100;

/// How the gates run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The kernel opens and closes the gates (hrtimers), `clockid CLOCK_TAI`.
    Software,
    /// Software gates; frames get a txtime and per-queue etf qdiscs release them
    /// (`flags 0x1`). Senders must use `SO_TXTIME`.
    TxtimeAssist {
        /// `txtime-delay` and each etf child's `delta`, ns.
        delay_ns: u32,
    },
    /// The NIC runs the gates (`flags 0x2`, no clock id: the NIC's PHC).
    FullOffload,
}

/// One interface's schedule, ready to become qdiscs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPlan {
    /// Network device.
    pub dev: String,
    /// What the plan is for (`"plc->sw1"`, or the file and entry).
    pub label: String,
    /// Traffic classes, 1..=8.
    pub num_tc: u8,
    /// skb priority -> traffic class.
    pub prio_tc_map: [u8; 16],
    /// Cycle; the entries sum to it.
    pub cycle_ns: u64,
    /// `(gate mask, duration ns)`.
    pub entries: Vec<(u8, u64)>,
    /// Per-class largest SDU in bytes (0 or absent: no limit).
    pub max_sdu: Vec<u32>,
    /// 802.1Q devices to create (or update) on top of `dev`.
    pub vlans: Vec<VlanPlan>,
}

/// Longest Linux interface name (`IFNAMSIZ - 1`).
pub const MAX_IFNAME: usize = 15;

/// An 802.1Q VLAN device on top of a planned interface, with its egress priority -> PCP map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlanPlan {
    /// Device name (`LOWER.ID` unless given).
    pub name: String,
    /// VLAN id, 1..=4094.
    pub id: u16,
    /// skb priority p (0..=7) -> PCP.
    pub egress_pcp: [u8; 8],
}

impl VlanPlan {
    /// VLAN `id` on `lower`, named `LOWER.ID`, priority p sent with PCP p.
    pub fn identity(lower: &str, id: u16) -> Self {
        Self {
            name: format!("{lower}.{id}"),
            id,
            egress_pcp: [0, 1, 2, 3, 4, 5, 6, 7],
        }
    }

    /// The egress map as netlink mappings, every priority 0..=7 (`p:0` clears an entry).
    pub fn egress_map(&self) -> Vec<QosMapping> {
        (0..8u32)
            .zip(self.egress_pcp)
            .map(|(from, to)| QosMapping {
                from,
                to: u32::from(to),
            })
            .collect()
    }

    /// The creation request for this device on `lower_ifindex`, up.
    pub fn link(&self, lower_ifindex: i32) -> Link {
        Link::new_vlan(lower_ifindex, &self.name, self.id, self.egress_map(), true)
    }

    /// The egress map in `ip` syntax (`0:0 1:1 ...`).
    pub fn egress_map_text(&self) -> String {
        let map: Vec<String> = self
            .egress_map()
            .iter()
            .map(|m| format!("{}:{}", m.from, m.to))
            .collect();
        map.join(" ")
    }

    /// The `ip` command equivalent to creating it on `lower`.
    pub fn ip_line(&self, lower: &str) -> String {
        format!(
            "ip link add link {lower} name {} up type vlan id {} egress-qos-map {}",
            self.name,
            self.id,
            self.egress_map_text()
        )
    }

    /// What is wrong with it, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !(1..=4094).contains(&self.id) {
            p.push(format!("VLAN id {} is out of range 1..=4094", self.id));
        }
        if let Some(why) = ifname_problem(&self.name) {
            p.push(format!("VLAN device name {:?} {why}", self.name));
        }
        if let Some(&pcp) = self.egress_pcp.iter().find(|&&c| c > 7) {
            p.push(format!(
                "VLAN {}: PCP {pcp} in the egress-qos-map (PCPs are 0..=7)",
                self.name
            ));
        }
        p
    }
}

/// Why `name` cannot be a Linux interface name, if it cannot.
pub fn ifname_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name == "." || name == ".." {
        Some("is not a valid interface name")
    } else if name.len() > MAX_IFNAME {
        Some("is longer than 15 bytes (the kernel's limit)")
    } else if name.contains(['/', ':']) || name.contains(char::is_whitespace) {
        Some("contains '/', ':' or white space")
    } else {
        None
    }
}

/// A plan the kernel must never see, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{label} ({dev}): {}", problems.join("; "))]
pub struct PlanError {
    /// The interface.
    pub dev: String,
    /// The plan's label.
    pub label: String,
    /// What is wrong.
    pub problems: Vec<String>,
}

impl PortPlan {
    /// Every reason the kernel would reject this plan or run something else than asked.
    pub fn check(&self, mode: Mode) -> Result<(), PlanError> {
        let mut p = Vec::new();
        if !(1..=8).contains(&self.num_tc) {
            p.push(format!(
                "{} traffic classes; 1 to 8 are supported",
                self.num_tc
            ));
        }
        if let Some(&c) = self.prio_tc_map.iter().find(|&&c| c >= self.num_tc) {
            p.push(format!(
                "the priority map names class {c} but the port has {} classes",
                self.num_tc
            ));
        }
        if self.entries.is_empty() {
            p.push("the gate control list is empty".into());
        }
        if self.entries.len() > MAX_ENTRIES {
            p.push(format!(
                "{} entries; at most {MAX_ENTRIES} (larger taprio qdiscs vanish from kernel \
                 dumps and could not be verified or restored)",
                self.entries.len()
            ));
        }
        for (i, &(mask, d)) in self.entries.iter().enumerate() {
            if d == 0 {
                p.push(format!(
                    "entry {i} lasts 0 ns (the kernel rejects zero intervals)"
                ));
            } else if d > u64::from(u32::MAX) {
                p.push(format!(
                    "entry {i} lasts {d} ns; taprio intervals are 32-bit (at most {} ns)",
                    u32::MAX
                ));
            }
            if u16::from(mask) >> self.num_tc != 0 {
                p.push(format!(
                    "entry {i} opens gate mask {mask:#04x} but the port has only {} classes \
                     (the kernel would accept and ignore the extra bits)",
                    self.num_tc
                ));
            }
        }
        let sum: u128 = self.entries.iter().map(|e| u128::from(e.1)).sum();
        if sum != u128::from(self.cycle_ns) {
            p.push(format!(
                "intervals sum to {sum} ns but the cycle is {} ns (the kernel would silently \
                 truncate or stretch the cycle)",
                self.cycle_ns
            ));
        }
        if self.cycle_ns == 0 || self.cycle_ns > i64::MAX as u64 {
            p.push(format!("cycle of {} ns is out of range", self.cycle_ns));
        }
        if let Mode::TxtimeAssist { delay_ns } = mode
            && u64::from(delay_ns) >= self.cycle_ns
        {
            p.push(format!(
                "txtime delay {delay_ns} ns is not shorter than the cycle ({} ns)",
                self.cycle_ns
            ));
        }
        for (i, v) in self.vlans.iter().enumerate() {
            p.extend(v.problems());
            if self.vlans[..i].iter().any(|o| o.name == v.name) {
                p.push(format!("VLAN device {} is given twice", v.name));
            }
        }
        if self.max_sdu.len() > usize::from(self.num_tc) {
            p.push(format!(
                "{} max-sdu values for {} classes",
                self.max_sdu.len(),
                self.num_tc
            ));
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(PlanError {
                dev: self.dev.clone(),
                label: self.label.clone(),
                problems: p,
            })
        }
    }

    /// The taprio options for this plan. Call [`PortPlan::check`] first.
    pub fn taprio(&self, mode: Mode, base_time_ns: i64) -> TaprioOptions {
        let queues: Vec<(u16, u16)> = (0..u16::from(self.num_tc)).map(|i| (1, i)).collect();
        let (clockid, flags, txtime_delay) = match mode {
            Mode::Software => (Some(CLOCK_TAI), None, None),
            Mode::TxtimeAssist { delay_ns } => (
                Some(CLOCK_TAI),
                Some(taprio_flags::TXTIME_ASSIST),
                Some(delay_ns),
            ),
            Mode::FullOffload => (None, Some(taprio_flags::FULL_OFFLOAD), None),
        };
        TaprioOptions {
            priomap: MqprioQopt::new(self.prio_tc_map, &queues).ok(),
            clockid,
            flags,
            txtime_delay,
            sched: Sched {
                base_time: Some(base_time_ns),
                cycle_time: i64::try_from(self.cycle_ns).ok(),
                cycle_time_extension: None,
                entries: self
                    .entries
                    .iter()
                    .map(|&(m, d)| {
                        SchedEntry::set_gates(u32::from(m), u32::try_from(d).unwrap_or(u32::MAX))
                    })
                    .collect(),
            },
            admin: None,
            tc_entries: self
                .max_sdu
                .iter()
                .enumerate()
                .filter(|(_, s)| **s > 0)
                .map(|(i, &s)| tsn_netlink::TcEntry {
                    index: i as u32,
                    max_sdu: Some(s),
                    fp: None,
                    unknown: Vec::new(),
                })
                .collect(),
            unknown: Vec::new(),
        }
    }

    /// What [`txn::apply`] needs for this plan: its qdiscs and VLAN devices.
    pub fn target(&self, mode: Mode, base_time_ns: i64) -> txn::Target {
        txn::Target {
            dev: self.dev.clone(),
            qdiscs: self.qdiscs(0, mode, base_time_ns),
            vlans: self.vlans.clone(),
        }
    }

    /// Root taprio, then (txtime-assist) one etf per class queue, for interface `ifindex`.
    pub fn qdiscs(&self, ifindex: i32, mode: Mode, base_time_ns: i64) -> Vec<Qdisc> {
        let mut v = vec![Qdisc::new(
            ifindex,
            TC_H_ROOT,
            handle(ROOT_MAJOR, 0),
            QdiscOptions::Taprio(self.taprio(mode, base_time_ns)),
        )];
        if let Mode::TxtimeAssist { delay_ns } = mode {
            for q in 0..u16::from(self.num_tc) {
                v.push(Qdisc::new(
                    ifindex,
                    handle(ROOT_MAJOR, q + 1),
                    0,
                    QdiscOptions::Etf(EtfOptions {
                        delta_ns: i32::try_from(delay_ns).unwrap_or(i32::MAX),
                        clockid: CLOCK_TAI,
                        flags: etf_flags::SKIP_SOCK_CHECK,
                        unknown: Vec::new(),
                    }),
                ));
            }
        }
        v
    }
}

/// The first multiple of `cycle_ns` at least `lead_ns` after `now_tai_ns`: the schedule's
/// time 0 falls on a cycle start, as the schedule's time base requires.
pub fn base_time(now_tai_ns: i64, cycle_ns: u64, lead_ns: u64) -> i64 {
    let cycle = i128::from(cycle_ns.max(1));
    let earliest = i128::from(now_tai_ns) + i128::from(lead_ns);
    let k = earliest.div_euclid(cycle) + i128::from(earliest.rem_euclid(cycle) != 0);
    i64::try_from(k * cycle).unwrap_or(i64::MAX)
}

/// Why `tsn apply --node` cannot build plans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodePlanError {
    /// No such node in the plant.
    #[error("no node {0:?} in the plant")]
    UnknownNode(String),
    /// A `--port` names a neighbour the node has no link to.
    #[error("{node} has no link to {to:?} (its neighbours: {neighbours})")]
    UnknownPort {
        /// The node.
        node: String,
        /// The neighbour given.
        to: String,
        /// The real neighbours.
        neighbours: String,
    },
    /// The schedule has no gate control list for any port of the node.
    #[error("the schedule has no gate control list for any port of {0}")]
    NothingToApply(String),
}

/// One plan per egress port of `node` that has a gate control list in `schedule`. `devs`
/// maps neighbour names to devices; a port without an entry uses the neighbour's name as
/// the device name.
pub fn plan_node(
    plant: &Plant,
    schedule: &Schedule,
    node: &str,
    devs: &BTreeMap<String, String>,
) -> Result<Vec<PortPlan>, NodePlanError> {
    let id = plant
        .node_id(node)
        .ok_or_else(|| NodePlanError::UnknownNode(node.into()))?;
    let neighbours: Vec<String> = plant
        .ports_of(id)
        .map(|p| plant.nodes[plant.ports[p].to].name.clone())
        .collect();
    if let Some(to) = devs.keys().find(|to| !neighbours.contains(to)) {
        return Err(NodePlanError::UnknownPort {
            node: node.into(),
            to: to.clone(),
            neighbours: neighbours.join(", "),
        });
    }
    let mut plans = Vec::new();
    for port in plant.ports_of(id) {
        let p = &plant.ports[port];
        let to = &plant.nodes[p.to].name;
        let Some(gcl) = schedule.port(node, to) else {
            continue;
        };
        let mut prio_tc_map = [p.priority_map[0]; 16];
        prio_tc_map[..8].copy_from_slice(&p.priority_map);
        plans.push(PortPlan {
            dev: devs.get(to).cloned().unwrap_or_else(|| to.clone()),
            label: format!("{node}->{to}"),
            num_tc: p.traffic_classes,
            prio_tc_map,
            cycle_ns: gcl.cycle_ns,
            entries: gcl
                .gcl
                .iter()
                .map(|e| (e.gate_mask, e.duration_ns))
                .collect(),
            max_sdu: Vec::new(),
            vlans: Vec::new(),
        });
    }
    if plans.is_empty() {
        return Err(NodePlanError::NothingToApply(node.into()));
    }
    Ok(plans)
}

/// `tc` command lines equivalent to installing `qdiscs` on `dev` (`tc -batch` syntax when
/// the leading `tc ` is removed). taprio lines carry every entry: `tc` itself refuses more
/// than 31, which is why we talk netlink.
pub fn tc_lines(dev: &str, qdiscs: &[Qdisc]) -> Vec<String> {
    qdiscs.iter().map(|q| tc_line(dev, q)).collect()
}

fn tc_line(dev: &str, q: &Qdisc) -> String {
    let mut s = format!("tc qdisc replace dev {dev} ");
    if q.parent == TC_H_ROOT {
        s.push_str("root");
    } else {
        let _ = write!(s, "parent {}", handle_to_string(q.parent));
    }
    if q.handle != 0 {
        let _ = write!(s, " handle {}", handle_to_string(q.handle));
    }
    let _ = write!(s, " {}", q.kind);
    match &q.options {
        Some(QdiscOptions::Taprio(t)) => {
            if let Some(p) = &t.priomap {
                write_map(&mut s, p);
            }
            let sched = &t.sched;
            if let Some(b) = sched.base_time {
                let _ = write!(s, " base-time {b}");
            }
            if let Some(c) = sched.cycle_time {
                let _ = write!(s, " cycle-time {c}");
            }
            if let Some(c) = sched.cycle_time_extension {
                let _ = write!(s, " cycle-time-extension {c}");
            }
            for e in &sched.entries {
                let _ = write!(
                    s,
                    " sched-entry {} {:02x} {}",
                    e.cmd.letter(),
                    e.gate_mask,
                    e.interval_ns
                );
            }
            if !t.tc_entries.is_empty() {
                let n = t.tc_entries.iter().map(|e| e.index + 1).max().unwrap_or(0);
                let sdu: Vec<String> = (0..n)
                    .map(|i| {
                        t.tc_entries
                            .iter()
                            .find(|e| e.index == i)
                            .and_then(|e| e.max_sdu)
                            .unwrap_or(0)
                            .to_string()
                    })
                    .collect();
                let _ = write!(s, " max-sdu {}", sdu.join(" "));
            }
            if let Some(f) = t.flags {
                let _ = write!(s, " flags {f:#x}");
            }
            if let Some(d) = t.txtime_delay {
                let _ = write!(s, " txtime-delay {d}");
            }
            if let Some(c) = t.clockid {
                let _ = write!(s, " clockid {}", clock_name(c));
            }
        }
        Some(QdiscOptions::Mqprio(m)) => {
            write_map(&mut s, &m.qopt);
            let _ = write!(s, " hw {}", m.qopt.hw);
        }
        Some(QdiscOptions::Etf(e)) => {
            let _ = write!(s, " clockid {} delta {}", clock_name(e.clockid), e.delta_ns);
            if e.flags & etf_flags::OFFLOAD != 0 {
                s.push_str(" offload");
            }
            if e.flags & etf_flags::DEADLINE_MODE != 0 {
                s.push_str(" deadline_mode");
            }
            if e.flags & etf_flags::SKIP_SOCK_CHECK != 0 {
                s.push_str(" skip_sock_check");
            }
        }
        Some(QdiscOptions::Cbs(c)) => {
            let _ = write!(
                s,
                " idleslope {} sendslope {} hicredit {} locredit {} offload {}",
                c.idleslope, c.sendslope, c.hicredit, c.locredit, c.offload
            );
        }
        _ => {}
    }
    s
}

fn write_map(s: &mut String, p: &MqprioQopt) {
    let map: Vec<String> = p.prio_tc_map.iter().map(u8::to_string).collect();
    let queues: Vec<String> = p.queues().iter().map(|(c, o)| format!("{c}@{o}")).collect();
    let _ = write!(
        s,
        " num_tc {} map {} queues {}",
        p.num_tc,
        map.join(" "),
        queues.join(" ")
    );
}

/// `CLOCK_TAI` and friends by name, as `tc` accepts them.
pub fn clock_name(id: i32) -> String {
    match id {
        0 => "CLOCK_REALTIME".into(),
        1 => "CLOCK_MONOTONIC".into(),
        7 => "CLOCK_BOOTTIME".into(),
        11 => "CLOCK_TAI".into(),
        x => x.to_string(),
    }
}

#[cfg(test)]
mod tests;
