//! Raw Ethernet ports: an `AF_PACKET` socket per interface bound to ethertype 0x88F7, the
//! gPTP multicast address joined, SO_TIMESTAMPING on (through `timestamped-socket`).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use timestamped_socket::interface::InterfaceName;
use timestamped_socket::networkaddress::{EthernetAddress, MacAddress};
use timestamped_socket::socket::{
    InterfaceTimestampMode, Open, Socket, Timestamp, open_interface_ethernet,
};
use tsn_time::Time;

use crate::StartError;

/// gPTP's ethertype.
pub const ETHERTYPE_PTP: u16 = 0x88f7;
/// gPTP's destination for every message (01-80-C2-00-00-0E).
pub const GPTP_MULTICAST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];

/// A raw socket on one interface.
pub type PtpSocket = Socket<EthernetAddress, Open>;

/// Facts about an interface read from sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// ifindex.
    pub index: u32,
    /// MAC address.
    pub mac: [u8; 6],
    /// operstate is up (or unknown, as for interfaces without carrier reporting).
    pub up: bool,
}

/// Reads `/sys/class/net/NAME`; `None` if there is no such interface.
pub fn link_info(name: &str) -> Option<LinkInfo> {
    let dir = std::path::Path::new("/sys/class/net").join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let index = read("ifindex")?.trim().parse().ok()?;
    let mac_text = read("address")?;
    let mut mac = [0u8; 6];
    let mut parts = mac_text.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    let up = matches!(read("operstate")?.trim(), "up" | "unknown");
    Some(LinkInfo { index, mac, up })
}

/// The interface name in the form `timestamped-socket` takes.
pub fn ifname(name: &str) -> Result<InterfaceName, StartError> {
    name.parse()
        .map_err(|()| StartError::config(format!("`{name}` is not an interface name")))
}

/// Opens and configures the socket of one port.
pub fn open_port(name: &str, hardware: bool) -> Result<PtpSocket, StartError> {
    let iface = ifname(name)?;
    if iface.get_index().is_none() {
        return Err(StartError::unavailable(format!(
            "interface {name} does not exist"
        )));
    }
    let mode = if hardware {
        InterfaceTimestampMode::HardwarePTPAll
    } else {
        InterfaceTimestampMode::SoftwareAll
    };
    let sock = open_interface_ethernet(iface, ETHERTYPE_PTP, mode, None).map_err(|e| {
        match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => StartError::privileges(format!(
                "{name}: opening a raw socket needs CAP_NET_RAW{}: {e}",
                if hardware {
                    " (and CAP_NET_ADMIN for hardware timestamping)"
                } else {
                    ""
                }
            )),
            Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ERANGE) if hardware => {
                StartError::unavailable(format!(
                    "{name}: the NIC refuses hardware timestamping of PTP frames (SIOCSHWTSTAMP): {e}; \
                     use --timestamping software"
                ))
            }
            _ => StartError::runtime(format!("{name}: cannot open a raw socket: {e}")),
        }
    })?;
    let group = EthernetAddress::new(ETHERTYPE_PTP, MacAddress::new(GPTP_MULTICAST), 0);
    sock.join_multicast(group, iface).map_err(|e| {
        StartError::runtime(format!(
            "{name}: cannot join 01-80-C2-00-00-0E (PACKET_ADD_MEMBERSHIP): {e}"
        ))
    })?;
    Ok(sock)
}

/// The destination of every message sent on `ifindex`.
pub fn destination(ifindex: u32) -> EthernetAddress {
    EthernetAddress::new(
        ETHERTYPE_PTP,
        MacAddress::new(GPTP_MULTICAST),
        ifindex as libc::c_int,
    )
}

/// Converts a kernel timestamp.
pub fn to_time(ts: Timestamp) -> Time {
    Time::from_secs_nanos(ts.seconds, ts.nanos)
}

/// Sends `data` and, if `want_ts`, waits up to `timeout` for its transmit timestamp.
/// `Ok(None)`: sent, but no timestamp came in time.
pub async fn send(
    sock: &Arc<PtpSocket>,
    ifindex: u32,
    data: &[u8],
    want_ts: bool,
    timeout: StdDuration,
) -> std::io::Result<Option<Timestamp>> {
    let dst = destination(ifindex);
    let token = std::future::poll_fn(|cx| sock.poll_send_to(data, dst, cx)).await?;
    let (Some(token), true) = (token, want_ts) else {
        return Ok(None);
    };
    let wait = async {
        loop {
            // Timestamps of earlier sends (general messages, late ones) come first: skip them.
            let (t, data) = sock.get_send_timestamp().await?;
            if t == token {
                return Ok::<_, std::io::Error>(data.selected_timestamp());
            }
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(r) => r,
        Err(_) => Ok(None),
    }
}
