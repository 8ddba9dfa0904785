//! Timestamps without a date crate: RFC 3339 for results, a compact form
//! for run directory names, both UTC; and the one reader of a time given
//! on the command line (`--start-at`: RFC 3339 or Unix seconds).

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

/// `secs` after the Unix epoch (UTC) as RFC 3339 with milliseconds.
pub fn rfc3339_millis(since_epoch: std::time::Duration) -> String {
    let base = format_unix_utc(since_epoch.as_secs(), "T", ":", "");
    format!("{base}.{:03}Z", since_epoch.subsec_millis())
}

/// Reads a time as RFC 3339 (`2026-12-01T22:00:00.000Z`, any fraction, `Z`
/// or a `±hh:mm` offset) or as Unix seconds (`1796162400`, a fraction
/// allowed), as time since the Unix epoch.
pub fn parse_time(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let bad =
        || format!("'{text}' is neither RFC 3339 (2026-12-01T22:00:00.000Z) nor Unix seconds");
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = t.parse().map_err(|_| bad())?;
        return std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let num = |s: &str| -> Result<i64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, rest) = t.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (y, mo, day) = match (d.next(), d.next(), d.next(), d.next()) {
        (Some(y), Some(m), Some(dd), None) if y.len() == 4 => (num(y)?, num(m)?, num(dd)?),
        _ => return Err(bad()),
    };
    // Split the offset off: Z, or the last '+' / '-'.
    let (clock, offset_s) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':').ok_or_else(bad)?;
        (c, sign * (num(oh)? * 3600 + num(om)? * 60))
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, f)) => (hms, f),
        None => (clock, ""),
    };
    let mut c = hms.split(':');
    let (h, mi, sec) = match (c.next(), c.next(), c.next(), c.next()) {
        (Some(h), Some(m), Some(s), None) => (num(h)?, num(m)?, num(s)?),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        num(&digits)? * 10i64.pow(9 - digits.len() as u32)
    };
    // Days-from-civil (Howard Hinnant's algorithm), the inverse of the above.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let mp = if mo > 2 { mo - 3 } else { mo + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    Ok(std::time::Duration::new(secs, nanos as u32))
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

    #[test]
    fn times_parse_as_rfc3339_or_unix_seconds() {
        use std::time::Duration;
        let at = parse_time("2026-11-24T05:44:26.250Z").unwrap();
        assert_eq!(at, Duration::from_millis(1_795_499_066_250));
        assert_eq!(rfc3339_millis(at), "2026-11-24T05:44:26.250Z");
        assert_eq!(
            parse_time("2026-11-24T07:44:26+02:00").unwrap().as_secs(),
            1_795_499_066
        );
        assert_eq!(parse_time("1795499066").unwrap().as_secs(), 1_795_499_066);
        assert_eq!(
            parse_time("1795499066.5").unwrap(),
            Duration::from_millis(1_795_499_066_500)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_time("2000-02-29T00:00:00Z").unwrap().as_secs(),
            951_782_400
        );
        for bad in [
            "",
            "tomorrow",
            "2026-13-01T00:00:00Z",
            "2026-12-01",
            "2026-12-01T22:00Z",
            "-5",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
