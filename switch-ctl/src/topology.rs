//! The offline topology file (`configs/spb-topology-*.yaml`) and its conversion to the core's
//! [`Topology`].
//!
//! ```yaml
//! bridges:
//!   - name: a                    # unique
//!     system-id: 0000.0000.0001  # IS-IS notation, unique
//!     priority: 32768            # optional, 0..=65535, default 32768 (0x8000)
//!     isids: [100, 200]          # optional, 1..=16777215
//! links:
//!   - {a: a, b: b, metric: 1}    # metric 1..=16777215 (24-bit SPB link metric)
//! ```
//!
//! A partitioned network is valid: unreachable pairs are reported, not rejected.

use std::collections::HashMap;

use serde::Deserialize;
use switch_ctl_core::spf::{
    BridgeId, BridgeIndex, MAX_BRIDGES, MAX_LINK_METRIC, SystemId, Topology, TopologyError,
};
use tsn_config::{Issue, Validate, YamlPath};

/// The largest I-SID (24 bits).
pub const MAX_ISID: u32 = 0x00FF_FFFF;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TopologyFile {
    /// The bridges; their order is the bridge index order.
    pub bridges: Vec<BridgeConfig>,
    /// Point-to-point links, one metric for both directions.
    pub links: Vec<LinkConfig>,
}

/// One bridge.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BridgeConfig {
    /// Name used by links and in the output.
    pub name: String,
    /// IS-IS system ID, `0000.0000.0001`.
    pub system_id: String,
    /// Bridge priority, the first 16 bits of the Bridge Identifier.
    #[serde(default = "default_priority")]
    pub priority: u16,
    /// The I-SIDs (backbone service instances) this bridge is a member of.
    #[serde(default)]
    pub isids: Vec<u32>,
}

fn default_priority() -> u16 {
    BridgeId::DEFAULT_PRIORITY
}

/// One link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LinkConfig {
    /// One end (a bridge name).
    pub a: String,
    /// The other end.
    pub b: String,
    /// SPB link metric, 1..=16777215.
    pub metric: u32,
}

impl Validate for TopologyFile {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        let root = YamlPath::root();
        if self.bridges.is_empty() {
            issues.push(Issue::new(root.key("bridges"), "needs at least one bridge"));
        }
        if self.bridges.len() > MAX_BRIDGES {
            issues.push(Issue::new(
                root.key("bridges"),
                format!("at most {MAX_BRIDGES} bridges are supported"),
            ));
        }
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut system_ids: HashMap<SystemId, usize> = HashMap::new();
        for (i, b) in self.bridges.iter().enumerate() {
            let at = root.key("bridges").index(i);
            if b.name.trim().is_empty() {
                issues.push(Issue::new(at.key("name"), "must not be empty"));
            } else if let Some(&first) = names.get(b.name.as_str()) {
                issues.push(Issue::new(
                    at.key("name"),
                    format!("{:?} is already the name of bridges[{first}]", b.name),
                ));
            } else {
                names.insert(&b.name, i);
            }
            match b.system_id.parse::<SystemId>() {
                Err(e) => issues.push(Issue::new(at.key("system-id"), e.to_string())),
                Ok(id) => {
                    if let Some(&first) = system_ids.get(&id) {
                        issues.push(Issue::new(
                            at.key("system-id"),
                            format!("{id} is already the system ID of bridges[{first}]"),
                        ));
                    } else {
                        system_ids.insert(id, i);
                    }
                }
            }
            for (j, &isid) in b.isids.iter().enumerate() {
                let at = at.key("isids").index(j);
                if isid == 0 || isid > MAX_ISID {
                    issues.push(Issue::new(
                        at,
                        format!("I-SID {isid} is outside 1..={MAX_ISID} (24 bits)"),
                    ));
                } else if b.isids[..j].contains(&isid) {
                    issues.push(Issue::new(at, format!("I-SID {isid} is listed twice")));
                }
            }
        }
        let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, l) in self.links.iter().enumerate() {
            let at = root.key("links").index(i);
            for (key, end) in [("a", &l.a), ("b", &l.b)] {
                if !names.contains_key(end.as_str()) {
                    issues.push(Issue::new(
                        at.key(key),
                        format!(
                            "unknown bridge {end:?}: links must name bridges listed under `bridges`"
                        ),
                    ));
                }
            }
            if l.a == l.b {
                issues.push(Issue::new(
                    at.key("b"),
                    format!(
                        "a link must join two different bridges, both ends are {:?}",
                        l.a
                    ),
                ));
            }
            if l.metric == 0 || l.metric > MAX_LINK_METRIC {
                issues.push(Issue::new(
                    at.key("metric"),
                    format!(
                        "{} is outside 1..={MAX_LINK_METRIC} (the 24-bit SPB link metric)",
                        l.metric
                    ),
                ));
            }
            let pair = if l.a <= l.b {
                (l.a.as_str(), l.b.as_str())
            } else {
                (l.b.as_str(), l.a.as_str())
            };
            if l.a != l.b {
                if let Some(&first) = pairs.get(&pair) {
                    issues.push(Issue::new(
                        at,
                        format!(
                            "{} and {} are already linked by links[{first}]; at most one link per pair",
                            l.a, l.b
                        ),
                    ));
                } else {
                    pairs.insert(pair, i);
                }
            }
        }
        issues
    }
}

