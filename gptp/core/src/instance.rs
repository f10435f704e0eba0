//! The time-aware system: N ports, the BMCA, the servo, and the relay between the slave
//! port and the master ports.
//!
//! # Driving an [`Instance`]
//!
//! - Inputs: [`handle_frame`](Instance::handle_frame) with the PTP payload of a received
//!   frame and its receive timestamp; [`handle_tx_timestamp`](Instance::handle_tx_timestamp)
//!   with the transmit timestamp of a frame sent with a [`TxToken`];
//!   [`handle_timer`](Instance::handle_timer) with the local clock reading once the deadline
//!   from [`poll_timeout`](Instance::poll_timeout) has passed.
//! - Outputs: after each input, drain [`poll_action`](Instance::poll_action) until `None`
//!   and carry the actions out in order (a clock step comes before the sends that follow
//!   it), then re-arm the timer from [`poll_timeout`](Instance::poll_timeout).
//! - Every time is a reading of the local clock the servo disciplines; the instance never
//!   reads a clock. A received frame's timestamp stands for "now" when the instance arms
//!   timers from it.
//!
//! # Relay arithmetic (802.1AS-2020 clause 10.2, as `reference/gptp.md` describes)
//!
//! On the slave port, a Sync received at local `rx` and its Follow_Up carrying
//! `preciseOriginTimestamp`, `correctionField` and `rateRatio_up = 1 + CSRO * 2^-41` give:
//!
//! - grandmaster time at `rx`: `origin + correction + meanLinkDelay * rateRatio_up`
//!   (meanLinkDelay is in the neighbor's time base); the servo gets `rx` minus that;
//! - `rateRatio = rateRatio_up * neighborRateRatio` (grandmaster rate over ours);
//! - `upstreamTxTime = rx - meanLinkDelay / neighborRateRatio` (local time base).
//!
//! Each master port then sends a Sync and, once its transmit timestamp `tx` is known, a
//! Follow_Up with the same `preciseOriginTimestamp`, `correctionField = correction +
//! (tx - upstreamTxTime) * rateRatio` (link delay plus residence time in grandmaster time)
//! and `cumulativeScaledRateOffset = (rateRatio - 1) * 2^41`. Time is never regenerated
//! from the local clock, so a relay whose own clock is off does not disturb the time it
//! passes on.

use std::collections::VecDeque;

use crate::bmca::{PriorityVector, SystemIdentity};
use crate::config::InstanceConfig;
use crate::port::{
    AnnounceInfo, PdelayExchange, PendingSync, Port, PortRole, PortStatus, scale, unscale,
};
use crate::servo::{PiServo, Servo, ServoState};
use crate::wire::{
    AnnounceBody, Body, ClockIdentity, Flags, FollowUpBody, FollowUpInfo, HeaderRepr,
    IntervalRequestFlags, Message, MessageIntervalRequest, PdelayRespBody, PdelayRespFollowUpBody,
    PortIdentity, SignalingBody, SyncBody, Tlv,
};
use tsn_time::{Duration, PtpTimestamp, Time, TimeInterval};

/// Names one transmitted event message whose timestamp the instance wants back.
///
/// Neither `Copy` nor `Clone`: each token is answered at most once. Shells that must pass
/// it through an integer API use [`into_raw`](Self::into_raw) and
/// [`from_raw`](Self::from_raw).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TxToken(u64);

impl TxToken {
    /// The number inside, for shells whose timestamp API carries an integer.
    pub fn into_raw(self) -> u64 {
        self.0
    }
    /// Rebuilds a token from [`into_raw`](Self::into_raw).
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }
}

/// Something that happened, for logs and metrics.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A port changed role.
    PortRole {
        /// Port index.
        port: usize,
        /// New role.
        role: PortRole,
    },
    /// A port's asCapable changed.
    AsCapable {
        /// Port index.
        port: usize,
        /// New value.
        capable: bool,
    },
    /// The selected grandmaster changed (`None`: no grandmaster).
    Grandmaster(Option<ClockIdentity>),
    /// The servo changed state.
    Servo(ServoState),
}

/// What the shell must do. Carry actions out in the order they come.
#[must_use]
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Send `data` (a PTP message; the shell adds the Ethernet header with destination
    /// 01-80-C2-00-00-0E and ethertype 0x88F7) on port `port`, and if `token` is set report
    /// its transmit timestamp through [`Instance::handle_tx_timestamp`].
    Send {
        /// Port index (portNumber - 1).
        port: usize,
        /// The PTP message.
        data: Vec<u8>,
        /// Timestamp request.
        token: Option<TxToken>,
    },
    /// Set the clock's frequency adjustment to `ppb` (replacing the previous one).
    AdjustFrequency {
        /// Parts per billion, positive: faster.
        ppb: f64,
    },
    /// Jump the clock by `offset`.
    StepClock {
        /// Positive: forward.
        offset: Duration,
    },
    /// A state change to log or count.
    Event(Event),
}

/// Counters of dropped and unusual input (peers cannot crash us, but we count them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames that did not parse.
    pub malformed: u64,
    /// Frames for a port index we do not have.
    pub bad_port: u64,
    /// Messages of another domain.
    pub other_domain: u64,
    /// Our own messages coming back (a loop or a hub).
    pub own_messages: u64,
    /// Announces dropped because the path trace holds our clock identity.
    pub path_trace_rejected: u64,
    /// Announces or Syncs dropped on a port that is not asCapable or not in the right role.
    pub ignored: u64,
    /// Follow_Ups, Pdelay responses without a matching request or Sync.
    pub unmatched: u64,
    /// Pdelay responses that never came.
    pub lost_responses: u64,
    /// Transmit timestamps for a token we do not know.
    pub unknown_tokens: u64,
    /// Messages of types 802.1AS does not use on a link.
    pub unsupported: u64,
    /// Syncs forwarded (relay) or originated (grandmaster), per master port.
    pub syncs_sent: u64,
    /// Sync/Follow_Up pairs received on the slave port.
    pub syncs_received: u64,
    /// Pdelay_Resp from a second responder to one of our requests.
    pub multiple_pdelay_responses: u64,
    /// Times a port halted its Pdelay requests after repeated multiple responses.
    pub pdelay_halts: u64,
    /// Signaling messages addressed to another port.
    pub not_for_us: u64,
    /// Syncs whose offset the servo ignored as an outlier.
    pub servo_outliers: u64,
}

