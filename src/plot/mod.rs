//! Charts: one file per chart kind (throughput, latency, spectrum,
//! timeline, surge, per-core), each drawn once for SVG and once for PNG from the
//! figures of [`crate::analysis::summary`]. Size, palette and font live here,
//! in one place, as do the shared layout, legend and line helpers; axes and
//! their ticks are in `axis.rs`.
//!
//! The font (DejaVu Sans) is compiled in and registered with plotters'
//! `ab_glyph` support, so no system font library is needed; PNG text is
//! rasterized by `glyphs.rs`. This module writes only the chart files; the
//! reports that link them are `report`'s.
//!
//! A level (or second) without a successful request has no percentile: the
//! latency lines break there instead of bridging it (never a point at 0),
//! and the latency chart marks such levels with a cross on its floor.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::scalability::ScenarioScalability;
use crate::analysis::summary::{LevelFigures, ScenarioSummary};
use crate::results::{Model, ResultsError, write_atomic};
use crate::variants::Variants;

mod axis;
mod glyphs;
mod hover;
mod latency;
mod per_core;
mod spectrum;
mod surge;
mod throughput;
mod timeline;
pub mod trend;

pub(crate) use axis::{Axis, Coords};
pub(crate) use hover::Hovers;

/// Pixel size of every chart (PNG and SVG), except the two-panel timeline.
pub const SIZE: (u32, u32) = (1280, 720);
/// The timeline and surge charts stack two panels, so they are taller.
pub const TIMELINE_SIZE: (u32, u32) = (1280, 900);
/// Family name the embedded font is registered under.
pub const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const TITLE_PX: u32 = 28;
/// Height of the band above the plot that holds the title.
const TITLE_HEIGHT: u32 = 56;
const AXIS_DESC_PX: u32 = 22;
const TICK_PX: u32 = 19;
const LEGEND_PX: u32 = 19;
/// Width of the legend column right of the plot, so it never covers data.
const LEGEND_WIDTH: u32 = 270;
const MARGIN: u32 = 24;
const X_LABEL_AREA: u32 = 66;
const Y_LABEL_AREA: u32 = 110;
const LINE_WIDTH: u32 = 3;
const MARKER_RADIUS: u32 = 6;
/// Ring around a flagged point: wider than a marker, in a colour no target has.
const FLAG_RING_RADIUS: u32 = 12;
const FLAG_RING: RGBColor = RGBColor(0, 0, 0);
const GRID: RGBColor = RGBColor(225, 225, 225);
const REFERENCE: RGBColor = RGBColor(120, 120, 120);
/// Legend names longer than this are shortened with an ellipsis.
const LEGEND_MAX_CHARS: usize = 20;

/// Okabe–Ito colours (safe for colour-blind readers). The four reference
/// targets always get the same colour: Node variants green/blue, Django
/// variants vermillion/orange.
/// Other targets, in order of appearance.
const EXTRA_COLORS: [RGBColor; 5] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(68, 68, 68),    // dark grey
    RGBColor(140, 86, 75),   // brown
    RGBColor(148, 103, 189), // purple
];

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("drawing {chart}: {message}")]
    Draw { chart: String, message: String },
    #[error(transparent)]
    Write(#[from] ResultsError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Drawing errors inside a chart, before the chart's name is known.
#[derive(Debug)]
pub(crate) struct DrawError(String);

pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> DrawError {
    DrawError(e.to_string())
}

/// The kinds of chart, one source file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Throughput,
    Latency,
    Spectrum,
    Timeline,
    Surge,
    PerCore,
}

impl ChartKind {
    pub const ALL: [ChartKind; 6] = [
        ChartKind::Throughput,
        ChartKind::Latency,
        ChartKind::Spectrum,
        ChartKind::Timeline,
        ChartKind::Surge,
        ChartKind::PerCore,
    ];

    /// File-name part: charts/<scenario>-<slug>.svg
    pub fn slug(self) -> &'static str {
        match self {
            ChartKind::Throughput => "throughput",
            ChartKind::Latency => "latency",
            ChartKind::Spectrum => "spectrum",
            ChartKind::Timeline => "timeline",
            ChartKind::Surge => "surge",
            ChartKind::PerCore => "per-core",
        }
    }
}

/// A chart written to disk.
#[derive(Debug, Clone)]
pub struct ChartFile {
    pub kind: ChartKind,
    /// Slug of the scenario the chart belongs to.
    pub scenario: String,
    pub title: String,
    pub svg_path: PathBuf,
    pub png_path: PathBuf,
    /// The SVG document, for inlining into HTML.
    pub svg: String,
}

