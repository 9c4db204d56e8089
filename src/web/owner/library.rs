//! The library: folders and files, upload, rename, delete with a confirmation page.

use super::{back_to, confirm_page, day, see_other, state};
use crate::api::Params;
use crate::domain::assets::{FolderEntry, FolderRef};
use crate::domain::auth::WebUser;
use crate::domain::paging::{self, Key};
use crate::domain::types::{FolderPath, Name};
use crate::error::{AppError, Family};
use crate::web::guard::{last, CsrfForm, CsrfHeader};
use crate::web::{page, size_label};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

struct Crumb {
    name: String,
    href: String,
}

struct Folder {
    uuid: String,
    name: String,
    href: String,
    date: String,
    /// What sits directly in it: "12 files, 3.4 MiB, 2 folders".
    holds: String,
}

struct FileRowView {
    uuid: String,
    /// Its type is one the browser may show inline (`/app/files/{uuid}/preview`).
    previewable: bool,
    /// An image with a thumbnail (`/app/files/{uuid}/thumb`).
    thumb: bool,
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
    /// The upload limit in bytes (for the script's own check) and as the page writes it.
    max_bytes: u64,
    max_label: String,
    /// The name filter as typed ("" for none), and the page's place: "201–400 of 50,000".
    q: String,
    label: String,
    /// `/app?...` of the previous and next pages.
    prev: Option<String>,
    next: Option<String>,
}

/// The longest name filter: no name is longer.
const MAX_Q: usize = 255;

fn plural(n: i64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        paging::thousands(n.max(0) as u64),
        if n == 1 { one } else { many }
    )
}

