//! `bakeoff trend` over synthetic runs: the run where a step got slower is
//! marked (Markdown, JSON, chart files), the run that recovers is not
//! (compare's rule calls it an improvement), the figures are compare's,
//! the exit code follows the last run, and bad input exits 2 naming the
//! file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::fixtures::{curve, run};
use bakeoff::results::Model::Closed;
use bakeoff::results::RunResults;

/// node and django-sync on json at 8 and 64 connections, 3 repeats with a
/// ±2% spread (so compare's noise check applies); `slow` divides node's
/// rps at 64 connections and multiplies its p99 there.
fn nightly(slow: f64) -> RunResults {
    let mut steps = curve(
        "node",
        "json",
        Closed,
        &[
            (8, 4_000.0, 1_500, 3_000),
            (64, 9_000.0 / slow, 6_000, (12_000.0 * slow) as u64),
        ],
        3,
        0.02,
    );
    steps.extend(curve(
        "django-sync",
        "json",
        Closed,
        &[(8, 1_500.0, 4_000, 9_000), (64, 1_600.0, 35_000, 80_000)],
        3,
        0.02,
    ));
    run(steps)
}

/// Saves `r` as DIR/name/results.json, as a run directory.
fn save_run(dir: &Path, name: &str, r: &RunResults) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    r.save_atomic(&d.join("results.json")).unwrap();
    d
}

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Three nights, the middle one slower: exactly run 2 is marked.
fn three_nights(dir: &Path) -> [PathBuf; 3] {
    [
        save_run(dir, "night-1", &nightly(1.0)),
        save_run(dir, "night-2", &nightly(1.6)),
        save_run(dir, "night-3", &nightly(1.0)),
    ]
}

#[test]
fn trend_marks_exactly_the_slower_middle_run_and_draws_the_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, c] = three_nights(tmp.path());
    let out = tmp.path().join("trend");
    let json = tmp.path().join("trend.json");
    let o = bakeoff(&[
        "trend",
        s(&a),
        s(&b),
        s(&c),
        "--out",
        s(&out),
        "--format",
        &format!("json={}", json.display()),
        "--format",
        "text",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    // The last run improved on the one before it: exit 0.
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The text renderer wraps the summary line.
    assert!(
        stdout.replace('\n', " ").starts_with("1 run regressed against the run before it, over 3 runs at a 5% threshold (compare's rule): run 2 (night-2)."),
        "{stdout}"
    );

    // Charts: one per scenario, SVG and a real PNG.
    let png = out.join("charts/trend-json-closed.png");
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.len() > 10_000, "{} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(out.join("charts/trend-json-closed.svg")).unwrap();
    assert!(
        svg.contains("regressed (rps"),
        "the SVG's hover names the regression"
    );

    // Markdown: the runs table marks run 2 only; run 3 improved.
    let md = std::fs::read_to_string(out.join("trend.md")).unwrap();
    let row = |run: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {run} | night-{run} |")))
            .unwrap_or_else(|| panic!("no row for run {run} in\n{md}"))
            .to_string()
    };
    assert!(row("1").ends_with("| — |"), "{}", row("1"));
    assert!(
        row("2").contains("| **1 regressed**, 0 improved, 3 unchanged |"),
        "{}",
        row("2")
    );
    assert!(
        row("3").contains("| 0 regressed, 1 improved, 3 unchanged |"),
        "{}",
        row("3")
    );
    assert!(
        md.contains("![json — closed model: rps and p99 across runs"),
        "{md}"
    );
    assert!(md.contains("(charts/trend-json-closed.png)"), "{md}");
    let html = std::fs::read_to_string(out.join("trend.html")).unwrap();
    assert!(html.contains("<svg"), "the HTML inlines the chart");

    // JSON: the same marks, per run and per step.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let regressed: Vec<bool> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["regressed"].as_bool().unwrap())
        .collect();
    assert_eq!(regressed, [false, true, false]);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    let node64 = steps
        .iter()
        .find(|s| s["target"] == "node" && s["level"] == 64)
        .unwrap();
    let verdicts: Vec<&serde_json::Value> = node64["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["verdict"])
        .collect();
    assert_eq!(
        verdicts,
        [
            &serde_json::Value::Null,
            &"regressed".into(),
            &"improved".into()
        ]
    );
    for other in steps
        .iter()
        .filter(|s| !(s["target"] == "node" && s["level"] == 64))
    {
        for p in other["points"].as_array().unwrap().iter().skip(1) {
            assert_eq!(p["verdict"], "no_change", "{other}");
        }
    }
    assert_eq!(v["scenarios"][0]["regressed_runs"], serde_json::json!([2]));

    // The figures are compare's: run 2's node point is compare's current side.
    let cmp = bakeoff(&["compare", s(&a), s(&b), "--format", "json"]);
    assert_eq!(cmp.status.code(), Some(1));
    let cmp: serde_json::Value = serde_json::from_slice(&cmp.stdout).unwrap();
    let step = cmp["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target"] == "node" && s["level"] == 64)
        .unwrap();
    let point = &node64["points"][1];
    assert_eq!(point["rps"], step["current"]["rps"]);
    assert_eq!(point["p99_us"], step["current"]["p99_us"]);
    assert_eq!(point["reasons"], step["reasons"]);
}

