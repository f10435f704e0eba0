//! `switch-ctl spf`: the offline computation and its JSON and text renderings.
//!
//! JSON fields (kebab-case), all lists in a stable order:
//! - `ects`: the algorithms computed (`index`, `algorithm` such as `00-80-C2-01`, `mask`);
//! - `bridges`: `name`, `system-id`, `priority`, `bridge-id`, `isids`;
//! - `paths`: for every selected algorithm and ordered pair of distinct bridges: `ect`
//!   (index), `src`, `dst`, `reachable`, `path` (bridge names, `src` first; empty when
//!   unreachable), `cost` and `hops` (null when unreachable);
//! - `unreachable`: the ordered pairs `{src, dst}` with no path (a partitioned network);
//! - `forwarding`: per bridge, `unicast` entries `{ect, dst, port}` (the port is named after
//!   the neighbour it leads to) and `multicast` entries `{ect, isid, src, ingress, egress}`
//!   for every I-SID tree through the bridge;
//! - `isid-trees`: per algorithm, I-SID and member bridge as source: `members`, `edges`
//!   (`[upstream, downstream]` pairs, the union of the unicast paths from `src` to the other
//!   members) and `unreachable` members.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use switch_ctl_core::spf::{BridgeIndex, EctAlgorithm, Spf};

use crate::topology::Network;

/// Everything `switch-ctl spf` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SpfReport {
    /// Algorithms computed.
    pub ects: Vec<EctInfo>,
    /// The bridges, in file order.
    pub bridges: Vec<BridgeInfo>,
    /// Every ordered pair for every algorithm.
    pub paths: Vec<PathEntry>,
    /// Ordered pairs without a path.
    pub unreachable: Vec<Pair>,
    /// Forwarding entries per bridge.
    pub forwarding: Vec<BridgeForwarding>,
    /// Multicast trees per algorithm, I-SID and source.
    pub isid_trees: Vec<IsidTree>,
}

/// One ECT algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EctInfo {
    /// 1..=16.
    pub index: u8,
    /// `00-80-C2-01` ..= `00-80-C2-10`.
    pub algorithm: String,
    /// `0x00` ..= `0xFF`.
    pub mask: String,
}

/// One bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BridgeInfo {
    /// Name.
    pub name: String,
    /// `0000.0000.0001`.
    pub system_id: String,
    /// Bridge priority.
    pub priority: u16,
    /// Priority and system ID, `8000.0000.0000.0001`.
    pub bridge_id: String,
    /// Member I-SIDs.
    pub isids: Vec<u32>,
}

/// The chosen path of one ordered pair under one algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PathEntry {
    /// Algorithm index.
    pub ect: u8,
    /// Source bridge.
    pub src: String,
    /// Destination bridge.
    pub dst: String,
    /// Whether a path exists.
    pub reachable: bool,
    /// Bridge names from `src` to `dst`; empty if unreachable.
    pub path: Vec<String>,
    /// Sum of link metrics.
    pub cost: Option<u64>,
    /// Number of links.
    pub hops: Option<u32>,
}

/// An ordered pair of bridges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    /// Source.
    pub src: String,
    /// Destination.
    pub dst: String,
}

/// A bridge's forwarding state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BridgeForwarding {
    /// The bridge.
    pub bridge: String,
    /// One entry per algorithm and reachable destination.
    pub unicast: Vec<UnicastEntry>,
    /// One entry per I-SID tree through this bridge.
    pub multicast: Vec<MulticastEntry>,
}

/// Unicast: frames for `dst` leave through `port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct UnicastEntry {
    /// Algorithm index.
    pub ect: u8,
    /// Destination bridge (its B-MAC is its system ID).
    pub dst: String,
    /// The port, named after the neighbour it leads to.
    pub port: String,
}

/// Multicast: frames of `isid` from `src` arrive on `ingress` and leave on `egress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MulticastEntry {
    /// Algorithm index.
    pub ect: u8,
    /// The I-SID.
    pub isid: u32,
    /// The source bridge (root of the tree).
    pub src: String,
    /// The port towards `src`; null on `src` itself.
    pub ingress: Option<String>,
    /// Ports towards downstream members, ascending by neighbour index.
    pub egress: Vec<String>,
}

/// One I-SID multicast tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct IsidTree {
    /// Algorithm index.
    pub ect: u8,
    /// The I-SID.
    pub isid: u32,
    /// The root.
    pub src: String,
    /// All bridges with the I-SID, `src` included.
    pub members: Vec<String>,
    /// `[upstream, downstream]` links of the tree.
    pub edges: Vec<[String; 2]>,
    /// Members `src` cannot reach.
    pub unreachable: Vec<String>,
}

impl SpfReport {
    /// Computes every tree of `net` for `ects` and collects the report.
    pub fn compute(net: &Network, ects: &[EctAlgorithm]) -> Self {
        let spf = Spf::compute(&net.topology, ects);
        Self::from_spf(net, &spf)
    }

