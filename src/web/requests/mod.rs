//! The public side of a file request: `/r/{puid}/{slug}` (the upload page), the password gate,
//! the plain form upload, an uploader removing their own file, and tus under `/r/{puid}/tus/`.
//! Every route asks `RequestService` (state, then the uploader's cookie); nothing here decides
//! access itself.

pub mod tus;
mod upload;

pub use tus::{tus_create, tus_head, tus_patch, tus_terminate};
pub use upload::{remove, upload_form};

use crate::api::client_addr;
use crate::domain::requests::{Gate, Request, SentFile, Uploader, UPLOADER_DAYS};
use crate::domain::window::display_in;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{page, size_label};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

const COOKIE: &str = "sb_uploader";

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    crate::api::state(req)
}

/// The uploader cookie's value, if sent.
fn token(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_string())
}

/// The form token of an uploader's forms: bound to their cookie, which a page elsewhere
/// cannot read (HttpOnly), so a forged post has none.
fn csrf_of(token: &str) -> String {
    hex::encode(Sha256::digest(format!("sharebox-request-csrf|{token}")))
}

fn csrf_ok(token: Option<&str>, sent: Option<&str>) -> bool {
    match (token, sent) {
        (Some(t), Some(s)) => {
            let want = csrf_of(t);
            constant_time_eq(want.as_bytes(), s.as_bytes())
        }
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(req: &HttpRequest, puid: &str, token: &str) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path(format!("/r/{puid}"))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(crate::api::client::is_https(req))
        .max_age(actix_web::cookie::time::Duration::days(UPLOADER_DAYS))
        .finish()
}

fn private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

#[derive(Template)]
#[template(path = "public/request_closed.html")]
struct Closed {
    headline: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "public/locked.html")]
struct Locked<'a> {
    action: String,
    error: Option<&'a str>,
    /// A file request's gate, not a share's.
    request: bool,
}

/// The plain page a request answers when nobody may send through it now.
fn gate_page(puid: &str, g: &Gate, error: Option<&str>) -> Result<HttpResponse, AppError> {
    let (status, headline, detail) = match g {
        Gate::NotFound => (
            StatusCode::NOT_FOUND,
            "This request is not available.".to_string(),
            "This link no longer works. Ask the person who sent it.".to_string(),
        ),
        Gate::Scheduled(r) => (
            StatusCode::FORBIDDEN,
            format!("\u{201c}{}\u{201d} is not open yet.", r.title),
            match r.starts_at {
                Some(t) => format!("It opens {}.", display_in(t, &r.starts_tz)),
                None => "Come back later.".to_string(),
            },
        ),
        Gate::Closed(r) if r.state == crate::domain::requests::RequestState::Full => (
            StatusCode::GONE,
            format!(
                "\u{201c}{}\u{201d} has all the files it asked for.",
                r.title
            ),
            "It takes no more files. Ask the person who sent the link.".to_string(),
        ),
        Gate::Closed(r) => (
            StatusCode::GONE,
            format!("\u{201c}{}\u{201d} has closed.", r.title),
            "It takes no more files. Ask the person who sent the link.".to_string(),
        ),
        Gate::Locked(_) => {
            let mut res = page(&Locked {
                action: format!("/r/{puid}/unlock"),
                error,
                request: true,
            })?;
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            return Ok(private(res));
        }
        Gate::Throttled(wait) => {
            let msg = format!(
                "Too many wrong passwords. Try again in {} minutes.",
                wait.div_ceil(60)
            );
            let mut res = page(&Locked {
                action: format!("/r/{puid}/unlock"),
                error: Some(&msg),
                request: true,
            })?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*wait));
            return Ok(private(res));
        }
    };
    let mut res = page(&Closed { headline, detail })?;
    *res.status_mut() = status;
    Ok(private(res))
}

struct SentView {
    uuid: String,
    name: String,
    size: String,
}

#[derive(Template)]
#[template(path = "public/request.html")]
struct RequestPage {
    title: String,
    message: String,
    /// The limits in plain words, one line each.
    limits: Vec<String>,
    /// `accept` of the file input (".pdf,.jpg"), "" for any.
    accept: String,
    puid: String,
    csrf: String,
    sent: Vec<SentView>,
    notice: Option<String>,
    /// The largest file the server takes, for the script's early check.
    max_file_bytes: i64,
}

