//! `/password?token=…`: the page of a set-password link (a new user's first password, an
//! admin's reset). No session: the link's secret token is what allows the change, so a forged
//! form from another site cannot know it, and the page takes no CSRF token of its own. The
//! form posts the token back in a hidden field, so it is not in that request's URL.

use super::{see_other, state};
use crate::api::Params;
use crate::error::AppError;
use crate::web::guard::{last, parse_form};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "app/password_link.html")]
struct LinkPage {
    email: String,
    token: String,
    error: String,
}

fn render(status: StatusCode, page: LinkPage) -> Result<HttpResponse, AppError> {
    crate::web::private_page(&page, status)
}

/// `GET /password?token=…`: the form, or 404 when the link does not work. Without a token
/// there is nothing to do here: the sign-in page (303).
pub async fn form(req: HttpRequest, params: Params) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let token = params.get("token").unwrap_or("").to_string();
    if token.is_empty() {
        return Ok(see_other("/login"));
    }
    let email = state
        .accounts
        .password_link_email(&token, state.clock.now())
        .await?;
    let page = LinkPage {
        email,
        token,
        error: String::new(),
    };
    render(StatusCode::OK, page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkFields {
    #[serde(deserialize_with = "last")]
    token: String,
    #[serde(deserialize_with = "last")]
    password: String,
}

/// `POST /password`: sets the password and uses the link up, then the sign-in page (303).
pub async fn set(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let form: LinkFields = parse_form(&body)?;
    let now = state.clock.now();
    match state
        .accounts
        .set_password_by_link(&form.token, &form.password, now)
        .await
    {
        Ok(()) => Ok(see_other("/login")),
        Err(e @ AppError::InvalidField { .. }) => {
            let email = state.accounts.password_link_email(&form.token, now).await?;
            let page = LinkPage {
                email,
                token: form.token,
                error: e.message(),
            };
            render(StatusCode::BAD_REQUEST, page)
        }
        Err(e) => Err(e),
    }
}
