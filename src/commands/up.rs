//! `bakeoff up`.

use crate::Outcome;
use crate::cli::UpArgs;

pub async fn run(_args: UpArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`bakeoff up` is not implemented yet")
}
