//! TLVs: the Follow_Up information TLV, the path trace TLV, the message interval request
//! TLV, and any other TLV as raw bytes.
//!
//! The IEEE 802.1 organisation TLVs are `ORGANIZATION_EXTENSION` TLVs (type 0x0003) with
//! organizationId 00-80-C2 and an organizationSubType telling them apart.

use tsn_time::ScaledNs;

use super::macros::{enum_with_unknown, wire_flags};
use super::types::{CLOCK_IDENTITY_LEN, ClockIdentity};
use super::{Error, Result};

/// Length of `tlvType` plus `lengthField`.
pub const TLV_HEADER_LEN: usize = 4;
/// organizationId of IEEE 802.1 (00-80-C2).
pub const IEEE_802_1_OUI: [u8; 3] = [0x00, 0x80, 0xc2];
/// organizationSubType of the Follow_Up information TLV (802.1AS-2020 11.4.4.3).
pub const SUBTYPE_FOLLOW_UP_INFO: [u8; 3] = [0, 0, 1];
/// organizationSubType of the message interval request TLV (802.1AS-2020 10.6.4.3).
pub const SUBTYPE_MESSAGE_INTERVAL_REQUEST: [u8; 3] = [0, 0, 2];
/// `lengthField` of the Follow_Up information TLV.
pub const FOLLOW_UP_INFO_LEN: usize = 28;
/// `lengthField` of the message interval request TLV.
pub const MESSAGE_INTERVAL_REQUEST_LEN: usize = 12;

mod field {
    use core::ops::Range;

    pub(super) const TYPE: Range<usize> = 0..2;
    pub(super) const LENGTH: Range<usize> = 2..4;

    // Offsets inside the value of an organisation extension TLV.
    pub(super) const ORG_ID: Range<usize> = 0..3;
    pub(super) const ORG_SUBTYPE: Range<usize> = 3..6;

    // Follow_Up information TLV value.
    pub(super) const FU_CSRO: Range<usize> = 6..10;
    pub(super) const FU_GM_TIME_BASE_INDICATOR: Range<usize> = 10..12;
    pub(super) const FU_LAST_GM_PHASE_CHANGE: Range<usize> = 12..24;
    pub(super) const FU_SCALED_LAST_GM_FREQ_CHANGE: Range<usize> = 24..28;

    // Message interval request TLV value.
    pub(super) const MIR_LINK_DELAY_INTERVAL: usize = 6;
    pub(super) const MIR_TIME_SYNC_INTERVAL: usize = 7;
    pub(super) const MIR_ANNOUNCE_INTERVAL: usize = 8;
    pub(super) const MIR_FLAGS: usize = 9;
    // 10..12 reserved
}

enum_with_unknown! {
    /// `tlvType` (IEEE 1588-2019 Table 52).
    pub enum TlvType(u16) {
        /// MANAGEMENT.
        Management = 0x0001,
        /// MANAGEMENT_ERROR_STATUS.
        ManagementErrorStatus = 0x0002,
        /// ORGANIZATION_EXTENSION: carries the 802.1AS Follow_Up information and message
        /// interval request TLVs.
        OrganizationExtension = 0x0003,
        /// REQUEST_UNICAST_TRANSMISSION.
        RequestUnicastTransmission = 0x0004,
        /// GRANT_UNICAST_TRANSMISSION.
        GrantUnicastTransmission = 0x0005,
        /// CANCEL_UNICAST_TRANSMISSION.
        CancelUnicastTransmission = 0x0006,
        /// ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION.
        AcknowledgeCancelUnicastTransmission = 0x0007,
        /// PATH_TRACE.
        PathTrace = 0x0008,
        /// ALTERNATE_TIME_OFFSET_INDICATOR.
        AlternateTimeOffsetIndicator = 0x0009,
        /// ORGANIZATION_EXTENSION_PROPAGATE (IEEE 1588-2019).
        OrganizationExtensionPropagate = 0x4000,
        /// ORGANIZATION_EXTENSION_DO_NOT_PROPAGATE (IEEE 1588-2019).
        OrganizationExtensionDoNotPropagate = 0x8000,
    }
}

