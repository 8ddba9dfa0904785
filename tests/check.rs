//! The contract checker against an in-process fake of targets/API.md (fully
//! right, and with specific faults), through the library and through
//! `bakeoff check --url`; and `bakeoff check` against the real four
//! variants started by the lifecycle.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::util::server::TestServer;
use crate::util::server::contract::Faults;
use bakeoff::check::{self, CROSS_TARGET, CheckResult};

const ENDPOINTS: [&str; 9] = [
    "/plaintext",
    "/json",
    "/db",
    "/queries",
    "/fortunes",
    "/updates",
    "/io",
    "/cpu",
    "404",
];

const PERSISTENCE_CHECKS: [&str; 2] = [
    "new values persist (queries=20)",
    "new values differ from the old (queries=20)",
];

fn unverified(results: &[CheckResult]) -> BTreeSet<(String, String, String)> {
    results
        .iter()
        .filter(|r| !r.verifiable)
        .map(|r| (r.target.clone(), r.endpoint.clone(), r.check.clone()))
        .collect()
}

fn key(target: &str, endpoint: &str, check: &str) -> (String, String, String) {
    (target.into(), endpoint.into(), check.into())
}

/// Failures as (target, endpoint, check), for exact comparisons.
fn failures(results: &[CheckResult]) -> BTreeMap<(String, String, String), String> {
    results
        .iter()
        .filter(|r| r.is_failure())
        .map(|r| {
            (
                (r.target.clone(), r.endpoint.clone(), r.check.clone()),
                r.detail.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_target_passes_every_check() {
    let _area = crate::util::area(module_path!());
    let a = TestServer::contract(Faults::default());
    let b = TestServer::contract(Faults::default());
    let targets = vec![
        ("good-a".to_string(), a.base_url()),
        ("good-b".to_string(), b.base_url()),
    ];
    let results = check::check_targets(&targets).await;

    let failures = failures(&results);
    assert!(failures.is_empty(), "unexpected failures: {failures:#?}");
    assert!(!check::any_failed(&results));

    // Without a database URL only update persistence is left unverified,
    // and it is not counted as passed.
    let want: BTreeSet<_> = ["good-a", "good-b"]
        .iter()
        .flat_map(|t| {
            PERSISTENCE_CHECKS
                .iter()
                .map(move |c| key(t, "/updates", c))
        })
        .collect();
    assert_eq!(unverified(&results), want);
    assert!(results.iter().filter(|r| !r.verifiable).all(|r| !r.passed));

    // Every endpoint was checked on both targets, headers included.
    for target in ["good-a", "good-b"] {
        for endpoint in ENDPOINTS {
            let checks: Vec<&str> = results
                .iter()
                .filter(|r| r.target == target && r.endpoint == endpoint)
                .map(|r| r.check.as_str())
                .collect();
            assert!(
                checks.contains(&"Date header"),
                "{target} {endpoint}: {checks:?}"
            );
            assert!(checks.len() > 7, "{target} {endpoint}: {checks:?}");
        }
        assert!(
            results
                .iter()
                .any(|r| r.target == target && r.check == "clamp ms=20000 -> 10000" && r.passed)
        );
    }
    let cross: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.target == CROSS_TARGET)
        .collect();
    assert_eq!(cross.len(), 6, "{cross:#?}");
    assert!(cross.iter().all(|r| r.passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_target_fails_exactly_the_broken_checks() {
    let _area = crate::util::area(module_path!());
    let good = TestServer::contract(Faults::default());
    let broken = TestServer::contract(Faults {
        wrong_json: true,
        unsorted_fortunes: true,
        no_date: true,
        serial_io: true,
    });
    let targets = vec![
        ("good".to_string(), good.base_url()),
        ("broken".to_string(), broken.base_url()),
    ];
    let results = check::check_targets(&targets).await;
    assert!(check::any_failed(&results));

    let failures = failures(&results);
    let got: BTreeSet<_> = failures.keys().cloned().collect();
    let mut want: BTreeSet<_> = ENDPOINTS
        .iter()
        .map(|e| key("broken", e, "Date header"))
        .collect();
    want.extend([
        key("broken", "/json", "exact body"),
        key("broken", "/fortunes", "sorted by message (code point)"),
        key("broken", "/fortunes", "exact markup and escaping"),
        key("broken", "/io", "8 concurrent ms=300 overlap"),
        key(
            CROSS_TARGET,
            CROSS_TARGET,
            "same /json body on every target",
        ),
        key(
            CROSS_TARGET,
            CROSS_TARGET,
            "same /fortunes body on every target",
        ),
    ]);
    assert_eq!(got, want, "failures: {failures:#?}");

    // The details say what was wrong.
    let detail = |t: &str, e: &str, c: &str| failures[&key(t, e, c)].clone();
    assert!(detail("broken", "/json", "exact body").contains("Hello, world!"));
    assert!(detail("broken", "/plaintext", "Date header").contains("no Date header"));
    assert!(detail("broken", "/io", "8 concurrent ms=300 overlap").contains("do not overlap"));
    assert!(
        detail(
            CROSS_TARGET,
            CROSS_TARGET,
            "same /json body on every target"
        )
        .contains("broken:")
    );

    // Checks next to the broken ones still pass on the broken target.
    for (endpoint, check) in [
        ("/json", "status 200"),
        ("/json", "Server header"),
        ("/fortunes", "13 rows"),
        ("/fortunes", "<script> escaped"),
        ("/fortunes", "rows are the seeded fortunes"),
        ("/io", "ms=50 waits 50 ms"),
        ("/cpu", "n=1000 digest"),
        ("/queries", "queries=501 -> 500 rows"),
    ] {
        assert!(
            results.iter().any(|r| r.target == "broken"
                && r.endpoint == endpoint
                && r.check == check
                && r.passed),
            "{endpoint} {check} did not pass on the broken target"
        );
    }
}

/// Runs the bakeoff binary with a private TMPDIR (its scratch files go
/// there, never into the working tree).
fn bakeoff(args: &[&str], tmp: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("BAKEOFF_DATABASE_URL")
        .output()
        .expect("run bakeoff")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_command_with_urls_exits_by_outcome() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let good = TestServer::contract(Faults::default());
    let broken = TestServer::contract(Faults {
        wrong_json: true,
        ..Faults::default()
    });
    let (good_arg, broken_arg) = (
        format!("good={}", good.base_url()),
        format!("broken={}", broken.base_url()),
    );
    let tmp_path = tmp.path().to_path_buf();
    let (ok, bad) = tokio::join!(
        tokio::task::spawn_blocking({
            let (arg, tmp) = (good_arg.clone(), tmp_path.clone());
            move || bakeoff(&["check", "--url", &arg, "--format", "json"], &tmp)
        }),
        tokio::task::spawn_blocking({
            let tmp = tmp_path.clone();
            move || bakeoff(&["check", "--url", &good_arg, "--url", &broken_arg], &tmp)
        }),
    );
    let (ok, bad) = (ok.unwrap(), bad.unwrap());

    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON on stdout");
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["summary"]["failed"], 0);
    assert_eq!(doc["summary"]["unverified"], 2);
    let results = doc["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["target"] == "good"));
    assert!(results.iter().any(|r| r["endpoint"] == "/fortunes"));

    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let text = String::from_utf8_lossy(&bad.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("target") && lines[0].contains("/fortunes"),
        "{text}"
    );
    // lines[1] underlines the header.
    assert!(lines[1].starts_with("------"), "{text}");
    assert!(
        lines[2].starts_with("good") && !lines[2].contains("FAIL"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("broken") && lines[3].contains("FAIL 1/"),
        "{text}"
    );
    assert!(text.contains("broken /json exact body"), "{text}");
    assert!(text.contains("across targets: FAIL 1/6"), "{text}");

    // Remote and malformed URLs are refused before anything is sent.
    let remote = bakeoff(&["check", "--url", "x=http://192.0.2.1:80"], tmp.path());
    assert_eq!(remote.status.code(), Some(2));
    let malformed = bakeoff(&["check", "--url", "no-equals-sign"], tmp.path());
    assert_eq!(malformed.status.code(), Some(2));
}

/// The real apps: `bakeoff check` starts PostgreSQL and all four variants
/// through the lifecycle (bootstrapping their dependencies if needed) and
/// every check, update persistence included, must pass.
#[test]
fn check_command_passes_on_the_four_real_variants() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let out = bakeoff(&["check"], tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("target"), "{stdout}");
    for (i, target) in ["node", "node-cluster", "django-sync", "django-async"]
        .iter()
        .enumerate()
    {
        // lines[1] underlines the header.
        let cells: Vec<&str> = lines[i + 2].split_whitespace().collect();
        assert_eq!(cells[0], *target, "{stdout}");
        // One "ok" per endpoint column: no failure, nothing unverified.
        assert_eq!(cells[1..], ["ok"; 9], "{stdout}");
    }
    assert!(stdout.contains("across targets: ok"), "{stdout}");
    assert!(stdout.contains(" 0 failed, 0 not verified"), "{stdout}");
}
