//! Predicates on synthetic groups whose answer is known.

use super::scaling::{growth_median, growth_per_repeat};
use super::*;
use crate::analysis::StepGroups;
use crate::results::{LatencySummary, Provenance, RunResults, StepRecord, Summary};

/// One step: `rps` successful req/s, p50 = p99 / 2.
fn step(target: &str, level: u64, repeat: u32, rps: f64, p99: u64) -> StepRecord {
    StepRecord {
        target: target.into(),
        scenario: "s".into(),
        model: Model::Closed,
        level,
        repeat,
        started_at: String::new(),
        summary: Summary {
            requests: (rps * 10.0) as u64,
            errors: 0,
            error_rate: 0.0,
            duration_s: 10.0,
            rps,
            latency_us: Some(LatencySummary {
                min: 1,
                mean: p99 as f64 / 2.0,
                p50: p99 / 2,
                p90: p99,
                p99,
                p999: p99,
                max: p99,
            }),
            ..Summary::default()
        },
        endpoints: Default::default(),
        histograms: Default::default(),
        timeline: Vec::new(),
        server: None,
        database: None,
        flags: Vec::new(),
    }
}

/// One point: (target, level, per-repeat (rps, p99)).
type Point<'a> = (&'a str, u64, &'a [(f64, u64)]);

/// Groups of `points`.
fn groups(points: &[Point]) -> StepGroups {
    let mut run = RunResults::new(Provenance::default());
    for (t, level, repeats) in points {
        for (i, (rps, p99)) in repeats.iter().enumerate() {
            run.steps.push(step(t, *level, i as u32, *rps, *p99));
        }
    }
    StepGroups::for_verdicts(&run)
}

fn latency_of(g: &StepGroups) -> Finding {
    let p = Predicate::LatencyUncontendedAndLoaded {
        scenarios: vec!["s".into()],
        subject: "a".into(),
        versus: "b".into(),
        ratio: 1.2,
    };
    evaluate(&p, &Lookup::new(g), NoisePolicy::default())
}

fn scaling_of(g: &StepGroups) -> Finding {
    let p = Predicate::Scaling {
        scenario: "s".into(),
        subject: "a".into(),
        versus: vec!["b".into()],
        growth_fraction: 0.1,
    };
    evaluate(&p, &Lookup::new(g), NoisePolicy::default())
}

#[test]
fn one_repeat_at_1_19_is_not_within_1_2() {
    // a is ×1.19 slower than b at both levels, one repeat each.
    let g = groups(&[
        ("a", 1, &[(100.0, 11_900)]),
        ("a", 64, &[(1_000.0, 119_000)]),
        ("b", 1, &[(100.0, 10_000)]),
        ("b", 64, &[(1_000.0, 100_000)]),
    ]);
    let f = latency_of(&g);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(
        f.evidence.contains(
            "×1.19 on one repeat, ×1.49 with the ×1.25 few-repeats allowance, beyond ×1.2"
        ),
        "{}",
        f.evidence
    );
    // ×0.95 on one repeat clears the allowance.
    let g = groups(&[
        ("a", 1, &[(100.0, 9_500)]),
        ("a", 64, &[(1_000.0, 95_000)]),
        ("b", 1, &[(100.0, 10_000)]),
        ("b", 64, &[(1_000.0, 100_000)]),
    ]);
    let f = latency_of(&g);
    assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
    assert!(
        f.evidence.contains("within ×1.2 beyond noise in 2"),
        "{}",
        f.evidence
    );
}

