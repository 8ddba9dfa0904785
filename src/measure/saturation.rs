//! Self-validation: was the generator, rather than the target, the
//! bottleneck of a step? A step where it was is flagged
//! `generator_saturated` and no verdict is drawn from it.

use std::time::Duration;

use crate::results::LatencySummary;

/// A generator thread busy this share of the step's wall time or more had
/// no headroom left: the request rate was its limit, not the server's.
pub const BUSY_THRESHOLD: f64 = 0.90;

/// Open model: when the generator's own send delay (`wake_lag_us`, which
/// excludes waiting for a free connection) has a p99 above this, sends fell
/// behind schedule because of the generator.
pub const WAKE_LAG_P99_THRESHOLD: Duration = Duration::from_millis(1);

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
}

/// Why the generator limited the step, or None when it did not.
pub fn saturation(usage: &GeneratorUsage, wake_lag: Option<&LatencySummary>) -> Option<String> {
    let mut reasons = Vec::new();
    if usage.busiest_thread_utilization >= BUSY_THRESHOLD {
        reasons.push(format!(
            "a generator thread was busy {:.0}% of the step (threshold {:.0}%)",
            usage.busiest_thread_utilization * 100.0,
            BUSY_THRESHOLD * 100.0
        ));
    }
    if let Some(lag) = wake_lag {
        let limit = WAKE_LAG_P99_THRESHOLD.as_micros() as u64;
        if lag.p99 > limit {
            reasons.push(format!(
                "sends fell behind schedule by the generator's own delay: p99 {} µs (threshold {limit} µs)",
                lag.p99
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
        }
    }

    #[test]
    fn a_busy_thread_saturates() {
        assert_eq!(saturation(&usage(0.5), None), None);
        let why = saturation(&usage(0.97), None).expect("97% busy is saturated");
        assert!(why.contains("97%"), "{why}");
    }

    #[test]
    fn own_send_delay_saturates_in_the_open_model() {
        let calm = LatencySummary {
            p99: 80,
            ..Default::default()
        };
        let behind = LatencySummary {
            p99: 4_000,
            ..Default::default()
        };
        assert_eq!(saturation(&usage(0.2), Some(&calm)), None);
        let why = saturation(&usage(0.2), Some(&behind)).expect("4 ms own delay");
        assert!(why.contains("4000 µs"), "{why}");
    }
}
