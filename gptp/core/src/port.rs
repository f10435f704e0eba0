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
    /// Set when the exchange finished (or a step made it useless).
    pub(crate) done: bool,
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
    }

    /// Records a finished exchange and recomputes neighborRateRatio and meanLinkDelay.
    pub(crate) fn finish_exchange(
        &mut self,
        t1: Time,
        t2: Time,
        t3: Time,
        t4: Time,
        resp: PortIdentity,
    ) {
        if self.responder != Some(resp) {
            self.history.clear();
            self.delays.clear();
            self.nrr = None;
            self.mean_link_delay = None;
            self.responder = Some(resp);
        }
        self.lost = 0;
        let window = self.cfg.pdelay_window.max(2);
        self.history.push_back((t3, t4));
        while self.history.len() > window {
            self.history.pop_front();
        }
        if let (Some(&(t3a, t4a)), Some(&(t3b, t4b))) = (self.history.front(), self.history.back())
        {
            let den = (t4b - t4a).subnanos();
            if self.history.len() >= 2 && den > 0 {
                let r = (t3b - t3a).subnanos() as f64 / den as f64;
                // A ratio beyond ±1000 ppm is a broken exchange, not an oscillator.
                if (r - 1.0).abs() < 1e-3 {
                    self.nrr = Some(r);
                }
            }
        }
        let r = self.nrr.unwrap_or(1.0);
        self.delays.push_back((t4 - t1, t3 - t2));
        while self.delays.len() > window {
            self.delays.pop_front();
        }
        let sum = self.delays.iter().fold(Duration::ZERO, |a, (round, turn)| {
            a + (scale(*round, r) - *turn) / 2
        });
        self.mean_link_delay = Some(sum / self.delays.len() as i64);
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
