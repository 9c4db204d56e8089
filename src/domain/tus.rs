//! tus 1.0.0 uploads (API.md "Resumable uploads"): create, report the offset, take bytes at the
//! offset, terminate, expire. The route-specific parts are a `Policy` (which rows it sees, how
//! long an idle upload lives, the size limit) and the caller's org: a file request's route can
//! run a second `TusService` with its own policy over the same table and files.
//!
//! The offset HEAD reports is always bytes on disk, and so is the recorded one: a PATCH writes
//! without an fdatasync of its own (one per 5 MiB chunk cost more than the hashing); it records
//! what background writeback put on disk (`Durable`), and syncs itself only when that lags
//! `SYNC_EVERY` behind, at a HEAD and at completion. After a crash the record is behind what the
//! client sent; HEAD says so and the client resends. SHA-256 and CRC-32 run while bytes arrive,
//! on a thread that outlives a PATCH answered before its hashing ended; the hashes stay in
//! memory between PATCHes, so completing reads nothing again; after a restart the next PATCH
//! hashes the bytes already there once.
//! An upload into a bucket is sent there part by part instead, and hashed as its parts are
//! sent (`tus_ship.rs`).

use crate::blob::{BlobStore, Staged, FS};
use crate::clock::Clock;
use crate::db::tus::{self as q, TusRow};
use crate::db::{from_ts, ts, Db};
use crate::domain::assets::{detect_type, AssetService, FolderRef, Incoming};
use crate::domain::tus_ship::Shipper;
use crate::domain::types::{FolderPath, Name, Visibility};
use crate::error::AppError;
use crate::partial::{Checksum, Durable, End, Flow, Hashes, PartialDir, Resume};
use bytes::Bytes;
use futures_util::Stream;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

mod ending;

/// Bytes written past what is on disk before a PATCH syncs and records them itself.
const SYNC_EVERY: u64 = 128 * 1024 * 1024;

/// Seconds an upload's recorded expiry may lag behind its last PATCH (of a 24 h lifetime).
const EXPIRY_STEP: i64 = 60;

pub use super::tus_types::{
    FirstChunk, NewTus, Policy, TusState, LIBRARY_TTL_HOURS, REQUEST_TTL_HOURS,
};

/// One upload's in-memory part: its hashes, and whose turn it is. Each PATCH takes a new
/// turn, which tells an older PATCH still reading a dead connection to stop (its chunk is
/// dropped); the hashes' lock, held while the file is written, then orders them.
#[derive(Default)]
struct Slot {
    hashes: Arc<tokio::sync::Mutex<Option<Resume>>>,
    turn: tokio::sync::watch::Sender<u64>,
    /// Where the upload stands in this process: PATCHes write without an fdatasync each, so it
    /// may be ahead of the recorded (synced) offset. 0 when unknown (a restart): the record
    /// holds then.
    written: AtomicU64,
    /// What background writeback has put on disk (see `Sink::receive`).
    durable: Arc<Durable>,
    /// Held while the upload's parts go to its bucket (one sender at a time).
    ship: Arc<tokio::sync::Mutex<()>>,
    /// The upload's row as its last PATCH left it (an upload on `fs` only: nothing else
    /// changes the row but HEAD, which only moves `received` up), so the next PATCH reads none.
    /// Gone with the slot when the upload completes, ends or expires.
    row: Mutex<Option<TusRow>>,
}

#[derive(Clone)]
pub struct TusService {
    db: Db,
    assets: AssetService,
    clock: Clock,
    dir: PartialDir,
    policy: Policy,
    slots: Arc<Mutex<HashMap<String, Arc<Slot>>>>,
    /// Sends uploads into a bucket part by part (`tus_ship.rs`).
    shipper: Shipper,
}

fn not_found() -> AppError {
    AppError::not_found("The upload")
}

/// An upload id as the path gives it: 32 lower-case hex digits, else unknown (404).
fn parse_upload_id(raw: &str) -> Option<String> {
    let u = Uuid::try_parse(raw).ok()?.simple().to_string();
    (u == raw).then_some(u)
}

