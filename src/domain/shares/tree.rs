//! What an open share holds, resolved now (folder shares show files added later), read a page
//! or a file at a time: nothing here walks the share.
//!
//! Names are unique per level across files and folders. At the top (the share's items) the
//! contract's rule runs over the item list: in (name, created_at, uuid) order the first keeps its
//! name, later ones become `stem (2).ext` (folders `name (2)`). Inside a shared folder, files are
//! unique among files and folders among folders already, so a clash is one file and one folder
//! of a name: the older keeps it, the other takes the first `stem (n).ext` that nothing there
//! shows under. That needs two indexed lookups, never the folder's other entries.

use super::model::{FolderOptions, Share};
use crate::db::from_ts;
use crate::db::shared::{self as sq, Rival, SharedFileRow, SharedFolderRow, Shown};
use crate::db::shares as q;
use crate::domain::paging::{self, Bound, Key, Seek, Window};
use crate::domain::types::{split_extension, FolderVisibility};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use std::collections::HashSet;

/// A file as a share shows it.
#[derive(Debug, Clone)]
pub struct TreeFile {
    pub uuid: String,
    /// Unique per level across files and folders.
    pub name: String,
    /// Its name in the library (what listings are ordered by).
    pub own_name: String,
    pub mime: String,
    pub blob_id: String,
    pub size: i64,
    pub sha256: String,
    pub crc32: u32,
    pub modified_at: DateTime<Utc>,
}

impl TreeFile {
    fn from_row(r: SharedFileRow, name: String) -> TreeFile {
        TreeFile {
            uuid: r.uuid,
            own_name: r.name,
            name,
            mime: r.mime,
            blob_id: r.blob_id,
            size: r.size,
            sha256: r.sha256,
            crc32: r.crc32,
            modified_at: from_ts(r.modified_at),
        }
    }
}

/// A shared folder (an item) as the top level shows it.
#[derive(Debug, Clone)]
pub struct TopFolder {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub options: FolderOptions,
    /// Whether anything shows inside (from the folder's aggregates).
    pub has_entries: bool,
}

/// The top level of a share: its items, named. Its size is the item list's, so it is cached
/// with the share.
#[derive(Debug, Clone, Default)]
pub struct Top {
    /// By name.
    pub folders: Vec<TopFolder>,
    /// By name.
    pub files: Vec<TreeFile>,
    /// Files the share shows in all, at any depth, and their bytes.
    pub total_files: i64,
    pub total_bytes: i64,
}

impl Top {
    pub fn len(&self) -> usize {
        self.folders.len() + self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a zip of the share would hold anything (a folder counts when anything shows in
    /// it, a sub-folder included).
    pub fn has_files(&self) -> bool {
        !self.files.is_empty() || self.folders.iter().any(|f| f.has_entries)
    }

    fn folder_item(&self, id: i64) -> Option<&TopFolder> {
        self.folders.iter().find(|f| f.id == id)
    }
}

pub(super) fn shown(v: FolderVisibility) -> Shown {
    match v {
        FolderVisibility::Pub => Shown::Pub,
        FolderVisibility::Org => Shown::Org,
        FolderVisibility::All => Shown::Both,
    }
}

/// The n-th name of a loser: `stem (n).ext`, or `name (n)` for a folder.
fn numbered(name: &str, n: u32, folder: bool) -> String {
    if folder {
        return format!("{name} ({n})");
    }
    match split_extension(name) {
        (stem, Some(ext)) => format!("{stem} ({n}).{ext}"),
        (stem, None) => format!("{stem} ({n})"),
    }
}

/// The top level's names: entries in (name, created_at, uuid) order keep the first name,
/// later ones take the first numbered name not yet used.
fn disambiguate(entries: &[(String, i64, String, bool)]) -> Vec<String> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&entries[a], &entries[b]);
        (&x.0, x.1, &x.2).cmp(&(&y.0, y.1, &y.2))
    });
    let mut used: HashSet<String> = HashSet::new();
    let mut names = vec![String::new(); entries.len()];
    for i in order {
        let (name, _, _, is_folder) = &entries[i];
        let mut candidate = name.clone();
        let mut n = 1;
        while used.contains(&candidate) {
            n += 1;
            candidate = numbered(name, n, *is_folder);
        }
        used.insert(candidate.clone());
        names[i] = candidate;
    }
    names
}