#[test]
fn within_bound_with_repeats_uses_the_worst_case_of_the_ranges() {
    let a = [1_050.0, 1_100.0, 1_150.0];
    let b = [990.0, 1_000.0, 1_010.0];
    let w = within(&a, &b, 1.2, NoisePolicy::default()).unwrap();
    assert!(w.held, "{w:?}");
    assert!((w.worst - 1_150.0 / 990.0).abs() < 1e-9);
    assert!(
        w.words()
            .contains("across the ranges of 3 repeats, within ×1.2")
    );
    // Medians ×1.1 apart, but the spread reaches ×1.25: not shown.
    let a = [1_000.0, 1_100.0, 1_240.0];
    let w = within(&a, &b, 1.2, NoisePolicy::default()).unwrap();
    assert!(!w.held, "{w:?}");
    // A failing repeat never stays within a bound.
    let a = [1_000.0, 1_000.0, f64::INFINITY];
    assert!(!within(&a, &b, 1.2, NoisePolicy::default()).unwrap().held);
    let inf = [f64::INFINITY];
    assert!(
        !within(&inf, &inf, 1.2, NoisePolicy::default())
            .unwrap()
            .held
    );
}

#[test]
fn scaling_growth_within_noise_is_inconclusive() {
    // a ends ×1.4 ahead at 64, but grew ×10.0 against b's ×9.3: the
    // growth difference is under the ×1.2 ratio.
    let g = groups(&[
        ("a", 1, &[(200.0, 1_000), (204.0, 1_000), (196.0, 1_000)]),
        (
            "a",
            64,
            &[(2_000.0, 9_000), (2_040.0, 9_000), (1_960.0, 9_000)],
        ),
        ("b", 1, &[(150.0, 1_000), (153.0, 1_000), (147.0, 1_000)]),
        (
            "b",
            64,
            &[(1_400.0, 9_000), (1_428.0, 9_000), (1_372.0, 9_000)],
        ),
    ]);
    let f = scaling_of(&g);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(
        f.evidence.contains("under the ×1.2 ratio"),
        "{}",
        f.evidence
    );
    // Growth ×2 apart on average but noisy per repeat: the ranges of
    // the growth factors overlap.
    let g = groups(&[
        ("a", 1, &[(100.0, 1_000), (100.0, 1_000), (100.0, 1_000)]),
        (
            "a",
            64,
            &[(3_000.0, 9_000), (1_500.0, 9_000), (2_800.0, 9_000)],
        ),
        ("b", 1, &[(100.0, 1_000), (100.0, 1_000), (100.0, 1_000)]),
        (
            "b",
            64,
            &[(1_000.0, 9_000), (1_200.0, 9_000), (1_600.0, 9_000)],
        ),
    ]);
    let f = scaling_of(&g);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(
        f.evidence
            .contains("its growth ×2.33 better (×2.33, but the ranges of 3 repeats overlap)"),
        "{}",
        f.evidence
    );
}

#[test]
fn scaling_clear_growth_is_supported_and_names_the_rule() {
    let g = groups(&[
        ("a", 1, &[(100.0, 1_000), (102.0, 1_000), (98.0, 1_000)]),
        (
            "a",
            64,
            &[(3_000.0, 2_000), (3_060.0, 2_000), (2_940.0, 2_000)],
        ),
        ("b", 1, &[(100.0, 1_000), (102.0, 1_000), (98.0, 1_000)]),
        ("b", 64, &[(300.0, 9_000), (306.0, 9_000), (294.0, 9_000)]),
    ]);
    let f = scaling_of(&g);
    assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
    assert!(
        f.evidence
            .contains("its growth ×10.00 better (×10.00, ranges of 3 repeats apart)"),
        "{}",
        f.evidence
    );
    assert!(
        f.evidence.contains("growth judged per repeat"),
        "{}",
        f.evidence
    );
}

#[test]
fn a_repeat_failing_at_the_lowest_level_has_no_growth() {
    let mut run = RunResults::new(Provenance::default());
    for r in 0..3 {
        run.steps.push(step("a", 1, r, 100.0, 1_000));
        run.steps.push(step("a", 64, r, 3_000.0, 2_000));
    }
    // Repeat 1 at level 1: 5 % errors, so its latency counts as failing.
    run.steps[2].summary.error_rate = 0.05;
    let g = StepGroups::for_verdicts(&run);
    assert_eq!(
        growth_per_repeat(&Lookup::new(&g), "a", "s", 1, 64),
        [30.0, 0.0, 30.0]
    );
    assert_eq!(growth_median(&[0.0, 0.0]), "—");
}

