//! The IS-IS instance driven by hand: two bridges on one link, frames carried by the test,
//! time advanced explicitly. Handshake, hold timer, hostile input, authentication, the LSDB
//! bound.

use std::path::Path;

use switch_ctl_core::isis::wire::auth::{AuthKey, ShaAlgorithm};
use switch_ctl_core::isis::wire::{
    Frame, Level, LspHeader, LspId, P2pAdjacency, P2pHelloHeader, Pdu, PduKind, Tlv,
    fill_lsp_checksum,
};
use switch_ctl_core::isis::{AdjState, Config, Instance, PortConfig};
use switch_ctl_core::spf::SystemId;
use tsn_testbed::{tshark, tshark_available, tshark_problems};
use tsn_time::{Duration, Time};
use tsn_wire::MacAddress;

fn sys(n: u8) -> SystemId {
    SystemId([0, 0, 0, 0, 0, n])
}

fn bridge(n: u8, auth: Option<AuthKey>) -> Instance {
    Instance::new(bridge_config(n, auth))
}

fn bridge_config(n: u8, auth: Option<AuthKey>) -> Config {
    let mut c = Config::new(
        sys(n),
        vec![PortConfig {
            mac: MacAddress([2, 0, 0, 0, n, 1]),
            metric: 10,
        }],
    );
    c.hello_interval = Duration::from_secs(1);
    c.holding_time_secs = 3;
    c.auth = auth;
    c
}

/// Two instances on one link; `deliver` says whether frames still get through each way.
struct Pair {
    a: Instance,
    b: Instance,
    now: Time,
    a_to_b: bool,
    b_to_a: bool,
    /// Every frame sent, both ways.
    log: Vec<Vec<u8>>,
}

impl Pair {
    fn new(a: Instance, b: Instance) -> Self {
        let mut p = Self {
            a,
            b,
            now: Time::EPOCH,
            a_to_b: true,
            b_to_a: true,
            log: Vec::new(),
        };
        p.a.start(p.now);
        p.b.start(p.now);
        p
    }

    fn shuttle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.log.push(t.frame.clone());
                if self.a_to_b {
                    self.b.handle_frame(self.now, t.port, &t.frame);
                }
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.log.push(t.frame.clone());
                if self.b_to_a {
                    self.a.handle_frame(self.now, t.port, &t.frame);
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.shuttle();
        loop {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                    self.shuttle();
                }
                _ => break,
            }
        }
        self.now = end;
    }
}

fn up(i: &Instance) -> bool {
    i.adjacencies().iter().any(|a| a.state == AdjState::Up)
}

fn lsdb_key(i: &Instance) -> Vec<(LspId, u32)> {
    i.lsdb().iter().map(|(id, l)| (*id, l.seq)).collect()
}

#[test]
fn three_way_handshake_then_hold_timer_expiry() {
    let mut p = Pair::new(bridge(1, None), bridge(2, None));
    p.run_for(Duration::from_millis(10));
    assert!(up(&p.a) && up(&p.b), "Up after one exchange of hellos");
    p.run_for(Duration::from_secs(1));
    assert_eq!(lsdb_key(&p.a), lsdb_key(&p.b));
    assert_eq!(p.a.lsdb().len(), 2);
    let view = p.a.spb_view();
    assert_eq!(view.topology.link_count(), 1);
    assert_eq!(view.topology.metric(0, 1), Some(10));

    // One way fails: B no longer hears A, so B's hold timer expires after 3 s, not before.
    p.a_to_b = false;
    p.run_for(Duration::from_millis(2500));
    assert!(up(&p.b));
    p.run_for(Duration::from_millis(1000));
    assert!(!up(&p.b), "hold timer expired");
    // A hears B's Down hello and leaves Up too: a one-way link is no link.
    assert!(!up(&p.a));
    p.a_to_b = true;
    p.run_for(Duration::from_secs(2));
    assert!(up(&p.a) && up(&p.b), "comes back");
    assert_eq!(lsdb_key(&p.a), lsdb_key(&p.b));
}

fn lsp_from(n: u8, seq: u32, tlvs: Vec<Tlv>) -> Vec<u8> {
    let pdu = Pdu::new(
        PduKind::Lsp(LspHeader {
            level: Level::L1,
            remaining_lifetime: 1200,
            lsp_id: LspId::node(sys(n)),
            seq,
            checksum: 0,
            flags: 1,
        }),
        tlvs,
    );
    let mut bytes = pdu.to_vec().unwrap();
    fill_lsp_checksum(&mut bytes);
    Frame::encapsulate(
        MacAddress::ALL_PROVIDER_BRIDGE_ISS,
        MacAddress([2, 0, 0, 0, 2, 1]),
        &bytes,
    )
    .unwrap()
}

