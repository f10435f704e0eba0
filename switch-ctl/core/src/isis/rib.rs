//! Forwarding state kept up to date from the LSDB: the LSPs that changed since the last
//! update become [`TopologyChange`]s for the incremental [`Spf::apply`], and the unicast and
//! I-SID multicast tables are read from the trees.
//!
//! # Who calls what
//!
//! After an [`Instance`](super::Instance) input moved
//! [`change_count`](super::Instance::change_count), call [`SpbRib::update`] with the
//! instance's [`lsdb`](super::Instance::lsdb). It compares every LSP's (sequence, checksum,
//! purged) with what it saw last time, re-reads only the systems whose LSPs changed, and
//! turns the difference into bridge additions, priority changes and link changes. Then read
//! [`SpbRib::unicast_fdb`] and [`SpbRib::multicast_fdb`].
//!
//! Bridges keep the index they first got: one that disappears (purged, aged out, or no
//! longer advertising SPB) stays in the SPF topology with no links and is hidden from every
//! result, so indices differ between bridges but every result is keyed by system ID.
//!
//! A batch touching many links (a bridge's first database synchronisation) or a priority
//! change (a Bridge Identifier takes part in every tie-break) recomputes every tree instead.

use std::collections::{BTreeMap, BTreeSet};

use super::StoredLsp;
use super::wire::{IsidEntry, LspId, MtCapSubTlv, NLPID_SPB, Tlv};
use crate::spf::{
    BridgeId, BridgeIndex, EctAlgorithm, MAX_LINK_METRIC, Spf, SystemId, Topology, TopologyChange,
};

/// What one system's live LSP fragments advertise, as far as SPB cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Advert {
    /// NLPID 0xC1 in TLV 129.
    pub(crate) spb: bool,
    /// Bridge priority from the SPB Instance sub-TLV.
    pub(crate) priority: u16,
    /// Neighbour -> SPB link metric (or the wide metric without sub-TLV 29).
    pub(crate) neighbors: BTreeMap<SystemId, u32>,
    /// I-SIDs with the B-VID of their SPBM-SI sub-TLV.
    pub(crate) isids: Vec<(u16, IsidEntry)>,
    /// B-VID -> ECT algorithm, from the SPB Instance trees.
    pub(crate) vids: BTreeMap<u16, EctAlgorithm>,
}

