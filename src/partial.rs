//! tus uploads in progress on disk: `uploads/<uuid>.part` (a server-made name), written at the
//! upload's offset while SHA-256 and CRC-32 run over the bytes, so completion never re-reads the
//! file. Bytes past the recorded offset are not the upload's until `commit` has fsynced them;
//! a chunk whose checksum fails, or that runs past the upload's length, is cut off again.
//! A start does not clear uploads/: uploads survive restarts.

use crate::error::AppError;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// Bytes gathered before one write (and hash) on the blocking pool; two are in flight at most
/// per upload (one being written while the next fills), which keeps memory flat.
const BUF: usize = 1024 * 1024;

/// How often writeback starts in the background: every this many bytes of an upload, across
/// PATCHes, so the fdatasync that records an offset finds little left to write.
const EARLY_SYNC: u64 = 32 * 1024 * 1024;

/// SHA-256 and CRC-32 of an upload's first `at` bytes, kept between PATCHes in memory.
#[derive(Clone)]
pub struct Hashes {
    sha: Sha256,
    crc: crc32fast::Hasher,
    pub at: u64,
}

impl Default for Hashes {
    fn default() -> Hashes {
        Hashes {
            sha: Sha256::new(),
            crc: crc32fast::Hasher::new(),
            at: 0,
        }
    }
}

impl Hashes {
    fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.crc.update(bytes);
        self.at += bytes.len() as u64;
    }

    /// (SHA-256 hex, CRC-32).
    pub fn finish(self) -> (String, u32) {
        (hex::encode(self.sha.finalize()), self.crc.finalize())
    }
}

/// A chunk's `Upload-Checksum`: the algorithm running over the chunk, and the digest it must give.
pub enum Checksum {
    Sha1(Sha1, Vec<u8>),
    Sha256(Sha256, Vec<u8>),
}

/// What `Tus-Checksum-Algorithm` announces.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";

impl Checksum {
    /// `Upload-Checksum: <algorithm> <base64 digest>`; anything else is a 400 naming the header.
    pub fn parse(raw: &str) -> Result<Checksum, AppError> {
        use base64::Engine;
        let field = "Upload-Checksum";
        let (algo, digest) = raw.trim().split_once(' ').ok_or_else(|| {
            AppError::invalid(
                field,
                "send `<algorithm> <base64 digest>`, e.g. `sha1 Kq5s...`",
            )
        })?;
        let digest = base64::engine::general_purpose::STANDARD
            .decode(digest.trim())
            .map_err(|e| AppError::invalid(field, format!("the digest is not base64: {e}")))?;
        let (check, want) = match algo.to_ascii_lowercase().as_str() {
            "sha1" => (Checksum::Sha1(Sha1::new(), digest), 20),
            "sha256" => (Checksum::Sha256(Sha256::new(), digest), 32),
            other => {
                return Err(AppError::invalid(
                    field,
                    format!("'{other}' is not supported: use one of {CHECKSUM_ALGORITHMS}"),
                ))
            }
        };
        let len = match &check {
            Checksum::Sha1(_, d) | Checksum::Sha256(_, d) => d.len(),
        };
        if len != want {
            return Err(AppError::invalid(
                field,
                format!("a {algo} digest has {want} bytes, this one {len}"),
            ));
        }
        Ok(check)
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Sha1(h, _) => h.update(bytes),
            Checksum::Sha256(h, _) => h.update(bytes),
        }
    }

    fn matches(self) -> bool {
        match self {
            Checksum::Sha1(h, want) => h.finalize().as_slice() == want.as_slice(),
            Checksum::Sha256(h, want) => h.finalize().as_slice() == want.as_slice(),
        }
    }
}

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
    /// before they were recorded, or a chunk cut off) are dropped first. `hashes` are the ones
    /// kept in memory; when they do not stand at `offset` (after a restart) the file's first
    /// `offset` bytes are hashed again, once. None when the file is gone or shorter than the
    /// recorded offset. Without `hashing` (an upload into a bucket, hashed as its parts are
    /// sent, whose sent bytes are holes here) nothing is hashed.
    pub async fn open(
        &self,
        uuid: &str,
        offset: u64,
        hashes: Option<Hashes>,
        hashing: bool,
    ) -> Result<Option<Sink>, AppError> {
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
                file.set_len(offset)?;
            }
            let hashes = match hashes.filter(|h| h.at == offset) {
                Some(h) => h,
                None if !hashing => Hashes::default(),
                None => rehash(&file, offset)?,
            };
            Ok(Some(Sink {
                held: None,
                file,
                hashes,
                hashing,
                check: None,
                start: offset,
                written: 0,
            }))
        })
        .await?
    }
}

