//! Statistics over repeated measurements: grouping steps by (target,
//! scenario, model, level) across repeats, medians, seeded bootstrap
//! intervals of the median, the "does this difference clear the noise"
//! judgement, knee detection on a throughput curve, and the SLO-capacity
//! bisection helpers the run loop uses to pick extra open-model rates.
//!
//! # A failure never looks like speed
//!
//! This is the one rule every verdict, gate, comparison and SLO capacity
//! follows, and it is applied here, once, when a step enters [`crate::analysis::Repeats`]:
//!
//! - A repeat's **latency figures** (p50 … max) are its percentiles only
//!   when it had at least one successful request **and** at most
//!   [`SLO_MAX_ERROR_RATE`] (1 %) of its requests failed
//!   (`summary.error_rate`, unsent open-model requests included). Otherwise
//!   they are **+infinity**: percentiles describe successful requests only,
//!   so a target that fails more than one request in a hundred (or all of
//!   them) must not win a latency comparison, pass a latency gate or meet
//!   an SLO on the speed of the few it did answer.
//! - **Throughput is not adjusted**: `rps` counts successful requests only,
//!   so a failing step's throughput is already low (0 without a success).
//! - [`median`] and [`bootstrap_median_interval`] keep infinities (they drop
//!   only NaN), so a failing repeat is the slowest repeat, never a missing
//!   one, and one failing repeat of three widens the interval to +infinity,
//!   which keeps the target from winning beyond noise. [`ratio`] counts two
//!   infinities as equal, so two failing targets tie; a failing target
//!   loses to any target that answered.
//!
//! A failing step can therefore only count **against** its own target.
//! [`slo_p99`] is the same rule for the run loop's SLO search, and
//! [`crate::analysis::Repeats::failure_summary`] says in words why a figure is failing.
//!
//! # Intervals
//!
//! Intervals are percentile-bootstrap intervals of the median at
//! [`BOOTSTRAP_CONFIDENCE`]. With [`RANGE_ONLY_REPEATS`] (5) repeats or
//! fewer such an interval is exactly the min–max of the repeats (the
//! resampled median hits each extreme more often than 2.5 % of the time),
//! so it is labelled as what it is, "range of 3 repeats"
//! ([`interval_label`]), never "95 %".
//!
//! # Excluded steps
//!
//! Steps flagged `interrupted` or `generator_saturated`
//! ([`crate::results::StepRecord::usable_for_verdicts`]) can be left out of the groups
//! ([`crate::analysis::StepGroups::for_verdicts`]): they are kept aside as
//! [`crate::analysis::ExcludedStep`]s, their levels still count as measured (so the "highest
//! common level" a claim compares at does not silently move down), and the
//! groups remember which excluded figures a predicate asked for, so its
//! evidence can name them; likewise which failing figures it used
//! ([`crate::analysis::StepGroups::failing_among`]).
//!
//! # A level's figures over repeats
//!
//! A level (one [`crate::analysis::StepId`]) has **one** figure per quantity, computed here
//! and nowhere else, and every table, verdict, gate and comparison prints
//! that figure (defined in `results/README.md`, "A level's figures over
//! repeats"): its throughput is the [`median`] of its repeats' `rps`, its
//! latency percentile (p50, p99, ...) the [`median`] of the repeats'
//! percentiles under the rule above ([`crate::analysis::Repeats::median_latency`]), and its
//! "best" level the one with the highest median `rps` ([`crate::analysis::best_level`]).
//! The merged histogram of the repeats is a different figure ("all repeats
//! pooled") and only the percentile-spectrum chart draws it. Steps are
//! grouped once ([`crate::analysis::group_steps`]), and targets and scenarios appear in one
//! order everywhere: first appearance in `results.steps`
//! ([`crate::analysis::StepGroups::targets_in_order`], [`crate::analysis::StepGroups::scenarios_in_order`]).
//!
//! Everything here is pure and deterministic (the bootstrap uses a fixed
//! seed); nothing here reads files or prints. Verdict wording lives in
//! `claims`, regression wording in `compare`.

