//! The target lifecycle against real processes: fake targets roots in temp
//! dirs (shell and `python3 -m http.server` variants), the private
//! PostgreSQL, `bakeoff up` stopped by SIGINT and SIGTERM, and a panic.
//! Every test checks through /proc (`util::procs`), from the test process,
//! that no process of the groups it saw is left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bakeoff::targets::{self, LabConfig, Mode, TargetError, process};

mod database;
use crate::util::procs::{
    alive_in_group, assert_group_gone, child_groups, processes, wait_exit, with_arg,
};

/// A python http.server that first leaves an orphaned `sleep` in its group
/// (proving the whole group is stopped, not just the leader) and records its
/// environment in env.txt.
const WEB: &str = r#"
[[variant]]
name = "web"
dir = "."
command = ["sh", "-c", "env > env.txt; (sleep 300 &) ; exec python3 -m http.server \"$PORT\" --bind \"$HOST\""]
readiness = "/"
[variant.env]
EXTRA = "from-spec"
"#;

fn fake_root(dir: &Path, toml: &str) -> PathBuf {
    let root = dir.join("targets");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("targets.toml"), toml).unwrap();
    root
}

fn config(dir: &Path, root: &Path) -> LabConfig {
    LabConfig {
        mode: Mode::Local,
        targets_root: root.to_path_buf(),
        log_dir: dir.join("logs"),
        state_dir: dir.join("state"),
        server_cpus: vec![0],
        db_connections: 7,
        urls: BTreeMap::new(),
        allow_remote: false,
        ready_timeout: Duration::from_secs(30),
        fixed_ports: BTreeMap::new(),
        pg_bindir: None,
        compose_db_password: "bakeoff".into(),
        control_tls: None,
    }
}

/// Status of a GET from synchronous test code (0 on a transport error).
fn http_get(url: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        client
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_target_starts_answers_is_pinned_sampled_and_stopped_with_its_group() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let mut lab = targets::prepare(config(dir.path(), &root), &["web".into()])
        .await
        .unwrap();
    let t = lab.start("web").await.unwrap();
    assert!(
        t.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        t.base_url
    );
    assert!(!t.base_url.ends_with('/'));
    let pgid = t.pgid.unwrap();
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/", t.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The leader and the orphaned sleep share the group.
    let members = alive_in_group(pgid);
    assert!(members.len() >= 2, "group {pgid}: {members:?}");
    // Pinned to CPU 0.
    for pid in &members {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim();
        assert_eq!(cpus, "0", "pid {pid}");
    }
    // The environment the contract promises, plus the variant's own.
    let env = std::fs::read_to_string(root.join("env.txt")).unwrap();
    let port = t.base_url.rsplit(':').next().unwrap();
    for want in [
        format!("PORT={port}"),
        "HOST=127.0.0.1".into(),
        "DB_POOL=7".into(),
        "EXTRA=from-spec".into(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from {env}");
    }
    assert!(!env.contains("DATABASE_URL="), "no [database], no URL");
    // A per-run random SECRET_KEY (64 hex digits), never a constant.
    let key = env
        .lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY="))
        .unwrap_or_else(|| panic!("SECRET_KEY missing from {env}"));
    assert!(
        key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "{key}"
    );
    // Output is captured in logs/web.log.
    let sampler = lab.sample("web").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let usage = sampler.finish(10, Duration::from_millis(600)).await;
    assert!(usage.samples >= 2, "{usage:?}");
    assert!(
        usage.rss_peak_bytes > 1_000_000,
        "python uses more than 1 MB: {usage:?}"
    );
    let log = std::fs::read_to_string(dir.path().join("logs/web.log")).unwrap();
    assert!(log.contains("GET / "), "{log}");

    lab.stop("web").await.unwrap();
    assert_group_gone(pgid, Duration::from_secs(2));
    assert!(lab.sample("web").is_none());
    assert!(!process::registered().contains(&pgid));
    lab.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropping_a_lab_stops_its_targets() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let mut lab = targets::prepare(config(dir.path(), &root), &["web".into()])
        .await
        .unwrap();
    let pgid = lab.start("web").await.unwrap().pgid.unwrap();
    assert!(!alive_in_group(pgid).is_empty());
    drop(lab);
    assert_group_gone(pgid, Duration::from_secs(2));
}

#[tokio::test]
async fn a_target_that_died_is_started_afresh() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let mut lab = targets::prepare(config(dir.path(), &root), &["web".into()])
        .await
        .unwrap();
    let first = lab.start("web").await.unwrap();
    let pgid = first.pgid.unwrap();
    // SAFETY: plain syscall to a group this test started.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    assert_group_gone(pgid, Duration::from_secs(2));
    // A zombie leader can be reaped only once all its threads are gone
    // (python's http.server keeps a thread per open connection).
    let deadline = Instant::now() + Duration::from_secs(2);
    while std::fs::read_dir(format!("/proc/{pgid}/task")).is_ok_and(|d| d.count() > 1)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = lab.start("web").await.unwrap();
    assert_ne!(second.pgid, first.pgid);
    assert_eq!(http_get_async(&format!("{}/", second.base_url)).await, 200);
    lab.shutdown().await.unwrap();
    assert_group_gone(second.pgid.unwrap(), Duration::from_secs(2));
}

