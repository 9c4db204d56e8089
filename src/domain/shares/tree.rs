//! What an open share holds, resolved now: folder shares show files added later. Each level's
//! names are made unique, folders first, then files, each by name.

use super::model::{FolderOptions, Share};
use crate::db::assets::{self as aq, FileRow, FolderRow};
use crate::db::shares as q;
use crate::domain::library::File;
use crate::domain::types::split_extension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct TreeFile {
    pub file: File,
    /// Unique per level across files and folders.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct TreeFolder {
    pub uuid: String,
    pub name: String,
    pub folders: Vec<TreeFolder>,
    pub files: Vec<TreeFile>,
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub folders: Vec<TreeFolder>,
    pub files: Vec<TreeFile>,
}

impl Tree {
    /// Files and folders at every level.
    pub fn node_count(&self) -> usize {
        fn count(folders: &[TreeFolder]) -> usize {
            folders
                .iter()
                .map(|f| 1 + f.files.len() + count(&f.folders))
                .sum()
        }
        self.files.len() + count(&self.folders)
    }

    /// A file the share holds, wherever it sits.
    pub fn find_file(&self, uuid: &str) -> Option<&TreeFile> {
        fn walk<'a>(folders: &'a [TreeFolder], uuid: &str) -> Option<&'a TreeFile> {
            folders.iter().find_map(|f| {
                f.files
                    .iter()
                    .find(|x| x.file.uuid == uuid)
                    .or_else(|| walk(&f.folders, uuid))
            })
        }
        self.files
            .iter()
            .find(|x| x.file.uuid == uuid)
            .or_else(|| walk(&self.folders, uuid))
    }

    /// A folder of the tree by its uuid.
    pub fn find_folder(&self, uuid: &str) -> Option<&TreeFolder> {
        fn walk<'a>(folders: &'a [TreeFolder], uuid: &str) -> Option<&'a TreeFolder> {
            folders.iter().find_map(|f| {
                if f.uuid == uuid {
                    Some(f)
                } else {
                    walk(&f.folders, uuid)
                }
            })
        }
        walk(&self.folders, uuid)
    }
}

/// One level's entries get unique names: in (name, created_at, uuid) order the first keeps its
/// name, later ones become `stem (2).ext` (folders `name (2)`).
fn disambiguate(entries: &mut [(String, i64, String, bool)]) -> Vec<String> {
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
            candidate = if *is_folder {
                format!("{name} ({n})")
            } else {
                match split_extension(name) {
                    (stem, Some(ext)) => format!("{stem} ({n}).{ext}"),
                    (stem, None) => format!("{stem} ({n})"),
                }
            };
        }
        used.insert(candidate.clone());
        names[i] = candidate;
    }
    names
}

fn folder_node(
    c: &Connection,
    folder: &FolderRow,
    name: String,
    options: FolderOptions,
) -> Result<TreeFolder, AppError> {
    let files: Vec<FileRow> = aq::folder_files(c, folder)?
        .into_iter()
        .filter(|f| options.visibility.shows(&f.visibility))
        .collect();
    let recursive = options.recursive;
    let subfolders = if recursive {
        aq::subfolders(c, folder)?
    } else {
        vec![]
    };
    let subfolders = subfolders.into_iter().map(|f| (f, options)).collect();
    let (folders, files) = level(c, subfolders, files)?;
    Ok(TreeFolder {
        uuid: folder.uuid.clone(),
        name,
        folders,
        files,
    })
}

/// Names one level and builds its sub-folders (each with its options): folders first, then
/// files, each by name.
fn level(
    c: &Connection,
    folders: Vec<(FolderRow, FolderOptions)>,
    files: Vec<FileRow>,
) -> Result<(Vec<TreeFolder>, Vec<TreeFile>), AppError> {
    let mut entries: Vec<(String, i64, String, bool)> = folders
        .iter()
        .map(|(f, _)| (f.name.clone(), f.created_at, f.uuid.clone(), true))
        .collect();
    entries.extend(
        files
            .iter()
            .map(|f| (f.name.clone(), f.created_at, f.uuid.clone(), false)),
    );
    let mut names = disambiguate(&mut entries).into_iter();
    let mut out_folders = Vec::new();
    for (f, options) in &folders {
        let name = names.next().unwrap_or_default();
        out_folders.push(folder_node(c, f, name, *options)?);
    }
    let mut out_files: Vec<TreeFile> = files
        .into_iter()
        .map(|file| TreeFile {
            name: names.next().unwrap_or_default(),
            file: file.into(),
        })
        .collect();
    out_folders.sort_by(|a, b| a.name.cmp(&b.name));
    out_files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out_folders, out_files))
}

/// The share's tree as it is now, inside a read the caller holds. At the top level each folder
/// item is an entry, filtered by its own options.
pub(super) fn tree_in(c: &Connection, share: &Share) -> Result<Tree, AppError> {
    let files = q::item_files(c, share.row.id)?;
    let mut folders = Vec::new();
    for it in &share.items {
        let Some(options) = it.folder else { continue };
        if let Some(f) = aq::find_folder(c, share.row.org_id, &it.uuid)? {
            folders.push((f, options));
        }
    }
    let (folders, files) = level(c, folders, files)?;
    Ok(Tree { folders, files })
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
        let mut e = vec![
            ("x.txt".to_string(), 5, "b".to_string(), false),
            ("x.txt".to_string(), 1, "c".to_string(), false),
            ("x.txt".to_string(), 5, "a".to_string(), true),
            ("x (2).txt".to_string(), 9, "d".to_string(), false),
        ];
        // By (name, created_at, uuid): "x (2).txt" sorts first and keeps its name, then the
        // oldest "x.txt"; the folder becomes "x.txt (2)"; the last file skips the taken "x (2).txt".
        let names = disambiguate(&mut e);
        assert_eq!(names[3], "x (2).txt");
        assert_eq!(names[1], "x.txt");
        assert_eq!(names[2], "x.txt (2)");
        assert_eq!(names[0], "x (3).txt");
    }
}
