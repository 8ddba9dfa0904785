//! The pure half of compose mode: which compose CLI drives the engine
//! ([`ComposeCli`]: the `docker compose` plugin, or the standalone
//! `docker-compose` of Debian, v1, which has no `up --wait`), the command
//! lines of one compose project ([`Project`]), what the version probes
//! print ([`parse_versions`]) and the published ports of docker-compose.yml
//! ([`published_port`]). Nothing here runs a command: it is all unit-tested
//! without an engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Host ports the reference docker-compose.yml publishes on 127.0.0.1, used
/// when the file cannot be read for them.
pub const DEFAULT_PORTS: [(&str, u16); 4] = [
    ("node", 3001),
    ("node-cluster", 3002),
    ("django-sync", 3003),
    ("django-async", 3004),
];

/// The compose project name bakeoff runs under (`-p`), whatever the
/// checkout's folder is called, so `scripts/container-engine.sh --stop` and
/// the CI smoke test find its containers by the label
/// `com.docker.compose.project=bakeoff`.
pub const PROJECT: &str = "bakeoff";

/// The compose service that runs PostgreSQL.
pub const DATABASE_SERVICE: &str = "postgres";

/// `<repo>/docker-compose.yml` for a targets root `<repo>/targets`.
pub fn compose_file(targets_root: &Path) -> PathBuf {
    targets_root
        .parent()
        .unwrap_or(Path::new("."))
        .join("docker-compose.yml")
}

/// Which compose command line drives the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeCli {
    /// `docker compose` (v2, the Docker CLI plugin): `up --wait` waits for
    /// the healthchecks itself.
    Plugin,
    /// `docker-compose` (v1, as Debian packages it): no `--wait`, so
    /// readiness is polled (the database with `pg_isready` through `exec`,
    /// the targets over HTTP).
    Standalone,
}

impl ComposeCli {
    /// The program and its leading arguments.
    pub fn program(self) -> &'static [&'static str] {
        match self {
            ComposeCli::Plugin => &["docker", "compose"],
            ComposeCli::Standalone => &["docker-compose"],
        }
    }

    /// Whether `up` takes `--wait`.
    pub fn waits(self) -> bool {
        self == ComposeCli::Plugin
    }

    /// `<program> version`: the probe [`super::detect_cli`] runs, in order.
    pub fn version_command(self) -> Vec<String> {
        let mut cmd: Vec<String> = self.program().iter().map(|s| s.to_string()).collect();
        cmd.push("version".into());
        cmd
    }

    /// "docker compose 2.27.0", "docker-compose 1.29.2": the CLI and its
    /// version, from the first line of `version`'s output.
    pub fn describe(self, version_output: &str) -> String {
        let version = version_output
            .lines()
            .next()
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|t| t.trim_start_matches('v'))
            .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .unwrap_or("unknown");
        format!("{} {version}", self.program().join(" "))
    }
}

/// One compose project: the CLI, the file and the project name; makes its
/// command lines. The environment every command gets (`DB_POOL`,
/// `TARGET_CPUSET`, `TARGET_CPUS`) is [`Project::env`].
#[derive(Debug, Clone)]
pub struct Project {
    pub cli: ComposeCli,
    pub file: PathBuf,
    pub name: String,
    pub env: Vec<(String, String)>,
}

impl Project {
    fn base(&self) -> Vec<String> {
        let mut cmd: Vec<String> = self.cli.program().iter().map(|s| s.to_string()).collect();
        cmd.extend([
            "-f".to_string(),
            self.file.to_string_lossy().into_owned(),
            "-p".to_string(),
            self.name.clone(),
        ]);
        cmd
    }

    fn with(&self, args: &[&str], services: &[String]) -> Vec<String> {
        let mut cmd = self.base();
        cmd.extend(args.iter().map(|s| s.to_string()));
        cmd.extend(services.iter().cloned());
        cmd
    }

    /// `build SERVICES`: the images, before anything starts.
    pub fn build_command(&self, services: &[String]) -> Vec<String> {
        self.with(&["build"], services)
    }

    /// `up -d --no-deps [--wait] SERVICES`: dependencies are started by
    /// bakeoff itself, the database first.
    pub fn up_command(&self, services: &[String]) -> Vec<String> {
        let args: &[&str] = if self.cli.waits() {
            &["up", "-d", "--no-deps", "--wait"]
        } else {
            &["up", "-d", "--no-deps"]
        };
        self.with(args, services)
    }

    /// `rm --stop --force -v SERVICE`: one target's container, gone.
    pub fn remove_command(&self, service: &str) -> Vec<String> {
        self.with(&["rm", "--stop", "--force", "-v"], &[service.to_string()])
    }

    /// `logs --no-color SERVICE`
    pub fn logs_command(&self, service: &str) -> Vec<String> {
        self.with(&["logs", "--no-color"], &[service.to_string()])
    }

