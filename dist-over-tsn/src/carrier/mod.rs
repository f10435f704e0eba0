//! The UDP carrier's protocol core, sans-IO: datagrams and `now` in, datagrams, events and
//! one timer deadline out. [`crate::node`] drives it over a tokio UDP socket; the tests
//! drive it through a lossy in-process relay.
//!
//! # Calling the [`Endpoint`]
//!
//! - inputs: [`Endpoint::handle`] for each received datagram, [`Endpoint::handle_timeout`]
//!   when [`Endpoint::poll_timeout`] has passed, and the commands [`Endpoint::connect`],
//!   [`Endpoint::send`], [`Endpoint::close`];
//! - outputs, after any input: drain [`Endpoint::poll_transmit`] (one datagram per call,
//!   strict priority by [`Class`]), then [`Endpoint::poll_event`], then re-arm the timer
//!   with [`Endpoint::poll_timeout`].
//! - without copies: [`Endpoint::send`] takes a [`Message`] of shared pieces,
//!   [`Endpoint::poll_transmit_parts`] returns a datagram's payload as slices of them for a
//!   gathering send, and [`Endpoint::placement`] / [`Endpoint::handle_placed`] let a
//!   driver receive a fragment's payload straight into its message's reassembly buffer.
//!
//! # Protocol
//!
//! A three-way handshake proves to both sides that the other knows the cookie:
//! `Hello(nonce_a)`, `Challenge(nonce_b, mac_b)`, `Confirm(mac_a)`, where each MAC is
//! HMAC-SHA256 keyed by the cookie over both nonces, both connection ids, both names and the
//! role. Nonces are fresh per attempt, so a recorded handshake replayed later fails. Each
//! side then addresses datagrams with the 64-bit connection id the other chose; datagrams
//! with an unknown id or from another address are dropped and counted. The initiator may
//! send as soon as it has the Challenge, so data can overtake its Confirm (real-time data
//! travels to the urgent port, the Confirm to the main one): the responder holds up to
//! 64 KiB of it from the initiator's address and handles it once the Confirm verifies.
//!
//! Time-triggered messages ([`Endpoint::send_at`]) wait in their stream until their release
//! and carry their TAI launch time ([`Transmit::launch`]) for the kernel's `SO_TXTIME`.
//!
//! Per connection there are four classes ([`Class`]), each its own reliable, ordered
//! sequence of datagrams with cumulative + selective acknowledgements, retransmission
//! (RTO and RACK-style loss detection) and a byte window advertised by the receiver. A
//! message is split into fragments of at most the path MTU; within a class, fragments of
//! different *streams* (a stream is typically one sender/receiver pair) are sent round
//! robin, and a stream's messages one after another, so every pair sees its messages in
//! order and exactly once while a small message never waits behind a large one's remaining
//! fragments. Between classes, priority is strict: a bulk fragment goes out only when no
//! control, real-time or normal datagram may.
//!
//! Ticks: when nothing was sent for `tick_time / tick_intensity` a Tick goes out; when
//! nothing arrived for `tick_time` the connection is lost ([`LostReason::Timeout`]).
//!
//! Hostile input: every malformed, forged or out-of-window datagram is dropped and counted
//! in [`Stats`]; memory per connection is bounded by the configured windows, the number of
//! messages in reassembly and the reassembly budget.

mod conn;
pub mod wire;

#[cfg(any(fuzzing, feature = "fuzz", test))]
pub mod fuzz;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::Sha256;

use conn::Connection;
pub use conn::LostReason;
use wire::{DATA_OVERHEAD, MAC_LEN, NONCE_LEN, Repr};

/// Traffic class of a message: its channel, its priority and its socket priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// Links, monitors, exits, acknowledgements and ticks.
    Control = 0,
    /// Small urgent messages.
    RealTime = 1,
    /// Everything else by default.
    Normal = 2,
    /// Large transfers.
    Bulk = 3,
}

/// All classes, highest priority first.
pub const CLASSES: [Class; 4] = [Class::Control, Class::RealTime, Class::Normal, Class::Bulk];

impl Class {
    /// The class with this wire number.
    pub fn from_u8(v: u8) -> Option<Self> {
        CLASSES.get(usize::from(v)).copied()
    }
}

