//! The private PostgreSQL through the Lab: the real schema and seed of
//! targets/db loaded into a fresh cluster, reachable with the run's password
//! only, sampled with the target (its CPU counted from the backends, which
//! leave the postmaster's group), and stopped with all its processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use bakeoff::targets::Lab;

use super::procs::{assert_group_gone, processes};
use super::{config, fake_root};

/// A root whose [database] is a copy of the repository's schema and seed.
fn database_root(dir: &Path, variants: &str) -> PathBuf {
    let repo_db = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/db");
    let root = fake_root(
        dir,
        &format!(
            r#"
[database]
schema = "db/schema.sql"
seed = "db/seed.sql"
name = "benchdb"
user = "benchuser"
{variants}"#
        ),
    );
    std::fs::create_dir_all(root.join("db")).unwrap();
    for f in ["schema.sql", "seed.sql"] {
        std::fs::copy(repo_db.join(f), root.join("db").join(f)).unwrap();
    }
    root
}

/// psql with a URL (its password inside), independently of the crate.
fn psql(url: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args(["-X", "-w", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql])
        .env_remove("PGPASSWORD")
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// stdout of a psql query that must succeed.
fn query(url: &str, sql: &str) -> String {
    let out = psql(url, sql);
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A target reaches the database through DATABASE_URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_postgres_is_seeded_reachable_sampled_and_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let root = database_root(
        dir.path(),
        r#"
[[variant]]
name = "dbweb"
dir = "."
command = ["sh", "-c", "psql \"$DATABASE_URL\" -Atc 'select count(*) from fortune' > fortunes.txt; exec python3 -m http.server \"$PORT\" --bind 127.0.0.1"]
readiness = "/"
"#,
    );
    let mut lab = Lab::prepare(config(dir.path(), &root), &["dbweb".into()])
        .await
        .unwrap();
    let url = lab.database_url().unwrap();
    assert!(url.starts_with("postgres://benchuser:"), "{url}");
    assert!(url.ends_with("/benchdb"), "{url}");
    // The password is random per run (48 hex digits)...
    let password = url["postgres://benchuser:".len()..]
        .split('@')
        .next()
        .unwrap();
    assert!(
        password.len() == 48 && password.chars().all(|c| c.is_ascii_hexdigit()),
        "{url}"
    );
    assert_eq!(query(&url, "select count(*) from world"), "10000");
    // ... and it matters: scram-sha-256, not trust.
    for wrong in [
        url.replacen(password, "bakeoff", 1),
        url.replacen(&format!(":{password}@"), "@", 1),
        url.replacen("benchuser", "postgres", 1)
            .replacen(password, "postgres", 1),
    ] {
        let out = psql(&wrong, "select 1");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success()
                && (stderr.contains("password authentication failed")
                    || stderr.contains("no password supplied")),
            "{wrong}: {stderr}"
        );
    }
    lab.start("dbweb").await.unwrap();
    let fortunes = std::fs::read_to_string(root.join("fortunes.txt")).unwrap();
    assert_eq!(fortunes.trim(), "12");
    let groups = lab.process_groups();
    assert_eq!(groups.len(), 2, "{groups:?}");
    // PostgreSQL is pinned like the targets.
    let pg_status = std::fs::read_to_string(format!("/proc/{}/status", groups[1])).unwrap();
    assert!(pg_status.contains("Cpus_allowed_list:\t0\n"), "{pg_status}");
    assert!(lab.versions().contains_key("postgresql"));
    // PostgreSQL's children leave the postmaster's group (setsid): track them by pid.
    let pg_children: Vec<i32> = processes()
        .into_iter()
        .filter(|&(_, ppid, ..)| ppid == groups[1])
        .map(|(p, ..)| p)
        .collect();
    assert!(!pg_children.is_empty());
    let in_group: Vec<i32> = processes()
        .into_iter()
        .filter(|&(p, ppid, pgrp, _)| ppid == groups[1] && pgrp == groups[1] && p != groups[1])
        .map(|(p, ..)| p)
        .collect();
    assert!(in_group.is_empty(), "children in the group: {in_group:?}");

    // A query that keeps a backend (born during the step, outside the
    // postmaster's group) busy: its CPU is the database's, not the target's.
    let sampler = lab.sample("dbweb").unwrap();
    let busy = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            query(
                &url,
                "select sum(x) from generate_series(1, 6000000) x; select pg_sleep(0.6)",
            )
        })
    };
    busy.await.unwrap();
    let usage = sampler.finish(100, Duration::from_secs(1)).await;
    eprintln!("sampled with a busy backend: {usage:?}");
    // sh exec'd python3: one process.
    assert_eq!(usage.processes, 1, "{usage:?}");
    let db_cpu_s = usage.db_cpu_s.unwrap();
    assert!(db_cpu_s >= 0.1, "the busy backend counts: {usage:?}");
    assert!(db_cpu_s > usage.cpu_s, "{usage:?}");
    let per_core = 100.0 / (usage.cpu_s + db_cpu_s);
    assert!((usage.rps_per_core - per_core).abs() < 1e-9, "{usage:?}");

    lab.shutdown().await.unwrap();
    for g in groups {
        assert_group_gone(g, Duration::from_secs(3));
    }
    let left: Vec<i32> = processes()
        .into_iter()
        .filter(|&(p, _, _, s)| pg_children.contains(&p) && s != 'Z')
        .map(|(p, ..)| p)
        .collect();
    assert!(left.is_empty(), "postgres children left: {left:?}");
    assert!(
        !dir.path().join("state/postgres").exists(),
        "cluster files removed"
    );
    let log = std::fs::read_to_string(dir.path().join("logs/postgres.log")).unwrap();
    assert!(log.contains("database system is shut down"), "{log}");
}
