//! The window fields of the owner's forms (a share's and a file request's): the start and the
//! expiry as typed, in their zones, with the expiry presets, read into instants; every problem
//! goes beside its field.

use super::form_errors::FormErrors;
use crate::domain::window;
use crate::error::{AppError, Field};
use chrono::{DateTime, Utc};

/// The window fields of a form (the share form's and the request form's), as typed.
pub(super) struct WindowFields<'a> {
    pub starts_at: &'a str,
    pub starts_tz: &'a str,
    pub expires_at: &'a str,
    pub expires_tz: &'a str,
    /// A preset (`1d`, `7d`, `30d`) or "" (the date field; empty: never).
    pub expires_in: &'a str,
}

/// The start and the expiry as instants: each a wall time in its zone (empty: none); a preset
/// wins over the expiry's date field. Errors go beside their fields.
pub(super) fn window_times(
    errors: &mut FormErrors,
    now: DateTime<Utc>,
    w: &WindowFields<'_>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut at = |field: &str, tz_field: &str, raw: &str, tz: &str| {
        let zone = errors.take(window::parse_zone(Field::Named(tz_field.into()), Some(tz)))?;
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        match window::parse_instant(Field::Named(field.into()), raw, zone) {
            Ok(t) => Some(t),
            Err(AppError::InvalidField { message, .. })
                if message.contains("is not a date and time") =>
            {
                errors.add(
                    field,
                    format!("'{raw}' is not a date and time (like 2031-08-18 18:29)."),
                );
                None
            }
            Err(e) => errors.take(Err(e)),
        }
    };
    let starts = at("starts_at", "starts_tz", w.starts_at, w.starts_tz);
    let expires = at("expires_at", "expires_tz", w.expires_at, w.expires_tz);
    // A preset wins over the date field: "in 7 days" from now, to the minute.
    let days = match w.expires_in.trim() {
        "" => None,
        "1d" => Some(1),
        "7d" => Some(7),
        "30d" => Some(30),
        other => {
            errors.add(
                "expires_in",
                format!("'{other}' is not one of the choices (1d, 7d, 30d, or empty)."),
            );
            None
        }
    };
    let expires = match days {
        Some(d) => {
            let t = now + chrono::Duration::days(d);
            Some(t - chrono::Duration::seconds(t.timestamp() % 60))
        }
        None => expires,
    };
    if let Some(e) = expires {
        if e <= now {
            errors.add("expires_at", "The expiry must be in the future.");
        } else if starts.is_some_and(|s| e <= s) {
            errors.add("expires_at", "The expiry must be after the start.");
        }
    }
    (starts, expires)
}

/// An instant as a `datetime-local` value in `zone` (a form filled in to edit).
pub fn local_input(t: Option<DateTime<Utc>>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    t.map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}
