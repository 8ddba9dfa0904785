//! Baseline vs current → per-step deltas and a [`Verdict`] per step
//! (Improved, Regressed, NoChange), rendered as Markdown for a PR comment or
//! as JSON for machines.
//!
//! Steps are matched by (target, scenario, model, level); repeats on each
//! side are reduced to their median (a level's figures as
//! `results/README.md` defines them, the numbers the report's tables
//! print; latency formatted by [`crate::units::latency`]). Rows list
//! targets in the one order, first appearance in the results
//! ([`StepGroups::targets_in_order`]). A step regressed when its rps dropped
//! or its p99 rose by more than the threshold (percent) and, when both
//! sides have at least [`MIN_REPEATS_FOR_INTERVAL`] repeats, the bootstrap
//! intervals of that figure's median do not overlap (the change is beyond
//! run-to-run noise). With 5 repeats or fewer such an interval is the
//! min–max of the repeats, and the Markdown calls it a range
//! ([`crate::stats::intervals_phrase`]). Improvements are judged the same
//! way in the other direction; a step that both regressed and improved
//! (say rps up, p99 up) counts as regressed. p50 is reported, not gated. Steps present on one
//! side only are listed, never errors. Loading files and exit codes are
//! the `compare` command's business.
//!
//! Failures follow the rule of [`crate::stats`]: a repeat without a
//! successful request, or with more than 1 % of its requests failed, has
//! an infinitely slow ("failing") latency. A step whose median p99 became
//! failing **regressed**, whatever the threshold and without a noise check
//! (a failure is not noise); its rps dropped too, since rps counts
//! successes only. So a step that lost all its successes is always a
//! regression, never an improvement; one that answered again after failing
//! improved.
//!
//! Flagged steps (interrupted, generator_saturated, errors, unsent) are
//! compared like the others, and the rows resting on them are marked: each
//! comparison carries the flags of both sides, the Markdown marks its row
//! (‡ when a side has a disqualifying flag, § for failed or unsent
//! requests only) and explains the marks under the table. A regression on a flagged step still counts
//! (and `compare` exits 1): the mark says the generator or an interruption,
//! rather than the target, may explain it, and a rerun settles it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{Analysis, Repeats, StepGroups, StepId};
use crate::report::doc::{Column, Document, Rich, Table};
use crate::results::{Model, StepFlag};
use crate::stats::{
    BOOTSTRAP_CONFIDENCE, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, MIN_REPEATS_FOR_INTERVAL,
    bootstrap_median_interval, intervals_overlap, intervals_phrase, median,
};
use crate::units;

/// What happened to one step between baseline and current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Regressed,
    NoChange,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::NoChange => "no change",
        }
    }
}

/// Medians over repeats of one side of a step. Latency medians are
/// infinite (`null` in JSON) when they count as failing; `failing` says why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub repeats: usize,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Median of `summary.error_rate` (unsent requests included).
    pub error_rate: f64,
    /// Why some repeats' latency counts as failing, e.g. "no request
    /// succeeded" (None when every repeat's latency counts).
    pub failing: Option<String>,
}

/// Relative changes, current vs baseline, in percent (None when the
/// baseline figure is zero and the current is not, or when either side's
/// latency is failing).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Deltas {
    pub rps: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

/// One matched step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepComparison {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub level: u64,
    pub baseline: Figures,
    pub current: Figures,
    pub delta_pct: Deltas,
    pub verdict: Verdict,
    /// Whether run-to-run noise was checked (≥ 3 repeats on both sides).
    pub noise_checked: bool,
    /// Why the verdict, e.g. "rps -12.3%" (empty for no change).
    pub reasons: Vec<String>,
    /// Flags of the baseline's repeats of this step (any repeat).
    pub baseline_flags: Vec<StepFlag>,
    /// Flags of the current run's repeats of this step (any repeat).
    pub current_flags: Vec<StepFlag>,
}

impl StepComparison {
    /// Whether either side rests on a step flagged interrupted or
    /// generator_saturated.
    pub fn disqualified(&self) -> bool {
        self.baseline_flags
            .iter()
            .chain(&self.current_flags)
            .any(|f| f.disqualifies())
    }

