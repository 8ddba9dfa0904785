//! Self-validation: was the generator, rather than the target, the
//! bottleneck of a step? A step where it was is flagged
//! `generator_saturated` and no verdict is drawn from it.
//!
//! Two rules, both over the measured window only (warm-up and the
//! in-flight tail would dilute a real saturation):
//!
//! - **Busy**: a generator thread wanted a CPU (it ran, or it was runnable
//!   and waited on a run queue) for at least [`BUSY_THRESHOLD`] of the
//!   window. It had no idle time left: the pace was its limit, whether its
//!   own work filled its core or another process took the core from it.
//!   CPU time alone misses the second case: a generator sharing its core
//!   with a compiler reads 60% busy while falling ever further behind.
//! - **Own delay** (open model): the generator's own send delay
//!   (`wake_lag_us`, which excludes waiting for a free connection) has a
//!   p99 above both [`WAKE_LAG_FLOOR`] (5 ms) and [`WAKE_LAG_SHARE`] of the
//!   step's p99 latency. Latency is timed from the intended send, so this
//!   delay is part of every reported latency; under a tenth of the p99 it
//!   cannot move a verdict, whose noise rule needs a 1.2x ratio. An
//!   absolute 1 ms rule flagged healthy steps: at low rates the generator's
//!   core idles between sends, and waking an idle VM core alone takes 1-5
//!   ms at the p99 (1.4 ms at 200 req/s on a quiet machine). A generator
//!   that really falls behind is caught by the busy rule: it has no idle
//!   time.

use std::time::Duration;

use crate::results::LatencySummary;

/// A generator thread busy this share of the step's wall time or more had
/// no headroom left: the request rate was its limit, not the server's.
pub const BUSY_THRESHOLD: f64 = 0.90;

/// Open model: own-delay p99 at or below this never flags a step, however
/// fast the target: wake-ups of an idle VM core live below it (p99 1.4 ms
/// on a quiet machine, up to 5 ms with a compiler on the other core, at
/// 200 req/s with the generator thread a few % busy).
pub const WAKE_LAG_FLOOR: Duration = Duration::from_millis(5);

/// Open model: own-delay p99 above this share of the step's p99 latency
/// (and above [`WAKE_LAG_FLOOR`]) flags the step.
pub const WAKE_LAG_SHARE: f64 = 0.10;

/// CPU use of the generator over one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneratorUsage {
    /// CPU time of the whole process over the measured window.
    pub process_cpu: Duration,
    /// Generator threads.
    pub threads: u32,
    /// The CPU each thread ended on.
    pub thread_cpus: Vec<usize>,
    /// CPU time over wall time of the busiest generator thread.
    pub busiest_thread_utilization: f64,
    /// (CPU time + run-queue wait) over wall time, of the thread with the
    /// most: how much of the window a generator thread wanted a CPU.
    pub busiest_thread_runnable: f64,
}

/// Why the generator limited the step, or None when it did not.
/// `latency_p99_us` is the step's p99 latency of successful requests (None
/// when none succeeded: then any own delay above the floor flags it).
pub fn saturation(
    usage: &GeneratorUsage,
    wake_lag: Option<&LatencySummary>,
    latency_p99_us: Option<u64>,
) -> Option<String> {
    let mut reasons = Vec::new();
    let demand = usage
        .busiest_thread_runnable
        .max(usage.busiest_thread_utilization);
    if demand >= BUSY_THRESHOLD {
        reasons.push(format!(
            "a generator thread wanted a CPU {:.0}% of the window (running {:.0}%, the rest waiting for its core; threshold {:.0}%)",
            demand * 100.0,
            usage.busiest_thread_utilization * 100.0,
            BUSY_THRESHOLD * 100.0
        ));
    }
    if let Some(lag) = wake_lag {
        let floor = WAKE_LAG_FLOOR.as_micros() as u64;
        let share = latency_p99_us.map_or(0, |p99| (p99 as f64 * WAKE_LAG_SHARE) as u64);
        let limit = floor.max(share);
        if lag.p99 > limit {
            reasons.push(format!(
                "sends fell behind schedule by the generator's own delay: p99 {} µs, over {limit} µs (the larger of {floor} µs and {:.0}% of the step's p99)",
                lag.p99,
                WAKE_LAG_SHARE * 100.0
            ));
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(busy: f64) -> GeneratorUsage {
        GeneratorUsage {
            process_cpu: Duration::from_secs(1),
            threads: 1,
            thread_cpus: vec![0],
            busiest_thread_utilization: busy,
            busiest_thread_runnable: busy,
        }
    }

    #[test]
    fn a_busy_thread_saturates() {
        assert_eq!(saturation(&usage(0.5), None, None), None);
        let why = saturation(&usage(0.97), None, None).expect("97% busy is saturated");
        assert!(why.contains("97%"), "{why}");
        // 60% running and 35% waiting for a CPU taken by another process.
        let crowded = GeneratorUsage {
            busiest_thread_runnable: 0.95,
            ..usage(0.6)
        };
        let why = saturation(&crowded, None, None).expect("no idle time left");
        assert!(why.contains("95%") && why.contains("running 60%"), "{why}");
    }

    #[test]
    fn own_send_delay_saturates_in_the_open_model() {
        let calm = LatencySummary {
            p99: 80,
            ..Default::default()
        };
        assert_eq!(saturation(&usage(0.2), Some(&calm), Some(500)), None);
        let behind = LatencySummary {
            p99: 8_000,
            ..Default::default()
        };
        let why = saturation(&usage(0.2), Some(&behind), Some(20_000)).expect("8 ms own delay");
        assert!(why.contains("8000 µs"), "{why}");
        // 1.4 ms of wake-up delay against a 20 ms p99 cannot move a verdict...
        let idle_vm = LatencySummary {
            p99: 1_430,
            ..Default::default()
        };
        assert_eq!(saturation(&usage(0.03), Some(&idle_vm), Some(20_000)), None);
        // ...nor can it against a 2 ms p99: it stays under the floor.
        assert_eq!(saturation(&usage(0.03), Some(&idle_vm), Some(2_000)), None);
        // 8 ms is over the floor, and over a tenth of a 60 ms p99, but not
        // of an 800 ms one.
        assert!(saturation(&usage(0.03), Some(&behind), Some(60_000)).is_some());
        assert_eq!(saturation(&usage(0.03), Some(&behind), Some(800_000)), None);
        assert!(saturation(&usage(0.03), Some(&behind), None).is_some());
    }
}