#[test]
fn rule_words_name_the_part_of_the_rule() {
    let p = NoisePolicy::default();
    let j = judge(&[190.0, 191.0, 189.0], &[100.0, 101.0, 99.0], true, p).unwrap();
    assert_eq!(rule_words(&j), "×1.90, ranges of 3 repeats apart");
    let j = judge(&[210.0], &[100.0], true, p).unwrap();
    assert_eq!(rule_words(&j), "×2.10 on one repeat, over the ×1.5 margin");
    let j = judge(&[119.0], &[100.0], true, p).unwrap();
    assert_eq!(rule_words(&j), "×1.19 on one repeat, under the ×1.5 margin");
    let j = judge(&[110.0, 111.0, 109.0], &[100.0, 101.0, 99.0], true, p).unwrap();
    assert_eq!(rule_words(&j), "×1.10, under the ×1.2 ratio");
}

#[test]
fn missing_scenarios_are_listed_once_missing_points_by_target() {
    let list = vec![
        format!("plaintext{NOT_RUN}"),
        "django-sync on io".to_string(),
        format!("cpu{NOT_RUN}"),
        format!("shop{NOT_RUN}"),
    ];
    assert_eq!(
        gone_words(&list),
        "plaintext, cpu and shop (scenarios not in this run); django-sync on io"
    );
    assert_eq!(
        gone_words(&[format!("io{NOT_RUN}")]),
        "io (scenario not in this run)"
    );
    // Both targets missing on a scenario the run has (another target ran
    // it) stay points, not a scenario left out.
    let g = groups(&[("c", 1, &[(10.0, 1_000)])]);
    let lookup = Lookup::new(&g);
    assert_eq!(
        missing(&lookup, &["s"], &["a", "b"]),
        ["a on s", "b on s"].map(String::from)
    );
    assert_eq!(
        missing(&lookup, &["t"], &["a", "b"]),
        [format!("t{NOT_RUN}")]
    );
}

/// A surge step of `target`: peak p99 `peak` µs (None: nothing succeeded
/// after the surge), recovery `recovery` s (None: did not recover), share
/// of errors from the surge on `errors`.
fn surge_step(
    target: &str,
    repeat: u32,
    peak: Option<u64>,
    recovery: Option<f64>,
    errors: f64,
) -> StepRecord {
    use crate::results::{SurgeOutcome, SurgeSummary};
    let mut s = step(target, 600, repeat, 150.0, 5_000);
    s.model = Model::Open;
    s.summary.surge = Some(SurgeSummary {
        baseline_rate: 100.0,
        peak_rate: 600.0,
        start_s: 4.0,
        end_s: 9.0,
        baseline_p99_us: Some(4_000),
        baseline_error_rate: 0.0,
        peak_p99_us: peak,
        surge_offered: 1000,
        surge_errors: (errors * 1000.0) as u64,
        surge_error_rate: errors,
        peak_backlog: 50,
        tolerance_p99_us: Some(8_000),
        hold_s: 3.0,
        recovery_s: recovery,
        outcome: match (recovery, errors > 0.0) {
            (None, _) => SurgeOutcome::NotRecovered,
            (Some(_), true) => SurgeOutcome::ErrorsRecovered,
            (Some(_), false) => SurgeOutcome::Slower,
        },
    });
    s
}

fn surge_of(steps: Vec<StepRecord>) -> Finding {
    let mut run = RunResults::new(Provenance::default());
    run.steps = steps;
    let g = StepGroups::for_verdicts(&run);
    let p = Predicate::SurgeRecovery {
        scenario: "s".into(),
        subject: "a".into(),
        versus: vec!["b".into()],
        max_error_rate: 0.001,
    };
    evaluate(&p, &Lookup::new(&g), NoisePolicy::default())
}

