//! File contents. Uploads are hashed (SHA-256, CRC-32, size) as they stream in, into `tmp/`
//! and then `blobs/`, or on into the bucket part by part while they arrive (`s3_write.rs`),
//! under a server-made id: no client name ever becomes a path or a key. The store is `fs` (`blobs/<id>` under the data dir, the default) or an S3-compatible
//! bucket (`s3.rs`); each blob row records its store, and reads use the blob's own store, so a
//! migration between them can run while the server serves. Downloads stream with Range,
//! If-Range, ETag and Last-Modified (`serve.rs`); no file is ever held in memory.

pub mod fs;
pub mod migrate;
mod reader;
pub mod s3;
mod s3_write;
mod serve;
pub mod sha_state;

pub use fs::PieceWriter;
pub use reader::{BlobReader, RemoteRead};
pub use s3_write::{punch, read_part};
pub use serve::{at_end, byte_range, content_disposition, is_risky_type, on_sent, serve, Download};

use crate::db::Db;
use crate::error::AppError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use s3::{S3Settings, S3Url, S3};
use s3_write::S3Writer;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Read and write in pieces of this size: big enough for throughput (1 MiB reads serve a file
/// at about 2.5x the speed of 256 KiB ones here), small enough to stay flat.
pub(crate) const CHUNK: usize = 1024 * 1024;

/// Files of one request stored to S3 at once; the MiB of memory all uploads to S3 in progress
/// may hold together (the rest wait their turn).
const PUTS_AT_ONCE: usize = 8;
const PUT_BUDGET_MIB: u64 = 32;

/// The store column's value for blobs under the data dir.
pub const FS: &str = "fs";

/// S3 clients by canonical `s3://bucket/prefix`, made on first use: a blob may name a bucket
/// other than the configured one (a migration in progress), and is read from there.
#[derive(Clone, Default)]
pub struct Remotes {
    settings: S3Settings,
    made: Arc<parking_lot::Mutex<HashMap<String, Arc<S3>>>>,
}

impl Remotes {
    pub fn new(settings: S3Settings) -> Remotes {
        Remotes {
            settings,
            made: Arc::default(),
        }
    }

    /// The client of the store a blob row names (never `fs`).
    pub fn get(&self, store: &str) -> Result<Arc<S3>, AppError> {
        if let Some(s) = self.made.lock().get(store) {
            return Ok(s.clone());
        }
        let url = S3Url::parse(store).map_err(AppError::internal)?;
        let s3 = Arc::new(S3::new(url, &self.settings)?);
        self.made.lock().insert(store.to_string(), s3.clone());
        Ok(s3)
    }
}

/// Where one blob's bytes are.
#[derive(Clone)]
pub enum Source {
    Fs(PathBuf),
    S3(Arc<S3>, String),
}

impl Source {
    /// `len` bytes from `start`, streamed (disk reads on the blocking pool, or one ranged GET).
    pub async fn stream(
        &self,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, AppError> {
        match self {
            Source::Fs(path) => {
                let file = tokio::fs::File::open(path).await?.into_std().await;
                Ok(fs::file_stream(file, start, len).boxed())
            }
            Source::S3(s3, id) => s3.get_range(id, start, len).await,
        }
    }
}

/// A blob id with the store its row named.
#[derive(Debug, Clone)]
pub struct BlobRef {
    pub id: String,
    pub store: String,
}

/// A copy of a blob on local disk (an S3 blob fetched into tmp/, deleted on drop).
pub struct LocalCopy {
    pub path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

#[derive(Clone)]
pub struct BlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
    /// Each blob's store is looked up by id.
    db: Db,
    /// Where new blobs go: None = `fs`.
    default: Option<Arc<S3>>,
    pub remotes: Remotes,
    /// `PUT_BUDGET_MIB`, shared by every upload to S3 of this process.
    put_budget: Arc<tokio::sync::Semaphore>,
    /// Whether any blob may be outside `fs` (`refresh` keeps it current). While none is, a
    /// download reads `blobs/<id>` with no lookup of its store, exactly as before buckets.
    any_remote: Arc<std::sync::atomic::AtomicBool>,
}

/// A finished upload: a file in `tmp/` (deleted on drop unless persisted), or already an object
/// in the bucket (streamed there as it arrived; deleted on drop unless recorded).
pub struct Staged {
    body: Body,
    pub size: u64,
    pub sha256: String,
    pub crc32: u32,
}

enum Body {
    Local {
        file: tempfile::TempPath,
        /// Kept (not deleted) when storing it fails: a chunked upload's file, whose completion
        /// the client may retry once the store is back.
        retryable: bool,
    },
    Stored(StoredObject),
}

/// An object an upload streamed into the bucket, not yet named by a blob row: deleted (in the
/// background) if it never is.
pub struct StoredObject {
    s3: Arc<S3>,
    id: String,
    armed: bool,
}

impl StoredObject {
    pub fn new(s3: Arc<S3>, id: String) -> StoredObject {
        StoredObject {
            s3,
            id,
            armed: true,
        }
    }

    /// Its store and id, for the blob row that will name it (disarms the delete).
    fn take(mut self) -> (String, String) {
        self.armed = false;
        (self.s3.url.url(), std::mem::take(&mut self.id))
    }

    /// Deletes the object now (a drop would only start it).
    async fn delete(mut self) {
        self.armed = false;
        remove_object(self.s3.clone(), std::mem::take(&mut self.id)).await;
    }
}

async fn remove_object(s3: Arc<S3>, id: String) {
    if let Err(e) = s3.delete(&id).await {
        tracing::warn!(blob = %id, error = %e, "could not remove an unrecorded object");
    }
}

impl Drop for StoredObject {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(remove_object(self.s3.clone(), std::mem::take(&mut self.id)));
        }
    }
}

