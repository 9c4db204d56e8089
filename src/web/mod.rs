//! HTML adapters: pages and the assets they use.

pub mod guard;
pub mod head;
pub mod icons;
pub mod owner;
pub mod public;
pub mod requests;

pub use guard::security_headers;

use crate::domain::auth::WebUser;
use crate::error::AppError;
use actix_web::http::header;
use actix_web::http::StatusCode;
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

/// Renders a page about secrets (keys shown once, password forms) with `status`, never cached.
pub fn private_page(t: &impl Template, status: StatusCode) -> Result<HttpResponse, AppError> {
    let html = t.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// `/`: a signed-in owner goes to the library, anyone else to the sign-in page.
pub async fn index(user: Option<WebUser>) -> HttpResponse {
    let to = if user.is_some() { "/app" } else { "/login" };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// "1 file, 12 bytes" / "20,001 files, 1.5 GiB": what a share holds in all, for its page and card.
pub fn contents_label(files: i64, bytes: i64) -> String {
    let n = files.max(0) as u64;
    format!(
        "{} file{}, {}",
        crate::domain::paging::thousands(n),
        if n == 1 { "" } else { "s" },
        size_label(bytes.max(0) as u64)
    )
}

/// A size as the pages write it: bytes below 1 KiB, else 1024-based KiB, MiB, GiB or TiB with at
/// most one decimal (`1.5 KiB`, `10 GiB`), so a MiB is written MiB. The API's `size.pretty`
/// keeps its own contract (`domain::types::pretty_size`, `1.50 KB`).
pub fn size_label(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    match bytes {
        1 => return "1 byte".into(),
        0..1024 => return format!("{bytes} bytes"),
        _ => {}
    }
    let tenths = |div: f64| (bytes as f64 / div * 10.0).round() / 10.0;
    let (mut unit, mut div) = (0, 1024.0);
    // The next unit when rounding would write 1024 of this one.
    while unit + 1 < UNITS.len() && tenths(div) >= 1024.0 {
        unit += 1;
        div *= 1024.0;
    }
    let value = tenths(div);
    if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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
    // A file request's page: uploads through tus.
    (
        "request.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/request.js"),
    ),
    // Our own icon (uploaded SVG is never served inline; this one is part of the binary).
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
    // tus-js-client 4.3.1's browser build, as published on npm (MIT: tus-js-client.LICENSE).
    (
        "tus.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/tus.min.js"),
    ),
    (
        "tus-js-client.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../../static/tus-js-client.LICENSE"),
    ),
];

/// A thumbnail made by `thumbs`: a small PNG of ours, read whole.
pub async fn thumbnail(path: std::path::PathBuf) -> Result<HttpResponse, AppError> {
    let bytes = tokio::fs::read(path).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes))
}

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

#[cfg(test)]
mod tests {
    use super::size_label;

    #[test]
    fn sizes_say_what_they_are() {
        for (bytes, label) in [
            (0, "0 bytes"),
            (1, "1 byte"),
            (1023, "1023 bytes"),
            (1024, "1 KiB"),
            (1536, "1.5 KiB"),
            (67_450, "65.9 KiB"),
            (1_048_575, "1 MiB"),
            (1_048_576, "1 MiB"),
            (5 * 1_048_576 + 104_858, "5.1 MiB"),
            (10 * (1 << 30), "10 GiB"),
            (3 * (1 << 40), "3 TiB"),
            (1 << 60, "1048576 TiB"),
        ] {
            assert_eq!(size_label(bytes), label, "{bytes}");
        }
    }
}
