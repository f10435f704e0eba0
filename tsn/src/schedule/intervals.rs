//! Disjoint half-open intervals on a cyclic timeline `[0, len)`, in a `BTreeMap` so a port
//! with hundreds of thousands of frame instances answers each query in `O(log n)`.

use std::collections::BTreeMap;

/// A set of disjoint intervals on the circle of circumference `len`. Intervals that wrap are
/// stored as two pieces.
#[derive(Debug, Clone)]
pub(crate) struct CyclicSet {
    len: u64,
    /// start -> end, `start < end <= len`.
    map: BTreeMap<u64, u64>,
}

impl CyclicSet {
    pub(crate) fn new(len: u64) -> Self {
        Self {
            len,
            map: BTreeMap::new(),
        }
    }

    /// Splits `[pos, pos + dur)` (reduced modulo `len`, `0 < dur <= len`) into linear pieces
    /// `(start, end, extra)`, where `extra` is how far the piece lies after `pos` on the
    /// unrolled timeline minus its `start` (0 or `len`).
    fn pieces(&self, pos: u64, dur: u64) -> [(u64, u64, u64); 2] {
        let pos = pos % self.len;
        let end = pos + dur;
        if end <= self.len {
            [(pos, end, 0), (0, 0, 0)]
        } else {
            [(pos, self.len, 0), (0, end - self.len, self.len)]
        }
    }

    /// If `[pos, pos + dur)` (cyclic) meets a stored interval, how far it must move forward
    /// to clear the latest-ending one it meets (it may then meet others further on).
    pub(crate) fn conflict_shift(&self, pos: u64, dur: u64) -> Option<u64> {
        let pos = pos % self.len;
        let mut shift = None;
        for (start, end, extra) in self.pieces(pos, dur) {
            if start >= end {
                continue;
            }
            // Intervals are disjoint and sorted, so the last one starting before `end` has
            // the largest end among those that could intersect.
            if let Some((_, &e)) = self.map.range(..end).next_back()
                && e > start
            {
                shift = Some(e + extra - pos);
            }
        }
        shift
    }

    /// Adds `[pos, pos + dur)` (cyclic, `0 < dur <= len`); the caller guarantees it is
    /// disjoint from the stored intervals. Touching intervals are merged, so one
    /// [`conflict_shift`](Self::conflict_shift) clears a whole run of back-to-back frames.
    pub(crate) fn insert(&mut self, pos: u64, dur: u64) {
        for (mut start, mut end, _) in self.pieces(pos, dur) {
            if start >= end {
                continue;
            }
            if let Some((&s, &e)) = self.map.range(..start).next_back()
                && e == start
            {
                self.map.remove(&s);
                start = s;
            }
            if let Some(e) = self.map.remove(&end) {
                end = e;
            }
            self.map.insert(start, end);
        }
    }
}

/// Where FIFO order lets a frame start, given the frames already in its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fifo {
    /// Another frame enters the queue at the same instant: their order would be undefined.
    Simultaneous,
    /// The frame must start at least `after` after it arrives (it queues behind the frame
    /// that arrived before it) and, if `before` is `Some((arrival, start))`, strictly before
    /// `start` (relative to its own arrival) of the next frame to arrive, which arrives at
    /// `arrival`.
    Bounds {
        /// Earliest start, relative to the arrival.
        after: u64,
        /// The next frame to arrive: its arrival and its start, relative to this arrival.
        before: Option<(u64, u64)>,
    },
}

/// The frames of one FIFO queue over the cyclic timeline `[0, len)`: arrival (modulo `len`)
/// -> wait until the start of transmission.
///
/// Frames may share the queue, but they must leave in the order they arrive, so the queue intervals `[arrival, start]` never nest. The
/// stored frames keep that invariant, hence sorted by arrival they are sorted by start too,
/// and a new frame is constrained only by its two neighbours in arrival order.
#[derive(Debug, Clone)]
pub(crate) struct QueueSet {
    len: u64,
    map: BTreeMap<u64, u64>,
}

impl QueueSet {
    pub(crate) fn new(len: u64) -> Self {
        Self {
            len,
            map: BTreeMap::new(),
        }
    }

    /// The FIFO constraints on a frame arriving at `q` (cyclic).
    pub(crate) fn bounds(&self, q: u64) -> Fifo {
        let q = q % self.len;
        if self.map.contains_key(&q) {
            return Fifo::Simultaneous;
        }
        let len = i128::from(self.len);
        let q_i = i128::from(q);
        // Predecessor in arrival order (the last one before q, or the last of the previous
        // cycle): the new frame must start after it.
        let pred = self
            .map
            .range(..q)
            .next_back()
            .map(|(&a, &w)| i128::from(a) + i128::from(w))
            .or_else(|| {
                let (&a, &w) = self.map.iter().next_back()?;
                Some(i128::from(a) - len + i128::from(w))
            });
        let after = pred.map_or(0, |start| (start - q_i + 1).max(0));
        let succ = self
            .map
            .range(q + 1..)
            .next()
            .map(|(&a, &w)| (i128::from(a), i128::from(w)))
            .or_else(|| {
                let (&a, &w) = self.map.iter().next()?;
                Some((i128::from(a) + len, i128::from(w)))
            });
        let before = succ.map(|(a, w)| {
            let arrival = a - q_i;
            (to_u64(arrival), to_u64(arrival + w))
        });
        Fifo::Bounds {
            after: to_u64(after),
            before,
        }
    }

