//! The node model over the carrier: named nodes, processes with pids and mailboxes,
//! registered names, links, monitors, nodeup/nodedown, and the thin tokio driver that runs
//! the sans-IO [`Endpoint`] on a UDP socket.
//!
//! Signals between nodes are Erlang distribution control messages encoded in the external
//! term format (`SEND_SENDER`, `REG_SEND`, `LINK`, `EXIT`, `MONITOR_P`, `DEMONITOR_P`,
//! `MONITOR_P_EXIT`), each followed by its message term when it has one.
//!
//! Differences from Erlang a user must know:
//! - every process traps exits: a linked process's exit arrives as [`Msg::Exit`] instead of
//!   killing the receiver;
//! - ordering holds per sender/receiver pair *and class*: a real-time message may overtake
//!   a normal one from the same sender, and link/monitor/exit signals travel in the control
//!   class;
//! - nodes connect explicitly ([`Node::connect`]); sending to a node that is not connected
//!   drops the message, as Erlang does for an unreachable node; two nodes connecting to each
//!   other at once end up with one connection (the greater name's handshake wins, as in
//!   Erlang);
//! - only the handshake is authenticated (HMAC with the cookie); later datagrams are tied
//!   to it by connection id and source address, not signed;
//! - mailboxes are unbounded: flow control bounds the carrier's buffers, not a process that
//!   does not read its mailbox. A remote message is decoded when its process takes it.
//!
//! For low real-time latency, run the node and its real-time processes on one
//! current-thread runtime and heavy work elsewhere (see [`Node::start`]).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{Notify, mpsc, oneshot};
pub use tsn_time::Time;

use crate::carrier::wire::DATA_OVERHEAD;
use crate::carrier::{
    CLASSES, Class, Config, ConnId, Endpoint, Event, HandshakeError, Launch, Message, Payload,
    SendError, Stats,
};
use crate::sys;
use crate::term::{
    Atom, Bytes, DecodeOptions, Pid, Reference, Segments, Term, decode_prefix, encode,
    encode_segments,
};

/// `decode_prefix` for shared input.
fn decode_prefix_shared(data: &Bytes) -> Result<(Term, Bytes), crate::term::TermError> {
    DecodeOptions::default().decode_prefix_shared(data)
}

/// Errors of the node API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Socket trouble.
    #[error("io: {0}")]
    Io(#[from] io::Error),
    /// The handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// Bad configuration (node name).
    #[error("config: {0}")]
    Config(&'static str),
    /// The node has shut down.
    #[error("node stopped")]
    Stopped,
    /// The message is longer than the carrier's `max_message`.
    #[error("message too large")]
    TooLarge,
}

/// What a process finds in its mailbox.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// A message; `from` is the sender when it is known (always, between our nodes).
    Message {
        /// Sender.
        from: Option<Pid>,
        /// The term.
        term: Term,
    },
    /// A linked process exited (or its node went away: reason `noconnection`).
    Exit {
        /// The process that exited.
        from: Pid,
        /// Why.
        reason: Term,
    },
    /// A monitored process exited (`noproc` if it did not exist, `noconnection` when its
    /// node went away).
    Down {
        /// The monitor.
        reference: Reference,
        /// The monitored process.
        pid: Pid,
        /// Why.
        reason: Term,
    },
}

/// A node coming or going (`net_kernel:monitor_nodes/1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// Connected.
    Up(String),
    /// Disconnected.
    Down(String),
}

/// A mailbox entry. Remote messages stay encoded until the receiving process takes them,
/// so decoding a large term costs the receiver's time, not the driver's: the driver must
/// stay free for real-time datagrams.
#[derive(Debug)]
enum Envelope {
    Ready(Msg),
    Encoded {
        from: Pid,
        data: Bytes,
        /// Where the message term starts in `data` (after the control term).
        at: usize,
    },
}

impl Envelope {
    fn open(self) -> Option<Msg> {
        match self {
            Self::Ready(m) => Some(m),
            // Large binaries in the term share `data` rather than being copied out of it.
            Self::Encoded { from, data, at } => match decode_prefix_shared(&data.slice(at..)) {
                Ok((term, _)) => Some(Msg::Message {
                    from: Some(from),
                    term,
                }),
                Err(e) => {
                    tracing::debug!(?from, error = %e, "dropped a message with a bad term");
                    None
                }
            },
        }
    }
}

#[derive(Debug, Default)]
struct ProcEntry {
    tx: Option<mpsc::UnboundedSender<Envelope>>,
    links: HashSet<Pid>,
    /// Monitors this process holds: reference -> monitored pid.
    monitoring: HashMap<Reference, Pid>,
    /// Monitors on this process: reference -> watcher.
    watched_by: HashMap<Reference, Pid>,
}

#[derive(Debug)]
enum Cmd {
    Connect(SocketAddr, oneshot::Sender<Result<String, Error>>),
    Send {
        node: String,
        class: Class,
        stream: u64,
        data: Message,
        /// Time-triggered: the TAI launch time.
        launch: Option<Time>,
    },
    Stats(oneshot::Sender<Stats>),
    Shutdown,
    /// Stop without telling peers, as a crash would.
    Abort,
}

#[derive(Debug, Default)]
struct State {
    next_id: u32,
    next_ref: u64,
    procs: HashMap<u32, ProcEntry>,
    names: HashMap<String, u32>,
    peers: HashSet<String>,
    watchers: Vec<mpsc::UnboundedSender<NodeEvent>>,
    /// Per (node, class): what senders wait on.
    queued: HashMap<(String, Class), Queued>,
    stopped: bool,
}

/// The bytes of one (node, class) between its senders and the wire; senders wait while the
/// sum is over the class's send buffer.
#[derive(Debug, Default)]
struct Queued {
    /// On their way to the driver.
    on_way: usize,
    /// Held by the endpoint, unacknowledged, as the driver last saw.
    buffered: usize,
    /// A sender waits until the sum is at most this (the largest such level among the
    /// waiting senders): the driver wakes them then, not at every acknowledgement (a bulk
    /// sender waiting for room for 8 MB was woken some 128 times per message, which cost
    /// the bulk threads a sixth of a CPU).
    wake_at: Option<usize>,
}

