//! One IS-IS level-1 instance of an SPB bridge on point-to-point circuits: three-way
//! adjacencies (RFC 5303), LSP origination, refresh, ageing and purge, reliable flooding with
//! SRM/SSN, CSNP/PSNP database synchronisation and authentication (ISO 10589 §7.3).
//!
//! # Who calls what
//!
//! Sans-IO: [`Instance::start`], [`Instance::handle_frame`],
//! [`Instance::handle_link_change`] and [`Instance::handle_timeout`] take `now` (the local
//! clock) as an argument; after each, drain [`Instance::poll_transmit`] and arm one timer at
//! [`Instance::poll_timeout`]. The instance never reads a clock, never touches a socket and
//! holds no randomness, so a run is a function of its inputs.
//!
//! Reading state: [`Instance::adjacencies`], [`Instance::lsdb`], [`Instance::counters`],
//! and [`Instance::spb_view`], which turns the LSDB into a [`Topology`] for
//! [`crate::spf::Spf`] plus the I-SID memberships; [`Instance::unicast_fdb`] maps the SPF's
//! next hops onto ports. A bridge that runs continuously uses [`super::SpbRib`] instead,
//! which follows LSDB changes incrementally.
//!
//! Hostile input: a frame that does not parse, fails authentication, comes from another
//! area, breaks the three-way handshake or carries a bad LSP checksum is dropped and counted
//! in [`Counters`]; it never changes the database. The LSDB holds at most
//! [`Config::max_lsps`] LSPs: further new LSP IDs are dropped and counted.
//!
//! Not covered: LAN circuits and DIS election (hellos parse, but LAN adjacencies are not
//! formed), LSP fragmentation beyond fragment 0 (about 75 neighbours fit), level 2, the SPB
//! Agreement Protocol digest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tsn_time::{Duration, Time};
use tsn_wire::MacAddress;

use super::rib::{Advert, link_metric};
use super::wire::auth::{self, AuthKey};
use super::wire::{
    BaseVid, CsnpHeader, ExtIsReach, Frame, IsReachSubTlv, IsidEntry, IsisPacket, Level, LspEntry,
    LspHeader, LspId, MAX_PDU_LEN, MtCapSubTlv, MtCapability, MtPortCapability, MtPortSubTlv,
    NLPID_IPV4, NLPID_SPB, P2pAdjacency, P2pHelloHeader, Pdu, PduKind, PsnpHeader, SpbInstance,
    SpbTree, SpbmServiceId, Tlv, fill_lsp_checksum, lsp_checksum_ok,
};
use crate::spf::{BridgeId, EctAlgorithm, Spf, SystemId, Topology};

/// One port (circuit) of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// The port's MAC address (frame source).
    pub mac: MacAddress,
    /// SPB link metric advertised for the adjacency on this port, 1..=2^24-1.
    pub metric: u32,
}

/// Configuration. Durations are on the caller's clock.
#[derive(Debug, Clone)]
pub struct Config {
    /// System ID (also the B-MAC in SPBM).
    pub system_id: SystemId,
    /// Bridge priority of the ECT tie-break.
    pub bridge_priority: u16,
    /// Area address, e.g. `49.0001` as `[0x49, 0x00, 0x01]`.
    pub area: Vec<u8>,
    /// Dynamic hostname (TLV 137).
    pub hostname: Option<String>,
    /// Ports.
    pub ports: Vec<PortConfig>,
    /// Destination of every PDU (SPB: 01-80-C2-00-00-2E).
    pub control_mac: MacAddress,
    /// Hello interval.
    pub hello_interval: Duration,
    /// Holding time advertised, in whole seconds (at least 1).
    pub holding_time_secs: u16,
    /// Pad hellos to the full MTU (as FRR does) to detect MTU mismatches.
    pub hello_padding: bool,
    /// Remaining lifetime given to our LSPs, seconds.
    pub lsp_lifetime_secs: u16,
    /// Re-originate our LSP this often (less than the lifetime).
    pub lsp_refresh: Duration,
    /// Delay between a change and the LSP it causes (batches changes).
    pub lsp_gen_delay: Duration,
    /// Retransmit an unacknowledged LSP after this long.
    pub lsp_retransmit: Duration,
    /// Periodic CSNP interval on each adjacency.
    pub csnp_interval: Duration,
    /// Delay before acknowledgements and requests go out in a PSNP (batches them).
    pub psnp_delay: Duration,
    /// How long a purged LSP is kept (ZeroAgeLifetime).
    pub zero_age_lifetime: Duration,
    /// Most LSPs in the database.
    pub max_lsps: usize,
    /// Authentication of sent PDUs and required on received ones.
    pub auth: Option<AuthKey>,
    /// ECT algorithms, one B-VID each from `base_vid` upwards.
    pub ects: Vec<EctAlgorithm>,
    /// First B-VID.
    pub base_vid: u16,
    /// I-SIDs this bridge serves.
    pub isids: Vec<IsidEntry>,
    /// IPv4 interface addresses (TLV 132) for hellos and the LSP. FRR ignores hellos
    /// without one on a circuit that has IPv4 ("Neither IPv4 nor IPv6 considered usable").
    pub ipv4_addresses: Vec<[u8; 4]>,
}

