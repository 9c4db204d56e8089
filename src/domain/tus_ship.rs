//! tus uploads into a bucket: the bytes a PATCH kept go up as parts of a multipart upload
//! while the next chunk arrives, and are then freed on disk (a hole punched in
//! `uploads/<uuid>.part`, whose length stays the offset). Each part is hashed as it is read for
//! sending, and the SHA-256 state and CRC-32 after it are recorded with its ETag, so neither a
//! completion nor a restart reads anything again. The last part goes at completion, with the
//! multipart completion; an upload that goes (terminated, expired) aborts its multipart upload.
//!
//! A PATCH without a checksum sends its parts while it arrives (`ship_while`), and is held back
//! when it runs three parts ahead; what went is the upload's for good (a cut or superseded
//! PATCH keeps at least that). A chunk with a checksum is all or nothing: it goes once kept.

use crate::blob::sha_state::ShaState;
use crate::blob::{punch, read_part, BlobStore, Staged, StoredObject, FS};
use crate::db::tus::{self as q, Gone, Shipped, TusRow};
use crate::db::Db;
use crate::error::AppError;
use crate::partial::PartialDir;
use bytes::Bytes;
use std::sync::Arc;

const MIB: u64 = 1 << 20;
/// S3's smallest part, and its most parts per upload.
const MIN_PART: u64 = 5 * MIB;
const MAX_PARTS: u64 = 10_000;

/// The part size of an upload of `length` bytes: 5 MiB, or more (whole MiB) when 10,000 parts
/// of 5 MiB would not hold it. Whole MiB are whole SHA-256 blocks.
pub fn part_size(length: u64) -> u64 {
    length.div_ceil(MAX_PARTS).div_ceil(MIB).max(MIN_PART / MIB) * MIB
}

#[derive(Clone)]
pub struct Shipper {
    db: Db,
    blobs: BlobStore,
    dir: PartialDir,
}

/// A part read for sending: its bytes (holding their budget), the hashes after it.
struct Read {
    data: Bytes,
    h: Hashing,
    digest: Option<[u8; 32]>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// Hashes as they stand after the bytes sent.
struct Hashing {
    sha: ShaState,
    crc: crc32fast::Hasher,
}

impl Hashing {
    fn resume(s: &Shipped) -> Result<Hashing, AppError> {
        let sha = match &s.sha_state {
            None if s.sent == 0 => ShaState::default(),
            raw => raw
                .as_deref()
                .and_then(ShaState::from_bytes)
                .filter(|h| h.len() == s.sent as u64)
                .ok_or_else(|| AppError::internal("a tus upload's hash state is damaged"))?,
        };
        Ok(Hashing {
            sha,
            crc: crc32fast::Hasher::new_with_initial_len(s.crc, s.sent as u64),
        })
    }
}

impl Shipper {
    pub fn new(db: Db, blobs: BlobStore, dir: PartialDir) -> Shipper {
        Shipper { db, blobs, dir }
    }

    /// The store a new upload's bytes go to.
    pub fn default_store(&self) -> String {
        self.blobs.default_store()
    }

    async fn shipped(&self, row: &TusRow) -> Result<Option<Shipped>, AppError> {
        let id = row.id;
        self.db.read(move |c| q::shipped(c, id)).await
    }

    /// Reads `len` bytes at `start` of the upload's file (from the upload budget) and runs
    /// the hashes over them; `last` finishes the SHA-256.
    async fn read(
        &self,
        file: &Arc<std::fs::File>,
        start: u64,
        len: u64,
        h: Hashing,
        last: bool,
    ) -> Result<Read, AppError> {
        let (data, permit) =
            read_part(file.clone(), start, len as usize, self.blobs.put_budget()).await?;
        let bytes = data.clone();
        let (h, digest) = crate::db::blocking(move || {
            let mut h = h;
            h.crc.update(&bytes);
            let digest = if last {
                Some(h.sha.clone().finish(&bytes))
            } else {
                h.sha.update_blocks(&bytes).map_err(AppError::internal)?;
                None
            };
            Ok::<_, AppError>((h, digest))
        })
        .await??;
        Ok(Read {
            data,
            h,
            digest,
            _permit: permit,
        })
    }

