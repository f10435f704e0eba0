//! The taprio qdisc (802.1Qbv): `TCA_TAPRIO_ATTR_*`.
//!
//! Emitted in the order iproute2's `tc/q_taprio.c` uses (clock id, flags, priority map,
//! txtime delay, base time, cycle time, cycle time extension, per-class entries, entry
//! list), with `NLA_F_NESTED` on the entry list and on each per-class entry but not on each
//! schedule entry, so requests are byte-identical to `tc`'s. Dumps carry the operational
//! schedule at the top level and a pending one in `TCA_TAPRIO_ATTR_ADMIN_SCHED`; both parse.

use crate::mqprio::MqprioQopt;
use crate::nla::{UnknownAttr, Writer, attrs_flagged, i32_of, i64_of, u8_of, u32_of, unknown};
use crate::{Error, Result};

const PRIOMAP: u16 = 1;
const SCHED_ENTRY_LIST: u16 = 2;
const SCHED_BASE_TIME: u16 = 3;
const SCHED_CLOCKID: u16 = 5;
const ADMIN_SCHED: u16 = 7;
const SCHED_CYCLE_TIME: u16 = 8;
const SCHED_CYCLE_TIME_EXTENSION: u16 = 9;
const FLAGS: u16 = 10;
const TXTIME_DELAY: u16 = 11;
const TC_ENTRY: u16 = 12;

const SCHED_ENTRY: u16 = 1;
const ENTRY_INDEX: u16 = 1;
const ENTRY_CMD: u16 = 2;
const ENTRY_GATE_MASK: u16 = 3;
const ENTRY_INTERVAL: u16 = 4;

const TC_ENTRY_INDEX: u16 = 1;
const TC_ENTRY_MAX_SDU: u16 = 2;
const TC_ENTRY_FP: u16 = 3;

/// `TCA_TAPRIO_ATTR_FLAG_*`.
pub mod flags {
    /// `TCA_TAPRIO_ATTR_FLAG_TXTIME_ASSIST`: software gates, txtime-based dequeue (etf
    /// children).
    pub const TXTIME_ASSIST: u32 = 1 << 0;
    /// `TCA_TAPRIO_ATTR_FLAG_FULL_OFFLOAD`: the NIC runs the gates.
    pub const FULL_OFFLOAD: u32 = 1 << 1;
}

/// `CLOCK_TAI`.
pub const CLOCK_TAI: i32 = 11;

/// A schedule entry command (`TC_TAPRIO_CMD_*`); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `S`: set the gates.
    SetGates,
    /// `H`: set and hold (frame preemption: preemptible MAC held).
    SetAndHold,
    /// `R`: set and release.
    SetAndRelease,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Command {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::SetGates,
            1 => Self::SetAndHold,
            2 => Self::SetAndRelease,
            x => Self::Unknown(x),
        }
    }
}

impl From<Command> for u8 {
    fn from(c: Command) -> Self {
        match c {
            Command::SetGates => 0,
            Command::SetAndHold => 1,
            Command::SetAndRelease => 2,
            Command::Unknown(x) => x,
        }
    }
}

impl Command {
    /// `tc`'s letter.
    pub fn letter(self) -> &'static str {
        match self {
            Self::SetGates => "S",
            Self::SetAndHold => "H",
            Self::SetAndRelease => "R",
            Self::Unknown(_) => "?",
        }
    }
}

/// One gate control list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedEntry {
    /// `TCA_TAPRIO_SCHED_ENTRY_INDEX` (dumps only; `tc` does not send it).
    pub index: Option<u32>,
    /// The command.
    pub cmd: Command,
    /// Bit N: traffic class N's gate open.
    pub gate_mask: u32,
    /// Duration in ns.
    pub interval_ns: u32,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

impl SchedEntry {
    /// A `SetGates` entry as `tc` sends it.
    pub fn set_gates(gate_mask: u32, interval_ns: u32) -> Self {
        Self {
            index: None,
            cmd: Command::SetGates,
            gate_mask,
            interval_ns,
            unknown: Vec::new(),
        }
    }
}

/// One `TCA_TAPRIO_ATTR_TC_ENTRY`: per traffic class parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcEntry {
    /// The traffic class.
    pub index: u32,
    /// Largest SDU in bytes admitted to the class (0: no limit).
    pub max_sdu: Option<u32>,
    /// Frame preemption status (1 express, 2 preemptible).
    pub fp: Option<u32>,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

