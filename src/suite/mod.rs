//! Suite files: what to run (targets, scenarios, request mixes, timing,
//! CPU layout, thresholds). Loading has two stages: `raw.rs` deserializes
//! the TOML with every unknown key rejected and spans kept, `validate.rs`
//! checks values and resolves defaults into a [`SuitePlan`]. Errors carry
//! `file:line:column` (`error.rs`). The embedded `suites/default.toml` and
//! `suites/quick.toml` are compiled in, so `bakeoff run` works from any
//! directory. This module does not run anything.

pub mod bounds;
mod error;
pub mod plan;
mod raw;
mod validate;
mod values;

pub use error::{Diagnostic, SuiteError};
pub use plan::{
    Comparison, CpuPlan, DEFAULT_DB_CONNECTIONS, DEFAULT_OPEN_CONNECTIONS, LoadModel, Metric,
    ScenarioPlan, SuitePlan, Threshold,
};
pub use values::{RESERVED_HEADERS, parse_duration};

use std::path::Path;

use crate::variants::Variants;

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
/// `suites/default.toml`. The reference variants are the built-in list.
pub fn load(path: Option<&Path>) -> Result<SuitePlan, SuiteError> {
    load_with(path, &Variants::embedded().names())
}

/// Like [`load`], with the reference variants of a targets.toml.
pub fn load_with(path: Option<&Path>, variants: &[String]) -> Result<SuitePlan, SuiteError> {
    let cpus = crate::cpus::allowed();
    let Some(path) = path else {
        return parse_with(DEFAULT_SUITE, DEFAULT_SUITE_NAME, &cpus, variants);
    };
    let bytes = std::fs::read(path).map_err(|error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let name = path.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
            let file = SourceFile {
                name: &name,
                text: &prefix,
            };
            return Err(not_text(file, valid, "a byte that is not UTF-8"));
        }
    };
    parse_with(&text, &name, &cpus, variants)
}

/// A suite that is not text at all (a binary file passed by mistake).
fn not_text(file: SourceFile<'_>, offset: usize, what: &str) -> SuiteError {
    let message = format!(
        "not a text file: {what} at byte {offset}; a suite is a UTF-8 TOML file (is this the right file?)"
    );
    SuiteError::Invalid {
        diagnostics: vec![file.at(offset..offset, message)],
    }
}

/// True when `text` holds nothing but blank lines and comments.
fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#'))
}

/// The embedded `suites/quick.toml`.
pub fn quick() -> Result<SuitePlan, SuiteError> {
    quick_with(&Variants::embedded().names())
}

/// The embedded suite named `name` ("default" or "quick"), if any: the
/// plan of a results file that predates `results.plan`, when it names
/// one of them (the embedded suite as this build has it).
pub fn embedded_named(name: &str) -> Option<SuitePlan> {
    [DEFAULT_SUITE, QUICK_SUITE]
        .into_iter()
        .zip([DEFAULT_SUITE_NAME, QUICK_SUITE_NAME])
        .filter_map(|(text, source)| parse_for_cores(text, source, 2).ok())
        .find(|plan| plan.name == name)
}

/// Like [`quick`], with the reference variants of a targets.toml.
pub fn quick_with(variants: &[String]) -> Result<SuitePlan, SuiteError> {
    parse_with(
        QUICK_SUITE,
        QUICK_SUITE_NAME,
        &crate::cpus::allowed(),
        variants,
    )
}

/// Parses and validates suite text; `source` names it in errors and in
/// [`SuitePlan::source`]. CPU indices are checked against the CPUs this
/// process may run on ([`crate::cpus::allowed`]).
pub fn parse(text: &str, source: &str) -> Result<SuitePlan, SuiteError> {
    parse_for_cpus(text, source, &crate::cpus::allowed())
}

/// Like [`parse`], for a machine with CPUs `0..cores` (tests, and
/// validating a suite meant for another machine).
pub fn parse_for_cores(text: &str, source: &str, cores: usize) -> Result<SuitePlan, SuiteError> {
    let cpus: Vec<usize> = (0..cores.max(1)).collect();
    parse_for_cpus(text, source, &cpus)
}

/// Like [`parse`], for a process that may run on `cpus` (ascending, not empty).
pub fn parse_for_cpus(text: &str, source: &str, cpus: &[usize]) -> Result<SuitePlan, SuiteError> {
    parse_with(text, source, cpus, &Variants::embedded().names())
}

/// Like [`parse_for_cpus`], where the reference variants (the targets a
/// suite may name without a `[urls]` entry, and its default targets, in
/// this order) are `variants` (a targets.toml's, see [`crate::variants`]).
pub fn parse_with(
    text: &str,
    source: &str,
    cpus: &[usize],
    variants: &[String],
) -> Result<SuitePlan, SuiteError> {
    let file = SourceFile { name: source, text };
    if let Some(offset) = text.find('\0') {
        return Err(not_text(file, offset, "a NUL byte"));
    }
    if is_blank(text) {
        return Err(SuiteError::Invalid {
            diagnostics: vec![file.at(
                0..0,
                "the suite file is empty: a suite needs at least name = \"...\" and one [[scenario]] table (see suites/README.md)",
            )],
        });
    }
    let raw: raw::RawSuite = toml::from_str(text).map_err(|e| SuiteError::Invalid {
        diagnostics: vec![file.toml_error(&e)],
    })?;
    validate::validate(raw, file, cpus, variants)
}
