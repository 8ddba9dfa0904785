//! The one grouping of a run's steps: by [`StepId`] (target, scenario,
//! model, level), repeats together, as per-repeat samples ([`Repeats`])
//! under the rule "a failure never looks like speed" (see [`crate::stats`]),
//! with the steps a verdict may not rest on kept aside ([`ExcludedStep`]).
//! Pure: building and reading the groups changes nothing; what a claim
//! asked for is tracked by the claim's own lookup (`claims`), not here.

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{LatencySummary, Model, RunResults, StepFlag, StepRecord};
use crate::stats::{SLO_MAX_ERROR_RATE, latency_counts, median};

/// Identifies one measured point across its repeats.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub level: u64,
}

impl StepId {
    /// Whether this is `target` × `scenario` at `level` (of any model).
    pub fn is_at(&self, target: &str, scenario: &str, level: u64) -> bool {
        self.target == target && self.scenario == scenario && self.level == level
    }

    pub fn of(step: &StepRecord) -> Self {
        StepId {
            target: step.target.clone(),
            scenario: step.scenario.clone(),
            model: step.model,
            level: step.level,
        }
    }
}

/// The repeats of one step, as per-repeat samples of the figures verdicts,
/// gates and comparisons look at. Latency samples follow the rule of the
/// module documentation: +infinity for a repeat without a successful
/// request or with more than [`SLO_MAX_ERROR_RATE`] of its requests failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repeats {
    pub rps: Vec<f64>,
    pub p50_us: Vec<f64>,
    pub p90_us: Vec<f64>,
    pub p99_us: Vec<f64>,
    pub p999_us: Vec<f64>,
    pub max_us: Vec<f64>,
    /// `summary.error_rate` per repeat (unsent requests included; 1.0 when
    /// a repeat had no successful request).
    pub error_rate: Vec<f64>,
    /// The stored latency summary per repeat, as measured (None: no
    /// request succeeded), for evidence that quotes what was measured.
    pub measured: Vec<Option<LatencySummary>>,
    /// The repeat number of each sample, so figures of the same repeat at
    /// two levels can be paired (a growth factor per repeat).
    pub repeat: Vec<u32>,
    pub requests: u64,
    pub errors: u64,
    /// Every flag of the repeats held here (sorted, no duplicates).
    pub flags: BTreeSet<StepFlag>,
    /// The surge figures of the repeats that have them (a surge profile's
    /// steps), in the order of the other samples.
    pub surge: Vec<crate::results::SurgeSummary>,
    /// `database.queries_per_request` of the repeats that counted their
    /// queries (results/README.md), in the order of the other samples.
    pub queries_per_request: Vec<f64>,
}

impl Repeats {
    /// Number of repeats.
    pub fn n(&self) -> usize {
        self.rps.len()
    }

