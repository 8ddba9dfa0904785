//! What a surge step measures: from the per-second timeline of a step
//! whose rate profile rises above its start rate and settles again, the
//! baseline before the surge, the peak during and after it, the backlog,
//! and the recovery time. The figures are defined in `results/README.md`
//! ("Surge figures"); the rule's constants are here.
//!
//! - **Baseline**: the whole timeline buckets before the surge starts,
//!   leaving out the first when there are at least two (it holds the
//!   connections' set-up). Its p99 is that of the buckets' merged
//!   histograms.
//! - **Peak**: the highest per-bucket p99 from the bucket the surge starts
//!   in to the window's end; the surge's errors are the failed and never
//!   sent requests intended over the same span.
//! - **Recovered**: a bucket is back to baseline when it offered requests,
//!   its p99 is within the tolerance band (at most [`RECOVERY_FACTOR`] ×
//!   the baseline p99, and never less than the baseline +
//!   [`RECOVERY_SLACK_US`]) and at most [`RECOVERY_ERROR_SHARE`] (or the
//!   baseline's share, if higher) of its requests failed. The recovery
//!   time is from the surge's end to the start of the first bucket of
//!   [`RECOVERY_HOLD`] consecutive buckets back to baseline; none within
//!   the window is "did not recover".
//!
//! A profile needs at least one whole bucket before the surge and
//! [`RECOVERY_HOLD`] after it; otherwise the step has no surge figures.

use std::time::Duration;

use super::timeline::{Timeline, small_histogram};
use crate::results::{SurgeOutcome, SurgeSummary};

/// A bucket's p99 at most this many times the baseline p99 is back to
/// baseline (with [`RECOVERY_SLACK_US`] as the smallest allowance).
pub const RECOVERY_FACTOR: f64 = 2.0;

/// The tolerance band is never narrower than the baseline p99 plus this
/// (µs): at sub-millisecond latencies a doubling is within scheduling noise.
pub const RECOVERY_SLACK_US: u64 = 1_000;

/// A bucket back to baseline has at most this share of failed or unsent
/// requests (or the baseline's share, if that is higher): the 1 % above
/// which a level's latency counts as failing (`stats::SLO_MAX_ERROR_RATE`).
pub const RECOVERY_ERROR_SHARE: f64 = 0.01;

/// Consecutive buckets (seconds, at the usual 1 s width) that must be
/// back to baseline for the step to count as recovered.
pub const RECOVERY_HOLD: usize = 3;

/// Where the surge of a profile lies in the measured window: it starts
/// when the rate first moves away from `baseline_rate` and ends when it
/// last stops moving.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurgePhases {
    pub baseline_rate: f64,
    pub peak_rate: f64,
    pub start: Duration,
    pub end: Duration,
}

