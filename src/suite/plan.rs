//! The validated suite: typed, checked, with every default resolved. The
//! engine and the run orchestration only ever see these types, never raw
//! TOML.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::Mix;

/// A whole validated suite.
#[derive(Debug, Clone)]
pub struct SuitePlan {
    pub name: String,
    /// The file it came from, or "<embedded suites/default.toml>".
    pub source: PathBuf,
    /// Variant names, in run order.
    pub targets: Vec<String>,
    pub cpu: CpuPlan,
    /// Total database connections each variant may open (equal across variants).
    pub db_connections: u32,
    /// External targets: variant name → base URL (for `--targets external`).
    pub urls: BTreeMap<String, String>,
    pub scenarios: Vec<ScenarioPlan>,
    pub thresholds: Vec<Threshold>,
}

/// Which CPUs the load generator and the servers (targets + database) use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuPlan {
    pub generator: Vec<usize>,
    pub targets: Vec<usize>,
}

impl CpuPlan {
    /// Default layout for `cores` online CPUs: the generator gets the last
    /// CPU, servers the rest; on one CPU both share it.
    pub fn auto(cores: usize) -> Self {
        if cores <= 1 {
            CpuPlan {
                generator: vec![0],
                targets: vec![0],
            }
        } else {
            CpuPlan {
                generator: vec![cores - 1],
                targets: (0..cores - 1).collect(),
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    pub name: String,
    pub description: String,
    pub load: LoadModel,
    pub mix: Mix,
    pub warmup: Duration,
    pub duration: Duration,
    pub repeats: u32,
    pub timeout: Duration,
    /// Open model: p99 objective used to find capacity.
    pub slo_p99: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    /// Each level is a number of connections.
    Closed { concurrency: Vec<u32> },
    /// Each level is an offered rate (req/s) spread over `connections`.
    Open { rates: Vec<u32>, connections: u32 },
}

impl LoadModel {
    pub fn levels(&self) -> Vec<u64> {
        match self {
            LoadModel::Closed { concurrency } => {
                concurrency.iter().map(|&c| u64::from(c)).collect()
            }
            LoadModel::Open { rates, .. } => rates.iter().map(|&r| u64::from(r)).collect(),
        }
    }
    pub fn model(&self) -> crate::results::Model {
        match self {
            LoadModel::Closed { .. } => crate::results::Model::Closed,
            LoadModel::Open { .. } => crate::results::Model::Open,
        }
    }
}

/// A CI gate such as `p99 < 50ms` for some target/scenario (None = all).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub target: Option<String>,
    pub scenario: Option<String>,
    pub metric: Metric,
    pub op: Comparison,
    /// Microseconds for latency metrics, a fraction (0.001 = 0.1%) for
    /// error_rate, requests/s for rps.
    pub value: f64,
    /// The expression as written, for messages.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    Max,
    Rps,
    ErrorRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Comparison::Lt => actual < limit,
            Comparison::Le => actual <= limit,
            Comparison::Gt => actual > limit,
            Comparison::Ge => actual >= limit,
        }
    }
}
