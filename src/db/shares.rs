//! Shares, their items, users, recipients, activity, and the mail outbox.

use super::assets::{file_row, fill_folder_paths, FileRow, FILE_COLS};
use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};
use std::collections::HashMap;

/// One share row, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareRow {
    pub id: i64,
    pub uuid: String,
    pub puid: String,
    pub org_id: i64,
    pub owner_user_id: Option<i64>,
    pub owner_uuid: Option<String>,
    /// The owner's email (read with the row; never stored here).
    pub owner_email: Option<String>,
    pub title: String,
    pub description: String,
    pub starts_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub show_starts_at: bool,
    pub show_expires_at: bool,
    pub password_hash: Option<String>,
    pub password_gen: i64,
    pub can_download: bool,
    pub max_downloads: Option<i64>,
    pub users_only: bool,
    pub message: Option<String>,
    pub revoked: bool,
    pub views: i64,
    pub downloads: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SHARE_COLS: &str =
    "s.id, s.uuid, s.puid, s.org_id, s.owner_user_id, u.uuid, s.title, s.description,
    s.starts_at, s.expires_at, s.starts_tz, s.expires_tz, s.show_starts_at, s.show_expires_at,
    s.password_hash, s.password_gen, s.can_download, s.max_downloads, s.users_only, s.message,
    s.revoked, s.views, s.downloads, s.created_at, s.updated_at, u.email";

fn share_row(r: &Row) -> rusqlite::Result<ShareRow> {
    Ok(ShareRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        puid: r.get(2)?,
        org_id: r.get(3)?,
        owner_user_id: r.get(4)?,
        owner_uuid: r.get(5)?,
        title: r.get(6)?,
        description: r.get(7)?,
        starts_at: r.get(8)?,
        expires_at: r.get(9)?,
        starts_tz: r.get(10)?,
        expires_tz: r.get(11)?,
        show_starts_at: r.get(12)?,
        show_expires_at: r.get(13)?,
        password_hash: r.get(14)?,
        password_gen: r.get(15)?,
        can_download: r.get(16)?,
        max_downloads: r.get(17)?,
        users_only: r.get(18)?,
        message: r.get(19)?,
        revoked: r.get(20)?,
        views: r.get(21)?,
        downloads: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
        owner_email: r.get(25)?,
    })
}

