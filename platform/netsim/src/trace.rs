//! The event trace: what happened, in order, for determinism checks and debugging.

use crate::ids::{Direction, LinkId, NodeId, PortId, TxToken};
use core::hash::{Hash, Hasher};
use tsn_time::Time;

/// One thing that happened at a global instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceEvent {
    /// Global time.
    pub at: Time,
    /// What happened.
    pub kind: TraceKind,
}

/// The kinds of [`TraceEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceKind {
    /// A node was started or restarted.
    Start {
        /// The node.
        node: NodeId,
    },
    /// A node's timer fired.
    Timer {
        /// The node.
        node: NodeId,
        /// Its local reading.
        local: Time,
    },
    /// A frame was refused by a full queue.
    QueueDrop {
        /// The sender.
        node: NodeId,
        /// Its port.
        port: PortId,
        /// The traffic class.
        tc: u8,
    },
    /// A frame started transmission.
    TxStart {
        /// The sender.
        node: NodeId,
        /// Its port.
        port: PortId,
        /// The traffic class.
        tc: u8,
        /// Frame length in bytes.
        len: u32,
    },
    /// A transmit timestamp was delivered.
    TxTimestamp {
        /// The sender.
        node: NodeId,
        /// Its port.
        port: PortId,
        /// The token of the send.
        token: TxToken,
        /// The timestamp.
        ts: Time,
    },
    /// The link lost a frame.
    Lost {
        /// The link.
        link: LinkId,
        /// Which way.
        dir: Direction,
    },
    /// A frame in flight was dropped: its link was cut or its receiver stopped.
    Dropped {
        /// The link.
        link: LinkId,
        /// Which way.
        dir: Direction,
    },
    /// A frame was delivered.
    Delivered {
        /// The receiver.
        node: NodeId,
        /// Its port.
        port: PortId,
        /// Frame length in bytes.
        len: u32,
        /// A cheap digest of the frame bytes.
        digest: u64,
        /// The receive timestamp.
        rx_ts: Time,
    },
    /// A link went down or up.
    LinkState {
        /// The link.
        link: LinkId,
        /// New state.
        up: bool,
    },
    /// A node was stopped.
    Stop {
        /// The node.
        node: NodeId,
    },
}

/// A fixed, platform-independent 64-bit hasher (FxHash's mixing), so trace hashes do not
/// depend on `std`'s randomly keyed hasher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FxHasher(pub(crate) u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FxHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }
}

/// Digest of frame bytes for the trace.
pub(crate) fn digest(frame: &[u8]) -> u64 {
    let mut h = FxHasher(0);
    h.write(frame);
    h.finish()
}

/// Folds an event into a running trace hash.
pub(crate) fn fold(hash: u64, ev: &TraceEvent) -> u64 {
    let mut h = FxHasher(hash);
    ev.hash(&mut h);
    h.finish()
}
