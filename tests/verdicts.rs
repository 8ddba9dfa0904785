//! Verdict logic on synthetic results whose answer is known: clear win,
//! clear loss, within noise, single repeat, missing data, out of scope;
//! the report sections; and `bakeoff verify`'s output contract and exit
//! codes.

use crate::util::report::{image_links, regenerate_twice};

use std::process::Command;

use crate::util::fixtures::{self, curve, flag, run, step};
use bakeoff::analysis::{Analysis, StepGroups, analyze, scalability};
use bakeoff::claims::{self, Verdict, spec};
use bakeoff::results::Model::{Closed, Open};
use bakeoff::results::{RunResults, StepFlag};

/// The verdicts of `file` on `r`, as `verify` and the report evaluate them.
fn evaluate(r: &RunResults, file: &claims::ClaimsFile) -> Vec<claims::ClaimVerdict> {
    let groups = StepGroups::for_verdicts(r);
    let models = scalability::fit_scenarios(&groups, &StepGroups::scenarios_in_order(r));
    claims::evaluate(&groups, &models, file)
}

/// The analysis of `r` with the embedded claims (as `bakeoff report`).
fn with_claims(r: &RunResults) -> Analysis {
    analyze(r, Some(&claims::load(None).unwrap()), &[])
}

/// `report.md` of `r` with the embedded claims.
fn report_markdown(r: &RunResults) -> String {
    let dir = tempfile::tempdir().unwrap();
    bakeoff::report::write_reports(dir.path(), r, &with_claims(r)).unwrap();
    std::fs::read_to_string(dir.path().join("report.md")).unwrap()
}

/// The body of the `## title` section of a Markdown report.
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let head = format!("\n## {title}\n");
    let start = md
        .find(&head)
        .unwrap_or_else(|| panic!("no section {title:?} in {md}"))
        + head.len();
    let end = md[start..].find("\n## ").map_or(md.len(), |e| start + e);
    &md[start..end]
}

/// The "Capacity and knee" section of `r` under `spec`, in Markdown.
fn capacity_md(r: &RunResults, spec: &claims::spec::CapacitySpec) -> String {
    let g = StepGroups::for_verdicts(r);
    let table = claims::capacity::capacity_table(
        &g,
        spec,
        &claims::capacity::slo_objectives(r.plan.as_ref(), spec),
        &StepGroups::targets_in_order(r),
        &StepGroups::scenarios_in_order(r),
    );
    let mut doc = bakeoff::report::doc::Document::new("");
    bakeoff::report::claims::capacity(&mut doc, &table);
    bakeoff::report::render::markdown::render(&doc)
}

fn claims_of(toml: &str) -> claims::ClaimsFile {
    spec::parse(toml, "test-claims.toml").expect("test claims parse")
}

const SCALING: &str = r#"
[[claim]]
id = "scales"
text = "Node scales."
kind = "scaling"
scenarios = ["io"]
subject = "node"
versus = ["django-sync"]
"#;

/// node keeps growing on io, django-sync flattens at 320 req/s.
fn io_run(repeats: u32, jitter: f64) -> bakeoff::results::RunResults {
    let mut steps = curve(
        "node",
        "io",
        Closed,
        &[
            (8, 155.0, 51_000, 53_000),
            (64, 1_240.0, 51_000, 56_000),
            (256, 4_800.0, 52_000, 70_000),
        ],
        repeats,
        jitter,
    );
    steps.extend(curve(
        "django-sync",
        "io",
        Closed,
        &[
            (8, 155.0, 51_000, 53_000),
            (64, 318.0, 200_000, 210_000),
            (256, 320.0, 800_000, 820_000),
        ],
        repeats,
        jitter,
    ));
    run(steps)
}

