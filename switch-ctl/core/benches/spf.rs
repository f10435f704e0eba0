//! All-sources SPF timing: `cargo bench -p switch-ctl-core --bench spf`.
//!
//! Random connected topologies (a random spanning tree plus random links, average degree
//! about 4, metrics 1..=10) and square grids with metric 1 (many equal-cost ties), for
//! 100 to 5,000 bridges. Prints the best of a few runs per size. The goal is all ECT-1 trees
//! of 1,000 random bridges in at most 100 ms on 2 cores.

use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use switch_ctl_core::spf::{BridgeId, EctAlgorithm, Spf, SystemId, Topology};

/// Seeded ChaCha8: the same topologies on every platform and run.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }
}

fn bridges(n: usize) -> Topology {
    let mut t = Topology::new();
    for i in 0..n {
        let b = (i as u64 + 1).to_be_bytes();
        let id = SystemId([b[2], b[3], b[4], b[5], b[6], b[7]]);
        t.add_bridge(BridgeId::new(BridgeId::DEFAULT_PRIORITY, id))
            .expect("distinct system IDs");
    }
    t
}

fn random(n: usize, seed: u64) -> Topology {
    let mut rng = Rng::new(seed);
    let mut t = bridges(n);
    for v in 1..n {
        let u = rng.below(v);
        t.set_link(u, v, 1 + rng.below(10) as u32)
            .expect("valid link");
    }
    while t.link_count() < 2 * n {
        let (a, b) = (rng.below(n), rng.below(n));
        if a != b && t.metric(a, b).is_none() {
            t.set_link(a, b, 1 + rng.below(10) as u32)
                .expect("valid link");
        }
    }
    t
}

fn grid(side: usize) -> Topology {
    let mut t = bridges(side * side);
    for r in 0..side {
        for c in 0..side {
            let v = r * side + c;
            if c + 1 < side {
                t.set_link(v, v + 1, 1).expect("valid link");
            }
            if r + 1 < side {
                t.set_link(v, v + side, 1).expect("valid link");
            }
        }
    }
    t
}

fn time(t: &Topology, ects: &[EctAlgorithm], runs: usize, threads: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let spf = Spf::compute_with_threads(t, ects, threads);
            let elapsed = start.elapsed();
            std::hint::black_box(&spf);
            elapsed
        })
        .min()
        .unwrap_or_default()
}

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`, ns), so single-thread
/// rows stay meaningful on a loaded machine.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn row(kind: &str, t: &Topology, ects: &[EctAlgorithm], threads: usize) {
    let n = t.len();
    let runs = if n <= 1000 { 5 } else { 2 };
    let cpu0 = thread_cpu();
    let d = time(t, ects, runs, threads);
    let cpu = match (cpu0, thread_cpu()) {
        (Some(a), Some(b)) if threads == 1 => {
            format!("{:.1}", (b - a).as_secs_f64() * 1e3 / runs as f64)
        }
        _ => "-".to_owned(),
    };
    let ms = d.as_secs_f64() * 1e3;
    println!(
        "{kind:<8} {n:>7} {links:>7} {k:>4} {threads:>7} {ms:>12.1} {per:>12.4} {cpu:>10}",
        links = t.link_count(),
        k = ects.len(),
        per = ms / n as f64,
    );
}

/// Optional arguments: bridge counts to run instead of the default list (`-- 1000`).
fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 500, 1000, 2000, 5000]
    } else {
        sizes
    };
    println!("all-sources SPF, best of 5 (<= 1000 bridges) or 2 runs");
    println!(
        "{:<8} {:>7} {:>7} {:>4} {:>7} {:>12} {:>12} {:>10}",
        "graph", "bridges", "links", "ects", "threads", "ms all trees", "ms per tree", "cpu ms/run"
    );
    let ect1 = [EctAlgorithm::LOW_PATH_ID];
    for &n in &sizes {
        let t = random(n, n as u64);
        row("random", &t, &ect1, threads);
        if n == 1000 {
            row("random", &t, &ect1, 1);
        }
    }
    for &n in &sizes {
        let side = (n as f64).sqrt().round() as usize;
        row("grid", &grid(side), &ect1, threads);
    }
    if sizes.contains(&1000) {
        let all: Vec<EctAlgorithm> = EctAlgorithm::all().collect();
        row("random", &random(1000, 1000), &all, threads);
    }
}
