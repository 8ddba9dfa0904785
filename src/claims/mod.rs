//! Claims under test → verdicts (Supported / Refuted / Inconclusive /
//! OutOfScope) with one sentence of evidence each, and the report sections
//! built from them: the verdict table, the throughput-ratio table and the
//! capacity/knee table.
//!
//! Claims are data (`suites/claims.toml`, parsed in `spec`); predicate
//! kinds are code (`predicates`); the capacity table is `capacity`. This
//! module does not measure, and it never reads the suite: the SLOs of the
//! capacity table live in the claims file.

pub mod capacity;
mod predicates;
pub mod spec;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use spec::{ClaimSpec, ClaimsError, ClaimsFile, Predicate, load};

use crate::plot::ChartKind;
use crate::report::{ChartRef, Section};
use crate::results::{Model, RunResults, StepFlag};
use crate::stats::{
    ExcludedStep, MIN_REPEATS_FOR_INTERVAL, SLO_MAX_ERROR_RATE, StepGroups, StepKey,
    intervals_phrase, median,
};

/// The verdict on one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    Refuted,
    Inconclusive,
    OutOfScope,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Refuted => "refuted",
            Verdict::Inconclusive => "inconclusive",
            Verdict::OutOfScope => "out_of_scope",
        }
    }
}

/// One row of the verdict table (and of `verify --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimVerdict {
    pub id: String,
    /// The claim's exact words.
    pub text: String,
    /// Whether `text` is a quotation (false: a description).
    #[serde(skip)]
    pub quoted: bool,
    pub verdict: Verdict,
    /// One sentence: figures, targets, scenario, levels, repeats.
    pub evidence: String,
    /// The predicate in words.
    pub predicate: String,
}

/// Evaluates every claim of `claims` against `results`, in file order.
///
/// No verdict rests on a step flagged `interrupted` or
/// `generator_saturated`: such steps are left out of the evidence
/// ([`StepGroups::for_verdicts`]). A claim whose decisive figures were all
/// excluded is Inconclusive, and every claim that asked for excluded
/// figures ends its evidence with the steps left out, e.g. "2 steps
/// excluded: generator saturated (node · json · 256 ×2)."
///
/// Failing figures (no successful request, or more than 1 % errors; see
/// [`crate::stats`]) count against their own target, and every claim that
/// used some names them, e.g. "Failures count against their target:
/// django-sync on db at 8 and 128 connections (no request succeeded)."
pub fn evaluate(results: &RunResults, claims: &ClaimsFile) -> Vec<ClaimVerdict> {
    let groups = StepGroups::for_verdicts(results);
    // Forget what building the groups touched: each claim names its own.
    groups.take_failing();
    claims
        .claims
        .iter()
        .map(|c| {
            let finding = predicates::evaluate(&c.predicate, &groups, claims.noise);
            let mut evidence = finding.evidence;
            let failing = groups.take_failing();
            if !failing.is_empty() {
                evidence.push(' ');
                evidence.push_str(&failing_sentence(&failing));
            }
            let misses = groups.take_misses();
            if !misses.is_empty() {
                evidence.push(' ');
                evidence.push_str(&excluded_sentence(&misses));
            }
            ClaimVerdict {
                id: c.id.clone(),
                text: c.text.clone(),
                quoted: c.quoted,
                verdict: finding.verdict,
                evidence,
                predicate: predicates::describe(&c.predicate, claims.noise),
            }
        })
        .collect()
}

/// How a disqualifying flag reads in evidence.
fn flag_words(flag: StepFlag) -> &'static str {
    match flag {
        StepFlag::Interrupted => "interrupted",
        StepFlag::GeneratorSaturated => "generator saturated",
        StepFlag::Errors => "errors",
        StepFlag::Unsent => "unsent",
    }
}

