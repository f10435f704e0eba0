//! Real-part test harness: network namespaces, veth pairs, bridges, and Debian's kernel in qemu.
//!
//! Most of the stack is tested in the deterministic simulator. What is left is the part only a
//! real kernel can answer: does the kernel accept our taprio/mqprio/etf netlink messages, do VLAN
//! devices and bridge VLAN filtering behave as we program them, do daemons talk across real
//! sockets. This crate gives those tests two tools:
//!
//! - **Namespaces on the host** ([`Netns`], [`VethPair`], [`Bridge`]): RAII handles that shell
//!   out to iproute2 and delete what they created when dropped, also while a test panics
//!   (`Drop` runs during unwinding). Drops never panic; a failed cleanup is reported on stderr.
//!   Names carry the process id and a counter, so tests running in parallel never collide.
//! - **Debian's kernel in qemu** ([`VmRun`], [`Payload`]): the development and CI kernel has no
//!   taprio, mqprio, etf, 802.1Q VLAN devices or bridge VLAN filtering and cannot load modules.
//!   [`VmRun`] boots Debian's stock cloud kernel under qemu (TCG, no KVM) with a busybox
//!   initramfs (the team recipe, `tests/vm/run-in-vm.sh`), runs one command inside it and
//!   returns its output and exit status. [`Payload::stage_test_binaries`] builds a package's
//!   test binaries with cargo and copies them in, so Rust tests run unchanged inside the guest.
//!
//! # The switch
//!
//! Every test that needs root, namespaces or the VM starts with a guard:
//!
//! ```no_run
//! #[test]
//! fn veth_carries_traffic() {
//!     if !tsn_testbed::require_real("veth_carries_traffic") {
//!         return;
//!     }
//!     // ... create namespaces, run commands ...
//! }
//! ```
//!
//! With `TSN_REAL_TESTS` unset (or `0`), the guard prints one line saying the test was skipped
//! and how to enable it, and returns `false`. With `TSN_REAL_TESTS=1` (CI always sets it), it
//! checks the prerequisites and **panics** naming each missing one and the Debian package that
//! provides it: with the switch on, a missing prerequisite is a failure, never a silent pass.
//! [`require_real`] checks what namespace tests need (root, iproute2, busybox for `ping`),
//! [`require_vm`] what the VM needs (qemu, busybox, cpio, kmod, ...; no root), and [`require`]
//! takes an explicit list of [`Prereq`].
//!
//! Tests that need a kernel feature the host lacks are marked
//! `#[ignore = "needs the Debian kernel: runs inside the VM"]` and run inside the guest with
//! `--include-ignored` by a VM test (see `tests/tests/vm.rs`).
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `TSN_REAL_TESTS` | `1` runs the real-part tests, `0` or unset skips them |
//! | `TSN_IN_VM` | set to `1` inside the guest by [`VmRun`]; see [`in_vm`] |
//! | `KPKG`, `KERNEL_DEB`, `CACHE`, `SMP`, `MEM`, `VERBOSE` | passed through to `run-in-vm.sh` (kernel package, local `.deb`, kernel cache dir, default `~/.cache/tsn-kernel-vm`, ...) |

mod cmd;
mod error;
mod link;
mod netns;
mod prereq;
mod tshark;
mod vm;

pub use cmd::{CmdOutput, Spawned, run_checked};
pub use error::{Error, Result};
pub use link::{Bridge, BridgeBuilder, Link, VethBuilder, VethPair};
pub use netns::Netns;
pub use prereq::{Prereq, SWITCH, in_vm, real_tests_enabled, require, require_real, require_vm};
pub use tshark::{tshark, tshark_available, tshark_problems};
pub use vm::{Payload, TestBinary, VmOutput, VmRun, build_test_binaries, vm_script};
