//! Reports of a run: `report.md`, a self-contained `report.html`,
//! `summary.csv` and the charts (SVG + PNG) they show, all built from the
//! run's [`Analysis`] (and, for the per-step CSV, its results) so
//! `bakeoff report` can regenerate them at any time.
//!
//! A report is one typed [`doc::Document`] ([`document::run_report`]),
//! rendered to Markdown and HTML by [`render`]'s renderers; the same
//! renderers serve every command's `--format` ([`format`]). The claims'
//! sections ([`claims`]) are shared with `verify`; the terminal table at
//! the end of a run is [`terminal`]. The charts are drawn by
//! [`crate::plot`] from the analysis. Nothing here computes a figure.

use std::path::{Path, PathBuf};

use crate::analysis::Analysis;
use crate::plot::{ChartFile, ChartKind, Palette, PlotContext, PlotError};
use crate::results::{ResultsError, RunResults, write_atomic};

pub mod claims;
mod csv;
pub mod doc;
pub mod document;
pub mod format;
pub mod junit;
pub mod render;
pub mod scalability;
pub mod terminal;

use doc::{Figure, Rich};

/// Sub-directory of the output directory that holds the charts.
pub const CHARTS_DIR: &str = "charts";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create the report directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] ResultsError),
}

/// The charts that were drawn, in scenario order then
/// [`ChartKind::ALL`] order, and how to find one.
pub struct Charts {
    pub files: Vec<ChartFile>,
    /// (scenario name, slug), from the summary.
    scenarios: Vec<(String, String)>,
}

impl Charts {
    /// No charts (for documents printed to a terminal).
    pub fn none() -> Self {
        Charts {
            files: Vec::new(),
            scenarios: Vec::new(),
        }
    }

    /// The charts of one scenario (by its slug).
    pub fn of_scenario<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a ChartFile> + 'a {
        self.files.iter().filter(move |c| c.scenario == slug)
    }

    /// The drawn chart of `kind` for the scenario named `scenario` (the
    /// first of that name), if it was drawn.
    pub fn of(&self, scenario: &str, kind: ChartKind) -> Option<&ChartFile> {
        let (_, slug) = self.scenarios.iter().find(|(name, _)| name == scenario)?;
        self.of_scenario(slug).find(|c| c.kind == kind)
    }

    /// A chart as a figure: its PNG linked from the output directory
    /// (charts/x.png), its SVG for HTML.
    pub fn figure(&self, chart: &ChartFile) -> Figure {
        Figure {
            caption: Rich::default(),
            alt: chart.title.clone(),
            png: png_link(chart),
            svg: Some(chart.svg.clone()),
        }
    }
}

/// Relative link to a chart's PNG from the output directory: charts/x.png.
pub fn png_link(chart: &ChartFile) -> String {
    let name = chart
        .png_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{CHARTS_DIR}/{name}")
}

/// Writes charts/ (SVG+PNG), report.md, report.html, summary.csv into
/// `out_dir`. Returns every path written.
///
/// A chart that cannot be drawn does not stop the reports; it is named in
/// their warnings instead. Each file is written atomically.
pub fn write_reports(
    out_dir: &Path,
    results: &RunResults,
    analysis: &Analysis,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::CreateDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut warnings = analysis.summary.warnings.clone();
    let (files, chart_errors) = draw_charts(analysis, &out_dir.join(CHARTS_DIR));
    warnings.extend(chart_errors.iter().map(|e| format!("chart not drawn: {e}")));
    let charts = Charts {
        files,
        scenarios: analysis
            .summary
            .scenarios
            .iter()
            .map(|s| (s.scenario.clone(), s.slug.clone()))
            .collect(),
    };

    let mut written: Vec<PathBuf> = charts
        .files
        .iter()
        .flat_map(|c| [c.svg_path.clone(), c.png_path.clone()])
        .collect();
    let report = document::run_report(analysis, &charts, &warnings);
    let steps = csv::steps_document(results, &analysis.summary);
    let files = [
        ("report.md", render::markdown::render(&report)),
        ("report.html", render::html::render(&report)),
        ("summary.csv", render::csv::render(&steps)),
    ];
    for (name, text) in files {
        let path = out_dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Draws every scenario's charts; failures are collected, not fatal.
fn draw_charts(analysis: &Analysis, dir: &Path) -> (Vec<ChartFile>, Vec<PlotError>) {
    let summary = &analysis.summary;
    let palette = Palette::new(&summary.targets, &analysis.variants);
    let mut charts = Vec::new();
    let mut errors = Vec::new();
    for scenario in &summary.scenarios {
        let ctx = PlotContext {
            scenario,
            palette: &palette,
            model: analysis.scalability_of(&scenario.scenario),
        };
        for drawn in crate::plot::render_scenario(&ctx, dir) {
            match drawn {
                Ok(c) => charts.push(c),
                Err(e) => errors.push(e),
            }
        }
    }
    (charts, errors)
}
