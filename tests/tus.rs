//! Issue 18: `/tus/`, tus 1.0.0 with creation, creation-with-upload, termination, expiration and
//! checksum, driven in-process (protocol details, the clock) and through the real binary with a
//! real client (tuspy, tests/sdk/tus_flow.py): chunks with checksums, a connection cut mid-chunk,
//! a kill -9 mid-upload, and flat memory for a 256 MiB upload.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/common.rs"]
mod common;
#[path = "support/generated.rs"]
mod generated;
#[path = "support/output.rs"]
mod output;
#[path = "support/tus.rs"]
mod tus;
#[path = "support/venv.rs"]
mod venv;

use common::*;
use tus::*;

#[actix_web::test]
async fn options_announce_the_protocol() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 5_000_000).await;
    for path in ["/tus/", "/tus", "/tus/0123456789abcdef0123456789abcdef"] {
        let r = app.call(request("OPTIONS", path)).await;
        assert_eq!(r.status, 204, "{path}");
        assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
        assert_eq!(r.header("tus-version"), Some("1.0.0"));
        assert_eq!(
            r.header("tus-extension"),
            Some("creation,creation-with-upload,termination,expiration,checksum")
        );
        assert_eq!(r.header("tus-max-size"), Some("5000000"));
        assert_eq!(r.header("tus-checksum-algorithm"), Some("sha1,sha256"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let allowed = r.header("access-control-allow-headers").unwrap();
        for h in [
            "Upload-Length",
            "Upload-Offset",
            "Upload-Metadata",
            "Upload-Checksum",
            "Tus-Resumable",
            "Authorization",
            "X-Filerobot-Key",
        ] {
            assert!(allowed.contains(h), "{h} in {allowed}");
        }
        let exposed = r.header("access-control-expose-headers").unwrap();
        for h in [
            "Location",
            "Upload-Offset",
            "Upload-Expires",
            "Sharebox-File-Uuid",
        ] {
            assert!(exposed.contains(h), "{h} in {exposed}");
        }
    }
}

#[actix_web::test]
async fn chunks_with_sha256_checksums_make_a_library_file() {
    let app = TestApp::new().await;
    let data = body(300_000, 7);
    let path = create(
        &app,
        data.len() as u64,
        &meta(&[("filename", "report.pdf"), ("folder", "/in/coming")]),
    )
    .await;
    assert_eq!(offset_of(&app, &path).await, 0);
    let mut offset = 0;
    for chunk in data.chunks(128 * 1024) {
        let r = app
            .call(
                patch_req(&app, &path, offset, chunk)
                    .insert_header(("Upload-Checksum", format!("sha256 {}", sha256_b64(chunk)))),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text());
        offset += chunk.len() as u64;
        assert_eq!(r.header("upload-offset"), Some(offset.to_string().as_str()));
        assert!(r.header("upload-expires").unwrap().ends_with(" GMT"));
        let done = offset == data.len() as u64;
        assert_eq!(r.header("sharebox-file-uuid").is_some(), done);
        if done {
            let f = landed(&app, &r).await;
            assert_eq!(f["name"], "report.pdf");
            assert_eq!(f["type"], "application/pdf");
            assert_eq!(f["folder"]["name"], "/in/coming");
            assert_eq!(f["size"]["bytes"], data.len());
            assert_eq!(f["hash"]["sha256"], sha256_hex(&data));
        }
    }
    // Done: HEAD still answers, nothing is left under uploads/.
    assert_eq!(offset_of(&app, &path).await, data.len() as u64);
    assert!(upload_files(&app).is_empty(), "{:?}", upload_files(&app));
    // The same name again follows the free-name rule.
    let path = create(
        &app,
        3,
        &meta(&[("filename", "report.pdf"), ("folder", "/in/coming")]),
    )
    .await;
    let r = app.call(patch_req(&app, &path, 0, b"abc")).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["name"], "report (2).pdf");
}

