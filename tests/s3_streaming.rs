//! Issue 21, "every upload path streams to S3": against a real S3 server (moto) and the real
//! binary, an upload still in flight already has its parts in the bucket, and the local disk
//! holds a few parts of it at most (measured in allocated blocks), whatever its size.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;

use binary::moto::moto;
use binary::Server;
use sha2::Digest;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

fn content(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((i * 2654435761 + seed * 97) >> 7) as u8)
        .collect()
}

/// A new bucket, a data dir in a temporary directory, and the flags that put blobs there.
fn on_a_new_bucket() -> (
    &'static binary::moto::Moto,
    String,
    tempfile::TempDir,
    std::path::PathBuf,
    Vec<String>,
) {
    let m = moto();
    let bucket = m.bucket();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let args = m.flags(&bucket, true);
    (m, bucket, tmp, data, args)
}

/// Bytes the files under `dir` take on disk (allocated blocks: punched holes take none).
fn allocated(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_file() {
                    total += m.blocks() * 512;
                }
            }
        }
    }
    total
}

/// Waits until `check` holds (the server works on what it was sent), or fails with `what`.
fn eventually(what: &str, srv: &Server, mut check: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !check() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{what}\n{}",
            srv.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads an HTTP/1.1 answer with a Content-Length: (status, body).
fn read_answer(stream: &mut std::net::TcpStream) -> (u16, Vec<u8>) {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut len = 0;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, body)
}

#[test]
fn a_v4_upload_is_in_the_bucket_while_it_arrives_and_never_whole_on_disk() {
    let (m, bucket, _tmp, data, args) = on_a_new_bucket();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = Server::start(&data, &args);

    let bytes = content(48 * MIB, 4);
    let boundary = "----streamTest";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let len = head.len() + bytes.len() + tail.len();
    let addr = srv.url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /{}/v4/upload?folder=/ HTTP/1.1\r\nHost: {addr}\r\nX-Filerobot-Key: {}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len}\r\n\r\n{head}",
        srv.org, srv.key
    )
    .unwrap();

    // The first 30 MiB, then a pause: the upload is open in the bucket with parts in it.
    let tmp_dir = data.join("tmp");
    let mut peak = 0;
    for chunk in bytes[..30 * MIB].chunks(MIB) {
        s.write_all(chunk).unwrap();
        peak = peak.max(allocated(&tmp_dir));
    }
    eventually("a multipart upload in the bucket", &srv, || {
        m.multipart_uploads(&bucket).len() == 1
    });
    eventually("the parts sent leave the disk", &srv, || {
        allocated(&tmp_dir) <= 6 * MIB as u64
    });
    assert!(m.keys(&bucket).is_empty(), "no object before the end");
    for chunk in bytes[30 * MIB..].chunks(MIB) {
        s.write_all(chunk).unwrap();
        peak = peak.max(allocated(&tmp_dir));
    }
    s.write_all(tail.as_bytes()).unwrap();
    let (status, body) = read_answer(&mut s);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();

    // At most the part filling and the parts in flight were ever on disk, not 48 MiB.
    assert!(
        peak <= 20 * MIB as u64,
        "tmp/ held {peak} bytes at its peak"
    );
    assert_eq!(allocated(&tmp_dir), 0, "the spool is gone");
    assert!(m.multipart_uploads(&bucket).is_empty());
    assert_eq!(m.keys(&bucket).len(), 1);
    assert_library_file(&srv, answer["file"]["uuid"].as_str().unwrap(), &bytes);
}

/// The library file `uuid` has the SHA-256 of `bytes`, and downloads as exactly `bytes`.
fn assert_library_file(srv: &Server, uuid: &str, bytes: &[u8]) {
    let f = binary::json(
        binary::agent()
            .get(&format!("{}/{}/v4/files/{uuid}", srv.url, srv.org))
            .set("X-Filerobot-Key", &srv.key)
            .call(),
        "file",
        srv,
    );
    assert_eq!(
        f["file"]["hash"]["sha256"],
        hex::encode(sha2::Sha256::digest(bytes)),
        "{f}"
    );
    let got = binary::agent()
        .get(&format!("{}/{}/v4/get/{uuid}/download", srv.url, srv.org))
        .set("X-Filerobot-Key", &srv.key)
        .call()
        .unwrap();
    let mut back = Vec::new();
    got.into_reader().read_to_end(&mut back).unwrap();
    assert!(back == bytes, "the object is the upload, byte for byte");
}

/// A tus request to `srv`: (status, Upload-Offset, Sharebox-File-Uuid).
fn tus(
    srv: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Option<u64>, Option<String>) {
    let mut req = binary::agent()
        .request(method, &format!("{}{path}", srv.url))
        .set("X-Filerobot-Key", &srv.key)
        .set("Tus-Resumable", "1.0.0");
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = if body.is_empty() {
        req.call()
    } else {
        req.set("Content-Type", "application/offset+octet-stream")
            .send_bytes(body)
    };
    let r = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("tus {method}: {e}\n{}", srv.stderr()),
    };
    let offset = r.header("upload-offset").and_then(|v| v.parse().ok());
    let file = r.header("sharebox-file-uuid").map(str::to_string);
    (r.status(), offset, file)
}

/// A new tus upload of `len` bytes; its path.
fn tus_create(srv: &Server, len: usize) -> String {
    let r = binary::agent()
        .post(&format!("{}/tus/", srv.url))
        .set("X-Filerobot-Key", &srv.key)
        .set("Tus-Resumable", "1.0.0")
        .set("Upload-Length", &len.to_string())
        .set("Upload-Metadata", "filename cGFydHMuYmlu")
        .call()
        .unwrap();
    assert_eq!(r.status(), 201);
    let at = r.header("location").unwrap();
    at[at.find("/tus/").unwrap()..].to_string()
}

