//! Charts: one file per chart kind (throughput, latency, spectrum,
//! timeline, per-core), each drawn once for SVG and once for PNG from the
//! figures of [`crate::report::summary`]. Size, palette and font live here,
//! in one place, as do the shared axis, layout and legend helpers.
//!
//! The font (DejaVu Sans) is compiled in and registered with plotters'
//! `ab_glyph` renderer, so no system font library is needed. This module
//! writes only the chart files; the reports that link them are `report`'s.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::summary::{KNOWN_TARGETS, ScenarioSummary, group_thousands};
use crate::results::{Model, ResultsError, write_atomic};

mod glyphs;
mod latency;
mod per_core;
mod spectrum;
mod throughput;
mod timeline;

/// Pixel size of every chart (PNG and SVG), except the two-panel timeline.
pub const SIZE: (u32, u32) = (1280, 720);
/// The timeline stacks two panels, so it is taller.
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
const GRID: RGBColor = RGBColor(225, 225, 225);
const REFERENCE: RGBColor = RGBColor(120, 120, 120);
/// Legend names longer than this are shortened with an ellipsis.
const LEGEND_MAX_CHARS: usize = 20;

/// Okabe–Ito colours (safe for colour-blind readers). The four reference
/// targets always get the same colour: Node variants green/blue, Django
/// variants vermillion/orange.
const KNOWN_COLORS: [RGBColor; 4] = [
    RGBColor(0, 158, 115),  // node: bluish green
    RGBColor(86, 180, 233), // node-cluster: sky blue
    RGBColor(213, 94, 0),   // django-sync: vermillion
    RGBColor(230, 159, 0),  // django-async: orange
];
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
    PerCore,
}

impl ChartKind {
    pub const ALL: [ChartKind; 5] = [
        ChartKind::Throughput,
        ChartKind::Latency,
        ChartKind::Spectrum,
        ChartKind::Timeline,
        ChartKind::PerCore,
    ];

    /// File-name part: charts/<scenario>-<slug>.svg
    pub fn slug(self) -> &'static str {
        match self {
            ChartKind::Throughput => "throughput",
            ChartKind::Latency => "latency",
            ChartKind::Spectrum => "spectrum",
            ChartKind::Timeline => "timeline",
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

/// Stable colour per target: fixed for the reference targets, by order of
/// appearance for the others.
#[derive(Debug, Clone)]
pub struct Palette {
    colors: Vec<(String, RGBColor)>,
}

impl Palette {
    pub fn new(targets: &[String]) -> Self {
        let mut extra = 0;
        let colors = targets
            .iter()
            .map(|t| {
                let color = match KNOWN_TARGETS.iter().position(|k| k == t) {
                    Some(i) => KNOWN_COLORS[i],
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
}

impl PlotContext<'_> {
    /// "json — closed model"
    fn heading(&self) -> String {
        self.scenario.heading()
    }

    fn level_axis_desc(&self) -> &'static str {
        match self.scenario.model {
            Model::Closed => "connections (concurrent clients)",
            Model::Open => "offered load (req/s)",
        }
    }
}

/// A chart kind, drawn the same way on any backend.
pub(crate) trait Chart {
    fn title(&self) -> String;
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>;
}

/// Draws every chart that applies to the scenario into `charts_dir`
/// (SVG and PNG each), one result per chart, so one failed chart does not
/// cost the others. Charts without data (no server samples, no timeline)
/// are skipped.
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
    let failed = |e: DrawError| PlotError::Draw {
        chart: stem.clone(),
        message: e.0,
    };
    let size = chart.size();

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root).map_err(failed)?;
        root.present().map_err(|e| failed(draw_err(e)))?;
    }
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
        chart.draw(&root).map_err(failed)?;
        root.present().map_err(|e| failed(draw_err(e)))?;
    }
    std::fs::rename(&tmp, &png_path).map_err(|source| PlotError::Io {
        path: png_path.clone(),
        source,
    })?;

    Ok(ChartFile {
        kind,
        scenario: ctx.scenario.slug.clone(),
        title: chart.title(),
        svg_path,
        png_path,
        svg,
    })
}

/// Registers the embedded font once per process.
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// How an axis maps data values to positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scale {
    Linear,
    Log10,
    /// Quantiles drawn at -log10(1 - q): 90% → 1, 99% → 2, 99.9% → 3.
    Nines,
}

