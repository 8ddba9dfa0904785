//! `bakeoff report RUN_DIR|results.json [--out DIR] [--claims FILE]`:
//! regenerates the charts and reports of a run (or of a `load --output`
//! file) from its results alone, and prints the paths written.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::Outcome;
use crate::cli::ReportArgs;
use crate::results::RunResults;

pub async fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    // The error names the file it could not read or parse.
    let results = RunResults::load(&args.run)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&args.run));
    let claims =
        crate::claims::load(args.claims.as_deref()).context("loading the claims for the report")?;
    let written = {
        let out_dir = out_dir.clone();
        // Drawing PNGs is CPU work; keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            // No thresholds: `report` shows figures and verdicts; gates are `run`'s.
            let analysis = crate::analysis::analyze(&results, Some(&claims), &[]);
            crate::report::write_reports(&out_dir, &results, &analysis)
        })
        .await
        .context("the report writer stopped unexpectedly")?
    }
    .with_context(|| format!("writing reports into {}", out_dir.display()))?;
    for path in written {
        crate::outln!("{}", path.display());
    }
    Ok(Outcome::Ok)
}

/// The run directory itself, or the directory holding the results file.
fn default_out_dir(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.to_path_buf()
    } else {
        match run.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_go_beside_a_results_file_or_into_the_run_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(default_out_dir(dir.path()), dir.path());
        let file = dir.path().join("load.json");
        assert_eq!(default_out_dir(&file), dir.path());
        assert_eq!(default_out_dir(Path::new("load.json")), PathBuf::from("."));
    }
}
