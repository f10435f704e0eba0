//! The crate's one error type.

use std::io;
use std::path::PathBuf;

/// What can go wrong while setting up or running a real-part test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command ran and exited unsuccessfully.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Command {
        /// The command line, shell-quoted.
        cmd: String,
        /// How it ended (`exit status: 2`, `signal: 9`).
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
        /// Its standard output, trimmed.
        stdout: String,
    },
    /// A command could not be started at all (usually: not installed).
    #[error("could not start `{cmd}`: {source}")]
    Spawn {
        /// The command line, shell-quoted.
        cmd: String,
        /// The error from `exec`.
        source: io::Error,
    },
    /// A file operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done (`creating`, `copying`, ...).
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A name or argument was rejected before anything ran.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// Output of a tool could not be understood.
    #[error("could not parse output of `{cmd}`: {reason}")]
    Parse {
        /// The command whose output was parsed.
        cmd: String,
        /// What did not fit.
        reason: String,
    },
    /// A condition did not come true in time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited, with the last state seen.
        what: String,
        /// How long.
        waited: std::time::Duration,
    },
    /// `cargo test --no-run` failed or built no test binary.
    #[error("building test binaries of {package}: {reason}")]
    Cargo {
        /// The package (`-p`).
        package: String,
        /// What happened, with cargo's last messages.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
