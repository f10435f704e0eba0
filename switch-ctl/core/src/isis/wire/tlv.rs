//! IS-IS TLVs, with the SPB (RFC 6329) sub-TLVs.
//!
//! Parsing a TLV never fails: a TLV whose value does not fit its known layout (a wrong
//! length, a sub-TLV overrunning its container, a count that disagrees with the length) is
//! kept as [`Tlv::Unknown`] with its raw bytes, exactly like a TLV we do not know. So every
//! TLV survives parse -> emit byte for byte, and the protocol simply does not find the
//! malformed one where it looks for it.

use crate::spf::SystemId;

use super::WireError;

/// TLV 1, area addresses.
pub const TLV_AREA_ADDRESSES: u8 = 1;
/// TLV 6, IS neighbours (LAN hellos: MAC addresses of the neighbours heard).
pub const TLV_IS_NEIGHBORS: u8 = 6;
/// TLV 8, padding.
pub const TLV_PADDING: u8 = 8;
/// TLV 9, LSP entries (CSNP, PSNP).
pub const TLV_LSP_ENTRIES: u8 = 9;
/// TLV 10, authentication (RFC 5304, RFC 5310).
pub const TLV_AUTHENTICATION: u8 = 10;
/// TLV 22, extended IS reachability.
pub const TLV_EXT_IS_REACH: u8 = 22;
/// TLV 129, protocols supported (NLPIDs).
pub const TLV_PROTOCOLS_SUPPORTED: u8 = 129;
/// TLV 132, IPv4 interface addresses.
pub const TLV_IP_INTERFACE_ADDRESSES: u8 = 132;
/// TLV 137, dynamic hostname.
pub const TLV_HOSTNAME: u8 = 137;
/// TLV 143, MT-port-capability (RFC 6165), SPB hello sub-TLVs.
pub const TLV_MT_PORT_CAPABILITY: u8 = 143;
/// TLV 144, MT-capability (RFC 6329), SPB LSP sub-TLVs.
pub const TLV_MT_CAPABILITY: u8 = 144;
/// TLV 240, point-to-point three-way adjacency (RFC 5303).
pub const TLV_P2P_ADJACENCY: u8 = 240;

/// NLPID of IPv4, which FRR needs to see before it computes anything from an LSP.
pub const NLPID_IPV4: u8 = 0xcc;
/// NLPID of IEEE 802.1aq (SPB).
pub const NLPID_SPB: u8 = 0xc1;

/// Authentication type 1: cleartext password.
pub const AUTH_CLEARTEXT: u8 = 1;
/// Authentication type 3: generic cryptographic authentication (RFC 5310).
pub const AUTH_GENERIC_CRYPTO: u8 = 3;
/// Authentication type 54: HMAC-MD5 (RFC 5304).
pub const AUTH_HMAC_MD5: u8 = 54;

/// An LSP identifier: system ID, pseudonode ID, fragment number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LspId {
    /// The originator.
    pub system_id: SystemId,
    /// Non-zero for a pseudonode LSP.
    pub pseudonode: u8,
    /// Fragment number.
    pub fragment: u8,
}

impl LspId {
    /// The smallest LSP ID.
    pub const MIN: Self = Self {
        system_id: SystemId([0; 6]),
        pseudonode: 0,
        fragment: 0,
    };
    /// The largest LSP ID.
    pub const MAX: Self = Self {
        system_id: SystemId([0xff; 6]),
        pseudonode: 0xff,
        fragment: 0xff,
    };

    /// Fragment 0 of `system_id`'s non-pseudonode LSP.
    pub const fn node(system_id: SystemId) -> Self {
        Self {
            system_id,
            pseudonode: 0,
            fragment: 0,
        }
    }

    /// From the 8 wire octets.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        let mut s = [0; 6];
        s.copy_from_slice(&b[..6]);
        Self {
            system_id: SystemId(s),
            pseudonode: b[6],
            fragment: b[7],
        }
    }

    /// The 8 wire octets.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0; 8];
        b[..6].copy_from_slice(&self.system_id.0);
        b[6] = self.pseudonode;
        b[7] = self.fragment;
        b
    }
}