    /// "‡", "§" or "": the mark of the row in the Markdown table.
    pub fn mark(&self) -> &'static str {
        if self.disqualified() {
            "‡"
        } else if !self.baseline_flags.is_empty() || !self.current_flags.is_empty() {
            "§"
        } else {
            ""
        }
    }

    /// "generator_saturated (current), errors (baseline)".
    fn flags_text(&self) -> String {
        let mut parts = Vec::new();
        for (side, flags) in [
            ("baseline", &self.baseline_flags),
            ("current", &self.current_flags),
        ] {
            if !flags.is_empty() {
                let names: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
                parts.push(format!("{} ({side})", names.join(", ")));
            }
        }
        parts.join("; ")
    }
}

/// A step present on one side only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedStep {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub level: u64,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareReport {
    pub threshold_pct: f64,
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub steps: Vec<StepComparison>,
    pub only_in_baseline: Vec<UnmatchedStep>,
    pub only_in_current: Vec<UnmatchedStep>,
    /// Remarks such as a target matched under another name.
    pub notes: Vec<String>,
}

impl CompareReport {
    pub fn has_regression(&self) -> bool {
        self.regressed > 0
    }

    /// The one-line summary that opens the comparison.
    pub fn summary_line(&self) -> Rich {
        let head = match self.regressed {
            0 => "No regression".to_string(),
            1 => "1 regression".to_string(),
            n => format!("{n} regressions"),
        };
        let mut s = format!(
            ": {} compared at a {}% threshold: {} regressed, {} improved, {} unchanged",
            plural(self.steps.len(), "step"),
            units::number(self.threshold_pct),
            self.regressed,
            self.improved,
            self.unchanged
        );
        let (b, c) = (self.only_in_baseline.len(), self.only_in_current.len());
        if b + c > 0 {
            s.push_str(&format!(
                "; {b} step(s) only in the baseline, {c} only in the current run"
            ));
        }
        s.push('.');
        Rich::strong(head).and(s)
    }

    /// The comparison as a document (for a PR comment in Markdown, a
    /// terminal, HTML or CSV): summary line, the changed steps, every
    /// step, marks, noise, failures, unmatched steps, notes.
    pub fn to_document(&self) -> Document {
        let mut doc = Document::new("");
        doc.paragraph(self.summary_line());
        if !self.steps.is_empty() {
            let changed: Vec<&StepComparison> = self
                .steps
                .iter()
                .filter(|s| s.verdict != Verdict::NoChange)
                .collect();
            if !changed.is_empty() {
                doc.table(step_table(changed.iter().copied()));
            }
            if changed.len() < self.steps.len() {
                doc.heading(3, format!("All {}", plural(self.steps.len(), "step")));
                doc.table(step_table(self.steps.iter()));
            }
            let flagged: Vec<&StepComparison> =
                self.steps.iter().filter(|s| !s.mark().is_empty()).collect();
            if !flagged.is_empty() {
                doc.paragraph("Marked rows rest on flagged steps: ‡ a side has a step flagged interrupted or generator_saturated, so its figures may describe the generator or a cut-short window rather than the target (rerun before trusting the change); § a side had failed or unsent requests.");
                doc.list(
                    flagged
                        .iter()
                        .map(|s| {
                            Rich::text(format!(
                                "{} {}/{} at {} {}: {}",
                                s.mark(),
                                s.target,
                                s.scenario,
                                s.level,
                                level_unit(s.model),
                                s.flags_text()
                            ))
                        })
                        .collect(),
                );
            }
            let unchecked = self.steps.iter().filter(|s| !s.noise_checked).count();
            if unchecked > 0 {
                doc.paragraph(format!(
                    "Medians over repeats. {unchecked} step(s) had fewer than {MIN_REPEATS_FOR_INTERVAL} repeats on a side, so their changes were judged by the threshold alone, without a noise check."
                ));
            } else {
                let sides = || {
                    self.steps
                        .iter()
                        .flat_map(|s| [s.baseline.repeats, s.current.repeats])
                };
                let min_n = sides().min().unwrap_or(0);
                let max_n = sides().max().unwrap_or(0);
                doc.paragraph(format!(
                    "Medians over repeats; a change counts only beyond the threshold and outside run-to-run noise ({} do not overlap).",
                    intervals_phrase(min_n, max_n)
                ));
            }
            let failing: Vec<&StepComparison> = self
                .steps
                .iter()
                .filter(|s| s.baseline.failing.is_some() || s.current.failing.is_some())
                .collect();
            if !failing.is_empty() {
                doc.paragraph("Repeats without a successful request, or with more than 1% of their requests failed (unsent ones included), have no usable latency: they count as infinitely slow, and a latency shown as \"failing\" is one where they make the median. Losing all successes is therefore a regression whatever the threshold. Steps with such repeats:");
                doc.list(
                    failing
                        .iter()
                        .map(|s| {
                            let mut sides = Vec::new();
                            for (side, f) in [("baseline", &s.baseline), ("current", &s.current)] {
                                if let Some(why) = &f.failing {
                                    sides.push(format!("{why} ({side})"));
                                }
                            }
                            Rich::text(format!(
                                "{}/{} at {} {}: {}",
                                s.target,
                                s.scenario,
                                s.level,
                                level_unit(s.model),
                                sides.join("; ")
                            ))
                        })
                        .collect(),
                );
            }
        }
        for (title, list) in [
            ("Only in the baseline", &self.only_in_baseline),
            ("Only in the current run", &self.only_in_current),
        ] {
            if !list.is_empty() {
                let items: Vec<String> = list
                    .iter()
                    .map(|u| {
                        format!(
                            "{}/{} at {} {}",
                            u.target,
                            u.scenario,
                            u.level,
                            level_unit(u.model)
                        )
                    })
                    .collect();
                doc.paragraph(format!("{title}: {}.", items.join(", ")));
            }
        }
        for n in &self.notes {
            doc.paragraph(format!("Note: {n}"));
        }
        doc
    }