/// Seed of every bootstrap in bakeoff, so the same results always give the
/// same intervals and verdicts.
pub const BOOTSTRAP_SEED: u64 = 0x0bad_cafe_5eed_2024;
/// Bootstrap resamples per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Confidence of the bootstrap interval of the median.
pub const BOOTSTRAP_CONFIDENCE: f64 = 0.95;
/// Up to this many repeats the percentile-bootstrap interval of the median
/// at [`BOOTSTRAP_CONFIDENCE`] is exactly the min–max of the repeats, so
/// labels call it a range (see the module documentation).
pub const RANGE_ONLY_REPEATS: usize = 5;
/// Repeats needed on each side before spread (a bootstrap interval) is used;
/// below this a larger margin stands in for it.
pub const MIN_REPEATS_FOR_INTERVAL: usize = 3;

/// Whether a step's latency figures may count for it in a verdict: it had
/// a successful request and at most [`SLO_MAX_ERROR_RATE`] of its requests
/// failed (see the module documentation).
pub fn latency_counts(any_success: bool, error_rate: f64) -> bool {
    any_success && error_rate <= SLO_MAX_ERROR_RATE
}

pub use crate::measure::error_rate;

/// Median of `xs` (mean of the two middle values for an even count).
/// NaN values are ignored; infinities are kept: a repeat with no successful
/// request has an infinite latency, and dropping it would let the other
/// repeats make the target look better than it was.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Percentile-bootstrap interval of the median of `xs` at `confidence`
/// (e.g. 0.95), with `resamples` resamples drawn from a SplitMix64 stream
/// seeded with `seed`: the same input always gives the same interval.
/// None when `xs` holds no value but NaN (infinities are kept, as in
/// [`median`]). At 95 % with [`RANGE_ONLY_REPEATS`] values or fewer the
/// interval is their min–max: label it with [`interval_label`].
pub fn bootstrap_median_interval(
    xs: &[f64],
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    if n == 1 || resamples == 0 {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        return Some((lo, hi));
    }
    let mut state = seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut medians = Vec::with_capacity(resamples);
    let mut buf = vec![0.0; n];
    for _ in 0..resamples {
        for slot in buf.iter_mut() {
            *slot = v[(splitmix64(&mut state) % n as u64) as usize];
        }
        // `buf` is non-empty and NaN-free, so the median exists.
        if let Some(m) = median(&buf) {
            medians.push(m);
        }
    }
    medians.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence.clamp(0.0, 1.0)) / 2.0;
    Some((
        quantile_sorted(&medians, alpha),
        quantile_sorted(&medians, 1.0 - alpha),
    ))
}

/// Linear-interpolated quantile of an ascending, non-empty slice.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    if frac == 0.0 || sorted[lo] == sorted[hi] {
        // Also keeps an infinite value from turning into NaN (inf - inf).
        return sorted[lo];
    }
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// The one pseudo-random stream of bakeoff's resampling (SplitMix64):
/// seeded, so every bootstrap gives the same answer on the same input.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What an interval of the median over `n` repeats is, in words: "range of
/// 3 repeats" up to [`RANGE_ONLY_REPEATS`], "95% bootstrap interval of the
/// median of 8 repeats" beyond.
pub fn interval_label(n: usize) -> String {
    if n <= RANGE_ONLY_REPEATS {
        format!("range of {n} repeats")
    } else {
        format!(
            "{:.0}% bootstrap interval of the median of {n} repeats",
            BOOTSTRAP_CONFIDENCE * 100.0
        )
    }
}

/// How the noise check of a comparison reads when its sides had between
/// `min_n` and `max_n` repeats (both at least [`MIN_REPEATS_FOR_INTERVAL`]):
/// "the ranges of the repeats", "95% bootstrap intervals of the medians",
/// or both when the counts straddle [`RANGE_ONLY_REPEATS`].
pub fn intervals_phrase(min_n: usize, max_n: usize) -> String {
    let conf = BOOTSTRAP_CONFIDENCE * 100.0;
    if max_n <= RANGE_ONLY_REPEATS {
        format!(
            "the ranges (min–max) of the repeats (with {RANGE_ONLY_REPEATS} or fewer repeats, what a {conf:.0}% bootstrap interval of the median amounts to)"
        )
    } else if min_n > RANGE_ONLY_REPEATS {
        format!("{conf:.0}% bootstrap intervals of the medians")
    } else {
        format!(
            "intervals of the medians: the range of the repeats where a side had {RANGE_ONLY_REPEATS} or fewer, a {conf:.0}% bootstrap interval otherwise"
        )
    }
}

