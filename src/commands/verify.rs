//! `bakeoff verify RUN_DIR [--claims FILE] [--format markdown|json]`:
//! evaluates the claims against a run and prints the verdict table (with
//! the capacity/knee table in Markdown) or `{"claims":[...]}`.
//!
//! Exit code: 0 whenever the verdicts could be computed, whatever they are
//! (a refuted claim is a finding, not a failure of the run; CI gates are
//! `run`'s thresholds and `compare`); 2 when the results or the claims file
//! cannot be read.

use std::path::PathBuf;

use anyhow::Context;

use crate::Outcome;
use crate::claims;
use crate::cli::VerifyArgs;
use crate::report::doc::Document;
use crate::report::format::{self, Format, OutputSpec};
use crate::results::{RunResults, write_atomic};

pub async fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let results = RunResults::load(&args.run).context("loading the results")?;
    let file = claims::load(args.claims.as_deref()).context("loading the claims")?;
    let verdicts = claims::evaluate(&results, &file);
    let markdown = || {
        let mut md = String::from("## Claims and verdicts\n\n");
        md.push_str(&claims::verdict_markdown(&results, &verdicts));
        if let Some(s) = claims::ratio_table_section(&results, &file) {
            md.push_str(&format!("\n## {}\n\n{}", s.title, s.markdown));
        }
        let cap = claims::capacity::capacity_section(&results, &file.capacity);
        md.push_str(&format!("\n## {}\n\n{}", cap.title, cap.markdown));
        md
    };
    emit_markdown_or_json("verify", &args.format, markdown, || {
        claims::verdicts_json(&verdicts)
    })?;
    Ok(Outcome::Ok)
}

/// TEMPORARY, until `verify` and `compare` build a [`Document`]: one
/// `--format`, `markdown` (today's Markdown string) or `json`, on stdout
/// or in its file; the other formats, and more than one `--format`, are
/// refused with an error naming the command.
pub(super) fn emit_markdown_or_json(
    command: &str,
    outputs: &[OutputSpec],
    markdown: impl FnOnce() -> String,
    json: impl FnOnce() -> serde_json::Value,
) -> anyhow::Result<()> {
    let outputs = format::or_default(outputs, Format::Markdown);
    let [spec] = outputs.as_slice() else {
        anyhow::bail!("{command} takes one --format for now");
    };
    let write = |path: &Option<PathBuf>, text: &str| -> anyhow::Result<()> {
        match path {
            Some(p) => write_atomic(p, text.as_bytes())?,
            None => crate::out!("{text}"),
        }
        Ok(())
    };
    match spec.format {
        Format::Markdown => write(&spec.path, &markdown()),
        Format::Json => {
            let text = format::render(Format::Json, &Document::default(), &json());
            write(&spec.path, &text)
        }
        other => anyhow::bail!("--format {other} is not available for {command} yet"),
    }
}