impl Config {
    /// Defaults close to FRR's (hello 3 s, hold 30 s, lifetime 1200 s, refresh 900 s, CSNP
    /// 10 s), ECT-1 on B-VID 4051, control MAC 01-80-C2-00-00-2E, area 49.0001.
    pub fn new(system_id: SystemId, ports: Vec<PortConfig>) -> Self {
        Self {
            system_id,
            bridge_priority: BridgeId::DEFAULT_PRIORITY,
            area: vec![0x49, 0x00, 0x01],
            hostname: None,
            ports,
            control_mac: MacAddress::ALL_PROVIDER_BRIDGE_ISS,
            hello_interval: Duration::from_secs(3),
            holding_time_secs: 30,
            hello_padding: false,
            lsp_lifetime_secs: 1200,
            lsp_refresh: Duration::from_secs(900),
            lsp_gen_delay: Duration::from_millis(50),
            lsp_retransmit: Duration::from_secs(5),
            csnp_interval: Duration::from_secs(10),
            psnp_delay: Duration::from_millis(100),
            zero_age_lifetime: Duration::from_secs(60),
            max_lsps: 10_000,
            auth: None,
            ects: vec![EctAlgorithm::LOW_PATH_ID],
            base_vid: 4051,
            isids: Vec::new(),
            ipv4_addresses: Vec::new(),
        }
    }
}

/// Three-way adjacency state (RFC 5303).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdjState {
    /// Heard the neighbour; it has not yet confirmed hearing us.
    Initializing,
    /// Both directions confirmed.
    Up,
}

/// An adjacency as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjacency {
    /// Port.
    pub port: usize,
    /// Neighbour.
    pub neighbor: SystemId,
    /// State.
    pub state: AdjState,
    /// Whether the neighbour advertises NLPID 0xC1 (SPB).
    pub spb: bool,
}

/// What the instance counted. Drops never change the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames received.
    pub rx_frames: u64,
    /// Frames sent, by kind.
    pub tx_hellos: u64,
    /// LSPs sent.
    pub tx_lsps: u64,
    /// CSNPs sent.
    pub tx_csnps: u64,
    /// PSNPs sent.
    pub tx_psnps: u64,
    /// Dropped: not IS-IS, or a PDU that does not parse.
    pub drop_malformed: u64,
    /// Dropped: authentication missing or wrong.
    pub drop_auth: u64,
    /// Dropped: hello from another area, or one missing the handshake TLV.
    pub drop_hello: u64,
    /// Dropped: three-way handshake names another system or circuit.
    pub drop_three_way: u64,
    /// Dropped: LSP/SNP on a port without an Up adjacency.
    pub drop_no_adjacency: u64,
    /// Dropped: LSP checksum wrong.
    pub drop_checksum: u64,
    /// Dropped: a new LSP while the database was full.
    pub drop_lsdb_full: u64,
    /// Dropped: a PDU type we do not handle here (LAN, level 2) or our own PDU looped back.
    pub drop_unsupported: u64,
    /// Our LSP was re-originated because the network held a copy at least as new.
    pub own_lsp_seq_jumps: u64,
    /// LSPs that aged out.
    pub lsps_expired: u64,
}

/// A frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Port.
    pub port: usize,
    /// The Ethernet frame (no FCS).
    pub frame: Vec<u8>,
}

/// An LSP in the database.
#[derive(Debug, Clone)]
pub struct StoredLsp {
    /// The PDU as received (or originated), lifetime field as received.
    pub bytes: Vec<u8>,
    /// Parsed.
    pub pdu: Pdu,
    /// Sequence number.
    pub seq: u32,
    /// Checksum.
    pub checksum: u16,
    /// When the remaining lifetime reaches zero (for a purge: when it is deleted).
    pub expires: Time,
    /// Lifetime zero: a purge.
    pub purged: bool,
}

impl StoredLsp {
    fn remaining_secs(&self, now: Time) -> u16 {
        if self.purged || self.expires <= now {
            return 0;
        }
        let ns = (self.expires - now).nanos();
        // Round up so an LSP is not advertised as dead before it is.
        let secs = (ns + 999_999_999) / 1_000_000_000;
        secs.clamp(0, i128::from(u16::MAX)) as u16
    }

    fn entry(&self, id: LspId, now: Time) -> LspEntry {
        LspEntry {
            remaining_lifetime: self.remaining_secs(now),
            lsp_id: id,
            seq: self.seq,
            checksum: self.checksum,
        }
    }
}

#[derive(Debug, Clone)]
struct Adj {
    neighbor: SystemId,
    circuit_id: Option<u32>,
    state: AdjState,
    hold_until: Time,
    spb: bool,
}

#[derive(Debug, Clone)]
struct Port {
    up: bool,
    circuit_id: u32,
    adj: Option<Adj>,
    next_hello: Time,
    next_csnp: Option<Time>,
    /// Send-routeing-message flags: LSP -> when to (re)send.
    srm: BTreeMap<LspId, Time>,
    /// Send-sequence-number flags: entries for the next PSNP.
    ssn: BTreeMap<LspId, LspEntry>,
    psnp_at: Option<Time>,
}

impl Port {
    fn is_up(&self) -> bool {
        self.up
            && matches!(
                self.adj,
                Some(Adj {
                    state: AdjState::Up,
                    ..
                })
            )
    }
}

/// Lifetime ordering of two versions of an LSP (ISO 10589 §7.3.16.1).
fn newer(seq_a: u32, purged_a: bool, seq_b: u32, purged_b: bool) -> std::cmp::Ordering {
    seq_a.cmp(&seq_b).then(purged_a.cmp(&purged_b))
}