/// A folder's direct contents as its row says them.
fn holds(e: &FolderEntry) -> String {
    let mut s = format!(
        "{}, {}",
        plural(e.files, "file", "files"),
        size_label(e.bytes.max(0) as u64)
    );
    if e.folders > 0 {
        s.push_str(", ");
        s.push_str(&plural(e.folders, "folder", "folders"));
    }
    s
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /app?folder_uuid=&q=&after=|before=&at=`: a page of the folder's folders, then files,
/// by name (`domain::paging`: the last page costs what the first does).
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
    let q = params.get("q").unwrap_or("").trim().to_string();
    if q.chars().count() > MAX_Q {
        return Err(AppError::invalid(
            "q",
            format!("the name filter is longer than {MAX_Q} characters"),
        ));
    }
    let seek = paging::seek(params.get("after"), params.get("before"));
    let contains = Some(q.clone()).filter(|q| !q.is_empty());
    let pg = state
        .assets
        .folder_page(
            user.org_id,
            folder,
            seek.clone(),
            contains,
            paging::PAGE_SIZE,
        )
        .await?;
    let current = &pg.folder;
    let mut crumbs = vec![Crumb {
        name: "Library".into(),
        href: "/app".into(),
    }];
    crumbs.extend(pg.ancestors.iter().map(|(uuid, name)| Crumb {
        name: name.clone(),
        href: format!("/app?folder_uuid={uuid}"),
    }));
    let w = &pg.entries;
    let keys = |file: bool, name: &str| Key {
        file,
        name: name.to_string(),
    };
    let first = w
        .folders
        .first()
        .map(|f| keys(false, &f.folder.name))
        .or_else(|| w.files.first().map(|f| keys(true, &f.name)));
    let last = w
        .files
        .last()
        .map(|f| keys(true, &f.name))
        .or_else(|| w.folders.last().map(|f| keys(false, &f.folder.name)));
    let mut base = format!("folder_uuid={}", encode(&current.uuid));
    if !q.is_empty() {
        base.push_str(&format!("&q={}", encode(&q)));
    }
    let at = paging::position(&seek, params.get("at"), pg.total);
    let pager = paging::pager(
        &base,
        at,
        pg.total,
        w.len(),
        first.as_ref().zip(last.as_ref()),
        w.has_prev,
        w.has_next,
    );
    let view = Library {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        folder_uuid: current.uuid.clone(),
        here: if current.parent_id.is_none() {
            String::new()
        } else {
            current.name.clone()
        },
        crumbs,
        folders: w
            .folders
            .iter()
            .map(|e| Folder {
                uuid: e.folder.uuid.clone(),
                name: e.folder.name.clone(),
                href: format!("/app?folder_uuid={}", e.folder.uuid),
                date: day(e.folder.updated_at),
                holds: holds(e),
            })
            .collect(),
        files: w
            .files
            .iter()
            .map(|f| FileRowView {
                uuid: f.uuid.clone(),
                previewable: crate::domain::shares::previewable(&f.mime),
                thumb: crate::thumbs::thumbable(&f.mime),
                name: f.name.clone(),
                size: size_label(f.size as u64),
                mime: f.mime.clone(),
                visibility: f.visibility.clone(),
                date: day(f.modified_at),
            })
            .collect(),
        notice: params.get("notice").map(str::to_string),
        max_bytes: state.config.max_upload_bytes,
        max_label: size_label(state.config.max_upload_bytes),
        q,
        label: pager.label,
        prev: pager.prev.map(|p| format!("/app?{p}")),
        next: pager.next.map(|p| format!("/app?{p}")),
    };
    page(&view)
}

/// The new folder form: its name, in the folder the library shows.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewFolder {
    #[serde(deserialize_with = "last")]
    folder_uuid: String,
    #[serde(deserialize_with = "last")]
    name: String,
}

pub async fn create_folder(
    req: HttpRequest,
    post: CsrfForm<NewFolder>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let parent = form.folder_uuid.as_str();
    let name = Name::parse("name", form.name.trim())?;
    let parent_row = state
        .assets
        .get_folder(user.org_id, FolderRef::Uuid(parent.to_string()))
        .await?;
    let path = FolderPath::parse("name", &format!("{}/{}", parent_row.path, name))?;
    state.assets.create_folder(user.org_id, path).await?;
    Ok(see_other(&back_to(parent)))
}

/// The rename form of a file or folder.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewName {
    #[serde(deserialize_with = "last")]
    name: String,
}

pub async fn rename(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm<NewName>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let (kind, uuid) = path.into_inner();
    let name = Name::parse("name", form.name.trim())?;
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
    confirm_page(&user, question, format!("/app/{kind}/{uuid}/delete"), back)
}

pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let user = post.user;
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
            return Ok(super::shares::done("deleted", &uuid));
        }
        _ => return Err(AppError::not_found("This route")),
    };
    Ok(see_other(&back_to(&back)))
}

/// `POST /app/upload?folder_uuid=`: the v4 upload's rules and answer, for the session's org;
/// a plain form post (no script, the token in the query) goes back to the folder. The script
/// gets the v4 envelope for a refusal too (a file over the limit, a bad name), so the page can
/// show the server's own message; a plain post gets the error page.
pub async fn upload(
    req: HttpRequest,
    post: CsrfHeader,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfHeader { user, via_header } = post;
    let stored = async {
        let folder = match params.get("folder_uuid").filter(|f| !f.is_empty()) {
            Some(u) => FolderRef::Uuid(u.to_string()),
            None => FolderRef::Path(FolderPath::parse("folder", "/")?),
        };
        let (files, visibility) =
            crate::api::filerobot::upload::receive_upload(&req, &state, payload).await?;
        state
            .assets
            .store_upload(user.org_id, folder, files, visibility)
            .await
    }
    .await;
    let stored = match stored {
        Ok(stored) => stored,
        // A 5xx stays an error, so it is logged and says nothing internal.
        Err(e) if via_header && !e.status(Family::Filerobot).is_server_error() => {
            return Ok(e.render(Family::Filerobot, req.path()));
        }
        Err(e) => return Err(e),
    };
    if !via_header {
        let back = stored
            .first()
            .map(|f| f.folder_uuid.clone())
            .unwrap_or_default();
        return Ok(see_other(&back_to(&back)));
    }
    crate::api::filerobot::upload::upload_answer(&stored, &state.config.base_url, &user.org_token)
}
