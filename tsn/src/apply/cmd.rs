//! The `tsn apply` and `tsn show` subcommands (argument types and drivers); `main` only
//! dispatches here and maps the config errors it gets back to exit codes.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::txn::{self, Target};
use super::{Mode, PortPlan, VlanPlan, base_time, plan_node, tc_lines};
use crate::plant::Plant;
use crate::schedule::Schedule;

/// The kernel or NIC lacks the qdisc or the mode.
pub const EXIT_UNAVAILABLE: u8 = tsn_config::exit::UNAVAILABLE;
/// CAP_NET_ADMIN missing.
pub const EXIT_NOPERM: u8 = tsn_config::exit::NO_PERM;
/// The schedule cannot be applied as given.
pub const EXIT_CONFIG: u8 = tsn_config::exit::CONFIG;

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Full offload if the device takes it, else software.
    Auto,
    /// Kernel gates on CLOCK_TAI.
    Software,
    /// Software gates plus txtime (etf per queue; senders use SO_TXTIME).
    TxtimeAssist,
    /// The NIC runs the gates.
    FullOffload,
}

/// `tsn apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// Plant YAML (with SCHEDULE and --node).
    #[arg(requires_all = ["schedule", "node"], conflicts_with = "file")]
    pub plant: Option<PathBuf>,
    /// JSON schedule from `tsn schedule --json`.
    pub schedule: Option<PathBuf>,
    /// The plant node this host is.
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Device of the port towards neighbour TO (default: a device named like the neighbour).
    #[arg(long = "port", value_name = "TO=DEV", value_parser = parse_port)]
    pub ports: Vec<(String, String)>,
    /// Per-interface YAML file instead of plant and schedule.
    #[arg(long, value_name = "FILE", required_unless_present = "plant")]
    pub file: Option<PathBuf>,
    /// How the gates run.
    #[arg(long, value_enum, default_value = "auto")]
    pub mode: ModeArg,
    /// txtime-assist: txtime delay and etf delta, ns.
    #[arg(long, default_value_t = 300_000, value_name = "NS")]
    pub txtime_delay: u32,
    /// Base time in TAI ns (default: the next cycle start at least --lead after now).
    #[arg(long, value_name = "NS")]
    pub base_time: Option<i64>,
    /// Minimum time from now to the base time, ns.
    #[arg(long, default_value_t = 0, value_name = "NS")]
    pub lead: u64,
    /// Also create VLAN device DEV.VID on DEV (an interface being scheduled), up, with
    /// egress-qos-map p:p (a stream's priority is its PCP). Needs 802.1Q in the kernel.
    #[arg(long = "vlan", value_name = "DEV.VID", value_parser = parse_vlan)]
    pub vlans: Vec<(String, u16)>,
    /// Print equivalent `tc` and `ip` commands; touch nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_vlan(s: &str) -> Result<(String, u16), String> {
    let (dev, vid) = s
        .rsplit_once('.')
        .filter(|(d, _)| !d.is_empty())
        .ok_or_else(|| format!("expected DEV.VID, got {s:?}"))?;
    let vid: u16 = vid
        .parse()
        .ok()
        .filter(|v| (1..=4094).contains(v))
        .ok_or_else(|| format!("{s:?}: the VLAN id must be a number 1..=4094"))?;
    Ok((dev.to_owned(), vid))
}

/// Adds the `--vlan` devices to the plans of their interfaces.
fn add_vlans(plans: &mut [PortPlan], vlans: &[(String, u16)]) -> Result<(), String> {
    for (dev, vid) in vlans {
        let Some(p) = plans.iter_mut().find(|p| &p.dev == dev) else {
            let devs: Vec<&str> = plans.iter().map(|p| p.dev.as_str()).collect();
            return Err(format!(
                "--vlan {dev}.{vid}: {dev} is not an interface being scheduled ({})",
                devs.join(", ")
            ));
        };
        p.vlans.push(VlanPlan::identity(dev, *vid));
    }
    Ok(())
}

fn parse_port(s: &str) -> Result<(String, String), String> {
    let (to, dev) = s
        .split_once('=')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| format!("expected TO=DEV, got {s:?}"))?;
    Ok((to.to_owned(), dev.to_owned()))
}

/// `tsn show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Network device.
    pub dev: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn plans(args: &ApplyArgs) -> anyhow::Result<Result<Vec<PortPlan>, String>> {
    if let Some(file) = &args.file {
        return Ok(Ok(super::file::load(file)?));
    }
    let (Some(plant), Some(schedule), Some(node)) = (&args.plant, &args.schedule, &args.node)
    else {
        return Ok(Err("give PLANT SCHEDULE --node NAME, or --file FILE".into()));
    };
    let plant = Plant::load(plant)?;
    let schedule = Schedule::load(schedule)?;
    let devs: BTreeMap<String, String> = args.ports.iter().cloned().collect();
    Ok(plan_node(&plant, &schedule, node, &devs).map_err(|e| e.to_string()))
}

