//! tshark as the wire-format oracle: the frames we emit must dissect with no malformed field
//! and no expert error or warning.
//!
//! Reading a pcap needs no privileges, so these checks run wherever tshark is installed; with
//! `TSN_REAL_TESTS=1` a missing tshark is a failure, as for every other real part.

use std::path::Path;
use std::process::Command;

use crate::prereq::real_tests_enabled;

/// Whether tshark can run. Without it: a printed skip, or a panic naming the package when
/// `TSN_REAL_TESTS=1`.
pub fn tshark_available(test: &str) -> bool {
    if Command::new("tshark").arg("-v").output().is_ok() {
        return true;
    }
    assert!(
        !real_tests_enabled(),
        "{test}: tshark is not installed but TSN_REAL_TESTS=1 requires it (apt-get install tshark)"
    );
    println!("note: tshark not installed; skipping {test}");
    false
}

/// Runs tshark and returns its standard output; panics if it cannot run or fails.
pub fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running tshark {args:?}: {e}"));
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What tshark objects to in a capture: malformed packets, expert errors and warnings, bad
/// checksums, from both the full dissection (`-V`) and the expert summary (`-z expert`). The
/// two overlap, but each has caught something the other printed less plainly.
pub fn tshark_problems(pcap: &Path) -> Vec<String> {
    let path = pcap.to_str().expect("pcap path is UTF-8");
    let verbose = tshark(&["-r", path, "-V"]);
    let mut found: Vec<String> = verbose
        .lines()
        .filter(|l| {
            l.contains("Malformed")
                || l.contains("[Expert Info (Error")
                || l.contains("[Expert Info (Warning")
                || l.contains("[Checksum Status: Bad]")
        })
        .map(|l| format!("-V: {}", l.trim()))
        .collect();
    // The summary lists groups as "Errors (n)", "Warns (n)", "Notes (n)", "Chats (n)".
    let expert = tshark(&["-r", path, "-q", "-z", "expert"]);
    found.extend(
        expert
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("Errors") || l.starts_with("Warn"))
            .map(|l| format!("-z expert: {l}")),
    );
    found
}