/// Carrier configuration; see [`Config::new`] for the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's name (1 to 255 bytes of UTF-8).
    pub name: String,
    /// The shared secret.
    pub cookie: Vec<u8>,
    /// Largest datagram (UDP payload) to send: fragments are this minus 36 bytes.
    pub mtu: usize,
    /// Nothing received for this long: the peer is down.
    pub tick_time: Duration,
    /// Ticks per tick time when idle.
    pub tick_intensity: u32,
    /// SO_PRIORITY per class, so a TSN host maps each class to its taprio class and PCP.
    /// The defaults follow Linux's `TC_PRIO_*` (control 7, interactive 6, best effort 0,
    /// bulk 2), so even the default `pfifo_fast` qdisc puts control and real-time in its
    /// first band, normal in the second and bulk in the third.
    pub priorities: [u32; 4],
    /// Bytes in flight per class (the sender's cap on top of the receiver's window).
    pub window: [usize; 4],
    /// Bytes a receiver buffers per class (out of order plus delivered but not taken).
    pub recv_buffer: [usize; 4],
    /// Bytes `send` accepts per class before it answers [`SendError::Busy`].
    pub send_buffer: [usize; 4],
    /// Largest message.
    pub max_message: usize,
    /// Messages in reassembly per class.
    pub max_partial_messages: usize,
    /// Bytes in reassembly per class.
    pub max_reassembly: usize,
    /// Lower bound of the retransmission timeout.
    pub min_rto: Duration,
    /// How long an acknowledgement of a few small in-order datagrams may wait for more
    /// (zero: acknowledge at once). Keep it well under `min_rto`.
    pub ack_delay: Duration,
    /// Interval between handshake retries.
    pub handshake_retry: Duration,
    /// Handshake attempts give up after this.
    pub handshake_timeout: Duration,
    /// Handshakes answered and not yet confirmed, at most.
    pub max_pending_handshakes: usize,
    /// For the node's driver, not this core: after real-time traffic (a real-time message
    /// sent or received), how long the driver keeps polling its sockets and commands,
    /// yielding the CPU between polls, before it blocks; it stops at once when another
    /// thread waits for a CPU. Zero (the default): block at once. A few hundred
    /// microseconds spare a round trip the wake-up of halted CPUs (about 50 us a side on a
    /// VM) at the cost of up to that much CPU time after each message.
    pub busy_poll: Duration,
    /// This node's second UDP port, on the same address, for control and real-time
    /// datagrams; announced in the handshake so that the peer sends those classes there
    /// and they never queue behind bulk datagrams in one socket (a TSN host's separate
    /// queues per traffic class, end to end). The node sets it when
    /// [`Self::urgent_socket`] is on; `None`: everything goes to one port.
    pub urgent_port: Option<u16>,
    /// For the node: open the second socket of [`Self::urgent_port`] (default on).
    pub urgent_socket: bool,
    /// For the node: hand real-time datagrams to the kernel with a launch time
    /// (`SO_TXTIME`, `CLOCK_TAI`), for an `etf` qdisc (or taprio's txtime-assist) on the
    /// real-time class's queue. `None` (the default): no launch times; a time-triggered
    /// message ([`Endpoint::send_at`]) then leaves when the node releases it.
    pub txtime: Option<TxTime>,
}

/// Launch times for the real-time class ([`Config::txtime`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxTime {
    /// How long before its launch time a time-triggered datagram is handed to the kernel,
    /// and the launch time of every other real-time datagram after now: at least the etf
    /// qdisc's `delta` plus the node's own scheduling latency. etf drops a datagram whose
    /// launch time has passed, so every real-time datagram needs one (the qdisc sits on
    /// that class's queue).
    pub lead: Duration,
}

impl Default for TxTime {
    fn default() -> Self {
        Self {
            lead: Duration::from_millis(1),
        }
    }
}

/// When a time-triggered message goes: the instant the endpoint releases it to the driver
/// and the TAI launch time its datagrams carry. The driver picks `release` as `tai_ns`
/// minus [`TxTime::lead`] on its own clock; the core compares only `release` with `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Launch {
    /// Held until this instant.
    pub release: Instant,
    /// The launch time, TAI nanoseconds (`SCM_TXTIME`).
    pub tai_ns: u64,
}

impl Config {
    /// Defaults for a 1500-byte Ethernet path: tick time 60 s (as Erlang), SO_PRIORITY
    /// 7/6/0/2 (the node lowers 7 to 6 when it lacks CAP_NET_ADMIN), 64 MiB messages.
    pub fn new(name: &str, cookie: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            cookie: cookie.to_vec(),
            mtu: 1472,
            tick_time: Duration::from_secs(60),
            tick_intensity: 4,
            priorities: [7, 6, 0, 2],
            window: [64 << 10, 64 << 10, 256 << 10, 256 << 10],
            recv_buffer: [1 << 20, 1 << 20, 4 << 20, 4 << 20],
            send_buffer: [1 << 20, 1 << 20, 16 << 20, 32 << 20],
            max_message: 64 << 20,
            max_partial_messages: 256,
            max_reassembly: 128 << 20,
            min_rto: Duration::from_millis(5),
            ack_delay: Duration::from_millis(1),
            handshake_retry: Duration::from_millis(200),
            handshake_timeout: Duration::from_secs(5),
            max_pending_handshakes: 64,
            busy_poll: Duration::ZERO,
            urgent_port: None,
            urgent_socket: true,
            txtime: None,
        }
    }

    fn max_payload(&self) -> usize {
        self.mtu.saturating_sub(DATA_OVERHEAD).max(1)
    }
}

/// A connection, as this endpoint numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// Something the application must know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A handshake completed.
    Connected {
        /// The connection.
        conn: ConnId,
        /// The peer's node name.
        name: String,
        /// The peer's address.
        addr: SocketAddr,
    },
    /// A complete message; call [`Endpoint::release`] with its length once consumed.
    Message {
        /// The connection.
        conn: ConnId,
        /// Its class.
        class: Class,
        /// The bytes: the reassembly buffer itself, shared (decode it with
        /// [`crate::term::decode_shared`] and large binaries keep pointing into it).
        data: Bytes,
    },
    /// A connection ended.
    Lost {
        /// The connection.
        conn: ConnId,
        /// The peer's node name.
        name: String,
        /// Why.
        reason: LostReason,
    },
    /// A handshake failed.
    HandshakeFailed {
        /// The peer's address.
        addr: SocketAddr,
        /// Why.
        reason: HandshakeError,
    },
}

/// Why a handshake failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The peer's proof did not match our cookie.
    #[error("cookie mismatch")]
    BadCookie,
    /// No answer within the handshake timeout.
    #[error("timed out")]
    Timeout,
}

