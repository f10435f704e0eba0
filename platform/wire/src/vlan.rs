//! IEEE 802.1Q VLAN tags: C-tag (TPID 0x8100) and 802.1ad S-tag (TPID 0x88a8).
//!
//! A tag is four octets inserted between the source address and the EtherType/length
//! field:
//!
//! ```text
//!  0               1               2               3
//! +-------------------------------+-----+-+-----------------------+
//! |          TPID (16)            | PCP |D|        VID (12)       |
//! +-------------------------------+-----+-+-----------------------+
//!                                  \______ TCI (16) _____________/
//! ```

use core::fmt;

use crate::ethernet::EtherType;
use crate::{Error, Result};

/// Length of a tag: TPID plus TCI.
pub const VLAN_TAG_LEN: usize = 4;

mod field {
    use core::ops::Range;

    pub(super) const TPID: Range<usize> = 0..2;
    pub(super) const TCI: Range<usize> = 2..4;
}

/// Priority code point: the 3-bit priority of a tagged frame (0..=7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pcp(u8);

impl Pcp {
    /// The highest priority, 7.
    pub const MAX: Self = Self(7);

    /// `Some` if `pcp` is in 0..=7.
    pub const fn new(pcp: u8) -> Option<Self> {
        if pcp <= 7 { Some(Self(pcp)) } else { None }
    }

    /// The value, 0..=7.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Pcp {
    type Error = Error;

    fn try_from(pcp: u8) -> Result<Self> {
        Self::new(pcp).ok_or(Error::BadField { field: "pcp" })
    }
}

impl From<Pcp> for u8 {
    fn from(pcp: Pcp) -> Self {
        pcp.0
    }
}

impl fmt::Display for Pcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// VLAN identifier: 12 bits, 0..=4095.
///
/// 0 means "priority-tagged, no VLAN" and 4095 is reserved; both are valid on the wire, so
/// both are representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VlanId(u16);

impl VlanId {
    /// VID 0: the tag only carries a priority.
    pub const PRIORITY_TAGGED: Self = Self(0);
    /// VID 1, the default PVID of an 802.1Q bridge port.
    pub const DEFAULT: Self = Self(1);
    /// VID 4095, the largest value (reserved by 802.1Q).
    pub const MAX: Self = Self(4095);

    /// `Some` if `vid` is in 0..=4095.
    pub const fn new(vid: u16) -> Option<Self> {
        if vid <= 4095 { Some(Self(vid)) } else { None }
    }

    /// The value, 0..=4095.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for VlanId {
    type Error = Error;

    fn try_from(vid: u16) -> Result<Self> {
        Self::new(vid).ok_or(Error::BadField { field: "vid" })
    }
}

impl From<VlanId> for u16 {
    fn from(vid: VlanId) -> Self {
        vid.0
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The tag protocol identifiers the parser recognises as a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tpid {
    /// 0x8100: 802.1Q customer tag (the usual VLAN tag).
    #[default]
    CTag,
    /// 0x88a8: 802.1ad service tag, the outer tag of Q-in-Q.
    STag,
}

impl Tpid {
    /// The TPID for a 16-bit type field value, if it is one.
    pub const fn from_u16(value: u16) -> Option<Self> {
        match value {
            0x8100 => Some(Self::CTag),
            0x88a8 => Some(Self::STag),
            _ => None,
        }
    }

    /// The 16-bit value on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::CTag => 0x8100,
            Self::STag => 0x88a8,
        }
    }
}

impl From<Tpid> for EtherType {
    fn from(tpid: Tpid) -> Self {
        match tpid {
            Tpid::CTag => Self::Vlan,
            Tpid::STag => Self::QinQ,
        }
    }
}

