//! The independent verifier: checks any [`Schedule`] (ours or imported) against a [`Plant`].
//!
//! It uses only the plant model and the schedule as written; nothing of the synthesis
//! code's bookkeeping. Checks:
//!
//! - **streams**: every plant stream is scheduled or listed as unscheduled, exactly once;
//!   periods and deadlines match the plant;
//! - **hops**: each hop is a link of the plant; the hops form a tree rooted at the talker
//!   through bridges only and reach every listener; traffic class as the port maps the
//!   stream's priority; duration at least the frame's transmission time;
//! - **causality**: a hop starts no earlier than the previous hop's end + propagation +
//!   processing;
//! - **latency**: `latency_ns` as stated, and within the deadline at every listener;
//! - **gate control lists**: every port with transmissions has one, its durations sum to
//!   its cycle, which divides the hyperperiod, no zero-length entries;
//! - **collisions**: no two transmissions on a port overlap anywhere in the hyperperiod;
//! - **windows**: each transmission's class gate is open throughout it;
//! - **guard bands**: no best-effort class (one no scheduled stream uses on the port) is open
//!   less than one maximum best-effort frame time before a transmission starts;
//! - **replay**: each egress port is simulated frame by frame (one FIFO queue per traffic
//!   class, gates from the list, a frame starts only if it completes before its gate closes,
//!   strict priority among open classes; a hop's frame is enqueued at its scheduled
//!   predecessor's end + propagation + processing, or at its offset on the talker); in the
//!   periodic steady state every frame must leave exactly at its scheduled offset. Two frames
//!   entering one queue at the same nanosecond are reported too: their order is undefined.
//!
//! Every problem is a [`Violation`] naming stream, hop, port and times; one report per
//! (stream, hop) and kind, for the first instance found.

mod gates;
mod replay;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use self::gates::Gates;
use crate::plant::{NodeKind, Plant, PortId};
use crate::schedule::Schedule;

