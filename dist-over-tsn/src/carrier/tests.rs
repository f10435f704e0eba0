//! The carrier core through a deterministic, lossy in-process relay: simulated time,
//! seeded loss, duplication and reordering.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::fuzz::datagram;
use super::wire::{self, DataRepr, Repr};
use super::*;

const A: usize = 0;
const B: usize = 1;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 1000 + i as u16))
}

#[derive(Debug, Clone, Copy)]
struct Faults {
    loss: f64,
    dup: f64,
    /// Extra delay drawn uniformly up to this; different delays reorder datagrams.
    jitter: Duration,
}

const CLEAN: Faults = Faults {
    loss: 0.0,
    dup: 0.0,
    jitter: Duration::ZERO,
};

const LOSSY: Faults = Faults {
    loss: 0.10,
    dup: 0.05,
    jitter: Duration::from_micros(800),
};

struct Relay {
    ep: [Endpoint; 2],
    alive: [bool; 2],
    now: Instant,
    rng: ChaCha8Rng,
    faults: Faults,
    /// (deliver at, to, from address, bytes)
    flight: Vec<(Instant, usize, SocketAddr, Vec<u8>)>,
    events: [Vec<Event>; 2],
    /// Every datagram each side sent, for replay tests.
    sent: [Vec<Vec<u8>>; 2],
    auto_release: bool,
    /// Deliver as the node's driver does: payloads that continue a message in order go
    /// straight to their place in reassembly.
    in_place: bool,
    /// Datagrams delivered that way.
    placed: u64,
}

fn config(name: &str, cookie: &[u8]) -> Config {
    let mut c = Config::new(name, cookie);
    c.tick_time = Duration::from_secs(2);
    c.mtu = 1200;
    c
}

impl Relay {
    fn new(ca: Config, cb: Config, faults: Faults, seed: u64) -> Self {
        let now = Instant::now();
        Self {
            ep: [Endpoint::new(ca, [1; 32]), Endpoint::new(cb, [2; 32])],
            alive: [true, true],
            now,
            rng: ChaCha8Rng::seed_from_u64(seed),
            faults,
            flight: Vec::new(),
            events: [Vec::new(), Vec::new()],
            sent: [Vec::new(), Vec::new()],
            auto_release: true,
            in_place: false,
            placed: 0,
        }
    }

    fn connected(faults: Faults, seed: u64) -> (Self, ConnId, ConnId) {
        let mut r = Self::new(config("a", b"secret"), config("b", b"secret"), faults, seed);
        r.ep[A].connect(r.now, addr(B));
        r.run_until(Duration::from_secs(10), |r| {
            r.ep[A].connection_to("b").is_some() && r.ep[B].connection_to("a").is_some()
        });
        let ca = r.ep[A].connection_to("b").expect("a connected");
        let cb = r.ep[B].connection_to("a").expect("b connected");
        (r, ca, cb)
    }

    fn flush(&mut self) {
        let mut buf = Vec::new();
        for i in [A, B] {
            while let Some(t) = self.ep[i].poll_transmit(self.now, &mut buf) {
                if !self.alive[i] {
                    continue;
                }
                let to = usize::from(t.dest == addr(B));
                assert_eq!(t.dest, addr(to));
                self.sent[i].push(buf.clone());
                if self.rng.random_bool(self.faults.loss) {
                    continue;
                }
                let copies = if self.rng.random_bool(self.faults.dup) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let jitter = self.faults.jitter.as_nanos() as u64;
                    let d = Duration::from_micros(20)
                        + Duration::from_nanos(self.rng.random_range(0..=jitter));
                    self.flight.push((self.now + d, to, addr(i), buf.clone()));
                }
            }
            while let Some(e) = self.ep[i].poll_event() {
                if self.auto_release
                    && let Event::Message { conn, class, data } = &e
                {
                    self.ep[i].release(*conn, *class, data.len());
                }
                self.events[i].push(e);
            }
        }
    }

    /// One step: deliver what is due, fire due timers, then jump to the next instant.
    fn step(&mut self) -> bool {
        self.flush();
        let next_flight = self.flight.iter().map(|f| f.0).min();
        let next_timer = [A, B]
            .into_iter()
            .filter(|&i| self.alive[i])
            .filter_map(|i| self.ep[i].poll_timeout())
            .min();
        let Some(next) = [next_flight, next_timer].into_iter().flatten().min() else {
            return false;
        };
        self.now = self.now.max(next);
        let (due, rest): (Vec<_>, Vec<_>) = self.flight.drain(..).partition(|f| f.0 <= self.now);
        self.flight = rest;
        for (_, to, from, bytes) in due {
            if self.alive[to] {
                self.deliver(to, from, &bytes);
            }
        }
        for i in [A, B] {
            if self.alive[i] && self.ep[i].poll_timeout().is_some_and(|t| t <= self.now) {
                self.ep[i].handle_timeout(self.now);
            }
        }
        self.flush();
        true
    }

    fn deliver(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        let ep = &mut self.ep[to];
        if self.in_place && bytes.len() >= DATA_OVERHEAD {
            let (head, payload) = bytes.split_at(DATA_OVERHEAD);
            if let Some(slot) = ep.placement(head, payload.len()) {
                assert_eq!(slot.len(), payload.len());
                for (d, s) in slot.iter_mut().zip(payload) {
                    d.write(*s);
                }
                // SAFETY: the whole slot was just written.
                unsafe { ep.handle_placed(now, from, head, payload.len()) };
                self.placed += 1;
                return;
            }
        }
        ep.handle(now, from, bytes);
    }

    /// Runs until simulated time reaches `t`, even when nothing is scheduled.
    fn advance_to(&mut self, t: Instant) {
        loop {
            self.flush();
            let next_flight = self.flight.iter().map(|f| f.0).min();
            let next_timer = [A, B]
                .into_iter()
                .filter(|&i| self.alive[i])
                .filter_map(|i| self.ep[i].poll_timeout())
                .min();
            match [next_flight, next_timer].into_iter().flatten().min() {
                Some(next) if next <= t => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let deadline = self.now + limit;
        let mut steps = 0u64;
        while !done(self) {
            assert!(self.now < deadline, "not done after {limit:?} simulated");
            assert!(self.step(), "nothing left to do");
            steps += 1;
            assert!(steps < 5_000_000, "livelock");
        }
    }

    fn messages(&self, i: usize) -> impl Iterator<Item = (Class, &[u8])> {
        self.events[i].iter().filter_map(|e| match e {
            Event::Message { class, data, .. } => Some((*class, &data[..])),
            _ => None,
        })
    }
}

/// A message body naming its stream and index, padded to `len`.
fn body(stream: u64, index: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(16));
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(&index.to_be_bytes());
    while v.len() < len {
        v.push((v.len() as u64 ^ index) as u8);
    }
    v
}