impl Queued {
    fn total(&self) -> usize {
        self.on_way + self.buffered
    }
}

#[derive(Debug)]
struct Shared {
    name: Atom,
    creation: u32,
    addr: SocketAddr,
    urgent_addr: Option<SocketAddr>,
    send_buffer: [usize; 4],
    state: Mutex<State>,
    cmd: mpsc::UnboundedSender<Cmd>,
    drained: Notify,
}

/// A running node; cheap to clone. When the last handle (and the last of its processes)
/// is dropped, the node shuts down.
#[derive(Clone, Debug)]
pub struct Node {
    shared: Arc<Shared>,
    /// `None` in the driver's own handle, so the driver does not keep the node alive.
    _alive: Option<Arc<Alive>>,
}

/// Shuts the node down when the last user handle goes.
#[derive(Debug)]
struct Alive {
    cmd: mpsc::UnboundedSender<Cmd>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        let _ = self.cmd.send(Cmd::Shutdown);
    }
}

/// A process: its pid and mailbox. Dropping it is a normal exit.
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    rx: mpsc::UnboundedReceiver<Envelope>,
    node: Node,
    exited: bool,
}

fn atom(name: &str) -> Term {
    Term::atom(name).expect("short literal atom")
}

fn op(n: i64) -> Term {
    Term::from(n)
}

/// The carrier stream of messages from `from` to `to` (a pid or a registered name): one
/// per pair, so each pair's messages stay in order and pairs interleave.
fn stream_of(from: &Pid, to: &Term) -> u64 {
    let mut h = DefaultHasher::new();
    from.hash(&mut h);
    match to {
        Term::Pid(p) => (0u8, p).hash(&mut h),
        Term::Atom(a) => (1u8, a).hash(&mut h),
        other => (2u8, encode(other)).hash(&mut h),
    }
    h.finish()
}

