//! gptpd's configuration: a YAML file (every key optional, defaults from 802.1AS and
//! linuxptp's `gPTP.cfg`), then command-line options, which win over the file.
//!
//! Errors in the file name its path, line and column (through `tsn-config`); errors in a
//! command-line value name the option.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use gptp_core::servo::PiConfig;
use gptp_core::wire::ClockIdentity;
use gptp_core::{InstanceConfig, PortConfig};
use serde::{Deserialize, Serialize};
use tsn_config::{ConfigError, DurationNs, Issue, Validate, YamlPath};
use tsn_time::Duration;

/// Which clock the daemon reads and (maybe) steers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// The system clock (CLOCK_TAI / CLOCK_REALTIME). Steered only with `steer-host-clock`.
    System,
    /// The PTP hardware clock of the (first) interface. Steered only with `steer-host-clock`.
    Phc,
    /// A clock of the daemon's own on top of the host's monotonic clock; always steered,
    /// never touches a host clock.
    Virtual,
}

/// How frames are timestamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TimestampingMode {
    /// Hardware when the interface has a PHC and accepts SIOCSHWTSTAMP, else software.
    Auto,
    /// Kernel software timestamps (CLOCK_REALTIME).
    Software,
    /// NIC hardware timestamps (fails at start if the NIC cannot).
    Hardware,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

/// Per-port protocol settings (the same for every port).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PortSettings {
    /// initialLogSyncInterval.
    pub log_sync_interval: i8,
    /// initialLogPdelayReqInterval.
    pub log_pdelay_req_interval: i8,
    /// initialLogAnnounceInterval.
    pub log_announce_interval: i8,
    /// syncReceiptTimeout, in sync intervals.
    pub sync_receipt_timeout: u8,
    /// announceReceiptTimeout, in announce intervals.
    pub announce_receipt_timeout: u8,
    /// neighborPropDelayThresh (800 ns in 802.1AS; software timestamps need ~100 µs).
    pub neighbor_prop_delay_thresh: DurationNs,
    /// allowedLostResponses.
    pub allowed_lost_responses: u8,
}

impl Default for PortSettings {
    fn default() -> Self {
        let d = PortConfig::default();
        Self {
            log_sync_interval: d.log_sync_interval,
            log_pdelay_req_interval: d.log_pdelay_req_interval,
            log_announce_interval: d.log_announce_interval,
            sync_receipt_timeout: d.sync_receipt_timeout,
            announce_receipt_timeout: d.announce_receipt_timeout,
            neighbor_prop_delay_thresh: DurationNs(800),
            allowed_lost_responses: d.allowed_lost_responses,
        }
    }
}

/// PI servo settings (see `gptp_core::servo::PiConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ServoSettings {
    /// Proportional scale.
    pub kp_scale: f64,
    /// Integral scale.
    pub ki_scale: f64,
    /// Step on the first estimate if |offset| exceeds this (0: never).
    pub first_step_threshold: DurationNs,
    /// Step later if |offset| exceeds this (0: never).
    pub step_threshold: DurationNs,
    /// Locked when |offset| stays under this for `lock-samples` samples. Unset: 100 ns with
    /// hardware timestamps, 4 µs with software timestamps.
    pub lock_threshold: Option<DurationNs>,
    /// Unlocked again above this. Unset: 1 µs (hardware), 20 µs (software).
    pub unlock_threshold: Option<DurationNs>,
    /// Samples under the lock threshold that make the servo locked.
    pub lock_samples: u32,
    /// Largest frequency adjustment, ppb.
    pub max_frequency_ppb: f64,
    /// While locked, ignore a sample whose |offset| exceeds this many times the recent mean
    /// |offset| and the lock threshold (a Sync delayed in the kernel). 0: off.
    pub outlier_factor: f64,
    /// Outliers ignored in a row before a sample is used whatever its size.
    pub max_outliers: u32,
}

impl Default for ServoSettings {
    fn default() -> Self {
        let d = PiConfig::default();
        Self {
            kp_scale: d.kp_scale,
            ki_scale: d.ki_scale,
            first_step_threshold: DurationNs(d.first_step_threshold.nanos_rounded_i64() as u64),
            step_threshold: DurationNs(d.step_threshold.nanos_rounded_i64() as u64),
            lock_threshold: None,
            unlock_threshold: None,
            lock_samples: d.lock_samples,
            max_frequency_ppb: d.max_frequency_ppb,
            outlier_factor: d.outlier_factor,
            max_outliers: d.max_outliers,
        }
    }
}

