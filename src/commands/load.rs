//! `bakeoff load`.

use crate::Outcome;
use crate::cli::LoadArgs;

pub async fn run(_args: LoadArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff load` is not implemented yet")
}
