//! The owner's own files, opened from the library: the download and a preview of a safe type,
//! for the session's org only, served by `blob::serve` like the v4 download (ETag, 304, Range,
//! 416). A preview follows the public share's rule: only `shares::previewable` types, so HTML
//! and SVG are never served inline (the download of any type is an attachment).

use super::state;
use crate::blob::{self, Download};
use crate::domain::auth::WebUser;
use crate::domain::shares::previewable;
use crate::error::AppError;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET /app/files/{uuid}`: the file as an attachment.
pub async fn download(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    serve(req, user, path.into_inner(), false).await
}

/// `GET /app/files/{uuid}/preview`: the file inline, when its type is safe to show; else 404.
pub async fn preview(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    serve(req, user, path.into_inner(), true).await
}

async fn serve(
    req: HttpRequest,
    user: WebUser,
    uuid: String,
    preview: bool,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    // Another org's file is as unknown as no file at all.
    let file = state.assets.get_file(user.org_id, uuid).await?;
    if preview && !previewable(&file.mime) {
        return Err(AppError::not_found("A preview of this file"));
    }
    blob::serve(
        &req,
        Download {
            source: state.blobs.source(&file.blob_id).await?,
            redirect: false,
            size: file.size as u64,
            sha256: &file.sha256,
            name: &file.name,
            mime: &file.mime,
            inline: preview,
            modified: file.modified_at,
            now: state.clock.now(),
        },
        None,
    )
    .await
}

/// `GET /app/files/{uuid}/thumb`: a small PNG of an image (PNG, JPEG, WebP, GIF); 404 for any
/// other type, or an image too big to decode.
pub async fn thumb(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let file = state
        .assets
        .get_file(user.org_id, path.into_inner())
        .await?;
    match state
        .thumbs
        .get(&state.blobs, &file.blob_id, file.size as u64, &file.mime)
        .await?
    {
        Some(p) => crate::web::thumbnail(p).await,
        None => Err(AppError::not_found("A thumbnail of this file")),
    }
}
