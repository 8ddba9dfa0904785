//! `bakeoff check`.

use crate::Outcome;
use crate::cli::CheckArgs;

pub async fn run(_args: CheckArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff check` is not implemented yet")
}
