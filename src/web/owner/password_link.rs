//! `/password/{token}`: the page of a set-password link (a new user's first password, an
//! admin's reset). No session: the link's secret token is what allows the change, so a forged
//! form from another site cannot know it, and the page takes no CSRF token of its own.

use super::{see_other, state};
use crate::domain::links;
use crate::error::AppError;
use crate::web::guard::{last, parse_form};
use actix_web::http::{header, StatusCode};
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
    let html = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// `GET /password/{token}`: the form, or 404 when the link does not work.
pub async fn form(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let token = path.into_inner();
    let email = links::check(&state.db, &token, state.clock.now()).await?;
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
    password: String,
}

/// `POST /password/{token}`: sets the password and uses the link up, then the sign-in page.
pub async fn set(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let form: LinkFields = parse_form(&body)?;
    let token = path.into_inner();
    let now = state.clock.now();
    match links::set_password(&state.db, &token, &form.password, now).await {
        Ok(()) => Ok(see_other("/login?password=set")),
        Err(e @ AppError::InvalidField { .. }) => {
            let email = links::check(&state.db, &token, now).await?;
            let page = LinkPage {
                email,
                token,
                error: e.message(),
            };
            render(StatusCode::BAD_REQUEST, page)
        }
        Err(e) => Err(e),
    }
}
