//! The owner's web UI: sign in, the library, uploads, shares. Every write carries the session's
//! CSRF token and calls the same services as the API.
//!
//! - `session`: the `WebUser` extractor, sign in and out (with the login form's own CSRF).
//! - `library`: the library page, folders, upload, rename, delete with its confirmation.
//! - `share_form`: the new and edit share form and its mapping to a `SharePatch`.
//! - `shares`: the shares list, its one-click actions and a share's activity.

pub mod library;
pub mod session;
pub mod share_form;
pub mod shares;

use crate::domain::auth::{self, WebUser};
use crate::domain::library::{Order, OrderField, Page};
use crate::error::AppError;
use crate::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    crate::api::state(req)
}

/// The form fields of a POST as name -> values (names may repeat).
pub struct FormFields(HashMap<String, Vec<String>>);

impl FormFields {
    fn parse(body: &[u8]) -> Result<FormFields, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| AppError::invalid("form", format!("the form could not be read: {e}")))?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Ok(FormFields(map))
    }
    pub fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
            .unwrap_or("")
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

impl FromRequest for FormFields {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<FormFields, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Box::pin(async move {
            if !ct.starts_with("application/x-www-form-urlencoded") {
                return Err(AppError::UnsupportedMediaType(format!(
                    "A form is application/x-www-form-urlencoded, not {ct}."
                )));
            }
            let body = crate::api::read_body(&mut payload).await?;
            FormFields::parse(&body)
        })
    }
}

/// Refuses a write whose CSRF token is missing or not this session's: nothing changes.
fn check_csrf(user: &WebUser, token: Option<&str>) -> Result<(), AppError> {
    if auth::csrf_ok(user, token) {
        Ok(())
    } else {
        Err(AppError::CsrfFailed)
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

const ALL: Page = Page {
    limit: -1,
    offset: 0,
};
const BY_NAME: Order = Order {
    field: OrderField::Name,
    desc: false,
};

fn back_to(folder_uuid: &str) -> String {
    if folder_uuid.is_empty() {
        "/app".into()
    } else {
        format!("/app?folder_uuid={folder_uuid}")
    }
}
