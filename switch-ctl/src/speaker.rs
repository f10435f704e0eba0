//! `switch-ctl isis`: the sans-IO IS-IS core on real interfaces, one raw LLC socket per
//! port. A single-threaded loop waits in poll(2) for a frame or the core's next deadline,
//! feeds the core, sends what it queued and keeps the incremental SPF ([`SpbRib`]) current.
//! Optionally writes a JSON status file (adjacencies, LSDB, unicast FDB, counters) after
//! every change, replacing it atomically.
//!
//! Carrier is polled from sysfs every 200 ms (not netlink). Not yet: programming the bridge
//! FDB/MDB, a config file.

use std::io;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use switch_ctl_core::isis::{AdjState, Config, Instance, PortConfig, SpbRib};
use tsn_time::{Duration, Time};
use tsn_wire::MacAddress;

use crate::llc::LlcSocket;

/// What to run.
#[derive(Debug, Clone)]
pub struct SpeakerOptions {
    /// Interfaces, one port each, with their SPB metric.
    pub interfaces: Vec<(String, u32)>,
    /// Core configuration; its `ports` are filled in from the interfaces.
    pub config: Config,
    /// Stop after this long (run forever if `None`).
    pub duration: Option<std::time::Duration>,
    /// Where to write the JSON status.
    pub status: Option<PathBuf>,
}

/// Runs until `duration` elapses or a socket fails.
pub fn run(opts: SpeakerOptions) -> io::Result<()> {
    let sockets = opts
        .interfaces
        .iter()
        .map(|(name, _)| {
            LlcSocket::open(name).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut cfg = opts.config;
    cfg.ports = sockets
        .iter()
        .zip(&opts.interfaces)
        .map(|(s, (_, metric))| PortConfig {
            mac: MacAddress(s.info().mac),
            metric: *metric,
        })
        .collect();
    let mut rib = SpbRib::new(&cfg.ects, 1);
    let mut isis = Instance::new(cfg);
    let start = Instant::now();
    let now = || Time::EPOCH + Duration::from_nanos(start.elapsed().as_nanos() as i64);
    isis.start(now());
    // Carrier from sysfs operstate, polled: a veth that has just been created may still be
    // down when we open it.
    let mut carrier: Vec<bool> = vec![true; sockets.len()];
    let mut next_carrier_check = start;
    let mut seen_changes = u64::MAX;
    let mut buf = vec![0u8; 9216];
    loop {
        while let Some(t) = isis.poll_transmit() {
            if let Err(e) = sockets[t.port].send(&t.frame) {
                // A full queue or a downed link loses a PDU; IS-IS retransmits.
                eprintln!("switch-ctl: {}: send: {e}", opts.interfaces[t.port].0);
            }
        }
        if isis.change_count() != seen_changes {
            seen_changes = isis.change_count();
            rib.update(isis.lsdb());
            if let Some(path) = &opts.status {
                write_status(path, &isis, &rib, &opts.interfaces)?;
            }
        }
        if Instant::now() >= next_carrier_check {
            next_carrier_check = Instant::now() + std::time::Duration::from_millis(200);
            for (i, (name, _)) in opts.interfaces.iter().enumerate() {
                let up = crate::llc::link_info(name).is_ok_and(|l| l.up);
                if up != carrier[i] {
                    carrier[i] = up;
                    isis.handle_link_change(now(), i, up);
                }
            }
            continue;
        }
        let elapsed = start.elapsed();
        if opts.duration.is_some_and(|d| elapsed >= d) {
            return Ok(());
        }
        let mut wait_ms = 200i64;
        if let Some(d) = opts.duration {
            wait_ms = wait_ms.min((d - elapsed).as_millis() as i64 + 1);
        }
        if let Some(t) = isis.poll_timeout() {
            let ns = (t - now()).nanos().max(0);
            wait_ms = wait_ms.min(((ns + 999_999) / 1_000_000) as i64);
        }
        let mut fds: Vec<libc::pollfd> = sockets
            .iter()
            .map(|s| libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(s),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a live array of `fds.len()` pollfd structures.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms as i32) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        for (port, s) in sockets.iter().enumerate() {
            while let Some(n) = s.recv(&mut buf)? {
                isis.handle_frame(now(), port, &buf[..n]);
            }
        }
        if isis.poll_timeout().is_some_and(|t| t <= now()) {
            isis.handle_timeout(now());
        }
    }
}

fn write_status(
    path: &std::path::Path,
    isis: &Instance,
    rib: &SpbRib,
    interfaces: &[(String, u32)],
) -> io::Result<()> {
    let me = isis.config().system_id;
    let adjacencies: Vec<_> = isis
        .adjacencies()
        .iter()
        .map(|a| {
            json!({
                "interface": interfaces[a.port].0,
                "neighbor": a.neighbor.to_string(),
                "state": if a.state == AdjState::Up { "up" } else { "initializing" },
                "spb": a.spb,
            })
        })
        .collect();
    let lsdb: Vec<_> = isis
        .lsdb()
        .iter()
        .map(|(id, l)| {
            json!({
                "system-id": id.system_id.to_string(),
                "pseudonode": id.pseudonode,
                "fragment": id.fragment,
                "seq": l.seq,
                "purged": l.purged,
            })
        })
        .collect();
    let ports = isis.neighbor_ports();
    let fdb: Vec<_> = rib
        .unicast_fdb(me, &ports)
        .iter()
        .map(|((ect, dst), port)| {
            json!({"ect": ect.to_string(), "b-mac": dst.to_string(), "interface": interfaces[*port].0})
        })
        .collect();
    let c = isis.counters();
    let status = json!({
        "system-id": me.to_string(),
        "adjacencies": adjacencies,
        "lsdb": lsdb,
        "unicast-fdb": fdb,
        "counters": {
            "rx-frames": c.rx_frames, "tx-hellos": c.tx_hellos, "tx-lsps": c.tx_lsps,
            "tx-csnps": c.tx_csnps, "tx-psnps": c.tx_psnps,
            "drop-malformed": c.drop_malformed, "drop-auth": c.drop_auth,
            "drop-hello": c.drop_hello, "drop-three-way": c.drop_three_way,
            "drop-checksum": c.drop_checksum, "drop-unsupported": c.drop_unsupported,
        },
    });
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&status).map_err(io::Error::other)?,
    )?;
    std::fs::rename(tmp, path)
}
