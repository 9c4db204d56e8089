//! The one share service every dialect and page calls: create, read, list, update, delete,
//! revoke/restore/expire, and `open`, which alone decides whether a visitor gets in.

use crate::db::assets::{self as aq, FileRow, FolderRow, Page};
use crate::db::shares::{self as q, ActivityRow, ItemRow, RecipientRow, ShareRow, ShareUser};
use crate::db::{from_ts, ts};
use crate::domain::auth::{argon2_turn, hash_password};
use crate::domain::counters::Counters;
use crate::domain::share_cache::Cached;
use crate::domain::throttle;
use crate::domain::types::{split_extension, Email};
use crate::domain::unlock::UnlockKey;
use crate::domain::window::{self, State, Window};
use crate::error::AppError;
use crate::AppState;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

pub const TITLE_MAX: usize = 200;
pub const TEXT_MAX: usize = 2000;
pub const SHARE_PASSWORD_MAX: usize = 200;
pub const MAX_DOWNLOADS_MAX: i64 = 1_000_000;
pub const RECIPIENTS_MAX: usize = 50;
pub const SLUG_MAX: usize = 80;
pub const USER_AGENT_MAX: usize = 256;

/// A folder item's visibility filter.
pub const VISIBILITIES: &[&str] = &["PUB", "ORG", "PUB,ORG"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    File,
    Folder,
    /// Whichever of the two the id names; a folder already in the share keeps its options.
    Any,
}

/// An item as a request names it; `field` is its JSON path for errors.
#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub kind: ItemKind,
    pub id: String,
    pub field: String,
    pub recursive: bool,
    pub visibility: String,
}

/// A user as a request names it (uuid or email).
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub key: String,
    pub field: String,
}

#[derive(Debug, Clone)]
pub struct RecipientSpec {
    pub email: Email,
    pub name: Option<String>,
}

/// A date as written: raw text (resolved in the share's zone) or an instant already resolved.
#[derive(Debug, Clone)]
pub enum TimeValue {
    Raw(String),
    Instant(DateTime<Utc>),
    /// This long after now.
    After(chrono::Duration),
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
    pub can_download: Option<bool>,
    pub max_downloads: Option<Option<i64>>,
    pub users_only: Option<bool>,
    pub users: Option<Vec<UserSpec>>,
    pub recipients: Option<Vec<RecipientSpec>>,
    pub message: Option<Option<String>>,
    pub status: Option<StatusChange>,
    /// On create without a title: the first item's name (cut to `TITLE_MAX`).
    pub title_from_items: bool,
}

/// A user or recipient with the state of the newest mail to them.
#[derive(Debug, Clone)]
pub struct Addressee<T> {
    pub who: T,
    pub delivery: Option<String>,
}

/// A share as every answer needs it.
#[derive(Debug, Clone)]
pub struct Share {
    pub row: ShareRow,
    pub org_token: String,
    pub items: Vec<ItemRow>,
    pub users: Vec<Addressee<ShareUser>>,
    pub recipients: Vec<Addressee<RecipientRow>>,
    pub state: State,
    pub views: i64,
    pub downloads: i64,
    pub slug: String,
    pub share_uri: String,
}

impl Share {
    pub fn password_protected(&self) -> bool {
        self.row.password_hash.is_some()
    }
}

/// The title lower-cased, each run of characters other than `a-z0-9` one `-`, trimmed, at most
/// 80 characters, `share` if empty.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut s: String = out.trim_matches('-').chars().take(SLUG_MAX).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        "share".into()
    } else {
        s
    }
}

pub fn share_uri(base_url: &str, puid: &str, title: &str) -> String {
    format!("{base_url}/s/{puid}/{}", slug(title))
}

fn window_of(row: &ShareRow, downloads: i64) -> Window {
    Window {
        revoked: row.revoked,
        starts_at: row.starts_at.map(from_ts),
        expires_at: row.expires_at.map(from_ts),
        max_downloads: row.max_downloads,
        downloads,
    }
}

fn share_not_found() -> AppError {
    AppError::not_found("The share")
}

