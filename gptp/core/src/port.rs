//! Per-port state: peer delay (initiator and responder side data), asCapable, the
//! Announce information received, timers and sequence numbers.

use std::collections::VecDeque;

use crate::bmca::PriorityVector;
use crate::config::PortConfig;
use crate::wire::{ClockIdentity, PortIdentity, TimeSource};
use tsn_time::{Duration, Time, TimeInterval};

/// The role of a port after the BMCA (802.1AS-2020 10.3.1 `portRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortRole {
    /// Disabled, or not asCapable: sends no Sync or Announce, ignores received ones.
    Disabled,
    /// Sends time (Sync, Follow_Up, Announce) downstream.
    Master,
    /// Receives time from the grandmaster.
    Slave,
    /// Better information arrives here than this system would send, but it is not the
    /// best path: neither sends nor uses time (what breaks loops in a ring).
    Passive,
}

/// A snapshot of a port for status displays and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortStatus {
    /// Role after the last BMCA run.
    pub role: PortRole,
    /// asCapable.
    pub as_capable: bool,
    /// neighborRateRatio (neighbor's frequency over ours), once measured.
    pub neighbor_rate_ratio: Option<f64>,
    /// meanLinkDelay in the neighbor's time base, once measured.
    pub mean_link_delay: Option<Duration>,
    /// Pdelay responses missing in a row.
    pub lost_responses: u32,
    /// Current logSyncInterval (`None`: stopped by Signaling).
    pub log_sync_interval: Option<i8>,
    /// Current logPdelayReqInterval (`None`: stopped by Signaling).
    pub log_pdelay_req_interval: Option<i8>,
    /// Current logAnnounceInterval (`None`: stopped by Signaling).
    pub log_announce_interval: Option<i8>,
    /// Whether Pdelay requests are halted after repeated multiple responses (see
    /// [`PortConfig::multiple_responses_halt`]).
    pub pdelay_halted: bool,
    /// computeNeighborRateRatio, as the neighbour last asked by Signaling (initially true).
    pub compute_neighbor_rate_ratio: bool,
    /// computeMeanLinkDelay, as the neighbour last asked by Signaling (initially true).
    pub compute_mean_link_delay: bool,
    /// Times the neighborRateRatio window restarted on an implausible rate.
    pub rate_window_restarts: u32,
}

/// Announce information stored for a port (802.1AS-2020 `portPriority` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnnounceInfo {
    /// As received: root, the sender's stepsRemoved, the sender's port identity.
    pub(crate) vector: PriorityVector,
    pub(crate) path: Vec<ClockIdentity>,
    pub(crate) current_utc_offset: i16,
    pub(crate) time_source: TimeSource,
}

/// An in-flight Pdelay exchange started by this port.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PdelayExchange {
    pub(crate) seq: u16,
    pub(crate) t1: Option<Time>,
    /// t2 with the Pdelay_Resp correction added, and the responder.
    pub(crate) t2: Option<(Time, PortIdentity)>,
    /// t3 with the Pdelay_Resp_Follow_Up correction added.
    pub(crate) t3: Option<Time>,
    pub(crate) t4: Option<Time>,
    /// Set when the exchange finished (or a step or a second response made it useless).
    pub(crate) done: bool,
    /// Responses came from more than one responder.
    pub(crate) multiple: bool,
}

/// A Sync waiting for its Follow_Up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingSync {
    pub(crate) seq: u16,
    pub(crate) source: PortIdentity,
    pub(crate) rx: Time,
    pub(crate) correction: TimeInterval,
}

