//! What `shares::open` read for a share (its row, items, users, org secret and top level), kept
//! between requests so the public routes need no database trip while nothing has changed.
//!
//! An entry is tagged with the database's write generation read *before* it was read, and used
//! only while the generation is unchanged: every commit of this process moves it (before the
//! writer hears back), so a share changed, revoked, re-passworded, or a file added, renamed or
//! deleted is read afresh by the next request. The counter flush is a commit too, so entries
//! live at most one flush interval under load. What depends on the moment (the state at `now`,
//! the view and download totals) is never cached: `open` works it out on every request.
//! Other processes write only orgs, users and keys (the CLI), which no entry holds.

use super::model::Share;
use super::tree::Top;
use super::zipplan::ZipPlan;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many top-level entries (items) in all cached shares together; beyond it the
/// cache starts over. Bounds memory at a few MiB whatever the shares hold.
const MAX_NODES: usize = 20_000;
/// At most this many zip plans, and checkpoints in all of them (a checkpoint is a walk cursor:
/// a few hundred bytes).
const MAX_PLANS: usize = 64;
const MAX_CHECKPOINTS: usize = 20_000;
/// At most this many shares.
const MAX_SHARES: usize = 1_024;

#[derive(Clone)]
pub struct Cached {
    pub share: Share,
    pub secret: String,
    /// Present when the share was active when read (only an active share's items are needed).
    pub top: Option<Arc<Top>>,
}

struct Entry {
    generation: u64,
    nodes: usize,
    value: Cached,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    nodes: usize,
}

#[derive(Clone, Default)]
pub struct ShareCache {
    inner: Arc<Mutex<Inner>>,
}

impl ShareCache {
    /// The entry for `puid` if it was read at `generation`.
    pub fn get(&self, puid: &str, generation: u64) -> Option<Cached> {
        let inner = self.inner.lock();
        let e = inner.entries.get(puid)?;
        if e.generation != generation {
            return None;
        }
        Some(e.value.clone())
    }

    /// Keeps what was read at `generation` (read before the database read).
    pub fn put(&self, puid: &str, generation: u64, value: Cached) {
        let nodes = value.top.as_deref().map_or(0, Top::len) + 1;
        if nodes > MAX_NODES {
            return;
        }
        let mut inner = self.inner.lock();
        if let Some(old) = inner.entries.remove(puid) {
            inner.nodes -= old.nodes;
        }
        if inner.nodes + nodes > MAX_NODES || inner.entries.len() >= MAX_SHARES {
            // Entries of older generations are dead anyway; start over rather than track age.
            inner.entries.clear();
            inner.nodes = 0;
        }
        inner.nodes += nodes;
        inner.entries.insert(
            puid.to_string(),
            Entry {
                generation,
                nodes,
                value,
            },
        );
    }
}

/// Zip plans by share, each good while the library's content generation it was made at holds
/// (items, names, places and contents all move it).
#[derive(Clone, Default)]
pub struct PlanCache {
    inner: Arc<Mutex<HashMap<String, Arc<ZipPlan>>>>,
}

impl PlanCache {
    pub fn get(&self, puid: &str, generation: i64) -> Option<Arc<ZipPlan>> {
        let inner = self.inner.lock();
        inner
            .get(puid)
            .filter(|p| p.generation == generation)
            .cloned()
    }

    pub fn put(&self, puid: &str, plan: Arc<ZipPlan>) {
        let mut inner = self.inner.lock();
        inner.remove(puid);
        let held: usize = inner.values().map(|p| p.checkpoints()).sum();
        if inner.len() >= MAX_PLANS || held + plan.checkpoints() > MAX_CHECKPOINTS {
            inner.clear();
        }
        if plan.checkpoints() <= MAX_CHECKPOINTS {
            inner.insert(puid.to_string(), plan);
        }
    }
}