fn share_where(
    c: &Connection,
    clause: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Option<ShareRow>, AppError> {
    let sql = format!("SELECT {SHARE_COLS} FROM shares s LEFT JOIN users u ON u.id = s.owner_user_id WHERE {clause}");
    Ok(c.prepare_cached(&sql)?
        .query_row(args, share_row)
        .optional()?)
}

pub fn find_share(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<ShareRow>, AppError> {
    share_where(c, "s.org_id = ?1 AND s.uuid = ?2", &[&org_id, &uuid])
}

pub fn find_share_by_puid(c: &Connection, puid: &str) -> Result<Option<ShareRow>, AppError> {
    share_where(c, "s.puid = ?1", &[&puid])
}

pub fn find_share_by_id(c: &Connection, id: i64) -> Result<Option<ShareRow>, AppError> {
    share_where(c, "s.id = ?1", &[&id])
}

pub fn insert_share(c: &Connection, s: &ShareRow) -> Result<i64, AppError> {
    c.prepare_cached(
        "INSERT INTO shares (uuid, puid, org_id, owner_user_id, title, description, starts_at, expires_at,
            starts_tz, expires_tz, show_starts_at, show_expires_at, password_hash, password_gen,
            can_download, max_downloads, users_only, message, revoked, views, downloads, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, 0, 0, ?20, ?21)",
    )?
    .execute(params![
            s.uuid, s.puid, s.org_id, s.owner_user_id, s.title, s.description, s.starts_at, s.expires_at,
            s.starts_tz, s.expires_tz, s.show_starts_at, s.show_expires_at, s.password_hash, s.password_gen,
            s.can_download, s.max_downloads, s.users_only, s.message, s.revoked, s.created_at, s.updated_at
        ])?;
    Ok(c.last_insert_rowid())
}

/// Writes every settable column of `s` (counters are left alone: they only ever grow).
pub fn update_share(c: &Connection, s: &ShareRow) -> Result<(), AppError> {
    c.execute(
        "UPDATE shares SET title = ?2, description = ?3, starts_at = ?4, expires_at = ?5, starts_tz = ?6,
            expires_tz = ?7, show_starts_at = ?8, show_expires_at = ?9, password_hash = ?10,
            password_gen = ?11, can_download = ?12, max_downloads = ?13, users_only = ?14, message = ?15,
            revoked = ?16, updated_at = ?17
         WHERE id = ?1",
        params![
            s.id, s.title, s.description, s.starts_at, s.expires_at, s.starts_tz, s.expires_tz,
            s.show_starts_at, s.show_expires_at, s.password_hash, s.password_gen, s.can_download,
            s.max_downloads, s.users_only, s.message, s.revoked, s.updated_at
        ],
    )?;
    Ok(())
}

pub fn delete_share(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM shares WHERE id = ?1", [id])?;
    Ok(())
}

/// The state-deciding columns of every share of an org, newest first: (id, revoked, starts,
/// expires, max_downloads, downloads).
pub type WindowRow = (i64, bool, Option<i64>, Option<i64>, Option<i64>, i64);

pub fn share_windows(c: &Connection, org_id: i64) -> Result<Vec<WindowRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, revoked, starts_at, expires_at, max_downloads, downloads FROM shares
         WHERE org_id = ?1 ORDER BY created_at DESC, id DESC",
    )?;
    let rows = stmt
        .query_map([org_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A stored item: a file, or a folder with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub uuid: String,
    pub recursive: bool,
    pub visibility: String,
}

pub fn replace_items(c: &Connection, share_id: i64, items: &[ItemRow]) -> Result<(), AppError> {
    c.execute("DELETE FROM share_items WHERE share_id = ?1", [share_id])?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO share_items (share_id, position, file_id, folder_id, recursive, visibility)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, it) in items.iter().enumerate() {
        stmt.execute(params![
            share_id,
            i as i64,
            it.file_id,
            it.folder_id,
            it.recursive,
            it.visibility
        ])?;
    }
    Ok(())
}

