//! Attribute plumbing shared by the qdisc codecs: a checked reader over
//! `netlink-packet-core`'s views and a writer that builds attributes in place.
//!
//! The writer exists because `netlink_packet_core::Nla::emit` casts lengths to `u16`
//! silently; a schedule with thousands of entries must fail loudly instead.

use netlink_packet_core::{NLA_F_NESTED, NLA_TYPE_MASK, NlasIterator};

use crate::{Error, Result};

pub(crate) const NLA_HDR: usize = 4;

pub(crate) const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// An attribute this crate does not interpret, kept with its flags so it round-trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAttr {
    /// Type including `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER`.
    pub kind: u16,
    /// Value without header or padding.
    pub value: Vec<u8>,
}

/// Every attribute of `buf` as `(type without flags, value, type with flags)`.
pub(crate) fn attrs_flagged(buf: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8], u16)>> {
    NlasIterator::new(buf).map(|r| {
        r.map(|nla| {
            let inner = nla.into_inner();
            let len = usize::from(u16::from_ne_bytes([inner[0], inner[1]]));
            let full = u16::from_ne_bytes([inner[2], inner[3]]);
            (full & NLA_TYPE_MASK, &inner[NLA_HDR..len], full)
        })
        .map_err(|e| Error::Malformed(format!("attribute list: {e}")))
    })
}

pub(crate) fn unknown(full: u16, value: &[u8]) -> UnknownAttr {
    UnknownAttr {
        kind: full,
        value: value.to_vec(),
    }
}

pub(crate) fn u8_of(what: &'static str, v: &[u8]) -> Result<u8> {
    v.first().copied().ok_or(Error::BadAttribute(what))
}
pub(crate) fn u16_of(what: &'static str, v: &[u8]) -> Result<u16> {
    let b: [u8; 2] = v
        .get(..2)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::BadAttribute(what))?;
    Ok(u16::from_ne_bytes(b))
}
pub(crate) fn u32_of(what: &'static str, v: &[u8]) -> Result<u32> {
    let b: [u8; 4] = v
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::BadAttribute(what))?;
    Ok(u32::from_ne_bytes(b))
}
pub(crate) fn i32_of(what: &'static str, v: &[u8]) -> Result<i32> {
    u32_of(what, v).map(|x| x as i32)
}
pub(crate) fn u64_of(what: &'static str, v: &[u8]) -> Result<u64> {
    let b: [u8; 8] = v
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::BadAttribute(what))?;
    Ok(u64::from_ne_bytes(b))
}
pub(crate) fn i64_of(what: &'static str, v: &[u8]) -> Result<i64> {
    u64_of(what, v).map(|x| x as i64)
}
pub(crate) fn str_of(what: &'static str, v: &[u8]) -> Result<String> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8(v[..end].to_vec()).map_err(|_| Error::BadAttribute(what))
}

/// Appends attributes to a message buffer, iproute2 style: `put` writes header, value and
/// padding; `begin`/`end` wrap a nest and patch its length.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn put(&mut self, kind: u16, value: &[u8]) -> Result<()> {
        let len = u16::try_from(NLA_HDR + value.len()).map_err(|_| Error::TooLarge)?;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        Ok(())
    }

    pub(crate) fn pad(&mut self) {
        self.buf.resize(align4(self.buf.len()), 0);
    }

    pub(crate) fn put_u8(&mut self, kind: u16, v: u8) -> Result<()> {
        self.put(kind, &[v])
    }
    pub(crate) fn put_u16(&mut self, kind: u16, v: u16) -> Result<()> {
        self.put(kind, &v.to_ne_bytes())
    }
    pub(crate) fn put_u32(&mut self, kind: u16, v: u32) -> Result<()> {
        self.put(kind, &v.to_ne_bytes())
    }
    pub(crate) fn put_u64(&mut self, kind: u16, v: u64) -> Result<()> {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Starts a nest; `nested` sets `NLA_F_NESTED` (iproute2 sets it on some nests only).
    pub(crate) fn begin(&mut self, kind: u16, nested: bool) -> usize {
        let at = self.buf.len();
        let kind = if nested { kind | NLA_F_NESTED } else { kind };
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        at
    }

    /// Closes the nest started at `at`; its length covers everything written since,
    /// padding included (as iproute2's `addattr_nest_end`).
    pub(crate) fn end(&mut self, at: usize) -> Result<()> {
        self.pad();
        let len = u16::try_from(self.buf.len() - at).map_err(|_| Error::TooLarge)?;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        Ok(())
    }

    pub(crate) fn put_unknown(&mut self, a: &UnknownAttr) -> Result<()> {
        self.put(a.kind, &a.value)
    }
}
