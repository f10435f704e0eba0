//! YAML configuration loading for every part of the TSN stack.
//!
//! Who calls what:
//! - The daemons and tools (gPTP daemon, Qbv schedule planner, switch control plane,
//!   simulator scenarios) define their YAML structs with
//!   `#[serde(deny_unknown_fields, rename_all = "kebab-case")]`, implement [`Validate`] for
//!   cross-field rules, and call [`from_path_validated`] (or [`from_str_validated`]) once at
//!   start-up. On error they print the [`ConfigError`] (or
//!   [`ConfigError::render_snippets`]) and exit with code 78.
//! - Field types reuse [`DurationNs`] and [`BitRate`] so `"125us"` and `"1Gbps"` mean the
//!   same thing in every file.
//! - The workspace tests use [`mutation::unknown_key_mutations`] to prove that each example
//!   in `configs/` rejects an unknown key in every mapping.
//!
//! Every problem names the file, the line and column (1-based) and the YAML path, e.g.
//! `plant.yaml:12:7: streams[3].period: must be > 0`:
//! - syntax and structure errors come from `yaml_serde` wrapped in `serde_path_to_error`;
//! - semantic [`Issue`]s carry a [`YamlPath`] that is located in a source map built from
//!   `saphyr-parser` events (a path absent from the text, such as a defaulted key, falls back
//!   to its nearest written ancestor); all issues are reported, not only the first;
//! - duplicate mapping keys, which the deserializer would not always catch, are found in the
//!   same source-map pass and rejected.
//!
//! The source map is built from the first document only, as `yaml_serde` rejects streams of
//! several documents.
#![deny(missing_docs)]

mod error;
pub mod exit;
pub mod mutation;
mod path;
mod source_map;
#[cfg(test)]
mod tests;
mod units;

use std::path::Path;

use serde::de::DeserializeOwned;

pub use crate::error::{ConfigError, Problem, Result};
pub use crate::path::{Issue, Segment, Validate, YamlPath};
use crate::source_map::{Pos, SourceMap};
pub use crate::units::{BitRate, DurationNs, ParseQuantityError};

/// Deserializes `text`, naming it `source_name` in errors. Rejects duplicate keys and reports
/// the first structural error (unknown key, wrong type, bad value, missing field).
pub fn from_str<T: DeserializeOwned>(text: &str, source_name: &str) -> Result<T> {
    load(text, source_name).map(|(value, _)| value)
}

/// Like [`from_str`], then runs [`Validate::validate`] and reports all issues, each at the
/// line and column of its path, in document order.
pub fn from_str_validated<T: DeserializeOwned + Validate>(
    text: &str,
    source_name: &str,
) -> Result<T> {
    from_str_with(text, source_name, |value: T| {
        let issues = value.validate();
        if issues.is_empty() {
            Ok(value)
        } else {
            Err(issues)
        }
    })
}

/// Like [`from_str`], then turns the file into the model the tool works with. `build` either
/// returns the model or all the issues it found; the issues are reported like those of
/// [`from_str_validated`]. For loaders whose checks and model construction are one pass, so
/// nothing is computed twice.
pub fn from_str_with<T: DeserializeOwned, U>(
    text: &str,
    source_name: &str,
    build: impl FnOnce(T) -> std::result::Result<U, Vec<Issue>>,
) -> Result<U> {
    let (value, map) = load::<T>(text, source_name)?;
    let issues = match build(value) {
        Ok(model) => return Ok(model),
        Err(issues) => issues,
    };
    let mut problems: Vec<Problem> = issues
        .into_iter()
        .map(|issue| {
            let pos = map.as_ref().and_then(|m| m.locate(&issue.path));
            Problem::new(text, issue.path.to_string(), pos, issue.message)
        })
        .collect();
    problems.sort_by_key(|p| (p.line, p.column));
    Err(invalid(source_name, problems))
}

/// Reads and deserializes a file with [`from_str`]; errors name the file as given.
pub fn from_path<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    from_str(&read(path)?, &path.display().to_string())
}

/// Reads a file and builds its model with [`from_str_with`].
pub fn from_path_with<T: DeserializeOwned, U>(
    path: impl AsRef<Path>,
    build: impl FnOnce(T) -> std::result::Result<U, Vec<Issue>>,
) -> Result<U> {
    let path = path.as_ref();
    from_str_with(&read(path)?, &path.display().to_string(), build)
}

/// Reads, deserializes and validates a file with [`from_str_validated`].
pub fn from_path_validated<T: DeserializeOwned + Validate>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    from_str_validated(&read(path)?, &path.display().to_string())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn invalid(source_name: &str, problems: Vec<Problem>) -> ConfigError {
    ConfigError::Invalid {
        source_name: source_name.to_owned(),
        problems,
    }
}

/// Deserializes and returns the source map too, if `saphyr-parser` could build one (if it
/// cannot, `yaml_serde` reports the syntax error, or semantic issues fall back to 1:1).
fn load<T: DeserializeOwned>(text: &str, source_name: &str) -> Result<(T, Option<SourceMap>)> {
    let map = SourceMap::parse(text).ok();
    if let Some(map) = &map
        && !map.duplicates.is_empty()
    {
        let problems = map.duplicates.iter().map(|dup| {
            let message = format!(
                "duplicate key (first written at line {} column {}); each key may appear once",
                dup.first.line, dup.first.column
            );
            Problem::new(text, dup.path.to_string(), Some(dup.pos), message)
        });
        return Err(invalid(source_name, problems.collect()));
    }
    let deserializer = yaml_serde::Deserializer::from_str(text);
    match serde_path_to_error::deserialize(deserializer) {
        Ok(value) => Ok((value, map)),
        Err(err) => {
            let path = YamlPath::from_serde(err.path());
            let inner = err.inner();
            let yaml_pos = inner.location().map(|l| Pos {
                line: l.line(),
                column: l.column(),
            });
            let pos = yaml_pos.or_else(|| map.as_ref().and_then(|m| m.locate(&path)));
            let message = bare_message(&inner.to_string(), &path, yaml_pos);
            let problem = Problem::new(text, path.to_string(), pos, message);
            Err(invalid(source_name, vec![problem]))
        }
    }
}

/// `yaml_serde` renders `path: message at line L column C` (a syntax error puts the position
/// before its context); we print path and position ourselves, so strip them. Its path is a
/// prefix of ours, stopping at the node that failed.
fn bare_message(rendered: &str, path: &YamlPath, pos: Option<Pos>) -> String {
    let mut msg = rendered.to_owned();
    if let Some(pos) = pos {
        let mark = format!(" at line {} column {}", pos.line, pos.column);
        match msg.strip_suffix(&mark) {
            Some(rest) => msg = rest.to_owned(),
            None => msg = msg.replacen(&mark, "", 1),
        }
    }
    let mut prefix = Some(path.clone());
    while let Some(p) = prefix {
        if let Some(rest) = msg.strip_prefix(&format!("{p}: ")) {
            return rest.to_owned();
        }
        prefix = p.parent();
    }
    msg
}
