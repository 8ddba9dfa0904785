//! `bakeoff compare` on fixture pairs: exit codes (equal → 0, regressed →
//! 1, improved → 0, mismatched steps → 0 and listed, unreadable → 2), the
//! threshold and noise rules, `load --output` files, and the JSON contract.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::fixtures::{self, curve, run, step};
use bakeoff::compare::{CompareReport, Verdict};
use bakeoff::results::Model::{Closed, Open};
use bakeoff::results::{RunResults, StepFlag};

/// `compare` on the analyses of two results, as `bakeoff compare` runs it.
fn compare(baseline: &RunResults, current: &RunResults, threshold_pct: f64) -> CompareReport {
    bakeoff::compare::compare(
        &bakeoff::analysis::analyze(baseline, None, &[]),
        &bakeoff::analysis::analyze(current, None, &[]),
        threshold_pct,
    )
}

/// node and django-sync on json at two levels; `scale` multiplies node's
/// rps at 64 connections, `p99_scale` its p99 there.
fn pair_side(repeats: u32, jitter: f64, scale: f64, p99_scale: f64) -> RunResults {
    let mut steps = curve(
        "node",
        "json",
        Closed,
        &[
            (8, 4_000.0, 1_500, 3_000),
            (64, 9_000.0 * scale, 6_000, (12_000.0 * p99_scale) as u64),
        ],
        repeats,
        jitter,
    );
    steps.extend(curve(
        "django-sync",
        "json",
        Closed,
        &[(8, 1_500.0, 4_000, 9_000), (64, 1_600.0, 35_000, 80_000)],
        repeats,
        jitter,
    ));
    run(steps)
}

fn save(dir: &Path, name: &str, r: &RunResults) -> PathBuf {
    let p = dir.join(name);
    r.save_atomic(&p).unwrap();
    p
}

fn bakeoff_compare(base: &Path, cur: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("compare")
        .arg(base)
        .arg(cur)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn equal_runs_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let r = pair_side(1, 0.0, 1.0, 1.0);
    let (b, c) = (
        save(dir.path(), "b.json", &r),
        save(dir.path(), "c.json", &r),
    );
    let o = bakeoff_compare(&b, &c, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = stdout(&o);
    assert!(
        md.starts_with("**No regression**: 4 steps compared at a 5% threshold: 0 regressed, 0 improved, 4 unchanged."),
        "{md}"
    );
    assert!(
        md.contains("| node | json | 64 conn | 9000.0 → 9000.0 | 0.0% | 0.0% |"),
        "{md}"
    );
}

#[test]
fn regression_exits_1_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let c = save(dir.path(), "c.json", &pair_side(1, 0.0, 0.7, 1.0));
    let o = bakeoff_compare(&b, &c, &[]);
    assert_eq!(o.status.code(), Some(1));
    let md = stdout(&o);
    assert!(md.starts_with("**1 regression**"), "{md}");
    assert!(md.contains("**regressed** (rps -30.0%)"), "{md}");

    // A p99 increase alone is a regression too.
    let c = save(dir.path(), "c2.json", &pair_side(1, 0.0, 1.0, 1.5));
    let o = bakeoff_compare(&b, &c, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("p99 +50.0%"), "{}", stdout(&o));
}

#[test]
fn improvement_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let c = save(dir.path(), "c.json", &pair_side(1, 0.0, 1.25, 0.8));
    let o = bakeoff_compare(&b, &c, &[]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.contains("0 regressed, 1 improved, 3 unchanged"), "{md}");
    assert!(md.contains("improved (rps +25.0%, p99 -20.0%)"), "{md}");
}

