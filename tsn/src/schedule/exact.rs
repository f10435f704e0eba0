//! Exact mode: one integer linear program over the heuristic's constraints, solved by the
//! pure-Rust `microlp` solver through `good_lp`. For small instances: it finds a schedule
//! whenever one exists under these constraints, or proves that none does, so it measures
//! what the greedy heuristic misses.
//!
//! # Model
//!
//! One continuous variable per stream and hop, its offset `o`; every constant is an integer
//! number of nanoseconds. With the order variables fixed the remaining rows are difference
//! constraints (a totally unimodular matrix), so the solver's vertex solutions have integer
//! offsets; we round away floating-point noise and the verifier checks the result.
//!
//! - talker hops: `0 <= o < period`;
//! - causality: `o >= o_parent + d_parent + propagation_parent + processing`;
//! - queue wait below one period: `o - arrival <= period - 1` (as the heuristic);
//! - deadline, at every hop delivering to a listener:
//!   `o + d + propagation - o_talker <= max-latency`;
//! - no overlap on a port, over the whole hyperperiod: two periodic intervals `[o_i, o_i +
//!   d_i)` (period `T_i`) and `[o_j, o_j + d_j)` (period `T_j`) never meet modulo the
//!   hyperperiod iff `(o_j - o_i) mod g` lies in `[d_i, g - d_j]`, `g = gcd(T_i, T_j)`
//!   (the differences of all instance pairs are `o_j - o_i` plus every multiple of `g`).
//!   One integer variable `z` per pair expresses the `mod`:
//!   `d_i <= o_j - o_i - g z <= g - d_j`. This replaces the per-instance-pair disjunctions of
//!   Craciunas et al. (RTNS 2016) with one row pair and one integer per pair of hops;
//! - FIFO order (same port, same traffic class, bridge hops; as the heuristic): frames may share the queue but leave in the order they arrive, and
//!   never arrive at the same instant. With one integer `q` per pair that picks the
//!   instance pairing, `1 <= a_j - a_i - g q <= g - 1` puts the arrivals strictly apart
//!   and `1 <= o_j - o_i - g q <= g - 1` makes the starts follow in the same order: for every
//!   multiple `m g`, `a_j - a_i + m g > 0` iff `o_j - o_i + m g > 0`.
//!
//! The objective minimises the sum of every listener's latency, so the schedule is also the
//! best one for that measure when the solver proves optimality.

use std::time::Duration;

use good_lp::solvers::microlp::microlp;
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    WithTimeLimit, constraint, variable,
};

use super::heuristic::{Placed, to_scheduled};
use super::{Schedule, Unscheduled, build_ports};
use crate::plant::{Plant, PortId, Stream, gcd};

/// Tuning of [`synthesize_exact`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactOptions {
    /// Stop the solver after this long (it reads the host's clock); `None`: solve to the
    /// end, which keeps the result deterministic.
    pub time_limit: Option<Duration>,
    /// Refuse models with more integer (order) variables than this: the branch and bound
    /// grows exponentially with them.
    pub max_order_variables: usize,
}

impl Default for ExactOptions {
    fn default() -> Self {
        Self {
            time_limit: None,
            max_order_variables: 5_000,
        }
    }
}

/// How the solver ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactStatus {
    /// Every candidate stream is scheduled and the total latency is minimal.
    Optimal,
    /// Every candidate stream is scheduled; the time limit stopped the search for better.
    Feasible,
    /// Proven: no schedule places all candidate streams under these constraints.
    Infeasible,
    /// The time limit ran out before any schedule was found (nothing is proven).
    TimedOut,
}

/// The result of [`synthesize_exact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactOutcome {
    /// The schedule; when the status is `Infeasible` or `TimedOut`, every candidate stream
    /// is listed as unscheduled with the reason.
    pub schedule: Schedule,
    /// How the solver ended.
    pub status: ExactStatus,
    /// Integer (order) variables of the model.
    pub order_variables: usize,
}

/// Why exact mode did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExactError {
    /// The model would need more order variables than allowed.
    #[error(
        "the instance needs {needed} order variables, more than the {limit} exact mode \
         accepts; use the heuristic"
    )]
    TooLarge {
        /// Order variables the model needs.
        needed: usize,
        /// The limit in [`ExactOptions::max_order_variables`].
        limit: usize,
    },
    /// The solver failed for another reason than infeasibility.
    #[error("ILP solver: {0}")]
    Solver(String),
}

/// One hop in the model.
struct HopVar {
    stream: usize,
    port: PortId,
    tc: u8,
    duration: u64,
    offset: Variable,
    /// Enqueueing time at a bridge as `(parent offset, constant)`; `None` on the talker.
    arrival: Option<(Variable, u64)>,
}

