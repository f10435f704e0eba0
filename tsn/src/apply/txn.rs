//! The transaction: install qdiscs on several interfaces, all or none.
//!
//! Before changing anything, every device is resolved and its qdiscs are read. Then each
//! interface gets its qdiscs in turn (root first, then children). If any step fails, every
//! interface touched so far, the failing one included, is restored in reverse order: our
//! root is deleted (the kernel re-attaches its default qdisc) and, when the previous root was
//! one someone installed (non-zero handle), it and its children are created again from
//! what was read. The error carries the kernel's extended-ack text, our explanation and
//! whatever could not be restored.
//!
//! VLAN devices: before the first change each one is looked up; an existing device of that
//! name must already be that VLAN on that interface (its egress map is then updated), else
//! nothing is changed. After an interface's qdiscs, its VLAN devices are created (up) or
//! updated; rollback deletes the ones it created and puts the old egress maps back.

use tsn_netlink::{Ack, Link, Qdisc, QdiscOptions, QosMapping, Rtnl, TC_H_ROOT, TaprioOptions};

use super::VlanPlan;

/// What the transaction needs from the kernel; [`Rtnl`] in production, a model in tests.
pub trait Kernel {
    /// Interface index of `dev`.
    fn ifindex(&mut self, dev: &str) -> tsn_netlink::Result<i32>;
    /// Every qdisc of the interface.
    fn qdiscs(&mut self, ifindex: i32) -> tsn_netlink::Result<Vec<Qdisc>>;
    /// Create or replace.
    fn replace(&mut self, q: &Qdisc) -> tsn_netlink::Result<Ack>;
    /// Delete the qdisc attached at `parent`.
    fn delete(&mut self, ifindex: i32, parent: u32) -> tsn_netlink::Result<()>;
    /// The link named `name`, if any.
    fn link(&mut self, name: &str) -> tsn_netlink::Result<Option<Link>>;
    /// Create a link (`ip link add`).
    fn create_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack>;
    /// Change a link (`ip link set`).
    fn change_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack>;
    /// Delete a link.
    fn delete_link(&mut self, ifindex: i32) -> tsn_netlink::Result<()>;
}

impl Kernel for Rtnl {
    fn ifindex(&mut self, dev: &str) -> tsn_netlink::Result<i32> {
        tsn_netlink::ifindex(dev)
    }
    fn qdiscs(&mut self, ifindex: i32) -> tsn_netlink::Result<Vec<Qdisc>> {
        Self::qdiscs(self, ifindex)
    }
    fn replace(&mut self, q: &Qdisc) -> tsn_netlink::Result<Ack> {
        let what = format!(
            "{} qdisc at {}",
            q.kind,
            tsn_netlink::handle_to_string(q.parent)
        );
        self.request(&what, |seq| q.replace_message(seq))
    }
    fn delete(&mut self, ifindex: i32, parent: u32) -> tsn_netlink::Result<()> {
        self.request("deleting the qdisc", |seq| {
            Qdisc::delete_message(ifindex, parent, 0, seq)
        })
        .map(drop)
    }
    fn link(&mut self, name: &str) -> tsn_netlink::Result<Option<Link>> {
        self.link_by_name(name)
    }
    fn create_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack> {
        let what = format!("creating {}", l.name.as_deref().unwrap_or("a link"));
        self.request(&what, |seq| l.create_message(seq))
    }
    fn change_link(&mut self, l: &Link) -> tsn_netlink::Result<Ack> {
        self.request("changing the link", |seq| l.change_message(seq))
    }
    fn delete_link(&mut self, ifindex: i32) -> tsn_netlink::Result<()> {
        self.request("deleting the link", |seq| {
            Link::delete_message(ifindex, seq)
        })
        .map(drop)
    }
}

/// One interface, the qdiscs it should get (their `ifindex` is filled in here) and the VLAN
/// devices to put on top of it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Device name.
    pub dev: String,
    /// Root first, then children.
    pub qdiscs: Vec<Qdisc>,
    /// VLAN devices on top of `dev`.
    pub vlans: Vec<VlanPlan>,
}

