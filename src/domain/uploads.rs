//! Chunked uploads (Nomad's `/api/asset/upload/...`): start plans the parts, each part's bytes
//! stream into one file under tmp/ at their offset (in any order, in parallel, again), complete
//! hashes that file and records the asset in one transaction, cancel drops it all. Part URLs
//! carry a secret instead of a credential; only its SHA-256 is stored.

use crate::blob::BlobStore;
use crate::clock::Clock;
use crate::db::assets::{self as aq, FileRow};
use crate::db::ts;
use crate::db::uploads::{self as q, PartRow, UploadRow};
use crate::db::Db;
use crate::domain::assets::AssetService;
use crate::domain::assets::{self, parse_id, UploadTarget};
use crate::domain::auth::{hash_secret, new_secret};
use crate::domain::library::File;
use crate::domain::types::Name;
use crate::error::AppError;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use futures_util::{Stream, StreamExt};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use uuid::Uuid;

const MIB: i64 = 1024 * 1024;
/// Parts are `chunkSize` bytes: 8 MiB unless the client asks, clamped to 1 byte..64 MiB.
pub const CHUNK_DEFAULT: i64 = 8 * MIB;
pub const CHUNK_MIN: i64 = 1;
pub const CHUNK_MAX: i64 = 64 * MIB;
/// At most this many parts per upload (a bigger chunk size makes fewer).
pub const PARTS_MAX: i64 = 10_000;
/// An unfinished upload is cancelled this long after its start.
pub const UPLOAD_TTL_HOURS: i64 = 24;

/// What to do when the name is taken in the target folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// The free-name rule: `x (2).txt`.
    Continue,
    /// The file of that name gets the new contents.
    Replace,
    /// 409 at once.
    Cancel,
}

impl Overwrite {
    pub fn parse(field: &str, raw: Option<&str>) -> Result<Overwrite, AppError> {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("continue") => Ok(Overwrite::Continue),
            Some("replace") => Ok(Overwrite::Replace),
            Some("cancel") => Ok(Overwrite::Cancel),
            Some(_) => Err(AppError::invalid(
                field,
                "use \"continue\", \"replace\" or \"cancel\"",
            )),
        }
    }
}

/// A start request, its fields parsed; ids not yet checked against the org.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// The new file's name; unused when `existing` names the file.
    pub name: Option<Name>,
    /// The target folder (`parentId`); None = the root.
    pub parent: Option<String>,
    /// The file whose contents are replaced (`existingAssetId`).
    pub existing: Option<String>,
    pub content_length: i64,
    pub chunk_size: Option<i64>,
    pub overwrite: Overwrite,
}

/// A started upload: its row, parts, and the secret of its part URLs (shown only now).
pub struct Started {
    pub uuid: String,
    /// The id the file will have (the replaced file's id for `existingAssetId`).
    pub asset_uuid: String,
    pub content_length: i64,
    pub created_at: DateTime<Utc>,
    pub parts: Vec<Part>,
    pub secret: String,
}

/// One part of an upload: bytes `start..=end` of the file.
#[derive(Debug, Clone)]
pub struct Part {
    pub uuid: String,
    pub number: i64,
    pub start: i64,
    /// Inclusive.
    pub end: i64,
    pub confirmed: bool,
}

impl From<PartRow> for Part {
    fn from(p: PartRow) -> Part {
        Part {
            uuid: p.uuid,
            number: p.number,
            start: p.start,
            end: p.end,
            confirmed: p.confirmed,
        }
    }
}

/// Locks of uploads in progress in this process: a part PUT holds its upload shared and its
/// part alone (a repeat waits, then wins); complete and cancel hold the upload alone, so they
/// never see a part half written.
#[derive(Clone, Default)]
struct UploadLocks {
    uploads: Locks,
    parts: Locks,
}

type LockMap = Arc<Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>>;

#[derive(Clone, Default)]
struct Locks(LockMap);

enum Guard {
    Read(#[allow(dead_code)] tokio::sync::OwnedRwLockReadGuard<()>),
    Write(#[allow(dead_code)] tokio::sync::OwnedRwLockWriteGuard<()>),
}

/// A held lock; its map entry goes when nobody holds or waits for it.
pub struct Held {
    guard: Option<Guard>,
    key: String,
    map: LockMap,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.map.lock();
        if map
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(&self.key);
        }
    }
}

