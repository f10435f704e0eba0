//! The 34-byte common header of every PTP message (IEEE 1588-2019 13.3, 802.1AS-2020
//! 10.6.2 and 11.4.2).

use tsn_time::TimeInterval;

use super::types::{Flags, MessageType, PortIdentity};
use super::{Error, Result};

/// `majorSdoId` (the former `transportSpecific`) of 802.1AS messages.
pub const MAJOR_SDO_ID_GPTP: u8 = 1;
/// `versionPTP`.
pub const VERSION_PTP: u8 = 2;
/// The highest `minorVersionPTP` accepted: ptp4l 3.x sends 0, linuxptp 4.x and
/// 802.1AS-2020 send 1.
pub const MAX_MINOR_VERSION_PTP: u8 = 1;
/// Length of the common header.
pub const HEADER_LEN: usize = field::LOG_MESSAGE_INTERVAL + 1;

mod field {
    use core::ops::Range;

    /// High nibble `majorSdoId`, low nibble `messageType`.
    pub(super) const SDO_ID_MESSAGE_TYPE: usize = 0;
    /// High nibble `minorVersionPTP`, low nibble `versionPTP`.
    pub(super) const VERSION: usize = 1;
    pub(super) const MESSAGE_LENGTH: Range<usize> = 2..4;
    pub(super) const DOMAIN_NUMBER: usize = 4;
    pub(super) const MINOR_SDO_ID: usize = 5;
    pub(super) const FLAGS: Range<usize> = 6..8;
    pub(super) const CORRECTION: Range<usize> = 8..16;
    pub(super) const MESSAGE_TYPE_SPECIFIC: Range<usize> = 16..20;
    pub(super) const SOURCE_PORT_IDENTITY: Range<usize> = 20..30;
    pub(super) const SEQUENCE_ID: Range<usize> = 30..32;
    pub(super) const CONTROL: usize = 32;
    pub(super) const LOG_MESSAGE_INTERVAL: usize = 33;
}