fn mismatch(sent: u64, at: u64) -> AppError {
    AppError::OffsetMismatch(format!(
        "Upload-Offset is {sent} but the upload stands at {at}: HEAD it and resume from there."
    ))
}

/// A failed disk or database is a 503 saying so (the cause goes to the log); other errors
/// pass unchanged. Every answer of the tus routes goes through it: no 500 reaches a client.
pub fn unavailable(e: AppError) -> AppError {
    match e {
        AppError::Internal(cause) => {
            tracing::error!(%cause, "tus upload: storage failure");
            AppError::Unavailable(
                "The upload could not be stored right now (disk or database); try again later."
                    .into(),
            )
        }
        other => other,
    }
}

impl TusService {
    pub fn new(
        db: Db,
        assets: AssetService,
        clock: Clock,
        dir: PartialDir,
        policy: Policy,
        blobs: BlobStore,
    ) -> TusService {
        TusService {
            shipper: Shipper::new(db.clone(), blobs, dir.clone()),
            db,
            assets,
            clock,
            dir,
            policy,
            slots: Arc::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        self.slots.lock().entry(id.to_string()).or_default().clone()
    }

    /// The offset the next PATCH must give: what this process wrote, or else the record.
    fn expected(&self, row: &TusRow) -> u64 {
        let written = self
            .slots
            .lock()
            .get(&row.uuid)
            .map_or(0, |s| s.written.load(Ordering::SeqCst));
        written.max(row.received as u64).max(row.sent as u64)
    }

    /// Whether `slot` is still the upload's (not dropped by completion, termination, expiry).
    fn is_current(&self, id: &str, slot: &Arc<Slot>) -> bool {
        self.slots
            .lock()
            .get(id)
            .is_some_and(|s| Arc::ptr_eq(s, slot))
    }

    fn drop_slot(&self, id: &str) {
        self.slots.lock().remove(id);
    }

    /// `POST`: checks size and target before anything is stored, then makes the empty file
    /// and its row, and takes `first` as the bytes at offset 0 (creation-with-upload). A first
    /// chunk that is not kept (a bad checksum, a cut) still leaves the upload created: the
    /// answer says where it stands and the client PATCHes from there. An empty upload is
    /// complete at once (no PATCH will come).
    pub async fn create<S, E>(
        &self,
        org_id: i64,
        n: NewTus,
        first: Option<FirstChunk<S>>,
    ) -> Result<TusState, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let created = self.create_empty(org_id, n).await?;
        let Some(first) = first.filter(|f| created.file_uuid.is_none() && f.declared != Some(0))
        else {
            return Ok(created);
        };
        let (check, declared) = (first.check, first.declared);
        match self
            .patch(org_id, &created.id, 0, check, declared, first.body)
            .await
        {
            Ok(after) => Ok(after),
            Err(e @ AppError::Unavailable(_)) => Err(e),
            Err(e) => {
                tracing::info!(upload = %created.id, error = %e, "creation-with-upload: body not kept");
                Ok(self.head(org_id, &created.id).await.unwrap_or(created))
            }
        }
    }

