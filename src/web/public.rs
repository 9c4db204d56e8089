//! The public share: `/s/{puid}/{slug}` page, password gate, downloads, previews and the zip.
//! Every route calls `shares::open` on every request; nothing here decides access itself.

use crate::api::{client_addr, Params};
use crate::blob::{self, Download};
use crate::domain::auth::WebUser;
use crate::domain::paging;
use crate::domain::shares::{self, Denied, Opened, TreeFile, Visitor};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::page;
use crate::web::size_label;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

const UNLOCK_COOKIE: &str = "sb_unlock";

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    crate::api::state(req)
}

fn visitor(
    req: &HttpRequest,
    params: &Params,
    passwords: Vec<String>,
    user: Option<WebUser>,
) -> Visitor {
    Visitor {
        passwords,
        unlock_token: params
            .get("access")
            .map(str::to_string)
            .or_else(|| req.cookie(UNLOCK_COOKIE).map(|c| c.value().to_string())),
        // A signed-in owner-UI user: `users` shares let their listed users in.
        user_id: user.map(|u| u.user_id),
        addr: client_addr(req),
        user_agent: crate::api::user_agent(req),
    }
}

fn base(puid: &str, slug: &str) -> String {
    format!("/s/{puid}/{slug}")
}

/// Every answer about a share is private: some are about password-protected ones, and none
/// should sit in a shared cache.
fn private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// API.md: an anonymous visitor of a `users` share gets a 302 to the sign-in page, and back.
fn login_redirect(req: &HttpRequest) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((
            header::LOCATION,
            crate::web::login_url(&crate::web::path_and_query(req)),
        ))
        .finish()
}

#[derive(Template)]
#[template(path = "public/locked.html")]
struct Locked<'a> {
    action: String,
    error: Option<&'a str>,
    /// A file request's gate, not a share's.
    request: bool,
}

/// Only the form: a locked share shows nothing of itself, not even its title.
fn locked_page(
    puid: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut res = page(&Locked {
        action: format!("/s/{puid}/unlock"),
        error,
        request: false,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "public/gone.html")]
struct Gone {
    headline: &'static str,
}

/// A share that cannot open any more (unknown, deleted, revoked: 404; expired or out of
/// downloads: 410), said plainly to whoever holds the link, without an error code. An unknown
/// share and a revoked one answer the same page.
fn gone_page(d: &Denied) -> Result<Option<HttpResponse>, AppError> {
    let (status, headline) = match d {
        Denied::NotFound => (StatusCode::NOT_FOUND, "This share is not available."),
        Denied::Expired => (StatusCode::GONE, "This share has expired."),
        Denied::Exhausted => (
            StatusCode::GONE,
            "This share has reached its download limit.",
        ),
        _ => return Ok(None),
    };
    let mut res = page(&Gone { headline })?;
    *res.status_mut() = status;
    Ok(Some(res))
}

struct FolderLink {
    name: String,
    href: String,
}

struct FileView {
    name: String,
    size: String,
    icon: &'static str,
    kind: &'static str,
    download: Option<String>,
    preview: Option<String>,
    /// A small image of it (images only).
    thumb: Option<String>,
    /// The start of a text file, shown escaped, and whether it was cut.
    text: Option<(String, bool)>,
}

/// The start of a text file a page shows: at most this much...
const TEXT_PREVIEW_BYTES: usize = 256 * 1024;
/// ...for at most this many text files of a page (a page reads no more than 2 MiB).
const TEXT_PREVIEWS_PER_PAGE: usize = 8;

/// Text of the bytes, when they read as text: valid UTF-8 (a character cut at the cap aside)
/// with no NUL byte. Anything else shows no preview rather than mojibake.
fn as_text(bytes: &[u8], cut: bool) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t.to_string()),
        // Up to 3 bytes of a character may be cut off at the cap.
        Err(e) if cut && e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
            Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    }
}

