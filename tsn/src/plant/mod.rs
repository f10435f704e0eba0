//! The plant: nodes, links, egress ports, traffic classes and streams with their routes.
//!
//! Users write a [`PlantFile`] in YAML; [`Plant::load`] reads it through `tsn-config` and
//! [`Plant::resolve`] turns it into this plain model, reporting every semantic problem with
//! its YAML path (the loader adds the line and column).
//!
//! # Timing model
//!
//! - `frame-size` is the frame from destination MAC to FCS, VLAN tag included. Frames shorter
//!   than 64 bytes are padded to 64 on the wire. On the wire every frame also costs the
//!   preamble and start delimiter (8 bytes) and the inter-frame gap (12 bytes), so a frame of
//!   `n` bytes occupies the link for `ceil((max(n, 64) + 20) * 8 / speed)` ns
//!   ([`transmission_ns`]). The gap is counted so back-to-back scheduled frames are legal.
//! - One frame per period; frames larger than [`MAX_FRAME_BYTES`] are rejected (split such a
//!   stream into several streams; a later version may split automatically).
//! - A hop's frame is *received* at the neighbour `offset + duration + propagation` after the
//!   period start, and a bridge enqueues it at its egress port `processing` later.
//! - Each egress port has `traffic-classes` classes, each with one FIFO queue (queue N serves
//!   class N); a stream's class at a port is `priority-map[priority]` of that port. Classes
//!   used by scheduled streams on a port are assumed to carry nothing else there; the other
//!   classes are best-effort.
//! - The guard band before a scheduled window is the time of the largest best-effort frame
//!   (`max-best-effort-frame`, default 1522 bytes, plus the same 20 bytes of overhead) at the
//!   port's speed: 12 336 ns at 1 Gbit/s.
//! - Talkers and listeners are end stations; only bridges forward. Links are full duplex.
//!
//! # Routes
//!
//! A stream without `paths` takes the fewest hops; among equal-hop paths, the one whose
//! busiest link carries the least scheduled traffic (frame time per period) of the streams
//! before it in the file, given paths included, then the least in total, then link order.
//! So parallel paths share the load instead of the first one in the file taking it all,
//! and the result is deterministic. Multicast paths come from one tree.

mod path;
pub mod yaml;

use std::collections::HashMap;
use std::path::Path;

use tsn_config::{Issue, YamlPath};

use self::path::Router;
pub use self::path::{RouteError, shortest_paths};
pub use self::yaml::PlantFile;
use self::yaml::{NodeKindYaml, StreamYaml};

/// Largest frame accepted in a stream, in bytes (1500 bytes payload + 14 header + 4 VLAN tag
/// + 4 FCS).
pub const MAX_FRAME_BYTES: u32 = 1522;
/// Ethernet minimum frame size; shorter frames are padded.
pub const MIN_FRAME_BYTES: u32 = 64;
/// Preamble + start-of-frame delimiter (8) + inter-frame gap (12), in bytes.
pub const WIRE_OVERHEAD_BYTES: u32 = 20;
/// Upper bound on frame instances (hops × frames per hyperperiod) a plant may ask for.
pub const MAX_FRAME_INSTANCES: u64 = 20_000_000;

/// Index into [`Plant::nodes`].
pub type NodeId = usize;
/// Index into [`Plant::ports`].
pub type PortId = usize;
/// Index into [`Plant::streams`].
pub type StreamId = usize;

/// Time a frame of `frame_bytes` occupies a link of `speed_bps`, overhead and padding
/// included, rounded up to the next nanosecond.
pub fn transmission_ns(frame_bytes: u32, speed_bps: u64) -> u64 {
    let wire_bits = u128::from(frame_bytes.max(MIN_FRAME_BYTES) + WIRE_OVERHEAD_BYTES) * 8;
    let ns = (wire_bits * 1_000_000_000).div_ceil(u128::from(speed_bps.max(1)));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Talks and listens, never forwards.
    EndStation,
    /// Forwards.
    Bridge,
}

/// A node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// End station or bridge.
    pub kind: NodeKind,
    /// Reception end to enqueueing at the egress port (0 for end stations).
    pub processing_ns: u64,
}