    /// The repeats of one level, from its steps (see [`group_steps`]).
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a StepRecord>) -> Self {
        let mut r = Repeats::default();
        for step in steps {
            r.push(step);
        }
        r
    }

    /// The level's latency figures: per percentile, the [`median`] of the
    /// repeats' figures, where a failing repeat counts as +infinity (module
    /// documentation). None when that median is +infinity, i.e. when the
    /// level's latency counts as failing ([`Self::failure_summary`] says
    /// why); a repeat's figures are all finite or all infinite, so the
    /// percentiles are failing together. `min` and `mean` follow the same
    /// rule. This is the figure every table, verdict, gate and comparison
    /// prints as "p99 at level X".
    pub fn median_latency(&self) -> Option<LatencySummary> {
        let counted = |f: fn(&LatencySummary) -> f64| -> Vec<f64> {
            self.measured
                .iter()
                .zip(&self.p99_us)
                .map(|(m, p99)| match m {
                    Some(l) if p99.is_finite() => f(l),
                    _ => f64::INFINITY,
                })
                .collect()
        };
        let pick = |xs: &[f64]| median(xs).filter(|m| m.is_finite());
        let whole = |xs: &[f64]| pick(xs).map(|m| m.round() as u64);
        Some(LatencySummary {
            p99: whole(&self.p99_us)?,
            min: whole(&counted(|l| l.min as f64))?,
            mean: pick(&counted(|l| l.mean))?,
            p50: whole(&self.p50_us)?,
            p90: whole(&self.p90_us)?,
            p999: whole(&self.p999_us)?,
            max: whole(&self.max_us)?,
        })
    }

    /// The median of the repeats' `rps`: the level's throughput.
    pub fn median_rps(&self) -> f64 {
        median(&self.rps).unwrap_or(0.0)
    }

    fn push(&mut self, step: &StepRecord) {
        let s = &step.summary;
        let counts = latency_counts(s.latency_us.is_some(), s.error_rate);
        let pct = |f: fn(&LatencySummary) -> u64| match &s.latency_us {
            Some(l) if counts => f(l) as f64,
            _ => f64::INFINITY,
        };
        self.rps.push(s.rps);
        self.p50_us.push(pct(|l| l.p50));
        self.p90_us.push(pct(|l| l.p90));
        self.p99_us.push(pct(|l| l.p99));
        self.p999_us.push(pct(|l| l.p999));
        self.max_us.push(pct(|l| l.max));
        self.error_rate.push(s.error_rate);
        self.measured.push(s.latency_us);
        self.repeat.push(step.repeat);
        self.requests += s.requests;
        self.errors += s.errors;
        self.flags.extend(step.flags.iter().copied());
        self.surge.extend(s.surge);
        self.queries_per_request
            .extend(step.database.map(|d| d.queries_per_request));
    }

    /// The level's queries per request: the median over the repeats that
    /// counted them; None when none did.
    pub fn median_queries_per_request(&self) -> Option<f64> {
        median(&self.queries_per_request)
    }

    /// Repeats without a successful request.
    pub fn without_success(&self) -> usize {
        self.measured.iter().filter(|m| m.is_none()).count()
    }

    /// Repeats whose latency figures count as +infinity (no success, or
    /// more than [`SLO_MAX_ERROR_RATE`] errors).
    pub fn failing(&self) -> usize {
        self.p99_us.iter().filter(|v| v.is_infinite()).count()
    }

    /// Why some repeats' latency figures count as failing, in words, or
    /// None when every repeat's figures count: "no request succeeded",
    /// "no request succeeded in 1 of 3 repeats", "4.00% of requests failed
    /// (more than 1%)", "2 of 3 repeats failed more than 1% of requests".
    pub fn failure_summary(&self) -> Option<String> {
        let n = self.n();
        let none = self.without_success();
        let erring: Vec<f64> = self
            .measured
            .iter()
            .zip(&self.error_rate)
            .filter(|(m, e)| m.is_some() && !latency_counts(true, **e))
            .map(|(_, e)| *e)
            .collect();
        if none == 0 && erring.is_empty() {
            return None;
        }
        let limit = SLO_MAX_ERROR_RATE * 100.0;
        let mut parts = Vec::new();
        if none == n {
            parts.push(if n > 1 {
                format!("no request succeeded in any of {n} repeats")
            } else {
                "no request succeeded".to_string()
            });
        } else if none > 0 {
            parts.push(format!("no request succeeded in {none} of {n} repeats"));
        }
        match erring.as_slice() {
            [] => {}
            [e] if n == 1 => parts.push(format!(
                "{:.2}% of requests failed (more than {limit}%)",
                e * 100.0
            )),
            e => parts.push(format!(
                "{} of {n} repeats failed more than {limit}% of requests",
                e.len()
            )),
        }
        Some(parts.join("; "))
    }
}

/// The "best" of a target's levels: the level whose median `rps`
/// ([`Repeats::median_rps`]) is highest, among the levels where some
/// request succeeded (median above 0); None when none did. Ties go to the
/// higher level. What the report's summary table and the terminal table
/// at the end of `run` both print.
pub fn best_level<'a>(levels: impl IntoIterator<Item = (u64, &'a Repeats)>) -> Option<(u64, f64)> {
    levels
        .into_iter()
        .map(|(level, r)| (level, r.median_rps()))
        .filter(|(_, rps)| *rps > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
}

/// The one grouping of a run's steps: by [`StepId`], each key's steps in
/// the order they were run (repeat order). Every reader of results groups
/// through this ([`StepGroups`], the report's figures).
pub fn group_steps(results: &RunResults) -> BTreeMap<StepId, Vec<&StepRecord>> {
    let mut g: BTreeMap<StepId, Vec<&StepRecord>> = BTreeMap::new();
    for step in &results.steps {
        g.entry(StepId::of(step)).or_default().push(step);
    }
    g
}

/// A step left out of [`StepGroups::for_verdicts`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExcludedStep {
    pub repeat: u32,
    /// The disqualifying flags (interrupted, generator_saturated).
    pub flags: Vec<StepFlag>,
    /// `summary.generator.saturated`: why the generator was the bottleneck.
    pub reason: Option<String>,
}

