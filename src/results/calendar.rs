//! Timestamps without a date crate: RFC 3339 for results, a compact form
//! for run directory names, both UTC.

/// Current UTC time as RFC 3339 with second precision, without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix_utc(secs, "T", ":", "Z")
}

/// Compact timestamp for directory names: 20261124-054426.
pub fn now_compact() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix_utc(secs, "-", "", "").replacen('-', "", 2)
}

fn format_unix_utc(secs: u64, date_time_sep: &str, time_sep: &str, suffix: &str) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if mo <= 2 { 1 } else { 0 };
    format!("{y:04}-{mo:02}-{d:02}{date_time_sep}{h:02}{time_sep}{m:02}{time_sep}{s:02}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(format_unix_utc(0, "T", ":", "Z"), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_unix_utc(1_795_499_066, "T", ":", "Z"),
            "2026-11-24T05:44:26Z"
        );
    }
}
