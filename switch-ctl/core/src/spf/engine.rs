//! The all-sources SPF engine: one Dijkstra per source, one tie-break pass per ECT algorithm.

use std::sync::Mutex;

use super::topology::Graph;
use super::{BridgeIndex, EctAlgorithm, Topology, TopologyChange, TopologyError};

/// "No parent": the root of a tree, or a bridge the root cannot reach.
const NONE: u32 = u32::MAX;
/// Packed distance of an unreached bridge.
const INF: u64 = u64::MAX;

/// Shortest-path trees from every bridge, for a set of ECT algorithms, kept up to date
/// through [`Spf::apply`].
///
/// Memory: one `u32` parent per (source, algorithm, bridge), i.e. `4 * n * n * k` bytes
/// (4 MB for 1,000 bridges and one algorithm).
#[derive(Debug, Clone)]
pub struct Spf {
    topology: Topology,
    graph: Graph,
    ects: Vec<EctAlgorithm>,
    /// Masked Bridge Identifiers, per algorithm slot.
    keys: Vec<Vec<u64>>,
    /// `parents[(source * k + slot) * n + bridge]`.
    parents: Vec<u32>,
    threads: usize,
}

/// A bridge's path cost and hop count from a tree's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Distance {
    /// Sum of the link metrics.
    pub cost: u64,
    /// Number of links.
    pub hops: u32,
}

