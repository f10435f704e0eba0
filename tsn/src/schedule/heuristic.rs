//! Greedy list scheduling that respects queue order.
//!
//! Streams are taken tightest deadline first (then shortest period, then file order). For
//! each stream the hops of its tree are placed parents first, each at the earliest offset
//! that satisfies, for every frame instance in the hyperperiod:
//!
//! - **no overlap**: the transmission does not meet another scheduled transmission on the
//!   port (a cyclic interval set per port over the hyperperiod);
//! - **causality**: it starts no earlier than the frame is enqueued, i.e. the previous hop's
//!   end + propagation + the bridge's processing delay;
//! - **FIFO order**: per port and traffic class, frames of different streams may wait in
//!   the queue together (less strict than the isolation constraints of Craciunas et al.,
//!   RTNS 2016, which keep them apart, and exactly what the verifier's replay needs), but
//!   they leave in the order they arrive (their queue intervals `[arrival, start]` never
//!   nest) and no two arrive at the same instant, whose order would be undefined. Since
//!   the stored frames keep that order, a new frame is bounded only by its two neighbours in
//!   arrival order: it starts after the one before it and before the one after it. As
//!   windows open only the class of the frame they were made for and the frame due is
//!   always at the head of its queue, no window can release a waiting frame early. Exact
//!   mode uses the same constraints.
//!
//! When a bridge hop finds no such slot, the frame has to arrive later: its parent hop is
//! pushed back just far enough for the frame to arrive after every frame that the first
//! free slot would make it overtake (or one nanosecond past a simultaneous arrival) and
//! waits longer in its own queue; the hops from there on are placed again, and a parent that
//! cannot wait longer pushes back its own parent, up to the talker. A missed deadline moves
//! the talker's first transmission later by the excess. Each talker's streams start their
//! search at their own phase of the period (see [`spread`]) and try one period of first
//! offsets at most; the number of steps per stream is bounded. A stream that still fails is
//! reported with the reason, and nothing it tried is kept.

use std::collections::HashMap;

use super::intervals::{CyclicSet, Fifo, QueueSet};
use super::{Hop, Schedule, ScheduledStream, Unscheduled, build_ports};
use crate::plant::{Plant, PortId, Stream};

/// Tuning of [`synthesize_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeuristicOptions {
    /// How many hop placements (including those redone after a push-back) to try per
    /// stream before giving up.
    pub max_attempts: u32,
}

impl Default for HeuristicOptions {
    fn default() -> Self {
        Self { max_attempts: 4096 }
    }
}

/// Schedules every stream of `plant` with default options.
pub fn synthesize(plant: &Plant) -> Schedule {
    synthesize_with(plant, HeuristicOptions::default())
}

/// Why a hop could not be placed; `delay_arrival`: how much later the frame would have to
/// arrive for the next try to make progress (`None`: give up). The reason is formatted only
/// for streams that fail for good.
struct Failure {
    why: Why,
    delay_arrival: Option<u64>,
}

enum Why {
    /// No free slot of `duration` on `port` within a period.
    NoSlot { port: PortId, duration: u64 },
    /// FIFO order leaves no free slot at `port` before the next frame's start.
    QueueOrder { port: PortId, tc: u8 },
    /// Another frame enters the queue at the same instant.
    Simultaneous { port: PortId, tc: u8 },
    /// The best placement found needs `latency`.
    Deadline { latency: u64 },
}

impl Why {
    fn describe(&self, plant: &Plant, stream: &Stream) -> String {
        match *self {
            Self::NoSlot { port, duration } => format!(
                "port {} has no free slot of {duration} ns for this stream in any period",
                plant.port_label(port)
            ),
            Self::QueueOrder { port, tc } => format!(
                "queue order at port {}: every free slot would let the frame overtake a frame \
                 queued ahead of it in traffic class {tc}'s queue, or be overtaken",
                plant.port_label(port)
            ),
            Self::Simultaneous { port, tc } => format!(
                "queue order at port {}: every placement tried makes the frame enter traffic \
                 class {tc}'s queue at the same instant as another frame",
                plant.port_label(port)
            ),
            Self::Deadline { latency } => deadline_reason(stream, latency),
        }
    }
}

/// The busy and queue intervals of every port, over the hyperperiod.
struct State<'a> {
    plant: &'a Plant,
    hyperperiod: u64,
    busy: Vec<Option<CyclicSet>>,
    queues: HashMap<(PortId, u8), QueueSet>,
}

