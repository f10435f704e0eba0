//! One established connection: per-class send queues with round robin between streams,
//! fragmentation, sequence numbers, acknowledgements, retransmission, the receive window,
//! reassembly and ticks. Pure: every input carries `now`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::wire::{AckRepr, DataHeader, DataRepr, emit_data_header};
use super::{CLASSES, Class, Config, Launch, Message, Payload, Stats};

/// Most out-of-order datagrams a class holds; more are dropped (the sender retransmits).
const MAX_OOO: u64 = 4096;

/// In-order bytes after which an acknowledgement goes out at once instead of after
/// `ack_delay`: a stream of data keeps its sender's window moving, while a lone small
/// message costs its receiver no acknowledgement datagram of its own (and its sender no
/// wakeup) until the delay, by when more may be acknowledged at once.
const ACK_EVERY_BYTES: usize = 16 << 10;

#[derive(Debug)]
struct OutMsg {
    id: u32,
    data: Arc<Message>,
    sent: usize,
    /// Time-triggered: held until `release`, its fragments first sent with this launch time.
    launch: Option<Launch>,
}

impl OutMsg {
    fn ready(&self, now: Instant) -> bool {
        self.launch.is_none_or(|l| l.release <= now)
    }
}

#[derive(Debug)]
struct Frag {
    data: Arc<Message>,
    msg: u32,
    offset: usize,
    len: usize,
    sent_at: Instant,
    retransmitted: bool,
    lost: bool,
}

#[derive(Debug, Default)]
pub(super) struct SendClass {
    /// Round robin between streams; each stream's messages go one after the other, so a
    /// stream's messages complete in order while other streams' fragments interleave.
    streams: VecDeque<(u64, VecDeque<OutMsg>)>,
    next_msg: u32,
    next_seq: u64,
    inflight: BTreeMap<u64, Frag>,
    inflight_bytes: usize,
    lost: usize,
    /// Bytes accepted by `send` and not yet acknowledged.
    pub(super) buffered: usize,
    peer_window: Option<usize>,
}

#[derive(Debug)]
struct Held {
    msg: u32,
    first: bool,
    last: bool,
    total: u32,
    offset: u32,
    payload: Vec<u8>,
}

#[derive(Debug)]
struct Partial {
    buf: Vec<u8>,
    reserved: usize,
    /// The length the first fragment announced; every fragment must agree.
    total: u32,
}

#[derive(Debug, Default)]
pub(super) struct RecvClass {
    next: u64,
    ooo: BTreeMap<u64, Held>,
    ooo_bytes: usize,
    partial: HashMap<u32, Partial>,
    partial_bytes: usize,
    /// Capacity reserved up front for messages in reassembly, at most `max_reassembly`.
    partial_reserved: usize,
    /// Complete messages handed out as events and not yet taken by the application.
    pub(super) ready_bytes: usize,
    ever: bool,
}

impl RecvClass {
    /// A message leaves reassembly: its bytes and reservation no longer count.
    fn forget(&mut self, p: &Partial) {
        self.partial_bytes -= p.buf.len();
        self.partial_reserved -= p.reserved;
    }
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostReason {
    /// Nothing arrived for the tick time.
    Timeout,
    /// The peer closed it.
    PeerClosed,
    /// This side closed it.
    LocalClose,
    /// A new connection with the same node replaced it.
    Replaced,
}

#[derive(Debug)]
pub(super) struct Connection {
    pub(super) peer_conn: u64,
    pub(super) addr: SocketAddr,
    /// Where control and real-time datagrams go: the peer's urgent port, or `addr`.
    pub(super) urgent_addr: SocketAddr,
    pub(super) name: String,
    /// Initiator only: the Confirm to repeat until the peer shows it is established.
    pub(super) confirm: Option<([u8; 32], Instant)>,
    pub(super) last_recv: Instant,
    pub(super) last_send: Instant,
    pub(super) send: [SendClass; 4],
    pub(super) recv: [RecvClass; 4],
    /// An acknowledgement is owed now.
    pub(super) ack_pending: [bool; 4],
    /// An acknowledgement is owed at this instant (delayed acknowledgement).
    pub(super) ack_at: [Option<Instant>; 4],
    /// In-order bytes received since the last acknowledgement.
    unacked_bytes: [usize; 4],
    pub(super) tick_pending: bool,
    srtt: Option<Duration>,
    rttvar: Duration,
    backoff: u32,
}

/// A complete message out of reassembly.
pub(super) type Delivered = (Class, Bytes);

impl Connection {
    pub(super) fn new(peer_conn: u64, addr: SocketAddr, name: String, now: Instant) -> Self {
        Self {
            peer_conn,
            addr,
            urgent_addr: addr,
            name,
            confirm: None,
            last_recv: now,
            last_send: now,
            send: Default::default(),
            recv: Default::default(),
            ack_pending: [false; 4],
            ack_at: [None; 4],
            unacked_bytes: [0; 4],
            tick_pending: false,
            srtt: None,
            rttvar: Duration::ZERO,
            backoff: 0,
        }
    }

