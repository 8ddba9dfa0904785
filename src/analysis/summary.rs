//! The figures the reports and charts share, computed once from
//! [`RunResults`]: per scenario × target × level, the level's figures as
//! `results/README.md` defines them ("A level's figures over repeats"),
//! computed by [`crate::stats`] and nowhere else: the median throughput
//! across repeats and its spread, the median of the repeats' latency
//! percentiles (a failing repeat counts as +infinity, see
//! [`crate::analysis::Repeats`]), the same numbers claims, gates and
//! `compare` print; the repeats' pooled histogram, for the percentile
//! spectrum only; errors (unsent requests included, and counted
//! apart), server and PostgreSQL usage, a timeline and the flags of the
//! repeats; per variant, its server processes and CPU; and the run's
//! caveats (every flagged step, with why). Also the flag marks (†‡§¶) used
//! in tables, so Markdown, HTML and charts agree; the number formats are
//! [`crate::units`]' (re-exported here under their old names). Targets
//! appear in the one order of [`StepGroups::targets_in_order`].
//! Flagged steps stay in the figures: reports mark them, `claims` and
//! `gates` leave them out.
//!
//! A level without a successful request has no percentiles (`latency_us`
//! is None: "n/a" in tables, no point on charts, never 0), is never a
//! target's "best" level ([`crate::analysis::best_level`]), and is listed in
//! [`RunSummary::no_success`]. A level whose median latency counts as
//! failing (too many failing repeats) has no percentiles either, and its
//! table cells say "failing".
//!
//! This module only reads results; it does not write files or draw.

use std::collections::{BTreeMap, BTreeSet};

use hdrhistogram::Histogram;

use crate::analysis::{Repeats, StepGroups};
use crate::results::{LatencySummary, Model, RunResults, StepFlag, StepRecord, TimelinePoint};
use crate::stats::median;
use crate::units::group_thousands;

/// Everything a report shows, grouped by scenario.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Every target of the run, in order of first appearance
    /// ([`StepGroups::targets_in_order`]).
    pub targets: Vec<String>,
    /// In order of first appearance in the results.
    pub scenarios: Vec<ScenarioSummary>,
    /// Problems met while summarizing (e.g. a corrupt histogram), for the report.
    pub warnings: Vec<String>,
    /// Every flag of every step, in report order (scenario, target, level,
    /// repeat, flag).
    pub caveats: Vec<Caveat>,
    /// Per variant (in `targets` order), its server processes and CPU.
    pub variants: Vec<VariantUsage>,
    /// Every (scenario, target, level) whose repeats had no successful
    /// request at all, in report order.
    pub no_success: Vec<NoSuccess>,
}

/// What one variant ran and used, over the steps whose server was sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantUsage {
    pub target: String,
    /// Most server processes seen in a step (primary + workers), None when
    /// no step recorded a count.
    pub processes: Option<u32>,
    /// Steps whose server processes were sampled.
    pub sampled_steps: usize,
    /// Server CPU seconds summed over the sampled steps' windows.
    pub server_cpu_s: f64,
    /// PostgreSQL CPU seconds summed over the sampled steps that recorded
    /// it; None when bakeoff ran no database for them.
    pub db_cpu_s: Option<f64>,
}

/// A level at which no request of a target succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct NoSuccess {
    pub scenario: String,
    pub model: Model,
    pub target: String,
    pub level: u64,
}

/// One scenario (and model) across all targets.
#[derive(Debug, Clone)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub model: Model,
    /// File-name-safe stem for charts, unique within the run.
    pub slug: String,
    /// Union of the levels measured by any target, ascending.
    pub levels: Vec<u64>,
    /// In the run's target order; only targets with steps in this scenario.
    pub targets: Vec<TargetSummary>,
}

