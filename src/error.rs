//! One error type for the whole program: each variant has one status and one UPPER_SNAKE code,
//! rendered per route family (Filerobot JSON, Nomad problem+json, HTML page) by `render_errors`,
//! the middleware that sees every response, so handlers and extractors just return `AppError`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde_json::json;

/// Which envelope a response gets, decided by the request path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/{token}/v4/...`, `/{token}/v5/...`, the share link, `/healthz`, `/openapi.json`.
    Filerobot,
    /// `/api/...`
    Nomad,
    /// Pages: `/`, `/s/...`, `/login`, `/app/...`, `/static/...`.
    Html,
}

/// First path segments that belong to pages, never to the share link's `/{company}/{token}/{puid}`.
const PAGE_PREFIXES: &[&str] = &["s", "r", "app", "static", "login", "logout"];

impl Family {
    pub fn of_path(path: &str) -> Family {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segs.as_slice() {
            ["api", ..] => Family::Nomad,
            [_, "v4" | "v5", ..] => Family::Filerobot,
            ["healthz"] | ["openapi.json"] => Family::Filerobot,
            // tus answers errors in Filerobot's envelope (API.md, Resumable uploads).
            ["tus", ..] => Family::Filerobot,
            ["r", _, "tus", ..] => Family::Filerobot,
            [first, _, _] if !PAGE_PREFIXES.contains(first) => Family::Filerobot,
            _ => Family::Html,
        }
    }

    pub fn is_api(self) -> bool {
        self != Family::Html
    }
}

/// The field a 400 names. An adapter names its own fields (`Named`: a JSON path such as
/// `items[0].identifiers[1]`, a parameter, a form field); the share service names the fields of
/// a share in no dialect (the other variants), and each adapter maps those to its own words in
/// one table, with `AppError::name_fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Named(String),
    Title,
    Description,
    Items,
    StartsAt,
    ExpiresAt,
    StartsTz,
    ExpiresTz,
    Password,
    MaxDownloads,
    Users,
    Recipients,
    Message,
    Status,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::Named(name) => name,
            Field::Title => "title",
            Field::Description => "description",
            Field::Items => "items",
            Field::StartsAt => "starts_at",
            Field::ExpiresAt => "expires_at",
            Field::StartsTz => "starts_tz",
            Field::ExpiresTz => "expires_tz",
            Field::Password => "password",
            Field::MaxDownloads => "max_downloads",
            Field::Users => "users",
            Field::Recipients => "recipients",
            Field::Message => "message",
            Field::Status => "status",
        })
    }
}

impl From<&str> for Field {
    fn from(name: &str) -> Field {
        Field::Named(name.to_string())
    }
}

impl From<String> for Field {
    fn from(name: String) -> Field {
        Field::Named(name)
    }
}

impl From<&String> for Field {
    fn from(name: &String) -> Field {
        Field::Named(name.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    MalformedJson(String),
    #[error("{field}: {message}")]
    InvalidField { field: Field, message: String },
    #[error("{0}")]
    Unsupported(String),
    /// Folder rename onto a taken name.
    #[error("{0}")]
    FolderExistsRename(String),
    /// Folder create on an existing path.
    #[error("{0}")]
    FolderExistsCreate(String),
    #[error("No credential was sent.")]
    Unauthenticated,
    #[error("The API key is not valid.")]
    InvalidKey,
    #[error("The access token is unknown or was revoked.")]
    InvalidToken,
    /// A bad refresh token: 401 in every family (a 403 would tell Nomad clients to refresh).
    #[error("The refresh token is unknown, expired or was revoked; log in again.")]
    InvalidRefreshToken,
    #[error("The access token has expired.")]
    KeyExpired,
    #[error("The email or password is wrong.")]
    InvalidCredentials,
    #[error("This share needs a password.")]
    PasswordRequired,
    #[error("The password is wrong.")]
    WrongPassword,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotStarted(String),
    #[error("This share allows viewing only, not downloading.")]
    DownloadNotPermitted,
    #[error("{0}")]
    NotFound(String),
    #[error("This path does not accept the {0} method.")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NameExists(String),
    #[error("{0}")]
    FolderNotEmpty(String),
    #[error("{0}")]
    UploadIncomplete(String),
    #[error("{0}")]
    ShareExpired(String),
    #[error("The file is larger than the limit of {limit} bytes.")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// tus: `Upload-Offset` is not where the upload stands.
    #[error("{0}")]
    OffsetMismatch(String),
    /// tus: `Tus-Resumable` missing or not `1.0.0`.
    #[error("Send `Tus-Resumable: 1.0.0`: this server speaks tus 1.0.0 only.")]
    TusVersion,
    /// tus: the chunk's `Upload-Checksum` does not match its bytes; the chunk was discarded.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// tus: an upload past its expiry.
    #[error("{0}")]
    UploadExpired(String),
    /// A file request has no file slot left for a new upload.
    #[error("{0}")]
    RequestFull(String),
    #[error("The range is outside the file of {size} bytes.")]
    RangeNotSatisfiable { size: u64 },
    #[error("Too many failed attempts; try again in {retry_after} seconds.")]
    TooManyAttempts { retry_after: u64 },
    /// A page of the owner UI without a session: answered as a 303 to `login_url`, the sign-in
    /// page with the way back (the web adapter builds it).
    #[error("Sign in to continue.")]
    LoginRequired { login_url: String },
    /// A form without the session's CSRF token.
    #[error(
        "This form has expired or did not come from this site; reload the page and try again."
    )]
    CsrfFailed,
    /// A dependency (the database, the disk) is down: 503, with a reason the operator can act on.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an I/O failure. The cause goes to the log, never to the client.
    #[error("internal error")]
    Internal(String),
}

