//! Host clocks behind [`tsn_time::Clock`]: what the daemons read and steer.
//!
//! - [`SystemClock`]: reads `CLOCK_TAI`, steers the system clock with `clock_adjtime` (through
//!   the `clock-steering` crate). Stepping or slewing it changes the time of every process on the
//!   host, so daemons only do so when their configuration says so.
//! - [`PhcClock`]: a PTP hardware clock, `/dev/ptpN`.
//! - [`VirtualClock`]: a clock of its own, derived from the host's monotonic clock plus its own
//!   offset and frequency adjustment. It never touches a host clock, which is what lets several
//!   daemons on one machine (all sharing one kernel clock) each run a servo and be compared.
//!
//! Protocol cores never use these: a daemon reads the clock, passes the reading to the core and
//! applies the core's servo output here.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clock_steering::unix::UnixClock;
use clock_steering::{Clock as _, TimeOffset};
use tsn_time::{Clock, Duration, Time, VirtualTimescale};

/// Why a clock operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// A PHC device could not be opened.
    #[error("cannot open PTP hardware clock {path}: {source}")]
    Open {
        /// The device path.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A read or adjustment was refused by the kernel.
    #[error("{op} failed: {source}{hint}")]
    Os {
        /// The operation, e.g. `clock_adjtime(ADJ_FREQUENCY)`.
        op: &'static str,
        /// What the kernel said.
        source: std::io::Error,
        /// A hint on what to do, possibly empty.
        hint: &'static str,
    },
    /// A frequency adjustment beyond what the clock accepts.
    #[error("frequency adjustment {ppb} ppb is outside +-{max} ppb")]
    FrequencyOutOfRange {
        /// The requested adjustment.
        ppb: f64,
        /// The clock's limit.
        max: f64,
    },
}

fn steer_err(op: &'static str, e: clock_steering::unix::Error) -> ClockError {
    let hint = match e {
        clock_steering::unix::Error::NoPermission => " (steering a host clock needs CAP_SYS_TIME)",
        _ => "",
    };
    ClockError::Os {
        op,
        source: e.into(),
        hint,
    }
}

/// Reads a POSIX clock. A one-liner over libc: `clock-steering` reads CLOCK_REALTIME through
/// `ntp_adjtime`, which reports microseconds unless STA_NANO is set, too coarse for PTP.
fn gettime(clock: libc::clockid_t) -> Result<Time, ClockError> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; an invalid clock id only yields EINVAL.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(ClockError::Os {
            op: "clock_gettime",
            source: std::io::Error::last_os_error(),
            hint: "",
        });
    }
    Ok(Time::from_secs_nanos(ts.tv_sec, ts.tv_nsec as u32))
}

/// The host's `CLOCK_TAI` reading. Equals `CLOCK_REALTIME` when the kernel's TAI offset is unset
/// (no NTP or PTP daemon has set it), which is common.
pub fn host_tai() -> Result<Time, ClockError> {
    gettime(libc::CLOCK_TAI)
}

/// The host's `CLOCK_MONOTONIC` reading (time since boot, never stepped).
pub fn host_monotonic() -> Result<Time, ClockError> {
    gettime(libc::CLOCK_MONOTONIC)
}

fn to_offset(d: Duration) -> TimeOffset {
    let ns = d.nanos();
    TimeOffset {
        seconds: ns.div_euclid(1_000_000_000) as libc::time_t,
        nanos: ns.rem_euclid(1_000_000_000) as u32,
    }
}

/// The kernel accepts +-500 ppm through `ADJ_FREQUENCY` on the system clock and on most PHCs.
const KERNEL_MAX_PPB: f64 = 500_000.0;

fn check_range(ppb: f64, max: f64) -> Result<(), ClockError> {
    if ppb.is_finite() && ppb.abs() <= max {
        Ok(())
    } else {
        Err(ClockError::FrequencyOutOfRange { ppb, max })
    }
}

/// The system clock on the TAI timescale.
#[derive(Debug, Default)]
pub struct SystemClock {
    _private: (),
}

impl SystemClock {
    /// The system clock. Opening it changes nothing; only [`Clock::step`] and
    /// [`Clock::set_frequency_ppb`] do.
    pub fn new() -> Self {
        Self { _private: () }
    }
}

impl Clock for SystemClock {
    type Error = ClockError;

    fn now(&self) -> Result<Time, ClockError> {
        host_tai()
    }
    fn step(&self, offset: Duration) -> Result<(), ClockError> {
        UnixClock::CLOCK_REALTIME
            .step_clock(to_offset(offset))
            .map(drop)
            .map_err(|e| steer_err("clock_adjtime(ADJ_SETOFFSET)", e))
    }
    fn set_frequency_ppb(&self, ppb: f64) -> Result<(), ClockError> {
        check_range(ppb, KERNEL_MAX_PPB)?;
        // clock-steering takes ppm (it scales by 2^16 into timex.freq).
        UnixClock::CLOCK_REALTIME
            .set_frequency(ppb / 1000.0)
            .map(drop)
            .map_err(|e| steer_err("clock_adjtime(ADJ_FREQUENCY)", e))
    }
    fn frequency_ppb(&self) -> Result<f64, ClockError> {
        UnixClock::CLOCK_REALTIME
            .get_frequency()
            .map(|ppm| ppm * 1000.0)
            .map_err(|e| steer_err("clock_adjtime", e))
    }
    fn max_frequency_ppb(&self) -> f64 {
        KERNEL_MAX_PPB
    }
}

