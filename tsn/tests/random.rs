//! Seeded random plants: every schedule the heuristic produces passes the independent
//! verifier, every stream is either scheduled or reported with a reason, and synthesis is
//! deterministic.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tsn::Plant;
use tsn::schedule::synthesize;
use tsn::verify::verify;

mod common;
use common::random_plant;

#[test]
fn random_plants_verify() {
    let (mut scheduled, mut total) = (0, 0);
    for seed in 0..150 {
        let text = random_plant(seed);
        let plant = Plant::from_yaml(&text, &format!("seed-{seed}.yaml"))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let schedule = synthesize(&plant);
        let report = verify(&plant, &schedule);
        assert!(
            report.is_ok(),
            "seed {seed}: {:#?}\n{text}",
            report.violations
        );
        assert_eq!(
            schedule.streams.len() + schedule.unscheduled.len(),
            plant.streams.len(),
            "seed {seed}"
        );
        for u in &schedule.unscheduled {
            assert!(
                !u.reason.is_empty(),
                "seed {seed}: {} has no reason",
                u.name
            );
        }
        assert_eq!(
            schedule,
            synthesize(&plant),
            "seed {seed}: not deterministic"
        );
        scheduled += schedule.streams.len();
        total += plant.streams.len();
    }
    println!("{scheduled} of {total} streams scheduled");
    // Sanity: the generator is not so hard that nothing is scheduled.
    assert!(scheduled * 2 > total, "{scheduled} of {total}");
}

/// The verifier never panics, whatever the offsets, durations and lists say, and a schedule
/// whose offsets were disturbed is rejected unless the disturbance happens to be harmless.
#[test]
fn verifier_survives_arbitrary_edits() {
    use tsn::schedule::build_ports;
    let mut rejected = 0;
    for seed in 0..60 {
        let plant = Plant::from_yaml(&random_plant(seed), "p.yaml").unwrap();
        let good = synthesize(&plant);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xdead_beef);
        for _ in 0..5 {
            let mut s = good.clone();
            if s.streams.is_empty() {
                break;
            }
            let i = rng.random_range(0..s.streams.len());
            let h = rng.random_range(0..s.streams[i].hops.len());
            let hop = &mut s.streams[i].hops[h];
            match rng.random_range(0..4) {
                0 => hop.offset_ns = rng.random_range(0..u64::MAX),
                1 => hop.offset_ns = hop.offset_ns.saturating_sub(rng.random_range(1..5_000)),
                2 => hop.duration_ns = rng.random_range(0..u64::MAX),
                _ => hop.offset_ns += rng.random_range(1..50_000),
            }
            if rng.random_bool(0.5) {
                s.ports = build_ports(&plant, &s.streams);
            } else if let Some(p) = s.ports.first_mut() {
                p.gcl[0].duration_ns = rng.random_range(0..u64::MAX);
            }
            if !verify(&plant, &s).is_ok() {
                rejected += 1;
            }
        }
    }
    assert!(rejected > 200, "{rejected}");
}