/// The name an entry of folder `folder_id` shows under (see the module's rule).
fn inner_name(
    c: &Connection,
    folder_id: i64,
    name: &str,
    is_folder: bool,
    own: (i64, &str),
    rival: &Rival,
    options: FolderOptions,
) -> Result<String, AppError> {
    let loses = rival
        .as_ref()
        .is_some_and(|(at, uuid)| (*at, uuid.as_str()) < own);
    if !loses {
        return Ok(name.to_string());
    }
    // Bounded: each try is one lookup, and a folder holds finitely many names.
    for n in 2..100_000 {
        let candidate = numbered(name, n, is_folder);
        if !sq::name_shown(
            c,
            folder_id,
            &candidate,
            shown(options.visibility),
            options.recursive,
        )? {
            return Ok(candidate);
        }
    }
    Err(AppError::internal(format!(
        "no free name for {name} in folder {folder_id}"
    )))
}

pub(super) fn file_in(
    c: &Connection,
    r: SharedFileRow,
    options: FolderOptions,
) -> Result<TreeFile, AppError> {
    let name = inner_name(
        c,
        r.folder_id,
        &r.name,
        false,
        (r.created_at, &r.uuid),
        &r.rival,
        options,
    )?;
    Ok(TreeFile::from_row(r, name))
}

pub(super) fn folder_name_in(
    c: &Connection,
    r: &SharedFolderRow,
    options: FolderOptions,
) -> Result<String, AppError> {
    let parent = r.parent_id.unwrap_or_default();
    inner_name(
        c,
        parent,
        &r.name,
        true,
        (r.created_at, &r.uuid),
        &r.rival,
        options,
    )
}

/// The shown name of a folder read on its own (not in a page, whose query brings its rival).
fn looked_up_name(
    c: &Connection,
    f: &SharedFolderRow,
    options: FolderOptions,
) -> Result<String, AppError> {
    let rival = sq::folder_rival(
        c,
        f.parent_id.unwrap_or_default(),
        &f.name,
        shown(options.visibility),
    )?;
    folder_name_in(c, &SharedFolderRow { rival, ..f.clone() }, options)
}

/// The share's top level as it is now, inside a read the caller holds.
pub(super) fn top_in(c: &Connection, share: &Share) -> Result<Top, AppError> {
    let files = q::item_files(c, share.row.id)?;
    let mut folders = Vec::new();
    for it in &share.items {
        let Some(options) = it.folder else { continue };
        if let Some(f) = sq::folder_by_uuid(c, share.row.org_id, &it.uuid)? {
            folders.push((f, options));
        }
    }
    let mut entries: Vec<(String, i64, String, bool)> = folders
        .iter()
        .map(|(f, _)| (f.name.clone(), f.created_at, f.uuid.clone(), true))
        .collect();
    entries.extend(
        files
            .iter()
            .map(|f| (f.name.clone(), f.created_at, f.uuid.clone(), false)),
    );
    let mut names = disambiguate(&entries).into_iter();
    let (total_files, total_bytes) = sq::share_totals(c, share.row.id)?;
    let mut top = Top {
        total_files,
        total_bytes,
        ..Top::default()
    };
    for (f, options) in folders {
        let has_entries = f.shown_files(shown(options.visibility)) > 0
            || (options.recursive && f.folder_count > 0);
        top.folders.push(TopFolder {
            id: f.id,
            uuid: f.uuid,
            name: names.next().unwrap_or_default(),
            options,
            has_entries,
        });
    }
    for f in files {
        top.files.push(TreeFile {
            name: names.next().unwrap_or_default(),
            uuid: f.uuid,
            own_name: f.name,
            mime: f.mime,
            blob_id: f.blob_id,
            size: f.size,
            sha256: f.sha256,
            crc32: f.crc32,
            modified_at: from_ts(f.modified_at),
        });
    }
    top.folders.sort_by(|a, b| a.name.cmp(&b.name));
    top.files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(top)
}

/// The ids of `folder_id` and its ancestors, nearest first: one indexed step per level.
fn chain(c: &Connection, folder_id: i64) -> Result<Vec<i64>, AppError> {
    let mut ids = vec![folder_id];
    let mut at = folder_id;
    while let Some((Some(parent), _)) = sq::folder_step(c, at)? {
        // Moves never make a cycle; the bound turns a corrupt database into an error.
        if ids.len() > 10_000 {
            return Err(AppError::internal(format!(
                "folder {folder_id} has no root"
            )));
        }
        ids.push(parent);
        at = parent;
    }
    Ok(ids)
}

