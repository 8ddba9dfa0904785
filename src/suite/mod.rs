//! Suite files: raw TOML structs → validated [`SuitePlan`] (two stages).

pub mod plan;

pub use plan::{Comparison, CpuPlan, LoadModel, Metric, ScenarioPlan, SuitePlan, Threshold};

use std::path::Path;

/// Why a suite could not be loaded. Every variant names the file, and the
/// line and column (or the key and value) at fault.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Invalid(String),
}

/// Loads and validates a suite file; `None` means the embedded
/// `suites/default.toml`.
pub fn load(path: Option<&Path>) -> Result<SuitePlan, SuiteError> {
    let _ = path;
    Err(SuiteError::Invalid(
        "suite loading is not implemented yet".into(),
    ))
}

/// The embedded `suites/quick.toml`.
pub fn quick() -> Result<SuitePlan, SuiteError> {
    Err(SuiteError::Invalid(
        "suite loading is not implemented yet".into(),
    ))
}
