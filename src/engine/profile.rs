//! The open model's arrival schedule: a rate profile (stages of linear
//! ramps, a constant rate being the profile of no stage), the arrival
//! process on it (uniform or Poisson), and the one mapping from a global
//! ticket number to its intended send time that every generator thread
//! uses. Bounds on profiles (longest step, highest rate) are
//! `suite::bounds`'; this module checks only that a profile is a profile.
//!
//! Time is measured on the cumulative arrival curve Λ(t) = ∫₀ᵗ rate: the
//! i-th arrival (0-based) of the uniform process is at the t with
//! Λ(t) = i, so the first is sent at the start and a constant rate r sends
//! ticket i at i / r, as the open model always has. A Poisson process is
//! a uniform process of rate 1 in Λ time with exponential gaps: arrival i
//! is at Λ = E₀ + … + Eᵢ, Eⱼ ~ Exp(1), which stays a (non-homogeneous)
//! Poisson process with intensity `rate(t)` on ramps too.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use super::mix::SplitMix64;
use crate::measure::SurgePhases;

/// One stage of a profile: over `duration`, the rate moves linearly from
/// the previous stage's rate (or the profile's start rate) to `rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    /// Requests per second at the end of the stage.
    pub rate: f64,
}

/// The offered rate of an open-model step over its life: `start_rate`
/// during the warm-up, then the stages from the start of the measured
/// window, then the last stage's rate until the window ends. A constant
/// rate is the profile with no stage. Cloning shares the stages.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    start_rate: f64,
    stages: Arc<[Stage]>,
}

/// Why a profile is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("there is no stage")]
    NoStage,
    #[error("rate {0} is not a number of requests per second of at least 0")]
    BadRate(f64),
    #[error("the stages send no request (every rate is 0)")]
    NoArrivals,
}

impl RateProfile {
    /// `rate` requests per second for as long as the step runs (a rate
    /// that is not positive and finite is refused by `run_step`).
    pub fn constant(rate: f64) -> Self {
        RateProfile {
            start_rate: rate,
            stages: Arc::new([]),
        }
    }

    /// Stages starting from `start_rate` (None: the first stage's own
    /// rate). Rates must be finite and at least 0, with some arrivals.
    pub fn stages(start_rate: Option<f64>, stages: Vec<Stage>) -> Result<Self, ProfileError> {
        let first = stages.first().ok_or(ProfileError::NoStage)?;
        let start_rate = start_rate.unwrap_or(first.rate);
        for r in std::iter::once(start_rate).chain(stages.iter().map(|s| s.rate)) {
            if !(r.is_finite() && r >= 0.0) {
                return Err(ProfileError::BadRate(r));
            }
        }
        let profile = RateProfile {
            start_rate,
            stages: stages.into(),
        };
        if profile.arrivals() <= 0.0 {
            return Err(ProfileError::NoArrivals);
        }
        Ok(profile)
    }

    pub fn start_rate(&self) -> f64 {
        self.start_rate
    }

    pub fn stage_list(&self) -> &[Stage] {
        &self.stages
    }

    /// The sum of the stages' durations; None for a constant rate (it
    /// lasts as long as the step).
    pub fn duration(&self) -> Option<Duration> {
        (!self.stages.is_empty()).then(|| self.stages.iter().map(|s| s.duration).sum())
    }

