//! Time-triggered sending through a real `etf` qdisc. `#[ignore]`d: the host's kernel has no
//! etf, so `vm_txtime.rs` boots Debian's kernel and runs these there (they also run on any
//! Linux host with sch_mqprio and sch_etf, as root, with `TSN_IN_VM=1`).
//!
//! Node a (this namespace) and node b (namespace `dtb`) talk over a veth pair. a's side has
//! mqprio with two classes: priority 6, the real-time class, goes to a queue under etf
//! (`clockid CLOCK_TAI delta 10 ms`: the emulated guest's timers run late), everything else
//! to a plain queue.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use dist_over_tsn::carrier::{Class, Config, TxTime};
use dist_over_tsn::node::{Msg, Node, Process, Time, tai_now};
use dist_over_tsn::term::Term;
use tokio::sync::mpsc::UnboundedReceiver;

/// etf's `delta`: how long before its launch time a datagram leaves the qdisc.
const DELTA_MS: i64 = 10;
/// The node hands a time-triggered datagram to the kernel this long before its launch.
const LEAD_MS: u64 = 40;

fn sh(script: &str) -> String {
    tsn_testbed::run_checked(Command::new("bash").arg("-c").arg(script))
        .unwrap_or_else(|e| panic!("{e}"))
        .stdout
}

/// The veth pair, b's namespace and a's qdiscs; removed when dropped.
struct Net;

impl Net {
    fn new() -> Self {
        sh("ip netns add dtb && ip -n dtb link set lo up && \
            ip link add dt0 numtxqueues 2 numrxqueues 2 type veth peer name dt1 \
               numtxqueues 2 numrxqueues 2 && \
            ip link set dt1 netns dtb && \
            ip addr add 10.77.0.1/24 dev dt0 && ip link set dt0 up && \
            ip -n dtb addr add 10.77.0.2/24 dev dt1 && ip -n dtb link set dt1 up && \
            tc qdisc replace dev dt0 handle 100: root mqprio num_tc 2 \
               map 1 1 1 1 1 1 0 1 1 1 1 1 1 1 1 1 queues 1@0 1@1 hw 0");
        sh(&format!(
            "tc qdisc add dev dt0 parent 100:1 handle 101: etf clockid CLOCK_TAI delta {}",
            DELTA_MS * 1_000_000
        ));
        Self
    }

    /// etf's counters: (sent packets, dropped packets).
    fn etf_counts(&self) -> (u64, u64) {
        let text = sh("tc -s qdisc show dev dt0");
        let block = text
            .split("qdisc ")
            .find(|b| b.starts_with("etf"))
            .unwrap_or_else(|| panic!("no etf in\n{text}"));
        let after = |key: &str| -> u64 {
            let rest = &block[block.find(key).unwrap() + key.len()..];
            rest.trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        (after(" bytes "), after("(dropped"))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", "dt0"]).status();
        let _ = Command::new("ip").args(["netns", "del", "dtb"]).status();
    }
}

/// Node b in namespace `dtb` on its own thread: every message its process `sink` gets is
/// reported with the TAI time it arrived. Returns b's address.
fn start_b(report: Report) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let ns = std::fs::File::open("/run/netns/dtb").unwrap();
        // SAFETY: setns on this thread with a namespace fd we hold open.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0,
            "setns: {}",
            std::io::Error::last_os_error()
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let b = Node::start(config("b", None), "10.77.0.2:0".parse().unwrap())
                .await
                .unwrap();
            let mut sink = b.spawn();
            assert!(sink.register("sink"));
            tx.send(b.local_addr()).unwrap();
            while let Some(Msg::Message { term, .. }) = sink.recv().await {
                if report.send((term, tai_now())).is_err() {
                    break;
                }
            }
        });
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap()
}

/// What b's `sink` got, and when (TAI).
type Report = tokio::sync::mpsc::UnboundedSender<(Term, Time)>;

/// The next arrival at b.
async fn next(arrivals: &mut UnboundedReceiver<(Term, Time)>, what: &str) -> (Term, Time) {
    match tokio::time::timeout(Duration::from_secs(20), arrivals.recv()).await {
        Ok(Some(got)) => got,
        _ => panic!(
            "{what}: nothing arrived at b\n{}",
            sh("tc -s qdisc show dev dt0")
        ),
    }
}

