//! `gptp-sim`: runs gPTP scenarios on the deterministic simulator and prints per-node
//! lock time and error against the grandmaster (a table, or JSON with `--json`).

use clap::{Parser, ValueEnum};
use gptp::sim::{Scenario, ScenarioConfig, run};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScenarioArg {
    Chain,
    Ring,
    GmFailover,
}

/// Run a gPTP scenario on the simulator.
#[derive(Debug, Parser)]
#[command(name = "gptp-sim", version)]
struct Args {
    /// Topology.
    #[arg(long, value_enum, default_value = "chain")]
    scenario: ScenarioArg,
    /// Links from the grandmaster to the farthest node (ring: number of bridges besides the
    /// grandmaster).
    #[arg(long, default_value_t = 1)]
    hops: usize,
    /// Clock frequency errors are drawn uniformly in ±ppm.
    #[arg(long, default_value_t = 100.0)]
    ppm: f64,
    /// Simulated seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timestamp granularity in ns.
    #[arg(long = "stamp-ns", default_value_t = 8)]
    stamp_ns: u32,
    /// Frame loss probability on every link.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() {
    let a = Args::parse();
    let cfg = ScenarioConfig {
        scenario: match a.scenario {
            ScenarioArg::Chain => Scenario::Chain,
            ScenarioArg::Ring => Scenario::Ring,
            ScenarioArg::GmFailover => Scenario::GmFailover,
        },
        hops: a.hops.max(1),
        ppm: a.ppm,
        seconds: a.seconds,
        seed: a.seed,
        stamp_ns: a.stamp_ns,
        loss: a.loss,
        ..ScenarioConfig::default()
    };
    let report = run(&cfg);
    if a.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("gptp-sim: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    println!(
        "scenario {:?}, grandmaster {}, passive ports {}",
        report.scenario, report.gm, report.passive_ports
    );
    println!(
        "{:<12} {:>4} {:>12} {:>18} {:>16}",
        "node", "hop", "lock_time_s", "max_abs_error_ns", "final_error_ns"
    );
    for n in &report.nodes {
        let lock = n.lock_time_s.map_or("-".into(), |v| format!("{v:.1}"));
        let err = n.max_abs_error_ns.map_or("-".into(), |v| format!("{v:.1}"));
        println!(
            "{:<12} {:>4} {:>12} {:>18} {:>16.1}",
            n.name, n.hop, lock, err, n.final_error_ns
        );
    }
}