fn parse_body(data: &[u8]) -> (u64, u64) {
    (
        u64::from_be_bytes(data[..8].try_into().unwrap()),
        u64::from_be_bytes(data[8..16].try_into().unwrap()),
    )
}

#[test]
fn handshake_connects_both_sides() {
    let (r, ca, cb) = Relay::connected(CLEAN, 1);
    assert!(
        matches!(&r.events[A][0], Event::Connected { conn, name, addr: a }
        if *conn == ca && name == "b" && *a == addr(B))
    );
    assert!(
        matches!(&r.events[B][0], Event::Connected { conn, name, .. }
        if *conn == cb && name == "a")
    );
    assert_eq!(r.ep[A].stats().rx_bad_mac + r.ep[B].stats().rx_bad_mac, 0);
}

#[test]
fn simultaneous_connects_settle_on_one_connection() {
    // Both nodes connect to each other at the same instant, in either name order, with and
    // without faults: the greater name's handshake wins (as in Erlang), neither side sees a
    // connection come and go, and traffic flows both ways.
    for (names, faults, seed) in [
        (("a", "b"), CLEAN, 1),
        (("b", "a"), CLEAN, 2),
        (("a", "b"), LOSSY, 3),
        (("b", "a"), LOSSY, 4),
    ] {
        let mut r = Relay::new(
            config(names.0, b"secret"),
            config(names.1, b"secret"),
            faults,
            seed,
        );
        r.ep[A].connect(r.now, addr(B));
        r.ep[B].connect(r.now, addr(A));
        r.run_until(Duration::from_secs(10), |r| {
            r.ep[A].connection_to(names.1).is_some() && r.ep[B].connection_to(names.0).is_some()
        });
        let settle = r.now + Duration::from_secs(1);
        r.advance_to(settle);
        let ca = r.ep[A].connection_to(names.1).expect("a still connected");
        let cb = r.ep[B].connection_to(names.0).expect("b still connected");
        for i in [A, B] {
            assert_eq!(r.ep[i].connections().count(), 1, "{names:?} side {i}");
            assert!(r.ep[i].initiating.is_empty());
            let connected = r.events[i]
                .iter()
                .filter(|e| matches!(e, Event::Connected { .. }))
                .count();
            let lost = r.events[i]
                .iter()
                .filter(|e| matches!(e, Event::Lost { .. }))
                .count();
            let failed = r.events[i]
                .iter()
                .filter(|e| matches!(e, Event::HandshakeFailed { .. }))
                .count();
            assert_eq!((connected, lost, failed), (1, 0, 0), "{names:?} side {i}");
        }
        r.ep[A]
            .send(ca, Class::Normal, 1, b"to b".to_vec())
            .unwrap();
        r.ep[B]
            .send(cb, Class::Normal, 1, b"to a".to_vec())
            .unwrap();
        r.run_until(Duration::from_secs(5), |r| {
            r.messages(A).count() == 1 && r.messages(B).count() == 1
        });
        assert_eq!(r.messages(A).next().unwrap().1, b"to a");
        assert_eq!(r.messages(B).next().unwrap().1, b"to b");
    }
}

#[test]
fn lossy_relay_delivers_every_message_once_in_order_per_stream() {
    lossy_relay_scenario(false);
}

#[test]
fn lossy_relay_delivers_every_message_once_in_order_when_received_in_place() {
    lossy_relay_scenario(true);
}

fn lossy_relay_scenario(in_place: bool) {
    for seed in 0..3 {
        let (mut r, ca, cb) = Relay::connected(LOSSY, 100 + seed);
        r.in_place = in_place;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let classes = [Class::Control, Class::RealTime, Class::Normal, Class::Bulk];
        let mut sent: HashMap<(usize, u64), u64> = HashMap::new();
        for round in 0..150u64 {
            for side in [A, B] {
                let conn = if side == A { ca } else { cb };
                let stream = rng.random_range(0..6u64);
                let class = classes[(stream % 4) as usize];
                let len = match rng.random_range(0..10) {
                    0 => rng.random_range(5_000..40_000),
                    _ => rng.random_range(16..600),
                };
                let index = sent.entry((side, stream)).or_default();
                let tagged = stream | ((side as u64) << 32);
                r.ep[side]
                    .send(conn, class, stream, body(tagged, *index, len))
                    .expect("send");
                *index += 1;
            }
            if round % 10 == 0 {
                r.step();
            }
        }
        let total: u64 = sent.values().sum();
        r.run_until(Duration::from_secs(60), |r| {
            (r.messages(A).count() + r.messages(B).count()) as u64 == total
        });
        // Let retransmissions and duplicates die out, then check nothing extra arrived.
        let settle = r.now + Duration::from_millis(500);
        r.run_until(Duration::from_secs(5), |r| r.now >= settle);
        for receiver in [A, B] {
            let mut next: HashMap<u64, u64> = HashMap::new();
            for (class, data) in r.messages(receiver) {
                let (tagged, index) = parse_body(data);
                assert_eq!(tagged >> 32, (1 - receiver) as u64, "from the other side");
                assert_eq!(class, classes[((tagged & 0xffff) % 4) as usize]);
                let want = next.entry(tagged).or_default();
                assert_eq!(index, *want, "stream {tagged:#x}: in order, once");
                *want += 1;
            }
        }
        let s = r.ep[A].stats().clone();
        assert!(s.tx_retransmit > 0, "the relay lost nothing? {s:?}");
        assert_eq!(r.placed > 0, in_place, "{} placed", r.placed);
        assert!(r.ep[B].stats().rx_duplicate > 0);
        assert_eq!(
            r.ep[A].memory(ca) + r.ep[B].memory(cb),
            0,
            "all acked and taken"
        );
    }
}

