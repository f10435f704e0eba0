//! Field types shared by the header, the message bodies and the TLVs.

use core::fmt;

use tsn_time::{PTP_TIMESTAMP_LEN, PtpTimestamp};

use super::macros::{enum_with_unknown, wire_flags};
use super::{Error, Result};

/// An 8-byte PTP `ClockIdentity`, usually the port's MAC address as an EUI-64.
///
/// Displays like ptp4l: `729c94.fffe.b7f474`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockIdentity(pub [u8; 8]);

/// Length of a [`ClockIdentity`] on the wire.
pub const CLOCK_IDENTITY_LEN: usize = 8;

impl ClockIdentity {
    /// The EUI-64 of a MAC address, with `FF-FE` inserted in the middle
    /// (`72:9c:94:b7:f4:74` gives `729c94.fffe.b7f474`), as ptp4l and 802.1AS derive it.
    pub const fn from_mac(mac: [u8; 6]) -> Self {
        Self([mac[0], mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]])
    }

    pub(crate) fn from_slice(b: &[u8]) -> Self {
        let mut id = [0u8; 8];
        id.copy_from_slice(&b[..CLOCK_IDENTITY_LEN]);
        Self(id)
    }
}

impl fmt::Display for ClockIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

impl fmt::Debug for ClockIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClockIdentity({self})")
    }
}

/// A PTP `PortIdentity`: the clock plus a 1-based port number.
///
/// Displays like ptp4l: `729c94.fffe.b7f474-1`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortIdentity {
    /// The clock this port belongs to.
    pub clock_identity: ClockIdentity,
    /// The port number within the clock (`0xFFFF` in a target port identity means all ports).
    pub port_number: u16,
}

/// Length of a [`PortIdentity`] on the wire.
pub const PORT_IDENTITY_LEN: usize = 10;

impl PortIdentity {
    /// All ones: the `targetPortIdentity` of a Signaling message meant for any port.
    pub const ALL: Self = Self {
        clock_identity: ClockIdentity([0xff; 8]),
        port_number: 0xffff,
    };

    /// Decodes the first 10 bytes of `b`, which the caller has checked are there.
    pub(crate) fn from_slice(b: &[u8]) -> Self {
        Self {
            clock_identity: ClockIdentity::from_slice(b),
            port_number: u16::from_be_bytes([b[8], b[9]]),
        }
    }

    /// Encodes into the first 10 bytes of `b`.
    pub(crate) fn write(&self, b: &mut [u8]) {
        b[..CLOCK_IDENTITY_LEN].copy_from_slice(&self.clock_identity.0);
        b[CLOCK_IDENTITY_LEN..PORT_IDENTITY_LEN].copy_from_slice(&self.port_number.to_be_bytes());
    }
}

impl fmt::Display for PortIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.clock_identity, self.port_number)
    }
}

impl fmt::Debug for PortIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortIdentity({self})")
    }
}

/// Decodes a 10-byte timestamp at the start of `b` (length checked by the caller), rejecting
/// a nanoseconds field of 10^9 or more as IEEE 1588 requires.
pub(crate) fn read_timestamp(b: &[u8], field: &'static str) -> Result<PtpTimestamp> {
    let mut raw = [0u8; PTP_TIMESTAMP_LEN];
    raw.copy_from_slice(&b[..PTP_TIMESTAMP_LEN]);
    PtpTimestamp::from_bytes(&raw).ok_or(Error::BadField { field })
}

/// Encodes a timestamp into the first 10 bytes of `b`, refusing values the wire cannot carry
/// (seconds past 48 bits, nanoseconds of 10^9 or more).
pub(crate) fn write_timestamp(ts: PtpTimestamp, b: &mut [u8], field: &'static str) -> Result<()> {
    if ts.seconds >= 1 << 48 || ts.nanoseconds >= 1_000_000_000 {
        return Err(Error::BadField { field });
    }
    b[..PTP_TIMESTAMP_LEN].copy_from_slice(&ts.to_bytes());
    Ok(())
}

