//! `bakeoff compare BASELINE CURRENT [--format FORMAT[=PATH]]...`: loads
//! two results (run directories or results files, including `load
//! --output` files), analyses each, prints the comparison (Markdown by
//! default, any registered format, or JSON), and ends with
//! [`Outcome::GateFailed`] (exit 1) on any regression. An unreadable input
//! is an error (exit 2) whose message names the file. `--junit FILE` also
//! writes one JUnit test case per compared step ([`crate::report::junit`]).

use anyhow::Context;

use crate::Outcome;
use crate::analysis::analyze;
use crate::cli::CompareArgs;
use crate::compare::compare;
use crate::report::format::{self, Format};
use crate::report::junit;
use crate::results::RunResults;

pub async fn run(args: CompareArgs) -> anyhow::Result<Outcome> {
    let baseline = RunResults::load(&args.baseline).context("loading the baseline")?;
    let current = RunResults::load(&args.current).context("loading the current results")?;
    let report = compare(
        &analyze(&baseline, None, &[]),
        &analyze(&current, None, &[]),
        args.threshold,
    );
    let outputs = format::or_default(&args.format, Format::Markdown);
    format::emit(&outputs, &report.to_document(), &report.to_json())?;
    if let Some(path) = &args.junit {
        let suite = junit::compare_suite(&report, Some(current.provenance.started_at.clone()));
        junit::write(path, &suite)?;
    }
    Ok(if report.has_regression() {
        Outcome::GateFailed
    } else {
        Outcome::Ok
    })
}
