//! API adapters: extractors shared by both dialects (Principal, JSON bodies), CORS.

pub mod client;
pub mod filerobot;
pub mod nomad;
pub mod openapi;
pub mod tus;
pub mod wire;

use crate::domain::auth::{self, Principal};
use crate::error::{AppError, Family};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// The largest JSON body any route reads.
pub const JSON_LIMIT: usize = 1024 * 1024;

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("AppState missing"))
}

/// The 400 for a body field of the wrong JSON type: "must be a string, not a number".
pub fn wrong_type(field: &str, want: &str, got: &serde_json::Value) -> AppError {
    AppError::invalid(field, wire::wrong_kind(want, got))
}

/// A time as API answers give it: RFC 3339 UTC with `Z`, to the second.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The request's `User-Agent`, or "" (activity rows keep it).
pub fn user_agent(req: &HttpRequest) -> String {
    header_str(req, "user-agent").unwrap_or("").to_string()
}

pub use client::client_addr;

pub(crate) fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Principal, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let credential = auth::credential_from_headers(
            header_str(req, "authorization"),
            header_str(req, "x-filerobot-key"),
        );
        // On Filerobot routes the credential's org must be the path's `{token}`.
        let path_token = match Family::of_path(req.path()) {
            Family::Filerobot => req.match_info().get("token").map(str::to_string),
            _ => None,
        };
        Box::pin(async move {
            let state = state?;
            let principal = state.auth.authenticate(credential).await?;
            if let Some(token) = path_token {
                if token != principal.org_token {
                    return Err(AppError::Forbidden(format!(
                        "This credential belongs to another org than '{token}'."
                    )));
                }
            }
            Ok(principal)
        })
    }
}

/// A JSON body: a JSON content type (415 otherwise), at most `JSON_LIMIT` bytes, and
/// deserialization errors named by JSON path (`items[0].identifiers[1]`).
pub struct Json<T>(pub T);

/// An optional JSON body: an empty body is `None`, whatever the content type.
pub struct OptionalJson<T>(pub Option<T>);

fn is_json_type(req: &HttpRequest) -> bool {
    let Some(ct) = header_str(req, "content-type") else {
        return false;
    };
    let Ok(m) = ct.parse::<mime::Mime>() else {
        return false;
    };
    match (m.type_(), m.subtype()) {
        (mime::APPLICATION, mime::JSON) | (mime::TEXT, mime::JSON) => true,
        (mime::APPLICATION, _) => m.suffix() == Some(mime::JSON),
        _ => false,
    }
}

pub async fn read_body(payload: &mut Payload) -> Result<web::BytesMut, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| AppError::MalformedJson(format!("The body could not be read: {e}")))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(AppError::TooLarge {
                limit: JSON_LIMIT as u64,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses `bytes` as `T`, naming the failing field by its JSON path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

fn json_error(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => AppError::MalformedJson(format!(
            "The body is not valid JSON: {} at line {}, column {}.",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        )),
        Category::Data => {
            let msg = strip_position(&e.to_string());
            // serde reports a missing field at its parent's path; name the field itself.
            let field = match msg
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
            {
                Some(name) if path == "." => name.to_string(),
                Some(name) => format!("{path}.{name}"),
                None if path == "." => "body".to_string(),
                None => path.to_string(),
            };
            AppError::invalid(field, msg)
        }
    }
}

/// serde_json appends " at line L column C"; the envelope says where on its own.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn json_from_request<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    optional: bool,
) -> LocalBoxFuture<'static, Result<Option<T>, AppError>> {
    let json_type = is_json_type(req);
    let content_type = header_str(req, "content-type")
        .unwrap_or("none")
        .to_string();
    let mut payload = payload.take();
    Box::pin(async move {
        let body = read_body(&mut payload).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            if optional {
                return Ok(None);
            }
            if json_type {
                return Err(AppError::MalformedJson(
                    "The body is empty; send a JSON object.".into(),
                ));
            }
        }
        if !json_type {
            return Err(AppError::UnsupportedMediaType(format!(
                "The body must be JSON (application/json), not {content_type}."
            )));
        }
        parse_json(&body).map(Some)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Json<T>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = json_from_request::<T>(req, payload, false);
        Box::pin(async move {
            match fut.await? {
                Some(v) => Ok(Json(v)),
                None => Err(AppError::MalformedJson(
                    "The body is empty; send a JSON object.".into(),
                )),
            }
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<OptionalJson<T>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = json_from_request::<T>(req, payload, true);
        Box::pin(async move { fut.await.map(OptionalJson) })
    }
}

/// The query string as name -> value (the last of a repeated name wins). Parameters are read
/// and checked by name in each handler, so every 400 can name its parameter.
#[derive(Default)]
pub struct Params(std::collections::HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl FromRequest for Params {
    type Error = AppError;
    type Future = std::future::Ready<Result<Params, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .map(|pairs| Params(pairs.into_iter().collect()))
            .map_err(|e| AppError::invalid("query", format!("the query string is malformed: {e}")));
        std::future::ready(parsed)
    }
}

const CORS_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const CORS_HEADERS: &str = "Authorization, Content-Type, X-Filerobot-Key";

/// CORS on API routes: any origin, and `OPTIONS` answered 204 before routing.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !Family::of_path(req.path()).is_api() {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if tus::is_tus_path(req.path()) {
        return tus::cors(req, next).await;
    }
    let mut res = if req.method() == Method::OPTIONS {
        let res = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, CORS_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, CORS_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        req.into_response(res)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        identifiers: Vec<String>,
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::InvalidField { field, .. } => field.to_string(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_path() {
        let e = parse_json::<Body>(br#"{"name": 42, "items": []}"#).unwrap_err();
        assert_eq!(field_of(e), "name");
        let e = parse_json::<Body>(br#"{"name": "a", "items": [{"identifiers": ["x", 1]}]}"#)
            .unwrap_err();
        assert_eq!(field_of(e), "items[0].identifiers[1]");
        let e = parse_json::<Body>(br#"{"items": []}"#).unwrap_err();
        assert_eq!(field_of(e), "name");
        let e = parse_json::<Body>(br#"{"name": "a", "items": [{}]}"#).unwrap_err();
        assert_eq!(field_of(e), "items[0].identifiers");
        match parse_json::<Body>(b"{\"name\": ").unwrap_err() {
            AppError::MalformedJson(m) => assert!(m.contains("line 1, column 9"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Body>(br#"{"name": "a", "items": []} x"#),
            Err(AppError::MalformedJson(_))
        ));
    }
}
