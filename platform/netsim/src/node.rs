//! The interface between the simulator and the protocol adapters it drives.

use crate::clock::{ClockModel, NodeClock};
use crate::ids::{NUM_TRAFFIC_CLASSES, NodeId, PortId, TxToken};
use crate::rng::SimRng;
use core::any::Any;
use tsn_time::{Duration, Time};

/// A simulated device: an adapter around a sans-IO protocol core.
///
/// The simulator calls exactly one of the `on_*` methods per event, then carries out the
/// sends the node asked for through its [`Ctx`] (in order), then asks
/// [`poll_timeout`](Self::poll_timeout) for the node's next deadline. Every time the node
/// sees is on its own local clock. The same shape fits a daemon: `on_frame` is a socket read
/// with its hardware timestamp, `on_tx_timestamp` the error-queue read, `on_timer` the
/// expiry of the one timer armed from `poll_timeout`, and [`Ctx`] the sockets and the clock.
pub trait Node: Any {
    /// Called once when the node is added (or restarted), at the global time of that call.
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }

    /// A frame arrived on `port`. `rx_ts` is the hardware receive timestamp: the local
    /// clock when the frame's first bit arrived, quantised and with noise as the node's
    /// [`ClockModel`] says. The call happens when the last bit has arrived, so
    /// `ctx.now()` is later than `rx_ts` by about the frame's serialisation time.
    fn on_frame(&mut self, ctx: &mut Ctx<'_>, port: PortId, frame: &[u8], rx_ts: Time);

    /// The deadline last returned by [`poll_timeout`](Self::poll_timeout) has passed:
    /// `ctx.now() >= deadline` holds, never earlier. The simulator forgets the deadline: if
    /// the node does not move it, the next `poll_timeout` returns it again and the timer
    /// fires again at once (a livelock that the bounded runs report).
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }

    /// The next local-clock instant at which the node wants [`on_timer`](Self::on_timer),
    /// or `None`. Asked after every callback; the answer is turned into global time with
    /// the clock's current rate and recomputed whenever the clock's rate or offset changes.
    fn poll_timeout(&self) -> Option<Time> {
        None
    }

    /// The frame sent with [`Ctx::send_timestamped`] and this `token` started transmission
    /// on `port` at local time `tx_ts` (hardware timestamp of its first bit, after any time
    /// spent queued). Reported for every such frame that leaves the port, even if the link
    /// then loses it; not for frames refused or flushed from the queue.
    fn on_tx_timestamp(&mut self, ctx: &mut Ctx<'_>, port: PortId, token: TxToken, tx_ts: Time) {
        let _ = (ctx, port, token, tx_ts);
    }

    /// The link of `port` went down or came back up (loss of carrier). A peer that is merely
    /// stopped does not take the link down.
    fn on_link_change(&mut self, ctx: &mut Ctx<'_>, port: PortId, up: bool) {
        let _ = (ctx, port, up);
    }
}

/// How to build a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeConfig {
    /// Number of ports, `PortId(0)` to `PortId(ports - 1)`.
    pub ports: u16,
    /// The local clock.
    pub clock: ClockModel,
    /// Capacity of each traffic-class queue of each egress port, in frames.
    pub queue_capacity: usize,
    /// How long after a frame starts transmission its transmit timestamp reaches the node.
    pub tx_timestamp_delay: Duration,
}

impl NodeConfig {
    /// `ports` ports, an ideal clock, queues of 1024 frames, timestamps reported at once.
    pub const fn new(ports: u16) -> Self {
        Self {
            ports,
            clock: ClockModel::ideal(),
            queue_capacity: 1024,
            tx_timestamp_delay: Duration::ZERO,
        }
    }
    /// Sets the clock model.
    pub const fn with_clock(mut self, clock: ClockModel) -> Self {
        self.clock = clock;
        self
    }
    /// Sets the per-class queue capacity.
    pub const fn with_queue_capacity(mut self, frames: usize) -> Self {
        self.queue_capacity = frames;
        self
    }
    /// Sets the transmit-timestamp reporting delay.
    pub const fn with_tx_timestamp_delay(mut self, d: Duration) -> Self {
        self.tx_timestamp_delay = d;
        self
    }
}

