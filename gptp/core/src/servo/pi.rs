//! A proportional-integral servo in the manner of linuxptp's `pi.c` (read, not copied; see
//! `reference/gptp.md` section 2).

use super::{Servo, ServoOutput, ServoState};
use tsn_time::{Duration, Time};

/// Settings of [`PiServo`].
///
/// Gains follow ptp4l's hardware-timestamp scaling for the sync interval `T` (seconds):
/// `kp = kp_scale * T^-0.3` capped at `0.7 / T`, `ki = ki_scale * T^0.4` capped at `0.3 / T`.
/// With T = 125 ms that is kp 1.306, ki 0.1306.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiConfig {
    /// Proportional scale (ptp4l `pi_proportional_scale` for hardware stamps: 0.7).
    pub kp_scale: f64,
    /// Integral scale (ptp4l `pi_integral_scale` for hardware stamps: 0.3).
    pub ki_scale: f64,
    /// Step on the first frequency estimate if |offset| exceeds this (ptp4l
    /// `first_step_threshold`: 20 µs). Zero: never.
    pub first_step_threshold: Duration,
    /// Step later if |offset| exceeds this (ptp4l `step_threshold`, default 0: never). A
    /// step resets lock detection.
    pub step_threshold: Duration,
    /// Largest frequency adjustment, ppb (both the output and the integrator are clamped).
    pub max_frequency_ppb: f64,
    /// Locked when |offset| stays under this for [`lock_samples`](Self::lock_samples)
    /// samples (ptp4l `servo_offset_threshold`).
    pub lock_threshold: Duration,
    /// Consecutive samples under the threshold that make the servo locked (ptp4l
    /// `servo_num_offset_values`).
    pub lock_samples: u32,
    /// Unlock when |offset| exceeds this (hysteresis over the lock threshold).
    pub unlock_threshold: Duration,
    /// While locked, a sample whose |offset| exceeds this many times the recent mean |offset|
    /// (and [`lock_threshold`](Self::lock_threshold)) is an outlier and is not fed to the
    /// loop. Why: with software timestamps one Sync delayed inside the kernel (a preempted
    /// vCPU: 220 µs seen on a test VM) otherwise throws the clock off by tens of µs for
    /// seconds. 0 turns the filter off.
    pub outlier_factor: f64,
    /// At most this many outliers in a row are ignored; the next sample is used whatever its
    /// size, so a real jump of the reference is followed (then the loop unlocks).
    pub max_outliers: u32,
}

impl Default for PiConfig {
    fn default() -> Self {
        Self {
            kp_scale: 0.7,
            ki_scale: 0.3,
            first_step_threshold: Duration::from_micros(20),
            step_threshold: Duration::ZERO,
            max_frequency_ppb: 900_000.0,
            lock_threshold: Duration::from_nanos(100),
            lock_samples: 8,
            unlock_threshold: Duration::from_micros(1),
            outlier_factor: 8.0,
            max_outliers: 3,
        }
    }
}

/// The PI servo.
#[derive(Debug, Clone)]
pub struct PiServo {
    config: PiConfig,
    kp: f64,
    ki: f64,
    /// Integrator: the frequency that would keep the clock running at the grandmaster's rate.
    drift: f64,
    /// Whether `drift` is a real estimate (after a reset it is the last applied frequency).
    drift_known: bool,
    first: Option<(Duration, Time)>,
    started: bool,
    good: u32,
    state: ServoState,
    last_ppb: f64,
    /// Mean |offset| of recent samples used by the loop, ns (exponential, 1/16).
    noise_ns: f64,
    /// Outliers ignored in a row.
    outliers: u32,
}

impl PiServo {
    /// A servo for a sync interval of `2^log_sync_interval` seconds.
    pub fn new(config: PiConfig, log_sync_interval: i8) -> Self {
        let t = Duration::from_log_interval(log_sync_interval).secs_f64();
        let kp = (config.kp_scale * t.powf(-0.3)).min(0.7 / t);
        let ki = (config.ki_scale * t.powf(0.4)).min(0.3 / t);
        Self {
            config,
            kp,
            ki,
            drift: 0.0,
            drift_known: false,
            first: None,
            started: false,
            good: 0,
            state: ServoState::Unlocked,
            last_ppb: 0.0,
            noise_ns: 0.0,
            outliers: 0,
        }
    }

    /// The gains in use: (kp, ki), ppb per ns of offset.
    pub fn gains(&self) -> (f64, f64) {
        (self.kp, self.ki)
    }

    fn clamp(&self, ppb: f64) -> f64 {
        let m = self.config.max_frequency_ppb;
        ppb.clamp(-m, m)
    }

    fn stepped(&mut self, offset: Duration, ppb: f64) -> ServoOutput {
        self.good = 0;
        self.state = ServoState::Stepped;
        self.last_ppb = ppb;
        ServoOutput {
            step: Some(-offset),
            frequency_ppb: Some(ppb),
            state: self.state,
            outlier: false,
        }
    }