/// One problem found in a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Violation {
    /// The schedule names a stream the plant does not have.
    UnknownStream {
        /// The name.
        stream: String,
    },
    /// A stream appears more than once (scheduled and/or unscheduled).
    DuplicateStream {
        /// The name.
        stream: String,
    },
    /// A plant stream is neither scheduled nor reported unscheduled.
    MissingStream {
        /// The name.
        stream: String,
    },
    /// `period_ns` or `deadline_ns` differs from the plant.
    StreamMismatch {
        /// The stream.
        stream: String,
        /// The JSON field.
        field: String,
        /// The plant's value.
        expected: u64,
        /// The schedule's value.
        found: u64,
    },
    /// A hop that is not part of a valid tree over the plant's links.
    BadHop {
        /// The stream.
        stream: String,
        /// Index in the stream's `hops`.
        hop: usize,
        /// The transmitting node.
        node: String,
        /// The neighbour.
        to: String,
        /// What is wrong.
        problem: String,
    },
    /// No hop delivers the stream to one of its listeners.
    ListenerNotReached {
        /// The stream.
        stream: String,
        /// The listener.
        listener: String,
    },
    /// The hop's traffic class is not the port's class for the stream's priority.
    WrongTrafficClass {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// The plant's class.
        expected: u8,
        /// The schedule's class.
        found: u8,
    },
    /// The hop is shorter than the frame's transmission time.
    DurationTooShort {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Transmission time of the frame on this link.
        required_ns: u64,
        /// The schedule's duration.
        found_ns: u64,
    },
    /// A hop starts before its frame has arrived and been processed.
    Causality {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Earliest possible start: previous hop end + propagation + processing.
        ready_ns: u64,
        /// The scheduled start.
        offset_ns: u64,
    },
    /// `latency_ns` is not what the hops give.
    LatencyMismatch {
        /// The stream.
        stream: String,
        /// The schedule's value.
        stated_ns: u64,
        /// Computed from the hops.
        actual_ns: u64,
    },
    /// A listener receives the frame after the deadline.
    DeadlineMiss {
        /// The stream.
        stream: String,
        /// The listener.
        listener: String,
        /// First transmission start to end of reception at this listener.
        latency_ns: u64,
        /// The plant's max-latency.
        deadline_ns: u64,
    },
    /// Two transmissions overlap on a port.
    Overlap {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// First stream.
        stream: String,
        /// Its hop.
        hop: usize,
        /// Second stream.
        other_stream: String,
        /// Its hop.
        other_hop: usize,
        /// A time within the hyperperiod at which both transmit.
        at_ns: u64,
    },
    /// A port carries transmissions but has no gate control list.
    MissingPortSchedule {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
    },
    /// A gate control list for a port the plant does not have, or a second one for a port.
    BadPortSchedule {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// What is wrong.
        problem: String,
    },
    /// The list's durations do not sum to its cycle (or the list is empty).
    GclSum {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// The stated cycle.
        cycle_ns: u64,
        /// The sum of the entries.
        sum_ns: u64,
    },
    /// An entry lasts 0 ns (taprio rejects those).
    GclZeroEntry {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Entry index.
        entry: usize,
    },
    /// The cycle does not divide the hyperperiod.
    CycleMismatch {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// The stated cycle.
        cycle_ns: u64,
        /// The plant's hyperperiod.
        hyperperiod_ns: u64,
    },
    /// The hop's traffic class gate is closed during (part of) its transmission.
    GateClosed {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Start of the transmission instance, within the hyperperiod.
        start_ns: u64,
        /// When the gate is closed.
        closed_at_ns: u64,
    },
    /// A best-effort gate is open too close before a transmission.
    MissingGuardBand {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Start of the transmission instance, within the hyperperiod.
        start_ns: u64,
        /// A time at which a best-effort frame could start and overrun it.
        best_effort_open_at_ns: u64,
        /// The required guard band.
        guard_ns: u64,
    },
    /// Two frames enter one traffic class queue at the same nanosecond: their order is
    /// undefined.
    SimultaneousArrival {
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// The class.
        traffic_class: u8,
        /// First stream.
        stream: String,
        /// Its hop.
        hop: usize,
        /// Second stream.
        other_stream: String,
        /// Its hop.
        other_hop: usize,
        /// The arrival time within the hyperperiod.
        at_ns: i64,
    },
    /// In the replay a frame leaves at another time than scheduled (queue order, gate
    /// states or a busy transmitter), or never.
    Departure {
        /// The stream.
        stream: String,
        /// Hop index.
        hop: usize,
        /// Node.
        node: String,
        /// Neighbour.
        to: String,
        /// Scheduled start, within the steady-state hyperperiod.
        scheduled_ns: i64,
        /// Replayed start on the same time base; `None` if it never left.
        actual_ns: Option<i64>,
        /// How many instances in the hyperperiod deviate.
        instances: u64,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownStream { stream } => write!(f, "stream {stream}: not in the plant"),
            Self::DuplicateStream { stream } => write!(f, "stream {stream}: listed more than once"),
            Self::MissingStream { stream } => {
                write!(
                    f,
                    "stream {stream}: neither scheduled nor reported unscheduled"
                )
            }
            Self::StreamMismatch {
                stream,
                field,
                expected,
                found,
            } => write!(
                f,
                "stream {stream}: {field} is {found}, the plant says {expected}"
            ),
            Self::BadHop {
                stream,
                hop,
                node,
                to,
                problem,
            } => write!(f, "stream {stream} hop {hop} ({node}->{to}): {problem}"),
            Self::ListenerNotReached { stream, listener } => {
                write!(f, "stream {stream}: listener {listener} is not reached")
            }
            Self::WrongTrafficClass {
                stream,
                hop,
                node,
                to,
                expected,
                found,
            } => write!(
                f,
                "stream {stream} hop {hop} ({node}->{to}): traffic class {found}, the port maps \
                 the stream's priority to {expected}"
            ),
            Self::DurationTooShort {
                stream,
                hop,
                node,
                to,
                required_ns,
                found_ns,
            } => write!(
                f,
                "stream {stream} hop {hop} ({node}->{to}): duration {found_ns} ns, the frame \
                 needs {required_ns} ns"
            ),
            Self::Causality {
                stream,
                hop,
                node,
                to,
                ready_ns,
                offset_ns,
            } => write!(
                f,
                "stream {stream} hop {hop} ({node}->{to}): starts at {offset_ns} ns but the \
                 frame is only ready at {ready_ns} ns"
            ),
            Self::LatencyMismatch {
                stream,
                stated_ns,
                actual_ns,
            } => write!(
                f,
                "stream {stream}: latency_ns says {stated_ns} ns, the hops give {actual_ns} ns"
            ),
            Self::DeadlineMiss {
                stream,
                listener,
                latency_ns,
                deadline_ns,
            } => write!(
                f,
                "stream {stream}: reaches {listener} after {latency_ns} ns, deadline \
                 {deadline_ns} ns"
            ),
            Self::Overlap {
                node,
                to,
                stream,
                hop,
                other_stream,
                other_hop,
                at_ns,
            } => write!(
                f,
                "port {node}->{to}: stream {stream} hop {hop} and stream {other_stream} hop \
                 {other_hop} both transmit at {at_ns} ns"
            ),
            Self::MissingPortSchedule { node, to } => {
                write!(
                    f,
                    "port {node}->{to}: carries transmissions but has no gate control list"
                )
            }
            Self::BadPortSchedule { node, to, problem } => {
                write!(f, "port {node}->{to}: {problem}")
            }
            Self::GclSum {
                node,
                to,
                cycle_ns,
                sum_ns,
            } => write!(
                f,
                "port {node}->{to}: gate control list sums to {sum_ns} ns, cycle is {cycle_ns} ns"
            ),
            Self::GclZeroEntry { node, to, entry } => {
                write!(
                    f,
                    "port {node}->{to}: gate control list entry {entry} lasts 0 ns"
                )
            }
            Self::CycleMismatch {
                node,
                to,
                cycle_ns,
                hyperperiod_ns,
            } => write!(
                f,
                "port {node}->{to}: cycle {cycle_ns} ns does not divide the hyperperiod \
                 {hyperperiod_ns} ns"
            ),
            Self::GateClosed {
                stream,
                hop,
                node,
                to,
                start_ns,
                closed_at_ns,
            } => write!(
                f,
                "stream {stream} hop {hop} ({node}->{to}): transmission at {start_ns} ns but its \
                 gate is closed at {closed_at_ns} ns"
            ),
            Self::MissingGuardBand {
                stream,
                hop,
                node,
                to,
                start_ns,
                best_effort_open_at_ns,
                guard_ns,
            } => write!(
                f,
                "stream {stream} hop {hop} ({node}->{to}): transmission at {start_ns} ns but a \
                 best-effort gate is open at {best_effort_open_at_ns} ns, within the {guard_ns} \
                 ns guard band"
            ),
            Self::SimultaneousArrival {
                node,
                to,
                traffic_class,
                stream,
                hop,
                other_stream,
                other_hop,
                at_ns,
            } => write!(
                f,
                "port {node}->{to}: stream {stream} hop {hop} and stream {other_stream} hop \
                 {other_hop} enter traffic class {traffic_class}'s queue at the same time \
                 {at_ns} ns (order undefined)"
            ),
            Self::Departure {
                stream,
                hop,
                node,
                to,
                scheduled_ns,
                actual_ns,
                instances,
            } => {
                write!(
                    f,
                    "stream {stream} hop {hop} ({node}->{to}): replay: scheduled at \
                     {scheduled_ns} ns, "
                )?;
                match actual_ns {
                    Some(a) => write!(f, "left at {a} ns")?,
                    None => write!(f, "never left")?,
                }
                write!(f, " ({instances} instance(s) per hyperperiod)")
            }
        }
    }
}

