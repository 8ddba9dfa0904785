//! The HDR percentile spectrum: latency (log ms) against the quantile drawn
//! in "nines" (50%, 90%, 99%, 99.9%, ...), one line per target at one level:
//! the highest level every target measured, or, when the targets share no
//! level, each target's highest. Tails beyond what the sample count supports
//! are not drawn, and neither is the lowest percent: a single freak minimum
//! would otherwise stretch the log axis over decades nobody reads. A
//! target without a successful request at that level has no curve; the
//! legend names it with "(n/a)".
//!
//! The curve is the repeats' histograms merged ("all repeats pooled", as
//! the title says), the one place that figure is drawn: a level's printed
//! percentiles are the median of the repeats' (`results/README.md`, "A
//! level's figures over repeats"), and the two differ when repeats do.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, Chart, DrawError, LegendEntry, PlotContext, Swatch, build_chart, draw_legend, draw_line,
    layout,
};
use crate::analysis::summary::LevelFigures;

/// The curve starts at this quantile (see the module doc).
const FIRST_QUANTILE: f64 = 0.01;

/// Position step along the nines axis (0.02 nines ≈ 250 points to 99.999%).
const STEP: f64 = 0.02;

pub(crate) struct Spectrum<'a> {
    ctx: &'a PlotContext<'a>,
    common: Option<u64>,
    /// (target, figures at the chosen level)
    lines: Vec<(&'a str, &'a LevelFigures)>,
    /// Targets measured at the chosen level without a successful request.
    failed: Vec<&'a str>,
}

pub(crate) fn prepare<'a>(ctx: &'a PlotContext<'a>) -> Option<Spectrum<'a>> {
    let (common, lines) = super::figures_at_common_level(ctx, |l| l.latency_us.is_some());
    let (_, failed) = super::figures_at_common_level(ctx, |l| l.latency_us.is_none());
    let failed = failed.into_iter().map(|(t, _)| t).collect();
    (!lines.is_empty()).then_some(Spectrum {
        ctx,
        common,
        lines,
        failed,
    })
}

/// How far along the nines axis a histogram of `count` samples is worth
/// drawing: about log10(count), between 99% and 99.999%.
fn max_nines(count: u64) -> f64 {
    (count.max(1) as f64).log10().clamp(2.0, 5.0)
}

/// (nines position, ms) along the histogram's quantiles.
fn curve(h: &Histogram<u64>, axis: &Axis, limit: f64) -> Vec<(f64, f64)> {
    let first = -(1.0 - FIRST_QUANTILE).log10();
    let steps = ((limit - first) / STEP).ceil().max(1.0) as usize;
    (0..=steps)
        .map(|i| {
            let p = (first + i as f64 * STEP).min(limit);
            let q = 1.0 - 10f64.powf(-p);
            let v = h.value_at_quantile(q).max(1) as f64 / 1000.0;
            (p, axis.pos(v))
        })
        .collect()
}

/// The stored percentiles when the histogram could not be decoded.
fn stored_points(l: &LevelFigures) -> Vec<(f64, f64)> {
    let Some(s) = &l.latency_us else {
        return Vec::new();
    };
    [(0.5, s.p50), (0.9, s.p90), (0.99, s.p99), (0.999, s.p999)]
        .into_iter()
        .map(|(q, us)| (-(1.0f64 - q).log10(), us.max(1) as f64 / 1000.0))
        .collect()
}

impl Chart for Spectrum<'_> {
    fn title(&self) -> String {
        let sc = self.ctx.scenario;
        match self.common {
            Some(level) => format!(
                "{}: latency percentiles at {level} {}, all repeats pooled",
                self.ctx.heading(),
                sc.model.level_label()
            ),
            None => format!(
                "{}: latency percentiles at each target's highest level, all repeats pooled",
                self.ctx.heading()
            ),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _hovers: &mut super::Hovers,
    ) -> Result<(), DrawError> {
        let (plot, legend_area) = layout(root, &self.title())?;
        let limit = self
            .lines
            .iter()
            .map(|(_, l)| max_nines(l.histogram.as_ref().map_or(0, |h| h.len())))
            .fold(2.0, f64::max);
        let x = Axis::nines(limit);
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for (_, l) in &self.lines {
            let (min_us, max_us) = match &l.histogram {
                Some(h) if !h.is_empty() => (h.value_at_quantile(FIRST_QUANTILE), h.max()),
                _ => l.latency_us.map_or((1, 1), |s| (s.p50, s.p999)),
            };
            lo = lo.min(min_us.max(1) as f64 / 1000.0);
            hi = hi.max(max_us.max(1) as f64 / 1000.0);
        }
        let y = Axis::log(lo, hi);
        let mut chart = build_chart(
            &plot,
            &x,
            &y,
            "percentile (log scale of 1 − q)",
            "latency (ms, log scale)",
        )?;
        let mut legend = Vec::new();
        for (target, l) in &self.lines {
            let color = self.ctx.palette.color(target);
            match &l.histogram {
                Some(h) if !h.is_empty() => {
                    let own = max_nines(h.len());
                    draw_line(&mut chart, &curve(h, &y, own), color, false)?;
                }
                _ => {
                    let pts: Vec<(f64, f64)> = stored_points(l)
                        .into_iter()
                        .map(|(p, v)| (p, y.pos(v)))
                        .collect();
                    draw_line(&mut chart, &pts, color, true)?;
                }
            }
            let label = match self.common {
                Some(_) => target.to_string(),
                None => format!("{target} @ {}", l.level),
            };
            legend.push(LegendEntry::new(label, color, Swatch::Line));
        }
        for target in &self.failed {
            let color = self.ctx.palette.color(target);
            legend.push(LegendEntry::new(
                format!("{target} (n/a)"),
                color,
                Swatch::Cross,
            ));
        }
        draw_legend(&legend_area, &legend)
    }
}
