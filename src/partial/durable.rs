//! What background writeback has put on disk of a tus upload, so a PATCH can record an
//! offset that is on disk without waiting for an fdatasync of its own.

use std::fs::File;
use std::sync::Arc;

/// How often writeback starts in the background: every this many bytes of an upload, across
/// PATCHes, so the fdatasync that records an offset finds little left to write.
const EARLY_SYNC: u64 = 32 * 1024 * 1024;

/// What background writeback has put on disk of one upload, kept between its PATCHes, so a
/// PATCH can record an offset that is on disk without an fdatasync of its own. A background
/// fdatasync claims the bytes written before it started; cutting the file below that voids
/// the claim.
#[derive(Default)]
pub struct Durable(std::sync::Mutex<Marks>);

#[derive(Default)]
struct Marks {
    /// The offset at which writeback last started.
    started: u64,
    /// Bytes known to be on disk.
    synced: u64,
    /// Bumped by a cut that voids the running sync's claim.
    epoch: u64,
    /// What the running fdatasync, if any, will claim.
    running: Option<u64>,
}

impl Durable {
    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        // The marks stay consistent whatever panicked while they were held.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The upload's bytes known to be on disk.
    pub fn synced(&self) -> u64 {
        self.marks().synced
    }

    /// The bytes before `at` were just synced (by a caller holding the upload's lock).
    pub fn synced_to(&self, at: u64) {
        let mut m = self.marks();
        m.synced = m.synced.max(at);
    }

    /// The file was cut back to `len`.
    pub(super) fn cut(&self, len: u64) {
        let mut m = self.marks();
        if m.running.is_some_and(|at| at > len) {
            m.epoch += 1;
        }
        m.synced = m.synced.min(len);
        m.started = m.started.min(len);
    }

    /// Starts writeback of the bytes before `at` (all written) when `EARLY_SYNC` bytes came
    /// since the last one began and that one is done: an fdatasync on the blocking pool, left
    /// to run, which then claims them.
    pub(super) fn maybe_sync(self: &Arc<Durable>, file: &File, at: u64) -> std::io::Result<()> {
        let Some(epoch) = self.begin(at) else {
            return Ok(());
        };
        let (file, marks) = (file.try_clone()?, self.clone());
        tokio::task::spawn_blocking(move || {
            let synced = file.sync_data();
            if let Err(e) = &synced {
                tracing::warn!(error = %e, "background fdatasync of an upload failed");
            }
            marks.end(epoch, at, synced.is_ok());
        });
        Ok(())
    }

    /// A sync of the bytes before `at` starts, unless one runs or too few bytes came since
    /// the last: its epoch.
    fn begin(&self, at: u64) -> Option<u64> {
        let mut m = self.marks();
        if m.running.is_some() || at < m.started + EARLY_SYNC {
            return None;
        }
        m.started = at;
        m.running = Some(at);
        Some(m.epoch)
    }

    /// The sync begun in `epoch` ended: when it worked and no cut came since, the bytes
    /// before `at` are on disk.
    fn end(&self, epoch: u64, at: u64, worked: bool) {
        let mut m = self.marks();
        m.running = None;
        if worked && m.epoch == epoch {
            m.synced = m.synced.max(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_sync_claims_the_bytes_written_before_it_began() {
        let d = Durable::default();
        assert_eq!(d.begin(10 * MIB), None, "too few bytes for a sync");
        let e = d.begin(40 * MIB).unwrap();
        assert_eq!(d.begin(80 * MIB), None, "one sync at a time");
        d.end(e, 40 * MIB, true);
        assert_eq!(d.synced(), 40 * MIB);
        assert_eq!(d.begin(60 * MIB), None, "32 MiB after the last one began");
        let e = d.begin(72 * MIB).unwrap();
        d.end(e, 72 * MIB, false);
        assert_eq!(d.synced(), 40 * MIB, "a failed sync claims nothing");
    }

    #[test]
    fn a_cut_voids_the_claim_of_a_sync_running_past_it() {
        let d = Durable::default();
        let e = d.begin(40 * MIB).unwrap();
        // A later chunk is dropped while the sync runs: the bytes it claims stay the upload's.
        d.cut(45 * MIB);
        d.end(e, 40 * MIB, true);
        assert_eq!(d.synced(), 40 * MIB);
        let d = Durable::default();
        let e = d.begin(40 * MIB).unwrap();
        // The chunk is dropped while its bytes sync: they are not the upload's any more.
        d.cut(35 * MIB);
        d.end(e, 40 * MIB, true);
        assert_eq!(d.synced(), 0);
        let e = d.begin(67 * MIB).unwrap();
        d.end(e, 67 * MIB, true);
        assert_eq!(d.synced(), 67 * MIB);
        d.cut(50 * MIB);
        assert_eq!(d.synced(), 50 * MIB);
        d.synced_to(60 * MIB);
        assert_eq!(d.synced(), 60 * MIB);
    }
}