/// Runs `tsn apply`; the exit code. Plant, schedule and file errors come back as `Err` for
/// `main` to report.
pub fn run_apply(args: &ApplyArgs) -> anyhow::Result<u8> {
    let plans = match plans(args)?.and_then(|mut p| add_vlans(&mut p, &args.vlans).map(|()| p)) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("tsn apply: {msg}");
            return Ok(EXIT_CONFIG);
        }
    };
    let first_mode = match args.mode {
        ModeArg::Software => Mode::Software,
        ModeArg::TxtimeAssist => Mode::TxtimeAssist {
            delay_ns: args.txtime_delay,
        },
        ModeArg::FullOffload | ModeArg::Auto => Mode::FullOffload,
    };
    let mut bad = false;
    for p in &plans {
        if let Err(e) = p.check(first_mode) {
            eprintln!("tsn apply: invalid schedule for {e}");
            bad = true;
        }
    }
    if bad {
        eprintln!("tsn apply: nothing was changed");
        return Ok(EXIT_CONFIG);
    }
    let now = tsn_clocks::host_tai().context("reading CLOCK_TAI")?;
    let now_ns = i64::try_from(now.nanos()).unwrap_or(i64::MAX);
    let targets = |mode: Mode| -> Vec<Target> {
        plans
            .iter()
            .map(|p| {
                p.target(
                    mode,
                    args.base_time
                        .unwrap_or_else(|| base_time(now_ns, p.cycle_ns, args.lead)),
                )
            })
            .collect()
    };
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        // Auto would try offload first; a dry run shows the software fallback, which
        // works everywhere.
        let mode = if args.mode == ModeArg::Auto {
            Mode::Software
        } else {
            first_mode
        };
        for t in targets(mode) {
            writeln!(
                out,
                "# {}",
                plans
                    .iter()
                    .find(|p| p.dev == t.dev)
                    .map_or("", |p| &p.label)
            )?;
            for l in tc_lines(&t.dev, &t.qdiscs) {
                writeln!(out, "{l}")?;
            }
            for v in &t.vlans {
                writeln!(out, "{}", v.ip_line(&t.dev))?;
            }
        }
        return Ok(0);
    }
    let mut rtnl = tsn_netlink::Rtnl::new().context("opening rtnetlink")?;
    let mut result = txn::apply(&mut rtnl, &targets(first_mode));
    let mut mode = first_mode;
    if args.mode == ModeArg::Auto
        && let Err(e) = &result
        && e.rollback_failures.is_empty()
        && !e.source.is_permission()
        && !e.source.is_unknown_kind()
        && !e.step.contains("VLAN")
        && !matches!(e.source, tsn_netlink::Error::NoSuchDevice(_))
    {
        eprintln!(
            "tsn apply: full offload refused ({}); using software mode",
            e.source
        );
        mode = Mode::Software;
        result = txn::apply(&mut rtnl, &targets(mode));
    }
    match result {
        Ok(applied) => {
            for (dev, w) in &applied.warnings {
                eprintln!("tsn apply: {dev}: kernel warning: {w}");
            }
            for p in &plans {
                writeln!(
                    out,
                    "{}: {} ({}): taprio {} entries, cycle {} ns, {:?}",
                    p.dev,
                    p.label,
                    p.num_tc,
                    p.entries.len(),
                    p.cycle_ns,
                    mode
                )?;
                for v in &p.vlans {
                    writeln!(
                        out,
                        "{}: VLAN {} on {}, up, egress-qos-map {}",
                        v.name,
                        v.id,
                        p.dev,
                        v.egress_map_text()
                    )?;
                }
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("tsn apply: {e}");
            Ok(if e.source.is_permission() {
                EXIT_NOPERM
            } else if e.source.is_unknown_kind() || e.source.is_unknown_link_kind() {
                EXIT_UNAVAILABLE
            } else {
                1
            })
        }
    }
}

/// Runs `tsn show`; the exit code.
pub fn run_show(args: &ShowArgs) -> anyhow::Result<u8> {
    let read = || -> tsn_netlink::Result<Vec<tsn_netlink::Qdisc>> {
        let ifindex = tsn_netlink::ifindex(&args.dev)?;
        tsn_netlink::Rtnl::new()?.qdiscs(ifindex)
    };
    let qdiscs = match read() {
        Ok(q) => q,
        Err(e) => {
            eprintln!("tsn show: {}: {e}", args.dev);
            return Ok(if e.is_permission() { EXIT_NOPERM } else { 1 });
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "dev": args.dev,
            "qdiscs": qdiscs.iter().map(super::show::qdisc_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        write!(out, "{}", super::show::text(&args.dev, &qdiscs))?;
    }
    Ok(0)
}