/// A schedule: base time, cycle and entries (the top level, or `ADMIN_SCHED`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sched {
    /// Start of the first cycle, ns on the qdisc's clock.
    pub base_time: Option<i64>,
    /// Cycle length; the kernel uses the entries' sum when absent.
    pub cycle_time: Option<i64>,
    /// Cycle time extension.
    pub cycle_time_extension: Option<i64>,
    /// The entries.
    pub entries: Vec<SchedEntry>,
}

/// taprio's `TCA_OPTIONS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaprioOptions {
    /// Classes, map and queues (`TCA_TAPRIO_ATTR_PRIOMAP`).
    pub priomap: Option<MqprioQopt>,
    /// `TCA_TAPRIO_ATTR_SCHED_CLOCKID` (mandatory unless full offload).
    pub clockid: Option<i32>,
    /// [`flags`].
    pub flags: Option<u32>,
    /// `TCA_TAPRIO_ATTR_TXTIME_DELAY`, ns (txtime-assist mode).
    pub txtime_delay: Option<u32>,
    /// The schedule at the top level (on a dump: the operational one).
    pub sched: Sched,
    /// `TCA_TAPRIO_ATTR_ADMIN_SCHED` (dumps: the pending schedule).
    pub admin: Option<Sched>,
    /// Per-class entries.
    pub tc_entries: Vec<TcEntry>,
    /// Attributes kept as they came.
    pub unknown: Vec<UnknownAttr>,
}

fn parse_entry(buf: &[u8]) -> Result<SchedEntry> {
    let mut e = SchedEntry {
        index: None,
        cmd: Command::SetGates,
        gate_mask: 0,
        interval_ns: 0,
        unknown: Vec::new(),
    };
    let (mut have_mask, mut have_interval) = (false, false);
    for a in attrs_flagged(buf) {
        let (kind, v, full) = a?;
        match kind {
            ENTRY_INDEX => e.index = Some(u32_of("TCA_TAPRIO_SCHED_ENTRY_INDEX", v)?),
            ENTRY_CMD => e.cmd = u8_of("TCA_TAPRIO_SCHED_ENTRY_CMD", v)?.into(),
            ENTRY_GATE_MASK => {
                e.gate_mask = u32_of("TCA_TAPRIO_SCHED_ENTRY_GATE_MASK", v)?;
                have_mask = true;
            }
            ENTRY_INTERVAL => {
                e.interval_ns = u32_of("TCA_TAPRIO_SCHED_ENTRY_INTERVAL", v)?;
                have_interval = true;
            }
            _ => e.unknown.push(unknown(full, v)),
        }
    }
    if !have_mask {
        return Err(Error::Missing("TCA_TAPRIO_SCHED_ENTRY_GATE_MASK"));
    }
    if !have_interval {
        return Err(Error::Missing("TCA_TAPRIO_SCHED_ENTRY_INTERVAL"));
    }
    Ok(e)
}

fn parse_tc_entry(buf: &[u8]) -> Result<TcEntry> {
    let mut t = TcEntry {
        index: u32::MAX,
        max_sdu: None,
        fp: None,
        unknown: Vec::new(),
    };
    for a in attrs_flagged(buf) {
        let (kind, v, full) = a?;
        match kind {
            TC_ENTRY_INDEX => t.index = u32_of("TCA_TAPRIO_TC_ENTRY_INDEX", v)?,
            TC_ENTRY_MAX_SDU => t.max_sdu = Some(u32_of("TCA_TAPRIO_TC_ENTRY_MAX_SDU", v)?),
            TC_ENTRY_FP => t.fp = Some(u32_of("TCA_TAPRIO_TC_ENTRY_FP", v)?),
            _ => t.unknown.push(unknown(full, v)),
        }
    }
    if t.index == u32::MAX {
        return Err(Error::Missing("TCA_TAPRIO_TC_ENTRY_INDEX"));
    }
    Ok(t)
}

