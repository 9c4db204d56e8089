//! `sharebox backup DIR` and `sharebox verify`: storage-level work on a whole data dir, safe
//! beside a running server (all SQL is in `db/backup.rs`).
//!
//! Backup order, and why the result is consistent:
//!
//! 1. Every file now in `blobs/` is hard-linked into `DIR/blobs/` (copied when the link fails,
//!    e.g. across filesystems).
//! 2. `VACUUM INTO DIR/sharebox.db`: one snapshot of everything committed at that instant, taken
//!    in one step, so it finishes however fast the server writes.
//! 3. The copy's blob rows are walked. The server persists a blob file before the row naming it
//!    commits, and deletes the file only after the row is gone (and ids are never reused), so a
//!    blob the copy names was on disk throughout step 1 unless it was persisted while step 1 ran:
//!    such a blob is linked now. It can be missing only if it was also deleted between steps 2
//!    and 3; then the backup fails (and removes what it made): run it again.
//! 4. Linked files the copy does not name (uploads in flight, files deleted meanwhile) go.
//! 5. `unlock.key` is copied, so unlock cookies keep working after a restore.
//! 6. `manifest.json` is written last: a DIR without it is not a finished backup.
//!
//! Blob files are never changed in place (written once, then renamed into `blobs/`), so a hard
//! link is as good as a copy for a backup on the same disk.

use crate::db::backup::{self as sql, Counts};
use crate::error::AppError;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Blob rows read per query: short reads, so the server's checkpoints are never held up.
const PAGE: i64 = 500;
/// Read size when hashing: constant memory whatever the file size.
const CHUNK: usize = 1024 * 1024;
const DB_FILE: &str = "sharebox.db";
const BLOBS: &str = "blobs";
const FS: &str = crate::blob::FS;
const UNLOCK_KEY: &str = "unlock.key";
pub const MANIFEST: &str = "manifest.json";

/// `DIR/manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub sharebox_version: &'static str,
    /// RFC 3339 UTC: when the backup started.
    pub created_at: String,
    pub source: String,
    pub database: DbFile,
    pub counts: Counts,
    /// How the blob files got there: hard links (same filesystem) or copies.
    pub blobs_linked: u64,
    pub blobs_copied: u64,
    pub unlock_key: bool,
    pub not_included: [&'static str; 2],
}

#[derive(Debug, Serialize)]
pub struct DbFile {
    pub file: &'static str,
    pub bytes: u64,
    pub sha256: String,
}