/// Everything gptpd can be told, as the YAML file spells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Settings {
    /// Interfaces, one gPTP port each (two or more make a time-aware relay).
    pub interfaces: Vec<String>,
    /// domainNumber.
    pub domain: u8,
    /// priority1 (255: never grandmaster).
    pub priority1: u8,
    /// priority2.
    pub priority2: u8,
    /// gmCapable.
    pub gm_capable: bool,
    /// currentUtcOffset (TAI - UTC, seconds) announced as grandmaster, and used as the TAI
    /// offset of the system clock when the kernel's is unset.
    pub current_utc_offset: i16,
    /// Which clock to run.
    pub clock: ClockKind,
    /// Whether the servo may steer a host clock (system or PHC). Off: the daemon measures
    /// and reports but never adjusts it (like ptp4l's `free_running`).
    pub steer_host_clock: bool,
    /// Virtual clock: start at host TAI plus this, ns.
    pub virtual_offset_ns: i64,
    /// Virtual clock: run this much fast, ppb (a modelled oscillator error).
    pub virtual_freq_ppb: f64,
    /// Timestamping.
    pub timestamping: TimestampingMode,
    /// How long to wait for a transmit timestamp.
    pub tx_timestamp_timeout: DurationNs,
    /// Status socket path (for gptpctl).
    pub socket: PathBuf,
    /// Prometheus metrics listen address (`127.0.0.1:9977`); unset: no endpoint.
    pub metrics: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`info`, `debug`, `gptpd=trace`, ...).
    pub log_level: String,
    /// A slave logs its offset and frequency statistics this often (`1s`; 0: never), like
    /// ptp4l's summary lines.
    pub summary_interval: DurationNs,
    /// Port settings.
    pub port: PortSettings,
    /// Servo settings.
    pub servo: ServoSettings,
}

/// Default status socket.
pub const DEFAULT_SOCKET: &str = "/run/gptpd/gptpd.sock";

impl Default for Settings {
    fn default() -> Self {
        Self {
            interfaces: Vec::new(),
            domain: 0,
            priority1: 248,
            priority2: 248,
            gm_capable: true,
            current_utc_offset: 37,
            clock: ClockKind::System,
            steer_host_clock: false,
            virtual_offset_ns: 0,
            virtual_freq_ppb: 0.0,
            timestamping: TimestampingMode::Auto,
            tx_timestamp_timeout: DurationNs(10_000_000),
            socket: PathBuf::from(DEFAULT_SOCKET),
            metrics: None,
            log_format: LogFormat::Human,
            log_level: "info".to_owned(),
            summary_interval: DurationNs(1_000_000_000),
            port: PortSettings::default(),
            servo: ServoSettings::default(),
        }
    }
}

fn key(path: &str) -> YamlPath {
    path.split('.').fold(YamlPath::root(), |p, k| p.key(k))
}

