//! Linux socket details: `sendmsg` with a per-packet `SO_PRIORITY` control message, so one
//! UDP socket carries every class and each datagram lands in its own qdisc class / PCP.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use socket2::SockAddr;

/// Sends `buf` to `dest` with `SOL_SOCKET/SO_PRIORITY = priority` for this packet only.
pub(crate) fn send_with_priority(
    fd: RawFd,
    buf: &[u8],
    dest: SocketAddr,
    priority: u32,
) -> io::Result<usize> {
    let addr = SockAddr::from(dest);
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // Room for one int-sized control message, aligned as cmsghdr wants.
    let space = unsafe { libc::CMSG_SPACE(size_of::<libc::c_int>() as u32) } as usize;
    let mut control = [0u64; 8];
    debug_assert!(space <= size_of_val(&control));
    // SAFETY: msghdr is plain data; every pointer set below outlives the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
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
