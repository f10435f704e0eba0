//! IS-IS PDUs over 802.3 + LLC (ISO 10589, RFC 5303, RFC 5304, RFC 5310, RFC 6329).
//!
//! Two levels, as in smoltcp: [`IsisPacket`] is a zero-copy view of a PDU (if
//! [`IsisPacket::check_len`] returned `Ok(())`, no accessor panics), and [`Pdu`] is the owned
//! representation with [`Pdu::parse`], [`Pdu::buffer_len`] and [`Pdu::emit`]. TLVs we do not
//! know, and known TLVs whose value does not fit their layout, are kept raw
//! ([`Tlv::Unknown`]), so a parsed PDU emits byte for byte what was received.
//!
//! The LSP checksum ([`lsp_checksum`]) is the ISO 8473 Fletcher checksum over the LSP from
//! the LSP ID to the end; [`Pdu::emit`] writes the checksum held in the repr, so callers that
//! build an LSP call [`fill_lsp_checksum`] (after [`auth::sign`], which covers the PDU with
//! checksum and lifetime zeroed).
//!
//! [`Frame`] adds the 802.3 header and the `FE FE 03` LLC header from `tsn-wire`.

pub mod auth;
mod tlv;

pub use tlv::*;

use crate::spf::SystemId;
use tsn_wire::{EthernetRepr, LlcRepr, MacAddress, PayloadType, VlanTags};

/// Why a PDU could not be viewed, parsed or emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than a header or a length field says.
    #[error("truncated")]
    Truncated,
    /// A field holds a value we do not accept.
    #[error("bad value in field `{field}`")]
    BadField {
        /// The field.
        field: &'static str,
    },
    /// A PDU type we do not handle.
    #[error("unsupported PDU type {0}")]
    UnsupportedPduType(u8),
    /// A TLV value longer than 255 octets.
    #[error("TLV {0} longer than 255 octets")]
    TlvTooLong(u8),
    /// Not `FE FE 03` after an 802.3 length field.
    #[error("not an IS-IS frame")]
    NotIsis,
}

/// The intradomain routeing protocol discriminator of IS-IS.
pub const DISCRIMINATOR: u8 = 0x83;
/// Length of the common header.
pub const COMMON_HEADER_LEN: usize = 8;
/// Offset of the LSP checksum in an LSP PDU.
pub const LSP_CHECKSUM_OFFSET: usize = 24;
/// Offset of the remaining lifetime in an LSP PDU.
pub const LSP_LIFETIME_OFFSET: usize = 10;
/// The largest PDU that fits a 1500-octet 802.3 payload after the 3-octet LLC header.
pub const MAX_PDU_LEN: usize = 1497;

/// IS-IS level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Level 1.
    L1,
    /// Level 2.
    L2,
}

/// PDU type codes.
pub mod pdu_type {
    /// L1 LAN hello.
    pub const L1_LAN_HELLO: u8 = 15;
    /// L2 LAN hello.
    pub const L2_LAN_HELLO: u8 = 16;
    /// Point-to-point hello.
    pub const P2P_HELLO: u8 = 17;
    /// L1 LSP.
    pub const L1_LSP: u8 = 18;
    /// L2 LSP.
    pub const L2_LSP: u8 = 20;
    /// L1 CSNP.
    pub const L1_CSNP: u8 = 24;
    /// L2 CSNP.
    pub const L2_CSNP: u8 = 25;
    /// L1 PSNP.
    pub const L1_PSNP: u8 = 26;
    /// L2 PSNP.
    pub const L2_PSNP: u8 = 27;
}

/// Length of the header (common + fixed part: the length indicator) of a PDU type.
pub fn header_len(pdu_type: u8) -> Option<usize> {
    use pdu_type::*;
    Some(match pdu_type {
        L1_LAN_HELLO | L2_LAN_HELLO | L1_LSP | L2_LSP => 27,
        P2P_HELLO => 20,
        L1_CSNP | L2_CSNP => 33,
        L1_PSNP | L2_PSNP => 17,
        _ => return None,
    })
}

fn pdu_length_offset(pdu_type: u8) -> usize {
    match pdu_type {
        pdu_type::L1_LAN_HELLO | pdu_type::L2_LAN_HELLO | pdu_type::P2P_HELLO => 17,
        _ => 8,
    }
}

