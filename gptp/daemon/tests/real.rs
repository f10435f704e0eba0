//! gptpd on real sockets: network namespaces over veth, software timestamps, every gptpd on a
//! virtual clock, and the host's clock discipline (adjtimex) checked unchanged afterwards.
//!
//! Gated by `TSN_REAL_TESTS=1` (root, iproute2; linuxptp and tshark for the interop parts).
//! The scenarios share the two CPUs with whatever else runs, so they take turns (one lock)
//! and are judged on distributions of many samples, not on single ones.
//!
//! True error between two gptpd instances = the difference of their
//! `virtual_offset_from_host_ns` (each virtual clock minus the one host CLOCK_TAI). ptp4l runs
//! free (`free_running 1`), so its time is the host's CLOCK_REALTIME.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gptpd::clock::read_adjtimex;
use gptpd::status::Status;
use tsn_testbed::{Netns, Spawned, VethPair, require_real};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fails (with the switch on) when a peer program is missing, naming its package.
fn need(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        || Path::new("/usr/sbin").join(program).is_file();
    assert!(found, "{program} is missing: apt-get install {package}");
}

/// Kernel clock state that no test may change.
fn clock_state() -> (i64, i32, i64, i32) {
    let t = read_adjtimex().expect("adjtimex read");
    (t.freq, t.status, t.offset, t.tai)
}

struct Daemon {
    proc: Option<Spawned>,
    socket: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn start(ns: &Netns, dir: &Path, name: &str, args: &[&str]) -> Self {
        let socket = dir.join(format!("{name}.sock"));
        let log = dir.join(format!("{name}.log"));
        let mut cmd = ns.command(env!("CARGO_BIN_EXE_gptpd"));
        cmd.args(["--socket", socket.to_str().unwrap()])
            .args(["--clock", "virtual", "--timestamping", "software"])
            .args(["--neighbor-prop-delay-thresh", "100us"]);
        if !args.contains(&"--log-level") {
            cmd.args(["--log-level", "debug"]);
        }
        cmd.args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let proc = Spawned::start(&mut cmd).expect("gptpd starts");
        let d = Self {
            proc: Some(proc),
            socket,
            log,
        };
        let t0 = Instant::now();
        while d.status().is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{name} never answered on its socket:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Through gptpctl, as a user would.
    fn status(&self) -> Option<Status> {
        let out = Command::new(env!("CARGO_BIN_EXE_gptpctl"))
            .args([
                "--socket",
                self.socket.to_str().unwrap(),
                "status",
                "--json",
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(serde_json::from_slice(&out.stdout).expect("gptpctl prints the status JSON"))
    }

    /// Straight over the socket, for sampling: no process per sample competing with the
    /// daemons for the two CPUs.
    fn query(&self) -> Option<Status> {
        use std::io::{BufRead as _, Write as _};
        let mut c = std::os::unix::net::UnixStream::connect(&self.socket).ok()?;
        c.write_all(b"status\n").ok()?;
        let mut line = String::new();
        std::io::BufReader::new(c).read_line(&mut line).ok()?;
        serde_json::from_str(&line).ok()
    }

    fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&Status) -> bool) -> Duration {
        let t0 = Instant::now();
        loop {
            if self.status().is_some_and(|s| f(&s)) {
                return t0.elapsed();
            }
            assert!(
                t0.elapsed() < timeout,
                "{what} not within {timeout:?}; last status {:#?}\nlog:\n{}",
                self.status(),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM; the daemon must exit 0 and remove its socket.
    fn terminate(mut self) {
        let mut p = self.proc.take().unwrap();
        // SAFETY: plain kill(2) on the pid of our own child.
        unsafe { libc::kill(p.id() as i32, libc::SIGTERM) };
        let child = p.child_mut().unwrap();
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "exit after SIGTERM: {status}\n{}",
            self.log_text()
        );
        assert!(!self.socket.exists(), "status socket left behind");
    }
}

/// Sends each of `frames` as an 0x88F7 payload to 01-80-C2-00-00-0E from `dev` in `ns`.
fn inject(ns: &Netns, dev: &str, frames: &[Vec<u8>]) {
    use std::os::fd::AsRawFd as _;
    let netns = std::fs::File::open(format!("/run/netns/{}", ns.name())).unwrap();
    let dev = std::ffi::CString::new(dev).unwrap();
    let frames = frames.to_vec();
    // setns on a thread of its own, so the test's other threads stay where they are.
    std::thread::spawn(move || {
        // SAFETY: plain syscalls on valid fds and initialised buffers.
        unsafe {
            assert_eq!(libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET), 0);
            let proto = 0x88f7u16.to_be();
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(proto));
            assert!(fd >= 0, "{}", std::io::Error::last_os_error());
            let mut sa: libc::sockaddr_ll = std::mem::zeroed();
            sa.sll_family = libc::AF_PACKET as u16;
            sa.sll_protocol = proto;
            sa.sll_ifindex = libc::if_nametoindex(dev.as_ptr()) as i32;
            sa.sll_halen = 6;
            sa.sll_addr[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
            for f in &frames {
                let r = libc::sendto(
                    fd,
                    f.as_ptr().cast(),
                    f.len(),
                    0,
                    (&raw const sa).cast(),
                    size_of::<libc::sockaddr_ll>() as u32,
                );
                assert!(r >= 0, "{}", std::io::Error::last_os_error());
            }
            libc::close(fd);
        }
    })
    .join()
    .unwrap();
}

fn true_error_ns(a: &Daemon, b: &Daemon) -> Option<f64> {
    let va = a.query()?.virtual_offset_from_host_ns?;
    let vb = b.query()?.virtual_offset_from_host_ns?;
    Some((vb - va) as f64)
}

#[derive(Debug)]
struct Dist {
    n: usize,
    mean: f64,
    median: f64,
    p95_abs: f64,
    max_abs: f64,
}

impl std::fmt::Display for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n {} mean {:.0} median {:.0} p95|.| {:.0} max|.| {:.0}",
            self.n, self.mean, self.median, self.p95_abs, self.max_abs
        )
    }
}

