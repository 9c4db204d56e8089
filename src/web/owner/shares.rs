//! The shares list and its one-click actions.

use super::{see_other, state};
use crate::api::Params;
use crate::domain::auth::WebUser;
use crate::domain::paging;
use crate::domain::shares::{SharePatch, StatusChange, TimeValue};
use crate::domain::types::Email;
use crate::domain::window::{display_in, State};
use crate::error::AppError;
use crate::web::guard::{last, CsrfForm};
use crate::web::page;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// The fields of the one-click actions: `by` (`day` or `week`) to extend, `email` to resend.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionFields {
    #[serde(deserialize_with = "last")]
    by: String,
    #[serde(deserialize_with = "last")]
    email: String,
}

/// Revoke, restore, extend the expiry by a day or a week, or mail the link again: one click each.
pub async fn share_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm<ActionFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let (uuid, action) = path.into_inner();
    let patch = match action.as_str() {
        "revoke" => SharePatch {
            status: Some(StatusChange::Revoke),
            ..Default::default()
        },
        "restore" => SharePatch {
            status: Some(StatusChange::Restore),
            ..Default::default()
        },
        "extend" => {
            let by = match form.by.as_str() {
                "day" => chrono::Duration::days(1),
                "week" => chrono::Duration::weeks(1),
                other => {
                    return Err(AppError::invalid(
                        "by",
                        format!("'{other}' is not day or week"),
                    ))
                }
            };
            SharePatch {
                expires_at: Some(Some(TimeValue::Extend(by))),
                ..Default::default()
            }
        }
        "resend" => {
            let email = Email::parse("email", &form.email)?;
            state
                .shares
                .notify(user.org_id, &uuid, vec![], vec![email])
                .await?;
            return Ok(done("resent", &uuid));
        }
        _ => return Err(AppError::not_found("This route")),
    };
    state.shares.update(user.org_id, &uuid, patch).await?;
    let code = match action.as_str() {
        "revoke" => "revoked",
        "restore" => "restored",
        _ => "extended",
    };
    Ok(done(code, &uuid))
}

/// Back to the list after an action, which says what happened (`flash`).
pub(super) fn done(code: &str, uuid: &str) -> HttpResponse {
    see_other(&format!("/app/shares?done={code}&share={uuid}"))
}

/// The one line that confirms an action: from the code the redirect carries (never text from
/// the URL) and the share as it is now.
pub(super) fn flash(code: &str, share: Option<&crate::domain::shares::Share>) -> Option<String> {
    // "Share “Q3 deck”", or just "Share" when it cannot be read (gone, another org's).
    let title = share.map_or_else(String::new, |s| format!(" “{}”", s.title));
    Some(match code {
        "created" => format!("Share{title} created."),
        "updated" => format!("Share{title} saved."),
        "revoked" => format!("Share{title} revoked: its link no longer works."),
        "restored" => format!("Share{title} restored."),
        "extended" => match share.and_then(|s| s.expires_at.map(|e| (e, &s.expires_tz))) {
            Some((at, tz)) => format!("Share{title} now expires {}.", display_in(at, tz)),
            None => format!("Share{title} no longer expires."),
        },
        "resent" => format!(
            "The link{} was mailed again.",
            title.replacen(' ', " to ", 1)
        ),
        "deleted" => "The share was deleted: its link no longer works.".to_string(),
        _ => return None,
    })
}

struct ShareCard {
    uuid: String,
    title: String,
    status: &'static str,
    link: String,
    expiry: String,
    views: i64,
    downloads: i64,
    /// "12 files, 3.4 MiB".
    contents: String,
    password: bool,
    recipients: Vec<(String, String)>,
    revoked: bool,
    created: bool,
}

#[derive(Template)]
#[template(path = "app/shares.html")]
struct SharesPage {
    email: String,
    csrf: String,
    shares: Vec<ShareCard>,
    /// The title filter as typed ("" for none), and the page's place: "1–50 of 1,234".
    q: String,
    label: String,
    /// `/app/shares?...` of the previous and next pages.
    prev: Option<String>,
    next: Option<String>,
    /// What the last action did.
    notice: Option<String>,
}