#[test]
fn eight_megabyte_message_through_the_lossy_relay() {
    let mut ca_cfg = config("a", b"k");
    ca_cfg.mtu = 8972;
    let mut cb_cfg = config("b", b"k");
    cb_cfg.mtu = 8972;
    let mut r = Relay::new(ca_cfg, cb_cfg, LOSSY, 7);
    r.ep[A].connect(r.now, addr(B));
    r.run_until(Duration::from_secs(5), |r| {
        r.ep[A].connection_to("b").is_some()
    });
    r.in_place = true;
    let ca = r.ep[A].connection_to("b").unwrap();
    let big = body(1, 0, 8 << 20);
    r.ep[A].send(ca, Class::Bulk, 1, big.clone()).unwrap();
    r.run_until(Duration::from_secs(120), |r| r.messages(B).count() == 1);
    let (class, got) = r.messages(B).next().unwrap();
    assert_eq!(class, Class::Bulk);
    assert!(got == big.as_slice(), "8 MB arrived intact");
    // Fragments that arrive in order go straight into reassembly (with this much loss
    // and reordering, most are held out of order and copied).
    assert!(r.placed > 0, "none placed");
}

#[test]
fn in_order_fragments_are_all_received_in_place() {
    let (mut r, ca, _) = Relay::connected(CLEAN, 8);
    r.in_place = true;
    let big = body(1, 0, 1 << 20);
    r.ep[A].send(ca, Class::Bulk, 1, big.clone()).unwrap();
    r.run_until(Duration::from_secs(10), |r| r.messages(B).count() == 1);
    assert!(r.messages(B).next().unwrap().1 == big.as_slice());
    // Every fragment but the first, which opens the reassembly buffer.
    let fragments = big.len().div_ceil(1200 - DATA_OVERHEAD) as u64;
    assert_eq!(r.placed, fragments - 1);
    assert_eq!(r.ep[B].stats().rx_bad_fragment, 0);
}

/// The Data datagram of fragment `index` of a message of `n` 1000-byte fragments.
fn fragment(conn: u64, seq: u64, msg: u32, index: u32, n: u32, fill: u8) -> Vec<u8> {
    data_datagram(
        conn,
        &DataRepr {
            class: Class::Bulk,
            first: index == 0,
            last: index + 1 == n,
            seq,
            msg,
            total: n * 1000,
            offset: index * 1000,
            payload: &[fill; 1000],
        },
    )
}

#[test]
fn in_place_receiving_checks_what_it_was_placed_for() {
    let (mut r, _, _) = Relay::connected(CLEAN, 5);
    // B's id as A addresses it: take it from a datagram A sent.
    let peer = u64::from_be_bytes(r.sent[A].last().unwrap()[4..12].try_into().unwrap());
    let now = r.now;
    let ep = &mut r.ep[B];
    let d0 = fragment(peer, 0, 9, 0, 3, 1);
    let (h0, p0) = d0.split_at(DATA_OVERHEAD);
    assert!(
        ep.placement(h0, p0.len()).is_none(),
        "a first fragment has no place yet"
    );
    ep.handle(now, addr(A), &d0);
    let d2 = fragment(peer, 2, 9, 2, 3, 3);
    let (h2, p2) = d2.split_at(DATA_OVERHEAD);
    assert!(ep.placement(h2, p2.len()).is_none(), "out of order");
    let d1 = fragment(peer, 1, 9, 1, 3, 2);
    let (h1, p1) = d1.split_at(DATA_OVERHEAD);
    // Placed for fragment 1, but another header comes back: dropped, counted, nothing
    // committed.
    ep.placement(h1, p1.len())
        .unwrap()
        .iter_mut()
        .for_each(|b| {
            b.write(0xee);
        });
    let bad = ep.stats().rx_bad_fragment;
    // SAFETY: the slot was written whole.
    unsafe { ep.handle_placed(now, addr(A), h2, p2.len()) };
    assert_eq!(ep.stats().rx_bad_fragment, bad + 1);
    // From another address: forged.
    ep.placement(h1, p1.len())
        .unwrap()
        .iter_mut()
        .for_each(|b| {
            b.write(0xee);
        });
    let forged = ep.stats().rx_forged;
    // SAFETY: as above.
    unsafe { ep.handle_placed(now, addr(B), h1, p1.len()) };
    assert_eq!(ep.stats().rx_forged, forged + 1);
    // The real thing, then the rest through `handle`: intact, once.
    let slot = ep.placement(h1, p1.len()).unwrap();
    for (d, s) in slot.iter_mut().zip(p1) {
        d.write(*s);
    }
    // SAFETY: as above.
    unsafe { ep.handle_placed(now, addr(A), h1, p1.len()) };
    ep.handle(now, addr(A), &d2);
    let got: Vec<_> = std::iter::from_fn(|| ep.poll_event())
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(data),
            _ => None,
        })
        .collect();
    let mut want = vec![1u8; 1000];
    want.extend([2u8; 1000]);
    want.extend([3u8; 1000]);
    assert_eq!(got, [want]);
}

#[test]
fn small_messages_overtake_large_ones() {
    let (mut r, ca, _) = Relay::connected(CLEAN, 3);
    // A large bulk message, then a real-time one: strict priority.
    r.ep[A]
        .send(ca, Class::Bulk, 1, body(1, 0, 2 << 20))
        .unwrap();
    // Same class, another stream: round robin between streams.
    r.ep[A]
        .send(ca, Class::Normal, 2, body(2, 0, 1 << 20))
        .unwrap();
    r.ep[A].send(ca, Class::Normal, 3, body(3, 0, 100)).unwrap();
    r.ep[A]
        .send(ca, Class::RealTime, 4, body(4, 0, 100))
        .unwrap();
    r.run_until(Duration::from_secs(30), |r| r.messages(B).count() == 4);
    let order: Vec<u64> = r.messages(B).map(|(_, d)| parse_body(d).0).collect();
    assert_eq!(order, [4, 3, 2, 1]);
}

#[test]
fn wrong_cookie_is_refused() {
    let mut r = Relay::new(config("a", b"right"), config("b", b"wrong"), CLEAN, 4);
    r.ep[A].connect(r.now, addr(B));
    r.run_until(Duration::from_secs(10), |r| !r.events[A].is_empty());
    assert_eq!(
        r.events[A],
        [Event::HandshakeFailed {
            addr: addr(B),
            reason: HandshakeError::BadCookie
        }]
    );
    // Let the responder's half-open state expire: it never connected.
    r.advance_to(r.now + Duration::from_secs(6));
    assert!(r.events[B].is_empty(), "{:?}", r.events[B]);
    assert_eq!(r.ep[A].stats().rx_bad_mac, 1);
    assert_eq!(
        r.ep[A].connections().count() + r.ep[B].connections().count(),
        0
    );
}

