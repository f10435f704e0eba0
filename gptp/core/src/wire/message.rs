//! Whole messages: header, type-specific body, TLVs.

use tsn_time::PtpTimestamp;

use super::header::{HEADER_LEN, Header, HeaderRepr};
use super::tlv::{Tlv, parse_tlvs};
use super::types::{
    ClockAccuracy, ClockIdentity, ClockQuality, MessageType, PortIdentity, TimeSource,
    read_timestamp, write_timestamp,
};
use super::{Error, Result};

/// Offsets inside the body, counted from the end of the common header.
mod field {
    use core::ops::Range;

    /// Sync originTimestamp (reserved in a two-step Sync), Follow_Up
    /// preciseOriginTimestamp, Pdelay_Resp requestReceiptTimestamp, Pdelay_Resp_Follow_Up
    /// responseOriginTimestamp; reserved in Pdelay_Req and Announce.
    pub(super) const TIMESTAMP: Range<usize> = 0..10;
    /// requestingPortIdentity of Pdelay_Resp and Pdelay_Resp_Follow_Up.
    pub(super) const REQUESTING_PORT_IDENTITY: Range<usize> = 10..20;
    /// targetPortIdentity of Signaling.
    pub(super) const TARGET_PORT_IDENTITY: Range<usize> = 0..10;

    // Announce, after the 10 reserved originTimestamp bytes.
    pub(super) const CURRENT_UTC_OFFSET: Range<usize> = 10..12;
    // 12: reserved
    pub(super) const PRIORITY_1: usize = 13;
    pub(super) const CLOCK_CLASS: usize = 14;
    pub(super) const CLOCK_ACCURACY: usize = 15;
    pub(super) const OFFSET_SCALED_LOG_VARIANCE: Range<usize> = 16..18;
    pub(super) const PRIORITY_2: usize = 18;
    pub(super) const GRANDMASTER_IDENTITY: Range<usize> = 19..27;
    pub(super) const STEPS_REMOVED: Range<usize> = 27..29;
    pub(super) const TIME_SOURCE: usize = 29;
}

/// Body length of Sync and Follow_Up.
const TIMESTAMP_BODY_LEN: usize = field::TIMESTAMP.end;
/// Body length of Pdelay_Req, Pdelay_Resp and Pdelay_Resp_Follow_Up.
const PDELAY_BODY_LEN: usize = field::REQUESTING_PORT_IDENTITY.end;
/// Body length of Announce.
const ANNOUNCE_BODY_LEN: usize = field::TIME_SOURCE + 1;
/// Body length of Signaling.
const SIGNALING_BODY_LEN: usize = field::TARGET_PORT_IDENTITY.end;

/// Sync (802.1AS-2020 11.4.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SyncBody {
    /// originTimestamp of a one-step Sync; reserved (zero) in a two-step Sync, whose time
    /// travels in the Follow_Up.
    pub origin_timestamp: PtpTimestamp,
}

/// Follow_Up (802.1AS-2020 11.4.4). Its Follow_Up information TLV is in
/// [`Message::tlvs`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FollowUpBody {
    /// preciseOriginTimestamp: when the Sync left the grandmaster, whole nanoseconds (the
    /// fraction and the residence times are in the correctionField).
    pub precise_origin_timestamp: PtpTimestamp,
}

/// Pdelay_Resp (802.1AS-2020 11.4.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PdelayRespBody {
    /// requestReceiptTimestamp: t2, when the Pdelay_Req arrived.
    pub request_receipt_timestamp: PtpTimestamp,
    /// requestingPortIdentity: the source of the Pdelay_Req.
    pub requesting_port_identity: PortIdentity,
}

/// Pdelay_Resp_Follow_Up (802.1AS-2020 11.4.7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PdelayRespFollowUpBody {
    /// responseOriginTimestamp: t3, when the Pdelay_Resp left.
    pub response_origin_timestamp: PtpTimestamp,
    /// requestingPortIdentity: the source of the Pdelay_Req.
    pub requesting_port_identity: PortIdentity,
}

