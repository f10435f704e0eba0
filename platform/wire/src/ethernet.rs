//! Ethernet frames: Ethernet II (EtherType) and IEEE 802.3 (length, then LLC), each with zero,
//! one or two VLAN tags.
//!
//! ```text
//! +-------------+-------------+-----------------+----------------+------------------------+
//! | dst MAC (6) | src MAC (6) | 0..=2 tags (4)  | type/length(2) | payload                |
//! +-------------+-------------+-----------------+----------------+------------------------+
//! ```
//!
//! A type/length value `<= 1500` is an 802.3 length: the number of payload octets (LLC header
//! included, padding excluded). A value `>= 0x0600` is an EtherType; 0x8100 and 0x88a8 are
//! TPIDs, so a tag follows instead of the payload. Values in between are invalid. The frame
//! check sequence is not part of the buffer (as from an `AF_PACKET` socket or a pcap).

use core::fmt;

use crate::llc::{Llc, LlcRepr};
use crate::vlan::{Tpid, VLAN_TAG_LEN, VlanRepr, VlanTag, VlanTags};
use crate::{Error, MacAddress, Result};

/// Length of an untagged header: two addresses and the type/length field.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Largest 802.3 length field value (and largest payload of an untagged frame).
pub const MAX_8023_LENGTH: u16 = 1500;
/// Smallest EtherType value; type/length values below it (and above 1500) are invalid.
pub const MIN_ETHERTYPE: u16 = 0x0600;
/// How many VLAN tags the parser walks before it takes the next field as the EtherType.
pub const MAX_VLAN_TAGS: usize = 2;

mod field {
    use core::ops::Range;

    pub(super) const DESTINATION: Range<usize> = 0..6;
    pub(super) const SOURCE: Range<usize> = 6..12;
    /// Where the first tag, or else the type/length field, starts.
    pub(super) const TAGS: usize = 12;
}

/// EtherType values; values without a name are kept in [`EtherType::Unknown`].
///
/// Build from a raw value with `EtherType::from(u16)`, which never yields `Unknown` for a
/// named value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EtherType {
    /// 0x0800 IPv4.
    Ipv4,
    /// 0x0806 ARP.
    Arp,
    /// 0x22ea Stream Reservation Protocol (MSRP, 802.1Qat).
    Msrp,
    /// 0x8100 802.1Q customer VLAN tag (C-tag TPID).
    Vlan,
    /// 0x86dd IPv6.
    Ipv6,
    /// 0x88a8 802.1ad service VLAN tag (S-tag TPID, Q-in-Q).
    QinQ,
    /// 0x88cc LLDP.
    Lldp,
    /// 0x88f5 MVRP.
    Mvrp,
    /// 0x88f7 PTP over Ethernet, including gPTP (802.1AS).
    Ptp,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        match value {
            0x0800 => Self::Ipv4,
            0x0806 => Self::Arp,
            0x22ea => Self::Msrp,
            0x8100 => Self::Vlan,
            0x86dd => Self::Ipv6,
            0x88a8 => Self::QinQ,
            0x88cc => Self::Lldp,
            0x88f5 => Self::Mvrp,
            0x88f7 => Self::Ptp,
            other => Self::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Msrp => 0x22ea,
            EtherType::Vlan => 0x8100,
            EtherType::Ipv6 => 0x86dd,
            EtherType::QinQ => 0x88a8,
            EtherType::Lldp => 0x88cc,
            EtherType::Mvrp => 0x88f5,
            EtherType::Ptp => 0x88f7,
            EtherType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(v) => write!(f, "0x{v:04x}"),
            named => write!(f, "{named:?}"),
        }
    }
}

/// What follows the addresses and tags of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// Ethernet II: an EtherType (gPTP: [`EtherType::Ptp`]).
    EtherType(EtherType),
    /// IEEE 802.3: a length field, then this LLC header (IS-IS: [`LlcRepr::ISIS`]). The length
    /// is not stored: [`EthernetRepr::emit`] computes it from the payload length.
    Llc(LlcRepr),
}

