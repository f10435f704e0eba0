//! The `TSN_REAL_TESTS` switch and prerequisite checks.

use std::io::Write as _;

use crate::cmd::find_program;

/// Name of the environment variable that turns the real-part tests on (`1`) or off (`0`/unset).
pub const SWITCH: &str = "TSN_REAL_TESTS";

/// Something a real-part test needs from the machine it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Prereq {
    /// Effective user id 0 (namespaces, links and qdiscs need `CAP_NET_ADMIN`).
    Root,
    /// `ip`, `tc` and `bridge` from iproute2.
    Iproute2,
    /// A busybox binary (`busybox ping` is how the namespace tests ping).
    Busybox,
    /// Everything `run-in-vm.sh` needs on the host: qemu, busybox, cpio, kmod, xz, zstd,
    /// dpkg-deb and apt-get (to download the kernel), iproute2 (copied into the guest).
    Vm,
}

/// (program, Debian package that provides it)
const IPROUTE2: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("tc", "iproute2"),
    ("bridge", "iproute2"),
];
const BUSYBOX: &[(&str, &str)] = &[("busybox", "busybox-static")];
const VM: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("busybox", "busybox-static"),
    ("cpio", "cpio"),
    ("modprobe", "kmod"),
    ("depmod", "kmod"),
    ("xz", "xz-utils"),
    ("zstd", "zstd"),
    ("dpkg-deb", "dpkg"),
    ("apt-get", "apt"),
    ("bash", "bash"),
    ("flock", "util-linux"),
    ("ip", "iproute2"),
    ("tc", "iproute2"),
    ("bridge", "iproute2"),
];

impl Prereq {
    /// Describes each missing piece with how to get it; empty when all is there.
    pub fn missing(self) -> Vec<String> {
        let programs = match self {
            Self::Root => {
                return if is_root() {
                    Vec::new()
                } else {
                    vec![
                        "root (effective uid 0): run the tests as root, e.g. `sudo -E cargo test`"
                            .to_owned(),
                    ]
                };
            }
            Self::Iproute2 => IPROUTE2,
            Self::Busybox => BUSYBOX,
            Self::Vm => VM,
        };
        missing_programs(programs)
    }
}

fn missing_programs(programs: &[(&str, &str)]) -> Vec<String> {
    programs
        .iter()
        .filter(|(prog, _)| find_program(prog).is_none())
        .map(|(prog, pkg)| {
            format!("`{prog}` not in PATH: `apt-get install --no-install-recommends {pkg}`")
        })
        .collect()
}

/// Reads the switch. Panics on a value that is neither on nor off, so that a typo such as
/// `TSN_REAL_TESTS=yes` cannot skip everything silently.
pub fn real_tests_enabled() -> bool {
    match std::env::var(SWITCH) {
        Err(std::env::VarError::NotPresent) => false,
        Ok(v) if matches!(v.as_str(), "" | "0" | "false") => false,
        Ok(v) if matches!(v.as_str(), "1" | "true") => true,
        Ok(v) => panic!("{SWITCH}={v:?} is not understood: use {SWITCH}=1 (on) or 0 (off)"),
        Err(e) => panic!("{SWITCH}: {e}"),
    }
}

/// Whether this process runs inside the guest started by [`crate::VmRun`].
pub fn in_vm() -> bool {
    std::env::var_os("TSN_IN_VM").is_some_and(|v| v == "1")
}

/// Guard for tests that need root and network namespaces on this machine: root, iproute2,
/// busybox. See [`require`].
pub fn require_real(what: &str) -> bool {
    require(what, &[Prereq::Root, Prereq::Iproute2, Prereq::Busybox])
}

/// Guard for tests that boot the kernel VM (needs no root). See [`require`].
pub fn require_vm(what: &str) -> bool {
    require(what, &[Prereq::Vm])
}

/// Guard at the top of a real-part test.
///
/// Switch off: writes `skipped <what>: ...` to stderr (not captured, so it shows in the test
/// output) and returns `false`; the test should `return`. Switch on: returns `true` when every
/// prerequisite is met and panics otherwise, naming each missing one and its Debian package.
pub fn require(what: &str, prereqs: &[Prereq]) -> bool {
    if !real_tests_enabled() {
        let line = format!(
            "skipped {what}: needs root, namespaces or the kernel VM; run with {SWITCH}=1 to enable\n"
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        return false;
    }
    let mut missing: Vec<String> = Vec::new();
    for p in prereqs {
        for m in p.missing() {
            if !missing.contains(&m) {
                missing.push(m);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{SWITCH} is on but {what} cannot run; missing prerequisites:\n  - {}",
        missing.join("\n  - ")
    );
    true
}

/// Effective uid 0, read from `/proc/self/status` (no `unsafe`, no libc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_names_the_package() {
        let missing = missing_programs(&[("sh", "dash"), ("tsn-no-such-tool", "tsn-pkg")]);
        assert_eq!(
            missing,
            ["`tsn-no-such-tool` not in PATH: `apt-get install --no-install-recommends tsn-pkg`"]
        );
    }

    #[test]
    fn root_check_matches_id() {
        let id = std::process::Command::new("id").arg("-u").output().unwrap();
        let uid = String::from_utf8_lossy(&id.stdout).trim().to_owned();
        assert_eq!(is_root(), uid == "0");
    }
}
