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
use switch_ctl::speaker::{self, SpeakerOptions};
use switch_ctl::topology::{Network, TopologyFile};
use switch_ctl_core::isis::Config;
use switch_ctl_core::isis::wire::IsidEntry;
use switch_ctl_core::spf::{EctAlgorithm, SystemId};
use tsn_config::ConfigError;

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
    /// Run IS-IS (level 1, point-to-point circuits) on real interfaces over raw 802.3/LLC
    /// sockets, keeping the SPB forwarding state current. Needs CAP_NET_RAW.
    #[command(after_help = "Exit codes: 0 ok (after --duration), 2 usage, 1 socket error.")]
    Isis {
        /// Interface to run on, optionally with its SPB link metric (`eth1:10`); repeat.
        #[arg(long = "interface", value_name = "NAME[:METRIC]", required = true)]
        interfaces: Vec<String>,
        /// System ID, `0000.0000.0004`.
        #[arg(long)]
        system_id: SystemId,
        /// Area address in dotted hex.
        #[arg(long, default_value = "49.0001")]
        area: String,
        /// Dynamic hostname (TLV 137).
        #[arg(long)]
        hostname: Option<String>,
        /// IPv4 interface address for TLV 132 (FRR ignores hellos without one); repeat.
        #[arg(long = "ipv4", value_name = "ADDR")]
        ipv4: Vec<std::net::Ipv4Addr>,
        /// Bridge priority of the ECT tie-break.
        #[arg(long, default_value_t = 0x8000)]
        priority: u16,
        /// I-SID served (transmit and receive); repeat.
        #[arg(long = "isid", value_name = "ISID")]
        isids: Vec<u32>,
        /// Pad hellos to the MTU, as FRR does.
        #[arg(long)]
        hello_padding: bool,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECS")]
        duration: Option<f64>,
        /// Write a JSON status (adjacencies, LSDB, unicast FDB, counters) here on change.
        #[arg(long, value_name = "FILE")]
        status: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Spf {
            topology,
            ect,
            json,
        } => spf_main(&topology, &ect, json),
        Command::Isis {
            interfaces,
            system_id,
            area,
            hostname,
            ipv4,
            priority,
            isids,
            hello_padding,
            duration,
            status,
        } => {
            let run = || -> anyhow::Result<()> {
                let mut ports = Vec::new();
                for i in &interfaces {
                    let (name, metric) = match i.split_once(':') {
                        Some((n, m)) => (n, m.parse().with_context(|| format!("metric in {i:?}"))?),
                        None => (i.as_str(), 10),
                    };
                    ports.push((name.to_owned(), metric));
                }
                let mut cfg = Config::new(system_id, Vec::new());
                cfg.area = parse_area(&area)?;
                cfg.hostname = hostname;
                cfg.ipv4_addresses = ipv4.iter().map(|a| a.octets()).collect();
                cfg.bridge_priority = priority;
                cfg.isids = isids
                    .iter()
                    .map(|&i| IsidEntry::new(i, true, true))
                    .collect();
                cfg.hello_padding = hello_padding;
                let duration = duration
                    .map(std::time::Duration::try_from_secs_f64)
                    .transpose()
                    .context("--duration")?;
                speaker::run(SpeakerOptions {
                    interfaces: ports,
                    config: cfg,
                    duration,
                    status,
                })?;
                Ok(())
            };
            match run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("switch-ctl: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `49.0001` -> [0x49, 0x00, 0x01].
fn parse_area(text: &str) -> anyhow::Result<Vec<u8>> {
    let hex: String = text.chars().filter(|&c| c != '.').collect();
    if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 26 {
        anyhow::bail!("area {text:?}: expected 1 to 13 octets of hex such as 49.0001");
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .with_context(|| format!("area {text:?}: not hex"))
}

fn spf_main(topology: &std::path::Path, ect: &[EctAlgorithm], json: bool) -> ExitCode {
    match spf(topology, ect, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(config) = err.downcast_ref::<ConfigError>() {
                eprint!("{}", config.render_snippets());
                if matches!(config, ConfigError::Read { .. }) {
                    eprintln!();
                }
                return ExitCode::from(config.exit_code());
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
