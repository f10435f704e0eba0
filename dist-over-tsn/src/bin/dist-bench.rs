//! dist-bench: round trip of a small real-time message between two nodes in two processes
//! on loopback, idle and while another pair of processes streams 8 MB binaries in the bulk
//! class over the same connection; plus the bulk throughput.
//!
//! `dist-bench [--json] [--pings N] [--seconds S] [--bulk-bytes B] [--threads T]
//! [--rt-priority P] [--interval-us U]`; it starts its peer node as a child process (`--serve`,
//! internal).
//!
//! Both processes read the same `CLOCK_MONOTONIC`, so the echo stamps when it took the
//! ping and each round trip splits into its two one-way times ("there": pinger to echo,
//! "back": echo to pinger), which shows which side of the pair waited.
//!
//! Each process runs its node and its real-time process (the pinger, the echo) on one
//! current-thread runtime, and the bulk processes (the streamer, the sink), which encode and
//! decode 8 MB terms, on a multi-thread runtime of their own: the layout a PLC application
//! would use.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use dist_over_tsn::carrier::{Class, Config};
use dist_over_tsn::node::{Msg, Node, Process, set_realtime_priority};
use dist_over_tsn::term::Term;

#[derive(Parser, Debug)]
#[command(about = "Round trips of small real-time messages, idle and under 8 MB bulk")]
struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Round trips in the idle measurement (the loaded one runs for --seconds).
    #[arg(long, default_value_t = 20_000)]
    pings: usize,
    /// Length of the loaded measurement.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Size of each bulk message.
    #[arg(long, default_value_t = 8 << 20)]
    bulk_bytes: usize,
    /// Tokio worker threads per process for the bulk processes (on 2 CPUs, more threads
    /// only compete with the node thread).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// SCHED_FIFO priority (1-99) of the thread running the node and the real-time process;
    /// 0 leaves it in the normal time-sharing class.
    #[arg(long, default_value_t = 0)]
    rt_priority: u8,
    /// Gap between the end of one round trip and the next ping (0: back to back). A paced
    /// pinger offers the same real-time load whatever its latency, as a cyclic PLC task does.
    #[arg(long, default_value_t = 0)]
    interval_us: u64,
    /// `Config::busy_poll` of both nodes, in microseconds (0: block at once).
    #[arg(long, default_value_t = 0)]
    busy_poll_us: u64,
    /// Largest datagram (`Config::mtu`); loopback takes up to 65 000.
    #[arg(long, default_value_t = 65_000)]
    mtu: usize,
    /// Bulk class window (`Config::window`), in KiB: how much bulk may be in flight.
    #[arg(long, default_value_t = 256)]
    bulk_window_kib: usize,
    /// Write every loaded round trip to this file, one line each: microseconds since the
    /// loaded phase began, round trip, there, back (microseconds).
    #[arg(long)]
    samples: Option<std::path::PathBuf>,
    /// Internal: run the peer node (echo and sink) and print its address.
    #[arg(long, hide = true)]
    serve: bool,
}

const COOKIE: &[u8] = b"dist-bench";

fn config(name: &str, args: &Args) -> Config {
    let mut c = Config::new(name, COOKIE);
    c.busy_poll = Duration::from_micros(args.busy_poll_us);
    // Loopback's MTU is 64 KiB: one fragment per datagram up to that.
    c.mtu = args.mtu;
    c.tick_time = Duration::from_secs(20);
    // Little bulk in flight keeps the receiver's socket queue short (the lever against
    // head-of-line blocking); the real-time class never waits behind more than this.
    c.window[Class::Bulk as usize] = args.bulk_window_kib << 10;
    c.send_buffer[Class::Bulk as usize] = 16 << 20;
    c
}

fn atom(s: &str) -> Term {
    Term::atom(s).expect("short atom")
}

/// Keeps freed 8 MB buffers in glibc's heap for the next message instead of handing them
/// back to the kernel and faulting fresh zeroed pages in for every message (BEAM's own
/// allocators cache memory the same way).
fn keep_large_buffers() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator thresholds; called before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

