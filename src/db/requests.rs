//! File requests (schema version 11): the requests, their uploaders, the files they sent, the
//! uploads in progress that hold a slot, and their batched mail.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};

/// One request row, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    pub uuid: String,
    pub puid: String,
    pub org_id: i64,
    pub owner_user_id: Option<i64>,
    pub title: String,
    pub message: String,
    pub folder_id: Option<i64>,
    pub starts_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub password_hash: Option<String>,
    pub password_gen: i64,
    pub max_files: Option<i64>,
    pub max_file_bytes: Option<i64>,
    pub max_total_bytes: Option<i64>,
    /// Lower-case, comma-separated; "" takes any.
    pub extensions: String,
    pub notify: bool,
    /// Comma-separated; "" mails the owner.
    pub notify_emails: String,
    pub revoked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, uuid, puid, org_id, owner_user_id, title, message, folder_id, starts_at,
    expires_at, starts_tz, expires_tz, password_hash, password_gen, max_files, max_file_bytes,
    max_total_bytes, extensions, notify, notify_emails, revoked, created_at, updated_at";

fn request_row(r: &Row) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        puid: r.get(2)?,
        org_id: r.get(3)?,
        owner_user_id: r.get(4)?,
        title: r.get(5)?,
        message: r.get(6)?,
        folder_id: r.get(7)?,
        starts_at: r.get(8)?,
        expires_at: r.get(9)?,
        starts_tz: r.get(10)?,
        expires_tz: r.get(11)?,
        password_hash: r.get(12)?,
        password_gen: r.get(13)?,
        max_files: r.get(14)?,
        max_file_bytes: r.get(15)?,
        max_total_bytes: r.get(16)?,
        extensions: r.get(17)?,
        notify: r.get(18)?,
        notify_emails: r.get(19)?,
        revoked: r.get(20)?,
        created_at: r.get(21)?,
        updated_at: r.get(22)?,
    })
}

pub fn insert(c: &Connection, r: &RequestRow) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO requests (uuid, puid, org_id, owner_user_id, title, message, folder_id,
            starts_at, expires_at, starts_tz, expires_tz, password_hash, password_gen, max_files,
            max_file_bytes, max_total_bytes, extensions, notify, notify_emails, revoked,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22)",
        params![
            r.uuid,
            r.puid,
            r.org_id,
            r.owner_user_id,
            r.title,
            r.message,
            r.folder_id,
            r.starts_at,
            r.expires_at,
            r.starts_tz,
            r.expires_tz,
            r.password_hash,
            r.password_gen,
            r.max_files,
            r.max_file_bytes,
            r.max_total_bytes,
            r.extensions,
            r.notify,
            r.notify_emails,
            r.revoked,
            r.created_at,
            r.updated_at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn update(c: &Connection, r: &RequestRow) -> Result<(), AppError> {
    c.execute(
        "UPDATE requests SET title = ?2, message = ?3, folder_id = ?4, starts_at = ?5,
            expires_at = ?6, starts_tz = ?7, expires_tz = ?8, password_hash = ?9,
            password_gen = ?10, max_files = ?11, max_file_bytes = ?12, max_total_bytes = ?13,
            extensions = ?14, notify = ?15, notify_emails = ?16, revoked = ?17, updated_at = ?18
         WHERE id = ?1",
        params![
            r.id,
            r.title,
            r.message,
            r.folder_id,
            r.starts_at,
            r.expires_at,
            r.starts_tz,
            r.expires_tz,
            r.password_hash,
            r.password_gen,
            r.max_files,
            r.max_file_bytes,
            r.max_total_bytes,
            r.extensions,
            r.notify,
            r.notify_emails,
            r.revoked,
            r.updated_at
        ],
    )?;
    Ok(())
}

pub fn set_folder(c: &Connection, id: i64, folder_id: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE requests SET folder_id = ?2 WHERE id = ?1",
        params![id, folder_id],
    )?;
    Ok(())
}

pub fn delete(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM requests WHERE id = ?1", [id])?;
    Ok(())
}

/// The org's request `uuid`.
pub fn find(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<RequestRow>, AppError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLS} FROM requests WHERE uuid = ?1 AND org_id = ?2"
    ))?
    .query_row(params![uuid, org_id], request_row)
    .optional()?)
}

pub fn find_by_puid(c: &Connection, puid: &str) -> Result<Option<RequestRow>, AppError> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLS} FROM requests WHERE puid = ?1"))?
            .query_row([puid], request_row)
            .optional()?,
    )
}

pub fn by_id(c: &Connection, id: i64) -> Result<Option<RequestRow>, AppError> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLS} FROM requests WHERE id = ?1"))?
            .query_row([id], request_row)
            .optional()?,
    )
}

