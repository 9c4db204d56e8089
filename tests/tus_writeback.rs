//! Issue 18: how a tus upload's record and hashes keep up while 5 MiB chunks arrive, in-process.
//! A PATCH records what background writeback already put on disk (no HEAD needed, no sync of
//! its own), and is answered while its hashing runs on; a chunk dropped behind such a PATCH
//! puts the hashes back, and a crash resumes from the record with the right SHA-256.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/tus.rs"]
mod tus;

use common::*;
use tus::*;

const MIB: usize = 1024 * 1024;

/// The offset recorded for the upload at `path` (what a HEAD after a crash would give).
async fn recorded(app: &TestApp, path: &str) -> u64 {
    let id = path.rsplit('/').next().unwrap().to_string();
    let row = app
        .state
        .db
        .read(move |c| sharebox::db::tus::find(c, "library", &id))
        .await
        .unwrap()
        .unwrap();
    row.received as u64
}

#[actix_web::test]
async fn writeback_moves_the_record_while_chunks_arrive() {
    let mut app = TestApp::new().await;
    let data = body(48 * MIB, 9);
    let path = create(&app, data.len() as u64, &meta(&[("filename", "w.bin")])).await;
    let mut offset = 0;
    for _ in 0..8 {
        let r = app
            .call(patch_req(
                &app,
                &path,
                offset as u64,
                &data[offset..offset + 5 * MIB],
            ))
            .await;
        assert_eq!(r.status, 204, "{}", r.text());
        offset += 5 * MIB;
    }
    // A chunk with a wrong checksum, right behind chunks whose hashing may still run: dropped,
    // and the hashes from before it are the ones the upload goes on with.
    let r = app
        .call(
            patch_req(&app, &path, offset as u64, &data[offset..offset + 5 * MIB])
                .insert_header(("Upload-Checksum", format!("sha256 {}", sha256_b64(b"x")))),
        )
        .await;
    assert_eq!(r.status.as_u16(), 460, "{}", r.text());
    // Writeback began at 32 MiB in the background; the next PATCH after it ended records it,
    // well before the upload's last PATCH (which syncs and records everything anyway).
    let step = 64 * 1024;
    let synced = loop {
        assert!(
            offset + step < data.len(),
            "nothing recorded after {offset} bytes"
        );
        let r = app
            .call(patch_req(
                &app,
                &path,
                offset as u64,
                &data[offset..offset + step],
            ))
            .await;
        assert_eq!(r.status, 204, "{}", r.text());
        offset += step;
        let at = recorded(&app, &path).await;
        if at > 0 {
            break at;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        synced >= 32 * MIB as u64 && synced <= offset as u64,
        "{synced}"
    );
    // A crash: the record is where the client resumes, and nothing in memory is left.
    app.restart().await;
    assert_eq!(offset_of(&app, &path).await, synced);
    let from = synced as usize;
    let r = app
        .call(patch_req(&app, &path, synced, &data[from..]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(&data));
}

#[actix_web::test]
async fn chunks_answered_before_their_hashing_ends_make_the_right_file() {
    let app = TestApp::new().await;
    let data = body(23 * MIB + 17, 4);
    let path = create(&app, data.len() as u64, &meta(&[("filename", "h.bin")])).await;
    let mut offset = 0;
    for (i, len) in [5 * MIB, 3 * MIB, 1, 7 * MIB, 5 * MIB]
        .into_iter()
        .enumerate()
    {
        let r = app
            .call(patch_req(
                &app,
                &path,
                offset as u64,
                &data[offset..offset + len],
            ))
            .await;
        assert_eq!(r.status, 204, "chunk {i}: {}", r.text());
        offset += len;
        if i == 2 {
            // A chunk that would run past the length is refused before a byte is read.
            let r = app
                .call(patch_req(&app, &path, offset as u64, &vec![1u8; 20 * MIB]))
                .await;
            assert_eq!(r.status, 400, "{}", r.text());
        }
    }
    // The last chunk waits for every hashing thread before it: one SHA-256 over all of it.
    let r = app
        .call(
            patch_req(&app, &path, offset as u64, &data[offset..]).insert_header((
                "Upload-Checksum",
                format!("sha256 {}", sha256_b64(&data[offset..])),
            )),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(&data));
    assert_eq!(f["size"]["bytes"], data.len());
}
