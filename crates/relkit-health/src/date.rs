//! Civil dates for `--as-of` and the report (UTC, proleptic Gregorian), on relkit-core's
//! calendar.

use crate::error::{Error, Result};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (a day past the month's end rolls over), on
/// relkit-core's calendar (the `time` crate); `i64::MIN / DAY` for an unrepresentable date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (Ok(y), Ok(m), Ok(d)) = (i32::try_from(y), u8::try_from(m), u8::try_from(d)) else {
        return i64::MIN / DAY;
    };
    relkit_core::time::epoch_from_civil(y, m, d).map_or(i64::MIN / DAY, |s| s / DAY)
}

/// The civil date `(year, month, day)` of a Unix time.
pub fn civil(secs: i64) -> (i64, i64, i64) {
    let c = relkit_core::time::civil(secs);
    (i64::from(c.year), i64::from(c.month), i64::from(c.day))
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn format(secs: i64) -> String {
    let (y, m, d) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The last second (23:59:59 UTC) of the day `YYYY-MM-DD`: `--as-of` includes its whole day.
pub fn parse_end_of_day(text: &str) -> Result<i64> {
    let bad = || Error::Date(text.to_string());
    let mut parts = text.split('-');
    let mut num = |len: usize| -> Result<i64> {
        let p = parts.next().ok_or_else(bad)?;
        if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (y, m, d) = (num(4)?, num(2)?, num(2)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = days_from_civil(y, m, d);
    if civil(days * DAY) != (y, m, d) {
        return Err(bad());
    }
    Ok(days * DAY + DAY - 1)
}

/// Whole days from `from` to `to` (both Unix times; floor).
pub fn days_between(from: i64, to: i64) -> i64 {
    (to - from).div_euclid(DAY)
}

/// The first second of the calendar quarter holding `secs`.
pub fn quarter_start(secs: i64) -> i64 {
    let (y, m, _) = civil(secs);
    days_from_civil(y, (m - 1) / 3 * 3 + 1, 1) * DAY
}

/// The first second of the quarter after the one starting at `start`.
pub fn next_quarter(start: i64) -> i64 {
    let (y, m, _) = civil(start);
    let (y, m) = if m >= 10 { (y + 1, 1) } else { (y, m + 3) };
    days_from_civil(y, m, 1) * DAY
}

/// `YYYY-Qn` of a Unix time.
pub fn quarter_label(secs: i64) -> String {
    let (y, m, _) = civil(secs);
    format!("{y}-Q{}", (m - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_dates_are_refused() {
        let t = parse_end_of_day("2022-06-30").unwrap();
        assert_eq!(format(t), "2022-06-30");
        assert_eq!(t % DAY, DAY - 1);
        assert_eq!(
            days_between(parse_end_of_day("2020-03-17").unwrap(), t),
            835
        );
        for bad in ["2022-02-30", "2022-6-30", "20220630", "2022-06-30x", ""] {
            assert!(parse_end_of_day(bad).is_err(), "{bad}");
        }
        let q = quarter_start(t);
        assert_eq!(format(q), "2022-04-01");
        assert_eq!(format(next_quarter(q)), "2022-07-01");
        assert_eq!(quarter_label(t), "2022-Q2");
    }
}
