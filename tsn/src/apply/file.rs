//! The per-interface file of `tsn apply --file`: schedules written by hand (or by another
//! tool) for named devices, loaded through `tsn-config` so every error names the YAML path
//! and line.
//!
//! ```yaml
//! interfaces:
//!   - device: eth0
//!     traffic-classes: 3
//!     priority-map: [2, 2, 1, 0, 2, 2, 2, 2]   # skb priority -> class; 8 or 16 entries
//!     cycle: 1ms                              # optional: the sum of the durations
//!     max-sdu: [0, 200, 0]                    # optional, bytes per class (0: no limit)
//!     gate-control-list:
//!       - { gates: [0], duration: 300us }     # open classes, how long
//!       - { gates: [1], duration: 300us }
//!       - { gates: [2], duration: 400us }
//!     vlan:                                   # optional: an 802.1Q device on top of eth0
//!       id: 10
//!       name: eth0.10                         # optional, default DEVICE.ID
//!       egress-qos-map: [0, 1, 2, 3, 4, 5, 6, 7]  # optional: skb priority -> PCP (identity)
//! ```

use std::path::Path;

use serde::Deserialize;
use tsn_config::{DurationNs, Issue, YamlPath};

use super::{PortPlan, VlanPlan, ifname_problem};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InterfacesFile {
    /// One entry per device.
    pub interfaces: Vec<InterfaceYaml>,
}

/// One device's schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InterfaceYaml {
    /// Network device name.
    pub device: String,
    /// Traffic classes, 1..=8.
    pub traffic_classes: u8,
    /// skb priority -> traffic class, 8 or 16 entries (8: priorities 8..=15 use the class of
    /// priority 0). Default: priority p -> min(p, classes - 1).
    #[serde(default)]
    pub priority_map: Option<Vec<u8>>,
    /// Cycle; default the sum of the durations.
    #[serde(default)]
    pub cycle: Option<DurationNs>,
    /// Largest SDU per class in bytes; 0 means no limit.
    #[serde(default)]
    pub max_sdu: Vec<u32>,
    /// The gate control list.
    pub gate_control_list: Vec<GclYaml>,
    /// An 802.1Q device to create on top of the device.
    #[serde(default)]
    pub vlan: Option<VlanYaml>,
}

/// A VLAN device on top of an interface.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VlanYaml {
    /// VLAN id, 1..=4094.
    pub id: u16,
    /// Device name; default `DEVICE.ID`.
    #[serde(default)]
    pub name: Option<String>,
    /// skb priority p (0..=7) -> PCP, 8 entries; default identity (a stream's priority is
    /// its PCP).
    #[serde(default)]
    pub egress_qos_map: Option<Vec<u8>>,
}

/// One entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GclYaml {
    /// Traffic classes whose gates are open.
    pub gates: Vec<u8>,
    /// How long.
    pub duration: DurationNs,
}

/// Reads `path` into one plan per interface; every problem comes back with its YAML path and
/// line.
pub fn load(path: impl AsRef<Path>) -> tsn_config::Result<Vec<PortPlan>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    tsn_config::from_path_with(path, |f: InterfacesFile| plans(&f, &name))
}

/// Like [`load`] for text.
pub fn from_yaml(text: &str, source_name: &str) -> tsn_config::Result<Vec<PortPlan>> {
    tsn_config::from_str_with(text, source_name, |f: InterfacesFile| {
        plans(&f, source_name)
    })
}

