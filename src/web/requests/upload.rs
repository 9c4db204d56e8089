//! The plain form of a file request (no script): `POST /r/{puid}/upload`, multipart, within
//! the same limits as tus; and `POST /r/{puid}/uploads/{file_uuid}/delete`, an uploader
//! removing their own file. Both need the uploader's cookie and its form token.

use super::{app_state, csrf_ok, gate_page, private, token};
use crate::api::filerobot::upload::{base_name, multipart_error, read_text, receive_file};
use crate::api::Params;
use crate::domain::requests::{sanitize_name, Uploader};
use crate::domain::types::{Email, Name};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::guard::{form_body, parse_form};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

/// What an uploader may leave besides files.
pub(super) struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub note: Option<String>,
}

/// Name, email and note an uploader may leave: trimmed, empty = none, capped.
pub(super) fn contact(
    name: Option<String>,
    email: Option<String>,
    note: Option<String>,
) -> Result<Contact, AppError> {
    let clean = |v: Option<String>, max: usize, field: &str| -> Result<Option<String>, AppError> {
        match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() > max => Err(AppError::invalid(
                field,
                format!("at most {max} characters"),
            )),
            other => Ok(other),
        }
    };
    let name = clean(name, 200, "name")?;
    let email = clean(email, 254, "email")?
        .map(|e| Email::parse("email", &e).map(|e| e.as_str().to_string()))
        .transpose()?;
    let note = clean(note, 2000, "note")?;
    Ok(Contact { name, email, note })
}

/// The uploader a write comes from: the request's state, then the cookie (401), then the form
/// token (403).
async fn writer(
    state: &AppState,
    req: &HttpRequest,
    puid: &str,
    sent_csrf: Option<&str>,
) -> Result<Result<Uploader, HttpResponse>, AppError> {
    let cookie = token(req);
    let r = match state.requests.open(puid).await {
        Ok(r) => r,
        Err(g) => return Ok(Err(gate_page(puid, &g, None)?)),
    };
    let u = state
        .requests
        .uploader_in(r, cookie.as_deref())
        .await
        .ok_or(AppError::Unauthenticated)?;
    if !csrf_ok(cookie.as_deref(), sent_csrf) {
        return Err(AppError::CsrfFailed);
    }
    Ok(Ok(u))
}

fn back(u: &Uploader, done: &str) -> HttpResponse {
    private(
        HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/r/{}/{}?done={done}", u.request.puid, u.request.slug),
            ))
            .finish(),
    )
}

/// `POST /r/{puid}/upload?csrf_token=`: files (any part with a filename) and the optional
/// `name`, `email` and `note` fields. Each file is checked against the request's type and size
/// limits as it arrives; the slots and totals are checked in the transaction that records
/// them, all or none.
pub async fn upload_form(
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let puid = path.into_inner();
    let u = match writer(&state, &req, &puid, params.get("csrf_token")).await? {
        Ok(u) => u,
        Err(page) => return Ok(page),
    };
    let limit = u
        .request
        .max_file_bytes
        .map_or(state.config.max_upload_bytes, |m| {
            (m.max(0) as u64).min(state.config.max_upload_bytes)
        });
    let mut multipart = Multipart::new(req.headers(), payload.into_inner());
    let (mut files, mut name, mut email, mut note) = (Vec::new(), None, None, None);
    // Files already streamed into a bucket are deleted before an error answers.
    let read = async {
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(multipart_error)?;
            let part = field.name().unwrap_or("").to_string();
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string);
            match (part.as_str(), filename.filter(|f| !f.is_empty())) {
                ("name", None) => name = Some(read_text(&mut field, "name").await?),
                ("email", None) => email = Some(read_text(&mut field, "email").await?),
                ("note", None) => note = Some(read_text(&mut field, "note").await?),
                (_, Some(filename)) => {
                    let clean = sanitize_name(base_name(&filename));
                    if !u.request.takes_extension(&clean) {
                        return Err(u.request.extension_refused(&clean));
                    }
                    let file_name = Name::parse("file", &clean)?;
                    files.push(receive_file(&mut field, &state, file_name, limit).await?);
                }
                _ => while field.next().await.is_some() {},
            }
        }
        if files.is_empty() {
            return Err(AppError::invalid(
                "file",
                "choose at least one file to send",
            ));
        }
        contact(name.take(), email.take(), note.take())
    }
    .await;
    let c = match read {
        Ok(c) => c,
        Err(e) => {
            state
                .blobs
                .discard(files.into_iter().map(|f| f.staged).collect())
                .await;
            return Err(e);
        }
    };
    state.requests.set_contact(&u, c.name, c.email).await?;
    state
        .requests
        .store_form(&state.assets, &u, files, c.note)
        .await?;
    Ok(back(&u, "sent"))
}

#[derive(Deserialize, Default)]
pub struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /r/{puid}/uploads/{file_uuid}/delete`: the uploader removes one of their own files,
/// while the request is open. Another uploader's file is a 404, as is an unknown one.
pub async fn remove(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = app_state(&req)?;
    let (puid, file) = path.into_inner();
    let body = form_body(&req, &mut payload.into_inner()).await?;
    let form: RemoveForm = parse_form(&body)?;
    let u = match writer(&state, &req, &puid, Some(&form.csrf_token)).await? {
        Ok(u) => u,
        Err(page) => return Ok(page),
    };
    state.requests.remove_own(&state.assets, &u, &file).await?;
    Ok(back(&u, "removed"))
}
