//! Frame-by-frame replay of one egress port.
//!
//! Time runs from 0 with every instance `k >= 0` of every hop on the port: instance `k`
//! enters its class's FIFO queue at `arrival + k * period` and is scheduled to start at
//! `offset + k * period`. Instances `k < 0` are absent, so the first hyperperiods are a
//! start-up transient; from `W` (a multiple of the hyperperiod past every hop's first
//! events) on, the port is in its periodic steady state and the instances scheduled in
//! `[W, W + H)` are checked.
//!
//! At each instant: arrivals join their queue (two arrivals in one queue at the same
//! nanosecond are reported, their order being undefined), then, if the transmitter is idle,
//! the highest traffic class whose gate is open and whose head frame completes before that
//! gate closes starts transmitting. The next instant is the next arrival, the end of the
//! current transmission or the next gate change, whichever comes first; no frame can start
//! at any other time.

use std::collections::{HashMap, HashSet, VecDeque};

use super::gates::Gates;
use super::{Frame, Violation};
use crate::plant::{Plant, PortId};
use crate::schedule::Schedule;

struct Instance {
    frame: usize,
    arrival: u64,
    scheduled: u64,
}

pub(super) fn replay(
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
    let max_event = frames
        .iter()
        .map(|f| (f.offset + f.duration).max(f.arrival))
        .max()
        .unwrap_or(0);
    let steady = hyperperiod * (max_event / hyperperiod + 1);
    let end = steady + 2 * hyperperiod + max_event;

    let mut instances: Vec<Instance> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut k = 0;
        while f.arrival + k * f.period < end {
            instances.push(Instance {
                frame: i,
                arrival: f.arrival + k * f.period,
                scheduled: f.offset + k * f.period,
            });
            k += 1;
        }
    }
    instances.sort_by_key(|inst| (inst.arrival, inst.frame));

    let mut queues: [VecDeque<usize>; 8] = Default::default();
    let mut last_in: [Option<usize>; 8] = [None; 8];
    let mut actual: Vec<Option<u64>> = vec![None; instances.len()];
    let mut simultaneous: HashSet<(usize, usize)> = HashSet::new();
    let mut next = 0;
    let mut busy_until = 0;
    let mut t = 0;
    loop {
        while next < instances.len() && instances[next].arrival <= t {
            let inst = &instances[next];
            let tc = usize::from(frames[inst.frame].tc);
            if let Some(prev) = last_in[tc]
                && instances[prev].arrival == inst.arrival
                && (steady..steady + hyperperiod).contains(&inst.arrival)
            {
                let (a, b) = (instances[prev].frame, inst.frame);
                if simultaneous.insert((a.min(b), a.max(b))) {
                    let (fa, fb) = (&frames[a], &frames[b]);
                    v.push(Violation::SimultaneousArrival {
                        node: node.clone(),
                        to: to.clone(),
                        traffic_class: fa.tc,
                        stream: schedule.streams[fa.stream].name.clone(),
                        hop: fa.hop,
                        other_stream: schedule.streams[fb.stream].name.clone(),
                        other_hop: fb.hop,
                        at_ns: relative(inst.arrival, steady),
                    });
                }
            }
            last_in[tc] = Some(next);
            queues[tc].push_back(next);
            next += 1;
        }
        if t >= busy_until {
            let open = gates.mask_at(t);
            for tc in (0..8u8).rev() {
                let Some(&head) = queues[usize::from(tc)].front() else {
                    continue;
                };
                if open & (1 << tc) == 0 {
                    continue;
                }
                let duration = frames[instances[head].frame].duration;
                if gates.closes_at(tc, t).is_some_and(|c| t + duration > c) {
                    continue; // would not complete before the gate closes
                }
                queues[usize::from(tc)].pop_front();
                actual[head] = Some(t);
                busy_until = t + duration;
                break;
            }
        }
        let mut nt = gates.next_change_after(t);
        if let Some(inst) = instances.get(next) {
            nt = nt.min(inst.arrival);
        }
        if busy_until > t {
            nt = nt.min(busy_until);
        }
        if nt >= end {
            break;
        }
        t = nt;
    }

    // Steady-state check, one report per hop.
    let mut deviations: HashMap<usize, (usize, u64)> = HashMap::new(); // frame -> (first, count)
    for (i, inst) in instances.iter().enumerate() {
        if !(steady..steady + hyperperiod).contains(&inst.scheduled) {
            continue;
        }
        if actual[i] != Some(inst.scheduled) {
            let entry = deviations.entry(inst.frame).or_insert((i, 0));
            if instances[entry.0].scheduled > inst.scheduled {
                entry.0 = i;
            }
            entry.1 += 1;
        }
    }
    let mut found: Vec<(usize, (usize, u64))> = deviations.into_iter().collect();
    found.sort_by_key(|&(frame, (first, _))| (instances[first].scheduled, frame));
    for (frame, (first, count)) in found {
        let f = &frames[frame];
        v.push(Violation::Departure {
            stream: schedule.streams[f.stream].name.clone(),
            hop: f.hop,
            node: node.clone(),
            to: to.clone(),
            scheduled_ns: relative(instances[first].scheduled, steady),
            actual_ns: actual[first].map(|a| relative(a, steady)),
            instances: count,
        });
    }
}

/// `t - base` as a signed number of nanoseconds.
fn relative(t: u64, base: u64) -> i64 {
    let d = i128::from(t) - i128::from(base);
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}