/// A zero-copy view of an IS-IS PDU.
#[derive(Debug, Clone)]
pub struct IsisPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IsisPacket<T> {
    /// Wraps without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps and runs [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the discriminator, the versions, the PDU type, that the length indicator
    /// matches the type and that the PDU length covers the header and fits the buffer.
    /// Afterwards no accessor panics.
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < COMMON_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if b[0] != DISCRIMINATOR {
            return Err(WireError::BadField {
                field: "discriminator",
            });
        }
        if b[2] != 1 || b[5] != 1 {
            return Err(WireError::BadField { field: "version" });
        }
        if b[3] != 0 && b[3] != 6 {
            return Err(WireError::BadField { field: "id length" });
        }
        let t = b[4] & 0x1f;
        let hl = header_len(t).ok_or(WireError::UnsupportedPduType(t))?;
        if usize::from(b[1]) != hl {
            return Err(WireError::BadField {
                field: "length indicator",
            });
        }
        if b.len() < hl {
            return Err(WireError::Truncated);
        }
        let len = self.pdu_length_field();
        if len < hl || len > b.len() {
            return Err(WireError::BadField {
                field: "pdu length",
            });
        }
        Ok(())
    }

    /// The PDU type (low 5 bits).
    pub fn pdu_type(&self) -> u8 {
        self.buffer.as_ref()[4] & 0x1f
    }

    /// The ID length field as carried (0 means 6).
    pub fn id_length(&self) -> u8 {
        self.buffer.as_ref()[3]
    }

    /// The maximum area addresses field as carried (0 means 3).
    pub fn max_area_addresses(&self) -> u8 {
        self.buffer.as_ref()[7]
    }

    fn pdu_length_field(&self) -> usize {
        let b = self.buffer.as_ref();
        let at = pdu_length_offset(b[4] & 0x1f);
        usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
    }

    /// The PDU length field.
    pub fn pdu_length(&self) -> usize {
        self.pdu_length_field()
    }

    /// The header: common header and fixed part.
    pub fn header(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..usize::from(b[1])]
    }

    /// The TLV area, up to the PDU length (octets after it are ignored).
    pub fn tlv_area(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[usize::from(b[1])..self.pdu_length_field()]
    }

    /// The TLVs, unparsed.
    pub fn tlvs(&self) -> TlvIter<'_> {
        TlvIter::new(self.tlv_area())
    }

    /// The whole PDU, up to the PDU length.
    pub fn pdu(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.pdu_length_field()]
    }
}

/// LAN hello fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LanHelloHeader {
    /// Level 1 or level 2.
    pub level: Level,
    /// Circuit type (low 2 bits).
    pub circuit_type: u8,
    /// Sender.
    pub source_id: SystemId,
    /// Holding time in seconds.
    pub holding_time: u16,
    /// Priority (7 bits).
    pub priority: u8,
    /// LAN ID: the DIS and its pseudonode octet.
    pub lan_id: [u8; 7],
}

/// Point-to-point hello fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct P2pHelloHeader {
    /// Circuit type (low 2 bits).
    pub circuit_type: u8,
    /// Sender.
    pub source_id: SystemId,
    /// Holding time in seconds.
    pub holding_time: u16,
    /// Local circuit ID.
    pub local_circuit_id: u8,
}

/// LSP fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LspHeader {
    /// Level 1 or level 2.
    pub level: Level,
    /// Remaining lifetime in seconds.
    pub remaining_lifetime: u16,
    /// LSP ID.
    pub lsp_id: LspId,
    /// Sequence number.
    pub seq: u32,
    /// Checksum as carried (or to be written).
    pub checksum: u16,
    /// Partition repair, attached, overload, IS type.
    pub flags: u8,
}

/// CSNP fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CsnpHeader {
    /// Level 1 or level 2.
    pub level: Level,
    /// Sender system ID and circuit octet.
    pub source_id: [u8; 7],
    /// First LSP ID covered.
    pub start: LspId,
    /// Last LSP ID covered.
    pub end: LspId,
}

