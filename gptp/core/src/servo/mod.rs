//! Clock servos: turn offset samples (local clock minus grandmaster time) into frequency
//! adjustments and steps.
//!
//! The instance feeds one sample per received Sync/Follow_Up pair on its slave port and turns
//! the [`ServoOutput`] into [`Action`](crate::Action)s. A second servo (linear regression,
//! Kalman) implements [`Servo`] and is selected by the shell, so both can be compared on
//! the same simulation.

mod pi;

pub use pi::{PiConfig, PiServo};

use tsn_time::{Duration, Time};

/// Lock state, as ptp4l logs it (`s0` unlocked, `s1` step, `s2` locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServoState {
    /// Collecting samples or converging.
    Unlocked,
    /// The last sample made the servo step the clock.
    Stepped,
    /// |offset| stayed under the lock threshold for the configured number of samples.
    Locked,
}

/// What the servo wants done with the clock after a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServoOutput {
    /// Step the clock by this much (positive: forward) before anything else.
    pub step: Option<Duration>,
    /// The new total frequency adjustment, ppb (positive: faster), if it changed.
    pub frequency_ppb: Option<f64>,
    /// State after the sample.
    pub state: ServoState,
    /// The sample was an outlier and left the clock alone (see
    /// [`PiConfig::outlier_factor`]).
    pub outlier: bool,
}

/// A clock servo.
pub trait Servo: core::fmt::Debug + Send {
    /// One sample: `offset` = local clock minus grandmaster time at `local_time` (a local
    /// clock reading: the Sync receive timestamp).
    fn sample(&mut self, offset: Duration, local_time: Time) -> ServoOutput;
    /// Forget the history (new grandmaster, clock stepped from outside). The frequency
    /// currently applied is kept as the starting point.
    fn reset(&mut self);
    /// Current state.
    fn state(&self) -> ServoState;
    /// The frequency adjustment the servo last asked for, ppb.
    fn frequency_ppb(&self) -> f64;
}
