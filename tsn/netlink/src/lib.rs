//! rtnetlink for the Linux TSN qdiscs: taprio (802.1Qbv), mqprio, etf and cbs.
//!
//! No published crate encodes these qdiscs, so this one does, in the style of
//! netlink-packet-route: one owned type per attribute space with `parse` and an emitter,
//! unknown attributes kept so they round-trip ([`UnknownAttr`]). Requests are byte-identical
//! to what iproute2's `tc` sends (test vectors captured with strace, see
//! `tests/vectors/capture.sh`), without `tc`'s limit of 31 schedule entries.
//!
//! Links: [`Link`] encodes 802.1Q VLAN devices with their egress priority -> PCP map
//! ([`Link::new_vlan`], [`Link::set_vlan_egress`]), byte-identical to `ip link`; read links
//! back with [`Rtnl::link`].
//!
//! Who calls what: build a [`Qdisc`] from [`TaprioOptions`] / [`MqprioOptions`] /
//! [`EtfOptions`] / [`CbsOptions`], turn it into a message with [`Qdisc::replace_message`],
//! send it with [`Rtnl::request`] (ack and extended-ack text come back), read qdiscs back
//! with [`Rtnl::qdiscs`]. Parsing never panics on hostile input: it returns [`Error`].
#![deny(missing_docs)]

mod etf;
mod link;
mod mqprio;
mod nla;
mod qdisc;
mod socket;
mod taprio;

pub use crate::etf::{CbsOptions, EtfOptions, etf_flags};
pub use crate::link::{
    IFF_UP, IFINFOMSG_LEN, Link, LinkData, LinkInfo, QosMapping, RTM_DELLINK, RTM_GETLINK,
    RTM_NEWLINK, VlanOptions,
};
pub use crate::mqprio::{MAX_TC, MqprioOptions, MqprioQopt, PRIORITIES, QOPT_LEN, mode};
pub use crate::nla::UnknownAttr;
pub use crate::qdisc::{
    NLMSG_HDRLEN, Qdisc, QdiscOptions, RTM_DELQDISC, RTM_GETQDISC, RTM_NEWQDISC, TC_H_ROOT,
    TCMSG_LEN, handle, handle_to_string, nlm,
};
pub use crate::socket::{Ack, Rtnl, ifindex};
pub use crate::taprio::{
    CLOCK_TAI, Command, Sched, SchedEntry, TaprioOptions, TcEntry, flags as taprio_flags,
};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A structure ends early.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A mandatory attribute is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An attribute has the wrong size or content.
    #[error("malformed {0}")]
    BadAttribute(&'static str),
    /// Broken attribute framing.
    #[error("malformed netlink data: {0}")]
    Malformed(String),
    /// An attribute or message would exceed netlink's 64 KiB attribute length.
    #[error("request too large for one netlink attribute (64 KiB)")]
    TooLarge,
    /// A value this crate refuses to encode.
    #[error("{0}")]
    Invalid(String),
    /// No interface of that name.
    #[error("no network interface named {0:?}")]
    NoSuchDevice(String),
    /// Socket IO failed.
    #[error("{op}: {source}")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The kernel refused a request.
    #[error("{op}: {}{}", std::io::Error::from_raw_os_error(*errno), extack.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Kernel {
        /// The request.
        op: String,
        /// Positive errno.
        errno: i32,
        /// The kernel's extended-ack message.
        extack: Option<String>,
    },
}

impl Error {
    /// The kernel does not know the qdisc kind (module absent).
    pub fn is_unknown_kind(&self) -> bool {
        matches!(self, Self::Kernel { errno, extack, .. }
            if *errno == libc::ENOENT
                && extack.as_deref().is_some_and(|t| t.contains("qdisc kind is unknown")))
    }

    /// The kernel does not know the link kind (e.g. no 802.1Q: `8021q` module absent).
    pub fn is_unknown_link_kind(&self) -> bool {
        matches!(self, Self::Kernel { errno, extack, .. }
            if *errno == libc::EOPNOTSUPP
                && extack.as_deref().is_some_and(|t| t.contains("Unknown device type")))
    }

    /// Missing CAP_NET_ADMIN.
    pub fn is_permission(&self) -> bool {
        matches!(self, Self::Kernel { errno, .. } if *errno == libc::EPERM)
            || matches!(self, Self::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