/// Upstream timing carried to the master ports.
#[derive(Debug, Clone, Copy)]
struct Forward {
    origin: PtpTimestamp,
    correction: Duration,
    upstream_tx: Time,
    rate_ratio: f64,
    info: FollowUpInfo,
}

#[derive(Debug)]
enum PendingTx {
    PdelayReq {
        port: usize,
        seq: u16,
    },
    PdelayResp {
        port: usize,
        seq: u16,
        requester: PortIdentity,
    },
    Sync {
        port: usize,
        seq: u16,
        forward: Option<Forward>,
    },
}

/// The selected grandmaster.
#[derive(Debug, Clone, PartialEq)]
struct Selection {
    root: SystemIdentity,
    steps_removed: u16,
    slave_port: Option<usize>,
    path: Vec<ClockIdentity>,
    current_utc_offset: i16,
    time_source: crate::wire::TimeSource,
}

/// One time-aware system in one gPTP domain: an end station (one port) or a bridge (N
/// ports) acting as a time-aware relay. Inputs are the `handle_*` methods; after each,
/// drain [`poll_action`](Self::poll_action) and re-arm the timer from
/// [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct Instance {
    cfg: InstanceConfig,
    ports: Vec<Port>,
    servo: Box<dyn Servo>,
    actions: VecDeque<Action>,
    next_token: u64,
    pending: Vec<(u64, PendingTx)>,
    selection: Option<Selection>,
    counters: Counters,
    started: bool,
    last_offset: Option<Duration>,
    servo_state: ServoState,
}

const PTP_DEFAULT_LOG_INTERVAL_PDELAY_RESP: i8 = 0x7f;

impl Instance {
    /// A new instance with the PI servo of `cfg.servo`.
    pub fn new(cfg: InstanceConfig) -> Self {
        let log_sync = cfg.ports.first().map_or(-3, |p| p.log_sync_interval);
        let servo = Box::new(PiServo::new(cfg.servo, log_sync));
        Self::with_servo(cfg, servo)
    }

    /// A new instance with another servo.
    pub fn with_servo(cfg: InstanceConfig, servo: Box<dyn Servo>) -> Self {
        let ports = cfg.ports.iter().map(|p| Port::new(*p)).collect();
        Self {
            cfg,
            ports,
            servo,
            actions: VecDeque::new(),
            next_token: 1,
            pending: Vec::new(),
            selection: None,
            counters: Counters::default(),
            started: false,
            last_offset: None,
            servo_state: ServoState::Unlocked,
        }
    }

    // ----- getters -----

    /// Input counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }
    /// Number of ports.
    pub fn num_ports(&self) -> usize {
        self.ports.len()
    }
    /// A port's status, or `None` for a bad index.
    pub fn port_status(&self, port: usize) -> Option<PortStatus> {
        self.ports.get(port).map(Port::status)
    }
    /// The selected grandmaster's clock identity.
    pub fn grandmaster(&self) -> Option<ClockIdentity> {
        self.selection.as_ref().map(|s| s.root.clock_identity)
    }
    /// Whether this system is the grandmaster.
    pub fn is_grandmaster(&self) -> bool {
        self.selection
            .as_ref()
            .is_some_and(|s| s.slave_port.is_none())
    }
    /// stepsRemoved from the grandmaster (0 on the grandmaster).
    pub fn steps_removed(&self) -> Option<u16> {
        self.selection.as_ref().map(|s| s.steps_removed)
    }
    /// The slave port, if any.
    pub fn slave_port(&self) -> Option<usize> {
        self.selection.as_ref().and_then(|s| s.slave_port)
    }
    /// The last offset (local minus grandmaster) measured on the slave port.
    pub fn last_offset(&self) -> Option<Duration> {
        self.last_offset
    }
    /// The servo state.
    pub fn servo_state(&self) -> ServoState {
        self.servo_state
    }

    // ----- outputs -----

    /// The next action to carry out.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The local-clock instant at which [`handle_timer`](Self::handle_timer) is due. Before
    /// the first call of `handle_timer` it is [`Time::EPOCH`]: "at once".
    pub fn poll_timeout(&self) -> Option<Time> {
        if !self.started {
            return Some(Time::EPOCH);
        }
        self.ports.iter().flat_map(Port::deadlines).min()
    }

    // ----- inputs -----

    /// A timer deadline passed; `now` is the local clock.
    pub fn handle_timer(&mut self, now: Time) {
        if !self.started {
            self.started = true;
            for p in &mut self.ports {
                if p.cfg.enabled {
                    p.next_pdelay = Some(now);
                }
            }
            self.update_roles(now);
        }
        let mut reselect = false;
        for i in 0..self.ports.len() {
            let p = &mut self.ports[i];
            if p.announce_timeout.is_some_and(|t| t <= now)
                || p.sync_timeout.is_some_and(|t| t <= now)
            {
                p.announce_timeout = None;
                p.sync_timeout = None;
                p.info = None;
                p.pending_sync = None;
                reselect = true;
            }
            if self.ports[i].next_pdelay.is_some_and(|t| t <= now) {
                self.pdelay_timer(i, now);
            }
        }
        if reselect {
            self.update_roles(now);
        }
        for i in 0..self.ports.len() {
            if self.ports[i].next_announce.is_some_and(|t| t <= now) {
                self.send_announce(i);
                let p = &mut self.ports[i];
                p.next_announce = p.log_announce.map(|l| now + Duration::from_log_interval(l));
            }
            if self.ports[i].next_sync.is_some_and(|t| t <= now) {
                self.send_gm_sync(i);
                let p = &mut self.ports[i];
                p.next_sync = p.log_sync.map(|l| now + Duration::from_log_interval(l));
            }
        }
    }

