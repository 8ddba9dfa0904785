//! The throughput-ratio table of the first `ratio_table` claim: per
//! scenario, at the highest level every measured target reached, each
//! target's median rps and its ratio to the baseline target. Figures only;
//! the reports lay the table out.

use crate::analysis::{ExcludedStep, StepGroups, StepId};

use super::lookup::Lookup;
use super::{ClaimsFile, Predicate};

/// The table: `targets` are the columns of rps (the subject, the others,
/// then `versus`), `subjects` those with a ratio column.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioTable {
    pub versus: String,
    pub targets: Vec<String>,
    pub subjects: Vec<String>,
    pub rows: Vec<RatioRow>,
    /// Points the table asked for whose every repeat was excluded.
    pub excluded: Vec<(StepId, Vec<ExcludedStep>)>,
}

/// One scenario at its highest common level.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioRow {
    pub scenario: String,
    pub level: u64,
    /// Per `targets` entry.
    pub rps: Vec<RpsCell>,
    /// Per `subjects` entry: its median rps ÷ `versus`' (+∞ when `versus`
    /// served nothing); None when either is missing.
    pub ratios: Vec<Option<f64>>,
}

/// A target's throughput at a row's level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RpsCell {
    /// Median successful requests/s over the repeats.
    Rps(f64),
    /// No request of any repeat succeeded: 0 successful req/s.
    NoneSucceeded,
    /// Measured, but every repeat was excluded (interrupted, generator
    /// saturated).
    Excluded,
    /// Not measured at this level.
    Missing,
}

impl RatioTable {
    /// Whether some cell reads "none succeeded".
    pub fn any_none_succeeded(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.rps.contains(&RpsCell::NoneSucceeded))
    }
}

/// The table of the first `ratio_table` claim of `claims`, over the
/// verdict groups; None when there is no such claim or no scenario of it
/// was measured.
pub fn ratio_table(groups: &StepGroups, claims: &ClaimsFile) -> Option<RatioTable> {
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
    let g = Lookup::new(groups);
    let mut subjects: Vec<String> = vec![subject.clone()];
    subjects.extend(also.iter().cloned());
    let mut targets = subjects.clone();
    targets.push(versus.clone());
    let mut rows = Vec::new();
    for s in scenarios {
        let present: Vec<&str> = targets
            .iter()
            .map(String::as_str)
            .filter(|t| !g.levels(t, s).is_empty())
            .collect();
        let Some(level) = g.highest_common_level(s, &present) else {
            continue;
        };
        let rps = |t: &str| -> RpsCell {
            match g.get(t, s, level) {
                Some(r) if r.n() > 0 && r.without_success() == r.n() => RpsCell::NoneSucceeded,
                Some(r) => RpsCell::Rps(r.median_rps()),
                None if g.is_excluded(t, s, level) => RpsCell::Excluded,
                None => RpsCell::Missing,
            }
        };
        let value = |c: RpsCell| match c {
            RpsCell::Rps(v) => Some(v),
            RpsCell::NoneSucceeded => Some(0.0),
            RpsCell::Excluded | RpsCell::Missing => None,
        };
        let cells: Vec<RpsCell> = targets.iter().map(|t| rps(t)).collect();
        let base = value(rps(versus));
        let ratios = subjects
            .iter()
            .map(|t| Some(crate::stats::ratio(value(rps(t))?, base?)))
            .collect();
        rows.push(RatioRow {
            scenario: s.clone(),
            level,
            rps: cells,
            ratios,
        });
    }
    let excluded = g
        .misses()
        .into_iter()
        .map(|(k, steps)| (k, steps.to_vec()))
        .collect();
    (!rows.is_empty()).then_some(RatioTable {
        versus: versus.clone(),
        targets,
        subjects,
        rows,
        excluded,
    })
}
