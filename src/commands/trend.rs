//! `bakeoff trend RUN... [--out DIR] [--threshold PCT] [--format ...]`:
//! loads any number of runs (run directories or results files) **in the
//! order given** (a shell glob of timestamped run directories is already
//! oldest first), compares each with the one before it by `compare`'s
//! rule ([`crate::trend`]), writes `trend.md`, `trend.html` and one chart
//! per scenario (`charts/trend-*.svg|png`) into `--out` (default
//! `results/trend`), and prints a short summary (text by default, any
//! registered format, or the whole trend as JSON). Ends with
//! [`Outcome::GateFailed`] (exit 1) when the **last** run regressed
//! against the one before it, as `compare` does for its current run;
//! earlier regressions are shown, not failed on. Fewer than two runs, or
//! an input that is missing, not a results file or of another schema
//! version, is an error (exit 2) naming the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::Outcome;
use crate::analysis::{Analysis, analyze};
use crate::cli::TrendArgs;
use crate::plot::Palette;
use crate::report::doc::{Figure, Rich};
use crate::report::format::{self, Format};
use crate::report::{CHARTS_DIR, render};
use crate::results::{RESULTS_FILE, RunResults, write_atomic};
use crate::trend::{RunLabel, trend};

pub async fn run(args: TrendArgs) -> anyhow::Result<Outcome> {
    if args.runs.len() < 2 {
        let given = args
            .runs
            .first()
            .map(|p| format!(": {}", p.display()))
            .unwrap_or_default();
        bail!(
            "trend needs at least two runs to compare, got {}{given}",
            args.runs.len()
        );
    }
    let outputs = format::or_default(&args.format, Format::Text);
    format::check_outputs(&outputs)?;
    let mut loaded = Vec::new();
    for (i, path) in args.runs.iter().enumerate() {
        // The error names the file it could not read or parse.
        let results = RunResults::load(path)
            .with_context(|| format!("loading run {} of the trend", i + 1))?;
        loaded.push((label(path, &results), results));
    }
    let out_dir = args.out.clone();
    let threshold = args.threshold;
    let (trend, written, warnings) = tokio::task::spawn_blocking(move || {
        let analyses: Vec<(RunLabel, Analysis)> = loaded
            .into_iter()
            .map(|(l, r)| (l, analyze(&r, None, &[])))
            .collect();
        let runs: Vec<(RunLabel, &Analysis)> =
            analyses.iter().map(|(l, a)| (l.clone(), a)).collect();
        let trend = trend(&runs, threshold);
        let variants = &analyses[analyses.len() - 1].1.variants;
        let palette = Palette::new(&trend.targets, variants);
        write(&trend, &palette, &out_dir).map(|(w, warn)| (trend, w, warn))
    })
    .await
    .context("the trend writer stopped unexpectedly")??;
    for w in &warnings {
        eprintln!("bakeoff: {w}");
    }
    for path in &written {
        eprintln!("bakeoff: wrote {}", path.display());
    }
    format::emit(&outputs, &trend.summary_document(), &trend.to_json())?;
    Ok(if trend.last_regressed() {
        Outcome::GateFailed
    } else {
        Outcome::Ok
    })
}

/// Draws the charts and writes trend.md and trend.html; returns the paths
/// written and the charts that could not be drawn.
fn write(
    trend: &crate::trend::Trend,
    palette: &Palette,
    out_dir: &Path,
) -> anyhow::Result<(Vec<PathBuf>, Vec<String>)> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut written = Vec::new();
    let mut warnings = Vec::new();
    let figures: Vec<Option<Figure>> =
        crate::plot::trend::render(trend, palette, &out_dir.join(CHARTS_DIR))
            .into_iter()
            .map(|drawn| match drawn {
                Ok(c) => {
                    written.extend([c.svg_path.clone(), c.png_path.clone()]);
                    let name = c
                        .png_path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    Some(Figure {
                        caption: Rich::default(),
                        alt: c.title,
                        png: format!("{CHARTS_DIR}/{name}"),
                        svg: Some(c.svg),
                    })
                }
                Err(e) => {
                    warnings.push(format!("chart not drawn: {e}"));
                    None
                }
            })
            .collect();
    let doc = trend.to_document(&figures);
    for (name, text) in [
        ("trend.md", render::markdown::render(&doc)),
        ("trend.html", render::html::render(&doc)),
    ] {
        let path = out_dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok((written, warnings))
}

/// A run's short name: its directory's name (for `DIR/results.json`
/// too), else the file's stem.
fn label(path: &Path, results: &RunResults) -> RunLabel {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let short = if path.is_dir() {
        std::fs::canonicalize(path).ok().as_deref().and_then(name)
    } else if path.file_name().is_some_and(|n| n == RESULTS_FILE) {
        path.parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .as_deref()
            .and_then(name)
    } else {
        path.file_stem().map(|n| n.to_string_lossy().into_owned())
    };
    RunLabel {
        label: short.unwrap_or_else(|| path.display().to_string()),
        source: path.display().to_string(),
        started_at: results.provenance.started_at.clone(),
        git_commit: results.provenance.git_commit.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_labels_name_the_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("20260101T031700Z");
        std::fs::create_dir(&run).unwrap();
        let r = RunResults::new(crate::results::local_provenance("t", "local"));
        assert_eq!(label(&run, &r).label, "20260101T031700Z");
        assert_eq!(label(&run.join(RESULTS_FILE), &r).label, "20260101T031700Z");
        assert_eq!(label(Path::new("base/nightly.json"), &r).label, "nightly");
    }
}