#[derive(Debug)]
pub(crate) struct Port {
    pub(crate) cfg: PortConfig,
    pub(crate) role: PortRole,
    pub(crate) log_sync: Option<i8>,
    pub(crate) log_pdelay: Option<i8>,
    pub(crate) log_announce: Option<i8>,
    // Peer delay, initiator side.
    pub(crate) pdelay_seq: u16,
    pub(crate) pdelay: Option<PdelayExchange>,
    pub(crate) lost: u32,
    pub(crate) responder: Option<PortIdentity>,
    /// (t3 with correction, t4) of finished exchanges, oldest first.
    pub(crate) history: VecDeque<(Time, Time)>,
    /// (t4 - t1, t3 - t2) of finished exchanges: the delay is recomputed with the current
    /// neighborRateRatio, so early exchanges measured before it was known do not bias it.
    pub(crate) delays: VecDeque<(Duration, Duration)>,
    pub(crate) nrr: Option<f64>,
    pub(crate) mean_link_delay: Option<Duration>,
    pub(crate) as_capable: bool,
    /// computeNeighborRateRatio and computeMeanLinkDelay, set by the flags of a received
    /// message interval request TLV (802.1AS-2020 LinkDelayIntervalSetting).
    pub(crate) compute_nrr: bool,
    pub(crate) compute_mld: bool,
    pub(crate) rate_restarts: u32,
    /// Exchanges in a row that drew responses from more than one responder.
    pub(crate) multiple_run: u32,
    /// Pdelay requests halted until then after `multiple_run` reached the limit.
    pub(crate) pdelay_halted_until: Option<Time>,
    // BMCA.
    pub(crate) info: Option<AnnounceInfo>,
    pub(crate) announce_timeout: Option<Time>,
    pub(crate) sync_timeout: Option<Time>,
    // Transmission.
    pub(crate) next_pdelay: Option<Time>,
    pub(crate) next_announce: Option<Time>,
    pub(crate) next_sync: Option<Time>,
    pub(crate) sync_seq: u16,
    pub(crate) announce_seq: u16,
    pub(crate) signaling_seq: u16,
    pub(crate) pending_sync: Option<PendingSync>,
    /// When this master port last sent a Sync (relay rate limit, 802.1AS-2020 10.2.12).
    pub(crate) last_sync_sent: Option<Time>,
}

impl Port {
    pub(crate) fn new(cfg: PortConfig) -> Self {
        Self {
            cfg,
            role: PortRole::Disabled,
            log_sync: Some(cfg.log_sync_interval),
            log_pdelay: Some(cfg.log_pdelay_req_interval),
            log_announce: Some(cfg.log_announce_interval),
            pdelay_seq: 0,
            pdelay: None,
            lost: 0,
            responder: None,
            history: VecDeque::new(),
            delays: VecDeque::new(),
            nrr: None,
            mean_link_delay: None,
            as_capable: false,
            compute_nrr: true,
            compute_mld: true,
            rate_restarts: 0,
            multiple_run: 0,
            pdelay_halted_until: None,
            info: None,
            announce_timeout: None,
            sync_timeout: None,
            next_pdelay: None,
            next_announce: None,
            next_sync: None,
            sync_seq: 0,
            announce_seq: 0,
            signaling_seq: 0,
            pending_sync: None,
            last_sync_sent: None,
        }
    }

    pub(crate) fn status(&self) -> PortStatus {
        PortStatus {
            role: self.role,
            as_capable: self.as_capable,
            neighbor_rate_ratio: self.nrr,
            mean_link_delay: self.mean_link_delay,
            lost_responses: self.lost,
            log_sync_interval: self.log_sync,
            log_pdelay_req_interval: self.log_pdelay,
            log_announce_interval: self.log_announce,
            pdelay_halted: self.pdelay_halted_until.is_some(),
            compute_neighbor_rate_ratio: self.compute_nrr,
            compute_mean_link_delay: self.compute_mld,
            rate_window_restarts: self.rate_restarts,
        }
    }

    /// Whether the asCapable conditions hold (802.1AS-2020 11.2.13 and linuxptp's
    /// `port_capable`).
    pub(crate) fn compute_as_capable(&self) -> bool {
        self.cfg.enabled
            && self.nrr.is_some()
            && self
                .mean_link_delay
                .is_some_and(|d| d <= self.cfg.neighbor_prop_delay_thresh)
            && self.lost <= u32::from(self.cfg.allowed_lost_responses)
            && self.pdelay_halted_until.is_none()
    }

    /// Forgets the link measurements (new responder, or Pdelay halted).
    pub(crate) fn reset_measurement(&mut self) {
        self.history.clear();
        self.delays.clear();
        self.nrr = None;
        self.mean_link_delay = None;
        self.responder = None;
    }