/// PATCHes `bytes[from..to]` in 5 MiB chunks; the offset after the last.
fn tus_send(
    srv: &Server,
    path: &str,
    bytes: &[u8],
    from: usize,
    to: usize,
) -> (u64, Option<String>) {
    let mut at = from;
    let mut file = None;
    while at < to {
        let end = (at + 5 * MIB).min(to);
        let (status, offset, f) = tus(
            srv,
            "PATCH",
            path,
            &[("Upload-Offset", at.to_string())],
            &bytes[at..end],
        );
        assert_eq!(status, 204, "PATCH at {at}\n{}", srv.stderr());
        assert_eq!(offset, Some(end as u64));
        at = end;
        file = f.or(file);
    }
    (at as u64, file)
}

#[test]
fn a_tus_upload_goes_up_part_by_part_survives_a_kill_and_a_terminated_one_is_aborted() {
    let (m, bucket, _tmp, data, args) = on_a_new_bucket();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = Server::start(&data, &args);
    let uploads = data.join("uploads");

    // 20 MiB of 40 MiB + 123 bytes: the parts kept are in the bucket and gone from the disk.
    let bytes = content(40 * MIB + 123, 5);
    let path = tus_create(&srv, bytes.len());
    tus_send(&srv, &path, &bytes, 0, 20 * MIB);
    eventually("a multipart upload in the bucket", &srv, || {
        m.multipart_uploads(&bucket).len() == 1
    });
    eventually("the parts sent leave the disk", &srv, || {
        allocated(&uploads) <= 5 * MIB as u64
    });
    assert!(m.keys(&bucket).is_empty(), "no object before the end");

    // kill -9, and a restart: the offset holds what was sent, and the rest completes the
    // upload with the right SHA-256, though the bytes sent are no longer on disk to hash.
    let pid = srv.pid().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap()
        .success());
    let (key, org) = (srv.key.clone(), srv.org.clone());
    drop(srv);
    let mut srv = Server::restart(&data, &args);
    srv.key = key;
    srv.org = org;
    let (status, offset, _) = tus(&srv, "HEAD", &path, &[], b"");
    assert_eq!(status, 200);
    let offset = offset.unwrap() as usize;
    assert!(
        (15 * MIB..=20 * MIB).contains(&offset),
        "HEAD after the restart: {offset}"
    );
    let (end, file) = tus_send(&srv, &path, &bytes, offset, bytes.len());
    assert_eq!(end as usize, bytes.len());
    let uuid = file.expect("the last PATCH names the file");
    assert_library_file(&srv, &uuid, &bytes);
    assert_eq!(allocated(&uploads), 0, "nothing left under uploads/");
    assert!(m.multipart_uploads(&bucket).is_empty());
    assert_eq!(m.keys(&bucket).len(), 1);

    // A terminated upload aborts its multipart upload: nothing stays billed.
    let path = tus_create(&srv, 30 * MIB);
    tus_send(&srv, &path, &bytes, 0, 15 * MIB);
    eventually("the second upload's parts in the bucket", &srv, || {
        m.multipart_uploads(&bucket).len() == 1
    });
    let (status, _, _) = tus(&srv, "DELETE", &path, &[], b"");
    assert_eq!(status, 204);
    assert!(m.multipart_uploads(&bucket).is_empty(), "aborted");
    assert_eq!(allocated(&uploads), 0);
    assert_eq!(m.keys(&bucket).len(), 1);
}

#[test]
fn one_long_tus_patch_goes_up_while_it_arrives_and_a_cut_resumes_past_what_was_sent() {
    let (m, bucket, _tmp, data, args) = on_a_new_bucket();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = Server::start(&data, &args);
    let uploads = data.join("uploads");
    let bytes = content(48 * MIB + 7, 6);
    let path = tus_create(&srv, bytes.len());

    // One PATCH for everything, sent by hand: 30 MiB, a pause, then the connection drops.
    let addr = srv.url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nX-Filerobot-Key: {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        srv.key,
        bytes.len()
    )
    .unwrap();
    let mut peak = 0;
    for chunk in bytes[..30 * MIB].chunks(MIB) {
        s.write_all(chunk).unwrap();
        peak = peak.max(allocated(&uploads));
    }
    eventually("parts of the PATCH in the bucket", &srv, || {
        m.multipart_uploads(&bucket).len() == 1
    });
    eventually("the parts sent leave the disk", &srv, || {
        allocated(&uploads) <= 10 * MIB as u64
    });
    assert!(
        peak <= 20 * MIB as u64,
        "uploads/ held {peak} bytes at its peak"
    );
    drop(s);

    // HEAD: at least what went to the bucket; the rest from there completes the upload.
    let mut offset = None;
    eventually("HEAD answers once the cut PATCH is done", &srv, || {
        let (status, at, _) = tus(&srv, "HEAD", &path, &[], b"");
        offset = at;
        status == 200 && at.is_some_and(|a| a >= 25 * MIB as u64)
    });
    let offset = offset.unwrap() as usize;
    let (status, end, file) = tus(
        &srv,
        "PATCH",
        &path,
        &[("Upload-Offset", offset.to_string())],
        &bytes[offset..],
    );
    assert_eq!(status, 204, "{}", srv.stderr());
    assert_eq!(end, Some(bytes.len() as u64));
    let uuid = file.expect("the last PATCH names the file");
    assert_library_file(&srv, &uuid, &bytes);
    assert!(m.multipart_uploads(&bucket).is_empty());
    assert_eq!(allocated(&uploads), 0);
}
