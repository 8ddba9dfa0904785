//! The "Capacity and knee" report section: per target × scenario, the knee
//! of the throughput curve and, for open-model scenarios with a p99 SLO in
//! the claims file, the highest offered rate whose p99 met it. The maths
//! is in `stats` (`knee`, `slo_bracket`); this file computes the rows,
//! the reports lay them out.
//!
//! Capacity at the SLO is computed **per rate, across repeats**: for each
//! offered rate, the median over its repeats of the SLO p99, where a repeat
//! without a successful request or with more than 1 % of its requests
//! failed counts as +∞ (the rule of [`crate::stats`]); then the bracket of
//! `stats::slo_bracket` over those medians. It is not a median of
//! per-repeat capacities: the runner probes the same rates in every repeat
//! of a target (repeat 0 searches, later repeats replay its rates), so each
//! rate has all repeats, and a rate measured in fewer repeats (an older
//! run) is named in the cell. A target that answered nothing never reads
//! as "still growing": its knee cell says no request succeeded.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::analysis::{ExcludedStep, Repeats, StepGroups, StepId};
use crate::results::{Model, PlanRecord};
use crate::stats::{SLO_MAX_ERROR_RATE, median, slo_bracket};

use super::lookup::Lookup;
use super::predicates::{curve, never_succeeded};
use super::spec::CapacitySpec;

/// The table: one row per target × scenario measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityTable {
    /// The knee rule: throughput never again grows by more than this.
    pub growth_fraction: f64,
    pub rows: Vec<CapacityRow>,
    /// Every point left out (interrupted, generator saturated).
    pub excluded: Vec<(StepId, Vec<ExcludedStep>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CapacityRow {
    pub target: String,
    pub scenario: String,
    pub model: Model,
    pub knee: Knee,
    /// The level with the highest median rps above 0, and that rps.
    pub peak: Option<(u64, f64)>,
    pub capacity: Capacity,
}

/// The knee of a throughput curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Knee {
    /// No request succeeded at any level: no curve to read a knee from
    /// (never "still growing").
    NoSuccess,
    OneLevel,
    /// Still growing at the highest level measured.
    NotReached {
        growing_at: u64,
    },
    At {
        level: u64,
        rps: f64,
    },
}

