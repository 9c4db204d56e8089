//! Issue 18, item 3: the "download all" zip resumes. Range and If-Range work on it as on
//! files: pieces fetched apart join to the whole zip, a stale If-Range gets the whole new zip,
//! a change under a download ends it rather than mixing two zips, and a cut `curl -C -`
//! resumes to the same bytes (the real binary, the real curl).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

/// Bytes that do not repeat (so a piece in the wrong place shows).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A folder `/pack` of files of several sizes, one in a sub-folder, shared recursively.
async fn pack(app: &TestApp) -> (String, Value) {
    let folder = app.mkdir("/pack").await;
    app.mkdir("/pack/deep").await;
    app.upload_one("/pack", "a.txt", b"small").await;
    app.upload_one("/pack", "big.bin", &noise(700_000, 7)).await;
    app.upload_one("/pack/deep", "c.bin", &noise(90_000, 9))
        .await;
    let uuid = folder["uuid"].as_str().unwrap().to_string();
    let s = create_share(
        app,
        &json!({"title": "Pack", "items": [{"type": "folder_uuid", "identifiers": [uuid],
            "options": {"recursive": true, "visibility": "PUB,ORG"}}]}),
    )
    .await;
    let base = share_path(&s);
    (format!("{base}/zip"), s)
}

/// The uuid of the file `name` of `/pack`.
async fn file_uuid(app: &TestApp, name: &str) -> String {
    let files = app
        .call(app.fr("GET", "/v4/files?folder=/pack"))
        .await
        .json();
    let f = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name);
    f.unwrap()["uuid"].as_str().unwrap().to_string()
}

