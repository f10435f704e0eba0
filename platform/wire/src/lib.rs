//! Wire primitives shared by every protocol of the TSN stack: MAC addresses, Ethernet II and
//! IEEE 802.3 frames with 802.2 LLC, 802.1Q/802.1ad VLAN tags, and pcap files.
//!
//! # Who uses what
//!
//! - gPTP (`gptp/core`) builds and parses Ethernet II frames with [`EtherType::Ptp`] to
//!   [`MacAddress::GPTP`].
//! - IS-IS/SPB (`switch-ctl/core`) builds and parses 802.3 frames whose payload starts with
//!   the LLC header [`LlcRepr::ISIS`] (`FE FE 03`), to [`MacAddress::ALL_ISS`] and friends.
//! - The simulator (`tsn-netsim`) writes every simulated link to a capture with
//!   [`pcap::PcapWriter`]; protocol tests read the reference captures with
//!   [`pcap::read_pcap`].
//!
//! # Shape
//!
//! Each header has two levels, as in smoltcp's `wire` module:
//!
//! - a view over a buffer, `View<T: AsRef<[u8]>>` ([`EthernetFrame`], [`VlanTag`], [`Llc`]):
//!   `new_unchecked`, `new_checked`, `check_len`, getters (need `AsRef<[u8]>`), setters (need
//!   `AsMut<[u8]>`), `payload`. Nothing is copied;
//! - an owned `Repr` ([`EthernetRepr`], [`VlanRepr`], [`LlcRepr`]) with
//!   `parse(&View<&T>) -> Result<Repr>`, `buffer_len()` and `emit(&mut View<T>)`.
//!
//! Parsing neither allocates nor does IO. Malformed input gives an [`Error`], never a panic;
//! the caller drops and counts the frame.
//!
//! # The contract
//!
//! **If `check_len()` returned `Ok(())`, no accessor or setter method panics.** Views that
//! were not checked (`new_unchecked`) may panic on a short buffer; `Repr::parse` always checks
//! first. Accessors that walk variable structure (the VLAN tags of an [`EthernetFrame`], the
//! control field of an [`Llc`]) also stay in bounds after a setter changed that structure.
//! `Repr::emit` checks the buffer length itself and returns [`Error::Truncated`] rather than
//! panicking.
//!
//! Multi-octet fields are big-endian (network order) throughout.
#![deny(missing_docs)]

mod error;
pub mod ethernet;
pub mod llc;
mod mac;
pub mod pcap;
pub mod vlan;

pub use error::{Error, Result};
pub use ethernet::{EtherType, EthernetFrame, EthernetRepr, PayloadType};
pub use llc::{Llc, LlcControl, LlcRepr};
pub use mac::{MacAddress, ParseMacAddressError};
pub use vlan::{Pcp, Tpid, VlanId, VlanRepr, VlanTag, VlanTags};
