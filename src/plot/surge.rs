//! Surge of one step per target: the offered rate and each target's
//! achieved rate per second (top panel), and each target's p99 per second
//! (bottom panel), on one time axis, with the surge's span shaded and each
//! target's recovery marked by a vertical line in its colour (the legend
//! says when it recovered, or that it did not). A thin dashed line per
//! target on the p99 panel is its back-to-baseline tolerance.
//!
//! Drawn for a scenario where some target's level has surge figures; the
//! step shown is the highest surge level every such target measured (each
//! target's highest when they share none), the repeat its timeline comes
//! from. Every figure is the analysis's (`LevelFigures::timeline` and
//! `timeline_surge`); a second without a successful request has no p99,
//! so the line breaks there.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::hover;
use super::{
    Axis, Chart, Coords, DrawError, FONT, Hovers, LINE_WIDTH, LegendEntry, PlotContext, REFERENCE,
    Swatch, TICK_PX, TIMELINE_SIZE, build_chart, draw_dashed, draw_err, draw_legend, draw_line,
    layout, runs,
};
use crate::analysis::summary::LevelFigures;
use crate::results::{SurgeSummary, TimelinePoint};
use crate::units;

/// Latency ratio (max / min) above which the p99 panel uses a log axis
/// (as the timeline chart does).
const WIDE_RANGE: f64 = 20.0;
/// Above this many points per line, markers would only add clutter.
const MAX_MARKED_POINTS: usize = 40;
/// The surge's span: a light band that leaves the grid and lines readable.
const BAND: RGBAColor = RGBAColor(0, 0, 0, 0.08);
/// Width of a recovery marker and of a tolerance line.
const MARKER_WIDTH: u32 = 2;
const TOLERANCE_WIDTH: u32 = 1;

/// One target's step: its figures and the surge figures of the repeat
/// its timeline shows.
struct Line<'a> {
    target: &'a str,
    level: &'a LevelFigures,
    surge: &'a SurgeSummary,
}

pub(crate) struct Surge<'a> {
    ctx: &'a PlotContext<'a>,
    /// The level every line shows, when they share one.
    common: Option<u64>,
    lines: Vec<Line<'a>>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<Surge<'a>> {
    let surged = |l: &LevelFigures| l.timeline_surge.is_some() && !l.timeline.is_empty();
    let targets: Vec<_> = ctx
        .scenario
        .targets
        .iter()
        .filter(|t| t.levels.iter().any(surged))
        .collect();
    let common = ctx
        .scenario
        .levels
        .iter()
        .rev()
        .copied()
        .find(|&level| targets.iter().all(|t| t.at(level).is_some_and(surged)));
    let lines: Vec<Line> = targets
        .iter()
        .filter_map(|t| {
            let level = match common {
                Some(level) => t.at(level),
                None => t.levels.iter().rev().find(|l| surged(l)),
            }?;
            Some(Line {
                target: &t.target,
                level,
                surge: level.timeline_surge.as_ref()?,
            })
        })
        .collect();
    (!lines.is_empty()).then_some(Surge { ctx, common, lines })
}

impl Surge<'_> {
    fn repeat(&self) -> String {
        let first = self.lines[0].level.timeline_repeat;
        if self.lines.iter().all(|l| l.level.timeline_repeat == first) {
            format!("repeat {first}")
        } else {
            "first repeat".to_string()
        }
    }
}

