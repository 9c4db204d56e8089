//! Storage: one SQLite file. Reads run on any connection of an r2d2 pool; every write goes to
//! one writer thread that owns its own connection, so this process has exactly one writer, and
//! other processes (the CLI beside a running server) wait on the busy timeout.
//!
//! The writer commits in groups: it takes every write queued while it was busy and runs them in
//! one transaction, each inside a savepoint of its own (a failing write is rolled back alone).
//! Under load that is one commit (and one write of each changed page to the WAL) for many
//! requests instead of one each; alone, a write commits as soon as it is run. No caller hears
//! back before the commit that holds its changes.
//! All SQL lives in this module's files.

pub mod accounts;
pub mod assets;
pub mod backup;
pub mod blobs;
pub mod links;
pub mod listing;
pub mod orgs;
pub mod outbox;
#[cfg(test)]
pub mod plan;
pub mod requests;
pub mod shared;
pub mod shares;
pub mod tus;
pub mod uploads;

use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, Connection, Transaction, TransactionBehavior};
use r2d2_sqlite::SqliteConnectionManager;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

pub use rusqlite::OptionalExtension;

const SCHEMA: &str = include_str!("../../schema.sql");
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most writes one commit takes: bounds the time a group holds the database.
const GROUP_MAX: usize = 64;

#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// The writer thread's queue; it stops when the last `Db` is dropped.
    writes: mpsc::Sender<Box<dyn Job>>,
    /// Moves after every commit of this process, before any of its writers hears back: what was
    /// read at an unchanged generation is still what the database holds (for caches).
    generation: Arc<AtomicU64>,
}

/// Every connection, pooled or the writer's, starts the same way.
fn init(c: &mut Connection) -> rusqlite::Result<()> {
    c.busy_timeout(BUSY_TIMEOUT)?;
    // Every hot query is prepared once per connection.
    c.set_prepared_statement_cache_capacity(128);
    // Checkpoints (the only fsyncs under synchronous=NORMAL) run from a background task
    // (`checkpoint`), not inside a request's commit; the high automatic threshold only
    // bounds the WAL when no server runs one (the CLI alone). Recursive triggers carry a
    // folder's subtree totals up to the root (schema version 10).
    c.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA recursive_triggers = ON;
         PRAGMA wal_autocheckpoint = 20000;",
    )
}

impl Db {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, AppError> {
        let mut writer = Connection::open(path)?;
        init(&mut writer)?;
        migrate(&mut writer)?;
        let manager = SqliteConnectionManager::file(path).with_init(init);
        let pool = r2d2::Pool::builder().max_size(8).build(manager)?;
        let (writes, queue) = mpsc::channel::<Box<dyn Job>>();
        let generation = Arc::new(AtomicU64::new(0));
        let bump = generation.clone();
        std::thread::Builder::new()
            .name("sharebox-writer".into())
            .spawn(move || write_loop(writer, queue, &bump))
            .map_err(AppError::internal)?;
        Ok(Db {
            pool,
            writes,
            generation,
        })
    }

    /// The current write generation (see the field). Read it before reading what you cache.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Runs `f` on a pooled connection, on this thread (CLI, or inside the blocking pool).
    pub fn read_sync<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let conn = self.pool.get()?;
        f(&conn)
    }

    /// Runs `f` in a write transaction and waits for its commit; blocks this thread (CLI, or
    /// inside the blocking pool). No I/O or awaits in `f`: it runs on the writer thread.
    pub fn write_sync<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(f, Reply::Sync(tx))?;
        rx.recv().map_err(|_| writer_gone())?
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
        blocking(move || db.read_sync(f)).await?
    }

    /// `write_sync` for async handlers: waits for the commit without holding a thread.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.enqueue(f, Reply::Async(tx))?;
        rx.await.map_err(|_| writer_gone())?
    }

    fn enqueue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, AppError> + Send + 'static,
        reply: Reply<T>,
    ) -> Result<(), AppError> {
        self.writes
            .send(Box::new(Write { f, reply }))
            .map_err(|_| writer_gone())
    }
}

/// Runs blocking work (SQLite, argon2, file system calls) on the runtime's blocking pool, off
/// the async workers: the one way the program does that.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format!("blocking pool: {e}")))
}

fn writer_gone() -> AppError {
    AppError::internal("the database writer has stopped")
}

