//! `/tus/`: tus 1.0.0 (core, creation, creation-with-upload, termination, expiration,
//! checksum) over `TusService`. This adapter reads the protocol's headers, authorises the caller
//! (any API credential, or the owner's session cookie with its `X-CSRF-Token`) and writes the
//! protocol's answer headers; errors leave in Filerobot's envelope.

use crate::api::{header_str, state};
use crate::domain::assets::FolderRef;
use crate::domain::auth;
use crate::domain::tus::{unavailable, FirstChunk, NewTus, TusState};
use crate::domain::types::{FolderPath, Name};
use crate::error::AppError;
use crate::partial::{Checksum, CHECKSUM_ALGORITHMS};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const OFFSET_TYPE: &str = "application/offset+octet-stream";
const CORS_METHODS: &str = "POST, HEAD, PATCH, DELETE, OPTIONS";
const CORS_HEADERS: &str = "Authorization, Content-Type, X-Filerobot-Key, Tus-Resumable, \
    Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, Upload-Defer-Length, \
    Upload-Concat, X-Requested-With";
const CORS_EXPOSE: &str = "Location, Upload-Offset, Upload-Length, Upload-Expires, \
    Upload-Metadata, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, \
    Tus-Checksum-Algorithm, Sharebox-File-Uuid";
const FILE_UUID: &str = "sharebox-file-uuid";

/// Whether a path is a tus route (`/tus`, `/tus/`, `/tus/{id}`).
pub fn is_tus_path(path: &str) -> bool {
    let request_tus = || {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        matches!(segs.as_slice(), ["r", _, "tus", ..])
    };
    path == "/tus" || path.starts_with("/tus/") || request_tus()
}

/// The org a tus request acts for. `Tus-Resumable` is checked first (412), then the
/// credential: an API credential header, else the owner's session cookie, which only counts
/// with its CSRF token in `X-CSRF-Token` (403 without: a cookie alone never writes).
pub struct TusCaller {
    pub org_id: i64,
}

impl FromRequest for TusCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<TusCaller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let version_ok = header_str(req, "tus-resumable").map(str::trim) == Some(TUS_VERSION);
        let state = state(req);
        let credential = auth::credential_from_headers(
            header_str(req, "authorization"),
            header_str(req, "x-filerobot-key"),
        );
        let cookie = req
            .cookie(crate::web::owner::session::SESSION_COOKIE)
            .map(|c| c.value().to_string());
        let csrf = header_str(req, "x-csrf-token").map(str::to_string);
        Box::pin(async move {
            if !version_ok {
                return Err(AppError::TusVersion);
            }
            let state = state?;
            if credential.is_some() {
                let p = state.auth.authenticate(credential).await?;
                return Ok(TusCaller { org_id: p.org_id });
            }
            let Some(cookie) = cookie else {
                return Err(AppError::Unauthenticated);
            };
            let user = state
                .auth
                .web_session(&cookie)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            if !auth::csrf_ok(&user, csrf.as_deref()) {
                return Err(AppError::CsrfFailed);
            }
            Ok(TusCaller {
                org_id: user.org_id,
            })
        })
    }
}

/// A header as a count of bytes; `None` when absent, a 400 naming it when not a number.
pub(crate) fn u64_header(req: &HttpRequest, name: &str) -> Result<Option<u64>, AppError> {
    match header_str(req, name) {
        None if req.headers().contains_key(name) => {
            Err(AppError::invalid(name, "must be a number of bytes"))
        }
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            AppError::invalid(name, format!("'{v}' is not a number of bytes (0 or more)"))
        }),
    }
}

/// `Upload-Metadata`: `key base64value` pairs split by commas; a value may be absent.
pub(crate) fn parse_metadata(raw: &str) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once(' ') {
            Some((k, v)) => (k, v.trim()),
            None => (pair, ""),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| {
                AppError::invalid(key, "the Upload-Metadata value is not standard base64")
            })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| AppError::invalid(key, "the Upload-Metadata value is not UTF-8"))?;
        if out.insert(key.to_string(), text).is_some() {
            return Err(AppError::invalid(key, "Upload-Metadata names it twice"));
        }
    }
    Ok(out)
}

/// The creation request's metadata: `filename` (required; its last path component),
/// `folder` (a library path, default `/`) or `folder_uuid`, `filetype`.
fn new_upload(length: u64, raw: &str) -> Result<NewTus, AppError> {
    let meta = parse_metadata(raw)?;
    let filename = meta.get("filename").ok_or_else(|| {
        AppError::invalid(
            "filename",
            "Upload-Metadata must name the file: `filename <base64 name>`",
        )
    })?;
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let name = Name::parse("filename", base)?;
    let folder = match (meta.get("folder_uuid"), meta.get("folder")) {
        (Some(u), _) if !u.is_empty() => {
            let id = uuid::Uuid::try_parse(u.trim())
                .map_err(|_| AppError::invalid("folder_uuid", format!("'{u}' is not a uuid")))?;
            FolderRef::Uuid(id.to_string())
        }
        (_, Some(p)) => FolderRef::Path(FolderPath::parse("folder", p)?),
        _ => FolderRef::Path(FolderPath::parse("folder", "/")?),
    };
    Ok(NewTus {
        length,
        name,
        filetype: meta.get("filetype").filter(|t| !t.is_empty()).cloned(),
        folder,
        metadata: raw.to_string(),
        request: None,
    })
}

