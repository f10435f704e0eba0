//! `struct tc_mqprio_qopt` (taprio's PRIOMAP, mqprio's option header) and the mqprio qdisc.

use crate::nla::{UnknownAttr, Writer, align4, attrs_flagged, u16_of, u64_of, unknown};
use crate::{Error, Result};

/// `TC_QOPT_MAX_QUEUE`: most traffic classes a device can have.
pub const MAX_TC: usize = 16;
/// `TC_QOPT_BITMASK + 1`: skb priorities mapped by the priority map.
pub const PRIORITIES: usize = 16;
/// `sizeof(struct tc_mqprio_qopt)`.
pub const QOPT_LEN: usize = 82;

/// `struct tc_mqprio_qopt`: traffic classes, priority -> class map and each class's queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqprioQopt {
    /// Number of traffic classes, 0..=16.
    pub num_tc: u8,
    /// skb priority -> traffic class.
    pub prio_tc_map: [u8; PRIORITIES],
    /// Hardware offload mode (mqprio `hw`); 0 for taprio.
    pub hw: u8,
    /// Per class: number of tx queues.
    pub count: [u16; MAX_TC],
    /// Per class: first tx queue.
    pub offset: [u16; MAX_TC],
}

impl MqprioQopt {
    /// A map with `queues[i] = (count, offset)` for class `i`; unused classes stay 0.
    pub fn new(prio_tc_map: [u8; PRIORITIES], queues: &[(u16, u16)]) -> Result<Self> {
        if queues.len() > MAX_TC {
            return Err(Error::Invalid(format!(
                "{} traffic classes, at most {MAX_TC}",
                queues.len()
            )));
        }
        let mut q = Self {
            num_tc: queues.len() as u8,
            prio_tc_map,
            hw: 0,
            count: [0; MAX_TC],
            offset: [0; MAX_TC],
        };
        for (i, &(c, o)) in queues.iter().enumerate() {
            q.count[i] = c;
            q.offset[i] = o;
        }
        Ok(q)
    }

    /// `(count, offset)` of each of the `num_tc` classes.
    pub fn queues(&self) -> Vec<(u16, u16)> {
        (0..usize::from(self.num_tc).min(MAX_TC))
            .map(|i| (self.count[i], self.offset[i]))
            .collect()
    }

    /// Parses the first [`QOPT_LEN`] bytes of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        if buf.len() < QOPT_LEN {
            return Err(Error::Truncated("tc_mqprio_qopt"));
        }
        let mut q = Self {
            num_tc: buf[0],
            prio_tc_map: [0; PRIORITIES],
            hw: buf[17],
            count: [0; MAX_TC],
            offset: [0; MAX_TC],
        };
        q.prio_tc_map.copy_from_slice(&buf[1..17]);
        for i in 0..MAX_TC {
            q.count[i] = u16::from_ne_bytes([buf[18 + 2 * i], buf[19 + 2 * i]]);
            q.offset[i] = u16::from_ne_bytes([buf[50 + 2 * i], buf[51 + 2 * i]]);
        }
        Ok(q)
    }

    /// The 82 bytes of the struct.
    pub fn to_bytes(&self) -> [u8; QOPT_LEN] {
        let mut b = [0u8; QOPT_LEN];
        b[0] = self.num_tc;
        b[1..17].copy_from_slice(&self.prio_tc_map);
        b[17] = self.hw;
        for i in 0..MAX_TC {
            b[18 + 2 * i..20 + 2 * i].copy_from_slice(&self.count[i].to_ne_bytes());
            b[50 + 2 * i..52 + 2 * i].copy_from_slice(&self.offset[i].to_ne_bytes());
        }
        b
    }
}

const TCA_MQPRIO_MODE: u16 = 1;
const TCA_MQPRIO_SHAPER: u16 = 2;
const TCA_MQPRIO_MIN_RATE64: u16 = 3;
const TCA_MQPRIO_MAX_RATE64: u16 = 4;

/// `TC_MQPRIO_MODE_*`.
pub mod mode {
    /// `TC_MQPRIO_MODE_DCB`.
    pub const DCB: u16 = 0;
    /// `TC_MQPRIO_MODE_CHANNEL`.
    pub const CHANNEL: u16 = 1;
}

/// mqprio's `TCA_OPTIONS`: a raw `tc_mqprio_qopt` (padded to 4 bytes) followed by attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqprioOptions {
    /// Classes, map and queues.
    pub qopt: MqprioQopt,
    /// `TCA_MQPRIO_MODE` ([`mode`]).
    pub mode: Option<u16>,
    /// `TCA_MQPRIO_SHAPER` (0 dcb, 1 bw_rlimit).
    pub shaper: Option<u16>,
    /// `TCA_MQPRIO_MIN_RATE64`, bytes/s per class.
    pub min_rate: Option<Vec<u64>>,
    /// `TCA_MQPRIO_MAX_RATE64`, bytes/s per class.
    pub max_rate: Option<Vec<u64>>,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl MqprioOptions {
    /// Plain software mqprio with this map.
    pub fn new(qopt: MqprioQopt) -> Self {
        Self {
            qopt,
            mode: None,
            shaper: None,
            min_rate: None,
            max_rate: None,
            unknown: Vec::new(),
        }
    }

    /// Parses the value of `TCA_OPTIONS`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let mut o = Self::new(MqprioQopt::parse(buf)?);
        let rest = buf.get(align4(QOPT_LEN)..).unwrap_or(&[]);
        for a in attrs_flagged(rest) {
            let (kind, v, full) = a?;
            match kind {
                TCA_MQPRIO_MODE => o.mode = Some(u16_of("TCA_MQPRIO_MODE", v)?),
                TCA_MQPRIO_SHAPER => o.shaper = Some(u16_of("TCA_MQPRIO_SHAPER", v)?),
                TCA_MQPRIO_MIN_RATE64 | TCA_MQPRIO_MAX_RATE64 => {
                    let mut rates = Vec::new();
                    for r in attrs_flagged(v) {
                        rates.push(u64_of("TCA_MQPRIO_*_RATE64", r?.1)?);
                    }
                    if kind == TCA_MQPRIO_MIN_RATE64 {
                        o.min_rate = Some(rates);
                    } else {
                        o.max_rate = Some(rates);
                    }
                }
                _ => o.unknown.push(unknown(full, v)),
            }
        }
        Ok(o)
    }

    /// The value of `TCA_OPTIONS`, in iproute2's order.
    pub(crate) fn emit(&self, w: &mut Writer) -> Result<()> {
        w.buf.extend_from_slice(&self.qopt.to_bytes());
        w.pad();
        if let Some(m) = self.mode {
            w.put_u16(TCA_MQPRIO_MODE, m)?;
        }
        if let Some(s) = self.shaper {
            w.put_u16(TCA_MQPRIO_SHAPER, s)?;
        }
        for (kind, rates) in [
            (TCA_MQPRIO_MIN_RATE64, &self.min_rate),
            (TCA_MQPRIO_MAX_RATE64, &self.max_rate),
        ] {
            if let Some(rates) = rates {
                let at = w.begin(kind, true);
                for &r in rates {
                    w.put_u64(kind, r)?;
                }
                w.end(at)?;
            }
        }
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }
}