async fn downloads(app: &TestApp, share: &Value) -> i64 {
    let j = app
        .call(app.fr(
            "GET",
            &format!("/v5/shares/{}", share["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    j["share"]["downloads"].as_i64().unwrap()
}

fn unzip_test(dir: &std::path::Path, bytes: &[u8]) {
    let path = dir.join("joined.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("unzip").arg("-t").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains("No errors detected"),
        "{text}"
    );
    assert!(text.contains("deep/c.bin"), "{text}");
}

#[actix_web::test]
async fn the_zip_in_three_ranges_is_the_zip() {
    let app = TestApp::new().await;
    let (zip, share) = pack(&app).await;

    let whole = app.call(request("GET", &zip)).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let etag = whole.header("etag").unwrap().to_string();
    let len = whole.body.len();
    assert_eq!(whole.size, Some(len as u64));
    assert_eq!(downloads(&app, &share).await, 1);

    // Cuts inside the first file's data and inside the central directory's first record.
    let cuts = [0, 40_000, len - 150, len];
    let mut joined = Vec::new();
    for w in cuts.windows(2) {
        let (from, to) = (w[0], w[1] - 1);
        let r = app
            .call(
                request("GET", &zip)
                    .insert_header(("range", format!("bytes={from}-{to}")))
                    .insert_header(("if-range", etag.clone())),
            )
            .await;
        assert_eq!(r.status, 206, "bytes={from}-{to}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {from}-{to}/{len}").as_str())
        );
        joined.extend_from_slice(&r.body);
    }
    assert_eq!(joined, whole.body.to_vec());
    unzip_test(app.dir.path(), &joined);
    // Only the piece that ended at the last byte counted.
    assert_eq!(downloads(&app, &share).await, 2);

    // A HEAD says the same and counts nothing.
    let head = app.call(request("HEAD", &zip)).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
    assert_eq!(downloads(&app, &share).await, 2);

    // Unchanged, the ETag holds (the plan is kept); a rename moves it, and the old ETag in
    // If-Range gets the whole new zip.
    let again = app.call(request("HEAD", &zip)).await;
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let a = file_uuid(&app, "a.txt").await;
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{a}")),
            &json!({"name": "renamed.txt"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let stale = app
        .call(
            request("GET", &zip)
                .insert_header(("range", "bytes=100-"))
                .insert_header(("if-range", etag.clone())),
        )
        .await;
    assert_eq!(stale.status, 200);
    assert_ne!(stale.header("etag"), Some(etag.as_str()));
    assert_ne!(stale.body.len(), len, "a longer name makes a longer zip");
    unzip_test(app.dir.path(), &stale.body);

    // A range past the end: 416.
    let past = app
        .call(request("GET", &zip).insert_header(("range", format!("bytes={}-", len * 2))))
        .await;
    assert_eq!(past.status, 416);
}

/// A file renamed between the plan (length and ETag sent) and the bytes: the download stops
/// with an error instead of sending a zip that is neither the old one nor the new one; a new
/// request gets a new plan and a whole, consistent zip.
#[actix_web::test]
async fn a_change_under_a_download_ends_it() {
    use futures_util::StreamExt;
    let app = TestApp::new().await;
    let (zip, share) = pack(&app).await;
    let shares = &app.state.shares;
    let opened = shares
        .open(
            share["puid"].as_str().unwrap(),
            None,
            &sharebox::domain::shares::Visitor::default(),
        )
        .await
        .unwrap();
    let plan = shares.zip_plan(&opened).await.unwrap();
    let big = file_uuid(&app, "big.bin").await;
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{big}")),
            &json!({"name": "bigger.bin"}),
        ))
        .await;
    assert_eq!(r.status, 200);
    let pieces: Vec<_> = shares
        .zip_bytes(plan.clone(), 0, plan.length)
        .collect()
        .await;
    let err = pieces.iter().find_map(|p| p.as_ref().err());
    assert!(err.is_some(), "the old plan's bytes went on after a rename");
    let sent: usize = pieces.iter().flatten().map(|b| b.len()).sum();
    assert!((sent as u64) < plan.length);

    let fresh = app.call(request("GET", &zip)).await;
    assert_eq!(fresh.status, 200);
    assert_ne!(fresh.header("etag"), Some(plan.etag.as_str()));
    unzip_test(app.dir.path(), &fresh.body);
}

#[test]
fn a_cut_curl_download_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let srv = binary::Server::start(&dir.path().join("data"), &[]);
    let agent = binary::agent();
    let api = |p: &str| format!("{}/{}{p}", srv.url, srv.org);
    let made = binary::json(
        agent
            .post(&api("/v4/folders"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(&json!({"name": "/r"}).to_string()),
        "folder",
        &srv,
    );
    let folder = made["folder_uuid"].clone();
    for (name, bytes) in [("one.bin", noise(300_000, 3)), ("two.bin", noise(5_000, 5))] {
        let boundary = "sharebox-zip-range";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        binary::json(
            agent
                .post(&api("/v4/upload?folder=/r"))
                .set("X-Filerobot-Key", &srv.key)
                .set(
                    "Content-Type",
                    &format!("multipart/form-data; boundary={boundary}"),
                )
                .send_bytes(&body),
            "upload",
            &srv,
        );
    }
    let share = binary::json(
        agent
            .post(&api("/v5/shares"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &json!({"title": "Resume", "items": [{"type": "folder_uuid",
                "identifiers": [folder], "options": {"recursive": true}}]})
                .to_string(),
            ),
        "share",
        &srv,
    );
    let uri = share["share"]["share_uri"].as_str().unwrap();
    let path = uri.split_once("/s/").unwrap().1;
    let url = format!("{}/s/{path}/zip", srv.url);

    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--fail"])
            .args(args)
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let whole = dir.path().join("whole.zip");
    curl(&["-o", whole.to_str().unwrap(), &url]);
    let whole = std::fs::read(&whole).unwrap();
    // The cut: a download that stopped 123,457 bytes in (mid-file), resumed by curl itself.
    let part = dir.path().join("part.zip");
    std::fs::write(&part, &whole[..123_457]).unwrap();
    curl(&["-C", "-", "-o", part.to_str().unwrap(), &url]);
    assert_eq!(std::fs::read(&part).unwrap(), whole);
    srv.stop();
}
