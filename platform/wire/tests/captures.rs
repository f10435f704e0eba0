//! Byte-exact tests against the reference captures (`shared/reference/captures/`, copied to
//! `tests/data/`): ptp4l 3.1.1 gPTP on veth, FRR 8.4.4 isisd IS-IS on veth, and one
//! hand-built pcapng Signaling frame. See `shared/reference/captures/README.md`.

use tsn_wire::pcap::{PcapPacket, read_pcap};
use tsn_wire::{
    Error, EtherType, EthernetFrame, EthernetRepr, Llc, LlcControl, LlcRepr, MacAddress,
    PayloadType, VlanTags,
};

const GPTP_PCAP: &[u8] = include_bytes!("data/gptp-ptp4l-swts-sample.pcap");
const GPTP_SIGNALING_PCAPNG: &[u8] = include_bytes!("data/gptp-signaling-crafted.pcap");
const ISIS_P2P_PCAP: &[u8] = include_bytes!("data/isis-p2p-bringup-frr.pcap");

/// Frame 1 of `gptp-ptp4l-swts-sample.pcap` (`tshark -r ... -c1 -x`): ptp4l Pdelay_Req.
#[rustfmt::skip]
const GPTP_PDELAY_REQ: [u8; 68] = [
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e,             // dst 01:80:c2:00:00:0e (gPTP)
    0x72, 0x9c, 0x94, 0xb7, 0xf4, 0x74,             // src 72:9c:94:b7:f4:74 (veth)
    0x88, 0xf7,                                     // EtherType PTP
    // PTP header (34 octets): transportSpecific 1 | Pdelay_Req (2), version 2, length 54,
    // domain 0, flags 0, correction 0, clock identity 729c94fffeb7f474, port 1, seq 0,
    // control 5, logMessageInterval 0
    0x12, 0x02, 0x00, 0x36, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x72, 0x9c, 0x94, 0xff,
    0xfe, 0xb7, 0xf4, 0x74, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00,
    // Pdelay_Req body: 10 reserved + 10 reserved octets
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// Frame 4 of `isis-p2p-bringup-frr.pcap`: FRR's first L1 CSNP on the P2P circuit, 802.3.
#[rustfmt::skip]
const ISIS_CSNP: [u8; 68] = [
    0x09, 0x00, 0x2b, 0x00, 0x00, 0x05,             // dst 09:00:2b:00:00:05 (AllISs)
    0x02, 0x00, 0x00, 0x00, 0x02, 0x01,             // src 02:00:00:00:02:01
    0x00, 0x36,                                     // 802.3 length 54 = 68 - 14
    0xfe, 0xfe, 0x03,                               // LLC DSAP FE, SSAP FE, control UI
    // IS-IS: 0x83, LI 33, version 1, ID length 0, type 24 (L1 CSNP), version 1, 0, max areas 0
    0x83, 0x21, 0x01, 0x00, 0x18, 0x01, 0x00, 0x00,
    0x00, 0x33,                                     // PDU length 51
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,       // source ID 0000.0000.0002.00
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // start LSP ID
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // end LSP ID
    0x09, 0x10,                                     // TLV 9 (LSP entries), 16 octets
    0x04, 0x81,                                     // remaining lifetime 1153
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, // LSP ID 0000.0000.0002.00-00
    0x00, 0x00, 0x00, 0x02,                         // sequence 2
    0x53, 0x29,                                     // checksum
];

fn packets(bytes: &[u8]) -> Vec<PcapPacket> {
    read_pcap(bytes).expect("reference capture parses")
}

/// Emits `repr` into a 0xa5-filled buffer of `frame.len()` octets: the header must equal the
/// frame's header and the payload area must stay 0xa5 (emit writes nothing else). Then copies
/// the payload and expects the whole frame back.
fn assert_emit_byte_exact(repr: &EthernetRepr, payload: &[u8], frame: &[u8]) {
    let hdr = repr.header_len();
    assert_eq!(repr.buffer_len(payload.len()), frame.len());
    let mut out = vec![0xa5u8; frame.len()];
    repr.emit(
        &mut EthernetFrame::new_unchecked(&mut out[..]),
        payload.len(),
    )
    .unwrap();
    assert_eq!(out[..hdr], frame[..hdr], "header");
    assert!(
        out[hdr..].iter().all(|&b| b == 0xa5),
        "emit wrote past the header"
    );
    out[hdr..].copy_from_slice(payload);
    assert_eq!(out, frame);

    let mut out2 = vec![0xa5u8; frame.len() + 7];
    assert_eq!(repr.emit_frame(payload, &mut out2), Ok(frame.len()));
    assert_eq!(out2[..frame.len()], *frame);
    assert!(out2[frame.len()..].iter().all(|&b| b == 0xa5));
}

#[test]
fn gptp_pdelay_req_byte_exact() {
    assert_eq!(packets(GPTP_PCAP)[0].data, GPTP_PDELAY_REQ);

    let expected = EthernetRepr {
        dst: MacAddress::GPTP,
        src: "72:9c:94:b7:f4:74".parse().unwrap(),
        vlan: VlanTags::Untagged,
        payload_type: PayloadType::EtherType(EtherType::Ptp),
    };
    let frame = EthernetFrame::new_checked(&GPTP_PDELAY_REQ[..]).unwrap();
    assert_eq!(EthernetRepr::parse(&frame), Ok(expected));
    assert_eq!(frame.header_len(), 14);
    assert_eq!(frame.ethertype(), Some(EtherType::Ptp));
    assert_eq!(frame.length(), None);
    assert_eq!(frame.payload(), &GPTP_PDELAY_REQ[14..]);

    let (repr, payload) = EthernetRepr::parse_frame(&GPTP_PDELAY_REQ).unwrap();
    assert_eq!((repr, payload), (expected, &GPTP_PDELAY_REQ[14..]));
    assert_emit_byte_exact(&expected, payload, &GPTP_PDELAY_REQ);
}

#[test]
fn isis_csnp_byte_exact() {
    assert_eq!(packets(ISIS_P2P_PCAP)[3].data, ISIS_CSNP);

    let expected = EthernetRepr {
        dst: MacAddress::ALL_ISS,
        src: "02-00-00-00-02-01".parse().unwrap(),
        vlan: VlanTags::Untagged,
        payload_type: PayloadType::Llc(LlcRepr {
            dsap: 0xfe,
            ssap: 0xfe,
            control: LlcControl::Unnumbered(0x03),
        }),
    };
    let frame = EthernetFrame::new_checked(&ISIS_CSNP[..]).unwrap();
    assert_eq!(EthernetRepr::parse(&frame), Ok(expected));
    assert_eq!(frame.length(), Some(54));
    assert_eq!(frame.ethertype(), None);
    // The view's payload is the MAC client data: LLC header included.
    let llc = Llc::new_checked(frame.payload()).unwrap();
    assert_eq!(LlcRepr::parse(&llc), Ok(LlcRepr::ISIS));
    assert_eq!(llc.payload(), &ISIS_CSNP[17..]);

    let (repr, pdu) = EthernetRepr::parse_frame(&ISIS_CSNP).unwrap();
    assert_eq!((repr, pdu), (expected, &ISIS_CSNP[17..]));
    assert_eq!(pdu[0], 0x83);
    assert_emit_byte_exact(&expected, pdu, &ISIS_CSNP);
}

/// Every frame of every reference capture: parse, emit, same bytes.
#[test]
fn every_reference_frame_round_trips() {
    let mut seen = [0usize; 2];
    for (name, bytes) in [
        ("gptp", GPTP_PCAP),
        ("gptp-signaling", GPTP_SIGNALING_PCAPNG),
        ("isis", ISIS_P2P_PCAP),
    ] {
        for (i, p) in packets(bytes).iter().enumerate() {
            let (repr, payload) = EthernetRepr::parse_frame(&p.data)
                .unwrap_or_else(|e| panic!("{name} frame {}: {e}", i + 1));
            match repr.payload_type {
                PayloadType::EtherType(t) => {
                    assert_eq!(t, EtherType::Ptp, "{name} {i}");
                    assert_eq!(repr.dst, MacAddress::GPTP);
                    seen[0] += 1;
                }
                PayloadType::Llc(llc) => {
                    assert_eq!(llc, LlcRepr::ISIS, "{name} {i}");
                    assert_eq!(repr.dst, MacAddress::ALL_ISS);
                    assert_eq!(payload[0], 0x83);
                    seen[1] += 1;
                }
            }
            assert!(repr.src.is_unicast() && repr.dst.is_multicast());
            assert_eq!(repr.vlan, VlanTags::Untagged);
            assert_emit_byte_exact(&repr, payload, &p.data);
        }
    }
    assert_eq!(seen, [61, 50]);
}

/// The padded FRR hello is the largest 802.3 frame: length field exactly 1500.
#[test]
fn isis_padded_hello_has_max_length() {
    let hello = &packets(ISIS_P2P_PCAP)[0].data;
    assert_eq!(hello.len(), 1514);
    let frame = EthernetFrame::new_checked(&hello[..]).unwrap();
    assert_eq!(frame.length(), Some(1500));
    let (repr, pdu) = EthernetRepr::parse_frame(hello).unwrap();
    assert_eq!(pdu.len(), 1497);
    // One more octet no longer fits an 802.3 length field.
    let mut buf = [0u8; 1515];
    assert_eq!(
        repr.emit_frame(&[0; 1498], &mut buf),
        Err(Error::BadField { field: "length" })
    );
}

#[test]
fn pcap_timestamps_match_tshark() {
    // `tshark -T fields -e frame.time_epoch -c 1`
    assert_eq!(packets(GPTP_PCAP)[0].ts_ns, 1_795_251_538_475_715_836); // ns magic, LE
    assert_eq!(packets(GPTP_PCAP).len(), 60);
    assert_eq!(packets(ISIS_P2P_PCAP)[0].ts_ns, 1_795_251_169_113_840_000); // µs magic, LE
    assert_eq!(packets(ISIS_P2P_PCAP).len(), 50);
    // pcapng (if_tsresol 9) in spite of the .pcap name.
    let sig = packets(GPTP_SIGNALING_PCAPNG);
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0].ts_ns, 1_795_251_934_000_001_000);
    assert_eq!((sig[0].data.len(), sig[0].orig_len), (74, 74));
}

