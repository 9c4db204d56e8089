//! `/api/share...` and `/api/asset/{id}/share`: Nomad's ShareModel over the one share service.
//! DTO <-> domain only: a body becomes a `SharePatch`, a `Share` becomes a ShareModel
//! (share_model.rs).
//!
//! Every write compares each field with what a GET answers *before* validating it: a value
//! equal to it (or null, or absent) changes nothing, so a whole GET answer sent back never fails.

use super::share_model::{
    find_lookup, lookup, lookup_choices, ShareModel, Table, ACTIVE, DOWNLOAD, DURATIONS,
    DURATION_HOURS, EXPIRED, INACTIVE, LINK, NEVER, PERMISSIONS, STATUSES, TYPES, USER, VIEW,
};
use crate::api::{state, wrong_type, OptionalJson};
use crate::domain::auth::Principal;
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, Share, SharePatch, StatusChange,
    TimeValue, UserSpec,
};
use crate::domain::types::{Email, FolderVisibility};
use crate::domain::window::{self, State};
use crate::error::{AppError, Field};
use crate::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

type Body = Map<String, Value>;

/// `sharedDurationInHours` may be 1 hour to 10 years.
pub const DURATION_HOURS_MAX: i64 = 87_600;

/// What a GET of a share made now with the create defaults would answer, for the fields a
/// create may write.
fn defaults() -> Body {
    let value = json!({
        "name": null,
        "sharedContents": [],
        "assetId": null,
        "sharedDuration": lookup(DURATIONS, NEVER),
        "sharedDurationInHours": null,
        "expirationDate": null,
        "sharedPermissions": [lookup(PERMISSIONS, VIEW), lookup(PERMISSIONS, DOWNLOAD)],
        "sharedType": lookup(TYPES, LINK),
        "sharedStatus": lookup(STATUSES, ACTIVE),
        "nomadUsers": [],
        "externalUsers": [],
        "passwordProtected": false,
        "maxDownloads": null,
    });
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn as_list<'v>(field: &str, v: &'v Value) -> Result<&'v Vec<Value>, AppError> {
    v.as_array().ok_or_else(|| wrong_type(field, "an array", v))
}

/// A lookup written as `{"id","description"}` or a string: matched by id, else by
/// description or name, in any letter case.
fn parse_lookup(field: &str, v: &Value, table: Table) -> Result<u8, AppError> {
    let find = |s: &str| find_lookup(table, s);
    let found = match v {
        Value::String(s) => find(s),
        Value::Object(o) => ["id", "description", "name"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str))
            .find_map(find),
        other => return Err(wrong_type(field, "a lookup object or a string", other)),
    };
    found.ok_or_else(|| AppError::invalid(field, lookup_choices(table)))
}

/// A uuid written as a string (or `{"id"}`).
fn id_string(field: &str, v: &Value) -> Result<String, AppError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AppError::invalid(field, "give the asset's \"id\"")),
        other => Err(wrong_type(field, "a uuid string", other)),
    }
}

/// Compares a body with the current answer, field by field.
struct Diff<'a> {
    body: &'a Body,
    current: &'a Body,
}

impl Diff<'_> {
    /// The body's value for `key` when it is there, not null, and not what a GET answers.
    fn changed(&self, key: &str) -> Option<&Value> {
        match self.body.get(key) {
            None | Some(Value::Null) => None,
            Some(v) if self.current.get(key) == Some(v) => None,
            Some(v) => Some(v),
        }
    }

    /// The body's value if given (not null), else the current one.
    fn effective(&self, key: &str) -> Option<&Value> {
        match self.body.get(key) {
            None | Some(Value::Null) => self.current.get(key).filter(|v| !v.is_null()),
            Some(v) => Some(v),
        }
    }
}

/// A write as a patch, and the field that set the expiry (for the service's errors).
struct Parsed {
    patch: SharePatch,
    expiry_field: &'static str,
}

