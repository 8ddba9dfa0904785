//! Suite files: raw TOML structs → validated [`SuitePlan`] (two stages).

pub mod plan;

pub use plan::{Comparison, CpuPlan, LoadModel, Metric, ScenarioPlan, SuitePlan, Threshold};