/// A blob name as the server makes them (hex): the only names ever joined to a path.
fn is_blob_name(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// How blob files get into the backup; switches to copying after the first link that fails.
struct Linker {
    copy: bool,
    linked: u64,
    copied: u64,
}

impl Linker {
    /// Links (or copies) `src` to `dst`; true if it copied. `NotFound` means `src` is gone.
    fn put(&mut self, src: &Path, dst: &Path) -> io::Result<bool> {
        if !self.copy {
            match fs::hard_link(src, dst) {
                Ok(()) => {
                    self.linked += 1;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                // EXDEV (another filesystem) or a filesystem without hard links: copy instead.
                Err(e) => {
                    tracing::info!(error = %e, "cannot hard-link blobs; copying them");
                    self.copy = true;
                }
            }
        }
        fs::copy(src, dst)?;
        fs::File::open(dst)?.sync_all()?;
        self.copied += 1;
        Ok(true)
    }

    /// Takes back a file put in DIR that the copy does not name.
    fn drop_file(&mut self, dst: &Path, copied: bool) -> io::Result<()> {
        fs::remove_file(dst)?;
        if copied {
            self.copied -= 1;
        } else {
            self.linked -= 1;
        }
        Ok(())
    }
}

/// Refuses a DIR that exists and is not an empty directory; creates it otherwise.
fn prepare_dest(dest: &Path) -> Result<(), AppError> {
    match fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(AppError::internal(format!(
                    "{} is not empty: a backup never overwrites; name a new directory",
                    dest.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dest)?;
            // It holds the unlock key and the hashed credentials: the owner's eyes only.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(dest, fs::Permissions::from_mode(0o700))?;
            }
            Ok(())
        }
        Err(e) => Err(AppError::internal(format!("{}: {e}", dest.display()))),
    }
}

/// `sharebox backup DIR` of `data_dir`. On failure, what it wrote into DIR is removed.
pub fn backup(data_dir: &Path, dest: &Path, now: DateTime<Utc>) -> Result<Manifest, AppError> {
    let db = data_dir.join(DB_FILE);
    // Before touching DIR: a wrong --data-dir leaves nothing behind.
    drop(sql::open_existing(&db)?);
    prepare_dest(dest)?;
    let made = run_backup(data_dir, dest, now);
    if made.is_err() {
        for name in [BLOBS, DB_FILE, UNLOCK_KEY, MANIFEST, "manifest.json.part"] {
            let path = dest.join(name);
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
    made
}

fn run_backup(data_dir: &Path, dest: &Path, now: DateTime<Utc>) -> Result<Manifest, AppError> {
    let src_blobs = data_dir.join(BLOBS);
    let dst_blobs = dest.join(BLOBS);
    fs::create_dir(&dst_blobs)?;
    let mut linker = Linker {
        copy: false,
        linked: 0,
        copied: 0,
    };

    // 1. Every blob file present now.
    // Name -> whether it was copied (rather than linked).
    let mut have: HashMap<String, bool> = HashMap::new();
    for entry in fs::read_dir(&src_blobs)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !is_blob_name(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        match linker.put(&entry.path(), &dst_blobs.join(&name)) {
            Ok(copied) => {
                have.insert(name, copied);
            }
            // Deleted since it was listed: the copy cannot name it (its row went first).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(AppError::internal(format!("blob {name}: {e}"))),
        }
    }

    // 2. The database, in one step.
    let db_copy = dest.join(DB_FILE);
    {
        let source = sql::open_existing(&data_dir.join(DB_FILE))?;
        sql::vacuum_into(&source, &db_copy)?;
    }
    fs::File::open(&db_copy)?.sync_all()?;

    // 3. and 4. Exactly the blobs the copy names.
    let counts = {
        let copy = sql::open_existing(&db_copy)?;
        let mut after = String::new();
        loop {
            let page = sql::blobs_after(&copy, &after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            for row in page {
                if !is_blob_name(&row.id) {
                    return Err(AppError::internal(format!(
                        "the database names a blob {:?}, which is not a blob name",
                        row.id
                    )));
                }
                if have.remove(&row.id).is_some() {
                    continue;
                }
                // An object in a bucket stays there: the store keeps its own copies.
                if row.store != FS {
                    continue;
                }
                let dst = dst_blobs.join(&row.id);
                if dst.exists() {
                    continue;
                }
                linker
                    .put(&src_blobs.join(&row.id), &dst)
                    .map(drop)
                    .map_err(|e| match e.kind() {
                        io::ErrorKind::NotFound => AppError::internal(format!(
                            "blob {} was deleted while the backup ran; run it again",
                            row.id
                        )),
                        _ => AppError::internal(format!("blob {}: {e}", row.id)),
                    })?;
            }
        }
        sql::counts(&copy)?
    };
    for (unnamed, copied) in have {
        linker.drop_file(&dst_blobs.join(unnamed), copied)?;
    }

    // 5. The key unlock cookies are signed with.
    let key = data_dir.join(UNLOCK_KEY);
    let unlock_key = key.is_file();
    if unlock_key {
        fs::copy(&key, dest.join(UNLOCK_KEY))?;
    }

    // 6. The manifest, last.
    let (bytes, sha256) = hash_file(&db_copy)?;
    let manifest = Manifest {
        sharebox_version: env!("CARGO_PKG_VERSION"),
        created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        source: data_dir.display().to_string(),
        database: DbFile {
            file: DB_FILE,
            bytes,
            sha256,
        },
        counts,
        blobs_linked: linker.linked,
        blobs_copied: linker.copied,
        unlock_key,
        not_included: [
            "tmp/: uploads in progress (clients start them again)",
            "outbox/: mail files already written (the queue itself is in the database)",
        ],
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(AppError::internal)?;
    let part = dest.join("manifest.json.part");
    {
        let mut f = fs::File::create(&part)?;
        f.write_all(json.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    fs::rename(&part, dest.join(MANIFEST))?;
    for dir in [dst_blobs.as_path(), dest] {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(manifest)
}

/// Size and hex SHA-256 of a file, read in pieces.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut buf = vec![0u8; CHUNK];
    hash_with(&mut fs::File::open(path)?, &mut buf)
}

fn hash_with(r: &mut impl Read, buf: &mut [u8]) -> io::Result<(u64, String)> {
    let mut sha = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(sha.finalize())))
}

/// The stores other than `fs` (buckets), as `verify` reads them.
pub trait Remote {
    /// Size and SHA-256 of blob `id` in `store`; None when it is not there.
    fn hash(&mut self, store: &str, id: &str) -> Result<Option<(u64, String)>, AppError>;
    /// The names of the objects in `store`.
    fn ids(&mut self, store: &str) -> Result<Vec<String>, AppError>;
}

/// What `sharebox verify` found.
#[derive(Debug, Default)]
pub struct Verified {
    pub checked: u64,
    pub bytes: u64,
    /// Blob ids whose file is not there (and whose row still is).
    pub missing: Vec<String>,
    /// (blob id, what is wrong).
    pub corrupt: Vec<(String, String)>,
    /// Files under blobs/ that no blob row names.
    pub orphans: Vec<String>,
    /// (blob id, store) of blobs in a bucket whose object is not there.
    pub remote_missing: Vec<(String, String)>,
    /// `s3://bucket/prefix/<name>` of objects in a bucket that no blob row names.
    pub remote_orphans: Vec<String>,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty() && self.remote_missing.is_empty()
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        for id in &self.missing {
            out.push(format!("MISSING blob {id}: blobs/{id} is not there"));
        }
        for (id, store) in &self.remote_missing {
            out.push(format!("MISSING blob {id}: {store}/{id} is not there"));
        }
        for (id, why) in &self.corrupt {
            out.push(format!("CORRUPT blob {id}: {why}"));
        }
        for name in &self.orphans {
            out.push(format!(
                "orphan blobs/{name}: no database row names it (an upload in flight has one; not an error)"
            ));
        }
        for name in &self.remote_orphans {
            out.push(format!(
                "orphan {name}: no database row names it (an upload in flight has one; not an error)"
            ));
        }
        out.push(format!(
            "checked {} blobs ({} bytes): {} missing, {} corrupt, {} orphaned files",
            self.checked,
            self.bytes,
            self.missing.len() + self.remote_missing.len(),
            self.corrupt.len(),
            self.orphans.len() + self.remote_orphans.len()
        ));
        out.join("\n")
    }
}

/// `sharebox verify`: re-hashes every blob the database names against its size and SHA-256,
/// then lists files under blobs/ that no row names. Safe beside a running server: a blob deleted
/// while it runs (its row gone too) is neither missing nor orphaned.
pub fn verify(data_dir: &Path, remote: &mut dyn Remote) -> Result<Verified, AppError> {
    let c = sql::open_existing(&data_dir.join(DB_FILE))?;
    // The buckets met on the walk, listed for orphans at the end.
    let mut buckets: std::collections::BTreeSet<String> = Default::default();
    let blobs: PathBuf = data_dir.join(BLOBS);
    let mut found = Verified::default();
    let mut buf = vec![0u8; CHUNK];
    let mut after = String::new();
    loop {
        let page = sql::blobs_after(&c, &after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for row in page {
            if !is_blob_name(&row.id) {
                found
                    .corrupt
                    .push((row.id, "the row's id is not a blob name".into()));
                continue;
            }
            found.checked += 1;
            let hashed = if row.store == FS {
                fs::File::open(blobs.join(&row.id))
                    .and_then(|mut f| hash_with(&mut f, &mut buf))
                    .map(Some)
                    .or_else(|e| match e.kind() {
                        io::ErrorKind::NotFound => Ok(None),
                        _ => Err(e.to_string()),
                    })
            } else {
                buckets.insert(row.store.clone());
                remote.hash(&row.store, &row.id).map_err(|e| match e {
                    AppError::Internal(cause) => cause,
                    other => other.to_string(),
                })
            };
            match hashed {
                Ok(None) => {
                    // Deleted, or moved by `blobs migrate`, after this page was read? Then its
                    // row is gone or names another store.
                    if sql::blob_store(&c, &row.id)?.as_deref() != Some(row.store.as_str()) {
                        found.checked -= 1;
                    } else if row.store == FS {
                        found.missing.push(row.id);
                    } else {
                        found.remote_missing.push((row.id, row.store));
                    }
                }
                Err(e) => found.corrupt.push((row.id, format!("cannot be read: {e}"))),
                Ok(Some((size, sha))) => {
                    found.bytes += size;
                    if i64::try_from(size).ok() != Some(row.size) {
                        found.corrupt.push((
                            row.id,
                            format!("{size} bytes, the database says {}", row.size),
                        ));
                    } else if sha != row.sha256 {
                        found.corrupt.push((
                            row.id,
                            format!("SHA-256 {sha}, the database says {}", row.sha256),
                        ));
                    }
                }
            }
        }
    }
    for entry in fs::read_dir(&blobs)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !is_blob_name(&name) || !sql::blob_exists(&c, &name)? {
            found.orphans.push(name);
        }
    }
    found.orphans.sort();
    for store in buckets {
        for name in remote.ids(&store)? {
            if !is_blob_name(&name) || !sql::blob_exists(&c, &name)? {
                found.remote_orphans.push(format!("{store}/{name}"));
            }
        }
    }
    found.remote_orphans.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoRemote;

    impl Remote for NoRemote {
        fn hash(&mut self, _: &str, _: &str) -> Result<Option<(u64, String)>, AppError> {
            Ok(None)
        }
        fn ids(&mut self, _: &str) -> Result<Vec<String>, AppError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn blob_names_are_plain() {
        assert!(is_blob_name("0123abcdef"));
        for bad in ["", "../x", "a/b", "a.b", ".", &"a".repeat(65)] {
            assert!(!is_blob_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn hashing_streams_in_pieces() {
        let data = vec![7u8; 3 * 1000 + 5];
        let mut buf = [0u8; 1000];
        let (n, sha) = hash_with(&mut data.as_slice(), &mut buf).unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(sha, hex::encode(Sha256::digest(&data)));
    }

    /// A data dir with a database naming `named` blobs (files written) and `rowless` files in
    /// blobs/ that no row names.
    fn data_dir(root: &Path, named: &[(&str, &[u8])], rowless: &[&str]) -> PathBuf {
        let data = root.join("data");
        std::fs::create_dir_all(data.join(BLOBS)).unwrap();
        let db = crate::db::Db::open(&data.join(DB_FILE)).unwrap();
        for (id, bytes) in named {
            std::fs::write(data.join(BLOBS).join(id), bytes).unwrap();
            let (id, size, sha) = (
                id.to_string(),
                bytes.len() as i64,
                hex::encode(Sha256::digest(bytes)),
            );
            db.write_sync(move |tx| crate::db::assets::insert_blob(tx, &id, size, &sha, 0, "fs"))
                .unwrap();
        }
        for id in rowless {
            std::fs::write(data.join(BLOBS).join(id), b"in flight").unwrap();
        }
        std::fs::write(data.join(UNLOCK_KEY), [1u8; 32]).unwrap();
        data
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// The backup holds exactly the blobs its database names; files without a row stay out.
    #[test]
    fn a_backup_holds_exactly_the_named_blobs() {
        let root = tempfile::tempdir().unwrap();
        let data = data_dir(
            root.path(),
            &[("aa11", b"one"), ("bb22", b"two")],
            &["cc33"],
        );
        let dest = root.path().join("b");
        let m = backup(&data, &dest, Utc::now()).unwrap();
        assert_eq!(names(&dest.join(BLOBS)), ["aa11", "bb22"]);
        assert_eq!((m.blobs_linked, m.blobs_copied), (2, 0));
        assert_eq!((m.counts.blobs, m.counts.bytes), (2, 6));
        assert_eq!(
            names(&dest),
            [BLOBS, MANIFEST, DB_FILE, UNLOCK_KEY].map(String::from)
        );
        let v = verify(&dest, &mut NoRemote).unwrap();
        assert!(v.ok() && v.orphans.is_empty(), "{}", v.render());
        // The live data dir: the row-less file is an orphan, not a failure.
        let v = verify(&data, &mut NoRemote).unwrap();
        assert!(v.ok(), "{}", v.render());
        assert_eq!(v.orphans, ["cc33"]);
    }

    /// A blob the copy names but that is nowhere on disk (deleted between the database copy
    /// and its link) fails the backup, which then leaves DIR as it found it.
    #[test]
    fn a_named_blob_gone_from_disk_fails_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let data = data_dir(root.path(), &[("aa11", b"one"), ("dd44", b"gone")], &[]);
        std::fs::remove_file(data.join(BLOBS).join("dd44")).unwrap();
        let dest = root.path().join("b");
        std::fs::create_dir(&dest).unwrap();
        match backup(&data, &dest, Utc::now()) {
            Err(AppError::Internal(why)) => assert!(why.contains("blob dd44 was deleted"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(names(&dest).is_empty(), "{:?}", names(&dest));
        let v = verify(&data, &mut NoRemote).unwrap();
        assert!(!v.ok());
        assert_eq!(v.missing, ["dd44"]);
    }

    /// Across filesystems (tmpfs here) hard links fail with EXDEV: the blobs are copied.
    #[test]
    fn across_filesystems_blobs_are_copied() {
        let shm = Path::new("/dev/shm");
        let root = tempfile::tempdir().unwrap();
        let data = data_dir(root.path(), &[("aa11", b"one"), ("bb22", b"two")], &[]);
        let other = match tempfile::tempdir_in(shm) {
            Ok(d) => d,
            Err(_) => return, // no tmpfs here: nothing to test
        };
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata(shm).unwrap().dev() == std::fs::metadata(&data).unwrap().dev() {
            return;
        }
        let dest = other.path().join("b");
        let m = backup(&data, &dest, Utc::now()).unwrap();
        assert_eq!((m.blobs_linked, m.blobs_copied), (0, 2));
        assert_eq!(
            std::fs::read(dest.join(BLOBS).join("bb22")).unwrap(),
            b"two"
        );
        assert!(verify(&dest, &mut NoRemote).unwrap().ok());
    }

    #[test]
    fn a_non_empty_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), b"x").unwrap();
        assert!(prepare_dest(dir.path()).is_err());
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(prepare_dest(&empty).is_ok());
        assert!(prepare_dest(&dir.path().join("new/deeper")).is_ok());
    }
}