/// A read/write view of a 4-byte VLAN tag (TPID and TCI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let tag = Self::new_unchecked(buffer);
        tag.check_len()?;
        Ok(tag)
    }

    /// `Err(Truncated)` if the buffer is shorter than [`VLAN_TAG_LEN`].
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < VLAN_TAG_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Tag protocol identifier, raw (0x8100 or 0x88a8 in a well-formed tag).
    pub fn tpid(&self) -> u16 {
        u16::from_be_bytes([self.buffer.as_ref()[0], self.buffer.as_ref()[1]])
    }

    /// Tag control information: PCP, DEI and VID together.
    pub fn tci(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TCI];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Priority code point (top 3 bits of the TCI).
    pub fn pcp(&self) -> Pcp {
        Pcp((self.tci() >> 13) as u8)
    }

    /// Drop eligible indicator (bit 12 of the TCI).
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier (low 12 bits of the TCI).
    pub fn vid(&self) -> VlanId {
        VlanId(self.tci() & 0x0fff)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VlanTag<T> {
    /// Sets the tag protocol identifier (any value; see [`Tpid`] for the ones parsed as tags).
    pub fn set_tpid(&mut self, tpid: u16) {
        self.buffer.as_mut()[field::TPID].copy_from_slice(&tpid.to_be_bytes());
    }

    /// Sets the whole TCI.
    pub fn set_tci(&mut self, tci: u16) {
        self.buffer.as_mut()[field::TCI].copy_from_slice(&tci.to_be_bytes());
    }

    /// Sets the priority code point.
    pub fn set_pcp(&mut self, pcp: Pcp) {
        self.set_tci((self.tci() & 0x1fff) | (u16::from(pcp.0) << 13));
    }

    /// Sets the drop eligible indicator.
    pub fn set_dei(&mut self, dei: bool) {
        self.set_tci((self.tci() & !0x1000) | if dei { 0x1000 } else { 0 });
    }

    /// Sets the VLAN identifier.
    pub fn set_vid(&mut self, vid: VlanId) {
        self.set_tci((self.tci() & 0xf000) | vid.0);
    }
}

/// An owned 802.1Q/802.1ad tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanRepr {
    /// C-tag (0x8100) or S-tag (0x88a8).
    pub tpid: Tpid,
    /// Priority code point.
    pub pcp: Pcp,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier.
    pub vid: VlanId,
}

impl VlanRepr {
    /// A C-tag (0x8100), checking `pcp` (0..=7) and `vid` (0..=4095).
    pub fn new(pcp: u8, dei: bool, vid: u16) -> Result<Self> {
        Ok(Self {
            tpid: Tpid::CTag,
            pcp: pcp.try_into()?,
            dei,
            vid: vid.try_into()?,
        })
    }

    /// The same tag as an S-tag (0x88a8), for the outer tag of Q-in-Q.
    pub const fn s_tag(self) -> Self {
        Self {
            tpid: Tpid::STag,
            ..self
        }
    }

    /// Parses a tag; `BadField { field: "tpid" }` unless the TPID is 0x8100 or 0x88a8.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(tag: &VlanTag<&T>) -> Result<Self> {
        tag.check_len()?;
        Ok(Self {
            tpid: Tpid::from_u16(tag.tpid()).ok_or(Error::BadField { field: "tpid" })?,
            pcp: tag.pcp(),
            dei: tag.dei(),
            vid: tag.vid(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes: [`VLAN_TAG_LEN`].
    pub const fn buffer_len(&self) -> usize {
        VLAN_TAG_LEN
    }

    /// Writes the tag; `Err(Truncated)` if the buffer is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, tag: &mut VlanTag<T>) -> Result<()> {
        tag.check_len()?;
        tag.set_tpid(self.tpid.to_u16());
        tag.set_tci(self.tci());
        Ok(())
    }

    /// The TCI this tag carries.
    pub const fn tci(&self) -> u16 {
        ((self.pcp.0 as u16) << 13) | if self.dei { 0x1000 } else { 0 } | self.vid.0
    }
}

/// The zero, one or two tags in front of the EtherType/length field.
///
/// Two is what the stack needs (802.1ad S-tag plus C-tag); a third TPID is left as the
/// frame's EtherType, with the tag in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VlanTags {
    /// No tag.
    #[default]
    Untagged,
    /// One tag, usually a C-tag.
    Single(VlanRepr),
    /// Two tags, outer (first on the wire, usually an S-tag) then inner.
    Double {
        /// First on the wire.
        outer: VlanRepr,
        /// Second on the wire.
        inner: VlanRepr,
    },
}

impl VlanTags {
    /// Number of tags, 0..=2.
    pub const fn len(&self) -> usize {
        match self {
            Self::Untagged => 0,
            Self::Single(_) => 1,
            Self::Double { .. } => 2,
        }
    }

