//! `bakeoff verify RUN_DIR [--claims FILE] [--format markdown|json]`:
//! evaluates the claims against a run and prints the verdict table (with
//! the capacity/knee table in Markdown) or `{"claims":[...]}`.
//!
//! Exit code: 0 whenever the verdicts could be computed, whatever they are
//! (a refuted claim is a finding, not a failure of the run; CI gates are
//! `run`'s thresholds and `compare`); 2 when the results or the claims file
//! cannot be read.

use anyhow::Context;

use crate::Outcome;
use crate::claims;
use crate::cli::{ReportFormat, VerifyArgs};
use crate::results::RunResults;

pub async fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let results = RunResults::load(&args.run).context("loading the results")?;
    let file = claims::load(args.claims.as_deref()).context("loading the claims")?;
    let verdicts = claims::evaluate(&results, &file);
    match args.format {
        ReportFormat::Json => {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&claims::verdicts_json(&verdicts))?
            );
        }
        ReportFormat::Markdown => {
            crate::outln!("## Claims and verdicts\n");
            crate::out!("{}", claims::verdict_markdown(&results, &verdicts));
            if let Some(s) = claims::ratio_table_section(&results, &file) {
                crate::outln!("\n## {}\n", s.title);
                crate::out!("{}", s.markdown);
            }
            let cap = claims::capacity::capacity_section(&results, &file.capacity);
            crate::outln!("\n## {}\n", cap.title);
            crate::out!("{}", cap.markdown);
        }
    }
    Ok(Outcome::Ok)
}
