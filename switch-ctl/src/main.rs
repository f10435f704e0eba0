//! `switch-ctl`: Shortest Path Bridging control plane.
//!
//! Exit codes: 0 success, 2 usage error, 66 topology file unreadable, 78 invalid topology
//! file (each problem on stderr with file, line, column and YAML path), 1 anything else.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use switch_ctl::report::SpfReport;
use switch_ctl::topology::{Network, TopologyFile};
use switch_ctl_core::spf::EctAlgorithm;
use tsn_config::ConfigError;

/// EX_NOINPUT (sysexits.h).
const EXIT_NO_INPUT: u8 = 66;
/// EX_CONFIG (sysexits.h).
const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Parser)]
#[command(
    name = "switch-ctl",
    version,
    about = "Shortest Path Bridging (IEEE 802.1aq) control plane"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute SPB shortest-path trees offline from a topology file: the path of every
    /// ordered pair of bridges, unicast and multicast forwarding entries, I-SID trees.
    #[command(after_help = "Exit codes: 0 ok, 2 usage, 66 unreadable file, 78 invalid topology.")]
    Spf {
        /// Topology YAML (`bridges:` with name, system-id, priority, isids; `links:` with
        /// a, b, metric).
        #[arg(long, value_name = "FILE")]
        topology: PathBuf,
        /// ECT algorithms by index 1..=16 (or 00-80-C2-01 ..), comma-separated.
        #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1")]
        ect: Vec<EctAlgorithm>,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Spf {
            topology,
            ect,
            json,
        } => match spf(&topology, &ect, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                if let Some(config) = err.downcast_ref::<ConfigError>() {
                    eprint!("{}", config.render_snippets());
                    if matches!(config, ConfigError::Read { .. }) {
                        eprintln!();
                        return ExitCode::from(EXIT_NO_INPUT);
                    }
                    return ExitCode::from(EXIT_CONFIG);
                }
                // `switch-ctl spf ... | head` is not an error.
                if err
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
                {
                    return ExitCode::SUCCESS;
                }
                eprintln!("switch-ctl: {err:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn spf(path: &std::path::Path, ects: &[EctAlgorithm], json: bool) -> anyhow::Result<()> {
    let file: TopologyFile = tsn_config::from_path_validated(path)?;
    let net = Network::try_from(&file).context("building the topology")?;
    let mut unique = Vec::new();
    for &e in ects {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    let report = SpfReport::compute(&net, &unique);
    let mut stdout = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(&report)?;
        writeln!(stdout, "{text}")?;
    } else {
        write!(stdout, "{}", report.to_text())?;
    }
    Ok(())
}
