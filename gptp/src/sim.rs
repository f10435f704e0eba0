//! gPTP scenarios on the deterministic simulator.
//!
//! [`GptpNode`] wraps a [`gptp_core::Instance`] as a [`tsn_netsim::Node`]: received frames
//! and their hardware timestamps go to `handle_frame`, transmit timestamps to
//! `handle_tx_timestamp`, the single simulator timer to `handle_timer`, and the core's
//! actions become sends, frequency adjustments and steps of the node's simulated clock.
//!
//! [`run`] builds a topology from a [`ScenarioConfig`], runs it and measures every node's
//! true clock error against the grandmaster ([`Simulator::clock_error`]) every 100 ms.
//! A node counts as locked from the last time its servo entered `Locked` (and stayed);
//! `max_abs_error_ns` is the largest true |error| from then on, measured independently of
//! what the servo believes.

use gptp_core::servo::ServoState;
use gptp_core::wire::ClockIdentity;
use gptp_core::{Action, Event, Instance, InstanceConfig, PortConfig, TxToken};
use serde::Serialize;
use tsn_netsim::{
    ClockModel, Ctx, Direction, LinkConfig, LinkId, LinkParams, Node, NodeConfig, NodeId, PortId,
    Simulator,
};
use tsn_time::{Duration, Time};
use tsn_wire::{EtherType, EthernetRepr, MacAddress, PayloadType, VlanTags};

/// Traffic class of gPTP frames (802.1AS recommends the highest but one).
const GPTP_TC: u8 = 6;
/// Minimum Ethernet frame without FCS.
const MIN_FRAME: usize = 60;

/// The simulator adapter around one [`Instance`].
#[derive(Debug)]
pub struct GptpNode {
    /// The core.
    pub core: Instance,
    mac: MacAddress,
    /// Events the core reported, with the local time of the callback.
    pub events: Vec<(Time, Event)>,
    /// Frames that were not gPTP.
    pub not_gptp: u64,
}

impl GptpNode {
    /// Wraps `core`; frames go out from `mac`.
    pub fn new(core: Instance, mac: MacAddress) -> Self {
        Self {
            core,
            mac,
            events: Vec::new(),
            not_gptp: 0,
        }
    }

    /// Sends a Signaling message with `request` on `port` (use from
    /// [`Simulator::with_node`]).
    pub fn request_intervals(
        &mut self,
        ctx: &mut Ctx<'_>,
        port: usize,
        request: gptp_core::wire::MessageIntervalRequest,
    ) {
        self.core.request_intervals(port, request);
        self.drain(ctx);
    }

    fn drain(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Send { port, data, token } => {
                    let eth = EthernetRepr {
                        dst: MacAddress::GPTP,
                        src: self.mac,
                        vlan: VlanTags::Untagged,
                        payload_type: PayloadType::EtherType(EtherType::Ptp),
                    };
                    let mut buf = vec![0u8; eth.buffer_len(data.len()).max(MIN_FRAME)];
                    if eth.emit_frame(&data, &mut buf).is_err() {
                        continue;
                    }
                    let port = PortId(port as u16);
                    match token {
                        Some(t) => ctx.send_timestamped(
                            port,
                            GPTP_TC,
                            buf,
                            tsn_netsim::TxToken(t.into_raw()),
                        ),
                        None => ctx.send(port, GPTP_TC, buf),
                    }
                }
                Action::AdjustFrequency { ppb } => {
                    ctx.adjust_frequency(ppb);
                }
                Action::StepClock { offset } => ctx.step_clock(offset),
                Action::Event(e) => self.events.push((ctx.now(), e)),
            }
        }
    }
}

