//! A Gantt chart of a schedule as SVG: one lane per egress port over the hyperperiod, the
//! gate control list on top (scheduled-class windows in the class's colour, best-effort
//! time light, guard bands dark) and each frame transmission below it as a box labelled
//! with its stream.
//!
//! Every transmission instance is one `<g class="tx">` element carrying `data-stream`,
//! `data-hop`, `data-instance`, `data-start-ns` and `data-duration-ns`, with a `<title>`
//! tooltip; a transmission that wraps past the end of the hyperperiod is drawn as two
//! boxes inside its one group. Pure text generation: no IO.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::plant::Plant;
use crate::schedule::Schedule;

/// Width of the time axis in pixels.
const AXIS_PX: f64 = 1400.0;
/// Left column with the port names.
const LABEL_PX: f64 = 150.0;
const GATE_H: f64 = 12.0;
const TX_H: f64 = 20.0;
const LANE_H: f64 = GATE_H + TX_H + 26.0;
const TOP: f64 = 56.0;

/// Fill of a traffic class's window and transmissions.
const CLASS_COLOURS: [&str; 8] = [
    "#8c8c8c", "#17becf", "#bcbd22", "#9467bd", "#2ca02c", "#ff7f0e", "#1f77b4", "#d62728",
];
const BEST_EFFORT: &str = "#e6efe6";
const CLOSED: &str = "#404040";

/// One transmission to draw.
struct Tx<'a> {
    stream: &'a str,
    hop: usize,
    instance: u64,
    start: u64,
    duration: u64,
    tc: u8,
}

/// Renders `schedule` (for `plant`) as a standalone SVG document.
pub fn render(plant: &Plant, schedule: &Schedule) -> String {
    let hyperperiod = if plant.hyperperiod_ns > 0 {
        plant.hyperperiod_ns
    } else {
        schedule.hyperperiod_ns.max(1)
    };
    // Lanes: ports with a gate control list first, in schedule order, then ports that
    // carry transmissions without one.
    let mut lanes: Vec<(String, String)> = schedule
        .ports
        .iter()
        .map(|p| (p.node.clone(), p.to.clone()))
        .collect();
    let mut txs: BTreeMap<(String, String), Vec<Tx<'_>>> = BTreeMap::new();
    for s in &schedule.streams {
        if s.period_ns == 0 {
            continue;
        }
        for (h, hop) in s.hops.iter().enumerate() {
            let key = (hop.node.clone(), hop.to.clone());
            if !lanes.contains(&key) {
                lanes.push(key.clone());
            }
            let list = txs.entry(key).or_default();
            for k in 0..hyperperiod / s.period_ns {
                list.push(Tx {
                    stream: &s.name,
                    hop: h,
                    instance: k,
                    start: (hop.offset_ns % hyperperiod + k * s.period_ns) % hyperperiod,
                    duration: hop.duration_ns.min(hyperperiod),
                    tc: hop.traffic_class.min(7),
                });
            }
        }
    }

    let scale = AXIS_PX / hyperperiod as f64;
    let x = |t: u64| LABEL_PX + t as f64 * scale;
    let height = TOP + LANE_H * lanes.len() as f64 + 40.0;
    let width = LABEL_PX + AXIS_PX + 20.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LABEL_PX}" y="18" font-size="14" font-weight="bold">802.1Qbv schedule: {} streams, hyperperiod {} ns ({} unscheduled)</text>"#,
        schedule.streams.len(),
        hyperperiod,
        schedule.unscheduled.len()
    );
    legend(&mut svg);

    // Time axis with about ten ticks at round values.
    let step = tick_step(hyperperiod);
    let axis_bottom = TOP + LANE_H * lanes.len() as f64;
    let mut t = 0;
    while t <= hyperperiod {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.2}" y1="{1}" x2="{0:.2}" y2="{axis_bottom}" stroke="#dddddd"/><text x="{0:.2}" y="{2}" text-anchor="middle" fill="#555555">{3}</text>"##,
            x(t),
            TOP - 4.0,
            axis_bottom + 14.0,
            format_ns(t)
        );
        t += step;
    }

    for (i, (node, to)) in lanes.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        let _ = writeln!(
            svg,
            r#"<g class="port" data-node="{}" data-to="{}">"#,
            escape(node),
            escape(to)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{} → {}</text>"#,
            LABEL_PX - 6.0,
            y + GATE_H + TX_H / 2.0 + 4.0,
            escape(node),
            escape(to)
        );
        let lane_txs = txs.get(&(node.clone(), to.clone()));
        let scheduled = lane_txs
            .into_iter()
            .flatten()
            .fold(0u8, |m, tx| m | 1 << tx.tc);
        if let Some(port) = schedule.port(node, to)
            && port.cycle_ns > 0
        {
            let mut start = 0u64;
            'cycles: while start < hyperperiod {
                for e in &port.gcl {
                    if start >= hyperperiod {
                        break 'cycles;
                    }
                    let end = start.saturating_add(e.duration_ns).min(hyperperiod);
                    if end > start {
                        let _ = writeln!(
                            svg,
                            r#"<rect class="gate" x="{:.3}" y="{y}" width="{:.3}" height="{GATE_H}" fill="{}"><title>gates {:08b} from {start} ns for {} ns</title></rect>"#,
                            x(start),
                            (end - start) as f64 * scale,
                            gate_fill(e.gate_mask, scheduled),
                            e.gate_mask,
                            e.duration_ns
                        );
                    }
                    start = end;
                }
                if port.gcl.iter().all(|e| e.duration_ns == 0) {
                    break;
                }
            }
        } else {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" fill="{CLOSED}">no gate control list</text>"#,
                LABEL_PX + 4.0,
                y + GATE_H - 2.0
            );
        }
        let ty = y + GATE_H + 2.0;
        let mut lane: Vec<&Tx<'_>> = lane_txs.into_iter().flatten().collect();
        lane.sort_by_key(|tx| (tx.start, tx.hop));
        // Labels below the boxes go on two staggered lines so neighbours do not collide.
        let mut label_end = [f64::MIN; 2];
        for tx in lane {
            let end = tx.start + tx.duration;
            let pieces: Vec<(u64, u64)> = if end <= hyperperiod {
                vec![(tx.start, end)]
            } else {
                vec![(tx.start, hyperperiod), (0, end - hyperperiod)]
            };
            let _ = write!(
                svg,
                r#"<g class="tx" data-stream="{}" data-hop="{}" data-instance="{}" data-start-ns="{}" data-duration-ns="{}"><title>{} hop {} instance {}: {} ns for {} ns, traffic class {}</title>"#,
                escape(tx.stream),
                tx.hop,
                tx.instance,
                tx.start,
                tx.duration,
                escape(tx.stream),
                tx.hop,
                tx.instance,
                tx.start,
                tx.duration,
                tx.tc
            );
            for (a, b) in pieces {
                let w = ((b - a) as f64 * scale).max(0.8);
                let _ = write!(
                    svg,
                    r##"<rect x="{:.3}" y="{ty}" width="{w:.3}" height="{TX_H}" fill="{}" stroke="#000000" stroke-width="0.4"/>"##,
                    x(a),
                    CLASS_COLOURS[usize::from(tx.tc)]
                );
            }
            // The label goes inside the box when it fits, else above it, small.
            let w = tx.duration as f64 * scale;
            let fits = w >= 6.5 * tx.stream.chars().count() as f64;
            if fits {
                let _ = write!(
                    svg,
                    r##"<text x="{:.3}" y="{}" text-anchor="middle" fill="#ffffff">{}</text>"##,
                    x(tx.start) + w / 2.0,
                    ty + TX_H / 2.0 + 4.0,
                    escape(tx.stream)
                );
            } else {
                let at = x(tx.start);
                let line = usize::from(label_end[0] > at && label_end[1] <= at);
                label_end[line] = at + 4.6 * tx.stream.chars().count() as f64 + 3.0;
                let _ = write!(
                    svg,
                    r#"<text x="{at:.3}" y="{}" font-size="8">{}</text>"#,
                    ty + TX_H + 9.0 + 9.0 * line as f64,
                    escape(tx.stream)
                );
            }
            svg.push_str("</g>\n");
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

fn legend(svg: &mut String) {
    let mut lx = LABEL_PX;
    let mut item = |svg: &mut String, fill: &str, label: &str| {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="28" width="12" height="12" fill="{fill}"/><text x="{}" y="38">{label}</text>"#,
            lx + 16.0
        );
        lx += 30.0 + 6.5 * label.len() as f64;
    };
    for (tc, colour) in CLASS_COLOURS.iter().enumerate().rev() {
        item(svg, colour, &format!("class {tc}"));
    }
    item(svg, BEST_EFFORT, "best effort open");
    item(svg, CLOSED, "all closed (guard band)");
    svg.push('\n');
}

