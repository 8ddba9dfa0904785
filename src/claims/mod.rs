//! Claims under test → verdicts (Supported / Refuted / Inconclusive /
//! OutOfScope) with one sentence of evidence each, plus the figures the
//! claims' tables show: the throughput-ratio table (`ratio`), the ORM
//! table (`orm`: Node, Django raw SQL, Django ORM per database scenario)
//! and the capacity/knee table (`capacity`). Everything here is data for
//! [`crate::analysis::Analysis`]; the reports lay it out.
//!
//! Claims are data (`suites/claims.toml`, parsed in `spec`); predicate
//! kinds are code (`predicates`). Each claim looks figures up through its
//! own [`lookup::Lookup`], so its evidence names exactly the failing and
//! excluded figures it used. This module does not measure, and it never
//! reads the suite: the SLOs of the capacity table live in the claims file.

pub mod capacity;
mod lookup;
pub mod orm;
mod predicates;
pub mod ratio;
pub mod spec;

use std::collections::BTreeMap;

use serde::Serialize;

pub use spec::{ClaimSpec, ClaimsError, ClaimsFile, Predicate, load};

use crate::analysis::scalability::ScenarioScalability;
use crate::analysis::{ExcludedStep, StepGroups, StepId};
use crate::results::{Model, StepFlag};
use lookup::Lookup;

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
/// ([`StepGroups::for_verdicts`], the groups given). A claim whose decisive figures were all
/// excluded is Inconclusive, and every claim that asked for excluded
/// figures ends its evidence with the steps left out, e.g. "2 steps
/// excluded: generator saturated (node · json · 256 ×2)."
///
/// Failing figures (no successful request, or more than 1 % errors; see
/// [`crate::stats`]) count against their own target, and every claim that
/// used some names them, e.g. "Failures count against their target:
/// django-sync on db at 8 and 128 connections (no request succeeded)."
pub fn evaluate(
    groups: &StepGroups,
    models: &[ScenarioScalability],
    claims: &ClaimsFile,
) -> Vec<ClaimVerdict> {
    claims
        .claims
        .iter()
        .map(|c| {
            let lookup = Lookup::new(groups).with_models(models);
            let finding = predicates::evaluate(&c.predicate, &lookup, claims.noise);
            let mut evidence = finding.evidence;
            let failing = lookup.failing();
            if !failing.is_empty() {
                evidence.push(' ');
                evidence.push_str(&failing_sentence(&failing));
            }
            let misses = lookup.misses();
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
pub fn excluded_sentence<S: AsRef<[ExcludedStep]>>(excluded: &[(StepId, S)]) -> String {
    let mut by_flag: BTreeMap<StepFlag, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    for (key, steps) in excluded {
        let mut per_flag: BTreeMap<StepFlag, usize> = BTreeMap::new();
        for s in steps.as_ref() {
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
pub fn failing_sentence(failing: &[(StepId, String)]) -> String {
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

/// The kind of chart a claim's verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadlineKind {
    Throughput,
    Latency,
    /// The surge chart (offered, achieved and p99 per second).
    Surge,
}

/// The headline chart of one claim: the scenario and kind of chart its
/// verdict rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub claim: String,
    pub verdict: Verdict,
    pub scenario: String,
    pub kind: HeadlineKind,
}

/// The chart a claim's verdict rests on, as (scenario, kind): the
/// throughput chart of a scaling or cpu-bound claim's scenario, the latency
/// chart of a latency or tail claim's first scenario the run measured, the
/// surge chart of a surge claim's scenario.
/// Ratio claims span every scenario (their chart is the ratio table), and
/// out-of-scope claims measure nothing: no headline chart.
fn headline_chart<'a>(p: &'a Predicate, measured: &[String]) -> Option<(&'a str, HeadlineKind)> {
    let first = |scenarios: &'a [String]| {
        scenarios
            .iter()
            .find(|s| measured.contains(s))
            .map(String::as_str)
    };
    match p {
        Predicate::Scaling { scenario, .. } | Predicate::CpuBound { scenario, .. } => measured
            .contains(scenario)
            .then_some((scenario.as_str(), HeadlineKind::Throughput)),
        Predicate::LatencyUncontendedAndLoaded { scenarios, .. }
        | Predicate::OrmCost { scenarios, .. }
        | Predicate::TailUnderLoad { scenarios, .. } => {
            Some((first(scenarios.as_slice())?, HeadlineKind::Latency))
        }
        Predicate::RealtimeFanout { scenario, .. } => measured
            .contains(scenario)
            .then_some((scenario.as_str(), HeadlineKind::Latency)),
        Predicate::SurgeRecovery { scenario, .. } => measured
            .contains(scenario)
            .then_some((scenario.as_str(), HeadlineKind::Surge)),
        Predicate::RatioAtHighest { .. }
        | Predicate::RatioTable { .. }
        | Predicate::OutOfScope { .. } => None,
    }
}

/// One headline chart per claim that rests on one scenario's curve (see
/// [`headline_chart`]), in claim order; `measured` = the run's scenarios.
pub fn headlines(
    claims: &ClaimsFile,
    verdicts: &[ClaimVerdict],
    measured: &[String],
) -> Vec<Headline> {
    claims
        .claims
        .iter()
        .filter_map(|c| {
            let (scenario, kind) = headline_chart(&c.predicate, measured)?;
            let verdict = verdicts.iter().find(|v| v.id == c.id)?.verdict;
            Some(Headline {
                claim: c.id.clone(),
                verdict,
                scenario: scenario.to_string(),
                kind,
            })
        })
        .collect()
}
