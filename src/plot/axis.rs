//! Chart axes: linear, log10 and "nines" (quantile) scales, their tick
//! choice and tick labels, and the plotters coordinate they draw on. Every
//! chart plots `Axis::pos(value)` on a plain linear f64 coordinate, so all
//! charts share one coordinate type whatever their scales.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::Cartesian2d;

use crate::units::group_thousands;

/// A level axis is logarithmic when its largest level is more than this
/// many times its smallest (more than a decade).
pub(crate) const LOG_LEVELS_SPAN: f64 = 10.0;

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

    /// An axis of measured levels with a tick at each measured level: log
    /// when the levels span more than a decade (largest / smallest >
    /// [`LOG_LEVELS_SPAN`]), where a linear axis would crowd the low levels
    /// into its first few pixels; linear otherwise.
    pub fn levels(levels: &[u64]) -> Axis {
        let min = levels.iter().copied().min().unwrap_or(1) as f64;
        let max = levels.iter().copied().max().unwrap_or(1) as f64;
        let mut ticks: Vec<f64> = levels.iter().map(|&l| l as f64).collect();
        // Thin the ticks so their labels cannot run into each other.
        while ticks.len() > 14 {
            ticks = ticks.iter().step_by(2).copied().collect();
        }
        if min > 0.0 && max / min > LOG_LEVELS_SPAN {
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

    /// Runs 1..=n in order (a trend's x axis), linear, a tick per run
    /// (thinned past 14, as for levels), half a run of room either side.
    pub fn runs(n: usize) -> Axis {
        let n = n.max(1);
        let mut ticks: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let mut step = 1;
        while ticks.len() > 14 {
            step *= 2;
            ticks = (1..=n).step_by(step).map(|i| i as f64).collect();
        }
        Axis {
            scale: Scale::Linear,
            lo: 0.5,
            hi: n as f64 + 0.5,
            ticks,
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

    /// Whether the axis is logarithmic (its description should say so).
    pub fn is_log(&self) -> bool {
        self.scale == Scale::Log10
    }

    /// Position of a data value on the drawn (linear) axis.
    pub fn pos(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
            Scale::Nines => nines(v),
        }
    }

    pub(crate) fn range(&self) -> Range<f64> {
        self.pos(self.lo)..self.pos(self.hi)
    }

    pub(crate) fn key_points(&self) -> Vec<f64> {
        let r = self.range();
        self.ticks
            .iter()
            .map(|&t| self.pos(t))
            .filter(|p| *p >= r.start - 1e-9 && *p <= r.end + 1e-9)
            .collect()
    }

    /// Tick label for a drawn position.
    pub(crate) fn label(&self, p: f64) -> String {
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
    pub(crate) fn coord(&self) -> AxisCoord {
        AxisCoord {
            range: self.range(),
            ticks: self.key_points(),
        }
    }
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
        // More than a decade, and no more.
        assert!(Axis::levels(&[8, 16, 32, 64, 128]).is_log());
        assert!(Axis::levels(&[1, 11]).is_log());
        assert!(!Axis::levels(&[10, 50, 100]).is_log());
        assert!(!Axis::levels(&[8, 64]).is_log());
        // Ticks at the measured levels, labelled as measured.
        let c = Axis::levels(&[8, 16, 32, 64, 128, 256]);
        let labels: Vec<String> = c.key_points().iter().map(|p| c.label(*p)).collect();
        assert_eq!(labels, ["8", "16", "32", "64", "128", "256"]);
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
    fn runs_axis_has_a_tick_per_run() {
        let a = Axis::runs(3);
        assert!(!a.is_log());
        let labels: Vec<String> = a.key_points().iter().map(|p| a.label(*p)).collect();
        assert_eq!(labels, ["1", "2", "3"]);
        assert_eq!(a.range(), 0.5..3.5);
        let b = Axis::runs(30);
        assert!(!b.is_log(), "30 runs stay linear");
        assert!(b.key_points().len() <= 14);
        assert_eq!(b.key_points()[0], 1.0);
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
}
