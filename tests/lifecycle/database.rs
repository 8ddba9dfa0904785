//! The private PostgreSQL through the Lab: the real schema and seed of
//! targets/db loaded into a fresh cluster, reachable with the run's password
//! only, sampled with the target (its CPU counted from the backends, which
//! leave the postmaster's group), restored to the seed before each target,
//! and stopped with all its processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bakeoff::targets;

use super::{config, fake_root};
use crate::util::procs::{assert_group_gone, processes};

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
    let _area = crate::util::area(module_path!());
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
    let mut lab = targets::prepare(config(dir.path(), &root), &["dbweb".into()])
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

/// Digest and row counts of both tables of schema.sql.
const CONTENTS: &str = "select (select md5(string_agg(id || ':' || randomnumber, ',' order by id)) from world) \
     || ' ' || (select md5(string_agg(id || ':' || message, ',' order by id)) from fortune) \
     || ' ' || (select count(*) from world) || ' ' || (select count(*) from fortune)";

/// What `/updates` and a careless target do to the tables, undone by
/// restore_database: the seed loaded at start-up and the restored one are
/// the same rows (the seed is deterministic), the tables were rewritten
/// (VACUUM FULL: a new file, the dead rows gone) and analysed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_database_brings_back_the_seed_rows() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = database_root(
        dir.path(),
        r#"
[[variant]]
name = "unused"
dir = "."
command = ["true"]
readiness = "/"
"#,
    );
    let mut lab = targets::prepare(config(dir.path(), &root), &[])
        .await
        .unwrap();
    let url = lab.database_url().unwrap();
    let seeded = query(&url, CONTENTS);
    assert!(seeded.ends_with(" 10000 12"), "{seeded}");
    // Still random numbers 1..=10000, just the same ones every time.
    assert_eq!(
        query(
            &url,
            "select min(randomnumber) >= 1 and max(randomnumber) <= 10000 \
             and count(distinct randomnumber) > 5000 from world"
        ),
        "t"
    );
    let file_before = query(&url, "select pg_relation_filenode('world')");
    let analysed_before = query(
        &url,
        "select last_analyze from pg_stat_user_tables where relname = 'world'",
    );
    let size_seeded: u64 = query(&url, "select pg_relation_size('world')")
        .parse()
        .unwrap();

    for _ in 0..3 {
        query(
            &url,
            "update world set randomnumber = randomnumber % 10000 + 1",
        );
    }
    query(&url, "delete from fortune where id > 6");
    query(&url, "insert into fortune values (13, 'not a seed row')");
    let size_bloated: u64 = query(&url, "select pg_relation_size('world')")
        .parse()
        .unwrap();
    assert_ne!(query(&url, CONTENTS), seeded);
    assert!(
        size_bloated > size_seeded,
        "{size_bloated} vs {size_seeded}"
    );

    let started = Instant::now();
    lab.restore_database().await.unwrap();
    eprintln!("restore_database took {:?}", started.elapsed());
    assert_eq!(query(&url, CONTENTS), seeded);
    let size_restored: u64 = query(&url, "select pg_relation_size('world')")
        .parse()
        .unwrap();
    assert!(
        size_restored <= size_seeded,
        "{size_restored} vs {size_seeded}"
    );
    assert_ne!(
        query(&url, "select pg_relation_filenode('world')"),
        file_before,
        "VACUUM FULL rewrote world"
    );
    assert_eq!(
        query(
            &url,
            &format!(
                "select last_analyze > '{analysed_before}' from pg_stat_user_tables \
                 where relname = 'world'"
            )
        ),
        "t",
        "ANALYZE ran again"
    );

    // Restoring an unchanged database changes nothing, also with a
    // target's idle connection open.
    let mut idle = Command::new("psql")
        .args(["-X", "-q", "-w", &url])
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let others = "select count(*) from pg_stat_activity \
                  where usename = 'benchuser' and pid <> pg_backend_pid()";
    let deadline = Instant::now() + Duration::from_secs(10);
    while query(&url, others) != "1" {
        assert!(Instant::now() < deadline, "the idle psql never connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    lab.restore_database().await.unwrap();
    assert_eq!(query(&url, CONTENTS), seeded);
    drop(idle.stdin.take());
    idle.wait().unwrap();
    lab.shutdown().await.unwrap();
}