impl Violation {
    /// The kind as in the JSON form (`"overlap"`, `"departure"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownStream { .. } => "unknown-stream",
            Self::DuplicateStream { .. } => "duplicate-stream",
            Self::MissingStream { .. } => "missing-stream",
            Self::StreamMismatch { .. } => "stream-mismatch",
            Self::BadHop { .. } => "bad-hop",
            Self::ListenerNotReached { .. } => "listener-not-reached",
            Self::WrongTrafficClass { .. } => "wrong-traffic-class",
            Self::DurationTooShort { .. } => "duration-too-short",
            Self::Causality { .. } => "causality",
            Self::LatencyMismatch { .. } => "latency-mismatch",
            Self::DeadlineMiss { .. } => "deadline-miss",
            Self::Overlap { .. } => "overlap",
            Self::MissingPortSchedule { .. } => "missing-port-schedule",
            Self::BadPortSchedule { .. } => "bad-port-schedule",
            Self::GclSum { .. } => "gcl-sum",
            Self::GclZeroEntry { .. } => "gcl-zero-entry",
            Self::CycleMismatch { .. } => "cycle-mismatch",
            Self::GateClosed { .. } => "gate-closed",
            Self::MissingGuardBand { .. } => "missing-guard-band",
            Self::SimultaneousArrival { .. } => "simultaneous-arrival",
            Self::Departure { .. } => "departure",
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every violation found.
    pub violations: Vec<Violation>,
    /// Streams the schedule schedules.
    pub scheduled: usize,
    /// Streams it reports as unscheduled.
    pub unscheduled: usize,
}

