//! The one duration grammar of bakeoff, for flags, suite and claims files
//! and environment variables: a non-negative number and a unit, `us` (or
//! `µs`), `ms`, `s`, `m` (or `min`) or `h`, optionally separated by
//! spaces: "10s", "500ms", "1.5s", "250us", "2m", "1h". Where a bare
//! number is unambiguous (a flag, an environment variable) it may mean
//! seconds ([`Bare::Seconds`]); in files it is refused ([`Bare::Refused`]),
//! since "10" next to `rate = 10` reads as anything.

use std::time::Duration;

/// What a number without a unit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    /// Seconds ("2" = 2 s, "0.5" = 500 ms).
    Seconds,
    /// An error: a unit is required.
    Refused,
}

/// The hint every error ends with.
pub const HINT: &str = "use a number with a unit: us, ms, s, m or h, e.g. \"10s\" or \"500ms\"";

/// Parses `text` by the grammar of this module. Errors quote `text` and
/// say what is accepted.
pub fn parse(text: &str, bare: Bare) -> Result<Duration, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("duration {text:?} is negative; {HINT}"));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let invalid = || format!("invalid duration {text:?}; {HINT}");
    let scale = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "" if !number.is_empty() => match bare {
            Bare::Seconds => 1.0,
            Bare::Refused => return Err(format!("duration {text:?} has no unit; {HINT}")),
        },
        _ => return Err(invalid()),
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let secs = value * scale;
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("duration {text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_grammar_with_or_without_bare_seconds() {
        for bare in [Bare::Seconds, Bare::Refused] {
            assert_eq!(parse("10s", bare).unwrap(), Duration::from_secs(10));
            assert_eq!(parse("500ms", bare).unwrap(), Duration::from_millis(500));
            assert_eq!(parse("1.5s", bare).unwrap(), Duration::from_millis(1500));
            assert_eq!(parse("250us", bare).unwrap(), Duration::from_micros(250));
            assert_eq!(parse("250µs", bare).unwrap(), Duration::from_micros(250));
            assert_eq!(parse(" 2 m ", bare).unwrap(), Duration::from_secs(120));
            assert_eq!(parse("3min", bare).unwrap(), Duration::from_secs(180));
            assert_eq!(parse("1h", bare).unwrap(), Duration::from_secs(3600));
            assert_eq!(parse("0s", bare).unwrap(), Duration::ZERO);
            for bad in [
                "fast",
                "",
                "-1s",
                "1.2.3s",
                "10 parsecs",
                "ms",
                "nan",
                "1e999s",
            ] {
                let err = parse(bad, bare).unwrap_err();
                assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
            }
        }
        assert_eq!(parse("2", Bare::Seconds).unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse("0.5", Bare::Seconds).unwrap(),
            Duration::from_millis(500)
        );
        assert!(parse("10", Bare::Refused).unwrap_err().contains("no unit"));
        assert!(
            parse("-1s", Bare::Seconds)
                .unwrap_err()
                .contains("negative")
        );
    }
}