/// One placed hop: offset, duration and, for bridge hops, the enqueueing time.
#[derive(Clone, Copy)]
pub(super) struct Placed {
    pub(super) offset: u64,
    pub(super) duration: u64,
    pub(super) arrival: Option<u64>,
}

/// Schedules every stream of `plant`.
pub fn synthesize_with(plant: &Plant, options: HeuristicOptions) -> Schedule {
    let hyperperiod = plant.hyperperiod_ns;
    let mut state = State {
        plant,
        hyperperiod,
        busy: vec![None; plant.ports.len()],
        queues: HashMap::new(),
    };
    let mut order: Vec<usize> = (0..plant.streams.len()).collect();
    order.sort_by_key(|&i| {
        let s = &plant.streams[i];
        (s.max_latency_ns, s.period_ns, i)
    });
    let mut placed: Vec<Option<Vec<Placed>>> = vec![None; plant.streams.len()];
    let mut reasons: Vec<Option<String>> = vec![None; plant.streams.len()];
    for i in order {
        let stream = &plant.streams[i];
        match state.place_stream(stream, spread(stream.talker), options) {
            Ok(hops) => placed[i] = Some(hops),
            Err(reason) => reasons[i] = Some(reason),
        }
    }
    let mut streams = Vec::new();
    let mut unscheduled = Vec::new();
    for (i, s) in plant.streams.iter().enumerate() {
        match &placed[i] {
            Some(hops) => streams.push(to_scheduled(plant, s, hops)),
            None => unscheduled.push(Unscheduled {
                name: s.name.clone(),
                reason: reasons[i].clone().unwrap_or_default(),
            }),
        }
    }
    let ports = build_ports(plant, &streams);
    Schedule {
        hyperperiod_ns: hyperperiod,
        streams,
        ports,
        unscheduled,
    }
}

