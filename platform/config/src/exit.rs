//! The exit codes every command-line tool of the stack uses (sysexits.h values, listed in the
//! README), so that scripts can tell a bad file from a missing privilege whichever tool failed.
//! 0, 1 (runtime failure) and 2 (usage, clap's) are `std::process::ExitCode`'s own.

/// EX_DATAERR: the input is valid but cannot be met (a schedule leaves streams unscheduled).
pub const INFEASIBLE: u8 = 65;
/// EX_NOINPUT: a file cannot be read, or is not what it should be.
pub const NO_INPUT: u8 = 66;
/// EX_UNAVAILABLE: the kernel or the NIC lacks a feature (taprio, 802.1Q, a PHC, ...).
pub const UNAVAILABLE: u8 = 69;
/// EX_NOPERM: a capability is missing (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_TIME).
pub const NO_PERM: u8 = 77;
/// EX_CONFIG: the configuration is invalid.
pub const CONFIG: u8 = 78;