/// A validated topology file as the computation sees it: the core topology plus names and
/// I-SID memberships by bridge index.
#[derive(Debug, Clone)]
pub struct Network {
    /// Bridges and links.
    pub topology: Topology,
    /// Bridge names by index.
    pub names: Vec<String>,
    /// Each bridge's I-SIDs, by index.
    pub isids: Vec<Vec<u32>>,
}

/// Why a [`TopologyFile`] could not become a [`Network`]; only possible if it was not
/// validated first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A system ID does not parse.
    #[error(transparent)]
    SystemId(#[from] switch_ctl_core::spf::ParseSystemIdError),
    /// A link names no known bridge.
    #[error("unknown bridge {0:?}")]
    UnknownBridge(String),
    /// The core refused an edit.
    #[error(transparent)]
    Topology(#[from] TopologyError),
}

impl TryFrom<&TopologyFile> for Network {
    type Error = NetworkError;

    fn try_from(file: &TopologyFile) -> Result<Self, Self::Error> {
        let mut topology = Topology::new();
        let mut index: HashMap<&str, BridgeIndex> = HashMap::new();
        for b in &file.bridges {
            let id = BridgeId::new(b.priority, b.system_id.parse()?);
            let i = topology.add_bridge(id)?;
            index.insert(&b.name, i);
        }
        let find = |name: &String| {
            index
                .get(name.as_str())
                .copied()
                .ok_or_else(|| NetworkError::UnknownBridge(name.clone()))
        };
        for l in &file.links {
            topology.set_link(find(&l.a)?, find(&l.b)?, l.metric)?;
        }
        Ok(Self {
            topology,
            names: file.bridges.iter().map(|b| b.name.clone()).collect(),
            isids: file.bridges.iter().map(|b| b.isids.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn configs() -> Vec<PathBuf> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs");
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("configs/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("spb-topology-") && n.ends_with(".yaml"))
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn examples_load_validate_and_convert() {
        let files = configs();
        assert!(files.len() >= 2, "{files:?}");
        for path in files {
            let file: TopologyFile = tsn_config::from_path_validated(&path)
                .unwrap_or_else(|e| panic!("{}", e.render_snippets()));
            let net = Network::try_from(&file).unwrap();
            assert_eq!(net.topology.len(), file.bridges.len());
            assert_eq!(net.topology.link_count(), file.links.len());
        }
    }

    #[test]
    fn examples_reject_unknown_keys_everywhere() {
        for path in configs() {
            let text = std::fs::read_to_string(&path).unwrap();
            let mutations = tsn_config::mutation::unknown_key_mutations(&text).unwrap();
            assert!(mutations.len() > 3);
            for m in mutations {
                let err = tsn_config::from_str::<TopologyFile>(&m.text, "mutated")
                    .expect_err("unknown key must be rejected");
                let problem = &err.problems()[0];
                assert_eq!(problem.path, m.expected_error_path().to_string(), "{err}");
            }
        }
    }

    #[test]
    fn minimal_config_pins_defaults() {
        let file: TopologyFile = tsn_config::from_str_validated(
            "bridges:\n  - {name: x, system-id: 0000.0000.0001}\nlinks: []\n",
            "minimal",
        )
        .unwrap();
        assert_eq!(file.bridges[0].priority, 32768);
        assert!(file.bridges[0].isids.is_empty());
        let net = Network::try_from(&file).unwrap();
        assert_eq!(net.topology.bridges()[0].to_u64(), 0x8000_0000_0000_0001);
    }

    #[test]
    fn every_semantic_problem_is_reported_with_its_line() {
        let text = "\
bridges:
  - {name: a, system-id: 0000.0000.0001, isids: [0, 5, 5]}
  - {name: a, system-id: 0000.0000.0001}
  - {name: c, system-id: 0000.0000.00zz}
  - {name: d, system-id: 0000.0000.0004}
links:
  - {a: a, b: nope, metric: 1}
  - {a: c, b: c, metric: 1}
  - {a: a, b: c, metric: 0}
  - {a: c, b: a, metric: 16777216}
";
        let err = tsn_config::from_str_validated::<TopologyFile>(text, "bad.yaml").unwrap_err();
        let got: Vec<(usize, &str)> = err
            .problems()
            .iter()
            .map(|p| (p.line, p.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "bridges[0].isids[0]"),
                (2, "bridges[0].isids[2]"),
                (3, "bridges[1].name"),
                (3, "bridges[1].system-id"),
                (4, "bridges[2].system-id"),
                (7, "links[0].b"),
                (8, "links[1].b"),
                (9, "links[2].metric"),
                (10, "links[3]"),
                (10, "links[3].metric"),
            ],
            "{err}"
        );
        let rendered = err.to_string();
        assert!(rendered.contains("bad.yaml:7:"), "{rendered}");
        assert!(rendered.contains("unknown bridge \"nope\""), "{rendered}");
    }

    #[test]
    fn structural_errors_name_path_and_line() {
        let text =
            "bridges:\n  - {name: a, system-id: 0000.0000.0001, priority: 70000}\nlinks: []\n";
        let err = tsn_config::from_str::<TopologyFile>(text, "t.yaml").unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(
            (p.path.as_str(), p.line),
            ("bridges[0].priority", 2),
            "{err}"
        );
    }
}