    /// A frame arrived on `port` (index, 0-based). `data` is the PTP payload (after the
    /// Ethernet header; padding allowed), `rx_ts` the receive timestamp. Malformed frames
    /// are counted and dropped.
    pub fn handle_frame(&mut self, port: usize, data: &[u8], rx_ts: Time) {
        if port >= self.ports.len() {
            self.counters.bad_port += 1;
            return;
        }
        let Ok(msg) = Message::parse_bytes(data) else {
            self.counters.malformed += 1;
            tracing::trace!(port, len = data.len(), "malformed frame dropped");
            return;
        };
        if msg.header.domain_number != self.cfg.domain_number {
            self.counters.other_domain += 1;
            return;
        }
        if msg.header.source_port_identity.clock_identity == self.cfg.clock_identity {
            self.counters.own_messages += 1;
            return;
        }
        match &msg.body {
            Body::PdelayReq => self.rx_pdelay_req(port, &msg, rx_ts),
            Body::PdelayResp(b) => self.rx_pdelay_resp(port, &msg, b, rx_ts),
            Body::PdelayRespFollowUp(b) => self.rx_pdelay_resp_fup(port, &msg, b),
            Body::Announce(b) => self.rx_announce(port, &msg, b, rx_ts),
            Body::Sync(_) => self.rx_sync(port, &msg, rx_ts),
            Body::FollowUp(b) => self.rx_follow_up(port, &msg, b, rx_ts),
            Body::Signaling(b) => self.rx_signaling(port, &msg, b, rx_ts),
            Body::Other { .. } => self.counters.unsupported += 1,
        }
    }

    /// The transmit timestamp of the frame sent with `token` on `port`.
    pub fn handle_tx_timestamp(&mut self, port: usize, token: TxToken, tx_ts: Time) {
        let Some(pos) = self.pending.iter().position(|(t, _)| *t == token.0) else {
            self.counters.unknown_tokens += 1;
            return;
        };
        let (_, pending) = self.pending.swap_remove(pos);
        match pending {
            PendingTx::PdelayReq { port: p, seq } => {
                if let Some(ex) = self.ports[p].pdelay.as_mut().filter(|e| e.seq == seq) {
                    ex.t1 = Some(tx_ts);
                    self.try_finish_pdelay(p, None);
                }
            }
            PendingTx::PdelayResp {
                port: p,
                seq,
                requester,
            } => {
                let (origin, frac) = split(tx_ts);
                let msg = Message {
                    header: self.header(
                        p,
                        seq,
                        TimeInterval::from_duration(frac),
                        PTP_DEFAULT_LOG_INTERVAL_PDELAY_RESP,
                    ),
                    body: Body::PdelayRespFollowUp(PdelayRespFollowUpBody {
                        response_origin_timestamp: origin,
                        requesting_port_identity: requester,
                    }),
                    tlvs: Vec::new(),
                };
                self.send(p, &msg, None);
            }
            PendingTx::Sync {
                port: p,
                seq,
                forward,
            } => {
                let (origin, correction, info) = match forward {
                    Some(f) => {
                        let c = f.correction + scale(tx_ts - f.upstream_tx, f.rate_ratio);
                        (f.origin, c, f.info)
                    }
                    None => {
                        let (o, frac) = split(tx_ts);
                        (o, frac, FollowUpInfo::default())
                    }
                };
                let log = self.ports[p]
                    .log_sync
                    .unwrap_or(self.ports[p].cfg.log_sync_interval);
                let msg = Message {
                    header: self.header(p, seq, TimeInterval::from_duration(correction), log),
                    body: Body::FollowUp(FollowUpBody {
                        precise_origin_timestamp: origin,
                    }),
                    tlvs: vec![Tlv::FollowUpInfo(info)],
                };
                self.send(p, &msg, None);
            }
        }
        let _ = port;
    }

    /// Asks the neighbor on `port` to change its intervals (a Signaling message with a
    /// message interval request TLV).
    pub fn request_intervals(&mut self, port: usize, request: MessageIntervalRequest) {
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        p.signaling_seq = p.signaling_seq.wrapping_add(1);
        let seq = p.signaling_seq;
        let msg = Message {
            header: self.header(port, seq, TimeInterval(0), 0x7f),
            body: Body::Signaling(SignalingBody {
                target_port_identity: PortIdentity::ALL,
            }),
            tlvs: vec![Tlv::MessageIntervalRequest(request)],
        };
        self.send(port, &msg, None);
    }

    // ----- internals -----

    fn port_identity(&self, port: usize) -> PortIdentity {
        PortIdentity {
            clock_identity: self.cfg.clock_identity,
            port_number: port as u16 + 1,
        }
    }

    fn header(&self, port: usize, seq: u16, correction: TimeInterval, log: i8) -> HeaderRepr {
        HeaderRepr {
            minor_version_ptp: 1,
            domain_number: self.cfg.domain_number,
            correction_field: correction,
            source_port_identity: self.port_identity(port),
            sequence_id: seq,
            log_message_interval: log,
            ..HeaderRepr::default()
        }
    }

    fn token(&mut self, pending: PendingTx) -> TxToken {
        let t = self.next_token;
        self.next_token += 1;
        self.pending.push((t, pending));
        // Bound the table: timestamps that never came must not pile up.
        if self.pending.len() > 256 {
            self.pending.remove(0);
        }
        TxToken(t)
    }

    fn send(&mut self, port: usize, msg: &Message, token: Option<TxToken>) {
        // Only a timestamp outside the 48-bit range can fail to emit; nothing to send then.
        if let Ok(data) = msg.to_vec() {
            self.actions.push_back(Action::Send { port, data, token });
        }
    }

    fn event(&mut self, e: Event) {
        match &e {
            Event::Grandmaster(gm) => tracing::info!(grandmaster = ?gm, "grandmaster changed"),
            Event::AsCapable { port, capable } => tracing::info!(port, capable, "asCapable"),
            Event::PortRole { port, role } => tracing::debug!(port, ?role, "port role"),
            Event::Servo(state) => tracing::debug!(?state, "servo state"),
        }
        self.actions.push_back(Action::Event(e));
    }

    fn own_system(&self) -> SystemIdentity {
        SystemIdentity {
            priority1: if self.cfg.gm_capable {
                self.cfg.priority1
            } else {
                255
            },
            clock_quality: self.cfg.clock_quality,
            priority2: self.cfg.priority2,
            clock_identity: self.cfg.clock_identity,
        }
    }

    // --- peer delay ---