/// Announce (802.1AS-2020 10.6.3). Its path trace TLV is in [`Message::tlvs`]. The
/// originTimestamp and one byte after currentUtcOffset are reserved: ignored on receipt,
/// sent as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AnnounceBody {
    /// currentUtcOffset (TAI - UTC in seconds, 37 since 2017).
    pub current_utc_offset: i16,
    /// grandmasterPriority1.
    pub priority_1: u8,
    /// grandmasterClockQuality.
    pub grandmaster_clock_quality: ClockQuality,
    /// grandmasterPriority2.
    pub priority_2: u8,
    /// grandmasterIdentity.
    pub grandmaster_identity: ClockIdentity,
    /// stepsRemoved.
    pub steps_removed: u16,
    /// timeSource.
    pub time_source: TimeSource,
}

/// Signaling (802.1AS-2020 10.6.4). Its message interval request TLV is in
/// [`Message::tlvs`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SignalingBody {
    /// targetPortIdentity ([`PortIdentity::ALL`] in 802.1AS).
    pub target_port_identity: PortIdentity,
}

/// The type-specific part of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// Sync.
    Sync(SyncBody),
    /// Follow_Up.
    FollowUp(FollowUpBody),
    /// Pdelay_Req: 20 reserved bytes, ignored on receipt and sent as zero.
    PdelayReq,
    /// Pdelay_Resp.
    PdelayResp(PdelayRespBody),
    /// Pdelay_Resp_Follow_Up.
    PdelayRespFollowUp(PdelayRespFollowUpBody),
    /// Announce.
    Announce(AnnounceBody),
    /// Signaling.
    Signaling(SignalingBody),
    /// A message type 802.1AS does not use on a link (Delay_Req, Delay_Resp, Management or
    /// an unassigned type), kept raw: `data` is everything after the header up to
    /// `messageLength`, and such a message has no parsed TLVs.
    ///
    /// `message_type` should not be one of the types above: such a message would emit fine
    /// but parse back as that type.
    Other {
        /// messageType.
        message_type: MessageType,
        /// Body and TLVs, unparsed.
        data: Vec<u8>,
    },
}