fn hello(from: u8, area: u8, tw: P2pAdjacency) -> Vec<u8> {
    let pdu = Pdu::new(
        PduKind::P2pHello(P2pHelloHeader {
            circuit_type: 1,
            source_id: sys(from),
            holding_time: 3,
            local_circuit_id: 1,
        }),
        vec![
            Tlv::AreaAddresses(vec![vec![0x49, 0, area]]),
            Tlv::ProtocolsSupported(vec![0xcc, 0xc1]),
            Tlv::P2pAdjacency(tw),
        ],
    );
    Frame::encapsulate(
        MacAddress::ALL_PROVIDER_BRIDGE_ISS,
        MacAddress([2, 0, 0, 0, from, 1]),
        &pdu.to_vec().unwrap(),
    )
    .unwrap()
}

#[test]
fn hostile_frames_are_dropped_counted_and_change_nothing() {
    let mut p = Pair::new(bridge(1, None), bridge(2, None));
    p.run_for(Duration::from_secs(1));
    let before = lsdb_key(&p.a);
    let adj = p.a.adjacencies();
    let c0 = p.a.counters();
    let now = p.now;

    let good = lsp_from(2, 50, vec![Tlv::AreaAddresses(vec![vec![0x49, 0, 1]])]);
    // Not IS-IS, empty, truncated at every length inside the PDU.
    p.a.handle_frame(now, 0, &[0u8; 10]);
    p.a.handle_frame(now, 0, &[]);
    for n in 17..good.len() {
        p.a.handle_frame(now, 0, &good[..n]);
    }
    // A corrupted LSP: bad checksum.
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 0xff;
    p.a.handle_frame(now, 0, &bad);
    // A TLV running past the PDU.
    let mut overrun = good.clone();
    let l = overrun.len();
    overrun[l - 5] = 200; // the length of the last TLV
    p.a.handle_frame(now, 0, &overrun);
    // A hello from another area, and one whose handshake names someone else.
    p.a.handle_frame(
        now,
        0,
        &hello(
            9,
            2,
            P2pAdjacency {
                state: P2pAdjacency::DOWN,
                ext_local_circuit_id: Some(1),
                neighbor_system_id: None,
                neighbor_ext_circuit_id: None,
            },
        ),
    );
    p.a.handle_frame(
        now,
        0,
        &hello(
            2,
            1,
            P2pAdjacency {
                state: P2pAdjacency::UP,
                ext_local_circuit_id: Some(1),
                neighbor_system_id: Some(sys(77)),
                neighbor_ext_circuit_id: Some(1),
            },
        ),
    );
    // A port that does not exist.
    p.a.handle_frame(now, 5, &good);

    let c = p.a.counters();
    assert_eq!(lsdb_key(&p.a), before, "the database did not change");
    assert_eq!(p.a.adjacencies(), adj, "the adjacency did not change");
    let truncations = (good.len() - 17) as u64;
    assert_eq!(
        c.drop_malformed - c0.drop_malformed,
        2 + truncations + 1,
        "garbage, empty, every truncation, the overrun"
    );
    assert_eq!(c.drop_checksum - c0.drop_checksum, 1);
    assert_eq!(c.drop_hello - c0.drop_hello, 1);
    assert_eq!(c.drop_three_way - c0.drop_three_way, 1);
    assert_eq!(c.drop_unsupported - c0.drop_unsupported, 1);

    // The same LSP intact is accepted: the drops were for the damage, not the content.
    p.a.handle_frame(now, 0, &good);
    assert_eq!(p.a.lsdb()[&LspId::node(sys(2))].seq, 50);
}

#[test]
fn authentication_is_checked_on_receive() {
    for key in [
        AuthKey::HmacMd5(b"spb-secret".to_vec()),
        AuthKey::HmacSha {
            algorithm: ShaAlgorithm::Sha256,
            key_id: 7,
            key: b"spb-secret".to_vec(),
        },
        AuthKey::HmacSha {
            algorithm: ShaAlgorithm::Sha1,
            key_id: 1,
            key: b"k".to_vec(),
        },
    ] {
        let mut p = Pair::new(bridge(1, Some(key.clone())), bridge(2, Some(key.clone())));
        p.run_for(Duration::from_secs(1));
        assert!(up(&p.a) && up(&p.b), "{key:?}");
        assert_eq!(lsdb_key(&p.a), lsdb_key(&p.b));
        assert_eq!(p.a.lsdb().len(), 2);
        assert_eq!(p.a.counters().drop_auth, 0);

        // Unsigned or wrongly signed PDUs are refused.
        let wrong = match &key {
            AuthKey::HmacMd5(_) => AuthKey::HmacMd5(b"other".to_vec()),
            _ => AuthKey::HmacSha {
                algorithm: ShaAlgorithm::Sha256,
                key_id: 7,
                key: b"other".to_vec(),
            },
        };
        let mut q = Pair::new(bridge(1, Some(key.clone())), bridge(3, Some(wrong)));
        q.run_for(Duration::from_secs(3));
        assert!(!up(&q.a) && !up(&q.b));
        assert!(q.a.counters().drop_auth >= 3 && q.b.counters().drop_auth >= 3);
        let mut r = Pair::new(bridge(1, Some(key.clone())), bridge(4, None));
        r.run_for(Duration::from_secs(3));
        assert!(!up(&r.a));
        assert!(r.a.counters().drop_auth >= 3);
    }
}

