//! Export of a latency histogram in HdrHistogram's percentile-distribution
//! text format (`.hgrm`), values in milliseconds, as wrk2 and
//! HdrHistogram's plotter expect.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// Renders `h` (microseconds) as `.hgrm` text with values in milliseconds.
pub fn render(h: &Histogram<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value_ms = v.value_iterated_to() as f64 / 1000.0;
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value_ms:>12.3} {q:>14.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value_ms:>12.3} {q:>14.12} {total:>10}");
            }
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    );
    let _ = writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / 1000.0,
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_buckets(h)
    );
    out
}

/// HdrHistogram's sub-bucket count for the histogram's precision.
fn sub_buckets(h: &Histogram<u64>) -> u64 {
    let largest_single_unit = 2.0 * 10f64.powi(i32::from(h.sigfig()));
    largest_single_unit.log2().ceil().exp2() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_percentiles_and_footer() {
        let mut h = crate::results::new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let text = render(&h);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
        let last = text
            .lines()
            .rfind(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap();
        assert!(
            last.contains(" 1000 ") || last.trim_end().ends_with("1000"),
            "{last}"
        );
        assert!(text.contains("Total count    =         1000"));
        assert!(text.contains("#[Max     =     1000."), "{text}");
        assert!(text.contains("SubBuckets     =         2048"), "{text}");
    }
}
