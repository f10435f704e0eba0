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

/// A 4 x 4 grid of bridges with three end stations each and `streams` random unicast
/// streams (periods 1/2/4 ms, 64-1500 byte frames, priorities 5-7, deadline half the
/// period), as YAML.
fn grid_plant(streams: usize, seed: u64) -> String {
    use std::fmt::Write as _;
    const SIDE: usize = 4;
    const STATIONS: usize = 3;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut y = String::from("defaults: { propagation-delay: 100ns, processing-delay: 3us }\n");
    y += "nodes:\n";
    for b in 0..SIDE * SIDE {
        writeln!(y, "  - {{ name: b{b}, kind: bridge }}").unwrap();
        for e in 0..STATIONS {
            writeln!(y, "  - {{ name: e{b}-{e}, kind: end-station }}").unwrap();
        }
    }
    y += "links:\n";
    for b in 0..SIDE * SIDE {
        if b % SIDE + 1 < SIDE {
            writeln!(y, "  - {{ ends: [b{b}, b{}] }}", b + 1).unwrap();
        }
        if b + SIDE < SIDE * SIDE {
            writeln!(y, "  - {{ ends: [b{b}, b{}] }}", b + SIDE).unwrap();
        }
        for e in 0..STATIONS {
            writeln!(y, "  - {{ ends: [e{b}-{e}, b{b}] }}").unwrap();
        }
    }
    y += "streams:\n";
    let stations = SIDE * SIDE * STATIONS;
    let name = |i: usize| format!("e{}-{}", i / STATIONS, i % STATIONS);
    for s in 0..streams {
        let t = rng.random_range(0..stations);
        let l = (t + rng.random_range(1..stations)) % stations;
        let period = [1, 2, 4][rng.random_range(0..3)];
        writeln!(
            y,
            "  - {{ name: s{s}, talker: {}, listeners: [{}], period: {period}ms, frame-size: {}, \
             max-latency: {}us, priority: {} }}",
            name(t),
            name(l),
            rng.random_range(64..=1500),
            period * 500,
            rng.random_range(5..8)
        )
        .unwrap();
    }
    y
}

/// Per port and traffic class, whether two frames of different streams ever wait in the
/// queue at the same time (their intervals from enqueueing to transmission overlap).
fn some_queue_is_shared(plant: &Plant, schedule: &tsn::Schedule) -> bool {
    use std::collections::HashMap;
    let h = schedule.hyperperiod_ns;
    // (port, traffic class) -> (enqueued, starts, stream) of every frame instance.
    type Waits = HashMap<(usize, u8), Vec<(u64, u64, usize)>>;
    let mut waits = Waits::new();
    for (i, s) in schedule.streams.iter().enumerate() {
        for hop in &s.hops {
            let Some(parent) = s.hops.iter().find(|p| p.to == hop.node) else {
                continue; // the talker's hop
            };
            let from = plant.node_id(&parent.node).unwrap();
            let node = plant.node_id(&hop.node).unwrap();
            let prop = plant.ports[plant.port_id(from, node).unwrap()].propagation_ns;
            let arrival =
                parent.offset_ns + parent.duration_ns + prop + plant.nodes[node].processing_ns;
            let port = plant
                .port_id(node, plant.node_id(&hop.to).unwrap())
                .unwrap();
            for k in 0..h / s.period_ns {
                let shift = k * s.period_ns;
                waits.entry((port, hop.traffic_class)).or_default().push((
                    arrival + shift,
                    hop.offset_ns + shift,
                    i,
                ));
            }
        }
    }
    waits.values_mut().any(|list| {
        list.sort_unstable();
        list.windows(2).any(|w| w[1].0 < w[0].1 && w[0].2 != w[1].2)
    })
}

/// A dense but realistic instance (no link above 70 % of its capacity): the heuristic
/// places over 99 % of the streams, frames of different streams do share queues (in FIFO
/// order), and the independent verifier, replay included, accepts the schedule.
#[test]
fn dense_grid_places_nearly_every_stream() {
    let streams = 2400;
    let plant = Plant::from_yaml(&grid_plant(streams, 7), "grid.yaml").unwrap();
    let mut load = vec![0.0f64; plant.ports.len()];
    for s in &plant.streams {
        for hop in &s.route.hops {
            load[hop.port] +=
                plant.ports[hop.port].transmission_ns(s.frame_bytes) as f64 / s.period_ns as f64;
        }
    }
    let busiest = load.iter().copied().fold(0.0, f64::max);
    assert!((0.3..0.7).contains(&busiest), "busiest link {busiest}");
    let schedule = synthesize(&plant);
    let report = verify(&plant, &schedule);
    assert!(
        report.is_ok(),
        "{:#?}",
        &report.violations[..report.violations.len().min(5)]
    );
    let placed = schedule.streams.len();
    println!(
        "{placed} of {streams} placed, busiest link {:.0} %",
        busiest * 100.0
    );
    assert!(
        placed * 100 > streams * 99,
        "{placed} of {streams}: {:?}",
        schedule.unscheduled.first()
    );
    assert!(some_queue_is_shared(&plant, &schedule));
}

/// A talker attached to two bridges sends one frame per period on each port; the first
/// transmission marks the start of the latency, whichever port it is on, and busy ports
/// push both later.
#[test]
fn talker_with_two_ports() {
    let mut text = String::from(
        "nodes:
  - { name: b1, kind: bridge }
  - { name: b2, kind: bridge }
  - { name: t, kind: end-station }
  - { name: l1, kind: end-station }
  - { name: l2, kind: end-station }
links:
  - { ends: [t, b1] }
  - { ends: [t, b2] }
  - { ends: [b1, l1] }
  - { ends: [b2, l2] }
streams:
",
    );
    for i in 0..6 {
        text += &format!(
            "  - {{ name: u{i}, talker: t, listeners: [l2], period: 100us, frame-size: 1000, \
             max-latency: 100us, priority: 7 }}\n"
        );
    }
    // Placed last (same deadline and period, later in the file): t->b2 is partly busy.
    text += "  - { name: both, talker: t, listeners: [l1, l2], period: 100us, frame-size: 1000, \
             max-latency: 100us, priority: 7 }\n";
    let plant = Plant::from_yaml(&text, "two-ports.yaml").unwrap();
    let schedule = synthesize(&plant);
    let report = verify(&plant, &schedule);
    assert!(report.is_ok(), "{:#?}", report.violations);
    assert!(
        schedule.unscheduled.is_empty(),
        "{:?}",
        schedule.unscheduled
    );
    let both = schedule.stream("both").unwrap();
    let talker_hops: Vec<u64> = both
        .hops
        .iter()
        .filter(|h| h.node == "t")
        .map(|h| h.offset_ns)
        .collect();
    assert_eq!(talker_hops.len(), 2);
    // The first hop (towards l1) starts the frame; the other is not earlier.
    assert!(talker_hops[1] >= talker_hops[0], "{talker_hops:?}");
    assert!(both.latency_ns <= 100_000);
}
