//! The bridged network as the SPF sees it: bridges and symmetric point-to-point links.

use std::collections::{BTreeMap, HashMap};

use super::{BridgeId, SystemId};

/// Index of a bridge in a [`Topology`], in the order the bridges were added.
pub type BridgeIndex = usize;

/// The most bridges a topology may hold (2^20), so that a path's cost and hop count pack
/// into 64 bits in the SPF's inner loop.
pub const MAX_BRIDGES: usize = 1 << 20;

/// The largest SPB link metric: the SPB Link Metric sub-TLV carries 24 bits.
pub const MAX_LINK_METRIC: u32 = 0x00FF_FFFF;

/// Why a [`Topology`] edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// Two bridges may not share a system ID.
    #[error("system ID {0} is already used by bridge {1}")]
    DuplicateSystemId(SystemId, BridgeIndex),
    /// The bridge index is out of range.
    #[error("no bridge with index {0}")]
    UnknownBridge(BridgeIndex),
    /// A link must join two different bridges.
    #[error("bridge {0} cannot be linked to itself")]
    SelfLink(BridgeIndex),
    /// Link metrics are 1..=[`MAX_LINK_METRIC`].
    #[error("link metric {0} is outside 1..={MAX_LINK_METRIC}")]
    InvalidMetric(u32),
    /// Removing a link that does not exist.
    #[error("no link between bridges {0} and {1}")]
    NoSuchLink(BridgeIndex, BridgeIndex),
    /// More than [`MAX_BRIDGES`] bridges.
    #[error("more than {MAX_BRIDGES} bridges")]
    TooManyBridges,
}

/// A topology change for [`Spf::apply`](super::Spf::apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyChange {
    /// The link `a`-`b` comes up with `metric`, or its metric changes to `metric`.
    SetLink {
        /// One end.
        a: BridgeIndex,
        /// The other end.
        b: BridgeIndex,
        /// The new metric, 1..=[`MAX_LINK_METRIC`].
        metric: u32,
    },
    /// The link `a`-`b` goes down.
    RemoveLink {
        /// One end.
        a: BridgeIndex,
        /// The other end.
        b: BridgeIndex,
    },
}

/// Bridges (with their Bridge Identifiers) and undirected links with one metric each.
///
/// SPB needs the same metric in both directions for its paths to be symmetric; combining
/// two differently advertised directions into one value is the LSDB's job, not ours. At most
/// one link joins a pair of bridges: the PATHID names bridges, not links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    bridges: Vec<BridgeId>,
    by_system_id: HashMap<SystemId, BridgeIndex>,
    /// `(low index, high index) -> metric`.
    links: BTreeMap<(u32, u32), u32>,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bridge and returns its index.
    pub fn add_bridge(&mut self, id: BridgeId) -> Result<BridgeIndex, TopologyError> {
        if let Some(&other) = self.by_system_id.get(&id.system_id) {
            return Err(TopologyError::DuplicateSystemId(id.system_id, other));
        }
        let index = self.bridges.len();
        if index >= MAX_BRIDGES {
            return Err(TopologyError::TooManyBridges);
        }
        self.bridges.push(id);
        self.by_system_id.insert(id.system_id, index);
        Ok(index)
    }

    /// Sets the priority of bridge `v`; returns whether it changed.
    pub fn set_priority(&mut self, v: BridgeIndex, priority: u16) -> Result<bool, TopologyError> {
        let b = self
            .bridges
            .get_mut(v)
            .ok_or(TopologyError::UnknownBridge(v))?;
        let changed = b.priority != priority;
        b.priority = priority;
        Ok(changed)
    }

    /// Adds the link `a`-`b` or changes its metric; returns the previous metric, if any.
    pub fn set_link(
        &mut self,
        a: BridgeIndex,
        b: BridgeIndex,
        metric: u32,
    ) -> Result<Option<u32>, TopologyError> {
        let key = self.key(a, b)?;
        if metric == 0 || metric > MAX_LINK_METRIC {
            return Err(TopologyError::InvalidMetric(metric));
        }
        Ok(self.links.insert(key, metric))
    }

    /// Removes the link `a`-`b` and returns its metric.
    pub fn remove_link(&mut self, a: BridgeIndex, b: BridgeIndex) -> Result<u32, TopologyError> {
        let key = self.key(a, b)?;
        self.links
            .remove(&key)
            .ok_or(TopologyError::NoSuchLink(a, b))
    }

    /// Applies one change.
    pub fn apply(&mut self, change: TopologyChange) -> Result<(), TopologyError> {
        match change {
            TopologyChange::SetLink { a, b, metric } => self.set_link(a, b, metric).map(drop),
            TopologyChange::RemoveLink { a, b } => self.remove_link(a, b).map(drop),
        }
    }

    /// The number of bridges.
    pub fn len(&self) -> usize {
        self.bridges.len()
    }

    /// True when there are no bridges.
    pub fn is_empty(&self) -> bool {
        self.bridges.is_empty()
    }

    /// The Bridge Identifiers, by index.
    pub fn bridges(&self) -> &[BridgeId] {
        &self.bridges
    }

    /// The bridge with system ID `id`.
    pub fn find(&self, id: SystemId) -> Option<BridgeIndex> {
        self.by_system_id.get(&id).copied()
    }

    /// The metric of link `a`-`b`, if it exists.
    pub fn metric(&self, a: BridgeIndex, b: BridgeIndex) -> Option<u32> {
        self.key(a, b)
            .ok()
            .and_then(|k| self.links.get(&k).copied())
    }

    /// Every link once, as `(a, b, metric)` with `a < b`, in index order.
    pub fn links(&self) -> impl Iterator<Item = (BridgeIndex, BridgeIndex, u32)> + '_ {
        self.links
            .iter()
            .map(|(&(a, b), &m)| (a as BridgeIndex, b as BridgeIndex, m))
    }

    /// The number of links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    fn key(&self, a: BridgeIndex, b: BridgeIndex) -> Result<(u32, u32), TopologyError> {
        for x in [a, b] {
            if x >= self.bridges.len() {
                return Err(TopologyError::UnknownBridge(x));
            }
        }
        if a == b {
            return Err(TopologyError::SelfLink(a));
        }
        // Both indices are < len <= MAX_BRIDGES < u32::MAX.
        Ok((a.min(b) as u32, a.max(b) as u32))
    }
}

