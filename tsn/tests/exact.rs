//! Exact (ILP) mode against the heuristic: both use the same constraints, so the ILP finds
//! a schedule whenever the heuristic places every stream, its schedule is never worse in
//! total latency, it proves infeasibility only where the heuristic fails too, and it
//! schedules instances the greedy heuristic cannot. Every exact schedule passes the
//! independent verifier.

use tsn::schedule::{ExactOptions, ExactStatus, Schedule, synthesize, synthesize_exact};
use tsn::verify::verify;
use tsn::{Plant, Report};

mod common;
use common::random_plant_with;

/// Sum over streams and listeners of end of reception minus first transmission: the
/// exact mode's objective, computed from a schedule as written.
fn total_latency(plant: &Plant, schedule: &Schedule) -> u64 {
    let mut sum = 0;
    for s in &schedule.streams {
        let ps = &plant.streams[plant.stream_id(&s.name).unwrap()];
        let first = s.hops[0].offset_ns;
        for h in &s.hops {
            let to = plant.node_id(&h.to).unwrap();
            if ps.listeners.contains(&to) {
                let port = plant.port_id(plant.node_id(&h.node).unwrap(), to).unwrap();
                sum += h.offset_ns + h.duration_ns + plant.ports[port].propagation_ns - first;
            }
        }
    }
    sum
}

fn assert_verifies(report: &Report, what: &str) {
    assert!(report.is_ok(), "{what}: {:#?}", report.violations);
}

/// Two streams from one talker through one bridge, periods 40 and 60 µs: the frames must
/// interleave modulo gcd = 20 µs within a 1.6 µs slack, which the greedy's earliest-first
/// placement misses and the ILP finds.
const GREEDY_MISSES: &str = "
defaults: { processing-delay: 1us }
nodes:
  - { name: sw, kind: bridge }
  - { name: l, kind: end-station }
  - { name: t0, kind: end-station }
links:
  - { ends: [sw, l] }
  - { ends: [t0, sw] }
streams:
  - { name: s0, talker: t0, listeners: [l], period: 40us, frame-size: 991, max-latency: 30us, priority: 7 }
  - { name: s1, talker: t0, listeners: [l], period: 60us, frame-size: 1266, max-latency: 52us, priority: 7 }
";

#[test]
fn exact_schedules_what_the_heuristic_misses() {
    let plant = Plant::from_yaml(GREEDY_MISSES, "greedy-misses.yaml").unwrap();
    let heuristic = synthesize(&plant);
    assert_eq!(heuristic.unscheduled.len(), 1, "{heuristic:#?}");
    let exact = synthesize_exact(&plant, ExactOptions::default()).unwrap();
    assert_eq!(exact.status, ExactStatus::Optimal);
    assert!(exact.schedule.unscheduled.is_empty());
    assert_eq!(exact.schedule.streams.len(), 2);
    assert_verifies(&verify(&plant, &exact.schedule), "exact");
}

#[test]
fn exact_proves_infeasibility() {
    // Three 7.2 µs frames every 20 µs on one talker port need
    // 108 % of the link. Each fits alone; together they cannot.
    let mut plant_text = String::from(
        "nodes:\n  - { name: sw, kind: bridge }\n  - { name: a, kind: end-station }\n  - { \
         name: b, kind: end-station }\nlinks:\n  - { ends: [a, sw] }\n  - { ends: [sw, b] \
         }\nstreams:\n",
    );
    for i in 0..3 {
        plant_text += &format!(
            "  - {{ name: s{i}, talker: a, listeners: [b], period: 20us, frame-size: 880, \
             max-latency: 20us, priority: 7 }}\n"
        );
    }
    let plant = Plant::from_yaml(&plant_text, "full.yaml").unwrap();
    let exact = synthesize_exact(&plant, ExactOptions::default()).unwrap();
    assert_eq!(exact.status, ExactStatus::Infeasible);
    assert_eq!(exact.schedule.unscheduled.len(), 3);
    assert!(
        exact.schedule.unscheduled[0]
            .reason
            .contains("proven infeasible")
    );
    assert_verifies(&verify(&plant, &exact.schedule), "empty exact schedule");
    // Two of the three fit: the heuristic places them and the ILP agrees once one stream
    // is gone.
    assert_eq!(synthesize(&plant).unscheduled.len(), 1);
    let two = Plant::from_yaml(&plant_text.replace("  - { name: s2", "# "), "two.yaml").unwrap();
    let exact = synthesize_exact(&two, ExactOptions::default()).unwrap();
    assert_eq!(exact.status, ExactStatus::Optimal);
    assert_verifies(&verify(&two, &exact.schedule), "two streams");
}

#[test]
fn exact_dominates_the_heuristic_on_random_plants() {
    let (mut optimal, mut infeasible) = (0, 0);
    for seed in 0..40 {
        let text = random_plant_with(seed, 6);
        let plant = Plant::from_yaml(&text, "p.yaml").unwrap();
        let heuristic = synthesize(&plant);
        let exact = synthesize_exact(&plant, ExactOptions::default())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_verifies(&verify(&plant, &exact.schedule), &format!("seed {seed}"));
        // Streams that miss their deadline even alone are out of both.
        let alone = exact
            .schedule
            .unscheduled
            .iter()
            .filter(|u| u.reason.contains("even without other traffic"))
            .count();
        match exact.status {
            ExactStatus::Optimal => {
                optimal += 1;
                assert_eq!(exact.schedule.unscheduled.len(), alone, "seed {seed}");
                if heuristic.unscheduled.len() == alone {
                    assert!(
                        total_latency(&plant, &exact.schedule) <= total_latency(&plant, &heuristic),
                        "seed {seed}: the ILP optimum is worse than the heuristic"
                    );
                }
            }
            ExactStatus::Infeasible => {
                infeasible += 1;
                assert!(
                    heuristic.unscheduled.len() > alone,
                    "seed {seed}: the heuristic placed what the ILP calls infeasible"
                );
            }
            other => panic!("seed {seed}: {other:?} without a time limit"),
        }
    }
    println!("{optimal} optimal, {infeasible} infeasible");
    assert!(optimal > 20 && infeasible > 0, "{optimal} {infeasible}");
}
