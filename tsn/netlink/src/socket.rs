//! The rtnetlink socket: requests with acks and extended acks, qdisc dumps.

use std::os::fd::AsRawFd as _;

use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

use crate::link::{Link, RTM_NEWLINK};
use crate::nla::{attrs_flagged, str_of};
use crate::qdisc::{NLMSG_HDRLEN, Qdisc, RTM_GETQDISC, RTM_NEWQDISC, nlm};
use crate::{Error, Result};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Receive buffer for one datagram. The kernel sizes dump skbs after the reader's buffer
/// (up to 32 KiB), and an exact-size buffer loses large taprio dumps: be generous.
const RECV_BUF: usize = 1 << 20;
/// Socket receive queue, so a dump of many large qdiscs is never dropped.
const RCVBUF: usize = 4 << 20;

/// What the kernel said on success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ack {
    /// Extended-ack warning (e.g. 6.12's "Size table not specified ...").
    pub warning: Option<String>,
}

/// An rtnetlink socket in the network namespace of the creating thread.
#[derive(Debug)]
pub struct Rtnl {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Rtnl {
    /// Opens and binds the socket, asks for extended acks and capped acks.
    pub fn new() -> Result<Self> {
        let io = |op: &'static str| move |source| Error::Io { op, source };
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(io("opening a netlink socket"))?;
        sock.bind_auto().map_err(io("binding the netlink socket"))?;
        sock.set_ext_ack(true)
            .map_err(io("setting NETLINK_EXT_ACK"))?;
        sock.set_cap_ack(true)
            .map_err(io("setting NETLINK_CAP_ACK"))?;
        // Best effort: a smaller queue still works for small dumps.
        let _ = sock.set_rx_buf_sz(RCVBUF);
        let _ = sock.set_netlink_get_strict_chk(true);
        Ok(Self {
            sock,
            seq: 1,
            buf: vec![0; RECV_BUF],
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn send(&self, msg: &[u8]) -> Result<()> {
        self.sock
            .send(msg, 0)
            .map_err(|source| Error::Io {
                op: "sending a netlink request",
                source,
            })
            .map(drop)
    }

    /// Receives one datagram into `self.buf`; its length.
    fn recv(&mut self) -> Result<usize> {
        // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes for the call.
        let n = unsafe {
            libc::recv(
                self.sock.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return Err(Error::Io {
                op: "receiving from the netlink socket",
                source: std::io::Error::last_os_error(),
            });
        }
        let n = n as usize;
        if n > self.buf.len() {
            return Err(Error::Malformed(format!(
                "netlink datagram of {n} bytes exceeds the {} byte buffer",
                self.buf.len()
            )));
        }
        Ok(n)
    }

    /// Sends `build(seq)` and waits for its ack. `what` names the operation in errors.
    pub fn request(
        &mut self,
        what: &str,
        build: impl FnOnce(u32) -> Result<Vec<u8>>,
    ) -> Result<Ack> {
        let seq = self.next_seq();
        let msg = build(seq)?;
        self.send(&msg)?;
        loop {
            let n = self.recv()?;
            for m in messages(&self.buf[..n]) {
                let (ty, flags, mseq, payload) = m?;
                if mseq != seq || ty != NLMSG_ERROR {
                    continue;
                }
                return parse_ack(what, flags, payload);
            }
        }
    }

    /// Every qdisc of `ifindex` (all interfaces when 0), from an `RTM_GETQDISC` dump.
    pub fn qdiscs(&mut self, ifindex: i32) -> Result<Vec<Qdisc>> {
        let seq = self.next_seq();
        let mut msg = Qdisc::delete_message(ifindex, 0, 0, seq)?;
        msg[4..6].copy_from_slice(&RTM_GETQDISC.to_ne_bytes());
        msg[6..8].copy_from_slice(&(nlm::REQUEST | nlm::DUMP).to_ne_bytes());
        self.send(&msg)?;
        let mut out = Vec::new();
        loop {
            let n = self.recv()?;
            for m in messages(&self.buf[..n]) {
                let (ty, flags, mseq, payload) = m?;
                if mseq != seq {
                    continue;
                }
                match ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        parse_ack("dumping qdiscs", flags, payload)?;
                        return Ok(out);
                    }
                    RTM_NEWQDISC => {
                        let q = Qdisc::parse(payload)?;
                        if ifindex == 0 || q.ifindex == ifindex {
                            out.push(q);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

impl Rtnl {
    /// The link with index `ifindex` (`RTM_GETLINK`).
    pub fn link(&mut self, ifindex: i32) -> Result<Link> {
        let seq = self.next_seq();
        self.send(&Link::get_message(ifindex, seq)?)?;
        loop {
            let n = self.recv()?;
            for m in messages(&self.buf[..n]) {
                let (ty, flags, mseq, payload) = m?;
                if mseq != seq {
                    continue;
                }
                match ty {
                    RTM_NEWLINK => return Link::parse(payload),
                    NLMSG_ERROR => {
                        parse_ack("reading the link", flags, payload)?;
                        return Err(Error::Malformed("RTM_GETLINK answered by an ack".into()));
                    }
                    _ => {}
                }
            }
        }
    }

    /// The link named `name`, or `None` if there is none.
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<Link>> {
        match ifindex(name) {
            Ok(i) => self.link(i).map(Some),
            Err(Error::NoSuchDevice(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The index of interface `name`.
pub fn ifindex(name: &str) -> Result<i32> {
    let c = std::ffi::CString::new(name).map_err(|_| Error::NoSuchDevice(name.into()))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(Error::NoSuchDevice(name.into()));
    }
    i32::try_from(i).map_err(|_| Error::NoSuchDevice(name.into()))
}

/// Splits a datagram into `(type, flags, seq, payload)`.
fn messages(mut buf: &[u8]) -> impl Iterator<Item = Result<(u16, u16, u32, &[u8])>> {
    std::iter::from_fn(move || {
        if buf.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(Error::Truncated("nlmsghdr")));
        }
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        let flags = u16::from_ne_bytes([buf[6], buf[7]]);
        let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
        let payload = &buf[NLMSG_HDRLEN..len];
        buf = buf.get(crate::nla::align4(len)..).unwrap_or(&[]);
        Some(Ok((ty, flags, seq, payload)))
    })
}

/// An `NLMSG_ERROR` payload: `Ok` for an ack (error 0), else the error with its extack text.
pub(crate) fn parse_ack(what: &str, flags: u16, payload: &[u8]) -> Result<Ack> {
    if payload.len() < 4 + NLMSG_HDRLEN {
        return Err(Error::Truncated("nlmsgerr"));
    }
    let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let mut text = None;
    if flags & NLM_F_ACK_TLVS != 0 {
        // The echoed request: its header only when capped, else the whole message.
        let echoed = u32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]) as usize;
        let skip = 4 + if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            crate::nla::align4(echoed)
        };
        for a in attrs_flagged(payload.get(skip..).unwrap_or(&[])) {
            let Ok((kind, v, _)) = a else { break };
            if kind == NLMSGERR_ATTR_MSG {
                text = str_of("NLMSGERR_ATTR_MSG", v).ok();
            }
        }
    }
    if code == 0 {
        Ok(Ack { warning: text })
    } else {
        Err(Error::Kernel {
            op: what.to_owned(),
            errno: -code,
            extack: text,
        })
    }
}
