//! The share's zip without a list of its entries: one pass over the share (a walk, in one read
//! transaction) works out its length, its ETag, and every `BLOCK` entries a checkpoint (the
//! walk's cursor, the offsets there, a hash of the block's entries). Bytes are then made from
//! any offset on: find the checkpoint, read that block again, check its hash, and go on. So a
//! Range starts anywhere without the entries before it, memory is one block, and a share that
//! changed under a download ends that download (its hash differs) instead of mixing two zips.

use super::model::{items_in, Share};
use super::tree::{top_in, Top};
use super::walk::{self, Cursor, Event};
use crate::blob::{BlobReader, BlobStore, RemoteRead};
use crate::db::shared as sq;
use crate::error::AppError;
use crate::zip::{self, Entry};
use bytes::Bytes;
use r2d2_sqlite::rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::io;
use std::sync::Arc;

/// Entries per checkpoint: a block is what a download holds in memory at once.
pub const BLOCK: usize = 512;

/// One entry of a block: the zip's record of it and where its bytes are.
#[derive(Debug, Clone)]
pub struct Item {
    pub entry: Entry,
    pub blob_id: String,
}

#[derive(Debug, Clone)]
struct Checkpoint {
    cursor: Cursor,
    /// Offset of the block's first local header.
    local: u64,
    /// Offset of the block's first central record (from the zip's start).
    central: u64,
    hash: [u8; 16],
}

/// The zip's shape, as one pass found it.
#[derive(Debug)]
pub struct ZipPlan {
    pub length: u64,
    /// Quoted; moves whenever a byte of the zip would.
    pub etag: String,
    pub entries: u64,
    /// The library's content generation the pass read at.
    pub generation: i64,
    /// The share's top level as the pass read it.
    top: Arc<Top>,
    cd_offset: u64,
    cd_size: u64,
    blocks: Vec<Checkpoint>,
}

impl ZipPlan {
    /// How many checkpoints it keeps (what it costs in memory).
    pub fn checkpoints(&self) -> usize {
        self.blocks.len()
    }
}

/// The next block from `cur`: up to `BLOCK` entries.
fn read_block(c: &Connection, top: &Top, cur: &mut Cursor) -> Result<Vec<Item>, AppError> {
    let mut items = Vec::new();
    while items.len() < BLOCK && !cur.is_done() {
        for ev in walk::step(c, top, cur, BLOCK - items.len())? {
            if let Event::File { path, file } = ev {
                items.push(Item {
                    entry: Entry {
                        name: zip::sanitize_path(&path),
                        size: file.size.max(0) as u64,
                        crc32: file.crc32,
                        modified: file.modified_at,
                    },
                    blob_id: file.blob_id,
                });
            }
        }
    }
    Ok(items)
}

