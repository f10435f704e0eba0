//! Byte-exact tests of the IS-IS codec against real captures (copied from
//! `shared/reference/captures/`, decodes in the `.txt` files next to them):
//!
//! - `isis-p2p-bringup-frr.pcap`: two FRR 8.4.4 isisd on a P2P veth: padded P2P IIHs, LSPs,
//!   CSNPs, PSNPs;
//! - `isis-lan-bringup-frr.pcap`: the same on a broadcast link: L1 LAN IIHs, pseudonode LSP;
//! - `isis-spb-speaker-vs-frr.pcap`: an SPB test speaker (TLV 143, TLV 144, sub-TLV 29)
//!   against FRR.
//!
//! Every frame parses, re-emits identically (header, PDU and 802.3/LLC framing), every LSP
//! checksum verifies, and every prefix and thousands of byte mutations go through the fuzz
//! property without a panic.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use switch_ctl_core::isis::wire::{
    Frame, IsReachSubTlv, IsidEntry, LspId, MtCapSubTlv, MtPortSubTlv, NLPID_IPV4, NLPID_SPB,
    P2pAdjacency, Pdu, PduKind, Tlv, fill_lsp_checksum, fuzz_roundtrip, lsp_checksum,
    lsp_checksum_ok,
};
use switch_ctl_core::spf::SystemId;
use tsn_wire::pcap::read_pcap;

const P2P: &[u8] = include_bytes!("data/isis-p2p-bringup-frr.pcap");
const LAN: &[u8] = include_bytes!("data/isis-lan-bringup-frr.pcap");
const SPB: &[u8] = include_bytes!("data/isis-spb-speaker-vs-frr.pcap");

fn frames(pcap: &[u8]) -> Vec<Vec<u8>> {
    read_pcap(pcap)
        .unwrap()
        .into_iter()
        .map(|p| p.data.to_vec())
        .collect()
}

fn all_frames() -> Vec<Vec<u8>> {
    [P2P, LAN, SPB].into_iter().flat_map(frames).collect()
}

fn sid(n: u8) -> SystemId {
    SystemId([0, 0, 0, 0, 0, n])
}

#[test]
fn every_captured_frame_round_trips_byte_exact() {
    let mut by_type = std::collections::BTreeMap::<u8, usize>::new();
    let all = all_frames();
    assert_eq!(all.len(), 104, "frames in the three captures");
    for (i, f) in all.iter().enumerate() {
        let frame = Frame::parse(f).unwrap_or_else(|e| panic!("frame {i}: {e}"));
        let pdu = Pdu::parse_bytes(frame.pdu).unwrap_or_else(|e| panic!("frame {i}: {e}"));
        *by_type.entry(pdu.pdu_type()).or_default() += 1;
        let bytes = pdu.to_vec().unwrap();
        assert_eq!(bytes, frame.pdu, "frame {i}: PDU re-emits identically");
        // Emit into a buffer pre-filled with 0xa5: every octet is written, none past the end.
        let mut buf = vec![0xa5; bytes.len() + 1];
        assert_eq!(pdu.emit(&mut buf), Ok(bytes.len()));
        assert_eq!(&buf[..bytes.len()], frame.pdu);
        assert_eq!(buf[bytes.len()], 0xa5);
        // The kernel pads short frames to 60 octets; the padding is not ours to emit.
        let framed = Frame::encapsulate(frame.dst, frame.src, &bytes).unwrap();
        assert_eq!(framed, f[..framed.len()], "frame {i}: 802.3 + LLC framing");
        assert!(
            f.len() == framed.len() || (f.len() == 60 && f[framed.len()..].iter().all(|&b| b == 0))
        );
        if let PduKind::Lsp(h) = pdu.kind {
            assert!(lsp_checksum_ok(frame.pdu), "frame {i}: LSP checksum");
            assert_eq!(lsp_checksum(frame.pdu), Some(h.checksum));
        }
        fuzz_roundtrip(frame.pdu);
    }
    // P2P IIH 17, L1 LAN IIH 15, L1 LSP 18, L1 CSNP 24, L1 PSNP 26.
    let counts: Vec<(u8, usize)> = by_type.into_iter().collect();
    assert_eq!(
        counts,
        [(15, 26), (17, 39), (18, 17), (24, 12), (26, 10)],
        "PDU types seen"
    );
}