    /// The comparison in Markdown ([`Self::to_document`] rendered).
    pub fn to_markdown(&self) -> String {
        crate::report::render::markdown::render(&self.to_document())
    }

    /// The report as JSON (what `--format json` prints).
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain structs of strings and numbers cannot fail;
        // non-finite floats become null.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Compares `current` against `baseline` at `threshold_pct` percent.
/// Every step of each side counts ([`Analysis::all`]): flagged rows are
/// marked, not dropped.
pub fn compare(baseline: &Analysis, current: &Analysis, threshold_pct: f64) -> CompareReport {
    let base: &StepGroups = &baseline.all;
    let mut cur: StepGroups = current.all.clone();
    let mut notes = Vec::new();

    // `load --output` files name the target host:port by default; when each
    // side has exactly one target under different names and nothing would
    // match otherwise, compare them anyway and say so.
    let (bt, ct) = (base.targets(), cur.targets());
    let any_match = cur.groups.keys().any(|k| base.groups.contains_key(k));
    if !any_match && bt.len() == 1 && ct.len() == 1 && bt[0] != ct[0] {
        notes.push(format!(
            "target \"{}\" (current) was compared with \"{}\" (baseline), the only target on each side; use `--name` with `bakeoff load` to keep names stable.",
            ct[0], bt[0]
        ));
        let renamed: BTreeMap<StepId, Repeats> = std::mem::take(&mut cur.groups)
            .into_iter()
            .map(|(mut k, v)| {
                k.target = bt[0].clone();
                (k, v)
            })
            .collect();
        cur.groups = renamed;
    }

    let mut steps = Vec::new();
    let mut only_in_current = Vec::new();
    for (key, c) in &cur.groups {
        match base.groups.get(key) {
            Some(b) => steps.push(compare_step(key, b, c, threshold_pct)),
            None => only_in_current.push(unmatched(key)),
        }
    }
    // The one target order (first appearance in the results), stable
    // within a target (scenario, model, level).
    steps.sort_by_key(|s| (cur.target_rank(&s.target), base.target_rank(&s.target)));
    only_in_current.sort_by_key(|s| cur.target_rank(&s.target));
    let mut only_in_baseline: Vec<UnmatchedStep> = base
        .groups
        .keys()
        .filter(|k| !cur.groups.contains_key(k))
        .map(unmatched)
        .collect();
    only_in_baseline.sort_by_key(|s| base.target_rank(&s.target));
    let count = |v: Verdict| steps.iter().filter(|s| s.verdict == v).count();
    CompareReport {
        threshold_pct,
        regressed: count(Verdict::Regressed),
        improved: count(Verdict::Improved),
        unchanged: count(Verdict::NoChange),
        steps,
        only_in_baseline,
        only_in_current,
        notes,
    }
}

/// A table of steps, regressions first, then improvements.
fn step_table<'a>(steps: impl Iterator<Item = &'a StepComparison>) -> Table {
    let mut rows: Vec<&StepComparison> = steps.collect();
    let rank = |v: Verdict| match v {
        Verdict::Regressed => 0,
        Verdict::Improved => 1,
        Verdict::NoChange => 2,
    };
    rows.sort_by_key(|s| rank(s.verdict));
    let mut t = Table::new(vec![
        Column::left("target"),
        Column::left("scenario"),
        Column::right("level"),
        Column::right("rps (base → current)"),
        Column::right("Δ rps"),
        Column::right("Δ p50"),
        Column::right("p99 (base → current)"),
        Column::right("Δ p99"),
        Column::left("verdict"),
    ]);
    for s in rows {
        let mut verdict = match s.verdict {
            Verdict::Regressed => {
                Rich::strong("regressed").and(format!(" ({})", s.reasons.join(", ")))
            }
            Verdict::Improved => Rich::text(format!("improved ({})", s.reasons.join(", "))),
            Verdict::NoChange => Rich::text("no change"),
        };
        if !s.mark().is_empty() {
            verdict = verdict.and(format!(" {}", s.mark()));
        }
        t.row([
            Rich::text(s.target.clone()),
            Rich::text(s.scenario.clone()),
            Rich::text(format!("{} {}", s.level, level_unit(s.model))),
            Rich::text(format!("{:.1} → {:.1}", s.baseline.rps, s.current.rps)),
            Rich::text(units::change_pct(s.delta_pct.rps)),
            Rich::text(units::change_pct(s.delta_pct.p50)),
            Rich::text(format!(
                "{} → {}",
                units::latency(s.baseline.p99_us),
                units::latency(s.current.p99_us)
            )),
            Rich::text(units::change_pct(s.delta_pct.p99)),
            verdict,
        ]);
    }
    t
}

