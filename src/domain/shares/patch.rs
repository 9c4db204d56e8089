//! A write to a share as the adapters name it, and how it is checked and applied: plain fields
//! onto the row, then items, users and recipients inside the write transaction.

use super::model::{Access, Permission};
use super::{MAX_DOWNLOADS_MAX, RECIPIENTS_MAX, SHARE_PASSWORD_MAX, TEXT_MAX, TITLE_MAX};
use crate::db::assets as aq;
use crate::db::shares::{self as q, ItemRow, RecipientRow, ShareRow, ShareUser};
use crate::db::ts;
use crate::domain::assets::parse_id;
use crate::domain::auth::{argon2_turn, hash_password};
use crate::domain::types::{Email, FolderVisibility};
use crate::domain::window;
use crate::error::{AppError, Field};
use chrono::{DateTime, Duration, Utc};
use r2d2_sqlite::rusqlite::Connection;
use std::collections::HashSet;

/// What an item names: a file, a folder, or whichever of the two the id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    File,
    Folder,
    /// Whichever of the two the id names; a folder already in the share keeps its options.
    Any,
}

/// An item as a request names it; `field` is the adapter's name for it in errors.
#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub kind: ItemKind,
    pub id: String,
    pub field: String,
    pub recursive: bool,
    pub visibility: FolderVisibility,
}

/// A user as a request names it (uuid or email).
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub key: String,
    pub field: String,
}

/// A recipient: an address and an optional name of at most `TITLE_MAX` characters.
#[derive(Debug, Clone)]
pub struct RecipientSpec {
    email: Email,
    name: Option<String>,
}

impl RecipientSpec {
    pub fn new(email: Email) -> RecipientSpec {
        RecipientSpec { email, name: None }
    }

    /// With a name; `field` names the name in errors.
    pub fn named(email: Email, name: Option<String>, field: &str) -> Result<Self, AppError> {
        if let Some(n) = &name {
            check_len(field, n, 0, TITLE_MAX)?;
        }
        Ok(RecipientSpec { email, name })
    }
}

/// A date as written: raw text (resolved in the share's zone) or an instant already resolved.
#[derive(Debug, Clone)]
pub enum TimeValue {
    Raw(String),
    Instant(DateTime<Utc>),
    /// This long after now.
    After(Duration),
    /// This long after the current expiry, or after now when there is none or it has passed.
    Extend(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Revoke,
    Restore,
    ExpireNow,
}

/// A write to a share: None = leave as is; `Some(None)` = remove. Create starts from the defaults.
#[derive(Debug, Clone, Default)]
pub struct SharePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub items: Option<Vec<ItemSpec>>,
    pub starts_at: Option<Option<TimeValue>>,
    pub expires_at: Option<Option<TimeValue>>,
    pub starts_tz: Option<Option<String>>,
    pub expires_tz: Option<Option<String>>,
    pub show_starts_at: Option<bool>,
    pub show_expires_at: Option<bool>,
    pub password: Option<Option<String>>,
    pub permission: Option<Permission>,
    pub max_downloads: Option<Option<i64>>,
    pub access: Option<Access>,
    pub users: Option<Vec<UserSpec>>,
    pub recipients: Option<Vec<RecipientSpec>>,
    pub message: Option<Option<String>>,
    pub status: Option<StatusChange>,
    /// On create without a title: the first item's name (cut to `TITLE_MAX`).
    pub title_from_items: bool,
}

impl SharePatch {
    /// Whether it rewrites a list (and so moves `updated_at` even when nothing else changes).
    pub(super) fn names_lists(&self) -> bool {
        self.items.is_some() || self.users.is_some() || self.recipients.is_some()
    }
}

fn check_len(field: impl Into<Field>, value: &str, min: usize, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(AppError::invalid(
            field,
            format!("needs {min} to {max} characters, got {n}"),
        ));
    }
    Ok(())
}

