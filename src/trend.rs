//! Any number of runs, in the order given → how each step moved from run
//! to run, and which runs regressed. Each run is compared with the one
//! before it by [`crate::compare::compare`], the one rule (matching by
//! step, medians over repeats, threshold and noise check, failures): a run
//! is **marked** when that comparison flags a regression, so a run that
//! recovers after a slow one counts as improved, not as a regression. The
//! figures shown for a step in a run are the medians compare judged
//! ([`crate::compare::Figures`]); this module computes none of its own.
//! A step measured in a run but in neither neighbour is left out (compare
//! had nothing to set it against) and said so.
//!
//! The result is plain data ([`Trend`]), serialized for `--format json`,
//! laid out as a [`Document`] here (as `compare` does) and drawn by
//! [`crate::plot::trend`]. Loading files, labels and exit codes are the
//! `trend` command's business.

use serde::Serialize;

use crate::analysis::Analysis;
use crate::compare::{CompareReport, Figures, Verdict, compare};
use crate::report::doc::{Column, Document, Figure, Rich, Table};
use crate::results::Model;
use crate::units;

/// A run as the command names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLabel {
    /// Short name: the run directory's (or file's) name.
    pub label: String,
    /// The path as given.
    pub source: String,
    /// `provenance.started_at`.
    pub started_at: String,
    pub git_commit: Option<String>,
}

/// One run of the trend, with compare's verdict against the run before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRun {
    /// 1-based position in the order given.
    pub index: usize,
    #[serde(flatten)]
    pub label: RunLabel,
    /// Compare's counts against the previous run (None for the first run).
    pub vs_previous: Option<Counts>,
    /// Whether compare flags a regression against the previous run.
    pub regressed: bool,
}

/// Compare's tally of one pair of consecutive runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub only_in_previous: usize,
    pub only_in_this: usize,
}

/// A step's figures in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The run's 1-based index.
    pub run: usize,
    #[serde(flatten)]
    pub figures: Figures,
    /// Compare's verdict against the previous run (None: first run, or
    /// the step was not measured in the previous run).
    pub verdict: Option<Verdict>,
    /// Why, e.g. "rps -30.0%".
    pub reasons: Vec<String>,
    /// Compare's row mark ("‡", "§" or "").
    pub mark: String,
}

/// One step (target, scenario, model, level) across the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTrend {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub level: u64,
    /// One per run that has figures for the step, in run order.
    pub points: Vec<TrendPoint>,
}

impl StepTrend {
    /// The runs at which compare flagged this step regressed.
    pub fn regressed_runs(&self) -> impl Iterator<Item = usize> + '_ {
        self.points
            .iter()
            .filter(|p| p.verdict == Some(Verdict::Regressed))
            .map(|p| p.run)
    }
}

/// A scenario's steps, and which of them its chart draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioTrend {
    pub scenario: String,
    pub model: Model,
    /// Indices into [`Trend::steps`], in target order.
    pub steps: Vec<usize>,
    /// Per target, the step the chart draws: the level with figures in
    /// the most runs, the highest such level on a tie.
    pub charted: Vec<usize>,
    /// Runs at which any step of the scenario regressed.
    pub regressed_runs: Vec<usize>,
}

impl ScenarioTrend {
    /// "json — closed model".
    pub fn heading(&self) -> String {
        format!("{} — {} model", self.scenario, self.model.as_str())
    }
}

/// The whole trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub threshold_pct: f64,
    pub runs: Vec<TrendRun>,
    pub steps: Vec<StepTrend>,
    pub scenarios: Vec<ScenarioTrend>,
    /// Targets in order of first appearance (for colours).
    pub targets: Vec<String>,
    /// Steps measured in one run only, with no neighbour to compare with.
    pub isolated: Vec<String>,
    /// Compare's notes, prefixed with the pair of runs.
    pub notes: Vec<String>,
}