impl Spf {
    /// Computes the trees of every bridge for each algorithm in `ects` (duplicates are
    /// ignored), using as many threads as the machine offers.
    pub fn compute(topology: &Topology, ects: &[EctAlgorithm]) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::compute_with_threads(topology, ects, threads)
    }

    /// Like [`Spf::compute`] with at most `threads` threads (0 is taken as 1). The result
    /// does not depend on the number of threads.
    pub fn compute_with_threads(
        topology: &Topology,
        ects: &[EctAlgorithm],
        threads: usize,
    ) -> Self {
        let mut unique: Vec<EctAlgorithm> = Vec::with_capacity(ects.len());
        for &e in ects {
            if !unique.contains(&e) {
                unique.push(e);
            }
        }
        let keys = unique
            .iter()
            .map(|&e| topology.bridges().iter().map(|b| b.masked(e)).collect())
            .collect();
        let n = topology.len();
        let mut spf = Self {
            topology: topology.clone(),
            graph: Graph::new(topology),
            parents: vec![NONE; n * n * unique.len()],
            ects: unique,
            keys,
            threads: threads.max(1),
        };
        spf.recompute(&vec![true; n]);
        spf
    }

    /// The topology the trees were computed for.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The algorithms computed, in the order first given.
    pub fn ects(&self) -> &[EctAlgorithm] {
        &self.ects
    }

    /// The tree rooted at `source` for `ect`, or `None` if `ect` was not computed or
    /// `source` is out of range.
    pub fn tree(&self, ect: EctAlgorithm, source: BridgeIndex) -> Option<Tree<'_>> {
        let slot = self.ects.iter().position(|&e| e == ect)?;
        let n = self.topology.len();
        if source >= n {
            return None;
        }
        let start = (source * self.ects.len() + slot) * n;
        Some(Tree {
            source,
            parent: &self.parents[start..start + n],
            graph: &self.graph,
        })
    }

    /// The chosen path from `src` to `dst` (both included, `src` first), or `None` if `dst`
    /// is unreachable or `ect` was not computed. The path from `dst` to `src` is its reverse.
    pub fn path(
        &self,
        ect: EctAlgorithm,
        src: BridgeIndex,
        dst: BridgeIndex,
    ) -> Option<Vec<BridgeIndex>> {
        self.tree(ect, src)?.path_to(dst)
    }

    /// The neighbour of `from` on the chosen path to `to`: the unicast forwarding entry
    /// "`to` via the port towards the result". `None` if `from == to` or unreachable.
    ///
    /// Read from the tree rooted at `to` (the parent of `from` there), which is what makes
    /// unicast congruent with `to`'s multicast tree; the symmetric tie-break guarantees it is
    /// also the first hop of `from`'s own tree.
    pub fn next_hop(
        &self,
        ect: EctAlgorithm,
        from: BridgeIndex,
        to: BridgeIndex,
    ) -> Option<BridgeIndex> {
        self.tree(ect, to)?.parent(from)
    }

    /// Applies a topology change and recomputes only the trees it can affect. Returns the
    /// sources whose trees were recomputed (their trees may or may not have changed).
    ///
    /// A tree is recomputed when it uses the link; or, for a new link or a lower metric, when
    /// the link offers one of its ends a path at most as long (cost, then hops) as the
    /// current one, so that it might win the PATHID tie-break. A link the tree does not use
    /// that goes down or gets more expensive cannot change the tree.
    pub fn apply(&mut self, change: TopologyChange) -> Result<Vec<BridgeIndex>, TopologyError> {
        let (a, b, old, new) = match change {
            TopologyChange::SetLink { a, b, metric } => {
                let old = self.topology.set_link(a, b, metric)?;
                (a, b, old, Some(metric))
            }
            TopologyChange::RemoveLink { a, b } => {
                let old = self.topology.remove_link(a, b)?;
                (a, b, Some(old), None)
            }
        };
        if old == new {
            return Ok(Vec::new());
        }
        self.graph = Graph::new(&self.topology);
        let n = self.topology.len();
        let mut affected = vec![false; n];
        for (source, flag) in affected.iter_mut().enumerate() {
            let uses_link = (0..self.ects.len()).any(|slot| {
                let p = self.parent_slice(source, slot);
                p[a] == b as u32 || p[b] == a as u32
            });
            *flag = uses_link
                || match (old, new) {
                    // Down, or more expensive, and unused: nothing to do.
                    (Some(o), Some(m)) if m > o => false,
                    (_, None) => false,
                    // Up, or cheaper: could it offer a or b an equal or better path?
                    (_, Some(m)) => {
                        let tree = Tree {
                            source,
                            parent: self.parent_slice(source, 0),
                            graph: &self.graph,
                        };
                        let via = |x: Option<Distance>| {
                            x.map(|d| Distance {
                                cost: d.cost + u64::from(m),
                                hops: d.hops + 1,
                            })
                        };
                        let (da, db) = (tree.distance(a), tree.distance(b));
                        let improves =
                            |via: Option<Distance>, cur: Option<Distance>| match (via, cur) {
                                (Some(v), Some(c)) => v <= c,
                                (Some(_), None) => true,
                                (None, _) => false,
                            };
                        improves(via(da), db) || improves(via(db), da)
                    }
                };
        }
        self.recompute(&affected);
        Ok((0..n).filter(|&s| affected[s]).collect())
    }

    /// Adds a bridge with no links and returns its index. No existing tree changes (the new
    /// bridge is unreachable until a link to it comes up); its own tree holds only itself.
    pub fn add_bridge(&mut self, id: super::BridgeId) -> Result<BridgeIndex, TopologyError> {
        let index = self.topology.add_bridge(id)?;
        let (old_n, n, k) = (index, index + 1, self.ects.len());
        for (keys, &e) in self.keys.iter_mut().zip(&self.ects) {
            keys.push(id.masked(e));
        }
        // Layout `(source * k + slot) * n + bridge` depends on n: re-lay the old trees.
        let mut parents = vec![NONE; n * n * k];
        if old_n > 0 {
            for (row, old) in self.parents.chunks_exact(old_n).enumerate() {
                parents[row * n..row * n + old_n].copy_from_slice(old);
            }
        }
        self.parents = parents;
        self.graph = Graph::new(&self.topology);
        Ok(index)
    }

    fn parent_slice(&self, source: BridgeIndex, slot: usize) -> &[u32] {
        let n = self.topology.len();
        let start = (source * self.ects.len() + slot) * n;
        &self.parents[start..start + n]
    }

    /// Recomputes the trees of every source `s` with `which[s]`.
    fn recompute(&mut self, which: &[bool]) {
        let n = self.topology.len();
        let k = self.ects.len();
        if n == 0 || k == 0 {
            return;
        }
        let graph = &self.graph;
        let keys = &self.keys;
        let jobs: Vec<(BridgeIndex, &mut [u32])> = self
            .parents
            .chunks_mut(n * k)
            .enumerate()
            .filter(|(s, _)| which[*s])
            .collect();
        let threads = self.threads.min(jobs.len()).max(1);
        let work = |jobs: &Mutex<std::vec::IntoIter<(BridgeIndex, &mut [u32])>>| {
            let mut scratch = Scratch::new(n);
            loop {
                // A poisoned lock means another worker panicked; stop and let scope re-raise.
                let next = match jobs.lock() {
                    Ok(mut it) => it.next(),
                    Err(_) => None,
                };
                let Some((source, out)) = next else { break };
                scratch.run(graph, source, keys, out);
            }
        };
        let jobs = Mutex::new(jobs.into_iter());
        if threads == 1 {
            work(&jobs);
        } else {
            std::thread::scope(|scope| {
                for _ in 1..threads {
                    scope.spawn(|| work(&jobs));
                }
                work(&jobs);
            });
        }
    }
}