/// Resolves the items against the org: each must be a file (or folder) of it. Duplicates drop.
pub(super) fn resolve_items(
    c: &Connection,
    org_id: i64,
    specs: &[ItemSpec],
    current: &[ItemRow],
) -> Result<Vec<ItemRow>, AppError> {
    if specs.is_empty() {
        return Err(AppError::invalid(
            Field::Items,
            "a share needs at least one file or folder",
        ));
    }
    let mut out: Vec<ItemRow> = Vec::new();
    for s in specs {
        let id = parse_id(&s.id);
        let kind = match (s.kind, &id) {
            (ItemKind::Any, Some(u)) if aq::file_id_of(c, org_id, u)?.is_none() => ItemKind::Folder,
            (ItemKind::Any, _) => ItemKind::File,
            (k, _) => k,
        };
        let row = match (kind, &id) {
            (_, None) => None,
            (ItemKind::Any | ItemKind::File, Some(u)) => {
                aq::file_id_of(c, org_id, u)?.map(|fid| ItemRow {
                    file_id: Some(fid),
                    folder_id: None,
                    uuid: u.clone(),
                    recursive: false,
                    visibility: FolderVisibility::All.as_str().into(),
                })
            }
            (ItemKind::Folder, Some(u)) => aq::folder_id_of(c, org_id, u)?.map(|fid| {
                let kept = current
                    .iter()
                    .find(|it| it.folder_id == Some(fid))
                    .filter(|_| s.kind == ItemKind::Any);
                ItemRow {
                    file_id: None,
                    folder_id: Some(fid),
                    uuid: u.clone(),
                    recursive: kept.map_or(s.recursive, |k| k.recursive),
                    visibility: kept.map_or_else(
                        || s.visibility.as_str().to_string(),
                        |k| k.visibility.clone(),
                    ),
                }
            }),
        };
        let row = row.ok_or_else(|| {
            let what = match s.kind {
                ItemKind::File => "file",
                ItemKind::Folder => "folder",
                ItemKind::Any => "file or folder",
            };
            AppError::invalid(&s.field, format!("'{}' is not a {what} of this org", s.id))
        })?;
        if !out
            .iter()
            .any(|o| o.file_id == row.file_id && o.folder_id == row.folder_id)
        {
            out.push(row);
        }
    }
    Ok(out)
}

pub(super) fn resolve_users(
    c: &Connection,
    org_id: i64,
    specs: &[UserSpec],
) -> Result<Vec<ShareUser>, AppError> {
    let mut out: Vec<ShareUser> = Vec::new();
    for s in specs {
        let u = q::find_org_user(c, org_id, s.key.trim())?.ok_or_else(|| {
            AppError::invalid(&s.field, format!("'{}' is not a user of this org", s.key))
        })?;
        if !out.iter().any(|o| o.user_id == u.user_id) {
            out.push(u);
        }
    }
    Ok(out)
}

fn dedupe_recipients(specs: &[RecipientSpec]) -> Result<Vec<RecipientRow>, AppError> {
    if specs.len() > RECIPIENTS_MAX {
        return Err(AppError::invalid(
            Field::Recipients,
            format!("at most {RECIPIENTS_MAX} recipients"),
        ));
    }
    let mut out: Vec<RecipientRow> = Vec::new();
    for s in specs {
        if !out
            .iter()
            .any(|o| o.email.eq_ignore_ascii_case(s.email.as_str()))
        {
            out.push(RecipientRow {
                email: s.email.to_string(),
                name: s.name.clone().filter(|n| !n.trim().is_empty()),
            });
        }
    }
    Ok(out)
}

/// Applies the plain fields of `p` to `row`, checking each. Items, users and recipients are
/// written by `write_lists` inside the transaction.
pub(super) fn apply_fields(
    row: &mut ShareRow,
    p: &SharePatch,
    password_hash: Option<Option<String>>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some(t) = &p.title {
        check_len(Field::Title, t.trim(), 1, TITLE_MAX)?;
        row.title = t.trim().to_string();
    }
    if let Some(d) = &p.description {
        check_len(Field::Description, d, 0, TEXT_MAX)?;
        row.description = d.clone();
    }
    if let Some(m) = &p.message {
        if let Some(m) = m {
            check_len(Field::Message, m, 0, TEXT_MAX)?;
        }
        row.message = m.clone().filter(|m| !m.is_empty());
    }
    if let Some(b) = p.show_starts_at {
        row.show_starts_at = b;
    }
    if let Some(b) = p.show_expires_at {
        row.show_expires_at = b;
    }
    if let Some(perm) = p.permission {
        row.can_download = perm.can_download();
    }
    if let Some(m) = p.max_downloads {
        if let Some(n) = m {
            if !(1..=MAX_DOWNLOADS_MAX).contains(&n) {
                return Err(AppError::invalid(
                    Field::MaxDownloads,
                    format!("must be 1 to {MAX_DOWNLOADS_MAX}, or null for no limit"),
                ));
            }
        }
        row.max_downloads = m;
    }
    if let Some(a) = p.access {
        row.users_only = a == Access::Users;
    }
    if let Some(hash) = password_hash {
        row.password_hash = hash;
        row.password_gen += 1;
    }
    apply_times(row, p, now)?;
    row.updated_at = ts(now);
    Ok(())
}

