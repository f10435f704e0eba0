//! Debian's kernel under qemu: payload directories, test-binary staging and the runner.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cmd::{self, find_program, quote, run_raw};
use crate::{Error, Result};

/// The team's VM recipe, `tests/vm/run-in-vm.sh` in this repository.
pub fn vm_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vm")
        .join("run-in-vm.sh")
}

/// The workspace root (this crate lives in `<root>/tests`).
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// One VM at a time per process: two TCG guests on a 2-core machine only slow each other
/// down, and each takes a GiB of RAM.
static VM_LOCK: Mutex<()> = Mutex::new(());

/// A directory whose contents become `/payload` (the working directory) in the guest.
/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Payload {
    dir: tempfile::TempDir,
}

impl Payload {
    /// Creates an empty payload directory under the system temp dir.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("tsn-vm-payload.")
            .tempdir()
            .map_err(|e| Error::Io {
                what: "creating payload dir in",
                path: std::env::temp_dir(),
                source: e,
            })?;
        Ok(Self { dir })
    }

    /// Its path on the host.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` (a plain file name or a relative path).
    pub fn write_file(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf> {
        let path = self.target_path(name)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| Error::Io {
                what: "creating",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&path, contents).map_err(|source| Error::Io {
            what: "writing",
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Writes an executable script (`#!/bin/sh` is bash in the guest).
    pub fn write_script(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.write_file(name, text)?;
        set_executable(&path)?;
        Ok(path)
    }

    /// Copies the file `src` into the payload as `name`. ELF files are copied without their
    /// debug info (`strip --strip-debug`, when binutils is installed): the payload travels in
    /// an initramfs held in guest RAM.
    pub fn copy_in(&self, src: &Path, name: &str) -> Result<PathBuf> {
        let dst = self.target_path(name)?;
        fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
            let path = path.to_path_buf();
            move |source| Error::Io { what, path, source }
        }
        let stripped = is_elf(src)
            && find_program("strip").is_some()
            && run_raw(
                Command::new("strip")
                    .arg("--strip-debug")
                    .arg("-o")
                    .arg(&dst)
                    .arg(src),
            )
            .is_ok_and(|o| o.status.success());
        if !stripped {
            fs::copy(src, &dst).map_err(io("copying to", &dst))?;
        }
        if fs::metadata(src)
            .map_err(io("reading", src))?
            .permissions()
            .mode()
            & 0o111
            != 0
        {
            set_executable(&dst)?;
        }
        Ok(dst)
    }

    /// Builds the test binaries of `package` ([`build_test_binaries`]) and copies them in.
    /// Returns the staged binaries; their [`TestBinary::staged_name`] is the file name in the
    /// payload, so `./<staged_name> --test-threads=1` runs one in the guest.
    pub fn stage_test_binaries(&self, package: &str) -> Result<Vec<TestBinary>> {
        let bins = build_test_binaries(package, &[])?;
        for b in &bins {
            self.copy_in(&b.path, &b.staged_name())?;
        }
        Ok(bins)
    }

    fn target_path(&self, name: &str) -> Result<PathBuf> {
        let rel = Path::new(name);
        if name.is_empty()
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::Invalid(format!("payload file name {name:?}")));
        }
        Ok(self.path().join(rel))
    }
}

fn set_executable(path: &Path) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|source| Error::Io {
        what: "chmod",
        path: path.to_path_buf(),
        source,
    })
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// A test executable built by cargo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// Target name (`netns` for `tests/netns.rs`, the crate name for unit tests).
    pub target: String,
    /// Target kind (`lib`, `test`, `bin`, ...).
    pub kind: String,
    /// The executable under `target/debug/deps`.
    pub path: PathBuf,
}

impl TestBinary {
    /// File name used in a [`Payload`]: `<target>-<kind>`, e.g. `netns-test`, `tsn-lib`.
    pub fn staged_name(&self) -> String {
        format!("{}-{}", self.target, self.kind)
    }
}

/// Builds the test binaries of `package` with `cargo test -p <package> --no-run
/// --message-format=json` (plus `extra_args`, e.g. `--features` or `--test netns`) in this
/// workspace and returns them. Uses the `cargo` that runs the current test (`$CARGO`).
pub fn build_test_binaries(package: &str, extra_args: &[&str]) -> Result<Vec<TestBinary>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "test",
            "-p",
            package,
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(extra_args);
    let out = run_raw(&mut cmd)?;
    let cargo_err = |reason: String| Error::Cargo {
        package: package.to_owned(),
        reason,
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(cargo_err(format!(
            "`{}` failed: {}",
            cmd::display(&cmd),
            tail(&stderr, 40)
        )));
    }
    let bins = parse_cargo_messages(&String::from_utf8_lossy(&out.stdout));
    if bins.is_empty() {
        return Err(cargo_err(format!(
            "`{}` built no test executable",
            cmd::display(&cmd)
        )));
    }
    Ok(bins)
}

