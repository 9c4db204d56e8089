//! tus uploads in progress on disk: `uploads/<uuid>.part` (a server-made name), written at the
//! upload's offset while SHA-256 and CRC-32 run over the bytes on a thread of their own
//! (`hashing.rs`), so completion never re-reads the file. Bytes past the recorded offset are
//! not the upload's until they are on disk (`durable.rs`); a chunk whose checksum fails, or
//! that runs past the upload's length, is cut off again. A start does not clear uploads/:
//! uploads survive restarts.

mod durable;
mod hashing;

pub use durable::Durable;
pub use hashing::{Checksum, Hashes, CHECKSUM_ALGORITHMS};

use crate::error::AppError;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hashing::{Hasher, Kept, Outcome};
use std::fs::File;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// Bytes of body pieces gathered before one write on the blocking pool. The pieces are the
/// body's own (no copy).
const BUF: usize = 1024 * 1024;

/// The directory of uploads in progress.
#[derive(Clone, Debug)]
pub struct PartialDir {
    dir: PathBuf,
}

impl PartialDir {
    pub fn new(dir: PathBuf) -> PartialDir {
        PartialDir { dir }
    }

    /// `uuid` is server-made (checked as a UUID by the caller): never a client's name.
    pub fn path(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.part"))
    }

    /// Puts an upload's bytes written so far on disk (fdatasync).
    pub async fn sync(&self, uuid: &str) -> Result<(), AppError> {
        let path = self.path(uuid);
        crate::db::blocking(move || Ok(File::open(path)?.sync_data()?)).await?
    }

    /// A new, empty upload file.
    pub async fn create(&self, uuid: &str) -> Result<(), AppError> {
        let path = self.path(uuid);
        crate::db::blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
        })
        .await??;
        Ok(())
    }

    /// Removes upload files (a missing one is fine).
    pub async fn remove(&self, uuids: Vec<String>) {
        if uuids.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = uuids.iter().map(|u| self.path(u)).collect();
        let _ = crate::db::blocking(move || {
            for path in paths {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        tracing::warn!(file = %path.display(), error = %e, "could not remove upload")
                    }
                    _ => {}
                }
            }
        })
        .await;
    }

    /// The uuids of every file here (for the start's orphan check).
    pub fn list_sync(&self) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some(uuid) = name.to_str().and_then(|n| n.strip_suffix(".part")) {
                out.push(uuid.to_string());
            }
        }
        Ok(out)
    }

    /// Opens an upload to take bytes at `offset`, the recorded offset. Bytes past it (a crash
    /// before they were recorded, or a chunk cut off) are dropped first. `kept` are the hashes
    /// kept in memory; when they do not stand at `offset` (after a restart) the file's first
    /// `offset` bytes are hashed again, once. None when the file is gone or shorter than the
    /// recorded offset. Without `hashing` (an upload into a bucket, hashed as its parts are
    /// sent, whose sent bytes are holes here) nothing is hashed.
    pub async fn open(
        &self,
        uuid: &str,
        offset: u64,
        resume: Option<Resume>,
        hashing: bool,
        durable: Arc<Durable>,
    ) -> Result<Option<Sink>, AppError> {
        // The last PATCH's file and hashes, where they stand at the offset: no file system
        // call, no wait (the upload's lock kept everyone else off the file meanwhile).
        if let Some(r) = resume.filter(|r| r.len == offset && (!hashing || r.kept.at() == offset)) {
            return Ok(Some(Sink::new(r.file, r.kept, hashing, offset, durable)));
        }
        let path = self.path(uuid);
        crate::db::blocking(move || {
            let file = match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let len = file.metadata()?.len();
            if len < offset {
                tracing::warn!(file = %path.display(), len, offset, "upload shorter than recorded");
                return Ok(None);
            }
            if len > offset {
                durable.cut(offset);
                file.set_len(offset)?;
            }
            let prev = match hashing {
                false => Kept::Known(Hashes::default()),
                true => Kept::Known(hashing::rehash(&file, offset)?),
            };
            Ok(Some(Sink::new(file, prev, hashing, offset, durable)))
        })
        .await?
    }
}

/// What a PATCH leaves for the next one of its upload, in memory: the open file and the
/// hashes. Gone after a restart: then the file is opened and hashed again.
pub struct Resume {
    file: File,
    /// The file's length.
    len: u64,
    kept: Kept,
}

impl Resume {
    /// The hashes (SHA-256 and CRC-32) of the whole upload, once they are computed.
    pub async fn settle(self) -> Result<Hashes, AppError> {
        self.kept.settle().await
    }
}

/// The lock of an upload's in-memory hashes, held by the PATCH writing to it. A `Sink` owns it,
/// so a write still running on the blocking pool after its request was dropped keeps the next
/// PATCH of that upload waiting until the file is no longer touched.
pub type Held = tokio::sync::OwnedMutexGuard<Option<Resume>>;