pub fn items_of(c: &Connection, share_id: i64) -> Result<Vec<ItemRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT i.file_id, i.folder_id, COALESCE(f.uuid, d.uuid), i.recursive, i.visibility
         FROM share_items i LEFT JOIN files f ON f.id = i.file_id LEFT JOIN folders d ON d.id = i.folder_id
         WHERE i.share_id = ?1 ORDER BY i.position",
    )?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(ItemRow {
                file_id: r.get(0)?,
                folder_id: r.get(1)?,
                uuid: r.get(2)?,
                recursive: r.get(3)?,
                visibility: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareUser {
    pub user_id: i64,
    pub uuid: String,
    pub email: String,
}

pub fn replace_users(c: &Connection, share_id: i64, user_ids: &[i64]) -> Result<(), AppError> {
    c.execute("DELETE FROM share_users WHERE share_id = ?1", [share_id])?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO share_users (share_id, user_id, position) VALUES (?1, ?2, ?3)",
    )?;
    for (i, id) in user_ids.iter().enumerate() {
        stmt.execute(params![share_id, id, i as i64])?;
    }
    Ok(())
}

pub fn users_of(c: &Connection, share_id: i64) -> Result<Vec<ShareUser>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT u.id, u.uuid, u.email FROM share_users su JOIN users u ON u.id = su.user_id
         WHERE su.share_id = ?1 ORDER BY su.position",
    )?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(ShareUser {
                user_id: r.get(0)?,
                uuid: r.get(1)?,
                email: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A user of `org_id` by uuid or email (case-insensitive).
pub fn find_org_user(
    c: &Connection,
    org_id: i64,
    uuid_or_email: &str,
) -> Result<Option<ShareUser>, AppError> {
    Ok(c.query_row(
        "SELECT id, uuid, email FROM users WHERE org_id = ?1 AND (uuid = ?2 OR email = ?2 COLLATE NOCASE)",
        params![org_id, uuid_or_email],
        |r| Ok(ShareUser { user_id: r.get(0)?, uuid: r.get(1)?, email: r.get(2)? }),
    )
    .optional()?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub email: String,
    pub name: Option<String>,
}

pub fn replace_recipients(
    c: &Connection,
    share_id: i64,
    list: &[RecipientRow],
) -> Result<(), AppError> {
    c.execute(
        "DELETE FROM share_recipients WHERE share_id = ?1",
        [share_id],
    )?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO share_recipients (share_id, email, name, position) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, r) in list.iter().enumerate() {
        stmt.execute(params![share_id, r.email, r.name, i as i64])?;
    }
    Ok(())
}

pub fn recipients_of(c: &Connection, share_id: i64) -> Result<Vec<RecipientRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT email, name FROM share_recipients WHERE share_id = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(RecipientRow {
                email: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Queues one mail.
pub fn queue_mail(
    c: &Connection,
    share_id: i64,
    email: &str,
    name: Option<&str>,
    kind: &str,
    now: i64,
) -> Result<(), AppError> {
    c.prepare_cached(
        "INSERT INTO outbox (share_id, email, name, kind, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
    )?
    .execute(params![share_id, email, name, kind, now])?;
    Ok(())
}

/// The state of the newest mail per address (lower-cased) of a share.
pub fn delivery_of(c: &Connection, share_id: i64) -> Result<HashMap<String, String>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT email, status FROM outbox WHERE share_id = ?1 ORDER BY id")?;
    let mut out = HashMap::new();
    for row in stmt.query_map([share_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (email, status) = row?;
        out.insert(email.to_lowercase(), status);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub share_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub kind: String,
    pub status: String,
}

pub fn outbox_of(c: &Connection, share_id: i64) -> Result<Vec<OutboxRow>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT id, share_id, email, name, kind, status FROM outbox WHERE share_id = ?1 ORDER BY id")?;
    let rows = stmt
        .query_map([share_id], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                share_id: r.get(1)?,
                email: r.get(2)?,
                name: r.get(3)?,
                kind: r.get(4)?,
                status: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub share_id: i64,
    pub at: i64,
    pub kind: &'static str,
    pub file_uuid: Option<String>,
    pub ip_hash: String,
    pub user_agent: String,
}

/// Adds counted views and downloads, and their activity rows, in one go.
pub fn record_counts(
    c: &Connection,
    counts: &HashMap<i64, (i64, i64)>,
    activity: &[ActivityRow],
) -> Result<(), AppError> {
    let mut upd = c.prepare_cached(
        "UPDATE shares SET views = views + ?2, downloads = downloads + ?3 WHERE id = ?1",
    )?;
    for (id, (views, downloads)) in counts {
        upd.execute(params![id, views, downloads])?;
    }
    // The share may be gone since: its activity goes with it.
    let mut ins = c.prepare_cached(
        "INSERT INTO share_activity (share_id, at, kind, file_uuid, ip_hash, user_agent)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM shares WHERE id = ?1)",
    )?;
    for a in activity {
        ins.execute(params![
            a.share_id,
            a.at,
            a.kind,
            a.file_uuid,
            a.ip_hash,
            a.user_agent
        ])?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ActivityOut {
    pub at: i64,
    pub kind: String,
    pub file_uuid: Option<String>,
    pub ip_hash: String,
    pub user_agent: String,
}

pub fn list_activity(
    c: &Connection,
    share_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ActivityOut>, i64), AppError> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM share_activity WHERE share_id = ?1",
        [share_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(
        "SELECT at, kind, file_uuid, ip_hash, user_agent FROM share_activity WHERE share_id = ?1
         ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt
        .query_map(params![share_id, limit, offset], |r| {
            Ok(ActivityOut {
                at: r.get(0)?,
                kind: r.get(1)?,
                file_uuid: r.get(2)?,
                ip_hash: r.get(3)?,
                user_agent: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

pub fn org_secret(c: &Connection, org_id: i64) -> Result<String, AppError> {
    Ok(c.prepare_cached("SELECT secret FROM orgs WHERE id = ?1")?
        .query_row([org_id], |r| r.get(0))?)
}

pub fn org_token(c: &Connection, org_id: i64) -> Result<String, AppError> {
    Ok(c.prepare_cached("SELECT token FROM orgs WHERE id = ?1")?
        .query_row([org_id], |r| r.get(0))?)
}

/// The files a share names one by one, in the share's order (files deleted since are gone),
/// with their folder paths.
pub fn item_files(c: &Connection, share_id: i64) -> Result<Vec<FileRow>, AppError> {
    let sql = format!(
        "SELECT {FILE_COLS} FROM share_items i JOIN shares s ON s.id = i.share_id
         JOIN files x ON x.id = i.file_id AND x.org_id = s.org_id
         JOIN blobs b ON b.id = x.blob_id JOIN folders d ON d.id = x.folder_id
         WHERE i.share_id = ?1 ORDER BY i.position"
    );
    let mut files = c
        .prepare_cached(&sql)?
        .query_map([share_id], |r| file_row(r, String::new()))?
        .collect::<Result<Vec<_>, _>>()?;
    fill_folder_paths(c, &mut files)?;
    Ok(files)
}

/// Where a page of an org's shares (newest first) starts: after or before the share at
/// (created_at, id), as the owner's list pages them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareSeek {
    First,
    After(i64, i64),
    Before(i64, i64),
}

/// A keyset page of an org's shares on `shares_org_created`: `?1` org, `?2`/`?3` the bound's
/// (created_at, id), `?4` a title LIKE pattern (NULL: none), `?5` the limit. `Before` reads
/// oldest first (the caller reverses).
pub fn share_page_sql(seek: ShareSeek) -> String {
    let (range, dir) = match seek {
        ShareSeek::First => ("", "DESC"),
        ShareSeek::After(..) => ("AND (s.created_at, s.id) < (?2, ?3)", "DESC"),
        ShareSeek::Before(..) => ("AND (s.created_at, s.id) > (?2, ?3)", "ASC"),
    };
    format!(
        "SELECT {SHARE_COLS} FROM shares s LEFT JOIN users u ON u.id = s.owner_user_id
         WHERE s.org_id = ?1 {range} AND (?4 IS NULL OR s.title LIKE ?4 ESCAPE '\\')
         ORDER BY s.created_at {dir}, s.id {dir} LIMIT ?5"
    )
}

pub fn share_page(
    c: &Connection,
    org_id: i64,
    seek: ShareSeek,
    pattern: Option<&str>,
    limit: i64,
) -> Result<Vec<ShareRow>, AppError> {
    let (at, id) = match seek {
        ShareSeek::First => (None, None),
        ShareSeek::After(a, i) | ShareSeek::Before(a, i) => (Some(a), Some(i)),
    };
    let rows = c
        .prepare_cached(&share_page_sql(seek))?
        .query_map(params![org_id, at, id, pattern, limit], share_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub const COUNT_SHARES: &str = "SELECT COUNT(*) FROM shares WHERE org_id = ?1";
pub const COUNT_SHARES_LIKE: &str =
    "SELECT COUNT(*) FROM shares WHERE org_id = ?1 AND title LIKE ?2 ESCAPE '\\'";

/// How many shares the org has (an index-only count), or how many of them match `pattern`.
pub fn count_shares(c: &Connection, org_id: i64, pattern: Option<&str>) -> Result<i64, AppError> {
    Ok(match pattern {
        None => c
            .prepare_cached(COUNT_SHARES)?
            .query_row([org_id], |r| r.get(0))?,
        Some(p) => c
            .prepare_cached(COUNT_SHARES_LIKE)?
            .query_row(params![org_id, p], |r| r.get(0))?,
    })
}

/// Views and downloads per UTC day from `since` (a day's first second) on: (day number since
/// the epoch, views, downloads), days without any left out. A range read of the share's
/// activity through share_activity_share.
pub fn activity_per_day(
    c: &Connection,
    share_id: i64,
    since: i64,
) -> Result<Vec<(i64, i64, i64)>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT at / 86400, SUM(kind = 'view'), SUM(kind = 'download') FROM share_activity
         WHERE share_id = ?1 AND at >= ?2 GROUP BY at / 86400 ORDER BY 1",
    )?;
    let rows = stmt
        .query_map(params![share_id, since], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