fn is_offset_stream(req: &HttpRequest) -> bool {
    header_str(req, "content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(OFFSET_TYPE))
}

fn checksum(req: &HttpRequest) -> Result<Option<Checksum>, AppError> {
    header_str(req, "upload-checksum")
        .map(Checksum::parse)
        .transpose()
}

/// `Upload-Expires`: an HTTP date (RFC 9110).
fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A chunk's `Upload-Checksum` and `Content-Length`, as sent.
pub(crate) type ChunkHeaders = (Option<Checksum>, Option<u64>);

/// What a creation request says: its length (413 over `limit`, before anything is stored) and
/// its first chunk, if it has one (creation-with-upload).
pub(crate) fn creation_args(
    req: &HttpRequest,
    limit: u64,
) -> Result<(u64, Option<ChunkHeaders>), AppError> {
    if header_str(req, "upload-length").is_none()
        && req.headers().contains_key("upload-defer-length")
    {
        return Err(AppError::invalid(
            "Upload-Length",
            "deferred lengths are not supported: send Upload-Length",
        ));
    }
    let length = u64_header(req, "Upload-Length")?
        .ok_or_else(|| AppError::invalid("Upload-Length", "send the file's size in bytes"))?;
    if length > limit {
        return Err(AppError::TooLarge { limit });
    }
    let first = if is_offset_stream(req) {
        Some((checksum(req)?, u64_header(req, "Content-Length")?))
    } else {
        None
    };
    Ok((length, first))
}

/// A PATCH's offset, checksum and declared length; 415 unless its body is an offset stream.
pub(crate) fn patch_args(
    req: &HttpRequest,
) -> Result<(u64, Option<Checksum>, Option<u64>), AppError> {
    if !is_offset_stream(req) {
        return Err(AppError::UnsupportedMediaType(format!(
            "A tus PATCH body is {OFFSET_TYPE}, not {}.",
            header_str(req, "content-type").unwrap_or("none")
        )));
    }
    let offset = u64_header(req, "Upload-Offset")?
        .ok_or_else(|| AppError::invalid("Upload-Offset", "send the offset the bytes start at"))?;
    Ok((offset, checksum(req)?, u64_header(req, "Content-Length")?))
}

/// The 201 of a creation, its upload at `location`.
pub(crate) fn created(location: String, s: &TusState) -> HttpResponse {
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, location));
    upload_headers(&mut b, s);
    b.finish()
}