fn migrate(conn: &mut Connection) -> Result<(), AppError> {
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

enum Reply<T> {
    Async(tokio::sync::oneshot::Sender<Result<T, AppError>>),
    Sync(mpsc::SyncSender<Result<T, AppError>>),
}

impl<T> Reply<T> {
    fn send(self, r: Result<T, AppError>) {
        // A caller that gave up (a dropped request) no longer listens; nothing to do then.
        match self {
            Reply::Async(s) => drop(s.send(r)),
            Reply::Sync(s) => drop(s.send(r)),
        }
    }
}

/// A queued write of any answer type.
trait Job: Send {
    /// Runs the write inside the group's transaction.
    fn run(self: Box<Self>, tx: &Transaction) -> Box<dyn Ran>;
    /// Answers without running (the group could not start).
    fn fail(self: Box<Self>, e: AppError);
}

/// A write that has run and waits for its group's commit.
trait Ran: Send {
    fn succeeded(&self) -> bool;
    /// Answers: its own result if the commit held, else the commit's error.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct Write<T, F> {
    f: F,
    reply: Reply<T>,
}

struct Done<T> {
    out: Result<T, AppError>,
    reply: Reply<T>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction) -> Result<T, AppError> + Send + 'static,
{
    fn run(self: Box<Self>, tx: &Transaction) -> Box<dyn Ran> {
        let Write { f, reply } = *self;
        let out = catch_unwind(AssertUnwindSafe(|| f(tx)))
            .unwrap_or_else(|_| Err(AppError::internal("a database write panicked")));
        Box::new(Done { out, reply })
    }

    fn fail(self: Box<Self>, e: AppError) {
        self.reply.send(Err(e));
    }
}

impl<T: Send + 'static> Ran for Done<T> {
    fn succeeded(&self) -> bool {
        self.out.is_ok()
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        // A write that failed keeps its own error: its changes were undone either way.
        let out = match (self.out, commit) {
            (Ok(_), Err(e)) => Err(AppError::internal(e)),
            (out, _) => out,
        };
        self.reply.send(out);
    }
}

/// The writer thread: waits for a write, takes whatever else is queued (up to `GROUP_MAX`),
/// commits them together, answers each.
fn write_loop(mut conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>, generation: &AtomicU64) {
    let mut pending: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match queue.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return, // every Db is gone
            }
        }
        while pending.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        write_group(&mut conn, &mut pending, generation);
    }
}

