//! IEEE 802.1Qbv time-aware scheduling for a whole network.
//!
//! Who calls what:
//! - [`plant`]: users describe the network and its streams once in YAML; [`Plant::load`]
//!   reads it through `tsn-config` (every error names file, line, column and YAML path),
//!   checks it and computes each stream's route (given, or shortest path).
//! - [`schedule`]: [`schedule::synthesize`] places every stream's frame on every hop and
//!   derives each egress port's gate control list; the result is a [`Schedule`], whose JSON
//!   form is the contract of `tsn schedule` / `tsn verify`. Streams it cannot place are
//!   listed with the reason. [`schedule::synthesize_exact`] solves the same constraints as
//!   an integer linear program (small instances: it places everything or proves it cannot).
//! - [`verify`]: [`verify::verify`] checks any schedule against the plant, independently of
//!   the synthesis code: windows, collisions, causality, deadlines, guard bands, list sums and
//!   a frame-by-frame replay of every egress port with FIFO queues per traffic class.
//! - [`gantt`]: an SVG chart of a schedule, one lane per port; [`tsnkit`]: import of
//!   tsnkit's CSV dataset format as a plant file.
//! - [`apply`]: turns one node's gate control lists (or a per-interface file) into taprio
//!   (plus etf children in txtime-assist mode) and 802.1Q VLAN devices with an
//!   egress-qos-map, and installs them over rtnetlink (crate `tsn-netlink`) on every
//!   interface or none; [`apply::show`] reads qdiscs back. See `tsn/docs/apply.md`.
//! - The `tsn` binary wraps them (`validate`, `schedule`, `verify`, `gantt`,
//!   `import-tsnkit`, `apply`, `show`).
//!
//! Everything here except [`apply::txn`]'s kernel backend and the `apply`/`show` drivers is
//! pure computation: no clock reads, no sockets, deterministic output for a given plant.
#![deny(missing_docs)]

pub mod apply;
pub mod gantt;
pub mod plant;
pub mod schedule;
pub mod tsnkit;
pub mod verify;

pub use crate::plant::Plant;
pub use crate::schedule::Schedule;
pub use crate::verify::{Report, Violation};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plant file could not be read or is invalid.
    #[error(transparent)]
    Config(#[from] tsn_config::ConfigError),
    /// A schedule file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A schedule file is not a schedule.
    #[error("{path}: not a schedule: {source}")]
    Json {
        /// The file.
        path: String,
        /// The JSON error (with line and column).
        source: serde_json::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Schedule {
    /// Reads a JSON schedule file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| Error::Json {
            path: path.display().to_string(),
            source,
        })
    }
}
