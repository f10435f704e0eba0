//! The IS-IS core in the platform simulator: many bridges over simulated links.
//!
//! Each test builds a seeded random connected topology, runs one unchanged
//! [`Instance`] per bridge behind a thin [`Node`] adapter, and checks against ground truth
//! (the topology the test built): adjacencies form, every database converges to the same
//! LSPs, every bridge's SPB view equals the real topology, forwarding tables walked hop by
//! hop reach every destination on the SPF's shortest path and its reverse, and flooding
//! stays within a per-link bound. Then links and bridges fail and everything reconverges.

use std::collections::BTreeMap;

use petgraph::graph::UnGraph;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use switch_ctl_core::isis::wire::{IsidEntry, LspId};
use switch_ctl_core::isis::{AdjState, Config, Instance, PortConfig};
use switch_ctl_core::spf::{BridgeId, EctAlgorithm, Spf, SystemId, Topology};
use tsn_netsim::{
    Ctx, Duration, LinkConfig, LinkId, LinkParams, Node, NodeConfig, NodeId, PortId, Simulator,
    Time,
};
use tsn_wire::MacAddress;

/// The adapter: the simulator's callbacks become the core's inputs, its transmits `Ctx::send`.
#[derive(Debug)]
struct Bridge {
    isis: Instance,
}

impl Bridge {
    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(t) = self.isis.poll_transmit() {
            ctx.send(PortId(t.port as u16), 7, t.frame);
        }
    }
}

impl Node for Bridge {
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.isis.start(ctx.now());
        self.flush(ctx);
    }
    fn on_frame(&mut self, ctx: &mut Ctx<'_>, port: PortId, frame: &[u8], _rx: Time) {
        self.isis.handle_frame(ctx.now(), port.index(), frame);
        self.flush(ctx);
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        self.isis.handle_timeout(ctx.now());
        self.flush(ctx);
    }
    fn poll_timeout(&self) -> Option<Time> {
        self.isis.poll_timeout()
    }
    fn on_link_change(&mut self, ctx: &mut Ctx<'_>, port: PortId, up: bool) {
        self.isis.handle_link_change(ctx.now(), port.index(), up);
        self.flush(ctx);
    }
}

fn sys(i: usize) -> SystemId {
    let b = (i as u32 + 1).to_be_bytes();
    SystemId([0x02, 0, b[0], b[1], b[2], b[3]])
}

struct Net {
    sim: Simulator,
    nodes: Vec<NodeId>,
    /// (a, b, metric, link)
    links: Vec<(usize, usize, u32, LinkId)>,
    priorities: Vec<u16>,
    ects: Vec<EctAlgorithm>,
}

fn config(i: usize, ports: &[u32], priority: u16, ects: &[EctAlgorithm]) -> Config {
    let mut c = Config::new(
        sys(i),
        ports
            .iter()
            .enumerate()
            .map(|(p, &metric)| PortConfig {
                mac: MacAddress([0x02, 0x10, 0, i as u8, (i >> 8) as u8, p as u8]),
                metric,
            })
            .collect(),
    );
    c.bridge_priority = priority;
    c.hello_interval = Duration::from_secs(1);
    c.holding_time_secs = 3;
    c.ects = ects.to_vec();
    c.hostname = Some(format!("br{i}"));
    c.isids = vec![IsidEntry::new(100 + (i % 3) as u32, true, true)];
    c
}

