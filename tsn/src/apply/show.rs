//! `tsn show DEV`: the qdiscs of an interface as text (like `tc qdisc show`, every entry)
//! or JSON.

use std::fmt::Write as _;

use serde_json::{Value, json};
use tsn_netlink::{Qdisc, QdiscOptions, Sched, TC_H_ROOT, handle_to_string};

use super::clock_name;

fn sched_json(s: &Sched) -> Value {
    json!({
        "base_time": s.base_time,
        "cycle_time": s.cycle_time,
        "cycle_time_extension": s.cycle_time_extension,
        "entries": s.entries.iter().map(|e| json!({
            "index": e.index,
            "cmd": e.cmd.letter(),
            "gate_mask": e.gate_mask,
            "interval_ns": e.interval_ns,
        })).collect::<Vec<_>>(),
    })
}

/// One qdisc as JSON.
pub fn qdisc_json(q: &Qdisc) -> Value {
    let options = match &q.options {
        Some(QdiscOptions::Taprio(t)) => json!({
            "num_tc": t.priomap.as_ref().map(|p| p.num_tc),
            "map": t.priomap.as_ref().map(|p| p.prio_tc_map.to_vec()),
            "queues": t.priomap.as_ref().map(|p| p.queues().iter().map(|(c, o)| json!({"count": c, "offset": o})).collect::<Vec<_>>()),
            "clockid": t.clockid.map(clock_name),
            "flags": t.flags,
            "txtime_delay": t.txtime_delay,
            "schedule": sched_json(&t.sched),
            "admin": t.admin.as_ref().map(sched_json),
            "max_sdu": t.tc_entries.iter().map(|e| json!({"tc": e.index, "max_sdu": e.max_sdu})).collect::<Vec<_>>(),
        }),
        Some(QdiscOptions::Mqprio(m)) => json!({
            "num_tc": m.qopt.num_tc,
            "map": m.qopt.prio_tc_map.to_vec(),
            "queues": m.qopt.queues().iter().map(|(c, o)| json!({"count": c, "offset": o})).collect::<Vec<_>>(),
            "hw": m.qopt.hw,
            "mode": m.mode,
            "shaper": m.shaper,
            "min_rate": m.min_rate,
            "max_rate": m.max_rate,
        }),
        Some(QdiscOptions::Etf(e)) => json!({
            "clockid": clock_name(e.clockid),
            "delta": e.delta_ns,
            "flags": e.flags,
        }),
        Some(QdiscOptions::Cbs(c)) => json!({
            "idleslope": c.idleslope,
            "sendslope": c.sendslope,
            "hicredit": c.hicredit,
            "locredit": c.locredit,
            "offload": c.offload,
        }),
        _ => Value::Null,
    };
    json!({
        "kind": q.kind,
        "handle": handle_to_string(q.handle),
        "parent": handle_to_string(q.parent),
        "root": q.parent == TC_H_ROOT,
        "options": options,
    })
}

/// All qdiscs of `dev` as text.
pub fn text(dev: &str, qdiscs: &[Qdisc]) -> String {
    let mut s = String::new();
    for q in qdiscs {
        let at = if q.parent == TC_H_ROOT {
            "root".to_owned()
        } else {
            format!("parent {}", handle_to_string(q.parent))
        };
        let _ = writeln!(
            s,
            "qdisc {} {} dev {dev} {at}",
            q.kind,
            handle_to_string(q.handle)
        );
        if let Some(QdiscOptions::Taprio(t)) = &q.options {
            if let Some(p) = &t.priomap {
                let map: Vec<String> = p.prio_tc_map.iter().map(u8::to_string).collect();
                let queues: Vec<String> =
                    p.queues().iter().map(|(c, o)| format!("{c}@{o}")).collect();
                let _ = writeln!(
                    s,
                    "  tc {} map {} queues {}",
                    p.num_tc,
                    map.join(" "),
                    queues.join(" ")
                );
            }
            let _ = writeln!(
                s,
                "  clockid {} flags {:#x} txtime-delay {}",
                t.clockid.map_or_else(|| "none".into(), clock_name),
                t.flags.unwrap_or(0),
                t.txtime_delay.unwrap_or(0)
            );
            for (name, sched) in [
                ("schedule", Some(&t.sched)),
                ("admin schedule", t.admin.as_ref()),
            ] {
                let Some(sched) = sched.filter(|s| !s.entries.is_empty()) else {
                    continue;
                };
                let _ = writeln!(
                    s,
                    "  {name}: base-time {} cycle-time {} cycle-time-extension {} ({} entries)",
                    sched.base_time.unwrap_or(0),
                    sched.cycle_time.unwrap_or(0),
                    sched.cycle_time_extension.unwrap_or(0),
                    sched.entries.len()
                );
                for (i, e) in sched.entries.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "    index {} cmd {} gatemask {:#x} interval {}",
                        e.index.unwrap_or(i as u32),
                        e.cmd.letter(),
                        e.gate_mask,
                        e.interval_ns
                    );
                }
            }
            for e in &t.tc_entries {
                if let Some(m) = e.max_sdu {
                    let _ = writeln!(s, "  tc {} max-sdu {m}", e.index);
                }
            }
        } else if q.options.is_some() {
            let line = super::tc_lines(dev, std::slice::from_ref(q)).remove(0);
            let opts = line.split_once(&format!(" {}", q.kind)).map_or("", |x| x.1);
            if !opts.trim().is_empty() {
                let _ = writeln!(s, "  {}", opts.trim());
            }
        }
    }
    s
}
