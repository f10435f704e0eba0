//! What `gptpctl status --json` prints. The field names of [`Status`] and [`PortStatusJson`]
//! named in the issue are a contract with scripts and tests: keep them; add freely.

use serde::{Deserialize, Serialize};

/// One port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortStatusJson {
    /// Interface name.
    pub name: String,
    /// Role: `master`, `slave`, `passive` or `disabled`.
    pub state: String,
    /// asCapable.
    pub as_capable: bool,
    /// meanLinkDelay, ns, once measured.
    pub mean_link_delay_ns: Option<f64>,
    /// neighborRateRatio, once measured.
    pub neighbor_rate_ratio: Option<f64>,
    /// Pdelay responses missing in a row.
    pub lost_responses: u32,
    /// Whether the link is up (operstate).
    pub link_up: bool,
    /// Frames received on this port.
    pub rx_frames: u64,
    /// Frames sent on this port.
    pub tx_frames: u64,
    /// Sends that failed (link down, ...).
    pub tx_errors: u64,
    /// Transmit timestamps that did not come within the timeout.
    pub tx_timestamp_timeouts: u64,
    /// Received frames without a usable timestamp (dropped).
    pub rx_without_timestamp: u64,
}

/// Input counters of the core plus the daemon's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersJson {
    /// Frames that did not parse (dropped).
    pub malformed: u64,
    /// Messages of another domain.
    pub other_domain: u64,
    /// Our own messages coming back.
    pub own_messages: u64,
    /// Announces dropped by the path trace check.
    pub path_trace_rejected: u64,
    /// Announce/Sync ignored (not asCapable, wrong role).
    pub ignored: u64,
    /// Follow_Ups or responses without a match.
    pub unmatched: u64,
    /// Pdelay responses that never came.
    pub lost_responses: u64,
    /// Message types 802.1AS does not use.
    pub unsupported: u64,
    /// Syncs sent.
    pub syncs_sent: u64,
    /// Sync/Follow_Up pairs received on the slave port.
    pub syncs_received: u64,
    /// Clock operations the kernel refused.
    pub clock_errors: u64,
    /// Syncs whose offset the servo ignored as an outlier (`servo.outlier-factor`).
    #[serde(default)]
    pub servo_outliers: u64,
}

/// The daemon's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// This system's clockIdentity.
    pub clock_identity: String,
    /// The selected grandmaster's clockIdentity.
    pub grandmaster_id: Option<String>,
    /// Whether this system is the grandmaster.
    pub is_grandmaster: bool,
    /// stepsRemoved.
    pub steps_removed: Option<u16>,
    /// Last measured offset of the local clock from the grandmaster, ns.
    pub offset_from_master_ns: Option<f64>,
    /// Frequency adjustment applied to the clock, ppb (0 when it is not steered).
    pub freq_adj_ppb: f64,
    /// Frequency adjustment the servo last asked for, ppb (also when not applied).
    pub servo_freq_ppb: f64,
    /// `unlocked`, `stepped` or `locked`; `free-running` when the clock is not steered.
    pub servo_state: String,
    /// For a virtual clock: its reading minus the host's CLOCK_TAI, ns.
    pub virtual_offset_from_host_ns: Option<i64>,
    /// `system`, `phc` or `virtual`.
    pub clock: String,
    /// Whether the servo's output is applied to the clock.
    pub clock_steered: bool,
    /// `software` or `hardware`.
    pub timestamping: String,
    /// The kernel's TAI offset (0: unset, CLOCK_TAI == CLOCK_REALTIME).
    pub kernel_tai_offset_s: i32,
    /// Seconds since start.
    pub uptime_s: f64,
    /// Ports.
    pub ports: Vec<PortStatusJson>,
    /// Counters.
    pub counters: CountersJson,
}

impl Status {
    /// The readable summary `gptpctl status` prints.
    pub fn render(&self) -> String {
        let opt =
            |v: Option<f64>, unit: &str| v.map_or("-".to_owned(), |v| format!("{v:.0} {unit}"));
        let mut s = format!(
            "clock {} ({}, {}steered, {} timestamps)\n\
             grandmaster {}{}  steps removed {}\n\
             offset {}  freq {:+.1} ppb  servo {}\n",
            self.clock_identity,
            self.clock,
            if self.clock_steered { "" } else { "not " },
            self.timestamping,
            self.grandmaster_id.as_deref().unwrap_or("none"),
            if self.is_grandmaster {
                " (this system)"
            } else {
                ""
            },
            self.steps_removed.map_or("-".to_owned(), |s| s.to_string()),
            opt(self.offset_from_master_ns, "ns"),
            self.freq_adj_ppb,
            self.servo_state,
        );
        if let Some(v) = self.virtual_offset_from_host_ns {
            s.push_str(&format!("virtual clock - host CLOCK_TAI: {v} ns\n"));
        }
        if self.kernel_tai_offset_s == 0 {
            s.push_str("kernel TAI offset unset: TAI taken as CLOCK_REALTIME + currentUtcOffset\n");
        }
        s.push_str("port       state     asCapable  link delay   neighborRateRatio  link\n");
        for p in &self.ports {
            s.push_str(&format!(
                "{:<10} {:<9} {:<10} {:<12} {:<18} {}\n",
                p.name,
                p.state,
                p.as_capable,
                opt(p.mean_link_delay_ns, "ns"),
                p.neighbor_rate_ratio
                    .map_or("-".to_owned(), |r| format!("{r:.9}")),
                if p.link_up { "up" } else { "down" },
            ));
        }
        let c = &self.counters;
        s.push_str(&format!(
            "dropped: malformed {} other-domain {} ignored {} unmatched {} lost-responses {}\n",
            c.malformed, c.other_domain, c.ignored, c.unmatched, c.lost_responses
        ));
        s.push_str(&format!(
            "syncs received {}, ignored by the servo as outliers {}\n",
            c.syncs_received, c.servo_outliers
        ));
        s
    }
}
