//! tshark as the wire oracle: frames we emit must dissect cleanly.
//!
//! Emits one message of each 802.1AS type (with their TLVs, non-zero values in every field
//! tshark shows) as Ethernet frames to 01-80-C2-00-00-0E, writes a pcap and checks that
//! `tshark -V` shows no malformed packet and no expert error or warning, that
//! `tshark -z expert` agrees, and that tshark reads back the type and key fields of each
//! message. A negative control (a truncated Follow_Up) proves the checks can fail.
//!
//! Without tshark the test prints a note and passes, unless `TSN_REAL_TESTS=1`, where it
//! fails.

use std::path::{Path, PathBuf};

use gptp_core::wire::{
    AnnounceBody, Body, ClockAccuracy, ClockIdentity, ClockQuality, Flags, FollowUpBody,
    FollowUpInfo, HeaderRepr, IntervalRequestFlags, Message, MessageIntervalRequest,
    PdelayRespBody, PdelayRespFollowUpBody, PortIdentity, SignalingBody, SyncBody, TimeSource, Tlv,
};
use tsn_testbed::{tshark, tshark_available, tshark_problems};
use tsn_time::{Duration, PtpTimestamp, ScaledNs, TimeInterval};
use tsn_wire::pcap::PcapWriter;

const DST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
const SRC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
const PEER: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x02];

fn port(mac: [u8; 6]) -> PortIdentity {
    PortIdentity {
        clock_identity: ClockIdentity::from_mac(mac),
        port_number: 1,
    }
}

fn header(seq: u16, flags: Flags, log_interval: i8) -> HeaderRepr {
    HeaderRepr {
        flags,
        source_port_identity: port(SRC),
        sequence_id: seq,
        log_message_interval: log_interval,
        ..HeaderRepr::default()
    }
}

fn ts(seconds: u64, nanoseconds: u32) -> PtpTimestamp {
    PtpTimestamp {
        seconds,
        nanoseconds,
    }
}

/// One message of each type, with the name tshark gives it and its messageType code.
fn messages() -> Vec<(&'static str, u8, Message)> {
    let follow_up_info = FollowUpInfo {
        // About +10 ppb. Positive on purpose: tshark 4.0 shows this Integer32 as unsigned.
        cumulative_scaled_rate_offset: 21_990,
        gm_time_base_indicator: 3,
        last_gm_phase_change: ScaledNs::from_duration(Duration::from_nanos(-1_500)),
        scaled_last_gm_freq_change: 2_199,
    };
    vec![
        (
            "Sync",
            0x0,
            Message {
                header: header(100, Flags::TWO_STEP | Flags::PTP_TIMESCALE, -3),
                body: Body::Sync(SyncBody::default()),
                tlvs: vec![],
            },
        ),
        (
            "Follow_Up",
            0x8,
            Message {
                header: HeaderRepr {
                    // 1234.5 ns of residence and link delay, linuxptp 4.x minor version.
                    correction_field: TimeInterval::from_duration(Duration::from_nanos_f64(1234.5)),
                    minor_version_ptp: 1,
                    ..header(100, Flags::PTP_TIMESCALE, -3)
                },
                body: Body::FollowUp(FollowUpBody {
                    precise_origin_timestamp: ts(1_795_251_541, 254_364_589),
                }),
                tlvs: vec![Tlv::FollowUpInfo(follow_up_info)],
            },
        ),
        (
            "Peer_Delay_Req",
            0x2,
            Message {
                header: header(7, Flags::empty(), 0),
                body: Body::PdelayReq,
                tlvs: vec![],
            },
        ),
        (
            "Peer_Delay_Resp",
            0x3,
            Message {
                header: header(7, Flags::TWO_STEP, 127),
                body: Body::PdelayResp(PdelayRespBody {
                    request_receipt_timestamp: ts(1_795_251_538, 475_715_836),
                    requesting_port_identity: port(PEER),
                }),
                tlvs: vec![],
            },
        ),
        (
            "Peer_Delay_Resp_Follow_Up",
            0xa,
            Message {
                header: header(7, Flags::empty(), 127),
                body: Body::PdelayRespFollowUp(PdelayRespFollowUpBody {
                    response_origin_timestamp: ts(1_795_251_538, 475_845_089),
                    requesting_port_identity: port(PEER),
                }),
                tlvs: vec![],
            },
        ),
        (
            "Announce",
            0xb,
            Message {
                header: header(3, Flags::PTP_TIMESCALE | Flags::CURRENT_UTC_OFFSET_VALID, 0),
                body: Body::Announce(AnnounceBody {
                    current_utc_offset: 37,
                    priority_1: 246,
                    grandmaster_clock_quality: ClockQuality {
                        clock_class: 248,
                        clock_accuracy: ClockAccuracy::UNKNOWN,
                        offset_scaled_log_variance: 0x436a,
                    },
                    priority_2: 248,
                    grandmaster_identity: ClockIdentity::from_mac(PEER),
                    steps_removed: 1,
                    time_source: TimeSource::InternalOscillator,
                }),
                tlvs: vec![Tlv::PathTrace(vec![
                    ClockIdentity::from_mac(PEER),
                    ClockIdentity::from_mac(SRC),
                ])],
            },
        ),
        (
            "Signalling",
            0xc,
            Message {
                header: header(9, Flags::empty(), 127),
                body: Body::Signaling(SignalingBody {
                    target_port_identity: PortIdentity::ALL,
                }),
                tlvs: vec![Tlv::MessageIntervalRequest(MessageIntervalRequest {
                    link_delay_interval: MessageIntervalRequest::INTERVAL_NO_CHANGE,
                    time_sync_interval: -3,
                    announce_interval: 0,
                    flags: IntervalRequestFlags::COMPUTE_NEIGHBOR_RATE_RATIO
                        | IntervalRequestFlags::COMPUTE_MEAN_LINK_DELAY,
                })],
            },
        ),
    ]
}