/// Reads the starts of the page's first text files, in one trip to the blocking pool.
async fn text_previews(state: &AppState, files: &mut [FileView], of: &[TreeFile]) {
    let wanted: Vec<(usize, String, u64, bool)> = of
        .iter()
        .enumerate()
        .filter(|(_, f)| shares::text_like(&f.mime) && f.size > 0)
        .take(TEXT_PREVIEWS_PER_PAGE)
        .map(|(i, f)| {
            (
                i,
                f.blob_id.clone(),
                f.size as u64,
                f.size as u64 > TEXT_PREVIEW_BYTES as u64,
            )
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    // All at once: on S3 each is a round trip to the store.
    let read = futures_util::future::join_all(wanted.into_iter().map(|(i, id, size, cut)| {
        let blobs = &state.blobs;
        async move {
            // A preview that cannot be read is left out; the file is still listed.
            let bytes = blobs.read_head(&id, size, TEXT_PREVIEW_BYTES).await.ok()?;
            as_text(&bytes, cut).map(|t| (i, t, cut))
        }
    }))
    .await;
    for (i, text, cut) in read.into_iter().flatten() {
        if let Some(v) = files.get_mut(i) {
            v.text = Some((text, cut));
        }
    }
}

#[derive(Template)]
#[template(path = "public/share.html")]
struct SharePage {
    title: String,
    /// "From ann@acme.test (acme)": who shared it, never on the locked page.
    from: String,
    description: String,
    validity: Vec<String>,
    /// `2 of 5 downloads left` on a share with a download limit.
    downloads_left: Option<String>,
    /// "12 files, 3.4 MiB": the whole share, at any depth.
    contents: String,
    crumbs: Vec<FolderLink>,
    here: Option<String>,
    folders: Vec<FolderLink>,
    files: Vec<FileView>,
    zip: Option<String>,
    count: usize,
    /// "1–200 of 50,000", and the links to the pages around it.
    label: String,
    prev: Option<String>,
    next: Option<String>,
    /// Most of the page's files are images: shown as a grid of thumbnails.
    grid: bool,
    /// The name filter, and the query string that keeps the folder (for its form).
    q: String,
    folder: Option<String>,
}

fn icon(mime: &str) -> (&'static str, &'static str) {
    use crate::web::icons;
    let m = mime.to_ascii_lowercase();
    if m.starts_with("image/") {
        (icons::IMAGE, "image")
    } else if m.starts_with("video/") {
        (icons::VIDEO, "video")
    } else if m.starts_with("audio/") {
        (icons::AUDIO, "audio")
    } else if m == "application/pdf" {
        (icons::PDF, "pdf")
    } else if shares::text_like(&m) {
        (icons::TEXT, "text")
    } else {
        (icons::ARCHIVE, "other")
    }
}

fn file_view(base: &str, f: &TreeFile, can_download: bool) -> FileView {
    let href = format!("{base}/files/{}", f.uuid);
    let (icon, kind) = icon(&f.mime);
    let previewable = shares::previewable(&f.mime);
    FileView {
        name: f.name.clone(),
        size: size_label(f.size.max(0) as u64),
        icon,
        kind: if previewable { kind } else { "other" },
        preview: previewable.then(|| format!("{href}/preview")),
        thumb: crate::thumbs::thumbable(&f.mime).then(|| format!("{href}/thumb")),
        download: can_download.then_some(href),
        text: None,
    }
}

/// What a visitor may still download of a limited share: every file and the zip count one each.
fn downloads_left(o: &Opened) -> Option<String> {
    let max = o.share.max_downloads?;
    if !o.share.permission.can_download() {
        return None;
    }
    let left = (max - o.share.downloads).max(0);
    Some(format!(
        "{left} of {max} download{} left",
        if max == 1 { "" } else { "s" }
    ))
}

/// Opens the share for this request with what it holds, or answers why not (the page variant:
/// a form when locked).
async fn open_or_answer(
    state: &AppState,
    req: &HttpRequest,
    puid: &str,
    v: &Visitor,
    page_route: bool,
) -> Result<Result<Opened, HttpResponse>, AppError> {
    match state.shares.open(puid, None, v).await {
        Ok(o) => Ok(Ok(o)),
        Err(Denied::NeedsLogin) => Ok(Err(login_redirect(req))),
        Err(Denied::PasswordRequired) if page_route => {
            Ok(Err(locked_page(puid, None, StatusCode::OK)?))
        }
        Err(d) => match gone_page(&d)? {
            Some(res) => Ok(Err(res)),
            None => Err(d.into()),
        },
    }
}

pub async fn share_bare(path: web::Path<String>) -> HttpResponse {
    // `/s/{puid}` alone: the page lives under its slug.
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("/s/{}/share", path.into_inner())))
        .finish()
}