/// The item that shows what sits directly in the folder `chain[0]`, and at which level of the
/// chain it is: the folder itself, or a recursive item above it (`accept` filters further).
fn item_over<'a>(
    top: &'a Top,
    chain: &[i64],
    accept: impl Fn(&TopFolder) -> bool,
) -> Option<(usize, &'a TopFolder)> {
    chain.iter().enumerate().find_map(|(level, id)| {
        top.folder_item(*id)
            .filter(|f| (level == 0 || f.options.recursive) && accept(f))
            .map(|f| (level, f))
    })
}

/// A file of the share by uuid, with the name it shows under; None when the share does not
/// hold it (not an item, not under a folder item, hidden by the item's visibility, or below a
/// folder item that is not recursive).
pub(super) fn locate_file(
    c: &Connection,
    share: &Share,
    top: &Top,
    uuid: &str,
) -> Result<Option<TreeFile>, AppError> {
    if let Some(f) = top.files.iter().find(|f| f.uuid == uuid) {
        return Ok(Some(f.clone()));
    }
    if top.folders.is_empty() {
        return Ok(None);
    }
    let Some(mut row) = sq::file_by_uuid(c, share.row.org_id, uuid)? else {
        return Ok(None);
    };
    let ids = chain(c, row.folder_id)?;
    let Some((_, item)) = item_over(top, &ids, |f| f.options.visibility.shows(&row.visibility))
    else {
        return Ok(None);
    };
    let options = item.options;
    if options.recursive {
        row.rival = sq::file_rival(c, row.folder_id, &row.name)?;
    }
    Ok(Some(file_in(c, row, options)?))
}

/// A folder of the share and how it is reached: the folders from the top item down to its
/// parent (uuid and shown name each), its own shown name, and the item's options.
#[derive(Debug, Clone)]
pub struct Place {
    pub trail: Vec<(String, String)>,
    pub name: String,
    pub options: FolderOptions,
    pub(super) row: SharedFolderRow,
}

pub(super) fn locate_folder(
    c: &Connection,
    share: &Share,
    top: &Top,
    uuid: &str,
) -> Result<Option<Place>, AppError> {
    let Some(row) = sq::folder_by_uuid(c, share.row.org_id, uuid)? else {
        return Ok(None);
    };
    let ids = chain(c, row.id)?;
    let Some((level, item)) = item_over(top, &ids, |_| true) else {
        return Ok(None);
    };
    let options = item.options;
    let mut trail = Vec::new();
    if level > 0 {
        trail.push((item.uuid.clone(), item.name.clone()));
        // The folders between the item and this one, top down.
        for id in ids[1..level].iter().rev() {
            let Some(f) = sq::folder_by_id(c, share.row.org_id, *id)? else {
                return Ok(None);
            };
            let name = looked_up_name(c, &f, options)?;
            trail.push((f.uuid, name));
        }
    }
    let name = if level == 0 {
        item.name.clone()
    } else {
        looked_up_name(c, &row, options)?
    };
    Ok(Some(Place {
        trail,
        name,
        options,
        row,
    }))
}

/// A sub-folder as a listing shows it.
#[derive(Debug, Clone)]
pub struct ListedFolder {
    pub uuid: String,
    pub name: String,
    own_name: String,
}

/// One page of a level of the share, and how many entries the level has (the filter's).
#[derive(Debug, Clone)]
pub struct Listing {
    pub folders: Vec<ListedFolder>,
    pub files: Vec<TreeFile>,
    pub total: u64,
    pub has_prev: bool,
    pub has_next: bool,
}

impl Listing {
    /// The keys of its first and last entries, for the pager's links.
    pub fn ends(&self) -> Option<(Key, Key)> {
        let keys = self
            .folders
            .iter()
            .map(|f| Key {
                file: false,
                name: f.own_name.clone(),
            })
            .chain(self.files.iter().map(|f| Key {
                file: true,
                name: f.own_name.clone(),
            }));
        let all: Vec<Key> = keys.collect();
        Some((all.first()?.clone(), all.last()?.clone()))
    }

    fn from(w: Window<ListedFolder, TreeFile>, total: u64) -> Listing {
        Listing {
            folders: w.folders,
            files: w.files,
            total,
            has_prev: w.has_prev,
            has_next: w.has_next,
        }
    }
}

fn matches(name: &str, q: Option<&str>) -> bool {
    q.is_none_or(|q| name.to_lowercase().contains(&q.to_lowercase()))
}

