//! Latency vs level: p99 (solid, filled markers) and p50 (dashed, hollow
//! markers) per target on a log millisecond axis. Each point is the
//! level's figure, the median of the repeats' percentiles
//! (`LevelFigures::latency_us`, the number the tables print). A black ring around a p99 point marks a
//! level that includes a step flagged interrupted or generator_saturated.
//! A level without a successful request, or whose median latency counts as
//! failing, has no point: the lines break there and a cross in the target's colour sits on the chart's floor.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::hover;
use crate::units;

use super::{
    Axis, Chart, DrawError, Hovers, LINE_WIDTH, LegendEntry, PlotContext, REFERENCE, Swatch,
    build_chart, draw_dashed, draw_flag_rings, draw_legend, draw_line, draw_no_success,
    flag_ring_legend, layout, no_success_legend, runs,
};

pub(crate) struct Latency<'a> {
    ctx: &'a PlotContext<'a>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<Latency<'a>> {
    let any = ctx
        .scenario
        .targets
        .iter()
        .any(|t| t.levels.iter().any(|l| l.latency_us.is_some()));
    any.then_some(Latency { ctx })
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Chart for Latency<'_> {
    fn title(&self) -> String {
        format!(
            "{}: latency vs {}",
            self.ctx.heading(),
            self.ctx.scenario.model.level_label()
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &mut Hovers,
    ) -> Result<(), DrawError> {
        let sc = self.ctx.scenario;
        let (plot, legend_area) = layout(root, &self.title())?;
        let x = Axis::levels(&sc.levels);
        let values = || {
            sc.targets.iter().flat_map(|t| {
                t.levels
                    .iter()
                    .filter_map(|l| l.latency_us)
                    .flat_map(|l| [l.p50, l.p99])
                    .map(ms)
            })
        };
        let lo = values().fold(f64::INFINITY, f64::min);
        let hi = values().fold(0.0, f64::max);
        let y = Axis::log(lo, hi);
        let mut chart = build_chart(
            &plot,
            &x,
            &y,
            &self.ctx.level_axis_desc(&x),
            "latency (ms, log scale)",
        )?;
        let mut legend = Vec::new();
        let mut flagged = Vec::new();
        let mut any_failed = false;
        let floor = y.range().start;
        for t in &sc.targets {
            let color = self.ctx.palette.color(&t.target);
            // One run of points per stretch of levels with a latency.
            let series = |pick: fn(&crate::results::LatencySummary) -> u64| {
                runs(t.levels.iter().map(|l| {
                    let v = pick(l.latency_us.as_ref()?);
                    Some((x.pos(l.level as f64), y.pos(ms(v))))
                }))
            };
            for run in series(|l| l.p99) {
                draw_line(&mut chart, &run, color, true)?;
            }
            flagged.extend(
                t.levels
                    .iter()
                    .filter(|l| l.disqualified())
                    .filter_map(|l| Some((x.pos(l.level as f64), y.pos(ms(l.latency_us?.p99))))),
            );
            for run in series(|l| l.p50) {
                draw_dashed(&mut chart, &run, color, LINE_WIDTH - 1, true)?;
            }
            for l in &t.levels {
                let at = hover::point(&t.target, sc.model, l.level);
                let px = x.pos(l.level as f64);
                match l.latency_us {
                    Some(lat) => {
                        for (name, v) in [("p99", lat.p99), ("p50", lat.p50)] {
                            let mut title = format!("{at}: {name} {}", units::latency(v as f64));
                            if name == "p99" && l.disqualified() {
                                title.push_str("; flagged: no verdict");
                            }
                            hover::add(hovers, &chart, (px, y.pos(ms(v))), title);
                        }
                    }
                    None => {
                        let why = l
                            .latency_failing
                            .clone()
                            .unwrap_or_else(|| "no successful request".into());
                        hover::add(hovers, &chart, (px, floor), format!("{at}: {why}"));
                    }
                }
            }
            let failed: Vec<(f64, f64)> = t
                .levels
                .iter()
                .filter(|l| l.latency_us.is_none())
                .map(|l| (x.pos(l.level as f64), floor))
                .collect();
            if !failed.is_empty() {
                draw_no_success(&mut chart, &failed, color)?;
                any_failed = true;
            }
            legend.push(LegendEntry::new(&t.target, color, Swatch::Line));
        }
        legend.push(LegendEntry::new("p99 (solid)", REFERENCE, Swatch::Line));
        legend.push(LegendEntry::new("p50 (dashed)", REFERENCE, Swatch::Dashed));
        if any_failed {
            legend.push(no_success_legend());
        }
        if !flagged.is_empty() {
            draw_flag_rings(&mut chart, &flagged)?;
            legend.push(flag_ring_legend());
        }
        draw_legend(&legend_area, &legend)
    }
}
