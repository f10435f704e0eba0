//! The `switch-ctl spf` command on the example configs: JSON contract, exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switch-ctl"))
        .args(args)
        .output()
        .expect("run switch-ctl")
}

fn json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// `(ect, src, dst) -> path`.
fn paths(report: &Value) -> BTreeMap<(u64, String, String), Vec<String>> {
    report["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| {
            let key = (
                p["ect"].as_u64().expect("ect"),
                p["src"].as_str().expect("src").to_owned(),
                p["dst"].as_str().expect("dst").to_owned(),
            );
            (key, strs(&p["path"]))
        })
        .collect()
}

#[test]
fn small_example_json_contract() {
    let file = config("spb-topology-small.yaml");
    let report = json(&[
        "spf",
        "--topology",
        file.to_str().unwrap(),
        "--ect",
        "1,2,16",
        "--json",
    ]);
    let names: Vec<String> = report["bridges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    let paths = paths(&report);
    assert_eq!(
        paths.len(),
        3 * 6 * 5,
        "every ordered pair for every algorithm"
    );
    for ((ect, src, dst), path) in &paths {
        assert!([1, 2, 16].contains(ect));
        assert_eq!(path.first(), Some(src));
        assert_eq!(path.last(), Some(dst));
        let mut back = paths[&(*ect, dst.clone(), src.clone())].clone();
        back.reverse();
        assert_eq!(path, &back, "symmetric");
    }
    // The three equal-cost a-f paths: ECT-1 low PATHID, ECT-2 high PATHID.
    let af = |ect: u64| paths[&(ect, "a".to_owned(), "f".to_owned())].join("");
    assert_eq!(af(1), "abcf");
    assert_eq!(af(2), "adef");
    assert!(report["unreachable"].as_array().unwrap().is_empty());

    // Unicast entries agree with the paths.
    for fwd in report["forwarding"].as_array().unwrap() {
        let bridge = fwd["bridge"].as_str().unwrap();
        let unicast = fwd["unicast"].as_array().unwrap();
        assert_eq!(unicast.len(), 3 * 5);
        for e in unicast {
            let key = (
                e["ect"].as_u64().unwrap(),
                bridge.to_owned(),
                e["dst"].as_str().unwrap().to_owned(),
            );
            assert_eq!(e["port"].as_str().unwrap(), paths[&key][1]);
        }
    }

    // I-SID 100 has members a, c, f: one tree per source and algorithm, made of the
    // unicast paths from the source to the other members.
    let trees: Vec<&Value> = report["isid-trees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["isid"] == 100)
        .collect();
    assert_eq!(trees.len(), 3 * 3);
    for t in trees {
        assert_eq!(strs(&t["members"]), ["a", "c", "f"]);
        let ect = t["ect"].as_u64().unwrap();
        let src = t["src"].as_str().unwrap().to_owned();
        let edges: BTreeSet<(String, String)> = t["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let e = strs(e);
                (e[0].clone(), e[1].clone())
            })
            .collect();
        let mut expected = BTreeSet::new();
        for m in ["a", "c", "f"].iter().filter(|&&m| m != src) {
            let p = &paths[&(ect, src.clone(), (*m).to_owned())];
            expected.extend(p.windows(2).map(|w| (w[0].clone(), w[1].clone())));
        }
        assert_eq!(edges, expected);
    }
    // Per-bridge multicast entry for (ECT-1, I-SID 100, from a): b forwards to c.
    let b = report["forwarding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["bridge"] == "b")
        .unwrap();
    let entry = b["multicast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ect"] == 1 && m["isid"] == 100 && m["src"] == "a")
        .expect("b is on a's I-SID 100 tree");
    assert_eq!(entry["ingress"], "a");
    assert_eq!(strs(&entry["egress"]), ["c"]);
}

#[test]
fn ring_example_text_and_json() {
    let file = config("spb-topology-ring.yaml");
    let out = run(&["spf", "--topology", file.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ECT-1 (00-80-C2-01, mask 0x00)"), "{text}");
    assert!(text.contains("I-SID 1000 from r1"), "{text}");

    let report = json(&[
        "spf",
        "--topology",
        file.to_str().unwrap(),
        "--json",
        "--ect",
        "00-80-C2-01,2",
    ]);
    let paths = paths(&report);
    // r1 and r5 are opposite: ECT-1 goes through r3 (lowest priority value), ECT-2 does not.
    assert_eq!(
        paths[&(1, "r1".to_owned(), "r5".to_owned())],
        ["r1", "r2", "r3", "r4", "r5"]
    );
    assert_eq!(
        paths[&(2, "r1".to_owned(), "r5".to_owned())],
        ["r1", "r8", "r7", "r6", "r5"]
    );
}

#[test]
fn partitioned_network_reports_unreachable_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spb-topology-split.yaml");
    std::fs::write(
        &path,
        "bridges:\n  - {name: x, system-id: 0000.0000.0001}\n  - {name: y, system-id: 0000.0000.0002}\n  - {name: z, system-id: 0000.0000.0003}\nlinks:\n  - {a: x, b: y, metric: 5}\n",
    )
    .unwrap();
    let report = json(&["spf", "--topology", path.to_str().unwrap(), "--json"]);
    let unreachable = report["unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 4);
    let xz = report["paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["src"] == "x" && p["dst"] == "z")
        .unwrap();
    assert_eq!(xz["reachable"], false);
    assert_eq!(xz["path"].as_array().unwrap().len(), 0);
    assert!(xz["cost"].is_null());
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("spb-topology-bad.yaml");
    std::fs::write(
        &bad,
        "bridges:\n  - {name: x, system-id: 0000.0000.0001}\nlinks:\n  - {a: x, b: ghost, metric: 1}\n",
    )
    .unwrap();
    let out = run(&["spf", "--topology", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("spb-topology-bad.yaml:4:"), "{err}");
    assert!(err.contains("links[0].b"), "{err}");

    let out = run(&["spf", "--topology", "/nonexistent/spb-topology-x.yaml"]);
    assert_eq!(out.status.code(), Some(66));

    let small = config("spb-topology-small.yaml");
    for args in [
        &["spf", "--topology", small.to_str().unwrap(), "--ect", "17"][..],
        &["spf", "--topology", small.to_str().unwrap(), "--ect", "0"],
        &["spf"],
        &["spf", "--topology", small.to_str().unwrap(), "--bogus"],
    ] {
        assert_eq!(run(args).status.code(), Some(2), "{args:?}");
    }
}
