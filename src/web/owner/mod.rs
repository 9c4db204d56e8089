//! The owner's web UI: sign in, the library, uploads, shares. Every write carries the session's
//! CSRF token, checked by the extractor that reads it (`web::guard::CsrfForm`, `CsrfHeader`),
//! and calls the same services as the API.
//!
//! - `session`: the `WebUser` extractor, sign in and out (with the login form's own CSRF).
//! - `library`: the library page, folders, upload, rename, delete with its confirmation.
//! - `files`: the owner's own files, downloaded or previewed from the library.
//! - `share_form`: the new and edit share form, its DTO and its mapping to a `SharePatch`.
//! - `form_errors`: a form's field errors, all at once, each beside its field, in its words.
//! - `shares`: the shares list and its one-click actions.
//! - `activity`: a share's activity in plain words.
//! - `requests`: the file requests list, one in detail, revoke, restore, delete.
//! - `request_form`: the new file request form and its mapping to a `RequestPatch`.
//! - `account`: your password and the API keys you made.
//! - `admin`: the org's users and keys, for its admins.
//! - `password_link`: the page of a mailed set-password link.

pub mod account;
pub mod activity;
pub mod admin;
pub mod detail;
pub mod files;
pub mod form_errors;
pub mod library;
pub mod password_link;
pub mod request_form;
pub mod requests;
pub mod session;
pub mod share_form;
pub mod shares;
pub mod window_form;

use crate::error::AppError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    crate::api::state(req)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// The page that asks before a delete (works without script): `question`, a button posting
/// to `action`, and a way `back`.
#[derive(askama::Template)]
#[template(path = "app/confirm.html")]
struct Confirm {
    email: String,
    csrf: String,
    question: String,
    action: String,
    back: String,
}

fn confirm_page(
    user: &crate::domain::auth::WebUser,
    question: String,
    action: String,
    back: String,
) -> Result<HttpResponse, AppError> {
    crate::web::page(&Confirm {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        question,
        action,
        back,
    })
}

fn back_to(folder_uuid: &str) -> String {
    if folder_uuid.is_empty() {
        "/app".into()
    } else {
        format!("/app?folder_uuid={folder_uuid}")
    }
}
