//! Local target processes: starts one variant of targets.toml with its
//! environment on a free port (or the one `BAKEOFF_PORTS` fixes, checked
//! free before spawning), waits until its readiness path answers 200, and
//! reports early exits (with the port and its holder when it was taken) or
//! time-outs with the last lines of its log. Either way the target's
//! process group is stopped before the error is returned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::QueryCounter;
use super::postgres::{self, PgServer};
use super::process::{self, Group, SpawnSpec};
use super::spec::{VariantSpec, resolve_program};
use super::{
    Lab, LabConfig, LabFuture, ResourceSampler, RunningTarget, TargetError, TargetsSpec, bootstrap,
    create_dir, log_tail, ports, secret, versions,
};

/// Lines of log quoted in start-up errors.
const TAIL_LINES: usize = 20;

/// A started local target.
#[derive(Debug)]
pub struct LocalTarget {
    pub group: Group,
    pub port: u16,
    pub base_url: String,
}

/// What every variant gets besides its own env.
#[derive(Debug, Clone)]
pub struct CommonEnv {
    pub database_url: Option<String>,
    pub db_pool: u32,
    /// SECRET_KEY: random per run (Django's signing key; Node ignores it).
    pub secret_key: String,
}

/// The environment of a variant started on `port`.
pub fn environment(v: &VariantSpec, port: u16, common: &CommonEnv) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PORT".into(), port.to_string()),
        ("HOST".into(), "127.0.0.1".into()),
        ("DB_POOL".into(), common.db_pool.to_string()),
        ("SECRET_KEY".into(), common.secret_key.clone()),
    ];
    if let Some(url) = &common.database_url {
        env.push(("DATABASE_URL".into(), url.clone()));
    }
    env.extend(v.env.iter().map(|(k, val)| (k.clone(), val.clone())));
    env
}

/// A control-plane HTTP client: loopback only, so no proxy.
pub fn control_client() -> reqwest::Client {
    control_client_tls(None)
}

