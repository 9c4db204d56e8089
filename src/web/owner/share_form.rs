//! The new and edit share form.

use super::{check_csrf, see_other, state, FormFields, ALL, BY_NAME};
use crate::api::Params;
use crate::domain::assets::FolderRef;
use crate::domain::auth::WebUser;
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, Share, SharePatch, TimeValue, UserSpec,
};
use crate::domain::types::{pretty_size, Email, FolderPath, FolderVisibility};
use crate::error::{AppError, Field};
use crate::web::page;
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
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
    zones: &'static [chrono_tz::Tz],
    errors: HashMap<String, String>,
    editing: bool,
    has_password: bool,
}

impl ShareFormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

/// Which form field an error belongs beside: the share service's fields in the form's words
/// (the one table), and an entry of a list (`items[2]`) beside its list.
fn form_field(field: &Field) -> String {
    let name = match field {
        Field::Named(path) => return path.split(['[', '.']).next().unwrap_or(path).to_string(),
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
    };
    name.to_string()
}

async fn library_picks(
    state: &AppState,
    org_id: i64,
    v: &ShareValues,
) -> Result<Vec<Pick>, AppError> {
    let root = FolderRef::Path(FolderPath::parse("folder", "/")?);
    let (_, folders, _) = state
        .assets
        .list_folders(org_id, root.clone(), true, BY_NAME, ALL)
        .await?;
    let (_, files, _) = state
        .assets
        .list_files(org_id, root, true, BY_NAME, ALL)
        .await?;
    let mut picks: Vec<Pick> = folders
        .into_iter()
        .map(|f| {
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
                uuid: f.uuid,
                value,
            }
        })
        .collect();
    picks.extend(files.into_iter().map(|f| {
        let value = format!("file:{}", f.uuid);
        let path = if f.folder_path == "/" {
            format!("/{}", f.name)
        } else {
            format!("{}/{}", f.folder_path, f.name)
        };
        Pick {
            checked: v.items.contains(&value),
            recursive: false,
            visibility: String::new(),
            label: format!("{path} ({})", pretty_size(f.size as u64)),
            folder: false,
            uuid: f.uuid,
            value,
        }
    }));
    picks.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(picks)
}

async fn share_form_page(
    state: &AppState,
    user: &WebUser,
    v: ShareValues,
    editing: Option<&Share>,
    errors: HashMap<String, String>,
) -> Result<HttpResponse, AppError> {
    let picks = library_picks(state, user.org_id, &v).await?;
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
        zones: &chrono_tz::TZ_VARIANTS,
        errors,
    };
    let mut res = page(&pg)?;
    *res.status_mut() = status;
    Ok(res)
}