/// A page of the org's requests, newest first.
pub fn list(
    c: &Connection,
    org_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<RequestRow>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM requests WHERE org_id = ?1
         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt
        .query_map(params![org_id, limit, offset], request_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn count(c: &Connection, org_id: i64) -> Result<i64, AppError> {
    Ok(
        c.prepare_cached("SELECT COUNT(*) FROM requests WHERE org_id = ?1")?
            .query_row([org_id], |r| r.get(0))?,
    )
}

/// What came through a request and is still in the library: (files, bytes, uploaders).
pub fn counts(c: &Connection, request_id: i64) -> Result<(i64, i64, i64), AppError> {
    // Kept by triggers (schema 14): one row, however many files came.
    Ok(c.prepare_cached(
        "SELECT live_files, live_bytes, live_uploaders FROM requests WHERE id = ?1",
    )?
    .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

/// Uploads in progress that hold a slot at `now`: (uploads, their declared bytes).
pub fn reserved(c: &Connection, request_id: i64, now: i64) -> Result<(i64, i64), AppError> {
    Ok(c.prepare_cached(
        "SELECT COUNT(*), COALESCE(SUM(length), 0) FROM tus_uploads
             WHERE request_id = ?1 AND file_uuid IS NULL AND expires_at > ?2",
    )?
    .query_row(params![request_id, now], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The folder a request's files land in: its uuid and path-less name, if it still exists.
pub fn folder_uuid(c: &Connection, folder_id: i64) -> Result<Option<String>, AppError> {
    Ok(c.prepare_cached("SELECT uuid FROM folders WHERE id = ?1")?
        .query_row([folder_id], |r| r.get(0))
        .optional()?)
}

#[derive(Debug, Clone, PartialEq)]
pub struct UploaderRow {
    pub id: i64,
    pub request_id: i64,
    pub password_gen: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub expires_at: i64,
}

pub fn insert_uploader(
    c: &Connection,
    request_id: i64,
    token_hash: &str,
    password_gen: i64,
    now: i64,
    expires_at: i64,
) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO request_uploaders (request_id, token_hash, password_gen, created_at,
            expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![request_id, token_hash, password_gen, now, expires_at],
    )?;
    Ok(c.last_insert_rowid())
}

/// The uploader whose cookie hashes to `token_hash`.
pub fn uploader(c: &Connection, token_hash: &str) -> Result<Option<UploaderRow>, AppError> {
    Ok(c.prepare_cached(
        "SELECT id, request_id, password_gen, name, email, expires_at
             FROM request_uploaders WHERE token_hash = ?1",
    )?
    .query_row([token_hash], |r| {
        Ok(UploaderRow {
            id: r.get(0)?,
            request_id: r.get(1)?,
            password_gen: r.get(2)?,
            name: r.get(3)?,
            email: r.get(4)?,
            expires_at: r.get(5)?,
        })
    })
    .optional()?)
}

/// Keeps the name and email an uploader gave last.
pub fn set_uploader_contact(
    c: &Connection,
    id: i64,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE request_uploaders SET name = COALESCE(?2, name), email = COALESCE(?3, email)
         WHERE id = ?1",
        params![id, name, email],
    )?;
    Ok(())
}

/// A file that came through a request, as recorded when it lands.
pub struct NewSentFile<'a> {
    pub request_id: i64,
    pub uploader_id: i64,
    pub file_id: i64,
    pub name: &'a str,
    pub size: i64,
    pub note: Option<&'a str>,
    pub now: i64,
}

pub fn insert_file(c: &Connection, f: &NewSentFile) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO request_files (request_id, uploader_id, file_id, name, size, note,
            created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            f.request_id,
            f.uploader_id,
            f.file_id,
            f.name,
            f.size,
            f.note,
            f.now
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// A file as its uploader (or the owner's activity list) sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentFile {
    pub id: i64,
    /// The library file; None once it left the library.
    pub file_id: Option<i64>,
    pub file_uuid: Option<String>,
    pub name: String,
    pub size: i64,
    pub note: Option<String>,
    pub uploader_name: Option<String>,
    pub uploader_email: Option<String>,
    pub created_at: i64,
    pub removed_at: Option<i64>,
}

const SENT_COLS: &str = "rf.id, rf.file_id, f.uuid, rf.name, rf.size, rf.note, u.name, u.email,
    rf.created_at, rf.removed_at";

fn sent_file(r: &Row) -> rusqlite::Result<SentFile> {
    Ok(SentFile {
        id: r.get(0)?,
        file_id: r.get(1)?,
        file_uuid: r.get(2)?,
        name: r.get(3)?,
        size: r.get(4)?,
        note: r.get(5)?,
        uploader_name: r.get(6)?,
        uploader_email: r.get(7)?,
        created_at: r.get(8)?,
        removed_at: r.get(9)?,
    })
}

/// What one uploader sent that is still in the library, newest first (at most `limit`).
pub fn files_of(c: &Connection, uploader_id: i64, limit: i64) -> Result<Vec<SentFile>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SENT_COLS} FROM request_files rf
         JOIN request_uploaders u ON u.id = rf.uploader_id
         LEFT JOIN files f ON f.id = rf.file_id
         WHERE rf.uploader_id = ?1 AND rf.file_id IS NOT NULL
         ORDER BY rf.id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![uploader_id, limit], sent_file)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Everything that came through a request, newest first: the owner's activity.
pub fn activity(
    c: &Connection,
    request_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<SentFile>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SENT_COLS} FROM request_files rf
         JOIN request_uploaders u ON u.id = rf.uploader_id
         LEFT JOIN files f ON f.id = rf.file_id
         WHERE rf.request_id = ?1 ORDER BY rf.id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt
        .query_map(params![request_id, limit, offset], sent_file)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Request files with ids in (after, upto], oldest first: what one mail lists.
pub fn files_between(
    c: &Connection,
    request_id: i64,
    after: i64,
    upto: i64,
) -> Result<Vec<SentFile>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SENT_COLS} FROM request_files rf
         JOIN request_uploaders u ON u.id = rf.uploader_id
         LEFT JOIN files f ON f.id = rf.file_id
         WHERE rf.request_id = ?1 AND rf.id > ?2 AND rf.id <= ?3 ORDER BY rf.id"
    ))?;
    let rows = stmt
        .query_map(params![request_id, after, upto], sent_file)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The uploader's file `file_uuid` (still in the library): (request file id, library file id).