/// Why [`Endpoint::send`] refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such connection (never made, or lost).
    #[error("no connection")]
    NoConnection,
    /// The class's send buffer is full: retry after acknowledgements drain it.
    #[error("send buffer full")]
    Busy,
    /// Longer than `max_message`.
    #[error("message too large")]
    TooLarge,
}

/// Drop and traffic counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub rx_datagrams: u64,
    /// Not our magic, version, kind or layout.
    pub rx_malformed: u64,
    /// Addressed to a connection we do not have.
    pub rx_unknown_conn: u64,
    /// Right connection id, wrong source address.
    pub rx_forged: u64,
    /// Datagrams that came in through the urgent port (counted in `rx_datagrams` too).
    pub rx_urgent: u64,
    /// On the urgent port, a datagram of another kind or class (see
    /// [`Endpoint::handle_urgent`]).
    pub rx_wrong_port: u64,
    /// Handshake proofs that did not verify.
    pub rx_bad_mac: u64,
    /// Handshake messages that fit no handshake in progress, or over the limit.
    pub rx_stray_handshake: u64,
    /// Data already received.
    pub rx_duplicate: u64,
    /// Data beyond the receive window.
    pub rx_out_of_window: u64,
    /// Messages longer than `max_message` or over the reassembly limits.
    pub rx_oversized: u64,
    /// Fragments that do not continue their message.
    pub rx_bad_fragment: u64,
    /// Acknowledgements of data never sent.
    pub rx_bad_ack: u64,
    /// Datagrams sent.
    pub tx_datagrams: u64,
    /// Data datagrams sent again.
    pub tx_retransmit: u64,
    /// Data that arrived for a handshake before its Confirm, held until it verified.
    pub rx_early: u64,
    /// Datagrams whose launch time the kernel refused or missed (`SO_TXTIME` error
    /// reports, counted by the node's driver); retransmitted like lost ones.
    pub tx_launch_refused: u64,
}

/// A message to send: its bytes as one or more shared pieces (e.g. the
/// [`Segments`](crate::term::Segments) of an encoded term), which fragments point into
/// instead of copying them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    parts: Vec<Bytes>,
    /// Where each part starts in the message.
    starts: Vec<usize>,
    len: usize,
}

impl Message {
    /// The message made of these pieces, in order.
    pub fn from_parts(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let mut m = Self::default();
        for p in parts.into_iter().filter(|p| !p.is_empty()) {
            m.starts.push(m.len);
            m.len += p.len();
            m.parts.push(p);
        }
        m
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// `len` bytes from `offset`, as slices of the pieces (within the message: the carrier
    /// cuts fragments inside it).
    fn slice(&self, offset: usize, len: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        // The part holding `offset`: the last one starting at or before it.
        let mut i = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let mut at = offset.saturating_sub(self.starts.get(i).copied().unwrap_or(0));
        let mut left = len;
        while left > 0
            && let Some(p) = self.parts.get(i)
        {
            let n = (p.len() - at).min(left);
            out.push(p.slice(at..at + n));
            left -= n;
            at = 0;
            i += 1;
        }
        out
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Self::from_parts([Bytes::from(v)])
    }
}

impl From<Bytes> for Message {
    fn from(v: Bytes) -> Self {
        Self::from_parts([v])
    }
}

impl From<Vec<Bytes>> for Message {
    fn from(v: Vec<Bytes>) -> Self {
        Self::from_parts(v)
    }
}

impl From<crate::term::Segments> for Message {
    fn from(v: crate::term::Segments) -> Self {
        Self::from_parts(v.into_parts())
    }
}

/// The payload of a Data datagram, shared with the send queue so it goes out without a copy
/// (see [`Endpoint::poll_transmit_parts`]).
#[derive(Clone, Debug)]
pub struct Payload {
    parts: Vec<Bytes>,
}

impl Payload {
    /// The bytes that follow the header, in pieces to gather.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Where and how to send the datagram [`Endpoint::poll_transmit`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub dest: SocketAddr,
    /// The class the datagram serves.
    pub class: Class,
    /// SO_PRIORITY to send it with.
    pub priority: u32,
    /// Launch time (TAI nanoseconds) of a time-triggered message's datagram, on its first
    /// transmission.
    pub launch: Option<u64>,
}

#[derive(Debug)]
struct Initiating {
    addr: SocketAddr,
    nonce: [u8; NONCE_LEN],
    started: Instant,
    last_sent: Instant,
}

#[derive(Debug)]
struct Responding {
    id: u64,
    addr: SocketAddr,
    peer_conn: u64,
    peer_nonce: [u8; NONCE_LEN],
    peer_name: String,
    peer_urgent_port: u16,
    nonce: [u8; NONCE_LEN],
    mac: [u8; MAC_LEN],
    started: Instant,
    /// Data that came in before the Confirm (see [`EARLY_BYTES`]), handled once it verifies.
    early: Vec<Vec<u8>>,
    early_bytes: usize,
}

/// Most bytes of Data a handshake holds that arrive, from the initiator's address, before
/// its Confirm. The initiator may send as soon as it has our Challenge, and its real-time
/// datagrams go to our urgent socket while the Confirm travels on the main one: without
/// holding them, the first messages of a connection would wait for a retransmission.
/// Nothing held is looked at before the Confirm verifies; a failed handshake drops it.
const EARLY_BYTES: usize = 64 << 10;

/// The carrier endpoint of one node: handshakes and all its connections.
#[derive(Debug)]
pub struct Endpoint {
    config: Config,
    rng: ChaCha20Rng,
    conns: HashMap<u64, Connection>,
    by_name: HashMap<String, u64>,
    initiating: HashMap<u64, Initiating>,
    responding: HashMap<u64, Responding>,
    events: VecDeque<Event>,
    /// Handshake datagrams waiting to go out.
    control_out: VecDeque<(SocketAddr, Vec<u8>)>,
    order: Vec<u64>,
    cursor: usize,
    stats: Stats,
    /// The datagram the last [`Self::placement`] chose a place for.
    placed: Option<(u64, wire::DataHeader)>,
    /// `now` of the last [`Self::poll_transmit_parts`]: time-triggered messages released
    /// by then need no more timer.
    polled_at: Option<Instant>,
}

type HmacSha256 = Hmac<Sha256>;

/// The connection `id` for a datagram from `from`, marked alive at `now`; `None` (counted)
/// when there is no such connection or the datagram comes from another address.
fn live_conn<'a>(
    conns: &'a mut HashMap<u64, Connection>,
    stats: &mut Stats,
    id: u64,
    from: SocketAddr,
    now: Instant,
) -> Option<&'a mut Connection> {
    let Some(c) = conns.get_mut(&id) else {
        stats.rx_unknown_conn += 1;
        return None;
    };
    if c.addr != from {
        stats.rx_forged += 1;
        return None;
    }
    c.last_recv = now;
    c.confirm = None;
    Some(c)
}

