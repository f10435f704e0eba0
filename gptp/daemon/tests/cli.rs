//! Start-up errors give the documented exit codes and say what is wrong, without root.

use std::process::Command;

fn gptpd(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gptpd"))
        .args(args)
        .output()
        .expect("gptpd runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_interface_exits_69_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let (code, err) = gptpd(&["-i", "nosuchif0", "--socket", sock.to_str().unwrap()]);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("interface nosuchif0 does not exist"), "{err}");
}

#[test]
fn config_errors_exit_78_with_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, "interfaces: [eth0]\nport:\n  log-sync-interval: 12\n").unwrap();
    let (code, err) = gptpd(&["-f", f.to_str().unwrap()]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("bad.yaml:3:"), "{err}");
    assert!(err.contains("port.log-sync-interval"), "{err}");

    let (code, err) = gptpd(&["-i", "eth0", "--virtual-offset-ns", "5"]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("clock: "), "{err}");

    let (code, err) = gptpd(&["--socket", "/tmp/x.sock"]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("no interface"), "{err}");
}

#[test]
fn an_unreadable_file_exits_66_and_usage_errors_exit_2() {
    let (code, err) = gptpd(&["-f", "/nonexistent/gptpd.yaml"]);
    assert_eq!(code, 66, "{err}");
    assert!(err.contains("/nonexistent/gptpd.yaml"), "{err}");
    let (code, _) = gptpd(&["--priority1", "300"]);
    assert_eq!(code, 2);
}

#[test]
fn check_accepts_the_example_configs() {
    for name in ["gptpd-end-station.yaml", "gptpd-relay-virtual.yaml"] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/").to_owned() + name;
        let (code, err) = gptpd(&["-f", &path, "--check"]);
        assert_eq!(code, 0, "{name}: {err}");
    }
}

#[test]
fn gptpctl_without_a_daemon_fails_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_gptpctl"))
        .args(["--socket", "/nonexistent/gptpd.sock", "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach gptpd at /nonexistent/gptpd.sock"),
        "{err}"
    );
}

#[test]
fn without_cap_net_raw_it_exits_77() {
    if !tsn_testbed::require_real("gptpd without CAP_NET_RAW") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    // As root, dropping the capability from the bounding set removes it at exec.
    let out = Command::new("setpriv")
        .args(["--bounding-set", "-net_raw", "--"])
        .arg(env!("CARGO_BIN_EXE_gptpd"))
        .args(["-i", "lo", "--clock", "virtual", "--socket"])
        .arg(&sock)
        .output()
        .expect("setpriv (util-linux) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(77), "{err}");
    assert!(err.contains("CAP_NET_RAW"), "{err}");
}