/// A zero-copy view of a PTP message: the common header plus access to the rest of the
/// message up to `messageLength`.
///
/// After [`check_len`](Self::check_len) (or [`new_checked`](Self::new_checked)) succeeded, no
/// getter or setter panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking anything; accessors may panic until
    /// [`check_len`](Self::check_len) has succeeded.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks its length.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the buffer holds a whole header and the whole message `messageLength`
    /// announces. Bytes past `messageLength` (Ethernet padding) are allowed.
    ///
    /// [`Error::Truncated`] if the buffer is shorter than the header or than
    /// `messageLength`; [`Error::BadLength`] if `messageLength` is shorter than the header.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let message_length = usize::from(self.message_length());
        if message_length < HEADER_LEN {
            Err(Error::BadLength)
        } else if message_length > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// `majorSdoId` (`transportSpecific`): 1 for 802.1AS, 2 for CMLDS, 0 for plain 1588.
    pub fn major_sdo_id(&self) -> u8 {
        self.buffer.as_ref()[field::SDO_ID_MESSAGE_TYPE] >> 4
    }

    /// `messageType`.
    pub fn message_type(&self) -> MessageType {
        MessageType::from(self.buffer.as_ref()[field::SDO_ID_MESSAGE_TYPE] & 0x0f)
    }

    /// `minorVersionPTP`.
    pub fn minor_version_ptp(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] >> 4
    }

    /// `versionPTP` (2).
    pub fn version_ptp(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] & 0x0f
    }

    /// `messageLength`: header, body and TLVs, without padding.
    pub fn message_length(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([
            b[field::MESSAGE_LENGTH.start],
            b[field::MESSAGE_LENGTH.start + 1],
        ])
    }

    /// `domainNumber`.
    pub fn domain_number(&self) -> u8 {
        self.buffer.as_ref()[field::DOMAIN_NUMBER]
    }

    /// `minorSdoId`.
    pub fn minor_sdo_id(&self) -> u8 {
        self.buffer.as_ref()[field::MINOR_SDO_ID]
    }

    /// `flagField`.
    pub fn flags(&self) -> Flags {
        let b = self.buffer.as_ref();
        Flags::from_bits_retain(u16::from_be_bytes([
            b[field::FLAGS.start],
            b[field::FLAGS.start + 1],
        ]))
    }

    /// `correctionField`, in ns x 2^16.
    pub fn correction_field(&self) -> TimeInterval {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&self.buffer.as_ref()[field::CORRECTION]);
        TimeInterval(i64::from_be_bytes(raw))
    }

    /// `messageTypeSpecific` (reserved in 802.1AS).
    pub fn message_type_specific(&self) -> u32 {
        let mut raw = [0u8; 4];
        raw.copy_from_slice(&self.buffer.as_ref()[field::MESSAGE_TYPE_SPECIFIC]);
        u32::from_be_bytes(raw)
    }

    /// `sourcePortIdentity`.
    pub fn source_port_identity(&self) -> PortIdentity {
        PortIdentity::from_slice(&self.buffer.as_ref()[field::SOURCE_PORT_IDENTITY])
    }

    /// `sequenceId`.
    pub fn sequence_id(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::SEQUENCE_ID.start], b[field::SEQUENCE_ID.start + 1]])
    }

    /// `controlField` (obsolete; receivers ignore it).
    pub fn control_field(&self) -> u8 {
        self.buffer.as_ref()[field::CONTROL]
    }

    /// `logMessageInterval`.
    pub fn log_message_interval(&self) -> i8 {
        i8::from_be_bytes([self.buffer.as_ref()[field::LOG_MESSAGE_INTERVAL]])
    }

    /// Body and TLVs: the bytes from the end of the header to `messageLength`.
    pub fn payload(&self) -> &[u8] {
        let end = usize::from(self.message_length());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets `majorSdoId`.
    pub fn set_major_sdo_id(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::SDO_ID_MESSAGE_TYPE];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Sets `messageType`.
    pub fn set_message_type(&mut self, value: MessageType) {
        let b = &mut self.buffer.as_mut()[field::SDO_ID_MESSAGE_TYPE];
        *b = (*b & 0xf0) | (u8::from(value) & 0x0f);
    }

    /// Sets `minorVersionPTP`.
    pub fn set_minor_version_ptp(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VERSION];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Sets `versionPTP`.
    pub fn set_version_ptp(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VERSION];
        *b = (*b & 0xf0) | (value & 0x0f);
    }

    /// Sets `messageLength`.
    pub fn set_message_length(&mut self, value: u16) {
        self.buffer.as_mut()[field::MESSAGE_LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `domainNumber`.
    pub fn set_domain_number(&mut self, value: u8) {
        self.buffer.as_mut()[field::DOMAIN_NUMBER] = value;
    }

    /// Sets `minorSdoId`.
    pub fn set_minor_sdo_id(&mut self, value: u8) {
        self.buffer.as_mut()[field::MINOR_SDO_ID] = value;
    }

    /// Sets `flagField`.
    pub fn set_flags(&mut self, value: Flags) {
        self.buffer.as_mut()[field::FLAGS].copy_from_slice(&value.bits().to_be_bytes());
    }

    /// Sets `correctionField`.
    pub fn set_correction_field(&mut self, value: TimeInterval) {
        self.buffer.as_mut()[field::CORRECTION].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets `messageTypeSpecific`.
    pub fn set_message_type_specific(&mut self, value: u32) {
        self.buffer.as_mut()[field::MESSAGE_TYPE_SPECIFIC].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `sourcePortIdentity`.
    pub fn set_source_port_identity(&mut self, value: PortIdentity) {
        value.write(&mut self.buffer.as_mut()[field::SOURCE_PORT_IDENTITY]);
    }

    /// Sets `sequenceId`.
    pub fn set_sequence_id(&mut self, value: u16) {
        self.buffer.as_mut()[field::SEQUENCE_ID].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `controlField`.
    pub fn set_control_field(&mut self, value: u8) {
        self.buffer.as_mut()[field::CONTROL] = value;
    }

    /// Sets `logMessageInterval`.
    pub fn set_log_message_interval(&mut self, value: i8) {
        self.buffer.as_mut()[field::LOG_MESSAGE_INTERVAL] = value.to_be_bytes()[0];
    }

    /// Body and TLVs, mutably, up to `messageLength`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.message_length());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The common header fields a [`Message`](super::Message) carries besides its type and
/// length (which follow from its body and TLVs).
///
/// `majorSdoId` is always 1 and `versionPTP` always 2; `controlField` is written as the
/// message type prescribes and ignored on receipt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HeaderRepr {
    /// `minorVersionPTP`: 0 or 1.
    pub minor_version_ptp: u8,
    /// `domainNumber` (0 for the default gPTP domain).
    pub domain_number: u8,
    /// `minorSdoId` (0 for gPTP).
    pub minor_sdo_id: u8,
    /// `flagField`.
    pub flags: Flags,
    /// `correctionField`, in ns x 2^16.
    pub correction_field: TimeInterval,
    /// `messageTypeSpecific` (reserved in 802.1AS; kept so it round-trips).
    pub message_type_specific: u32,
    /// `sourcePortIdentity`.
    pub source_port_identity: PortIdentity,
    /// `sequenceId`.
    pub sequence_id: u16,
    /// `logMessageInterval` (127 in Pdelay_Resp and Pdelay_Resp_Follow_Up).
    pub log_message_interval: i8,
}

impl HeaderRepr {
    /// Parses the header of a checked view, rejecting other SDOs and PTP versions.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Header<&T>) -> Result<Self> {
        header.check_len()?;
        if header.major_sdo_id() != MAJOR_SDO_ID_GPTP {
            return Err(Error::UnsupportedSdoId(header.major_sdo_id()));
        }
        if header.version_ptp() != VERSION_PTP {
            return Err(Error::UnsupportedVersion(header.version_ptp()));
        }
        if header.minor_version_ptp() > MAX_MINOR_VERSION_PTP {
            return Err(Error::UnsupportedVersion(header.minor_version_ptp()));
        }
        Ok(Self {
            minor_version_ptp: header.minor_version_ptp(),
            domain_number: header.domain_number(),
            minor_sdo_id: header.minor_sdo_id(),
            flags: header.flags(),
            correction_field: header.correction_field(),
            message_type_specific: header.message_type_specific(),
            source_port_identity: header.source_port_identity(),
            sequence_id: header.sequence_id(),
            log_message_interval: header.log_message_interval(),
        })
    }

    /// Writes the header of a message of `message_type` whose total length is
    /// `message_length`. The buffer must hold at least [`HEADER_LEN`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        header: &mut Header<T>,
        message_type: MessageType,
        message_length: u16,
    ) -> Result<()> {
        if header.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.minor_version_ptp > MAX_MINOR_VERSION_PTP {
            return Err(Error::UnsupportedVersion(self.minor_version_ptp));
        }
        header.set_major_sdo_id(MAJOR_SDO_ID_GPTP);
        header.set_message_type(message_type);
        header.set_version_ptp(VERSION_PTP);
        header.set_minor_version_ptp(self.minor_version_ptp);
        header.set_message_length(message_length);
        header.set_domain_number(self.domain_number);
        header.set_minor_sdo_id(self.minor_sdo_id);
        header.set_flags(self.flags);
        header.set_correction_field(self.correction_field);
        header.set_message_type_specific(self.message_type_specific);
        header.set_source_port_identity(self.source_port_identity);
        header.set_sequence_id(self.sequence_id);
        header.set_control_field(message_type.control_field());
        header.set_log_message_interval(self.log_message_interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ClockIdentity;

    /// Header of the Pdelay_Resp in `gptp-wire-decode.txt` (frame 2 of
    /// `gptp-ptp4l-swts-sample.pcap`).
    const PDELAY_RESP_HEADER: [u8; 34] = [
        0x13, // majorSdoId 1, messageType 3 (Pdelay_Resp)
        0x02, // minorVersionPTP 0, versionPTP 2
        0x00, 0x36, // messageLength 54
        0x00, // domainNumber 0
        0x00, // minorSdoId 0
        0x02, 0x00, // flags: twoStep
        0, 0, 0, 0, 0, 0, 0, 0, // correctionField 0
        0, 0, 0, 0, // messageTypeSpecific
        0x7a, 0x22, 0x83, 0xff, 0xfe, 0x1f, 0xba, 0x36, // clockIdentity
        0x00, 0x01, // portNumber 1
        0x00, 0x00, // sequenceId 0
        0x05, // controlField: other
        0x7f, // logMessageInterval 127
    ];

    #[test]
    fn view_reads_every_field() {
        let mut frame = [0u8; 54];
        frame[..34].copy_from_slice(&PDELAY_RESP_HEADER);
        let h = Header::new_checked(&frame[..]).unwrap();
        assert_eq!(h.major_sdo_id(), 1);
        assert_eq!(h.message_type(), MessageType::PdelayResp);
        assert_eq!(h.minor_version_ptp(), 0);
        assert_eq!(h.version_ptp(), 2);
        assert_eq!(h.message_length(), 54);
        assert_eq!(h.flags(), Flags::TWO_STEP);
        assert_eq!(h.correction_field(), TimeInterval(0));
        assert_eq!(
            h.source_port_identity().clock_identity,
            ClockIdentity([0x7a, 0x22, 0x83, 0xff, 0xfe, 0x1f, 0xba, 0x36])
        );
        assert_eq!(h.source_port_identity().port_number, 1);
        assert_eq!(h.control_field(), 5);
        assert_eq!(h.log_message_interval(), 127);
        assert_eq!(h.payload().len(), 20);
    }

    #[test]
    fn emit_matches_capture_into_prefilled_buffer() {
        let mut frame = [0u8; 54];
        frame[..34].copy_from_slice(&PDELAY_RESP_HEADER);
        let repr = HeaderRepr::parse(&Header::new_checked(&frame[..]).unwrap()).unwrap();
        let mut out = [0xa5u8; 54];
        let mut view = Header::new_unchecked(&mut out[..]);
        repr.emit(&mut view, MessageType::PdelayResp, 54).unwrap();
        assert_eq!(out[..34], PDELAY_RESP_HEADER);
        assert!(out[34..].iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn setters_round_trip() {
        let mut buf = [0u8; 40];
        let mut h = Header::new_unchecked(&mut buf[..]);
        h.set_message_length(40);
        h.set_correction_field(TimeInterval(-(5 << 16) - 1));
        h.set_log_message_interval(-3);
        h.set_minor_version_ptp(1);
        h.set_version_ptp(2);
        h.set_major_sdo_id(1);
        h.set_message_type(MessageType::Signaling);
        h.payload_mut().fill(7);
        let h = Header::new_checked(&buf[..]).unwrap();
        assert_eq!(buf[0], 0x1c);
        assert_eq!(buf[1], 0x12);
        assert_eq!(h.correction_field(), TimeInterval(-(5 << 16) - 1));
        assert_eq!(h.log_message_interval(), -3);
        assert_eq!(h.payload(), &[7; 6]);
    }

    #[test]
    fn length_checks() {
        let mut frame = [0u8; 54];
        frame[..34].copy_from_slice(&PDELAY_RESP_HEADER);
        for len in 0..54 {
            assert_eq!(
                Header::new_checked(&frame[..len]).unwrap_err(),
                Error::Truncated,
                "prefix {len}"
            );
        }
        frame[2..4].copy_from_slice(&33u16.to_be_bytes());
        assert_eq!(
            Header::new_checked(&frame[..]).unwrap_err(),
            Error::BadLength
        );
    }

    #[test]
    fn rejects_other_sdos_and_versions() {
        let mut frame = [0u8; 54];
        frame[..34].copy_from_slice(&PDELAY_RESP_HEADER);
        let parse = |f: &[u8]| HeaderRepr::parse(&Header::new_unchecked(f));
        frame[0] = 0x03; // plain IEEE 1588
        assert_eq!(parse(&frame), Err(Error::UnsupportedSdoId(0)));
        frame[0] = 0x23; // CMLDS
        assert_eq!(parse(&frame), Err(Error::UnsupportedSdoId(2)));
        frame[0] = 0x13;
        frame[1] = 0x01; // PTPv1
        assert_eq!(parse(&frame), Err(Error::UnsupportedVersion(1)));
        frame[1] = 0x22; // minor version 2
        assert_eq!(parse(&frame), Err(Error::UnsupportedVersion(2)));
        frame[1] = 0x12; // linuxptp 4.x
        assert_eq!(parse(&frame).unwrap().minor_version_ptp, 1);
    }
}