/// Assembles the answer view of a share row.
fn load_view(
    c: &Connection,
    row: ShareRow,
    counters: &Counters,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<Share, AppError> {
    load(c, row, counters, base_url, now, true)
}

/// `full`: with recipients and delivery states (answers); without, what `open` needs (the hot
/// path of every public request): items, and users only when the share is for users.
fn load(
    c: &Connection,
    row: ShareRow,
    counters: &Counters,
    base_url: &str,
    now: DateTime<Utc>,
    full: bool,
) -> Result<Share, AppError> {
    let delivery = if full {
        q::delivery_of(c, row.id)?
    } else {
        Default::default()
    };
    let users = if full || row.users_only {
        q::users_of(c, row.id)?
    } else {
        vec![]
    };
    let users = users
        .into_iter()
        .map(|u| Addressee {
            delivery: delivery.get(&u.email.to_lowercase()).cloned(),
            who: u,
        })
        .collect();
    let recipients = if full {
        q::recipients_of(c, row.id)?
    } else {
        vec![]
    };
    let recipients = recipients
        .into_iter()
        .map(|r| Addressee {
            delivery: delivery.get(&r.email.to_lowercase()).cloned(),
            who: r,
        })
        .collect();
    let mut share = Share {
        items: q::items_of(c, row.id)?,
        org_token: q::org_token(c, row.org_id)?,
        users,
        recipients,
        // Set by `refresh` just below.
        state: State::Active,
        views: 0,
        downloads: 0,
        slug: slug(&row.title),
        share_uri: share_uri(base_url, &row.puid, &row.title),
        row,
    };
    refresh(&mut share, counters, now);
    Ok(share)
}

/// What depends on the moment, worked out on every read: the totals (flushed or not) and the
/// state at `now`.
fn refresh(share: &mut Share, counters: &Counters, now: DateTime<Utc>) {
    let (views, downloads) = counters.totals(&share.row);
    share.views = views;
    share.downloads = downloads;
    share.state = window::state_at(&window_of(&share.row, downloads), now);
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

/// A folder item's ids.
struct FolderIds {
    id: i64,
    uuid: String,
}

/// Resolves the items against the org: each must be a file (or folder) of it. Duplicates drop.
fn resolve_items(
    c: &Connection,
    org_id: i64,
    specs: &[ItemSpec],
    current: &[ItemRow],
) -> Result<Vec<ItemRow>, AppError> {
    if specs.is_empty() {
        return Err(AppError::invalid(
            "items",
            "a share needs at least one file or folder",
        ));
    }
    let mut out: Vec<ItemRow> = Vec::new();
    for s in specs {
        let id = crate::domain::assets::parse_id(&s.id);
        let kind = match (s.kind, &id) {
            (ItemKind::Any, Some(u)) if aq::file_id_of(c, org_id, u)?.is_none() => ItemKind::Folder,
            (ItemKind::Any, _) => ItemKind::File,
            (k, _) => k,
        };
        let row = match kind {
            ItemKind::Any | ItemKind::File => match &id {
                Some(u) => aq::file_id_of(c, org_id, u)?.map(|fid| ItemRow {
                    file_id: Some(fid),
                    folder_id: None,
                    uuid: u.clone(),
                    recursive: false,
                    visibility: "PUB,ORG".into(),
                }),
                None => None,
            },
            ItemKind::Folder => match &id {
                Some(u) => aq::folder_id_of(c, org_id, u)?.map(|fid| (fid, u.clone())),
                None => None,
            }
            .map(|(fid, uuid)| {
                let f = FolderIds { id: fid, uuid };
                let kept = current
                    .iter()
                    .find(|it| it.folder_id == Some(f.id))
                    .filter(|_| s.kind == ItemKind::Any);
                ItemRow {
                    file_id: None,
                    folder_id: Some(f.id),
                    uuid: f.uuid,
                    recursive: kept.map_or(s.recursive, |k| k.recursive),
                    visibility: kept.map_or_else(|| s.visibility.clone(), |k| k.visibility.clone()),
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

fn resolve_users(
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
            "recipients",
            format!("at most {RECIPIENTS_MAX} recipients"),
        ));
    }
    let mut out: Vec<RecipientRow> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        if let Some(n) = &s.name {
            check_len(&format!("recipients[{i}].name"), n, 0, TITLE_MAX)?;
        }
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
/// resolved by the caller inside the transaction.
fn apply_fields(
    row: &mut ShareRow,
    p: &SharePatch,
    password_hash: Option<Option<String>>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some(t) = &p.title {
        check_len("title", t.trim(), 1, TITLE_MAX)?;
        row.title = t.trim().to_string();
    }
    if let Some(d) = &p.description {
        check_len("description", d, 0, TEXT_MAX)?;
        row.description = d.clone();
    }
    if let Some(m) = &p.message {
        if let Some(m) = m {
            check_len("message", m, 0, TEXT_MAX)?;
        }
        row.message = m.clone().filter(|m| !m.is_empty());
    }
    if let Some(b) = p.show_starts_at {
        row.show_starts_at = b;
    }
    if let Some(b) = p.show_expires_at {
        row.show_expires_at = b;
    }
    if let Some(b) = p.can_download {
        row.can_download = b;
    }
    if let Some(m) = p.max_downloads {
        if let Some(n) = m {
            if !(1..=MAX_DOWNLOADS_MAX).contains(&n) {
                return Err(AppError::invalid(
                    "max_downloads",
                    format!("must be 1 to {MAX_DOWNLOADS_MAX}, or null for no limit"),
                ));
            }
        }
        row.max_downloads = m;
    }
    if let Some(b) = p.users_only {
        row.users_only = b;
    }
    if let Some(hash) = password_hash {
        row.password_hash = hash;
        row.password_gen += 1;
    }
    // Times: zones first, since a wall time is read in its (new or current) zone.
    let zone_name = |z: &Option<String>| {
        z.as_deref()
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .unwrap_or("UTC")
            .to_string()
    };
    if let Some(z) = &p.starts_tz {
        row.starts_tz = window::parse_zone("starts_tz", Some(&zone_name(z)))?
            .name()
            .to_string();
    }
    if let Some(z) = &p.expires_tz {
        row.expires_tz = window::parse_zone("expires_tz", Some(&zone_name(z)))?
            .name()
            .to_string();
    }
    let resolve =
        |field: &str, v: &Option<TimeValue>, zone: &str| -> Result<Option<i64>, AppError> {
            match v {
                None => Ok(None),
                Some(TimeValue::Instant(t)) => Ok(Some(ts(*t))),
                Some(TimeValue::After(d)) => Ok(Some(ts(now + *d))),
                Some(TimeValue::Raw(s)) => Ok(Some(ts(window::parse_instant(
                    field,
                    s,
                    window::parse_zone(field, Some(zone))?,
                )?))),
            }
        };
    if let Some(v) = &p.starts_at {
        row.starts_at = resolve("starts_at", v, &row.starts_tz)?;
    }
    if let Some(v) = &p.expires_at {
        row.expires_at = resolve("expires_at", v, &row.expires_tz)?;
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
                    "expires_at",
                    "the expiry must be in the future",
                ));
            }
            if row.starts_at.is_some_and(|s| e <= s) {
                return Err(AppError::invalid(
                    "expires_at",
                    "the expiry must be after the start",
                ));
            }
        }
    }
    row.updated_at = ts(now);
    Ok(())
}

/// Hashes a new password off the async workers; `Some(None)` removes it.
async fn hash_new_password(p: &SharePatch) -> Result<Option<Option<String>>, AppError> {
    match &p.password {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(pw)) => {
            check_len("auth.pass", pw, 1, SHARE_PASSWORD_MAX)?;
            let pw = pw.clone();
            let _turn = argon2_turn().await?;
            let hash = actix_web::web::block(move || hash_password(&pw)).await??;
            Ok(Some(Some(hash)))
        }
    }
}

/// Writes items, users and recipients of `p` and queues mail to every user and recipient
/// not mailed before for this share.
fn write_lists(
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
            "users",
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

pub async fn create(
    state: &AppState,
    org_id: i64,
    owner_user_id: Option<i64>,
    p: SharePatch,
) -> Result<Share, AppError> {
    if p.title.is_none() && !p.title_from_items {
        return Err(AppError::invalid("title", "`title` is required"));
    }
    if p.items.is_none() {
        return Err(AppError::invalid("items", "`items` is required"));
    }
    let now = state.clock.now();
    let password = hash_new_password(&p).await?;
    let t = ts(now);
    let mut row = ShareRow {
        uuid: Uuid::new_v4().to_string(),
        puid: nanoid::nanoid!(22),
        org_id,
        owner_user_id,
        starts_tz: "UTC".into(),
        expires_tz: "UTC".into(),
        show_starts_at: true,
        show_expires_at: true,
        can_download: true,
        created_at: t,
        ..Default::default()
    };
    apply_fields(&mut row, &p, password, now)?;
    let id = state
        .db
        .write(move |tx| {
            if p.title.is_none() {
                row.title = first_item_name(tx, org_id, p.items.as_deref().unwrap_or_default())?;
            }
            row.id = q::insert_share(tx, &row)?;
            write_lists(tx, &row, &p, true, t)?;
            Ok(row.id)
        })
        .await?;
    // The answer is read after the commit: the one writer is held only for the write.
    view_by_id(state, id).await
}

async fn view_by_id(state: &AppState, id: i64) -> Result<Share, AppError> {
    view_of(state, move |c| q::find_share_by_id(c, id)).await
}

/// The answer view, read now, of the share `find` picks (404 when it picks none).
async fn view_of(
    state: &AppState,
    find: impl FnOnce(&Connection) -> Result<Option<ShareRow>, AppError> + Send + 'static,
) -> Result<Share, AppError> {
    let (counters, base, now) = (
        state.counters.clone(),
        state.config.base_url.clone(),
        state.clock.now(),
    );
    state
        .db
        .read(move |c| {
            let row = find(c)?.ok_or_else(share_not_found)?;
            load_view(c, row, &counters, &base, now)
        })
        .await
}

/// The name of the first item, cut to `TITLE_MAX` characters.
fn first_item_name(c: &Connection, org_id: i64, items: &[ItemSpec]) -> Result<String, AppError> {
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

pub async fn get(state: &AppState, org_id: i64, uuid: &str) -> Result<Share, AppError> {
    let id = crate::domain::assets::parse_id(uuid).ok_or_else(share_not_found)?;
    view_of(state, move |c| q::find_share(c, org_id, &id)).await
}

/// Newest first, optionally only those in `status`.
pub async fn list(
    state: &AppState,
    org_id: i64,
    status: Option<State>,
    page: Page,
) -> Result<(Vec<Share>, i64), AppError> {
    let (counters, base, now) = (
        state.counters.clone(),
        state.config.base_url.clone(),
        state.clock.now(),
    );
    state
        .db
        .read(move |c| {
            let mut ids = Vec::new();
            for (id, revoked, starts, expires, max, downloads) in q::share_windows(c, org_id)? {
                let probe = ShareRow {
                    id,
                    downloads,
                    ..Default::default()
                };
                let downloads = counters.totals(&probe).1;
                let w = Window {
                    revoked,
                    starts_at: starts.map(from_ts),
                    expires_at: expires.map(from_ts),
                    max_downloads: max,
                    downloads,
                };
                if status.is_none_or(|s| window::state_at(&w, now) == s) {
                    ids.push(id);
                }
            }
            let total = ids.len() as i64;
            let shares = ids
                .into_iter()
                .skip(page.offset.max(0) as usize)
                .take(page.limit.max(0) as usize)
                .map(|id| {
                    let row = q::find_share_by_id(c, id)?.ok_or_else(share_not_found)?;
                    load_view(c, row, &counters, &base, now)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((shares, total))
        })
        .await
}

pub async fn update(
    state: &AppState,
    org_id: i64,
    uuid: &str,
    p: SharePatch,
) -> Result<Share, AppError> {
    let id = crate::domain::assets::parse_id(uuid).ok_or_else(share_not_found)?;
    let now = state.clock.now();
    let password = hash_new_password(&p).await?;
    let id = state
        .db
        .write(move |tx| {
            let mut row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
            let before = row.clone();
            apply_fields(&mut row, &p, password, now)?;
            let lists = p.items.is_some() || p.users.is_some() || p.recipients.is_some();
            // A write that changes nothing leaves the share as it is, updated_at included.
            let unchanged = ShareRow {
                updated_at: before.updated_at,
                ..row.clone()
            } == before;
            if !lists && unchanged {
                return Ok(before.id);
            }
            q::update_share(tx, &row)?;
            write_lists(tx, &row, &p, false, ts(now))?;
            Ok(row.id)
        })
        .await?;
    view_by_id(state, id).await
}

pub async fn delete(state: &AppState, org_id: i64, uuid: &str) -> Result<String, AppError> {
    let id = crate::domain::assets::parse_id(uuid).ok_or_else(share_not_found)?;
    state
        .db
        .write(move |tx| {
            let row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
            q::delete_share(tx, row.id)?;
            Ok(row.uuid)
        })
        .await
}

/// Queues a mail to each address (or, with none given, to all users and recipients); returns
/// the addresses mailed. Nothing is added to the share.
pub async fn notify(
    state: &AppState,
    org_id: i64,
    uuid: &str,
    users: Vec<UserSpec>,
    emails: Vec<Email>,
) -> Result<Vec<String>, AppError> {
    let id = crate::domain::assets::parse_id(uuid).ok_or_else(share_not_found)?;
    let t = ts(state.clock.now());
    state
        .db
        .write(move |tx| {
            let row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
            let mut to: Vec<(String, Option<String>)> = resolve_users(tx, org_id, &users)?
                .into_iter()
                .map(|u| (u.email, None))
                .collect();
            to.extend(emails.iter().map(|e| (e.to_string(), None)));
            if to.is_empty() {
                to.extend(
                    q::users_of(tx, row.id)?
                        .into_iter()
                        .map(|u| (u.email, None)),
                );
                to.extend(
                    q::recipients_of(tx, row.id)?
                        .into_iter()
                        .map(|r| (r.email, r.name)),
                );
            }
            let mut seen = HashSet::new();
            to.retain(|(e, _)| seen.insert(e.to_lowercase()));
            for (email, name) in &to {
                q::queue_mail(tx, row.id, email, name.as_deref(), "notification", t)?;
            }
            Ok(to.into_iter().map(|(e, _)| e).collect())
        })
        .await
}

pub async fn activity(
    state: &AppState,
    org_id: i64,
    uuid: &str,
    page: Page,
) -> Result<(Vec<q::ActivityOut>, i64), AppError> {
    let id = crate::domain::assets::parse_id(uuid).ok_or_else(share_not_found)?;
    // The log is exact: write what is pending first.
    state.counters.flush(&state.db).await?;
    state
        .db
        .read(move |c| {
            let row = q::find_share(c, org_id, &id)?.ok_or_else(share_not_found)?;
            q::list_activity(c, row.id, page.limit, page.offset)
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// Opening a share: the public pages and the sharebox reader.

/// Who is knocking, and with what.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    /// Passwords to try, in order (the reader tries a twice-decoded form too).
    pub passwords: Vec<String>,
    pub unlock_token: Option<String>,
    /// The signed-in web user or the Bearer's user.
    pub user_id: Option<i64>,
    pub addr: String,
    pub user_agent: String,
}

/// Why a share does not open, in the order the checks run.
#[derive(Debug, Clone)]
pub enum Denied {
    /// Unknown, deleted, revoked, or of another org.
    NotFound,
    NotStarted {
        starts_at: DateTime<Utc>,
        tz: String,
        shown: bool,
    },
    Expired,
    Exhausted,
    /// A `users` share and no signed-in user.
    NeedsLogin,
    /// A `users` share and a user not listed.
    NotListed,
    PasswordRequired,
    WrongPassword,
    Throttled(u64),
}

impl From<Denied> for AppError {
    /// API.md's mapping: 404 unknown/deleted/revoked, 403 not started or not a listed user, 410
    /// expired or exhausted, 401 password, 429 throttled.
    fn from(d: Denied) -> AppError {
        match d {
            Denied::NotFound => AppError::not_found("The share"),
            Denied::NotStarted {
                starts_at,
                tz,
                shown,
            } => AppError::NotStarted(if shown {
                format!(
                    "This share opens on {}.",
                    window::display_in(starts_at, &tz)
                )
            } else {
                "This share is not open yet.".into()
            }),
            Denied::Expired => AppError::ShareExpired("This share has expired.".into()),
            Denied::Exhausted => {
                AppError::ShareExpired("This share has reached its download limit.".into())
            }
            Denied::NeedsLogin | Denied::NotListed => {
                AppError::Forbidden("This share is only for the users it lists, signed in.".into())
            }
            Denied::PasswordRequired => AppError::PasswordRequired,
            Denied::WrongPassword => AppError::WrongPassword,
            Denied::Throttled(retry_after) => AppError::TooManyAttempts { retry_after },
        }
    }
}

/// An open share: what a visitor may see, and an unlock token when a password was given.
#[derive(Debug, Clone)]
pub struct Opened {
    pub share: Share,
    pub unlock_token: Option<String>,
    pub ip_hash: String,
}

fn ip_hash(secret: &str, addr: &str) -> String {
    let digest = Sha256::digest(format!("{secret}|{addr}").as_bytes());
    hex::encode(&digest[..8])
}

pub fn activity_row(
    share_id: i64,
    kind: &'static str,
    file_uuid: Option<String>,
    ip_hash: &str,
    user_agent: &str,
    now: DateTime<Utc>,
) -> ActivityRow {
    ActivityRow {
        share_id,
        at: ts(now),
        kind,
        file_uuid,
        ip_hash: ip_hash.to_string(),
        user_agent: user_agent.chars().take(USER_AGENT_MAX).collect(),
    }
}

/// What `open` needs of a share: from the cache while nothing was written since it was read,
/// else from the database (and then kept). The moment's part is worked out afresh either way.
async fn read_for_open(
    state: &AppState,
    puid: &str,
    want_tree: bool,
    now: DateTime<Utc>,
) -> Result<Option<Cached>, Denied> {
    // Read before the database: a write committed meanwhile makes this entry stale at once.
    let generation = state.db.generation();
    if let Some(mut hit) = state.share_cache.get(puid, generation, want_tree) {
        refresh(&mut hit.share, &state.counters, now);
        return Ok(Some(hit));
    }
    let (counters, base, p) = (
        state.counters.clone(),
        state.config.base_url.clone(),
        puid.to_string(),
    );
    let found = state
        .db
        .read(move |c| {
            let Some(row) = q::find_share_by_puid(c, &p)? else {
                return Ok(None);
            };
            let secret = q::org_secret(c, row.org_id)?;
            let share = load(c, row, &counters, &base, now, false)?;
            // Only an active share can open; a closed one is not worth walking.
            let tree = if want_tree && share.state == State::Active {
                Some(Arc::new(tree_in(c, &share)?))
            } else {
                None
            };
            Ok(Some(Cached {
                share,
                secret,
                tree,
            }))
        })
        .await
        .map_err(open_failed)?;
    if let Some(found) = &found {
        state.share_cache.put(puid, generation, found.clone());
    }
    Ok(found)
}

fn open_failed(e: AppError) -> Denied {
    tracing::error!(error = %e, "opening a share failed");
    Denied::NotFound
}

/// The one gate: every public route and the reader call this (or `open_with_tree`) on every
/// request. `org_token`: the org the route names, if any (the reader's `{token}`).
pub async fn open(
    state: &AppState,
    puid: &str,
    org_token: Option<&str>,
    v: &Visitor,
) -> Result<Opened, Denied> {
    Ok(open_inner(state, puid, org_token, v, false).await?.0)
}

/// `open`, and what the share holds read in the same database read: one trip to the blocking
/// pool per request instead of two.
pub async fn open_with_tree(
    state: &AppState,
    puid: &str,
    org_token: Option<&str>,
    v: &Visitor,
) -> Result<(Opened, Arc<Tree>), Denied> {
    let (opened, tree) = open_inner(state, puid, org_token, v, true).await?;
    let tree = match tree {
        Some(t) => t,
        None => Arc::new(tree_of(state, &opened.share).await.map_err(open_failed)?),
    };
    Ok((opened, tree))
}

async fn open_inner(
    state: &AppState,
    puid: &str,
    org_token: Option<&str>,
    v: &Visitor,
    want_tree: bool,
) -> Result<(Opened, Option<Arc<Tree>>), Denied> {
    let now = state.clock.now();
    let Some(Cached {
        share,
        secret,
        tree,
    }) = read_for_open(state, puid, want_tree, now).await?
    else {
        return Err(Denied::NotFound);
    };
    if org_token.is_some_and(|t| t != share.org_token) {
        return Err(Denied::NotFound);
    }
    match share.state {
        State::Revoked => return Err(Denied::NotFound),
        State::Scheduled => {
            return Err(Denied::NotStarted {
                starts_at: share.row.starts_at.map(from_ts).unwrap_or(now),
                tz: share.row.starts_tz.clone(),
                shown: share.row.show_starts_at,
            })
        }
        State::Expired => return Err(Denied::Expired),
        State::Exhausted => return Err(Denied::Exhausted),
        State::Active => {}
    }
    if share.row.users_only {
        match v.user_id {
            None => return Err(Denied::NeedsLogin),
            Some(uid) if !share.users.iter().any(|u| u.who.user_id == uid) => {
                return Err(Denied::NotListed)
            }
            Some(_) => {}
        }
    }
    let ip = ip_hash(&secret, &v.addr);
    let Some(hash) = share.row.password_hash.clone() else {
        return Ok((
            Opened {
                share,
                unlock_token: None,
                ip_hash: ip,
            },
            tree,
        ));
    };
    let key: &UnlockKey = &state.unlock;
    let generation = share.row.password_gen;
    if let Some(t) = &v.unlock_token {
        if key.verify(t, &share.row.puid, generation, now) {
            return Ok((
                Opened {
                    unlock_token: Some(t.clone()),
                    share,
                    ip_hash: ip,
                },
                tree,
            ));
        }
    }
    if v.passwords.is_empty() {
        return Err(Denied::PasswordRequired);
    }
    let throttle_key = vec![throttle::share_addr_key(&share.row.uuid, &v.addr)];
    let _turn = argon2_turn().await.map_err(open_failed)?;
    match throttle::check(&state.db, throttle_key.clone(), now).await {
        Err(AppError::TooManyAttempts { retry_after }) => {
            return Err(Denied::Throttled(retry_after))
        }
        Err(e) => return Err(open_failed(e)),
        Ok(()) => {}
    }
    let candidates = v.passwords.clone();
    let ok = actix_web::web::block(move || {
        candidates
            .iter()
            .any(|p| crate::domain::auth::verify_password(&hash, p))
    })
    .await
    .unwrap_or(false);
    if !ok {
        throttle::fail(&state.db, throttle_key, now)
            .await
            .map_err(open_failed)?;
        state.counters.event(activity_row(
            share.row.id,
            "unlock_failed",
            None,
            &ip,
            &v.user_agent,
            now,
        ));
        return Err(Denied::WrongPassword);
    }
    let token = key.issue(&share.row.puid, generation, now);
    Ok((
        Opened {
            share,
            unlock_token: Some(token),
            ip_hash: ip,
        },
        tree,
    ))
}

/// A share by its id with the sender's name, for the mail worker (None once deleted).
pub async fn mail_view(
    state: &AppState,
    share_id: i64,
) -> Result<Option<(Share, String)>, AppError> {
    let (counters, base, now) = (
        state.counters.clone(),
        state.config.base_url.clone(),
        state.clock.now(),
    );
    state
        .db
        .read(move |c| {
            let Some(row) = q::find_share_by_id(c, share_id)? else {
                return Ok(None);
            };
            let sender = match &row.owner_uuid {
                Some(u) => q::find_org_user(c, row.org_id, u)?.map(|u| u.email),
                None => None,
            };
            let view = load_view(c, row, &counters, &base, now)?;
            let sender = sender.unwrap_or_else(|| format!("Someone at {}", view.org_token));
            Ok(Some((view, sender)))
        })
        .await
}

/// The share link: (puid, slug) of a share of org `token` that is not deleted or revoked.
pub async fn link_target(
    state: &AppState,
    token: &str,
    puid: &str,
) -> Result<(String, String), AppError> {
    let (token, puid) = (token.to_string(), puid.to_string());
    state
        .db
        .read(move |c| {
            let row = q::find_share_by_puid(c, &puid)?
                .filter(|r| !r.revoked)
                .ok_or_else(share_not_found)?;
            if q::org_token(c, row.org_id)? != token {
                return Err(share_not_found());
            }
            Ok((row.puid, slug(&row.title)))
        })
        .await
}

/// Counts a view of an opened share.
pub fn count_view(state: &AppState, o: &Opened, user_agent: &str) {
    state.counters.view(
        &o.share.row,
        activity_row(
            o.share.row.id,
            "view",
            None,
            &o.ip_hash,
            user_agent,
            state.clock.now(),
        ),
    );
}

/// Counts a download (the zip when `file_uuid` is None).
pub fn count_download(state: &AppState, o: &Opened, file_uuid: Option<String>, user_agent: &str) {
    state.counters.download(
        &o.share.row,
        activity_row(
            o.share.row.id,
            "download",
            file_uuid,
            &o.ip_hash,
            user_agent,
            state.clock.now(),
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// What an open share holds, resolved now: folder shares show files added later.

#[derive(Debug, Clone)]
pub struct TreeFile {
    pub file: FileRow,
    /// Unique per level across files and folders.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct TreeFolder {
    pub uuid: String,
    pub name: String,
    pub folders: Vec<TreeFolder>,
    pub files: Vec<TreeFile>,
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub folders: Vec<TreeFolder>,
    pub files: Vec<TreeFile>,
}

impl Tree {
    /// Files and folders at every level.
    pub fn node_count(&self) -> usize {
        fn count(folders: &[TreeFolder]) -> usize {
            folders
                .iter()
                .map(|f| 1 + f.files.len() + count(&f.folders))
                .sum()
        }
        self.files.len() + count(&self.folders)
    }

    /// A file the share holds, wherever it sits.
    pub fn find_file(&self, uuid: &str) -> Option<&TreeFile> {
        fn walk<'a>(folders: &'a [TreeFolder], uuid: &str) -> Option<&'a TreeFile> {
            folders.iter().find_map(|f| {
                f.files
                    .iter()
                    .find(|x| x.file.uuid == uuid)
                    .or_else(|| walk(&f.folders, uuid))
            })
        }
        self.files
            .iter()
            .find(|x| x.file.uuid == uuid)
            .or_else(|| walk(&self.folders, uuid))
    }

    /// A folder of the tree by its uuid.
    pub fn find_folder(&self, uuid: &str) -> Option<&TreeFolder> {
        fn walk<'a>(folders: &'a [TreeFolder], uuid: &str) -> Option<&'a TreeFolder> {
            folders.iter().find_map(|f| {
                if f.uuid == uuid {
                    Some(f)
                } else {
                    walk(&f.folders, uuid)
                }
            })
        }
        walk(&self.folders, uuid)
    }
}

/// One level's entries get unique names: in (name, created_at, uuid) order the first keeps its
/// name, later ones become `stem (2).ext` (folders `name (2)`).
fn disambiguate(entries: &mut [(String, i64, String, bool)]) -> Vec<String> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&entries[a], &entries[b]);
        (&x.0, x.1, &x.2).cmp(&(&y.0, y.1, &y.2))
    });
    let mut used: HashSet<String> = HashSet::new();
    let mut names = vec![String::new(); entries.len()];
    for i in order {
        let (name, _, _, is_folder) = &entries[i];
        let mut candidate = name.clone();
        let mut n = 1;
        while used.contains(&candidate) {
            n += 1;
            candidate = if *is_folder {
                format!("{name} ({n})")
            } else {
                match split_extension(name) {
                    (stem, Some(ext)) => format!("{stem} ({n}).{ext}"),
                    (stem, None) => format!("{stem} ({n})"),
                }
            };
        }
        used.insert(candidate.clone());
        names[i] = candidate;
    }
    names
}

fn folder_node(
    c: &Connection,
    folder: &FolderRow,
    name: String,
    recursive: bool,
    visibility: &str,
) -> Result<TreeFolder, AppError> {
    let allowed: Vec<&str> = visibility.split(',').collect();
    let files: Vec<FileRow> = aq::folder_files(c, folder)?
        .into_iter()
        .filter(|f| allowed.contains(&f.visibility.as_str()))
        .collect();
    let subfolders = if recursive {
        aq::subfolders(c, folder)?
    } else {
        vec![]
    };
    let (folders, files) = level(c, subfolders, files, recursive, visibility)?;
    Ok(TreeFolder {
        uuid: folder.uuid.clone(),
        name,
        folders,
        files,
    })
}

/// Names one level and builds its sub-folders: folders first, then files, each by name.
fn level(
    c: &Connection,
    folders: Vec<FolderRow>,
    files: Vec<FileRow>,
    recursive: bool,
    visibility: &str,
) -> Result<(Vec<TreeFolder>, Vec<TreeFile>), AppError> {
    let mut entries: Vec<(String, i64, String, bool)> = folders
        .iter()
        .map(|f| (f.name.clone(), f.created_at, f.uuid.clone(), true))
        .collect();
    entries.extend(
        files
            .iter()
            .map(|f| (f.name.clone(), f.created_at, f.uuid.clone(), false)),
    );
    let mut names = disambiguate(&mut entries).into_iter();
    let mut out_folders = Vec::new();
    for f in &folders {
        let name = names.next().unwrap_or_default();
        out_folders.push(folder_node(c, f, name, recursive, visibility)?);
    }
    let mut out_files: Vec<TreeFile> = files
        .into_iter()
        .map(|file| TreeFile {
            name: names.next().unwrap_or_default(),
            file,
        })
        .collect();
    out_folders.sort_by(|a, b| a.name.cmp(&b.name));
    out_files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out_folders, out_files))
}

