//! `bakeoff verify`.

use crate::Outcome;
use crate::cli::VerifyArgs;

pub async fn run(_args: VerifyArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff verify` is not implemented yet")
}