/// Shares per page: each card carries its recipients and actions.
pub const SHARES_PER_PAGE: usize = 50;
const MAX_Q: usize = 200;

/// `<created_at>.<id>` of a share, as the list's links carry it.
fn share_key(raw: &str) -> Option<(i64, i64)> {
    let (a, b) = raw.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// `GET /app/shares?q=&after=|before=&at=`: a page of the org's shares, newest first; only
/// that page's shares are read.
pub async fn list_shares(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let q = params.get("q").unwrap_or("").trim().to_string();
    if q.chars().count() > MAX_Q {
        return Err(AppError::invalid(
            "q",
            format!("the title filter is longer than {MAX_Q} characters"),
        ));
    }
    // An unreadable key is the first page.
    let after = params.get("after").and_then(share_key);
    let before = params.get("before").and_then(share_key);
    let first_page = after.is_none() && before.is_none();
    let contains = Some(q.clone()).filter(|q| !q.is_empty());
    let pg = state
        .shares
        .list_page(user.org_id, after, before, contains, SHARES_PER_PAGE)
        .await?;
    let total = pg.total;
    let len = pg.shares.len() as u64;
    // The first share's place, carried by the links (no count of the shares before it).
    let at = if first_page || !pg.has_prev {
        0
    } else {
        params
            .get("at")
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(0)
            .min(total)
    };
    let label = if len == 0 {
        format!("0 of {}", paging::thousands(total))
    } else {
        format!(
            "{}\u{2013}{} of {}",
            paging::thousands(at + 1),
            paging::thousands(at + len),
            paging::thousands(total.max(at + len))
        )
    };
    let base = if q.is_empty() {
        String::new()
    } else {
        format!(
            "q={}&",
            percent_encoding::utf8_percent_encode(&q, percent_encoding::NON_ALPHANUMERIC)
        )
    };
    let link =
        |dir: &str, (a, i): (i64, i64), at: u64| format!("/app/shares?{base}{dir}={a}.{i}&at={at}");
    let prev = pg
        .ends
        .filter(|_| pg.has_prev)
        .map(|(first, _)| link("before", first, at.saturating_sub(SHARES_PER_PAGE as u64)));
    let next = pg
        .ends
        .filter(|_| pg.has_next)
        .map(|(_, last)| link("after", last, at + len));
    let list = pg.shares;
    let totals = pg.totals;
    let created = params.get("created").unwrap_or("");
    // What the last action did (creating a share says `created=<uuid>`).
    let (code, about) = match params.get("done") {
        Some(code) => (code, params.get("share").unwrap_or("")),
        None if !created.is_empty() => ("created", created),
        None => ("", ""),
    };
    let about = match about {
        "" => None,
        uuid => state.shares.get(user.org_id, uuid).await.ok(),
    };
    let notice = flash(code, about.as_ref());
    let cards = list
        .iter()
        .zip(totals)
        .map(|(s, (files, bytes))| ShareCard {
            contents: crate::web::contents_label(files, bytes),
            password: s.password_protected(),
            uuid: s.uuid.clone(),
            title: s.title.clone(),
            status: s.state.as_str(),
            link: s.share_uri.clone(),
            expiry: s
                .expires_at
                .map(|e| display_in(e, &s.expires_tz))
                .unwrap_or_else(|| "never".into()),
            views: s.views,
            downloads: s.downloads,
            recipients: s
                .users
                .iter()
                .map(|u| {
                    (
                        u.email.clone(),
                        u.delivery.clone().unwrap_or_else(|| "—".into()),
                    )
                })
                .chain(s.recipients.iter().map(|r| {
                    (
                        r.email.clone(),
                        r.delivery.clone().unwrap_or_else(|| "—".into()),
                    )
                }))
                .collect(),
            revoked: s.state == State::Revoked,
            created: s.uuid == created,
        })
        .collect();
    page(&SharesPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        shares: cards,
        q,
        label,
        prev,
        next,
        notice,
    })
}