/// The window fields of a stored row (a share's or a file request's), borrowed to be
/// changed by `apply_window`.
#[derive(Debug)]
pub struct Times<'a> {
    pub starts_at: &'a mut Option<i64>,
    pub expires_at: &'a mut Option<i64>,
    pub starts_tz: &'a mut String,
    pub expires_tz: &'a mut String,
    pub revoked: &'a mut bool,
    pub password_gen: &'a mut i64,
}

/// A window as `apply_window` works on it: a copy, written back only when all of it is valid.
#[derive(Debug, Clone)]
struct Window {
    starts_at: Option<i64>,
    expires_at: Option<i64>,
    starts_tz: String,
    expires_tz: String,
    revoked: bool,
    password_gen: i64,
}

/// The window fields of a write: None = leave as is; `Some(None)` = remove.
#[derive(Debug, Clone, Copy)]
pub struct TimesPatch<'a> {
    pub starts_at: &'a Option<Option<TimeValue>>,
    pub expires_at: &'a Option<Option<TimeValue>>,
    pub starts_tz: &'a Option<Option<String>>,
    pub expires_tz: &'a Option<Option<String>>,
    pub status: Option<StatusChange>,
}

fn apply_times(row: &mut ShareRow, p: &SharePatch, now: DateTime<Utc>) -> Result<(), AppError> {
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
    )
}

/// Zones first, since a wall time is read in its (new or current) zone; then the status.
pub fn apply_window(t: Times<'_>, p: TimesPatch<'_>, now: DateTime<Utc>) -> Result<(), AppError> {
    let mut w = Window {
        starts_at: *t.starts_at,
        expires_at: *t.expires_at,
        starts_tz: t.starts_tz.clone(),
        expires_tz: t.expires_tz.clone(),
        revoked: *t.revoked,
        password_gen: *t.password_gen,
    };
    window_patch(&mut w, p, now)?;
    *t.starts_at = w.starts_at;
    *t.expires_at = w.expires_at;
    *t.starts_tz = w.starts_tz;
    *t.expires_tz = w.expires_tz;
    *t.revoked = w.revoked;
    *t.password_gen = w.password_gen;
    Ok(())
}

fn window_patch(row: &mut Window, p: TimesPatch<'_>, now: DateTime<Utc>) -> Result<(), AppError> {
    // Fail closed: only null (or absent) means "none"; a blank string is refused, never read as
    // "no zone" or "no date".
    let zone = |field: Field, z: &Option<String>| -> Result<String, AppError> {
        match z.as_deref() {
            None => Ok("UTC".into()),
            Some(z) if z.trim().is_empty() => Err(AppError::invalid(
                field,
                "is blank: give an IANA time zone (like Europe/Sofia or UTC), or null for UTC",
            )),
            Some(z) => Ok(window::parse_zone(field, Some(z))?.name().to_string()),
        }
    };
    if let Some(z) = p.starts_tz {
        row.starts_tz = zone(Field::StartsTz, z)?;
    }
    if let Some(z) = p.expires_tz {
        row.expires_tz = zone(Field::ExpiresTz, z)?;
    }
    let current_expiry = row.expires_at;
    let resolve = |field: Field, v: &Option<TimeValue>, zone: &str| -> Result<_, AppError> {
        Ok(match v {
            None => None,
            Some(TimeValue::Instant(t)) => Some(ts(*t)),
            Some(TimeValue::After(d)) => Some(ts(now + *d)),
            Some(TimeValue::Extend(d)) => {
                let from = current_expiry.filter(|e| *e > ts(now)).unwrap_or(ts(now));
                Some(from + d.num_seconds())
            }
            Some(TimeValue::Raw(s)) if s.trim().is_empty() => {
                return Err(AppError::invalid(
                    field,
                    "is blank: give a date and time (ISO 8601), or null for none",
                ))
            }
            Some(TimeValue::Raw(s)) => {
                let zone = window::parse_zone(field.clone(), Some(zone))?;
                Some(ts(window::parse_instant(field, s, zone)?))
            }
        })
    };
    if let Some(v) = p.starts_at {
        row.starts_at = resolve(Field::StartsAt, v, &row.starts_tz)?;
    }
    if let Some(v) = p.expires_at {
        row.expires_at = resolve(Field::ExpiresAt, v, &row.expires_tz)?;
    }
    let times_touched = p.starts_at.is_some()
        || p.expires_at.is_some()
        || p.starts_tz.is_some()
        || p.expires_tz.is_some();
    match p.status {
        Some(StatusChange::Revoke) if !row.revoked => {
            row.revoked = true;
            row.password_gen += 1;
        }
        Some(StatusChange::Revoke) => {}
        Some(StatusChange::Restore) => row.revoked = false,
        Some(StatusChange::ExpireNow) => row.expires_at = Some(ts(now)),
        None => {}
    }
    if times_touched && p.status != Some(StatusChange::ExpireNow) {
        if let Some(e) = row.expires_at {
            if e <= ts(now) {
                return Err(AppError::invalid(
                    Field::ExpiresAt,
                    "the expiry must be in the future",
                ));
            }
            if row.starts_at.is_some_and(|s| e <= s) {
                return Err(AppError::invalid(
                    Field::ExpiresAt,
                    "the expiry must be after the start",
                ));
            }
        }
    }
    Ok(())
}

