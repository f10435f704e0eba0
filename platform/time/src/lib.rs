//! Nanosecond time for PTP and TSN, with no IO.
//!
//! Every protocol core of the stack (gPTP, the 802.1Qbv planner, IS-IS timers, the distribution
//! carrier) and the network simulator count time with these types, so they never need to read a
//! host clock:
//!
//! - [`Time`]: a point on a timescale, kept in units of 2^-16 ns (the resolution of the PTP
//!   `correctionField`) so that residence times and rate-ratio corrections add up exactly. On a
//!   PTP timescale zero is the PTP epoch, 1970-01-01 00:00:00 TAI.
//! - [`Duration`]: a signed difference between two [`Time`]s, same resolution.
//! - [`PtpTimestamp`]: the 10-byte on-the-wire timestamp (48-bit seconds, 32-bit nanoseconds).
//! - [`TimeInterval`]: the 64-bit scaled-nanosecond `correctionField`; [`ScaledNs`] and
//!   [`UScaledNs`]: the 96-bit forms 802.1AS uses in TLVs (for example `lastGmPhaseChange`).
//! - [`Clock`]: what a daemon needs from a clock (read, step, adjust frequency). Cores never hold
//!   one: daemons read the clock and pass `now` in, and apply the servo's output to it.
//! - [`VirtualTimescale`]: the arithmetic of a clock that runs from a reference clock plus its
//!   own offset and frequency adjustment (the virtual clock of `tsn-clocks`, the node clocks of
//!   the simulator).
#![deny(missing_docs)]

use core::fmt;
use core::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

/// Sub-nanosecond units per nanosecond (2^16, the PTP scaled-nanosecond resolution).
pub const SUBNANOS_PER_NS: i128 = 1 << 16;
const NS_PER_SEC: i128 = 1_000_000_000;

/// A signed span of time with 2^-16 ns resolution.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i128);

impl Duration {
    /// No time at all.
    pub const ZERO: Self = Self(0);
    /// The largest representable span, handy as "never" in min-deadline folds.
    pub const MAX: Self = Self(i128::MAX);

    /// From 2^-16 ns units.
    pub const fn from_subnanos(v: i128) -> Self {
        Self(v)
    }
    /// From nanoseconds.
    pub const fn from_nanos(ns: i64) -> Self {
        Self(ns as i128 * SUBNANOS_PER_NS)
    }
    /// From microseconds.
    pub const fn from_micros(us: i64) -> Self {
        Self::from_nanos_i128(us as i128 * 1_000)
    }
    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self::from_nanos_i128(ms as i128 * 1_000_000)
    }
    /// From seconds.
    pub const fn from_secs(s: i64) -> Self {
        Self::from_nanos_i128(s as i128 * NS_PER_SEC)
    }
    const fn from_nanos_i128(ns: i128) -> Self {
        Self(ns * SUBNANOS_PER_NS)
    }
    /// From fractional nanoseconds, rounded to the nearest 2^-16 ns.
    pub fn from_nanos_f64(ns: f64) -> Self {
        Self((ns * SUBNANOS_PER_NS as f64).round() as i128)
    }
    /// From fractional seconds, rounded to the nearest 2^-16 ns.
    pub fn from_secs_f64(s: f64) -> Self {
        Self::from_nanos_f64(s * 1e9)
    }
    /// `2^log_interval` seconds: PTP message intervals (`logSyncInterval` -3 is 125 ms).
    /// Exponents outside -30..=30 saturate to that range: no real interval lies there.
    pub const fn from_log_interval(log_interval: i8) -> Self {
        let e = if log_interval < -30 {
            -30
        } else if log_interval > 30 {
            30
        } else {
            log_interval
        };
        if e >= 0 {
            Self::from_nanos_i128(NS_PER_SEC << e)
        } else {
            // 1 s * 2^e in subnanos, exact down to 2^-16 ns.
            Self((NS_PER_SEC * SUBNANOS_PER_NS) >> (-e))
        }
    }

    /// In 2^-16 ns units.
    pub const fn subnanos(self) -> i128 {
        self.0
    }
    /// Whole nanoseconds, rounded towards negative infinity.
    pub const fn nanos(self) -> i128 {
        self.0.div_euclid(SUBNANOS_PER_NS)
    }
    /// Nanoseconds, rounded to the nearest and clamped into `i64`.
    pub fn nanos_rounded_i64(self) -> i64 {
        let r = (self.0 + SUBNANOS_PER_NS / 2).div_euclid(SUBNANOS_PER_NS);
        r.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
    /// Nanoseconds as a float (for servos and statistics).
    pub fn nanos_f64(self) -> f64 {
        self.0 as f64 / SUBNANOS_PER_NS as f64
    }
    /// Seconds as a float.
    pub fn secs_f64(self) -> f64 {
        self.nanos_f64() / 1e9
    }
    /// Absolute value.
    pub const fn abs(self) -> Self {
        Self(self.0.abs())
    }
    /// True if negative.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// `self * num / den`, exact in 2^-16 ns with rounding towards zero; `den` must not be 0.
    pub const fn mul_div(self, num: i128, den: i128) -> Self {
        Self(self.0 * num / den)
    }
    /// Scales by `1 + ppb * 10^-9` (a clock running `ppb` parts per billion fast). Only the
    /// deviation goes through floating point, so a day at +100 ppm is exact to 2^-16 ns.
    pub fn scale_ppb(self, ppb: f64) -> Self {
        Self(self.0 + (self.0 as f64 * ppb / 1e9).round() as i128)
    }
    /// Converts to a `std::time::Duration`, or `None` if negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        if self.0 < 0 {
            return None;
        }
        let ns = self.nanos();
        Some(std::time::Duration::new(
            (ns / NS_PER_SEC) as u64,
            (ns % NS_PER_SEC) as u32,
        ))
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Self::from_nanos_i128(d.as_nanos() as i128)
    }
}

