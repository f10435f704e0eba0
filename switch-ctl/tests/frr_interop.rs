//! Interop with FRR's isisd: our IS-IS core (`switch-ctl isis`, raw 802.3/LLC sockets) in
//! one network namespace, zebra + isisd in another, joined by a veth pair. The point-to-point
//! three-way adjacency must come Up on both sides and each side must hold the other's LSP.
//! FRR 8.4 has no SPB: this is plain IS-IS level-1 interop (FRR floods our TLV 144 unchanged
//! and ignores it). Gated by `TSN_REAL_TESTS=1`; needs root and the `frr` package.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tsn_testbed::{Netns, VethPair, require_real};

const ISISD_CONF: &str = "hostname frr
!
interface frr0
 ip router isis SPB
 isis circuit-type level-1
 isis network point-to-point
!
router isis SPB
 lsp-gen-interval 1
 spf-interval 1
 net 49.0001.0000.0000.0001.00
 is-type level-1
 metric-style wide
!
";

fn vtysh(dir: &Path, cmd: &str) -> String {
    let out = Command::new("vtysh")
        .arg("--vty_socket")
        .arg(dir)
        .args(["-c", cmd])
        .output()
        .expect("vtysh runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn frr_isisd_forms_an_adjacency_and_both_sides_hold_each_others_lsp() {
    if !require_real("FRR isisd interop") {
        return;
    }
    for prog in ["/usr/lib/frr/zebra", "/usr/lib/frr/isisd", "/usr/bin/vtysh"] {
        assert!(
            Path::new(prog).exists(),
            "{prog} missing: `apt-get install --no-install-recommends frr`"
        );
    }
    let frr = Netns::new("isis-frr").unwrap();
    let us = Netns::new("isis-us").unwrap();
    let _veth = VethPair::builder()
        .a_netns(&frr)
        .a_name("frr0")
        .a_addr("192.0.2.16/31")
        .b_netns(&us)
        .b_name("spb0")
        .b_addr("192.0.2.17/31")
        .create()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // FRR drops to the frr user and must reach its sockets, pid files and logs here.
    std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::write(d.join("zebra.conf"), "hostname frr\n").unwrap();
    std::fs::write(d.join("isisd.conf"), ISISD_CONF).unwrap();
    let ds = d.to_str().unwrap();
    let daemon = |name: &str| {
        let conf = format!("{ds}/{name}.conf");
        let pid = format!("{ds}/{name}.pid");
        let zserv = format!("{ds}/zserv.api");
        let log = format!("file:{ds}/{name}.log");
        let bin = format!("/usr/lib/frr/{name}");
        // Foreground (no -d), so the handle's PID is the daemon's and drop kills it.
        frr.spawn(&[
            &bin,
            "-u",
            "frr",
            "-g",
            "frr",
            "-f",
            &conf,
            "-i",
            &pid,
            "-z",
            &zserv,
            "--vty_socket",
            ds,
            "-P",
            "0",
            "--log",
            &log,
        ])
        .unwrap()
    };
    let _zebra = daemon("zebra");
    std::thread::sleep(Duration::from_millis(500));
    let _isisd = daemon("isisd");
    let status = d.join("switch-ctl.json");
    let status_s = status.to_str().unwrap().to_owned();
    let _speaker = us
        .spawn(&[
            env!("CARGO_BIN_EXE_switch-ctl"),
            "isis",
            "--interface",
            "spb0:10",
            "--system-id",
            "0000.0000.0004",
            "--hostname",
            "spb4",
            "--ipv4",
            "192.0.2.17",
            "--isid",
            "100",
            "--hello-padding",
            "--duration",
            "120",
            "--status",
            &status_s,
        ])
        .unwrap();

    let start = Instant::now();
    let mut ours = serde_json::Value::Null;
    let (mut nbr, mut db);
    let done = loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            ours = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        }
        nbr = vtysh(d, "show isis neighbor");
        db = vtysh(d, "show isis database detail");
        let our_adj_up = ours["adjacencies"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["neighbor"] == "0000.0000.0001" && x["state"] == "up")
        });
        let we_hold_frr_lsp = ours["lsdb"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["system-id"] == "0000.0000.0001" && x["purged"] == false)
        });
        let frr_adj_up = nbr.lines().any(|l| l.contains("frr0") && l.contains("Up"));
        // Our LSP in FRR's database carrying our adjacency to FRR (TLV 22), and FRR's own
        // LSP carrying its adjacency to us.
        let frr_holds_ours = db.contains("spb4.00-00")
            && db.contains("Extended Reachability: 0000.0000.0001.00")
            && db.contains("Extended Reachability: 0000.0000.0004.00");
        if our_adj_up && we_hold_frr_lsp && frr_adj_up && frr_holds_ours {
            break true;
        }
        if start.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    println!(
        "after {:.1} s:\n--- FRR neighbours\n{nbr}\n--- FRR database\n{db}\n--- ours\n{ours:#}",
        start.elapsed().as_secs_f64()
    );
    if !done {
        let log = std::fs::read_to_string(d.join("isisd.log")).unwrap_or_default();
        println!(
            "--- isisd.log (tail)\n{}",
            log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
    }
    assert!(done, "no two-way interop within 60 s");
    let c = &ours["counters"];
    for k in [
        "drop-malformed",
        "drop-auth",
        "drop-three-way",
        "drop-checksum",
    ] {
        assert_eq!(c[k], 0, "{k}");
    }
}