/// A zero-copy view of one TLV: `tlvType`, `lengthField` and the value.
///
/// After [`check_len`](Self::check_len) succeeded, no accessor panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlvBuffer<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TlvBuffer<T> {
    /// Wraps a buffer that starts with a TLV, without checking anything.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks that it holds the whole TLV.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let tlv = Self::new_unchecked(buffer);
        tlv.check_len()?;
        Ok(tlv)
    }

    /// [`Error::BadLength`] unless the buffer holds the TLV header and `lengthField` value
    /// bytes: TLVs live inside `messageLength`, so one that does not fit is malformed.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < TLV_HEADER_LEN || len < self.total_len() {
            Err(Error::BadLength)
        } else {
            Ok(())
        }
    }

    /// `tlvType`.
    pub fn tlv_type(&self) -> TlvType {
        let b = self.buffer.as_ref();
        TlvType::from(u16::from_be_bytes([
            b[field::TYPE.start],
            b[field::TYPE.start + 1],
        ]))
    }

    /// `lengthField`: the length of the value.
    pub fn length(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::LENGTH.start], b[field::LENGTH.start + 1]])
    }

    /// Header plus value.
    pub fn total_len(&self) -> usize {
        TLV_HEADER_LEN + usize::from(self.length())
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        &self.buffer.as_ref()[TLV_HEADER_LEN..self.total_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TlvBuffer<T> {
    /// Sets `tlvType`.
    pub fn set_tlv_type(&mut self, value: TlvType) {
        self.buffer.as_mut()[field::TYPE].copy_from_slice(&u16::from(value).to_be_bytes());
    }

    /// Sets `lengthField`.
    pub fn set_length(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// The value, mutably.
    pub fn value_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[TLV_HEADER_LEN..end]
    }
}

/// The Follow_Up information TLV (802.1AS-2020 11.4.4.3), carried by every Follow_Up (and a
/// one-step Sync).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FollowUpInfo {
    /// `cumulativeScaledRateOffset`: (rateRatio - 1) x 2^41.
    pub cumulative_scaled_rate_offset: i32,
    /// `gmTimeBaseIndicator`.
    pub gm_time_base_indicator: u16,
    /// `lastGmPhaseChange`.
    pub last_gm_phase_change: ScaledNs,
    /// `scaledLastGmFreqChange`: fractional frequency change x 2^41 (linuxptp calls it
    /// `scaledLastGmPhaseChange`).
    pub scaled_last_gm_freq_change: i32,
}

impl FollowUpInfo {
    /// The rate ratio `1 + cumulativeScaledRateOffset x 2^-41`.
    pub fn rate_ratio(&self) -> f64 {
        1.0 + f64::from(self.cumulative_scaled_rate_offset) * (-41f64).exp2()
    }
}

wire_flags! {
    /// `flags` of the message interval request TLV (802.1AS-2020 Table 10-20).
    ///
    /// The least significant bit (0x01) is computeNeighborRateRatio, as Zephyr
    /// (`GPTP_FLAG_COMPUTE_NEIGHBOR_RATE_RATIO 0x1`), Excelfore
    /// (`COMPUTE_NEIGHBOR_RATE_RATIO_BIT 0`) and our reference notes (`gptp.md`) have it.
    /// tshark 4.0 decodes the octet one bit higher (0x02 as computeNeighborRateRatio, 0x04
    /// computeMeanLinkDelay, 0x08 oneStepReceiveCapable), so its display of this field
    /// disagrees with ours. Check against a conformant peer before relying on either; the raw
    /// octet is kept, so nothing is lost in a round trip.
    pub struct IntervalRequestFlags(u8) {
        /// computeNeighborRateRatio.
        const COMPUTE_NEIGHBOR_RATE_RATIO = 0x01;
        /// computeMeanLinkDelay (computeNeighborPropDelay in 802.1AS-2011).
        const COMPUTE_MEAN_LINK_DELAY = 0x02;
        /// oneStepReceiveCapable (802.1AS-2020).
        const ONE_STEP_RECEIVE_CAPABLE = 0x04;
    }
}

/// The message interval request TLV (802.1AS-2020 10.6.4.3), carried by Signaling.
///
/// Each interval is a log2 of seconds or one of the special values
/// [`INTERVAL_NO_CHANGE`](Self::INTERVAL_NO_CHANGE),
/// [`INTERVAL_SET_TO_INITIAL`](Self::INTERVAL_SET_TO_INITIAL) and
/// [`INTERVAL_STOP`](Self::INTERVAL_STOP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MessageIntervalRequest {
    /// `linkDelayInterval` (Pdelay_Req).
    pub link_delay_interval: i8,
    /// `timeSyncInterval` (Sync).
    pub time_sync_interval: i8,
    /// `announceInterval`.
    pub announce_interval: i8,
    /// `flags`.
    pub flags: IntervalRequestFlags,
}

