//! The node model over real UDP on loopback: messages, registered names, links, monitors,
//! nodeup/nodedown, wrong cookies, 8 MB messages and silent peer death.

use std::net::SocketAddr;
use std::time::Duration;

use dist_over_tsn::carrier::{Class, Config, HandshakeError};
use dist_over_tsn::node::{Error, Msg, Node, NodeEvent};
use dist_over_tsn::term::Term;
use tokio::time::timeout;

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn config(name: &str) -> Config {
    let mut c = Config::new(name, b"secret");
    c.mtu = 16384;
    c.tick_time = Duration::from_millis(800);
    c
}

async fn pair() -> (Node, Node) {
    let a = Node::start(config("a"), local()).await.unwrap();
    let b = Node::start(config("b"), local()).await.unwrap();
    assert_eq!(a.connect(b.local_addr()).await.unwrap(), "b");
    (a, b)
}

async fn next(p: &mut dist_over_tsn::node::Process) -> Msg {
    timeout(Duration::from_secs(60), p.recv())
        .await
        .expect("a message within 60 s")
        .expect("mailbox open")
}

fn atom(s: &str) -> Term {
    Term::atom(s).unwrap()
}

#[tokio::test]
async fn messages_to_pids_and_names_in_order() {
    let (a, b) = pair().await;
    let pa = a.spawn();
    let mut pb = b.spawn();
    assert!(pb.register("sink"));
    assert!(!b.spawn().register("sink"), "a name is taken once");
    for i in 0..200_i64 {
        let class = if i % 2 == 0 {
            Class::Normal
        } else {
            Class::Bulk
        };
        if i % 3 == 0 {
            pa.send_named("b", "sink", &Term::from(i), Class::Normal)
                .await
                .unwrap();
        } else {
            pa.send_in(pb.pid(), &Term::from(i), class).await.unwrap();
        }
    }
    let mut per_class: Vec<i64> = Vec::new();
    for _ in 0..200 {
        let Msg::Message { from, term } = next(&mut pb).await else {
            panic!()
        };
        assert_eq!(from.as_ref(), Some(pa.pid()));
        per_class.push(term.as_i64().unwrap());
    }
    // Order holds per pair and class: the bulk (odd, not multiple of 3) ones in order.
    let bulk: Vec<i64> = per_class
        .iter()
        .copied()
        .filter(|i| i % 2 == 1 && i % 3 != 0)
        .collect();
    assert!(bulk.windows(2).all(|w| w[0] < w[1]), "{bulk:?}");
    let mut all = per_class.clone();
    all.sort_unstable();
    assert_eq!(all, (0..200).collect::<Vec<_>>(), "each exactly once");
}

#[tokio::test]
async fn links_and_monitors_fire_on_exit_and_on_connection_loss() {
    let (a, b) = pair().await;
    let mut downs = a.monitor_nodes();
    let mut watcher = a.spawn();
    let victim = b.spawn();
    let victim_pid = victim.pid().clone();
    watcher.link(&victim_pid);
    let r = watcher.monitor(&victim_pid);
    // The link and monitor reach b before the exit (same control stream).
    tokio::time::sleep(Duration::from_millis(50)).await;
    victim.exit(atom("boom"));
    let mut got = [next(&mut watcher).await, next(&mut watcher).await];
    got.sort_by_key(|m| matches!(m, Msg::Down { .. }));
    assert_eq!(
        got[0],
        Msg::Exit {
            from: victim_pid.clone(),
            reason: atom("boom")
        }
    );
    assert_eq!(
        got[1],
        Msg::Down {
            reference: r,
            pid: victim_pid,
            reason: atom("boom")
        }
    );

    // Monitoring a process that does not exist: noproc.
    let ghost = dist_over_tsn::term::Pid {
        id: 9999,
        ..b.spawn().pid().clone()
    };
    let r2 = watcher.monitor(&ghost);
    assert_eq!(
        next(&mut watcher).await,
        Msg::Down {
            reference: r2,
            pid: ghost,
            reason: atom("noproc")
        }
    );

    // Connection loss: noconnection to every link and monitor, nodedown.
    let other = b.spawn();
    watcher.link(other.pid());
    let r3 = watcher.monitor(other.pid());
    tokio::time::sleep(Duration::from_millis(50)).await;
    b.shutdown();
    let mut got = [next(&mut watcher).await, next(&mut watcher).await];
    got.sort_by_key(|m| matches!(m, Msg::Down { .. }));
    assert_eq!(
        got[0],
        Msg::Exit {
            from: other.pid().clone(),
            reason: atom("noconnection")
        }
    );
    assert_eq!(
        got[1],
        Msg::Down {
            reference: r3,
            pid: other.pid().clone(),
            reason: atom("noconnection")
        }
    );
    let ev = timeout(Duration::from_secs(5), downs.recv()).await.unwrap();
    assert_eq!(ev, Some(NodeEvent::Down("b".into())));
    assert!(a.nodes().is_empty());
}