impl Node {
    /// Starts a node with this carrier configuration on a UDP socket bound to `bind` (port 0
    /// picks one); its driver is a task on the current tokio runtime.
    ///
    /// For low real-time latency, run the node and its real-time processes on one
    /// current-thread runtime (a message then crosses no thread between socket and
    /// process) and do heavy work, such as encoding or decoding large terms, on another
    /// runtime: a task that computes for milliseconds delays every datagram behind it.
    pub async fn start(mut config: Config, bind: SocketAddr) -> Result<Self, Error> {
        let name = Atom::new(&config.name).map_err(|_| Error::Config("node name too long"))?;
        if config.name.is_empty() || config.name.len() > crate::carrier::wire::MAX_NAME {
            return Err(Error::Config("node name must be 1 to 255 bytes"));
        }
        let seed = sys::random_seed()?;
        let creation = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]) | 1;
        // Large buffers: bursts of bulk fragments must not overflow the receive queue.
        let socket = udp_socket(bind, 4 << 20)?;
        if config.txtime.is_some() {
            sys::enable_txtime(socket.as_raw_fd())?;
        }
        let addr = socket.local_addr()?;
        let urgent = if config.urgent_socket {
            // Same address, any port; it only receives (everything is sent from `socket`,
            // whose address is the one peers know us by).
            let s = udp_socket(SocketAddr::new(addr.ip(), 0), 1 << 20)?;
            config.urgent_port = Some(s.local_addr()?.port());
            Some(s)
        } else {
            config.urgent_port = None;
            None
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            name,
            creation,
            addr,
            urgent_addr: urgent.as_ref().map(UdpSocket::local_addr).transpose()?,
            send_buffer: config.send_buffer,
            state: Mutex::new(State::default()),
            cmd: tx.clone(),
            drained: Notify::new(),
        });
        // The node applies the send limits itself (senders wait, see `send_remote`), so the
        // endpoint must accept whatever the node hands it.
        config.send_buffer = [usize::MAX; 4];
        let endpoint = Endpoint::new(config, seed);
        tokio::spawn(drive(Arc::clone(&shared), socket, urgent, endpoint, rx));
        Ok(Self {
            shared,
            _alive: Some(Arc::new(Alive { cmd: tx })),
        })
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.shared.name.as_str()
    }

    /// The UDP address peers connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The second socket's address, where peers send control and real-time datagrams
    /// (`Config::urgent_socket`); `None` when it is off.
    pub fn urgent_addr(&self) -> Option<SocketAddr> {
        self.shared.urgent_addr
    }

    /// The carrier's counters: datagrams handled, dropped (and why), sent.
    pub async fn stats(&self) -> Result<Stats, Error> {
        let (tx, rx) = oneshot::channel();
        self.shared
            .cmd
            .send(Cmd::Stats(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Connects to the node at `addr`; returns its name once the handshake completed.
    pub async fn connect(&self, addr: SocketAddr) -> Result<String, Error> {
        let (tx, rx) = oneshot::channel();
        self.shared
            .cmd
            .send(Cmd::Connect(addr, tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Connected nodes.
    pub fn nodes(&self) -> Vec<String> {
        let mut v: Vec<String> = self.state().peers.iter().cloned().collect();
        v.sort();
        v
    }

    /// Nodeup/nodedown events from now on.
    pub fn monitor_nodes(&self) -> mpsc::UnboundedReceiver<NodeEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.state().watchers.push(tx);
        rx
    }

    /// A new process.
    pub fn spawn(&self) -> Process {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.state();
        st.next_id += 1;
        let id = st.next_id;
        st.procs.insert(
            id,
            ProcEntry {
                tx: Some(tx),
                ..ProcEntry::default()
            },
        );
        drop(st);
        Process {
            pid: self.pid(id),
            rx,
            node: self.clone(),
            exited: false,
        }
    }

    fn pid(&self, id: u32) -> Pid {
        Pid {
            node: self.shared.name.clone(),
            id,
            serial: 0,
            creation: self.shared.creation,
        }
    }

    fn is_local(&self, pid: &Pid) -> bool {
        pid.node == self.shared.name && pid.creation == self.shared.creation
    }

    /// Stops the node: connections are closed (peers see nodedown at once).
    pub fn shutdown(&self) {
        let _ = self.shared.cmd.send(Cmd::Shutdown);
    }

    /// Stops the node as a crash would: peers are not told and see nodedown only when the
    /// tick time passes without a word from it.
    pub fn abort(&self) {
        let _ = self.shared.cmd.send(Cmd::Abort);
    }

    fn make_ref(&self) -> Reference {
        let mut st = self.state();
        st.next_ref += 1;
        let n = st.next_ref;
        Reference::new(
            self.shared.name.clone(),
            self.shared.creation,
            &[n as u32, (n >> 32) as u32, 0],
        )
        .expect("three words")
    }

    /// Sends control + message to a remote node, waiting while the class's buffer is full.
    #[allow(clippy::too_many_arguments)]
    async fn send_remote(
        &self,
        node: &str,
        class: Class,
        stream: u64,
        control: &Term,
        message: Option<&Term>,
        launch: Option<Time>,
    ) -> Result<(), Error> {
        // Large binaries go to the carrier shared, not copied into one buffer.
        let mut segments = Segments::new();
        encode_segments(control, &mut segments);
        if let Some(m) = message {
            encode_segments(m, &mut segments);
        }
        let data = Message::from(segments);
        let limit = self.shared.send_buffer[class as usize];
        loop {
            let notified = self.shared.drained.notified();
            {
                let mut st = self.state();
                if st.stopped {
                    return Err(Error::Stopped);
                }
                if !st.peers.contains(node) {
                    // Erlang drops messages to an unreachable node.
                    return Ok(());
                }
                let q = st.queued.entry((node.to_owned(), class)).or_default();
                let queued = q.total();
                if queued == 0 || queued + data.len() <= limit {
                    q.on_way += data.len();
                    break;
                }
                // Room comes at this level (or at zero, for a message over the limit).
                let level = limit.saturating_sub(data.len());
                q.wake_at = Some(q.wake_at.map_or(level, |w| w.max(level)));
            }
            notified.await;
        }
        self.shared
            .cmd
            .send(Cmd::Send {
                node: node.to_owned(),
                class,
                stream,
                data,
                launch,
            })
            .map_err(|_| Error::Stopped)
    }

    fn deliver(&self, to: u32, msg: Msg) {
        self.deliver_envelope(to, Envelope::Ready(msg));
    }

    fn deliver_envelope(&self, to: u32, env: Envelope) {
        if let Some(tx) = self.state().procs.get(&to).and_then(|p| p.tx.as_ref()) {
            let _ = tx.send(env);
        }
    }

    /// A signal arrived from node `peer`. Only the control term is decoded here; a message
    /// term travels to the mailbox still encoded.
    fn on_remote(&self, peer: &str, data: Bytes) -> Result<(), &'static str> {
        let (control, rest) = decode_prefix(&data).map_err(|_| "control term")?;
        let at = data.len() - rest.len();
        let Term::Tuple(fields) = control else {
            return Err("control not a tuple");
        };
        let message = |from: Pid| Envelope::Encoded { from, data, at };
        let pid_at = |i: usize| match fields.get(i) {
            Some(Term::Pid(p)) => Ok(p.clone()),
            _ => Err("pid field"),
        };
        let opcode = fields.first().and_then(Term::as_i64).ok_or("opcode")?;
        match opcode {
            22 => {
                let (from, to) = (pid_at(1)?, pid_at(2)?);
                if from.node != peer {
                    return Err("sender not on the peer node");
                }
                if self.is_local(&to) {
                    self.deliver_envelope(to.id, message(from));
                }
            }
            6 => {
                let from = pid_at(1)?;
                let name = fields.get(3).and_then(Term::as_atom).ok_or("name")?;
                let id = self.state().names.get(name).copied();
                if let Some(id) = id {
                    self.deliver_envelope(id, message(from));
                }
            }
            1 => {
                let (from, to) = (pid_at(1)?, pid_at(2)?);
                let exists = {
                    let mut st = self.state();
                    match st.procs.get_mut(&to.id).filter(|_| self.is_local(&to)) {
                        Some(p) => {
                            p.links.insert(from.clone());
                            true
                        }
                        None => false,
                    }
                };
                if !exists {
                    self.signal_exit(&to, &from, atom("noproc"));
                }
            }
            3 | 8 => {
                let (from, to) = (pid_at(1)?, pid_at(2)?);
                let reason = fields.get(3).cloned().ok_or("reason")?;
                let removed = self
                    .state()
                    .procs
                    .get_mut(&to.id)
                    .is_some_and(|p| p.links.remove(&from) || opcode == 8);
                if removed && self.is_local(&to) {
                    self.deliver(to.id, Msg::Exit { from, reason });
                }
            }
            19 => {
                let (from, to) = (pid_at(1)?, pid_at(2)?);
                let Some(Term::Reference(r)) = fields.get(3) else {
                    return Err("reference");
                };
                let exists = {
                    let mut st = self.state();
                    match st.procs.get_mut(&to.id).filter(|_| self.is_local(&to)) {
                        Some(p) => {
                            p.watched_by.insert(r.clone(), from.clone());
                            true
                        }
                        None => false,
                    }
                };
                if !exists {
                    self.signal_down(&to, &from, r, atom("noproc"));
                }
            }
            20 => {
                let to = pid_at(2)?;
                if let Some(Term::Reference(r)) = fields.get(3)
                    && let Some(p) = self.state().procs.get_mut(&to.id)
                {
                    p.watched_by.remove(r);
                }
            }
            21 => {
                let (from, to) = (pid_at(1)?, pid_at(2)?);
                let Some(Term::Reference(r)) = fields.get(3) else {
                    return Err("reference");
                };
                let reason = fields.get(4).cloned().ok_or("reason")?;
                let held = self
                    .state()
                    .procs
                    .get_mut(&to.id)
                    .and_then(|p| p.monitoring.remove(r))
                    .is_some();
                if held {
                    self.deliver(
                        to.id,
                        Msg::Down {
                            reference: r.clone(),
                            pid: from,
                            reason,
                        },
                    );
                }
            }
            _ => return Err("unsupported control message"),
        }
        Ok(())
    }

    /// Sends an exit signal from `from` (local, exiting) to `to` (anywhere).
    fn signal_exit(&self, from: &Pid, to: &Pid, reason: Term) {
        if self.is_local(to) {
            let linked = self
                .state()
                .procs
                .get_mut(&to.id)
                .is_some_and(|p| p.links.remove(from));
            if linked || !self.is_local(from) {
                self.deliver(
                    to.id,
                    Msg::Exit {
                        from: from.clone(),
                        reason,
                    },
                );
            }
        } else {
            let control = Term::Tuple(vec![
                op(3),
                Term::Pid(from.clone()),
                Term::Pid(to.clone()),
                reason,
            ]);
            self.post(to.node.as_str(), &control, from, to);
        }
    }

    fn signal_down(&self, from: &Pid, to: &Pid, r: &Reference, reason: Term) {
        if self.is_local(to) {
            let held = self
                .state()
                .procs
                .get_mut(&to.id)
                .and_then(|p| p.monitoring.remove(r))
                .is_some();
            if held {
                self.deliver(
                    to.id,
                    Msg::Down {
                        reference: r.clone(),
                        pid: from.clone(),
                        reason,
                    },
                );
            }
        } else {
            let control = Term::Tuple(vec![
                op(21),
                Term::Pid(from.clone()),
                Term::Pid(to.clone()),
                Term::Reference(r.clone()),
                reason,
            ]);
            self.post(to.node.as_str(), &control, from, to);
        }
    }

    /// A control signal without backpressure (signals are small and must not block exits).
    fn post(&self, node: &str, control: &Term, from: &Pid, to: &Pid) {
        if !self.state().peers.contains(node) {
            return;
        }
        let data = encode(control);
        self.state()
            .queued
            .entry((node.to_owned(), Class::Control))
            .or_default()
            .on_way += data.len();
        let _ = self.shared.cmd.send(Cmd::Send {
            node: node.to_owned(),
            class: Class::Control,
            stream: stream_of(from, &Term::Pid(to.clone())),
            data: data.into(),
            launch: None,
        });
    }

    fn exit_process(&self, id: u32, reason: Term) {
        let pid = self.pid(id);
        let entry = {
            let mut st = self.state();
            st.names.retain(|_, v| *v != id);
            st.procs.remove(&id)
        };
        let Some(entry) = entry else { return };
        for linked in &entry.links {
            self.signal_exit(&pid, linked, reason.clone());
        }
        for (r, watcher) in &entry.watched_by {
            self.signal_down(&pid, watcher, r, reason.clone());
        }
        for (r, target) in &entry.monitoring {
            if !self.is_local(target) {
                let control = Term::Tuple(vec![
                    op(20),
                    Term::Pid(pid.clone()),
                    Term::Pid(target.clone()),
                    Term::Reference(r.clone()),
                ]);
                self.post(target.node.as_str(), &control, &pid, target);
            } else if let Some(p) = self.state().procs.get_mut(&target.id) {
                p.watched_by.remove(r);
            }
        }
    }

    /// The connection to `peer` is gone: `noconnection` to every link and monitor there.
    fn on_nodedown(&self, peer: &str) {
        let mut fire = Vec::new();
        {
            let mut st = self.state();
            st.peers.remove(peer);
            st.queued.retain(|(n, _), _| n != peer);
            for (&id, p) in &mut st.procs {
                let gone: Vec<Pid> = p.links.iter().filter(|l| l.node == peer).cloned().collect();
                for l in gone {
                    p.links.remove(&l);
                    fire.push((
                        id,
                        Msg::Exit {
                            from: l,
                            reason: atom("noconnection"),
                        },
                    ));
                }
                let gone: Vec<Reference> = p
                    .monitoring
                    .iter()
                    .filter(|(_, t)| t.node == peer)
                    .map(|(r, _)| r.clone())
                    .collect();
                for r in gone {
                    if let Some(t) = p.monitoring.remove(&r) {
                        fire.push((
                            id,
                            Msg::Down {
                                reference: r,
                                pid: t,
                                reason: atom("noconnection"),
                            },
                        ));
                    }
                }
                p.watched_by.retain(|_, w| w.node != peer);
            }
            let ev = NodeEvent::Down(peer.to_owned());
            st.watchers.retain(|w| w.send(ev.clone()).is_ok());
        }
        for (id, m) in fire {
            self.deliver(id, m);
        }
        self.shared.drained.notify_waiters();
    }
}

impl Process {
    /// This process's pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// The node it runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The next mailbox entry. A remote message is decoded here, by the receiving task;
    /// one whose term does not decode is dropped (and logged).
    pub async fn recv(&mut self) -> Option<Msg> {
        loop {
            if let Some(m) = self.rx.recv().await?.open() {
                return Some(m);
            }
        }
    }

    /// The next mailbox entry, if one is there.
    pub fn try_recv(&mut self) -> Option<Msg> {
        loop {
            if let Some(m) = self.rx.try_recv().ok()?.open() {
                return Some(m);
            }
        }
    }

    /// Registers this process under `name` on its node; false if the name is taken.
    pub fn register(&self, name: &str) -> bool {
        let mut st = self.node.state();
        if st.names.contains_key(name) {
            return false;
        }
        st.names.insert(name.to_owned(), self.pid.id);
        true
    }

    /// `To ! Msg` in the normal class.
    pub async fn send(&self, to: &Pid, msg: &Term) -> Result<(), Error> {
        self.send_in(to, msg, Class::Normal).await
    }

    /// `To ! Msg` in `class`; waits while that class's send buffer to the node is full.
    pub async fn send_in(&self, to: &Pid, msg: &Term, class: Class) -> Result<(), Error> {
        self.send_to_pid(to, msg, class, None).await
    }

    /// `To ! Msg` in the real-time class, time-triggered: the message leaves this node at
    /// `launch` (TAI, see [`tai_now`]). Messages of the same sender to the same receiver
    /// sent later wait behind it; other pairs do not. With [`Config::txtime`] its datagrams
    /// carry the launch time for an `etf` qdisc, which puts them on the wire at that
    /// instant; without, the node hands them to the kernel then. Returns once queued.
    ///
    /// A cyclic task sending on the next 10 ms boundary of TAI:
    ///
    /// ```
    /// use dist_over_tsn::carrier::Config;
    /// use dist_over_tsn::node::{Msg, Node, Time, tai_now};
    /// use dist_over_tsn::term::Term;
    /// use tsn_time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = Node::start(Config::new("plc", b"cookie"), "127.0.0.1:0".parse()?).await?;
    /// let task = node.spawn();
    /// let mut actuator = node.spawn();
    /// let cycle = Duration::from_millis(10);
    /// let launch = (tai_now() + cycle).next_on_grid(Time::EPOCH, cycle);
    /// task.send_at(actuator.pid(), &Term::from(42_i64), launch).await?;
    /// let Some(Msg::Message { term, .. }) = actuator.recv().await else { panic!() };
    /// assert!(tai_now() >= launch);
    /// assert_eq!(term, Term::from(42_i64));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_at(&self, to: &Pid, msg: &Term, launch: Time) -> Result<(), Error> {
        self.send_to_pid(to, msg, Class::RealTime, Some(launch))
            .await
    }

    /// `{Name, Node} ! Msg` in `class`.
    pub async fn send_named(
        &self,
        node: &str,
        name: &str,
        msg: &Term,
        class: Class,
    ) -> Result<(), Error> {
        self.send_to_name(node, name, msg, class, None).await
    }

    /// `{Name, Node} ! Msg`, time-triggered as [`Self::send_at`].
    pub async fn send_named_at(
        &self,
        node: &str,
        name: &str,
        msg: &Term,
        launch: Time,
    ) -> Result<(), Error> {
        self.send_to_name(node, name, msg, Class::RealTime, Some(launch))
            .await
    }

    /// A local delivery, at `launch` when there is one.
    fn deliver_local(&self, to: u32, term: &Term, launch: Option<Time>) {
        let msg = Msg::Message {
            from: Some(self.pid.clone()),
            term: term.clone(),
        };
        match launch {
            None => self.node.deliver(to, msg),
            Some(at) => {
                let node = self.node.clone();
                let wait = (at - tai_now()).to_std().unwrap_or_default();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    node.deliver(to, msg);
                });
            }
        }
    }

    async fn send_to_pid(
        &self,
        to: &Pid,
        msg: &Term,
        class: Class,
        launch: Option<Time>,
    ) -> Result<(), Error> {
        if self.node.is_local(to) {
            self.deliver_local(to.id, msg, launch);
            return Ok(());
        }
        let control = Term::Tuple(vec![
            op(22),
            Term::Pid(self.pid.clone()),
            Term::Pid(to.clone()),
        ]);
        let stream = stream_of(&self.pid, &Term::Pid(to.clone()));
        self.node
            .send_remote(to.node.as_str(), class, stream, &control, Some(msg), launch)
            .await
    }

    async fn send_to_name(
        &self,
        node: &str,
        name: &str,
        msg: &Term,
        class: Class,
        launch: Option<Time>,
    ) -> Result<(), Error> {
        if node == self.node.name() {
            let id = self.node.state().names.get(name).copied();
            if let Some(id) = id {
                self.deliver_local(id, msg, launch);
            }
            return Ok(());
        }
        let to = Term::atom(name).map_err(|_| Error::Config("name too long"))?;
        let control = Term::Tuple(vec![
            op(6),
            Term::Pid(self.pid.clone()),
            atom(""),
            to.clone(),
        ]);
        let stream = stream_of(&self.pid, &to);
        self.node
            .send_remote(node, class, stream, &control, Some(msg), launch)
            .await
    }

    /// Links to `other`: when either exits, the other gets [`Msg::Exit`].
    pub fn link(&self, other: &Pid) {
        let me = self.pid.clone();
        let node = &self.node;
        if let Some(p) = node.state().procs.get_mut(&me.id) {
            p.links.insert(other.clone());
        }
        if node.is_local(other) {
            let exists = match node.state().procs.get_mut(&other.id) {
                Some(p) => {
                    p.links.insert(me.clone());
                    true
                }
                None => false,
            };
            if !exists {
                if let Some(p) = node.state().procs.get_mut(&me.id) {
                    p.links.remove(other);
                }
                node.deliver(
                    me.id,
                    Msg::Exit {
                        from: other.clone(),
                        reason: atom("noproc"),
                    },
                );
            }
        } else if node.state().peers.contains(other.node.as_str()) {
            let control = Term::Tuple(vec![op(1), Term::Pid(me.clone()), Term::Pid(other.clone())]);
            node.post(other.node.as_str(), &control, &me, other);
        } else {
            if let Some(p) = node.state().procs.get_mut(&me.id) {
                p.links.remove(other);
            }
            node.deliver(
                me.id,
                Msg::Exit {
                    from: other.clone(),
                    reason: atom("noconnection"),
                },
            );
        }
    }

    /// Monitors `other`: one [`Msg::Down`] with the returned reference when it exits.
    pub fn monitor(&self, other: &Pid) -> Reference {
        let node = &self.node;
        let r = node.make_ref();
        let me = self.pid.clone();
        if let Some(p) = node.state().procs.get_mut(&me.id) {
            p.monitoring.insert(r.clone(), other.clone());
        }
        let down = |reason: &str| {
            node.signal_down(other, &me, &r, atom(reason));
        };
        if node.is_local(other) {
            let exists = match node.state().procs.get_mut(&other.id) {
                Some(p) => {
                    p.watched_by.insert(r.clone(), me.clone());
                    true
                }
                None => false,
            };
            if !exists {
                down("noproc");
            }
        } else if node.state().peers.contains(other.node.as_str()) {
            let control = Term::Tuple(vec![
                op(19),
                Term::Pid(me.clone()),
                Term::Pid(other.clone()),
                Term::Reference(r.clone()),
            ]);
            node.post(other.node.as_str(), &control, &me, other);
        } else {
            down("noconnection");
        }
        r
    }

    /// Exits with `reason`: links and monitors fire.
    pub fn exit(mut self, reason: Term) {
        self.exited = true;
        self.node.exit_process(self.pid.id, reason);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.exited {
            self.node.exit_process(self.pid.id, atom("normal"));
        }
    }
}