impl core::fmt::Display for LspId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}.{:02x}-{:02x}",
            self.system_id, self.pseudonode, self.fragment
        )
    }
}

/// One entry of TLV 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LspEntry {
    /// Remaining lifetime in seconds.
    pub remaining_lifetime: u16,
    /// The LSP.
    pub lsp_id: LspId,
    /// Sequence number.
    pub seq: u32,
    /// Fletcher checksum.
    pub checksum: u16,
}

/// TLV 10: the authentication type and its value, as carried.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authentication {
    /// [`AUTH_CLEARTEXT`], [`AUTH_HMAC_MD5`], [`AUTH_GENERIC_CRYPTO`] or another type.
    pub auth_type: u8,
    /// What follows the type octet (for RFC 5310: key ID, then the digest).
    pub value: Vec<u8>,
}

/// One neighbour of TLV 22.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtIsReach {
    /// System ID and pseudonode octet of the neighbour.
    pub neighbor: [u8; 7],
    /// Default metric, 24 bits.
    pub metric: u32,
    /// Sub-TLVs.
    pub sub_tlvs: Vec<IsReachSubTlv>,
}

impl ExtIsReach {
    /// The neighbour's system ID (ignoring the pseudonode octet).
    pub fn neighbor_system_id(&self) -> SystemId {
        let mut s = [0; 6];
        s.copy_from_slice(&self.neighbor[..6]);
        SystemId(s)
    }

    /// The SPB link metric, if the sub-TLV is present.
    pub fn spb_metric(&self) -> Option<u32> {
        self.sub_tlvs.iter().find_map(|s| match s {
            IsReachSubTlv::SpbLinkMetric { metric, .. } => Some(*metric),
            IsReachSubTlv::Unknown { .. } => None,
        })
    }
}

/// Sub-TLVs of TLV 22.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IsReachSubTlv {
    /// Sub-TLV 29, SPB link metric (RFC 6329 §16.1).
    SpbLinkMetric {
        /// 24-bit metric.
        metric: u32,
        /// Port identifiers.
        ports: Vec<u16>,
    },
    /// Any other sub-TLV, raw.
    Unknown {
        /// Type.
        typ: u8,
        /// Value.
        value: Vec<u8>,
    },
}

/// TLV 240 (RFC 5303). The optional fields are present in order: a neighbour needs the
/// local circuit ID, the neighbour's circuit ID needs the neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct P2pAdjacency {
    /// [`P2pAdjacency::UP`], [`P2pAdjacency::INITIALIZING`], [`P2pAdjacency::DOWN`] (other
    /// values are kept).
    pub state: u8,
    /// Extended local circuit ID.
    pub ext_local_circuit_id: Option<u32>,
    /// Neighbour system ID.
    pub neighbor_system_id: Option<SystemId>,
    /// Neighbour extended local circuit ID.
    pub neighbor_ext_circuit_id: Option<u32>,
}

impl P2pAdjacency {
    /// Three-way state Up.
    pub const UP: u8 = 0;
    /// Three-way state Initializing.
    pub const INITIALIZING: u8 = 1;
    /// Three-way state Down.
    pub const DOWN: u8 = 2;
}

/// TLV 143: MT-port-capability with SPB hello sub-TLVs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MtPortCapability {
    /// Reserved (4 bits) and MT ID (12 bits), as carried.
    pub mt: u16,
    /// Sub-TLVs.
    pub sub_tlvs: Vec<MtPortSubTlv>,
}

/// One SPB Base VID entry of sub-TLV 6 of TLV 143.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BaseVid {
    /// ECT-ALGORITHM (OUI and index).
    pub ect: u32,
    /// Base VID in the high 12 bits, then U (0x8), M (0x4) and 2 reserved bits.
    pub word: u16,
}

impl BaseVid {
    /// Builds an entry.
    pub fn new(ect: u32, base_vid: u16, used: bool, spbm: bool) -> Self {
        let mut word = (base_vid & 0x0fff) << 4;
        if used {
            word |= 0x8;
        }
        if spbm {
            word |= 0x4;
        }
        Self { ect, word }
    }
    /// The Base VID.
    pub fn base_vid(&self) -> u16 {
        self.word >> 4
    }
}