    /// Of the frames arriving after `q` (cyclic) that a frame arriving at `q` and starting
    /// `start` later would overtake (they start before it), the arrival of the last one,
    /// relative to `q`.
    pub(crate) fn last_overtaken(&self, q: u64, start: u64) -> Option<u64> {
        let q = q % self.len;
        let after = self.map.range(q + 1..).map(|(&a, &w)| (a - q, w));
        let wrapped = self.map.range(..=q).map(|(&a, &w)| (a + self.len - q, w));
        let mut last = None;
        // In arrival order the starts are sorted too: stop at the first one not overtaken.
        for (arrival, wait) in after.chain(wrapped) {
            if arrival >= start || arrival + wait >= start {
                break;
            }
            last = Some(arrival);
        }
        last
    }

    /// Adds a frame arriving at `q` (cyclic) and waiting `wait`; the caller checked
    /// [`bounds`](Self::bounds).
    pub(crate) fn insert(&mut self, q: u64, wait: u64) {
        let previous = self.map.insert(q % self.len, wait);
        debug_assert!(previous.is_none(), "two arrivals at {q}");
    }
}

fn to_u64(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_and_wraps() {
        let mut set = CyclicSet::new(100);
        set.insert(10, 10); // [10, 20)
        set.insert(95, 10); // [95, 100) + [0, 5)
        assert_eq!(set.conflict_shift(20, 10), None);
        assert_eq!(set.conflict_shift(5, 5), None);
        assert_eq!(set.conflict_shift(5, 6), Some(15));
        assert_eq!(set.conflict_shift(15, 1), Some(5));
        assert_eq!(set.conflict_shift(90, 6), Some(10)); // clears [95,100); [0,5) is next
        assert_eq!(set.conflict_shift(90, 20), Some(15)); // wraps into [0,5) only
        assert_eq!(set.conflict_shift(90, 21), Some(30)); // and into [10,20)
        assert_eq!(set.conflict_shift(0, 1), Some(5));
    }

    #[test]
    fn touching_intervals_merge() {
        let mut set = CyclicSet::new(100);
        set.insert(10, 10);
        set.insert(30, 10);
        set.insert(20, 10); // fills the gap: one block [10, 40)
        assert_eq!(set.conflict_shift(12, 1), Some(28));
        set.insert(90, 20); // [90, 100) + [0, 10): merges with [10, 40) on the right
        assert_eq!(set.conflict_shift(0, 1), Some(40));
        assert_eq!(set.conflict_shift(95, 1), Some(5));
        assert_eq!(set.conflict_shift(40, 50), None);
    }

    #[test]
    fn fifo_bounds_come_from_the_neighbours_in_arrival_order() {
        let mut q = QueueSet::new(1000);
        assert_eq!(
            q.bounds(5),
            Fifo::Bounds {
                after: 0,
                before: None
            }
        );
        q.insert(100, 50); // arrives 100, starts 150
        q.insert(300, 10); // arrives 300, starts 310
        // Arriving at 120: behind the first (start > 150), ahead of the second (< 310).
        assert_eq!(
            q.bounds(120),
            Fifo::Bounds {
                after: 31,
                before: Some((180, 190))
            }
        );
        // Arriving at 200: the first has left; the second is next.
        assert_eq!(
            q.bounds(200),
            Fifo::Bounds {
                after: 0,
                before: Some((100, 110))
            }
        );
        // Arriving at 990: the predecessor is the one at 300, the successor wraps to 100.
        assert_eq!(
            q.bounds(990),
            Fifo::Bounds {
                after: 0,
                before: Some((110, 160))
            }
        );
        assert_eq!(q.bounds(1300), Fifo::Simultaneous);
        // Starting 200 after arriving at 50 overtakes the frame at 100 (starts 150) only.
        assert_eq!(q.last_overtaken(50, 200), Some(50));
        assert_eq!(q.last_overtaken(50, 100), None);
        // From 990, starting 400 later overtakes 100 (110 later) and 300 (310 later).
        assert_eq!(q.last_overtaken(990, 400), Some(310));
        // A frame of the previous cycle still waiting past the wrap bounds one at 20.
        q.insert(980, 60); // starts at 1040 = 40 of the next cycle
        assert_eq!(
            q.bounds(20),
            Fifo::Bounds {
                after: 21,
                before: Some((80, 130))
            }
        );
    }
}
