//! HEAD on every GET route. The `routes!` macro sends a HEAD to the GET handler, so it passes the
//! same checks (a wrong password counts toward the throttle as a GET's does) and gets the same
//! status and headers. This middleware, outside every other but the logger, then drops the body
//! without sending a byte of it, keeping its length for `Content-Length`. What a body does once
//! sent never happens for a HEAD: a download or a view counts only when its body has gone out.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use bytes::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};

pub async fn without_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    let res = next.call(req).await?;
    if !head {
        return Ok(res.map_into_boxed_body());
    }
    // The GET body is dropped here, unpolled: no file read, no zip walked, nothing counted.
    Ok(res.map_body(|_, body| BoxBody::new(Bodiless(body.size()))))
}

/// A body that has a length and no bytes: what a HEAD answer is.
struct Bodiless(BodySize);

impl MessageBody for Bodiless {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}
