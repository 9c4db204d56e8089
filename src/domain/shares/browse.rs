//! What an opened share holds, as the public pages, the reader and the zip read it: a page of
//! a level, one file, a batch of the walk, the zip's plan and bytes. Each is a bounded read.

use super::open::Opened;
use super::service::ShareService;
use super::tree::{folder_listing, locate_file, locate_folder, top_listing, Listing, Place};
use super::walk::{self, Cursor, Event};
use super::zipplan::{self, ZipPlan, ZipReader};
use super::TreeFile;
use crate::db::shared as sq;
use crate::domain::paging::Seek;
use crate::error::AppError;
use bytes::Bytes;
use futures_util::Stream;
use std::sync::Arc;

/// File events per batch of the walk the reader streams.
const WALK_BATCH: usize = 500;
/// Bytes of the zip made per trip to the blocking pool.
const ZIP_PIECE: usize = 256 * 1024;

impl ShareService {
    /// A page of the share's top level (`folder` None) or of one of its folders, with where
    /// that folder sits; None when the share does not show that folder.
    pub async fn listing(
        &self,
        o: &Opened,
        folder: Option<String>,
        seek: Seek,
        q: Option<String>,
    ) -> Result<Option<(Option<Place>, Listing)>, AppError> {
        let Some(uuid) = folder else {
            return Ok(Some((None, top_listing(&o.top, &seek, q.as_deref()))));
        };
        let (share, top) = (o.share.clone(), o.top.clone());
        self.db
            .read(move |c| {
                let Some(place) = locate_folder(c, &share, &top, &uuid)? else {
                    return Ok(None);
                };
                let listing = folder_listing(c, &place, &seek, q.as_deref())?;
                Ok(Some((Some(place), listing)))
            })
            .await
    }

    /// A file the share holds, with the name it shows under.
    pub async fn shared_file(
        &self,
        o: &Opened,
        uuid: String,
    ) -> Result<Option<TreeFile>, AppError> {
        if let Some(f) = o.top.files.iter().find(|f| f.uuid == uuid) {
            return Ok(Some(f.clone()));
        }
        let (share, top) = (o.share.clone(), o.top.clone());
        self.db
            .read(move |c| locate_file(c, &share, &top, &uuid))
            .await
    }

    /// The next batch of the walk from `cur` (empty when it is done).
    pub async fn walk(&self, o: &Opened, cur: Cursor) -> Result<(Cursor, Vec<Event>), AppError> {
        let top = o.top.clone();
        self.db
            .read(move |c| {
                let mut cur = cur;
                let events = walk::step(c, &top, &mut cur, WALK_BATCH)?;
                Ok((cur, events))
            })
            .await
    }

    /// The zip's plan: kept while the library's content does not change, else one pass.
    pub async fn zip_plan(&self, o: &Opened) -> Result<Arc<ZipPlan>, AppError> {
        let generation = self.db.read(sq::content_generation).await?;
        if let Some(p) = self.plans.get(&o.share.puid, generation) {
            return Ok(p);
        }
        let share = o.share.clone();
        let plan = Arc::new(self.db.read(move |c| zipplan::plan(c, &share)).await?);
        self.plans.put(&o.share.puid, plan.clone());
        Ok(plan)
    }

    /// Bytes `[start, start + len)` of a planned zip, made a piece at a time on the blocking
    /// pool; an error ends the stream (the share changed, or a blob is unreadable).
    pub fn zip_bytes(
        &self,
        plan: Arc<ZipPlan>,
        start: u64,
        len: u64,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + 'static {
        let reader = ZipReader::new(plan, self.blobs.clone(), start, len);
        let db = self.db.clone();
        futures_util::stream::unfold(Some(reader), move |reader| {
            let db = db.clone();
            async move {
                let reader = reader?;
                if reader.is_done() {
                    return None;
                }
                let made = db
                    .read(move |c| {
                        let mut reader = reader;
                        let piece = reader.next_piece(c, ZIP_PIECE);
                        Ok((reader, piece))
                    })
                    .await;
                match made {
                    Ok((mut reader, Ok(piece))) => match reader.remote_part().await {
                        Ok(None) => Some((Ok(piece), Some(reader))),
                        Ok(Some(more)) if piece.is_empty() => Some((Ok(more), Some(reader))),
                        Ok(Some(more)) => {
                            let mut both = bytes::BytesMut::with_capacity(piece.len() + more.len());
                            both.extend_from_slice(&piece);
                            both.extend_from_slice(&more);
                            Some((Ok(both.freeze()), Some(reader)))
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "a zip download stopped");
                            Some((Err(e), None))
                        }
                    },
                    Ok((_, Err(e))) => {
                        tracing::warn!(error = %e, "a zip download stopped");
                        Some((Err(e), None))
                    }
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
                }
            }
        })
    }
}
