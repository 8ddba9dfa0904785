//! `bakeoff verify RUN_DIR [--claims FILE] [--format FORMAT[=PATH]]...`:
//! evaluates the claims against a run and prints the verdicts, the
//! throughput-ratio table and the capacity/knee table (the report's claim
//! sections, from the same analysis), or `{"claims":[...]}` as JSON.
//!
//! Exit code: 0 whenever the verdicts could be computed, whatever they are
//! (a refuted claim is a finding, not a failure of the run; CI gates are
//! `run`'s thresholds and `compare`); 2 when the results or the claims file
//! cannot be read.

use anyhow::Context;

use crate::Outcome;
use crate::analysis::analyze;
use crate::claims;
use crate::cli::VerifyArgs;
use crate::report::Charts;
use crate::report::claims as sections;
use crate::report::doc::Document;
use crate::report::format::{self, Format};
use crate::results::RunResults;

pub async fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let results = RunResults::load(&args.run).context("loading the results")?;
    let file = claims::load(args.claims.as_deref()).context("loading the claims")?;
    let analysis = analyze(&results, Some(&file), &[]);
    let mut doc = Document::new("");
    let mut json = serde_json::json!({ "claims": [] });
    if let Some(c) = &analysis.claims {
        sections::verdicts(&mut doc, &analysis, c);
        sections::headlines(&mut doc, c, &Charts::none());
        if let Some(t) = &c.ratio_table {
            sections::ratio_table(&mut doc, t);
        }
        sections::capacity(&mut doc, &c.capacity);
        json = claims::verdicts_json(&c.verdicts);
    }
    let outputs = format::or_default(&args.format, Format::Markdown);
    format::emit(&outputs, &doc, &json)?;
    Ok(Outcome::Ok)
}