impl Locks {
    async fn acquire(&self, key: &str, exclusive: bool) -> Held {
        let lock = self.0.lock().entry(key.to_string()).or_default().clone();
        let guard = if exclusive {
            Guard::Write(lock.write_owned().await)
        } else {
            Guard::Read(lock.read_owned().await)
        };
        Held {
            guard: Some(guard),
            key: key.to_string(),
            map: self.0.clone(),
        }
    }
}

fn upload_not_found() -> AppError {
    AppError::not_found("The upload")
}

fn part_not_found() -> AppError {
    AppError::not_found("The upload part")
}

fn live(u: &UploadRow, now: i64) -> bool {
    now < u.expires_at
}

/// The ids a request names in its body: malformed or not of the org is a 400 naming the field.
fn body_id(field: &str, raw: &str) -> Result<String, AppError> {
    parse_id(raw).ok_or_else(|| AppError::invalid(field, format!("'{raw}' is not a uuid")))
}

/// Nomad's chunked uploads: start, parts, complete, cancel.
#[derive(Clone)]
pub struct UploadService {
    db: Db,
    blobs: BlobStore,
    clock: Clock,
    assets: AssetService,
    locks: UploadLocks,
    max_upload_bytes: u64,
}

impl UploadService {
    pub fn new(
        db: Db,
        blobs: BlobStore,
        clock: Clock,
        assets: AssetService,
        max_upload_bytes: u64,
    ) -> UploadService {
        UploadService {
            db,
            blobs,
            clock,
            assets,
            locks: UploadLocks::default(),
            max_upload_bytes,
        }
    }

    /// Plans the parts and records the upload; the asset appears only on completion.
    pub async fn start(&self, org_id: i64, n: NewUpload) -> Result<Started, AppError> {
        let limit = self.max_upload_bytes;
        if n.content_length < 0 {
            return Err(AppError::invalid(
                "contentLength",
                "must be a number of bytes, 0 or more",
            ));
        }
        if n.content_length as u64 > limit {
            return Err(AppError::TooLarge { limit });
        }
        let chunk = n
            .chunk_size
            .unwrap_or(CHUNK_DEFAULT)
            .clamp(CHUNK_MIN, CHUNK_MAX);
        let count = (n.content_length + chunk - 1) / chunk;
        if count > PARTS_MAX {
            return Err(AppError::invalid(
                "chunkSize",
                format!(
                    "{count} parts are too many (at most {PARTS_MAX}): use a chunkSize of at least {} bytes",
                    (n.content_length + PARTS_MAX - 1) / PARTS_MAX
                ),
            ));
        }
        let now = self.clock.now();
        self.sweep(now).await?;
        let tmp_name = self.blobs.create_piecewise(n.content_length as u64).await?;
        let secret = new_secret("up_");
        let upload = UploadRow {
            id: 0,
            uuid: Uuid::new_v4().to_string(),
            org_id,
            secret_hash: hash_secret(&secret),
            tmp_name: tmp_name.clone(),
            folder_uuid: None,
            name: String::new(),
            replace_uuid: None,
            asset_uuid: Uuid::new_v4().to_string(),
            content_length: n.content_length,
            chunk_size: chunk,
            completed: false,
            created_at: ts(now),
            expires_at: ts(now + Duration::hours(UPLOAD_TTL_HOURS)),
        };
        let result = self
            .db
            .write(move |tx| {
                let mut upload = upload;
                if let Some(existing) = &n.existing {
                    let id = body_id("existingAssetId", existing)?;
                    let file = aq::find_file(tx, org_id, &id)?.ok_or_else(|| {
                        AppError::invalid(
                            "existingAssetId",
                            format!("'{existing}' is not a file of this org"),
                        )
                    })?;
                    upload.replace_uuid = Some(file.uuid.clone());
                    upload.asset_uuid = file.uuid;
                    upload.name = file.name;
                } else {
                    let name = n.name.clone().ok_or_else(|| {
                        AppError::invalid(
                            "displayName",
                            "`displayName` (or `relativePath`) is required",
                        )
                    })?;
                    upload.name = name.as_str().to_string();
                    let folder = match &n.parent {
                        None => aq::root_folder(tx, org_id)?,
                        Some(raw) => {
                            let id = body_id("parentId", raw)?;
                            aq::find_folder(tx, org_id, &id)?.ok_or_else(|| {
                                AppError::invalid(
                                    "parentId",
                                    format!("'{raw}' is not a folder of this org"),
                                )
                            })?
                        }
                    };
                    if let Some(taken) = taken_file(tx, &folder, name.as_str())? {
                        match n.overwrite {
                            Overwrite::Cancel => {
                                return Err(AppError::NameExists(format!(
                                    "A file named '{name}' exists already in '{}'.",
                                    folder.path
                                )))
                            }
                            Overwrite::Replace => {
                                upload.replace_uuid = Some(taken.uuid.clone());
                                upload.asset_uuid = taken.uuid;
                            }
                            Overwrite::Continue => {}
                        }
                    }
                    upload.folder_uuid = Some(folder.uuid);
                }
                upload.id = q::insert_upload(tx, &upload)?;
                for i in 0..count {
                    let start = i * chunk;
                    let end = (start + chunk).min(upload.content_length) - 1;
                    q::insert_part(
                        tx,
                        upload.id,
                        &Uuid::new_v4().to_string(),
                        i + 1,
                        start,
                        end,
                    )?;
                }
                let parts = q::parts_of(tx, upload.id)?;
                Ok((upload, parts))
            })
            .await;
        match result {
            Ok((upload, parts)) => Ok(Started {
                uuid: upload.uuid,
                asset_uuid: upload.asset_uuid,
                content_length: upload.content_length,
                created_at: crate::db::from_ts(upload.created_at),
                parts: parts.into_iter().map(Part::from).collect(),
                secret,
            }),
            Err(e) => {
                self.blobs.remove_piecewise(vec![tmp_name]).await;
                Err(e)
            }
        }
    }

