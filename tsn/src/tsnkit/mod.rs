//! Import of tsnkit's dataset format (the CSV files its generator writes) as a plant file.
//!
//! - Topology, one row per *direction* of a link: `link,q_num,rate,t_proc,t_prop` with
//!   `link` a Python tuple `"(a, b)"` of numeric node ids; `rate` is the bit time in ns
//!   (1 = 1 Gbit/s, 10 = 100 Mbit/s, 100 = 10 Mbit/s, 1000 = 1 Mbit/s); `t_proc` is the
//!   processing delay at `a` before it transmits on the link and `t_prop` the propagation
//!   delay, both in ns; `q_num` is the number of queues.
//! - Streams: `stream,src,dst,size,period,deadline,jitter` with `dst` a Python list
//!   `"[b, ...]"`, `size` the frame in bytes and the times in ns.
//!
//! Mapping: node ids stay the node names (`"0"`, `"1"`, ...); as in tsnkit, a node with a
//! single neighbour is an end station and every other node a bridge. A link's two
//! directions become one link with the slower rate and the larger propagation delay; a
//! bridge's processing delay is the largest `t_proc` of its outgoing links. `q_num` becomes
//! the port's traffic classes (at most 8). Every stream gets priority 7 (one scheduled
//! class; tsnkit's methods do not take priorities), `max-latency` = deadline and
//! `max-jitter` = jitter. tsnkit's transmission time is `size * 8 * rate` without preamble,
//! inter-frame gap or padding; our plant counts those, so every frame is a little longer
//! here. A stream whose frame exceeds one Ethernet frame (tsnkit sizes go to 4500 bytes) is
//! split into equal parts `ID.0`, `ID.1`, ... with the same period and deadline: the
//! message is delivered when its last part is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::plant::MAX_FRAME_BYTES;

/// Largest payload of one part when a stream is split: a full frame.
const PART_BYTES: u32 = MAX_FRAME_BYTES;

/// A problem in a tsnkit file, with the file and the line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A row or field is malformed.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: String,
        /// 1-based line of the row.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// One direction of a link.
#[derive(Debug, Clone, Copy)]
struct Direction {
    from: u64,
    to: u64,
    queues: u64,
    rate: u64,
    t_proc: u64,
    t_prop: u64,
}

/// One stream row.
#[derive(Debug, Clone)]
struct StreamRow {
    id: String,
    src: u64,
    dst: Vec<u64>,
    size: u64,
    period: u64,
    deadline: u64,
    jitter: u64,
}

/// Reads tsnkit's stream and topology files and returns the plant file as YAML.
pub fn import_files(streams: &Path, topology: &Path) -> Result<String, ImportError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| ImportError::Read {
            path: p.display().to_string(),
            source,
        })
    };
    import(
        &read(streams)?,
        &streams.display().to_string(),
        &read(topology)?,
        &topology.display().to_string(),
    )
}

/// Like [`import_files`] on the files' text; the names appear in errors.
pub fn import(
    streams_csv: &str,
    streams_name: &str,
    topology_csv: &str,
    topology_name: &str,
) -> Result<String, ImportError> {
    let links = parse_topology(topology_csv, topology_name)?;
    let streams = parse_streams(streams_csv, streams_name)?;
    Ok(to_yaml(&links, &streams, streams_name, topology_name))
}

fn records(
    text: &str,
    name: &str,
    columns: &[&str],
) -> Result<Vec<(u64, Vec<String>)>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let err = |line: u64, message: String| ImportError::Format {
        path: name.to_owned(),
        line,
        message,
    };
    let header = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let mut index = Vec::with_capacity(columns.len());
    for c in columns {
        let i = header.iter().position(|h| h == *c).ok_or_else(|| {
            err(
                1,
                format!("no column {c:?} (expected columns: {})", columns.join(",")),
            )
        })?;
        index.push(i);
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            err(line, e.to_string())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let fields = index
            .iter()
            .map(|&i| record.get(i).unwrap_or("").to_owned())
            .collect();
        out.push((line, fields));
    }
    Ok(out)
}