/// A successful transaction.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// `(device, warning)` for every extended-ack warning the kernel sent.
    pub warnings: Vec<(String, String)>,
}

/// A failed transaction.
#[derive(Debug, thiserror::Error)]
#[error("{dev}: {step}: {source}{}{}", hint.map(|h| format!("\n  why: {h}")).unwrap_or_default(), rollback_report(restored, rollback_failures))]
pub struct ApplyError {
    /// The interface where it failed.
    pub dev: String,
    /// What we were doing.
    pub step: String,
    /// The kernel's (or socket's) error, extended-ack text included.
    pub source: tsn_netlink::Error,
    /// Our explanation of the kernel's answer.
    pub hint: Option<&'static str>,
    /// Interfaces put back as they were.
    pub restored: Vec<String>,
    /// What could not be restored.
    pub rollback_failures: Vec<String>,
}

fn rollback_report(restored: &[String], failures: &[String]) -> String {
    let mut s = String::new();
    if !restored.is_empty() {
        s.push_str(&format!("\n  restored: {}", restored.join(", ")));
    }
    for f in failures {
        s.push_str(&format!("\n  NOT RESTORED: {f}"));
    }
    s
}

/// What a kernel refusal means for a taprio user; `None` if we have nothing to add.
pub fn explain(err: &tsn_netlink::Error) -> Option<&'static str> {
    let tsn_netlink::Error::Kernel { errno, extack, .. } = err else {
        if let tsn_netlink::Error::NoSuchDevice(_) = err {
            return Some("the device does not exist in this network namespace");
        }
        return None;
    };
    let t = extack.as_deref().unwrap_or("");
    let rules: [(&str, &'static str); 11] = [
        (
            "Unknown device type",
            "this kernel lacks 802.1Q VLAN devices (CONFIG_VLAN_8021Q); try `modprobe 8021q`, or apply without the VLAN settings",
        ),
        (
            "qdisc kind is unknown",
            "this kernel lacks the qdisc (CONFIG_NET_SCH_TAPRIO/MQPRIO/ETF/CBS); try `modprobe sch_taprio`",
        ),
        (
            "Changing the traffic mapping",
            "the number of classes, priority map or queues cannot change on a running taprio; delete it first (tsn apply does so when it sees a different map)",
        ),
        (
            "clockid",
            "software and txtime-assist taprio need a clock id (CLOCK_TAI); full offload must not have one, the NIC's PTP clock is used",
        ),
        (
            "PTP clock",
            "full offload needs a NIC with a PTP hardware clock and taprio offload; use --mode software",
        ),
        (
            "Multi-queue",
            "taprio needs a multi-queue device: one tx queue per traffic class",
        ),
        (
            "overlap",
            "two traffic classes share a tx queue; each class needs its own queues",
        ),
        (
            "start time",
            "an interval is 0 or the base time cannot be used",
        ),
        (
            "Invalid interval",
            "an interval is 0 or longer than the cycle",
        ),
        (
            "offload",
            "the device cannot offload this qdisc; use software mode",
        ),
        (
            "cycle",
            "the cycle time must be positive and at least the sum of the intervals",
        ),
    ];
    if let Some((_, h)) = rules.iter().find(|(k, _)| t.contains(k)) {
        return Some(h);
    }
    match *errno {
        libc::EPERM => Some("changing qdiscs needs CAP_NET_ADMIN (run as root)"),
        libc::EOPNOTSUPP => {
            Some("the device or kernel does not support this mode; use --mode software")
        }
        libc::ERANGE => Some("the base time or a time value is out of the kernel's range"),
        libc::EBUSY => Some("the qdisc is busy; another schedule change is pending"),
        libc::ENETDOWN => Some(
            "VLAN devices are created up, which needs the lower device up: `ip link set DEV up` first",
        ),
        libc::EEXIST => Some("a device of that name exists already"),
        _ => None,
    }
}