/// Parses one schedule attribute into `s`; `false` if `kind` is not a schedule attribute.
fn parse_sched_attr(s: &mut Sched, kind: u16, v: &[u8]) -> Result<bool> {
    match kind {
        SCHED_BASE_TIME => s.base_time = Some(i64_of("TCA_TAPRIO_ATTR_SCHED_BASE_TIME", v)?),
        SCHED_CYCLE_TIME => s.cycle_time = Some(i64_of("TCA_TAPRIO_ATTR_SCHED_CYCLE_TIME", v)?),
        SCHED_CYCLE_TIME_EXTENSION => {
            s.cycle_time_extension = Some(i64_of("TCA_TAPRIO_ATTR_SCHED_CYCLE_TIME_EXTENSION", v)?);
        }
        SCHED_ENTRY_LIST => {
            for a in attrs_flagged(v) {
                let (k, ev, _) = a?;
                // The list holds only SCHED_ENTRY; anything else is skipped as the kernel does.
                if k == SCHED_ENTRY {
                    s.entries.push(parse_entry(ev)?);
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

impl TaprioOptions {
    /// Parses the value of `TCA_OPTIONS`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let mut o = Self::default();
        for a in attrs_flagged(buf) {
            let (kind, v, full) = a?;
            if parse_sched_attr(&mut o.sched, kind, v)? {
                continue;
            }
            match kind {
                PRIOMAP => o.priomap = Some(MqprioQopt::parse(v)?),
                SCHED_CLOCKID => o.clockid = Some(i32_of("TCA_TAPRIO_ATTR_SCHED_CLOCKID", v)?),
                FLAGS => o.flags = Some(u32_of("TCA_TAPRIO_ATTR_FLAGS", v)?),
                TXTIME_DELAY => o.txtime_delay = Some(u32_of("TCA_TAPRIO_ATTR_TXTIME_DELAY", v)?),
                ADMIN_SCHED => {
                    let mut s = Sched::default();
                    for a in attrs_flagged(v) {
                        let (k, sv, _) = a?;
                        parse_sched_attr(&mut s, k, sv)?;
                    }
                    o.admin = Some(s);
                }
                TC_ENTRY => o.tc_entries.push(parse_tc_entry(v)?),
                _ => o.unknown.push(unknown(full, v)),
            }
        }
        Ok(o)
    }

    /// The schedule that will run: the pending admin schedule if any, else the top level.
    pub fn effective_sched(&self) -> &Sched {
        self.admin.as_ref().unwrap_or(&self.sched)
    }

    /// The value of `TCA_OPTIONS` (see the module doc for the order). `ADMIN_SCHED` is a
    /// dump-only attribute and is not emitted.
    pub(crate) fn emit(&self, w: &mut Writer) -> Result<()> {
        if let Some(c) = self.clockid {
            w.put(SCHED_CLOCKID, &c.to_ne_bytes())?;
        }
        if let Some(f) = self.flags {
            w.put_u32(FLAGS, f)?;
        }
        if let Some(p) = &self.priomap {
            w.put(PRIOMAP, &p.to_bytes())?;
        }
        if let Some(d) = self.txtime_delay {
            w.put_u32(TXTIME_DELAY, d)?;
        }
        let s = &self.sched;
        if let Some(t) = s.base_time {
            w.put(SCHED_BASE_TIME, &t.to_ne_bytes())?;
        }
        if let Some(t) = s.cycle_time {
            w.put(SCHED_CYCLE_TIME, &t.to_ne_bytes())?;
        }
        if let Some(t) = s.cycle_time_extension {
            w.put(SCHED_CYCLE_TIME_EXTENSION, &t.to_ne_bytes())?;
        }
        for t in &self.tc_entries {
            let at = w.begin(TC_ENTRY, true);
            w.put_u32(TC_ENTRY_INDEX, t.index)?;
            if let Some(m) = t.max_sdu {
                w.put_u32(TC_ENTRY_MAX_SDU, m)?;
            }
            if let Some(fp) = t.fp {
                w.put_u32(TC_ENTRY_FP, fp)?;
            }
            for u in &t.unknown {
                w.put_unknown(u)?;
            }
            w.end(at)?;
        }
        if !s.entries.is_empty() {
            let list = w.begin(SCHED_ENTRY_LIST, true);
            for e in &s.entries {
                let at = w.begin(SCHED_ENTRY, false);
                if let Some(i) = e.index {
                    w.put_u32(ENTRY_INDEX, i)?;
                }
                w.put_u8(ENTRY_CMD, e.cmd.into())?;
                w.put_u32(ENTRY_GATE_MASK, e.gate_mask)?;
                w.put_u32(ENTRY_INTERVAL, e.interval_ns)?;
                for u in &e.unknown {
                    w.put_unknown(u)?;
                }
                w.end(at)?;
            }
            w.end(list)?;
        }
        for u in &self.unknown {
            w.put_unknown(u)?;
        }
        Ok(())
    }
}