    fn pdelay_timer(&mut self, i: usize, now: Time) {
        let p = &mut self.ports[i];
        if p.pdelay_halted_until.is_some_and(|t| t <= now) {
            p.pdelay_halted_until = None;
            p.multiple_run = 0;
        }
        if p.pdelay_halted_until.is_some() {
            return;
        }
        if let Some(ex) = p.pdelay {
            if ex.multiple {
                p.multiple_run += 1;
            } else {
                p.multiple_run = 0;
            }
            if !ex.done {
                p.lost += 1;
                self.counters.lost_responses += 1;
            }
        }
        if p.multiple_run >= crate::config::MULTIPLE_RESPONSES_LIMIT {
            // Several responders answer each request: a device that is not a time-aware
            // system is between us and them. Stop asking for a while; not asCapable.
            let until = now + p.cfg.multiple_responses_halt;
            p.pdelay_halted_until = Some(until);
            p.next_pdelay = Some(until);
            p.pdelay = None;
            p.reset_measurement();
            self.counters.pdelay_halts += 1;
            tracing::warn!(
                port = i,
                "Pdelay responses from several responders {} times in a row: \
                 Pdelay_Req halted, not asCapable",
                crate::config::MULTIPLE_RESPONSES_LIMIT
            );
            self.refresh_as_capable(i, now);
            return;
        }
        p.pdelay_seq = p.pdelay_seq.wrapping_add(1);
        let seq = p.pdelay_seq;
        p.pdelay = Some(PdelayExchange {
            seq,
            t1: None,
            t2: None,
            t3: None,
            t4: None,
            done: false,
            multiple: false,
        });
        p.next_pdelay = p.log_pdelay.map(|l| now + Duration::from_log_interval(l));
        if p.log_pdelay.is_none() {
            p.pdelay = None;
        }
        self.refresh_as_capable(i, now);
        if self.ports[i].pdelay.is_none() {
            return;
        }
        let msg = Message {
            header: self.header(
                i,
                seq,
                TimeInterval(0),
                self.ports[i].log_pdelay.unwrap_or(0),
            ),
            body: Body::PdelayReq,
            tlvs: Vec::new(),
        };
        let token = self.token(PendingTx::PdelayReq { port: i, seq });
        self.send(i, &msg, Some(token));
    }

    fn rx_pdelay_req(&mut self, port: usize, msg: &Message, rx: Time) {
        if !self.ports[port].cfg.enabled {
            self.counters.ignored += 1;
            return;
        }
        let seq = msg.header.sequence_id;
        let requester = msg.header.source_port_identity;
        let (t2, frac) = split(rx);
        let mut header = self.header(
            port,
            seq,
            TimeInterval::from_duration(frac),
            PTP_DEFAULT_LOG_INTERVAL_PDELAY_RESP,
        );
        header.flags = Flags::TWO_STEP;
        let resp = Message {
            header,
            body: Body::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: t2,
                requesting_port_identity: requester,
            }),
            tlvs: Vec::new(),
        };
        let token = self.token(PendingTx::PdelayResp {
            port,
            seq,
            requester,
        });
        self.send(port, &resp, Some(token));
    }

    fn rx_pdelay_resp(&mut self, port: usize, msg: &Message, b: &PdelayRespBody, rx: Time) {
        let me = self.port_identity(port);
        let p = &mut self.ports[port];
        let Some(ex) = p
            .pdelay
            .as_mut()
            .filter(|e| e.seq == msg.header.sequence_id && b.requesting_port_identity == me)
        else {
            self.counters.unmatched += 1;
            return;
        };
        if let Some((_, first)) = ex.t2 {
            // A second response to one request (even after the exchange finished): the
            // exchange is useless, and responses from two responders mean a non-802.1AS
            // device floods our requests (802.1AS-2020 11.2.19).
            ex.done = true;
            if first != msg.header.source_port_identity {
                ex.multiple = true;
                self.counters.multiple_pdelay_responses += 1;
            } else {
                self.counters.unmatched += 1;
            }
            return;
        }
        if ex.done {
            self.counters.unmatched += 1;
            return;
        }
        let t2 = b.request_receipt_timestamp.to_time() + msg.header.correction_field.to_duration();
        ex.t2 = Some((t2, msg.header.source_port_identity));
        ex.t4 = Some(rx);
    }

    fn rx_pdelay_resp_fup(&mut self, port: usize, msg: &Message, b: &PdelayRespFollowUpBody) {
        let me = self.port_identity(port);
        let ok = self.ports[port].pdelay.is_some_and(|e| {
            !e.done
                && e.seq == msg.header.sequence_id
                && b.requesting_port_identity == me
                && e.t2
                    .is_some_and(|(_, src)| src == msg.header.source_port_identity)
        });
        if !ok {
            self.counters.unmatched += 1;
            return;
        }
        let t3 = b.response_origin_timestamp.to_time() + msg.header.correction_field.to_duration();
        self.try_finish_pdelay(port, Some(t3));
    }

    fn try_finish_pdelay(&mut self, port: usize, t3: Option<Time>) {
        let p = &mut self.ports[port];
        let Some(ex) = p.pdelay.as_mut() else { return };
        // t3 may arrive before t1's timestamp (a slow TX timestamp): finish only when
        // everything is there.
        if t3.is_some() {
            ex.t3 = t3;
        }
        let (Some(t1), Some((t2, resp)), Some(t4), Some(t3)) = (ex.t1, ex.t2, ex.t4, ex.t3) else {
            return;
        };
        ex.done = true;
        let restarts = p.rate_restarts;
        p.finish_exchange(t1, t2, t3, t4, resp);
        if p.rate_restarts != restarts {
            tracing::debug!(
                port,
                "neighbour clock stepped or changed rate: rate window restarted"
            );
        }
        let now = t4;
        self.refresh_as_capable(port, now);
    }

    fn refresh_as_capable(&mut self, port: usize, now: Time) {
        let p = &mut self.ports[port];
        let c = p.compute_as_capable();
        if c != p.as_capable {
            p.as_capable = c;
            self.event(Event::AsCapable { port, capable: c });
            self.update_roles(now);
        }
    }
}

impl Instance {
    // --- BMCA and Announce ---

