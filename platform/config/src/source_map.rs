//! Positions of every node of a YAML text, by path, from `saphyr-parser` events.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScanError, Span};

use crate::path::YamlPath;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Pos {
    fn of(span: &Span) -> Self {
        Self {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A key that occurs twice in one mapping.
#[derive(Debug)]
pub(crate) struct DuplicateKey {
    pub(crate) path: YamlPath,
    pub(crate) pos: Pos,
    pub(crate) first: Pos,
}

/// Where each node of the first document is written. A mapping entry's position is that of
/// its key, a sequence item's that of the item.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    positions: HashMap<YamlPath, Pos>,
    pub(crate) duplicates: Vec<DuplicateKey>,
}

enum Frame {
    Seq {
        path: YamlPath,
        next: usize,
    },
    Map {
        path: YamlPath,
        /// `None` while the next node is a key; the key's path once it has been read.
        value_path: Option<YamlPath>,
        seen: HashSet<String>,
    },
    /// Inside a complex (non-scalar) mapping key, which gets no path of its own.
    Skip,
}

impl SourceMap {
    pub(crate) fn parse(text: &str) -> Result<Self, ScanError> {
        let mut map = Self::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let (event, span) = event?;
            let pos = Pos::of(&span);
            let (scalar, opens) = match &event {
                Event::Scalar(value, ..) => (Some(value.as_ref()), false),
                Event::Alias(_) => (None, false),
                Event::SequenceStart(..) | Event::MappingStart(..) => (None, true),
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    continue;
                }
                Event::DocumentEnd => break,
                _ => continue,
            };
            // Which path does this node get, if any?
            let path = match stack.last_mut() {
                None => Some(YamlPath::root()),
                Some(Frame::Skip) => None,
                Some(Frame::Seq { path, next }) => {
                    *next += 1;
                    Some(path.index(*next - 1))
                }
                Some(Frame::Map {
                    path,
                    value_path: value_path @ None,
                    seen,
                }) => {
                    // A key: remember the entry's path and position, then wait for its value.
                    let key = scalar.unwrap_or("?").to_owned();
                    let entry = path.key(key.clone());
                    if scalar.is_some() && !seen.insert(key) {
                        let first = map.positions[&entry];
                        map.duplicates.push(DuplicateKey {
                            path: entry.clone(),
                            pos,
                            first,
                        });
                    } else {
                        map.positions.insert(entry.clone(), pos);
                    }
                    *value_path = Some(entry);
                    if opens {
                        stack.push(Frame::Skip);
                    }
                    continue;
                }
                Some(Frame::Map { value_path, .. }) => value_path.take(),
            };
            if let Some(path) = &path {
                map.positions.entry(path.clone()).or_insert(pos);
            }
            match (&event, path) {
                (Event::SequenceStart(..), Some(path)) => stack.push(Frame::Seq { path, next: 0 }),
                (Event::MappingStart(..), Some(path)) => stack.push(Frame::Map {
                    path,
                    value_path: None,
                    seen: HashSet::new(),
                }),
                (Event::SequenceStart(..) | Event::MappingStart(..), None) => {
                    stack.push(Frame::Skip);
                }
                _ => {}
            }
        }
        Ok(map)
    }

    /// The position of `path`, or of its nearest ancestor written in the text (a defaulted
    /// key has no position of its own).
    pub(crate) fn locate(&self, path: &YamlPath) -> Option<Pos> {
        let mut path = path.clone();
        loop {
            if let Some(pos) = self.positions.get(&path) {
                return Some(*pos);
            }
            path = path.parent()?;
        }
    }
}