/// Stable colour per target: a variant's colour from targets.toml
/// ([`crate::variants`]), by order of appearance for the others.
#[derive(Debug, Clone)]
pub struct Palette {
    colors: Vec<(String, RGBColor)>,
}

impl Palette {
    pub fn new(targets: &[String], variants: &Variants) -> Self {
        let mut extra = 0;
        let colors = targets
            .iter()
            .map(|t| {
                let color = match variants.color(t) {
                    Some((r, g, b)) => RGBColor(r, g, b),
                    None => {
                        let c = EXTRA_COLORS[extra % EXTRA_COLORS.len()];
                        extra += 1;
                        c
                    }
                };
                (t.clone(), color)
            })
            .collect();
        Palette { colors }
    }

    pub fn color(&self, target: &str) -> RGBColor {
        self.colors
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, c)| *c)
            .unwrap_or(EXTRA_COLORS[2])
    }
}

/// What every chart of a scenario draws from.
pub struct PlotContext<'a> {
    pub scenario: &'a ScenarioSummary,
    pub palette: &'a Palette,
    /// The scenario's scalability models (closed model only): the
    /// throughput chart draws each fitted curve.
    pub model: Option<&'a ScenarioScalability>,
}

impl PlotContext<'_> {
    /// "json — closed model"
    fn heading(&self) -> String {
        self.scenario.heading()
    }

    /// What the level axis shows, with "(log scale)" when `axis` is one
    /// (levels spanning more than a decade, see [`Axis::levels`]).
    fn level_axis_desc(&self, axis: &Axis) -> String {
        let what = match self.scenario.model {
            Model::Closed => "connections (concurrent clients)",
            Model::Open => "offered load (req/s)",
            Model::Fanout => "subscribers (WebSocket connections)",
        };
        if axis.is_log() {
            format!("{what} (log scale)")
        } else {
            what.to_string()
        }
    }
}

/// A chart kind, drawn the same way on any backend.
pub(crate) trait Chart {
    fn title(&self) -> String;
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    /// Draws the chart on `root`, adding a hover title per data point to
    /// `hovers` (charts without point values add none).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &mut Hovers,
    ) -> Result<(), DrawError>;
}

/// Draws every chart that applies to the scenario into `charts_dir`
/// (SVG and PNG each), one result per chart, so one failed chart does not
/// cost the others. Charts without data (no server samples, no timeline,
/// no surge) are skipped.
pub fn render_scenario(ctx: &PlotContext, charts_dir: &Path) -> Vec<Result<ChartFile, PlotError>> {
    if let Err(e) = register_font() {
        return vec![Err(e)];
    }
    if let Err(source) = std::fs::create_dir_all(charts_dir) {
        return vec![Err(PlotError::Io {
            path: charts_dir.to_path_buf(),
            source,
        })];
    }
    ChartKind::ALL
        .into_iter()
        .filter_map(|kind| match kind {
            ChartKind::Throughput => {
                throughput::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir))
            }
            ChartKind::Latency => latency::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir)),
            ChartKind::Spectrum => {
                spectrum::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir))
            }
            ChartKind::Timeline => {
                timeline::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir))
            }
            ChartKind::Surge => surge::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir)),
            ChartKind::PerCore => per_core::prepare(ctx).map(|c| render(&c, kind, ctx, charts_dir)),
        })
        .collect()
}

fn render<C: Chart>(
    chart: &C,
    kind: ChartKind,
    ctx: &PlotContext,
    dir: &Path,
) -> Result<ChartFile, PlotError> {
    let stem = format!("{}-{}", ctx.scenario.slug, kind.slug());
    let (svg, svg_path, png_path) = write_chart(chart, &stem, dir)?;
    Ok(ChartFile {
        kind,
        scenario: ctx.scenario.slug.clone(),
        title: chart.title(),
        svg_path,
        png_path,
        svg,
    })
}

