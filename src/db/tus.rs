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
    /// Where its bytes go: `fs`, or a bucket they are sent to part by part (schema 13).
    pub store: String,
    /// The object in that bucket, once chosen, and its multipart upload while one is open.
    pub blob_id: Option<String>,
    pub mp_id: Option<String>,
    /// Bytes already in the bucket (freed on disk).
    pub sent: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestUpload {
    pub request_id: i64,
    pub uploader_id: i64,
    pub note: Option<String>,
}

const COLS: &str = "id, uuid, kind, org_id, length, received, filename, filetype, folder_path,
    folder_uuid, metadata, file_uuid, created_at, expires_at, request_id, uploader_id, note,
    store, blob_id, mp_id, sent";

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
        store: r.get(17)?,
        blob_id: r.get(18)?,
        mp_id: r.get(19)?,
        sent: r.get(20)?,
    })
}

/// Inserts an upload (its `id` is ignored); returns the new id.
pub fn insert(c: &Connection, u: &TusRow) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO tus_uploads (uuid, kind, org_id, length, received, filename, filetype,
            folder_path, folder_uuid, metadata, file_uuid, created_at, expires_at, request_id,
            uploader_id, note, store)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
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
            u.request.as_ref().and_then(|r| r.note.clone()),
            u.store
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

/// An upload row that went: its file under uploads/ goes next, and its multipart upload (when
/// one is open) is aborted.
#[derive(Debug, Clone)]
pub struct Gone {
    pub uuid: String,
    pub store: String,
    pub blob_id: Option<String>,
    pub mp_id: Option<String>,
}

fn gone(r: &Row) -> rusqlite::Result<Gone> {
    Ok(Gone {
        uuid: r.get(0)?,
        store: r.get(1)?,
        blob_id: r.get(2)?,
        mp_id: r.get(3)?,
    })
}

pub fn delete(c: &Connection, id: i64) -> Result<Option<Gone>, AppError> {
    Ok(c.query_row(
        "DELETE FROM tus_uploads WHERE id = ?1 RETURNING uuid, store, blob_id, mp_id",
        [id],
        gone,
    )
    .optional()?)
}

/// Deletes the uploads in progress through request `request_id` (deleted next, in the same
/// transaction; their files and multipart uploads go after it).
pub fn delete_for_request(c: &Connection, request_id: i64) -> Result<Vec<Gone>, AppError> {
    delete_where(c, "request_id = ?1", [request_id])
}

/// Deletes the uploads of `kind` expired at `now` (their files and multipart uploads go next).
pub fn delete_expired(c: &Connection, kind: &str, now: i64) -> Result<Vec<Gone>, AppError> {
    delete_where(c, "kind = ?1 AND expires_at <= ?2", params![kind, now])
}

/// Deletes the uploads `condition` picks; what each left to clean up.
fn delete_where(
    c: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Gone>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "DELETE FROM tus_uploads WHERE {condition} RETURNING uuid, store, blob_id, mp_id"
    ))?;
    let rows = stmt
        .query_map(args, gone)?
        .collect::<Result<Vec<Gone>, _>>()?;
    Ok(rows)
}

/// Where an upload's sending to its bucket stands: the bytes sent, the SHA-256 state (or, once
/// the object is whole, the digest) and CRC-32 after them.
#[derive(Debug, Clone)]
pub struct Shipped {
    pub blob_id: Option<String>,
    pub mp_id: Option<String>,
    pub sent: i64,
    pub sha_state: Option<Vec<u8>>,
    pub crc: u32,
}

pub fn shipped(c: &Connection, id: i64) -> Result<Option<Shipped>, AppError> {
    Ok(c.query_row(
        "SELECT blob_id, mp_id, sent, sha_state, crc FROM tus_uploads WHERE id = ?1",
        [id],
        |r| {
            Ok(Shipped {
                blob_id: r.get(0)?,
                mp_id: r.get(1)?,
                sent: r.get(2)?,
                sha_state: r.get(3)?,
                crc: r.get(4)?,
            })
        },
    )
    .optional()?)
}

/// The ETags of the parts sent, in order.
pub fn part_etags(c: &Connection, id: i64) -> Result<Vec<String>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT etag FROM tus_parts WHERE upload_id = ?1 ORDER BY idx")?;
    let etags = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(etags)
}

/// Records the object and multipart upload an upload's parts go to.
pub fn set_multipart(c: &Connection, id: i64, blob_id: &str, mp_id: &str) -> Result<(), AppError> {
    c.execute(
        "UPDATE tus_uploads SET blob_id = ?2, mp_id = ?3 WHERE id = ?1",
        params![id, blob_id, mp_id],
    )?;
    Ok(())
}

/// Records part `idx` sent, and where the hashes stand after it.
pub fn add_part(
    c: &Connection,
    id: i64,
    idx: i64,
    etag: &str,
    sent: i64,
    sha_state: &[u8],
    crc: u32,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO tus_parts (upload_id, idx, etag) VALUES (?1, ?2, ?3)",
        params![id, idx, etag],
    )?;
    c.execute(
        "UPDATE tus_uploads SET sent = ?2, sha_state = ?3, crc = ?4 WHERE id = ?1",
        params![id, sent, sha_state, crc],
    )?;
    Ok(())
}

/// The object is whole in the bucket: its digest and CRC-32; the parts are done with.
pub fn set_shipped(
    c: &Connection,
    id: i64,
    blob_id: &str,
    sha256: &[u8],
    crc: u32,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE tus_uploads SET blob_id = ?2, mp_id = NULL, sent = length, sha_state = ?3,
            crc = ?4 WHERE id = ?1",
        params![id, blob_id, sha256, crc],
    )?;
    c.execute("DELETE FROM tus_parts WHERE upload_id = ?1", [id])?;
    Ok(())
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
