//! The simulation scenarios (a)-(e) on the deterministic simulator.

use gptp::sim::{Report, Scenario, ScenarioConfig, run};

fn node<'a>(r: &'a Report, name: &str) -> &'a gptp::sim::NodeReport {
    r.nodes.iter().find(|n| n.name == name).expect("node")
}

fn print(r: &Report) {
    for n in &r.nodes {
        println!(
            "{:<10} hop {:>2} lock {:?} max|err| {:?} final {:.1}",
            n.name, n.hop, n.lock_time_s, n.max_abs_error_ns, n.final_error_ns
        );
    }
}

/// (a) Master and slave; the slave starts 1 s off and +100 ppm: locked in under 5 s and
/// |error| under 100 ns after lock, with 8 ns timestamp granularity.
#[test]
fn a_master_slave_locks_fast() {
    for seed in 1..=5 {
        let r = run(&ScenarioConfig {
            hops: 1,
            seconds: 30.0,
            seed,
            stamp_ns: 8,
            slave_clock: Some((1e9, 100.0)),
            ..ScenarioConfig::default()
        });
        print(&r);
        let s = node(&r, "slave");
        assert_eq!(r.gm, "gm");
        let lock = s.lock_time_s.expect("slave locked");
        assert!(lock < 5.0, "seed {seed}: lock after {lock} s");
        let err = s.max_abs_error_ns.expect("error");
        assert!(err < 100.0, "seed {seed}: max |error| {err} ns");
    }
}

/// (b) A chain of relays with clocks within ±100 ppm: every hop reports its error, and hop
/// 32 stays within ±1 µs.
#[test]
fn b_chain_of_32_hops() {
    let r = run(&ScenarioConfig {
        hops: 32,
        seconds: 60.0,
        seed: 7,
        ..ScenarioConfig::default()
    });
    print(&r);
    assert_eq!(r.nodes.len(), 33);
    for (h, n) in r.nodes.iter().enumerate() {
        assert_eq!(n.hop, h, "{}", n.name);
        assert!(n.locked, "{} not locked", n.name);
        assert!(n.max_abs_error_ns.is_some());
    }
    let last = node(&r, "slave");
    let err = last.max_abs_error_ns.expect("error");
    assert!(err < 1000.0, "hop 32: max |error| {err} ns");
}

/// (c) The grandmaster dies: the BMCA elects the next best (the far end station, priority1
/// 247) and every node resyncs within 5 s.
#[test]
fn c_grandmaster_failover() {
    let r = run(&ScenarioConfig {
        scenario: Scenario::GmFailover,
        hops: 6,
        seconds: 40.0,
        seed: 3,
        ..ScenarioConfig::default()
    });
    print(&r);
    assert_eq!(r.gm, "backup");
    for n in &r.nodes {
        let lock = n.lock_time_s.unwrap_or(f64::INFINITY);
        assert!(lock < 5.0, "{} resynced after {lock} s", n.name);
        assert!(n.max_abs_error_ns.is_some_and(|e| e < 1000.0), "{n:?}");
    }
    // Hops now count from the backup.
    assert_eq!(node(&r, "relay-5").hop, 1);
}

/// (d) A ring: one port ends passive, nothing loops, every bridge locks.
#[test]
fn d_ring_has_no_sync_loop() {
    for hops in [3, 4, 7] {
        let r = run(&ScenarioConfig {
            scenario: Scenario::Ring,
            hops,
            seconds: 30.0,
            seed: 11,
            ..ScenarioConfig::default()
        });
        print(&r);
        assert_eq!(r.gm, "gm");
        assert_eq!(r.passive_ports, 1, "ring of {}", hops + 1);
        for n in &r.nodes {
            assert!(n.locked, "{} not locked", n.name);
            assert!(n.hop <= hops.div_ceil(2) + 1, "{}: hop {}", n.name, n.hop);
            assert!(n.max_abs_error_ns.is_some_and(|e| e < 1000.0), "{n:?}");
        }
    }
}

/// (e) Bursts of lost frames: 1 % random loss everywhere plus, at 20 s, 30 frames dropped in
/// both directions of every link. Nodes stay (or get back) locked and within 1 µs.
#[test]
fn e_bursts_of_lost_frames() {
    let r = run(&ScenarioConfig {
        hops: 4,
        seconds: 40.0,
        seed: 5,
        loss: 0.01,
        burst_loss: Some((20.0, 30)),
        ..ScenarioConfig::default()
    });
    print(&r);
    assert_eq!(r.gm, "gm");
    for n in &r.nodes {
        assert!(n.locked, "{} not locked", n.name);
        assert!(n.max_abs_error_ns.is_some_and(|e| e < 1000.0), "{n:?}");
    }
}

/// Lock times along a chain must not jump once the chain is longer than the first few hops.
///
/// At start-up every bridge is its own grandmaster until Announce information arrives, and an
/// Announce that reaches a port not yet asCapable (asCapable needs two Pdelay exchanges, 1 s)
/// is ignored, so far hops first follow a relay as temporary grandmaster and learn the real
/// one an Announce interval later (2.0 s). The servo used to keep the frequency that tracked
/// the temporary grandmaster's free-running clock (up to 200 ppm off) across that change and
/// needed ~11 s to integrate it away: every node from hop 4 on locked at ~13 s. With the
/// rate re-estimated on a grandmaster change, one hop locks by ~3.2 s (1 s asCapable + 1 s
/// Announce + one sync interval to estimate the rate + 8 samples under 100 ns); deeper hops
/// take up to ~6.7 s over these seeds, because the neighborRateRatio windows (8 Pdelay
/// exchanges) still hold the neighbours' start-up clock steps for a few seconds. 8 s leaves
/// margin for that without letting the 13 s regression through.
#[test]
fn lock_time_scales_along_a_chain() {
    for seed in [1, 6] {
        let r = run(&ScenarioConfig {
            hops: 32,
            seconds: 15.0,
            seed,
            ..ScenarioConfig::default()
        });
        print(&r);
        for n in &r.nodes {
            let lock = n.lock_time_s.unwrap_or(f64::INFINITY);
            let bound = if n.hop <= 3 { 4.0 } else { 8.0 };
            assert!(
                lock < bound,
                "seed {seed}: {} (hop {}) locked after {lock} s",
                n.name,
                n.hop
            );
        }
    }
}