/// The 200 of a HEAD: where the upload stands, never cached.
pub(crate) fn head_answer(s: &TusState) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    upload_headers(&mut b, s);
    b.insert_header(("Upload-Length", s.length.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if !s.metadata.is_empty() {
        b.insert_header(("Upload-Metadata", s.metadata.as_str()));
    }
    b.finish()
}

/// The 204 of a PATCH.
pub(crate) fn patched(s: &TusState) -> HttpResponse {
    let mut b = HttpResponse::NoContent();
    upload_headers(&mut b, s);
    b.finish()
}

/// The headers every answer about an upload carries.
fn upload_headers(b: &mut HttpResponseBuilder, s: &TusState) {
    b.insert_header(("Upload-Offset", s.offset.to_string()))
        .insert_header(("Upload-Expires", http_date(s.expires_at)));
    if let Some(uuid) = &s.file_uuid {
        b.insert_header((FILE_UUID, uuid.as_str()));
    }
}

/// Create an upload (tus creation, creation-with-upload)
#[utoipa::path(post, operation_id = "tusCreate", path = "/tus/", tag = "Resumable uploads (tus)",
    params(("Tus-Resumable" = String, Header, description = "1.0.0"),
           ("Upload-Length" = u64, Header, description = "the file's size in bytes, at most Tus-Max-Size"),
           ("Upload-Metadata" = String, Header, description = "`filename` (required), `folder` or `folder_uuid`, `filetype`; values base64"),
           ("Upload-Checksum" = Option<String>, Header, description = "`sha1|sha256 <base64>` of a body sent along")),
    request_body(content_type = "application/offset+octet-stream", description = "optional: the first bytes"),
    responses((status = 201, description = "Location: the upload's URL; Upload-Offset, Upload-Expires; Sharebox-File-Uuid once complete"),
              (status = 400), (status = 401), (status = 412), (status = 413)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: TusCaller,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (length, first) = creation_args(&req, state.tus.policy().max_bytes)?;
    let n = new_upload(length, header_str(&req, "upload-metadata").unwrap_or(""))?;
    let first = first.map(|(check, declared)| FirstChunk {
        check,
        declared,
        body: payload,
    });
    let s = state
        .tus
        .create(caller.org_id, n, first)
        .await
        .map_err(unavailable)?;
    Ok(created(
        format!("{}/tus/{}", state.config.base_url, s.id),
        &s,
    ))
}

/// Create an upload, as `POST /tus/` does
#[utoipa::path(post, operation_id = "tusCreateBare", path = "/tus", tag = "Resumable uploads (tus)",
    responses((status = 201, description = "as POST /tus/")),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn create_bare(
    req: HttpRequest,
    caller: TusCaller,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    create(req, caller, payload).await
}

/// Where an upload stands (tus core)
#[utoipa::path(head, operation_id = "tusHead", path = "/tus/{id}", tag = "Resumable uploads (tus)",
    params(("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 200, description = "Upload-Offset (bytes on disk), Upload-Length, Upload-Metadata, Upload-Expires; Sharebox-File-Uuid once complete"),
              (status = 404), (status = 410), (status = 412)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn head(
    req: HttpRequest,
    caller: TusCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let s = state
        .tus
        .head(caller.org_id, &id)
        .await
        .map_err(unavailable)?;
    Ok(head_answer(&s))
}

/// Send bytes at the upload's offset (tus core, checksum)
#[utoipa::path(patch, operation_id = "tusPatch", path = "/tus/{id}", tag = "Resumable uploads (tus)",
    params(("id" = String, Path), ("Tus-Resumable" = String, Header),
           ("Upload-Offset" = u64, Header, description = "must equal the upload's offset"),
           ("Upload-Checksum" = Option<String>, Header, description = "`sha1|sha256 <base64>` of this body")),
    request_body(content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Upload-Offset, Upload-Expires; Sharebox-File-Uuid when this completed the upload"),
              (status = 400), (status = 404), (status = 409, description = "OFFSET_MISMATCH"), (status = 410),
              (status = 412), (status = 415), (status = 460, description = "CHECKSUM_MISMATCH: the chunk was discarded")),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn patch(
    req: HttpRequest,
    caller: TusCaller,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (offset, check, declared) = patch_args(&req)?;
    let s = state
        .tus
        .patch(caller.org_id, &id, offset, check, declared, payload)
        .await
        .map_err(unavailable)?;
    Ok(patched(&s))
}

/// Terminate an upload: its bytes are gone (tus termination)
#[utoipa::path(delete, operation_id = "tusTerminate", path = "/tus/{id}", tag = "Resumable uploads (tus)",
    params(("id" = String, Path), ("Tus-Resumable" = String, Header)),
    responses((status = 204), (status = 404), (status = 410), (status = 412)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn terminate(
    req: HttpRequest,
    caller: TusCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    state
        .tus
        .terminate(caller.org_id, &id)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}

/// CORS and the protocol's headers on every tus answer, errors included; `OPTIONS` answers
/// 204 with what the server supports, before routing and without a credential.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut res = if req.method() == Method::OPTIONS {
        let max = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.tus.policy().max_bytes)
            .unwrap_or_default();
        let res = HttpResponse::build(StatusCode::NO_CONTENT)
            .insert_header(("Tus-Version", TUS_VERSION))
            .insert_header(("Tus-Extension", EXTENSIONS))
            .insert_header(("Tus-Max-Size", max.to_string()))
            .insert_header(("Tus-Checksum-Algorithm", CHECKSUM_ALGORITHMS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, CORS_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, CORS_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        req.into_response(res)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let h = res.headers_mut();
    h.insert(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSE),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs() {
        let m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(m["filename"], "world_domination_plan.pdf");
        assert_eq!(m["is_confidential"], "");
        assert!(parse_metadata("filename !!!").is_err());
        assert!(parse_metadata("a YQ==,a YQ==").is_err());
        let n = new_upload(3, "filename Li4vLi4veC50eHQ=,folder L2EvYg==").unwrap();
        assert_eq!(n.name.as_str(), "x.txt");
        assert!(matches!(n.folder, FolderRef::Path(_)));
        match new_upload(3, "folder L2EvYg==") {
            Err(AppError::InvalidField { field, .. }) => assert_eq!(field.to_string(), "filename"),
            other => panic!("{other:?}"),
        }
        match new_upload(3, "filename eA==,folder_uuid bm9wZQ==") {
            Err(AppError::InvalidField { field, .. }) => {
                assert_eq!(field.to_string(), "folder_uuid")
            }
            other => panic!("{other:?}"),
        }
    }
}
