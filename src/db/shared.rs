//! What a share holds, read a page or a batch at a time: every query here is an indexed range
//! or point read, so its cost follows the page, never the size of the share or the library.

use super::listing::{bound_name, contains_pattern, keyset, limit_of, NAME_FILTER};
use super::OptionalExtension;
use crate::domain::paging::Bound;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection, Row};

/// Which files of a shared folder show, by their own visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Pub,
    Org,
    Both,
}

impl Shown {
    /// The condition on `{alias}.visibility`. For both, the unary `+` keeps the planner on the
    /// (folder_id, name) index, whose order is the page's; one visibility has its own index.
    fn sql(self, alias: &str) -> String {
        match self {
            Shown::Pub => format!("{alias}.visibility = 'PUB'"),
            Shown::Org => format!("{alias}.visibility = 'ORG'"),
            Shown::Both => format!("+{alias}.visibility IN ('PUB', 'ORG')"),
        }
    }
}

/// The sibling an entry's name clashes with (a folder and a file of one name): its creation
/// time and uuid decide which keeps the name.
pub type Rival = Option<(i64, String)>;

#[derive(Debug, Clone)]
pub struct SharedFileRow {
    pub id: i64,
    pub uuid: String,
    pub folder_id: i64,
    pub name: String,
    pub mime: String,
    pub visibility: String,
    pub blob_id: String,
    pub size: i64,
    pub sha256: String,
    pub crc32: u32,
    pub created_at: i64,
    pub modified_at: i64,
    pub rival: Rival,
}

const FILE_COLS: &str = "x.id, x.uuid, x.folder_id, x.name, x.mime, x.visibility, x.blob_id,
    b.size, b.sha256, b.crc32, x.created_at, x.modified_at, r.created_at, r.uuid";

fn file_row(r: &Row) -> r2d2_sqlite::rusqlite::Result<SharedFileRow> {
    let rival_at: Option<i64> = r.get(12)?;
    let rival_uuid: Option<String> = r.get(13)?;
    Ok(SharedFileRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        folder_id: r.get(2)?,
        name: r.get(3)?,
        mime: r.get(4)?,
        visibility: r.get(5)?,
        blob_id: r.get(6)?,
        size: r.get(7)?,
        sha256: r.get(8)?,
        crc32: r.get(9)?,
        created_at: r.get(10)?,
        modified_at: r.get(11)?,
        rival: rival_at.zip(rival_uuid),
    })
}

#[derive(Debug, Clone)]
pub struct SharedFolderRow {
    pub id: i64,
    pub uuid: String,
    pub parent_id: Option<i64>,
    pub name: String,
    pub created_at: i64,
    pub rival: Rival,
    pub file_count: i64,
    pub pub_count: i64,
    pub org_count: i64,
    pub folder_count: i64,
}

impl SharedFolderRow {
    /// How many files of it show.
    pub fn shown_files(&self, shown: Shown) -> i64 {
        match shown {
            Shown::Pub => self.pub_count,
            Shown::Org => self.org_count,
            Shown::Both => self.pub_count + self.org_count,
        }
    }
}

const FOLDER_COLS: &str = "f.id, f.uuid, f.parent_id, f.name, f.created_at, r.created_at, r.uuid,
    f.file_count, f.pub_count, f.org_count, f.folder_count";

fn folder_row(r: &Row) -> r2d2_sqlite::rusqlite::Result<SharedFolderRow> {
    let rival_at: Option<i64> = r.get(5)?;
    let rival_uuid: Option<String> = r.get(6)?;
    Ok(SharedFolderRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        parent_id: r.get(2)?,
        name: r.get(3)?,
        created_at: r.get(4)?,
        rival: rival_at.zip(rival_uuid),
        file_count: r.get(7)?,
        pub_count: r.get(8)?,
        org_count: r.get(9)?,
        folder_count: r.get(10)?,
    })
}

