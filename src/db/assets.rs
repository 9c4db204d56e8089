//! Folders, files and blobs.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};

#[derive(Debug, Clone)]
pub struct FolderRow {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub parent_id: Option<i64>,
    pub parent_uuid: Option<String>,
    pub name: String,
    /// `/a/b`; `/` for the root.
    pub path: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FolderRow {
    /// Levels below the root: 0 for the root, 2 for `/a/b`.
    pub fn depth(&self) -> usize {
        self.path.split('/').filter(|s| !s.is_empty()).count()
    }
}

/// What a listing is sorted by (the domain's `OrderField`); the column names never come from a
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    CreatedAt,
    UpdatedAt,
    Size,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub desc: bool,
}

/// `LIMIT` and `OFFSET` of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub limit: i64,
    pub offset: i64,
}

impl Sort {
    /// `ORDER BY` terms: the field's column, then the row id as a tie-breaker.
    fn sql(&self, column: impl Fn(SortKey) -> &'static str, id_col: &str) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        format!("{} {dir}, {id_col} {dir}", column(self.key))
    }
}

fn folder_column(f: SortKey) -> &'static str {
    match f {
        SortKey::Name => "f.name",
        SortKey::CreatedAt => "f.created_at",
        SortKey::UpdatedAt => "f.updated_at",
        // Folders have no size: the adapter refuses it; order by name if it gets here.
        SortKey::Size => "f.name",
    }
}

fn file_column(f: SortKey) -> &'static str {
    match f {
        SortKey::Name => "x.name",
        SortKey::CreatedAt => "x.created_at",
        SortKey::UpdatedAt => "x.modified_at",
        SortKey::Size => "b.size",
    }
}

/// Every folder of the subtree under `root_id` (itself included) with its path, as a CTE.
/// `?1` is the root's id, `?2` its path.
const SUBTREE_CTE: &str = "WITH RECURSIVE tree(id, path) AS (
        SELECT id, ?2 FROM folders WHERE id = ?1
        UNION ALL
        SELECT f.id, CASE WHEN tree.path = '/' THEN '/' || f.name ELSE tree.path || '/' || f.name END
        FROM folders f JOIN tree ON f.parent_id = tree.id
    )";

const FOLDER_COLS: &str =
    "f.id, f.uuid, f.org_id, f.parent_id, p.uuid, f.name, f.created_at, f.updated_at";

