//! A scenario across runs ([`crate::trend`]): rps (top panel) and p99
//! (bottom panel) per target, the x axis the runs in trend order (1, 2,
//! …, named in the trend's table of runs). Each target's line is its
//! charted step ([`crate::trend::ScenarioTrend::charted`]); each point is
//! the median compare judged. A black ring marks a point whose step
//! compare flagged regressed against the previous run; a dashed red
//! vertical line marks every run at which any step of the scenario
//! regressed (levels not charted included). A failing p99 has no point: a
//! cross sits on the panel's floor.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, Chart, DrawError, FLAG_RING_RADIUS, Hovers, LegendEntry, Palette, PlotError, Swatch,
    TIMELINE_SIZE, build_chart, draw_err, draw_legend, draw_line, draw_no_success, hover, layout,
    no_success_legend, runs,
};
use crate::analysis::summary::slugify;
use crate::trend::{ScenarioTrend, StepTrend, Trend};
use crate::units;

/// p99s further apart than this (max / min) get a log axis.
const WIDE_RANGE: f64 = 20.0;
/// The colour of the regression marks: no target has it.
const REGRESSION: RGBColor = RGBColor(200, 0, 0);
const RING: RGBColor = RGBColor(0, 0, 0);

/// A trend chart written to disk.
#[derive(Debug, Clone)]
pub struct TrendChartFile {
    pub title: String,
    pub svg_path: PathBuf,
    pub png_path: PathBuf,
    /// The SVG document, for inlining into HTML.
    pub svg: String,
}

/// The file stem of a scenario's trend chart: `trend-<scenario>-<model>`.
pub fn stem(sc: &ScenarioTrend) -> String {
    format!("trend-{}-{}", slugify(&sc.scenario), sc.model.as_str())
}

/// Draws one chart per scenario of `trend` into `dir` (SVG and PNG),
/// one result per scenario, in the trend's scenario order.
pub fn render(
    trend: &Trend,
    palette: &Palette,
    dir: &Path,
) -> Vec<Result<TrendChartFile, PlotError>> {
    if let Err(e) = super::register_font() {
        return vec![Err(e)];
    }
    if let Err(source) = std::fs::create_dir_all(dir) {
        return vec![Err(PlotError::Io {
            path: dir.to_path_buf(),
            source,
        })];
    }
    trend
        .scenarios
        .iter()
        .map(|sc| {
            let chart = TrendChart {
                trend,
                scenario: sc,
                palette,
            };
            let (svg, svg_path, png_path) = super::write_chart(&chart, &stem(sc), dir)?;
            Ok(TrendChartFile {
                title: chart.title(),
                svg_path,
                png_path,
                svg,
            })
        })
        .collect()
}

struct TrendChart<'a> {
    trend: &'a Trend,
    scenario: &'a ScenarioTrend,
    palette: &'a Palette,
}

impl TrendChart<'_> {
    fn lines(&self) -> impl Iterator<Item = &StepTrend> {
        self.scenario.charted.iter().map(|&i| &self.trend.steps[i])
    }

    /// The level every line shows, when they share one.
    fn common_level(&self) -> Option<u64> {
        let mut levels = self.lines().map(|s| s.level);
        let first = levels.next()?;
        levels.all(|l| l == first).then_some(first)
    }
}

fn ms(us: f64) -> f64 {
    us / 1000.0
}

