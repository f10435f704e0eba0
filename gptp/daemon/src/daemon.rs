//! The event loop: one task owns the core and the clock; one reader task per port forwards
//! received frames with their timestamps; the status socket and the metrics endpoint ask
//! the loop for a [`Status`] through a channel.
//!
//! Per turn of the loop: take one input (a frame, the timer deadline the core asked for,
//! a status query, the link check, a signal), hand it to the core, then carry out every
//! action the core queued, in order. A Sync or Pdelay message that wants its transmit
//! timestamp waits for it (up to `tx-timestamp-timeout`, as ptp4l does) and the timestamp
//! goes straight back to the core, which then queues the Follow_Up.

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use gptp_core::servo::ServoState;
use gptp_core::wire::ClockIdentity;
use gptp_core::{Action, Event, Instance, PortRole};
use timestamped_socket::socket::Timestamp;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, trace, warn};
use tsn_clocks::{PhcClock, SystemClock};
use tsn_time::{Duration, Time};

use crate::StartError;
use crate::clock::{LocalClock, RealtimeMap, kernel_tai_offset};
use crate::config::{ClockKind, Settings, TimestampingMode};
use crate::net::{self, PtpSocket, TxSocket};
use crate::status::{CountersJson, PortStatusJson, Status};

/// A status request: the loop answers on the channel.
pub type Query = oneshot::Sender<Status>;

#[derive(Debug)]
struct Frame {
    port: usize,
    generation: u64,
    data: Vec<u8>,
    ts: Option<Timestamp>,
}

struct PortIo {
    name: String,
    ifindex: u32,
    /// Sends; the receiving socket lives in the reader task.
    tx: TxSocket,
    reader: JoinHandle<()>,
    /// Bumped when the socket is reopened, so frames of the old one are told apart.
    generation: u64,
    link_up: bool,
    rx_frames: u64,
    tx_frames: u64,
    tx_errors: u64,
    tx_timeouts: u64,
    rx_without_ts: u64,
}

impl std::fmt::Debug for PortIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortIo")
            .field("name", &self.name)
            .field("ifindex", &self.ifindex)
            .finish_non_exhaustive()
    }
}

/// Logs a kernel timestamp of an event message on target `gptpd::timestamps` (trace level, off
/// unless asked for). Several daemons on one host share the kernel clock, so pairing the TX
/// stamp of one with the RX stamp of another gives the true one-way delay of each message,
/// which is how the asymmetry of software timestamps is measured (see the README).
fn trace_stamp(port: &str, dir: &'static str, data: &[u8], ts: Timestamp) {
    if data.len() < 34 {
        return;
    }
    let msg_type = data[0] & 0x0f;
    let seq = u16::from_be_bytes([data[30], data[31]]);
    let ns = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    trace!(target: "gptpd::timestamps", port, dir, msg_type, seq, kernel_ns = %ns, "stamp");
}

/// A started daemon: sockets open, clock ready, status socket bound.
#[derive(Debug)]
pub struct Daemon {
    settings: Settings,
    identity: ClockIdentity,
    clock: LocalClock,
    hardware: bool,
    kernel_tai: i32,
    inst: Instance,
    ports: Vec<PortIo>,
    frames_tx: mpsc::Sender<Frame>,
    frames_rx: mpsc::Receiver<Frame>,
    ctl: Option<UnixListener>,
    socket_path: PathBuf,
    freq_ppb: f64,
    clock_errors: u64,
    started: Instant,
    /// Software timestamp conversion; dropped whenever the clock is stepped or re-rated.
    rt_map: Option<RealtimeMap>,
    summary: Summary,
}

/// Offsets and frequencies of the slave since the last summary line.
#[derive(Debug, Default)]
struct Summary {
    n: u32,
    sum_sq: f64,
    max_abs: f64,
    freq_sum: f64,
    outliers_at_start: u64,
}

fn spawn_reader(
    port: usize,
    generation: u64,
    name: String,
    sock: PtpSocket,
    tx: mpsc::Sender<Frame>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        loop {
            match sock.recv(&mut buf).await {
                Ok(r) => {
                    let frame = Frame {
                        port,
                        generation,
                        data: buf[..r.bytes_read.min(buf.len())].to_vec(),
                        ts: r.timestamp_data.selected_timestamp(),
                    };
                    if tx.send(frame).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // ENETDOWN and friends while the link is down: back off, never spin.
                    debug!(port = %name, "recv: {e}");
                    tokio::time::sleep(StdDuration::from_millis(200)).await;
                }
            }
        }
    })
}

