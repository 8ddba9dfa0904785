//! Per-interval requests, errors and latency percentiles over a step.
//!
//! Bounded: at most [`MAX_POINTS`] buckets whatever the duration (longer
//! steps get wider buckets), each with a small 2-significant-digit
//! histogram allocated only once the bucket sees a request.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::results::TimelinePoint;

/// Upper bound on the number of timeline buckets in a step.
pub const MAX_POINTS: usize = 600;

#[derive(Debug, Clone)]
struct Bucket {
    requests: u64,
    /// Requests of the window that completed (response or error) in this
    /// bucket, by completion time.
    completed: u64,
    /// Scheduled requests of the bucket never sent (open model).
    unsent: u64,
    errors: u64,
    latency: Option<Histogram<u32>>,
}

/// A step's timeline, one bucket per `width` of the measured window.
#[derive(Debug, Clone)]
pub struct Timeline {
    width: Duration,
    /// The measured window's length: completions after it are the tail.
    window: Duration,
    buckets: Vec<Bucket>,
}

impl Timeline {
    /// A timeline for a measured window of `duration` (1 s buckets unless
    /// that would exceed [`MAX_POINTS`]).
    pub fn new(duration: Duration) -> Self {
        let secs = duration.as_secs_f64().ceil().max(1.0) as u64;
        let width_s = secs.div_ceil(MAX_POINTS as u64).max(1);
        Timeline {
            width: Duration::from_secs(width_s),
            window: duration,
            buckets: Vec::new(),
        }
    }

    /// The bucket of a request whose (intended) start was `offset` after
    /// the window start.
    fn bucket(&mut self, offset: Duration) -> &mut Bucket {
        let idx = ((offset.as_secs_f64() / self.width.as_secs_f64()) as usize).min(MAX_POINTS - 1);
        if self.buckets.len() <= idx {
            self.buckets.resize(
                idx + 1,
                Bucket {
                    requests: 0,
                    completed: 0,
                    unsent: 0,
                    errors: 0,
                    latency: None,
                },
            );
        }
        &mut self.buckets[idx]
    }

    /// Records one completed request whose (intended) start was `offset`
    /// after the window start.
    pub fn record(&mut self, offset: Duration, latency_us: Option<u64>) {
        let bucket = self.bucket(offset);
        bucket.requests += 1;
        match latency_us {
            Some(us) => {
                let h = bucket.latency.get_or_insert_with(small_histogram);
                h.saturating_record(us.max(1));
            }
            None => bucket.errors += 1,
        }
    }

    /// Counts a completion (response or error) `offset` after the window
    /// start, in the bucket it happened in; the tail after the window is
    /// not counted.
    pub fn record_completion(&mut self, offset: Duration) {
        if offset < self.window {
            self.bucket(offset).completed += 1;
        }
    }

    /// Counts one scheduled request, intended `offset` after the window
    /// start, that was never sent: offered, not among the bucket's requests.
    pub fn record_unsent(&mut self, offset: Duration) {
        self.bucket(offset).unsent += 1;
    }

    /// Adds another worker's timeline (same window) into this one.
    pub fn merge(&mut self, other: &Timeline) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(
                other.buckets.len(),
                Bucket {
                    requests: 0,
                    completed: 0,
                    unsent: 0,
                    errors: 0,
                    latency: None,
                },
            );
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            mine.requests += theirs.requests;
            mine.completed += theirs.completed;
            mine.unsent += theirs.unsent;
            mine.errors += theirs.errors;
            if let Some(h) = &theirs.latency {
                let m = mine.latency.get_or_insert_with(small_histogram);
                // Both histograms have identical bounds, so add cannot fail.
                m.add(h).expect("timeline histograms share bounds");
            }
        }
    }

    pub fn width(&self) -> Duration {
        self.width
    }

    /// Buckets of the measured window (the last may be partial).
    pub(super) fn window_buckets(&self) -> usize {
        let n = (self.window.as_secs_f64() / self.width.as_secs_f64()).ceil() as usize;
        n.clamp(1, MAX_POINTS)
    }

    /// Offered, completed and failed requests and the successful requests'
    /// histogram of bucket `i` (zeros past the last recorded bucket).
    pub(super) fn counts(&self, i: usize) -> BucketCounts<'_> {
        match self.buckets.get(i) {
            Some(b) => BucketCounts {
                offered: b.requests + b.unsent,
                completed: b.completed,
                failed: b.errors + b.unsent,
                latency: b.latency.as_ref().filter(|h| !h.is_empty()),
            },
            None => BucketCounts::default(),
        }
    }

    pub fn points(&self) -> Vec<TimelinePoint> {
        let width_s = self.width.as_secs() as u32;
        let mut backlog: u64 = 0;
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                backlog = (backlog + b.requests + b.unsent).saturating_sub(b.completed);
                let (p50, p99) = match &b.latency {
                    Some(h) if !h.is_empty() => (
                        Some(h.value_at_quantile(0.5)),
                        Some(h.value_at_quantile(0.99)),
                    ),
                    _ => (None, None),
                };
                TimelinePoint {
                    t_s: i as u32 * width_s,
                    width_s,
                    requests: b.requests,
                    offered: b.requests + b.unsent,
                    completed: b.completed,
                    backlog,
                    errors: b.errors,
                    p50_us: p50,
                    p99_us: p99,
                }
            })
            .collect()
    }
}

/// What one bucket holds, for the surge figures.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BucketCounts<'a> {
    pub offered: u64,
    pub completed: u64,
    /// Failed and never-sent requests intended in the bucket.
    pub failed: u64,
    /// Successful requests intended in the bucket (None: none succeeded).
    pub latency: Option<&'a Histogram<u32>>,
}

pub(super) fn small_histogram() -> Histogram<u32> {
    // 1 µs .. 100 s at 2 significant digits: about 10 KiB per bucket.
    Histogram::new_with_bounds(1, 100_000_000, 2).expect("constant histogram bounds are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_widen_for_long_windows_and_merge() {
        assert_eq!(
            Timeline::new(Duration::from_secs(10)).width(),
            Duration::from_secs(1)
        );
        assert_eq!(
            Timeline::new(Duration::from_secs(3600)).width(),
            Duration::from_secs(6)
        );
        let mut a = Timeline::new(Duration::from_secs(5));
        a.record(Duration::from_millis(100), Some(1000));
        a.record(Duration::from_millis(1500), None);
        let mut b = Timeline::new(Duration::from_secs(5));
        b.record(Duration::from_millis(2500), Some(3000));
        b.record_unsent(Duration::from_millis(2600));
        a.merge(&b);
        let pts = a.points();
        assert_eq!(pts.len(), 3);
        assert_eq!((pts[2].requests, pts[2].offered), (1, 2));
        assert_eq!(pts[0].offered, 1);
        assert_eq!((pts[0].requests, pts[1].errors, pts[2].requests), (1, 1, 1));
        let p99 = pts[2].p99_us.unwrap();
        assert!((2970..=3030).contains(&p99), "{p99}");
        assert_eq!(
            pts[1].p99_us, None,
            "a bucket of failures has no percentiles"
        );
    }
}