/// Now on `CLOCK_TAI`, the clock of launch times ([`Process::send_at`]) and of the `etf`
/// and taprio qdiscs. It is the system clock plus the kernel's TAI offset (set by an NTP or
/// PTP daemon, 37 s today; 0 where nothing set it); on a TSN host, gptpd keeps the system
/// clock on the network's time. A cyclic task sends at `Time::next_on_grid`.
pub fn tai_now() -> Time {
    Time::from_nanos(sys::clock_tai_ns())
}

/// Puts the calling thread in the real-time class (SCHED_FIFO at `priority`, 1 to 99), for
/// the thread that runs a node and its real-time processes: it then runs as soon as a
/// datagram arrives instead of waiting for a time slice behind bulk work. Needs
/// CAP_SYS_NICE or an RLIMIT_RTPRIO of at least `priority`. Threads and processes started
/// from this thread afterwards begin in the normal class (`SCHED_RESET_ON_FORK`).
pub fn set_realtime_priority(priority: u8) -> io::Result<()> {
    sys::set_fifo(priority)
}

/// A non-blocking UDP socket bound to `bind` with `buffer` bytes of kernel buffers.
fn udp_socket(bind: SocketAddr, buffer: usize) -> io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(bind),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.set_nonblocking(true)?;
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    socket.bind(&bind.into())?;
    UdpSocket::from_std(socket.into())
}

