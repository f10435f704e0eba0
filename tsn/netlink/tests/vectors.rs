//! Byte-exact tests against the requests iproute2's `tc` sends (`vectors/captures.txt`,
//! written by `vectors/capture.sh`): we build the same qdisc from its description, emit it
//! and compare every byte, and parse the captured bytes back to the same value.

use proptest::prelude::*;
use tsn_netlink::{
    CLOCK_TAI, CbsOptions, Command, EtfOptions, MqprioOptions, MqprioQopt, NLMSG_HDRLEN, Qdisc,
    QdiscOptions, Sched, SchedEntry, TC_H_ROOT, TaprioOptions, TcEntry, etf_flags, handle, mode,
    taprio_flags,
};

const CAPTURES: &str = include_str!("vectors/captures.txt");

/// (name, tc command, bytes) of every capture.
fn captures() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut name = String::new();
    let mut cmd = String::new();
    for line in CAPTURES.lines() {
        if let Some(n) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name = n.to_owned();
        } else if let Some(c) = line.strip_prefix("cmd = ") {
            cmd = c.to_owned();
        } else if let Some(h) = line.strip_prefix("hex = ") {
            let bytes = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            out.push((name.clone(), cmd.clone(), bytes));
        }
    }
    assert_eq!(out.len(), 10, "captures.txt has every case");
    out
}

fn capture(name: &str) -> Vec<u8> {
    captures()
        .into_iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no capture {name}"))
        .2
}

fn map(m: [u8; 16], queues: &[(u16, u16)]) -> MqprioQopt {
    MqprioQopt::new(m, queues).unwrap()
}

