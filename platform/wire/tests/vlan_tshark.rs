//! Cross-check of hand-built tagged frames against Wireshark's dissector: write them with
//! `PcapWriter`, decode with `tshark`, compare PCP/DEI/VID and the inner type.
//!
//! Skips (with a message) when tshark is not installed, unless `TSN_REAL_TESTS=1`, which turns
//! a missing tshark into a failure.

use std::process::Command;

use tsn_wire::pcap::{PcapWriter, read_pcap};
use tsn_wire::{
    EtherType, EthernetFrame, EthernetRepr, LlcRepr, MacAddress, PayloadType, VlanRepr, VlanTags,
};

fn tshark_available() -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("TSN_REAL_TESTS").as_deref() != Ok("1"),
            "tshark not found and TSN_REAL_TESTS=1"
        );
        println!("SKIPPED: tshark not found (set TSN_REAL_TESTS=1 to make this a failure)");
    }
    found
}

/// Builds the test frames: a C-tagged gPTP frame and a Q-in-Q tagged IS-IS frame.
fn frames() -> Vec<(EthernetRepr, Vec<u8>)> {
    let src = MacAddress([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    let gptp = EthernetRepr {
        dst: MacAddress::GPTP,
        src,
        vlan: VlanTags::Single(VlanRepr::new(5, true, 100).unwrap()),
        payload_type: PayloadType::EtherType(EtherType::Ptp),
    };
    let isis = EthernetRepr {
        dst: MacAddress::ALL_L1_ISS,
        src,
        vlan: VlanTags::Double {
            outer: VlanRepr::new(3, false, 4000).unwrap().s_tag(),
            inner: VlanRepr::new(7, true, 42).unwrap(),
        },
        payload_type: PayloadType::Llc(LlcRepr::ISIS),
    };
    // gPTP Pdelay_Req header stub and an IS-IS PDU stub; only the L2 header matters here.
    let mut ptp = [0u8; 54];
    ptp[0] = 0x12;
    ptp[1] = 0x02;
    ptp[3] = 54;
    let isis_pdu = [0x83, 0x1b, 0x01, 0x00, 0x0f, 0x01, 0x00, 0x00];
    [(gptp, &ptp[..]), (isis, &isis_pdu[..])]
        .into_iter()
        .map(|(repr, payload)| {
            let mut buf = vec![0xa5; repr.buffer_len(payload.len())];
            repr.emit_frame(payload, &mut buf).unwrap();
            (repr, buf)
        })
        .collect()
}

#[test]
fn tagged_frames_byte_exact() {
    let f = frames();
    #[rustfmt::skip]
    let gptp_header = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x81, 0x00,   // C-tag
        0xb0, 0x64,   // PCP 5 (101), DEI 1, VID 100 (0x064)
        0x88, 0xf7,
    ];
    assert_eq!(f[0].1[..18], gptp_header);
    #[rustfmt::skip]
    let isis_header = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x88, 0xa8,   // S-tag
        0x6f, 0xa0,   // PCP 3 (011), DEI 0, VID 4000 (0xfa0)
        0x81, 0x00,   // C-tag
        0xf0, 0x2a,   // PCP 7, DEI 1, VID 42
        0x00, 0x0b,   // 802.3 length: LLC 3 + PDU 8
        0xfe, 0xfe, 0x03,
    ];
    assert_eq!(f[1].1[..25], isis_header);
    for (repr, bytes) in &f {
        let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&frame).as_ref(), Ok(repr));
        let tag = frame.tag(frame.tag_count() - 1).unwrap();
        let inner = repr.vlan.innermost().unwrap();
        assert_eq!(
            (tag.pcp(), tag.dei(), tag.vid()),
            (inner.pcp, inner.dei, inner.vid)
        );
    }
}

#[test]
fn tagged_frames_decode_in_tshark() {
    if !tshark_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagged.pcap");
    let mut writer = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let frames = frames();
    for (i, (_, bytes)) in frames.iter().enumerate() {
        writer
            .write_packet(1_000_000_000 * i as u64 + 7, bytes)
            .unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    assert_eq!(read_pcap(&std::fs::read(&path).unwrap()).unwrap().len(), 2);

    // Wireshark dissects a 0x88a8 tag as `ieee8021ad` and a 0x8100 tag as `vlan`; for
    // repeated fields (none here) it joins values with ','.
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "separator=|"])
        .args(["-e", "frame.time_epoch", "-e", "eth.dst"])
        .args(["-e", "ieee8021ad.priority", "-e", "ieee8021ad.dei"])
        .args(["-e", "ieee8021ad.id", "-e", "vlan.priority"])
        .args([
            "-e",
            "vlan.dei",
            "-e",
            "vlan.id",
            "-e",
            "vlan.etype",
            "-e",
            "vlan.len",
        ])
        .args([
            "-e",
            "llc.dsap",
            "-e",
            "ptp.v2.messagetype",
            "-e",
            "isis.type",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    println!("{text}");
    assert_eq!(
        lines,
        [
            // C-tag: PCP 5, DEI 1, VID 100, then PTP (Pdelay_Req = 0x02).
            "0.000000007|01:80:c2:00:00:0e||||5|1|100|0x88f7|||0x02|",
            // S-tag PCP 3 DEI 0 VID 4000, C-tag PCP 7 DEI 1 VID 42, 802.3 length 11, LLC FE,
            // IS-IS type 15 (L1 LAN IIH).
            "1.000000007|01:80:c2:00:00:14|3|0|4000|7|1|42||11|0xfe||15",
        ]
    );
}

/// Every prefix of the tagged frames: `Truncated` whenever the header (or, for 802.3, the
/// announced length) is cut; never a panic.
#[test]
fn truncated_tagged_frames() {
    for (repr, bytes) in frames() {
        let is_8023 = matches!(repr.payload_type, PayloadType::Llc(_));
        for len in 0..bytes.len() {
            let r = EthernetRepr::parse_frame(&bytes[..len]);
            if len < repr.header_len() || is_8023 {
                assert_eq!(r.unwrap_err(), tsn_wire::Error::Truncated, "len {len}");
            } else {
                assert_eq!(r.unwrap().0, repr);
            }
            let frame = EthernetFrame::new_unchecked(&bytes[..len]);
            if frame.check_len().is_ok() {
                for i in 0..3 {
                    if let Some(t) = frame.tag(i) {
                        let _ = (t.tpid(), t.pcp(), t.dei(), t.vid());
                    }
                }
                let _ = (frame.type_or_length(), frame.payload());
            }
        }
    }
}