/// SQL of a page of the files directly in folder `?1`, keyset `?2`, name filter `?3` (as
/// `listing`'s pages), at most `?4`; `?5` says whether sub-folders show (then a folder of the
/// same name is the file's rival).
pub fn files_sql(shown: Shown, bound: &Bound) -> String {
    let (range, dir) = keyset(bound, "x.name");
    format!(
        "SELECT {FILE_COLS} FROM files x JOIN blobs b ON b.id = x.blob_id
         LEFT JOIN folders r ON ?5 AND r.parent_id = x.folder_id AND r.name = x.name
         WHERE x.folder_id = ?1 AND {} {range} AND {}
         ORDER BY x.name {dir} LIMIT ?4",
        shown.sql("x"),
        NAME_FILTER.replace("{col}", "x.name"),
    )
}

/// Up to `limit` files directly in `folder_id` that show, by name past `bound`, with their
/// rivals when sub-folders show (`recursive`); `q` filters names (case-insensitive for ASCII).
pub fn files_in(
    c: &Connection,
    folder_id: i64,
    shown: Shown,
    recursive: bool,
    bound: &Bound,
    q: Option<&str>,
    limit: usize,
) -> Result<Vec<SharedFileRow>, AppError> {
    let mut stmt = c.prepare_cached(&files_sql(shown, bound))?;
    let pattern = q.map(contains_pattern);
    let rows = stmt
        .query_map(
            params![
                folder_id,
                bound_name(bound),
                pattern,
                limit_of(limit),
                recursive
            ],
            file_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// SQL of a page of the folders directly in folder `?1` (keyset `?2`, filter `?3`, at most
/// `?4`); a file that shows and has a folder's name is its rival.
pub fn folders_sql(shown: Shown, bound: &Bound) -> String {
    let (range, dir) = keyset(bound, "f.name");
    format!(
        "SELECT {FOLDER_COLS} FROM folders f
         LEFT JOIN files r ON r.folder_id = f.parent_id AND r.name = f.name AND {}
         WHERE f.parent_id = ?1 {range} AND {}
         ORDER BY f.name {dir} LIMIT ?4",
        shown.sql("r"),
        NAME_FILTER.replace("{col}", "f.name"),
    )
}

pub fn folders_in(
    c: &Connection,
    parent_id: i64,
    shown: Shown,
    bound: &Bound,
    q: Option<&str>,
    limit: usize,
) -> Result<Vec<SharedFolderRow>, AppError> {
    let mut stmt = c.prepare_cached(&folders_sql(shown, bound))?;
    let pattern = q.map(contains_pattern);
    let rows = stmt
        .query_map(
            params![parent_id, bound_name(bound), pattern, limit_of(limit)],
            folder_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// SQL of a file of org `?2` by uuid `?1`.
pub const FILE_BY_UUID: &str = "SELECT x.id, x.uuid, x.folder_id, x.name, x.mime, x.visibility,
    x.blob_id, b.size, b.sha256, b.crc32, x.created_at, x.modified_at, NULL, NULL
    FROM files x JOIN blobs b ON b.id = x.blob_id WHERE x.uuid = ?1 AND x.org_id = ?2";

/// A file of the org by uuid (no rival: that depends on how its folder is shown).
pub fn file_by_uuid(
    c: &Connection,
    org_id: i64,
    uuid: &str,
) -> Result<Option<SharedFileRow>, AppError> {
    Ok(c.prepare_cached(FILE_BY_UUID)?
        .query_row(params![uuid, org_id], file_row)
        .optional()?)
}

/// SQL of a folder of org `?2` by uuid `?1` (or by id, `by_id`), with its aggregates.
pub fn folder_sql(by_id: bool) -> String {
    let key = if by_id { "f.id" } else { "f.uuid" };
    format!(
        "SELECT f.id, f.uuid, f.parent_id, f.name, f.created_at, NULL, NULL, f.file_count,
         f.pub_count, f.org_count, f.folder_count FROM folders f WHERE {key} = ?1 AND f.org_id = ?2"
    )
}

/// A folder of the org by uuid.
pub fn folder_by_uuid(
    c: &Connection,
    org_id: i64,
    uuid: &str,
) -> Result<Option<SharedFolderRow>, AppError> {
    Ok(c.prepare_cached(&folder_sql(false))?
        .query_row(params![uuid, org_id], folder_row)
        .optional()?)
}

/// A folder of the org by row id.
pub fn folder_by_id(
    c: &Connection,
    org_id: i64,
    id: i64,
) -> Result<Option<SharedFolderRow>, AppError> {
    Ok(c.prepare_cached(&folder_sql(true))?
        .query_row(params![id, org_id], folder_row)
        .optional()?)
}

/// The parent and name of folder `id` (an ancestor walk's step).
pub fn folder_step(c: &Connection, id: i64) -> Result<Option<(Option<i64>, String)>, AppError> {
    Ok(
        c.prepare_cached("SELECT parent_id, name FROM folders WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    )
}

pub const FILE_RIVAL: &str =
    "SELECT created_at, uuid FROM folders WHERE parent_id = ?1 AND name = ?2";

/// The rival of a file named `name` in `folder_id`: a folder of that name there.
pub fn file_rival(c: &Connection, folder_id: i64, name: &str) -> Result<Rival, AppError> {
    Ok(c.prepare_cached(FILE_RIVAL)?
        .query_row(params![folder_id, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn folder_rival_sql(shown: Shown) -> String {
    format!(
        "SELECT r.created_at, r.uuid FROM files r WHERE r.folder_id = ?1 AND r.name = ?2 AND {}",
        shown.sql("r")
    )
}

/// The rival of a folder named `name` in `parent_id`: a file of that name there that shows.
pub fn folder_rival(
    c: &Connection,
    parent_id: i64,
    name: &str,
    shown: Shown,
) -> Result<Rival, AppError> {
    Ok(c.prepare_cached(&folder_rival_sql(shown))?
        .query_row(params![parent_id, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn name_shown_sql(shown: Shown) -> String {
    format!(
        "SELECT EXISTS(SELECT 1 FROM files r WHERE r.folder_id = ?1 AND r.name = ?2 AND {})
             OR (?3 AND EXISTS(SELECT 1 FROM folders WHERE parent_id = ?1 AND name = ?2))",
        shown.sql("r")
    )
}

/// Whether `name` is a name something in `folder_id` shows under: a file that shows, or a
/// sub-folder when those show.
pub fn name_shown(
    c: &Connection,
    folder_id: i64,
    name: &str,
    shown: Shown,
    recursive: bool,
) -> Result<bool, AppError> {
    Ok(c.prepare_cached(&name_shown_sql(shown))?
        .query_row(params![folder_id, name, recursive], |r| r.get(0))?)
}

pub fn count_sql(shown: Shown) -> String {
    format!(
        "SELECT (SELECT COUNT(*) FROM files x WHERE x.folder_id = ?1 AND {} AND x.name LIKE ?2 ESCAPE '\\')
              + (CASE WHEN ?3 THEN (SELECT COUNT(*) FROM folders f WHERE f.parent_id = ?1
                                    AND f.name LIKE ?2 ESCAPE '\\') ELSE 0 END)",
        shown.sql("x")
    )
}

/// How many files and sub-folders of `folder_id` a name filter matches (a range read of the
/// folder's entries; without a filter the folder's aggregates answer).
pub fn count_matching(
    c: &Connection,
    folder_id: i64,
    shown: Shown,
    recursive: bool,
    q: &str,
) -> Result<i64, AppError> {
    Ok(c.prepare_cached(&count_sql(shown))?
        .query_row(params![folder_id, contains_pattern(q), recursive], |r| {
            r.get(0)
        })?)
}

/// What a share shows in all: each file item, and each folder item's files of its visibility,
/// directly inside or (recursive) at any depth. From the folders' aggregates (schema version
/// 10): one row per item, never a walk.
pub const SHARE_TOTALS: &str = "SELECT
    COALESCE(SUM(CASE
        WHEN si.file_id IS NOT NULL THEN fi.id IS NOT NULL
        WHEN si.recursive THEN CASE si.visibility WHEN 'PUB' THEN fo.tree_pub_count
            WHEN 'ORG' THEN fo.tree_org_count ELSE fo.tree_pub_count + fo.tree_org_count END
        ELSE CASE si.visibility WHEN 'PUB' THEN fo.pub_count
            WHEN 'ORG' THEN fo.org_count ELSE fo.pub_count + fo.org_count END
    END), 0),
    COALESCE(SUM(CASE
        WHEN si.file_id IS NOT NULL THEN b.size
        WHEN si.recursive THEN CASE si.visibility WHEN 'PUB' THEN fo.tree_pub_bytes
            WHEN 'ORG' THEN fo.tree_org_bytes ELSE fo.tree_pub_bytes + fo.tree_org_bytes END
        ELSE CASE si.visibility WHEN 'PUB' THEN fo.pub_bytes
            WHEN 'ORG' THEN fo.org_bytes ELSE fo.pub_bytes + fo.org_bytes END
    END), 0)
    FROM share_items si
    LEFT JOIN files fi ON fi.id = si.file_id
    LEFT JOIN blobs b ON b.id = fi.blob_id
    LEFT JOIN folders fo ON fo.id = si.folder_id
    WHERE si.share_id = ?1";

/// (files, bytes) share `share_id` shows in all ([`SHARE_TOTALS`]).
pub fn share_totals(c: &Connection, share_id: i64) -> Result<(i64, i64), AppError> {
    Ok(c.prepare_cached(SHARE_TOTALS)?
        .query_row([share_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The library's content generation (see schema version 8).
pub fn content_generation(c: &Connection) -> Result<i64, AppError> {
    Ok(
        c.prepare_cached("SELECT n FROM content_generation WHERE id = 1")?
            .query_row([], |r| r.get(0))?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::plan::{assert_plan, assert_uses_index, scratch};

    /// The files index a lookup of one visibility or both reads.
    fn file_index(s: Shown) -> &'static str {
        match s {
            Shown::Both => "files_folder_name",
            _ => "files_folder_visibility_name",
        }
    }

    fn ranges() -> [Bound; 4] {
        [
            Bound::After(None),
            Bound::After(Some("x".into())),
            Bound::Before(None),
            Bound::Before(Some("x".into())),
        ]
    }

    /// Every query a public page, a file download or a zip block runs reads through its index:
    /// no scan of files or folders, no sort.
    #[test]
    fn per_request_queries_use_their_indexes() {
        let (_dir, c) = scratch();
        for r in ranges() {
            assert_plan(&c, &files_sql(Shown::Both, &r), "files_folder_name");
            assert_plan(&c, &files_sql(Shown::Both, &r), "folders_parent_name");
            assert_plan(
                &c,
                &files_sql(Shown::Pub, &r),
                "files_folder_visibility_name",
            );
            assert_plan(
                &c,
                &files_sql(Shown::Org, &r),
                "files_folder_visibility_name",
            );
            for s in [Shown::Both, Shown::Pub] {
                assert_plan(&c, &folders_sql(s, &r), "folders_parent_name");
                assert_plan(&c, &folders_sql(s, &r), file_index(s));
            }
        }
        assert_plan(&c, FILE_BY_UUID, "sqlite_autoindex_files_1");
        assert_plan(&c, &folder_sql(false), "sqlite_autoindex_folders_1");
        assert_plan(&c, FILE_RIVAL, "folders_parent_name");
        assert_plan(&c, SHARE_TOTALS, "share_items_share");
        for s in [Shown::Both, Shown::Pub, Shown::Org] {
            // A point lookup of (folder, name): either files index finds the one row.
            for sql in [folder_rival_sql(s), name_shown_sql(s)] {
                let by_name = assert_uses_index(&c, &sql, "files_folder_name");
                let by_vis = assert_uses_index(&c, &sql, "files_folder_visibility_name");
                assert!(by_name.is_ok() || by_vis.is_ok(), "{by_name:?} {by_vis:?}");
            }
            assert_plan(&c, &name_shown_sql(s), "folders_parent_name");
            // Counting reads the covering (folder, visibility, name) index.
            assert_plan(&c, &count_sql(s), "files_folder_visibility_name");
        }
    }

    /// The assertion can fail: without its index, a page of a folder's files scans.
    #[test]
    fn a_dropped_index_fails_the_plan_assertion() {
        let (_dir, c) = scratch();
        let sql = files_sql(Shown::Both, &Bound::After(Some("x".into())));
        assert_uses_index(&c, &sql, "files_folder_name").unwrap();
        c.execute_batch("DROP INDEX files_folder_name").unwrap();
        let e = assert_uses_index(&c, &sql, "files_folder_name").unwrap_err();
        assert!(e.contains("does not use files_folder_name"), "{e}");
    }
}
