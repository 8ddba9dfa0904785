//! `--targets compose` through the real binary, on every machine: a fake
//! `docker-compose` (v1, as Debian ships it) on PATH records each command
//! line and its environment, and the service's published port is an
//! in-process test server. Checks the lifecycle's order (build, database,
//! its readiness, probes, seed restore, target up, log, rm, down), that
//! every command names the project and the suite's CPU set, what results
//! record, and that `down` runs when a target fails to come up. The real
//! engine is exercised by scripts/compose-smoke.sh in CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::server::{Behaviour, TestServer};

/// A fake `docker-compose` that logs `TARGET_CPUSET|args` per call to
/// `$FAKE_LOG`, answers `version`, `run` (a version probe) and the
/// database's `exec` probe, reads psql's stdin (the restore script, or
/// the query counters' statement, answered with fixed counts),
/// and fails `up` of the service named in `$FAKE_FAIL_UP`. A fake `docker`
/// that fails, so the plugin is not picked.
fn fake_bin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let compose = r#"#!/bin/sh
echo "${TARGET_CPUSET:-}|$*" >> "$FAKE_LOG"
case " $* " in
*" version "*) echo "docker-compose version 1.29.2, build fake"; exit 0 ;;
*" run "*) echo "node=v18.19.0"; echo "npm=9.2.0"; exit 0 ;;
*" exec "*"postgres --version"*) echo "postgresql=15.99"; exit 0 ;;
*" exec "*"psql"*)
    # The restore script, or a counter session: one line per reading.
    while read -r line; do
        case "$line" in *pg_stat_statements*) echo "7|7|0|0" ;; esac
    done
    exit 0 ;;
esac
if [ -n "${FAKE_FAIL_UP:-}" ]; then
    case " $* " in *" up "*" $FAKE_FAIL_UP "*) echo "cannot start $FAKE_FAIL_UP" >&2; exit 1 ;; esac