/// The colour of a gate state: the highest open scheduled class, else best effort when any
/// gate is open, else closed.
fn gate_fill(mask: u8, scheduled: u8) -> &'static str {
    let sched = mask & scheduled;
    if sched != 0 {
        CLASS_COLOURS[7 - sched.leading_zeros() as usize]
    } else if mask != 0 {
        BEST_EFFORT
    } else {
        CLOSED
    }
}

/// A round tick spacing giving 5 to 10 ticks over `span`.
fn tick_step(span: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if span / s <= 10 {
                return s.max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn format_ns(t: u64) -> String {
    if t == 0 {
        "0".into()
    } else if t.is_multiple_of(1_000_000) {
        format!("{} ms", t / 1_000_000)
    } else if t.is_multiple_of(1_000) {
        format!("{} µs", t / 1_000)
    } else {
        format!("{t} ns")
    }
}

/// XML text and attribute escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_escaping() {
        assert_eq!(tick_step(1_000_000), 100_000);
        assert_eq!(tick_step(250_000), 50_000);
        assert_eq!(tick_step(7), 1);
        assert_eq!(format_ns(2_000_000), "2 ms");
        assert_eq!(format_ns(125_000), "125 µs");
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
        assert_eq!(gate_fill(0x80, 0xc0), CLASS_COLOURS[7]);
        assert_eq!(gate_fill(0x41, 0xc0), CLASS_COLOURS[6]);
        assert_eq!(gate_fill(0x01, 0xc0), BEST_EFFORT);
        assert_eq!(gate_fill(0, 0xc0), CLOSED);
    }
}