/// PSNP fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PsnpHeader {
    /// Level 1 or level 2.
    pub level: Level,
    /// Sender system ID and circuit octet.
    pub source_id: [u8; 7],
}

/// The PDU type with its fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduKind {
    /// LAN IIH.
    LanHello(LanHelloHeader),
    /// P2P IIH.
    P2pHello(P2pHelloHeader),
    /// LSP.
    Lsp(LspHeader),
    /// CSNP.
    Csnp(CsnpHeader),
    /// PSNP.
    Psnp(PsnpHeader),
}

/// An owned IS-IS PDU.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pdu {
    /// ID length field as carried: 0 (meaning 6) or 6.
    pub id_length: u8,
    /// Maximum area addresses as carried (0 means 3).
    pub max_area_addresses: u8,
    /// Type and fixed part.
    pub kind: PduKind,
    /// TLVs in order.
    pub tlvs: Vec<Tlv>,
}

fn sid(b: &[u8]) -> SystemId {
    let mut s = [0; 6];
    s.copy_from_slice(&b[..6]);
    SystemId(s)
}

fn arr7(b: &[u8]) -> [u8; 7] {
    let mut s = [0; 7];
    s.copy_from_slice(&b[..7]);
    s
}

fn lsp_id(b: &[u8]) -> LspId {
    let mut s = [0; 8];
    s.copy_from_slice(&b[..8]);
    LspId::from_bytes(s)
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

impl Pdu {
    /// A PDU with the usual header fields (ID length 0, max areas 0).
    pub fn new(kind: PduKind, tlvs: Vec<Tlv>) -> Self {
        Self {
            id_length: 0,
            max_area_addresses: 0,
            kind,
            tlvs,
        }
    }

    /// Parses a checked view.
    pub fn parse<T: AsRef<[u8]>>(p: &IsisPacket<T>) -> Result<Self, WireError> {
        p.check_len()?;
        let h = p.header();
        let level = |l1| if l1 { Level::L1 } else { Level::L2 };
        use pdu_type::*;
        let t = p.pdu_type();
        let kind = match t {
            L1_LAN_HELLO | L2_LAN_HELLO => PduKind::LanHello(LanHelloHeader {
                level: level(t == L1_LAN_HELLO),
                circuit_type: h[8] & 0x03,
                source_id: sid(&h[9..]),
                holding_time: be16(&h[15..]),
                priority: h[19] & 0x7f,
                lan_id: arr7(&h[20..]),
            }),
            P2P_HELLO => PduKind::P2pHello(P2pHelloHeader {
                circuit_type: h[8] & 0x03,
                source_id: sid(&h[9..]),
                holding_time: be16(&h[15..]),
                local_circuit_id: h[19],
            }),
            L1_LSP | L2_LSP => PduKind::Lsp(LspHeader {
                level: level(t == L1_LSP),
                remaining_lifetime: be16(&h[10..]),
                lsp_id: lsp_id(&h[12..]),
                seq: u32::from_be_bytes([h[20], h[21], h[22], h[23]]),
                checksum: be16(&h[24..]),
                flags: h[26],
            }),
            L1_CSNP | L2_CSNP => PduKind::Csnp(CsnpHeader {
                level: level(t == L1_CSNP),
                source_id: arr7(&h[10..]),
                start: lsp_id(&h[17..]),
                end: lsp_id(&h[25..]),
            }),
            L1_PSNP | L2_PSNP => PduKind::Psnp(PsnpHeader {
                level: level(t == L1_PSNP),
                source_id: arr7(&h[10..]),
            }),
            other => return Err(WireError::UnsupportedPduType(other)),
        };
        let mut tlvs = Vec::new();
        for item in p.tlvs() {
            let (_, typ, value) = item?;
            tlvs.push(Tlv::parse(typ, value));
        }
        Ok(Self {
            id_length: p.id_length(),
            max_area_addresses: p.max_area_addresses(),
            kind,
            tlvs,
        })
    }

    /// Parses PDU bytes (an LLC payload).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        Self::parse(&IsisPacket::new_checked(bytes)?)
    }

    /// The PDU type code.
    pub fn pdu_type(&self) -> u8 {
        use pdu_type::*;
        match self.kind {
            PduKind::LanHello(h) if h.level == Level::L1 => L1_LAN_HELLO,
            PduKind::LanHello(_) => L2_LAN_HELLO,
            PduKind::P2pHello(_) => P2P_HELLO,
            PduKind::Lsp(h) if h.level == Level::L1 => L1_LSP,
            PduKind::Lsp(_) => L2_LSP,
            PduKind::Csnp(h) if h.level == Level::L1 => L1_CSNP,
            PduKind::Csnp(_) => L2_CSNP,
            PduKind::Psnp(h) if h.level == Level::L1 => L1_PSNP,
            PduKind::Psnp(_) => L2_PSNP,
        }
    }

    /// Encodes into a new vector. Errors: a TLV that cannot be encoded, or a PDU longer
    /// than 65535 octets.
    pub fn to_vec(&self) -> Result<Vec<u8>, WireError> {
        let t = self.pdu_type();
        let hl = header_len(t).unwrap_or(COMMON_HEADER_LEN);
        let mut out = vec![0u8; hl];
        out[..8].copy_from_slice(&[
            DISCRIMINATOR,
            hl as u8,
            1,
            self.id_length,
            t,
            1,
            0,
            self.max_area_addresses,
        ]);
        match self.kind {
            PduKind::LanHello(h) => {
                out[8] = h.circuit_type & 0x03;
                out[9..15].copy_from_slice(&h.source_id.0);
                out[15..17].copy_from_slice(&h.holding_time.to_be_bytes());
                out[19] = h.priority & 0x7f;
                out[20..27].copy_from_slice(&h.lan_id);
            }
            PduKind::P2pHello(h) => {
                out[8] = h.circuit_type & 0x03;
                out[9..15].copy_from_slice(&h.source_id.0);
                out[15..17].copy_from_slice(&h.holding_time.to_be_bytes());
                out[19] = h.local_circuit_id;
            }
            PduKind::Lsp(h) => {
                out[10..12].copy_from_slice(&h.remaining_lifetime.to_be_bytes());
                out[12..20].copy_from_slice(&h.lsp_id.to_bytes());
                out[20..24].copy_from_slice(&h.seq.to_be_bytes());
                out[24..26].copy_from_slice(&h.checksum.to_be_bytes());
                out[26] = h.flags;
            }
            PduKind::Csnp(h) => {
                out[10..17].copy_from_slice(&h.source_id);
                out[17..25].copy_from_slice(&h.start.to_bytes());
                out[25..33].copy_from_slice(&h.end.to_bytes());
            }
            PduKind::Psnp(h) => out[10..17].copy_from_slice(&h.source_id),
        }
        for tlv in &self.tlvs {
            tlv.emit(&mut out)?;
        }
        let len = u16::try_from(out.len()).map_err(|_| WireError::BadField {
            field: "pdu length",
        })?;
        let at = pdu_length_offset(t);
        out[at..at + 2].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }

    /// Octets [`emit`](Self::emit) writes (0 if the PDU cannot be encoded).
    pub fn buffer_len(&self) -> usize {
        self.to_vec().map_or(0, |v| v.len())
    }

    /// Writes the PDU into the start of `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let v = self.to_vec()?;
        buf.get_mut(..v.len())
            .ok_or(WireError::Truncated)?
            .copy_from_slice(&v);
        Ok(v.len())
    }

    /// The first TLV of a kind, by a projection.
    pub fn find<'a, R>(&'a self, f: impl FnMut(&'a Tlv) -> Option<R>) -> Option<R> {
        self.tlvs.iter().find_map(f)
    }
}

