//! Named network namespaces that delete themselves.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::cmd::{self, CmdOutput, Spawned, run_checked};
use crate::{Error, Result};

/// Where iproute2 keeps the bind mounts of named namespaces.
const NETNS_RUN_DIR: &str = "/run/netns";

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A process-unique number for names; combined with the pid, names are unique across the
/// tests of one process and across processes running at the same time.
pub(crate) fn next_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A named network namespace (`ip netns add`), deleted when dropped (`ip netns del`), also
/// while a test panics. Loopback is up.
///
/// Links inside it (veth ends, bridges) disappear with it. Processes started in it with
/// [`Netns::spawn`] are killed when their [`Spawned`] handle drops; keep that handle declared
/// after the `Netns` so it drops first.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `<prefix>-<pid>-<n>`. `prefix` may hold ASCII letters, digits, `-` and `_`.
    pub fn new(prefix: &str) -> Result<Self> {
        if prefix.is_empty()
            || prefix.len() > 64
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::Invalid(format!(
                "netns prefix {prefix:?}: use 1-64 ASCII letters, digits, '-' or '_'"
            )));
        }
        let name = format!("{prefix}-{}-{}", std::process::id(), next_id());
        run_checked(Command::new("ip").args(["netns", "add", &name]))?;
        // From here on, Drop removes it even if bringing up lo fails.
        let ns = Self { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a namespace called `name` exists (`/run/netns/<name>`).
    pub fn exists(name: &str) -> bool {
        Path::new(NETNS_RUN_DIR).join(name).exists()
    }

    /// A command that runs `program` inside the namespace (`ip netns exec <name> program`),
    /// for callers that want to add arguments, environment or pipes themselves.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `argv` inside the namespace and returns its stdout; a non-zero exit is an error
    /// carrying the command line and stderr.
    pub fn exec(&self, argv: &[&str]) -> Result<String> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::Invalid("Netns::exec with an empty argv".into()))?;
        Ok(run_checked(self.command(program).args(args))?.stdout)
    }

    /// Like [`Netns::exec`] but returns stdout and stderr.
    pub fn exec_output(&self, argv: &[&str]) -> Result<CmdOutput> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::Invalid("Netns::exec_output with an empty argv".into()))?;
        run_checked(self.command(program).args(args))
    }

    /// Runs a bash script inside the namespace and returns its stdout.
    pub fn sh(&self, script: &str) -> Result<String> {
        self.exec(&["bash", "-c", script])
    }

    /// Runs `ip -n <name> args...` and returns its stdout.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        Ok(run_checked(Command::new("ip").args(["-n", &self.name]).args(args))?.stdout)
    }

    /// Pings `addr` once from inside the namespace (busybox ping, 2 s deadline).
    pub fn ping(&self, addr: &str) -> Result<String> {
        self.exec(&["busybox", "ping", "-c", "1", "-W", "2", addr])
    }

    /// Starts a background process inside the namespace; it is killed when the handle drops.
    pub fn spawn(&self, argv: &[&str]) -> Result<Spawned> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::Invalid("Netns::spawn with an empty argv".into()))?;
        Spawned::start(self.command(program).args(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        match cmd::run_raw(Command::new("ip").args(["netns", "del", &self.name])) {
            Ok(out) if out.status.success() => {}
            Ok(out) => cmd::warn(&format!(
                "could not delete netns {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => cmd::warn(&format!("could not delete netns {}: {e}", self.name)),
        }
    }
}

/// `-n <netns>` for `ip`, or nothing for the namespace the test runs in.
pub(crate) fn ip_in(netns: Option<&str>) -> Command {
    let mut c = Command::new("ip");
    if let Some(ns) = netns {
        c.args(["-n", ns]);
    }
    c
}
