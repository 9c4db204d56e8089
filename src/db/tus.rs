//! tus uploads (`tus_uploads`): one row per upload, its bytes in uploads/<uuid>.part.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};

#[derive(Debug, Clone)]
pub struct TusRow {
    pub id: i64,
    pub uuid: String,
    pub kind: String,
    pub org_id: i64,
    pub length: i64,
    /// Bytes on disk and fsynced: what HEAD reports.
    pub received: i64,
    pub filename: String,
    pub filetype: Option<String>,
    pub folder_path: Option<String>,
    pub folder_uuid: Option<String>,
    pub metadata: String,
    pub file_uuid: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// A file request's upload: the request, its uploader and their note (schema 11).
    pub request: Option<RequestUpload>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestUpload {
    pub request_id: i64,
    pub uploader_id: i64,
    pub note: Option<String>,
}

const COLS: &str = "id, uuid, kind, org_id, length, received, filename, filetype, folder_path,
    folder_uuid, metadata, file_uuid, created_at, expires_at, request_id, uploader_id, note";

fn row(r: &Row) -> rusqlite::Result<TusRow> {
    Ok(TusRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        kind: r.get(2)?,
        org_id: r.get(3)?,
        length: r.get(4)?,
        received: r.get(5)?,
        filename: r.get(6)?,
        filetype: r.get(7)?,
        folder_path: r.get(8)?,
        folder_uuid: r.get(9)?,
        metadata: r.get(10)?,
        file_uuid: r.get(11)?,
        created_at: r.get(12)?,
        expires_at: r.get(13)?,
        request: match (r.get::<_, Option<i64>>(14)?, r.get::<_, Option<i64>>(15)?) {
            (Some(request_id), Some(uploader_id)) => Some(RequestUpload {
                request_id,
                uploader_id,
                note: r.get(16)?,
            }),
            _ => None,
        },
    })
}

/// Inserts an upload (its `id` is ignored); returns the new id.
pub fn insert(c: &Connection, u: &TusRow) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO tus_uploads (uuid, kind, org_id, length, received, filename, filetype,
            folder_path, folder_uuid, metadata, file_uuid, created_at, expires_at, request_id,
            uploader_id, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            u.uuid,
            u.kind,
            u.org_id,
            u.length,
            u.received,
            u.filename,
            u.filetype,
            u.folder_path,
            u.folder_uuid,
            u.metadata,
            u.file_uuid,
            u.created_at,
            u.expires_at,
            u.request.as_ref().map(|r| r.request_id),
            u.request.as_ref().map(|r| r.uploader_id),
            u.request.as_ref().and_then(|r| r.note.clone())
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// An upload of `kind` by its uuid, whatever its org (the caller checks the org).
pub fn find(c: &Connection, kind: &str, uuid: &str) -> Result<Option<TusRow>, AppError> {
    Ok(c.query_row(
        &format!("SELECT {COLS} FROM tus_uploads WHERE kind = ?1 AND uuid = ?2"),
        params![kind, uuid],
        row,
    )
    .optional()?)
}

/// Records bytes made durable and moves the expiry.
pub fn set_received(
    c: &Connection,
    id: i64,
    received: i64,
    expires_at: i64,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE tus_uploads SET received = ?2, expires_at = ?3 WHERE id = ?1",
        params![id, received, expires_at],
    )?;
    Ok(())
}

/// The upload is a library file now; its row stays until it expires, for HEADs after the end.
pub fn set_completed(
    c: &Connection,
    id: i64,
    file_uuid: &str,
    expires_at: i64,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE tus_uploads SET received = length, file_uuid = ?2, expires_at = ?3 WHERE id = ?1",
        params![id, file_uuid, expires_at],
    )?;
    Ok(())
}

pub fn delete(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM tus_uploads WHERE id = ?1", [id])?;
    Ok(())
}

/// Deletes the uploads of `kind` expired at `now`; returns their uuids (their files go next).
pub fn delete_expired(c: &Connection, kind: &str, now: i64) -> Result<Vec<String>, AppError> {
    let mut stmt = c.prepare_cached(
        "DELETE FROM tus_uploads WHERE kind = ?1 AND expires_at <= ?2 RETURNING uuid",
    )?;
    let uuids = stmt
        .query_map(params![kind, now], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(uuids)
}

/// Whether any upload (of any kind) has this uuid: a file under uploads/ without one is an
/// orphan (a crash between creating the file and its row).
pub fn exists(c: &Connection, uuid: &str) -> Result<bool, AppError> {
    Ok(
        c.query_row("SELECT 1 FROM tus_uploads WHERE uuid = ?1", [uuid], |_| {
            Ok(())
        })
        .optional()?
        .is_some(),
    )
}