/// Most datagrams [`drain_urgent`] reads in one go: a flood on the urgent port (it is open
/// to anyone who can reach the host) must not hold the driver away from its commands and
/// timers.
const URGENT_BATCH: usize = 64;

/// What one [`drain_urgent`] found.
#[derive(Clone, Copy, Debug, Default)]
struct Drained {
    /// At least one datagram arrived.
    any: bool,
    /// The socket is empty (it said EAGAIN), not merely [`URGENT_BATCH`] read.
    empty: bool,
}

/// Reads the datagrams waiting on the urgent socket into the endpoint, at most
/// [`URGENT_BATCH`], straight from the kernel (not through the runtime's readiness, which is
/// only as fresh as its last poll).
fn drain_urgent(urgent: Option<&UdpSocket>, ep: &mut Endpoint, buf: &mut [u8]) -> Drained {
    let Some(u) = urgent else {
        return Drained {
            any: false,
            empty: true,
        };
    };
    let mut any = false;
    for _ in 0..URGENT_BATCH {
        match sys::recv_from(u, buf) {
            Ok((n, from)) => {
                ep.handle_urgent(Instant::now(), from, &buf[..n]);
                any = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained { any, empty: true },
            Err(e) => {
                tracing::debug!(error = %e, "recv failed on the urgent socket");
                return Drained { any, empty: false };
            }
        }
    }
    Drained { any, empty: false }
}

/// Receives one datagram from the main socket into the endpoint: a fragment that continues
/// a message in order goes straight to its place in reassembly (peek at its header, then
/// one `recvmsg` scattering header and payload), anything else through `buf`.
fn recv_main(socket: &UdpSocket, ep: &mut Endpoint, buf: &mut [u8]) -> io::Result<()> {
    let mut head = [0u8; DATA_OVERHEAD];
    let len = sys::peek(socket, &mut head)?;
    if len > DATA_OVERHEAD
        && let Some(slot) = ep.placement(&head, len - DATA_OVERHEAD)
    {
        let (n, from, truncated) = sys::recv_scattered(socket, &mut head, slot)?;
        if truncated || n < DATA_OVERHEAD {
            // Not the datagram peeked at (another reader?): dropped, the sender repeats it.
            tracing::debug!(%from, n, "datagram changed between peek and receive");
            return Ok(());
        }
        // SAFETY: the slot came from the last `placement`, nothing touched `ep` since, and
        // the kernel wrote the `n - DATA_OVERHEAD` bytes after the header into it.
        unsafe { ep.handle_placed(Instant::now(), from, &head, n - DATA_OVERHEAD) };
        return Ok(());
    }
    let (n, from) = sys::recv_from(socket, buf)?;
    ep.handle(Instant::now(), from, &buf[..n]);
    Ok(())
}

/// Whether the driver polls again instead of blocking ([`Config::busy_poll`]): only within
/// `busy_poll` of the last real-time message, when no transmission is pending anyway, and
/// while no other thread waits for a CPU (asked last, as it costs a system call).
fn should_spin(
    since_realtime: Option<Duration>,
    busy_poll: Duration,
    more_to_send: bool,
    spare_cpu: impl FnOnce() -> bool,
) -> bool {
    !more_to_send && since_realtime.is_some_and(|d| d < busy_poll) && spare_cpu()
}

/// Normal or bulk datagrams sent before the driver looks at its socket and commands again:
/// one, since on loopback a 64 KiB datagram costs tens of microseconds and a real-time
/// datagram waiting behind a burst of them waits that much longer.
const BULK_BURST: usize = 1;

/// The driver's state that commands change.
struct Driving<'a> {
    ep: &'a mut Endpoint,
    node: &'a Node,
    waiting: &'a mut Vec<(SocketAddr, oneshot::Sender<Result<String, Error>>)>,
    last_realtime: &'a mut Option<Instant>,
    shutting_down: &'a mut bool,
}

