//! The model of a node's local clock (its oscillator and timestamping unit).

use crate::rng::SimRng;
use tsn_time::{Duration, Time, VirtualTimescale};

/// How a node's local clock relates to the simulator's global time.
///
/// The local clock is piecewise linear in global time: between changes its reading is
/// `base + (t - t_base) * (1 + f)` ([`VirtualTimescale`]), with the effective frequency
/// offset `f = (1 + osc) * (1 + servo) - 1`:
///
/// - `osc` is the oscillator's error: `freq_error_ppm` at the start, then changed every
///   `drift_interval` of global time by `aging_ppb_per_s * interval` (linear aging) plus a
///   gaussian step of standard deviation `random_walk_ppb * sqrt(interval / 1 s)`
///   (a frequency random walk). Both may be combined; with both at zero there are no drift
///   events at all.
/// - `servo` is what the node itself set through
///   [`Ctx::adjust_frequency`](crate::Ctx::adjust_frequency), clamped to
///   `±max_adjust_ppb`; [`Ctx::step_clock`](crate::Ctx::step_clock) jumps the reading.
///
/// Hardware timestamps (the `rx_ts` of [`Node::on_frame`](crate::Node::on_frame) and the
/// `tx_ts` of [`Node::on_tx_timestamp`](crate::Node::on_tx_timestamp)) are
/// `floor_to(true_reading + noise, timestamp_granularity)` with gaussian `noise` of standard
/// deviation `timestamp_noise_sd`. [`Ctx::now`](crate::Ctx::now) returns the true reading,
/// unquantised and without noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockModel {
    /// Local reading minus global time when the node is added.
    pub offset: Duration,
    /// Initial oscillator frequency error, parts per million (positive: runs fast).
    pub freq_error_ppm: f64,
    /// Linear aging: change of the oscillator frequency per second of global time, ppb/s.
    pub aging_ppb_per_s: f64,
    /// Random walk of the oscillator frequency: standard deviation of its change over one
    /// second, ppb (scaled by `sqrt(interval)` for other update intervals).
    pub random_walk_ppb: f64,
    /// How often aging and random walk update the frequency (global time). Default 1 s.
    pub drift_interval: Duration,
    /// Timestamps are truncated to multiples of this (8 ns for a 125 MHz timestamping unit).
    /// Zero: no quantisation.
    pub timestamp_granularity: Duration,
    /// Standard deviation of the gaussian noise added to timestamps before quantisation.
    pub timestamp_noise_sd: Duration,
    /// Largest servo frequency adjustment accepted, ppb; larger requests are clamped.
    pub max_adjust_ppb: f64,
}

impl Default for ClockModel {
    fn default() -> Self {
        Self::ideal()
    }
}

impl ClockModel {
    /// A perfect clock: reads global time, exact timestamps.
    pub const fn ideal() -> Self {
        Self {
            offset: Duration::ZERO,
            freq_error_ppm: 0.0,
            aging_ppb_per_s: 0.0,
            random_walk_ppb: 0.0,
            drift_interval: Duration::from_secs(1),
            timestamp_granularity: Duration::ZERO,
            timestamp_noise_sd: Duration::ZERO,
            max_adjust_ppb: 1_000_000.0,
        }
    }
    /// Sets [`offset`](Self::offset).
    pub const fn with_offset(mut self, offset: Duration) -> Self {
        self.offset = offset;
        self
    }
    /// Sets [`freq_error_ppm`](Self::freq_error_ppm).
    pub const fn with_ppm(mut self, ppm: f64) -> Self {
        self.freq_error_ppm = ppm;
        self
    }
    /// Sets [`aging_ppb_per_s`](Self::aging_ppb_per_s).
    pub const fn with_aging(mut self, ppb_per_s: f64) -> Self {
        self.aging_ppb_per_s = ppb_per_s;
        self
    }
    /// Sets [`random_walk_ppb`](Self::random_walk_ppb).
    pub const fn with_random_walk(mut self, ppb: f64) -> Self {
        self.random_walk_ppb = ppb;
        self
    }
    /// Sets [`drift_interval`](Self::drift_interval).
    pub const fn with_drift_interval(mut self, interval: Duration) -> Self {
        self.drift_interval = interval;
        self
    }
    /// Sets [`timestamp_granularity`](Self::timestamp_granularity).
    pub const fn with_granularity(mut self, granularity: Duration) -> Self {
        self.timestamp_granularity = granularity;
        self
    }
    /// Sets [`timestamp_noise_sd`](Self::timestamp_noise_sd).
    pub const fn with_noise(mut self, sd: Duration) -> Self {
        self.timestamp_noise_sd = sd;
        self
    }

    pub(crate) fn has_drift(&self) -> bool {
        (self.aging_ppb_per_s != 0.0 || self.random_walk_ppb != 0.0)
            && self.drift_interval > Duration::ZERO
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let finite = [
            self.freq_error_ppm,
            self.aging_ppb_per_s,
            self.random_walk_ppb,
            self.max_adjust_ppb,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err("clock model values must be finite".into());
        }
        if self.freq_error_ppm.abs() >= 1e5 {
            return Err("freq_error_ppm must be within ±100000".into());
        }
        if self.timestamp_granularity.is_negative() || self.timestamp_noise_sd.is_negative() {
            return Err("timestamp granularity and noise must not be negative".into());
        }
        if self.random_walk_ppb < 0.0 || self.max_adjust_ppb < 0.0 {
            return Err("random_walk_ppb and max_adjust_ppb must not be negative".into());
        }
        Ok(())
    }
}

/// How many past pieces of the clock's timeline are kept to read it at instants in the past
/// (a reception whose first bit arrived before a servo step applied at delivery).
const HISTORY: usize = 8;