/// A PTP hardware clock (`/dev/ptpN`), on the timescale the PHC keeps (TAI for gPTP).
#[derive(Debug)]
pub struct PhcClock {
    path: PathBuf,
    clock: UnixClock,
}

impl PhcClock {
    /// Opens a PHC device, read-write (steering needs write access).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ClockError> {
        let path = path.as_ref().to_path_buf();
        let clock = UnixClock::open(&path).map_err(|source| ClockError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, clock })
    }
    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Clock for PhcClock {
    type Error = ClockError;

    fn now(&self) -> Result<Time, ClockError> {
        let ts = self
            .clock
            .now()
            .map_err(|e| steer_err("clock_gettime(PHC)", e))?;
        Ok(Time::from_secs_nanos(ts.seconds, ts.nanos))
    }
    fn step(&self, offset: Duration) -> Result<(), ClockError> {
        self.clock
            .step_clock(to_offset(offset))
            .map(drop)
            .map_err(|e| steer_err("clock_adjtime(PHC, ADJ_SETOFFSET)", e))
    }
    fn set_frequency_ppb(&self, ppb: f64) -> Result<(), ClockError> {
        check_range(ppb, KERNEL_MAX_PPB)?;
        self.clock
            .set_frequency(ppb / 1000.0)
            .map(drop)
            .map_err(|e| steer_err("clock_adjtime(PHC, ADJ_FREQUENCY)", e))
    }
    fn frequency_ppb(&self) -> Result<f64, ClockError> {
        self.clock
            .get_frequency()
            .map(|ppm| ppm * 1000.0)
            .map_err(|e| steer_err("clock_adjtime(PHC)", e))
    }
    fn max_frequency_ppb(&self) -> f64 {
        KERNEL_MAX_PPB
    }
}

/// Where a [`VirtualClock`] gets its sense of elapsed time. The host implementation reads
/// `CLOCK_MONOTONIC`; tests substitute a hand-driven one.
pub trait Reference {
    /// The current reference reading.
    fn now(&self) -> Result<Time, ClockError>;
}

/// The host's `CLOCK_MONOTONIC`.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostMonotonic;

impl Reference for HostMonotonic {
    fn now(&self) -> Result<Time, ClockError> {
        host_monotonic()
    }
}

/// A software clock: the host's monotonic clock plus its own offset and frequency adjustment.
/// Nothing it does reaches a host clock.
///
/// Every instance on a host runs from the same kernel oscillator, so two virtual clocks differ
/// only by what was set on them and what their servos did: [`VirtualClock::offset_from_host`]
/// lets a test compute the true error between two daemons.
#[derive(Debug)]
pub struct VirtualClock<R: Reference = HostMonotonic> {
    reference: R,
    scale: Mutex<VirtualTimescale>,
    // Reference reading and host TAI reading taken together at creation, so the offset from
    // host TAI can be computed later without a second, racy pair of reads.
    anchor_reference: Time,
    anchor_tai: Time,
    max_ppb: f64,
}

/// The largest frequency adjustment a virtual clock accepts: 1 %, far beyond any oscillator, so
/// tests can model a badly wrong clock.
pub const VIRTUAL_MAX_PPB: f64 = 10_000_000.0;

impl VirtualClock<HostMonotonic> {
    /// A virtual clock that starts at host `CLOCK_TAI` plus `offset` and runs `freq_ppb` fast
    /// relative to the host's oscillator (a modelled frequency error, not a servo setting).
    pub fn new(offset: Duration, freq_ppb: f64) -> Result<Self, ClockError> {
        let anchor_tai = host_tai()?;
        Self::with_reference(HostMonotonic, anchor_tai, offset, freq_ppb)
    }
}

impl<R: Reference> VirtualClock<R> {
    /// A virtual clock driven by `reference`, reading `host_tai + offset` now.
    pub fn with_reference(
        reference: R,
        host_tai: Time,
        offset: Duration,
        freq_ppb: f64,
    ) -> Result<Self, ClockError> {
        check_range(freq_ppb, VIRTUAL_MAX_PPB)?;
        let anchor_reference = reference.now()?;
        Ok(Self {
            reference,
            scale: Mutex::new(VirtualTimescale::new(
                anchor_reference,
                host_tai + offset,
                freq_ppb,
            )),
            anchor_reference,
            anchor_tai: host_tai,
            max_ppb: VIRTUAL_MAX_PPB,
        })
    }

