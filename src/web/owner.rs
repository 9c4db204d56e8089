//! The owner's web UI: sign in, the library, uploads, shares. Every write carries the session's
//! CSRF token and calls the same services as the API.

use crate::api::{peer_addr, Params};
use crate::domain::assets::FolderRef;
use crate::domain::auth::{self, WebUser};
use crate::domain::library::{Order, OrderField, Page};
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, Share, SharePatch, StatusChange,
    TimeValue, UserSpec,
};
use crate::domain::types::{pretty_size, Email, FolderPath, FolderVisibility, Name};
use crate::domain::window::{display_in, State};
use crate::error::{AppError, Field};
use crate::web::page;
use crate::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;

pub const SESSION_COOKIE: &str = "sb_session";
const LOGIN_CSRF_COOKIE: &str = "sb_login_csrf";

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    crate::api::state(req)
}

fn secure(state: &AppState) -> bool {
    state.config.base_url.starts_with("https://")
}

impl FromRequest for WebUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<WebUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let next = crate::web::path_and_query(req);
        Box::pin(async move {
            let state = state?;
            let user = match cookie {
                Some(c) => state.auth.web_session(&c).await?,
                None => None,
            };
            user.ok_or(AppError::LoginRequired {
                login_url: crate::web::login_url(&next),
            })
        })
    }
}

/// The form fields of a POST as name -> values (names may repeat).
pub struct FormFields(HashMap<String, Vec<String>>);

impl FormFields {
    fn parse(body: &[u8]) -> Result<FormFields, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| AppError::invalid("form", format!("the form could not be read: {e}")))?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Ok(FormFields(map))
    }
    pub fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
            .unwrap_or("")
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

impl FromRequest for FormFields {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<FormFields, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Box::pin(async move {
            if !ct.starts_with("application/x-www-form-urlencoded") {
                return Err(AppError::UnsupportedMediaType(format!(
                    "A form is application/x-www-form-urlencoded, not {ct}."
                )));
            }
            let body = crate::api::read_body(&mut payload).await?;
            FormFields::parse(&body)
        })
    }
}

/// Refuses a write whose CSRF token is missing or not this session's: nothing changes.
fn check_csrf(user: &WebUser, token: Option<&str>) -> Result<(), AppError> {
    if auth::csrf_ok(user, token) {
        Ok(())
    } else {
        Err(AppError::CsrfFailed)
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// Only local paths: `/x`, never `//host`, `/\host` or a scheme.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n']);
    if ok {
        next.to_string()
    } else {
        "/app".into()
    }
}

// ---------------------------------------------------------------------------------------------
// Sign in and out

#[derive(Template)]
#[template(path = "app/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

fn login_page(
    csrf: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
    state: &AppState,
) -> Result<HttpResponse, AppError> {
    let mut res = page(&LoginPage {
        csrf,
        next,
        email,
        error,
    })?;
    *res.status_mut() = status;
    // A pre-session token: the form must come from this site (double submit).
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf.to_string())
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .finish();
    res.add_cookie(&cookie).map_err(AppError::internal)?;
    Ok(res)
}

pub async fn login_form(req: HttpRequest, params: Params) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let next = safe_next(params.get("next").unwrap_or("/app"));
    login_page(
        &auth::new_secret(""),
        &next,
        "",
        None,
        StatusCode::OK,
        &state,
    )
}

