//! IS-IS for Shortest Path Bridging (ISO 10589, RFC 5303, RFC 6329): wire codec, adjacencies,
//! flooding and the link-state database that feeds [`crate::spf`].

pub mod wire;

mod instance;
mod rib;

pub use instance::{
    AdjState, Adjacency, Config, Counters, Instance, PortConfig, SpbView, StoredLsp, Transmit,
    spb_view,
};
pub use rib::{MulticastEntry, RibUpdate, SpbRib};
