//! The sharebox reader (`GET /{token}/v4/share/{puid}`) and the share link
//! (`GET /{company}/{token}/{puid}`): anonymous reads that go through `shares::open`.

use crate::api::{client_addr, state, user_agent, Params};
use crate::domain::auth::{self, Credential};
use crate::domain::shares::{self, Cursor, Event, Opened, TreeFile, Visitor};
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

struct Links {
    base: String,
    access: Option<String>,
    download: bool,
}

impl Links {
    fn file(&self, f: &TreeFile) -> ReaderFile {
        let url = self.download.then(|| {
            let q = self
                .access
                .as_deref()
                .map(|t| format!("?access={t}"))
                .unwrap_or_default();
            let download = format!("{}/files/{}", self.base, f.uuid);
            ReaderUrls {
                preview: shares::previewable(&f.mime).then(|| format!("{download}/preview{q}")),
                download: format!("{download}{q}"),
            }
        });
        ReaderFile {
            uuid: f.uuid.clone(),
            name: f.name.clone(),
            extension: extension_of(&f.name),
            mime: f.mime.clone(),
            size: ReaderSize {
                bytes: f.size,
                pretty: pretty_size(f.size.max(0) as u64),
            },
            url,
        }
    }
}

fn share_of(o: &Opened) -> ReaderShare {
    let r = &o.share;
    ReaderShare {
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
        password_protected: r.password_protected(),
        share_uri: r.share_uri.clone(),
    }
}

/// Writes the answer (`ReaderAnswer`'s shape) as the walk goes: the walk gives each level's
/// files, then its folders, so each folder object is `{"name", "files", "folders"}` in that
/// order and nothing is held but the open folders' states.
struct Writer {
    links: Links,
    /// Per open folder: still in its files, and how many entries its array has.
    open: Vec<(bool, usize)>,
    /// The top level: still in its files, and the entries of its current array.
    top: (bool, usize),
}

fn json(out: &mut Vec<u8>, v: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(out, v).map_err(std::io::Error::other)
}

impl Writer {
    fn head(&self, o: &Opened) -> std::io::Result<Vec<u8>> {
        let mut out = br#"{"status":"success","share":"#.to_vec();
        json(&mut out, &share_of(o))?;
        out.extend_from_slice(br#","files":["#);
        Ok(out)
    }

    /// Leaves a files array for the folders one, then counts one more entry of the level.
    fn entry(level: &mut (bool, usize), folder: bool, out: &mut Vec<u8>) {
        if folder && level.0 {
            out.extend_from_slice(br#"],"folders":["#);
            *level = (false, 0);
        }
        if level.1 > 0 {
            out.push(b',');
        }
        level.1 += 1;
    }

    fn event(&mut self, ev: &Event, out: &mut Vec<u8>) -> std::io::Result<()> {
        let level = self.open.last_mut().unwrap_or(&mut self.top);
        match ev {
            Event::File { file, .. } => {
                Self::entry(level, false, out);
                json(out, &self.links.file(file))?;
            }
            Event::Enter(name) => {
                Self::entry(level, true, out);
                out.extend_from_slice(br#"{"name":"#);
                json(out, name)?;
                out.extend_from_slice(br#","files":["#);
                self.open.push((true, 0));
            }
            Event::Leave => {
                if let Some((in_files, _)) = self.open.pop() {
                    out.extend_from_slice(if in_files {
                        br#"],"folders":[]}"#
                    } else {
                        b"]}"
                    });
                }
            }
        }
        Ok(())
    }

    fn finish(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.top.0 {
            br#"],"folders":[]}"#
        } else {
            b"]}"
        });
    }
}

/// The answer as a stream: the head, then a batch of the walk per trip to the database.
fn answer(
    state: web::Data<AppState>,
    o: Opened,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    let writer = Writer {
        links: Links {
            base: o.share.share_uri.clone(),
            access: o.unlock_token.clone(),
            download: o.share.permission.can_download(),
        },
        open: Vec::new(),
        top: (true, 0),
    };
    let start = (writer, None::<Cursor>);
    futures_util::stream::unfold(Some(start), move |st| {
        let (state, o) = (state.clone(), o.clone());
        async move {
            let (mut writer, cursor) = st?;
            let Some(cursor) = cursor else {
                return Some((
                    writer.head(&o).map(Into::into),
                    Some((writer, Some(Cursor::default()))),
                ));
            };
            if cursor.is_done() {
                return None;
            }
            let (cursor, events) = match state.shares.walk(&o, cursor).await {
                Ok(x) => x,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            let mut out = Vec::new();
            for ev in &events {
                if let Err(e) = writer.event(ev, &mut out) {
                    return Some((Err(e), None));
                }
            }
            if cursor.is_done() {
                writer.finish(&mut out);
            }
            Some((Ok(out.into()), Some((writer, Some(cursor)))))
        }
    })
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
    let opened = state.shares.open(&puid, Some(&token), &visitor).await?;
    let res = HttpResponse::Ok()
        .content_type("application/json")
        .streaming(answer(state.clone(), opened.clone()));
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