enum_with_unknown! {
    /// `messageType`, the low nibble of the first header byte.
    pub enum MessageType(u8) {
        /// Sync (event).
        Sync = 0x0,
        /// Delay_Req (event; not used by 802.1AS).
        DelayReq = 0x1,
        /// Pdelay_Req (event).
        PdelayReq = 0x2,
        /// Pdelay_Resp (event).
        PdelayResp = 0x3,
        /// Follow_Up (general).
        FollowUp = 0x8,
        /// Delay_Resp (general; not used by 802.1AS).
        DelayResp = 0x9,
        /// Pdelay_Resp_Follow_Up (general).
        PdelayRespFollowUp = 0xa,
        /// Announce (general).
        Announce = 0xb,
        /// Signaling (general).
        Signaling = 0xc,
        /// Management (general; not sent on an 802.1AS link).
        Management = 0xd,
    }
}

impl MessageType {
    /// Whether the message is an event message, i.e. timestamped on send and receive.
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Self::Sync | Self::DelayReq | Self::PdelayReq | Self::PdelayResp
        )
    }

    /// The `controlField` 802.1AS (10.6.2.2.13) and IEEE 1588 (Table 42) prescribe: 0 for
    /// Sync, 2 for Follow_Up, 5 for every other message of 802.1AS.
    pub fn control_field(self) -> u8 {
        match self {
            Self::Sync => 0,
            Self::DelayReq => 1,
            Self::FollowUp => 2,
            Self::DelayResp => 3,
            Self::Management => 4,
            _ => 5,
        }
    }
}

enum_with_unknown! {
    /// `timeSource` of an Announce message (IEEE 1588-2019 Table 6).
    pub enum TimeSource(u8) {
        /// Atomic clock.
        AtomicClock = 0x10,
        /// GNSS receiver.
        Gnss = 0x20,
        /// Terrestrial radio.
        TerrestrialRadio = 0x30,
        /// Serial time code.
        SerialTimeCode = 0x39,
        /// Another PTP domain.
        Ptp = 0x40,
        /// NTP.
        Ntp = 0x50,
        /// Set by hand.
        HandSet = 0x60,
        /// Other source.
        Other = 0x90,
        /// Free-running internal oscillator (what ptp4l announces without a reference).
        InternalOscillator = 0xa0,
    }
}

impl Default for TimeSource {
    /// [`TimeSource::InternalOscillator`], what a gPTP clock without a reference announces.
    fn default() -> Self {
        Self::InternalOscillator
    }
}

/// `clockAccuracy` (IEEE 1588-2019 Table 5), kept as the raw code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockAccuracy(pub u8);

impl ClockAccuracy {
    /// "Accuracy unknown" (0xFE), what gPTP end stations without a reference announce.
    pub const UNKNOWN: Self = Self(0xfe);
}

/// `ClockQuality` of an Announce message's grandmaster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClockQuality {
    /// `clockClass` (248 for a default gPTP clock, 6 with a primary reference).
    pub clock_class: u8,
    /// `clockAccuracy`.
    pub clock_accuracy: ClockAccuracy,
    /// `offsetScaledLogVariance` (0xFFFF when not computed, as ptp4l sends).
    pub offset_scaled_log_variance: u16,
}