    /// `down -v --remove-orphans -t 5`: every container, network and
    /// anonymous volume of the project.
    pub fn down_command(&self) -> Vec<String> {
        self.with(&["down", "-v", "--remove-orphans", "-t", "5"], &[])
    }

    /// `ps -q`: reaches the engine, so it fails when there is none.
    pub fn ps_command(&self) -> Vec<String> {
        self.with(&["ps", "-q"], &[])
    }

    /// `exec -T SERVICE sh -c SCRIPT`: the shell is the container's, so
    /// are the variables in `script`.
    pub fn exec_command(&self, service: &str, script: &str) -> Vec<String> {
        let mut cmd = self.with(&["exec", "-T", service, "sh", "-c"], &[]);
        cmd.push(script.to_string());
        cmd
    }

    /// `run --rm --no-deps -T --entrypoint sh SERVICE -c SCRIPT`: `script`
    /// in a throw-away container of the service's image.
    pub fn run_command(&self, service: &str, script: &str) -> Vec<String> {
        let mut cmd = self.with(
            &[
                "run",
                "--rm",
                "--no-deps",
                "-T",
                "--entrypoint",
                "sh",
                service,
                "-c",
            ],
            &[],
        );
        cmd.push(script.to_string());
        cmd
    }

    /// psql inside the database container, as `POSTGRES_USER` (who ran the
    /// seed there and owns the tables) on `POSTGRES_DB`, reading a script
    /// from stdin.
    pub fn restore_command(&self) -> Vec<String> {
        self.exec_command(
            DATABASE_SERVICE,
            "PGPASSWORD=\"$POSTGRES_PASSWORD\" exec psql -X -q -A -t -v ON_ERROR_STOP=1 \
             -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"",
        )
    }

    /// The database service's own healthcheck, run through `exec`: ready
    /// once schema and seed are loaded (the init server listens on its
    /// socket only, so TCP answers only after it).
    pub fn database_ready_command(&self) -> Vec<String> {
        self.exec_command(
            DATABASE_SERVICE,
            "pg_isready -q -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"",
        )
    }
}

/// The compose environment for a CPU set: `TARGET_CPUSET` as a list
/// ("1", "0,1"), `TARGET_CPUS` its size, the quota docker-compose.yml gives
/// every service.
pub fn cpu_env(cpus: &[usize]) -> Vec<(String, String)> {
    let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
    vec![
        ("TARGET_CPUSET".into(), list.join(",")),
        ("TARGET_CPUS".into(), cpus.len().to_string()),
    ]
}

/// What the version probe of a service's image prints: one `key=value`
/// per line (a leading `v` dropped, as local mode records them).
pub const NODE_PROBE: &str = "echo node=$(node --version); echo npm=$(npm --version); \
    for p in express pg; do echo $p=$(node -p \"require('./node_modules/'+'$p'+'/package.json').version\"); done";

/// Python and the distributions local mode records, from the image's venv.
pub const DJANGO_PROBE: &str = ".venv/bin/python -c \"import sys, importlib.metadata as m
print('python=' + sys.version.split()[0])
for n in ('django', 'gunicorn', 'uvicorn', 'uvicorn-worker', 'psycopg', 'psycopg-pool'):
    print(n + '=' + m.version(n))\"";

/// PostgreSQL's server version, in the database container.
pub const POSTGRES_PROBE: &str = "echo postgresql=$(postgres --version | awk '{print $3}')";

/// The probe for an image, by the first word of a variant's command.
pub fn probe_for(program: &str) -> Option<&'static str> {
    match Path::new(program).file_name()?.to_str()? {
        "node" => Some(NODE_PROBE),
        "gunicorn" | "python" | "python3" => Some(DJANGO_PROBE),
        _ => None,
    }
}