impl Validate for Settings {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        for (i, name) in self.interfaces.iter().enumerate() {
            if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(['/', ' ']) {
                issues.push(Issue::new(
                    YamlPath::root().key("interfaces").index(i),
                    format!("`{name}` is not an interface name (1-15 characters, no '/' or space)"),
                ));
            }
            if self.interfaces[..i].contains(name) {
                issues.push(Issue::new(
                    YamlPath::root().key("interfaces").index(i),
                    format!("`{name}` is listed twice"),
                ));
            }
        }
        if !(self.virtual_freq_ppb.is_finite()
            && self.virtual_freq_ppb.abs() <= tsn_clocks::VIRTUAL_MAX_PPB)
        {
            issues.push(Issue::new(
                key("virtual-freq-ppb"),
                format!(
                    "must be within +-{} ppb",
                    tsn_clocks::VIRTUAL_MAX_PPB as i64
                ),
            ));
        }
        if self.clock != ClockKind::Virtual
            && (self.virtual_offset_ns != 0 || self.virtual_freq_ppb != 0.0)
        {
            issues.push(Issue::new(
                key("clock"),
                "virtual-offset-ns and virtual-freq-ppb need `clock: virtual`",
            ));
        }
        let sum = self.summary_interval.as_nanos();
        if sum != 0 && !(100_000_000..=3_600_000_000_000).contains(&sum) {
            issues.push(Issue::new(
                key("summary-interval"),
                "must be 0 (off) or between 100ms and 1h",
            ));
        }
        let tx = self.tx_timestamp_timeout.as_nanos();
        if !(100_000..=1_000_000_000).contains(&tx) {
            issues.push(Issue::new(
                key("tx-timestamp-timeout"),
                "must be between 100us and 1s",
            ));
        }
        for (name, v) in [
            ("port.log-sync-interval", self.port.log_sync_interval),
            (
                "port.log-pdelay-req-interval",
                self.port.log_pdelay_req_interval,
            ),
            (
                "port.log-announce-interval",
                self.port.log_announce_interval,
            ),
        ] {
            if !(-7..=4).contains(&v) {
                issues.push(Issue::new(
                    key(name),
                    format!("{v} is outside -7..=4 (2^-7 s to 16 s)"),
                ));
            }
        }
        for (name, v) in [
            ("port.sync-receipt-timeout", self.port.sync_receipt_timeout),
            (
                "port.announce-receipt-timeout",
                self.port.announce_receipt_timeout,
            ),
        ] {
            if v == 0 {
                issues.push(Issue::new(key(name), "must be at least 1"));
            }
        }
        if self.port.neighbor_prop_delay_thresh.as_nanos() == 0 {
            issues.push(Issue::new(
                key("port.neighbor-prop-delay-thresh"),
                "must be > 0 (800ns in 802.1AS; 100us for software timestamps)",
            ));
        }
        for (name, v) in [
            ("servo.kp-scale", self.servo.kp_scale),
            ("servo.ki-scale", self.servo.ki_scale),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 10.0) {
                issues.push(Issue::new(key(name), "must be in (0, 10]"));
            }
        }
        if !(self.servo.max_frequency_ppb.is_finite()
            && self.servo.max_frequency_ppb > 0.0
            && self.servo.max_frequency_ppb <= 10_000_000.0)
        {
            issues.push(Issue::new(
                key("servo.max-frequency-ppb"),
                "must be in (0, 10000000]",
            ));
        }
        if !(self.servo.outlier_factor == 0.0
            || (self.servo.outlier_factor.is_finite() && self.servo.outlier_factor >= 2.0))
        {
            issues.push(Issue::new(
                key("servo.outlier-factor"),
                "must be 0 (off) or a finite number of at least 2",
            ));
        }
        if self.servo.lock_samples == 0 {
            issues.push(Issue::new(key("servo.lock-samples"), "must be at least 1"));
        }
        if let Some(m) = &self.metrics
            && m.parse::<std::net::SocketAddr>().is_err()
        {
            issues.push(Issue::new(
                key("metrics"),
                format!("`{m}` is not an address:port such as 127.0.0.1:9977"),
            ));
        }
        if self
            .log_level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            issues.push(Issue::new(
                key("log-level"),
                format!(
                    "`{}` is not a log filter (error, warn, info, debug, trace, gptpd=debug)",
                    self.log_level
                ),
            ));
        }
        issues
    }
}

/// Command-line options: one per configuration key; given ones override the file.
#[derive(Debug, Default, Args)]
pub struct Overrides {
    /// Interface to run a gPTP port on (repeat for a relay). Replaces the file's list.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// domainNumber.
    #[arg(long)]
    pub domain: Option<u8>,
    /// priority1 (lower wins the BMCA; 255 never becomes grandmaster).
    #[arg(long)]
    pub priority1: Option<u8>,
    /// priority2.
    #[arg(long)]
    pub priority2: Option<u8>,
    /// gmCapable.
    #[arg(long)]
    pub gm_capable: Option<bool>,
    /// currentUtcOffset (TAI - UTC) in seconds.
    #[arg(long)]
    pub current_utc_offset: Option<i16>,
    /// Clock to run.
    #[arg(long, value_enum)]
    pub clock: Option<ClockKind>,
    /// Allow the servo to steer the system clock or PHC.
    #[arg(long)]
    pub steer_host_clock: Option<bool>,
    /// Virtual clock start offset from host TAI, ns.
    #[arg(long, allow_hyphen_values = true)]
    pub virtual_offset_ns: Option<i64>,
    /// Virtual clock frequency error, ppb.
    #[arg(long, allow_hyphen_values = true)]
    pub virtual_freq_ppb: Option<f64>,
    /// Timestamping mode.
    #[arg(long, value_enum)]
    pub timestamping: Option<TimestampingMode>,
    /// Transmit timestamp timeout (`10ms`).
    #[arg(long)]
    pub tx_timestamp_timeout: Option<DurationNs>,
    /// How often a slave logs its offset summary (`1s`, 0: never).
    #[arg(long)]
    pub summary_interval: Option<DurationNs>,
    /// Status socket path (gptpctl --socket takes the same).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9977`).
    #[arg(long)]
    pub metrics: Option<String>,
    /// Log format.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter (`info`, `debug`, ...; RUST_LOG syntax).
    #[arg(long)]
    pub log_level: Option<String>,
    /// port.log-sync-interval.
    #[arg(long, allow_hyphen_values = true)]
    pub log_sync_interval: Option<i8>,
    /// port.log-pdelay-req-interval.
    #[arg(long, allow_hyphen_values = true)]
    pub log_pdelay_req_interval: Option<i8>,
    /// port.log-announce-interval.
    #[arg(long, allow_hyphen_values = true)]
    pub log_announce_interval: Option<i8>,
    /// port.sync-receipt-timeout.
    #[arg(long)]
    pub sync_receipt_timeout: Option<u8>,
    /// port.announce-receipt-timeout.
    #[arg(long)]
    pub announce_receipt_timeout: Option<u8>,
    /// port.neighbor-prop-delay-thresh (`800ns`, `100us`).
    #[arg(long)]
    pub neighbor_prop_delay_thresh: Option<DurationNs>,
    /// port.allowed-lost-responses.
    #[arg(long)]
    pub allowed_lost_responses: Option<u8>,
    /// servo.kp-scale.
    #[arg(long)]
    pub kp_scale: Option<f64>,
    /// servo.ki-scale.
    #[arg(long)]
    pub ki_scale: Option<f64>,
    /// servo.first-step-threshold.
    #[arg(long)]
    pub first_step_threshold: Option<DurationNs>,
    /// servo.step-threshold.
    #[arg(long)]
    pub step_threshold: Option<DurationNs>,
    /// servo.lock-threshold.
    #[arg(long)]
    pub lock_threshold: Option<DurationNs>,
    /// servo.unlock-threshold.
    #[arg(long)]
    pub unlock_threshold: Option<DurationNs>,
    /// servo.lock-samples.
    #[arg(long)]
    pub lock_samples: Option<u32>,
    /// servo.max-frequency-ppb.
    #[arg(long)]
    pub max_frequency_ppb: Option<f64>,
    /// servo.outlier-factor.
    #[arg(long)]
    pub outlier_factor: Option<f64>,
    /// servo.max-outliers.
    #[arg(long)]
    pub max_outliers: Option<u32>,
}