/// One target within a scenario.
#[derive(Debug, Clone)]
pub struct TargetSummary {
    pub target: String,
    /// Ascending by level.
    pub levels: Vec<LevelFigures>,
    /// Fan-out: the broadcast bus its steps recorded (`summary.fanout.bus`).
    pub bus: Option<String>,
}

/// The repeats of one (scenario, target, level), combined.
#[derive(Debug, Clone)]
pub struct LevelFigures {
    pub level: u64,
    pub repeats: usize,
    /// Successful requests/s: median, minimum and maximum across repeats.
    pub rps_median: f64,
    pub rps_min: f64,
    pub rps_max: f64,
    /// Summed over repeats; `errors` includes `unsent`.
    pub requests: u64,
    pub errors: u64,
    /// Open model: scheduled requests never sent, summed over repeats.
    pub unsent: u64,
    /// Repeats without a single successful request.
    pub without_success: usize,
    /// The per-repeat samples every figure of the level is the median of
    /// ([`crate::analysis::Repeats`], the same code claims, gates and
    /// `compare` read).
    pub per_repeat: Repeats,
    /// The level's latency figures: per percentile, the median of the
    /// repeats' figures ([`Repeats::median_latency`]). None when no request
    /// succeeded or when that median counts as failing (see
    /// [`Self::latency_failing`]).
    pub latency_us: Option<LatencySummary>,
    /// Why some repeats' latency counts as failing
    /// ([`Repeats::failure_summary`]), None when every repeat's counts.
    pub latency_failing: Option<String>,
    /// The repeats' histograms merged ("all repeats pooled"), when every
    /// one decoded: for the percentile-spectrum chart only. Its percentiles
    /// are not the level's figures and are never printed as such.
    pub histogram: Option<Histogram<u64>>,
    /// Median across the repeats that sampled the server (successful
    /// requests per CPU-second of the server and its PostgreSQL).
    pub rps_per_core: Option<f64>,
    pub server_cpu_s: Option<f64>,
    /// Median PostgreSQL CPU seconds across the repeats that recorded it.
    pub db_cpu_s: Option<f64>,
    /// Most server processes seen in a repeat (None: not recorded).
    pub processes: Option<u32>,
    /// Timeline of the lowest repeat present.
    pub timeline: Vec<TimelinePoint>,
    /// Which repeat `timeline` comes from.
    pub timeline_repeat: u32,
    /// The surge figures of the repeat `timeline` shows (a surge profile).
    pub timeline_surge: Option<crate::results::SurgeSummary>,
    /// A surge profile's figures over the level's repeats.
    pub surge: Option<super::surge::SurgeLevel>,
    /// The flags of the repeats, as (repeat, flag), by repeat then flag.
    pub flags: Vec<(u32, StepFlag)>,
}

impl LevelFigures {
    /// Whether a repeat of this level carries `flag`.
    pub fn has(&self, flag: StepFlag) -> bool {
        self.flags.iter().any(|(_, f)| *f == flag)
    }

    /// Whether a verdict could not rest on some repeat of this level.
    pub fn disqualified(&self) -> bool {
        self.flags.iter().any(|(_, f)| f.disqualifies())
    }

    /// Whether no request of any repeat succeeded (no percentiles).
    pub fn none_succeeded(&self) -> bool {
        self.repeats > 0 && self.without_success == self.repeats
    }

    /// The level's p50 in µs: the median of the repeats' p50, +infinity
    /// when it counts as failing.
    pub fn p50_us(&self) -> f64 {
        median(&self.per_repeat.p50_us).unwrap_or(f64::NAN)
    }

    /// The level's p99 in µs: the median of the repeats' p99, +infinity
    /// when it counts as failing. The figure the verdicts, gates and
    /// `compare` print for this level.
    pub fn p99_us(&self) -> f64 {
        median(&self.per_repeat.p99_us).unwrap_or(f64::NAN)
    }

