//! Per-message cost of the gPTP core, without the simulator:
//!
//! - `slave_sync_follow_up`: a slave [`Instance`] handling one Sync + its Follow_Up (parse,
//!   match, offset, PI servo sample, the resulting `AdjustFrequency` action);
//! - `relay_sync_follow_up`: a two-port relay handling one Sync + Follow_Up on its slave port
//!   (servo sample included) and producing its downstream Sync, then taking that Sync's
//!   transmit timestamp and producing the downstream Follow_Up.
//!
//! One iteration is one Sync/Follow_Up pair (two received messages); divide by two for a
//! per-message figure. The instances are brought into the slave/relay role first by a tiny
//! in-memory network (ideal clocks, 100 ns links); the received frames are built before the
//! timing loop, so only the core's work is measured.
//!
//! `chain4_1s_simulated` keeps the whole-system figure: one simulated second of a 4-hop chain.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gptp::sim::{ScenarioConfig, run};
use gptp_core::wire::{
    Body, ClockIdentity, Flags, FollowUpBody, FollowUpInfo, HeaderRepr, Message, PortIdentity,
    SyncBody, Tlv,
};
use gptp_core::{Action, Instance, InstanceConfig, PortRole};
use tsn_time::{Duration, PtpTimestamp, Time, TimeInterval};

const LINK: Duration = Duration::from_nanos(100);
const SYNC_INTERVAL: Duration = Duration::from_millis(125);

fn id(n: u8) -> ClockIdentity {
    ClockIdentity::from_mac([2, 0, 0, 0, 0, n])
}

/// A link: (node, port) to (node, port).
type Link = ((usize, usize), (usize, usize));

/// Runs `nodes` connected by `links` ((node, port), (node, port)) for `secs` seconds of
/// ideal time: every clock reads the same, frames take [`LINK`], transmit timestamps are
/// the send time. Returns the end time.
fn settle(nodes: &mut [Instance], links: &[Link], secs: i64) -> Time {
    let start = Time::from_secs_nanos(1_700_000_000, 0);
    let end = start + Duration::from_secs(secs);
    let mut now = start;
    while let Some(next) = nodes.iter().filter_map(Instance::poll_timeout).min() {
        now = now.max(next);
        if now > end {
            break;
        }
        for n in nodes.iter_mut() {
            if n.poll_timeout().is_some_and(|t| t <= now) {
                n.handle_timer(now);
            }
        }
        // Deliver until quiet; everything sent at `now` arrives at `now + LINK`.
        loop {
            let mut sends = Vec::new();
            for (i, n) in nodes.iter_mut().enumerate() {
                while let Some(a) = n.poll_action() {
                    if let Action::Send { port, data, token } = a {
                        sends.push((i, port, data, token));
                    }
                }
            }
            if sends.is_empty() {
                break;
            }
            for (i, port, data, token) in sends {
                if let Some(tok) = token {
                    nodes[i].handle_tx_timestamp(port, tok, now);
                }
                for &(a, b) in links {
                    let peer = if a == (i, port) {
                        b
                    } else if b == (i, port) {
                        a
                    } else {
                        continue;
                    };
                    nodes[peer.0].handle_frame(peer.1, &data, now + LINK);
                }
            }
        }
    }
    end
}

/// `n` Sync/Follow_Up pairs from an upstream master, one sync interval apart from `after`,
/// with zero offset against an ideal local clock: (Sync bytes, Follow_Up bytes, rx time).
fn pairs(after: Time, n: usize) -> Vec<(Vec<u8>, Vec<u8>, Time)> {
    let source = PortIdentity {
        clock_identity: id(1),
        port_number: 1,
    };
    (0..n)
        .map(|k| {
            let rx = after + SYNC_INTERVAL * (k as i64 + 1);
            let header = HeaderRepr {
                minor_version_ptp: 1,
                source_port_identity: source,
                sequence_id: k as u16,
                log_message_interval: -3,
                flags: Flags::TWO_STEP | Flags::PTP_TIMESCALE,
                ..HeaderRepr::default()
            };
            let sync = Message {
                header,
                body: Body::Sync(SyncBody::default()),
                tlvs: Vec::new(),
            };
            let origin =
                PtpTimestamp::from_time(rx - LINK - Duration::from_nanos(2_000)).expect("in range");
            let fup = Message {
                header: HeaderRepr {
                    flags: Flags::PTP_TIMESCALE,
                    correction_field: TimeInterval::from_duration(Duration::from_nanos(2_000)),
                    ..header
                },
                body: Body::FollowUp(FollowUpBody {
                    precise_origin_timestamp: origin,
                }),
                tlvs: vec![Tlv::FollowUpInfo(FollowUpInfo::default())],
            };
            (
                sync.to_vec().expect("emit"),
                fup.to_vec().expect("emit"),
                rx,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    // GM (port 0) -- (port 0) relay (port 1) -- (port 0) end station.
    let mut nodes = vec![
        Instance::new(InstanceConfig::new(id(1), 1).with_priority1(246)),
        Instance::new(InstanceConfig::new(id(2), 2)),
        Instance::new(InstanceConfig::new(id(3), 1)),
    ];
    let end = settle(&mut nodes, &[((0, 0), (1, 0)), ((1, 1), (2, 0))], 4);
    let mut slave = nodes.pop().expect("slave");
    let mut relay = nodes.pop().expect("relay");
    assert_eq!(slave.port_status(0).map(|s| s.role), Some(PortRole::Slave));
    assert_eq!(relay.port_status(0).map(|s| s.role), Some(PortRole::Slave));
    assert_eq!(relay.port_status(1).map(|s| s.role), Some(PortRole::Master));
    let frames = pairs(end, 1024);

    let mut g = c.benchmark_group("per_sync_follow_up_pair");
    let mut k = 0;
    g.bench_function("slave_sync_follow_up", |b| {
        b.iter(|| {
            let (sync, fup, rx) = &frames[k % frames.len()];
            k += 1;
            slave.handle_frame(0, black_box(sync), *rx);
            slave.handle_frame(0, black_box(fup), *rx + Duration::from_micros(20));
            let mut n = 0;
            while let Some(a) = slave.poll_action() {
                n += 1;
                let _ = black_box(a);
            }
            n
        });
    });
    assert!(slave.counters().syncs_received > 0);

    let mut k = 0;
    g.bench_function("relay_sync_follow_up", |b| {
        b.iter(|| {
            let (sync, fup, rx) = &frames[k % frames.len()];
            k += 1;
            relay.handle_frame(0, black_box(sync), *rx);
            relay.handle_frame(0, black_box(fup), *rx + Duration::from_micros(20));
            let mut token = None;
            while let Some(a) = relay.poll_action() {
                if let Action::Send {
                    port: 1,
                    token: t @ Some(_),
                    ..
                } = a
                {
                    token = t;
                } else {
                    let _ = black_box(a);
                }
            }
            let tok = token.expect("downstream Sync");
            relay.handle_tx_timestamp(1, tok, *rx + Duration::from_micros(25));
            while let Some(a) = relay.poll_action() {
                let _ = black_box(a);
            }
        });
    });
    assert!(relay.counters().syncs_sent > 0);
    assert_eq!(relay.counters().unknown_tokens, 0);
    g.finish();

    // A whole simulated second of a 4-hop chain: every message of 5 cores plus the simulator.
    c.bench_function("chain4_1s_simulated", |b| {
        b.iter(|| {
            run(&ScenarioConfig {
                hops: 4,
                seconds: 1.0,
                ..ScenarioConfig::default()
            })
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