    fn rx_announce(&mut self, port: usize, msg: &Message, b: &AnnounceBody, rx: Time) {
        let p = &self.ports[port];
        if !p.as_capable || p.role == PortRole::Disabled {
            self.counters.ignored += 1;
            return;
        }
        let path = msg.path_trace().unwrap_or(&[]);
        if path.contains(&self.cfg.clock_identity)
            || b.grandmaster_identity == self.cfg.clock_identity
        {
            self.counters.path_trace_rejected += 1;
            return;
        }
        if b.steps_removed >= 255 {
            self.counters.ignored += 1;
            return;
        }
        let info = AnnounceInfo {
            vector: PriorityVector {
                root: SystemIdentity::from_announce(b),
                steps_removed: b.steps_removed,
                source_port: msg.header.source_port_identity,
                port_number: port as u16 + 1,
            },
            path: path.to_vec(),
            current_utc_offset: b.current_utc_offset,
            time_source: b.time_source,
        };
        let p = &mut self.ports[port];
        let log = interval_or(msg.header.log_message_interval, p.cfg.log_announce_interval);
        p.announce_timeout =
            Some(rx + Duration::from_log_interval(log) * i64::from(p.cfg.announce_receipt_timeout));
        let changed = p.info.as_ref() != Some(&info);
        p.info = Some(info);
        if p.role == PortRole::Slave {
            let t = rx + sync_timeout(p);
            p.sync_timeout = Some(p.sync_timeout.map_or(t, |old| old.max(t)));
        }
        if changed {
            self.update_roles(rx);
        }
    }

    /// Runs the port role selection (802.1AS-2020 10.3.13, simplified to one domain) and
    /// arms or disarms the transmit timers of ports that changed role.
    fn update_roles(&mut self, now: Time) {
        let own = self.own_system();
        let mut best: Option<(usize, PriorityVector)> = None;
        for (i, p) in self.ports.iter().enumerate() {
            let Some(info) = p.info.as_ref().filter(|_| p.as_capable) else {
                continue;
            };
            let v = PriorityVector {
                steps_removed: info.vector.steps_removed.saturating_add(1),
                ..info.vector
            };
            if best.is_none_or(|(_, b)| v < b) {
                best = Some((i, v));
            }
        }
        let selection = match best {
            Some((i, v)) if !self.cfg.gm_capable || v.root < own => {
                let info = self.ports[i]
                    .info
                    .as_ref()
                    .map(|x| (x.path.clone(), x.current_utc_offset, x.time_source));
                let (path, utc, ts) = info.unwrap_or_default();
                Some(Selection {
                    root: v.root,
                    steps_removed: v.steps_removed,
                    slave_port: Some(i),
                    path,
                    current_utc_offset: utc,
                    time_source: ts,
                })
            }
            _ if self.cfg.gm_capable => Some(Selection {
                root: own,
                steps_removed: 0,
                slave_port: None,
                path: Vec::new(),
                current_utc_offset: self.cfg.current_utc_offset,
                time_source: self.cfg.time_source,
            }),
            _ => None,
        };
        let gm_changed = selection
            .as_ref()
            .map(|s| (s.root.clock_identity, s.slave_port))
            != self
                .selection
                .as_ref()
                .map(|s| (s.root.clock_identity, s.slave_port));
        let info_changed = selection != self.selection;
        if gm_changed {
            let old_gm = self.grandmaster();
            self.servo.reset();
            self.servo_state = self.servo.state();
            self.last_offset = None;
            let new_gm = selection.as_ref().map(|s| s.root.clock_identity);
            if old_gm != new_gm {
                self.event(Event::Grandmaster(new_gm));
            }
        }
        self.selection = selection;
        let my_steps = self.selection.as_ref().map(|s| s.steps_removed);
        let slave = self.slave_port();
        let is_gm = self.is_grandmaster();
        for i in 0..self.ports.len() {
            let me = self.port_identity(i);
            let p = &self.ports[i];
            let role = if !p.cfg.enabled || !p.as_capable {
                PortRole::Disabled
            } else if slave == Some(i) {
                PortRole::Slave
            } else {
                match (&self.selection, &p.info) {
                    (Some(sel), Some(info)) => {
                        let mine = PriorityVector {
                            root: sel.root,
                            steps_removed: my_steps.unwrap_or(0),
                            source_port: me,
                            port_number: i as u16 + 1,
                        };
                        if info.vector < mine {
                            PortRole::Passive
                        } else {
                            PortRole::Master
                        }
                    }
                    (Some(_), None) => PortRole::Master,
                    (None, _) => PortRole::Passive,
                }
            };
            let p = &mut self.ports[i];
            let old = p.role;
            p.role = role;
            if role != PortRole::Slave {
                p.sync_timeout = None;
                p.pending_sync = None;
            } else if old != PortRole::Slave || gm_changed {
                p.sync_timeout = Some(now + sync_timeout(p));
            }
            if role == PortRole::Master {
                if old != PortRole::Master || info_changed {
                    // New information goes out at once, then periodically.
                    p.next_announce = Some(now);
                }
                if is_gm {
                    if p.next_sync.is_none() {
                        p.next_sync = Some(now);
                    }
                } else {
                    p.next_sync = None;
                }
            } else {
                p.next_announce = None;
                p.next_sync = None;
            }
            if old != role {
                self.event(Event::PortRole { port: i, role });
            }
        }
        // Send what is due now right away, so that information travels a chain in one pass.
        for i in 0..self.ports.len() {
            if self.ports[i].next_announce == Some(now) {
                self.send_announce(i);
                let p = &mut self.ports[i];
                p.next_announce = p.log_announce.map(|l| now + Duration::from_log_interval(l));
            }
        }
    }

    fn send_announce(&mut self, port: usize) {
        let Some(sel) = self.selection.clone() else {
            return;
        };
        let p = &mut self.ports[port];
        p.announce_seq = p.announce_seq.wrapping_add(1);
        let seq = p.announce_seq;
        let log = p.log_announce.unwrap_or(p.cfg.log_announce_interval);
        let mut path = sel.path.clone();
        path.push(self.cfg.clock_identity);
        let mut header = self.header(port, seq, TimeInterval(0), log);
        header.flags = Flags::PTP_TIMESCALE;
        let msg = Message {
            header,
            body: Body::Announce(AnnounceBody {
                current_utc_offset: sel.current_utc_offset,
                priority_1: sel.root.priority1,
                grandmaster_clock_quality: sel.root.clock_quality,
                priority_2: sel.root.priority2,
                grandmaster_identity: sel.root.clock_identity,
                steps_removed: sel.steps_removed,
                time_source: sel.time_source,
            }),
            tlvs: vec![Tlv::PathTrace(path)],
        };
        self.send(port, &msg, None);
    }

    // --- Sync ---

    fn send_gm_sync(&mut self, port: usize) {
        if !self.is_grandmaster() || self.ports[port].role != PortRole::Master {
            return;
        }
        self.send_sync(port, None);
    }