fn config(name: &str, txtime: Option<TxTime>) -> Config {
    let mut c = Config::new(name, b"secret");
    c.txtime = txtime;
    c.tick_time = Duration::from_secs(30);
    c
}

fn atom(s: &str) -> Term {
    Term::atom(s).unwrap()
}

fn ms(v: i64) -> tsn_time::Duration {
    tsn_time::Duration::from_millis(v)
}

async fn send(p: &Process, what: &str) {
    p.send_named("b", "sink", &atom(what), Class::RealTime)
        .await
        .unwrap();
}

#[test]
#[ignore = "needs sch_mqprio and sch_etf: runs in the kernel VM"]
fn etf_launches_time_triggered_messages_at_their_time() {
    if !tsn_testbed::in_vm() {
        eprintln!("skipped: runs inside the kernel VM (tests/vm_txtime.rs)");
        return;
    }
    if !tsn_testbed::require_real("etf_launches_time_triggered_messages_at_their_time") {
        return;
    }
    // The driver's view (sends refused, launch times missed), on failure in the output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("dist_over_tsn=debug")
        .with_test_writer()
        .try_init();
    let net = Net::new();
    let (report, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let b_addr = start_b(report);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lead = TxTime {
            lead: Duration::from_millis(LEAD_MS),
        };
        let a = Node::start(config("a", Some(lead)), "10.77.0.1:0".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(a.connect(b_addr).await.unwrap(), "b");
        let pa = a.spawn();
        let other = a.spawn();

        // Real-time datagrams without a time of their own get one `lead` ahead: etf lets
        // them through (it drops datagrams without a launch time).
        send(&pa, "hello").await;
        assert_eq!(next(&mut arrivals, "hello").await.0, atom("hello"));
        let (sent0, dropped0) = net.etf_counts();
        assert!(sent0 >= 1, "the real-time datagram went through etf");

        // A time-triggered message: released LEAD before its launch, held by etf until
        // DELTA before it. Another sender's message meanwhile goes at once.
        let launch = tai_now() + ms(800);
        pa.send_named_at("b", "sink", &atom("timed"), launch)
            .await
            .unwrap();
        send(&other, "other").await;
        let (t1, at1) = next(&mut arrivals, "other").await;
        let (t2, at2) = next(&mut arrivals, "timed").await;
        assert_eq!((t1, t2), (atom("other"), atom("timed")));
        assert!(at1 < launch - ms(100), "the other sender waited");
        let early = launch - at2;
        eprintln!("timed message arrived {early:?} before its launch time");
        // Had etf not held it, it would have left LEAD (40 ms) early.
        assert!(
            at2 >= launch - ms(DELTA_MS + 5),
            "arrived {early:?} before its launch: etf did not keep the time"
        );
        assert!(at2 < launch + ms(500), "arrived late: {:?}", at2 - launch);

        // A launch time already past: etf drops it and says so; the carrier sends it again
        // (as soon as possible) when no acknowledgement comes.
        pa.send_named_at("b", "sink", &atom("late"), tai_now() - ms(1000))
            .await
            .unwrap();
        assert_eq!(next(&mut arrivals, "late").await.0, atom("late"));
        let (_, dropped1) = net.etf_counts();
        assert!(dropped1 > dropped0, "etf dropped the late datagram");
        let stats = a.stats().await.unwrap();
        assert!(stats.tx_launch_refused >= 1, "{stats:?}");
        assert!(stats.tx_retransmit >= 1, "{stats:?}");

        // Control: a node that gives no launch times loses its real-time datagrams to etf.
        let c = Node::start(config("c", None), "10.77.0.1:0".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(c.connect(b_addr).await.unwrap(), "b");
        let pc = c.spawn();
        let (_, before) = net.etf_counts();
        send(&pc, "unstamped").await;
        assert!(
            tokio::time::timeout(Duration::from_millis(1500), arrivals.recv())
                .await
                .is_err(),
            "a datagram without a launch time passed etf: the test proves nothing"
        );
        assert!(net.etf_counts().1 > before);
        eprintln!("{}", sh("tc -s qdisc show dev dt0"));
    });
}