#[allow(clippy::too_many_arguments)]
fn handshake_mac(
    cookie: &[u8],
    role: &[u8],
    nonce_a: &[u8; NONCE_LEN],
    nonce_b: &[u8; NONCE_LEN],
    conn_a: u64,
    conn_b: u64,
    name_a: &str,
    name_b: &str,
    ports: [u16; 2],
) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(cookie).expect("HMAC takes keys of any length");
    mac.update(b"dist-over-tsn/1 ");
    mac.update(role);
    mac.update(nonce_a);
    mac.update(nonce_b);
    mac.update(&conn_a.to_be_bytes());
    mac.update(&conn_b.to_be_bytes());
    // Length-prefixed, so names cannot trade bytes.
    for name in [name_a, name_b] {
        mac.update(&[name.len() as u8]);
        mac.update(name.as_bytes());
    }
    // The urgent ports too: a forged one would steer real-time traffic elsewhere.
    for port in ports {
        mac.update(&port.to_be_bytes());
    }
    mac
}

/// `addr` with the peer's urgent port, if it announced one.
fn urgent_addr(addr: SocketAddr, port: u16) -> SocketAddr {
    let mut a = addr;
    if port != 0 {
        a.set_port(port);
    }
    a
}

impl Endpoint {
    /// An endpoint; `seed` drives its nonces and connection ids (give it 32 random bytes in
    /// production, a constant in tests).
    pub fn new(config: Config, seed: [u8; 32]) -> Self {
        Self {
            config,
            rng: ChaCha20Rng::from_seed(seed),
            conns: HashMap::new(),
            by_name: HashMap::new(),
            initiating: HashMap::new(),
            responding: HashMap::new(),
            events: VecDeque::new(),
            control_out: VecDeque::new(),
            order: Vec::new(),
            cursor: 0,
            stats: Stats::default(),
            placed: None,
            polled_at: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Drop and traffic counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Established connections.
    pub fn connections(&self) -> impl Iterator<Item = (ConnId, &str)> + '_ {
        self.conns
            .iter()
            .map(|(&id, c)| (ConnId(id), c.name.as_str()))
    }

    /// The connection to the node with this name.
    pub fn connection_to(&self, name: &str) -> Option<ConnId> {
        self.by_name.get(name).copied().map(ConnId)
    }

    /// Bytes the carrier holds for a connection (send queues, reassembly, undelivered).
    pub fn memory(&self, conn: ConnId) -> usize {
        self.conns.get(&conn.0).map_or(0, Connection::memory)
    }

    /// Bytes accepted by `send` in `class` and not yet acknowledged.
    pub fn buffered(&self, conn: ConnId, class: Class) -> usize {
        self.conns
            .get(&conn.0)
            .map_or(0, |c| c.send[class as usize].buffered)
    }

    fn fresh_id(&mut self) -> u64 {
        loop {
            let id = self.rng.next_u64();
            if id != 0
                && !self.conns.contains_key(&id)
                && !self.initiating.contains_key(&id)
                && !self.responding.contains_key(&id)
            {
                return id;
            }
        }
    }

    fn nonce(&mut self) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        self.rng.fill_bytes(&mut n);
        n
    }

    /// Starts a handshake with the node at `addr`; [`Event::Connected`] or
    /// [`Event::HandshakeFailed`] follows.
    pub fn connect(&mut self, now: Instant, addr: SocketAddr) {
        let id = self.fresh_id();
        let nonce = self.nonce();
        self.initiating.insert(
            id,
            Initiating {
                addr,
                nonce,
                started: now,
                last_sent: now,
            },
        );
        self.queue_hello(id);
    }

    fn queue_hello(&mut self, id: u64) {
        let Some(i) = self.initiating.get(&id) else {
            return;
        };
        let mut buf = Vec::new();
        Repr::Hello {
            nonce: i.nonce,
            conn: id,
            name: &self.config.name,
            urgent_port: self.config.urgent_port.unwrap_or(0),
        }
        .emit(0, &mut buf);
        self.control_out.push_back((i.addr, buf));
    }