const MAP_3TC: [u8; 16] = [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
const MAP_2TC: [u8; 16] = [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
const LO: i32 = 1;

fn taprio_root(o: TaprioOptions) -> Qdisc {
    Qdisc::new(LO, TC_H_ROOT, handle(0x100, 0), QdiscOptions::Taprio(o))
}

/// The qdisc each capture's command line describes, built by hand.
fn expected(name: &str) -> Vec<u8> {
    let q = match name {
        "taprio-software" => taprio_root(TaprioOptions {
            priomap: Some(map(MAP_3TC, &[(1, 0), (1, 1), (2, 2)])),
            clockid: Some(CLOCK_TAI),
            sched: Sched {
                base_time: Some(1_000_000_000),
                entries: vec![
                    SchedEntry::set_gates(0x1, 300_000),
                    SchedEntry::set_gates(0x2, 300_000),
                    SchedEntry::set_gates(0x4, 400_000),
                ],
                ..Sched::default()
            },
            ..TaprioOptions::default()
        }),
        "taprio-txtime-assist" => taprio_root(TaprioOptions {
            priomap: Some(map(MAP_2TC, &[(1, 0), (1, 1)])),
            clockid: Some(CLOCK_TAI),
            flags: Some(taprio_flags::TXTIME_ASSIST),
            txtime_delay: Some(200_000),
            sched: Sched {
                base_time: None, // `base-time 0` is not sent
                cycle_time: Some(200_000),
                cycle_time_extension: Some(10_000),
                entries: vec![
                    SchedEntry::set_gates(0x1, 100_000),
                    SchedEntry::set_gates(0x2, 100_000),
                ],
            },
            ..TaprioOptions::default()
        }),
        "taprio-full-offload" => taprio_root(TaprioOptions {
            priomap: Some(map(MAP_2TC, &[(1, 0), (1, 1)])),
            flags: Some(taprio_flags::FULL_OFFLOAD),
            sched: Sched {
                entries: vec![
                    SchedEntry::set_gates(0x1, 100_000),
                    SchedEntry::set_gates(0x2, 100_000),
                ],
                ..Sched::default()
            },
            ..TaprioOptions::default()
        }),
        "taprio-change-schedule-only" => Qdisc::new(
            LO,
            TC_H_ROOT,
            0,
            QdiscOptions::Taprio(TaprioOptions {
                sched: Sched {
                    base_time: Some(5),
                    entries: vec![SchedEntry::set_gates(0x3, 50_000)],
                    ..Sched::default()
                },
                ..TaprioOptions::default()
            }),
        ),
        "mqprio-software" => Qdisc::new(
            LO,
            TC_H_ROOT,
            handle(0x100, 0),
            QdiscOptions::Mqprio(MqprioOptions::new(map(MAP_3TC, &[(1, 0), (1, 1), (2, 2)]))),
        ),
        "mqprio-channel-shaper" => {
            let mut qopt = map(
                [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                &[(1, 0), (1, 1)],
            );
            qopt.hw = 1;
            // tc sends all 16 rate slots; Mbit -> bytes/s.
            let mut min = vec![0u64; 16];
            min[..2].copy_from_slice(&[125_000, 250_000]);
            let mut max = vec![0u64; 16];
            max[..2].copy_from_slice(&[625_000, 1_250_000]);
            let mut o = MqprioOptions::new(qopt);
            o.mode = Some(mode::CHANNEL);
            o.shaper = Some(1);
            o.min_rate = Some(min);
            o.max_rate = Some(max);
            Qdisc::new(LO, TC_H_ROOT, handle(0x100, 0), QdiscOptions::Mqprio(o))
        }
        "etf-all-flags" => Qdisc::new(
            LO,
            handle(0x100, 1),
            0,
            QdiscOptions::Etf(EtfOptions {
                delta_ns: 300_000,
                clockid: CLOCK_TAI,
                flags: etf_flags::OFFLOAD | etf_flags::DEADLINE_MODE | etf_flags::SKIP_SOCK_CHECK,
                unknown: Vec::new(),
            }),
        ),
        "etf-plain" => Qdisc::new(
            LO,
            handle(0x100, 2),
            0,
            QdiscOptions::Etf(EtfOptions {
                delta_ns: 200_000,
                clockid: CLOCK_TAI,
                flags: 0,
                unknown: Vec::new(),
            }),
        ),
        "cbs-software" => Qdisc::new(
            LO,
            handle(0x100, 4),
            0,
            QdiscOptions::Cbs(CbsOptions {
                offload: 0,
                hicredit: 153,
                locredit: -1389,
                idleslope: 98_688,
                sendslope: -901_312,
                unknown: Vec::new(),
            }),
        ),
        "qdisc-delete-root" => return Qdisc::delete_message(LO, TC_H_ROOT, 0, 0).unwrap(),
        other => panic!("no expectation for {other}"),
    };
    q.replace_message(0).unwrap()
}

#[test]
fn we_emit_what_tc_sends() {
    for (name, cmd, bytes) in captures() {
        let ours = expected(&name);
        assert_eq!(
            hex(&ours),
            hex(&bytes),
            "{name}: `{cmd}` differs (ours first)"
        );
    }
}

#[test]
fn captured_requests_parse_and_reemit_identically() {
    for (name, _, bytes) in captures() {
        let q = Qdisc::parse(&bytes[NLMSG_HDRLEN..]).unwrap();
        let ty = u16::from_ne_bytes([bytes[4], bytes[5]]);
        let flags = u16::from_ne_bytes([bytes[6], bytes[7]]);
        assert_eq!(q.to_message(ty, flags, 0).unwrap(), bytes, "{name}");
    }
}

#[test]
fn parsed_taprio_has_the_commands_values() {
    let bytes = capture("taprio-txtime-assist");
    let q = Qdisc::parse(&bytes[NLMSG_HDRLEN..]).unwrap();
    let t = q.taprio().unwrap();
    assert_eq!(t.flags, Some(taprio_flags::TXTIME_ASSIST));
    assert_eq!(t.txtime_delay, Some(200_000));
    assert_eq!(t.sched.cycle_time_extension, Some(10_000));
    assert_eq!(t.priomap.as_ref().unwrap().queues(), [(1, 0), (1, 1)]);
    assert_eq!(t.sched.entries[1].gate_mask, 2);
}

/// Every prefix of every capture, and every byte flipped: no panic, and truncation inside
/// the options is an error rather than a silently shorter qdisc.
#[test]
fn hostile_bytes_never_panic() {
    for (name, _, bytes) in captures() {
        let payload = &bytes[NLMSG_HDRLEN..];
        for n in 0..payload.len() {
            let _ = Qdisc::parse(&payload[..n]);
        }
        for i in 0..payload.len() {
            let mut b = payload.to_vec();
            b[i] ^= 0xff;
            if let Ok(q) = Qdisc::parse(&b) {
                let _ = q.replace_message(0);
            }
        }
        if name.starts_with("taprio-software") {
            // Cut inside the entry list: the nest length then exceeds the data.
            assert!(Qdisc::parse(&payload[..payload.len() - 4]).is_err());
        }
    }
}

/// H and R commands and per-class max SDU: tc 6.1 cannot send them (no capture); their layout
/// is the S entry's with another command byte, and a nested TC_ENTRY (index, max SDU) before
/// the entry list, as in iproute2 >= 6.2.
#[test]
fn hold_release_and_max_sdu_layout() {
    let o = TaprioOptions {
        clockid: Some(CLOCK_TAI),
        sched: Sched {
            entries: vec![
                SchedEntry {
                    cmd: Command::SetAndHold,
                    ..SchedEntry::set_gates(1, 1000)
                },
                SchedEntry {
                    cmd: Command::SetAndRelease,
                    ..SchedEntry::set_gates(2, 1000)
                },
            ],
            ..Sched::default()
        },
        tc_entries: vec![TcEntry {
            index: 1,
            max_sdu: Some(200),
            fp: None,
            unknown: Vec::new(),
        }],
        ..TaprioOptions::default()
    };
    let msg = taprio_root(o.clone()).replace_message(0).unwrap();
    let opts = &msg[NLMSG_HDRLEN + 20 + 12..];
    #[rustfmt::skip]
    let want: &[u8] = &[
        0x5c, 0, 2, 0,                      // TCA_OPTIONS, 92 bytes
        8, 0, 5, 0, 11, 0, 0, 0,            // CLOCKID = CLOCK_TAI
        20, 0, 12, 0x80,                    // TC_ENTRY | NLA_F_NESTED
        8, 0, 1, 0, 1, 0, 0, 0,             //   INDEX 1
        8, 0, 2, 0, 200, 0, 0, 0,           //   MAX_SDU 200
        0x3c, 0, 2, 0x80,                   // SCHED_ENTRY_LIST | NLA_F_NESTED
        0x1c, 0, 1, 0,                      //   SCHED_ENTRY (no nested flag)
        5, 0, 2, 0, 1, 0, 0, 0,             //     CMD H (padded)
        8, 0, 3, 0, 1, 0, 0, 0,             //     GATE_MASK
        8, 0, 4, 0, 0xe8, 3, 0, 0,          //     INTERVAL 1000
        0x1c, 0, 1, 0,
        5, 0, 2, 0, 2, 0, 0, 0,             //     CMD R
        8, 0, 3, 0, 2, 0, 0, 0,
        8, 0, 4, 0, 0xe8, 3, 0, 0,
    ];
    assert_eq!(hex(opts), hex(want));
    let back = Qdisc::parse(&msg[NLMSG_HDRLEN..]).unwrap();
    assert_eq!(back.taprio(), Some(&o));
}

#[test]
fn two_thousand_entries_encode_and_parse_but_oversize_is_an_error() {
    let entries: Vec<SchedEntry> = (0..2000)
        .map(|i| SchedEntry::set_gates(1 << (i % 8), 10_000))
        .collect();
    let o = TaprioOptions {
        clockid: Some(CLOCK_TAI),
        sched: Sched {
            entries,
            ..Sched::default()
        },
        ..TaprioOptions::default()
    };
    let msg = taprio_root(o.clone()).replace_message(7).unwrap();
    assert_eq!(
        Qdisc::parse(&msg[NLMSG_HDRLEN..]).unwrap().taprio(),
        Some(&o)
    );
    let mut big = o;
    big.sched.entries = vec![SchedEntry::set_gates(1, 1); 2400];
    assert!(taprio_root(big).replace_message(7).is_err());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

proptest! {
    #[test]
    fn taprio_round_trips(
        num_tc in 1u8..=8,
        prio in proptest::array::uniform16(0u8..8),
        clockid in proptest::option::of(any::<i32>()),
        flags in proptest::option::of(0u32..4),
        delay in proptest::option::of(any::<u32>()),
        base in proptest::option::of(any::<i64>()),
        cycle in proptest::option::of(any::<i64>()),
        ext in proptest::option::of(any::<i64>()),
        entries in proptest::collection::vec((0u8..4, any::<u32>(), any::<u32>()), 0..50),
        sdu in proptest::collection::vec(any::<u32>(), 0..8),
    ) {
        let queues: Vec<(u16, u16)> = (0..u16::from(num_tc)).map(|i| (1, i)).collect();
        let o = TaprioOptions {
            priomap: Some(MqprioQopt::new(prio, &queues).unwrap()),
            clockid,
            flags,
            txtime_delay: delay,
            sched: Sched {
                base_time: base,
                cycle_time: cycle,
                cycle_time_extension: ext,
                entries: entries.iter().map(|&(c, m, i)| SchedEntry {
                    cmd: c.into(),
                    ..SchedEntry::set_gates(m, i)
                }).collect(),
            },
            admin: None,
            tc_entries: sdu.iter().enumerate().map(|(i, &s)| TcEntry {
                index: i as u32, max_sdu: Some(s), fp: None, unknown: Vec::new(),
            }).collect(),
            unknown: Vec::new(),
        };
        let msg = taprio_root(o.clone()).replace_message(1).unwrap();
        let back = Qdisc::parse(&msg[NLMSG_HDRLEN..]).unwrap();
        prop_assert_eq!(back.taprio(), Some(&o));
    }
}