/// Hashes a new password off the async workers; `Some(None)` removes it.
pub async fn hash_new_password(
    password: &Option<Option<String>>,
) -> Result<Option<Option<String>>, AppError> {
    match password {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(pw)) => {
            check_len(Field::Password, pw, 1, SHARE_PASSWORD_MAX)?;
            let pw = pw.clone();
            let _turn = argon2_turn().await?;
            let hash = crate::db::blocking(move || hash_password(&pw)).await??;
            Ok(Some(Some(hash)))
        }
    }
}

/// Writes items, users and recipients of `p` and queues mail to every user and recipient
/// not mailed before for this share.
pub(super) fn write_lists(
    tx: &Connection,
    row: &ShareRow,
    p: &SharePatch,
    created: bool,
    now: i64,
) -> Result<(), AppError> {
    if let Some(items) = &p.items {
        let current = if created {
            vec![]
        } else {
            q::items_of(tx, row.id)?
        };
        let items = resolve_items(tx, row.org_id, items, &current)?;
        q::replace_items(tx, row.id, &items)?;
    }
    let old_users: HashSet<i64> = if created {
        HashSet::new()
    } else {
        q::users_of(tx, row.id)?
            .into_iter()
            .map(|u| u.user_id)
            .collect()
    };
    let old_recipients: HashSet<String> = if created {
        HashSet::new()
    } else {
        q::recipients_of(tx, row.id)?
            .into_iter()
            .map(|r| r.email.to_lowercase())
            .collect()
    };
    if let Some(users) = &p.users {
        let users = resolve_users(tx, row.org_id, users)?;
        q::replace_users(
            tx,
            row.id,
            &users.iter().map(|u| u.user_id).collect::<Vec<_>>(),
        )?;
        for u in users.iter().filter(|u| !old_users.contains(&u.user_id)) {
            q::queue_mail(tx, row.id, &u.email, None, "share", now)?;
        }
    }
    if row.users_only && q::users_of(tx, row.id)?.is_empty() {
        return Err(AppError::invalid(
            Field::Users,
            "a share for listed users only needs at least one user",
        ));
    }
    if let Some(recipients) = &p.recipients {
        let list = dedupe_recipients(recipients)?;
        q::replace_recipients(tx, row.id, &list)?;
        for r in list
            .iter()
            .filter(|r| !old_recipients.contains(&r.email.to_lowercase()))
        {
            q::queue_mail(tx, row.id, &r.email, r.name.as_deref(), "share", now)?;
        }
    }
    Ok(())
}

/// The name of the first item, cut to `TITLE_MAX` characters.
pub(super) fn first_item_name(
    c: &Connection,
    org_id: i64,
    items: &[ItemSpec],
) -> Result<String, AppError> {
    let items = resolve_items(c, org_id, items, &[])?;
    let name = match items.first() {
        Some(ItemRow {
            file_id: Some(_),
            uuid,
            ..
        }) => aq::find_file(c, org_id, uuid)?.map(|f| f.name),
        Some(it) => aq::find_folder(c, org_id, &it.uuid)?.map(|f| f.name),
        None => None,
    };
    Ok(name.unwrap_or_default().chars().take(TITLE_MAX).collect())
}