/// A read/write view of an Ethernet frame, tags included.
///
/// Accessors walk up to [`MAX_VLAN_TAGS`] tags: [`header_len`](Self::header_len),
/// [`type_or_length`](Self::type_or_length) and [`payload`](Self::payload) refer to the field
/// after the tags. [`outer_type`](Self::outer_type) is the field at offset 12.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// `Err(Truncated)` unless the buffer holds the addresses, every tag, the type/length
    /// field and, for an 802.3 frame, as many payload octets as the length field says.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < ETHERNET_HEADER_LEN || len < self.header_len() {
            return Err(Error::Truncated);
        }
        match self.length() {
            Some(payload) if len < self.header_len() + usize::from(payload) => {
                Err(Error::Truncated)
            }
            _ => Ok(()),
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination address.
    pub fn dst_addr(&self) -> MacAddress {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        MacAddress(mac)
    }

    /// Source address.
    pub fn src_addr(&self) -> MacAddress {
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        MacAddress(mac)
    }

    /// The 16-bit field at offset 12: the first TPID of a tagged frame, else the type/length.
    pub fn outer_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TAGS).unwrap_or(0)
    }

    /// Number of VLAN tags, 0..=[`MAX_VLAN_TAGS`]: TPIDs (0x8100, 0x88a8) at offset 12 and, after
    /// one, at offset 16. A TPID counts even if the buffer ends before its tag does, so a cut
    /// tagged frame fails [`check_len`](Self::check_len) instead of parsing as untagged.
    pub fn tag_count(&self) -> usize {
        let b = self.buffer.as_ref();
        let mut n = 0;
        while n < MAX_VLAN_TAGS {
            match be16(b, field::TAGS + n * VLAN_TAG_LEN) {
                Some(t) if Tpid::from_u16(t).is_some() => n += 1,
                _ => break,
            }
        }
        n
    }

    /// Length of the header up to the payload: 14, 18 or 22 octets.
    pub fn header_len(&self) -> usize {
        ETHERNET_HEADER_LEN + self.tag_count() * VLAN_TAG_LEN
    }

    /// The view of tag `index` (0 = outermost), if there is one.
    pub fn tag(&self, index: usize) -> Option<VlanTag<&[u8]>> {
        if index >= self.tag_count() {
            return None;
        }
        let at = field::TAGS + index * VLAN_TAG_LEN;
        self.buffer
            .as_ref()
            .get(at..at + VLAN_TAG_LEN)
            .map(VlanTag::new_unchecked)
    }

    /// The raw type/length field after the tags (0 if the buffer ends before it).
    pub fn type_or_length(&self) -> u16 {
        be16(self.buffer.as_ref(), self.header_len() - 2).unwrap_or(0)
    }

    /// The EtherType after the tags, if the field is one (`>= 0x0600`).
    pub fn ethertype(&self) -> Option<EtherType> {
        let v = self.type_or_length();
        (v >= MIN_ETHERTYPE).then(|| EtherType::from(v))
    }

    /// The 802.3 length after the tags, if the field is one (`<= 1500`).
    pub fn length(&self) -> Option<u16> {
        let v = self.type_or_length();
        (v <= MAX_8023_LENGTH).then_some(v)
    }

    fn payload_range(&self) -> (usize, usize) {
        let len = self.buffer.as_ref().len();
        let start = self.header_len().min(len);
        let end = match self.length() {
            Some(l) => (start + usize::from(l)).min(len),
            None => len,
        };
        (start, end)
    }

    /// What follows the header: for an 802.3 frame exactly `length` octets (LLC header
    /// included, padding excluded), for Ethernet II the rest of the buffer (padding included).
    pub fn payload(&self) -> &[u8] {
        let (start, end) = self.payload_range();
        &self.buffer.as_ref()[start..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: MacAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: MacAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the field at offset 12 (a TPID there makes the frame tagged).
    pub fn set_outer_type(&mut self, value: u16) {
        self.buffer.as_mut()[field::TAGS..field::TAGS + 2].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the type/length field after the tags (writing a TPID there adds a tag).
    pub fn set_type_or_length(&mut self, value: u16) {
        let at = self.header_len() - 2;
        if let Some(field) = self.buffer.as_mut().get_mut(at..at + 2) {
            field.copy_from_slice(&value.to_be_bytes());
        }
    }

    /// The mutable view of tag `index` (0 = outermost), if there is one.
    pub fn tag_mut(&mut self, index: usize) -> Option<VlanTag<&mut [u8]>> {
        if index >= self.tag_count() {
            return None;
        }
        let at = field::TAGS + index * VLAN_TAG_LEN;
        self.buffer
            .as_mut()
            .get_mut(at..at + VLAN_TAG_LEN)
            .map(VlanTag::new_unchecked)
    }

    /// The payload, mutably (same extent as [`payload`](Self::payload)).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = self.payload_range();
        &mut self.buffer.as_mut()[start..end]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for EthernetFrame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An owned Ethernet header: addresses, tags, and EtherType or LLC header.
///
/// The same calls build a gPTP frame (Ethernet II) and an IS-IS frame (802.3 + LLC):
///
/// ```
/// use tsn_wire::{EtherType, EthernetRepr, LlcRepr, MacAddress, PayloadType, VlanTags};
///
/// let src = MacAddress([0x02, 0, 0, 0, 0, 1]);
/// let gptp = EthernetRepr {
///     dst: MacAddress::GPTP,
///     src,
///     vlan: VlanTags::Untagged,
///     payload_type: PayloadType::EtherType(EtherType::Ptp),
/// };
/// let isis = EthernetRepr {
///     dst: MacAddress::ALL_ISS,
///     payload_type: PayloadType::Llc(LlcRepr::ISIS),
///     ..gptp
/// };
/// let pdu = [0x83u8; 40];
/// let mut buf = [0u8; 128];
/// let n = gptp.emit_frame(&pdu, &mut buf).unwrap();
/// assert_eq!(&buf[12..14], &[0x88, 0xf7]);
/// let n2 = isis.emit_frame(&pdu, &mut buf).unwrap();
/// // 802.3 length = LLC (3) + PDU (40) = 43, then FE FE 03.
/// assert_eq!(&buf[12..17], &[0x00, 43, 0xfe, 0xfe, 0x03]);
/// assert_eq!((n, n2), (14 + 40, 17 + 40));
///
/// let (repr, payload) = EthernetRepr::parse_frame(&buf[..n2]).unwrap();
/// assert_eq!((repr, payload), (isis, &pdu[..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Destination address.
    pub dst: MacAddress,
    /// Source address.
    pub src: MacAddress,
    /// VLAN tags between the source address and the type/length field.
    pub vlan: VlanTags,
    /// EtherType (Ethernet II) or LLC header (802.3).
    ///
    /// An EtherType that is a TPID (0x8100, 0x88a8) with fewer than two tags emits a frame
    /// that parses back with one more tag; the parser only leaves a TPID here after two tags.
    pub payload_type: PayloadType,
}

impl EthernetRepr {
    /// Parses the header of a frame: addresses, tags, and the EtherType or the LLC header.
    ///
    /// `Err(BadField { field: "type_or_length" })` for a value in 1501..0x0600;
    /// `Err(Truncated)` when the frame is shorter than its header or its 802.3 length, or the
    /// 802.3 length is too short for the LLC header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &EthernetFrame<&T>) -> Result<Self> {
        frame.check_len()?;
        let vlan = match frame.tag_count() {
            0 => VlanTags::Untagged,
            1 => VlanTags::Single(parse_tag(frame, 0)?),
            _ => VlanTags::Double {
                outer: parse_tag(frame, 0)?,
                inner: parse_tag(frame, 1)?,
            },
        };
        let payload_type = match (frame.ethertype(), frame.length()) {
            (Some(ethertype), _) => PayloadType::EtherType(ethertype),
            (None, Some(_)) => {
                PayloadType::Llc(LlcRepr::parse(&Llc::new_unchecked(frame.payload()))?)
            }
            (None, None) => {
                return Err(Error::BadField {
                    field: "type_or_length",
                });
            }
        };
        Ok(Self {
            dst: frame.dst_addr(),
            src: frame.src_addr(),
            vlan,
            payload_type,
        })
    }

    /// Parses a whole frame into the header and the payload after it: for 802.3 the octets
    /// after the LLC header up to the length field (padding dropped), for Ethernet II
    /// everything after the EtherType (padding kept: the EtherType cannot tell).
    pub fn parse_frame(bytes: &[u8]) -> Result<(Self, &[u8])> {
        let frame = EthernetFrame::new_checked(bytes)?;
        let repr = Self::parse(&frame)?;
        let (start, end) = frame.payload_range();
        let skip = match repr.payload_type {
            PayloadType::EtherType(_) => 0,
            PayloadType::Llc(llc) => llc.buffer_len(),
        };
        Ok((repr, &bytes[start + skip..end]))
    }

    /// Octets of header [`emit`](Self::emit) writes: addresses, tags, type/length and, for
    /// 802.3, the LLC header.
    pub const fn header_len(&self) -> usize {
        let llc = match self.payload_type {
            PayloadType::EtherType(_) => 0,
            PayloadType::Llc(llc) => llc.buffer_len(),
        };
        ETHERNET_HEADER_LEN + self.vlan.len() * VLAN_TAG_LEN + llc
    }

    /// Length of a frame with `payload_len` octets after the header (no padding, no FCS).
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Writes the header into the first [`header_len`](Self::header_len) octets of `frame`,
    /// for a payload of `payload_len` octets that the caller writes after it. For 802.3 the
    /// length field becomes LLC header + `payload_len`.
    ///
    /// Errors, with nothing written: `Truncated` if the buffer is shorter than
    /// [`buffer_len(payload_len)`](Self::buffer_len); `BadField { field: "length" }` if an 802.3
    /// payload exceeds 1500 octets; `BadField { field: "ethertype" }` for an EtherType below
    /// 0x0600; `BadField { field: "control" }` for an ill-formed LLC control field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        frame: &mut EthernetFrame<T>,
        payload_len: usize,
    ) -> Result<()> {
        let type_or_length = match self.payload_type {
            PayloadType::EtherType(ethertype) => {
                let v = u16::from(ethertype);
                if v < MIN_ETHERTYPE {
                    return Err(Error::BadField { field: "ethertype" });
                }
                v
            }
            PayloadType::Llc(llc) => llc
                .buffer_len()
                .checked_add(payload_len)
                .and_then(|l| u16::try_from(l).ok())
                .filter(|&l| l <= MAX_8023_LENGTH)
                .ok_or(Error::BadField { field: "length" })?,
        };
        if frame.buffer.as_ref().len() < self.buffer_len(payload_len) {
            return Err(Error::Truncated);
        }
        if let PayloadType::Llc(llc) = self.payload_type
            && !llc.control.is_well_formed()
        {
            return Err(Error::BadField { field: "control" });
        }
        let buf = frame.buffer.as_mut();
        buf[field::DESTINATION].copy_from_slice(&self.dst.0);
        buf[field::SOURCE].copy_from_slice(&self.src.0);
        let mut at = field::TAGS;
        for tag in self.vlan.iter() {
            tag.emit(&mut VlanTag::new_unchecked(&mut buf[at..at + VLAN_TAG_LEN]))?;
            at += VLAN_TAG_LEN;
        }
        buf[at..at + 2].copy_from_slice(&type_or_length.to_be_bytes());
        at += 2;
        if let PayloadType::Llc(llc) = self.payload_type {
            llc.emit(&mut Llc::new_unchecked(&mut buf[at..]))?;
        }
        Ok(())
    }

    /// Writes header and `payload` into the start of `buf` and returns the frame length.
    /// Same errors as [`emit`](Self::emit).
    pub fn emit_frame(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len(payload.len());
        let out = buf.get_mut(..len).ok_or(Error::Truncated)?;
        self.emit(&mut EthernetFrame::new_unchecked(&mut *out), payload.len())?;
        out[self.header_len()..].copy_from_slice(payload);
        Ok(len)
    }
}