    fn send_sync(&mut self, port: usize, forward: Option<Forward>) {
        let p = &mut self.ports[port];
        p.sync_seq = p.sync_seq.wrapping_add(1);
        let seq = p.sync_seq;
        let log = p.log_sync.unwrap_or(p.cfg.log_sync_interval);
        let mut header = self.header(port, seq, TimeInterval(0), log);
        header.flags = Flags::TWO_STEP | Flags::PTP_TIMESCALE;
        let msg = Message {
            header,
            body: Body::Sync(SyncBody::default()),
            tlvs: Vec::new(),
        };
        let token = self.token(PendingTx::Sync { port, seq, forward });
        self.counters.syncs_sent += 1;
        self.send(port, &msg, Some(token));
    }

    fn rx_sync(&mut self, port: usize, msg: &Message, rx: Time) {
        let p = &mut self.ports[port];
        if p.role != PortRole::Slave || !p.as_capable {
            self.counters.ignored += 1;
            return;
        }
        if !msg.header.flags.contains(Flags::TWO_STEP) {
            // One-step Sync: not supported (two-step only, like ptp4l with our stamps).
            self.counters.unsupported += 1;
            return;
        }
        p.pending_sync = Some(PendingSync {
            seq: msg.header.sequence_id,
            source: msg.header.source_port_identity,
            rx,
            correction: msg.header.correction_field,
        });
        let log = interval_or(msg.header.log_message_interval, p.cfg.log_sync_interval);
        p.sync_timeout =
            Some(rx + Duration::from_log_interval(log) * i64::from(p.cfg.sync_receipt_timeout));
    }

    fn rx_follow_up(&mut self, port: usize, msg: &Message, b: &FollowUpBody, _rx: Time) {
        let p = &mut self.ports[port];
        let Some(sync) = p.pending_sync.filter(|s| {
            s.seq == msg.header.sequence_id && s.source == msg.header.source_port_identity
        }) else {
            self.counters.unmatched += 1;
            return;
        };
        p.pending_sync = None;
        if p.role != PortRole::Slave {
            self.counters.ignored += 1;
            return;
        }
        self.counters.syncs_received += 1;
        let nrr = p.nrr.unwrap_or(1.0);
        let delay = p.mean_link_delay.unwrap_or(Duration::ZERO);
        let info = msg.follow_up_info().copied().unwrap_or_default();
        let rr_up = info.rate_ratio();
        let correction = msg.header.correction_field.to_duration() + sync.correction.to_duration();
        let gm_at_rx = b.precise_origin_timestamp.to_time() + correction + scale(delay, rr_up);
        let mut rx = sync.rx;
        let offset = rx - gm_at_rx;
        self.last_offset = Some(offset);

        let out = self.servo.sample(offset, rx);
        if out.outlier {
            self.counters.servo_outliers += 1;
            tracing::debug!(%offset, "servo: sample ignored as an outlier");
        }
        if let Some(step) = out.step {
            self.actions.push_back(Action::StepClock { offset: step });
            for p in &mut self.ports {
                p.shift(step);
            }
            rx += step;
        }
        if let Some(ppb) = out.frequency_ppb {
            self.actions.push_back(Action::AdjustFrequency { ppb });
        }
        if out.state != self.servo_state {
            self.servo_state = out.state;
            self.event(Event::Servo(out.state));
        }

        let rate_ratio = rr_up * nrr;
        let forward = Forward {
            origin: b.precise_origin_timestamp,
            correction,
            upstream_tx: rx - unscale(delay, nrr),
            rate_ratio,
            info: FollowUpInfo {
                cumulative_scaled_rate_offset: ((rate_ratio - 1.0) * 2f64.powi(41))
                    .round()
                    .clamp(f64::from(i32::MIN), f64::from(i32::MAX))
                    as i32,
                ..info
            },
        };
        for i in 0..self.ports.len() {
            let q = &mut self.ports[i];
            // A master port forwards each Sync, but not more often than every half of its
            // own sync interval, and not at all while Signaling stopped it (10.2.12). Should
            // local time run backwards (an unseen step), forward rather than stall.
            let due = q.log_sync.is_some_and(|l| {
                q.last_sync_sent
                    .is_none_or(|t| rx < t || rx - t >= Duration::from_log_interval(l) / 2)
            });
            if i != port && q.role == PortRole::Master && due {
                q.last_sync_sent = Some(rx);
                self.send_sync(i, Some(forward));
            }
        }
    }

    // --- Signaling ---

    /// A message interval request (802.1AS-2020 10.6.4.3, the LinkDelayIntervalSetting,
    /// SyncIntervalSetting and AnnounceIntervalSetting state machines): each interval is
    /// set, reset to its initial value (126), stopped (127) or left alone (-128); the flags
    /// set computeNeighborRateRatio and computeMeanLinkDelay. A stopped message that starts
    /// again, or an interval that shrinks, takes effect at once.
    fn rx_signaling(&mut self, port: usize, msg: &Message, b: &SignalingBody, rx: Time) {
        let Some(req) = msg.message_interval_request().copied() else {
            self.counters.unsupported += 1;
            return;
        };
        let target = b.target_port_identity;
        let me = self.port_identity(port);
        let all = PortIdentity::ALL;
        if (target.clock_identity != all.clock_identity
            && target.clock_identity != me.clock_identity)
            || (target.port_number != all.port_number && target.port_number != me.port_number)
        {
            self.counters.not_for_us += 1;
            return;
        }
        let is_gm = self.is_grandmaster();
        let p = &mut self.ports[port];
        if apply_interval(
            &mut p.log_pdelay,
            req.link_delay_interval,
            p.cfg.log_pdelay_req_interval,
        ) {
            p.next_pdelay = rearm(p.next_pdelay, p.log_pdelay, rx);
            if p.log_pdelay.is_none() {
                p.pdelay = None;
            }
            if let Some(until) = p.pdelay_halted_until {
                // Halted ports stay halted whatever the interval.
                p.next_pdelay = p.log_pdelay.map(|_| until);
            }
        }
        if apply_interval(
            &mut p.log_sync,
            req.time_sync_interval,
            p.cfg.log_sync_interval,
        ) && p.role == PortRole::Master
            && is_gm
        {
            p.next_sync = rearm(p.next_sync, p.log_sync, rx);
        }
        if apply_interval(
            &mut p.log_announce,
            req.announce_interval,
            p.cfg.log_announce_interval,
        ) && p.role == PortRole::Master
        {
            p.next_announce = rearm(p.next_announce, p.log_announce, rx);
        }
        let nrr = req
            .flags
            .contains(IntervalRequestFlags::COMPUTE_NEIGHBOR_RATE_RATIO);
        if nrr && !p.compute_nrr {
            // The stored exchanges are old: measure the rate afresh.
            p.history.clear();
        }
        tracing::debug!(port, ?req, "message interval request applied");
        p.compute_nrr = nrr;
        let mld = req
            .flags
            .contains(IntervalRequestFlags::COMPUTE_MEAN_LINK_DELAY);
        if mld && !p.compute_mld {
            p.delays.clear();
        }
        p.compute_mld = mld;
    }
}