/// The share's tree as it is now, inside a read the caller holds.
fn tree_in(c: &Connection, share: &Share) -> Result<Tree, AppError> {
    let files = q::item_files(c, share.row.id)?;
    let mut folders = Vec::new();
    for it in share.items.iter().filter(|it| it.folder_id.is_some()) {
        if let Some(f) = aq::find_folder(c, share.row.org_id, &it.uuid)? {
            folders.push((f, it.recursive, it.visibility.clone()));
        }
    }
    // Top level: each folder item is an entry, named and filtered by its own options.
    let mut entries: Vec<(String, i64, String, bool)> = folders
        .iter()
        .map(|(f, _, _)| (f.name.clone(), f.created_at, f.uuid.clone(), true))
        .collect();
    entries.extend(
        files
            .iter()
            .map(|f| (f.name.clone(), f.created_at, f.uuid.clone(), false)),
    );
    let mut names = disambiguate(&mut entries).into_iter();
    let mut tree = Tree::default();
    for (f, recursive, vis) in &folders {
        let name = names.next().unwrap_or_default();
        tree.folders.push(folder_node(c, f, name, *recursive, vis)?);
    }
    tree.files = files
        .into_iter()
        .map(|file| TreeFile {
            name: names.next().unwrap_or_default(),
            file,
        })
        .collect();
    tree.folders.sort_by(|a, b| a.name.cmp(&b.name));
    tree.files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tree)
}

