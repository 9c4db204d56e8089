//! Storage: one SQLite file behind an r2d2 pool. Reads run on any pooled connection; writes go
//! through `write`, which holds one mutex and `BEGIN IMMEDIATE`, so this process has one writer
//! and other processes (the CLI beside a running server) wait on the busy timeout.
//! All SQL lives in this module's files.

pub mod assets;
pub mod orgs;
pub mod outbox;
pub mod shares;
pub mod uploads;

use crate::error::AppError;
use parking_lot::FairMutex;
use r2d2_sqlite::rusqlite::{self, Connection, Transaction, TransactionBehavior};
use r2d2_sqlite::SqliteConnectionManager;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use rusqlite::OptionalExtension;

const SCHEMA: &str = include_str!("../../schema.sql");
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// Fair: writers get the lock in arrival order, which keeps tail latency flat under load.
    writer: Arc<FairMutex<()>>,
}

impl Db {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, AppError> {
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            c.busy_timeout(BUSY_TIMEOUT)?;
            // Every hot query is prepared once per connection.
            c.set_prepared_statement_cache_capacity(128);
            // Checkpoints (the only fsyncs under synchronous=NORMAL) run from a background task
            // (`checkpoint`), not inside a request's commit; the high automatic threshold only
            // bounds the WAL when no server runs one (the CLI alone).
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA wal_autocheckpoint = 20000;",
            )
        });
        let pool = r2d2::Pool::builder().max_size(8).build(manager)?;
        let db = Db {
            pool,
            writer: Arc::new(FairMutex::new(())),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<(), AppError> {
        let _guard = self.writer.lock();
        let mut conn = self.pool.get()?;
        for (version, sql) in schema_sections(SCHEMA) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Checked inside the write lock: two processes starting at once apply each section once.
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > current {
                tx.execute_batch(&sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
                tx.commit()?;
            }
        }
        Ok(())
    }

    /// Runs `f` on a pooled connection, on this thread (CLI, or inside the blocking pool).
    pub fn read_sync<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let conn = self.pool.get()?;
        f(&conn)
    }

    /// Runs `f` in the one write transaction; commits if it returns Ok. No I/O or awaits in `f`.
    pub fn write_sync<T>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let _guard = self.writer.lock();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Copies the WAL back into the database without waiting for readers or the writer.
    pub async fn checkpoint(&self) -> Result<(), AppError> {
        self.read(|c| {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// `read_sync` on the blocking pool, for async handlers.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let db = self.clone();
        actix_web::web::block(move || db.read_sync(f)).await?
    }

    /// `write_sync` on the blocking pool, for async handlers.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let db = self.clone();
        actix_web::web::block(move || db.write_sync(f)).await?
    }
}

/// Splits schema.sql at its `-- version: N` lines (a marker is a whole line of its own).
fn schema_sections(schema: &str) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for line in schema.lines() {
        if let Some(v) = line.strip_prefix("-- version: ") {
            out.push((v.trim().parse().unwrap_or(i64::MAX), String::new()));
        } else if let Some((_, sql)) = out.last_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    out
}

/// Unix seconds, as every time is stored.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}

pub fn from_ts(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_sections_are_numbered_in_order() {
        let sections = schema_sections(SCHEMA);
        assert!(!sections.is_empty());
        for (i, (v, sql)) in sections.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
            assert!(sql.contains("CREATE"));
        }
    }

    #[test]
    fn reopening_keeps_data_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open(&path).unwrap();
        let v1: i64 = db
            .read_sync(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        let (v2, mode, fk): (i64, String, i64) = db
            .read_sync(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!(v1, v2);
        assert_eq!(v1, schema_sections(SCHEMA).len() as i64);
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
    }
}
