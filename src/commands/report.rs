//! `bakeoff report`.

use crate::Outcome;
use crate::cli::ReportArgs;

pub async fn run(_args: ReportArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff report` is not implemented yet")
}