/// An axis in data units; charts plot `pos(value)` on a linear f64 axis, so
/// every chart has one coordinate type whatever its scales.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Axis {
    /// Linear from 0 to a little above `max`, with 1-2-5 ticks.
    pub fn from_zero(max: f64) -> Axis {
        let hi = if max.is_finite() && max > 0.0 {
            max * 1.1
        } else {
            1.0
        };
        let step = nice_step(hi / 8.0);
        let ticks = (0..)
            .map(|i| i as f64 * step)
            .take_while(|t| *t <= hi + step * 1e-9)
            .collect();
        Axis {
            scale: Scale::Linear,
            lo: 0.0,
            hi,
            ticks,
        }
    }

    /// Linear from `lo` to `hi` exactly, with 1-2-5 ticks.
    pub fn linear(lo: f64, hi: f64) -> Axis {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let step = nice_step((hi - lo) / 6.0);
        let first = (lo / step).ceil() as i64;
        let ticks = (first..)
            .map(|i| i as f64 * step)
            .take_while(|t| *t <= hi + step * 1e-9)
            .collect();
        Axis {
            scale: Scale::Linear,
            lo,
            hi,
            ticks,
        }
    }

    /// Log10 axis covering `min..max` (positive), at least one decade wide,
    /// with ticks at 1, 2 and 5 times powers of ten.
    pub fn log(min: f64, max: f64) -> Axis {
        let min = if min.is_finite() && min > 0.0 {
            min
        } else {
            1e-3
        };
        let max = if max.is_finite() && max >= min {
            max
        } else {
            min
        };
        let (mut lo, mut hi) = (min / 1.3, max * 1.3);
        if hi / lo < 10.0 {
            let center = (lo * hi).sqrt();
            lo = center / 10f64.sqrt();
            hi = center * 10f64.sqrt();
        }
        let mut ticks = Vec::new();
        let first = lo.log10().floor() as i32;
        let last = hi.log10().ceil() as i32;
        for e in first..=last {
            for d in [1.0, 2.0, 5.0] {
                let v = d * 10f64.powi(e);
                if v >= lo && v <= hi {
                    ticks.push(v);
                }
            }
        }
        if ticks.len() > 12 {
            ticks.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
        }
        Axis {
            scale: Scale::Log10,
            lo,
            hi,
            ticks,
        }
    }

    /// An axis of measured levels with a tick at each: log when the levels
    /// span a wide, geometric-looking range, linear otherwise.
    pub fn levels(levels: &[u64]) -> Axis {
        let min = levels.iter().copied().min().unwrap_or(1) as f64;
        let max = levels.iter().copied().max().unwrap_or(1) as f64;
        let mut ticks: Vec<f64> = levels.iter().map(|&l| l as f64).collect();
        // Thin the ticks so their labels cannot run into each other.
        while ticks.len() > 14 {
            ticks = ticks.iter().step_by(2).copied().collect();
        }
        if min > 0.0 && max / min >= 8.0 {
            Axis {
                scale: Scale::Log10,
                lo: min / 1.4,
                hi: max * 1.4,
                ticks,
            }
        } else if max <= min {
            // A single level: centre the point.
            let (lo, hi) = if max > 0.0 {
                (max * 0.5, max * 1.5)
            } else {
                (-1.0, 1.0)
            };
            Axis {
                scale: Scale::Linear,
                lo,
                hi,
                ticks,
            }
        } else {
            Axis {
                scale: Scale::Linear,
                lo: 0.0,
                hi: max * 1.08,
                ticks,
            }
        }
    }

    /// Quantile axis from 0 up to `max_nines` (2 = 99%, 4 = 99.99%).
    pub fn nines(max_nines: f64) -> Axis {
        let ticks = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999]
            .into_iter()
            .filter(|&q| nines(q) <= max_nines + 1e-9)
            .collect();
        Axis {
            scale: Scale::Nines,
            lo: 0.0,
            hi: 1.0 - 10f64.powf(-max_nines),
            ticks,
        }
    }

    /// Position of a data value on the drawn (linear) axis.
    pub fn pos(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
            Scale::Nines => nines(v),
        }
    }

    fn range(&self) -> Range<f64> {
        self.pos(self.lo)..self.pos(self.hi)
    }

    fn key_points(&self) -> Vec<f64> {
        let r = self.range();
        self.ticks
            .iter()
            .map(|&t| self.pos(t))
            .filter(|p| *p >= r.start - 1e-9 && *p <= r.end + 1e-9)
            .collect()
    }

    /// Tick label for a drawn position.
    fn label(&self, p: f64) -> String {
        match self.scale {
            Scale::Linear => format_tick(p),
            Scale::Log10 => format_tick(10f64.powf(p)),
            Scale::Nines => {
                let q = 1.0 - 10f64.powf(-p);
                let decimals = (p.round() as i32 - 2).max(0) as usize;
                format!("{:.*}%", decimals, q * 100.0)
            }
        }
    }
}

