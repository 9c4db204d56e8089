//! The sharebox reader (`GET /{token}/v4/share/{puid}`) and the share link
//! (`GET /{company}/{token}/{puid}`): anonymous reads that go through `shares::open`.

use super::success;
use crate::api::{client_addr, state, user_agent, Params};
use crate::domain::auth::{self, Credential};
use crate::domain::shares::{self, Opened, Tree, TreeFile, TreeFolder, Visitor};
use crate::domain::types::{extension_of, pretty_size};
use crate::error::AppError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ReaderShare {
    pub puid: String,
    pub title: String,
    pub description: String,
    /// Null when the share hides it.
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub permissions: &'static str,
    pub password_protected: bool,
    pub share_uri: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReaderUrls {
    pub download: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReaderSize {
    pub bytes: i64,
    pub pretty: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReaderFile {
    pub uuid: String,
    pub name: String,
    pub extension: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub size: ReaderSize,
    /// Only on READ+DOWNLOAD shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<ReaderUrls>,
}

#[derive(Serialize, ToSchema)]
pub struct ReaderFolder {
    pub name: String,
    #[schema(no_recursion)]
    pub folders: Vec<ReaderFolder>,
    pub files: Vec<ReaderFile>,
}

#[derive(Serialize, ToSchema)]
pub struct ReaderAnswer {
    pub status: &'static str,
    pub share: ReaderShare,
    pub files: Vec<ReaderFile>,
    pub folders: Vec<ReaderFolder>,
}

struct Links<'a> {
    base: String,
    access: Option<&'a str>,
    download: bool,
}

impl Links<'_> {
    fn file(&self, f: &TreeFile) -> ReaderFile {
        let url = self.download.then(|| {
            let q = self
                .access
                .map(|t| format!("?access={t}"))
                .unwrap_or_default();
            let download = format!("{}/files/{}", self.base, f.file.uuid);
            ReaderUrls {
                preview: shares::previewable(&f.file.mime)
                    .then(|| format!("{download}/preview{q}")),
                download: format!("{download}{q}"),
            }
        });
        ReaderFile {
            uuid: f.file.uuid.clone(),
            name: f.name.clone(),
            extension: extension_of(&f.name),
            mime: f.file.mime.clone(),
            size: ReaderSize {
                bytes: f.file.size,
                pretty: pretty_size(f.file.size as u64),
            },
            url,
        }
    }

    fn folder(&self, f: &TreeFolder) -> ReaderFolder {
        ReaderFolder {
            name: f.name.clone(),
            folders: f.folders.iter().map(|x| self.folder(x)).collect(),
            files: f.files.iter().map(|x| self.file(x)).collect(),
        }
    }
}

fn answer(o: &Opened, tree: &Tree) -> ReaderAnswer {
    let r = &o.share;
    let links = Links {
        base: o.share.share_uri.clone(),
        access: o.unlock_token.as_deref(),
        download: r.permission.can_download(),
    };
    ReaderAnswer {
        status: "success",
        share: ReaderShare {
            puid: r.puid.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            starts_at: r
                .starts_at
                .filter(|_| r.show_starts_at)
                .map(crate::api::time),
            expires_at: r
                .expires_at
                .filter(|_| r.show_expires_at)
                .map(crate::api::time),
            starts_tz: r.starts_tz.clone(),
            expires_tz: r.expires_tz.clone(),
            permissions: super::shares::permissions_str(r.permission),
            password_protected: o.share.password_protected(),
            share_uri: o.share.share_uri.clone(),
        },
        files: tree.files.iter().map(|f| links.file(f)).collect(),
        folders: tree.folders.iter().map(|f| links.folder(f)).collect(),
    }
}

/// The Bearer's user, if the reader got a valid one (a `users` share lets only them in).
async fn bearer_user(state: &AppState, req: &HttpRequest) -> Option<i64> {
    let authz = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    match auth::credential_from_headers(authz, None) {
        Some(c @ Credential::Bearer(_)) => state
            .auth
            .authenticate(Some(c))
            .await
            .ok()?
            .user
            .map(|u| u.id),
        _ => None,
    }
}

/// The password as given, then decoded once more (clients that encode it twice).
fn password_candidates(raw: Option<&str>) -> Vec<String> {
    let Some(p) = raw else { return vec![] };
    let mut out = vec![p.to_string()];
    if let Ok(twice) = percent_encoding::percent_decode_str(p).decode_utf8() {
        if twice != p {
            out.push(twice.into_owned());
        }
    }
    out
}

/// Read a share's details and contents (the Sharebox reader)
#[utoipa::path(get, operation_id = "readShare", path = "/{token}/v4/share/{puid}", tag = "Sharebox reader",
    params(("token" = String, Path), ("puid" = String, Path), ("password" = Option<String>, Query)),
    responses((status = 200, body = ReaderAnswer), (status = 401, description = "PASSWORD_REQUIRED, WRONG_PASSWORD"),
        (status = 403), (status = 404), (status = 410), (status = 429)))]
pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> HttpResponse {
    let mut res = read_share(&req, path, params)
        .await
        .unwrap_or_else(HttpResponse::from_error);
    // Reader answers (errors included) may be about a password-protected share: never cached.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    res
}

async fn read_share(
    req: &HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let req = req.clone();
    let state = state(&req)?;
    let (token, puid) = path.into_inner();
    let visitor = Visitor {
        passwords: password_candidates(params.get("password")),
        unlock_token: params.get("access").map(str::to_string),
        user_id: bearer_user(&state, &req).await,
        addr: client_addr(&req),
        user_agent: user_agent(&req),
    };
    let (opened, tree) = state
        .shares
        .open_with_tree(&puid, Some(&token), &visitor)
        .await?;
    let res = success(answer(&opened, &tree))?;
    // Counted once the answer went out: never for a HEAD.
    let ua = visitor.user_agent;
    let count: Box<dyn FnOnce()> = Box::new(move || state.shares.count_view(&opened, &ua));
    Ok(crate::blob::on_sent(res, count))
}

/// Redirect a Filerobot share link to the share's public page
///
/// `GET /{company}/{token}/{puid}` → 302 to the public page.
#[utoipa::path(get, operation_id = "openShareLink", path = "/{company}/{token}/{puid}", tag = "Sharebox reader",
    params(("company" = String, Path, description = "ignored"), ("token" = String, Path), ("puid" = String, Path)),
    responses((status = 302, description = "Location: /s/{puid}/{slug}"), (status = 404)))]
pub async fn share_link(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (_, token, puid) = path.into_inner();
    let (puid, slug) = state.shares.link_target(&token, &puid).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, format!("/s/{puid}/{slug}")))
        .finish())
}