/// `Retry-After` of a 503 `UNAVAILABLE`: a store or disk that is down is retried this soon.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl AppError {
    pub fn invalid(field: impl Into<Field>, message: impl Into<String>) -> Self {
        AppError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An adapter's names for the domain's fields: `name` maps a field to the adapter's word
    /// for it (None keeps it as it is).
    pub fn name_fields(self, name: impl Fn(&Field) -> Option<String>) -> AppError {
        match self {
            AppError::InvalidField { field, message } => AppError::InvalidField {
                field: name(&field).map_or(field, Field::Named),
                message,
            },
            other => other,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        AppError::NotFound(format!("{what} was not found."))
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// The one table: variant -> code.
    pub fn code(&self) -> &'static str {
        use AppError::*;
        match self {
            MalformedJson(_) => "MALFORMED_JSON",
            InvalidField { .. } => "INVALID_FIELD",
            Unsupported(_) => "UNSUPPORTED",
            FolderExistsRename(_) | FolderExistsCreate(_) => "FOLDER_EXISTS",
            Unauthenticated => "UNAUTHENTICATED",
            InvalidKey => "INVALID_KEY",
            InvalidToken | InvalidRefreshToken => "INVALID_TOKEN",
            KeyExpired => "KEY_EXPIRED",
            InvalidCredentials => "INVALID_CREDENTIALS",
            PasswordRequired => "PASSWORD_REQUIRED",
            WrongPassword => "WRONG_PASSWORD",
            Forbidden(_) => "FORBIDDEN",
            NotStarted(_) => "NOT_STARTED",
            DownloadNotPermitted => "DOWNLOAD_NOT_PERMITTED",
            NotFound(_) => "NOT_FOUND",
            MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            NameExists(_) => "NAME_EXISTS",
            FolderNotEmpty(_) => "FOLDER_NOT_EMPTY",
            UploadIncomplete(_) => "UPLOAD_INCOMPLETE",
            ShareExpired(_) => "SHARE_EXPIRED",
            TooLarge { .. } => "TOO_LARGE",
            UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            OffsetMismatch(_) => "OFFSET_MISMATCH",
            TusVersion => "TUS_VERSION",
            ChecksumMismatch(_) => "CHECKSUM_MISMATCH",
            UploadExpired(_) => "UPLOAD_EXPIRED",
            RequestFull(_) => "REQUEST_FULL",
            RangeNotSatisfiable { .. } => "RANGE_NOT_SATISFIABLE",
            TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            Unavailable(_) => "UNAVAILABLE",
            Internal(_) => "INTERNAL",
            LoginRequired { .. } => "LOGIN_REQUIRED",
            CsrfFailed => "FORBIDDEN",
        }
    }

    /// The one table: variant -> status. On `/api` a token problem is a 403, which Nomad's
    /// clients read as "refresh your access token".
    pub fn status(&self, family: Family) -> StatusCode {
        use AppError::*;
        match self {
            MalformedJson(_) | InvalidField { .. } | Unsupported(_) | FolderExistsRename(_) => {
                StatusCode::BAD_REQUEST
            }
            InvalidToken | KeyExpired if family == Family::Nomad => StatusCode::FORBIDDEN,
            Unauthenticated | InvalidKey | InvalidToken | InvalidRefreshToken | KeyExpired
            | InvalidCredentials | PasswordRequired | WrongPassword => StatusCode::UNAUTHORIZED,
            LoginRequired { .. } => StatusCode::SEE_OTHER,
            FolderExistsCreate(_)
            | Forbidden(_)
            | NotStarted(_)
            | DownloadNotPermitted
            | CsrfFailed => StatusCode::FORBIDDEN,
            NotFound(_) => StatusCode::NOT_FOUND,
            MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            NameExists(_) | FolderNotEmpty(_) | UploadIncomplete(_) | OffsetMismatch(_)
            | RequestFull(_) => StatusCode::CONFLICT,
            ShareExpired(_) | UploadExpired(_) => StatusCode::GONE,
            TusVersion => StatusCode::PRECONDITION_FAILED,
            // tus's own status for a checksum mismatch (the checksum extension).
            ChecksumMismatch(_) => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: never anything internal.
    pub fn message(&self) -> String {
        match self {
            AppError::Internal(_) => {
                "Something went wrong on the server; the log has the details.".into()
            }
            other => other.to_string(),
        }
    }

    fn hint(&self) -> Option<&'static str> {
        use AppError::*;
        match self {
            Unauthenticated | InvalidKey => Some(
                "Send an org API key as X-Filerobot-Key or Authorization: ApiKey <key>, \
                 or a Bearer token from POST /api/account/login.",
            ),
            InvalidToken | KeyExpired | InvalidRefreshToken => {
                Some("Get a new access token with POST /api/account/refresh-token or log in again.")
            }
            MalformedJson(_) => Some("Send a JSON object as the body."),
            UnsupportedMediaType(_) => Some("Send the body as Content-Type: application/json."),
            _ => None,
        }
    }

    /// Renders this error in `family`'s envelope. `path` is the request path (problem+json
    /// `instance`).
    pub fn render(&self, family: Family, path: &str) -> HttpResponse {
        let status = self.status(family);
        if let AppError::LoginRequired { login_url } = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login_url.as_str()))
                .finish();
        }
        let mut res = match family {
            Family::Filerobot => {
                let mut body =
                    json!({"status": "error", "code": self.code(), "msg": self.message()});
                if let Some(h) = self.hint() {
                    body["hint"] = h.into();
                }
                HttpResponse::build(status).json(body)
            }
            Family::Nomad => {
                let mut body = json!({
                    "type": format!("urn:sharebox:error:{}", self.code()),
                    "title": status.canonical_reason().unwrap_or("Error"),
                    "status": status.as_u16(),
                    "detail": self.message(),
                    "instance": path,
                    "code": self.code(),
                });
                if let AppError::InvalidField { field, message } = self {
                    body["errors"] = json!({ field.to_string(): [message] });
                }
                HttpResponse::build(status)
                    .content_type("application/problem+json")
                    .body(body.to_string())
            }
            Family::Html => {
                let page = ErrorPage {
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("Error"),
                    message: self.message(),
                };
                match page.render() {
                    Ok(html) => HttpResponse::build(status)
                        .content_type("text/html; charset=utf-8")
                        .body(html),
                    Err(e) => {
                        tracing::error!(error = %e, "error page template failed");
                        HttpResponse::build(status)
                            .content_type("text/plain; charset=utf-8")
                            .body(self.message())
                    }
                }
            }
        };
        let headers = res.headers_mut();
        match self {
            AppError::TooManyAttempts { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            // API.md: a dependency that is down says when to come back.
            AppError::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECS),
                );
            }
            AppError::TusVersion => {
                headers.insert(
                    header::HeaderName::from_static("tus-version"),
                    HeaderValue::from_static("1.0.0"),
                );
            }
            AppError::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        res
    }

    /// Maps a response actix made on its own (a resource's 405, a payload error) into ours.
    fn from_actix(status: StatusCode, method: &str, cause: &str) -> AppError {
        match status {
            StatusCode::NOT_FOUND => AppError::not_found("This route"),
            StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed(method.to_string()),
            StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge { limit: 0 },
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                AppError::UnsupportedMediaType(format!("Unsupported content type: {cause}"))
            }
            s if s.is_client_error() => AppError::MalformedJson(format!("Bad request: {cause}")),
            _ => AppError::Internal(cause.to_string()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status(Family::Filerobot)
    }
    // The final envelope is chosen by `render_errors`, which knows the path.
    fn error_response(&self) -> HttpResponse {
        self.render(Family::Filerobot, "")
    }
}

