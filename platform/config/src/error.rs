//! The crate error: every problem with its source name, YAML path, line and column.

use std::fmt;
use std::path::PathBuf;

use crate::source_map::Pos;

/// One located problem in a configuration text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The YAML path of the offending node, e.g. `streams[3].period` (`.` is the root).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what would be valid.
    pub message: String,
    /// The source line at `line`, for a snippet.
    pub source_line: String,
}

impl Problem {
    pub(crate) fn new(text: &str, path: String, pos: Option<Pos>, message: String) -> Self {
        let Pos { line, column } = pos.unwrap_or(Pos { line: 1, column: 1 });
        let source_line = text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default()
            .to_owned();
        Self {
            path,
            line,
            column,
            message,
            source_line,
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The text is not valid YAML, does not match the expected structure, or fails
    /// validation. Renders one `name:line:column: path: message` line per problem.
    #[error("{}", Lines(source_name, problems))]
    Invalid {
        /// The file name or other label given by the caller.
        source_name: String,
        /// Every problem found, in document order for semantic issues.
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The exit code a tool reports for this error: [`exit::NO_INPUT`] when the file cannot
    /// be read, [`exit::CONFIG`] when it is invalid.
    ///
    /// [`exit::NO_INPUT`]: crate::exit::NO_INPUT
    /// [`exit::CONFIG`]: crate::exit::CONFIG
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Read { .. } => crate::exit::NO_INPUT,
            Self::Invalid { .. } => crate::exit::CONFIG,
        }
    }

    /// The located problems (empty for [`ConfigError::Read`]).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            Self::Read { .. } => &[],
        }
    }

    /// Like `Display`, with each problem's source line and a caret under its column.
    pub fn render_snippets(&self) -> String {
        let Self::Invalid {
            source_name,
            problems,
        } = self
        else {
            return self.to_string();
        };
        let mut out = String::new();
        for p in problems {
            let gutter = " ".repeat(p.line.to_string().len());
            let caret = " ".repeat(p.column.saturating_sub(1));
            out.push_str(&format!(
                "{source_name}:{}:{}: {}: {}\n{gutter} |\n{} | {}\n{gutter} | {caret}^\n",
                p.line, p.column, p.path, p.message, p.line, p.source_line
            ));
        }
        out
    }
}

struct Lines<'a>(&'a str, &'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.1.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.0, p.line, p.column, p.path, p.message
            )?;
        }
        Ok(())
    }
}

/// `Result` with [`ConfigError`].
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;