#[test]
fn lsdb_size_is_bounded() {
    let mut a = bridge(1, None);
    let mut cfg = a.config().clone();
    cfg.max_lsps = 10;
    a = Instance::new(cfg);
    let mut p = Pair::new(a, bridge(2, None));
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.a.lsdb().len(), 2);
    for n in 100..130 {
        p.a.handle_frame(
            p.now,
            0,
            &lsp_from(n, 1, vec![Tlv::Hostname(b"x".to_vec())]),
        );
    }
    assert_eq!(p.a.lsdb().len(), 10);
    assert_eq!(p.a.counters().drop_lsdb_full, 22);
    // A newer version of a known LSP still gets in.
    p.a.handle_frame(p.now, 0, &lsp_from(100, 2, vec![]));
    assert_eq!(p.a.lsdb()[&LspId::node(sys(100))].seq, 2);
}

#[test]
fn lsps_age_out_and_are_purged_everywhere() {
    let mut p = Pair::new(bridge(1, None), bridge(2, None));
    p.run_for(Duration::from_secs(1));
    // A third system's LSP that nobody refreshes, with a 5 s lifetime.
    let mut f = lsp_from(9, 3, vec![]);
    let pdu_at = 17;
    f[pdu_at + 10..pdu_at + 12].copy_from_slice(&5u16.to_be_bytes());
    p.a.handle_frame(p.now, 0, &f);
    p.run_for(Duration::from_millis(200));
    assert_eq!(p.b.lsdb()[&LspId::node(sys(9))].seq, 3, "flooded to B");
    p.run_for(Duration::from_secs(6));
    for i in [&p.a, &p.b] {
        let l = &i.lsdb()[&LspId::node(sys(9))];
        assert!(l.purged, "purged after its lifetime");
    }
    // Kept for ZeroAgeLifetime (60 s), then gone.
    p.run_for(Duration::from_secs(61));
    assert!(!p.a.lsdb().contains_key(&LspId::node(sys(9))));
    assert!(!p.b.lsdb().contains_key(&LspId::node(sys(9))));
    assert_eq!(p.a.lsdb().len(), 2);
}

// ---- tshark as the oracle for what we emit ----

fn write_pcap(name: &str, frames: &[Vec<u8>]) -> String {
    let mut w = tsn_wire::pcap::PcapWriter::new(Vec::new()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f)
            .unwrap();
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, w.into_inner()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn emitted_pdus_dissect_cleanly_in_tshark() {
    if !tshark_available("the tshark check of emitted PDUs") {
        return;
    }
    let mut frames = Vec::new();
    for auth in [
        None,
        Some(AuthKey::HmacMd5(b"k".to_vec())),
        Some(AuthKey::HmacSha {
            algorithm: ShaAlgorithm::Sha256,
            key_id: 3,
            key: b"k".to_vec(),
        }),
    ] {
        let mut a = bridge_config(1, auth.clone());
        a.hostname = Some("spb-a".into());
        a.hello_padding = true;
        a.isids = vec![
            switch_ctl_core::isis::wire::IsidEntry::new(100, true, true),
            switch_ctl_core::isis::wire::IsidEntry::new(200, true, false),
        ];
        a.ects = vec![
            switch_ctl_core::spf::EctAlgorithm::LOW_PATH_ID,
            switch_ctl_core::spf::EctAlgorithm::HIGH_PATH_ID,
        ];
        let mut p = Pair::new(Instance::new(a), bridge(2, auth));
        p.run_for(Duration::from_secs(1));
        frames.append(&mut p.log);
    }
    let path = write_pcap("switch-ctl-isis-emitted.pcap", &frames);
    let found = tshark_problems(Path::new(&path));
    assert!(
        found.is_empty(),
        "tshark found problems in {path}:\n{found:#?}"
    );
    let types = tshark(&["-r", &path, "-T", "fields", "-e", "isis.type"]);
    let mut seen: Vec<&str> = types.lines().collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        ["17", "18", "24", "26"],
        "P2P IIH, L1 LSP, CSNP, PSNP"
    );
    let v = tshark(&["-r", &path, "-V"]);
    for needle in [
        "Hostname: spb-a",
        "SPB Link Metric: 0x00000a (10)",
        "I-SID: 0x0000c8",
        "BVID: 0xfd3 (4051)",
        "BVID: 0xfd4 (4052)",
        "Adjacency State: Up",
        "[Checksum Status: Good]",
        "NLPID: 0xc1",
    ] {
        assert!(v.contains(needle), "tshark does not show {needle:?}");
    }
}

/// The checks above can fail: a cut LSP is flagged.
#[test]
fn tshark_check_catches_a_malformed_pdu() {
    if !tshark_available("the tshark check of emitted PDUs") {
        return;
    }
    let mut p = Pair::new(bridge(1, None), bridge(2, None));
    p.run_for(Duration::from_secs(1));
    let mut lsp = p.log.iter().find(|f| f[17 + 4] == 18).unwrap().clone();
    lsp[17 + 27 + 1] = 250; // first TLV's length runs past the PDU
    let path = write_pcap("switch-ctl-isis-negative.pcap", &[lsp]);
    assert!(!tshark_problems(Path::new(&path)).is_empty());
}