    fn no_change(&self, outlier: bool) -> ServoOutput {
        ServoOutput {
            step: None,
            frequency_ppb: None,
            state: self.state,
            outlier,
        }
    }

    /// Only a locked loop knows what a normal sample looks like.
    fn is_outlier(&self, off_ns: f64) -> bool {
        let c = &self.config;
        self.state == ServoState::Locked
            && c.outlier_factor > 0.0
            && self.outliers < c.max_outliers
            && off_ns.abs() > (c.outlier_factor * self.noise_ns).max(c.lock_threshold.nanos_f64())
    }

    fn track_lock(&mut self, offset: Duration) {
        let a = offset.abs();
        if a < self.config.lock_threshold {
            self.good = self.good.saturating_add(1);
            if self.good >= self.config.lock_samples {
                self.state = ServoState::Locked;
            } else if self.state == ServoState::Stepped {
                self.state = ServoState::Unlocked;
            }
        } else {
            self.good = 0;
            if self.state != ServoState::Locked || a > self.config.unlock_threshold {
                self.state = ServoState::Unlocked;
            }
        }
    }
}

impl Servo for PiServo {
    fn sample(&mut self, offset: Duration, local_time: Time) -> ServoOutput {
        let off_ns = offset.nanos_f64();
        if !self.started {
            if !self.drift_known {
                // Frequency estimate from two samples, as ptp4l: wait >= 0.016 / ki seconds.
                let Some((o0, t0)) = self.first else {
                    self.first = Some((offset, local_time));
                    return self.no_change(false);
                };
                let dt = (local_time - t0).secs_f64();
                if dt < (0.016 / self.ki).min(1000.0) || dt <= 0.0 {
                    return self.no_change(false);
                }
                // Offset grows by (local rate - gm rate) per second: correct the other way.
                let rate = (offset - o0).nanos_f64() / dt; // ns per s = ppb
                self.drift = self.clamp(self.drift - rate);
                self.drift_known = true;
            }
            self.started = true;
            self.first = None;
            let ft = self.config.first_step_threshold;
            if ft > Duration::ZERO && offset.abs() > ft {
                let ppb = self.drift;
                return self.stepped(offset, ppb);
            }
        } else if self.is_outlier(off_ns) {
            self.outliers += 1;
            return self.no_change(true);
        } else {
            let st = self.config.step_threshold;
            if st > Duration::ZERO && offset.abs() > st {
                let ppb = self.drift;
                return self.stepped(offset, ppb);
            }
        }
        self.outliers = 0;
        self.noise_ns += (off_ns.abs() - self.noise_ns) / 16.0;
        self.drift = self.clamp(self.drift - self.ki * off_ns);
        let ppb = self.clamp(self.drift - self.kp * off_ns);
        self.last_ppb = ppb;
        self.track_lock(offset);
        ServoOutput {
            step: None,
            frequency_ppb: Some(ppb),
            state: self.state,
            outlier: false,
        }
    }

    fn reset(&mut self) {
        // The frequency applied now stays the base (the clock keeps running at it), but it
        // is not an estimate of the new reference's rate: it may have tracked another
        // free-running clock (a bridge that was grandmaster until better Announce
        // information arrived), off by up to twice the oscillator tolerance. Measure the
        // rate again from two samples, which costs one sync interval; integrating a 100 ppm
        // error away costs the PI loop ~10 s (see the `lock_time_scales_along_a_chain`
        // scenario test).
        self.drift = self.last_ppb;
        self.drift_known = false;
        self.started = false;
        self.first = None;
        self.good = 0;
        self.state = ServoState::Unlocked;
        self.outliers = 0;
    }

    fn state(&self) -> ServoState {
        self.state
    }

