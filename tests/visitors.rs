//! Issue 15: what download managers, link checkers and visitors get. Content-Disposition's
//! ASCII fallback, through the real app.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};

/// A share of these files (READ+DOWNLOAD unless `extra` says otherwise); returns its JSON.
async fn share_of(app: &TestApp, files: &[&Value], extra: Value) -> Value {
    let mut body = json!({"title": "Visitors", "items": [{"type": "file_uuid",
        "identifiers": files.iter().map(|f| f["uuid"].clone()).collect::<Vec<_>>()}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    create_share(app, &body).await
}

/// The share's path (`/s/{puid}/{slug}`).
fn base_of(share: &Value) -> String {
    share["share_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string()
}

fn uuid(v: &Value) -> &str {
    v["uuid"].as_str().unwrap()
}

/// Renames a file through `PATCH /v4/files/{uuid}` (a name an upload's filename cannot carry).
async fn rename(app: &TestApp, file: &Value, name: &str) {
    let r = app
        .call(json_body(
            app.fr("PATCH", &format!("/v4/files/{}", uuid(file))),
            &json!({ "name": name }),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn content_disposition_has_an_ascii_fallback_first() {
    let app = TestApp::new().await;
    let bin = app.upload_one("/", "a.bin", b"bytes").await;
    let png = app.upload_one("/", "b.png", b"\x89PNG\r\n\x1a\n").await;
    rename(&app, &bin, "Ünïcode \"quoted\" back\\slash; 日本.bin").await;
    rename(&app, &png, "çà \"q\".png").await;
    let share = share_of(&app, &[&bin, &png], json!({"title": "Spring pack"})).await;
    let base = base_of(&share);

    let bin_header = "attachment; filename=\"_n_code \\\"quoted\\\" back\\\\slash; __.bin\"; \
        filename*=UTF-8''%C3%9Cn%C3%AFcode%20%22quoted%22%20back%5Cslash%3B%20%E6%97%A5%E6%9C%AC.bin";
    for (what, r) in [
        (
            "v4 download",
            app.call(app.fr("GET", &format!("/v4/get/{}/download", uuid(&bin))))
                .await,
        ),
        (
            "public file",
            app.call(request("GET", &format!("{base}/files/{}", uuid(&bin))))
                .await,
        ),
    ] {
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(r.header("content-disposition"), Some(bin_header), "{what}");
    }
    let r = app
        .call(request(
            "GET",
            &format!("{base}/files/{}/preview", uuid(&png)),
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("inline; filename=\"__ \\\"q\\\".png\"; filename*=UTF-8''%C3%A7%C3%A0%20%22q%22.png")
    );
    let r = app.call(request("GET", &format!("{base}/zip"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"spring-pack.zip\"; filename*=UTF-8''spring-pack.zip")
    );
}