impl Add for Duration {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}
impl Sub for Duration {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}
impl AddAssign for Duration {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}
impl SubAssign for Duration {
    fn sub_assign(&mut self, rhs: Self) {
        self.0 -= rhs.0;
    }
}
impl Neg for Duration {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}
impl Mul<i64> for Duration {
    type Output = Self;
    fn mul(self, rhs: i64) -> Self {
        Self(self.0 * rhs as i128)
    }
}
impl Div<i64> for Duration {
    type Output = Self;
    /// Rounds towards zero; panics on division by zero like the integer types.
    fn div(self, rhs: i64) -> Self {
        Self(self.0 / rhs as i128)
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Duration {
    /// Nanoseconds with up to three decimals, e.g. `-12.5ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = a / SUBNANOS_PER_NS as u128;
        let frac = (a % SUBNANOS_PER_NS as u128) * 1000 / SUBNANOS_PER_NS as u128;
        if frac == 0 {
            write!(f, "{sign}{whole}ns")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{sign}{whole}.{}ns", s.trim_end_matches('0'))
        }
    }
}

/// A point in time with 2^-16 ns resolution. On a PTP timescale, zero is the PTP epoch
/// (1970-01-01 00:00:00 TAI); simulated and monotonic timescales count from their own start.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i128);

impl Time {
    /// The epoch of the timescale.
    pub const EPOCH: Self = Self(0);
    /// A time later than any other, for "no deadline".
    pub const MAX: Self = Self(i128::MAX);

    /// From 2^-16 ns units since the epoch.
    pub const fn from_subnanos(v: i128) -> Self {
        Self(v)
    }
    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: i128) -> Self {
        Self(ns * SUBNANOS_PER_NS)
    }
    /// From whole seconds and nanoseconds since the epoch.
    pub const fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Self::from_nanos(secs as i128 * NS_PER_SEC + nanos as i128)
    }
    /// 2^-16 ns units since the epoch.
    pub const fn subnanos(self) -> i128 {
        self.0
    }
    /// Whole nanoseconds since the epoch, rounded towards negative infinity.
    pub const fn nanos(self) -> i128 {
        self.0.div_euclid(SUBNANOS_PER_NS)
    }
    /// The time since the epoch as a [`Duration`].
    pub const fn since_epoch(self) -> Duration {
        Duration(self.0)
    }
    /// Truncates to a multiple of `granularity` (a timestamping unit that counts in steps of
    /// 8 ns, say). A zero or negative granularity leaves the time unchanged.
    pub const fn floor_to(self, granularity: Duration) -> Self {
        if granularity.0 <= 0 {
            return self;
        }
        Self(self.0 - self.0.rem_euclid(granularity.0))
    }
    /// The first instant `>= self` that lies on the grid `base + k * period` (gate cycles,
    /// sync intervals). A zero or negative period returns `self`.
    pub const fn next_on_grid(self, base: Self, period: Duration) -> Self {
        if period.0 <= 0 {
            return self;
        }
        let r = (self.0 - base.0).rem_euclid(period.0);
        if r == 0 {
            self
        } else {
            Self(self.0 + period.0 - r)
        }
    }
}

