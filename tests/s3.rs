//! Issue 21: blobs in an S3-compatible store, against a real S3 server (moto) on loopback and
//! the real binary. Moto checks no signature or expiry, so these check what it can: the bytes,
//! the redirect and its URL, Range on the store, the multipart uploads left, the start checks,
//! a store that goes away (through a TCP proxy this test owns), and `blobs migrate` both ways
//! while a client keeps downloading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/output.rs"]
mod output;
#[path = "support/tcp_proxy.rs"]
mod tcp_proxy;

use binary::moto::moto;
use binary::{json, run as sharebox, Server};
use output::{stderr, stdout};
use serde_json::json as j;
use sha2::Digest;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tcp_proxy::Proxy;

const BOUNDARY: &str = "----shareboxS3Test";

/// `len` bytes that differ at every offset (a wrong range cannot match by chance).
fn content(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((i * 2654435761 + seed * 97) >> 7) as u8)
        .collect()
}

fn flags(bucket: &str, redirect: bool) -> Vec<String> {
    moto().flags(bucket, redirect)
}

fn start(data: &std::path::Path, extra: &[String]) -> Server {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    Server::start(data, &extra)
}

/// An upload's answer: status, Retry-After, body.
fn upload_res(srv: &Server, name: &str, bytes: &[u8]) -> (u16, Option<String>, String) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let res = binary::agent()
        .post(&format!("{}/{}/v4/upload?folder=/", srv.url, srv.org))
        .set("X-Filerobot-Key", &srv.key)
        .set(
            "Content-Type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send_bytes(&body);
    let r = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("upload: {e}"),
    };
    let retry = r.header("retry-after").map(str::to_string);
    (r.status(), retry, r.into_string().unwrap())
}

/// Uploads one file; its uuid.
fn upload(srv: &Server, name: &str, bytes: &[u8]) -> String {
    let (status, _, body) = upload_res(srv, name, bytes);
    assert_eq!(status, 200, "upload: {body}\n{}", srv.stderr());
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    answer["file"]["uuid"].as_str().unwrap().to_string()
}

