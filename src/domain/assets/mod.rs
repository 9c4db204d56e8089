//! The library: one tree of folders with files per org. Every rule of API.md's "Assets" lives
//! here; both dialects and the owner UI call `AssetService`.

mod listing;
mod nodes;
mod store;

pub use listing::{FolderEntry, FolderPage};
pub use nodes::{Asset, AssetFilter};
pub(crate) use store::record_upload;
pub use store::{detect_type, AfterStore, Incoming, UploadTarget};

use crate::blob::BlobStore;
use crate::clock::Clock;
use crate::db::assets::{self as q, FileRow, FolderRow};
use crate::db::{self, Db};
use crate::domain::library::{models, File, Folder, Order, Page};
use crate::domain::types::{too_deep, FolderPath, Name, Visibility, MAX_DEPTH};
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;
use std::collections::HashMap;
use uuid::Uuid;

/// Folders, files and uploads of the library.
#[derive(Clone)]
pub struct AssetService {
    db: Db,
    blobs: BlobStore,
    clock: Clock,
}

impl AssetService {
    pub fn new(db: Db, blobs: BlobStore, clock: Clock) -> AssetService {
        AssetService { db, blobs, clock }
    }
}

/// How a request names a folder.
#[derive(Debug, Clone)]
pub enum FolderRef {
    Path(FolderPath),
    Uuid(String),
}

/// A path id: malformed or unknown is the same 404.
pub fn parse_id(raw: &str) -> Option<String> {
    Uuid::parse_str(raw).ok().map(|u| u.to_string())
}

fn folder_not_found() -> AppError {
    AppError::not_found("The folder")
}
fn file_not_found() -> AppError {
    AppError::not_found("The file")
}

fn folder_by_uuid(c: &Connection, org_id: i64, uuid: &str) -> Result<FolderRow, AppError> {
    let id = parse_id(uuid).ok_or_else(folder_not_found)?;
    q::find_folder(c, org_id, &id)?.ok_or_else(folder_not_found)
}

fn file_by_uuid(c: &Connection, org_id: i64, uuid: &str) -> Result<FileRow, AppError> {
    let id = parse_id(uuid).ok_or_else(file_not_found)?;
    q::find_file(c, org_id, &id)?.ok_or_else(file_not_found)
}

/// Walks `path` from the root; None if a segment is missing.
fn folder_by_path(
    c: &Connection,
    org_id: i64,
    path: &FolderPath,
) -> Result<Option<FolderRow>, AppError> {
    let mut folder = q::root_folder(c, org_id)?;
    for name in path.segments() {
        match q::child_folder(c, folder.id, name.as_str())? {
            Some(f) => folder = f,
            None => return Ok(None),
        }
    }
    Ok(Some(folder))
}

fn resolve(c: &Connection, org_id: i64, r: &FolderRef) -> Result<FolderRow, AppError> {
    match r {
        FolderRef::Uuid(u) => folder_by_uuid(c, org_id, u),
        FolderRef::Path(p) => folder_by_path(c, org_id, p)?.ok_or_else(folder_not_found),
    }
}

/// Creates the folders of `path` that are missing; returns the last and whether it was new.
pub(crate) fn ensure_path(
    c: &Connection,
    org_id: i64,
    path: &FolderPath,
    now: i64,
) -> Result<(FolderRow, bool), AppError> {
    let mut folder = q::root_folder(c, org_id)?;
    let mut created = false;
    for name in path.segments() {
        folder = match q::child_folder(c, folder.id, name.as_str())? {
            Some(f) => {
                created = false;
                f
            }
            None => {
                let uuid = Uuid::new_v4().to_string();
                q::insert_folder(c, org_id, folder.id, &uuid, name.as_str(), now)?;
                created = true;
                q::find_folder(c, org_id, &uuid)?
                    .ok_or_else(|| AppError::internal("folder vanished"))?
            }
        };
    }
    Ok((folder, created))
}