/// The SPB view of a database: the topology for [`Spf`], plus what each bridge advertises.
#[derive(Debug, Clone, Default)]
pub struct SpbView {
    /// Bridges (SPB-capable LSPs, sorted by system ID) and two-way links.
    pub topology: Topology,
    /// I-SID memberships by bridge index.
    pub isids: Vec<Vec<IsidEntry>>,
}

/// An IS-IS instance. See the module documentation.
#[derive(Debug, Clone)]
pub struct Instance {
    cfg: Config,
    ports: Vec<Port>,
    lsdb: BTreeMap<LspId, StoredLsp>,
    own_seq: u32,
    regen_at: Option<Time>,
    refresh_at: Option<Time>,
    out: VecDeque<Transmit>,
    counters: Counters,
    started: bool,
    changes: u64,
}

impl Instance {
    /// A stopped instance; every port starts up (call
    /// [`handle_link_change`](Self::handle_link_change) for ports without carrier).
    pub fn new(cfg: Config) -> Self {
        let ports = (0..cfg.ports.len())
            .map(|i| Port {
                up: true,
                circuit_id: i as u32 + 1,
                adj: None,
                next_hello: Time::EPOCH,
                next_csnp: None,
                srm: BTreeMap::new(),
                ssn: BTreeMap::new(),
                psnp_at: None,
            })
            .collect();
        Self {
            cfg,
            ports,
            lsdb: BTreeMap::new(),
            own_seq: 0,
            regen_at: None,
            refresh_at: None,
            out: VecDeque::new(),
            counters: Counters::default(),
            started: false,
            changes: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Starts: hellos go out at once and our first LSP after `lsp_gen_delay`.
    pub fn start(&mut self, now: Time) {
        self.started = true;
        for p in &mut self.ports {
            p.next_hello = now;
        }
        self.regen_at = Some(now + self.cfg.lsp_gen_delay);
        self.run(now);
    }

    /// Counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Our LSP's current sequence number (0 before the first).
    pub fn own_seq(&self) -> u32 {
        self.own_seq
    }

    /// Incremented whenever the database content or an adjacency changes: callers
    /// recompute the SPF when it moves.
    pub fn change_count(&self) -> u64 {
        self.changes
    }

    /// The link-state database.
    pub fn lsdb(&self) -> &BTreeMap<LspId, StoredLsp> {
        &self.lsdb
    }

    /// Adjacencies, by port.
    pub fn adjacencies(&self) -> Vec<Adjacency> {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let a = p.adj.as_ref()?;
                Some(Adjacency {
                    port: i,
                    neighbor: a.neighbor,
                    state: a.state,
                    spb: a.spb,
                })
            })
            .collect()
    }

