//! Blob bytes for the zip, which plans its pieces inside a database read on a blocking thread:
//! a blob on `fs` is read right there (pread); one on S3 is handed back as a `RemoteRead`, done
//! after the database read with async I/O, so no read connection waits on the network. One
//! ranged GET per entry is kept open while the zip's reads follow on.

use super::s3::S3;
use super::{BlobStore, Source};
use bytes::{Bytes, BytesMut};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::io;
use std::sync::Arc;

pub struct BlobReader {
    blobs: BlobStore,
    open: Option<OpenRead>,
}

/// A ranged GET in progress: `pos` is the offset of its next byte.
struct OpenRead {
    id: String,
    pos: u64,
    stream: BoxStream<'static, io::Result<Bytes>>,
    left: Bytes,
}

/// `n` bytes of S3 blob `id` (`size` bytes long) from `from`, to be read by `read_remote`.
pub struct RemoteRead {
    s3: Arc<S3>,
    id: String,
    from: u64,
    n: usize,
    size: u64,
}

impl BlobReader {
    pub fn new(blobs: BlobStore) -> BlobReader {
        BlobReader { blobs, open: None }
    }

    /// Appends `n` bytes of blob `id` (`size` bytes long) from `from` to `out` when it is on
    /// `fs`; for one on S3 returns the read to do with `read_remote`. A blob shorter than
    /// recorded is an error (the download must not go on with wrong bytes).
    pub fn read_at(
        &mut self,
        c: &r2d2_sqlite::rusqlite::Connection,
        id: &str,
        from: u64,
        n: usize,
        size: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<Option<RemoteRead>> {
        use std::os::unix::fs::FileExt;
        let store = crate::db::blobs::blob_store(c, id)
            .map_err(io::Error::other)?
            .ok_or_else(|| io::Error::other("the share changed during the download"))?;
        match self.blobs.source_in(&store, id).map_err(io::Error::other)? {
            Source::Fs(path) => {
                let start = out.len();
                out.resize(start + n, 0);
                std::fs::File::open(path)?.read_exact_at(&mut out[start..], from)?;
                Ok(None)
            }
            Source::S3(s3, _) => Ok(Some(RemoteRead {
                s3,
                id: id.to_string(),
                from,
                n,
                size,
            })),
        }
    }

    /// The bytes of `r`, from the GET left open by the read before when it follows on.
    pub async fn read_remote(&mut self, r: RemoteRead) -> io::Result<Bytes> {
        let follows = |o: &OpenRead| o.id == r.id && o.pos == r.from;
        let mut open = match self.open.take().filter(follows) {
            Some(o) => o,
            None => OpenRead {
                stream: r
                    .s3
                    .get_range(&r.id, r.from, r.size.saturating_sub(r.from))
                    .await
                    .map_err(io::Error::other)?,
                id: r.id.clone(),
                pos: r.from,
                left: Bytes::new(),
            },
        };
        let mut out = BytesMut::with_capacity(r.n);
        while out.len() < r.n {
            if open.left.is_empty() {
                open.left = match open.stream.next().await {
                    Some(chunk) => chunk?,
                    None => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the blob is shorter than its recorded size",
                        ))
                    }
                };
            }
            let take = (r.n - out.len()).min(open.left.len());
            out.extend_from_slice(&open.left.split_to(take));
        }
        open.pos += r.n as u64;
        self.open = Some(open);
        Ok(out.freeze())
    }
}