#[actix_web::test]
async fn creation_with_upload_and_empty_files() {
    let app = TestApp::new().await;
    let r = app
        .call(
            tus(&app, "POST", "/tus")
                .insert_header(("Upload-Length", "10"))
                .insert_header(("Upload-Metadata", meta(&[("filename", "a.txt")])))
                .insert_header(("Content-Type", "application/offset+octet-stream"))
                .insert_header(("Upload-Checksum", format!("sha256 {}", sha256_b64(b"0123"))))
                .set_payload(b"0123".to_vec()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("upload-offset"), Some("4"));
    let path = r
        .header("location")
        .unwrap()
        .replace("http://sharebox.test", "");
    let r = app.call(patch_req(&app, &path, 4, b"456789")).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(b"0123456789"));

    // A first chunk that fails its checksum still leaves the upload created, at offset 0.
    let r = app
        .call(
            tus(&app, "POST", "/tus/")
                .insert_header(("Upload-Length", "4"))
                .insert_header(("Upload-Metadata", meta(&[("filename", "b.txt")])))
                .insert_header(("Content-Type", "application/offset+octet-stream"))
                .insert_header(("Upload-Checksum", format!("sha256 {}", sha256_b64(b"nope"))))
                .set_payload(b"abcd".to_vec()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("upload-offset"), Some("0"));
    assert!(r.header("sharebox-file-uuid").is_none());

    // An empty file is complete at its creation.
    let r = app
        .call(
            tus(&app, "POST", "/tus/")
                .insert_header(("Upload-Length", "0"))
                .insert_header(("Upload-Metadata", meta(&[("filename", "empty.txt")]))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["size"]["bytes"], 0);
}

#[actix_web::test]
async fn protocol_errors_change_nothing() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 1000).await;
    let m = meta(&[("filename", "x.bin")]);
    // Tus-Resumable missing or wrong: 412 with the version the server speaks.
    for version in [None, Some("0.2.2")] {
        let mut req = request("POST", "/tus/")
            .insert_header(("X-Filerobot-Key", app.key.clone()))
            .insert_header(("Upload-Length", "10"))
            .insert_header(("Upload-Metadata", m.clone()));
        if let Some(v) = version {
            req = req.insert_header(("Tus-Resumable", v));
        }
        let r = app.call(req).await;
        assert_fr_error(&r, 412, "TUS_VERSION");
        assert_eq!(r.header("tus-version"), Some("1.0.0"));
    }
    // Over the limit: 413 before anything is stored.
    let r = app
        .call(
            tus(&app, "POST", "/tus/")
                .insert_header(("Upload-Length", "1001"))
                .insert_header(("Upload-Metadata", m.clone()))
                .insert_header(("Content-Type", "application/offset+octet-stream"))
                .set_payload(vec![0u8; 100]),
        )
        .await;
    assert_fr_error(&r, 413, "TOO_LARGE");
    assert!(upload_files(&app).is_empty());
    // Bad metadata or length: 400 naming the field, nothing stored.
    for (length, metadata, field) in [
        ("10", meta(&[("folder", "/a")]), "filename"),
        ("10", "filename !!!".to_string(), "filename"),
        (
            "10",
            meta(&[("filename", "a"), ("folder_uuid", "nope")]),
            "folder_uuid",
        ),
        (
            "10",
            meta(&[
                ("filename", "a"),
                ("folder_uuid", "00000000-0000-4000-8000-000000000000"),
            ]),
            "folder_uuid",
        ),
        (
            "10",
            meta(&[("filename", "a"), ("folder", "/a/../")]),
            "folder",
        ),
        ("ten", m.clone(), "Upload-Length"),
    ] {
        let r = app
            .call(
                tus(&app, "POST", "/tus/")
                    .insert_header(("Upload-Length", length))
                    .insert_header(("Upload-Metadata", metadata.clone())),
            )
            .await;
        let j = assert_fr_error(&r, 400, "INVALID_FIELD");
        assert!(
            j["msg"].as_str().unwrap().starts_with(&format!("{field}:")),
            "{metadata}: {j}"
        );
    }
    assert!(upload_files(&app).is_empty());
    // No credential; a wrong key.
    let r = app
        .call(request("POST", "/tus/").insert_header(("Tus-Resumable", "1.0.0")))
        .await;
    assert_fr_error(&r, 401, "UNAUTHENTICATED");
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));

    let path = create(&app, 10, &m).await;
    let r = app.call(patch_req(&app, &path, 0, b"01234")).await;
    assert_eq!(r.status, 204);
    // Wrong offset: 409.
    for offset in [0, 3, 6] {
        let r = app.call(patch_req(&app, &path, offset, b"5")).await;
        assert_fr_error(&r, 409, "OFFSET_MISMATCH");
    }
    // Bad checksum: 460, the chunk discarded, the offset where it was.
    let r = app
        .call(patch_req(&app, &path, 5, b"56789").insert_header((
            "Upload-Checksum",
            format!("sha256 {}", sha256_b64(b"other")),
        )))
        .await;
    assert_fr_error(&r, 460, "CHECKSUM_MISMATCH");
    assert_eq!(offset_of(&app, &path).await, 5);
    let files = upload_files(&app);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), 5);
    // An unsupported algorithm is a 400.
    let r = app
        .call(patch_req(&app, &path, 5, b"56789").insert_header(("Upload-Checksum", "md5 AAAA")))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    // Wrong Content-Type: 415.
    let r = app
        .call(
            tus(&app, "PATCH", &path)
                .insert_header(("Content-Type", "application/octet-stream"))
                .insert_header(("Upload-Offset", "5"))
                .set_payload(b"56789".to_vec()),
        )
        .await;
    assert_fr_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    // Past Upload-Length: refused, nothing written.
    let r = app.call(patch_req(&app, &path, 5, b"56789X")).await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    assert_eq!(offset_of(&app, &path).await, 5);
    // Unknown, malformed, or another org's upload: 404.
    let other = request("HEAD", &path)
        .insert_header(("Tus-Resumable", "1.0.0"))
        .insert_header(("X-Filerobot-Key", app.other_key.clone()));
    assert_eq!(app.call(other).await.status, 404);
    for p in [
        "/tus/0123456789abcdef0123456789abcdef",
        "/tus/..%2F..%2Fx",
        "/tus/x",
    ] {
        let r = app.call(patch_req(&app, p, 0, b"1")).await;
        assert_fr_error(&r, 404, "NOT_FOUND");
    }
    // The right chunk still completes it.
    let r = app
        .call(patch_req(&app, &path, 5, b"56789").insert_header((
            "Upload-Checksum",
            format!("sha256 {}", sha256_b64(b"56789")),
        )))
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(b"0123456789"));
}

