//! The clock the daemon runs: its readings are what the core sees as "local time".
//!
//! The core works on the PTP timescale (TAI). The host's `CLOCK_TAI` is only TAI when the
//! kernel's TAI offset has been set (by an NTP or PTP daemon); when it is unset `CLOCK_TAI`
//! equals `CLOCK_REALTIME`, i.e. UTC. In that case gptpd takes `CLOCK_REALTIME +
//! current-utc-offset` as TAI, so what it sends as grandmaster is on the PTP timescale (a
//! ptp4l slave subtracts currentUtcOffset again) and what a slave reads is TAI.

use tsn_clocks::{ClockError, PhcClock, SystemClock, VirtualClock};
use tsn_time::{Clock as _, Duration, Time};

/// The kernel's clock discipline state, read with a read-only `adjtimex` (modes 0): lets
/// tests prove no host clock was touched.
pub fn read_adjtimex() -> std::io::Result<libc::timex> {
    // SAFETY: a zeroed timex with modes 0 only reads the kernel's state.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `tx` is a valid, writable timex.
    if unsafe { libc::adjtimex(&mut tx) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(tx)
}

/// The kernel's TAI offset in seconds (0: unset).
pub fn kernel_tai_offset() -> std::io::Result<i32> {
    read_adjtimex().map(|t| t.tai)
}

fn realtime() -> Result<Time, ClockError> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) } != 0 {
        return Err(ClockError::Os {
            op: "clock_gettime(CLOCK_REALTIME)",
            source: std::io::Error::last_os_error(),
            hint: "",
        });
    }
    Ok(Time::from_secs_nanos(ts.tv_sec, ts.tv_nsec as u32))
}

/// A linear map from `CLOCK_REALTIME` to a [`LocalClock`]: one reading pair and the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealtimeMap {
    rt0: Time,
    local0: Time,
    ppb: f64,
}

impl RealtimeMap {
    /// The local time of a `CLOCK_REALTIME` timestamp.
    pub fn convert(&self, ts: Time) -> Time {
        self.local0 + (ts - self.rt0).scale_ppb(self.ppb)
    }
}

/// One of the three clocks, with the bookkeeping the daemon needs on top.
#[derive(Debug)]
pub enum LocalClock {
    /// The system clock, read as TAI (see the module docs).
    System {
        /// The clock.
        clock: SystemClock,
        /// Added to `CLOCK_TAI` to make it TAI: 0 when the kernel's TAI offset is set,
        /// currentUtcOffset when it is not.
        tai_fix: Duration,
        /// Whether the servo may steer it.
        steer: bool,
    },
    /// A PHC.
    Phc {
        /// The clock.
        clock: PhcClock,
        /// Whether the servo may steer it.
        steer: bool,
    },
    /// A virtual clock.
    Virtual {
        /// The clock.
        clock: VirtualClock,
        /// The modelled oscillator error; servo adjustments are applied on top of it.
        base_ppb: f64,
    },
}

impl LocalClock {
    /// A virtual clock at host TAI (fixed as in the module docs) plus `offset`, running
    /// `freq_ppb` fast.
    pub fn new_virtual(
        offset: Duration,
        freq_ppb: f64,
        tai_fix: Duration,
    ) -> Result<Self, ClockError> {
        Ok(Self::Virtual {
            clock: VirtualClock::new(offset + tai_fix, freq_ppb)?,
            base_ppb: freq_ppb,
        })
    }