/// Whether two closed intervals share any point.
pub fn intervals_overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// A median with its spread over repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub median: f64,
    /// Bootstrap interval of the median when there are at least
    /// [`MIN_REPEATS_FOR_INTERVAL`] repeats, otherwise None. With
    /// [`RANGE_ONLY_REPEATS`] or fewer it equals `range`.
    pub interval: Option<(f64, f64)>,
    /// Smallest and largest repeat.
    pub range: (f64, f64),
    pub n: usize,
}

impl Estimate {
    /// What `interval` is, for labels: "range of 3 repeats" or "95%
    /// bootstrap interval of the median of 8 repeats" (see
    /// [`interval_label`]); an interval that came out equal to the min–max
    /// of the repeats is called a range whatever the count.
    pub fn interval_label(&self) -> String {
        if self.interval == Some(self.range) {
            format!("range of {} repeats", self.n)
        } else {
            interval_label(self.n)
        }
    }

    pub fn of(xs: &[f64]) -> Option<Self> {
        let median = median(xs)?;
        let n = xs.iter().filter(|x| !x.is_nan()).count();
        let values = || xs.iter().copied().filter(|x| !x.is_nan());
        let range = (
            values().fold(f64::INFINITY, f64::min),
            values().fold(f64::NEG_INFINITY, f64::max),
        );
        let interval = (n >= MIN_REPEATS_FOR_INTERVAL)
            .then(|| {
                bootstrap_median_interval(
                    xs,
                    BOOTSTRAP_CONFIDENCE,
                    BOOTSTRAP_RESAMPLES,
                    BOOTSTRAP_SEED,
                )
            })
            .flatten();
        Some(Estimate {
            median,
            interval,
            range,
            n,
        })
    }
}

/// How strict a comparison must be before it calls a difference real.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisePolicy {
    /// Ratio a difference must reach when both sides have intervals.
    pub ratio: f64,
    /// Ratio a difference must reach when either side has fewer than
    /// [`MIN_REPEATS_FOR_INTERVAL`] repeats (no spread to look at).
    pub few_repeats_ratio: f64,
}

impl Default for NoisePolicy {
    fn default() -> Self {
        NoisePolicy {
            ratio: 1.2,
            few_repeats_ratio: 1.5,
        }
    }
}

/// Which side a comparison favours, if the difference is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Favours {
    A,
    B,
    /// The difference does not clear the ratio or the noise.
    Neither,
}

/// The outcome of comparing one quantity between two sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub a: Estimate,
    pub b: Estimate,
    /// How many times better A is than B (>1 favours A): a/b of the
    /// medians when higher is better, b/a when lower is better.
    pub advantage: f64,
    pub favours: Favours,
    /// Smallest repeat count of the two sides.
    pub repeats: usize,
    /// Whether intervals were used (both sides had enough repeats).
    pub used_intervals: bool,
    /// The ratio the difference had to clear.
    pub margin: f64,
}

/// Compares samples `a` and `b` of one quantity. A side is favoured only
/// when its advantage reaches the policy's ratio and, with enough repeats
/// on both sides, the bootstrap intervals of the medians do not overlap;
/// with fewer repeats the larger `few_repeats_ratio` must be reached.
pub fn judge(
    a: &[f64],
    b: &[f64],
    higher_is_better: bool,
    policy: NoisePolicy,
) -> Option<Judgement> {
    let ea = Estimate::of(a)?;
    let eb = Estimate::of(b)?;
    let advantage = if higher_is_better {
        ratio(ea.median, eb.median)
    } else {
        ratio(eb.median, ea.median)
    };
    let (used_intervals, margin) = match (ea.interval, eb.interval) {
        (Some(_), Some(_)) => (true, policy.ratio),
        _ => (false, policy.few_repeats_ratio),
    };
    let separated = match (ea.interval, eb.interval) {
        (Some(ia), Some(ib)) => !intervals_overlap(ia, ib),
        _ => true,
    };
    // advantage 0 (A failed, B did not) makes 1 / advantage infinite: B.
    let favours = if separated && advantage >= margin {
        Favours::A
    } else if separated && 1.0 / advantage >= margin {
        Favours::B
    } else {
        Favours::Neither
    };
    Some(Judgement {
        a: ea,
        b: eb,
        advantage,
        favours,
        repeats: ea.n.min(eb.n),
        used_intervals,
        margin,
    })
}