#[test]
fn initiator_with_wrong_cookie_is_refused_by_responder() {
    // A forged Challenge is impossible without the cookie, so test the responder's check by
    // letting a cookie-less attacker answer a real Challenge with a guessed Confirm.
    let mut r = Relay::new(config("a", b"x"), config("b", b"secret"), CLEAN, 5);
    let hello = {
        let mut v = Vec::new();
        Repr::Hello {
            nonce: [9; 16],
            conn: 77,
            name: "mallory",
            urgent_port: 0,
        }
        .emit(0, &mut v);
        v
    };
    r.ep[B].handle(r.now, addr(A), &hello);
    r.flush();
    let challenge = r.sent[B].last().cloned().expect("a challenge");
    let Ok((77, Repr::Challenge { conn, .. })) = Repr::parse_datagram(&challenge) else {
        panic!("not a challenge")
    };
    let mut confirm = Vec::new();
    Repr::Confirm { mac: [0; 32] }.emit(conn, &mut confirm);
    r.ep[B].handle(r.now, addr(A), &confirm);
    r.flush();
    assert!(matches!(
        r.events[B].as_slice(),
        [Event::HandshakeFailed {
            reason: HandshakeError::BadCookie,
            ..
        }]
    ));
    assert_eq!(r.ep[B].stats().rx_bad_mac, 1);
    assert_eq!(r.ep[B].connections().count(), 0);
}

#[test]
fn replayed_handshake_fails() {
    let (r, _, _) = Relay::connected(CLEAN, 6);
    let recorded: Vec<Vec<u8>> = r.sent[A]
        .iter()
        .filter(|d| {
            matches!(
                Repr::parse_datagram(d),
                Ok((_, Repr::Hello { .. } | Repr::Confirm { .. }))
            )
        })
        .cloned()
        .collect();
    assert_eq!(recorded.len(), 2, "one Hello, one Confirm");
    // The same responder (its nonces are fresh per handshake) and a restarted one.
    let (mut r, _, _) = (r, 0, 0);
    let restarted = Endpoint::new(config("b", b"secret"), [3; 32]);
    for b in [&mut r.ep[B], &mut { restarted }] {
        let now = Instant::now();
        let before = b.connections().count();
        for d in &recorded {
            b.handle(now, addr(A), d);
            let mut buf = Vec::new();
            while b.poll_transmit(now, &mut buf).is_some() {}
        }
        // The Confirm names the old connection id, which the new handshake does not use.
        assert_eq!(b.connections().count(), before);
        assert!(
            !std::iter::from_fn(|| b.poll_event()).any(|e| matches!(e, Event::Connected { .. }))
        );
    }
}

#[test]
fn replayed_confirm_with_forced_connection_id_fails_the_mac() {
    // Replay the Hello, then rewrite the recorded Confirm to address the new half-open
    // connection: the MAC covers the new nonce, so it still fails.
    let (r, _, _) = Relay::connected(CLEAN, 8);
    let find = |k: fn(&Repr<'_>) -> bool| {
        r.sent[A]
            .iter()
            .find(|d| Repr::parse_datagram(d).is_ok_and(|(_, x)| k(&x)))
            .cloned()
            .unwrap()
    };
    let hello = find(|x| matches!(x, Repr::Hello { .. }));
    let mut confirm = find(|x| matches!(x, Repr::Confirm { .. }));
    let mut b = Endpoint::new(config("b", b"secret"), [5; 32]);
    b.handle(r.now, addr(A), &hello);
    let mut buf = Vec::new();
    b.poll_transmit(r.now, &mut buf).unwrap();
    let Ok((_, Repr::Challenge { conn, .. })) = Repr::parse_datagram(&buf) else {
        panic!()
    };
    confirm[4..12].copy_from_slice(&conn.to_be_bytes());
    b.handle(r.now, addr(A), &confirm);
    assert_eq!(b.stats().rx_bad_mac, 1);
    assert_eq!(b.connections().count(), 0);
}

#[test]
fn nodedown_within_the_tick_time() {
    let (mut r, _, _) = Relay::connected(CLEAN, 9);
    let tick_time = r.ep[A].config().tick_time;
    // Idle for several tick times: ticks keep the connection up.
    let idle_until = r.now + tick_time * 3;
    r.run_until(tick_time * 4, |r| r.now >= idle_until);
    assert!(r.events[A].iter().all(|e| !matches!(e, Event::Lost { .. })));
    let died = r.now;
    r.alive[B] = false;
    r.run_until(tick_time * 2, |r| {
        r.events[A].iter().any(|e| matches!(e, Event::Lost { .. }))
    });
    let detected = r.now - died;
    let interval = tick_time / r.ep[A].config().tick_intensity;
    // Measured from B's death; its last datagram was still in flight for 20 us.
    assert!(
        detected <= tick_time + Duration::from_millis(1) && detected >= tick_time - interval,
        "down after {detected:?}, tick time {tick_time:?}"
    );
    assert!(r.events[A].iter().any(|e| matches!(e,
        Event::Lost { name, reason: LostReason::Timeout, .. } if name == "b")));
    assert!(r.ep[A].connection_to("b").is_none());
}

#[test]
fn close_is_seen_by_the_peer_at_once() {
    let (mut r, ca, _) = Relay::connected(CLEAN, 10);
    r.ep[A].close(ca);
    let t0 = r.now;
    r.run_until(Duration::from_secs(1), |r| {
        r.events[B].iter().any(|e| {
            matches!(
                e,
                Event::Lost {
                    reason: LostReason::PeerClosed,
                    ..
                }
            )
        })
    });
    assert!(r.now - t0 < Duration::from_millis(1));
}

