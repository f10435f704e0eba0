//! YAML paths (`ports[0].gate-control-list[1].interval-ns`) and semantic issues.

use std::fmt;

/// One step of a [`YamlPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key, written `.key`.
    Key(String),
    /// A sequence index, written `[i]`.
    Index(usize),
}

/// A path from the document root to one node, rendered the way `serde_path_to_error`
/// renders it: `streams[3].period`; the root is `.`.
///
/// The builder methods take `&self` and return a new path, so a validator can keep
/// `let s = root.key("streams").index(i);` around and derive `s.key("period")` from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(Vec<Segment>);

impl YamlPath {
    /// The document root.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path followed by mapping key `key`.
    #[must_use]
    pub fn key(&self, key: impl Into<String>) -> Self {
        self.child(Segment::Key(key.into()))
    }

    /// This path followed by sequence index `index`.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        self.child(Segment::Index(index))
    }

    /// The segments from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The enclosing node's path, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(Self(rest.to_vec()))
    }

    fn child(&self, segment: Segment) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }

    /// Converts the path reported by `serde_path_to_error`, stopping at the first segment it
    /// could not name.
    pub(crate) fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        let mut out = Self::root();
        for segment in path.iter() {
            out.0.push(match segment {
                S::Seq { index } => Segment::Index(*index),
                S::Map { key } => Segment::Key(key.clone()),
                S::Enum { variant } => Segment::Key(variant.clone()),
                S::Unknown => break,
            });
        }
        out
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One semantic problem found by [`Validate::validate`]: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The node the problem is about.
    pub path: YamlPath,
    /// What is wrong and, ideally, what would be valid.
    pub message: String,
}

impl Issue {
    /// A new issue at `path`.
    pub fn new(path: YamlPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

/// Cross-field checks that run after deserialization; see [`crate::from_str_validated`].
pub trait Validate {
    /// Every problem found, not only the first; empty when the value is valid.
    fn validate(&self) -> Vec<Issue>;
}
