//! Target lifecycle: dependency bootstrap, private PostgreSQL, local target
//! processes (pinned, each in its own process group), compose and external
//! targets, resource sampling (the target's processes and, in local mode,
//! the private PostgreSQL's: [`sampler`]), restoring the database to its
//! seed state before each target ([`Lab::restore_database`]) and teardown.
//! [`Lab`] is the one entry point the commands use; the submodules each own
//! one piece. What to start comes from `targets/targets.toml` ([`spec`]);
//! what to measure is not this module's business.
//!
//! Ports are picked by binding 127.0.0.1:0 and closing the socket before the
//! target binds it: another process could take the port in between. That
//! race is rare and reported clearly (the target exits, its log says
//! EADDRINUSE, the error names the port and its holder).
//!
//! Environment variables read here (for users and for tests that need to
//! provoke a failure through the real binary):
//!
//! - `BAKEOFF_TARGETS`: the targets/ directory ([`targets_root`]).
//! - `BAKEOFF_PORTS=name=port,...`: fixed loopback ports for variants and
//!   `postgres` ([`ports`]); a fixed port is checked free before anything
//!   is spawned on it.
//! - `BAKEOFF_READY_TIMEOUT`: how long a target (and PostgreSQL) gets to
//!   become ready, in seconds ("2", "0.5") or with a unit ("500ms", "2s",
//!   "3m"); overrides the command's default ([`ready_timeout_override`]).
//! - `BAKEOFF_PG_BINDIR`: the directory holding `initdb`, `postgres` and
//!   `psql`, instead of searching for it ([`postgres::find_bindir`]).
//! - `PATH`: where node, npm and python3 are looked for; every missing tool
//!   is named, with what to install, before anything starts.
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
pub mod sampler;
pub mod secret;
pub mod spec;
pub mod versions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::TargetError;
pub(crate) use error::log_tail;
pub use sampler::ResourceSampler;
pub use spec::TargetsSpec;

use crate::cli::TargetsMode;
use local::{CommonEnv, LocalTarget};
use postgres::PgServer;

/// Everything the lifecycle needs to know about a run.
#[derive(Debug, Clone)]
pub struct LabConfig {
    pub mode: TargetsMode,
    /// The targets/ dir (see [`targets_root`]).
    pub targets_root: PathBuf,
    /// logs/<target>.log, logs/postgres.log and bootstrap logs go here.
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
    pub ready_timeout: Duration,
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

/// Mode-specific state.
// One per Lab: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Backend {
    Local {
        spec: TargetsSpec,
        pg: Option<PgServer>,
        pg_bindir: Option<PathBuf>,
        running: BTreeMap<String, LocalTarget>,
        /// SECRET_KEY of every target of this run.
        secret_key: String,
        /// BAKEOFF_PORTS.
        fixed_ports: BTreeMap<String, u16>,
    },
    Compose {
        file: PathBuf,
        urls: BTreeMap<String, String>,
        database_url: Option<String>,
        /// The seed file of targets.toml's [database], if it has one.
        seed: Option<PathBuf>,
        up: bool,
    },
    External {
        urls: BTreeMap<String, String>,
    },
}

/// The targets of one run and everything started for them.
#[derive(Debug)]
pub struct Lab {
    cfg: LabConfig,
    backend: Backend,
}

/// Binds 127.0.0.1:0 and returns the port the kernel picked (see the module
/// doc for the race this leaves).
pub fn free_port() -> Result<u16, TargetError> {
    ports::free_port()
}

/// The environment variable overriding the readiness timeout.
pub const READY_TIMEOUT_VAR: &str = "BAKEOFF_READY_TIMEOUT";

/// `BAKEOFF_READY_TIMEOUT` if set: seconds ("2", "0.5") or a number with a
/// unit (ms, s, m). Invalid values are an error naming the variable.
pub fn ready_timeout_override() -> Result<Option<Duration>, TargetError> {
    let Ok(value) = std::env::var(READY_TIMEOUT_VAR) else {
        return Ok(None);
    };
    parse_timeout(&value).map(Some)
}

fn parse_timeout(value: &str) -> Result<Duration, TargetError> {
    crate::duration::parse(value, crate::duration::Bare::Seconds)
        .ok()
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
        .ok_or_else(|| TargetError::BadEnv {
            var: READY_TIMEOUT_VAR.into(),
            value: value.into(),
            reason: "use seconds (\"30\") or a number with a unit (\"500ms\", \"30s\", \"2m\"), more than 0 and at most a day".into(),
        })
}

