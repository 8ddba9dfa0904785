//! The one output-format registry: every `--format` of every command is a
//! [`Format`] of this list, given as `NAME` (stdout) or `NAME=PATH`
//! ([`parse_output`], clap's value parser), rendered from the command's
//! [`Document`] (or, for `json`, its JSON value) by [`render`] and written
//! by [`emit`]. A command says what it has to show; which formats exist
//! and how each looks is decided here and in [`super::render`], not in
//! the command. This module does not build documents.

use std::fmt;
use std::path::PathBuf;

use super::doc::Document;
use super::render;
use crate::results::{ResultsError, write_atomic};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Aligned text for a terminal.
    Text,
    Markdown,
    /// One self-contained page.
    Html,
    /// The document's tables.
    Csv,
    /// The command's JSON document (its own schema, not the document's).
    Json,
}

impl Format {
    /// Every format, in the order help and error messages list them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Markdown,
        Format::Html,
        Format::Csv,
        Format::Json,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// Other names `--format` accepts for this format.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Format::Text => &["txt"],
            Format::Markdown => &["md"],
            Format::Html | Format::Csv | Format::Json => &[],
        }
    }

    /// A format by its name or an alias (ASCII case ignored).
    pub fn parse(s: &str) -> Option<Format> {
        let s = s.trim();
        Format::ALL.into_iter().find(|f| {
            f.name().eq_ignore_ascii_case(s)
                || f.aliases().iter().any(|a| a.eq_ignore_ascii_case(s))
        })
    }

    /// "text, markdown, html, csv, json".
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `--format NAME[=PATH]`: a format and where it goes (None: stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub path: Option<PathBuf>,
}

impl OutputSpec {
    pub fn stdout(format: Format) -> Self {
        OutputSpec { format, path: None }
    }
}

/// As given on the command line: `json` or `json=out/v.json`.
impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}={}", self.format, p.display()),
            None => write!(f, "{}", self.format),
        }
    }
}

/// Parses `NAME` (stdout) or `NAME=PATH` (`-` as PATH: stdout); for clap's
/// `value_parser`.
pub fn parse_output(s: &str) -> Result<OutputSpec, String> {
    let (name, path) = match s.split_once('=') {
        Some((name, path)) => (name, Some(path)),
        None => (s, None),
    };
    let format = Format::parse(name).ok_or_else(|| {
        format!(
            "unknown format {:?} (expected one of: {})",
            name.trim(),
            Format::names()
        )
    })?;
    let path = match path {
        None | Some("-") => None,
        Some(p) if p.trim().is_empty() => {
            return Err(format!(
                "{s:?}: no file after \"=\" (give {format}=PATH, or {format} for stdout)"
            ));
        }
        Some(p) => Some(PathBuf::from(p)),
    };
    Ok(OutputSpec { format, path })
}

/// `outputs`, or `default` on stdout when none was given.
pub fn or_default(outputs: &[OutputSpec], default: Format) -> Vec<OutputSpec> {
    if outputs.is_empty() {
        vec![OutputSpec::stdout(default)]
    } else {
        outputs.to_vec()
    }
}

