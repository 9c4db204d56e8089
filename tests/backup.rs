//! Issue 17, item 7: `sharebox backup DIR` taken while a server runs and 8 clients keep
//! uploading and sharing; a fresh server started on DIR (the restore) has everything that was
//! acknowledged before the backup started, byte for byte; `sharebox verify` passes on it, names a
//! corrupt and a missing blob, and reports an orphaned file without failing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/output.rs"]
mod output;

use binary::{json, run as sharebox, Server};
use output::{stderr, stdout};
use serde_json::json as j;
use sha2::Digest;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BOUNDARY: &str = "----shareboxBackupTest";
const CLIENTS: usize = 8;
/// Each client stops after this many (upload, share) rounds: at most 2 * 8 * 20 requests.
const MAX_ROUNDS: usize = 20;

/// One acknowledged round: an uploaded file, the bytes sent, the share made of it, and when
/// the server's answer to the share arrived (the later of the two acknowledgements).
struct Acked {
    file: String,
    bytes: Vec<u8>,
    share: String,
    at: Instant,
}

/// Deterministic content of a few KiB, different for every (client, round).
fn content(client: usize, round: usize) -> Vec<u8> {
    let len = 500 + (client * 997 + round * 331) % 4000;
    (0..len)
        .map(|i| (i as u64 * 31 + client as u64 * 7 + round as u64 * 13) as u8)
        .collect()
}