/// The share's tree as it is now, in a read of its own.
async fn tree_of(state: &AppState, share: &Share) -> Result<Tree, AppError> {
    let share = share.clone();
    state.db.read(move |c| tree_in(c, &share)).await
}

/// Previewable inline: safe image, video, audio and PDF types (never SVG).
pub fn previewable(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    !crate::blob::is_risky_type(&m)
        && (m.starts_with("image/")
            || m.starts_with("video/")
            || m.starts_with("audio/")
            || m == "application/pdf")
}

/// Used by the org listing's status filter.
pub fn parse_state(field: &str, raw: &str) -> Result<State, AppError> {
    State::parse(raw).ok_or_else(|| {
        AppError::invalid(
            field,
            format!(
                "'{raw}' is not a status: use active, scheduled, expired, exhausted or revoked"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("My share link 08/17/2031 06:48 PM"),
            "my-share-link-08-17-2031-06-48-pm"
        );
        assert_eq!(slug("  Ünïcode — Title!! "), "n-code-title");
        assert_eq!(slug("!!!"), "share");
        assert_eq!(slug(&"ab ".repeat(60)).len(), 80);
        assert!(!slug(&("a".repeat(79) + " b")).ends_with('-'));
    }

    #[test]
    fn names_per_level() {
        let mut e = vec![
            ("x.txt".to_string(), 5, "b".to_string(), false),
            ("x.txt".to_string(), 1, "c".to_string(), false),
            ("x.txt".to_string(), 5, "a".to_string(), true),
            ("x (2).txt".to_string(), 9, "d".to_string(), false),
        ];
        // By (name, created_at, uuid): "x (2).txt" sorts first and keeps its name, then the
        // oldest "x.txt"; the folder becomes "x.txt (2)"; the last file skips the taken "x (2).txt".
        let names = disambiguate(&mut e);
        assert_eq!(names[3], "x (2).txt");
        assert_eq!(names[1], "x.txt");
        assert_eq!(names[2], "x.txt (2)");
        assert_eq!(names[0], "x (3).txt");
    }
}
