//! The new and edit share form: `ShareForm` is what the browser posts, `ShareForm::patch` its
//! one mapping to the share service's `SharePatch`, and `form_field` puts each field error
//! beside its field.

use super::form_errors::FormErrors;
use super::window_form::{local_input, window_times, WindowFields};
use super::{see_other, state};
use crate::domain::assets::FolderRef;
use crate::domain::auth::WebUser;
use crate::domain::library::{File, Folder};
use crate::domain::paging::{Seek, PAGE_SIZE};
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, Share, SharePatch, TimeValue, UserSpec,
    MAX_DOWNLOADS_MAX, RECIPIENTS_MAX, SHARE_PASSWORD_MAX, TEXT_MAX, TITLE_MAX,
};
use crate::domain::types::{Email, FolderPath, FolderVisibility};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::guard::{last, parse_form, CsrfForm};
use crate::web::{page, size_label};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// The share form's values, as typed: re-shown as they were when something is wrong.
#[derive(Default, Clone)]
struct ShareValues {
    title: String,
    description: String,
    items: Vec<String>,
    recursive: Vec<String>,
    visibility: HashMap<String, String>,
    starts_at: String,
    starts_tz: String,
    expires_at: String,
    expires_tz: String,
    /// A preset (`1d`, `7d`, `30d`) or "" (the date field; empty: never).
    expires_in: String,
    permissions: String,
    max_downloads: String,
    access: String,
    users: String,
    recipients: String,
    message: String,
}

struct Pick {
    value: String,
    label: String,
    folder: bool,
    uuid: String,
    checked: bool,
    recursive: bool,
    visibility: String,
}

#[derive(Template)]
#[template(path = "app/share_form.html")]
struct ShareFormPage {
    email: String,
    csrf: String,
    heading: String,
    action: String,
    v: ShareValues,
    picks: Vec<Pick>,
    /// The library's top has more than the form lists.
    more_picks: bool,
    /// The zones offered (name, "UTC+02:00 Europe/Sofia"), by offset.
    zones: Vec<(&'static str, String)>,
    errors: HashMap<String, String>,
    editing: bool,
    has_password: bool,
}

impl ShareFormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

/// What the form offers to tick: the items already chosen (wherever they sit), then the top of
/// the library (its first page). Never the whole library: a deeper item is chosen in the
/// Library ("Share selected…"), which opens this form with it.
async fn library_picks(
    state: &AppState,
    org_id: i64,
    v: &ShareValues,
) -> Result<(Vec<Pick>, bool), AppError> {
    let folder_pick = |f: &Folder| {
        let value = format!("folder:{}", f.uuid);
        Pick {
            checked: v.items.contains(&value),
            recursive: v.recursive.contains(&f.uuid),
            visibility: v
                .visibility
                .get(&f.uuid)
                .cloned()
                .unwrap_or_else(|| "PUB,ORG".into()),
            label: format!("{}/", f.path),
            folder: true,
            uuid: f.uuid.clone(),
            value,
        }
    };
    let file_pick = |f: &File| {
        let value = format!("file:{}", f.uuid);
        Pick {
            checked: v.items.contains(&value),
            recursive: false,
            visibility: String::new(),
            label: format!("{} ({})", f.path(), size_label(f.size.max(0) as u64)),
            folder: false,
            uuid: f.uuid.clone(),
            value,
        }
    };
    let mut picks = Vec::new();
    for item in &v.items {
        // Items that are gone (or were never the org's) are left out; the form's check says so.
        let pick = match item.split_once(':') {
            Some(("folder", uuid)) => state
                .assets
                .get_folder(org_id, FolderRef::Uuid(uuid.to_string()))
                .await
                .ok()
                .map(|f| folder_pick(&f)),
            Some(("file", uuid)) => state
                .assets
                .get_file(org_id, uuid.to_string())
                .await
                .ok()
                .map(|f| file_pick(&f)),
            _ => None,
        };
        if let Some(p) = pick.filter(|p| !picks.iter().any(|q: &Pick| q.value == p.value)) {
            picks.push(p);
        }
    }
    let top = state
        .assets
        .folder_page(
            org_id,
            FolderRef::Path(FolderPath::parse("folder", "/")?),
            Seek::First,
            None,
            PAGE_SIZE,
        )
        .await?;
    let more = top.entries.has_next;
    let listed = top
        .entries
        .folders
        .iter()
        .map(|e| folder_pick(&e.folder))
        .chain(top.entries.files.iter().map(file_pick));
    for p in listed {
        if !picks.iter().any(|q| q.value == p.value) {
            picks.push(p);
        }
    }
    Ok((picks, more))
}

async fn share_form_page(
    state: &AppState,
    user: &WebUser,
    v: ShareValues,
    editing: Option<&Share>,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let errors = errors.into_map();
    let (picks, more_picks) = library_picks(state, user.org_id, &v).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let pg = ShareFormPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        heading: if editing.is_some() {
            "Edit share".into()
        } else {
            "New share".into()
        },
        action: editing.map_or("/app/shares".into(), |s| format!("/app/shares/{}", s.uuid)),
        has_password: editing.is_some_and(Share::password_protected),
        editing: editing.is_some(),
        v,
        picks,
        more_picks,
        zones: crate::domain::zones::choices(state.clock.now()),
        errors,
    };
    let mut res = page(&pg)?;
    *res.status_mut() = status;
    Ok(res)
}