/// The ISO 8473 Fletcher checksum of an encoded LSP (`pdu` from the discriminator to the
/// PDU length), computed as if the checksum field were zero. `None` if `pdu` is shorter than
/// an LSP header.
pub fn lsp_checksum(pdu: &[u8]) -> Option<u16> {
    if pdu.len() < 27 {
        return None;
    }
    let data = &pdu[12..];
    let pos = LSP_CHECKSUM_OFFSET - 12;
    let (mut c0, mut c1) = (0u32, 0u32);
    for (i, &b) in data.iter().enumerate() {
        let b = if i == pos || i == pos + 1 { 0 } else { b };
        c0 = (c0 + u32::from(b)) % 255;
        c1 = (c1 + c0) % 255;
    }
    // Solve for the two octets that make both running sums zero.
    let n = data.len() as i64;
    let mut x = ((n - pos as i64 - 1) * i64::from(c0) - i64::from(c1)) % 255;
    if x <= 0 {
        x += 255;
    }
    let mut y = 510 - i64::from(c0) - x;
    if y > 255 {
        y -= 255;
    }
    Some(((x as u16) << 8) | (y as u16 & 0xff))
}

/// Whether an encoded LSP carries a correct, non-zero checksum.
pub fn lsp_checksum_ok(pdu: &[u8]) -> bool {
    if pdu.len() < 27 {
        return false;
    }
    let carried = be16(&pdu[LSP_CHECKSUM_OFFSET..]);
    carried != 0 && lsp_checksum(pdu) == Some(carried)
}

