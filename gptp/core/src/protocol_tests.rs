//! Protocol tests driven through the public API with hand-built peers: multiple Pdelay
//! responders (802.1AS-2020 11.2.19), the message interval request TLV (intervals and
//! flags), and neighborRateRatio recovery after a neighbour's clock steps or changes rate.

use crate::port::scale;
use crate::wire::{
    Body, ClockIdentity, Flags, HeaderRepr, IntervalRequestFlags, Message, MessageIntervalRequest,
    PdelayRespBody, PdelayRespFollowUpBody, PortIdentity, SignalingBody, Tlv,
};
use crate::{Action, Event, Instance, InstanceConfig, PortConfig};
use tsn_time::{Duration, PtpTimestamp, Time, TimeInterval};

const BASE: Time = Time::from_secs_nanos(1_700_000_000, 0);
const LINK: Duration = Duration::from_nanos(500);
const TURNAROUND: Duration = Duration::from_micros(10);

fn port_id(last: u8) -> PortIdentity {
    PortIdentity {
        clock_identity: ClockIdentity::from_mac([2, 0, 0, 0, 0, last]),
        port_number: 1,
    }
}

fn instance(cfg: impl Fn(PortConfig) -> PortConfig) -> Instance {
    Instance::new(InstanceConfig::new(port_id(1).clock_identity, 1).with_ports(cfg))
}

/// A Pdelay responder whose clock reads `BASE + offset + (g - BASE) * rate` when ours reads
/// `g`, behind a `LINK` ns link.
#[derive(Debug, Clone, Copy)]
struct Peer {
    id: PortIdentity,
    rate: f64,
    offset: Duration,
    /// Extra time its responses take to arrive (one exchange held up in a kernel).
    late: Duration,
}

impl Peer {
    fn new(last: u8, ppm: f64) -> Self {
        Self {
            id: port_id(last),
            rate: 1.0 + ppm * 1e-6,
            offset: Duration::from_millis(3),
            late: Duration::ZERO,
        }
    }
    fn clock(&self, g: Time) -> Time {
        BASE + scale(g - BASE, self.rate) + self.offset
    }
    /// Pdelay_Resp and Pdelay_Resp_Follow_Up answering `req`, sent at t1.
    fn answer(&self, req: &Message, t1: Time) -> [Vec<u8>; 2] {
        let t2 = self.clock(t1 + LINK);
        let t3 = self.clock(t1 + LINK + TURNAROUND);
        let header = |t: Time| {
            let ts = PtpTimestamp::from_time(t).expect("in range");
            let h = HeaderRepr {
                minor_version_ptp: 1,
                correction_field: TimeInterval::from_duration(t - ts.to_time()),
                source_port_identity: self.id,
                sequence_id: req.header.sequence_id,
                log_message_interval: 0x7f,
                flags: Flags::TWO_STEP,
                ..HeaderRepr::default()
            };
            (h, ts)
        };
        let requester = req.header.source_port_identity;
        let (h2, ts2) = header(t2);
        let (h3, ts3) = header(t3);
        let resp = Message {
            header: h2,
            body: Body::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: ts2,
                requesting_port_identity: requester,
            }),
            tlvs: Vec::new(),
        };
        let fup = Message {
            header: HeaderRepr {
                flags: Flags::empty(),
                ..h3
            },
            body: Body::PdelayRespFollowUp(PdelayRespFollowUpBody {
                response_origin_timestamp: ts3,
                requesting_port_identity: requester,
            }),
            tlvs: Vec::new(),
        };
        [resp.to_vec().unwrap(), fup.to_vec().unwrap()]
    }
}

/// What a driven instance sent and reported.
#[derive(Debug, Default)]
struct Log {
    /// (local time, message) of everything sent.
    sent: Vec<(Time, Message)>,
    events: Vec<Event>,
}

impl Log {
    fn count(&self, from: Time, to: Time, f: impl Fn(&Body) -> bool) -> usize {
        self.sent
            .iter()
            .filter(|(t, m)| *t >= from && *t < to && f(&m.body))
            .count()
    }
}

fn is_pdelay_req(b: &Body) -> bool {
    matches!(b, Body::PdelayReq)
}
fn is_sync(b: &Body) -> bool {
    matches!(b, Body::Sync(_))
}
fn is_announce(b: &Body) -> bool {
    matches!(b, Body::Announce(_))
}

