//! Human-readable figures for terminal output: latencies, rates, bytes.

/// 850µs, 12.3ms, 1.25s.
pub fn latency_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// A latency that may not exist: "n/a" when no request succeeded.
pub fn latency_opt_us(us: Option<u64>) -> String {
    us.map_or_else(|| "n/a".to_string(), latency_us)
}

/// Requests per second with sensible precision.
pub fn rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_units() {
        assert_eq!(super::latency_us(850), "850µs");
        assert_eq!(super::latency_us(12_340), "12.34ms");
        assert_eq!(super::latency_us(1_250_000), "1.25s");
        assert_eq!(super::rate(12345.6), "12346");
        assert_eq!(super::rate(12.34), "12.3");
    }
}