    /// The next frame to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Time> {
        if !self.started {
            return None;
        }
        let mut t: Option<Time> = None;
        let mut consider = |x: Option<Time>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        consider(self.regen_at);
        consider(self.refresh_at);
        for p in self.ports.iter().filter(|p| p.up) {
            consider(Some(p.next_hello));
            consider(p.adj.as_ref().map(|a| a.hold_until));
            consider(p.next_csnp);
            consider(p.psnp_at);
            consider(p.srm.values().min().copied());
        }
        consider(self.lsdb.values().map(|l| l.expires).min());
        t
    }

    /// Timers.
    pub fn handle_timeout(&mut self, now: Time) {
        self.run(now);
    }

    /// Carrier on `port` changed. Down drops the adjacency at once.
    pub fn handle_link_change(&mut self, now: Time, port: usize, up: bool) {
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        p.up = up;
        if up {
            p.next_hello = now;
        } else {
            self.adjacency_down(now, port);
        }
        self.run(now);
    }

    /// Changes the SPB metric advertised for `port`'s adjacency (1..=2^24-1); a new LSP
    /// follows after `lsp_gen_delay`.
    pub fn set_port_metric(&mut self, now: Time, port: usize, metric: u32) {
        let Some(p) = self.cfg.ports.get_mut(port) else {
            return;
        };
        p.metric = metric.clamp(1, 0x00ff_ffff);
        self.reconfigured(now);
    }

    /// Changes the bridge priority of the ECT tie-break.
    pub fn set_bridge_priority(&mut self, now: Time, priority: u16) {
        self.cfg.bridge_priority = priority;
        self.reconfigured(now);
    }

    /// Changes the I-SIDs this bridge serves.
    pub fn set_isids(&mut self, now: Time, isids: Vec<IsidEntry>) {
        self.cfg.isids = isids;
        self.reconfigured(now);
    }

    fn reconfigured(&mut self, now: Time) {
        if self.started {
            self.schedule_regen(now);
            self.run(now);
        }
    }

    /// The port of every neighbour with an Up adjacency.
    pub fn neighbor_ports(&self) -> BTreeMap<SystemId, usize> {
        self.ports
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_up())
            .filter_map(|(i, p)| Some((p.adj.as_ref()?.neighbor, i)))
            .collect()
    }

    /// A frame arrived on `port`.
    pub fn handle_frame(&mut self, now: Time, port: usize, frame: &[u8]) {
        self.counters.rx_frames += 1;
        if port >= self.ports.len() || !self.ports[port].up || !self.started {
            self.counters.drop_unsupported += 1;
            return;
        }
        let Ok(f) = Frame::parse(frame) else {
            self.counters.drop_malformed += 1;
            return;
        };
        let Ok(view) = IsisPacket::new_checked(f.pdu) else {
            self.counters.drop_malformed += 1;
            return;
        };
        let bytes = view.pdu();
        let Ok(pdu) = Pdu::parse(&view) else {
            self.counters.drop_malformed += 1;
            return;
        };
        if let Some(key) = &self.cfg.auth {
            // Purges keep TLV 10 (RFC 5304), so every PDU is checked alike.
            if auth::verify(bytes, key).is_err() {
                self.counters.drop_auth += 1;
                return;
            }
        }
        match pdu.kind {
            PduKind::P2pHello(h) => self.on_hello(now, port, h, &pdu),
            PduKind::Lsp(h) if h.level == Level::L1 => self.on_lsp(now, port, h, bytes, pdu),
            PduKind::Csnp(h) if h.level == Level::L1 => self.on_csnp(now, port, h, &pdu),
            PduKind::Psnp(h) if h.level == Level::L1 => self.on_psnp(now, port, &pdu, h),
            _ => self.counters.drop_unsupported += 1,
        }
        self.run(now);
    }

    fn on_hello(&mut self, now: Time, port: usize, h: P2pHelloHeader, pdu: &Pdu) {
        if h.source_id == self.cfg.system_id {
            self.counters.drop_unsupported += 1;
            return;
        }
        let area_ok = pdu.tlvs.iter().any(|t| match t {
            Tlv::AreaAddresses(a) => a.contains(&self.cfg.area),
            _ => false,
        });
        let three_way = pdu.find(|t| match t {
            Tlv::P2pAdjacency(a) => Some(*a),
            _ => None,
        });
        let (true, Some(tw)) = (area_ok, three_way) else {
            self.counters.drop_hello += 1;
            return;
        };
        let circuit_id = self.ports[port].circuit_id;
        if let Some(n) = tw.neighbor_system_id
            && (n != self.cfg.system_id
                || tw.neighbor_ext_circuit_id.is_some_and(|c| c != circuit_id))
        {
            self.counters.drop_three_way += 1;
            return;
        }
        let spb = pdu.tlvs.iter().any(|t| match t {
            Tlv::ProtocolsSupported(n) => n.contains(&NLPID_SPB),
            _ => false,
        });
        let hold = Duration::from_secs(i64::from(h.holding_time.max(1)));
        let p = &mut self.ports[port];
        let before = p.adj.as_ref().map(|a| a.state);
        let same_neighbor = p.adj.as_ref().is_some_and(|a| a.neighbor == h.source_id);
        if !same_neighbor && before == Some(AdjState::Up) {
            self.adjacency_down(now, port);
        }
        let current = if same_neighbor { before } else { None };
        // RFC 5303 §3.2 state table; `None` is Down.
        let next = match (current, tw.state) {
            (None, P2pAdjacency::DOWN) => Some(AdjState::Initializing),
            (None, P2pAdjacency::UP) => None,
            (_, P2pAdjacency::INITIALIZING | P2pAdjacency::UP) => Some(AdjState::Up),
            (Some(_), P2pAdjacency::DOWN) => Some(AdjState::Initializing),
            (c, _) => c,
        };
        if current == Some(AdjState::Up) && next != Some(AdjState::Up) {
            self.adjacency_down(now, port);
        }
        let p = &mut self.ports[port];
        match next {
            None => p.adj = None,
            Some(state) => {
                p.adj = Some(Adj {
                    neighbor: h.source_id,
                    circuit_id: tw.ext_local_circuit_id,
                    state,
                    hold_until: now + hold,
                    spb,
                });
            }
        }
        if next != current {
            // Answer at once so the handshake completes in one round trip.
            p.next_hello = now;
            self.changes += 1;
            if next == Some(AdjState::Up) {
                p.next_csnp = Some(now);
                self.schedule_regen(now);
            }
        }
    }

    fn adjacency_down(&mut self, now: Time, port: usize) {
        let p = &mut self.ports[port];
        let was_up = p.is_up()
            || matches!(
                p.adj,
                Some(Adj {
                    state: AdjState::Up,
                    ..
                })
            );
        p.adj = None;
        p.srm.clear();
        p.ssn.clear();
        p.psnp_at = None;
        p.next_csnp = None;
        if was_up {
            self.changes += 1;
            self.schedule_regen(now);
        }
    }

    fn schedule_regen(&mut self, now: Time) {
        if self.regen_at.is_none() {
            self.regen_at = Some(now + self.cfg.lsp_gen_delay);
        }
    }

    fn set_srm_all(&mut self, now: Time, id: LspId, except: Option<usize>) {
        for (i, p) in self.ports.iter_mut().enumerate() {
            if Some(i) != except && p.is_up() {
                p.srm.insert(id, now);
                p.ssn.remove(&id);
            }
        }
    }

    fn ack(&mut self, now: Time, port: usize, entry: LspEntry) {
        let delay = self.cfg.psnp_delay;
        let p = &mut self.ports[port];
        p.srm.remove(&entry.lsp_id);
        p.ssn.insert(entry.lsp_id, entry);
        p.psnp_at.get_or_insert(now + delay);
    }

    fn request(&mut self, now: Time, port: usize, entry: LspEntry) {
        let delay = self.cfg.psnp_delay;
        let p = &mut self.ports[port];
        p.ssn.insert(entry.lsp_id, entry);
        p.psnp_at.get_or_insert(now + delay);
    }

    fn on_lsp(&mut self, now: Time, port: usize, h: LspHeader, bytes: &[u8], pdu: Pdu) {
        if !self.ports[port].is_up() {
            self.counters.drop_no_adjacency += 1;
            return;
        }
        let purge = h.remaining_lifetime == 0;
        if !purge && !lsp_checksum_ok(bytes) {
            self.counters.drop_checksum += 1;
            return;
        }
        let id = h.lsp_id;
        let rx_entry = LspEntry {
            remaining_lifetime: h.remaining_lifetime,
            lsp_id: id,
            seq: h.seq,
            checksum: h.checksum,
        };
        if id.system_id == self.cfg.system_id {
            self.on_own_lsp(now, port, rx_entry, purge, bytes, pdu);
            return;
        }
        let order = self
            .lsdb
            .get(&id)
            .map(|l| newer(h.seq, purge, l.seq, l.purged));
        match order {
            None if purge => self.ack(now, port, rx_entry),
            None if self.lsdb.len() >= self.cfg.max_lsps => self.counters.drop_lsdb_full += 1,
            None | Some(std::cmp::Ordering::Greater) => {
                self.install(now, id, bytes.to_vec(), pdu, h);
                self.set_srm_all(now, id, Some(port));
                self.ack(now, port, rx_entry);
            }
            Some(std::cmp::Ordering::Equal) => self.ack(now, port, rx_entry),
            Some(std::cmp::Ordering::Less) => {
                let p = &mut self.ports[port];
                p.ssn.remove(&id);
                p.srm.insert(id, now);
            }
        }
    }

    fn on_own_lsp(
        &mut self,
        now: Time,
        port: usize,
        rx: LspEntry,
        purge: bool,
        bytes: &[u8],
        pdu: Pdu,
    ) {
        let id = rx.lsp_id;
        if id != LspId::node(self.cfg.system_id) {
            // A fragment or pseudonode of ours that we do not originate: purge it.
            if purge {
                self.ack(now, port, rx);
            } else if self.lsdb.get(&id).is_none_or(|l| rx.seq > l.seq) {
                if let PduKind::Lsp(h) = pdu.kind {
                    self.install(now, id, bytes.to_vec(), pdu, h);
                    self.purge(now, id);
                }
            } else {
                self.ack(now, port, rx);
            }
            return;
        }
        match self.lsdb.get(&id) {
            Some(ours) if newer(rx.seq, purge, ours.seq, ours.purged).is_lt() => {
                self.ports[port].srm.insert(id, now);
            }
            Some(ours) if rx.seq == ours.seq && !purge && rx.checksum == ours.checksum => {
                self.ack(now, port, rx);
            }
            _ => {
                // The network holds a copy at least as new as ours (a restart, or a purge
                // of our LSP): jump past it at once.
                self.own_seq = self.own_seq.max(rx.seq);
                self.counters.own_lsp_seq_jumps += 1;
                self.originate(now);
            }
        }
    }

    fn install(&mut self, now: Time, id: LspId, bytes: Vec<u8>, pdu: Pdu, h: LspHeader) {
        let purged = h.remaining_lifetime == 0;
        let expires = if purged {
            now + self.cfg.zero_age_lifetime
        } else {
            now + Duration::from_secs(i64::from(h.remaining_lifetime))
        };
        self.lsdb.insert(
            id,
            StoredLsp {
                bytes,
                pdu,
                seq: h.seq,
                checksum: h.checksum,
                expires,
                purged,
            },
        );
        self.changes += 1;
    }

    /// Turns a stored LSP into a purge (header and authentication only) and floods it.
    fn purge(&mut self, now: Time, id: LspId) {
        let Some(old) = self.lsdb.get(&id) else {
            return;
        };
        let PduKind::Lsp(mut h) = old.pdu.kind else {
            return;
        };
        h.remaining_lifetime = 0;
        h.checksum = 0;
        let tlvs = self.cfg.auth.iter().map(AuthKey::placeholder).collect();
        let pdu = Pdu::new(PduKind::Lsp(h), tlvs);
        let Some(bytes) = self.encode(&pdu) else {
            return;
        };
        self.install(now, id, bytes, pdu, h);
        self.set_srm_all(now, id, None);
    }

    fn encode(&self, pdu: &Pdu) -> Option<Vec<u8>> {
        let mut bytes = pdu.to_vec().ok()?;
        if let Some(key) = &self.cfg.auth {
            auth::sign(&mut bytes, key).ok()?;
        }
        Some(bytes)
    }

    fn own_tlvs(&self) -> Vec<Tlv> {
        let mut tlvs: Vec<Tlv> = self.cfg.auth.iter().map(AuthKey::placeholder).collect();
        tlvs.push(Tlv::AreaAddresses(vec![self.cfg.area.clone()]));
        tlvs.push(Tlv::ProtocolsSupported(vec![NLPID_IPV4, NLPID_SPB]));
        if !self.cfg.ipv4_addresses.is_empty() {
            tlvs.push(Tlv::IpInterfaceAddresses(self.cfg.ipv4_addresses.clone()));
        }
        if let Some(h) = &self.cfg.hostname {
            tlvs.push(Tlv::Hostname(
                h.as_bytes().iter().take(255).copied().collect(),
            ));
        }
        let reach: Vec<ExtIsReach> = self
            .ports
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_up())
            .filter_map(|(i, p)| {
                let a = p.adj.as_ref()?;
                let mut neighbor = [0; 7];
                neighbor[..6].copy_from_slice(&a.neighbor.0);
                let metric = self.cfg.ports[i].metric.clamp(1, 0x00ff_ffff);
                Some(ExtIsReach {
                    neighbor,
                    metric,
                    sub_tlvs: vec![IsReachSubTlv::SpbLinkMetric {
                        metric,
                        ports: vec![0x8000 | (i as u16 + 1)],
                    }],
                })
            })
            .collect();
        // 19 octets per neighbour: 13 per TLV.
        for chunk in reach.chunks(13) {
            tlvs.push(Tlv::ExtIsReach(chunk.to_vec()));
        }
        let mut root = [0; 8];
        root[..2].copy_from_slice(&self.cfg.bridge_priority.to_be_bytes());
        root[2..].copy_from_slice(&self.cfg.system_id.0);
        let sp_source = u32::from_be_bytes([
            0,
            self.cfg.system_id.0[3] & 0x0f,
            self.cfg.system_id.0[4],
            self.cfg.system_id.0[5],
        ]);
        let trees = self
            .cfg
            .ects
            .iter()
            .enumerate()
            .map(|(i, e)| SpbTree {
                flags: 0xc0,
                ect: e.value(),
                base_vid: (self.cfg.base_vid + i as u16) & 0xfff,
                spvid: 0,
            })
            .collect();
        let mut subs = vec![MtCapSubTlv::SpbInstance(SpbInstance {
            cist_root_id: root,
            cist_external_root_path_cost: 0,
            bridge_priority: self.cfg.bridge_priority,
            sp_source_word: sp_source,
            trees,
        })];
        // 4 octets per I-SID after 8 of header: 60 per sub-TLV, 2 sub-TLVs per TLV.
        for chunk in self.cfg.isids.chunks(60) {
            subs.push(MtCapSubTlv::SpbmServiceId(SpbmServiceId {
                b_mac: self.cfg.system_id.0,
                base_vid_word: self.cfg.base_vid & 0xfff,
                isids: chunk.to_vec(),
            }));
        }
        for chunk in subs.chunks(2) {
            tlvs.push(Tlv::MtCapability(MtCapability {
                mt: 0,
                sub_tlvs: chunk.to_vec(),
            }));
        }
        tlvs
    }

    fn originate(&mut self, now: Time) {
        self.regen_at = None;
        self.own_seq = self.own_seq.wrapping_add(1).max(1);
        let id = LspId::node(self.cfg.system_id);
        let h = LspHeader {
            level: Level::L1,
            remaining_lifetime: self.cfg.lsp_lifetime_secs.max(1),
            lsp_id: id,
            seq: self.own_seq,
            checksum: 0,
            flags: 0x01,
        };
        let mut pdu = Pdu::new(PduKind::Lsp(h), self.own_tlvs());
        let Some(mut bytes) = self.encode(&pdu) else {
            return;
        };
        if bytes.len() > MAX_PDU_LEN {
            // Too many neighbours or I-SIDs for one fragment: keep the old LSP.
            return;
        }
        fill_lsp_checksum(&mut bytes);
        let checksum = u16::from_be_bytes([bytes[24], bytes[25]]);
        let PduKind::Lsp(h) = &mut pdu.kind else {
            return;
        };
        h.checksum = checksum;
        let h = *h;
        self.install(now, id, bytes, pdu, h);
        self.set_srm_all(now, id, None);
        self.refresh_at = Some(now + self.cfg.lsp_refresh);
    }

    fn on_csnp(&mut self, now: Time, port: usize, h: CsnpHeader, pdu: &Pdu) {
        if !self.ports[port].is_up() {
            self.counters.drop_no_adjacency += 1;
            return;
        }
        let mut listed = BTreeSet::new();
        for e in pdu.tlvs.iter().flat_map(|t| match t {
            Tlv::LspEntries(v) => v.as_slice(),
            _ => &[],
        }) {
            listed.insert(e.lsp_id);
            self.compare_entry(now, port, *e);
        }
        // What we have in the range and the neighbour does not: send it.
        let missing: Vec<LspId> = self
            .lsdb
            .range(h.start..=h.end.max(h.start))
            .filter(|(id, l)| !listed.contains(id) && !l.purged)
            .map(|(id, _)| *id)
            .collect();
        for id in missing {
            self.ports[port].srm.insert(id, now);
        }
    }

    fn on_psnp(&mut self, now: Time, port: usize, pdu: &Pdu, _h: PsnpHeader) {
        if !self.ports[port].is_up() {
            self.counters.drop_no_adjacency += 1;
            return;
        }
        for e in pdu.tlvs.iter().flat_map(|t| match t {
            Tlv::LspEntries(v) => v.as_slice(),
            _ => &[],
        }) {
            self.compare_entry(now, port, *e);
        }
    }

    /// One SNP entry against the database (ISO 10589 §7.3.15.2).
    fn compare_entry(&mut self, now: Time, port: usize, e: LspEntry) {
        let own = e.lsp_id == LspId::node(self.cfg.system_id);
        let epurge = e.remaining_lifetime == 0;
        match self.lsdb.get(&e.lsp_id) {
            Some(l) => match newer(e.seq, epurge, l.seq, l.purged) {
                std::cmp::Ordering::Equal => {
                    self.ports[port].srm.remove(&e.lsp_id);
                }
                std::cmp::Ordering::Less => {
                    self.ports[port].srm.insert(e.lsp_id, now);
                }
                std::cmp::Ordering::Greater if own => {
                    self.own_seq = self.own_seq.max(e.seq);
                    self.counters.own_lsp_seq_jumps += 1;
                    self.originate(now);
                }
                std::cmp::Ordering::Greater => {
                    let mut mine = l.entry(e.lsp_id, now);
                    mine.remaining_lifetime = e.remaining_lifetime;
                    self.request(now, port, mine);
                }
            },
            None if own && e.seq > 0 => {
                // Before our first LSP: remember how far to jump.
                self.own_seq = self.own_seq.max(e.seq);
                self.counters.own_lsp_seq_jumps += 1;
            }
            None if e.seq > 0 && !epurge => self.request(
                now,
                port,
                LspEntry {
                    seq: 0,
                    checksum: 0,
                    ..e
                },
            ),
            None => {}
        }
    }

    /// Runs everything due at `now`.
    fn run(&mut self, now: Time) {
        if !self.started {
            return;
        }
        if self.regen_at.is_some_and(|t| t <= now) || self.refresh_at.is_some_and(|t| t <= now) {
            self.originate(now);
        }
        self.age(now);
        for i in 0..self.ports.len() {
            if !self.ports[i].up {
                continue;
            }
            if self.ports[i]
                .adj
                .as_ref()
                .is_some_and(|a| a.hold_until <= now)
            {
                self.adjacency_down(now, i);
            }
            if self.ports[i].next_hello <= now {
                self.send_hello(i);
                self.ports[i].next_hello = now + self.cfg.hello_interval;
            }
            if self.ports[i].next_csnp.is_some_and(|t| t <= now) {
                self.send_csnps(now, i);
                self.ports[i].next_csnp = Some(now + self.cfg.csnp_interval);
            }
            self.send_lsps(now, i);
            if self.ports[i].psnp_at.is_some_and(|t| t <= now) {
                self.send_psnps(i);
            }
        }
    }

    fn age(&mut self, now: Time) {
        let due: Vec<(LspId, bool)> = self
            .lsdb
            .iter()
            .filter(|(_, l)| l.expires <= now)
            .map(|(id, l)| (*id, l.purged))
            .collect();
        for (id, purged) in due {
            if purged {
                self.lsdb.remove(&id);
                for p in &mut self.ports {
                    p.srm.remove(&id);
                    p.ssn.remove(&id);
                }
                self.changes += 1;
            } else if id == LspId::node(self.cfg.system_id) {
                self.originate(now);
            } else {
                self.counters.lsps_expired += 1;
                self.purge(now, id);
            }
        }
    }

    fn push(&mut self, port: usize, pdu: &[u8]) -> bool {
        let src = self.cfg.ports[port].mac;
        match Frame::encapsulate(self.cfg.control_mac, src, pdu) {
            Ok(frame) => {
                self.out.push_back(Transmit { port, frame });
                true
            }
            Err(_) => false,
        }
    }

    fn send_hello(&mut self, port: usize) {
        let p = &self.ports[port];
        let mut tlvs: Vec<Tlv> = self.cfg.auth.iter().map(AuthKey::placeholder).collect();
        tlvs.push(Tlv::ProtocolsSupported(vec![NLPID_IPV4, NLPID_SPB]));
        tlvs.push(Tlv::AreaAddresses(vec![self.cfg.area.clone()]));
        let tw = match &p.adj {
            None => P2pAdjacency {
                state: P2pAdjacency::DOWN,
                ext_local_circuit_id: Some(p.circuit_id),
                neighbor_system_id: None,
                neighbor_ext_circuit_id: None,
            },
            Some(a) => P2pAdjacency {
                state: if a.state == AdjState::Up {
                    P2pAdjacency::UP
                } else {
                    P2pAdjacency::INITIALIZING
                },
                ext_local_circuit_id: Some(p.circuit_id),
                neighbor_system_id: Some(a.neighbor),
                neighbor_ext_circuit_id: Some(a.circuit_id.unwrap_or(0)),
            },
        };
        tlvs.push(Tlv::P2pAdjacency(tw));
        if !self.cfg.ipv4_addresses.is_empty() {
            tlvs.push(Tlv::IpInterfaceAddresses(self.cfg.ipv4_addresses.clone()));
        }
        tlvs.push(Tlv::MtPortCapability(MtPortCapability {
            mt: 0,
            sub_tlvs: vec![MtPortSubTlv::SpbBaseVids(
                self.cfg
                    .ects
                    .iter()
                    .enumerate()
                    .map(|(i, e)| BaseVid::new(e.value(), self.cfg.base_vid + i as u16, true, true))
                    .collect(),
            )],
        }));
        let h = P2pHelloHeader {
            circuit_type: 1,
            source_id: self.cfg.system_id,
            holding_time: self.cfg.holding_time_secs.max(1),
            local_circuit_id: p.circuit_id as u8,
        };
        let mut pdu = Pdu::new(PduKind::P2pHello(h), tlvs);
        if self.cfg.hello_padding {
            let mut len = pdu.buffer_len();
            while len + 2 < MAX_PDU_LEN {
                let n = (MAX_PDU_LEN - len - 2).min(255);
                pdu.tlvs.push(Tlv::Padding(vec![0; n]));
                len += n + 2;
            }
        }
        if let Some(bytes) = self.encode(&pdu)
            && self.push(port, &bytes)
        {
            self.counters.tx_hellos += 1;
        }
    }

    fn send_lsps(&mut self, now: Time, port: usize) {
        let due: Vec<LspId> = self.ports[port]
            .srm
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(l) = self.lsdb.get(&id) else {
                self.ports[port].srm.remove(&id);
                continue;
            };
            let mut bytes = l.bytes.clone();
            bytes[10..12].copy_from_slice(&l.remaining_secs(now).to_be_bytes());
            if self.push(port, &bytes) {
                self.counters.tx_lsps += 1;
            }
            self.ports[port]
                .srm
                .insert(id, now + self.cfg.lsp_retransmit);
        }
    }

    fn source_id(&self, port: usize) -> [u8; 7] {
        let mut s = [0; 7];
        s[..6].copy_from_slice(&self.cfg.system_id.0);
        s[6] = self.ports[port].circuit_id as u8;
        s
    }

    fn send_csnps(&mut self, now: Time, port: usize) {
        let entries: Vec<LspEntry> = self.lsdb.iter().map(|(id, l)| l.entry(*id, now)).collect();
        // 15 entries per TLV, 5 TLVs (75 entries) per CSNP keeps within 1497 octets.
        let chunks: Vec<&[LspEntry]> = entries.chunks(75).collect();
        let n = chunks.len().max(1);
        for i in 0..n {
            let chunk = chunks.get(i).copied().unwrap_or(&[]);
            let start = if i == 0 { LspId::MIN } else { chunk[0].lsp_id };
            let end = if i + 1 == n {
                LspId::MAX
            } else {
                chunk[chunk.len() - 1].lsp_id
            };
            let mut tlvs: Vec<Tlv> = self.cfg.auth.iter().map(AuthKey::placeholder).collect();
            tlvs.extend(chunk.chunks(15).map(|c| Tlv::LspEntries(c.to_vec())));
            let pdu = Pdu::new(
                PduKind::Csnp(CsnpHeader {
                    level: Level::L1,
                    source_id: self.source_id(port),
                    start,
                    end,
                }),
                tlvs,
            );
            if let Some(bytes) = self.encode(&pdu)
                && self.push(port, &bytes)
            {
                self.counters.tx_csnps += 1;
            }
        }
    }

    fn send_psnps(&mut self, port: usize) {
        let entries: Vec<LspEntry> = std::mem::take(&mut self.ports[port].ssn)
            .into_values()
            .collect();
        self.ports[port].psnp_at = None;
        for chunk in entries.chunks(75) {
            let mut tlvs: Vec<Tlv> = self.cfg.auth.iter().map(AuthKey::placeholder).collect();
            tlvs.extend(chunk.chunks(15).map(|c| Tlv::LspEntries(c.to_vec())));
            let pdu = Pdu::new(
                PduKind::Psnp(PsnpHeader {
                    level: Level::L1,
                    source_id: self.source_id(port),
                }),
                tlvs,
            );
            if let Some(bytes) = self.encode(&pdu)
                && self.push(port, &bytes)
            {
                self.counters.tx_psnps += 1;
            }
        }
    }

    /// Builds the SPB topology from the database: every bridge whose LSP advertises NLPID
    /// 0xC1, ordered by system ID (so every bridge numbers them alike), and a link wherever
    /// both ends advertise each other, with the larger of the two SPB metrics.
    pub fn spb_view(&self) -> SpbView {
        spb_view(&self.lsdb)
    }

    /// Unicast forwarding entries of this bridge: for every algorithm of `spf` and every
    /// other reachable bridge, the port of the next hop.
    pub fn unicast_fdb(
        &self,
        view: &SpbView,
        spf: &Spf,
    ) -> BTreeMap<(EctAlgorithm, SystemId), usize> {
        let topo = &view.topology;
        let mut fdb = BTreeMap::new();
        let Some(me) = topo.find(self.cfg.system_id) else {
            return fdb;
        };
        let port_of = self.neighbor_ports();
        for &ect in spf.ects() {
            for (dst, b) in topo.bridges().iter().enumerate() {
                if dst == me {
                    continue;
                }
                if let Some(nh) = spf.next_hop(ect, me, dst)
                    && let Some(&port) = port_of.get(&topo.bridges()[nh].system_id)
                {
                    fdb.insert((ect, b.system_id), port);
                }
            }
        }
        fdb
    }
}