/// Carries out `a`'s queued actions at local time `now`: every Pdelay_Req is answered by
/// each of `peers` (responses arrive in order, `LINK` after the turnaround), every other
/// event message gets a transmit timestamp `now`.
fn drain(a: &mut Instance, now: Time, peers: &[Peer], log: &mut Log) {
    while let Some(act) = a.poll_action() {
        match act {
            Action::Send { port, data, token } => {
                let msg = Message::parse_bytes(&data).expect("we emit what we parse");
                if let Some(tok) = token {
                    a.handle_tx_timestamp(port, tok, now);
                }
                if matches!(msg.body, Body::PdelayReq) {
                    let t4 = now + LINK + TURNAROUND + LINK;
                    for (k, peer) in peers.iter().enumerate() {
                        let [resp, fup] = peer.answer(&msg, now);
                        let d = Duration::from_nanos(100 * k as i64) + peer.late;
                        a.handle_frame(port, &resp, t4 + d);
                        a.handle_frame(port, &fup, t4 + d + Duration::from_micros(1));
                    }
                }
                log.sent.push((now, msg));
            }
            Action::Event(e) => log.events.push(e),
            Action::AdjustFrequency { .. } | Action::StepClock { .. } => {}
        }
    }
}

/// Runs `a`'s timers up to `end` (inclusive) with `peers` answering.
fn run(a: &mut Instance, end: Time, peers: &[Peer], log: &mut Log) {
    while let Some(t) = a.poll_timeout() {
        let t = t.max(BASE);
        if t > end {
            break;
        }
        a.handle_timer(t);
        drain(a, t, peers, log);
    }
}

fn secs(s: i64) -> Time {
    BASE + Duration::from_secs(s)
}

/// Three exchanges in a row answered by two responders: asCapable goes false and the port
/// sends no Pdelay_Req for 5 minutes, then starts again.
#[test]
fn multiple_responders_halt_pdelay_for_five_minutes() {
    let mut a = instance(|p| p);
    let one = Peer::new(2, 20.0);
    let two = Peer::new(3, -20.0);
    let mut log = Log::default();
    // 0, 1, 2 s: one responder; asCapable after the second exchange.
    run(&mut a, secs(2), &[one], &mut log);
    assert!(a.port_status(0).unwrap().as_capable);
    // 3, 4 s: two responders; 5 s: one again. Two in a row is not enough.
    run(&mut a, secs(4), &[one, two], &mut log);
    run(&mut a, secs(5), &[one], &mut log);
    let s = a.port_status(0).unwrap();
    assert!(!s.pdelay_halted && s.as_capable, "{s:?}");
    assert_eq!(a.counters().multiple_pdelay_responses, 2);
    // 6, 7, 8 s: two responders each time; at 9 s the port halts.
    run(&mut a, secs(8), &[one, two], &mut log);
    assert!(a.port_status(0).unwrap().as_capable);
    log.events.clear();
    run(&mut a, secs(9), &[one, two], &mut log);
    let s = a.port_status(0).unwrap();
    assert!(s.pdelay_halted && !s.as_capable, "{s:?}");
    assert!(s.neighbor_rate_ratio.is_none() && s.mean_link_delay.is_none());
    assert!(log.events.contains(&Event::AsCapable {
        port: 0,
        capable: false
    }));
    assert_eq!(a.counters().multiple_pdelay_responses, 5);
    assert_eq!(a.counters().pdelay_halts, 1);
    assert_eq!(log.count(secs(9), secs(10), is_pdelay_req), 0);
    // Nothing for 300 s, however the peers behave.
    run(&mut a, secs(9 + 299), &[one], &mut log);
    assert_eq!(log.count(secs(9), secs(9 + 300), is_pdelay_req), 0);
    assert!(!a.port_status(0).unwrap().as_capable);
    // Then requests resume and one responder makes the port capable again.
    run(&mut a, secs(9 + 302), &[one], &mut log);
    assert_eq!(log.count(secs(9 + 300), secs(9 + 303), is_pdelay_req), 3);
    let s = a.port_status(0).unwrap();
    assert!(!s.pdelay_halted && s.as_capable, "{s:?}");
}