impl Node for GptpNode {
    fn on_frame(&mut self, ctx: &mut Ctx<'_>, port: PortId, frame: &[u8], rx_ts: Time) {
        match EthernetRepr::parse_frame(frame) {
            Ok((eth, payload)) if eth.payload_type == PayloadType::EtherType(EtherType::Ptp) => {
                self.core.handle_frame(port.index(), payload, rx_ts);
            }
            _ => self.not_gptp += 1,
        }
        self.drain(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        self.core.handle_timer(ctx.now());
        self.drain(ctx);
    }

    fn poll_timeout(&self) -> Option<Time> {
        self.core.poll_timeout()
    }

    fn on_tx_timestamp(
        &mut self,
        ctx: &mut Ctx<'_>,
        port: PortId,
        token: tsn_netsim::TxToken,
        tx_ts: Time,
    ) {
        self.core
            .handle_tx_timestamp(port.index(), TxToken::from_raw(token.0), tx_ts);
        self.drain(ctx);
    }
}

/// Which topology to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Grandmaster end station, `hops - 1` relays, a slave end station at hop `hops`.
    Chain,
    /// `hops + 1` bridges in a ring, the grandmaster one of them.
    Ring,
    /// A chain whose grandmaster dies half-way; the end station at the far end (next best
    /// priority1) must take over.
    GmFailover,
}

/// Parameters of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioConfig {
    /// Topology.
    pub scenario: Scenario,
    /// Links between the grandmaster and the farthest node (chain), or ring size - 1.
    pub hops: usize,
    /// Clocks get a frequency error uniform in ±ppm (the grandmaster's too).
    pub ppm: f64,
    /// Simulated seconds.
    pub seconds: f64,
    /// Seed of the simulator and of the clock draws.
    pub seed: u64,
    /// Timestamp granularity, ns.
    pub stamp_ns: u32,
    /// Initial offsets are uniform in ±this, ns (the grandmaster starts at 0).
    pub max_initial_offset_ns: f64,
    /// Link propagation delay, ns.
    pub link_delay_ns: i64,
    /// Probability each frame is lost.
    pub loss: f64,
    /// Overrides the first slave's clock (offset ns, ppm), as in the master/slave test.
    pub slave_clock: Option<(f64, f64)>,
    /// At this many seconds, drop the next `n` frames in both directions of every link.
    pub burst_loss: Option<(f64, u64)>,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            scenario: Scenario::Chain,
            hops: 1,
            ppm: 100.0,
            seconds: 60.0,
            seed: 1,
            stamp_ns: 8,
            max_initial_offset_ns: 1_000_000.0,
            link_delay_ns: 100,
            loss: 0.0,
            slave_clock: None,
            burst_loss: None,
        }
    }
}

/// Result for one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    /// Node name (`gm`, `relay-N`, `slave`, `bridge-N`, `backup`).
    pub name: String,
    /// stepsRemoved from the grandmaster at the end (hop count), or its position for a
    /// node that has none.
    pub hop: usize,
    /// Simulated seconds (after the start, or after the failure in `gm-failover`) until the
    /// servo locked for good; `None` if not locked at the end.
    pub lock_time_s: Option<f64>,
    /// Largest true |clock error| against the grandmaster after lock, ns.
    pub max_abs_error_ns: Option<f64>,
    /// Whether the node's servo is locked at the end (the grandmaster counts as locked).
    pub locked: bool,
    /// True error at the end of the run, ns.
    pub final_error_ns: f64,
}

/// Result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The scenario.
    pub scenario: Scenario,
    /// Name of the grandmaster at the end.
    pub gm: String,
    /// Every node.
    pub nodes: Vec<NodeReport>,
    /// Ports in the passive role at the end (ring: at least one, or time would loop).
    pub passive_ports: usize,
    /// When the grandmaster was stopped (gm-failover), seconds.
    pub failure_at_s: Option<f64>,
    /// Sum of dropped-input counters over all nodes (malformed, unmatched, ignored...).
    pub lost_pdelay_responses: u64,
}

