//! Helpers for the Nomad dialect's tests (`/api/...`), over the harness in `common`.
//!
//! Include with `#[path = "support/common.rs"] mod common;` and
//! `#[path = "support/nomad.rs"] mod nomad;` (every shared module is included this way; see
//! support/common.rs).
#![allow(dead_code)]

use crate::common::*;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

pub const BASE: &str = "http://sharebox.test";

/// A `/api` request with the org's key as `Authorization: ApiKey`.
pub fn api(app: &TestApp, method: &str, path: &str) -> TestRequest {
    request(method, path).insert_header(("Authorization", format!("ApiKey {}", app.key)))
}

/// A `/api` request with a JSON body.
pub async fn call_json(app: &TestApp, method: &str, path: &str, body: &Value) -> Resp {
    app.call(json_body(api(app, method, path), body)).await
}

/// A `/api` request that must answer 200 with JSON; returns the JSON.
pub async fn ok_json(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> Value {
    let req = api(app, method, path);
    let r = match body {
        Some(b) => app.call(json_body(req, b)).await,
        None => app.call(req).await,
    };
    assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
    assert_eq!(r.content_type(), "application/json", "{method} {path}");
    r.json()
}

/// The path and query of an absolute URL the server handed out.
pub fn local(url: &str) -> String {
    url.strip_prefix(BASE)
        .unwrap_or_else(|| panic!("{url} does not start with {BASE}"))
        .to_string()
}

/// The path of a part URL without its query (a problem's `instance`).
pub fn part_path(url: &str) -> String {
    local(url).split('?').next().unwrap_or_default().to_string()
}

/// `POST /api/asset/upload/start`, 200; returns the answer.
pub async fn start_upload(app: &TestApp, body: &Value) -> Value {
    ok_json(app, "POST", "/api/asset/upload/start", Some(body)).await
}

/// PUTs bytes to a part URL (no credential, no content type), as the SDK does.
pub async fn put_part(app: &TestApp, url: &str, bytes: &[u8]) -> Resp {
    app.call(request("PUT", &local(url)).set_payload(bytes.to_vec()))
        .await
}

/// A whole chunked upload: start, every part, complete. Returns the asset model.
pub async fn upload_chunked(
    app: &TestApp,
    name: &str,
    parent: Option<&str>,
    bytes: &[u8],
    chunk: i64,
) -> Value {
    let s = start_upload(
        app,
        &json!({"displayName": name, "contentLength": bytes.len(), "chunkSize": chunk, "parentId": parent}),
    )
    .await;
    for p in s["parts"].as_array().unwrap() {
        let (a, b) = (
            p["startingPosition"].as_u64().unwrap() as usize,
            p["endingPosition"].as_u64().unwrap() as usize,
        );
        let r = put_part(app, p["url"].as_str().unwrap(), &bytes[a..=b]).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    ok_json(
        app,
        "POST",
        &format!("/api/asset/upload/{}/complete", s["id"].as_str().unwrap()),
        None,
    )
    .await
}

/// The share's queued mails as (email, kind), oldest first.
pub fn outbox(app: &TestApp, share_uuid: &str) -> Vec<(String, String)> {
    share_outbox(app, share_uuid)
        .into_iter()
        .map(|o| (o.email, o.kind))
        .collect()
}

/// Files under `<data>/<dir>` (`blobs`, `tmp`).
pub fn files_in(app: &TestApp, dir: &str) -> Vec<std::path::PathBuf> {
    TestApp::files_under(&app.data_dir().join(dir))
}

/// A user of `ORG` (not an admin); returns its uuid.
pub async fn add_user(app: &TestApp, email: &str) -> String {
    let db = app.state.db.clone();
    let now = app.clock.now();
    let email = email.to_string();
    let made = actix_web::web::block(move || {
        sharebox::domain::auth::create_user(
            &db,
            ORG,
            &sharebox::domain::types::Email::parse("e", &email).unwrap(),
            &sharebox::domain::types::NewPassword::parse("p", "a long password").unwrap(),
            false,
            now,
        )
    })
    .await
    .unwrap()
    .unwrap();
    made.uuid
}