/// The repository's targets/ dir: $BAKEOFF_TARGETS if set, else ./targets
/// if it exists, else CARGO_MANIFEST_DIR/targets (compile-time) if it exists.
pub fn targets_root() -> Result<PathBuf, TargetError> {
    if let Some(dir) = std::env::var_os("BAKEOFF_TARGETS") {
        return Ok(PathBuf::from(dir));
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

impl Lab {
    /// Validates that the tools exist, bootstraps the dependencies of
    /// `targets` and starts and seeds PostgreSQL (Local); `docker compose up
    /// -d --wait` (Compose); checks the URLs (External).
    pub async fn prepare(mut cfg: LabConfig, targets: &[String]) -> Result<Lab, TargetError> {
        if let Some(t) = ready_timeout_override()? {
            cfg.ready_timeout = t;
        }
        let backend = match cfg.mode {
            TargetsMode::Local => prepare_local(&cfg, targets).await?,
            TargetsMode::Compose => prepare_compose(&cfg, targets).await?,
            TargetsMode::External => {
                let mut urls = BTreeMap::new();
                for name in targets {
                    let url = cfg
                        .urls
                        .get(name)
                        .ok_or_else(|| TargetError::MissingUrl { name: name.clone() })?;
                    let url = external::validate(name, url, cfg.allow_remote)?;
                    external::check_reachable(name, &url).await?;
                    urls.insert(name.clone(), url);
                }
                Backend::External { urls }
            }
        };
        Ok(Lab { cfg, backend })
    }

    /// Starts one target (Local) and waits until its readiness path answers
    /// 200; returns its URL. Starting a running target returns it as is.
    pub async fn start(&mut self, name: &str) -> Result<RunningTarget, TargetError> {
        match &mut self.backend {
            Backend::Local {
                spec,
                pg,
                running,
                secret_key,
                fixed_ports,
                ..
            } => {
                if let Some(t) = running.get_mut(name) {
                    if t.group.try_status().is_none() {
                        return Ok(running_target(name, t));
                    }
                    // It died since it was started: reap it and start afresh.
                    if let Some(dead) = running.remove(name) {
                        dead.group.stop(process::GRACE).await;
                    }
                }
                let v = spec.variant(name)?.clone();
                if let Some(b) = &v.bootstrap {
                    let log = bootstrap::log_path(&self.cfg.log_dir, b);
                    bootstrap::ensure(b, &spec.bootstraps[b], &log).await?;
                }
                let common = CommonEnv {
                    database_url: pg.as_ref().map(|p| p.url.clone()),
                    db_pool: self.cfg.db_connections,
                    secret_key: secret_key.clone(),
                };
                let log = self.cfg.log_dir.join(format!("{name}.log"));
                let t = local::start(
                    &v,
                    &common,
                    &self.cfg.server_cpus,
                    &log,
                    self.cfg.ready_timeout,
                    fixed_ports.get(name).copied(),
                )
                .await?;
                let r = running_target(name, &t);
                running.insert(name.to_string(), t);
                Ok(r)
            }
            Backend::Compose { urls, .. } | Backend::External { urls } => {
                let base_url = urls
                    .get(name)
                    .ok_or_else(|| TargetError::MissingUrl {
                        name: name.to_string(),
                    })?
                    .clone();
                Ok(RunningTarget {
                    name: name.to_string(),
                    base_url,
                    pgid: None,
                })
            }
        }
    }

    /// Stops one target (Local); a no-op elsewhere or when it is not running.
    pub async fn stop(&mut self, name: &str) -> Result<(), TargetError> {
        if let Backend::Local { running, .. } = &mut self.backend {
            if let Some(t) = running.remove(name) {
                t.group.stop(process::GRACE).await;
            }
        }
        Ok(())
    }

    /// Begins sampling a running local target every ~250 ms: the CPU time,
    /// RSS and process count of its process group, and the CPU time of the
    /// private PostgreSQL (postmaster and descendants) when this run has
    /// one. None for other modes, or when `name` is not running.
    pub fn sample(&self, name: &str) -> Option<ResourceSampler> {
        match &self.backend {
            Backend::Local { running, pg, .. } => running
                .get(name)
                .map(|t| ResourceSampler::start(t.group.pgid, pg.as_ref().map(PgServer::pid))),
            _ => None,
        }
    }

    /// Brings the database back to its seed state, so every target starts
    /// from the same rows (`/updates` rewrites `world`): the tables of
    /// targets.toml's schema hold exactly the rows of its seed file again,
    /// then `VACUUM (FULL, ANALYZE)` rewrites them so a table bloated by
    /// the previous target does not slow the next ([`postgres::restore_script`]).
    ///
    /// - Local: on the private PostgreSQL, as the application role.
    /// - Compose: the same script through `docker compose exec postgres psql`
    ///   (as `POSTGRES_USER`, who owns the tables there).
    /// - External, or no `[database]` in targets.toml: nothing to do, Ok;
    ///   bakeoff does not own an external target's database, so its state
    ///   between targets is the user's business.
    ///
    /// Fails, naming the database and seed file, if the script fails or a
    /// lock held elsewhere keeps it waiting for 30 s.
    pub async fn restore_database(&self) -> Result<(), TargetError> {
        match &self.backend {
            Backend::Local { spec, pg, .. } => match (pg, &spec.database) {
                (Some(pg), Some(db)) => pg.restore(db).await,
                _ => Ok(()),
            },
            Backend::Compose { file, seed, .. } => match seed {
                Some(seed) => compose::restore(file, seed).await,
                None => Ok(()),
            },
            Backend::External { .. } => Ok(()),
        }
    }

    pub fn database_url(&self) -> Option<String> {
        match &self.backend {
            Backend::Local { pg, .. } => pg.as_ref().map(|p| p.url.clone()),
            Backend::Compose { database_url, .. } => database_url.clone(),
            Backend::External { .. } => None,
        }
    }

    /// Process groups of the running local targets and PostgreSQL.
    pub fn process_groups(&self) -> Vec<i32> {
        match &self.backend {
            Backend::Local { pg, running, .. } => running
                .values()
                .map(|t| t.group.pgid)
                .chain(pg.as_ref().map(|p| p.pgid()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// node, npm, express, python, django, gunicorn, uvicorn, postgresql
    /// versions, as found (best effort, never fails).
    pub fn versions(&self) -> BTreeMap<String, String> {
        match &self.backend {
            Backend::Local {
                spec, pg_bindir, ..
            } => versions::collect(
                spec.variants.iter().map(|v| v.dir.as_path()),
                pg_bindir.as_deref(),
            ),
            Backend::Compose { .. } | Backend::External { .. } => BTreeMap::new(),
        }
    }

    /// Stops everything this Lab started (targets, then PostgreSQL; or
    /// `docker compose down`).
    pub async fn shutdown(mut self) -> Result<(), TargetError> {
        match &mut self.backend {
            Backend::Local { pg, running, .. } => {
                for (_, t) in std::mem::take(running) {
                    t.group.stop(process::GRACE).await;
                }
                if let Some(pg) = pg.take() {
                    pg.stop().await;
                }
                Ok(())
            }
            Backend::Compose { file, up, .. } => {
                if *up {
                    *up = false;
                    compose::down(file).await?;
                }
                Ok(())
            }
            Backend::External { .. } => Ok(()),
        }
    }

    pub fn config(&self) -> &LabConfig {
        &self.cfg
    }
}

impl Drop for Lab {
    /// Backstop when [`Lab::shutdown`] was not reached (error, panic):
    /// kills this Lab's process groups synchronously.
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Local { pg, running, .. } => {
                let targets: Vec<i32> = running.values().map(|t| t.group.pgid).collect();
                process::kill_groups(&targets);
                running.clear();
                if let Some(pg) = pg.take() {
                    pg.stop_blocking();
                }
            }
            Backend::Compose { file, up, .. } => {
                if *up {
                    let cmd = compose::down_command(file);
                    let _ = std::process::Command::new(&cmd[0]).args(&cmd[1..]).status();
                }
            }
            Backend::External { .. } => {}
        }
    }
}

fn running_target(name: &str, t: &LocalTarget) -> RunningTarget {
    RunningTarget {
        name: name.to_string(),
        base_url: t.base_url.clone(),
        pgid: Some(t.group.pgid),
    }
}

async fn prepare_local(cfg: &LabConfig, targets: &[String]) -> Result<Backend, TargetError> {
    let spec = TargetsSpec::load(&cfg.targets_root)?;
    let variants = targets
        .iter()
        .map(|t| spec.variant(t).cloned())
        .collect::<Result<Vec<_>, _>>()?;
    let mut needed: Vec<&str> = variants
        .iter()
        .filter_map(|v| v.bootstrap.as_deref())
        .collect();
    needed.sort();
    needed.dedup();
    let fixed_ports = ports::from_env()?;
    let secret_key = secret::random_hex(32)?;
    if let Some(unknown) = fixed_ports
        .keys()
        .find(|k| k.as_str() != ports::POSTGRES && spec.variant(k).is_err())
    {
        return Err(TargetError::BadEnv {
            var: ports::PORTS_VAR.into(),
            value: std::env::var(ports::PORTS_VAR).unwrap_or_default(),
            reason: format!(
                "{unknown} is neither a variant of {} ({}) nor postgres",
                spec.file.display(),
                spec.names().join(", ")
            ),
        });
    }
    // Every missing tool is reported, all at once, before anything is
    // installed or started.
    let mut tools: Vec<&str> = needed
        .iter()
        .flat_map(|b| spec.bootstraps[*b].requires.iter().map(String::as_str))
        .chain(
            variants
                .iter()
                .map(|v| v.command[0].as_str())
                .filter(|p| !p.contains('/')),
        )
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    tools.retain(|t| seen.insert(*t));
    let mut missing: Vec<TargetError> = tools
        .into_iter()
        .filter_map(|t| bootstrap::require_tools([t]).err())
        .collect();
    let pg_bindir = match &spec.database {
        Some(_) => match postgres::find_bindir() {
            Ok(d) => Some(d),
            Err(e) => {
                missing.push(e);
                None
            }
        },
        None => postgres::find_bindir().ok(),
    };
    match missing.len() {
        0 => {}
        1 => return Err(missing.remove(0)),
        _ => return Err(TargetError::ToolsMissing(missing)),
    }
    // A fixed port that is taken fails here, before anything is installed.
    for (name, &port) in &fixed_ports {
        let who = if name == ports::POSTGRES {
            "PostgreSQL".to_string()
        } else {
            format!("target {name}")
        };
        if name != ports::POSTGRES || spec.database.is_some() {
            ports::ensure_free(port, &who)?;
        }
    }
    create_dir(&cfg.log_dir)?;
    create_dir(&cfg.state_dir)?;
    for b in needed {
        let log = bootstrap::log_path(&cfg.log_dir, b);
        bootstrap::ensure(b, &spec.bootstraps[b], &log).await?;
    }
    let pg = match &spec.database {
        Some(db) => {
            let pools = cfg
                .db_connections
                .saturating_mul(targets.len().max(1) as u32);
            let max_connections = pools.saturating_add(20).max(100);
            Some(
                postgres::start(
                    db,
                    &cfg.state_dir,
                    &cfg.log_dir.join("postgres.log"),
                    &cfg.server_cpus,
                    max_connections,
                    cfg.ready_timeout,
                    fixed_ports.get(ports::POSTGRES).copied(),
                )
                .await?,
            )
        }
        None => None,
    };
    Ok(Backend::Local {
        spec,
        pg,
        pg_bindir,
        running: BTreeMap::new(),
        secret_key,
        fixed_ports,
    })
}

async fn prepare_compose(cfg: &LabConfig, targets: &[String]) -> Result<Backend, TargetError> {
    compose::check_docker().await?;
    let spec = TargetsSpec::load(&cfg.targets_root).ok();
    let file = compose::compose_file(&cfg.targets_root);
    let yaml = std::fs::read_to_string(&file).ok();
    let mut services = Vec::new();
    let mut urls = BTreeMap::new();
    for name in targets {
        let service = spec
            .as_ref()
            .and_then(|s| s.variant(name).ok())
            .map(|v| v.service().to_string())
            .unwrap_or_else(|| name.clone());
        let url = compose::service_url(yaml.as_deref(), &service).ok_or_else(|| {
            TargetError::Compose(format!(
                "service {service} publishes no port in {}",
                file.display()
            ))
        })?;
        services.push(service);
        urls.insert(name.clone(), url);
    }
    let database_url = match (&spec, &yaml) {
        (
            Some(TargetsSpec {
                database: Some(db), ..
            }),
            Some(y),
        ) => compose::published_port(y, "postgres").map(|p| {
            // docker-compose.yml's default, unless overridden as it says.
            let password = std::env::var("POSTGRES_PASSWORD").unwrap_or_else(|_| "bakeoff".into());
            format!(
                "postgres://{}:{password}@127.0.0.1:{p}/{}",
                db.user, db.name
            )
        }),
        _ => None,
    };
    let seed = spec
        .as_ref()
        .and_then(|s| s.database.as_ref())
        .map(|db| db.seed.clone());
    compose::up(
        &file,
        &services,
        cfg.db_connections,
        Duration::from_secs(600),
    )
    .await?;
    Ok(Backend::Compose {
        file,
        urls,
        database_url,
        seed,
        up: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_timeouts_parse_with_or_without_unit() {
        assert_eq!(parse_timeout("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_timeout("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
        // The one duration grammar: hours too, up to a day.
        assert_eq!(parse_timeout("1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "0", "-1", "soon", "25h", "2d", "nan"] {
            let msg = parse_timeout(bad).unwrap_err().to_string();
            assert!(
                msg.starts_with("invalid BAKEOFF_READY_TIMEOUT="),
                "{bad}: {msg}"
            );
        }
        assert_eq!(error::seconds(Duration::from_secs(2)), "2 s");
        assert_eq!(error::seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