/// `key=value` lines into a map; a value's leading `v` dropped ("v18.19.0"),
/// empty values and other lines ignored.
pub fn parse_versions(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .filter(|(k, v)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !v.trim().is_empty()
        })
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('v')
                .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(v);
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Compose's variable substitution, as far as docker-compose.yml uses it:
/// `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}`
/// (when unset) and `$$` for a `$`; values from `lookup`. Anything else is
/// left as it is.
pub fn interpolate(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some((inner, r)) = after
            .strip_prefix('{')
            .and_then(|a| a.find('}').map(|j| (&a[..j], &a[j + 1..])))
        {
            let (name, default, empty_too) = match inner.find([':', '-']) {
                Some(j) if inner[j..].starts_with(":-") => {
                    (&inner[..j], Some(&inner[j + 2..]), true)
                }
                Some(j) if inner[j..].starts_with('-') => {
                    (&inner[..j], Some(&inner[j + 1..]), false)
                }
                _ => (inner, None, false),
            };
            let value = lookup(name).filter(|v| !(empty_too && v.is_empty()));
            out.push_str(&value.or(default.map(str::to_string)).unwrap_or_default());
            rest = r;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project(cli: ComposeCli) -> Project {
        Project {
            cli,
            file: compose_file(Path::new("/repo/targets")),
            name: PROJECT.into(),
            env: cpu_env(&[1]),
        }
    }

    #[test]
    fn command_lines_of_both_clis() {
        let v2 = project(ComposeCli::Plugin);
        assert_eq!(v2.file, Path::new("/repo/docker-compose.yml"));
        let base = "docker compose -f /repo/docker-compose.yml -p bakeoff";
        assert_eq!(
            v2.up_command(&["node".into(), "django-sync".into()])
                .join(" "),
            format!("{base} up -d --no-deps --wait node django-sync")
        );
        assert_eq!(
            v2.build_command(&["postgres".into(), "node".into()])
                .join(" "),
            format!("{base} build postgres node")
        );
        assert_eq!(
            v2.down_command().join(" "),
            format!("{base} down -v --remove-orphans -t 5")
        );
        assert_eq!(
            v2.remove_command("node").join(" "),
            format!("{base} rm --stop --force -v node")
        );
        assert_eq!(
            v2.logs_command("node").join(" "),
            format!("{base} logs --no-color node")
        );
        assert_eq!(v2.ps_command().join(" "), format!("{base} ps -q"));
        let restore = v2.restore_command();
        assert_eq!(
            restore[..11].join(" "),
            format!("{base} exec -T postgres sh -c")
        );
        assert_eq!(
            restore[11],
            r#"PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#
        );
        assert_eq!(restore.len(), 12);

        // v1 has no --wait: readiness is polled instead.
        let v1 = project(ComposeCli::Standalone);
        let base = "docker-compose -f /repo/docker-compose.yml -p bakeoff";
        assert_eq!(
            v1.up_command(&["postgres".into()]).join(" "),
            format!("{base} up -d --no-deps postgres")
        );
        assert_eq!(
            v1.database_ready_command().join(" "),
            format!(
                r#"{base} exec -T postgres sh -c pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB""#
            )
        );
        let run = v1.run_command("node", NODE_PROBE);
        assert_eq!(
            run[..13].join(" "),
            format!("{base} run --rm --no-deps -T --entrypoint sh node -c")
        );
        assert_eq!(run[13], NODE_PROBE);
        assert_eq!(
            v1.cli.version_command(),
            ["docker-compose", "version"].map(String::from)
        );
        assert_eq!(
            v2.cli.version_command(),
            ["docker", "compose", "version"].map(String::from)
        );
    }

    #[test]
    fn cpu_sets_and_cli_versions() {
        let env = |cpus: &[usize]| {
            cpu_env(cpus)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(env(&[1]), "TARGET_CPUSET=1 TARGET_CPUS=1");
        assert_eq!(env(&[0, 1, 3]), "TARGET_CPUSET=0,1,3 TARGET_CPUS=3");
        assert_eq!(
            ComposeCli::Standalone.describe(
                "docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\n"
            ),
            "docker-compose 1.29.2"
        );
        assert_eq!(
            ComposeCli::Plugin.describe("Docker Compose version v2.27.0\n"),
            "docker compose 2.27.0"
        );
        assert_eq!(ComposeCli::Plugin.describe(""), "docker compose unknown");
    }

    #[test]
    fn parses_what_the_probes_print() {
        let v = parse_versions(
            "node=v18.19.0\nnpm=9.2.0\nexpress=5.1.0\npg=\nwarning: x\n\
             psycopg-pool=3.3.3\npostgresql=15.14\nv=vv\nbad key=1\n",
        );
        let got: Vec<String> = v.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            got,
            [
                "express=5.1.0",
                "node=18.19.0",
                "npm=9.2.0",
                "postgresql=15.14",
                "psycopg-pool=3.3.3",
                "v=vv"
            ]
        );
        assert_eq!(probe_for("node"), Some(NODE_PROBE));
        assert_eq!(probe_for(".venv/bin/gunicorn"), Some(DJANGO_PROBE));
        assert_eq!(probe_for("ruby"), None);
    }

    #[test]
    fn interpolates_like_compose() {
        let env = |k: &str| match k {
            "SET" => Some("5".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            interpolate(
                "${SET:-1} ${UNSET:-2} ${EMPTY:-3} ${EMPTY-4} ${UNSET-5} ${SET} ${UNSET} $$X $Y",
                env
            ),
            "5 2 3  5 5  $X $Y"
        );
        let yaml = "services:\n  postgres:\n    ports:\n      - \"127.0.0.1:${PG:-55432}:5432\"\n";
        assert_eq!(
            published_port(&interpolate(yaml, |_| None), "postgres"),
            Some(55432)
        );
        assert_eq!(
            published_port(&interpolate(yaml, |_| Some("6000".into())), "postgres"),
            Some(6000)
        );
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