async fn http_get_async(url: &str) -> u16 {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test]
async fn readiness_timeout_reports_the_log_and_leaves_nothing() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[[variant]]
name = "mute"
dir = "."
command = ["sh", "-c", "echo warming-up-marker; exec sleep 3017"]
readiness = "/health"
"#,
    );
    let mut cfg = config(dir.path(), &root);
    cfg.ready_timeout = Duration::from_secs(2);
    let mut lab = targets::prepare(cfg, &["mute".into()]).await.unwrap();
    let err = lab.start("mute").await.unwrap_err();
    assert!(matches!(err, TargetError::NotReady { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("target mute did not become ready within 2 s"),
        "{msg}"
    );
    assert!(msg.contains("warming-up-marker"), "{msg}");
    assert!(msg.contains("mute.log"), "{msg}");
    assert!(with_arg("3017").is_empty(), "sleep 3017 survived");
}

#[tokio::test]
async fn early_exit_reports_status_and_a_taken_port() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[[variant]]
name = "clash"
dir = "."
command = ["sh", "-c", "echo \"Error: listen EADDRINUSE: address already in use 127.0.0.1:$PORT\"; exit 3"]
readiness = "/"

[[variant]]
name = "crash"
dir = "."
command = ["sh", "-c", "echo crash-marker >&2; exit 4"]
readiness = "/"
"#,
    );
    let mut lab = targets::prepare(config(dir.path(), &root), &["clash".into(), "crash".into()])
        .await
        .unwrap();
    let msg = lab.start("clash").await.unwrap_err().to_string();
    assert!(
        msg.contains("exited before becoming ready (exit status 3)"),
        "{msg}"
    );
    assert!(msg.contains("was already in use"), "{msg}");
    let msg = lab.start("crash").await.unwrap_err().to_string();
    assert!(msg.contains("exit status 4"), "{msg}");
    assert!(msg.contains("crash-marker"), "{msg}");
    assert!(!msg.contains("already in use"), "{msg}");
}

#[tokio::test]
async fn missing_tools_and_unknown_keys_fail_before_anything_starts() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[[variant]]
name = "alien"
dir = "."
command = ["no-such-runtime-xyz", "server.js"]
readiness = "/"

[bootstrap.deps]
dir = "."
lock = "deps.lock"
stamp = ".stamp"
commands = [["true"]]
requires = ["no-such-installer-xyz"]

[[variant]]
name = "needs-deps"
bootstrap = "deps"
dir = "."
command = ["sh", "-c", "exit 0"]
readiness = "/"
"#,
    );
    let err = targets::prepare(config(dir.path(), &root), &["alien".into()])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no-such-runtime-xyz not found on PATH: install no-such-runtime-xyz"
    );
    let err = targets::prepare(config(dir.path(), &root), &["needs-deps".into()])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no-such-installer-xyz not found on PATH"),
        "{err}"
    );
    let err = targets::prepare(config(dir.path(), &root), &["nope".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown target \"nope\"") && err.contains("alien, needs-deps"),
        "{err}"
    );

    std::fs::write(
        root.join("targets.toml"),
        WEB.replace("readiness = \"/\"", "readiness = \"/\"\nreadyness = \"/\""),
    )
    .unwrap();
    let err = targets::prepare(config(dir.path(), &root), &["web".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&root.join("targets.toml").display().to_string()),
        "{err}"
    );
    assert!(err.contains("readyness"), "{err}");
}

#[tokio::test]
async fn bootstrap_runs_once_then_is_skipped_by_its_stamp() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[bootstrap.deps]
dir = "app"
lock = "deps.lock"
stamp = "installed/.stamp"
commands = [["sh", "-c", "echo run >> ../bootstrap-runs"], ["./install.sh"]]
requires = ["sh"]

