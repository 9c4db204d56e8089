//! "Your account": change your own password; list, create and revoke the API keys you made.

use super::{day, see_other, state};
use crate::api::Params;
use crate::domain::accounts::KeyInfo;
use crate::domain::auth::WebUser;
use crate::error::AppError;
use crate::web::guard::{last, CsrfForm, NoFields};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

struct KeyLine {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
}

fn key_lines(keys: Vec<KeyInfo>) -> Vec<KeyLine> {
    keys.into_iter()
        .map(|k| KeyLine {
            id: k.id,
            name: k.name,
            prefix: k.prefix.unwrap_or_else(|| "—".into()),
            created: day(k.created_at),
            last_used: k.last_used_at.map_or_else(|| "never".into(), day),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "app/account.html")]
struct AccountPage {
    email: String,
    csrf: String,
    keys: Vec<KeyLine>,
    /// A key just made: shown this once.
    new_key: String,
    /// What was just done, or what went wrong (a password is never put back in the form).
    notice: String,
    error: String,
    /// An admin gets a link to the admin page.
    admin: bool,
}

async fn render(
    req: &HttpRequest,
    user: &WebUser,
    status: StatusCode,
    new_key: String,
    notice: &str,
    error: String,
) -> Result<HttpResponse, AppError> {
    let state = state(req)?;
    let keys = state.accounts.own_keys(user).await?;
    let admin = state.accounts.is_admin(user).await?;
    let page = AccountPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        keys: key_lines(keys),
        new_key,
        notice: notice.into(),
        error,
        admin,
    };
    crate::web::private_page(&page, status)
}

/// `GET /app/account`.
pub async fn account(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let notice = match params.get("done").unwrap_or("") {
        "password" => "Your password is changed. Your other sessions and tokens have ended.",
        "revoked" => "The key is revoked.",
        _ => "",
    };
    render(
        &req,
        &user,
        StatusCode::OK,
        String::new(),
        notice,
        String::new(),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordFields {
    #[serde(deserialize_with = "last")]
    current_password: String,
    #[serde(deserialize_with = "last")]
    new_password: String,
}

/// `POST /app/account/password`: a wrong current password or a new one out of bounds gets the
/// page back (400) with the reason, and changes nothing.
pub async fn change_password(
    req: HttpRequest,
    post: CsrfForm<PasswordFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let now = state.clock.now();
    let done = state
        .accounts
        .change_own_password(&user, &form.current_password, &form.new_password, now)
        .await;
    match done {
        Ok(()) => Ok(see_other("/app/account?done=password")),
        Err(e @ AppError::InvalidField { .. }) => {
            let status = StatusCode::BAD_REQUEST;
            render(&req, &user, status, String::new(), "", e.message()).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KeyFields {
    #[serde(deserialize_with = "last")]
    name: String,
}

/// `POST /app/account/keys`: the page comes back with the new key, shown this once.
pub async fn create_key(
    req: HttpRequest,
    post: CsrfForm<KeyFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let now = state.clock.now();
    match state.accounts.create_own_key(&user, &form.name, now).await {
        Ok(key) => {
            let notice = "Copy the key now: it is not shown again.";
            render(&req, &user, StatusCode::OK, key, notice, String::new()).await
        }
        Err(e @ AppError::InvalidField { .. }) => {
            let status = StatusCode::BAD_REQUEST;
            render(&req, &user, status, String::new(), "", e.message()).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/account/keys/{id}/revoke`.
pub async fn revoke_key(
    req: HttpRequest,
    path: web::Path<i64>,
    post: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    state
        .accounts
        .revoke_own_key(&post.user, path.into_inner())
        .await?;
    Ok(see_other("/app/account?done=revoked"))
}
