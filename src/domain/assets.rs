//! The library: one tree of folders with files per org. Every rule of API.md's "Assets" lives
//! here; both dialects call these functions.

use crate::blob::{BlobStore, Staged};
use crate::db::assets::{self as q, FileRow, FolderRow, Order, Page};
use crate::db::{self, Db};
use crate::domain::types::{FolderPath, Name, Visibility};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use uuid::Uuid;

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
fn ensure_path(
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

/// `POST /folders`: creates the folder and any missing parents; 403 if it exists.
pub async fn create_folder(
    db: &Db,
    org_id: i64,
    path: FolderPath,
    now: DateTime<Utc>,
) -> Result<FolderRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
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
}

pub async fn get_folder(db: &Db, org_id: i64, r: FolderRef) -> Result<FolderRow, AppError> {
    db.read(move |c| resolve(c, org_id, &r)).await
}

pub async fn list_folders(
    db: &Db,
    org_id: i64,
    r: FolderRef,
    recursive: bool,
    order: Order,
    page: Page,
) -> Result<(FolderRow, Vec<FolderRow>, i64), AppError> {
    db.read(move |c| {
        let folder = resolve(c, org_id, &r)?;
        let (rows, total) = q::list_folders(c, &folder, recursive, order, page)?;
        Ok((folder, rows, total))
    })
    .await
}

pub async fn list_files(
    db: &Db,
    org_id: i64,
    r: FolderRef,
    recursive: bool,
    order: Order,
    page: Page,
) -> Result<(FolderRow, Vec<FileRow>, i64), AppError> {
    db.read(move |c| {
        let folder = resolve(c, org_id, &r)?;
        let (rows, total) = q::list_files(c, &folder, recursive, order, page)?;
        Ok((folder, rows, total))
    })
    .await
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

/// Renames a folder; a sibling folder of that name → 400 FOLDER_EXISTS.
pub async fn rename_folder(
    db: &Db,
    org_id: i64,
    uuid: String,
    name: Name,
    now: DateTime<Utc>,
) -> Result<FolderRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
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
}

/// Moves a folder into `dest`; into itself or below itself → 400; name taken there → 409.
pub async fn move_folder(
    db: &Db,
    org_id: i64,
    uuid: String,
    dest: String,
    now: DateTime<Utc>,
) -> Result<FolderRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
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
}

/// Deletes a folder: 409 if it holds anything, unless `recursive`. Returns (folders, files)
/// deleted, the folder itself counted.
pub async fn delete_folder(
    db: &Db,
    blobs: &BlobStore,
    org_id: i64,
    uuid: String,
    recursive: bool,
) -> Result<(i64, i64), AppError> {
    let (counts, gone) = db
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
    blobs.remove(gone).await;
    Ok(counts)
}

pub async fn get_file(db: &Db, org_id: i64, uuid: String) -> Result<FileRow, AppError> {
    db.read(move |c| file_by_uuid(c, org_id, &uuid)).await
}

fn name_taken_error(name: &str, folder: &str) -> AppError {
    AppError::NameExists(format!(
        "A file named '{name}' exists already in '{folder}'."
    ))
}

/// Renames a file and/or sets its visibility; a taken name → 409.
pub async fn update_file(
    db: &Db,
    org_id: i64,
    uuid: String,
    name: Option<Name>,
    visibility: Option<Visibility>,
    now: DateTime<Utc>,
) -> Result<FileRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
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
}

/// Moves a file into `dest`; a taken name there → 409.
pub async fn move_file(
    db: &Db,
    org_id: i64,
    uuid: String,
    dest: String,
    now: DateTime<Utc>,
) -> Result<FileRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
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
}

/// Deletes a file, and its blob when nothing else refers to it.
pub async fn delete_file(
    db: &Db,
    blobs: &BlobStore,
    org_id: i64,
    uuid: String,
) -> Result<FileRow, AppError> {
    let (file, gone) = db
        .write(move |tx| {
            let file = file_by_uuid(tx, org_id, &uuid)?;
            q::delete_file(tx, file.id)?;
            let gone = q::delete_unreferenced_blobs(tx, std::slice::from_ref(&file.blob_id))?;
            Ok((file, gone))
        })
        .await?;
    blobs.remove(gone).await;
    Ok(file)
}