/// The surge figures of a step's timeline, or None when the window has
/// no whole bucket before the surge or fewer than [`RECOVERY_HOLD`] after.
pub(super) fn surge(timeline: &Timeline, phases: &SurgePhases) -> Option<SurgeSummary> {
    let width = timeline.width().as_secs_f64();
    let n = timeline.window_buckets();
    let start = phases.start.as_secs_f64();
    let end = phases.end.as_secs_f64();
    let before = (start / width).floor() as usize;
    let after = (end / width).ceil() as usize;
    if before == 0 || after + RECOVERY_HOLD > n {
        return None;
    }
    let share = |failed: u64, offered: u64| {
        if offered == 0 {
            0.0
        } else {
            failed as f64 / offered as f64
        }
    };

    let mut baseline = small_histogram();
    let (mut offered, mut failed) = (0, 0);
    for i in usize::from(before >= 2)..before {
        let b = timeline.counts(i);
        offered += b.offered;
        failed += b.failed;
        if let Some(h) = b.latency {
            baseline.add(h).expect("timeline histograms share bounds");
        }
    }
    let baseline_p99 = (!baseline.is_empty()).then(|| baseline.value_at_quantile(0.99));
    let baseline_error_rate = share(failed, offered);

    let p99 = |i: usize| {
        timeline
            .counts(i)
            .latency
            .map(|h| h.value_at_quantile(0.99))
    };
    let peak_p99 = (before..n).filter_map(p99).max();
    let (mut offered, mut failed) = (0, 0);
    for i in before..n {
        let b = timeline.counts(i);
        offered += b.offered;
        failed += b.failed;
    }
    let mut backlog: u64 = 0;
    let mut peak_backlog = 0;
    for i in 0..n {
        let b = timeline.counts(i);
        backlog = (backlog + b.offered).saturating_sub(b.completed);
        peak_backlog = peak_backlog.max(backlog);
    }

    let band =
        baseline_p99.map(|b| ((b as f64 * RECOVERY_FACTOR) as u64).max(b + RECOVERY_SLACK_US));
    let error_band = baseline_error_rate.max(RECOVERY_ERROR_SHARE);
    let back = |i: usize| {
        let b = timeline.counts(i);
        b.offered > 0
            && band.is_some_and(|band| p99(i).is_some_and(|p| p <= band))
            && share(b.failed, b.offered) <= error_band
    };
    let recovered_at = (after..=n - RECOVERY_HOLD).find(|&i| (i..i + RECOVERY_HOLD).all(back));
    let recovery_s = recovered_at.map(|i| (i as f64 * width - end).max(0.0));
    let outcome = match recovery_s {
        None => SurgeOutcome::NotRecovered,
        Some(_) if failed > 0 => SurgeOutcome::ErrorsRecovered,
        Some(_) if peak_p99.zip(band).is_some_and(|(p, b)| p > b) => SurgeOutcome::Slower,
        Some(_) => SurgeOutcome::Stable,
    };
    Some(SurgeSummary {
        baseline_rate: phases.baseline_rate,
        peak_rate: phases.peak_rate,
        start_s: start,
        end_s: end,
        baseline_p99_us: baseline_p99,
        baseline_error_rate,
        peak_p99_us: peak_p99,
        surge_offered: offered,
        surge_errors: failed,
        surge_error_rate: share(failed, offered),
        peak_backlog,
        tolerance_p99_us: band,
        hold_s: RECOVERY_HOLD as f64 * width,
        recovery_s,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000;

    fn phases(start: u64, end: u64) -> SurgePhases {
        SurgePhases {
            baseline_rate: 100.0,
            peak_rate: 1000.0,
            start: Duration::from_secs(start),
            end: Duration::from_secs(end),
        }
    }

    /// A timeline of `p99s.len()` seconds, 100 requests per second at the
    /// given latency (None: all of that second's requests fail), each
    /// completing within its second.
    fn timeline(p99s: &[Option<u64>]) -> Timeline {
        let mut t = Timeline::new(Duration::from_secs(p99s.len() as u64));
        for (s, p) in p99s.iter().enumerate() {
            for k in 0..100 {
                let at = Duration::from_millis(s as u64 * 1000 + k * 5);
                t.record(at, *p);
                t.record_completion(at);
            }
        }
        t
    }

    #[test]
    fn a_server_that_keeps_up_is_stable() {
        let t = timeline(&[Some(2 * MS); 12]);
        let s = surge(&t, &phases(3, 6)).unwrap();
        assert_eq!(s.outcome, SurgeOutcome::Stable);
        assert_eq!(s.recovery_s, Some(0.0));
        assert_eq!(s.surge_errors, 0);
        assert_eq!(s.tolerance_p99_us, s.baseline_p99_us.map(|b| 2 * b));
    }

    #[test]
    fn slower_then_back_is_slower_with_the_recovery_time() {
        let mut p: Vec<Option<u64>> = vec![Some(2 * MS); 14];
        for (i, v) in p.iter_mut().enumerate().take(9).skip(3) {
            *v = Some(50 * MS * i as u64);
        }
        let t = timeline(&p);
        let s = surge(&t, &phases(3, 6)).unwrap();
        assert_eq!(s.outcome, SurgeOutcome::Slower);
        // Seconds 6, 7, 8 are still slow; 9 on are back: 3 s after the end.
        assert_eq!(s.recovery_s, Some(3.0));
        let peak = s.peak_p99_us.unwrap();
        assert!((395 * MS..=405 * MS).contains(&peak), "{peak}");
        let base = s.baseline_p99_us.unwrap();
        assert!((1900..=2100).contains(&base), "{base}");
    }

    #[test]
    fn errors_count_and_a_server_that_stays_slow_did_not_recover() {
        let mut p = vec![Some(2 * MS); 12];
        p[4] = None;
        let s = surge(&timeline(&p), &phases(3, 6)).unwrap();
        assert_eq!(s.outcome, SurgeOutcome::ErrorsRecovered);
        assert_eq!(s.surge_errors, 100);
        let mut p = vec![Some(2 * MS); 12];
        for v in p.iter_mut().skip(3) {
            *v = Some(900 * MS);
        }
        let s = surge(&timeline(&p), &phases(3, 6)).unwrap();
        assert_eq!(
            (s.outcome, s.recovery_s),
            (SurgeOutcome::NotRecovered, None)
        );
        // A recovery that lasts less than the hold before the window ends
        // is not one.
        p[10] = Some(2 * MS);
        p[11] = Some(2 * MS);
        let s = surge(&timeline(&p), &phases(3, 6)).unwrap();
        assert_eq!(s.outcome, SurgeOutcome::NotRecovered);
    }

    #[test]
    fn the_backlog_is_what_was_offered_and_not_yet_completed() {
        let mut t = Timeline::new(Duration::from_secs(8));
        for s in 0..8u64 {
            for k in 0..100 {
                let at = Duration::from_millis(s * 1000 + k * 10);
                t.record(at, Some(MS));
                // Seconds 2 and 3 complete nothing until second 5.
                let done = if s == 2 || s == 3 {
                    Duration::from_millis(5_500)
                } else {
                    at
                };
                t.record_completion(done);
            }
        }
        let s = surge(&t, &phases(2, 4)).unwrap();
        assert_eq!(s.peak_backlog, 200, "seconds 2 and 3 waited until second 5");
        let points = t.points();
        assert_eq!(points[3].backlog, 200);
        assert_eq!(points[5].backlog, 0);
        assert_eq!(points[5].completed, 300);
    }

    #[test]
    fn no_room_before_or_after_the_surge_gives_no_figures() {
        let t = timeline(&[Some(MS); 10]);
        assert!(surge(&t, &phases(0, 4)).is_none(), "no baseline");
        assert!(
            surge(&t, &phases(2, 8)).is_none(),
            "2 s after the surge, 3 needed"
        );
        assert!(surge(&t, &phases(2, 7)).is_some());
    }
}
