//! File contents. Uploads stream into `tmp/` while SHA-256, CRC-32 and size are computed,
//! then go to the blob store under a server-made id: no client name ever becomes a path or a
//! key. The store is `fs` (`blobs/<id>` under the data dir, the default) or an S3-compatible
//! bucket (`s3.rs`); each blob row records its store, and reads use the blob's own store, so a
//! migration between them can run while the server serves. Downloads stream with Range,
//! If-Range, ETag and Last-Modified (`serve.rs`); no file is ever held in memory.

pub mod fs;
pub mod migrate;
mod reader;
pub mod s3;
mod serve;

pub use fs::PieceWriter;
pub use reader::{BlobReader, RemoteRead};
pub use serve::{at_end, byte_range, content_disposition, is_risky_type, on_sent, serve, Download};

use crate::db::Db;
use crate::error::AppError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use s3::{S3Settings, S3Url, S3};
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

/// A finished upload in `tmp/`, deleted on drop unless persisted.
pub struct Staged {
    file: tempfile::TempPath,
    pub size: u64,
    pub sha256: String,
    pub crc32: u32,
    /// Kept (not deleted) when storing it fails: a chunked upload's file, whose completion
    /// the client may retry once the store is back.
    retryable: bool,
}

impl Staged {
    /// Drops it after a failed store: deleted, unless its upload may be completed again.
    fn spare(self) {
        if self.retryable {
            let _ = self.file.keep();
        }
    }
}

impl Staged {
    /// A finished file written elsewhere on this file system (a tus upload under uploads/),
    /// with the hashes computed while it was written. Kept when storing it fails: the upload's
    /// last PATCH can be sent again once the store is back.
    pub fn adopt(path: PathBuf, size: u64, sha256: String, crc32: u32) -> Result<Staged, AppError> {
        Ok(Staged {
            file: tempfile::TempPath::try_from_path(path)?,
            size,
            sha256,
            crc32,
            retryable: true,
        })
    }
}

/// Writes one upload into `tmp/`, hashing as it goes, refusing bytes past `limit`.
pub struct Staging {
    path: tempfile::TempPath,
    file: tokio::io::BufWriter<tokio::fs::File>,
    sha: Sha256,
    crc: crc32fast::Hasher,
    size: u64,
    limit: u64,
}

impl Staging {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(AppError::TooLarge { limit: self.limit });
        }
        self.sha.update(bytes);
        self.crc.update(bytes);
        self.file.write_all(bytes).await?;
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Staged, AppError> {
        self.file.flush().await?;
        self.file.get_mut().sync_data().await?;
        Ok(Staged {
            file: self.path,
            size: self.size,
            sha256: hex::encode(self.sha.finalize()),
            crc32: self.crc.finalize(),
            retryable: false,
        })
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

    /// A new upload in `tmp/` under a random name.
    pub async fn stage(&self, limit: u64) -> Result<Staging, AppError> {
        let (file, path) = self.temp_file("upload-").await?;
        Ok(Staging {
            path,
            file: tokio::io::BufWriter::with_capacity(CHUNK, file),
            sha: Sha256::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            limit,
        })
    }

    /// Stores staged uploads under new ids in the default store, all or none. To S3 the staged
    /// file streams up in parts (multipart, aborted on failure); a store that is down is 503
    /// `UNAVAILABLE` and leaves nothing behind.
    pub async fn persist_all(&self, staged: Vec<Staged>) -> Result<Vec<StoredBlob>, AppError> {
        let Some(s3) = self.default.clone() else {
            return self.persist_fs(staged).await;
        };
        let put = |s: Staged| {
            let (s3, budget) = (&s3, &self.put_budget);
            async move {
                // MiB this one holds in memory at most: the whole file, or its parts in flight.
                let mib = s
                    .size
                    .min(s3::MAX_HELD)
                    .div_ceil(1 << 20)
                    .clamp(1, PUT_BUDGET_MIB);
                let held = budget.acquire_many(mib as u32).await;
                let id = Uuid::new_v4().simple().to_string();
                let sent = match held {
                    Ok(_held) => s3.put_file(&id, &s.file, s.size).await,
                    Err(_) => Err(AppError::internal("upload budget closed")),
                };
                match sent {
                    // `s` drops here: its tmp/ file goes.
                    Ok(()) => Ok(StoredBlob {
                        id,
                        store: s3.url.url(),
                        size: s.size,
                        sha256: s.sha256,
                        crc32: s.crc32,
                    }),
                    Err(e) => {
                        s.spare();
                        Err(e)
                    }
                }
            }
        };
        // Several files at once: each PUT costs a round trip to the store.
        let results: Vec<Result<StoredBlob, AppError>> = futures_util::stream::iter(staged)
            .map(put)
            .buffered(PUTS_AT_ONCE)
            .collect()
            .await;
        if results.iter().any(Result::is_err) {
            let mut first = None;
            for r in results {
                match r {
                    Ok(b) => {
                        let _ = s3.delete(&b.id).await;
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            return Err(first.unwrap_or_else(|| AppError::internal("upload failed")));
        }
        results.into_iter().collect()
    }

    async fn persist_fs(&self, staged: Vec<Staged>) -> Result<Vec<StoredBlob>, AppError> {
        let store = self.clone();
        crate::db::blocking(move || {
            let mut done: Vec<StoredBlob> = Vec::new();
            let mut staged = staged.into_iter();
            while let Some(s) = staged.next() {
                let id = Uuid::new_v4().simple().to_string();
                let Staged {
                    file,
                    size,
                    sha256,
                    crc32,
                    retryable,
                } = s;
                if let Err(e) = file.persist(store.path(&id)) {
                    for b in &done {
                        let _ = std::fs::remove_file(store.path(&b.id));
                    }
                    let cause = e.to_string();
                    Staged {
                        file: e.path,
                        size,
                        sha256,
                        crc32,
                        retryable,
                    }
                    .spare();
                    staged.for_each(Staged::spare);
                    return Err(AppError::internal(format!("persist blob: {cause}")));
                }
                done.push(StoredBlob {
                    id,
                    store: FS.to_string(),
                    size,
                    sha256,
                    crc32,
                });
            }
            Ok(done)
        })
        .await?
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
