//! A surge level's figures over its repeats: each repeat's
//! [`SurgeSummary`] (measured by `measure`), and the level's medians,
//! defined in results/README.md ("Surge figures"). A repeat that did not
//! recover has an infinite recovery time and a repeat with no successful
//! request after the surge an infinite peak p99, so neither ever reads as
//! quick.

use crate::results::{SurgeOutcome, SurgeSummary};
use crate::stats::median;

/// The surge figures of one level.
#[derive(Debug, Clone, PartialEq)]
pub struct SurgeLevel {
    /// Each repeat's figures, in repeat order (only repeats that have them).
    pub repeats: Vec<SurgeSummary>,
    /// Median over the repeats of the baseline p99 (None: the median is a
    /// repeat without a successful baseline request).
    pub baseline_p99_us: Option<f64>,
    /// Median peak p99 (None: the median repeat had no success after the
    /// surge started).
    pub peak_p99_us: Option<f64>,
    /// Median recovery time; None when it is "did not recover".
    pub recovery_s: Option<f64>,
    /// Median share of failed or unsent requests from the surge on.
    pub surge_error_rate: f64,
    /// Median peak backlog.
    pub peak_backlog: f64,
    /// Repeats that did not recover.
    pub not_recovered: usize,
    /// The median of the repeats' outcomes in the order stable < slower <
    /// errors, then recovered < did not recover (of two middle ones, the
    /// worse).
    pub outcome: SurgeOutcome,
}

impl SurgeLevel {
    /// The level's figures, or None when no repeat has surge figures.
    pub fn of<'a>(repeats: impl IntoIterator<Item = &'a SurgeSummary>) -> Option<SurgeLevel> {
        let repeats: Vec<SurgeSummary> = repeats.into_iter().copied().collect();
        if repeats.is_empty() {
            return None;
        }
        let finite = |xs: Vec<f64>| median(&xs).filter(|m| m.is_finite());
        let level = SurgeLevel {
            baseline_p99_us: finite(Self::samples(&repeats, |s| {
                s.baseline_p99_us.map(|v| v as f64)
            })),
            peak_p99_us: finite(Self::samples(&repeats, |s| s.peak_p99_us.map(|v| v as f64))),
            recovery_s: finite(Self::samples(&repeats, |s| s.recovery_s)),
            surge_error_rate: median(
                &repeats
                    .iter()
                    .map(|s| s.surge_error_rate)
                    .collect::<Vec<_>>(),
            )
            .unwrap_or(1.0),
            peak_backlog: median(
                &repeats
                    .iter()
                    .map(|s| s.peak_backlog as f64)
                    .collect::<Vec<_>>(),
            )
            .unwrap_or(0.0),
            not_recovered: repeats.iter().filter(|s| s.recovery_s.is_none()).count(),
            outcome: {
                let mut o: Vec<SurgeOutcome> = repeats.iter().map(|s| s.outcome).collect();
                o.sort();
                o[o.len() / 2]
            },
            repeats,
        };
        Some(level)
    }

    /// Per repeat: the recovery time in seconds (+infinity: did not recover).
    pub fn recovery_samples(&self) -> Vec<f64> {
        Self::samples(&self.repeats, |s| s.recovery_s)
    }

    /// Per repeat: the peak p99 in µs (+infinity: nothing succeeded).
    pub fn peak_p99_samples(&self) -> Vec<f64> {
        Self::samples(&self.repeats, |s| s.peak_p99_us.map(|v| v as f64))
    }

    fn samples(repeats: &[SurgeSummary], f: impl Fn(&SurgeSummary) -> Option<f64>) -> Vec<f64> {
        repeats
            .iter()
            .map(|s| f(s).unwrap_or(f64::INFINITY))
            .collect()
    }

    /// The timeline's bucket width the recovery times were measured at
    /// (the hold is [`crate::measure::RECOVERY_HOLD`] buckets).
    pub fn resolution_s(&self) -> f64 {
        self.repeats
            .first()
            .map_or(1.0, |s| s.hold_s / crate::measure::RECOVERY_HOLD as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(recovery: Option<f64>, peak: Option<u64>, outcome: SurgeOutcome) -> SurgeSummary {
        SurgeSummary {
            baseline_rate: 100.0,
            peak_rate: 1000.0,
            start_s: 4.0,
            end_s: 9.0,
            baseline_p99_us: Some(2_000),
            baseline_error_rate: 0.0,
            peak_p99_us: peak,
            surge_offered: 1000,
            surge_errors: 0,
            surge_error_rate: 0.0,
            peak_backlog: 10,
            tolerance_p99_us: Some(4_000),
            hold_s: 3.0,
            recovery_s: recovery,
            outcome,
        }
    }

    #[test]
    fn a_level_not_recovered_in_most_repeats_did_not_recover() {
        let r = [
            repeat(Some(2.0), Some(90_000), SurgeOutcome::Slower),
            repeat(None, Some(900_000), SurgeOutcome::NotRecovered),
            repeat(None, None, SurgeOutcome::NotRecovered),
        ];
        let l = SurgeLevel::of(&r).unwrap();
        assert_eq!(l.recovery_s, None);
        assert_eq!(l.not_recovered, 2);
        assert_eq!(l.outcome, SurgeOutcome::NotRecovered);
        assert_eq!(l.peak_p99_us, Some(900_000.0));
        assert_eq!(l.recovery_samples()[1], f64::INFINITY);
        let l = SurgeLevel::of(&r[..1]).unwrap();
        assert_eq!((l.recovery_s, l.outcome), (Some(2.0), SurgeOutcome::Slower));
        assert_eq!(l.resolution_s(), 1.0);
        assert!(SurgeLevel::of(&[]).is_none());
    }

    #[test]
    fn of_two_middle_outcomes_the_worse_counts() {
        let r = [
            repeat(Some(0.0), Some(3_000), SurgeOutcome::Stable),
            repeat(Some(1.0), Some(9_000), SurgeOutcome::Slower),
        ];
        assert_eq!(SurgeLevel::of(&r).unwrap().outcome, SurgeOutcome::Slower);
    }
}