fn block_hash(items: &[Item]) -> [u8; 16] {
    let mut h = Sha256::new();
    for it in items {
        let e = &it.entry;
        h.update((e.name.len() as u64).to_le_bytes());
        h.update(e.name.as_bytes());
        h.update(e.size.to_le_bytes());
        h.update(e.crc32.to_le_bytes());
        h.update(e.modified.timestamp().to_le_bytes());
        h.update(it.blob_id.as_bytes());
        h.update([0]);
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// The pass: reads the share's items and walks the whole share once in one read transaction
/// (a consistent snapshot, tagged with its content generation), holding one block at a time.
pub fn plan(c: &Connection, share: &Share) -> Result<ZipPlan, AppError> {
    c.execute_batch("BEGIN")?;
    let result = plan_in(c, share);
    // A read transaction: ending it cannot lose anything.
    let _ = c.execute_batch("COMMIT");
    result
}

fn plan_in(c: &Connection, share: &Share) -> Result<ZipPlan, AppError> {
    let generation = sq::content_generation(c)?;
    let share = Share {
        items: items_in(c, share.row.id)?,
        ..share.clone()
    };
    let top = Arc::new(top_in(c, &share)?);
    let top_ref: &Top = &top;
    let mut cur = Cursor::default();
    let (mut local, mut central_len, mut count) = (0u64, 0u64, 0u64);
    let mut blocks = Vec::new();
    let mut all = Sha256::new();
    loop {
        let at = cur.clone();
        let items = read_block(c, top_ref, &mut cur)?;
        if items.is_empty() {
            break;
        }
        let hash = block_hash(&items);
        all.update(hash);
        blocks.push(Checkpoint {
            cursor: at,
            local,
            central: central_len,
            hash,
        });
        for it in &items {
            central_len += zip::central_len(&it.entry, local);
            local += zip::local_len(&it.entry) + it.entry.size;
            count += 1;
        }
    }
    // Central offsets were counted from the directory's start; make them absolute.
    for b in &mut blocks {
        b.central += local;
    }
    let end = zip::end_records(count, local, central_len).len() as u64;
    all.update(count.to_le_bytes());
    Ok(ZipPlan {
        length: local + central_len + end,
        etag: format!("\"z{}\"", hex::encode(&all.finalize()[..16])),
        entries: count,
        generation,
        top,
        cd_offset: local,
        cd_size: central_len,
        blocks,
    })
}

/// Makes the bytes of a planned zip from any offset on, a bounded piece per call.
pub struct ZipReader {
    plan: Arc<ZipPlan>,
    blobs: BlobReader,
    /// Blob bytes on S3 that end the last piece, read after its database read.
    remote: Option<RemoteRead>,
    pos: u64,
    end: u64,
    /// The block last read.
    block: Option<Loaded>,
}

/// A block read again, with where each of its entries' records start.
struct Loaded {
    index: usize,
    items: Vec<Item>,
    local_at: Vec<u64>,
    central_at: Vec<u64>,
}

fn changed() -> io::Error {
    io::Error::other("the share changed during the download")
}

impl ZipReader {
    /// Bytes `[start, start + len)` of the zip.
    pub fn new(plan: Arc<ZipPlan>, blobs: BlobStore, start: u64, len: u64) -> Self {
        let end = (start + len).min(plan.length);
        ZipReader {
            plan,
            blobs: BlobReader::new(blobs),
            remote: None,
            pos: start,
            end,
            block: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.pos >= self.end
    }

    /// Block `b`, read again and checked against the pass.
    fn load(&mut self, c: &Connection, b: usize) -> io::Result<&Loaded> {
        if self.block.as_ref().is_none_or(|l| l.index != b) {
            let cp = self.plan.blocks.get(b).ok_or_else(changed)?;
            let mut cur = cp.cursor.clone();
            let items = read_block(c, &self.plan.top, &mut cur).map_err(io::Error::other)?;
            if block_hash(&items) != cp.hash {
                return Err(changed());
            }
            let (mut local, mut central) = (cp.local, cp.central);
            let (mut local_at, mut central_at) = (Vec::new(), Vec::new());
            for it in &items {
                local_at.push(local);
                central_at.push(central);
                central += zip::central_len(&it.entry, local);
                local += zip::local_len(&it.entry) + it.entry.size;
            }
            self.block = Some(Loaded {
                index: b,
                items,
                local_at,
                central_at,
            });
        }
        self.block.as_ref().ok_or_else(changed)
    }

    /// The bytes on S3 that end the piece `next_piece` returned last, if any (async: after
    /// its database read, so no read connection waits on the store).
    pub async fn remote_part(&mut self) -> io::Result<Option<Bytes>> {
        match self.remote.take() {
            Some(r) => self.blobs.read_remote(r).await.map(Some),
            None => Ok(None),
        }
    }

    /// The next piece, at most `max` bytes (file data is read here: call it on a blocking
    /// thread). Empty once done.
    pub fn next_piece(&mut self, c: &Connection, max: usize) -> io::Result<Bytes> {
        let mut out: Vec<u8> = Vec::new();
        while !self.is_done() && out.len() < max {
            let want = ((self.end - self.pos) as usize).min(max - out.len());
            let plan = self.plan.clone();
            let pos = self.pos;
            if pos >= plan.cd_offset + plan.cd_size {
                let end = zip::end_records(plan.entries, plan.cd_offset, plan.cd_size);
                let from = (pos - plan.cd_offset - plan.cd_size) as usize;
                let slice = end.get(from..).unwrap_or(&[]);
                let n = slice.len().min(want);
                if n == 0 {
                    return Err(changed());
                }
                out.extend_from_slice(&slice[..n]);
                self.pos += n as u64;
                continue;
            }
            let central = pos >= plan.cd_offset;
            // The last checkpoint at or before the position, in its section.
            let b = plan
                .blocks
                .partition_point(|cp| if central { cp.central } else { cp.local } <= pos)
                .saturating_sub(1);
            let block = self.load(c, b)?;
            let starts = if central {
                &block.central_at
            } else {
                &block.local_at
            };
            let i = starts.partition_point(|s| *s <= pos).saturating_sub(1);
            let (Some(it), Some(at)) = (block.items.get(i), starts.get(i)) else {
                return Err(changed());
            };
            let e = &it.entry;
            let local = block.local_at.get(i).copied().unwrap_or_default();
            let rec = if central {
                zip::central_record(e, local)
            } else {
                zip::local_header(e)
            };
            let rec_end = at + rec.len() as u64;
            let data_len = if central { 0 } else { e.size };
            let made = if pos < rec_end {
                let from = (pos - at) as usize;
                let n = (rec.len() - from).min(want);
                out.extend_from_slice(&rec[from..from + n]);
                n
            } else if pos < rec_end + data_len {
                let from = pos - rec_end;
                let n = ((data_len - from) as usize).min(want);
                let (id, size) = (it.blob_id.clone(), e.size);
                if let Some(r) = self.blobs.read_at(c, &id, from, n, size, &mut out)? {
                    // The piece ends here; `remote_part` reads these bytes.
                    self.remote = Some(r);
                    self.pos += n as u64;
                    return Ok(Bytes::from(out));
                }
                n
            } else {
                0
            };
            if made == 0 {
                // Past the block's last entry: the pass saw more than the share now holds.
                return Err(changed());
            }
            self.pos += made as u64;
        }
        Ok(Bytes::from(out))
    }
}