/// Compressed adjacency (CSR) built from a [`Topology`] for the hot loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    /// `adj[offsets[v]..offsets[v + 1]]` are `v`'s neighbours.
    pub(crate) offsets: Vec<u32>,
    /// `(neighbour, metric)`.
    pub(crate) adj: Vec<(u32, u32)>,
}

impl Graph {
    pub(crate) fn new(topology: &Topology) -> Self {
        let n = topology.len();
        let mut degree = vec![0u32; n + 1];
        for (a, b, _) in topology.links() {
            degree[a + 1] += 1;
            degree[b + 1] += 1;
        }
        for i in 0..n {
            degree[i + 1] += degree[i];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut adj = vec![(0, 0); topology.link_count() * 2];
        for (a, b, m) in topology.links() {
            adj[fill[a] as usize] = (b as u32, m);
            fill[a] += 1;
            adj[fill[b] as usize] = (a as u32, m);
            fill[b] += 1;
        }
        Self { offsets, adj }
    }

    #[inline]
    pub(crate) fn neighbours(&self, v: usize) -> &[(u32, u32)] {
        &self.adj[self.offsets[v] as usize..self.offsets[v + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> BridgeId {
        BridgeId::new(0x8000, SystemId([0, 0, 0, 0, 0, n]))
    }

    #[test]
    fn edits_are_checked() {
        let mut t = Topology::new();
        let a = t.add_bridge(id(1)).unwrap();
        let b = t.add_bridge(id(2)).unwrap();
        assert_eq!(
            t.add_bridge(id(1)),
            Err(TopologyError::DuplicateSystemId(id(1).system_id, a))
        );
        assert_eq!(t.set_link(a, a, 1), Err(TopologyError::SelfLink(a)));
        assert_eq!(t.set_link(a, 7, 1), Err(TopologyError::UnknownBridge(7)));
        assert_eq!(t.set_link(a, b, 0), Err(TopologyError::InvalidMetric(0)));
        assert_eq!(
            t.set_link(a, b, MAX_LINK_METRIC + 1),
            Err(TopologyError::InvalidMetric(MAX_LINK_METRIC + 1))
        );
        assert_eq!(t.set_link(b, a, MAX_LINK_METRIC), Ok(None));
        assert_eq!(t.set_link(a, b, 3), Ok(Some(MAX_LINK_METRIC)));
        assert_eq!(t.metric(b, a), Some(3));
        assert_eq!(t.links().collect::<Vec<_>>(), [(0, 1, 3)]);
        let g = Graph::new(&t);
        assert_eq!(g.neighbours(0), [(1, 3)]);
        assert_eq!(g.neighbours(1), [(0, 3)]);
        assert_eq!(t.remove_link(b, a), Ok(3));
        assert_eq!(t.remove_link(b, a), Err(TopologyError::NoSuchLink(b, a)));
    }
}
