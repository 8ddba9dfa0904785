//! `bakeoff run`.

use crate::Outcome;
use crate::cli::RunArgs;

pub async fn run(_args: RunArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff run` is not implemented yet")
}