/// Bits of a packed distance that hold the hop count: a distance is `cost << HOP_BITS | hops`,
/// so that integer order is (cost, hops) order. With fewer than 2^20 bridges and 24-bit
/// metrics, cost < 2^44 and hops < 2^20, so it fits in a `u64`.
const HOP_BITS: u32 = 20;
const _: () = assert!(super::MAX_BRIDGES <= 1 << HOP_BITS);

#[inline]
fn step(metric: u32) -> u64 {
    (u64::from(metric) << HOP_BITS) | 1
}

/// Per-thread buffers for one source.
struct Scratch {
    /// Packed (cost, hops) from the source; `INF` when not reached (yet).
    dist: Vec<u64>,
    heap: RadixHeap,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Self {
            dist: vec![INF; n],
            heap: RadixHeap::new(),
        }
    }

    /// Dijkstra on packed (cost, hops) from `source`, choosing parents for every algorithm
    /// at once: `out` holds one parent array per algorithm, `keys` the masked identifiers.
    ///
    /// A bridge's parent is replaced on a strictly shorter (cost, hops) and, on an equal one,
    /// when the new neighbour's tree path has the lower PATHID. Both paths compared are
    /// final then: the new neighbour is being settled, the old one was settled before.
    fn run(&mut self, graph: &Graph, source: BridgeIndex, keys: &[Vec<u64>], out: &mut [u32]) {
        let n = self.dist.len();
        self.dist.fill(INF);
        out.fill(NONE);
        self.heap.clear();
        self.dist[source] = 0;
        self.heap.push(0, source as u32);
        let single = keys.len() == 1;
        while let Some((d, v)) = self.heap.pop() {
            let vi = v as usize;
            // Entries are only pushed on a strict improvement, so a stale one has a worse key.
            if d != self.dist[vi] {
                continue;
            }
            for &(u, w) in graph.neighbours(vi) {
                let ui = u as usize;
                let cand = d + step(w);
                let cur = self.dist[ui];
                if cand < cur {
                    self.dist[ui] = cand;
                    self.heap.push(cand, u);
                    for parent in out.chunks_exact_mut(n) {
                        parent[ui] = v;
                    }
                } else if cand == cur {
                    if single {
                        let best = out[ui];
                        if lower_path_id(out, &keys[0], v, best) {
                            out[ui] = v;
                        }
                    } else {
                        for (parent, keys) in out.chunks_exact_mut(n).zip(keys) {
                            let best = parent[ui];
                            if lower_path_id(parent, keys, v, best) {
                                parent[ui] = v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A monotone priority queue for Dijkstra (a radix heap): keys popped never decrease, so a
/// key is filed under the highest bit in which it differs from the last key popped.
struct RadixHeap {
    last: u64,
    len: usize,
    buckets: [Vec<(u64, u32)>; 65],
}

impl RadixHeap {
    fn new() -> Self {
        Self {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }

    fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        for b in &mut self.buckets {
            b.clear();
        }
    }

    #[inline]
    fn bucket(&self, key: u64) -> usize {
        (u64::BITS - (key ^ self.last).leading_zeros()) as usize
    }

    #[inline]
    fn push(&mut self, key: u64, value: u32) {
        debug_assert!(key >= self.last, "radix heap keys must not decrease");
        let b = self.bucket(key);
        self.buckets[b].push((key, value));
        self.len += 1;
    }

    fn pop(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            let mut moving = std::mem::take(&mut self.buckets[i]);
            self.last = moving.iter().map(|&(k, _)| k).min()?;
            for &(k, v) in &moving {
                let b = self.bucket(k);
                self.buckets[b].push((k, v));
            }
            moving.clear();
            self.buckets[i] = moving;
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

/// Whether the tree path to `a` has a lower PATHID than the tree path to `b`, both paths
/// from the same root with the same number of hops.
///
/// Two sorted sets of equal size compare like their smallest differing element: the set
/// holding the smallest element of the symmetric difference is the lower one. The common
/// part of the two tree paths is the prefix down to their meeting point, so the symmetric
/// difference is the two branches below it; walking both up in lock step (equal depths)
/// until they meet finds each branch's minimum.
#[inline]
fn lower_path_id(parent: &[u32], keys: &[u64], a: u32, b: u32) -> bool {
    let (mut a, mut b) = (a as usize, b as usize);
    let (mut min_a, mut min_b) = (u64::MAX, u64::MAX);
    while a != b {
        min_a = min_a.min(keys[a]);
        min_b = min_b.min(keys[b]);
        a = parent[a] as usize;
        b = parent[b] as usize;
    }
    min_a < min_b
}

/// A read-only view of one shortest-path tree.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    source: BridgeIndex,
    parent: &'a [u32],
    graph: &'a Graph,
}

impl Tree<'_> {
    /// The root.
    pub fn source(&self) -> BridgeIndex {
        self.source
    }

    /// The bridge before `v` on the path from the root; `None` for the root itself and for
    /// unreachable bridges.
    pub fn parent(&self, v: BridgeIndex) -> Option<BridgeIndex> {
        match *self.parent.get(v)? {
            NONE => None,
            p => Some(p as BridgeIndex),
        }
    }

    /// Whether the root reaches `v` (the root reaches itself).
    pub fn reaches(&self, v: BridgeIndex) -> bool {
        v == self.source || self.parent(v).is_some()
    }

    /// The path from the root to `dst`, root first, or `None` if unreachable.
    pub fn path_to(&self, dst: BridgeIndex) -> Option<Vec<BridgeIndex>> {
        if !self.reaches(dst) {
            return None;
        }
        let mut path = vec![dst];
        let mut v = dst;
        while let Some(p) = self.parent(v) {
            path.push(p);
            v = p;
        }
        path.reverse();
        Some(path)
    }

    /// Cost and hops from the root to `dst`, or `None` if unreachable.
    pub fn distance(&self, dst: BridgeIndex) -> Option<Distance> {
        if !self.reaches(dst) {
            return None;
        }
        let mut d = Distance { cost: 0, hops: 0 };
        let mut v = dst;
        while let Some(p) = self.parent(v) {
            let metric = self
                .graph
                .neighbours(v)
                .iter()
                .find(|&&(u, _)| u as usize == p)
                .map_or(0, |&(_, m)| m);
            d.cost += u64::from(metric);
            d.hops += 1;
            v = p;
        }
        Some(d)
    }

    /// The bridges whose parent is `v`.
    pub fn children(&self, v: BridgeIndex) -> impl Iterator<Item = BridgeIndex> + '_ {
        self.graph
            .neighbours(v)
            .iter()
            .map(|&(u, _)| u as BridgeIndex)
            .filter(move |&u| self.parent(u) == Some(v))
    }
}
