//! The private PostgreSQL of a local run: finds the binaries, initdb's a
//! fresh cluster in the state directory, starts it on 127.0.0.1 on a free
//! port (unix socket in the state directory, pinned to the server CPUs),
//! creates the role and database of targets.toml and loads schema + seed.
//!
//! PostgreSQL refuses to run as root; when bakeoff is root, initdb and the
//! server run as the `postgres` user. They are started by setting the uid
//! and gid directly in the child (std's `Command::uid`/`gid`, which also
//! drops supplementary groups) rather than through `runuser`, because
//! runuser would put the server in a session of its own, out of reach of
//! the process-group teardown. psql connects over TCP, so it needs no user
//! switch.
//!
//! Authentication is real: initdb runs with `--auth=scram-sha-256` and a
//! superuser password file, and both the superuser's and the application
//! role's passwords are random per run ([`super::secret`]), so a target only
//! gets in with the password bakeoff put in its DATABASE_URL.
//!
//! The cluster is a benchmark scratch database: `fsync=off`,
//! `synchronous_commit=off` and `full_page_writes=off` trade crash safety
//! (irrelevant for a throw-away cluster) for less I/O noise in the
//! measurements. It is stopped with SIGINT (fast shutdown), then SIGKILL.
//!
//! Statements are counted: when the server's library directory has
//! `pg_stat_statements` (Debian's postgresql-15 ships it), the server
//! preloads it and the seed creates the extension in the application's
//! database, so `bakeoff check` and a run's database steps can read how
//! many queries and rows each target's requests cost ([`QUERY_STATS`]).
//!
//! [`PgServer::restore`] brings the database back to its seed state (the
//! tables emptied, the seed loaded again, then `VACUUM (FULL, ANALYZE)`),
//! so every target starts from the same rows; [`restore_script`] is the psql
//! script that does it, shared with compose mode.
//!
//! The postmaster leads its process group, but its children (backends,
//! background workers) call setsid() and leave it: they are found as the
//! postmaster's children ([`PgServer::pid`]), for sampling as for teardown.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::process::{self, Group, SpawnSpec};
use super::spec::DatabaseSpec;
use super::{TargetError, log_tail, ports, secret};

/// The extension that counts statements (module doc); see
/// `crate::targets::querystats` for what is read from it.
pub const QUERY_STATS: &str = "pg_stat_statements";

/// Whether the server of `bindir` can preload [`QUERY_STATS`]: its
/// library sits in the sibling `lib` directory (Debian's layout,
/// `/usr/lib/postgresql/15/{bin,lib}`).
fn has_query_stats(bindir: &Path) -> bool {
    bindir
        .parent()
        .is_some_and(|dir| dir.join("lib").join(format!("{QUERY_STATS}.so")).is_file())
}

/// Superuser created by initdb.
const SUPERUSER: &str = "postgres";

/// A running private PostgreSQL.
#[derive(Debug)]
pub struct PgServer {
    pub(crate) group: Group,
    pub port: u16,
    pub bindir: PathBuf,
    /// state_dir/postgres: removed after the server stops.
    pub dir: PathBuf,
    pub log: PathBuf,
    /// postgres://user:password@127.0.0.1:port/name
    pub url: String,
    /// The superuser's per-run password (seeding only).
    superuser_password: String,
    /// The application role's per-run password (also inside `url`).
    app_password: String,
    /// Whether [`QUERY_STATS`] is loaded and created in the database.
    pub query_stats: bool,
}

/// The environment variable naming the PostgreSQL bin directory.
pub const BINDIR_VAR: &str = crate::env::PG_BINDIR;

/// Programs bakeoff runs from the bin directory.
const PROGRAMS: [&str; 3] = ["initdb", "postgres", "psql"];

