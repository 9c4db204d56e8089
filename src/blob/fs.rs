//! Blobs on disk: reads straight into pooled buffers, and chunked uploads written piece by
//! piece into one file under tmp/.

use super::{BlobStore, Staged, CHUNK};
use crate::error::AppError;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

/// Idle `CHUNK` buffers kept for the next read. Without reuse, every chunk was a fresh 1 MiB
/// allocation, and glibc kept the freed ones in per-thread arenas: 8 parallel downloads left
/// the process 30 MiB bigger for good. Now memory is what is in flight plus at most this many.
const POOL_MAX: usize = 8;
static POOL: parking_lot::Mutex<Vec<Vec<u8>>> = parking_lot::Mutex::new(Vec::new());

/// A read buffer that goes back to the pool when the connection is done with its bytes.
struct Pooled {
    buf: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if self.buf.len() == CHUNK {
            let mut pool = POOL.lock();
            if pool.len() < POOL_MAX {
                pool.push(std::mem::take(&mut self.buf));
            }
        }
    }
}

/// Reads up to `want` bytes at `pos` into a buffer no larger than needed (a 4 KiB file never
/// holds 1 MiB); full-size buffers come from the pool.
fn read_chunk(file: &std::fs::File, pos: u64, want: usize) -> std::io::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buf = if want == CHUNK {
        POOL.lock().pop().unwrap_or_else(|| vec![0; CHUNK])
    } else {
        vec![0; want]
    };
    let len = file.read_at(&mut buf[..want], pos)?;
    Ok(Bytes::from_owner(Pooled { buf, len }))
}

/// `len` bytes of `file` from `start`, read on the blocking pool in `CHUNK`s straight into the
/// buffers the connection sends (one copy, no seek). A file shorter than promised is an error,
/// which ends the response short of its Content-Length.
pub(crate) fn file_stream(
    file: std::fs::File,
    start: u64,
    len: u64,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    let file = std::sync::Arc::new(file);
    futures_util::stream::try_unfold((file, start, len), |(file, pos, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let want = left.min(CHUNK as u64) as usize;
        let f = file.clone();
        let bytes = tokio::task::spawn_blocking(move || read_chunk(&f, pos, want))
            .await
            .map_err(std::io::Error::other)??;
        if bytes.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than its recorded size",
            ));
        }
        let n = bytes.len() as u64;
        Ok(Some((bytes, (file, pos + n, left - n))))
    })
}

// ---------------------------------------------------------------------------------------------
// Chunked uploads: parts arrive apart, in any order, and are written at their offsets into one
// file under tmp/ with a server-made name. Completion hashes that file by streaming it.

/// Writes one part's bytes at its offset while hashing them; never past the part's length.
pub struct PieceWriter {
    file: tokio::io::BufWriter<tokio::fs::File>,
    sha: Sha256,
    written: u64,
    len: u64,
}

impl PieceWriter {
    /// Writes `bytes`; false (and nothing written) when they would run past the part's end.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<bool, AppError> {
        if self.written + bytes.len() as u64 > self.len {
            return Ok(false);
        }
        self.sha.update(bytes);
        self.file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(true)
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Puts the bytes on disk; returns their SHA-256 (hex).
    pub async fn finish(mut self) -> Result<String, AppError> {
        self.file.flush().await?;
        self.file.get_mut().sync_data().await?;
        Ok(hex::encode(self.sha.finalize()))
    }
}

impl BlobStore {
    /// A new file of `len` bytes (sparse) under tmp/ for a chunked upload; returns its name.
    pub async fn create_piecewise(&self, len: u64) -> Result<String, AppError> {
        let name = format!("chunked-{}.part", Uuid::new_v4().simple());
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.tmp.join(&name))
            .await?;
        file.set_len(len).await?;
        Ok(name)
    }

    /// Opens the chunked upload `name` to write `len` bytes at `offset`; None when the file is
    /// gone (a start clears tmp/).
    pub async fn open_piece(
        &self,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<PieceWriter>, AppError> {
        let mut file = match tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.tmp.join(name))
            .await
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        Ok(Some(PieceWriter {
            file: tokio::io::BufWriter::with_capacity(CHUNK, file),
            sha: Sha256::new(),
            written: 0,
            len,
        }))
    }

    /// Hashes the chunked upload `name` (SHA-256, CRC-32) by streaming it, and hands it over as
    /// a staged upload for `persist_all`; None when the file is gone. When new blobs go to a
    /// bucket, the one read that hashes it also streams it there (parts sent as they fill),
    /// and the file stays for the caller to remove once the blob is recorded.
    pub async fn stage_piecewise(&self, name: &str) -> Result<Option<Staged>, AppError> {
        let path = self.tmp.join(name);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if self.default_s3().is_some() {
            let mut staging = self.stage(u64::MAX).await?;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok(Some(staging.finish().await?));
                }
                staging.write(&buf[..n]).await?;
            }
        }
        let (mut sha, mut crc, mut size) = (Sha256::new(), crc32fast::Hasher::new(), 0u64);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            crc.update(&buf[..n]);
            size += n as u64;
        }
        // Adopted: the upload stays open, so its completion may be tried again.
        Ok(Some(Staged::adopt(
            path,
            size,
            hex::encode(sha.finalize()),
            crc.finalize(),
        )?))
    }

    /// Removes chunked uploads from tmp/ (a missing one is fine).
    pub async fn remove_piecewise(&self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        let tmp = self.tmp.clone();
        let _ = crate::db::blocking(move || {
            for name in names {
                match std::fs::remove_file(tmp.join(&name)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        tracing::warn!(file = %name, error = %e, "could not remove upload")
                    }
                    _ => {}
                }
            }
        })
        .await;
    }
}
