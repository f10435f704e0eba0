//! Fuzzing properties for the carrier, shared by the cargo-fuzz target `datagram` and the
//! unit tests. Each panics when a property fails.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::wire::{DATA_OVERHEAD, Repr};
use super::{Config, Endpoint};

/// Parse -> emit -> parse of one datagram: whatever parses re-emits to bytes that parse to
/// the same value; then an endpoint with a live connection takes the bytes as if from its
/// peer (on its main and its urgent port) and must neither panic nor hold more memory than its limits allow.
pub fn datagram(data: &[u8]) {
    if let Ok((conn, repr)) = Repr::parse_datagram(data) {
        let mut out = Vec::new();
        repr.emit(conn, &mut out);
        assert_eq!(out.len(), repr.buffer_len(), "buffer_len");
        let (conn2, again) = Repr::parse_datagram(&out).expect("re-emitted datagram parses");
        assert_eq!((conn2, again), (conn, repr), "parse(emit(r)) != r");
    }
    let now = Instant::now();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
    let mut ep = Endpoint::new(Config::new("fuzz", b"cookie"), [7; 32]);
    ep.handle(now, addr, data);
    // The same bytes on the urgent port: refused or handled, never a panic.
    ep.handle_urgent(now, addr, data);
    // Received in place, as the node's driver does for a fragment with a place.
    if let Some((head, payload)) = data.split_at_checked(DATA_OVERHEAD)
        && let Some(slot) = ep.placement(head, payload.len())
    {
        for (d, s) in slot.iter_mut().zip(payload) {
            d.write(*s);
        }
        // SAFETY: the slot is as long as the payload (the length it was asked for), all
        // written.
        unsafe { ep.handle_placed(now, addr, head, payload.len()) };
    }
    ep.handle_timeout(now + Duration::from_secs(1));
    let mut buf = Vec::new();
    for _ in 0..64 {
        if ep.poll_transmit(now, &mut buf).is_none() {
            break;
        }
    }
    while ep.poll_event().is_some() {}
}
