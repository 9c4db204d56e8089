//! Chunked uploads and their parts.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};

#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub secret_hash: String,
    pub tmp_name: String,
    pub folder_uuid: Option<String>,
    pub name: String,
    pub replace_uuid: Option<String>,
    pub asset_uuid: String,
    pub content_length: i64,
    pub chunk_size: i64,
    pub completed: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

const UPLOAD_COLS: &str = "u.id, u.uuid, u.org_id, u.secret_hash, u.tmp_name, u.folder_uuid, u.name,
    u.replace_uuid, u.asset_uuid, u.content_length, u.chunk_size, u.completed, u.created_at, u.expires_at";

fn upload_row(r: &Row) -> rusqlite::Result<UploadRow> {
    Ok(UploadRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        org_id: r.get(2)?,
        secret_hash: r.get(3)?,
        tmp_name: r.get(4)?,
        folder_uuid: r.get(5)?,
        name: r.get(6)?,
        replace_uuid: r.get(7)?,
        asset_uuid: r.get(8)?,
        content_length: r.get(9)?,
        chunk_size: r.get(10)?,
        completed: r.get(11)?,
        created_at: r.get(12)?,
        expires_at: r.get(13)?,
    })
}

/// Inserts an upload (its `id` is ignored); returns the new id.
pub fn insert_upload(c: &Connection, u: &UploadRow) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO uploads (uuid, org_id, secret_hash, tmp_name, folder_uuid, name, replace_uuid,
            asset_uuid, content_length, chunk_size, completed, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12)",
        params![
            u.uuid,
            u.org_id,
            u.secret_hash,
            u.tmp_name,
            u.folder_uuid,
            u.name,
            u.replace_uuid,
            u.asset_uuid,
            u.content_length,
            u.chunk_size,
            u.created_at,
            u.expires_at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn find_upload(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<UploadRow>, AppError> {
    Ok(c.query_row(
        &format!("SELECT {UPLOAD_COLS} FROM uploads u WHERE u.org_id = ?1 AND u.uuid = ?2"),
        params![org_id, uuid],
        upload_row,
    )
    .optional()?)
}

pub fn mark_completed(c: &Connection, upload_id: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE uploads SET completed = 1 WHERE id = ?1",
        [upload_id],
    )?;
    c.execute("DELETE FROM upload_parts WHERE upload_id = ?1", [upload_id])?;
    Ok(())
}

pub fn delete_upload(c: &Connection, upload_id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM uploads WHERE id = ?1", [upload_id])?;
    Ok(())
}

/// Deletes every upload that expired by `now`; returns the tmp/ files of those still open.
pub fn delete_expired(c: &Connection, now: i64) -> Result<Vec<String>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT tmp_name FROM uploads WHERE expires_at <= ?1 AND completed = 0")?;
    let names = stmt
        .query_map([now], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    c.execute("DELETE FROM uploads WHERE expires_at <= ?1", [now])?;
    Ok(names)
}

#[derive(Debug, Clone)]
pub struct PartRow {
    pub id: i64,
    pub uuid: String,
    pub upload_id: i64,
    pub number: i64,
    pub start: i64,
    /// Inclusive.
    pub end: i64,
    pub sha256: Option<String>,
    pub confirmed: bool,
}

impl PartRow {
    pub fn byte_len(&self) -> u64 {
        (self.end - self.start + 1).max(0) as u64
    }
}

const PART_COLS: &str =
    "p.id, p.uuid, p.upload_id, p.part_number, p.start_pos, p.end_pos, p.sha256, p.confirmed";

fn part_row(r: &Row) -> rusqlite::Result<PartRow> {
    Ok(PartRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        upload_id: r.get(2)?,
        number: r.get(3)?,
        start: r.get(4)?,
        end: r.get(5)?,
        sha256: r.get(6)?,
        confirmed: r.get(7)?,
    })
}

pub fn insert_part(
    c: &Connection,
    upload_id: i64,
    uuid: &str,
    number: i64,
    start: i64,
    end: i64,
) -> Result<(), AppError> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO upload_parts (uuid, upload_id, part_number, start_pos, end_pos)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![uuid, upload_id, number, start, end])?;
    Ok(())
}

pub fn parts_of(c: &Connection, upload_id: i64) -> Result<Vec<PartRow>, AppError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {PART_COLS} FROM upload_parts p WHERE p.upload_id = ?1 ORDER BY p.part_number"
    ))?;
    let rows = stmt
        .query_map([upload_id], part_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A part by its uuid, with its upload (of any org: part URLs carry no credential).
pub fn find_part(c: &Connection, uuid: &str) -> Result<Option<(PartRow, UploadRow)>, AppError> {
    let part = c
        .query_row(
            &format!("SELECT {PART_COLS} FROM upload_parts p WHERE p.uuid = ?1"),
            [uuid],
            part_row,
        )
        .optional()?;
    let Some(part) = part else {
        return Ok(None);
    };
    let upload = c
        .query_row(
            &format!("SELECT {UPLOAD_COLS} FROM uploads u WHERE u.id = ?1"),
            [part.upload_id],
            upload_row,
        )
        .optional()?;
    Ok(upload.map(|u| (part, u)))
}

/// Records the hash of the bytes the part holds now (None: not whole); unconfirms it.
pub fn set_part_hash(c: &Connection, part_id: i64, sha256: Option<&str>) -> Result<(), AppError> {
    c.execute(
        "UPDATE upload_parts SET sha256 = ?2, confirmed = 0 WHERE id = ?1",
        params![part_id, sha256],
    )?;
    Ok(())
}

pub fn confirm_part(c: &Connection, part_id: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE upload_parts SET confirmed = 1 WHERE id = ?1",
        [part_id],
    )?;
    Ok(())
}