/// -log10(1 - q), the "number of nines" of a quantile.
fn nines(q: f64) -> f64 {
    -(1.0 - q.min(1.0 - 1e-12)).log10()
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Short, exact-looking tick labels: 0.005, 0.2, 12.5, 64, 12 000.
pub(crate) fn format_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.abs() < 1e-12 {
        return "0".into();
    }
    if v.abs() >= 1000.0 {
        return group_thousands(v.abs().round() as u64);
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{:.*}", decimals, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub(crate) type Coords = Cartesian2d<AxisCoord, AxisCoord>;

/// A linear f64 coordinate whose ticks are exactly an [`Axis`]'s ticks.
/// (plotters' `WithKeyPoints` over f64 has no label formatter support.)
pub(crate) struct AxisCoord {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for AxisCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span == 0.0 || !v.is_finite() {
            return (limit.0 + limit.1) / 2;
        }
        let frac = (v - self.range.start) / span;
        limit.0 + ((limit.1 - limit.0) as f64 * frac).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold (labelled) grid lines: light ones would add clutter.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

impl Axis {
    fn coord(&self) -> AxisCoord {
        AxisCoord {
            range: self.range(),
            ticks: self.key_points(),
        }
    }
}

/// White background, the title on top, the plot on the left and a legend
/// column on the right.
pub(crate) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>), DrawError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_axis_is_log_for_geometric_levels() {
        let a = Axis::levels(&[1, 8, 64, 256]);
        assert_eq!(a.scale, Scale::Log10);
        assert_eq!(a.key_points().len(), 4);
        assert_eq!(a.label(a.pos(64.0)), "64");
        let b = Axis::levels(&[100, 200, 300]);
        assert_eq!(b.scale, Scale::Linear);
        let single = Axis::levels(&[64]);
        assert!(single.range().start < 64.0 && single.range().end > 64.0);
    }

    #[test]
    fn log_axis_spans_a_decade_with_125_ticks() {
        let a = Axis::log(1.2, 1.5);
        let r = a.range();
        assert!(r.end - r.start >= 1.0 - 1e-9);
        assert!(!a.key_points().is_empty());
        let b = Axis::log(0.3, 40.0);
        let labels: Vec<String> = b.key_points().iter().map(|p| b.label(*p)).collect();
        assert_eq!(labels, ["0.5", "1", "2", "5", "10", "20", "50"]);
    }

    #[test]
    fn nines_axis_labels() {
        let a = Axis::nines(4.0);
        let labels: Vec<String> = a.key_points().iter().map(|p| a.label(*p)).collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
    }

    #[test]
    fn ticks_and_steps() {
        assert_eq!(format_tick(12_000.0), "12 000");
        assert_eq!(format_tick(0.2), "0.2");
        assert_eq!(format_tick(12.5), "12.5");
        assert_eq!(format_tick(0.0005), "0.0005");
        assert_eq!(nice_step(130.0), 200.0);
        assert_eq!(nice_step(0.04), 0.05);
        let z = Axis::from_zero(950.0);
        assert_eq!(z.ticks.first(), Some(&0.0));
        assert!(z.ticks.len() >= 4 && z.ticks.len() <= 12);
    }

    #[test]
    fn palette_is_stable_per_target() {
        let a = Palette::new(&["django-sync".into(), "x".into(), "node".into()]);
        let b = Palette::new(&["node".into(), "x".into()]);
        assert_eq!(a.color("node"), b.color("node"));
        assert_eq!(a.color("node"), KNOWN_COLORS[0]);
        assert_eq!(a.color("x"), EXTRA_COLORS[0]);
        assert_ne!(a.color("django-sync"), a.color("node"));
    }
}