impl MessageIntervalRequest {
    /// Keep the current interval.
    pub const INTERVAL_NO_CHANGE: i8 = -128;
    /// Go back to the initial interval.
    pub const INTERVAL_SET_TO_INITIAL: i8 = 126;
    /// Stop sending.
    pub const INTERVAL_STOP: i8 = 127;
}

/// One TLV of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tlv {
    /// Follow_Up information TLV.
    FollowUpInfo(FollowUpInfo),
    /// Path trace TLV (type 0x0008): the clock identities the Announce has passed, the
    /// grandmaster first.
    PathTrace(Vec<ClockIdentity>),
    /// Message interval request TLV.
    MessageIntervalRequest(MessageIntervalRequest),
    /// Any other TLV, kept byte for byte (for example the 802.1AS-2020 gPTP-capable TLV or
    /// another organisation's extension) so that it can be forwarded or re-emitted.
    Unknown {
        /// `tlvType`.
        tlv_type: TlvType,
        /// The value (everything after `lengthField`).
        value: Vec<u8>,
    },
}

impl Tlv {
    /// Parses a checked TLV view.
    ///
    /// A known TLV with the wrong length is [`Error::BadField`] rather than falling back to
    /// [`Tlv::Unknown`], so a malformed Follow_Up information TLV cannot hide as an unknown
    /// one.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(tlv: &TlvBuffer<&T>) -> Result<Self> {
        tlv.check_len()?;
        let value = tlv.value();
        match tlv.tlv_type() {
            TlvType::OrganizationExtension
                if value.len() >= field::ORG_SUBTYPE.end
                    && value[field::ORG_ID] == IEEE_802_1_OUI =>
            {
                Self::parse_ieee_802_1(value)
            }
            TlvType::PathTrace => {
                if !value.len().is_multiple_of(CLOCK_IDENTITY_LEN) {
                    return Err(Error::BadField {
                        field: "path trace TLV lengthField",
                    });
                }
                Ok(Self::PathTrace(
                    value
                        .chunks_exact(CLOCK_IDENTITY_LEN)
                        .map(ClockIdentity::from_slice)
                        .collect(),
                ))
            }
            tlv_type => Ok(Self::Unknown {
                tlv_type,
                value: value.to_vec(),
            }),
        }
    }

    fn parse_ieee_802_1(value: &[u8]) -> Result<Self> {
        let subtype = &value[field::ORG_SUBTYPE];
        if subtype == SUBTYPE_FOLLOW_UP_INFO {
            if value.len() != FOLLOW_UP_INFO_LEN {
                return Err(Error::BadField {
                    field: "Follow_Up information TLV lengthField",
                });
            }
            let mut phase = [0u8; 12];
            phase.copy_from_slice(&value[field::FU_LAST_GM_PHASE_CHANGE]);
            Ok(Self::FollowUpInfo(FollowUpInfo {
                cumulative_scaled_rate_offset: i32::from_be_bytes(array4(&value[field::FU_CSRO])),
                gm_time_base_indicator: u16::from_be_bytes([
                    value[field::FU_GM_TIME_BASE_INDICATOR.start],
                    value[field::FU_GM_TIME_BASE_INDICATOR.start + 1],
                ]),
                last_gm_phase_change: ScaledNs::from_bytes(&phase),
                scaled_last_gm_freq_change: i32::from_be_bytes(array4(
                    &value[field::FU_SCALED_LAST_GM_FREQ_CHANGE],
                )),
            }))
        } else if subtype == SUBTYPE_MESSAGE_INTERVAL_REQUEST {
            if value.len() != MESSAGE_INTERVAL_REQUEST_LEN {
                return Err(Error::BadField {
                    field: "message interval request TLV lengthField",
                });
            }
            let int8 = |at: usize| i8::from_be_bytes([value[at]]);
            Ok(Self::MessageIntervalRequest(MessageIntervalRequest {
                link_delay_interval: int8(field::MIR_LINK_DELAY_INTERVAL),
                time_sync_interval: int8(field::MIR_TIME_SYNC_INTERVAL),
                announce_interval: int8(field::MIR_ANNOUNCE_INTERVAL),
                flags: IntervalRequestFlags::from_bits_retain(value[field::MIR_FLAGS]),
            }))
        } else {
            Ok(Self::Unknown {
                tlv_type: TlvType::OrganizationExtension,
                value: value.to_vec(),
            })
        }
    }

    /// `tlvType` of this TLV.
    pub fn tlv_type(&self) -> TlvType {
        match self {
            Self::FollowUpInfo(_) | Self::MessageIntervalRequest(_) => {
                TlvType::OrganizationExtension
            }
            Self::PathTrace(_) => TlvType::PathTrace,
            Self::Unknown { tlv_type, .. } => *tlv_type,
        }
    }

    /// Length of the value (`lengthField`).
    pub fn value_len(&self) -> usize {
        match self {
            Self::FollowUpInfo(_) => FOLLOW_UP_INFO_LEN,
            Self::MessageIntervalRequest(_) => MESSAGE_INTERVAL_REQUEST_LEN,
            Self::PathTrace(path) => path.len() * CLOCK_IDENTITY_LEN,
            Self::Unknown { value, .. } => value.len(),
        }
    }

    /// Bytes the TLV takes on the wire, header included.
    pub fn buffer_len(&self) -> usize {
        TLV_HEADER_LEN + self.value_len()
    }

    /// Writes the TLV at the start of `buffer`; returns the number of bytes written.
    ///
    /// [`Error::Truncated`] if the buffer is shorter than [`buffer_len`](Self::buffer_len);
    /// [`Error::BadLength`] if the value is longer than a `lengthField` can say.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize> {
        let value_len = u16::try_from(self.value_len()).map_err(|_| Error::BadLength)?;
        let total = self.buffer_len();
        if buffer.len() < total {
            return Err(Error::Truncated);
        }
        let mut tlv = TlvBuffer::new_unchecked(&mut buffer[..total]);
        tlv.set_tlv_type(self.tlv_type());
        tlv.set_length(value_len);
        let value = tlv.value_mut();
        match self {
            Self::FollowUpInfo(info) => {
                value[field::ORG_ID].copy_from_slice(&IEEE_802_1_OUI);
                value[field::ORG_SUBTYPE].copy_from_slice(&SUBTYPE_FOLLOW_UP_INFO);
                value[field::FU_CSRO]
                    .copy_from_slice(&info.cumulative_scaled_rate_offset.to_be_bytes());
                value[field::FU_GM_TIME_BASE_INDICATOR]
                    .copy_from_slice(&info.gm_time_base_indicator.to_be_bytes());
                value[field::FU_LAST_GM_PHASE_CHANGE]
                    .copy_from_slice(&info.last_gm_phase_change.to_bytes());
                value[field::FU_SCALED_LAST_GM_FREQ_CHANGE]
                    .copy_from_slice(&info.scaled_last_gm_freq_change.to_be_bytes());
            }
            Self::MessageIntervalRequest(req) => {
                value[field::ORG_ID].copy_from_slice(&IEEE_802_1_OUI);
                value[field::ORG_SUBTYPE].copy_from_slice(&SUBTYPE_MESSAGE_INTERVAL_REQUEST);
                value[field::MIR_LINK_DELAY_INTERVAL] = req.link_delay_interval.to_be_bytes()[0];
                value[field::MIR_TIME_SYNC_INTERVAL] = req.time_sync_interval.to_be_bytes()[0];
                value[field::MIR_ANNOUNCE_INTERVAL] = req.announce_interval.to_be_bytes()[0];
                value[field::MIR_FLAGS] = req.flags.bits();
                value[field::MIR_FLAGS + 1..].fill(0);
            }
            Self::PathTrace(path) => {
                for (chunk, id) in value.chunks_exact_mut(CLOCK_IDENTITY_LEN).zip(path) {
                    chunk.copy_from_slice(&id.0);
                }
            }
            Self::Unknown { value: raw, .. } => value.copy_from_slice(raw),
        }
        Ok(total)
    }
}

