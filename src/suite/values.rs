//! Small value grammars used inside suite files: durations ("10s",
//! "500ms") and threshold expressions ("p99 < 50ms", "error_rate < 0.1%",
//! "rps > 1000"). Pure string → value functions with messages meant to be
//! shown after a `file:line:col:` prefix; they know nothing of TOML.

use std::time::Duration;

use super::plan::{Comparison, Metric};

/// Headers bakeoff sets itself; a suite or `-H` may not override them.
pub const RESERVED_HEADERS: [&str; 3] = ["content-length", "transfer-encoding", "host"];

/// Durations in suite files need a unit ([`crate::duration`]).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text, crate::duration::Bare::Refused)
}

/// A parsed threshold expression, without its target/scenario scope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    pub metric: Metric,
    pub op: Comparison,
    /// µs for latency metrics, a fraction for error_rate, req/s for rps.
    pub value: f64,
}

const CHECK_HINT: &str = "expected \"METRIC OP VALUE\" with METRIC one of p50, p90, p99, p999, max, rps, error_rate and OP one of <, <=, >, >=, e.g. \"p99 < 50ms\", \"rps > 1000\", \"error_rate < 0.1%\"";

/// Parses a threshold expression such as `p99 < 50ms`.
pub fn parse_check(text: &str) -> Result<Check, String> {
    let t = text.trim();
    let metric_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(t.len());
    let (metric_text, rest) = t.split_at(metric_end);
    let metric = match metric_text {
        "p50" => Metric::P50,
        "p90" => Metric::P90,
        "p99" => Metric::P99,
        "p999" | "p99.9" => Metric::P999,
        "max" => Metric::Max,
        "rps" => Metric::Rps,
        "error_rate" => Metric::ErrorRate,
        "" => return Err(format!("invalid threshold {text:?}: {CHECK_HINT}")),
        other => {
            return Err(format!(
                "invalid threshold {text:?}: unknown metric {other:?}; {CHECK_HINT}"
            ));
        }
    };
    let rest = rest.trim_start();
    let (op, value_text) = if let Some(v) = rest.strip_prefix("<=") {
        (Comparison::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Comparison::Ge, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Comparison::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Comparison::Gt, v)
    } else {
        return Err(format!(
            "invalid threshold {text:?}: missing comparison; {CHECK_HINT}"
        ));
    };
    let value_text = value_text.trim();
    if value_text.is_empty() {
        return Err(format!(
            "invalid threshold {text:?}: missing value; {CHECK_HINT}"
        ));
    }
    let value = match metric {
        Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Max => {
            let d = parse_duration(value_text)
                .map_err(|e| format!("invalid threshold {text:?}: {e}"))?;
            d.as_secs_f64() * 1e6
        }
        Metric::Rps => match value_text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => {
                return Err(format!(
                    "invalid threshold {text:?}: rps needs a plain number of requests per second, e.g. \"rps > 1000\""
                ));
            }
        },
        Metric::ErrorRate => parse_rate(value_text)
            .ok_or_else(|| format!("invalid threshold {text:?}: error_rate needs a percentage (\"0.1%\") or a fraction between 0 and 1 (\"0.001\")"))?,
    };
    Ok(Check { metric, op, value })
}

/// "0.1%" → 0.001; "0.001" → 0.001; anything outside 0..=1 → None.
fn parse_rate(text: &str) -> Option<f64> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (text, 1.0),
    };
    let v = number.parse::<f64>().ok()? * scale;
    (v.is_finite() && (0.0..=1.0).contains(&v)).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert_eq!(parse_duration(" 2 m ").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["fast", "10", "", "-1s", "1.2.3s", "10 parsecs", "ms"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.contains("\"10s\"") || err.contains("range"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn checks_parse_into_units_the_gates_use() {
        let c = parse_check("p99 < 50ms").unwrap();
        assert_eq!(
            (c.metric, c.op, c.value),
            (Metric::P99, Comparison::Lt, 50_000.0)
        );
        let c = parse_check("error_rate<=0.1%").unwrap();
        assert_eq!((c.metric, c.op), (Metric::ErrorRate, Comparison::Le));
        assert!((c.value - 0.001).abs() < 1e-12);
        let c = parse_check("error_rate < 0.02").unwrap();
        assert!((c.value - 0.02).abs() < 1e-12);
        let c = parse_check("rps >= 1000").unwrap();
        assert_eq!(
            (c.metric, c.op, c.value),
            (Metric::Rps, Comparison::Ge, 1000.0)
        );
        let c = parse_check("p99.9 > 1s").unwrap();
        assert_eq!((c.metric, c.value), (Metric::P999, 1e6));
        assert_eq!(parse_check("max<2s").unwrap().op, Comparison::Lt);
    }

    #[test]
    fn bad_checks_say_what_is_wrong() {
        let cases = [
            ("p98 < 5ms", "unknown metric"),
            ("p99 = 5ms", "missing comparison"),
            ("p99 <", "missing value"),
            ("p99 < 50", "no unit"),
            ("rps > fast", "plain number"),
            ("error_rate < 150%", "percentage"),
            ("error_rate < 2", "fraction"),
            ("", "METRIC OP VALUE"),
        ];
        for (text, needle) in cases {
            let err = parse_check(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