/// x / y, with 0/0 = 1 and x/0 = infinity; two infinities (two failing
/// latencies) are equal (1), a finite x over an infinite y is 0.
pub fn ratio(x: f64, y: f64) -> f64 {
    if x.is_infinite() && y.is_infinite() {
        1.0
    } else if y == 0.0 {
        if x == 0.0 { 1.0 } else { f64::INFINITY }
    } else {
        x / y
    }
}

/// The knee of a throughput curve: given (level, rps, p99) points, the
/// first level past which throughput never again grows by more than
/// `growth_fraction` (e.g. 0.1 = 10 %) over its value there, while p99 at
/// the next level is higher. None when throughput keeps growing up to the
/// highest measured level (the knee was not reached), or with fewer than
/// two points. Points may come in any order; the noise tolerance is the
/// growth fraction: a later dip followed by a recovery above it is not a
/// knee.
pub fn knee(levels_rps_p99: &[(u64, f64, f64)], growth_fraction: f64) -> Option<u64> {
    let mut pts: Vec<(u64, f64, f64)> = levels_rps_p99.to_vec();
    pts.sort_by_key(|p| p.0);
    for i in 0..pts.len().saturating_sub(1) {
        let (level, rps, p99) = pts[i];
        let later_max = pts[i + 1..]
            .iter()
            .map(|p| p.1)
            .fold(f64::NEG_INFINITY, f64::max);
        let latency_climbs = pts[i + 1].2 > p99;
        if later_max < rps * (1.0 + growth_fraction) && latency_climbs {
            return Some(level);
        }
    }
    None
}

/// The SLO bracket of measured open-model rates: `(passing, failing)` where
/// `failing` is the lowest offered rate whose p99 exceeded `slo_us`, and
/// `passing` the highest rate below it (or the highest rate overall when
/// none failed) whose p99 met the SLO (p99 ≤ SLO). A rate that passed above
/// a failing one is ignored, so the capacity is never overstated.
pub fn slo_bracket(rates_p99_us: &[(u64, f64)], slo_us: f64) -> (Option<u64>, Option<u64>) {
    let failing = rates_p99_us
        .iter()
        .filter(|(_, p99)| !meets_slo(*p99, slo_us))
        .map(|(r, _)| *r)
        .min();
    let passing = rates_p99_us
        .iter()
        .filter(|(r, p99)| meets_slo(*p99, slo_us) && failing.is_none_or(|f| *r < f))
        .map(|(r, _)| *r)
        .max();
    (passing, failing)
}

/// More failed requests than this share fail an SLO whatever the latency
/// of the rest (latency percentiles cover successful requests only).
pub const SLO_MAX_ERROR_RATE: f64 = 0.01;

/// The p99 (µs) an SLO is judged on: `p99_us`, or infinite when nothing
/// succeeded or more than [`SLO_MAX_ERROR_RATE`] of the requests failed
/// (unsent ones included: `errors` counts them), so a dead or failing
/// target never "meets" its SLO. The same rule as [`crate::analysis::Repeats`] (module
/// documentation), for the run loop, which has one step at hand.
pub fn slo_p99(p99_us: f64, requests: u64, errors: u64) -> f64 {
    if latency_counts(errors < requests, error_rate(errors, requests)) {
        p99_us
    } else {
        f64::INFINITY
    }
}

/// p99 within the SLO; a NaN p99 (nothing measured) does not meet it.
fn meets_slo(p99: f64, slo_us: f64) -> bool {
    matches!(
        p99.partial_cmp(&slo_us),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    )
}