/// Applies every target, or none: see the module documentation.
pub fn apply(k: &mut impl Kernel, targets: &[Target]) -> Result<Applied, Box<ApplyError>> {
    let fail = |dev: &str, step: &str, source: tsn_netlink::Error| {
        Box::new(ApplyError {
            dev: dev.into(),
            step: step.into(),
            hint: explain(&source),
            source,
            restored: Vec::new(),
            rollback_failures: Vec::new(),
        })
    };
    // Resolve and snapshot everything before the first change.
    let mut prepared = Vec::new();
    for t in targets {
        let ifindex = k
            .ifindex(&t.dev)
            .map_err(|e| fail(&t.dev, "looking up the device", e))?;
        let before = k
            .qdiscs(ifindex)
            .map_err(|e| fail(&t.dev, "reading its qdiscs", e))?;
        let mut vlans_before = Vec::new();
        for v in &t.vlans {
            let step = format!("looking up VLAN device {}", v.name);
            let old = k.link(&v.name).map_err(|e| fail(&t.dev, &step, e))?;
            if let Some(l) = &old
                && !(l.kind() == Some("vlan")
                    && l.lower == Some(ifindex)
                    && l.vlan().and_then(|o| o.id) == Some(v.id))
            {
                let what = match (l.kind(), l.vlan().and_then(|o| o.id)) {
                    (Some("vlan"), Some(id)) => format!("VLAN {id} on ifindex {:?}", l.lower),
                    (Some(kind), _) => format!("a {kind} device"),
                    (None, _) => "a device without link kind".into(),
                };
                let msg = format!(
                    "{} exists and is {what}, not VLAN {} on {}; remove or rename it",
                    v.name, v.id, t.dev
                );
                return Err(fail(&t.dev, &step, tsn_netlink::Error::Invalid(msg)));
            }
            vlans_before.push(old);
        }
        prepared.push((t, ifindex, before, vlans_before));
    }
    let mut applied = Applied::default();
    for (n, (t, ifindex, before, vlans_before)) in prepared.iter().enumerate() {
        if let Err(mut err) = install(k, t, *ifindex, before, vlans_before, &mut applied) {
            for (t, ifindex, before, vlans_before) in prepared[..=n].iter().rev() {
                let mut problems = restore_vlans(k, t, vlans_before).err().unwrap_or_default();
                problems.extend(restore(k, *ifindex, before).err().unwrap_or_default());
                if problems.is_empty() {
                    err.restored.push(t.dev.clone());
                } else {
                    err.rollback_failures
                        .extend(problems.into_iter().map(|f| format!("{}: {f}", t.dev)));
                }
            }
            return Err(err);
        }
    }
    Ok(applied)
}

fn install(
    k: &mut impl Kernel,
    t: &Target,
    ifindex: i32,
    before: &[Qdisc],
    vlans_before: &[Option<Link>],
    applied: &mut Applied,
) -> Result<(), Box<ApplyError>> {
    let fail = |step: String, source: tsn_netlink::Error| {
        Box::new(ApplyError {
            dev: t.dev.clone(),
            step,
            hint: explain(&source),
            source,
            restored: Vec::new(),
            rollback_failures: Vec::new(),
        })
    };
    let old_root = before.iter().find(|q| q.parent == TC_H_ROOT);
    let new_root = t.qdiscs.first().filter(|q| q.parent == TC_H_ROOT);
    // A running taprio cannot change its map, clock or mode: start from scratch then.
    if let (Some(old), Some(new)) = (old_root, new_root)
        && let (Some(o), Some(n)) = (old.taprio(), new.taprio())
        && !replaceable(o, n)
    {
        k.delete(ifindex, TC_H_ROOT).map_err(|e| {
            fail(
                "deleting the running taprio (different map or mode)".into(),
                e,
            )
        })?;
    }
    for q in &t.qdiscs {
        let mut q = q.clone();
        q.ifindex = ifindex;
        let ack = k.replace(&q).map_err(|e| {
            fail(
                format!(
                    "installing {} at {}",
                    q.kind,
                    tsn_netlink::handle_to_string(q.parent)
                ),
                e,
            )
        })?;
        if let Some(w) = ack.warning {
            applied.warnings.push((t.dev.clone(), w));
        }
    }
    for (v, old) in t.vlans.iter().zip(vlans_before) {
        let ack = match old {
            None => k
                .create_link(&v.link(ifindex))
                .map_err(|e| fail(format!("creating VLAN device {} (id {})", v.name, v.id), e))?,
            Some(l) => k
                .change_link(&Link::set_vlan_egress(l.ifindex, v.egress_map()))
                .map_err(|e| fail(format!("updating the VLAN egress-qos-map of {}", v.name), e))?,
        };
        if let Some(w) = ack.warning {
            applied.warnings.push((v.name.clone(), w));
        }
    }
    Ok(())
}