    /// Records a finished exchange and recomputes neighborRateRatio and meanLinkDelay
    /// (each only while the neighbour has not asked us to stop computing it).
    pub(crate) fn finish_exchange(
        &mut self,
        t1: Time,
        t2: Time,
        t3: Time,
        t4: Time,
        resp: PortIdentity,
    ) {
        if self.responder != Some(resp) {
            self.reset_measurement();
            self.responder = Some(resp);
        }
        self.lost = 0;
        let window = self.cfg.pdelay_window.max(2);
        if self.compute_nrr && self.rate_jumped(t3, t4) {
            // The neighbour's clock stepped or its rate changed (or ours did, unseen): the
            // window straddles it, so start again from this exchange. Its delay sample may
            // straddle the step too: drop it and keep the last meanLinkDelay until the next
            // exchange, so asCapable does not flap.
            self.rate_restarts += 1;
            self.history.clear();
            self.history.push_back((t3, t4));
            self.delays.clear();
            return;
        }
        if self.compute_nrr {
            self.history.push_back((t3, t4));
            while self.history.len() > window {
                self.history.pop_front();
            }
            if let (Some(&(t3a, t4a)), Some(&(t3b, t4b))) =
                (self.history.front(), self.history.back())
            {
                let den = (t4b - t4a).subnanos();
                if self.history.len() >= 2 && den > 0 {
                    self.nrr = Some((t3b - t3a).subnanos() as f64 / den as f64);
                }
            }
        }
        if !self.compute_mld {
            return;
        }
        let r = self.nrr.unwrap_or(1.0);
        self.delays.push_back((t4 - t1, t3 - t2));
        while self.delays.len() > window {
            self.delays.pop_front();
        }
        // The median of the window, as ptp4l's default moving-median delay filter: with
        // software timestamps one exchange in a few dozen is held up in the kernel by 10 µs or
        // more, and a mean would carry that into every Sync for a whole window.
        let mut d: Vec<Duration> = self
            .delays
            .iter()
            .map(|(round, turn)| (scale(*round, r) - *turn) / 2)
            .collect();
        d.sort_unstable();
        let n = d.len();
        self.mean_link_delay = Some(if n % 2 == 1 {
            d[n / 2]
        } else {
            (d[n / 2 - 1] + d[n / 2]) / 2
        });
    }

    /// Whether the rate from the newest stored exchange to (`t3`, `t4`) is implausible, or
    /// far from the current estimate.
    fn rate_jumped(&self, t3: Time, t4: Time) -> bool {
        let Some(&(t3p, t4p)) = self.history.back() else {
            return false;
        };
        let den = (t4 - t4p).subnanos();
        if den <= 0 {
            return true;
        }
        let r = (t3 - t3p).subnanos() as f64 / den as f64;
        // Compared with the estimate only once the window has made one since a restart.
        (r - 1.0).abs() > self.cfg.max_rate_offset
            || (self.history.len() >= 2
                && self
                    .nrr
                    .is_some_and(|n| (r - n).abs() > self.cfg.max_rate_change))
    }

    /// Moves every stored local-clock reading by `step` after the clock was stepped, and
    /// abandons the exchange in flight (its t1 or t4 may straddle the step).
    pub(crate) fn shift(&mut self, step: Duration) {
        for t in [
            &mut self.announce_timeout,
            &mut self.sync_timeout,
            &mut self.next_pdelay,
            &mut self.next_announce,
            &mut self.next_sync,
        ]
        .into_iter()
        .flatten()
        {
            *t += step;
        }
        for (_, t4) in &mut self.history {
            *t4 += step;
        }
        if let Some(p) = &mut self.pdelay {
            p.done = true;
        }
        if let Some(s) = &mut self.pending_sync {
            s.rx += step;
        }
        if let Some(t) = &mut self.last_sync_sent {
            *t += step;
        }
        if let Some(t) = &mut self.pdelay_halted_until {
            *t += step;
        }
    }

    pub(crate) fn deadlines(&self) -> impl Iterator<Item = Time> + '_ {
        [
            self.announce_timeout,
            self.sync_timeout,
            self.next_pdelay,
            self.next_announce,
            self.next_sync,
        ]
        .into_iter()
        .flatten()
    }
}

/// `d * r`, computed as `d + d * (r - 1)` so long spans keep their 2^-16 ns precision.
pub(crate) fn scale(d: Duration, r: f64) -> Duration {
    d + Duration::from_subnanos((d.subnanos() as f64 * (r - 1.0)).round() as i128)
}

/// `d / r`.
pub(crate) fn unscale(d: Duration, r: f64) -> Duration {
    scale(d, 1.0 / r)
}