#[actix_web::test]
async fn termination_frees_the_file() {
    let app = TestApp::new().await;
    let path = create(&app, 100, &meta(&[("filename", "gone.bin")])).await;
    let r = app.call(patch_req(&app, &path, 0, &[1u8; 40])).await;
    assert_eq!(r.status, 204);
    assert_eq!(upload_files(&app).len(), 1);
    let r = app.call(tus(&app, "DELETE", &path)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(upload_files(&app).is_empty());
    let r = app.call(tus(&app, "HEAD", &path)).await;
    assert_eq!(r.status, 404);
    let r = app.call(patch_req(&app, &path, 40, &[1u8; 60])).await;
    assert_fr_error(&r, 404, "NOT_FOUND");
}

#[actix_web::test]
async fn abandoned_uploads_expire_with_their_files() {
    let app = TestApp::new().await;
    let path = create(&app, 100, &meta(&[("filename", "old.bin")])).await;
    let r = app.call(patch_req(&app, &path, 0, &[1u8; 40])).await;
    assert_eq!(r.status, 204);
    // 24 h after the last PATCH, not after the creation.
    app.clock.advance(chrono::Duration::hours(23));
    let r = app.call(patch_req(&app, &path, 40, &[1u8; 10])).await;
    assert_eq!(r.status, 204);
    app.clock.advance(chrono::Duration::hours(23));
    assert_eq!(offset_of(&app, &path).await, 50);
    app.clock.advance(chrono::Duration::hours(1));
    let r = app.call(patch_req(&app, &path, 50, &[1u8; 10])).await;
    assert_fr_error(&r, 410, "UPLOAD_EXPIRED");
    assert_eq!(upload_files(&app).len(), 1);
    // The cleanup (periodic, and on every creation) removes the row and the file.
    assert_eq!(app.state.tus.sweep().await.unwrap(), 1);
    assert!(upload_files(&app).is_empty());
    let rows: i64 = app
        .state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT COUNT(*) FROM tus_uploads", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(rows, 0);
    let r = app.call(tus(&app, "HEAD", &path)).await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn the_owner_session_needs_its_csrf_header() {
    let app = TestApp::new().await;
    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = session.expect("signed in");
    let post = |csrf: Option<&str>| {
        let mut req = request("POST", "/tus/")
            .insert_header(("Tus-Resumable", "1.0.0"))
            .insert_header(("Cookie", s.cookie.clone()))
            .insert_header(("Upload-Length", "3"))
            .insert_header(("Upload-Metadata", meta(&[("filename", "web.txt")])));
        if let Some(c) = csrf {
            req = req.insert_header(("X-CSRF-Token", c.to_string()));
        }
        req
    };
    assert_fr_error(&app.call(post(None)).await, 403, "FORBIDDEN");
    assert_fr_error(&app.call(post(Some("wrong"))).await, 403, "FORBIDDEN");
    assert!(upload_files(&app).is_empty());
    let r = app.call(post(Some(&s.csrf))).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let path = r
        .header("location")
        .unwrap()
        .replace("http://sharebox.test", "");
    let r = app
        .call(
            request("PATCH", &path)
                .insert_header(("Tus-Resumable", "1.0.0"))
                .insert_header(("Cookie", s.cookie.clone()))
                .insert_header(("X-CSRF-Token", s.csrf.clone()))
                .insert_header(("Content-Type", "application/offset+octet-stream"))
                .insert_header(("Upload-Offset", "0"))
                .set_payload(b"abc".to_vec()),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.header("sharebox-file-uuid").is_some());
}

#[actix_web::test]
async fn a_restart_resumes_from_the_recorded_offset() {
    let mut app = TestApp::new().await;
    let data = body(50_000, 3);
    let path = create(&app, data.len() as u64, &meta(&[("filename", "r.bin")])).await;
    let r = app.call(patch_req(&app, &path, 0, &data[..20_000])).await;
    assert_eq!(r.status, 204);
    // A HEAD syncs and records what the PATCH wrote.
    assert_eq!(offset_of(&app, &path).await, 20_000);
    // A crash after writing bytes but before recording them leaves extra bytes on disk.
    let part = upload_files(&app).pop().unwrap();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&part)
            .unwrap();
        f.write_all(b"not recorded").unwrap();
    }
    app.restart().await;
    assert_eq!(offset_of(&app, &path).await, 20_000);
    // No hashes in memory now: this PATCH hashes the 20 000 bytes on disk once, and the
    // bytes past the recorded offset are cut off first.
    let r = app
        .call(patch_req(&app, &path, 20_000, &data[20_000..]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(&data));
}

/// A PATCH is answered before its bytes are synced (background writeback syncs them every
/// 32 MiB; a HEAD and completion sync them): after a crash the record is behind, HEAD says
/// where, and the client resends from there to a whole, right file.
#[actix_web::test]
async fn a_crash_before_the_sync_rewinds_to_the_recorded_offset() {
    let mut app = TestApp::new().await;
    let data = body(50_000, 5);
    let path = create(&app, data.len() as u64, &meta(&[("filename", "c.bin")])).await;
    let r = app.call(patch_req(&app, &path, 0, &data[..10_000])).await;
    assert_eq!(r.status, 204);
    assert_eq!(offset_of(&app, &path).await, 10_000);
    let r = app
        .call(patch_req(&app, &path, 10_000, &data[10_000..30_000]))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("upload-offset"), Some("30000"));
    // The process goes before anything synced the second chunk.
    app.restart().await;
    assert_eq!(offset_of(&app, &path).await, 10_000);
    let stale = app
        .call(patch_req(&app, &path, 30_000, &data[30_000..]))
        .await;
    assert_eq!(stale.status, 409);
    let r = app
        .call(patch_req(&app, &path, 10_000, &data[10_000..]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let f = landed(&app, &r).await;
    assert_eq!(f["hash"]["sha256"], sha256_hex(&data));
}

// The real binary and a real client.

const MIB: u64 = 1024 * 1024;

/// Writes `len` generated bytes to `path`; returns their SHA-256 (hex).
fn write_generated(path: &std::path::Path, seed: u64, len: u64) -> String {
    let mut gen = generated::Generated::new(seed, len);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    std::io::copy(&mut gen, &mut f).unwrap();
    gen.sha256()
}

/// `python tests/sdk/tus_flow.py <args>`: the JSON events it printed, and the process's output.
fn tus_flow(args: &[&str]) -> (Vec<serde_json::Value>, std::process::Output) {
    let o = venv::script("tus_flow.py")
        .args(args)
        .output()
        .expect("run tus_flow.py");
    let events = output::stdout(&o)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, o)
}

/// The library file `uuid` as the v4 API gives it.
fn v4_file(srv: &binary::Server, uuid: &str) -> serde_json::Value {
    let res = binary::agent()
        .get(&format!("{}/{}/v4/files/{uuid}", srv.url, srv.org))
        .set("X-Filerobot-Key", &srv.key)
        .call();
    binary::json(res, "GET file", srv)["file"].clone()
}

#[test]
fn tuspy_uploads_64_mib_in_5_mib_chunks_through_a_cut_connection() {
    let dir = tempfile::tempdir().unwrap();
    let srv = binary::Server::start(&dir.path().join("data"), &[]);
    let file = dir.path().join("big-64.bin");
    let sha = write_generated(&file, 0x7e57_0001, 64 * MIB);
    // The connection drops once, 2.5 chunks in: in the middle of the third PATCH's body.
    let cut = (12 * MIB + MIB / 2).to_string();
    let (events, o) = tus_flow(&[
        &format!("{}/tus/", srv.url),
        &srv.key,
        file.to_str().unwrap(),
        "--folder",
        "/tus-in",
        "--cut-after",
        &cut,
        "--retries",
        "3",
    ]);
    assert!(o.status.success(), "{}\n{}", output::text(&o), srv.stderr());
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{events:?}");
    assert_eq!(done["cuts"], 1, "the proxy cut the connection: {events:?}");
    assert_eq!(done["offset"], 64 * MIB);
    let f = v4_file(&srv, done["file_uuid"].as_str().unwrap());
    assert_eq!(f["name"], "big-64.bin");
    assert_eq!(f["folder"]["name"], "/tus-in");
    assert_eq!(f["size"]["bytes"], 64 * MIB);
    assert_eq!(f["hash"]["sha256"], sha.as_str());
    assert!(TestApp::files_under(&srv.data.join("uploads")).is_empty());
}

#[test]
fn tuspy_resumes_after_the_server_is_killed_mid_upload() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = binary::Server::start(&data, &[]);
    let (key, org, old_url) = (srv.key.clone(), srv.org.clone(), srv.url.clone());
    let file = dir.path().join("killed.bin");
    let sha = write_generated(&file, 0x7e57_0002, 48 * MIB);
    // One PATCH of the whole file, so the kill lands in the middle of a request.
    let child = venv::script("tus_flow.py")
        .args([
            &format!("{old_url}/tus/"),
            &key,
            file.to_str().unwrap(),
            "--chunk",
            &(48 * MIB).to_string(),
            // About 3 s for the whole file: the kill comes well before its end.
            "--throttle",
            &(16 * MIB).to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let uploads = data.join("uploads");
    let t0 = std::time::Instant::now();
    let on_disk = loop {
        let size: u64 = TestApp::files_under(&uploads)
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        if size >= 8 * MIB {
            break size;
        }
        assert!(t0.elapsed().as_secs() < 120, "the upload did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(srv); // kill -9
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success(), "the client saw the server die");
    let created: serde_json::Value =
        serde_json::from_str(output::stdout(&o).lines().next().unwrap()).unwrap();
    let upload_url = created["url"].as_str().unwrap().to_string();
    assert!(on_disk < 48 * MIB);

    // A file no upload names (a crash between making it and recording it) goes at the start.
    let orphan = uploads.join("0123456789abcdef0123456789abcdef.part");
    std::fs::write(&orphan, b"orphan").unwrap();
    let mut srv = binary::Server::restart(&data, &[]);
    assert!(!orphan.exists(), "the start removed the orphan");
    srv.key = key;
    srv.org = org;
    // The client spoke through its throttling proxy: the same upload, on the new server.
    let id = upload_url.rsplit('/').next().unwrap();
    let url = format!("{}/tus/{id}", srv.url);
    // HEAD: bytes on disk, fsynced before they were recorded.
    let head = binary::agent()
        .head(&url)
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &srv.key)
        .call()
        .unwrap();
    let offset: u64 = head.header("Upload-Offset").unwrap().parse().unwrap();
    let part = TestApp::files_under(&uploads).pop().unwrap();
    assert!(std::fs::metadata(&part).unwrap().len() >= offset);
    assert!(offset < 48 * MIB, "{offset}");
    let (events, o) = tus_flow(&[
        &format!("{}/tus/", srv.url),
        &srv.key,
        file.to_str().unwrap(),
        "--resume",
        &url,
    ]);
    assert!(o.status.success(), "{}\n{}", output::text(&o), srv.stderr());
    assert_eq!(
        events[0]["offset"], offset,
        "resumed from the server's offset"
    );
    let done = events.last().unwrap();
    let f = v4_file(&srv, done["file_uuid"].as_str().unwrap());
    assert_eq!(f["size"]["bytes"], 48 * MIB);
    assert_eq!(f["hash"]["sha256"], sha.as_str());
}

#[test]
fn a_256_mib_tus_upload_keeps_server_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = binary::Server::start(&dir.path().join("data"), &[]);
    // Let the start's argon2 run be over, then measure from here.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let idle = srv.proc_status_bytes("VmRSS");
    assert!(
        srv.reset_peak_rss(),
        "the kernel refused to reset the peak RSS"
    );
    let len = 256 * MIB;
    let agent = binary::agent();
    let created = agent
        .post(&format!("{}/tus/", srv.url))
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &srv.key)
        .set("Upload-Length", &len.to_string())
        .set("Upload-Metadata", &meta(&[("filename", "flat.bin")]))
        .call()
        .unwrap();
    let url = created.header("Location").unwrap().to_string();
    let mut gen = generated::Generated::new(0x7e57_0003, len);
    // 5 MiB chunks, then the rest in one PATCH: both ways of sending stay flat.
    let mut offset = 0u64;
    for _ in 0..8 {
        let mut piece = vec![0u8; (5 * MIB) as usize];
        std::io::Read::read_exact(&mut gen, &mut piece).unwrap();
        let r = agent
            .request("PATCH", &url)
            .set("Tus-Resumable", "1.0.0")
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/offset+octet-stream")
            .set("Upload-Offset", &offset.to_string())
            .send_bytes(&piece)
            .unwrap();
        assert_eq!(r.status(), 204);
        offset += piece.len() as u64;
    }
    let r = agent
        .request("PATCH", &url)
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &srv.key)
        .set("Content-Type", "application/offset+octet-stream")
        .set("Upload-Offset", &offset.to_string())
        .set("Content-Length", &(len - offset).to_string())
        .send(&mut gen)
        .unwrap();
    assert_eq!(r.status(), 204);
    let uuid = r.header("Sharebox-File-Uuid").unwrap().to_string();
    srv.assert_alive();
    let peak = srv.proc_status_bytes("VmHWM");
    let f = v4_file(&srv, &uuid);
    assert_eq!(f["hash"]["sha256"], gen.sha256());
    assert!(
        peak < idle + 32 * MIB,
        "peak RSS {:.1} MiB, idle {:.1} MiB: more than idle + 32 MiB",
        peak as f64 / MIB as f64,
        idle as f64 / MIB as f64
    );
}

