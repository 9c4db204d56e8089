//! File contents on disk. Uploads stream into `tmp/` while SHA-256, CRC-32 and size are
//! computed, then move to `blobs/<id>` under a server-made id: no client name ever becomes a
//! path. Downloads stream from disk with Range, If-Range, ETag and Last-Modified; no file is
//! ever held in memory.

use crate::error::AppError;
use actix_web::body::{BoxBody, MessageBody, SizedStream};
use actix_web::http::header::{self, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

/// Read and write in pieces of this size: big enough for throughput (1 MiB reads serve a file
/// at about 2.5x the speed of 256 KiB ones here), small enough to stay flat.
const CHUNK: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct BlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
}

/// A finished upload in `tmp/`, deleted on drop unless persisted.
pub struct Staged {
    file: tempfile::TempPath,
    pub size: u64,
    pub sha256: String,
    pub crc32: u32,
}

impl Staged {
    /// A finished file written elsewhere on this file system (a tus upload under uploads/),
    /// with the hashes computed while it was written.
    pub fn adopt(path: PathBuf, size: u64, sha256: String, crc32: u32) -> Result<Staged, AppError> {
        Ok(Staged {
            file: tempfile::TempPath::try_from_path(path)?,
            size,
            sha256,
            crc32,
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
        })
    }
}

impl BlobStore {
    pub fn new(blobs: PathBuf, tmp: PathBuf) -> BlobStore {
        BlobStore { blobs, tmp }
    }

    pub fn path(&self, blob_id: &str) -> PathBuf {
        self.blobs.join(blob_id)
    }

    /// Up to `max` bytes from the start of a blob (blocking: call it on the blocking pool).
    pub fn read_head(&self, blob_id: &str, max: usize) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut out = Vec::new();
        std::fs::File::open(self.path(blob_id))?
            .take(max as u64)
            .read_to_end(&mut out)?;
        Ok(out)
    }

    /// A new upload in `tmp/` under a random name.
    pub async fn stage(&self, limit: u64) -> Result<Staging, AppError> {
        let tmp = self.tmp.clone();
        let named = crate::db::blocking(move || {
            tempfile::Builder::new()
                .prefix("upload-")
                .suffix(".part")
                .tempfile_in(tmp)
        })
        .await??;
        let (std_file, path) = named.into_parts();
        Ok(Staging {
            path,
            file: tokio::io::BufWriter::with_capacity(CHUNK, tokio::fs::File::from_std(std_file)),
            sha: Sha256::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            limit,
        })
    }

    /// Moves staged uploads to `blobs/` under new ids, all or none.
    pub async fn persist_all(&self, staged: Vec<Staged>) -> Result<Vec<StoredBlob>, AppError> {
        let store = self.clone();
        crate::db::blocking(move || {
            let mut done: Vec<StoredBlob> = Vec::new();
            for s in staged {
                let id = Uuid::new_v4().simple().to_string();
                if let Err(e) = s.file.persist(store.path(&id)) {
                    store.remove_sync(done.iter().map(|b| b.id.clone()));
                    return Err(AppError::internal(format!("persist blob: {e}")));
                }
                done.push(StoredBlob {
                    id,
                    size: s.size,
                    sha256: s.sha256,
                    crc32: s.crc32,
                });
            }
            Ok(done)
        })
        .await?
    }

    fn remove_sync(&self, ids: impl IntoIterator<Item = String>) {
        let ids: Vec<String> = ids.into_iter().collect();
        for id in &ids {
            if let Err(e) = std::fs::remove_file(self.path(id)) {
                tracing::warn!(blob = %id, error = %e, "could not remove blob");
            }
        }
        crate::thumbs::Thumbs::new(self.thumbs_dir()).remove_sync(&ids);
    }

    /// Where thumbnails of these blobs are kept: `thumbs/` beside `blobs/`.
    pub fn thumbs_dir(&self) -> PathBuf {
        self.blobs.with_file_name("thumbs")
    }

    /// Removes blobs from disk (after the rows that named them are gone).
    pub async fn remove(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let store = self.clone();
        let _ = crate::db::blocking(move || store.remove_sync(ids)).await;
    }
}