[[variant]]
name = "app"
bootstrap = "deps"
dir = "app"
command = ["sh", "-c", "exec python3 -m http.server \"$PORT\" --bind 127.0.0.1"]
readiness = "/"
"#,
    );
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("deps.lock"), "lock v1").unwrap();
    std::fs::write(app.join("install.sh"), "#!/bin/sh\nmkdir -p installed\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        app.join("install.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let runs = || {
        std::fs::read_to_string(root.join("bootstrap-runs"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    for expected in [1, 1] {
        let mut lab = targets::prepare(config(dir.path(), &root), &["app".into()])
            .await
            .unwrap();
        assert_eq!(runs(), expected);
        lab.shutdown().await.unwrap();
    }
    std::fs::write(app.join("deps.lock"), "lock v2").unwrap();
    let mut lab = targets::prepare(config(dir.path(), &root), &["app".into()])
        .await
        .unwrap();
    assert_eq!(runs(), 2);
    let log = std::fs::read_to_string(dir.path().join("logs/bootstrap-deps.log")).unwrap();
    assert!(log.contains("$ ./install.sh"), "{log}");
    lab.shutdown().await.unwrap();
}

#[tokio::test]
async fn external_urls_are_checked() {
    let _area = crate::util::area(module_path!());
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", server.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in server.incoming().flatten().take(4) {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), dir.path());
    cfg.mode = Mode::External;
    cfg.urls.insert("ext".into(), url.clone());
    let mut lab = targets::prepare(cfg.clone(), &["ext".into()])
        .await
        .unwrap();
    let t = lab.start("ext").await.unwrap();
    assert_eq!(format!("{}/", t.base_url), url);
    assert_eq!(t.pgid, None);
    assert!(lab.sample("ext").is_none());
    lab.shutdown().await.unwrap();

    let err = targets::prepare(cfg.clone(), &["other".into()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--url other="), "{err}");
    cfg.urls.insert("far".into(), "http://192.0.2.1:80".into());
    let err = targets::prepare(cfg.clone(), &["far".into()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--allow-remote"), "{err}");
    let dead = format!(
        "http://127.0.0.1:{}",
        bakeoff::targets::free_port().unwrap()
    );
    cfg.urls.insert("dead".into(), dead.clone());
    let err = targets::prepare(cfg, &["dead".into()]).await.unwrap_err();
    assert!(err.to_string().contains(&dead), "{err}");
}

#[tokio::test]
async fn compose_mode_fails_early_with_a_clear_message() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let mut cfg = config(dir.path(), &root);
    cfg.mode = Mode::Compose;
    let msg = targets::prepare(cfg, &["web".into()])
        .await
        .unwrap_err()
        .to_string();
    // No engine on the development machine (or, with one, no compose file
    // in the temp dir): either way the message says what is wrong.
    assert!(
        msg.contains("docker")
            && (msg.contains("--targets local") || msg.contains("docker-compose.yml")),
        "{msg}"
    );
}

/// Starts `bakeoff up --json` on a fake targets root and returns the child
/// and the JSON line it printed.
fn start_up(
    root: &Path,
    cwd: &Path,
    extra: &[&str],
    limit: Duration,
) -> (Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["up", "--json"])
        .args(extra)
        .env("BAKEOFF_TARGETS", root)
        // Its run directory (logs, PostgreSQL state) lands in our temp dir.
        .env("TMPDIR", cwd)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(limit) {
        Ok(line) if !line.is_empty() => (child, serde_json::from_str(&line).unwrap()),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bakeoff up printed no JSON line: {other:?}");
        }
    }
}

fn up_then_signal(signal: i32) {
    let dir = tempfile::tempdir().unwrap();
    let two = format!("{WEB}{}", WEB.replace("name = \"web\"", "name = \"web2\""));
    let root = fake_root(dir.path(), &two);
    let (mut child, json) = start_up(&root, dir.path(), &[], Duration::from_secs(50));
    let targets = json["targets"].as_object().unwrap();
    assert_eq!(targets.len(), 2, "{json}");
    assert!(json["database_url"].is_null(), "{json}");
    for url in targets.values() {
        assert_eq!(http_get(&format!("{}/", url.as_str().unwrap())), 200);
    }
    let groups = child_groups(child.id() as i32);
    assert_eq!(groups.len(), 2, "{groups:?}");
    for &g in &groups {
        assert!(alive_in_group(g).len() >= 2, "group {g}");
    }
    // SAFETY: plain syscall to our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    for g in groups {
        assert_group_gone(g, Duration::from_secs(2));
    }
}

#[test]
fn up_stops_everything_on_sigint() {
    let _area = crate::util::area(module_path!());
    up_then_signal(libc::SIGINT);
}

#[test]
fn up_stops_everything_on_sigterm() {
    let _area = crate::util::area(module_path!());
    up_then_signal(libc::SIGTERM);
}

#[test]
fn up_interrupted_during_start_up_stops_what_it_started() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[[variant]]
name = "slow"
dir = "."
command = ["sh", "-c", "(sleep 300 &); exec sleep 3019"]
readiness = "/"
"#,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["up", "--json"])
        .env("BAKEOFF_TARGETS", &root)
        .env("TMPDIR", dir.path())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let me = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(20);
    let groups = loop {
        let g = child_groups(me);
        if !g.is_empty() || Instant::now() > deadline {
            break g;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(groups.len(), 1, "the target never started");
    // SAFETY: plain syscall to our own child.
    unsafe { libc::kill(me, libc::SIGINT) };
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(2));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("interrupted before all targets were up"),
        "{stderr}"
    );
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(stdout, "", "no JSON line when not everything came up");
    assert_group_gone(groups[0], Duration::from_secs(2));
}

/// The real reference targets (targets/targets.toml, with their
/// dependencies bootstrapped if needed) and the private PostgreSQL, brought
/// up by `bakeoff up` and stopped by Ctrl-C.
#[test]
fn up_runs_the_real_targets_and_leaves_nothing() {
    let _area = crate::util::area(module_path!());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets");
    let dir = tempfile::tempdir().unwrap();
    let (mut child, json) = start_up(
        &root,
        dir.path(),
        &["--only", "node,django-sync"],
        Duration::from_secs(170),
    );
    let targets = json["targets"].as_object().unwrap();
    assert_eq!(
        targets.keys().collect::<Vec<_>>(),
        ["django-sync", "node"],
        "{json}"
    );
    for url in targets.values() {
        assert_eq!(http_get(&format!("{}/db", url.as_str().unwrap())), 200);
    }
    let db = json["database_url"].as_str().unwrap();
    let out = Command::new("psql")
        .args([db, "-Atc", "select count(*) from world"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "10000");
    let me = child.id() as i32;
    let groups = child_groups(me);
    assert_eq!(groups.len(), 3, "postgres + 2 targets: {groups:?}");
    // Everything below bakeoff, including PostgreSQL's own children.
    let mut family: Vec<i32> = processes()
        .into_iter()
        .filter(|&(_, ppid, pgrp, _)| groups.contains(&pgrp) || groups.contains(&ppid))
        .map(|(p, ..)| p)
        .collect();
    family.sort();
    // SAFETY: plain syscall to our own child.
    unsafe { libc::kill(me, libc::SIGINT) };
    let status = wait_exit(&mut child, Duration::from_secs(40));
    assert!(status.success(), "{status:?}");
    for g in groups {
        assert_group_gone(g, Duration::from_secs(2));
    }
    let left: Vec<i32> = processes()
        .into_iter()
        .filter(|&(p, _, _, s)| family.binary_search(&p).is_ok() && s != 'Z')
        .map(|(p, ..)| p)
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Runs in a child process of `panic_hook_kills_every_group`: starts a
/// target, leaks the Lab (so no Drop runs) and panics; only the panic hook
/// can stop the target's group.
#[test]
#[ignore = "helper: run by panic_hook_kills_every_group in a child process"]
fn panic_helper() {
    let root = PathBuf::from(std::env::var("PANIC_HELPER_ROOT").expect("run by its parent test"));
    process::install_panic_hook();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = root.parent().unwrap().to_path_buf();
    let lab = rt.block_on(async {
        let mut lab = targets::prepare(config(&dir, &root), &["web".into()])
            .await
            .unwrap();
        lab.start("web").await.unwrap();
        lab
    });
    println!("PGIDS={:?}", lab.process_groups());
    std::mem::forget(lab);
    std::mem::forget(rt);
    panic!("deliberate panic with a target running");
}

#[test]
fn panic_hook_kills_every_group() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "lifecycle::panic_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PANIC_HELPER_ROOT", &root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the helper must fail by panicking");
    assert!(
        stderr.contains("deliberate panic") || stdout.contains("deliberate panic"),
        "{stdout}\n{stderr}"
    );
    let pgids: Vec<i32> = stdout
        .lines()
        .find_map(|l| l.split_once("PGIDS=").map(|(_, v)| v))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap_or_else(|| panic!("no PGIDS line in\n{stdout}\n{stderr}"));
    assert_eq!(pgids.len(), 1);
    assert_group_gone(pgids[0], Duration::from_secs(2));
}