impl Staged {
    /// A finished file written elsewhere on this file system (a tus upload under uploads/),
    /// with the hashes computed while it was written. Kept when storing it fails: the upload's
    /// last PATCH can be sent again once the store is back.
    pub fn adopt(path: PathBuf, size: u64, sha256: String, crc32: u32) -> Result<Staged, AppError> {
        Ok(Staged {
            body: Body::Local {
                file: tempfile::TempPath::try_from_path(path)?,
                retryable: true,
            },
            size,
            sha256,
            crc32,
        })
    }

    /// An object already in the bucket (a tus upload sent there part by part).
    pub fn stored(object: StoredObject, size: u64, sha256: String, crc32: u32) -> Staged {
        Staged {
            body: Body::Stored(object),
            size,
            sha256,
            crc32,
        }
    }

    fn local(file: tempfile::TempPath, size: u64, sha256: String, crc32: u32) -> Staged {
        Staged {
            body: Body::Local {
                file,
                retryable: false,
            },
            size,
            sha256,
            crc32,
        }
    }
}

/// Drops a staged file after a failed store: deleted, unless its upload may be completed again.
fn spare(file: tempfile::TempPath, retryable: bool) {
    if retryable {
        let _ = file.keep();
    }
}

/// Writes one upload into `tmp/` (on `fs`) or streams it into the bucket (on S3), hashing as it
/// goes, refusing bytes past `limit`.
pub struct Staging {
    sink: Sink,
    sha: Sha256,
    crc: crc32fast::Hasher,
    size: u64,
    limit: u64,
}

enum Sink {
    Fs {
        path: tempfile::TempPath,
        file: tokio::io::BufWriter<tokio::fs::File>,
    },
    S3(Box<S3Writer>),
}