impl Chart for Surge<'_> {
    fn title(&self) -> String {
        format!(
            "{}: surge at {} req/s — offered, achieved and p99 per second ({})",
            self.ctx.scenario.scenario,
            units::rps(self.lines[0].surge.peak_rate),
            self.repeat()
        )
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

        let points = || self.lines.iter().flat_map(|l| l.level.timeline.iter());
        let t_max = points()
            .map(|p| p.t_s + p.width_s.max(1))
            .max()
            .unwrap_or(0);
        let x = Axis::linear(0.0, f64::from(t_max));
        let rate_max = points()
            .flat_map(|p| [offered_per_s(p), achieved_per_s(p)])
            .fold(0.0, f64::max);
        let y_rate = Axis::from_zero(rate_max);
        // The tolerance lines count in the range, so each stays in view.
        let p99s = || {
            points()
                .filter_map(|p| p.p99_us)
                .chain(self.lines.iter().filter_map(|l| l.surge.tolerance_p99_us))
                .filter(|v| *v > 0)
                .map(ms)
        };
        let p99_max = p99s().fold(0.0, f64::max);
        let p99_min = p99s().fold(f64::INFINITY, f64::min);
        let (y_p99, p99_desc) = if p99_max > WIDE_RANGE * p99_min {
            (Axis::log(p99_min, p99_max), "p99 latency (ms, log scale)")
        } else {
            (Axis::from_zero(p99_max), "p99 latency (ms)")
        };
        let mut rate_chart = build_chart(&top, &x, &y_rate, "", "req/s offered and achieved")?;
        let mut p99_chart = build_chart(
            &bottom,
            &x,
            &y_p99,
            "time since start of measurement (s)",
            p99_desc,
        )?;

        // The span first, under every line.
        let span = self.lines[0].surge;
        for (chart, y) in [(&mut rate_chart, &y_rate), (&mut p99_chart, &y_p99)] {
            draw_span(chart, y, span.start_s, span.end_s)?;
        }

        let mut legend = vec![LegendEntry::new("offered", REFERENCE, Swatch::Dashed)];
        let mut tolerance = false;
        for line in &self.lines {
            let color = self.ctx.palette.color(line.target);
            let timeline = &line.level.timeline;
            let marked = timeline.len() <= MAX_MARKED_POINTS;
            let name = match self.common {
                Some(_) => line.target.to_string(),
                None => format!("{} @ {}", line.target, line.level.level),
            };

            let achieved: Vec<(f64, f64)> = timeline
                .iter()
                .map(|p| (middle(p), achieved_per_s(p)))
                .collect();
            draw_line(&mut rate_chart, &achieved, color, marked)?;
            for (p, &at) in timeline.iter().zip(&achieved) {
                let title = format!(
                    "{name} · {}: {} req/s achieved, {} offered, backlog {}",
                    second(p),
                    units::rps(at.1),
                    units::rps(offered_per_s(p)),
                    units::group_thousands(p.backlog)
                );
                hover::add(hovers, &rate_chart, at, title);
            }

            if let Some(tol) = line.surge.tolerance_p99_us.filter(|v| *v > 0) {
                let y = y_p99.pos(ms(tol));
                let ends = [(x.range().start, y), (x.range().end, y)];
                draw_dashed(&mut p99_chart, &ends, color, TOLERANCE_WIDTH, false)?;
                tolerance = true;
            }
            let p99 = runs(
                timeline
                    .iter()
                    .map(|p| Some((middle(p), y_p99.pos(ms(p.p99_us.filter(|v| *v > 0)?))))),
            );
            for run in &p99 {
                draw_line(&mut p99_chart, run, color, marked)?;
            }
            for p in timeline {
                if let Some(v) = p.p99_us.filter(|v| *v > 0) {
                    let title = format!("{name} · {}: p99 {}", second(p), units::latency(v as f64));
                    hover::add(hovers, &p99_chart, (middle(p), y_p99.pos(ms(v))), title);
                }
            }

            legend.push(LegendEntry::new(name, color, Swatch::Line));
            match line.surge.recovery_s {
                Some(r) => {
                    let at = line.surge.end_s + r;
                    let label = format!("recovered after {} s", units::number(r));
                    for (chart, y) in [(&mut rate_chart, &y_rate), (&mut p99_chart, &y_p99)] {
                        draw_marker(chart, y, at, color)?;
                    }
                    let title = format!("{}: {label} (at {} s)", line.target, units::number(at));
                    hover::add(hovers, &p99_chart, (at, y_p99.range().end), title);
                    legend.push(LegendEntry::new(label, color, Swatch::Vertical));
                }
                None => legend.push(LegendEntry::new("did not recover", color, Swatch::Blank)),
            }
        }
        // The offered rate is the schedule's: drawn once, from the first
        // target (all targets were offered the same profile), over the
        // achieved lines, so a target that keeps up does not hide it.
        let offered: Vec<(f64, f64)> = self.lines[0]
            .level
            .timeline
            .iter()
            .map(|p| (middle(p), offered_per_s(p)))
            .collect();
        draw_dashed(&mut rate_chart, &offered, REFERENCE, LINE_WIDTH - 1, false)?;
        if tolerance {
            legend.push(LegendEntry::new(
                "p99 tolerance",
                REFERENCE,
                Swatch::ThinDashed,
            ));
        }
        draw_legend(&legend_area, &legend)
    }
}

/// The surge's span shaded over the whole height, "surge" at its top.
fn draw_span<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    y: &Axis,
    start_s: f64,
    end_s: f64,
) -> Result<(), DrawError> {
    let (lo, hi) = (y.range().start, y.range().end);
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(start_s, lo), (end_s, hi)],
            BAND.filled(),
        )))
        .map_err(draw_err)?;
    let style = (FONT, TICK_PX)
        .into_font()
        .color(&REFERENCE)
        .pos(Pos::new(HPos::Center, VPos::Top));
    chart
        .draw_series(std::iter::once(
            EmptyElement::at(((start_s + end_s) / 2.0, hi)) + Text::new("surge", (0, 6), style),
        ))
        .map_err(draw_err)?;
    Ok(())
}