#[test]
fn a_quicker_surge_recovery_beyond_noise_is_supported() {
    let f = surge_of(vec![
        surge_step("a", 0, Some(20_000), Some(0.0), 0.0),
        surge_step("b", 0, Some(900_000), Some(4.0), 0.0),
    ]);
    assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
    assert!(f.evidence.contains("peak p99 20.0 ms"), "{}", f.evidence);
    assert!(
        f.evidence.contains("recovered 4 s sooner"),
        "{}",
        f.evidence
    );
    assert!(
        f.evidence.contains("over the ×1.5 margin"),
        "{}",
        f.evidence
    );
    assert!(f.evidence.contains("1 s resolution"), "{}", f.evidence);
}

#[test]
fn a_subject_that_does_not_recover_is_refuted_whatever_its_peak() {
    let f = surge_of(vec![
        surge_step("a", 0, Some(20_000), None, 0.0),
        surge_step("b", 0, Some(900_000), Some(2.0), 0.0),
    ]);
    assert_eq!(f.verdict, Verdict::Refuted, "{}", f.evidence);
    assert!(
        f.evidence
            .contains("not seamless (did not recover in 1 of 1 repeats)"),
        "{}",
        f.evidence
    );
    // Errors from the surge on count against "seamless" too.
    let f = surge_of(vec![
        surge_step("a", 0, Some(20_000), Some(0.0), 0.02),
        surge_step("b", 0, Some(900_000), Some(2.0), 0.0),
    ]);
    assert_eq!(f.verdict, Verdict::Refuted, "{}", f.evidence);
}

#[test]
fn a_peak_within_noise_and_recovery_within_a_second_decide_nothing() {
    let f = surge_of(vec![
        surge_step("a", 0, Some(20_000), Some(1.0), 0.0),
        surge_step("b", 0, Some(26_000), Some(1.5), 0.0),
    ]);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(
        f.evidence.contains("under the ×1.5 margin"),
        "{}",
        f.evidence
    );
    assert!(f.evidence.contains("within 1 s of it"), "{}", f.evidence);
}

#[test]
fn a_step_without_surge_figures_gives_no_verdict() {
    let f = surge_of(vec![
        surge_step("a", 0, Some(20_000), Some(0.0), 0.0),
        step("b", 600, 0, 150.0, 5_000),
    ]);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(
        f.evidence.contains("no surge figures for b"),
        "{}",
        f.evidence
    );
}

/// Groups of (target, scenario, level, per-repeat p99) points, p50 = p99 / 2.
fn scenario_groups(points: &[(&str, &str, u64, &[u64])]) -> StepGroups {
    let mut run = RunResults::new(Provenance::default());
    for (t, s, level, p99s) in points {
        for (i, p99) in p99s.iter().enumerate() {
            let mut st = step(t, *level, i as u32, 1000.0, *p99);
            st.scenario = s.to_string();
            run.steps.push(st);
        }
    }
    StepGroups::for_verdicts(&run)
}

fn orm_of(g: &StepGroups) -> Finding {
    let p = Predicate::OrmCost {
        scenarios: vec!["db".into()],
        raw_scenarios: vec!["db-raw".into()],
        subject: "django".into(),
        versus: "node".into(),
        ratio: 1.2,
    };
    evaluate(&p, &Lookup::new(g), NoisePolicy::default())
}

