//! A share's time window, pure: ISO 8601 instants or wall times in an IANA zone, DST gaps and
//! overlaps, and the state at an instant. Every public route and API status uses `state_at`.

use crate::error::{AppError, Field};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Years outside this range are refused: no client means them, and they keep arithmetic safe.
pub const YEAR_MIN: i32 = 1970;
pub const YEAR_MAX: i32 = 9999;

/// An IANA zone name; None or empty is UTC.
pub fn parse_zone(field: impl Into<Field>, raw: Option<&str>) -> Result<Tz, AppError> {
    match raw.map(str::trim).filter(|z| !z.is_empty()) {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            AppError::invalid(
                field,
                format!("'{name}' is not an IANA time zone (like Europe/Sofia or UTC)"),
            )
        }),
    }
}

fn in_range(field: &Field, t: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    use chrono::Datelike;
    if !(YEAR_MIN..=YEAR_MAX).contains(&t.year()) {
        return Err(AppError::invalid(
            field.clone(),
            format!("the year must be between {YEAR_MIN} and {YEAR_MAX}"),
        ));
    }
    Ok(t)
}

/// A date with an offset or `Z` is that instant; without one it is wall time in `zone`
/// (seconds optional). A DST gap or a date without a time → 400; an overlap → the earlier instant.
pub fn parse_instant(
    field: impl Into<Field>,
    raw: &str,
    zone: Tz,
) -> Result<DateTime<Utc>, AppError> {
    let field = &field.into();
    let s = raw.trim();
    let bad = || {
        AppError::invalid(
            field.clone(),
            format!("'{raw}' is not a date and time: use ISO 8601 like 2031-08-18T18:29 (wall time in the zone) or 2031-08-18T15:29:00Z"),
        )
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return in_range(field, t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return in_range(field, t.with_timezone(&Utc));
        }
    }
    if let Some(stripped) = s.strip_suffix(['Z', 'z']) {
        for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
            if let Ok(n) = NaiveDateTime::parse_from_str(stripped, fmt) {
                return in_range(field, n.and_utc());
            }
        }
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
    .ok_or_else(bad)?;
    use chrono::Datelike;
    if !(YEAR_MIN..=YEAR_MAX).contains(&naive.year()) {
        return Err(AppError::invalid(
            field.clone(),
            format!("the year must be between {YEAR_MIN} and {YEAR_MAX}"),
        ));
    }
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
        LocalResult::None => Err(AppError::invalid(
            field.clone(),
            format!("{naive} does not exist in {zone}: the clocks skip it (daylight saving time)"),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Revoked,
    Expired,
    Exhausted,
    Scheduled,
    Active,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::Exhausted => "exhausted",
            State::Scheduled => "scheduled",
            State::Active => "active",
        }
    }

    pub fn parse(raw: &str) -> Option<State> {
        [
            State::Revoked,
            State::Expired,
            State::Exhausted,
            State::Scheduled,
            State::Active,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// What decides a share's state.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub revoked: bool,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_downloads: Option<i64>,
    pub downloads: i64,
}

/// API.md's order: revoked, expired (now >= expires_at), exhausted, scheduled (now < starts_at),
/// active.
pub fn state_at(w: &Window, now: DateTime<Utc>) -> State {
    if w.revoked {
        State::Revoked
    } else if w.expires_at.is_some_and(|e| now >= e) {
        State::Expired
    } else if w.max_downloads.is_some_and(|m| w.downloads >= m) {
        State::Exhausted
    } else if w.starts_at.is_some_and(|s| now < s) {
        State::Scheduled
    } else {
        State::Active
    }
}

/// "24 Aug 2031, 18:29 Europe/Sofia": an instant as the people a share is sent to read it.
pub fn display_in(t: DateTime<Utc>, zone: &str) -> String {
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    format!(
        "{} {}",
        t.with_timezone(&tz).format("%-d %b %Y, %H:%M"),
        tz.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> Tz {
        parse_zone("tz", Some(name)).unwrap()
    }
    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn at(raw: &str, zone: &str) -> Result<String, String> {
        parse_instant("expires_at", raw, tz(zone))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn offsets_beat_zones_and_wall_times_use_them() {
        assert_eq!(
            at("2024-08-18T18:29", "Europe/Sofia").unwrap(),
            "2024-08-18T15:29:00Z"
        );
        assert_eq!(
            at("2024-08-18T18:29:30", "Europe/Sofia").unwrap(),
            "2024-08-18T15:29:30Z"
        );
        assert_eq!(
            at("2024-08-18 18:29", "Europe/Sofia").unwrap(),
            "2024-08-18T15:29:00Z"
        );
        assert_eq!(
            at("2024-08-18T18:29:00Z", "Europe/Sofia").unwrap(),
            "2024-08-18T18:29:00Z"
        );
        assert_eq!(
            at("2024-08-18T18:29Z", "Europe/Sofia").unwrap(),
            "2024-08-18T18:29:00Z"
        );
        assert_eq!(
            at("2024-08-18T18:29+01:00", "Europe/Sofia").unwrap(),
            "2024-08-18T17:29:00Z"
        );
        assert_eq!(
            at("2024-08-18T18:29:00.750-05:00", "UTC").unwrap(),
            "2024-08-18T23:29:00Z"
        );
        assert_eq!(
            at("2031-11-30T17:04", "UTC").unwrap(),
            "2031-11-30T17:04:00Z"
        );
        // Far zones: +14:00 and -03:30.
        assert_eq!(
            at("2030-01-01T00:00", "Pacific/Kiritimati").unwrap(),
            "2029-12-31T10:00:00Z"
        );
        assert_eq!(
            at("2030-01-01T00:00", "America/St_Johns").unwrap(),
            "2030-01-01T03:30:00Z"
        );
    }

    #[test]
    fn refusals() {
        for (raw, zone) in [
            ("2031-08-18", "UTC"),
            ("tomorrow", "UTC"),
            ("2031-13-01T00:00", "UTC"),
            ("", "UTC"),
            ("99999-01-01T00:00", "UTC"),
            ("1960-01-01T00:00", "UTC"),
            ("+275760-09-13T00:00:00Z", "UTC"),
            ("9999-12-31T23:59-14:00", "UTC"),
        ] {
            assert!(at(raw, zone).is_err(), "{raw} accepted");
        }
        assert!(parse_zone("tz", Some("Mars/Olympus")).is_err());
        assert_eq!(parse_zone("tz", None).unwrap(), Tz::UTC);
        assert_eq!(parse_zone("tz", Some("")).unwrap(), Tz::UTC);
    }

    #[test]
    fn dst_gaps_and_overlaps() {
        // Sofia springs forward 2031-03-30 03:00 → 04:00 and falls back 2031-10-26 04:00 → 03:00.
        let e = at("2031-03-30T03:30", "Europe/Sofia").unwrap_err();
        assert!(e.contains("does not exist in Europe/Sofia"), "{e}");
        assert_eq!(
            at("2031-10-26T03:30", "Europe/Sofia").unwrap(),
            "2031-10-26T00:30:00Z"
        );
        // New York: 2030-03-10 02:30 is skipped; 2030-11-03 01:30 happens twice (EDT first).
        assert!(at("2030-03-10T02:30", "America/New_York").is_err());
        assert_eq!(
            at("2030-11-03T01:30", "America/New_York").unwrap(),
            "2030-11-03T05:30:00Z"
        );
        // Lord Howe shifts by 30 minutes: 2030-10-06 02:00 → 02:30 (gap), 2030-04-07 02:00 → 01:30.
        assert!(at("2030-10-06T02:15", "Australia/Lord_Howe").is_err());
        assert_eq!(
            at("2030-10-06T02:30", "Australia/Lord_Howe").unwrap(),
            "2030-10-05T15:30:00Z"
        );
        assert_eq!(
            at("2030-04-07T01:45", "Australia/Lord_Howe").unwrap(),
            "2030-04-06T14:45:00Z"
        );
    }

    #[test]
    fn state_at_the_boundaries() {
        let start = utc("2031-01-01T00:00:00Z");
        let end = utc("2031-02-01T00:00:00Z");
        let w = Window {
            revoked: false,
            starts_at: Some(start),
            expires_at: Some(end),
            max_downloads: Some(2),
            downloads: 0,
        };
        let s = chrono::Duration::seconds(1);
        assert_eq!(state_at(&w, start - s), State::Scheduled);
        assert_eq!(state_at(&w, start), State::Active);
        assert_eq!(state_at(&w, end - s), State::Active);
        assert_eq!(state_at(&w, end), State::Expired);
        assert_eq!(
            state_at(&Window { downloads: 2, ..w }, start),
            State::Exhausted
        );
        // Expired wins over exhausted; exhausted over scheduled; revoked over all.
        assert_eq!(state_at(&Window { downloads: 2, ..w }, end), State::Expired);
        assert_eq!(
            state_at(&Window { downloads: 5, ..w }, start - s),
            State::Exhausted
        );
        assert_eq!(
            state_at(
                &Window {
                    revoked: true,
                    downloads: 5,
                    ..w
                },
                end
            ),
            State::Revoked
        );
        let open = Window {
            revoked: false,
            starts_at: None,
            expires_at: None,
            max_downloads: None,
            downloads: 99,
        };
        assert_eq!(state_at(&open, start), State::Active);
    }

    #[test]
    fn display() {
        assert_eq!(
            display_in(utc("2031-08-24T15:29:00Z"), "Europe/Sofia"),
            "24 Aug 2031, 18:29 Europe/Sofia"
        );
    }
}