/// Hashes the first `len` bytes of `file`: the cost of a PATCH after a restart.
fn rehash(file: &File, len: u64) -> Result<Hashes, AppError> {
    let mut hashes = Hashes::default();
    let mut buf = vec![0u8; BUF];
    while hashes.at < len {
        let want = (len - hashes.at).min(BUF as u64) as usize;
        let n = file.read_at(&mut buf[..want], hashes.at)?;
        if n == 0 {
            return Err(AppError::internal("upload file shorter than its offset"));
        }
        hashes.update(&buf[..n]);
    }
    Ok(hashes)
}

/// The lock of an upload's in-memory hashes, held by the PATCH writing to it. A `Sink` owns it,
/// so a write still running on the blocking pool after its request was dropped keeps the next
/// PATCH of that upload waiting until the file is no longer touched.
pub type Held = tokio::sync::OwnedMutexGuard<Option<Hashes>>;

/// One PATCH's bytes going into an upload file at its offset.
pub struct Sink {
    held: Option<Held>,
    file: File,
    /// Over the upload's bytes up to `start + written` (when `hashing`).
    hashes: Hashes,
    hashing: bool,
    check: Option<Checksum>,
    start: u64,
    written: u64,
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
    pub fn with_checksum(mut self, check: Option<Checksum>) -> Sink {
        self.check = check;
        self
    }

    /// The sink keeps `held` until `commit` or `discard` hands it back.
    pub fn holding(mut self, held: Held) -> Sink {
        self.held = Some(held);
        self
    }

