//! Uploads into the library: files staged in tmp/ become blobs and file rows, all or none.

use super::{ensure_path, file_by_uuid, folder_by_uuid, AssetService, FolderRef};
use crate::blob::Staged;
use crate::db;
use crate::db::assets::{self as q, FileRow};
use crate::domain::library::{models, File};
use crate::domain::types::{Name, Visibility};
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;
use uuid::Uuid;

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

/// Work done in the transaction that records uploaded files, given their rows.
pub type AfterStore = Box<dyn FnOnce(&Connection, &[FileRow]) -> Result<(), AppError> + Send>;

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

impl AssetService {
    /// Stores a request's files, all or none: blobs move from tmp/ to blobs/, then one
    /// transaction records them (creating missing folders of `folder`). Uploads never replace:
    /// a taken name becomes `stem (2).ext`.
    pub async fn store_upload(
        &self,
        org_id: i64,
        folder: FolderRef,
        files: Vec<Incoming>,
        visibility: Visibility,
    ) -> Result<Vec<File>, AppError> {
        self.store_upload_then(org_id, folder, files, visibility, None)
            .await
    }

    /// `store_upload`, then `then` in the same transaction with the new rows: what must be
    /// recorded with the files or not at all (a file request's record of who sent them).
    pub async fn store_upload_then(
        &self,
        org_id: i64,
        folder: FolderRef,
        files: Vec<Incoming>,
        visibility: Visibility,
        then: Option<AfterStore>,
    ) -> Result<Vec<File>, AppError> {
        let (meta, staged): (Vec<(Name, String)>, Vec<Staged>) = files
            .into_iter()
            .map(|f| ((f.name, f.mime), f.staged))
            .unzip();
        let stored = self.blobs.persist_all(staged).await?;
        let refs: Vec<crate::blob::BlobRef> = stored.iter().map(|b| b.blob_ref()).collect();
        let t = db::ts(self.clock.now());
        let result = self
            .db
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
                    insert_blob(tx, blob)?;
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
                let rows = uuids
                    .iter()
                    .map(|u| file_by_uuid(tx, org_id, u))
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some(then) = then {
                    then(tx, &rows)?;
                }
                Ok(rows)
            })
            .await;
        if result.is_err() {
            self.blobs.remove(refs).await;
        }
        result.map(models)
    }
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

/// The row of a blob just stored.
fn insert_blob(tx: &Connection, blob: &crate::blob::StoredBlob) -> Result<(), AppError> {
    q::insert_blob(
        tx,
        &blob.id,
        blob.size as i64,
        &blob.sha256,
        blob.crc32,
        &blob.store,
    )
}

/// Records a stored blob as a file's contents in the caller's transaction. Returns the file and
/// the blobs no file refers to any more (to remove from disk after the commit).
pub(crate) fn record_upload(
    tx: &Connection,
    org_id: i64,
    target: &UploadTarget,
    blob: &crate::blob::StoredBlob,
    now: i64,
) -> Result<(FileRow, Vec<crate::blob::BlobRef>), AppError> {
    insert_blob(tx, blob)?;
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
