//! Links as rtnetlink carries them (`struct ifinfomsg` plus `IFLA_*`), with the one link kind
//! we create typed: 802.1Q VLAN devices and their egress priority -> PCP map.
//!
//! The requests are byte-identical to iproute2's `ip link add ... type vlan id N
//! egress-qos-map ...`, `ip link set dev X type vlan egress-qos-map ...` and `ip link del`
//! (vectors in `tests/vectors/links.txt`). Every attribute we do not interpret is kept raw.

use crate::nla::{UnknownAttr, Writer, attrs_flagged, i32_of, str_of, u16_of, u32_of, unknown};
use crate::qdisc::{NLMSG_HDRLEN, nlm};
use crate::{Error, Result};

/// `RTM_NEWLINK`.
pub const RTM_NEWLINK: u16 = 16;
/// `RTM_DELLINK`.
pub const RTM_DELLINK: u16 = 17;
/// `RTM_GETLINK`.
pub const RTM_GETLINK: u16 = 18;
/// `sizeof(struct ifinfomsg)`.
pub const IFINFOMSG_LEN: usize = 16;
/// `IFF_UP`.
pub const IFF_UP: u32 = 0x1;

const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_VLAN_ID: u16 = 1;
const IFLA_VLAN_FLAGS: u16 = 2;
const IFLA_VLAN_EGRESS_QOS: u16 = 3;
const IFLA_VLAN_INGRESS_QOS: u16 = 4;
const IFLA_VLAN_PROTOCOL: u16 = 5;
const IFLA_VLAN_QOS_MAPPING: u16 = 1;

/// One `from:to` pair of a VLAN QoS map (`struct ifla_vlan_qos_mapping`). Egress: skb
/// priority -> PCP; ingress: PCP -> skb priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QosMapping {
    /// skb priority (egress) or PCP (ingress).
    pub from: u32,
    /// PCP (egress) or skb priority (ingress).
    pub to: u32,
}

/// `IFLA_INFO_DATA` of a `vlan` link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VlanOptions {
    /// `IFLA_VLAN_ID`.
    pub id: Option<u16>,
    /// `IFLA_VLAN_PROTOCOL` (0x8100 or 0x88a8), host order here, big-endian on the wire.
    pub protocol: Option<u16>,
    /// `IFLA_VLAN_FLAGS`: `(flags, mask)`.
    pub flags: Option<(u32, u32)>,
    /// `IFLA_VLAN_EGRESS_QOS`. The kernel lists only non-zero PCPs in dumps, and a request
    /// setting `p:0` removes priority `p` from the map.
    pub egress_qos: Option<Vec<QosMapping>>,
    /// `IFLA_VLAN_INGRESS_QOS`.
    pub ingress_qos: Option<Vec<QosMapping>>,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl VlanOptions {
    /// Parses the value of `IFLA_INFO_DATA`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let mut o = Self::default();
        for a in attrs_flagged(buf) {
            let (kind, v, full) = a?;
            match kind {
                IFLA_VLAN_ID => o.id = Some(u16_of("IFLA_VLAN_ID", v)?),
                IFLA_VLAN_PROTOCOL => {
                    o.protocol = Some(u16::from_be(u16_of("IFLA_VLAN_PROTOCOL", v)?));
                }
                IFLA_VLAN_FLAGS => {
                    let f = u32_of("IFLA_VLAN_FLAGS", v)?;
                    let m = u32_of("IFLA_VLAN_FLAGS", v.get(4..).unwrap_or(&[]))?;
                    o.flags = Some((f, m));
                }
                IFLA_VLAN_EGRESS_QOS => o.egress_qos = Some(parse_qos(v)?),
                IFLA_VLAN_INGRESS_QOS => o.ingress_qos = Some(parse_qos(v)?),
                _ => o.unknown.push(unknown(full, v)),
            }
        }
        Ok(o)
    }

    fn emit(&self, w: &mut Writer) -> Result<()> {
        if let Some(id) = self.id {
            w.put_u16(IFLA_VLAN_ID, id)?;
        }
        if let Some(p) = self.protocol {
            w.put(IFLA_VLAN_PROTOCOL, &p.to_be_bytes())?;
        }
        if let Some((f, m)) = self.flags {
            let mut v = f.to_ne_bytes().to_vec();
            v.extend_from_slice(&m.to_ne_bytes());
            w.put(IFLA_VLAN_FLAGS, &v)?;
        }
        for (kind, map) in [
            (IFLA_VLAN_EGRESS_QOS, &self.egress_qos),
            (IFLA_VLAN_INGRESS_QOS, &self.ingress_qos),
        ] {
            if let Some(map) = map {
                let at = w.begin(kind, false);
                for m in map {
                    let mut v = m.from.to_ne_bytes().to_vec();
                    v.extend_from_slice(&m.to.to_ne_bytes());
                    w.put(IFLA_VLAN_QOS_MAPPING, &v)?;
                }
                w.end(at)?;
            }
        }
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }

    /// The egress map as `[PCP; 8]` for skb priorities 0..=7 (absent entries are PCP 0).
    pub fn egress_pcp(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        for m in self.egress_qos.iter().flatten() {
            if let Some(slot) = usize::try_from(m.from).ok().and_then(|i| out.get_mut(i)) {
                *slot = u8::try_from(m.to).unwrap_or(u8::MAX);
            }
        }
        out
    }
}