#[test]
fn flow_control_bounds_a_slow_receivers_memory() {
    let (mut r, ca, cb) = Relay::connected(CLEAN, 11);
    r.auto_release = false;
    let cfg = r.ep[B].config().clone();
    let mut accepted = 0usize;
    let mut busy = false;
    for i in 0..2000 {
        match r.ep[A].send(ca, Class::Bulk, 1, body(1, i, 64 << 10)) {
            Ok(()) => accepted += 1,
            Err(SendError::Busy) => {
                busy = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
        for _ in 0..8 {
            r.step();
        }
    }
    assert!(busy, "sender was never pushed back");
    let until = r.now + Duration::from_secs(1);
    r.run_until(Duration::from_secs(3), |r| r.now >= until);
    let held = r.ep[B].memory(cb);
    let bulk = Class::Bulk as usize;
    assert!(
        held <= cfg.recv_buffer[bulk] + cfg.mtu,
        "receiver holds {held} bytes"
    );
    assert!(r.ep[A].memory(ca) <= cfg.send_buffer[bulk] + (64 << 10));
    // The application catches up: everything accepted arrives, in order.
    r.auto_release = true;
    let delivered: Vec<(Class, usize)> = r.messages(B).map(|(c, d)| (c, d.len())).collect();
    for (class, len) in delivered {
        r.ep[B].release(cb, class, len);
    }
    r.run_until(Duration::from_secs(30), |r| {
        r.messages(B).count() == accepted
    });
    let idx: Vec<u64> = r.messages(B).map(|(_, d)| parse_body(d).1).collect();
    assert_eq!(idx, (0..accepted as u64).collect::<Vec<_>>());
}

#[test]
fn lone_messages_are_acknowledged_late_and_streams_at_once() {
    let (mut r, ca, _) = Relay::connected(CLEAN, 13);
    let delay = r.ep[B].config().ack_delay;
    let acks = |r: &Relay| {
        r.sent[B]
            .iter()
            .filter(|d| matches!(Repr::parse_datagram(d), Ok((_, Repr::Ack(_)))))
            .count()
    };
    // A small message: delivered at once, acknowledged only after the delay.
    let before = acks(&r);
    let t0 = r.now;
    r.ep[A]
        .send(ca, Class::RealTime, 1, body(1, 0, 100))
        .unwrap();
    r.run_until(Duration::from_secs(1), |r| r.messages(B).count() == 1);
    assert!(r.now - t0 < delay);
    assert_eq!(acks(&r), before, "no acknowledgement datagram yet");
    r.run_until(Duration::from_secs(1), |r| acks(r) > before);
    assert!(
        r.now - t0 >= delay && r.now - t0 < delay * 2,
        "{:?}",
        r.now - t0
    );
    assert_eq!(acks(&r), before + 1);
    assert_eq!(r.ep[A].stats().tx_retransmit, 0);
    // 1 MiB through a 256 KiB window: acknowledged every 16 KiB, so it never waits for
    // the delay (the link takes 20 us each way).
    let t1 = r.now;
    r.ep[A]
        .send(ca, Class::Bulk, 2, body(2, 0, 1 << 20))
        .unwrap();
    r.run_until(Duration::from_secs(1), |r| r.messages(B).count() == 2);
    assert!(r.now - t1 < delay, "took {:?}", r.now - t1);
}

fn data_datagram(conn: u64, d: &DataRepr<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    Repr::Data(*d).emit(conn, &mut v);
    v
}

#[test]
fn hostile_datagrams_are_dropped_and_counted() {
    let (mut r, ca, cb) = Relay::connected(CLEAN, 12);
    // B's id for the connection is what A's datagrams carry.
    let to_b = cb.0;
    let good = DataRepr {
        class: Class::Normal,
        first: true,
        last: true,
        seq: 0,
        msg: 0,
        total: 5,
        offset: 0,
        payload: b"hello",
    };
    let now = r.now;
    let b = &mut r.ep[B];
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // Garbage.
    for _ in 0..500 {
        let len = rng.random_range(0..200);
        let junk: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        b.handle(now, addr(A), &junk);
    }
    let malformed = b.stats().rx_malformed;
    assert!(malformed >= 499, "{malformed}");
    // Truncated fragment: the header promises 5 bytes, 3 are there.
    let mut cut = data_datagram(to_b, &good);
    cut.truncate(cut.len() - 2);
    b.handle(now, addr(A), &cut);
    assert_eq!(b.stats().rx_malformed, malformed + 1);
    // Forged sender: right id, wrong address.
    let forged_from = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 9), 1000));
    b.handle(now, forged_from, &data_datagram(to_b, &good));
    assert_eq!(b.stats().rx_forged, 1);
    // Unknown connection id.
    b.handle(now, addr(A), &data_datagram(to_b ^ 1, &good));
    assert_eq!(b.stats().rx_unknown_conn, 1);
    // Oversized length: a 4 GB message announced.
    let huge = DataRepr {
        total: u32::MAX,
        last: false,
        ..good
    };
    b.handle(now, addr(A), &data_datagram(to_b, &huge));
    assert_eq!(b.stats().rx_oversized, 1);
    // Far-future sequence number.
    let future = DataRepr {
        seq: 1 << 40,
        ..good
    };
    b.handle(now, addr(A), &data_datagram(to_b, &future));
    assert_eq!(b.stats().rx_out_of_window, 1);
    // Acknowledging data never sent.
    let mut ack = Vec::new();
    Repr::Ack(wire::AckRepr {
        class: Class::Bulk,
        next: 99,
        sack: u64::MAX,
        window: 0,
    })
    .emit(to_b, &mut ack);
    b.handle(now, addr(A), &ack);
    assert_eq!(b.stats().rx_bad_ack, 1);
    r.flush();
    assert!(
        r.events[B]
            .iter()
            .all(|e| !matches!(e, Event::Message { .. })),
        "nothing hostile was delivered"
    );
    assert_eq!(r.ep[B].memory(cb), 0);
    // The connection still works.
    r.ep[A]
        .send(ca, Class::Normal, 0, b"still up".to_vec())
        .unwrap();
    r.run_until(Duration::from_secs(1), |r| r.messages(B).count() == 1);
    assert_eq!(r.messages(B).next().unwrap().1, b"still up");
}

