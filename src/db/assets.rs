//! Folders, files and blobs.

use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

/// The root folder every org has from its creation: name `/`, no parent.
pub fn insert_root_folder(
    c: &Connection,
    org_id: i64,
    uuid: &str,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO folders (uuid, org_id, parent_id, name, created_at, updated_at)
         VALUES (?1, ?2, NULL, '/', ?3, ?3)",
        params![uuid, org_id, now],
    )?;
    Ok(())
}
