//! Boots Debian's kernel once (behind `TSN_REAL_TESTS=1`) and runs `apply_kernel.rs`'s
//! ignored tests there: a 240-entry schedule read back and replaced, rollback across two
//! interfaces, mqprio/etf/cbs round trips, frames counted per class, the `tsn apply` /
//! `tsn show` binaries on `configs/plant-line.yaml`, a VLAN device whose frames carry the PCP
//! of their priority (and its rollback), and txtime-assist over etf children.

use std::time::Duration;

use tsn_testbed::{Payload, VmRun, build_test_binaries, require_vm};

#[test]
fn apply_tests_pass_in_vm() {
    if !require_vm("apply_tests_pass_in_vm") {
        return;
    }
    let bins = build_test_binaries("tsn", &["--test", "apply_kernel"]).unwrap();
    let payload = Payload::new().unwrap();
    for b in &bins {
        payload.copy_in(&b.path, &b.staged_name()).unwrap();
    }
    payload
        .copy_in(std::path::Path::new(env!("CARGO_BIN_EXE_tsn")), "tsn")
        .unwrap();
    let plant_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/plant-line.yaml");
    let plant = tsn::Plant::load(plant_path).unwrap();
    let schedule = tsn::schedule::synthesize(&plant);
    payload
        .write_file("plant-line.yaml", std::fs::read(plant_path).unwrap())
        .unwrap();
    payload
        .write_file("line.json", serde_json::to_string(&schedule).unwrap())
        .unwrap();

    let cmd = VmRun::run_all_command(&bins, "--include-ignored --test-threads=1");
    let out = VmRun::new(payload.path())
        .timeout(Duration::from_secs(400))
        .env("RUST_BACKTRACE", "1")
        .env("TSN_BIN", "/payload/tsn")
        .env("TSN_PLANT", "/payload/plant-line.yaml")
        .env("TSN_SCHEDULE", "/payload/line.json")
        .run(&cmd)
        .unwrap();
    out.assert_success();
    eprintln!(
        "VM run: {:.1} s total, qemu {:.1} s",
        out.wall.as_secs_f64(),
        out.qemu_wall().unwrap_or_default().as_secs_f64()
    );
    for test in [
        "large_schedule_applies_reads_back_and_replaces",
        "second_interface_failing_rolls_back_the_first",
        "mqprio_etf_and_cbs_round_trip",
        "frames_land_in_their_priority_class",
        "cli_applies_a_plant_schedule_and_shows_it",
        "vlan_device_tags_each_priority_with_its_pcp_and_rolls_back",
        "txtime_assist_runs_over_etf_children",
    ] {
        assert!(
            out.output.contains(&format!("test {test} ... ok")),
            "{test} did not pass in the VM:\n{out}"
        );
    }
    assert!(
        !out.output.contains("skipped"),
        "a test skipped inside the VM:\n{out}"
    );
}