/// "3 steps excluded: generator saturated (node · io · 256 ×2,
/// django-sync · io · 256); interrupted (node · io · 8)." Each step is
/// listed under its first disqualifying flag; ×n counts repeats.
pub fn excluded_sentence(excluded: &[(StepKey, &[ExcludedStep])]) -> String {
    let mut by_flag: BTreeMap<StepFlag, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    for (key, steps) in excluded {
        let mut per_flag: BTreeMap<StepFlag, usize> = BTreeMap::new();
        for s in *steps {
            let flag = s.flags.first().copied().unwrap_or(StepFlag::Interrupted);
            *per_flag.entry(flag).or_default() += 1;
            total += 1;
        }
        for (flag, n) in per_flag {
            let times = if n > 1 {
                format!(" ×{n}")
            } else {
                String::new()
            };
            by_flag.entry(flag).or_default().push(format!(
                "{} · {} · {}{times}",
                key.target, key.scenario, key.level
            ));
        }
    }
    let parts: Vec<String> = by_flag
        .into_iter()
        .map(|(flag, points)| format!("{} ({})", flag_words(flag), points.join(", ")))
        .collect();
    let steps = if total == 1 { "step" } else { "steps" };
    format!("{total} {steps} excluded: {}.", parts.join("; "))
}

/// "Failures count against their target: django-sync on db at 8 and 128
/// connections (no request succeeded); node on io at 256 connections
/// (1.50% of requests failed (more than 1%))." Points with the same target,
/// scenario and reason are listed together.
pub fn failing_sentence(failing: &[(StepKey, String)]) -> String {
    // (target, scenario, model, why) → levels, in key order.
    type Point<'a> = (&'a str, &'a str, Model, &'a str);
    let mut groups: Vec<(Point, Vec<u64>)> = Vec::new();
    for (k, why) in failing {
        let id = (
            k.target.as_str(),
            k.scenario.as_str(),
            k.model,
            why.as_str(),
        );
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, levels)) => levels.push(k.level),
            None => groups.push((id, vec![k.level])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|((target, scenario, model, why), levels)| {
            format!(
                "{target} on {scenario} at {} {} ({why})",
                and_list(&levels),
                model.level_label()
            )
        })
        .collect();
    format!("Failures count against their target: {}.", parts.join("; "))
}

