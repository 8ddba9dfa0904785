//! One file per subcommand; `dispatch` routes a parsed command line.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Outcome;
use crate::cli::{Cli, Command, TargetsMode};
use crate::targets;

mod check;
mod compare;
mod load;
mod report;
mod run;
mod signals;
mod up;
mod verify;

/// The lab mode a `--targets` flag names.
fn lab_mode(mode: TargetsMode) -> targets::Mode {
    match mode {
        TargetsMode::Local => targets::Mode::Local,
        TargetsMode::Compose => targets::Mode::Compose,
        TargetsMode::External => targets::Mode::External,
    }
}

/// What the environment says about the lab, resolved once per command:
/// the readiness timeout (`BAKEOFF_READY_TIMEOUT`, else the one default)
/// and the fixed ports (`BAKEOFF_PORTS`).
struct LabEnv {
    ready_timeout: Duration,
    fixed_ports: BTreeMap<String, u16>,
}

impl LabEnv {
    fn resolve() -> Result<LabEnv, targets::TargetError> {
        Ok(LabEnv {
            ready_timeout: targets::ready_timeout()?,
            fixed_ports: targets::ports::from_env()?,
        })
    }
}

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