fi
exit 0
"#;
    let docker = "#!/bin/sh\necho \"docker: fake, no plugin\" >&2\nexit 1\n";
    for (name, text) in [("docker-compose", compose), ("docker", docker)] {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// `<dir>/targets` (targets.toml and db/ of the repository) beside a
/// docker-compose.yml whose node service publishes `$FAKE_NODE_PORT`
/// (substituted as compose would).
fn project_dir(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let targets = dir.join("targets");
    std::fs::create_dir_all(targets.join("db")).unwrap();
    std::fs::copy(
        repo.join("targets/targets.toml"),
        targets.join("targets.toml"),
    )
    .unwrap();
    for f in ["schema.sql", "seed.sql", "stats.sql"] {
        std::fs::copy(repo.join("targets/db").join(f), targets.join("db").join(f)).unwrap();
    }
    std::fs::write(
        dir.join("docker-compose.yml"),
        "services:\n  postgres:\n    image: x\n  node:\n    image: y\n    ports:\n      - \"127.0.0.1:${FAKE_NODE_PORT:-1}:3001\"\n",
    )
    .unwrap();
    targets
}

fn suite(dir: &Path) -> PathBuf {
    let path = dir.join("one-step.toml");
    std::fs::write(
        &path,
        "name = \"one-step\"\ntargets = [\"node\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"500ms\"\n\
         [[scenario]]\nname = \"plain\"\nmodel = \"closed\"\nconcurrency = [2]\npath = \"/plaintext\"\n",
    )
    .unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stderr: String,
    calls: Vec<String>,
    out: PathBuf,
}

fn run_compose(tmp: &Path, server: &TestServer, fail_up: Option<&str>) -> Run {
    let bin = fake_bin(tmp);
    let targets = project_dir(tmp);
    let log = tmp.join("calls.log");
    let out = tmp.join("run");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.arg("run")
        .arg(suite(tmp))
        .args(["--targets", "compose", "--out"])
        .arg(&out)
        .env("PATH", path)
        .env("BAKEOFF_TARGETS", &targets)
        .env("BAKEOFF_READY_TIMEOUT", "10s")
        .env("FAKE_LOG", &log)
        .env("FAKE_NODE_PORT", server.addr.port().to_string())
        .env_remove("TARGET_CPUSET")
        .env_remove("DOCKER_HOST");
    if let Some(service) = fail_up {
        cmd.env("FAKE_FAIL_UP", service);
    }
    let output = cmd.output().unwrap();
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    Run {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        calls,
        out,
    }
}

/// The calls with the file and project stripped: "build postgres node".
fn verbs(run: &Run, file: &Path) -> Vec<String> {
    let prefix = format!("-f {} -p bakeoff ", file.display());
    run.calls
        .iter()
        .map(|c| {
            let args = c.split_once('|').map_or(c.as_str(), |(_, a)| a);
            args.strip_prefix(&prefix).unwrap_or(args).to_string()
        })
        .collect()
}

#[test]
fn compose_lifecycle_in_order_with_the_cpu_set_and_versions_recorded() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::builder().fallback(Behaviour::ok()).start();
    let run = run_compose(tmp.path(), &server, None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let file = tmp.path().join("docker-compose.yml");
    let verbs = verbs(&run, &file);
    let first = |prefix: &str| {
        verbs
            .iter()
            .position(|v| v.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` call in {verbs:#?}"))
    };
    assert_eq!(verbs[0], "version");
    let order = [
        "ps -q",
        "build postgres node",
        "up -d --no-deps postgres",
        "exec -T postgres sh -c pg_isready",
        "exec -T postgres sh -c echo postgresql=",
        "run --rm --no-deps -T --entrypoint sh node -c",
        "exec -T postgres sh -c PGPASSWORD",
        "up -d --no-deps node",
        "logs --no-color node",
        "rm --stop --force -v node",
        "down -v --remove-orphans -t 5",
    ];
    let at: Vec<usize> = order.iter().map(|p| first(p)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "order: {verbs:#?}");
    assert_eq!(verbs.last().unwrap(), "down -v --remove-orphans -t 5");
    // Every call after `version` names the file and the project; every
    // call that makes containers gets the suite's server CPUs as
    // TARGET_CPUSET.
    let layout_cpus = {
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.out.join("results.json")).unwrap()).unwrap();
        let cpus: Vec<String> = r["provenance"]["cpu_layout"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert!(r["complete"].as_bool().unwrap());
        assert_eq!(r["provenance"]["targets_mode"], "compose");
        let v = &r["provenance"]["versions"];
        assert_eq!(v["node"], "18.19.0");
        assert_eq!(v["npm"], "9.2.0");
        assert_eq!(v["postgresql"], "15.99");
        assert_eq!(v["compose"], "docker-compose 1.29.2");
        let steps = r["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1);
        assert!(steps[0]["summary"]["requests"].as_u64().unwrap() > 0);
        let notes: Vec<&str> = r["provenance"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n.as_str())
            .filter(|n| n.starts_with("Compose:"))
            .collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(&format!("cpuset \"{}\"", cpus.join(","))),
            "{notes:?}"
        );
        cpus.join(",")
    };
    for call in &run.calls[1..] {
        let (cpuset, args) = call.split_once('|').unwrap();
        let verb = args.split(' ').nth(4).unwrap_or("");
        if ["build", "up", "run"].contains(&verb) {
            assert_eq!(cpuset, layout_cpus, "{call}");
        }
        assert!(
            args.starts_with(&format!("-f {} -p bakeoff ", file.display())),
            "{call}"
        );
    }
    assert!(run.out.join("logs/node.log").is_file());
}

#[test]
fn a_target_that_does_not_come_up_still_takes_the_project_down() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::builder().fallback(Behaviour::ok()).start();
    let run = run_compose(tmp.path(), &server, Some("node"));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cannot start node"), "{}", run.stderr);
    let verbs = verbs(&run, &tmp.path().join("docker-compose.yml"));
    assert_eq!(
        verbs.last().unwrap(),
        "down -v --remove-orphans -t 5",
        "{verbs:#?}"
    );
    assert_eq!(
        verbs.iter().filter(|v| v.starts_with("down ")).count(),
        1,
        "{verbs:#?}"
    );
}