impl From<r2d2_sqlite::rusqlite::Error> for AppError {
    fn from(e: r2d2_sqlite::rusqlite::Error) -> Self {
        AppError::Internal(format!("sqlite: {e}"))
    }
}
impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Internal(format!("pool: {e}"))
    }
}
impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(format!("io: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    reason: &'static str,
    message: String,
}

/// Middleware over the whole app: every error, ours or actix's, leaves in its family's envelope.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_string();
    let method = req.method().to_string();
    let family = Family::of_path(&path);
    // Cloning the request before routing would break actix's path matching, so an error
    // returned (not rendered) by the inner service keeps actix's own rendering: ResponseError
    // above, Filerobot's envelope. Handlers and extractors never take that path.
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let replacement = match res.response().error() {
        Some(err) => match err.as_error::<AppError>() {
            Some(app) => Some(app.render(family, &path)),
            None => {
                Some(AppError::from_actix(status, &method, &err.to_string()).render(family, &path))
            }
        },
        // Resources answer a wrong method with a bare 405 that carries no error.
        None if status == StatusCode::METHOD_NOT_ALLOWED => {
            Some(AppError::MethodNotAllowed(method.clone()).render(family, &path))
        }
        None => None,
    };
    let Some(new) = replacement else {
        return Ok(res);
    };
    if new.status().is_server_error() {
        if let Some(AppError::Internal(cause)) = res
            .response()
            .error()
            .and_then(|e| e.as_error::<AppError>())
        {
            tracing::error!(%method, %path, %cause, "internal error");
        } else if let Some(e) = res.response().error() {
            tracing::error!(%method, %path, cause = %e, "internal error");
        }
    }
    let (req, old) = res.into_parts();
    let mut new = new;
    // Keep headers set outside the error (CORS, Allow) unless the new response has its own.
    for (name, value) in old.headers() {
        if !new.headers().contains_key(name)
            && name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
        {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new))
}