fn folder_row(r: &Row, path: String) -> rusqlite::Result<FolderRow> {
    Ok(FolderRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        org_id: r.get(2)?,
        parent_id: r.get(3)?,
        parent_uuid: r.get(4)?,
        name: r.get(5)?,
        path,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The path of folder `id`, built from its ancestors: one indexed lookup per level, cheaper than
/// a recursive CTE with a sort for the few levels real libraries have.
pub fn folder_path(c: &Connection, id: i64) -> Result<String, AppError> {
    let mut stmt = c.prepare_cached("SELECT parent_id, name FROM folders WHERE id = ?1")?;
    let mut names: Vec<String> = Vec::new();
    let mut next = Some(id);
    while let Some(at) = next {
        let (parent, name): (Option<i64>, String) = stmt
            .query_row([at], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| AppError::internal(format!("folder {at} is missing")))?;
        if parent.is_some() {
            names.push(name); // the root's own name (`/`) is not part of paths
        }
        // Moves never make a cycle; the bound only turns a corrupt database into an error.
        if names.len() > 10_000 {
            return Err(AppError::internal(format!("folder {id} has no root")));
        }
        next = parent;
    }
    names.reverse();
    Ok(format!("/{}", names.join("/")))
}

fn folder_where(
    c: &Connection,
    clause: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Option<FolderRow>, AppError> {
    let sql = format!("SELECT {FOLDER_COLS} FROM folders f LEFT JOIN folders p ON p.id = f.parent_id WHERE {clause}");
    let row = c
        .prepare_cached(&sql)?
        .query_row(args, |r| folder_row(r, String::new()))
        .optional()?;
    match row {
        Some(mut f) => {
            f.path = folder_path(c, f.id)?;
            Ok(Some(f))
        }
        None => Ok(None),
    }
}

pub fn root_folder(c: &Connection, org_id: i64) -> Result<FolderRow, AppError> {
    folder_where(c, "f.org_id = ?1 AND f.parent_id IS NULL", &[&org_id])?
        .ok_or_else(|| AppError::internal(format!("org {org_id} has no root folder")))
}

pub fn find_folder(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<FolderRow>, AppError> {
    folder_where(c, "f.org_id = ?1 AND f.uuid = ?2", &[&org_id, &uuid])
}

pub fn child_folder(
    c: &Connection,
    parent_id: i64,
    name: &str,
) -> Result<Option<FolderRow>, AppError> {
    folder_where(c, "f.parent_id = ?1 AND f.name = ?2", &[&parent_id, &name])
}

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

pub fn insert_folder(
    c: &Connection,
    org_id: i64,
    parent_id: i64,
    uuid: &str,
    name: &str,
    now: i64,
) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO folders (uuid, org_id, parent_id, name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![uuid, org_id, parent_id, name, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// A page of folders: the children of `folder` or, `recursive`, all its descendants.
pub fn list_folders(
    c: &Connection,
    folder: &FolderRow,
    recursive: bool,
    order: Sort,
    page: Slice,
) -> Result<(Vec<FolderRow>, i64), AppError> {
    // A folder's children: one index range, counted by the aggregates.
    if !recursive {
        return super::listing::folders_slice(c, folder, order, page);
    }
    let filter = "f.id != ?1";
    let total: i64 = c.query_row(
        &format!("{SUBTREE_CTE} SELECT COUNT(*) FROM tree JOIN folders f ON f.id = tree.id WHERE {filter}"),
        params![folder.id, folder.path],
        |r| r.get(0),
    )?;
    let sql = format!(
        "{SUBTREE_CTE} SELECT {FOLDER_COLS}, tree.path FROM tree JOIN folders f ON f.id = tree.id
         LEFT JOIN folders p ON p.id = f.parent_id WHERE {filter} ORDER BY {} LIMIT ?3 OFFSET ?4",
        order.sql(folder_column, "f.id")
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt
        .query_map(
            params![folder.id, folder.path, page.limit, page.offset],
            |r| {
                let path: String = r.get(8)?;
                folder_row(r, path)
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// Whether `id` is `ancestor` or lies below it.
pub fn is_in_subtree(c: &Connection, ancestor: &FolderRow, id: i64) -> Result<bool, AppError> {
    Ok(c.query_row(
        &format!("{SUBTREE_CTE} SELECT EXISTS(SELECT 1 FROM tree WHERE id = ?3)"),
        params![ancestor.id, ancestor.path, id],
        |r| r.get(0),
    )?)
}

/// Levels below `folder` in its subtree: 0 when it has no sub-folder.
pub fn subtree_height(c: &Connection, folder: &FolderRow) -> Result<usize, AppError> {
    let h: i64 = c.query_row(
        "WITH RECURSIVE t(id, d) AS (
            SELECT ?1, 0
            UNION ALL
            SELECT f.id, t.d + 1 FROM folders f JOIN t ON f.parent_id = t.id
        ) SELECT MAX(d) FROM t",
        [folder.id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(h).unwrap_or(0))
}

/// (folders, files) in the subtree under `folder`, the folder itself not counted.
pub fn subtree_counts(c: &Connection, folder: &FolderRow) -> Result<(i64, i64), AppError> {
    Ok(c.query_row(
        &format!(
            "{SUBTREE_CTE} SELECT (SELECT COUNT(*) - 1 FROM tree),
                (SELECT COUNT(*) FROM files WHERE folder_id IN (SELECT id FROM tree))"
        ),
        params![folder.id, folder.path],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Blob ids of every file in the subtree (to remove after the folder goes).
pub fn subtree_blob_ids(c: &Connection, folder: &FolderRow) -> Result<Vec<String>, AppError> {
    let mut stmt = c.prepare(&format!(
        "{SUBTREE_CTE} SELECT DISTINCT blob_id FROM files WHERE folder_id IN (SELECT id FROM tree)"
    ))?;
    let ids = stmt
        .query_map(params![folder.id, folder.path], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

pub fn rename_folder(c: &Connection, id: i64, name: &str, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE folders SET name = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, name, now],
    )?;
    Ok(())
}

pub fn move_folder(c: &Connection, id: i64, parent_id: i64, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE folders SET parent_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, parent_id, now],
    )?;
    Ok(())
}

/// Deletes a folder with everything below it (files and folders cascade).
pub fn delete_folder(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM folders WHERE id = ?1", [id])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub folder_id: i64,
    pub folder_uuid: String,
    pub folder_path: String,
    pub name: String,
    pub mime: String,
    pub visibility: String,
    pub blob_id: String,
    pub size: i64,
    pub sha256: String,
    pub crc32: u32,
    pub created_at: i64,
    pub modified_at: i64,
}

pub(super) const FILE_COLS: &str =
    "x.id, x.uuid, x.org_id, x.folder_id, d.uuid, x.name, x.mime, x.visibility,
     x.blob_id, b.size, b.sha256, b.crc32, x.created_at, x.modified_at";

pub(super) fn file_row(r: &Row, folder_path: String) -> rusqlite::Result<FileRow> {
    Ok(FileRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        org_id: r.get(2)?,
        folder_id: r.get(3)?,
        folder_uuid: r.get(4)?,
        folder_path,
        name: r.get(5)?,
        mime: r.get(6)?,
        visibility: r.get(7)?,
        blob_id: r.get(8)?,
        size: r.get(9)?,
        sha256: r.get(10)?,
        crc32: r.get(11)?,
        created_at: r.get(12)?,
        modified_at: r.get(13)?,
    })
}

/// Fills in each file's `folder_path`, one ancestor walk per distinct folder.
pub fn fill_folder_paths(c: &Connection, files: &mut [FileRow]) -> Result<(), AppError> {
    let mut known: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for f in files {
        if let Some(p) = known.get(&f.folder_id) {
            f.folder_path.clone_from(p);
        } else {
            f.folder_path = folder_path(c, f.folder_id)?;
            known.insert(f.folder_id, f.folder_path.clone());
        }
    }
    Ok(())
}

pub fn find_file(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<FileRow>, AppError> {
    let sql = format!(
        "SELECT {FILE_COLS} FROM files x JOIN blobs b ON b.id = x.blob_id
         JOIN folders d ON d.id = x.folder_id WHERE x.org_id = ?1 AND x.uuid = ?2"
    );
    let row = c
        .prepare_cached(&sql)?
        .query_row(params![org_id, uuid], |r| file_row(r, String::new()))
        .optional()?;
    match row {
        Some(mut f) => {
            f.folder_path = folder_path(c, f.folder_id)?;
            Ok(Some(f))
        }
        None => Ok(None),
    }
}

/// The row id of a file of the org (no path, no blob): item checks on the write path.
pub fn file_id_of(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<i64>, AppError> {
    Ok(
        c.prepare_cached("SELECT id FROM files WHERE org_id = ?1 AND uuid = ?2")?
            .query_row(params![org_id, uuid], |r| r.get(0))
            .optional()?,
    )
}

/// The name of a file of the org (no path, no blob): labels on the activity page.
pub fn file_name_of(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<String>, AppError> {
    Ok(
        c.prepare_cached("SELECT name FROM files WHERE org_id = ?1 AND uuid = ?2")?
            .query_row(params![org_id, uuid], |r| r.get(0))
            .optional()?,
    )
}

/// The row id of a folder of the org.
pub fn folder_id_of(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<i64>, AppError> {
    Ok(
        c.prepare_cached("SELECT id FROM folders WHERE org_id = ?1 AND uuid = ?2")?
            .query_row(params![org_id, uuid], |r| r.get(0))
            .optional()?,
    )
}

/// A page of files: those of `folder` or, `recursive`, of its whole subtree.
pub fn list_files(
    c: &Connection,
    folder: &FolderRow,
    recursive: bool,
    order: Sort,
    page: Slice,
) -> Result<(Vec<FileRow>, i64), AppError> {
    if !recursive {
        return super::listing::files_slice(c, folder, order, page);
    }
    let filter = "1";
    let from = format!(
        "{SUBTREE_CTE} SELECT {{}} FROM files x JOIN tree ON tree.id = x.folder_id
         JOIN blobs b ON b.id = x.blob_id JOIN folders d ON d.id = x.folder_id WHERE {filter}"
    );
    let total: i64 = c.query_row(
        &from.replace("{}", "COUNT(*)"),
        params![folder.id, folder.path],
        |r| r.get(0),
    )?;
    let order_sql = order.sql(file_column, "x.id");
    let sql = format!(
        "{} ORDER BY {order_sql} LIMIT ?3 OFFSET ?4",
        from.replace("{}", &format!("{FILE_COLS}, tree.path"))
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt
        .query_map(
            params![folder.id, folder.path, page.limit, page.offset],
            |r| {
                let path: String = r.get(14)?;
                file_row(r, path)
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

pub fn file_name_taken(c: &Connection, folder_id: i64, name: &str) -> Result<bool, AppError> {
    Ok(c.query_row(
        "SELECT EXISTS(SELECT 1 FROM files WHERE folder_id = ?1 AND name = ?2)",
        params![folder_id, name],
        |r| r.get(0),
    )?)
}

pub fn insert_blob(
    c: &Connection,
    id: &str,
    size: i64,
    sha256: &str,
    crc32: u32,
    store: &str,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO blobs (id, size, sha256, crc32, store) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, size, sha256, crc32, store],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn insert_file(
    c: &Connection,
    uuid: &str,
    org_id: i64,
    folder_id: i64,
    name: &str,
    mime: &str,
    visibility: &str,
    blob_id: &str,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO files (uuid, org_id, folder_id, name, mime, visibility, blob_id, created_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![uuid, org_id, folder_id, name, mime, visibility, blob_id, now],
    )?;
    Ok(())
}

pub fn update_file(
    c: &Connection,
    id: i64,
    name: &str,
    visibility: &str,
    folder_id: i64,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE files SET name = ?2, visibility = ?3, folder_id = ?4, modified_at = ?5 WHERE id = ?1",
        params![id, name, visibility, folder_id, now],
    )?;
    Ok(())
}

pub fn delete_file(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM files WHERE id = ?1", [id])?;
    Ok(())
}

/// Deletes the rows of those blobs no file refers to any more; returns them with their store,
/// contents the caller removes from disk after the commit.
pub fn delete_unreferenced_blobs(
    c: &Connection,
    ids: &[String],
) -> Result<Vec<crate::blob::BlobRef>, AppError> {
    let mut gone = Vec::new();
    for id in ids {
        let store: Option<String> = c
            .query_row(
                "DELETE FROM blobs WHERE id = ?1 \
                 AND NOT EXISTS (SELECT 1 FROM files WHERE blob_id = ?1) RETURNING store",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(store) = store {
            gone.push(crate::blob::BlobRef {
                id: id.clone(),
                store,
            });
        }
    }
    Ok(gone)
}

/// Points a file at new contents (a replacing upload): same row, same uuid.
pub fn set_file_blob(c: &Connection, id: i64, blob_id: &str, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE files SET blob_id = ?2, modified_at = ?3 WHERE id = ?1",
        params![id, blob_id, now],
    )?;
    Ok(())
}

/// The ids of `folder` and every folder below it.
pub fn subtree_ids(c: &Connection, folder: &FolderRow) -> Result<Vec<i64>, AppError> {
    let mut stmt = c.prepare(&format!("{SUBTREE_CTE} SELECT id FROM tree"))?;
    let ids = stmt
        .query_map(params![folder.id, folder.path], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Folders are assets of type 1, files of type 2.
pub const ASSET_FOLDER: i64 = 1;
pub const ASSET_FILE: i64 = 2;

/// One condition of an asset search: every condition holds, any of its values may match.
#[derive(Debug, Clone)]
pub enum AssetCond {
    Uuids(Vec<String>),
    /// The asset's folder (a folder's parent, a file's folder) is one of these.
    ParentIn(Vec<i64>),
    Types(Vec<i64>),
}

/// Every folder and file of an org as one relation: (t, rid, uuid, pid, name, created, modified,
/// size). `?1` is the org id.
const ASSETS: &str =
    "(SELECT 1 AS t, f.id AS rid, f.uuid AS uuid, f.parent_id AS pid, f.name AS name,
        f.created_at AS created, f.updated_at AS modified, NULL AS size
      FROM folders f WHERE f.org_id = ?1
    UNION ALL
    SELECT 2, x.id, x.uuid, x.folder_id, x.name, x.created_at, x.modified_at, b.size
      FROM files x JOIN blobs b ON b.id = x.blob_id WHERE x.org_id = ?1) a";

fn asset_column(f: SortKey) -> &'static str {
    match f {
        SortKey::Name => "a.name",
        SortKey::CreatedAt => "a.created",
        SortKey::UpdatedAt => "a.modified",
        SortKey::Size => "a.size",
    }
}

fn int_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// A page of an org's assets as (type, uuid), and how many match: `conds` ANDed, ordered by
/// `sort` (folders first when `folders_first`), then by type and row id.
pub fn search_assets(
    c: &Connection,
    org_id: i64,
    conds: &[AssetCond],
    folders_first: bool,
    sort: &[Sort],
    page: Slice,
) -> Result<(Vec<(i64, String)>, i64), AppError> {
    let mut args: Vec<rusqlite::types::Value> = vec![org_id.into()];
    let mut wheres: Vec<String> = vec!["1".into()];
    for cond in conds {
        wheres.push(match cond {
            AssetCond::Uuids(u) if u.is_empty() => "0".into(),
            AssetCond::Uuids(u) => {
                let marks: Vec<String> = u
                    .iter()
                    .map(|id| {
                        args.push(id.clone().into());
                        format!("?{}", args.len())
                    })
                    .collect();
                format!("a.uuid IN ({})", marks.join(","))
            }
            AssetCond::ParentIn(ids) => format!("a.pid IN ({})", int_list(ids)),
            AssetCond::Types(t) => format!("a.t IN ({})", int_list(t)),
        });
    }
    let filter = wheres.join(" AND ");
    let total: i64 = c.query_row(
        &format!("SELECT COUNT(*) FROM {ASSETS} WHERE {filter}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let mut order: Vec<String> = Vec::new();
    if folders_first {
        order.push("a.t ASC".into());
    }
    for o in sort {
        let dir = if o.desc { "DESC" } else { "ASC" };
        order.push(format!("{} {dir}", asset_column(o.key)));
    }
    // Ties break by kind and row id, in the direction of the last sort field (as listings do).
    let dir = if sort.last().is_some_and(|o| o.desc) {
        "DESC"
    } else {
        "ASC"
    };
    order.push(format!("a.t {dir}, a.rid {dir}"));
    args.push(page.limit.into());
    let limit = args.len();
    args.push(page.offset.into());
    let offset = args.len();
    let mut stmt = c.prepare(&format!(
        "SELECT a.t, a.uuid FROM {ASSETS} WHERE {filter} ORDER BY {} LIMIT ?{limit} OFFSET ?{offset}",
        order.join(", ")
    ))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}