#[tokio::test]
async fn simultaneous_connects_in_both_directions_give_one_connection() {
    let a = Node::start(config("a"), local()).await.unwrap();
    let b = Node::start(config("b"), local()).await.unwrap();
    let mut downs = a.monitor_nodes();
    let (ra, rb) = tokio::join!(a.connect(b.local_addr()), b.connect(a.local_addr()));
    assert_eq!((ra.unwrap(), rb.unwrap()), ("b".to_owned(), "a".to_owned()));
    assert_eq!(downs.recv().await, Some(NodeEvent::Up("b".into())));
    // The connection stays: no replacement tears it down afterwards.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        downs.try_recv().is_err(),
        "no nodedown after a simultaneous connect"
    );
    let pa = a.spawn();
    let mut pb = b.spawn();
    pa.send(pb.pid(), &atom("hi")).await.unwrap();
    let Msg::Message { term, .. } = next(&mut pb).await else {
        panic!()
    };
    assert_eq!(term, atom("hi"));
}

#[tokio::test]
async fn wrong_cookie_is_refused() {
    let a = Node::start(config("a"), local()).await.unwrap();
    let b = Node::start(Config::new("b", b"other"), local())
        .await
        .unwrap();
    let err = a.connect(b.local_addr()).await.unwrap_err();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::BadCookie)),
        "{err}"
    );
    assert!(a.nodes().is_empty() && b.nodes().is_empty());
}

#[tokio::test]
async fn eight_megabyte_messages_interleave_with_small_ones() {
    let (a, b) = pair().await;
    let pa = a.spawn();
    let mut sink = b.spawn();
    let big: Vec<u8> = (0..8 << 20)
        .map(|i: u32| (i * 7 + i / 4096) as u8)
        .collect();
    let big = Term::from(big);
    pa.send_in(sink.pid(), &big, Class::Bulk).await.unwrap();
    pa.send_in(sink.pid(), &big, Class::Bulk).await.unwrap();
    pa.send_in(sink.pid(), &atom("urgent"), Class::RealTime)
        .await
        .unwrap();
    let first = next(&mut sink).await;
    assert!(
        matches!(&first, Msg::Message { term, .. } if *term == atom("urgent")),
        "the real-time message overtakes 16 MB of bulk"
    );
    for _ in 0..2 {
        let Msg::Message { term, .. } = next(&mut sink).await else {
            panic!()
        };
        assert!(term == big, "8 MB intact");
    }
}

#[tokio::test]
async fn nodedown_within_the_tick_time_when_a_peer_dies_silently() {
    let (a, b) = pair().await;
    let mut events = a.monitor_nodes();
    // Idle longer than the tick time: ticks keep it up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(a.nodes(), ["b"]);
    // b stops as a crash would: no Close, a must notice the silence.
    b.abort();
    let died = tokio::time::Instant::now();
    let ev = timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap();
    assert_eq!(ev, Some(NodeEvent::Down("b".into())));
    let took = died.elapsed();
    // Tick time 800 ms; the last tick from b may be up to a tick interval old.
    assert!(
        took >= Duration::from_millis(800 - 200 - 50) && took <= Duration::from_millis(800 + 300),
        "nodedown after {took:?}"
    );
}

#[tokio::test]
async fn real_time_traffic_takes_the_urgent_socket_and_hostile_datagrams_there_are_dropped() {
    let (a, b) = pair().await;
    let urgent = b.urgent_addr().expect("on by default");
    assert_eq!(urgent.ip(), b.local_addr().ip());
    assert_ne!(urgent.port(), b.local_addr().port());
    // Hostile datagrams on the urgent socket: garbage, a handshake, a forged sender.
    let mallory = std::net::UdpSocket::bind(local()).unwrap();
    mallory.send_to(b"\xd1\x57\x01\x04garbage", urgent).unwrap();
    mallory.send_to(&[0xff; 2000], urgent).unwrap();
    let pa = a.spawn();
    let mut pb = b.spawn();
    for i in 0..50_i64 {
        pa.send_in(pb.pid(), &Term::from(i), Class::RealTime)
            .await
            .unwrap();
    }
    pa.send_in(pb.pid(), &Term::from(vec![7; 100_000]), Class::Bulk)
        .await
        .unwrap();
    for i in 0..50_i64 {
        let Msg::Message { term, .. } = next(&mut pb).await else {
            panic!()
        };
        assert_eq!(
            term.as_i64(),
            Some(i),
            "{:?}",
            term.as_binary().map(|b| b.len())
        );
    }
    let Msg::Message { term, .. } = next(&mut pb).await else {
        panic!()
    };
    assert_eq!(term, Term::from(vec![7; 100_000]));
    let stats = b.stats().await.unwrap();
    assert!(stats.rx_urgent >= 50, "{stats:?}");
    assert!(stats.rx_malformed >= 2, "{stats:?}");
    // Bulk went to the main socket: more datagrams than the urgent ones arrived.
    assert!(stats.rx_datagrams > stats.rx_urgent + 5, "{stats:?}");
}