fn main() -> anyhow::Result<()> {
    keep_large_buffers();
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bulk = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .thread_name("bench-bulk")
        .enable_all()
        .build()?;
    if args.rt_priority > 0 {
        set_realtime_priority(args.rt_priority).context("SCHED_FIFO for the node thread")?;
    }
    if args.serve {
        rt.block_on(serve(&args, bulk.handle()))
    } else {
        rt.block_on(run(&args, bulk.handle()))
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in both processes (an `Instant` cannot
/// cross a process boundary).
fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the initialised timespec it is given; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// The peer: `echo` answers `{echo, X, T}` to `{Pid, X}` in the real-time class, `T` being
/// [`monotonic_ns`] when it took the message; `sink`
/// counts what it receives and reports `{Count, Bytes}` to `{stats, Pid}`.
async fn serve(args: &Args, bulk: &tokio::runtime::Handle) -> anyhow::Result<()> {
    let node = Node::start(config("bench_b", args), "127.0.0.1:0".parse()?).await?;
    let mut echo = node.spawn();
    echo.register("echo");
    let mut sink = node.spawn();
    sink.register("sink");
    tokio::spawn(async move {
        while let Some(m) = echo.recv().await {
            if let Msg::Message {
                from: Some(from),
                term,
            } = m
            {
                let took = Term::from(monotonic_ns());
                let reply = Term::Tuple(vec![atom("echo"), term, took]);
                let _ = echo.send_in(&from, &reply, Class::RealTime).await;
            }
        }
    });
    bulk.spawn(async move {
        let (mut count, mut bytes) = (0_i64, 0_i64);
        while let Some(m) = sink.recv().await {
            match m {
                Msg::Message {
                    term: Term::Binary(b),
                    ..
                } => {
                    count += 1;
                    bytes += b.len() as i64;
                }
                Msg::Message {
                    from: Some(from), ..
                } => {
                    let reply = Term::Tuple(vec![Term::from(count), Term::from(bytes)]);
                    let _ = sink.send_in(&from, &reply, Class::RealTime).await;
                }
                _ => {}
            }
        }
    });
    println!("ADDR {}", node.local_addr());
    std::io::stdout().flush()?;
    // Run until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
    })
    .await?;
    node.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

async fn pace(interval_us: u64) {
    if interval_us > 0 {
        tokio::time::sleep(Duration::from_micros(interval_us)).await;
    }
}

/// One round trip and its two halves.
#[derive(Clone, Copy, Debug)]
struct Trip {
    rtt: Duration,
    there: Duration,
    back: Duration,
}

async fn ping(me: &mut Process, i: i64) -> anyhow::Result<Trip> {
    let t0 = Instant::now();
    let sent = monotonic_ns();
    me.send_named("bench_b", "echo", &Term::from(i), Class::RealTime)
        .await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), me.recv()).await {
            Ok(Some(Msg::Message { term, .. })) => {
                if let Term::Tuple(t) = &term
                    && t.get(1).and_then(Term::as_i64) == Some(i)
                {
                    let rtt = t0.elapsed();
                    let back_ns = monotonic_ns();
                    let echoed = t.get(2).and_then(Term::as_i64).context("echo time")?;
                    let ns = |n: i64| Duration::from_nanos(n.max(0) as u64);
                    return Ok(Trip {
                        rtt,
                        there: ns(echoed - sent),
                        back: ns(back_ns - echoed),
                    });
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => bail!("mailbox closed"),
            Err(_) => bail!("no echo for 10 s"),
        }
    }
}

async fn sink_stats(me: &mut Process) -> anyhow::Result<(i64, i64)> {
    let me_pid = Term::Pid(me.pid().clone());
    me.send_named(
        "bench_b",
        "sink",
        &Term::Tuple(vec![atom("stats"), me_pid]),
        Class::RealTime,
    )
    .await?;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), me.recv())
            .await
            .context("sink stats timed out")?;
        if let Some(Msg::Message {
            term: Term::Tuple(t),
            ..
        }) = m
            && t.len() == 2
            && let (Some(c), Some(b)) = (t[0].as_i64(), t[1].as_i64())
        {
            return Ok((c, b));
        }
    }
}