    /// The highest rate the profile reaches.
    pub fn peak(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.rate)
            .fold(self.start_rate, f64::max)
    }

    /// Where the surge lies in the measured window (the stages start with
    /// it): from the start of the first stage that moves the rate to the
    /// end of the last one that does. None for a constant rate and for a
    /// profile that never rises above its start rate.
    pub fn surge(&self) -> Option<SurgePhases> {
        let peak = self.peak();
        if self.stages.is_empty() || peak <= self.start_rate {
            return None;
        }
        let (mut from, mut t) = (self.start_rate, Duration::ZERO);
        let (mut start, mut end) = (None, Duration::ZERO);
        for s in self.stages.iter() {
            if s.rate != from {
                start.get_or_insert(t);
                end = t + s.duration;
            }
            from = s.rate;
            t += s.duration;
        }
        Some(SurgePhases {
            baseline_rate: self.start_rate,
            peak_rate: peak,
            start: start?,
            end,
        })
    }

    /// Arrivals over the stages (the area under the rate); for a constant
    /// rate, those of one second.
    pub fn arrivals(&self) -> f64 {
        if self.stages.is_empty() {
            return self.start_rate;
        }
        let mut from = self.start_rate;
        let mut sum = 0.0;
        for s in self.stages.iter() {
            sum += (from + s.rate) / 2.0 * s.duration.as_secs_f64();
            from = s.rate;
        }
        sum
    }

    /// The schedule of a step: the warm-up at the start rate, the stages,
    /// the last rate held until `window_end` (the stages past it are cut).
    pub fn curve(&self, warmup: Duration, window_end: Duration) -> Curve {
        let end = window_end.as_secs_f64();
        let mut pieces: Vec<(f64, f64, f64)> = Vec::new(); // (duration, from, to)
        let mut t = 0.0;
        let mut push = |d: f64, r0: f64, r1: f64| {
            // Cut at the window's end, at the rate reached there.
            let d_in = d.min(end - t);
            if d_in > 0.0 {
                let r1_in = if d_in < d {
                    r0 + (r1 - r0) * d_in / d
                } else {
                    r1
                };
                pieces.push((d_in, r0, r1_in));
                t += d_in;
            }
        };
        push(warmup.as_secs_f64(), self.start_rate, self.start_rate);
        let mut rate = self.start_rate;
        for s in self.stages.iter() {
            push(s.duration.as_secs_f64(), rate, s.rate);
            rate = s.rate;
        }
        push(f64::INFINITY, rate, rate);
        Curve::from_pieces(&pieces)
    }
}

/// A piece of a [`Curve`], in seconds from the step's origin.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    t0: f64,
    d: f64,
    /// The rate at `t0`.
    r0: f64,
    /// Half the rate's slope: Λ(t0 + τ) = l0 + r0 τ + a τ².
    a: f64,
    /// Λ at the start and end of the segment.
    l0: f64,
    l1: f64,
}

impl Segment {
    /// The τ in [0, d] with Λ(t0 + τ) − l0 = y, by the stable root of
    /// a τ² + r0 τ − y = 0 (a flat segment divides).
    fn solve(&self, y: f64) -> f64 {
        if y <= 0.0 {
            return 0.0;
        }
        let tau = if self.a == 0.0 {
            y / self.r0
        } else {
            2.0 * y / (self.r0 + (self.r0 * self.r0 + 4.0 * self.a * y).max(0.0).sqrt())
        };
        tau.min(self.d)
    }
}

/// A step's cumulative arrival curve Λ, piecewise quadratic, from its
/// origin to its window's end; adjacent flat pieces of one rate are
/// merged, so a constant rate is a single flat segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    segments: Vec<Segment>,
}

impl Curve {
    fn from_pieces(pieces: &[(f64, f64, f64)]) -> Curve {
        let mut segments: Vec<Segment> = Vec::with_capacity(pieces.len());
        let (mut t, mut l) = (0.0, 0.0);
        for &(d, r0, r1) in pieces {
            let n = (r0 + r1) / 2.0 * d;
            match segments.last_mut() {
                Some(prev) if prev.a == 0.0 && r0 == r1 && prev.r0 == r0 => {
                    prev.d += d;
                    prev.l1 = prev.l0 + r0 * prev.d;
                }
                _ => segments.push(Segment {
                    t0: t,
                    d,
                    r0,
                    a: if r0 == r1 { 0.0 } else { (r1 - r0) / (2.0 * d) },
                    l0: l,
                    l1: l + n,
                }),
            }
            t += d;
            l = segments.last().map_or(l + n, |s| s.l1);
        }
        Curve { segments }
    }

    /// Λ at the window's end: the expected number of arrivals.
    pub fn total(&self) -> f64 {
        self.segments.last().map_or(0.0, |s| s.l1)
    }

