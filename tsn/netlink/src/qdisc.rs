//! A qdisc as rtnetlink carries it: `struct tcmsg`, `TCA_KIND`, `TCA_OPTIONS` (dispatched on
//! the kind) and any other attribute kept raw.

use crate::etf::{CbsOptions, EtfOptions};
use crate::mqprio::MqprioOptions;
use crate::nla::{UnknownAttr, Writer, attrs_flagged, str_of, unknown};
use crate::taprio::TaprioOptions;
use crate::{Error, Result};

/// `RTM_NEWQDISC`.
pub const RTM_NEWQDISC: u16 = 36;
/// `RTM_DELQDISC`.
pub const RTM_DELQDISC: u16 = 37;
/// `RTM_GETQDISC`.
pub const RTM_GETQDISC: u16 = 38;

/// `NLM_F_*` request flags.
pub mod nlm {
    /// `NLM_F_REQUEST`.
    pub const REQUEST: u16 = 0x1;
    /// `NLM_F_MULTI`.
    pub const MULTI: u16 = 0x2;
    /// `NLM_F_ACK`.
    pub const ACK: u16 = 0x4;
    /// `NLM_F_REPLACE`.
    pub const REPLACE: u16 = 0x100;
    /// `NLM_F_EXCL`.
    pub const EXCL: u16 = 0x200;
    /// `NLM_F_CREATE`.
    pub const CREATE: u16 = 0x400;
    /// `NLM_F_DUMP`.
    pub const DUMP: u16 = 0x300;
}

