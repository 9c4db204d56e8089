//! `/api/share...` and `/api/asset/{id}/share`: Nomad's ShareModel over the one share service.
//! DTO <-> domain only: a `ShareModelBody` becomes a `SharePatch` (share_diff.rs), a `Share` becomes
//! a ShareModel (share_model.rs).
//!
//! Every write compares each field with what a GET answers *before* validating it: a value
//! equal to it (or null, or absent) changes nothing, so a whole GET answer sent back never fails.
//! An update reads, diffs and writes in one write transaction (`ShareService::update_with`).

use super::share_body::{AssetRef, Given, Named, NotificationBody, ShareModelBody};
use super::share_diff::{diff, emails, users};
use super::share_model::Current;
pub use super::share_model::ShareModel;
use crate::api::wire::{Object, Patch};
use crate::api::{state, OptionalJson};
use crate::domain::auth::Principal;
use crate::domain::shares::{Share, SharePatch, StatusChange};
use crate::error::{AppError, Field};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use utoipa::ToSchema;

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

fn answer(share: &Share) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ShareModel::from(share)))
}

async fn create(state: &AppState, p: &Principal, body: &ShareModelBody) -> Result<Share, AppError> {
    let parsed = diff(body, &Current::defaults())?;
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

/// Diffs `body` against the share as it is inside the write transaction and writes the patch.
async fn update(
    state: &AppState,
    p: &Principal,
    uuid: &str,
    body: ShareModelBody,
) -> Result<Share, AppError> {
    // A non-empty password is always applied: hashed before the transaction.
    let password = body
        .password
        .as_ref()
        .value()
        .filter(|s| !s.is_empty())
        .cloned();
    let expiry_field = Arc::new(OnceLock::new());
    let seen = expiry_field.clone();
    state
        .shares
        .update_with(p.org_id, uuid, password, move |current| {
            let parsed = diff(&body, &Current::of(current))?;
            let _ = seen.set(parsed.expiry_field);
            Ok(parsed.patch)
        })
        .await
        .map_err(|e| nomad_names(e, expiry_field.get().copied().unwrap_or("expirationDate")))
}

/// A POST body's `id`: null or absent creates, a share's id updates it (unknown: 404).
async fn create_or_update(
    state: &AppState,
    p: &Principal,
    body: ShareModelBody,
) -> Result<Share, AppError> {
    match body.id.clone() {
        None => create(state, p, &body).await,
        Some(Given::Value(id)) => update(state, p, &id, body).await,
        Some(Given::Wrong(message)) => Err(AppError::invalid("id", message)),
    }
}

/// Share an asset (create, or update the share whose id the body gives)
#[utoipa::path(post, operation_id = "nomadShareAsset", path = "/api/asset/{assetId}/share", tag = "Nomad shares",
    params(("assetId" = String, Path, description = "the file or folder to share")),
    request_body(content = ShareModelBody, description = "a ShareModel, every field optional, `assetId` from the path; `id` null or absent creates, a share's `id` updates it"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn share_asset(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Object<ShareModelBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Some(Object(mut body)) = body.0 else {
        return Err(AppError::MalformedJson(
            "The body is empty; send a JSON object ({} shares the asset with the defaults).".into(),
        ));
    };
    // The path's asset replaces any `assetId` in the body, unread.
    body.asset_id = Patch::Value(Given::Value(AssetRef(Named::Text(path.into_inner()))));
    let share = create_or_update(&state, &p, body)
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

/// Create a share, or update the one whose id the body gives
#[utoipa::path(post, operation_id = "nomadShare", path = "/api/share", tag = "Nomad shares",
    request_body(content = ShareModelBody, description = "`id` null creates (needs assetId or sharedContents); a share's `id` updates it as PUT; an unknown one is 404"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn share(
    req: HttpRequest,
    p: Principal,
    body: OptionalJson<Object<ShareModelBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Object(body) = body.0.unwrap_or_default();
    answer(&create_or_update(&state, &p, body).await?)
}

/// Get a share as a ShareModel
#[utoipa::path(get, operation_id = "nomadGetShare", path = "/api/share/{id}", tag = "Nomad shares",
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

/// Update a share: the fields that differ from what GET answers
#[utoipa::path(put, operation_id = "nomadUpdateShare", path = "/api/share/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    request_body(content = ShareModelBody, description = "null, absent or equal to what GET answers = unchanged"),
    responses((status = 200, body = ShareModel), (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn put(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Object<ShareModelBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Object(body) = body.0.unwrap_or_default();
    answer(&update(&state, &p, &path.into_inner(), body).await?)
}

#[derive(Serialize, ToSchema)]
pub struct ShareIdAnswer {
    pub id: String,
}

/// Delete a share: its link dies
#[utoipa::path(delete, operation_id = "nomadDeleteShare", path = "/api/share/{id}", tag = "Nomad shares",
    params(("id" = String, Path)),
    responses((status = 200, body = ShareIdAnswer, description = "the link dies"), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn delete(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let id = state.shares.delete(p.org_id, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ShareIdAnswer { id }))
}

/// Expire a share now
#[utoipa::path(post, operation_id = "nomadExpireShare", path = "/api/share/expire/{id}", tag = "Nomad shares",
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

#[derive(Serialize, ToSchema)]
pub struct Notified {
    pub id: String,
    /// The addresses mailed.
    pub notified: Vec<String>,
}

/// Mail a share's link to users and addresses
#[utoipa::path(post, operation_id = "nomadNotifyShare", path = "/api/share/{id}/notification", tag = "Nomad shares",
    params(("id" = String, Path)), request_body = NotificationBody,
    responses((status = 200, body = Notified, description = "mails the link to those given, or to all users and recipients when both lists are empty"),
              (status = 400), (status = 404)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn notify(
    req: HttpRequest,
    p: Principal,
    path: web::Path<String>,
    body: OptionalJson<Object<NotificationBody>>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let Object(body) = body.0.unwrap_or_default();
    let users = match &body.nomad_users {
        None => vec![],
        Some(list) => users("nomadUsers", list)?,
    };
    let emails = match &body.external_users {
        None => vec![],
        Some(list) => emails("externalUsers", list)?,
    };
    let id = path.into_inner();
    let notified = state.shares.notify(p.org_id, &id, users, emails).await?;
    Ok(HttpResponse::Ok().json(Notified {
        id: crate::domain::assets::parse_id(&id).unwrap_or(id),
        notified,
    }))
}