/// The state of one node's clock.
#[derive(Debug)]
pub(crate) struct NodeClock {
    /// `(global start, timescale)` pieces, oldest first, never empty.
    segments: Vec<(Time, VirtualTimescale)>,
    osc_ppb: f64,
    servo_ppb: f64,
    model: ClockModel,
    rng: SimRng,
}

impl NodeClock {
    pub(crate) fn new(model: ClockModel, now: Time, rng: SimRng) -> Self {
        let osc_ppb = model.freq_error_ppm * 1000.0;
        let ts = VirtualTimescale::new(now, now + model.offset, osc_ppb);
        Self {
            segments: vec![(now, ts)],
            osc_ppb,
            servo_ppb: 0.0,
            model,
            rng,
        }
    }

    fn current(&self) -> &VirtualTimescale {
        &self.segments[self.segments.len() - 1].1
    }

    /// True local reading at global time `t` (for `t` before the retained history, the
    /// oldest retained piece is extrapolated).
    pub(crate) fn read(&self, t: Time) -> Time {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .unwrap_or(&self.segments[0]);
        seg.1.read(t)
    }

    /// The first global instant (to within a few 2^-16 ns) at which the reading is at least
    /// `local`, assuming the clock does not change before then.
    pub(crate) fn global_at(&self, local: Time) -> Time {
        let ts = self.current();
        let mut g = ts.reference_at(local);
        for _ in 0..8 {
            let r = ts.read(g);
            if r >= local {
                break;
            }
            g += (local - r).max(Duration::from_subnanos(1));
        }
        g
    }

    /// A hardware timestamp of global instant `t`, with noise from the port's timestamping
    /// unit `rng`.
    pub(crate) fn timestamp(&self, t: Time, rng: &mut SimRng) -> Time {
        let mut v = self.read(t);
        if self.model.timestamp_noise_sd > Duration::ZERO {
            let sd = self.model.timestamp_noise_sd.nanos_f64();
            v += Duration::from_nanos_f64(rng.gaussian() * sd);
        }
        v.floor_to(self.model.timestamp_granularity)
    }

    fn change(&mut self, now: Time, f: impl FnOnce(&mut VirtualTimescale)) {
        let mut ts = *self.current();
        f(&mut ts);
        let last = self.segments.len() - 1;
        if self.segments[last].0 == now {
            self.segments[last].1 = ts;
        } else {
            if self.segments.len() == HISTORY {
                self.segments.remove(0);
            }
            self.segments.push((now, ts));
        }
    }

    fn effective_ppb(&self) -> f64 {
        self.osc_ppb + self.servo_ppb + self.osc_ppb * self.servo_ppb * 1e-9
    }

    /// Sets the servo's frequency adjustment; returns the value applied after clamping.
    pub(crate) fn set_servo_ppb(&mut self, now: Time, ppb: f64) -> f64 {
        let max = self.model.max_adjust_ppb;
        let ppb = if ppb.is_nan() {
            0.0
        } else {
            ppb.clamp(-max, max)
        };
        self.servo_ppb = ppb;
        let eff = self.effective_ppb();
        self.change(now, |ts| ts.set_frequency_ppb(now, eff));
        ppb
    }

    pub(crate) fn servo_ppb(&self) -> f64 {
        self.servo_ppb
    }

    /// Oscillator frequency error in ppb (without the servo's adjustment).
    pub(crate) fn oscillator_ppb(&self) -> f64 {
        self.osc_ppb
    }

    pub(crate) fn step(&mut self, now: Time, offset: Duration) {
        self.change(now, |ts| ts.step(offset));
    }

    pub(crate) fn model(&self) -> &ClockModel {
        &self.model
    }

    /// Applies one drift interval of aging and random walk.
    pub(crate) fn drift(&mut self, now: Time) {
        let secs = self.model.drift_interval.secs_f64();
        let mut d = self.model.aging_ppb_per_s * secs;
        if self.model.random_walk_ppb > 0.0 {
            d += self.rng.gaussian() * self.model.random_walk_ppb * secs.sqrt();
        }
        self.osc_ppb += d;
        let eff = self.effective_ppb();
        self.change(now, |ts| ts.set_frequency_ppb(now, eff));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn global_at_is_never_early_and_tight() {
        for ppm in [-500.0, -37.3, 0.0, 0.001, 12.5, 99.9, 500.0] {
            let model = ClockModel::ideal()
                .with_ppm(ppm)
                .with_offset(Duration::from_nanos(-12_345));
            let mut c =
                NodeClock::new(model, Time::from_nanos(7), SimRng::new(1, Stream::Clock(0)));
            c.set_servo_ppb(Time::from_nanos(1_000), 3.3);
            for k in 1..200i128 {
                let local = Time::from_subnanos(k * 987_654_321_123 + 17);
                let g = c.global_at(local);
                assert!(c.read(g) >= local, "{ppm} ppm, {local}: early");
                assert!(
                    c.read(g - Duration::from_subnanos(2)) < local,
                    "{ppm} ppm, {local}: late"
                );
            }
        }
    }

    #[test]
    fn past_readings_survive_later_changes() {
        let model = ClockModel::ideal().with_ppm(10.0);
        let mut c = NodeClock::new(model, Time::EPOCH, SimRng::new(1, Stream::Clock(0)));
        let t = Time::from_nanos(1_000_000_000);
        let before = c.read(t);
        c.step(Time::from_nanos(1_000_000_100), Duration::from_micros(5));
        c.set_servo_ppb(Time::from_nanos(1_000_000_200), 1_000.0);
        assert_eq!(
            c.read(t),
            before,
            "a step after t does not move the reading at t"
        );
        assert_eq!(before, Time::from_nanos(1_000_010_000));
    }
}