impl Add<Duration> for Time {
    type Output = Self;
    fn add(self, rhs: Duration) -> Self {
        Self(self.0 + rhs.0)
    }
}
impl Sub<Duration> for Time {
    type Output = Self;
    fn sub(self, rhs: Duration) -> Self {
        Self(self.0 - rhs.0)
    }
}
impl Sub for Time {
    type Output = Duration;
    fn sub(self, rhs: Self) -> Duration {
        Duration(self.0 - rhs.0)
    }
}
impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs.0;
    }
}
impl SubAssign<Duration> for Time {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs.0;
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Time {
    /// `seconds.nanoseconds` since the epoch, e.g. `1700000000.000000125`, with a `+x/65536`
    /// suffix when there is a sub-nanosecond part; sign and magnitude before the epoch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let sub = a % SUBNANOS_PER_NS as u128;
        let ns = a / SUBNANOS_PER_NS as u128;
        let (secs, frac) = (ns / NS_PER_SEC as u128, ns % NS_PER_SEC as u128);
        write!(f, "{sign}{secs}.{frac:09}")?;
        if sub != 0 {
            write!(f, "+{sub}/65536")?;
        }
        Ok(())
    }
}

/// The PTP on-the-wire timestamp: 48-bit seconds and 32-bit nanoseconds since the PTP epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PtpTimestamp {
    /// Seconds since the PTP epoch; only the low 48 bits go on the wire.
    pub seconds: u64,
    /// Nanoseconds within the second, `< 1_000_000_000` in a valid timestamp.
    pub nanoseconds: u32,
}

/// Length of a [`PtpTimestamp`] on the wire.
pub const PTP_TIMESTAMP_LEN: usize = 10;
const SECONDS_MAX: u64 = (1 << 48) - 1;

impl PtpTimestamp {
    /// Decodes the 10-byte wire form. Returns `None` if the nanoseconds field is not below
    /// 10^9, which 1588 calls invalid.
    pub fn from_bytes(b: &[u8; PTP_TIMESTAMP_LEN]) -> Option<Self> {
        let mut s = [0u8; 8];
        s[2..].copy_from_slice(&b[..6]);
        let ts = Self {
            seconds: u64::from_be_bytes(s),
            nanoseconds: u32::from_be_bytes([b[6], b[7], b[8], b[9]]),
        };
        (ts.nanoseconds < NS_PER_SEC as u32).then_some(ts)
    }
    /// Encodes the 10-byte wire form.
    pub fn to_bytes(self) -> [u8; PTP_TIMESTAMP_LEN] {
        let mut b = [0u8; PTP_TIMESTAMP_LEN];
        b[..6].copy_from_slice(&(self.seconds & SECONDS_MAX).to_be_bytes()[2..]);
        b[6..].copy_from_slice(&self.nanoseconds.to_be_bytes());
        b
    }
    /// The time this timestamp names.
    pub const fn to_time(self) -> Time {
        Time::from_nanos(self.seconds as i128 * NS_PER_SEC + self.nanoseconds as i128)
    }
    /// The timestamp of `t`, truncated to whole nanoseconds (the fraction belongs in the
    /// correction field). `None` before the epoch or past the 48-bit range.
    pub fn from_time(t: Time) -> Option<Self> {
        let ns = t.nanos();
        if ns < 0 {
            return None;
        }
        let seconds = u64::try_from(ns / NS_PER_SEC).ok()?;
        (seconds <= SECONDS_MAX).then_some(Self {
            seconds,
            nanoseconds: (ns % NS_PER_SEC) as u32,
        })
    }
}

/// The 64-bit `correctionField` / `TimeInterval`: nanoseconds times 2^16, signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeInterval(pub i64);

impl TimeInterval {
    /// The value 1588 reserves for "too large to represent".
    pub const TOO_LARGE: Self = Self(0x7fff_ffff_ffff_ffff);

