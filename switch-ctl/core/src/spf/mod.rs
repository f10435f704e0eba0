//! Shortest Path Bridging route computation: shortest-path trees from every bridge with the
//! IEEE 802.1aq Equal Cost Tree (ECT) tie-break, unicast next hops and I-SID multicast trees.
//!
//! # The tie-break
//!
//! Between two bridges the chosen path is the one with
//! 1. the lowest cost (sum of link metrics), then
//! 2. the fewest hops, then
//! 3. the lowest PATHID: the Bridge Identifiers (16-bit priority, then 48-bit system ID) of
//!    every bridge on the path, ends included, each XORed byte by byte with the algorithm's
//!    ECT-MASK ([`EctAlgorithm::mask`]), sorted ascending and compared lexicographically.
//!
//! Because a PATHID is a *set*, a path and its reverse have the same PATHID, so the path
//! chosen from a to b is exactly the reverse of the path chosen from b to a (both are the
//! unique minimum of a symmetric order; two different shortest paths cannot visit the same
//! set of bridges, since the bridges of a shortest path are ordered by their distance from
//! its start). Multicast trees, built from the same per-source trees, follow the unicast
//! paths.
//!
//! # How it is computed
//!
//! The order keeps "a best path is made of best sub-paths" true: two sorted sets of equal
//! size compare like the smallest element of their symmetric difference, and appending the
//! same bridge to two paths does not change that difference. So one Dijkstra per source
//! settles bridges by (cost, hops), and then each bridge takes as its parent the best of its
//! (cost, hops)-optimal neighbours. Comparing two candidate parents `a` and `b` (same depth)
//! walks both up the tree in lock step until they meet; the branch with the smaller minimum
//! masked identifier has the lower PATHID. Comparing only the candidates' own identifiers, or
//! the first differing bridge, is *not* the same order and breaks symmetry.
//!
//! Cost and hops do not depend on the algorithm, so the Dijkstra runs once per source and
//! only the parent selection runs once per algorithm. Sources run in parallel threads.
//!
//! # Who calls what
//!
//! Build a [`Topology`] (from configuration or from the LSDB), call [`Spf::compute`] with the
//! algorithms of the configured B-VIDs, read [`Spf::path`], [`Spf::next_hop`] (unicast FDB)
//! and [`Spf::multicast_tree`] (per I-SID and source), and feed link changes to
//! [`Spf::apply`], which recomputes only the trees that can change.
//!
//! Not covered here: metrics advertised differently by the two ends of a link (the caller
//! passes one metric per link), the Agreement Protocol and its digest, SPBV.

mod bridge;
mod ect;
mod engine;
mod multicast;
mod topology;

pub use bridge::{BridgeId, ParseSystemIdError, SystemId};
pub use ect::{EctAlgorithm, IEEE_OUI, ParseEctError};
pub use engine::{Distance, Spf, Tree};
pub use multicast::MulticastTree;
pub use topology::{
    BridgeIndex, MAX_BRIDGES, MAX_LINK_METRIC, Topology, TopologyChange, TopologyError,
};
