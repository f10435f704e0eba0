//! Plain configuration structs of the core (no serde: the daemon converts its YAML into
//! these). Defaults follow 802.1AS-2020 and linuxptp's `gPTP.cfg` (see `reference/gptp.md`).

use crate::servo::PiConfig;
use crate::wire::{ClockAccuracy, ClockIdentity, ClockQuality, TimeSource};
use tsn_time::Duration;

/// Per-port settings (802.1AS-2020 clause 10.7 and 11.5 defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortConfig {
    /// `initialLogSyncInterval`: -3 (125 ms).
    pub log_sync_interval: i8,
    /// `initialLogPdelayReqInterval`: 0 (1 s).
    pub log_pdelay_req_interval: i8,
    /// `initialLogAnnounceInterval`: 0 (1 s).
    pub log_announce_interval: i8,
    /// `syncReceiptTimeout`, in sync intervals: 3.
    pub sync_receipt_timeout: u8,
    /// `announceReceiptTimeout`, in announce intervals: 3.
    pub announce_receipt_timeout: u8,
    /// `neighborPropDelayThresh`: 800 ns as in 802.1AS and `gPTP.cfg`. Software timestamps
    /// need far more (the reference notes use 100 µs).
    pub neighbor_prop_delay_thresh: Duration,
    /// `allowedLostResponses`: 3.
    pub allowed_lost_responses: u8,
    /// Pdelay exchanges kept to compute `neighborRateRatio` (from the first and last) and
    /// the mean link delay (the median of the window's delays). At least 2.
    pub pdelay_window: usize,
    /// Whether this port is enabled (`portEnabled` and `ptpPortEnabled`).
    pub enabled: bool,
    /// How long the port stops sending Pdelay_Req (and is not asCapable) after
    /// [`MULTIPLE_RESPONSES_LIMIT`] exchanges in a
    /// row drew responses from more than one responder: 5 minutes (802.1AS-2020 11.2.19,
    /// MDPdelayReq; 11.5.2.2 in 802.1AS-2011). A hub or a non-802.1AS bridge is between us
    /// and the peers, so no measurement on this port can be trusted.
    pub multiple_responses_halt: Duration,
    /// Largest plausible |neighborRateRatio - 1| between two successive Pdelay exchanges. A
    /// larger one means the neighbour's clock stepped (or ours did unseen): the rate
    /// window restarts. 1000 ppm: twice the worst 802.1AS oscillator pair plus servo slew.
    pub max_rate_offset: f64,
    /// Largest plausible change of the rate ratio between two successive exchanges and the
    /// window's estimate. A larger one means the neighbour stepped its clock or changed its
    /// frequency: the window restarts so the estimate follows at once instead of after
    /// [`pdelay_window`](Self::pdelay_window) exchanges. 200 ppm (a 200 µs step over a 1 s
    /// interval); keep it well above the timestamp jitter divided by the interval.
    pub max_rate_change: f64,
}

/// Consecutive Pdelay exchanges with responses from several responders after which a port
/// halts its Pdelay requests (802.1AS-2020 11.2.19, 802.1AS-2011 11.5.2.2): 3.
pub const MULTIPLE_RESPONSES_LIMIT: u32 = 3;

impl Default for PortConfig {
    fn default() -> Self {
        Self {
            log_sync_interval: -3,
            log_pdelay_req_interval: 0,
            log_announce_interval: 0,
            sync_receipt_timeout: 3,
            announce_receipt_timeout: 3,
            neighbor_prop_delay_thresh: Duration::from_nanos(800),
            allowed_lost_responses: 3,
            pdelay_window: 8,
            enabled: true,
            multiple_responses_halt: Duration::from_secs(300),
            max_rate_offset: 1e-3,
            max_rate_change: 200e-6,
        }
    }
}

impl PortConfig {
    /// Sets [`neighbor_prop_delay_thresh`](Self::neighbor_prop_delay_thresh).
    pub fn with_neighbor_prop_delay_thresh(mut self, d: Duration) -> Self {
        self.neighbor_prop_delay_thresh = d;
        self
    }
    /// Sets [`log_sync_interval`](Self::log_sync_interval).
    pub fn with_log_sync_interval(mut self, v: i8) -> Self {
        self.log_sync_interval = v;
        self
    }
}

/// Settings of one time-aware system (end station or bridge) in one gPTP domain.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// This system's clockIdentity (EUI-64, usually from a port MAC address).
    pub clock_identity: ClockIdentity,
    /// `domainNumber`: 0.
    pub domain_number: u8,
    /// `gmCapable`. A system that is not grandmaster-capable announces priority1 255 and
    /// never becomes grandmaster.
    pub gm_capable: bool,
    /// `priority1`: 248 as in `gPTP.cfg` (802.1AS-2020 8.6.2.1 gives 246 to a portable
    /// grandmaster-capable system; scenarios set it per node).
    pub priority1: u8,
    /// `priority2`: 248.
    pub priority2: u8,
    /// `clockQuality`: class 248, accuracy unknown (0xFE), variance 0x436A (802.1AS 8.6.2).
    pub clock_quality: ClockQuality,
    /// `timeSource`: internal oscillator (0xA0).
    pub time_source: TimeSource,
    /// `currentUtcOffset` announced when grandmaster: 37 s.
    pub current_utc_offset: i16,
    /// One entry per port; port `i` is portNumber `i + 1` on the wire.
    pub ports: Vec<PortConfig>,
    /// The servo settings.
    pub servo: PiConfig,
}

impl InstanceConfig {
    /// A grandmaster-capable system with `ports` ports, all defaults.
    pub fn new(clock_identity: ClockIdentity, ports: usize) -> Self {
        Self {
            clock_identity,
            domain_number: 0,
            gm_capable: true,
            priority1: 248,
            priority2: 248,
            clock_quality: ClockQuality {
                clock_class: 248,
                clock_accuracy: ClockAccuracy::UNKNOWN,
                offset_scaled_log_variance: 0x436a,
            },
            time_source: TimeSource::InternalOscillator,
            current_utc_offset: 37,
            ports: vec![PortConfig::default(); ports],
            servo: PiConfig::default(),
        }
    }
    /// Sets [`priority1`](Self::priority1).
    pub fn with_priority1(mut self, p: u8) -> Self {
        self.priority1 = p;
        self
    }
    /// Sets [`gm_capable`](Self::gm_capable).
    pub fn with_gm_capable(mut self, v: bool) -> Self {
        self.gm_capable = v;
        self
    }
    /// Applies `f` to every port's configuration.
    pub fn with_ports(mut self, f: impl Fn(PortConfig) -> PortConfig) -> Self {
        for p in &mut self.ports {
            *p = f(*p);
        }
        self
    }
}