/// The share form as posted, each field as typed: `item` (`file:<uuid>` or `folder:<uuid>`)
/// and `recursive` (a folder's uuid) once per ticked box, and one `visibility_<folder uuid>`
/// select per folder, read by name from `by_name`. A name that repeats where one value is
/// expected gives its last value.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShareForm {
    #[serde(deserialize_with = "last")]
    title: String,
    #[serde(deserialize_with = "last")]
    description: String,
    item: Vec<String>,
    recursive: Vec<String>,
    #[serde(deserialize_with = "last")]
    starts_at: String,
    #[serde(deserialize_with = "last")]
    starts_tz: String,
    #[serde(deserialize_with = "last")]
    expires_at: String,
    #[serde(deserialize_with = "last")]
    expires_tz: String,
    #[serde(deserialize_with = "last")]
    expires_in: String,
    #[serde(deserialize_with = "last")]
    password: String,
    #[serde(deserialize_with = "last")]
    keep_password: String,
    #[serde(deserialize_with = "last")]
    permissions: String,
    #[serde(deserialize_with = "last")]
    max_downloads: String,
    #[serde(deserialize_with = "last")]
    access: String,
    #[serde(deserialize_with = "last")]
    users: String,
    #[serde(deserialize_with = "last")]
    recipients: String,
    #[serde(deserialize_with = "last")]
    message: String,
    /// The fields named after a folder: `visibility_<uuid>`.
    #[serde(flatten)]
    by_name: HashMap<String, FormText>,
}