    /// The t (seconds from the origin) with Λ(t) = `x`, or None when `x`
    /// is past the window's end. O(log segments): a binary search, then a
    /// division (flat) or a square root (ramp).
    pub fn time_at(&self, x: f64) -> Option<f64> {
        let i = self.segments.partition_point(|s| s.l1 <= x);
        let s = self.segments.get(i)?;
        Some(s.t0 + s.solve(x - s.l0))
    }

    /// How many of the tickets `g`, `g + stride`, … fall in the window:
    /// exact for uniform arrivals (ticket j sits at Λ = j); for Poisson
    /// ones the expected number (each ticket advances Λ by 1 on average),
    /// so abandoning a huge schedule need not draw every arrival.
    pub(super) fn tickets_left(&self, positions: &Positions, g: u64, stride: u64) -> u64 {
        let stride = stride.max(1);
        let total = self.total();
        match positions {
            Positions::Uniform => {
                let n = total.ceil() as u64;
                n.saturating_sub(g).div_ceil(stride)
            }
            Positions::Poisson { .. } => {
                let from = positions.at(g);
                ((total - from).max(0.0) / stride as f64).ceil() as u64
            }
        }
    }

    /// Λ(t) (`t` in seconds from the origin).
    pub fn arrivals_until(&self, t: f64) -> f64 {
        let i = self.segments.partition_point(|s| s.t0 + s.d <= t);
        match self.segments.get(i) {
            None => self.total(),
            Some(s) => {
                let tau = (t - s.t0).max(0.0);
                s.l0 + s.r0 * tau + s.a * tau * tau
            }
        }
    }
}

/// How arrivals are spread over a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// On a fixed grid: arrival i at Λ = i.
    #[default]
    Uniform,
    /// A Poisson process: exponential gaps in Λ time, from the step's
    /// seed (the same seed gives the same schedule).
    Poisson,
}

impl Arrivals {
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Uniform => "uniform",
            Arrivals::Poisson => "poisson",
        }
    }
}

/// The position on the Λ axis of each global ticket, for one thread that
/// takes its tickets in increasing order. Uniform: the ticket itself.
/// Poisson: E₀ + … + E_g, where Eⱼ = −ln Uⱼ and Uⱼ is the j-th output
/// of SplitMix64 from the arrivals' seed, computed from j alone (a
/// counter-based generator). Every thread sums the same terms in the same
/// order, so a ticket's time is bit-identical whichever thread takes it;
/// a thread striping one ticket in T sums T terms per ticket it sends (no
/// allocation, no shared state).
#[derive(Debug)]
pub(super) enum Positions {
    Uniform,
    Poisson {
        seed: u64,
        /// Terms summed so far (E₀ … E_{drawn−1}).
        drawn: Cell<u64>,
        sum: Cell<f64>,
    },
}

impl Positions {
    pub(super) fn new(arrivals: Arrivals, seed: u64) -> Self {
        match arrivals {
            Arrivals::Uniform => Positions::Uniform,
            Arrivals::Poisson => Positions::Poisson {
                seed,
                drawn: Cell::new(0),
                sum: Cell::new(0.0),
            },
        }
    }

    /// Λ of global ticket `g`; calls must not decrease `g`.
    pub(super) fn at(&self, g: u64) -> f64 {
        match self {
            Positions::Uniform => g as f64,
            Positions::Poisson { seed, drawn, sum } => {
                let (mut j, mut s) = (drawn.get(), sum.get());
                while j <= g {
                    s += exp1(*seed, j);
                    j += 1;
                }
                drawn.set(j);
                sum.set(s);
                s
            }
        }
    }
}