impl Report {
    /// No violations (unscheduled streams are not violations).
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// One transmission on a port, as the verifier sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// Index into `schedule.streams`.
    pub(crate) stream: usize,
    pub(crate) hop: usize,
    pub(crate) offset: u64,
    pub(crate) duration: u64,
    pub(crate) period: u64,
    pub(crate) tc: u8,
    /// When the frame enters the queue, in the same time base as `offset`.
    pub(crate) arrival: u64,
}

/// Checks `schedule` against `plant`; see the module documentation.
pub fn verify(plant: &Plant, schedule: &Schedule) -> Report {
    let mut v = Vec::new();
    let names = |p: PortId| {
        let port = &plant.ports[p];
        (
            plant.nodes[port.node].name.clone(),
            plant.nodes[port.to].name.clone(),
        )
    };

    // Streams: known, once, matching.
    let mut seen: HashSet<&str> = HashSet::new();
    for name in schedule
        .streams
        .iter()
        .map(|s| s.name.as_str())
        .chain(schedule.unscheduled.iter().map(|u| u.name.as_str()))
    {
        if plant.stream_id(name).is_none() {
            v.push(Violation::UnknownStream {
                stream: name.to_owned(),
            });
        } else if !seen.insert(name) {
            v.push(Violation::DuplicateStream {
                stream: name.to_owned(),
            });
        }
    }
    for s in &plant.streams {
        if !seen.contains(s.name.as_str()) {
            v.push(Violation::MissingStream {
                stream: s.name.clone(),
            });
        }
    }

    // Hops: tree, classes, durations, causality, latency.
    let mut frames: BTreeMap<PortId, Vec<Frame>> = BTreeMap::new();
    for (si, s) in schedule.streams.iter().enumerate() {
        let Some(pid) = plant.stream_id(&s.name) else {
            continue;
        };
        let ps = &plant.streams[pid];
        for (field, expected, found) in [
            ("period_ns", ps.period_ns, s.period_ns),
            ("deadline_ns", ps.max_latency_ns, s.deadline_ns),
        ] {
            if expected != found {
                v.push(Violation::StreamMismatch {
                    stream: s.name.clone(),
                    field: field.to_owned(),
                    expected,
                    found,
                });
            }
        }
        let bad = |hop: usize, problem: String| Violation::BadHop {
            stream: s.name.clone(),
            hop,
            node: s.hops[hop].node.clone(),
            to: s.hops[hop].to.clone(),
            problem,
        };
        // Resolve ports.
        let mut ports: Vec<Option<PortId>> = Vec::with_capacity(s.hops.len());
        let mut used: HashSet<PortId> = HashSet::new();
        for (h, hop) in s.hops.iter().enumerate() {
            let port = match (plant.node_id(&hop.node), plant.node_id(&hop.to)) {
                (Some(a), Some(b)) => plant.port_id(a, b),
                _ => None,
            };
            match port {
                None => {
                    v.push(bad(h, "the plant has no such link".into()));
                    ports.push(None);
                }
                Some(p) if !used.insert(p) => {
                    v.push(bad(h, "the port transmits this stream twice".into()));
                    ports.push(None);
                }
                // Offsets count from the talker's period start: the talker sends within its
                // period and nothing can still be on its way after the deadline. Checking
                // this first keeps the arithmetic and the replay bounded for any input.
                Some(p) if plant.ports[p].node == ps.talker && hop.offset_ns >= ps.period_ns => {
                    v.push(bad(
                        h,
                        format!(
                            "the talker's offset must be below the period of {} ns",
                            ps.period_ns
                        ),
                    ));
                    ports.push(None);
                }
                Some(_)
                    if hop.offset_ns >= ps.period_ns.saturating_add(ps.max_latency_ns)
                        || hop.duration_ns > ps.period_ns =>
                {
                    v.push(bad(
                        h,
                        "offset beyond period + deadline, or duration longer than the period"
                            .into(),
                    ));
                    ports.push(None);
                }
                Some(p) => ports.push(Some(p)),
            }
        }
        // Parents: the hop delivering to this hop's node.
        let mut into: HashMap<usize, Vec<usize>> = HashMap::new(); // node -> hops delivering
        for (h, p) in ports.iter().enumerate() {
            if let Some(p) = p {
                into.entry(plant.ports[*p].to).or_default().push(h);
            }
        }
        let mut parent: Vec<Option<usize>> = vec![None; s.hops.len()];
        let mut tree_ok = vec![false; s.hops.len()];
        for (h, p) in ports.iter().enumerate() {
            let Some(p) = *p else { continue };
            let port = &plant.ports[p];
            if port.to == ps.talker {
                v.push(bad(h, "sends the frame back to the talker".into()));
                continue;
            }
            if port.node == ps.talker {
                tree_ok[h] = true;
                continue;
            }
            if plant.nodes[port.node].kind != NodeKind::Bridge {
                v.push(bad(
                    h,
                    format!("{} is an end station and does not forward", s.hops[h].node),
                ));
                continue;
            }
            match into.get(&port.node).map(Vec::as_slice) {
                None | Some([]) => {
                    v.push(bad(
                        h,
                        format!("no hop delivers the frame to {}", s.hops[h].node),
                    ));
                }
                Some([one]) => parent[h] = Some(*one),
                Some(_) => {
                    v.push(bad(
                        h,
                        format!("{} receives the frame more than once", s.hops[h].node),
                    ));
                }
            }
        }
        // Connected to the talker: follow parents (a cycle never reaches a root).
        for h in 0..s.hops.len() {
            if tree_ok[h] || parent[h].is_none() {
                continue;
            }
            let mut at = h;
            let mut steps = 0;
            while let Some(p) = parent[at] {
                at = p;
                steps += 1;
                if steps > s.hops.len() {
                    break;
                }
            }
            let rooted = ports[at].is_some_and(|p| plant.ports[p].node == ps.talker);
            if rooted && steps <= s.hops.len() {
                tree_ok[h] = true;
            } else {
                v.push(bad(h, "not connected to the talker".into()));
            }
        }
        // Classes and durations.
        for (h, p) in ports.iter().enumerate() {
            let Some(p) = *p else { continue };
            let port = &plant.ports[p];
            let hop = &s.hops[h];
            let (node, to) = names(p);
            let expected = port.traffic_class(ps.priority);
            if hop.traffic_class != expected {
                v.push(Violation::WrongTrafficClass {
                    stream: s.name.clone(),
                    hop: h,
                    node: node.clone(),
                    to: to.clone(),
                    expected,
                    found: hop.traffic_class,
                });
            }
            let required = port.transmission_ns(ps.frame_bytes);
            if hop.duration_ns < required {
                v.push(Violation::DurationTooShort {
                    stream: s.name.clone(),
                    hop: h,
                    node,
                    to,
                    required_ns: required,
                    found_ns: hop.duration_ns,
                });
            }
        }
        // Causality and arrival times.
        let mut arrival: Vec<u64> = s.hops.iter().map(|h| h.offset_ns).collect();
        for h in 0..s.hops.len() {
            let (Some(p), Some(par)) = (ports[h], parent[h]) else {
                continue;
            };
            let Some(pp) = ports[par] else { continue };
            let prev = &s.hops[par];
            let ready = prev.offset_ns
                + prev.duration_ns
                + plant.ports[pp].propagation_ns
                + plant.nodes[plant.ports[p].node].processing_ns;
            arrival[h] = ready;
            if s.hops[h].offset_ns < ready {
                let (node, to) = names(p);
                v.push(Violation::Causality {
                    stream: s.name.clone(),
                    hop: h,
                    node,
                    to,
                    ready_ns: ready,
                    offset_ns: s.hops[h].offset_ns,
                });
            }
        }
        // Listeners and latency.
        let first = (0..s.hops.len())
            .filter(|&h| ports[h].is_some_and(|p| plant.ports[p].node == ps.talker))
            .map(|h| s.hops[h].offset_ns)
            .min();
        let mut worst = 0;
        for &l in &ps.listeners {
            let delivering = (0..s.hops.len())
                .find(|&h| tree_ok[h] && ports[h].is_some_and(|p| plant.ports[p].to == l));
            let (Some(h), Some(first)) = (delivering, first) else {
                v.push(Violation::ListenerNotReached {
                    stream: s.name.clone(),
                    listener: plant.nodes[l].name.clone(),
                });
                continue;
            };
            let p = ports[h].expect("delivering hops have ports");
            let end = s.hops[h].offset_ns + s.hops[h].duration_ns + plant.ports[p].propagation_ns;
            let latency = end.saturating_sub(first);
            worst = worst.max(latency);
            if latency > ps.max_latency_ns {
                v.push(Violation::DeadlineMiss {
                    stream: s.name.clone(),
                    listener: plant.nodes[l].name.clone(),
                    latency_ns: latency,
                    deadline_ns: ps.max_latency_ns,
                });
            }
        }
        if worst != s.latency_ns && first.is_some() {
            v.push(Violation::LatencyMismatch {
                stream: s.name.clone(),
                stated_ns: s.latency_ns,
                actual_ns: worst,
            });
        }
        if ps.period_ns == 0 {
            continue;
        }
        for (h, p) in ports.iter().enumerate() {
            let Some(p) = *p else { continue };
            frames.entry(p).or_default().push(Frame {
                stream: si,
                hop: h,
                offset: s.hops[h].offset_ns,
                // A zero duration is reported above; treat it as 1 ns from here on.
                duration: s.hops[h].duration_ns.max(1),
                period: ps.period_ns,
                tc: s.hops[h].traffic_class.min(7),
                arrival: arrival[h],
            });
        }
    }

    // Gate control lists.
    let hyperperiod = plant.hyperperiod_ns;
    let mut gates: HashMap<PortId, Gates> = HashMap::new();
    let mut listed: HashSet<PortId> = HashSet::new();
    for ps in &schedule.ports {
        let port = plant
            .node_id(&ps.node)
            .zip(plant.node_id(&ps.to))
            .and_then(|(a, b)| plant.port_id(a, b));
        let bad = |problem: &str| Violation::BadPortSchedule {
            node: ps.node.clone(),
            to: ps.to.clone(),
            problem: problem.to_owned(),
        };
        let Some(port) = port else {
            v.push(bad("the plant has no such port"));
            continue;
        };
        if !listed.insert(port) {
            v.push(bad("has more than one gate control list"));
            continue;
        }
        for (i, e) in ps.gcl.iter().enumerate() {
            if e.duration_ns == 0 {
                v.push(Violation::GclZeroEntry {
                    node: ps.node.clone(),
                    to: ps.to.clone(),
                    entry: i,
                });
            }
        }
        let sum = ps
            .gcl
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.duration_ns));
        match Gates::new(ps.cycle_ns, &ps.gcl) {
            None => v.push(Violation::GclSum {
                node: ps.node.clone(),
                to: ps.to.clone(),
                cycle_ns: ps.cycle_ns,
                sum_ns: sum,
            }),
            Some(_) if !hyperperiod.is_multiple_of(ps.cycle_ns) => {
                v.push(Violation::CycleMismatch {
                    node: ps.node.clone(),
                    to: ps.to.clone(),
                    cycle_ns: ps.cycle_ns,
                    hyperperiod_ns: hyperperiod,
                });
            }
            Some(g) => {
                gates.insert(port, g);
            }
        }
    }

    // Per port: collisions, windows, guard bands, replay.
    for (&port, list) in &frames {
        let (node, to) = names(port);
        check_overlaps(plant, schedule, port, list, hyperperiod, &mut v);
        if !listed.contains(&port) {
            v.push(Violation::MissingPortSchedule { node, to });
            continue;
        }
        let Some(g) = gates.get(&port) else {
            continue; // the list itself is broken, reported above
        };
        check_windows(plant, schedule, port, list, g, hyperperiod, &mut v);
        replay::replay(plant, schedule, port, list, g, hyperperiod, &mut v);
    }

    Report {
        violations: v,
        scheduled: schedule.streams.len(),
        unscheduled: schedule.unscheduled.len(),
    }
}

