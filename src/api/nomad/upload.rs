//! `/api/asset/upload/...`: Nomad's chunked upload over `domain::uploads`. DTO <-> domain only.

use super::assets::AssetModel;
use crate::api::{state, time, Json, OptionalJson, Params};
use crate::domain::auth::Principal;
use crate::domain::types::Name;
use crate::domain::uploads::{NewUpload, Overwrite, Part};
use crate::error::AppError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartBody {
    /// The file's name; else the last component of `relativePath`.
    pub display_name: Option<String>,
    pub relative_path: Option<String>,
    /// The file's size in bytes.
    pub content_length: Option<i64>,
    /// Bytes per part: default 8 MiB, clamped to 1..64 MiB.
    pub chunk_size: Option<i64>,
    /// The folder; null = the root.
    pub parent_id: Option<String>,
    /// When the name is taken: `continue` (free name, the default), `replace`, `cancel` (409).
    pub upload_overwrite_option: Option<String>,
    /// A file whose contents the upload replaces (same id).
    pub existing_asset_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartDto {
    pub id: String,
    /// From 1.
    pub part_number: i64,
    /// The capability URL to PUT the part's bytes to (no credential needed).
    pub url: String,
    pub starting_position: i64,
    /// Inclusive.
    pub ending_position: i64,
    pub is_completed: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartAnswer {
    /// The upload's id.
    pub id: String,
    /// The asset's id once complete.
    pub asset_id: String,
    pub content_length: i64,
    pub start_date: String,
    pub parts: Vec<PartDto>,
}

fn part_dto(base_url: &str, secret: &str, p: &Part) -> PartDto {
    PartDto {
        id: p.uuid.clone(),
        part_number: p.number,
        url: format!("{base_url}/api/asset/upload/part/{}?token={secret}", p.uuid),
        starting_position: p.start,
        ending_position: p.end,
        is_completed: p.confirmed,
    }
}

/// The last component of a client's path (`a/b/x.txt` → `x.txt`).
fn last_component(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// Start a chunked upload and get the URLs of its parts
#[utoipa::path(post, operation_id = "nomadStartUpload", path = "/api/asset/upload/start", tag = "Nomad upload", request_body = StartBody,
    responses((status = 200, body = StartAnswer), (status = 400), (status = 409, description = "NAME_EXISTS with uploadOverwriteOption cancel"), (status = 413)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn start(
    req: HttpRequest,
    p: Principal,
    body: Json<StartBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let b = body.0;
    let existing = non_empty(&b.existing_asset_id).map(str::to_string);
    let name = match (
        existing.is_some(),
        non_empty(&b.display_name),
        non_empty(&b.relative_path),
    ) {
        (true, _, _) => None,
        (false, Some(n), _) => Some(Name::parse("displayName", n)?),
        (false, None, Some(path)) => Some(Name::parse("relativePath", last_component(path))?),
        (false, None, None) => None,
    };
    let content_length = b
        .content_length
        .ok_or_else(|| AppError::invalid("contentLength", "`contentLength` is required"))?;
    let started = state
        .uploads
        .start(
            p.org_id,
            NewUpload {
                name,
                parent: non_empty(&b.parent_id).map(str::to_string),
                existing,
                content_length,
                chunk_size: b.chunk_size,
                overwrite: Overwrite::parse(
                    "uploadOverwriteOption",
                    b.upload_overwrite_option.as_deref(),
                )?,
            },
        )
        .await?;
    let base = &state.config.base_url;
    Ok(HttpResponse::Ok().json(StartAnswer {
        id: started.uuid.clone(),
        asset_id: started.asset_uuid.clone(),
        content_length: started.content_length,
        start_date: time(started.created_at),
        parts: started
            .parts
            .iter()
            .map(|part| part_dto(base, &started.secret, part))
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PartStored {
    /// The part's id.
    pub id: String,
    /// SHA-256 (hex) of the bytes received, as in the ETag header.
    pub etag: String,
}

/// Send one part's bytes to its part URL
#[utoipa::path(put, operation_id = "nomadUploadPart", path = "/api/asset/upload/part/{partId}", tag = "Nomad upload",
    params(("partId" = String, Path), ("token" = String, Query, description = "the secret of the part URL")),
    request_body(content_type = "application/octet-stream", description = "exactly the part's bytes"),
    responses((status = 200, body = PartStored, headers(("ETag" = String, description = "\"<sha256 hex>\""))),
              (status = 400, description = "wrong length"), (status = 404, description = "unknown, complete, cancelled or expired")))]
pub async fn put_part(
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let secret = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::not_found("The upload part"))?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (part, sha) = state
        .uploads
        .put_part(&path.into_inner(), secret, declared, payload)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{sha}\"")))
        .json(PartStored {
            id: part.uuid,
            etag: sha,
        }))
}

#[derive(Deserialize, ToSchema)]
pub struct PartCompleteBody {
    /// The ETag the part PUT answered (quotes optional).
    pub etag: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartCompleted {
    pub id: String,
    pub is_completed: bool,
}

/// Mark a part as complete, checking its etag
#[utoipa::path(post, operation_id = "nomadCompletePart", path = "/api/asset/upload/part/{partId}/complete", tag = "Nomad upload",
    params(("partId" = String, Path)), request_body = PartCompleteBody,
    responses((status = 200, body = PartCompleted), (status = 400, description = "etag mismatch"), (status = 404), (status = 409, description = "UPLOAD_INCOMPLETE: no bytes yet")),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn complete_part(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<PartCompleteBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let etag = body.0.and_then(|b| b.etag);
    let part = state
        .uploads
        .complete_part(p.org_id, &path.into_inner(), etag.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(PartCompleted {
        id: part.uuid,
        is_completed: part.confirmed,
    }))
}

/// Finish an upload whose parts are all in, making the file
#[utoipa::path(post, operation_id = "nomadCompleteUpload", path = "/api/asset/upload/{id}/complete", tag = "Nomad upload",
    params(("id" = String, Path, description = "the upload's id")),
    responses((status = 200, body = AssetModel), (status = 404), (status = 409, description = "UPLOAD_INCOMPLETE: names the missing parts")),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn complete(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let file = state.uploads.complete(p.org_id, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AssetModel::from(&file)))
}

#[derive(Serialize, ToSchema)]
pub struct UploadCancelled {
    pub id: String,
    pub cancelled: bool,
}

/// Cancel an upload and drop its parts
#[utoipa::path(post, operation_id = "nomadCancelUpload", path = "/api/asset/upload/{id}/cancel", tag = "Nomad upload",
    params(("id" = String, Path, description = "the upload's id")),
    responses((status = 200, body = UploadCancelled), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn cancel(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let id = state.uploads.cancel(p.org_id, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UploadCancelled {
        id,
        cancelled: true,
    }))
}
