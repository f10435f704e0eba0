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
//! - **flow isolation** (Craciunas et al., RTNS 2016): per port and traffic class, the
//!   intervals during which frames wait in the class's FIFO queue (from enqueueing to the
//!   start of transmission plus 1 ns, so that two frames never arrive in one queue at the
//!   same instant, whose order would be undefined) are disjoint; exact mode uses the same
//!   intervals. A frame therefore finds its
//!   queue empty and nothing can overtake it or be overtaken; since windows open only the
//!   class of the frame they were made for, no window can release a waiting frame early.
//!   This is sufficient, not necessary (frame isolation would admit more schedules).
//!
//! The talker's first offset is searched within one period. When the deadline is missed or
//! a queue blocks, the stream is retried with a later first offset (a bounded number of
//! times); a stream that still fails is reported with the reason, and nothing it tried is
//! kept.

use std::collections::HashMap;

use super::intervals::CyclicSet;
use super::{Hop, Schedule, ScheduledStream, Unscheduled, build_ports};
use crate::plant::{Plant, PortId, Stream};

/// Tuning of [`synthesize_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeuristicOptions {
    /// How many first offsets to try per stream before giving up.
    pub max_attempts: u32,
}

impl Default for HeuristicOptions {
    fn default() -> Self {
        Self { max_attempts: 512 }
    }
}

/// Schedules every stream of `plant` with default options.
pub fn synthesize(plant: &Plant) -> Schedule {
    synthesize_with(plant, HeuristicOptions::default())
}

/// Why one placement attempt failed; `retry_from` is a first offset worth trying next.
struct Failure {
    reason: String,
    retry_from: Option<u64>,
}

/// The busy and queue-occupancy intervals of every port, over the hyperperiod.
struct State<'a> {
    plant: &'a Plant,
    hyperperiod: u64,
    busy: Vec<Option<CyclicSet>>,
    queues: HashMap<(PortId, u8), CyclicSet>,
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
        match state.place_stream(&plant.streams[i], options) {
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
    fn place_stream(
        &mut self,
        stream: &Stream,
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
        let mut first = 0;
        let mut last_failure = String::new();
        for _ in 0..options.max_attempts.max(1) {
            if first >= stream.period_ns {
                break;
            }
            match self.try_place(stream, first) {
                Ok(hops) => {
                    self.commit(stream, &hops);
                    return Ok(hops);
                }
                Err(f) => {
                    last_failure = f.reason;
                    match f.retry_from {
                        Some(next) => first = next.max(first + 1),
                        None => break,
                    }
                }
            }
        }
        Err(last_failure)
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

    fn try_place(&self, stream: &Stream, first_from: u64) -> Result<Vec<Placed>, Failure> {
        let period = stream.period_ns;
        let instances = self.hyperperiod / period;
        let mut out: Vec<Placed> = Vec::with_capacity(stream.route.hops.len());
        for rh in &stream.route.hops {
            let port = &self.plant.ports[rh.port];
            let label = || self.plant.port_label(rh.port);
            let duration = port.transmission_ns(stream.frame_bytes);
            let tc = port.traffic_class(stream.priority);
            let first = out.first().map_or(first_from, |h| h.offset);
            let (ready, arrival) = match rh.parent {
                None => (first_from, None),
                Some(p) => {
                    let t = self.enqueue_time(stream, p, &out[p], port.node);
                    (t, Some(t))
                }
            };
            // Flow isolation: the latest start that keeps this frame's queue interval clear
            // of every other frame of its class on this port.
            let mut limit = ready + period - 1;
            if let (Some(arr), Some(queue)) = (arrival, self.queues.get(&(rh.port, tc))) {
                let mut room = period;
                for k in 0..instances {
                    let q = arr + k * period;
                    if let Some(end) = queue.containing(q) {
                        let wait = end - q % self.hyperperiod;
                        return Err(Failure {
                            reason: format!(
                                "queue order at port {}: the frame would arrive while a frame of \
                                 another stream is waiting in traffic class {tc}'s queue",
                                label()
                            ),
                            retry_from: Some(first + wait.max(1)),
                        });
                    }
                    room = room.min(queue.distance_to_next(q));
                }
                limit = limit.min((arr + room).saturating_sub(1));
            }
            // Earliest start in [ready, limit] free on the port for every instance.
            let mut start = ready;
            let busy = self.busy[rh.port].as_ref();
            'search: loop {
                if start > limit {
                    let overrun = start - limit;
                    let reason = if start >= ready + period {
                        format!(
                            "port {} has no free slot of {duration} ns for this stream in any \
                             period",
                            label()
                        )
                    } else {
                        format!(
                            "queue order at port {}: every free slot lets the frame wait in \
                             traffic class {tc}'s queue while a frame of another stream is \
                             queued there",
                            label()
                        )
                    };
                    let retry_from = (start < ready + period).then_some(first + overrun);
                    return Err(Failure { reason, retry_from });
                }
                if let Some(busy) = busy {
                    for k in 0..instances {
                        if let Some(shift) = busy.conflict_shift(start + k * period, duration) {
                            start += shift;
                            continue 'search;
                        }
                    }
                }
                break;
            }
            if start - first > stream.max_latency_ns {
                return Err(Failure {
                    reason: deadline_reason(stream, start - first),
                    retry_from: Some(first + (start - first - stream.max_latency_ns)),
                });
            }
            out.push(Placed {
                offset: start,
                duration,
                arrival,
            });
        }
        let lat = latency(self.plant, stream, &out);
        if lat > stream.max_latency_ns {
            let first = out[0].offset;
            return Err(Failure {
                reason: deadline_reason(stream, lat),
                retry_from: Some(first + (lat - stream.max_latency_ns)),
            });
        }
        Ok(out)
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
                    .or_insert_with(|| CyclicSet::new(h));
                let wait = placed.offset - arr + 1;
                for k in 0..h / period {
                    queue.insert(arr + k * period, wait);
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
