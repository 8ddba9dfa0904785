//! The one formatting module for figures: durations (latencies), rates,
//! counts, error shares, ratios and relative changes, for reports, verdict evidence, gate messages,
//! `compare` and terminal tables alike. A latency printed anywhere after
//! `results.json` goes through [`latency`] (or [`latency_ms`], its number
//! without the unit, in table cells whose header says "ms"), so the same
//! figure reads the same everywhere. [`latency_us`] is the compact form of
//! the live terminal output of `bakeoff load` (one step as measured).
//!
//! This module formats only; which figure is printed (the median over
//! repeats) is `stats`' business.

/// A latency in µs as milliseconds with about three significant digits,
/// without the unit: "0.042", "0.420", "4.20", "42.0", "420", "4 200";
/// "failing" for the +infinity of a failing figure (see [`crate::stats`]),
/// "n/a" for NaN (nothing measured).
pub fn latency_ms(us: f64) -> String {
    if us.is_nan() {
        return "n/a".into();
    }
    if us.is_infinite() {
        return "failing".into();
    }
    let ms = us / 1000.0;
    if us.round() <= 0.0 {
        "0".into()
    } else if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        group_thousands(ms.round() as u64)
    }
}

/// A latency in µs with its unit: "0.850 ms", "71.2 ms", "1 250 ms";
/// "failing" for +infinity (callers say why next to it), "n/a" for NaN.
/// The one latency format of tables, evidence, gates and `compare`.
pub fn latency(us: f64) -> String {
    if us.is_finite() {
        format!("{} ms", latency_ms(us))
    } else {
        latency_ms(us)
    }
}

/// [`latency_ms`] of a measured figure, or "n/a" when there is none (no
/// request succeeded).
pub fn latency_ms_opt(us: Option<u64>) -> String {
    us.map_or_else(|| "n/a".to_string(), |us| latency_ms(us as f64))
}

/// 850µs, 12.3ms, 1.25s: the compact form of `bakeoff load`'s live output.
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

/// Requests per second for terminal lines, with sensible precision.
pub fn rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

/// Requests per second for tables: grouped thousands, one decimal below
/// 100; "–" when not finite.
pub fn rps(rps: f64) -> String {
    if !rps.is_finite() {
        return "–".into();
    }
    if rps < 100.0 {
        format!("{rps:.1}")
    } else {
        group_thousands(rps.round() as u64)
    }
}

/// "12 (0.40%)" or "0"; with unsent requests (counted in `errors`),
/// "12 (0.40%; 5 unsent)".
pub fn errors(errors: u64, requests: u64, unsent: u64) -> String {
    if errors == 0 {
        return "0".into();
    }
    let pct = 100.0 * crate::stats::error_rate(errors, requests);
    if unsent > 0 {
        format!(
            "{} ({pct:.2}%; {} unsent)",
            group_thousands(errors),
            group_thousands(unsent)
        )
    } else {
        format!("{} ({pct:.2}%)", group_thousands(errors))
    }
}

/// A ratio: "×1.19"; "×∞" when the denominator was 0 (or failing).
pub fn ratio(v: f64) -> String {
    if v.is_finite() {
        format!("×{v:.2}")
    } else {
        "×∞".into()
    }
}

/// A relative change in percent: "+12.3%", "-25.0%", "0.0%" (below
/// 0.05 either way); "n/a" when there is none (a zero or failing side).
pub fn change_pct(d: Option<f64>) -> String {
    match d {
        Some(v) if v.abs() < 0.05 => "0.0%".to_string(),
        Some(v) => format!("{v:+.1}%"),
        None => "n/a".to_string(),
    }
}

/// A surge's recovery time: "0 s", "3 s", "2.5 s"; "did not recover"
/// for None or +infinity (not back to baseline within the step).
pub fn recovery(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) if s.is_finite() => format!("{} s", number((s * 10.0).round() / 10.0)),
        _ => "did not recover".into(),
    }
}

/// A setting as given: "5", "2.5" (no trailing ".0").
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// A model coefficient or concurrency to three significant figures:
/// "0.0277", "0.930", "96.5", "1 880", "1.04e-4"; "0" for zero, "∞" for
/// +infinity (no peak, no ceiling).
pub fn coefficient(x: f64) -> String {
    if x.is_nan() {
        return "n/a".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        let sign = if x < 0.0 { "-" } else { "" };
        let digits = a.log10().floor() as i32 - 2;
        let rounded = (a / 10f64.powi(digits)).round() * 10f64.powi(digits);
        format!("{sign}{}", group_thousands(rounded as u64))
    } else if a >= 1e-3 {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

/// An interval of [`coefficient`]s: "[0.0120–0.0431]".
pub fn coefficient_interval((lo, hi): (f64, f64)) -> String {
    format!("[{}–{}]", coefficient(lo), coefficient(hi))
}

/// 1234567 → "1 234 567" (a plain space, so every font has it).
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_have_three_significant_figures() {
        assert_eq!(coefficient(0.027_73), "0.0277");
        assert_eq!(coefficient(0.93), "0.930");
        assert_eq!(coefficient(96.519), "96.5");
        assert_eq!(coefficient(1884.2), "1 880");
        assert_eq!(coefficient(1.044e-4), "1.04e-4");
        assert_eq!(coefficient(0.0), "0");
        assert_eq!(coefficient(f64::INFINITY), "∞");
        assert_eq!(coefficient_interval((0.01, f64::INFINITY)), "[0.0100–∞]");
    }

    #[test]
    fn latency_units() {
        assert_eq!(latency_us(850), "850µs");
        assert_eq!(latency_us(12_340), "12.34ms");
        assert_eq!(latency_us(1_250_000), "1.25s");
        assert_eq!(rate(12345.6), "12346");
        assert_eq!(rate(12.34), "12.3");
    }

    #[test]
    fn one_latency_format() {
        assert_eq!(latency_ms(42.0), "0.042");
        assert_eq!(latency_ms(420.0), "0.420");
        assert_eq!(latency_ms(4_200.0), "4.20");
        assert_eq!(latency_ms(42_000.0), "42.0");
        assert_eq!(latency_ms(4_200_000.0), "4 200");
        assert_eq!(latency_ms(0.0), "0");
        assert_eq!(latency(850.0), "0.850 ms");
        assert_eq!(latency(71_200.0), "71.2 ms");
        assert_eq!(latency(1_250_000.0), "1 250 ms");
        assert_eq!(latency(f64::INFINITY), "failing");
        assert_eq!(latency(f64::NAN), "n/a");
        assert_eq!(latency_ms_opt(None), "n/a");
        assert_eq!(latency_ms_opt(Some(4_200)), "4.20");
    }

    #[test]
    fn counts_and_rates() {
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(rps(12_345.4), "12 345");
        assert_eq!(rps(42.25), "42.2");
        assert_eq!(errors(0, 10, 0), "0");
        assert_eq!(errors(1, 200, 0), "1 (0.50%)");
        assert_eq!(errors(3, 200, 2), "3 (1.50%; 2 unsent)");
        assert_eq!(errors(0, 0, 0), "0");
        assert_eq!(ratio(1.194), "×1.19");
        assert_eq!(ratio(f64::INFINITY), "×∞");
        assert_eq!(change_pct(Some(-25.0)), "-25.0%");
        assert_eq!(change_pct(Some(0.01)), "0.0%");
        assert_eq!(change_pct(None), "n/a");
        assert_eq!(number(5.0), "5");
        assert_eq!(number(2.5), "2.5");
    }
}
