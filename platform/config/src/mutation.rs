//! Unknown-key mutations: one variant of a document per mapping, with an extra key.
//!
//! Used by the workspace test that proves every example in `configs/` rejects unknown keys
//! wherever they appear (house style §8). The document is parsed into a `yaml_serde::Value`,
//! the key is inserted there and the document re-serialised, so block and flow style, quoting
//! and comments do not matter (anchors are expanded and comments lost in the mutated text).

use yaml_serde::{Mapping, Value};

use crate::path::YamlPath;
use crate::{Result, from_str};

/// The key that [`unknown_key_mutations`] inserts.
pub const UNKNOWN_KEY: &str = "x-unknown-key";

/// A document with [`UNKNOWN_KEY`] inserted into the mapping at `mapping`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The mapping that received the key.
    pub mapping: YamlPath,
    /// The whole mutated document.
    pub text: String,
}

impl Mutation {
    /// The path a strict loader should report for this mutation: `mapping.x-unknown-key`.
    pub fn expected_error_path(&self) -> YamlPath {
        self.mapping.key(UNKNOWN_KEY)
    }
}

/// One [`Mutation`] per mapping in `text` (the root included, if it is one), in document
/// order. Fails only if `text` is not YAML.
pub fn unknown_key_mutations(text: &str) -> Result<Vec<Mutation>> {
    let original: Value = from_str(text, "<mutation input>")?;
    let mut mappings = Vec::new();
    walk(&mut original.clone(), &YamlPath::root(), &mut |path, _| {
        mappings.push(path.clone());
    });
    let mutations = mappings.into_iter().enumerate().map(|(target, mapping)| {
        let mut doc = original.clone();
        let mut seen = 0;
        walk(&mut doc, &YamlPath::root(), &mut |_, map| {
            if seen == target {
                map.insert(Value::from(UNKNOWN_KEY), Value::from(1));
            }
            seen += 1;
        });
        let text = yaml_serde::to_string(&doc).expect("a yaml_serde::Value always serialises");
        Mutation { mapping, text }
    });
    Ok(mutations.collect())
}

/// Visits every mapping in pre-order. The visitor runs before the mapping's entries are
/// walked, so an inserted scalar entry is never visited itself.
fn walk(value: &mut Value, path: &YamlPath, visit: &mut impl FnMut(&YamlPath, &mut Mapping)) {
    match value {
        Value::Mapping(map) => {
            visit(path, map);
            for (key, child) in map.iter_mut() {
                let key = match key {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => "?".to_owned(),
                };
                walk(child, &path.key(key), visit);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), visit);
            }
        }
        Value::Tagged(tagged) => {
            let variant = tagged.tag.to_string();
            walk(
                &mut tagged.value,
                &path.key(variant.trim_start_matches('!')),
                visit,
            );
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}