fn signaling(
    link_delay: i8,
    sync: i8,
    announce: i8,
    flags: IntervalRequestFlags,
    target: PortIdentity,
) -> Vec<u8> {
    Message {
        header: HeaderRepr {
            minor_version_ptp: 1,
            source_port_identity: port_id(2),
            sequence_id: 1,
            log_message_interval: 0x7f,
            ..HeaderRepr::default()
        },
        body: Body::Signaling(SignalingBody {
            target_port_identity: target,
        }),
        tlvs: vec![Tlv::MessageIntervalRequest(MessageIntervalRequest {
            link_delay_interval: link_delay,
            time_sync_interval: sync,
            announce_interval: announce,
            flags,
        })],
    }
    .to_vec()
    .unwrap()
}

const BOTH: IntervalRequestFlags = IntervalRequestFlags::COMPUTE_NEIGHBOR_RATE_RATIO
    .with(IntervalRequestFlags::COMPUTE_MEAN_LINK_DELAY);
const NO_CHANGE: i8 = MessageIntervalRequest::INTERVAL_NO_CHANGE;
const INITIAL: i8 = MessageIntervalRequest::INTERVAL_SET_TO_INITIAL;
const STOP: i8 = MessageIntervalRequest::INTERVAL_STOP;

/// The special values stop (127), restart at the initial value (126) and leave alone
/// (-128) each interval; plain values set it; a request for another port is ignored.
#[test]
fn signaling_intervals_stop_restart_and_set() {
    // A grandmaster (priority1 246) with one port facing a responder.
    let mut a =
        Instance::new(InstanceConfig::new(port_id(1).clock_identity, 1).with_priority1(246));
    let peer = Peer::new(2, 10.0);
    let mut log = Log::default();
    run(&mut a, secs(3), &[peer], &mut log);
    assert!(a.is_grandmaster());
    // Initially: Sync every 125 ms, Announce and Pdelay_Req every second.
    assert_eq!(log.count(secs(2), secs(3), is_sync), 8);
    assert_eq!(log.count(secs(2), secs(3), is_announce), 1);
    assert_eq!(log.count(secs(2), secs(3), is_pdelay_req), 1);

    let at = |a: &mut Instance, t: Time, frame: Vec<u8>, log: &mut Log| {
        a.handle_frame(0, &frame, t);
        drain(a, t, &[peer], log);
    };
    // Addressed to another clock: nothing changes.
    let other = PortIdentity {
        clock_identity: ClockIdentity([9; 8]),
        port_number: 1,
    };
    let t = secs(3) + Duration::from_millis(10);
    at(
        &mut a,
        t,
        signaling(STOP, STOP, STOP, BOTH, other),
        &mut log,
    );
    assert_eq!(a.counters().not_for_us, 1);
    assert_eq!(a.port_status(0).unwrap().log_sync_interval, Some(-3));

    // Stop Sync, leave the rest alone.
    at(
        &mut a,
        t,
        signaling(NO_CHANGE, STOP, NO_CHANGE, BOTH, PortIdentity::ALL),
        &mut log,
    );
    let s = a.port_status(0).unwrap();
    assert_eq!(
        (
            s.log_pdelay_req_interval,
            s.log_sync_interval,
            s.log_announce_interval
        ),
        (Some(0), None, Some(0))
    );
    run(&mut a, secs(6), &[peer], &mut log);
    assert_eq!(log.count(t, secs(6), is_sync), 0);
    assert_eq!(log.count(secs(4), secs(6), is_announce), 2);
    assert_eq!(log.count(secs(4), secs(6), is_pdelay_req), 2);
    assert!(a.port_status(0).unwrap().as_capable);

    // Back to the initial interval: Sync resumes at once.
    let t = secs(6) + Duration::from_millis(10);
    at(
        &mut a,
        t,
        signaling(NO_CHANGE, INITIAL, NO_CHANGE, BOTH, PortIdentity::ALL),
        &mut log,
    );
    run(&mut a, secs(7), &[peer], &mut log);
    assert_eq!(log.count(t, t + Duration::from_millis(1), is_sync), 1);
    assert_eq!(log.count(t, secs(7), is_sync), 8);

    // Sync every 2 s, Announce every 4 s, Pdelay stopped; all say so in their header.
    let t = secs(7) + Duration::from_millis(10);
    at(
        &mut a,
        t,
        signaling(STOP, 1, 2, BOTH, PortIdentity::ALL),
        &mut log,
    );
    run(&mut a, secs(16), &[peer], &mut log);
    assert_eq!(log.count(secs(8), secs(16), is_sync), 4);
    assert_eq!(log.count(secs(8), secs(16), is_announce), 2);
    assert_eq!(log.count(t, secs(16), is_pdelay_req), 0);
    for (time, m) in &log.sent {
        if *time >= secs(8) && is_sync(&m.body) {
            assert_eq!(m.header.log_message_interval, 1);
        }
        if *time >= secs(8) && is_announce(&m.body) {
            assert_eq!(m.header.log_message_interval, 2);
        }
    }
    // Pdelay back to its initial interval: the next request goes out at once.
    let t = secs(16) + Duration::from_millis(10);
    at(
        &mut a,
        t,
        signaling(INITIAL, NO_CHANGE, NO_CHANGE, BOTH, PortIdentity::ALL),
        &mut log,
    );
    let end = secs(18) + Duration::from_millis(20);
    run(&mut a, end, &[peer], &mut log);
    assert_eq!(log.count(t, t + Duration::from_millis(1), is_pdelay_req), 1);
    assert_eq!(log.count(t, end, is_pdelay_req), 3);
    assert!(a.port_status(0).unwrap().as_capable);
}

