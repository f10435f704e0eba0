//! The IS-IS core in the platform simulator: many bridges over simulated links.
//!
//! Each test builds a seeded random connected topology, runs one unchanged
//! [`Instance`] per bridge behind a thin [`Node`] adapter, and checks against ground truth
//! (the topology the test built): adjacencies form, every database converges to the same
//! LSPs, every bridge's SPB view equals the real topology, forwarding tables walked hop by
//! hop reach every destination on the SPF's shortest path and its reverse, and flooding
//! stays within a per-link bound. Then links and bridges fail and everything reconverges.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::UnGraph;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use switch_ctl_core::isis::wire::{IsidEntry, LspId};
use switch_ctl_core::isis::{
    AdjState, Config, Instance, MulticastEntry, PortConfig, SpbRib, spb_view,
};
use switch_ctl_core::spf::{BridgeId, EctAlgorithm, Spf, SystemId, Topology};
use tsn_netsim::{
    Ctx, Duration, LinkConfig, LinkId, LinkParams, Node, NodeConfig, NodeId, PortId, Simulator,
    Time,
};
use tsn_wire::MacAddress;

/// The adapter: the simulator's callbacks become the core's inputs, its transmits `Ctx::send`.
/// It also keeps the incremental SPF (`SpbRib`) up to date whenever the database moved, as
/// a daemon would.
#[derive(Debug)]
struct Bridge {
    isis: Instance,
    rib: SpbRib,
    rib_at: u64,
    incremental_updates: u64,
    full_updates: u64,
}

