//! How old a vulnerability DB is, for gates that must not pass on stale or demo data: the time
//! of its last successful import and the newest `modified` time among its records, both
//! stored in the DB, judged against a maximum age.
//!
//! A DB is fresh only when **both** times are within the maximum age: an import made today of
//! a months-old mirror is as stale as a months-old import. A DB that does not record its import
//! time (made before relkit recorded it) is never fresh. The bundled sample DB is marked as
//! such; a gate uses it only when the user asked for it by name.
//!
//! A DB kept by `relkit db update` also records, per feed source, the time of its last
//! successful update: a source not updated within the maximum age makes the DB stale too
//! (a fresh OSV next to a months-old NVD is not a fresh DB), naming the source.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The times a DB records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// When the last successful import finished (RFC 3339, UTC), if recorded.
    pub last_import: Option<String>,
    /// The newest `modified` value among the records, as stored.
    pub newest_record: Option<String>,
    /// The feed sources `relkit db update` recorded (empty for imported-only DBs).
    pub sources: Vec<crate::db::SourceStatus>,
    /// Whether this is relkit's bundled sample DB (demo data).
    pub sample: bool,
}

impl Freshness {
    /// `Ok` when both the import and the newest record are at most `max_age` old at `now`;
    /// else the reason, with the ages, in words fit for an error message.
    pub fn check(&self, max_age: Duration, now: OffsetDateTime) -> Result<(), String> {
        let limit = format_age(max_age);
        let Some(imported) = self.last_import.as_deref() else {
            return Err(
                "the DB does not record when it was imported (made by an older relkit); import it again with `relkit db import` or `relkit db update`".into(),
            );
        };
        let imported_at = parse_time(imported)
            .ok_or_else(|| format!("the DB's import time {imported:?} cannot be read"))?;
        let Some(newest) = self.newest_record.as_deref() else {
            return Err("the DB holds no records".into());
        };
        let newest_at = parse_time(newest)
            .ok_or_else(|| format!("the DB's newest record time {newest:?} cannot be read"))?;
        let age = |t: OffsetDateTime| Duration::try_from(now - t).unwrap_or(Duration::ZERO);
        let (import_age, record_age) = (age(imported_at), age(newest_at));
        let mut stale = Vec::new();
        if import_age > max_age {
            stale.push(format!(
                "it was imported {} ago ({imported})",
                format_age(import_age)
            ));
        }
        if record_age > max_age {
            stale.push(format!(
                "its newest record was modified {} ago ({newest})",
                format_age(record_age)
            ));
        }
        for src in &self.sources {
            match src.last_update.as_deref().and_then(parse_time) {
                Some(t) if age(t) <= max_age => {}
                Some(t) => stale.push(format!(
                    "source {} was last updated {} ago ({})",
                    src.source,
                    format_age(age(t)),
                    src.last_update.as_deref().unwrap_or_default()
                )),
                None => stale.push(format!("source {} has not completed an update", src.source)),
            }
        }
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the DB is older than the maximum age of {limit}: {}; run `relkit db update` (or import current data)",
                stale.join(" and ")
            ))
        }
    }
}

/// Reads a time as records carry it: `YYYY-MM-DD`, optionally followed by `THH:MM:SS`, a
/// fraction and an offset (RFC 3339 when complete; NVD leaves the offset out, RustSec gives
/// only a date). Times without an offset are taken as UTC.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month = time::Month::try_from(num(5..7)? as u8).ok()?;
    let date = time::Date::from_calendar_date(num(0..4)? as i32, month, num(8..10)? as u8).ok()?;
    let clock = if b.len() >= 19 && (b[10] == b'T' || b[10] == b' ') {
        time::Time::from_hms(num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8).ok()?
    } else if b.len() == 10 {
        time::Time::MIDNIGHT
    } else {
        return None;
    };
    Some(date.with_time(clock).assume_utc())
}