fn open_clock(s: &Settings, tai_fix: Duration) -> Result<LocalClock, StartError> {
    let clock = match s.clock {
        ClockKind::Virtual => LocalClock::new_virtual(
            Duration::from_nanos(s.virtual_offset_ns),
            s.virtual_freq_ppb,
            tai_fix,
        )
        .map_err(|e| StartError::runtime(format!("virtual clock: {e}")))?,
        ClockKind::System => LocalClock::System {
            clock: SystemClock::new(),
            tai_fix,
            steer: s.steer_host_clock,
        },
        ClockKind::Phc => {
            let name = &s.interfaces[0];
            let index = net::ifname(name)?.lookup_phc().ok_or_else(|| {
                StartError::unavailable(format!(
                    "{name} has no PTP hardware clock (ethtool -T {name}); use --clock system or virtual"
                ))
            })?;
            let path = format!("/dev/ptp{index}");
            let clock = PhcClock::open(&path).map_err(|e| {
                let denied = matches!(&e, tsn_clocks::ClockError::Open { source, .. }
                    if source.kind() == std::io::ErrorKind::PermissionDenied);
                if denied {
                    StartError::privileges(format!("{e} (needs read-write access to {path})"))
                } else {
                    StartError::unavailable(e.to_string())
                }
            })?;
            LocalClock::Phc {
                clock,
                steer: s.steer_host_clock,
            }
        }
    };
    if clock.steered() && !matches!(clock, LocalClock::Virtual { .. }) {
        // Prove the privilege at start rather than at the first servo update: re-apply the
        // frequency the clock already has.
        let current = match &clock {
            LocalClock::System { clock, .. } => tsn_time::Clock::frequency_ppb(clock),
            LocalClock::Phc { clock, .. } => tsn_time::Clock::frequency_ppb(clock),
            LocalClock::Virtual { .. } => Ok(0.0),
        };
        let r = current.and_then(|f| clock.set_frequency(f));
        if let Err(e) = r {
            return Err(StartError::privileges(format!(
                "steer-host-clock is on but the clock cannot be adjusted: {e}"
            )));
        }
    }
    Ok(clock)
}

fn bind_control(path: &Path) -> Result<UnixListener, StartError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StartError::runtime(format!("cannot create {}: {e}", dir.display())))?;
    }
    if path.exists() {
        // A socket nobody answers on is left over from a crash; a live one is another daemon.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(StartError::runtime(format!(
                "{} is in use: another gptpd runs with this --socket",
                path.display()
            )));
        }
        let _ = std::fs::remove_file(path);
    }
    let l = UnixListener::bind(path).map_err(|e| {
        let msg = format!("cannot bind status socket {}: {e}", path.display());
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            StartError::privileges(msg)
        } else {
            StartError::runtime(msg)
        }
    })?;
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660));
    Ok(l)
}