/// Byte-swapping a little-endian file's headers gives a big-endian file with the same packets.
#[test]
fn big_endian_copy_of_reference_capture_reads_the_same() {
    fn swap(bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for at in [0, 8, 12, 16, 20] {
            out[at..at + 4].reverse();
        }
        out[4..6].reverse();
        out[6..8].reverse();
        let mut at = 24;
        while at < out.len() {
            let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            for f in 0..4 {
                out[at + 4 * f..at + 4 * f + 4].reverse();
            }
            at += 16 + incl;
        }
        out
    }
    for bytes in [GPTP_PCAP, ISIS_P2P_PCAP] {
        assert_eq!(read_pcap(&swap(bytes)).unwrap(), packets(bytes));
    }
}

/// Every prefix of every reference frame: the views and reprs return errors, never panic,
/// and a check_len that passed makes every accessor safe.
#[test]
fn truncated_reference_frames_never_panic() {
    for bytes in [GPTP_PCAP, GPTP_SIGNALING_PCAPNG, ISIS_P2P_PCAP] {
        for p in packets(bytes).iter().take(12) {
            for len in 0..p.data.len() {
                let prefix = &p.data[..len];
                let parsed = EthernetRepr::parse_frame(prefix);
                if len < 14 {
                    assert_eq!(parsed.unwrap_err(), Error::Truncated);
                }
                // 802.3: any prefix cuts into the announced length.
                if p.data[12] < 0x06 {
                    assert_eq!(parsed.unwrap_err(), Error::Truncated);
                }
                touch_everything(prefix);
            }
        }
    }
    // Reading a truncated capture file is an error too, never a panic.
    for len in 0..GPTP_SIGNALING_PCAPNG.len() {
        let _ = read_pcap(&GPTP_SIGNALING_PCAPNG[..len]);
    }
    // A prefix that ends on a record boundary is a valid, shorter capture; any other is an
    // error.
    let full = packets(ISIS_P2P_PCAP);
    let boundaries: Vec<usize> = full
        .iter()
        .scan(24, |at, p| {
            *at += 16 + p.data.len();
            Some(*at)
        })
        .collect();
    for len in (0..ISIS_P2P_PCAP.len())
        .step_by(7)
        .chain(boundaries.iter().copied())
    {
        match read_pcap(&ISIS_P2P_PCAP[..len]) {
            Ok(p) => {
                assert!(len == 24 || boundaries.contains(&len), "{len}");
                assert_eq!(p[..], full[..p.len()]);
            }
            Err(_) => assert!(len != 24 && !boundaries.contains(&len), "{len}"),
        }
    }
}

