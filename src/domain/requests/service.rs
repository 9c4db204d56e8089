//! The owner's side of file requests: create, read, list, update, revoke, restore, delete.

use super::model::{folder_name, load, Request, RequestPatch, LIST_MAX, MESSAGE_MAX, TITLE_MAX};
use crate::clock::Clock;
use crate::db::assets::{self as aq, FolderRow};
use crate::db::requests::{self as q, RequestRow};
use crate::db::{ts, Db};
use crate::domain::shares::{apply_window, hash_new_password, StatusChange, Times, TimesPatch};
use crate::domain::types::{Email, Name};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Clone)]
pub struct RequestService {
    pub(super) db: Db,
    pub(super) clock: Clock,
    /// Without a trailing slash; request links start with it.
    pub(super) base_url: Arc<str>,
}

pub(super) fn not_found() -> AppError {
    AppError::not_found("The request")
}

/// A request uuid as a path gives it, canonical; anything else is unknown (404).
fn parse_uuid(raw: &str) -> Result<String, AppError> {
    Uuid::try_parse(raw.trim())
        .map(|u| u.to_string())
        .map_err(|_| not_found())
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(AppError::invalid(
            field,
            format!("needs {min} to {max} characters, got {n}"),
        ));
    }
    Ok(())
}

fn positive(field: &str, v: Option<i64>) -> Result<Option<i64>, AppError> {
    match v {
        Some(n) if n < 1 => Err(AppError::invalid(
            field,
            format!("must be a positive whole number, got {n}"),
        )),
        other => Ok(other),
    }
}

