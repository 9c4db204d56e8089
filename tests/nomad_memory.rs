//! Issue 6 acceptance: a 256 MiB chunked upload (Nomad's `/api/asset/upload/...`) into the real
//! binary, parts PUT four at a time, keeps the server's peak RSS (VmHWM) under 64 MiB: parts
//! stream to their offset in one tmp/ file and completion hashes that file in pieces.
//!
//! The test never holds the file either: each part's bytes come from a position-seeded
//! generator as they are sent; the whole file's SHA-256 is computed by generating it once more.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;

use binary::{agent, answer, json, Server};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::time::Instant;

const MIB: u64 = 1024 * 1024;
const FILE_SIZE: u64 = 256 * MIB;
const RSS_LIMIT: u64 = 64 * MIB;
const PARALLEL: usize = 4;

/// The file's byte at `pos`, from the 8-byte word it sits in (splitmix64 of the word index).
fn word(index: u64) -> [u8; 8] {
    let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)).to_le_bytes()
}

/// Bytes `pos..end` of the file, generated as they are read.
struct Range {
    pos: u64,
    end: u64,
}

impl Read for Range {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.pos) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let p = self.pos + i as u64;
            *b = word(p / 8)[(p % 8) as usize];
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn whole_sha256() -> String {
    let mut sha = Sha256::new();
    let mut r = Range {
        pos: 0,
        end: FILE_SIZE,
    };
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = r.read(&mut buf).expect("generate");
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    hex::encode(sha.finalize())
}

#[test]
fn chunked_upload_of_256_mib_with_flat_server_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut srv = Server::start(&data, &[]);
    // First start hashes the admin password with argon2: that peak is startup's, and counts.
    let start_hwm = srv.proc_status_bytes("VmHWM");
    let reset = srv.reset_peak_rss();
    let agent = agent();
    let auth = format!("ApiKey {}", srv.key);
    let t0 = Instant::now();
    let start = json(
        agent
            .post(&format!("{}/api/asset/upload/start", srv.url))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(
                &serde_json::json!({"displayName": "big.bin", "contentLength": FILE_SIZE})
                    .to_string(),
            ),
        "start",
        &srv,
    );
    let parts: Vec<(String, u64, u64)> = start["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| {
            (
                p["url"].as_str().expect("url").to_string(),
                p["startingPosition"].as_u64().expect("start"),
                p["endingPosition"].as_u64().expect("end"),
            )
        })
        .collect();
    assert_eq!(parts.len(), 32, "8 MiB parts by default");
    // Four at a time, last parts first.
    let queue = std::sync::Mutex::new(parts.into_iter().rev().collect::<Vec<_>>());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let Some((url, a, b)) = queue.lock().unwrap().pop() else {
                    break;
                };
                let len = b - a + 1;
                let answer = json(
                    agent
                        .put(&url)
                        .set("Content-Length", &len.to_string())
                        .send(Range { pos: a, end: b + 1 }),
                    "part PUT",
                    &srv,
                );
                assert_eq!(answer["etag"].as_str().map(str::len), Some(64), "{answer}");
            });
        }
    });
    let asset = json(
        agent
            .post(&format!(
                "{}/api/asset/upload/{}/complete",
                srv.url,
                start["id"].as_str().unwrap()
            ))
            .set("Authorization", &auth)
            .call(),
        "complete",
        &srv,
    );
    let took = t0.elapsed();
    assert_eq!(asset["id"], start["assetId"]);
    assert_eq!(asset["contentLength"], FILE_SIZE);
    srv.assert_alive();
    let transfer_hwm = srv.proc_status_bytes("VmHWM");
    let rss = srv.proc_status_bytes("VmRSS");
    let hwm = start_hwm.max(transfer_hwm);
    let mib = |b: u64| b as f64 / MIB as f64;
    println!(
        "server VmHWM {:.1} MiB (startup {:.1} MiB; upload {} {:.1} MiB; VmRSS now {:.1} MiB); \
         256 MiB in 32 parts, {PARALLEL} at a time, in {:.1}s",
        mib(hwm),
        mib(start_hwm),
        if reset { "since reset" } else { "(no reset)" },
        mib(transfer_hwm),
        mib(rss),
        took.as_secs_f64()
    );
    assert!(
        hwm < RSS_LIMIT,
        "server peak RSS {hwm} bytes ({:.1} MiB) is not under 64 MiB",
        mib(hwm)
    );

    // The bytes are the ones sent; tmp/ is empty, blobs/ holds the one file.
    let detail = json(
        agent
            .get(&format!(
                "{}/api/asset/{}/detail",
                srv.url,
                asset["id"].as_str().unwrap()
            ))
            .set("Authorization", &auth)
            .call(),
        "detail",
        &srv,
    );
    assert_eq!(detail["properties"]["sha256"], whole_sha256());
    let tmp: Vec<_> = std::fs::read_dir(data.join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "tmp/ holds {} entries", tmp.len());
    let blobs: Vec<u64> = std::fs::read_dir(data.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .collect();
    assert_eq!(blobs, vec![FILE_SIZE]);
}

/// A part sent without Content-Length (chunked transfer coding) is measured as it streams: too
/// long or too short is a 400, and bytes it overwrote leave the part missing until a good PUT.
#[test]
fn parts_without_content_length_are_checked_as_they_stream() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data"), &[]);
    let auth = format!("ApiKey {}", srv.key);
    let (status, start) = answer(
        ureq::post(&format!("{}/api/asset/upload/start", srv.url))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(r#"{"displayName": "c.txt", "contentLength": 10, "chunkSize": 4}"#),
    );
    assert_eq!(status, 200, "{start}");
    let url = start["parts"][0]["url"].as_str().unwrap().to_string();
    // `send` with a reader and no length: chunked.
    let put = |bytes: &'static [u8]| answer(ureq::put(&url).send(bytes));
    let (status, j) = put(b"abcd");
    assert_eq!(status, 200, "{j}");
    for (bytes, got) in [(&b"abcdefgh"[..], "more"), (b"ab", "2")] {
        let (status, j) = put(bytes);
        assert_eq!(status, 400, "{j}");
        assert_eq!(j["code"], "INVALID_FIELD");
        assert_eq!(
            j["errors"]["body"][0],
            format!("part 1 needs exactly 4 bytes (positions 0-3), got {got}")
        );
    }
    let complete = format!(
        "{}/api/asset/upload/{}/complete",
        srv.url,
        start["id"].as_str().unwrap()
    );
    let (status, j) = answer(ureq::post(&complete).set("Authorization", &auth).call());
    assert_eq!(status, 409, "{j}");
    assert_eq!(
        j["detail"],
        "3 of 3 parts are missing: 1-3. PUT their bytes, then complete again."
    );
}
