//! Civil time for reports and formats, on the `time` crate (no hand-written calendar code
//! elsewhere in relkit): Unix seconds ⇄ `YYYY-MM-DDThh:mm:ssZ`, the civil date of a Unix time
//! (zip's DOS fields), and the Unix time of a civil date.
//!
//! Every function takes and gives UTC; none reads the local zone.

use time::{Date, Month, OffsetDateTime};

/// The earliest time [`rfc3339_from_epoch`] and [`civil`] represent: 0000-01-01T00:00:00Z.
pub const MIN_EPOCH: i64 = -62_167_219_200;
/// The latest: 9999-12-31T23:59:59Z.
pub const MAX_EPOCH: i64 = 253_402_300_799;

/// A UTC civil time: year, month (1–12), day (1–31), hour, minute, second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// The year (0–9999).
    pub year: i32,
    /// The month, 1–12.
    pub month: u8,
    /// The day of the month, 1–31.
    pub day: u8,
    /// The hour, 0–23.
    pub hour: u8,
    /// The minute, 0–59.
    pub minute: u8,
    /// The second, 0–59.
    pub second: u8,
}

/// The UTC civil time of `secs` since the Unix epoch, clamped to years 0–9999 (the range
/// RFC 3339 can write).
pub fn civil(secs: i64) -> Civil {
    let t = OffsetDateTime::from_unix_timestamp(secs.clamp(MIN_EPOCH, MAX_EPOCH))
        .expect("the clamped range is representable");
    Civil {
        year: t.year(),
        month: u8::from(t.month()),
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
    }
}

/// `secs` since the Unix epoch as RFC 3339 UTC with whole seconds, `YYYY-MM-DDThh:mm:ssZ`
/// (clamped to years 0–9999).
pub fn rfc3339_from_epoch(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The current time as RFC 3339 UTC with whole seconds.
pub fn now_rfc3339() -> String {
    rfc3339_from_epoch(OffsetDateTime::now_utc().unix_timestamp())
}

/// Seconds since the Unix epoch of midnight UTC on `day` of `month` of `year`. A day past the
/// month's end rolls over into the next month (DOS dates in zips can say 31 February; readers
/// take it as arithmetic, as this does). `None` for a month outside 1–12 or a year outside
/// the `time` crate's range.
pub fn epoch_from_civil(year: i32, month: u8, day: u8) -> Option<i64> {
    let first = Date::from_calendar_date(year, Month::try_from(month).ok()?, 1).ok()?;
    let midnight = first.midnight().assume_utc().unix_timestamp();
    Some(midnight + (i64::from(day) - 1) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_from_epoch(0), "1970-01-01T00:00:00Z");
        // CPython 3.13.5's tarball mtime.
        assert_eq!(rfc3339_from_epoch(1_749_656_217), "2025-06-11T15:36:57Z");
        assert_eq!(rfc3339_from_epoch(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339_from_epoch(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_epoch(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339_from_epoch(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn civil_dates_round_trip() {
        for secs in [0, 1_709_634_030, 951_782_400, -86_400, 4_354_819_198] {
            let c = civil(secs);
            let back = epoch_from_civil(c.year, c.month, c.day).unwrap()
                + i64::from(c.hour) * 3600
                + i64::from(c.minute) * 60
                + i64::from(c.second);
            assert_eq!(back, secs);
        }
        assert_eq!(epoch_from_civil(2000, 3, 1), Some(11_017 * 86_400));
        // 31 February 2001 is 3 March.
        assert_eq!(epoch_from_civil(2001, 2, 31), epoch_from_civil(2001, 3, 3));
        assert_eq!(epoch_from_civil(2001, 13, 1), None);
    }
}