    fn scale(&self) -> std::sync::MutexGuard<'_, VirtualTimescale> {
        // A poisoned lock only means another thread panicked mid-update of plain numbers.
        self.scale.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This clock's reading minus the host's `CLOCK_TAI`, both at the same instant. The host
    /// reading is derived from the reference (monotonic) clock, so it is immune to the host
    /// clock being stepped meanwhile, and two instances can be compared exactly.
    pub fn offset_from_host(&self) -> Result<Duration, ClockError> {
        let r = self.reference.now()?;
        let host = self.anchor_tai + (r - self.anchor_reference);
        Ok(self.scale().read(r) - host)
    }
}

impl<R: Reference> Clock for VirtualClock<R> {
    type Error = ClockError;

    fn now(&self) -> Result<Time, ClockError> {
        let r = self.reference.now()?;
        Ok(self.scale().read(r))
    }
    fn step(&self, offset: Duration) -> Result<(), ClockError> {
        self.scale().step(offset);
        Ok(())
    }
    fn set_frequency_ppb(&self, ppb: f64) -> Result<(), ClockError> {
        check_range(ppb, self.max_ppb)?;
        let r = self.reference.now()?;
        self.scale().set_frequency_ppb(r, ppb);
        Ok(())
    }
    fn frequency_ppb(&self) -> Result<f64, ClockError> {
        Ok(self.scale().frequency_ppb())
    }
    fn max_frequency_ppb(&self) -> f64 {
        self.max_ppb
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    /// A reference clock the test moves by hand.
    #[derive(Clone, Default)]
    struct Manual(Arc<AtomicI64>);
    impl Manual {
        fn advance(&self, d: Duration) {
            self.0.fetch_add(d.nanos() as i64, Ordering::SeqCst);
        }
    }
    impl Reference for Manual {
        fn now(&self) -> Result<Time, ClockError> {
            Ok(Time::from_nanos(self.0.load(Ordering::SeqCst) as i128))
        }
    }

    #[test]
    fn virtual_clock_offset_frequency_and_step() {
        let r = Manual::default();
        let tai = Time::from_secs_nanos(1_700_000_000, 0);
        let c = VirtualClock::with_reference(r.clone(), tai, Duration::from_millis(1), 100_000.0)
            .unwrap();
        assert_eq!(c.now().unwrap(), tai + Duration::from_millis(1));
        assert_eq!(c.offset_from_host().unwrap(), Duration::from_millis(1));
        // +100 ppm for 10 s: 1 ms more.
        r.advance(Duration::from_secs(10));
        assert_eq!(c.offset_from_host().unwrap(), Duration::from_millis(2));
        // The servo cancels the error and steps back.
        c.set_frequency_ppb(0.0).unwrap();
        c.step(Duration::from_millis(-2)).unwrap();
        r.advance(Duration::from_secs(100));
        assert_eq!(c.offset_from_host().unwrap(), Duration::ZERO);
        assert_eq!(c.frequency_ppb().unwrap(), 0.0);
        assert!(matches!(
            c.set_frequency_ppb(2.0 * VIRTUAL_MAX_PPB),
            Err(ClockError::FrequencyOutOfRange { .. })
        ));
        assert!(c.set_frequency_ppb(f64::NAN).is_err());
    }

    #[test]
    fn host_virtual_clock_tracks_host_tai() {
        // Read-only: compares against CLOCK_TAI, adjusts nothing on the host.
        let c = VirtualClock::new(Duration::from_secs(-5), 0.0).unwrap();
        let diff = c.now().unwrap() - host_tai().unwrap() + Duration::from_secs(5);
        assert!(
            diff.abs() < Duration::from_millis(50),
            "virtual - tai - offset = {diff}"
        );
        let off = c.offset_from_host().unwrap();
        assert!(
            (off + Duration::from_secs(5)).abs() < Duration::from_micros(1),
            "{off}"
        );
    }

    #[test]
    fn system_clock_reads_tai_without_adjusting() {
        let c = SystemClock::new();
        let before = c.frequency_ppb().unwrap();
        let t = c.now().unwrap();
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        // TAI is REALTIME plus the kernel's TAI offset (0 to 37 s on real hosts).
        let ahead = t - Time::from_nanos(unix.as_nanos() as i128);
        assert!(
            ahead > Duration::from_millis(-50) && ahead < Duration::from_secs(38),
            "CLOCK_TAI - CLOCK_REALTIME = {ahead}"
        );
        assert_eq!(c.frequency_ppb().unwrap(), before);
        assert!(
            c.set_frequency_ppb(1e9).is_err(),
            "rejected before the kernel is asked"
        );
    }

    #[test]
    fn phc_open_failure_names_the_device() {
        let e = PhcClock::open("/dev/ptp-does-not-exist").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/dev/ptp-does-not-exist"), "{msg}");
        assert!(msg.contains("No such file"), "{msg}");
    }

    #[test]
    fn negative_offsets_normalise_for_adj_setoffset() {
        let o = to_offset(Duration::from_nanos(-1_500_000_000));
        assert_eq!((o.seconds, o.nanos), (-2, 500_000_000));
        let o = to_offset(Duration::from_nanos(2_000_000_001));
        assert_eq!((o.seconds, o.nanos), (2, 1));
    }
}