fn dist(v: &[f64]) -> Dist {
    assert!(!v.is_empty());
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let mut a: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    a.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Dist {
        n: v.len(),
        mean: v.iter().sum::<f64>() / v.len() as f64,
        median: q(&s, 0.5),
        p95_abs: q(&a, 0.95),
        max_abs: a[a.len() - 1],
    }
}

fn sample(seconds: u64, mut f: impl FnMut() -> Option<f64>) -> Vec<f64> {
    let t0 = Instant::now();
    let mut v = Vec::new();
    while t0.elapsed() < Duration::from_secs(seconds) {
        if let Some(x) = f() {
            v.push(x);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    v
}

/// Kernel timestamps (CLOCK_REALTIME ns: software timestamping) of event messages that a
/// daemon logged on target `gptpd::timestamps` (JSON log), keyed by (sent, messageType,
/// sequenceId), only those within `window`.
fn kernel_stamps(log: &str, window: (i128, i128)) -> HashMap<(bool, u8, u16), i128> {
    let mut m = HashMap::new();
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["target"] != "gptpd::timestamps" {
            continue;
        }
        let f = &v["fields"];
        let (Some(dir), Some(ty), Some(seq), Some(ns)) = (
            f["dir"].as_str(),
            f["msg_type"].as_u64(),
            f["seq"].as_u64(),
            f["kernel_ns"].as_str().and_then(|x| x.parse::<i128>().ok()),
        ) else {
            continue;
        };
        if (window.0..=window.1).contains(&ns) {
            m.insert((dir == "tx", ty as u8, seq as u16), ns);
        }
    }
    m
}

/// True one-way delays (ns) of messages of `msg_type` from `from` to `to`: the receiver's RX
/// stamp minus the sender's TX stamp, both read from the one kernel clock.
fn one_way(
    from: &HashMap<(bool, u8, u16), i128>,
    to: &HashMap<(bool, u8, u16), i128>,
    msg_type: u8,
) -> Vec<f64> {
    from.iter()
        .filter(|((tx, ty, _), _)| *tx && *ty == msg_type)
        .filter_map(|((_, _, seq), t)| Some((to.get(&(false, msg_type, *seq))? - t) as f64))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn realtime_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

struct Pair {
    a: Netns,
    b: Netns,
    _veth: VethPair,
}

fn pair(tag: &str) -> Pair {
    let a = Netns::new(&format!("{tag}a")).unwrap();
    let b = Netns::new(&format!("{tag}b")).unwrap();
    let veth = VethPair::builder()
        .a_name("gp0")
        .b_name("gp1")
        .a_netns(&a)
        .b_netns(&b)
        .create()
        .unwrap();
    for (ns, dev) in [(&a, "gp0"), (&b, "gp1")] {
        // No IPv6 chatter on the test link.
        let _ = ns.exec(&[
            "sysctl",
            "-q",
            &format!("net.ipv6.conf.{dev}.disable_ipv6=1"),
        ]);
    }
    Pair { a, b, _veth: veth }
}

#[test]
fn a_gptpd_master_and_slave_lock_and_agree() {
    if !require_real("gptpd master + slave") {
        return;
    }
    let _g = serial();
    let before = clock_state();
    let dir = tempfile::tempdir().unwrap();
    let p = pair("gpa");
    // JSON logs with every event message's kernel timestamp, to measure the true one-way
    // delays next to the daemons' own view.
    let logs = [
        "--log-format",
        "json",
        "--log-level",
        "debug,gptpd::timestamps=trace",
    ];
    let gm = Daemon::start(
        &p.a,
        dir.path(),
        "gm",
        &[&["-i", "gp0", "--priority1", "200"][..], &logs].concat(),
    );
    let sl = Daemon::start(
        &p.b,
        dir.path(),
        "slave",
        &[
            &logs[..],
            &[
                "-i",
                "gp1",
                "--virtual-offset-ns",
                "-3000000",
                "--virtual-freq-ppb",
                "40000",
                "--metrics",
                "127.0.0.1:9977",
            ][..],
        ]
        .concat(),
    );
    let lock = sl.wait_for("slave lock", Duration::from_secs(10), |s| {
        s.servo_state == "locked"
    });
    // Settle the frequency estimate, then judge many samples.
    std::thread::sleep(Duration::from_secs(3));
    let window_start = realtime_ns();
    let mut link_delays = Vec::new();
    let mut freqs = Vec::new();
    // 25 s: one episode after a preempted Sync (a few us for a second or two) stays under 5 %.
    let errors = sample(25, || {
        let e = true_error_ns(&gm, &sl)?;
        let s = sl.query()?;
        link_delays.push(s.ports[0].mean_link_delay_ns?);
        freqs.push(s.freq_adj_ppb);
        Some(e)
    });
    let window = (window_start, realtime_ns());
    let d = dist(&errors);
    println!("(a) lock after {lock:?}; true error ns: {d}");
    // Where the error comes from: the kernel's one-way delays of the slave's messages.
    let (gm_ts, sl_ts) = (
        kernel_stamps(&gm.log_text(), window),
        kernel_stamps(&sl.log_text(), window),
    );
    let sync = dist(&one_way(&gm_ts, &sl_ts, 0));
    let req = dist(&one_way(&sl_ts, &gm_ts, 2));
    let resp = dist(&one_way(&gm_ts, &sl_ts, 3));
    let link = mean(&link_delays);
    println!("(a) one-way ns, Sync: {sync}");
    println!("(a) one-way ns, Pdelay_Req: {req}");
    println!("(a) one-way ns, Pdelay_Resp: {resp}");
    // Medians: the servo ignores a Sync held up in the kernel (an outlier) and meanLinkDelay
    // is the median of its window, so one 200 µs Sync must not decide the comparison.
    let true_link = (req.median + resp.median) / 2.0;
    // The servo zeroes (Sync delay - meanLinkDelay) + error, so a kernel whose Sync takes
    // longer than the mean of the two Pdelay directions leaves exactly that bias.
    let kernel_bias = link - sync.median;
    println!(
        "(a) meanLinkDelay {link:.0} ns (true (req+resp)/2 {true_link:.0}); kernel asymmetry \
         bias meanLinkDelay - Sync = {kernel_bias:.0} ns; error net of it {:.0} ns",
        d.median - kernel_bias
    );
    let s = sl.status().unwrap();
    let g = gm.status().unwrap();
    assert_eq!(s.grandmaster_id, Some(g.clock_identity.clone()));
    assert_eq!(s.steps_removed, Some(1));
    assert!(g.is_grandmaster && g.ports[0].state == "master", "{g:#?}");
    assert_eq!(s.ports[0].state, "slave");
    assert!(s.ports[0].as_capable);
    let delay = s.ports[0].mean_link_delay_ns.unwrap();
    assert!((0.0..20_000.0).contains(&delay), "link delay {delay}");
    let nrr = s.ports[0].neighbor_rate_ratio.unwrap();
    // The slave's oscillator runs 40 ppm fast and the servo took that out: the rates
    // agree, and the servo holds -40 ppm on average (one preempted Sync moves it by a few
    // ppm for a moment).
    assert!((nrr - 1.0).abs() < 2e-6, "neighborRateRatio {nrr}");
    let freq = mean(&freqs);
    println!("(a) servo frequency mean {freq:.0} ppb (oscillator +40000)");
    assert!((freq + 40_000.0).abs() < 500.0, "mean freq {freq:.0} ppb");
    assert!(d.n >= 150, "{d:?}");
    assert!(
        sync.n >= 120 && req.n >= 15 && resp.n >= 15,
        "{sync:?} {req:?} {resp:?}"
    );
    // What gptpd controls, to well under the issue's 1 us: its delay measurement matches the
    // true two-way mean, and its error is the kernel's asymmetry and nothing more.
    assert!(
        // The daemon's value is filtered over earlier exchanges too, hence not 100 ns.
        (link - true_link).abs() <= 400.0,
        "meanLinkDelay {link:.0} ns, true {true_link:.0} ns"
    );
    assert!(
        (d.median - kernel_bias).abs() <= 300.0,
        "median error {:.0} ns is not the kernel's asymmetry bias {kernel_bias:.0} ns",
        d.median
    );
    // The issue's goals, raw: software timestamps on veth still carry an asymmetry (Sync and
    // Pdelay_Req leave an idle CPU, Pdelay_Resp a busy one; see the README), a few hundred ns
    // since gptpd's send socket stays out of epoll.
    assert!(d.mean.abs() <= 1_000.0, "|mean| > 1 us: {d:?}");
    assert!(d.p95_abs <= 5_000.0, "p95 > 5 us: {d:?}");

    // The once-a-second summary line of the slave (as ptp4l's), with what it measured.
    let summaries: Vec<serde_json::Value> = sl
        .log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "gptpd::summary")
        .collect();
    assert!(summaries.len() >= 20, "{} summary lines", summaries.len());
    let last = &summaries[summaries.len() - 1]["fields"];
    assert_eq!(last["servo"], "locked", "{last}");
    assert!(
        last["samples"]
            .as_u64()
            .is_some_and(|n| (6..=10).contains(&n)),
        "{last}"
    );
    assert!(
        last["freq_ppb"]
            .as_f64()
            .is_some_and(|f| (f + 40_000.0).abs() < 2_000.0),
        "{last}"
    );
    assert!(last["delay_ns"].as_f64().is_some_and(|d| d > 0.0), "{last}");

    // The metrics endpoint (inside the slave's namespace).
    let m =
        p.b.exec(&[
            "busybox",
            "wget",
            "-q",
            "-O",
            "-",
            "http://127.0.0.1:9977/metrics",
        ])
        .unwrap();
    assert!(m.contains("gptp_offset_from_master_ns "), "{m}");
    assert!(
        m.contains(r#"gptp_port_as_capable{port="gp1",state="slave"} 1"#),
        "{m}"
    );

    // Hostile input: dropped, counted, and the slave stays locked.
    let before_bad = s.counters.malformed;
    let mut long_claim = vec![0u8; 44];
    long_claim[..4].copy_from_slice(&[0x10, 0x12, 0x01, 0x00]);
    let garbage: Vec<Vec<u8>> = vec![
        vec![0x1b; 5],
        long_claim,
        (0..90u32).map(|i| (i * 37 % 251) as u8).collect(),
        vec![0xff; 1400],
    ];
    for _ in 0..50 {
        inject(&p.a, "gp0", &garbage);
    }
    let s = sl.status().expect("slave still answers");
    assert!(s.counters.malformed >= before_bad + 100, "{:?}", s.counters);
    // The burst also takes CPU time from the daemons, which can delay a Sync into a
    // momentary unlock; what must hold is that the slave stays or is at once back in lock.
    sl.wait_for("locked after hostile input", Duration::from_secs(10), |s| {
        s.servo_state == "locked" && s.ports[0].state == "slave"
    });

    // Link down and up: the slave notices, and locks again.
    p.b.ip(&["link", "set", "gp1", "down"]).unwrap();
    sl.wait_for("link down seen", Duration::from_secs(5), |s| {
        !s.ports[0].link_up
    });
    std::thread::sleep(Duration::from_secs(4));
    p.b.ip(&["link", "set", "gp1", "up"]).unwrap();
    sl.wait_for("relock after link up", Duration::from_secs(20), |s| {
        s.ports[0].link_up && s.ports[0].state == "slave" && s.servo_state == "locked"
    });
    let e = true_error_ns(&gm, &sl).unwrap();
    assert!(e.abs() < 20_000.0, "error after relock {e} ns");

    sl.terminate();
    gm.terminate();
    assert_eq!(before, clock_state(), "a host clock was adjusted");
}

/// ptp4l's configuration for every interop run (the comparison script reads the same file).
const PTP4L_BASE: &str = include_str!("ptp4l-gptp.cfg");

fn ptp4l(ns: &Netns, dir: &Path, name: &str, extra: &str, iface: &str) -> (Spawned, PathBuf) {
    let cfg = dir.join(format!("{name}.cfg"));
    std::fs::write(&cfg, format!("{PTP4L_BASE}{extra}")).unwrap();
    let log = dir.join(format!("{name}.log"));
    let mut cmd = ns.command("ptp4l");
    cmd.args(["-f", cfg.to_str().unwrap(), "-i", iface, "-m"])
        .arg(format!("--uds_address={}", dir.join(name).display()))
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null());
    (Spawned::start(&mut cmd).unwrap(), log)
}

/// The kernel's CLOCK_REALTIME minus CLOCK_TAI, ns: where a free-running ptp4l sits
/// relative to the reference of `virtual_offset_from_host_ns`.
fn realtime_minus_tai_ns() -> f64 {
    -f64::from(clock_state().3) * 1e9
}

#[test]
fn b_ptp4l_master_gptpd_slave() {
    if !require_real("ptp4l master + gptpd slave") {
        return;
    }
    need("ptp4l", "linuxptp");
    let _g = serial();
    let before = clock_state();
    let dir = tempfile::tempdir().unwrap();
    let p = pair("gpb");
    let (_gm, gm_log) = ptp4l(&p.a, dir.path(), "ptp4l-gm", "priority1 246\n", "gp0");
    let sl = Daemon::start(
        &p.b,
        dir.path(),
        "slave",
        &["-i", "gp1", "--virtual-freq-ppb", "-25000"],
    );
    let lock = sl.wait_for("gptpd locks to ptp4l", Duration::from_secs(30), |s| {
        s.servo_state == "locked" && s.steps_removed == Some(1)
    });
    std::thread::sleep(Duration::from_secs(3));
    let host = realtime_minus_tai_ns();
    let errors = sample(15, || {
        sl.query()?
            .virtual_offset_from_host_ns
            .map(|v| v as f64 - host)
    });
    let d = dist(&errors);
    println!("(b) lock after {lock:?}; true error ns: {d}");
    let gm_text = std::fs::read_to_string(&gm_log).unwrap();
    assert!(
        sl.status()
            .unwrap()
            .grandmaster_id
            .is_some_and(|id| gm_text.contains(&id)),
        "slave follows another grandmaster:\n{gm_text}"
    );
    assert!(d.n >= 100, "{d:?}");
    // The issue's goal. What remains is the veth software-stamp asymmetry (README): ptp4l's
    // Sync leaves an idle CPU, its Pdelay_Resp a busy one.
    assert!(d.median.abs() <= 2_000.0, "|median| > 2 us: {d:?}");
    assert!(d.p95_abs <= 10_000.0, "p95 > 10 us: {d:?}");
    sl.terminate();
    assert_eq!(before, clock_state(), "a host clock was adjusted");
}

/// `master offset N` values from ptp4l's log once it has selected `gm`.
fn ptp4l_offsets(log: &str, gm: &str) -> Vec<f64> {
    let mut selected = false;
    let mut v = Vec::new();
    for line in log.lines() {
        if line.contains("selected best master clock") {
            selected = line.contains(gm);
        }
        if let (true, Some(rest)) = (selected, line.split("master offset").nth(1))
            && let Some(x) = rest.split_whitespace().next().and_then(|x| x.parse().ok())
        {
            v.push(x);
        }
    }
    v
}

#[test]
fn c_gptpd_master_ptp4l_slave() {
    if !require_real("gptpd master + ptp4l slave") {
        return;
    }
    need("ptp4l", "linuxptp");
    let _g = serial();
    let before = clock_state();
    let dir = tempfile::tempdir().unwrap();
    let p = pair("gpc");
    let gm = Daemon::start(&p.a, dir.path(), "gm", &["-i", "gp0", "--priority1", "100"]);
    let (_sl, sl_log) = ptp4l(
        &p.b,
        dir.path(),
        "ptp4l-slave",
        "priority1 248\nslaveOnly 1\nsummary_interval -3\nfreq_est_interval 0\n",
        "gp1",
    );
    let id = gm.status().unwrap().clock_identity;
    let t0 = Instant::now();
    let offsets = loop {
        let text = std::fs::read_to_string(&sl_log).unwrap();
        let v = ptp4l_offsets(&text, &id);
        if v.len() >= 30 {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(75),
            "ptp4l reported {} offsets from gptpd:\n{text}",
            v.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // The first samples come while ptp4l is still settling its filters.
    let d = dist(&offsets[5..]);
    println!("(c) ptp4l master offset ns, after {:?}: {d}", t0.elapsed());
    // The issue's goal; what ptp4l reports is the veth software-stamp asymmetry (README).
    assert!(d.median.abs() <= 2_000.0, "|median| > 2 us: {d:?}");
    assert!(d.p95_abs <= 10_000.0, "p95 > 10 us: {d:?}");
    gm.terminate();
    assert_eq!(before, clock_state(), "a host clock was adjusted");
}

#[test]
fn d_e_gptpd_relay_between_two_end_stations_and_tshark_finds_no_error() {
    if !require_real("gptpd relay") {
        return;
    }
    need("tshark", "tshark");
    let _g = serial();
    let before = clock_state();
    let dir = tempfile::tempdir().unwrap();
    let gm_ns = Netns::new("gpdg").unwrap();
    let br_ns = Netns::new("gpdr").unwrap();
    let sl_ns = Netns::new("gpds").unwrap();
    let _up = VethPair::builder()
        .a_name("gm0")
        .b_name("br0")
        .a_netns(&gm_ns)
        .b_netns(&br_ns)
        .create()
        .unwrap();
    let _down = VethPair::builder()
        .a_name("br1")
        .b_name("sl0")
        .a_netns(&br_ns)
        .b_netns(&sl_ns)
        .create()
        .unwrap();
    let caps: Vec<(Spawned, PathBuf)> = [(&br_ns, "br0"), (&br_ns, "br1")]
        .into_iter()
        .map(|(ns, dev)| {
            let file = dir.path().join(format!("{dev}.pcapng"));
            let mut c = ns.command("tshark");
            c.args(["-q", "-i", dev, "-f", "ether proto 0x88f7", "-w"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            (Spawned::start(&mut c).unwrap(), file)
        })
        .collect();
    let gm = Daemon::start(
        &gm_ns,
        dir.path(),
        "gm",
        &["-i", "gm0", "--priority1", "100"],
    );
    let br = Daemon::start(
        &br_ns,
        dir.path(),
        "relay",
        &[
            "-i",
            "br0",
            "-i",
            "br1",
            "--virtual-offset-ns",
            "200000",
            "--virtual-freq-ppb",
            "-30000",
            "--log-format",
            "json",
        ],
    );
    let sl = Daemon::start(
        &sl_ns,
        dir.path(),
        "slave",
        &[
            "-i",
            "sl0",
            "--virtual-offset-ns",
            "-500000",
            "--virtual-freq-ppb",
            "60000",
        ],
    );
    let lock = sl.wait_for(
        "end station locks through the relay",
        Duration::from_secs(25),
        |s| s.servo_state == "locked" && s.steps_removed == Some(2),
    );
    std::thread::sleep(Duration::from_secs(3));
    // 25 s, as in (a): one preempted Sync disturbs the servo for a second or two, and a short
    // window lets a single episode decide p95.
    let errors = sample(25, || true_error_ns(&gm, &sl));
    let d = dist(&errors);
    println!("(d) lock after {lock:?}; end station true error ns: {d}");
    let g = gm.status().unwrap();
    let r = br.status().unwrap();
    let s = sl.status().unwrap();
    assert_eq!(s.grandmaster_id.as_deref(), Some(g.clock_identity.as_str()));
    assert_eq!(r.grandmaster_id.as_deref(), Some(g.clock_identity.as_str()));
    let roles: Vec<&str> = r.ports.iter().map(|p| p.state.as_str()).collect();
    assert_eq!(roles, ["slave", "master"], "{r:#?}");
    assert!(r.counters.syncs_sent > 0);
    assert!(d.n >= 160, "{d:?}");
    // The issue sets no bound for the relay. Two hops carry the software-stamp bias of (a)
    // twice, and outliers of either hop reach the end station: p95 measured 1.5-10.6 us. A
    // relay that dropped its residence time (tens of us in user space) or its rate ratio
    // would move the median far past 3 us.
    assert!(d.median.abs() <= 3_000.0, "|median| > 3 us: {d:?}");
    assert!(d.p95_abs <= 20_000.0, "p95 > 20 us: {d:?}");
    let json_log = br.log_text();
    for line in json_log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("fields").is_some(), "{line}");
    }
    assert!(json_log.contains("gptpd started"), "{json_log}");
    sl.terminate();
    br.terminate();
    gm.terminate();
    assert_eq!(before, clock_state(), "a host clock was adjusted");

    // (e) every frame decodes; none is malformed or carries an expert message.
    let macs: Vec<String> = [
        (&br_ns, "br0"),
        (&br_ns, "br1"),
        (&gm_ns, "gm0"),
        (&sl_ns, "sl0"),
    ]
    .into_iter()
    .map(|(ns, dev)| {
        ns.exec(&["cat", &format!("/sys/class/net/{dev}/address")])
            .unwrap()
            .trim()
            .to_owned()
    })
    .collect();
    for (cap, file) in caps {
        // SAFETY: kill(2) on our own child: tshark finishes the file on SIGINT.
        unsafe { libc::kill(cap.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(500));
        drop(cap);
        let fields = Command::new("tshark")
            .args([
                "-r",
                file.to_str().unwrap(),
                "-T",
                "fields",
                "-e",
                "eth.src",
                "-e",
                "ptp.v2.messagetype",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&fields.stdout).into_owned();
        let mut types = std::collections::BTreeSet::new();
        let mut ours = 0;
        for line in text.lines() {
            let mut it = line.split('\t');
            let (src, ty) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            assert!(macs.iter().any(|m| m == src), "frame from {src}: {line}");
            assert!(!ty.is_empty(), "not decoded as PTP: {line}");
            types.insert(ty.to_owned());
            ours += 1;
        }
        // Sync, Pdelay_Req, Pdelay_Resp, Follow_Up, Pdelay_Resp_Follow_Up, Announce.
        for t in ["0x00", "0x02", "0x03", "0x08", "0x0a", "0x0b"] {
            assert!(
                types.contains(t),
                "{}: no message type {t} in {types:?}",
                file.display()
            );
        }
        assert!(ours > 100, "{}: only {ours} frames", file.display());
        let bad = Command::new("tshark")
            .args([
                "-r",
                file.to_str().unwrap(),
                "-Y",
                "_ws.malformed || _ws.expert",
            ])
            .output()
            .unwrap();
        let bad = String::from_utf8_lossy(&bad.stdout);
        assert!(
            bad.trim().is_empty(),
            "{}: malformed or expert:\n{bad}",
            file.display()
        );
        println!(
            "(e) {}: {ours} frames, types {types:?}, none malformed",
            file.display()
        );
    }
}

/// The send-only socket: a stamp for every event frame, matched by key even after general
/// frames were sent in between, and a bounded wait (in the runtime's epoll set) when none
/// comes: a bridge without ports drops the frame before any driver stamps it.
#[test]
fn f_send_socket_stamps_and_gives_up_in_time() {
    if !require_real("gptpd send socket") {
        return;
    }
    let _g = serial();
    let p = pair("gtx");
    p.a.ip(&["link", "add", "gtxbr0", "type", "bridge"])
        .unwrap();
    p.a.ip(&["link", "set", "gtxbr0", "up"]).unwrap();
    p.a.ip(&["link", "set", "gp0", "up"]).unwrap();
    let netns = std::fs::File::open(format!("/run/netns/{}", p.a.name())).unwrap();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd as _;
        // SAFETY: setns on a valid namespace fd, for this thread only.
        assert_eq!(
            unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let index = |dev: &str| {
            let c = std::ffi::CString::new(dev).unwrap();
            // SAFETY: a valid NUL-terminated name.
            unsafe { libc::if_nametoindex(c.as_ptr()) }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let timeout = Duration::from_millis(20);
            let frame = vec![0x12u8; 44];
            let mut tx = gptpd::net::TxSocket::open("gp0", false).unwrap();
            let gp0 = index("gp0");
            let mut last = 0i128;
            for k in 0..20 {
                // General frames (no stamp wanted) between event frames: their stamps must
                // never be taken for the event frame's.
                if k % 3 == 0 {
                    tx.send(gp0, &frame, false, timeout).await.unwrap();
                }
                let before = realtime_ns();
                let ts = tx.send(gp0, &frame, true, timeout).await.unwrap();
                let ts = ts.expect("a software stamp on veth");
                let ns = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
                assert!(
                    ns >= before && ns <= realtime_ns(),
                    "stamp {ns} not of this send"
                );
                assert!(ns > last);
                last = ns;
            }
            let mut br = gptpd::net::TxSocket::open("gtxbr0", false).unwrap();
            let t0 = Instant::now();
            let ts = br
                .send(index("gtxbr0"), &frame, true, timeout)
                .await
                .unwrap();
            let waited = t0.elapsed();
            assert_eq!(ts, None);
            assert!(
                waited >= timeout && waited < timeout * 10,
                "gave up after {waited:?}"
            );
            // The socket is usable afterwards.
            assert!(tx.send(gp0, &frame, true, timeout).await.unwrap().is_some());
        });
    })
    .join()
    .unwrap();
}