fn parse_qos(buf: &[u8]) -> Result<Vec<QosMapping>> {
    let mut out = Vec::new();
    for a in attrs_flagged(buf) {
        let (kind, v, _) = a?;
        if kind == IFLA_VLAN_QOS_MAPPING {
            out.push(QosMapping {
                from: u32_of("ifla_vlan_qos_mapping", v)?,
                to: u32_of("ifla_vlan_qos_mapping", v.get(4..).unwrap_or(&[]))?,
            });
        }
    }
    Ok(out)
}

/// `IFLA_INFO_DATA`, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkData {
    /// `vlan`.
    Vlan(VlanOptions),
    /// Any other kind, raw.
    Other(Vec<u8>),
}

/// `IFLA_LINKINFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// `IFLA_INFO_KIND` (`"vlan"`, `"veth"`, ...).
    pub kind: String,
    /// `IFLA_INFO_DATA`.
    pub data: Option<LinkData>,
    /// Other `IFLA_INFO_*` attributes, raw.
    pub unknown: Vec<UnknownAttr>,
}

impl LinkInfo {
    fn parse(buf: &[u8]) -> Result<Self> {
        let mut kind = String::new();
        let mut data = None;
        let mut unknown_attrs = Vec::new();
        for a in attrs_flagged(buf) {
            let (k, v, full) = a?;
            match k {
                IFLA_INFO_KIND => kind = str_of("IFLA_INFO_KIND", v)?,
                IFLA_INFO_DATA => data = Some(v),
                _ => unknown_attrs.push(unknown(full, v)),
            }
        }
        let data = match data {
            Some(v) if kind == "vlan" => Some(LinkData::Vlan(VlanOptions::parse(v)?)),
            Some(v) => Some(LinkData::Other(v.to_vec())),
            None => None,
        };
        Ok(Self {
            kind,
            data,
            unknown: unknown_attrs,
        })
    }

    fn emit(&self, w: &mut Writer) -> Result<()> {
        // iproute2 sends the kind without its NUL; the kernel accepts both.
        w.put(IFLA_INFO_KIND, self.kind.as_bytes())?;
        if let Some(d) = &self.data {
            let at = w.begin(IFLA_INFO_DATA, false);
            match d {
                LinkData::Vlan(v) => v.emit(w)?,
                LinkData::Other(raw) => w.buf.extend_from_slice(raw),
            }
            w.end(at)?;
        }
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }
}

/// One link: `ifinfomsg` fields we use, name, lower device, link info, the rest raw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// `ifi_type` (ARPHRD_*).
    pub link_type: u16,
    /// `ifi_index` (0 when creating).
    pub ifindex: i32,
    /// `ifi_flags` (`IFF_UP`, ...).
    pub flags: u32,
    /// `ifi_change`: which flags a request changes.
    pub change: u32,
    /// `IFLA_IFNAME`.
    pub name: Option<String>,
    /// `IFLA_LINK`: the lower device of a VLAN.
    pub lower: Option<i32>,
    /// `IFLA_LINKINFO`.
    pub info: Option<LinkInfo>,
    /// Every other attribute (statistics, addresses, ...), kept as it came.
    pub unknown: Vec<UnknownAttr>,
}

impl Link {
    /// `ip link add link LOWER name NAME [up] type vlan id ID egress-qos-map F:T ...`.
    pub fn new_vlan(lower: i32, name: &str, id: u16, egress: Vec<QosMapping>, up: bool) -> Self {
        Self {
            flags: if up { IFF_UP } else { 0 },
            change: if up { IFF_UP } else { 0 },
            name: Some(name.to_owned()),
            lower: Some(lower),
            info: Some(LinkInfo {
                kind: "vlan".into(),
                data: Some(LinkData::Vlan(VlanOptions {
                    id: Some(id),
                    egress_qos: Some(egress),
                    ..VlanOptions::default()
                })),
                unknown: Vec::new(),
            }),
            ..Self::default()
        }
    }

    /// `ip link set dev IFINDEX type vlan egress-qos-map F:T ...`: changes only the given
    /// priorities.
    pub fn set_vlan_egress(ifindex: i32, egress: Vec<QosMapping>) -> Self {
        Self {
            ifindex,
            info: Some(LinkInfo {
                kind: "vlan".into(),
                data: Some(LinkData::Vlan(VlanOptions {
                    egress_qos: Some(egress),
                    ..VlanOptions::default()
                })),
                unknown: Vec::new(),
            }),
            ..Self::default()
        }
    }