/// Entries of a sorted list in a bound, as the database would answer it.
fn bounded<T: Clone>(
    all: &[T],
    name: impl Fn(&T) -> &str,
    b: Bound,
    limit: usize,
    q: Option<&str>,
) -> Vec<T> {
    let ok = |t: &&T| matches(name(t), q);
    match b {
        Bound::After(after) => all
            .iter()
            .filter(|t| after.as_deref().is_none_or(|a| name(t) > a))
            .filter(ok)
            .take(limit)
            .cloned()
            .collect(),
        Bound::Before(before) => all
            .iter()
            .rev()
            .filter(|t| before.as_deref().is_none_or(|a| name(t) < a))
            .filter(ok)
            .take(limit)
            .cloned()
            .collect(),
    }
}

/// A page of the top level (the cached item list: no database read).
pub(super) fn top_listing(top: &Top, seek: &Seek, q: Option<&str>) -> Listing {
    let folders: Vec<ListedFolder> = top
        .folders
        .iter()
        .map(|f| ListedFolder {
            uuid: f.uuid.clone(),
            name: f.name.clone(),
            own_name: f.name.clone(),
        })
        .collect();
    let total = folders.iter().filter(|f| matches(&f.name, q)).count()
        + top.files.iter().filter(|f| matches(&f.name, q)).count();
    // Top-level files are keyed by their shown names (unique here) rather than library names.
    let files: Vec<TreeFile> = top
        .files
        .iter()
        .map(|f| TreeFile {
            own_name: f.name.clone(),
            ..f.clone()
        })
        .collect();
    let w = paging::window::<_, _, ()>(
        seek,
        paging::PAGE_SIZE,
        |b, n| Ok(bounded(&folders, |f| &f.name, b, n, q)),
        |b, n| Ok(bounded(&files, |f| &f.name, b, n, q)),
    );
    let w = w.unwrap_or(Window {
        folders: vec![],
        files: vec![],
        has_prev: false,
        has_next: false,
    });
    Listing::from(w, total as u64)
}

/// A page of a shared folder: two indexed range reads, and the total from the folder's
/// aggregates (a filter counts its matches).
pub(super) fn folder_listing(
    c: &Connection,
    place: &Place,
    seek: &Seek,
    q: Option<&str>,
) -> Result<Listing, AppError> {
    let options = place.options;
    let vis = shown(options.visibility);
    let f = &place.row;
    let total = match q {
        Some(q) => sq::count_matching(c, f.id, vis, options.recursive, q)?,
        None => f.shown_files(vis) + if options.recursive { f.folder_count } else { 0 },
    };
    let w = paging::window(
        seek,
        paging::PAGE_SIZE,
        |b, n| {
            if !options.recursive {
                return Ok(vec![]);
            }
            sq::folders_in(c, f.id, vis, &b, q, n)?
                .into_iter()
                .map(|r| {
                    Ok(ListedFolder {
                        name: folder_name_in(c, &r, options)?,
                        uuid: r.uuid,
                        own_name: r.name,
                    })
                })
                .collect::<Result<Vec<_>, AppError>>()
        },
        |b, n| {
            sq::files_in(c, f.id, vis, options.recursive, &b, q, n)?
                .into_iter()
                .map(|r| file_in(c, r, options))
                .collect::<Result<Vec<_>, AppError>>()
        },
    )?;
    Ok(Listing::from(w, total.max(0) as u64))
}

/// Shown as text on a public page (escaped, never rendered): plain text, Markdown and code.
pub fn text_like(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("").trim();
    m.starts_with("text/")
        || matches!(
            m,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-javascript"
                | "application/toml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/x-sh"
                | "application/sql"
        )
}

/// Previewable inline: safe image, video, audio and PDF types (never SVG).
pub fn previewable(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    !crate::blob::is_risky_type(&m)
        && (m.starts_with("image/")
            || m.starts_with("video/")
            || m.starts_with("audio/")
            || m == "application/pdf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_level() {
        let e = vec![
            ("x.txt".to_string(), 5, "b".to_string(), false),
            ("x.txt".to_string(), 1, "c".to_string(), false),
            ("x.txt".to_string(), 5, "a".to_string(), true),
            ("x (2).txt".to_string(), 9, "d".to_string(), false),
        ];
        // By (name, created_at, uuid): "x (2).txt" sorts first and keeps its name, then the
        // oldest "x.txt"; the folder becomes "x.txt (2)"; the last file skips the taken "x (2).txt".
        let names = disambiguate(&e);
        assert_eq!(names[3], "x (2).txt");
        assert_eq!(names[1], "x.txt");
        assert_eq!(names[2], "x.txt (2)");
        assert_eq!(names[0], "x (3).txt");
    }
}