fn unmatched(k: &StepId) -> UnmatchedStep {
    UnmatchedStep {
        target: k.target.clone(),
        scenario: k.scenario.clone(),
        model: k.model,
        level: k.level,
    }
}

/// Medians of a side (groups are never empty, so NaN never shows up).
fn figures(r: &Repeats) -> Figures {
    Figures {
        repeats: r.n(),
        rps: median(&r.rps).unwrap_or(f64::NAN),
        p50_us: median(&r.p50_us).unwrap_or(f64::NAN),
        p99_us: median(&r.p99_us).unwrap_or(f64::NAN),
        error_rate: median(&r.error_rate).unwrap_or(f64::NAN),
        failing: r.failure_summary(),
    }
}

fn compare_step(key: &StepId, b: &Repeats, c: &Repeats, threshold_pct: f64) -> StepComparison {
    let (fb, fc) = (figures(b), figures(c));
    let delta_pct = Deltas {
        rps: delta(fb.rps, fc.rps),
        p50: delta(fb.p50_us, fc.p50_us),
        p99: delta(fb.p99_us, fc.p99_us),
    };
    let noise_checked = b.n() >= MIN_REPEATS_FOR_INTERVAL && c.n() >= MIN_REPEATS_FOR_INTERVAL;
    let beyond_noise = |xb: &[f64], xc: &[f64]| -> bool {
        if !noise_checked {
            return true;
        }
        let ib = bootstrap_median_interval(
            xb,
            BOOTSTRAP_CONFIDENCE,
            BOOTSTRAP_RESAMPLES,
            BOOTSTRAP_SEED,
        );
        let ic = bootstrap_median_interval(
            xc,
            BOOTSTRAP_CONFIDENCE,
            BOOTSTRAP_RESAMPLES,
            BOOTSTRAP_SEED,
        );
        match (ib, ic) {
            (Some(ib), Some(ic)) => !intervals_overlap(ib, ic),
            _ => true,
        }
    };
    let rps_change = change(fb.rps, fc.rps, threshold_pct);
    let p99_change = change(fb.p99_us, fc.p99_us, threshold_pct);
    // A latency that started or stopped failing is a change whatever the
    // spread of the repeats: a failure is not noise.
    let p99_failing_changed = fb.p99_us.is_infinite() != fc.p99_us.is_infinite();
    let rps_real = rps_change != 0 && beyond_noise(&b.rps, &c.rps);
    let p99_real = p99_change != 0 && (p99_failing_changed || beyond_noise(&b.p99_us, &c.p99_us));

    let mut worse = Vec::new();
    let mut better = Vec::new();
    if rps_real {
        let text = match delta_pct.rps {
            None if fb.rps == 0.0 => "rps up from 0".to_string(),
            d => format!("rps {}", units::change_pct(d)),
        };
        if rps_change < 0 {
            worse.push(text)
        } else {
            better.push(text)
        }
    }
    if p99_real {
        let text = if fc.p99_us.is_infinite() {
            format!(
                "p99 failing: {}",
                fc.failing.as_deref().unwrap_or("no usable latency")
            )
        } else if fb.p99_us.is_infinite() {
            "p99 no longer failing".to_string()
        } else {
            format!("p99 {}", units::change_pct(delta_pct.p99))
        };
        if p99_change > 0 {
            worse.push(text)
        } else {
            better.push(text)
        }
    }
    let (verdict, reasons) = if !worse.is_empty() {
        (Verdict::Regressed, worse)
    } else if !better.is_empty() {
        (Verdict::Improved, better)
    } else {
        (Verdict::NoChange, Vec::new())
    };
    StepComparison {
        target: key.target.clone(),
        scenario: key.scenario.clone(),
        model: key.model,
        level: key.level,
        baseline: fb,
        current: fc,
        delta_pct,
        verdict,
        noise_checked,
        reasons,
        baseline_flags: b.flags.iter().copied().collect(),
        current_flags: c.flags.iter().copied().collect(),
    }
}

