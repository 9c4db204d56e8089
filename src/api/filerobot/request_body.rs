//! The body of `POST /{token}/v5/requests` and `PUT /{token}/v5/requests/{uuid}`: a serde DTO
//! and its one mapping to a `RequestPatch`. Fields of the wrong kind are the 400 every dialect
//! gives, named by their JSON path; the domain refuses values of the right kind but wrong.

use super::kinds::{flag, integer_or_null, string, string_or_null, List};
use super::share_body::ShareBodyAuth;
use crate::api::wire::Patch;
use crate::domain::requests::RequestPatch;
use crate::domain::shares::{StatusChange, TimeValue};
use crate::error::AppError;
use serde::Deserialize;
use utoipa::ToSchema;

/// A file request as `POST` creates it or `PUT` changes it: on update, present fields replace
/// and absent ones stay. Other fields are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RequestBody {
    /// 1 to 255 characters; required on create.
    #[serde(default, deserialize_with = "string")]
    #[schema(value_type = String)]
    title: Option<String>,
    /// Shown on the request's page; null = "".
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    message: Patch<String>,
    /// Where files land; default (and null on create): a new folder `/Requests/<title>`.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    folder_uuid: Patch<String>,
    /// As a share's: with an offset or `Z` that instant, else wall time in `starts_tz`.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    starts_at: Patch<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    expires_at: Patch<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>, example = "Europe/Sofia")]
    starts_tz: Patch<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>, example = "Europe/Sofia")]
    expires_tz: Patch<String>,
    /// `{"pass"}`: the password uploaders give; null or an empty `pass` = none.
    #[serde(default)]
    #[schema(value_type = Option<ShareBodyAuth>)]
    auth: Patch<ShareBodyAuth>,
    /// Positive integers; null = no limit.
    #[serde(default, deserialize_with = "integer_or_null")]
    #[schema(value_type = Option<i64>)]
    max_files: Patch<i64>,
    #[serde(default, deserialize_with = "integer_or_null")]
    #[schema(value_type = Option<i64>)]
    max_file_bytes: Patch<i64>,
    #[serde(default, deserialize_with = "integer_or_null")]
    #[schema(value_type = Option<i64>)]
    max_total_bytes: Patch<i64>,
    /// Extensions taken, like `["pdf","jpg"]`; null or `[]` = any.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    extensions: Patch<List<String>>,
    /// Mail about new files (default true); null leaves it.
    #[serde(default, deserialize_with = "flag")]
    notify: Option<bool>,
    /// Who is mailed; null or `[]` = the user who made the request (the org's admins for one
    /// made with an API key).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    notify_emails: Patch<List<String>>,
}

/// A list field: absent leaves it, null empties it.
fn listed<T>(list: Patch<List<T>>) -> Option<Vec<T>> {
    list.into_option()
        .map(|l| l.map_or_else(Vec::new, |List(v)| v))
}

impl RequestBody {
    pub fn into_patch(self) -> Result<RequestPatch, AppError> {
        let time = |t: Patch<String>| t.into_option().map(|v| v.map(TimeValue::Raw));
        Ok(RequestPatch {
            title: self.title,
            message: self.message.into_option().map(Option::unwrap_or_default),
            folder_uuid: self.folder_uuid.into_option(),
            starts_at: time(self.starts_at),
            expires_at: time(self.expires_at),
            starts_tz: self.starts_tz.into_option(),
            expires_tz: self.expires_tz.into_option(),
            password: self
                .auth
                .into_option()
                .map(|a| a.and_then(ShareBodyAuth::pass)),
            max_files: self.max_files.into_option(),
            max_file_bytes: self.max_file_bytes.into_option(),
            max_total_bytes: self.max_total_bytes.into_option(),
            extensions: listed(self.extensions),
            notify: self.notify,
            notify_emails: listed(self.notify_emails),
            status: None::<StatusChange>,
        })
    }
}
