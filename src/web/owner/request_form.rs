//! The new and edit file request form: `RequestForm` is what the browser posts,
//! `RequestForm::patch` its one mapping to the request service's `RequestPatch` (sizes typed
//! in MiB, kept in bytes).

use super::form_errors::{form_field, FormErrors};
use super::window_form::{local_input, window_times, WindowFields};
use super::{see_other, state};
use crate::api::Params;
use crate::domain::assets::FolderRef;
use crate::domain::auth::WebUser;
use crate::domain::paging::{Seek, PAGE_SIZE};
use crate::domain::requests::{Request, RequestPatch, LIST_MAX, MESSAGE_MAX, TITLE_MAX};
use crate::domain::shares::{TimeValue, SHARE_PASSWORD_MAX};
use crate::domain::types::{Email, FolderPath};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::guard::{last, CsrfForm};
use crate::web::page;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// The form's own bound on `max_files` (the service takes any positive number).
const MAX_FILES_MAX: i64 = 1_000_000;
/// 1 PiB in MiB: far above any disk, far below an i64 of bytes.
const MIB_MAX: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// The request form's values, as typed: re-shown as they were when something is wrong (never
/// the password).
#[derive(Default, Clone)]
struct RequestValues {
    title: String,
    message: String,
    folder_uuid: String,
    folder_path: String,
    starts_at: String,
    starts_tz: String,
    expires_in: String,
    expires_at: String,
    expires_tz: String,
    max_files: String,
    max_file_mib: String,
    max_total_mib: String,
    extensions: String,
    notify: bool,
    notify_emails: String,
}

