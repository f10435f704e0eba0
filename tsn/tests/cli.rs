//! The `tsn` binary: commands, output files and exit codes, on the shipped example configs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

fn tsn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsn"))
        .args(args)
        .output()
        .expect("run tsn")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example(name: &str) -> String {
    configs().join(name).display().to_string()
}

#[test]
fn validate_examples() {
    for name in ["plant-line.yaml", "plant-ring.yaml"] {
        let out = tsn(&["validate", &example(name)]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(": ok: "),
            "{}",
            text(&out.stdout)
        );
    }
    let out = tsn(&["validate", &example("plant-line.yaml")]);
    assert!(
        text(&out.stdout).contains(
            "status-multicast: plc -> sw1 -> sw2 -> hmi; plc -> sw1 -> sw2 -> sw3 -> ctrl; plc \
             -> sw1 -> sw2 -> sw3 -> logger"
        ),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn schedule_then_verify() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["plant-line.yaml", "plant-ring.yaml"] {
        let file = dir.path().join(format!("{name}.json"));
        let file = file.to_str().unwrap();
        let out = tsn(&["schedule", &example(name), "-o", file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("scheduled "),
            "{}",
            text(&out.stdout)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert!(json["unscheduled"].as_array().unwrap().is_empty());
        let out = tsn(&["verify", &example(name), file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains(": ok: "),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn schedule_json_on_stdout_matches_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    let out = tsn(&[
        "schedule",
        &example("plant-line.yaml"),
        "--json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), std::fs::read_to_string(&file).unwrap());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stream = &json["streams"][0];
    for key in ["name", "period_ns", "deadline_ns", "latency_ns", "hops"] {
        assert!(stream.get(key).is_some(), "{key}");
    }
    let port = &json["ports"][0];
    for key in ["node", "to", "cycle_ns", "gcl"] {
        assert!(port.get(key).is_some(), "{key}");
    }
}

#[test]
fn verify_rejects_a_tampered_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    let plant = example("plant-line.yaml");
    let out = tsn(&["schedule", &plant, "--json"]);
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Start the camera's second hop 1 ns before its frame can be there: the first hop's
    // end + 50 ns propagation + sw1's 2 us processing.
    let first = &json["streams"][1]["hops"][0];
    let ready =
        first["offset_ns"].as_u64().unwrap() + first["duration_ns"].as_u64().unwrap() + 2050;
    json["streams"][1]["hops"][1]["offset_ns"] = (ready - 1).into();
    std::fs::write(&file, serde_json::to_string(&json).unwrap()).unwrap();
    let out = tsn(&["verify", &plant, file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("violation: causality: stream camera hop 1 (sw1->sw2): starts at"),
        "{stdout}"
    );
    let out = tsn(&["verify", &plant, file.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["violations"][0]["kind"], "causality");
}

#[test]
fn infeasible_plant_exits_65() {
    let dir = tempfile::tempdir().unwrap();
    let plant = dir.path().join("plant-tight.yaml");
    let text_in = std::fs::read_to_string(example("plant-line.yaml"))
        .unwrap()
        .replace("max-latency: 50us", "max-latency: 5us");
    std::fs::write(&plant, text_in).unwrap();
    let out = tsn(&["schedule", plant.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
    assert!(
        text(&out.stdout).contains("control-loop: UNSCHEDULED: max-latency 5000 ns is below"),
        "{}",
        text(&out.stdout)
    );
    // The partial schedule is still valid; verify says so and exits 65 too.
    let file = dir.path().join("s.json");
    tsn(&[
        "schedule",
        plant.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    let out = tsn(&["verify", plant.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out.stdout));
}

#[test]
fn invalid_plant_exits_78_with_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let plant = dir.path().join("plant-bad.yaml");
    let text_in = std::fs::read_to_string(example("plant-line.yaml"))
        .unwrap()
        .replace(
            "listeners: [ctrl]\n    period: 1ms",
            "listeners: [ctlr]\n    period: 1ms",
        );
    std::fs::write(&plant, text_in).unwrap();
    for cmd in ["validate", "schedule"] {
        let out = tsn(&[cmd, plant.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("plant-bad.yaml:43:17: streams[1].listeners[0]: unknown node \"ctlr\""),
            "{stderr}"
        );
    }
}

#[test]
fn usage_and_missing_files() {
    assert_eq!(tsn(&[]).status.code(), Some(2));
    assert_eq!(tsn(&["schedule"]).status.code(), Some(2));
    assert_eq!(tsn(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        tsn(&["validate", "/nonexistent/plant.yaml"]).status.code(),
        Some(66)
    );
    let out = tsn(&["verify", &example("plant-line.yaml"), "/nonexistent/s.json"]);
    assert_eq!(out.status.code(), Some(66));
}

#[test]
fn exact_mode_schedules_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["plant-line.yaml", "plant-ring.yaml"] {
        let file = dir.path().join(format!("{name}.json"));
        let file = file.to_str().unwrap();
        let out = tsn(&["schedule", "--exact", &example(name), "-o", file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("exact mode: optimal"),
            "{}",
            text(&out.stderr)
        );
        let out = tsn(&["verify", &example(name), file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    }
    let out = tsn(&["schedule", "--mode", "simplex", &example("plant-line.yaml")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn import_tsnkit_then_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("1_topo.csv");
    let task = dir.path().join("1_task.csv");
    let plant = dir.path().join("plant.yaml");
    // A tsnkit line topology of 2 switches (ids 0, 1) with end stations 2 and 3.
    std::fs::write(
        &topo,
        "link,q_num,rate,t_proc,t_prop\n\"(0, 1)\",8,1,2000,0\n\"(0, 2)\",8,1,2000,0\n\"(1, \
         0)\",8,1,2000,0\n\"(1, 3)\",8,1,2000,0\n\"(2, 0)\",8,1,2000,0\n\"(3, 1)\",8,1,2000,0\n",
    )
    .unwrap();
    std::fs::write(
        &task,
        "stream,src,dst,size,period,deadline,jitter\n0,2,[3],100,2000000,16800,16800\n1,3,[2],\
         300,400000,31200,31200\n",
    )
    .unwrap();
    let p = |x: &Path| x.to_str().unwrap().to_owned();
    let out = tsn(&["import-tsnkit", &p(&task), &p(&topo), "-o", &p(&plant)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("4 nodes, 3 links, 2 streams"));
    let out = tsn(&["validate", &p(&plant)]);
    assert!(
        text(&out.stdout).contains("0: 2 -> 0 -> 1 -> 3"),
        "{}",
        text(&out.stdout)
    );
    let json = dir.path().join("s.json");
    let out = tsn(&["schedule", &p(&plant), "-o", &p(&json)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = tsn(&["verify", &p(&plant), &p(&json)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Errors: a missing file exits 66, a malformed row 78 with file and line.
    let out = tsn(&[
        "import-tsnkit",
        "/nonexistent.csv",
        &p(&topo),
        "-o",
        &p(&plant),
    ]);
    assert_eq!(out.status.code(), Some(66));
    std::fs::write(
        &task,
        "stream,src,dst,size,period,deadline,jitter\n0,2,3,1,1,1,1\n",
    )
    .unwrap();
    let out = tsn(&["import-tsnkit", &p(&task), &p(&topo), "-o", &p(&plant)]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        text(&out.stderr).contains("1_task.csv:2: dst"),
        "{}",
        text(&out.stderr)
    );
}