fn check_overlaps(
    plant: &Plant,
    schedule: &Schedule,
    port: PortId,
    frames: &[Frame],
    hyperperiod: u64,
    v: &mut Vec<Violation>,
) {
    // Every instance in [0, H), wrapping pieces split.
    let mut pieces: Vec<(u64, u64, usize)> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        for k in 0..hyperperiod / f.period {
            let start = (f.offset + k * f.period) % hyperperiod;
            let end = start + f.duration.min(hyperperiod);
            if end <= hyperperiod {
                pieces.push((start, end, i));
            } else {
                pieces.push((start, hyperperiod, i));
                pieces.push((0, end - hyperperiod, i));
            }
        }
    }
    pieces.sort_unstable();
    let mut reported: HashSet<(usize, usize)> = HashSet::new();
    // The piece with the latest end so far.
    let mut reach: Option<(u64, usize)> = None;
    for &(start, end, i) in &pieces {
        if let Some((rend, j)) = reach
            && start < rend
        {
            let key = (i.min(j), i.max(j));
            if reported.insert(key) {
                let (a, b) = (&frames[key.0], &frames[key.1]);
                let p = &plant.ports[port];
                v.push(Violation::Overlap {
                    node: plant.nodes[p.node].name.clone(),
                    to: plant.nodes[p.to].name.clone(),
                    stream: schedule.streams[a.stream].name.clone(),
                    hop: a.hop,
                    other_stream: schedule.streams[b.stream].name.clone(),
                    other_hop: b.hop,
                    at_ns: start,
                });
            }
        }
        if reach.is_none_or(|(rend, _)| end > rend) {
            reach = Some((end, i));
        }
    }
}

