//! Behaviour of the simulator: timing, queues and gates, impairments, clocks, timers,
//! faults, captures and determinism.

use std::collections::VecDeque;
use tsn_netsim::traffic::{GptpRateNode, PtpKind};
use tsn_netsim::{
    CapturePoint, ClockModel, Ctx, Direction, Error, Gate, GateControlList, LinkConfig, LinkId,
    LinkParams, Node, NodeConfig, NodeId, PortId, Simulator, TxToken,
};
use tsn_time::{Duration, Time};

const P0: PortId = PortId(0);
const P1: PortId = PortId(1);

fn ns(v: i128) -> Time {
    Time::from_nanos(v)
}

/// A frame of `len` bytes whose first four bytes carry `id`.
fn frame(id: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0xa5; len.max(4)];
    f[..4].copy_from_slice(&id.to_be_bytes());
    f
}

fn id_of(frame: &[u8]) -> u32 {
    u32::from_be_bytes(frame[..4].try_into().unwrap())
}

#[derive(Debug, Clone, PartialEq)]
struct Rx {
    port: PortId,
    id: u32,
    len: usize,
    rx_ts: Time,
    /// Local clock when the callback ran.
    local: Time,
}

/// Records everything; sends what the test scripts.
#[derive(Default)]
struct Recorder {
    started: u32,
    rx: Vec<Rx>,
    tx_ts: Vec<(PortId, TxToken, Time)>,
    link_changes: Vec<(PortId, bool)>,
    timer_at: Option<Time>,
    fired: Vec<Time>,
    /// `(local time, port, tc, frame)` to send from a timer.
    script: VecDeque<(Time, PortId, u8, Vec<u8>)>,
}

