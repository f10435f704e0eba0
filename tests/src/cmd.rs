//! Running commands with errors that name the command and carry its stderr.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use crate::{Error, Result};

/// Output of a command that exited successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs `cmd` to completion with stdin closed; a non-zero exit is an [`Error::Command`] that
/// holds the command line and its stderr.
pub fn run_checked(cmd: &mut Command) -> Result<CmdOutput> {
    let out = run_raw(cmd)?;
    if out.status.success() {
        Ok(CmdOutput {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    } else {
        Err(command_error(cmd, out.status, &out.stdout, &out.stderr))
    }
}

/// Runs `cmd` to completion with stdin closed and returns whatever it produced.
pub(crate) fn run_raw(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            cmd: display(cmd),
            source,
        })
}

pub(crate) fn command_error(cmd: &Command, status: ExitStatus, out: &[u8], err: &[u8]) -> Error {
    Error::Command {
        cmd: display(cmd),
        status: status.to_string(),
        stderr: String::from_utf8_lossy(err).trim().to_owned(),
        stdout: String::from_utf8_lossy(out).trim().to_owned(),
    }
}

/// The command line as a shell would need it typed (environment overrides not shown).
pub(crate) fn display(cmd: &Command) -> String {
    let mut s = quote(cmd.get_program());
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote(arg));
    }
    s
}

/// Quotes one word for bash (used for display and for commands sent into the VM).
pub(crate) fn quote(word: impl AsRef<OsStr>) -> String {
    let w = word.as_ref().to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.into_owned()
    } else {
        let mut q = String::from("'");
        for c in w.chars() {
            if c == '\'' {
                q.push_str("'\\''");
            } else {
                q.push(c);
            }
        }
        q.push('\'');
        q
    }
}

/// Finds an executable in `PATH`, as the shell would.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Writes a warning straight to the process's stderr, bypassing the test harness's capture,
/// and never panics (unlike `eprintln!`): safe inside `Drop` during unwinding.
pub(crate) fn warn(msg: &str) {
    let mut line = String::new();
    let _ = writeln!(line, "tsn-testbed: {msg}");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A background process (a daemon under test, a `tcpdump`) that is killed and reaped when
/// dropped, also during a panic.
#[derive(Debug)]
pub struct Spawned {
    /// `None` once [`Spawned::stop`] has reaped it.
    child: Option<Child>,
    pid: u32,
    cmd: String,
}

impl Spawned {
    /// Starts `cmd` with stdin closed; stdout and stderr are inherited unless `cmd` says
    /// otherwise.
    pub fn start(cmd: &mut Command) -> Result<Self> {
        let shown = display(cmd);
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .map_err(|source| Error::Spawn {
                cmd: shown.clone(),
                source,
            })?;
        Ok(Self {
            pid: child.id(),
            child: Some(child),
            cmd: shown,
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The underlying child, e.g. to take its piped stdout.
    pub fn child_mut(&mut self) -> Option<&mut Child> {
        self.child.as_mut()
    }

    /// Whether the process has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Kills the process and waits for it, returning its output if stdout/stderr were piped.
    pub fn stop(mut self) -> Result<Output> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| Error::Invalid("already stopped".into()))?;
        let _ = child.kill();
        child.wait_with_output().map_err(|source| Error::Spawn {
            cmd: self.cmd.clone(),
            source,
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            if let Err(e) = child.kill() {
                warn(&format!("could not kill `{}`: {e}", self.cmd));
            }
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("ip"), "ip");
        assert_eq!(quote("10.0.0.1/24"), "10.0.0.1/24");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn failing_command_names_itself_and_its_stderr() {
        let err = run_checked(Command::new("sh").args(["-c", "echo oops >&2; exit 3"]))
            .expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.contains("sh -c 'echo oops >&2; exit 3'"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run_checked(&mut Command::new("tsn-testbed-no-such-program")).unwrap_err();
        assert!(matches!(err, Error::Spawn { .. }), "{err}");
    }

    #[test]
    fn spawned_is_killed_on_drop() {
        let s = Spawned::start(Command::new("sleep").arg("600")).unwrap();
        let pid = s.id();
        drop(s);

        let mut s = Spawned::start(
            Command::new("sh")
                .args(["-c", "echo out; exec sleep 600"])
                .stdout(Stdio::piped()),
        )
        .unwrap();
        let mut line = String::new();
        let stdout = s.child_mut().and_then(|c| c.stdout.as_mut()).unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line, "out\n");
        assert!(!s.has_exited());
        let out = s.stop().unwrap();
        assert!(
            !out.status.success(),
            "killed, not exited: {:?}",
            out.status
        );
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Reaped (gone) or at worst a zombie of someone else's reuse of the pid.
        assert!(!stat.contains("(sleep) S"), "sleep still running: {stat}");
    }
}