/// Draws `chart` into `dir` as `<stem>.svg` and `<stem>.png`; returns the
/// SVG document and both paths.
pub(crate) fn write_chart<C: Chart>(
    chart: &C,
    stem: &str,
    dir: &Path,
) -> Result<(String, PathBuf, PathBuf), PlotError> {
    let failed = |e: DrawError| PlotError::Draw {
        chart: stem.to_string(),
        message: e.0,
    };
    let size = chart.size();

    let mut svg = String::new();
    let mut hovers = Hovers::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root, &mut hovers).map_err(failed)?;
        root.present().map_err(|e| failed(draw_err(e)))?;
    }
    hover::insert(&mut svg, &hovers);
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, svg.as_bytes())?;

    // The bitmap encoder picks the format from the extension, so the
    // temporary file (renamed over the target once complete) ends in .png.
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp{}.png", std::process::id()));
    {
        let backend = glyphs::TextRaster::new(BitMapBackend::new(&tmp, size), FONT_BYTES)
            .ok_or(PlotError::Font)?;
        let root = backend.into_drawing_area();
        // A bitmap has no hover: the titles are the SVG's only.
        chart.draw(&root, &mut Hovers::new()).map_err(failed)?;
        root.present().map_err(|e| failed(draw_err(e)))?;
    }
    std::fs::rename(&tmp, &png_path).map_err(|source| PlotError::Io {
        path: png_path.clone(),
        source,
    })?;
    Ok((svg, svg_path, png_path))
}

/// Registers the embedded font once per process.
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// A region of a chart in pixel coordinates.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// White background, the title on top, then (plot, legend): the plot on the
/// left and a legend column on the right.
pub(crate) fn layout<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
) -> Result<(Area<DB>, Area<DB>), DrawError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
    let (w, h) = title_area.dim_in_pixel();
    let style = (FONT, TITLE_PX)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    title_area
        .draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, h as i32 / 2 + 4),
            style,
        ))
        .map_err(draw_err)?;
    let (w, _) = body.dim_in_pixel();
    Ok(body.split_horizontally(w.saturating_sub(LEGEND_WIDTH)))
}

/// A chart with mesh, tick labels and axis descriptions drawn.
pub(crate) fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Coords>, DrawError> {
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_right(MARGIN / 2)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.coord(), y.coord())
        .map_err(draw_err)?;
    let x_label = |p: &f64| x.label(*p);
    let y_label = |p: &f64| y.label(*p);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FONT, TICK_PX))
        .axis_desc_style((FONT, AXIS_DESC_PX))
        .bold_line_style(GRID)
        .axis_style(BLACK)
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// How a legend entry's swatch looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Swatch {
    /// Solid line with a filled marker (a target).
    Line,
    /// Dashed line (a secondary series such as p50 or a reference line).
    Dashed,
    /// Vertical bar of an error bar.
    Bar,
    /// Hollow ring (a flagged point).
    Ring,
    /// A cross (a level without a successful request).
    Cross,
    /// Short vertical line (a moment marked across the plot).
    Vertical,
    /// Thin dashed line (a threshold).
    ThinDashed,
    /// No swatch: a line of text that qualifies the entry above it.
    Blank,
}

pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub swatch: Swatch,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> Self {
        LegendEntry {
            label: label.into(),
            color,
            swatch,
        }
    }
}