impl Daemon {
    /// Checks the settings against the host and opens everything. Must run inside a tokio
    /// runtime.
    pub fn start(settings: Settings) -> Result<Self, StartError> {
        if settings.interfaces.is_empty() {
            return Err(StartError::config(
                "no interface: give -i IFACE or `interfaces:` in the file",
            ));
        }
        let mut links = Vec::new();
        for name in &settings.interfaces {
            net::ifname(name)?;
            let link = net::link_info(name).ok_or_else(|| {
                StartError::unavailable(format!("interface {name} does not exist"))
            })?;
            links.push(link);
        }
        let hardware = match settings.timestamping {
            TimestampingMode::Software => false,
            TimestampingMode::Hardware if settings.clock != ClockKind::Phc => {
                return Err(StartError::config(
                    "timestamping: hardware needs `clock: phc` (timestamps are PHC readings)",
                ));
            }
            TimestampingMode::Hardware => true,
            TimestampingMode::Auto => settings.clock == ClockKind::Phc,
        };
        let kernel_tai = kernel_tai_offset()
            .map_err(|e| StartError::runtime(format!("adjtimex (read-only): {e}")))?;
        let tai_fix = if kernel_tai == 0 {
            Duration::from_secs(i64::from(settings.current_utc_offset))
        } else {
            Duration::ZERO
        };
        let clock = open_clock(&settings, tai_fix)?;
        let (frames_tx, frames_rx) = mpsc::channel(256);
        let mut ports = Vec::new();
        for (i, (name, link)) in settings.interfaces.iter().zip(&links).enumerate() {
            let tx = TxSocket::open(name, hardware)?;
            let sock = net::open_port(name, hardware)?;
            let reader = spawn_reader(i, 0, name.clone(), sock, frames_tx.clone());
            ports.push(PortIo {
                name: name.clone(),
                ifindex: link.index,
                tx,
                reader,
                generation: 0,
                link_up: link.up,
                rx_frames: 0,
                tx_frames: 0,
                tx_errors: 0,
                tx_timeouts: 0,
                rx_without_ts: 0,
            });
        }
        let identity = ClockIdentity::from_mac(links[0].mac);
        let inst = Instance::new(settings.instance_config(identity, !hardware));
        let socket_path = settings.socket.clone();
        let ctl = bind_control(&socket_path)?;
        info!(
            clock_identity = %identity,
            ports = ?settings.interfaces,
            clock = clock.kind(),
            steered = clock.steered(),
            timestamping = if hardware { "hardware" } else { "software" },
            "gptpd started"
        );
        if kernel_tai == 0 {
            info!(
                "the kernel's TAI offset is unset (CLOCK_TAI == CLOCK_REALTIME): TAI is taken as \
                 CLOCK_REALTIME + {} s (current-utc-offset)",
                settings.current_utc_offset
            );
        }
        Ok(Self {
            settings,
            identity,
            clock,
            hardware,
            kernel_tai,
            inst,
            ports,
            frames_tx,
            frames_rx,
            ctl: Some(ctl),
            socket_path,
            freq_ppb: 0.0,
            clock_errors: 0,
            started: Instant::now(),
            rt_map: None,
            summary: Summary::default(),
        })
    }

