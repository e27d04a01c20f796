//! Athena's text dates and timestamps as epoch numbers. Result cells are text; a large result
//! holds a timestamp in every row, so the common spelling is read without allocating and
//! chrono only sees the rest.

use chrono::NaiveDateTime;

/// Athena's timestamp text (`2024-06-01 10:00:00.123`, perhaps `T` for the space or ` UTC`
/// after it) → epoch ms; None when it is no timestamp.
pub(super) fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.strip_suffix(" UTC").unwrap_or(text);
    fast_timestamp(text.as_bytes()).or_else(|| {
        let text = text.trim();
        [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
    })
}

/// `n` ASCII digits at the start of `b` as a number.
fn digits(b: &[u8], n: usize) -> Option<i64> {
    let b = b.get(..n)?;
    b.iter().try_fold(0i64, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` → days since the epoch, without allocating.
pub(super) fn fast_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    days_from_civil(digits(b, 4)?, digits(&b[5..], 2)?, digits(&b[8..], 2)?)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.f…]` (Athena's timestamp text) → epoch ms; None for anything else
/// (the slow path then tries the other spellings).
fn fast_timestamp(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = fast_date(&b[..10])?;
    let (h, mi, sec) = (
        digits(&b[11..], 2)?,
        digits(&b[14..], 2)?,
        digits(&b[17..], 2)?,
    );
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut ms = 0;
    match b.get(19) {
        None => {}
        Some(b'.') => {
            let frac = &b[20..];
            if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for (i, &c) in frac.iter().take(3).enumerate() {
                ms += i64::from(c - b'0') * [100, 10, 1][i];
            }
        }
        Some(_) => return None,
    }
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

#[cfg(test)]
mod parse_tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;

    #[test]
    fn fast_timestamps_and_dates_agree_with_chrono() {
        let chrono_ms = |t: &str| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        for t in [
            "1970-01-01 00:00:00.000",
            "1969-12-31 23:59:59.999",
            "2024-02-29 12:34:56.7",
            "2000-03-01 00:00:00.123456",
            "2100-12-31 23:59:59.99",
            "1600-01-01 00:00:00.001",
        ] {
            assert_eq!(parse_timestamp(t), Some(chrono_ms(t)), "{t}");
        }
        assert_eq!(
            parse_timestamp("2024-06-01T10:00:00"),
            parse_timestamp("2024-06-01 10:00:00.000 UTC")
        );
        for bad in [
            "2023-02-29 00:00:00",
            "2024-06-01 24:00:00",
            "2024-06-01 10:00:00.",
            "soon",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        while d.year() < 2101 {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(
                fast_date(text.as_bytes()),
                Some((d - epoch).num_days()),
                "{text}"
            );
            d += chrono::Duration::days(13);
        }
        assert_eq!(fast_date(b"2024-13-01"), None);
        assert_eq!(fast_date(b"2024-1-01"), None);
    }
}