    pub(super) fn enqueue(
        &mut self,
        class: Class,
        stream: u64,
        data: Arc<Message>,
        launch: Option<Launch>,
    ) {
        let sc = &mut self.send[class as usize];
        sc.buffered += data.len();
        let id = sc.next_msg;
        sc.next_msg = sc.next_msg.wrapping_add(1);
        let msg = OutMsg {
            id,
            data,
            sent: 0,
            launch,
        };
        if let Some((_, q)) = sc.streams.iter_mut().find(|(s, _)| *s == stream) {
            q.push_back(msg);
        } else {
            sc.streams.push_back((stream, VecDeque::from([msg])));
        }
    }

    fn rto(&self, config: &Config) -> Duration {
        let base = match self.srtt {
            Some(srtt) => (srtt + 4 * self.rttvar).max(config.min_rto),
            None => config.min_rto * 4,
        };
        base * (1 << self.backoff.min(6))
    }

    /// Acknowledgement bookkeeping and the duplicate and window checks for an arriving
    /// fragment: `Some(true)` when it is the next in order, `Some(false)` when it is to be
    /// held, `None` when it is dropped.
    fn admit(
        &mut self,
        h: &DataHeader,
        now: Instant,
        config: &Config,
        stats: &mut Stats,
    ) -> Option<bool> {
        let c = h.class as usize;
        let rc = &mut self.recv[c];
        rc.ever = true;
        // Duplicates and gaps are acknowledged at once, so the sender recovers quickly.
        if h.seq != rc.next {
            self.ack_pending[c] = true;
        } else {
            self.unacked_bytes[c] += h.len;
            if self.unacked_bytes[c] >= ACK_EVERY_BYTES || config.ack_delay.is_zero() {
                self.ack_pending[c] = true;
            } else if self.ack_at[c].is_none() {
                self.ack_at[c] = Some(now + config.ack_delay);
            }
        }
        if h.seq < rc.next || rc.ooo.contains_key(&h.seq) {
            stats.rx_duplicate += 1;
            return None;
        }
        let budget = config.recv_buffer[c];
        if h.seq - rc.next >= MAX_OOO || (h.seq != rc.next && rc.ooo_bytes + h.len > budget) {
            stats.rx_out_of_window += 1;
            return None;
        }
        Some(h.seq == rc.next)
    }

    /// Data received in order (or held): returns complete messages.
    pub(super) fn on_data(
        &mut self,
        d: &DataRepr<'_>,
        now: Instant,
        config: &Config,
        stats: &mut Stats,
        out: &mut Vec<Delivered>,
    ) {
        let Some(in_order) = self.admit(&d.header(), now, config, stats) else {
            return;
        };
        let rc = &mut self.recv[d.class as usize];
        if !in_order {
            rc.ooo_bytes += d.payload.len();
            rc.ooo.insert(
                d.seq,
                Held {
                    msg: d.msg,
                    first: d.first,
                    last: d.last,
                    total: d.total,
                    offset: d.offset,
                    payload: d.payload.to_vec(),
                },
            );
            return;
        }
        rc.next += 1;
        Self::reassemble(
            rc, d.class, d.msg, d.first, d.last, d.total, d.offset, d.payload, config, stats, out,
        );
        Self::drain_held(rc, d.class, config, stats, out);
    }

    /// Held fragments that are now in order.
    fn drain_held(
        rc: &mut RecvClass,
        class: Class,
        config: &Config,
        stats: &mut Stats,
        out: &mut Vec<Delivered>,
    ) {
        while let Some(h) = rc.ooo.remove(&rc.next) {
            rc.next += 1;
            rc.ooo_bytes -= h.payload.len();
            Self::reassemble(
                rc, class, h.msg, h.first, h.last, h.total, h.offset, &h.payload, config, stats,
                out,
            );
        }
    }

    /// Whether the fragment `h` continues a message in reassembly in order, with room for
    /// its payload in the buffer's spare capacity.
    fn placeable(&self, h: &DataHeader) -> bool {
        let rc = &self.recv[h.class as usize];
        !h.first
            && h.seq == rc.next
            && rc.partial.get(&h.msg).is_some_and(|p| {
                p.buf.len() == h.offset as usize
                    && p.total == h.total
                    && p.buf.capacity() - p.buf.len() >= h.len
            })
    }

