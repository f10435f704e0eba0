//! Linux details: `sendmsg` with a per-packet `SO_PRIORITY` control message, so one UDP
//! socket sends every class and each datagram lands in its own qdisc class / PCP; raw
//! receives; launch times (`SO_TXTIME`) and their error reports; scheduling (SCHED_FIFO,
//! `sched_yield`, the machine's runnable threads).

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use socket2::SockAddr;

/// `SO_TXTIME` and `SCM_TXTIME` (include/uapi/asm-generic/socket.h; the libc crate has
/// the option's struct and flags but not its number).
const SO_TXTIME: libc::c_int = 61;
/// `SO_EE_ORIGIN_TXTIME` (include/uapi/linux/errqueue.h).
const SO_EE_ORIGIN_TXTIME: u8 = 6;

/// Lets `fd` send datagrams with a launch time on `CLOCK_TAI` (`SCM_TXTIME`), with errors
/// (launch time missed, invalid) reported on its error queue.
pub(crate) fn enable_txtime(fd: RawFd) -> io::Result<()> {
    let cfg = libc::sock_txtime {
        clockid: libc::CLOCK_TAI,
        flags: libc::SOF_TXTIME_REPORT_ERRORS,
    };
    // SAFETY: plain setsockopt with a pointer to an initialised struct of the given size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_TXTIME,
            (&raw const cfg).cast(),
            size_of::<libc::sock_txtime>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `CLOCK_TAI` in nanoseconds: the clock of launch times and of `etf`/taprio.
pub(crate) fn clock_tai_ns() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the timespec it is given; CLOCK_TAI exists on every Linux we run on.
    unsafe { libc::clock_gettime(libc::CLOCK_TAI, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// Takes every report off `fd`'s error queue (non-blocking) and returns how many said a
/// launch time was missed or refused.
pub(crate) fn drain_txtime_errors(fd: RawFd) -> usize {
    let mut refused = 0;
    // The reports carry the datagram back; only the control message matters.
    let mut data = [0u8; 64];
    let mut control = [0u64; 16];
    for _ in 0..1024 {
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: msghdr is plain data; its pointers outlive the recvmsg call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: fd is a live socket; msg is initialised.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
        if n < 0 {
            break;
        }
        // SAFETY: walking the control messages the kernel just wrote, within
        // msg_controllen, as the CMSG_* macros do.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let level = (*cmsg).cmsg_level;
                let kind = (*cmsg).cmsg_type;
                if (level, kind) == (libc::SOL_IP, libc::IP_RECVERR)
                    || (level, kind) == (libc::SOL_IPV6, libc::IPV6_RECVERR)
                {
                    let ee = std::ptr::read_unaligned(
                        libc::CMSG_DATA(cmsg).cast::<libc::sock_extended_err>(),
                    );
                    if ee.ee_origin == SO_EE_ORIGIN_TXTIME {
                        refused += 1;
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
    }
    refused
}

/// The highest socket priority a process without CAP_NET_ADMIN or CAP_NET_RAW may set.
pub(crate) const UNPRIVILEGED_MAX_PRIORITY: u32 = 6;

/// Sends datagrams with a socket priority each, the way this kernel allows:
///
/// - per datagram, as an `SO_PRIORITY` control message (Linux 6.x; no system call more);
/// - where the kernel refuses that control message (EINVAL: Debian 12's 6.1, for one), with
///   `setsockopt(SO_PRIORITY)` before a datagram whose priority differs from the last;
/// - above 6 without CAP_NET_ADMIN/CAP_NET_RAW (EPERM), at 6 from then on.
#[derive(Debug)]
pub(crate) struct PrioritySender {
    ceiling: u32,
    cmsg: bool,
    /// The socket's own priority as last set (`setsockopt` mode).
    current: Option<u32>,
}

impl Default for PrioritySender {
    fn default() -> Self {
        Self {
            ceiling: u32::MAX,
            cmsg: true,
            current: None,
        }
    }
}

impl PrioritySender {
    /// Sends `head` then the pieces of `tail` to `dest` at `priority` (see the type), with
    /// a launch time when given.
    pub(crate) fn send<T: AsRef<[u8]>>(
        &mut self,
        fd: RawFd,
        head: &[u8],
        tail: &[T],
        dest: SocketAddr,
        priority: u32,
        txtime: Option<u64>,
    ) -> io::Result<usize> {
        loop {
            let wanted = priority.min(self.ceiling);
            let r = if self.cmsg {
                send_with_priority(fd, head, tail, dest, Some(wanted), txtime)
            } else {
                self.set_socket_priority(fd, wanted)
                    .and_then(|()| send_with_priority(fd, head, tail, dest, None, txtime))
            };
            match r {
                Err(e)
                    if e.raw_os_error() == Some(libc::EPERM)
                        && wanted > UNPRIVILEGED_MAX_PRIORITY =>
                {
                    tracing::info!(
                        priority = wanted,
                        "SO_PRIORITY above 6 needs CAP_NET_ADMIN; using 6 for those classes"
                    );
                    self.ceiling = UNPRIVILEGED_MAX_PRIORITY;
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) && self.cmsg => {
                    // The same datagram without the priority message: if that goes, the
                    // kernel does not know the message.
                    self.set_socket_priority(fd, wanted)?;
                    let n = send_with_priority(fd, head, tail, dest, None, txtime)?;
                    tracing::info!(
                        "this kernel takes no SO_PRIORITY control message; setting the \
                         socket's priority when the class changes"
                    );
                    self.cmsg = false;
                    return Ok(n);
                }
                r => return r,
            }
        }
    }

    fn set_socket_priority(&mut self, fd: RawFd, priority: u32) -> io::Result<()> {
        if self.current == Some(priority) {
            return Ok(());
        }
        let v = priority as libc::c_int;
        // SAFETY: plain setsockopt with a pointer to an int.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PRIORITY,
                (&raw const v).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        self.current = Some(priority);
        Ok(())
    }
}

/// Sends the datagram `head` followed by the pieces of `tail` (gathered, not copied) to
/// `dest`, when given with `SOL_SOCKET/SO_PRIORITY = priority` for this packet only and
/// with a launch time (`SCM_TXTIME`, TAI nanoseconds; the socket needs [`enable_txtime`]).
fn send_with_priority<T: AsRef<[u8]>>(
    fd: RawFd,
    head: &[u8],
    tail: &[T],
    dest: SocketAddr,
    priority: Option<u32>,
    txtime: Option<u64>,
) -> io::Result<usize> {
    let addr = SockAddr::from(dest);
    let mut iov: Vec<libc::iovec> = std::iter::once(head)
        .chain(tail.iter().map(AsRef::as_ref))
        .filter(|b| !b.is_empty())
        .map(|b| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        })
        .collect();
    // The control messages: (type, value bytes), all at level SOL_SOCKET.
    let prio = priority.map(|p| (libc::SO_PRIORITY, (p as libc::c_int).to_ne_bytes().to_vec()));
    let time = txtime.map(|t| (SO_TXTIME, t.to_ne_bytes().to_vec()));
    let cmsgs: Vec<(libc::c_int, Vec<u8>)> = prio.into_iter().chain(time).collect();
    // SAFETY: CMSG_SPACE is arithmetic.
    let space: usize = cmsgs
        .iter()
        .map(|(_, v)| unsafe { libc::CMSG_SPACE(v.len() as u32) } as usize)
        .sum();
    // Aligned as cmsghdr wants; room for an int and a u64 message.
    let mut control = [0u64; 8];
    debug_assert!(space <= size_of_val(&control));
    // SAFETY: msghdr is plain data; every pointer set below outlives the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len() as _;
    if space > 0 {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points at `space` zeroed, aligned bytes: room for every cmsg,
        // each written within its CMSG_SPACE.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            for (kind, value) in &cmsgs {
                (*cmsg).cmsg_level = libc::SOL_SOCKET;
                (*cmsg).cmsg_type = *kind;
                (*cmsg).cmsg_len = libc::CMSG_LEN(value.len() as u32) as _;
                std::ptr::copy_nonoverlapping(value.as_ptr(), libc::CMSG_DATA(cmsg), value.len());
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
    }
    // SAFETY: fd is a live socket owned by the caller; msg is fully initialised.
    let n = unsafe { libc::sendmsg(fd, &msg, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One `recvfrom` on a non-blocking socket, bypassing the runtime's readiness cache.
pub(crate) fn recv_from(
    socket: &tokio::net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr)> {
    let sock = socket2::SockRef::from(socket);
    let (n, from) = sock.recv_from(as_uninit(buf))?;
    let from = from
        .as_socket()
        .ok_or_else(|| io::Error::other("not an IP source address"))?;
    Ok((n, from))
}

/// `buf` as the uninitialised bytes socket2 receives into.
fn as_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: the kernel only writes initialised bytes into the buffer, and u8 and
    // MaybeUninit<u8> have the same layout.
    unsafe { &mut *(std::ptr::from_mut::<[u8]>(buf) as *mut [std::mem::MaybeUninit<u8>]) }
}

/// Copies the first bytes of the next datagram into `head`, leaving it queued, and returns
/// its whole length (`MSG_PEEK | MSG_TRUNC`).
pub(crate) fn peek(socket: &tokio::net::UdpSocket, head: &mut [u8]) -> io::Result<usize> {
    socket2::SockRef::from(socket)
        .recv_with_flags(as_uninit(head), libc::MSG_PEEK | libc::MSG_TRUNC)
}

/// Receives the next datagram scattered over `head` then `tail`: its length (what fitted),
/// its sender, and whether it was longer than both.
pub(crate) fn recv_scattered(
    socket: &tokio::net::UdpSocket,
    head: &mut [u8],
    tail: &mut [std::mem::MaybeUninit<u8>],
) -> io::Result<(usize, SocketAddr, bool)> {
    let sock = socket2::SockRef::from(socket);
    let mut bufs = [
        socket2::MaybeUninitSlice::new(as_uninit(head)),
        socket2::MaybeUninitSlice::new(tail),
    ];
    let (n, flags, from) = sock.recv_from_vectored(&mut bufs)?;
    let from = from
        .as_socket()
        .ok_or_else(|| io::Error::other("not an IP source address"))?;
    Ok((n, from, flags.is_truncated()))
}

/// The machine's runnable threads, from `/proc/loadavg` (its fourth field, `running/total`,
/// counts the threads running or waiting for a CPU right now), against the CPUs this
/// process may use.
#[derive(Debug)]
pub(crate) struct CpuLoad {
    file: std::fs::File,
    cpus: u32,
    buf: [u8; 128],
    /// Since when every look found more runnable threads than CPUs.
    crowded_since: Option<std::time::Instant>,
}

/// How long more threads than CPUs may be runnable before [`CpuLoad::spare_cpu`] says no:
/// a thread that runs for a moment (a timer, a kernel worker) does not end a spin, one that
/// needs the CPU longer waits at most this.
const CROWDED_GRACE: std::time::Duration = std::time::Duration::from_micros(50);

impl CpuLoad {
    /// `None` where `/proc` is not mounted.
    pub(crate) fn open() -> Option<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        Some(Self {
            file: std::fs::File::open("/proc/loadavg").ok()?,
            cpus,
            buf: [0; 128],
            crowded_since: None,
        })
    }

    /// Whether no thread has waited for a CPU for longer than [`CROWDED_GRACE`] (runnable
    /// threads, the caller included, at most the CPUs); false if it cannot tell.
    pub(crate) fn spare_cpu(&mut self) -> bool {
        use std::os::unix::fs::FileExt;
        // One pread: the kernel regenerates the file from offset 0.
        let Ok(n) = self.file.read_at(&mut self.buf, 0) else {
            return false;
        };
        let Some(running) = parse_running(&self.buf[..n]) else {
            return false;
        };
        let now = std::time::Instant::now();
        spare_or_briefly_crowded(running, self.cpus, &mut self.crowded_since, now)
    }
}

/// [`CpuLoad::spare_cpu`]'s decision, given the running count read at `now`.
fn spare_or_briefly_crowded(
    running: u32,
    cpus: u32,
    crowded_since: &mut Option<std::time::Instant>,
    now: std::time::Instant,
) -> bool {
    if running <= cpus {
        *crowded_since = None;
        return true;
    }
    let since = *crowded_since.get_or_insert(now);
    now.duration_since(since) < CROWDED_GRACE
}

/// The `running` of `/proc/loadavg`'s `running/total` field.
fn parse_running(loadavg: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(loadavg).ok()?;
    let field = text.split_ascii_whitespace().nth(3)?;
    field.split_once('/')?.0.parse().ok()
}

/// Offers the CPU to other runnable threads (`sched_yield`); returns at once if none.
pub(crate) fn yield_cpu() {
    // SAFETY: no arguments, no memory; cannot fail on Linux.
    unsafe {
        libc::sched_yield();
    }
}

/// 32 bytes from the kernel's random pool, for nonces and connection ids.
pub(crate) fn random_seed() -> io::Result<[u8; 32]> {
    use std::io::Read;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    Ok(seed)
}

/// Puts the calling thread in SCHED_FIFO at `priority` (1 to 99); what it starts later does
/// not inherit that.
pub(crate) fn set_fifo(priority: u8) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: libc::c_int::from(priority),
    };
    // Reset on fork: threads and processes this one starts (a runtime's workers, a child
    // process) begin in the normal class instead of inheriting the real-time one.
    let policy = libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK;
    // SAFETY: plain syscall on the calling thread (pid 0) with an initialised parameter.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: libc::c_int,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    /// Drops CAP_NET_ADMIN and CAP_NET_RAW from the calling thread only (capabilities are
    /// per thread), as if it ran unprivileged.
    fn drop_net_caps_of_this_thread() {
        let mut h = CapHeader {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let mut d = [CapData::default(); 2];
        // SAFETY: header and two data words, as version 3 wants.
        assert_eq!(
            unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) },
            0
        );
        // CAP_NET_ADMIN is 12, CAP_NET_RAW 13 (linux/capability.h).
        let net = (1 << 12) | (1 << 13);
        d[0].effective &= !net;
        d[0].permitted &= !net;
        d[0].inheritable &= !net;
        // SAFETY: as above; lowering one's own capabilities is always allowed.
        assert_eq!(
            unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) },
            0
        );
    }

    fn policy_of_this_thread() -> libc::c_int {
        // SAFETY: plain syscall on the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn running_threads_come_from_the_fourth_loadavg_field() {
        use std::os::unix::fs::FileExt;
        assert_eq!(parse_running(b"0.52 0.58 0.59 3/467 12345\n"), Some(3));
        assert_eq!(parse_running(b"0.52 0.58 0.59 12/467 1\n"), Some(12));
        assert_eq!(parse_running(b"0.52 0.58"), None);
        assert_eq!(parse_running(b"0.52 0.58 0.59 x/467 1"), None);
        // The live file parses, and counts at least this running thread.
        let mut load = CpuLoad::open().expect("/proc/loadavg");
        let n = load.file.read_at(&mut load.buf, 0).unwrap();
        assert!(parse_running(&load.buf[..n]).unwrap() >= 1);
    }

    #[test]
    fn a_crowded_machine_ends_the_spin_after_the_grace() {
        let t0 = std::time::Instant::now();
        let us = |n| t0 + std::time::Duration::from_micros(n);
        let mut since = None;
        assert!(spare_or_briefly_crowded(2, 2, &mut since, us(0)));
        // A third thread: tolerated for the grace, not longer.
        assert!(spare_or_briefly_crowded(3, 2, &mut since, us(10)));
        assert!(spare_or_briefly_crowded(3, 2, &mut since, us(59)));
        assert!(!spare_or_briefly_crowded(3, 2, &mut since, us(60)));
        // It went away: spinning may go on, and a new crowd starts a new grace.
        assert!(spare_or_briefly_crowded(1, 2, &mut since, us(70)));
        assert!(spare_or_briefly_crowded(4, 2, &mut since, us(80)));
        assert!(!spare_or_briefly_crowded(4, 2, &mut since, us(200)));
    }

    #[test]
    fn fifo_is_not_inherited_by_threads_started_later() {
        let (mine, child) = std::thread::spawn(|| {
            if let Err(e) = set_fifo(1) {
                // Only root or CAP_SYS_NICE may; CI runs as root.
                assert_eq!(e.raw_os_error(), Some(libc::EPERM));
                eprintln!("skipped: SCHED_FIFO not permitted here");
                return (
                    libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK,
                    libc::SCHED_OTHER,
                );
            }
            let child = std::thread::spawn(policy_of_this_thread).join().unwrap();
            (policy_of_this_thread(), child)
        })
        .join()
        .unwrap();
        assert_eq!(mine, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK);
        assert_eq!(child, libc::SCHED_OTHER);
    }

    #[test]
    fn an_unprivileged_sender_falls_back_to_priority_6() {
        const NONE: &[&[u8]] = &[];
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = rx.local_addr().unwrap();
        let used = std::thread::spawn(move || {
            drop_net_caps_of_this_thread();
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let fd = tx.as_raw_fd();
            let refused = send_with_priority(fd, b"a", NONE, dest, Some(7), None).unwrap_err();
            assert_eq!(refused.raw_os_error(), Some(libc::EPERM));
            let mut sender = PrioritySender::default();
            sender
                .send(fd, b"he", &[b"a", b"d"], dest, 7, None)
                .unwrap();
            let first = sender.ceiling;
            // Lower priorities pass untouched, and the ceiling holds for the next ones.
            sender.send(fd, b"x", NONE, dest, 2, None).unwrap();
            sender.send(fd, b"y", NONE, dest, 7, None).unwrap();
            (first, sender.ceiling)
        })
        .join()
        .unwrap();
        assert_eq!(used, (6, 6));
        let mut buf = [0u8; 16];
        let got: Vec<Vec<u8>> = (0..3)
            .map(|_| {
                let n = rx.recv(&mut buf).unwrap();
                buf[..n].to_vec()
            })
            .collect();
        assert_eq!(got, [b"head".to_vec(), b"x".to_vec(), b"y".to_vec()]);
    }

    #[test]
    fn without_the_control_message_the_socket_priority_follows_each_class() {
        const NONE: &[&[u8]] = &[];
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = tx.as_raw_fd();
        let prio = || {
            let mut v: libc::c_int = -1;
            let mut len = size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt into an int of the given length.
            let r = unsafe {
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_PRIORITY,
                    (&raw mut v).cast(),
                    &mut len,
                )
            };
            assert_eq!(r, 0);
            v
        };
        // As on a kernel that refused the control message.
        let mut sender = PrioritySender {
            cmsg: false,
            ..PrioritySender::default()
        };
        let dest = rx.local_addr().unwrap();
        sender.send(fd, b"a", NONE, dest, 5, None).unwrap();
        assert_eq!(prio(), 5);
        sender.send(fd, b"b", NONE, dest, 2, None).unwrap();
        assert_eq!(prio(), 2);
        let mut buf = [0u8; 4];
        assert_eq!(rx.recv(&mut buf).unwrap(), 1);
        assert_eq!(rx.recv(&mut buf).unwrap(), 1);
        // With the control message the socket's own priority is left alone.
        let mut sender = PrioritySender::default();
        sender.send(fd, b"c", NONE, dest, 6, None).unwrap();
        assert_eq!(prio(), 2);
    }
}