pub async fn login(req: HttpRequest, form: FormFields) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let next = safe_next(form.get("next"));
    let expected = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let sent = form.get("csrf_token");
    if expected.is_empty() || sent != expected {
        return Err(AppError::CsrfFailed);
    }
    let email = form.get("email");
    match state
        .auth
        .web_login(email, form.get("password"), &peer_addr(&req))
        .await
    {
        Ok(sid) => {
            let mut res = see_other(&next);
            let cookie = Cookie::build(SESSION_COOKIE, sid)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure(&state))
                .max_age(actix_web::cookie::time::Duration::seconds(
                    auth::WEB_SESSION_SECS,
                ))
                .finish();
            res.add_cookie(&cookie).map_err(AppError::internal)?;
            Ok(res)
        }
        Err(AppError::InvalidCredentials) => login_page(
            &expected,
            &next,
            email,
            Some("The email or password is wrong."),
            StatusCode::UNAUTHORIZED,
            &state,
        ),
        Err(AppError::TooManyAttempts { retry_after }) => {
            let msg = format!(
                "Too many failed attempts. Try again in {} minutes.",
                retry_after.div_ceil(60)
            );
            let mut res = login_page(
                &expected,
                &next,
                email,
                Some(&msg),
                StatusCode::TOO_MANY_REQUESTS,
                &state,
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(
    req: HttpRequest,
    user: WebUser,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    state.auth.web_logout(user.session_id).await?;
    let mut res = see_other("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(AppError::internal)?;
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// The library

struct Crumb {
    name: String,
    href: String,
}

struct Folder {
    uuid: String,
    name: String,
    href: String,
    date: String,
}

struct FileRowView {
    uuid: String,
    name: String,
    size: String,
    mime: String,
    visibility: String,
    date: String,
}

#[derive(Template)]
#[template(path = "app/library.html")]
struct Library {
    email: String,
    csrf: String,
    folder_uuid: String,
    crumbs: Vec<Crumb>,
    here: String,
    folders: Vec<Folder>,
    files: Vec<FileRowView>,
    notice: Option<String>,
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

const ALL: Page = Page {
    limit: -1,
    offset: 0,
};
const BY_NAME: Order = Order {
    field: OrderField::Name,
    desc: false,
};

pub async fn library(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let folder = match params.get("folder_uuid").filter(|f| !f.is_empty()) {
        Some(u) => FolderRef::Uuid(u.to_string()),
        None => FolderRef::Path(FolderPath::parse("folder", "/")?),
    };
    let (current, folders, _) = state
        .assets
        .list_folders(user.org_id, folder.clone(), false, BY_NAME, ALL)
        .await?;
    let (_, files, _) = state
        .assets
        .list_files(
            user.org_id,
            FolderRef::Uuid(current.uuid.clone()),
            false,
            BY_NAME,
            ALL,
        )
        .await?;
    // Breadcrumbs from the folder's path: each prefix is a folder of its own.
    let mut crumbs = vec![Crumb {
        name: "Library".into(),
        href: "/app".into(),
    }];
    let segments: Vec<&str> = current.path.split('/').filter(|s| !s.is_empty()).collect();
    for i in 0..segments.len().saturating_sub(1) {
        let p = FolderPath::parse("folder", &segments[..=i].join("/"))?;
        let f = state
            .assets
            .get_folder(user.org_id, FolderRef::Path(p))
            .await?;
        crumbs.push(Crumb {
            name: f.name.clone(),
            href: format!("/app?folder_uuid={}", f.uuid),
        });
    }
    let pg = Library {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        folder_uuid: current.uuid.clone(),
        here: if current.parent_id.is_none() {
            String::new()
        } else {
            current.name.clone()
        },
        crumbs,
        folders: folders
            .iter()
            .map(|f| Folder {
                uuid: f.uuid.clone(),
                name: f.name.clone(),
                href: format!("/app?folder_uuid={}", f.uuid),
                date: day(f.updated_at),
            })
            .collect(),
        files: files
            .iter()
            .map(|f| FileRowView {
                uuid: f.uuid.clone(),
                name: f.name.clone(),
                size: pretty_size(f.size as u64),
                mime: f.mime.clone(),
                visibility: f.visibility.clone(),
                date: day(f.modified_at),
            })
            .collect(),
        notice: params.get("notice").map(str::to_string),
    };
    page(&pg)
}

fn back_to(folder_uuid: &str) -> String {
    if folder_uuid.is_empty() {
        "/app".into()
    } else {
        format!("/app?folder_uuid={folder_uuid}")
    }
}

pub async fn create_folder(
    req: HttpRequest,
    user: WebUser,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let parent = form.get("folder_uuid");
    let name = Name::parse("name", form.get("name").trim())?;
    let parent_row = state
        .assets
        .get_folder(user.org_id, FolderRef::Uuid(parent.to_string()))
        .await?;
    let path = FolderPath::parse("name", &format!("{}/{}", parent_row.path, name))?;
    state.assets.create_folder(user.org_id, path).await?;
    Ok(see_other(&back_to(parent)))
}

pub async fn rename(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let (kind, uuid) = path.into_inner();
    let name = Name::parse("name", form.get("name").trim())?;
    let back = match kind.as_str() {
        "files" => {
            state
                .assets
                .update_file(user.org_id, uuid, Some(name), None)
                .await?
                .folder_uuid
        }
        "folders" => state
            .assets
            .rename_folder(user.org_id, uuid, name)
            .await?
            .parent_uuid
            .unwrap_or_default(),
        _ => return Err(AppError::not_found("This route")),
    };
    Ok(see_other(&back_to(&back)))
}

#[derive(Template)]
#[template(path = "app/confirm.html")]
struct Confirm {
    email: String,
    csrf: String,
    question: String,
    action: String,
    back: String,
}

pub async fn confirm_delete(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (kind, uuid) = path.into_inner();
    let (question, back) = match kind.as_str() {
        "files" => {
            let f = state.assets.get_file(user.org_id, uuid.clone()).await?;
            (
                format!("Delete the file “{}”? It leaves every share too.", f.name),
                back_to(&f.folder_uuid),
            )
        }
        "folders" => {
            let f = state
                .assets
                .get_folder(user.org_id, FolderRef::Uuid(uuid.clone()))
                .await?;
            (
                format!("Delete the folder “{}” with everything in it?", f.path),
                back_to(f.parent_uuid.as_deref().unwrap_or("")),
            )
        }
        "shares" => {
            let s = state.shares.get(user.org_id, &uuid).await?;
            (
                format!("Delete the share “{}”? Its link stops working.", s.title),
                "/app/shares".into(),
            )
        }
        _ => return Err(AppError::not_found("This route")),
    };
    page(&Confirm {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        question,
        action: format!("/app/{kind}/{uuid}/delete"),
        back,
    })
}

pub async fn delete(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let (kind, uuid) = path.into_inner();
    let back = match kind.as_str() {
        "files" => {
            state
                .assets
                .delete_file(user.org_id, uuid)
                .await?
                .folder_uuid
        }
        "folders" => {
            let f = state
                .assets
                .get_folder(user.org_id, FolderRef::Uuid(uuid.clone()))
                .await?;
            state.assets.delete_folder(user.org_id, uuid, true).await?;
            f.parent_uuid.unwrap_or_default()
        }
        "shares" => {
            state.shares.delete(user.org_id, &uuid).await?;
            return Ok(see_other("/app/shares"));
        }
        _ => return Err(AppError::not_found("This route")),
    };
    Ok(see_other(&back_to(&back)))
}

/// `POST /app/upload?folder_uuid=`: the v4 upload's rules and answer, for the session's org;
/// a plain form post (no script) goes back to the folder.
pub async fn upload(
    req: HttpRequest,
    user: WebUser,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok());
    check_csrf(&user, header_token.or(params.get("csrf_token")))?;
    let folder = match params.get("folder_uuid").filter(|f| !f.is_empty()) {
        Some(u) => FolderRef::Uuid(u.to_string()),
        None => FolderRef::Path(FolderPath::parse("folder", "/")?),
    };
    let (files, visibility) =
        crate::api::filerobot::upload::receive_upload(&req, &state, payload).await?;
    let stored = state
        .assets
        .store_upload(user.org_id, folder, files, visibility)
        .await?;
    if header_token.is_none() {
        let back = stored
            .first()
            .map(|f| f.folder_uuid.clone())
            .unwrap_or_default();
        return Ok(see_other(&back_to(&back)));
    }
    crate::api::filerobot::upload::upload_answer(&stored, &state.config.base_url, &user.org_token)
}

// ---------------------------------------------------------------------------------------------
// Shares

/// The share form's values, as typed: re-shown as they were when something is wrong.
#[derive(Default, Clone)]
struct ShareValues {
    title: String,
    description: String,
    items: Vec<String>,
    recursive: Vec<String>,
    visibility: HashMap<String, String>,
    starts_at: String,
    starts_tz: String,
    expires_at: String,
    expires_tz: String,
    permissions: String,
    max_downloads: String,
    access: String,
    users: String,
    recipients: String,
    message: String,
}

struct Pick {
    value: String,
    label: String,
    folder: bool,
    uuid: String,
    checked: bool,
    recursive: bool,
    visibility: String,
}

#[derive(Template)]
#[template(path = "app/share_form.html")]
struct ShareFormPage {
    email: String,
    csrf: String,
    heading: String,
    action: String,
    v: ShareValues,
    picks: Vec<Pick>,
    zones: &'static [chrono_tz::Tz],
    errors: HashMap<String, String>,
    editing: bool,
    has_password: bool,
}

impl ShareFormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

/// Which form field an error belongs beside: the share service's fields in the form's words
/// (the one table), and an entry of a list (`items[2]`) beside its list.
fn form_field(field: &Field) -> String {
    let name = match field {
        Field::Named(path) => return path.split(['[', '.']).next().unwrap_or(path).to_string(),
        Field::Title => "title",
        Field::Description => "description",
        Field::Items => "items",
        Field::StartsAt => "starts_at",
        Field::ExpiresAt => "expires_at",
        Field::StartsTz => "starts_tz",
        Field::ExpiresTz => "expires_tz",
        Field::Password => "password",
        Field::MaxDownloads => "max_downloads",
        Field::Users => "users",
        Field::Recipients => "recipients",
        Field::Message => "message",
        Field::Status => "status",
    };
    name.to_string()
}

async fn library_picks(
    state: &AppState,
    org_id: i64,
    v: &ShareValues,
) -> Result<Vec<Pick>, AppError> {
    let root = FolderRef::Path(FolderPath::parse("folder", "/")?);
    let (_, folders, _) = state
        .assets
        .list_folders(org_id, root.clone(), true, BY_NAME, ALL)
        .await?;
    let (_, files, _) = state
        .assets
        .list_files(org_id, root, true, BY_NAME, ALL)
        .await?;
    let mut picks: Vec<Pick> = folders
        .into_iter()
        .map(|f| {
            let value = format!("folder:{}", f.uuid);
            Pick {
                checked: v.items.contains(&value),
                recursive: v.recursive.contains(&f.uuid),
                visibility: v
                    .visibility
                    .get(&f.uuid)
                    .cloned()
                    .unwrap_or_else(|| "PUB,ORG".into()),
                label: format!("{}/", f.path),
                folder: true,
                uuid: f.uuid,
                value,
            }
        })
        .collect();
    picks.extend(files.into_iter().map(|f| {
        let value = format!("file:{}", f.uuid);
        let path = if f.folder_path == "/" {
            format!("/{}", f.name)
        } else {
            format!("{}/{}", f.folder_path, f.name)
        };
        Pick {
            checked: v.items.contains(&value),
            recursive: false,
            visibility: String::new(),
            label: format!("{path} ({})", pretty_size(f.size as u64)),
            folder: false,
            uuid: f.uuid,
            value,
        }
    }));
    picks.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(picks)
}

async fn share_form_page(
    state: &AppState,
    user: &WebUser,
    v: ShareValues,
    editing: Option<&Share>,
    errors: HashMap<String, String>,
) -> Result<HttpResponse, AppError> {
    let picks = library_picks(state, user.org_id, &v).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let pg = ShareFormPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        heading: if editing.is_some() {
            "Edit share".into()
        } else {
            "New share".into()
        },
        action: editing.map_or("/app/shares".into(), |s| format!("/app/shares/{}", s.uuid)),
        has_password: editing.is_some_and(Share::password_protected),
        editing: editing.is_some(),
        v,
        picks,
        zones: &chrono_tz::TZ_VARIANTS,
        errors,
    };
    let mut res = page(&pg)?;
    *res.status_mut() = status;
    Ok(res)
}

fn values_from_form(form: &FormFields) -> ShareValues {
    let items = form.all("item");
    let mut visibility = HashMap::new();
    for it in &items {
        if let Some(uuid) = it.strip_prefix("folder:") {
            let vis = form.get(&format!("visibility_{uuid}"));
            visibility.insert(
                uuid.to_string(),
                if vis.is_empty() {
                    "PUB,ORG".into()
                } else {
                    vis.to_string()
                },
            );
        }
    }
    ShareValues {
        title: form.get("title").into(),
        description: form.get("description").into(),
        recursive: form.all("recursive"),
        items,
        visibility,
        starts_at: form.get("starts_at").into(),
        starts_tz: form.get("starts_tz").into(),
        expires_at: form.get("expires_at").into(),
        expires_tz: form.get("expires_tz").into(),
        permissions: form.get("permissions").into(),
        max_downloads: form.get("max_downloads").into(),
        access: form.get("access").into(),
        users: form.get("users").into(),
        recipients: form.get("recipients").into(),
        message: form.get("message").into(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as a patch for the share service; field errors name the form's fields.
fn patch_from_form(form: &FormFields, editing: bool) -> Result<SharePatch, AppError> {
    let mut items = Vec::new();
    for (i, it) in form.all("item").iter().enumerate() {
        let field = format!("items[{i}]");
        let (kind, uuid) = match it.split_once(':') {
            Some(("file", u)) => (ItemKind::File, u),
            Some(("folder", u)) => (ItemKind::Folder, u),
            _ => {
                return Err(AppError::invalid(
                    field,
                    "pick files or folders from the library",
                ))
            }
        };
        let vis = form.get(&format!("visibility_{uuid}"));
        let visibility = if vis.is_empty() {
            FolderVisibility::All
        } else {
            FolderVisibility::parse(field.as_str(), vis)?
        };
        items.push(ItemSpec {
            kind,
            id: uuid.to_string(),
            field,
            recursive: form.all("recursive").iter().any(|r| r == uuid),
            visibility,
        });
    }
    let time = |raw: &str| -> Option<TimeValue> {
        (!raw.trim().is_empty()).then(|| TimeValue::Raw(raw.trim().to_string()))
    };
    let zone =
        |raw: &str| -> Option<String> { (!raw.trim().is_empty()).then(|| raw.trim().to_string()) };
    let max = form.get("max_downloads").trim();
    let max_downloads = if max.is_empty() {
        None
    } else {
        Some(max.parse::<i64>().map_err(|_| {
            AppError::invalid("max_downloads", "a whole number, or empty for no limit")
        })?)
    };
    let recipients = lines(form.get("recipients"))
        .iter()
        .enumerate()
        .map(|(i, e)| Email::parse(&format!("recipients[{i}]"), e).map(RecipientSpec::new))
        .collect::<Result<Vec<_>, _>>()?;
    let users = lines(form.get("users"))
        .into_iter()
        .enumerate()
        .map(|(i, key)| UserSpec {
            key,
            field: format!("users[{i}]"),
        })
        .collect();
    let password = form.get("password");
    let keep = editing && form.get("keep_password") == "1";
    Ok(SharePatch {
        title: Some(form.get("title").to_string()),
        description: Some(form.get("description").to_string()),
        items: Some(items),
        // Zones first: the service reads wall times in them.
        starts_tz: Some(zone(form.get("starts_tz"))),
        expires_tz: Some(zone(form.get("expires_tz"))),
        starts_at: Some(time(form.get("starts_at"))),
        expires_at: Some(time(form.get("expires_at"))),
        password: if keep && password.is_empty() {
            None
        } else {
            Some((!password.is_empty()).then(|| password.to_string()))
        },
        permission: Some(if form.get("permissions") == "READ" {
            Permission::View
        } else {
            Permission::Download
        }),
        max_downloads: Some(max_downloads),
        access: Some(if form.get("access") == "users" {
            Access::Users
        } else {
            Access::Link
        }),
        users: Some(users),
        recipients: Some(recipients),
        message: Some((!form.get("message").is_empty()).then(|| form.get("message").to_string())),
        ..Default::default()
    })
}

fn errors_of(e: &AppError) -> Option<HashMap<String, String>> {
    match e {
        AppError::InvalidField { field, message } => {
            Some(HashMap::from([(form_field(field), message.clone())]))
        }
        _ => None,
    }
}

pub async fn new_share(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    // Preselected from the library: ?item=file:<uuid>&item=folder:<uuid>
    let pre = FormFields::parse(req.query_string().as_bytes())?;
    let _ = params;
    let v = ShareValues {
        items: pre.all("item"),
        permissions: "READ+DOWNLOAD".into(),
        access: "link".into(),
        ..Default::default()
    };
    share_form_page(&state, &user, v, None, HashMap::new()).await
}

pub async fn create_share(
    req: HttpRequest,
    user: WebUser,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let result = match patch_from_form(&form, false) {
        Ok(p) => {
            state
                .shares
                .create(user.org_id, Some(user.user_id), p)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(see_other(&format!("/app/shares?created={}", s.uuid))),
        Err(e) => match errors_of(&e) {
            Some(errors) => {
                share_form_page(&state, &user, values_from_form(&form), None, errors).await
            }
            None => Err(e),
        },
    }
}

/// An instant as a `datetime-local` value in `zone`.
fn local_input(t: Option<DateTime<Utc>>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    t.map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

fn values_of(s: &Share) -> ShareValues {
    let r = s;
    ShareValues {
        title: r.title.clone(),
        description: r.description.clone(),
        items: s
            .items
            .iter()
            .map(|i| {
                if i.folder.is_none() {
                    format!("file:{}", i.uuid)
                } else {
                    format!("folder:{}", i.uuid)
                }
            })
            .collect(),
        recursive: s
            .items
            .iter()
            .filter(|i| i.folder.is_some_and(|o| o.recursive))
            .map(|i| i.uuid.clone())
            .collect(),
        visibility: s
            .items
            .iter()
            .filter_map(|i| Some((i.uuid.clone(), i.folder?.visibility.as_str().to_string())))
            .collect(),
        starts_at: local_input(r.starts_at, &r.starts_tz),
        starts_tz: r.starts_tz.clone(),
        expires_at: local_input(r.expires_at, &r.expires_tz),
        expires_tz: r.expires_tz.clone(),
        permissions: if r.permission.can_download() {
            "READ+DOWNLOAD".into()
        } else {
            "READ".into()
        },
        max_downloads: r.max_downloads.map(|m| m.to_string()).unwrap_or_default(),
        access: if r.access == Access::Users {
            "users".into()
        } else {
            "link".into()
        },
        users: s
            .users
            .iter()
            .map(|u| u.email.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        recipients: s
            .recipients
            .iter()
            .map(|x| x.email.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        message: r.message.clone().unwrap_or_default(),
    }
}

pub async fn edit_share(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let s = state.shares.get(user.org_id, &path).await?;
    share_form_page(&state, &user, values_of(&s), Some(&s), HashMap::new()).await
}

pub async fn update_share(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let current = state.shares.get(user.org_id, &path).await?;
    let result = match patch_from_form(&form, true) {
        Ok(p) => state.shares.update(user.org_id, &path, p).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/app/shares")),
        Err(e) => match errors_of(&e) {
            Some(errors) => {
                share_form_page(
                    &state,
                    &user,
                    values_from_form(&form),
                    Some(&current),
                    errors,
                )
                .await
            }
            None => Err(e),
        },
    }
}

/// Revoke, restore, extend the expiry by a day or a week, or mail the link again: one click each.
pub async fn share_action(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
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
            let by = match form.get("by") {
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
            let email = Email::parse("email", form.get("email"))?;
            state
                .shares
                .notify(user.org_id, &uuid, vec![], vec![email])
                .await?;
            return Ok(see_other("/app/shares"));
        }
        _ => return Err(AppError::not_found("This route")),
    };
    state.shares.update(user.org_id, &uuid, patch).await?;
    Ok(see_other("/app/shares"))
}

struct ShareCard {
    uuid: String,
    title: String,
    status: &'static str,
    link: String,
    expiry: String,
    views: i64,
    downloads: i64,
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
}

pub async fn list_shares(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (list, _) = state
        .shares
        .list(
            user.org_id,
            None,
            Page {
                limit: 1000,
                offset: 0,
            },
        )
        .await?;
    let created = params.get("created").unwrap_or("");
    let cards = list
        .iter()
        .map(|s| ShareCard {
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
    })
}

#[derive(Template)]
#[template(path = "app/activity.html")]
struct ActivityPage {
    email: String,
    csrf: String,
    title: String,
    rows: Vec<(String, String, String, String)>,
}

pub async fn share_activity(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let s = state.shares.get(user.org_id, &path).await?;
    let (rows, _) = state
        .shares
        .activity(
            user.org_id,
            &path,
            Page {
                limit: 500,
                offset: 0,
            },
        )
        .await?;
    page(&ActivityPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        title: s.title.clone(),
        rows: rows
            .into_iter()
            .map(|a| {
                (
                    day(a.at),
                    a.kind,
                    a.file_uuid.unwrap_or_default(),
                    a.user_agent,
                )
            })
            .collect(),
    })
}
