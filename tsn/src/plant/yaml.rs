//! The plant file as written: serde structs only. [`super::Plant::resolve`] turns it into the
//! plain model and reports every semantic problem with its YAML path.

use serde::Deserialize;
use tsn_config::{BitRate, DurationNs};

/// Default link speed: 1 Gbit/s.
pub const DEFAULT_LINK_SPEED: BitRate = BitRate(1_000_000_000);
/// Default propagation delay of a link: 0 ns (a few metres of copper are ~5 ns/m; say so).
pub const DEFAULT_PROPAGATION_DELAY: DurationNs = DurationNs(0);
/// Default processing (store-and-forward fabric) delay of a bridge: 2 µs.
pub const DEFAULT_PROCESSING_DELAY: DurationNs = DurationNs(2_000);
/// Default number of traffic classes per egress port.
pub const DEFAULT_TRAFFIC_CLASSES: u8 = 8;
/// Default largest best-effort frame, in bytes from destination MAC to FCS with a VLAN tag.
pub const DEFAULT_MAX_BEST_EFFORT_FRAME: u32 = 1522;

/// A whole plant file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlantFile {
    /// Defaults for every link, bridge and port.
    #[serde(default)]
    pub defaults: Defaults,
    /// End stations and bridges.
    pub nodes: Vec<NodeYaml>,
    /// Full-duplex links; each gives one egress port at either end.
    pub links: Vec<LinkYaml>,
    /// Scheduled streams.
    #[serde(default)]
    pub streams: Vec<StreamYaml>,
}

/// `defaults:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Defaults {
    /// Link speed (`"1Gbps"`).
    #[serde(default = "default_link_speed")]
    pub link_speed: BitRate,
    /// Propagation delay of a link.
    #[serde(default = "default_propagation_delay")]
    pub propagation_delay: DurationNs,
    /// Processing delay of a bridge (reception end to enqueueing at the egress port).
    #[serde(default = "default_processing_delay")]
    pub processing_delay: DurationNs,
    /// Traffic classes per egress port, 1..=8.
    #[serde(default = "default_traffic_classes")]
    pub traffic_classes: u8,
    /// Priority (PCP) -> traffic class, 8 entries; default: identity (clamped to the last
    /// class when there are fewer than 8).
    #[serde(default)]
    pub priority_map: Option<Vec<u8>>,
    /// Largest best-effort frame in bytes (destination MAC to FCS, VLAN tag included); sets
    /// the guard band.
    #[serde(default = "default_max_best_effort_frame")]
    pub max_best_effort_frame: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            link_speed: DEFAULT_LINK_SPEED,
            propagation_delay: DEFAULT_PROPAGATION_DELAY,
            processing_delay: DEFAULT_PROCESSING_DELAY,
            traffic_classes: DEFAULT_TRAFFIC_CLASSES,
            priority_map: None,
            max_best_effort_frame: DEFAULT_MAX_BEST_EFFORT_FRAME,
        }
    }
}

fn default_link_speed() -> BitRate {
    DEFAULT_LINK_SPEED
}
fn default_propagation_delay() -> DurationNs {
    DEFAULT_PROPAGATION_DELAY
}
fn default_processing_delay() -> DurationNs {
    DEFAULT_PROCESSING_DELAY
}
fn default_traffic_classes() -> u8 {
    DEFAULT_TRAFFIC_CLASSES
}
fn default_max_best_effort_frame() -> u32 {
    DEFAULT_MAX_BEST_EFFORT_FRAME
}

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKindYaml {
    /// Talks and listens, never forwards.
    EndStation,
    /// Forwards; never a talker or listener of a scheduled stream.
    Bridge,
}

/// One entry of `nodes:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeYaml {
    /// Unique name.
    pub name: String,
    /// `end-station` or `bridge`.
    pub kind: NodeKindYaml,
    /// Bridges only: overrides `defaults.processing-delay`.
    #[serde(default)]
    pub processing_delay: Option<DurationNs>,
    /// Overrides `defaults.traffic-classes` for every egress port of this node.
    #[serde(default)]
    pub traffic_classes: Option<u8>,
    /// Overrides `defaults.priority-map` for every egress port of this node.
    #[serde(default)]
    pub priority_map: Option<Vec<u8>>,
    /// Per-egress-port overrides.
    #[serde(default)]
    pub ports: Vec<PortYaml>,
}

/// One entry of `nodes[i].ports:`: the egress port towards neighbour `to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PortYaml {
    /// The neighbour this port leads to.
    pub to: String,
    /// Traffic classes of this port.
    #[serde(default)]
    pub traffic_classes: Option<u8>,
    /// Priority -> traffic class of this port.
    #[serde(default)]
    pub priority_map: Option<Vec<u8>>,
}

/// One entry of `links:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LinkYaml {
    /// The two node names.
    pub ends: [String; 2],
    /// Overrides `defaults.link-speed` (both directions).
    #[serde(default)]
    pub speed: Option<BitRate>,
    /// Overrides `defaults.propagation-delay` (both directions).
    #[serde(default)]
    pub propagation_delay: Option<DurationNs>,
}

/// One entry of `streams:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StreamYaml {
    /// Unique name.
    pub name: String,
    /// The sending end station.
    pub talker: String,
    /// One or more receiving end stations.
    pub listeners: Vec<String>,
    /// One frame per period.
    pub period: DurationNs,
    /// Frame size in bytes from destination MAC to FCS (VLAN tag included).
    pub frame_size: u32,
    /// Maximum end-to-end latency: start of the talker's transmission to the end of
    /// reception at every listener.
    pub max_latency: DurationNs,
    /// Optional bound on the variation of the latency between frames. Schedules repeat each
    /// hop's offset every period, so their jitter is 0 by construction and any bound holds;
    /// the value is kept for imported schedules and the exact mode.
    #[serde(default)]
    pub max_jitter: Option<DurationNs>,
    /// Priority (PCP) 0..=7.
    pub priority: u8,
    /// Optional explicit paths, one per listener, each a node list from the talker to that
    /// listener. Computed when absent: the fewest hops, and among equal-hop paths the one
    /// whose busiest link carries the least traffic of the streams listed before.
    #[serde(default)]
    pub paths: Option<Vec<Vec<String>>>,
}
