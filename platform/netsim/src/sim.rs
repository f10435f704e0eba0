//! The event engine.

use crate::clock::NodeClock;
use crate::error::{Error, Result};
use crate::gate::{AlwaysOpen, Gate};
use crate::ids::{Direction, LinkId, NUM_TRAFFIC_CLASSES, NodeId, PortId, TxToken};
use crate::link::{CapturePoint, LinkConfig, LinkCounters, LinkParams, NodeCounters, PortCounters};
use crate::node::{Ctx, Node, NodeConfig, SendAction};
use crate::rng::{SimRng, Stream};
use crate::trace::{self, TraceEvent, TraceKind};
use core::any::Any;
use core::cmp::Ordering;
use core::fmt;
use std::collections::{BinaryHeap, VecDeque};
use std::io::Write;
use std::path::Path;
use tsn_time::{Duration, Time};
use tsn_wire::pcap::PcapWriter;

/// What the engine does at an instant.
#[derive(Debug)]
enum Event {
    Start {
        node: u32,
        incarnation: u32,
    },
    Timer {
        node: u32,
        generation: u64,
    },
    TxDone {
        node: u32,
        port: u16,
    },
    TxTimestamp {
        node: u32,
        incarnation: u32,
        port: u16,
        token: TxToken,
        ts: Time,
    },
    Deliver {
        link: u32,
        dir: u8,
        epoch: u64,
        first_bit: Time,
        frame: Vec<u8>,
    },
    GateWake {
        node: u32,
        port: u16,
        generation: u64,
    },
    Drift {
        node: u32,
    },
    LinkChange {
        node: u32,
        incarnation: u32,
        port: u16,
        up: bool,
    },
}

/// A heap entry: ordered by time, then by insertion, earliest first.
#[derive(Debug)]
struct Scheduled {
    at: Time,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap.
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug)]
struct Queued {
    frame: Vec<u8>,
    token: Option<TxToken>,
}

struct Port {
    ts_rng: SimRng,
    queues: [VecDeque<Queued>; NUM_TRAFFIC_CLASSES],
    queued: usize,
    gate: Box<dyn Gate>,
    busy: bool,
    link: Option<(u32, usize)>,
    gate_wake: Option<Time>,
    gate_gen: u64,
    counters: PortCounters,
}

impl fmt::Debug for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Port")
            .field("queued", &self.queued)
            .field("gate", &self.gate)
            .field("busy", &self.busy)
            .field("link", &self.link)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

struct NodeSlot {
    node: Box<dyn Node>,
    running: bool,
    incarnation: u32,
    clock: NodeClock,
    rng: SimRng,
    ports: Vec<Port>,
    port_up: Vec<bool>,
    timer: Option<Time>,
    timer_gen: u64,
    config: NodeConfig,
    counters: NodeCounters,
}

enum Sink {
    Memory(PcapWriter<Vec<u8>>),
    Writer(PcapWriter<Box<dyn Write>>),
}

struct Capture {
    sink: Sink,
    point: CapturePoint,
    error: Option<tsn_wire::pcap::PcapError>,
}

impl Capture {
    fn write(&mut self, at: Time, frame: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let ns = u64::try_from(at.nanos()).unwrap_or(0);
        let r = match &mut self.sink {
            Sink::Memory(w) => w.write_packet(ns, frame),
            Sink::Writer(w) => w.write_packet(ns, frame),
        };
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
}

struct Link {
    ends: [(u32, u16); 2],
    params: [LinkParams; 2],
    rng: [SimRng; 2],
    counters: [LinkCounters; 2],
    drop_next: [u64; 2],
    up: bool,
    epoch: u64,
    capture: Option<Capture>,
}

/// The deterministic network simulator.
///
/// See the [crate documentation](crate) for the model.
pub struct Simulator {
    seed: u64,
    now: Time,
    seq: u64,
    heap: BinaryHeap<Scheduled>,
    nodes: Vec<NodeSlot>,
    links: Vec<Link>,
    sends: Vec<SendAction>,
    events: u64,
    trace_on: bool,
    trace: Vec<TraceEvent>,
    trace_hash: u64,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field("nodes", &self.nodes.len())
            .field("links", &self.links.len())
            .field("pending_events", &self.heap.len())
            .field("events_processed", &self.events)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// An empty network at global time [`Time::EPOCH`] whose randomness all derives from
    /// `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            now: Time::EPOCH,
            seq: 0,
            heap: BinaryHeap::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            sends: Vec::new(),
            events: 0,
            trace_on: false,
            trace: Vec::new(),
            trace_hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Current global time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// Events scheduled and not yet processed.
    pub fn pending_events(&self) -> usize {
        self.heap.len()
    }