impl Body {
    /// messageType of this body.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Sync(_) => MessageType::Sync,
            Self::FollowUp(_) => MessageType::FollowUp,
            Self::PdelayReq => MessageType::PdelayReq,
            Self::PdelayResp(_) => MessageType::PdelayResp,
            Self::PdelayRespFollowUp(_) => MessageType::PdelayRespFollowUp,
            Self::Announce(_) => MessageType::Announce,
            Self::Signaling(_) => MessageType::Signaling,
            Self::Other { message_type, .. } => *message_type,
        }
    }

    /// Length of the body on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Sync(_) | Self::FollowUp(_) => TIMESTAMP_BODY_LEN,
            Self::PdelayReq | Self::PdelayResp(_) | Self::PdelayRespFollowUp(_) => PDELAY_BODY_LEN,
            Self::Announce(_) => ANNOUNCE_BODY_LEN,
            Self::Signaling(_) => SIGNALING_BODY_LEN,
            Self::Other { data, .. } => data.len(),
        }
    }

    /// Parses the body of a `message_type` message from `payload` (everything after the
    /// header up to `messageLength`) and returns it with the bytes that follow it (the TLVs).
    fn parse(message_type: MessageType, payload: &[u8]) -> Result<(Self, &[u8])> {
        let need = match message_type {
            MessageType::Sync | MessageType::FollowUp => TIMESTAMP_BODY_LEN,
            MessageType::PdelayReq | MessageType::PdelayResp | MessageType::PdelayRespFollowUp => {
                PDELAY_BODY_LEN
            }
            MessageType::Announce => ANNOUNCE_BODY_LEN,
            MessageType::Signaling => SIGNALING_BODY_LEN,
            _ => {
                return Ok((
                    Self::Other {
                        message_type,
                        data: payload.to_vec(),
                    },
                    &[],
                ));
            }
        };
        // messageLength itself is too short for the message type.
        let (b, rest) = payload.split_at_checked(need).ok_or(Error::BadLength)?;
        let body = match message_type {
            MessageType::Sync => Self::Sync(SyncBody {
                origin_timestamp: read_timestamp(&b[field::TIMESTAMP], "originTimestamp")?,
            }),
            MessageType::FollowUp => Self::FollowUp(FollowUpBody {
                precise_origin_timestamp: read_timestamp(
                    &b[field::TIMESTAMP],
                    "preciseOriginTimestamp",
                )?,
            }),
            MessageType::PdelayReq => Self::PdelayReq,
            MessageType::PdelayResp => Self::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: read_timestamp(
                    &b[field::TIMESTAMP],
                    "requestReceiptTimestamp",
                )?,
                requesting_port_identity: PortIdentity::from_slice(
                    &b[field::REQUESTING_PORT_IDENTITY],
                ),
            }),
            MessageType::PdelayRespFollowUp => Self::PdelayRespFollowUp(PdelayRespFollowUpBody {
                response_origin_timestamp: read_timestamp(
                    &b[field::TIMESTAMP],
                    "responseOriginTimestamp",
                )?,
                requesting_port_identity: PortIdentity::from_slice(
                    &b[field::REQUESTING_PORT_IDENTITY],
                ),
            }),
            MessageType::Announce => Self::Announce(AnnounceBody {
                current_utc_offset: i16::from_be_bytes([
                    b[field::CURRENT_UTC_OFFSET.start],
                    b[field::CURRENT_UTC_OFFSET.start + 1],
                ]),
                priority_1: b[field::PRIORITY_1],
                grandmaster_clock_quality: ClockQuality {
                    clock_class: b[field::CLOCK_CLASS],
                    clock_accuracy: ClockAccuracy(b[field::CLOCK_ACCURACY]),
                    offset_scaled_log_variance: u16::from_be_bytes([
                        b[field::OFFSET_SCALED_LOG_VARIANCE.start],
                        b[field::OFFSET_SCALED_LOG_VARIANCE.start + 1],
                    ]),
                },
                priority_2: b[field::PRIORITY_2],
                grandmaster_identity: ClockIdentity::from_slice(&b[field::GRANDMASTER_IDENTITY]),
                steps_removed: u16::from_be_bytes([
                    b[field::STEPS_REMOVED.start],
                    b[field::STEPS_REMOVED.start + 1],
                ]),
                time_source: TimeSource::from(b[field::TIME_SOURCE]),
            }),
            MessageType::Signaling => Self::Signaling(SignalingBody {
                target_port_identity: PortIdentity::from_slice(&b[field::TARGET_PORT_IDENTITY]),
            }),
            // Every other type returned above.
            _ => {
                return Err(Error::BadField {
                    field: "messageType",
                });
            }
        };
        Ok((body, rest))
    }

    /// Writes the body into `b`, which is exactly [`buffer_len`](Self::buffer_len) long.
    fn emit(&self, b: &mut [u8]) -> Result<()> {
        b.fill(0);
        match self {
            Self::Sync(s) => write_timestamp(s.origin_timestamp, b, "originTimestamp")?,
            Self::FollowUp(f) => {
                write_timestamp(f.precise_origin_timestamp, b, "preciseOriginTimestamp")?;
            }
            Self::PdelayReq => {}
            Self::PdelayResp(p) => {
                write_timestamp(p.request_receipt_timestamp, b, "requestReceiptTimestamp")?;
                p.requesting_port_identity
                    .write(&mut b[field::REQUESTING_PORT_IDENTITY]);
            }
            Self::PdelayRespFollowUp(p) => {
                write_timestamp(p.response_origin_timestamp, b, "responseOriginTimestamp")?;
                p.requesting_port_identity
                    .write(&mut b[field::REQUESTING_PORT_IDENTITY]);
            }
            Self::Announce(a) => {
                b[field::CURRENT_UTC_OFFSET].copy_from_slice(&a.current_utc_offset.to_be_bytes());
                b[field::PRIORITY_1] = a.priority_1;
                b[field::CLOCK_CLASS] = a.grandmaster_clock_quality.clock_class;
                b[field::CLOCK_ACCURACY] = a.grandmaster_clock_quality.clock_accuracy.0;
                b[field::OFFSET_SCALED_LOG_VARIANCE].copy_from_slice(
                    &a.grandmaster_clock_quality
                        .offset_scaled_log_variance
                        .to_be_bytes(),
                );
                b[field::PRIORITY_2] = a.priority_2;
                b[field::GRANDMASTER_IDENTITY].copy_from_slice(&a.grandmaster_identity.0);
                b[field::STEPS_REMOVED].copy_from_slice(&a.steps_removed.to_be_bytes());
                b[field::TIME_SOURCE] = u8::from(a.time_source);
            }
            Self::Signaling(s) => s
                .target_port_identity
                .write(&mut b[field::TARGET_PORT_IDENTITY]),
            Self::Other { data, .. } => b.copy_from_slice(data),
        }
        Ok(())
    }
}