    /// Queues a message on a connection. `stream` names its ordering domain: messages with
    /// the same stream and class arrive in order; different streams interleave.
    pub fn send(
        &mut self,
        conn: ConnId,
        class: Class,
        stream: u64,
        data: impl Into<Message>,
    ) -> Result<(), SendError> {
        self.enqueue(conn, class, stream, data.into(), None)
    }

    /// As [`Self::send`], time-triggered: held until `launch.release` (a stream's later
    /// messages wait behind it; other streams do not), then sent with `launch.tai_ns` as
    /// the launch time of its first transmission (see [`Transmit::launch`]).
    pub fn send_at(
        &mut self,
        conn: ConnId,
        class: Class,
        stream: u64,
        data: impl Into<Message>,
        launch: Launch,
    ) -> Result<(), SendError> {
        self.enqueue(conn, class, stream, data.into(), Some(launch))
    }

    fn enqueue(
        &mut self,
        conn: ConnId,
        class: Class,
        stream: u64,
        data: Message,
        launch: Option<Launch>,
    ) -> Result<(), SendError> {
        let data = Arc::new(data);
        if data.len() > self.config.max_message || data.len() > u32::MAX as usize {
            return Err(SendError::TooLarge);
        }
        let c = self.conns.get_mut(&conn.0).ok_or(SendError::NoConnection)?;
        let buffered = c.send[class as usize].buffered;
        if buffered > 0
            && buffered.saturating_add(data.len()) > self.config.send_buffer[class as usize]
        {
            return Err(SendError::Busy);
        }
        c.enqueue(class, stream, data, launch);
        Ok(())
    }

    /// The application consumed `len` bytes of a delivered message: the receive window opens.
    pub fn release(&mut self, conn: ConnId, class: Class, len: usize) {
        if let Some(c) = self.conns.get_mut(&conn.0) {
            let rc = &mut c.recv[class as usize];
            let before = rc.ready_bytes;
            rc.ready_bytes = rc.ready_bytes.saturating_sub(len);
            // Tell a sender that may be stalled on a closed window.
            if before * 2 >= self.config.recv_buffer[class as usize] {
                c.ack_pending[class as usize] = true;
            }
        }
    }

    /// Closes a connection: the peer is told, [`Event::Lost`] follows here.
    pub fn close(&mut self, conn: ConnId) {
        self.drop_conn(conn.0, LostReason::LocalClose, true);
    }

    fn drop_conn(&mut self, id: u64, reason: LostReason, notify_peer: bool) {
        let Some(c) = self.conns.remove(&id) else {
            return;
        };
        if notify_peer {
            let mut buf = Vec::new();
            Repr::Close.emit(c.peer_conn, &mut buf);
            self.control_out.push_back((c.urgent_addr, buf));
        }
        if self.by_name.get(&c.name) == Some(&id) {
            self.by_name.remove(&c.name);
        }
        self.order.retain(|&x| x != id);
        self.events.push_back(Event::Lost {
            conn: ConnId(id),
            name: c.name,
            reason,
        });
    }

    fn establish(&mut self, id: u64, conn: Connection) {
        let name = conn.name.clone();
        let addr = conn.addr;
        if let Some(old) = self.by_name.insert(name.clone(), id) {
            self.drop_conn(old, LostReason::Replaced, true);
            self.by_name.insert(name.clone(), id);
        }
        self.conns.insert(id, conn);
        self.order.push(id);
        self.events.push_back(Event::Connected {
            conn: ConnId(id),
            name,
            addr,
        });
    }