impl Staging {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(AppError::TooLarge { limit: self.limit });
        }
        self.sha.update(bytes);
        self.crc.update(bytes);
        match &mut self.sink {
            Sink::Fs { file, .. } => file.write_all(bytes).await?,
            Sink::S3(w) => w.write(bytes).await?,
        }
        Ok(())
    }

    pub async fn finish(self) -> Result<Staged, AppError> {
        let (size, sha256, crc32) = (
            self.size,
            hex::encode(self.sha.finalize()),
            self.crc.finalize(),
        );
        match self.sink {
            Sink::Fs { path, mut file } => {
                file.flush().await?;
                file.get_mut().sync_data().await?;
                Ok(Staged::local(path, size, sha256, crc32))
            }
            Sink::S3(w) => {
                let (s3, id) = (w.store().clone(), w.id.clone());
                match w.finish().await? {
                    Some(small) => Ok(Staged::local(small, size, sha256, crc32)),
                    None => Ok(Staged::stored(
                        StoredObject::new(s3, id),
                        size,
                        sha256,
                        crc32,
                    )),
                }
            }
        }
    }
}

impl BlobStore {
    /// `default`: the configured `--blob-store` (None = fs).
    pub fn new(
        blobs: PathBuf,
        tmp: PathBuf,
        db: Db,
        default: Option<&S3Url>,
        settings: S3Settings,
    ) -> Result<BlobStore, AppError> {
        let remotes = Remotes::new(settings);
        let default = default.map(|u| remotes.get(&u.url())).transpose()?;
        let any_remote = default.is_some() || db.read_sync(crate::db::blobs::any_remote)?;
        Ok(BlobStore {
            any_remote: Arc::new(any_remote.into()),
            blobs,
            tmp,
            db,
            default,
            remotes,
            put_budget: Arc::new(tokio::sync::Semaphore::new(PUT_BUDGET_MIB as usize)),
        })
    }

    /// At start: the configured bucket takes writes, and every other bucket blobs are in
    /// answers reads (a wrong bucket or key is an error here, never a running server that
    /// fails later).
    pub async fn check(&self) -> Result<(), AppError> {
        if let Some(s3) = &self.default {
            s3.check(true).await?;
        }
        let default = self.default_store();
        let stores = self.db.read(crate::db::blobs::stores_in_use).await?;
        for store in stores.iter().filter(|s| *s != FS && **s != default) {
            self.remotes.get(store)?.check(false).await?;
        }
        Ok(())
    }

    /// For /healthz: the configured bucket answers (`fs` is checked with the data dir).
    pub async fn ping(&self) -> Result<(), AppError> {
        match &self.default {
            Some(s3) => s3.ping().await,
            None => Ok(()),
        }
    }

    /// The store new blobs go to, as rows record it.
    pub fn default_store(&self) -> String {
        self.default
            .as_ref()
            .map(|s| s.url.url())
            .unwrap_or_else(|| FS.to_string())
    }

    pub fn path(&self, blob_id: &str) -> PathBuf {
        self.blobs.join(blob_id)
    }

    pub fn tmp_dir(&self) -> &std::path::Path {
        &self.tmp
    }

    /// Where blob `id` is, in the store `store` names.
    pub fn source_in(&self, store: &str, id: &str) -> Result<Source, AppError> {
        if store == FS {
            Ok(Source::Fs(self.path(id)))
        } else {
            Ok(Source::S3(self.remotes.get(store)?, id.to_string()))
        }
    }