    /// Name for status and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::System { .. } => "system",
            Self::Phc { .. } => "phc",
            Self::Virtual { .. } => "virtual",
        }
    }

    /// Whether servo output is applied.
    pub fn steered(&self) -> bool {
        match self {
            Self::System { steer, .. } | Self::Phc { steer, .. } => *steer,
            Self::Virtual { .. } => true,
        }
    }

    /// The current reading.
    pub fn now(&self) -> Result<Time, ClockError> {
        match self {
            Self::System { clock, tai_fix, .. } => Ok(clock.now()? + *tai_fix),
            Self::Phc { clock, .. } => clock.now(),
            Self::Virtual { clock, .. } => clock.now(),
        }
    }

    /// The current mapping from `CLOCK_REALTIME` (software timestamps) to this clock. Valid
    /// until the clock is stepped or its frequency changes.
    pub fn realtime_map(&self) -> Result<RealtimeMap, ClockError> {
        let os = |op, source| ClockError::Os {
            op,
            source,
            hint: "",
        };
        match self {
            Self::System { tai_fix, .. } => {
                // Same oscillator: CLOCK_TAI is CLOCK_REALTIME plus the kernel's TAI offset.
                let tai = kernel_tai_offset().map_err(|e| os("adjtimex", e))?;
                let rt0 = realtime()?;
                Ok(RealtimeMap {
                    rt0,
                    local0: rt0 + Duration::from_secs(i64::from(tai)) + *tai_fix,
                    ppb: 0.0,
                })
            }
            Self::Virtual { clock, .. } => {
                // The clock's offset from host TAI comes from one monotonic read of its own,
                // so it needs no pairing with a second clock read (a pairing error here
                // would bias every timestamp).
                let tai = kernel_tai_offset().map_err(|e| os("adjtimex", e))?;
                let rt0 = realtime()?;
                let off = clock.offset_from_host()?;
                Ok(RealtimeMap {
                    rt0,
                    local0: rt0 + Duration::from_secs(i64::from(tai)) + off,
                    ppb: tsn_time::Clock::frequency_ppb(clock)?,
                })
            }
            Self::Phc { clock, .. } => {
                // The PHC reading sandwiched between two CLOCK_REALTIME reads; the narrowest
                // of a few sandwiches bounds the pairing error by half its width.
                let mut best: Option<(Duration, Time, Time)> = None;
                for _ in 0..5 {
                    let rt1 = realtime()?;
                    let local = tsn_time::Clock::now(clock)?;
                    let rt2 = realtime()?;
                    let width = rt2 - rt1;
                    if best.is_none_or(|(w, _, _)| width < w) {
                        best = Some((width, rt1 + width / 2, local));
                    }
                }
                let (_, rt0, local0) = best.expect("five samples taken");
                Ok(RealtimeMap {
                    rt0,
                    local0,
                    ppb: 0.0,
                })
            }
        }
    }

    /// Applies a servo frequency (ppb, replacing the previous one) if the clock is steered.
    pub fn set_frequency(&self, ppb: f64) -> Result<(), ClockError> {
        match self {
            Self::System { clock, steer, .. } if *steer => clock.set_frequency_ppb(ppb),
            Self::Phc { clock, steer } if *steer => clock.set_frequency_ppb(ppb),
            Self::Virtual { clock, base_ppb } => {
                // (1 + e)(1 + a) - 1, in ppb.
                clock.set_frequency_ppb(base_ppb + ppb + base_ppb * ppb * 1e-9)
            }
            _ => Ok(()),
        }
    }

    /// Steps the clock if it is steered.
    pub fn step(&self, offset: Duration) -> Result<(), ClockError> {
        match self {
            Self::System { clock, steer, .. } if *steer => clock.step(offset),
            Self::Phc { clock, steer } if *steer => clock.step(offset),
            Self::Virtual { clock, .. } => clock.step(offset),
            _ => Ok(()),
        }
    }

    /// For a virtual clock: its reading minus the host's `CLOCK_TAI`.
    pub fn virtual_offset_from_host(&self) -> Option<Duration> {
        match self {
            Self::Virtual { clock, .. } => clock.offset_from_host().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_servo_frequency_adds_to_the_modelled_error() {
        let c =
            LocalClock::new_virtual(Duration::from_micros(5), 20_000.0, Duration::ZERO).unwrap();
        c.set_frequency(-20_000.0).unwrap();
        let LocalClock::Virtual { clock, .. } = &c else {
            unreachable!()
        };
        // Cancelling the error leaves -0.4 ppb of second-order term.
        let f = tsn_time::Clock::frequency_ppb(clock).unwrap();
        assert!((f + 0.4).abs() < 1e-6, "{f}");
        let off = c.virtual_offset_from_host().unwrap();
        assert!(
            (off - Duration::from_micros(5)).nanos_f64().abs() < 50_000.0,
            "{off}"
        );
    }

    #[test]
    fn software_timestamps_convert_with_the_clock_offset() {
        let c = LocalClock::new_virtual(Duration::from_secs(3), 0.0, Duration::ZERO).unwrap();
        let rt = realtime().unwrap();
        let local = c.realtime_map().unwrap().convert(rt);
        let err = (local - rt - Duration::from_secs(3)).nanos_f64()
            - kernel_tai_offset().unwrap() as f64 * 1e9;
        assert!(err.abs() < 1e6, "{err} ns");
    }
}