/// The complete output in `format`: `json` pretty-printed for Json, `doc`
/// through its renderer for the others. Ends with a newline unless empty.
pub fn render(format: Format, doc: &Document, json: &serde_json::Value) -> String {
    match format {
        Format::Text => render::text::render(doc),
        Format::Markdown => render::markdown::render(doc),
        Format::Html => render::html::render(doc),
        Format::Csv => render::csv::render(doc),
        Format::Json => {
            // Serializing a Value cannot fail (its map keys are strings);
            // Display is the same JSON, compact, should it ever.
            let mut s = serde_json::to_string_pretty(json).unwrap_or_else(|_| json.to_string());
            s.push('\n');
            s
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error(
        "--format {first} and --format {second} both write to stdout; give all but one a file (--format {}=PATH)",
        second.format
    )]
    TwoOnStdout {
        first: OutputSpec,
        second: OutputSpec,
    },
    #[error("--format {first} and --format {second} both write {}", path.display())]
    SameFile {
        first: OutputSpec,
        second: OutputSpec,
        path: PathBuf,
    },
    /// Names the file.
    #[error(transparent)]
    Write(#[from] ResultsError),
}

/// Refuses outputs that would collide: two on stdout, or one file twice.
/// [`emit`] checks this too; a command that measures first calls it
/// before measuring, so a bad `--format` fails at once.
pub fn check_outputs(outputs: &[OutputSpec]) -> Result<(), FormatError> {
    for (i, second) in outputs.iter().enumerate() {
        for first in &outputs[..i] {
            match (&first.path, &second.path) {
                (None, None) => {
                    return Err(FormatError::TwoOnStdout {
                        first: first.clone(),
                        second: second.clone(),
                    });
                }
                (Some(a), Some(b)) if a == b => {
                    return Err(FormatError::SameFile {
                        first: first.clone(),
                        second: second.clone(),
                        path: a.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Writes each output, in order: files atomically, at most one to stdout
/// (which tolerates a closed pipe). Collisions ([`check_outputs`]) are
/// refused before anything is written.
pub fn emit(
    outputs: &[OutputSpec],
    doc: &Document,
    json: &serde_json::Value,
) -> Result<(), FormatError> {
    check_outputs(outputs)?;
    for out in outputs {
        let text = render(out.format, doc, json);
        match &out.path {
            Some(path) => write_atomic(path, text.as_bytes())?,
            None => crate::stdout::write(format_args!("{text}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::{Column, Rich, Table};

    #[test]
    fn names_and_aliases() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!(Format::parse("md"), Some(Format::Markdown));
        assert_eq!(Format::parse("txt"), Some(Format::Text));
        assert_eq!(Format::parse("JSON"), Some(Format::Json));
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn outputs_go_to_stdout_or_a_file() {
        assert_eq!(
            parse_output("json").unwrap(),
            OutputSpec::stdout(Format::Json)
        );
        assert_eq!(
            parse_output("md=-").unwrap(),
            OutputSpec::stdout(Format::Markdown)
        );
        let spec = parse_output("html=out/r=1.html").unwrap();
        assert_eq!(spec.format, Format::Html);
        assert_eq!(spec.path, Some(PathBuf::from("out/r=1.html")));
        assert_eq!(spec.to_string(), "html=out/r=1.html");
        assert_eq!(
            parse_output("xml").unwrap_err(),
            "unknown format \"xml\" (expected one of: text, markdown, html, csv, json)"
        );
        assert!(parse_output("xml=a.xml").unwrap_err().contains("\"xml\""));
        assert!(parse_output("csv=").unwrap_err().contains("no file"));
    }

    fn fixture() -> (Document, serde_json::Value) {
        let mut doc = Document::new("t");
        let mut t = Table::new(vec![Column::left("a"), Column::right("b")]);
        t.row([Rich::text("x"), Rich::text("1")]);
        doc.table(t);
        (doc, serde_json::json!({"a": 1}))
    }

    #[test]
    fn emit_writes_files_and_refuses_conflicts() {
        let (doc, json) = fixture();
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("sub/t.csv");
        let js = dir.path().join("t.json");
        let outputs = [
            parse_output(&format!("csv={}", csv.display())).unwrap(),
            parse_output(&format!("json={}", js.display())).unwrap(),
        ];
        emit(&outputs, &doc, &json).unwrap();
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "a,b\nx,1\n");
        assert_eq!(std::fs::read_to_string(&js).unwrap(), "{\n  \"a\": 1\n}\n");

        let two = [
            OutputSpec::stdout(Format::Text),
            parse_output("json=-").unwrap(),
        ];
        let err = emit(&two, &doc, &json).unwrap_err().to_string();
        assert_eq!(
            err,
            "--format text and --format json both write to stdout; give all but one a file (--format json=PATH)"
        );
        let same = [
            outputs[0].clone(),
            OutputSpec {
                format: Format::Text,
                path: outputs[0].path.clone(),
            },
        ];
        let err = emit(&same, &doc, &json).unwrap_err().to_string();
        assert!(err.contains("both write") && err.contains("t.csv"), "{err}");

        let blocked = dir.path().join("t.json/x.md");
        let err = emit(
            &[OutputSpec {
                format: Format::Markdown,
                path: Some(blocked),
            }],
            &doc,
            &json,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("x.md"), "{err}");
    }

    #[test]
    fn defaults_apply_only_when_nothing_was_asked() {
        assert_eq!(
            or_default(&[], Format::Text),
            [OutputSpec::stdout(Format::Text)]
        );
        let asked = [OutputSpec::stdout(Format::Csv)];
        assert_eq!(or_default(&asked, Format::Text), asked);
    }
}
