//! The tus dialect over `common`: creating an upload, its PATCH and HEAD requests, in-process.
//!
//! Include with `#[path = "support/tus.rs"] mod tus;` beside `common` (every shared module is
//! included this way; see support/common.rs).
#![allow(dead_code)]

use crate::common::*;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn meta(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", B64.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn tus(app: &TestApp, method: &str, path: &str) -> actix_web::test::TestRequest {
    request(method, path)
        .insert_header(("Tus-Resumable", "1.0.0"))
        .insert_header(("X-Filerobot-Key", app.key.clone()))
}

/// `POST /tus/` for `len` bytes named `name`; returns the upload's path (`/tus/<id>`).
pub async fn create(app: &TestApp, len: u64, metadata: &str) -> String {
    let r = app
        .call(
            tus(app, "POST", "/tus/")
                .insert_header(("Upload-Length", len.to_string()))
                .insert_header(("Upload-Metadata", metadata.to_string())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    assert!(r.header("upload-expires").is_some());
    let location = r.header("location").unwrap();
    let path = location
        .strip_prefix("http://sharebox.test")
        .unwrap_or_else(|| panic!("Location {location}"));
    assert!(path.starts_with("/tus/"), "{path}");
    path.to_string()
}

pub fn patch_req(
    app: &TestApp,
    path: &str,
    offset: u64,
    bytes: &[u8],
) -> actix_web::test::TestRequest {
    tus(app, "PATCH", path)
        .insert_header(("Content-Type", "application/offset+octet-stream"))
        .insert_header(("Upload-Offset", offset.to_string()))
        .set_payload(bytes.to_vec())
}

pub fn sha256_b64(bytes: &[u8]) -> String {
    B64.encode(Sha256::digest(bytes))
}

pub async fn offset_of(app: &TestApp, path: &str) -> u64 {
    let r = app.call(tus(app, "HEAD", path)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.header("upload-offset").unwrap().parse().unwrap()
}

pub fn upload_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    TestApp::files_under(&app.data_dir().join("uploads"))
}

pub fn body(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

/// The library file an upload's last answer names (`Sharebox-File-Uuid`), as v4 shows it.
pub async fn landed(app: &TestApp, r: &Resp) -> serde_json::Value {
    let uuid = r
        .header("sharebox-file-uuid")
        .unwrap_or_else(|| panic!("no Sharebox-File-Uuid: {} {}", r.status, r.text()));
    let f = app.call(app.fr("GET", &format!("/v4/files/{uuid}"))).await;
    assert_eq!(f.status, 200, "{}", f.text());
    f.json()["file"].clone()
}