/// "8", "8 and 64", "8, 64 and 256".
fn and_list(levels: &[u64]) -> String {
    let s: Vec<String> = levels.iter().map(u64::to_string).collect();
    match s.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `{"claims":[{"id","text","verdict","evidence","predicate"}...]}`.
pub fn verdicts_json(verdicts: &[ClaimVerdict]) -> serde_json::Value {
    serde_json::json!({ "claims": verdicts })
}

/// The verdict table in Markdown, followed by a line on how noise was
/// handled in this run.
pub fn verdict_markdown(results: &RunResults, verdicts: &[ClaimVerdict]) -> String {
    let mut md = String::new();
    md.push_str("| Claim | Text | Verdict | Evidence | Predicate |\n");
    md.push_str("|---|---|---|---|---|\n");
    for v in verdicts {
        let text = if v.quoted {
            format!("“{}”", cell(&v.text))
        } else {
            cell(&v.text)
        };
        md.push_str(&format!(
            "| {} | {text} | **{}** | {} | {} |\n",
            cell(&v.id),
            v.verdict.as_str(),
            cell(&v.evidence),
            cell(&v.predicate)
        ));
    }
    md.push('\n');
    let groups = StepGroups::for_verdicts(results);
    let counts = || groups.groups.values().map(|r| r.n());
    let max_repeats = counts().max().unwrap_or(0);
    if max_repeats < MIN_REPEATS_FOR_INTERVAL {
        md.push_str(&format!(
            "This run has fewer than {MIN_REPEATS_FOR_INTERVAL} repeats per step, so no spread could be measured: differences had to reach the larger margin to count. Run with `--repeat {MIN_REPEATS_FOR_INTERVAL}` or more for verdicts that account for run-to-run noise.\n"
        ));
    } else {
        let min_repeats = counts()
            .filter(|n| *n >= MIN_REPEATS_FOR_INTERVAL)
            .min()
            .unwrap_or(max_repeats);
        md.push_str(&format!(
            "Differences count only when the ratio clears the threshold and {} do not overlap.\n",
            intervals_phrase(min_repeats, max_repeats)
        ));
    }
    md.push_str(&format!(
        "A step without a successful request, or with more than {}% of its requests failed (unsent ones included), has no latency a verdict may use: it counts as infinitely slow, against its own target, and its throughput counts successful requests only.\n",
        SLO_MAX_ERROR_RATE * 100.0
    ));
    if !results.complete {
        md.push_str("\nThe run is incomplete: verdicts use only the steps that were measured.\n");
    }
    let excluded = StepGroups::for_verdicts(results);
    let excluded = excluded.all_excluded();
    if !excluded.is_empty() {
        md.push_str(&format!(
            "\nNo verdict rests on a step flagged interrupted or generator saturated: {}\n",
            excluded_sentence(&excluded)
        ));
    }
    md
}

/// Markdown table cell: no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The throughput-ratio table of the first `ratio_table` claim: per
/// scenario, at the highest level every listed target reached, each
/// target's median rps and its ratio to the baseline target.
pub fn ratio_table_section(results: &RunResults, claims: &ClaimsFile) -> Option<Section> {
    let (scenarios, subject, versus, also) =
        claims.claims.iter().find_map(|c| match &c.predicate {
            Predicate::RatioTable {
                scenarios,
                subject,
                versus,
                also,
                ..
            } => Some((scenarios, subject, versus, also)),
            _ => None,
        })?;
    let g = StepGroups::for_verdicts(results);
    let mut targets: Vec<&str> = vec![subject.as_str()];
    targets.extend(also.iter().map(String::as_str));
    let mut all = targets.clone();
    all.push(versus.as_str());
    let mut md = format!(
        "Median rps at the highest level every measured target reached, and each target's ratio to {versus} (above ×1 = faster).\n\n| Scenario | Level |"
    );
    for t in &all {
        md.push_str(&format!(" {t} rps |"));
    }
    for t in &targets {
        md.push_str(&format!(" {t} ÷ {versus} |"));
    }
    md.push_str("\n|---|---:|");
    md.push_str(&"---:|".repeat(all.len() + targets.len()));
    md.push('\n');
    let mut rows = 0;
    let mut failed_any = false;
    for s in scenarios {
        let present: Vec<&str> = all
            .iter()
            .copied()
            .filter(|t| !g.levels(t, s).is_empty())
            .collect();
        let Some(level) = g.highest_common_level(s, &present) else {
            continue;
        };
        rows += 1;
        let rps = |t: &str| g.get(t, s, level).and_then(|r| median(&r.rps));
        let none_ok = |t: &str| {
            g.get(t, s, level)
                .is_some_and(|r| r.without_success() == r.n())
        };
        md.push_str(&format!("| {s} | {level} |"));
        for t in &all {
            match rps(t) {
                Some(v) if none_ok(t) => {
                    failed_any = true;
                    md.push_str(&format!(" {v:.0} (none succeeded) |"));
                }
                Some(v) => md.push_str(&format!(" {v:.0} |")),
                None if g.is_excluded(t, s, level) => md.push_str(" excluded |"),
                None => md.push_str(" — |"),
            }
        }
        let base = rps(versus);
        for t in &targets {
            match (rps(t), base) {
                (Some(a), Some(b)) => match crate::stats::ratio(a, b) {
                    r if r.is_finite() => md.push_str(&format!(" ×{r:.2} |")),
                    _ => md.push_str(" ×∞ |"),
                },
                _ => md.push_str(" — |"),
            }
        }
        md.push('\n');
    }
    if failed_any {
        md.push_str("\n\"none succeeded\": no request of that target succeeded there, so it served 0 successful req/s.\n");
    }
    let excluded = g.take_misses();
    if !excluded.is_empty() {
        md.push_str(&format!(
            "\n\"excluded\": no usable repeat (steps flagged interrupted or generator saturated are left out). {}\n",
            excluded_sentence(&excluded)
        ));
    }
    (rows > 0).then(|| Section {
        title: "Throughput ratios across scenarios".to_string(),
        markdown: md,
        charts: Vec::new(),
    })
}

/// The chart a claim's verdict rests on, as (scenario, kind): the
/// throughput chart of a scaling or cpu-bound claim's scenario, the latency
/// chart of a latency or tail claim's first scenario the run measured.
/// Ratio claims span every scenario (their chart is the ratio table), and
/// out-of-scope claims measure nothing: no headline chart.
fn headline_chart<'a>(p: &'a Predicate, measured: &[String]) -> Option<(&'a str, ChartKind)> {
    let first = |scenarios: &'a [String]| {
        scenarios
            .iter()
            .find(|s| measured.contains(s))
            .map(String::as_str)
    };
    match p {
        Predicate::Scaling { scenario, .. } | Predicate::CpuBound { scenario, .. } => measured
            .contains(scenario)
            .then_some((scenario.as_str(), ChartKind::Throughput)),
        Predicate::LatencyUncontendedAndLoaded { scenarios, .. }
        | Predicate::TailUnderLoad { scenarios, .. } => {
            Some((first(scenarios.as_slice())?, ChartKind::Latency))
        }
        Predicate::RatioAtHighest { .. }
        | Predicate::RatioTable { .. }
        | Predicate::OutOfScope { .. } => None,
    }
}

