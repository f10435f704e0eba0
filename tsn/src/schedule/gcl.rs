//! Gate control lists from scheduled transmissions (see the parent module's documentation).

use std::collections::BTreeMap;

use super::{GclEntry, PortSchedule, ScheduledStream};
use crate::plant::{Plant, PortId, lcm};

/// The gate control lists of every port that carries a hop of `streams`, in plant port
/// order. Hops naming unknown nodes or links are skipped (the verifier reports them). Works
/// on any schedule, so it also serves imported ones.
pub fn build_ports(plant: &Plant, streams: &[ScheduledStream]) -> Vec<PortSchedule> {
    /// Hops on one port: cycle so far, scheduled class mask, (offset, duration, class, period).
    #[derive(Default)]
    struct OnPort {
        cycle: u64,
        classes: u8,
        hops: Vec<(u64, u64, u8, u64)>,
    }
    let mut per_port: BTreeMap<PortId, OnPort> = BTreeMap::new();
    for s in streams {
        for hop in &s.hops {
            let port = plant
                .node_id(&hop.node)
                .zip(plant.node_id(&hop.to))
                .and_then(|(a, b)| plant.port_id(a, b));
            let Some(port) = port else { continue };
            if s.period_ns == 0 || hop.duration_ns == 0 || hop.traffic_class > 7 {
                continue;
            }
            let on = per_port.entry(port).or_insert_with(|| OnPort {
                cycle: 1,
                ..OnPort::default()
            });
            on.cycle = lcm(on.cycle, s.period_ns).unwrap_or(on.cycle);
            on.classes |= 1 << hop.traffic_class;
            on.hops.push((
                hop.offset_ns,
                hop.duration_ns,
                hop.traffic_class,
                s.period_ns,
            ));
        }
    }
    per_port
        .into_iter()
        .map(|(port, on)| {
            let p = &plant.ports[port];
            let mut windows = Vec::new();
            for &(offset, duration, tc, period) in &on.hops {
                for k in 0..on.cycle / period {
                    let start = (offset % on.cycle + k * period) % on.cycle;
                    windows.push((start, duration.min(on.cycle), tc));
                }
            }
            PortSchedule {
                node: plant.nodes[p.node].name.clone(),
                to: plant.nodes[p.to].name.clone(),
                cycle_ns: on.cycle,
                gcl: build_gcl(
                    on.cycle,
                    &windows,
                    p.all_classes_mask() & !on.classes,
                    plant.guard_band_ns(port),
                ),
            }
        })
        .collect()
}