impl Driving<'_> {
    /// The carrier's launch for TAI instant `at`: released [`TxTime::lead`] ahead (on this
    /// host's monotonic clock) when launch times go to the kernel, at `at` otherwise.
    fn launch(&self, at: Time) -> Launch {
        let lead = self.ep.config().txtime.map_or(Duration::ZERO, |t| t.lead);
        let ahead = (at - tai_now()).to_std().unwrap_or_default();
        Launch {
            release: Instant::now() + ahead.saturating_sub(lead),
            tai_ns: u64::try_from(at.nanos()).unwrap_or(0),
        }
    }

    /// Applies `first` (`None`: every handle is gone) and every command queued behind it;
    /// false when the driver is to stop at once.
    fn apply(&mut self, first: Option<Cmd>, cmds: &mut mpsc::UnboundedReceiver<Cmd>) -> bool {
        let mut next = first;
        loop {
            match next {
                Some(Cmd::Abort) => {
                    self.node.state().stopped = true;
                    self.node.shared.drained.notify_waiters();
                    return false;
                }
                None | Some(Cmd::Shutdown) => {
                    let conns: Vec<ConnId> = self.ep.connections().map(|(c, _)| c).collect();
                    for c in conns {
                        self.ep.close(c);
                    }
                    self.node.state().stopped = true;
                    *self.shutting_down = true;
                    break;
                }
                Some(Cmd::Stats(tx)) => {
                    let _ = tx.send(self.ep.stats().clone());
                }
                Some(Cmd::Connect(addr, tx)) => {
                    self.ep.connect(Instant::now(), addr);
                    self.waiting.push((addr, tx));
                }
                Some(Cmd::Send {
                    node: peer,
                    class,
                    stream,
                    data,
                    launch,
                }) => {
                    if class == Class::RealTime {
                        *self.last_realtime = Some(Instant::now());
                    }
                    let len = data.len();
                    let res = match (self.ep.connection_to(&peer), launch) {
                        (Some(conn), None) => self.ep.send(conn, class, stream, data),
                        (Some(conn), Some(at)) => {
                            let launch = self.launch(at);
                            self.ep.send_at(conn, class, stream, data, launch)
                        }
                        (None, _) => Err(SendError::NoConnection),
                    };
                    let mut st = self.node.state();
                    // The bytes move on to the endpoint's count, published after the
                    // transmissions: no sender can go yet.
                    if let Some(q) = st.queued.get_mut(&(peer.clone(), class)) {
                        q.on_way = q.on_way.saturating_sub(len);
                    }
                    drop(st);
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "message dropped");
                    }
                }
            }
            match cmds.try_recv() {
                Ok(c) => next = Some(c),
                Err(_) => break,
            }
        }
        if *self.shutting_down {
            // Waiting senders learn that the node stopped.
            self.node.shared.drained.notify_waiters();
        }
        true
    }
}

