//! Server efficiency: successful requests per CPU-second of the server and
//! of the PostgreSQL bakeoff ran for it (`rps_per_core`, = req/s per fully
//! used core; a target that pushes work into the database is not
//! flattered) vs level, for the targets whose server processes were
//! sampled. Skipped when none were.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::hover;
use crate::units;

use super::{
    Axis, Chart, DrawError, Hovers, LegendEntry, PlotContext, Swatch, build_chart, draw_legend,
    draw_line, layout,
};

pub(crate) struct PerCore<'a> {
    ctx: &'a PlotContext<'a>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<PerCore<'a>> {
    let sampled = ctx
        .scenario
        .targets
        .iter()
        .any(|t| t.levels.iter().any(|l| l.rps_per_core.is_some()));
    sampled.then_some(PerCore { ctx })
}

impl Chart for PerCore<'_> {
    fn title(&self) -> String {
        format!(
            "{}: req/s per CPU core (server + database) vs {}",
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
        let levels: Vec<u64> = sc
            .levels
            .iter()
            .copied()
            .filter(|&lv| {
                sc.targets
                    .iter()
                    .any(|t| t.at(lv).is_some_and(|l| l.rps_per_core.is_some()))
            })
            .collect();
        let x = Axis::levels(&levels);
        let y_max = sc
            .targets
            .iter()
            .flat_map(|t| t.levels.iter().filter_map(|l| l.rps_per_core))
            .fold(0.0, f64::max);
        let y = Axis::from_zero(y_max);
        let mut chart = build_chart(
            &plot,
            &x,
            &y,
            &self.ctx.level_axis_desc(&x),
            "req/s per core (req per server + database CPU-second)",
        )?;
        let mut legend = Vec::new();
        for t in &sc.targets {
            let measured: Vec<(u64, f64)> = t
                .levels
                .iter()
                .filter_map(|l| Some((l.level, l.rps_per_core?)))
                .collect();
            if measured.is_empty() {
                continue;
            }
            let points: Vec<(f64, f64)> = measured
                .iter()
                .map(|&(level, v)| (x.pos(level as f64), v))
                .collect();
            let color = self.ctx.palette.color(&t.target);
            draw_line(&mut chart, &points, color, true)?;
            for (&(level, v), &p) in measured.iter().zip(&points) {
                let title = format!(
                    "{}: {} req/s per core",
                    hover::point(&t.target, sc.model, level),
                    units::rps(v)
                );
                hover::add(hovers, &chart, p, title);
            }
            legend.push(LegendEntry::new(&t.target, color, Swatch::Line));
        }
        draw_legend(&legend_area, &legend)
    }
}
