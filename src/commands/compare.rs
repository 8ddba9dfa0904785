//! `bakeoff compare BASELINE CURRENT`: loads two results (run directories
//! or results files, including `load --output` files), prints the
//! comparison as Markdown or JSON, and ends with [`Outcome::GateFailed`]
//! (exit 1) on any regression. An unreadable input is an error (exit 2)
//! whose message names the file.

use anyhow::Context;

use crate::Outcome;
use crate::cli::{CompareArgs, ReportFormat};
use crate::compare::compare;
use crate::results::RunResults;

pub async fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let baseline = RunResults::load(&args.baseline).context("loading the baseline")?;
    let current = RunResults::load(&args.current).context("loading the current results")?;
    let report = compare(&baseline, &current, args.threshold);
    match args.format {
        ReportFormat::Markdown => crate::out!("{}", report.to_markdown()),
        ReportFormat::Json => crate::outln!("{}", serde_json::to_string_pretty(&report.to_json())?),
    }
    Ok(if report.has_regression() {
        Outcome::GateFailed
    } else {
        Outcome::Ok
    })
}