/// Where the streams of talker `node` start looking for their first offset, as a fraction
/// of the period in units of 2^-64: the golden-ratio sequence over the talkers, so that
/// different talkers start far apart and traffic spreads over the period instead of piling
/// up at its start (where frames would wait and their queues conflict), while the streams
/// of one talker still pack back to back on its port. Deterministic, not random.
fn spread(node: usize) -> u64 {
    (node as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Latency of a placed tree: the latest end of reception at a listener minus the first start.
fn latency(plant: &Plant, stream: &Stream, hops: &[Placed]) -> u64 {
    let first = hops.first().map_or(0, |h| h.offset);
    stream
        .route
        .hops
        .iter()
        .zip(hops)
        .filter(|(rh, _)| stream.listeners.contains(&plant.ports[rh.port].to))
        .map(|(rh, h)| h.offset + h.duration + plant.ports[rh.port].propagation_ns - first)
        .max()
        .unwrap_or(0)
}

pub(super) fn to_scheduled(plant: &Plant, stream: &Stream, hops: &[Placed]) -> ScheduledStream {
    ScheduledStream {
        name: stream.name.clone(),
        period_ns: stream.period_ns,
        deadline_ns: stream.max_latency_ns,
        latency_ns: latency(plant, stream, hops),
        hops: stream
            .route
            .hops
            .iter()
            .zip(hops)
            .map(|(rh, h)| {
                let port = &plant.ports[rh.port];
                Hop {
                    node: plant.nodes[port.node].name.clone(),
                    to: plant.nodes[port.to].name.clone(),
                    offset_ns: h.offset,
                    duration_ns: h.duration,
                    traffic_class: port.traffic_class(stream.priority),
                }
            })
            .collect(),
    }
}

impl State<'_> {
    /// Places `stream` with its first transmission at or after `hint` (a fraction of the
    /// period), trying one period's worth of first offsets at most.
    fn place_stream(
        &mut self,
        stream: &Stream,
        hint: u64,
        options: HeuristicOptions,
    ) -> Result<Vec<Placed>, String> {
        // Without any other traffic the frame needs this long; no point searching if the
        // deadline is shorter.
        let free_run = self.free_run(stream);
        let best = latency(self.plant, stream, &free_run);
        if best > stream.max_latency_ns {
            return Err(format!(
                "max-latency {} ns is below the {best} ns the frame needs even without other \
                 traffic",
                stream.max_latency_ns
            ));
        }
        // Lower bounds on each hop's start, raised as conflicts are found. They only grow
        // (each skips starts that failed), so a hop placed again after its parent moved
        // does not retry them, and the search always moves forward.
        let hops = &stream.route.hops;
        let period = stream.period_ns;
        let from = ((u128::from(hint) * u128::from(period)) >> 64) as u64;
        let mut min_start = vec![0u64; hops.len()];
        min_start[0] = from;
        let mut out: Vec<Placed> = Vec::with_capacity(hops.len());
        let mut last_failure = None;
        for _ in 0..options.max_attempts.max(1) {
            if min_start[0] >= from + period {
                break;
            }
            let i = out.len();
            if i == hops.len() {
                let lat = latency(self.plant, stream, &out);
                if lat <= stream.max_latency_ns {
                    // The same instances, counted from the period the talker sends in.
                    let shift = out[0].offset / period * period;
                    for h in &mut out {
                        h.offset -= shift;
                        h.arrival = h.arrival.map(|a| a - shift);
                    }
                    self.commit(stream, &out);
                    return Ok(out);
                }
                // Only a later first transmission can shorten the latency, by at most the
                // delay.
                last_failure = Some(Why::Deadline { latency: lat });
                min_start[0] = out[0].offset + (lat - stream.max_latency_ns);
                out.clear();
                continue;
            }
            match self.place_hop(stream, i, &out, min_start[i]) {
                Ok(placed) => {
                    let first = out.first().map_or(placed.offset, |h| h.offset);
                    if placed.offset - first > stream.max_latency_ns {
                        last_failure = Some(Why::Deadline {
                            latency: placed.offset - first,
                        });
                        min_start[0] = first + (placed.offset - first - stream.max_latency_ns);
                        out.clear();
                        continue;
                    }
                    out.push(placed);
                }
                Err(f) => {
                    last_failure = Some(f.why);
                    // The frame must arrive `delay` later: its parent starts that much later
                    // (waiting longer in its own queue), and everything from the parent on is
                    // placed again. Only bridge hops (with a parent) ask for that.
                    let (Some(delay), Some(p)) = (f.delay_arrival, hops[i].parent) else {
                        break;
                    };
                    min_start[p] = min_start[p].max(out[p].offset + delay);
                    out.truncate(p);
                }
            }
        }
        Err(last_failure.map_or_else(
            || "no first offset left to try within the period".to_owned(),
            |why| why.describe(self.plant, stream),
        ))
    }

    /// Earliest offsets with an empty network.
    fn free_run(&self, stream: &Stream) -> Vec<Placed> {
        let mut out: Vec<Placed> = Vec::with_capacity(stream.route.hops.len());
        for rh in &stream.route.hops {
            let port = &self.plant.ports[rh.port];
            let offset = rh
                .parent
                .map_or(0, |p| self.enqueue_time(stream, p, &out[p], port.node));
            out.push(Placed {
                offset,
                duration: port.transmission_ns(stream.frame_bytes),
                arrival: None,
            });
        }
        out
    }

    /// When the frame sent on hop `parent` is enqueued at `node`'s egress ports.
    fn enqueue_time(&self, stream: &Stream, parent: usize, placed: &Placed, node: usize) -> u64 {
        let pport = &self.plant.ports[stream.route.hops[parent].port];
        placed.offset
            + placed.duration
            + pport.propagation_ns
            + self.plant.nodes[node].processing_ns
    }

    /// Places hop `i` of `stream` (its parent is in `out`) at the earliest start no earlier
    /// than `min_start` that keeps the port free and the queue in FIFO order in every
    /// instance.
    fn place_hop(
        &self,
        stream: &Stream,
        i: usize,
        out: &[Placed],
        min_start: u64,
    ) -> Result<Placed, Failure> {
        let period = stream.period_ns;
        let instances = self.hyperperiod / period;
        let rh = &stream.route.hops[i];
        let port = &self.plant.ports[rh.port];
        let duration = port.transmission_ns(stream.frame_bytes);
        let tc = port.traffic_class(stream.priority);
        let arrival = rh
            .parent
            .map(|p| self.enqueue_time(stream, p, &out[p], port.node));
        // A talker with several ports sends on the others no earlier than on the first, which
        // marks the start of the latency.
        let ready = arrival.unwrap_or_else(|| out.first().map_or(0, |h| h.offset));
        // Queue order: in every instance the frame starts after the frame that arrived just
        // before it and before the one that arrives just after it. `succ` keeps the arrival
        // (relative to ours) of the successor that bounds us tightest.
        let mut lo = ready.max(min_start);
        let mut hi = ready.max(min_start) + period - 1;
        if let Some(arr) = arrival {
            hi = arr + period - 1; // the frame waits less than a period
        }
        let wait_limit = hi;
        let mut succ: Option<u64> = None;
        if let (Some(arr), Some(queue)) = (arrival, self.queues.get(&(rh.port, tc))) {
            for k in 0..instances {
                match queue.bounds(arr + k * period) {
                    Fifo::Simultaneous => {
                        return Err(Failure {
                            why: Why::Simultaneous { port: rh.port, tc },
                            delay_arrival: Some(1),
                        });
                    }
                    Fifo::Bounds { after, before } => {
                        lo = lo.max(arr + after);
                        if let Some((succ_arrival, succ_start)) = before
                            && arr + succ_start - 1 < hi
                        {
                            hi = arr + succ_start - 1;
                            succ = Some(succ_arrival);
                        }
                    }
                }
            }
        }
        // Earliest start in [lo, hi] free on the port for every instance.
        let start = self.earliest_free(rh.port, lo, hi, duration, period, instances);
        if start <= hi {
            return Ok(Placed {
                offset: start,
                duration,
                arrival,
            });
        }
        Err(match (arrival, succ) {
            // Arriving after the frames that the first free slot would overtake lifts the
            // bound they put on us.
            (Some(arr), Some(succ_arrival)) if hi < wait_limit => {
                let free =
                    self.earliest_free(rh.port, lo, lo + period, duration, period, instances);
                if free > lo + period {
                    Failure {
                        why: Why::NoSlot {
                            port: rh.port,
                            duration,
                        },
                        delay_arrival: None,
                    }
                } else {
                    let queue = &self.queues[&(rh.port, tc)];
                    let last = (0..instances)
                        .filter_map(|k| queue.last_overtaken(arr + k * period, free - arr))
                        .max()
                        .unwrap_or(0);
                    Failure {
                        why: Why::QueueOrder { port: rh.port, tc },
                        delay_arrival: Some(last.max(succ_arrival) + 1),
                    }
                }
            }
            // A full period without a free slot, or the talker: nothing to gain by waiting.
            (None, _) => Failure {
                why: Why::NoSlot {
                    port: rh.port,
                    duration,
                },
                delay_arrival: None,
            },
            (Some(_), _) if start >= lo + period => Failure {
                why: Why::NoSlot {
                    port: rh.port,
                    duration,
                },
                delay_arrival: None,
            },
            // The frame would wait a period or more: arrive later.
            (Some(_), _) => Failure {
                why: Why::QueueOrder { port: rh.port, tc },
                delay_arrival: Some(start - hi),
            },
        })
    }

    /// The earliest start from `lo` at which `port` is free for `duration` in every
    /// instance, or some value above `limit` if there is none up to `limit`.
    fn earliest_free(
        &self,
        port: PortId,
        lo: u64,
        limit: u64,
        duration: u64,
        period: u64,
        instances: u64,
    ) -> u64 {
        let mut start = lo;
        let Some(busy) = self.busy[port].as_ref() else {
            return start;
        };
        'search: while start <= limit {
            for k in 0..instances {
                if let Some(shift) = busy.conflict_shift(start + k * period, duration) {
                    start += shift;
                    continue 'search;
                }
            }
            break;
        }
        start
    }

    fn commit(&mut self, stream: &Stream, hops: &[Placed]) {
        let period = stream.period_ns;
        let h = self.hyperperiod;
        for (rh, placed) in stream.route.hops.iter().zip(hops) {
            let busy = self.busy[rh.port].get_or_insert_with(|| CyclicSet::new(h));
            for k in 0..h / period {
                busy.insert(placed.offset + k * period, placed.duration);
            }
            if let Some(arr) = placed.arrival {
                let tc = self.plant.ports[rh.port].traffic_class(stream.priority);
                let queue = self
                    .queues
                    .entry((rh.port, tc))
                    .or_insert_with(|| QueueSet::new(h));
                for k in 0..h / period {
                    queue.insert(arr + k * period, placed.offset - arr);
                }
            }
        }
    }
}

fn deadline_reason(stream: &Stream, latency: u64) -> String {
    format!(
        "max-latency {} ns missed: the best placement found needs {latency} ns (other streams \
         occupy the earlier slots)",
        stream.max_latency_ns
    )
}