    /// Where the payload of `h` goes in reassembly, when [`Self::placeable`].
    pub(super) fn placement(&mut self, h: &DataHeader) -> Option<&mut [MaybeUninit<u8>]> {
        if !self.placeable(h) {
            return None;
        }
        let p = self.recv[h.class as usize].partial.get_mut(&h.msg)?;
        p.buf.spare_capacity_mut().get_mut(..h.len)
    }

    /// The fragment `h` whose payload was received into [`Self::placement`].
    ///
    /// # Safety
    ///
    /// When `h` is still placeable, the first `h.len` bytes of the spare capacity of its
    /// message's buffer are initialised.
    pub(super) unsafe fn on_placed(
        &mut self,
        h: &DataHeader,
        now: Instant,
        config: &Config,
        stats: &mut Stats,
        out: &mut Vec<Delivered>,
    ) {
        if !self.placeable(h) {
            stats.rx_bad_fragment += 1;
            return;
        }
        // In order, so admitted unless something is badly wrong.
        if self.admit(h, now, config, stats) != Some(true) {
            return;
        }
        let rc = &mut self.recv[h.class as usize];
        rc.next += 1;
        if rc.partial_bytes + h.len > config.max_reassembly {
            if let Some(p) = rc.partial.remove(&h.msg) {
                rc.forget(&p);
            }
            stats.rx_bad_fragment += 1;
        } else if let Some(p) = rc.partial.get_mut(&h.msg) {
            // SAFETY: placeable, so within capacity, and initialised per the contract.
            unsafe { p.buf.set_len(p.buf.len() + h.len) };
            rc.partial_bytes += h.len;
            if h.last {
                Self::complete(rc, h.class, h.msg, out);
            }
        }
        Self::drain_held(rc, h.class, config, stats, out);
    }