/// Splits a time into the wire timestamp (whole ns) and the sub-nanosecond rest, which goes
/// into the correctionField.
fn split(t: Time) -> (PtpTimestamp, Duration) {
    match PtpTimestamp::from_time(t) {
        Some(ts) => (ts, t - ts.to_time()),
        None => (PtpTimestamp::default(), Duration::ZERO),
    }
}

fn sync_timeout(p: &Port) -> Duration {
    let log = p.log_sync.unwrap_or(p.cfg.log_sync_interval);
    Duration::from_log_interval(log) * i64::from(p.cfg.sync_receipt_timeout)
}

/// A received logMessageInterval if it is a plausible interval, else our own.
fn interval_or(received: i8, own: i8) -> i8 {
    if (-10..=10).contains(&received) {
        received
    } else {
        own
    }
}

/// Applies a requested interval; whether it changed.
fn apply_interval(current: &mut Option<i8>, requested: i8, initial: i8) -> bool {
    let new = match requested {
        MessageIntervalRequest::INTERVAL_SET_TO_INITIAL => Some(initial),
        MessageIntervalRequest::INTERVAL_STOP => None,
        // -128 (no change) and values no 802.1AS interval uses are ignored.
        v if (-10..=10).contains(&v) => Some(v),
        _ => return false,
    };
    let changed = new != *current;
    *current = new;
    changed
}

