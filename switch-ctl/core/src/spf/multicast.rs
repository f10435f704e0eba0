//! I-SID multicast trees: the part of a source's shortest-path tree that reaches the other
//! members of the service.

use std::collections::BTreeMap;

use super::{BridgeIndex, EctAlgorithm, Spf};

/// The multicast tree of one source for one I-SID and ECT algorithm: the union of the chosen
/// unicast paths from the source to every other member, so it is congruent with unicast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MulticastTree {
    /// The algorithm.
    pub ect: EctAlgorithm,
    /// The root (the bridge that transmits on the I-SID).
    pub source: BridgeIndex,
    /// For every bridge on the tree with at least one downstream branch, the neighbours it
    /// sends to (its multicast egress ports), ascending. The source is included if any
    /// member is reachable.
    pub egress: BTreeMap<BridgeIndex, Vec<BridgeIndex>>,
    /// Members the source cannot reach.
    pub unreachable: Vec<BridgeIndex>,
}

impl MulticastTree {
    /// The tree's links as `(upstream, downstream)` pairs, depth first from the source
    /// (each bridge's branches in ascending order).
    pub fn edges(&self) -> Vec<(BridgeIndex, BridgeIndex)> {
        let mut out = Vec::new();
        let mut stack = vec![self.source];
        while let Some(up) = stack.pop() {
            if let Some(downs) = self.egress.get(&up) {
                // Pushed in reverse so that the lowest branch is walked first.
                for &d in downs.iter().rev() {
                    stack.push(d);
                }
                let at = out.len();
                out.extend(downs.iter().map(|&d| (up, d)));
                // Keep a bridge's own links together, ahead of its subtrees.
                out[at..].sort_unstable();
            }
        }
        out
    }

    /// The upstream neighbour of `bridge` on this tree (its expected ingress port), or
    /// `None` for the source and for bridges off the tree.
    pub fn ingress(&self, bridge: BridgeIndex) -> Option<BridgeIndex> {
        self.egress
            .iter()
            .find(|(_, downs)| downs.contains(&bridge))
            .map(|(&up, _)| up)
    }
}

impl Spf {
    /// The multicast tree from `source` to the other `members` (the bridges advertising the
    /// I-SID; `source` itself may be among them), or `None` if `ect` was not computed or
    /// `source` is out of range. Members out of range are ignored.
    pub fn multicast_tree(
        &self,
        ect: EctAlgorithm,
        source: BridgeIndex,
        members: &[BridgeIndex],
    ) -> Option<MulticastTree> {
        let tree = self.tree(ect, source)?;
        let n = self.topology().len();
        let mut on_tree = vec![false; n];
        on_tree[source] = true;
        let mut egress: BTreeMap<BridgeIndex, Vec<BridgeIndex>> = BTreeMap::new();
        let mut unreachable = Vec::new();
        for &m in members.iter().filter(|&&m| m < n) {
            if !tree.reaches(m) {
                if !unreachable.contains(&m) {
                    unreachable.push(m);
                }
                continue;
            }
            // Walk up until the path joins the part already on the tree.
            let mut v = m;
            while !on_tree[v] {
                on_tree[v] = true;
                let Some(p) = tree.parent(v) else { break };
                egress.entry(p).or_default().push(v);
                v = p;
            }
        }
        for downs in egress.values_mut() {
            downs.sort_unstable();
        }
        unreachable.sort_unstable();
        Some(MulticastTree {
            ect,
            source,
            egress,
            unreachable,
        })
    }
}