/// A vertical line over the whole height at `t_s`.
fn draw_marker<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    y: &Axis,
    t_s: f64,
    color: RGBColor,
) -> Result<(), DrawError> {
    let r = y.range();
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(t_s, r.start), (t_s, r.end)],
            color.stroke_width(MARKER_WIDTH),
        )))
        .map_err(draw_err)?;
    Ok(())
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn width(p: &TimelinePoint) -> f64 {
    f64::from(p.width_s.max(1))
}

/// Each point covers [t, t + width); it is drawn at the middle.
fn middle(p: &TimelinePoint) -> f64 {
    f64::from(p.t_s) + width(p) / 2.0
}

/// "5–6 s": the seconds a point covers, for hover titles.
fn second(p: &TimelinePoint) -> String {
    format!("{}–{} s", p.t_s, p.t_s + p.width_s.max(1))
}

/// Requests scheduled per second within the point's bucket.
fn offered_per_s(p: &TimelinePoint) -> f64 {
    p.offered as f64 / width(p)
}

/// Completions per second within the point's bucket: the achieved rate.
fn achieved_per_s(p: &TimelinePoint) -> f64 {
    p.completed as f64 / width(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summarize;
    use crate::plot::Palette;
    use crate::results::{Model, Provenance, RunResults, StepRecord, SurgeOutcome};

    /// A surge step at `peak` req/s with a two-second timeline; `surge`:
    /// whether it has surge figures.
    fn step(target: &str, peak: u64, repeat: u32, surge: bool) -> StepRecord {
        let mut s = StepRecord::new(target, "spike", Model::Open, peak, repeat);
        s.timeline = (0..2)
            .map(|t| TimelinePoint {
                t_s: t,
                width_s: 1,
                requests: 100,
                offered: 100,
                completed: 100,
                backlog: 0,
                errors: 0,
                p50_us: Some(1_000),
                p99_us: Some(2_000),
            })
            .collect();
        s.summary.surge = surge.then_some(SurgeSummary {
            baseline_rate: 100.0,
            peak_rate: peak as f64,
            start_s: 1.0,
            end_s: 1.5,
            baseline_p99_us: Some(2_000),
            baseline_error_rate: 0.0,
            peak_p99_us: Some(3_000),
            surge_offered: 1000,
            surge_errors: 0,
            surge_error_rate: 0.0,
            peak_backlog: 0,
            tolerance_p99_us: Some(4_000),
            hold_s: 3.0,
            recovery_s: Some(0.0),
            outcome: SurgeOutcome::Stable,
        });
        s
    }

    /// The surge chart's title and (target, level) lines for `steps`, or
    /// None when it is not drawn.
    fn chart(steps: Vec<StepRecord>) -> Option<(String, Vec<(String, u64)>)> {
        let mut run = RunResults::new(Provenance::default());
        run.steps = steps;
        let s = summarize(&run);
        let palette = Palette::new(&s.targets, crate::variants::Variants::embedded());
        let ctx = PlotContext {
            scenario: &s.scenarios[0],
            palette: &palette,
            model: None,
        };
        let c = prepare(&ctx)?;
        let lines = c
            .lines
            .iter()
            .map(|l| (l.target.to_string(), l.level.level))
            .collect();
        Some((c.title(), lines))
    }

    #[test]
    fn the_highest_surge_level_every_surged_target_measured_is_shown() {
        let (title, lines) = chart(vec![
            step("node", 600, 0, true),
            step("node", 900, 0, true),
            step("django-sync", 600, 0, true),
            step("django-sync", 900, 0, false),
        ])
        .unwrap();
        assert_eq!(lines, [("node".into(), 600), ("django-sync".into(), 600)]);
        assert_eq!(
            title,
            "spike: surge at 600 req/s — offered, achieved and p99 per second (repeat 0)"
        );
        // No shared surge level: each target's highest, named with it.
        let (_, lines) = chart(vec![
            step("node", 900, 1, true),
            step("django-sync", 600, 1, true),
        ])
        .unwrap();
        assert_eq!(lines, [("node".into(), 900), ("django-sync".into(), 600)]);
    }

    #[test]
    fn no_chart_without_surge_figures() {
        assert!(chart(vec![step("node", 600, 0, false)]).is_none());
        // Surge figures without a timeline draw nothing either.
        let mut s = step("node", 600, 0, true);
        s.timeline.clear();
        assert!(chart(vec![s]).is_none());
    }
}