    /// Runs until SIGTERM or SIGINT, then removes the status socket.
    pub async fn run(mut self) -> Result<(), StartError> {
        let (query_tx, mut query_rx) = mpsc::channel::<Query>(16);
        let ctl = self.ctl.take().expect("bound in start");
        let ctl_task = tokio::spawn(serve_control(ctl, query_tx.clone()));
        let metrics_task = match &self.settings.metrics {
            Some(addr) => {
                let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    StartError::runtime(format!("cannot listen for metrics on {addr}: {e}"))
                })?;
                info!(%addr, "serving Prometheus metrics");
                Some(tokio::spawn(crate::metrics::serve(l, query_tx.clone())))
            }
            None => None,
        };
        drop(query_tx);
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| StartError::runtime(format!("SIGTERM handler: {e}")))?;
        let mut int = signal(SignalKind::interrupt())
            .map_err(|e| StartError::runtime(format!("SIGINT handler: {e}")))?;
        let mut link_check = tokio::time::interval(StdDuration::from_secs(1));
        let summary_every = StdDuration::from_nanos(self.settings.summary_interval.0);
        let mut summary_tick = (!summary_every.is_zero()).then(|| {
            tokio::time::interval_at(tokio::time::Instant::now() + summary_every, summary_every)
        });
        loop {
            let sleep = self.time_to_deadline();
            tokio::select! {
                Some(f) = self.frames_rx.recv() => self.on_frame(f),
                () = tokio::time::sleep(sleep.unwrap_or(StdDuration::from_secs(3600))) => {
                    self.on_timer();
                }
                Some(q) = query_rx.recv() => { let _ = q.send(self.status()); }
                _ = link_check.tick() => self.check_links(),
                _ = async {
                    match &mut summary_tick {
                        Some(t) => t.tick().await,
                        None => std::future::pending().await,
                    }
                } => self.log_summary(),
                _ = term.recv() => { info!("SIGTERM: shutting down"); break; }
                _ = int.recv() => { info!("SIGINT: shutting down"); break; }
            }
            self.drain().await;
        }
        ctl_task.abort();
        if let Some(t) = metrics_task {
            t.abort();
        }
        for p in &self.ports {
            p.reader.abort();
        }
        let _ = std::fs::remove_file(&self.socket_path);
        Ok(())
    }

    /// One line per interval while a slave, as ptp4l's summary: rms and max |offset| as
    /// measured (outliers included), mean frequency, link delay of the slave port.
    fn log_summary(&mut self) {
        let s = std::mem::take(&mut self.summary);
        let outliers = self.inst.counters().servo_outliers;
        self.summary.outliers_at_start = outliers;
        let Some(port) = self.inst.slave_port() else {
            return;
        };
        if s.n == 0 {
            return;
        }
        let delay = self
            .inst
            .port_status(port)
            .and_then(|p| p.mean_link_delay)
            .map(Duration::nanos_f64);
        info!(
            target: "gptpd::summary",
            port = %self.ports[port].name,
            samples = s.n,
            rms_ns = (s.sum_sq / f64::from(s.n)).sqrt().round(),
            max_ns = s.max_abs.round(),
            freq_ppb = (s.freq_sum / f64::from(s.n)).round(),
            delay_ns = delay.map(f64::round),
            outliers = outliers - s.outliers_at_start,
            servo = servo_name(self.inst.servo_state()),
            "summary"
        );
    }

    fn now(&mut self) -> Option<Time> {
        match self.clock.now() {
            Ok(t) => Some(t),
            Err(e) => {
                self.clock_errors += 1;
                warn!("reading the clock: {e}");
                None
            }
        }
    }

    fn time_to_deadline(&mut self) -> Option<StdDuration> {
        let deadline = self.inst.poll_timeout()?;
        let now = self.now()?;
        Some((deadline - now).to_std().unwrap_or(StdDuration::ZERO))
    }

    fn on_timer(&mut self) {
        let Some(now) = self.now() else { return };
        // The sleep ran on the host's clock; only fire once our clock says it is time.
        if self.inst.poll_timeout().is_some_and(|d| d <= now) {
            self.inst.handle_timer(now);
        }
    }

    fn local_time(&mut self, ts: Timestamp) -> Option<Time> {
        let t = net::to_time(ts);
        if self.hardware {
            return Some(t);
        }
        if self.rt_map.is_none() {
            match self.clock.realtime_map() {
                Ok(m) => self.rt_map = Some(m),
                Err(e) => {
                    self.clock_errors += 1;
                    warn!("reading the clock: {e}");
                }
            }
        }
        self.rt_map.map(|m| m.convert(t))
    }

    fn on_frame(&mut self, f: Frame) {
        let Some(port) = self.ports.get(f.port) else {
            return;
        };
        if port.generation != f.generation {
            return;
        }
        if let Some(ts) = f.ts {
            trace_stamp(&port.name, "rx", &f.data, ts);
        }
        let ts = f.ts.and_then(|ts| self.local_time(ts));
        let port = &mut self.ports[f.port];
        port.rx_frames += 1;
        match ts {
            Some(ts) => {
                let syncs = self.inst.counters().syncs_received;
                self.inst.handle_frame(f.port, &f.data, ts);
                if self.inst.counters().syncs_received != syncs
                    && let Some(o) = self.inst.last_offset()
                {
                    let o = o.nanos_f64();
                    let s = &mut self.summary;
                    s.n += 1;
                    s.sum_sq += o * o;
                    s.max_abs = s.max_abs.max(o.abs());
                    s.freq_sum += self.freq_ppb;
                }
            }
            None => {
                port.rx_without_ts += 1;
                debug!(port = %port.name, "frame without a receive timestamp dropped");
            }
        }
    }

    async fn drain(&mut self) {
        while let Some(action) = self.inst.poll_action() {
            match action {
                Action::Send { port, data, token } => {
                    let timeout = StdDuration::from_nanos(self.settings.tx_timestamp_timeout.0);
                    let Some(p) = self.ports.get_mut(port) else {
                        continue;
                    };
                    if !p.link_up {
                        p.tx_errors += 1;
                        continue;
                    }
                    match p.tx.send(p.ifindex, &data, token.is_some(), timeout).await {
                        Ok(ts) => {
                            p.tx_frames += 1;
                            let Some(token) = token else { continue };
                            if let Some(ts) = ts {
                                trace_stamp(&p.name, "tx", &data, ts);
                            }
                            match ts.and_then(|ts| self.local_time(ts)) {
                                Some(ts) => self.inst.handle_tx_timestamp(port, token, ts),
                                None => {
                                    let p = &mut self.ports[port];
                                    p.tx_timeouts += 1;
                                    warn!(
                                        port = %p.name,
                                        "no transmit timestamp within {timeout:?} (tx-timestamp-timeout)"
                                    );
                                }
                            }
                        }
                        Err(e) => {
                            p.tx_errors += 1;
                            debug!(port = %p.name, "send: {e}");
                        }
                    }
                }
                Action::AdjustFrequency { ppb } => {
                    self.freq_ppb = ppb;
                    self.rt_map = None;
                    if let Err(e) = self.clock.set_frequency(ppb) {
                        self.clock_errors += 1;
                        warn!("frequency adjustment to {ppb:.1} ppb failed: {e}");
                    }
                }
                Action::StepClock { offset } => {
                    self.rt_map = None;
                    if self.clock.steered() {
                        info!("stepping the clock by {offset}");
                    }
                    if let Err(e) = self.clock.step(offset) {
                        self.clock_errors += 1;
                        warn!("clock step by {offset} failed: {e}");
                    }
                }
                Action::Event(e) => self.log_event(&e),
            }
        }
    }

    fn log_event(&self, e: &Event) {
        let name = |i: usize| self.ports.get(i).map_or("?", |p| p.name.as_str());
        match e {
            Event::PortRole { port, role } => {
                info!(port = name(*port), role = role_name(*role), "port role");
            }
            Event::AsCapable {
                port,
                capable: true,
            } => info!(port = name(*port), "asCapable"),
            Event::AsCapable {
                port,
                capable: false,
            } => {
                let st = self.inst.port_status(*port);
                let thresh = self.settings.port.neighbor_prop_delay_thresh.0 as f64;
                let reason = match st {
                    Some(s) if s.mean_link_delay.is_some_and(|d| d.nanos_f64() > thresh) => {
                        format!(
                            "mean link delay {:.0} ns exceeds neighbor-prop-delay-thresh {thresh} ns \
                             (software timestamps need about 100us)",
                            s.mean_link_delay.map_or(0.0, Duration::nanos_f64)
                        )
                    }
                    Some(s) if s.lost_responses > 0 => {
                        format!("{} Pdelay responses lost in a row", s.lost_responses)
                    }
                    _ => "no valid peer delay measurement".to_owned(),
                };
                warn!(port = name(*port), "not asCapable: {reason}");
            }
            Event::Grandmaster(gm) => match gm {
                Some(id) => info!(grandmaster = %id, "grandmaster selected"),
                None => info!("no grandmaster"),
            },
            Event::Servo(s) => info!(state = servo_name(*s), "servo"),
        }
    }

    fn check_links(&mut self) {
        for i in 0..self.ports.len() {
            let info = net::link_info(&self.ports[i].name);
            let p = &mut self.ports[i];
            match info {
                None => {
                    if p.link_up {
                        warn!(port = %p.name, "interface disappeared; waiting for it to come back");
                        p.link_up = false;
                    }
                }
                Some(link) => {
                    if link.index != p.ifindex {
                        // Recreated with a new ifindex: the old socket is bound to a dead one.
                        match net::open_port(&p.name, self.hardware) {
                            Ok(sock) => {
                                p.reader.abort();
                                p.generation += 1;
                                p.ifindex = link.index;
                                p.reader = spawn_reader(
                                    i,
                                    p.generation,
                                    p.name.clone(),
                                    sock,
                                    self.frames_tx.clone(),
                                );
                                info!(port = %p.name, ifindex = link.index, "interface back; socket reopened");
                            }
                            Err(e) => {
                                debug!(port = %p.name, "reopening: {e}");
                                continue;
                            }
                        }
                    }
                    if link.up != p.link_up {
                        p.link_up = link.up;
                        if link.up {
                            info!(port = %p.name, "link up");
                        } else {
                            warn!(port = %p.name, "link down");
                        }
                    }
                }
            }
        }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        let c = self.inst.counters();
        let ports = self
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let st = self.inst.port_status(i);
                PortStatusJson {
                    name: p.name.clone(),
                    state: st.map_or("disabled", |s| role_name(s.role)).to_owned(),
                    as_capable: st.is_some_and(|s| s.as_capable),
                    mean_link_delay_ns: st.and_then(|s| s.mean_link_delay).map(Duration::nanos_f64),
                    neighbor_rate_ratio: st.and_then(|s| s.neighbor_rate_ratio),
                    lost_responses: st.map_or(0, |s| s.lost_responses),
                    link_up: p.link_up,
                    rx_frames: p.rx_frames,
                    tx_frames: p.tx_frames,
                    tx_errors: p.tx_errors,
                    tx_timestamp_timeouts: p.tx_timeouts,
                    rx_without_timestamp: p.rx_without_ts,
                }
            })
            .collect();
        Status {
            clock_identity: self.identity.to_string(),
            grandmaster_id: self.inst.grandmaster().map(|g| g.to_string()),
            is_grandmaster: self.inst.is_grandmaster(),
            steps_removed: self.inst.steps_removed(),
            offset_from_master_ns: if self.inst.is_grandmaster() {
                None
            } else {
                self.inst.last_offset().map(Duration::nanos_f64)
            },
            // A clock that is not steered runs free whatever the servo computes.
            freq_adj_ppb: if self.clock.steered() {
                self.freq_ppb
            } else {
                0.0
            },
            servo_freq_ppb: self.freq_ppb,
            servo_state: if self.clock.steered() {
                servo_name(self.inst.servo_state())
            } else {
                "free-running"
            }
            .to_owned(),
            virtual_offset_from_host_ns: self
                .clock
                .virtual_offset_from_host()
                .map(Duration::nanos_rounded_i64),
            clock: self.clock.kind().to_owned(),
            clock_steered: self.clock.steered(),
            timestamping: if self.hardware {
                "hardware"
            } else {
                "software"
            }
            .to_owned(),
            kernel_tai_offset_s: self.kernel_tai,
            uptime_s: self.started.elapsed().as_secs_f64(),
            ports,
            counters: CountersJson {
                malformed: c.malformed,
                other_domain: c.other_domain,
                own_messages: c.own_messages,
                path_trace_rejected: c.path_trace_rejected,
                ignored: c.ignored,
                unmatched: c.unmatched,
                lost_responses: c.lost_responses,
                unsupported: c.unsupported,
                syncs_sent: c.syncs_sent,
                syncs_received: c.syncs_received,
                clock_errors: self.clock_errors,
                servo_outliers: c.servo_outliers,
            },
        }
    }
}

