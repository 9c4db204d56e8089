//! `/{token}/v5/shares`: Filerobot's share dialect over the one share service. DTO <-> domain.

use super::assets::page_param;
use super::success;
use crate::api::{state, time, wrong_type, Json, OptionalJson, Params};
use crate::domain::auth::Principal;
use crate::domain::shares::{
    self, Access, ItemKind, ItemSpec, Permission, RecipientSpec, Share, SharePatch, StatusChange,
    TimeValue, UserSpec,
};
use crate::domain::types::{Email, FolderVisibility};
use crate::error::{AppError, Field};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Instant;
use utoipa::ToSchema;

type Body = Map<String, Value>;

/// Absent → None; null → Some(None); a string → Some(Some).
fn opt_string(body: &Body, field: &str) -> Result<Option<Option<String>>, AppError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(other) => Err(wrong_type(field, "a string or null", other)),
    }
}

/// A boolean; null counts as absent (the default stays).
fn opt_bool(body: &Body, field: &str) -> Result<Option<bool>, AppError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(field, "true or false", other)),
    }
}

fn parse_items(v: &Value) -> Result<Vec<ItemSpec>, AppError> {
    let list = v
        .as_array()
        .ok_or_else(|| wrong_type("items", "an array", v))?;
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let f = format!("items[{i}]");
        let obj = item
            .as_object()
            .ok_or_else(|| wrong_type(&f, "an object", item))?;
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some("file_uuid") => ItemKind::File,
            Some("folder_uuid") => ItemKind::Folder,
            _ => {
                return Err(AppError::invalid(
                    format!("{f}.type"),
                    "must be \"file_uuid\" or \"folder_uuid\"",
                ))
            }
        };
        let (mut recursive, mut visibility) = (false, FolderVisibility::All);
        if kind == ItemKind::Folder {
            match obj.get("options") {
                None | Some(Value::Null) => {}
                Some(Value::Object(o)) => {
                    match o.get("recursive") {
                        None | Some(Value::Null) => {}
                        Some(Value::Bool(b)) => recursive = *b,
                        Some(other) => {
                            return Err(wrong_type(
                                &format!("{f}.options.recursive"),
                                "true or false",
                                other,
                            ))
                        }
                    }
                    match o.get("visibility") {
                        None | Some(Value::Null) => {}
                        Some(Value::String(s)) => {
                            visibility =
                                FolderVisibility::parse(format!("{f}.options.visibility"), s)?;
                        }
                        Some(other) => {
                            return Err(wrong_type(
                                &format!("{f}.options.visibility"),
                                "a string",
                                other,
                            ))
                        }
                    }
                }
                Some(other) => return Err(wrong_type(&format!("{f}.options"), "an object", other)),
            }
        }
        let ids = obj.get("identifiers").ok_or_else(|| {
            AppError::invalid(format!("{f}.identifiers"), "`identifiers` is required")
        })?;
        let ids = ids
            .as_array()
            .ok_or_else(|| wrong_type(&format!("{f}.identifiers"), "an array", ids))?;
        if ids.is_empty() {
            return Err(AppError::invalid(
                format!("{f}.identifiers"),
                "needs at least one uuid",
            ));
        }
        for (j, id) in ids.iter().enumerate() {
            let field = format!("{f}.identifiers[{j}]");
            let id = id
                .as_str()
                .ok_or_else(|| wrong_type(&field, "a uuid string", id))?;
            out.push(ItemSpec {
                kind,
                id: id.to_string(),
                field,
                recursive,
                visibility,
            });
        }
    }
    Ok(out)
}