#[tokio::test]
async fn one_socket_when_the_urgent_socket_is_off() {
    let mut ca = config("a");
    ca.urgent_socket = false;
    let a = Node::start(ca, local()).await.unwrap();
    let b = Node::start(config("b"), local()).await.unwrap();
    assert_eq!(a.urgent_addr(), None);
    assert_eq!(a.connect(b.local_addr()).await.unwrap(), "b");
    let mut pa = a.spawn();
    let mut pb = b.spawn();
    // a first: b may not have seen the handshake's Confirm yet when `connect` returns.
    pa.send_in(pb.pid(), &atom("ping"), Class::RealTime)
        .await
        .unwrap();
    assert!(matches!(next(&mut pb).await, Msg::Message { .. }));
    pb.send_in(pa.pid(), &atom("pong"), Class::RealTime)
        .await
        .unwrap();
    assert!(matches!(next(&mut pa).await, Msg::Message { .. }));
    // a announced no urgent port, so b sends it everything on the main socket; b's own
    // urgent socket still receives a's real-time datagrams.
    assert_eq!(a.stats().await.unwrap().rx_urgent, 0);
    assert!(b.stats().await.unwrap().rx_urgent >= 1);
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: plain syscall writing into a timespec we own.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) },
        0
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[tokio::test]
async fn busy_polling_nodes_deliver_and_then_park() {
    // Both nodes run on this test's current-thread runtime, so this thread's CPU time is
    // theirs.
    let start = |name: &str| {
        let mut c = config(name);
        c.busy_poll = Duration::from_millis(50);
        Node::start(c, local())
    };
    let a = start("a").await.unwrap();
    let b = start("b").await.unwrap();
    assert_eq!(a.connect(b.local_addr()).await.unwrap(), "b");
    let mut pa = a.spawn();
    let mut pb = b.spawn();
    for i in 0..200_i64 {
        pa.send_in(pb.pid(), &Term::from(i), Class::RealTime)
            .await
            .unwrap();
        let Msg::Message { term, .. } = next(&mut pb).await else {
            panic!()
        };
        assert_eq!(term.as_i64(), Some(i));
        pb.send_in(pa.pid(), &term, Class::RealTime).await.unwrap();
        assert!(matches!(next(&mut pa).await, Msg::Message { .. }));
    }
    // The spin lasts `busy_poll` after the last real-time message, then the drivers block.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let cpu = thread_cpu();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let idle_cpu = thread_cpu() - cpu;
    assert!(
        idle_cpu < Duration::from_millis(40),
        "idle nodes used {idle_cpu:?} of CPU in 400 ms"
    );
    // And they still answer.
    pa.send_in(pb.pid(), &atom("late"), Class::RealTime)
        .await
        .unwrap();
    assert!(matches!(next(&mut pb).await, Msg::Message { .. }));
}

