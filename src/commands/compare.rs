//! `bakeoff compare BASELINE CURRENT`: loads two results (run directories
//! or results files, including `load --output` files), prints the
//! comparison as Markdown or JSON, and ends with [`Outcome::GateFailed`]
//! (exit 1) on any regression. An unreadable input is an error (exit 2)
//! whose message names the file.

use anyhow::Context;

use crate::Outcome;
use crate::cli::CompareArgs;
use crate::compare::compare;
use crate::results::RunResults;

pub async fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let baseline = RunResults::load(&args.baseline).context("loading the baseline")?;
    let current = RunResults::load(&args.current).context("loading the current results")?;
    let report = compare(&baseline, &current, args.threshold);
    // TEMPORARY: markdown or json only, until compare builds a Document.
    super::verify::emit_markdown_or_json(
        "compare",
        &args.format,
        || report.to_markdown(),
        || report.to_json(),
    )?;
    Ok(if report.has_regression() {
        Outcome::GateFailed
    } else {
        Outcome::Ok
    })
}