fn values_from_form(form: &FormFields) -> ShareValues {
    let items = form.all("item");
    let mut visibility = HashMap::new();
    for it in &items {
        if let Some(uuid) = it.strip_prefix("folder:") {
            let vis = form.get(&format!("visibility_{uuid}"));
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
        title: form.get("title").into(),
        description: form.get("description").into(),
        recursive: form.all("recursive"),
        items,
        visibility,
        starts_at: form.get("starts_at").into(),
        starts_tz: form.get("starts_tz").into(),
        expires_at: form.get("expires_at").into(),
        expires_tz: form.get("expires_tz").into(),
        permissions: form.get("permissions").into(),
        max_downloads: form.get("max_downloads").into(),
        access: form.get("access").into(),
        users: form.get("users").into(),
        recipients: form.get("recipients").into(),
        message: form.get("message").into(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as a patch for the share service; field errors name the form's fields.
fn patch_from_form(form: &FormFields, editing: bool) -> Result<SharePatch, AppError> {
    let mut items = Vec::new();
    for (i, it) in form.all("item").iter().enumerate() {
        let field = format!("items[{i}]");
        let (kind, uuid) = match it.split_once(':') {
            Some(("file", u)) => (ItemKind::File, u),
            Some(("folder", u)) => (ItemKind::Folder, u),
            _ => {
                return Err(AppError::invalid(
                    field,
                    "pick files or folders from the library",
                ))
            }
        };
        let vis = form.get(&format!("visibility_{uuid}"));
        let visibility = if vis.is_empty() {
            FolderVisibility::All
        } else {
            FolderVisibility::parse(field.as_str(), vis)?
        };
        items.push(ItemSpec {
            kind,
            id: uuid.to_string(),
            field,
            recursive: form.all("recursive").iter().any(|r| r == uuid),
            visibility,
        });
    }
    let time = |raw: &str| -> Option<TimeValue> {
        (!raw.trim().is_empty()).then(|| TimeValue::Raw(raw.trim().to_string()))
    };
    let zone =
        |raw: &str| -> Option<String> { (!raw.trim().is_empty()).then(|| raw.trim().to_string()) };
    let max = form.get("max_downloads").trim();
    let max_downloads = if max.is_empty() {
        None
    } else {
        Some(max.parse::<i64>().map_err(|_| {
            AppError::invalid("max_downloads", "a whole number, or empty for no limit")
        })?)
    };
    let recipients = lines(form.get("recipients"))
        .iter()
        .enumerate()
        .map(|(i, e)| Email::parse(&format!("recipients[{i}]"), e).map(RecipientSpec::new))
        .collect::<Result<Vec<_>, _>>()?;
    let users = lines(form.get("users"))
        .into_iter()
        .enumerate()
        .map(|(i, key)| UserSpec {
            key,
            field: format!("users[{i}]"),
        })
        .collect();
    let password = form.get("password");
    let keep = editing && form.get("keep_password") == "1";
    Ok(SharePatch {
        title: Some(form.get("title").to_string()),
        description: Some(form.get("description").to_string()),
        items: Some(items),
        // Zones first: the service reads wall times in them.
        starts_tz: Some(zone(form.get("starts_tz"))),
        expires_tz: Some(zone(form.get("expires_tz"))),
        starts_at: Some(time(form.get("starts_at"))),
        expires_at: Some(time(form.get("expires_at"))),
        password: if keep && password.is_empty() {
            None
        } else {
            Some((!password.is_empty()).then(|| password.to_string()))
        },
        permission: Some(if form.get("permissions") == "READ" {
            Permission::View
        } else {
            Permission::Download
        }),
        max_downloads: Some(max_downloads),
        access: Some(if form.get("access") == "users" {
            Access::Users
        } else {
            Access::Link
        }),
        users: Some(users),
        recipients: Some(recipients),
        message: Some((!form.get("message").is_empty()).then(|| form.get("message").to_string())),
        ..Default::default()
    })
}

fn errors_of(e: &AppError) -> Option<HashMap<String, String>> {
    match e {
        AppError::InvalidField { field, message } => {
            Some(HashMap::from([(form_field(field), message.clone())]))
        }
        _ => None,
    }
}

pub async fn new_share(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    // Preselected from the library: ?item=file:<uuid>&item=folder:<uuid>
    let pre = FormFields::parse(req.query_string().as_bytes())?;
    let _ = params;
    let v = ShareValues {
        items: pre.all("item"),
        permissions: "READ+DOWNLOAD".into(),
        access: "link".into(),
        ..Default::default()
    };
    share_form_page(&state, &user, v, None, HashMap::new()).await
}

pub async fn create_share(
    req: HttpRequest,
    user: WebUser,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let result = match patch_from_form(&form, false) {
        Ok(p) => {
            state
                .shares
                .create(user.org_id, Some(user.user_id), p)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(see_other(&format!("/app/shares?created={}", s.uuid))),
        Err(e) => match errors_of(&e) {
            Some(errors) => {
                share_form_page(&state, &user, values_from_form(&form), None, errors).await
            }
            None => Err(e),
        },
    }
}

/// An instant as a `datetime-local` value in `zone`.
fn local_input(t: Option<DateTime<Utc>>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    t.map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
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
    share_form_page(&state, &user, values_of(&s), Some(&s), HashMap::new()).await
}

pub async fn update_share(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    check_csrf(&user, Some(form.get("csrf_token")))?;
    let current = state.shares.get(user.org_id, &path).await?;
    let result = match patch_from_form(&form, true) {
        Ok(p) => state.shares.update(user.org_id, &path, p).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/app/shares")),
        Err(e) => match errors_of(&e) {
            Some(errors) => {
                share_form_page(
                    &state,
                    &user,
                    values_from_form(&form),
                    Some(&current),
                    errors,
                )
                .await
            }
            None => Err(e),
        },
    }
}