/// Picks the test executables out of cargo's JSON messages.
fn parse_cargo_messages(stdout: &str) -> Vec<TestBinary> {
    let mut bins = Vec::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_test = msg["reason"] == "compiler-artifact" && msg["profile"]["test"] == true;
        let Some(exe) = msg["executable"].as_str().filter(|_| is_test) else {
            continue;
        };
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("unknown").to_owned();
        bins.push(TestBinary {
            target: text(&msg["target"]["name"]),
            kind: text(&msg["target"]["kind"][0]),
            path: PathBuf::from(exe),
        });
    }
    bins
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// How a command run in the VM ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmOutput {
    /// The command's exit status in the guest; `run-in-vm.sh` uses 124 for a timeout, 125
    /// when the guest never reported a status (kernel panic, init failure) and 2 for host
    /// problems (missing tool, kernel download failed).
    pub status: i32,
    /// The command's stdout and stderr, interleaved as written (second serial port; no
    /// kernel messages).
    pub output: String,
    /// `run-in-vm.sh`'s own log (kernel download, boot line, timing, console tail on failure).
    pub log: String,
    /// Wall time of the whole run: initramfs build, boot, command, power-off.
    pub wall: Duration,
}

impl VmOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// QEMU start to power-off, as `run-in-vm.sh` measured it (`run-in-vm: 5.0 s wall`).
    pub fn qemu_wall(&self) -> Option<Duration> {
        self.log.lines().find_map(|l| {
            let secs = l.strip_prefix("run-in-vm: ")?.split_once(" s wall")?.0;
            secs.parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        })
    }

    /// What the status means, in words.
    pub fn status_meaning(&self) -> &'static str {
        match self.status {
            0 => "success",
            124 => "the VM ran past its timeout",
            125 => "the guest never reported a status (kernel panic or init failure)",
            2 => "command exited 2, or run-in-vm.sh could not set up (missing tool, download)",
            _ => "command failed",
        }
    }

    /// Panics unless the command succeeded, showing its output and the runner's log.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "{self}");
        self
    }
}

impl std::fmt::Display for VmOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "VM command exited {} ({}) after {:.1} s",
            self.status,
            self.status_meaning(),
            self.wall.as_secs_f64()
        )?;
        writeln!(
            f,
            "----- guest output (last 200 lines) -----\n{}",
            tail(&self.output, 200)
        )?;
        write!(f, "----- run-in-vm.sh log -----\n{}", tail(&self.log, 80))
    }
}

/// Runs one command in Debian's kernel under qemu, with a [`Payload`] directory as `/payload`.
///
/// ```no_run
/// # fn main() -> tsn_testbed::Result<()> {
/// use std::time::Duration;
/// use tsn_testbed::{Payload, VmRun};
/// let payload = Payload::new()?;
/// let bins = payload.stage_test_binaries("tsn")?;
/// let cmd = VmRun::run_all_command(&bins, "--include-ignored --test-threads=1");
/// let out = VmRun::new(payload.path())
///     .timeout(Duration::from_secs(300))
///     .env("RUST_BACKTRACE", "1")
///     .run(&cmd)?;
/// out.assert_success();
/// # Ok(()) }
/// ```
///
/// Inside the guest, `TSN_REAL_TESTS=1` and `TSN_IN_VM=1` are set, the user is root, `ip`,
/// `tc` and `bridge` are the host's iproute2, and the modules for taprio, mqprio, etf, cbs,
/// netem, 802.1Q, bridge, veth and dummy are loaded. Runs are serialised within a process.
#[derive(Debug, Clone)]
#[must_use]
pub struct VmRun {
    payload: PathBuf,
    timeout: Duration,
    guest_env: Vec<(String, String)>,
    script_env: Vec<(String, String)>,
}

impl VmRun {
    /// A run with `payload_dir` as `/payload` and a 300 s timeout.
    pub fn new(payload_dir: impl AsRef<Path>) -> Self {
        Self {
            payload: payload_dir.as_ref().to_path_buf(),
            timeout: Duration::from_secs(300),
            guest_env: vec![
                ("TSN_REAL_TESTS".into(), "1".into()),
                ("TSN_IN_VM".into(), "1".into()),
            ],
            script_env: Vec::new(),
        }
    }

