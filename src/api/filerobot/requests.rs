//! `/{token}/v5/requests`: file requests in Filerobot's envelope, over the request service.

use super::assets::page_param;
use super::request_body::RequestBody;
use super::success;
use crate::api::wire::Object;
use crate::api::{state, time, Json, OptionalJson, Params};
use crate::domain::auth::Principal;
use crate::domain::requests::Request;
use crate::domain::shares::StatusChange;
use crate::error::AppError;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RequestDto {
    pub uuid: String,
    pub puid: String,
    pub title: String,
    pub message: String,
    pub folder_uuid: Option<String>,
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub password_protected: bool,
    pub max_files: Option<i64>,
    pub max_file_bytes: Option<i64>,
    pub max_total_bytes: Option<i64>,
    pub extensions: Vec<String>,
    pub notify: bool,
    pub notify_emails: Vec<String>,
    /// scheduled, active, expired, revoked or full.
    pub status: &'static str,
    /// Files that came through it and are in the library, their bytes, and who sent them.
    pub files: i64,
    pub bytes: i64,
    pub uploaders: i64,
    /// `<base>/r/{puid}/{slug}`.
    pub request_uri: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Request> for RequestDto {
    fn from(r: &Request) -> Self {
        RequestDto {
            uuid: r.uuid.clone(),
            puid: r.puid.clone(),
            title: r.title.clone(),
            message: r.message.clone(),
            folder_uuid: r.folder_uuid.clone(),
            starts_at: r.starts_at.map(time),
            expires_at: r.expires_at.map(time),
            starts_tz: r.starts_tz.clone(),
            expires_tz: r.expires_tz.clone(),
            password_protected: r.password_protected,
            max_files: r.max_files,
            max_file_bytes: r.max_file_bytes,
            max_total_bytes: r.max_total_bytes,
            extensions: r.extensions.clone(),
            notify: r.notify,
            notify_emails: r.notify_emails.clone(),
            status: r.state.as_str(),
            files: r.files,
            bytes: r.bytes,
            uploaders: r.uploaders,
            request_uri: r.request_uri.clone(),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequestAnswer {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    pub request: RequestDto,
}

fn answer(msg: Option<&str>, r: &Request) -> Result<HttpResponse, AppError> {
    success(RequestAnswer {
        status: "success",
        msg: msg.map(str::to_string),
        request: r.into(),
    })
}

/// Create a file request
#[utoipa::path(post, operation_id = "createRequest", path = "/{token}/v5/requests", tag = "Filerobot file requests",
    params(("token" = String, Path)),
    request_body = RequestBody,
    responses((status = 200, body = RequestAnswer), (status = 400), (status = 401)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    p: Principal,
    body: Json<Object<RequestBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Json(Object(body)) = body;
    let r = state
        .requests
        .create(p.org_id, p.user.as_ref().map(|u| u.id), body.into_patch()?)
        .await?;
    answer(Some("Successfully added a new file request"), &r)
}

#[derive(Serialize, ToSchema)]
pub struct RequestList {
    pub status: &'static str,
    pub requests: Vec<RequestDto>,
    pub total: i64,
}

/// List the org's file requests, newest first
#[utoipa::path(get, operation_id = "listRequests", path = "/{token}/v5/requests", tag = "Filerobot file requests",
    params(("token" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = RequestList), (status = 400)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    p: Principal,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let page = page_param(&params)?;
    let (list, total) = state
        .requests
        .list(p.org_id, page.limit, page.offset)
        .await?;
    success(RequestList {
        status: "success",
        requests: list.iter().map(RequestDto::from).collect(),
        total,
    })
}

/// Get a file request
#[utoipa::path(get, operation_id = "getRequest", path = "/{token}/v5/requests/{uuid}", tag = "Filerobot file requests",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = RequestAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn get(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let r = state.requests.get(p.org_id, &path.1).await?;
    answer(None, &r)
}

/// Change a file request: present fields replace, absent ones stay
#[utoipa::path(put, operation_id = "updateRequest", path = "/{token}/v5/requests/{uuid}", tag = "Filerobot file requests",
    params(("token" = String, Path), ("uuid" = String, Path)),
    request_body = RequestBody,
    responses((status = 200, body = RequestAnswer), (status = 400), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn update(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    body: OptionalJson<Object<RequestBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let OptionalJson(body) = body;
    let patch = body.map(|Object(b)| b).unwrap_or_default().into_patch()?;
    let r = state.requests.update(p.org_id, &path.1, patch).await?;
    answer(Some("Successfully updated the file request"), &r)
}

/// Revoke a file request: its page and uploads answer 404 until it is restored
#[utoipa::path(post, operation_id = "revokeRequest", path = "/{token}/v5/requests/{uuid}/revoke", tag = "Filerobot file requests",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = RequestAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn revoke(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let r = state
        .requests
        .set_status(p.org_id, &path.1, StatusChange::Revoke)
        .await?;
    answer(Some("Successfully revoked the file request"), &r)
}

/// Restore a revoked file request
#[utoipa::path(post, operation_id = "restoreRequest", path = "/{token}/v5/requests/{uuid}/restore", tag = "Filerobot file requests",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = RequestAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn restore(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let r = state
        .requests
        .set_status(p.org_id, &path.1, StatusChange::Restore)
        .await?;
    answer(Some("Successfully restored the file request"), &r)
}

#[derive(Serialize, ToSchema)]
pub struct RequestDeleted {
    pub status: &'static str,
    pub msg: String,
}

/// Delete a file request: its link dies; the files it brought stay in the library
#[utoipa::path(delete, operation_id = "deleteRequest", path = "/{token}/v5/requests/{uuid}", tag = "Filerobot file requests",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = RequestDeleted), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn delete(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (r, uploads) = state.requests.delete(p.org_id, &path.1).await?;
    state.request_tus.clean(uploads).await;
    success(RequestDeleted {
        status: "success",
        msg: format!("Successfully deleted the file request with uuid={}", r.uuid),
    })
}