/// The next deadline of a periodic message after its interval changed at `now`: none if
/// stopped, at once if it was stopped, else no later than one new interval from now.
fn rearm(next: Option<Time>, log: Option<i8>, now: Time) -> Option<Time> {
    let log = log?;
    let due = now + Duration::from_log_interval(log);
    Some(next.map_or(now, |n| n.min(due)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn instance(last: u8, ports: usize) -> Instance {
        let id = ClockIdentity::from_mac([2, 0, 0, 0, 0, last]);
        Instance::new(InstanceConfig::new(id, ports))
    }

    #[test]
    fn malformed_and_hostile_input_is_counted_not_fatal() {
        let mut a = instance(1, 2);
        a.handle_timer(Time::from_secs_nanos(100, 0));
        while a.poll_action().is_some() {}
        let t = Time::from_secs_nanos(100, 5);
        a.handle_frame(0, &[], t);
        a.handle_frame(0, &[0x12, 0x02, 0, 10], t);
        a.handle_frame(9, &[0; 60], t);
        // Deterministic garbage of every length.
        let mut rng = ChaCha8Rng::seed_from_u64(0x1234_5678);
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            a.handle_frame(len % 2, &bytes, t);
            a.handle_tx_timestamp(0, TxToken::from_raw(rng.random()), t);
        }
        let c = a.counters();
        assert!(c.malformed >= 2, "{c:?}");
        assert_eq!(c.bad_port, 1);
        assert!(c.unknown_tokens > 0);
    }

    #[test]
    fn pdelay_exchange_measures_delay_and_rate_ratio() {
        // Initiator a and responder b, b's clock 100 ppm fast, 500 ns link.
        let mut a = instance(1, 1);
        let mut b = instance(2, 1);
        let base = Time::from_secs_nanos(1_000, 0);
        let delay = Duration::from_nanos(500);
        let b_of = |g: Time| base + scale(g - base, 1.0001) + Duration::from_millis(7);
        for k in 0..4i64 {
            let g = base + Duration::from_secs(k);
            a.handle_timer(g);
            let mut req = None;
            while let Some(act) = a.poll_action() {
                if let Action::Send {
                    data,
                    token: Some(tok),
                    ..
                } = act
                    && req.is_none()
                {
                    req = Some((data, tok));
                }
            }
            let (data, tok) = req.expect("Pdelay_Req");
            a.handle_tx_timestamp(0, tok, g);
            b.handle_frame(0, &data, b_of(g + delay));
            let mut resp = None;
            while let Some(act) = b.poll_action() {
                if let Action::Send {
                    data,
                    token: Some(tok),
                    ..
                } = act
                {
                    resp = Some((data, tok));
                }
            }
            let (resp, tok) = resp.unwrap_or_else(|| panic!("Pdelay_Resp {k} {:?}", b.counters()));
            let g3 = g + delay + Duration::from_micros(10);
            b.handle_tx_timestamp(0, tok, b_of(g3));
            let fup = loop {
                match b.poll_action() {
                    Some(Action::Send {
                        data, token: None, ..
                    }) => break data,
                    Some(_) => {}
                    None => panic!("no Pdelay_Resp_Follow_Up"),
                }
            };
            a.handle_frame(0, &resp, g3 + delay);
            a.handle_frame(0, &fup, g3 + delay + Duration::from_micros(1));
            while a.poll_action().is_some() {}
        }
        let s = a.port_status(0).unwrap();
        let nrr = s.neighbor_rate_ratio.expect("nrr");
        assert!((nrr - 1.0001).abs() < 1e-9, "nrr {nrr}");
        let d = s.mean_link_delay.expect("delay").nanos_f64();
        // In the responder's time base: 500 ns * 1.0001.
        assert!((d - 500.05).abs() < 0.01, "delay {d}");
        assert!(s.as_capable);
    }

    /// Every `Send` action queued now, as (port, message, token).
    fn sends(a: &mut Instance) -> Vec<(usize, Message, Option<TxToken>)> {
        let mut out = Vec::new();
        while let Some(act) = a.poll_action() {
            if let Action::Send { port, data, token } = act {
                out.push((port, Message::parse_bytes(&data).expect("parses"), token));
            }
        }
        out
    }

    /// The relay arithmetic of 802.1AS-2020 11.2.14 / 11.2.15 (the module docs), driven with
    /// explicit frames and timestamps. The values are chosen so that every intermediate is
    /// exact in f64 and in 2^-16 ns, so the expected wire fields are exact integers:
    ///
    /// - upstream rateRatio `1 + 2^-14` (CSRO `2^27`), neighborRateRatio `1 + 2^-13`, so
    ///   rateRatio = `1 + 2^-13 + 2^-14 + 2^-27` and CSRO = `2^28 + 2^27 + 2^14`;
    /// - meanLinkDelay `512.0625 ns` in the neighbour's time base = `8193 * 4096` subns, which
    ///   is exactly `512 ns` in ours (divided by `1 + 2^-13`);
    /// - residence time `19_968 ns`, so link delay + residence = `20_480 ns` = `10 * 2^27`
    ///   subns, which rateRatio scales to `20_480 ns + 10 * (2^14 + 2^13 + 1)` subns.
    #[test]
    fn relay_follow_up_correction_and_rate_offset_are_exact() {
        let mut relay = instance(9, 2);
        let t0 = Time::from_secs_nanos(1_000, 0);
        relay.handle_timer(t0);
        while relay.poll_action().is_some() {}
        // Link measurements as finished Pdelay exchanges would leave them (set directly so
        // that they are exact; the Pdelay arithmetic has its own test above).
        let nrr = 1.0 + (-13f64).exp2();
        let link_delay = Duration::from_subnanos(8193 * 4096);
        for i in 0..2 {
            relay.ports[i].nrr = Some(nrr);
            relay.ports[i].mean_link_delay = Some(link_delay);
            relay.refresh_as_capable(i, t0);
        }
        // A better grandmaster announced on port 0: port 0 slave, port 1 master.
        let gm = ClockIdentity::from_mac([2, 0, 0, 0, 0, 1]);
        let upstream = PortIdentity {
            clock_identity: gm,
            port_number: 1,
        };
        let header = |seq, correction: Duration| HeaderRepr {
            minor_version_ptp: 1,
            correction_field: TimeInterval::from_duration(correction),
            source_port_identity: upstream,
            sequence_id: seq,
            log_message_interval: -3,
            flags: Flags::TWO_STEP | Flags::PTP_TIMESCALE,
            ..HeaderRepr::default()
        };
        let announce = Message {
            header: HeaderRepr {
                log_message_interval: 0,
                ..header(1, Duration::ZERO)
            },
            body: Body::Announce(AnnounceBody {
                current_utc_offset: 37,
                priority_1: 100,
                grandmaster_clock_quality: relay.cfg.clock_quality,
                priority_2: 248,
                grandmaster_identity: gm,
                steps_removed: 0,
                time_source: crate::wire::TimeSource::InternalOscillator,
            }),
            tlvs: vec![Tlv::PathTrace(vec![gm])],
        };
        relay.handle_frame(
            0,
            &announce.to_vec().unwrap(),
            t0 + Duration::from_millis(1),
        );
        sends(&mut relay);
        assert_eq!(relay.slave_port(), Some(0));
        assert_eq!(relay.port_status(1).unwrap().role, PortRole::Master);

        // Sync (correctionField 0.25 ns) received at rx, then its Follow_Up (origin, 10 000.5
        // ns correction, CSRO 2^27).
        let rx = t0 + Duration::from_millis(10);
        let sync = Message {
            header: header(7, Duration::from_subnanos(1 << 14)),
            body: Body::Sync(SyncBody::default()),
            tlvs: Vec::new(),
        };
        relay.handle_frame(0, &sync.to_vec().unwrap(), rx);
        assert!(sends(&mut relay).is_empty(), "nothing before the Follow_Up");
        let origin = PtpTimestamp {
            seconds: 999,
            nanoseconds: 123_456_789,
        };
        let fup_in_correction = Duration::from_subnanos(10_000 * 65_536 + 32_768);
        let upstream_info = FollowUpInfo {
            cumulative_scaled_rate_offset: 1 << 27,
            gm_time_base_indicator: 3,
            ..FollowUpInfo::default()
        };
        let fup = Message {
            header: HeaderRepr {
                flags: Flags::PTP_TIMESCALE,
                ..header(7, fup_in_correction)
            },
            body: Body::FollowUp(FollowUpBody {
                precise_origin_timestamp: origin,
            }),
            tlvs: vec![Tlv::FollowUpInfo(upstream_info)],
        };
        relay.handle_frame(0, &fup.to_vec().unwrap(), rx + Duration::from_micros(50));
        let mut out = sends(&mut relay);
        assert_eq!(out.len(), 1, "one Sync downstream");
        let (port, sync_out, token) = out.remove(0);
        assert_eq!(port, 1);
        assert!(matches!(sync_out.body, Body::Sync(_)));
        assert_eq!(sync_out.header.correction_field, TimeInterval(0));

        // Its transmit timestamp: residence time 19 968 ns after the upstream Sync arrived.
        let residence = Duration::from_nanos(19_968);
        relay.handle_tx_timestamp(1, token.expect("Sync wants a timestamp"), rx + residence);
        let mut out = sends(&mut relay);
        assert_eq!(out.len(), 1, "one Follow_Up downstream");
        let (port, fup_out, token) = out.remove(0);
        assert_eq!((port, token), (1, None));
        assert_eq!(fup_out.header.sequence_id, sync_out.header.sequence_id);
        let Body::FollowUp(body) = fup_out.body else {
            panic!("not a Follow_Up: {fup_out:?}");
        };
        assert_eq!(body.precise_origin_timestamp, origin);

        // correctionField = Sync correction + Follow_Up correction
        //   + rateRatio * (meanLinkDelay / neighborRateRatio + residence).
        let upstream_correction: i128 = (1 << 14) + 10_000 * 65_536 + 32_768;
        let hop: i128 = 10 * (1 << 27); // 512 ns + 19 968 ns
        assert_eq!(hop, (512 + 19_968) * 65_536);
        let hop_scaled = hop + 10 * ((1 << 14) + (1 << 13) + 1);
        assert_eq!(
            fup_out.header.correction_field,
            TimeInterval((upstream_correction + hop_scaled) as i64)
        );
        let info = fup_out.follow_up_info().expect("Follow_Up information TLV");
        assert_eq!(
            info.cumulative_scaled_rate_offset,
            (1 << 28) + (1 << 27) + (1 << 14)
        );
        // The rest of the TLV is passed on unchanged.
        assert_eq!(info.gm_time_base_indicator, 3);
        assert_eq!(relay.counters().syncs_received, 1);
    }
}