    /// The upload's file, opened on the blocking pool (read for parts, written for holes).
    async fn open(&self, row: &TusRow) -> Result<Arc<std::fs::File>, AppError> {
        let path = self.dir.path(&row.uuid);
        let file = crate::db::blocking(move || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
        })
        .await??;
        Ok(Arc::new(file))
    }

    /// Sends the upload's whole parts that lie below `upto` (bytes PATCHes kept), short of the
    /// last one (that goes with the completion). The caller holds the upload's ship lock.
    pub async fn ship(&self, row: &TusRow, upto: u64) -> Result<(), AppError> {
        self.ship_reporting(row, upto, None).await
    }

    /// `ship`, telling `report` the bytes sent after each part.
    async fn ship_reporting(
        &self,
        row: &TusRow,
        upto: u64,
        report: Option<&tokio::sync::watch::Sender<u64>>,
    ) -> Result<(), AppError> {
        let length = row.length as u64;
        let part = part_size(length);
        let Some(mut st) = self.shipped(row).await? else {
            return Ok(());
        };
        // A whole part below `upto` that is not the last one.
        let next_fits = |sent: i64| (sent as u64) + part <= upto && (sent as u64) + part < length;
        if !next_fits(st.sent) {
            return Ok(());
        }
        let s3 = self.blobs.remotes.get(&row.store)?;
        let file = self.open(row).await?;
        let mut h = Hashing::resume(&st)?;
        while next_fits(st.sent) {
            let (blob_id, mp_id) = match (&st.blob_id, &st.mp_id) {
                (Some(b), Some(m)) => (b.clone(), m.clone()),
                _ => {
                    let blob_id = uuid::Uuid::new_v4().simple().to_string();
                    let mp_id = s3.begin(&blob_id).await?;
                    let (id, b, m) = (row.id, blob_id.clone(), mp_id.clone());
                    self.db
                        .write(move |tx| q::set_multipart(tx, id, &b, &m))
                        .await?;
                    st.blob_id = Some(blob_id.clone());
                    st.mp_id = Some(mp_id.clone());
                    (blob_id, mp_id)
                }
            };
            let start = st.sent as u64;
            let read = self.read(&file, start, part, h, false).await?;
            let next = read.h;
            let idx = start / part;
            let etag = s3.part(&blob_id, &mp_id, idx as usize, read.data).await?;
            let (id, state, crc) = (row.id, next.sha.to_bytes(), next.crc.clone().finalize());
            let sent = (start + part) as i64;
            self.db
                .write(move |tx| q::add_part(tx, id, idx as i64, &etag, sent, &state, crc))
                .await?;
            st.sent = sent;
            if let Some(r) = report {
                r.send_replace(sent as u64);
            }
            h = next;
            let f = file.clone();
            crate::db::blocking(move || punch(&f, start, part)).await?;
        }
        Ok(())
    }

    /// Sends the bytes PATCHes kept to the upload's bucket, part by part, in the background
    /// while the next chunk arrives; a PATCH that finds the sender still busy waits for it,
    /// so the disk holds a chunk or two, not the upload. A failure is logged and the parts
    /// wait on disk for the next try (completion surfaces it as a 503).
    pub async fn ship_kept(&self, row: &TusRow, lock: Arc<tokio::sync::Mutex<()>>, upto: u64) {
        let busy = lock.try_lock().is_err();
        let (shipper, row) = (self.clone(), row.clone());
        let job = async move {
            let _sending = lock.lock().await;
            if let Err(e) = shipper.ship(&row, upto).await {
                tracing::warn!(upload = %row.uuid, error = %e, "tus parts not sent yet");
            }
        };
        if busy {
            job.await;
        } else {
            tokio::spawn(job);
        }
    }

