//! A share's activity in plain words: what happened ("Downloaded", "Wrong password"), to which
//! file (its current name; "all files (zip)" for the zip), when (in the share's zone), and from
//! which browser ("Firefox on Windows 10", read from the user agent by `woothee`).

use super::state;
use crate::domain::auth::WebUser;
use crate::domain::library::Page;
use crate::domain::shares::{Activity, Share};
use crate::domain::window::display_in;
use crate::error::AppError;
use crate::web::page;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

/// How many events the page shows, newest first.
const ACTIVITY_PAGE: i64 = 500;

struct Row {
    when: String,
    what: &'static str,
    file: String,
    browser: String,
}

#[derive(Template)]
#[template(path = "app/activity.html")]
struct ActivityPage {
    email: String,
    csrf: String,
    title: String,
    rows: Vec<Row>,
}

pub async fn share_activity(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let s = state.shares.get(user.org_id, &path).await?;
    let (events, _) = state
        .shares
        .activity(
            user.org_id,
            &path,
            Page {
                limit: ACTIVITY_PAGE,
                offset: 0,
            },
        )
        .await?;
    let mut uuids: Vec<String> = events.iter().filter_map(|a| a.file_uuid.clone()).collect();
    uuids.sort();
    uuids.dedup();
    let names = state.assets.file_names(user.org_id, uuids).await?;
    let zone = share_zone(&s);
    let rows = events
        .iter()
        .map(|a| Row {
            when: display_in(a.at, zone),
            what: event_label(&a.kind),
            file: file_label(a, &names),
            browser: browser_summary(&a.user_agent),
        })
        .collect();
    page(&ActivityPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        title: s.title.clone(),
        rows,
    })
}

/// The zone the share's people read its times in: its expiry's, unless only its start has one.
fn share_zone(s: &Share) -> &str {
    if s.expires_tz == "UTC" && s.starts_tz != "UTC" {
        &s.starts_tz
    } else {
        &s.expires_tz
    }
}

/// An event code as the page says it.
fn event_label(kind: &str) -> &'static str {
    match kind {
        "view" => "Opened the share",
        "download" => "Downloaded",
        "unlock_failed" => "Wrong password",
        _ => "Something else",
    }
}

/// The file an event was about: its name now, the zip for a download of no one file, or
/// nothing for an event about the share itself.
fn file_label(a: &Activity, names: &HashMap<String, String>) -> String {
    match (&a.file_uuid, a.kind.as_str()) {
        (Some(uuid), _) => names
            .get(uuid)
            .cloned()
            .unwrap_or_else(|| "a deleted file".into()),
        (None, "download") => "all files (zip)".into(),
        (None, _) => String::new(),
    }
}

/// A short browser and OS summary of a user agent: "Chrome on macOS", "Googlebot", or the
/// first product name of an agent nobody knows ("curl").
fn browser_summary(user_agent: &str) -> String {
    const UNKNOWN: &str = "an unknown browser";
    let ua = user_agent.trim();
    fn known(s: &str) -> Option<&str> {
        (!s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN).then_some(s)
    }
    let parsed = woothee::parser::Parser::new().parse(ua);
    let (name, os, crawler) = match &parsed {
        Some(r) => (
            known(r.name).map(str::to_string),
            known(r.os).map(os_label),
            r.category == "crawler",
        ),
        None => (None, None, false),
    };
    // The first product name ("curl" of "curl/8.5.0"), for what woothee only calls a library.
    let product = || -> Option<String> {
        let p: String = ua
            .split(['/', ' ', ';', '('])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(40)
            .collect();
        (!p.is_empty()).then_some(p)
    };
    match (name, os) {
        (Some(name), _) if name == "HTTP Library" => product().unwrap_or(name),
        (Some(name), Some(os)) if !crawler => format!("{name} on {os}"),
        (Some(name), _) => name,
        (None, Some(os)) => format!("a browser on {os}"),
        (None, None) => product().unwrap_or_else(|| UNKNOWN.into()),
    }
}

/// woothee's OS names, as people write them.
fn os_label(os: &str) -> String {
    match os {
        "Mac OSX" => "macOS".into(),
        "Windows UNKNOWN Ver" => "Windows".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_in_a_few_words() {
        for (ua, want) in [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Windows 10",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                "Chrome on macOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/148.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                "Edge on Windows 10",
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Googlebot",
            ),
            ("curl/8.5.0", "curl"),
            ("Wget/1.21.4", "Wget"),
            ("", "an unknown browser"),
            ("<script>", "script"),
        ] {
            assert_eq!(browser_summary(ua), want, "{ua}");
        }
    }

    #[test]
    fn events_and_files_in_plain_words() {
        assert_eq!(event_label("unlock_failed"), "Wrong password");
        assert_eq!(event_label("view"), "Opened the share");
        assert_eq!(event_label("download"), "Downloaded");
        let event = |kind: &str, file: Option<&str>| Activity {
            at: chrono::Utc::now(),
            kind: kind.into(),
            file_uuid: file.map(str::to_string),
            ip_hash: String::new(),
            user_agent: String::new(),
        };
        let names = HashMap::from([("a".to_string(), "deck.pdf".to_string())]);
        assert_eq!(
            file_label(&event("download", Some("a")), &names),
            "deck.pdf"
        );
        assert_eq!(
            file_label(&event("download", Some("gone")), &names),
            "a deleted file"
        );
        assert_eq!(
            file_label(&event("download", None), &names),
            "all files (zip)"
        );
        assert_eq!(file_label(&event("view", None), &names), "");
    }
}