/// The driver: one task per node owning the socket and the endpoint.
async fn drive(
    shared: Arc<Shared>,
    socket: UdpSocket,
    urgent: Option<UdpSocket>,
    mut ep: Endpoint,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    let node = Node {
        shared: Arc::clone(&shared),
        _alive: None,
    };
    let fd = socket.as_raw_fd();
    let mut out = Vec::with_capacity(65536);
    let mut inbuf = vec![0u8; 65536];
    let mut waiting: Vec<(SocketAddr, oneshot::Sender<Result<String, Error>>)> = Vec::new();
    let mut shutting_down = false;
    let mut sender = sys::PrioritySender::default();
    let busy_poll = ep.config().busy_poll;
    let txtime_lead = ep.config().txtime.map(|t| t.lead);
    // When real-time traffic last went through (`Config::busy_poll`).
    let mut last_realtime: Option<Instant> = None;
    let mut cpu_load = (!busy_poll.is_zero()).then(sys::CpuLoad::open).flatten();
    // A command the select below woke up for (`None`: every handle is gone).
    let mut woken_by_cmd: Option<Option<Cmd>> = None;
    loop {
        // Commands first, every time round: a real-time process's message must not wait
        // for a turn of the select below, which input on the sockets can win again and again
        // (under bulk, acks keep the urgent socket readable).
        let cmd = woken_by_cmd.take().or_else(|| match cmds.try_recv() {
            Ok(c) => Some(Some(c)),
            Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
            Err(mpsc::error::TryRecvError::Empty) => None,
        });
        if let Some(cmd) = cmd
            && !shutting_down
        {
            let mut d = Driving {
                ep: &mut ep,
                node: &node,
                waiting: &mut waiting,
                last_realtime: &mut last_realtime,
                shutting_down: &mut shutting_down,
            };
            if !d.apply(cmd, &mut cmds) {
                return;
            }
        }
        let now = Instant::now();
        // Input first: a message that came in wakes its process before another bulk
        // datagram goes out, and what that process sends is picked up at the top.
        let mut woke_someone = false;
        while let Some(ev) = ep.poll_event() {
            woke_someone = true;
            match ev {
                Event::Connected { name, addr, .. } => {
                    let mut st = node.state();
                    st.peers.insert(name.clone());
                    let e = NodeEvent::Up(name.clone());
                    st.watchers.retain(|w| w.send(e.clone()).is_ok());
                    drop(st);
                    waiting.retain_mut(|(a, tx)| {
                        if *a == addr {
                            let tx = std::mem::replace(tx, oneshot::channel().0);
                            let _ = tx.send(Ok(name.clone()));
                            false
                        } else {
                            true
                        }
                    });
                }
                Event::HandshakeFailed { addr, reason } => {
                    waiting.retain_mut(|(a, tx)| {
                        if *a == addr {
                            let tx = std::mem::replace(tx, oneshot::channel().0);
                            let _ = tx.send(Err(Error::Handshake(reason)));
                            false
                        } else {
                            true
                        }
                    });
                }
                Event::Lost { name, .. } => {
                    if ep.connection_to(&name).is_none() {
                        node.on_nodedown(&name);
                    }
                }
                Event::Message { conn, class, data } => {
                    if class == Class::RealTime {
                        last_realtime = Some(now);
                    }
                    let peer = ep
                        .connections()
                        .find(|(c, _)| *c == conn)
                        .map(|(_, n)| n.to_owned());
                    let len = data.len();
                    if let Some(peer) = peer
                        && let Err(why) = node.on_remote(&peer, data)
                    {
                        tracing::debug!(%peer, why, "dropped bad signal");
                    }
                    ep.release(conn, class, len);
                }
            }
        }
        if woke_someone && !shutting_down {
            // On a current-thread runtime the real-time processes share this thread:
            // let them run now, then go round (commands first) without waiting.
            tokio::task::yield_now().await;
            continue;
        }
        // Transmit everything the endpoint has, but look at the socket between bulk
        // datagrams so urgent input is never stuck behind a long burst.
        let mut sent_bulk = 0;
        while let Some((t, payload)) = ep.poll_transmit_parts(now, &mut out) {
            let tail = payload.as_ref().map_or(&[][..], Payload::parts);
            // With an etf qdisc on the real-time queue every datagram there needs a launch
            // time (etf drops the rest): a time-triggered one its own, others `lead` on.
            let txtime = match txtime_lead {
                Some(lead) if t.class == Class::RealTime => Some(t.launch.unwrap_or_else(|| {
                    u64::try_from(sys::clock_tai_ns() + lead.as_nanos() as i128).unwrap_or(0)
                })),
                _ => None,
            };
            loop {
                match socket.try_io(tokio::io::Interest::WRITABLE, || {
                    sender.send(fd, &out, tail, t.dest, t.priority, txtime)
                }) {
                    Ok(_) => break,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if socket.writable().await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(dest = %t.dest, error = %e, "send failed");
                        break;
                    }
                }
            }
            if t.class >= Class::Normal {
                sent_bulk += 1;
                if sent_bulk >= BULK_BURST {
                    break;
                }
            }
        }
        if shutting_down {
            return;
        }
        // Publish how much each class still buffers, and wake blocked senders.
        {
            let mut st = node.state();
            let mut changed = false;
            for (conn, name) in ep.connections() {
                for class in CLASSES {
                    let now_buffered = ep.buffered(conn, class);
                    if let Some(q) = st.queued.get_mut(&(name.to_owned(), class)) {
                        q.buffered = now_buffered;
                        if q.wake_at.is_some_and(|w| q.total() <= w) {
                            q.wake_at = None;
                            changed = true;
                        }
                    }
                }
            }
            drop(st);
            if changed {
                shared.drained.notify_waiters();
            }
        }
        let deadline = ep.poll_timeout();
        let more_to_send = sent_bulk >= BULK_BURST;
        if more_to_send {
            // Let other tasks on this thread run between bulk datagrams; otherwise the driver
            // keeps the thread for as long as it has bulk to send.
            tokio::task::yield_now().await;
        }
        // Busy polling: instead of blocking (and paying for the wake-up), go round again
        // after one non-blocking look at the sockets, the commands and the timers (a
        // yielded task makes the runtime poll its IO driver without waiting). Only while no
        // other thread waits for a CPU: then spinning takes time from nobody (`sched_yield`
        // cannot hand the CPU from a SCHED_FIFO thread to a normal one), and on a busy
        // machine no CPU halts, so there is no wake-up to save.
        let spinning = should_spin(
            last_realtime.map(|t| t.elapsed()),
            busy_poll,
            more_to_send,
            || cpu_load.as_mut().is_some_and(sys::CpuLoad::spare_cpu),
        );
        if spinning {
            sys::yield_cpu();
        }
        tokio::select! {
            biased;
            r = async {
                match &urgent {
                    Some(u) => u.readable().await,
                    None => std::future::pending().await,
                }
            } => {
                if r.is_ok() && let Some(u) = &urgent {
                    // Clears the runtime's readiness only once the socket is empty: with
                    // datagrams left, the next turn finds it readable still.
                    let _ = u.try_io(tokio::io::Interest::READABLE, || {
                        if drain_urgent(Some(u), &mut ep, &mut inbuf).empty {
                            Err(io::ErrorKind::WouldBlock.into())
                        } else {
                            Ok(())
                        }
                    });
                }
            }
            // Applied at the top of the loop.
            cmd = cmds.recv() => woken_by_cmd = Some(cmd),
            r = socket.readable() => {
                if r.is_err() {
                    continue;
                }
                for _ in 0..64 {
                    // Control and real-time datagrams first, and handled at once.
                    if drain_urgent(urgent.as_ref(), &mut ep, &mut inbuf).any && ep.has_events() {
                        break;
                    }
                    // A local process (a real-time one, maybe) has something to send.
                    if !cmds.is_empty() {
                        break;
                    }
                    match socket.try_io(tokio::io::Interest::READABLE, || {
                        recv_main(&socket, &mut ep, &mut inbuf)
                    }) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            tracing::debug!(error = %e, "recv failed");
                            break;
                        }
                    }
                }
            }
            () = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            } => {
                ep.handle_timeout(Instant::now());
            }
            () = std::future::ready(()), if more_to_send => {}
            () = tokio::task::yield_now(), if spinning => {}
            // The kernel reports launch times it could not keep (etf dropped the datagram;
            // the carrier sends it again when its acknowledgement does not come).
            r = socket.ready(tokio::io::Interest::ERROR), if txtime_lead.is_some() => {
                if r.is_ok() {
                    let _ = socket.try_io(tokio::io::Interest::ERROR, || {
                        let n = sys::drain_txtime_errors(fd);
                        if n > 0 {
                            tracing::debug!(n, "launch times missed");
                            ep.count_launch_refused(n);
                        }
                        Err::<(), _>(io::ErrorKind::WouldBlock.into())
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::should_spin;
    use std::time::Duration;

    #[test]
    fn spins_only_soon_after_real_time_traffic_and_with_a_spare_cpu() {
        let ms = Duration::from_millis;
        let spare = || true;
        assert!(should_spin(Some(ms(1)), ms(2), false, spare));
        // Off, never: the default.
        assert!(!should_spin(
            Some(Duration::ZERO),
            Duration::ZERO,
            false,
            spare
        ));
        // The window has passed, or no real-time traffic ever went through.
        assert!(!should_spin(Some(ms(2)), ms(2), false, spare));
        assert!(!should_spin(None, ms(2), false, spare));
        // Another thread waits for a CPU.
        assert!(!should_spin(Some(ms(1)), ms(2), false, || false));
        // Datagrams are waiting to go out: the driver goes round anyway, without a look
        // at the machine's load.
        assert!(!should_spin(Some(ms(1)), ms(2), true, || panic!(
            "not asked"
        )));
    }
}