/// The flags of the request: with computeNeighborRateRatio and computeMeanLinkDelay clear
/// the port keeps its values whatever the exchanges say; set again, it measures afresh.
#[test]
fn signaling_flags_switch_rate_and_delay_computation() {
    let mut a = instance(|p| p);
    let mut peer = Peer::new(2, 40.0);
    let mut log = Log::default();
    run(&mut a, secs(4), &[peer], &mut log);
    let before = a.port_status(0).unwrap();
    let nrr = before.neighbor_rate_ratio.unwrap();
    assert!((nrr - 1.000_04).abs() < 1e-9, "{nrr}");
    let frame = |flags| signaling(NO_CHANGE, NO_CHANGE, NO_CHANGE, flags, PortIdentity::ALL);

    a.handle_frame(0, &frame(IntervalRequestFlags::empty()), secs(4));
    drain(&mut a, secs(4), &[peer], &mut log);
    let s = a.port_status(0).unwrap();
    assert!(!s.compute_neighbor_rate_ratio && !s.compute_mean_link_delay);
    // The neighbour's rate changes by 30 ppm: not followed while computation is off.
    peer.rate = 1.0 + 70e-6;
    peer.offset += Duration::from_nanos(77);
    run(&mut a, secs(12), &[peer], &mut log);
    let s = a.port_status(0).unwrap();
    assert_eq!(s.neighbor_rate_ratio, before.neighbor_rate_ratio);
    assert_eq!(s.mean_link_delay, before.mean_link_delay);
    assert!(s.as_capable);

    // Only the rate ratio again: it follows, the delay stays.
    a.handle_frame(
        0,
        &frame(IntervalRequestFlags::COMPUTE_NEIGHBOR_RATE_RATIO),
        secs(12),
    );
    run(&mut a, secs(14), &[peer], &mut log);
    let s = a.port_status(0).unwrap();
    let nrr = s.neighbor_rate_ratio.unwrap();
    assert!((nrr - peer.rate).abs() < 1e-9, "{nrr}");
    assert_eq!(s.mean_link_delay, before.mean_link_delay);

    // And the delay: measured afresh with the new rate ratio.
    a.handle_frame(0, &frame(BOTH), secs(14));
    run(&mut a, secs(16), &[peer], &mut log);
    let d = a
        .port_status(0)
        .unwrap()
        .mean_link_delay
        .unwrap()
        .nanos_f64();
    assert!((d - 500.0 * peer.rate).abs() < 0.01, "{d}");
}

/// Runs one exchange per second until `end` and returns (nrr error, delay error in ns)
/// after each (NaN while not measured yet).
fn track(a: &mut Instance, from: i64, end: i64, peer: Peer, log: &mut Log) -> Vec<(f64, f64)> {
    (from..=end)
        .map(|s| {
            run(a, secs(s), &[peer], log);
            let st = a.port_status(0).unwrap();
            (
                st.neighbor_rate_ratio.map_or(f64::NAN, |r| r - peer.rate),
                st.mean_link_delay
                    .map_or(f64::NAN, |d| d.nanos_f64() - 500.0 * peer.rate),
            )
        })
        .collect()
}