fn array4(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

/// Parses the TLVs that fill `bytes` exactly.
pub(crate) fn parse_tlvs(mut bytes: &[u8]) -> Result<Vec<Tlv>> {
    let mut tlvs = Vec::new();
    while !bytes.is_empty() {
        let view = TlvBuffer::new_checked(bytes)?;
        tlvs.push(Tlv::parse(&view)?);
        bytes = &bytes[view.total_len()..];
    }
    Ok(tlvs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Follow_Up information TLV from `gptp-wire-decode.txt` (ptp4l 3.1.1 as GM sends
    /// every field 0).
    const FOLLOW_UP_INFO_PTP4L: [u8; 32] = [
        0x00, 0x03, // tlvType ORGANIZATION_EXTENSION
        0x00, 0x1c, // lengthField 28
        0x00, 0x80, 0xc2, // organizationId IEEE 802.1
        0x00, 0x00, 0x01, // organizationSubType 1
        0, 0, 0, 0, // cumulativeScaledRateOffset
        0, 0, // gmTimeBaseIndicator
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // lastGmPhaseChange
        0, 0, 0, 0, // scaledLastGmFreqChange
    ];

    fn round_trip(bytes: &[u8], expected: &Tlv) {
        let view = TlvBuffer::new_checked(bytes).unwrap();
        let tlv = Tlv::parse(&view).unwrap();
        assert_eq!(&tlv, expected);
        assert_eq!(tlv.buffer_len(), bytes.len());
        let mut out = vec![0xa5; bytes.len() + 3];
        assert_eq!(tlv.emit(&mut out).unwrap(), bytes.len());
        assert_eq!(&out[..bytes.len()], bytes);
        assert_eq!(out[bytes.len()..], [0xa5; 3]);
    }

    #[test]
    fn follow_up_info_from_ptp4l() {
        round_trip(
            &FOLLOW_UP_INFO_PTP4L,
            &Tlv::FollowUpInfo(FollowUpInfo::default()),
        );
    }

    #[test]
    fn follow_up_info_with_values() {
        let mut bytes = FOLLOW_UP_INFO_PTP4L;
        bytes[10..14].copy_from_slice(&(-22i32).to_be_bytes()); // about -1e-11
        bytes[14..16].copy_from_slice(&0x1234u16.to_be_bytes());
        bytes[16..28].copy_from_slice(&[0xff; 12]); // -1/65536 ns
        bytes[28..32].copy_from_slice(&7i32.to_be_bytes());
        let info = FollowUpInfo {
            cumulative_scaled_rate_offset: -22,
            gm_time_base_indicator: 0x1234,
            last_gm_phase_change: ScaledNs::from_bytes(&[0xff; 12]),
            scaled_last_gm_freq_change: 7,
        };
        assert_eq!(info.last_gm_phase_change.to_duration().subnanos(), -1);
        assert!((info.rate_ratio() - (1.0 - 22.0 / 2f64.powi(41))).abs() < 1e-15);
        round_trip(&bytes, &Tlv::FollowUpInfo(info));
    }

    #[test]
    fn path_trace() {
        let bytes = [
            0x00, 0x08, 0x00, 0x10, // PATH_TRACE, 16
            0x72, 0x9c, 0x94, 0xff, 0xfe, 0xb7, 0xf4, 0x74, //
            0x7a, 0x22, 0x83, 0xff, 0xfe, 0x1f, 0xba, 0x36,
        ];
        round_trip(
            &bytes,
            &Tlv::PathTrace(vec![
                ClockIdentity::from_mac([0x72, 0x9c, 0x94, 0xb7, 0xf4, 0x74]),
                ClockIdentity::from_mac([0x7a, 0x22, 0x83, 0x1f, 0xba, 0x36]),
            ]),
        );
        round_trip(&[0x00, 0x08, 0x00, 0x00], &Tlv::PathTrace(vec![]));
        let odd = [0x00, 0x08, 0x00, 0x04, 1, 2, 3, 4];
        assert!(matches!(
            Tlv::parse(&TlvBuffer::new_checked(&odd[..]).unwrap()),
            Err(Error::BadField { .. })
        ));
    }

    #[test]
    fn unknown_tlvs_round_trip_byte_exactly() {
        // 802.1AS-2020 gPTP-capable TLV (organizationSubType 4), which we do not decode.
        round_trip(
            &[
                0x00, 0x03, 0x00, 0x0c, 0x00, 0x80, 0xc2, 0x00, 0x00, 0x04, 0xfd, 0x00, 0, 0, 0, 0,
            ],
            &Tlv::Unknown {
                tlv_type: TlvType::OrganizationExtension,
                value: vec![0x00, 0x80, 0xc2, 0x00, 0x00, 0x04, 0xfd, 0x00, 0, 0, 0, 0],
            },
        );
        // Another organisation's extension, shorter than an org header.
        round_trip(
            &[0x00, 0x03, 0x00, 0x02, 0xab, 0xcd],
            &Tlv::Unknown {
                tlv_type: TlvType::OrganizationExtension,
                value: vec![0xab, 0xcd],
            },
        );
        // A TLV type nobody has defined, odd length.
        round_trip(
            &[0x12, 0x34, 0x00, 0x03, 1, 2, 3],
            &Tlv::Unknown {
                tlv_type: TlvType::Unknown(0x1234),
                value: vec![1, 2, 3],
            },
        );
    }

    #[test]
    fn known_tlvs_with_wrong_length_are_rejected() {
        let mut short = FOLLOW_UP_INFO_PTP4L[..30].to_vec();
        short[3] = 26;
        assert_eq!(
            Tlv::parse(&TlvBuffer::new_checked(&short[..]).unwrap()),
            Err(Error::BadField {
                field: "Follow_Up information TLV lengthField"
            })
        );
    }

    #[test]
    fn tlv_list_needs_whole_tlvs() {
        assert_eq!(parse_tlvs(&[]).unwrap(), vec![]);
        assert_eq!(parse_tlvs(&[0x00, 0x08, 0x00]), Err(Error::BadLength));
        assert_eq!(
            parse_tlvs(&[0x00, 0x08, 0x00, 0x08, 1]),
            Err(Error::BadLength)
        );
        let mut two = FOLLOW_UP_INFO_PTP4L.to_vec();
        two.extend_from_slice(&[0x00, 0x08, 0x00, 0x00]);
        assert_eq!(parse_tlvs(&two).unwrap().len(), 2);
    }

    #[test]
    fn emit_refuses_short_buffers_and_huge_values() {
        let tlv = Tlv::FollowUpInfo(FollowUpInfo::default());
        assert_eq!(tlv.emit(&mut [0u8; 31]), Err(Error::Truncated));
        let huge = Tlv::Unknown {
            tlv_type: TlvType::Unknown(0x7777),
            value: vec![0; 65_536],
        };
        assert_eq!(huge.emit(&mut vec![0u8; 70_000]), Err(Error::BadLength));
    }
}
