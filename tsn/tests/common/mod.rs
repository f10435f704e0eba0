//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    reason = "each test binary uses its own subset of the helpers"
)]

use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random connected plant as YAML: bridges on a random tree plus a few extra links, end
/// stations on random bridges, streams between random end stations.
pub(crate) fn random_plant(seed: u64) -> String {
    random_plant_with(seed, 16)
}

/// [`random_plant`] with at most `max_streams` streams.
pub(crate) fn random_plant_with(seed: u64, max_streams: usize) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bridges = rng.random_range(1..=6usize);
    let stations = rng.random_range(2..=8usize);
    let mut y = String::new();
    writeln!(
        y,
        "defaults: {{ propagation-delay: {}ns, processing-delay: {}ns }}",
        rng.random_range(0..500u32),
        rng.random_range(500..5_000u32)
    )
    .unwrap();
    y += "nodes:\n";
    for b in 0..bridges {
        let classes = if rng.random_bool(0.3) {
            ", traffic-classes: 4"
        } else {
            ""
        };
        writeln!(y, "  - {{ name: br{b}, kind: bridge{classes} }}").unwrap();
    }
    for e in 0..stations {
        writeln!(y, "  - {{ name: es{e}, kind: end-station }}").unwrap();
    }
    y += "links:\n";
    let speed = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.2) {
            "100Mbps"
        } else {
            "1Gbps"
        }
    };
    let mut linked = std::collections::HashSet::new();
    for b in 1..bridges {
        let to = rng.random_range(0..b);
        linked.insert((to, b));
        writeln!(
            y,
            "  - {{ ends: [br{to}, br{b}], speed: {} }}",
            speed(&mut rng)
        )
        .unwrap();
    }
    for _ in 0..rng.random_range(0..=2) {
        let (a, b) = (rng.random_range(0..bridges), rng.random_range(0..bridges));
        if a < b && linked.insert((a, b)) {
            writeln!(y, "  - {{ ends: [br{a}, br{b}] }}").unwrap();
        }
    }
    for e in 0..stations {
        let b = rng.random_range(0..bridges);
        writeln!(
            y,
            "  - {{ ends: [es{e}, br{b}], speed: {} }}",
            speed(&mut rng)
        )
        .unwrap();
    }
    y += "streams:\n";
    for s in 0..rng.random_range(1..=max_streams) {
        let talker = rng.random_range(0..stations);
        let mut listeners = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let l = rng.random_range(0..stations);
            if l != talker && !listeners.contains(&l) {
                listeners.push(l);
            }
        }
        if listeners.is_empty() {
            listeners.push((talker + 1) % stations);
        }
        let listeners: Vec<String> = listeners.iter().map(|l| format!("es{l}")).collect();
        let period = [125, 250, 500, 1000][rng.random_range(0..4)];
        writeln!(
            y,
            "  - {{ name: s{s}, talker: es{talker}, listeners: [{}], period: {period}us, \
             frame-size: {}, max-latency: {}us, priority: {} }}",
            listeners.join(", "),
            rng.random_range(40..=1500),
            rng.random_range(10..=2 * period),
            rng.random_range(0..8)
        )
        .unwrap();
    }
    y
}
