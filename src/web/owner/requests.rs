//! File requests for their owner: the list (`/app/requests`), one request in detail with what
//! came through it, revoke and restore, and delete behind a confirmation page. The form that
//! makes one is `request_form`.

use super::{confirm_page, day, see_other, state};
use crate::api::Params;
use crate::domain::assets::FolderRef;
use crate::domain::auth::WebUser;
use crate::domain::paging;
use crate::domain::requests::{Request, RequestState};
use crate::domain::shares::StatusChange;
use crate::domain::window::display_in;
use crate::error::AppError;
use crate::web::guard::CsrfForm;
use crate::web::{contents_label, page, size_label};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};

/// Requests per page of the list.
pub const REQUESTS_PER_PAGE: i64 = 50;
/// Files per page of a request's activity.
const ACTIVITY_PER_PAGE: i64 = 100;

/// The one line that confirms an action: from the code the redirect carries (never text from
/// the URL) and the request as it is now.
fn flash(code: &str, r: Option<&Request>) -> Option<String> {
    let title = r.map_or_else(String::new, |r| format!(" “{}”", r.title));
    Some(match code {
        "created" => format!("Request{title} created: send its link to whoever should upload."),
        "revoked" => format!("Request{title} revoked: its link no longer takes files."),
        "restored" => format!("Request{title} restored."),
        "updated" => format!("Request{title} saved."),
        "deleted" => {
            "The request was deleted; the files it brought stay in the library.".to_string()
        }
        _ => return None,
    })
}

fn done(code: &str, uuid: &str) -> HttpResponse {
    see_other(&format!("/app/requests/{uuid}?done={code}"))
}

/// "never", or the expiry in its zone.
fn expiry(r: &Request) -> String {
    r.expires_at
        .map(|e| display_in(e, &r.expires_tz))
        .unwrap_or_else(|| "never".into())
}

/// The limits in plain words, one line each.
fn limits(r: &Request) -> Vec<String> {
    let mut out = Vec::new();
    match r.max_files {
        Some(n) => out.push(format!(
            "Up to {n} file{} in all ({} left).",
            if n == 1 { "" } else { "s" },
            (n - r.files).max(0)
        )),
        None => out.push("Any number of files.".into()),
    }
    match r.max_file_bytes {
        Some(b) => out.push(format!(
            "Each file up to {} (and the server's upload limit).",
            size_label(b.max(0) as u64)
        )),
        None => out.push("Each file up to the server's upload limit.".into()),
    }
    if let Some(t) = r.max_total_bytes {
        out.push(format!(
            "Up to {} in all ({} left).",
            size_label(t.max(0) as u64),
            size_label((t - r.bytes).max(0) as u64)
        ));
    }
    if r.extensions.is_empty() {
        out.push("Files of any type.".into());
    } else {
        out.push(format!("Only {} files.", r.extensions.join(", ")));
    }
    if let Some(t) = r.starts_at {
        out.push(format!("Opens {}.", display_in(t, &r.starts_tz)));
    }
    out.push(match r.expires_at {
        Some(t) => format!("Open until {}.", display_in(t, &r.expires_tz)),
        None => "Never expires.".into(),
    });
    out
}

struct RequestCard {
    uuid: String,
    title: String,
    state: &'static str,
    expiry: String,
    /// "3 files, 1.2 MiB · 2 uploaders".
    counts: String,
    password: bool,
}

fn uploaders_label(n: i64) -> String {
    format!("{n} uploader{}", if n == 1 { "" } else { "s" })
}

#[derive(Template)]
#[template(path = "app/requests.html")]
struct RequestsPage {
    email: String,
    csrf: String,
    requests: Vec<RequestCard>,
    /// The page's place ("1–50 of 120") and the links to its neighbours.
    label: String,
    prev: Option<String>,
    next: Option<String>,
    notice: Option<String>,
}

/// `GET /app/requests?page=N`: the org's requests, newest first, a page at a time.
pub async fn list_requests(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    // An unreadable page number is the first page.
    let n = params
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1);
    let offset = (n - 1) * REQUESTS_PER_PAGE;
    let (list, total) = state
        .requests
        .list(user.org_id, REQUESTS_PER_PAGE, offset)
        .await?;
    let len = list.len() as i64;
    let label = if len == 0 {
        format!("0 of {}", paging::thousands(total.max(0) as u64))
    } else {
        format!(
            "{}\u{2013}{} of {}",
            paging::thousands((offset + 1) as u64),
            paging::thousands((offset + len) as u64),
            paging::thousands(total.max(0) as u64)
        )
    };
    let prev = (n > 1).then(|| format!("/app/requests?page={}", n - 1));
    let next = (offset + len < total).then(|| format!("/app/requests?page={}", n + 1));
    let notice = params.get("done").and_then(|code| flash(code, None));
    let requests = list
        .iter()
        .map(|r| RequestCard {
            uuid: r.uuid.clone(),
            title: r.title.clone(),
            state: r.state.as_str(),
            expiry: expiry(r),
            counts: format!(
                "{} · {}",
                contents_label(r.files, r.bytes),
                uploaders_label(r.uploaders)
            ),
            password: r.password_protected,
        })
        .collect();
    page(&RequestsPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        requests,
        label,
        prev,
        next,
        notice,
    })
}

/// One file that came through a request, as the detail page lists it.
struct SentRow {
    /// The library file while it is there.
    file_uuid: Option<String>,
    name: String,
    size: String,
    /// "Ann <ann@example.com>", "Ann", "ann@example.com" or "someone who gave no name".
    uploader: String,
    note: String,
    at: String,
    /// When the uploader removed it (or it left the library otherwise).
    removed: Option<String>,
}