/// The highest offered rate whose p99 stayed within the SLO (see
/// [`slo_bracket`]).
pub fn slo_capacity(rates_p99_us: &[(u64, f64)], slo_us: f64) -> Option<u64> {
    slo_bracket(rates_p99_us, slo_us).0
}

/// The next offered rate to probe when searching for the highest rate that
/// meets a p99 SLO, from the bracket of [`slo_bracket`]:
///
/// - passing and failing known: the midpoint, until the gap is at most
///   `resolution` × passing (e.g. 0.05 = 5 %, and at least 1 req/s): then
///   None, the search is done and `passing` is the capacity;
/// - only passing known (every rate met the SLO): double it, capped at
///   `max_rate`; None once `passing` ≥ `max_rate`;
/// - only failing known (no rate met the SLO): halve it; None below 1 req/s;
/// - nothing measured, or an inconsistent bracket (failing ≤ passing): None.
///
/// The run loop measures the returned rate, recomputes the bracket and
/// calls again; it should also bound the number of probes (e.g. 6).
pub fn next_probe_rate(
    passing: Option<u64>,
    failing: Option<u64>,
    resolution: f64,
    max_rate: u64,
) -> Option<u64> {
    match (passing, failing) {
        (Some(p), Some(f)) => {
            if f <= p {
                return None;
            }
            let tolerance = ((p as f64) * resolution.max(0.0)).ceil().max(1.0) as u64;
            (f - p > tolerance).then(|| p + (f - p) / 2)
        }
        (Some(p), None) => (p < max_rate).then(|| p.saturating_mul(2).min(max_rate)),
        (None, Some(f)) => (f / 2 >= 1).then_some(f / 2),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
        // A failed repeat (no latency) is the worst value, not a missing one.
        assert_eq!(median(&[f64::INFINITY, 10.0, 12.0]), Some(12.0));
        assert_eq!(
            median(&[f64::INFINITY, f64::INFINITY, 12.0]),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_median() {
        let xs = [100.0, 104.0, 98.0, 101.0, 99.0, 103.0, 97.0];
        let a = bootstrap_median_interval(&xs, 0.95, 2000, 7).unwrap();
        let b = bootstrap_median_interval(&xs, 0.95, 2000, 7).unwrap();
        assert_eq!(a, b);
        let m = median(&xs).unwrap();
        assert!(a.0 <= m && m <= a.1, "{a:?} vs {m}");
        assert!(a.0 >= 97.0 && a.1 <= 104.0);
        // Three repeats: the median of a resample is min or max often
        // enough that the 95 % interval spans all three values.
        let three = bootstrap_median_interval(&[10.0, 11.0, 12.0], 0.95, 2000, 1).unwrap();
        assert_eq!(three, (10.0, 12.0));
        assert_eq!(
            bootstrap_median_interval(&[5.0], 0.95, 10, 1),
            Some((5.0, 5.0))
        );
        assert_eq!(bootstrap_median_interval(&[], 0.95, 10, 1), None);
    }

    #[test]
    fn overlap() {
        assert!(intervals_overlap((1.0, 2.0), (2.0, 3.0)));
        assert!(intervals_overlap((1.0, 5.0), (2.0, 3.0)));
        assert!(!intervals_overlap((1.0, 2.0), (2.1, 3.0)));
        assert!(!intervals_overlap((4.0, 5.0), (1.0, 3.0)));
    }

    #[test]
    fn judge_needs_ratio_and_separation() {
        let p = NoisePolicy::default();
        // Clear win for A with repeats.
        let j = judge(&[300.0, 310.0, 305.0], &[100.0, 102.0, 98.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::A);
        assert!(j.used_intervals);
        // Same medians ratio but overlapping spread: within noise.
        let j = judge(&[300.0, 100.0, 305.0], &[100.0, 290.0, 98.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::Neither);
        // Lower is better: A has a third of B's latency.
        let j = judge(&[10.0, 11.0, 10.5], &[30.0, 31.0, 29.0], false, p).unwrap();
        assert_eq!(j.favours, Favours::A);
        assert!((j.advantage - 30.0 / 10.5).abs() < 1e-9);
        // Clear loss.
        let j = judge(&[100.0, 101.0, 99.0], &[300.0, 301.0, 299.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::B);
        // Single repeat: 1.3x clears 1.2 but not the 1.5 margin.
        let j = judge(&[130.0], &[100.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::Neither);
        assert!(!j.used_intervals);
        assert_eq!(j.repeats, 1);
        let j = judge(&[160.0], &[100.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::A);
        assert!(judge(&[], &[1.0], true, p).is_none());
    }

    #[test]
    fn knee_of_linear_then_flat() {
        let pts = [
            (1, 100.0, 1_000.0),
            (2, 200.0, 1_000.0),
            (4, 400.0, 1_050.0),
            (8, 420.0, 2_000.0),
            (16, 425.0, 4_000.0),
        ];
        assert_eq!(knee(&pts, 0.10), Some(4));
        // Order does not matter.
        let mut rev = pts;
        rev.reverse();
        assert_eq!(knee(&rev, 0.10), Some(4));
    }

    #[test]
    fn knee_of_always_growing_curve_is_none() {
        let pts = [
            (1, 100.0, 1.0),
            (2, 190.0, 1.1),
            (4, 380.0, 1.2),
            (8, 700.0, 1.3),
        ];
        assert_eq!(knee(&pts, 0.10), None);
        assert_eq!(knee(&pts[..1], 0.10), None);
        assert_eq!(knee(&[], 0.10), None);
    }

    #[test]
    fn knee_tolerates_noise() {
        // A dip at 4 that recovers beyond 10 % is not the knee; the plateau
        // from 16 on (±3 %) is.
        let pts = [
            (1, 100.0, 10.0),
            (2, 200.0, 10.0),
            (4, 180.0, 12.0),
            (8, 380.0, 12.0),
            (16, 600.0, 14.0),
            (32, 618.0, 30.0),
            (64, 590.0, 60.0),
            (128, 610.0, 120.0),
        ];
        assert_eq!(knee(&pts, 0.10), Some(16));
        // Flat throughput but latency not climbing is not a knee.
        let pts = [(1, 100.0, 10.0), (2, 101.0, 9.0)];
        assert_eq!(knee(&pts, 0.10), None);
    }

    #[test]
    fn failing_steps_never_meet_an_slo() {
        assert_eq!(slo_p99(5_000.0, 1000, 10), 5_000.0);
        assert_eq!(slo_p99(5_000.0, 1000, 11), f64::INFINITY);
        assert_eq!(slo_p99(0.0, 0, 0), f64::INFINITY);
        assert_eq!(
            slo_capacity(&[(100, slo_p99(0.0, 500, 500))], 10_000.0),
            None
        );
    }

    #[test]
    fn slo_bracket_and_capacity() {
        let pts = [
            (100, 2_000.0),
            (200, 4_000.0),
            (400, 30_000.0),
            (800, 900_000.0),
        ];
        assert_eq!(slo_bracket(&pts, 10_000.0), (Some(200), Some(400)));
        assert_eq!(slo_capacity(&pts, 10_000.0), Some(200));
        // A noisy pass above the first failure is not capacity.
        let pts = [(100, 2_000.0), (200, 12_000.0), (400, 9_000.0)];
        assert_eq!(slo_bracket(&pts, 10_000.0), (Some(100), Some(200)));
        // The SLO is met at equality.
        assert_eq!(slo_bracket(&[(100, 10_000.0)], 10_000.0), (Some(100), None));
        assert_eq!(slo_bracket(&[(100, 10_001.0)], 10_000.0), (None, Some(100)));
        assert_eq!(slo_bracket(&[], 1.0), (None, None));
    }

    #[test]
    fn bisection_converges_on_the_capacity() {
        // A synthetic server whose p99 exceeds the SLO above 1234 req/s.
        let p99_at = |rate: u64| if rate <= 1234 { 5_000.0 } else { 50_000.0 };
        let mut measured: Vec<(u64, f64)> =
            [500, 1000, 2000].iter().map(|&r| (r, p99_at(r))).collect();
        let mut probes = 0;
        loop {
            let (pass, fail) = slo_bracket(&measured, 10_000.0);
            match next_probe_rate(pass, fail, 0.02, 100_000) {
                Some(rate) => {
                    assert!(
                        !measured.iter().any(|(r, _)| *r == rate),
                        "re-probed {rate}"
                    );
                    measured.push((rate, p99_at(rate)));
                    probes += 1;
                    assert!(probes < 20, "bisection does not converge");
                }
                None => break,
            }
        }
        let cap = slo_capacity(&measured, 10_000.0).unwrap();
        assert!(cap <= 1234 && cap as f64 >= 1234.0 * 0.97, "capacity {cap}");
    }

    #[test]
    fn probe_rules_at_the_edges() {
        assert_eq!(next_probe_rate(Some(100), Some(200), 0.05, 1000), Some(150));
        assert_eq!(next_probe_rate(Some(100), Some(104), 0.05, 1000), None);
        assert_eq!(next_probe_rate(Some(100), Some(101), 0.0, 1000), None);
        assert_eq!(next_probe_rate(Some(300), None, 0.05, 1000), Some(600));
        assert_eq!(next_probe_rate(Some(600), None, 0.05, 1000), Some(1000));
        assert_eq!(next_probe_rate(Some(1000), None, 0.05, 1000), None);
        assert_eq!(next_probe_rate(None, Some(400), 0.05, 1000), Some(200));
        assert_eq!(next_probe_rate(None, Some(1), 0.05, 1000), None);
        assert_eq!(next_probe_rate(None, None, 0.05, 1000), None);
        assert_eq!(next_probe_rate(Some(300), Some(200), 0.05, 1000), None);
    }

    #[test]
    fn failing_sides_lose_or_tie_never_win() {
        let p = NoisePolicy::default();
        let inf = f64::INFINITY;
        assert_eq!(ratio(inf, inf), 1.0);
        assert_eq!(ratio(5.0, inf), 0.0);
        assert_eq!(ratio(inf, 5.0), inf);
        // Lower is better: a failing A loses to any B that answered.
        let j = judge(&[inf, inf, inf], &[900.0, 950.0, 1_000.0], false, p).unwrap();
        assert_eq!(j.favours, Favours::B);
        let j = judge(&[inf], &[900.0], false, p).unwrap();
        assert_eq!(j.favours, Favours::B);
        // Two failing sides tie.
        let j = judge(&[inf, inf, inf], &[inf, inf, inf], false, p).unwrap();
        assert_eq!((j.favours, j.advantage), (Favours::Neither, 1.0));
        // Higher is better: 0 rps loses.
        let j = judge(&[0.0], &[100.0], true, p).unwrap();
        assert_eq!(j.favours, Favours::B);
    }

    #[test]
    fn small_bootstrap_intervals_are_ranges_and_labelled_so() {
        // Up to RANGE_ONLY_REPEATS the 95 % interval is the min–max.
        for n in 3..=RANGE_ONLY_REPEATS {
            let xs: Vec<f64> = (0..n).map(|i| 100.0 + 7.0 * i as f64).collect();
            let e = Estimate::of(&xs).unwrap();
            assert_eq!(e.interval, Some(e.range), "n = {n}");
            assert_eq!(e.interval_label(), format!("range of {n} repeats"));
        }
        // Beyond it the interval is narrower than the range.
        let xs: Vec<f64> = (0..9).map(|i| 100.0 + 7.0 * i as f64).collect();
        let e = Estimate::of(&xs).unwrap();
        assert_ne!(e.interval, Some(e.range));
        assert_eq!(
            e.interval_label(),
            "95% bootstrap interval of the median of 9 repeats"
        );
        assert_eq!(interval_label(3), "range of 3 repeats");
        assert!(intervals_phrase(3, 5).starts_with("the ranges (min–max)"));
        assert!(intervals_phrase(6, 8).starts_with("95% bootstrap intervals"));
        assert!(intervals_phrase(3, 8).contains("range of the repeats"));
    }

    #[test]
    fn error_rate_of_empty_step_is_total() {
        assert_eq!(error_rate(0, 0), 1.0);
        assert_eq!(error_rate(1, 1000), 0.001);
    }
}