fn parse_tag<T: AsRef<[u8]> + ?Sized>(frame: &EthernetFrame<&T>, index: usize) -> Result<VlanRepr> {
    let tag = frame.tag(index).ok_or(Error::Truncated)?;
    VlanRepr::parse(&tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gptp_repr() -> EthernetRepr {
        EthernetRepr {
            dst: MacAddress::GPTP,
            src: MacAddress([2, 0, 0, 0, 0, 1]),
            vlan: VlanTags::Untagged,
            payload_type: PayloadType::EtherType(EtherType::Ptp),
        }
    }

    #[test]
    fn ethertype_conversions() {
        for v in [
            0x0800u16, 0x0806, 0x22ea, 0x8100, 0x86dd, 0x88a8, 0x88cc, 0x88f5, 0x88f7,
        ] {
            let t = EtherType::from(v);
            assert!(!matches!(t, EtherType::Unknown(_)), "{v:#x}");
            assert_eq!(u16::from(t), v);
        }
        assert_eq!(EtherType::from(0x1234), EtherType::Unknown(0x1234));
        assert_eq!(EtherType::Ptp.to_string(), "Ptp");
        assert_eq!(EtherType::Unknown(0x1234).to_string(), "0x1234");
    }

    #[test]
    fn invalid_type_or_length_is_rejected() {
        let mut frame = [0u8; 60];
        for v in [1501u16, 0x05ff] {
            frame[12..14].copy_from_slice(&v.to_be_bytes());
            let view = EthernetFrame::new_checked(&frame[..]).unwrap();
            assert_eq!((view.ethertype(), view.length()), (None, None));
            assert_eq!(
                EthernetRepr::parse(&view),
                Err(Error::BadField {
                    field: "type_or_length"
                })
            );
        }
        // An 802.3 length that exactly fits, then one octet short of it.
        frame[12..14].copy_from_slice(&46u16.to_be_bytes());
        assert_eq!(EthernetFrame::new_checked(&frame[..60]).map(|_| ()), Ok(()));
        assert_eq!(
            EthernetFrame::new_checked(&frame[..60]).map(|f| f.payload().len()),
            Ok(46)
        );
        assert_eq!(
            EthernetFrame::new_checked(&frame[..59]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn emit_errors_write_nothing() {
        let mut buf = [0xa5u8; 64];
        let short = EthernetRepr {
            payload_type: PayloadType::EtherType(EtherType::Unknown(0x05dc)),
            ..gptp_repr()
        };
        assert_eq!(
            short.emit_frame(&[], &mut buf),
            Err(Error::BadField { field: "ethertype" })
        );
        assert_eq!(
            gptp_repr().emit_frame(&[0; 51], &mut buf),
            Err(Error::Truncated)
        );
        let bad_llc = EthernetRepr {
            payload_type: PayloadType::Llc(LlcRepr {
                control: crate::LlcControl::Unnumbered(0),
                ..LlcRepr::ISIS
            }),
            ..gptp_repr()
        };
        assert_eq!(
            bad_llc.emit_frame(&[], &mut buf),
            Err(Error::BadField { field: "control" })
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
    }

    /// Setters that change the tag structure under a checked view do not make accessors panic.
    #[test]
    fn structure_changing_setters_stay_in_bounds() {
        let mut buf = [0u8; 14];
        let mut frame = EthernetFrame::new_checked(&mut buf[..]).unwrap();
        frame.set_type_or_length(0x8100);
        assert_eq!(frame.tag_count(), 1);
        assert!(frame.check_len().is_err());
        assert!(frame.tag(0).is_none() && frame.tag_mut(0).is_none());
        assert_eq!((frame.type_or_length(), frame.payload().len()), (0, 0));
        frame.set_type_or_length(0x0800);
        frame.payload_mut();
        // Empty and short unchecked views.
        for len in 0..14 {
            let b = [0x81u8; 14];
            let f = EthernetFrame::new_unchecked(&b[..len]);
            let _ = (f.tag_count(), f.tag(0), f.tag(1), f.outer_type());
            let _ = (f.type_or_length(), f.payload(), f.ethertype(), f.length());
        }
    }
}
