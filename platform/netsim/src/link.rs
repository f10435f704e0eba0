//! Link configuration and the counters of links, ports and nodes.

use tsn_time::Duration;

/// Per-frame overhead on an Ethernet wire that the frame bytes do not include: 7 bytes of
/// preamble, 1 byte of start-of-frame delimiter and the 12-byte minimum inter-frame gap.
/// (The 4-byte FCS is not added: frames handed to the simulator are what a capture shows,
/// and most captures leave the FCS out; add 4 to [`LinkParams::overhead_bytes`] to count
/// it.)
pub const ETHERNET_OVERHEAD_BYTES: u32 = 20;

/// One direction of a link.
///
/// Timing of a frame of `n` bytes that starts transmission at global time `t0` (when the
/// egress port picks it from its queue):
///
/// - the egress port is busy for `ser = (n + overhead_bytes) * 8 / bandwidth_bps` (zero if
///   `bandwidth_bps` is 0: an infinitely fast wire);
/// - its first bit reaches the receiver at `t1 = t0 + propagation_delay + extra`, where
///   `extra` is uniform in `[0, jitter]`, plus `reorder_delay` for a reordered frame;
///   transmit and receive timestamps both name this first bit, `t0` and `t1`;
/// - the receiver gets the whole frame ([`Node::on_frame`](crate::Node::on_frame)) at
///   `t1 + ser`.
///
/// With probability `loss` the frame never arrives; with probability `duplicate` a second
/// copy arrives right behind it (`ser` later); with probability `reorder` it is held for
/// `reorder_delay` more, so frames sent after it can overtake it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkParams {
    /// Constant delay of the medium.
    pub propagation_delay: Duration,
    /// Line rate in bit/s; 0 means no serialisation delay at all.
    pub bandwidth_bps: u64,
    /// Bytes added to each frame to compute its time on the wire (default
    /// [`ETHERNET_OVERHEAD_BYTES`]).
    pub overhead_bytes: u32,
    /// Largest random extra delay per frame (uniform in `[0, jitter]`).
    pub jitter: Duration,
    /// Probability a frame is lost.
    pub loss: f64,
    /// Probability a frame is delivered twice.
    pub duplicate: f64,
    /// Probability a frame is delayed by `reorder_delay` more than its neighbours.
    pub reorder: f64,
    /// Extra delay of a reordered frame.
    pub reorder_delay: Duration,
}

impl Default for LinkParams {
    /// 1 Gbit/s, 100 ns propagation (about 20 m of copper), no impairments.
    fn default() -> Self {
        Self {
            propagation_delay: Duration::from_nanos(100),
            bandwidth_bps: 1_000_000_000,
            overhead_bytes: ETHERNET_OVERHEAD_BYTES,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_micros(100),
        }
    }
}

impl LinkParams {
    /// Sets [`propagation_delay`](Self::propagation_delay).
    pub const fn with_delay(mut self, d: Duration) -> Self {
        self.propagation_delay = d;
        self
    }
    /// Sets [`bandwidth_bps`](Self::bandwidth_bps).
    pub const fn with_bandwidth(mut self, bps: u64) -> Self {
        self.bandwidth_bps = bps;
        self
    }
    /// Sets [`overhead_bytes`](Self::overhead_bytes).
    pub const fn with_overhead(mut self, bytes: u32) -> Self {
        self.overhead_bytes = bytes;
        self
    }
    /// Sets [`jitter`](Self::jitter).
    pub const fn with_jitter(mut self, j: Duration) -> Self {
        self.jitter = j;
        self
    }
    /// Sets [`loss`](Self::loss).
    pub const fn with_loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// Sets [`duplicate`](Self::duplicate).
    pub const fn with_duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// Sets [`reorder`](Self::reorder) and [`reorder_delay`](Self::reorder_delay).
    pub const fn with_reorder(mut self, p: f64, delay: Duration) -> Self {
        self.reorder = p;
        self.reorder_delay = delay;
        self
    }

    /// Time on the wire of a frame of `len` bytes, overhead included.
    pub fn serialisation(&self, len: usize) -> Duration {
        if self.bandwidth_bps == 0 {
            return Duration::ZERO;
        }
        let bits = (len as i128 + i128::from(self.overhead_bytes)) * 8;
        Duration::from_subnanos(
            bits * 1_000_000_000 * tsn_time::SUBNANOS_PER_NS / i128::from(self.bandwidth_bps),
        )
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("link {name} probability {p} is not within 0..=1"));
            }
        }
        if self.propagation_delay.is_negative()
            || self.jitter.is_negative()
            || self.reorder_delay.is_negative()
        {
            return Err("link delays must not be negative".into());
        }
        Ok(())
    }
}

/// Both directions of a full-duplex link.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkConfig {
    /// From the first end to the second.
    pub a_to_b: LinkParams,
    /// From the second end to the first.
    pub b_to_a: LinkParams,
}

impl LinkConfig {
    /// The same parameters both ways.
    pub const fn symmetric(params: LinkParams) -> Self {
        Self {
            a_to_b: params,
            b_to_a: params,
        }
    }
}

/// Where a link capture records frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CapturePoint {
    /// Every frame that starts transmission onto the link, stamped with its start time: what
    /// a tap at the sender sees, including frames the link then loses (duplicates and the
    /// effect of reordering do not show).
    #[default]
    Transmit,
    /// Every frame delivered to the receiving node, stamped with the arrival of its first
    /// bit: what the receiver's stack sees (duplicates included, losses absent).
    Receive,
}

/// What happened to the frames of one link direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LinkCounters {
    /// Frames that started transmission onto the link.
    pub sent: u64,
    /// Frames handed to the receiving node (duplicates included).
    pub delivered: u64,
    /// Frames lost by the random loss model or a [`drop_next_frames`] burst.
    ///
    /// [`drop_next_frames`]: crate::Simulator::drop_next_frames
    pub lost: u64,
    /// Extra copies created.
    pub duplicated: u64,
    /// Frames given the extra reordering delay.
    pub reordered: u64,
    /// Frames in flight when the link was cut.
    pub dropped_link_down: u64,
    /// Frames that arrived at a stopped node.
    pub dropped_node_down: u64,
}

/// What happened to the frames a node sent on one port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortCounters {
    /// Frames accepted into a traffic-class queue.
    pub enqueued: u64,
    /// Frames that started transmission.
    pub transmitted: u64,
    /// Frames refused because their queue was full.
    pub queue_drops: u64,
    /// Frames refused or flushed because the port had no link or its link was down.
    pub dropped_link_down: u64,
    /// Frames flushed from the queues when the node stopped.
    pub flushed_node_stop: u64,
    /// Largest number of frames queued at once (all classes).
    pub max_queue_depth: u64,
}

/// What a node did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeCounters {
    /// Frames delivered to the node.
    pub frames_received: u64,
    /// Timer callbacks.
    pub timers_fired: u64,
    /// Transmit timestamps delivered.
    pub tx_timestamps: u64,
    /// Sends ignored because of a bad port number or traffic class.
    pub invalid_sends: u64,
}