type Key = (String, String, Model, u64);

/// Compares each run with the one before it at `threshold_pct` percent
/// and gathers every step's figures across the runs. `runs` are in the
/// order to show; at least two make a trend (with fewer, nothing is
/// compared).
pub fn trend(runs: &[(RunLabel, &Analysis)], threshold_pct: f64) -> Trend {
    let reports: Vec<CompareReport> = runs
        .windows(2)
        .map(|w| compare(w[0].1, w[1].1, threshold_pct))
        .collect();
    let mut keys: Vec<Key> = Vec::new();
    let mut slots: Vec<Vec<(usize, TrendPoint)>> = Vec::new();
    for (k, report) in reports.iter().enumerate() {
        // Run k+1 (0-based) is this report's current side; run k its
        // baseline, used when the step was not in the comparison before.
        for s in &report.steps {
            let key = (s.target.clone(), s.scenario.clone(), s.model, s.level);
            let i = match keys.iter().position(|x| *x == key) {
                Some(i) => i,
                None => {
                    keys.push(key);
                    slots.push(Vec::new());
                    keys.len() - 1
                }
            };
            let list = &mut slots[i];
            if !list.iter().any(|(run, _)| *run == k) {
                list.push((
                    k,
                    TrendPoint {
                        run: k + 1,
                        figures: s.baseline.clone(),
                        verdict: None,
                        reasons: Vec::new(),
                        mark: String::new(),
                    },
                ));
            }
            list.push((
                k + 1,
                TrendPoint {
                    run: k + 2,
                    figures: s.current.clone(),
                    verdict: Some(s.verdict),
                    reasons: s.reasons.clone(),
                    mark: s.mark().to_string(),
                },
            ));
        }
    }

    let mut steps: Vec<StepTrend> = keys
        .into_iter()
        .zip(slots)
        .map(|((target, scenario, model, level), mut list)| {
            list.sort_by_key(|(run, _)| *run);
            StepTrend {
                target,
                scenario,
                model,
                level,
                points: list.into_iter().map(|(_, p)| p).collect(),
            }
        })
        .collect();

    // Target order: first appearance over the runs, as compare orders them.
    let mut targets: Vec<String> = Vec::new();
    for (_, a) in runs {
        for t in a.all.targets() {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
    }
    let rank = |t: &str| targets.iter().position(|x| x == t).unwrap_or(usize::MAX);
    steps.sort_by(|a, b| {
        (&a.scenario, a.model, rank(&a.target), a.level).cmp(&(
            &b.scenario,
            b.model,
            rank(&b.target),
            b.level,
        ))
    });
    // Scenarios in order of first appearance in the first run that has them.
    let mut order: Vec<(String, Model)> = Vec::new();
    for (_, a) in runs {
        for k in a.all.groups.keys() {
            let sm = (k.scenario.clone(), k.model);
            if !order.contains(&sm) {
                order.push(sm);
            }
        }
    }
    let scenarios = order
        .into_iter()
        .filter_map(|(scenario, model)| {
            let idx: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].scenario == scenario && steps[i].model == model)
                .collect();
            if idx.is_empty() {
                return None;
            }
            let mut charted: Vec<usize> = Vec::new();
            for &i in &idx {
                let s = &steps[i];
                match charted.iter_mut().find(|c| steps[**c].target == s.target) {
                    Some(c) => {
                        let best = &steps[*c];
                        if (s.points.len(), s.level) > (best.points.len(), best.level) {
                            *c = i;
                        }
                    }
                    None => charted.push(i),
                }
            }
            let mut regressed_runs: Vec<usize> = idx
                .iter()
                .flat_map(|&i| steps[i].regressed_runs())
                .collect();
            regressed_runs.sort_unstable();
            regressed_runs.dedup();
            Some(ScenarioTrend {
                scenario,
                model,
                steps: idx,
                charted,
                regressed_runs,
            })
        })
        .collect();

    let mut isolated = Vec::new();
    for (k, (_, a)) in runs.iter().enumerate() {
        for key in a.all.groups.keys() {
            let seen = steps.iter().any(|s| {
                s.target == key.target
                    && s.scenario == key.scenario
                    && s.model == key.model
                    && s.level == key.level
                    && s.points.iter().any(|p| p.run == k + 1)
            });
            if !seen {
                isolated.push(format!(
                    "{}/{} at {} {} (run {})",
                    key.target,
                    key.scenario,
                    key.level,
                    level_unit(key.model),
                    k + 1
                ));
            }
        }
    }

    let mut notes = Vec::new();
    let trend_runs = runs
        .iter()
        .enumerate()
        .map(|(k, (label, _))| {
            let report = k.checked_sub(1).map(|p| &reports[p]);
            if let Some(r) = report {
                notes.extend(
                    r.notes
                        .iter()
                        .map(|n| format!("run {} vs {}: {n}", k + 1, k)),
                );
            }
            TrendRun {
                index: k + 1,
                label: label.clone(),
                vs_previous: report.map(|r| Counts {
                    regressed: r.regressed,
                    improved: r.improved,
                    unchanged: r.unchanged,
                    only_in_previous: r.only_in_baseline.len(),
                    only_in_this: r.only_in_current.len(),
                }),
                regressed: report.is_some_and(CompareReport::has_regression),
            }
        })
        .collect();
    Trend {
        threshold_pct,
        runs: trend_runs,
        steps,
        scenarios,
        targets,
        isolated,
        notes,
    }
}

