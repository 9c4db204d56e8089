//! Security headers on every page.

use crate::error::Family;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

const PAGE_HEADERS: &[(HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
];

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let family = Family::of_path(req.path());
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    if family == Family::Html {
        for (name, value) in PAGE_HEADERS {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    } else {
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    Ok(res)
}
