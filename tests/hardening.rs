//! Issue 15: dates fail closed, error answers about a protected share are private and carry the
//! page's headers, slugs of non-Latin titles, and a `/healthz` that checks what it depends on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::{
    assert_fr_error, assert_problem, create_share, json_body, library, request, share_count,
    TestApp,
};
use serde_json::json;

/// A blank date or zone is refused, naming the field; only null or absent means none.
#[tokio::test]
async fn blank_dates_and_zones_are_refused_not_taken_as_none() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let items = json!([{"type": "file_uuid", "identifiers": [lib.file1]}]);
    for field in ["starts_at", "expires_at", "starts_tz", "expires_tz"] {
        for blank in ["", "   "] {
            let body = json!({"title": "t", "items": items, field: blank});
            let r = app
                .call(json_body(app.fr("POST", "/v5/shares"), &body))
                .await;
            let e = assert_fr_error(&r, 400, "INVALID_FIELD");
            assert!(
                e["msg"].as_str().unwrap().starts_with(&format!("{field}:")),
                "{field}={blank:?}: {e}"
            );
        }
    }
    assert_eq!(share_count(&app).await, 0);

    // Null still means none, on create and update.
    let share = create_share(
        &app,
        &json!({"title": "t", "items": items, "expires_at": null, "starts_tz": null}),
    )
    .await;
    assert_eq!(share["expires_at"], json!(null));
    let uuid = share["uuid"].as_str().unwrap();
    let r = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/shares/{uuid}")),
            &json!({"expires_at": ""}),
        ))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    let r = app.call(app.fr("GET", &format!("/v5/shares/{uuid}"))).await;
    assert_eq!(r.json()["share"]["expires_at"], json!(null));

    // Nomad's date field.
    let r = app
        .call(json_body(
            request("POST", "/api/share")
                .insert_header(("Authorization", format!("ApiKey {}", app.key))),
            &json!({"assetId": lib.file1, "expirationDate": " "}),
        ))
        .await;
    let p = assert_problem(&r, 400, "INVALID_FIELD", "/api/share");
    assert!(p["errors"]["expirationDate"].is_array(), "{p}");
    assert_eq!(share_count(&app).await, 1);
}

/// Every answer about a password-protected share is `private, no-store`, errors included, and
/// every public error page has the page's security headers.
#[tokio::test]
async fn errors_about_a_protected_share_are_private_and_have_page_headers() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let share = create_share(
        &app,
        &json!({
            "title": "Locked",
            "items": [{"type": "file_uuid", "identifiers": [lib.file1]}],
            "auth": {"pass": "open sesame"},
        }),
    )
    .await;
    let puid = share["puid"].as_str().unwrap();
    let base = format!("/s/{puid}/locked");
    let cases = [
        (format!("{base}/files/{}", lib.file1), 401),
        (format!("{base}/files/{}/preview", lib.file1), 401),
        (format!("{base}/zip"), 401),
        (
            format!("/s/{}x/locked/files/{}", &puid[1..], lib.file1),
            404,
        ),
    ];
    for (path, status) in cases {
        let r = app.call(request("GET", &path)).await;
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert_eq!(
            r.header("cache-control"),
            Some("private, no-store"),
            "{path}"
        );
        for h in [
            "content-security-policy",
            "x-frame-options",
            "referrer-policy",
            "x-content-type-options",
        ] {
            assert!(r.header(h).is_some(), "{path}: no {h}");
        }
    }
    let r = app
        .call(request("GET", &format!("/{}/v4/share/{puid}", common::ORG)))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
}

/// Titles in other scripts are transliterated; the old slug still leads to the share.
#[tokio::test]
async fn slugs_of_non_latin_titles() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let share = create_share(
        &app,
        &json!({"title": "Отчёт", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]}),
    )
    .await;
    let uri = share["share_uri"].as_str().unwrap();
    assert!(uri.ends_with("/otchiot"), "{uri}");
    let puid = share["puid"].as_str().unwrap();
    // The slug this title had before: `share`.
    let r = app.call(request("GET", &format!("/s/{puid}/share"))).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some(&*format!("/s/{puid}/otchiot")));
}

/// `/healthz` reads the database and writes to the data dir; either failing is a 503 saying which.
#[tokio::test]
async fn healthz_checks_the_database_and_the_data_dir() {
    let app = TestApp::new().await;
    let r = app.call(request("GET", "/healthz")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));

    // The data dir: tmp/ is where the probe goes; a file in its place cannot be written into.
    let tmp = app.data_dir().join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"not a folder").unwrap();
    let r = app.call(request("GET", "/healthz")).await;
    let e = assert_fr_error(&r, 503, "UNAVAILABLE");
    assert!(e["msg"].as_str().unwrap().contains("data dir"), "{e}");
    std::fs::remove_file(&tmp).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    assert_eq!(app.call(request("GET", "/healthz")).await.status, 200);

    // The database: a table it reads is gone.
    app.state
        .db
        .write_sync(|tx| Ok(tx.execute_batch("ALTER TABLE orgs RENAME TO orgs_away")?))
        .unwrap();
    let r = app.call(request("GET", "/healthz")).await;
    let e = assert_fr_error(&r, 503, "UNAVAILABLE");
    assert!(e["msg"].as_str().unwrap().contains("database"), "{e}");
    app.state
        .db
        .write_sync(|tx| Ok(tx.execute_batch("ALTER TABLE orgs_away RENAME TO orgs")?))
        .unwrap();
    assert_eq!(app.call(request("GET", "/healthz")).await.status, 200);
}

/// The public share page writes sizes as the owner UI does: a KiB is written KiB.
#[tokio::test]
async fn public_pages_write_kib_not_kb() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "half.bin", &[7u8; 1536]).await;
    assert_eq!(f["size"]["pretty"], "1.50 KB", "the API keeps its contract");
    let share = create_share(
        &app,
        &json!({"title": "Sizes", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}]}),
    )
    .await;
    let puid = share["puid"].as_str().unwrap();
    let r = app.call(request("GET", &format!("/s/{puid}/sizes"))).await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("1.5 KiB"), "{html}");
    assert!(!html.contains("1.50 KB"), "{html}");
}
