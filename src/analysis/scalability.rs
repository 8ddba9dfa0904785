//! The scalability model of every closed-model scenario × target: which
//! steps feed the fit (usable, steady, consistent with Little's law), the
//! fit itself ([`crate::scalability::model`]) and what was left out, as
//! data for the report's "Scalability model" table, the throughput
//! charts' fitted curves and the `scaling` claims' evidence.
//!
//! # Little's law
//!
//! In a closed model every connection always has one request in flight,
//! so the requests in flight, throughput × mean latency (L = X·R, the
//! successful requests' mean), must equal the connections N. A repeat
//! whose L/N is off by more than [`LITTLE_TOLERANCE`] did not hold N
//! requests in flight, most often because the generator rather than the
//! server limited concurrency (it took time to send the next request): its
//! throughput is not the server's at N, so it is left out of the fit and
//! named. Repeats whose latency counts as failing (no success, or more
//! than 1 % errors) are left out too: their mean latency covers only the
//! requests that succeeded, and a failing point must not shape a curve.

use crate::analysis::StepGroups;
use crate::model::Model as LoadModel;
use crate::scalability::{FitError, Level, Model};

/// How far L/N may stray from 1 before a repeat is called inconsistent.
pub const LITTLE_TOLERANCE: f64 = 0.10;

/// The models of one closed-model scenario, per target in the run's order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioScalability {
    pub scenario: String,
    pub targets: Vec<TargetScalability>,
}

impl ScenarioScalability {
    pub fn target(&self, target: &str) -> Option<&TargetScalability> {
        self.targets.iter().find(|t| t.target == target)
    }

    /// Whether any target's curve was fitted.
    pub fn any_fitted(&self) -> bool {
        self.targets.iter().any(|t| t.model.is_ok())
    }
}

/// One target's curve on one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetScalability {
    pub target: String,
    /// The levels that fed the fit (ascending), each with the repeats used.
    pub levels: Vec<(u64, usize)>,
    /// Little's law per usable repeat that had a success.
    pub little: Vec<LittleCheck>,
    /// The repeats left out of the fit, and why.
    pub left_out: Vec<LeftOut>,
    pub model: Result<Model, FitError>,
}

/// Little's law for one repeat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LittleCheck {
    pub level: u64,
    pub repeat: u32,
    /// X·R: successful requests per second × their mean latency.
    pub in_flight: f64,
}

impl LittleCheck {
    /// L/N.
    pub fn ratio(&self) -> f64 {
        self.in_flight / self.level as f64
    }

    /// Whether L/N is within [`LITTLE_TOLERANCE`] of 1.
    pub fn holds(&self) -> bool {
        (self.ratio() - 1.0).abs() <= LITTLE_TOLERANCE
    }
}

/// A repeat the fit did not use.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    pub level: u64,
    pub repeat: u32,
    pub why: Why,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Why {
    /// Flagged interrupted or generator_saturated.
    Flagged,
    /// No success, or more than 1 % of requests failed.
    Failing,
    /// Little's law off by more than the tolerance: L/N.
    Little(f64),
}

impl Why {
    pub fn words(&self) -> String {
        match self {
            Why::Flagged => "flagged".to_string(),
            Why::Failing => "failing".to_string(),
            Why::Little(r) => format!("L/N = {r:.2}"),
        }
    }
}

/// The models of every scenario of `usable` measured in the closed model,
/// in `scenarios` order (the run's order), targets in the run's order.
pub fn fit_scenarios(usable: &StepGroups, scenarios: &[String]) -> Vec<ScenarioScalability> {
    scenarios
        .iter()
        .filter_map(|scenario| {
            let targets: Vec<TargetScalability> = usable
                .targets()
                .iter()
                .filter(|t| usable.model(t, scenario) == Some(LoadModel::Closed))
                .map(|t| fit_target(usable, t, scenario))
                .collect();
            (!targets.is_empty()).then(|| ScenarioScalability {
                scenario: scenario.clone(),
                targets,
            })
        })
        .collect()
}

