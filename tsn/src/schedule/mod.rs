//! The network-wide schedule: per stream and hop the transmission offset, per egress port the
//! gate control list. [`Schedule`] is also the JSON contract written by `tsn schedule` and
//! read by `tsn verify` (field names are part of the contract; add, never rename).
//!
//! # Time base
//!
//! Every talker's period `n` starts at `n * period_ns` on the network's common (gPTP) time
//! scale, and every gate control list starts its cycle at time 0 (taprio `base-time` a
//! multiple of the hyperperiod). A hop's `offset_ns` counts from the start of the period in
//! which the talker sends, so offsets of later hops may exceed the period; the hop transmits
//! at `offset_ns + n * period_ns` for every `n`.
//!
//! # Gate control lists
//!
//! Built by [`build_ports`] from the hops alone, so imported schedules get the same lists:
//! the port's cycle is the least common multiple of the periods of the streams it carries;
//! each transmission gets a window in which only its traffic class is open; before each
//! window a guard band (every gate closed) as long as the largest best-effort frame, cut
//! short where the gap to the previous window is shorter; elsewhere the best-effort classes
//! (those no scheduled stream uses on the port) are open. Adjacent equal entries are merged
//! and the durations sum to `cycle_ns` exactly.

mod exact;
mod gcl;
mod heuristic;
mod intervals;

use serde::{Deserialize, Serialize};

pub use self::exact::{ExactError, ExactOptions, ExactOutcome, ExactStatus, synthesize_exact};
pub use self::gcl::{build_gcl, build_ports};
pub use self::heuristic::{HeuristicOptions, synthesize, synthesize_with};

/// A schedule for a plant (see the module documentation for the time base).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Least common multiple of all stream periods (informative; 0 when absent from an
    /// imported file).
    #[serde(default)]
    pub hyperperiod_ns: u64,
    /// Scheduled streams.
    pub streams: Vec<ScheduledStream>,
    /// One gate control list per egress port that carries scheduled traffic.
    pub ports: Vec<PortSchedule>,
    /// Streams that could not be scheduled, each with the reason.
    #[serde(default)]
    pub unscheduled: Vec<Unscheduled>,
}

/// One scheduled stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledStream {
    /// The stream's name in the plant.
    pub name: String,
    /// Period.
    pub period_ns: u64,
    /// Maximum end-to-end latency (the plant's `max-latency`).
    pub deadline_ns: u64,
    /// From the start of the first transmission to the end of reception at the last
    /// listener.
    pub latency_ns: u64,
    /// Every transmission of one frame: one per egress port of the stream's tree, parents
    /// before children.
    pub hops: Vec<Hop>,
}

/// One transmission of a stream's frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The transmitting node.
    pub node: String,
    /// The neighbour the egress port leads to.
    pub to: String,
    /// Start of transmission from the start of the talker's period.
    pub offset_ns: u64,
    /// Transmission time (frame, preamble and inter-frame gap).
    pub duration_ns: u64,
    /// Traffic class at this port.
    pub traffic_class: u8,
}

/// The gate control list of one egress port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSchedule {
    /// The transmitting node.
    pub node: String,
    /// The neighbour.
    pub to: String,
    /// Cycle of the list; the entries' durations sum to it.
    pub cycle_ns: u64,
    /// Gate control list.
    pub gcl: Vec<GclEntry>,
}

/// One gate control list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GclEntry {
    /// Bit N set: traffic class N's gate is open.
    pub gate_mask: u8,
    /// How long the entry lasts.
    pub duration_ns: u64,
}

/// A stream left out of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unscheduled {
    /// The stream's name.
    pub name: String,
    /// Why it could not be scheduled.
    pub reason: String,
}

impl Schedule {
    /// The stream called `name`.
    pub fn stream(&self, name: &str) -> Option<&ScheduledStream> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// Mutable access to the stream called `name`.
    pub fn stream_mut(&mut self, name: &str) -> Option<&mut ScheduledStream> {
        self.streams.iter_mut().find(|s| s.name == name)
    }

    /// The gate control list of the port `node -> to`.
    pub fn port(&self, node: &str, to: &str) -> Option<&PortSchedule> {
        self.ports.iter().find(|p| p.node == node && p.to == to)
    }
}

/// Which synthesis `tsn schedule` runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// [`synthesize`]: fast, scales to tens of thousands of streams.
    #[default]
    Heuristic,
    /// [`synthesize_exact`]: an ILP for small instances; places all streams or proves that
    /// it cannot.
    Exact,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "heuristic" => Ok(Self::Heuristic),
            "exact" => Ok(Self::Exact),
            _ => Err(format!("unknown mode {s:?} (heuristic or exact)")),
        }
    }
}

/// Runs the synthesis `mode` on `plant`; for exact mode also a one-line note on how the
/// solver ended. `time_limit` applies to exact mode only.
pub fn synthesize_mode(
    plant: &crate::Plant,
    mode: Mode,
    time_limit: Option<std::time::Duration>,
) -> Result<(Schedule, Option<String>), ExactError> {
    match mode {
        Mode::Heuristic => Ok((synthesize(plant), None)),
        Mode::Exact => {
            let outcome = synthesize_exact(
                plant,
                ExactOptions {
                    time_limit,
                    ..ExactOptions::default()
                },
            )?;
            let status = match outcome.status {
                ExactStatus::Optimal => "optimal (minimal total latency)",
                ExactStatus::Feasible => "feasible (time limit reached before optimality)",
                ExactStatus::Infeasible => "proven infeasible",
                ExactStatus::TimedOut => "time limit reached, no schedule found",
            };
            let note = format!(
                "exact mode: {status}; {} order variables",
                outcome.order_variables
            );
            Ok((outcome.schedule, Some(note)))
        }
    }
}