    /// A latency figure for a table cell, in ms without the unit: "n/a"
    /// when no request succeeded, "failing" when the median counts as
    /// failing, else [`crate::units::latency_ms`].
    pub fn latency_cell(&self, us: f64) -> String {
        if self.none_succeeded() {
            "n/a".to_string()
        } else {
            crate::units::latency_ms(us)
        }
    }

    /// The marks of the flags present, in [`FLAGS`] order ("‡§").
    pub fn marks(&self) -> String {
        FLAGS
            .iter()
            .filter(|f| self.has(**f))
            .map(|f| flag_mark(*f))
            .collect()
    }
}

/// Every step flag, in the order marks and legends list them.
pub const FLAGS: [StepFlag; 4] = [
    StepFlag::Interrupted,
    StepFlag::GeneratorSaturated,
    StepFlag::Errors,
    StepFlag::Unsent,
];

/// The footnote mark of a flag in tables.
pub fn flag_mark(flag: StepFlag) -> &'static str {
    match flag {
        StepFlag::Interrupted => "†",
        StepFlag::GeneratorSaturated => "‡",
        StepFlag::Errors => "§",
        StepFlag::Unsent => "¶",
    }
}

/// A flag in words: "generator saturated".
pub fn flag_name(flag: StepFlag) -> &'static str {
    match flag {
        StepFlag::Interrupted => "interrupted",
        StepFlag::GeneratorSaturated => "generator saturated",
        StepFlag::Errors => "errors",
        StepFlag::Unsent => "unsent",
    }
}

/// What a flag means for the figures, for legends.
pub fn flag_meaning(flag: StepFlag) -> &'static str {
    match flag {
        StepFlag::Interrupted => {
            "stopped (Ctrl-C or SIGTERM) before its window ended; its figures cover only the part that ran, and no verdict rests on it"
        }
        StepFlag::GeneratorSaturated => {
            "the load generator, not the target, set the pace; req/s understates the target and latency includes the generator's own delay, and no verdict rests on it"
        }
        StepFlag::Errors => {
            "some requests failed; latency percentiles and req/s count successful requests only, the failures are in the error counts"
        }
        StepFlag::Unsent => {
            "the open model's schedule could not be kept: more than 0.1% of the scheduled requests were never sent (no connection was free in time); they count as errors"
        }
    }
}

/// One flag on one step, for the Caveats section.
#[derive(Debug, Clone, PartialEq)]
pub struct Caveat {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub level: u64,
    pub repeat: u32,
    pub flag: StepFlag,
    /// Why: the generator's reason, the errors by kind, the time measured.
    pub detail: String,
}

/// The detail of a flag on a step, in words.
pub fn flag_detail(step: &StepRecord, flag: StepFlag) -> String {
    let s = &step.summary;
    match flag {
        StepFlag::Interrupted => format!("stopped after {:.1} s of measurement", s.duration_s),
        StepFlag::GeneratorSaturated => s
            .generator
            .saturated
            .clone()
            .unwrap_or_else(|| "no reason recorded".into()),
        StepFlag::Unsent => format!(
            "{} of {} scheduled requests never sent",
            group_thousands(s.generator.unsent),
            group_thousands(s.requests)
        ),
        StepFlag::Errors => {
            let kinds: Vec<String> = s
                .errors_by_kind
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {}", group_thousands(*n)))
                .collect();
            let mut text = if s.latency_us.is_none() {
                format!("all {} requests failed", group_thousands(s.requests))
            } else {
                format!(
                    "{} of {} requests failed",
                    group_thousands(s.errors),
                    group_thousands(s.requests)
                )
            };
            if !kinds.is_empty() {
                text.push_str(&format!(" ({})", kinds.join(", ")));
            }
            if s.latency_us.is_none() {
                text.push_str(": no request succeeded, so the step has no percentiles");
            }
            text
        }
    }
}

