//! Timeline of one step per target: successful requests per second (top
//! panel) and p99 latency per second (bottom panel), to show warm-up,
//! stalls and drift. The step shown is the highest level every target
//! measured (each target's highest when they share none), lowest repeat.
//! A second without a successful request has no p99: the line breaks.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, Chart, DrawError, LINE_WIDTH, LegendEntry, PlotContext, REFERENCE, Swatch, TIMELINE_SIZE,
    build_chart, draw_dashed, draw_legend, draw_line, layout, runs,
};
use crate::analysis::summary::LevelFigures;
use crate::results::TimelinePoint;

/// Latency ratio (max / min) above which the p99 panel uses a log axis.
const WIDE_RANGE: f64 = 20.0;
/// Above this many points per line, markers would only add clutter.
const MAX_MARKED_POINTS: usize = 40;

pub(crate) struct Timeline<'a> {
    ctx: &'a PlotContext<'a>,
    common: Option<u64>,
    lines: Vec<(&'a str, &'a LevelFigures)>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<Timeline<'a>> {
    let (common, lines) = super::figures_at_common_level(ctx, |l| !l.timeline.is_empty());
    (!lines.is_empty()).then_some(Timeline { ctx, common, lines })
}

impl Chart for Timeline<'_> {
    fn title(&self) -> String {
        let sc = self.ctx.scenario;
        let repeats: Vec<u32> = self.lines.iter().map(|(_, l)| l.timeline_repeat).collect();
        let repeat = if repeats.iter().all(|r| *r == repeats[0]) {
            format!("repeat {}", repeats[0])
        } else {
            "first repeat".to_string()
        };
        match self.common {
            Some(level) => format!(
                "{}: per-second timeline at {level} {} ({repeat})",
                self.ctx.heading(),
                sc.model.level_label()
            ),
            None => format!(
                "{}: per-second timeline at each target's highest level ({repeat})",
                self.ctx.heading()
            ),
        }
    }

    fn size(&self) -> (u32, u32) {
        TIMELINE_SIZE
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _hovers: &mut super::Hovers,
    ) -> Result<(), DrawError> {
        let (plot, legend_area) = layout(root, &self.title())?;
        let (_, h) = plot.dim_in_pixel();
        let (top, bottom) = plot.split_vertically(h / 2);

        let t_max = self
            .lines
            .iter()
            .flat_map(|(_, l)| l.timeline.iter().map(|p| p.t_s + p.width_s.max(1)))
            .max()
            .unwrap_or(0);
        let x = Axis::linear(0.0, f64::from(t_max));
        let rps_max = self
            .lines
            .iter()
            .flat_map(|(_, l)| {
                l.timeline.iter().flat_map(|p| {
                    let width = f64::from(p.width_s.max(1));
                    [successful_per_s(p), p.errors as f64 / width]
                })
            })
            .fold(0.0, f64::max);
        let p99s = || {
            self.lines
                .iter()
                .flat_map(|(_, l)| l.timeline.iter().filter_map(|p| p.p99_us))
                .map(|v| v as f64 / 1000.0)
        };
        let p99_max = p99s().fold(0.0, f64::max);
        let p99_min = p99s().fold(f64::INFINITY, f64::min);
        let y_rps = Axis::from_zero(rps_max);
        // Targets an order of magnitude apart would flatten the faster ones
        // on a linear axis.
        let (y_p99, p99_desc) = if p99_max > WIDE_RANGE * p99_min {
            (Axis::log(p99_min, p99_max), "p99 latency (ms, log scale)")
        } else {
            (Axis::from_zero(p99_max), "p99 latency (ms)")
        };
        let time_desc = "time since start of measurement (s)";
        let has_errors = self
            .lines
            .iter()
            .any(|(_, l)| l.timeline.iter().any(|p| p.errors > 0));
        let rps_desc = if has_errors {
            "successful req/s (errors/s dashed)"
        } else {
            "successful req/s"
        };
        let mut rps_chart = build_chart(&top, &x, &y_rps, "", rps_desc)?;
        let mut p99_chart = build_chart(&bottom, &x, &y_p99, time_desc, p99_desc)?;

        let mut legend = Vec::new();
        for (target, l) in &self.lines {
            let color = self.ctx.palette.color(target);
            let marked = l.timeline.len() <= MAX_MARKED_POINTS;
            let rps: Vec<(f64, f64)> = l
                .timeline
                .iter()
                .map(|p| (middle(p), successful_per_s(p)))
                .collect();
            let p99 = runs(
                l.timeline
                    .iter()
                    .map(|p| Some((middle(p), y_p99.pos(p.p99_us? as f64 / 1000.0)))),
            );
            draw_line(&mut rps_chart, &rps, color, marked)?;
            if l.timeline.iter().any(|p| p.errors > 0) {
                let errors: Vec<(f64, f64)> = l
                    .timeline
                    .iter()
                    .map(|p| (middle(p), p.errors as f64 / f64::from(p.width_s.max(1))))
                    .collect();
                draw_dashed(&mut rps_chart, &errors, color, LINE_WIDTH - 1, false)?;
            }
            for run in &p99 {
                draw_line(&mut p99_chart, run, color, marked)?;
            }
            let label = match self.common {
                Some(_) => target.to_string(),
                None => format!("{target} @ {}", l.level),
            };
            legend.push(LegendEntry::new(label, color, Swatch::Line));
        }
        if has_errors {
            legend.push(LegendEntry::new(
                "errors/s (dashed)",
                REFERENCE,
                Swatch::Dashed,
            ));
        }
        draw_legend(&legend_area, &legend)
    }
}

/// Each point covers [t, t + width); it is drawn at the middle.
fn middle(p: &TimelinePoint) -> f64 {
    f64::from(p.t_s) + f64::from(p.width_s.max(1)) / 2.0
}

/// Successful requests per second within the point's bucket.
fn successful_per_s(p: &TimelinePoint) -> f64 {
    p.requests.saturating_sub(p.errors) as f64 / f64::from(p.width_s.max(1))
}
