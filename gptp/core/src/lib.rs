//! The sans-IO IEEE 802.1AS (gPTP) core.
//!
//! This crate holds the protocol logic of our gPTP daemon and nothing that does IO: no
//! sockets, no clocks, no async runtime. The daemon (`gptp/`) owns the sockets and the
//! clock; it hands received frames and their timestamps to the core and sends what the core
//! returns. Keeping IO out makes the core deterministic, so the simulator and the tests can
//! drive it with explicit timestamps.
//!
//! - [`wire`] is the core's codec: zero-copy views and owned representations of every 802.1AS
//!   message (Sync, Follow_Up, Pdelay_Req, Pdelay_Resp, Pdelay_Resp_Follow_Up, Announce,
//!   Signaling) and TLV (Follow_Up information, path trace, message interval request, and any
//!   other TLV kept as raw bytes so it survives parse and emit). Callers pass it the PTP
//!   payload of an Ethernet frame (ethertype 0x88F7, after the Ethernet header).
//!
//! The port state machines, BMCA and peer-delay logic will build on [`wire`].
#![deny(missing_docs)]

pub mod wire;