/// `["PDF", ".jpg"]` → `pdf,jpg`: letters and digits only, 1 to 16 of them each.
fn extensions(list: &[String]) -> Result<String, AppError> {
    if list.len() > LIST_MAX {
        return Err(AppError::invalid(
            "extensions",
            format!("at most {LIST_MAX} extensions"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in list {
        let e = raw.trim().trim_start_matches('.').to_ascii_lowercase();
        if e.is_empty() || e.len() > 16 || !e.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(AppError::invalid(
                "extensions",
                format!("'{raw}' is not a file extension (like pdf or jpg)"),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out.join(","))
}

fn emails(list: &[String]) -> Result<String, AppError> {
    if list.len() > LIST_MAX {
        return Err(AppError::invalid(
            "notify_emails",
            format!("at most {LIST_MAX} addresses"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in list {
        let e = Email::parse("notify_emails", raw)?.as_str().to_string();
        if !out.iter().any(|x| x.eq_ignore_ascii_case(&e)) {
            out.push(e);
        }
    }
    Ok(out.join(","))
}

/// Applies everything but the folder and the password (the caller's, in and out of the
/// transaction).
fn apply_fields(
    row: &mut RequestRow,
    p: &RequestPatch,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some(t) = &p.title {
        check_len("title", t.trim(), 1, TITLE_MAX)?;
        row.title = t.trim().to_string();
    }
    if let Some(m) = &p.message {
        check_len("message", m, 0, MESSAGE_MAX)?;
        row.message = m.clone();
    }
    if let Some(v) = p.max_files {
        row.max_files = positive("max_files", v)?;
    }
    if let Some(v) = p.max_file_bytes {
        row.max_file_bytes = positive("max_file_bytes", v)?;
    }
    if let Some(v) = p.max_total_bytes {
        row.max_total_bytes = positive("max_total_bytes", v)?;
    }
    if let Some(list) = &p.extensions {
        row.extensions = extensions(list)?;
    }
    if let Some(n) = p.notify {
        row.notify = n;
    }
    if let Some(list) = &p.notify_emails {
        row.notify_emails = emails(list)?;
    }
    apply_window(
        Times {
            starts_at: &mut row.starts_at,
            expires_at: &mut row.expires_at,
            starts_tz: &mut row.starts_tz,
            expires_tz: &mut row.expires_tz,
            revoked: &mut row.revoked,
            password_gen: &mut row.password_gen,
        },
        TimesPatch {
            starts_at: &p.starts_at,
            expires_at: &p.expires_at,
            starts_tz: &p.starts_tz,
            expires_tz: &p.expires_tz,
            status: p.status,
        },
        now,
    )?;
    row.updated_at = ts(now);
    Ok(())
}

/// `/Requests/<title>` made new (`<title> (2)` when taken): the default target folder.
fn new_default_folder(c: &Connection, org_id: i64, title: &str, now: i64) -> Result<i64, AppError> {
    let root = aq::root_folder(c, org_id)?;
    let parent = child_or_new(c, org_id, &root, "Requests", now)?;
    let base = Name::parse("title", &folder_name(title))?;
    let mut name = base.clone();
    let mut n = 1;
    while aq::child_folder(c, parent.id, name.as_str())?.is_some() {
        n += 1;
        name = base.numbered(n);
    }
    let uuid = Uuid::new_v4().to_string();
    aq::insert_folder(c, org_id, parent.id, &uuid, name.as_str(), now)?;
    Ok(aq::find_folder(c, org_id, &uuid)?
        .ok_or_else(|| AppError::internal("folder vanished"))?
        .id)
}

fn child_or_new(
    c: &Connection,
    org_id: i64,
    parent: &FolderRow,
    name: &str,
    now: i64,
) -> Result<FolderRow, AppError> {
    if let Some(f) = aq::child_folder(c, parent.id, name)? {
        return Ok(f);
    }
    let uuid = Uuid::new_v4().to_string();
    aq::insert_folder(c, org_id, parent.id, &uuid, name, now)?;
    aq::find_folder(c, org_id, &uuid)?.ok_or_else(|| AppError::internal("folder vanished"))
}

/// The org's folder `uuid` as a target, or a 400 naming `folder_uuid`.
fn target_folder(c: &Connection, org_id: i64, raw: &str) -> Result<i64, AppError> {
    let bad = || {
        AppError::invalid(
            "folder_uuid",
            format!("'{raw}' is not a folder of this org"),
        )
    };
    let uuid = Uuid::try_parse(raw.trim()).map_err(|_| bad())?.to_string();
    Ok(aq::find_folder(c, org_id, &uuid)?.ok_or_else(bad)?.id)
}

impl RequestService {
    pub fn new(db: Db, clock: Clock, base_url: &str) -> RequestService {
        RequestService {
            db,
            clock,
            base_url: base_url.trim_end_matches('/').into(),
        }
    }

    async fn view(&self, id: i64) -> Result<Request, AppError> {
        let (base, now) = (self.base_url.clone(), ts(self.clock.now()));
        self.db
            .read(move |c| {
                let row = q::by_id(c, id)?.ok_or_else(not_found)?;
                load(c, row, &base, now)
            })
            .await
    }

    pub async fn create(
        &self,
        org_id: i64,
        owner_user_id: Option<i64>,
        p: RequestPatch,
    ) -> Result<Request, AppError> {
        if p.title.is_none() {
            return Err(AppError::invalid("title", "`title` is required"));
        }
        let now = self.clock.now();
        let password = hash_new_password(&p.password).await?;
        let t = ts(now);
        let mut row = RequestRow {
            uuid: Uuid::new_v4().to_string(),
            puid: nanoid::nanoid!(22),
            org_id,
            owner_user_id,
            starts_tz: "UTC".into(),
            expires_tz: "UTC".into(),
            notify: true,
            created_at: t,
            ..Default::default()
        };
        apply_fields(&mut row, &p, now)?;
        if let Some(Some(hash)) = password {
            row.password_hash = Some(hash);
        }
        let folder = p.folder_uuid.clone().flatten();
        let id = self
            .db
            .write(move |tx| {
                row.folder_id = Some(match &folder {
                    Some(u) => target_folder(tx, org_id, u)?,
                    None => new_default_folder(tx, org_id, &row.title, t)?,
                });
                q::insert(tx, &row)
            })
            .await?;
        self.view(id).await
    }

    pub async fn get(&self, org_id: i64, uuid: &str) -> Result<Request, AppError> {
        let uuid = parse_uuid(uuid)?;
        let (base, now) = (self.base_url.clone(), ts(self.clock.now()));
        self.db
            .read(move |c| {
                let row = q::find(c, org_id, &uuid)?.ok_or_else(not_found)?;
                load(c, row, &base, now)
            })
            .await
    }

    /// A page of the org's requests, newest first, and how many it has.
    pub async fn list(
        &self,
        org_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Request>, i64), AppError> {
        let (base, now) = (self.base_url.clone(), ts(self.clock.now()));
        self.db
            .read(move |c| {
                let rows = q::list(c, org_id, limit, offset)?;
                let total = q::count(c, org_id)?;
                let list = rows
                    .into_iter()
                    .map(|r| load(c, r, &base, now))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((list, total))
            })
            .await
    }

    /// Applies `p`; `folder_uuid: null` keeps the current folder (a request always has one).
    pub async fn update(
        &self,
        org_id: i64,
        uuid: &str,
        p: RequestPatch,
    ) -> Result<Request, AppError> {
        let uuid = parse_uuid(uuid)?;
        let now = self.clock.now();
        let password = hash_new_password(&p.password).await?;
        let id = self
            .db
            .write(move |tx| {
                let mut row = q::find(tx, org_id, &uuid)?.ok_or_else(not_found)?;
                apply_fields(&mut row, &p, now)?;
                if let Some(Some(u)) = &p.folder_uuid {
                    row.folder_id = Some(target_folder(tx, org_id, u)?);
                }
                if let Some(pw) = password {
                    // A new password, or none, ends every uploader's cookie.
                    row.password_hash = pw;
                    row.password_gen += 1;
                }
                q::update(tx, &row)?;
                Ok(row.id)
            })
            .await?;
        self.view(id).await
    }

    pub async fn set_status(
        &self,
        org_id: i64,
        uuid: &str,
        status: StatusChange,
    ) -> Result<Request, AppError> {
        let p = RequestPatch {
            status: Some(status),
            ..Default::default()
        };
        self.update(org_id, uuid, p).await
    }

    /// Deletes the request; the files it brought stay in the library. Its uploads in progress
    /// go with it: their rows are returned, for the request's `TusService::clean`.
    pub async fn delete(
        &self,
        org_id: i64,
        uuid: &str,
    ) -> Result<(Request, Vec<crate::db::tus::Gone>), AppError> {
        let gone = self.get(org_id, uuid).await?;
        let id = gone.row.id;
        let uploads = self
            .db
            .write(move |tx| {
                let uploads = crate::db::tus::delete_for_request(tx, id)?;
                q::delete(tx, id)?;
                Ok(uploads)
            })
            .await?;
        Ok((gone, uploads))
    }

    /// The folder the request's files land in: a new `/Requests/<title>` when the one it had
    /// was deleted (files are never refused for it).
    pub async fn target_folder(&self, r: &Request) -> Result<String, AppError> {
        if let Some(u) = &r.folder_uuid {
            return Ok(u.clone());
        }
        let (id, org_id, title) = (r.row.id, r.row.org_id, r.title.clone());
        let t = ts(self.clock.now());
        self.db
            .write(move |tx| {
                let folder = new_default_folder(tx, org_id, &title, t)?;
                q::set_folder(tx, id, folder)?;
                q::folder_uuid(tx, folder)?.ok_or_else(|| AppError::internal("folder vanished"))
            })
            .await
    }

    /// Forgets uploaders past their 7 days who sent nothing (every cookie-less visit of an open
    /// request makes one). Runs with the server's periodic cleanup.
    pub async fn sweep_uploaders(&self) -> Result<usize, AppError> {
        let now = ts(self.clock.now());
        self.db
            .write(move |tx| q::delete_idle_uploaders(tx, now))
            .await
    }

    /// Everything that came through the request, newest first: the owner's activity.
    pub async fn activity(
        &self,
        org_id: i64,
        uuid: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<q::SentFile>, AppError> {
        let r = self.get(org_id, uuid).await?;
        let id = r.row.id;
        self.db
            .read(move |c| q::activity(c, id, limit, offset))
            .await
    }
}