    /// No tag.
    pub const fn is_empty(&self) -> bool {
        matches!(self, Self::Untagged)
    }

    /// The tag at `index` in wire order (0 = outermost).
    pub const fn get(&self, index: usize) -> Option<&VlanRepr> {
        match (self, index) {
            (Self::Single(t), 0) | (Self::Double { outer: t, .. }, 0) => Some(t),
            (Self::Double { inner, .. }, 1) => Some(inner),
            _ => None,
        }
    }

    /// The tags in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &VlanRepr> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The innermost tag, which carries the customer VLAN.
    pub const fn innermost(&self) -> Option<&VlanRepr> {
        match self {
            Self::Untagged => None,
            Self::Single(t) | Self::Double { inner: t, .. } => Some(t),
        }
    }
}

impl From<Option<VlanRepr>> for VlanTags {
    fn from(tag: Option<VlanRepr>) -> Self {
        tag.map_or(Self::Untagged, Self::Single)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_fields_byte_exact() {
        // PCP 5, DEI 1, VID 0x123 in a C-tag: 81 00 | 101 1 0001 0010 0011 = b1 23.
        let bytes = [0x81, 0x00, 0xb1, 0x23];
        let tag = VlanTag::new_checked(&bytes[..]).unwrap();
        let repr = VlanRepr::parse(&tag).unwrap();
        assert_eq!(repr, VlanRepr::new(5, true, 0x123).unwrap());
        let mut out = [0xa5u8; 4];
        repr.emit(&mut VlanTag::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn setters_touch_only_their_bits() {
        let mut buf = [0xffu8; 4];
        let mut tag = VlanTag::new_checked(&mut buf[..]).unwrap();
        tag.set_vid(VlanId::new(0).unwrap());
        assert_eq!(tag.tci(), 0xf000);
        tag.set_dei(false);
        assert_eq!(tag.tci(), 0xe000);
        tag.set_pcp(Pcp::new(0).unwrap());
        assert_eq!(tag.tci(), 0x0000);
        tag.set_pcp(Pcp::MAX);
        tag.set_vid(VlanId::MAX);
        assert_eq!(
            (tag.pcp().get(), tag.dei(), tag.vid().get()),
            (7, false, 4095)
        );
        assert_eq!(buf, [0xff, 0xff, 0xef, 0xff]);
    }

    #[test]
    fn checked_ranges() {
        assert_eq!(
            VlanRepr::new(8, false, 1),
            Err(Error::BadField { field: "pcp" })
        );
        assert_eq!(
            VlanRepr::new(7, false, 4096),
            Err(Error::BadField { field: "vid" })
        );
        assert!(VlanRepr::new(7, true, 4095).is_ok());
        let tag = VlanTag::new_unchecked(&[0x08u8, 0x00, 0, 1][..]);
        assert_eq!(
            VlanRepr::parse(&tag),
            Err(Error::BadField { field: "tpid" })
        );
    }

    #[test]
    fn truncated_never_panics() {
        let bytes = [0x88, 0xa8, 0x20, 0x64];
        for len in 0..bytes.len() {
            let tag = VlanTag::new_unchecked(&bytes[..len]);
            assert_eq!(VlanRepr::parse(&tag), Err(Error::Truncated));
            let mut out = [0u8; 4];
            let mut view = VlanTag::new_unchecked(&mut out[..len]);
            assert_eq!(VlanRepr::default().emit(&mut view), Err(Error::Truncated));
        }
    }
}
