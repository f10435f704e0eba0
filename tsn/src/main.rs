//! `tsn`: 802.1Qbv schedules for a whole network.
//!
//! Exit codes: 0 success; 1 the schedule violates the plant (`verify`) or another error;
//! 2 usage error; 65 some stream could not be scheduled (`schedule`), or the verified
//! schedule is valid but leaves streams unscheduled (`verify`); 66 a file cannot be read or
//! the schedule file is not a schedule; 78 invalid plant file (each problem on stderr with
//! file, line, column and YAML path).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tsn::plant::{NodeId, Plant, Stream};
use tsn::schedule::Schedule;
use tsn::verify::verify;
use tsn_config::ConfigError;

// 65 here: some stream is unscheduled.
use tsn_config::exit::{
    CONFIG as EXIT_CONFIG, INFEASIBLE as EXIT_INFEASIBLE, NO_INPUT as EXIT_NO_INPUT,
};

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 violations or other error, 2 usage, 65 some \
                          stream unscheduled, 66 unreadable file, 78 invalid plant.";

#[derive(Debug, Parser)]
#[command(
    name = "tsn",
    version,
    about = "IEEE 802.1Qbv schedule synthesis and verification for a whole network",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply a schedule to this host's interfaces (taprio over rtnetlink), all or none.
    /// Exit codes also: 69 kernel/NIC lacks the qdisc, 77 needs CAP_NET_ADMIN.
    #[command(after_help = EXIT_CODES)]
    Apply(tsn::apply::cmd::ApplyArgs),
    /// Show an interface's qdiscs (taprio schedule with every entry, mqprio, etf, cbs).
    #[command(after_help = EXIT_CODES)]
    Show(tsn::apply::cmd::ShowArgs),
    /// Check a plant file and show each stream's route.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// Plant YAML.
        plant: PathBuf,
    },
    /// Compute the offsets of every stream and hop and the gate control list of every port.
    #[command(after_help = EXIT_CODES)]
    Schedule {
        /// Plant YAML.
        plant: PathBuf,
        /// Write the JSON schedule to FILE.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the JSON schedule on stdout instead of a summary.
        #[arg(long)]
        json: bool,
        /// `heuristic` (fast, large plants) or `exact` (ILP, small plants).
        #[arg(long, default_value = "heuristic", value_name = "MODE")]
        mode: tsn::schedule::Mode,
        /// Same as `--mode exact`.
        #[arg(long)]
        exact: bool,
        /// Exact mode: stop the solver after SECONDS (keeps the best schedule found).
        #[arg(long, value_name = "SECONDS")]
        time_limit: Option<f64>,
    },
    /// Check a JSON schedule (ours or imported) against a plant, replaying every port.
    #[command(after_help = EXIT_CODES)]
    Verify {
        /// Plant YAML.
        plant: PathBuf,
        /// JSON schedule.
        schedule: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Draw a schedule as an SVG Gantt chart: per port, gate states and transmissions over
    /// the hyperperiod.
    #[command(after_help = EXIT_CODES)]
    Gantt {
        /// Plant YAML.
        plant: PathBuf,
        /// JSON schedule.
        schedule: PathBuf,
        /// The SVG file to write.
        #[arg(short, long, value_name = "FILE.svg")]
        output: PathBuf,
    },
    /// Convert tsnkit's dataset CSVs (stream,src,dst,size,period,deadline,jitter and
    /// link,q_num,rate,t_proc,t_prop) into a plant file; node ids become node names.
    #[command(after_help = EXIT_CODES)]
    ImportTsnkit {
        /// tsnkit stream file (`*_task.csv`).
        streams: PathBuf,
        /// tsnkit topology file (`*_topo.csv`).
        topology: PathBuf,
        /// The plant YAML to write.
        #[arg(short, long, value_name = "PLANT.yaml")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Apply(args) => tsn::apply::cmd::run_apply(args).map(ExitCode::from),
        Command::Show(args) => tsn::apply::cmd::run_show(args).map(ExitCode::from),
        Command::Validate { plant } => validate(plant),
        Command::Schedule {
            plant,
            output,
            json,
            mode,
            exact,
            time_limit,
        } => {
            let mode = if *exact {
                tsn::schedule::Mode::Exact
            } else {
                *mode
            };
            let limit = time_limit.map(std::time::Duration::from_secs_f64);
            schedule(plant, output.as_deref(), *json, mode, limit)
        }
        Command::Verify {
            plant,
            schedule,
            json,
        } => verify_cmd(plant, schedule, *json),
        Command::Gantt {
            plant,
            schedule,
            output,
        } => gantt_cmd(plant, schedule, output),
        Command::ImportTsnkit {
            streams,
            topology,
            output,
        } => import_tsnkit(streams, topology, output),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if let Some(config) = err.downcast_ref::<ConfigError>() {
                eprint!("{}", config.render_snippets());
                if matches!(config, ConfigError::Read { .. }) {
                    eprintln!();
                }
                return ExitCode::from(config.exit_code());
            }
            if let Some(tsn::Error::Io { .. } | tsn::Error::Json { .. }) = err.downcast_ref() {
                eprintln!("tsn: {err}");
                return ExitCode::from(EXIT_NO_INPUT);
            }
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("tsn: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Node names from the talker to `listener` along the stream's route.
fn path_to(plant: &Plant, stream: &Stream, listener: NodeId) -> Vec<String> {
    let hops = &stream.route.hops;
    let mut at = hops.iter().position(|h| plant.ports[h.port].to == listener);
    let mut names = vec![plant.nodes[listener].name.clone()];
    while let Some(h) = at {
        names.push(plant.nodes[plant.ports[hops[h].port].node].name.clone());
        at = hops[h].parent;
    }
    names.reverse();
    names
}

fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let plant = Plant::load(path)?;
    let bridges = plant
        .nodes
        .iter()
        .filter(|n| n.kind == tsn::plant::NodeKind::Bridge)
        .count();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: ok: {} nodes ({bridges} bridges), {} links, {} streams, hyperperiod {} ns",
        path.display(),
        plant.nodes.len(),
        plant.ports.len() / 2,
        plant.streams.len(),
        plant.hyperperiod_ns
    )?;
    for s in &plant.streams {
        let paths: Vec<String> = s
            .listeners
            .iter()
            .map(|&l| path_to(&plant, s, l).join(" -> "))
            .collect();
        writeln!(
            out,
            "  {}: {} (period {} ns, {} B, max-latency {} ns, priority {})",
            s.name,
            paths.join("; "),
            s.period_ns,
            s.frame_bytes,
            s.max_latency_ns,
            s.priority
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn schedule(
    path: &Path,
    output: Option<&Path>,
    json: bool,
    mode: tsn::schedule::Mode,
    time_limit: Option<std::time::Duration>,
) -> anyhow::Result<ExitCode> {
    let plant = Plant::load(path)?;
    let (schedule, note) = tsn::schedule::synthesize_mode(&plant, mode, time_limit)?;
    if let Some(note) = note {
        eprintln!("tsn: {note}");
    }
    let text = serde_json::to_string_pretty(&schedule)? + "\n";
    if let Some(output) = output {
        std::fs::write(output, &text).with_context(|| format!("writing {}", output.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        out.write_all(text.as_bytes())?;
    } else {
        write_summary(&mut out, &schedule)?;
    }
    if schedule.unscheduled.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(EXIT_INFEASIBLE))
    }
}

fn write_summary(out: &mut impl std::io::Write, schedule: &Schedule) -> std::io::Result<()> {
    let total = schedule.streams.len() + schedule.unscheduled.len();
    writeln!(
        out,
        "scheduled {} of {total} streams, hyperperiod {} ns, {} gate control lists",
        schedule.streams.len(),
        schedule.hyperperiod_ns,
        schedule.ports.len()
    )?;
    for s in &schedule.streams {
        let hops: Vec<String> = s
            .hops
            .iter()
            .map(|h| format!("{}->{}@{}", h.node, h.to, h.offset_ns))
            .collect();
        writeln!(
            out,
            "  {}: latency {} ns (deadline {} ns): {}",
            s.name,
            s.latency_ns,
            s.deadline_ns,
            hops.join(" ")
        )?;
    }
    for u in &schedule.unscheduled {
        writeln!(out, "  {}: UNSCHEDULED: {}", u.name, u.reason)?;
    }
    for p in &schedule.ports {
        writeln!(
            out,
            "  port {}->{}: cycle {} ns, {} entries",
            p.node,
            p.to,
            p.cycle_ns,
            p.gcl.len()
        )?;
    }
    Ok(())
}

fn verify_cmd(plant_path: &Path, schedule_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let plant = Plant::load(plant_path)?;
    let schedule = Schedule::load(schedule_path)?;
    let report = verify(&plant, &schedule);
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        for v in &report.violations {
            writeln!(out, "violation: {}: {v}", v.kind())?;
        }
        if report.is_ok() {
            writeln!(
                out,
                "{}: ok: {} streams scheduled, {} unscheduled, {} ports replayed over {} ns",
                schedule_path.display(),
                report.scheduled,
                report.unscheduled,
                schedule.ports.len(),
                plant.hyperperiod_ns
            )?;
        } else {
            writeln!(
                out,
                "{}: {} violation(s)",
                schedule_path.display(),
                report.violations.len()
            )?;
        }
    }
    Ok(if !report.is_ok() {
        ExitCode::FAILURE
    } else if report.unscheduled > 0 {
        ExitCode::from(EXIT_INFEASIBLE)
    } else {
        ExitCode::SUCCESS
    })
}

fn gantt_cmd(plant: &Path, schedule: &Path, output: &Path) -> anyhow::Result<ExitCode> {
    let plant = Plant::load(plant)?;
    let schedule = Schedule::load(schedule)?;
    std::fs::write(output, tsn::gantt::render(&plant, &schedule))
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn import_tsnkit(streams: &Path, topology: &Path, output: &Path) -> anyhow::Result<ExitCode> {
    let yaml = match tsn::tsnkit::import_files(streams, topology) {
        Ok(yaml) => yaml,
        Err(err) => {
            eprintln!("tsn: {err}");
            return Ok(ExitCode::from(match err {
                tsn::tsnkit::ImportError::Read { .. } => EXIT_NO_INPUT,
                _ => EXIT_CONFIG,
            }));
        }
    };
    std::fs::write(output, yaml).with_context(|| format!("writing {}", output.display()))?;
    // Check what we wrote, so problems (a frame longer than its period, a listener out
    // of reach) are reported against the plant file's lines.
    let plant = Plant::load(output)?;
    println!(
        "{}: {} nodes, {} links, {} streams",
        output.display(),
        plant.nodes.len(),
        plant.ports.len() / 2,
        plant.streams.len()
    );
    Ok(ExitCode::SUCCESS)
}
