//! Scale bench of the heuristic: a 10 x 10 grid of bridges (100 bridges, 4 end stations
//! each), up to 50,000 unicast streams between random end stations, periods 2/4/8/16 ms,
//! frames of 64 to 256 bytes, priorities 4 to 7 (one queue each), deadline = period. Each
//! size runs in a child process so its peak memory (`ru_maxrss`) is its own. Prints a table:
//! streams placed, the busiest link's utilisation, plant load (YAML parse + routes),
//! synthesis, verifier time, peak RSS.
//!
//! The instance is realistic, not overloaded: at 50,000 streams the busiest link carries
//! about 43 % of its capacity with the routes the plant computes (least-loaded equal-cost
//! paths), and the bench asserts that no link exceeds 70 %. With first-found shortest
//! paths, which pile traffic onto the same rows and columns of the grid, the busiest link
//! would carry about 82 % (the "plain SP" column): too close to saturation for a plant
//! anyone would build, which is why routes spread over equal-cost paths.
//!
//! `cargo bench -p tsn --bench scale` (all sizes) or `-- 5000 20000` (chosen sizes).

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tsn::Plant;
use tsn::plant::shortest_paths;
use tsn::schedule::synthesize;
use tsn::verify::verify;

const SIDE: usize = 10;
const STATIONS_PER_BRIDGE: usize = 4;

fn plant_yaml(streams: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut y =
        String::from("defaults: { propagation-delay: 50ns, processing-delay: 2us }\nnodes:\n");
    for b in 0..SIDE * SIDE {
        writeln!(y, "  - {{ name: b{b}, kind: bridge }}").unwrap();
        for e in 0..STATIONS_PER_BRIDGE {
            writeln!(y, "  - {{ name: e{b}-{e}, kind: end-station }}").unwrap();
        }
    }
    y += "links:\n";
    for r in 0..SIDE {
        for c in 0..SIDE {
            let b = r * SIDE + c;
            if c + 1 < SIDE {
                writeln!(y, "  - {{ ends: [b{b}, b{}] }}", b + 1).unwrap();
            }
            if r + 1 < SIDE {
                writeln!(y, "  - {{ ends: [b{b}, b{}] }}", b + SIDE).unwrap();
            }
            for e in 0..STATIONS_PER_BRIDGE {
                writeln!(y, "  - {{ ends: [e{b}-{e}, b{b}] }}").unwrap();
            }
        }
    }
    y += "streams:\n";
    let stations = SIDE * SIDE * STATIONS_PER_BRIDGE;
    for s in 0..streams {
        let t = rng.random_range(0..stations);
        let mut l = rng.random_range(0..stations - 1);
        if l >= t {
            l += 1;
        }
        let name = |i: usize| format!("e{}-{}", i / STATIONS_PER_BRIDGE, i % STATIONS_PER_BRIDGE);
        let period = [2, 4, 8, 16][rng.random_range(0..4)];
        writeln!(
            y,
            "  - {{ name: s{s}, talker: {}, listeners: [{}], period: {period}ms, frame-size: {}, \
             max-latency: {}us, priority: {} }}",
            name(t),
            name(l),
            rng.random_range(64..=256),
            period * 1000,
            rng.random_range(4..8)
        )
        .unwrap();
    }
    y
}

/// The largest share of any link's capacity the streams' frames use: with the routes as
/// resolved (least-loaded equal-cost paths), and with plain first-found shortest paths.
fn max_link_utilisation(plant: &Plant) -> (f64, f64) {
    let mut busy = vec![0.0f64; plant.ports.len()];
    let mut plain = vec![0.0f64; plant.ports.len()];
    for s in &plant.streams {
        let share = |port: usize| {
            plant.ports[port].transmission_ns(s.frame_bytes) as f64 / s.period_ns as f64
        };
        for hop in &s.route.hops {
            busy[hop.port] += share(hop.port);
        }
        for path in shortest_paths(plant, s.talker, &s.listeners)
            .into_iter()
            .flatten()
        {
            for pair in path.windows(2) {
                let port = plant.port_id(pair[0], pair[1]).expect("a link");
                plain[port] += share(port);
            }
        }
    }
    let max = |v: Vec<f64>| v.into_iter().fold(0.0, f64::max);
    (max(busy), max(plain))
}

fn max_rss_kib() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we pass; no other invariants.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}

fn one(streams: usize) {
    let yaml = plant_yaml(streams, 1);
    let t = Instant::now();
    let plant = Plant::from_yaml(&yaml, "scale.yaml").expect("plant");
    drop(yaml);
    let load = t.elapsed().as_secs_f64();
    let (util, plain_util) = max_link_utilisation(&plant);
    // The instance is meant to be realistic: well below saturation on every link.
    assert!(util <= 0.7, "busiest link at {:.0} %", util * 100.0);
    let t = Instant::now();
    let schedule = synthesize(&plant);
    let synth = t.elapsed().as_secs_f64();
    let rss_synth = max_rss_kib();
    let t = Instant::now();
    let report = verify(&plant, &schedule);
    let check = t.elapsed().as_secs_f64();
    assert!(
        report.is_ok(),
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    let placed = schedule.streams.len();
    if std::env::var_os("SCALE_REASONS").is_some() {
        let mut reasons = std::collections::BTreeMap::<String, usize>::new();
        for u in &schedule.unscheduled {
            // The reason without the port, which differs from stream to stream.
            let key: String = u
                .reason
                .split_once(": ")
                .map_or(u.reason.as_str(), |(_, why)| why)
                .chars()
                .take(60)
                .collect();
            *reasons.entry(key).or_default() += 1;
        }
        eprintln!("{reasons:#?}");
    }
    println!(
        "{streams:>8} {:>8} {:>7.2}% {:>8.1}% {:>8.1}% {load:>8.2} {synth:>9.2} {check:>9.2} {:>10.0} {:>10.0}",
        placed,
        100.0 * placed as f64 / streams as f64,
        100.0 * util,
        100.0 * plain_util,
        rss_synth as f64 / 1024.0,
        max_rss_kib() as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [flag, n] = args.as_slice()
        && flag == "--one"
    {
        one(n.parse().expect("size"));
        return;
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![1_000, 5_000, 10_000, 20_000, 50_000]
    } else {
        args.iter()
            .map(|a| a.parse().expect("a number of streams"))
            .collect()
    };
    println!(
        "{} bridges ({}x{} grid), {} end stations, periods 2/4/8/16 ms, 64-256 B frames, priorities 4-7 (4 queues)",
        SIDE * SIDE,
        SIDE,
        SIDE,
        SIDE * SIDE * STATIONS_PER_BRIDGE
    );
    println!(
        "{:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>9} {:>9} {:>10} {:>10}",
        "streams",
        "placed",
        "placed",
        "max link",
        "plain SP",
        "load s",
        "synth s",
        "verify s",
        "peak MiB*",
        "peak MiB**"
    );
    let exe = std::env::current_exe().expect("own path");
    for n in sizes {
        let status = Command::new(&exe)
            .args(["--one", &n.to_string()])
            .status()
            .expect("run child");
        assert!(status.success(), "size {n} failed");
    }
    println!(
        "max link: busiest link's utilisation with our routes (least-loaded equal-cost paths); \
         plain SP: the same with first-found shortest paths"
    );
    println!("* peak RSS after load + synthesis; ** after the verifier too (one process per size)");
}