/// One direction of a link: the egress port of `node` towards `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The transmitting node.
    pub node: NodeId,
    /// The neighbour.
    pub to: NodeId,
    /// Link speed in bit/s.
    pub speed_bps: u64,
    /// Propagation delay of the link.
    pub propagation_ns: u64,
    /// Number of traffic classes, 1..=8.
    pub traffic_classes: u8,
    /// Priority -> traffic class.
    pub priority_map: [u8; 8],
}

impl Port {
    /// See [`transmission_ns`].
    pub fn transmission_ns(&self, frame_bytes: u32) -> u64 {
        transmission_ns(frame_bytes, self.speed_bps)
    }

    /// The traffic class of frames with priority `priority` (0..=7).
    pub fn traffic_class(&self, priority: u8) -> u8 {
        self.priority_map[usize::from(priority & 7)]
    }

    /// Gate mask with every traffic class of this port open.
    pub fn all_classes_mask(&self) -> u8 {
        ((1u16 << self.traffic_classes) - 1) as u8
    }
}

/// One hop of a [`Route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteHop {
    /// The egress port.
    pub port: PortId,
    /// Index (in [`Route::hops`]) of the hop that delivers the frame to this hop's node;
    /// `None` for the talker's hop.
    pub parent: Option<usize>,
}

/// The tree a stream's frames follow, hops ordered so that parents come first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The hops.
    pub hops: Vec<RouteHop>,
}

/// A scheduled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Unique name.
    pub name: String,
    /// The sending end station.
    pub talker: NodeId,
    /// The receiving end stations.
    pub listeners: Vec<NodeId>,
    /// Period; one frame per period.
    pub period_ns: u64,
    /// Frame size in bytes (destination MAC to FCS).
    pub frame_bytes: u32,
    /// Maximum end-to-end latency.
    pub max_latency_ns: u64,
    /// Optional jitter bound.
    pub max_jitter_ns: Option<u64>,
    /// Priority (PCP).
    pub priority: u8,
    /// The route (given, or computed as the module documentation says).
    pub route: Route,
}

/// The resolved plant.
#[derive(Debug, Clone)]
pub struct Plant {
    /// All nodes, in file order.
    pub nodes: Vec<Node>,
    /// All egress ports: for link `i` in file order, ports `2i` (first end to second) and
    /// `2i + 1` (back).
    pub ports: Vec<Port>,
    /// All streams, in file order.
    pub streams: Vec<Stream>,
    /// Largest best-effort frame in bytes.
    pub max_best_effort_frame: u32,
    /// Least common multiple of all stream periods (1 if there are none).
    pub hyperperiod_ns: u64,
    node_by_name: HashMap<String, NodeId>,
    port_by_ends: HashMap<(NodeId, NodeId), PortId>,
    stream_by_name: HashMap<String, StreamId>,
}

/// Greatest common divisor.
pub fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Least common multiple, `None` on overflow.
pub fn lcm(a: u64, b: u64) -> Option<u64> {
    if a == 0 || b == 0 {
        return Some(a.max(b));
    }
    (a / gcd(a, b)).checked_mul(b)
}

impl Plant {
    /// Reads, parses and validates a plant file. Errors carry file, line, column and YAML
    /// path.
    pub fn load(path: impl AsRef<Path>) -> tsn_config::Result<Self> {
        tsn_config::from_path_with(path, |file: PlantFile| Self::resolve(&file))
    }

    /// Like [`Plant::load`] for text; `source_name` names it in errors.
    pub fn from_yaml(text: &str, source_name: &str) -> tsn_config::Result<Self> {
        tsn_config::from_str_with(text, source_name, |file: PlantFile| Self::resolve(&file))
    }