    /// One received datagram from `from`.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.stats.rx_datagrams += 1;
        let (conn, repr) = match Repr::parse_datagram(data) {
            Ok(x) => x,
            Err(e) => {
                self.stats.rx_malformed += 1;
                tracing::trace!(%from, error = %e, "dropped malformed datagram");
                return;
            }
        };
        match repr {
            Repr::Hello {
                nonce,
                conn: peer_conn,
                name,
                urgent_port,
            } => {
                self.on_hello(now, from, conn, nonce, peer_conn, (name, urgent_port));
            }
            Repr::Challenge {
                nonce,
                conn: peer_conn,
                mac,
                name,
                urgent_port,
            } => self.on_challenge(now, from, conn, nonce, peer_conn, mac, (name, urgent_port)),
            Repr::Confirm { mac } => self.on_confirm(now, from, conn, mac),
            other => self.on_conn_datagram(now, from, conn, other, data),
        }
    }

    /// Receiving in place, step one: given the first [`wire::DATA_OVERHEAD`] bytes of a
    /// waiting datagram (peeked) and the length of the rest, where in reassembly its payload
    /// would be copied to, when it is a Data datagram that continues a message in order.
    /// Receive the payload straight there (e.g. `recvmsg` with the header and this slice as
    /// two iovecs) and call [`Self::handle_placed`]; on `None`, receive it whole and call
    /// [`Self::handle`]. Nothing is checked beyond what picks the place: `handle_placed`
    /// checks the datagram as `handle` would.
    pub fn placement(&mut self, header: &[u8], len: usize) -> Option<&mut [MaybeUninit<u8>]> {
        self.placed = None;
        let (id, h) = wire::DataHeader::parse_datagram(header, len).ok()?;
        if h.total as usize > self.config.max_message {
            return None;
        }
        let slot = self.conns.get_mut(&id)?.placement(&h)?;
        self.placed = Some((id, h));
        Some(slot)
    }

    /// Receiving in place, step two: the datagram from `from` whose first
    /// [`wire::DATA_OVERHEAD`] bytes are `header` and whose `len` bytes of payload were
    /// received into the slice the last [`Self::placement`] returned. A datagram that is
    /// not the one the place was chosen for (another header, another length, another
    /// sender) is dropped and counted.
    ///
    /// # Safety
    ///
    /// No other `&mut self` method was called since that `placement`, and the first `len`
    /// bytes of the slice it returned were written (and so initialised).
    pub unsafe fn handle_placed(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header: &[u8],
        len: usize,
    ) {
        self.stats.rx_datagrams += 1;
        let placed = self.placed.take();
        let Ok((id, h)) = wire::DataHeader::parse_datagram(header, len) else {
            self.stats.rx_malformed += 1;
            return;
        };
        if placed != Some((id, h)) {
            self.stats.rx_bad_fragment += 1;
            return;
        }
        let Some(c) = live_conn(&mut self.conns, &mut self.stats, id, from, now) else {
            return;
        };
        if h.total as usize > self.config.max_message {
            self.stats.rx_oversized += 1;
            return;
        }
        let mut out = Vec::new();
        // SAFETY: the caller received the payload into the placement for this header, and
        // `on_placed` commits it only if that placement still stands.
        unsafe { c.on_placed(&h, now, &self.config, &mut self.stats, &mut out) };
        for (class, data) in out {
            self.events.push_back(Event::Message {
                conn: ConnId(id),
                class,
                data,
            });
        }
    }

    /// A datagram that arrived on this node's urgent port ([`Config::urgent_port`]): only
    /// connection traffic of the control and real-time classes belongs there; anything
    /// else (handshakes, normal or bulk data) is counted in `rx_wrong_port` and dropped, so
    /// bulk cannot crowd the port real-time traffic relies on.
    pub fn handle_urgent(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let urgent = match Repr::parse_datagram(data) {
            Ok((_, Repr::Data(d))) => d.class <= Class::RealTime,
            Ok((_, Repr::Ack(_) | Repr::Tick | Repr::Close)) => true,
            Ok(_) => false,
            // Counted as malformed by `handle`.
            Err(_) => true,
        };
        if urgent {
            self.stats.rx_urgent += 1;
            self.handle(now, from, data);
        } else {
            self.stats.rx_datagrams += 1;
            self.stats.rx_wrong_port += 1;
            tracing::trace!(%from, "dropped a datagram on the urgent port");
        }
    }

    /// The driver learnt that the kernel dropped `n` datagrams for their launch time
    /// (counted in [`Stats::tx_launch_refused`]).
    pub fn count_launch_refused(&mut self, n: usize) {
        self.stats.tx_launch_refused += n as u64;
    }

    /// Whether [`Self::poll_event`] has something.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    fn on_hello(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header_conn: u64,
        nonce_a: [u8; NONCE_LEN],
        conn_a: u64,
        (name_a, port_a): (&str, u16),
    ) {
        if header_conn != 0 || conn_a == 0 {
            self.stats.rx_malformed += 1;
            return;
        }
        // Simultaneous connect: both sides are initiating. As in Erlang, the greater name's
        // handshake wins and the other side abandons its own to answer this one, so both
        // end up with the same single connection instead of each replacing the other's.
        if let Some(&mine) = self
            .initiating
            .iter()
            .find_map(|(id, i)| (i.addr == from).then_some(id))
        {
            match self.config.name.as_str().cmp(name_a) {
                std::cmp::Ordering::Greater => {
                    tracing::debug!(%from, "simultaneous connect: our handshake wins");
                    return;
                }
                std::cmp::Ordering::Less => {
                    tracing::debug!(%from, "simultaneous connect: answering theirs");
                    self.initiating.remove(&mine);
                }
                // Same name on both sides is a misconfiguration; let both handshakes run.
                std::cmp::Ordering::Equal => {}
            }
        }
        // A retried Hello gets the same Challenge again.
        if let Some(r) = self.responding.values().find(|r| {
            r.addr == from
                && r.peer_nonce == nonce_a
                && r.peer_conn == conn_a
                && r.peer_urgent_port == port_a
        }) {
            let buf = self.challenge_bytes(r);
            self.control_out.push_back((from, buf));
            return;
        }
        if self.responding.len() >= self.config.max_pending_handshakes {
            self.stats.rx_stray_handshake += 1;
            return;
        }
        let conn_b = self.fresh_id();
        let nonce_b = self.nonce();
        let cookie = &self.config.cookie;
        let name_b = &self.config.name;
        let port_b = self.config.urgent_port.unwrap_or(0);
        let mac = handshake_mac(
            cookie,
            b"responder",
            &nonce_a,
            &nonce_b,
            conn_a,
            conn_b,
            name_a,
            name_b,
            [port_a, port_b],
        )
        .finalize()
        .into_bytes()
        .into();
        let r = Responding {
            id: conn_b,
            addr: from,
            peer_conn: conn_a,
            peer_nonce: nonce_a,
            peer_name: name_a.to_owned(),
            peer_urgent_port: port_a,
            nonce: nonce_b,
            mac,
            started: now,
            early: Vec::new(),
            early_bytes: 0,
        };
        let buf = self.challenge_bytes(&r);
        self.control_out.push_back((from, buf));
        self.responding.insert(conn_b, r);
    }

    fn challenge_bytes(&self, r: &Responding) -> Vec<u8> {
        let mut buf = Vec::new();
        Repr::Challenge {
            nonce: r.nonce,
            conn: r.id,
            mac: r.mac,
            name: &self.config.name,
            urgent_port: self.config.urgent_port.unwrap_or(0),
        }
        .emit(r.peer_conn, &mut buf);
        buf
    }

    #[allow(clippy::too_many_arguments)]
    fn on_challenge(
        &mut self,
        now: Instant,
        from: SocketAddr,
        conn_a: u64,
        nonce_b: [u8; NONCE_LEN],
        conn_b: u64,
        mac: [u8; MAC_LEN],
        (name_b, port_b): (&str, u16),
    ) {
        let Some(i) = self.initiating.get(&conn_a) else {
            self.stats.rx_stray_handshake += 1;
            return;
        };
        if i.addr != from {
            self.stats.rx_forged += 1;
            return;
        }
        let cookie = &self.config.cookie;
        let name_a = &self.config.name;
        let ports = [self.config.urgent_port.unwrap_or(0), port_b];
        let ok = handshake_mac(
            cookie,
            b"responder",
            &i.nonce,
            &nonce_b,
            conn_a,
            conn_b,
            name_a,
            name_b,
            ports,
        )
        .verify_slice(&mac)
        .is_ok();
        let nonce_a = i.nonce;
        self.initiating.remove(&conn_a);
        if !ok {
            self.stats.rx_bad_mac += 1;
            tracing::warn!(%from, "handshake refused: cookie mismatch");
            self.events.push_back(Event::HandshakeFailed {
                addr: from,
                reason: HandshakeError::BadCookie,
            });
            return;
        }
        let proof: [u8; MAC_LEN] = handshake_mac(
            cookie,
            b"initiator",
            &nonce_a,
            &nonce_b,
            conn_a,
            conn_b,
            name_a,
            name_b,
            ports,
        )
        .finalize()
        .into_bytes()
        .into();
        let mut buf = Vec::new();
        Repr::Confirm { mac: proof }.emit(conn_b, &mut buf);
        self.control_out.push_back((from, buf));
        let mut c = Connection::new(conn_b, from, name_b.to_owned(), now);
        c.urgent_addr = urgent_addr(from, port_b);
        c.confirm = Some((proof, now));
        self.establish(conn_a, c);
    }

    fn on_confirm(&mut self, now: Instant, from: SocketAddr, conn_b: u64, mac: [u8; MAC_LEN]) {
        let Some(r) = self.responding.get(&conn_b) else {
            // A repeated Confirm for a connection already up is harmless.
            if !self.conns.contains_key(&conn_b) {
                self.stats.rx_stray_handshake += 1;
            }
            return;
        };
        if r.addr != from {
            self.stats.rx_forged += 1;
            return;
        }
        let Some(r) = self.responding.remove(&conn_b) else {
            return;
        };
        // verify_slice compares in constant time.
        let ok = handshake_mac(
            &self.config.cookie,
            b"initiator",
            &r.peer_nonce,
            &r.nonce,
            r.peer_conn,
            conn_b,
            &r.peer_name,
            &self.config.name,
            [r.peer_urgent_port, self.config.urgent_port.unwrap_or(0)],
        )
        .verify_slice(&mac)
        .is_ok();
        if !ok {
            self.stats.rx_bad_mac += 1;
            tracing::warn!(%from, "handshake refused: cookie mismatch");
            self.events.push_back(Event::HandshakeFailed {
                addr: from,
                reason: HandshakeError::BadCookie,
            });
            return;
        }
        let mut c = Connection::new(r.peer_conn, from, r.peer_name, now);
        c.urgent_addr = urgent_addr(from, r.peer_urgent_port);
        self.establish(conn_b, c);
        for d in r.early {
            if let Ok((id, repr)) = Repr::parse_datagram(&d) {
                self.on_conn_datagram(now, from, id, repr, &d);
            }
        }
    }

    fn on_conn_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        id: u64,
        repr: Repr<'_>,
        raw: &[u8],
    ) {
        if !self.conns.contains_key(&id)
            && let Repr::Data(_) = repr
            && let Some(r) = self.responding.get_mut(&id)
            && r.addr == from
            && r.early_bytes + raw.len() <= EARLY_BYTES
        {
            r.early_bytes += raw.len();
            r.early.push(raw.to_vec());
            self.stats.rx_early += 1;
            return;
        }
        let Some(c) = live_conn(&mut self.conns, &mut self.stats, id, from, now) else {
            return;
        };
        match repr {
            Repr::Data(d) => {
                if d.total as usize > self.config.max_message {
                    self.stats.rx_oversized += 1;
                    return;
                }
                let mut out = Vec::new();
                c.on_data(&d, now, &self.config, &mut self.stats, &mut out);
                for (class, data) in out {
                    self.events.push_back(Event::Message {
                        conn: ConnId(id),
                        class,
                        data,
                    });
                }
            }
            Repr::Ack(a) => c.on_ack(&a, now, &mut self.stats),
            Repr::Tick => {}
            Repr::Close => self.drop_conn(id, LostReason::PeerClosed, false),
            Repr::Hello { .. } | Repr::Challenge { .. } | Repr::Confirm { .. } => {}
        }
    }

    /// Timers: retransmissions, ticks, nodedown, handshake retries and expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        let tick = Connection::tick_interval(&self.config);
        let mut dead = Vec::new();
        for (&id, c) in &mut self.conns {
            if now.saturating_duration_since(c.last_recv) >= self.config.tick_time {
                dead.push(id);
                continue;
            }
            c.on_timeout(now, &self.config);
            if now.saturating_duration_since(c.last_send) >= tick {
                c.want_tick();
            }
            if let Some((proof, at)) = c.confirm
                && now.saturating_duration_since(at) >= self.config.handshake_retry
            {
                let mut buf = Vec::new();
                Repr::Confirm { mac: proof }.emit(c.peer_conn, &mut buf);
                self.control_out.push_back((c.addr, buf));
                c.confirm = Some((proof, now));
            }
        }
        for id in dead {
            tracing::info!(conn = id, "peer silent for the tick time: down");
            self.drop_conn(id, LostReason::Timeout, false);
        }
        let mut retry = Vec::new();
        let mut failed = Vec::new();
        for (&id, i) in &mut self.initiating {
            if now.saturating_duration_since(i.started) >= self.config.handshake_timeout {
                failed.push(id);
            } else if now.saturating_duration_since(i.last_sent) >= self.config.handshake_retry {
                i.last_sent = now;
                retry.push(id);
            }
        }
        for id in retry {
            self.queue_hello(id);
        }
        for id in failed {
            if let Some(i) = self.initiating.remove(&id) {
                self.events.push_back(Event::HandshakeFailed {
                    addr: i.addr,
                    reason: HandshakeError::Timeout,
                });
            }
        }
        let timeout = self.config.handshake_timeout;
        self.responding
            .retain(|_, r| now.saturating_duration_since(r.started) < timeout);
    }

    /// The next instant [`Self::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tick = Connection::tick_interval(&self.config);
        let conns = self.conns.values().flat_map(|c| {
            [
                Some(c.last_recv + self.config.tick_time),
                Some(c.last_send + tick),
                c.next_rto(&self.config),
                c.next_ack(),
                c.confirm.map(|(_, at)| at + self.config.handshake_retry),
                c.next_release(self.polled_at),
            ]
        });
        let init = self.initiating.values().flat_map(|i| {
            [
                Some(i.last_sent + self.config.handshake_retry),
                Some(i.started + self.config.handshake_timeout),
            ]
        });
        let resp = self
            .responding
            .values()
            .map(|r| Some(r.started + self.config.handshake_timeout));
        conns.chain(init).chain(resp).flatten().min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Writes the next datagram into `buf` (cleared first) and says where it goes: handshakes,
    /// then acknowledgements and ticks, then data by strict class priority, connections
    /// served round robin.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (t, payload) = self.poll_transmit_parts(now, buf)?;
        for p in payload.iter().flat_map(Payload::parts) {
            buf.extend_from_slice(p);
        }
        Some(t)
    }

    /// As [`Self::poll_transmit`], but a Data datagram's payload is returned beside the
    /// header in `buf` instead of copied after it: the datagram is `buf` then the payload's
    /// pieces, for a gathering send (`sendmsg` with an iovec each).
    pub fn poll_transmit_parts(
        &mut self,
        now: Instant,
        buf: &mut Vec<u8>,
    ) -> Option<(Transmit, Option<Payload>)> {
        buf.clear();
        self.polled_at = Some(now);
        let prio = self.config.priorities;
        if let Some((dest, data)) = self.control_out.pop_front() {
            *buf = data;
            self.stats.tx_datagrams += 1;
            return Some((
                Transmit {
                    dest,
                    class: Class::Control,
                    priority: prio[0],
                    launch: None,
                },
                None,
            ));
        }
        let n = self.order.len();
        // Acknowledgements and ticks first, at control priority.
        for k in 0..n {
            let id = self.order[(self.cursor + k) % n];
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            let due = c.classes_with_ack(now).next();
            if let Some(class) = due {
                c.acked(class);
                let ack = c.ack_for(class, &self.config);
                Repr::Ack(ack).emit(c.peer_conn, buf);
                c.last_send = now;
                c.tick_pending = false;
                self.stats.tx_datagrams += 1;
                return Some((
                    Transmit {
                        dest: c.urgent_addr,
                        class: Class::Control,
                        priority: prio[0],
                        launch: None,
                    },
                    None,
                ));
            }
            if c.tick_pending {
                c.tick_pending = false;
                Repr::Tick.emit(c.peer_conn, buf);
                c.last_send = now;
                self.stats.tx_datagrams += 1;
                return Some((
                    Transmit {
                        dest: c.urgent_addr,
                        class: Class::Control,
                        priority: prio[0],
                        launch: None,
                    },
                    None,
                ));
            }
        }
        for class in CLASSES {
            for k in 0..n {
                let idx = (self.cursor + k) % n;
                let id = self.order[idx];
                let Some(c) = self.conns.get_mut(&id) else {
                    continue;
                };
                if !c.has_data(class) {
                    continue;
                }
                wire::emit_header(buf, wire::KIND_DATA, c.peer_conn);
                if let Some((payload, launch)) =
                    c.poll_data(class, now, &self.config, &mut self.stats, buf)
                {
                    c.last_send = now;
                    self.cursor = (idx + 1) % n;
                    self.stats.tx_datagrams += 1;
                    return Some((
                        Transmit {
                            dest: if class <= Class::RealTime {
                                c.urgent_addr
                            } else {
                                c.addr
                            },
                            class,
                            priority: prio[class as usize],
                            launch,
                        },
                        Some(payload),
                    ));
                }
                buf.clear();
            }
        }
        None
    }
}