/// Runs the queued writes in one transaction, each in a savepoint. A write that fails is rolled
/// back alone; if SQLite ends the whole transaction (disk full, I/O error), the writes run so
/// far get that error and the rest stay queued for the next group.
fn write_group(
    conn: &mut Connection,
    pending: &mut VecDeque<Box<dyn Job>>,
    generation: &AtomicU64,
) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Busy past the timeout (another process writes): this group fails, later ones retry.
            for job in pending.drain(..) {
                job.fail(AppError::internal(&e));
            }
            return;
        }
    };
    let mut ran: Vec<Box<dyn Ran>> = Vec::with_capacity(pending.len());
    let mut broken: Option<String> = None;
    let size = pending.len().min(GROUP_MAX);
    for _ in 0..size {
        let Some(job) = pending.pop_front() else {
            break;
        };
        if let Err(e) = tx.execute_batch("SAVEPOINT w") {
            broken = Some(e.to_string());
            pending.push_front(job);
            break;
        }
        let done = job.run(&tx);
        let undo = if done.succeeded() {
            "RELEASE w"
        } else {
            "ROLLBACK TO w; RELEASE w"
        };
        ran.push(done);
        if let Err(e) = tx.execute_batch(undo) {
            broken = Some(e.to_string());
            break;
        }
        if tx.is_autocommit() {
            broken = Some("SQLite ended the transaction".into());
            break;
        }
    }
    let commit = match broken {
        Some(e) => {
            drop(tx.rollback());
            Err(e)
        }
        None => tx.commit().map_err(|e| e.to_string()),
    };
    generation.fetch_add(1, Ordering::SeqCst);
    for done in ran {
        done.finish(commit.clone());
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

/// A read of a table every request needs: what `/healthz` asks of the database.
pub fn probe(c: &Connection) -> Result<(), AppError> {
    c.query_row("SELECT count(*) FROM orgs", [], |_| Ok(()))?;
    Ok(())
}

/// Unix seconds, as every time is stored.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}

pub fn from_ts(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

#[cfg(test)]
mod aggregates_tests;
#[cfg(test)]
mod request_counts_tests;

/// A database at `path` with the schema's sections up to `version` applied, as an older
/// release left it (for migration tests).
#[cfg(test)]
fn schema_up_to(path: &Path, version: i64) -> Connection {
    let c = Connection::open(path).unwrap();
    for (v, sql) in schema_sections(SCHEMA)
        .into_iter()
        .filter(|(v, _)| *v <= version)
    {
        c.execute_batch(&sql).unwrap();
        c.execute_batch(&format!("PRAGMA user_version = {v}"))
            .unwrap();
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_sections_are_numbered_in_order() {
        let sections = schema_sections(SCHEMA);
        assert!(!sections.is_empty());
        // 1, 2, 3...: a repeat would re-run a section, a gap would skip one.
        for (want, (v, sql)) in (1..).zip(sections.iter()) {
            assert_eq!(*v, want);
            assert!(sql.contains("CREATE") || sql.contains("ALTER"));
        }
    }

    /// Writes queued while the writer is busy commit as one group; a failing or panicking
    /// write in the group is undone alone and the others keep their changes.
    #[test]
    fn a_group_undoes_only_its_failed_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.write_sync(|tx| Ok(tx.execute_batch("CREATE TABLE t (x TEXT)")?))
            .unwrap();
        let (go, wait) = mpsc::channel::<()>();
        let first = {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_sync(move |tx| {
                    wait.recv().map_err(AppError::internal)?;
                    tx.execute("INSERT INTO t VALUES ('a')", [])?;
                    Ok(())
                })
            })
        };
        // Queue three writes behind the blocked one, so they form the next group.
        let spawn = |f: fn(&Transaction) -> Result<(), AppError>| {
            let db = db.clone();
            std::thread::spawn(move || db.write_sync(f))
        };
        let failing = spawn(|tx| {
            tx.execute("INSERT INTO t VALUES ('b')", [])?;
            Err(AppError::invalid("x", "refused"))
        });
        let panicking = spawn(|tx| {
            tx.execute("INSERT INTO t VALUES ('p')", [])?;
            panic!("a bug in a write")
        });
        let good = spawn(|tx| {
            tx.execute("INSERT INTO t VALUES ('c')", [])?;
            Ok(())
        });
        std::thread::sleep(Duration::from_millis(100));
        go.send(()).unwrap();
        assert!(first.join().unwrap().is_ok());
        assert!(matches!(
            failing.join().unwrap(),
            Err(AppError::InvalidField { .. })
        ));
        assert!(matches!(
            panicking.join().unwrap(),
            Err(AppError::Internal(_))
        ));
        assert!(good.join().unwrap().is_ok());
        let rows: Vec<String> = db
            .read_sync(|c| {
                let mut st = c.prepare("SELECT x FROM t ORDER BY x")?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(rows, ["a", "c"]);
        // The writer is still alive after the panic.
        db.write_sync(|tx| Ok(tx.execute("INSERT INTO t VALUES ('d')", [])?))
            .unwrap();
    }

    /// Many concurrent writes all commit, each exactly once.
    #[test]
    fn concurrent_writes_all_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.write_sync(|tx| Ok(tx.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .unwrap();
        let threads: Vec<_> = (0..200)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    db.write_sync(move |tx| Ok(tx.execute("INSERT INTO t VALUES (?1)", [i])?))
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), 1);
        }
        let (n, sum): (i64, i64) = db
            .read_sync(|c| {
                Ok(c.query_row("SELECT COUNT(*), SUM(x) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?)
            })
            .unwrap();
        assert_eq!((n, sum), (200, (0..200).sum::<i64>()));
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
        assert_eq!(Some(v1), schema_sections(SCHEMA).last().map(|(v, _)| *v));
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
    }

    /// Version 5: folder items of an unknown visibility go (they matched no file; a valid value
    /// would widen the share), valid ones stay, and the CHECK refuses new bad ones.
    #[test]
    fn version_5_drops_unknown_visibilities_and_checks_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let c = schema_up_to(&path, 4);
            c.execute_batch(
                "INSERT INTO orgs VALUES (1, 'o', 'acme', 's', 0);
                 INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
                     VALUES (1, 'root', 1, NULL, '', 0, 0), (2, 'a', 1, 1, 'a', 0, 0);
                 INSERT INTO blobs (id, size, sha256, crc32) VALUES ('b', 1, 'h', 0);
                 INSERT INTO files (id, uuid, org_id, folder_id, name, mime, blob_id, created_at, modified_at)
                     VALUES (1, 'f', 1, 2, 'x.txt', 'text/plain', 'b', 0, 0);
                 INSERT INTO shares (id, uuid, puid, org_id, title, created_at, updated_at)
                     VALUES (1, 's', 'p', 1, 't', 0, 0);
                 INSERT INTO share_items (share_id, position, folder_id, visibility)
                     VALUES (1, 0, 2, 'PUB'), (1, 1, 1, 'EVERYONE');
                 INSERT INTO share_items (share_id, position, file_id, visibility)
                     VALUES (1, 2, 1, 'junk');",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let items: Vec<(i64, String)> = db
            .read_sync(|c| {
                let mut stmt =
                    c.prepare("SELECT position, visibility FROM share_items ORDER BY position")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap();
        assert_eq!(items, vec![(0, "PUB".into()), (2, "PUB,ORG".into())]);
        let bad = db.write_sync(|tx| {
            tx.execute(
                "INSERT INTO share_items (share_id, position, folder_id, visibility) VALUES (1, 3, 2, 'ALL')",
                [],
            )?;
            Ok(())
        });
        assert!(bad.is_err(), "the CHECK lets an unknown visibility in");
    }
}
