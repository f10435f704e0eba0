//! The `TSN_REAL_TESTS` switch: off skips with a hint, on fails loudly on a missing
//! prerequisite. Each case runs `helper_require_vm` in a child process (this same test binary)
//! with a controlled environment, so these tests need neither root nor the switch.

use std::process::{Command, Output};

/// Runs `helper_require_vm` in a child with `TSN_REAL_TESTS` set to `switch` (or unset) and
/// `PATH` replaced by `path` (if given). Returns exit success and stdout+stderr.
fn run_helper(switch: Option<&str>, path: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "helper_require_vm",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    match switch {
        Some(v) => cmd.env("TSN_REAL_TESTS", v),
        None => cmd.env_remove("TSN_REAL_TESTS"),
    };
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text)
}

#[test]
#[ignore = "helper: run in a child process by the other tests in this file"]
fn helper_require_vm() {
    if tsn_testbed::require_vm("helper_require_vm") {
        println!("HELPER-RAN");
    }
}

#[test]
fn switch_off_skips_and_says_how_to_enable() {
    let (ok, text) = run_helper(None, None);
    assert!(ok, "{text}");
    assert!(text.contains("skipped helper_require_vm"), "{text}");
    assert!(text.contains("TSN_REAL_TESTS=1"), "{text}");
    assert!(!text.contains("HELPER-RAN"), "{text}");

    let (ok, text) = run_helper(Some("0"), None);
    assert!(ok && text.contains("skipped helper_require_vm"), "{text}");
}

#[test]
fn switch_on_with_missing_prerequisites_fails_naming_the_packages() {
    let empty = tempfile::tempdir().unwrap();
    let (ok, text) = run_helper(Some("1"), Some(empty.path().to_str().unwrap()));
    assert!(!ok, "must fail, not pass silently:\n{text}");
    assert!(!text.contains("HELPER-RAN"), "{text}");
    assert!(
        text.contains("TSN_REAL_TESTS is on but helper_require_vm cannot run"),
        "{text}"
    );
    for needle in [
        "`qemu-system-x86_64` not in PATH",
        "apt-get install --no-install-recommends qemu-system-x86",
        "busybox-static",
        "xz-utils",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn switch_value_typo_is_an_error_not_a_skip() {
    let (ok, text) = run_helper(Some("yes"), None);
    assert!(!ok, "{text}");
    assert!(
        text.contains("TSN_REAL_TESTS=\"yes\" is not understood"),
        "{text}"
    );
}
