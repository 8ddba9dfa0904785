//! `--targets compose`: builds the `docker compose` command lines (pure
//! functions, unit-tested: no engine runs on the development machine),
//! checks that Docker is usable before anything starts, runs them, and
//! reads each service's published loopback port from docker-compose.yml.
//! The database is restored to its seed by piping
//! [`super::postgres::restore_script`] into psql inside the `postgres`
//! service ([`restore_command`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bootstrap::install_hint;
use super::process;
use super::{Lab, LabConfig, LabFuture, ResourceSampler, RunningTarget, TargetError, TargetsSpec};

/// Host ports the reference docker-compose.yml publishes on 127.0.0.1, used
/// when the file cannot be read for them.
pub const DEFAULT_PORTS: [(&str, u16); 4] = [
    ("node", 3001),
    ("node-cluster", 3002),
    ("django-sync", 3003),
    ("django-async", 3004),
];

/// `<repo>/docker-compose.yml` for a targets root `<repo>/targets`.
pub fn compose_file(targets_root: &Path) -> PathBuf {
    targets_root
        .parent()
        .unwrap_or(Path::new("."))
        .join("docker-compose.yml")
}

/// `docker compose -f FILE up -d --wait SERVICES...`
pub fn up_command(file: &Path, services: &[String]) -> Vec<String> {
    let mut cmd = base(file);
    cmd.extend(["up", "-d", "--wait"].map(String::from));
    cmd.extend(services.iter().cloned());
    cmd
}

/// `docker compose -f FILE down`
pub fn down_command(file: &Path) -> Vec<String> {
    let mut cmd = base(file);
    cmd.push("down".into());
    cmd
}

/// The compose service that runs PostgreSQL.
pub const DATABASE_SERVICE: &str = "postgres";

/// `docker compose -f FILE exec -T postgres sh -c 'exec psql ...'`: psql
/// inside the database container, as `POSTGRES_USER` (who ran the seed
/// there and owns the tables) on `POSTGRES_DB`, reading a script from
/// stdin. The shell is the container's, so the variables are too.
pub fn restore_command(file: &Path) -> Vec<String> {
    let mut cmd = base(file);
    cmd.extend(["exec", "-T", DATABASE_SERVICE, "sh", "-c"].map(String::from));
    cmd.push(
        "PGPASSWORD=\"$POSTGRES_PASSWORD\" exec psql -X -q -A -t -v ON_ERROR_STOP=1 \
         -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\""
            .into(),
    );
    cmd
}

fn base(file: &Path) -> Vec<String> {
    vec![
        "docker".into(),
        "compose".into(),
        "-f".into(),
        file.to_string_lossy().into_owned(),
    ]
}

/// The host port that `service` publishes, read from the `ports:` list of
/// its block in a compose file ("127.0.0.1:3001:3000", "3001:3000" or the
/// long form's `published: 3001`). A deliberately small reader of the
/// layout docker-compose.yml uses, not a YAML parser; None when not found.
pub fn published_port(yaml: &str, service: &str) -> Option<u16> {
    let mut in_services = false;
    let mut service_indent = None::<usize>;
    let mut in_block = false;
    let mut block_indent = 0;
    let mut in_ports = false;
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_services = trimmed.starts_with("services:");
            in_block = false;
            continue;
        }
        if !in_services {
            continue;
        }
        let service_level = *service_indent.get_or_insert(indent);
        if indent == service_level {
            let key = trimmed.trim_end_matches(':').trim_matches(['"', '\'']);
            in_block = trimmed.ends_with(':') && key == service;
            block_indent = indent;
            in_ports = false;
            continue;
        }
        if !in_block || indent <= block_indent {
            continue;
        }
        if trimmed.starts_with("ports:") {
            in_ports = true;
            continue;
        }
        if in_ports {
            if let Some(item) = trimmed.strip_prefix('-') {
                let item = item.trim().trim_matches(['"', '\'']);
                let parts: Vec<&str> = item.split(':').collect();
                let host = match parts.len() {
                    3 => parts[1],
                    2 => parts[0],
                    _ => continue,
                };
                if let Ok(p) = host.parse() {
                    return Some(p);
                }
            } else if let Some(p) = trimmed.strip_prefix("published:") {
                if let Ok(p) = p.trim().trim_matches(['"', '\'']).parse() {
                    return Some(p);
                }
            } else if !trimmed.starts_with("target:")
                && !trimmed.starts_with("host_ip:")
                && !trimmed.starts_with("protocol:")
                && !trimmed.starts_with("mode:")
            {
                in_ports = false;
            }
        }
    }
    None
}