#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub id: String,
    pub size: u64,
    pub sha256: String,
    pub crc32: u32,
}

/// What a download needs to know of a file.
pub struct Download<'a> {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: &'a str,
    pub name: &'a str,
    pub mime: &'a str,
    /// `inline` for safe previews; downloads are attachments.
    pub inline: bool,
    /// When the content was last written (the file's `modified_at`).
    pub modified: DateTime<Utc>,
    /// The clock's now (see `last_modified`).
    pub now: DateTime<Utc>,
}

/// Types a browser would run or render as a page: always sent as octet-stream.
pub fn is_risky_type(mime: &str) -> bool {
    let m = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m == "text/html"
        || m == "application/xhtml+xml"
        || m == "image/svg+xml"
        || m == "text/xml"
        || m == "application/xml"
        || m.ends_with("+xml")
        || m.contains("javascript")
        || m.contains("ecmascript")
}

/// RFC 5987 attr-char: what may stay unencoded in `filename*`.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `<kind>; filename="<ascii>"; filename*=UTF-8''<name>` (RFC 6266). The quoted ASCII form comes
/// first for the clients that read only it (`curl -OJ`, `wget --content-disposition`, old
/// browsers): non-ASCII and control characters become `_`, `"` and `\` are escaped.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let mut ascii = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                ascii.push('\\');
                ascii.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => ascii.push(c),
            _ => ascii.push('_'),
        }
    }
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    )
}

fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// `Last-Modified`, in whole seconds as HTTP dates go. Two contents written within one second
/// would share a date, so it is sent only once the second of the last write is over: whoever got
/// a date then got the current content, and any later write falls in a later second. That makes
/// the date a strong validator (RFC 9110 8.8.2.2), safe for `If-Range`.
fn last_modified(d: &Download<'_>) -> Option<std::time::SystemTime> {
    let secs = u64::try_from(d.modified.timestamp()).ok()?;
    (d.now.timestamp() > d.modified.timestamp())
        .then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Whether a `Range` may be honoured (RFC 9110 13.1.5): no `If-Range`, or one naming the current
/// content, by its strong ETag or exactly its `Last-Modified`. Anything else (another or a weak
/// tag, another date, a date while none is sent, junk) asks for the whole content.
fn if_range_holds(req: &HttpRequest, etag: &str, modified: Option<std::time::SystemTime>) -> bool {
    let Some(value) = req.headers().get(header::IF_RANGE) else {
        return true;
    };
    let value = value.to_str().unwrap_or("").trim();
    if value.starts_with('"') {
        return value == etag;
    }
    match (value.parse::<HttpDate>(), modified) {
        (Ok(date), Some(m)) => std::time::SystemTime::from(date) == m,
        _ => false,
    }
}

/// Serves a file from disk: ETag/304, one range → 206 (unless `If-Range` names other content),
/// several → 200 whole, unsatisfiable → 416. The body streams in `CHUNK`s; `on_complete` runs
/// once the last byte of the file has been handed to the connection (a whole file, or a range
/// that ends at the last byte).
/// The part of a `size`-byte body a request asks for: its `Range` (one range; several get the
/// whole body, as API.md asks), when its `If-Range` still holds. A partial answer gets its
/// status and `Content-Range` on `builder`.
pub fn byte_range(
    req: &HttpRequest,
    etag: &str,
    modified: Option<std::time::SystemTime>,
    size: u64,
    builder: &mut actix_web::HttpResponseBuilder,
) -> Result<(u64, u64), AppError> {
    let Some(range) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds(req, etag, modified))
    else {
        return Ok((0, size));
    };
    match actix_files::HttpRange::parse(range, size) {
        Ok(ranges) if ranges.len() == 1 => {
            let r = &ranges[0];
            builder.status(StatusCode::PARTIAL_CONTENT).insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", r.start, r.start + r.length - 1, size),
            ));
            Ok((r.start, r.length))
        }
        Ok(_) => Ok((0, size)),
        Err(_) => Err(AppError::RangeNotSatisfiable { size }),
    }
}