/// All steps of a run grouped by [`StepId`], repeats together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepGroups {
    /// The repeats that count, by key. A key whose every repeat was
    /// excluded is absent here and present in `excluded`.
    pub groups: BTreeMap<StepId, Repeats>,
    /// Steps left out by [`StepGroups::for_verdicts`], by key.
    pub excluded: BTreeMap<StepId, Vec<ExcludedStep>>,
    /// [`StepGroups::targets_in_order`] of the results grouped.
    target_order: Vec<String>,
}

impl StepGroups {
    /// Every step, flagged or not (what `compare` reads: it marks flagged
    /// rows instead of dropping them).
    pub fn from_results(results: &RunResults) -> Self {
        Self::grouped(results, |_| true)
    }

    /// Only the steps a verdict may rest on: those flagged `interrupted` or
    /// `generator_saturated` go to `excluded` instead (what claims and gates
    /// read).
    pub fn for_verdicts(results: &RunResults) -> Self {
        Self::grouped(results, StepRecord::usable_for_verdicts)
    }

    fn grouped(results: &RunResults, keep: impl Fn(&StepRecord) -> bool) -> Self {
        let mut g = StepGroups {
            target_order: Self::targets_in_order(results),
            ..StepGroups::default()
        };
        for (key, steps) in group_steps(results) {
            let (kept, left): (Vec<&StepRecord>, Vec<&StepRecord>) =
                steps.into_iter().partition(|s| keep(s));
            if !kept.is_empty() {
                g.groups.insert(key.clone(), Repeats::of(kept));
            }
            for step in left {
                g.excluded
                    .entry(key.clone())
                    .or_default()
                    .push(ExcludedStep {
                        repeat: step.repeat,
                        flags: step
                            .flags
                            .iter()
                            .copied()
                            .filter(|f| f.disqualifies())
                            .collect(),
                        reason: step.summary.generator.saturated.clone(),
                    });
            }
        }
        g
    }

    /// The usable repeats of `target` × `scenario` at `level` (any model),
    /// with their identity. None when that point was not measured, or when
    /// every repeat of it was excluded ([`Self::excluded_id`] tells which).
    pub fn find(&self, target: &str, scenario: &str, level: u64) -> Option<(&StepId, &Repeats)> {
        self.groups
            .iter()
            .find(|(k, _)| k.is_at(target, scenario, level))
    }

    /// The usable repeats of `target` × `scenario` at `level` ([`Self::find`]).
    pub fn get(&self, target: &str, scenario: &str, level: u64) -> Option<&Repeats> {
        self.find(target, scenario, level).map(|(_, r)| r)
    }

    /// The identity of `target` × `scenario` at `level` when it was measured
    /// but every repeat of it was excluded.
    pub fn excluded_id(&self, target: &str, scenario: &str, level: u64) -> Option<&StepId> {
        if self.find(target, scenario, level).is_some() {
            return None;
        }
        self.excluded
            .keys()
            .find(|k| k.is_at(target, scenario, level))
    }

    /// Whether `target` × `scenario` at `level` was measured but every
    /// repeat of it was excluded.
    pub fn is_excluded(&self, target: &str, scenario: &str, level: u64) -> bool {
        self.excluded_id(target, scenario, level).is_some()
    }