#[test]
fn mismatched_steps_are_listed_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = pair_side(1, 0.0, 1.0, 1.0);
    let mut cur = base.clone();
    cur.steps.retain(|s| s.target != "django-sync");
    cur.steps.push(step(
        "node-cluster",
        "json",
        Closed,
        64,
        0,
        15_000.0,
        4_000,
        9_000,
        0,
    ));
    let (b, c) = (
        save(dir.path(), "b.json", &base),
        save(dir.path(), "c.json", &cur),
    );
    let o = bakeoff_compare(&b, &c, &[]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(
        md.contains("2 step(s) only in the baseline, 1 only in the current run"),
        "{md}"
    );
    assert!(
        md.contains(
            "Only in the baseline: django-sync/json at 8 conn, django-sync/json at 64 conn."
        ),
        "{md}"
    );
    assert!(
        md.contains("Only in the current run: node-cluster/json at 64 conn."),
        "{md}"
    );
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let missing = dir.path().join("missing-run");
    let o = bakeoff_compare(&b, &missing, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing-run"));

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();
    let o = bakeoff_compare(&garbage, &b, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("garbage.json"));
}

#[test]
fn threshold_accepts_percent_sign_and_decides() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let c = save(dir.path(), "c.json", &pair_side(1, 0.0, 0.92, 1.0));
    assert_eq!(
        bakeoff_compare(&b, &c, &[]).status.code(),
        Some(1),
        "-8% at the default 5%"
    );
    assert_eq!(
        bakeoff_compare(&b, &c, &["--threshold", "10%"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        bakeoff_compare(&b, &c, &["--threshold", "10"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        bakeoff_compare(&b, &c, &["--threshold", "7"]).status.code(),
        Some(1)
    );
}

#[test]
fn with_repeats_a_change_within_noise_is_not_a_regression() {
    // Medians 10 % apart, but repeats spread ±20 %: intervals overlap.
    let noisy = compare(
        &pair_side(3, 0.2, 1.0, 1.0),
        &pair_side(3, 0.2, 0.9, 1.0),
        5.0,
    );
    assert_eq!(noisy.regressed, 0, "{}", noisy.to_markdown());
    assert!(noisy.steps.iter().all(|s| s.noise_checked));
    // The same change with tight repeats is real.
    let tight = compare(
        &pair_side(3, 0.01, 1.0, 1.0),
        &pair_side(3, 0.01, 0.9, 1.0),
        5.0,
    );
    assert_eq!(tight.regressed, 1, "{}", tight.to_markdown());
    let s = tight
        .steps
        .iter()
        .find(|s| s.verdict == Verdict::Regressed)
        .unwrap();
    assert_eq!((s.target.as_str(), s.level), ("node", 64));
    assert_eq!((s.baseline.repeats, s.current.repeats), (3, 3));
    // Single repeats: no noise check, the threshold alone decides.
    let single = compare(
        &pair_side(1, 0.0, 1.0, 1.0),
        &pair_side(1, 0.0, 0.9, 1.0),
        5.0,
    );
    assert_eq!(single.regressed, 1);
    assert!(single.to_markdown().contains("without a noise check"));
}

#[test]
fn load_output_files_compare_across_target_names() {
    // `bakeoff load --output` names the target host:port, which changes
    // between runs; with one target on each side they are still compared.
    let b = run(vec![step(
        "127.0.0.1:3000",
        "load",
        Open,
        2_000,
        0,
        2_000.0,
        900,
        4_000,
        0,
    )]);
    let c = run(vec![step(
        "127.0.0.1:3999",
        "load",
        Open,
        2_000,
        0,
        2_000.0,
        900,
        9_000,
        0,
    )]);
    let r = compare(&b, &c, 5.0);
    assert_eq!(r.steps.len(), 1);
    assert_eq!(r.regressed, 1);
    assert!(r.only_in_baseline.is_empty() && r.only_in_current.is_empty());
    assert!(r.notes[0].contains("127.0.0.1:3999"), "{:?}", r.notes);
    assert!(
        r.to_markdown()
            .contains("| 127.0.0.1:3000 | load | 2000 req/s |")
    );
}

#[test]
fn json_output_contract() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let c = save(dir.path(), "c.json", &pair_side(1, 0.0, 0.7, 1.0));
    let o = bakeoff_compare(&b, &c, &["--format", "json", "--threshold", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["threshold_pct"], 5.0);
    assert_eq!(v["regressed"], 1);
    assert_eq!(v["unchanged"], 3);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    let reg = steps.iter().find(|s| s["verdict"] == "regressed").unwrap();
    assert_eq!(reg["target"], "node");
    assert_eq!(reg["scenario"], "json");
    assert_eq!(reg["model"], "closed");
    assert_eq!(reg["level"], 64);
    assert_eq!(reg["baseline"]["rps"], 9_000.0);
    let d = reg["delta_pct"]["rps"].as_f64().unwrap();
    assert!((d + 30.0).abs() < 1e-9, "{d}");
    assert!(reg["delta_pct"]["p50"].is_number() && reg["delta_pct"]["p99"].is_number());
    assert!(v["only_in_baseline"].as_array().unwrap().is_empty());
    assert!(v["only_in_current"].as_array().unwrap().is_empty());
}

#[test]
fn run_directories_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (bd, cd) = (dir.path().join("base"), dir.path().join("cur"));
    std::fs::create_dir_all(&bd).unwrap();
    std::fs::create_dir_all(&cd).unwrap();
    save(&bd, "results.json", &pair_side(1, 0.0, 1.0, 1.0));
    save(&cd, "results.json", &pair_side(1, 0.0, 1.0, 1.0));
    assert_eq!(bakeoff_compare(&bd, &cd, &[]).status.code(), Some(0));
}

#[test]
fn rows_resting_on_flagged_steps_are_marked_but_still_compared() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    // The current run's node steps at 64 lost 30 % because the generator,
    // not node, was the bottleneck; django-sync at 8 had failed requests.
    let mut cur = pair_side(1, 0.0, 0.7, 1.0);
    assert_eq!(
        fixtures::flag(&mut cur.steps, "node", 64, StepFlag::GeneratorSaturated),
        1
    );
    fixtures::flag(&mut cur.steps, "django-sync", 8, StepFlag::Errors);
    let c = save(dir.path(), "c.json", &cur);

    let o = bakeoff_compare(&b, &c, &[]);
    // Still compared and still a regression (exit 1), but marked.
    assert_eq!(o.status.code(), Some(1));
    let md = stdout(&o);
    assert!(md.contains("**regressed** (rps -30.0%) ‡ |"), "{md}");
    assert!(
        md.contains("- ‡ node/json at 64 conn: generator_saturated (current)"),
        "{md}"
    );
    assert!(
        md.contains("- § django-sync/json at 8 conn: errors (current)"),
        "{md}"
    );
    assert!(md.contains("Marked rows rest on flagged steps"), "{md}");

    let o = bakeoff_compare(&b, &c, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    let node64 = steps
        .iter()
        .find(|s| s["target"] == "node" && s["level"] == 64)
        .unwrap();
    assert_eq!(
        node64["current_flags"],
        serde_json::json!(["generator_saturated"])
    );
    assert_eq!(node64["baseline_flags"], serde_json::json!([]));

    // Clean runs carry no marks.
    let clean = bakeoff_compare(&b, &b, &[]);
    assert!(!stdout(&clean).contains('‡') && !stdout(&clean).contains("Marked rows"));
}

/// `side` with node's json steps at 64 connections replaced by steps whose
/// every request got a 500, in the repeats listed.
fn node_64_failing(mut side: RunResults, repeats: &[u32]) -> RunResults {
    for s in side.steps.iter_mut() {
        if s.target == "node" && s.level == 64 && repeats.contains(&s.repeat) {
            *s = fixtures::failing_step("node", "json", Closed, 64, s.repeat, s.summary.requests);
        }
    }
    side
}

#[test]
fn losing_all_successes_is_a_regression_whatever_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let b = save(dir.path(), "b.json", &pair_side(1, 0.0, 1.0, 1.0));
    let c = save(
        dir.path(),
        "c.json",
        &node_64_failing(pair_side(1, 0.0, 1.0, 1.0), &[0]),
    );
    // At 500 % even a drop to 0 req/s is "within the threshold"; the
    // failing latency is a regression regardless.
    for (threshold, why) in [
        ("5", "rps -100.0%, p99 failing: no request succeeded"),
        ("500", "p99 failing: no request succeeded"),
    ] {
        let o = bakeoff_compare(&b, &c, &["--threshold", threshold]);
        assert_eq!(o.status.code(), Some(1), "threshold {threshold}");
        let md = stdout(&o);
        assert!(md.starts_with("**1 regression**"), "{md}");
        assert!(
            md.contains(&format!("| node | json | 64 conn | 9000.0 → 0.0 | -100.0% | n/a | 12.0 ms → failing | n/a | **regressed** ({why}) § |")),
            "{md}"
        );
        assert!(
            md.contains("- node/json at 64 conn: no request succeeded (current)"),
            "{md}"
        );
        assert!(!md.contains("improved ("), "{md}");
    }
    // JSON: no latency figure (null, never 0) and the reason.
    let o = bakeoff_compare(&b, &c, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let node64 = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target"] == "node" && s["level"] == 64)
        .unwrap();
    assert_eq!(node64["verdict"], "regressed");
    assert!(node64["current"]["p99_us"].is_null(), "{node64}");
    assert_eq!(node64["current"]["rps"], 0.0);
    assert_eq!(node64["current"]["failing"], "no request succeeded");
    assert!(node64["baseline"]["failing"].is_null());
    assert!(node64["delta_pct"]["p99"].is_null());

    // The other way round, answering again is an improvement.
    let o = bakeoff_compare(&c, &b, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("| 0.0 → 9000.0 | n/a | n/a | failing → 12.0 ms | n/a | improved (rps up from 0, p99 no longer failing) § |"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn failing_in_most_repeats_is_a_regression_despite_the_noise_check() {
    // With 3 repeats a side the noise check applies; 2 of 3 current
    // repeats answered nothing, so the median p99 is failing: that is no
    // run-to-run noise.
    let base = pair_side(3, 0.01, 1.0, 1.0);
    let cur = node_64_failing(pair_side(3, 0.01, 1.0, 1.0), &[0, 2]);
    let r = compare(&base, &cur, 5.0);
    assert_eq!(r.regressed, 1, "{}", r.to_markdown());
    let s = r
        .steps
        .iter()
        .find(|s| s.verdict == Verdict::Regressed)
        .unwrap();
    assert_eq!((s.target.as_str(), s.level), ("node", 64));
    assert!(s.noise_checked);
    assert!(s.current.p99_us.is_infinite());
    assert_eq!(
        s.current.failing.as_deref(),
        Some("no request succeeded in 2 of 3 repeats")
    );
    // One failing repeat of three leaves a finite median: judged as usual
    // (its interval reaches +∞, so no change beyond noise is shown)...
    let one = compare(
        &base,
        &node_64_failing(pair_side(3, 0.01, 1.0, 1.0), &[1]),
        5.0,
    );
    let s = one
        .steps
        .iter()
        .find(|s| s.target == "node" && s.level == 64)
        .unwrap();
    assert!(s.current.p99_us.is_finite());
    // ...and it is never an improvement.
    assert_ne!(s.verdict, Verdict::Improved);
    assert!(
        one.to_markdown()
            .contains("no request succeeded in 1 of 3 repeats (current)")
    );
}