impl TargetSummary {
    /// The level with the highest median throughput, among the levels with
    /// a successful request (None when no request ever succeeded):
    /// [`crate::analysis::best_level`], as the terminal table at the end of
    /// `run` prints it.
    pub fn best(&self) -> Option<&LevelFigures> {
        let (level, _) =
            crate::analysis::best_level(self.levels.iter().map(|l| (l.level, &l.per_repeat)))?;
        self.at(level)
    }

    /// Highest level measured.
    pub fn max_level(&self) -> Option<u64> {
        self.levels.last().map(|l| l.level)
    }

    pub fn at(&self, level: u64) -> Option<&LevelFigures> {
        self.levels.iter().find(|l| l.level == level)
    }

    pub fn requests(&self) -> u64 {
        self.levels.iter().map(|l| l.requests).sum()
    }

    pub fn errors(&self) -> u64 {
        self.levels.iter().map(|l| l.errors).sum()
    }

    pub fn unsent(&self) -> u64 {
        self.levels.iter().map(|l| l.unsent).sum()
    }
}

impl ScenarioSummary {
    /// The highest level that every target of the scenario measured.
    pub fn common_level(&self) -> Option<u64> {
        self.levels
            .iter()
            .rev()
            .copied()
            .find(|&level| self.targets.iter().all(|t| t.at(level).is_some()))
    }

    /// "json — closed model"
    pub fn heading(&self) -> String {
        format!("{} — {} model", self.scenario, self.model.as_str())
    }
}

/// Groups the steps of a run ([`crate::analysis::group_steps`]) and computes
/// the shared figures.
pub fn summarize(results: &RunResults) -> RunSummary {
    let targets = StepGroups::targets_in_order(results);
    let rank = |t: &str| targets.iter().position(|x| x == t).unwrap_or(usize::MAX);

    // (scenario, model) in order of first appearance.
    let mut keys: Vec<(String, Model)> = Vec::new();
    for s in &results.steps {
        if !keys
            .iter()
            .any(|(sc, m)| *sc == s.scenario && *m == s.model)
        {
            keys.push((s.scenario.clone(), s.model));
        }
    }

    let grouped = crate::analysis::group_steps(results);
    let mut warnings = Vec::new();
    let mut scenarios = Vec::new();
    let mut used_slugs = BTreeSet::new();
    for (scenario, model) in &keys {
        let two_models = keys.iter().filter(|(sc, _)| sc == scenario).count() > 1;
        let mut slug = slugify(scenario);
        if two_models {
            slug = format!("{slug}-{}", model.as_str());
        }
        while !used_slugs.insert(slug.clone()) {
            slug.push('_');
        }

        // Per target (in the one order), its levels ascending.
        let mut by_target: BTreeMap<usize, (String, Vec<LevelFigures>, Option<String>)> =
            BTreeMap::new();
        let mut levels: BTreeSet<u64> = BTreeSet::new();
        for (key, steps) in grouped
            .iter()
            .filter(|(k, _)| k.scenario == *scenario && k.model == *model)
        {
            levels.insert(key.level);
            let entry = by_target
                .entry(rank(&key.target))
                .or_insert_with(|| (key.target.clone(), Vec::new(), None));
            entry.1.push(combine(key.level, steps, &mut warnings));
            if entry.2.is_none() {
                entry.2 = steps
                    .iter()
                    .find_map(|s| s.summary.fanout.as_ref().and_then(|f| f.bus.clone()));
            }
        }
        let targets = by_target
            .into_values()
            .map(|(target, mut levels, bus)| {
                levels.sort_by_key(|l| l.level);
                TargetSummary {
                    levels,
                    target,
                    bus,
                }
            })
            .collect();
        scenarios.push(ScenarioSummary {
            scenario: scenario.clone(),
            model: *model,
            slug,
            levels: levels.into_iter().collect(),
            targets,
        });
    }
    let mut caveats: Vec<(usize, usize, Caveat)> = Vec::new();
    for step in &results.steps {
        let sc_rank = keys
            .iter()
            .position(|(sc, m)| *sc == step.scenario && *m == step.model)
            .unwrap_or(usize::MAX);
        for &flag in &step.flags {
            caveats.push((
                sc_rank,
                rank(&step.target),
                Caveat {
                    target: step.target.clone(),
                    scenario: step.scenario.clone(),
                    model: step.model,
                    level: step.level,
                    repeat: step.repeat,
                    flag,
                    detail: flag_detail(step, flag),
                },
            ));
        }
    }
    caveats.sort_by_key(|(sc, t, c)| (*sc, *t, c.level, c.repeat, c.flag));
    let no_success = scenarios
        .iter()
        .flat_map(|sc| {
            sc.targets.iter().flat_map(move |t| {
                t.levels
                    .iter()
                    .filter(|l| l.none_succeeded())
                    .map(move |l| NoSuccess {
                        scenario: sc.scenario.clone(),
                        model: sc.model,
                        target: t.target.clone(),
                        level: l.level,
                    })
            })
        })
        .collect();
    let variants = targets.iter().map(|t| variant_usage(t, results)).collect();
    RunSummary {
        targets,
        scenarios,
        warnings,
        caveats: caveats.into_iter().map(|(_, _, c)| c).collect(),
        variants,
        no_success,
    }
}