/// A stored time (seconds) as the pages write it. (Adapters import no `db`: its own helper is
/// `db::from_ts`.)
fn at(secs: i64) -> String {
    day(DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default())
}

/// Who sent a file: "Ann <ann@example.com>", "Ann", "ann@example.com", or that they gave no
/// name.
fn uploader(name: Option<String>, email: Option<String>) -> String {
    let name = name.filter(|n| !n.trim().is_empty());
    let email = email.filter(|e| !e.trim().is_empty());
    match (name, email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n,
        (None, Some(e)) => e,
        (None, None) => "someone who gave no name".into(),
    }
}

/// "removed <when>" once the uploader took it back, "no longer in the library" once it left
/// it otherwise.
fn removed(removed_at: Option<i64>, in_library: bool) -> Option<String> {
    match (removed_at, in_library) {
        (Some(t), _) => Some(format!("removed {}", at(t))),
        (None, false) => Some("no longer in the library".into()),
        (None, true) => None,
    }
}

#[derive(Template)]
#[template(path = "app/request_detail.html")]
struct Detail {
    email: String,
    csrf: String,
    r: Request,
    state: &'static str,
    limits: Vec<String>,
    /// "3 files, 1.2 MiB".
    contents: String,
    uploaders: String,
    /// The target folder's path, when it is still there.
    folder: Option<String>,
    /// Who is mailed about new files.
    mailed: String,
    sent: Vec<SentRow>,
    /// Links to the activity's neighbouring pages.
    newer: Option<String>,
    older: Option<String>,
    notice: Option<String>,
}

/// `GET /app/requests/{uuid}?from=N`: the link, its state and limits, the target folder, and
/// every file that came through, newest first.
pub async fn request_detail(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let uuid = path.into_inner();
    let r = state.requests.get(user.org_id, &uuid).await?;
    let from = params
        .get("from")
        .and_then(|p| p.parse::<i64>().ok())
        // Bounded, so the links' arithmetic cannot overflow.
        .filter(|p| (0..=1_000_000_000).contains(p))
        .unwrap_or(0);
    // One more than shown: whether there are older ones.
    let mut sent = state
        .requests
        .activity(user.org_id, &uuid, ACTIVITY_PER_PAGE + 1, from)
        .await?;
    let has_older = sent.len() as i64 > ACTIVITY_PER_PAGE;
    sent.truncate(ACTIVITY_PER_PAGE as usize);
    let base = format!("/app/requests/{}", r.uuid);
    let older = has_older.then(|| format!("{base}?from={}#sent", from + ACTIVITY_PER_PAGE));
    let newer =
        (from > 0).then(|| format!("{base}?from={}#sent", (from - ACTIVITY_PER_PAGE).max(0)));
    let folder = match &r.folder_uuid {
        Some(f) => state
            .assets
            .get_folder(user.org_id, FolderRef::Uuid(f.clone()))
            .await
            .ok()
            .map(|f| f.path),
        None => None,
    };
    let mailed = if !r.notify {
        "Nobody: mail is off.".to_string()
    } else if r.notify_emails.is_empty() {
        "You, at most once every 5 minutes.".to_string()
    } else {
        format!(
            "{}, at most once every 5 minutes.",
            r.notify_emails.join(", ")
        )
    };
    let notice = params.get("done").and_then(|code| flash(code, Some(&r)));
    page(&Detail {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        state: r.state.as_str(),
        limits: limits(&r),
        contents: contents_label(r.files, r.bytes),
        uploaders: uploaders_label(r.uploaders),
        folder,
        mailed,
        sent: sent
            .into_iter()
            .map(|f| SentRow {
                removed: removed(f.removed_at, f.file_uuid.is_some()),
                file_uuid: f.file_uuid.filter(|_| f.removed_at.is_none()),
                name: f.name,
                size: size_label(f.size.max(0) as u64),
                uploader: uploader(f.uploader_name, f.uploader_email),
                note: f.note.unwrap_or_default(),
                at: at(f.created_at),
            })
            .collect(),
        newer,
        older,
        notice,
        r,
    })
}

impl Detail {
    fn revoked(&self) -> bool {
        self.r.state == RequestState::Revoked
    }
}

/// `POST /app/requests/{uuid}/revoke|restore`.
pub async fn request_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let user = post.user;
    let (uuid, action) = path.into_inner();
    let (status, code) = match action.as_str() {
        "revoke" => (StatusChange::Revoke, "revoked"),
        "restore" => (StatusChange::Restore, "restored"),
        _ => return Err(AppError::not_found("This route")),
    };
    let r = state
        .requests
        .set_status(user.org_id, &uuid, status)
        .await?;
    Ok(done(code, &r.uuid))
}

/// `GET /app/requests/{uuid}/delete`: the confirmation (works without script).
pub async fn confirm_delete(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let r = state.requests.get(user.org_id, &path).await?;
    confirm_page(
        &user,
        format!(
            "Delete the request “{}”? Its link stops working; the files it brought stay in the \
             library.",
            r.title
        ),
        format!("/app/requests/{}/delete", r.uuid),
        format!("/app/requests/{}", r.uuid),
    )
}

/// `POST /app/requests/{uuid}/delete`: back to the list, which says so.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    post: CsrfForm,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (_, uploads) = state.requests.delete(post.user.org_id, &path).await?;
    state.request_tus.clean(uploads).await;
    Ok(see_other("/app/requests?done=deleted"))
}