/// "Headline charts": one chart per claim that rests on one scenario's
/// curve (see [`headline_chart`]), captioned with the claim and its
/// verdict, in claim order. None when no claim has one.
pub fn headline_section(
    results: &RunResults,
    claims: &ClaimsFile,
    verdicts: &[ClaimVerdict],
) -> Option<Section> {
    let measured = StepGroups::scenarios_in_order(results);
    let charts: Vec<ChartRef> = claims
        .claims
        .iter()
        .filter_map(|c| {
            let (scenario, kind) = headline_chart(&c.predicate, &measured)?;
            let verdict = verdicts.iter().find(|v| v.id == c.id)?.verdict;
            let what = match kind {
                ChartKind::Latency => "latency",
                _ => "throughput",
            };
            Some(ChartRef {
                scenario: scenario.to_string(),
                kind,
                caption: format!(
                    "**{}** (**{}**): {what} on {scenario}.",
                    c.id,
                    verdict.as_str()
                ),
            })
        })
        .collect();
    (!charts.is_empty()).then(|| Section {
        title: "Headline charts".to_string(),
        markdown: "One chart per claim that rests on a scenario's curve: the scenario it was judged on (for a claim on several, the first the run measured). Each scenario's tables and all its charts follow below.".to_string(),
        charts,
    })
}

/// Sections for report.md / report.html, which open with them in this
/// order: the verdict table, the headline charts, the throughput-ratio table (when the claims have a `ratio_table` claim and
/// the run measured its scenarios) and the capacity/knee table. `claims` =
/// None means the embedded suites/claims.toml.
pub fn report_sections(
    results: &RunResults,
    claims: Option<&Path>,
) -> anyhow::Result<Vec<Section>> {
    let file = load(claims)?;
    let verdicts = evaluate(results, &file);
    let mut sections = vec![Section {
        title: "Claims and verdicts".to_string(),
        markdown: verdict_markdown(results, &verdicts),
        charts: Vec::new(),
    }];
    sections.extend(headline_section(results, &file, &verdicts));
    sections.extend(ratio_table_section(results, &file));
    sections.push(capacity::capacity_section(results, &file.capacity));
    Ok(sections)
}
