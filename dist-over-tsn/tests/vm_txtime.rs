//! Boots Debian's kernel (behind `TSN_REAL_TESTS=1`) and runs `txtime_kernel.rs`'s ignored
//! tests there: time-triggered real-time messages through a real etf qdisc.

use std::time::Duration;

use tsn_testbed::{Payload, VmRun, build_test_binaries, require_vm};

#[test]
fn txtime_tests_pass_in_vm() {
    if !require_vm("txtime_tests_pass_in_vm") {
        return;
    }
    let bins = build_test_binaries("dist-over-tsn", &["--test", "txtime_kernel"]).unwrap();
    let payload = Payload::new().unwrap();
    for b in &bins {
        payload.copy_in(&b.path, &b.staged_name()).unwrap();
    }
    let cmd = VmRun::run_all_command(&bins, "--include-ignored --test-threads=1 --nocapture");
    let out = VmRun::new(payload.path())
        .timeout(Duration::from_secs(300))
        .env("RUST_BACKTRACE", "1")
        .run(&cmd)
        .unwrap();
    out.assert_success();
    // What the guest measured, e.g. how early etf let the timed message go.
    for line in out
        .output
        .lines()
        .filter(|l| l.contains("before its launch"))
    {
        eprintln!("guest: {line}");
    }
    // (--nocapture: the test's own lines may come between its name and its "ok".)
    assert!(
        out.output
            .contains("test etf_launches_time_triggered_messages_at_their_time ...")
            && out.output.contains("test result: ok. 1 passed"),
        "the etf test did not pass in the VM:\n{out}"
    );
    assert!(
        !out.output.contains("skipped"),
        "a test skipped inside the VM:\n{out}"
    );
}