fn plans(f: &InterfacesFile, source: &str) -> Result<Vec<PortPlan>, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut out = Vec::new();
    for (i, itf) in f.interfaces.iter().enumerate() {
        let ip = YamlPath::root().key("interfaces").index(i);
        if f.interfaces[..i].iter().any(|o| o.device == itf.device) {
            issues.push(Issue::new(
                ip.key("device"),
                format!("device {:?} appears twice", itf.device),
            ));
        }
        let classes = itf.traffic_classes;
        if !(1..=8).contains(&classes) {
            issues.push(Issue::new(
                ip.key("traffic-classes"),
                "must be between 1 and 8",
            ));
        }
        let last = classes.saturating_sub(1);
        let mut prio_tc_map = [0u8; 16];
        match &itf.priority_map {
            None => {
                for (p, c) in prio_tc_map.iter_mut().enumerate().take(8) {
                    *c = (p as u8).min(last);
                }
            }
            Some(m) if m.len() == 8 || m.len() == 16 => {
                for (j, &c) in m.iter().enumerate() {
                    if c > last {
                        issues.push(Issue::new(
                            ip.key("priority-map").index(j),
                            format!("class {c} does not exist (classes 0..={last})"),
                        ));
                    }
                }
                prio_tc_map[..m.len()].copy_from_slice(m);
                if m.len() == 8 {
                    let be = m[0];
                    prio_tc_map[8..].fill(be);
                }
            }
            Some(m) => issues.push(Issue::new(
                ip.key("priority-map"),
                format!("has {} entries; give 8 or 16", m.len()),
            )),
        }
        if itf.gate_control_list.is_empty() {
            issues.push(Issue::new(ip.key("gate-control-list"), "must not be empty"));
        }
        let mut entries = Vec::new();
        for (j, e) in itf.gate_control_list.iter().enumerate() {
            let ep = ip.key("gate-control-list").index(j);
            let mut mask = 0u8;
            for (k, &g) in e.gates.iter().enumerate() {
                if g > last {
                    issues.push(Issue::new(
                        ep.key("gates").index(k),
                        format!("class {g} does not exist (classes 0..={last})"),
                    ));
                } else {
                    mask |= 1 << g;
                }
            }
            if e.duration.0 == 0 {
                issues.push(Issue::new(ep.key("duration"), "must be > 0"));
            } else if e.duration.0 > u64::from(u32::MAX) {
                issues.push(Issue::new(
                    ep.key("duration"),
                    format!("at most {} ns (taprio intervals are 32-bit)", u32::MAX),
                ));
            }
            entries.push((mask, e.duration.0));
        }
        let sum: u64 = entries.iter().map(|e| e.1).fold(0, u64::saturating_add);
        let cycle_ns = itf.cycle.map_or(sum, |c| c.0);
        if cycle_ns != sum {
            issues.push(Issue::new(
                ip.key("cycle"),
                format!("the durations sum to {sum} ns but the cycle is {cycle_ns} ns"),
            ));
        }
        if itf.max_sdu.len() > usize::from(classes) {
            issues.push(Issue::new(
                ip.key("max-sdu"),
                format!("{} values for {classes} classes", itf.max_sdu.len()),
            ));
        }
        let mut vlans = Vec::new();
        if let Some(v) = &itf.vlan {
            let vp = ip.key("vlan");
            let mut plan = VlanPlan::identity(&itf.device, v.id);
            if !(1..=4094).contains(&v.id) {
                issues.push(Issue::new(vp.key("id"), "must be between 1 and 4094"));
            }
            if let Some(n) = &v.name {
                plan.name.clone_from(n);
            }
            if let Some(why) = ifname_problem(&plan.name) {
                let at = if v.name.is_some() {
                    vp.key("name")
                } else {
                    vp.clone()
                };
                issues.push(Issue::new(at, format!("device name {:?} {why}", plan.name)));
            }
            if let Some(m) = &v.egress_qos_map {
                if m.len() == 8 {
                    for (j, &pcp) in m.iter().enumerate() {
                        if pcp > 7 {
                            issues.push(Issue::new(
                                vp.key("egress-qos-map").index(j),
                                format!("PCP {pcp} does not exist (PCPs are 0..=7)"),
                            ));
                        }
                    }
                    plan.egress_pcp.copy_from_slice(m);
                } else {
                    issues.push(Issue::new(
                        vp.key("egress-qos-map"),
                        format!(
                            "has {} entries; give 8 (the PCP of skb priorities 0..=7)",
                            m.len()
                        ),
                    ));
                }
            }
            if f.interfaces[..i].iter().any(|o| {
                o.vlan.as_ref().is_some_and(|ov| {
                    ov.name
                        .clone()
                        .unwrap_or_else(|| format!("{}.{}", o.device, ov.id))
                        == plan.name
                })
            }) {
                issues.push(Issue::new(
                    vp.clone(),
                    format!("VLAN device {:?} appears twice", plan.name),
                ));
            }
            vlans.push(plan);
        }
        out.push(PortPlan {
            dev: itf.device.clone(),
            label: format!("{source}: interfaces[{i}]"),
            num_tc: classes,
            prio_tc_map,
            cycle_ns,
            entries,
            max_sdu: itf.max_sdu.clone(),
            vlans,
        });
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}