/// A clean stop (SIGTERM) syncs and records what PATCHes wrote: the upload goes on from there
/// after the start, nothing sent again.
#[test]
fn a_clean_stop_keeps_the_bytes_patched_since_the_last_sync() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = binary::Server::start(&data, &[]);
    let agent = binary::agent();
    let created = agent
        .post(&format!("{}/tus/", srv.url))
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &srv.key)
        .set("Upload-Length", "30000")
        .set("Upload-Metadata", &meta(&[("filename", "stop.bin")]))
        .call()
        .unwrap();
    let id = created
        .header("Location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let patched = agent
        .request("PATCH", &format!("{}/tus/{id}", srv.url))
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &srv.key)
        .set("Content-Type", "application/offset+octet-stream")
        .set("Upload-Offset", "0")
        .send_bytes(&[7u8; 12_000])
        .unwrap();
    assert_eq!(patched.status(), 204);
    let key = srv.key.clone();
    srv.stop();
    let srv = binary::Server::restart(&data, &[]);
    let head = agent
        .head(&format!("{}/tus/{id}", srv.url))
        .set("Tus-Resumable", "1.0.0")
        .set("X-Filerobot-Key", &key)
        .call()
        .unwrap();
    assert_eq!(head.header("Upload-Offset"), Some("12000"));
    srv.stop();
}