/// A random connected graph: a random spanning tree plus `extra` links.
fn build(seed: u64, n: usize, extra: usize, ects: &[EctAlgorithm]) -> Net {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pairs: Vec<(usize, usize, u32)> = Vec::new();
    for v in 1..n {
        let u = rng.random_range(0..v);
        pairs.push((u, v, rng.random_range(1..4)));
    }
    while pairs.len() < n - 1 + extra {
        let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
        if a != b
            && !pairs
                .iter()
                .any(|&(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
        {
            pairs.push((a, b, rng.random_range(1..4)));
        }
    }
    let priorities: Vec<u16> = (0..n)
        .map(|_| {
            if rng.random_range(0..4) == 0 {
                0x1000
            } else {
                0x8000
            }
        })
        .collect();
    // Ports per bridge, in link order.
    let mut ports: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut ends = Vec::new();
    for &(a, b, m) in &pairs {
        ends.push((ports[a].len(), ports[b].len()));
        ports[a].push(m);
        ports[b].push(m);
    }
    let mut sim = Simulator::new(seed);
    let nodes: Vec<NodeId> = (0..n)
        .map(|i| {
            sim.add_node(
                NodeConfig::new(ports[i].len() as u16),
                Bridge {
                    isis: Instance::new(config(i, &ports[i], priorities[i], ects)),
                },
            )
        })
        .collect();
    let link = LinkParams::default().with_delay(Duration::from_micros(5));
    let links = pairs
        .iter()
        .zip(ends)
        .map(|(&(a, b, m), (pa, pb))| {
            let id = sim
                .connect(
                    (nodes[a], PortId(pa as u16)),
                    (nodes[b], PortId(pb as u16)),
                    LinkConfig::symmetric(link),
                )
                .unwrap();
            (a, b, m, id)
        })
        .collect();
    Net {
        sim,
        nodes,
        links,
        priorities,
        ects: ects.to_vec(),
    }
}

impl Net {
    fn isis(&self, i: usize) -> &Instance {
        &self.sim.node::<Bridge>(self.nodes[i]).unwrap().isis
    }

    /// The topology as the test built it, without failed links and stopped bridges.
    fn truth(&self) -> Topology {
        let mut t = Topology::new();
        // Bridges in system-ID order, as the LSDB view numbers them.
        for i in 0..self.nodes.len() {
            t.add_bridge(BridgeId::new(self.priorities[i], sys(i)))
                .unwrap();
        }
        for &(a, b, m, id) in &self.links {
            if self.sim.link_is_up(id)
                && self.sim.node_is_running(self.nodes[a])
                && self.sim.node_is_running(self.nodes[b])
            {
                t.set_link(a, b, m).unwrap();
            }
        }
        t
    }

    fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.sim.node_is_running(self.nodes[i]))
            .collect()
    }

    /// Converged: every running bridge has the same (LSP ID, seq) set and sees the truth.
    fn converged(&self) -> bool {
        let truth = self.truth();
        let run = self.running();
        let key = |i: usize| -> Vec<(LspId, u32, bool)> {
            self.isis(i)
                .lsdb()
                .iter()
                .map(|(id, l)| (*id, l.seq, l.purged))
                .collect()
        };
        let first = key(run[0]);
        run.iter().all(|&i| {
            key(i) == first && {
                let v = self.isis(i).spb_view();
                run.iter().all(|&j| v.topology.find(sys(j)).is_some())
                    && v.topology == truth_view(&truth, &v.topology)
            }
        })
    }

    /// Runs until converged; returns the simulated time it took.
    fn run_to_convergence(&mut self, limit: Duration) -> Duration {
        let start = self.sim.now();
        let step = Duration::from_millis(10);
        while !self.converged() {
            assert!(
                self.sim.now() - start < limit,
                "no convergence within {limit}"
            );
            self.sim.run_for_bounded(step, 10_000_000).unwrap();
        }
        self.sim.now() - start
    }

    fn lsps_sent(&self) -> u64 {
        self.running()
            .iter()
            .map(|&i| self.isis(i).counters().tx_lsps)
            .sum()
    }
}

/// The truth restricted to the bridges the view can know: a stopped bridge's old LSP stays
/// until it ages out, so it is a bridge without links in both.
fn truth_view(truth: &Topology, view: &Topology) -> Topology {
    let mut t = Topology::new();
    for b in view.bridges() {
        t.add_bridge(*b).unwrap();
    }
    for (a, b, m) in truth.links() {
        let (ta, tb) = (truth.bridges()[a].system_id, truth.bridges()[b].system_id);
        if let (Some(x), Some(y)) = (t.find(ta), t.find(tb)) {
            t.set_link(x, y, m).unwrap();
        }
    }
    t
}

