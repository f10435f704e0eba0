//! `switch-ctl`: the Shortest Path Bridging control plane daemon and tools.
//!
//! Today: the offline computation behind `switch-ctl spf --topology FILE`, which loads a
//! topology file ([`topology`]) through `tsn-config`, runs the core's SPF
//! (`switch_ctl_core::spf`) and renders the result ([`report`]).

pub mod report;
pub mod topology;
