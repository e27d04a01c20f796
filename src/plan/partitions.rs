//! Partition predicates derived from a time range: every UTC day the range touches, edge days
//! included, whatever offset the caller's times carry.

use chrono::{DateTime, NaiveDate, Utc};

/// The start of a UTC day.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The UTC days (`eventday` partitions) that the inclusive range `[from, to]` touches.
pub fn utc_days(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
    let first = from.date_naive();
    let last = to.date_naive();
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// `YYYYMMDD`, the 8-character `eventday` partition value.
pub fn event_day(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn days(from: &str, to: &str) -> Vec<String> {
        utc_days(t(from), t(to))
            .into_iter()
            .map(event_day)
            .collect()
    }

    #[test]
    fn edges() {
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "inside one day",
                "2024-06-01T03:00:00Z",
                "2024-06-01T04:00:00Z",
                &["20240601"],
            ),
            (
                "midnight start",
                "2024-06-01T00:00:00Z",
                "2024-06-01T23:59:59Z",
                &["20240601"],
            ),
            (
                "ends exactly at midnight: the next day's first instant is in range",
                "2024-06-01T12:00:00Z",
                "2024-06-02T00:00:00Z",
                &["20240601", "20240602"],
            ),
            (
                "last millisecond before midnight",
                "2024-06-01T12:00:00Z",
                "2024-06-01T23:59:59.999Z",
                &["20240601"],
            ),
            (
                "month end",
                "2024-06-30T22:00:00Z",
                "2024-07-01T02:00:00Z",
                &["20240630", "20240701"],
            ),
            (
                "year end",
                "2023-12-31T23:00:00Z",
                "2024-01-01T01:00:00Z",
                &["20231231", "20240101"],
            ),
            (
                "leap day",
                "2024-02-28T12:00:00Z",
                "2024-03-01T00:00:01Z",
                &["20240228", "20240229", "20240301"],
            ),
            (
                "non-UTC input east of UTC: 01:30+02:00 is the previous UTC day",
                "2024-06-02T01:30:00+02:00",
                "2024-06-02T03:00:00+02:00",
                &["20240601", "20240602"],
            ),
            (
                "non-UTC input west of UTC: 22:00-05:00 is the next UTC day",
                "2024-06-01T22:00:00-05:00",
                "2024-06-01T23:00:00-05:00",
                &["20240602"],
            ),
            (
                "an instant",
                "2024-06-01T00:00:00Z",
                "2024-06-01T00:00:00Z",
                &["20240601"],
            ),
        ];
        for (name, from, to, want) in cases {
            assert_eq!(&days(from, to), want, "{name}");
        }
    }

    #[test]
    fn a_week_has_every_day() {
        let got = days("2024-06-01T10:00:00Z", "2024-06-08T10:00:00Z");
        assert_eq!(got.len(), 8);
        assert_eq!(got.first().unwrap(), "20240601");
        assert_eq!(got.last().unwrap(), "20240608");
        let _ = FixedOffset::east_opt(0);
    }
}
