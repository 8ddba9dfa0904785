//! Scalability models of a throughput curve X(N) (N: concurrency): the
//! Universal Scalability Law ([`usl`]) and the bounded model min(λN, X_max)
//! ([`bounded`]), both fitted by least squares, compared by AIC, with
//! bootstrap intervals ([`model`]). Pure and deterministic (the bootstrap
//! is seeded with [`crate::stats::BOOTSTRAP_SEED`]); which steps feed a
//! fit is `analysis::scalability`'s business, reading CSV is `bakeoff
//! fit`'s, wording is the reports'.
//!
//! The figures are defined in `results/README.md` ("Scalability model").

pub mod bounded;
pub mod usl;

pub use bounded::Bounded;
pub use usl::Usl;

use crate::stats::{BOOTSTRAP_CONFIDENCE, BOOTSTRAP_SEED, median, quantile_sorted, splitmix64};

/// Distinct concurrency levels a fit needs: the USL has three parameters,
/// so with three points it would pass through any curve.
pub const MIN_LEVELS: usize = 4;
/// AIC difference below which neither model is called better (the usual
/// rule of thumb: a difference under 2 is no real support for either).
pub const AIC_MARGIN: f64 = 2.0;
/// Bootstrap resamples behind every interval of a model.
pub const RESAMPLES: usize = 1000;

/// One concurrency level: N and the throughput of each repeat measured
/// there. The fit uses the median of the repeats (the level's figure).
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub n: f64,
    pub x: Vec<f64>,
}

impl Level {
    fn figure(&self) -> f64 {
        median(&self.x).unwrap_or(0.0)
    }
}

/// Why a curve was not fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    #[error(
        "not enough levels to fit: {distinct} distinct concurrency level(s), the fit needs at least {MIN_LEVELS}"
    )]
    TooFewLevels { distinct: usize },
}

/// Which model describes the curve better, by AIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preferred {
    Usl,
    Bounded,
    /// The AICs are within [`AIC_MARGIN`]: the data does not tell them apart.
    Either,
}

impl Preferred {
    /// The name `bakeoff fit --format json` and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Preferred::Usl => "usl",
            Preferred::Bounded => "bounded",
            Preferred::Either => "either",
        }
    }
}

/// Both models fitted to one curve (one point per level: the median of
/// its repeats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub usl: Usl,
    pub bounded: Bounded,
    /// 1 − SSE/SST of each model; NaN when every level has the same
    /// throughput (SST = 0).
    pub usl_r_squared: f64,
    pub bounded_r_squared: f64,
    /// n·ln(SSE/n) + 2k, k the model's free parameters (3 for the USL, 2
    /// or 1 for the bounded model, see [`Bounded::parameters`]).
    pub usl_aic: f64,
    pub bounded_aic: f64,
    pub preferred: Preferred,
    /// Distinct levels fitted, and the lowest and highest.
    pub levels: usize,
    pub min_level: f64,
    pub max_level: f64,
}

impl Fit {
    /// Whether the USL's N* lies within the measured levels (a peak the
    /// data shows, not an extrapolation).
    pub fn peak_in_range(&self) -> bool {
        self.usl.n_star() <= self.max_level
    }

    /// Whether the bounded model's cap is reached at some measured level.
    pub fn capped(&self) -> bool {
        self.bounded.cap.is_finite()
    }
}

/// How the intervals were resampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resampling {
    /// Each level's repeats resampled with replacement, their median
    /// refitted (some level had two or more repeats).
    Repeats,
    /// One repeat per level: the USL fit's residuals, scaled by
    /// √(n / (n − 3)) for the three fitted parameters, resampled onto its
    /// fitted curve.
    Residuals,
}

impl Resampling {
    pub fn as_str(self) -> &'static str {
        match self {
            Resampling::Repeats => "repeats",
            Resampling::Residuals => "residuals",
        }
    }

    /// "95% bootstrap over repeats (1000 resamples)".
    pub fn words(self) -> String {
        let what = match self {
            Resampling::Repeats => "repeats",
            Resampling::Residuals => "residuals (one repeat per level)",
        };
        format!(
            "{:.0}% bootstrap over {what}, {RESAMPLES} resamples",
            BOOTSTRAP_CONFIDENCE * 100.0
        )
    }
}

/// Percentile-bootstrap intervals at [`BOOTSTRAP_CONFIDENCE`] of a fit's
/// figures; an upper end of +infinity means some resamples had no peak
/// (κ = 0) or no cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intervals {
    pub resampling: Resampling,
    pub lambda: (f64, f64),
    pub sigma: (f64, f64),
    pub kappa: (f64, f64),
    pub n_star: (f64, f64),
    pub x_max: (f64, f64),
    /// Of the bounded model's cap.
    pub cap: (f64, f64),
}

/// A fit with its intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    pub fit: Fit,
    pub intervals: Intervals,
}

