//! View and download counts, and the activity log, kept off the request path: a request adds to
//! memory and never waits on the writer; a background task flushes the increments in one
//! transaction. The totals live in memory from a share's first count on (seeded from its row), so
//! every read is exact — flushed or not — and no update is lost or counted twice.

use crate::db::shares::{self as q, ActivityRow, ShareRow};
use crate::db::Db;
use crate::error::AppError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    /// share id -> (views, downloads): exact totals of every share counted in this process.
    totals: HashMap<i64, (i64, i64)>,
    /// Increments not yet written.
    unflushed: HashMap<i64, (i64, i64)>,
    activity: Vec<ActivityRow>,
}

#[derive(Clone, Default)]
pub struct Counters {
    inner: Arc<Mutex<Inner>>,
    flushing: Arc<tokio::sync::Mutex<()>>,
}

impl Counters {
    /// The exact (views, downloads) of `share`, whose row was just read. No increment of a share
    /// happens before its total is seeded here, so a row read before a flush is never stale.
    pub fn totals(&self, share: &ShareRow) -> (i64, i64) {
        let mut inner = self.inner.lock();
        *inner
            .totals
            .entry(share.id)
            .or_insert((share.views, share.downloads))
    }

    /// The exact downloads of share `id`, whose row holds `flushed`, without seeding its totals:
    /// a partial row (the listing's window columns) must never stand for them.
    pub fn downloads(&self, id: i64, flushed: i64) -> i64 {
        self.inner.lock().totals.get(&id).map_or(flushed, |t| t.1)
    }

    fn add(&self, share: &ShareRow, views: i64, downloads: i64, a: ActivityRow) {
        let mut inner = self.inner.lock();
        let t = inner
            .totals
            .entry(share.id)
            .or_insert((share.views, share.downloads));
        t.0 += views;
        t.1 += downloads;
        let u = inner.unflushed.entry(share.id).or_default();
        u.0 += views;
        u.1 += downloads;
        inner.activity.push(a);
    }

    pub fn view(&self, share: &ShareRow, a: ActivityRow) {
        self.add(share, 1, 0, a);
    }

    pub fn download(&self, share: &ShareRow, a: ActivityRow) {
        self.add(share, 0, 1, a);
    }

    /// Activity that changes no counter (`unlock_failed`).
    pub fn event(&self, a: ActivityRow) {
        self.inner.lock().activity.push(a);
    }

    /// Writes the increments; on failure they stay for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<(), AppError> {
        let _one = self.flushing.lock().await;
        let (counts, activity) = {
            let mut inner = self.inner.lock();
            (
                std::mem::take(&mut inner.unflushed),
                std::mem::take(&mut inner.activity),
            )
        };
        if counts.is_empty() && activity.is_empty() {
            return Ok(());
        }
        let batch = Arc::new((counts, activity));
        let b = batch.clone();
        let written = db.write(move |tx| q::record_counts(tx, &b.0, &b.1)).await;
        if let Err(e) = written {
            let (counts, activity) = Arc::try_unwrap(batch).unwrap_or_default();
            let mut inner = self.inner.lock();
            for (id, (v, d)) in counts {
                let u = inner.unflushed.entry(id).or_default();
                u.0 += v;
                u.1 += d;
            }
            let newer = std::mem::replace(&mut inner.activity, activity);
            inner.activity.extend(newer);
            return Err(e);
        }
        Ok(())
    }
}
