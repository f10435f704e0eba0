//! SPF properties: brute-force tie-break agreement, symmetry, shortest cost (petgraph as the
//! oracle), loop freedom, multicast congruence, incremental == full recomputation.

use std::collections::BTreeSet;

use petgraph::graph::{NodeIndex, UnGraph};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use switch_ctl_core::spf::{
    BridgeId, BridgeIndex, EctAlgorithm, Spf, SystemId, Topology, TopologyChange,
};

/// Seeded ChaCha8: the same topologies on every platform and run.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.random()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `n` bridges with distinct random system IDs (and some non-default priorities); a random
/// spanning tree when `connected`, plus about `extra` more links; metrics from `metrics`.
fn random_topology(
    rng: &mut Rng,
    n: usize,
    extra: usize,
    metrics: &[u32],
    connected: bool,
) -> Topology {
    let mut t = Topology::new();
    while t.len() < n {
        let sys = rng.next().to_be_bytes();
        let priority = if rng.below(4) == 0 {
            rng.pick(&[0x0000, 0x1000, 0x8000, 0xF000, 0x8001])
        } else {
            BridgeId::DEFAULT_PRIORITY
        };
        // Occasionally share a system-ID prefix so masked IDs differ only in late bytes.
        let mut id = [sys[0], sys[1], sys[2], sys[3], sys[4], sys[5]];
        if rng.below(2) == 0 {
            id[..4].copy_from_slice(&[0, 0, 0, 0]);
        }
        let _ = t.add_bridge(BridgeId::new(priority, SystemId(id)));
    }
    if connected {
        for v in 1..n {
            let u = rng.below(v as u64) as usize;
            t.set_link(u, v, rng.pick(metrics)).unwrap();
        }
    }
    for _ in 0..extra {
        let (a, b) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
        if a != b {
            t.set_link(a, b, rng.pick(metrics)).unwrap();
        }
    }
    t
}

/// The 802.1aq order on a path: (cost, hops, sorted masked Bridge Identifiers).
fn path_key(t: &Topology, ect: EctAlgorithm, path: &[BridgeIndex]) -> (u64, usize, Vec<u64>) {
    let cost = path
        .windows(2)
        .map(|w| u64::from(t.metric(w[0], w[1]).expect("path uses a link")))
        .sum();
    let mut ids: Vec<u64> = path.iter().map(|&b| t.bridges()[b].masked(ect)).collect();
    ids.sort_unstable();
    (cost, path.len() - 1, ids)
}