/// The integers of a Python tuple or list such as `(0, 1)` or `[5]`.
fn ints(field: &str, open: char, close: char) -> Option<Vec<u64>> {
    let inner = field.trim().strip_prefix(open)?.strip_suffix(close)?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

fn number(field: &str, what: &str, line: u64, name: &str) -> Result<u64, ImportError> {
    // pandas may write integers as floats ("2000.0").
    let parsed = field.parse::<u64>().ok().or_else(|| {
        let f: f64 = field.parse().ok()?;
        (f >= 0.0 && f.fract() == 0.0 && f < 1e18).then_some(f as u64)
    });
    parsed.ok_or_else(|| ImportError::Format {
        path: name.to_owned(),
        line,
        message: format!("{what} {field:?} is not a non-negative integer"),
    })
}

fn parse_topology(text: &str, name: &str) -> Result<Vec<Direction>, ImportError> {
    let rows = records(text, name, &["link", "q_num", "rate", "t_proc", "t_prop"])?;
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = BTreeSet::new();
    for (line, f) in rows {
        let err = |message: String| ImportError::Format {
            path: name.to_owned(),
            line,
            message,
        };
        let ends = ints(&f[0], '(', ')')
            .filter(|v| v.len() == 2)
            .ok_or_else(|| err(format!("link {:?} is not a pair \"(a, b)\"", f[0])))?;
        if ends[0] == ends[1] {
            return Err(err(format!("link {:?} loops back to its node", f[0])));
        }
        if !seen.insert((ends[0], ends[1])) {
            return Err(err(format!("link {:?} is listed twice", f[0])));
        }
        let rate = number(&f[2], "rate", line, name)?;
        if ![1, 10, 100, 1000].contains(&rate) {
            return Err(err(format!(
                "rate {rate} is not 1 (1 Gbit/s), 10, 100 or 1000 (1 Mbit/s)"
            )));
        }
        let queues = number(&f[1], "q_num", line, name)?;
        if queues == 0 {
            return Err(err("q_num must be at least 1".into()));
        }
        out.push(Direction {
            from: ends[0],
            to: ends[1],
            queues,
            rate,
            t_proc: number(&f[3], "t_proc", line, name)?,
            t_prop: number(&f[4], "t_prop", line, name)?,
        });
    }
    if out.is_empty() {
        return Err(ImportError::Format {
            path: name.to_owned(),
            line: 1,
            message: "no links".into(),
        });
    }
    Ok(out)
}

fn parse_streams(text: &str, name: &str) -> Result<Vec<StreamRow>, ImportError> {
    let rows = records(
        text,
        name,
        &[
            "stream", "src", "dst", "size", "period", "deadline", "jitter",
        ],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, f) in rows {
        let err = |message: String| ImportError::Format {
            path: name.to_owned(),
            line,
            message,
        };
        let dst = ints(&f[2], '[', ']')
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(format!("dst {:?} is not a list \"[b, ...]\"", f[2])))?;
        if f[0].is_empty() {
            return Err(err("empty stream id".into()));
        }
        out.push(StreamRow {
            id: f[0].clone(),
            src: number(&f[1], "src", line, name)?,
            dst,
            size: number(&f[3], "size", line, name)?,
            period: number(&f[4], "period", line, name)?,
            deadline: number(&f[5], "deadline", line, name)?,
            jitter: number(&f[6], "jitter", line, name)?,
        });
    }
    Ok(out)
}

fn to_yaml(links: &[Direction], streams: &[StreamRow], sname: &str, tname: &str) -> String {
    let mut neighbours: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for d in links {
        neighbours.entry(d.from).or_default().insert(d.to);
        neighbours.entry(d.to).or_default().insert(d.from);
    }
    let is_bridge = |n: u64| neighbours.get(&n).is_some_and(|s| s.len() > 1);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Imported from tsnkit's dataset format: streams {sname}, topology {tname}.\n\
         # Node names are tsnkit's node ids; see `tsn import-tsnkit --help` for the mapping."
    );
    y += "defaults:\n  link-speed: 1Gbps\n  propagation-delay: 0ns\n  traffic-classes: 8\n";
    y += "nodes:\n";
    for &n in neighbours.keys() {
        if is_bridge(n) {
            let proc = links
                .iter()
                .filter(|d| d.from == n)
                .map(|d| d.t_proc)
                .max()
                .unwrap_or(0);
            let _ = writeln!(
                y,
                "  - {{ name: \"{n}\", kind: bridge, processing-delay: {proc}ns{} }}",
                port_overrides(links, n)
            );
        } else {
            let _ = writeln!(
                y,
                "  - {{ name: \"{n}\", kind: end-station{} }}",
                port_overrides(links, n)
            );
        }
    }
    y += "links:\n";
    let mut done = BTreeSet::new();
    for d in links {
        let key = (d.from.min(d.to), d.from.max(d.to));
        if !done.insert(key) {
            continue;
        }
        let back = links.iter().find(|b| b.from == d.to && b.to == d.from);
        let rate = back.map_or(d.rate, |b| b.rate.max(d.rate));
        let prop = back.map_or(d.t_prop, |b| b.t_prop.max(d.t_prop));
        let _ = writeln!(
            y,
            "  - {{ ends: [\"{}\", \"{}\"], speed: {}, propagation-delay: {prop}ns }}",
            d.from,
            d.to,
            1_000_000_000 / rate
        );
    }
    y += "streams:\n";
    if streams.is_empty() {
        y.truncate(y.len() - "streams:\n".len());
        y += "streams: []\n";
    }
    let max_payload = u64::from(PART_BYTES);
    for s in streams {
        let parts = s.size.div_ceil(max_payload).max(1);
        let listeners: Vec<String> = s.dst.iter().map(|d| format!("\"{d}\"")).collect();
        for k in 0..parts {
            let name = if parts == 1 {
                s.id.clone()
            } else {
                format!("{}.{k}", s.id)
            };
            let size = s.size.div_ceil(parts).max(1);
            let _ = writeln!(
                y,
                "  - {{ name: \"{}\", talker: \"{}\", listeners: [{}], period: {}ns, \
                 frame-size: {size}, max-latency: {}ns, max-jitter: {}ns, priority: 7 }}",
                escape(&name),
                s.src,
                listeners.join(", "),
                s.period,
                s.deadline,
                s.jitter
            );
        }
    }
    y
}