/// Parses a maximum age: a whole number followed by `d` (days) or `h` (hours), e.g. `7d`.
pub fn parse_max_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = n.parse().map_err(|_| {
        format!("{s:?}: give a whole number of days or hours, like \"7d\" or \"36h\"")
    })?;
    match unit {
        "d" => Ok(Duration::from_secs(n * 86_400)),
        "h" => Ok(Duration::from_secs(n * 3_600)),
        _ => Err(format!(
            "{s:?}: give a whole number of days or hours, like \"7d\" or \"36h\""
        )),
    }
}

/// An age in days (and hours under two days), for messages.
pub fn format_age(d: Duration) -> String {
    let hours = d.as_secs() / 3_600;
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        parse_time(s).unwrap()
    }

    #[test]
    fn record_times_in_every_feed_form() {
        assert_eq!(at("2024-03-29T17:15:21Z"), at("2024-03-29T17:15:21.327"));
        assert_eq!(at("2024-03-29"), at("2024-03-29T00:00:00Z"));
        assert_eq!(at("2024-03-29T19:15:21+02:00"), at("2024-03-29T17:15:21Z"));
        assert!(parse_time("29/03/2024").is_none());
        assert!(parse_time("2024-13-01").is_none());
        assert!(parse_time("2024-03-29Tgarbage").is_none());
    }

    #[test]
    fn both_times_must_be_recent() {
        let now = at("2026-12-05T12:00:00Z");
        let week = parse_max_age("7d").unwrap();
        let f = |imp: Option<&str>, rec: Option<&str>| Freshness {
            last_import: imp.map(str::to_string),
            newest_record: rec.map(str::to_string),
            sources: Vec::new(),
            sample: false,
        };
        assert!(
            f(Some("2026-12-04T00:00:00Z"), Some("2026-12-03T10:00:00Z"))
                .check(week, now)
                .is_ok()
        );
        let e = f(Some("2026-12-04T00:00:00Z"), Some("2026-06-01T00:00:00Z"))
            .check(week, now)
            .unwrap_err();
        assert!(e.contains("newest record was modified 187 days ago"), "{e}");
        let e = f(Some("2026-11-01T00:00:00Z"), Some("2026-12-03T00:00:00Z"))
            .check(week, now)
            .unwrap_err();
        assert!(e.contains("imported 34 days ago"), "{e}");
        let e = f(None, Some("2026-12-03T00:00:00Z"))
            .check(week, now)
            .unwrap_err();
        assert!(e.contains("does not record when it was imported"), "{e}");
        assert!(
            f(Some("2026-12-04T00:00:00Z"), None)
                .check(week, now)
                .is_err()
        );
    }

    #[test]
    fn every_recorded_source_must_be_recent() {
        let now = at("2026-12-05T12:00:00Z");
        let week = parse_max_age("7d").unwrap();
        let src = |name: &str, t: Option<&str>| crate::db::SourceStatus {
            source: name.into(),
            last_update: t.map(str::to_string),
            newest_record: Some("2026-12-04T00:00:00Z".into()),
        };
        let mut f = Freshness {
            last_import: Some("2026-12-05T00:00:00Z".into()),
            newest_record: Some("2026-12-04T00:00:00Z".into()),
            sources: vec![
                src("osv-PyPI", Some("2026-12-05T00:00:00Z")),
                src("nvd", Some("2026-09-01T00:00:00Z")),
            ],
            sample: false,
        };
        let e = f.check(week, now).unwrap_err();
        assert!(e.contains("source nvd was last updated 95 days ago"), "{e}");
        assert!(!e.contains("osv-PyPI"), "{e}");
        f.sources[1] = src("nvd", None);
        let e = f.check(week, now).unwrap_err();
        assert!(e.contains("source nvd has not completed an update"), "{e}");
        f.sources.pop();
        assert!(f.check(week, now).is_ok());
    }

    #[test]
    fn max_age_syntax() {
        assert_eq!(parse_max_age("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_max_age("36h").unwrap(), Duration::from_secs(129_600));
        for bad in ["7", "d", "-1d", "7 days", "1.5d", ""] {
            assert!(parse_max_age(bad).is_err(), "{bad}");
        }
    }
}