/// Deletes the VLAN devices of `t` that did not exist before and puts the old egress map
/// (priorities 0..=7) back on those that did.
fn restore_vlans(
    k: &mut impl Kernel,
    t: &Target,
    vlans_before: &[Option<Link>],
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (v, old) in t.vlans.iter().zip(vlans_before).rev() {
        let r = match old {
            None => match k.link(&v.name) {
                Ok(Some(now)) => k.delete_link(now.ifindex),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            },
            Some(l) => {
                let pcp = l.vlan().map(tsn_netlink::VlanOptions::egress_pcp);
                let map = (0..8u32)
                    .map(|from| QosMapping {
                        from,
                        to: pcp.map_or(0, |p| u32::from(p[from as usize])),
                    })
                    .collect();
                k.change_link(&Link::set_vlan_egress(l.ifindex, map))
                    .map(drop)
            }
        };
        if let Err(e) = r {
            problems.push(format!("VLAN device {}: {e}", v.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether `new` may replace the running `old` in place (same map, clock and flags).
fn replaceable(old: &TaprioOptions, new: &TaprioOptions) -> bool {
    let map = |t: &TaprioOptions| {
        t.priomap
            .as_ref()
            .map(|p| (p.num_tc, p.prio_tc_map, p.queues()))
    };
    map(old) == map(new)
        && old.clockid == new.clockid
        && old.flags.unwrap_or(0) == new.flags.unwrap_or(0)
}

/// Puts an interface back to `before`; the problems if that failed.
fn restore(k: &mut impl Kernel, ifindex: i32, before: &[Qdisc]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let old_root = before.iter().find(|q| q.parent == TC_H_ROOT);
    // Deleting a kernel default root fails harmlessly; anything we installed goes.
    let _ = k.delete(ifindex, TC_H_ROOT);
    let Some(root) = old_root.filter(|r| r.handle != 0) else {
        return Ok(());
    };
    let major = root.handle >> 16;
    let to_restore = std::iter::once(root).chain(
        before
            .iter()
            .filter(|q| q.handle != 0 && q.parent != TC_H_ROOT && q.parent >> 16 == major),
    );
    for q in to_restore {
        let q = recreatable(q, ifindex);
        if let Err(e) = k.replace(&q) {
            problems.push(format!(
                "{} {} at {}: {e}",
                q.kind,
                tsn_netlink::handle_to_string(q.handle),
                tsn_netlink::handle_to_string(q.parent)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A dumped qdisc as a creation request: taprio's pending schedule (or the running one)
/// moves to the top level; statistics are dropped.
fn recreatable(q: &Qdisc, ifindex: i32) -> Qdisc {
    let mut q = q.clone();
    q.ifindex = ifindex;
    q.info = 0;
    q.unknown.clear();
    if let Some(QdiscOptions::Taprio(t)) = &mut q.options {
        if let Some(admin) = t.admin.take() {
            t.sched = admin;
        }
        for e in &mut t.sched.entries {
            e.index = None;
        }
    }
    q
}
