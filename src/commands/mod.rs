//! One file per subcommand; `dispatch` routes a parsed command line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::Outcome;
use crate::cli::{Cli, Command, TargetsMode};
use crate::targets;

mod check;
mod compare;
mod fanout;
mod fit;
mod load;
mod merge;
mod report;
mod run;
mod shard;
mod signals;
mod trend;
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

/// The load generator's transport from its flags.
fn transport_options(args: &crate::cli::TransportArgs) -> crate::engine::TransportOptions {
    crate::engine::TransportOptions {
        cacert: args.tls.cacert.clone(),
        insecure: args.tls.insecure,
        http2: args.http2,
        streams: args.streams,
        client: match args.client {
            crate::cli::ClientArg::Lean => crate::engine::HttpClient::Lean,
            crate::cli::ClientArg::Hyper => crate::engine::HttpClient::Hyper,
        },
    }
}

/// What the environment says about the lab, resolved once per command
/// (`crate::env` lists the variables): the readiness timeout
/// (`BAKEOFF_READY_TIMEOUT`, else the one default), the fixed ports
/// (`BAKEOFF_PORTS`), PostgreSQL's bin directory (`BAKEOFF_PG_BINDIR`) and
/// the compose database's password (`POSTGRES_PASSWORD`).
struct LabEnv {
    ready_timeout: Duration,
    fixed_ports: BTreeMap<String, u16>,
    pg_bindir: Option<PathBuf>,
    compose_db_password: String,
}

impl LabEnv {
    fn resolve() -> Result<LabEnv, targets::TargetError> {
        Ok(LabEnv {
            ready_timeout: targets::ready_timeout()?,
            fixed_ports: targets::ports::from_env()?,
            pg_bindir: crate::env::pg_bindir(),
            compose_db_password: crate::env::postgres_password(),
        })
    }
}

pub async fn dispatch(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Load(args) => load::run(*args).await,
        Command::Fanout(args) => fanout::run(*args).await,
        Command::Up(args) => up::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Compare(args) => compare::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Merge(args) => merge::run(args),
        Command::Fit(args) => fit::run(args),
        Command::Trend(args) => trend::run(args).await,
    }
}