    /// The node called `name`.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_by_name.get(name).copied()
    }

    /// The egress port of `node` towards `to`.
    pub fn port_id(&self, node: NodeId, to: NodeId) -> Option<PortId> {
        self.port_by_ends.get(&(node, to)).copied()
    }

    /// The stream called `name`.
    pub fn stream_id(&self, name: &str) -> Option<StreamId> {
        self.stream_by_name.get(name).copied()
    }

    /// The egress ports of `node`, in link order.
    pub fn ports_of(&self, node: NodeId) -> impl Iterator<Item = PortId> + '_ {
        (0..self.ports.len()).filter(move |&p| self.ports[p].node == node)
    }

    /// Guard band of `port`: the largest best-effort frame's transmission time.
    pub fn guard_band_ns(&self, port: PortId) -> u64 {
        self.ports[port].transmission_ns(self.max_best_effort_frame)
    }

    /// `"a->b"` for messages.
    pub fn port_label(&self, port: PortId) -> String {
        let p = &self.ports[port];
        format!("{}->{}", self.nodes[p.node].name, self.nodes[p.to].name)
    }

    /// Builds the model and checks every cross-field rule; all problems are returned.
    pub fn resolve(file: &PlantFile) -> Result<Self, Vec<Issue>> {
        let mut issues = Vec::new();
        let root = YamlPath::root();
        let mut plant = Self {
            nodes: Vec::new(),
            ports: Vec::new(),
            streams: Vec::new(),
            max_best_effort_frame: file.defaults.max_best_effort_frame,
            hyperperiod_ns: 1,
            node_by_name: HashMap::new(),
            port_by_ends: HashMap::new(),
            stream_by_name: HashMap::new(),
        };

        // Defaults.
        let dp = root.key("defaults");
        let d = &file.defaults;
        if d.link_speed.0 == 0 {
            issues.push(Issue::new(dp.key("link-speed"), "must be > 0"));
        }
        check_classes(d.traffic_classes, &dp.key("traffic-classes"), &mut issues);
        if let Some(map) = &d.priority_map {
            check_map_len(map, &dp.key("priority-map"), &mut issues);
        }
        if !(MIN_FRAME_BYTES..=16_000).contains(&d.max_best_effort_frame) {
            issues.push(Issue::new(
                dp.key("max-best-effort-frame"),
                format!("must be between {MIN_FRAME_BYTES} and 16000 bytes"),
            ));
        }

        // Nodes.
        for (i, n) in file.nodes.iter().enumerate() {
            let np = root.key("nodes").index(i);
            if n.name.is_empty() {
                issues.push(Issue::new(np.key("name"), "must not be empty"));
            }
            if plant.node_by_name.contains_key(&n.name) {
                issues.push(Issue::new(
                    np.key("name"),
                    format!("node name {:?} is used twice", n.name),
                ));
                continue;
            }
            let kind = match n.kind {
                NodeKindYaml::EndStation => NodeKind::EndStation,
                NodeKindYaml::Bridge => NodeKind::Bridge,
            };
            let processing_ns = match (kind, n.processing_delay) {
                (NodeKind::Bridge, p) => p.unwrap_or(d.processing_delay).0,
                (NodeKind::EndStation, None) => 0,
                (NodeKind::EndStation, Some(_)) => {
                    issues.push(Issue::new(
                        np.key("processing-delay"),
                        "only bridges forward frames; remove processing-delay or make the node \
                         a bridge",
                    ));
                    0
                }
            };
            if let Some(tc) = n.traffic_classes {
                check_classes(tc, &np.key("traffic-classes"), &mut issues);
            }
            if let Some(map) = &n.priority_map {
                check_map_len(map, &np.key("priority-map"), &mut issues);
            }
            plant.node_by_name.insert(n.name.clone(), plant.nodes.len());
            plant.nodes.push(Node {
                name: n.name.clone(),
                kind,
                processing_ns,
            });
        }

        // Links -> ports (classes filled in below).
        let mut link_ok = Vec::new();
        for (i, l) in file.links.iter().enumerate() {
            let lp = root.key("links").index(i);
            let mut ends = [0; 2];
            let mut ok = true;
            for (k, name) in l.ends.iter().enumerate() {
                match plant.node_by_name.get(name) {
                    Some(&id) => ends[k] = id,
                    None => {
                        issues.push(Issue::new(
                            lp.key("ends").index(k),
                            format!("unknown node {name:?}{}", known(&file.nodes)),
                        ));
                        ok = false;
                    }
                }
            }
            let speed = l.speed.unwrap_or(d.link_speed).0;
            if l.speed.is_some_and(|s| s.0 == 0) {
                issues.push(Issue::new(lp.key("speed"), "must be > 0"));
            }
            if ok && ends[0] == ends[1] {
                issues.push(Issue::new(
                    lp.key("ends"),
                    "a link must join two different nodes",
                ));
                ok = false;
            }
            if ok && plant.port_by_ends.contains_key(&(ends[0], ends[1])) {
                issues.push(Issue::new(
                    lp.key("ends"),
                    format!(
                        "{} and {} are already linked; parallel links are not supported",
                        l.ends[0], l.ends[1]
                    ),
                ));
                ok = false;
            }
            let prop = l.propagation_delay.unwrap_or(d.propagation_delay).0;
            for (a, b) in [(ends[0], ends[1]), (ends[1], ends[0])] {
                if ok {
                    plant.port_by_ends.insert((a, b), plant.ports.len());
                }
                plant.ports.push(Port {
                    node: a,
                    to: b,
                    speed_bps: speed,
                    propagation_ns: prop,
                    traffic_classes: d.traffic_classes,
                    priority_map: [0; 8],
                });
            }
            link_ok.push(ok);
        }
        // Ports of rejected links stay in `ports` (indices stay 2i, 2i+1) but are not
        // reachable through `port_by_ends`; resolution fails anyway.

        // Traffic classes per port: port override, else node override, else defaults.
        let mut port_override: HashMap<PortId, (YamlPath, &yaml::PortYaml)> = HashMap::new();
        for (i, n) in file.nodes.iter().enumerate() {
            let Some(&node) = plant.node_by_name.get(&n.name) else {
                continue;
            };
            if file.nodes[..i].iter().any(|m| m.name == n.name) {
                continue; // a duplicate, already reported
            }
            for (j, p) in n.ports.iter().enumerate() {
                let pp = root.key("nodes").index(i).key("ports").index(j);
                let Some(to) = plant.node_by_name.get(&p.to).copied() else {
                    issues.push(Issue::new(
                        pp.key("to"),
                        format!("unknown node {:?}{}", p.to, known(&file.nodes)),
                    ));
                    continue;
                };
                let Some(port) = plant.port_by_ends.get(&(node, to)).copied() else {
                    issues.push(Issue::new(
                        pp.key("to"),
                        format!("{} has no link to {}", n.name, p.to),
                    ));
                    continue;
                };
                if let Some(tc) = p.traffic_classes {
                    check_classes(tc, &pp.key("traffic-classes"), &mut issues);
                }
                if let Some(map) = &p.priority_map {
                    check_map_len(map, &pp.key("priority-map"), &mut issues);
                }
                if port_override.insert(port, (pp.clone(), p)).is_some() {
                    issues.push(Issue::new(
                        pp.key("to"),
                        format!("port towards {} is configured twice", p.to),
                    ));
                }
            }
        }
        let node_yaml: HashMap<NodeId, (YamlPath, &yaml::NodeYaml)> = file
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| !file.nodes[..*i].iter().any(|m| m.name == n.name))
            .filter_map(|(i, n)| {
                let id = *plant.node_by_name.get(&n.name)?;
                Some((id, (root.key("nodes").index(i), n)))
            })
            .collect();
        for (pid, port) in plant.ports.iter_mut().enumerate() {
            if !link_ok[pid / 2] {
                continue;
            }
            let over = port_override.get(&pid);
            let node = node_yaml.get(&port.node);
            let tcs = over
                .and_then(|(_, p)| p.traffic_classes)
                .or_else(|| node.and_then(|(_, n)| n.traffic_classes))
                .unwrap_or(d.traffic_classes)
                .clamp(1, 8);
            let map_src = over
                .and_then(|(path, p)| Some((path.key("priority-map"), p.priority_map.as_ref()?)))
                .or_else(|| {
                    node.and_then(|(path, n)| {
                        Some((path.key("priority-map"), n.priority_map.as_ref()?))
                    })
                })
                .or_else(|| Some((dp.key("priority-map"), d.priority_map.as_ref()?)));
            port.traffic_classes = tcs;
            match map_src {
                Some((path, map)) if map.len() == 8 => {
                    for (prio, &tc) in map.iter().enumerate() {
                        if tc >= tcs {
                            issues.push(Issue::new(
                                path.index(prio),
                                format!(
                                    "priority {prio} maps to traffic class {tc}, but port {}->{} \
                                     has only {tcs} traffic classes (0..={})",
                                    plant.nodes[port.node].name,
                                    plant.nodes[port.to].name,
                                    tcs - 1
                                ),
                            ));
                        }
                        port.priority_map[prio] = tc.min(tcs - 1);
                    }
                }
                Some(_) => {} // wrong length, already reported
                None => {
                    for (prio, tc) in port.priority_map.iter_mut().enumerate() {
                        *tc = (prio as u8).min(tcs - 1);
                    }
                }
            }
        }

        // Streams, routed in file order so each computed route sees the load of those
        // before it.
        let mut router = Router::new(&plant);
        let mut hyperperiod: Option<u64> = Some(1);
        for (i, s) in file.streams.iter().enumerate() {
            let sp = root.key("streams").index(i);
            if let Some(stream) =
                plant.resolve_stream(s, &sp, &file.nodes, &mut router, &mut issues)
            {
                if plant.stream_by_name.contains_key(&stream.name) {
                    issues.push(Issue::new(
                        sp.key("name"),
                        format!("stream name {:?} is used twice", stream.name),
                    ));
                    continue;
                }
                hyperperiod = hyperperiod.and_then(|h| lcm(h, stream.period_ns));
                plant
                    .stream_by_name
                    .insert(stream.name.clone(), plant.streams.len());
                plant.streams.push(stream);
            }
        }
        match hyperperiod {
            None => issues.push(Issue::new(
                root.key("streams"),
                "the least common multiple of the stream periods overflows 64 bits; use \
                 harmonic periods",
            )),
            Some(h) => {
                plant.hyperperiod_ns = h;
                let instances: u64 = plant
                    .streams
                    .iter()
                    .map(|s| (h / s.period_ns).saturating_mul(s.route.hops.len() as u64))
                    .fold(0, u64::saturating_add);
                if instances > MAX_FRAME_INSTANCES {
                    issues.push(Issue::new(
                        root.key("streams"),
                        format!(
                            "the hyperperiod of {h} ns needs {instances} frame transmissions; at \
                             most {MAX_FRAME_INSTANCES} are supported (use harmonic periods)"
                        ),
                    ));
                }
            }
        }
        if issues.is_empty() {
            Ok(plant)
        } else {
            Err(issues)
        }
    }

    fn resolve_stream(
        &self,
        s: &StreamYaml,
        sp: &YamlPath,
        nodes: &[yaml::NodeYaml],
        router: &mut Router,
        issues: &mut Vec<Issue>,
    ) -> Option<Stream> {
        let before = issues.len();
        if s.name.is_empty() {
            issues.push(Issue::new(sp.key("name"), "must not be empty"));
        }
        let end_station =
            |name: &str, path: YamlPath, issues: &mut Vec<Issue>| match self.node_by_name.get(name)
            {
                None => {
                    issues.push(Issue::new(
                        path,
                        format!("unknown node {name:?}{}", known(nodes)),
                    ));
                    None
                }
                Some(&id) if self.nodes[id].kind != NodeKind::EndStation => {
                    issues.push(Issue::new(
                        path,
                        format!("{name} is a bridge; talkers and listeners are end stations"),
                    ));
                    None
                }
                Some(&id) => Some(id),
            };
        let talker = end_station(&s.talker, sp.key("talker"), issues);
        if s.listeners.is_empty() {
            issues.push(Issue::new(
                sp.key("listeners"),
                "needs at least one listener",
            ));
        }
        let mut listeners = Vec::new();
        for (j, name) in s.listeners.iter().enumerate() {
            let lp = sp.key("listeners").index(j);
            let Some(id) = end_station(name, lp.clone(), issues) else {
                continue;
            };
            if Some(id) == talker {
                issues.push(Issue::new(lp, "the talker cannot listen to its own stream"));
            } else if listeners.contains(&id) {
                issues.push(Issue::new(lp, format!("listener {name} is listed twice")));
            } else {
                listeners.push(id);
            }
        }
        if s.period.0 == 0 {
            issues.push(Issue::new(sp.key("period"), "must be > 0"));
        }
        if s.max_latency.0 == 0 {
            issues.push(Issue::new(sp.key("max-latency"), "must be > 0"));
        }
        if s.priority > 7 {
            issues.push(Issue::new(sp.key("priority"), "must be 0..=7"));
        }
        if s.frame_size == 0 || s.frame_size > MAX_FRAME_BYTES {
            issues.push(Issue::new(
                sp.key("frame-size"),
                format!(
                    "must be 1..={MAX_FRAME_BYTES} bytes (one Ethernet frame with VLAN tag); \
                     split larger messages into several streams"
                ),
            ));
        }
        if issues.len() > before {
            return None;
        }
        let talker = talker?;

        // Paths: given or shortest.
        let paths: Vec<Vec<NodeId>> = match &s.paths {
            Some(given) => {
                let mut out = Vec::new();
                if given.len() != s.listeners.len() {
                    issues.push(Issue::new(
                        sp.key("paths"),
                        format!(
                            "needs one path per listener ({}), found {}",
                            s.listeners.len(),
                            given.len()
                        ),
                    ));
                }
                for (j, path) in given.iter().enumerate() {
                    let pp = sp.key("paths").index(j);
                    let mut ids = Vec::new();
                    for (k, name) in path.iter().enumerate() {
                        match self.node_by_name.get(name) {
                            Some(&id) => ids.push(id),
                            None => issues.push(Issue::new(
                                pp.index(k),
                                format!("unknown node {name:?}{}", known(nodes)),
                            )),
                        }
                    }
                    out.push(ids);
                }
                if issues.len() > before {
                    return None;
                }
                let mut covered = Vec::new();
                for (j, path) in out.iter().enumerate() {
                    let last = path.last().copied();
                    if !last.is_some_and(|l| listeners.contains(&l)) || covered.contains(&last) {
                        issues.push(Issue::new(
                            sp.key("paths").index(j),
                            "each path must end at a different listener",
                        ));
                    }
                    covered.push(last);
                }
                out
            }
            None => {
                let found = router.paths(self, talker, &listeners);
                let mut out = Vec::new();
                for (j, path) in found.into_iter().enumerate() {
                    match path {
                        Some(p) => out.push(p),
                        None => issues.push(Issue::new(
                            sp.key("listeners").index(j),
                            format!(
                                "listener {} is unreachable from talker {} (frames cross bridges \
                                 only)",
                                s.listeners[j], s.talker
                            ),
                        )),
                    }
                }
                out
            }
        };
        if issues.len() > before {
            return None;
        }
        let route = match Route::from_paths(self, talker, &paths) {
            Ok(route) => route,
            Err(err) => {
                let mut at = sp.key("paths");
                if let Some(j) = err.path {
                    at = at.index(j);
                    if let Some(k) = err.node {
                        at = at.index(k);
                    }
                }
                issues.push(Issue::new(at, err.message));
                return None;
            }
        };
        for hop in &route.hops {
            let port = &self.ports[hop.port];
            let tx = port.transmission_ns(s.frame_size);
            if tx > s.period.0 {
                issues.push(Issue::new(
                    sp.key("frame-size"),
                    format!(
                        "a {}-byte frame takes {tx} ns on link {}, longer than the period of {} \
                         ns",
                        s.frame_size,
                        self.port_label(hop.port),
                        s.period.0
                    ),
                ));
                return None;
            }
        }
        for hop in &route.hops {
            let tx = self.ports[hop.port].transmission_ns(s.frame_size);
            router.add_load(hop.port, tx, s.period.0);
        }
        Some(Stream {
            name: s.name.clone(),
            talker,
            listeners,
            period_ns: s.period.0,
            frame_bytes: s.frame_size,
            max_latency_ns: s.max_latency.0,
            max_jitter_ns: s.max_jitter.map(|j| j.0),
            priority: s.priority,
            route,
        })
    }
}

fn check_classes(tc: u8, path: &YamlPath, issues: &mut Vec<Issue>) {
    if !(1..=8).contains(&tc) {
        issues.push(Issue::new(path.clone(), "must be 1..=8"));
    }
}

fn check_map_len(map: &[u8], path: &YamlPath, issues: &mut Vec<Issue>) {
    if map.len() != 8 {
        issues.push(Issue::new(
            path.clone(),
            format!(
                "needs 8 entries (traffic class of priorities 0..=7), found {}",
                map.len()
            ),
        ));
    }
}

fn known(nodes: &[yaml::NodeYaml]) -> String {
    const SHOWN: usize = 8;
    let names: Vec<&str> = nodes.iter().take(SHOWN).map(|n| n.name.as_str()).collect();
    if names.is_empty() {
        return String::new();
    }
    let more = if nodes.len() > SHOWN { ", ..." } else { "" };
    format!(" (known: {}{more})", names.join(", "))
}

#[cfg(test)]
mod tests;