/// Finds the directory holding `initdb`, `postgres` and `psql`: `given`
/// (`BAKEOFF_PG_BINDIR`, `LabConfig::pg_bindir`) alone when set, else
/// `pg_config --bindir`, then the highest `/usr/lib/postgresql/*/bin`,
/// then PATH.
pub fn find_bindir(given: Option<&Path>) -> Result<PathBuf, TargetError> {
    let ok = |d: &Path| PROGRAMS.iter().all(|p| d.join(p).is_file());
    if let Some(d) = given.map(Path::to_path_buf) {
        if ok(&d) {
            return Ok(d);
        }
        let absent: Vec<&str> = PROGRAMS
            .into_iter()
            .filter(|p| !d.join(p).is_file())
            .collect();
        return Err(TargetError::PostgresMissing {
            looked: format!(
                "{BINDIR_VAR}={}, which lacks {}",
                d.display(),
                absent.join(", ")
            ),
        });
    }
    let mut looked = Vec::new();
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        if out.status.success() {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if ok(&d) {
                return Ok(d);
            }
            looked.push(d.display().to_string());
        }
    }
    looked.push("/usr/lib/postgresql/*/bin".into());
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                let v = e
                    .file_name()
                    .to_str()?
                    .split('.')
                    .map(|p| p.parse::<u32>().ok())
                    .collect::<Option<Vec<u32>>>()?;
                Some((v, e.path().join("bin")))
            })
            .filter(|(_, d)| ok(d))
            .collect();
        versions.sort();
        if let Some((_, d)) = versions.pop() {
            return Ok(d);
        }
    }
    looked.push("PATH".into());
    if let Some(initdb) = process::which("initdb") {
        if let Some(d) = initdb.parent().filter(|d| ok(d)) {
            return Ok(d.to_path_buf());
        }
    }
    Err(TargetError::PostgresMissing {
        looked: looked.join(", "),
    })
}

/// uid and gid of the `postgres` user when we are root, else None.
fn server_user() -> Result<Option<(u32, u32)>, TargetError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = c"postgres";
    // SAFETY: getpwnam with a valid C string; the result is read at once,
    // before any other call could overwrite the static buffer.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(TargetError::Postgres {
            message: "bakeoff runs as root, PostgreSQL refuses root, and there is no `postgres` user to run it as: create one (adduser --system postgres) or run bakeoff as a normal user".into(),
            log: PathBuf::new(),
            tail: String::new(),
        });
    }
    // SAFETY: pw is non-null and points to a valid passwd struct.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) -> Result<(), TargetError> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| TargetError::io(format!("cannot chown {} to postgres", path.display()), e))
}

/// Makes sure the `postgres` user can reach `dir`: every ancestor needs
/// search (x) permission for others. Missing bits are added only to our own
/// directories in the temp dir (where 0700 temp dirs live); elsewhere it is an
/// error telling the user what to do, rather than a silent chmod of, say,
/// /root.
fn ensure_traversable(dir: &Path) -> Result<(), TargetError> {
    let tmp = std::env::temp_dir()
        .canonicalize()
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = dir
        .canonicalize()
        .map_err(|e| TargetError::io(format!("cannot resolve {}", dir.display()), e))?;
    for a in dir.ancestors() {
        let meta = a
            .metadata()
            .map_err(|e| TargetError::io(format!("cannot stat {}", a.display()), e))?;
        let mode = meta.permissions().mode();
        if mode & 0o001 != 0 {
            continue;
        }
        // Our own temp dirs (also when TMPDIR itself is a private 0700 dir).
        // SAFETY: geteuid has no preconditions.
        let ours = meta.uid() == unsafe { libc::geteuid() };
        if ours && (a.starts_with(&tmp) || (a.starts_with("/tmp") && a != Path::new("/tmp"))) {
            std::fs::set_permissions(a, std::fs::Permissions::from_mode(mode | 0o001))
                .map_err(|e| TargetError::io(format!("cannot chmod o+x {}", a.display()), e))?;
        } else {
            return Err(TargetError::Postgres {
                message: format!(
                    "PostgreSQL runs as user postgres and cannot enter {} (state dir {}): make it traversable (chmod o+x) or use a state dir under {}",
                    a.display(),
                    dir.display(),
                    tmp.display()
                ),
                log: PathBuf::new(),
                tail: String::new(),
            });
        }
    }
    Ok(())
}

