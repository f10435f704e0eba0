//! Simulator throughput: rings of nodes exchanging gPTP-rate traffic.
//!
//! `cargo bench -p tsn-netsim --bench throughput` prints one row per scenario: simulated
//! seconds, events processed, frames delivered, wall-clock seconds and events per second.
//! Only this binary reads the host clock; the simulator never does.

use std::time::Instant;
use tsn_netsim::traffic::GptpRateNode;
use tsn_netsim::{ClockModel, Direction, LinkConfig, LinkParams, NodeConfig, PortId, Simulator};
use tsn_time::Duration;

struct Scenario {
    name: &'static str,
    nodes: u32,
    secs: i64,
    realistic: bool,
}

/// `n` nodes in a ring, port 0 of each to port 1 of the next, 1 Gbit/s links.
fn ring(seed: u64, n: u32, realistic: bool) -> Simulator {
    let mut sim = Simulator::new(seed);
    let ids: Vec<_> = (0..n)
        .map(|i| {
            let clock = if realistic {
                // Spread of oscillator errors, an 8 ns timestamping unit with noise, and a
                // frequency random walk.
                ClockModel::ideal()
                    .with_ppm(f64::from(i % 21) * 5.0 - 50.0)
                    .with_offset(Duration::from_micros(i64::from(i) * 37))
                    .with_granularity(Duration::from_nanos(8))
                    .with_noise(Duration::from_nanos(4))
                    .with_random_walk(1.0)
            } else {
                ClockModel::ideal()
            };
            sim.add_node(NodeConfig::new(2).with_clock(clock), GptpRateNode::new(2))
        })
        .collect();
    let params = if realistic {
        LinkParams::default()
            .with_jitter(Duration::from_nanos(20))
            .with_loss(0.001)
    } else {
        LinkParams::default()
    };
    for i in 0..ids.len() {
        let next = ids[(i + 1) % ids.len()];
        sim.connect(
            (ids[i], PortId(0)),
            (next, PortId(1)),
            LinkConfig::symmetric(params),
        )
        .expect("fresh ports");
    }
    sim
}

fn main() {
    let scenarios = [
        Scenario {
            name: "ring, ideal clocks and links",
            nodes: 100,
            secs: 60,
            realistic: false,
        },
        Scenario {
            name: "ring, noisy clocks, jitter+loss",
            nodes: 100,
            secs: 60,
            realistic: true,
        },
        Scenario {
            name: "ring, noisy clocks, jitter+loss",
            nodes: 1000,
            secs: 10,
            realistic: true,
        },
    ];
    println!(
        "{:<34} {:>6} {:>7} {:>11} {:>11} {:>8} {:>12} {:>10}",
        "scenario", "nodes", "sim s", "events", "frames", "wall s", "events/s", "sim/wall"
    );
    for s in &scenarios {
        let mut sim = ring(1, s.nodes, s.realistic);
        let start = Instant::now();
        sim.run_for(Duration::from_secs(s.secs));
        let wall = start.elapsed().as_secs_f64();
        let frames: u64 = sim
            .link_ids()
            .map(|l| {
                sim.link_counters(l, Direction::AtoB).delivered
                    + sim.link_counters(l, Direction::BtoA).delivered
            })
            .sum();
        let events = sim.events_processed();
        println!(
            "{:<34} {:>6} {:>7} {:>11} {:>11} {:>8.3} {:>12.0} {:>9.0}x",
            s.name,
            s.nodes,
            s.secs,
            events,
            frames,
            wall,
            events as f64 / wall,
            s.secs as f64 / wall,
        );
        // Sanity: every port sends 20 frames per simulated second.
        let expected = u64::from(s.nodes) * 2 * 20 * s.secs as u64;
        assert!(
            frames as f64 > 0.97 * expected as f64,
            "{frames} frames, expected about {expected}"
        );
    }
}
