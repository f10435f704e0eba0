//! The shipped `configs/plant-*.yaml` examples load, schedule completely, verify, and reject
//! an unknown key in every mapping; a minimal plant pins the defaults.

use std::path::{Path, PathBuf};

use tsn::Plant;
use tsn::plant::PlantFile;
use tsn::schedule::synthesize;
use tsn::verify::verify;
use tsn_config::mutation::unknown_key_mutations;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("plant-") && n.ends_with(".yaml"))
        })
        .collect();
    found.sort();
    assert!(found.len() >= 2, "{found:?}");
    found
}

#[test]
fn examples_schedule_and_verify() {
    for path in examples() {
        let plant = Plant::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let schedule = synthesize(&plant);
        assert!(
            schedule.unscheduled.is_empty(),
            "{}: {:?}",
            path.display(),
            schedule.unscheduled
        );
        let report = verify(&plant, &schedule);
        assert!(
            report.is_ok(),
            "{}: {:#?}",
            path.display(),
            report.violations
        );
    }
}

#[test]
fn examples_reject_unknown_keys_everywhere() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mutations = unknown_key_mutations(&text).unwrap();
        assert!(mutations.len() > 10, "{}", path.display());
        for m in mutations {
            let err = tsn_config::from_str::<PlantFile>(&m.text, "mutated.yaml").unwrap_err();
            let problem = &err.problems()[0];
            assert_eq!(
                problem.path,
                m.expected_error_path().to_string(),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn minimal_plant_defaults() {
    let plant = Plant::from_yaml(
        "nodes: [{ name: b, kind: bridge }, { name: x, kind: end-station }]\nlinks: [{ ends: [x, b] }]\n",
        "minimal.yaml",
    )
    .unwrap();
    let port = &plant.ports[0];
    assert_eq!(port.speed_bps, 1_000_000_000);
    assert_eq!(port.propagation_ns, 0);
    assert_eq!(port.traffic_classes, 8);
    assert_eq!(port.priority_map, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(plant.nodes[0].processing_ns, 2_000);
    assert_eq!(plant.max_best_effort_frame, 1522);
    assert_eq!(plant.guard_band_ns(0), 12_336);
    assert_eq!(plant.hyperperiod_ns, 1);
    assert!(plant.streams.is_empty());
}