fn fit_target(usable: &StepGroups, target: &str, scenario: &str) -> TargetScalability {
    let mut little = Vec::new();
    let mut left_out = Vec::new();
    let mut fitted = Vec::new();
    let mut used = Vec::new();
    for level in usable.levels(target, scenario) {
        if let Some(id) = usable.excluded_id(target, scenario, level) {
            for step in usable.excluded.get(id).into_iter().flatten() {
                left_out.push(LeftOut {
                    level,
                    repeat: step.repeat,
                    why: Why::Flagged,
                });
            }
        }
        let Some(r) = usable.get(target, scenario, level) else {
            continue;
        };
        let mut xs = Vec::new();
        for i in 0..r.n() {
            let repeat = r.repeat[i];
            let mean_us = match &r.measured[i] {
                Some(l) if r.p99_us[i].is_finite() => l.mean,
                _ => {
                    left_out.push(LeftOut {
                        level,
                        repeat,
                        why: Why::Failing,
                    });
                    continue;
                }
            };
            let check = LittleCheck {
                level,
                repeat,
                in_flight: r.rps[i] * mean_us / 1e6,
            };
            little.push(check);
            if check.holds() {
                xs.push(r.rps[i]);
            } else {
                left_out.push(LeftOut {
                    level,
                    repeat,
                    why: Why::Little(check.ratio()),
                });
            }
        }
        if !xs.is_empty() {
            used.push((level, xs.len()));
            fitted.push(Level {
                n: level as f64,
                x: xs,
            });
        }
    }
    left_out.sort_by_key(|l| (l.level, l.repeat));
    TargetScalability {
        target: target.to_string(),
        levels: used,
        little,
        left_out,
        model: crate::scalability::model(&fitted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{LatencySummary, Provenance, RunResults, StepFlag, StepRecord};

    /// A closed step whose mean latency is `mean_ms` at `rps`.
    fn step(target: &str, level: u64, rps: f64, mean_ms: f64) -> StepRecord {
        let mut s = StepRecord::new(target, "io", LoadModel::Closed, level, 0);
        s.summary.requests = (rps * 3.0) as u64;
        s.summary.rps = rps;
        s.summary.latency_us = Some(LatencySummary {
            mean: mean_ms * 1000.0,
            p99: (mean_ms * 1500.0) as u64,
            ..Default::default()
        });
        s
    }

    fn results(steps: Vec<StepRecord>) -> RunResults {
        let mut r = RunResults::new(Provenance::default());
        r.steps = steps;
        r
    }

    #[test]
    fn a_capped_pool_is_fitted_and_every_level_counts() {
        // 15 threads, 50 ms a request: 20 req/s per connection up to 300.
        let steps = [4u64, 16, 64, 128, 256]
            .iter()
            .map(|&n| {
                let x = (20.0 * n as f64).min(300.0);
                step("django-sync", n, x, n as f64 / x * 1000.0)
            })
            .collect();
        let r = results(steps);
        let g = StepGroups::for_verdicts(&r);
        let models = fit_scenarios(&g, &["io".to_string()]);
        let t = models[0].target("django-sync").unwrap();
        assert!(t.left_out.is_empty(), "{:?}", t.left_out);
        assert_eq!(t.levels.len(), 5);
        assert!(t.little.iter().all(LittleCheck::holds));
        let m = t.model.as_ref().unwrap();
        assert_eq!(m.fit.preferred, crate::scalability::Preferred::Bounded);
        assert!((m.fit.bounded.cap - 300.0).abs() < 1.0);
    }

    #[test]
    fn steps_off_littles_law_failing_or_flagged_are_left_out_and_named() {
        let mut steps: Vec<StepRecord> = [8u64, 32, 64, 128, 256]
            .iter()
            .map(|&n| step("node", n, n as f64 * 19.0, 1000.0 / 19.0))
            .collect();
        // At 256 the generator kept only half the connections busy.
        steps[4].summary.latency_us.as_mut().unwrap().mean /= 2.0;
        // At 128 most requests failed.
        steps[3].summary.error_rate = 0.2;
        // At 64 the generator was saturated.
        steps[2].flags = vec![StepFlag::GeneratorSaturated];
        let r = results(steps);
        let g = StepGroups::for_verdicts(&r);
        let t = fit_scenarios(&g, &["io".to_string()])[0].targets[0].clone();
        let why: Vec<(u64, Why)> = t.left_out.iter().map(|l| (l.level, l.why)).collect();
        assert_eq!(why[0], (64, Why::Flagged));
        assert_eq!(why[1], (128, Why::Failing));
        assert!(
            matches!(why[2], (256, Why::Little(r)) if (r - 0.5).abs() < 1e-9),
            "{why:?}"
        );
        assert_eq!(t.levels, vec![(8, 1), (32, 1)]);
        assert_eq!(t.model, Err(FitError::TooFewLevels { distinct: 2 }));
    }

    #[test]
    fn open_model_scenarios_have_no_model() {
        let mut s = step("node", 100, 100.0, 1.0);
        s.model = LoadModel::Open;
        let r = results(vec![s]);
        let g = StepGroups::for_verdicts(&r);
        assert!(fit_scenarios(&g, &["io".to_string()]).is_empty());
    }
}