/// One PATCH's bytes going into an upload file at its offset.
pub struct Sink {
    held: Option<Held>,
    file: File,
    /// The upload's hashes before this chunk, until `receive` hands them to its hashing thread.
    prev: Kept,
    /// That thread, once the chunk ended; then its outcome, once waited for.
    job: Option<hashing::Job>,
    outcome: Option<Outcome>,
    /// Whether SHA-256 and CRC-32 run over the upload here (not when it goes to a bucket).
    hashing: bool,
    check: Option<Checksum>,
    checked: bool,
    start: u64,
    written: u64,
    durable: Arc<Durable>,
}

/// A PATCH whose bytes go on (to a bucket) while they arrive: where the file stands, and how
/// far the sending is.
pub struct Flow {
    pub progress: tokio::sync::watch::Sender<u64>,
    pub sent: tokio::sync::watch::Receiver<u64>,
    pub ahead: u64,
}

/// How a PATCH body ended.
#[derive(Debug)]
pub enum End {
    /// Every byte arrived.
    Whole,
    /// The connection broke or the body could not be read.
    Cut(String),
    /// A newer PATCH of the same upload came; this one stops so that one can go on.
    Superseded,
    /// The body ran past its allowance (the upload's length).
    TooLong,
}

impl Sink {
    fn new(file: File, prev: Kept, hashing: bool, start: u64, durable: Arc<Durable>) -> Sink {
        Sink {
            held: None,
            file,
            prev,
            job: None,
            outcome: None,
            hashing,
            check: None,
            checked: false,
            start,
            written: 0,
            durable,
        }
    }

    pub fn with_checksum(mut self, check: Option<Checksum>) -> Sink {
        self.checked = check.is_some();
        self.check = check;
        self
    }