    /// Notices blobs that another process (`blobs migrate`) moved out of `fs`: the server
    /// calls it every 250 ms, well within the grace a migration waits before deleting sources.
    pub async fn refresh(&self) -> Result<(), AppError> {
        if self.default.is_none() {
            let any = self.db.read(crate::db::blobs::any_remote).await?;
            self.any_remote
                .store(any, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// Where blob `id` is now, by its row (read per request: a migration flips it any time),
    /// or, while every blob is on `fs`, `blobs/<id>` when it is there.
    pub async fn source(&self, id: &str) -> Result<Source, AppError> {
        if !self.any_remote.load(std::sync::atomic::Ordering::Relaxed) {
            let path = self.path(id);
            // One stat, no trip to the blocking pool: the hot path of every download on `fs`.
            if path.is_file() {
                return Ok(Source::Fs(path));
            }
        }
        let owned = id.to_string();
        let store = self
            .db
            .read(move |c| crate::db::blobs::blob_store(c, &owned))
            .await?
            .ok_or_else(|| AppError::not_found("This file"))?;
        self.source_in(&store, id)
    }

    /// Up to `max` bytes from the start of a blob of `size` bytes.
    pub async fn read_head(&self, id: &str, size: u64, max: usize) -> Result<Vec<u8>, AppError> {
        let want = size.min(max as u64);
        let mut stream = self.source(id).await?.stream(0, want).await?;
        let mut out = Vec::with_capacity(want as usize);
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
            if out.len() as u64 >= want {
                break;
            }
        }
        out.truncate(want as usize);
        Ok(out)
    }

    /// The blob (`size` bytes) as a file on this disk: itself on `fs`, else streamed into
    /// tmp/; None when it is on S3 and over `max` bytes (not worth fetching).
    pub async fn local_copy(
        &self,
        id: &str,
        size: u64,
        max: u64,
    ) -> Result<Option<LocalCopy>, AppError> {
        let s3 = match self.source(id).await? {
            Source::Fs(path) => return Ok(Some(LocalCopy { path, _temp: None })),
            Source::S3(_, _) if size > max => return Ok(None),
            Source::S3(s3, _) => s3,
        };
        let (file, temp) = self.temp_file("fetch-").await?;
        let mut out = tokio::io::BufWriter::with_capacity(CHUNK, file);
        let mut stream = s3.get_range(id, 0, size).await?;
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk?).await?;
        }
        out.flush().await?;
        Ok(Some(LocalCopy {
            path: temp.to_path_buf(),
            _temp: Some(temp),
        }))
    }

    async fn temp_file(
        &self,
        prefix: &'static str,
    ) -> Result<(tokio::fs::File, tempfile::TempPath), AppError> {
        let tmp = self.tmp.clone();
        let named = crate::db::blocking(move || {
            tempfile::Builder::new()
                .prefix(prefix)
                .suffix(".part")
                .tempfile_in(tmp)
        })
        .await??;
        let (std_file, path) = named.into_parts();
        Ok((tokio::fs::File::from_std(std_file), path))
    }

    /// A new upload: into `tmp/` under a random name, or, when new blobs go to a bucket,
    /// streamed there through a spool in `tmp/` that holds a few parts at most.
    pub async fn stage(&self, limit: u64) -> Result<Staging, AppError> {
        let (file, path) = self.temp_file("upload-").await?;
        let sink = match &self.default {
            None => Sink::Fs {
                path,
                file: tokio::io::BufWriter::with_capacity(CHUNK, file),
            },
            Some(s3) => Sink::S3(Box::new(S3Writer::new(
                s3.clone(),
                self.put_budget.clone(),
                file.into_std().await,
                path,
            )?)),
        };
        Ok(Staging {
            sink,
            sha: Sha256::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            limit,
        })
    }

    /// The budget (MiB) uploads to S3 take their parts from.
    pub fn put_budget(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.put_budget
    }

    /// The client of the store new blobs go to; None on `fs`.
    pub fn default_s3(&self) -> Option<&Arc<S3>> {
        self.default.as_ref()
    }

