//! The one pass from results to everything a reader is shown:
//! [`analyze`] turns a run's [`RunResults`] (with the claims under test and
//! the suite's thresholds) into an [`Analysis`], plain data that the
//! reports, charts, `verify`, `compare`, the gates and the terminal table
//! read and compute nothing from themselves.
//!
//! - [`groups`]: the one grouping of steps by [`StepId`] across repeats
//!   ([`StepGroups`], [`Repeats`]), with the steps a verdict may not rest
//!   on kept aside.
//! - [`summary`]: per scenario × target × level, the level's figures as
//!   `results/README.md` defines them, the caveats, the variants' usage.
//!
//! The figures follow the rules of [`crate::stats`] ("a failure never looks
//! like speed", the noise rule); verdict wording is `claims`', gate wording
//! `gates'`.

pub mod groups;
pub mod scalability;
pub mod summary;
pub mod surge;

pub use groups::{ExcludedStep, Repeats, StepGroups, StepId, best_level, group_steps};
pub use summary::{RunSummary, summarize};

use crate::analysis::scalability::ScenarioScalability;
use crate::claims::capacity::{CapacityTable, capacity_table, slo_objectives};
use crate::claims::orm::{OrmTable, orm_table};
use crate::claims::ratio::{RatioTable, ratio_table};
use crate::claims::{ClaimVerdict, ClaimsFile, Headline};
use crate::gates::GateOutcome;
use crate::results::{Provenance, RunResults};
use crate::stats::MIN_REPEATS_FOR_INTERVAL;
use crate::suite::Threshold;
use crate::variants::Variants;

/// Everything a run's readers are shown, computed once.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub provenance: Provenance,
    /// Whether every planned step was measured.
    pub complete: bool,
    /// Steps measured.
    pub steps: usize,
    /// The figures of every scenario × target × level (flagged steps
    /// included and marked), caveats, variants.
    pub summary: RunSummary,
    /// Every step, flagged or not (what `compare` reads).
    pub all: StepGroups,
    /// The steps a verdict or gate may rest on; flagged ones kept aside.
    pub usable: StepGroups,
    /// Repeats per level of the usable groups, as (fewest among those with
    /// a spread, most): what the noise rule could use.
    pub repeats: RepeatCounts,
    /// The scalability model of every closed-model scenario × target, in
    /// the run's order.
    pub scalability: Vec<ScenarioScalability>,
    /// Claim verdicts and the claims' tables; None without a claims file.
    pub claims: Option<ClaimsAnalysis>,
    /// One outcome per threshold × matching level (empty without thresholds).
    pub gates: Vec<GateOutcome>,
    /// The variants the run had (`provenance.variants`, else the built-in
    /// list): their chart colours.
    pub variants: Variants,
}

/// What the noise rule could use in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RepeatCounts {
    /// Most repeats of any level.
    pub most: usize,
    /// Fewest repeats among the levels with at least
    /// [`MIN_REPEATS_FOR_INTERVAL`] (`most` when none has).
    pub fewest_with_spread: usize,
}

impl Analysis {
    /// The scalability models of `scenario`, if it was measured in the
    /// closed model.
    pub fn scalability_of(&self, scenario: &str) -> Option<&ScenarioScalability> {
        self.scalability.iter().find(|s| s.scenario == scenario)
    }
}

impl RepeatCounts {
    /// Whether some level had enough repeats for a spread.
    pub fn has_spread(&self) -> bool {
        self.most >= MIN_REPEATS_FOR_INTERVAL
    }
}

/// The claims' share of the analysis.
#[derive(Debug, Clone)]
pub struct ClaimsAnalysis {
    /// In claims-file order.
    pub verdicts: Vec<ClaimVerdict>,
    /// One chart per claim that rests on one scenario's curve.
    pub headlines: Vec<Headline>,
    pub ratio_table: Option<RatioTable>,
    /// The first `orm_cost` claim's table: per database scenario and
    /// level, Node, each Django variant's raw SQL and ORM.
    pub orm_table: Option<OrmTable>,
    pub capacity: CapacityTable,
}

/// The one pass: results (+ claims, + thresholds) → [`Analysis`].
pub fn analyze(
    results: &RunResults,
    claims: Option<&ClaimsFile>,
    thresholds: &[Threshold],
) -> Analysis {
    let summary = summarize(results);
    let all = StepGroups::from_results(results);
    let usable = StepGroups::for_verdicts(results);
    let counts = || usable.groups.values().map(Repeats::n);
    let most = counts().max().unwrap_or(0);
    let repeats = RepeatCounts {
        most,
        fewest_with_spread: counts()
            .filter(|n| *n >= MIN_REPEATS_FOR_INTERVAL)
            .min()
            .unwrap_or(most),
    };
    let scenarios = StepGroups::scenarios_in_order(results);
    // The plan the run followed; a file from before `results.plan` that
    // names an embedded suite gets that suite's plan.
    let plan = results
        .plan
        .clone()
        .or_else(|| crate::suite::embedded_named(&results.provenance.suite).map(|p| p.record()));
    let scalability = scalability::fit_scenarios(&usable, &scenarios);
    let claims = claims.map(|file| {
        let verdicts = crate::claims::evaluate(&usable, &scalability, file);
        ClaimsAnalysis {
            headlines: crate::claims::headlines(file, &verdicts, &scenarios),
            ratio_table: ratio_table(&usable, file),
            orm_table: orm_table(&usable, file),
            capacity: capacity_table(
                &usable,
                &file.capacity,
                &slo_objectives(plan.as_ref(), &file.capacity),
                &summary.targets,
                &scenarios,
            ),
            verdicts,
        }
    });
    let gates = crate::gates::evaluate(thresholds, &usable);
    let variants = match results.provenance.variants.as_slice() {
        [] => Variants::embedded().clone(),
        listed => Variants(listed.to_vec()),
    };
    Analysis {
        provenance: results.provenance.clone(),
        complete: results.complete,
        steps: results.steps.len(),
        summary,
        all,
        usable,
        repeats,
        scalability,
        claims,
        gates,
        variants,
    }
}
