//! gptpd: the IEEE 802.1AS daemon. See `gptpd --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gptpd::StartError;
use gptpd::config::{self, LogFormat, Overrides, Settings};
use gptpd::daemon::Daemon;
use tracing_subscriber::EnvFilter;

/// gPTP (IEEE 802.1AS) daemon for Linux end stations and bridges.
///
/// Options override the configuration file. Exit codes: 0 ok, 1 runtime failure, 2 usage,
/// 66 config file unreadable, 69 interface/PHC/NIC feature missing, 77 missing privileges,
/// 78 invalid configuration.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// YAML configuration file.
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    overrides: Overrides,
}

fn settings(cli: &Cli) -> Result<Settings, StartError> {
    let mut s = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StartError::unreadable(format!("{}: {e}", path.display())))?;
            config::parse(&text, &path.display().to_string())
                .map_err(|e| StartError::config(e.render_snippets()))?
        }
        None => Settings::default(),
    };
    cli.overrides.apply(&mut s);
    config::check(&s).map_err(StartError::config)?;
    Ok(s)
}

fn init_logs(s: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&s.log_level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match s.log_format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = settings(&cli).and_then(|s| {
        if cli.check {
            println!("configuration ok");
            return Ok(());
        }
        init_logs(&s);
        // One thread: the loop is sequential anyway, and it leaves the other core free.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StartError::runtime(format!("tokio runtime: {e}")))?;
        rt.block_on(async { Daemon::start(s)?.run().await })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gptpd: {}", e.message.trim_end());
            ExitCode::from(e.code)
        }
    }
}