#[test]
fn fragments_that_lie_about_their_message_are_dropped() {
    let (mut r, ca, cb) = Relay::connected(CLEAN, 14);
    let now = r.now;
    let cfg = r.ep[B].config().clone();
    let frag = |seq: u64, msg: u32, first: bool, last: bool, total: u32, offset: u32, payload| {
        data_datagram(
            cb.0,
            &DataRepr {
                class: Class::Bulk,
                first,
                last,
                seq,
                msg,
                total,
                offset,
                payload,
            },
        )
    };
    let b = &mut r.ep[B];
    // Each fragment is consistent on its own (the wire check passes), but the message's
    // length changes on the way: 10 bytes, then 7; 4 bytes, then 8.
    b.handle(now, addr(A), &frag(0, 1, true, false, 10, 0, b"hello"));
    b.handle(now, addr(A), &frag(1, 1, false, true, 7, 5, b"hi"));
    b.handle(now, addr(A), &frag(2, 2, true, false, 4, 0, b"abc"));
    b.handle(now, addr(A), &frag(3, 2, false, true, 8, 3, b"defgh"));
    assert_eq!(b.stats().rx_malformed, 0);
    assert_eq!(b.stats().rx_bad_fragment, 2);
    // Many first fragments announcing the largest message: what is reserved for them
    // stays within the reassembly budget.
    let max = cfg.max_message as u32;
    for i in 0..300 {
        b.handle(
            now,
            addr(A),
            &frag(4 + i, 10 + i as u32, true, false, max, 0, b"x"),
        );
    }
    assert_eq!(
        b.stats().rx_oversized,
        300 - cfg.max_partial_messages as u64
    );
    let c = &b.conns[&cb.0];
    assert!(c.reserved() <= cfg.max_reassembly, "{}", c.reserved());
    r.flush();
    assert!(
        r.events[B]
            .iter()
            .all(|e| !matches!(e, Event::Message { .. }))
    );
    // The class still works once the liar's sequence numbers are used up.
    r.ep[A]
        .send(ca, Class::Normal, 0, b"still up".to_vec())
        .unwrap();
    r.run_until(Duration::from_secs(1), |r| r.messages(B).count() == 1);
}

#[test]
fn datagram_property_on_real_datagrams_and_mutations() {
    let (mut r, ca, _) = Relay::connected(LOSSY, 13);
    for i in 0..20 {
        r.ep[A]
            .send(ca, Class::Normal, i, body(i, 0, 3000))
            .unwrap();
    }
    r.run_until(Duration::from_secs(10), |r| r.messages(B).count() == 20);
    let corpus: Vec<Vec<u8>> = r.sent.iter().flatten().cloned().collect();
    assert!(corpus.len() > 40);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for d in &corpus {
        datagram(d);
        for _ in 0..20 {
            let mut m = d.clone();
            for _ in 0..rng.random_range(1..4) {
                if m.is_empty() {
                    break;
                }
                let i = rng.random_range(0..m.len());
                match rng.random_range(0..3) {
                    0 => m[i] = rng.random(),
                    1 => m.truncate(i),
                    _ => m[i] ^= 0x80,
                }
            }
            datagram(&m);
        }
    }
}

/// Two endpoints with urgent ports, wired by hand: a datagram sent to a main port goes to
/// `handle`, one sent to an urgent port to `handle_urgent`. Returns what went where.
struct Split {
    ep: [Endpoint; 2],
    now: Instant,
    /// (sender, destination, class) of every datagram.
    log: Vec<(usize, SocketAddr, Class)>,
    /// Replaces a datagram in flight (tampering), by sender.
    tamper: Option<fn(usize, &mut Vec<u8>)>,
}

fn urgent(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 2000 + i as u16))
}

impl Split {
    fn new() -> Self {
        let ep = [A, B].map(|i| {
            let mut c = config(["a", "b"][i], b"secret");
            c.urgent_port = Some(urgent(i).port());
            Endpoint::new(c, [i as u8 + 1; 32])
        });
        Self {
            ep,
            now: Instant::now(),
            log: Vec::new(),
            tamper: None,
        }
    }

    fn pump(&mut self) {
        let mut buf = Vec::new();
        for _ in 0..10_000 {
            let mut moved = false;
            for i in [A, B] {
                while let Some(t) = self.ep[i].poll_transmit(self.now, &mut buf) {
                    moved = true;
                    self.log.push((i, t.dest, t.class));
                    if let Some(f) = self.tamper {
                        f(i, &mut buf);
                    }
                    let to = 1 - i;
                    if t.dest == urgent(to) {
                        self.ep[to].handle_urgent(self.now, addr(i), &buf);
                    } else {
                        assert_eq!(t.dest, addr(to));
                        self.ep[to].handle(self.now, addr(i), &buf);
                    }
                }
            }
            self.now += Duration::from_millis(2);
            for i in [A, B] {
                self.ep[i].handle_timeout(self.now);
            }
            if !moved {
                return;
            }
        }
        panic!("livelock");
    }
}

