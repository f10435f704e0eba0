//! Raw 802.3/LLC sockets for IS-IS: one `AF_PACKET`/`SOCK_RAW` socket per interface, bound to
//! its ifindex, receiving every frame (`ETH_P_ALL`: 802.3 frames carry a length, not an
//! ethertype, so no narrower protocol matches) and sending whole Ethernet frames as the core
//! builds them. The IS-IS group addresses are joined so a real NIC's filter passes them.

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

/// Groups we accept IS-IS PDUs on: AllISs (FRR on P2P), all provider / customer bridge ISs
/// (SPB control MACs), AllL1ISs.
pub const GROUPS: [[u8; 6]; 4] = [
    [0x09, 0x00, 0x2b, 0x00, 0x00, 0x05],
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x2e],
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x2f],
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x14],
];

/// Facts about an interface, from sysfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    /// ifindex.
    pub index: u32,
    /// MAC address.
    pub mac: [u8; 6],
    /// operstate up (or unknown, for interfaces without carrier reporting).
    pub up: bool,
}

/// Reads `/sys/class/net/NAME`.
pub fn link_info(name: &str) -> io::Result<LinkInfo> {
    let dir = std::path::Path::new("/sys/class/net").join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f));
    let bad =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{name}: bad {what}"));
    let index = read("ifindex")?
        .trim()
        .parse()
        .map_err(|_| bad("ifindex"))?;
    let text = read("address")?;
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for b in &mut mac {
        *b = parts
            .next()
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .ok_or_else(|| bad("address"))?;
    }
    let up = matches!(read("operstate")?.trim(), "up" | "unknown");
    Ok(LinkInfo { index, mac, up })
}

/// A raw socket on one interface.
#[derive(Debug)]
pub struct LlcSocket {
    sock: Socket,
    info: LinkInfo,
}

impl LlcSocket {
    /// Opens, binds to `name` and joins [`GROUPS`]. Non-blocking. Needs `CAP_NET_RAW`.
    pub fn open(name: &str) -> io::Result<Self> {
        let info = link_info(name)?;
        let proto = (libc::ETH_P_ALL as u16).to_be();
        let sock = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(proto))),
        )?;
        let mut storage = SockAddrStorage::zeroed();
        // SAFETY: sockaddr_ll is an AF_PACKET socket address of this platform and fits.
        let sll = unsafe { storage.view_as::<libc::sockaddr_ll>() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = info.index as i32;
        // SAFETY: the storage holds an initialised sockaddr_ll of exactly this length.
        let addr = unsafe { SockAddr::new(storage, size_of::<libc::sockaddr_ll>() as u32) };
        sock.bind(&addr)?;
        for group in GROUPS {
            let mut mreq = libc::packet_mreq {
                mr_ifindex: info.index as i32,
                mr_type: libc::PACKET_MR_MULTICAST as u16,
                mr_alen: 6,
                mr_address: [0; 8],
            };
            mreq.mr_address[..6].copy_from_slice(&group);
            // SAFETY: a valid socket and a packet_mreq of the size passed.
            let rc = unsafe {
                libc::setsockopt(
                    sock.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_ADD_MEMBERSHIP,
                    (&raw const mreq).cast(),
                    size_of::<libc::packet_mreq>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        sock.set_nonblocking(true)?;
        Ok(Self { sock, info })
    }

    /// The interface.
    pub fn info(&self) -> LinkInfo {
        self.info
    }

    /// Sends one Ethernet frame (no FCS).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        self.sock.send(frame).map(drop)
    }

    /// The next IS-IS frame someone else sent, if one is waiting. Frames without the IS-IS
    /// LLC header and our own transmissions (an `ETH_P_ALL` socket sees them) are skipped.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: u8 has no invalid bit patterns; recv only writes initialised bytes.
            let uninit = unsafe { &mut *(std::ptr::from_mut(buf) as *mut [MaybeUninit<u8>]) };
            let n = match self.sock.recv(uninit) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let f = &buf[..n];
            if n > 17 && f[6..12] != self.info.mac && f[14..18] == [0xfe, 0xfe, 0x03, 0x83] {
                return Ok(Some(n));
            }
        }
    }
}

impl AsRawFd for LlcSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