/// `{"pass"}` or `[{"pass","user"}]` (the first); `{}`, `[]`, null, empty or null `pass` = none.
fn parse_auth(v: &Value) -> Result<Option<String>, AppError> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => Some(o),
        Value::Array(a) => match a.first() {
            None => return Ok(None),
            Some(Value::Object(o)) => Some(o),
            Some(other) => return Err(wrong_type("auth[0]", "an object", other)),
        },
        other => return Err(wrong_type("auth", "an object or an array", other)),
    };
    let field = if v.is_array() {
        "auth[0].pass"
    } else {
        "auth.pass"
    };
    match obj.and_then(|o| o.get("pass")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(field, "a string", other)),
    }
}

/// `"READ"`, `"READ+DOWNLOAD"`, `["view"]`, `["view","download"]`, `["download"]`: may download?
fn parse_permissions(v: &Value) -> Result<bool, AppError> {
    let bad = || {
        AppError::invalid(
            "permissions",
            "use \"READ\", \"READ+DOWNLOAD\", [\"view\"] or [\"view\",\"download\"]",
        )
    };
    match v {
        Value::String(s) => match s.to_ascii_uppercase().as_str() {
            "READ" => Ok(false),
            "READ+DOWNLOAD" => Ok(true),
            _ => Err(bad()),
        },
        Value::Array(list) if !list.is_empty() => {
            let mut download = false;
            for p in list {
                match p.as_str().map(str::to_ascii_lowercase).as_deref() {
                    Some("view") => {}
                    Some("download") => download = true,
                    _ => return Err(bad()),
                }
            }
            Ok(download)
        }
        _ => Err(bad()),
    }
}

fn parse_users(v: &Value) -> Result<Vec<UserSpec>, AppError> {
    let list = v
        .as_array()
        .ok_or_else(|| wrong_type("users", "an array", v))?;
    list.iter()
        .enumerate()
        .map(|(i, u)| {
            let field = format!("users[{i}]");
            let key = match u {
                Value::String(s) => s.clone(),
                Value::Object(o) => match (
                    o.get("uuid").and_then(Value::as_str),
                    o.get("email").and_then(Value::as_str),
                ) {
                    (Some(id), _) => id.to_string(),
                    (None, Some(e)) => e.to_string(),
                    _ => {
                        return Err(AppError::invalid(
                            &field,
                            "give the user's \"uuid\" or \"email\"",
                        ))
                    }
                },
                other => return Err(wrong_type(&field, "an object or a string", other)),
            };
            Ok(UserSpec { key, field })
        })
        .collect()
}

fn parse_recipients(v: &Value) -> Result<Vec<RecipientSpec>, AppError> {
    let list = v
        .as_array()
        .ok_or_else(|| wrong_type("recipients", "an array", v))?;
    list.iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::String(s) => Ok(RecipientSpec::new(Email::parse(
                &format!("recipients[{i}]"),
                s,
            )?)),
            Value::Object(o) => {
                let field = format!("recipients[{i}].email");
                let email = o
                    .get("email")
                    .and_then(Value::as_str)
                    .ok_or_else(|| AppError::invalid(&field, "`email` is required"))?;
                let name = match o.get("name") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(n)) => Some(n.clone()),
                    Some(other) => {
                        return Err(wrong_type(
                            &format!("recipients[{i}].name"),
                            "a string",
                            other,
                        ))
                    }
                };
                RecipientSpec::named(
                    Email::parse(&field, email)?,
                    name,
                    &format!("recipients[{i}].name"),
                )
            }
            other => Err(wrong_type(
                &format!("recipients[{i}]"),
                "an object or an email string",
                other,
            )),
        })
        .collect()
}