fn check_windows(
    plant: &Plant,
    schedule: &Schedule,
    port: PortId,
    frames: &[Frame],
    gates: &Gates,
    hyperperiod: u64,
    v: &mut Vec<Violation>,
) {
    let p = &plant.ports[port];
    let (node, to) = (&plant.nodes[p.node].name, &plant.nodes[p.to].name);
    let scheduled = frames.iter().fold(0u8, |m, f| m | 1 << f.tc);
    let best_effort = p.all_classes_mask() & !scheduled;
    let guard = plant.guard_band_ns(port);
    // Shift every time by whole hyperperiods so `start - guard` never underflows; gate
    // states repeat every hyperperiod because the cycle divides it.
    let base = hyperperiod * (guard / hyperperiod + 1);
    for f in frames {
        let stream = &schedule.streams[f.stream].name;
        let mut closed_reported = false;
        let mut guard_reported = false;
        for k in 0..hyperperiod / f.period {
            let start = (f.offset + k * f.period) % hyperperiod;
            let t = base + start;
            if !closed_reported {
                let closes = if gates.mask_at(t) & (1 << f.tc) == 0 {
                    Some(t)
                } else {
                    gates.closes_at(f.tc, t).filter(|&c| c < t + f.duration)
                };
                if let Some(c) = closes {
                    closed_reported = true;
                    v.push(Violation::GateClosed {
                        stream: stream.clone(),
                        hop: f.hop,
                        node: node.clone(),
                        to: to.clone(),
                        start_ns: start,
                        closed_at_ns: c % hyperperiod,
                    });
                }
            }
            if !guard_reported
                && best_effort != 0
                && let Some(at) = gates.open_between(best_effort, t - guard, t)
            {
                guard_reported = true;
                v.push(Violation::MissingGuardBand {
                    stream: stream.clone(),
                    hop: f.hop,
                    node: node.clone(),
                    to: to.clone(),
                    start_ns: start,
                    best_effort_open_at_ns: at % hyperperiod,
                    guard_ns: guard,
                });
            }
            if closed_reported && guard_reported {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