    /// Of `ids`, those whose latency figures count as failing in some
    /// repeat, with [`Repeats::failure_summary`], in the one order (target
    /// as [`Self::targets_in_order`], then identity): what a verdict's
    /// evidence names as counting against its target.
    pub fn failing_among<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a StepId>,
    ) -> Vec<(StepId, String)> {
        self.in_target_order(
            ids.into_iter()
                .filter_map(|k| {
                    let why = self.groups.get(k)?.failure_summary()?;
                    Some((k.clone(), why))
                })
                .collect(),
        )
    }

    /// Of `ids`, the excluded points with their excluded steps, in the one
    /// order.
    pub fn excluded_among<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a StepId>,
    ) -> Vec<(StepId, &[ExcludedStep])> {
        self.in_target_order(
            ids.into_iter()
                .filter_map(|k| Some((k.clone(), self.excluded.get(k)?.as_slice())))
                .collect(),
        )
    }

    /// Every excluded point with its excluded steps, in target order
    /// ([`Self::targets_in_order`]), then key order.
    pub fn all_excluded(&self) -> Vec<(StepId, &[ExcludedStep])> {
        self.in_target_order(
            self.excluded
                .iter()
                .map(|(k, v)| (k.clone(), v.as_slice()))
                .collect(),
        )
    }

    /// Measured levels of `target` × `scenario`, ascending, including
    /// levels whose every repeat was excluded.
    pub fn levels(&self, target: &str, scenario: &str) -> Vec<u64> {
        let mut levels: Vec<u64> = self
            .groups
            .keys()
            .chain(self.excluded.keys())
            .filter(|k| k.target == target && k.scenario == scenario)
            .map(|k| k.level)
            .collect();
        levels.sort_unstable();
        levels.dedup();
        levels
    }

    /// The model of a scenario as measured for `target`, if measured.
    pub fn model(&self, target: &str, scenario: &str) -> Option<Model> {
        self.groups
            .keys()
            .chain(self.excluded.keys())
            .find(|k| k.target == target && k.scenario == scenario)
            .map(|k| k.model)
    }

    /// Highest level every one of `targets` was measured at in `scenario`.
    pub fn highest_common_level(&self, scenario: &str, targets: &[&str]) -> Option<u64> {
        self.common_levels(scenario, targets).last().copied()
    }

    /// Lowest level every one of `targets` was measured at in `scenario`.
    pub fn lowest_common_level(&self, scenario: &str, targets: &[&str]) -> Option<u64> {
        self.common_levels(scenario, targets).first().copied()
    }

    fn common_levels(&self, scenario: &str, targets: &[&str]) -> Vec<u64> {
        let Some((first, rest)) = targets.split_first() else {
            return Vec::new();
        };
        let mut levels = self.levels(first, scenario);
        for t in rest {
            let other = self.levels(t, scenario);
            levels.retain(|l| other.contains(l));
        }
        levels
    }

    /// Distinct target names, in [`Self::targets_in_order`] of the results
    /// grouped.
    pub fn targets(&self) -> Vec<String> {
        self.target_order.clone()
    }

    /// The place of `target` in [`Self::targets_in_order`] (unknown
    /// targets last), for sorting keys into the one target order.
    pub fn target_rank(&self, target: &str) -> usize {
        self.target_order
            .iter()
            .position(|t| t == target)
            .unwrap_or(usize::MAX)
    }

    /// `keys` in the one order: target (as [`Self::targets_in_order`]),
    /// then scenario, model and level.
    fn in_target_order<T>(&self, mut items: Vec<(StepId, T)>) -> Vec<(StepId, T)> {
        items.sort_by_cached_key(|(k, _)| (self.target_rank(&k.target), k.clone()));
        items
    }

    /// The one target order of bakeoff: distinct target names in order of
    /// first appearance in `results.steps`, i.e. the suite's target order
    /// in repeat 0. Every table, chart legend, gate list and verdict
    /// evidence lists targets in this order.
    pub fn targets_in_order(results: &RunResults) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for s in &results.steps {
            if !seen.contains(&s.target) {
                seen.push(s.target.clone());
            }
        }
        seen
    }

    /// Distinct scenario names, in order of first appearance in `results`.
    pub fn scenarios_in_order(results: &RunResults) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for s in &results.steps {
            if !seen.contains(&s.scenario) {
                seen.push(s.scenario.clone());
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Estimate, Favours, NoisePolicy, error_rate, judge};

    fn step(repeat: u32, p99: Option<u64>, requests: u64, errors: u64) -> StepRecord {
        use crate::results::Summary;
        StepRecord {
            summary: Summary {
                requests,
                errors,
                error_rate: error_rate(errors, requests),
                duration_s: 10.0,
                rps: (requests - errors) as f64 / 10.0,
                latency_us: p99.map(|p99| LatencySummary {
                    min: 1,
                    mean: p99 as f64 / 2.0,
                    p50: p99 / 2,
                    p90: p99 - 1,
                    p99,
                    p999: p99 + 1,
                    max: p99 + 2,
                }),
                ..Summary::default()
            },
            ..StepRecord::new("node", "db", Model::Closed, 64, repeat)
        }
    }

    fn repeats_of(steps: Vec<StepRecord>) -> Repeats {
        let mut run = RunResults::new(crate::results::Provenance::default());
        run.steps = steps;
        let g = StepGroups::from_results(&run);
        g.get("node", "db", 64).cloned().unwrap()
    }

    #[test]
    fn failing_repeats_have_infinite_latency_and_say_why() {
        // A repeat that answered nothing successfully (all 500s).
        let r = repeats_of(vec![step(0, None, 1000, 1000)]);
        assert_eq!(r.p99_us, [f64::INFINITY]);
        assert_eq!(r.p50_us, [f64::INFINITY]);
        assert_eq!(r.rps, [0.0]);
        assert_eq!(r.error_rate, [1.0]);
        assert_eq!(r.failure_summary().as_deref(), Some("no request succeeded"));
        // Fast successes but 4 % errors: the latency may not count for it.
        let r = repeats_of(vec![step(0, Some(900), 1000, 40)]);
        assert_eq!(r.p99_us, [f64::INFINITY]);
        assert_eq!(r.measured[0].map(|l| l.p99), Some(900));
        assert_eq!(
            r.failure_summary().as_deref(),
            Some("4.00% of requests failed (more than 1%)")
        );
        // At the limit (1 %) it still counts.
        let r = repeats_of(vec![step(0, Some(900), 1000, 10)]);
        assert_eq!(r.p99_us, [900.0]);
        assert_eq!(r.failure_summary(), None);
        let r = repeats_of(vec![
            step(0, Some(900), 1000, 0),
            step(1, None, 1000, 1000),
            step(2, Some(900), 1000, 500),
        ]);
        assert_eq!((r.without_success(), r.failing()), (1, 2));
        assert_eq!(
            r.failure_summary().as_deref(),
            Some(
                "no request succeeded in 1 of 3 repeats; 1 of 3 repeats failed more than 1% of requests"
            )
        );
    }

    #[test]
    fn a_repeat_without_successes_never_improves_the_median() {
        // Three repeats, the middle one answered nothing: the median p99 is
        // the worse of the other two, not their average (11 ms) and not 0.
        let r = repeats_of(vec![
            step(0, Some(10_000), 1000, 0),
            step(1, None, 1000, 1000),
            step(2, Some(12_000), 1000, 0),
        ]);
        let m = median(&r.p99_us).unwrap();
        assert_eq!(m, 12_000.0);
        assert!(r.p99_us.iter().filter(|v| v.is_finite()).all(|&v| m >= v));
        // Its interval reaches +infinity, so it cannot win beyond noise.
        let e = Estimate::of(&r.p99_us).unwrap();
        assert_eq!(e.interval, Some((10_000.0, f64::INFINITY)));
        let clean = [30_000.0, 31_000.0, 32_000.0];
        let j = judge(&r.p99_us, &clean, false, NoisePolicy::default()).unwrap();
        assert_eq!(j.favours, Favours::Neither);
    }

    #[test]
    fn failing_points_are_named_only_when_asked_for() {
        let mut run = RunResults::new(crate::results::Provenance::default());
        let mut ok = step(0, Some(900), 1000, 0);
        ok.level = 8;
        run.steps = vec![ok, step(0, None, 1000, 1000)];
        let g = StepGroups::for_verdicts(&run);
        let (at8, _) = g.find("node", "db", 8).unwrap();
        let (at64, _) = g.find("node", "db", 64).unwrap();
        assert!(g.failing_among([at8]).is_empty());
        let failing = g.failing_among([at8, at64]);
        assert_eq!(failing.len(), 1);
        assert_eq!(failing[0].0.level, 64);
        assert_eq!(failing[0].1, "no request succeeded");
    }
}