fn parse_items(d: &Diff) -> Result<Option<Vec<ItemSpec>>, AppError> {
    if d.changed("assetId").is_none() && d.changed("sharedContents").is_none() {
        return Ok(None);
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    if let Some(v) = d.effective("assetId") {
        ids.push(("assetId".into(), id_string("assetId", v)?));
    }
    if let Some(v) = d.effective("sharedContents") {
        for (i, x) in as_list("sharedContents", v)?.iter().enumerate() {
            let field = format!("sharedContents[{i}]");
            ids.push((field.clone(), id_string(&field, x)?));
        }
    }
    Ok(Some(
        ids.into_iter()
            .map(|(field, id)| ItemSpec {
                kind: ItemKind::Any,
                id,
                field,
                recursive: true,
                visibility: FolderVisibility::All,
            })
            .collect(),
    ))
}

/// Each entry of the list `field`: a string, or an object giving the first of `keys` that is
/// a string; `make` gets the entry's own field name (`field[i]`) and that string.
fn each_named<T>(
    field: &str,
    v: &Value,
    keys: &[&str],
    want: &str,
    missing: &str,
    make: impl Fn(String, &str) -> Result<T, AppError>,
) -> Result<Vec<T>, AppError> {
    as_list(field, v)?
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let field = format!("{field}[{i}]");
            let raw = match x {
                Value::String(s) => s.as_str(),
                Value::Object(o) => keys
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
                    .ok_or_else(|| AppError::invalid(&field, missing))?,
                other => return Err(wrong_type(&field, want, other)),
            };
            make(field, raw)
        })
        .collect()
}

fn parse_users(field: &str, v: &Value) -> Result<Vec<UserSpec>, AppError> {
    each_named(
        field,
        v,
        &["id", "email", "description"],
        "an object or a string",
        "give the user's \"id\" or \"email\"",
        |field, key| {
            Ok(UserSpec {
                key: key.to_string(),
                field,
            })
        },
    )
}

fn parse_emails(field: &str, v: &Value) -> Result<Vec<Email>, AppError> {
    each_named(
        field,
        v,
        &["email", "id", "description"],
        "an email string or an object",
        "give the address as \"email\"",
        |field, raw| Email::parse(&field, raw),
    )
}

/// Maps a ShareModel body to a patch against `current` (what a GET answers, or the create
/// defaults); `state` is the share's current state.
fn parse_model(body: &Body, current: &Body, state: Option<State>) -> Result<Parsed, AppError> {
    let d = Diff { body, current };
    let mut p = SharePatch::default();
    if let Some(v) = d.changed("name") {
        p.title = Some(
            v.as_str()
                .ok_or_else(|| wrong_type("name", "a string", v))?
                .to_string(),
        );
    }
    p.items = parse_items(&d)?;
    if let Some(v) = d.changed("sharedPermissions") {
        let list = match v {
            Value::Array(list) => list.clone(),
            single => vec![single.clone()],
        };
        if list.is_empty() {
            return Err(AppError::invalid(
                "sharedPermissions",
                "give [View] or [View, Download]",
            ));
        }
        let mut download = false;
        for (i, x) in list.iter().enumerate() {
            download |=
                parse_lookup(&format!("sharedPermissions[{i}]"), x, PERMISSIONS)? == DOWNLOAD;
        }
        p.permission = Some(if download {
            Permission::Download
        } else {
            Permission::View
        });
    }
    if let Some(v) = d.changed("sharedType") {
        p.access = Some(if parse_lookup("sharedType", v, TYPES)? == USER {
            Access::Users
        } else {
            Access::Link
        });
    }
    if let Some(v) = d.changed("sharedStatus") {
        p.status = match parse_lookup("sharedStatus", v, STATUSES)? {
            ACTIVE => Some(StatusChange::Restore),
            INACTIVE => Some(StatusChange::Revoke),
            EXPIRED => Some(StatusChange::ExpireNow),
            _ if state == Some(State::Scheduled) => None,
            _ => {
                return Err(AppError::invalid(
                    "sharedStatus",
                    "Scheduled cannot be set: use Active, Inactive or Expired",
                ))
            }
        };
    }
    // Expiry: expirationDate beats sharedDurationInHours beats sharedDuration.
    let date = d
        .changed("expirationDate")
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| wrong_type("expirationDate", "a date string", v))?;
            window::parse_instant("expirationDate", s, chrono_tz::Tz::UTC).map(TimeValue::Instant)
        })
        .transpose()?;
    let hours = d
        .changed("sharedDurationInHours")
        .map(|v| {
            v.as_i64()
                .filter(|h| (1..=DURATION_HOURS_MAX).contains(h))
                .map(|h| TimeValue::After(chrono::Duration::hours(h)))
                .ok_or_else(|| {
                    AppError::invalid(
                        "sharedDurationInHours",
                        format!("must be a whole number of hours, 1 to {DURATION_HOURS_MAX}"),
                    )
                })
        })
        .transpose()?;
    let duration = d
        .changed("sharedDuration")
        .map(|v| parse_lookup("sharedDuration", v, DURATIONS))
        .transpose()?;
    let mut expiry_field = "expirationDate";
    if let Some(t) = date {
        p.expires_at = Some(Some(t));
    } else if let Some(t) = hours {
        p.expires_at = Some(Some(t));
        expiry_field = "sharedDurationInHours";
    } else if let Some(nn) = duration {
        expiry_field = "sharedDuration";
        if nn == NEVER {
            p.expires_at = Some(None);
        } else if let Some((_, h)) = DURATION_HOURS.iter().find(|(n, _)| *n == nn) {
            p.expires_at = Some(Some(TimeValue::After(chrono::Duration::hours(*h))));
        }
    }
    if let Some(v) = d.changed("nomadUsers") {
        p.users = Some(parse_users("nomadUsers", v)?);
    }
    if let Some(v) = d.changed("externalUsers") {
        p.recipients = Some(
            parse_emails("externalUsers", v)?
                .into_iter()
                .map(RecipientSpec::new)
                .collect(),
        );
    }
    match body.get("password") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => p.password = Some(None),
        Some(Value::String(s)) => p.password = Some(Some(s.clone())),
        Some(other) => return Err(wrong_type("password", "a string", other)),
    }
    if let Some(v) = d.changed("passwordProtected") {
        match v {
            Value::Bool(false) if p.password.is_none() => p.password = Some(None),
            Value::Bool(false) => {}
            Value::Bool(true) if matches!(p.password, Some(Some(_))) => {}
            Value::Bool(true) => {
                return Err(AppError::invalid(
                    "passwordProtected",
                    "send a `password` to protect the share",
                ))
            }
            other => return Err(wrong_type("passwordProtected", "true or false", other)),
        }
    }
    if let Some(v) = d.changed("maxDownloads") {
        p.max_downloads = match v.as_i64() {
            Some(0) => Some(None),
            Some(n) => Some(Some(n)),
            None => return Err(wrong_type("maxDownloads", "an integer", v)),
        };
    }
    Ok(Parsed {
        patch: p,
        expiry_field,
    })
}