/// [`Instance::spb_view`] over any database.
pub fn spb_view(lsdb: &BTreeMap<LspId, StoredLsp>) -> SpbView {
    let mut systems: BTreeMap<SystemId, Advert> = BTreeMap::new();
    let mut rest = lsdb.iter().peekable();
    while let Some(&(first, _)) = rest.peek() {
        let sys = first.system_id;
        let mut mine = Vec::new();
        while let Some(e) = rest.next_if(|(id, _)| id.system_id == sys) {
            mine.push(e);
        }
        if let Some(a) = Advert::parse(mine) {
            systems.insert(sys, a);
        }
    }
    let mut view = SpbView::default();
    for (sys, a) in systems.iter().filter(|(_, a)| a.spb) {
        if view
            .topology
            .add_bridge(BridgeId::new(a.priority, *sys))
            .is_ok()
        {
            view.isids.push(a.isids.iter().map(|&(_, e)| e).collect());
        }
    }
    for (x, a) in &systems {
        for y in a.neighbors.keys().filter(|y| *y > x) {
            if let (Some(i), Some(j), Some(m)) = (
                view.topology.find(*x),
                view.topology.find(*y),
                link_metric(Some(a), systems.get(y), *x, *y),
            ) {
                let _ = view.topology.set_link(i, j, m);
            }
        }
    }
    view
}