#[derive(Deserialize)]
struct FormText(#[serde(deserialize_with = "last")] String);

impl ShareForm {
    /// The visibility filter picked for folder `uuid`, as typed ("" when there is none).
    fn visibility(&self, uuid: &str) -> &str {
        self.by_name
            .get(&format!("visibility_{uuid}"))
            .map_or("", |v| v.0.as_str())
    }

    /// The values to show the form again with (never the password).
    fn values(&self) -> ShareValues {
        let mut visibility = HashMap::new();
        for it in &self.item {
            if let Some(uuid) = it.strip_prefix("folder:") {
                let vis = self.visibility(uuid);
                visibility.insert(
                    uuid.to_string(),
                    if vis.is_empty() {
                        "PUB,ORG".into()
                    } else {
                        vis.to_string()
                    },
                );
            }
        }
        ShareValues {
            title: self.title.clone(),
            description: self.description.clone(),
            items: self.item.clone(),
            recursive: self.recursive.clone(),
            visibility,
            starts_at: self.starts_at.clone(),
            starts_tz: self.starts_tz.clone(),
            expires_at: self.expires_at.clone(),
            expires_tz: self.expires_tz.clone(),
            expires_in: self.expires_in.clone(),
            permissions: self.permissions.clone(),
            max_downloads: self.max_downloads.clone(),
            access: self.access.clone(),
            users: self.users.clone(),
            recipients: self.recipients.clone(),
            message: self.message.clone(),
        }
    }

    /// The form as a patch for the share service, parsed with the domain's parsers. Every
    /// field is read before anything is refused, so the page shows all of its errors at once,
    /// each beside its field, in the form's words. Dates are wall times in their zones; an
    /// expiry must be ahead of `now` and of the start (the service checks again).
    fn patch(&self, editing: bool, now: DateTime<Utc>) -> Result<SharePatch, FormErrors> {
        let mut errors = FormErrors::default();
        let title = self.title.trim();
        errors.check_title(title, "share", TITLE_MAX);
        for (field, text) in [
            ("description", &self.description),
            ("message", &self.message),
        ] {
            let n = text.chars().count();
            if n > TEXT_MAX {
                errors.add(
                    field,
                    format!("At most {TEXT_MAX} characters; this has {n}."),
                );
            }
        }
        let items = self.items(&mut errors);
        let (starts_at, expires_at) = self.times(&mut errors, now);
        let max = self.max_downloads.trim();
        let max_downloads = match max.parse::<i64>() {
            _ if max.is_empty() => None,
            Ok(n) if (1..=MAX_DOWNLOADS_MAX).contains(&n) => Some(n),
            _ => {
                errors.add(
                    "max_downloads",
                    format!("A whole number from 1 to {MAX_DOWNLOADS_MAX}, or empty for no limit."),
                );
                None
            }
        };
        let password = self.password.as_str();
        if password.chars().count() > SHARE_PASSWORD_MAX {
            errors.add(
                "password",
                format!("A password has at most {SHARE_PASSWORD_MAX} characters."),
            );
        }
        let listed = lines(&self.recipients);
        if listed.len() > RECIPIENTS_MAX {
            errors.add(
                "recipients",
                format!("At most {RECIPIENTS_MAX} recipients."),
            );
        }
        let recipients: Vec<RecipientSpec> = listed
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                errors.take(Email::parse(&format!("recipients[{i}]"), e).map(RecipientSpec::new))
            })
            .collect();
        let users = lines(&self.users)
            .into_iter()
            .enumerate()
            .map(|(i, key)| UserSpec {
                key,
                field: format!("users[{i}]"),
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let keep = editing && self.keep_password == "1";
        let zone = |raw: &str| -> Option<String> {
            (!raw.trim().is_empty()).then(|| raw.trim().to_string())
        };
        Ok(SharePatch {
            title: Some(title.to_string()),
            description: Some(self.description.clone()),
            items: Some(items),
            starts_tz: Some(zone(&self.starts_tz)),
            expires_tz: Some(zone(&self.expires_tz)),
            starts_at: Some(starts_at.map(TimeValue::Instant)),
            expires_at: Some(expires_at.map(TimeValue::Instant)),
            password: if keep && password.is_empty() {
                None
            } else {
                Some((!password.is_empty()).then(|| password.to_string()))
            },
            permission: Some(if self.permissions == "READ" {
                Permission::View
            } else {
                Permission::Download
            }),
            max_downloads: Some(max_downloads),
            access: Some(if self.access == "users" {
                Access::Users
            } else {
                Access::Link
            }),
            users: Some(users),
            recipients: Some(recipients),
            message: Some((!self.message.is_empty()).then(|| self.message.clone())),
            ..Default::default()
        })
    }

    /// The ticked items (`file:<uuid>`, `folder:<uuid>` with its options); errors beside `items`.
    fn items(&self, errors: &mut FormErrors) -> Vec<ItemSpec> {
        if self.item.is_empty() {
            errors.add("items", "Pick at least one file or folder.");
        }
        let mut items = Vec::new();
        for (i, it) in self.item.iter().enumerate() {
            let field = format!("items[{i}]");
            let (kind, uuid) = match it.split_once(':') {
                Some(("file", u)) => (ItemKind::File, u),
                Some(("folder", u)) => (ItemKind::Folder, u),
                _ => {
                    errors.add("items", "Pick files or folders from the library.");
                    continue;
                }
            };
            let vis = self.visibility(uuid);
            let visibility = if vis.is_empty() {
                Some(FolderVisibility::All)
            } else {
                errors.take(FolderVisibility::parse(field.as_str(), vis))
            };
            if let Some(visibility) = visibility {
                items.push(ItemSpec {
                    kind,
                    id: uuid.to_string(),
                    field,
                    recursive: self.recursive.iter().any(|r| r == uuid),
                    visibility,
                });
            }
        }
        items
    }

    /// The start and the expiry as instants (see `window`).
    fn times(
        &self,
        errors: &mut FormErrors,
        now: DateTime<Utc>,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        window_times(
            errors,
            now,
            &WindowFields {
                starts_at: &self.starts_at,
                starts_tz: &self.starts_tz,
                expires_at: &self.expires_at,
                expires_tz: &self.expires_tz,
                expires_in: &self.expires_in,
            },
        )
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET /app/shares/new?item=file:<uuid>&item=folder:<uuid>`: what the library preselects.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Preselect {
    item: Vec<String>,
}

pub async fn new_share(req: HttpRequest, user: WebUser) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let pre: Preselect = parse_form(req.query_string().as_bytes())?;
    let v = ShareValues {
        items: pre.item,
        permissions: "READ+DOWNLOAD".into(),
        access: "link".into(),
        ..Default::default()
    };
    share_form_page(&state, &user, v, None, FormErrors::default()).await
}

pub async fn create_share(
    req: HttpRequest,
    post: CsrfForm<ShareForm>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let again = |errors: FormErrors| share_form_page(&state, &user, form.values(), None, errors);
    let patch = match form.patch(false, state.clock.now()) {
        Ok(p) => p,
        Err(errors) => return again(errors).await,
    };
    match state
        .shares
        .create(user.org_id, Some(user.user_id), patch)
        .await
    {
        // The new share's panel: its link, QR code, dates and mail.
        Ok(s) => Ok(see_other(&format!("/app/shares/{}?done=created", s.uuid))),
        Err(e) => match FormErrors::of_service(&e) {
            Some(errors) => again(errors).await,
            None => Err(e),
        },
    }
}

fn values_of(s: &Share) -> ShareValues {
    let r = s;
    ShareValues {
        title: r.title.clone(),
        description: r.description.clone(),
        items: s
            .items
            .iter()
            .map(|i| {
                if i.folder.is_none() {
                    format!("file:{}", i.uuid)
                } else {
                    format!("folder:{}", i.uuid)
                }
            })
            .collect(),
        recursive: s
            .items
            .iter()
            .filter(|i| i.folder.is_some_and(|o| o.recursive))
            .map(|i| i.uuid.clone())
            .collect(),
        visibility: s
            .items
            .iter()
            .filter_map(|i| Some((i.uuid.clone(), i.folder?.visibility.as_str().to_string())))
            .collect(),
        starts_at: local_input(r.starts_at, &r.starts_tz),
        starts_tz: r.starts_tz.clone(),
        expires_at: local_input(r.expires_at, &r.expires_tz),
        expires_tz: r.expires_tz.clone(),
        expires_in: String::new(),
        permissions: if r.permission.can_download() {
            "READ+DOWNLOAD".into()
        } else {
            "READ".into()
        },
        max_downloads: r.max_downloads.map(|m| m.to_string()).unwrap_or_default(),
        access: if r.access == Access::Users {
            "users".into()
        } else {
            "link".into()
        },
        users: s
            .users
            .iter()
            .map(|u| u.email.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        recipients: s
            .recipients
            .iter()
            .map(|x| x.email.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        message: r.message.clone().unwrap_or_default(),
    }
}

pub async fn edit_share(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let s = state.shares.get(user.org_id, &path).await?;
    share_form_page(
        &state,
        &user,
        values_of(&s),
        Some(&s),
        FormErrors::default(),
    )
    .await
}

pub async fn update_share(
    req: HttpRequest,
    path: web::Path<String>,
    post: CsrfForm<ShareForm>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let current = state.shares.get(user.org_id, &path).await?;
    let again =
        |errors: FormErrors| share_form_page(&state, &user, form.values(), Some(&current), errors);
    let patch = match form.patch(true, state.clock.now()) {
        Ok(p) => p,
        Err(errors) => return again(errors).await,
    };
    match state.shares.update(user.org_id, &path, patch).await {
        Ok(s) => Ok(super::shares::done("updated", &s.uuid)),
        Err(e) => match FormErrors::of_service(&e) {
            Some(errors) => again(errors).await,
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_repeated_names_and_folder_fields() {
        let body = "csrf_token=t&title=one&title=Two&item=file%3Aa&item=folder%3Ab\
                    &recursive=b&visibility_b=org&visibility_c=PUB&max_downloads=3";
        let form: ShareForm = parse_form(body.as_bytes()).unwrap();
        assert_eq!(form.title, "Two", "the last of a repeated name");
        assert_eq!(form.item, ["file:a", "folder:b"]);
        assert_eq!(form.recursive, ["b"]);
        assert_eq!(form.visibility("b"), "org");
        assert_eq!(form.visibility("a"), "");
        assert_eq!(form.description, "");
        let now = chrono::Utc::now();
        let patch = form.patch(false, now).unwrap();
        let items = patch.items.unwrap();
        assert!(items[1].recursive && items[1].visibility == FolderVisibility::Org);
        assert_eq!(patch.max_downloads, Some(Some(3)));
        assert_eq!(
            form.values().visibility.get("b").map(String::as_str),
            Some("org")
        );

        let bad: ShareForm = parse_form(b"item=folder%3Ab&visibility_b=EVERYONE").unwrap();
        match bad.patch(false, now) {
            Err(errors) => assert!(errors.into_map().contains_key("items")),
            Ok(p) => panic!("{p:?}"),
        }
    }
}