/// The body of a POST (create) or PUT (update) as a patch.
fn parse_body(body: &Body, update: bool) -> Result<SharePatch, AppError> {
    let mut p = SharePatch::default();
    match body.get("title") {
        None => {}
        Some(Value::String(s)) => p.title = Some(s.clone()),
        Some(other) => return Err(wrong_type("title", "a string", other)),
    }
    p.description = opt_string(body, "description")?.map(Option::unwrap_or_default);
    if let Some(v) = body.get("items") {
        p.items = Some(parse_items(v)?);
    }
    let time = |f: &str| {
        opt_string(body, f).map(|o| o.map(|v| v.filter(|s| !s.is_empty()).map(TimeValue::Raw)))
    };
    p.starts_at = time("starts_at")?;
    p.expires_at = time("expires_at")?;
    p.starts_tz = opt_string(body, "starts_tz")?;
    p.expires_tz = opt_string(body, "expires_tz")?;
    p.show_starts_at = opt_bool(body, "show_starts_at")?;
    p.show_expires_at = opt_bool(body, "show_expires_at")?;
    if let Some(v) = body.get("auth") {
        p.password = Some(parse_auth(v)?);
    }
    if let Some(v) = body.get("permissions").filter(|v| !v.is_null()) {
        p.permission = Some(if parse_permissions(v)? {
            Permission::Download
        } else {
            Permission::View
        });
    }
    match body.get("max_downloads") {
        None => {}
        Some(Value::Null) => p.max_downloads = Some(None),
        Some(v) => {
            p.max_downloads =
                Some(Some(v.as_i64().ok_or_else(|| {
                    wrong_type("max_downloads", "an integer or null", v)
                })?))
        }
    }
    match body.get("access") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            p.access = Some(match s.to_ascii_lowercase().as_str() {
                "link" => Access::Link,
                "users" => Access::Users,
                _ => return Err(AppError::invalid("access", "must be \"link\" or \"users\"")),
            })
        }
        Some(other) => return Err(wrong_type("access", "a string", other)),
    }
    match body.get("users") {
        None => {}
        Some(Value::Null) => p.users = Some(vec![]),
        Some(v) => p.users = Some(parse_users(v)?),
    }
    match body.get("recipients") {
        None => {}
        Some(Value::Null) => p.recipients = Some(vec![]),
        Some(v) => p.recipients = Some(parse_recipients(v)?),
    }
    p.message = opt_string(body, "message")?;
    if update {
        match body.get("status") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == "revoked" => p.status = Some(StatusChange::Revoke),
            Some(Value::String(s)) if s == "active" => p.status = Some(StatusChange::Restore),
            Some(_) => {
                return Err(AppError::invalid(
                    "status",
                    "only \"revoked\" (revoke) or \"active\" (restore) can be set",
                ))
            }
        }
    }
    Ok(p)
}

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

fn object(body: Value) -> Result<Body, AppError> {
    match body {
        Value::Object(m) => Ok(m),
        other => Err(wrong_type("body", "a JSON object", &other)),
    }
}

#[utoipa::path(post, path = "/{token}/v5/shares", tag = "Filerobot shares", params(("token" = String, Path)),
    request_body(content = Object, description = "title, items, starts_at/expires_at (+ _tz), auth, permissions, max_downloads, access, users, recipients, message, show_starts_at, show_expires_at"),
    responses((status = 200, body = ShareAnswer), (status = 400), (status = 401), (status = 403)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    p: Principal,
    body: Json<Value>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let patch = parse_body(&object(body.0)?, false)?;
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

#[utoipa::path(get, path = "/{token}/v5/shares", tag = "Filerobot shares",
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

#[utoipa::path(get, path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
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

#[utoipa::path(put, path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
    params(("token" = String, Path), ("uuid" = String, Path)),
    request_body(content = Object, description = "present fields replace; see API.md"),
    responses((status = 200, body = ShareAnswer), (status = 400), (status = 404)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn update(
    req: HttpRequest,
    p: Principal,
    path: web::Path<(String, String)>,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let state = state(&req)?;
    let patch = parse_body(&object(body.0.unwrap_or(Value::Object(Map::new())))?, true)?;
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

#[utoipa::path(delete, path = "/{token}/v5/shares/{uuid}", tag = "Filerobot shares",
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

#[utoipa::path(get, path = "/{token}/v5/shares/{uuid}/activity", tag = "Filerobot shares",
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