impl Advert {
    /// Reads the non-purged, non-pseudonode LSPs among `lsps` (one system's fragments);
    /// `None` if there are none.
    pub(crate) fn parse<'a>(
        lsps: impl IntoIterator<Item = (&'a LspId, &'a StoredLsp)>,
    ) -> Option<Self> {
        let mut out: Option<Self> = None;
        for (id, l) in lsps {
            if l.purged || id.pseudonode != 0 {
                continue;
            }
            let a = out.get_or_insert_with(|| Self {
                spb: false,
                priority: BridgeId::DEFAULT_PRIORITY,
                neighbors: BTreeMap::new(),
                isids: Vec::new(),
                vids: BTreeMap::new(),
            });
            for t in &l.pdu.tlvs {
                match t {
                    Tlv::ProtocolsSupported(n) if n.contains(&NLPID_SPB) => a.spb = true,
                    Tlv::ExtIsReach(v) => {
                        for r in v.iter().filter(|r| r.neighbor[6] == 0) {
                            let m = r.spb_metric().unwrap_or(r.metric);
                            a.neighbors.insert(r.neighbor_system_id(), m);
                        }
                    }
                    Tlv::MtCapability(m) => {
                        for s in &m.sub_tlvs {
                            match s {
                                MtCapSubTlv::SpbInstance(i) => {
                                    a.priority = i.bridge_priority;
                                    for tree in &i.trees {
                                        if let Some(e) = EctAlgorithm::from_value(tree.ect) {
                                            a.vids.insert(tree.base_vid & 0x0fff, e);
                                        }
                                    }
                                }
                                MtCapSubTlv::SpbmServiceId(s) => {
                                    let vid = s.base_vid_word & 0x0fff;
                                    a.isids.extend(s.isids.iter().map(|&e| (vid, e)));
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// The metric of the link between two systems: both must be SPB bridges advertising each
/// other; the larger of the two advertised metrics keeps the link symmetric.
pub(crate) fn link_metric(
    a: Option<&Advert>,
    b: Option<&Advert>,
    a_id: SystemId,
    b_id: SystemId,
) -> Option<u32> {
    let (a, b) = (a?, b?);
    if !a.spb || !b.spb || a_id == b_id {
        return None;
    }
    let m = (*a.neighbors.get(&b_id)?)
        .max(*b.neighbors.get(&a_id)?)
        .max(1);
    (m <= MAX_LINK_METRIC).then_some(m)
}

/// What one [`SpbRib::update`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RibUpdate {
    /// Systems whose LSPs changed.
    pub changed_systems: usize,
    /// Bridges seen for the first time.
    pub new_bridges: usize,
    /// Link changes derived (up, down or metric).
    pub link_changes: usize,
    /// Whether every tree was recomputed (priority change or a large batch).
    pub full: bool,
    /// Trees recomputed (sources), counting each source once per link change.
    pub trees_recomputed: usize,
}

/// One I-SID multicast entry of a bridge: frames of `isid` from `source` arrive from
/// `ingress` (`None` at the source itself) and leave towards `egress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MulticastEntry {
    /// The ECT algorithm of the I-SID's B-VID at the source.
    pub ect: EctAlgorithm,
    /// Expected upstream neighbour.
    pub ingress: Option<SystemId>,
    /// Downstream neighbours, ascending.
    pub egress: Vec<SystemId>,
}

/// SPF state of one bridge, maintained incrementally from its LSDB. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct SpbRib {
    seen: BTreeMap<LspId, (u32, u16, bool)>,
    systems: BTreeMap<SystemId, Advert>,
    /// Per bridge index: whether the bridge currently exists (SPB and a live LSP).
    present: Vec<bool>,
    spf: Spf,
    threads: usize,
}

impl SpbRib {
    /// An empty RIB for the given algorithms, computing with up to `threads` threads.
    pub fn new(ects: &[EctAlgorithm], threads: usize) -> Self {
        Self {
            seen: BTreeMap::new(),
            systems: BTreeMap::new(),
            present: Vec::new(),
            spf: Spf::compute_with_threads(&Topology::new(), ects, threads),
            threads: threads.max(1),
        }
    }

    /// The SPF state. Its topology also holds bridges that have disappeared (no links);
    /// use [`SpbRib::bridges`] for the live ones.
    pub fn spf(&self) -> &Spf {
        &self.spf
    }

    /// The live SPB bridges, ascending by system ID.
    pub fn bridges(&self) -> Vec<SystemId> {
        let t = self.spf.topology();
        let mut v: Vec<SystemId> = (0..t.len())
            .filter(|&i| self.present[i])
            .map(|i| t.bridges()[i].system_id)
            .collect();
        v.sort_unstable();
        v
    }

    fn index(&self, id: SystemId) -> Option<BridgeIndex> {
        self.spf.topology().find(id).filter(|&i| self.present[i])
    }

    fn id(&self, i: BridgeIndex) -> SystemId {
        self.spf.topology().bridges()[i].system_id
    }

    /// Brings the trees up to date with `lsdb`.
    pub fn update(&mut self, lsdb: &BTreeMap<LspId, StoredLsp>) -> RibUpdate {
        let mut stats = RibUpdate::default();
        let mut changed: BTreeSet<SystemId> = BTreeSet::new();
        for (id, l) in lsdb.iter().filter(|(id, _)| id.pseudonode == 0) {
            if self.seen.get(id) != Some(&(l.seq, l.checksum, l.purged)) {
                changed.insert(id.system_id);
            }
        }
        for id in self.seen.keys() {
            if !lsdb.contains_key(id) {
                changed.insert(id.system_id);
            }
        }
        stats.changed_systems = changed.len();
        if changed.is_empty() {
            return stats;
        }
        let mut pairs: BTreeSet<(SystemId, SystemId)> = BTreeSet::new();
        let mut priority_changed = false;
        for &sys in &changed {
            let lo = LspId::node(sys);
            let hi = LspId {
                fragment: 0xff,
                ..lo
            };
            let stale: Vec<LspId> = self.seen.range(lo..=hi).map(|(id, _)| *id).collect();
            for id in stale {
                self.seen.remove(&id);
            }
            for (id, l) in lsdb.range(lo..=hi) {
                self.seen.insert(*id, (l.seq, l.checksum, l.purged));
            }
            let new = Advert::parse(lsdb.range(lo..=hi));
            let old = self.systems.get(&sys);
            if old == new.as_ref() {
                continue;
            }
            for n in old
                .into_iter()
                .chain(new.as_ref())
                .flat_map(|a| a.neighbors.keys())
            {
                pairs.insert((sys.min(*n), sys.max(*n)));
            }
            let live = new.as_ref().filter(|a| a.spb);
            match (self.spf.topology().find(sys), live) {
                (None, Some(a)) => {
                    // Distinct system IDs and < MAX_BRIDGES: an LSDB is capped far below.
                    if self.spf.add_bridge(BridgeId::new(a.priority, sys)).is_ok() {
                        self.present.push(true);
                        stats.new_bridges += 1;
                    }
                }
                (Some(i), Some(a)) => {
                    self.present[i] = true;
                    priority_changed |= self.spf.topology().bridges()[i].priority != a.priority;
                }
                (Some(i), None) => self.present[i] = false,
                (None, None) => {}
            }
            match new {
                Some(a) => self.systems.insert(sys, a),
                None => self.systems.remove(&sys),
            };
        }
        let topo = self.spf.topology();
        let mut changes = Vec::new();
        for (x, y) in pairs {
            let (Some(a), Some(b)) = (topo.find(x), topo.find(y)) else {
                continue;
            };
            let want = link_metric(self.systems.get(&x), self.systems.get(&y), x, y);
            match (topo.metric(a, b), want) {
                (Some(_), None) => changes.push(TopologyChange::RemoveLink { a, b }),
                (old, Some(metric)) if old != Some(metric) => {
                    changes.push(TopologyChange::SetLink { a, b, metric });
                }
                _ => {}
            }
        }
        stats.link_changes = changes.len();
        // Beyond this many link changes, one full computation is cheaper than the
        // incremental passes (each rebuilds the adjacency and checks every tree).
        let batch_limit = (topo.len() / 8).max(4);
        if priority_changed || changes.len() > batch_limit {
            let mut t = topo.clone();
            for c in changes {
                // Every change was derived from this topology: it cannot be refused.
                let _ = t.apply(c);
            }
            for (sys, a) in &self.systems {
                if let Some(i) = t.find(*sys) {
                    let _ = t.set_priority(i, a.priority);
                }
            }
            let ects = self.spf.ects().to_vec();
            self.spf = Spf::compute_with_threads(&t, &ects, self.threads);
            stats.full = true;
            stats.trees_recomputed = t.len();
        } else {
            for c in changes {
                if let Ok(s) = self.spf.apply(c) {
                    stats.trees_recomputed += s.len();
                }
            }
        }
        stats
    }

    /// The chosen path from `src` to `dst` for `ect`, as system IDs, `src` first.
    pub fn path(&self, ect: EctAlgorithm, src: SystemId, dst: SystemId) -> Option<Vec<SystemId>> {
        let p = self.spf.path(ect, self.index(src)?, self.index(dst)?)?;
        Some(p.into_iter().map(|i| self.id(i)).collect())
    }

    /// Unicast next hops of bridge `me`: (algorithm, destination) -> neighbour.
    pub fn unicast_next_hops(&self, me: SystemId) -> BTreeMap<(EctAlgorithm, SystemId), SystemId> {
        let mut out = BTreeMap::new();
        let Some(m) = self.index(me) else {
            return out;
        };
        for &ect in self.spf.ects() {
            for dst in (0..self.present.len()).filter(|&d| d != m && self.present[d]) {
                if let Some(nh) = self.spf.next_hop(ect, m, dst) {
                    out.insert((ect, self.id(dst)), self.id(nh));
                }
            }
        }
        out
    }

    /// Unicast forwarding table of bridge `me`: (algorithm, destination B-MAC) -> port,
    /// given the port of each Up neighbour.
    pub fn unicast_fdb(
        &self,
        me: SystemId,
        ports: &BTreeMap<SystemId, usize>,
    ) -> BTreeMap<(EctAlgorithm, SystemId), usize> {
        self.unicast_next_hops(me)
            .into_iter()
            .filter_map(|(k, nh)| Some((k, *ports.get(&nh)?)))
            .collect()
    }

    /// I-SID multicast entries of bridge `me`, keyed by (I-SID, source): for every bridge
    /// advertising T for an I-SID, the tree to the other bridges advertising R for it on the
    /// same B-VID, following the source's unicast paths for the B-VID's algorithm. Only
    /// trees that pass through `me` appear; algorithms not computed here are skipped.
    pub fn multicast_fdb(&self, me: SystemId) -> BTreeMap<(u32, SystemId), MulticastEntry> {
        let mut out = BTreeMap::new();
        let Some(m) = self.index(me) else {
            return out;
        };
        // (I-SID, B-VID) -> (transmitters, receivers).
        type Members = (Vec<BridgeIndex>, Vec<BridgeIndex>);
        let mut services: BTreeMap<(u32, u16), Members> = BTreeMap::new();
        for (sys, a) in self.systems.iter().filter(|(_, a)| a.spb) {
            let Some(i) = self.index(*sys) else { continue };
            for &(vid, e) in &a.isids {
                let s = services.entry((e.isid(), vid)).or_default();
                if e.transmit() {
                    s.0.push(i);
                }
                if e.receive() {
                    s.1.push(i);
                }
            }
        }
        for ((isid, vid), (tx, rx)) in &services {
            for &src in tx {
                let Some(&ect) = self
                    .systems
                    .get(&self.id(src))
                    .and_then(|a| a.vids.get(vid))
                else {
                    continue;
                };
                let members: Vec<BridgeIndex> = rx.iter().copied().filter(|&r| r != src).collect();
                let Some(tree) = self.spf.multicast_tree(ect, src, &members) else {
                    continue;
                };
                let ingress = tree.ingress(m);
                let egress: Vec<SystemId> = tree
                    .egress
                    .get(&m)
                    .map(|d| {
                        let mut v: Vec<SystemId> = d.iter().map(|&x| self.id(x)).collect();
                        v.sort_unstable();
                        v
                    })
                    .unwrap_or_default();
                if (m == src && !egress.is_empty()) || ingress.is_some() {
                    out.insert(
                        (*isid, self.id(src)),
                        MulticastEntry {
                            ect,
                            ingress: ingress.map(|x| self.id(x)),
                            egress,
                        },
                    );
                }
            }
        }
        out
    }
}