pub async fn serve(
    req: &HttpRequest,
    d: Download<'_>,
    on_complete: Option<Box<dyn FnOnce() + 'static>>,
) -> Result<HttpResponse, AppError> {
    let etag = format!("\"{}\"", d.sha256);
    let modified = last_modified(&d);
    let mime = if is_risky_type(d.mime) {
        "application/octet-stream"
    } else {
        d.mime
    };
    let disposition = content_disposition(if d.inline { "inline" } else { "attachment" }, d.name);
    let mut builder = HttpResponse::build(StatusCode::OK);
    builder
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        // A 304 carries it too (RFC 9110 15.4.5).
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if let Some(m) = modified {
        builder.insert_header((header::LAST_MODIFIED, HttpDate::from(m)));
    }
    if etag_matches(req, &etag) {
        return Ok(builder.status(StatusCode::NOT_MODIFIED).finish());
    }
    let (start, len) = byte_range(req, &etag, modified, d.size, &mut builder)?;
    // A HEAD's body is never sent (`web::head`); only an empty file would count at once, here.
    let on_complete = on_complete.filter(|_| req.method() != Method::HEAD);
    let complete_at_end = start + len == d.size;
    let file = tokio::fs::File::open(&d.path).await?.into_std().await;
    let stream = file_stream(file, start, len);
    let stream = at_end(
        stream,
        len,
        if complete_at_end { on_complete } else { None },
    );
    Ok(builder
        .content_type(mime)
        .body(SizedStream::new(len, stream)))
}

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
fn file_stream(
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

/// Runs `done` once the stream has yielded `len` bytes: the whole body went to the connection.
/// A transfer dropped early never runs it.
pub fn at_end<S>(
    stream: S,
    len: u64,
    done: Option<Box<dyn FnOnce() + 'static>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>>
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>>,
{
    let mut done = done;
    if len == 0 {
        // An empty body is complete at once: the stream never yields.
        if let Some(d) = done.take() {
            d();
        }
    }
    let mut sent: u64 = 0;
    stream.map(move |chunk| {
        if let Ok(bytes) = &chunk {
            sent += bytes.len() as u64;
            if sent == len {
                if let Some(d) = done.take() {
                    d();
                }
            }
        }
        chunk
    })
}

/// `res` with `done` run once its whole body has gone to the connection: a view counts when its
/// page went out, so a HEAD (whose body is never sent) or a connection dropped early counts
/// nothing. For bodies that have bytes: actix never polls an empty one.
pub fn on_sent(res: HttpResponse, done: Box<dyn FnOnce() + 'static>) -> HttpResponse {
    res.map_body(|_, body| {
        BoxBody::new(OnSent {
            body,
            done: Some(done),
        })
    })
}

struct OnSent {
    body: BoxBody,
    done: Option<Box<dyn FnOnce() + 'static>>,
}

impl MessageBody for OnSent {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> actix_web::body::BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        let next = std::task::ready!(std::pin::Pin::new(&mut self.body).poll_next(cx));
        if next.is_none() {
            if let Some(done) = self.done.take() {
                done();
            }
        }
        std::task::Poll::Ready(next)
    }
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
    /// a staged upload for `persist_all`; None when the file is gone.
    pub async fn stage_piecewise(&self, name: &str) -> Result<Option<Staged>, AppError> {
        let path = self.tmp.join(name);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
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
        Ok(Some(Staged {
            file: tempfile::TempPath::try_from_path(path)?,
            size,
            sha256: hex::encode(sha.finalize()),
            crc32: crc.finalize(),
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_are_rfc6266() {
        assert_eq!(
            content_disposition("attachment", "a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            content_disposition("attachment", "résumé \"x\";.pdf"),
            "attachment; filename=\"r_sum_ \\\"x\\\";.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22%3B.pdf"
        );
        assert_eq!(
            content_disposition("inline", "a\\b\tc 日本.txt"),
            "inline; filename=\"a\\\\b_c __.txt\"; filename*=UTF-8''a%5Cb%09c%20%E6%97%A5%E6%9C%AC.txt"
        );
    }

    #[test]
    fn risky_types() {
        for t in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
            "application/atom+xml",
        ] {
            assert!(is_risky_type(t), "{t}");
        }
        for t in ["image/png", "application/pdf", "text/plain", "video/mp4"] {
            assert!(!is_risky_type(t), "{t}");
        }
    }
}