    /// Converts a duration, saturating to [`Self::TOO_LARGE`] (or its negative) if it does not
    /// fit.
    pub fn from_duration(d: Duration) -> Self {
        match i64::try_from(d.subnanos()) {
            Ok(v) => Self(v),
            Err(_) if d.is_negative() => Self(i64::MIN),
            Err(_) => Self::TOO_LARGE,
        }
    }
    /// The span this value names.
    pub const fn to_duration(self) -> Duration {
        Duration::from_subnanos(self.0 as i128)
    }
}

/// 802.1AS `ScaledNs`: a signed 96-bit count of 2^-16 ns (for example `lastGmPhaseChange`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScaledNs(i128);

/// 802.1AS `UScaledNs`: an unsigned 96-bit count of 2^-16 ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UScaledNs(u128);

const I96_MAX: i128 = (1 << 95) - 1;
const I96_MIN: i128 = -(1 << 95);
const U96_MAX: u128 = (1 << 96) - 1;

impl ScaledNs {
    /// Converts, saturating at the 96-bit range.
    pub fn from_duration(d: Duration) -> Self {
        Self(d.subnanos().clamp(I96_MIN, I96_MAX))
    }
    /// The span this value names.
    pub const fn to_duration(self) -> Duration {
        Duration::from_subnanos(self.0)
    }
    /// Decodes 12 big-endian bytes (sign-extending bit 95).
    pub fn from_bytes(b: &[u8; 12]) -> Self {
        let mut w = [if b[0] & 0x80 != 0 { 0xff } else { 0 }; 16];
        w[4..].copy_from_slice(b);
        Self(i128::from_be_bytes(w))
    }
    /// Encodes 12 big-endian bytes.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b.copy_from_slice(&self.0.to_be_bytes()[4..]);
        b
    }
}

impl UScaledNs {
    /// Converts, saturating at zero and at the 96-bit range.
    pub fn from_duration(d: Duration) -> Self {
        Self((d.subnanos().max(0) as u128).min(U96_MAX))
    }
    /// The span this value names.
    pub const fn to_duration(self) -> Duration {
        // At most 2^96, far inside i128.
        Duration::from_subnanos(self.0 as i128)
    }
    /// Decodes 12 big-endian bytes.
    pub fn from_bytes(b: &[u8; 12]) -> Self {
        let mut w = [0u8; 16];
        w[4..].copy_from_slice(b);
        Self(u128::from_be_bytes(w))
    }
    /// Encodes 12 big-endian bytes.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b.copy_from_slice(&self.0.to_be_bytes()[4..]);
        b
    }
}

/// What a daemon can do with a clock. Protocol cores never call this: the daemon reads the
/// clock, passes `now` to the core and applies the servo's decisions here.
///
/// Methods take `&self` so one clock can be shared by the tasks of several ports;
/// implementations synchronise internally.
pub trait Clock {
    /// Why an operation failed (a syscall error, a closed device).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the clock.
    fn now(&self) -> Result<Time, Self::Error>;
    /// Jumps the clock by `offset` (positive: forward).
    fn step(&self, offset: Duration) -> Result<(), Self::Error>;
    /// Sets the frequency adjustment, in parts per billion of the nominal rate (positive:
    /// faster). Replaces, not adds to, the previous adjustment.
    fn set_frequency_ppb(&self, ppb: f64) -> Result<(), Self::Error>;
    /// The frequency adjustment last set, in ppb.
    fn frequency_ppb(&self) -> Result<f64, Self::Error>;
    /// The largest adjustment `set_frequency_ppb` accepts, in ppb.
    fn max_frequency_ppb(&self) -> f64;
}

/// The arithmetic of a clock derived from a reference clock: its reading is
/// `base + (reference - reference_base) * (1 + freq)`. Stepping moves `base`; changing the
/// frequency first re-anchors at the current reference reading, so the reading is continuous.
///
/// Pure: the caller passes every reference reading in. `tsn-clocks` drives it from the host's
/// monotonic clock; the simulator uses its own model of oscillators.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VirtualTimescale {
    reference_base: Time,
    base: Time,
    freq_ppb: f64,
}