async fn run_to_end(spec: &SpawnSpec) -> Result<std::process::ExitStatus, TargetError> {
    let mut group = process::spawn(spec)?;
    let status = loop {
        if let Some(s) = group.try_status() {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    group.stop(process::GRACE).await;
    Ok(status)
}

/// psql against the server on 127.0.0.1:`port` as `user` with `password`,
/// quiet, unaligned, tuples only, stopping at the first error.
fn psql_command(
    bindir: &Path,
    port: u16,
    (user, password): (&str, &str),
    db: &str,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bindir.join("psql"));
    cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            user,
            "-d",
            db,
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .env("PGPASSWORD", password)
        .env_remove("PGPASSFILE")
        .env_remove("PGSERVICE")
        .kill_on_drop(true);
    cmd
}

fn psql_output(out: std::process::Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Runs psql against the server as `user` with `password`; returns stdout,
/// or an error with stderr.
pub async fn psql(
    bindir: &Path,
    port: u16,
    creds: (&str, &str),
    db: &str,
    args: &[&str],
) -> Result<String, String> {
    let out = psql_command(bindir, port, creds, db)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run psql: {e}"))?;
    psql_output(out)
}

/// Runs `script` through psql's standard input (so psql meta-commands such
/// as `\gexec` work), as [`psql`] does otherwise.
pub async fn psql_script(
    bindir: &Path,
    port: u16,
    creds: (&str, &str),
    db: &str,
    script: &str,
) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let mut child = psql_command(bindir, port, creds, db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| "cannot write to psql: no stdin".to_string())?;
    // Written while psql's output is read, so neither side can block the
    // other on a full pipe.
    let write = async move {
        let written = stdin.write_all(script.as_bytes()).await;
        drop(stdin);
        written
    };
    let (written, out) = tokio::join!(write, child.wait_with_output());
    let out = out.map_err(|e| format!("cannot run psql: {e}"))?;
    match (written, psql_output(out)) {
        // psql stopping early (an error) closes its stdin: its stderr says why.
        (_, Err(e)) => Err(e),
        (Err(e), Ok(_)) => Err(format!("cannot write the script to psql: {e}")),
        (Ok(()), Ok(stdout)) => Ok(stdout),
    }
}

/// The psql script that brings a seeded database back to its seed, run as
/// the role that loaded the schema: in one transaction it empties every
/// table that role owns outside the system schemas (in a database made for
/// bakeoff, exactly the tables of schema.sql; sequences restart too) and
/// runs `seed_sql` again; then `VACUUM (FULL, ANALYZE)` rewrites those
/// tables without dead rows and with fresh statistics. A lock held
/// elsewhere fails it after 30 s instead of hanging; a failure before the
/// commit leaves the tables as they were. The seed must give the same rows
/// every time it runs (targets/db/seed.sql fixes `random()` with `setseed`)
/// and be runnable in a transaction (no VACUUM). Uses `\gexec`, so feed it
/// to psql ([`psql_script`]).
pub fn restore_script(seed_sql: &str) -> String {
    const OWNED_TABLES: &str = "FROM pg_tables WHERE tableowner = current_user \
         AND schemaname NOT IN ('pg_catalog', 'information_schema')";
    format!(
        "SET lock_timeout = '30s';\n\
         BEGIN;\n\
         SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ' \
         ORDER BY schemaname, tablename) || ' RESTART IDENTITY' {OWNED_TABLES} \
         HAVING count(*) > 0 \\gexec\n\
         {seed_sql}\n\
         ;\n\
         COMMIT;\n\
         SELECT format('VACUUM (FULL, ANALYZE) %I.%I', schemaname, tablename) {OWNED_TABLES} \
         ORDER BY schemaname, tablename \\gexec\n"
    )
}

/// Starts a fresh, seeded cluster with the programs of `bindir`
/// ([`find_bindir`]) on `fixed_port` (checked free first) or a free port.
/// `max_connections` should cover every target's pool plus slack.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    bindir: &Path,
    db: &DatabaseSpec,
    state_dir: &Path,
    log: &Path,
    cpus: &[usize],
    max_connections: u32,
    timeout: Duration,
    fixed_port: Option<u16>,
) -> Result<PgServer, TargetError> {
    let bindir = bindir.to_path_buf();
    let query_stats = has_query_stats(&bindir);
    if let Some(p) = fixed_port {
        ports::ensure_free(p, "PostgreSQL")?;
    }
    let superuser_password = secret::random_hex(24)?;
    let app_password = secret::random_hex(24)?;
    let user = server_user()?;
    let dir = state_dir.join("postgres");
    let data = dir.join("data");
    let run = dir.join("run");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| TargetError::io(format!("cannot clear {}", dir.display()), e))?;
    }
    for d in [&data, &run] {
        std::fs::create_dir_all(d)
            .map_err(|e| TargetError::io(format!("cannot create {}", d.display()), e))?;
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| TargetError::io(format!("cannot chmod {}", data.display()), e))?;
    if let Some(u) = user {
        ensure_traversable(&dir)?;
        for d in [&dir, &data, &run] {
            chown(d, u)?;
        }
    }
    let pg_err = |message: String| TargetError::Postgres {
        message,
        log: log.to_path_buf(),
        tail: log_tail(log, 20),
    };

    // The superuser's password, readable by initdb only, removed right after.
    let pwfile = dir.join("pwfile");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pwfile)
            .map_err(|e| TargetError::io(format!("cannot create {}", pwfile.display()), e))?;
        std::io::Write::write_all(&mut f, format!("{superuser_password}\n").as_bytes())
            .map_err(|e| TargetError::io(format!("cannot write {}", pwfile.display()), e))?;
    }
    if let Some(u) = user {
        chown(&pwfile, u)?;
    }
    let mut initdb = SpawnSpec::new("initdb", bindir.join("initdb"), log);
    initdb.args = [
        "-D",
        &data.to_string_lossy(),
        "-U",
        SUPERUSER,
        "--auth=scram-sha-256",
        &format!("--pwfile={}", pwfile.display()),
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    .map(String::from)
    .to_vec();
    initdb.user = user;
    initdb.cwd = Some(dir.clone());
    let status = run_to_end(&initdb).await;
    let _ = std::fs::remove_file(&pwfile);
    let status = status?;
    if !status.success() {
        return Err(pg_err(format!(
            "initdb of {} failed ({})",
            data.display(),
            process::describe(status)
        )));
    }

    // A free port can be taken between our probe and postgres' bind; retry
    // a few times with a new port when that is what happened.
    let mut last_err = None;
    let attempts = if fixed_port.is_some() { 1 } else { 3 };
    for _attempt in 0..attempts {
        let port = match fixed_port {
            Some(p) => p,
            None => ports::free_port()?,
        };
        let mut spec = SpawnSpec::new("postgres", bindir.join("postgres"), log);
        spec.args = vec![
            "-D".into(),
            data.to_string_lossy().into_owned(),
            "-p".into(),
            port.to_string(),
            "-k".into(),
            run.to_string_lossy().into_owned(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            format!("max_connections={max_connections}"),
            "-c".into(),
            "fsync=off".into(),
            "-c".into(),
            "synchronous_commit=off".into(),
            "-c".into(),
            "full_page_writes=off".into(),
        ];
        if query_stats {
            // Top-level statements only, no utility statements (BEGIN,
            // SET): the counts are of the queries an endpoint sends.
            spec.args.extend(
                [
                    format!("shared_preload_libraries={QUERY_STATS}"),
                    format!("{QUERY_STATS}.track=top"),
                    format!("{QUERY_STATS}.track_utility=off"),
                ]
                .into_iter()
                .flat_map(|setting| ["-c".to_string(), setting]),
            );
        }
        spec.cpus = cpus.to_vec();
        spec.user = user;
        spec.cwd = Some(dir.clone());
        spec.stop_signal = libc::SIGINT;
        let mut group = process::spawn(&spec)?;
        let deadline = Instant::now() + timeout;
        let ready = loop {
            if let Some(status) = group.try_status() {
                break Err(status);
            }
            if psql(
                &bindir,
                port,
                (SUPERUSER, &superuser_password),
                "postgres",
                &["-c", "select 1"],
            )
            .await
            .is_ok()
            {
                break Ok(());
            }
            if Instant::now() >= deadline {
                group.stop(process::GRACE).await;
                return Err(pg_err(format!(
                    "server on 127.0.0.1:{port} did not accept connections within {} (raise BAKEOFF_READY_TIMEOUT if it is just slow)",
                    super::error::seconds(timeout)
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        match ready {
            Ok(()) => {
                let url = format!(
                    "postgres://{}:{app_password}@127.0.0.1:{port}/{}",
                    db.user, db.name
                );
                let server = PgServer {
                    group,
                    port,
                    bindir: bindir.clone(),
                    dir: dir.clone(),
                    log: log.to_path_buf(),
                    url,
                    superuser_password: superuser_password.clone(),
                    app_password: app_password.clone(),
                    query_stats,
                };
                if let Err(e) = seed(&server, db, &app_password).await {
                    server.stop().await;
                    return Err(e);
                }
                return Ok(server);
            }
            Err(status) => {
                group.stop(process::GRACE).await;
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let in_use = text.contains("Address already in use");
                let e = pg_err(format!(
                    "server exited during start-up ({}){}",
                    process::describe(status),
                    if in_use {
                        format!(
                            ": port {port} on 127.0.0.1 was already in use{}",
                            ports::describe_holder(port)
                        )
                    } else {
                        String::new()
                    }
                ));
                if !in_use {
                    return Err(e);
                }
                last_err = Some(e);
            }
        }
    }
    Err(last_err.unwrap_or_else(|| pg_err("could not start".into())))
}

/// Creates the role (with `password`) and database and loads schema and seed.
async fn seed(server: &PgServer, db: &DatabaseSpec, password: &str) -> Result<(), TargetError> {
    let err = |message: String| TargetError::Postgres {
        message,
        log: server.log.clone(),
        tail: log_tail(&server.log, 10),
    };
    for f in [&db.schema, &db.seed] {
        if !f.is_file() {
            return Err(err(format!("SQL file {} does not exist", f.display())));
        }
    }
    // Names are validated as [A-Za-z0-9_]+ in spec.rs and the password is
    // bakeoff's own hex (secret.rs), so interpolation is safe here; no value
    // from outside reaches this SQL.
    debug_assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
    let setup = format!(
        "CREATE ROLE {} LOGIN PASSWORD '{password}'; CREATE DATABASE {} OWNER {};",
        db.user, db.name, db.user
    );
    for stmt in setup
        .split_inclusive(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        psql(
            &server.bindir,
            server.port,
            (SUPERUSER, &server.superuser_password),
            "postgres",
            &["-c", stmt],
        )
        .await
        .map_err(|e| err(format!("`{stmt}` failed: {e}")))?;
    }
    if server.query_stats {
        // Created by the superuser (the extension is not a trusted one);
        // the application role reads its own statements' rows.
        let stmt = format!("CREATE EXTENSION IF NOT EXISTS {QUERY_STATS};");
        psql(
            &server.bindir,
            server.port,
            (SUPERUSER, &server.superuser_password),
            &db.name,
            &["-c", &stmt],
        )
        .await
        .map_err(|e| err(format!("`{stmt}` failed: {e}")))?;
    }
    let schema = db.schema.to_string_lossy();
    let seed = db.seed.to_string_lossy();
    psql(
        &server.bindir,
        server.port,
        (&db.user, password),
        &db.name,
        &["-f", &schema, "-f", &seed],
    )
    .await
    .map_err(|e| err(format!("loading {schema} and {seed} failed: {e}")))?;
    Ok(())
}

impl PgServer {
    pub fn pgid(&self) -> i32 {
        self.group.pgid
    }

    /// The postmaster's pid: equal to [`PgServer::pgid`], as it leads its
    /// group; its children are found by this parent pid (module doc).
    pub fn pid(&self) -> i32 {
        self.group.pgid
    }

    /// Brings database `db` back to its seed state: the tables of its
    /// schema hold exactly the rows of its seed file again, rewritten by
    /// `VACUUM (FULL, ANALYZE)` ([`restore_script`]). Runs as the
    /// application role, which owns those tables.
    pub async fn restore(&self, db: &DatabaseSpec) -> Result<(), TargetError> {
        let seed = std::fs::read_to_string(&db.seed)
            .map_err(|e| TargetError::io(format!("cannot read {}", db.seed.display()), e))?;
        psql_script(
            &self.bindir,
            self.port,
            (&db.user, &self.app_password),
            &db.name,
            &restore_script(&seed),
        )
        .await
        .map(drop)
        .map_err(|e| TargetError::Postgres {
            message: format!(
                "restoring database {} to the seed state of {} failed: {e}",
                db.name,
                db.seed.display()
            ),
            log: self.log.clone(),
            tail: log_tail(&self.log, 10),
        })
    }

    /// Fast shutdown, then removes the cluster's files.
    pub async fn stop(self) {
        let children = children_of(self.group.pgid);
        self.group.stop(process::GRACE).await;
        let deadline = Instant::now() + process::GRACE;
        while !all_gone(&children) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        kill_stragglers(&children);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Same, blocking (Drop backstop).
    pub fn stop_blocking(self) {
        let children = children_of(self.group.pgid);
        self.group.stop_blocking(process::GRACE);
        let deadline = Instant::now() + process::GRACE;
        while !all_gone(&children) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(25));
        }
        kill_stragglers(&children);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// "15.4" from `postgres --version`, if it runs.
    pub fn version(bindir: &Path) -> Option<String> {
        let out = std::process::Command::new(bindir.join("postgres"))
            .arg("--version")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace().last().map(str::to_string)
    }
}

/// Children of the postmaster. PostgreSQL's child processes call setsid()
/// and so leave the postmaster's process group; they exit by themselves
/// after a fast shutdown or once they notice the postmaster died, and are
/// tracked by pid so that a stop can make sure of it.
fn children_of(postmaster: i32) -> Vec<(i32, u64)> {
    process::processes()
        .into_iter()
        .filter(|(_, s)| s.ppid == postmaster)
        .map(|(pid, s)| (pid, s.start_time))
        .collect()
}

/// Start time of a process (field 22 of /proc/<pid>/stat), to tell a pid
/// from a later process that reused it.
fn start_time(pid: i32) -> Option<u64> {
    process::proc_stat(pid).map(|s| s.start_time)
}

fn still_there(&(pid, started): &(i32, u64)) -> bool {
    process::proc_stat(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X')
        && start_time(pid) == Some(started)
}

fn all_gone(children: &[(i32, u64)]) -> bool {
    !children.iter().any(still_there)
}

fn kill_stragglers(children: &[(i32, u64)]) {
    for c in children.iter().filter(|c| still_there(c)) {
        // SAFETY: plain syscall to a pid just checked to be the same process.
        unsafe { libc::kill(c.0, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_script_empties_reseeds_in_one_transaction_then_vacuums() {
        let script = restore_script("INSERT INTO t VALUES (1)");
        let at = |needle: &str| {
            script
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} missing from {script}"))
        };
        assert!(at("lock_timeout") < at("BEGIN;"));
        assert!(at("BEGIN;") < at("'TRUNCATE '"));
        assert!(at("'TRUNCATE '") < at("INSERT INTO t VALUES (1)\n"));
        assert!(at("INSERT INTO t") < at("COMMIT;"));
        // VACUUM cannot run in a transaction block.
        assert!(at("COMMIT;") < at("VACUUM (FULL, ANALYZE)"));
        assert_eq!(script.matches("\\gexec\n").count(), 2, "{script}");
        assert!(script.contains("tableowner = current_user"), "{script}");
    }

    #[test]
    fn finds_binaries_or_says_what_to_install() {
        match find_bindir(None) {
            Ok(d) => assert!(d.join("initdb").is_file() && d.join("postgres").is_file()),
            Err(e) => assert!(e.to_string().contains("apt install postgresql"), "{e}"),
        }
    }
}