/// Draws the legend in its own column, top-aligned with the plot.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), DrawError> {
    let row = (LEGEND_PX as i32 * 17) / 10;
    let text = (FONT, LEGEND_PX)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = MARGIN as i32 + row / 2;
    for e in entries {
        let style = e.color.stroke_width(LINE_WIDTH);
        match e.swatch {
            Swatch::Line => {
                area.draw(&PathElement::new(vec![(8, y), (52, y)], style))
                    .map_err(draw_err)?;
                area.draw(&Circle::new((30, y), MARKER_RADIUS, e.color.filled()))
                    .map_err(draw_err)?;
            }
            Swatch::Dashed => {
                for x0 in [8, 26, 44] {
                    area.draw(&PathElement::new(vec![(x0, y), (x0 + 10, y)], style))
                        .map_err(draw_err)?;
                }
            }
            Swatch::Vertical => {
                area.draw(&PathElement::new(
                    vec![(30, y - 10), (30, y + 10)],
                    e.color.stroke_width(2),
                ))
                .map_err(draw_err)?;
            }
            Swatch::ThinDashed => {
                for x0 in [8, 26, 44] {
                    area.draw(&PathElement::new(
                        vec![(x0, y), (x0 + 10, y)],
                        e.color.stroke_width(1),
                    ))
                    .map_err(draw_err)?;
                }
            }
            Swatch::Blank => {}
            Swatch::Cross => {
                area.draw(&Cross::new(
                    (30, y),
                    MARKER_RADIUS + 2,
                    e.color.stroke_width(3),
                ))
                .map_err(draw_err)?;
            }
            Swatch::Ring => {
                area.draw(&Circle::new(
                    (30, y),
                    FLAG_RING_RADIUS,
                    e.color.stroke_width(2),
                ))
                .map_err(draw_err)?;
            }
            Swatch::Bar => {
                let s = e.color.stroke_width(2);
                area.draw(&PathElement::new(vec![(30, y - 10), (30, y + 10)], s))
                    .map_err(draw_err)?;
                for yy in [y - 10, y + 10] {
                    area.draw(&PathElement::new(vec![(24, yy), (36, yy)], s))
                        .map_err(draw_err)?;
                }
            }
        }
        area.draw(&Text::new(shorten(&e.label), (62, y), text.clone()))
            .map_err(draw_err)?;
        y += row;
    }
    Ok(())
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LEGEND_MAX_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LEGEND_MAX_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// Line with a filled marker at each point.
pub(crate) fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    points: &[(f64, f64)],
    color: RGBColor,
    markers: bool,
) -> Result<(), DrawError> {
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(LINE_WIDTH),
        ))
        .map_err(draw_err)?;
    if markers {
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, MARKER_RADIUS, color.filled())),
            )
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Splits a series at its gaps (None), so a line never bridges a level or a
/// second that has no figure.
pub(crate) fn runs(points: impl IntoIterator<Item = Option<(f64, f64)>>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in points {
        match p {
            Some(p) => {
                if let Some(last) = out.last_mut() {
                    last.push(p);
                }
            }
            None => {
                if out.last().is_some_and(|r| !r.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Crosses on the plot's floor at levels without a latency a verdict may
/// use: no successful request, or more than 1% of the requests failed.
pub(crate) fn draw_no_success<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    points: &[(f64, f64)],
    color: RGBColor,
) -> Result<(), DrawError> {
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Cross::new(p, MARKER_RADIUS + 2, color.stroke_width(3))),
        )
        .map_err(draw_err)?;
    Ok(())
}

/// The legend entry of [`draw_no_success`].
pub(crate) fn no_success_legend() -> LegendEntry {
    LegendEntry::new("over 1% failed", REFERENCE, Swatch::Cross)
}

/// Rings around points whose level includes a step no verdict may rest
/// on (flagged interrupted or generator_saturated).
pub(crate) fn draw_flag_rings<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    points: &[(f64, f64)],
) -> Result<(), DrawError> {
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, FLAG_RING_RADIUS, FLAG_RING.stroke_width(2))),
        )
        .map_err(draw_err)?;
    Ok(())
}

/// The legend entry of [`draw_flag_rings`].
pub(crate) fn flag_ring_legend() -> LegendEntry {
    LegendEntry::new("flagged: no verdict", FLAG_RING, Swatch::Ring)
}

/// Dashed line, optionally with hollow markers.
pub(crate) fn draw_dashed<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    markers: bool,
) -> Result<(), DrawError> {
    chart
        .draw_series(DashedLineSeries::new(
            points.iter().copied(),
            10,
            7,
            color.stroke_width(width),
        ))
        .map_err(draw_err)?;
    if markers {
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, MARKER_RADIUS, color.stroke_width(2))),
            )
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Each target's figures at the highest level every target measured (each
/// target's own highest when they share none), for the charts that show
/// one level; targets whose figures `usable` rejects are left out.
pub(crate) fn figures_at_common_level<'a>(
    ctx: &'a PlotContext<'a>,
    usable: impl Fn(&LevelFigures) -> bool,
) -> (Option<u64>, Vec<(&'a str, &'a LevelFigures)>) {
    let common = ctx.scenario.common_level();
    let lines = ctx
        .scenario
        .targets
        .iter()
        .filter_map(|t| {
            let l = match common {
                Some(level) => t.at(level),
                None => t.levels.last(),
            }?;
            usable(l).then_some((t.target.as_str(), l))
        })
        .collect();
    (common, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_gaps() {
        let r = runs([
            Some((1.0, 1.0)),
            Some((2.0, 2.0)),
            None,
            None,
            Some((4.0, 4.0)),
            None,
        ]);
        assert_eq!(r, vec![vec![(1.0, 1.0), (2.0, 2.0)], vec![(4.0, 4.0)]]);
        assert!(runs([None, None]).is_empty());
    }

    #[test]
    fn palette_is_stable_per_target() {
        let v = Variants::embedded();
        let a = Palette::new(&["django-sync".into(), "x".into(), "node".into()], v);
        let b = Palette::new(&["node".into(), "x".into()], v);
        assert_eq!(a.color("node"), b.color("node"));
        // targets.toml's colour for node.
        assert_eq!(a.color("node"), RGBColor(0, 158, 115));
        assert_eq!(a.color("x"), EXTRA_COLORS[0]);
        assert_ne!(a.color("django-sync"), a.color("node"));
    }
}
