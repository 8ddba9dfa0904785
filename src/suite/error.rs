//! Suite errors and their locations: byte spans from the TOML parser become
//! `file:line:column` (1-based, columns counted in characters), and serde's
//! messages are reworded to name the table a bad key sits in. This module
//! owns how a suite problem is reported, not what counts as a problem.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use super::raw::TABLES;

/// One problem in a suite file, at a precise place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as given, or `<embedded>/suites/default.toml`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why a suite could not be loaded or narrowed. Every variant names the
/// file; parse and validation problems also name line and column.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The suite file could not be read.
    /// (The I/O error is part of the message rather than a `source`, so
    /// `{:#}` does not print it twice.)
    #[error("cannot read suite file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Malformed TOML, unknown keys, wrong types or invalid values; one
    /// diagnostic per problem, in file order, at least one.
    #[error("{}", render(diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
    /// `--only` or `--scenario` named something the suite does not have.
    #[error("{message}")]
    Selection { message: String },
}

impl SuiteError {
    /// The located problems (empty for read and selection errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            SuiteError::Invalid { diagnostics } => diagnostics,
            _ => &[],
        }
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// The text of one suite file and its display name, for turning byte
/// offsets into diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl SourceFile<'_> {
    /// 1-based (line, column) of a byte offset; offsets past the end or
    /// inside a character are clamped to the nearest earlier boundary.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// A diagnostic at the start of `span`.
    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.line_col(span.start);
        Diagnostic {
            file: self.name.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// Converts a TOML/serde error into a diagnostic.
    pub fn toml_error(&self, err: &toml::de::Error) -> Diagnostic {
        let span = err.span().unwrap_or(0..0);
        self.at(span, reword(err.message()))
    }
}

/// Rewords serde's messages into the suite's vocabulary ("key", the table
/// it is in, the keys allowed there).
fn reword(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let expected = backquoted_after_expected(rest);
        let table = TABLES
            .iter()
            .find(|(_, fields)| *fields == expected.as_slice())
            .map_or("this table", |(name, _)| name);
        return format!(
            "unknown key {key:?} in {table} (expected one of: {})",
            expected.join(", ")
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or("");
        return format!("missing required key {key:?}");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or("");
        let expected = backquoted_after_expected(rest);
        return format!(
            "invalid value {value:?} (expected one of: {})",
            expected.join(", ")
        );
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return message.to_string();
    }
    format!("TOML syntax error: {message}")
}

fn backquoted_after_expected(message: &str) -> Vec<&str> {
    let Some((_, tail)) = message.split_once("expected") else {
        return Vec::new();
    };
    tail.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_line_and_char_column() {
        let src = SourceFile {
            name: "s.toml",
            text: "a = 1\nbé = \"x\"\n",
        };
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(4), (1, 5));
        assert_eq!(src.line_col(6), (2, 1));
        // 'é' is two bytes: the '=' after "bé " is the 4th character.
        assert_eq!(src.line_col(10), (2, 4));
        assert_eq!(src.line_col(1000), (3, 1));
    }

    #[test]
    fn unknown_key_names_its_table_and_the_allowed_keys() {
        let msg = reword(
            "unknown field `wieght`, expected one of `target`, `scenario`, `model`, `check`",
        );
        assert_eq!(
            msg,
            "unknown key \"wieght\" in [[thresholds]] (expected one of: target, scenario, model, check)"
        );
    }

    #[test]
    fn syntax_errors_are_labelled() {
        assert_eq!(
            reword("invalid basic string"),
            "TOML syntax error: invalid basic string"
        );
        assert_eq!(
            reword("unknown variant `shut`, expected `closed` or `open`"),
            "invalid value \"shut\" (expected one of: closed, open)"
        );
    }
}
