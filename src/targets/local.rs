//! Local target processes: starts one variant of targets.toml with its
//! environment on a free port (or the one `BAKEOFF_PORTS` fixes, checked
//! free before spawning), waits until its readiness path answers 200, and
//! reports early exits (with the port and its holder when it was taken) or
//! time-outs with the last lines of its log. Either way the target's
//! process group is stopped before the error is returned.

use std::path::Path;
use std::time::{Duration, Instant};

use super::ports;
use super::process::{self, Group, SpawnSpec};
use super::spec::{VariantSpec, resolve_program};
use super::{TargetError, log_tail};

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
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
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
