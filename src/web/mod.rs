//! HTML adapters: pages and the assets they use.

pub mod guard;
pub mod owner;
pub mod public;

pub use guard::security_headers;

use crate::domain::auth::WebUser;
use crate::error::AppError;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

/// The request's path with its query: where to come back to after signing in.
pub fn path_and_query(req: &actix_web::HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

/// The sign-in page, coming back to `next` (a local path) afterwards.
pub fn login_url(next: &str) -> String {
    let next = percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC);
    format!("/login?next={next}")
}

/// Renders a page template as a 200 HTML answer.
pub fn page(t: &impl Template) -> Result<HttpResponse, AppError> {
    let html = t.render().map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `/`: a signed-in owner goes to the library, anyone else to the sign-in page.
pub async fn index(user: Option<WebUser>) -> HttpResponse {
    let to = if user.is_some() { "/app" } else { "/login" };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// static/ is compiled in, so the one binary needs no files beside it.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
];

pub async fn static_file(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, mime, body) = STATIC_FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| AppError::not_found("This file"))?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
