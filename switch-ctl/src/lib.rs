//! `switch-ctl`: the Shortest Path Bridging control plane daemon and tools.
//!
//! Today: the offline computation behind `switch-ctl spf --topology FILE`, which loads a
//! topology file ([`topology`]) through `tsn-config`, runs the core's SPF
//! (`switch_ctl_core::spf`) and renders the result ([`report`]); and `switch-ctl isis`
//! ([`speaker`]), the IS-IS core on real interfaces over raw 802.3/LLC sockets ([`llc`]).

pub mod llc;
pub mod report;
pub mod speaker;
pub mod topology;