#[tokio::test]
async fn real_time_round_trips_go_on_through_a_flood_on_the_urgent_ports() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let (a, b) = pair().await;
    let targets = [a.urgent_addr().unwrap(), b.urgent_addr().unwrap()];
    // Garbage as fast as a thread can send it, at both urgent ports: the driver must still
    // get to its commands (the sends below) and its main socket.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flooder = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        std::thread::spawn(move || {
            let mallory = std::net::UdpSocket::bind(local()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                for t in targets {
                    if mallory.send_to(b"\xd1\x57\x01\x04garbage", t).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let mut pa = a.spawn();
    let mut echo = b.spawn();
    let echo_pid = echo.pid().clone();
    let echoing = tokio::spawn(async move {
        while let Some(Msg::Message {
            from: Some(from),
            term,
        }) = echo.recv().await
        {
            if term.as_i64().is_some() {
                echo.send_in(&from, &term, Class::RealTime).await.unwrap();
            }
        }
    });
    // A bulk message in flight too, so the main sockets are busy as well.
    pa.send_in(&echo_pid, &Term::from(vec![1; 1 << 20]), Class::Bulk)
        .await
        .unwrap();
    let mut answered = 0;
    for i in 0..200_i64 {
        pa.send_in(&echo_pid, &Term::from(i), Class::RealTime)
            .await
            .unwrap();
        loop {
            let Msg::Message { term, .. } = next(&mut pa).await else {
                panic!()
            };
            if term.as_i64() == Some(i) {
                answered += 1;
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    echoing.abort();
    assert_eq!(answered, 200);
    let flood = sent.load(Ordering::Relaxed);
    let dropped = a.stats().await.unwrap().rx_malformed + b.stats().await.unwrap().rx_malformed;
    assert!(
        dropped > 1000,
        "the flood reached the nodes: {dropped} of {flood}"
    );
}

/// Time-triggered sending on this host (no etf qdisc: the node releases the message at its
/// launch time; with `Config::txtime` the kernel takes the launch-time control messages and,
/// without etf, sends at once). The etf case runs in the kernel VM (`vm_txtime.rs`).
#[tokio::test]
async fn time_triggered_messages_leave_at_their_launch_time_and_hold_up_no_one_else() {
    use dist_over_tsn::carrier::TxTime;
    use dist_over_tsn::node::{Time, tai_now};
    for txtime in [None, Some(TxTime::default())] {
        let mut ca = config("a");
        ca.txtime = txtime;
        let a = Node::start(ca, local()).await.unwrap();
        let b = Node::start(config("b"), local()).await.unwrap();
        assert_eq!(a.connect(b.local_addr()).await.unwrap(), "b");
        let pa = a.spawn();
        let pa2 = a.spawn();
        let mut pb = b.spawn();
        // b first: make sure b has the connection (its Confirm) before timing anything.
        pa.send_in(pb.pid(), &atom("hello"), Class::RealTime)
            .await
            .unwrap();
        assert!(matches!(next(&mut pb).await, Msg::Message { .. }));
        let launch = tai_now() + tsn_time::Duration::from_millis(300);
        pa.send_at(pb.pid(), &atom("timed"), launch).await.unwrap();
        // Behind it: the same pair's next message; another sender's goes at once.
        pa.send_in(pb.pid(), &atom("after"), Class::RealTime)
            .await
            .unwrap();
        pa2.send_in(pb.pid(), &atom("other"), Class::RealTime)
            .await
            .unwrap();
        let mut got: Vec<(Term, Time)> = Vec::new();
        for _ in 0..3 {
            let Msg::Message { term, .. } = next(&mut pb).await else {
                panic!()
            };
            got.push((term, tai_now()));
        }
        let names: Vec<_> = got.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(
            names,
            [atom("other"), atom("timed"), atom("after")],
            "txtime {txtime:?}"
        );
        assert!(got[0].1 < launch, "the other sender waited for the launch");
        // The node releases `lead` early when the kernel is to keep the time (etf); here
        // nothing does, so it may arrive that much before.
        let lead = txtime.map_or(0, |t| t.lead.as_nanos() as i64);
        let early = launch - tsn_time::Duration::from_nanos(lead + 1_000_000);
        assert!(
            got[1].1 >= early,
            "arrived {:?} before its launch",
            launch - got[1].1
        );
        assert!(got[1].1 < launch + tsn_time::Duration::from_secs(2));
        assert_eq!(a.stats().await.unwrap().tx_launch_refused, 0);
    }
}

#[tokio::test]
async fn senders_wait_for_room_in_the_send_buffer_and_all_arrive() {
    let mut ca = config("a");
    // Room for one 200 KiB message at a time: every send after the first waits until the
    // previous one is acknowledged.
    ca.send_buffer[Class::Bulk as usize] = 256 << 10;
    let a = Node::start(ca, local()).await.unwrap();
    let b = Node::start(config("b"), local()).await.unwrap();
    assert_eq!(a.connect(b.local_addr()).await.unwrap(), "b");
    let mut sink = b.spawn();
    let to = sink.pid().clone();
    // Two senders on the same class, so waiters with different needs overlap.
    let mut senders = Vec::new();
    for s in 0..2_u8 {
        let p = a.spawn();
        let to = to.clone();
        senders.push(tokio::spawn(async move {
            for i in 0..10_u8 {
                let len = if s == 0 { 200 << 10 } else { 60 << 10 };
                p.send_in(&to, &Term::from(vec![s * 100 + i; len]), Class::Bulk)
                    .await
                    .unwrap();
            }
        }));
    }
    let mut next_of = [0_u8; 2];
    for _ in 0..20 {
        let Msg::Message { term, .. } = next(&mut sink).await else {
            panic!()
        };
        let v = term.as_binary().unwrap()[0];
        let (s, i) = (usize::from(v / 100), v % 100);
        assert_eq!(i, next_of[s], "sender {s} out of order");
        next_of[s] += 1;
    }
    for s in senders {
        timeout(Duration::from_secs(10), s).await.unwrap().unwrap();
    }
}