/// The share service's fields in this dialect's words: the one table. Times are named by the
/// field that set the expiry.
fn field_name(f: &Field, expiry_field: &str) -> Option<String> {
    let name = match f {
        Field::Named(_) => return None,
        Field::Title => "name",
        Field::Description => "description",
        Field::Items => "sharedContents",
        Field::StartsAt | Field::ExpiresAt | Field::StartsTz | Field::ExpiresTz => expiry_field,
        Field::Password => "password",
        Field::MaxDownloads => "maxDownloads",
        Field::Users => "nomadUsers",
        Field::Recipients => "externalUsers",
        Field::Message => "message",
        Field::Status => "sharedStatus",
    };
    Some(name.to_string())
}

fn nomad_names(e: AppError, expiry_field: &str) -> AppError {
    e.name_fields(|f| field_name(f, expiry_field))
}

fn object(body: Option<Value>) -> Result<Body, AppError> {
    match body {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(wrong_type("body", "a JSON object", &other)),
    }
}

fn model_map(share: &Share) -> Result<Body, AppError> {
    match serde_json::to_value(ShareModel::from(share)).map_err(AppError::internal)? {
        Value::Object(m) => Ok(m),
        _ => Err(AppError::internal("a ShareModel is an object")),
    }
}

fn answer(share: &Share) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ShareModel::from(share)))
}

async fn create(state: &AppState, p: &Principal, body: &Body) -> Result<Share, AppError> {
    let parsed = parse_model(body, &defaults(), None)?;
    let mut patch = parsed.patch;
    if patch.items.is_none() {
        return Err(AppError::invalid(
            "assetId",
            "a new share needs `assetId` or `sharedContents`",
        ));
    }
    patch.title_from_items = patch.title.is_none();
    state
        .shares
        .create(p.org_id, p.user.as_ref().map(|u| u.id), patch)
        .await
        .map_err(|e| nomad_names(e, parsed.expiry_field))
}

async fn update(
    state: &AppState,
    p: &Principal,
    uuid: &str,
    body: &Body,
) -> Result<Share, AppError> {
    let current = state.shares.get(p.org_id, uuid).await?;
    let parsed = parse_model(body, &model_map(&current)?, Some(current.state))?;
    state
        .shares
        .update(p.org_id, uuid, parsed.patch)
        .await
        .map_err(|e| nomad_names(e, parsed.expiry_field))
}

/// A POST body's `id`: null or absent creates, a share's id updates it, anything else is 404.
async fn create_or_update(state: &AppState, p: &Principal, body: &Body) -> Result<Share, AppError> {
    match body.get("id") {
        None | Some(Value::Null) => create(state, p, body).await,
        Some(Value::String(id)) => update(state, p, id, body).await,
        Some(other) => Err(wrong_type("id", "a share's id or null", other)),
    }
}