/// `type`: from the extension, else the part's Content-Type if valid, else octet-stream.
pub fn detect_type(name: &str, part_type: Option<&str>) -> String {
    if let Some(m) = mime_guess::from_path(name).first() {
        return m.essence_str().to_string();
    }
    part_type
        .and_then(|t| t.parse::<mime::Mime>().ok())
        .filter(|m| m.type_() != mime::MULTIPART && m.type_() != mime::STAR)
        .map(|m| m.essence_str().to_string())
        .unwrap_or_else(|| "application/octet-stream".into())
}

/// One file of an upload, staged in tmp/.
pub struct Incoming {
    pub name: Name,
    pub mime: String,
    pub staged: Staged,
}

/// The first free name for a file in `folder_id`: `x.txt`, `x (2).txt`, `x (3).txt`...
fn free_name(
    c: &Connection,
    folder_id: i64,
    name: &Name,
    also_taken: &[String],
) -> Result<String, AppError> {
    let mut candidate = name.clone();
    let mut n = 1;
    while also_taken.iter().any(|t| t == candidate.as_str())
        || q::file_name_taken(c, folder_id, candidate.as_str())?
    {
        n += 1;
        candidate = name.numbered(n);
    }
    Ok(candidate.as_str().to_string())
}

/// Stores a request's files, all or none: blobs move from tmp/ to blobs/, then one
/// transaction records them (creating missing folders of `folder`). Uploads never replace:
/// a taken name becomes `stem (2).ext`.
pub async fn store_upload(
    db: &Db,
    blobs: &BlobStore,
    org_id: i64,
    folder: FolderRef,
    files: Vec<Incoming>,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> Result<Vec<FileRow>, AppError> {
    let (meta, staged): (Vec<(Name, String)>, Vec<Staged>) = files
        .into_iter()
        .map(|f| ((f.name, f.mime), f.staged))
        .unzip();
    let stored = blobs.persist_all(staged).await?;
    let ids: Vec<String> = stored.iter().map(|b| b.id.clone()).collect();
    let t = db::ts(now);
    let result = db
        .write(move |tx| {
            let target = match &folder {
                FolderRef::Path(p) => ensure_path(tx, org_id, p, t)?.0,
                FolderRef::Uuid(u) => folder_by_uuid(tx, org_id, u)?,
            };
            let mut names: Vec<String> = Vec::new();
            let mut uuids = Vec::new();
            for ((name, mime), blob) in meta.iter().zip(&stored) {
                let final_name = free_name(tx, target.id, name, &names)?;
                let uuid = Uuid::new_v4().to_string();
                q::insert_blob(tx, &blob.id, blob.size as i64, &blob.sha256, blob.crc32)?;
                q::insert_file(
                    tx,
                    &uuid,
                    org_id,
                    target.id,
                    &final_name,
                    mime,
                    visibility.as_str(),
                    &blob.id,
                    t,
                )?;
                names.push(final_name);
                uuids.push(uuid);
            }
            uuids
                .iter()
                .map(|u| file_by_uuid(tx, org_id, u))
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    if result.is_err() {
        blobs.remove(ids).await;
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Folders and files as one kind, "assets" (Nomad's dialect): by id, parents, children, search.

#[derive(Debug, Clone)]
pub enum Asset {
    Folder(FolderRow),
    File(FileRow),
}

impl Asset {
    pub fn uuid(&self) -> &str {
        match self {
            Asset::Folder(f) => &f.uuid,
            Asset::File(f) => &f.uuid,
        }
    }
}

fn asset_not_found() -> AppError {
    AppError::not_found("The asset")
}

fn find_asset(c: &Connection, org_id: i64, id: &str) -> Result<Option<Asset>, AppError> {
    let Some(id) = parse_id(id) else {
        return Ok(None);
    };
    if let Some(f) = q::find_folder(c, org_id, &id)? {
        return Ok(Some(Asset::Folder(f)));
    }
    Ok(q::find_file(c, org_id, &id)?.map(Asset::File))
}

pub async fn get_asset(db: &Db, org_id: i64, id: String) -> Result<Asset, AppError> {
    db.read(move |c| find_asset(c, org_id, &id)?.ok_or_else(asset_not_found))
        .await
}

/// The asset and the folders above it, root first.
pub async fn asset_with_parents(
    db: &Db,
    org_id: i64,
    id: String,
) -> Result<(Asset, Vec<FolderRow>), AppError> {
    db.read(move |c| {
        let asset = find_asset(c, org_id, &id)?.ok_or_else(asset_not_found)?;
        let mut next = match &asset {
            Asset::Folder(f) => f.parent_uuid.clone(),
            Asset::File(f) => Some(f.folder_uuid.clone()),
        };
        let mut parents = Vec::new();
        while let Some(uuid) = next {
            let folder = q::find_folder(c, org_id, &uuid)?.ok_or_else(folder_not_found)?;
            next = folder.parent_uuid.clone();
            parents.push(folder);
        }
        parents.reverse();
        Ok((asset, parents))
    })
    .await
}

/// A new folder `name` in the folder `parent`; a folder of that name there → 409 NAME_EXISTS.
pub async fn create_child_folder(
    db: &Db,
    org_id: i64,
    parent: String,
    name: Name,
    now: DateTime<Utc>,
) -> Result<FolderRow, AppError> {
    let t = db::ts(now);
    db.write(move |tx| {
        let parent = folder_by_uuid(tx, org_id, &parent)?;
        if q::child_folder(tx, parent.id, name.as_str())?.is_some() {
            return Err(AppError::NameExists(format!(
                "A folder named '{name}' exists already in '{}'.",
                parent.path
            )));
        }
        let uuid = Uuid::new_v4().to_string();
        q::insert_folder(tx, org_id, parent.id, &uuid, name.as_str(), t)?;
        q::find_folder(tx, org_id, &uuid)?.ok_or_else(folder_not_found)
    })
    .await
}

/// Deletes a file, or a folder with everything it holds (the root cannot go).
pub async fn delete_asset(
    db: &Db,
    blobs: &BlobStore,
    org_id: i64,
    id: String,
) -> Result<Asset, AppError> {
    let (asset, gone) = db
        .write(move |tx| {
            let asset = find_asset(tx, org_id, &id)?.ok_or_else(asset_not_found)?;
            let blob_ids = match &asset {
                Asset::Folder(f) => {
                    refuse_root(f, "deleted")?;
                    let ids = q::subtree_blob_ids(tx, f)?;
                    q::delete_folder(tx, f.id)?;
                    ids
                }
                Asset::File(f) => {
                    q::delete_file(tx, f.id)?;
                    vec![f.blob_id.clone()]
                }
            };
            let gone = q::delete_unreferenced_blobs(tx, &blob_ids)?;
            Ok((asset, gone))
        })
        .await?;
    blobs.remove(gone).await;
    Ok(asset)
}

fn load_assets(
    c: &Connection,
    org_id: i64,
    found: Vec<(i64, String)>,
) -> Result<Vec<Asset>, AppError> {
    let mut out = Vec::with_capacity(found.len());
    for (kind, uuid) in found {
        let asset = if kind == q::ASSET_FOLDER {
            q::find_folder(c, org_id, &uuid)?.map(Asset::Folder)
        } else {
            q::find_file(c, org_id, &uuid)?.map(Asset::File)
        };
        out.extend(asset);
    }
    Ok(out)
}

/// The children of a folder, folders first, then each kind in `order`; a file has none.
pub async fn child_assets(
    db: &Db,
    org_id: i64,
    id: String,
    order: Order,
    page: Page,
) -> Result<(Vec<Asset>, i64), AppError> {
    db.read(move |c| {
        let folder = match find_asset(c, org_id, &id)?.ok_or_else(asset_not_found)? {
            Asset::Folder(f) => f,
            Asset::File(_) => return Ok((vec![], 0)),
        };
        let conds = [q::AssetCond::ParentIn(vec![folder.id])];
        let (found, total) = q::search_assets(c, org_id, &conds, true, &[order], page)?;
        Ok((load_assets(c, org_id, found)?, total))
    })
    .await
}

/// One search filter; each id comes with the field that named it (for a 400).
#[derive(Debug, Clone)]
pub enum AssetFilter {
    /// The asset is one of these.
    Id(Vec<(String, String)>),
    /// The asset sits directly in one of these folders.
    ParentId(Vec<(String, String)>),
    /// The asset sits anywhere below one of these folders.
    Below(Vec<(String, String)>),
    /// 1 (folders) or 2 (files).
    Type(Vec<i64>),
}

fn folder_named_by(
    c: &Connection,
    org_id: i64,
    field: &str,
    raw: &str,
) -> Result<FolderRow, AppError> {
    parse_id(raw)
        .map(|id| q::find_folder(c, org_id, &id))
        .transpose()?
        .flatten()
        .ok_or_else(|| AppError::invalid(field, format!("'{raw}' is not a folder of this org")))
}

/// Every asset of the org that passes all `filters`, ordered by `sort`; a page of them and the
/// count. An id that names nothing of the org is a 400 naming its field.
pub async fn search(
    db: &Db,
    org_id: i64,
    filters: Vec<AssetFilter>,
    sort: Vec<Order>,
    page: Page,
) -> Result<(Vec<Asset>, i64), AppError> {
    db.read(move |c| {
        let mut conds = Vec::new();
        for f in &filters {
            conds.push(match f {
                AssetFilter::Id(ids) => {
                    let mut uuids = Vec::new();
                    for (field, raw) in ids {
                        let asset = find_asset(c, org_id, raw)?.ok_or_else(|| {
                            AppError::invalid(field, format!("'{raw}' is not an asset of this org"))
                        })?;
                        uuids.push(asset.uuid().to_string());
                    }
                    q::AssetCond::Uuids(uuids)
                }
                AssetFilter::ParentId(ids) => q::AssetCond::ParentIn(
                    ids.iter()
                        .map(|(field, raw)| folder_named_by(c, org_id, field, raw).map(|f| f.id))
                        .collect::<Result<_, _>>()?,
                ),
                AssetFilter::Below(ids) => {
                    let mut all = Vec::new();
                    for (field, raw) in ids {
                        let folder = folder_named_by(c, org_id, field, raw)?;
                        all.extend(q::subtree_ids(c, &folder)?);
                    }
                    q::AssetCond::ParentIn(all)
                }
                AssetFilter::Type(t) => q::AssetCond::Types(t.clone()),
            });
        }
        let (found, total) = q::search_assets(c, org_id, &conds, false, &sort, page)?;
        Ok((load_assets(c, org_id, found)?, total))
    })
    .await
}

/// Where a completed chunked upload's bytes go.
#[derive(Debug, Clone)]
pub enum UploadTarget {
    /// A new file in the folder, named by the free-name rule, with this uuid.
    New {
        folder_uuid: String,
        name: Name,
        uuid: String,
    },
    /// New contents for this file: same row, same uuid, same shares.
    Replace { uuid: String },
}

/// Records a stored blob as a file's contents in the caller's transaction. Returns the file and
/// the blobs no file refers to any more (to remove from disk after the commit).
pub(crate) fn record_upload(
    tx: &Connection,
    org_id: i64,
    target: &UploadTarget,
    blob: &crate::blob::StoredBlob,
    now: i64,
) -> Result<(FileRow, Vec<String>), AppError> {
    q::insert_blob(tx, &blob.id, blob.size as i64, &blob.sha256, blob.crc32)?;
    match target {
        UploadTarget::Replace { uuid } => {
            let file = file_by_uuid(tx, org_id, uuid)?;
            q::set_file_blob(tx, file.id, &blob.id, now)?;
            let gone = q::delete_unreferenced_blobs(tx, std::slice::from_ref(&file.blob_id))?;
            Ok((file_by_uuid(tx, org_id, uuid)?, gone))
        }
        UploadTarget::New {
            folder_uuid,
            name,
            uuid,
        } => {
            let folder = folder_by_uuid(tx, org_id, folder_uuid)?;
            let final_name = free_name(tx, folder.id, name, &[])?;
            let mime = detect_type(&final_name, None);
            q::insert_file(
                tx,
                uuid,
                org_id,
                folder.id,
                &final_name,
                &mime,
                Visibility::Org.as_str(),
                &blob.id,
                now,
            )?;
            Ok((file_by_uuid(tx, org_id, uuid)?, vec![]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(detect_type("a.png", Some("text/plain")), "image/png");
        assert_eq!(detect_type("a.HTML", None), "text/html");
        assert_eq!(detect_type("noext", Some("image/webp")), "image/webp");
        assert_eq!(
            detect_type("noext", Some("not a type")),
            "application/octet-stream"
        );
        assert_eq!(detect_type("noext", None), "application/octet-stream");
    }
}
