//! The hashes of a tus upload: SHA-256 and CRC-32 over its bytes, computed on a thread of their
//! own while the bytes arrive, and a chunk's `Upload-Checksum`. A PATCH that is neither the
//! last nor checksummed is answered once its bytes are written; its hashing thread goes on,
//! and the next PATCH's thread starts from where it ends. So a client sending chunks never
//! waits for SHA-256, the slowest step, except at the end.

use crate::error::AppError;
use bytes::Bytes;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Pieces handed to the hashing thread at once (fewer wake-ups than one piece at a time, and a
/// PATCH's last bytes still hashed soon after they came).
const HAND: usize = 256 * 1024;

/// Hand-overs waiting for the hashing thread: with `HAND`, at most 2 MiB of body per PATCH.
const QUEUE: usize = 8;

/// SHA-256 and CRC-32 of an upload's first `at` bytes.
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

/// An upload's hashes as kept between its PATCHes: known, or still being computed by the last
/// PATCH's hashing thread, up to `at`.
pub enum Kept {
    Known(Hashes),
    Running { at: u64, job: Job },
}

/// What a PATCH's hashing thread gives: the hashes before its chunk (kept again when the chunk
/// is dropped) and after, and whether the chunk met its checksum (None without one).
pub struct Outcome {
    pub base: Hashes,
    pub after: Hashes,
    pub check: Option<bool>,
}

pub type Job = tokio::sync::oneshot::Receiver<Result<Outcome, String>>;

impl Kept {
    /// The offset the hashes stand (or will stand) at.
    pub fn at(&self) -> u64 {
        match self {
            Kept::Known(h) => h.at,
            Kept::Running { at, .. } => *at,
        }
    }

    /// The hashes, once the thread computing them is done.
    pub async fn settle(self) -> Result<Hashes, AppError> {
        match self {
            Kept::Known(h) => Ok(h),
            Kept::Running { job, .. } => Ok(wait(job).await?.after),
        }
    }

    /// `settle` on a hashing thread.
    fn settle_blocking(self) -> Result<Hashes, AppError> {
        match self {
            Kept::Known(h) => Ok(h),
            Kept::Running { job, .. } => Ok(outcome(job.blocking_recv())?.after),
        }
    }
}

fn outcome<E>(r: Result<Result<Outcome, String>, E>) -> Result<Outcome, AppError> {
    r.map_err(|_| AppError::internal("a hashing thread stopped"))?
        .map_err(AppError::internal)
}

/// One PATCH's hashing thread: it first waits for the hashes the PATCH starts from (the last
/// PATCH's thread may still run), then runs over the pieces handed to it, in order.
pub struct Hasher {
    queue: tokio::sync::mpsc::Sender<Vec<Bytes>>,
    job: Job,
    held: Vec<Bytes>,
    held_len: usize,
}

impl Hasher {
    /// Starts hashing on from `prev` (SHA-256 and CRC-32 when `whole`) and the chunk's `check`.
    pub fn start(prev: Kept, whole: bool, check: Option<Checksum>) -> Hasher {
        let (queue, mut pieces) = tokio::sync::mpsc::channel::<Vec<Bytes>>(QUEUE);
        let (done, job) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let run = || -> Result<Outcome, AppError> {
                let base = if whole {
                    prev.settle_blocking()?
                } else {
                    Hashes::default()
                };
                let (mut after, mut check) = (base.clone(), check);
                while let Some(batch) = pieces.blocking_recv() {
                    for piece in &batch {
                        if whole {
                            after.update(piece);
                        }
                        if let Some(c) = &mut check {
                            c.update(piece);
                        }
                    }
                }
                let check = check.map(Checksum::matches);
                Ok(Outcome { base, after, check })
            };
            // The PATCH may have gone (its upload terminated): then no one listens.
            let _ = done.send(run().map_err(|e| e.to_string()));
        });
        Hasher {
            queue,
            job,
            held: Vec::new(),
            held_len: 0,
        }
    }

    /// Takes the next piece of the chunk; waits while the thread is `QUEUE` hand-overs behind.
    pub async fn feed(&mut self, piece: Bytes) -> Result<(), AppError> {
        self.held_len += piece.len();
        self.held.push(piece);
        if self.held_len >= HAND {
            self.hand().await?;
        }
        Ok(())
    }

    async fn hand(&mut self) -> Result<(), AppError> {
        self.held_len = 0;
        self.queue
            .send(std::mem::take(&mut self.held))
            .await
            .map_err(|_| AppError::internal("a hashing thread stopped"))
    }

    /// Ends the chunk: the thread finishes on its own; the job gives its outcome.
    pub async fn close(mut self) -> Result<Job, AppError> {
        if !self.held.is_empty() {
            self.hand().await?;
        }
        Ok(self.job)
    }
}

/// Waits for a closed chunk's outcome.
pub async fn wait(job: Job) -> Result<Outcome, AppError> {
    outcome(job.await)
}

/// Hashes the first `len` bytes of `file`: the cost of a PATCH after a restart.
pub fn rehash(file: &File, len: u64) -> Result<Hashes, AppError> {
    const BUF: usize = 1024 * 1024;
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
