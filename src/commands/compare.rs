//! `bakeoff compare`.

use crate::Outcome;
use crate::cli::CompareArgs;

pub async fn run(_args: CompareArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff compare` is not implemented yet")
}