fn variant_usage(target: &str, results: &RunResults) -> VariantUsage {
    let sampled: Vec<&crate::results::ServerUsage> = results
        .steps
        .iter()
        .filter(|s| s.target == target)
        .filter_map(|s| s.server.as_ref())
        .collect();
    let db: Vec<f64> = sampled.iter().filter_map(|u| u.db_cpu_s).collect();
    VariantUsage {
        target: target.to_string(),
        processes: sampled.iter().map(|u| u.processes).filter(|&p| p > 0).max(),
        sampled_steps: sampled.len(),
        server_cpu_s: sampled.iter().map(|u| u.cpu_s).sum(),
        db_cpu_s: (!db.is_empty()).then(|| db.iter().sum()),
    }
}

/// The figures of one level from its steps (repeats): every median via
/// [`Repeats`], the pooled histogram for the spectrum chart.
fn combine(level: u64, steps: &[&StepRecord], warnings: &mut Vec<String>) -> LevelFigures {
    let per_repeat = Repeats::of(steps.iter().copied());
    let mut rps = per_repeat.rps.clone();
    rps.sort_by(f64::total_cmp);

    let mut merged: Option<Histogram<u64>> = Some(crate::results::new_histogram());
    // A step without a successful request has nothing to add (its
    // histogram is empty by definition; a stray one must not lend it
    // percentiles).
    for s in steps.iter().filter(|s| s.summary.latency_us.is_some()) {
        let decoded = crate::results::decode_histogram(&s.histograms.total);
        match (decoded, merged.as_mut()) {
            (Ok(h), Some(m)) => {
                if let Err(e) = m.add(&h) {
                    warnings.push(format!(
                        "{} / {} / level {} repeat {}: histogram out of range ({e:?}); the percentile spectrum uses the level's figures",
                        s.scenario, s.target, s.level, s.repeat
                    ));
                    merged = None;
                }
            }
            (Err(e), _) => {
                warnings.push(format!(
                    "{} / {} / level {} repeat {}: {e}; the percentile spectrum uses the level's figures",
                    s.scenario, s.target, s.level, s.repeat
                ));
                merged = None;
            }
            (Ok(_), None) => {}
        }
    }
    let per_core: Vec<f64> = steps
        .iter()
        .filter_map(|s| s.server.as_ref().map(|u| u.rps_per_core))
        .filter(|v| v.is_finite())
        .collect();
    let cpu: Vec<f64> = steps
        .iter()
        .filter_map(|s| s.server.as_ref().map(|u| u.cpu_s))
        .collect();
    let db_cpu: Vec<f64> = steps
        .iter()
        .filter_map(|s| s.server.as_ref().and_then(|u| u.db_cpu_s))
        .collect();
    let first = steps.iter().min_by_key(|s| s.repeat);
    let surge = super::surge::SurgeLevel::of(&per_repeat.surge);

    LevelFigures {
        level,
        repeats: steps.len(),
        rps_median: per_repeat.median_rps(),
        rps_min: rps.first().copied().unwrap_or(0.0),
        rps_max: rps.last().copied().unwrap_or(0.0),
        requests: steps.iter().map(|s| s.summary.requests).sum(),
        errors: steps.iter().map(|s| s.summary.errors).sum(),
        unsent: steps.iter().map(|s| s.summary.generator.unsent).sum(),
        without_success: per_repeat.without_success(),
        latency_us: per_repeat.median_latency(),
        latency_failing: per_repeat.failure_summary(),
        per_repeat,
        histogram: merged,
        rps_per_core: median(&per_core),
        server_cpu_s: median(&cpu),
        db_cpu_s: median(&db_cpu),
        processes: steps
            .iter()
            .filter_map(|s| s.server.as_ref().map(|u| u.processes))
            .filter(|&p| p > 0)
            .max(),
        timeline: first.map(|s| s.timeline.clone()).unwrap_or_default(),
        timeline_repeat: first.map(|s| s.repeat).unwrap_or(0),
        timeline_surge: first.and_then(|s| s.summary.surge),
        surge,
        flags: {
            let mut f: Vec<(u32, StepFlag)> = steps
                .iter()
                .flat_map(|s| s.flags.iter().map(|f| (s.repeat, *f)))
                .collect();
            f.sort();
            f.dedup();
            f
        },
    }
}

