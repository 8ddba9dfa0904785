//! The ORM table of the first `orm_cost` claim: per database scenario and
//! level its raw-SQL twin was measured at, the `versus` target (Node) on
//! the ORM scenario, then each Django variant's raw SQL and ORM, each with
//! its median p50, p99 and queries per request. Figures only; the reports
//! lay the table out.

use crate::analysis::{Repeats, StepGroups};
use crate::stats::median;

use super::lookup::Lookup;
use super::{ClaimsFile, Predicate};

/// The table: one row per (scenario, level).
#[derive(Debug, Clone, PartialEq)]
pub struct OrmTable {
    /// The target without an ORM (Node), measured on the ORM scenarios.
    pub versus: String,
    /// The variants that measured a raw-SQL twin, in the run's order.
    pub subjects: Vec<String>,
    pub rows: Vec<OrmRow>,
}

/// One database scenario at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct OrmRow {
    pub scenario: String,
    pub raw_scenario: String,
    pub level: u64,
    /// `versus` on the ORM scenario.
    pub versus: OrmCell,
    /// Per `subjects` entry: (raw SQL, ORM).
    pub subjects: Vec<(OrmCell, OrmCell)>,
}

/// One target's figures at a row's level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrmCell {
    /// Medians over the usable repeats; +infinity where the latency counts
    /// as failing (results/README.md); queries None when not counted.
    Measured {
        p50_us: f64,
        p99_us: f64,
        queries_per_request: Option<f64>,
    },
    /// Measured, but every repeat was excluded.
    Excluded,
    /// Not measured at this level.
    Missing,
}

impl OrmCell {
    fn of(g: &Lookup, target: &str, scenario: &str, level: u64) -> OrmCell {
        match g.get(target, scenario, level) {
            Some(r) => measured(r),
            None if g.is_excluded(target, scenario, level) => OrmCell::Excluded,
            None => OrmCell::Missing,
        }
    }
}

fn measured(r: &Repeats) -> OrmCell {
    OrmCell::Measured {
        p50_us: median(&r.p50_us).unwrap_or(f64::INFINITY),
        p99_us: median(&r.p99_us).unwrap_or(f64::INFINITY),
        queries_per_request: r.median_queries_per_request(),
    }
}

/// The table of the first `orm_cost` claim of `claims`, over the verdict
/// groups; None without such a claim or without a measured raw twin.
pub fn orm_table(groups: &StepGroups, claims: &ClaimsFile) -> Option<OrmTable> {
    let (scenarios, raws, versus) = claims.claims.iter().find_map(|c| match &c.predicate {
        Predicate::OrmCost {
            scenarios,
            raw_scenarios,
            versus,
            ..
        } => Some((scenarios, raw_scenarios, versus)),
        _ => None,
    })?;
    let g = Lookup::new(groups);
    let subjects: Vec<String> = g
        .targets()
        .into_iter()
        .filter(|t| t != versus && raws.iter().any(|r| !g.levels(t, r).is_empty()))
        .collect();
    let mut rows = Vec::new();
    for (s, raw) in scenarios.iter().zip(raws) {
        let mut levels: Vec<u64> = subjects.iter().flat_map(|t| g.levels(t, raw)).collect();
        levels.sort_unstable();
        levels.dedup();
        for level in levels {
            rows.push(OrmRow {
                scenario: s.clone(),
                raw_scenario: raw.clone(),
                level,
                versus: OrmCell::of(&g, versus, s, level),
                subjects: subjects
                    .iter()
                    .map(|t| (OrmCell::of(&g, t, raw, level), OrmCell::of(&g, t, s, level)))
                    .collect(),
            });
        }
    }
    (!rows.is_empty()).then(|| OrmTable {
        versus: versus.clone(),
        subjects,
        rows,
    })
}
