//! The owner's library page: one folder's direct contents a keyset page at a time (see
//! `domain::paging`), optionally filtered by a part of the name, with the folder's ancestors.

use super::{resolve, AssetService, FolderRef};
use crate::db::listing as q;
use crate::domain::library::{File, Folder};
use crate::domain::paging::{window, Seek, Window};
use crate::error::AppError;

/// A child folder with what sits directly in it.
#[derive(Debug, Clone)]
pub struct FolderEntry {
    pub folder: Folder,
    pub files: i64,
    pub bytes: i64,
    pub folders: i64,
}

#[derive(Debug, Clone)]
pub struct FolderPage {
    pub folder: Folder,
    /// (uuid, name) of the folders between the root and this one.
    pub ancestors: Vec<(String, String)>,
    pub entries: Window<FolderEntry, File>,
    /// Entries of the folder (matching the filter, if any).
    pub total: u64,
}

impl AssetService {
    /// The page `seek` of `folder`'s folders then files, by name, `size` entries; `contains`
    /// keeps the names that contain it (literally, ASCII case ignored).
    pub async fn folder_page(
        &self,
        org_id: i64,
        folder: FolderRef,
        seek: Seek,
        contains: Option<String>,
        size: usize,
    ) -> Result<FolderPage, AppError> {
        self.db
            .read(move |c| {
                let row = resolve(c, org_id, &folder)?;
                let pattern = contains.as_deref().map(q::contains_pattern);
                let p = pattern.as_deref();
                let entries = window(
                    &seek,
                    size,
                    |b, n| q::child_folders(c, &row, &b, p, n),
                    |b, n| q::child_files(c, &row, &b, p, n),
                )?;
                let total = match p {
                    // The aggregates count the unfiltered folder; a filter counts its matches.
                    None => {
                        let agg = q::aggregates(c, row.id)?;
                        agg.files + agg.folders
                    }
                    Some(p) => q::count_like(c, row.id, p)?,
                };
                let ancestors = q::ancestors(c, &row)?;
                let Window {
                    folders,
                    files,
                    has_prev,
                    has_next,
                } = entries;
                Ok(FolderPage {
                    folder: row.into(),
                    ancestors,
                    entries: Window {
                        folders: folders
                            .into_iter()
                            .map(|f| FolderEntry {
                                folder: f.row.into(),
                                files: f.agg.files,
                                bytes: f.agg.bytes,
                                folders: f.agg.folders,
                            })
                            .collect(),
                        files: files.into_iter().map(File::from).collect(),
                        has_prev,
                        has_next,
                    },
                    total: u64::try_from(total).unwrap_or(0),
                })
            })
            .await
    }
}
