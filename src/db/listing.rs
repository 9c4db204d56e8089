//! One folder's direct contents, a page at a time, each query a range read of an index:
//! folders by `folders_parent_name (parent_id, name)`, files by `files_folder_name (folder_id,
//! name)`. Counts come from the folder's aggregates (schema version 8), not from counting rows.
//! Keyset pages (`Bound`) serve the owner's library; LIMIT/OFFSET ones the APIs' listings.

use super::assets::{file_row, FileRow, FolderRow, Slice, Sort, SortKey, FILE_COLS};
use super::OptionalExtension;
use crate::domain::paging::Bound;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

/// What sits directly in a folder, as its triggers keep it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aggregates {
    pub files: i64,
    pub bytes: i64,
    pub folders: i64,
}

/// A child folder with its own aggregates (the page shows "12 files, 3.4 MB").
#[derive(Debug, Clone)]
pub struct ChildFolder {
    pub row: FolderRow,
    pub agg: Aggregates,
}

pub fn aggregates(c: &Connection, folder_id: i64) -> Result<Aggregates, AppError> {
    Ok(
        c.prepare_cached("SELECT file_count, byte_count, folder_count FROM folders WHERE id = ?1")?
            .query_row([folder_id], |r| {
                Ok(Aggregates {
                    files: r.get(0)?,
                    bytes: r.get(1)?,
                    folders: r.get(2)?,
                })
            })
            .optional()?
            .unwrap_or_default(),
    )
}