fn upload(srv: &Server, folder: &str, name: &str, bytes: &[u8]) -> String {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let answer = json(
        ureq::post(&format!(
            "{}/{}/v4/upload?folder={folder}",
            srv.url, srv.org
        ))
        .set("X-Filerobot-Key", &srv.key)
        .set(
            "Content-Type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send_bytes(&body),
        "upload",
        srv,
    );
    answer["file"]["uuid"]
        .as_str()
        .expect("file uuid")
        .to_string()
}

fn share(srv: &Server, title: &str, file: &str) -> String {
    let answer = json(
        ureq::post(&format!("{}/{}/v5/shares", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &j!({"title": title, "items": [{"type": "file_uuid", "identifiers": [file]}]})
                    .to_string(),
            ),
        "create share",
        srv,
    );
    answer["share"]["uuid"]
        .as_str()
        .expect("share uuid")
        .to_string()
}

fn blob_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn backup_under_writes_restores_everything_acknowledged_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let backup_dir = tmp.path().join("backup");
    let srv = Arc::new(Server::start(&data, &[]));

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (srv, acked, stop, rounds) =
                (srv.clone(), acked.clone(), stop.clone(), rounds.clone());
            std::thread::spawn(move || {
                for round in 0..MAX_ROUNDS {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let bytes = content(client, round);
                    let file = upload(
                        &srv,
                        &format!("/c{client}"),
                        &format!("f{round}.bin"),
                        &bytes,
                    );
                    let share = share(&srv, &format!("c{client} r{round}"), &file);
                    let at = Instant::now();
                    acked.lock().unwrap().push(Acked {
                        file,
                        bytes,
                        share,
                        at,
                    });
                    rounds.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Let the clients get going, then back up while they keep writing.
    let t0 = Instant::now();
    while rounds.load(Ordering::SeqCst) < 2 * CLIENTS {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the clients made no progress"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    let before_backup = rounds.load(Ordering::SeqCst);
    let out = sharebox(&data, &["backup", backup_dir.to_str().unwrap()]);
    let during_backup = rounds.load(Ordering::SeqCst) - before_backup;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().expect("a client failed");
    }
    assert!(
        out.status.success(),
        "backup failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    println!(
        "backup took {:?}; {during_backup} rounds were acknowledged while it ran: {}",
        started.elapsed(),
        stdout(&out)
    );
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < started).collect();
    assert!(
        before.len() >= 2 * CLIENTS,
        "only {} rounds before",
        before.len()
    );

    // The manifest: counts, and the checksum of the database copy.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup_dir.join("manifest.json")).unwrap())
            .unwrap();
    let db_bytes = std::fs::read(backup_dir.join("sharebox.db")).unwrap();
    assert_eq!(
        manifest["database"]["sha256"],
        hex::encode(sha2::Sha256::digest(&db_bytes)),
        "{manifest}"
    );
    assert_eq!(manifest["sharebox_version"], env!("CARGO_PKG_VERSION"));
    let counts = &manifest["counts"];
    for field in ["orgs", "users", "shares", "files", "blobs", "bytes"] {
        assert!(counts[field].is_u64(), "{field} in {manifest}");
    }
    assert!(
        counts["files"].as_u64().unwrap() >= before.len() as u64,
        "{manifest}"
    );
    assert!(
        counts["shares"].as_u64().unwrap() >= before.len() as u64,
        "{manifest}"
    );
    assert_eq!(
        counts["blobs"].as_u64().unwrap() as usize,
        blob_names(&backup_dir).len(),
        "exactly the blobs the copy names are in the backup"
    );
    // Same filesystem: blobs are hard links to the live ones, not copies.
    let first = blob_names(&backup_dir)[0].clone();
    assert_eq!(
        std::fs::metadata(backup_dir.join("blobs").join(&first))
            .unwrap()
            .nlink(),
        2
    );
    assert_eq!(
        std::fs::read(backup_dir.join("unlock.key")).unwrap(),
        std::fs::read(data.join("unlock.key")).unwrap()
    );
    let key = srv.key.clone();
    let org = srv.org.clone();
    Arc::try_unwrap(srv).ok().expect("clients are done").stop();

    // A backup never overwrites.
    let again = sharebox(&data, &["backup", backup_dir.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read(backup_dir.join("sharebox.db")).unwrap(),
        db_bytes
    );

    let verified = sharebox(&backup_dir, &["verify"]);
    assert!(
        verified.status.success(),
        "verify of a fresh backup failed: {}\n{}",
        stdout(&verified),
        stderr(&verified)
    );

    // Restore: a fresh server on the backup, on a new port.
    let restored = Server::restart(&backup_dir, &[]);
    let agent = binary::agent();
    for a in &before {
        let got = agent
            .get(&format!("{}/{org}/v5/shares/{}", restored.url, a.share))
            .set("X-Filerobot-Key", &key)
            .call()
            .unwrap_or_else(|e| panic!("share {} is not in the backup: {e}", a.share));
        assert_eq!(got.status(), 200);
        let mut body = Vec::new();
        std::io::Read::read_to_end(
            &mut agent
                .get(&format!(
                    "{}/{org}/v4/get/{}/download",
                    restored.url, a.file
                ))
                .set("X-Filerobot-Key", &key)
                .call()
                .unwrap_or_else(|e| panic!("file {} is not in the backup: {e}", a.file))
                .into_reader(),
            &mut body,
        )
        .unwrap();
        assert!(body == a.bytes, "file {} differs after the restore", a.file);
    }
    restored.stop();

    // An orphaned file is reported, not failed on.
    let blobs = blob_names(&backup_dir);
    let orphan = "0000feedfacefeedfacefeedface0000";
    std::fs::write(backup_dir.join("blobs").join(orphan), b"in flight").unwrap();
    let verified = sharebox(&backup_dir, &["verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(stdout(&verified).contains(orphan), "{}", stdout(&verified));

    // One corrupt byte (written as a new file: the live blob it was linked to stays intact)
    // and one missing blob: both named, non-zero exit.
    let (corrupt, missing) = (&blobs[0], &blobs[1]);
    let path = backup_dir.join("blobs").join(corrupt);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(path.with_extension("new"), &bytes).unwrap();
    std::fs::rename(path.with_extension("new"), &path).unwrap();
    std::fs::remove_file(backup_dir.join("blobs").join(missing)).unwrap();
    let verified = sharebox(&backup_dir, &["verify"]);
    let said = format!("{}\n{}", stdout(&verified), stderr(&verified));
    assert!(!verified.status.success(), "{said}");
    assert!(said.contains(&format!("CORRUPT blob {corrupt}")), "{said}");
    assert!(said.contains(&format!("MISSING blob {missing}")), "{said}");
    assert!(said.contains(orphan), "{said}");
    // The live data dir was not touched by any of it.
    let live = sharebox(&data, &["verify"]);
    assert!(live.status.success(), "{}", stderr(&live));
}

#[test]
fn backup_of_a_missing_data_dir_fails_and_makes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("backup");
    let out = sharebox(
        &tmp.path().join("nothing"),
        &["backup", dest.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no database"), "{}", stderr(&out));
    assert!(!dest.exists());
    assert!(!tmp.path().join("nothing").exists());
    let out = sharebox(&tmp.path().join("nothing"), &["verify"]);
    assert!(!out.status.success());
}