/// Per-port `traffic-classes` where `q_num` differs from 8.
fn port_overrides(links: &[Direction], node: u64) -> String {
    let ports: Vec<String> = links
        .iter()
        .filter(|d| d.from == node && d.queues != 8)
        .map(|d| {
            format!(
                "{{ to: \"{}\", traffic-classes: {} }}",
                d.to,
                d.queues.min(8)
            )
        })
        .collect();
    if ports.is_empty() {
        String::new()
    } else {
        format!(", ports: [{}]", ports.join(", "))
    }
}

/// Escapes a stream id for a double-quoted YAML string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Plant;

    // As tsnkit's generator writes them (line topology, 2 switches, 2 end stations).
    const TOPO: &str = "link,q_num,rate,t_proc,t_prop
\"(0, 1)\",8,1,2000,0
\"(0, 2)\",8,1,2000,0
\"(1, 0)\",8,1,2000,0
\"(1, 3)\",8,1,2000,0
\"(2, 0)\",8,1,2000,0
\"(3, 1)\",8,10,2000,50
";
    const STREAMS: &str = "stream,src,dst,size,period,deadline,jitter
0,2,[3],100,2000000,16800,16800
1,3,[2],4500,400000,400000,400000
";

    #[test]
    fn imports_a_generated_instance() {
        let yaml = import(STREAMS, "s.csv", TOPO, "t.csv").unwrap();
        let plant =
            Plant::from_yaml(&yaml, "imported.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let names: Vec<&str> = plant.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["0", "1", "2", "3"]);
        let bridge = &plant.nodes[plant.node_id("0").unwrap()];
        assert_eq!(bridge.kind, crate::plant::NodeKind::Bridge);
        assert_eq!(bridge.processing_ns, 2000);
        assert_eq!(
            plant.nodes[plant.node_id("3").unwrap()].kind,
            crate::plant::NodeKind::EndStation
        );
        // Link 1-3: rate 1 one way, 10 the other: the slower 100 Mbit/s, 50 ns.
        let p = plant.port_id(plant.node_id("1").unwrap(), plant.node_id("3").unwrap());
        let port = &plant.ports[p.unwrap()];
        assert_eq!((port.speed_bps, port.propagation_ns), (100_000_000, 50));
        let s0 = &plant.streams[plant.stream_id("0").unwrap()];
        assert_eq!(
            (
                s0.period_ns,
                s0.frame_bytes,
                s0.max_latency_ns,
                s0.max_jitter_ns
            ),
            (2_000_000, 100, 16_800, Some(16_800))
        );
        assert_eq!(s0.route.hops.len(), 3);
        // 4500 bytes: three parts of 1500.
        for k in 0..3 {
            let s = &plant.streams[plant.stream_id(&format!("1.{k}")).unwrap()];
            assert_eq!((s.frame_bytes, s.period_ns), (1500, 400_000));
        }
        assert_eq!(plant.streams.len(), 4);
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = STREAMS.replace("[3]", "3");
        let err = import(&bad, "s.csv", TOPO, "t.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "s.csv:2: dst \"3\" is not a list \"[b, ...]\"");
        let bad = TOPO.replace("8,10,2000,50", "8,7,2000,50");
        let err = import(STREAMS, "s.csv", &bad, "t.csv")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.csv:7: rate 7 is not 1"), "{err}");
        let err = import("stream,src\n", "s.csv", TOPO, "t.csv")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.csv:1: no column \"dst\""), "{err}");
        let bad = TOPO.replace("\"(0, 2)\"", "\"(0, x)\"");
        let err = import(STREAMS, "s.csv", &bad, "t.csv")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.csv:3: link"), "{err}");
    }
}