/// A control-plane HTTP client trusting what `tls` trusts (https://
/// external targets); None: the system roots.
pub fn control_client_tls(tls: Option<&rustls::ClientConfig>) -> reqwest::Client {
    let tls = tls.cloned().or_else(|| {
        crate::engine::tls::client_config(&Default::default())
            .ok()
            .map(|c| (*c).clone())
    });
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2));
    if let Some(tls) = tls {
        builder = builder.use_preconfigured_tls(tls);
    }
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// Starts `v` on `fixed_port` (checked free first) or a free port, and
/// waits until `GET base_url + readiness` answers 200. On failure the group
/// is stopped before the error is returned.
pub async fn start(
    v: &VariantSpec,
    common: &CommonEnv,
    cpus: &[usize],
    log: &Path,
    timeout: Duration,
    fixed_port: Option<u16>,
) -> Result<LocalTarget, TargetError> {
    let port = match fixed_port {
        Some(p) => {
            ports::ensure_free(p, &format!("target {}", v.name))?;
            p
        }
        None => ports::free_port()?,
    };
    let mut spec = SpawnSpec::new(&v.name, resolve_program(&v.dir, &v.command[0]), log);
    spec.args = v.command[1..].to_vec();
    spec.cwd = Some(v.dir.clone());
    spec.env = environment(v, port, common);
    spec.cpus = cpus.to_vec();
    let mut group = process::spawn(&spec)?;
    let base_url = format!("http://127.0.0.1:{port}");
    let url = format!("{base_url}{}", v.readiness);
    let client = control_client();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = group.try_status() {
            group.stop(process::GRACE).await;
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let port_in_use = text.contains("EADDRINUSE")
                || text.to_ascii_lowercase().contains("address already in use");
            let holder = if port_in_use {
                ports::describe_holder(port)
            } else {
                String::new()
            };
            return Err(TargetError::Exited {
                name: v.name.clone(),
                status: process::describe(status),
                port,
                port_in_use,
                holder,
                log: log.to_path_buf(),
                tail: log_tail(log, TAIL_LINES),
            });
        }
        if let Ok(resp) = client.get(&url).send().await {
            if resp.status() == reqwest::StatusCode::OK {
                return Ok(LocalTarget {
                    group,
                    port,
                    base_url,
                });
            }
        }
        if Instant::now() >= deadline {
            group.stop(process::GRACE).await;
            return Err(TargetError::NotReady {
                name: v.name.clone(),
                url,
                timeout,
                log: log.to_path_buf(),
                tail: log_tail(log, TAIL_LINES),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn environment_has_the_contract_variables() {
        let v = VariantSpec {
            name: "n".into(),
            bootstrap: None,
            dir: "/x".into(),
            command: vec!["node".into()],
            readiness: "/plaintext".into(),
            compose_service: None,
            env: BTreeMap::from([("NODE_ENV".into(), "production".into())]),
            color: None,
        };
        let env: BTreeMap<_, _> = environment(
            &v,
            4321,
            &CommonEnv {
                database_url: Some("postgres://u:p@127.0.0.1:5/d".into()),
                db_pool: 8,
                secret_key: "k".into(),
            },
        )
        .into_iter()
        .collect();
        assert_eq!(env["PORT"], "4321");
        assert_eq!(env["HOST"], "127.0.0.1");
        assert_eq!(env["DB_POOL"], "8");
        assert_eq!(env["DATABASE_URL"], "postgres://u:p@127.0.0.1:5/d");
        assert_eq!(env["NODE_ENV"], "production");
        assert_eq!(env["SECRET_KEY"], "k");
    }
}

/// The lab of local mode: bakeoff starts each target as a pinned process
/// group, with a private PostgreSQL seeded from targets.toml's `[database]`.
#[derive(Debug)]
pub struct LocalLab {
    cfg: LabConfig,
    spec: TargetsSpec,
    pg: Option<PgServer>,
    pg_bindir: Option<PathBuf>,
    running: BTreeMap<String, LocalTarget>,
    /// SECRET_KEY of every target of this run.
    secret_key: String,
    /// `LabConfig::fixed_ports`.
    fixed_ports: BTreeMap<String, u16>,
}

impl LocalLab {
    /// Checks every tool first (all missing ones named at once), then
    /// bootstraps dependencies and starts and seeds PostgreSQL.
    pub async fn prepare(cfg: LabConfig, targets: &[String]) -> Result<LocalLab, TargetError> {
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
        let fixed_ports = cfg.fixed_ports.clone();
        let secret_key = secret::random_hex(32)?;
        if let Some(unknown) = fixed_ports
            .keys()
            .find(|k| k.as_str() != ports::POSTGRES && spec.variant(k).is_err())
        {
            return Err(TargetError::BadEnv {
                var: ports::PORTS_VAR.into(),
                value: ports::describe(&fixed_ports),
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
            Some(_) => match postgres::find_bindir(cfg.pg_bindir.as_deref()) {
                Ok(d) => Some(d),
                Err(e) => {
                    missing.push(e);
                    None
                }
            },
            None => postgres::find_bindir(cfg.pg_bindir.as_deref()).ok(),
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
        // With a [database], a missing bin directory was reported above.
        let pg = match (&spec.database, &pg_bindir) {
            (Some(db), Some(bindir)) => {
                let pools = cfg
                    .db_connections
                    .saturating_mul(targets.len().max(1) as u32);
                let max_connections = pools.saturating_add(20).max(100);
                Some(
                    postgres::start(
                        bindir,
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
            _ => None,
        };
        Ok(LocalLab {
            cfg,
            spec,
            pg,
            pg_bindir,
            running: BTreeMap::new(),
            secret_key,
            fixed_ports,
        })
    }

    fn running_target(name: &str, t: &LocalTarget) -> RunningTarget {
        RunningTarget {
            name: name.to_string(),
            base_url: t.base_url.clone(),
            pgid: Some(t.group.pgid),
        }
    }

    async fn start_target(&mut self, name: &str) -> Result<RunningTarget, TargetError> {
        if let Some(t) = self.running.get_mut(name) {
            if t.group.try_status().is_none() {
                return Ok(Self::running_target(name, t));
            }
            // It died since it was started: reap it and start afresh.
            if let Some(dead) = self.running.remove(name) {
                dead.group.stop(process::GRACE).await;
            }
        }
        let v = self.spec.variant(name)?.clone();
        if let Some(b) = &v.bootstrap {
            let log = bootstrap::log_path(&self.cfg.log_dir, b);
            bootstrap::ensure(b, &self.spec.bootstraps[b], &log).await?;
        }
        let common = CommonEnv {
            database_url: self.pg.as_ref().map(|p| p.url.clone()),
            db_pool: self.cfg.db_connections,
            secret_key: self.secret_key.clone(),
        };
        let log = self.cfg.log_dir.join(format!("{name}.log"));
        let t = start(
            &v,
            &common,
            &self.cfg.server_cpus,
            &log,
            self.cfg.ready_timeout,
            self.fixed_ports.get(name).copied(),
        )
        .await?;
        let r = Self::running_target(name, &t);
        self.running.insert(name.to_string(), t);
        Ok(r)
    }
}

impl Lab for LocalLab {
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget> {
        Box::pin(self.start_target(name))
    }

    fn alive(&mut self, name: &str) -> bool {
        self.running
            .get_mut(name)
            .is_some_and(|t| t.group.try_status().is_none())
    }

    fn stop<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, ()> {
        Box::pin(async move {
            if let Some(t) = self.running.remove(name) {
                t.group.stop(process::GRACE).await;
            }
            Ok(())
        })
    }

    fn sample(&self, name: &str) -> Option<ResourceSampler> {
        self.running
            .get(name)
            .map(|t| ResourceSampler::start(t.group.pgid, self.pg.as_ref().map(PgServer::pid)))
    }

    /// On the private PostgreSQL, as the application role.
    fn restore_database(&self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            match (&self.pg, &self.spec.database) {
                (Some(pg), Some(db)) => pg.restore(db).await,
                _ => Ok(()),
            }
        })
    }

    fn database_url(&self) -> Option<String> {
        self.pg.as_ref().map(|p| p.url.clone())
    }

    /// The private cluster's psql, as the application role.
    fn query_counter(&self) -> Option<QueryCounter> {
        let pg = self.pg.as_ref().filter(|p| p.query_stats)?;
        Some(QueryCounter::psql(&pg.bindir.join("psql"), &pg.url))
    }

    fn process_groups(&self) -> Vec<i32> {
        self.running
            .values()
            .map(|t| t.group.pgid)
            .chain(self.pg.as_ref().map(|p| p.pgid()))
            .collect()
    }

    fn versions(&self) -> BTreeMap<String, String> {
        versions::collect(
            self.spec.variants.iter().map(|v| v.dir.as_path()),
            self.pg_bindir.as_deref(),
        )
    }

    fn shutdown(&mut self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            for (_, t) in std::mem::take(&mut self.running) {
                t.group.stop(process::GRACE).await;
            }
            if let Some(pg) = self.pg.take() {
                pg.stop().await;
            }
            Ok(())
        })
    }
}

impl Drop for LocalLab {
    /// Backstop when [`Lab::shutdown`] was not reached (error, panic):
    /// kills this lab's process groups synchronously.
    fn drop(&mut self) {
        let targets: Vec<i32> = self.running.values().map(|t| t.group.pgid).collect();
        process::kill_groups(&targets);
        self.running.clear();
        if let Some(pg) = self.pg.take() {
            pg.stop_blocking();
        }
    }
}