pub fn uploader_file(
    c: &Connection,
    uploader_id: i64,
    file_uuid: &str,
) -> Result<Option<(i64, i64)>, AppError> {
    Ok(c.prepare_cached(
        "SELECT rf.id, f.id FROM files f JOIN request_files rf ON rf.file_id = f.id
             WHERE f.uuid = ?1 AND rf.uploader_id = ?2",
    )?
    .query_row(params![file_uuid, uploader_id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()?)
}

pub fn mark_removed(c: &Connection, request_file_id: i64, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE request_files SET removed_at = ?2 WHERE id = ?1",
        params![request_file_id, now],
    )?;
    Ok(())
}

/// The last request file id any mail to `email` about the request listed (0: none yet), and
/// when the last of them went.
pub fn last_mailed(
    c: &Connection,
    request_id: i64,
    email: &str,
) -> Result<(i64, Option<i64>), AppError> {
    Ok(c.prepare_cached(
        "SELECT COALESCE(MAX(upto_file), 0), MAX(sent_at) FROM outbox
             WHERE request_id = ?1 AND email = ?2 AND status = 'sent'",
    )?
    .query_row(params![request_id, email], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Whether a mail to `email` about the request is waiting to go.
pub fn mail_pending(c: &Connection, request_id: i64, email: &str) -> Result<bool, AppError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM outbox WHERE request_id = ?1 AND email = ?2
             AND status = 'pending')",
    )?
    .query_row(params![request_id, email], |r| r.get(0))?)
}

pub fn queue_mail(
    c: &Connection,
    request_id: i64,
    email: &str,
    after_file: i64,
    due: i64,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO outbox (request_id, after_file, email, kind, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, 'request_files', ?4, ?5)",
        params![request_id, after_file, email, due, now],
    )?;
    Ok(())
}

/// The newest request file id (0: none).
pub fn last_file_id(c: &Connection, request_id: i64) -> Result<i64, AppError> {
    Ok(
        c.prepare_cached("SELECT COALESCE(MAX(id), 0) FROM request_files WHERE request_id = ?1")?
            .query_row([request_id], |r| r.get(0))?,
    )
}

/// Records which request files a sent mail listed.
pub fn set_mail_upto(c: &Connection, outbox_id: i64, upto: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE outbox SET upto_file = ?2 WHERE id = ?1",
        params![outbox_id, upto],
    )?;
    Ok(())
}

/// Emails of the org's admins (who hear of a request made with an API key).
pub fn admin_emails(c: &Connection, org_id: i64) -> Result<Vec<String>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT email FROM users WHERE org_id = ?1 AND is_admin = 1 ORDER BY id")?;
    let rows = stmt
        .query_map([org_id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

/// A user's email.
pub fn user_email(c: &Connection, user_id: i64) -> Result<Option<String>, AppError> {
    Ok(c.prepare_cached("SELECT email FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

/// Forgets uploaders whose cookie expired and who sent nothing (a visit that never uploaded);
/// returns how many went. Those who sent files stay, for the activity.
pub fn delete_idle_uploaders(c: &Connection, now: i64) -> Result<usize, AppError> {
    Ok(c.execute(
        "DELETE FROM request_uploaders WHERE expires_at <= ?1
         AND NOT EXISTS (SELECT 1 FROM request_files rf WHERE rf.uploader_id = request_uploaders.id)
         AND NOT EXISTS (SELECT 1 FROM tus_uploads t WHERE t.uploader_id = request_uploaders.id)",
        [now],
    )?)
}
