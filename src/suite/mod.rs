//! Suite files: what to run (targets, scenarios, request mixes, timing,
//! CPU layout, thresholds). Loading has two stages: `raw.rs` deserializes
//! the TOML with every unknown key rejected and spans kept, `validate.rs`
//! checks values and resolves defaults into a [`SuitePlan`]. Errors carry
//! `file:line:column` (`error.rs`). The embedded `suites/default.toml` and
//! `suites/quick.toml` are compiled in, so `bakeoff run` works from any
//! directory. This module does not run anything.

mod error;
pub mod plan;
mod raw;
mod validate;
mod values;

pub use error::{Diagnostic, SuiteError};
pub use plan::{
    Comparison, CpuPlan, DEFAULT_DB_CONNECTIONS, DEFAULT_OPEN_CONNECTIONS, LoadModel, Metric,
    ScenarioPlan, SuitePlan, Threshold, VARIANTS,
};
pub use values::parse_duration;

use std::path::Path;

use error::SourceFile;

/// The default suite of `bakeoff run`, as shipped.
pub const DEFAULT_SUITE: &str = include_str!("../../suites/default.toml");
/// The suite of `bakeoff run --quick`, as shipped.
pub const QUICK_SUITE: &str = include_str!("../../suites/quick.toml");

/// Name shown in errors and results for the embedded default suite.
pub const DEFAULT_SUITE_NAME: &str = "<embedded>/suites/default.toml";
/// Name shown in errors and results for the embedded quick suite.
pub const QUICK_SUITE_NAME: &str = "<embedded>/suites/quick.toml";

/// Loads and validates a suite file; `None` means the embedded
/// `suites/default.toml`.
pub fn load(path: Option<&Path>) -> Result<SuitePlan, SuiteError> {
    let Some(path) = path else {
        return parse(DEFAULT_SUITE, DEFAULT_SUITE_NAME);
    };
    let text = std::fs::read_to_string(path).map_err(|error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, &path.display().to_string())
}

/// The embedded `suites/quick.toml`.
pub fn quick() -> Result<SuitePlan, SuiteError> {
    parse(QUICK_SUITE, QUICK_SUITE_NAME)
}

/// Parses and validates suite text; `source` names it in errors and in
/// [`SuitePlan::source`]. CPU indices are checked against this machine's
/// online CPUs.
pub fn parse(text: &str, source: &str) -> Result<SuitePlan, SuiteError> {
    parse_for_cores(text, source, online_cpus())
}

/// Like [`parse`], for a machine with `cores` online CPUs (tests, and
/// validating a suite meant for another machine).
pub fn parse_for_cores(text: &str, source: &str, cores: usize) -> Result<SuitePlan, SuiteError> {
    let file = SourceFile { name: source, text };
    let raw: raw::RawSuite = toml::from_str(text).map_err(|e| SuiteError::Invalid {
        diagnostics: vec![file.toml_error(&e)],
    })?;
    validate::validate(raw, file, cores.max(1))
}

/// Number of online CPUs (what `[cpu]` indices are checked against). Falls
/// back to the parallelism available to this process.
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    match usize::try_from(n) {
        Ok(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, usize::from),
    }
}