/// Every simple path from `src` to `dst`, by depth-first enumeration.
fn all_simple_paths(t: &Topology, src: BridgeIndex, dst: BridgeIndex) -> Vec<Vec<BridgeIndex>> {
    fn dfs(
        t: &Topology,
        dst: BridgeIndex,
        path: &mut Vec<BridgeIndex>,
        out: &mut Vec<Vec<BridgeIndex>>,
    ) {
        let v = *path.last().unwrap();
        if v == dst {
            out.push(path.clone());
            return;
        }
        for u in 0..t.len() {
            if t.metric(v, u).is_some() && !path.contains(&u) {
                path.push(u);
                dfs(t, dst, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    dfs(t, dst, &mut vec![src], &mut out);
    out
}

#[test]
fn tie_break_matches_brute_force_for_all_16_algorithms() {
    let all: Vec<EctAlgorithm> = EctAlgorithm::all().collect();
    let mut rng = Rng::new(0x5EED_0001);
    let mut ties = 0usize;
    let mut compared = 0usize;
    for round in 0..150 {
        let n = 2 + round % 7; // 2..=8 bridges
        let extra = n + rng.below(2 * n as u64) as usize;
        let connected = round % 10 != 0;
        let t = random_topology(&mut rng, n, extra, &[1, 1, 2], connected);
        let spf = Spf::compute_with_threads(&t, &all, 1 + round % 2);
        for src in 0..n {
            for dst in 0..n {
                let paths = all_simple_paths(&t, src, dst);
                for &ect in &all {
                    let expected = paths.iter().min_by_key(|p| path_key(&t, ect, p)).cloned();
                    if let Some(best) = &expected {
                        let k = path_key(&t, ect, best);
                        let equal_cost = paths
                            .iter()
                            .filter(|p| {
                                let q = path_key(&t, ect, p);
                                (q.0, q.1) == (k.0, k.1)
                            })
                            .count();
                        ties += usize::from(equal_cost > 1);
                    }
                    let got = spf.path(ect, src, dst);
                    assert_eq!(
                        got, expected,
                        "round {round} ect {ect} {src}->{dst} topology {t:?}"
                    );
                    compared += 1;
                }
            }
        }
    }
    // The generator must actually exercise the PATHID tie-break.
    assert!(ties > compared / 20, "only {ties} ties in {compared} paths");
}

#[test]
fn known_square_differs_between_low_and_high_path_id() {
    // a=1 - b=2 - d=4 and a=1 - c=3 - d=4, all metric 1.
    let mut t = Topology::new();
    for i in 1..=4u8 {
        t.add_bridge(BridgeId::new(0x8000, SystemId([0, 0, 0, 0, 0, i])))
            .unwrap();
    }
    for (a, b) in [(0, 1), (1, 3), (0, 2), (2, 3)] {
        t.set_link(a, b, 1).unwrap();
    }
    let spf = Spf::compute(&t, &[EctAlgorithm::LOW_PATH_ID, EctAlgorithm::HIGH_PATH_ID]);
    assert_eq!(
        spf.path(EctAlgorithm::LOW_PATH_ID, 0, 3),
        Some(vec![0, 1, 3])
    );
    assert_eq!(
        spf.path(EctAlgorithm::HIGH_PATH_ID, 0, 3),
        Some(vec![0, 2, 3])
    );
    assert_eq!(
        spf.path(EctAlgorithm::HIGH_PATH_ID, 3, 0),
        Some(vec![3, 2, 0])
    );
    // Raising b's priority steers ECT-1 away from it.
    let mut t2 = Topology::new();
    for (i, b) in t.bridges().iter().enumerate() {
        let p = if i == 1 { 0x9000 } else { b.priority };
        t2.add_bridge(BridgeId::new(p, b.system_id)).unwrap();
    }
    for (a, b, m) in t.links() {
        t2.set_link(a, b, m).unwrap();
    }
    let spf2 = Spf::compute(&t2, &[EctAlgorithm::LOW_PATH_ID]);
    assert_eq!(
        spf2.path(EctAlgorithm::LOW_PATH_ID, 0, 3),
        Some(vec![0, 2, 3])
    );
}

/// A case where comparing only the parents' own identifiers gives the wrong answer: the
/// candidate parents of `d` are x (low ID) and y (high ID), but the path through y runs
/// through the lowest bridge of all.
#[test]
fn tie_break_looks_at_whole_path_not_only_the_parent() {
    let mut t = Topology::new();
    let id = |n: u8| BridgeId::new(0x8000, SystemId([0, 0, 0, 0, 0, n]));
    let s = t.add_bridge(id(50)).unwrap();
    let p = t.add_bridge(id(40)).unwrap(); // s - p - x - d
    let x = t.add_bridge(id(10)).unwrap();
    let q = t.add_bridge(id(1)).unwrap(); // s - q - y - d
    let y = t.add_bridge(id(90)).unwrap();
    let d = t.add_bridge(id(60)).unwrap();
    for (a, b) in [(s, p), (p, x), (x, d), (s, q), (q, y), (y, d)] {
        t.set_link(a, b, 1).unwrap();
    }
    // {1, 50, 60, 90} < {10, 40, 50, 60}.
    let spf = Spf::compute(&t, &[EctAlgorithm::LOW_PATH_ID]);
    assert_eq!(
        spf.path(EctAlgorithm::LOW_PATH_ID, s, d),
        Some(vec![s, q, y, d])
    );
    assert_eq!(
        spf.path(EctAlgorithm::LOW_PATH_ID, d, s),
        Some(vec![d, y, q, s])
    );
}

fn oracle_distances(t: &Topology, src: BridgeIndex) -> Vec<Option<u64>> {
    let mut g = UnGraph::<(), u64>::new_undirected();
    let nodes: Vec<NodeIndex> = (0..t.len()).map(|_| g.add_node(())).collect();
    for (a, b, m) in t.links() {
        g.add_edge(nodes[a], nodes[b], u64::from(m));
    }
    let dist = petgraph::algo::dijkstra(&g, nodes[src], None, |e| *e.weight());
    nodes.iter().map(|n| dist.get(n).copied()).collect()
}

fn path_cost(t: &Topology, path: &[BridgeIndex]) -> u64 {
    path_key(t, EctAlgorithm::LOW_PATH_ID, path).0
}

#[test]
fn random_50_bridge_paths_are_loop_free_symmetric_and_shortest() {
    let ects: Vec<EctAlgorithm> = [1, 2, 7, 16]
        .iter()
        .map(|&i| EctAlgorithm::from_index(i).unwrap())
        .collect();
    let mut rng = Rng::new(0x5EED_0050);
    for round in 0..12 {
        let metrics: &[u32] = if round % 2 == 0 {
            &[1, 2]
        } else {
            &[1, 3, 5, 10]
        };
        let t = random_topology(&mut rng, 50, 50 + round * 5, metrics, round != 11);
        let spf = Spf::compute(&t, &ects);
        for src in 0..t.len() {
            let oracle = oracle_distances(&t, src);
            for (dst, &want) in oracle.iter().enumerate() {
                for &ect in &ects {
                    let path = spf.path(ect, src, dst);
                    let reverse = spf.path(ect, dst, src);
                    match want {
                        None => assert!(path.is_none() && reverse.is_none()),
                        Some(want) => {
                            let path = path.expect("reachable");
                            assert_eq!(path.first(), Some(&src));
                            assert_eq!(path.last(), Some(&dst));
                            let unique: BTreeSet<_> = path.iter().collect();
                            assert_eq!(unique.len(), path.len(), "loop in {path:?}");
                            assert_eq!(path_cost(&t, &path), want, "not shortest");
                            let mut back = reverse.expect("symmetric reachability");
                            back.reverse();
                            assert_eq!(path, back, "asymmetric {ect} {src}<->{dst}");
                            let tree = spf.tree(ect, src).unwrap();
                            let d = tree.distance(dst).unwrap();
                            assert_eq!((d.cost, d.hops as usize), (want, path.len() - 1));
                            // Unicast FDB entry = first hop of the path.
                            assert_eq!(spf.next_hop(ect, src, dst), path.get(1).copied());
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn multicast_trees_are_unions_of_unicast_paths() {
    let ects: Vec<EctAlgorithm> = EctAlgorithm::all().collect();
    let mut rng = Rng::new(0x5EED_0ACA);
    for round in 0..6 {
        let t = random_topology(&mut rng, 40, 40, &[1, 2], round != 5);
        let spf = Spf::compute(&t, &ects);
        let members: Vec<BridgeIndex> = (0..t.len()).filter(|_| rng.below(3) == 0).collect();
        for &ect in &ects {
            for &src in &members {
                let tree = spf.multicast_tree(ect, src, &members).unwrap();
                let mut expected = BTreeSet::new();
                let mut unreachable = Vec::new();
                for &m in members.iter().filter(|&&m| m != src) {
                    match spf.path(ect, src, m) {
                        Some(p) => expected.extend(p.windows(2).map(|w| (w[0], w[1]))),
                        None => unreachable.push(m),
                    }
                }
                let edges: BTreeSet<_> = tree.edges().into_iter().collect();
                assert_eq!(edges, expected, "round {round} {ect} src {src}");
                assert_eq!(tree.unreachable, unreachable);
                for &(up, down) in &edges {
                    assert_eq!(tree.ingress(down), Some(up));
                    // Reverse-path check: multicast from src arrives where unicast to src leaves.
                    assert_eq!(spf.next_hop(ect, down, src), Some(up));
                }
            }
        }
    }
}

fn assert_same_trees(a: &Spf, b: &Spf, context: &str) {
    assert_eq!(a.topology(), b.topology());
    let n = a.topology().len();
    for &ect in a.ects() {
        for src in 0..n {
            let (ta, tb) = (a.tree(ect, src).unwrap(), b.tree(ect, src).unwrap());
            for v in 0..n {
                assert_eq!(
                    ta.parent(v),
                    tb.parent(v),
                    "{context}: {ect} tree {src} at {v}"
                );
            }
        }
    }
}

#[test]
fn incremental_equals_full_recomputation() {
    let ects: Vec<EctAlgorithm> = [1, 2, 5]
        .iter()
        .map(|&i| EctAlgorithm::from_index(i).unwrap())
        .collect();
    let mut rng = Rng::new(0x5EED_1AC0);
    let mut recomputed = 0usize;
    let mut possible = 0usize;
    for round in 0..4 {
        let n = 30 + round * 5;
        let t = random_topology(&mut rng, n, n, &[1, 2, 3], true);
        let mut spf = Spf::compute_with_threads(&t, &ects, 2);
        for step in 0..60 {
            let links: Vec<_> = spf.topology().links().collect();
            let change = match rng.below(3) {
                0 if !links.is_empty() => {
                    let (a, b, _) = rng.pick(&links);
                    TopologyChange::RemoveLink { a, b }
                }
                1 if !links.is_empty() => {
                    let (a, b, _) = rng.pick(&links);
                    TopologyChange::SetLink {
                        a,
                        b,
                        metric: rng.pick(&[1, 2, 3, 4]),
                    }
                }
                _ => {
                    let a = rng.below(n as u64) as usize;
                    let b = (a + 1 + rng.below(n as u64 - 1) as usize) % n;
                    TopologyChange::SetLink {
                        a,
                        b,
                        metric: rng.pick(&[1, 2, 3]),
                    }
                }
            };
            recomputed += spf.apply(change).unwrap().len();
            possible += n;
            let full = Spf::compute_with_threads(spf.topology(), &ects, 1);
            assert_same_trees(
                &spf,
                &full,
                &format!("round {round} step {step} {change:?}"),
            );
        }
    }
    // Incremental must actually save work (about half the trees on these small, dense
    // graphs, where a new cheap link often creates an equal-cost path).
    assert!(
        recomputed < possible * 3 / 4,
        "{recomputed} of {possible} trees recomputed"
    );
}

#[test]
fn thread_count_does_not_change_the_result() {
    let mut rng = Rng::new(0x5EED_7777);
    let t = random_topology(&mut rng, 120, 200, &[1, 2], true);
    let ects: Vec<EctAlgorithm> = EctAlgorithm::all().collect();
    let one = Spf::compute_with_threads(&t, &ects, 1);
    let three = Spf::compute_with_threads(&t, &ects, 3);
    assert_same_trees(&one, &three, "threads");
}

#[test]
fn errors_and_edge_cases() {
    let spf = Spf::compute(&Topology::new(), &[EctAlgorithm::LOW_PATH_ID]);
    assert!(spf.tree(EctAlgorithm::LOW_PATH_ID, 0).is_none());
    let mut t = Topology::new();
    t.add_bridge(BridgeId::new(0, SystemId([0, 0, 0, 0, 0, 1])))
        .unwrap();
    let mut spf = Spf::compute(&t, &[EctAlgorithm::LOW_PATH_ID]);
    assert_eq!(spf.path(EctAlgorithm::LOW_PATH_ID, 0, 0), Some(vec![0]));
    assert!(spf.path(EctAlgorithm::HIGH_PATH_ID, 0, 0).is_none());
    assert!(
        spf.apply(TopologyChange::RemoveLink { a: 0, b: 1 })
            .is_err()
    );
    assert!(
        spf.apply(TopologyChange::SetLink {
            a: 0,
            b: 0,
            metric: 1
        })
        .is_err()
    );
}
