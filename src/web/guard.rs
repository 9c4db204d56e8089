//! Security headers on every page (HSTS on every answer over https) (and `private, no-store` on every public share answer), and
//! the CSRF guards of the owner UI's writes.
//!
//! A handler that changes something takes [`CsrfForm`] (a urlencoded form) or [`CsrfHeader`]
//! (the multipart upload) instead of the session and its body: either answers 403
//! `AppError::CsrfFailed` before the handler runs unless the session's token came along, so a
//! new handler cannot forget the check and a refused write changes nothing.

use crate::api::Params;
use crate::domain::auth::{self, WebUser};
use crate::error::{AppError, Family};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{try_join, LocalBoxFuture};
use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::future::Future;

/// Sent on every answer when the request came as https (an https base URL, or https through a
/// trusted proxy): a year, this host only.
const HSTS: &str = "max-age=31536000";

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
    // Any answer under /s/ may be about a password-protected share, errors included (a 401 says
    // the share exists and is locked): none belongs in a shared cache.
    let public_share = req.path().starts_with("/s/") || req.path().starts_with("/r/");
    let https = crate::api::client::is_https(req.request());
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if public_share {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
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

/// A form posted by the signed-in user, its `csrf_token` field checked against the session's
/// (in constant time, `auth::csrf_ok`) before `T` is read. Without a session: the sign-in page
/// (303); a body that is not `application/x-www-form-urlencoded`: 415; a missing or wrong
/// token: 403 `CsrfFailed`, and the handler never runs.
pub struct CsrfForm<T = NoFields> {
    pub user: WebUser,
    pub form: T,
}

/// A form with nothing but its CSRF token (sign out, delete).
#[derive(Deserialize, Default)]
pub struct NoFields {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenField {
    #[serde(deserialize_with = "last")]
    csrf_token: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<CsrfForm<T>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The session and the body together, the first failure answering, as actix reads a
        // handler's `(WebUser, form)`.
        let both = try_join(WebUser::from_request(req, payload), form_body(req, payload));
        Box::pin(async move {
            let (user, body) = both.await?;
            let sent: TokenField = parse_form(&body)?;
            check(&user, Some(&sent.csrf_token))?;
            Ok(CsrfForm {
                form: parse_form(&body)?,
                user,
            })
        })
    }
}

/// The signed-in user of a write whose body is not a urlencoded form (`POST /app/upload`):
/// the token comes in the `X-CSRF-Token` header (a script) or as `?csrf_token=` (a plain form
/// post), checked before a byte of the body is read; a missing or wrong token is a 403.
pub struct CsrfHeader {
    pub user: WebUser,
    /// The token came in the header: the caller is a script and wants the JSON answer.
    pub via_header: bool,
}

impl FromRequest for CsrfHeader {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<CsrfHeader, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let header_token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let both = try_join(
            WebUser::from_request(req, payload),
            Params::from_request(req, payload),
        );
        Box::pin(async move {
            let (user, params) = both.await?;
            let via_header = header_token.is_some();
            check(&user, header_token.as_deref().or(params.get("csrf_token")))?;
            Ok(CsrfHeader { user, via_header })
        })
    }
}

/// Refuses a write whose CSRF token is missing or not this session's: nothing changes.
fn check(user: &WebUser, token: Option<&str>) -> Result<(), AppError> {
    if auth::csrf_ok(user, token) {
        Ok(())
    } else {
        Err(AppError::CsrfFailed)
    }
}

/// The body of a urlencoded form; any other content type is a 415.
pub(crate) fn form_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::BytesMut, AppError>> + 'static {
    let mut payload = payload.take();
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    async move {
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(AppError::UnsupportedMediaType(format!(
                "A form is application/x-www-form-urlencoded, not {ct}."
            )));
        }
        crate::api::read_body(&mut payload).await
    }
}

/// Reads urlencoded fields (a body or a query string) into `T`; a name may repeat for a `Vec`.
pub(crate) fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    serde_html_form::from_bytes(bytes)
        .map_err(|e| AppError::invalid("form", format!("the form could not be read: {e}")))
}

/// `#[serde(deserialize_with = "last")]`: a form field as one string, the last value when its
/// name repeats (with `#[serde(default)]`, "" when it is missing).
pub(crate) fn last<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Last;

    impl<'de> Visitor<'de> for Last {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a form field's value")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
            let mut last = String::new();
            while let Some(v) = seq.next_element::<String>()? {
                last = v;
            }
            Ok(last)
        }
    }

    d.deserialize_any(Last)
}
