//! `/r/{puid}/tus/`: tus 1.0.0 for a file request's uploaders, over the request policy's
//! `TusService`. Authorised by the request's own uploader cookie, never by an API credential:
//! `Tus-Resumable` (412), then the request's state (404, 403, 410), then the cookie (401),
//! then the upload must be this uploader's (404). Errors leave in Filerobot's envelope.

use super::upload::{contact, Contact};
use super::{app_state, token};
use crate::api::header_str;
use crate::api::tus::{
    created, creation_args, head_answer, parse_metadata, patch_args, patched, TUS_VERSION,
};
use crate::db::tus::RequestUpload;
use crate::domain::assets::FolderRef;
use crate::domain::requests::{sanitize_name, Uploader};
use crate::domain::tus::{unavailable, FirstChunk, NewTus};
use crate::domain::types::Name;
use crate::error::AppError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// The uploader of a tus request to request `puid`, after every check in order.
async fn caller(state: &AppState, req: &HttpRequest, puid: &str) -> Result<Uploader, AppError> {
    if header_str(req, "tus-resumable").map(str::trim) != Some(TUS_VERSION) {
        return Err(AppError::TusVersion);
    }
    state.requests.uploader(puid, token(req).as_deref()).await
}

/// `Upload-Metadata` of an upload through a request: `filename` (required; made safe, never
/// refused for its characters), `filetype`, and the uploader's `name`, `email` and `note`.
fn new_upload(
    u: &Uploader,
    folder: String,
    length: u64,
    raw: &str,
) -> Result<(NewTus, Contact), AppError> {
    let meta = parse_metadata(raw)?;
    let filename = meta.get("filename").ok_or_else(|| {
        AppError::invalid(
            "filename",
            "Upload-Metadata must name the file: `filename <base64 name>`",
        )
    })?;
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let clean = sanitize_name(base);
    if !u.request.takes_extension(&clean) {
        return Err(u.request.extension_refused(&clean));
    }
    let mut c = contact(
        meta.get("name").cloned(),
        meta.get("email").cloned(),
        meta.get("note").cloned(),
    )?;
    Ok((
        NewTus {
            length,
            name: Name::parse("filename", &clean)?,
            filetype: meta.get("filetype").filter(|t| !t.is_empty()).cloned(),
            folder: FolderRef::Uuid(folder),
            metadata: raw.to_string(),
            request: Some(RequestUpload {
                request_id: u.request.row.id,
                uploader_id: u.row.id,
                note: c.note.take(),
            }),
        },
        c,
    ))
}

/// Create an upload through a file request (tus creation, creation-with-upload)
///
/// It holds one of the request's file slots and its bytes while it lives: 409 `REQUEST_FULL`,
/// 413 `TOO_LARGE` before a byte is stored. Authorised by the uploader cookie the request's
/// page sets, never by an API credential.
#[utoipa::path(post, operation_id = "requestTusCreate", path = "/r/{puid}/tus/", tag = "File requests (uploaders)",
    params(("puid" = String, Path), ("Tus-Resumable" = String, Header, description = "1.0.0"),
           ("Upload-Length" = u64, Header),
           ("Upload-Metadata" = String, Header, description = "`filename` (required), `filetype`, `name`, `email`, `note`; values base64")),
    request_body(content_type = "application/offset+octet-stream", description = "optional: the first bytes"),
    responses((status = 201, description = "Location, Upload-Offset, Upload-Expires; Sharebox-File-Uuid once complete"),
              (status = 400), (status = 401), (status = 403), (status = 404), (status = 409, description = "REQUEST_FULL"),
              (status = 410), (status = 412), (status = 413)))]
pub async fn tus_create(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let puid = path.into_inner();
    let u = caller(&state, &req, &puid).await?;
    let (length, first) = creation_args(&req, state.request_tus.policy().max_bytes)?;
    let folder = state.requests.target_folder(&u.request).await?;
    let (n, c) = new_upload(
        &u,
        folder,
        length,
        header_str(&req, "upload-metadata").unwrap_or(""),
    )?;
    state.requests.set_contact(&u, c.name, c.email).await?;
    let first = first.map(|(check, declared)| FirstChunk {
        check,
        declared,
        body: payload,
    });
    let s = state
        .request_tus
        .create(u.request.row.org_id, n, first)
        .await
        .map_err(unavailable)?;
    Ok(created(
        format!("{}/r/{puid}/tus/{}", state.config.base_url, s.id),
        &s,
    ))
}

/// The uploader and the upload id of a request about one upload, checked.
async fn own_upload(
    state: &AppState,
    req: &HttpRequest,
    puid: &str,
    id: &str,
) -> Result<Uploader, AppError> {
    let u = caller(state, req, puid).await?;
    state.request_tus.check_uploader(id, u.row.id).await?;
    Ok(u)
}

/// Where an upload through a file request stands (tus core)
#[utoipa::path(head, operation_id = "requestTusHead", path = "/r/{puid}/tus/{id}", tag = "File requests (uploaders)",
    params(("puid" = String, Path), ("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 200, description = "Upload-Offset, Upload-Length, Upload-Expires"), (status = 401), (status = 404), (status = 410)))]
pub async fn tus_head(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, id) = path.into_inner();
    let u = own_upload(&state, &req, &puid, &id).await?;
    let s = state
        .request_tus
        .head(u.request.row.org_id, &id)
        .await
        .map_err(unavailable)?;
    Ok(head_answer(&s))
}

/// Send bytes of an upload through a file request (tus core, checksum)
///
/// The last bytes put the file in the request's folder.
#[utoipa::path(patch, operation_id = "requestTusPatch", path = "/r/{puid}/tus/{id}", tag = "File requests (uploaders)",
    params(("puid" = String, Path), ("id" = String, Path), ("Tus-Resumable" = String, Header),
           ("Upload-Offset" = u64, Header)),
    request_body(content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Upload-Offset; Sharebox-File-Uuid when complete"), (status = 401), (status = 404),
              (status = 409, description = "OFFSET_MISMATCH"), (status = 410), (status = 460)))]
pub async fn tus_patch(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, id) = path.into_inner();
    let u = own_upload(&state, &req, &puid, &id).await?;
    let (offset, check, declared) = patch_args(&req)?;
    let s = state
        .request_tus
        .patch(u.request.row.org_id, &id, offset, check, declared, payload)
        .await
        .map_err(unavailable)?;
    Ok(patched(&s))
}

/// Terminate an upload through a file request: its bytes go, its slot comes back
#[utoipa::path(delete, operation_id = "requestTusTerminate", path = "/r/{puid}/tus/{id}", tag = "File requests (uploaders)",
    params(("puid" = String, Path), ("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn tus_terminate(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, id) = path.into_inner();
    let u = own_upload(&state, &req, &puid, &id).await?;
    state
        .request_tus
        .terminate(u.request.row.org_id, &id)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}
