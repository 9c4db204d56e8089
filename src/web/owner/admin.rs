//! The admin page (`/app/admin/users`): the org's users (disable, enable, grant and revoke
//! admin) and every key of the org (revoke). The domain checks `is_admin` on every call.

use super::{day, see_other, state};
use crate::api::Params;
use crate::domain::auth::WebUser;
use crate::error::AppError;
use crate::web::guard::{last, CsrfForm, NoFields};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

struct UserLine {
    uuid: String,
    email: String,
    admin: bool,
    disabled: bool,
    me: bool,
    created: String,
}

struct KeyLine {
    id: i64,
    name: String,
    prefix: String,
    made_by: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "app/admin.html")]
struct AdminPage {
    email: String,
    csrf: String,
    users: Vec<UserLine>,
    keys: Vec<KeyLine>,
    notice: String,
    error: String,
}

async fn render(
    req: &HttpRequest,
    user: &WebUser,
    status: StatusCode,
    notice: &str,
    error: String,
) -> Result<HttpResponse, AppError> {
    let state = state(req)?;
    let (users, keys) = state.accounts.admin_overview(user).await?;
    let page = AdminPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        users: users
            .into_iter()
            .map(|u| UserLine {
                me: u.email.eq_ignore_ascii_case(&user.email),
                uuid: u.uuid,
                email: u.email,
                admin: u.admin,
                disabled: u.disabled,
                created: day(u.created_at),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyLine {
                id: k.id,
                name: k.name,
                prefix: k.prefix.unwrap_or_else(|| "—".into()),
                made_by: k.created_by.unwrap_or_else(|| "the command line".into()),
                created: day(k.created_at),
                last_used: k.last_used_at.map_or_else(|| "never".into(), day),
            })
            .collect(),
        notice: notice.into(),
        error,
    };
    crate::web::private_page(&page, status)
}

/// `GET /app/admin/users`.
pub async fn users(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let notice = match params.get("done").unwrap_or("") {
        "disable" => "The user is disabled: their sessions, tokens and keys have ended.",
        "enable" => "The user is enabled again.",
        "grant-admin" => "The user is an admin now.",
        "revoke-admin" => "The user is no longer an admin.",
        "revoked" => "The key is revoked.",
        "added" => "The user is added: a link to choose their password is on its way by mail.",
        "reset-password" => "A link to choose a new password is on its way by mail.",
        _ => "",
    };
    render(&req, &user, StatusCode::OK, notice, String::new()).await
}

/// `POST /app/admin/users/{uuid}/{action}`: `disable`, `enable`, `grant-admin`,
/// `revoke-admin`. A refusal (the org's last admin) gives the page back (400) with the reason.
pub async fn user_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let user = post.user;
    let (uuid, action) = path.into_inner();
    let done = match action.as_str() {
        "disable" => state.accounts.admin_set_disabled(&user, &uuid, true).await,
        "enable" => state.accounts.admin_set_disabled(&user, &uuid, false).await,
        "grant-admin" => state.accounts.set_admin(&user, &uuid, true).await,
        "revoke-admin" => state.accounts.set_admin(&user, &uuid, false).await,
        "reset-password" => {
            let now = state.clock.now();
            state.accounts.admin_reset_password(&user, &uuid, now).await
        }
        _ => return Err(AppError::not_found("This route")),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/app/admin/users?done={action}"))),
        Err(e @ AppError::InvalidField { .. }) => {
            render(&req, &user, StatusCode::BAD_REQUEST, "", e.message()).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/admin/keys/{id}/revoke`: any key of the org.
pub async fn revoke_key(
    req: HttpRequest,
    path: web::Path<i64>,
    post: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    state
        .accounts
        .admin_revoke_key(&post.user, path.into_inner())
        .await?;
    Ok(see_other("/app/admin/users?done=revoked"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewUserFields {
    #[serde(deserialize_with = "last")]
    email: String,
    /// A checkbox: present when ticked.
    #[serde(deserialize_with = "last")]
    admin: String,
}

/// `POST /app/admin/users`: a new user of the org, mailed a set-password link.
pub async fn add_user(
    req: HttpRequest,
    post: CsrfForm<NewUserFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let now = state.clock.now();
    let admin = !form.admin.is_empty();
    match state
        .accounts
        .add_user(&user, &form.email, admin, now)
        .await
    {
        Ok(()) => Ok(see_other("/app/admin/users?done=added")),
        Err(e @ AppError::InvalidField { .. }) => {
            render(&req, &user, StatusCode::BAD_REQUEST, "", e.message()).await
        }
        Err(e) => Err(e),
    }
}