#[test]
fn control_and_real_time_datagrams_go_to_the_urgent_port() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    s.pump();
    let ca = s.ep[A].connection_to("b").expect("connected");
    // Handshakes use the main ports: the urgent ports are not known before.
    assert!(s.log.iter().all(|&(i, dest, _)| dest == addr(1 - i)));
    s.log.clear();
    s.ep[A].send(ca, Class::RealTime, 1, vec![1; 3000]).unwrap();
    s.ep[A].send(ca, Class::Bulk, 2, vec![2; 5000]).unwrap();
    s.ep[A].send(ca, Class::Normal, 3, vec![3; 100]).unwrap();
    s.pump();
    let got: Vec<(Class, usize)> = std::iter::from_fn(|| s.ep[B].poll_event())
        .filter_map(|e| match e {
            Event::Message { class, data, .. } => Some((class, data.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        got.iter().map(|g| g.1).sum::<usize>(),
        8100,
        "all three delivered: {got:?}"
    );
    let mut seen = [false; 4];
    for &(i, dest, class) in &s.log {
        seen[class as usize] = true;
        let want = if class <= Class::RealTime {
            urgent(1 - i)
        } else {
            addr(1 - i)
        };
        assert_eq!(dest, want, "{class:?} from {i}");
    }
    assert_eq!(
        seen, [true; 4],
        "acks, real-time, normal and bulk all went out"
    );
    for ep in &s.ep {
        assert_eq!(ep.stats().rx_wrong_port, 0);
    }
}

#[test]
fn the_urgent_port_refuses_other_traffic_and_counts_it() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    s.pump();
    let cb = s.ep[B].connection_to("a").expect("connected");
    let peer_conn = s.ep[B].conns[&cb.0].peer_conn;
    let bulk = data_datagram(
        peer_conn,
        &DataRepr {
            class: Class::Bulk,
            first: true,
            last: true,
            seq: 0,
            msg: 0,
            total: 4,
            offset: 0,
            payload: b"bulk",
        },
    );
    let mut hello = Vec::new();
    Repr::Hello {
        nonce: [5; 16],
        conn: 9,
        name: "mallory",
        urgent_port: 0,
    }
    .emit(0, &mut hello);
    while s.ep[A].poll_event().is_some() {}
    let before = s.ep[A].stats().clone();
    s.ep[A].handle_urgent(s.now, addr(B), &bulk);
    s.ep[A].handle_urgent(s.now, addr(B), &hello);
    s.ep[A].handle_urgent(s.now, addr(B), b"\xd1\x57garbage");
    let after = s.ep[A].stats();
    assert_eq!(after.rx_wrong_port - before.rx_wrong_port, 2);
    assert_eq!(after.rx_malformed - before.rx_malformed, 1);
    assert!(s.ep[A].poll_event().is_none(), "nothing delivered");
    assert!(s.ep[A].responding.is_empty(), "no handshake answered");
    // The same bulk datagram on the main port is ordinary traffic.
    s.ep[A].handle(s.now, addr(B), &bulk);
    assert!(matches!(
        s.ep[A].poll_event(),
        Some(Event::Message {
            class: Class::Bulk,
            ..
        })
    ));
}

#[test]
fn a_forged_urgent_port_fails_the_handshake() {
    let mut s = Split::new();
    // Someone on the path rewrites the port in B's Challenge (the last two bytes).
    s.tamper = Some(|from, buf| {
        if from == B && matches!(Repr::parse_datagram(buf), Ok((_, Repr::Challenge { .. }))) {
            let n = buf.len();
            buf[n - 2..].copy_from_slice(&6666_u16.to_be_bytes());
        }
    });
    s.ep[A].connect(s.now, addr(B));
    s.pump();
    assert!(s.ep[A].connection_to("b").is_none());
    assert!(s.ep[A].stats().rx_bad_mac >= 1);
}

#[test]
fn handshakes_without_an_urgent_port_still_parse() {
    // An older peer's Hello ends after the name.
    let mut with = Vec::new();
    Repr::Hello {
        nonce: [1; 16],
        conn: 7,
        name: "old",
        urgent_port: 0,
    }
    .emit(0, &mut with);
    let without = &with[..with.len() - 2];
    assert!(matches!(
        Repr::parse_datagram(without),
        Ok((
            0,
            Repr::Hello {
                conn: 7,
                name: "old",
                urgent_port: 0,
                ..
            }
        ))
    ));
    // A port round-trips, and later extensions after it are ignored.
    let mut v = Vec::new();
    Repr::Hello {
        nonce: [1; 16],
        conn: 7,
        name: "new",
        urgent_port: 4242,
    }
    .emit(0, &mut v);
    v.extend_from_slice(b"future");
    assert!(matches!(
        Repr::parse_datagram(&v),
        Ok((
            0,
            Repr::Hello {
                urgent_port: 4242,
                ..
            }
        ))
    ));
}

#[test]
fn message_slices_cut_across_pieces() {
    let whole: Vec<u8> = (0..=255).cycle().take(40).collect();
    // Pieces of 1, 7, 0 (left out), 12 and 20 bytes.
    let cuts = [0, 1, 8, 8, 20, 40];
    let m = Message::from_parts(
        cuts.windows(2)
            .map(|w| Bytes::copy_from_slice(&whole[w[0]..w[1]])),
    );
    assert_eq!(m.len(), whole.len());
    assert_eq!(m.parts().len(), 4);
    for offset in 0..whole.len() {
        for len in 0..=whole.len() - offset {
            let parts = m.slice(offset, len);
            assert_eq!(
                parts.concat(),
                &whole[offset..offset + len],
                "{offset}+{len}"
            );
            assert!(parts.iter().all(|p| !p.is_empty()));
        }
    }
}

#[test]
fn segmented_messages_arrive_intact_through_the_lossy_relay() {
    let (mut r, ca, _) = Relay::connected(LOSSY, 11);
    // Pieces smaller and larger than a fragment, so fragments start, end and retransmit
    // in the middle of pieces and span several.
    let sizes = [3, 5000, 1, 700, 20_000, 2, 100_000, 1471];
    let mut expected = Vec::new();
    let mut parts = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let piece: Vec<u8> = (0..n).map(|k| (k * 31 + i * 7) as u8).collect();
        expected.extend_from_slice(&piece);
        parts.push(Bytes::from(piece));
    }
    for stream in 0..4 {
        r.ep[A]
            .send(ca, Class::Bulk, stream, Message::from(parts.clone()))
            .unwrap();
    }
    r.run_until(Duration::from_secs(60), |r| r.messages(B).count() == 4);
    assert!(r.ep[A].stats().tx_retransmit > 0, "the relay lost nothing");
    for (class, got) in r.messages(B) {
        assert_eq!(class, Class::Bulk);
        assert!(
            got == expected.as_slice(),
            "a segmented message arrived changed"
        );
    }
}

#[test]
fn data_that_overtakes_the_confirm_is_held_not_lost() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    let mut buf = Vec::new();
    // Hello to b, Challenge back: a is connected and sends at once.
    let t = s.ep[A].poll_transmit(s.now, &mut buf).unwrap();
    s.ep[B].handle(s.now, addr(A), &buf);
    let t2 = s.ep[B].poll_transmit(s.now, &mut buf).unwrap();
    assert_eq!((t.dest, t2.dest), (addr(B), addr(A)));
    s.ep[A].handle(s.now, addr(B), &buf);
    let ca = s.ep[A]
        .connection_to("b")
        .expect("a is up after the Challenge");
    s.ep[A].send(ca, Class::RealTime, 1, vec![1; 100]).unwrap();
    let mut out = Vec::new();
    while let Some(t) = s.ep[A].poll_transmit(s.now, &mut buf) {
        out.push((t.dest, buf.clone()));
    }
    // The real-time datagram reaches b's urgent socket before the Confirm reaches its main
    // one; a stranger's datagram for the same id is not held.
    let (confirm, data): (Vec<_>, Vec<_>) = out.into_iter().partition(|(d, _)| *d == addr(B));
    assert_eq!((confirm.len(), data.len()), (1, 1));
    assert_eq!(data[0].0, urgent(B));
    s.ep[B].handle_urgent(s.now, addr(7), &data[0].1);
    s.ep[B].handle_urgent(s.now, addr(A), &data[0].1);
    assert_eq!(s.ep[B].stats().rx_early, 1);
    assert_eq!(s.ep[B].stats().rx_unknown_conn, 1);
    assert!(!s.ep[B].has_events());
    s.ep[B].handle(s.now, addr(A), &confirm[0].1);
    let got: Vec<_> = std::iter::from_fn(|| s.ep[B].poll_event()).collect();
    assert!(
        got.iter()
            .any(|e| matches!(e, Event::Message { data, .. } if data[..] == [1; 100])),
        "delivered with the Confirm, no retransmission needed: {got:?}"
    );
    assert_eq!(s.ep[A].stats().tx_retransmit, 0);
}

