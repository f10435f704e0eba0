//! The etf (earliest txtime first) and cbs (credit-based shaper) qdiscs: one struct each.

use crate::nla::{UnknownAttr, Writer, attrs_flagged, unknown};
use crate::{Error, Result};

const TCA_ETF_PARMS: u16 = 1;
const TCA_CBS_PARMS: u16 = 1;

/// `TC_ETF_*` flags.
pub mod etf_flags {
    /// `TC_ETF_DEADLINE_MODE_ON`.
    pub const DEADLINE_MODE: u32 = 1 << 0;
    /// `TC_ETF_OFFLOAD_ON`.
    pub const OFFLOAD: u32 = 1 << 1;
    /// `TC_ETF_SKIP_SOCK_CHECK`.
    pub const SKIP_SOCK_CHECK: u32 = 1 << 2;
}

/// etf's `TCA_OPTIONS`: `TCA_ETF_PARMS` = `struct tc_etf_qopt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtfOptions {
    /// Nanoseconds before its txtime a frame is dequeued.
    pub delta_ns: i32,
    /// Clock of the txtimes (`CLOCK_TAI` = 11).
    pub clockid: i32,
    /// [`etf_flags`].
    pub flags: u32,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl EtfOptions {
    /// Parses the value of `TCA_OPTIONS`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let mut parms = None;
        let mut unknown_attrs = Vec::new();
        for a in attrs_flagged(buf) {
            let (kind, v, full) = a?;
            if kind == TCA_ETF_PARMS {
                if v.len() < 12 {
                    return Err(Error::Truncated("tc_etf_qopt"));
                }
                let f = |i: usize| u32::from_ne_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
                parms = Some((f(0) as i32, f(4) as i32, f(8)));
            } else {
                unknown_attrs.push(unknown(full, v));
            }
        }
        let (delta_ns, clockid, flags) = parms.ok_or(Error::Missing("TCA_ETF_PARMS"))?;
        Ok(Self {
            delta_ns,
            clockid,
            flags,
            unknown: unknown_attrs,
        })
    }

    pub(crate) fn emit(&self, w: &mut Writer) -> Result<()> {
        let mut v = Vec::with_capacity(12);
        v.extend_from_slice(&self.delta_ns.to_ne_bytes());
        v.extend_from_slice(&self.clockid.to_ne_bytes());
        v.extend_from_slice(&self.flags.to_ne_bytes());
        w.put(TCA_ETF_PARMS, &v)?;
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }
}

/// cbs's `TCA_OPTIONS`: `TCA_CBS_PARMS` = `struct tc_cbs_qopt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbsOptions {
    /// Hardware offload (0 or 1).
    pub offload: u8,
    /// Credit ceiling, bytes.
    pub hicredit: i32,
    /// Credit floor, bytes.
    pub locredit: i32,
    /// Kbit/s gained while waiting.
    pub idleslope: i32,
    /// Kbit/s spent while sending (negative).
    pub sendslope: i32,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl CbsOptions {
    /// Parses the value of `TCA_OPTIONS`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let mut parms = None;
        let mut unknown_attrs = Vec::new();
        for a in attrs_flagged(buf) {
            let (kind, v, full) = a?;
            if kind == TCA_CBS_PARMS {
                if v.len() < 20 {
                    return Err(Error::Truncated("tc_cbs_qopt"));
                }
                let f = |i: usize| i32::from_ne_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
                parms = Some((v[0], f(4), f(8), f(12), f(16)));
            } else {
                unknown_attrs.push(unknown(full, v));
            }
        }
        let (offload, hicredit, locredit, idleslope, sendslope) =
            parms.ok_or(Error::Missing("TCA_CBS_PARMS"))?;
        Ok(Self {
            offload,
            hicredit,
            locredit,
            idleslope,
            sendslope,
            unknown: unknown_attrs,
        })
    }

    pub(crate) fn emit(&self, w: &mut Writer) -> Result<()> {
        let mut v = vec![self.offload, 0, 0, 0];
        for x in [self.hicredit, self.locredit, self.idleslope, self.sendslope] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        w.put(TCA_CBS_PARMS, &v)?;
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }
}