pub async fn share_page(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, slug) = path.into_inner();
    let v = visitor(&req, &params, vec![], user);
    let opened = match open_or_answer(&state, &req, &puid, &v, true).await? {
        Ok(o) => o,
        Err(res) => return Ok(private(res)),
    };
    if slug != opened.share.slug {
        let q = if req.query_string().is_empty() {
            String::new()
        } else {
            format!("?{}", req.query_string())
        };
        return Ok(private(
            HttpResponse::MovedPermanently()
                .insert_header((
                    header::LOCATION,
                    format!("{}{q}", base(&puid, &opened.share.slug)),
                ))
                .finish(),
        ));
    }
    let base = base(&puid, &opened.share.slug);
    let can_download = opened.share.permission.can_download();
    let folder_uuid = params
        .get("folder")
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    let q = params
        .get("q")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    let seek = paging::seek(params.get("after"), params.get("before"));
    let (place, listing) = state
        .shares
        .listing(&opened, folder_uuid.clone(), seek.clone(), q.clone())
        .await?
        .ok_or_else(|| AppError::not_found("This folder of the share"))?;
    let mut crumbs = Vec::new();
    let mut here = None;
    if let Some(p) = &place {
        crumbs.push(FolderLink {
            name: opened.share.title.clone(),
            href: base.clone(),
        });
        crumbs.extend(p.trail.iter().map(|(uuid, name)| FolderLink {
            name: name.clone(),
            href: format!("{base}?folder={uuid}"),
        }));
        here = Some(p.name.clone());
    }
    // What every page link keeps: the folder and the filter.
    let mut keep = Vec::new();
    if let Some(f) = &folder_uuid {
        keep.push(format!("folder={}", encode(f)));
    }
    if let Some(q) = &q {
        keep.push(format!("q={}", encode(q)));
    }
    let at = paging::position(&seek, params.get("at"), listing.total);
    let ends = listing.ends();
    let pager = paging::pager(
        &keep.join("&"),
        at,
        listing.total,
        listing.folders.len() + listing.files.len(),
        ends.as_ref().map(|(a, b)| (a, b)),
        listing.has_prev,
        listing.has_next,
    );
    let mut files: Vec<FileView> = listing
        .files
        .iter()
        .map(|f| file_view(&base, f, can_download))
        .collect();
    text_previews(&state, &mut files, &listing.files).await;
    // An image-heavy page (four images or more, and most of its files) is a grid of thumbnails.
    let images = files.iter().filter(|f| f.thumb.is_some()).count();
    let grid = images >= 4 && images * 2 >= files.len();
    let from = match &opened.share.owner_email {
        Some(email) => format!("From {email} ({})", opened.share.org_token),
        None => format!("From {}", opened.share.org_token),
    };
    let pg = SharePage {
        from,
        title: opened.share.title.clone(),
        description: opened.share.description.clone(),
        validity: opened.share.shown_dates(),
        downloads_left: downloads_left(&opened),
        contents: crate::web::contents_label(opened.top.total_files, opened.top.total_bytes),
        crumbs,
        here,
        count: listing.folders.len() + listing.files.len(),
        folders: listing
            .folders
            .iter()
            .map(|f| FolderLink {
                name: f.name.clone(),
                href: format!("{base}?folder={}", f.uuid),
            })
            .collect(),
        files,
        zip: (can_download && opened.top.has_files()).then(|| format!("{base}/zip")),
        grid,
        label: pager.label,
        prev: pager.prev.map(|p| format!("?{p}")),
        next: pager.next.map(|n| format!("?{n}")),
        q: q.clone().unwrap_or_default(),
        folder: folder_uuid.clone(),
    };
    let mut res = page(&pg)?;
    if folder_uuid.is_none() && seek == paging::Seek::First && q.is_none() {
        // Counted once the page went out: never for a HEAD.
        let ua = v.user_agent.clone();
        let count: Box<dyn FnOnce()> = Box::new(move || state.shares.count_view(&opened, &ua));
        res = blob::on_sent(res, count);
    }
    Ok(private(res))
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    password: String,
}

pub async fn unlock(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<UnlockForm>,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let puid = path.into_inner();
    let v = visitor(&req, &Params::default(), vec![form.password.clone()], user);
    // A token from a cookie must not stand in for the password being checked here.
    let v = Visitor {
        unlock_token: None,
        ..v
    };
    let opened = match state.shares.open(&puid, None, &v).await {
        Ok(o) => o,
        Err(Denied::NeedsLogin) => return Ok(private(login_redirect(&req))),
        Err(Denied::WrongPassword) | Err(Denied::PasswordRequired) => {
            return Ok(private(locked_page(
                &puid,
                Some("That password is not right. Try again."),
                StatusCode::UNAUTHORIZED,
            )?));
        }
        Err(Denied::Throttled(wait)) => {
            let msg = format!(
                "Too many wrong passwords. Try again in {} minutes.",
                wait.div_ceil(60)
            );
            let mut res = locked_page(&puid, Some(&msg), StatusCode::TOO_MANY_REQUESTS)?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return Ok(private(res));
        }
        Err(d) => {
            return match gone_page(&d)? {
                Some(res) => Ok(private(res)),
                None => Err(d.into()),
            }
        }
    };
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, base(&puid, &opened.share.slug)));
    if let Some(token) = &opened.unlock_token {
        let cookie = Cookie::build(UNLOCK_COOKIE, token.clone())
            .path(format!("/s/{puid}"))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(crate::api::client::is_https(&req))
            .max_age(actix_web::cookie::time::Duration::seconds(
                crate::domain::unlock::UNLOCK_SECS,
            ))
            .finish();
        res.cookie(cookie);
    }
    Ok(private(res.finish()))
}

