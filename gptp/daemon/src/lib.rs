//! gptpd: runs the gPTP core ([`gptp_core::Instance`]) over raw Ethernet sockets on Linux.
//!
//! The core is sans-IO; this crate is the thin shell around it:
//! - [`config`]: YAML file plus command-line overrides, validated with YAML paths and lines;
//! - [`clock`]: the system clock, a PHC or a virtual clock, as the core's local time;
//! - [`net`]: one `AF_PACKET` socket per port with SO_TIMESTAMPING;
//! - [`daemon`]: the event loop that feeds frames, timestamps and timer expiries to the core
//!   and carries out its actions, plus the status socket and the metrics endpoint;
//! - [`status`]: the JSON `gptpctl status --json` prints.
//!
//! Exit codes (README): 0 ok, 1 runtime failure, 2 usage, 66 config file unreadable,
//! 69 interface, PHC or NIC feature missing, 77 missing privileges, 78 invalid configuration.

pub mod clock;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod net;
pub mod status;

/// A start-up failure with its documented exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    /// Process exit code.
    pub code: u8,
    /// What went wrong and what to do.
    pub message: String,
}

impl StartError {
    /// Exit 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
    /// Exit 66.
    pub fn unreadable(message: impl Into<String>) -> Self {
        Self {
            code: tsn_config::exit::NO_INPUT,
            message: message.into(),
        }
    }
    /// Exit 69.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            code: tsn_config::exit::UNAVAILABLE,
            message: message.into(),
        }
    }
    /// Exit 77.
    pub fn privileges(message: impl Into<String>) -> Self {
        Self {
            code: tsn_config::exit::NO_PERM,
            message: message.into(),
        }
    }
    /// Exit 78.
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            code: tsn_config::exit::CONFIG,
            message: message.into(),
        }
    }
}