impl Trend {
    /// The runs compare flags as regressed against their predecessor.
    pub fn regressed_runs(&self) -> Vec<usize> {
        self.runs
            .iter()
            .filter(|r| r.regressed)
            .map(|r| r.index)
            .collect()
    }

    /// Whether the last run regressed against the one before it (what
    /// `trend` exits 1 on, as `compare` does for its current run).
    pub fn last_regressed(&self) -> bool {
        self.runs.last().is_some_and(|r| r.regressed)
    }

    /// The one line that opens the trend.
    pub fn summary_line(&self) -> Rich {
        let marked = self.regressed_runs();
        let head = match marked.len() {
            0 => "No run regressed".to_string(),
            1 => "1 run regressed".to_string(),
            n => format!("{n} runs regressed"),
        };
        let mut s = format!(
            " against the run before it, over {} runs at a {}% threshold (compare's rule)",
            self.runs.len(),
            units::number(self.threshold_pct)
        );
        if !marked.is_empty() {
            let names: Vec<String> = marked
                .iter()
                .map(|&i| format!("{} ({})", i, self.runs[i - 1].label.label))
                .collect();
            s.push_str(&format!(": run {}", names.join(", ")));
        }
        s.push('.');
        Rich::strong(head).and(s)
    }

    /// The runs table: index, name, start, commit, verdict vs previous.
    fn runs_table(&self) -> Table {
        let mut t = Table::new(vec![
            Column::right("run"),
            Column::left("name"),
            Column::left("started"),
            Column::left("commit"),
            Column::left("vs previous run"),
        ]);
        for r in &self.runs {
            let verdict = match &r.vs_previous {
                None => Rich::text("—"),
                Some(c) => {
                    let mut parts = vec![
                        format!("{} improved", c.improved),
                        format!("{} unchanged", c.unchanged),
                    ];
                    if c.only_in_previous + c.only_in_this > 0 {
                        parts.push(format!(
                            "{} only in the previous, {} only in this one",
                            c.only_in_previous, c.only_in_this
                        ));
                    }
                    let head = format!("{} regressed", c.regressed);
                    let rest = format!(", {}", parts.join(", "));
                    if r.regressed {
                        Rich::strong(head).and(rest)
                    } else {
                        Rich::text(head).and(rest)
                    }
                }
            };
            t.row([
                Rich::text(r.index.to_string()),
                Rich::text(r.label.label.clone()),
                Rich::text(r.label.started_at.clone()),
                Rich::text(r.label.git_commit.clone().unwrap_or_else(|| "—".into())),
                verdict,
            ]);
        }
        t
    }

