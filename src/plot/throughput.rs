//! Throughput vs level: one line per target through the median of the
//! repeats, a marker at each measured level, and the repeats' min–max as
//! error bars. In the open model a dashed line marks "achieved = offered".
//! A black ring marks a level that includes a step flagged interrupted or
//! generator_saturated (the report's Caveats say which). In the closed
//! model each target's fitted scalability model (the preferred one: the
//! bounded model where it fits better, else the USL) is drawn dashed in
//! the target's colour over the levels it was fitted on, never beyond.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::hover;
use super::{
    Axis, Chart, Coords, DrawError, Hovers, LegendEntry, PlotContext, REFERENCE, Swatch,
    build_chart, draw_dashed, draw_err, draw_flag_rings, draw_legend, draw_line, flag_ring_legend,
    layout,
};
use crate::analysis::scalability::ScenarioScalability;
use crate::results::Model;
use crate::scalability::{Model as Fitted, Preferred};
use crate::units;

/// Points along a fitted curve.
const CURVE_POINTS: usize = 64;

/// Half-width of an error bar's cap.
const CAP_PX: i32 = 8;

pub(crate) struct Throughput<'a> {
    ctx: &'a PlotContext<'a>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<Throughput<'a>> {
    (!ctx.scenario.targets.is_empty()).then_some(Throughput { ctx })
}

impl Chart for Throughput<'_> {
    fn title(&self) -> String {
        format!(
            "{}: throughput vs {}",
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
        let mut y_max = sc
            .targets
            .iter()
            .flat_map(|t| t.levels.iter().map(|l| l.rps_max))
            .fold(0.0, f64::max);
        let open = sc.model == Model::Open;
        if open {
            y_max = y_max.max(sc.levels.iter().copied().max().unwrap_or(0) as f64);
        }
        let curves = fitted_curves(self.ctx.model, &x);
        y_max = curves
            .iter()
            .flat_map(|(_, c)| c.iter().map(|p| p.1))
            .fold(y_max, f64::max);
        let y = Axis::from_zero(y_max);
        let mut chart = build_chart(
            &plot,
            &x,
            &y,
            &self.ctx.level_axis_desc(&x),
            "throughput (successful req/s)",
        )?;

        let mut legend = Vec::new();
        let mut spread = false;
        let mut flagged = Vec::new();
        for t in &sc.targets {
            let color = self.ctx.palette.color(&t.target);
            let points: Vec<(f64, f64)> = t
                .levels
                .iter()
                .map(|l| (x.pos(l.level as f64), l.rps_median))
                .collect();
            draw_line(&mut chart, &points, color, true)?;
            for (l, &p) in t.levels.iter().zip(&points) {
                let mut title = format!(
                    "{}: {} req/s",
                    hover::point(&t.target, sc.model, l.level),
                    units::rps(l.rps_median)
                );
                if l.repeats > 1 {
                    title.push_str(&format!(
                        " (median of {} repeats, {}–{})",
                        l.repeats,
                        units::rps(l.rps_min),
                        units::rps(l.rps_max)
                    ));
                }
                if l.disqualified() {
                    title.push_str("; flagged: no verdict");
                }
                hover::add(hovers, &chart, p, title);
            }
            flagged.extend(
                t.levels
                    .iter()
                    .filter(|l| l.disqualified())
                    .map(|l| (x.pos(l.level as f64), l.rps_median)),
            );
            for l in t
                .levels
                .iter()
                .filter(|l| l.repeats > 1 && l.rps_max > l.rps_min)
            {
                draw_error_bar(
                    &mut chart,
                    x.pos(l.level as f64),
                    l.rps_min,
                    l.rps_max,
                    color,
                )?;
                spread = true;
            }
            legend.push(LegendEntry::new(&t.target, color, Swatch::Line));
        }
        for (target, curve) in &curves {
            draw_dashed(&mut chart, curve, self.ctx.palette.color(target), 2, false)?;
        }
        if !curves.is_empty() {
            legend.push(LegendEntry::new("fitted model", REFERENCE, Swatch::Dashed));
        }
        if open {
            // Drawn last so it stays visible where a target keeps up exactly.
            let ideal: Vec<(f64, f64)> = sc
                .levels
                .iter()
                .map(|&l| (x.pos(l as f64), l as f64))
                .collect();
            draw_dashed(&mut chart, &ideal, REFERENCE, 2, false)?;
            legend.push(LegendEntry::new(
                "offered = achieved",
                REFERENCE,
                Swatch::Dashed,
            ));
        }
        if spread {
            legend.push(LegendEntry::new(
                "min–max of repeats",
                REFERENCE,
                Swatch::Bar,
            ));
        }
        if !flagged.is_empty() {
            draw_flag_rings(&mut chart, &flagged)?;
            legend.push(flag_ring_legend());
        }
        draw_legend(&legend_area, &legend)
    }
}

/// Each fitted target's preferred curve, sampled over its fitted levels
/// (evenly on the axis' scale), as chart points.
fn fitted_curves(model: Option<&ScenarioScalability>, x: &Axis) -> Vec<(String, Vec<(f64, f64)>)> {
    let Some(model) = model else {
        return Vec::new();
    };
    model
        .targets
        .iter()
        .filter_map(|t| {
            let m: &Fitted = t.model.as_ref().ok()?;
            let f = &m.fit;
            let (lo, hi) = (x.pos(f.min_level), x.pos(f.max_level));
            let curve = (0..=CURVE_POINTS)
                .map(|i| {
                    let pos = lo + (hi - lo) * i as f64 / CURVE_POINTS as f64;
                    let n = if x.is_log() { 10f64.powf(pos) } else { pos };
                    let y = match f.preferred {
                        Preferred::Bounded => f.bounded.throughput(n),
                        Preferred::Usl | Preferred::Either => f.usl.throughput(n),
                    };
                    (pos, y)
                })
                .collect();
            Some((t.target.clone(), curve))
        })
        .collect()
}

/// Vertical bar from `lo` to `hi` with caps (plotters' ErrorBar needs a
/// feature this crate does not enable; two paths do the same).
fn draw_error_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    x: f64,
    lo: f64,
    hi: f64,
    color: RGBColor,
) -> Result<(), DrawError> {
    let style = color.stroke_width(2);
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x, lo), (x, hi)],
            style,
        )))
        .map_err(draw_err)?;
    // Caps are a fixed number of pixels wide, whatever the x scale.
    let cap = |y: f64| {
        EmptyElement::at((x, y)) + PathElement::new(vec![(-CAP_PX, 0), (CAP_PX, 0)], style)
    };
    chart.draw_series([cap(lo), cap(hi)]).map_err(draw_err)?;
    Ok(())
}
