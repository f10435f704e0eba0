//! Sans-IO Shortest Path Bridging (IEEE 802.1aq, RFC 6329) core.
//!
//! No sockets, files or clocks: callers feed topology in and read computed state back. The
//! only concurrency is [`spf::Spf`] spreading independent trees over scoped worker threads;
//! results do not depend on the thread count.
//!
//! - [`isis`]: the IS-IS wire codec, and the protocol instance (adjacencies, flooding,
//!   LSDB) whose database feeds the SPF. Frames and `now` go in; frames to send and the next
//!   timer deadline come out.
//!   [`isis::SpbRib`] turns LSDB changes into incremental SPF updates and reads the
//!   unicast and I-SID multicast forwarding entries from the trees.
//! - [`spf`]: shortest-path trees from every bridge with the ECT tie-break, unicast next
//!   hops and I-SID multicast trees, recomputed incrementally on link changes.
#![deny(missing_docs)]

pub mod isis;
pub mod spf;