impl Bridge {
    fn new(cfg: Config) -> Self {
        let rib = SpbRib::new(&cfg.ects, 1);
        Self {
            isis: Instance::new(cfg),
            rib,
            rib_at: 0,
            incremental_updates: 0,
            full_updates: 0,
        }
    }

    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(t) = self.isis.poll_transmit() {
            ctx.send(PortId(t.port as u16), 7, t.frame);
        }
        if self.isis.change_count() != self.rib_at {
            self.rib_at = self.isis.change_count();
            let u = self.rib.update(self.isis.lsdb());
            if u.full {
                self.full_updates += 1;
            } else if u.link_changes > 0 {
                self.incremental_updates += 1;
            }
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
                Bridge::new(config(i, &ports[i], priorities[i], ects)),
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
    fn bridge(&self, i: usize) -> &Bridge {
        self.sim.node::<Bridge>(self.nodes[i]).unwrap()
    }

    fn isis(&self, i: usize) -> &Instance {
        &self.bridge(i).isis
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
    net.sim.restart_node(net.nodes[victim], Bridge::new(cfg));
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

/// Every running bridge's incremental SPF equals one full computation over the (converged,
/// identical) database: the path for every pair and algorithm, the unicast FDB and the I-SID
/// multicast entries. So all bridges also agree. Multicast entries must also deliver: from
/// each source, following egress entries bridge by bridge reaches every reachable receiver
/// once, each hop where the receiving bridge expects it (ingress).
fn check_rib(net: &Net) {
    let run = net.running();
    let view = spb_view(net.isis(run[0]).lsdb());
    let topo = &view.topology;
    let n = topo.len();
    let full = Spf::compute(topo, &net.ects);
    let ids: Vec<SystemId> = topo.bridges().iter().map(|b| b.system_id).collect();
    let mut paths = BTreeMap::new();
    for &ect in &net.ects {
        for s in 0..n {
            for d in 0..n {
                let p = full.path(ect, s, d);
                paths.insert((ect, s, d), p.map(|p| p.iter().map(|&x| ids[x]).collect()));
            }
        }
    }
    let ect0 = net.ects[0];
    let isids: BTreeSet<u32> = view.isids.iter().flatten().map(|e| e.isid()).collect();
    let has = |x: usize, isid: u32, f: fn(IsidEntry) -> bool| {
        view.isids[x].iter().any(|&e| e.isid() == isid && f(e))
    };
    let mut all_mc = BTreeMap::new();
    for &i in &run {
        let b = net.bridge(i);
        assert_eq!(b.rib.bridges(), ids, "bridge {i}: bridge set");
        for (&(ect, s, d), want) in &paths {
            assert_eq!(
                &b.rib.path(ect, ids[s], ids[d]),
                want,
                "bridge {i}: {ect:?} path {s}->{d}"
            );
        }
        assert_eq!(
            b.rib.unicast_fdb(sys(i), &b.isis.neighbor_ports()),
            b.isis.unicast_fdb(&view, &full),
            "bridge {i}: unicast FDB"
        );
        let me = topo.find(sys(i)).unwrap();
        let mut want = BTreeMap::new();
        for &isid in &isids {
            let rx: Vec<usize> = (0..n)
                .filter(|&x| has(x, isid, IsidEntry::receive))
                .collect();
            for src in (0..n).filter(|&x| has(x, isid, IsidEntry::transmit)) {
                let members: Vec<usize> = rx.iter().copied().filter(|&r| r != src).collect();
                let t = full.multicast_tree(ect0, src, &members).unwrap();
                let ingress = t.ingress(me).map(|x| ids[x]);
                let egress: Vec<SystemId> = t
                    .egress
                    .get(&me)
                    .map(|d| d.iter().map(|&x| ids[x]).collect())
                    .unwrap_or_default();
                if ingress.is_some() || (me == src && !egress.is_empty()) {
                    want.insert(
                        (isid, ids[src]),
                        MulticastEntry {
                            ect: ect0,
                            ingress,
                            egress,
                        },
                    );
                }
            }
        }
        let got = b.rib.multicast_fdb(sys(i));
        assert_eq!(got, want, "bridge {i}: multicast entries");
        all_mc.insert(sys(i), got);
    }
    // Delivery walk over the installed entries.
    for &isid in &isids {
        for src in (0..n).filter(|&x| has(x, isid, IsidEntry::transmit)) {
            let mut reached = BTreeSet::from([ids[src]]);
            let mut stack = vec![ids[src]];
            while let Some(at) = stack.pop() {
                let Some(e) = all_mc.get(&at).and_then(|m| m.get(&(isid, ids[src]))) else {
                    continue;
                };
                for &d in &e.egress {
                    let de = &all_mc[&d][&(isid, ids[src])];
                    assert_eq!(
                        de.ingress,
                        Some(at),
                        "I-SID {isid}: {d} expects another ingress"
                    );
                    assert!(
                        reached.insert(d),
                        "I-SID {isid} from {src}: {d} reached twice"
                    );
                    stack.push(d);
                }
            }
            for r in (0..n).filter(|&x| x != src && has(x, isid, IsidEntry::receive)) {
                let reachable = full.tree(ect0, src).unwrap().reaches(r);
                assert_eq!(
                    reached.contains(&ids[r]),
                    reachable,
                    "I-SID {isid}: {src}->{r}"
                );
            }
        }
    }
}

impl Net {
    /// Whether the running bridges stay connected without link `skip` and bridge `stop`.
    fn connected_without(&self, skip: Option<usize>, stop: Option<usize>) -> bool {
        let alive: Vec<usize> = self
            .running()
            .into_iter()
            .filter(|&i| Some(i) != stop)
            .collect();
        let mut seen = BTreeSet::from([alive[0]]);
        let mut stack = vec![alive[0]];
        while let Some(v) = stack.pop() {
            for (k, &(a, b, _, id)) in self.links.iter().enumerate() {
                if Some(k) == skip
                    || !self.sim.link_is_up(id)
                    || !alive.contains(&a)
                    || !alive.contains(&b)
                {
                    continue;
                }
                let u = if a == v {
                    b
                } else if b == v {
                    a
                } else {
                    continue;
                };
                if seen.insert(u) {
                    stack.push(u);
                }
            }
        }
        seen.len() == alive.len()
    }

    fn port_of(&self, k: usize, bridge: usize) -> usize {
        let ends = self.sim.link_ends(self.links[k].3);
        ends.iter()
            .find(|(n, _)| *n == self.nodes[bridge])
            .unwrap()
            .1
            .index()
    }

    fn with_bridge(&mut self, i: usize, f: impl FnOnce(&mut Instance, Time)) {
        self.sim
            .with_node(self.nodes[i], |b: &mut Bridge, ctx| {
                f(&mut b.isis, ctx.now());
                b.flush(ctx);
            })
            .unwrap();
    }
}

#[test]
fn incremental_spf_follows_the_lsdb_through_random_changes() {
    let mut net = build(31, 30, 25, &ects());
    net.run_to_convergence(Duration::from_secs(20));
    check_rib(&net);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut stopped: Option<usize> = None;
    let n = net.nodes.len();
    let mut kinds = BTreeMap::new();
    for _round in 0..40 {
        let kind = match rng.random_range(0..7) {
            0 | 1 => {
                let k = rng.random_range(0..net.links.len());
                let (_, _, _, id) = net.links[k];
                if net.sim.link_is_up(id) {
                    if !net.connected_without(Some(k), None) {
                        continue;
                    }
                    net.sim.set_link_up(id, false);
                    "link down"
                } else {
                    net.sim.set_link_up(id, true);
                    "link up"
                }
            }
            2 => {
                let k = rng.random_range(0..net.links.len());
                let (a, b, _, _) = net.links[k];
                let m = rng.random_range(1..6);
                for x in [a, b] {
                    if net.sim.node_is_running(net.nodes[x]) {
                        let port = net.port_of(k, x);
                        net.with_bridge(x, |isis, now| isis.set_port_metric(now, port, m));
                    }
                }
                net.links[k].2 = m;
                "metric"
            }
            3 => {
                let i = rng.random_range(0..n);
                if Some(i) == stopped {
                    continue;
                }
                let p = [0x1000, 0x8000, 0x9000][rng.random_range(0..3)];
                net.with_bridge(i, |isis, now| isis.set_bridge_priority(now, p));
                net.priorities[i] = p;
                "priority"
            }
            4 | 5 => {
                let i = rng.random_range(0..n);
                if Some(i) == stopped {
                    continue;
                }
                let mut isids = Vec::new();
                for s in 100..104 {
                    if rng.random_range(0..2) == 0 {
                        let (t, r) = (rng.random_range(0..3) > 0, rng.random_range(0..3) > 0);
                        isids.push(IsidEntry::new(s, t, r));
                    }
                }
                net.with_bridge(i, |isis, now| isis.set_isids(now, isids));
                "I-SIDs"
            }
            _ => match stopped.take() {
                Some(i) => {
                    let cfg = net.isis(i).config().clone();
                    net.sim.restart_node(net.nodes[i], Bridge::new(cfg));
                    "bridge restart"
                }
                None => {
                    let i = rng.random_range(0..n);
                    if !net.connected_without(None, Some(i)) {
                        continue;
                    }
                    net.sim.stop_node(net.nodes[i]);
                    stopped = Some(i);
                    "bridge stop"
                }
            },
        };
        *kinds.entry(kind).or_insert(0) += 1;
        net.run_to_convergence(Duration::from_secs(10));
        check_rib(&net);
    }
    let run = net.running();
    let incremental: u64 = run.iter().map(|&i| net.bridge(i).incremental_updates).sum();
    let full: u64 = run.iter().map(|&i| net.bridge(i).full_updates).sum();
    println!("changes {kinds:?}: {incremental} incremental and {full} full RIB updates");
    assert!(
        kinds.len() >= 6,
        "every kind of change was exercised: {kinds:?}"
    );
    // Full recomputation only for priority changes (every bridge, each time), a bridge's
    // first synchronisation and big batches.
    assert!(
        incremental > 5 * full && full > 0,
        "mostly incremental: {incremental} vs {full}"
    );
}