wire_flags! {
    /// The two `flagField` bytes of the common header (IEEE 1588-2019 Table 37,
    /// 802.1AS-2020 Table 10-6). Bits without a name are kept.
    pub struct Flags(u16) {
        /// `leap61`: the last minute of the current UTC day has 61 seconds.
        const LEAP_61 = 0x0001;
        /// `leap59`: the last minute of the current UTC day has 59 seconds.
        const LEAP_59 = 0x0002;
        /// `currentUtcOffsetValid`.
        const CURRENT_UTC_OFFSET_VALID = 0x0004;
        /// `ptpTimescale`: the grandmaster's timescale is PTP (TAI). ptp4l with software
        /// timestamps leaves it clear.
        const PTP_TIMESCALE = 0x0008;
        /// `timeTraceable`.
        const TIME_TRACEABLE = 0x0010;
        /// `frequencyTraceable`.
        const FREQUENCY_TRACEABLE = 0x0020;
        /// `synchronizationUncertain` (IEEE 1588-2019).
        const SYNCHRONIZATION_UNCERTAIN = 0x0040;
        /// `alternateMasterFlag` (never set by 802.1AS).
        const ALTERNATE_MASTER = 0x0100;
        /// `twoStepFlag`: a Follow_Up (or Pdelay_Resp_Follow_Up) follows. Set on two-step
        /// Sync and on Pdelay_Resp.
        const TWO_STEP = 0x0200;
        /// `unicastFlag` (never set by 802.1AS).
        const UNICAST = 0x0400;
        /// PTP profile specific 1.
        const PROFILE_SPECIFIC_1 = 0x2000;
        /// PTP profile specific 2.
        const PROFILE_SPECIFIC_2 = 0x4000;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_display_like_ptp4l() {
        let clock = ClockIdentity::from_mac([0x72, 0x9c, 0x94, 0xb7, 0xf4, 0x74]);
        assert_eq!(clock.0, [0x72, 0x9c, 0x94, 0xff, 0xfe, 0xb7, 0xf4, 0x74]);
        assert_eq!(clock.to_string(), "729c94.fffe.b7f474");
        let port = PortIdentity {
            clock_identity: ClockIdentity([0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55]),
            port_number: 1,
        };
        assert_eq!(port.to_string(), "001122.fffe.334455-1");
        assert_eq!(format!("{port:?}"), "PortIdentity(001122.fffe.334455-1)");
        assert_eq!(PortIdentity::ALL.to_string(), "ffffff.ffff.ffffff-65535");
    }

    #[test]
    fn enums_keep_unknown_values() {
        for v in 0..=0x0fu8 {
            assert_eq!(u8::from(MessageType::from(v)), v);
        }
        assert_eq!(MessageType::from(0x4), MessageType::Unknown(0x4));
        for v in 0..=u8::MAX {
            assert_eq!(u8::from(TimeSource::from(v)), v);
        }
        assert_eq!(TimeSource::from(0xa0), TimeSource::InternalOscillator);
    }

    #[test]
    fn flags_keep_unnamed_bits() {
        let mut f = Flags::from_bits_retain(0x8808);
        assert!(f.contains(Flags::PTP_TIMESCALE));
        assert!(!f.contains(Flags::TWO_STEP));
        f.insert(Flags::TWO_STEP);
        assert_eq!(f.bits(), 0x8a08);
        f.set(Flags::PTP_TIMESCALE, false);
        assert_eq!(f.bits(), 0x8a00);
        assert_eq!(
            format!("{:?}", Flags::TWO_STEP | Flags::PTP_TIMESCALE),
            "Flags(0x208: PTP_TIMESCALE | TWO_STEP)"
        );
        assert_eq!(format!("{:?}", Flags::empty()), "Flags(0x0)");
    }

    #[test]
    fn timestamps_are_range_checked() {
        let mut b = [0u8; 10];
        let bad = PtpTimestamp {
            seconds: 1,
            nanoseconds: 1_000_000_000,
        };
        assert_eq!(
            write_timestamp(bad, &mut b, "t"),
            Err(Error::BadField { field: "t" })
        );
        let too_far = PtpTimestamp {
            seconds: 1 << 48,
            nanoseconds: 0,
        };
        assert!(write_timestamp(too_far, &mut b, "t").is_err());
        b[6..].copy_from_slice(&1_000_000_000u32.to_be_bytes());
        assert_eq!(read_timestamp(&b, "t"), Err(Error::BadField { field: "t" }));
    }
}