/// Writes the Fletcher checksum into an encoded LSP.
pub fn fill_lsp_checksum(pdu: &mut [u8]) {
    if let Some(c) = lsp_checksum(pdu) {
        pdu[LSP_CHECKSUM_OFFSET..LSP_CHECKSUM_OFFSET + 2].copy_from_slice(&c.to_be_bytes());
    }
}

/// An IS-IS PDU in an 802.3 frame with the `FE FE 03` LLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Destination MAC.
    pub dst: MacAddress,
    /// Source MAC.
    pub src: MacAddress,
    /// The PDU (LLC payload up to the 802.3 length; trailing octets after the PDU length
    /// are left to the PDU parser).
    pub pdu: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Splits a frame (no FCS) into addresses and PDU. VLAN-tagged or non-IS-IS frames are
    /// refused.
    pub fn parse(frame: &'a [u8]) -> Result<Self, WireError> {
        let (eth, payload) = EthernetRepr::parse_frame(frame).map_err(|_| WireError::Truncated)?;
        match (eth.vlan, eth.payload_type) {
            (VlanTags::Untagged, PayloadType::Llc(llc)) if llc == LlcRepr::ISIS => Ok(Self {
                dst: eth.dst,
                src: eth.src,
                pdu: payload,
            }),
            _ => Err(WireError::NotIsis),
        }
    }

    /// Builds the frame around `pdu`.
    pub fn encapsulate(dst: MacAddress, src: MacAddress, pdu: &[u8]) -> Result<Vec<u8>, WireError> {
        let eth = EthernetRepr {
            dst,
            src,
            vlan: VlanTags::Untagged,
            payload_type: PayloadType::Llc(LlcRepr::ISIS),
        };
        let mut buf = vec![0; eth.buffer_len(pdu.len())];
        eth.emit_frame(pdu, &mut buf)
            .map_err(|_| WireError::BadField { field: "length" })?;
        Ok(buf)
    }
}

/// The fuzz property: for any bytes, view accessors do not panic, and a PDU that parses
/// emits to bytes that parse to the same PDU and emit identically. Used by the cargo-fuzz
/// target in `fuzz/` and by plain tests over the captures and their mutations.
pub fn fuzz_roundtrip(data: &[u8]) {
    let _ = Frame::parse(data);
    let _ = auth::verify(data, &auth::AuthKey::HmacMd5(b"k".to_vec()));
    let _ = lsp_checksum_ok(data);
    if let Ok(p) = IsisPacket::new_checked(data) {
        let _ = (p.pdu_type(), p.pdu_length(), p.header(), p.tlvs().count());
    }
    let Ok(first) = Pdu::parse_bytes(data) else {
        return;
    };
    let Ok(bytes) = first.to_vec() else {
        // Only possible for a PDU longer than 65535 octets, which cannot parse.
        panic!("a parsed PDU must emit");
    };
    // The fields we keep are exactly what we emit: for capture-like input the bytes match.
    let second = Pdu::parse_bytes(&bytes).expect("an emitted PDU must parse");
    assert_eq!(first, second, "parse -> emit -> parse changed the PDU");
    assert_eq!(
        second.to_vec().as_deref(),
        Ok(&bytes[..]),
        "emit is not stable"
    );
    assert_eq!(first.buffer_len(), bytes.len());
}
