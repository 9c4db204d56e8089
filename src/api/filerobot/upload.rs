//! `POST /{token}/v4/upload` and `POST /{token}/v4/files`: multipart (or base64) uploads into
//! the library, streamed to tmp/ and stored all or none. The owner UI's upload reads its
//! multipart body the same way.

use super::assets::{folder_param, FileDto};
use super::success;
use crate::api::{parse_json, read_body, state, Params};
use crate::blob::Staging;
use crate::domain::assets::{detect_type, Incoming};
use crate::domain::auth::Principal;
use crate::domain::library::File;
use crate::domain::types::{Name, Visibility};
use crate::error::AppError;
use crate::state::AppState;
use actix_multipart::{Field, Multipart};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UploadAnswer {
    pub status: &'static str,
    pub files: Vec<FileDto>,
    /// Present when the request made exactly one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileDto>,
}

/// Text fields are small: anything bigger is not what a client meant to send.
const FIELD_LIMIT: usize = 64 * 1024;

pub(crate) async fn read_text(field: &mut Field, name: &str) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        if buf.len() + chunk.len() > FIELD_LIMIT {
            return Err(AppError::invalid(
                name,
                format!("the field is longer than {FIELD_LIMIT} bytes"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| AppError::invalid(name, "the field is not UTF-8 text"))
}

pub(crate) fn multipart_error(e: actix_multipart::MultipartError) -> AppError {
    AppError::invalid("file", format!("the multipart body could not be read: {e}"))
}

pub(crate) async fn stream_into(field: &mut Field, staging: &mut Staging) -> Result<(), AppError> {
    while let Some(chunk) = field.next().await {
        staging.write(&chunk.map_err(multipart_error)?).await?;
    }
    Ok(())
}

/// A file part, streamed into the blob store as it arrives, with its type from its name or
/// its part's Content-Type.
pub(crate) async fn receive_file(
    field: &mut Field,
    state: &AppState,
    name: Name,
    limit: u64,
) -> Result<Incoming, AppError> {
    let part_type = field.content_type().map(|m| m.essence_str().to_string());
    let mut staging = state.blobs.stage(limit).await?;
    stream_into(field, &mut staging).await?;
    Ok(Incoming {
        mime: detect_type(name.as_str(), part_type.as_deref()),
        name,
        staged: staging.finish().await?,
    })
}

/// Standard base64, padding optional, whitespace ignored.
const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Decodes a `data` part into `staging` as it streams, four characters at a time.
async fn stream_base64(field: &mut Field, staging: &mut Staging) -> Result<(), AppError> {
    let bad =
        |e: base64::DecodeError| AppError::invalid("data", format!("not standard base64: {e}"));
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        pending.extend(chunk.iter().filter(|b| !b.is_ascii_whitespace()));
        let whole = pending.len() / 4 * 4;
        // Padding can only end the data: keep a group holding '=' for the final decode.
        let whole = if pending[..whole].contains(&b'=') {
            whole.saturating_sub(4)
        } else {
            whole
        };
        if whole > 0 {
            let decoded = B64.decode(&pending[..whole]).map_err(bad)?;
            staging.write(&decoded).await?;
            pending.drain(..whole);
        }
    }
    let decoded = B64.decode(&pending).map_err(bad)?;
    staging.write(&decoded).await?;
    Ok(())
}

/// The last path component of a client's file name (`../../x.txt` → `x.txt`).
pub(crate) fn base_name(filename: &str) -> &str {
    filename.rsplit(['/', '\\']).next().unwrap_or(filename)
}

/// Upload files (multipart parts, or base64 with `postactions=decode_base64`)
#[utoipa::path(post, operation_id = "upload", path = "/{token}/v4/upload", tag = "Filerobot assets",
    params(("token" = String, Path), ("folder" = Option<String>, Query, description = "folder path, default /; missing folders are created"),
           ("folder_uuid" = Option<String>, Query)),
    request_body(content_type = "multipart/form-data", description = "file parts (any part with a filename), `visibility`, or `postactions=decode_base64` with `data` and `name`"),
    responses((status = 200, body = UploadAnswer), (status = 400), (status = 413), (status = 415)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn upload(
    req: HttpRequest,
    p: Principal,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let folder = folder_param(&params)?;
    let files = receive_upload(&req, &state, payload).await?;
    let stored = state
        .assets
        .store_upload(p.org_id, folder, files.0, files.1)
        .await?;
    upload_answer(&stored, &state.config.base_url, &p.org_token)
}

/// The upload answer (v4 and the owner UI's): `files`, plus `file` when there is exactly one.
pub fn upload_answer(
    stored: &[File],
    base_url: &str,
    token: &str,
) -> Result<HttpResponse, AppError> {
    success(UploadAnswer {
        status: "success",
        files: stored
            .iter()
            .map(|f| FileDto::new(f, base_url, token))
            .collect(),
        file: match stored {
            [only] => Some(FileDto::new(only, base_url, token)),
            _ => None,
        },
    })
}

/// Upload files, as `POST /{token}/v4/upload` does
#[utoipa::path(post, operation_id = "uploadFiles", path = "/{token}/v4/files", tag = "Filerobot assets",
    params(("token" = String, Path), ("folder" = Option<String>, Query)),
    request_body(content_type = "multipart/form-data", description = "as POST /{token}/v4/upload"),
    responses((status = 200, body = UploadAnswer), (status = 400), (status = 413), (status = 415)),
    security(("filerobot_key" = []), ("api_key" = []), ("bearer" = [])))]