/// The role's name in status and logs.
pub fn role_name(r: PortRole) -> &'static str {
    match r {
        PortRole::Disabled => "disabled",
        PortRole::Master => "master",
        PortRole::Slave => "slave",
        PortRole::Passive => "passive",
    }
}

/// The servo state's name in status and logs.
pub fn servo_name(s: ServoState) -> &'static str {
    match s {
        ServoState::Unlocked => "unlocked",
        ServoState::Stepped => "stepped",
        ServoState::Locked => "locked",
    }
}

async fn serve_control(l: UnixListener, queries: mpsc::Sender<Query>) {
    loop {
        match l.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, queries.clone()));
            }
            Err(e) => {
                warn!("status socket accept: {e}");
                tokio::time::sleep(StdDuration::from_millis(100)).await;
            }
        }
    }
}

/// Asks the event loop for a status.
pub async fn query(queries: &mpsc::Sender<Query>) -> Option<Status> {
    let (tx, rx) = oneshot::channel();
    queries.send(tx).await.ok()?;
    rx.await.ok()
}

async fn answer(stream: UnixStream, queries: mpsc::Sender<Query>) {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    // A command is one short line: a client cannot make us buffer more.
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(r, 256));
    let read = reader.read_line(&mut line);
    if !matches!(
        tokio::time::timeout(StdDuration::from_secs(2), read).await,
        Ok(Ok(_))
    ) {
        return;
    }
    let reply = match line.trim() {
        "status" => match query(&queries).await {
            Some(s) => serde_json::to_string(&s).unwrap_or_default(),
            None => r#"{"error":"daemon shutting down"}"#.to_owned(),
        },
        other => serde_json::json!({ "error": format!("unknown command `{other}`; try `status`") })
            .to_string(),
    };
    let _ = w.write_all(reply.as_bytes()).await;
    let _ = w.write_all(b"\n").await;
}