/// Lower-case ASCII letters, digits, '-' and '_'; anything else becomes '-'.
pub fn slugify(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "scenario".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{HistogramSet, Provenance, StepRecord, Summary, encode_histogram};

    fn step(target: &str, level: u64, repeat: u32, rps: f64, latencies: &[u64]) -> StepRecord {
        let mut h = crate::results::new_histogram();
        for &v in latencies {
            h.record(v).unwrap();
        }
        StepRecord {
            target: target.into(),
            scenario: "json".into(),
            model: Model::Closed,
            level,
            repeat,
            started_at: String::new(),
            summary: Summary {
                requests: latencies.len() as u64 + 1,
                errors: 1,
                rps,
                latency_us: LatencySummary::from_histogram(&h),
                ..Summary::default()
            },
            endpoints: BTreeMap::new(),
            histograms: HistogramSet {
                total: encode_histogram(&h),
                ..HistogramSet::default()
            },
            timeline: Vec::new(),
            server: None,
            database: None,
            flags: Vec::new(),
        }
    }

    #[test]
    fn medians_of_the_repeats_not_the_pooled_histogram() {
        let mut run = RunResults::new(Provenance::default());
        run.steps = vec![
            step("django-sync", 8, 0, 100.0, &[1000; 10]),
            step("node", 8, 0, 300.0, &[100; 10]),
            step("node", 8, 1, 100.0, &[100; 10]),
            step("node", 8, 2, 200.0, &[5000; 5]),
            step("node", 1, 0, 50.0, &[10; 3]),
        ];
        let s = summarize(&run);
        // The one target order: first appearance in the results.
        assert_eq!(s.targets, ["django-sync", "node"]);
        let sc = &s.scenarios[0];
        assert_eq!(sc.levels, [1, 8]);
        assert_eq!(sc.common_level(), Some(8));
        let node = &sc.targets[1];
        assert_eq!(node.target, "node");
        let l8 = node.at(8).unwrap();
        assert_eq!(
            (l8.rps_median, l8.rps_min, l8.rps_max),
            (200.0, 100.0, 300.0)
        );
        assert_eq!(l8.repeats, 3);
        assert_eq!(l8.errors, 3);
        // Repeat p99s of 100, 100 and ~5000 µs: the level's p99 is their
        // median, 100 µs, although the pooled histogram's p99 is ~5000.
        let lat = l8.latency_us.unwrap();
        assert_eq!((lat.p50, lat.p99), (100, 100));
        assert_eq!(l8.p99_us(), 100.0);
        let pooled = l8.histogram.as_ref().unwrap().value_at_quantile(0.99);
        assert!(pooled >= 4995, "{pooled}");
        assert_eq!(node.best().unwrap().level, 8);
        assert_eq!(node.max_level(), Some(8));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn a_level_without_successes_has_no_percentiles_and_is_never_best() {
        let mut run = RunResults::new(Provenance::default());
        // One request, and it failed: an empty histogram, no latency.
        let failed = step("node", 64, 0, 0.0, &[]);
        assert!(failed.summary.latency_us.is_none());
        let half = step("node", 8, 1, 0.0, &[]);
        run.steps = vec![step("node", 8, 0, 300.0, &[100; 10]), half, failed];
        let s = summarize(&run);
        let node = &s.scenarios[0].targets[0];
        let l64 = node.at(64).unwrap();
        assert!(l64.latency_us.is_none() && l64.none_succeeded());
        assert_eq!(l64.without_success, 1);
        // Level 8: one repeat of two failed; the median of (100 µs, +∞)
        // is failing, as in verdicts and gates.
        let l8 = node.at(8).unwrap();
        assert!(!l8.none_succeeded());
        assert_eq!(l8.without_success, 1);
        assert_eq!(l8.latency_us, None);
        assert_eq!(l8.p99_us(), f64::INFINITY);
        assert_eq!(l8.latency_cell(l8.p99_us()), "failing");
        assert_eq!(l64.latency_cell(l64.p99_us()), "n/a");
        assert_eq!(
            l8.latency_failing.as_deref(),
            Some("no request succeeded in 1 of 2 repeats")
        );
        assert_eq!(node.best().map(|b| b.level), Some(8));
        assert_eq!(
            s.no_success,
            [NoSuccess {
                scenario: "json".into(),
                model: Model::Closed,
                target: "node".into(),
                level: 64,
            }]
        );
        // A target that never succeeded has no best level.
        let mut run = RunResults::new(Provenance::default());
        run.steps = vec![step("node", 64, 0, 0.0, &[])];
        assert!(summarize(&run).scenarios[0].targets[0].best().is_none());
    }

    #[test]
    fn corrupt_histogram_falls_back_to_stored_summary() {
        let mut run = RunResults::new(Provenance::default());
        let mut bad = step("node", 4, 0, 10.0, &[700; 4]);
        bad.histograms.total = "not base64!".into();
        run.steps = vec![bad];
        let s = summarize(&run);
        assert_eq!(s.warnings.len(), 1);
        let l = &s.scenarios[0].targets[0].levels[0];
        assert!(l.histogram.is_none());
        assert_eq!(l.latency_us.unwrap().p50, 700);
    }

    #[test]
    fn no_common_level_when_targets_disjoint() {
        let mut run = RunResults::new(Provenance::default());
        run.steps = vec![step("a", 1, 0, 1.0, &[1]), step("b", 2, 0, 1.0, &[1])];
        assert_eq!(summarize(&run).scenarios[0].common_level(), None);
    }

    #[test]
    fn formats() {
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(crate::units::rps(12_345.4), "12 345");
        assert_eq!(crate::units::rps(42.25), "42.2");
        assert_eq!(crate::units::errors(0, 10, 0), "0");
        assert_eq!(crate::units::errors(1, 200, 0), "1 (0.50%)");
        assert_eq!(crate::units::errors(3, 200, 2), "3 (1.50%; 2 unsent)");
        assert_eq!(crate::units::errors(0, 0, 0), "0");
        assert_eq!(slugify("GET /db?x=1"), "get--db-x-1");
        assert_eq!(median(&[3.0, 1.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }
}