    /// The VLAN options, if this is a VLAN device.
    pub fn vlan(&self) -> Option<&VlanOptions> {
        match self.info.as_ref().and_then(|i| i.data.as_ref()) {
            Some(LinkData::Vlan(v)) => Some(v),
            _ => None,
        }
    }

    /// The link kind (`IFLA_INFO_KIND`), if the kernel reported one.
    pub fn kind(&self) -> Option<&str> {
        self.info.as_ref().map(|i| i.kind.as_str())
    }

    /// Parses the payload of an `RTM_*LINK` message (after `struct nlmsghdr`).
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let h = payload
            .get(..IFINFOMSG_LEN)
            .ok_or(Error::Truncated("ifinfomsg"))?;
        let w = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let mut l = Self {
            link_type: u16::from_ne_bytes([h[2], h[3]]),
            ifindex: w(4) as i32,
            flags: w(8),
            change: w(12),
            ..Self::default()
        };
        for a in attrs_flagged(&payload[IFINFOMSG_LEN..]) {
            let (kind, v, full) = a?;
            match kind {
                IFLA_IFNAME => l.name = Some(str_of("IFLA_IFNAME", v)?),
                IFLA_LINK => l.lower = Some(i32_of("IFLA_LINK", v)?),
                IFLA_LINKINFO => l.info = Some(LinkInfo::parse(v)?),
                _ => l.unknown.push(unknown(full, v)),
            }
        }
        Ok(l)
    }

    /// A whole netlink message, sequence number `seq`, port id 0. Attributes go in
    /// iproute2's order: `IFLA_LINK`, `IFLA_IFNAME`, `IFLA_LINKINFO`, then the unknown ones.
    pub fn to_message(&self, msg_type: u16, flags: u16, seq: u32) -> Result<Vec<u8>> {
        let mut w = Writer::default();
        w.buf.resize(NLMSG_HDRLEN, 0);
        w.buf.extend_from_slice(&[0, 0]); // family AF_UNSPEC, padding
        w.buf.extend_from_slice(&self.link_type.to_ne_bytes());
        w.buf.extend_from_slice(&self.ifindex.to_ne_bytes());
        w.buf.extend_from_slice(&self.flags.to_ne_bytes());
        w.buf.extend_from_slice(&self.change.to_ne_bytes());
        if let Some(l) = self.lower {
            w.put(IFLA_LINK, &l.to_ne_bytes())?;
        }
        if let Some(n) = &self.name {
            let mut v = n.as_bytes().to_vec();
            v.push(0);
            w.put(IFLA_IFNAME, &v)?;
        }
        if let Some(i) = &self.info {
            let at = w.begin(IFLA_LINKINFO, false);
            i.emit(&mut w)?;
            w.end(at)?;
        }
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        let len = u32::try_from(w.buf.len()).map_err(|_| Error::TooLarge)?;
        w.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        w.buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        w.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        w.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        Ok(w.buf)
    }

    /// `ip link add`: create, failing if the name exists (`NLM_F_CREATE | NLM_F_EXCL`).
    pub fn create_message(&self, seq: u32) -> Result<Vec<u8>> {
        self.to_message(
            RTM_NEWLINK,
            nlm::REQUEST | nlm::ACK | nlm::EXCL | nlm::CREATE,
            seq,
        )
    }

    /// `ip link set`: change an existing link (by `ifindex`).
    pub fn change_message(&self, seq: u32) -> Result<Vec<u8>> {
        self.to_message(RTM_NEWLINK, nlm::REQUEST | nlm::ACK, seq)
    }

    /// `ip link del dev IFINDEX`.
    pub fn delete_message(ifindex: i32, seq: u32) -> Result<Vec<u8>> {
        Self {
            ifindex,
            ..Self::default()
        }
        .to_message(RTM_DELLINK, nlm::REQUEST | nlm::ACK, seq)
    }

    /// `RTM_GETLINK` for one interface.
    pub fn get_message(ifindex: i32, seq: u32) -> Result<Vec<u8>> {
        Self {
            ifindex,
            ..Self::default()
        }
        .to_message(RTM_GETLINK, nlm::REQUEST, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_a_vlan_message_parses_or_errs() {
        let l = Link::new_vlan(
            3,
            "eth0.5",
            5,
            (0..8).map(|p| QosMapping { from: p, to: p }).collect(),
            true,
        );
        let msg = l.create_message(1).unwrap();
        assert_eq!(Link::parse(&msg[NLMSG_HDRLEN..]).unwrap(), l);
        for n in 0..msg.len() {
            let _ = Link::parse(&msg[NLMSG_HDRLEN..n.max(NLMSG_HDRLEN)]);
        }
        assert_eq!(
            l.vlan().unwrap().egress_pcp(),
            [0, 1, 2, 3, 4, 5, 6, 7],
            "egress map read back"
        );
    }
}
