//! A deterministic discrete-event network simulator that drives sans-IO protocol cores.
//!
//! Protocol cores (gPTP, IS-IS/SPB, the 802.1Qbv shaper, the distribution transport) never
//! read a clock or touch a socket; a small adapter implementing [`Node`] turns the
//! simulator's callbacks into the core's `handle_*` inputs and the core's actions into
//! [`Ctx`] calls. The [`Simulator`] connects such nodes with [`LinkParams`]-configured links
//! and runs them on simulated time, so "ten bridges for a simulated minute" runs in
//! milliseconds and the same seed always gives the same run.
//!
//! # Time: global and local
//!
//! - **Global time** ([`Simulator::now`]) is the simulator's ideal timeline; it starts at
//!   [`Time::EPOCH`] and only moves forward, jumping from one scheduled event to the next
//!   (nothing sleeps, nothing reads the host clock).
//! - Each node has a **local clock** described by a [`ClockModel`]: initial offset,
//!   frequency error in ppm, drift (linear aging and/or a frequency random walk), plus the
//!   servo's own frequency adjustment and steps made through [`Ctx::adjust_frequency`] and
//!   [`Ctx::step_clock`]. Between changes it is linear in global time
//!   ([`tsn_time::VirtualTimescale`]).
//! - A node sees **only** local time: [`Ctx::now`], the `rx_ts` of [`Node::on_frame`], the
//!   `tx_ts` of [`Node::on_tx_timestamp`] and the deadlines of [`Node::poll_timeout`].
//!   Hardware timestamps are quantised to the clock's granularity with gaussian noise.
//! - Tests measure the truth with [`Simulator::true_local_time`] and
//!   [`Simulator::clock_error`].
//!
//! # What a node sees, and in which order
//!
//! Each event calls at most one `on_*` method of one node. After it returns, the sends made
//! through its [`Ctx`] are queued on the egress ports in call order (a free transmitter
//! starts the first one at once, at the same global instant), then the simulator calls
//! [`Node::poll_timeout`] and (re)arms the node's single timer. Transmit timestamps and link
//! changes come back as separate, later events, never inside the callback that caused them.
//! Timers fire when the local clock has reached the deadline, never earlier; a clock change
//! re-computes the global instant of the deadline.
//!
//! A frame's life: queued in one of eight per-traffic-class FIFOs of its egress port ->
//! picked by strict priority among the classes whose [`Gate`] allows it -> serialised at
//! the link's rate (the transmit timestamp names the start) -> possibly lost, jittered,
//! reordered or duplicated -> first bit at the receiver after the propagation delay (the
//! receive timestamp) -> delivered when its last bit has arrived. See [`LinkParams`] for
//! the exact timing.
//!
//! # Determinism contract
//!
//! The run is a function of the seed, the configuration and the sequence of API calls: the
//! event queue is ordered by (global time, insertion order), all randomness comes from ChaCha8
//! streams of the seed (one per node oscillator, per node, per port timestamping unit and per
//! link direction, and a disabled feature draws nothing, so changing one part does not shift
//! the random numbers of the others), and nothing depends on the host
//! (no hash-map iteration order, no wall clock). [`Simulator::trace_hash`] summarises every
//! event; [`Simulator::enable_trace`] keeps them. Runs are bit-identical on one target;
//! floating-point library functions (`ln`, `cos` of the noise generator) may in principle
//! differ between platforms.
//!
//! # Running
//!
//! [`Simulator::step`] processes one event, [`Simulator::run_until`] and
//! [`Simulator::run_for`] everything up to an instant, and the `_bounded` variants stop with
//! [`Error::EventLimit`] after a maximum number of events, which catches a node that keeps
//! asking for a timer in the past. Faults: [`Simulator::set_link_up`],
//! [`Simulator::drop_next_frames`], [`Simulator::stop_node`], [`Simulator::restart_node`].
//! [`Simulator::capture_link`] writes a pcap of any link for Wireshark.
//!
//! # Example
//!
//! ```
//! use tsn_netsim::{Ctx, LinkConfig, LinkParams, Node, NodeConfig, PortId, Simulator};
//! use tsn_time::{Duration, Time};
//!
//! /// Sends one frame at local time 1 ms; remembers what it receives.
//! #[derive(Default)]
//! struct Ping { sent: bool, got: Vec<Time> }
//!
//! impl Node for Ping {
//!     fn on_frame(&mut self, _ctx: &mut Ctx<'_>, _port: PortId, _frame: &[u8], rx_ts: Time) {
//!         self.got.push(rx_ts);
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
//!         ctx.send(PortId(0), 0, vec![0u8; 105]);
//!         self.sent = true;
//!     }
//!     fn poll_timeout(&self) -> Option<Time> {
//!         (!self.sent).then(|| Time::from_nanos(1_000_000))
//!     }
//! }
//!
//! let mut sim = Simulator::new(42);
//! let a = sim.add_node(NodeConfig::new(1), Ping::default());
//! let b = sim.add_node(NodeConfig::new(1), Ping { sent: true, ..Default::default() });
//! let link = LinkParams::default()
//!     .with_bandwidth(1_000_000_000)
//!     .with_delay(Duration::from_nanos(500));
//! sim.connect((a, PortId(0)), (b, PortId(0)), LinkConfig::symmetric(link)).unwrap();
//! sim.run_for(Duration::from_millis(2));
//!
//! // First bit left at 1 ms and arrived 500 ns later (ideal clocks read global time).
//! let got = &sim.node::<Ping>(b).unwrap().got;
//! assert_eq!(got, &[Time::from_nanos(1_000_500)]);
//! ```
#![deny(missing_docs)]

mod clock;
mod error;
mod gate;
mod ids;
mod link;
mod node;
mod rng;
mod sim;
mod trace;
pub mod traffic;

pub use clock::ClockModel;
pub use error::{Error, Result};
pub use gate::{AlwaysOpen, Gate, GateControlList};
pub use ids::{Direction, LinkId, NUM_TRAFFIC_CLASSES, NodeId, PortId, TxToken};
pub use link::{
    CapturePoint, ETHERNET_OVERHEAD_BYTES, LinkConfig, LinkCounters, LinkParams, NodeCounters,
    PortCounters,
};
pub use node::{Ctx, Node, NodeConfig};
pub use sim::Simulator;
pub use trace::{TraceEvent, TraceKind};
#[doc(no_inline)]
pub use tsn_time::{Duration, Time};