/// The neighbour steps its clock by 300 µs (its servo's first step): a plausible-looking
/// rate over a window of 8, but 300 ppm between two exchanges. The window restarts, so
/// neighborRateRatio is exact again one exchange later; the mean link delay never moves and
/// asCapable never drops.
#[test]
fn neighbor_rate_ratio_recovers_after_a_step() {
    let mut a = instance(|p| p);
    let mut peer = Peer::new(2, 50.0);
    let mut log = Log::default();
    let settled = track(&mut a, 0, 9, peer, &mut log);
    assert!(settled[9].0.abs() < 1e-9, "{settled:?}");
    peer.offset += Duration::from_micros(300);
    let after = track(&mut a, 10, 18, peer, &mut log);
    println!("{after:?}");
    assert_eq!(a.port_status(0).unwrap().rate_window_restarts, 1);
    for (k, (nrr_err, delay_err)) in after.iter().enumerate() {
        // Exchange 10 restarted the window and kept the old (still right) ratio.
        assert!(nrr_err.abs() < 1e-9, "{k}: nrr off by {nrr_err}");
        assert!(delay_err.abs() < 0.01, "{k}: delay off by {delay_err} ns");
    }
    assert!(!log.events.contains(&Event::AsCapable {
        port: 0,
        capable: false
    }));
    // A step back by 5 ms (a negative rate between two exchanges) also restarts.
    peer.offset -= Duration::from_millis(5);
    let after = track(&mut a, 19, 21, peer, &mut log);
    assert_eq!(a.port_status(0).unwrap().rate_window_restarts, 2);
    assert!(after[2].0.abs() < 1e-9, "{after:?}");
}

/// The neighbour's frequency changes: by 250 ppm (beyond the plausible change) the window
/// restarts and the ratio is right one exchange later; by 20 ppm the window follows within
/// its length.
#[test]
fn neighbor_rate_ratio_recovers_after_a_rate_change() {
    let mut a = instance(|p| p);
    let mut peer = Peer::new(2, 50.0);
    let mut log = Log::default();
    track(&mut a, 0, 9, peer, &mut log);
    // Change the rate just after the exchange at 9 s, keeping the neighbour's clock
    // continuous.
    let at = secs(9) + Duration::from_millis(1);
    let reading = peer.clock(at);
    peer.rate = 1.0 - 200e-6;
    peer.offset = reading - BASE - scale(at - BASE, peer.rate);
    let after = track(&mut a, 10, 11, peer, &mut log);
    assert_eq!(a.port_status(0).unwrap().rate_window_restarts, 1);
    assert!(after[1].0.abs() < 1e-9, "{after:?}");

    let window = PortConfig::default().pdelay_window as i64;
    track(&mut a, 12, 20, peer, &mut log);
    let at = secs(20) + Duration::from_millis(500);
    let reading = peer.clock(at);
    peer.rate = 1.0 - 180e-6;
    peer.offset = reading - BASE - scale(at - BASE, peer.rate);
    let after = track(&mut a, 21, 21 + window, peer, &mut log);
    assert_eq!(a.port_status(0).unwrap().rate_window_restarts, 1);
    // Mixed windows are off by less than the change, and the last one is exact.
    assert!(after[0].0.abs() > 1e-6, "{after:?}");
    assert!(after.iter().all(|(e, _)| e.abs() < 20e-6), "{after:?}");
    assert!(after[after.len() - 1].0.abs() < 1e-9, "{after:?}");
}

/// One exchange whose response is held up 15 µs (software timestamps: a preempted kernel
/// path) leaves the mean link delay alone: it is the median of the window, not the mean.
#[test]
fn one_late_response_does_not_move_the_link_delay() {
    let mut a = instance(|p| p);
    let peer = Peer::new(2, 50.0);
    let mut log = Log::default();
    let settled = track(&mut a, 0, 9, peer, &mut log);
    assert!(settled[9].1.abs() < 0.01, "{settled:?}");
    let late = Peer {
        late: Duration::from_micros(15),
        ..peer
    };
    let after = track(&mut a, 10, 10, late, &mut log);
    let after_more = track(&mut a, 11, 14, peer, &mut log);
    for (k, (_, delay_err)) in after.iter().chain(&after_more).enumerate() {
        assert!(delay_err.abs() < 1.0, "{k}: delay off by {delay_err} ns");
    }
    assert_eq!(a.port_status(0).unwrap().rate_window_restarts, 0);
}
