//! An upload streamed into the bucket as it arrives. Bytes go into a spool file under tmp/;
//! each time a part (`PART`) is complete it goes up as a part of a multipart upload while the
//! next one arrives, at most `PARTS_IN_FLIGHT` at once, and its bytes are freed on disk (a hole
//! punched). So an upload holds at most a few parts on disk, whatever its size, and memory only
//! for the parts being sent, from the process's upload budget: a slow client holds disk, never
//! that budget. An upload that fails or is dropped is aborted: nothing stays billed.

use super::s3::{PART, PARTS_IN_FLIGHT, S3};
use crate::error::AppError;
use bytes::Bytes;
use object_store::MultipartId;
use std::collections::VecDeque;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

type Sending = JoinHandle<Result<String, AppError>>;

/// Frees `len` bytes at `start` of `file` on disk, keeping its length (the bytes read back as
/// zeros). A file system without hole punching keeps them: only space is lost, never data.
pub fn punch(file: &std::fs::File, start: u64, len: u64) {
    use rustix::fs::FallocateFlags;
    let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    if let Err(e) = rustix::fs::fallocate(file, flags, start, len) {
        tracing::debug!(error = %e, "could not punch a hole in an upload spool");
    }
}

/// Reads `len` bytes at `start` of `file`, taking them from the upload budget until the
/// returned permit drops.
pub async fn read_part(
    file: Arc<std::fs::File>,
    start: u64,
    len: usize,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, tokio::sync::OwnedSemaphorePermit), AppError> {
    // A part larger than the whole budget (a huge upload's) takes all of it.
    let mib = len
        .div_ceil(1 << 20)
        .clamp(1, super::PUT_BUDGET_MIB as usize) as u32;
    let permit = budget
        .clone()
        .acquire_many_owned(mib)
        .await
        .map_err(|_| AppError::internal("upload budget closed"))?;
    let data = crate::db::blocking(move || {
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, start)?;
        Ok::<_, std::io::Error>(buf)
    })
    .await??;
    Ok((Bytes::from(data), permit))
}

pub struct S3Writer {
    s3: Arc<S3>,
    pub id: String,
    budget: Arc<Semaphore>,
    upload: Option<MultipartId>,
    out: tokio::io::BufWriter<tokio::fs::File>,
    /// The spool, for reading parts back and punching them out.
    spool: Arc<std::fs::File>,
    /// The spool's name: it goes with the writer, or with the caller when it holds a whole
    /// small upload.
    temp: Option<tempfile::TempPath>,
    written: u64,
    /// Where the part being filled starts.
    part_start: u64,
    flying: VecDeque<Sending>,
    etags: Vec<String>,
    done: bool,
}

impl S3Writer {
    /// A writer spooling into `file` (a new file under tmp/, deleted with the writer).
    pub fn new(
        s3: Arc<S3>,
        budget: Arc<Semaphore>,
        file: std::fs::File,
        temp: tempfile::TempPath,
    ) -> Result<S3Writer, AppError> {
        let spool = Arc::new(file.try_clone()?);
        Ok(S3Writer {
            s3,
            id: uuid::Uuid::new_v4().simple().to_string(),
            budget,
            upload: None,
            out: tokio::io::BufWriter::with_capacity(super::CHUNK, tokio::fs::File::from_std(file)),
            spool,
            temp: Some(temp),
            written: 0,
            part_start: 0,
            flying: VecDeque::new(),
            etags: Vec::new(),
            done: false,
        })
    }

    pub fn store(&self) -> &Arc<S3> {
        &self.s3
    }

    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<(), AppError> {
        while !bytes.is_empty() {
            let room = (self.part_start + PART as u64 - self.written) as usize;
            let n = room.min(bytes.len());
            self.out.write_all(&bytes[..n]).await?;
            self.written += n as u64;
            bytes = &bytes[n..];
            if self.written == self.part_start + PART as u64 {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Sends the part from `part_start` to what was written, after waiting for the oldest
    /// part when enough are in flight.
    async fn send_part(&mut self) -> Result<(), AppError> {
        self.out.flush().await?;
        let upload = match &self.upload {
            Some(u) => u.clone(),
            None => {
                let u = self.s3.begin(&self.id).await?;
                self.upload = Some(u.clone());
                u
            }
        };
        while self.flying.len() >= PARTS_IN_FLIGHT {
            self.land_one().await?;
        }
        let (start, len) = (self.part_start, (self.written - self.part_start) as usize);
        let idx = self.etags.len() + self.flying.len();
        let (s3, id, spool, budget) = (
            self.s3.clone(),
            self.id.clone(),
            self.spool.clone(),
            self.budget.clone(),
        );
        self.flying.push_back(tokio::spawn(async move {
            let (data, _permit) = read_part(spool.clone(), start, len, &budget).await?;
            let etag = s3.part(&id, &upload, idx, data).await?;
            let _ = crate::db::blocking(move || punch(&spool, start, len as u64)).await;
            Ok(etag)
        }));
        self.part_start = self.written;
        Ok(())
    }

    async fn land_one(&mut self) -> Result<(), AppError> {
        if let Some(job) = self.flying.pop_front() {
            let etag = job
                .await
                .map_err(|e| AppError::internal(format!("part upload: {e}")))??;
            self.etags.push(etag);
        }
        Ok(())
    }

    /// Stores what was written as blob `id`: the last part and the multipart completion.
    /// An upload that never filled a part is not sent here: its spool, which holds all of it,
    /// is handed back (`Some`) to go up with the request's other files, several at once.
    pub async fn finish(mut self) -> Result<Option<tempfile::TempPath>, AppError> {
        self.out.flush().await?;
        if self.upload.is_none() {
            self.done = true;
            return Ok(self.temp.take());
        }
        if self.written > self.part_start {
            self.send_part().await?;
        }
        while !self.flying.is_empty() {
            self.land_one().await?;
        }
        let upload = self.upload.clone().unwrap_or_default();
        let etags = std::mem::take(&mut self.etags);
        self.s3.complete(&self.id, &upload, etags).await?;
        self.done = true;
        Ok(None)
    }
}

impl Drop for S3Writer {
    /// Unfinished: the parts in flight stop and the multipart upload is aborted, in the
    /// background (a drop cannot wait).
    fn drop(&mut self) {
        for job in self.flying.drain(..) {
            job.abort();
        }
        if self.done {
            return;
        }
        let (Some(upload), Ok(rt)) = (self.upload.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let (s3, id) = (self.s3.clone(), self.id.clone());
        rt.spawn(async move { s3.abort_upload(&id, upload).await });
    }
}
