//! The 802.1AS wire codec: zero-copy views plus owned representations.
//!
//! Input is the PTP payload of an Ethernet frame (ethertype 0x88F7, destination
//! 01-80-C2-00-00-0E, after the 14-byte Ethernet header); the codec knows nothing of
//! Ethernet or sockets.
//!
//! Two levels, as in smoltcp:
//!
//! - Views over a buffer: [`Header`] (the common header, and the rest of the message up to
//!   `messageLength` as [`Header::payload`]) and [`TlvBuffer`] (one TLV). Field offsets are
//!   private constants; getters need `AsRef<[u8]>`, setters `AsMut<[u8]>`.
//! - Owned representations: [`Message`] = [`HeaderRepr`] + [`Body`] + a list of [`Tlv`]s,
//!   with `parse`, `buffer_len` and `emit`.
//!
//! # Contract
//!
//! If `check_len()` (or `new_checked()`) of a view returned `Ok(())`, no accessor or setter
//! of that view panics. `parse` never panics, whatever the input: a malformed or hostile
//! frame is an [`Error`], which the port drops and counts. `emit` writes exactly
//! `buffer_len()` bytes and leaves the rest of the buffer alone.
//!
//! # What is kept and what is normalised
//!
//! - Enum-coded fields keep values without a name (`Unknown(_)` variants), flag fields keep
//!   bits without a name, and TLVs other than the three 802.1AS ones are kept byte for byte
//!   as [`Tlv::Unknown`], so parse followed by emit reproduces them.
//! - Reserved fields (Announce's `originTimestamp` and reserved byte, Pdelay_Req's 20
//!   bytes, the message interval request TLV's last two bytes) are ignored on receipt and
//!   sent as zero, and `controlField` is written as the message type prescribes, as 802.1AS
//!   asks. The Sync `originTimestamp` is kept: reserved (zero) in a two-step Sync, the time
//!   in a one-step one.
//! - Timestamps must have nanoseconds below 10^9 ([`Error::BadField`] otherwise), and a
//!   known TLV must have its exact length.
//! - Accepted: `majorSdoId` 1 only ([`Error::UnsupportedSdoId`] otherwise, as ptp4l's
//!   802.1AS port does), `versionPTP` 2 with `minorVersionPTP` 0 (ptp4l 3.x, Avnu, Zephyr)
//!   or 1 (802.1AS-2020, linuxptp 4.x); padding after `messageLength`.

mod header;
mod macros;
mod message;
mod tlv;
mod types;

pub use header::{
    HEADER_LEN, Header, HeaderRepr, MAJOR_SDO_ID_GPTP, MAX_MINOR_VERSION_PTP, VERSION_PTP,
};
pub use message::{
    AnnounceBody, Body, FollowUpBody, Message, PdelayRespBody, PdelayRespFollowUpBody,
    SignalingBody, SyncBody,
};
pub use tlv::{
    FOLLOW_UP_INFO_LEN, FollowUpInfo, IEEE_802_1_OUI, IntervalRequestFlags,
    MESSAGE_INTERVAL_REQUEST_LEN, MessageIntervalRequest, SUBTYPE_FOLLOW_UP_INFO,
    SUBTYPE_MESSAGE_INTERVAL_REQUEST, TLV_HEADER_LEN, Tlv, TlvBuffer, TlvType,
};
pub use types::{
    CLOCK_IDENTITY_LEN, ClockAccuracy, ClockIdentity, ClockQuality, Flags, MessageType,
    PORT_IDENTITY_LEN, PortIdentity, TimeSource,
};

/// Why a message could not be parsed or emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the header or before `messageLength` (or, on emit, is too
    /// short for the message).
    #[error("buffer too short for the message")]
    Truncated,
    /// A length field is impossible: `messageLength` shorter than the header or than the
    /// message type's body, a TLV running past `messageLength`, or (on emit) a message or
    /// TLV too long for its length field.
    #[error("bad length field")]
    BadLength,
    /// `majorSdoId` (`transportSpecific`) is not 1 (802.1AS).
    #[error("majorSdoId {0} is not 802.1AS (1)")]
    UnsupportedSdoId(u8),
    /// `versionPTP` is not 2, or `minorVersionPTP` is above 1.
    #[error("unsupported PTP version field {0}")]
    UnsupportedVersion(u8),
    /// A field holds a value the standard forbids.
    #[error("bad value in field {field}")]
    BadField {
        /// The field, named as in IEEE 802.1AS.
        field: &'static str,
    },
}

/// Result of the wire codec.
pub type Result<T> = core::result::Result<T, Error>;

/// The fuzzing property: parse, and if that succeeds, emit, parse again, emit again; both
/// representations must be equal and both emitted byte strings identical. Also exercises
/// the views on the raw input. Panics when the property fails.
///
/// Used by the cargo-fuzz target in `fuzz/` (feature `fuzz`) and by the unit tests, which
/// run it over the capture frames and deterministic mutations of them.
#[cfg(any(test, fuzzing, feature = "fuzz"))]
pub fn fuzz_roundtrip(data: &[u8]) {
    if let Ok(view) = Header::new_checked(data) {
        // Every getter must be safe on a checked view.
        let _ = (
            view.major_sdo_id(),
            view.message_type(),
            view.minor_version_ptp(),
            view.version_ptp(),
            view.domain_number(),
            view.minor_sdo_id(),
            view.flags(),
            view.correction_field(),
            view.message_type_specific(),
            view.source_port_identity(),
            view.sequence_id(),
            view.control_field(),
            view.log_message_interval(),
            view.payload(),
        );
    }
    let Ok(first) = Message::parse_bytes(data) else {
        return;
    };
    let len = first.buffer_len();
    let declared = Header::new_unchecked(data).message_length();
    assert_eq!(len, usize::from(declared), "buffer_len != messageLength");
    let mut emitted = vec![0xa5; len + 1];
    assert_eq!(
        first.emit(&mut emitted),
        Ok(len),
        "a parsed message must emit"
    );
    assert_eq!(emitted[len], 0xa5, "emit wrote past buffer_len");
    emitted.truncate(len);
    let second = Message::parse_bytes(&emitted).expect("an emitted message must parse");
    assert_eq!(first, second, "parse -> emit -> parse changed the message");
    let again = second.to_vec().expect("emit");
    assert_eq!(emitted, again, "emit is not stable");
}

#[cfg(test)]
mod fuzz_tests;
