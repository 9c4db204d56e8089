//! Filerobot's dialect: `/{token}/v4/...` (assets) and `/{token}/v5/...` (shares).

pub mod assets;
mod kinds;
pub mod reader;
pub mod request_body;
pub mod requests;
pub mod share_body;
pub mod shares;
pub mod upload;

use crate::api::{state, Params};
use crate::domain::auth::Principal;
use crate::error::AppError;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// Every Filerobot success body carries `"status":"success"` and is sent as exactly
/// `application/json`.
pub fn success(body: impl Serialize) -> Result<HttpResponse, AppError> {
    let mut value = serde_json::to_value(body).map_err(AppError::internal)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("status".into(), "success".into());
    }
    Ok(HttpResponse::Ok().json(value))
}

#[derive(Serialize, ToSchema)]
pub struct FieldsAnswer {
    /// Always "success".
    #[schema(example = "success")]
    pub status: &'static str,
    /// Custom metadata fields: Sharebox keeps none.
    pub fields: Vec<serde_json::Value>,
}

/// List the org's custom metadata fields (Sharebox keeps none)
#[utoipa::path(get, operation_id = "getMetaModelFields", path = "/{token}/v4/meta/model/fields", tag = "Filerobot assets",
    params(("token" = String, Path, description = "org token")),
    responses((status = 200, body = FieldsAnswer), (status = 401), (status = 403)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn meta_model_fields(_p: Principal) -> Result<HttpResponse, AppError> {
    success(FieldsAnswer {
        status: "success",
        fields: vec![],
    })
}

/// What every key of an org may do: all keys and users have the same rights.
pub const KEY_PERMISSIONS: &[&str] = &[
    "OBJECTS_LIST",
    "OBJECTS_FETCH",
    "FILE_UPLOAD",
    "FOLDER_CREATE",
    "OBJECTS_UPDATE",
    "OBJECTS_DELETE",
    "SHARE_MANAGE",
];

#[derive(Serialize, ToSchema)]
pub struct KeyInfoAnswer {
    #[schema(example = "success")]
    pub status: &'static str,
    pub is_validate: bool,
    pub is_user_info_included: bool,
    pub permissions: Vec<&'static str>,
}

/// Check whether an API key belongs to the org, and what it may do
#[utoipa::path(get, operation_id = "getKeyInfo", path = "/{token}/v4/key/info", tag = "Filerobot assets",
    params(("token" = String, Path, description = "org token"),
           ("key" = String, Query, description = "the API key to check")),
    responses((status = 200, body = KeyInfoAnswer), (status = 400)))]
pub async fn key_info(
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let key = params
        .get("key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| AppError::invalid("key", "the query parameter `key` is required"))?;
    let valid = state.auth.key_belongs_to(key, &path.into_inner()).await?;
    success(KeyInfoAnswer {
        status: "success",
        is_validate: valid,
        is_user_info_included: false,
        permissions: if valid {
            KEY_PERMISSIONS.to_vec()
        } else {
            vec![]
        },
    })
}