/// A send requested through [`Ctx`], carried out after the callback returns.
#[derive(Debug)]
pub(crate) struct SendAction {
    pub(crate) port: PortId,
    pub(crate) tc: u8,
    pub(crate) frame: Vec<u8>,
    pub(crate) token: Option<TxToken>,
}

/// What a node may do during a callback: the only way for it to act.
///
/// Sends are queued on the egress port when the callback returns, in the order they were
/// made, at the same global instant. Clock changes apply at once: a later [`now`](Self::now)
/// in the same callback sees them.
pub struct Ctx<'a> {
    pub(crate) node: NodeId,
    pub(crate) global_now: Time,
    pub(crate) clock: &'a mut NodeClock,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) port_up: &'a [bool],
    pub(crate) sends: &'a mut Vec<SendAction>,
    pub(crate) invalid_sends: u64,
    pub(crate) clock_changed: bool,
}

impl core::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ctx")
            .field("node", &self.node)
            .field("now", &self.now())
            .field("pending_sends", &self.sends.len())
            .finish_non_exhaustive()
    }
}

impl Ctx<'_> {
    /// This node.
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// The local clock's true reading now (not quantised, no noise): what a daemon would
    /// read from its PHC.
    pub fn now(&self) -> Time {
        self.clock.read(self.global_now)
    }

    /// Number of ports.
    pub fn num_ports(&self) -> u16 {
        self.port_up.len() as u16
    }

    /// Whether `port` has a link that is up.
    pub fn port_is_up(&self, port: PortId) -> bool {
        self.port_up.get(port.index()).copied().unwrap_or(false)
    }

    /// Queues `frame` (an Ethernet frame starting with the destination address, without
    /// FCS) for transmission on `port` in traffic class `tc` (0..=7, 7 highest). A bad port
    /// or class is counted in [`NodeCounters::invalid_sends`](crate::NodeCounters) and the
    /// frame dropped.
    pub fn send(&mut self, port: PortId, tc: u8, frame: impl Into<Vec<u8>>) {
        self.push_send(port, tc, frame.into(), None);
    }

    /// Like [`send`](Self::send), and reports the transmit timestamp with `token` through
    /// [`Node::on_tx_timestamp`] when the frame starts leaving the port.
    pub fn send_timestamped(
        &mut self,
        port: PortId,
        tc: u8,
        frame: impl Into<Vec<u8>>,
        token: TxToken,
    ) {
        self.push_send(port, tc, frame.into(), Some(token));
    }

    fn push_send(&mut self, port: PortId, tc: u8, frame: Vec<u8>, token: Option<TxToken>) {
        if port.index() >= self.port_up.len() || usize::from(tc) >= NUM_TRAFFIC_CLASSES {
            self.invalid_sends += 1;
            return;
        }
        self.sends.push(SendAction {
            port,
            tc,
            frame,
            token,
        });
    }

    /// Sets the servo's frequency adjustment in ppb (positive: faster), replacing the
    /// previous one, as `clock_adjtime(ADJ_FREQUENCY)` does. Returns the value applied after
    /// clamping to the clock's `max_adjust_ppb`. The reading stays continuous.
    pub fn adjust_frequency(&mut self, ppb: f64) -> f64 {
        self.clock_changed = true;
        self.clock.set_servo_ppb(self.global_now, ppb)
    }

    /// The servo's current frequency adjustment in ppb.
    pub fn frequency_adjustment(&self) -> f64 {
        self.clock.servo_ppb()
    }

    /// Jumps the local clock by `offset` (positive: forward).
    pub fn step_clock(&mut self, offset: Duration) {
        self.clock_changed = true;
        self.clock.step(self.global_now, offset);
    }

    /// 64 random bits from the node's own seeded stream (for protocol jitter, random
    /// identifiers): deterministic, independent of other nodes.
    pub fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}