/// Calls every accessor and setter of a checked view over `bytes` (and over a copy).
fn touch_everything(bytes: &[u8]) {
    let Ok(frame) = EthernetFrame::new_checked(bytes) else {
        return;
    };
    let _ = (frame.dst_addr(), frame.src_addr(), frame.outer_type());
    let _ = (
        frame.tag_count(),
        frame.header_len(),
        frame.type_or_length(),
    );
    let _ = (frame.ethertype(), frame.length(), frame.payload());
    for i in 0..3 {
        if let Some(tag) = frame.tag(i) {
            let _ = (tag.tpid(), tag.pcp(), tag.dei(), tag.vid());
        }
    }
    if let Ok(llc) = Llc::new_checked(frame.payload()) {
        let _ = (llc.dsap(), llc.ssap(), llc.control(), llc.payload());
    }
    let _ = EthernetRepr::parse(&frame);

    let mut copy = bytes.to_vec();
    let mut frame = EthernetFrame::new_checked(&mut copy[..]).unwrap();
    frame.set_dst_addr(MacAddress::BROADCAST);
    frame.set_src_addr(MacAddress::GPTP);
    // Turn the type field into a TPID and back: the structure changes under the accessors.
    frame.set_type_or_length(0x8100);
    let _ = (
        frame.header_len(),
        frame.payload().len(),
        frame.type_or_length(),
    );
    frame.set_outer_type(0x88a8);
    if let Some(mut tag) = frame.tag_mut(0) {
        tag.set_tci(0xffff);
    }
    let _ = frame.payload_mut().len();
    frame.set_type_or_length(0x0000);
    let _ = frame.payload().len();
    let _ = EthernetRepr::parse(&EthernetFrame::new_unchecked(&*frame.into_inner()));
}
