//! `/{token}/v5/shares`: Filerobot's share dialect over the one share service. DTO <-> domain.

use super::assets::page_param;
use super::share_body::ShareBody;
use super::success;
use crate::api::wire::Object;
use crate::api::{state, time, Json, OptionalJson, Params};
use crate::domain::auth::Principal;
use crate::domain::shares::{self, Access, Permission, Share};
use crate::error::{AppError, Field};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::time::Instant;
use utoipa::ToSchema;

/// The share service's fields in this dialect's words: the one table.
fn field_name(f: &Field) -> Option<String> {
    let name = match f {
        Field::Named(_) => return None,
        Field::Title => "title",
        Field::Description => "description",
        Field::Items => "items",
        Field::StartsAt => "starts_at",
        Field::ExpiresAt => "expires_at",
        Field::StartsTz => "starts_tz",
        Field::ExpiresTz => "expires_tz",
        Field::Password => "auth.pass",
        Field::MaxDownloads => "max_downloads",
        Field::Users => "users",
        Field::Recipients => "recipients",
        Field::Message => "message",
        Field::Status => "status",
    };
    Some(name.to_string())
}

#[derive(Serialize, ToSchema)]
pub struct ItemOptionsDto {
    pub recursive: bool,
    pub visibility: String,
}

#[derive(Serialize, ToSchema)]
pub struct ItemDto {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub identifiers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<ItemOptionsDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ShareUserDto {
    pub uuid: String,
    pub email: String,
    /// pending, sent, failed, or null if never mailed.
    pub delivery: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientDto {
    pub email: String,
    pub name: Option<String>,
    pub delivery: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShareDto {
    pub uuid: String,
    pub puid: String,
    pub title: String,
    pub description: String,
    pub items: Vec<ItemDto>,
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub show_starts_at: bool,
    pub show_expires_at: bool,
    pub share_uri: String,
    pub status: &'static str,
    pub password_protected: bool,
    /// `READ` or `READ+DOWNLOAD`.
    pub permissions: &'static str,
    pub max_downloads: Option<i64>,
    /// `link` or `users`.
    pub access: &'static str,
    pub users: Vec<ShareUserDto>,
    pub recipients: Vec<RecipientDto>,
    pub message: Option<String>,
    pub owner_uuid: Option<String>,
    pub views: i64,
    pub downloads: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub fn permissions_str(p: Permission) -> &'static str {
    match p {
        Permission::Download => "READ+DOWNLOAD",
        Permission::View => "READ",
    }
}

/// File items in one entry, folder items grouped by their options, in first-seen order.
fn items_dto(share: &Share) -> Vec<ItemDto> {
    let mut out: Vec<ItemDto> = Vec::new();
    for it in &share.items {
        let (kind, options) = match it.folder {
            None => ("file_uuid", None),
            Some(o) => (
                "folder_uuid",
                Some((o.recursive, o.visibility.as_str().to_string())),
            ),
        };
        let existing = out.iter_mut().find(|d| {
            d.kind == kind
                && d.options
                    .as_ref()
                    .map(|o| (o.recursive, o.visibility.clone()))
                    == options
        });
        match existing {
            Some(d) => d.identifiers.push(it.uuid.clone()),
            None => out.push(ItemDto {
                kind,
                identifiers: vec![it.uuid.clone()],
                options: options.map(|(recursive, visibility)| ItemOptionsDto {
                    recursive,
                    visibility,
                }),
            }),
        }
    }
    out
}

impl From<&Share> for ShareDto {
    fn from(s: &Share) -> Self {
        let r = s;
        ShareDto {
            uuid: r.uuid.clone(),
            puid: r.puid.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            items: items_dto(s),
            starts_at: r.starts_at.map(time),
            expires_at: r.expires_at.map(time),
            starts_tz: r.starts_tz.clone(),
            expires_tz: r.expires_tz.clone(),
            show_starts_at: r.show_starts_at,
            show_expires_at: r.show_expires_at,
            share_uri: s.share_uri.clone(),
            status: s.state.as_str(),
            password_protected: s.password_protected(),
            permissions: permissions_str(r.permission),
            max_downloads: r.max_downloads,
            access: match r.access {
                Access::Users => "users",
                Access::Link => "link",
            },
            users: s
                .users
                .iter()
                .map(|u| ShareUserDto {
                    uuid: u.uuid.clone(),
                    email: u.email.clone(),
                    delivery: u.delivery.clone(),
                })
                .collect(),
            recipients: s
                .recipients
                .iter()
                .map(|x| RecipientDto {
                    email: x.email.clone(),
                    name: x.name.clone(),
                    delivery: x.delivery.clone(),
                })
                .collect(),
            message: r.message.clone(),
            owner_uuid: r.owner_uuid.clone(),
            views: s.views,
            downloads: s.downloads,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Info {
    /// Seconds the request took.
    pub duration: f64,
    pub api_version: u8,
}

fn info(started: Instant) -> Info {
    Info {
        duration: (started.elapsed().as_secs_f64() * 1e4).round() / 1e4,
        api_version: 5,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ShareAnswer {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    pub share: ShareDto,
    pub info: Info,
}

fn share_answer(
    msg: Option<&str>,
    share: &Share,
    started: Instant,
) -> Result<HttpResponse, AppError> {
    success(ShareAnswer {
        status: "success",
        msg: msg.map(str::to_string),
        share: share.into(),
        info: info(started),
    })
}

/// Create a share
#[utoipa::path(post, operation_id = "createShare", path = "/{token}/v5/shares", tag = "Filerobot shares",
    params(("token" = String, Path)),
    request_body = ShareBody,
    responses((status = 200, body = ShareAnswer), (status = 400), (status = 401), (status = 403)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    p: Principal,
    body: Json<Object<ShareBody>>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let Json(Object(body)) = body;
    let patch = body.into_patch(false)?;
    let share = state
        .shares
        .create(p.org_id, p.user.as_ref().map(|u| u.id), patch)
        .await
        .map_err(|e| e.name_fields(field_name))?;
    share_answer(Some("Successfully added a new share"), &share, started)
}

#[derive(Serialize, ToSchema)]
pub struct ShareList {
    pub status: &'static str,
    pub shares: Vec<ShareDto>,
    pub total: i64,
    pub info: Info,
}

/// List the org's shares, newest first
#[utoipa::path(get, operation_id = "listShares", path = "/{token}/v5/shares", tag = "Filerobot shares",
    params(("token" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, body = ShareList), (status = 400)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    p: Principal,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let status = params
        .get("status")
        .filter(|s| !s.is_empty())
        .map(|s| shares::parse_state("status", s))
        .transpose()?;
    let (list, total) = state
        .shares
        .list(p.org_id, status, page_param(&params)?)
        .await?;
    success(ShareList {
        status: "success",
        shares: list.iter().map(ShareDto::from).collect(),
        total,
        info: info(started),
    })
}

/// Get a share
#[utoipa::path(get, operation_id = "getShare", path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = ShareAnswer), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn get(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let share = state.shares.get(p.org_id, &path.1).await?;
    share_answer(None, &share, started)
}

/// Change a share: present fields replace, absent ones stay
#[utoipa::path(put, operation_id = "updateShare", path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
    params(("token" = String, Path), ("uuid" = String, Path)),
    request_body = ShareBody,
    responses((status = 200, body = ShareAnswer), (status = 400), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn update(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    body: OptionalJson<Object<ShareBody>>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    // An empty body is `{}`.
    let OptionalJson(body) = body;
    let patch = body
        .map(|Object(b)| b)
        .unwrap_or_default()
        .into_patch(true)?;
    let share = state
        .shares
        .update(p.org_id, &path.1, patch)
        .await
        .map_err(|e| e.name_fields(field_name))?;
    share_answer(Some("Successfully updated the share"), &share, started)
}

#[derive(Serialize, ToSchema)]
pub struct ShareDeleted {
    pub status: &'static str,
    pub msg: String,
    pub info: Info,
}

/// Delete a share: its link dies
#[utoipa::path(delete, operation_id = "deleteShare", path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
    params(("token" = String, Path), ("uuid" = String, Path)),
    responses((status = 200, body = ShareDeleted), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn delete(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let uuid = state.shares.delete(p.org_id, &path.1).await?;
    success(ShareDeleted {
        status: "success",
        msg: format!("Successfully deleted the share with uuid={uuid}"),
        info: info(started),
    })
}

#[derive(Serialize, ToSchema)]
pub struct ActivityDto {
    pub at: String,
    /// view, download, unlock_failed
    pub kind: String,
    pub file_uuid: Option<String>,
    pub ip_hash: String,
    pub user_agent: String,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    pub status: &'static str,
    pub activity: Vec<ActivityDto>,
    pub total: i64,
}

/// List a share's views, downloads and failed unlocks, newest first
#[utoipa::path(get, operation_id = "shareActivity", path = "/{token}/v5/shares/{uuid}/activity", tag = "Filerobot shares",
    params(("token" = String, Path), ("uuid" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = ActivityList), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn activity(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (rows, total) = state
        .shares
        .activity(p.org_id, &path.1, page_param(&params)?)
        .await?;
    success(ActivityList {
        status: "success",
        activity: rows
            .into_iter()
            .map(|a| ActivityDto {
                at: time(a.at),
                kind: a.kind,
                file_uuid: a.file_uuid,
                ip_hash: a.ip_hash,
                user_agent: a.user_agent,
            })
            .collect(),
        total,
    })
}
