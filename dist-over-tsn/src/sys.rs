//! Linux socket details: `sendmsg` with a per-packet `SO_PRIORITY` control message, so one
//! UDP socket carries every class and each datagram lands in its own qdisc class / PCP.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use socket2::SockAddr;

/// The highest socket priority a process without CAP_NET_ADMIN or CAP_NET_RAW may set.
pub(crate) const UNPRIVILEGED_MAX_PRIORITY: u32 = 6;

/// [`send_with_priority`], lowering a priority the kernel refuses (EPERM: above 6 without
/// CAP_NET_ADMIN/CAP_NET_RAW) to 6 and remembering that in `ceiling` for later datagrams.
pub(crate) fn send_with_priority_or_lower(
    fd: RawFd,
    head: &[u8],
    tail: &[u8],
    dest: SocketAddr,
    priority: u32,
    ceiling: &mut u32,
) -> io::Result<usize> {
    let wanted = priority.min(*ceiling);
    match send_with_priority(fd, head, tail, dest, wanted) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) && wanted > UNPRIVILEGED_MAX_PRIORITY => {
            tracing::info!(
                priority = wanted,
                "SO_PRIORITY above 6 needs CAP_NET_ADMIN; using 6 for those classes"
            );
            *ceiling = UNPRIVILEGED_MAX_PRIORITY;
            send_with_priority(fd, head, tail, dest, UNPRIVILEGED_MAX_PRIORITY)
        }
        r => r,
    }
}

/// Sends the datagram `head` followed by `tail` (gathered, not copied) to `dest` with
/// `SOL_SOCKET/SO_PRIORITY = priority` for this packet only.
pub(crate) fn send_with_priority(
    fd: RawFd,
    head: &[u8],
    tail: &[u8],
    dest: SocketAddr,
    priority: u32,
) -> io::Result<usize> {
    let addr = SockAddr::from(dest);
    let mut iov = [head, tail].map(|b| libc::iovec {
        iov_base: b.as_ptr() as *mut libc::c_void,
        iov_len: b.len(),
    });
    // Room for one int-sized control message, aligned as cmsghdr wants.
    let space = unsafe { libc::CMSG_SPACE(size_of::<libc::c_int>() as u32) } as usize;
    let mut control = [0u64; 8];
    debug_assert!(space <= size_of_val(&control));
    // SAFETY: msghdr is plain data; every pointer set below outlives the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = if tail.is_empty() { 1 } else { 2 };
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points at `space` zeroed, aligned bytes, enough for one cmsg.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SO_PRIORITY;
        (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as _;
        std::ptr::write_unaligned(
            libc::CMSG_DATA(cmsg).cast::<libc::c_int>(),
            priority as libc::c_int,
        );
    }
    // SAFETY: fd is a live socket owned by the caller; msg is fully initialised.
    let n = unsafe { libc::sendmsg(fd, &msg, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
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
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = rx.local_addr().unwrap();
        let used = std::thread::spawn(move || {
            drop_net_caps_of_this_thread();
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let fd = tx.as_raw_fd();
            let refused = send_with_priority(fd, b"a", b"", dest, 7).unwrap_err();
            assert_eq!(refused.raw_os_error(), Some(libc::EPERM));
            let mut ceiling = u32::MAX;
            send_with_priority_or_lower(fd, b"hea", b"d", dest, 7, &mut ceiling).unwrap();
            let first = ceiling;
            // Lower priorities pass untouched, and the ceiling holds for the next ones.
            send_with_priority_or_lower(fd, b"x", b"", dest, 2, &mut ceiling).unwrap();
            send_with_priority_or_lower(fd, b"y", b"", dest, 7, &mut ceiling).unwrap();
            (first, ceiling)
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
}