/// Base URL of a compose service: its published port, else the default table.
pub fn service_url(yaml: Option<&str>, service: &str) -> Option<String> {
    yaml.and_then(|y| published_port(y, service))
        .or_else(|| {
            DEFAULT_PORTS
                .iter()
                .find(|(s, _)| *s == service)
                .map(|&(_, p)| p)
        })
        .map(|p| format!("http://127.0.0.1:{p}"))
}

async fn run(cmd: &[String], db_pool: u32, timeout: Duration) -> Result<(), TargetError> {
    run_with_input(cmd, db_pool, None, timeout).await
}

/// Runs `cmd`, with `input` on its stdin when given.
async fn run_with_input(
    cmd: &[String],
    db_pool: u32,
    input: Option<&str>,
    timeout: Duration,
) -> Result<(), TargetError> {
    use tokio::io::AsyncWriteExt;
    let line = cmd.join(" ");
    let mut spawned = tokio::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .env("DB_POOL", db_pool.to_string())
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
        Ok(())
    } else {
        Err(TargetError::Compose(format!(
            "`{line}` failed ({}): {}",
            process::describe(out.status),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Fails early, with what to do, if docker or its engine is unavailable.
pub async fn check_docker() -> Result<(), TargetError> {
    if process::which("docker").is_none() {
        return Err(TargetError::ToolMissing {
            tool: "docker".into(),
            hint: install_hint("docker"),
        });
    }
    let info = ["docker".to_string(), "info".to_string()];
    run(&info, 0, Duration::from_secs(20)).await.map_err(|e| {
        TargetError::Compose(format!(
            "no usable Docker engine ({e}); start the engine, or use --targets local (the default)"
        ))
    })
}

/// `docker compose up -d --wait` for the services.
pub async fn up(
    file: &Path,
    services: &[String],
    db_pool: u32,
    timeout: Duration,
) -> Result<(), TargetError> {
    if !file.is_file() {
        return Err(TargetError::Compose(format!(
            "{} does not exist",
            file.display()
        )));
    }
    run(&up_command(file, services), db_pool, timeout).await
}

/// `docker compose down`.
pub async fn down(file: &Path) -> Result<(), TargetError> {
    run(&down_command(file), 0, Duration::from_secs(120)).await
}

/// Restores the compose database to the seed state of `seed` (the script
/// of [`super::postgres::restore_script`] through [`restore_command`]).
pub async fn restore(file: &Path, seed: &Path) -> Result<(), TargetError> {
    let seed_sql = std::fs::read_to_string(seed)
        .map_err(|e| TargetError::io(format!("cannot read {}", seed.display()), e))?;
    let script = super::postgres::restore_script(&seed_sql);
    run_with_input(
        &restore_command(file),
        0,
        Some(&script),
        Duration::from_secs(600),
    )
    .await
    .map_err(|e| match e {
        TargetError::Compose(why) => TargetError::Compose(format!(
            "restoring the {DATABASE_SERVICE} service's database to the seed state of {} failed: {why}",
            seed.display()
        )),
        other => other,
    })
}

/// The lab of compose mode: `docker compose up -d --wait` at prepare,
/// `down` at shutdown; the services' published ports are the targets' URLs.
#[derive(Debug)]
pub struct ComposeLab {
    file: PathBuf,
    urls: BTreeMap<String, String>,
    database_url: Option<String>,
    /// The seed file of targets.toml's [database], if it has one.
    seed: Option<PathBuf>,
    up: bool,
}

impl ComposeLab {
    /// Checks Docker, finds each target's service and port, brings them up.
    pub async fn prepare(cfg: LabConfig, targets: &[String]) -> Result<ComposeLab, TargetError> {
        check_docker().await?;
        let spec = TargetsSpec::load(&cfg.targets_root).ok();
        let file = compose_file(&cfg.targets_root);
        let yaml = std::fs::read_to_string(&file).ok();
        let mut services = Vec::new();
        let mut urls = BTreeMap::new();
        for name in targets {
            let service = spec
                .as_ref()
                .and_then(|s| s.variant(name).ok())
                .map(|v| v.service().to_string())
                .unwrap_or_else(|| name.clone());
            let url = service_url(yaml.as_deref(), &service).ok_or_else(|| {
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
            ) => published_port(y, DATABASE_SERVICE).map(|p| {
                let password = &cfg.compose_db_password;
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
        up(
            &file,
            &services,
            cfg.db_connections,
            Duration::from_secs(600),
        )
        .await?;
        Ok(ComposeLab {
            file,
            urls,
            database_url,
            seed,
            up: true,
        })
    }
}

impl Lab for ComposeLab {
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget> {
        Box::pin(async move { super::external::at_url(&self.urls, name) })
    }
    fn alive(&mut self, _: &str) -> bool {
        true
    }
    fn stop<'a>(&'a mut self, _: &'a str) -> LabFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn sample(&self, _: &str) -> Option<ResourceSampler> {
        None
    }
    /// The restore script through `docker compose exec postgres psql` (as
    /// `POSTGRES_USER`, who owns the tables there).
    fn restore_database(&self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            match &self.seed {
                Some(seed) => restore(&self.file, seed).await,
                None => Ok(()),
            }
        })
    }
    fn database_url(&self) -> Option<String> {
        self.database_url.clone()
    }

    /// psql inside the `postgres` service, as `POSTGRES_USER`: the role the
    /// targets connect as (docker-compose.yml enables pg_stat_statements).
    fn query_counter(&self) -> Option<super::QueryCounter> {
        super::QueryCounter::with_stdin(&restore_command(&self.file))
    }
    fn shutdown(&mut self) -> LabFuture<'_, ()> {
        Box::pin(async move {
            if self.up {
                self.up = false;
                down(&self.file).await?;
            }
            Ok(())
        })
    }
}

impl Drop for ComposeLab {
    /// Backstop when [`Lab::shutdown`] was not reached: `docker compose down`.
    fn drop(&mut self) {
        if self.up {
            let cmd = down_command(&self.file);
            let _ = std::process::Command::new(&cmd[0]).args(&cmd[1..]).status();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        let f = compose_file(Path::new("/repo/targets"));
        assert_eq!(f, Path::new("/repo/docker-compose.yml"));
        assert_eq!(
            up_command(&f, &["node".into(), "django-sync".into()]).join(" "),
            "docker compose -f /repo/docker-compose.yml up -d --wait node django-sync"
        );
        assert_eq!(
            down_command(&f).join(" "),
            "docker compose -f /repo/docker-compose.yml down"
        );
        let restore = restore_command(&f);
        assert_eq!(
            restore[..9].join(" "),
            "docker compose -f /repo/docker-compose.yml exec -T postgres sh -c"
        );
        assert_eq!(
            restore[9],
            r#"PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#
        );
        assert_eq!(restore.len(), 10);
    }

    #[test]
    fn reads_published_ports() {
        let yaml = r#"
name: bakeoff
services:
  postgres:
    image: postgres:15
    ports:
      - "127.0.0.1:5433:5432"
  node:
    build: ./targets/node
    environment:
      PORT: "3000"
    ports:
      - "127.0.0.1:3101:3000"
    healthcheck:
      test: ["CMD", "true"]
  node-cluster:
    ports: ['3102:3000']
  django-sync:
    ports:
      - target: 8000
        host_ip: 127.0.0.1
        published: "3103"
  django-async:
    image: x
"#;
        assert_eq!(published_port(yaml, "node"), Some(3101));
        assert_eq!(published_port(yaml, "postgres"), Some(5433));
        assert_eq!(published_port(yaml, "django-sync"), Some(3103));
        assert_eq!(published_port(yaml, "django-async"), None);
        assert_eq!(published_port(yaml, "PORT"), None);
        assert_eq!(
            service_url(Some(yaml), "django-async").as_deref(),
            Some("http://127.0.0.1:3004")
        );
        assert_eq!(service_url(None, "other"), None);
    }
}