/// Sub-TLVs of TLV 143.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MtPortSubTlv {
    /// Sub-TLV 4, SPB-MCID: MCID and auxiliary MCID, 51 octets each.
    SpbMcid {
        /// MCID.
        mcid: [u8; 51],
        /// Auxiliary MCID.
        aux_mcid: [u8; 51],
    },
    /// Sub-TLV 5, SPB digest.
    SpbDigest {
        /// V (0x10), A (0x0C), D (0x03).
        flags: u8,
        /// Agreement digest.
        digest: [u8; 32],
    },
    /// Sub-TLV 6, SPB Base VIDs.
    SpbBaseVids(Vec<BaseVid>),
    /// Any other sub-TLV, raw.
    Unknown {
        /// Type.
        typ: u8,
        /// Value.
        value: Vec<u8>,
    },
}

/// TLV 144: MT-capability with SPB LSP sub-TLVs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MtCapability {
    /// Overload (0x8000), reserved, MT ID (12 bits), as carried.
    pub mt: u16,
    /// Sub-TLVs.
    pub sub_tlvs: Vec<MtCapSubTlv>,
}

/// One tree of the SPB Instance sub-TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpbTree {
    /// U (0x80), M (0x40), A (0x20), reserved.
    pub flags: u8,
    /// ECT-ALGORITHM.
    pub ect: u32,
    /// Base VID, 12 bits.
    pub base_vid: u16,
    /// SPVID, 12 bits.
    pub spvid: u16,
}

/// Sub-TLV 1 of TLV 144, SPB Instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpbInstance {
    /// CIST root identifier.
    pub cist_root_id: [u8; 8],
    /// CIST external root path cost.
    pub cist_external_root_path_cost: u32,
    /// Bridge priority: the first 16 bits of the Bridge Identifier of the ECT tie-break.
    pub bridge_priority: u16,
    /// V flag (0x0010_0000) and SPSourceID (low 20 bits), with the reserved bits as carried.
    pub sp_source_word: u32,
    /// Trees (one per B-VID).
    pub trees: Vec<SpbTree>,
}

impl SpbInstance {
    /// The SPSourceID.
    pub fn sp_source_id(&self) -> u32 {
        self.sp_source_word & 0x000f_ffff
    }
}

/// One I-SID of the SPBM service identifier sub-TLV: T (0x8000_0000), R (0x4000_0000),
/// I-SID (low 24 bits), as carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsidEntry(pub u32);

impl IsidEntry {
    /// Builds an entry.
    pub fn new(isid: u32, transmit: bool, receive: bool) -> Self {
        Self(
            (isid & 0x00ff_ffff)
                | if transmit { 0x8000_0000 } else { 0 }
                | if receive { 0x4000_0000 } else { 0 },
        )
    }
    /// The I-SID.
    pub fn isid(self) -> u32 {
        self.0 & 0x00ff_ffff
    }
    /// T: this bridge sends on the I-SID.
    pub fn transmit(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }
    /// R: this bridge receives on the I-SID.
    pub fn receive(self) -> bool {
        self.0 & 0x4000_0000 != 0
    }
}

/// Sub-TLV 3 of TLV 144, SPBM service identifier and unicast address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpbmServiceId {
    /// Backbone MAC address.
    pub b_mac: [u8; 6],
    /// Reserved (4 bits) and Base VID (12 bits), as carried.
    pub base_vid_word: u16,
    /// I-SIDs.
    pub isids: Vec<IsidEntry>,
}

/// Sub-TLVs of TLV 144.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MtCapSubTlv {
    /// Sub-TLV 1.
    SpbInstance(SpbInstance),
    /// Sub-TLV 2, SPB instance opaque ECT data.
    OpaqueEct {
        /// ECT-ALGORITHM.
        ect: u32,
        /// Opaque data.
        data: Vec<u8>,
    },
    /// Sub-TLV 3.
    SpbmServiceId(SpbmServiceId),
    /// Sub-TLV 4, SPBV MAC addresses.
    SpbvMac {
        /// Reserved (2), SR (2), SPVID (12), as carried.
        word: u16,
        /// (T/R flags octet, group MAC).
        entries: Vec<(u8, [u8; 6])>,
    },
    /// Any other sub-TLV, raw.
    Unknown {
        /// Type.
        typ: u8,
        /// Value.
        value: Vec<u8>,
    },
}