    /// Kills the VM after this long (the command then reports status 124). Kernel download
    /// and initramfs build come on top.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets an environment variable for the command inside the guest.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.guest_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets a variable for `run-in-vm.sh` itself: `KPKG`, `KERNEL_DEB`, `MODS`, `HOST_BINS`,
    /// `SMP`, `MEM`, `CACHE`, `VERBOSE`, ... (see the script's header). Unset ones are
    /// inherited from the test's environment, then default.
    pub fn script_env(mut self, key: &str, value: &str) -> Self {
        self.script_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Host programs copied into the guest (`HOST_BINS`, default `ip tc bridge`).
    pub fn host_bins(self, bins: &str) -> Self {
        self.script_env("HOST_BINS", bins)
    }

    /// Boots the VM, runs `cmd` with bash in `/payload` and returns its output and status.
    /// `Err` only when the runner itself could not be started or was killed by a signal; a
    /// failing command, a guest panic or a timeout is an `Ok` with a non-zero status.
    pub fn run(&self, cmd: &str) -> Result<VmOutput> {
        let mut guest_cmd = String::new();
        for (k, v) in &self.guest_env {
            let _ = writeln!(guest_cmd, "export {k}={}", quote(v));
        }
        guest_cmd.push_str(cmd);

        let mut runner = Command::new("bash");
        runner
            .arg(vm_script())
            .arg(&self.payload)
            .arg(&guest_cmd)
            .env("TIMEOUT", self.timeout.as_secs().max(1).to_string());
        for (k, v) in &self.script_env {
            runner.env(k, v);
        }

        let _one_vm_at_a_time = VM_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t0 = Instant::now();
        let out = run_raw(&mut runner)?;
        let wall = t0.elapsed();
        let status = out
            .status
            .code()
            .ok_or_else(|| cmd::command_error(&runner, out.status, &out.stdout, &out.stderr))?;
        Ok(VmOutput {
            status,
            output: String::from_utf8_lossy(&out.stdout).into_owned(),
            log: String::from_utf8_lossy(&out.stderr).into_owned(),
            wall,
        })
    }

    /// A guest command that runs each staged test binary with `args` (e.g.
    /// `--include-ignored --test-threads=1`), keeps going after a failure and exits non-zero
    /// if any failed.
    pub fn run_all_command(bins: &[TestBinary], args: &str) -> String {
        let mut s = String::from("rc=0\n");
        for b in bins {
            let name = quote(format!("./{}", b.staged_name()));
            let _ = writeln!(s, "echo \"== {}\"; {name} {args} || rc=1", b.staged_name());
        }
        s.push_str("exit $rc\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_test_executables_from_cargo_json() {
        let json = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/tests#tsn-testbed@0.1.0","target":{"kind":["lib"],"name":"tsn_testbed"},"profile":{"test":true},"executable":"/w/target/debug/deps/tsn_testbed-1a2b"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"serde_json"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["test"],"name":"netns"},"profile":{"test":true},"executable":"/w/target/debug/deps/netns-3c4d"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"tsn_testbed"},"profile":{"test":false},"executable":null}
not json at all
{"reason":"build-finished","success":true}"#;
        let bins = parse_cargo_messages(json);
        assert_eq!(
            bins,
            [
                TestBinary {
                    target: "tsn_testbed".into(),
                    kind: "lib".into(),
                    path: "/w/target/debug/deps/tsn_testbed-1a2b".into(),
                },
                TestBinary {
                    target: "netns".into(),
                    kind: "test".into(),
                    path: "/w/target/debug/deps/netns-3c4d".into(),
                },
            ]
        );
        assert_eq!(bins[1].staged_name(), "netns-test");
    }

    #[test]
    fn qemu_wall_is_read_from_the_log() {
        let out = VmOutput {
            status: 0,
            output: String::new(),
            log: "run-in-vm: booting ...\nrun-in-vm: 5.0 s wall (guest reached init at 2.59 s \
                  uptime), exit 0\n"
                .into(),
            wall: Duration::from_secs(6),
        };
        assert_eq!(out.qemu_wall(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn run_all_command_keeps_going_and_fails_at_the_end() {
        let bins = [TestBinary {
            target: "a".into(),
            kind: "test".into(),
            path: "/x/a".into(),
        }];
        let s = VmRun::run_all_command(&bins, "--test-threads=1");
        assert_eq!(
            s,
            "rc=0\necho \"== a-test\"; ./a-test --test-threads=1 || rc=1\nexit $rc\n"
        );
    }

    #[test]
    fn payload_rejects_escaping_names_and_cleans_up() {
        let p = Payload::new().unwrap();
        for bad in ["", "/etc/passwd", "../x", "a/../../x"] {
            assert!(p.write_file(bad, "x").is_err(), "{bad:?}");
        }
        let f = p.write_script("sub/t.sh", "echo hi\n").unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let dir = p.path().to_path_buf();
        drop(p);
        assert!(!dir.exists());
    }
}