impl Node for Recorder {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {
        self.started += 1;
    }
    fn on_frame(&mut self, ctx: &mut Ctx<'_>, port: PortId, frame: &[u8], rx_ts: Time) {
        self.rx.push(Rx {
            port,
            id: id_of(frame),
            len: frame.len(),
            rx_ts,
            local: ctx.now(),
        });
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        while self.script.front().is_some_and(|s| s.0 <= now) {
            let (_, port, tc, f) = self.script.pop_front().unwrap();
            ctx.send(port, tc, f);
        }
        if self.timer_at.is_some_and(|t| t <= now) {
            self.fired.push(now);
            self.timer_at = None;
        }
    }
    fn poll_timeout(&self) -> Option<Time> {
        let s = self.script.front().map(|s| s.0);
        match (s, self.timer_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    fn on_tx_timestamp(&mut self, _ctx: &mut Ctx<'_>, port: PortId, token: TxToken, tx_ts: Time) {
        self.tx_ts.push((port, token, tx_ts));
    }
    fn on_link_change(&mut self, _ctx: &mut Ctx<'_>, port: PortId, up: bool) {
        self.link_changes.push((port, up));
    }
}

fn rec(sim: &Simulator, n: NodeId) -> &Recorder {
    sim.node::<Recorder>(n).expect("a Recorder")
}

/// Two recorders `a` and `b` joined port 0 to port 0.
fn pair(
    seed: u64,
    params: LinkParams,
    ca: ClockModel,
    cb: ClockModel,
) -> (Simulator, NodeId, NodeId, LinkId) {
    let mut sim = Simulator::new(seed);
    let a = sim.add_node(NodeConfig::new(1).with_clock(ca), Recorder::default());
    let b = sim.add_node(NodeConfig::new(1).with_clock(cb), Recorder::default());
    let l = sim
        .connect((a, P0), (b, P0), LinkConfig::symmetric(params))
        .unwrap();
    (sim, a, b, l)
}

/// Sends frames from `node` now, as a callback would.
fn send(sim: &mut Simulator, node: NodeId, frames: &[(u8, Vec<u8>, Option<u64>)]) {
    sim.with_node(node, |_: &mut Recorder, ctx| {
        for (tc, f, token) in frames {
            match token {
                Some(t) => ctx.send_timestamped(P0, *tc, f.clone(), TxToken(*t)),
                None => ctx.send(P0, *tc, f.clone()),
            }
        }
    })
    .expect("node running");
}

#[test]
fn serialisation_and_propagation_are_exact() {
    let params = LinkParams::default()
        .with_bandwidth(1_000_000_000)
        .with_overhead(0)
        .with_delay(Duration::from_nanos(1_000));
    let (mut sim, a, b, _) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    let t0 = ns(10_000);
    sim.run_until(t0);
    // 125 bytes at 1 Gbit/s = 1000 ns on the wire; the second waits for the first.
    send(
        &mut sim,
        a,
        &[(0, frame(1, 125), Some(11)), (0, frame(2, 125), Some(12))],
    );
    sim.run_until(t0 + Duration::from_nanos(2_000) - Duration::from_subnanos(1));
    assert!(rec(&sim, b).rx.is_empty(), "nothing before t0 + ser + prop");
    sim.run_until(t0 + Duration::from_nanos(2_000));
    assert_eq!(
        rec(&sim, b).rx.len(),
        1,
        "first frame exactly at t0 + ser + prop"
    );
    sim.run_for(Duration::from_micros(10));
    let r = rec(&sim, b);
    assert_eq!(
        r.rx,
        vec![
            Rx {
                port: P0,
                id: 1,
                len: 125,
                rx_ts: ns(11_000),
                local: ns(12_000)
            },
            Rx {
                port: P0,
                id: 2,
                len: 125,
                rx_ts: ns(12_000),
                local: ns(13_000)
            },
        ]
    );
    // Transmit timestamps name the start of transmission, after queueing.
    assert_eq!(
        rec(&sim, a).tx_ts,
        vec![(P0, TxToken(11), ns(10_000)), (P0, TxToken(12), ns(11_000))]
    );

    // The default overhead (preamble, SFD, IFG: 20 bytes) and another rate: 105 + 20 bytes
    // at 100 Mbit/s = 10 us.
    let params = LinkParams::default()
        .with_bandwidth(100_000_000)
        .with_delay(Duration::from_nanos(250));
    let (mut sim, a, b, _) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    send(&mut sim, a, &[(0, frame(7, 105), None)]);
    sim.run_for(Duration::from_millis(1));
    assert_eq!(rec(&sim, b).rx[0].local, ns(10_250));
    assert_eq!(rec(&sim, b).rx[0].rx_ts, ns(250));
}

#[test]
fn fifo_per_class_and_strict_priority() {
    let params = LinkParams::default().with_bandwidth(10_000_000);
    let (mut sim, a, b, _) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    // X starts at once; the rest wait and leave by class, FIFO within a class.
    send(
        &mut sim,
        a,
        &[
            (0, frame(1, 100), None), // X
            (0, frame(2, 100), None), // A
            (0, frame(3, 100), None), // B
            (7, frame(4, 100), None), // C
            (3, frame(5, 100), None), // D
            (7, frame(6, 100), None), // E
            (3, frame(7, 100), None), // F
        ],
    );
    assert_eq!(sim.queue_len(a, P0, 0), 2);
    assert_eq!(sim.queue_len(a, P0, 7), 2);
    sim.run_for(Duration::from_millis(10));
    let order: Vec<u32> = rec(&sim, b).rx.iter().map(|r| r.id).collect();
    assert_eq!(order, vec![1, 4, 6, 5, 7, 2, 3]);
    let c = sim.port_counters(a, P0);
    // The first frame went straight to the wire; six waited.
    assert_eq!((c.enqueued, c.transmitted, c.max_queue_depth), (7, 7, 6));
}

/// Traffic class 0 closed until local time `open_at`.
#[derive(Debug)]
struct ClosedUntil {
    open_at: Time,
}

impl Gate for ClosedUntil {
    fn is_open(&self, tc: u8, at: Time) -> bool {
        tc != 0 || at >= self.open_at
    }
    fn next_change(&self, after: Time) -> Option<Time> {
        (after < self.open_at).then_some(self.open_at)
    }
}

#[test]
fn closed_gate_holds_frames_until_it_opens() {
    let params = LinkParams::default().with_overhead(0); // 1 Gbit/s, 100 ns
    // The sender's clock runs 1 ms ahead: the gate follows local time.
    let ahead = ClockModel::ideal().with_offset(Duration::from_millis(1));
    let (mut sim, a, b, _) = pair(1, params, ahead, ClockModel::ideal());
    sim.set_gate(
        a,
        P0,
        ClosedUntil {
            open_at: ns(1_500_000),
        },
    );
    send(
        &mut sim,
        a,
        &[(0, frame(1, 100), Some(1)), (1, frame(2, 100), Some(2))],
    );
    sim.run_for(Duration::from_millis(2));
    let r = rec(&sim, b);
    assert_eq!(r.rx.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2, 1]);
    // Class 1 left at once; class 0 when the local clock reached 1.5 ms (global 0.5 ms).
    assert_eq!(
        rec(&sim, a).tx_ts,
        vec![
            (P0, TxToken(2), ns(1_000_000)),
            (P0, TxToken(1), ns(1_500_000))
        ]
    );
    assert_eq!(r.rx[1].rx_ts, ns(500_100));
}

#[test]
fn gate_control_list_requires_the_frame_to_fit() {
    let params = LinkParams::default().with_overhead(0);
    let (mut sim, a, b, _) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    // Class 0 open 2 us of every 10 us cycle; a 200-byte frame needs 1.6 us.
    let gcl = GateControlList::new(
        Time::EPOCH,
        [
            (0b0000_0001, Duration::from_micros(2)),
            (0b1111_1110, Duration::from_micros(8)),
        ],
    );
    assert!(gcl.is_open(0, ns(1_999)) && !gcl.is_open(0, ns(2_000)));
    assert_eq!(gcl.next_change(ns(2_000)), Some(ns(10_000)));
    sim.set_gate(a, P0, gcl);
    sim.run_until(ns(1_000));
    // At 1 us only 1 us of the window is left: wait for the next window at 10 us.
    send(&mut sim, a, &[(0, frame(1, 200), Some(1))]);
    sim.run_until(ns(10_399));
    assert_eq!(rec(&sim, a).tx_ts, vec![(P0, TxToken(1), ns(10_000))]);
    // A frame that fits goes at once within the window.
    send(&mut sim, a, &[(0, frame(2, 10), Some(2))]);
    sim.run_for(Duration::from_micros(100));
    assert_eq!(rec(&sim, a).tx_ts[1], (P0, TxToken(2), ns(11_600)));
    assert_eq!(rec(&sim, b).rx.len(), 2);
}

#[test]
fn queue_bound_counts_drops() {
    let params = LinkParams::default().with_bandwidth(1_000_000);
    let mut sim = Simulator::new(3);
    let a = sim.add_node(
        NodeConfig::new(1).with_queue_capacity(2),
        Recorder::default(),
    );
    let b = sim.add_node(NodeConfig::new(1), Recorder::default());
    sim.connect((a, P0), (b, P0), LinkConfig::symmetric(params))
        .unwrap();
    let frames: Vec<_> = (0..6).map(|i| (0, frame(i, 60), None)).collect();
    send(&mut sim, a, &frames);
    let c = sim.port_counters(a, P0);
    // One on the wire, two queued, three refused.
    assert_eq!((c.enqueued, c.queue_drops), (3, 3));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        rec(&sim, b).rx.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

/// Sends `count` frames numbered 0.. every `every` of local time, on port 0, class 0.
struct Blaster {
    every: Duration,
    next: Time,
    sent: u32,
    count: u32,
    len: usize,
}

impl Node for Blaster {
    fn on_frame(&mut self, _: &mut Ctx<'_>, _: PortId, _: &[u8], _: Time) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        ctx.send(P0, 0, frame(self.sent, self.len));
        self.sent += 1;
        self.next += self.every;
    }
    fn poll_timeout(&self) -> Option<Time> {
        (self.sent < self.count).then_some(self.next)
    }
}

fn blaster(count: u32) -> Blaster {
    Blaster {
        every: Duration::from_micros(10),
        next: ns(1_000),
        sent: 0,
        count,
        len: 64,
    }
}

/// Binomial count within `k` standard deviations of its mean.
fn close_to(observed: u64, n: u64, p: f64, k: f64) -> bool {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (observed as f64 - mean).abs() <= k * sd
}

#[test]
fn loss_duplication_and_reordering_rates_match() {
    const N: u32 = 20_000;
    let params = LinkParams::default()
        .with_loss(0.1)
        .with_duplicate(0.05)
        .with_reorder(0.05, Duration::from_micros(25));
    let mut sim = Simulator::new(7);
    let a = sim.add_node(NodeConfig::new(1), blaster(N));
    let b = sim.add_node(NodeConfig::new(1), Recorder::default());
    let l = sim
        .connect((a, P0), (b, P0), LinkConfig::symmetric(params))
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    let c = sim.link_counters(l, Direction::AtoB);
    let n = u64::from(N);
    assert_eq!(c.sent, n);
    assert!(close_to(c.lost, n, 0.1, 4.0), "lost {}", c.lost);
    let kept = n - c.lost;
    assert!(
        close_to(c.duplicated, kept, 0.05, 4.0),
        "dup {}",
        c.duplicated
    );
    assert!(
        close_to(c.reordered, kept, 0.05, 4.0),
        "reordered {}",
        c.reordered
    );
    assert_eq!(c.delivered, kept + c.duplicated);

    // What the receiver saw agrees with the counters.
    let rx = &rec(&sim, b).rx;
    assert_eq!(rx.len() as u64, c.delivered);
    let mut seen = std::collections::HashSet::new();
    let (mut dups, mut late, mut max) = (0u64, 0u64, None);
    for r in rx {
        if !seen.insert(r.id) {
            dups += 1;
            continue;
        }
        if max.is_some_and(|m| r.id < m) {
            late += 1;
        }
        max = max.max(Some(r.id));
    }
    assert_eq!(dups, c.duplicated);
    // A reordered frame arrives after at least one later frame unless the two frames
    // behind it were both lost (1 %).
    assert!(
        late <= c.reordered && late as f64 >= 0.95 * c.reordered as f64,
        "late {late}"
    );
    // Nothing goes the other way.
    assert_eq!(sim.link_counters(l, Direction::BtoA).sent, 0);
}

#[test]
fn burst_loss_drops_exactly_the_next_frames() {
    let (mut sim, a, b, l) = pair(
        1,
        LinkParams::default(),
        ClockModel::ideal(),
        ClockModel::ideal(),
    );
    sim.drop_next_frames(l, Direction::AtoB, 3);
    let frames: Vec<_> = (0..5).map(|i| (0, frame(i, 60), None)).collect();
    send(&mut sim, a, &frames);
    sim.run_for(Duration::from_millis(1));
    assert_eq!(
        rec(&sim, b).rx.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(sim.link_counters(l, Direction::AtoB).lost, 3);
}

#[test]
fn local_clock_model_sets_rx_and_tx_timestamps() {
    let params = LinkParams::default().with_delay(Duration::from_nanos(500));
    // Receiver: +1 ms, +100 ppm, 8 ns timestamping unit.
    let rx_clock = ClockModel::ideal()
        .with_offset(Duration::from_millis(1))
        .with_ppm(100.0)
        .with_granularity(Duration::from_nanos(8));
    // Sender: -3 us, -20 ppm, 10 ns unit.
    let tx_clock = ClockModel::ideal()
        .with_offset(Duration::from_micros(-3))
        .with_ppm(-20.0)
        .with_granularity(Duration::from_nanos(10));
    let (mut sim, a, b, _) = pair(1, params, tx_clock, rx_clock);
    sim.run_until(ns(1_000_000_000));
    send(&mut sim, a, &[(0, frame(1, 80), Some(5))]);
    sim.run_for(Duration::from_millis(1));
    // Sender at 1 s: 1e9 - 3000 - 20000 = 999_977_000 ns, on the 10 ns grid.
    assert_eq!(rec(&sim, a).tx_ts, vec![(P0, TxToken(5), ns(999_977_000))]);
    // First bit at 1_000_000_500 ns global; receiver reads
    // 1_000_000 + 1_000_000_500 + 100_000.05 = 1_001_100_500.05 ns -> 8 ns grid.
    assert_eq!(rec(&sim, b).rx[0].rx_ts, ns(1_001_100_496));
    // True readings.
    // At 1.001 s global: +1 ms offset and 100 ppm of 1.001 s.
    assert_eq!(sim.now(), ns(1_001_000_000));
    assert_eq!(
        sim.true_local_time(b) - sim.now(),
        Duration::from_nanos(1_100_100)
    );
}

#[test]
fn timestamp_noise_has_the_configured_spread() {
    let noisy = ClockModel::ideal().with_noise(Duration::from_nanos(10));
    let mut sim = Simulator::new(11);
    let a = sim.add_node(NodeConfig::new(1), blaster(4_000));
    let b = sim.add_node(NodeConfig::new(1).with_clock(noisy), Recorder::default());
    sim.connect(
        (a, P0),
        (b, P0),
        LinkConfig::symmetric(LinkParams::default()),
    )
    .unwrap();
    sim.run_for(Duration::from_secs(1));
    let rx = &rec(&sim, b).rx;
    assert_eq!(rx.len(), 4_000);
    // Frame i left at 1 us + i * 10 us; first bit 100 ns later.
    let errs: Vec<f64> = rx
        .iter()
        .map(|r| (r.rx_ts - ns(1_100 + i128::from(r.id) * 10_000)).nanos_f64())
        .collect();
    let mean = errs.iter().sum::<f64>() / errs.len() as f64;
    let sd = (errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / errs.len() as f64).sqrt();
    assert!(mean.abs() < 1.0, "mean {mean}");
    assert!((sd - 10.0).abs() < 1.0, "sd {sd}");
}

#[test]
fn servo_frequency_adjustment_and_step_change_readings() {
    let fast = ClockModel::ideal().with_ppm(50.0);
    let mut sim = Simulator::new(1);
    let n = sim.add_node(NodeConfig::new(0).with_clock(fast), Recorder::default());
    let gm = sim.add_node(NodeConfig::new(0), Recorder::default());
    sim.run_until(ns(1_000_000_000));
    assert_eq!(sim.clock_error(n, gm), Duration::from_nanos(50_000));

    // The servo cancels the oscillator's error: (1 + 50e-6)(1 - 50e-6) - 1 = -2.5e-9.
    let (applied, now_before) = sim
        .with_node(n, |_: &mut Recorder, ctx| {
            let before = ctx.now();
            (ctx.adjust_frequency(-50_000.0), before)
        })
        .unwrap();
    assert_eq!(applied, -50_000.0);
    assert_eq!(now_before, ns(1_000_050_000));
    sim.run_for(Duration::from_secs(1));
    let err = sim.clock_error(n, gm) - Duration::from_nanos(50_000);
    assert!((err.nanos_f64() + 2.5).abs() < 0.01, "{err}");

    // A step applies at once, within the same callback too.
    let seen = sim
        .with_node(n, |_: &mut Recorder, ctx| {
            let before = ctx.now();
            ctx.step_clock(Duration::from_micros(-50));
            ctx.now() - before
        })
        .unwrap();
    assert_eq!(seen, Duration::from_micros(-50));
    assert!(sim.clock_error(n, gm).abs() < Duration::from_nanos(3));
    // Clamped to the model's limit.
    let applied = sim
        .with_node(n, |_: &mut Recorder, ctx| ctx.adjust_frequency(5e6))
        .unwrap();
    assert_eq!(applied, 1e6);
    assert_eq!(sim.clock_frequency_ppb(n), (50_000.0, 1e6));
}

#[test]
fn timers_fire_at_local_deadlines_on_fast_and_slow_clocks() {
    for (ppm, not_yet, fired_by) in [
        // 1 s / (1 + 1e-4) = 999_900_009.999 ns
        (100.0, 999_900_009, 999_900_011),
        // 1 s / (1 - 1e-4) = 1_000_100_010.001 ns
        (-100.0, 1_000_100_010, 1_000_100_012),
    ] {
        let mut sim = Simulator::new(1);
        let n = sim.add_node(
            NodeConfig::new(0).with_clock(ClockModel::ideal().with_ppm(ppm)),
            Recorder {
                timer_at: Some(ns(1_000_000_000)),
                ..Default::default()
            },
        );
        sim.run_until(ns(not_yet));
        assert!(rec(&sim, n).fired.is_empty(), "{ppm} ppm: never early");
        sim.run_until(ns(fired_by));
        let fired = &rec(&sim, n).fired;
        assert_eq!(fired.len(), 1, "{ppm} ppm");
        assert!(
            fired[0] >= ns(1_000_000_000) && fired[0] < ns(1_000_000_002),
            "{}",
            fired[0]
        );
    }

    // A frequency change half-way moves the global instant of the deadline.
    let mut sim = Simulator::new(1);
    let n = sim.add_node(
        NodeConfig::new(0),
        Recorder {
            timer_at: Some(ns(1_000_000_000)),
            ..Default::default()
        },
    );
    sim.run_until(ns(500_000_000));
    sim.with_node(n, |_: &mut Recorder, ctx| ctx.adjust_frequency(100_000.0));
    // 0.5 s + 0.5 s / 1.0001 = 999_950_004.9995 ns
    sim.run_until(ns(999_950_004));
    assert!(rec(&sim, n).fired.is_empty());
    sim.run_until(ns(999_950_006));
    assert_eq!(rec(&sim, n).fired.len(), 1);
    assert_eq!(sim.node_counters(n).timers_fired, 1);
}

/// Keeps asking for a timer in the past.
struct Livelock;

impl Node for Livelock {
    fn on_frame(&mut self, _: &mut Ctx<'_>, _: PortId, _: &[u8], _: Time) {}
    fn poll_timeout(&self) -> Option<Time> {
        Some(Time::EPOCH)
    }
}

#[test]
fn bounded_run_catches_a_livelock() {
    let mut sim = Simulator::new(1);
    sim.add_node(NodeConfig::new(0), Livelock);
    let err = sim.run_until_bounded(ns(1_000), 10_000).unwrap_err();
    assert!(
        matches!(err, Error::EventLimit { limit: 10_000, at } if at == Time::EPOCH),
        "{err}"
    );

    // A well-behaved network finishes within its bound.
    let (mut sim, ..) = pair(
        1,
        LinkParams::default(),
        ClockModel::ideal(),
        ClockModel::ideal(),
    );
    assert!(sim.run_for_bounded(Duration::from_secs(1), 100).is_ok());
}

#[test]
fn drift_models_aging_and_random_walk() {
    let aging = ClockModel::ideal().with_aging(10.0);
    let mut sim = Simulator::new(1);
    let n = sim.add_node(NodeConfig::new(0).with_clock(aging), Recorder::default());
    sim.run_until(ns(100_000_000_000));
    let (osc, servo) = sim.clock_frequency_ppb(n);
    assert!((osc - 1_000.0).abs() < 1e-6 && servo == 0.0, "{osc}");
    // Piecewise constant: 10 ppb in second 2, 20 in second 3, ... 990 in second 100.
    let off = sim.true_local_time(n) - sim.now();
    assert!((off.nanos_f64() - 49_500.0).abs() < 0.01, "{off}");

    // Random walk of 1 ppb/sqrt(s) over 100 s: spread of 10 ppb across nodes.
    let walk = ClockModel::ideal().with_random_walk(1.0);
    let mut sim = Simulator::new(2);
    let nodes: Vec<_> = (0..400)
        .map(|_| sim.add_node(NodeConfig::new(0).with_clock(walk), Recorder::default()))
        .collect();
    sim.run_until(ns(100_000_000_000));
    let f: Vec<f64> = nodes
        .iter()
        .map(|n| sim.clock_frequency_ppb(*n).0)
        .collect();
    let sd = (f.iter().map(|v| v * v).sum::<f64>() / f.len() as f64).sqrt();
    assert!((sd - 10.0).abs() < 1.5, "sd {sd}");
}

#[test]
fn link_cut_drops_frames_and_restore_resumes() {
    let params = LinkParams::default().with_delay(Duration::from_millis(1));
    let (mut sim, a, b, l) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    send(&mut sim, a, &[(0, frame(1, 60), None)]);
    sim.run_for(Duration::from_micros(500));
    sim.set_link_up(l, false);
    assert!(!sim.link_is_up(l));
    // Sent while down: refused at the port.
    send(&mut sim, a, &[(0, frame(2, 60), None)]);
    sim.run_for(Duration::from_millis(5));
    assert!(rec(&sim, b).rx.is_empty());
    assert_eq!(sim.link_counters(l, Direction::AtoB).dropped_link_down, 1);
    assert_eq!(sim.port_counters(a, P0).dropped_link_down, 1);
    assert_eq!(rec(&sim, a).link_changes, vec![(P0, false)]);
    assert_eq!(rec(&sim, b).link_changes, vec![(P0, false)]);

    sim.set_link_up(l, true);
    send(&mut sim, a, &[(0, frame(3, 60), None)]);
    sim.run_for(Duration::from_millis(5));
    assert_eq!(
        rec(&sim, b).rx.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![3]
    );
    assert_eq!(rec(&sim, b).link_changes, vec![(P0, false), (P0, true)]);
}

#[test]
fn stopped_node_drops_frames_and_restart_starts_fresh() {
    let (mut sim, a, b, l) = pair(
        1,
        LinkParams::default(),
        ClockModel::ideal(),
        ClockModel::ideal(),
    );
    sim.run_for(Duration::from_micros(1));
    assert_eq!(rec(&sim, b).started, 1);
    sim.stop_node(b);
    assert!(!sim.node_is_running(b));
    send(&mut sim, a, &[(0, frame(1, 60), None)]);
    sim.run_for(Duration::from_millis(1));
    assert_eq!(sim.link_counters(l, Direction::AtoB).dropped_node_down, 1);
    assert!(sim.with_node(b, |_: &mut Recorder, _| ()).is_none());

    sim.restart_node(b, Recorder::default());
    send(&mut sim, a, &[(0, frame(2, 60), None)]);
    sim.run_for(Duration::from_millis(1));
    let r = rec(&sim, b);
    assert_eq!((r.started, r.rx.len(), r.rx[0].id), (1, 1, 2));
}

#[test]
fn pcap_capture_of_a_link() {
    let params = LinkParams::default()
        .with_overhead(0)
        .with_delay(Duration::from_nanos(300));
    let (mut sim, a, b, l) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    sim.capture_link_in_memory(l, CapturePoint::Transmit);
    sim.run_until(ns(1_000));
    send(
        &mut sim,
        a,
        &[(0, frame(1, 100), None), (0, frame(2, 60), None)],
    );
    sim.with_node(b, |_: &mut Recorder, ctx| ctx.send(P0, 0, frame(3, 70)));
    sim.run_for(Duration::from_millis(1));
    let packets = tsn_wire::pcap::read_pcap(sim.capture_bytes(l).unwrap()).unwrap();
    let got: Vec<(u64, Vec<u8>)> = packets.into_iter().map(|p| (p.ts_ns, p.data)).collect();
    assert_eq!(
        got,
        vec![
            (1_000, frame(1, 100)),
            (1_000, frame(3, 70)),
            (1_800, frame(2, 60))
        ]
    );

    // The receive side, to a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link.pcap");
    let (mut sim, a, _, l) = pair(1, params, ClockModel::ideal(), ClockModel::ideal());
    sim.capture_link_to_file(l, CapturePoint::Receive, &path)
        .unwrap();
    send(&mut sim, a, &[(0, frame(1, 100), None)]);
    sim.run_for(Duration::from_millis(1));
    sim.finish_captures().unwrap();
    let packets = tsn_wire::pcap::read_pcap(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(packets.len(), 1);
    assert_eq!((packets[0].ts_ns, &packets[0].data), (300, &frame(1, 100)));
}

#[test]
fn invalid_sends_are_counted_not_fatal() {
    let (mut sim, a, _, _) = pair(
        1,
        LinkParams::default(),
        ClockModel::ideal(),
        ClockModel::ideal(),
    );
    sim.with_node(a, |_: &mut Recorder, ctx| {
        ctx.send(PortId(9), 0, frame(1, 60));
        ctx.send(P0, 8, frame(2, 60));
    });
    assert_eq!(sim.node_counters(a).invalid_sends, 2);
    assert!(matches!(
        sim.connect((a, P0), (a, P1), LinkConfig::default()),
        Err(Error::PortInUse { .. })
    ));
}

#[test]
fn gptp_rate_node_measures_the_link_delay() {
    let params = LinkParams::default().with_delay(Duration::from_nanos(700));
    let mut sim = Simulator::new(5);
    let a = sim.add_node(NodeConfig::new(1), GptpRateNode::new(1));
    let b = sim.add_node(NodeConfig::new(1), GptpRateNode::new(1));
    sim.connect((a, P0), (b, P0), LinkConfig::symmetric(params))
        .unwrap();
    sim.run_for(Duration::from_secs(10));
    let n = sim.node::<GptpRateNode>(b).unwrap();
    assert_eq!(n.link_delay(P0), Some(Duration::from_nanos(700)));
    // About 8 Sync per second and one of everything else.
    let syncs = n.received[PtpKind::Sync.index()];
    assert!((79..=81).contains(&syncs), "{syncs}");
    assert_eq!(n.received[PtpKind::FollowUp.index()], syncs);
    assert!((9..=11).contains(&n.pdelay_measurements));

    // With real clocks the estimate is off by the rate difference and the 8 ns unit.
    let clock = |ppm| {
        ClockModel::ideal()
            .with_ppm(ppm)
            .with_granularity(Duration::from_nanos(8))
            .with_offset(Duration::from_secs(ppm as i64))
    };
    let mut sim = Simulator::new(5);
    let a = sim.add_node(
        NodeConfig::new(1).with_clock(clock(40.0)),
        GptpRateNode::new(1),
    );
    let b = sim.add_node(
        NodeConfig::new(1).with_clock(clock(-25.0)),
        GptpRateNode::new(1),
    );
    sim.connect((a, P0), (b, P0), LinkConfig::symmetric(params))
        .unwrap();
    sim.run_for(Duration::from_secs(10));
    for n in [a, b] {
        let d = sim.node::<GptpRateNode>(n).unwrap().link_delay(P0).unwrap();
        assert!(
            (d - Duration::from_nanos(700)).abs() <= Duration::from_nanos(10),
            "{d}"
        );
    }
}

/// A ring of gPTP-rate nodes with every random feature on; link 0 captured.
fn noisy_ring(seed: u64, loss_on_link_1: f64) -> Simulator {
    let mut sim = Simulator::new(seed);
    sim.enable_trace(true);
    let clock = ClockModel::ideal()
        .with_ppm(20.0)
        .with_random_walk(2.0)
        .with_granularity(Duration::from_nanos(8))
        .with_noise(Duration::from_nanos(5));
    let nodes: Vec<_> = (0..4)
        .map(|_| sim.add_node(NodeConfig::new(2).with_clock(clock), GptpRateNode::new(2)))
        .collect();
    let base = LinkParams::default()
        .with_jitter(Duration::from_nanos(50))
        .with_loss(0.02)
        .with_duplicate(0.01)
        .with_reorder(0.01, Duration::from_micros(50));
    let links: Vec<_> = (0..4)
        .map(|i| {
            let p = if i == 1 {
                base.with_loss(loss_on_link_1)
            } else {
                base
            };
            sim.connect(
                (nodes[i], P0),
                (nodes[(i + 1) % 4], P1),
                LinkConfig::symmetric(p),
            )
            .unwrap()
        })
        .collect();
    sim.capture_link_in_memory(links[0], CapturePoint::Transmit);
    sim.run_for(Duration::from_secs(5));
    sim
}

fn first_link(sim: &Simulator) -> LinkId {
    sim.link_ids().next().unwrap()
}

fn counters(sim: &Simulator) -> Vec<tsn_netsim::LinkCounters> {
    sim.link_ids()
        .flat_map(|l| {
            [
                sim.link_counters(l, Direction::AtoB),
                sim.link_counters(l, Direction::BtoA),
            ]
        })
        .collect()
}

#[test]
fn same_seed_same_trace_pcap_and_counters() {
    let one = noisy_ring(99, 0.02);
    let two = noisy_ring(99, 0.02);
    assert!(one.trace().len() > 1_000);
    assert!(one.trace() == two.trace());
    assert_eq!(one.trace_hash(), two.trace_hash());
    assert_eq!(one.events_processed(), two.events_processed());
    let l0 = first_link(&one);
    assert!(one.capture_bytes(l0).unwrap() == two.capture_bytes(l0).unwrap());
    assert_eq!(counters(&one), counters(&two));
    // Every random feature actually fired.
    let total = counters(&one).into_iter().fold((0, 0, 0), |a, c| {
        (a.0 + c.lost, a.1 + c.duplicated, a.2 + c.reordered)
    });
    assert!(total.0 > 0 && total.1 > 0 && total.2 > 0, "{total:?}");

    let other = noisy_ring(100, 0.02);
    assert_ne!(one.trace_hash(), other.trace_hash());
    assert!(one.trace() != other.trace());
    assert!(one.capture_bytes(l0).unwrap() != other.capture_bytes(l0).unwrap());
}

#[test]
fn randomness_of_one_link_does_not_shift_another() {
    // Link 1 loses everything instead of 2 %: link 0 draws from its own stream, so what
    // goes over it is unchanged (the gPTP-rate nodes do not react to what they miss).
    let one = noisy_ring(99, 0.02);
    let two = noisy_ring(99, 1.0);
    let l0 = first_link(&one);
    assert!(one.capture_bytes(l0).unwrap() == two.capture_bytes(l0).unwrap());
    assert_ne!(one.trace_hash(), two.trace_hash());
}
