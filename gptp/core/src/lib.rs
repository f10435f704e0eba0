//! The sans-IO IEEE 802.1AS (gPTP) core.
//!
//! This crate holds the protocol logic of our gPTP daemon and nothing that does IO: no
//! sockets, no clocks, no async runtime. The daemon (`gptp/`) owns the sockets and the
//! clock; it hands received frames and their timestamps to the core and carries out what
//! the core returns. Keeping IO out makes the core deterministic, so the simulator and the
//! tests can drive it with explicit timestamps.
//!
//! - [`wire`]: the codec of every 802.1AS message and TLV.
//! - [`Instance`]: one time-aware system (end station or N-port time-aware relay): peer
//!   delay initiator and responder with neighborRateRatio and meanLinkDelay, asCapable,
//!   BMCA with path trace loop rejection and receipt timeouts, Sync reception and
//!   transmission, the relay arithmetic, Signaling interval requests. See its module docs
//!   for the call order.
//! - [`servo`]: the [`Servo`](servo::Servo) trait and a PI servo.
//! - [`config`]: plain configuration structs with 802.1AS defaults.
//!
//! # Determinism contract
//!
//! No function of this crate reads a clock, sleeps or draws random numbers: every input
//! carries its time, so the same inputs always give the same actions.
#![deny(missing_docs)]

pub mod bmca;
pub mod config;
mod instance;
mod port;
#[cfg(test)]
mod protocol_tests;
pub mod servo;
pub mod wire;

pub use config::{InstanceConfig, PortConfig};
pub use instance::{Action, Counters, Event, Instance, TxToken};
pub use port::{PortRole, PortStatus};