impl Chart for TrendChart<'_> {
    fn title(&self) -> String {
        let sc = self.scenario;
        match self.common_level() {
            Some(level) => format!(
                "{}: rps and p99 across runs at {level} {}",
                sc.heading(),
                sc.model.level_label()
            ),
            None => format!("{}: rps and p99 across runs", sc.heading()),
        }
    }

    fn size(&self) -> (u32, u32) {
        TIMELINE_SIZE
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &mut Hovers,
    ) -> Result<(), DrawError> {
        let (plot, legend_area) = layout(root, &self.title())?;
        let (_, h) = plot.dim_in_pixel();
        let (top, bottom) = plot.split_vertically(h / 2);
        let x = Axis::runs(self.trend.runs.len());
        let points = || self.lines().flat_map(|s| s.points.iter());
        let rps_max = points().map(|p| p.figures.rps).fold(0.0, f64::max);
        let p99s = || {
            points()
                .map(|p| p.figures.p99_us)
                .filter(|v| v.is_finite())
                .map(ms)
        };
        let p99_max = p99s().fold(0.0, f64::max);
        let p99_min = p99s().fold(f64::INFINITY, f64::min);
        let y_rps = Axis::from_zero(rps_max);
        let (y_p99, p99_desc) = if p99_min > 0.0 && p99_max > WIDE_RANGE * p99_min {
            (Axis::log(p99_min, p99_max), "p99 latency (ms, log scale)")
        } else {
            (Axis::from_zero(p99_max), "p99 latency (ms)")
        };
        let run_desc = "run (in the order given; see the table of runs)";
        let mut rps_chart = build_chart(&top, &x, &y_rps, "", "successful req/s")?;
        let mut p99_chart = build_chart(&bottom, &x, &y_p99, run_desc, p99_desc)?;

        // Runs at which any step of the scenario regressed: a dashed line
        // across both panels, drawn first so the data sits on top.
        for (chart, y) in [(&mut rps_chart, &y_rps), (&mut p99_chart, &y_p99)] {
            let r = y.range();
            for &run in &self.scenario.regressed_runs {
                let px = x.pos(run as f64);
                chart
                    .draw_series(DashedLineSeries::new(
                        [(px, r.start), (px, r.end)],
                        8,
                        6,
                        REGRESSION.stroke_width(2),
                    ))
                    .map_err(draw_err)?;
            }
        }

        let mut legend = Vec::new();
        let mut rings_rps = Vec::new();
        let mut rings_p99 = Vec::new();
        let mut any_failing = false;
        let common = self.common_level();
        let floor = y_p99.range().start;
        for s in self.lines() {
            let color = self.palette.color(&s.target);
            let rps: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (x.pos(p.run as f64), y_rps.pos(p.figures.rps)))
                .collect();
            draw_line(&mut rps_chart, &rps, color, true)?;
            let p99 = runs(s.points.iter().map(|p| {
                let v = p.figures.p99_us;
                v.is_finite()
                    .then(|| (x.pos(p.run as f64), y_p99.pos(ms(v))))
            }));
            for run in &p99 {
                draw_line(&mut p99_chart, run, color, true)?;
            }
            let failing: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| !p.figures.p99_us.is_finite())
                .map(|p| (x.pos(p.run as f64), floor))
                .collect();
            if !failing.is_empty() {
                draw_no_success(&mut p99_chart, &failing, color)?;
                any_failing = true;
            }
            for p in &s.points {
                let px = x.pos(p.run as f64);
                let regressed = p.verdict == Some(crate::compare::Verdict::Regressed);
                let at = format!("{} run {}", s.target, p.run);
                let why = if regressed {
                    format!("; regressed ({})", p.reasons.join(", "))
                } else {
                    String::new()
                };
                let rps_at = (px, y_rps.pos(p.figures.rps));
                let p99_at = if p.figures.p99_us.is_finite() {
                    (px, y_p99.pos(ms(p.figures.p99_us)))
                } else {
                    (px, floor)
                };
                hover::add(
                    hovers,
                    &rps_chart,
                    rps_at,
                    format!("{at}: {:.1} req/s{why}", p.figures.rps),
                );
                hover::add(
                    hovers,
                    &p99_chart,
                    p99_at,
                    format!("{at}: p99 {}{why}", units::latency(p.figures.p99_us)),
                );
                if regressed {
                    rings_rps.push(rps_at);
                    rings_p99.push(p99_at);
                }
            }
            let label = match common {
                Some(_) => s.target.clone(),
                None => format!("{} @ {}", s.target, s.level),
            };
            legend.push(LegendEntry::new(label, color, Swatch::Line));
        }
        for (chart, rings) in [(&mut rps_chart, &rings_rps), (&mut p99_chart, &rings_p99)] {
            chart
                .draw_series(
                    rings
                        .iter()
                        .map(|&p| Circle::new(p, FLAG_RING_RADIUS, RING.stroke_width(3))),
                )
                .map_err(draw_err)?;
        }
        if !rings_rps.is_empty() {
            legend.push(LegendEntry::new("regressed vs prev.", RING, Swatch::Ring));
        }
        if !self.scenario.regressed_runs.is_empty() {
            legend.push(LegendEntry::new(
                "a step regressed",
                REGRESSION,
                Swatch::Vertical,
            ));
        }
        if any_failing {
            legend.push(no_success_legend());
        }
        draw_legend(&legend_area, &legend)
    }
}