/// One cycle's gate control list: `windows` are `(start, duration, traffic class)` with
/// `start < cycle` and `duration <= cycle` (a window may wrap past the cycle end). Outside
/// the windows the `be_mask` classes are open, except in the `guard_ns` before each window,
/// where every gate is closed. Overlapping windows (an invalid schedule) are clipped, never
/// a panic. The durations of the result sum to `cycle`.
pub fn build_gcl(
    cycle: u64,
    windows: &[(u64, u64, u8)],
    be_mask: u8,
    guard_ns: u64,
) -> Vec<GclEntry> {
    // Linear pieces, split at the cycle end, sorted.
    let mut pieces: Vec<(u64, u64, u8)> = Vec::with_capacity(windows.len() + 1);
    for &(start, dur, tc) in windows {
        let start = start % cycle;
        let end = start + dur.min(cycle);
        if end <= cycle {
            pieces.push((start, end, 1 << tc));
        } else {
            pieces.push((start, cycle, 1 << tc));
            pieces.push((0, end - cycle, 1 << tc));
        }
    }
    pieces.retain(|p| p.0 < p.1);
    pieces.sort_unstable();
    if pieces.is_empty() {
        return vec![GclEntry {
            gate_mask: be_mask,
            duration_ns: cycle,
        }];
    }
    // Clip overlaps.
    let mut max_end = 0;
    for piece in &mut pieces {
        if piece.0 < max_end {
            piece.0 = max_end.min(piece.1);
        }
        max_end = max_end.max(piece.1);
    }
    pieces.retain(|p| p.0 < p.1);
    // Segments on the unrolled timeline from the first window's start, one cycle long:
    // each window, then the gap to the next window (best effort, then guard band).
    let first = pieces[0].0;
    let mut segments: Vec<(u64, u64, u8)> = Vec::with_capacity(pieces.len() * 3);
    for (i, &(start, end, mask)) in pieces.iter().enumerate() {
        segments.push((start, end, mask));
        let next = pieces.get(i + 1).map_or(first + cycle, |p| p.0);
        let gap = next - end;
        let guard = gap.min(guard_ns);
        segments.push((end, next - guard, be_mask));
        segments.push((next - guard, next, 0));
    }
    // Rotate so the list starts at time 0.
    let mut rotated: Vec<(u64, u64, u8)> = Vec::with_capacity(segments.len() + 1);
    let mut tail = Vec::new();
    for (start, end, mask) in segments {
        if end <= cycle {
            tail.push((start, end, mask));
        } else if start >= cycle {
            rotated.push((start - cycle, end - cycle, mask));
        } else {
            tail.push((start, cycle, mask));
            rotated.push((0, end - cycle, mask));
        }
    }
    // The unrolled timeline covers [first, first + cycle): its wrapped part lands at
    // [0, first) and comes first.
    rotated.extend(tail);
    let mut gcl: Vec<GclEntry> = Vec::with_capacity(rotated.len());
    for (start, end, mask) in rotated {
        if start >= end {
            continue;
        }
        match gcl.last_mut() {
            Some(last) if last.gate_mask == mask => last.duration_ns += end - start,
            _ => gcl.push(GclEntry {
                gate_mask: mask,
                duration_ns: end - start,
            }),
        }
    }
    debug_assert_eq!(gcl.iter().map(|e| e.duration_ns).sum::<u64>(), cycle);
    gcl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(gcl: &[GclEntry]) -> Vec<(u8, u64)> {
        gcl.iter().map(|e| (e.gate_mask, e.duration_ns)).collect()
    }

    #[test]
    fn windows_guard_bands_and_best_effort() {
        // Cycle 1000, BE classes 0..=5 (0x3f), guard 100.
        let gcl = build_gcl(
            1000,
            &[(300, 50, 7), (350, 50, 6), (800, 100, 7)],
            0x3f,
            100,
        );
        assert_eq!(
            entries(&gcl),
            vec![
                (0x3f, 200),
                (0, 100),
                (0x80, 50),
                (0x40, 50),
                (0x3f, 300),
                (0, 100),
                (0x80, 100),
                (0x3f, 100)
            ]
        );
    }

    #[test]
    fn short_gaps_become_guard_and_wrapping_windows_split() {
        // Window wraps: [950, 1050) -> [950,1000) + [0,50); the gap before [950] from
        // [0,50)'s end... the second window at 100 has a 50 ns gap: all guard.
        let gcl = build_gcl(1000, &[(950, 100, 7), (100, 10, 7)], 0x01, 80);
        assert_eq!(
            entries(&gcl),
            vec![
                (0x80, 50),
                (0, 50),
                (0x80, 10),
                (0x01, 760),
                (0, 80),
                (0x80, 50)
            ]
        );
        let sum: u64 = gcl.iter().map(|e| e.duration_ns).sum();
        assert_eq!(sum, 1000);
    }

    #[test]
    fn window_at_zero_and_full_cycle() {
        let gcl = build_gcl(1000, &[(0, 100, 3)], 0x07, 200);
        assert_eq!(entries(&gcl), vec![(0x08, 100), (0x07, 700), (0, 200)]);
        let gcl = build_gcl(1000, &[(10, 1000, 3)], 0x07, 200);
        assert_eq!(entries(&gcl), vec![(0x08, 1000)]);
        assert_eq!(entries(&build_gcl(500, &[], 0x7f, 10)), vec![(0x7f, 500)]);
    }

    #[test]
    fn overlapping_windows_are_clipped() {
        let gcl = build_gcl(1000, &[(100, 100, 7), (150, 100, 6)], 0x01, 10);
        let sum: u64 = gcl.iter().map(|e| e.duration_ns).sum();
        assert_eq!(sum, 1000);
        assert_eq!(entries(&gcl)[..3], [(0x01, 90), (0, 10), (0x80, 100)]);
    }
}