/// `x` as a LIKE pattern matching names that contain it literally (`%`, `_`, `\` escaped).
pub fn contains_pattern(x: &str) -> String {
    let mut p = String::with_capacity(x.len() + 2);
    p.push('%');
    for ch in x.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The range condition and direction of a keyset read on `col`: `?2` is the bound's name.
pub(super) fn keyset(bound: &Bound, col: &str) -> (String, &'static str) {
    match bound {
        Bound::After(None) => (String::new(), "ASC"),
        Bound::After(Some(_)) => (format!("AND {col} > ?2"), "ASC"),
        Bound::Before(None) => (String::new(), "DESC"),
        Bound::Before(Some(_)) => (format!("AND {col} < ?2"), "DESC"),
    }
}

pub(super) fn bound_name(bound: &Bound) -> Option<&str> {
    match bound {
        Bound::After(n) | Bound::Before(n) => n.as_deref(),
    }
}

/// `?3` is the LIKE pattern (NULL: no filter); it filters, the index still bounds the read.
pub(super) const NAME_FILTER: &str = "(?3 IS NULL OR {col} LIKE ?3 ESCAPE '\\')";

/// The keyset page of child folders: `?1` parent id, `?2` bound name, `?3` pattern, `?4` limit.
pub fn child_folders_sql(bound: &Bound) -> String {
    let (range, dir) = keyset(bound, "f.name");
    format!(
        "SELECT f.id, f.uuid, f.org_id, f.parent_id, f.name, f.created_at, f.updated_at,
            f.file_count, f.byte_count, f.folder_count
         FROM folders f WHERE f.parent_id = ?1 {range} AND {}
         ORDER BY f.name {dir} LIMIT ?4",
        NAME_FILTER.replace("{col}", "f.name")
    )
}

/// The keyset page of files: `?1` folder id, `?2` bound name, `?3` pattern, `?4` limit.
pub fn child_files_sql(bound: &Bound) -> String {
    let (range, dir) = keyset(bound, "x.name");
    format!(
        "SELECT {FILE_COLS} FROM files x JOIN blobs b ON b.id = x.blob_id
         JOIN folders d ON d.id = x.folder_id
         WHERE x.folder_id = ?1 {range} AND {}
         ORDER BY x.name {dir} LIMIT ?4",
        NAME_FILTER.replace("{col}", "x.name")
    )
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

pub(super) fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Up to `limit` child folders of `parent` past `bound`, in the bound's direction.
pub fn child_folders(
    c: &Connection,
    parent: &FolderRow,
    bound: &Bound,
    pattern: Option<&str>,
    limit: usize,
) -> Result<Vec<ChildFolder>, AppError> {
    let mut stmt = c.prepare_cached(&child_folders_sql(bound))?;
    let rows = stmt
        .query_map(
            params![parent.id, bound_name(bound), pattern, limit_of(limit)],
            |r| {
                let name: String = r.get(4)?;
                Ok(ChildFolder {
                    row: FolderRow {
                        id: r.get(0)?,
                        uuid: r.get(1)?,
                        org_id: r.get(2)?,
                        parent_id: r.get(3)?,
                        parent_uuid: Some(parent.uuid.clone()),
                        path: child_path(&parent.path, &name),
                        name,
                        created_at: r.get(5)?,
                        updated_at: r.get(6)?,
                    },
                    agg: Aggregates {
                        files: r.get(7)?,
                        bytes: r.get(8)?,
                        folders: r.get(9)?,
                    },
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Up to `limit` files of `folder` past `bound`, in the bound's direction.
pub fn child_files(
    c: &Connection,
    folder: &FolderRow,
    bound: &Bound,
    pattern: Option<&str>,
    limit: usize,
) -> Result<Vec<FileRow>, AppError> {
    let mut stmt = c.prepare_cached(&child_files_sql(bound))?;
    let rows = stmt
        .query_map(
            params![folder.id, bound_name(bound), pattern, limit_of(limit)],
            |r| file_row(r, folder.path.clone()),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub const COUNT_FOLDERS_LIKE: &str =
    "SELECT COUNT(*) FROM folders WHERE parent_id = ?1 AND name LIKE ?2 ESCAPE '\\'";
pub const COUNT_FILES_LIKE: &str =
    "SELECT COUNT(*) FROM files WHERE folder_id = ?1 AND name LIKE ?2 ESCAPE '\\'";

/// How many entries of the folder match `pattern`: a count of the folder's index range (the
/// unfiltered total is in the aggregates).
pub fn count_like(c: &Connection, folder_id: i64, pattern: &str) -> Result<i64, AppError> {
    let mut n = 0;
    for sql in [COUNT_FOLDERS_LIKE, COUNT_FILES_LIKE] {
        let k: i64 = c
            .prepare_cached(sql)?
            .query_row(params![folder_id, pattern], |r| r.get(0))?;
        n += k;
    }
    Ok(n)
}

/// (uuid, name) of the folder's ancestors below the root, root side first, the folder itself
/// not included: one primary-key lookup per level.
pub fn ancestors(c: &Connection, folder: &FolderRow) -> Result<Vec<(String, String)>, AppError> {
    let mut stmt = c.prepare_cached("SELECT parent_id, uuid, name FROM folders WHERE id = ?1")?;
    let mut out = Vec::new();
    let mut next = folder.parent_id;
    while let Some(id) = next {
        let Some((parent, uuid, name)) = stmt
            .query_row([id], |r| {
                Ok((r.get::<_, Option<i64>>(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
        else {
            break;
        };
        // The root is the page's "Library" crumb.
        if parent.is_none() || out.len() > 10_000 {
            break;
        }
        out.push((uuid, name));
        next = parent;
    }
    out.reverse();
    Ok(out)
}

/// LIMIT/OFFSET page of child folders (v4 `GET /folders`, not recursive): name order reads
/// the index in either direction; other orders sort the folder's children.
pub fn child_folders_sql_sorted(order: Sort) -> String {
    let dir = if order.desc { "DESC" } else { "ASC" };
    let by = match order.key {
        SortKey::Name | SortKey::Size => format!("f.name {dir}"),
        SortKey::CreatedAt => format!("f.created_at {dir}, f.id {dir}"),
        SortKey::UpdatedAt => format!("f.updated_at {dir}, f.id {dir}"),
    };
    format!(
        "SELECT f.id, f.uuid, f.org_id, f.parent_id, f.name, f.created_at, f.updated_at,
            f.file_count, f.byte_count, f.folder_count
         FROM folders f WHERE f.parent_id = ?1 ORDER BY {by} LIMIT ?2 OFFSET ?3"
    )
}

/// LIMIT/OFFSET page of files (v4 `GET /files`, not recursive), as `child_folders_sql_sorted`.
pub fn child_files_sql_sorted(order: Sort) -> String {
    let dir = if order.desc { "DESC" } else { "ASC" };
    let by = match order.key {
        SortKey::Name => format!("x.name {dir}"),
        SortKey::CreatedAt => format!("x.created_at {dir}, x.id {dir}"),
        SortKey::UpdatedAt => format!("x.modified_at {dir}, x.id {dir}"),
        SortKey::Size => format!("b.size {dir}, x.id {dir}"),
    };
    format!(
        "SELECT {FILE_COLS} FROM files x JOIN blobs b ON b.id = x.blob_id
         JOIN folders d ON d.id = x.folder_id
         WHERE x.folder_id = ?1 ORDER BY {by} LIMIT ?2 OFFSET ?3"
    )
}

/// A page of `parent`'s child folders and their number (from the aggregates).
pub fn folders_slice(
    c: &Connection,
    parent: &FolderRow,
    order: Sort,
    page: Slice,
) -> Result<(Vec<FolderRow>, i64), AppError> {
    let total = aggregates(c, parent.id)?.folders;
    let mut stmt = c.prepare_cached(&child_folders_sql_sorted(order))?;
    let rows = stmt
        .query_map(params![parent.id, page.limit, page.offset], |r| {
            let name: String = r.get(4)?;
            Ok(FolderRow {
                id: r.get(0)?,
                uuid: r.get(1)?,
                org_id: r.get(2)?,
                parent_id: r.get(3)?,
                parent_uuid: Some(parent.uuid.clone()),
                path: child_path(&parent.path, &name),
                name,
                created_at: r.get(5)?,
                updated_at: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// A page of `folder`'s files and their number (from the aggregates).
pub fn files_slice(
    c: &Connection,
    folder: &FolderRow,
    order: Sort,
    page: Slice,
) -> Result<(Vec<FileRow>, i64), AppError> {
    let total = aggregates(c, folder.id)?.files;
    let mut stmt = c.prepare_cached(&child_files_sql_sorted(order))?;
    let rows = stmt
        .query_map(params![folder.id, page.limit, page.offset], |r| {
            file_row(r, folder.path.clone())
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// The uuids of a folder's child folders (`file`: files) by name: `?1` the folder's id,
/// `?2` limit, `?3` offset.
pub fn children_sql(file: bool, desc: bool) -> String {
    let dir = if desc { "DESC" } else { "ASC" };
    let (table, parent) = if file {
        ("files", "folder_id")
    } else {
        ("folders", "parent_id")
    };
    format!("SELECT uuid FROM {table} WHERE {parent} = ?1 ORDER BY name {dir} LIMIT ?2 OFFSET ?3")
}

/// Nomad's children of a folder by name, folders first: (asset type, uuid) of the page and the
/// number of children. The offset falls into the folders, the files, or both (from the
/// aggregates), so each kind is read from its own index at its own offset.
pub fn children_by_name(
    c: &Connection,
    parent: &FolderRow,
    desc: bool,
    page: Slice,
) -> Result<(Vec<(i64, String)>, i64), AppError> {
    let agg = aggregates(c, parent.id)?;
    let offset = page.offset.max(0);
    // A negative limit is SQLite's "no limit".
    let unlimited = page.limit < 0;
    let mut out = Vec::new();
    if offset < agg.folders && page.limit != 0 {
        let mut stmt = c.prepare_cached(&children_sql(false, desc))?;
        let rows = stmt.query_map(params![parent.id, page.limit, offset], |r| r.get(0))?;
        for uuid in rows {
            out.push((super::assets::ASSET_FOLDER, uuid?));
        }
    }
    let left = if unlimited {
        -1
    } else {
        page.limit - out.len() as i64
    };
    if left != 0 {
        let mut stmt = c.prepare_cached(&children_sql(true, desc))?;
        let file_offset = (offset - agg.folders).max(0);
        let rows = stmt.query_map(params![parent.id, left, file_offset], |r| r.get(0))?;
        for uuid in rows {
            out.push((super::assets::ASSET_FILE, uuid?));
        }
    }
    Ok((out, agg.folders + agg.files))
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