#[test]
fn early_data_is_bounded_and_dropped_with_a_failed_handshake() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    let mut buf = Vec::new();
    s.ep[A].poll_transmit(s.now, &mut buf).unwrap();
    s.ep[B].handle(s.now, addr(A), &buf);
    s.ep[B].poll_transmit(s.now, &mut buf).unwrap();
    // b's id for this handshake, as the Challenge names it.
    let Ok((_, Repr::Challenge { conn: id, .. })) = Repr::parse_datagram(&buf) else {
        panic!("not a Challenge");
    };
    // 200 forged-in-advance 1000-byte datagrams from a's address: only 64 KiB are held.
    for seq in 0..200 {
        let d = data_datagram(
            id,
            &DataRepr {
                class: Class::RealTime,
                first: true,
                last: true,
                seq,
                msg: seq as u32,
                total: 1000,
                offset: 0,
                payload: &[9; 1000],
            },
        );
        s.ep[B].handle_urgent(s.now, addr(A), &d);
    }
    let st = s.ep[B].stats().clone();
    assert!(st.rx_early > 0 && st.rx_early < 70, "{st:?}");
    assert_eq!(st.rx_early + st.rx_unknown_conn, 200);
    // A Confirm with a wrong MAC: the handshake fails and nothing held is delivered.
    let mut bad = Vec::new();
    Repr::Confirm { mac: [0; 32] }.emit(id, &mut bad);
    s.ep[B].handle(s.now, addr(A), &bad);
    let got: Vec<_> = std::iter::from_fn(|| s.ep[B].poll_event()).collect();
    assert!(
        !got.iter().any(|e| matches!(e, Event::Message { .. })),
        "{got:?}"
    );
    assert_eq!(s.ep[B].stats().rx_bad_mac, 1);
}

/// Everything `i` transmits at `now`, delivered to the other side unless `drop` says so;
/// the transmits returned.
fn exchange(
    s: &mut Split,
    i: usize,
    drop: impl Fn(&Transmit, &[u8]) -> bool,
) -> Vec<(Transmit, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(t) = s.ep[i].poll_transmit(s.now, &mut buf) {
        out.push((t, buf.clone()));
    }
    let to = 1 - i;
    for (t, bytes) in &out {
        if drop(t, bytes) {
            continue;
        }
        if t.dest == urgent(to) {
            s.ep[to].handle_urgent(s.now, addr(i), bytes);
        } else {
            s.ep[to].handle(s.now, addr(i), bytes);
        }
    }
    out
}

fn delivered(ep: &mut Endpoint) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| ep.poll_event())
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect()
}

#[test]
fn time_triggered_messages_wait_for_their_release_and_hold_up_only_their_stream() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    s.pump();
    let ca = s.ep[A].connection_to("b").unwrap();
    let release = s.now + Duration::from_millis(50);
    let launch = Launch {
        release,
        tai_ns: 1_700_000_000_123_456_789,
    };
    s.ep[A]
        .send_at(ca, Class::RealTime, 1, vec![b'x'; 10], launch)
        .unwrap();
    s.ep[A]
        .send(ca, Class::RealTime, 1, vec![b'z'; 10])
        .unwrap();
    s.ep[A]
        .send(ca, Class::RealTime, 2, vec![b'y'; 10])
        .unwrap();
    // Now: only the other stream's message goes; the endpoint asks to be woken at the
    // release.
    let sent = exchange(&mut s, A, |_, _| false);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0.launch, None);
    assert_eq!(delivered(&mut s.ep[B]), [vec![b'y'; 10]]);
    assert!(s.ep[A].poll_timeout().is_some_and(|t| t <= release));
    s.now = release - Duration::from_micros(1);
    assert!(exchange(&mut s, A, |_, _| false).is_empty(), "not before");
    // At the release: the held message with its launch time, then the one behind it. The
    // first transmission of x is lost: its retransmission carries no launch time.
    s.now = release;
    let sent = exchange(&mut s, A, |t, _| t.launch.is_some());
    let launches: Vec<_> = sent.iter().map(|(t, _)| t.launch).collect();
    assert_eq!(launches, [Some(launch.tai_ns), None]);
    assert!(delivered(&mut s.ep[B]).is_empty(), "z waits for x at b");
    s.now += Duration::from_millis(100);
    s.ep[A].handle_timeout(s.now);
    let sent = exchange(&mut s, A, |_, _| false);
    assert!(sent.iter().all(|(t, _)| t.launch.is_none()), "{sent:?}");
    // (b's acknowledgements never went back: y and z are repeated too.)
    assert!(s.ep[A].stats().tx_retransmit >= 1);
    assert_eq!(delivered(&mut s.ep[B]), [vec![b'x'; 10], vec![b'z'; 10]]);
}

#[test]
fn released_messages_need_no_more_wake_ups() {
    let mut s = Split::new();
    s.ep[A].connect(s.now, addr(B));
    s.pump();
    let ca = s.ep[A].connection_to("b").unwrap();
    // A release already due: sent at the next round, no timer spin afterwards.
    let launch = Launch {
        release: s.now,
        tai_ns: 1,
    };
    s.ep[A]
        .send_at(ca, Class::RealTime, 1, vec![1; 10], launch)
        .unwrap();
    assert!(s.ep[A].poll_timeout().is_some_and(|t| t <= s.now));
    let sent = exchange(&mut s, A, |_, _| false);
    assert_eq!(sent[0].0.launch, Some(1));
    assert!(s.ep[A].poll_timeout().is_some_and(|t| t > s.now));
}