    /// Drops uploads past their 24 hours, and their files in tmp/.
    async fn sweep(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        let t = ts(now);
        let names = self.db.write(move |tx| q::delete_expired(tx, t)).await?;
        self.blobs.remove_piecewise(names).await;
        Ok(())
    }

    /// Forgets an upload whose tmp/ file is gone (the server restarted): its URLs are dead.
    async fn forget(&self, upload: &UploadRow) -> AppError {
        let id = upload.id;
        if let Err(e) = self.db.write(move |tx| q::delete_upload(tx, id)).await {
            return e;
        }
        upload_not_found()
    }

    /// A part by its uuid and URL secret, if its upload is open.
    async fn open_part(
        &self,
        part_uuid: &str,
        secret: &str,
    ) -> Result<(PartRow, UploadRow), AppError> {
        let id = parse_id(part_uuid).ok_or_else(part_not_found)?;
        let now = ts(self.clock.now());
        let (part, upload) = self
            .db
            .read(move |c| q::find_part(c, &id))
            .await?
            .ok_or_else(part_not_found)?;
        let good: bool = hash_secret(secret)
            .as_bytes()
            .ct_eq(upload.secret_hash.as_bytes())
            .into();
        if !good || upload.completed || !live(&upload, now) {
            return Err(part_not_found());
        }
        Ok((part, upload))
    }