/// One TLV.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tlv {
    /// TLV 1: each address 1..=13 octets.
    AreaAddresses(Vec<Vec<u8>>),
    /// TLV 6: MAC addresses of LAN neighbours.
    IsNeighbors(Vec<[u8; 6]>),
    /// TLV 8: the padding octets (usually zero).
    Padding(Vec<u8>),
    /// TLV 9.
    LspEntries(Vec<LspEntry>),
    /// TLV 10.
    Authentication(Authentication),
    /// TLV 22.
    ExtIsReach(Vec<ExtIsReach>),
    /// TLV 129: NLPIDs.
    ProtocolsSupported(Vec<u8>),
    /// TLV 132.
    IpInterfaceAddresses(Vec<[u8; 4]>),
    /// TLV 137: the name's octets.
    Hostname(Vec<u8>),
    /// TLV 240.
    P2pAdjacency(P2pAdjacency),
    /// TLV 143.
    MtPortCapability(MtPortCapability),
    /// TLV 144.
    MtCapability(MtCapability),
    /// Any other TLV, or a known one whose value does not fit its layout, raw.
    Unknown {
        /// Type.
        typ: u8,
        /// Value.
        value: Vec<u8>,
    },
}

/// A cursor over a value; every read returns `None` past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.array()?))
    }
    fn u24(&mut self) -> Option<u32> {
        let b: [u8; 3] = self.array()?;
        Some(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// A (type, value) pair with a one-octet length.
    fn tlv(&mut self) -> Option<(u8, &'a [u8])> {
        let typ = self.u8()?;
        let len = self.u8()?;
        Some((typ, self.take(usize::from(len))?))
    }
    /// Items of exactly `N` octets filling the rest.
    fn chunks<const N: usize>(&mut self) -> Option<Vec<[u8; N]>> {
        if !self.0.len().is_multiple_of(N) {
            return None;
        }
        let mut v = Vec::with_capacity(self.0.len() / N);
        while !self.is_empty() {
            v.push(self.array()?);
        }
        Some(v)
    }
}

fn system_id(b: [u8; 6]) -> SystemId {
    SystemId(b)
}

impl Tlv {
    /// The TLV's type code.
    pub fn typ(&self) -> u8 {
        match self {
            Self::AreaAddresses(_) => TLV_AREA_ADDRESSES,
            Self::IsNeighbors(_) => TLV_IS_NEIGHBORS,
            Self::Padding(_) => TLV_PADDING,
            Self::LspEntries(_) => TLV_LSP_ENTRIES,
            Self::Authentication(_) => TLV_AUTHENTICATION,
            Self::ExtIsReach(_) => TLV_EXT_IS_REACH,
            Self::ProtocolsSupported(_) => TLV_PROTOCOLS_SUPPORTED,
            Self::IpInterfaceAddresses(_) => TLV_IP_INTERFACE_ADDRESSES,
            Self::Hostname(_) => TLV_HOSTNAME,
            Self::P2pAdjacency(_) => TLV_P2P_ADJACENCY,
            Self::MtPortCapability(_) => TLV_MT_PORT_CAPABILITY,
            Self::MtCapability(_) => TLV_MT_CAPABILITY,
            Self::Unknown { typ, .. } => *typ,
        }
    }

    /// Parses one TLV's value. Never fails: see the module doc.
    pub fn parse(typ: u8, value: &[u8]) -> Self {
        Self::parse_known(typ, value).unwrap_or_else(|| Self::Unknown {
            typ,
            value: value.to_vec(),
        })
    }

    fn parse_known(typ: u8, value: &[u8]) -> Option<Self> {
        let mut r = Reader(value);
        Some(match typ {
            TLV_AREA_ADDRESSES => {
                let mut areas = Vec::new();
                while !r.is_empty() {
                    let len = r.u8()?;
                    if !(1..=13).contains(&len) {
                        return None;
                    }
                    areas.push(r.take(usize::from(len))?.to_vec());
                }
                Self::AreaAddresses(areas)
            }
            TLV_IS_NEIGHBORS => Self::IsNeighbors(r.chunks::<6>()?),
            TLV_PADDING => Self::Padding(value.to_vec()),
            TLV_LSP_ENTRIES => {
                let entries = r.chunks::<16>()?;
                Self::LspEntries(
                    entries
                        .into_iter()
                        .map(|e| {
                            let mut r = Reader(&e);
                            // 16 octets: the reads cannot fail.
                            LspEntry {
                                remaining_lifetime: r.u16().unwrap_or_default(),
                                lsp_id: LspId::from_bytes(r.array().unwrap_or_default()),
                                seq: r.u32().unwrap_or_default(),
                                checksum: r.u16().unwrap_or_default(),
                            }
                        })
                        .collect(),
                )
            }
            TLV_AUTHENTICATION => {
                let auth_type = r.u8()?;
                Self::Authentication(Authentication {
                    auth_type,
                    value: r.0.to_vec(),
                })
            }
            TLV_EXT_IS_REACH => {
                let mut v = Vec::new();
                while !r.is_empty() {
                    let neighbor = r.array::<7>()?;
                    let metric = r.u24()?;
                    let sub_len = r.u8()?;
                    let mut s = Reader(r.take(usize::from(sub_len))?);
                    let mut sub_tlvs = Vec::new();
                    while !s.is_empty() {
                        let (t, val) = s.tlv()?;
                        sub_tlvs.push(parse_is_reach_sub(t, val));
                    }
                    v.push(ExtIsReach {
                        neighbor,
                        metric,
                        sub_tlvs,
                    });
                }
                Self::ExtIsReach(v)
            }
            TLV_PROTOCOLS_SUPPORTED => Self::ProtocolsSupported(value.to_vec()),
            TLV_IP_INTERFACE_ADDRESSES => Self::IpInterfaceAddresses(r.chunks::<4>()?),
            TLV_HOSTNAME => Self::Hostname(value.to_vec()),
            TLV_P2P_ADJACENCY => {
                let state = r.u8()?;
                let (mut local, mut nbr, mut nbr_circ) = (None, None, None);
                match value.len() {
                    1 => {}
                    5 => local = Some(r.u32()?),
                    11 => {
                        local = Some(r.u32()?);
                        nbr = Some(system_id(r.array()?));
                    }
                    15 => {
                        local = Some(r.u32()?);
                        nbr = Some(system_id(r.array()?));
                        nbr_circ = Some(r.u32()?);
                    }
                    _ => return None,
                }
                Self::P2pAdjacency(P2pAdjacency {
                    state,
                    ext_local_circuit_id: local,
                    neighbor_system_id: nbr,
                    neighbor_ext_circuit_id: nbr_circ,
                })
            }
            TLV_MT_PORT_CAPABILITY => {
                let mt = r.u16()?;
                let mut sub_tlvs = Vec::new();
                while !r.is_empty() {
                    let (t, val) = r.tlv()?;
                    sub_tlvs.push(parse_mt_port_sub(t, val));
                }
                Self::MtPortCapability(MtPortCapability { mt, sub_tlvs })
            }
            TLV_MT_CAPABILITY => {
                let mt = r.u16()?;
                let mut sub_tlvs = Vec::new();
                while !r.is_empty() {
                    let (t, val) = r.tlv()?;
                    sub_tlvs.push(parse_mt_cap_sub(t, val));
                }
                Self::MtCapability(MtCapability { mt, sub_tlvs })
            }
            _ => return None,
        })
    }

    /// Appends type, length and value to `out`. `Err(TlvTooLong)` if the value exceeds 255
    /// octets (nothing is appended); `Err(BadField)` for a value that cannot be encoded.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let start = out.len();
        out.push(self.typ());
        out.push(0);
        if let Err(e) = self.emit_value(out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start - 2;
        match u8::try_from(len) {
            Ok(l) => {
                out[start + 1] = l;
                Ok(())
            }
            Err(_) => {
                out.truncate(start);
                Err(WireError::TlvTooLong(self.typ()))
            }
        }
    }

    /// Octets [`emit`](Self::emit) appends (header included).
    pub fn buffer_len(&self) -> usize {
        let mut v = Vec::new();
        match self.emit_value(&mut v) {
            Ok(()) => 2 + v.len(),
            Err(_) => 0,
        }
    }

    fn emit_value(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        match self {
            Self::AreaAddresses(areas) => {
                for a in areas {
                    if !(1..=13).contains(&a.len()) {
                        return Err(WireError::BadField {
                            field: "area address",
                        });
                    }
                    out.push(a.len() as u8);
                    out.extend_from_slice(a);
                }
            }
            Self::IsNeighbors(v) => v.iter().for_each(|m| out.extend_from_slice(m)),
            Self::Padding(v) | Self::ProtocolsSupported(v) | Self::Hostname(v) => {
                out.extend_from_slice(v);
            }
            Self::LspEntries(v) => {
                for e in v {
                    out.extend_from_slice(&e.remaining_lifetime.to_be_bytes());
                    out.extend_from_slice(&e.lsp_id.to_bytes());
                    out.extend_from_slice(&e.seq.to_be_bytes());
                    out.extend_from_slice(&e.checksum.to_be_bytes());
                }
            }
            Self::Authentication(a) => {
                out.push(a.auth_type);
                out.extend_from_slice(&a.value);
            }
            Self::ExtIsReach(v) => {
                for n in v {
                    out.extend_from_slice(&n.neighbor);
                    out.extend_from_slice(&u24(n.metric)?);
                    let at = out.len();
                    out.push(0);
                    for s in &n.sub_tlvs {
                        emit_is_reach_sub(s, out)?;
                    }
                    out[at] =
                        u8::try_from(out.len() - at - 1).map_err(|_| WireError::BadField {
                            field: "sub-TLV length",
                        })?;
                }
            }
            Self::IpInterfaceAddresses(v) => v.iter().for_each(|a| out.extend_from_slice(a)),
            Self::P2pAdjacency(a) => {
                out.push(a.state);
                match (
                    a.ext_local_circuit_id,
                    a.neighbor_system_id,
                    a.neighbor_ext_circuit_id,
                ) {
                    (None, None, None) => {}
                    (Some(l), None, None) => out.extend_from_slice(&l.to_be_bytes()),
                    (Some(l), Some(n), c) => {
                        out.extend_from_slice(&l.to_be_bytes());
                        out.extend_from_slice(&n.0);
                        if let Some(c) = c {
                            out.extend_from_slice(&c.to_be_bytes());
                        }
                    }
                    _ => {
                        return Err(WireError::BadField {
                            field: "three-way adjacency",
                        });
                    }
                }
            }
            Self::MtPortCapability(m) => {
                out.extend_from_slice(&m.mt.to_be_bytes());
                for s in &m.sub_tlvs {
                    let at = sub_header(out, mt_port_sub_type(s));
                    match s {
                        MtPortSubTlv::SpbMcid { mcid, aux_mcid } => {
                            out.extend_from_slice(mcid);
                            out.extend_from_slice(aux_mcid);
                        }
                        MtPortSubTlv::SpbDigest { flags, digest } => {
                            out.push(*flags);
                            out.extend_from_slice(digest);
                        }
                        MtPortSubTlv::SpbBaseVids(v) => {
                            for b in v {
                                out.extend_from_slice(&b.ect.to_be_bytes());
                                out.extend_from_slice(&b.word.to_be_bytes());
                            }
                        }
                        MtPortSubTlv::Unknown { value, .. } => out.extend_from_slice(value),
                    }
                    sub_close(out, at)?;
                }
            }
            Self::MtCapability(m) => {
                out.extend_from_slice(&m.mt.to_be_bytes());
                for s in &m.sub_tlvs {
                    let at = sub_header(out, mt_cap_sub_type(s));
                    match s {
                        MtCapSubTlv::SpbInstance(i) => {
                            out.extend_from_slice(&i.cist_root_id);
                            out.extend_from_slice(&i.cist_external_root_path_cost.to_be_bytes());
                            out.extend_from_slice(&i.bridge_priority.to_be_bytes());
                            out.extend_from_slice(&i.sp_source_word.to_be_bytes());
                            out.push(u8::try_from(i.trees.len()).map_err(|_| {
                                WireError::BadField {
                                    field: "number of trees",
                                }
                            })?);
                            for t in &i.trees {
                                out.push(t.flags);
                                out.extend_from_slice(&t.ect.to_be_bytes());
                                let v = (u32::from(t.base_vid & 0xfff) << 12)
                                    | u32::from(t.spvid & 0xfff);
                                out.extend_from_slice(&v.to_be_bytes()[1..]);
                            }
                        }
                        MtCapSubTlv::OpaqueEct { ect, data } => {
                            out.extend_from_slice(&ect.to_be_bytes());
                            out.extend_from_slice(data);
                        }
                        MtCapSubTlv::SpbmServiceId(s) => {
                            out.extend_from_slice(&s.b_mac);
                            out.extend_from_slice(&s.base_vid_word.to_be_bytes());
                            for i in &s.isids {
                                out.extend_from_slice(&i.0.to_be_bytes());
                            }
                        }
                        MtCapSubTlv::SpbvMac { word, entries } => {
                            out.extend_from_slice(&word.to_be_bytes());
                            for (f, mac) in entries {
                                out.push(*f);
                                out.extend_from_slice(mac);
                            }
                        }
                        MtCapSubTlv::Unknown { value, .. } => out.extend_from_slice(value),
                    }
                    sub_close(out, at)?;
                }
            }
            Self::Unknown { value, .. } => out.extend_from_slice(value),
        }
        Ok(())
    }
}

fn u24(v: u32) -> Result<[u8; 3], WireError> {
    if v > 0x00ff_ffff {
        return Err(WireError::BadField { field: "metric" });
    }
    let b = v.to_be_bytes();
    Ok([b[1], b[2], b[3]])
}

fn sub_header(out: &mut Vec<u8>, typ: u8) -> usize {
    out.push(typ);
    out.push(0);
    out.len() - 1
}

fn sub_close(out: &mut [u8], at: usize) -> Result<(), WireError> {
    out[at] = u8::try_from(out.len() - at - 1).map_err(|_| WireError::BadField {
        field: "sub-TLV length",
    })?;
    Ok(())
}

fn parse_is_reach_sub(typ: u8, value: &[u8]) -> IsReachSubTlv {
    let known = || {
        let mut r = Reader(value);
        if typ != 29 {
            return None;
        }
        let metric = r.u24()?;
        let n = r.u8()?;
        let ports = r.chunks::<2>()?;
        (ports.len() == usize::from(n)).then(|| IsReachSubTlv::SpbLinkMetric {
            metric,
            ports: ports.into_iter().map(u16::from_be_bytes).collect(),
        })
    };
    known().unwrap_or_else(|| IsReachSubTlv::Unknown {
        typ,
        value: value.to_vec(),
    })
}

fn emit_is_reach_sub(s: &IsReachSubTlv, out: &mut Vec<u8>) -> Result<(), WireError> {
    match s {
        IsReachSubTlv::SpbLinkMetric { metric, ports } => {
            let at = sub_header(out, 29);
            out.extend_from_slice(&u24(*metric)?);
            out.push(u8::try_from(ports.len()).map_err(|_| WireError::BadField {
                field: "number of ports",
            })?);
            ports
                .iter()
                .for_each(|p| out.extend_from_slice(&p.to_be_bytes()));
            sub_close(out, at)
        }
        IsReachSubTlv::Unknown { typ, value } => {
            let at = sub_header(out, *typ);
            out.extend_from_slice(value);
            sub_close(out, at)
        }
    }
}

fn mt_port_sub_type(s: &MtPortSubTlv) -> u8 {
    match s {
        MtPortSubTlv::SpbMcid { .. } => 4,
        MtPortSubTlv::SpbDigest { .. } => 5,
        MtPortSubTlv::SpbBaseVids(_) => 6,
        MtPortSubTlv::Unknown { typ, .. } => *typ,
    }
}

fn parse_mt_port_sub(typ: u8, value: &[u8]) -> MtPortSubTlv {
    let known = || {
        let mut r = Reader(value);
        Some(match (typ, value.len()) {
            (4, 102) => MtPortSubTlv::SpbMcid {
                mcid: r.array()?,
                aux_mcid: r.array()?,
            },
            (5, 33) => MtPortSubTlv::SpbDigest {
                flags: r.u8()?,
                digest: r.array()?,
            },
            (6, _) => MtPortSubTlv::SpbBaseVids(
                r.chunks::<6>()?
                    .into_iter()
                    .map(|c| BaseVid {
                        ect: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                        word: u16::from_be_bytes([c[4], c[5]]),
                    })
                    .collect(),
            ),
            _ => return None,
        })
    };
    known().unwrap_or_else(|| MtPortSubTlv::Unknown {
        typ,
        value: value.to_vec(),
    })
}

fn mt_cap_sub_type(s: &MtCapSubTlv) -> u8 {
    match s {
        MtCapSubTlv::SpbInstance(_) => 1,
        MtCapSubTlv::OpaqueEct { .. } => 2,
        MtCapSubTlv::SpbmServiceId(_) => 3,
        MtCapSubTlv::SpbvMac { .. } => 4,
        MtCapSubTlv::Unknown { typ, .. } => *typ,
    }
}

fn parse_mt_cap_sub(typ: u8, value: &[u8]) -> MtCapSubTlv {
    let known = || {
        let mut r = Reader(value);
        Some(match typ {
            1 => {
                let cist_root_id = r.array()?;
                let cist_external_root_path_cost = r.u32()?;
                let bridge_priority = r.u16()?;
                let sp_source_word = r.u32()?;
                let n = r.u8()?;
                let trees = r.chunks::<8>()?;
                if trees.len() != usize::from(n) {
                    return None;
                }
                MtCapSubTlv::SpbInstance(SpbInstance {
                    cist_root_id,
                    cist_external_root_path_cost,
                    bridge_priority,
                    sp_source_word,
                    trees: trees
                        .into_iter()
                        .map(|c| {
                            let v = u32::from_be_bytes([0, c[5], c[6], c[7]]);
                            SpbTree {
                                flags: c[0],
                                ect: u32::from_be_bytes([c[1], c[2], c[3], c[4]]),
                                base_vid: (v >> 12) as u16,
                                spvid: (v & 0xfff) as u16,
                            }
                        })
                        .collect(),
                })
            }
            2 => MtCapSubTlv::OpaqueEct {
                ect: r.u32()?,
                data: r.0.to_vec(),
            },
            3 => MtCapSubTlv::SpbmServiceId(SpbmServiceId {
                b_mac: r.array()?,
                base_vid_word: r.u16()?,
                isids: r
                    .chunks::<4>()?
                    .into_iter()
                    .map(|c| IsidEntry(u32::from_be_bytes(c)))
                    .collect(),
            }),
            4 => MtCapSubTlv::SpbvMac {
                word: r.u16()?,
                entries: r
                    .chunks::<7>()?
                    .into_iter()
                    .map(|c| {
                        let mut m = [0; 6];
                        m.copy_from_slice(&c[1..]);
                        (c[0], m)
                    })
                    .collect(),
            },
            _ => return None,
        })
    };
    known().unwrap_or_else(|| MtCapSubTlv::Unknown {
        typ,
        value: value.to_vec(),
    })
}

/// Iterates over the TLVs of a TLV area as `(offset of the type octet, type, value)`;
/// yields `Err` once (then stops) if a TLV overruns the area.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    area: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> TlvIter<'a> {
    /// Over `area`.
    pub fn new(area: &'a [u8]) -> Self {
        Self {
            area,
            at: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<(usize, u8, &'a [u8]), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.area.len() {
            return None;
        }
        let at = self.at;
        let rest = &self.area[at..];
        let Some(mut r) = (rest.len() >= 2).then_some(Reader(rest)) else {
            self.failed = true;
            return Some(Err(WireError::Truncated));
        };
        match r.tlv() {
            Some((typ, value)) => {
                self.at += 2 + value.len();
                Some(Ok((at, typ, value)))
            }
            None => {
                self.failed = true;
                Some(Err(WireError::Truncated))
            }
        }
    }
}