/// A share of these files: (uuid, its public base `http://.../s/puid/slug`).
fn share(srv: &Server, files: &[&str], extra: serde_json::Value) -> (String, String) {
    let mut body = j!({"title": "S3 test", "items": [{"type": "file_uuid", "identifiers": files}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let answer = json(
        ureq::post(&format!("{}/{}/v5/shares", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string()),
        "create share",
        srv,
    );
    (
        answer["share"]["uuid"].as_str().unwrap().to_string(),
        answer["share"]["share_uri"].as_str().unwrap().to_string(),
    )
}

fn downloads(srv: &Server, share: &str) -> i64 {
    // Counts are flushed every 250 ms.
    std::thread::sleep(Duration::from_millis(600));
    let a = json(
        ureq::get(&format!("{}/{}/v5/shares/{share}", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .call(),
        "get share",
        srv,
    );
    a["share"]["downloads"].as_i64().unwrap()
}

fn no_redirects() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn body(res: ureq::Response) -> Vec<u8> {
    let mut out = Vec::new();
    res.into_reader().read_to_end(&mut out).unwrap();
    out
}

fn get(req: ureq::Request) -> ureq::Response {
    match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    }
}

fn query(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

#[test]
fn uploads_land_in_the_bucket_and_downloads_redirect_to_presigned_gets() {
    let m = moto();
    let bucket = m.bucket();
    let tmp = tempfile::tempdir().unwrap();
    let srv = start(&tmp.path().join("data"), &flags(&bucket, true));

    // 12 MiB: a multipart upload of three parts; and a small file in one PUT.
    let big = content(12 * 1024 * 1024 + 3, 1);
    let small = b"hello from the bucket".to_vec();
    let big_id = upload(&srv, "big.txt", &big);
    let small_id = upload(&srv, "small.txt", &small);
    assert_eq!(m.keys(&bucket).len(), 2, "{:?}", m.keys(&bucket));
    assert!(m.keys(&bucket).iter().all(|k| k.starts_with("blobs/")));
    assert!(m.multipart_uploads(&bucket).is_empty());
    assert!(
        std::fs::read_dir(tmp.path().join("data/blobs"))
            .unwrap()
            .next()
            .is_none(),
        "nothing on local disk"
    );

    // The v4 API download is proxied, byte-exact, with our ETag and Range.
    let api = format!("{}/{}/v4/get/{big_id}/download", srv.url, srv.org);
    let r = get(no_redirects().get(&api).set("X-Filerobot-Key", &srv.key));
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.header("etag").unwrap(),
        format!("\"{}\"", hex::encode(sha2::Sha256::digest(&big)))
    );
    assert_eq!(body(r), big);
    let r = get(no_redirects()
        .get(&api)
        .set("X-Filerobot-Key", &srv.key)
        .set("Range", "bytes=5242870-5242889"));
    assert_eq!(r.status(), 206);
    assert_eq!(body(r), &big[5242870..5242890]);

    // The public file route: 302 to a presigned GET, after the share checks.
    let (share_uuid, base) = share(&srv, &[&big_id, &small_id], j!({}));
    let file_url = format!("{base}/files/{big_id}");
    let r = get(no_redirects().get(&file_url));
    assert_eq!(r.status(), 302);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&m.endpoint), "{location}");
    let expires: u64 = query(&location, "X-Amz-Expires").unwrap().parse().unwrap();
    assert!(expires <= 60, "{location}");
    assert_eq!(
        query(&location, "response-content-type").as_deref(),
        Some("text/plain")
    );
    assert_eq!(
        query(&location, "response-content-disposition").as_deref(),
        Some("attachment; filename=\"big.txt\"; filename*=UTF-8''big.txt")
    );
    assert_eq!(
        query(&location, "response-cache-control").as_deref(),
        Some("private, no-cache")
    );
    // Followed to the store: byte-exact, with the headers the URL asked for.
    let r = get(ureq::get(&location));
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(body(r), big);
    assert_eq!(downloads(&srv, &share_uuid), 1);

    // A redirected Range: the store answers it. Not to the end: not counted.
    let r = get(no_redirects().get(&file_url).set("Range", "bytes=100-199"));
    assert_eq!(r.status(), 302);
    let location = r.header("location").unwrap().to_string();
    let r = get(ureq::get(&location).set("Range", "bytes=100-199"));
    assert_eq!(r.status(), 206);
    assert_eq!(body(r), &big[100..200]);
    assert_eq!(downloads(&srv, &share_uuid), 1);
    // A Range to the last byte counts.
    let tail = format!("bytes={}-", big.len() - 10);
    let r = get(no_redirects().get(&file_url).set("Range", &tail));
    assert_eq!(r.status(), 302);
    assert_eq!(downloads(&srv, &share_uuid), 2);
    // ureq follows the redirect itself: byte-exact end to end.
    let r = get(ureq::get(&format!("{base}/files/{small_id}")));
    assert_eq!(body(r), small);
    assert_eq!(downloads(&srv, &share_uuid), 3);

    // A HEAD is redirected like its GET, and never counted.
    let r = no_redirects().head(&file_url).call().unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(downloads(&srv, &share_uuid), 3);
    // A type a browser would run goes out as octet-stream from the store too.
    let page = upload(&srv, "page.html", b"<script>alert(1)</script>");
    let (_, html_share) = share(&srv, &[&page], j!({}));
    let r = get(no_redirects().get(&format!("{html_share}/files/{page}")));
    let location = r.header("location").unwrap().to_string();
    assert_eq!(
        query(&location, "response-content-type").as_deref(),
        Some("application/octet-stream")
    );

    // Every share check comes before the redirect: a password, a view-only share, a download
    // limit reached.
    let (_, locked) = share(&srv, &[&big_id], j!({"auth": {"pass": "sesame"}}));
    let r = get(no_redirects().get(&format!("{locked}/files/{big_id}")));
    assert_eq!(r.status(), 401);
    assert!(r.header("location").is_none());
    let (_, view_only) = share(&srv, &[&big_id], j!({"permissions": "READ"}));
    let r = get(no_redirects().get(&format!("{view_only}/files/{big_id}")));
    assert_eq!(r.status(), 403);
    let (limited_uuid, limited) = share(&srv, &[&small_id], j!({"max_downloads": 1}));
    let r = get(no_redirects().get(&format!("{limited}/files/{small_id}")));
    assert_eq!(r.status(), 302);
    assert_eq!(downloads(&srv, &limited_uuid), 1);
    let r = get(no_redirects().get(&format!("{limited}/files/{small_id}")));
    assert_eq!(r.status(), 410);

    // If-Range is proxied (the store cannot check our validator), and still honoured.
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&big)));
    let r = get(no_redirects()
        .get(&file_url)
        .set("Range", "bytes=10-19")
        .set("If-Range", &etag));
    assert_eq!(r.status(), 206);
    assert_eq!(body(r), &big[10..20]);
    let r = get(no_redirects()
        .get(&file_url)
        .set("Range", "bytes=10-19")
        .set("If-Range", "\"other\""));
    assert_eq!(r.status(), 200);
    assert_eq!(body(r).len(), big.len());

    // The zip streams from the store (proxied): `unzip` finds every file whole.
    let r = get(no_redirects().get(&format!("{base}/zip")));
    assert_eq!(r.status(), 200);
    let zip = tmp.path().join("all.zip");
    std::fs::write(&zip, body(r)).unwrap();
    for (name, bytes) in [("big.txt", &big), ("small.txt", &small)] {
        let out = std::process::Command::new("unzip")
            .arg("-p")
            .arg(&zip)
            .arg(name)
            .output()
            .expect("unzip (scripts/test.sh installs it)");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(&out.stdout == bytes, "{name} in the zip");
    }
    // A range of the zip that starts inside the big file's bytes.
    let r = get(no_redirects()
        .get(&format!("{base}/zip"))
        .set("Range", "bytes=1000000-1000099"));
    assert_eq!(r.status(), 206);
    let whole = std::fs::read(&zip).unwrap();
    assert_eq!(body(r), &whole[1000000..1000100]);

    // Previews are proxied (the page's CSP allows images only from our origin).
    let r = get(no_redirects().get(&format!("{base}/files/{small_id}/preview")));
    assert_ne!(r.status(), 302);

    // Deleting the file deletes its object.
    let r = ureq::delete(&format!("{}/{}/v4/files/{small_id}", srv.url, srv.org))
        .set("X-Filerobot-Key", &srv.key)
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(m.keys(&bucket).len(), 2);
}