    pub fn start(&self) -> u64 {
        self.start
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// The hashes before this chunk: kept again when the chunk is discarded.
    pub fn hashes_at_start(&self) -> Hashes {
        self.hashes.clone()
    }

    /// Whether this chunk has a checksum to meet.
    pub fn has_checksum(&self) -> bool {
        self.check.is_some()
    }

    /// Writes and hashes `bytes` at once, on two threads: SHA-256 (~0.5 ms a MiB here) is the
    /// slower half, and the write into the page cache hides behind it.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let pos = self.start + self.written;
        if !self.hashing && self.check.is_none() {
            // Nothing to hash (an upload into a bucket is hashed as its parts go): no thread.
            self.file.write_all_at(bytes, pos)?;
            self.written += bytes.len() as u64;
            return Ok(());
        }
        let (file, hashes, check) = (&self.file, &mut self.hashes, &mut self.check);
        let whole = self.hashing;
        std::thread::scope(|scope| {
            let hashing = scope.spawn(move || {
                if whole {
                    hashes.update(bytes);
                }
                if let Some(c) = check {
                    c.update(bytes);
                }
            });
            let written = file.write_all_at(bytes, pos);
            hashing
                .join()
                .map_err(|_| std::io::Error::other("the hashing thread failed"))?;
            written
        })?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Whether the chunk meets its checksum (true without one).
    pub fn checksum_ok(&mut self) -> bool {
        self.check.take().is_none_or(Checksum::matches)
    }

    /// Keeps the chunk: with `sync`, puts the bytes on disk first (fdatasync). Returns the
    /// hashes of everything up to the new offset, and the lock.
    pub async fn commit(self, sync: bool) -> Result<(Hashes, Option<Held>), AppError> {
        if !sync {
            return Ok((self.hashes, self.held));
        }
        crate::db::blocking(move || {
            self.file.sync_data()?;
            Ok((self.hashes, self.held))
        })
        .await?
    }

    /// Drops this chunk's bytes: the file ends at the offset it started from, or at `kept`
    /// when bytes up to there are no longer the chunk's to drop (already sent on to a bucket).
    /// Returns the lock.
    pub async fn discard(self, kept: u64) -> Result<Option<Held>, AppError> {
        let start = self.start.max(kept);
        crate::db::blocking(move || {
            self.file.set_len(start)?;
            Ok(self.held)
        })
        .await?
    }

    /// Writes `body` at the offset, at most `allowance` bytes, until it ends, breaks, runs too
    /// long or `stop` fires. Bytes arrive in small pieces and go to disk (and the hashers) a
    /// `BUF` at a time on the blocking pool, the next buffer filling meanwhile.
    ///
    /// `early` is the offset at which writeback last started (in an earlier PATCH, perhaps);
    /// every `EARLY_SYNC` bytes past it an fdatasync starts in the background and is left to
    /// run (nothing waits for it: the offset is recorded only after `commit` syncs). Returns
    /// the new `early` with the sink. `flow`, when given, hears the offset up to which bytes
    /// are in the file each time a buffer is written, and holds the body back while it is more
    /// than `ahead` bytes past what was sent on.
    pub async fn receive<S, E>(
        self,
        mut body: S,
        allowance: u64,
        stop: impl Future<Output = ()>,
        early: u64,
        flow: Option<Flow>,
    ) -> Result<(Sink, End, u64), AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tokio::pin!(stop);
        let syncer = self.file.try_clone()?;
        let mut syncing: Option<tokio::task::JoinHandle<std::io::Result<()>>> = None;
        let start = self.start;
        let mut handed: u64 = 0;
        let mut synced_at = early.min(start);
        let mut sink = Some(self);
        let mut pending: Option<Writing> = None;
        let mut buf: Vec<u8> = Vec::with_capacity(BUF);
        let mut spare: Option<Vec<u8>> = None;
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
            buf.extend_from_slice(&bytes);
            if buf.len() >= BUF {
                if let Some(job) = pending.take() {
                    let (s, old) = joined(job.await)?;
                    let at = s.start + s.written;
                    sink = Some(s);
                    spare = Some(old);
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
                let mut s = sink
                    .take()
                    .ok_or_else(|| AppError::internal("sink missing"))?;
                let mut next_buf = spare.take().unwrap_or_else(|| Vec::with_capacity(BUF));
                next_buf.clear();
                let full = std::mem::replace(&mut buf, next_buf);
                handed += full.len() as u64;
                pending = Some(tokio::task::spawn_blocking(move || {
                    s.write(&full)?;
                    Ok((s, full))
                }));
                if start + handed - synced_at >= EARLY_SYNC
                    && syncing.as_ref().is_none_or(|j| j.is_finished())
                {
                    synced_at = start + handed;
                    let f = syncer.try_clone()?;
                    syncing = Some(tokio::task::spawn_blocking(move || f.sync_data()));
                }
            }
        };
        // A writeback still running is left to finish on its own (its result only hints).
        drop(syncing);
        if let Some(job) = pending.take() {
            let (s, _) = joined(job.await)?;
            sink = Some(s);
        }
        let mut s = sink.ok_or_else(|| AppError::internal("sink missing"))?;
        if !buf.is_empty() && !matches!(end, End::TooLong) {
            s = crate::db::blocking(move || {
                s.write(&buf)?;
                Ok::<_, std::io::Error>(s)
            })
            .await??;
        }
        Ok((s, end, synced_at))
    }
}

/// A buffer being written on the blocking pool; gives the sink and the buffer back.
type Writing = tokio::task::JoinHandle<std::io::Result<(Sink, Vec<u8>)>>;

fn joined<T>(r: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, AppError> {
    r.map_err(|e| AppError::internal(format!("blocking pool: {e}")))?
        .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse() {
        // sha1("abc") and sha256("abc"), base64.
        let mut c = Checksum::parse("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        c.update(b"abc");
        assert!(c.matches());
        let mut c = Checksum::parse("sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=").unwrap();
        c.update(b"ab");
        assert!(!c.matches());
        assert!(Checksum::parse("md5 AAAA").is_err());
        assert!(Checksum::parse("sha1 !!!").is_err());
        assert!(Checksum::parse("sha1").is_err());
        assert!(Checksum::parse("sha256 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").is_err());
    }
}
