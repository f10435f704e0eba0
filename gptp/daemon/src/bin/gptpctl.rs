//! gptpctl: asks a running gptpd for its state over the status socket.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gptpd::config::DEFAULT_SOCKET;
use gptpd::status::Status;

/// Client of gptpd's status socket. Exit codes: 0 ok, 1 daemon not reachable or bad reply,
/// 2 usage.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// gptpd's status socket (gptpd --socket).
    #[arg(long, default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Grandmaster, offset, servo and per-port state.
    Status {
        /// Print JSON instead of the summary.
        #[arg(long)]
        json: bool,
    },
}

fn ask(socket: &PathBuf, command: &str) -> Result<String, String> {
    let mut s = UnixStream::connect(socket)
        .map_err(|e| format!("cannot reach gptpd at {}: {e}", socket.display()))?;
    let t = Some(Duration::from_secs(5));
    let _ = s.set_read_timeout(t);
    let _ = s.set_write_timeout(t);
    s.write_all(format!("{command}\n").as_bytes())
        .map_err(|e| format!("sending to gptpd: {e}"))?;
    let mut line = String::new();
    BufReader::new(s)
        .read_line(&mut line)
        .map_err(|e| format!("reading gptpd's reply: {e}"))?;
    Ok(line)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Status { json } = cli.command;
    let result = ask(&cli.socket, "status").and_then(|line| {
        let status: Status = serde_json::from_str(&line)
            .map_err(|e| format!("unexpected reply from gptpd ({e}): {}", line.trim()))?;
        if json {
            serde_json::to_string_pretty(&status).map_err(|e| e.to_string())
        } else {
            Ok(status.render())
        }
    });
    match result {
        Ok(out) => {
            println!("{}", out.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gptpctl: {e}");
            ExitCode::FAILURE
        }
    }
}
