//! The reference apps' own unit tests (Node's `node --test`, Django's test
//! runner), run after the same dependency bootstrap `bakeoff run` uses, so
//! `cargo test` covers them too. They need no database.

use std::path::PathBuf;
use std::process::Command;

use bakeoff::targets::{TargetsSpec, bootstrap, targets_root};

async fn bootstrapped(name: &str) -> PathBuf {
    let spec = TargetsSpec::load(&targets_root().unwrap()).unwrap();
    let b = &spec.bootstraps[name];
    let log = std::env::temp_dir().join(format!("bakeoff-apps-test-bootstrap-{name}.log"));
    bootstrap::ensure(name, b, &log)
        .await
        .unwrap_or_else(|e| panic!("bootstrap {name}: {e}"));
    b.dir.clone()
}

fn assert_success(what: &str, out: std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn node_app_unit_tests_pass() {
    let dir = bootstrapped("node").await;
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_success("node --test", out);
    // node's TAP summary: "# pass N" with N > 0 and "# fail 0".
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "{stdout}"
    );
}

#[tokio::test]
async fn django_app_unit_tests_pass() {
    let dir = bootstrapped("django").await;
    let out = Command::new(dir.join(".venv/bin/python"))
        .args(["-m", "django", "test", "bench", "-v", "1"])
        .env("DJANGO_SETTINGS_MODULE", "bakeoff_site.settings")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&dir)
        .output()
        .unwrap();
    // The runner reports how many tests ran; zero would be a vacuous pass.
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_success("django test", out);
    assert!(
        stderr.contains("Ran ") && !stderr.contains("Ran 0 tests"),
        "{stderr}"
    );
}