macro_rules! set {
    ($($src:expr => $dst:expr),* $(,)?) => {
        $( if let Some(v) = $src.clone() { $dst = v.into(); } )*
    };
}

impl Overrides {
    /// Writes every given option over `s`.
    pub fn apply(&self, s: &mut Settings) {
        if !self.interfaces.is_empty() {
            s.interfaces.clone_from(&self.interfaces);
        }
        set!(
            self.domain => s.domain,
            self.priority1 => s.priority1,
            self.priority2 => s.priority2,
            self.gm_capable => s.gm_capable,
            self.current_utc_offset => s.current_utc_offset,
            self.clock => s.clock,
            self.steer_host_clock => s.steer_host_clock,
            self.virtual_offset_ns => s.virtual_offset_ns,
            self.virtual_freq_ppb => s.virtual_freq_ppb,
            self.timestamping => s.timestamping,
            self.tx_timestamp_timeout => s.tx_timestamp_timeout,
            self.summary_interval => s.summary_interval,
            self.socket => s.socket,
            self.log_format => s.log_format,
            self.log_level => s.log_level,
            self.log_sync_interval => s.port.log_sync_interval,
            self.log_pdelay_req_interval => s.port.log_pdelay_req_interval,
            self.log_announce_interval => s.port.log_announce_interval,
            self.sync_receipt_timeout => s.port.sync_receipt_timeout,
            self.announce_receipt_timeout => s.port.announce_receipt_timeout,
            self.neighbor_prop_delay_thresh => s.port.neighbor_prop_delay_thresh,
            self.allowed_lost_responses => s.port.allowed_lost_responses,
            self.kp_scale => s.servo.kp_scale,
            self.ki_scale => s.servo.ki_scale,
            self.first_step_threshold => s.servo.first_step_threshold,
            self.step_threshold => s.servo.step_threshold,
            self.lock_samples => s.servo.lock_samples,
            self.max_frequency_ppb => s.servo.max_frequency_ppb,
            self.outlier_factor => s.servo.outlier_factor,
            self.max_outliers => s.servo.max_outliers,
        );
        if let Some(m) = &self.metrics {
            s.metrics = Some(m.clone());
        }
        if let Some(v) = self.lock_threshold {
            s.servo.lock_threshold = Some(v);
        }
        if let Some(v) = self.unlock_threshold {
            s.servo.unlock_threshold = Some(v);
        }
    }
}

/// Parses and validates a configuration file's text.
pub fn parse(text: &str, source_name: &str) -> Result<Settings, ConfigError> {
    tsn_config::from_str_validated(text, source_name)
}

