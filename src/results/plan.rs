//! The resolved plan a run followed, as recorded in `results.json`: the
//! suite's targets, scenarios (model, levels, mix, timings, SLO) and
//! thresholds after every default, filter (`--only`, `--scenario`),
//! `--quick` and `--repeat` was applied. Readers of a results file (the
//! capacity table's SLOs, a reader asking "what was run?") take it from
//! here instead of re-reading the suite. Levels added by the SLO search at
//! run time are steps, not part of the plan.

use serde::{Deserialize, Serialize};

use super::Model;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PlanRecord {
    /// The suite's name and the file it came from.
    pub suite: String,
    pub source: String,
    /// Variant names, in run order.
    pub targets: Vec<String>,
    /// Database connections each variant may open.
    pub db_connections: u32,
    pub scenarios: Vec<ScenarioRecord>,
    /// Thresholds as written, with what they are narrowed to.
    #[serde(default)]
    pub thresholds: Vec<ThresholdRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioRecord {
    pub name: String,
    /// The targets it ran on, when the suite narrowed it (`targets =
    /// [...]`); absent: every target of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    pub model: Model,
    /// Connections (closed) or offered req/s (open), as planned.
    pub levels: Vec<u64>,
    /// Open model: the connection pool the rate is spread over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Open model: how arrivals are spread ("uniform" or "poisson").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<String>,
    /// A surge scenario's rate profile: the rate its first stage starts
    /// from, and its stages (empty for constant rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRecord>,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub timeout_s: f64,
    pub repeats: u32,
    /// Open model: the p99 objective capacity is measured against, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_p99_us: Option<f64>,
    pub mix: Vec<MixRecord>,
}

/// One stage of a rate profile: over `duration_s` the offered rate moves
/// linearly to `rate` req/s.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct StageRecord {
    pub duration_s: f64,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MixRecord {
    /// As in the step's `endpoints` ("GET /queries?queries=20").
    pub label: String,
    pub weight: u32,
    pub expect_status: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThresholdRecord {
    /// As written, e.g. "p99 < 50ms".
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
}