    /// The sink keeps `held` until `commit` or `discard` hands it back.
    pub fn holding(mut self, held: Held) -> Sink {
        self.held = Some(held);
        self
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether this chunk has a checksum to meet.
    pub fn has_checksum(&self) -> bool {
        self.checked
    }

    /// The chunk's hashing outcome, once its thread is done (None when nothing was hashed).
    async fn settle(&mut self) -> Result<Option<Outcome>, AppError> {
        match self.job.take() {
            Some(job) => Ok(Some(hashing::wait(job).await?)),
            None => Ok(self.outcome.take()),
        }
    }

    /// Writes a batch of pieces at the upload's end (one `pwritev` for many pieces); the
    /// hashing thread runs over them meanwhile.
    fn write_batch(&mut self, batch: &[Bytes]) -> std::io::Result<()> {
        let mut pos = self.start + self.written;
        let mut slices: Vec<std::io::IoSlice<'_>> =
            batch.iter().map(|b| std::io::IoSlice::new(b)).collect();
        let mut left: &mut [std::io::IoSlice<'_>] = &mut slices;
        while !left.is_empty() {
            let n = rustix::io::pwritev(&self.file, &left[..left.len().min(IOV_MAX)], pos)?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            pos += n as u64;
            std::io::IoSlice::advance_slices(&mut left, n);
        }
        self.written += batch.iter().map(|b| b.len() as u64).sum::<u64>();
        Ok(())
    }

    /// Whether the chunk meets its checksum (true without one): waits for its hashing.
    pub async fn checksum_ok(&mut self) -> Result<bool, AppError> {
        if !self.checked {
            return Ok(true);
        }
        let outcome = self.settle().await?;
        let ok = outcome.as_ref().and_then(|o| o.check).unwrap_or(false);
        // Kept for `commit` or `discard`, which need its hashes.
        self.outcome = outcome;
        Ok(ok)
    }

    /// Keeps the chunk: with `sync`, puts the bytes on disk first (fdatasync). Returns the
    /// hashes of everything up to the new offset (still being computed unless the chunk's
    /// checksum was waited for: `Resume::settle` waits), and the lock.
    pub async fn commit(mut self, sync: bool) -> Result<(Resume, Option<Held>), AppError> {
        let kept = match (self.hashing, self.outcome.take(), self.job.take()) {
            (false, _, _) => Kept::Known(Hashes::default()),
            (true, Some(o), _) => Kept::Known(o.after),
            (true, None, Some(job)) => Kept::Running {
                at: self.start + self.written,
                job,
            },
            (true, None, None) => self.prev,
        };
        let mut file = self.file;
        if sync {
            file = crate::db::blocking(move || file.sync_data().map(|()| file)).await??;
            self.durable.synced_to(self.start + self.written);
        }
        let len = self.start + self.written;
        Ok((Resume { file, len, kept }, self.held))
    }

    /// Drops this chunk's bytes: the file ends at the offset it started from, or at `kept`
    /// when bytes up to there are no longer the chunk's to drop (already sent on to a bucket).
    /// The lock, handed back, holds the hashes before the chunk again (none when they were
    /// lost: the next PATCH hashes the file again).
    pub async fn discard(mut self, kept: u64) -> Result<Option<Held>, AppError> {
        let base = match self.settle().await {
            Ok(Some(o)) => Some(Kept::Known(o.base)),
            Ok(None) => Some(self.prev),
            Err(_) => None,
        };
        let (file, durable, mut held) = (self.file, self.durable, self.held);
        let start = self.start.max(kept);
        crate::db::blocking(move || {
            durable.cut(start);
            file.set_len(start)?;
            if let Some(h) = &mut held {
                **h = base.map(|kept| Resume {
                    file,
                    len: start,
                    kept,
                });
            }
            Ok(held)
        })
        .await?
    }

    /// Writes `body` at the offset, at most `allowance` bytes, until it ends, breaks, runs too
    /// long or `stop` fires. The body's pieces are gathered (not copied) into batches of `BUF`
    /// bytes, each written on the blocking pool while the next fills; the chunk's hashing
    /// thread (`hashing.rs`) takes the pieces as they come, and may still run when this returns.
    ///
    /// Every `EARLY_SYNC` bytes an fdatasync starts in the background (`Durable`), across
    /// PATCHes, so the bytes are on disk soon without any PATCH waiting for them. `flow`, when
    /// given, hears the offset up to which bytes are in the file each time a batch is written,
    /// and holds the body back while it is more than `ahead` bytes past what was sent on.
    pub async fn receive<S, E>(
        mut self,
        mut body: S,
        allowance: u64,
        stop: impl Future<Output = ()>,
        flow: Option<Flow>,
    ) -> Result<(Sink, End), AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tokio::pin!(stop);
        // Nothing to hash (an upload into a bucket, hashed as its parts are sent, without a
        // checksum): no thread.
        let mut hasher = (self.hashing || self.check.is_some()).then(|| {
            let prev = std::mem::replace(&mut self.prev, Kept::Known(Hashes::default()));
            Hasher::start(prev, self.hashing, self.check.take())
        });
        let mut sink = Some(self);
        let mut pending: Option<Writing> = None;
        let mut batch: Vec<Bytes> = Vec::new();
        let mut filled: usize = 0;
        let mut received: u64 = 0;
        let mut flow = flow;
        let end = 'recv: loop {
            let next = tokio::select! {
                biased;
                _ = &mut stop => break End::Superseded,
                next = body.next() => next,
            };
            let bytes = match next {
                None => break End::Whole,
                Some(Err(e)) => break End::Cut(e.to_string()),
                Some(Ok(b)) => b,
            };
            received += bytes.len() as u64;
            if received > allowance {
                break End::TooLong;
            }
            filled += bytes.len();
            if let Some(h) = &mut hasher {
                h.feed(bytes.clone()).await?;
            }
            batch.push(bytes);
            if filled >= BUF {
                if let Some(job) = pending.take() {
                    let s = joined(job.await)?;
                    let at = s.start + s.written;
                    s.durable.maybe_sync(&s.file, at)?;
                    sink = Some(s);
                    if let Some(f) = &mut flow {
                        f.progress.send_replace(at);
                        // Ahead of the sending by too much: wait for it (a sender that
                        // stopped, the store down, no longer holds the body back).
                        while at.saturating_sub(*f.sent.borrow()) > f.ahead {
                            tokio::select! {
                                biased;
                                _ = &mut stop => break 'recv End::Superseded,
                                r = f.sent.changed() => if r.is_err() { break },
                            }
                        }
                    }
                }
                let s = sink
                    .take()
                    .ok_or_else(|| AppError::internal("sink missing"))?;
                filled = 0;
                pending = Some(write(s, std::mem::take(&mut batch)));
            }
        };
        if let Some(job) = pending.take() {
            sink = Some(joined(job.await)?);
        }
        let mut s = sink.ok_or_else(|| AppError::internal("sink missing"))?;
        if !batch.is_empty() && !matches!(end, End::TooLong) {
            s = joined(write(s, batch).await)?;
        }
        s.durable.maybe_sync(&s.file, s.start + s.written)?;
        if let Some(h) = hasher {
            s.job = Some(h.close().await?);
        }
        Ok((s, end))
    }
}

/// At most this many pieces per `pwritev` (the kernel's IOV_MAX).
const IOV_MAX: usize = 1024;

/// Starts writing `batch` on the blocking pool.
fn write(mut s: Sink, batch: Vec<Bytes>) -> Writing {
    tokio::task::spawn_blocking(move || {
        s.write_batch(&batch)?;
        Ok(s)
    })
}

/// A batch being written on the blocking pool; gives the sink back.
type Writing = tokio::task::JoinHandle<std::io::Result<Sink>>;

fn joined<T>(r: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, AppError> {
    r.map_err(|e| AppError::internal(format!("blocking pool: {e}")))?
        .map_err(AppError::from)
}