/// Validates settings that did not come from a file (or were overridden on the command line):
/// each problem as `option: message`.
pub fn check(s: &Settings) -> Result<(), String> {
    let issues = s.validate();
    if issues.is_empty() {
        return Ok(());
    }
    Err(issues
        .iter()
        .map(|i| format!("{}: {}", i.path, i.message))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn dur(d: DurationNs) -> Duration {
    Duration::from_nanos(d.as_nanos() as i64)
}

impl Settings {
    /// The core's configuration for this system, `software` telling the servo thresholds.
    pub fn instance_config(&self, clock_identity: ClockIdentity, software: bool) -> InstanceConfig {
        let p = &self.port;
        let port = PortConfig {
            log_sync_interval: p.log_sync_interval,
            log_pdelay_req_interval: p.log_pdelay_req_interval,
            log_announce_interval: p.log_announce_interval,
            sync_receipt_timeout: p.sync_receipt_timeout,
            announce_receipt_timeout: p.announce_receipt_timeout,
            neighbor_prop_delay_thresh: dur(p.neighbor_prop_delay_thresh),
            allowed_lost_responses: p.allowed_lost_responses,
            ..PortConfig::default()
        };
        let s = &self.servo;
        let (lock, unlock) = if software {
            (4_000, 20_000)
        } else {
            (100, 1_000)
        };
        let servo = PiConfig {
            kp_scale: s.kp_scale,
            ki_scale: s.ki_scale,
            first_step_threshold: dur(s.first_step_threshold),
            step_threshold: dur(s.step_threshold),
            max_frequency_ppb: s.max_frequency_ppb,
            lock_threshold: dur(s.lock_threshold.unwrap_or(DurationNs(lock))),
            lock_samples: s.lock_samples,
            unlock_threshold: dur(s.unlock_threshold.unwrap_or(DurationNs(unlock))),
            outlier_factor: s.outlier_factor,
            max_outliers: s.max_outliers,
        };
        let mut cfg = InstanceConfig::new(clock_identity, self.interfaces.len())
            .with_priority1(self.priority1)
            .with_gm_capable(self.gm_capable)
            .with_ports(|_| port);
        cfg.domain_number = self.domain;
        cfg.priority2 = self.priority2;
        cfg.current_utc_offset = self.current_utc_offset;
        cfg.servo = servo;
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_802_1as_defaults() {
        let s = parse("{}\n", "empty.yaml").unwrap();
        assert_eq!(s, Settings::default());
        let c = s.instance_config(ClockIdentity::from_mac([2, 0, 0, 0, 0, 1]), false);
        assert_eq!(c.priority1, 248);
        assert_eq!(c.ports.len(), 0);
        let d = PortConfig::default();
        assert_eq!(s.port.log_sync_interval, d.log_sync_interval);
        assert_eq!(s.port.neighbor_prop_delay_thresh, DurationNs(800));
        assert_eq!(c.servo.lock_threshold, Duration::from_nanos(100));
    }

    #[test]
    fn errors_name_the_path_and_line() {
        let text = "interfaces: [eth0]\nport:\n  log-sync-interval: 9\n  neighbor-prop-delay-thresh: 0\nservo:\n  kp-scale: -1\n";
        let e = parse(text, "bad.yaml").unwrap_err();
        let lines: Vec<_> = e
            .problems()
            .iter()
            .map(|p| (p.path.as_str(), p.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("port.log-sync-interval", 3),
                ("port.neighbor-prop-delay-thresh", 4),
                ("servo.kp-scale", 6)
            ]
        );
        let e = parse("interfaces: [eth0]\nprioity1: 3\n", "typo.yaml").unwrap_err();
        assert_eq!(e.problems()[0].line, 2);
        assert!(e.problems()[0].message.contains("unknown field"), "{e}");
    }

    #[test]
    fn command_line_wins_over_the_file() {
        let mut s = parse(
            "interfaces: [a, b]\npriority1: 10\nport:\n  log-sync-interval: -2\n",
            "f.yaml",
        )
        .unwrap();
        let o = Overrides {
            interfaces: vec!["c".into()],
            priority1: Some(7),
            neighbor_prop_delay_thresh: Some("100us".parse().unwrap()),
            ..Overrides::default()
        };
        o.apply(&mut s);
        assert_eq!(s.interfaces, ["c"]);
        assert_eq!(s.priority1, 7);
        assert_eq!(s.port.log_sync_interval, -2);
        assert_eq!(s.port.neighbor_prop_delay_thresh, DurationNs(100_000));
        let o = Overrides {
            virtual_offset_ns: Some(5),
            ..Overrides::default()
        };
        o.apply(&mut s);
        let e = check(&s).unwrap_err();
        assert!(e.starts_with("clock: "), "{e}");
    }
}
