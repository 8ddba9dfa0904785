//! Reports of a run: `report.md`, a self-contained `report.html`,
//! `summary.csv` and the charts (SVG + PNG) they show, all built from
//! [`RunResults`] alone so `bakeoff report` can regenerate them at any time.
//!
//! Each output format is an [`Exporter`] (one file per format); the figures
//! they share are computed once in [`summary`], the charts are drawn by
//! [`crate::plot`]. This module does not judge claims: verdict and capacity
//! tables arrive ready-made as Markdown [`Section`]s.

use std::path::{Path, PathBuf};

use crate::plot::{ChartFile, ChartKind, Palette, PlotContext, PlotError};
use crate::results::{ResultsError, RunResults, write_atomic};

mod csv;
pub mod doc;
pub mod format;
mod html;
mod markdown;
mod markup;
pub mod render;
pub mod summary;

pub use csv::CsvExporter;
pub use html::HtmlExporter;
pub use markdown::MarkdownExporter;
pub use summary::{RunSummary, summarize};

/// Sub-directory of the output directory that holds the charts.
pub const CHARTS_DIR: &str = "charts";

/// A section contributed to the reports by another module (verdicts,
/// headline charts, capacity), written in Markdown (headings, paragraphs,
/// pipe tables), optionally followed by charts of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    pub title: String,
    pub markdown: String,
    /// Charts to show after `markdown`, each with a caption. A chart that
    /// was not drawn is left out; a section whose every chart is left out
    /// (and that has charts to show) is left out entirely, so every image
    /// a report links exists.
    pub charts: Vec<ChartRef>,
}

/// A chart of one scenario, named by the scenario (as in `results.json`)
/// and the chart kind; the renderer links the PNG drawn for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRef {
    pub scenario: String,
    pub kind: ChartKind,
    /// Markdown shown above the chart.
    pub caption: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create the report directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] ResultsError),
    #[error("cannot format {file}: {message}")]
    Format { file: &'static str, message: String },
}

/// Everything an exporter may show.
pub struct Report<'a> {
    pub results: &'a RunResults,
    pub summary: &'a RunSummary,
    /// Charts that were drawn, in scenario order then [`crate::plot::ChartKind::ALL`] order.
    pub charts: &'a [ChartFile],
    /// Extra Markdown sections (verdicts, headline charts, capacity), shown
    /// first, right after the title.
    pub sections: &'a [Section],
    /// Problems that did not stop the report (undecodable histograms,
    /// charts that could not be drawn).
    pub warnings: &'a [String],
}

impl Report<'_> {
    /// The charts of one scenario (by its slug).
    pub fn charts_of<'b>(&'b self, slug: &'b str) -> impl Iterator<Item = &'b ChartFile> + 'b {
        self.charts.iter().filter(move |c| c.scenario == slug)
    }

    /// The drawn chart a [`ChartRef`] names (the first scenario of that
    /// name in the summary), if it was drawn.
    pub fn chart(&self, r: &ChartRef) -> Option<&ChartFile> {
        let sc = self
            .summary
            .scenarios
            .iter()
            .find(|sc| sc.scenario == r.scenario)?;
        self.charts_of(&sc.slug).find(|c| c.kind == r.kind)
    }
}

/// Relative link to a chart's PNG from the output directory: charts/x.png.
pub fn png_link(chart: &ChartFile) -> String {
    link(&chart.png_path)
}

fn link(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{CHARTS_DIR}/{name}")
}

/// One output format.
pub trait Exporter {
    /// File name inside the output directory.
    fn file_name(&self) -> &'static str;
    /// The complete file contents.
    fn export(&self, report: &Report) -> Result<Vec<u8>, ReportError>;
}

/// Every format `write_reports` writes.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(MarkdownExporter),
        Box::new(HtmlExporter),
        Box::new(CsvExporter),
    ]
}

/// Writes charts/ (SVG+PNG), report.md, report.html, summary.csv into
/// `out_dir`. `sections` are extra Markdown sections (verdicts, headline
/// charts, capacity) that open md and html, in order. Returns every path written.
///
/// A chart that cannot be drawn does not stop the reports; it is named in
/// their warnings instead. Each file is written atomically.
pub fn write_reports(
    out_dir: &Path,
    results: &RunResults,
    sections: &[Section],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::CreateDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let summary = summarize(results);
    let mut warnings = summary.warnings.clone();
    let (charts, chart_errors) = draw_charts(&summary, &out_dir.join(CHARTS_DIR));
    warnings.extend(chart_errors.iter().map(|e| format!("chart not drawn: {e}")));

    let mut written: Vec<PathBuf> = charts
        .iter()
        .flat_map(|c| [c.svg_path.clone(), c.png_path.clone()])
        .collect();
    let report = Report {
        results,
        summary: &summary,
        charts: &charts,
        sections,
        warnings: &warnings,
    };
    for exporter in exporters() {
        let bytes = exporter.export(&report)?;
        let path = out_dir.join(exporter.file_name());
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Draws every scenario's charts; failures are collected, not fatal.
fn draw_charts(summary: &RunSummary, dir: &Path) -> (Vec<ChartFile>, Vec<PlotError>) {
    let palette = Palette::new(&summary.targets);
    let mut charts = Vec::new();
    let mut errors = Vec::new();
    for scenario in &summary.scenarios {
        let ctx = PlotContext {
            scenario,
            palette: &palette,
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
