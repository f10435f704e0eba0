//! The transmission-gate hook of egress ports (802.1Qbv).

use core::fmt;
use tsn_time::{Duration, Time};

/// Decides when each traffic class of an egress port may start a transmission.
///
/// Set one per port with [`Simulator::set_gate`](crate::Simulator::set_gate); the default is
/// [`AlwaysOpen`]. All times are on the node's **local** clock (true reading, not a
/// timestamp), as a bridge runs its gate control list from its own (PTP-disciplined) clock.
///
/// The port picks the highest traffic class whose queue is not empty and for which
/// [`may_start`](Self::may_start) holds; if none does, it waits until
/// [`next_change`](Self::next_change) and asks again (it also asks again whenever a frame is
/// queued or the transmitter becomes free).
pub trait Gate: fmt::Debug {
    /// Whether the gate of traffic class `tc` (0..=7) is open at local time `at`.
    fn is_open(&self, tc: u8, at: Time) -> bool;

    /// The first local instant strictly after `after` at which any gate may change, or `None`
    /// if none ever will. Returning instants that are not real changes is allowed (the port
    /// just asks again); returning one not after `after` is treated as `None`.
    fn next_change(&self, after: Time) -> Option<Time>;

    /// Whether a frame of class `tc` that occupies the wire for `tx_duration` (global
    /// time, including the per-frame overhead) may start at local time `at`. The default is
    /// [`is_open`](Self::is_open); an 802.1Qbv implementation overrides it to also require
    /// that the transmission completes before the gate closes.
    fn may_start(&self, tc: u8, at: Time, tx_duration: Duration) -> bool {
        let _ = tx_duration;
        self.is_open(tc, at)
    }
}

/// Every gate always open: plain strict priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlwaysOpen;

impl Gate for AlwaysOpen {
    fn is_open(&self, _tc: u8, _at: Time) -> bool {
        true
    }
    fn next_change(&self, _after: Time) -> Option<Time> {
        None
    }
}

/// A minimal cyclic gate control list: entries of `(gate states, interval)` repeated every
/// cycle (the sum of the intervals) from `base_time`, in both directions of time. Bit `tc`
/// of the gate states opens traffic class `tc`. [`may_start`](Gate::may_start) requires the
/// whole transmission to fit before the gate closes (no transmission overrun).
///
/// A reference for tests; the 802.1Qbv crate brings its own model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateControlList {
    base_time: Time,
    entries: Vec<(u8, Duration)>,
    cycle: Duration,
}

impl GateControlList {
    /// A list starting at `base_time`. Entries with a non-positive interval are dropped; a
    /// list with no entries left has every gate open.
    pub fn new(base_time: Time, entries: impl IntoIterator<Item = (u8, Duration)>) -> Self {
        let entries: Vec<_> = entries
            .into_iter()
            .filter(|(_, d)| *d > Duration::ZERO)
            .collect();
        let cycle = entries.iter().fold(Duration::ZERO, |a, (_, d)| a + *d);
        Self {
            base_time,
            entries,
            cycle,
        }
    }

    /// Index of the entry active at `at` and the instant that entry ends.
    fn locate(&self, at: Time) -> Option<(usize, Time)> {
        if self.entries.is_empty() {
            return None;
        }
        let into = Duration::from_subnanos(
            (at - self.base_time)
                .subnanos()
                .rem_euclid(self.cycle.subnanos()),
        );
        let cycle_start = at - into;
        let mut end = Duration::ZERO;
        for (i, (_, d)) in self.entries.iter().enumerate() {
            end += *d;
            if into < end {
                return Some((i, cycle_start + end));
            }
        }
        // Unreachable: `into < cycle`, the sum of the intervals.
        None
    }

    /// The instant gate `tc` closes if it is open at `at`: `None` if closed, `Time::MAX` if
    /// it never closes.
    fn open_until(&self, tc: u8, at: Time) -> Option<Time> {
        let bit = 1u8.checked_shl(u32::from(tc)).unwrap_or(0);
        let Some((mut i, mut end)) = self.locate(at) else {
            return Some(Time::MAX);
        };
        if self.entries[i].0 & bit == 0 {
            return None;
        }
        for _ in 0..self.entries.len() {
            i = (i + 1) % self.entries.len();
            if self.entries[i].0 & bit == 0 {
                return Some(end);
            }
            end += self.entries[i].1;
        }
        Some(Time::MAX)
    }
}

impl Gate for GateControlList {
    fn is_open(&self, tc: u8, at: Time) -> bool {
        self.open_until(tc, at).is_some()
    }

    fn next_change(&self, after: Time) -> Option<Time> {
        self.locate(after).map(|(_, end)| end)
    }

    fn may_start(&self, tc: u8, at: Time, tx_duration: Duration) -> bool {
        self.open_until(tc, at)
            .is_some_and(|until| until == Time::MAX || at + tx_duration <= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(v: i128) -> Time {
        Time::from_nanos(v)
    }

    #[test]
    fn gate_control_list_cycles_both_ways_in_time() {
        // tc0: open 0..300, closed 300..1000; tc1: the opposite. Base 100 ns.
        let gcl = GateControlList::new(
            ns(100),
            [
                (0b01, Duration::from_nanos(300)),
                (0b10, Duration::from_nanos(700)),
            ],
        );
        assert!(gcl.is_open(0, ns(100)) && !gcl.is_open(1, ns(100)));
        assert!(!gcl.is_open(0, ns(400)) && gcl.is_open(1, ns(400)));
        assert!(gcl.is_open(0, ns(1_399)), "next cycle");
        assert!(gcl.is_open(0, ns(99 - 700)), "before the base time");
        assert_eq!(gcl.next_change(ns(100)), Some(ns(400)));
        assert_eq!(gcl.next_change(ns(399)), Some(ns(400)));
        assert_eq!(gcl.next_change(ns(400)), Some(ns(1_100)));
        // 200 ns left of the window: a 200 ns frame fits, a 201 ns one does not.
        assert!(gcl.may_start(0, ns(200), Duration::from_nanos(200)));
        assert!(!gcl.may_start(0, ns(200), Duration::from_nanos(201)));
        assert!(
            !gcl.may_start(2, ns(200), Duration::ZERO),
            "class 2 never opens"
        );
    }

    #[test]
    fn open_across_entries_and_forever() {
        let gcl = GateControlList::new(
            Time::EPOCH,
            [
                (0b11, Duration::from_nanos(100)),
                (0b01, Duration::from_nanos(100)),
                (0b10, Duration::from_nanos(100)),
            ],
        );
        // tc0 is open through the first two entries: closes at 200.
        assert!(gcl.may_start(0, ns(50), Duration::from_nanos(150)));
        assert!(!gcl.may_start(0, ns(50), Duration::from_nanos(151)));
        // tc1 is open in the last and (next cycle) first entry: 200..400.
        assert!(gcl.may_start(1, ns(250), Duration::from_nanos(150)));
        let always = GateControlList::new(Time::EPOCH, [(0xff, Duration::from_nanos(10))]);
        assert!(always.may_start(3, ns(5), Duration::from_secs(1)));
        let empty = GateControlList::new(Time::EPOCH, []);
        assert!(empty.is_open(0, ns(5)) && empty.next_change(ns(5)).is_none());
    }
}