#[test]
fn orm_cost_rests_on_orm_against_raw_and_states_the_gap_to_node() {
    // The ORM 5% over raw SQL; raw SQL still twice node's latency.
    let node: &[u64] = &[10_000, 10_200, 9_800];
    let raw: &[u64] = &[20_000, 20_400, 19_600];
    let orm: &[u64] = &[21_000, 21_200, 20_800];
    let mut points = Vec::new();
    for level in [8, 128] {
        points.extend([
            ("node", "db", level, node),
            ("django", "db", level, orm),
            ("django", "db-raw", level, raw),
        ]);
    }
    let f = orm_of(&scenario_groups(&points));
    assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
    let e = &f.evidence;
    assert!(e.starts_with("ORM against raw SQL inside django"), "{e}");
    assert!(e.contains("db p50 ×1.05 at 8"), "{e}");
    assert!(e.contains("p99 ×1.05 at 128"), "{e}");
    assert!(e.contains("within ×1.2 beyond noise in 2"), "{e}");
    assert!(e.contains("gap to node that remains with raw SQL"), "{e}");
    assert!(e.contains("db p50 ×2.00 at 8 (slower beyond noise"), "{e}");

    // The ORM twice raw SQL's latency: refuted, whatever node does.
    let slow: &[u64] = &[40_000, 40_800, 39_200];
    let points: Vec<_> = [8, 128]
        .into_iter()
        .flat_map(|level| {
            [
                ("node", "db", level, raw),
                ("django", "db", level, slow),
                ("django", "db-raw", level, raw),
            ]
        })
        .collect();
    let f = orm_of(&scenario_groups(&points));
    assert_eq!(f.verdict, Verdict::Refuted, "{}", f.evidence);
    assert!(
        f.evidence.contains("slower beyond noise in 2 of 2"),
        "{}",
        f.evidence
    );
    assert!(
        f.evidence.contains("db p50 ×1.00 at 8 (not beyond noise"),
        "{}",
        f.evidence
    );

    // Without the raw twin nothing is decided.
    let points = [("node", "db", 8, raw), ("django", "db", 8, slow)];
    let f = orm_of(&scenario_groups(&points));
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.evidence);
    assert!(f.evidence.contains("not measured"), "{}", f.evidence);
}

fn fanout_of(g: &StepGroups) -> Finding {
    let p = Predicate::RealtimeFanout {
        scenario: "s".into(),
        subject: "a".into(),
        versus: vec!["b".into()],
        slo_p99: std::time::Duration::from_millis(50),
        max_error_rate: 0.001,
    };
    evaluate(&p, &Lookup::new(g), NoisePolicy::default())
}

/// Fan-out groups: per target, (subscribers, delivery p99 µs), 3 repeats
/// each (a 1 % jitter on the p99).
fn fanout_groups(points: &[(&str, &[(u64, u64)])]) -> StepGroups {
    let mut run = RunResults::new(Provenance::default());
    for (t, levels) in points {
        for (level, p99) in levels.iter() {
            for r in 0..3u32 {
                let mut s = step(
                    t,
                    *level,
                    r,
                    *level as f64 * 20.0,
                    p99 + u64::from(r) * p99 / 100,
                );
                s.model = Model::Fanout;
                run.steps.push(s);
            }
        }
    }
    StepGroups::for_verdicts(&run)
}

#[test]
fn realtime_fanout_needs_the_lower_delivery_p99_and_no_fewer_subscribers() {
    // a: 5 ms at 1000 subscribers and within 50 ms up to 2500; b: 40 ms at
    // 1000 and past the objective at 2500.
    let g = fanout_groups(&[
        ("a", &[(500, 2_000), (1000, 5_000), (2500, 20_000)]),
        ("b", &[(500, 10_000), (1000, 40_000), (2500, 200_000)]),
    ]);
    let f = fanout_of(&g);
    assert_eq!(f.verdict, Verdict::Supported, "{}", f.evidence);
    assert!(
        f.evidence
            .contains("a held 2500 subscribers vs b 1000 subscribers"),
        "{}",
        f.evidence
    );

    // a is faster at the highest level but holds fewer subscribers within
    // the objective: refuted on capacity.
    let g = fanout_groups(&[
        ("a", &[(500, 60_000), (1000, 70_000), (2500, 80_000)]),
        ("b", &[(500, 10_000), (1000, 40_000), (2500, 200_000)]),
    ]);
    let f = fanout_of(&g);
    assert_eq!(f.verdict, Verdict::Refuted, "{}", f.evidence);
    assert!(
        f.evidence.contains("a held none of the levels measured"),
        "{}",
        f.evidence
    );

    // Slower deliveries at the highest level: refuted on the p99.
    let g = fanout_groups(&[
        ("a", &[(500, 2_000), (1000, 5_000), (2500, 300_000)]),
        ("b", &[(500, 2_000), (1000, 5_000), (2500, 100_000)]),
    ]);
    assert_eq!(fanout_of(&g).verdict, Verdict::Refuted);
}
