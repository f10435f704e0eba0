//! tshark as the wire oracle for what the core really emits in operation.
//!
//! A grandmaster, a time-aware relay and an end station run on the simulator with both
//! links captured to pcap; the end station sends a Signaling message interval request part
//! way. Every message type the core emits must be there (Sync, Follow_Up with the Follow_Up
//! information TLV, Pdelay_Req, Pdelay_Resp, Pdelay_Resp_Follow_Up, Announce with the path
//! trace TLV, Signaling with the message interval request TLV) and tshark must find no
//! malformed packet and no expert error or warning.
//!
//! Without tshark the test prints a note and passes, unless `TSN_REAL_TESTS=1`, where it
//! fails (as `gptp/core/tests/tshark.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use gptp::sim::{GptpNode, ScenarioConfig, build};
use gptp_core::wire::{IntervalRequestFlags, MessageIntervalRequest};
use tsn_netsim::CapturePoint;
use tsn_testbed::{tshark, tshark_available, tshark_problems};
use tsn_time::Duration;

#[test]
fn simulated_traffic_dissects_cleanly_in_tshark() {
    if !tshark_available("the tshark check of simulated traffic") {
        return;
    }
    let mut net = build(&ScenarioConfig {
        hops: 2,
        ..ScenarioConfig::default()
    });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let paths: Vec<_> = (0..net.links.len())
        .map(|i| dir.join(format!("gptp-sim-link{i}.pcap")))
        .collect();
    for (link, path) in net.links.clone().into_iter().zip(&paths) {
        net.sim
            .capture_link_to_file(link, CapturePoint::Transmit, path)
            .expect("capture file");
    }
    net.sim.run_for(Duration::from_secs(4));
    // The end station asks its relay for Sync every 250 ms, everything else unchanged.
    let slave = *net.ids.last().expect("nodes");
    net.sim
        .with_node::<GptpNode, _>(slave, |n, ctx| {
            n.request_intervals(
                ctx,
                0,
                MessageIntervalRequest {
                    link_delay_interval: MessageIntervalRequest::INTERVAL_NO_CHANGE,
                    time_sync_interval: -2,
                    announce_interval: MessageIntervalRequest::INTERVAL_NO_CHANGE,
                    flags: IntervalRequestFlags::COMPUTE_NEIGHBOR_RATE_RATIO
                        .with(IntervalRequestFlags::COMPUTE_MEAN_LINK_DELAY),
                },
            );
        })
        .expect("slave runs");
    net.sim.run_for(Duration::from_secs(2));
    net.sim.finish_captures().expect("captures written");

    // messageType -> frames, over both links.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for path in &paths {
        let bad = tshark_problems(path);
        let path = path.to_str().expect("utf-8 path");
        assert!(bad.is_empty(), "{path}: {bad:#?}");

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
            "ptp.as.fu.cumulativeScaledRateOffset",
            "-e",
            "ptp.v2.an.pathsequence",
            "-e",
            "ptp.as.sig.tlv.timesyncinterval",
        ]);
        for line in fields.lines() {
            let cols: Vec<&str> = line.split(';').collect();
            assert_eq!(cols.len(), 5, "{line}");
            assert_eq!(cols[0], "0x01", "majorSdoId: {line}");
            // The TLVs each type must carry, as tshark decodes them.
            match cols[1] {
                "0x08" => assert!(!cols[2].is_empty(), "Follow_Up without its TLV: {line}"),
                "0x0b" => assert!(!cols[3].is_empty(), "Announce without path trace: {line}"),
                "0x0c" => assert_eq!(cols[4], "-2", "Signaling interval: {line}"),
                _ => {}
            }
            *seen.entry(cols[1].to_owned()).or_default() += 1;
        }
    }
    println!("{seen:?}");
    for (code, name) in [
        ("0x00", "Sync"),
        ("0x08", "Follow_Up"),
        ("0x02", "Pdelay_Req"),
        ("0x03", "Pdelay_Resp"),
        ("0x0a", "Pdelay_Resp_Follow_Up"),
        ("0x0b", "Announce"),
        ("0x0c", "Signaling"),
    ] {
        assert!(
            seen.get(code).is_some_and(|&n| n > 0),
            "no {name} in {seen:?}"
        );
    }
    // Every Sync had its Follow_Up, and the relay took the request.
    assert_eq!(seen["0x00"], seen["0x08"]);
    let relay = net.sim.node::<GptpNode>(net.ids[1]).expect("relay");
    let status = relay.core.port_status(1).expect("port 1");
    assert_eq!(status.log_sync_interval, Some(-2));
}
