//! Server efficiency: successful requests per CPU-second of the server and
//! of the PostgreSQL bakeoff ran for it (`rps_per_core`, = req/s per fully
//! used core; a target that pushes work into the database is not
//! flattered) vs level, for the targets whose server processes were
//! sampled. Skipped when none were.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, Chart, DrawError, LegendEntry, PlotContext, Swatch, build_chart, draw_legend, draw_line,
    layout,
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

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
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
            let points: Vec<(f64, f64)> = t
                .levels
                .iter()
                .filter_map(|l| l.rps_per_core.map(|v| (x.pos(l.level as f64), v)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let color = self.ctx.palette.color(&t.target);
            draw_line(&mut chart, &points, color, true)?;
            legend.push(LegendEntry::new(&t.target, color, Swatch::Line));
        }
        draw_legend(&legend_area, &legend)
    }
}
