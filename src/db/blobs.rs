//! Which store each blob is in (schema 12), for reads and `blobs migrate`.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

/// The store blob `id` is in (`fs` or `s3://...`); None when there is no such blob.
pub fn blob_store(c: &Connection, id: &str) -> Result<Option<String>, AppError> {
    Ok(c.prepare_cached("SELECT store FROM blobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub use super::backup::BlobRow;

/// Up to `limit` blobs not in `store`, with an id after `after`, in id order.
pub fn blobs_not_in(
    c: &Connection,
    store: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<BlobRow>, AppError> {
    let mut st = c.prepare_cached(
        "SELECT id, size, sha256, store FROM blobs WHERE id > ?1 AND store <> ?2 \
         ORDER BY id LIMIT ?3",
    )?;
    let rows = st.query_map(params![after, store, limit], super::backup::blob_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many blobs are not in `store`.
pub fn count_blobs_not_in(c: &Connection, store: &str) -> Result<u64, AppError> {
    let n: i64 = c.query_row(
        "SELECT count(*) FROM blobs WHERE store <> ?1",
        [store],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// Moves blob `id` from store `from` to `to`; false when it is no longer in `from` (deleted,
/// or moved by someone else), and then the new copy is the caller's to remove.
pub fn set_blob_store(c: &Connection, id: &str, from: &str, to: &str) -> Result<bool, AppError> {
    Ok(c.execute(
        "UPDATE blobs SET store = ?3 WHERE id = ?1 AND store = ?2",
        params![id, from, to],
    )? > 0)
}

/// The stores blobs are in now (a few: `fs`, the bucket, one being migrated to).
pub fn stores_in_use(c: &Connection) -> Result<Vec<String>, AppError> {
    let mut st = c.prepare_cached("SELECT DISTINCT store FROM blobs")?;
    let rows = st.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether any blob is in a store other than `fs` (two ranges of the store index: cheap).
pub fn any_remote(c: &Connection) -> Result<bool, AppError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM blobs WHERE store > 'fs')
                 OR EXISTS(SELECT 1 FROM blobs WHERE store < 'fs')",
    )?
    .query_row([], |r| r.get(0))?)
}