    /// A message is whole: out of reassembly, to the application.
    fn complete(rc: &mut RecvClass, class: Class, msg: u32, out: &mut Vec<Delivered>) {
        if let Some(p) = rc.partial.remove(&msg) {
            rc.forget(&p);
            rc.ready_bytes += p.buf.len();
            // Hands the buffer over without a copy.
            out.push((class, Bytes::from(p.buf)));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reassemble(
        rc: &mut RecvClass,
        class: Class,
        msg: u32,
        first: bool,
        last: bool,
        total: u32,
        offset: u32,
        payload: &[u8],
        config: &Config,
        stats: &mut Stats,
        out: &mut Vec<Delivered>,
    ) {
        if first {
            if let Some(old) = rc.partial.remove(&msg) {
                // A peer that restarts a message id mid-message is broken: drop both.
                rc.forget(&old);
                stats.rx_bad_fragment += 1;
                return;
            }
            if last {
                rc.ready_bytes += payload.len();
                out.push((class, Bytes::copy_from_slice(payload)));
                return;
            }
            if rc.partial.len() >= config.max_partial_messages
                || rc.partial_bytes + payload.len() > config.max_reassembly
            {
                stats.rx_oversized += 1;
                return;
            }
            // Reserve the whole message at once (growing by doubling would copy it about
            // once more), but trust `total` only as far as the reassembly budget goes: the
            // sum of reservations stays within `max_reassembly`.
            let reserved =
                (total as usize).min(config.max_reassembly.saturating_sub(rc.partial_reserved));
            let mut buf = Vec::with_capacity(reserved.max(payload.len()));
            buf.extend_from_slice(payload);
            rc.partial_bytes += payload.len();
            rc.partial_reserved += reserved;
            rc.partial.insert(
                msg,
                Partial {
                    buf,
                    reserved,
                    total,
                },
            );
            return;
        }
        let Some(p) = rc.partial.get_mut(&msg) else {
            // Its first fragment was refused (oversized) or it never existed.
            stats.rx_bad_fragment += 1;
            return;
        };
        // The wire check keeps each fragment inside its own `total`; here every fragment
        // must continue the message and announce the same length as the first.
        if p.buf.len() != offset as usize
            || total != p.total
            || rc.partial_bytes + payload.len() > config.max_reassembly
        {
            if let Some(p) = rc.partial.remove(&msg) {
                rc.forget(&p);
            }
            stats.rx_bad_fragment += 1;
            return;
        }
        p.buf.extend_from_slice(payload);
        rc.partial_bytes += payload.len();
        if last {
            Self::complete(rc, class, msg, out);
        }
    }

    pub(super) fn ack_for(&self, class: Class, config: &Config) -> AckRepr {
        let rc = &self.recv[class as usize];
        let mut sack = 0u64;
        for (&seq, _) in rc.ooo.range(rc.next + 1..rc.next + 65) {
            sack |= 1 << (seq - rc.next - 1);
        }
        let used = rc.ready_bytes + rc.ooo_bytes;
        let window = config.recv_buffer[class as usize].saturating_sub(used);
        AckRepr {
            class,
            next: rc.next,
            sack,
            window: u32::try_from(window).unwrap_or(u32::MAX),
        }
    }

    pub(super) fn on_ack(&mut self, a: &AckRepr, now: Instant, stats: &mut Stats) {
        let sc = &mut self.send[a.class as usize];
        if a.next > sc.next_seq {
            stats.rx_bad_ack += 1;
            return;
        }
        sc.peer_window = Some(a.window as usize);
        let mut acked: Vec<u64> = sc.inflight.range(..a.next).map(|(&s, _)| s).collect();
        for i in 0..64 {
            if a.sack & (1 << i) != 0 {
                let s = a.next + 1 + i;
                if sc.inflight.contains_key(&s) {
                    acked.push(s);
                }
            }
        }
        let mut newest_sent: Option<Instant> = None;
        let mut sample = None;
        for s in acked {
            let Some(f) = sc.inflight.remove(&s) else {
                continue;
            };
            sc.inflight_bytes -= f.len;
            sc.buffered -= f.len;
            if f.lost {
                sc.lost -= 1;
            }
            newest_sent = Some(newest_sent.map_or(f.sent_at, |t: Instant| t.max(f.sent_at)));
            if !f.retransmitted {
                sample = Some(now.saturating_duration_since(f.sent_at));
            }
        }
        if let Some(rtt) = sample {
            self.backoff = 0;
            match self.srtt {
                None => {
                    self.srtt = Some(rtt);
                    self.rttvar = rtt / 2;
                }
                Some(srtt) => {
                    let diff = srtt.abs_diff(rtt);
                    self.rttvar = (self.rttvar * 3 + diff) / 4;
                    self.srtt = Some((srtt * 7 + rtt) / 8);
                }
            }
        }
        // Anything sent well before a datagram that got through is lost (RACK-style).
        if let Some(newest) = newest_sent {
            let slack = self.srtt.map_or(Duration::ZERO, |s| s / 4);
            let sc = &mut self.send[a.class as usize];
            for f in sc.inflight.values_mut() {
                if !f.lost && f.sent_at + slack < newest {
                    f.lost = true;
                    sc.lost += 1;
                }
            }
        }
    }

    /// Marks fragments unacknowledged for an RTO as lost; returns the next RTO deadline.
    pub(super) fn on_timeout(&mut self, now: Instant, config: &Config) -> bool {
        let rto = self.rto(config);
        let mut fired = false;
        for sc in &mut self.send {
            for f in sc.inflight.values_mut() {
                if !f.lost && f.sent_at + rto <= now {
                    f.lost = true;
                    sc.lost += 1;
                    fired = true;
                }
            }
        }
        if fired {
            self.backoff += 1;
        }
        fired
    }

    pub(super) fn next_rto(&self, config: &Config) -> Option<Instant> {
        let rto = self.rto(config);
        self.send
            .iter()
            .filter_map(|sc| {
                sc.inflight
                    .values()
                    .filter(|f| !f.lost)
                    .map(|f| f.sent_at)
                    .min()
            })
            .min()
            .map(|t| t + rto)
    }

    /// The earliest release of a held time-triggered message after `after`, the last
    /// transmission round (releases up to then were due in it: whatever holds those up, a
    /// window, has its own wake-up).
    pub(super) fn next_release(&self, after: Option<Instant>) -> Option<Instant> {
        self.send
            .iter()
            .flat_map(|sc| sc.streams.iter().filter_map(|(_, q)| q.front()))
            .filter_map(|m| m.launch.map(|l| l.release))
            .filter(|&r| after.is_none_or(|a| r > a))
            .min()
    }

    /// Writes the data header of one Data datagram of `class` into `buf` (after the common
    /// header the caller wrote) and returns its payload, and the launch time of a
    /// time-triggered message's first transmission, if the class has something it may
    /// send. Retransmissions go first (as soon as possible: a launch time is not repeated).
    /// A stream whose next message is held for its release waits; other streams go on.
    pub(super) fn poll_data(
        &mut self,
        class: Class,
        now: Instant,
        config: &Config,
        stats: &mut Stats,
        buf: &mut Vec<u8>,
    ) -> Option<(Payload, Option<u64>)> {
        let sc = &mut self.send[class as usize];
        if sc.lost > 0
            && let Some((&seq, f)) = sc.inflight.iter_mut().find(|(_, f)| f.lost)
        {
            f.lost = false;
            f.retransmitted = true;
            f.sent_at = now;
            sc.lost -= 1;
            stats.tx_retransmit += 1;
            let total = f.data.len() as u32;
            let end = f.offset + f.len;
            emit_data_header(
                buf,
                class,
                f.offset == 0,
                end == f.data.len(),
                seq,
                f.msg,
                total,
                f.offset as u32,
            );
            return Some((
                Payload {
                    parts: f.data.slice(f.offset, f.len),
                },
                None,
            ));
        }
        // The first stream whose next message may go; held ones keep their turn order
        // behind it.
        let ready = sc
            .streams
            .iter()
            .position(|(_, q)| q.front().is_none_or(|m| m.ready(now)))?;
        sc.streams.rotate_left(ready);
        let (_, queue) = sc.streams.front_mut()?;
        let Some(msg) = queue.front_mut() else {
            sc.streams.pop_front();
            return None;
        };
        let max_payload = config.max_payload();
        let len = (msg.data.len() - msg.sent).min(max_payload);
        let window = sc.peer_window.map_or(config.window[class as usize], |w| {
            w.min(config.window[class as usize])
        });
        // One fragment may always be in flight when the peer has room for it, so a window
        // smaller than a fragment cannot stall a class.
        if sc.inflight_bytes + len > window && !(sc.inflight_bytes == 0 && len <= window.max(1)) {
            return None;
        }
        let seq = sc.next_seq;
        sc.next_seq += 1;
        let offset = msg.sent;
        let total = msg.data.len();
        emit_data_header(
            buf,
            class,
            offset == 0,
            offset + len == total,
            seq,
            msg.id,
            total as u32,
            offset as u32,
        );
        let payload = Payload {
            parts: msg.data.slice(offset, len),
        };
        let launch = msg.launch.map(|l| l.tai_ns);
        msg.sent += len;
        sc.inflight.insert(
            seq,
            Frag {
                data: Arc::clone(&msg.data),
                msg: msg.id,
                offset,
                len,
                sent_at: now,
                retransmitted: false,
                lost: false,
            },
        );
        sc.inflight_bytes += len;
        // Zero-length messages still take one datagram and count as sent.
        if msg.sent >= total {
            queue.pop_front();
        }
        // Round robin: this stream goes to the back of the class.
        if let Some(entry) = sc.streams.pop_front()
            && !entry.1.is_empty()
        {
            sc.streams.push_back(entry);
        }
        Some((payload, launch))
    }

    /// Whether `class` has a datagram to send now (ignoring the window for retransmits).
    pub(super) fn has_data(&self, class: Class) -> bool {
        let sc = &self.send[class as usize];
        sc.lost > 0 || !sc.streams.is_empty()
    }

    /// Classes whose acknowledgement is due at `now`.
    pub(super) fn classes_with_ack(&self, now: Instant) -> impl Iterator<Item = Class> + '_ {
        CLASSES.into_iter().filter(move |&c| {
            self.ack_pending[c as usize] || self.ack_at[c as usize].is_some_and(|t| t <= now)
        })
    }

    /// The acknowledgement of `class` is going out: nothing is owed any more.
    pub(super) fn acked(&mut self, class: Class) {
        let c = class as usize;
        self.ack_pending[c] = false;
        self.ack_at[c] = None;
        self.unacked_bytes[c] = 0;
    }

    /// The earliest delayed acknowledgement.
    pub(super) fn next_ack(&self) -> Option<Instant> {
        self.ack_at.iter().flatten().min().copied()
    }

    pub(super) fn tick_interval(config: &Config) -> Duration {
        config.tick_time / config.tick_intensity.max(1)
    }

    /// Ask for a tick and re-advertise every receive window (lost window updates recover).
    pub(super) fn want_tick(&mut self) {
        self.tick_pending = true;
        for c in CLASSES {
            if self.recv[c as usize].ever {
                self.ack_pending[c as usize] = true;
            }
        }
    }

    /// Capacity reserved for messages in reassembly, across classes.
    #[cfg(test)]
    pub(super) fn reserved(&self) -> usize {
        self.recv.iter().map(|r| r.partial_reserved).sum()
    }

    /// Bytes held for this connection across classes (for tests and stats).
    pub(super) fn memory(&self) -> usize {
        self.send.iter().map(|s| s.buffered).sum::<usize>()
            + self
                .recv
                .iter()
                .map(|r| r.ooo_bytes + r.partial_bytes + r.ready_bytes)
                .sum::<usize>()
    }
}
