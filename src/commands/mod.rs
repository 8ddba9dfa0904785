//! One file per subcommand; `dispatch` routes a parsed command line.

use crate::Outcome;
use crate::cli::{Cli, Command};

mod check;
mod compare;
mod load;
mod report;
mod run;
mod signals;
mod up;
mod verify;

pub async fn dispatch(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Up(args) => up::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Compare(args) => compare::run(args).await,
        Command::Verify(args) => verify::run(args).await,
    }
}