    /// Streams a part's bytes to its offset. `declared` is the request's Content-Length, checked
    /// before anything is written. Returns the part and the SHA-256 (hex) of its bytes.
    pub async fn put_part<S, E>(
        &self,
        part_uuid: &str,
        secret: &str,
        declared: Option<u64>,
        mut body: S,
    ) -> Result<(Part, String), AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let (part, upload) = self.open_part(part_uuid, secret).await?;
        let len = part.byte_len();
        let wrong_length = |got: &str| {
            AppError::invalid(
                "body",
                format!(
                    "part {} needs exactly {len} bytes (positions {}-{}), got {got}",
                    part.number, part.start, part.end
                ),
            )
        };
        if let Some(n) = declared.filter(|n| *n != len) {
            return Err(wrong_length(&n.to_string()));
        }
        let _upload_lock = self.locks.uploads.acquire(&upload.uuid, false).await;
        let _part_lock = self.locks.parts.acquire(&part.uuid, true).await;
        // Completed, cancelled or repeated while this request waited.
        let (part, upload) = self.open_part(part_uuid, secret).await?;
        let Some(mut writer) = self
            .blobs
            .open_piece(&upload.tmp_name, part.start as u64, len)
            .await?
        else {
            return Err(self.forget(&upload).await);
        };
        if part.sha256.is_some() {
            // Its bytes are about to change: not whole until this write ends well.
            let id = part.id;
            self.db
                .write(move |tx| q::set_part_hash(tx, id, None))
                .await?;
        }
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::invalid("body", format!("the body could not be read: {e}"))
            })?;
            if !writer.write(&chunk).await? {
                return Err(wrong_length("more"));
            }
        }
        if writer.written() != len {
            return Err(wrong_length(&writer.written().to_string()));
        }
        let sha = writer.finish().await?;
        let (id, hash) = (part.id, sha.clone());
        self.db
            .write(move |tx| q::set_part_hash(tx, id, Some(&hash)))
            .await?;
        Ok((part.into(), sha))
    }

    /// The upload a part belongs to, in the caller's org, open.
    async fn org_part(
        &self,
        org_id: i64,
        part_uuid: &str,
    ) -> Result<(PartRow, UploadRow), AppError> {
        let id = parse_id(part_uuid).ok_or_else(part_not_found)?;
        let now = ts(self.clock.now());
        let (part, upload) = self
            .db
            .read(move |c| q::find_part(c, &id))
            .await?
            .ok_or_else(part_not_found)?;
        if upload.org_id != org_id || upload.completed || !live(&upload, now) {
            return Err(part_not_found());
        }
        Ok((part, upload))
    }

    /// Confirms a part: its bytes are there and, if `etag` is given, are the ones the client sent.
    pub async fn complete_part(
        &self,
        org_id: i64,
        part_uuid: &str,
        etag: Option<&str>,
    ) -> Result<Part, AppError> {
        let (part, upload) = self.org_part(org_id, part_uuid).await?;
        let _upload_lock = self.locks.uploads.acquire(&upload.uuid, false).await;
        let _part_lock = self.locks.parts.acquire(&part.uuid, true).await;
        let (part, _) = self.org_part(org_id, part_uuid).await?;
        let Some(sha) = &part.sha256 else {
            return Err(AppError::UploadIncomplete(format!(
                "Part {} has no bytes yet: PUT them to its URL first.",
                part.number
            )));
        };
        if let Some(etag) = etag {
            if bare_etag(etag) != *sha {
                return Err(AppError::invalid(
                    "etag",
                    format!(
                        "'{etag}' is not the ETag of the bytes part {} holds",
                        part.number
                    ),
                ));
            }
        }
        let id = part.id;
        self.db.write(move |tx| q::confirm_part(tx, id)).await?;
        Ok(Part {
            confirmed: true,
            ..part.into()
        })
    }

    async fn find_open_or_done(
        &self,
        org_id: i64,
        upload_uuid: &str,
    ) -> Result<(UploadRow, Vec<PartRow>), AppError> {
        let id = parse_id(upload_uuid).ok_or_else(upload_not_found)?;
        let now = ts(self.clock.now());
        let (upload, parts) = self
            .db
            .read(move |c| {
                let upload = q::find_upload(c, org_id, &id)?.ok_or_else(upload_not_found)?;
                let parts = q::parts_of(c, upload.id)?;
                Ok((upload, parts))
            })
            .await?;
        if !live(&upload, now) {
            return Err(upload_not_found());
        }
        Ok((upload, parts))
    }

    /// Completes an upload: every part whole, the file hashed (SHA-256, CRC-32) by streaming, moved
    /// into blobs/ and recorded in one transaction. Repeating it answers the same asset.
    pub async fn complete(&self, org_id: i64, upload_uuid: &str) -> Result<File, AppError> {
        let (upload, _) = self.find_open_or_done(org_id, upload_uuid).await?;
        let _lock = self.locks.uploads.acquire(&upload.uuid, true).await;
        let (upload, parts) = self.find_open_or_done(org_id, upload_uuid).await?;
        if upload.completed {
            return self.assets.get_file(org_id, upload.asset_uuid).await;
        }
        let missing: Vec<i64> = parts
            .iter()
            .filter(|p| p.sha256.is_none())
            .map(|p| p.number)
            .collect();
        if !missing.is_empty() {
            return Err(AppError::UploadIncomplete(format!(
                "{} of {} parts are missing: {}. PUT their bytes, then complete again.",
                missing.len(),
                parts.len(),
                ranges(&missing)
            )));
        }
        let Some(staged) = self.blobs.stage_piecewise(&upload.tmp_name).await? else {
            return Err(self.forget(&upload).await);
        };
        if staged.size != upload.content_length as u64 {
            return Err(AppError::internal(format!(
                "upload {} holds {} bytes, not {}",
                upload.uuid, staged.size, upload.content_length
            )));
        }
        let mut stored = self.blobs.persist_all(vec![staged]).await?;
        let blob = stored
            .pop()
            .ok_or_else(|| AppError::internal("no blob stored"))?;
        let target = match &upload.replace_uuid {
            Some(uuid) => UploadTarget::Replace { uuid: uuid.clone() },
            None => UploadTarget::New {
                folder_uuid: upload.folder_uuid.clone().unwrap_or_default(),
                name: Name::parse("displayName", &upload.name)?,
                uuid: upload.asset_uuid.clone(),
            },
        };
        let t = ts(self.clock.now());
        let (upload_id, blob_for_tx) = (upload.id, blob.clone());
        let result = self
            .db
            .write(move |tx| {
                let recorded = assets::record_upload(tx, org_id, &target, &blob_for_tx, t)?;
                q::mark_completed(tx, upload_id)?;
                Ok(recorded)
            })
            .await;
        // On `fs` the file became the blob; streamed to a bucket, it is left here.
        if blob.store != crate::blob::FS {
            self.blobs
                .remove_piecewise(vec![upload.tmp_name.clone()])
                .await;
        }
        match result {
            Ok((file, gone)) => {
                self.blobs.remove(gone).await;
                Ok(file.into())
            }
            Err(e) => {
                // The bytes are in blobs/ now, not tmp/: the upload cannot be completed again.
                self.blobs.remove(vec![blob.blob_ref()]).await;
                let id = upload.id;
                let _ = self.db.write(move |tx| q::delete_upload(tx, id)).await;
                Err(e)
            }
        }
    }

    /// Cancels an open upload: its parts and file go, its URLs die.
    pub async fn cancel(&self, org_id: i64, upload_uuid: &str) -> Result<String, AppError> {
        let (upload, _) = self.find_open_or_done(org_id, upload_uuid).await?;
        let _lock = self.locks.uploads.acquire(&upload.uuid, true).await;
        let (upload, _) = self.find_open_or_done(org_id, upload_uuid).await?;
        if upload.completed {
            return Err(AppError::NotFound(
                "The upload is complete: there is nothing to cancel.".into(),
            ));
        }
        let id = upload.id;
        self.db.write(move |tx| q::delete_upload(tx, id)).await?;
        self.blobs.remove_piecewise(vec![upload.tmp_name]).await;
        Ok(upload.uuid)
    }
}

