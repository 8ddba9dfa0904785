//! Bad environments through the real binary: a missing node / npm / python3
//! / PostgreSQL, a port already taken (by a target or by PostgreSQL), a
//! target that exits during start-up, a target that never becomes ready,
//! and malformed environment hooks. Each must end with exit code 2 and a
//! message naming the tool, port, target or file, never a panic, and leave
//! no process behind (checked by the test itself through /proc, see
//! `util::procs`).
//!
//! Failures are provoked through the hooks documented in `src/targets/mod.rs`:
//! `PATH`, `BAKEOFF_PG_BINDIR`, `BAKEOFF_PORTS`, `BAKEOFF_READY_TIMEOUT`,
//! `BAKEOFF_TARGETS`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::procs::assert_none_left;

/// A python http.server variant that would start fine.
const WEB: &str = r#"
[[variant]]
name = "node"
dir = "."
command = ["sh", "-c", "(sleep 300 &) ; exec python3 -m http.server \"$PORT\" --bind \"$HOST\""]
readiness = "/"
"#;

/// The real schema and seed, for roots with a private PostgreSQL.
const DATABASE: &str = r#"
[database]
schema = "db/schema.sql"
seed = "db/seed.sql"
name = "envdb"
user = "envuser"
"#;

fn fake_root(dir: &Path, toml: &str) -> PathBuf {
    let root = dir.join("targets");
    std::fs::create_dir_all(root.join("db")).unwrap();
    std::fs::write(root.join("targets.toml"), toml).unwrap();
    let repo_db = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/db");
    for f in ["schema.sql", "seed.sql"] {
        std::fs::copy(repo_db.join(f), root.join("db").join(f)).unwrap();
    }
    root
}

fn repo_targets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("targets")
}

/// Runs the binary to its end with its temp files (run dir, logs,
/// PostgreSQL state) under `dir`; returns its output and pid.
fn bakeoff(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, u32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.args(args)
        .env("TMPDIR", dir)
        .env_remove("BAKEOFF_PORTS")
        .env_remove("BAKEOFF_READY_TIMEOUT")
        .env_remove("BAKEOFF_PG_BINDIR")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

/// Exit code 2, no panic, nothing left running; returns stderr.
fn failed_cleanly(dir: &Path, (out, pid): (Output, u32)) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Processes killed by the group teardown may take a moment to vanish
    // from /proc; anything still there after that is a leak.
    assert_none_left(dir, pid, Duration::from_secs(5));
    stderr
}

/// A directory of symlinks to the given programs (found on our PATH), to
/// serve as the whole PATH of a bakeoff that must not find the others.
fn path_with(dir: &Path, programs: &[&str]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for p in programs {
        let found = bakeoff::targets::process::which(p)
            .unwrap_or_else(|| panic!("{p} is needed on PATH for this test"));
        std::os::unix::fs::symlink(found, bin.join(p)).unwrap();
    }
    bin.display().to_string()
}

#[test]
fn missing_node_npm_python_are_named_with_what_to_install() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let targets = repo_targets();
    let targets = targets.to_str().unwrap();

    // Everything but node.
    let path = path_with(dir.path(), &["npm", "python3", "sh"]);
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up", "--only", "node"],
            &[("PATH", &path), ("BAKEOFF_TARGETS", targets)],
        ),
    );
    assert!(
        stderr.contains("node not found on PATH: install Node.js 20 (apt install nodejs npm)"),
        "{stderr}"
    );
    assert!(!stderr.contains("npm not found"), "{stderr}");

    // Nothing at all: every missing tool at once, one line each.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up", "--only", "node,django-sync"],
            &[
                ("PATH", empty.to_str().unwrap()),
                ("BAKEOFF_TARGETS", targets),
            ],
        ),
    );
    for line in [
        "node not found on PATH: install Node.js 20 (apt install nodejs npm)",
        "npm not found on PATH: install npm, which comes with Node.js 20 (apt install nodejs npm)",
        "python3 not found on PATH: install Python 3.11 with venv support (apt install python3 python3-venv)",
    ] {
        assert!(stderr.contains(line), "{line:?} missing from {stderr}");
    }
    // Checked before anything started: no log of any target was written.
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("bakeoff-up-"))
            .filter(|e| e.path().join("logs").exists())
            .count(),
        0
    );
}

