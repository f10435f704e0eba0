//! Stream routes: paths as node lists (given in the file, computed here, or later supplied
//! by the SPB control plane) turned into a [`Route`] tree.

use std::collections::{HashMap, VecDeque};

use super::{NodeId, NodeKind, Plant, PortId, Route, RouteHop};

/// Why a set of paths does not form a route. `path` and `node` index the offending path and
/// node in the input, when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    /// Index of the offending path.
    pub path: Option<usize>,
    /// Index of the offending node within that path.
    pub node: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Shortest paths (fewest hops) from `talker` to each listener through bridges only; `None`
/// for an unreachable listener. Ties go to the neighbour whose link comes first in the file,
/// so the result is deterministic, and all paths come from one breadth-first tree, so
/// together they always form a valid multicast tree.
pub fn shortest_paths(
    plant: &Plant,
    talker: NodeId,
    listeners: &[NodeId],
) -> Vec<Option<Vec<NodeId>>> {
    let mut router = Router::new(plant);
    router.paths(plant, talker, listeners)
}

/// Routes streams one after the other over the least-loaded shortest paths: among the
/// equal-cost (fewest hops) paths it picks the one whose busiest link carries the least
/// scheduled traffic so far (then the least in total, then link order), so streams
/// between the same areas spread over parallel paths instead of piling onto the paths that
/// come first in the file. With no load it gives exactly [`shortest_paths`].
#[derive(Debug, Clone)]
pub(crate) struct Router {
    /// Per node, its neighbours and the egress port towards each, in link order.
    adjacency: Vec<Vec<(NodeId, PortId)>>,
    /// Per port, the share of the link scheduled streams use so far.
    load: Vec<f64>,
}

impl Router {
    pub(crate) fn new(plant: &Plant) -> Self {
        let mut adjacency: Vec<Vec<(NodeId, PortId)>> = vec![Vec::new(); plant.nodes.len()];
        for (id, p) in plant.ports.iter().enumerate() {
            if plant.port_id(p.node, p.to) == Some(id) {
                adjacency[p.node].push((p.to, id));
            }
        }
        Self {
            adjacency,
            load: vec![0.0; plant.ports.len()],
        }
    }

    /// Counts a stream's frames (`transmission` ns on `port`, every `period_ns`) in the load.
    pub(crate) fn add_load(&mut self, port: PortId, transmission_ns: u64, period_ns: u64) {
        self.load[port] += transmission_ns as f64 / period_ns.max(1) as f64;
    }

    /// One path per listener, as in [`shortest_paths`] but least-loaded among equal-cost
    /// paths. Together the paths form a tree (each node has one parent).
    pub(crate) fn paths(
        &mut self,
        plant: &Plant,
        talker: NodeId,
        listeners: &[NodeId],
    ) -> Vec<Option<Vec<NodeId>>> {
        let n = plant.nodes.len();
        // Per node: parent, hop count, and the path cost (busiest link, total load).
        let mut parent: Vec<Option<NodeId>> = vec![None; n];
        let mut dist: Vec<usize> = vec![usize::MAX; n];
        let mut cost: Vec<(f64, f64)> = vec![(0.0, 0.0); n];
        dist[talker] = 0;
        let mut missing = listeners.iter().filter(|&&l| l != talker && l < n).count();
        let mut deepest = 0;
        let mut queue = VecDeque::from([talker]);
        while let Some(u) = queue.pop_front() {
            // Every listener found and its level complete: their parents are final.
            if missing == 0 && dist[u] >= deepest {
                break;
            }
            if u != talker && plant.nodes[u].kind != NodeKind::Bridge {
                continue; // end stations do not forward
            }
            for &(v, port) in &self.adjacency[u] {
                let load = self.load[port];
                let through = (cost[u].0.max(load), cost[u].1 + load);
                if dist[v] == usize::MAX {
                    dist[v] = dist[u] + 1;
                    parent[v] = Some(u);
                    cost[v] = through;
                    queue.push_back(v);
                    if listeners.contains(&v) && v != talker {
                        missing -= 1;
                        deepest = deepest.max(dist[v]);
                    }
                } else if dist[v] == dist[u] + 1 && through < cost[v] {
                    parent[v] = Some(u);
                    cost[v] = through;
                }
            }
        }
        listeners
            .iter()
            .map(|&l| {
                if l >= n || dist[l] == usize::MAX || l == talker {
                    return None;
                }
                let mut path = vec![l];
                let mut at = l;
                while let Some(p) = parent[at] {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                Some(path)
            })
            .collect()
    }
}

impl Route {
    /// Builds the multicast tree from one path per listener, each a node list starting at
    /// `talker`. Consecutive nodes must be linked, nodes between the ends must be bridges, a
    /// path must not revisit a node, and the paths must agree where they share a node (each
    /// node is reached from one parent only): a port shared by several listeners' paths
    /// transmits once.
    pub fn from_paths(
        plant: &Plant,
        talker: NodeId,
        paths: &[Vec<NodeId>],
    ) -> Result<Self, RouteError> {
        let err = |path, node, message: String| RouteError {
            path: Some(path),
            node,
            message,
        };
        let name = |n: NodeId| plant.nodes[n].name.as_str();
        // node -> (parent node, depth)
        let mut reached: HashMap<NodeId, (NodeId, usize)> = HashMap::new();
        let mut edges: Vec<(usize, NodeId, NodeId)> = Vec::new(); // (depth, from, to)
        for (j, path) in paths.iter().enumerate() {
            if path.first() != Some(&talker) {
                return Err(err(
                    j,
                    Some(0),
                    format!("a path must start at the talker {}", name(talker)),
                ));
            }
            if path.len() < 2 {
                return Err(err(j, None, "a path needs at least two nodes".into()));
            }
            for k in 1..path.len() {
                let (u, v) = (path[k - 1], path[k]);
                if path[..k].contains(&v) {
                    return Err(err(
                        j,
                        Some(k),
                        format!("{} appears twice in the path", name(v)),
                    ));
                }
                if plant.port_id(u, v).is_none() {
                    return Err(err(
                        j,
                        Some(k),
                        format!("{} and {} are not linked", name(u), name(v)),
                    ));
                }
                if k < path.len() - 1 && plant.nodes[v].kind != NodeKind::Bridge {
                    return Err(err(
                        j,
                        Some(k),
                        format!("{} is an end station and does not forward", name(v)),
                    ));
                }
                match reached.get(&v) {
                    Some(&(p, _)) if p != u => {
                        return Err(err(
                            j,
                            Some(k),
                            format!(
                                "{} is reached from {} here but from {} in an earlier path; \
                                 the paths must form a tree",
                                name(v),
                                name(u),
                                name(p)
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        reached.insert(v, (u, k));
                        edges.push((k, u, v));
                    }
                }
            }
        }
        if reached.contains_key(&talker) {
            return Err(RouteError {
                path: None,
                node: None,
                message: "a path returns to the talker".into(),
            });
        }
        edges.sort_by_key(|&(depth, ..)| depth); // stable: parents before children
        let mut index: HashMap<NodeId, usize> = HashMap::new(); // node -> hop delivering to it
        let mut hops = Vec::with_capacity(edges.len());
        for (_, u, v) in edges {
            let parent = if u == talker { None } else { Some(index[&u]) };
            index.insert(v, hops.len());
            hops.push(RouteHop {
                port: plant.port_id(u, v).expect("checked above"),
                parent,
            });
        }
        Ok(Self { hops })
    }
}