/// Opens the share a file route names and finds the file in it (404 when it holds no such
/// file), or answers why not.
async fn open_file(
    state: &AppState,
    req: &HttpRequest,
    path: web::Path<(String, String, String)>,
    params: &Params,
    user: Option<WebUser>,
) -> Result<Result<(Opened, TreeFile, Visitor), HttpResponse>, AppError> {
    let (puid, _slug, file_uuid) = path.into_inner();
    let v = visitor(req, params, vec![], user);
    let opened = match open_or_answer(state, req, &puid, &v, false).await? {
        Ok(o) => o,
        Err(res) => return Ok(Err(res)),
    };
    let f = state
        .shares
        .shared_file(&opened, file_uuid)
        .await?
        .ok_or_else(|| AppError::not_found("This file of the share"))?;
    Ok(Ok((opened, f, v)))
}

/// Serves one file of an open share (download or inline preview).
async fn serve_file(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    user: Option<WebUser>,
    preview: bool,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (opened, f, v) = match open_file(&state, &req, path, &params, user).await? {
        Ok(found) => found,
        Err(res) => return Ok(private(res)),
    };
    if !preview && !opened.share.permission.can_download() {
        return Err(AppError::DownloadNotPermitted);
    }
    if preview && !shares::previewable(&f.mime) {
        return Err(AppError::not_found("A preview of this file"));
    }
    let on_complete: Option<Box<dyn FnOnce()>> = if preview {
        None
    } else {
        let (state, opened, uuid, ua) = (
            state.clone(),
            opened.clone(),
            f.uuid.clone(),
            v.user_agent.clone(),
        );
        Some(Box::new(move || {
            state.shares.count_download(&opened, Some(uuid), &ua)
        }))
    };
    let res = blob::serve(
        &req,
        Download {
            source: state.blobs.source(&f.blob_id).await?,
            redirect: !preview,
            size: f.size.max(0) as u64,
            sha256: &f.sha256,
            name: &f.name,
            mime: &f.mime,
            inline: preview,
            modified: f.modified_at,
            now: state.clock.now(),
        },
        on_complete,
    )
    .await?;
    Ok(private(res))
}

/// `GET .../files/{uuid}/thumb`: a small PNG of an image of the share (previews are allowed on
/// view-only shares, and so are thumbnails); 404 for any other type or an image too big.
pub async fn thumb(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let f = match open_file(&state, &req, path, &params, user).await? {
        Ok((_, f, _)) => f,
        Err(res) => return Ok(private(res)),
    };
    match state
        .thumbs
        .get(&state.blobs, &f.blob_id, f.size.max(0) as u64, &f.mime)
        .await?
    {
        Some(p) => Ok(private(crate::web::thumbnail(p).await?)),
        None => Err(AppError::not_found("A thumbnail of this file")),
    }
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    serve_file(req, path, params, user, false).await
}

pub async fn preview(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    serve_file(req, path, params, user, true).await
}

/// The whole share as one zip: its length and ETag from the share's zip plan, Range and
/// If-Range as on files (a cut download resumes), bytes made from any offset on.
pub async fn zip_all(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
    user: Option<WebUser>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, _slug) = path.into_inner();
    let v = visitor(&req, &params, vec![], user);
    let opened = match open_or_answer(&state, &req, &puid, &v, false).await? {
        Ok(o) => o,
        Err(res) => return Ok(private(res)),
    };
    if !opened.share.permission.can_download() {
        return Err(AppError::DownloadNotPermitted);
    }
    let plan = state.shares.zip_plan(&opened).await?;
    let name = format!("{}.zip", opened.share.slug);
    let mut builder = HttpResponse::Ok();
    builder
        .content_type("application/zip")
        .insert_header((header::ETAG, plan.etag.clone()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            blob::content_disposition("attachment", &name),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    let (start, len) = blob::byte_range(&req, &plan.etag, None, plan.length, &mut builder)?;
    // Counted when the last byte went out, whichever request sent it (API.md's rule for files);
    // never for a HEAD, whose body is not sent.
    let done: Option<Box<dyn FnOnce()>> =
        (start + len == plan.length && req.method() != actix_web::http::Method::HEAD).then(|| {
            let (state, opened, ua) = (state.clone(), opened.clone(), v.user_agent.clone());
            Box::new(move || state.shares.count_download(&opened, None, &ua)) as Box<dyn FnOnce()>
        });
    let bytes = state.shares.zip_bytes(plan, start, len);
    let body = actix_web::body::SizedStream::new(len, blob::at_end(bytes, len, done));
    Ok(private(builder.body(body)))
}