#[test]
fn missing_postgresql_binaries_are_named() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-pg");
    std::fs::create_dir_all(&empty).unwrap();
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up", "--only", "node"],
            &[
                ("BAKEOFF_PG_BINDIR", empty.to_str().unwrap()),
                ("BAKEOFF_TARGETS", repo_targets().to_str().unwrap()),
            ],
        ),
    );
    assert!(
        stderr.contains(&format!(
            "PostgreSQL binaries not found (looked in BAKEOFF_PG_BINDIR={}, which lacks initdb, postgres, psql): install PostgreSQL 15 (apt install postgresql)",
            empty.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_taken_port_is_named_with_the_target_and_its_holder() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), &format!("{DATABASE}{WEB}"));
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let me = std::process::id();
    let held_by = format!("(held by pid {me}, ");

    // A target's port, through `bakeoff run`.
    let suite = dir.path().join("one-step.toml");
    std::fs::write(
        &suite,
        "name = \"one-step\"\ntargets = [\"node\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"1s\"\n\
         [[scenario]]\nname = \"files\"\nmodel = \"closed\"\nconcurrency = [2]\npath = \"/\"\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let ports = format!("node={port}");
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &[
                "run",
                suite.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[
                ("BAKEOFF_TARGETS", root.to_str().unwrap()),
                ("BAKEOFF_PORTS", &ports),
            ],
        ),
    );
    assert!(
        stderr.contains(&format!(
            "target node cannot start: port {port} on 127.0.0.1 is already in use {held_by}"
        )),
        "{stderr}"
    );

    // PostgreSQL's port, through `bakeoff up`.
    let ports = format!("postgres={port}");
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up"],
            &[
                ("BAKEOFF_TARGETS", root.to_str().unwrap()),
                ("BAKEOFF_PORTS", &ports),
            ],
        ),
    );
    assert!(
        stderr.contains(&format!(
            "PostgreSQL cannot start: port {port} on 127.0.0.1 is already in use {held_by}"
        )),
        "{stderr}"
    );
    drop(holder);
}

#[test]
fn a_target_exiting_during_start_up_shows_its_status_and_log_tail() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL comes up first, so this also shows it is stopped when a
    // target fails after it.
    let root = fake_root(
        dir.path(),
        &format!(
            "{DATABASE}{}",
            r#"
[[variant]]
name = "broken"
dir = "."
command = ["sh", "-c", "for i in $(seq 1 30); do echo log-line-$i; done; exit 1"]
readiness = "/"
"#
        ),
    );
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up"],
            &[("BAKEOFF_TARGETS", root.to_str().unwrap())],
        ),
    );
    let log = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "error: target broken exited before becoming ready (exit status 1); last lines of ",
            )
        })
        .unwrap_or_else(|| panic!("{stderr}"))
        .trim_end_matches(':');
    assert!(log.ends_with("/logs/broken.log"), "{stderr}");
    assert!(Path::new(log).starts_with(dir.path()), "{stderr}");
    // The last 20 lines, and only those.
    for i in 11..=30 {
        assert!(stderr.contains(&format!("| log-line-{i}\n")), "{stderr}");
    }
    assert!(!stderr.contains("| log-line-10\n"), "{stderr}");
}

#[test]
fn a_target_that_never_becomes_ready_times_out_with_url_and_log() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(
        dir.path(),
        r#"
[[variant]]
name = "mute"
dir = "."
command = ["sh", "-c", "echo still-warming-up; (sleep 300 &); exec sleep 3021"]
readiness = "/health"
"#,
    );
    let stderr = failed_cleanly(
        dir.path(),
        bakeoff(
            dir.path(),
            &["up"],
            &[
                ("BAKEOFF_TARGETS", root.to_str().unwrap()),
                ("BAKEOFF_READY_TIMEOUT", "1.5"),
            ],
        ),
    );
    assert!(
        stderr.contains(
            "error: target mute did not become ready within 1.5 s (GET http://127.0.0.1:"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("/health never answered 200"), "{stderr}");
    assert!(
        stderr.contains("mute.log:\n  | still-warming-up"),
        "{stderr}"
    );
}

#[test]
fn malformed_environment_hooks_are_named() {
    let _area = crate::util::area(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let root = fake_root(dir.path(), WEB);
    let root = root.to_str().unwrap();
    for (var, value, want) in [
        (
            "BAKEOFF_READY_TIMEOUT",
            "soon",
            "invalid BAKEOFF_READY_TIMEOUT=\"soon\"",
        ),
        (
            "BAKEOFF_PORTS",
            "node=http",
            "invalid BAKEOFF_PORTS=\"node=http\"",
        ),
        (
            "BAKEOFF_PORTS",
            "nginx=8080",
            "nginx is neither a variant of",
        ),
    ] {
        let stderr = failed_cleanly(
            dir.path(),
            bakeoff(
                dir.path(),
                &["up"],
                &[("BAKEOFF_TARGETS", root), (var, value)],
            ),
        );
        assert!(stderr.contains(want), "{var}={value}: {stderr}");
    }
}
