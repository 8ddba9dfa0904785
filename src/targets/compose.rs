//! `--targets compose`: the reference targets as services of
//! docker-compose.yml, driven by whichever compose CLI is installed (the
//! `docker compose` plugin or Debian's `docker-compose` v1, [`detect_cli`]),
//! against any engine that serves the Docker API (Docker, or podman as
//! `scripts/container-engine.sh` sets it up).
//!
//! The lifecycle mirrors local mode: [`ComposeLab::prepare`] builds the
//! images, starts the database and waits until it is seeded; each target is
//! started on its turn (`up -d --no-deps`, then its readiness path over HTTP
//! to the ready timeout) and removed after it (`rm --stop`), its log kept in
//! `logs/<target>.log`; shutdown is `down -v`, as is dropping the lab
//! (error, panic, Ctrl-C), so no container, network or volume of the project
//! is left. Every service gets the suite's server CPUs as its `cpuset`
//! (`TARGET_CPUSET`, `TARGET_CPUS`). The versions each image actually runs
//! are probed once, at prepare. The database is restored to its seed by
//! piping [`super::postgres::restore_script`] into psql inside the
//! `postgres` service. The command lines themselves are [`project`].

pub mod project;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use project::{
    ComposeCli, DATABASE_SERVICE, DEFAULT_PORTS, PROJECT, Project, compose_file, interpolate,
    published_port, service_url,
};

use super::bootstrap::install_hint;
use super::process;
use super::{Lab, LabConfig, LabFuture, ResourceSampler, RunningTarget, TargetError, TargetsSpec};

/// How long building the images may take (npm ci and pip install inside).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);
/// Any other compose command (up, rm, down, exec).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// Lines of a target's log in an error.
const TAIL_LINES: usize = 20;

/// What a finished command printed.
struct Output {
    stdout: String,
}