/// -1, 0 or 1: whether `cur` moved below or above `base` by more than
/// `threshold_pct` percent of `base`. An infinite (failing) latency is
/// above every finite one, and two are equal.
fn change(base: f64, cur: f64, threshold_pct: f64) -> i8 {
    match (base.is_infinite(), cur.is_infinite()) {
        (true, true) => return 0,
        (false, true) => return 1,
        (true, false) => return -1,
        (false, false) => {}
    }
    let limit = base.abs() * threshold_pct / 100.0;
    if cur > base + limit {
        1
    } else if cur < base - limit {
        -1
    } else {
        0
    }
}

fn delta(base: f64, cur: f64) -> Option<f64> {
    if !base.is_finite() || !cur.is_finite() {
        None
    } else if base == 0.0 {
        (cur == 0.0).then_some(0.0)
    } else {
        Some((cur - base) / base * 100.0)
    }
}

/// The short unit of a level in compare's rows: "conn" or "req/s".
fn level_unit(model: Model) -> &'static str {
    match model {
        Model::Open => "req/s",
        Model::Closed => "conn",
        Model::Fanout => "subs",
    }
}

/// "1 step", "3 steps".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_and_delta() {
        assert_eq!(change(100.0, 106.0, 5.0), 1);
        assert_eq!(change(100.0, 105.0, 5.0), 0);
        assert_eq!(change(100.0, 94.0, 5.0), -1);
        assert_eq!(change(0.0, 1.0, 5.0), 1);
        // Failing (infinite) latencies: above every finite one.
        let inf = f64::INFINITY;
        assert_eq!(change(1_000.0, inf, 1e9), 1);
        assert_eq!(change(inf, 1_000.0, 5.0), -1);
        assert_eq!(change(inf, inf, 5.0), 0);
        assert_eq!(delta(1_000.0, inf), None);
        assert_eq!(delta(200.0, 150.0), Some(-25.0));
        assert_eq!(delta(0.0, 0.0), Some(0.0));
        assert_eq!(delta(0.0, 3.0), None);
    }
}
