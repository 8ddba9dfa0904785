//! Target lifecycle: dependency bootstrap, private PostgreSQL, local target
//! processes (pinned, each in its own process group), compose and external
//! targets, resource sampling (the target's processes and, in local mode,
//! the private PostgreSQL's: [`sampler`]), restoring the database to its
//! seed state before each target ([`Lab::restore_database`]) and teardown.
//! [`Lab`] is the one interface the commands and the runner use, with one
//! implementation per [`Mode`] ([`local::LocalLab`], [`compose::ComposeLab`],
//! [`external::ExternalLab`]) chosen once by [`prepare`]; the submodules
//! each own one piece. What to start comes from `targets/targets.toml` ([`spec`]);
//! what to measure is not this module's business.
//!
//! Ports are picked by binding 127.0.0.1:0 and closing the socket before the
//! target binds it: another process could take the port in between. That
//! race is rare and reported clearly (the target exits, its log says
//! EADDRINUSE, the error names the port and its holder).
//!
//! Environment variables that concern targets (for users and for tests
//! that need to provoke a failure through the real binary) are listed and
//! read in `crate::env`; the commands resolve `BAKEOFF_TARGETS`
//! ([`targets_root`]), `BAKEOFF_PORTS` ([`ports::from_env`], checked free
//! before anything is spawned on them) and `BAKEOFF_READY_TIMEOUT`
//! ([`ready_timeout`]) into [`LabConfig`]. Every missing tool (PATH) is
//! named, with what to install, before anything starts.
//!
//! Queries are counted from the database's statistics ([`querystats`]):
//! [`Lab::query_counter`] says how to read them.
//!
//! Secrets are per run in local mode ([`secret`]): the PostgreSQL passwords
//! (the cluster uses scram-sha-256) and the targets' `SECRET_KEY`.

pub mod bootstrap;
pub mod compose;
mod error;
pub mod external;
pub mod local;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod querystats;
pub mod sampler;
pub mod secret;
pub mod spec;
pub mod versions;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

pub use error::TargetError;
pub(crate) use error::log_tail;
pub use querystats::{CounterSession, QueryCounter, QueryCounts};
pub use sampler::ResourceSampler;
pub use spec::TargetsSpec;

/// Where the targets run: which [`Lab`] implementation a run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Local processes started by bakeoff, with a private PostgreSQL.
    Local,
    /// `docker compose` services.
    Compose,
    /// Already-running targets at given URLs; bakeoff starts nothing.
    External,
}

impl Mode {
    /// The name recorded in results (`provenance.targets_mode`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Compose => "compose",
            Mode::External => "external",
        }
    }
}

/// Everything the lifecycle needs to know about a run.
#[derive(Debug, Clone)]
pub struct LabConfig {
    pub mode: Mode,
    /// The targets/ dir (see [`targets_root`]).
    pub targets_root: PathBuf,
    /// `logs/<target>.log`, `logs/postgres.log` and bootstrap logs go here.
    pub log_dir: PathBuf,
    /// Scratch for the private PostgreSQL (its cluster is removed at shutdown).
    pub state_dir: PathBuf,
    /// Targets and PostgreSQL are pinned to these CPUs (empty = no pinning).
    pub server_cpus: Vec<usize>,
    /// DB_POOL of every target.
    pub db_connections: u32,
    /// External mode: name → base URL.
    pub urls: BTreeMap<String, String>,
    pub allow_remote: bool,
    /// How long a target (and PostgreSQL) gets to become ready
    /// ([`ready_timeout`] resolves it).
    pub ready_timeout: Duration,
    /// Local mode: fixed loopback ports by variant (and `postgres`), from
    /// `BAKEOFF_PORTS` ([`ports::from_env`]); the rest are picked free.
    pub fixed_ports: BTreeMap<String, u16>,
    /// Local mode: where `initdb`, `postgres` and `psql` are
    /// (`BAKEOFF_PG_BINDIR`); None = search for them.
    pub pg_bindir: Option<PathBuf>,
    /// Compose mode: the database password of docker-compose.yml
    /// (`POSTGRES_PASSWORD`, default `bakeoff`), for `database_url`.
    pub compose_db_password: String,
    /// TLS of the control plane's requests to https:// external targets
    /// (system roots plus `--cacert`, or `--insecure`); None = system roots.
    pub control_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// A target that answers requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningTarget {
    pub name: String,
    /// "http://127.0.0.1:PORT", no trailing slash.
    pub base_url: String,
    /// Process group of a local target (None for compose and external).
    pub pgid: Option<i32>,
}

/// What the async methods of [`Lab`] return.
pub type LabFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TargetError>> + 'a>>;

/// The targets of one run and everything started for them: one
/// implementation per [`Mode`], made by [`prepare`]. Dropping a lab (error,
/// panic, interruption) kills synchronously whatever it still owns.
pub trait Lab: std::fmt::Debug {
    /// Starts one target and waits until its readiness path answers 200;
    /// returns its URL. A running target is returned as is; one that died
    /// since it was started is reaped and started afresh.
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget>;

    /// Whether a started target is still running. True when the lab cannot
    /// tell (compose, external).
    fn alive(&mut self, name: &str) -> bool;

    /// Stops one target; a no-op when it is not running or the lab does
    /// not own it.
    fn stop<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, ()>;