    /// Stores staged uploads under new ids in the default store, all or none. Objects already
    /// streamed into a bucket only get their rows' values; a staged file goes to `blobs/`, or up
    /// to the bucket in parts (multipart, aborted on failure). A store that is down is 503
    /// `UNAVAILABLE` and leaves nothing behind.
    pub async fn persist_all(&self, staged: Vec<Staged>) -> Result<Vec<StoredBlob>, AppError> {
        // Several files at once: each PUT costs a round trip to the store.
        let results: Vec<Result<StoredBlob, AppError>> = futures_util::stream::iter(staged)
            .map(|s| self.persist_one(s))
            .buffered(PUTS_AT_ONCE)
            .collect()
            .await;
        if results.iter().any(Result::is_err) {
            let mut first = None;
            let mut done = Vec::new();
            for r in results {
                match r {
                    Ok(b) => done.push(b.blob_ref()),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            self.remove(done).await;
            return Err(first.unwrap_or_else(|| AppError::internal("upload failed")));
        }
        results.into_iter().collect()
    }

    async fn persist_one(&self, s: Staged) -> Result<StoredBlob, AppError> {
        let Staged {
            body,
            size,
            sha256,
            crc32,
        } = s;
        let blob = |id: String, store: String| StoredBlob {
            id,
            store,
            size,
            sha256: sha256.clone(),
            crc32,
        };
        let (file, retryable) = match body {
            Body::Stored(object) => {
                let (store, id) = object.take();
                return Ok(blob(id, store));
            }
            Body::Local { file, retryable } => (file, retryable),
        };
        let id = Uuid::new_v4().simple().to_string();
        let Some(s3) = self.default.clone() else {
            let target = self.path(&id);
            let moved = crate::db::blocking(move || match file.persist(target) {
                Ok(()) => Ok(()),
                Err(e) => {
                    spare(e.path, retryable);
                    Err(AppError::internal(format!("persist blob: {}", e.error)))
                }
            })
            .await?;
            return moved.map(|()| blob(id, FS.to_string()));
        };
        // MiB this one holds in memory at most: the whole file, or its parts in flight.
        let mib = size
            .min(s3::MAX_HELD)
            .div_ceil(1 << 20)
            .clamp(1, PUT_BUDGET_MIB);
        let sent = match self.put_budget.acquire_many(mib as u32).await {
            Ok(_held) => s3.put_file(&id, &file, size).await,
            Err(_) => Err(AppError::internal("upload budget closed")),
        };
        match sent {
            // `file` drops here: the tmp/ file goes.
            Ok(()) => Ok(blob(id, s3.url.url())),
            Err(e) => {
                spare(file, retryable);
                Err(e)
            }
        }
    }

    /// Drops staged uploads that will not be stored, deleting the objects already streamed
    /// into a bucket before returning (their drop alone would delete them in the background).
    pub async fn discard(&self, staged: Vec<Staged>) {
        for s in staged {
            if let Body::Stored(object) = s.body {
                object.delete().await;
            }
        }
    }

    /// Where thumbnails of these blobs are kept: `thumbs/` beside `blobs/`.
    pub fn thumbs_dir(&self) -> PathBuf {
        self.blobs.with_file_name("thumbs")
    }

    /// Removes blobs from their stores (after the rows that named them are gone).
    pub async fn remove(&self, gone: Vec<BlobRef>) {
        if gone.is_empty() {
            return;
        }
        let mut local = Vec::new();
        for b in &gone {
            if b.store == FS {
                local.push(self.path(&b.id));
                continue;
            }
            let deleted = match self.remotes.get(&b.store) {
                Ok(s3) => s3.delete(&b.id).await,
                Err(e) => Err(e),
            };
            if let Err(e) = deleted {
                tracing::warn!(blob = %b.id, store = %b.store, error = %e, "could not remove blob");
            }
        }
        let ids: Vec<String> = gone.into_iter().map(|b| b.id).collect();
        let thumbs = self.thumbs_dir();
        let _ = crate::db::blocking(move || {
            for path in local {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(blob = %path.display(), error = %e, "could not remove blob");
                }
            }
            crate::thumbs::Thumbs::new(thumbs).remove_sync(&ids);
        })
        .await;
    }
}

#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub id: String,
    /// `fs` or `s3://bucket/prefix`: what the row records.
    pub store: String,
    pub size: u64,
    pub sha256: String,
    pub crc32: u32,
}

impl StoredBlob {
    pub fn blob_ref(&self) -> BlobRef {
        BlobRef {
            id: self.id.clone(),
            store: self.store.clone(),
        }
    }
}
