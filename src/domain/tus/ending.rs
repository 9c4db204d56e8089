//! How tus uploads end other than by completing: termination, expiry, their file request
//! deleted, their file gone; and the start's check for files no upload names.

use super::{not_found, TusService};
use crate::db::ts;
use crate::db::tus::{self as q, TusRow};
use crate::error::AppError;

impl TusService {
    /// Forgets an upload whose file is gone (a damaged data dir): its URL is dead.
    pub(super) async fn forget(&self, row: &TusRow) -> AppError {
        tracing::warn!(upload = %row.uuid, "tus upload file missing; upload dropped");
        let id = row.id;
        self.drop_slot(&row.uuid);
        match self.db.write(move |tx| q::delete(tx, id)).await {
            Ok(gone) => self.shipper.abandon(gone.as_slice()).await,
            Err(e) => return e,
        }
        not_found()
    }

    /// `DELETE`: the upload and its bytes go (a PATCH still running is stopped first). A
    /// completed upload's file stays in the library; only the upload is forgotten.
    pub async fn terminate(&self, org_id: i64, id: &str) -> Result<(), AppError> {
        let row = self.live(org_id, id).await?;
        let slot = self.slot(&row.uuid);
        slot.turn.send_modify(|t| *t += 1);
        let _hashes = slot.hashes.lock().await;
        let _sending = slot.ship.lock().await;
        let row_id = row.id;
        let gone = self.db.write(move |tx| q::delete(tx, row_id)).await?;
        self.shipper.abandon(gone.as_slice()).await;
        self.dir.remove(vec![row.uuid.clone()]).await;
        self.drop_slot(&row.uuid);
        Ok(())
    }

    /// Drops uploads past their expiry, their rows and their files. Runs on every creation and
    /// periodically (the server's cleanup task), by the app's clock.
    pub async fn sweep(&self) -> Result<usize, AppError> {
        let (kind, now) = (self.policy.kind, ts(self.clock.now()));
        let gone = self
            .db
            .write(move |tx| q::delete_expired(tx, kind, now))
            .await?;
        let n = gone.len();
        self.clean(gone).await;
        Ok(n)
    }

    /// After their rows were deleted (expired, or their file request deleted): stops a PATCH
    /// still writing to each upload, and drops its memory, its file and its multipart upload.
    pub async fn clean(&self, gone: Vec<q::Gone>) {
        for g in &gone {
            if let Some(slot) = self.slots.lock().remove(&g.uuid) {
                slot.turn.send_modify(|t| *t += 1);
            }
        }
        self.shipper.abandon(&gone).await;
        self.dir
            .remove(gone.into_iter().map(|g| g.uuid).collect())
            .await;
    }

    /// At start: removes files under uploads/ that no upload row names (a crash between
    /// making the file and recording it, or an org deleted).
    pub fn remove_orphans_sync(&self) -> Result<usize, AppError> {
        let mut removed = 0;
        for id in self.dir.list_sync()? {
            let known = self.db.read_sync(|c| q::exists(c, &id))?;
            if !known {
                std::fs::remove_file(self.dir.path(&id))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