fn taken_file(
    c: &r2d2_sqlite::rusqlite::Connection,
    folder: &aq::FolderRow,
    name: &str,
) -> Result<Option<FileRow>, AppError> {
    if !aq::file_name_taken(c, folder.id, name)? {
        return Ok(None);
    }
    let order = aq::Sort {
        key: aq::SortKey::Name,
        desc: false,
    };
    let page = aq::Slice {
        limit: -1,
        offset: 0,
    };
    let (files, _) = aq::list_files(c, folder, false, order, page)?;
    Ok(files.into_iter().find(|f| f.name == name))
}

/// `"<hex>"`, `W/"<hex>"` or `<hex>`: the hex, lower-cased.
fn bare_etag(raw: &str) -> String {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .trim()
        .to_ascii_lowercase()
}

/// Part numbers as short ranges: `2, 4-9, 12`.
fn ranges(numbers: &[i64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        out.push(if j == i {
            numbers[i].to_string()
        } else {
            format!("{}-{}", numbers[i], numbers[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_ranges() {
        assert_eq!(ranges(&[2]), "2");
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn etags() {
        assert_eq!(bare_etag("\"ABC\""), "abc");
        assert_eq!(bare_etag("W/\"abc\""), "abc");
        assert_eq!(bare_etag(" abc "), "abc");
    }

    #[test]
    fn overwrite_options() {
        assert_eq!(
            Overwrite::parse("o", Some("Replace")).unwrap(),
            Overwrite::Replace
        );
        assert_eq!(Overwrite::parse("o", None).unwrap(), Overwrite::Continue);
        assert!(Overwrite::parse("o", Some("merge")).is_err());
    }
}
