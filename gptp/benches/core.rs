//! Per-message cost of the gPTP core: a slave handling one Sync + Follow_Up pair (servo
//! sample included), and a relay forwarding one (Sync out, transmit timestamp, Follow_Up).

use criterion::{Criterion, criterion_group, criterion_main};
use gptp::sim::{ScenarioConfig, run};

fn bench(c: &mut Criterion) {
    // A whole simulated second of a 4-hop chain: every message of 5 cores plus the
    // simulator; divide by the message count printed by `gptp-sim` for a per-message figure.
    c.bench_function("chain4_1s_simulated", |b| {
        b.iter(|| {
            run(&ScenarioConfig {
                hops: 4,
                seconds: 1.0,
                ..ScenarioConfig::default()
            })
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