fn frame(message: &Message) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + message.buffer_len());
    f.extend_from_slice(&DST);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&[0x88, 0xf7]);
    f.extend_from_slice(&message.to_vec().expect("emit"));
    f
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f)
            .unwrap();
    }
    std::fs::write(path, w.into_inner()).unwrap();
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

#[test]
fn emitted_frames_dissect_cleanly_in_tshark() {
    if !tshark_available("the tshark check of emitted frames") {
        return;
    }
    let messages = messages();
    let path = tmp("gptp-core-emitted.pcap");
    write_pcap(
        &path,
        &messages
            .iter()
            .map(|(_, _, m)| frame(m))
            .collect::<Vec<_>>(),
    );
    let path = path.to_str().unwrap();

    let problems = tshark_problems(Path::new(path));
    assert!(
        problems.is_empty(),
        "tshark found problems in {path}:\n{problems:#?}"
    );

    // Each frame is recognised as the message type we meant, with our field values.
    let fields = tshark(&[
        "-r",
        path,
        "-T",
        "fields",
        "-E",
        "separator=;",
        "-e",
        "ptp.v2.majorsdoid",
        "-e",
        "ptp.v2.messagetype",
        "-e",
        "ptp.v2.sequenceid",
        "-e",
        "ptp.v2.messagelength",
        "-e",
        "_ws.col.Info",
    ]);
    let lines: Vec<&str> = fields.lines().collect();
    assert_eq!(lines.len(), messages.len());
    for (line, (name, code, m)) in lines.iter().zip(&messages) {
        let cols: Vec<&str> = line.split(';').collect();
        assert_eq!(cols[0], "0x01", "majorSdoId: {line}");
        assert_eq!(cols[1], format!("0x{code:02x}"), "messageType: {line}");
        assert_eq!(cols[2], m.header.sequence_id.to_string(), "{line}");
        assert_eq!(cols[3], m.buffer_len().to_string(), "{line}");
        assert!(
            cols[4].contains(name),
            "tshark calls it {:?}, expected {name}",
            cols[4]
        );
    }

    // The TLVs decode to our values.
    let tlv_fields = tshark(&[
        "-r",
        path,
        "-T",
        "fields",
        "-E",
        "separator=;",
        "-E",
        "aggregator=,",
        "-e",
        "ptp.as.fu.cumulativeScaledRateOffset",
        "-e",
        "ptp.as.fu.gmTimeBaseIndicator",
        "-e",
        "ptp.as.fu.scaledLastGmFreqChange",
        "-e",
        "ptp.v2.an.pathsequence",
        "-e",
        "ptp.as.sig.tlv.linkdelayinterval",
        "-e",
        "ptp.as.sig.tlv.timesyncinterval",
        "-e",
        "ptp.v2.correction.ns",
    ]);
    let lines: Vec<&str> = tlv_fields.lines().collect();
    assert_eq!(lines[1], "21990;3;2199;;;;1234", "Follow_Up");
    assert_eq!(
        lines[5], ";;;0x02005efffe100002,0x02005efffe100001;;;0",
        "Announce"
    );
    assert_eq!(lines[6], ";;;;-128;-3;0", "Signaling");
}

/// The checks above must be able to fail: a Follow_Up cut short inside its TLV is flagged.
#[test]
fn tshark_check_catches_a_malformed_frame() {
    if !tshark_available("the tshark check of emitted frames") {
        return;
    }
    let (_, _, follow_up) = messages().swap_remove(1);
    let mut broken = frame(&follow_up);
    broken.truncate(broken.len() - 10);
    let path = tmp("gptp-core-negative-control.pcap");
    write_pcap(&path, &[broken]);
    let problems = tshark_problems(&path);
    assert!(
        !problems.is_empty(),
        "tshark did not flag a truncated Follow_Up"
    );
}