fn verdict_of(results: &bakeoff::results::RunResults, toml: &str) -> claims::ClaimVerdict {
    let mut v = evaluate(results, &claims_of(toml));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn clear_win_is_supported() {
    let v = verdict_of(&io_run(3, 0.02), SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(
        v.evidence.contains("io") && v.evidence.contains("256"),
        "{}",
        v.evidence
    );
    assert!(v.evidence.contains("median of 3 repeats"), "{}", v.evidence);
    assert!(v.predicate.contains("scaling on io"), "{}", v.predicate);
    assert_eq!(v.text, "Node scales.");
}

#[test]
fn clear_loss_is_refuted() {
    // Same curves with the names swapped: django-sync is the one that scales.
    let mut r = io_run(3, 0.02);
    for s in &mut r.steps {
        s.target = if s.target == "node" {
            "django-sync".into()
        } else {
            "node".into()
        };
    }
    let v = verdict_of(&r, SCALING);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
}

#[test]
fn difference_within_noise_is_inconclusive() {
    // Medians 1.3x apart (clears the 1.2 ratio), but the repeats spread
    // ±40 %, so the bootstrap intervals overlap.
    let toml = r#"
[[claim]]
id = "faster"
text = "Node is faster."
kind = "ratio_at_highest"
scenarios = ["json"]
subject = "node"
versus = "django-sync"
"#;
    let mut steps = curve(
        "node",
        "json",
        Closed,
        &[(64, 1_300.0, 5_000, 9_000)],
        3,
        0.4,
    );
    steps.extend(curve(
        "django-sync",
        "json",
        Closed,
        &[(64, 1_000.0, 6_000, 10_000)],
        3,
        0.4,
    ));
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(v.evidence.contains("in 0 of 1"), "{}", v.evidence);

    // The same medians with tight repeats clear the noise.
    let mut steps = curve(
        "node",
        "json",
        Closed,
        &[(64, 1_300.0, 5_000, 9_000)],
        3,
        0.01,
    );
    steps.extend(curve(
        "django-sync",
        "json",
        Closed,
        &[(64, 1_000.0, 6_000, 10_000)],
        3,
        0.01,
    ));
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
}

#[test]
fn single_repeat_is_conservative_and_says_so() {
    let toml = r#"
[[claim]]
id = "faster"
text = "Node is faster."
kind = "ratio_at_highest"
scenarios = ["json"]
subject = "node"
versus = "django-sync"
"#;
    // 1.3x with one repeat: not enough (needs 1.5x).
    let steps = vec![
        step("node", "json", Closed, 64, 0, 1_300.0, 5_000, 9_000, 0),
        step(
            "django-sync",
            "json",
            Closed,
            64,
            0,
            1_000.0,
            5_000,
            9_000,
            0,
        ),
    ];
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(v.evidence.contains("single repeat"), "{}", v.evidence);
    // 1.6x with one repeat: enough.
    let steps = vec![
        step("node", "json", Closed, 64, 0, 1_600.0, 5_000, 9_000, 0),
        step(
            "django-sync",
            "json",
            Closed,
            64,
            0,
            1_000.0,
            5_000,
            9_000,
            0,
        ),
    ];
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(v.evidence.contains("single repeat"), "{}", v.evidence);
}

#[test]
fn missing_data_is_inconclusive_and_named() {
    let only_node = run(curve(
        "node",
        "io",
        Closed,
        &[(8, 150.0, 1, 2), (256, 4_000.0, 1, 2)],
        1,
        0.0,
    ));
    let v = verdict_of(&only_node, SCALING);
    assert_eq!(v.verdict, Verdict::Inconclusive);
    assert_eq!(v.evidence, "not measured: django-sync on io.");
    let empty = run(Vec::new());
    let v = verdict_of(&empty, SCALING);
    // Nothing ran io at all: the scenario is named once.
    assert!(
        v.evidence
            .contains("not measured: io (scenario not in this run)"),
        "{}",
        v.evidence
    );
}

#[test]
fn saturated_decisive_steps_turn_a_supported_claim_inconclusive() {
    // Clean: supported (see clear_win_is_supported).
    let clean = io_run(3, 0.02);
    assert_eq!(verdict_of(&clean, SCALING).verdict, Verdict::Supported);

    // The same figures, but node's steps at 256 connections (the highest
    // common level, where the claim is decided) were generator-bound.
    let mut saturated = clean.clone();
    assert_eq!(
        flag(
            &mut saturated.steps,
            "node",
            256,
            StepFlag::GeneratorSaturated
        ),
        3
    );
    let v = verdict_of(&saturated, SCALING);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("no usable figures for node on io at 256 connections"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .ends_with("3 steps excluded: generator saturated (node · io · 256 ×3)."),
        "{}",
        v.evidence
    );

    // Interrupted steps are excluded the same way, at the lowest level too.
    let mut interrupted = clean.clone();
    flag(
        &mut interrupted.steps,
        "django-sync",
        8,
        StepFlag::Interrupted,
    );
    let v = verdict_of(&interrupted, SCALING);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence.contains("interrupted (django-sync · io · 8 ×3)"),
        "{}",
        v.evidence
    );

    // Failed requests alone do not disqualify a step.
    let mut errors = clean.clone();
    flag(&mut errors.steps, "node", 256, StepFlag::Errors);
    let v = verdict_of(&errors, SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(!v.evidence.contains("excluded"), "{}", v.evidence);

    // One flagged repeat of three: the other two still decide, with the
    // margin for fewer repeats.
    let mut one = clean.clone();
    let step = one
        .steps
        .iter_mut()
        .find(|s| s.target == "node" && s.level == 256)
        .unwrap();
    step.flags = vec![StepFlag::GeneratorSaturated];
    let v = verdict_of(&one, SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(v.evidence.contains("2 repeats"), "{}", v.evidence);
}

#[test]
fn saturated_steps_never_decide_a_multi_scenario_claim() {
    let toml = r#"
[[claim]]
id = "ahead"
text = "Node is faster."
kind = "ratio_at_highest"
scenarios = ["json", "db"]
subject = "node"
versus = "django-sync"
min_share = 1.0
"#;
    let mut steps = Vec::new();
    for s in ["json", "db"] {
        steps.extend(curve(
            "node",
            s,
            Closed,
            &[(64, 9_000.0, 5_000, 9_000)],
            3,
            0.02,
        ));
        steps.extend(curve(
            "django-sync",
            s,
            Closed,
            &[(64, 1_500.0, 40_000, 90_000)],
            3,
            0.02,
        ));
    }
    let clean = run(steps);
    let v = verdict_of(&clean, toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);

    // django-sync's db steps were generator-bound: db cannot count for
    // node any more, so "ahead in every scenario" is no longer shown.
    let mut flagged = clean.clone();
    for s in flagged
        .steps
        .iter_mut()
        .filter(|s| s.target == "django-sync" && s.scenario == "db")
    {
        s.flags = vec![StepFlag::GeneratorSaturated];
        s.summary.generator.saturated = Some(fixtures::SATURATED_REASON.into());
    }
    let v = verdict_of(&flagged, toml);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence.contains("in 1 of 2 measured scenarios"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .contains("undecided for lack of usable figures: django-sync on db at 64 connections"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .ends_with("3 steps excluded: generator saturated (django-sync · db · 64 ×3)."),
        "{}",
        v.evidence
    );
}

#[test]
fn out_of_scope_gives_its_reason() {
    let toml = r#"
[[claim]]
id = "share"
text = "Everyone uses it."
quoted = false
kind = "out_of_scope"
reason = "Adoption is not measurable under load."
"#;
    let v = verdict_of(&run(Vec::new()), toml);
    assert_eq!(v.verdict, Verdict::OutOfScope);
    assert_eq!(v.evidence, "Adoption is not measurable under load.");
    assert!(!v.quoted);
}

#[test]
fn orm_latency_is_refuted_when_clearly_slower() {
    let toml = r#"
[[claim]]
id = "orm"
text = "The ORM is quick."
kind = "latency_uncontended_and_loaded"
scenarios = ["db", "queries", "fortunes"]
subject = "django-sync"
versus = "node"
"#;
    let mut steps = Vec::new();
    for s in ["db", "queries", "fortunes"] {
        steps.extend(curve(
            "node",
            s,
            Closed,
            &[(8, 5_000.0, 1_000, 3_000), (128, 6_000.0, 15_000, 30_000)],
            3,
            0.02,
        ));
        steps.extend(curve(
            "django-sync",
            s,
            Closed,
            &[(8, 2_000.0, 3_000, 9_000), (128, 2_100.0, 50_000, 120_000)],
            3,
            0.02,
        ));
    }
    let v = verdict_of(&run(steps.clone()), toml);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
    assert!(
        v.evidence.contains("slower beyond noise in 6 of 6"),
        "{}",
        v.evidence
    );

    // Within 1.2x everywhere: supported.
    let mut close = Vec::new();
    for s in ["db", "queries", "fortunes"] {
        close.extend(curve(
            "node",
            s,
            Closed,
            &[(8, 5_000.0, 1_000, 3_000), (128, 6_000.0, 15_000, 30_000)],
            3,
            0.02,
        ));
        close.extend(curve(
            "django-sync",
            s,
            Closed,
            &[(8, 4_800.0, 1_100, 3_200), (128, 5_800.0, 16_000, 32_000)],
            3,
            0.02,
        ));
    }
    let v = verdict_of(&run(close), toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
}

#[test]
fn tail_under_load_checks_p99_and_errors() {
    let toml = r#"
[[claim]]
id = "tail"
text = "Seamless under high traffic."
kind = "tail_under_load"
scenarios = ["shop"]
subject = "node"
versus = ["django-sync"]
max_error_rate = 0.001
"#;
    let mut steps = curve(
        "node",
        "shop",
        Closed,
        &[(8, 3_000.0, 2_000, 5_000), (128, 4_000.0, 20_000, 40_000)],
        3,
        0.02,
    );
    steps.extend(curve(
        "django-sync",
        "shop",
        Closed,
        &[
            (8, 1_000.0, 6_000, 15_000),
            (128, 1_100.0, 100_000, 250_000),
        ],
        3,
        0.02,
    ));
    let v = verdict_of(&run(steps.clone()), toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(v.evidence.contains("128 connections"), "{}", v.evidence);

    // The same tail but 2 % errors at the top level: refuted.
    for s in steps
        .iter_mut()
        .filter(|s| s.target == "node" && s.level == 128)
    {
        let ok = s.summary.requests - s.summary.errors;
        fixtures::set_errors(s, ok / 49);
    }
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
    assert!(v.evidence.contains("2.00% errors"), "{}", v.evidence);
}

#[test]
fn cpu_bound_flat_throughput_is_supported() {
    let toml = r#"
[[claim]]
id = "cpu"
text = "CPU work does not scale on the event loop."
kind = "cpu_bound"
scenarios = ["cpu"]
subject = "node"
versus = ["node-cluster"]
"#;
    let mut steps = curve(
        "node",
        "cpu",
        Closed,
        &[
            (4, 900.0, 4_400, 5_000),
            (16, 950.0, 17_000, 20_000),
            (64, 940.0, 68_000, 80_000),
        ],
        3,
        0.02,
    );
    steps.extend(curve(
        "node-cluster",
        "cpu",
        Closed,
        &[(4, 900.0, 4_400, 5_000), (64, 1_800.0, 35_000, 40_000)],
        3,
        0.02,
    ));
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(v.evidence.contains("knee at 4"), "{}", v.evidence);

    // Throughput that quadruples refutes it.
    let steps = curve(
        "node",
        "cpu",
        Closed,
        &[(4, 900.0, 4_400, 5_000), (64, 3_600.0, 17_000, 20_000)],
        3,
        0.02,
    );
    let v = verdict_of(&run(steps), toml);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
}

/// A run of every scenario of the default suite on all four variants.
fn full_run() -> bakeoff::results::RunResults {
    let mut steps = Vec::new();
    let scenarios = [
        "plaintext",
        "json",
        "db",
        "queries",
        "fortunes",
        "updates",
        "io",
        "cpu",
        "shop",
    ];
    for (t, speed) in [
        ("node", 3.0),
        ("node-cluster", 3.5),
        ("django-sync", 1.0),
        ("django-async", 0.9),
    ] {
        for s in scenarios {
            steps.extend(curve(
                t,
                s,
                Closed,
                &[
                    (8, 500.0 * speed, 2_000, 4_000),
                    (32, 1_500.0 * speed, 4_000, 9_000),
                    (128, 1_550.0 * speed, 16_000, 40_000),
                ],
                1,
                0.0,
            ));
        }
        // The raw-SQL twins, on the Django variants at the lowest and
        // highest level: latency 0.8 of the ORM's (the ORM ×1.25).
        if t.starts_with("django") {
            for s in ["db-raw", "queries-raw", "fortunes-raw"] {
                steps.extend(curve(
                    t,
                    s,
                    Closed,
                    &[
                        (8, 625.0 * speed, 1_600, 3_200),
                        (128, 1_937.5 * speed, 12_800, 32_000),
                    ],
                    1,
                    0.0,
                ));
            }
        }
        // Open model: p99 crosses 50 ms between 400 and 800 req/s for
        // django, between 800 and 1600 for node.
        let knee_rate = if t.starts_with("node") { 800 } else { 400 };
        for rate in [200u64, 400, 800, 1600] {
            let p99 = if rate <= knee_rate { 20_000 } else { 400_000 };
            steps.push(step(
                t,
                "shop-open",
                Open,
                rate,
                0,
                rate as f64,
                5_000,
                p99,
                0,
            ));
        }
    }
    // Fan-out, on the three WebSocket variants (django-sync holds none):
    // node's deliveries stay within 50 ms up to 2500 subscribers,
    // django-async's pass it from 1000 on.
    for t in ["node", "node-cluster", "django-async"] {
        let p99s: [u64; 3] = if t.starts_with("node") {
            [3_000, 6_000, 20_000]
        } else {
            [9_000, 60_000, 400_000]
        };
        for (level, p99) in [500u64, 1000, 2500].into_iter().zip(p99s) {
            steps.push(step(
                t,
                "fanout",
                bakeoff::model::Model::Fanout,
                level,
                0,
                level as f64 * 20.0,
                p99 / 2,
                p99,
                0,
            ));
        }
    }
    // The spike: node's and django-sync's surges of the surge fixture
    // (node back 2 s after the surge, django-sync never), node's for both
    // Node variants, django-sync's for both Django ones.
    let surges = fixtures::surge_run().steps;
    for (t, from) in [
        ("node", "node"),
        ("node-cluster", "node"),
        ("django-sync", "django-sync"),
        ("django-async", "django-sync"),
    ] {
        let mut s = surges.iter().find(|s| s.target == from).unwrap().clone();
        s.target = t.into();
        s.scenario = "spike".into();
        steps.push(s);
    }
    run(steps)
}

#[test]
fn embedded_claims_cover_a_full_run() {
    let r = full_run();
    let verdicts = evaluate(&r, &claims::load(None).unwrap());
    let ids: Vec<&str> = verdicts.iter().map(|v| v.id.as_str()).collect();
    for id in [
        "event-loop-scalability",
        "django-under-heavy-load",
        "async-high-sync-lower",
        "orm-quick-database",
        "realtime-high-traffic",
        "cpu-bound-counterpoint",
        "market-share",
    ] {
        assert!(ids.contains(&id), "missing claim {id}");
    }
    for v in &verdicts {
        assert!(
            !v.evidence.is_empty() && v.evidence.ends_with('.'),
            "{}: {}",
            v.id,
            v.evidence
        );
        assert!(
            !v.evidence.contains("not measured"),
            "{}: {}",
            v.id,
            v.evidence
        );
    }
    let by_id = |id: &str| verdicts.iter().find(|v| v.id == id).unwrap();
    // node is 3x django-sync everywhere: clear with a single repeat too.
    assert_eq!(by_id("django-under-heavy-load").verdict, Verdict::Supported);
    assert_eq!(by_id("async-high-sync-lower").verdict, Verdict::Supported);
    assert!(
        by_id("async-high-sync-lower")
            .evidence
            .contains("django-async vs django-sync: rps ×0.90")
    );
    assert_eq!(by_id("market-share").verdict, Verdict::OutOfScope);
    // Real time: delivery p99 at 2500 subscribers and capacity at 50 ms.
    let fanout = by_id("realtime-fanout");
    assert_eq!(fanout.verdict, Verdict::Supported, "{}", fanout.evidence);
    for part in [
        "fanout at 2500 subscribers node's p99 was 20.0 ms",
        "node held 2500 subscribers vs django-async 500 subscribers",
    ] {
        assert!(
            fanout.evidence.contains(part),
            "{part:?} not in {}",
            fanout.evidence
        );
    }
    // The spike is judged on recovery times and peak p99 per target.
    let spike = by_id("high-traffic-spike");
    assert_eq!(spike.verdict, Verdict::Supported, "{}", spike.evidence);
    for part in [
        "node (slower, no errors): baseline p99 2.40 ms, peak p99 9.80 ms, back 2 s after the surge, 0.00% errors",
        "django-async (did not recover): baseline p99 19.0 ms, peak p99 4 200 ms, not back within the step, 23.94% errors",
        "node's peak p99 ×428.57 better than django-sync's",
        "recovered where django-sync did not",
    ] {
        assert!(
            spike.evidence.contains(part),
            "{part:?} not in {}",
            spike.evidence
        );
    }
}

#[test]
fn report_sections_include_verdicts_ratios_and_capacity() {
    let r = full_run();
    let md = report_markdown(&r);
    let titles: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .take(5)
        .collect();
    assert_eq!(
        titles,
        [
            "Claims and verdicts",
            "Headline charts",
            "Throughput ratios across scenarios",
            "ORM against raw SQL",
            "Capacity and knee"
        ]
    );
    // One headline chart per claim resting on a scenario's curve, in claim
    // order; none for the ratio claims or the out-of-scope ones.
    let analysis = with_claims(&r);
    let headline: Vec<(&str, &str)> = analysis
        .claims
        .as_ref()
        .unwrap()
        .headlines
        .iter()
        .map(|h| (h.scenario.as_str(), h.claim.as_str()))
        .collect();
    assert_eq!(headline.len(), 6, "{headline:?}");
    assert_eq!(headline[0], ("io", "event-loop-scalability"));
    assert!(
        section(&md, "Headline charts").contains("**event-loop-scalability** (**"),
        "{md}"
    );
    assert_eq!(headline[1].0, "db");
    assert_eq!(headline[2].0, "shop");
    assert_eq!(headline[3], ("fanout", "realtime-fanout"));
    assert_eq!(headline[4], ("spike", "high-traffic-spike"));
    assert_eq!(headline[5].0, "cpu");
    let verdicts = section(&md, "Claims and verdicts");
    assert!(
        verdicts.contains("| event-loop-scalability | “Node.js provides high scalability"),
        "{verdicts}"
    );
    assert!(verdicts.contains("fewer than 3 repeats"), "{verdicts}");
    let ratios = section(&md, "Throughput ratios across scenarios");
    assert!(
        ratios.contains("| json | 128 | 4650 | 5425 | 1395 | 1550 | ×3.00 | ×3.50 | ×0.90 |"),
        "{ratios}"
    );
    let cap = section(&md, "Capacity and knee");
    // Knee at 32 connections (1500 -> 1550 is under 10 % growth).
    assert!(
        cap.contains("| node | json | closed | 32 connections | 4500 | 4650 at 128 | — |"),
        "{cap}"
    );
    assert!(cap.contains("| node | shop-open | open |"), "{cap}");
    assert!(
        !cap.contains("| spike |"),
        "a surge measures recovery, not capacity: {cap}"
    );
    assert!(
        cap.contains("800 req/s (p99 > 50.0 ms from 1600 req/s)"),
        "{cap}"
    );
    assert!(
        cap.contains("400 req/s (p99 > 50.0 ms from 800 req/s)"),
        "{cap}"
    );
}

/// Saves `r`, runs `bakeoff verify --format json` on it (which must exit 0)
/// and returns the finding of claim `id`.
fn verified_claim(r: &bakeoff::results::RunResults, id: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    r.save_atomic(&dir.path().join("results.json")).unwrap();
    let out = bin()
        .args(["verify", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("claim {id} in {v}"))
        .clone()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
}

#[test]
fn verify_prints_json_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    full_run()
        .save_atomic(&dir.path().join("results.json"))
        .unwrap();
    let out = bin()
        .args(["verify", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Decoded with test-local expectations, so a wire change is caught.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = v["claims"].as_array().unwrap();
    assert!(claims.len() >= 7);
    for c in claims {
        let obj = c.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["evidence", "id", "predicate", "text", "verdict"]);
        let verdict = c["verdict"].as_str().unwrap();
        assert!(["supported", "refuted", "inconclusive", "out_of_scope"].contains(&verdict));
    }

    let md = bin().arg("verify").arg(dir.path()).output().unwrap();
    assert_eq!(md.status.code(), Some(0));
    let text = String::from_utf8(md.stdout).unwrap();
    assert!(text.starts_with("## Claims and verdicts"), "{text}");
    assert!(text.contains("## Capacity and knee"), "{text}");
    assert!(!text.contains("excluded"), "{text}");
}

#[test]
fn verify_names_the_steps_it_excluded() {
    let mut r = full_run();
    flag(&mut r.steps, "node", 128, StepFlag::GeneratorSaturated);
    let scaling = verified_claim(&r, "event-loop-scalability");
    assert_eq!(scaling["verdict"], "inconclusive", "{scaling}");
    let evidence = scaling["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("generator saturated (node · io · 128)"),
        "{evidence}"
    );

    let dir = tempfile::tempdir().unwrap();
    r.save_atomic(&dir.path().join("results.json")).unwrap();
    let md = bin().arg("verify").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(md.stdout).unwrap();
    assert!(
        text.contains("No verdict rests on a step flagged interrupted or generator saturated: 9 steps excluded: generator saturated (node · cpu · 128, node · db · 128"),
        "{text}"
    );
    // The ratio table shows the gap instead of a figure.
    assert!(text.contains("| json | 128 | excluded |"), "{text}");
}

#[test]
fn verify_exits_2_on_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let out = bin().arg("verify").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.json"));

    let results = dir.path().join("r.json");
    full_run().save_atomic(&results).unwrap();
    let bad_claims = dir.path().join("claims.toml");
    std::fs::write(&bad_claims, "[[claim]]\nid = 1\n").unwrap();
    let out = bin()
        .arg("verify")
        .arg(&results)
        .arg("--claims")
        .arg(&bad_claims)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("claims.toml"));
}

#[test]
fn verify_into_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    full_run()
        .save_atomic(&dir.path().join("results.json"))
        .unwrap();
    let mut child = bin()
        .arg("verify")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before reading anything (`| head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

// ------------------------------------------------ failures never look like speed

/// The fixture's every step of `target` on `scenario` turned into one whose
/// every request got a 500 (no latency, rps 0, error rate 1).
fn failing(
    mut r: bakeoff::results::RunResults,
    target: &str,
    scenarios: &[&str],
) -> bakeoff::results::RunResults {
    for s in scenarios {
        assert!(
            fixtures::fail_all(&mut r.steps, target, s) > 0,
            "{target} on {s}"
        );
    }
    r
}

fn by_id<'a>(verdicts: &'a [claims::ClaimVerdict], id: &str) -> &'a claims::ClaimVerdict {
    verdicts.iter().find(|v| v.id == id).expect(id)
}

/// The ORM claim as a default run gives it: per database scenario the
/// ORM's cost against raw SQL inside django-sync (what the verdict rests
/// on), and the gap to node that remains with raw SQL.
#[test]
fn orm_claim_names_the_orm_cost_and_the_raw_sql_gap_per_scenario() {
    let verdicts = evaluate(&full_run(), &claims::load(None).unwrap());
    let orm = by_id(&verdicts, "orm-quick-database");
    let e = &orm.evidence;
    // ×1.25 on one repeat is neither within ×1.2 nor beyond the ×1.5 margin.
    assert_eq!(orm.verdict, Verdict::Inconclusive, "{e}");
    let (cost, gap) = e
        .split_once("The gap to node that remains with raw SQL")
        .unwrap_or_else(|| panic!("no raw-SQL gap in {e}"));
    assert!(
        cost.starts_with("ORM against raw SQL inside django-sync"),
        "{e}"
    );
    for s in ["db", "queries", "fortunes"] {
        assert!(cost.contains(&format!("{s} p50 ×1.25 at 8")), "{s}: {e}");
        assert!(gap.contains(&format!("{s} p50 ×0.80 at 8")), "{s}: {e}");
    }
    assert!(cost.contains("p99 ×1.25 at 128"), "{e}");
    assert!(gap.contains("p99 ×0.80 at 128"), "{e}");
    assert!(gap.contains("not part of the verdict"), "{e}");
    assert!(!e.contains("not measured"), "{e}");
}

/// The report's ORM table: per database scenario and level, node, then
/// each Django variant's raw SQL and ORM, with queries per request from
/// the steps' `database` figures.
#[test]
fn the_report_tables_node_django_raw_and_django_orm_with_queries_per_request() {
    let mut r = full_run();
    for s in r.steps.iter_mut() {
        let per = match s.scenario.as_str() {
            "db" | "db-raw" | "fortunes" | "fortunes-raw" => 1.0,
            "queries" | "queries-raw" => 20.0,
            _ => continue,
        };
        let requests = s.summary.requests;
        s.database = Some(bakeoff::results::StepQueries::new(
            (per * requests as f64) as u64,
            (per * requests as f64) as u64,
            requests,
        ));
    }
    let md = report_markdown(&r);
    let table = md
        .split("\n## ORM against raw SQL\n")
        .nth(1)
        .expect("the ORM section")
        .split("\n## ")
        .next()
        .unwrap();
    let header = table.lines().find(|l| l.starts_with("| Scenario")).unwrap();
    assert_eq!(
        header,
        "| Scenario | Level | node | django-sync raw | django-sync ORM | django-async raw | django-async ORM |"
    );
    let row = |scenario: &str, level: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {scenario} | {level} |")))
            .unwrap_or_else(|| panic!("no {scenario} {level} row:\n{table}"))
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let db8 = row("db", "8");
    assert_eq!(db8[2], "2.00 ms / 4.00 ms · 1.0 q/req", "{db8:?}");
    assert_eq!(db8[3], "1.60 ms / 3.20 ms · 1.0 q/req", "{db8:?}");
    assert_eq!(db8[4], "2.00 ms / 4.00 ms · 1.0 q/req", "{db8:?}");
    let queries128 = row("queries", "128");
    assert!(queries128[3].ends_with("· 20.0 q/req"), "{queries128:?}");
    assert!(queries128[6].ends_with("· 20.0 q/req"), "{queries128:?}");
    // Levels are those of the raw twins: 8 and 128, not 32.
    assert!(!table.contains("| db | 32 |"), "{table}");
    assert!(table.contains("| fortunes | 128 |"), "{table}");
}

#[test]
fn orm_claim_is_not_supported_when_django_answers_500_to_every_db_request() {
    let r = failing(full_run(), "django-sync", &["db"]);
    // The fixture is what the engine would write for such a target.
    for s in r
        .steps
        .iter()
        .filter(|s| s.target == "django-sync" && s.scenario == "db")
    {
        assert!(s.summary.latency_us.is_none());
        assert_eq!((s.summary.rps, s.summary.error_rate), (0.0, 1.0));
    }
    let verdicts = evaluate(&r, &claims::load(None).unwrap());
    let orm = by_id(&verdicts, "orm-quick-database");
    assert_ne!(orm.verdict, Verdict::Supported, "{}", orm.evidence);
    // The ORM against raw SQL inside django-sync: db counts as slower
    // (twice), queries and fortunes at ×1.25, which one repeat cannot show
    // to be within ×1.2, nor slower beyond its ×1.5 margin: not slower in
    // most either.
    assert_eq!(orm.verdict, Verdict::Inconclusive, "{}", orm.evidence);
    assert!(
        orm.evidence.contains(
            "slower beyond noise in 2 of 6 comparisons and within ×1.2 beyond noise in 0"
        ),
        "{}",
        orm.evidence
    );
    assert!(
        orm.evidence.ends_with(
            "Failures count against their target: django-sync on db at 8 and 128 connections (no request succeeded)."
        ),
        "{}",
        orm.evidence
    );
    // In every database scenario: refuted, never supported.
    let all = failing(full_run(), "django-sync", &["db", "queries", "fortunes"]);
    let orm = by_id(
        &evaluate(&all, &claims::load(None).unwrap()),
        "orm-quick-database",
    )
    .clone();
    assert_eq!(orm.verdict, Verdict::Refuted, "{}", orm.evidence);
    assert!(
        orm.evidence.contains("slower beyond noise in 6 of 6"),
        "{}",
        orm.evidence
    );
    // The ORM and raw SQL both failing: a tie of failures is not "quick".
    let both = failing(
        all,
        "django-sync",
        &["db-raw", "queries-raw", "fortunes-raw"],
    );
    let orm = by_id(
        &evaluate(&both, &claims::load(None).unwrap()),
        "orm-quick-database",
    )
    .clone();
    assert_eq!(orm.verdict, Verdict::Inconclusive, "{}", orm.evidence);
    assert!(
        orm.evidence.contains("within ×1.2 beyond noise in 0"),
        "{}",
        orm.evidence
    );
}

#[test]
fn verify_and_the_report_show_the_failure() {
    let r = failing(full_run(), "django-sync", &["db"]);
    let orm = verified_claim(&r, "orm-quick-database");
    assert_ne!(orm["verdict"], "supported", "{orm}");
    assert!(
        orm["evidence"]
            .as_str()
            .unwrap()
            .contains("django-sync on db at 8 and 128 connections (no request succeeded)"),
        "{orm}"
    );

    // The report: the verdict row carries the failure, the db table shows
    // n/a (never 0) for django-sync's latency, and a note says why.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    bakeoff::report::write_reports(&out_dir, &r, &with_claims(&r)).unwrap();
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| orm-quick-database |"))
        .expect("the ORM row of the verdict table");
    assert!(!row.contains("**supported**"), "{row}");
    assert!(row.contains("(no request succeeded)"), "{row}");
    assert!(
        md.contains("> **No request succeeded** for django-sync on db at 8, 32, 128 connections."),
        "{md}"
    );
    let db = md
        .split("\n## db — closed model")
        .nth(1)
        .expect("db section");
    let at128 = db
        .lines()
        .find(|l| l.starts_with("| 128 |"))
        .expect("the 128 row");
    let cells: Vec<&str> = at128.trim_matches('|').split('|').map(str::trim).collect();
    // level, node, node-cluster, django-sync, django-async
    assert!(cells[3].starts_with("0.0 · n/a / n/a ("), "{at128}");
    assert!(
        !cells[3].contains(" 0 /") && !cells[3].contains("/ 0 "),
        "{at128}"
    );
    // The capacity table does not call it "still growing".
    let cap = md
        .split("## Capacity and knee")
        .nth(1)
        .expect("capacity section");
    let line = cap
        .lines()
        .find(|l| l.starts_with("| django-sync | db |"))
        .expect("django-sync's db row");
    assert!(line.contains("— (no request succeeded)"), "{line}");
    assert!(!line.contains("not reached"), "{line}");
    // The ratio table marks the 0.
    let ratios = md
        .split("## Throughput ratios across scenarios")
        .nth(1)
        .unwrap();
    assert!(ratios.contains("| db | 128 |"), "{ratios}");
    assert!(ratios.contains("0 (none succeeded)"), "{ratios}");
}

#[test]
fn scaling_reads_an_all_failing_target_as_failing() {
    // django-sync answers nothing on io: node scales, django-sync does not
    // "keep growing".
    let r = failing(io_run(3, 0.02), "django-sync", &["io"]);
    let v = verdict_of(&r, SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("django-sync grew — (no successful request at any level) to 0 req/s"),
        "{}",
        v.evidence
    );
    // Not "grew ×1.00 (no knee)", which reads as flat but alive.
    assert!(!v.evidence.contains("django-sync grew ×"), "{}", v.evidence);
    assert!(
        v.evidence.ends_with(
            "Failures count against their target: django-sync on io at 8, 64 and 256 connections (no request succeeded in any of 3 repeats)."
        ),
        "{}",
        v.evidence
    );
    // The subject failing everything refutes the claim.
    let r = failing(io_run(3, 0.02), "node", &["io"]);
    let v = verdict_of(&r, SCALING);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("node's throughput grew — (no successful request at any level) to 0 req/s"),
        "{}",
        v.evidence
    );
    // Both failing: no verdict in anyone's favour.
    let r = failing(
        failing(io_run(3, 0.02), "node", &["io"]),
        "django-sync",
        &["io"],
    );
    assert_eq!(verdict_of(&r, SCALING).verdict, Verdict::Inconclusive);
    // The capacity table agrees.
    let r = failing(io_run(3, 0.02), "django-sync", &["io"]);
    let cap = capacity_md(&r, &claims::load(None).unwrap().capacity);
    let line = cap
        .lines()
        .find(|l| l.starts_with("| django-sync | io |"))
        .unwrap();
    assert_eq!(
        line,
        "| django-sync | io | closed | — (no request succeeded) | — | — | — |"
    );
}

#[test]
fn head_to_head_and_tail_never_favour_a_failing_target() {
    let ratio = r#"
[[claim]]
id = "ahead"
text = "Node is faster."
kind = "ratio_at_highest"
scenarios = ["json"]
subject = "node"
versus = "django-sync"
"#;
    let tail = r#"
[[claim]]
id = "tail"
text = "Seamless under high traffic."
kind = "tail_under_load"
scenarios = ["json"]
subject = "node"
versus = ["django-sync"]
"#;
    let json = |node_p99: u64| {
        let mut steps = curve(
            "node",
            "json",
            Closed,
            &[(64, 9_000.0, 2_000, node_p99)],
            3,
            0.01,
        );
        steps.extend(curve(
            "django-sync",
            "json",
            Closed,
            &[(64, 1_500.0, 30_000, 90_000)],
            3,
            0.01,
        ));
        run(steps)
    };
    // Clean: node wins both.
    assert_eq!(verdict_of(&json(5_000), ratio).verdict, Verdict::Supported);
    assert_eq!(verdict_of(&json(5_000), tail).verdict, Verdict::Supported);
    // node fails everything: behind, refuted.
    let r = failing(json(5_000), "node", &["json"]);
    assert_eq!(verdict_of(&r, ratio).verdict, Verdict::Refuted);
    let v = verdict_of(&r, tail);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("node's p99 was failing with 100.00% errors"),
        "{}",
        v.evidence
    );
    // Fast answers but 2 % errors: its p99 may not count for it, so the
    // p99 comparison goes to django-sync and node is no longer ahead.
    let mut r = json(5_000);
    for s in r.steps.iter_mut().filter(|s| s.target == "node") {
        let ok = s.summary.requests;
        fixtures::set_errors(s, ok / 49);
    }
    let v = verdict_of(&r, ratio);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence.contains(
            "node on json at 64 connections (3 of 3 repeats failed more than 1% of requests)"
        ),
        "{}",
        v.evidence
    );
}

#[test]
fn one_failed_repeat_of_three_cannot_make_a_win() {
    // node is 6× django-sync in every repeat but one, which answered
    // nothing: its median p99 is the worse of the other two, its interval
    // reaches +∞, and "ahead beyond noise" can no longer be shown.
    let toml = r#"
[[claim]]
id = "ahead"
text = "Node is faster."
kind = "ratio_at_highest"
scenarios = ["json"]
subject = "node"
versus = "django-sync"
"#;
    let mut steps = curve(
        "node",
        "json",
        Closed,
        &[(64, 9_000.0, 2_000, 5_000)],
        3,
        0.01,
    );
    steps.extend(curve(
        "django-sync",
        "json",
        Closed,
        &[(64, 1_500.0, 30_000, 90_000)],
        3,
        0.01,
    ));
    let clean = run(steps);
    assert_eq!(verdict_of(&clean, toml).verdict, Verdict::Supported);
    let mut one = clean.clone();
    let s = one
        .steps
        .iter_mut()
        .find(|s| s.target == "node" && s.repeat == 1)
        .unwrap();
    *s = fixtures::failing_step("node", "json", Closed, 64, 1, 90_000);
    let v = verdict_of(&one, toml);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("node on json at 64 connections (no request succeeded in 1 of 3 repeats)"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence.contains("compared by their ranges (min–max)"),
        "{}",
        v.evidence
    );
}

#[test]
fn capacity_is_the_per_rate_median_over_repeats() {
    // Three repeats probe the same rates. Repeat 1 answered nothing at
    // 400 req/s and repeat 2 missed the 50 ms objective at 800: per
    // repeat, the capacities would be ≥ 1600, none and 400 (median 400).
    // Per rate, the medians over the repeats meet the objective at every
    // rate (the failing repeat counts as +∞ but is outvoted).
    let mut steps = Vec::new();
    for (rate, p99s) in [
        (400u64, [Some(20_000u64), None, Some(20_000)]),
        (800, [Some(30_000), Some(30_000), Some(70_000)]),
        (1600, [Some(40_000), Some(40_000), Some(45_000)]),
    ] {
        for (repeat, p99) in p99s.into_iter().enumerate() {
            let r = repeat as u32;
            steps.push(match p99 {
                Some(p99) => step(
                    "node",
                    "shop-open",
                    Open,
                    rate,
                    r,
                    rate as f64,
                    5_000,
                    p99,
                    0,
                ),
                None => fixtures::failing_step("node", "shop-open", Open, rate, r, rate * 10),
            });
        }
    }
    let spec = claims::load(None).unwrap().capacity;
    let cap = capacity_md(&run(steps.clone()), &spec);
    assert!(
        cap.contains("| ≥ 1600 req/s (p99 ≤ 50.0 ms at every rate measured) |"),
        "{}",
        cap
    );
    assert!(
        cap.contains("median over the repeats of that rate"),
        "{}",
        cap
    );
    // Two failing repeats of three at 800: that rate misses, and says why.
    let mut worse = steps.clone();
    let i = worse
        .iter()
        .position(|s| s.level == 800 && s.repeat == 0)
        .unwrap();
    worse[i] = fixtures::failing_step("node", "shop-open", Open, 800, 0, 8_000);
    let cap = capacity_md(&run(worse), &spec);
    assert!(
        cap.contains("| 400 req/s (p99 > 50.0 ms from 800 req/s) |"),
        "{}",
        cap
    );
    // A rate measured in fewer repeats (an older run) is named.
    steps.retain(|s| !(s.level == 1600 && s.repeat == 2));
    let cap = capacity_md(&run(steps), &spec);
    assert!(
        cap.contains("rates measured in fewer repeats: 1600 (2 of 3)"),
        "{}",
        cap
    );
}

/// A step of `target` on "shop" at 128 connections whose histogram holds
/// `samples` (value µs, count), with its summary made from that histogram
/// by the crate, as the engine does.
fn shop_step(
    target: &str,
    repeat: u32,
    rps: f64,
    samples: &[(u64, u64)],
) -> bakeoff::results::StepRecord {
    let mut h = bakeoff::results::new_histogram();
    for &(v, n) in samples {
        h.record_n(v, n).unwrap();
    }
    let mut s = step(target, "shop", Closed, 128, repeat, rps, 1_000, 2_000, 0);
    s.summary.latency_us = bakeoff::results::LatencySummary::from_histogram(&h);
    s.histograms.total = bakeoff::results::encode_histogram(&h);
    s
}

/// The acceptance test of "one analysis pass": three repeats whose pooled
/// histogram has a p99 of ~200 ms while the median of their p99s is 12 ms.
/// The report's table, a claim's evidence (`bakeoff verify`), a gate
/// message and `bakeoff compare` all print the level's one p99, 12.0 ms
/// (`units::latency` of the median of the repeats' p99s), and the terminal
/// table's "best req/s" is the report's.
#[test]
fn one_p99_per_level_in_report_claims_gates_and_compare() {
    use bakeoff::suite::plan::{Comparison, Metric, Threshold};
    let steps = vec![
        // node: p99 10 ms, 12 ms, and a repeat with a fat tail (10 % at
        // 200 ms, its p99 200 ms). Pooled, that tail is 100 of 3000
        // samples, so the pooled p99 is 200 ms; the median p99 is 12 ms.
        shop_step("node", 0, 3_900.0, &[(2_000, 980), (10_000, 20)]),
        shop_step("node", 1, 4_000.0, &[(2_000, 980), (12_000, 20)]),
        shop_step("node", 2, 4_100.0, &[(2_000, 900), (200_000, 100)]),
        shop_step("django-sync", 0, 1_000.0, &[(50_000, 980), (250_000, 20)]),
        shop_step("django-sync", 1, 1_000.0, &[(50_000, 980), (250_000, 20)]),
        shop_step("django-sync", 2, 1_000.0, &[(50_000, 980), (250_000, 20)]),
    ];
    let r = run(steps);

    // The fixture means something: the two definitions differ clearly.
    let summary = bakeoff::analysis::summarize(&r);
    let node = &summary.scenarios[0].targets[0];
    assert_eq!(node.target, "node");
    let level = node.at(128).unwrap();
    let pooled = level.histogram.as_ref().unwrap().value_at_quantile(0.99);
    assert!(pooled >= 199_000, "pooled p99 {pooled}");
    let p99 = level.p99_us();
    assert!((12_000.0..12_100.0).contains(&p99), "median p99 {p99}");
    let figure = bakeoff::units::latency(p99);
    assert_eq!(figure, "12.0 ms");
    let pooled_figure = bakeoff::units::latency(pooled as f64);
    assert_ne!(figure, pooled_figure);

    // 1. report.md's per-level table: "req/s · p50 / p99" in ms.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    bakeoff::report::write_reports(&out_dir, &r, &analyze(&r, None, &[])).unwrap();
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| 128 |"))
        .unwrap_or_else(|| panic!("the 128 row in {md}"));
    let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
    // level, node, django-sync (the one target order: first appearance).
    assert_eq!(
        cells[1],
        format!(
            "4 000 (3 900–4 100) · 2.00 / {}",
            bakeoff::units::latency_ms(p99)
        ),
        "{row}"
    );
    assert!(
        !row.contains(&bakeoff::units::latency_ms(pooled as f64)),
        "{row}"
    );

    // 2. A claim's evidence, through `bakeoff verify`.
    let claims_path = dir.path().join("claims.toml");
    std::fs::write(
        &claims_path,
        r#"
[[claim]]
id = "tail"
text = "Seamless under high traffic."
kind = "tail_under_load"
scenarios = ["shop"]
subject = "node"
versus = ["django-sync"]
"#,
    )
    .unwrap();
    let results_path = dir.path().join("results.json");
    r.save_atomic(&results_path).unwrap();
    let out = bin()
        .args(["verify", "--format", "json", "--claims"])
        .arg(&claims_path)
        .arg(&results_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evidence = v["claims"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&format!("node's p99 was {figure} with")),
        "{evidence}"
    );
    assert!(!evidence.contains(&pooled_figure), "{evidence}");

    // 3. A gate message: `p99 < 50ms` passes on the median (it would fail
    // on the pooled 200 ms) and prints the same figure.
    let gate = Threshold {
        model: None,
        target: Some("node".into()),
        scenario: None,
        metric: Metric::P99,
        op: Comparison::Lt,
        value: 50_000.0,
        text: "p99 < 50ms".into(),
    };
    let outcomes = bakeoff::gates::evaluate(&[gate], &StepGroups::for_verdicts(&r));
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].actual, p99);
    assert_eq!(
        outcomes[0].to_string(),
        format!("pass node/shop at 128: p99 < 50ms (actual {figure}, median of 3)")
    );

    // 4. `bakeoff compare`: the Markdown row and the JSON figure.
    let out = bin()
        .arg("compare")
        .arg(&results_path)
        .arg(&results_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with("| node | shop | 128 conn |"))
        .unwrap_or_else(|| panic!("node's row in {text}"));
    assert!(row.contains(&format!("| {figure} → {figure} |")), "{row}");
    let out = bin()
        .args(["compare", "--format", "json"])
        .arg(&results_path)
        .arg(&results_path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node_step = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target"] == "node")
        .unwrap();
    assert_eq!(node_step["current"]["p99_us"].as_f64(), Some(p99));

    // One "best req/s": the terminal table at the end of `run` prints the
    // report's best level and its median.
    let best = node.best().unwrap();
    let table = bakeoff::report::render::text::render(&bakeoff::report::terminal::run_summary(
        &analyze(&r, None, &[]).summary,
    ));
    let line = table
        .lines()
        .find(|l| l.starts_with("shop") && l.contains(" node "))
        .unwrap_or_else(|| panic!("{table}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        (cols[2], cols[4], cols[5], cols[6]),
        ("4", "128", "12.0", "ms"),
        "{line}"
    );
    assert_eq!(
        format!("{} {}", cols[2], cols[3]),
        bakeoff::units::rps(best.rps_median)
    );
}

// ------------------------------------------------- the noise rule everywhere

const ORM: &str = r#"
[[claim]]
id = "orm"
text = "The ORM is quick."
kind = "latency_uncontended_and_loaded"
scenarios = ["db"]
subject = "django-sync"
versus = "node"
ratio = 1.2
"#;

/// node and django-sync on db at 8 and 128 connections, django-sync's
/// latency `slower` times node's, `repeats` repeats with ±2 % jitter.
fn db_run(slower: f64, repeats: u32) -> bakeoff::results::RunResults {
    let times = |v: u64| (v as f64 * slower).round() as u64;
    let mut steps = curve(
        "node",
        "db",
        Closed,
        &[
            (8, 1_000.0, 10_000, 20_000),
            (128, 4_000.0, 50_000, 100_000),
        ],
        repeats,
        0.02,
    );
    steps.extend(curve(
        "django-sync",
        "db",
        Closed,
        &[
            (8, 1_000.0, times(10_000), times(20_000)),
            (128, 4_000.0, times(50_000), times(100_000)),
        ],
        repeats,
        0.02,
    ));
    run(steps)
}

#[test]
fn one_repeat_at_1_19_is_not_supported() {
    // ×1.19 on one repeat: within ×1.2 by the raw medians, but one repeat
    // cannot show that (×1.19 × 1.25 = ×1.49).
    let v = verdict_of(&db_run(1.19, 1), ORM);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence.contains(
            "×1.19 on one repeat, ×1.49 with the ×1.25 few-repeats allowance, beyond ×1.2"
        ),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence.contains("within ×1.2 beyond noise in 0"),
        "{}",
        v.evidence
    );
    // Three tight repeats at ×1.10 show it: the worst case of the ranges
    // stays within ×1.2, and the evidence says so.
    let v = verdict_of(&db_run(1.10, 3), ORM);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("across the ranges of 3 repeats, within ×1.2"),
        "{}",
        v.evidence
    );
    // Three repeats at ×1.19: the spread reaches past ×1.2.
    let v = verdict_of(&db_run(1.19, 3), ORM);
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    // Clearly slower on one repeat: refuted, over the ×1.5 margin.
    let v = verdict_of(&db_run(2.0, 1), ORM);
    assert_eq!(v.verdict, Verdict::Refuted, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("slower beyond noise: ×2.00 on one repeat, over the ×1.5 margin"),
        "{}",
        v.evidence
    );
}

/// node and django-sync on io at 8 and 256 connections: `node` and
/// `django` = per repeat (rps at 8, rps at 256).
fn growth_run(node: &[(f64, f64)], django: &[(f64, f64)]) -> bakeoff::results::RunResults {
    let mut steps = Vec::new();
    for (target, points) in [("node", node), ("django-sync", django)] {
        for (r, (lo, hi)) in points.iter().enumerate() {
            let r = r as u32;
            steps.push(step(target, "io", Closed, 8, r, *lo, 50_000, 55_000, 0));
            steps.push(step(target, "io", Closed, 256, r, *hi, 60_000, 90_000, 0));
        }
    }
    run(steps)
}

#[test]
fn scaling_growth_within_noise_is_inconclusive() {
    // node ends ×1.43 ahead at 256 (clear), but grew ×10.0 against
    // django-sync's ×9.33: under the ×1.2 ratio, so no "grows more".
    let v = verdict_of(
        &growth_run(
            &[(196.0, 1_960.0), (200.0, 2_000.0), (204.0, 2_040.0)],
            &[(147.0, 1_372.0), (150.0, 1_400.0), (153.0, 1_428.0)],
        ),
        SCALING,
    );
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("node's rps at 256 ×1.43 better (×1.43, ranges of 3 repeats apart)"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .contains("its growth ×1.07 better (×1.07, under the ×1.2 ratio)"),
        "{}",
        v.evidence
    );
    // Growth medians ×2.3 apart, but one repeat of each overlaps the
    // other's: within noise.
    let v = verdict_of(
        &growth_run(
            &[(100.0, 3_000.0), (100.0, 1_500.0), (100.0, 2_800.0)],
            &[(100.0, 1_000.0), (100.0, 1_200.0), (100.0, 1_600.0)],
        ),
        SCALING,
    );
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("its growth ×2.33 better (×2.33, but the ranges of 3 repeats overlap)"),
        "{}",
        v.evidence
    );
}

#[test]
fn scaling_with_clear_separation_is_supported_and_names_the_rule() {
    let v = verdict_of(&io_run(3, 0.02), SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("its growth ×15.00 better (×15.00, ranges of 3 repeats apart)"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .contains("growth judged per repeat, each repeat's rps at 256 over its rps at 8"),
        "{}",
        v.evidence
    );
    // One repeat: the ×1.5 margin, said so.
    let v = verdict_of(&io_run(1, 0.0), SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("its growth ×15.00 better (×15.00 on one repeat, over the ×1.5 margin)"),
        "{}",
        v.evidence
    );
}

#[test]
fn a_lowest_level_with_errors_never_counts_as_growth() {
    // django-sync's lowest level fails 5 % of its requests in every
    // repeat, so its low throughput there is not a base to grow from: its
    // growth is 0, which counts against it, never for it.
    let mut r = io_run(3, 0.02);
    for s in r
        .steps
        .iter_mut()
        .filter(|s| s.target == "django-sync" && s.level == 8)
    {
        fixtures::set_errors(s, 80);
    }
    let v = verdict_of(&r, SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    assert!(v.evidence.contains("django-sync grew —"), "{}", v.evidence);
    // The same for the subject: it cannot win on growth.
    let mut r = io_run(3, 0.02);
    for s in r
        .steps
        .iter_mut()
        .filter(|s| s.target == "node" && s.level == 8)
    {
        fixtures::set_errors(s, 80);
    }
    let v = verdict_of(&r, SCALING);
    assert_ne!(v.verdict, Verdict::Supported, "{}", v.evidence);
}

// ------------------------------------------------------------ report order

#[test]
fn report_opens_with_the_verdicts_and_every_image_exists() {
    let r = full_run();
    let dir = tempfile::tempdir().unwrap();
    bakeoff::report::write_reports(dir.path(), &r, &with_claims(&r)).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert!(md.starts_with("# bakeoff report"), "{md}");
    assert_eq!(headings[0], "## Claims and verdicts", "{headings:?}");
    assert_eq!(headings[1], "## Headline charts", "{headings:?}");
    let pos = |h: &str| headings.iter().position(|x| *x == h).unwrap();
    assert!(pos("## Capacity and knee") < pos("## json — closed model"));
    assert!(pos("## shop — closed model") < pos("## Provenance"));
    assert!(pos("## Provenance") > headings.len() - 3, "{headings:?}");
    // The headline charts are the scenarios' own PNGs.
    let headline = md
        .split("## Headline charts")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let links = image_links(headline);
    assert_eq!(
        links,
        [
            "charts/io-throughput.png",
            "charts/db-latency.png",
            "charts/shop-latency.png",
            "charts/fanout-latency.png",
            "charts/spike-surge.png",
            "charts/cpu-throughput.png"
        ],
        "{headline}"
    );
    let all = image_links(&md);
    assert!(all.len() > links.len());
    for link in &all {
        assert!(dir.path().join(link).is_file(), "{link} does not exist");
    }
}

#[test]
fn report_command_regenerates_byte_identical_reports() {
    let dir = tempfile::tempdir().unwrap();
    full_run()
        .save_atomic(&dir.path().join("results.json"))
        .unwrap();
    regenerate_twice(dir.path());
}

#[test]
fn scaling_evidence_carries_the_scalability_model() {
    let v = verdict_of(&fixtures::io_five_levels(1), SCALING);
    assert_eq!(v.verdict, Verdict::Supported, "{}", v.evidence);
    let e = &v.evidence;
    assert!(
        e.contains("Scalability model (the USL and the bounded model"),
        "{e}"
    );
    // node: linear, no peak within 8..256, no cap.
    assert!(e.contains("node over 5 levels (8–256)"), "{e}");
    assert!(e.contains("N* beyond the measured range"), "{e}");
    assert!(
        e.contains("the bounded model reaches no cap in range"),
        "{e}"
    );
    // django-sync: a hard cap at 300 req/s, which the bounded model names.
    let django = &e[e.find("django-sync over 5 levels").expect(e)..];
    assert!(django.contains("caps at 300 req/s"), "{django}");
    assert!(
        django.contains("the bounded model fits better: a hard cap"),
        "{django}"
    );
    assert!(e.contains("bootstrap over residuals"), "{e}");
}

#[test]
fn scaling_evidence_says_when_there_are_too_few_levels_to_fit() {
    let v = verdict_of(&io_run(3, 0.02), SCALING);
    assert!(
        v.evidence
            .contains("node: not enough levels to fit: 3 distinct"),
        "{}",
        v.evidence
    );
}

#[test]
fn a_step_that_breaks_littles_law_is_left_out_of_the_model_and_named() {
    let mut r = fixtures::io_five_levels(1);
    // The generator held only half of django-sync's 128 connections busy.
    let s = r
        .steps
        .iter_mut()
        .find(|s| s.target == "django-sync" && s.level == 128)
        .unwrap();
    s.summary.latency_us.as_mut().unwrap().mean /= 2.0;
    let v = verdict_of(&r, SCALING);
    assert!(
        v.evidence.contains("django-sync over 4 levels"),
        "{}",
        v.evidence
    );
    assert!(
        v.evidence
            .contains("left out of the fit: 128 repeat 0 (L/N = 0.50)"),
        "{}",
        v.evidence
    );
}
