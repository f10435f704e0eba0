//! Raw Ethernet ports. Each port has two `AF_PACKET` sockets with SO_TIMESTAMPING: one bound
//! to ethertype 0x88F7 with the gPTP multicast address joined that only receives (through
//! `timestamped-socket`, registered with the runtime), and one that only sends ([`TxSocket`]).
//!
//! Why two: the kernel takes a frame's software TX stamp, then queues the stamp on the sending
//! socket's error queue and wakes that socket's waiters, and only then hands the frame on to
//! where the receiver stamps it. With the socket registered in the runtime's epoll set that
//! wakeup runs epoll's callback, which on an idle CPU added 1.1-1.3 µs between the two stamps
//! of a frame, but only a few hundred ns to a reply sent from a warm CPU: a path asymmetry that
//! biased every slave by about a microsecond. A send-only socket has no waiter while it sends
//! (ptp4l's poll loop has none either); it joins the epoll set only if a hardware stamp is late.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration as StdDuration;

use nix::sys::socket::{
    self, AddressFamily, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag, SockType, SockaddrLike,
    TimestampingFlag, sockopt,
};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

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

/// The receiving socket of one interface.
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

/// Opens and configures the receiving socket of one port.
pub fn open_port(name: &str, hardware: bool) -> Result<PtpSocket, StartError> {
    let iface = ifname(name)?;
    if iface.get_index().is_none() {
        return Err(StartError::unavailable(format!(
            "interface {name} does not exist"
        )));
    }
    let mode = if hardware {
        // Also turns on the NIC's transmit stamping (SIOCSHWTSTAMP sets tx_type ON).
        InterfaceTimestampMode::HardwarePTPRecv
    } else {
        InterfaceTimestampMode::SoftwareRecv
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
fn destination(ifindex: u32) -> Option<LinkAddr> {
    // SAFETY: sockaddr_ll is plain old data; zero is a valid value of every field.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = ETHERTYPE_PTP.to_be();
    sll.sll_ifindex = i32::try_from(ifindex).ok()?;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&GPTP_MULTICAST);
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the pointer is to a live, fully initialised sockaddr_ll of the given length.
    unsafe { LinkAddr::from_raw(std::ptr::from_ref(&sll).cast(), Some(len)) }
}

/// Converts a kernel timestamp.
pub fn to_time(ts: Timestamp) -> Time {
    Time::from_secs_nanos(ts.seconds, ts.nanos)
}

/// `SO_EE_ORIGIN_TIMESTAMPING`: the error-queue entry carries a transmit timestamp.
const SO_EE_ORIGIN_TIMESTAMPING: u8 = 4;

/// The sending socket of one port (see the module docs for why it is separate).
#[derive(Debug)]
pub struct TxSocket {
    fd: OwnedFd,
    hardware: bool,
    /// The `SOF_TIMESTAMPING_OPT_ID` key the kernel gives the next frame sent.
    next_key: u32,
}

impl TxSocket {
    /// An `AF_PACKET` socket of protocol 0 (it receives nothing) stamping what it sends.
    pub fn open(name: &str, hardware: bool) -> Result<Self, StartError> {
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Datagram,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| match e {
            nix::Error::EPERM | nix::Error::EACCES => StartError::privileges(format!(
                "{name}: opening a raw socket needs CAP_NET_RAW: {e}"
            )),
            _ => StartError::runtime(format!("{name}: cannot open a raw socket: {e}")),
        })?;
        let mut flags = TimestampingFlag::SOF_TIMESTAMPING_OPT_ID
            | TimestampingFlag::SOF_TIMESTAMPING_OPT_TSONLY;
        flags |= if hardware {
            TimestampingFlag::SOF_TIMESTAMPING_TX_HARDWARE
                | TimestampingFlag::SOF_TIMESTAMPING_RAW_HARDWARE
        } else {
            TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE
                | TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
        };
        socket::setsockopt(&fd, sockopt::Timestamping, &flags).map_err(|e| {
            StartError::runtime(format!("{name}: SO_TIMESTAMPING on the send socket: {e}"))
        })?;
        Ok(Self {
            fd,
            hardware,
            next_key: 0,
        })
    }

    /// Sends `data` on `ifindex` and, if `want_ts`, waits up to `timeout` for its transmit
    /// timestamp. `Ok(None)`: sent, but no timestamp came in time.
    pub async fn send(
        &mut self,
        ifindex: u32,
        data: &[u8],
        want_ts: bool,
        timeout: StdDuration,
    ) -> std::io::Result<Option<Timestamp>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let dst = destination(ifindex).ok_or(std::io::ErrorKind::InvalidInput)?;
        // Stamps of general messages and late ones: a key that is not ours is never matched.
        self.drain_stamps();
        loop {
            match socket::sendto(self.fd.as_raw_fd(), data, &dst, MsgFlags::empty()) {
                Ok(_) => break,
                Err(nix::Error::EAGAIN) => {
                    if !self.wait(Interest::WRITABLE, deadline).await {
                        return Err(std::io::ErrorKind::TimedOut.into());
                    }
                }
                Err(nix::Error::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let key = self.next_key;
        self.next_key = key.wrapping_add(1);
        if !want_ts {
            return Ok(None);
        }
        loop {
            while let Some((k, ts)) = self.read_stamp() {
                // Keys below ours belong to earlier frames; a greater one means the kernel
                // counted a send we did not see succeed: resynchronise on it.
                if k.wrapping_sub(key) as i32 >= 0 {
                    self.next_key = k.wrapping_add(1);
                    return Ok((k == key).then_some(ts));
                }
            }
            if !self.wait(Interest::ERROR, deadline).await {
                return Ok(None);
            }
        }
    }

    /// Waits until the socket is ready for `interest` or `deadline` passes (false). The socket
    /// joins the runtime's epoll set only for this wait (joining reports a stamp already
    /// queued, so none is missed).
    async fn wait(&self, interest: Interest, deadline: tokio::time::Instant) -> bool {
        // SAFETY: the borrowed descriptor stays open and the same for the AsyncFd's whole life,
        // which ends with this function.
        let Ok(fd) = (unsafe { AsyncFd::register_with_interest(self.fd.as_fd(), interest) }) else {
            return false;
        };
        matches!(
            tokio::time::timeout_at(deadline, fd.ready(interest)).await,
            Ok(Ok(_))
        )
    }

    fn drain_stamps(&mut self) {
        while self.read_stamp().is_some() {}
    }

    /// One entry of the error queue: (OPT_ID key, timestamp); `None` when it is empty.
    fn read_stamp(&self) -> Option<(u32, Timestamp)> {
        loop {
            let mut cmsg = nix::cmsg_space!([libc::timespec; 3], libc::sock_extended_err, [u8; 64]);
            let mut buf = [0u8; 64];
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = match socket::recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(msg) => msg,
                Err(nix::Error::EINTR) => continue,
                Err(_) => return None,
            };
            let mut key = None;
            let mut stamp = None;
            for c in msg.cmsgs().ok()? {
                match c {
                    ControlMessageOwned::ScmTimestampsns(t) => {
                        let t = if self.hardware { t.hw_raw } else { t.system };
                        if t.tv_sec() != 0 || t.tv_nsec() != 0 {
                            stamp = Some(Timestamp {
                                seconds: t.tv_sec(),
                                nanos: t.tv_nsec() as u32,
                            });
                        }
                    }
                    ControlMessageOwned::Unknown(u)
                        if u.cmsg_header.cmsg_level == libc::SOL_PACKET
                            && u.cmsg_header.cmsg_type == libc::PACKET_TX_TIMESTAMP
                            && u.data_bytes.len() >= size_of::<libc::sock_extended_err>() =>
                    {
                        // SAFETY: the kernel wrote a sock_extended_err here (length checked);
                        // read_unaligned copes with the byte buffer's alignment.
                        let err: libc::sock_extended_err =
                            unsafe { std::ptr::read_unaligned(u.data_bytes.as_ptr().cast()) };
                        if err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING {
                            key = Some(err.ee_data);
                        }
                    }
                    _ => {}
                }
            }
            // An entry without both parts (not a timestamp) is skipped.
            if let (Some(k), Some(ts)) = (key, stamp) {
                return Some((k, ts));
            }
        }
    }
}
