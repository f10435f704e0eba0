//! The crate's error type.

use crate::{LinkId, NodeId, PortId};
use tsn_time::Time;

/// Why a simulator operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The port number is not below the node's port count.
    #[error("{node} has no port {port}")]
    UnknownPort {
        /// The node.
        node: NodeId,
        /// The port asked for.
        port: PortId,
    },
    /// The port already has a link.
    #[error("{node} {port} is already connected")]
    PortInUse {
        /// The node.
        node: NodeId,
        /// The port.
        port: PortId,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A bounded run processed its maximum number of events before reaching its end time:
    /// usually a node that keeps returning a deadline in the past (a livelock).
    #[error("event limit of {limit} reached at {at} before the run ended")]
    EventLimit {
        /// The limit passed in.
        limit: u64,
        /// Global time of the last event processed.
        at: Time,
    },
    /// Writing a capture failed.
    #[error("capture of {link}: {source}")]
    Capture {
        /// The link being captured.
        link: LinkId,
        /// What failed.
        #[source]
        source: tsn_wire::pcap::PcapError,
    },
    /// Creating a capture file failed.
    #[error("creating capture file: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