pub async fn upload_files(
    req: HttpRequest,
    p: Principal,
    params: Params,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    upload(req, p, params, payload).await
}

/// Reads an upload request's parts: files stream to tmp/ as they arrive; fields are read
/// whole. Returns the staged files and the visibility for all of them. Used by the owner UI too.
pub async fn receive_upload(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<(Vec<Incoming>, Visibility), AppError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime: Option<mime::Mime> = content_type.parse().ok();
    match mime.as_ref().map(|m| (m.type_(), m.subtype())) {
        Some((mime::MULTIPART, mime::FORM_DATA)) => {}
        _ if content_type.contains("json") => {
            let body = read_body(&mut payload.into_inner()).await?;
            let value: Option<serde_json::Value> = if body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(parse_json(&body)?)
            };
            if value
                .as_ref()
                .is_some_and(|v| v.get("files_urls").is_some())
            {
                return Err(AppError::Unsupported(
                    "files_urls is not offered: Sharebox never fetches URLs for a client, since a server that downloads any URL can be aimed at hosts only it reaches (SSRF). Upload the bytes as multipart/form-data.".into(),
                ));
            }
            return Err(AppError::invalid(
                "file",
                "the request has no file: send multipart/form-data with a file part",
            ));
        }
        _ => {
            return Err(AppError::UnsupportedMediaType(format!(
                "An upload is multipart/form-data, not {}.",
                if content_type.is_empty() {
                    "a body without Content-Type"
                } else {
                    content_type
                }
            )))
        }
    }
    let limit = state.config.max_upload_bytes;
    let mut multipart = Multipart::new(req.headers(), payload.into_inner());
    let mut files: Vec<Incoming> = Vec::new();
    let mut visibility = None;
    let mut postactions = None;
    let mut name = None;
    let mut data: Option<Result<crate::blob::Staged, AppError>> = None;
    // Files already streamed into a bucket are deleted before an error answers.
    let read = async {
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(multipart_error)?;
            let part_name = field.name().unwrap_or("").to_string();
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string);
            match part_name.as_str() {
                "visibility" => {
                    visibility = Some(Visibility::parse(
                        "visibility",
                        &read_text(&mut field, "visibility").await?,
                    )?)
                }
                "postactions" => postactions = Some(read_text(&mut field, "postactions").await?),
                "name" => name = Some(read_text(&mut field, "name").await?),
                "data" => {
                    let mut staging = state.blobs.stage(limit).await?;
                    // A bad `data` matters only with postactions=decode_base64, which may come later.
                    data = Some(match stream_base64(&mut field, &mut staging).await {
                        Ok(()) => staging.finish().await,
                        Err(e @ AppError::TooLarge { .. }) => return Err(e),
                        Err(e) => {
                            while field.next().await.is_some() {}
                            Err(e)
                        }
                    });
                }
                n if n.starts_with("meta[") || n == "meta" => while field.next().await.is_some() {},
                _ => match filename.as_deref().filter(|f| !f.is_empty()) {
                    Some(filename) => {
                        let file_name = Name::parse("file", base_name(filename))?;
                        files.push(receive_file(&mut field, state, file_name, limit).await?);
                    }
                    None => while field.next().await.is_some() {},
                },
            }
        }
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = read {
        let mut staged: Vec<_> = files.into_iter().map(|f| f.staged).collect();
        staged.extend(data.and_then(Result::ok));
        state.blobs.discard(staged).await;
        return Err(e);
    }
    if postactions.as_deref().map(str::trim) == Some("decode_base64") {
        let name = Name::parse("name", name.as_deref().unwrap_or(""))?;
        let staged =
            data.ok_or_else(|| AppError::invalid("data", "decode_base64 needs a `data` part"))??;
        files = vec![Incoming {
            mime: detect_type(name.as_str(), None),
            name,
            staged,
        }];
    }
    if files.is_empty() {
        return Err(AppError::invalid(
            "file",
            "the request has no file: send a multipart part with a filename",
        ));
    }
    Ok((files, visibility.unwrap_or(Visibility::Org)))
}