impl AssetService {
    /// `POST /folders`: creates the folder and any missing parents; 403 if it exists.
    pub async fn create_folder(&self, org_id: i64, path: FolderPath) -> Result<Folder, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let (folder, created) = ensure_path(tx, org_id, &path, t)?;
                if !created {
                    return Err(AppError::FolderExistsCreate(format!(
                        "The folder '{}' exists already.",
                        folder.path
                    )));
                }
                Ok(folder)
            })
            .await
            .map(Into::into)
    }

    pub async fn get_folder(&self, org_id: i64, r: FolderRef) -> Result<Folder, AppError> {
        self.db
            .read(move |c| resolve(c, org_id, &r))
            .await
            .map(Into::into)
    }

    pub async fn list_folders(
        &self,
        org_id: i64,
        r: FolderRef,
        recursive: bool,
        order: Order,
        page: Page,
    ) -> Result<(Folder, Vec<Folder>, i64), AppError> {
        self.db
            .read(move |c| {
                let folder = resolve(c, org_id, &r)?;
                let (rows, total) =
                    q::list_folders(c, &folder, recursive, order.sort(), page.slice())?;
                Ok((folder.into(), models(rows), total))
            })
            .await
    }

    pub async fn list_files(
        &self,
        org_id: i64,
        r: FolderRef,
        recursive: bool,
        order: Order,
        page: Page,
    ) -> Result<(Folder, Vec<File>, i64), AppError> {
        self.db
            .read(move |c| {
                let folder = resolve(c, org_id, &r)?;
                let (rows, total) =
                    q::list_files(c, &folder, recursive, order.sort(), page.slice())?;
                Ok((folder.into(), models(rows), total))
            })
            .await
    }

    /// Renames a folder; a sibling folder of that name → 400 FOLDER_EXISTS.
    pub async fn rename_folder(
        &self,
        org_id: i64,
        uuid: String,
        name: Name,
    ) -> Result<Folder, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let folder = folder_by_uuid(tx, org_id, &uuid)?;
                refuse_root(&folder, "renamed")?;
                if folder.name == name.as_str() {
                    return Ok(folder);
                }
                let parent = folder.parent_id.unwrap_or_default();
                if q::child_folder(tx, parent, name.as_str())?.is_some() {
                    return Err(AppError::FolderExistsRename(format!(
                        "A folder named '{name}' exists already in this folder."
                    )));
                }
                q::rename_folder(tx, folder.id, name.as_str(), t)?;
                q::find_folder(tx, org_id, &folder.uuid)?.ok_or_else(folder_not_found)
            })
            .await
            .map(Into::into)
    }

    /// Moves a folder into `dest`; into itself or below itself → 400; name taken there → 409.
    pub async fn move_folder(
        &self,
        org_id: i64,
        uuid: String,
        dest: String,
    ) -> Result<Folder, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let folder = folder_by_uuid(tx, org_id, &uuid)?;
                let dest = folder_by_uuid(tx, org_id, &dest)?;
                refuse_root(&folder, "moved")?;
                if q::is_in_subtree(tx, &folder, dest.id)? {
                    return Err(AppError::invalid(
                        "dest",
                        "a folder cannot be moved into itself or one of its sub-folders",
                    ));
                }
                if folder.parent_id == Some(dest.id) {
                    return Ok(folder);
                }
                if dest.depth() + 1 + q::subtree_height(tx, &folder)? > MAX_DEPTH {
                    return Err(too_deep("dest"));
                }
                if q::child_folder(tx, dest.id, &folder.name)?.is_some() {
                    return Err(AppError::NameExists(format!(
                        "A folder named '{}' exists already in '{}'.",
                        folder.name, dest.path
                    )));
                }
                q::move_folder(tx, folder.id, dest.id, t)?;
                q::find_folder(tx, org_id, &folder.uuid)?.ok_or_else(folder_not_found)
            })
            .await
            .map(Into::into)
    }

    /// Deletes a folder: 409 if it holds anything, unless `recursive`. Returns (folders, files)
    /// deleted, the folder itself counted.
    pub async fn delete_folder(
        &self,
        org_id: i64,
        uuid: String,
        recursive: bool,
    ) -> Result<(i64, i64), AppError> {
        let (counts, gone) = self
            .db
            .write(move |tx| {
                let folder = folder_by_uuid(tx, org_id, &uuid)?;
                refuse_root(&folder, "deleted")?;
                let (folders, files) = q::subtree_counts(tx, &folder)?;
                if (folders > 0 || files > 0) && !recursive {
                    return Err(AppError::FolderNotEmpty(format!(
                        "The folder '{}' holds {folders} folder(s) and {files} file(s); delete with recursive=true to remove them too.",
                        folder.path
                    )));
                }
                let blob_ids = q::subtree_blob_ids(tx, &folder)?;
                q::delete_folder(tx, folder.id)?;
                let gone = q::delete_unreferenced_blobs(tx, &blob_ids)?;
                Ok(((folders + 1, files), gone))
            })
            .await?;
        self.blobs.remove(gone).await;
        Ok(counts)
    }

    pub async fn get_file(&self, org_id: i64, uuid: String) -> Result<File, AppError> {
        self.db
            .read(move |c| file_by_uuid(c, org_id, &uuid))
            .await
            .map(Into::into)
    }

    /// The current names of the org's files among `uuids` (one indexed lookup each); a file
    /// deleted since, or not the org's, is left out.
    pub async fn file_names(
        &self,
        org_id: i64,
        uuids: Vec<String>,
    ) -> Result<HashMap<String, String>, AppError> {
        self.db
            .read(move |c| {
                let mut names = HashMap::new();
                for uuid in uuids {
                    if let Some(name) = q::file_name_of(c, org_id, &uuid)? {
                        names.insert(uuid, name);
                    }
                }
                Ok(names)
            })
            .await
    }

    /// Renames a file and/or sets its visibility; a taken name → 409.
    pub async fn update_file(
        &self,
        org_id: i64,
        uuid: String,
        name: Option<Name>,
        visibility: Option<Visibility>,
    ) -> Result<File, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let file = file_by_uuid(tx, org_id, &uuid)?;
                let new_name = name.map_or_else(|| file.name.clone(), |n| n.as_str().to_string());
                let new_vis =
                    visibility.map_or_else(|| file.visibility.clone(), |v| v.as_str().to_string());
                if new_name == file.name && new_vis == file.visibility {
                    return Ok(file);
                }
                if new_name != file.name && q::file_name_taken(tx, file.folder_id, &new_name)? {
                    return Err(name_taken_error(&new_name, &file.folder_path));
                }
                q::update_file(tx, file.id, &new_name, &new_vis, file.folder_id, t)?;
                file_by_uuid(tx, org_id, &file.uuid)
            })
            .await
            .map(Into::into)
    }

    /// Moves a file into `dest`; a taken name there → 409.
    pub async fn move_file(
        &self,
        org_id: i64,
        uuid: String,
        dest: String,
    ) -> Result<File, AppError> {
        let t = db::ts(self.clock.now());
        self.db
            .write(move |tx| {
                let file = file_by_uuid(tx, org_id, &uuid)?;
                let dest = folder_by_uuid(tx, org_id, &dest)?;
                if file.folder_id == dest.id {
                    return Ok(file);
                }
                if q::file_name_taken(tx, dest.id, &file.name)? {
                    return Err(name_taken_error(&file.name, &dest.path));
                }
                q::update_file(tx, file.id, &file.name, &file.visibility, dest.id, t)?;
                file_by_uuid(tx, org_id, &file.uuid)
            })
            .await
            .map(Into::into)
    }

    /// Deletes a file, and its blob when nothing else refers to it.
    pub async fn delete_file(&self, org_id: i64, uuid: String) -> Result<File, AppError> {
        let (file, gone) = self
            .db
            .write(move |tx| {
                let file = file_by_uuid(tx, org_id, &uuid)?;
                q::delete_file(tx, file.id)?;
                let gone = q::delete_unreferenced_blobs(tx, std::slice::from_ref(&file.blob_id))?;
                Ok((file, gone))
            })
            .await?;
        self.blobs.remove(gone).await;
        Ok(file.into())
    }
}

fn refuse_root(folder: &FolderRow, what: &str) -> Result<(), AppError> {
    if folder.parent_id.is_none() {
        return Err(AppError::invalid(
            "uuid",
            format!("the root folder cannot be {what}"),
        ));
    }
    Ok(())
}

fn name_taken_error(name: &str, folder: &str) -> AppError {
    AppError::NameExists(format!(
        "A file named '{name}' exists already in '{folder}'."
    ))
}