    /// Builds the report from already computed trees of `net.topology`.
    pub fn from_spf(net: &Network, spf: &Spf) -> Self {
        let name = |i: BridgeIndex| net.names[i].clone();
        let n = net.topology.len();
        let ects = spf
            .ects()
            .iter()
            .map(|e| EctInfo {
                index: e.index(),
                algorithm: e.to_string(),
                mask: format!("0x{:02X}", e.mask()),
            })
            .collect();
        let bridges = net
            .topology
            .bridges()
            .iter()
            .enumerate()
            .map(|(i, b)| BridgeInfo {
                name: name(i),
                system_id: b.system_id.to_string(),
                priority: b.priority,
                bridge_id: b.to_string(),
                isids: net.isids[i].clone(),
            })
            .collect();

        let mut paths = Vec::new();
        let mut unreachable = Vec::new();
        for (slot, &ect) in spf.ects().iter().enumerate() {
            for src in 0..n {
                let Some(tree) = spf.tree(ect, src) else {
                    continue;
                };
                for dst in (0..n).filter(|&d| d != src) {
                    let path = tree.path_to(dst);
                    let dist = tree.distance(dst);
                    if path.is_none() && slot == 0 {
                        unreachable.push(Pair {
                            src: name(src),
                            dst: name(dst),
                        });
                    }
                    paths.push(PathEntry {
                        ect: ect.index(),
                        src: name(src),
                        dst: name(dst),
                        reachable: path.is_some(),
                        path: path.unwrap_or_default().into_iter().map(name).collect(),
                        cost: dist.map(|d| d.cost),
                        hops: dist.map(|d| d.hops),
                    });
                }
            }
        }

        let mut forwarding: Vec<BridgeForwarding> = (0..n)
            .map(|b| BridgeForwarding {
                bridge: name(b),
                unicast: spf
                    .ects()
                    .iter()
                    .flat_map(|&ect| {
                        (0..n).filter_map(move |dst| {
                            spf.next_hop(ect, b, dst).map(|hop| UnicastEntry {
                                ect: ect.index(),
                                dst: name(dst),
                                port: name(hop),
                            })
                        })
                    })
                    .collect(),
                multicast: Vec::new(),
            })
            .collect();

        let all_isids: BTreeSet<u32> = net.isids.iter().flatten().copied().collect();
        let mut isid_trees = Vec::new();
        for &ect in spf.ects() {
            for &isid in &all_isids {
                let members: Vec<BridgeIndex> =
                    (0..n).filter(|&b| net.isids[b].contains(&isid)).collect();
                for &src in &members {
                    let Some(tree) = spf.multicast_tree(ect, src, &members) else {
                        continue;
                    };
                    let mut on_tree: BTreeSet<BridgeIndex> = BTreeSet::new();
                    for &(up, down) in &tree.edges() {
                        on_tree.insert(up);
                        on_tree.insert(down);
                    }
                    for &b in &on_tree {
                        forwarding[b].multicast.push(MulticastEntry {
                            ect: ect.index(),
                            isid,
                            src: name(src),
                            ingress: tree.ingress(b).map(name),
                            egress: tree
                                .egress
                                .get(&b)
                                .map(|d| d.iter().copied().map(name).collect())
                                .unwrap_or_default(),
                        });
                    }
                    isid_trees.push(IsidTree {
                        ect: ect.index(),
                        isid,
                        src: name(src),
                        members: members.iter().copied().map(name).collect(),
                        edges: tree
                            .edges()
                            .into_iter()
                            .map(|(u, d)| [name(u), name(d)])
                            .collect(),
                        unreachable: tree.unreachable.iter().copied().map(name).collect(),
                    });
                }
            }
        }

        Self {
            ects,
            bridges,
            paths,
            unreachable,
            forwarding,
            isid_trees,
        }
    }

    /// The human-readable rendering: a path table per algorithm, then the I-SID trees.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let width = self
            .bridges
            .iter()
            .map(|b| b.name.len())
            .max()
            .unwrap_or(0)
            .max(3);
        for e in &self.ects {
            let _ = writeln!(out, "ECT-{} ({}, mask {})", e.index, e.algorithm, e.mask);
            let _ = writeln!(
                out,
                "  {:<width$}  {:<width$}  {:>10}  {:>4}  path",
                "src", "dst", "cost", "hops"
            );
            for p in self.paths.iter().filter(|p| p.ect == e.index) {
                let (cost, hops, path) = match (p.cost, p.hops) {
                    (Some(c), Some(h)) => (c.to_string(), h.to_string(), p.path.join(" > ")),
                    _ => ("-".to_owned(), "-".to_owned(), "unreachable".to_owned()),
                };
                let _ = writeln!(
                    out,
                    "  {:<width$}  {:<width$}  {cost:>10}  {hops:>4}  {path}",
                    p.src, p.dst
                );
            }
            let trees: Vec<&IsidTree> = self
                .isid_trees
                .iter()
                .filter(|t| t.ect == e.index)
                .collect();
            if !trees.is_empty() {
                let _ = writeln!(out, "  I-SID trees:");
            }
            for t in trees {
                let edges: Vec<String> = t.edges.iter().map(|[u, d]| format!("{u}>{d}")).collect();
                let edges = if edges.is_empty() {
                    "(no other member reachable)".to_owned()
                } else {
                    edges.join(" ")
                };
                let _ = writeln!(out, "    I-SID {} from {}: {edges}", t.isid, t.src);
            }
            out.push('\n');
        }
        if !self.unreachable.is_empty() {
            let _ = writeln!(out, "unreachable pairs (partitioned network):");
            for p in &self.unreachable {
                let _ = writeln!(out, "  {} -> {}", p.src, p.dst);
            }
        }
        out
    }
}