/// A small deterministic generator for the clock draws (splitmix64).
#[derive(Debug)]
struct Draw(u64);
impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn sym(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A start time that looks like a real TAI reading (2023), so no clock starts before the
/// PTP epoch.
const BASE_OFFSET: Duration = Duration::from_secs(1_700_000_000);

/// A topology built from a [`ScenarioConfig`], not yet run: for tests that drive the
/// simulator themselves (captures, Signaling).
#[derive(Debug)]
pub struct Network {
    /// The simulator with every node and link.
    pub sim: Simulator,
    /// The nodes, grandmaster first, in chain order.
    pub ids: Vec<NodeId>,
    /// Their names, as in [`NodeReport::name`].
    pub names: Vec<String>,
    /// Index of the initial grandmaster in `ids`.
    pub gm: usize,
    /// Index of the backup grandmaster (gm-failover).
    pub backup: Option<usize>,
    /// Every link, in chain order (the ring's closing link last).
    pub links: Vec<LinkId>,
}

fn clock_id(i: usize) -> ClockIdentity {
    let b = (i as u32).to_be_bytes();
    ClockIdentity::from_mac([0x02, 0, b[0], b[1], b[2], b[3]])
}

/// Builds the topology of `cfg`.
pub fn build(cfg: &ScenarioConfig) -> Network {
    let mut sim = Simulator::new(cfg.seed);
    let mut draw = Draw(cfg.seed ^ 0x6770_7470);
    let hops = cfg.hops.max(1);
    let granularity = Duration::from_nanos(i64::from(cfg.stamp_ns));
    let port_cfg = PortConfig::default();
    // (name, ports, priority1)
    let mut plan: Vec<(String, u16, u8)> = Vec::new();
    let mut backup = None;
    match cfg.scenario {
        Scenario::Chain | Scenario::GmFailover => {
            plan.push(("gm".into(), 1, 246));
            for h in 1..hops {
                plan.push((format!("relay-{h}"), 2, 248));
            }
            if cfg.scenario == Scenario::GmFailover {
                plan.push(("backup".into(), 1, 247));
                backup = Some(hops);
            } else {
                plan.push(("slave".into(), 1, 248));
            }
        }
        Scenario::Ring => {
            plan.push(("gm".into(), 2, 246));
            for h in 1..=hops {
                plan.push((format!("bridge-{h}"), 2, 248));
            }
        }
    }
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for (i, (name, ports, p1)) in plan.into_iter().enumerate() {
        let (off, ppm) = if i == 0 {
            (0.0, draw.sym() * cfg.ppm)
        } else if i == 1 && cfg.slave_clock.is_some() {
            cfg.slave_clock.unwrap_or_default()
        } else {
            (draw.sym() * cfg.max_initial_offset_ns, draw.sym() * cfg.ppm)
        };
        let clock = ClockModel::ideal()
            .with_offset(BASE_OFFSET + Duration::from_nanos_f64(off))
            .with_ppm(ppm)
            .with_granularity(granularity);
        let icfg = InstanceConfig::new(clock_id(i + 1), usize::from(ports))
            .with_priority1(p1)
            .with_ports(|_| port_cfg);
        let mac = MacAddress([0x02, 0, 0, 0, (i >> 8) as u8, i as u8]);
        let node = GptpNode::new(Instance::new(icfg), mac);
        ids.push(sim.add_node(NodeConfig::new(ports).with_clock(clock), node));
        names.push(name);
    }
    let params = LinkParams::default()
        .with_delay(Duration::from_nanos(cfg.link_delay_ns))
        .with_loss(cfg.loss);
    let mut links = Vec::new();
    let n = ids.len();
    let mut connect = |sim: &mut Simulator, a: usize, pa: u16, b: usize, pb: u16| {
        if let Ok(l) = sim.connect(
            (ids[a], PortId(pa)),
            (ids[b], PortId(pb)),
            LinkConfig::symmetric(params),
        ) {
            links.push(l);
        }
    };
    // Node i's port 1 faces node i + 1's port 0 (end stations have only port 0).
    for i in 0..n - 1 {
        let pa = if i == 0 { 0 } else { 1 };
        connect(&mut sim, i, pa, i + 1, 0);
    }
    if cfg.scenario == Scenario::Ring && n > 2 {
        connect(&mut sim, n - 1, 1, 0, 1);
    }
    Network {
        sim,
        ids,
        names,
        gm: 0,
        backup,
        links,
    }
}

#[derive(Debug, Clone, Default)]
struct Track {
    locked_since: Option<f64>,
    max_err: f64,
}

/// Runs a scenario and measures it.
pub fn run(cfg: &ScenarioConfig) -> Report {
    let mut b = build(cfg);
    let step = Duration::from_millis(100);
    let total = (cfg.seconds * 10.0).round().max(1.0) as usize;
    let failure_at = (cfg.scenario == Scenario::GmFailover).then_some(total / 2);
    let mut reference = b.gm;
    let mut tracks = vec![Track::default(); b.ids.len()];
    let mut since = 0.0;
    for k in 1..=total {
        if Some(k - 1) == failure_at {
            b.sim.stop_node(b.ids[b.gm]);
            reference = b.backup.unwrap_or(b.gm);
            since = (k - 1) as f64 * 0.1;
            tracks = vec![Track::default(); b.ids.len()];
        }
        if let Some((at, n)) = cfg.burst_loss
            && (k - 1) == (at * 10.0).round() as usize
        {
            burst_loss(&mut b.sim, &b.links, n);
        }
        b.sim.run_for(step);
        let t = k as f64 * 0.1 - since;
        for (i, id) in b.ids.iter().enumerate() {
            if !b.sim.node_is_running(*id) {
                continue;
            }
            let err = b.sim.clock_error(*id, b.ids[reference]).nanos_f64();
            let locked = i == reference
                || b.sim
                    .node::<GptpNode>(*id)
                    .is_some_and(|n| n.core.servo_state() == ServoState::Locked);
            let tr = &mut tracks[i];
            match (locked, tr.locked_since) {
                (true, None) => {
                    tr.locked_since = Some(if i == reference { 0.0 } else { t });
                    tr.max_err = err.abs();
                }
                (true, Some(_)) => tr.max_err = tr.max_err.max(err.abs()),
                (false, _) => tr.locked_since = None,
            }
        }
    }
    let mut nodes = Vec::new();
    let mut passive = 0;
    let mut lost = 0;
    for (i, id) in b.ids.iter().enumerate() {
        if !b.sim.node_is_running(*id) {
            continue;
        }
        let Some(node) = b.sim.node::<GptpNode>(*id) else {
            continue;
        };
        let core = &node.core;
        passive += (0..core.num_ports())
            .filter(|p| {
                core.port_status(*p)
                    .is_some_and(|s| s.role == gptp_core::PortRole::Passive)
            })
            .count();
        lost += core.counters().lost_responses;
        let tr = &tracks[i];
        nodes.push(NodeReport {
            name: b.names[i].clone(),
            hop: core.steps_removed().map_or(i, usize::from),
            lock_time_s: tr.locked_since,
            max_abs_error_ns: tr.locked_since.map(|_| tr.max_err),
            locked: tr.locked_since.is_some(),
            final_error_ns: b.sim.clock_error(*id, b.ids[reference]).nanos_f64(),
        });
    }
    let gm_name = b
        .ids
        .iter()
        .position(|id| {
            b.sim
                .node::<GptpNode>(*id)
                .is_some_and(|n| b.sim.node_is_running(*id) && n.core.is_grandmaster())
        })
        .map_or_else(|| "none".to_string(), |i| b.names[i].clone());
    Report {
        scenario: cfg.scenario,
        gm: gm_name,
        nodes,
        passive_ports: passive,
        failure_at_s: failure_at.map(|k| k as f64 * 0.1),
        lost_pdelay_responses: lost,
    }
}

/// Drops `n` frames in both directions of every link of a built chain; for the burst-loss
/// scenario in the tests.
pub fn burst_loss(sim: &mut Simulator, links: &[LinkId], n: u64) {
    for l in links {
        sim.drop_next_frames(*l, Direction::AtoB, n);
        sim.drop_next_frames(*l, Direction::BtoA, n);
    }
}
