//! The contract checker against an in-process fake of targets/API.md (fully
//! right, and with specific faults), through the library and through
//! `bakeoff check --url`; and `bakeoff check` against the real four
//! variants started by the lifecycle.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::util::server::TestServer;
use crate::util::server::contract::Faults;
use bakeoff::check::{self, CROSS_TARGET, CheckResult};

const ENDPOINTS: [&str; 14] = [
    "/plaintext",
    "/json",
    "/db",
    "/queries",
    "/fortunes",
    "/updates",
    "/raw/db",
    "/raw/queries",
    "/raw/fortunes",
    "/raw/updates",
    "/io",
    "/cpu",
    "/ws/fanout",
    "404",
];

/// The `/ws/fanout` cases on a target that offers it.
const WS_CASES: [&str; 8] = [
    "GET /ws/info names the bus",
    "plain GET (no upgrade) answers 426",
    "3 clients connect",
    "sender receives its own messages",
    "every client receives every message exactly once",
    "order per publisher",
    "no foreign messages",
    "clean close (close frame answered)",
];

const PERSISTENCE_CHECKS: [&str; 2] = [
    "new values persist (queries=20)",
    "new values differ from the old (queries=20)",
];

/// The database endpoints whose queries per request `check` counts.
const DB_ENDPOINTS: [&str; 8] = [
    "/db",
    "/queries",
    "/fortunes",
    "/updates",
    "/raw/db",
    "/raw/queries",
    "/raw/fortunes",
    "/raw/updates",
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

    // Without a database URL only update persistence and the query counts
    // are left unverified, and they are not counted as passed.
    let want: BTreeSet<_> = ["good-a", "good-b"]
        .iter()
        .flat_map(|t| {
            ["/updates", "/raw/updates"]
                .into_iter()
                .flat_map(move |e| PERSISTENCE_CHECKS.iter().map(move |c| key(t, e, c)))
                .chain(
                    DB_ENDPOINTS
                        .iter()
                        .map(move |e| key(t, e, "queries per request")),
                )
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
        ..Faults::default()
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
        key("broken", "/raw/fortunes", "sorted by message (code point)"),
        key("broken", "/raw/fortunes", "exact markup and escaping"),
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

/// `/ws/fanout`: every case passes on a conforming broadcast; a server that
/// skips the sender, swaps a publisher's messages or never answers a close
/// frame fails exactly the case it breaks, named in the detail; a target that does not offer the
/// endpoint (django-sync's 426) passes as "not offered".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_fanout_cases_name_what_a_broadcast_gets_wrong() {
    let _area = crate::util::area(module_path!());
    let good = TestServer::contract(Faults::default());
    let skips = TestServer::contract(Faults {
        ws_skips_sender: true,
        ..Faults::default()
    });
    let reorders = TestServer::contract(Faults {
        ws_reorders: true,
        ..Faults::default()
    });
    let mute = TestServer::contract(Faults {
        ws_ignores_close: true,
        ..Faults::default()
    });
    let wsgi = TestServer::contract(Faults {
        ws_not_offered: true,
        ..Faults::default()
    });
    let targets = vec![
        ("good".to_string(), good.base_url()),
        ("skips".to_string(), skips.base_url()),
        ("reorders".to_string(), reorders.base_url()),
        ("mute".to_string(), mute.base_url()),
        ("wsgi".to_string(), wsgi.base_url()),
    ];
    let results = check::check_targets(&targets).await;

    let ws = |target: &str| -> BTreeMap<String, &CheckResult> {
        results
            .iter()
            .filter(|r| r.target == target && r.endpoint == "/ws/fanout")
            .filter(|r| WS_CASES.contains(&r.check.as_str()) || r.check.starts_with("not offered"))
            .map(|r| (r.check.clone(), r))
            .collect()
    };
    let good_cases = ws("good");
    assert_eq!(
        good_cases
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        WS_CASES.into_iter().collect::<BTreeSet<_>>()
    );
    assert!(good_cases.values().all(|r| r.passed), "{good_cases:#?}");

    let failures = failures(&results);
    let got: BTreeSet<_> = failures.keys().cloned().collect();
    let want = BTreeSet::from([
        key("skips", "/ws/fanout", "sender receives its own messages"),
        key("reorders", "/ws/fanout", "order per publisher"),
        key("mute", "/ws/fanout", "clean close (close frame answered)"),
    ]);
    assert_eq!(got, want, "failures: {failures:#?}");
    let skipped = &failures[&key("skips", "/ws/fanout", "sender receives its own messages")];
    assert!(
        skipped.contains("ws/fanout: sender did not receive its own message"),
        "{skipped}"
    );
    let reordered = &failures[&key("reorders", "/ws/fanout", "order per publisher")];
    assert!(
        reordered.contains("ws/fanout: publisher ")
            && reordered.contains("'s messages out of order"),
        "{reordered}"
    );
    let unanswered = &failures[&key("mute", "/ws/fanout", "clean close (close frame answered)")];
    assert!(
        unanswered.contains("close frame was not answered within"),
        "{unanswered}"
    );
    // Everything else still holds on the faulty broadcasts.
    for (target, broken) in [
        ("skips", "sender receives its own messages"),
        ("reorders", "order per publisher"),
        ("mute", "clean close (close frame answered)"),
    ] {
        let cases = ws(target);
        assert_eq!(cases.len(), WS_CASES.len(), "{cases:#?}");
        assert!(
            cases.values().all(|r| r.passed == (r.check != broken)),
            "{cases:#?}"
        );
    }

    // Not offered: /ws/info says so, the handshake gets 426, and that passes.
    let wsgi_cases = ws("wsgi");
    let names: Vec<&str> = wsgi_cases.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "GET /ws/info names the bus",
            "not offered (WSGI): GET /ws/fanout answers 426"
        ]
    );
    assert!(wsgi_cases.values().all(|r| r.passed), "{wsgi_cases:#?}");
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
    // The two runs check "good" at the same time: each on a server of its
    // own, since a check needs /ws/fanout to itself (another check's
    // clients' messages would be foreign to it).
    let good = TestServer::contract(Faults::default());
    let good_alone = TestServer::contract(Faults::default());
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
            let (arg, tmp) = (format!("good={}", good_alone.base_url()), tmp_path.clone());
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
    // Persistence of /updates and /raw/updates, and the 8 query counts.
    assert_eq!(doc["summary"]["unverified"], 12);
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
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("/ws/fanout bus: good memory, broken memory."),
        "{text}"
    );
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
        // One "ok" per endpoint column (a /raw/ twin counts in its
        // endpoint's): no failure, nothing unverified.
        assert_eq!(cells[1..], ["ok"; 10], "{stdout}");
    }
    // Queries and rows per request of every database endpoint, counted.
    let counted = |target: &str, endpoint: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.len() > 4 && c[0] == target && c[1].split('?').next() == Some(endpoint)
            })
            .unwrap_or_else(|| panic!("no count of {target} {endpoint}:\n{stdout}"));
        line.split_whitespace().map(String::from).collect()
    };
    for target in ["node", "node-cluster", "django-sync", "django-async"] {
        for endpoint in DB_ENDPOINTS {
            let cells = counted(target, endpoint);
            assert_eq!(cells.last().map(String::as_str), Some("ok"), "{cells:?}");
        }
        // queries/req, rows/req
        assert_eq!(counted(target, "/db")[2..4], ["1", "1"]);
        assert_eq!(counted(target, "/raw/queries")[2..4], ["20", "20"]);
        assert_eq!(counted(target, "/fortunes")[2..4], ["1", "12"]);
        // 20 reads and at least one write; 20 rows read, 20 written.
        let updates = counted(target, "/updates");
        let queries: f64 = updates[2].parse().unwrap();
        assert!((21.0..=40.0).contains(&queries), "{updates:?}");
        assert_eq!(updates[3], "40", "{updates:?}");
    }
    assert!(stdout.contains("across targets: ok"), "{stdout}");
    assert!(stdout.contains(" 0 failed, 0 not verified"), "{stdout}");
    // /ws/fanout: the multi-process variants broadcast over PostgreSQL at
    // every worker count; django-sync's documented 426 passes.
    let words = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "/ws/fanout bus: node memory, node-cluster postgres, \
             django-sync not offered (WSGI), django-async postgres."
        ),
        "{stdout}"
    );
}