    /// Begins sampling a running target's resources every ~250 ms (its
    /// process group and the private PostgreSQL's). None when the lab
    /// cannot see its processes or `name` is not running.
    fn sample(&self, name: &str) -> Option<ResourceSampler>;

    /// Brings the database back to its seed state, so every target starts
    /// from the same rows (`/updates` rewrites `world`): the tables of
    /// targets.toml's schema hold exactly the rows of its seed file again,
    /// then `VACUUM (FULL, ANALYZE)` rewrites them so a table bloated by
    /// the previous target does not slow the next
    /// ([`postgres::restore_script`]). Ok with nothing to do when the lab
    /// does not own the database (external) or targets.toml has none.
    ///
    /// Fails, naming the database and seed file, if the script fails or a
    /// lock held elsewhere keeps it waiting for 30 s.
    fn restore_database(&self) -> LabFuture<'_, ()>;

    /// A URL of the targets' database, when the lab knows it.
    fn database_url(&self) -> Option<String> {
        None
    }

    /// How to read the targets' database's query counters
    /// ([`querystats`]), when the lab knows the database and it counts
    /// statements (local: the private cluster found `pg_stat_statements`;
    /// compose: psql inside the database service).
    fn query_counter(&self) -> Option<QueryCounter> {
        None
    }

    /// Process groups of the running targets and PostgreSQL it started.
    fn process_groups(&self) -> Vec<i32> {
        Vec::new()
    }

    /// node, npm, express, python, django, gunicorn, uvicorn, postgresql
    /// versions, as found (best effort, never fails).
    fn versions(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// What provenance should say about how this lab ran the targets
    /// (compose: the CPU set every service got), beyond the CPU layout.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Stops everything this lab started (targets, then PostgreSQL; or
    /// `docker compose down`). Idempotent.
    fn shutdown(&mut self) -> LabFuture<'_, ()>;
}

/// Validates that the tools exist, bootstraps the dependencies of
/// `targets` and starts and seeds PostgreSQL (local); builds the images and
/// starts the database service (compose); checks the URLs (external).
pub async fn prepare(cfg: LabConfig, targets: &[String]) -> Result<Box<dyn Lab>, TargetError> {
    Ok(match cfg.mode {
        Mode::Local => Box::new(local::LocalLab::prepare(cfg, targets).await?),
        Mode::Compose => Box::new(compose::ComposeLab::prepare(cfg, targets).await?),
        Mode::External => Box::new(external::ExternalLab::prepare(&cfg, targets).await?),
    })
}

/// Binds 127.0.0.1:0 and returns the port the kernel picked (see the module
/// doc for the race this leaves).
pub fn free_port() -> Result<u16, TargetError> {
    ports::free_port()
}

/// How long a target (and PostgreSQL) gets to become ready, unless
/// `BAKEOFF_READY_TIMEOUT` says otherwise ([`ready_timeout`]): the one
/// default of every command.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// The readiness timeout of a command: `BAKEOFF_READY_TIMEOUT` (seconds,
/// "2", "0.5", or a duration, "500ms", "3m"; more than 0, at most a day)
/// if set, else [`READY_TIMEOUT`]. Called once, by the commands.
pub fn ready_timeout() -> Result<Duration, TargetError> {
    match crate::env::ready_timeout() {
        Some(value) => parse_ready_timeout(&value),
        None => Ok(READY_TIMEOUT),
    }
}

fn parse_ready_timeout(value: &str) -> Result<Duration, TargetError> {
    crate::duration::parse(value, crate::duration::Bare::Seconds)
        .ok()
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
        .ok_or_else(|| TargetError::BadEnv {
            var: crate::env::READY_TIMEOUT.into(),
            value: value.into(),
            reason: "use seconds (\"30\") or a number with a unit (\"500ms\", \"30s\", \"2m\"), more than 0 and at most a day".into(),
        })
}

/// The repository's targets/ dir: $BAKEOFF_TARGETS if set, else ./targets
/// if it exists, else CARGO_MANIFEST_DIR/targets (compile-time) if it exists.
pub fn targets_root() -> Result<PathBuf, TargetError> {
    if let Some(dir) = crate::env::targets_dir() {
        return Ok(dir);
    }
    let local = PathBuf::from("targets");
    if local.join(spec::SPEC_FILE).is_file() {
        return local.canonicalize().or(Ok(local));
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets");
    if built.is_dir() {
        return Ok(built);
    }
    if local.is_dir() {
        return Ok(local);
    }
    Err(TargetError::NoTargetsRoot)
}

fn create_dir(dir: &Path) -> Result<(), TargetError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| TargetError::io(format!("cannot create {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_timeouts_parse_with_or_without_unit() {
        assert_eq!(parse_ready_timeout("2").unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse_ready_timeout("0.5").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_ready_timeout("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_ready_timeout("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_ready_timeout("2m").unwrap(), Duration::from_secs(120));
        // The one duration grammar: hours too, up to a day.
        assert_eq!(
            parse_ready_timeout("1h").unwrap(),
            Duration::from_secs(3600)
        );
        for bad in ["", "0", "-1", "soon", "25h", "2d", "nan"] {
            let msg = parse_ready_timeout(bad).unwrap_err().to_string();
            assert!(
                msg.starts_with("invalid BAKEOFF_READY_TIMEOUT="),
                "{bad}: {msg}"
            );
        }
        assert_eq!(error::seconds(Duration::from_secs(2)), "2 s");
        assert_eq!(error::seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