#[derive(Debug)]
struct Summary {
    n: usize,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

fn summarise(mut v: Vec<Duration>) -> Summary {
    v.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let q = |p: f64| {
        let i = ((p * v.len() as f64).round() as usize).clamp(1, v.len()) - 1;
        us(v[i])
    };
    Summary {
        n: v.len(),
        p50: q(0.5),
        p99: q(0.99),
        p999: q(0.999),
        max: us(*v.last().expect("at least one sample")),
    }
}

/// Round trips and both halves.
struct Summaries {
    rtt: Summary,
    there: Summary,
    back: Summary,
}

fn summarise_trips(trips: &[Trip]) -> Summaries {
    let of = |f: fn(&Trip) -> Duration| summarise(trips.iter().map(f).collect());
    Summaries {
        rtt: of(|t| t.rtt),
        there: of(|t| t.there),
        back: of(|t| t.back),
    }
}

fn json(s: &Summaries) -> serde_json::Value {
    let tenth = |v: f64| (v * 10.0).round() / 10.0;
    let half = |h: &Summary| {
        serde_json::json!({
            "p50_us": tenth(h.p50),
            "p99_us": tenth(h.p99),
            "p999_us": tenth(h.p999),
        })
    };
    serde_json::json!({
        "n": s.rtt.n,
        "p50_us": tenth(s.rtt.p50),
        "p99_us": tenth(s.rtt.p99),
        "p999_us": tenth(s.rtt.p999),
        "max_us": tenth(s.rtt.max),
        "there": half(&s.there),
        "back": half(&s.back),
    })
}

async fn run(args: &Args, bulk_rt: &tokio::runtime::Handle) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["--serve", "--threads", &args.threads.to_string()])
        .args(["--rt-priority", &args.rt_priority.to_string()])
        .args(["--busy-poll-us", &args.busy_poll_us.to_string()])
        .args(["--mtu", &args.mtu.to_string()])
        .args(["--bulk-window-kib", &args.bulk_window_kib.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the peer process")?;
    let mut out = BufReader::new(child.stdout.take().context("child stdout")?);
    let mut line = String::new();
    out.read_line(&mut line)?;
    let addr: SocketAddr = line
        .strip_prefix("ADDR ")
        .context("peer did not print its address")?
        .trim()
        .parse()?;

    let node = Node::start(config("bench_a", args), "127.0.0.1:0".parse()?).await?;
    node.connect(addr).await?;
    let mut me = node.spawn();
    for i in 0..1000 {
        ping(&mut me, -1 - i).await?;
    }
    let mut idle = Vec::with_capacity(args.pings);
    for i in 0..args.pings {
        pace(args.interval_us).await;
        idle.push(ping(&mut me, i as i64).await?);
    }
    let idle = summarise_trips(&idle);

    // The bulk pair: a process here streaming binaries to `sink` there.
    let bulk = node.spawn();
    let payload = Term::from(vec![0xab; args.bulk_bytes]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = std::sync::Arc::clone(&stop);
    let streamer = bulk_rt.spawn(async move {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            if bulk
                .send_named("bench_b", "sink", &payload, Class::Bulk)
                .await
                .is_err()
            {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, b0) = sink_stats(&mut me).await?;
    let t0 = Instant::now();
    let mut loaded = Vec::new();
    let mut starts = Vec::new();
    let mut i = 1_000_000_i64;
    while t0.elapsed().as_secs_f64() < args.seconds {
        pace(args.interval_us).await;
        starts.push(t0.elapsed());
        loaded.push(ping(&mut me, i).await?);
        i += 1;
    }
    let (_, b1) = sink_stats(&mut me).await?;
    let secs = t0.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    streamer.abort();
    if let Some(path) = &args.samples {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let mut text = String::new();
        for (at, t) in starts.iter().zip(&loaded) {
            let (a, r, th, b) = (us(*at), us(t.rtt), us(t.there), us(t.back));
            text.push_str(&format!("{a:.0} {r:.1} {th:.1} {b:.1}\n"));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let loaded = summarise_trips(&loaded);
    let mb_s = (b1 - b0) as f64 / secs / 1e6;

    drop(child.stdin.take());
    node.shutdown();
    let _ = child.wait();

    if args.json {
        let v = serde_json::json!({
            "impl": "dist-over-tsn",
            "idle": json(&idle),
            "loaded": json(&loaded),
            "bulk_mb_s": mb_s.round(),
            "bulk_bytes": args.bulk_bytes,
            "rt_priority": args.rt_priority,
            "interval_us": args.interval_us,
            "busy_poll_us": args.busy_poll_us,
            "mtu": args.mtu,
        });
        println!("{v}");
    } else {
        println!("dist-over-tsn, loopback, round trip of a small real-time message (us)");
        println!(
            "{:<34} {:>7} {:>9} {:>9} {:>9} {:>9}",
            "scenario", "n", "p50", "p99", "p99.9", "max"
        );
        for (name, s) in [("idle", &idle), ("8 MB bulk, same connection", &loaded)] {
            for (part, h) in [("", &s.rtt), ("  there", &s.there), ("  back", &s.back)] {
                println!(
                    "{:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                    format!("{name}{part}"),
                    h.n,
                    h.p50,
                    h.p99,
                    h.p999,
                    h.max
                );
            }
        }
        println!("bulk throughput: {mb_s:.0} MB/s");
    }
    Ok(())
}