fn limits(r: &Request, server_max: u64) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = r.max_files {
        out.push(format!(
            "Up to {n} file{} in all ({} left).",
            if n == 1 { "" } else { "s" },
            (n - r.files).max(0)
        ));
    }
    let per_file = r
        .max_file_bytes
        .map_or(server_max, |m| (m.max(0) as u64).min(server_max));
    out.push(format!("Each file up to {}.", size_label(per_file)));
    if let Some(t) = r.max_total_bytes {
        out.push(format!(
            "Up to {} in all ({} left).",
            size_label(t.max(0) as u64),
            size_label((t - r.bytes).max(0) as u64)
        ));
    }
    if !r.extensions.is_empty() {
        out.push(format!("Only {} files.", r.extensions.join(", ")));
    }
    if let Some(t) = r.expires_at {
        out.push(format!("Open until {}.", display_in(t, &r.expires_tz)));
    }
    out
}

fn sent_views(files: Vec<SentFile>) -> Vec<SentView> {
    files
        .into_iter()
        .filter_map(|f| {
            Some(SentView {
                uuid: f.file_uuid?,
                name: f.name,
                size: size_label(f.size.max(0) as u64),
            })
        })
        .collect()
}

/// Renders the page for an uploader; `set` is a new cookie token to send along.
async fn render(
    req: &HttpRequest,
    state: &AppState,
    u: &Uploader,
    token: &str,
    set: bool,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let r = &u.request;
    let sent = sent_views(state.requests.own_files(u).await?);
    let server_max = state.config.max_upload_bytes;
    let pg = RequestPage {
        title: r.title.clone(),
        message: r.message.clone(),
        limits: limits(r, server_max),
        accept: r
            .extensions
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(","),
        puid: r.puid.clone(),
        csrf: csrf_of(token),
        sent,
        notice,
        max_file_bytes: r
            .max_file_bytes
            .unwrap_or(i64::MAX)
            .min(i64::try_from(server_max).unwrap_or(i64::MAX)),
    };
    let mut res = page(&pg)?;
    if set {
        res.add_cookie(&cookie(req, &r.puid, token))
            .map_err(AppError::internal)?;
    }
    Ok(private(res))
}

/// `GET /r/{puid}`: to the page under its current name.
pub async fn request_bare(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let puid = path.into_inner();
    let to = match app_state(&req) {
        Ok(state) => match state.requests.open(&puid).await {
            Ok(r) => format!("/r/{puid}/{}", r.slug),
            Err(_) => format!("/r/{puid}/request"),
        },
        Err(_) => format!("/r/{puid}/request"),
    };
    private(
        HttpResponse::Found()
            .insert_header((header::LOCATION, to))
            .finish(),
    )
}

/// `GET /r/{puid}/{slug}`: the upload page, or why not. A request without a password gives a
/// new visitor their uploader cookie here.
pub async fn request_page(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: crate::api::Params,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, _) = path.into_inner();
    let sent = token(&req);
    let (u, new) = match state.requests.visit(&puid, sent.as_deref()).await {
        Ok(v) => v,
        Err(g) => return gate_page(&puid, &g, None),
    };
    let notice = match params.get("done") {
        Some("sent") => Some("Your files were sent.".to_string()),
        Some("removed") => Some("The file was removed.".to_string()),
        _ => None,
    };
    match (new, sent) {
        (Some(t), _) => render(&req, &state, &u, &t, true, notice).await,
        (None, Some(t)) => render(&req, &state, &u, &t, false, notice).await,
        (None, None) => Err(AppError::internal("an uploader without a token")),
    }
}

#[derive(Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    password: String,
}

/// `POST /r/{puid}/unlock`: the right password gives the uploader cookie.
pub async fn unlock(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<UnlockForm>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let puid = path.into_inner();
    match state
        .requests
        .unlock(&puid, &form.password, &client_addr(&req))
        .await
    {
        Ok((token, slug)) => {
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/r/{puid}/{slug}")))
                .finish();
            res.add_cookie(&cookie(&req, &puid, &token))
                .map_err(AppError::internal)?;
            Ok(private(res))
        }
        Err(g @ Gate::Locked(_)) => {
            gate_page(&puid, &g, Some("That password is not right. Try again."))
        }
        Err(g) => gate_page(&puid, &g, None),
    }
}
