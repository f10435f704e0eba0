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

    /// The end of the stored interval containing point `q` (cyclic), if any.
    pub(crate) fn containing(&self, q: u64) -> Option<u64> {
        let q = q % self.len;
        let (_, &e) = self.map.range(..=q).next_back()?;
        (e > q).then_some(e)
    }

    /// Distance from point `q` (not inside any interval) to the next interval start,
    /// cyclically; `u64::MAX` if the set is empty.
    pub(crate) fn distance_to_next(&self, q: u64) -> u64 {
        let q = q % self.len;
        if let Some((&s, _)) = self.map.range(q..).next() {
            return s - q;
        }
        match self.map.keys().next() {
            Some(&s) => s + self.len - q,
            None => u64::MAX,
        }
    }

    /// Adds `[pos, pos + dur)` (cyclic, `0 < dur <= len`); the caller guarantees it is
    /// disjoint from the stored intervals.
    pub(crate) fn insert(&mut self, pos: u64, dur: u64) {
        for (start, end, _) in self.pieces(pos, dur) {
            if start < end {
                self.map.insert(start, end);
            }
        }
    }
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
        assert_eq!(set.containing(97), Some(100));
        assert_eq!(set.containing(4), Some(5));
        assert_eq!(set.containing(5), None);
        assert_eq!(set.distance_to_next(5), 5);
        assert_eq!(set.distance_to_next(20), 75);
        assert_eq!(CyclicSet::new(7).distance_to_next(3), u64::MAX);
    }
}