/// Schedules every stream of `plant` exactly (see the module documentation).
pub fn synthesize_exact(plant: &Plant, options: ExactOptions) -> Result<ExactOutcome, ExactError> {
    // Streams that miss their deadline even alone are reported as the heuristic does and
    // left out of the model, which would otherwise be infeasible for them alone.
    let mut unscheduled = Vec::new();
    let mut candidates = Vec::new();
    for (i, s) in plant.streams.iter().enumerate() {
        let alone = free_run_latency(plant, s);
        if alone > s.max_latency_ns {
            unscheduled.push((
                i,
                format!(
                    "max-latency {} ns is below the {alone} ns the frame needs even without \
                     other traffic",
                    s.max_latency_ns
                ),
            ));
        } else {
            candidates.push(i);
        }
    }

    let mut vars = ProblemVariables::new();
    let mut hops: Vec<HopVar> = Vec::new();
    let mut first_of: Vec<usize> = Vec::new(); // index into `hops` of each candidate's hop 0
    for &i in &candidates {
        let s = &plant.streams[i];
        let base = hops.len();
        first_of.push(base);
        let upper = (s.period_ns + s.max_latency_ns) as f64;
        for rh in &s.route.hops {
            let port = &plant.ports[rh.port];
            let offset = match rh.parent {
                None => vars.add(variable().min(0).max((s.period_ns - 1) as f64)),
                Some(_) => vars.add(variable().min(0).max(upper)),
            };
            let arrival = rh.parent.map(|p| {
                let parent = &hops[base + p];
                let pport = &plant.ports[parent.port];
                (
                    parent.offset,
                    parent.duration + pport.propagation_ns + plant.nodes[port.node].processing_ns,
                )
            });
            hops.push(HopVar {
                stream: i,
                port: rh.port,
                tc: port.traffic_class(s.priority),
                duration: port.transmission_ns(s.frame_bytes),
                offset,
                arrival,
            });
        }
    }

    // Pairs of hops of different streams on one port; the order variables come first so
    // the size check runs before any row is built.
    let mut by_port: Vec<Vec<usize>> = vec![Vec::new(); plant.ports.len()];
    for (k, hv) in hops.iter().enumerate() {
        by_port[hv.port].push(k);
    }
    let mut pairs: Vec<(usize, usize, bool)> = Vec::new(); // (hop a, hop b, same queue)
    for list in &by_port {
        for (x, &a) in list.iter().enumerate() {
            for &b in &list[x + 1..] {
                let (ha, hb) = (&hops[a], &hops[b]);
                let queue = ha.tc == hb.tc && ha.arrival.is_some() && hb.arrival.is_some();
                pairs.push((a, b, queue));
            }
        }
    }
    let order_variables = pairs.len() + pairs.iter().filter(|p| p.2).count();
    if order_variables > options.max_order_variables {
        return Err(ExactError::TooLarge {
            needed: order_variables,
            limit: options.max_order_variables,
        });
    }
    let period = |hv: &HopVar| plant.streams[hv.stream].period_ns;
    let mut rows = Vec::new();
    let mut order = Vec::new();
    for &(a, b, queue) in &pairs {
        let (ha, hb) = (&hops[a], &hops[b]);
        let g = gcd(period(ha), period(hb));
        let span = (plant.streams[ha.stream].period_ns + plant.streams[ha.stream].max_latency_ns)
            .max(period(hb) + plant.streams[hb.stream].max_latency_ns);
        // |o_b - o_a| <= span, so |z| <= span / g + 1.
        let zmax = (span / g + 2).min(i32::MAX as u64 / 2) as f64;
        let gf = g as f64;
        let z = vars.add(variable().integer().min(-zmax).max(zmax));
        order.push(z);
        let diff = Expression::from(hb.offset) - ha.offset - gf * z;
        rows.push(constraint::geq(diff.clone(), ha.duration as f64));
        rows.push(constraint::leq(diff, (g - hb.duration.min(g)) as f64));
        if queue {
            let ((pa, ca), (pb, cb)) = (
                ha.arrival.expect("queue pairs are bridge hops"),
                hb.arrival.expect("queue pairs are bridge hops"),
            );
            let q = vars.add(variable().integer().min(-zmax).max(zmax));
            order.push(q);
            let arr_a = Expression::from(pa) + ca as f64;
            let arr_b = Expression::from(pb) + cb as f64;
            let arrivals = arr_b - arr_a - gf * q;
            rows.push(constraint::geq(arrivals.clone(), 1.0));
            rows.push(constraint::leq(arrivals, gf - 1.0));
            let starts = Expression::from(hb.offset) - ha.offset - gf * q;
            rows.push(constraint::geq(starts.clone(), 1.0));
            rows.push(constraint::leq(starts, gf - 1.0));
        }
    }

    let mut objective = Expression::from(0.0);
    for (c, &i) in candidates.iter().enumerate() {
        let s = &plant.streams[i];
        let first = hops[first_of[c]].offset;
        for hv in &hops[first_of[c]..first_of[c] + s.route.hops.len()] {
            if let Some((parent, constant)) = hv.arrival {
                rows.push(constraint::geq(
                    Expression::from(hv.offset),
                    Expression::from(parent) + constant as f64,
                ));
                rows.push(constraint::leq(
                    Expression::from(hv.offset) - parent,
                    (constant + s.period_ns - 1) as f64,
                ));
            }
            let port = &plant.ports[hv.port];
            if s.listeners.contains(&port.to) {
                let end = Expression::from(hv.offset) + (hv.duration + port.propagation_ns) as f64;
                rows.push(constraint::leq(
                    end.clone() - first,
                    s.max_latency_ns as f64,
                ));
                // Every talker hop counts as the start, so the bound holds whichever
                // transmission starts first.
                for other in &hops[first_of[c]..first_of[c] + s.route.hops.len()] {
                    if other.arrival.is_none() && other.offset != first {
                        rows.push(constraint::leq(
                            end.clone() - other.offset,
                            s.max_latency_ns as f64,
                        ));
                    }
                }
                objective += end - first;
            }
        }
    }

    let mut model = vars.minimise(objective).using(microlp);
    if let Some(limit) = options.time_limit {
        model = model.with_time_limit(limit.as_secs_f64());
    }
    for row in rows {
        model.add_constraint(row);
    }
    let (status, solution) = match model.solve() {
        Ok(sol) => {
            let status = match sol.status() {
                SolutionStatus::Optimal => ExactStatus::Optimal,
                _ => ExactStatus::Feasible,
            };
            (status, Some(sol))
        }
        Err(ResolutionError::Infeasible) => (ExactStatus::Infeasible, None),
        Err(ResolutionError::Other(msg)) if msg.contains("Time limit") => {
            (ExactStatus::TimedOut, None)
        }
        Err(e) => return Err(ExactError::Solver(e.to_string())),
    };

    let mut streams = Vec::new();
    match &solution {
        Some(sol) => {
            for (c, &i) in candidates.iter().enumerate() {
                let s = &plant.streams[i];
                let placed: Vec<Placed> = hops[first_of[c]..first_of[c] + s.route.hops.len()]
                    .iter()
                    .map(|hv| {
                        let value = |v: Variable| sol.value(v).round().max(0.0) as u64;
                        Placed {
                            offset: value(hv.offset),
                            duration: hv.duration,
                            arrival: hv.arrival.map(|(p, c)| value(p) + c),
                        }
                    })
                    .collect();
                streams.push(to_scheduled(plant, s, &placed));
            }
        }
        None => {
            let why = if status == ExactStatus::Infeasible {
                format!(
                    "exact mode: proven infeasible: no schedule places all {} candidate streams \
                     together (queue order, overlaps and deadlines)",
                    candidates.len()
                )
            } else {
                "exact mode: the time limit ran out before a schedule was found".to_owned()
            };
            unscheduled.extend(candidates.iter().map(|&i| (i, why.clone())));
        }
    }
    unscheduled.sort_by_key(|u| u.0);
    let ports = build_ports(plant, &streams);
    Ok(ExactOutcome {
        schedule: Schedule {
            hyperperiod_ns: plant.hyperperiod_ns,
            streams,
            ports,
            unscheduled: unscheduled
                .into_iter()
                .map(|(i, reason)| Unscheduled {
                    name: plant.streams[i].name.clone(),
                    reason,
                })
                .collect(),
        },
        status,
        order_variables,
    })
}

/// Latency of `stream` alone in the network.
fn free_run_latency(plant: &Plant, stream: &Stream) -> u64 {
    let mut end: Vec<u64> = Vec::with_capacity(stream.route.hops.len());
    let mut worst = 0;
    for rh in &stream.route.hops {
        let port = &plant.ports[rh.port];
        let start = rh.parent.map_or(0, |p| {
            end[p]
                + plant.ports[stream.route.hops[p].port].propagation_ns
                + plant.nodes[port.node].processing_ns
        });
        let e = start + port.transmission_ns(stream.frame_bytes);
        end.push(e);
        if stream.listeners.contains(&port.to) {
            worst = worst.max(e + port.propagation_ns);
        }
    }
    worst
}