#[derive(Template)]
#[template(path = "app/request_form.html")]
struct RequestFormPage {
    email: String,
    csrf: String,
    heading: String,
    /// Where the form posts: `/app/requests`, or the request's own URL to edit it.
    action: String,
    cancel: String,
    editing: bool,
    has_password: bool,
    v: RequestValues,
    /// (uuid, "/Clients/") of the library's top folders, the first page of them.
    folders: Vec<(String, String)>,
    more_folders: bool,
    zones: Vec<(&'static str, String)>,
    errors: HashMap<String, String>,
}

impl RequestFormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

async fn form_page(
    state: &AppState,
    user: &WebUser,
    v: RequestValues,
    editing: Option<&Request>,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let errors = errors.into_map();
    let top = state
        .assets
        .folder_page(
            user.org_id,
            FolderRef::Path(FolderPath::parse("folder", "/")?),
            Seek::First,
            None,
            PAGE_SIZE,
        )
        .await?;
    let folders = top
        .entries
        .folders
        .iter()
        .map(|e| (e.folder.uuid.clone(), format!("{}/", e.folder.path)))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut res = page(&RequestFormPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        heading: match editing {
            Some(r) => format!("Edit “{}”", r.title),
            None => "New file request".into(),
        },
        action: editing.map_or("/app/requests".into(), |r| {
            format!("/app/requests/{}", r.uuid)
        }),
        cancel: editing.map_or("/app/requests".into(), |r| {
            format!("/app/requests/{}", r.uuid)
        }),
        editing: editing.is_some(),
        has_password: editing.is_some_and(|r| r.password_protected),
        v,
        folders,
        more_folders: top.entries.has_next,
        zones: crate::domain::zones::choices(state.clock.now()),
        errors,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

/// The form as posted; a name that repeats gives its last value. `notify` is a checkbox:
/// absent when unticked.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestForm {
    #[serde(deserialize_with = "last")]
    title: String,
    #[serde(deserialize_with = "last")]
    message: String,
    #[serde(deserialize_with = "last")]
    folder_uuid: String,
    #[serde(deserialize_with = "last")]
    folder_path: String,
    #[serde(deserialize_with = "last")]
    starts_at: String,
    #[serde(deserialize_with = "last")]
    starts_tz: String,
    #[serde(deserialize_with = "last")]
    expires_in: String,
    #[serde(deserialize_with = "last")]
    expires_at: String,
    #[serde(deserialize_with = "last")]
    expires_tz: String,
    #[serde(deserialize_with = "last")]
    password: String,
    /// Editing: a checkbox, "1" to keep the current password when `password` is empty.
    #[serde(deserialize_with = "last")]
    keep_password: String,
    #[serde(deserialize_with = "last")]
    max_files: String,
    #[serde(deserialize_with = "last")]
    max_file_mib: String,
    #[serde(deserialize_with = "last")]
    max_total_mib: String,
    #[serde(deserialize_with = "last")]
    extensions: String,
    #[serde(deserialize_with = "last")]
    notify: String,
    #[serde(deserialize_with = "last")]
    notify_emails: String,
}

/// Entries of a list typed with commas, spaces or new lines between them.
fn entries(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// MiB as typed ("", "10", "0.5") in bytes; None for empty.
fn mib(errors: &mut FormErrors, field: &str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= MIB_MAX => {
            // At least one byte: a limit of 0 would take nothing.
            Some(((n * MIB).round() as i64).max(1))
        }
        _ => {
            errors.add(
                field,
                "A size in MiB above 0 (like 10 or 0.5), or empty for no limit.",
            );
            None
        }
    }
}

impl RequestForm {
    fn values(&self) -> RequestValues {
        RequestValues {
            title: self.title.clone(),
            message: self.message.clone(),
            folder_uuid: self.folder_uuid.clone(),
            folder_path: self.folder_path.clone(),
            starts_at: self.starts_at.clone(),
            starts_tz: self.starts_tz.clone(),
            expires_in: self.expires_in.clone(),
            expires_at: self.expires_at.clone(),
            expires_tz: self.expires_tz.clone(),
            max_files: self.max_files.clone(),
            max_file_mib: self.max_file_mib.clone(),
            max_total_mib: self.max_total_mib.clone(),
            extensions: self.extensions.clone(),
            notify: !self.notify.is_empty(),
            notify_emails: self.notify_emails.clone(),
        }
    }

    /// The form as a patch for the request service. Every field is read before anything is
    /// refused, so the page shows all of its errors at once, each beside its field. The folder
    /// path is resolved by the caller (it needs the library).
    fn patch(&self, editing: bool, now: DateTime<Utc>) -> Result<RequestPatch, FormErrors> {
        let mut errors = FormErrors::default();
        let title = self.title.trim();
        errors.check_title(title, "request", TITLE_MAX);
        let n = self.message.chars().count();
        if n > MESSAGE_MAX {
            errors.add(
                "message",
                format!("At most {MESSAGE_MAX} characters; this has {n}."),
            );
        }
        let (starts_at, expires_at) = window_times(
            &mut errors,
            now,
            &WindowFields {
                starts_at: &self.starts_at,
                starts_tz: &self.starts_tz,
                expires_at: &self.expires_at,
                expires_tz: &self.expires_tz,
                expires_in: &self.expires_in,
            },
        );
        if self.password.chars().count() > SHARE_PASSWORD_MAX {
            errors.add(
                "password",
                format!("A password has at most {SHARE_PASSWORD_MAX} characters."),
            );
        }
        let max = self.max_files.trim();
        let max_files = match max.parse::<i64>() {
            _ if max.is_empty() => None,
            Ok(n) if (1..=MAX_FILES_MAX).contains(&n) => Some(n),
            _ => {
                errors.add(
                    "max_files",
                    format!("A whole number from 1 to {MAX_FILES_MAX}, or empty for no limit."),
                );
                None
            }
        };
        let max_file_bytes = mib(&mut errors, "max_file_mib", &self.max_file_mib);
        let max_total_bytes = mib(&mut errors, "max_total_mib", &self.max_total_mib);
        let extensions = entries(&self.extensions);
        if extensions.len() > LIST_MAX {
            errors.add("extensions", format!("At most {LIST_MAX} extensions."));
        }
        for e in &extensions {
            let bare = e.trim_start_matches('.');
            if bare.is_empty()
                || bare.len() > 16
                || !bare.chars().all(|c| c.is_ascii_alphanumeric())
            {
                errors.add(
                    "extensions",
                    format!("'{e}' is not a file extension (like pdf or jpg)."),
                );
            }
        }
        let emails = entries(&self.notify_emails);
        if emails.len() > LIST_MAX {
            errors.add("notify_emails", format!("At most {LIST_MAX} addresses."));
        }
        for e in &emails {
            errors.take(Email::parse("notify_emails", e));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let zone = |raw: &str| (!raw.trim().is_empty()).then(|| raw.trim().to_string());
        let keep = editing && self.keep_password == "1" && self.password.is_empty();
        Ok(RequestPatch {
            title: Some(title.to_string()),
            message: Some(self.message.clone()),
            folder_uuid: Some(Some(self.folder_uuid.trim().to_string()).filter(|u| !u.is_empty())),
            starts_at: Some(starts_at.map(TimeValue::Instant)),
            expires_at: Some(expires_at.map(TimeValue::Instant)),
            starts_tz: Some(zone(&self.starts_tz)),
            expires_tz: Some(zone(&self.expires_tz)),
            password: (!keep).then(|| Some(self.password.clone()).filter(|p| !p.is_empty())),
            max_files: Some(max_files),
            max_file_bytes: Some(max_file_bytes),
            max_total_bytes: Some(max_total_bytes),
            extensions: Some(extensions),
            notify: Some(!self.notify.is_empty()),
            notify_emails: Some(emails),
            status: None,
        })
    }
}

/// A service's field error beside the form's field: sizes are typed in MiB here.
fn service_errors(e: &AppError) -> Option<FormErrors> {
    let AppError::InvalidField { field, message } = e else {
        return None;
    };
    let name = match form_field(field).as_str() {
        "max_file_bytes" => "max_file_mib".to_string(),
        "max_total_bytes" => "max_total_mib".to_string(),
        other => other.to_string(),
    };
    let mut errors = FormErrors::default();
    errors.add(&name, message.as_str());
    Some(errors)
}

/// `GET /app/requests/new?folder_uuid=`: notify is on by default; a folder the library page
/// sends along (its "Request files here") is filled in as its path, which reaches any depth.
pub async fn new_request(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let folder_path = match params.get("folder_uuid").filter(|u| !u.is_empty()) {
        // An unknown folder is left out: the form's default stands.
        Some(uuid) => state
            .assets
            .get_folder(user.org_id, FolderRef::Uuid(uuid.to_string()))
            .await
            .map(|f| f.path)
            .unwrap_or_default(),
        None => String::new(),
    };
    let v = RequestValues {
        notify: true,
        folder_path,
        ..Default::default()
    };
    form_page(&state, &user, v, None, FormErrors::default()).await
}

/// The form's patch with a typed folder path resolved (it wins over the list: it reaches
/// folders the list does not show), or the errors to show.
async fn form_patch(
    state: &AppState,
    user: &WebUser,
    form: &RequestForm,
    editing: bool,
) -> Result<RequestPatch, FormErrors> {
    let mut patch = form.patch(editing, state.clock.now())?;
    let path = form.folder_path.trim();
    if path.is_empty() {
        return Ok(patch);
    }
    let found = match FolderPath::parse("folder_path", path) {
        Ok(p) => {
            state
                .assets
                .get_folder(user.org_id, FolderRef::Path(p))
                .await
        }
        Err(e) => Err(e),
    };
    match found {
        Ok(f) => {
            patch.folder_uuid = Some(Some(f.uuid));
            Ok(patch)
        }
        Err(_) => {
            let mut errors = FormErrors::default();
            errors.add(
                "folder_path",
                format!("There is no folder '{path}' in the library (like /Clients/Acme)."),
            );
            Err(errors)
        }
    }
}

/// `POST /app/requests`: the form's errors all at once, or the new request's page.
pub async fn create_request(
    req: HttpRequest,
    post: CsrfForm<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let again = |errors: FormErrors| form_page(&state, &user, form.values(), None, errors);
    let patch = match form_patch(&state, &user, &form, false).await {
        Ok(p) => p,
        Err(errors) => return again(errors).await,
    };
    match state
        .requests
        .create(user.org_id, Some(user.user_id), patch)
        .await
    {
        Ok(r) => Ok(see_other(&format!("/app/requests/{}?done=created", r.uuid))),
        Err(e) => match service_errors(&e) {
            Some(errors) => again(errors).await,
            None => Err(e),
        },
    }
}

/// MiB for a form field: "10", "0.5", "" for no limit.
fn mib_text(bytes: Option<i64>) -> String {
    bytes.map_or_else(String::new, |b| {
        let m = b as f64 / MIB;
        let text = format!("{m:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    })
}

/// A request as the form shows it to edit. Its folder is given by path (it may be deep); a
/// deleted one is left empty, which means "a new /Requests/<title>" as on creation.
fn values_of(r: &Request, folder_path: String) -> RequestValues {
    RequestValues {
        title: r.title.clone(),
        message: r.message.clone(),
        folder_uuid: String::new(),
        folder_path,
        starts_at: local_input(r.starts_at, &r.starts_tz),
        starts_tz: r.starts_tz.clone(),
        expires_in: String::new(),
        expires_at: local_input(r.expires_at, &r.expires_tz),
        expires_tz: r.expires_tz.clone(),
        max_files: r.max_files.map(|n| n.to_string()).unwrap_or_default(),
        max_file_mib: mib_text(r.max_file_bytes),
        max_total_mib: mib_text(r.max_total_bytes),
        extensions: r.extensions.join(", "),
        notify: r.notify,
        notify_emails: r.notify_emails.join(", "),
    }
}

/// `GET /app/requests/{uuid}/edit`: the form, filled in with the request as it is.
pub async fn edit_request(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let r = state.requests.get(user.org_id, &path).await?;
    let folder_path = match &r.folder_uuid {
        Some(uuid) => state
            .assets
            .get_folder(user.org_id, FolderRef::Uuid(uuid.clone()))
            .await
            .map(|f| f.path)
            .unwrap_or_default(),
        None => String::new(),
    };
    form_page(
        &state,
        &user,
        values_of(&r, folder_path),
        Some(&r),
        FormErrors::default(),
    )
    .await
}

/// `POST /app/requests/{uuid}`: saves the form, or shows its errors all at once.
pub async fn update_request(
    req: HttpRequest,
    path: web::Path<String>,
    post: CsrfForm<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let current = state.requests.get(user.org_id, &path).await?;
    let again =
        |errors: FormErrors| form_page(&state, &user, form.values(), Some(&current), errors);
    let patch = match form_patch(&state, &user, &form, true).await {
        Ok(p) => p,
        Err(errors) => return again(errors).await,
    };
    match state.requests.update(user.org_id, &path, patch).await {
        Ok(r) => Ok(see_other(&format!("/app/requests/{}?done=updated", r.uuid))),
        Err(e) => match service_errors(&e) {
            Some(errors) => again(errors).await,
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::guard::parse_form;

    #[test]
    fn the_form_reads_sizes_in_mib_and_lists_with_commas() {
        let body = "title=Invoices&max_file_mib=1.5&max_total_mib=10&max_files=3\
                    &extensions=pdf%2C+.JPG&notify=1&notify_emails=a%40x.test%2Cb%40x.test";
        let form: RequestForm = parse_form(body.as_bytes()).unwrap();
        let p = form.patch(false, Utc::now()).unwrap();
        assert_eq!(p.max_file_bytes, Some(Some(1_572_864)));
        assert_eq!(p.max_total_bytes, Some(Some(10_485_760)));
        assert_eq!(p.max_files, Some(Some(3)));
        assert_eq!(p.extensions.unwrap(), ["pdf", ".JPG"]);
        assert_eq!(p.notify, Some(true));
        assert_eq!(p.notify_emails.unwrap().len(), 2);
        assert_eq!(p.folder_uuid, Some(None));
        assert_eq!(p.password, Some(None));

        let bad: RequestForm =
            parse_form(b"title=&max_file_mib=-1&max_files=x&extensions=p-d-f&notify_emails=nope")
                .unwrap();
        let map = bad.patch(false, Utc::now()).unwrap_err().into_map();
        for field in [
            "title",
            "max_file_mib",
            "max_files",
            "extensions",
            "notify_emails",
        ] {
            assert!(map.contains_key(field), "{field}: {map:?}");
        }
        assert!(!bad.values().notify, "an unticked box is off");
    }
}