/// The j-th Exp(1) draw of the arrivals with `seed`.
fn exp1(seed: u64, j: u64) -> f64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    let x = SplitMix64::new(seed.wrapping_add(j.wrapping_mul(GOLDEN))).next_u64();
    // A uniform in (0, 1], so the logarithm is finite.
    let u = ((x >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
    -u.ln()
}

/// The seed of a step's Poisson arrivals, from its seed (kept apart from
/// the mix's streams).
pub(super) fn arrivals_seed(step_seed: u64) -> u64 {
    SplitMix64::new(step_seed ^ 0xA5A5_0F0F_C3C3_9696).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: f64, rate: f64) -> Stage {
        Stage {
            duration: Duration::from_secs_f64(secs),
            rate,
        }
    }

    #[test]
    fn a_constant_rate_is_one_flat_segment_with_todays_times() {
        let p = RateProfile::constant(2000.0);
        let c = p.curve(Duration::from_secs(1), Duration::from_secs(9));
        assert_eq!(c.segments.len(), 1);
        assert_eq!(c.total(), 18_000.0);
        assert_eq!(c.time_at(0.0), Some(0.0));
        assert_eq!(c.time_at(3.0), Some(0.0015));
        assert_eq!(c.time_at(17_999.0), Some(8.9995));
        assert_eq!(c.time_at(18_000.0), None);
        assert_eq!(p.duration(), None);
        assert_eq!(p.peak(), 2000.0);
    }

    #[test]
    fn the_inverse_curve_is_exact_on_a_ramp() {
        // 0 → 4 req/s over 2 s: rate 2t, Λ(t) = t², so arrival i is at √i.
        let p = RateProfile::stages(Some(0.0), vec![stage(2.0, 4.0)]).unwrap();
        let c = p.curve(Duration::ZERO, Duration::from_secs(2));
        assert_eq!(c.total(), 4.0);
        for i in 0..4 {
            let t = c.time_at(i as f64).unwrap();
            assert!((t - (i as f64).sqrt()).abs() < 1e-12, "{i}: {t}");
        }
        assert_eq!(c.time_at(4.0), None);
        // Down 10 → 0 over 1 s after a 1 s warm-up at 10: Λ(1 + τ) =
        // 10 + 10τ − 5τ², so Λ = 12.5 is at τ = 1 − √0.5.
        let p = RateProfile::stages(None, vec![stage(0.0, 10.0), stage(1.0, 0.0)]).unwrap();
        let c = p.curve(Duration::from_secs(1), Duration::from_secs(3));
        assert_eq!(c.total(), 15.0);
        let t = c.time_at(12.5).unwrap();
        assert!((t - (2.0 - 0.5f64.sqrt())).abs() < 1e-12, "{t}");
        let t = c.time_at(14.999_999).unwrap();
        assert!(t > 1.99 && t <= 2.0, "{t}");
        assert_eq!(c.arrivals_until(1.5), 13.75);
        assert_eq!(c.arrivals_until(2.5), 15.0);
    }

    #[test]
    fn stages_ramp_from_the_start_rate_and_hold_the_last() {
        let stages = vec![stage(2.0, 500.0), stage(1.0, 2000.0), stage(1.0, 500.0)];
        let p = RateProfile::stages(None, stages.clone()).unwrap();
        assert_eq!(p.start_rate(), 500.0);
        assert_eq!(p.arrivals(), 1000.0 + 1250.0 + 1250.0);
        assert_eq!(p.duration(), Some(Duration::from_secs(4)));
        assert_eq!(p.peak(), 2000.0);
        // A window longer than the stages holds 500/s; a shorter one cuts.
        let long = p.curve(Duration::ZERO, Duration::from_secs(5));
        assert_eq!(long.total(), 4000.0);
        let short = p.curve(Duration::ZERO, Duration::from_millis(2500));
        assert!((short.total() - 1437.5).abs() < 1e-9, "{}", short.total());
        let from_zero = RateProfile::stages(Some(0.0), stages).unwrap();
        assert_eq!(from_zero.arrivals(), 500.0 + 1250.0 + 1250.0);
    }

    #[test]
    fn profiles_are_checked() {
        assert_eq!(
            RateProfile::stages(None, vec![]),
            Err(ProfileError::NoStage)
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                RateProfile::stages(None, vec![stage(1.0, bad)]),
                Err(ProfileError::BadRate(_))
            ));
            assert!(RateProfile::stages(Some(bad), vec![stage(1.0, 1.0)]).is_err());
        }
        assert_eq!(
            RateProfile::stages(None, vec![stage(1.0, 0.0), stage(2.0, 0.0)]),
            Err(ProfileError::NoArrivals)
        );
        // A zero-rate stage inside a profile is fine.
        assert!(RateProfile::stages(None, vec![stage(1.0, 0.0), stage(1.0, 10.0)]).is_ok());
    }

    /// Λ positions of tickets 0..n, as one thread would take them.
    fn positions(seed: u64, n: u64) -> Vec<f64> {
        let p = Positions::new(Arrivals::Poisson, seed);
        (0..n).map(|g| p.at(g)).collect()
    }

    #[test]
    fn poisson_arrivals_repeat_with_the_seed_whichever_thread_takes_them() {
        let all = positions(7, 1000);
        assert_eq!(all, positions(7, 1000));
        assert_ne!(all, positions(8, 1000));
        // A thread striping every third ticket sees the same positions.
        let striped = Positions::new(Arrivals::Poisson, 7);
        for g in (2..1000).step_by(3) {
            assert_eq!(striped.at(g), all[g as usize]);
        }
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn poisson_gaps_fit_an_exponential() {
        let rate = 2000.0;
        let n = 5000;
        let p = RateProfile::constant(rate);
        let c = p.curve(Duration::ZERO, Duration::from_secs(60));
        let pos = Positions::new(Arrivals::Poisson, arrivals_seed(1));
        let times: Vec<f64> = (0..=n).map(|g| c.time_at(pos.at(g)).unwrap()).collect();
        let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((mean * rate - 1.0).abs() < 0.05, "mean gap {mean}");
        // Kolmogorov–Smirnov against Exp(rate); 1 % critical value 1.628/√n.
        gaps.sort_by(f64::total_cmp);
        let len = gaps.len() as f64;
        let d = gaps
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = 1.0 - (-rate * x).exp();
                (f - i as f64 / len)
                    .abs()
                    .max((f - (i + 1) as f64 / len).abs())
            })
            .fold(0.0, f64::max);
        let critical = 1.628 / len.sqrt();
        assert!(d < critical, "KS statistic {d} ≥ {critical}");
    }

    #[test]
    fn poisson_on_a_ramp_follows_the_rate() {
        // 0 → 2000/s over 10 s: 10 000 arrivals expected, a quarter in the
        // first half.
        let p = RateProfile::stages(Some(0.0), vec![stage(10.0, 2000.0)]).unwrap();
        let c = p.curve(Duration::ZERO, Duration::from_secs(10));
        let pos = Positions::new(Arrivals::Poisson, arrivals_seed(3));
        let times: Vec<f64> = (0..).map_while(|g| c.time_at(pos.at(g))).collect();
        let n = times.len() as f64;
        assert!((n - 10_000.0).abs() < 400.0, "{n}");
        let first_half = times.iter().filter(|&&t| t < 5.0).count() as f64;
        assert!((first_half - 2500.0).abs() < 200.0, "{first_half}");
    }

    #[test]
    fn tickets_left_counts_a_stripe_to_the_window_end() {
        // 100 req/s for 10 s: tickets 0..1000.
        let curve = Curve::from_pieces(&[(10.0, 100.0, 100.0)]);
        let uniform = Positions::new(Arrivals::Uniform, 0);
        assert_eq!(curve.tickets_left(&uniform, 0, 1), 1000);
        // Thread 1 of 4 from ticket 1: 1, 5, …, 997.
        assert_eq!(curve.tickets_left(&uniform, 1, 4), 250);
        assert_eq!(curve.tickets_left(&uniform, 998, 4), 1);
        assert_eq!(curve.tickets_left(&uniform, 1000, 4), 0);
        let poisson = Positions::new(Arrivals::Poisson, 9);
        let left = curve.tickets_left(&poisson, 0, 2);
        assert!((450..=550).contains(&left), "{left}");
    }
}
