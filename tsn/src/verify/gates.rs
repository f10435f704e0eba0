//! Gate states over time from one port's gate control list, repeating every cycle from
//! time 0.

use crate::schedule::GclEntry;

#[derive(Debug, Clone)]
pub(crate) struct Gates {
    cycle: u64,
    /// Start of each entry within the cycle.
    starts: Vec<u64>,
    masks: Vec<u8>,
}

impl Gates {
    /// `None` unless the entries are non-empty and sum to `cycle > 0`.
    pub(crate) fn new(cycle: u64, gcl: &[GclEntry]) -> Option<Self> {
        let mut starts = Vec::with_capacity(gcl.len());
        let mut at: u64 = 0;
        for e in gcl {
            starts.push(at);
            at = at.checked_add(e.duration_ns)?;
        }
        (cycle > 0 && at == cycle && !gcl.is_empty()).then(|| Self {
            cycle,
            starts,
            masks: gcl.iter().map(|e| e.gate_mask).collect(),
        })
    }

    /// The entry in force at absolute time `t` and the absolute time it started.
    fn entry_at(&self, t: u64) -> (usize, u64) {
        let pos = t % self.cycle;
        // Zero-length entries share a start with the next one; take the last, which is the
        // one actually in force.
        let i = self.starts.partition_point(|&s| s <= pos) - 1;
        (i, t - pos + self.starts[i])
    }

    /// Absolute end of entry `i` that started at absolute `start`.
    fn entry_end(&self, i: usize, start: u64) -> u64 {
        let len = self.starts.get(i + 1).copied().unwrap_or(self.cycle) - self.starts[i];
        start + len
    }

    /// Entries from the one in force at `t` on, as `(start, end, mask)` in absolute time.
    fn walk(&self, t: u64) -> impl Iterator<Item = (u64, u64, u8)> + '_ {
        let (mut i, mut start) = self.entry_at(t);
        std::iter::from_fn(move || {
            let end = self.entry_end(i, start);
            let item = (start, end, self.masks[i]);
            i = (i + 1) % self.starts.len();
            start = end;
            Some(item)
        })
    }

    pub(crate) fn mask_at(&self, t: u64) -> u8 {
        self.masks[self.entry_at(t).0]
    }

    /// The first absolute time `>= t` at which traffic class `tc`'s gate is closed; `None`
    /// if it never closes.
    pub(crate) fn closes_at(&self, tc: u8, t: u64) -> Option<u64> {
        let bit = 1u8 << tc;
        let closed = |&(start, end, mask): &(u64, u64, u8)| end > start && mask & bit == 0;
        if !self.walk(0).take(self.starts.len()).any(|e| closed(&e)) {
            return None;
        }
        self.walk(t).find(closed).map(|(start, _, _)| start.max(t))
    }

    /// The first nanosecond strictly between `from` and `to` at which a gate in `mask` is
    /// open, if any.
    pub(crate) fn open_between(&self, mask: u8, from: u64, to: u64) -> Option<u64> {
        for (start, end, m) in self.walk(from) {
            if start >= to {
                return None;
            }
            let first = start.max(from + 1);
            if m & mask != 0 && first < end && first < to {
                return Some(first);
            }
        }
        None
    }

    /// The first entry boundary strictly after absolute time `t`.
    pub(crate) fn next_change_after(&self, t: u64) -> u64 {
        let (i, start) = self.entry_at(t);
        self.entry_end(i, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates() -> Gates {
        let e = |gate_mask, duration_ns| GclEntry {
            gate_mask,
            duration_ns,
        };
        // cycle 100: [0,20) BE, [20,30) closed, [30,40) TC7, [40,100) BE
        Gates::new(100, &[e(1, 20), e(0, 10), e(0x80, 10), e(1, 60)]).unwrap()
    }

    #[test]
    fn lookups() {
        let g = gates();
        assert_eq!(g.mask_at(135), 0x80);
        assert_eq!(g.mask_at(199), 1);
        assert_eq!(g.closes_at(7, 130), Some(140));
        assert_eq!(g.closes_at(7, 150), Some(150));
        assert_eq!(g.closes_at(0, 40), Some(120)); // open [40,100) and [100,120)
        assert_eq!(g.open_between(1, 20, 30), None);
        assert_eq!(g.open_between(1, 19, 30), None); // open only at 19, which is excluded
        assert_eq!(g.open_between(1, 18, 30), Some(19));
        assert_eq!(g.open_between(1, 25, 45), Some(40));
        assert_eq!(g.next_change_after(130), 140);
        assert_eq!(g.next_change_after(140), 200);
        assert!(
            Gates::new(
                90,
                &[GclEntry {
                    gate_mask: 1,
                    duration_ns: 100
                }]
            )
            .is_none()
        );
    }
}