/// Capacity at the SLO of an open-model scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Capacity {
    /// Closed model: no offered rate.
    ClosedModel,
    /// Open model, but neither the run's plan nor the claims file sets an
    /// SLO for the scenario.
    NoSlo,
    Slo(SloCapacity),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloCapacity {
    pub slo_us: f64,
    pub bracket: SloBracket,
    /// Rates measured in fewer repeats than the most: (rate, repeats, most).
    pub fewer_repeats: Vec<(u64, usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SloBracket {
    /// Every rate measured met it; `rate` is the highest.
    AtLeast { rate: u64 },
    /// `rate` met it, `missed_at` (the lowest rate above) did not.
    Between {
        rate: u64,
        missed_at: u64,
        why: Miss,
    },
    /// Every rate missed; `lowest` is the lowest measured.
    Below { lowest: u64, why: Miss },
    /// Nothing measured.
    Unknown,
}

/// Why a rate missed the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    SlowP99,
    /// Most repeats had no successful request.
    NoSuccess,
    /// The median error rate exceeded [`SLO_MAX_ERROR_RATE`].
    Errors,
}

/// Builds the table from the verdict groups; `slos` are the open-model
/// scenarios' p99 objectives ([`slo_objectives`]). Surge scenarios are
/// left out. Flagged steps
/// (interrupted, generator saturated) are left out, so a knee never comes
/// from the generator's limit.
pub fn capacity_table(
    groups: &StepGroups,
    spec: &CapacitySpec,
    slos: &BTreeMap<String, Duration>,
    targets: &[String],
    scenarios: &[String],
) -> CapacityTable {
    let g = Lookup::new(groups);
    let mut rows = Vec::new();
    for scenario in scenarios {
        for target in targets {
            let Some(model) = g.model(target, scenario) else {
                continue;
            };
            // A surge measures recovery, not capacity (its one step's rate
            // is the profile's average): the report's Surge table has it.
            let surges = g.levels(target, scenario).into_iter().any(|l| {
                groups
                    .find(target, scenario, l)
                    .is_some_and(|(_, r)| !r.surge.is_empty())
            });
            if surges {
                continue;
            }
            let c = curve(&g, target, scenario);
            let knee = match crate::stats::knee(&c, spec.growth_fraction) {
                _ if never_succeeded(&c) => Knee::NoSuccess,
                Some(level) => Knee::At {
                    level,
                    rps: c.iter().find(|p| p.0 == level).map(|p| p.1).unwrap_or(0.0),
                },
                None if c.len() < 2 => Knee::OneLevel,
                None => Knee::NotReached {
                    growing_at: c.last().map(|p| p.0).unwrap_or(0),
                },
            };
            let peak = c
                .iter()
                .filter(|p| p.1 > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|p| (p.0, p.1));
            let capacity = match (model, slos.get(scenario)) {
                (Model::Open | Model::Fanout, Some(slo)) => {
                    Capacity::Slo(slo_capacity(&g, target, scenario, *slo))
                }
                (Model::Open | Model::Fanout, None) => Capacity::NoSlo,
                (Model::Closed, _) => Capacity::ClosedModel,
            };
            rows.push(CapacityRow {
                target: target.clone(),
                scenario: scenario.clone(),
                model,
                knee,
                peak,
                capacity,
            });
        }
    }
    CapacityTable {
        growth_fraction: spec.growth_fraction,
        rows,
        excluded: groups
            .all_excluded()
            .into_iter()
            .map(|(k, steps)| (k, steps.to_vec()))
            .collect(),
    }
}

/// The p99 objective of each open-model scenario: the run's recorded plan
/// (`results.plan`, the suite's `slo_p99`), overridden by the claims file's
/// `[capacity.slo_p99]` where it names a scenario (for results without a
/// plan, such as older runs, or a what-if objective).
pub fn slo_objectives(
    plan: Option<&PlanRecord>,
    spec: &CapacitySpec,
) -> BTreeMap<String, Duration> {
    let mut slos: BTreeMap<String, Duration> = plan
        .map(|p| {
            p.scenarios
                .iter()
                .filter_map(|s| {
                    Some((s.name.clone(), Duration::from_secs_f64(s.slo_p99_us? / 1e6)))
                })
                .collect()
        })
        .unwrap_or_default();
    slos.extend(spec.slo_p99.iter().map(|(k, v)| (k.clone(), *v)));
    slos
}

/// Capacity at the SLO of one target × open-model scenario.
pub(super) fn slo_capacity(g: &Lookup, target: &str, scenario: &str, slo: Duration) -> SloCapacity {
    let slo_us = slo.as_secs_f64() * 1e6;
    // Per rate: the repeats' SLO p99 (`Repeats::p99_us` is already +∞ for
    // a failing repeat), reduced to their median.
    let rates: Vec<(u64, &Repeats)> = g
        .levels(target, scenario)
        .into_iter()
        .filter_map(|l| Some((l, g.get(target, scenario, l)?)))
        .collect();
    let pts: Vec<(u64, f64)> = rates
        .iter()
        .filter_map(|(l, r)| Some((*l, median(&r.p99_us)?)))
        .collect();
    // Why a failing rate missed the objective.
    let missed = |f: u64| -> Miss {
        let Some((_, r)) = rates.iter().find(|(l, _)| *l == f) else {
            return Miss::SlowP99;
        };
        if r.without_success() * 2 > r.n() {
            Miss::NoSuccess
        } else if median(&r.error_rate).is_some_and(|e| e > SLO_MAX_ERROR_RATE) {
            Miss::Errors
        } else {
            Miss::SlowP99
        }
    };
    let bracket = match slo_bracket(&pts, slo_us) {
        (Some(rate), None) => SloBracket::AtLeast { rate },
        (Some(rate), Some(f)) => SloBracket::Between {
            rate,
            missed_at: f,
            why: missed(f),
        },
        (None, Some(f)) => SloBracket::Below {
            lowest: f,
            why: missed(f),
        },
        (None, None) => SloBracket::Unknown,
    };
    let most = rates.iter().map(|(_, r)| r.n()).max().unwrap_or(0);
    let fewer_repeats = rates
        .iter()
        .filter(|(_, r)| r.n() < most)
        .map(|(l, r)| (*l, r.n(), most))
        .collect();
    SloCapacity {
        slo_us,
        bracket,
        fewer_repeats,
    }
}