#[test]
fn a_wrong_bucket_stops_the_start() {
    let m = moto();
    let tmp = tempfile::tempdir().unwrap();
    let out = binary::command()
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .args(flags("no-such-bucket-here", true))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("s3://no-such-bucket-here/blobs") && err.contains("cannot list the bucket"),
        "{err}"
    );
    assert!(!stdout(&out).contains("listening"), "{}", stdout(&out));

    // The same from the environment: SHAREBOX_BLOB_STORE, and the endpoint from
    // AWS_ENDPOINT_URL (path-style by default then).
    let env_run = |store: &str, args: &[&str]| {
        binary::command()
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .args(args)
            .env("SHAREBOX_BLOB_STORE", store)
            .env("AWS_ENDPOINT_URL", &m.endpoint)
            .output()
            .unwrap()
    };
    let out = env_run("s3://no-such-bucket-here", &["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("s3://no-such-bucket-here: cannot list"));
    let bucket = m.bucket();
    let out = env_run(
        &format!("s3://{bucket}"),
        &["blobs", "migrate", "--to", &format!("s3://{bucket}/x")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("copied 0 blobs"), "{}", stdout(&out));
}

/// A server whose store is a new bucket reached through a TCP proxy this test owns (to cut).
fn behind_a_proxy() -> (
    &'static binary::moto::Moto,
    String,
    Proxy,
    tempfile::TempDir,
    Server,
) {
    let m = moto();
    let bucket = m.bucket();
    let proxy = Proxy::start(m.endpoint.trim_start_matches("http://").to_string());
    let tmp = tempfile::tempdir().unwrap();
    let mut args = flags(&bucket, true);
    args[3] = format!("http://127.0.0.1:{}", proxy.port);
    let srv = start(&tmp.path().join("data"), &args);
    (m, bucket, proxy, tmp, srv)
}

fn expect_503((status, retry, body): (u16, Option<String>, String), srv: &Server) {
    assert_eq!(status, 503, "{body}\n{}", srv.stderr());
    assert_eq!(retry.as_deref(), Some("5"));
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["code"], "UNAVAILABLE", "{j}");
}

#[test]
fn a_store_that_goes_away_is_503_and_leaves_nothing() {
    let (m, bucket, proxy, _tmp, srv) = behind_a_proxy();
    upload(&srv, "first.txt", b"first");

    // Down before the upload reaches the store, then down in the middle of its parts.
    proxy.set_down(true);
    let health = ureq::get(&format!("{}/healthz", srv.url)).call();
    match health {
        Err(ureq::Error::Status(503, r)) => {
            assert_eq!(r.header("retry-after"), Some("5"));
            assert!(r
                .into_string()
                .unwrap()
                .contains("The blob store is not answering."));
        }
        other => panic!("healthz with the store down: {other:?}"),
    }
    let big = content(16 * 1024 * 1024, 2);
    expect_503(upload_res(&srv, "lost.txt", &big), &srv);
    proxy.set_down(false);
    proxy.sent_up.store(0, Ordering::SeqCst);
    proxy.cut_after.store(7 * 1024 * 1024, Ordering::SeqCst);
    expect_503(upload_res(&srv, "cut.txt", &big), &srv);
    assert!(
        proxy.down.load(Ordering::SeqCst),
        "the store went away mid-upload"
    );
    // Its abort could not reach the store either: the upload is still open there.
    assert_eq!(m.multipart_uploads(&bucket).len(), 1);
    proxy.cut_after.store(0, Ordering::SeqCst);
    let files = json(
        ureq::get(&format!("{}/{}/v4/files", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .call(),
        "list",
        &srv,
    );
    assert_eq!(files["total"], 1, "no half file in the library: {files}");

    // A Nomad chunked upload whose completion meets the store down stays open: once the
    // store is back, the same completion goes through.
    let chunked = content(300_000, 3);
    let started = json(
        ureq::post(&format!("{}/api/asset/upload/start", srv.url))
            .set("Authorization", &format!("ApiKey {}", srv.key))
            .set("Content-Type", "application/json")
            .send_string(
                &j!({"displayName": "chunked.bin", "contentLength": chunked.len(),
                     "chunkSize": 100_000})
                .to_string(),
            ),
        "start chunked upload",
        &srv,
    );
    for p in started["parts"].as_array().unwrap() {
        let (a, b) = (
            p["startingPosition"].as_u64().unwrap() as usize,
            p["endingPosition"].as_u64().unwrap() as usize,
        );
        let r = ureq::put(p["url"].as_str().unwrap())
            .send_bytes(&chunked[a..=b])
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let complete = format!(
        "{}/api/asset/upload/{}/complete",
        srv.url,
        started["id"].as_str().unwrap()
    );
    let auth = format!("ApiKey {}", srv.key);
    match ureq::post(&complete).set("Authorization", &auth).call() {
        Err(ureq::Error::Status(503, r)) => assert_eq!(r.header("retry-after"), Some("5")),
        other => panic!("completion with the store down: {other:?}"),
    }

    // Back: the next upload works, and the abandoned multipart upload is aborted first.
    proxy.set_down(false);
    let asset = json(
        ureq::post(&complete).set("Authorization", &auth).call(),
        "complete again",
        &srv,
    );
    assert_eq!(asset["contentLength"], chunked.len(), "{asset}");
    let api = format!(
        "{}/{}/v4/get/{}/download",
        srv.url,
        srv.org,
        asset["id"].as_str().unwrap()
    );
    let r = get(ureq::get(&api).set("X-Filerobot-Key", &srv.key));
    assert_eq!(body(r), chunked);
    assert_eq!(
        ureq::get(&format!("{}/healthz", srv.url))
            .call()
            .unwrap()
            .status(),
        200
    );
    upload(&srv, "second.txt", &big);
    assert_eq!(m.keys(&bucket).len(), 3);
    assert!(m.multipart_uploads(&bucket).is_empty());
}

#[test]
fn migrate_to_s3_and_back_while_a_client_downloads() {
    let m = moto();
    let bucket = m.bucket();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // An fs server that knows the endpoint (and so can read blobs that moved to the bucket).
    let endpoint = ["--s3-endpoint".to_string(), m.endpoint.clone()];
    let srv = start(&data, &endpoint);
    let files: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| {
            let bytes = content(1000 + i * 700_001, i as u64);
            (upload(&srv, &format!("f{i}.txt"), &bytes), bytes)
        })
        .collect();
    let ids: Vec<&str> = files.iter().map(|(id, _)| id.as_str()).collect();
    let (_, base) = share(&srv, &ids, j!({}));

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let client = {
        let (stop, done, files, base) = (stop.clone(), done.clone(), files.clone(), base.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                for (id, bytes) in &files {
                    // Follows the redirect when the blob is in the bucket.
                    let r = ureq::get(&format!("{base}/files/{id}")).call().unwrap();
                    assert_eq!(&body(r), bytes, "file {id}");
                    done.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let dir = data.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--s3-endpoint", &m.endpoint];
        all.extend_from_slice(args);
        let out = sharebox(std::path::Path::new(dir), &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let to = format!("s3://{bucket}/moved");
    let out = run(&["blobs", "migrate", "--to", &to]);
    assert!(out.contains("copied 6 blobs"), "{out}");
    assert_eq!(m.keys(&bucket).len(), 6);
    let out = run(&["verify"]);
    assert!(out.contains("0 missing, 0 corrupt"), "{out}");
    // A second server on this data dir that could not read the bucket the blobs are in now
    // does not start.
    let out = binary::command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir])
        .args(&endpoint)
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("{to}: set AWS_ACCESS_KEY_ID")),
        "{}",
        stderr(&out)
    );
    // Resumable: a second run finds nothing left to copy.
    let out = run(&[
        "blobs",
        "migrate",
        "--to",
        &to,
        "--delete-source",
        "--grace-secs",
        "1",
    ]);
    assert!(
        out.contains("copied 0 blobs") && out.contains("6 source copies deleted"),
        "{out}"
    );
    assert!(std::fs::read_dir(data.join("blobs"))
        .unwrap()
        .next()
        .is_none());
    std::thread::sleep(Duration::from_millis(500));

    let out = run(&[
        "blobs",
        "migrate",
        "--to",
        "fs",
        "--delete-source",
        "--grace-secs",
        "1",
    ]);
    assert!(
        out.contains("copied 6 blobs") && out.contains("6 source copies deleted"),
        "{out}"
    );
    assert!(m.keys(&bucket).is_empty());
    let out = run(&["verify"]);
    assert!(
        out.contains("checked 6 blobs") && out.contains("0 missing, 0 corrupt"),
        "{out}"
    );
    std::thread::sleep(Duration::from_millis(500));

    stop.store(true, Ordering::SeqCst);
    client.join().expect("every download byte-exact");
    assert!(
        done.load(Ordering::SeqCst) >= 6,
        "the client downloaded throughout"
    );
}

#[test]
fn backup_keeps_s3_blobs_in_their_bucket_and_verify_rehashes_them_there() {
    let m = moto();
    let bucket = m.bucket();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let srv = start(&data, &flags(&bucket, true));
    let a = content(6 * 1024 * 1024, 7);
    upload(&srv, "a.bin", &a);
    upload(&srv, "b.bin", b"bee");
    let s3 = ["--s3-endpoint", m.endpoint.as_str()];

    let dest = tmp.path().join("backup");
    let out = sharebox(&data, &["backup", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(dest.join("blobs"))
            .unwrap()
            .next()
            .is_none(),
        "no object is copied into a backup"
    );
    let out = sharebox(&dest, &[&s3[..], &["verify"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("checked 2 blobs") && stdout(&out).contains("0 missing, 0 corrupt"),
        "{}",
        stdout(&out)
    );

    // An object changed in the bucket behind our back, and one gone: named, non-zero exit.
    let keys = m.keys(&bucket);
    let (changed, gone) = (&keys[0], &keys[1]);
    m.overwrite(&bucket, changed, "not the same");
    m.delete(&bucket, gone);
    m.overwrite(&bucket, "blobs/0123abcd", "no row names me");
    let out = sharebox(&data, &[&s3[..], &["verify"]].concat());
    assert!(!out.status.success());
    let err = stderr(&out);
    let id = |k: &str| k.rsplit('/').next().unwrap().to_string();
    assert!(
        err.contains(&format!("CORRUPT blob {}", id(changed))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "MISSING blob {}: s3://{bucket}/blobs/{} is not there",
            id(gone),
            id(gone)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "orphan s3://{bucket}/blobs/0123abcd: no database row"
        )),
        "{err}"
    );
}

/// A tus upload whose last PATCH meets the store down gets 503 and keeps its bytes; once the
/// store is back, the client asks where it stands and sends the rest (or an empty PATCH), and
/// the file lands whole.
#[test]
fn a_tus_upload_whose_completion_meets_the_store_down_finishes_once_it_is_back() {
    let (m, bucket, proxy, _tmp, srv) = behind_a_proxy();
    let bytes = content(3 * 1024 * 1024, 9);
    let call = |method: &str, path: &str| {
        binary::agent()
            .request(method, &format!("{}{path}", srv.url))
            .set("X-Filerobot-Key", &srv.key)
            .set("Tus-Resumable", "1.0.0")
    };
    let answer = |res: Result<ureq::Response, ureq::Error>| match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("tus: {e}\n{}", srv.stderr()),
    };
    let created = answer(
        call("POST", "/tus/")
            .set("Upload-Length", &bytes.len().to_string())
            .set("Upload-Metadata", "filename YWdhaW4uYmlu")
            .call(),
    );
    assert_eq!(created.status(), 201);
    let at = created.header("location").unwrap().to_string();
    let path = &at[at.find("/tus/").unwrap()..];

    proxy.set_down(true);
    let cut = answer(
        call("PATCH", path)
            .set("Upload-Offset", "0")
            .set("Content-Type", "application/offset+octet-stream")
            .send_bytes(&bytes),
    );
    assert_eq!(cut.status(), 503, "{}", srv.stderr());
    proxy.set_down(false);

    let head = answer(call("HEAD", path).call());
    assert_eq!(head.status(), 200, "the upload is still there");
    let offset: usize = head.header("upload-offset").unwrap().parse().unwrap();
    assert!(offset <= bytes.len());
    let done = answer(
        call("PATCH", path)
            .set("Upload-Offset", &offset.to_string())
            .set("Content-Type", "application/offset+octet-stream")
            .send_bytes(&bytes[offset..]),
    );
    assert_eq!(done.status(), 204, "{}", srv.stderr());
    let uuid = done.header("sharebox-file-uuid").unwrap().to_string();
    let got = answer(
        binary::agent()
            .get(&format!("{}/{}/v4/get/{uuid}/download", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .call(),
    );
    assert_eq!(got.status(), 200);
    let mut back = Vec::new();
    got.into_reader().read_to_end(&mut back).unwrap();
    assert!(back == bytes, "the file landed whole");
    assert_eq!(m.keys(&bucket).len(), 1, "one object in the bucket");
}