/// A whole 802.1AS message: header fields, body and TLVs.
///
/// ```
/// use gptp_core::wire::{Body, ClockIdentity, Flags, HeaderRepr, Message, PortIdentity, SyncBody};
///
/// let sync = Message {
///     header: HeaderRepr {
///         flags: Flags::TWO_STEP,
///         source_port_identity: PortIdentity {
///             clock_identity: ClockIdentity::from_mac([0x72, 0x9c, 0x94, 0xb7, 0xf4, 0x74]),
///             port_number: 1,
///         },
///         sequence_id: 7,
///         log_message_interval: -3,
///         ..HeaderRepr::default()
///     },
///     body: Body::Sync(SyncBody::default()),
///     tlvs: vec![],
/// };
/// let mut frame = vec![0; sync.buffer_len()];
/// sync.emit(&mut frame).unwrap();
/// assert_eq!(frame.len(), 44);
/// assert_eq!(Message::parse_bytes(&frame).unwrap(), sync);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// Header fields.
    pub header: HeaderRepr,
    /// Type-specific fields; also decides messageType.
    pub body: Body,
    /// TLVs after the body, in order.
    pub tlvs: Vec<Tlv>,
}

impl Message {
    /// Parses a checked view (see [`Header::new_checked`]). Bytes past `messageLength`
    /// (Ethernet padding) are ignored.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Header<&T>) -> Result<Self> {
        let header = HeaderRepr::parse(packet)?;
        let (body, rest) = Body::parse(packet.message_type(), packet.payload())?;
        let tlvs = parse_tlvs(rest)?;
        Ok(Self { header, body, tlvs })
    }

    /// Parses the PTP payload of a frame (the bytes after the Ethernet header).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self> {
        Self::parse(&Header::new_checked(bytes)?)
    }

    /// messageType.
    pub fn message_type(&self) -> MessageType {
        self.body.message_type()
    }

    /// The first Follow_Up information TLV, if any.
    pub fn follow_up_info(&self) -> Option<&super::FollowUpInfo> {
        self.tlvs.iter().find_map(|t| match t {
            Tlv::FollowUpInfo(info) => Some(info),
            _ => None,
        })
    }

    /// The path of the first path trace TLV, if any.
    pub fn path_trace(&self) -> Option<&[ClockIdentity]> {
        self.tlvs.iter().find_map(|t| match t {
            Tlv::PathTrace(path) => Some(path.as_slice()),
            _ => None,
        })
    }

    /// The first message interval request TLV, if any.
    pub fn message_interval_request(&self) -> Option<&super::MessageIntervalRequest> {
        self.tlvs.iter().find_map(|t| match t {
            Tlv::MessageIntervalRequest(req) => Some(req),
            _ => None,
        })
    }

    /// messageLength: header, body and TLVs.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.body.buffer_len() + self.tlvs.iter().map(Tlv::buffer_len).sum::<usize>()
    }

    /// Writes the message at the start of `buffer` and returns its length
    /// ([`buffer_len`](Self::buffer_len)); bytes after it are left alone.
    ///
    /// [`Error::Truncated`] if the buffer is too short, [`Error::BadLength`] if the message
    /// is longer than `messageLength` can say, [`Error::BadField`] for a timestamp the wire
    /// cannot carry, [`Error::UnsupportedVersion`] for a `minorVersionPTP` above 1.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let message_length = u16::try_from(len).map_err(|_| Error::BadLength)?;
        let buffer = buffer.get_mut(..len).ok_or(Error::Truncated)?;
        let mut packet = Header::new_unchecked(&mut *buffer);
        self.header
            .emit(&mut packet, self.message_type(), message_length)?;
        let payload = packet.payload_mut();
        let (body, mut rest) = payload.split_at_mut(self.body.buffer_len());
        self.body.emit(body)?;
        for tlv in &self.tlvs {
            let n = tlv.emit(rest)?;
            rest = &mut rest[n..];
        }
        Ok(len)
    }

    /// Emits into a new vector of exactly [`buffer_len`](Self::buffer_len) bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Flags, FollowUpInfo};

    fn port(n: u16) -> PortIdentity {
        PortIdentity {
            clock_identity: ClockIdentity::from_mac([2, 0, 0, 0, 0, 1]),
            port_number: n,
        }
    }

    fn sync() -> Message {
        Message {
            header: HeaderRepr {
                flags: Flags::TWO_STEP,
                source_port_identity: port(1),
                sequence_id: 0x1234,
                log_message_interval: -3,
                ..HeaderRepr::default()
            },
            body: Body::Sync(SyncBody::default()),
            tlvs: vec![],
        }
    }

    #[test]
    fn padding_after_message_length_is_ignored() {
        let mut frame = sync().to_vec().unwrap();
        assert_eq!(frame.len(), 44);
        frame.extend_from_slice(&[0; 2]); // 58-byte Sync padded to a 60-byte frame
        assert_eq!(Message::parse_bytes(&frame).unwrap(), sync());
    }

    #[test]
    fn message_length_too_short_for_its_type() {
        let mut frame = sync().to_vec().unwrap();
        frame[2..4].copy_from_slice(&40u16.to_be_bytes());
        assert_eq!(Message::parse_bytes(&frame), Err(Error::BadLength));
        // A Sync header claiming to be a Follow_Up with a TLV it does not have.
        let mut frame = sync().to_vec().unwrap();
        frame[0] = 0x18;
        frame[2..4].copy_from_slice(&46u16.to_be_bytes());
        frame.extend_from_slice(&[0, 3]);
        assert_eq!(Message::parse_bytes(&frame), Err(Error::BadLength));
    }

    #[test]
    fn other_message_types_are_kept_raw() {
        let mut frame = sync().to_vec().unwrap();
        frame[0] = 0x1d; // Management
        let m = Message::parse_bytes(&frame).unwrap();
        assert_eq!(
            m.body,
            Body::Other {
                message_type: MessageType::Management,
                data: vec![0; 10]
            }
        );
        let out = m.to_vec().unwrap();
        // controlField follows the message type: 4 for Management.
        assert_eq!(out[32], 4);
        assert_eq!(Message::parse_bytes(&out).unwrap(), m);
    }

    #[test]
    fn bad_timestamps_are_bad_fields() {
        let mut m = sync();
        m.body = Body::FollowUp(FollowUpBody {
            precise_origin_timestamp: PtpTimestamp {
                seconds: 1,
                nanoseconds: 1_000_000_000,
            },
        });
        assert_eq!(
            m.to_vec(),
            Err(Error::BadField {
                field: "preciseOriginTimestamp"
            })
        );
        let mut frame = sync().to_vec().unwrap();
        frame[40..44].copy_from_slice(&[0xff; 4]);
        assert_eq!(
            Message::parse_bytes(&frame),
            Err(Error::BadField {
                field: "originTimestamp"
            })
        );
    }

    #[test]
    fn emit_checks_the_buffer_and_the_length() {
        let m = sync();
        assert_eq!(m.emit(&mut [0u8; 43]), Err(Error::Truncated));
        let mut big = sync();
        big.tlvs = vec![Tlv::PathTrace(vec![ClockIdentity::default(); 8191])];
        assert_eq!(big.buffer_len(), 44 + 4 + 65_528);
        assert_eq!(big.to_vec(), Err(Error::BadLength));
    }

    #[test]
    fn accessors_find_tlvs() {
        let mut m = sync();
        m.body = Body::FollowUp(FollowUpBody::default());
        let info = FollowUpInfo {
            cumulative_scaled_rate_offset: 5,
            ..FollowUpInfo::default()
        };
        m.tlvs = vec![
            Tlv::Unknown {
                tlv_type: crate::wire::TlvType::Unknown(0x4242),
                value: vec![],
            },
            Tlv::FollowUpInfo(info),
        ];
        assert_eq!(m.follow_up_info(), Some(&info));
        assert_eq!(m.path_trace(), None);
        assert_eq!(m.message_interval_request(), None);
        let back = Message::parse_bytes(&m.to_vec().unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