/// A target that caches `/db` or runs N+1 queries on `/fortunes` answers
/// every body right, and `check` still fails it, from the database's own
/// counts: node with both deliberate faults of targets/node/app.js
/// (`BAKEOFF_TARGET_FAULT`, which the lifecycle passes on to the target).
#[test]
fn check_command_fails_a_caching_and_an_n_plus_one_target() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["check", "--only", "node", "--format", "json"])
        .env("TMPDIR", tmp.path())
        .env("BAKEOFF_TARGET_FAULT", "cache-db,n-plus-one-fortunes")
        .env_remove("BAKEOFF_DATABASE_URL")
        .output()
        .expect("run bakeoff");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let results = doc["results"].as_array().unwrap();
    let failed: BTreeMap<(String, String), &serde_json::Value> = results
        .iter()
        .filter(|r| r["verifiable"] == true && r["passed"] == false)
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            ((s("endpoint"), s("check")), r)
        })
        .collect();
    // The same handlers serve the /raw/ twins on Node.
    let want: BTreeSet<(String, String)> = ["/db", "/raw/db", "/fortunes", "/raw/fortunes"]
        .iter()
        .map(|e| (e.to_string(), "queries per request".to_string()))
        .collect();
    assert_eq!(
        failed.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "{failed:#?}"
    );
    assert_eq!(doc["summary"]["unverified"], 0);
    let detail = |e: &str| {
        failed[&(e.to_string(), "queries per request".to_string())]["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // /db: the contract's first /db request loaded the whole table; the
    // counted batch sent no query at all.
    assert!(
        detail("/db").contains("reads 0 per request, expected 1"),
        "{}",
        detail("/db")
    );
    assert!(detail("/db").contains("a cache"), "{}", detail("/db"));
    let db = &failed[&("/db".to_string(), "queries per request".to_string())]["queries"];
    assert_eq!(db["requests"], 10);
    assert_eq!(db["reads"], 0);
    // /fortunes: the ids, then one query per fortune.
    let fortunes = detail("/fortunes");
    assert!(
        fortunes.contains("reads 13 per request, expected 1"),
        "{fortunes}"
    );
    assert!(fortunes.contains("N+1"), "{fortunes}");
    // Everything the faults do not touch still counts right.
    for e in ["/queries", "/updates", "/raw/queries", "/raw/updates"] {
        assert!(
            results.iter().any(|r| r["endpoint"] == e
                && r["check"] == "queries per request"
                && r["passed"] == true),
            "{e}"
        );
    }
}