    /// Sends parts while a PATCH arrives: whenever `upto` (bytes in the file) passes a part,
    /// until the PATCH's body ends (its sender drops). Holds the ship lock meanwhile.
    pub fn ship_while(
        &self,
        row: &TusRow,
        lock: Arc<tokio::sync::Mutex<()>>,
        mut upto: tokio::sync::watch::Receiver<u64>,
        sent: tokio::sync::watch::Sender<u64>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (shipper, row) = (self.clone(), row.clone());
        async move {
            let _sending = lock.lock().await;
            while upto.changed().await.is_ok() {
                let at = *upto.borrow_and_update();
                if let Err(e) = shipper.ship_reporting(&row, at, Some(&sent)).await {
                    tracing::warn!(upload = %row.uuid, error = %e, "tus parts not sent yet");
                    return;
                }
            }
        }
    }

    /// The bytes of the upload already in its bucket (0 when it is gone).
    pub async fn sent(&self, row: &TusRow) -> Result<u64, AppError> {
        Ok(self.shipped(row).await?.map_or(0, |s| s.sent as u64))
    }

    /// Puts the whole upload in the bucket: the parts left, the last one, the multipart
    /// completion (one PUT when it never filled a part). Returns the object, staged for the
    /// library, with its SHA-256 and CRC-32. A store that is down is 503 and keeps everything:
    /// the client's next PATCH (or HEAD and PATCH) finishes it.
    pub async fn finish(&self, row: &TusRow) -> Result<Staged, AppError> {
        let length = row.length as u64;
        self.ship(row, length).await?;
        let st = self
            .shipped(row)
            .await?
            .ok_or_else(|| AppError::internal("tus upload gone while finishing"))?;
        let s3 = self.blobs.remotes.get(&row.store)?;
        if st.mp_id.is_none() && st.sent as u64 == length && length > 0 {
            // Whole already (a completion whose recording did not happen): just the values.
            let (Some(blob_id), Some(sha)) = (st.blob_id, st.sha_state) else {
                return Err(AppError::internal("a shipped tus upload has no object"));
            };
            let object = StoredObject::new(s3, blob_id);
            return Ok(Staged::stored(object, length, hex::encode(sha), st.crc));
        }
        let file = self.open(row).await?;
        let start = st.sent as u64;
        let h = Hashing::resume(&st)?;
        let read = self.read(&file, start, length - start, h, true).await?;
        let digest = read.digest.ok_or_else(|| AppError::internal("no digest"))?;
        let (data, crc) = (read.data, read.h.crc.finalize());
        let blob_id = match (st.blob_id, st.mp_id) {
            (Some(blob_id), Some(mp_id)) => {
                let idx = start / part_size(length);
                let etag = s3.part(&blob_id, &mp_id, idx as usize, data).await?;
                let id = row.id;
                let mut etags = self.db.read(move |c| q::part_etags(c, id)).await?;
                etags.push(etag);
                s3.complete(&blob_id, &mp_id, etags).await?;
                blob_id
            }
            _ => {
                let blob_id = uuid::Uuid::new_v4().simple().to_string();
                s3.put_bytes(&blob_id, data).await?;
                blob_id
            }
        };
        let object = StoredObject::new(s3, blob_id.clone());
        let id = row.id;
        self.db
            .write(move |tx| q::set_shipped(tx, id, &blob_id, &digest, crc))
            .await?;
        Ok(Staged::stored(object, length, hex::encode(digest), crc))
    }

    /// Aborts the multipart uploads of upload rows that went.
    pub async fn abandon(&self, gone: &[Gone]) {
        for g in gone {
            let (Some(blob_id), Some(mp_id)) = (&g.blob_id, &g.mp_id) else {
                continue;
            };
            if g.store == FS {
                continue;
            }
            match self.blobs.remotes.get(&g.store) {
                Ok(s3) => s3.abort_upload(blob_id, mp_id.clone()).await,
                Err(e) => {
                    tracing::warn!(upload = %g.uuid, error = %e, "multipart upload not aborted")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_5_mib_until_10000_of_them_do_not_hold_the_upload() {
        assert_eq!(part_size(0), 5 * MIB);
        assert_eq!(part_size(50_000 * MIB), 5 * MIB);
        assert_eq!(part_size(50_000 * MIB + 1), 6 * MIB);
        let big = 1 << 40;
        assert!(part_size(big) * MAX_PARTS >= big);
        assert_eq!(part_size(big) % MIB, 0);
    }
}