    fn schedule(&mut self, at: Time, event: Event) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        self.seq += 1;
        self.heap.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    fn record(&mut self, kind: TraceKind) {
        let ev = TraceEvent { at: self.now, kind };
        self.trace_hash = trace::fold(self.trace_hash, &ev);
        if self.trace_on {
            self.trace.push(ev);
        }
    }

    // ----- building the network -------------------------------------------------------

    /// Adds a node; its [`Node::on_start`] runs as the first event at the current time.
    ///
    /// # Panics
    /// If the clock model is invalid (non-finite values, negative noise or granularity,
    /// a frequency error beyond ±10^5 ppm).
    pub fn add_node(&mut self, config: NodeConfig, node: impl Node) -> NodeId {
        self.add_boxed_node(config, Box::new(node))
    }

    /// [`add_node`](Self::add_node) for an already boxed node.
    ///
    /// # Panics
    /// As [`add_node`](Self::add_node).
    pub fn add_boxed_node(&mut self, config: NodeConfig, node: Box<dyn Node>) -> NodeId {
        if let Err(e) = config.clock.validate() {
            panic!("invalid clock model: {e}");
        }
        let id = u32::try_from(self.nodes.len()).expect("too many nodes");
        let ports = (0..config.ports)
            .map(|p| Port {
                ts_rng: SimRng::new(self.seed, Stream::PortTimestamps(id, p)),
                queues: Default::default(),
                queued: 0,
                gate: Box::new(AlwaysOpen),
                busy: false,
                link: None,
                gate_wake: None,
                gate_gen: 0,
                counters: PortCounters::default(),
            })
            .collect();
        self.nodes.push(NodeSlot {
            node,
            running: true,
            incarnation: 0,
            clock: NodeClock::new(
                config.clock,
                self.now,
                SimRng::new(self.seed, Stream::Clock(id)),
            ),
            rng: SimRng::new(self.seed, Stream::Node(id)),
            ports,
            port_up: vec![false; usize::from(config.ports)],
            timer: None,
            timer_gen: 0,
            config,
            counters: NodeCounters::default(),
        });
        self.schedule(
            self.now,
            Event::Start {
                node: id,
                incarnation: 0,
            },
        );
        if config.clock.has_drift() {
            self.schedule(
                self.now + config.clock.drift_interval,
                Event::Drift { node: id },
            );
        }
        NodeId(id)
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Connects two ports with a full-duplex link, up from now on.
    pub fn connect(
        &mut self,
        a: (NodeId, PortId),
        b: (NodeId, PortId),
        config: LinkConfig,
    ) -> Result<LinkId> {
        config.a_to_b.validate().map_err(Error::InvalidConfig)?;
        config.b_to_a.validate().map_err(Error::InvalidConfig)?;
        for (n, p) in [a, b] {
            let slot = self.slot(n);
            let port = slot
                .ports
                .get(p.index())
                .ok_or(Error::UnknownPort { node: n, port: p })?;
            if port.link.is_some() {
                return Err(Error::PortInUse { node: n, port: p });
            }
        }
        if a == b {
            return Err(Error::InvalidConfig(
                "a link needs two different ports".into(),
            ));
        }
        let id = u32::try_from(self.links.len()).expect("too many links");
        for (i, (n, p)) in [a, b].into_iter().enumerate() {
            let slot = &mut self.nodes[n.index()];
            slot.ports[p.index()].link = Some((id, i));
            slot.port_up[p.index()] = true;
        }
        self.links.push(Link {
            ends: [(a.0.0, a.1.0), (b.0.0, b.1.0)],
            params: [config.a_to_b, config.b_to_a],
            rng: [
                SimRng::new(self.seed, Stream::Link(id, 0)),
                SimRng::new(self.seed, Stream::Link(id, 1)),
            ],
            counters: [LinkCounters::default(); 2],
            drop_next: [0; 2],
            up: true,
            epoch: 0,
            capture: None,
        });
        Ok(LinkId(id))
    }

    /// Number of links.
    pub fn num_links(&self) -> usize {
        self.links.len()
    }

    /// Every node, in the order added.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Every link, in the order connected.
    pub fn link_ids(&self) -> impl Iterator<Item = LinkId> + use<> {
        (0..self.links.len() as u32).map(LinkId)
    }

    /// The two ends of a link, `a` then `b`.
    pub fn link_ends(&self, link: LinkId) -> [(NodeId, PortId); 2] {
        self.link(link).ends.map(|(n, p)| (NodeId(n), PortId(p)))
    }

    /// Replaces the parameters of one direction of a link from now on (frames in flight
    /// keep their timing).
    pub fn set_link_params(
        &mut self,
        link: LinkId,
        dir: Direction,
        params: LinkParams,
    ) -> Result<()> {
        params.validate().map_err(Error::InvalidConfig)?;
        self.link_mut(link).params[dir.index()] = params;
        Ok(())
    }

    /// The parameters of one direction of a link.
    pub fn link_params(&self, link: LinkId, dir: Direction) -> LinkParams {
        self.link(link).params[dir.index()]
    }

    /// Sets the gate of an egress port (default [`AlwaysOpen`]) and re-evaluates it now.
    pub fn set_gate(&mut self, node: NodeId, port: PortId, gate: impl Gate + 'static) {
        let p = self.port_mut(node, port);
        p.gate = Box::new(gate);
        p.gate_wake = None;
        p.gate_gen += 1;
        self.try_start(node.0, port.0);
    }

    fn slot(&self, node: NodeId) -> &NodeSlot {
        self.nodes
            .get(node.index())
            .unwrap_or_else(|| panic!("{node} is not a node of this simulator"))
    }
    fn slot_mut(&mut self, node: NodeId) -> &mut NodeSlot {
        self.nodes
            .get_mut(node.index())
            .unwrap_or_else(|| panic!("{node} is not a node of this simulator"))
    }
    fn port_ref(&self, node: NodeId, port: PortId) -> &Port {
        self.slot(node)
            .ports
            .get(port.index())
            .unwrap_or_else(|| panic!("{node} has no port {port}"))
    }
    fn port_mut(&mut self, node: NodeId, port: PortId) -> &mut Port {
        self.slot_mut(node)
            .ports
            .get_mut(port.index())
            .unwrap_or_else(|| panic!("{node} has no port {port}"))
    }
    fn link(&self, link: LinkId) -> &Link {
        self.links
            .get(link.index())
            .unwrap_or_else(|| panic!("{link} is not a link of this simulator"))
    }
    fn link_mut(&mut self, link: LinkId) -> &mut Link {
        self.links
            .get_mut(link.index())
            .unwrap_or_else(|| panic!("{link} is not a link of this simulator"))
    }

    // ----- faults ----------------------------------------------------------------------

    /// Cuts (`false`) or restores (`true`) a link. Cutting drops the frames in flight and
    /// those queued at both ends; both nodes get [`Node::on_link_change`] as the next events
    /// at the current time. Doing nothing if the link is already in that state.
    pub fn set_link_up(&mut self, link: LinkId, up: bool) {
        let l = self.link_mut(link);
        if l.up == up {
            return;
        }
        l.up = up;
        l.epoch += 1;
        let ends = l.ends;
        self.record(TraceKind::LinkState { link, up });
        for (n, p) in ends {
            let slot = &mut self.nodes[n as usize];
            slot.port_up[usize::from(p)] = up;
            let port = &mut slot.ports[usize::from(p)];
            if !up {
                let flushed = flush(port);
                port.counters.dropped_link_down += flushed;
            }
            if slot.running {
                let incarnation = slot.incarnation;
                self.schedule(
                    self.now,
                    Event::LinkChange {
                        node: n,
                        incarnation,
                        port: p,
                        up,
                    },
                );
            }
        }
    }

    /// Whether a link is up.
    pub fn link_is_up(&self, link: LinkId) -> bool {
        self.link(link).up
    }

    /// Makes one direction of a link lose the next `n` frames that start transmission on it
    /// (a burst of losses), on top of its random loss.
    pub fn drop_next_frames(&mut self, link: LinkId, dir: Direction, n: u64) {
        self.link_mut(link).drop_next[dir.index()] += n;
    }

    /// Stops a node (it "dies"): it gets no more callbacks, its queues are flushed and frames
    /// reaching it are dropped. Its clock keeps running and its links stay up (use
    /// [`set_link_up`](Self::set_link_up) for a loss of carrier too).
    pub fn stop_node(&mut self, node: NodeId) {
        let slot = self.slot_mut(node);
        if !slot.running {
            return;
        }
        slot.running = false;
        slot.timer = None;
        slot.timer_gen += 1;
        for port in &mut slot.ports {
            let flushed = flush(port);
            port.counters.flushed_node_stop += flushed;
        }
        self.record(TraceKind::Stop { node });
    }

    /// Restarts a stopped node, or replaces a running one, with a fresh adapter (a reboot:
    /// protocol state is lost, the clock keeps its state). `on_start` runs next.
    pub fn restart_node(&mut self, node: NodeId, new: impl Node) {
        let slot = self.slot_mut(node);
        slot.node = Box::new(new);
        slot.running = true;
        slot.incarnation += 1;
        slot.timer = None;
        slot.timer_gen += 1;
        let incarnation = slot.incarnation;
        self.schedule(
            self.now,
            Event::Start {
                node: node.0,
                incarnation,
            },
        );
    }

    /// Whether a node is running.
    pub fn node_is_running(&self, node: NodeId) -> bool {
        self.slot(node).running
    }

    // ----- observing ------------------------------------------------------------------

    /// The node's true local clock reading now (for measuring synchronisation error).
    pub fn true_local_time(&self, node: NodeId) -> Time {
        self.slot(node).clock.read(self.now)
    }

    /// `true_local_time(node) - true_local_time(reference)`: the node's clock error against
    /// a reference (for example the grandmaster) now.
    pub fn clock_error(&self, node: NodeId, reference: NodeId) -> Duration {
        self.true_local_time(node) - self.true_local_time(reference)
    }

    /// The node's current oscillator frequency error and servo adjustment, both in ppb.
    pub fn clock_frequency_ppb(&self, node: NodeId) -> (f64, f64) {
        let c = &self.slot(node).clock;
        (c.oscillator_ppb(), c.servo_ppb())
    }

    /// The node's adapter, if it is a `T`.
    pub fn node<T: Node>(&self, node: NodeId) -> Option<&T> {
        let n: &dyn Any = &*self.slot(node).node;
        n.downcast_ref()
    }

    /// Runs `f` on the node's adapter as if it were a callback at the current time: it may
    /// send and adjust its clock through the [`Ctx`]; afterwards the sends are queued and the
    /// timer re-polled. `None` if the node is stopped or not a `T`.
    pub fn with_node<T: Node, R>(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut T, &mut Ctx<'_>) -> R,
    ) -> Option<R> {
        self.dispatch(node.0, |n, ctx| {
            let n: &mut dyn Any = n;
            n.downcast_mut::<T>().map(|t| f(t, ctx))
        })
        .flatten()
    }

    /// Counters of one direction of a link.
    pub fn link_counters(&self, link: LinkId, dir: Direction) -> LinkCounters {
        self.link(link).counters[dir.index()]
    }

    /// Counters of a node's egress port.
    pub fn port_counters(&self, node: NodeId, port: PortId) -> PortCounters {
        self.port_ref(node, port).counters
    }

    /// Counters of a node.
    pub fn node_counters(&self, node: NodeId) -> NodeCounters {
        self.slot(node).counters
    }

    /// Frames waiting in a traffic-class queue of an egress port (not counting the one
    /// being transmitted).
    pub fn queue_len(&self, node: NodeId, port: PortId, tc: u8) -> usize {
        self.port_ref(node, port)
            .queues
            .get(usize::from(tc))
            .map_or(0, VecDeque::len)
    }

    /// Starts keeping every [`TraceEvent`] (the trace hash is kept regardless).
    pub fn enable_trace(&mut self, on: bool) {
        self.trace_on = on;
    }

    /// The events kept since [`enable_trace`](Self::enable_trace).
    pub fn trace(&self) -> &[TraceEvent] {
        &self.trace
    }

    /// A hash of every trace event so far (whether kept or not): equal for runs that did the
    /// same things at the same instants.
    pub fn trace_hash(&self) -> u64 {
        self.trace_hash
    }

    // ----- captures ----------------------------------------------------------------------

    /// Writes every frame of both directions of `link` to `writer` as a pcap file with
    /// global-time nanosecond timestamps. Replaces an earlier capture of the link.
    pub fn capture_link(
        &mut self,
        link: LinkId,
        point: CapturePoint,
        writer: impl Write + 'static,
    ) -> Result<()> {
        let w = PcapWriter::new(Box::new(writer) as Box<dyn Write>)
            .map_err(|source| Error::Capture { link, source })?;
        self.link_mut(link).capture = Some(Capture {
            sink: Sink::Writer(w),
            point,
            error: None,
        });
        Ok(())
    }

    /// [`capture_link`](Self::capture_link) to a new file at `path` (buffered: call
    /// [`finish_captures`](Self::finish_captures) before reading it).
    pub fn capture_link_to_file(
        &mut self,
        link: LinkId,
        point: CapturePoint,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        let f = std::fs::File::create(path)?;
        self.capture_link(link, point, std::io::BufWriter::new(f))
    }

    /// [`capture_link`](Self::capture_link) into memory; read it with
    /// [`capture_bytes`](Self::capture_bytes).
    pub fn capture_link_in_memory(&mut self, link: LinkId, point: CapturePoint) {
        let w = PcapWriter::new(Vec::new()).expect("writing to a Vec cannot fail");
        self.link_mut(link).capture = Some(Capture {
            sink: Sink::Memory(w),
            point,
            error: None,
        });
    }

    /// The pcap file captured in memory so far, if the link has an in-memory capture.
    pub fn capture_bytes(&self, link: LinkId) -> Option<&[u8]> {
        match &self.link(link).capture {
            Some(Capture {
                sink: Sink::Memory(w),
                ..
            }) => Some(w.get_ref()),
            _ => None,
        }
    }

    /// Flushes every capture; returns the first write error any of them hit.
    pub fn finish_captures(&mut self) -> Result<()> {
        let mut first = None;
        for (i, l) in self.links.iter_mut().enumerate() {
            let Some(c) = &mut l.capture else { continue };
            let r = match &mut c.sink {
                Sink::Memory(w) => w.flush(),
                Sink::Writer(w) => w.flush(),
            };
            if let Some(e) = c.error.take().or(r.err()) {
                first.get_or_insert(Error::Capture {
                    link: LinkId(i as u32),
                    source: e,
                });
            }
        }
        first.map_or(Ok(()), Err)
    }

    // ----- running -----------------------------------------------------------------------

    /// Global time of the next event, if any.
    pub fn next_event_time(&self) -> Option<Time> {
        self.heap.peek().map(|s| s.at)
    }

    /// Processes the next event and returns its time; `None` if nothing is scheduled.
    pub fn step(&mut self) -> Option<Time> {
        let s = self.heap.pop()?;
        self.now = s.at;
        self.events += 1;
        self.handle(s.event);
        Some(s.at)
    }

    /// Processes every event up to and including global time `t`, then sets the time to `t`
    /// (if it is not already later).
    pub fn run_until(&mut self, t: Time) {
        while self.heap.peek().is_some_and(|s| s.at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// [`run_until`](Self::run_until) `now + d`.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// [`run_until`](Self::run_until), giving up with [`Error::EventLimit`] after
    /// `max_events` events (time then stays at the last event processed). Returns the number
    /// of events processed.
    pub fn run_until_bounded(&mut self, t: Time, max_events: u64) -> Result<u64> {
        let mut n = 0;
        while self.heap.peek().is_some_and(|s| s.at <= t) {
            if n == max_events {
                return Err(Error::EventLimit {
                    limit: max_events,
                    at: self.now,
                });
            }
            self.step();
            n += 1;
        }
        self.now = self.now.max(t);
        Ok(n)
    }

    /// [`run_until_bounded`](Self::run_until_bounded) `now + d`.
    pub fn run_for_bounded(&mut self, d: Duration, max_events: u64) -> Result<u64> {
        self.run_until_bounded(self.now + d, max_events)
    }

    // ----- the engine -----------------------------------------------------------------

    fn handle(&mut self, event: Event) {
        match event {
            Event::Start { node, incarnation } => {
                if self.nodes[node as usize].incarnation == incarnation {
                    self.record(TraceKind::Start { node: NodeId(node) });
                    self.dispatch(node, |n, ctx| n.on_start(ctx));
                }
            }
            Event::Timer { node, generation } => self.fire_timer(node, generation),
            Event::TxDone { node, port } => {
                self.nodes[node as usize].ports[usize::from(port)].busy = false;
                self.try_start(node, port);
            }
            Event::TxTimestamp {
                node,
                incarnation,
                port,
                token,
                ts,
            } => {
                let slot = &mut self.nodes[node as usize];
                if slot.running && slot.incarnation == incarnation {
                    slot.counters.tx_timestamps += 1;
                    self.record(TraceKind::TxTimestamp {
                        node: NodeId(node),
                        port: PortId(port),
                        token,
                        ts,
                    });
                    self.dispatch(node, |n, ctx| {
                        n.on_tx_timestamp(ctx, PortId(port), token, ts);
                    });
                }
            }
            Event::Deliver {
                link,
                dir,
                epoch,
                first_bit,
                frame,
            } => self.deliver(link, usize::from(dir), epoch, first_bit, &frame),
            Event::GateWake {
                node,
                port,
                generation,
            } => {
                let p = &mut self.nodes[node as usize].ports[usize::from(port)];
                if p.gate_gen == generation {
                    p.gate_wake = None;
                    self.try_start(node, port);
                }
            }
            Event::Drift { node } => {
                let now = self.now;
                let slot = &mut self.nodes[node as usize];
                slot.clock.drift(now);
                let next = now + slot.clock.model().drift_interval;
                self.schedule(next, Event::Drift { node });
                self.clock_changed(node);
            }
            Event::LinkChange {
                node,
                incarnation,
                port,
                up,
            } => {
                if self.nodes[node as usize].incarnation == incarnation {
                    self.dispatch(node, |n, ctx| n.on_link_change(ctx, PortId(port), up));
                }
            }
        }
    }

    /// Calls into a running node, then carries out its sends and re-polls its timer.
    fn dispatch<R>(
        &mut self,
        node: u32,
        f: impl FnOnce(&mut dyn Node, &mut Ctx<'_>) -> R,
    ) -> Option<R> {
        let now = self.now;
        let mut sends = core::mem::take(&mut self.sends);
        let slot = &mut self.nodes[node as usize];
        if !slot.running {
            self.sends = sends;
            return None;
        }
        let (r, invalid, changed) = {
            let mut ctx = Ctx {
                node: NodeId(node),
                global_now: now,
                clock: &mut slot.clock,
                rng: &mut slot.rng,
                port_up: &slot.port_up,
                sends: &mut sends,
                invalid_sends: 0,
                clock_changed: false,
            };
            let r = f(&mut *slot.node, &mut ctx);
            (r, ctx.invalid_sends, ctx.clock_changed)
        };
        slot.counters.invalid_sends += invalid;
        for s in sends.drain(..) {
            self.enqueue(node, s);
        }
        self.sends = sends;
        if changed {
            self.clock_changed(node);
        } else {
            self.update_timer(node, false);
        }
        Some(r)
    }

    /// Re-polls the node's deadline; reschedules if it moved or `force`.
    fn update_timer(&mut self, node: u32, force: bool) {
        let slot = &mut self.nodes[node as usize];
        if !slot.running {
            return;
        }
        let deadline = slot.node.poll_timeout();
        if !force && deadline == slot.timer {
            return;
        }
        slot.timer = deadline;
        slot.timer_gen += 1;
        if let Some(d) = deadline {
            let at = slot.clock.global_at(d).max(self.now);
            let generation = slot.timer_gen;
            self.schedule(at, Event::Timer { node, generation });
        }
    }

    fn fire_timer(&mut self, node: u32, generation: u64) {
        let now = self.now;
        let slot = &mut self.nodes[node as usize];
        if !slot.running || slot.timer_gen != generation {
            return;
        }
        let Some(deadline) = slot.timer else { return };
        let local = slot.clock.read(now);
        if local < deadline {
            // Rounding of the global/local conversion: never fire early, try again just
            // after.
            let at = slot
                .clock
                .global_at(deadline)
                .max(now + Duration::from_subnanos(1));
            slot.timer_gen += 1;
            let generation = slot.timer_gen;
            self.schedule(at, Event::Timer { node, generation });
            return;
        }
        slot.timer = None;
        slot.counters.timers_fired += 1;
        self.record(TraceKind::Timer {
            node: NodeId(node),
            local,
        });
        self.dispatch(node, |n, ctx| n.on_timer(ctx));
    }

    /// The node's clock changed rate or offset: deadlines computed from it move.
    fn clock_changed(&mut self, node: u32) {
        self.update_timer(node, true);
        let n_ports = self.nodes[node as usize].ports.len();
        for p in 0..n_ports {
            let port = &mut self.nodes[node as usize].ports[p];
            if let Some(local) = port.gate_wake.take() {
                port.gate_gen += 1;
                self.schedule_gate_wake(node, p as u16, local);
            }
        }
    }

    fn schedule_gate_wake(&mut self, node: u32, port: u16, local: Time) {
        let now = self.now;
        let slot = &mut self.nodes[node as usize];
        let p = &mut slot.ports[usize::from(port)];
        if p.gate_wake == Some(local) {
            return;
        }
        p.gate_wake = Some(local);
        p.gate_gen += 1;
        let generation = p.gate_gen;
        let at = slot
            .clock
            .global_at(local)
            .max(now + Duration::from_subnanos(1));
        self.schedule(
            at,
            Event::GateWake {
                node,
                port,
                generation,
            },
        );
    }

    fn enqueue(&mut self, node: u32, s: SendAction) {
        let slot = &mut self.nodes[node as usize];
        let up = slot.port_up[s.port.index()];
        let capacity = slot.config.queue_capacity;
        let port = &mut slot.ports[s.port.index()];
        if !up {
            port.counters.dropped_link_down += 1;
            return;
        }
        let q = &mut port.queues[usize::from(s.tc)];
        if q.len() >= capacity {
            port.counters.queue_drops += 1;
            self.record(TraceKind::QueueDrop {
                node: NodeId(node),
                port: s.port,
                tc: s.tc,
            });
            return;
        }
        q.push_back(Queued {
            frame: s.frame,
            token: s.token,
        });
        port.queued += 1;
        port.counters.enqueued += 1;
        port.counters.max_queue_depth = port.counters.max_queue_depth.max(port.queued as u64);
        if !port.busy {
            self.try_start(node, s.port.0);
        }
    }

    /// If the port's transmitter is free, starts the highest-priority frame its gate allows.
    fn try_start(&mut self, node: u32, port_no: u16) {
        let now = self.now;
        let slot = &mut self.nodes[node as usize];
        let port = &mut slot.ports[usize::from(port_no)];
        if port.busy || port.queued == 0 {
            return;
        }
        let Some((link_id, dir)) = port.link else {
            return;
        };
        let link = &mut self.links[link_id as usize];
        let params = link.params[dir];
        let local = slot.clock.read(now);
        let mut chosen = None;
        for tc in (0..NUM_TRAFFIC_CLASSES).rev() {
            if let Some(front) = port.queues[tc].front() {
                let ser = params.serialisation(front.frame.len());
                if port.gate.may_start(tc as u8, local, ser) {
                    chosen = Some((tc, ser));
                    break;
                }
            }
        }
        let Some((tc, ser)) = chosen else {
            if let Some(change) = port.gate.next_change(local).filter(|c| *c > local) {
                self.schedule_gate_wake(node, port_no, change);
            }
            return;
        };
        let Queued { frame, token } = port.queues[tc].pop_front().expect("front exists");
        port.queued -= 1;
        port.busy = true;
        port.counters.transmitted += 1;
        let tx_ts = token.map(|_| slot.clock.timestamp(now, &mut port.ts_rng));
        let ts_delay = slot.config.tx_timestamp_delay;
        let incarnation = slot.incarnation;

        link.counters[dir].sent += 1;
        if let Some(c) = &mut link.capture
            && c.point == CapturePoint::Transmit
        {
            c.write(now, &frame);
        }
        let epoch = link.epoch;
        // The wire's effects, each drawn only if configured.
        let rng = &mut link.rng[dir];
        let lost = if link.drop_next[dir] > 0 {
            link.drop_next[dir] -= 1;
            true
        } else {
            rng.chance(params.loss)
        };
        let mut delivery = None;
        let mut dup = false;
        if lost {
            link.counters[dir].lost += 1;
        } else {
            let mut extra = rng.duration_upto(params.jitter);
            if rng.chance(params.reorder) {
                extra += params.reorder_delay;
                link.counters[dir].reordered += 1;
            }
            dup = rng.chance(params.duplicate);
            if dup {
                link.counters[dir].duplicated += 1;
            }
            delivery = Some(now + params.propagation_delay + extra);
        }

        let len = frame.len() as u32;
        self.record(TraceKind::TxStart {
            node: NodeId(node),
            port: PortId(port_no),
            tc: tc as u8,
            len,
        });
        self.schedule(
            now + ser,
            Event::TxDone {
                node,
                port: port_no,
            },
        );
        if let (Some(token), Some(ts)) = (token, tx_ts) {
            self.schedule(
                now + ts_delay,
                Event::TxTimestamp {
                    node,
                    incarnation,
                    port: port_no,
                    token,
                    ts,
                },
            );
        }
        match delivery {
            None => self.record(TraceKind::Lost {
                link: LinkId(link_id),
                dir: Direction::from_index(dir),
            }),
            Some(first_bit) => {
                if dup {
                    let copy = frame.clone();
                    self.schedule(
                        first_bit + ser + ser,
                        Event::Deliver {
                            link: link_id,
                            dir: dir as u8,
                            epoch,
                            first_bit: first_bit + ser,
                            frame: copy,
                        },
                    );
                }
                self.schedule(
                    first_bit + ser,
                    Event::Deliver {
                        link: link_id,
                        dir: dir as u8,
                        epoch,
                        first_bit,
                        frame,
                    },
                );
            }
        }
    }

    fn deliver(&mut self, link_id: u32, dir: usize, epoch: u64, first_bit: Time, frame: &[u8]) {
        let link = &mut self.links[link_id as usize];
        let (node, port) = link.ends[1 - dir];
        let ld = LinkId(link_id);
        let d = Direction::from_index(dir);
        if !link.up || link.epoch != epoch {
            link.counters[dir].dropped_link_down += 1;
            self.record(TraceKind::Dropped { link: ld, dir: d });
            return;
        }
        let slot = &mut self.nodes[node as usize];
        if !slot.running {
            link.counters[dir].dropped_node_down += 1;
            self.record(TraceKind::Dropped { link: ld, dir: d });
            return;
        }
        link.counters[dir].delivered += 1;
        if let Some(c) = &mut link.capture
            && c.point == CapturePoint::Receive
        {
            c.write(first_bit, frame);
        }
        let rx_ts = slot
            .clock
            .timestamp(first_bit, &mut slot.ports[usize::from(port)].ts_rng);
        slot.counters.frames_received += 1;
        self.record(TraceKind::Delivered {
            node: NodeId(node),
            port: PortId(port),
            len: frame.len() as u32,
            digest: trace::digest(frame),
            rx_ts,
        });
        self.dispatch(node, |n, ctx| n.on_frame(ctx, PortId(port), frame, rx_ts));
    }
}

/// Empties a port's queues; returns how many frames were dropped.
fn flush(port: &mut Port) -> u64 {
    let n = port.queued as u64;
    for q in &mut port.queues {
        q.clear();
    }
    port.queued = 0;
    n
}