#[test]
fn trend_exits_1_when_the_last_run_regressed() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, _] = three_nights(tmp.path());
    let out = tmp.path().join("trend");
    let o = bakeoff(&[
        "trend",
        s(&a),
        s(&b),
        "--out",
        s(&out),
        "--format",
        "markdown",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.starts_with("**1 run regressed**"), "{md}");
    assert!(out.join("trend.md").exists());
}

#[test]
fn trend_refuses_bad_input_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, _] = three_nights(tmp.path());
    let out = tmp.path().join("trend");
    let check = |args: &[&str], needles: &[&str]| {
        let mut all = vec!["trend"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", s(&out)]);
        let o = bakeoff(&all);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
        }
    };
    check(&[s(&a)], &["at least two runs", s(&a)]);
    let missing = tmp.path().join("no-such-run");
    check(&[s(&a), s(&missing)], &[s(&missing), "run 2"]);
    let garbage = tmp.path().join("notes.json");
    std::fs::write(&garbage, "not json").unwrap();
    check(&[s(&garbage), s(&b)], &[s(&garbage), "run 1"]);
    let old = tmp.path().join("old.json");
    std::fs::write(&old, r#"{"schema_version": 1}"#).unwrap();
    check(&[s(&a), s(&b), s(&old)], &[s(&old), "run 3"]);
    assert!(!out.exists(), "nothing is written for bad input");
}

/// A level added in run 2 is compared from run 3 on (run 2 has nothing
/// before it); a level measured in run 1 only is listed as isolated; each
/// target's chart line is its level measured in the most runs.
#[test]
fn trend_follows_steps_that_come_and_go() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = |r: &mut RunResults, level: u64| {
        r.steps.extend(curve(
            "node",
            "json",
            Closed,
            &[(level, 9_500.0, 7_000, 20_000)],
            3,
            0.02,
        ));
    };
    let mut first = nightly(1.0);
    extra(&mut first, 2);
    let mut second = nightly(1.0);
    extra(&mut second, 256);
    let mut third = nightly(1.0);
    extra(&mut third, 256);
    let runs = [
        save_run(tmp.path(), "n1", &first),
        save_run(tmp.path(), "n2", &second),
        save_run(tmp.path(), "n3", &third),
    ];
    let out = tmp.path().join("trend");
    let o = bakeoff(&[
        "trend",
        s(&runs[0]),
        s(&runs[1]),
        s(&runs[2]),
        "--out",
        s(&out),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    let at = |level: u64| {
        steps
            .iter()
            .position(|s| s["target"] == "node" && s["level"] == level)
    };
    let i256 = at(256).expect("the new level is followed");
    let p = steps[i256]["points"].as_array().unwrap();
    let runs_of: Vec<u64> = p.iter().map(|p| p["run"].as_u64().unwrap()).collect();
    assert_eq!(runs_of, [2, 3]);
    assert_eq!(p[0]["verdict"], serde_json::Value::Null);
    assert_eq!(p[1]["verdict"], "no_change");
    assert_eq!(at(2), None, "a level of one run has no series");
    assert_eq!(
        v["isolated"],
        serde_json::json!(["node/json at 2 conn (run 1)"])
    );
    // node's chart line: 64 connections (3 runs), not 256 (2 runs).
    let charted: Vec<u64> = v["scenarios"][0]["charted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            steps[i.as_u64().unwrap() as usize]["level"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(charted, [64, 64]);
    let md = std::fs::read_to_string(out.join("trend.md")).unwrap();
    assert!(
        md.contains("Measured in one run only, with nothing to compare against: node/json at 2 conn (run 1)."),
        "{md}"
    );
}