    fn frequency_ppb(&self) -> f64 {
        self.last_ppb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated clock 50 ppm fast and 1 ms ahead: the servo steps once, then converges.
    #[test]
    fn converges_from_offset_and_frequency_error() {
        let mut s = PiServo::new(PiConfig::default(), -3);
        let t = 0.125;
        let (mut off, mut ppb) = (1_000_000.0f64, 0.0f64);
        let mut steps = 0;
        for k in 0..200 {
            let out = s.sample(
                Duration::from_nanos_f64(off),
                Time::from_nanos(k * 125_000_000),
            );
            if let Some(st) = out.step {
                off += st.nanos_f64();
                steps += 1;
            }
            if let Some(p) = out.frequency_ppb {
                ppb = p;
            }
            off += (50_000.0 + ppb) * t;
        }
        assert_eq!(steps, 1);
        assert!(off.abs() < 1.0, "offset {off}");
        assert_eq!(s.state(), ServoState::Locked);
        assert!((ppb + 50_000.0).abs() < 1.0, "ppb {ppb}");
    }

    #[test]
    fn gains_match_ptp4l_hardware_scaling() {
        let (kp, ki) = PiServo::new(PiConfig::default(), -3).gains();
        assert!(
            (kp - 1.306).abs() < 1e-3 && (ki - 0.1306).abs() < 1e-3,
            "{kp} {ki}"
        );
    }

    /// After a reset (new grandmaster) the servo measures the new reference's rate again
    /// instead of assuming the frequency that tracked the old one.
    #[test]
    fn reset_re_estimates_the_rate_of_the_new_reference() {
        let mut s = PiServo::new(PiConfig::default(), -3);
        let t = 0.125;
        // Local clock +60 ppm against the first reference: lock to it.
        let (mut off, mut ppb, mut k) = (0.0f64, 0.0f64, 0i128);
        let mut run = |s: &mut PiServo, off: &mut f64, ppb: &mut f64, err_ppb: f64, n: usize| {
            let mut samples_to_lock = None;
            for i in 0..n {
                let out = s.sample(
                    Duration::from_nanos_f64(*off),
                    Time::from_nanos(k * 125_000_000),
                );
                k += 1;
                if let Some(st) = out.step {
                    *off += st.nanos_f64();
                }
                if let Some(p) = out.frequency_ppb {
                    *ppb = p;
                }
                if out.state == ServoState::Locked && samples_to_lock.is_none() {
                    samples_to_lock = Some(i);
                }
                *off += (err_ppb + *ppb) * t;
            }
            samples_to_lock
        };
        run(&mut s, &mut off, &mut ppb, 60_000.0, 200);
        assert!((ppb + 60_000.0).abs() < 1.0, "ppb {ppb}");
        // The new reference runs 150 ppm slower than the old one, 300 µs away.
        s.reset();
        off = 300_000.0;
        let lock = run(&mut s, &mut off, &mut ppb, -90_000.0, 200).expect("locked");
        // Two samples to estimate the rate and step, then 8 under the threshold.
        assert!(lock <= 12, "locked after {lock} samples");
        assert!((ppb - 90_000.0).abs() < 1.0, "ppb {ppb}");
    }

    /// A clock 30 ppm fast, sampled every 125 ms; `glitch` adds a measurement error to one
    /// sample (a Sync delayed in the kernel) without moving the clock.
    struct Loop {
        servo: PiServo,
        off: f64,
        ppb: f64,
        k: i128,
    }

    impl Loop {
        fn locked(config: PiConfig) -> Self {
            let mut l = Self {
                servo: PiServo::new(config, -3),
                off: 3_000.0,
                ppb: 0.0,
                k: 0,
            };
            for _ in 0..200 {
                l.step(0.0);
            }
            assert_eq!(l.servo.state(), ServoState::Locked);
            l
        }

        fn step(&mut self, glitch: f64) -> ServoOutput {
            let out = self.servo.sample(
                Duration::from_nanos_f64(self.off + glitch),
                Time::from_nanos(self.k * 125_000_000),
            );
            self.k += 1;
            if let Some(st) = out.step {
                self.off += st.nanos_f64();
            }
            if let Some(p) = out.frequency_ppb {
                self.ppb = p;
            }
            self.off += (30_000.0 + self.ppb) * 0.125;
            out
        }
    }

    #[test]
    fn a_lone_delayed_sync_does_not_move_a_locked_clock() {
        let mut l = Loop::locked(PiConfig::default());
        let ppb = l.ppb;
        let out = l.step(-220_000.0);
        assert!(out.outlier && out.frequency_ppb.is_none() && out.step.is_none());
        assert_eq!(out.state, ServoState::Locked);
        assert_eq!(l.ppb, ppb);
        let worst = (0..40)
            .map(|_| {
                l.step(0.0);
                l.off.abs()
            })
            .fold(0.0f64, f64::max);
        assert!(worst < 1.0, "offset up to {worst} ns after the spike");
        assert_eq!(l.servo.state(), ServoState::Locked);
    }

    #[test]
    fn without_the_filter_the_same_spike_throws_the_clock_off() {
        let mut l = Loop::locked(PiConfig {
            outlier_factor: 0.0,
            ..PiConfig::default()
        });
        let out = l.step(-220_000.0);
        assert!(!out.outlier);
        let worst = (0..16)
            .map(|_| {
                l.step(0.0);
                l.off.abs()
            })
            .fold(0.0f64, f64::max);
        assert!(worst > 20_000.0, "worst {worst} ns");
    }

    /// A real jump of the reference is not an outlier for ever: after `max_outliers` samples
    /// the loop takes it, unlocks and converges on the new time.
    #[test]
    fn a_lasting_jump_is_followed_after_max_outliers() {
        let mut l = Loop::locked(PiConfig::default());
        l.off += 50_000.0;
        for _ in 0..3 {
            assert!(l.step(0.0).outlier);
        }
        let out = l.step(0.0);
        assert!(!out.outlier && out.frequency_ppb.is_some());
        assert_eq!(out.state, ServoState::Unlocked);
        for _ in 0..400 {
            l.step(0.0);
        }
        assert!(l.off.abs() < 1.0, "offset {} ns", l.off);
        assert_eq!(l.servo.state(), ServoState::Locked);
    }
}