#[utoipa::path(post, path = "/api/asset/{assetId}/share", tag = "Nomad shares",
    params(("assetId" = String, Path, description = "the file or folder to share")),
    request_body(content = ShareModel, description = "a ShareModel, every field optional; `id` null or absent creates, a share's `id` updates it"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn share_asset(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Some(body) = body.0 else {
        return Err(AppError::MalformedJson(
            "The body is empty; send a JSON object ({} shares the asset with the defaults).".into(),
        ));
    };
    let mut body = object(Some(body))?;
    body.insert("assetId".into(), Value::String(path.into_inner()));
    let share = create_or_update(&state, &p, &body)
        .await
        .map_err(|e| match e {
            // The asset comes from the path: one not in the org is a 404.
            AppError::InvalidField { field, .. } if field.to_string() == "assetId" => {
                AppError::not_found("The asset")
            }
            other => other,
        })?;
    answer(&share)
}

#[utoipa::path(post, path = "/api/share", tag = "Nomad shares",
    request_body(content = ShareModel, description = "`id` null creates (needs assetId or sharedContents); a share's `id` updates it as PUT; an unknown one is 404"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn share(
    req: HttpRequest,
    p: Principal,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let share = create_or_update(&state, &p, &object(body.0)?).await?;
    answer(&share)
}

#[utoipa::path(get, path = "/api/share/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    responses((status = 200, body = ShareModel), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn get(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    answer(&state.shares.get(p.org_id, &path.into_inner()).await?)
}

#[utoipa::path(put, path = "/api/share/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    request_body(content = ShareModel, description = "null, absent or equal to what GET answers = unchanged"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn put(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let share = update(&state, &p, &path.into_inner(), &object(body.0)?).await?;
    answer(&share)
}

#[derive(Serialize, ToSchema)]
pub struct ShareDeleted {
    pub id: String,
}

#[utoipa::path(delete, path = "/api/share/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    responses((status = 200, body = ShareDeleted, description = "the link dies"), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn delete(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let id = state.shares.delete(p.org_id, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ShareDeleted { id }))
}

#[utoipa::path(post, path = "/api/share/expire/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    responses((status = 200, body = ShareModel, description = "expires now"), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn expire(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let patch = SharePatch {
        status: Some(StatusChange::ExpireNow),
        ..Default::default()
    };
    answer(
        &state
            .shares
            .update(p.org_id, &path.into_inner(), patch)
            .await?,
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct NotificationBody {
    /// Ignored: the path names the share.
    pub share_id: Option<String>,
    /// Users of the org: `{"id"}`, `{"email"}`, a lookup, or a uuid or email string.
    pub nomad_users: Option<Vec<Value>>,
    /// Emails, or objects with the email in `email`, `id` or `description`.
    pub external_users: Option<Vec<Value>>,
}

#[derive(Serialize, ToSchema)]
pub struct Notified {
    pub id: String,
    /// The addresses mailed.
    pub notified: Vec<String>,
}

#[utoipa::path(post, path = "/api/share/{id}/notification", tag = "Nomad shares",
    params(("id" = String, Path)), request_body = NotificationBody,
    responses((status = 200, body = Notified, description = "mails the link to those given, or to all users and recipients when both lists are empty"),
              (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn notify(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Value>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let body = object(body.0)?;
    let users = match body.get("nomadUsers") {
        None | Some(Value::Null) => vec![],
        Some(v) => parse_users("nomadUsers", v)?,
    };
    let emails = match body.get("externalUsers") {
        None | Some(Value::Null) => vec![],
        Some(v) => parse_emails("externalUsers", v)?,
    };
    let id = path.into_inner();
    let notified = state.shares.notify(p.org_id, &id, users, emails).await?;
    Ok(HttpResponse::Ok().json(Notified {
        id: crate::domain::assets::parse_id(&id).unwrap_or(id),
        notified,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::share_model::lookup_id;
    use super::*;

    #[test]
    fn lookups_match_id_description_or_name() {
        let id = lookup_id(22);
        assert_eq!(id, "00000000-5b0c-4000-8000-000000000022");
        for v in [
            json!("Download"),
            json!("download"),
            json!(id),
            json!({"id": id}),
            json!({"description": "DOWNLOAD"}),
            json!({"name": "Download"}),
            json!({"id": "unknown", "description": "Download"}),
        ] {
            assert_eq!(parse_lookup("f", &v, PERMISSIONS).unwrap(), DOWNLOAD, "{v}");
        }
        for v in [json!("Edit"), json!({}), json!(3), json!(null)] {
            assert!(parse_lookup("f", &v, PERMISSIONS).is_err(), "{v}");
        }
    }
}
