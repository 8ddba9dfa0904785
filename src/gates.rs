//! CI gates: suite thresholds evaluated against results.

use crate::results::RunResults;
use crate::suite::Threshold;

/// The outcome of one threshold on one (target, scenario).
#[derive(Debug, Clone, PartialEq)]
pub struct GateOutcome {
    pub target: String,
    pub scenario: String,
    pub threshold: String,
    pub actual: f64,
    pub passed: bool,
}

/// Evaluates every threshold against the matching steps.
pub fn evaluate(thresholds: &[Threshold], results: &RunResults) -> Vec<GateOutcome> {
    let _ = (thresholds, results);
    Vec::new()
}
