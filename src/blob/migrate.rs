//! `sharebox blobs migrate --to fs|s3://...`: copies every blob not yet in the target store,
//! checks the copy by size and SHA-256, then flips that blob's row to the target. The server
//! reads each blob from the store its row names, so it keeps serving throughout; a run that
//! stops resumes where it left off (blobs already flipped are skipped). Source copies are
//! deleted only with `--delete-source`, and only once the whole run went through.

use super::s3::S3;
use super::{BlobStore, Source, CHUNK, FS};
use crate::db::{blobs as q, Db};
use crate::error::AppError;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

const PAGE: i64 = 200;

#[derive(Debug, Default)]
pub struct Migrated {
    pub copied: u64,
    pub bytes: u64,
    /// (blob id, why) of copies that failed; their rows still name the old store.
    pub failed: Vec<(String, String)>,
    pub sources_deleted: u64,
    /// Blobs still elsewhere after the run (uploaded meanwhile by a server storing elsewhere).
    pub left: u64,
}

impl Migrated {
    pub fn render(&self, to: &str) -> String {
        let mut out: Vec<String> = self
            .failed
            .iter()
            .map(|(id, why)| format!("FAILED blob {id}: {why}"))
            .collect();
        out.push(format!(
            "copied {} blobs ({} bytes) to {to}, each checked by SHA-256; {} failed; {} source \
             copies deleted; {} blobs are still in another store{}",
            self.copied,
            self.bytes,
            self.failed.len(),
            self.sources_deleted,
            self.left,
            if self.left > 0 { " (run again)" } else { "" }
        ));
        out.join("\n")
    }
}

/// Size and SHA-256 of the bytes `source` streams.
async fn hash_source(source: &Source, size: u64) -> Result<(u64, String), AppError> {
    let mut stream = source.stream(0, size).await?;
    let (mut sha, mut n) = (Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        sha.update(&chunk);
        n += chunk.len() as u64;
    }
    Ok((n, hex::encode(sha.finalize())))
}

fn check(row: &q::BlobRow, got: (u64, String), what: &str) -> Result<(), AppError> {
    if i64::try_from(got.0).ok() != Some(row.size) || got.1 != row.sha256 {
        return Err(AppError::internal(format!(
            "{what}: {} bytes, SHA-256 {}; the database says {} bytes, {}",
            got.0, got.1, row.size, row.sha256
        )));
    }
    Ok(())
}

/// Streams `source` into a new file under tmp/, checking it against the row on the way.
async fn fetch(
    blobs: &BlobStore,
    source: &Source,
    row: &q::BlobRow,
) -> Result<tempfile::TempPath, AppError> {
    let (file, temp) = blobs.temp_file("migrate-").await?;
    let mut out = tokio::io::BufWriter::with_capacity(CHUNK, file);
    let mut stream = source.stream(0, row.size.max(0) as u64).await?;
    let (mut sha, mut n) = (Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        sha.update(&chunk);
        n += chunk.len() as u64;
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    out.get_mut().sync_all().await?;
    check(row, (n, hex::encode(sha.finalize())), "the source")?;
    Ok(temp)
}

/// Copies one blob into the target and checks the copy there.
async fn copy_one(
    blobs: &BlobStore,
    target: Option<&Arc<S3>>,
    row: &q::BlobRow,
) -> Result<(), AppError> {
    let source = blobs.source_in(&row.store, &row.id)?;
    let size = row.size.max(0) as u64;
    match target {
        None => {
            let temp = fetch(blobs, &source, row).await?;
            let dest = blobs.path(&row.id);
            crate::db::blocking(move || temp.persist(dest))
                .await?
                .map_err(|e| AppError::internal(format!("keep the copy: {e}")))?;
            let got = hash_source(&Source::Fs(blobs.path(&row.id)), size).await?;
            check(row, got, "the copy")
        }
        Some(s3) => {
            match &source {
                Source::Fs(path) => s3.put_file(&row.id, path, size).await?,
                Source::S3(..) => {
                    let temp = fetch(blobs, &source, row).await?;
                    s3.put_file(&row.id, &temp, size).await?;
                }
            }
            let got = s3
                .hash(&row.id)
                .await?
                .ok_or_else(|| AppError::internal("the copy is not in the bucket"))?;
            check(row, got, "the copy")
        }
    }
}

/// Removes blob `id` from the store `store` names (a copy that must not stay).
async fn remove_copy(blobs: &BlobStore, store: &str, id: &str) -> Result<(), AppError> {
    match blobs.source_in(store, id)? {
        Source::Fs(path) => match tokio::fs::remove_file(path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        },
        Source::S3(s3, _) => s3.delete(id).await,
    }
}

pub async fn migrate(
    db: &Db,
    blobs: &BlobStore,
    to: &str,
    delete_source: Option<std::time::Duration>,
) -> Result<Migrated, AppError> {
    let target = if to == FS {
        None
    } else {
        let s3 = blobs.remotes.get(to)?;
        s3.check(true).await?;
        Some(s3)
    };
    let mut done = Migrated::default();
    // Stores blobs came from, for --delete-source (with the configured one, for a resumed run).
    let mut sources: BTreeSet<String> = BTreeSet::from([FS.to_string(), blobs.default_store()]);
    let mut after = String::new();
    loop {
        let (t, a) = (to.to_string(), after.clone());
        let page = db.read(move |c| q::blobs_not_in(c, &t, &a, PAGE)).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for row in page {
            sources.insert(row.store.clone());
            if let Err(e) = copy_one(blobs, target.as_ref(), &row).await {
                let why = match e {
                    AppError::Internal(cause) => cause,
                    other => other.to_string(),
                };
                done.failed.push((row.id.clone(), why));
                continue;
            }
            let (id, from, t) = (row.id.clone(), row.store.clone(), to.to_string());
            let flipped = db
                .write(move |tx| q::set_blob_store(tx, &id, &from, &t))
                .await?;
            if flipped {
                done.copied += 1;
                done.bytes += row.size.max(0) as u64;
            } else {
                // Deleted (or moved) while it was copied: the copy must not stay behind.
                let id = row.id.clone();
                if db.read(move |c| q::blob_store(c, &id)).await?.is_none() {
                    remove_copy(blobs, to, &row.id).await?;
                }
            }
        }
    }
    let t = to.to_string();
    done.left = db.read(move |c| q::count_blobs_not_in(c, &t)).await?;
    if let Some(grace) = delete_source.filter(|_| done.failed.is_empty()) {
        // Reads that found a blob in its old store just before it moved finish from there.
        tokio::time::sleep(grace).await;
        sources.remove(to);
        for store in sources {
            done.sources_deleted += delete_sources(db, blobs, &store).await?;
        }
    }
    Ok(done)
}

/// Deletes the copies in `store` of blobs whose rows name another store (never one without a
/// row: that may be an upload whose row is not written yet).
async fn delete_sources(db: &Db, blobs: &BlobStore, store: &str) -> Result<u64, AppError> {
    let ids: Vec<String> = if store == FS {
        let dir = blobs.path("");
        crate::db::blocking(move || -> std::io::Result<Vec<String>> {
            let mut ids = Vec::new();
            for entry in std::fs::read_dir(dir)? {
                ids.push(entry?.file_name().to_string_lossy().into_owned());
            }
            Ok(ids)
        })
        .await??
    } else {
        blobs.remotes.get(store)?.ids().await?
    };
    let mut deleted = 0;
    for id in ids {
        let owned = id.clone();
        let now_in = db.read(move |c| q::blob_store(c, &owned)).await?;
        if now_in.is_some_and(|s| s != store) {
            remove_copy(blobs, store, &id).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