/// Both models fitted to `points` (N, X), one per level. The caller
/// checks the values (N ≥ 1, X ≥ 0, finite) and that each N appears once.
pub fn fit(points: &[(f64, f64)]) -> Result<Fit, FitError> {
    let distinct = distinct_levels(points.iter().map(|p| p.0));
    if distinct < MIN_LEVELS {
        return Err(FitError::TooFewLevels { distinct });
    }
    Ok(fit_both(points, distinct, usl::fit(points)))
}

/// [`fit`] on the levels' medians, with bootstrap [`Intervals`].
pub fn model(levels: &[Level]) -> Result<Model, FitError> {
    let points: Vec<(f64, f64)> = levels.iter().map(|l| (l.n, l.figure())).collect();
    let fit = fit(&points)?;
    let resampling = if levels.iter().any(|l| l.x.len() > 1) {
        Resampling::Repeats
    } else {
        Resampling::Residuals
    };
    let m = points.len() as f64;
    let scale = (m / (m - 3.0)).sqrt();
    let residuals: Vec<f64> = points
        .iter()
        .map(|&(n, x)| (x - fit.usl.throughput(n)) * scale)
        .collect();
    let mut state = BOOTSTRAP_SEED;
    let mut draws: [Vec<f64>; 6] = Default::default();
    let mut resample = points.clone();
    let mut buf = Vec::new();
    for _ in 0..RESAMPLES {
        for (i, slot) in resample.iter_mut().enumerate() {
            slot.1 = match resampling {
                Resampling::Repeats => {
                    let xs = &levels[i].x;
                    buf.clear();
                    buf.extend((0..xs.len()).map(|_| xs[pick(&mut state, xs.len())]));
                    median(&buf).unwrap_or(0.0)
                }
                Resampling::Residuals => {
                    let e = residuals[pick(&mut state, residuals.len())];
                    (fit.usl.throughput(slot.0) + e).max(0.0)
                }
            };
        }
        // Started from the point estimate: a resample is a small
        // perturbation of the data, so its minimum is in the same basin.
        let u = usl::polish_from(&resample, fit.usl);
        let b = bounded::fit(&resample);
        for (d, v) in
            draws
                .iter_mut()
                .zip([u.lambda, u.sigma, u.kappa, u.n_star(), u.x_max(), b.cap])
        {
            d.push(v);
        }
    }
    let [lambda, sigma, kappa, n_star, x_max, cap] = draws.map(|mut d| {
        d.retain(|v| !v.is_nan());
        d.sort_by(f64::total_cmp);
        let alpha = (1.0 - BOOTSTRAP_CONFIDENCE) / 2.0;
        if d.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            (quantile_sorted(&d, alpha), quantile_sorted(&d, 1.0 - alpha))
        }
    });
    Ok(Model {
        fit,
        intervals: Intervals {
            resampling,
            lambda,
            sigma,
            kappa,
            n_star,
            x_max,
            cap,
        },
    })
}

fn pick(state: &mut u64, n: usize) -> usize {
    (splitmix64(state) % n as u64) as usize
}

fn distinct_levels(ns: impl Iterator<Item = f64>) -> usize {
    let mut v: Vec<f64> = ns.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v.len()
}

fn fit_both(points: &[(f64, f64)], levels: usize, usl: Usl) -> Fit {
    let bounded = bounded::fit(points);
    let usl_sse = usl.sse(points);
    let bounded_sse = bounded.sse(points);
    let usl_aic = aic(points, usl_sse, 3);
    let bounded_aic = aic(points, bounded_sse, bounded.parameters(points));
    let preferred = if usl_aic + AIC_MARGIN < bounded_aic {
        Preferred::Usl
    } else if bounded_aic + AIC_MARGIN < usl_aic {
        Preferred::Bounded
    } else {
        Preferred::Either
    };
    let ns = || points.iter().map(|p| p.0);
    Fit {
        usl,
        bounded,
        usl_r_squared: r_squared(points, usl_sse),
        bounded_r_squared: r_squared(points, bounded_sse),
        usl_aic,
        bounded_aic,
        preferred,
        levels,
        min_level: ns().fold(f64::INFINITY, f64::min),
        max_level: ns().fold(f64::NEG_INFINITY, f64::max),
    }
}

/// 1 − SSE/SST; NaN when SST = 0.
fn r_squared(points: &[(f64, f64)], sse: f64) -> f64 {
    let m = points.len() as f64;
    let mean = points.iter().map(|p| p.1).sum::<f64>() / m;
    let sst: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN }
}

/// n·ln(SSE/n) + 2k, with SSE floored at a billionth of the largest
/// throughput per point so an exact fit does not give −infinity.
fn aic(points: &[(f64, f64)], sse: f64, k: usize) -> f64 {
    let m = points.len() as f64;
    let top = points.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
    let floor = (m * (1e-9 * top).powi(2)).max(f64::MIN_POSITIVE);
    m * (sse.max(floor) / m).ln() + 2.0 * k as f64
}

#[cfg(test)]
mod tests;
