//! The SQL of `sharebox backup` and `sharebox verify` (src/backup.rs): a consistent copy of the
//! database in one step, and the blob rows of a database, read in short pages.

use super::{OptionalExtension, BUSY_TIMEOUT};
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, OpenFlags};
use serde::Serialize;
use std::path::Path;

/// Opens an existing database for reading beside a running server: never creates one (a wrong
/// `--data-dir` is an error, not a new empty database), never migrates, waits on the busy timeout.
pub fn open_existing(path: &Path) -> Result<Connection, AppError> {
    if !path.is_file() {
        return Err(AppError::internal(format!(
            "no database at {}: is --data-dir right?",
            path.display()
        )));
    }
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(BUSY_TIMEOUT)?;
    Ok(c)
}

/// Writes a consistent copy of the whole database to `dest` (which must not exist) in one step:
/// `VACUUM INTO` reads one snapshot inside one read transaction, so writers committing meanwhile
/// (WAL) neither block it nor make it start over. The copy is what was committed when it began.
pub fn vacuum_into(c: &Connection, dest: &Path) -> Result<(), AppError> {
    let dest = dest
        .to_str()
        .ok_or_else(|| AppError::internal(format!("not a UTF-8 path: {}", dest.display())))?;
    c.execute("VACUUM INTO ?1", params![dest])?;
    Ok(())
}

/// What a database holds, for the manifest.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub orgs: i64,
    pub users: i64,
    pub shares: i64,
    pub files: i64,
    pub blobs: i64,
    /// The sum of the blobs' sizes.
    pub bytes: i64,
}

pub fn counts(c: &Connection) -> Result<Counts, AppError> {
    let one = |sql: &str| -> Result<i64, AppError> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    Ok(Counts {
        orgs: one("SELECT count(*) FROM orgs")?,
        users: one("SELECT count(*) FROM users")?,
        shares: one("SELECT count(*) FROM shares")?,
        files: one("SELECT count(*) FROM files")?,
        blobs: one("SELECT count(*) FROM blobs")?,
        bytes: one("SELECT coalesce(sum(size), 0) FROM blobs")?,
    })
}

/// `id, size, sha256, store` as selected, in that order.
pub(crate) fn blob_row(r: &rusqlite::Row) -> rusqlite::Result<BlobRow> {
    Ok(BlobRow {
        id: r.get(0)?,
        size: r.get(1)?,
        sha256: r.get(2)?,
        store: r.get(3)?,
    })
}

/// A blob row: the name of its file under blobs/ (or object in `store`) and what it must hold.
#[derive(Debug, Clone)]
pub struct BlobRow {
    pub id: String,
    pub size: i64,
    pub sha256: String,
    /// `fs`, or the `s3://bucket/prefix` it is in (schema 12; `fs` before).
    pub store: String,
}

/// Whether the blobs table has its `store` column: a data dir not yet opened by a server of
/// schema 12 lacks it, and then every blob is on `fs`.
fn has_store(c: &Connection) -> Result<bool, AppError> {
    Ok(c.query_row(
        "SELECT 1 FROM pragma_table_info('blobs') WHERE name = 'store'",
        [],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

/// Up to `limit` blob rows with an id after `after`, in id order: one short read per page, so a
/// long walk holds no read transaction open (which would keep the server's WAL from being
/// checkpointed).
pub fn blobs_after(c: &Connection, after: &str, limit: i64) -> Result<Vec<BlobRow>, AppError> {
    let sql = if has_store(c)? {
        "SELECT id, size, sha256, store FROM blobs WHERE id > ?1 ORDER BY id LIMIT ?2"
    } else {
        "SELECT id, size, sha256, 'fs' FROM blobs WHERE id > ?1 ORDER BY id LIMIT ?2"
    };
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(params![after, limit], blob_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The store of blob `id` (`fs` before schema 12); None when there is no such row.
pub fn blob_store(c: &Connection, id: &str) -> Result<Option<String>, AppError> {
    if !has_store(c)? {
        return Ok(blob_exists(c, id)?.then(|| "fs".to_string()));
    }
    Ok(
        c.query_row("SELECT store FROM blobs WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

/// Whether a blob row with this id exists now.
pub fn blob_exists(c: &Connection, id: &str) -> Result<bool, AppError> {
    Ok(
        c.query_row("SELECT 1 FROM blobs WHERE id = ?1", params![id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}