impl VirtualTimescale {
    /// A timescale that reads `start` when the reference reads `reference_now`, running at
    /// `freq_ppb` relative to the reference.
    pub fn new(reference_now: Time, start: Time, freq_ppb: f64) -> Self {
        Self {
            reference_base: reference_now,
            base: start,
            freq_ppb,
        }
    }
    /// The reading at reference reading `reference_now`.
    pub fn read(&self, reference_now: Time) -> Time {
        let elapsed = reference_now - self.reference_base;
        self.base + elapsed.scale_ppb(self.freq_ppb)
    }
    /// Jumps the reading by `offset`.
    pub fn step(&mut self, offset: Duration) {
        self.base += offset;
    }
    /// Changes the rate from now on, keeping the reading continuous at `reference_now`.
    pub fn set_frequency_ppb(&mut self, reference_now: Time, ppb: f64) {
        self.base = self.read(reference_now);
        self.reference_base = reference_now;
        self.freq_ppb = ppb;
    }
    /// The current rate adjustment in ppb.
    pub fn frequency_ppb(&self) -> f64 {
        self.freq_ppb
    }
    /// The reference reading at which this timescale reads `target` (inverse of [`read`]):
    /// lets a simulator or a timer turn a deadline on this clock into a reference deadline.
    ///
    /// [`read`]: Self::read
    pub fn reference_at(&self, target: Time) -> Time {
        let local_elapsed = target - self.base;
        // 1 / (1 + f) = 1 - f / (1 + f)
        let inverse_ppb = -self.freq_ppb / (1.0 + self.freq_ppb * 1e-9);
        self.reference_base + local_elapsed.scale_ppb(inverse_ppb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_units_and_rounding() {
        assert_eq!(Duration::from_micros(3), Duration::from_nanos(3_000));
        assert_eq!(Duration::from_millis(2), Duration::from_micros(2_000));
        assert_eq!(Duration::from_secs(1).nanos(), 1_000_000_000);
        assert_eq!(
            Duration::from_subnanos(-1).nanos(),
            -1,
            "floors towards -inf"
        );
        assert_eq!(Duration::from_subnanos(0x8000).nanos_rounded_i64(), 1);
        assert_eq!(Duration::from_subnanos(0x7fff).nanos_rounded_i64(), 0);
        assert_eq!(Duration::from_nanos_f64(1.5).subnanos(), 0x18000);
        assert_eq!(Duration::from_nanos(-2).abs(), Duration::from_nanos(2));
        assert_eq!(
            Duration::from_nanos(10) / 4,
            Duration::from_subnanos(163_840)
        );
        assert_eq!(
            Duration::from_nanos(7).mul_div(3, 7),
            Duration::from_nanos(3)
        );
        assert_eq!(format!("{}", Duration::from_nanos_f64(-12.5)), "-12.5ns");
        assert_eq!(format!("{}", Duration::from_nanos(40)), "40ns");
    }

    #[test]
    fn log_intervals() {
        assert_eq!(Duration::from_log_interval(0), Duration::from_secs(1));
        assert_eq!(Duration::from_log_interval(-3), Duration::from_millis(125));
        assert_eq!(Duration::from_log_interval(3), Duration::from_secs(8));
        // 2^-16 s = 15258.7890625 ns, exact in 2^-16 ns units.
        assert_eq!(Duration::from_log_interval(-16).nanos_f64(), 15258.7890625);
        assert_eq!(
            Duration::from_log_interval(127),
            Duration::from_log_interval(30)
        );
    }

    #[test]
    fn scale_is_exact_for_long_spans() {
        // One day at +100 ppm gains exactly 8.64 s.
        let day = Duration::from_secs(86_400);
        assert_eq!(day.scale_ppb(100_000.0) - day, Duration::from_millis(8_640));
        assert_eq!(day.scale_ppb(-1.0) - day, Duration::from_nanos(-86_400));
        assert_eq!(day.scale_ppb(0.0), day);
    }

    #[test]
    fn time_arithmetic_and_grid() {
        let t = Time::from_secs_nanos(10, 5);
        assert_eq!(t + Duration::from_nanos(995) - t, Duration::from_nanos(995));
        assert_eq!(
            t.floor_to(Duration::from_nanos(8)),
            Time::from_nanos(10_000_000_000)
        );
        let base = Time::from_nanos(100);
        let p = Duration::from_nanos(1000);
        assert_eq!(
            Time::from_nanos(100).next_on_grid(base, p),
            Time::from_nanos(100)
        );
        assert_eq!(
            Time::from_nanos(101).next_on_grid(base, p),
            Time::from_nanos(1100)
        );
        assert_eq!(
            Time::from_nanos(-950).next_on_grid(base, p),
            Time::from_nanos(-900)
        );
        assert_eq!(format!("{}", Time::from_secs_nanos(3, 7)), "3.000000007");
        assert_eq!(
            format!("{}", Time::from_subnanos(-1)),
            "-0.000000000+1/65536"
        );
        assert_eq!(format!("{}", Time::from_nanos(-900)), "-0.000000900");
        assert_eq!(
            format!("{}", Time::from_subnanos(0x18000)),
            "0.000000001+32768/65536"
        );
    }

    #[test]
    fn ptp_timestamp_wire_form() {
        let ts = PtpTimestamp {
            seconds: 0x0000_1234_5678_9abc,
            nanoseconds: 999_999_999,
        };
        let b = ts.to_bytes();
        assert_eq!(
            b,
            [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x3b, 0x9a, 0xc9, 0xff]
        );
        assert_eq!(PtpTimestamp::from_bytes(&b), Some(ts));
        let mut bad = b;
        bad[6..].copy_from_slice(&1_000_000_000u32.to_be_bytes());
        assert_eq!(PtpTimestamp::from_bytes(&bad), None);
        let t = ts.to_time() + Duration::from_subnanos(7);
        assert_eq!(PtpTimestamp::from_time(t), Some(ts));
        assert_eq!(PtpTimestamp::from_time(Time::from_nanos(-1)), None);
        assert_eq!(
            PtpTimestamp::from_time(Time::from_secs_nanos(1 << 48, 0)),
            None
        );
    }

    #[test]
    fn scaled_ns_forms() {
        let d = Duration::from_nanos_f64(-2.5);
        let c = TimeInterval::from_duration(d);
        assert_eq!(c.0, -0x28000);
        assert_eq!(c.to_duration(), d);
        assert_eq!(
            TimeInterval::from_duration(Duration::from_secs(1 << 40)),
            TimeInterval::TOO_LARGE
        );
        let s = ScaledNs::from_duration(d);
        assert_eq!(
            s.to_bytes(),
            [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0x80, 0
            ]
        );
        assert_eq!(ScaledNs::from_bytes(&s.to_bytes()), s);
        let u = UScaledNs::from_duration(Duration::from_nanos(1));
        assert_eq!(u.to_bytes(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(
            UScaledNs::from_bytes(&u.to_bytes()).to_duration(),
            Duration::from_nanos(1)
        );
        assert_eq!(
            UScaledNs::from_duration(-d),
            UScaledNs::from_duration(Duration::from_nanos_f64(2.5))
        );
        assert_eq!(
            UScaledNs::from_duration(d),
            UScaledNs::default(),
            "negative saturates to 0"
        );
    }

    #[test]
    fn virtual_timescale_runs_steps_and_stays_continuous() {
        let r0 = Time::from_secs_nanos(1000, 0);
        let mut v = VirtualTimescale::new(r0, Time::from_secs_nanos(5, 0), 100_000.0);
        // +100 ppm: 10 s of reference is 10.001 s of virtual time.
        let r1 = r0 + Duration::from_secs(10);
        assert_eq!(v.read(r1), Time::from_secs_nanos(15, 1_000_000));
        v.step(Duration::from_millis(-1));
        assert_eq!(v.read(r1), Time::from_secs_nanos(15, 0));
        // A frequency change keeps the reading continuous and applies from then on.
        v.set_frequency_ppb(r1, -50_000.0);
        assert_eq!(v.read(r1), Time::from_secs_nanos(15, 0));
        let r2 = r1 + Duration::from_secs(2);
        assert_eq!(v.read(r2), Time::from_secs_nanos(16, 999_900_000));
        assert_eq!(v.frequency_ppb(), -50_000.0);
        // The inverse lands within one subnano unit.
        let target = Time::from_secs_nanos(20, 0);
        let back = v.read(v.reference_at(target));
        assert!(
            (back - target).abs() <= Duration::from_subnanos(1),
            "{back} vs {target}"
        );
    }
}
