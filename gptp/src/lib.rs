//! IEEE 802.1AS (gPTP) time synchronisation: tools around the sans-IO core `gptp-core`.
//!
//! - [`sim`]: the core on the deterministic network simulator (`tsn-netsim`): a [`Node`]
//!   adapter, topology builders (chain, ring, grandmaster failover, lossy links) and metrics
//!   measured against the simulator's ground truth. The `gptp-sim` binary runs them.
//!
//! [`Node`]: tsn_netsim::Node
#![deny(missing_docs)]

pub mod sim;