/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xffff_ffff;
/// `NLMSG_HDRLEN`.
pub const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct tcmsg)`.
pub const TCMSG_LEN: usize = 20;

const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;

/// `major:minor` as `tc` prints it (`100:`, `100:1`, `root`).
pub fn handle_to_string(h: u32) -> String {
    if h == TC_H_ROOT {
        return "root".into();
    }
    let (major, minor) = (h >> 16, h & 0xffff);
    if minor == 0 {
        format!("{major:x}:")
    } else {
        format!("{major:x}:{minor:x}")
    }
}

/// `major:minor` from hex numbers.
pub const fn handle(major: u16, minor: u16) -> u32 {
    ((major as u32) << 16) | minor as u32
}

/// Options of the qdisc kinds this crate knows; the rest stays raw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QdiscOptions {
    /// `taprio`.
    Taprio(TaprioOptions),
    /// `mqprio`.
    Mqprio(MqprioOptions),
    /// `etf`.
    Etf(EtfOptions),
    /// `cbs`.
    Cbs(CbsOptions),
    /// Any other kind: the value of `TCA_OPTIONS` as it came.
    Other(Vec<u8>),
}

impl QdiscOptions {
    /// Parses `TCA_OPTIONS` of a `kind` qdisc.
    pub fn parse(kind: &str, value: &[u8]) -> Result<Self> {
        Ok(match kind {
            "taprio" => Self::Taprio(TaprioOptions::parse(value)?),
            "mqprio" => Self::Mqprio(MqprioOptions::parse(value)?),
            "etf" => Self::Etf(EtfOptions::parse(value)?),
            "cbs" => Self::Cbs(CbsOptions::parse(value)?),
            _ => Self::Other(value.to_vec()),
        })
    }

    fn emit(&self, w: &mut Writer) -> Result<()> {
        match self {
            Self::Taprio(o) => o.emit(w),
            Self::Mqprio(o) => o.emit(w),
            Self::Etf(o) => o.emit(w),
            Self::Cbs(o) => o.emit(w),
            Self::Other(v) => {
                w.buf.extend_from_slice(v);
                Ok(())
            }
        }
    }
}

/// One qdisc: header fields, kind, options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qdisc {
    /// Interface index.
    pub ifindex: i32,
    /// Handle (`major << 16`).
    pub handle: u32,
    /// Parent class or [`TC_H_ROOT`].
    pub parent: u32,
    /// `tcm_info` (the reference count in dumps).
    pub info: u32,
    /// `TCA_KIND`.
    pub kind: String,
    /// `TCA_OPTIONS`.
    pub options: Option<QdiscOptions>,
    /// Other attributes (statistics in dumps), kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl Qdisc {
    /// A qdisc of `kind` on `ifindex` under `parent`.
    pub fn new(ifindex: i32, parent: u32, handle: u32, options: QdiscOptions) -> Self {
        let kind = match &options {
            QdiscOptions::Taprio(_) => "taprio",
            QdiscOptions::Mqprio(_) => "mqprio",
            QdiscOptions::Etf(_) => "etf",
            QdiscOptions::Cbs(_) => "cbs",
            QdiscOptions::Other(_) => "",
        };
        Self {
            ifindex,
            handle,
            parent,
            info: 0,
            kind: kind.into(),
            options: Some(options),
            unknown: Vec::new(),
        }
    }

    /// Parses the payload of an `RTM_*QDISC` message (after `struct nlmsghdr`).
    pub fn parse(payload: &[u8]) -> Result<Self> {
        if payload.len() < TCMSG_LEN {
            return Err(Error::Truncated("tcmsg"));
        }
        let w = |i: usize| {
            u32::from_ne_bytes([payload[i], payload[i + 1], payload[i + 2], payload[i + 3]])
        };
        let mut q = Self {
            ifindex: w(4) as i32,
            handle: w(8),
            parent: w(12),
            info: w(16),
            kind: String::new(),
            options: None,
            unknown: Vec::new(),
        };
        let mut options = None;
        for a in attrs_flagged(&payload[TCMSG_LEN..]) {
            let (kind, v, full) = a?;
            match kind {
                TCA_KIND => q.kind = str_of("TCA_KIND", v)?,
                TCA_OPTIONS => options = Some(v),
                _ => q.unknown.push(unknown(full, v)),
            }
        }
        if let Some(v) = options {
            q.options = Some(QdiscOptions::parse(&q.kind, v)?);
        }
        Ok(q)
    }

    /// A whole netlink message (`nlmsghdr`, `tcmsg`, attributes), sequence number `seq`,
    /// port id 0. Statistics and other unknown attributes are not sent.
    pub fn to_message(&self, msg_type: u16, flags: u16, seq: u32) -> Result<Vec<u8>> {
        let mut w = Writer::default();
        w.buf.resize(NLMSG_HDRLEN, 0);
        w.buf.extend_from_slice(&[0, 0, 0, 0]); // family AF_UNSPEC, padding
        w.buf.extend_from_slice(&self.ifindex.to_ne_bytes());
        w.buf.extend_from_slice(&self.handle.to_ne_bytes());
        w.buf.extend_from_slice(&self.parent.to_ne_bytes());
        w.buf.extend_from_slice(&self.info.to_ne_bytes());
        if !self.kind.is_empty() {
            let mut k = self.kind.as_bytes().to_vec();
            k.push(0);
            w.put(TCA_KIND, &k)?;
        }
        if let Some(o) = &self.options {
            let at = w.begin(TCA_OPTIONS, false);
            o.emit(&mut w)?;
            w.end(at)?;
        }
        let len = u32::try_from(w.buf.len()).map_err(|_| Error::TooLarge)?;
        w.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        w.buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        w.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        w.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        Ok(w.buf)
    }

    /// `tc qdisc replace`: create or replace (`NLM_F_CREATE | NLM_F_REPLACE`), with an ack.
    pub fn replace_message(&self, seq: u32) -> Result<Vec<u8>> {
        self.to_message(
            RTM_NEWQDISC,
            nlm::REQUEST | nlm::ACK | nlm::REPLACE | nlm::CREATE,
            seq,
        )
    }

    /// `tc qdisc del`: only ifindex, parent and handle matter.
    pub fn delete_message(ifindex: i32, parent: u32, handle: u32, seq: u32) -> Result<Vec<u8>> {
        Self {
            ifindex,
            handle,
            parent,
            info: 0,
            kind: String::new(),
            options: None,
            unknown: Vec::new(),
        }
        .to_message(RTM_DELQDISC, nlm::REQUEST | nlm::ACK, seq)
    }

    /// The taprio options, if this is a taprio qdisc.
    pub fn taprio(&self) -> Option<&TaprioOptions> {
        match &self.options {
            Some(QdiscOptions::Taprio(t)) => Some(t),
            _ => None,
        }
    }
}
