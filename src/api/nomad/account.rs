//! `/api/account/...`: the only login route, token refresh, logout.

use crate::api::{client_addr, state, Json};
use crate::domain::auth::{Principal, ACCESS_TOKEN_SECS};
use crate::error::AppError;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    /// The user's email (`userName` is accepted too).
    #[serde(alias = "userName")]
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginAnswer {
    pub token: String,
    pub refresh_token: String,
    pub expiration_seconds: i64,
    /// The user's uuid.
    pub id: String,
    pub user_name: String,
    /// The org token.
    pub org: String,
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, AppError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::invalid(field, format!("`{field}` is required")))
}

/// Log in with email and password for an access and a refresh token
#[utoipa::path(post, operation_id = "nomadLogin", path = "/api/account/login", tag = "Nomad account", request_body = LoginBody,
    responses((status = 200, body = LoginAnswer), (status = 400), (status = 401), (status = 429)))]
pub async fn login(req: HttpRequest, body: Json<LoginBody>) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let body = body.0;
    let username = required(&body.username, "username")?;
    let password = required(&body.password, "password")?;
    let grant = state
        .auth
        .login(username, password, &client_addr(&req))
        .await?;
    Ok(HttpResponse::Ok().json(LoginAnswer {
        token: grant.access_token,
        refresh_token: grant.refresh_token,
        expiration_seconds: ACCESS_TOKEN_SECS,
        id: grant.user_uuid,
        user_name: grant.email,
        org: grant.org_token,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshAnswer {
    pub token: String,
    /// The same refresh token: it is not rotated.
    pub refresh_token: String,
    pub expiration_seconds: i64,
}

/// Get a new access token for a refresh token
#[utoipa::path(post, operation_id = "nomadRefreshToken", path = "/api/account/refresh-token", tag = "Nomad account",
    request_body = RefreshBody,
    responses((status = 200, body = RefreshAnswer), (status = 400), (status = 401)))]
pub async fn refresh_token(
    req: HttpRequest,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let token = required(&body.0.refresh_token, "refreshToken")?;
    let grant = state.auth.refresh(token).await?;
    Ok(HttpResponse::Ok().json(RefreshAnswer {
        token: grant.access_token,
        refresh_token: grant.refresh_token,
        expiration_seconds: ACCESS_TOKEN_SECS,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutAnswer {
    pub logged_out: bool,
}

/// Log out: end the session's access and refresh tokens
#[utoipa::path(post, operation_id = "nomadLogout", path = "/api/account/logout", tag = "Nomad account",
    responses((status = 200, body = LogoutAnswer), (status = 401), (status = 403)),
    security(("bearer" = []), ("api_key" = []), ("filerobot_key" = [])))]
pub async fn logout(req: HttpRequest, principal: Principal) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    state.auth.logout(&principal).await?;
    Ok(HttpResponse::Ok().json(LogoutAnswer { logged_out: true }))
}
