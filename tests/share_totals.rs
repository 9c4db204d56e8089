//! Issue 19 (in part): a share's public page, its card on the owner's list and its detail page
//! say what it holds in all (files at any depth, of the items' visibility, and their size),
//! read from the folders' aggregates and kept right as the library changes. The locked page
//! says none of it; cards say whether a password is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};

async fn put(app: &TestApp, folder: &str, name: &str, size: usize, visibility: &str) -> Value {
    let bytes = vec![b'x'; size];
    let r = app
        .upload(
            &format!("folder={folder}"),
            &[
                ("file", Some(name), None, &bytes),
                ("visibility", None, None, visibility.as_bytes()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["file"].clone()
}

/// The public page's "N files, size" line.
async fn contents(app: &TestApp, share: &Value) -> String {
    let html = app.call(request("GET", &share_path(share))).await.text();
    let start = html
        .find("<p class=\"muted contents\">")
        .expect("contents line")
        + 26;
    html[start..start + html[start..].find("</p>").unwrap()].to_string()
}

#[actix_web::test]
async fn pages_and_cards_say_how_many_files_and_bytes_a_share_holds() {
    let app = TestApp::new().await;
    let docs = app.mkdir("/docs").await;
    put(&app, "/docs", "a.txt", 10, "PUB").await;
    put(&app, "/docs", "b.txt", 20, "ORG").await;
    let sub = app.mkdir("/docs/sub").await;
    put(&app, "/docs/sub", "c.txt", 300, "PUB").await;
    put(&app, "/docs/sub/deeper", "d.txt", 4000, "ORG").await;
    let loose = put(&app, "/", "loose.bin", 5000, "ORG").await;
    let folder = |recursive: bool, visibility: &str| {
        json!({"type": "folder_uuid", "identifiers": [docs["uuid"]],
               "options": {"recursive": recursive, "visibility": visibility}})
    };
    let all = create_share(
        &app,
        &json!({"title": "All", "items": [folder(true, "PUB,ORG"),
            {"type": "file_uuid", "identifiers": [loose["uuid"]]}]}),
    )
    .await;
    let public = create_share(
        &app,
        &json!({"title": "Public", "items": [folder(true, "PUB")]}),
    )
    .await;
    let top_only = create_share(
        &app,
        &json!({"title": "Top only", "items": [folder(false, "ORG")],
            "auth": {"pass": "open sesame"}}),
    )
    .await;

    // 10 + 20 + 300 + 4000 + 5000 = 9330 bytes.
    assert_eq!(contents(&app, &all).await, "5 files, 9.1 KiB");
    assert_eq!(contents(&app, &public).await, "2 files, 310 bytes");
    let locked = app
        .call(request("GET", &share_path(&top_only)))
        .await
        .text();
    assert!(locked.contains("type=\"password\""), "{locked}");
    assert!(!locked.contains("contents") && !locked.contains("1 file"));

    // The library changes; the next page says so (no stale cache).
    put(&app, "/docs/sub/deeper", "e.txt", 1000, "PUB").await;
    assert_eq!(contents(&app, &all).await, "6 files, 10.1 KiB");
    assert_eq!(contents(&app, &public).await, "3 files, 1.3 KiB");
    let r = app
        .call(app.fr(
            "DELETE",
            &format!(
                "/v4/folders/{}?recursive=true",
                sub["uuid"].as_str().unwrap()
            ),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(contents(&app, &all).await, "3 files, 4.9 KiB");
    assert_eq!(contents(&app, &public).await, "1 file, 10 bytes");

    // The owner's cards and the detail page.
    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let session = session.unwrap();
    let list = get_as(&app, &session, "/app/shares").await.text();
    let card = |uuid: &Value| {
        let id = format!("id=\"share-{}\"", uuid.as_str().unwrap());
        let start = list.find(&id).expect("card");
        let end = list[start..]
            .find("</li>\n  \n")
            .unwrap_or(list.len() - start);
        list[start..start + end].to_string()
    };
    let c = card(&top_only["uuid"]);
    assert!(c.contains("1 file, 20 bytes · Password: yes"), "{c}");
    let c = card(&public["uuid"]);
    assert!(c.contains("· Password: no"), "{c}");
    let detail = get_as(
        &app,
        &session,
        &format!("/app/shares/{}", top_only["uuid"].as_str().unwrap()),
    )
    .await
    .text();
    assert!(
        detail.contains("<p class=\"contents\">1 file, 20 bytes</p>"),
        "{detail}"
    );
}

/// Folder totals climb to the root one trigger per level, so folders nest at most 200 deep: a
/// deeper path, sub-folder or move is a 400 naming its field, and changes nothing.
#[actix_web::test]
async fn folders_nest_at_most_200_levels() {
    let app = TestApp::new().await;
    let deep = "/d".repeat(200);
    let bottom = app.mkdir(&deep).await;
    put(&app, &deep, "at-the-bottom.txt", 7, "PUB").await;
    let r = app
        .call(json_body(
            app.fr("POST", "/v4/folders"),
            &json!({"name": format!("{deep}/x")}),
        ))
        .await;
    let e = assert_fr_error(&r, 400, "INVALID_FIELD");
    assert!(e["msg"].as_str().unwrap().contains("200 levels"), "{e}");
    // A two-level folder moved under level 199 would reach 201.
    let p = app.mkdir("/p").await;
    let q = app.mkdir("/p/q").await;
    let level_199 = app.mkdir(&"/e".repeat(199)).await;
    let r = app
        .call(app.fr(
            "PUT",
            &format!(
                "/v4/folders/{}/folders/{}",
                p["uuid"].as_str().unwrap(),
                level_199["uuid"].as_str().unwrap()
            ),
        ))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    let r = app
        .call(app.fr(
            "PUT",
            &format!(
                "/v4/folders/{}/folders/{}",
                q["uuid"].as_str().unwrap(),
                level_199["uuid"].as_str().unwrap()
            ),
        ))
        .await;
    assert_eq!(r.status, 200, "one level more is the 200th: {}", r.text());
    assert!(bottom["uuid"].is_string());
}