    async fn create_empty(&self, org_id: i64, n: NewTus) -> Result<TusState, AppError> {
        if n.length > self.policy.max_bytes {
            return Err(AppError::TooLarge {
                limit: self.policy.max_bytes,
            });
        }
        let (folder_path, folder_uuid) = match &n.folder {
            FolderRef::Path(p) => (Some(path_string(p)), None),
            FolderRef::Uuid(u) => {
                let folder = self
                    .assets
                    .get_folder(org_id, FolderRef::Uuid(u.clone()))
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound(_) => AppError::invalid(
                            "folder_uuid",
                            format!("'{u}' is not a folder of this org"),
                        ),
                        other => other,
                    })?;
                (None, Some(folder.uuid))
            }
        };
        let now = self.clock.now();
        self.sweep().await?;
        let id = Uuid::new_v4().simple().to_string();
        self.dir.create(&id).await.map_err(unavailable)?;
        let row = TusRow {
            id: 0,
            uuid: id.clone(),
            kind: self.policy.kind.to_string(),
            org_id,
            length: n.length as i64,
            received: 0,
            filename: n.name.as_str().to_string(),
            filetype: n.filetype,
            folder_path,
            folder_uuid,
            metadata: n.metadata,
            file_uuid: None,
            created_at: ts(now),
            expires_at: ts(now + self.policy.ttl),
            request: n.request,
            store: self.shipper.default_store(),
            blob_id: None,
            mp_id: None,
            sent: 0,
        };
        let inserted = row.clone();
        // A request's limits are checked and the slot taken in one transaction, so parallel
        // creations can never pass them together.
        let written = self
            .db
            .write(move |tx| {
                if let Some(r) = &inserted.request {
                    crate::domain::requests::reserve(tx, r.request_id, inserted.length, ts(now))?;
                }
                q::insert(tx, &inserted)
            })
            .await;
        let row_id = match written {
            Ok(row_id) => row_id,
            Err(e) => {
                self.dir.remove(vec![id]).await;
                return Err(e);
            }
        };
        let row = TusRow { id: row_id, ..row };
        if n.length == 0 {
            return self.complete(&row, Hashes::default()).await;
        }
        Ok(TusState::from(&row))
    }

    /// The caller's upload, not expired: 404 unknown (or another org's), 410 expired.
    async fn live(&self, org_id: i64, raw_id: &str) -> Result<TusRow, AppError> {
        let id = parse_upload_id(raw_id).ok_or_else(not_found)?;
        let kind = self.policy.kind;
        let row = self.db.read(move |c| q::find(c, kind, &id)).await?;
        self.checked(row, org_id)
    }

    /// `live` from the row the upload's last PATCH left in memory, when there is one.
    async fn live_cached(&self, org_id: i64, raw_id: &str) -> Result<TusRow, AppError> {
        let id = parse_upload_id(raw_id).ok_or_else(not_found)?;
        let cached = self
            .slots
            .lock()
            .get(&id)
            .and_then(|s| s.row.lock().clone());
        match cached {
            Some(row) => self.checked(Some(row), org_id),
            None => self.live(org_id, raw_id).await,
        }
    }

    fn checked(&self, row: Option<TusRow>, org_id: i64) -> Result<TusRow, AppError> {
        let row = row.filter(|r| r.org_id == org_id).ok_or_else(not_found)?;
        if ts(self.clock.now()) >= row.expires_at {
            return Err(AppError::UploadExpired(
                "The upload expired: nothing was received for too long. Start a new one.".into(),
            ));
        }
        Ok(row)
    }

    /// Refuses (404) an upload that is not `uploader_id`'s: a file request's uploader reaches
    /// only their own uploads, whatever ids they guess.
    pub async fn check_uploader(&self, raw_id: &str, uploader_id: i64) -> Result<(), AppError> {
        let id = parse_upload_id(raw_id).ok_or_else(not_found)?;
        let kind = self.policy.kind;
        let row = self.db.read(move |c| q::find(c, kind, &id)).await?;
        match row.and_then(|r| r.request) {
            Some(r) if r.uploader_id == uploader_id => Ok(()),
            _ => Err(not_found()),
        }
    }

    /// Syncs and records every upload this process wrote past its record (a clean stop).
    pub async fn sync_all(&self) {
        let pending: Vec<String> = self
            .slots
            .lock()
            .iter()
            .filter(|(_, s)| s.written.load(Ordering::SeqCst) > 0)
            .map(|(id, _)| id.clone())
            .collect();
        for uuid in pending {
            let kind = self.policy.kind;
            let found = self.db.read(move |c| q::find(c, kind, &uuid)).await;
            if let Ok(Some(row)) = found {
                let id = row.uuid.clone();
                if let Err(e) = self.head(row.org_id, &id).await {
                    tracing::warn!(upload = %id, error = %e, "tus bytes not synced at stop");
                }
            }
        }
    }

    /// `HEAD`: where the upload stands, in bytes on disk. Bytes written but not synced yet are
    /// synced and recorded first. A HEAD means the client is not sending, so a PATCH still
    /// reading a dead connection is stopped (its chunk is dropped) rather than waited for.
    pub async fn head(&self, org_id: i64, id: &str) -> Result<TusState, AppError> {
        let row = self.live(org_id, id).await?;
        if self.expected(&row) == row.received as u64 {
            return Ok(TusState::from(&row));
        }
        let slot = self.slot(&row.uuid);
        slot.turn.send_modify(|t| *t += 1);
        let _held = slot.hashes.clone().lock_owned().await;
        let row = self.live(org_id, id).await?;
        let written = self.expected(&row);
        if row.file_uuid.is_some() || written == row.received as u64 {
            return Ok(TusState::from(&row));
        }
        self.dir.sync(&row.uuid).await.map_err(unavailable)?;
        slot.durable.synced_to(written);
        let (row_id, expires) = (row.id, row.expires_at);
        self.db
            .write(move |tx| q::set_received(tx, row_id, written as i64, expires))
            .await?;
        Ok(TusState {
            offset: written,
            ..TusState::from(&row)
        })
    }

    /// `PATCH` (and a POST's body): takes the bytes at `offset`. `declared` is the body's
    /// Content-Length, refused before a byte is read when it would pass the upload's length.
    /// A chunk with a checksum is kept only when whole and matching; one without keeps what
    /// arrived even when the connection broke. The PATCH that completes the upload puts the
    /// file in the library.
    pub async fn patch<S, E>(
        &self,
        org_id: i64,
        id: &str,
        offset: u64,
        check: Option<Checksum>,
        declared: Option<u64>,
        body: S,
    ) -> Result<TusState, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let row = self.live_cached(org_id, id).await?;
        let length = row.length as u64;
        if row.file_uuid.is_some() {
            // Complete: only a repeat of the last, empty request is answered kindly.
            return match (offset == length, declared.unwrap_or(0)) {
                (true, 0) => Ok(TusState::from(&row)),
                _ => Err(mismatch(offset, length)),
            };
        }
        if offset != self.expected(&row) {
            return Err(mismatch(offset, self.expected(&row)));
        }
        if let Some(n) = declared.filter(|n| offset.saturating_add(*n) > length) {
            return Err(AppError::invalid(
                "Content-Length",
                format!(
                    "{n} bytes at offset {offset} run past the upload's length of {length} bytes"
                ),
            ));
        }
        let slot = self.slot(&row.uuid);
        let mut turn = 0;
        slot.turn.send_modify(|t| {
            *t += 1;
            turn = *t;
        });
        let mut stop = slot.turn.subscribe();
        let mut held = slot.hashes.clone().lock_owned().await;
        if *slot.turn.borrow() != turn {
            return Err(AppError::OffsetMismatch(
                "A newer PATCH of this upload arrived meanwhile: HEAD it and resume.".into(),
            ));
        }
        // Under the lock: an earlier PATCH may have moved the offset while this one waited
        // (the slot tells: `written`), or completed or ended the upload (its slot is gone
        // then). Only then, or when parts go to a bucket meanwhile, is the row read again.
        let row = if row.store == FS && self.is_current(&row.uuid, &slot) {
            row
        } else {
            self.live(org_id, id).await?
        };
        if row.file_uuid.is_some() || offset != self.expected(&row) {
            return Err(mismatch(offset, self.expected(&row)));
        }
        let Some(sink) = self
            .dir
            .open(
                &row.uuid,
                offset,
                held.take(),
                row.store == FS,
                slot.durable.clone(),
            )
            .await
            .map_err(unavailable)?
        else {
            return Err(self.forget(&row).await);
        };
        let stop = async move {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        // Into a bucket, a chunk without a checksum goes on part by part while it arrives
        // (one with a checksum is all or nothing: it goes once kept).
        let shipping = (row.store != FS && check.is_none()).then(|| {
            let (progress, at) = tokio::sync::watch::channel(offset);
            let (sending, sent) = tokio::sync::watch::channel(row.sent as u64);
            let job = self
                .shipper
                .ship_while(&row, slot.ship.clone(), at, sending);
            let ahead = 3 * crate::domain::tus_ship::part_size(length);
            let flow = Flow {
                progress,
                sent,
                ahead,
            };
            (flow, tokio::spawn(job))
        });
        let (flow, ship_job) = shipping.unzip();
        let received = sink
            .holding(held)
            .with_checksum(check)
            .receive(body, length - offset, stop, flow)
            .await;
        // What went on to the bucket is no longer this chunk's to drop.
        let kept = match ship_job {
            Some(job) => {
                let _ = job.await;
                self.shipper.sent(&row).await?
            }
            None => 0,
        };
        let (mut sink, end) = received.map_err(unavailable)?;
        let keep = match &end {
            End::Whole => sink.checksum_ok().await.map_err(unavailable)?,
            // A cut chunk without a checksum keeps what arrived; one superseded by a newer
            // PATCH is dropped, so the newer one (sent from the offset HEAD gave) fits.
            End::Cut(_) => !sink.has_checksum(),
            End::Superseded => false,
            End::TooLong => false,
        };
        if !keep {
            sink.discard(kept).await.map_err(unavailable)?;
            return Err(match end {
                End::Whole => AppError::ChecksumMismatch(
                    "The chunk does not match its Upload-Checksum; it was discarded: send it again."
                        .into(),
                ),
                End::TooLong => AppError::invalid(
                    "body",
                    format!("the body runs past the upload's length of {length} bytes; it was discarded"),
                ),
                End::Cut(e) => AppError::invalid(
                    "body",
                    format!("the body was cut off ({e}); the chunk was discarded"),
                ),
                End::Superseded => AppError::OffsetMismatch(
                    "A newer PATCH of this upload arrived; this chunk was discarded.".into(),
                ),
            });
        }
        let new_offset = offset + sink.written();
        // Synced when the upload completes (its file becomes a blob), or when background
        // writeback fell SYNC_EVERY bytes behind; else the record moves to what writeback put
        // on disk, the rest waits in the page cache, and after a crash HEAD says less and the
        // client sends those bytes again.
        let on_disk = slot
            .durable
            .synced()
            .max(row.received as u64)
            .min(new_offset);
        let sync = new_offset == length || new_offset - on_disk >= SYNC_EVERY;
        // Only the last chunk waits for its hashing (`settle` below); a PATCH before it is
        // answered while its hashing thread runs on (the next one's starts where it ends).
        let last = new_offset == length;
        let (done, held) = sink.commit(sync).await.map_err(unavailable)?;
        slot.written.store(new_offset, Ordering::SeqCst);
        if last {
            let done = done.settle().await.map_err(unavailable)?;
            // Held until the file is in the library: a PATCH waiting meanwhile then sees it done.
            let completed = self.complete(&row, done).await;
            drop(held);
            return completed;
        }
        let recorded = if sync { new_offset } else { on_disk };
        let mut expires = self.clock.now() + self.policy.ttl;
        if recorded == row.received as u64 && ts(expires) - row.expires_at < EXPIRY_STEP {
            // Nothing new to record but an expiry moved by seconds: the row is left as it is
            // (one write less per chunk), and its expiry is the one to report.
            expires = from_ts(row.expires_at);
        } else {
            let (row_id, t) = (row.id, ts(expires));
            self.db
                .write(move |tx| q::set_received(tx, row_id, recorded as i64, t))
                .await?;
        }
        if let Some(mut held) = held {
            *held = Some(done);
        }
        if row.store == FS {
            *slot.row.lock() = Some(TusRow {
                received: recorded as i64,
                expires_at: ts(expires),
                ..row.clone()
            });
        } else {
            self.shipper
                .ship_kept(&row, slot.ship.clone(), new_offset)
                .await;
        }
        match end {
            End::Whole => Ok(TusState {
                offset: new_offset,
                expires_at: expires,
                ..TusState::from(&row)
            }),
            // Only a cut body is kept short of its end (superseded and too long were dropped).
            End::Cut(_) | End::Superseded | End::TooLong => Err(AppError::invalid(
                "body",
                "the body was cut off; what arrived is kept: HEAD the upload and resume",
            )),
        }
    }

    /// Moves a whole upload into the library: the file (already fsynced, its hashes known)
    /// becomes a blob, or, for an upload into a bucket, its last part goes and the object is
    /// completed; the file row is recorded, the upload row remembers the file.
    async fn complete(&self, row: &TusRow, hashes: Hashes) -> Result<TusState, AppError> {
        let length = row.length as u64;
        let staged = if row.store == FS {
            let (sha256, crc32) = hashes.finish();
            Staged::adopt(self.dir.path(&row.uuid), length, sha256, crc32)?
        } else {
            let lock = self.slot(&row.uuid).ship.clone();
            let _sending = lock.lock().await;
            self.shipper.finish(row).await?
        };
        let name = Name::parse("filename", &row.filename)?;
        let mime = detect_type(&row.filename, row.filetype.as_deref());
        let folder = match (&row.folder_uuid, &row.folder_path) {
            (Some(u), _) => FolderRef::Uuid(u.clone()),
            (None, p) => FolderRef::Path(FolderPath::parse("folder", p.as_deref().unwrap_or("/"))?),
        };
        let then = row
            .request
            .clone()
            .map(|r| crate::domain::requests::record_landing(r, ts(self.clock.now())));
        let stored = self
            .assets
            .store_upload_then(
                row.org_id,
                folder,
                vec![Incoming { name, mime, staged }],
                Visibility::Org,
                then,
            )
            .await;
        self.drop_slot(&row.uuid);
        let file = match stored.map(|mut files| files.pop()) {
            Ok(Some(file)) => file,
            Ok(None) => return Err(AppError::internal("upload stored no file")),
            // The blob store is down: the bytes stay (the staged file is kept) and so does the
            // upload, so the client sends its last PATCH again once the store is back.
            Err(e @ AppError::Unavailable(_)) => return Err(e),
            Err(e) => {
                // Anything else (the folder went): the upload cannot finish any more.
                let id = row.id;
                if let Ok(Some(gone)) = self.db.write(move |tx| q::delete(tx, id)).await {
                    self.shipper.abandon(&[gone]).await;
                }
                self.dir.remove(vec![row.uuid.clone()]).await;
                return Err(e);
            }
        };
        if row.store != FS {
            // Its bytes are in the bucket; the file here is holes and the last part.
            self.dir.remove(vec![row.uuid.clone()]).await;
        }
        let expires = self.clock.now() + self.policy.ttl;
        let (row_id, uuid, t) = (row.id, file.uuid.clone(), ts(expires));
        self.db
            .write(move |tx| q::set_completed(tx, row_id, &uuid, t))
            .await?;
        Ok(TusState {
            offset: length,
            expires_at: expires,
            file_uuid: Some(file.uuid),
            ..TusState::from(row)
        })
    }
}

/// `/a/b` for a folder path (`/` for the root).
fn path_string(p: &FolderPath) -> String {
    let names: Vec<&str> = p.segments().iter().map(|n| n.as_str()).collect();
    format!("/{}", names.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_are_server_made_hex() {
        let id = Uuid::new_v4().simple().to_string();
        assert_eq!(parse_upload_id(&id), Some(id.clone()));
        assert_eq!(parse_upload_id(&id.to_uppercase()), None);
        assert_eq!(parse_upload_id("../../etc/passwd"), None);
        let hyphenated = Uuid::new_v4().to_string();
        assert_eq!(parse_upload_id(&hyphenated), None);
    }
}