    /// What the terminal shows: the summary line and the runs table.
    pub fn summary_document(&self) -> Document {
        let mut doc = Document::new("");
        doc.paragraph(self.summary_line());
        doc.table(self.runs_table());
        doc
    }

    /// trend.md / trend.html: the summary, the runs, then per scenario
    /// its chart (from `figures`, by scenario index) and every step's
    /// figures per run, marked where compare flagged a regression.
    pub fn to_document(&self, figures: &[Option<Figure>]) -> Document {
        let mut doc = Document::new(format!("Trend across {} runs", self.runs.len()));
        doc.paragraph(self.summary_line());
        doc.paragraph(Rich::text("Each run is compared with the run before it by ").and_code("bakeoff compare").and(format!(
            "'s rule: steps matched by target, scenario, model and level; medians over repeats; a regression when rps drops or p99 rises by more than {}% (and, with 3 repeats or more on both sides, beyond run-to-run noise). A run that recovers after a slow one counts as improved.",
            units::number(self.threshold_pct)
        )));
        doc.heading(2, "Runs");
        doc.table(self.runs_table());
        for (i, sc) in self.scenarios.iter().enumerate() {
            doc.heading(2, sc.heading());
            if let Some(Some(f)) = figures.get(i) {
                doc.figure(f.clone());
            }
            let mut t = Table::new(vec![
                Column::left("target"),
                Column::right("level"),
                Column::right("run"),
                Column::right("rps"),
                Column::right("p99"),
                Column::left("vs previous run"),
            ]);
            for &si in &sc.steps {
                let s = &self.steps[si];
                for p in &s.points {
                    let mut verdict = match p.verdict {
                        None => Rich::text("—"),
                        Some(Verdict::Regressed) => {
                            Rich::strong("regressed").and(format!(" ({})", p.reasons.join(", ")))
                        }
                        Some(Verdict::Improved) => {
                            Rich::text(format!("improved ({})", p.reasons.join(", ")))
                        }
                        Some(Verdict::NoChange) => Rich::text("no change"),
                    };
                    if !p.mark.is_empty() {
                        verdict = verdict.and(format!(" {}", p.mark));
                    }
                    t.row([
                        Rich::text(s.target.clone()),
                        Rich::text(format!("{} {}", s.level, level_unit(s.model))),
                        Rich::text(p.run.to_string()),
                        Rich::text(format!("{:.1}", p.figures.rps)),
                        Rich::text(units::latency(p.figures.p99_us)),
                        verdict,
                    ]);
                }
            }
            doc.table(t);
        }
        if self
            .steps
            .iter()
            .any(|s| s.points.iter().any(|p| !p.mark.is_empty()))
        {
            doc.paragraph(Rich::text("Marks as in ").and_code("bakeoff compare").and(": ‡ a side has a step flagged interrupted or generator_saturated (rerun before trusting the change); § a side had failed or unsent requests."));
        }
        if !self.isolated.is_empty() {
            doc.paragraph(format!(
                "Measured in one run only, with nothing to compare against: {}.",
                self.isolated.join(", ")
            ));
        }
        for n in &self.notes {
            doc.paragraph(format!("Note: {n}"));
        }
        doc
    }

    /// The trend as JSON (what `--format json` prints).
    pub fn to_json(&self) -> serde_json::Value {
        // Plain structs of strings and numbers; non-finite floats become null.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The short unit of a level, as compare's rows print it.
fn level_unit(model: Model) -> &'static str {
    match model {
        Model::Open => "req/s",
        Model::Closed => "conn",
        Model::Fanout => "subs",
    }
}