/// Runs `cmd` with `env`, `input` on its stdin when given; fails with its
/// stderr when it does.
async fn run_with_input(
    cmd: &[String],
    env: &[(String, String)],
    input: Option<&str>,
    timeout: Duration,
) -> Result<Output, TargetError> {
    use tokio::io::AsyncWriteExt;
    let line = cmd.join(" ");
    let mut spawned = tokio::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| TargetError::Compose(format!("cannot run `{line}`: {e}")))?;
    let stdin = spawned.stdin.take();
    let child = async move {
        // Fed while the output is read, so a full pipe blocks neither side;
        // a command that stops reading early says why on stderr.
        let feed = async move {
            if let (Some(mut stdin), Some(text)) = (stdin, input) {
                let _ = stdin.write_all(text.as_bytes()).await;
            }
        };
        tokio::join!(feed, spawned.wait_with_output()).1
    };
    let out = tokio::time::timeout(timeout, child)
        .await
        .map_err(|_| {
            TargetError::Compose(format!(
                "`{line}` did not finish within {} s",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| TargetError::Compose(format!("cannot run `{line}`: {e}")))?;
    if out.status.success() {
        Ok(Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        })
    } else {
        Err(TargetError::Compose(format!(
            "`{line}` failed ({}): {}",
            process::describe(out.status),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

async fn run(
    cmd: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<Output, TargetError> {
    run_with_input(cmd, env, None, timeout).await
}

/// The compose CLI of this machine: `docker compose` if the plugin answers
/// `version`, else `docker-compose`; with its version ("docker-compose
/// 1.29.2"). Fails naming both when neither runs.
pub async fn detect_cli() -> Result<(ComposeCli, String), TargetError> {
    for cli in [ComposeCli::Plugin, ComposeCli::Standalone] {
        if process::which(cli.program()[0]).is_none() {
            continue;
        }
        if let Ok(out) = run(&cli.version_command(), &[], Duration::from_secs(30)).await {
            return Ok((cli, cli.describe(&out.stdout)));
        }
    }
    Err(TargetError::ToolMissing {
        tool: "docker compose (or docker-compose)".into(),
        hint: install_hint("docker"),
    })
}

/// Fails early, with what to do, if the engine does not answer.
async fn check_engine(project: &Project) -> Result<(), TargetError> {
    run(&project.ps_command(), &project.env, Duration::from_secs(60))
        .await
        .map(drop)
        .map_err(|e| {
            TargetError::Compose(format!(
                "no usable container engine ({e}); start Docker, or on a machine without it run `eval \"$(scripts/container-engine.sh)\"` (podman), or use --targets local (the default)"
            ))
        })
}

/// "Podman Engine 4.3.1" or "Engine 27.0.3": the engine behind DOCKER_HOST,
/// when the `docker` CLI is there to ask; None otherwise.
async fn engine_version() -> Option<String> {
    process::which("docker")?;
    let cmd: Vec<String> = [
        "docker",
        "version",
        "--format",
        "{{range .Server.Components}}{{.Name}} {{.Version}};{{end}}",
    ]
    .map(String::from)
    .into();
    let out = run(&cmd, &[], Duration::from_secs(20)).await.ok()?;
    out.stdout
        .split(';')
        .map(str::trim)
        .find(|c| !c.is_empty())
        .map(str::to_string)
}

/// One target of the project: its service, URL and readiness path.
#[derive(Debug, Clone)]
struct Service {
    service: String,
    base_url: String,
    readiness: String,
}

/// The lab of compose mode (see the module doc for its lifecycle).
#[derive(Debug)]
pub struct ComposeLab {
    project: Project,
    targets: BTreeMap<String, Service>,
    running: BTreeMap<String, Service>,
    database_url: Option<String>,
    /// The seed file of targets.toml's [database], if it has one.
    seed: Option<PathBuf>,
    log_dir: PathBuf,
    ready_timeout: Duration,
    versions: BTreeMap<String, String>,
    /// Something may have been created: `down` at shutdown or drop.
    up: bool,
}

impl ComposeLab {
    /// Finds the CLI and each target's service and port, checks the
    /// engine, builds the images, starts the database and waits for its
    /// seed, and probes the images' versions. Dropped half-way (error,
    /// Ctrl-C), the lab takes the project down.
    pub async fn prepare(cfg: LabConfig, targets: &[String]) -> Result<ComposeLab, TargetError> {
        let (cli, cli_version) = detect_cli().await?;
        let spec = TargetsSpec::load(&cfg.targets_root).ok();
        let file = compose_file(&cfg.targets_root);
        if !file.is_file() {
            return Err(TargetError::Compose(format!(
                "{} does not exist",
                file.display()
            )));
        }
        let yaml = std::fs::read_to_string(&file)
            .map_err(|e| TargetError::io(format!("cannot read {}", file.display()), e))?;
        // The ports as compose itself will read them: it substitutes the
        // variables of this process's environment, so does this.
        let yaml = project::interpolate(&yaml, |name| std::env::var(name).ok());
        let cpus = if cfg.server_cpus.is_empty() {
            crate::cpus::allowed()
        } else {
            cfg.server_cpus.clone()
        };
        let mut env = vec![("DB_POOL".to_string(), cfg.db_connections.to_string())];
        env.extend(project::cpu_env(&cpus));
        let project = Project {
            cli,
            file: file.clone(),
            name: PROJECT.into(),
            env,
        };
        let mut services = BTreeMap::new();
        let mut probes: BTreeMap<String, &'static str> = BTreeMap::new();
        for name in targets {
            let variant = spec.as_ref().and_then(|s| s.variant(name).ok());
            let service = variant
                .map(|v| v.service().to_string())
                .unwrap_or_else(|| name.clone());
            let base_url = service_url(Some(&yaml), &service).ok_or_else(|| {
                TargetError::Compose(format!(
                    "service {service} publishes no port in {}",
                    file.display()
                ))
            })?;
            let readiness = variant
                .map(|v| v.readiness.clone())
                .unwrap_or_else(|| "/".into());
            if let Some(probe) = variant
                .and_then(|v| v.command.first())
                .and_then(|p| project::probe_for(p))
            {
                // One probe per image: the first service of each kind.
                if !probes.values().any(|p| *p == probe) {
                    probes.insert(service.clone(), probe);
                }
            }
            services.insert(
                name.clone(),
                Service {
                    service,
                    base_url,
                    readiness,
                },
            );
        }
        let database = spec.as_ref().and_then(|s| s.database.as_ref());
        let database_url = database.and_then(|db| {
            published_port(&yaml, DATABASE_SERVICE).map(|p| {
                format!(
                    "postgres://{}:{}@127.0.0.1:{p}/{}",
                    db.user, cfg.compose_db_password, db.name
                )
            })
        });
        let mut lab = ComposeLab {
            project,
            targets: services,
            running: BTreeMap::new(),
            database_url,
            seed: database.map(|db| db.seed.clone()),
            log_dir: cfg.log_dir.clone(),
            ready_timeout: cfg.ready_timeout,
            versions: BTreeMap::new(),
            up: false,
        };
        check_engine(&lab.project).await?;
        lab.versions.insert("compose".into(), cli_version);
        if let Some(engine) = engine_version().await {
            lab.versions.insert("container_engine".into(), engine);
        }
        let mut to_build: Vec<String> = vec![DATABASE_SERVICE.into()];
        to_build.extend(lab.targets.values().map(|s| s.service.clone()));
        eprintln!(
            "bakeoff: compose: building {} ({}; the first build takes minutes)",
            to_build.join(", "),
            lab.project.cli.program().join(" ")
        );
        run(
            &lab.project.build_command(&to_build),
            &lab.project.env,
            BUILD_TIMEOUT,
        )
        .await?;
        lab.up = true;
        eprintln!("bakeoff: compose: starting {DATABASE_SERVICE}");
        run(
            &lab.project.up_command(&[DATABASE_SERVICE.into()]),
            &lab.project.env,
            COMMAND_TIMEOUT,
        )
        .await?;
        lab.wait_database().await?;
        lab.probe_versions(&probes).await;
        Ok(lab)
    }

    /// Polls the database's healthcheck through `exec` until it passes.
    async fn wait_database(&self) -> Result<(), TargetError> {
        let deadline = Instant::now() + self.ready_timeout;
        let cmd = self.project.database_ready_command();
        loop {
            let tried = run(&cmd, &self.project.env, Duration::from_secs(30)).await;
            if tried.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let log = self.save_log(DATABASE_SERVICE, DATABASE_SERVICE).await;
                return Err(TargetError::Compose(format!(
                    "service {DATABASE_SERVICE} was not ready within {} s (set BAKEOFF_READY_TIMEOUT for longer); last lines of {}:\n{}",
                    self.ready_timeout.as_secs(),
                    log.display(),
                    super::log_tail(&log, TAIL_LINES)
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The versions the images run, best effort: a probe that fails is
    /// skipped with a warning.
    async fn probe_versions(&mut self, probes: &BTreeMap<String, &'static str>) {
        let mut found = BTreeMap::new();
        let db = self
            .project
            .exec_command(DATABASE_SERVICE, project::POSTGRES_PROBE);
        let mut commands = vec![(DATABASE_SERVICE.to_string(), db)];
        for (service, probe) in probes {
            commands.push((service.clone(), self.project.run_command(service, probe)));
        }
        for (service, cmd) in commands {
            match run(&cmd, &self.project.env, COMMAND_TIMEOUT).await {
                Ok(out) => {
                    for (k, v) in project::parse_versions(&out.stdout) {
                        found.entry(k).or_insert(v);
                    }
                }
                Err(e) => eprintln!("bakeoff: compose: warning: versions of {service}: {e}"),
            }
        }
        self.versions.extend(found);
    }

    /// `logs SERVICE` into `logs/<name>.log`; returns the path.
    async fn save_log(&self, service: &str, name: &str) -> PathBuf {
        let path = self.log_dir.join(format!("{name}.log"));
        let text = match run(
            &self.project.logs_command(service),
            &self.project.env,
            COMMAND_TIMEOUT,
        )
        .await
        {
            Ok(out) => out.stdout,
            Err(e) => format!("(no log: {e})\n"),
        };
        let _ = std::fs::create_dir_all(&self.log_dir);
        let _ = std::fs::write(&path, text);
        path
    }

    async fn start_service(&mut self, name: &str) -> Result<RunningTarget, TargetError> {
        let s = self
            .targets
            .get(name)
            .cloned()
            .ok_or_else(|| TargetError::MissingUrl { name: name.into() })?;
        if self.running.contains_key(name) {
            return super::external::at_url(&self.urls(), name);
        }
        self.running.insert(name.to_string(), s.clone());
        run(
            &self.project.up_command(std::slice::from_ref(&s.service)),
            &self.project.env,
            COMMAND_TIMEOUT,
        )
        .await?;
        let url = format!("{}{}", s.base_url, s.readiness);
        let client = super::local::control_client();
        let deadline = Instant::now() + self.ready_timeout;
        loop {
            if let Ok(resp) = client.get(&url).send().await {
                if resp.status() == reqwest::StatusCode::OK {
                    return super::external::at_url(&self.urls(), name);
                }
            }
            if Instant::now() >= deadline {
                let log = self.save_log(&s.service, name).await;
                return Err(TargetError::NotReady {
                    name: name.to_string(),
                    url,
                    timeout: self.ready_timeout,
                    tail: super::log_tail(&log, TAIL_LINES),
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn urls(&self) -> BTreeMap<String, String> {
        self.targets
            .iter()
            .map(|(n, s)| (n.clone(), s.base_url.clone()))
            .collect()
    }
}

impl Lab for ComposeLab {
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget> {
        Box::pin(self.start_service(name))
    }
    fn alive(&mut self, _: &str) -> bool {
        true
    }
    /// Keeps the service's log, then removes its container.
    fn stop<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, ()> {
        Box::pin(async move {
            let Some(s) = self.running.remove(name) else {
                return Ok(());
            };
            self.save_log(&s.service, name).await;
            run(
                &self.project.remove_command(&s.service),
                &self.project.env,
                COMMAND_TIMEOUT,
            )
            .await
            .map(drop)
        })
    }
    fn sample(&self, _: &str) -> Option<ResourceSampler> {
        None
    }
    /// The restore script through `exec postgres psql` (as `POSTGRES_USER`,
    /// who owns the tables there).
    fn restore_database(&self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            let Some(seed) = &self.seed else {
                return Ok(());
            };
            let seed_sql = std::fs::read_to_string(seed)
                .map_err(|e| TargetError::io(format!("cannot read {}", seed.display()), e))?;
            let script = super::postgres::restore_script(&seed_sql);
            run_with_input(
                &self.project.restore_command(),
                &self.project.env,
                Some(&script),
                Duration::from_secs(600),
            )
            .await
            .map(drop)
            .map_err(|e| match e {
                TargetError::Compose(why) => TargetError::Compose(format!(
                    "restoring the {DATABASE_SERVICE} service's database to the seed state of {} failed: {why}",
                    seed.display()
                )),
                other => other,
            })
        })
    }
    fn database_url(&self) -> Option<String> {
        self.database_url.clone()
    }
    /// psql inside the `postgres` service, as `POSTGRES_USER`: the role the
    /// targets connect as (docker-compose.yml enables pg_stat_statements).
    fn query_counter(&self) -> Option<super::QueryCounter> {
        super::QueryCounter::with_stdin(&self.project.restore_command())
    }
    fn versions(&self) -> BTreeMap<String, String> {
        self.versions.clone()
    }
    fn notes(&self) -> Vec<String> {
        let cpuset = self
            .project
            .env
            .iter()
            .find(|(k, _)| k == "TARGET_CPUSET")
            .map_or("", |(_, v)| v.as_str());
        vec![format!(
            "Compose: every service (targets and PostgreSQL) ran with cpuset {cpuset:?} (TARGET_CPUSET) under {}; the generator reached the targets through their published loopback ports, a network hop local mode does not have.",
            self.project.cli.program().join(" ")
        )]
    }
    fn shutdown(&mut self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            if self.up {
                self.up = false;
                self.running.clear();
                run(
                    &self.project.down_command(),
                    &self.project.env,
                    COMMAND_TIMEOUT,
                )
                .await?;
            }
            Ok(())
        })
    }
}

impl Drop for ComposeLab {
    /// Backstop when [`Lab::shutdown`] was not reached: `down`, synchronously.
    fn drop(&mut self) {
        if self.up {
            let cmd = self.project.down_command();
            let _ = std::process::Command::new(&cmd[0])
                .args(&cmd[1..])
                .envs(self.project.env.iter().map(|(k, v)| (k, v)))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}