#[test]
fn frr_p2p_hello_fields() {
    let f = &frames(P2P)[0];
    let pdu = Pdu::parse_bytes(Frame::parse(f).unwrap().pdu).unwrap();
    let PduKind::P2pHello(h) = pdu.kind else {
        panic!("not a P2P IIH: {pdu:?}")
    };
    assert_eq!(h.circuit_type, 1);
    assert_eq!(h.holding_time, 30);
    assert_eq!(pdu.buffer_len(), 1497, "padded to the MTU");
    let types: Vec<u8> = pdu.tlvs.iter().map(Tlv::typ).collect();
    assert_eq!(&types[..4], [129, 1, 240, 132]);
    assert!(
        types[4..].iter().all(|&t| t == 8),
        "then padding: {types:?}"
    );
    assert_eq!(
        pdu.tlvs[1],
        Tlv::AreaAddresses(vec![vec![0x49, 0x00, 0x01]])
    );
    assert!(matches!(
        pdu.tlvs[2],
        Tlv::P2pAdjacency(P2pAdjacency {
            ext_local_circuit_id: Some(_),
            ..
        })
    ));
}

#[test]
fn spb_speaker_hello_and_lsp_fields() {
    let pdus: Vec<Pdu> = frames(SPB)
        .iter()
        .map(|f| Pdu::parse_bytes(Frame::parse(f).unwrap().pdu).unwrap())
        .collect();
    // The speaker's IIH, as decoded in isis-p2p-iih-spb-subtlvs.txt.
    let iih = pdus
        .iter()
        .find(|p| {
            matches!(p.kind, PduKind::P2pHello(h) if h.source_id == sid(4))
                && p.tlvs
                    .iter()
                    .any(|t| matches!(t, Tlv::P2pAdjacency(a) if a.state == P2pAdjacency::UP))
        })
        .expect("speaker IIH in state Up");
    assert_eq!(
        iih.find(|t| match t {
            Tlv::ProtocolsSupported(n) => Some(n.clone()),
            _ => None,
        }),
        Some(vec![NLPID_IPV4, NLPID_SPB])
    );
    assert_eq!(
        iih.find(|t| match t {
            Tlv::P2pAdjacency(a) => Some(*a),
            _ => None,
        }),
        Some(P2pAdjacency {
            state: P2pAdjacency::UP,
            ext_local_circuit_id: Some(1),
            neighbor_system_id: Some(sid(1)),
            neighbor_ext_circuit_id: Some(3),
        })
    );
    let mt = iih
        .find(|t| match t {
            Tlv::MtPortCapability(m) => Some(m.clone()),
            _ => None,
        })
        .expect("TLV 143");
    assert_eq!(mt.mt, 0);
    let MtPortSubTlv::SpbMcid { mcid, aux_mcid } = &mt.sub_tlvs[0] else {
        panic!("{:?}", mt.sub_tlvs[0])
    };
    assert_eq!(&mcid[..8], b"\0spb-lab");
    assert_eq!(mcid, aux_mcid);
    assert!(
        matches!(mt.sub_tlvs[1], MtPortSubTlv::SpbDigest { flags: 0, digest } if digest == [0; 32])
    );
    let MtPortSubTlv::SpbBaseVids(vids) = &mt.sub_tlvs[2] else {
        panic!("{:?}", mt.sub_tlvs[2])
    };
    assert_eq!(vids.len(), 1);
    assert_eq!(vids[0].ect, 0x0080_c201);
    assert_eq!(vids[0].base_vid(), 4051);
    assert_eq!(vids[0].word & 0xc, 0xc, "U and M");

    // The speaker's LSP, as decoded in isis-lsp-spb-flooded-by-frr.txt.
    let lsp = pdus
        .iter()
        .find(|p| matches!(p.kind, PduKind::Lsp(h) if h.lsp_id == LspId::node(sid(4))))
        .expect("speaker LSP");
    assert_eq!(
        lsp.find(|t| match t {
            Tlv::Hostname(h) => Some(h.clone()),
            _ => None,
        }),
        Some(b"rust-spb".to_vec())
    );
    let reach = lsp
        .find(|t| match t {
            Tlv::ExtIsReach(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(reach.len(), 1);
    assert_eq!(reach[0].neighbor_system_id(), sid(1));
    assert_eq!(reach[0].metric, 10);
    assert_eq!(
        reach[0].sub_tlvs,
        [IsReachSubTlv::SpbLinkMetric {
            metric: 10,
            ports: vec![0x8001]
        }]
    );
    let cap = lsp
        .find(|t| match t {
            Tlv::MtCapability(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    let MtCapSubTlv::SpbInstance(inst) = &cap.sub_tlvs[0] else {
        panic!("{:?}", cap.sub_tlvs[0])
    };
    assert_eq!(inst.cist_root_id, [0x80, 0, 0, 0, 0, 0, 0, 4]);
    assert_eq!(inst.bridge_priority, 0x8000);
    assert_eq!(inst.sp_source_id(), 4);
    assert_eq!(inst.trees.len(), 1);
    assert_eq!(
        (
            inst.trees[0].flags,
            inst.trees[0].ect,
            inst.trees[0].base_vid,
            inst.trees[0].spvid
        ),
        (0xc0, 0x0080_c201, 4051, 0)
    );
    let MtCapSubTlv::SpbmServiceId(si) = &cap.sub_tlvs[1] else {
        panic!("{:?}", cap.sub_tlvs[1])
    };
    assert_eq!(si.b_mac, [2, 0, 0, 0, 4, 1]);
    assert_eq!(si.base_vid_word & 0xfff, 4051);
    assert_eq!(
        si.isids,
        [
            IsidEntry::new(100, true, true),
            IsidEntry::new(200, true, false)
        ]
    );
}

#[test]
fn unknown_tlvs_survive_and_checksum_is_recomputed() {
    // FRR's LSP with TLVs 242, 134, 135 we do not model.
    let lsp = frames(P2P)
        .into_iter()
        .map(|f| Frame::parse(&f).unwrap().pdu.to_vec())
        .find(|p| p[4] == 18 && p.len() > 100)
        .unwrap();
    let mut pdu = Pdu::parse_bytes(&lsp).unwrap();
    let unknown: Vec<u8> = pdu
        .tlvs
        .iter()
        .filter_map(|t| match t {
            Tlv::Unknown { typ, .. } => Some(*typ),
            _ => None,
        })
        .collect();
    assert_eq!(unknown, [242, 134, 135]);
    // Add a TLV of an unassigned type: it is emitted as given, and the checksum we compute
    // is one FRR-compatible checkers accept.
    pdu.tlvs.push(Tlv::Unknown {
        typ: 250,
        value: vec![1, 2, 3],
    });
    let mut bytes = pdu.to_vec().unwrap();
    assert!(!lsp_checksum_ok(&bytes));
    fill_lsp_checksum(&mut bytes);
    assert!(lsp_checksum_ok(&bytes));
    assert_eq!(&bytes[bytes.len() - 5..], [250, 3, 1, 2, 3]);
    assert_eq!(
        Pdu::parse_bytes(&bytes).unwrap().tlvs.last(),
        pdu.tlvs.last()
    );
}

#[test]
fn every_prefix_and_mutation_is_handled() {
    let all = all_frames();
    for f in &all {
        let pdu = Frame::parse(f).unwrap().pdu;
        for n in 0..pdu.len().min(300) {
            fuzz_roundtrip(&pdu[..n]);
            assert!(Pdu::parse_bytes(&pdu[..n]).is_err() || n >= 27);
        }
        for n in 0..f.len().min(80) {
            let _ = Frame::parse(&f[..n]);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut parsed = 0;
    for round in 0..20_000 {
        let f = &all[round % all.len()];
        let mut pdu = Frame::parse(f).unwrap().pdu.to_vec();
        pdu.truncate(pdu.len().min(400));
        // Keep the PDU length consistent with a truncated hello so mutations reach TLVs.
        let len = pdu.len() as u16;
        let at = if matches!(pdu[4], 15..=17) { 17 } else { 8 };
        pdu[at..at + 2].copy_from_slice(&len.to_be_bytes());
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..pdu.len());
            pdu[i] = rng.random();
        }
        if Pdu::parse_bytes(&pdu).is_ok() {
            parsed += 1;
        }
        fuzz_roundtrip(&pdu);
    }
    assert!(
        parsed > 5_000,
        "mutations must mostly reach the TLV parser: {parsed}"
    );
}

/// Writes the fuzz seed corpus (`fuzz/corpus/wire_roundtrip/`) from the captures. Run by
/// hand after adding captures: `cargo test -p switch-ctl-core --test isis_wire -- --ignored`.
#[test]
#[ignore = "writes files; run by hand to refresh the fuzz seed corpus"]
fn write_fuzz_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/wire_roundtrip");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, pcap) in [("isis-p2p", P2P), ("isis-lan", LAN), ("isis-spb", SPB)] {
        for (i, f) in frames(pcap).iter().enumerate() {
            let pdu = Frame::parse(f).unwrap().pdu;
            std::fs::write(dir.join(format!("{name}-{:02}", i + 1)), pdu).unwrap();
        }
    }
}
