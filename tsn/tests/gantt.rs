//! `tsn gantt`: the SVG parses back as XML and holds every transmission of the hyperperiod,
//! with its stream, hop, instance and time, and every port's gate control list.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use tsn::Plant;
use tsn::schedule::Schedule;

#[test]
fn gantt_draws_every_transmission() {
    let dir = tempfile::tempdir().unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    for name in ["plant-line.yaml", "plant-ring.yaml"] {
        let plant_path = configs.join(name);
        let json = dir.path().join(format!("{name}.json"));
        let svg = dir.path().join(format!("{name}.svg"));
        let tsn = |args: &[&Path]| {
            let out = Command::new(env!("CARGO_BIN_EXE_tsn"))
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        tsn(&[Path::new("schedule"), &plant_path, Path::new("-o"), &json]);
        tsn(&[
            Path::new("gantt"),
            &plant_path,
            &json,
            Path::new("-o"),
            &svg,
        ]);

        let plant = Plant::load(&plant_path).unwrap();
        let schedule = Schedule::load(&json).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");

        // Expected: every (stream, hop, instance) with its start within the hyperperiod.
        let h = plant.hyperperiod_ns;
        let mut expected = HashSet::new();
        for s in &schedule.streams {
            for (i, hop) in s.hops.iter().enumerate() {
                for k in 0..h / s.period_ns {
                    let start = (hop.offset_ns + k * s.period_ns) % h;
                    expected.insert((s.name.clone(), i, k, start, hop.duration_ns));
                }
            }
        }
        let mut drawn = HashSet::new();
        for g in doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("tx"))
        {
            let attr = |a: &str| g.attribute(a).unwrap().to_owned();
            let num = |a: &str| attr(a).parse::<u64>().unwrap();
            let key = (
                attr("data-stream"),
                num("data-hop") as usize,
                num("data-instance"),
                num("data-start-ns"),
                num("data-duration-ns"),
            );
            // The box sits in its port's lane, named by the hop.
            let lane = g.parent().unwrap();
            let hop = &schedule.stream(&key.0).unwrap().hops[key.1];
            assert_eq!(lane.attribute("data-node"), Some(hop.node.as_str()));
            assert_eq!(lane.attribute("data-to"), Some(hop.to.as_str()));
            assert!(g.descendants().any(|n| n.has_tag_name("rect")));
            assert!(
                g.descendants().any(|n| n.text() == Some(key.0.as_str())),
                "{key:?} has no label"
            );
            assert!(drawn.insert(key), "drawn twice");
        }
        assert!(!expected.is_empty());
        assert_eq!(drawn, expected, "{name}");
        // One lane per gate control list, each with gate boxes.
        let lanes: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("port"))
            .collect();
        assert_eq!(lanes.len(), schedule.ports.len());
        for lane in lanes {
            assert!(
                lane.children()
                    .any(|n| n.attribute("class") == Some("gate")),
                "{:?}",
                lane.attribute("data-node")
            );
        }
    }
}

#[test]
fn gantt_escapes_names_and_missing_files_exit_66() {
    let out = Command::new(env!("CARGO_BIN_EXE_tsn"))
        .args([
            "gantt",
            "/nonexistent/p.yaml",
            "/nonexistent/s.json",
            "-o",
            "/tmp/x.svg",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    let plant = Plant::from_yaml(
        "nodes:\n  - { name: \"a<&>\", kind: end-station }\n  - { name: b, kind: \
         end-station }\nlinks:\n  - { ends: [\"a<&>\", b] }\nstreams:\n  - { name: \
         \"s\\\"1\", talker: \"a<&>\", listeners: [b], period: 10us, frame-size: 100, \
         max-latency: 10us, priority: 3 }\n",
        "p.yaml",
    )
    .unwrap();
    let schedule = tsn::schedule::synthesize(&plant);
    let svg = tsn::gantt::render(&plant, &schedule);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let tx = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("tx"))
        .unwrap();
    assert_eq!(tx.attribute("data-stream"), Some("s\"1"));
    assert_eq!(tx.parent().unwrap().attribute("data-node"), Some("a<&>"));
}