/// Walks every bridge's forwarding table from every source to every destination and checks
/// the walk is the SPF path (loop-free), its reverse is the reverse walk (symmetric), and its
/// cost is the Dijkstra distance (shortest).
fn check_forwarding(net: &Net) {
    let run = net.running();
    let view = net.isis(run[0]).spb_view();
    let topo = &view.topology;
    let spf = Spf::compute(topo, &net.ects);
    let mut g = UnGraph::<(), u32>::new_undirected();
    let idx: Vec<_> = (0..topo.len()).map(|_| g.add_node(())).collect();
    for (a, b, m) in topo.links() {
        g.add_edge(idx[a], idx[b], m);
    }
    // Per bridge: its FDB and which neighbour each port leads to.
    let mut fdbs = BTreeMap::new();
    let mut port_peer = BTreeMap::new();
    for &i in &run {
        let isis = net.isis(i);
        let own_view = isis.spb_view();
        assert_eq!(own_view.topology, *topo, "bridge {i} sees another topology");
        let own_spf = Spf::compute(&own_view.topology, &net.ects);
        fdbs.insert(sys(i), isis.unicast_fdb(&own_view, &own_spf));
        for a in isis.adjacencies() {
            assert_eq!(a.state, AdjState::Up);
            port_peer.insert((sys(i), a.port), a.neighbor);
        }
    }
    for &ect in &net.ects {
        for &s in &run {
            let si = topo.find(sys(s)).unwrap();
            let dist = petgraph::algo::dijkstra(&g, idx[si], None, |e| u64::from(*e.weight()));
            for &d in &run {
                let di = topo.find(sys(d)).unwrap();
                let Some(&want) = dist.get(&idx[di]) else {
                    assert!(!fdbs[&sys(s)].contains_key(&(ect, sys(d))));
                    continue;
                };
                let mut walk = vec![sys(s)];
                let mut at = sys(s);
                let mut cost = 0u64;
                while at != sys(d) {
                    let port = fdbs[&at][&(ect, sys(d))];
                    let next = port_peer[&(at, port)];
                    cost += u64::from(
                        topo.metric(topo.find(at).unwrap(), topo.find(next).unwrap())
                            .unwrap(),
                    );
                    walk.push(next);
                    at = next;
                    assert!(walk.len() <= topo.len(), "forwarding loop {walk:?}");
                }
                assert_eq!(cost, want, "{ect:?} {s}->{d} not shortest");
                let path: Vec<SystemId> = spf
                    .path(ect, si, di)
                    .unwrap()
                    .iter()
                    .map(|&b| topo.bridges()[b].system_id)
                    .collect();
                assert_eq!(walk, path, "FDB walk differs from the SPF path");
                let mut back = spf.path(ect, di, si).unwrap();
                back.reverse();
                assert_eq!(back, spf.path(ect, si, di).unwrap(), "asymmetric {s}<->{d}");
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.nanos() as f64 / 1e6
}

fn ects() -> Vec<EctAlgorithm> {
    vec![
        EctAlgorithm::LOW_PATH_ID,
        EctAlgorithm::HIGH_PATH_ID,
        EctAlgorithm::from_index(7).unwrap(),
    ]
}

#[test]
fn fifty_bridges_converge_compute_the_same_trees_and_never_storm() {
    for seed in [1u64, 2, 3] {
        let mut net = build(seed, 50, 40, &ects());
        let t = net.run_to_convergence(Duration::from_secs(20));
        let links = net.links.len() as u64;
        let versions: u64 = (0..50).map(|i| u64::from(net.isis(i).own_seq())).sum();
        let sent = net.lsps_sent();
        println!(
            "seed {seed}: 50 bridges, {links} links converged in {:.1} ms; {versions} LSP versions, {sent} LSP transmissions",
            ms(t)
        );
        // Flooding bound: each version crosses each link at most once per direction.
        assert!(sent <= 2 * links * versions, "flooding storm: {sent} LSPs");
        for i in 0..50 {
            assert_eq!(net.isis(i).lsdb().len(), 50);
            let c = net.isis(i).counters();
            assert_eq!(
                (
                    c.drop_malformed,
                    c.drop_auth,
                    c.drop_checksum,
                    c.drop_three_way
                ),
                (0, 0, 0, 0)
            );
        }
        check_forwarding(&net);
        // Quiet network: no LSP moves for a minute, only hellos and CSNPs.
        let before = net.lsps_sent();
        net.sim.run_for(Duration::from_secs(60));
        assert_eq!(net.lsps_sent(), before, "LSPs flooded in a quiet network");
        assert!(net.converged());
    }
}

#[test]
fn link_failure_and_recovery_reconverge() {
    let mut net = build(11, 50, 40, &ects());
    net.run_to_convergence(Duration::from_secs(20));
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for round in 0..4 {
        let k = rng.random_range(0..net.links.len());
        let (a, b, _, link) = net.links[k];
        let before = net.lsps_sent();
        net.sim.set_link_up(link, false);
        let t = net.run_to_convergence(Duration::from_secs(10));
        let flooded = net.lsps_sent() - before;
        println!(
            "round {round}: link {a}-{b} down, reconverged in {:.1} ms, {flooded} LSPs sent",
            ms(t)
        );
        assert!(
            t < Duration::from_millis(500),
            "carrier loss reacts at once: {t}"
        );
        // Two new LSPs, each over every link at most twice.
        assert!(flooded <= 2 * 2 * net.links.len() as u64 + 8, "{flooded}");
        check_forwarding(&net);
        net.sim.set_link_up(link, true);
        let t = net.run_to_convergence(Duration::from_secs(10));
        println!(
            "round {round}: link {a}-{b} up, reconverged in {:.1} ms",
            ms(t)
        );
        check_forwarding(&net);
    }
}

#[test]
fn bridge_failure_and_restart_jump_the_sequence_number() {
    let mut net = build(21, 30, 25, &[EctAlgorithm::LOW_PATH_ID]);
    net.run_to_convergence(Duration::from_secs(20));
    // Bump the victim's sequence number well above 1 with a few refreshes.
    let victim = 7;
    for _ in 0..3 {
        net.sim.set_link_up(
            net.links
                .iter()
                .find(|l| l.0 == victim || l.1 == victim)
                .unwrap()
                .3,
            false,
        );
        net.run_to_convergence(Duration::from_secs(10));
        net.sim.set_link_up(
            net.links
                .iter()
                .find(|l| l.0 == victim || l.1 == victim)
                .unwrap()
                .3,
            true,
        );
        net.run_to_convergence(Duration::from_secs(10));
    }
    let old_seq = net.isis(victim).own_seq();
    assert!(old_seq >= 4);
    net.sim.stop_node(net.nodes[victim]);
    // Neighbours notice by hold timer (3 s) only: the links stay up.
    let t = net.run_to_convergence(Duration::from_secs(10));
    println!("bridge {victim} stopped: reconverged in {:.1} ms", ms(t));
    assert!(
        t >= Duration::from_secs(2),
        "detected by the hold timer: {t}"
    );
    check_forwarding(&net);

    // It comes back with no memory: its first LSPs have low sequence numbers, the
    // neighbours' copy of seq {old_seq} makes it jump.
    let cfg = net.isis(victim).config().clone();
    net.sim.restart_node(
        net.nodes[victim],
        Bridge {
            isis: Instance::new(cfg),
        },
    );
    let t = net.run_to_convergence(Duration::from_secs(10));
    let isis = net.isis(victim);
    println!(
        "bridge {victim} restarted: reconverged in {:.1} ms, seq {old_seq} -> {}",
        ms(t),
        isis.own_seq()
    );
    assert!(isis.own_seq() > old_seq);
    assert!(isis.counters().own_lsp_seq_jumps >= 1);
    for i in net.running() {
        assert_eq!(
            net.isis(i).lsdb()[&LspId::node(sys(victim))].seq,
            isis.own_seq()
        );
    }
    check_forwarding(&net);
}
