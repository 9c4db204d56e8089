//! Issue 15: what download managers, link checkers and visitors get, through the real app:
//! Content-Disposition's ASCII fallback; Last-Modified and If-Range, so a download resumed
//! across a content replace never splices two contents; the downloads a limited share has
//! left, and plain pages for a link that no longer works.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/nomad.rs"]
mod nomad;

use chrono::{DateTime, Duration, Utc};
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

/// Deterministic bytes that differ per position and per seed.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// An HTTP date (IMF-fixdate), as `Last-Modified` and `If-Range` write it.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Replaces the content of the file `id` through Nomad's chunked upload (`existingAssetId`,
/// 1 KiB parts); returns the asset model.
async fn replace_content(app: &TestApp, id: &str, content: &[u8]) -> Value {
    let s = nomad::start_upload(
        app,
        &json!({"existingAssetId": id, "contentLength": content.len(), "chunkSize": 1024}),
    )
    .await;
    assert_eq!(s["assetId"], id);
    let parts = s["parts"].as_array().unwrap();
    assert!(parts.len() > 1, "a chunked upload");
    for p in parts {
        let (a, b) = (
            p["startingPosition"].as_u64().unwrap() as usize,
            p["endingPosition"].as_u64().unwrap() as usize,
        );
        let r = nomad::put_part(app, p["url"].as_str().unwrap(), &content[a..=b]).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let path = format!("/api/asset/upload/{}/complete", s["id"].as_str().unwrap());
    nomad::ok_json(app, "POST", &path, None).await
}

/// `GET path` with these headers (and the org's key, which public routes ignore).
async fn get_h(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = request("GET", path).insert_header(("X-Filerobot-Key", app.key.clone()));
    for (k, v) in headers {
        req = req.insert_header((k.to_string(), v.to_string()));
    }
    app.call(req).await
}

#[actix_web::test]
async fn if_range_never_splices_a_replaced_content() {
    let app = TestApp::new().await;
    let (old, new) = (bytes(3000, 1), bytes(2600, 2));
    let asset = nomad::upload_chunked(&app, "clip.png", None, &old, 1024).await;
    let id = asset["id"].as_str().unwrap().to_string();
    let share = create_share(
        &app,
        &json!({"title": "Clip", "items": [{"type": "file_uuid", "identifiers": [id]}]}),
    )
    .await;
    let base = base_of(&share);
    // The three routes that take Range: the v4 download, the public file and its preview.
    let routes = [
        format!("/{ORG}/v4/get/{id}/download"),
        format!("{base}/files/{id}"),
        format!("{base}/files/{id}/preview"),
    ];
    let written = app.clock.now();
    let old_etag = format!("\"{}\"", sha256_hex(&old));

    // In the second of the write, no date is sent: a second write in that second would share it.
    let r = get_h(&app, &routes[0], &[]).await;
    assert_eq!(r.header("last-modified"), None);
    let r = get_h(
        &app,
        &routes[0],
        &[("range", "bytes=1000-"), ("if-range", &http_date(written))],
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body.len()),
        (200, 3000),
        "no date matches yet"
    );

    app.clock.advance(Duration::seconds(30));
    let old_date = http_date(written);
    for route in &routes {
        let r = get_h(&app, route, &[]).await;
        assert_eq!(r.status, 200, "{route}");
        assert_eq!(r.header("etag"), Some(old_etag.as_str()), "{route}");
        assert_eq!(
            r.header("last-modified"),
            Some(old_date.as_str()),
            "{route}"
        );
        // A matching validator resumes: 206 and the rest.
        for validator in [old_etag.as_str(), old_date.as_str()] {
            let r = get_h(
                &app,
                route,
                &[("range", "bytes=1000-"), ("if-range", validator)],
            )
            .await;
            assert_eq!(r.status, 206, "{route} {validator}");
            assert_eq!(r.header("content-range"), Some("bytes 1000-2999/3000"));
            assert_eq!(r.body.as_ref(), &old[1000..], "{route} {validator}");
        }
        // A weak tag, another tag, another date or junk: the whole content.
        for validator in [
            format!("W/{old_etag}"),
            format!("\"{}\"", sha256_hex(b"other")),
            http_date(written - Duration::seconds(1)),
            "yesterday".into(),
        ] {
            let r = get_h(
                &app,
                route,
                &[("range", "bytes=1000-"), ("if-range", &validator)],
            )
            .await;
            assert_eq!(r.status, 200, "{route} {validator}");
            assert_eq!(r.body.as_ref(), old.as_slice(), "{route} {validator}");
        }
    }

    // The content is replaced under the same id, through Nomad's chunked upload.
    let replaced = replace_content(&app, &id, &new).await;
    assert_eq!(replaced["id"], id.as_str());
    let new_etag = format!("\"{}\"", sha256_hex(&new));
    app.clock.advance(Duration::seconds(1));
    let new_date = http_date(written + Duration::seconds(30));
    for route in &routes {
        // Resumed from the old content, with either validator: 200 and the new bytes, whole.
        for validator in [old_etag.as_str(), old_date.as_str()] {
            let r = get_h(
                &app,
                route,
                &[("range", "bytes=1000-"), ("if-range", validator)],
            )
            .await;
            assert_eq!(r.status, 200, "{route} {validator}");
            assert_eq!(r.header("content-range"), None, "{route}");
            assert_eq!(r.size, Some(2600), "{route}");
            assert_eq!(r.body.as_ref(), new.as_slice(), "{route} {validator}");
            assert_eq!(r.header("etag"), Some(new_etag.as_str()), "{route}");
            assert_eq!(
                r.header("last-modified"),
                Some(new_date.as_str()),
                "{route}"
            );
        }
        // The new validators resume the new content.
        for validator in [new_etag.as_str(), new_date.as_str()] {
            let r = get_h(
                &app,
                route,
                &[("range", "bytes=1000-"), ("if-range", validator)],
            )
            .await;
            assert_eq!(r.status, 206, "{route} {validator}");
            assert_eq!(r.body.as_ref(), &new[1000..], "{route} {validator}");
        }
    }

    // The ETag moves exactly with the content: the same bytes again keep it (the date moves).
    app.clock.advance(Duration::seconds(5));
    replace_content(&app, &id, &new).await;
    app.clock.advance(Duration::seconds(1));
    let r = get_h(
        &app,
        &routes[0],
        &[("range", "bytes=1000-"), ("if-range", &new_etag)],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("etag"), Some(new_etag.as_str()));
    assert_eq!(
        r.header("last-modified"),
        Some(http_date(written + Duration::seconds(36)).as_str())
    );
    let r = get_h(
        &app,
        &routes[0],
        &[("range", "bytes=1000-"), ("if-range", &new_date)],
    )
    .await;
    assert_eq!(r.status, 200, "the date names the write, not the bytes");
}

/// A public page's answer: status and text, with the page's security and cache headers checked.
async fn public_page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.call(request("GET", path)).await;
    assert_eq!(r.content_type(), "text/html; charset=utf-8", "{path}");
    assert_eq!(
        r.header("cache-control"),
        Some("private, no-store"),
        "{path}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
    assert!(r.header("content-security-policy").is_some(), "{path}");
    (r.status.as_u16(), r.text())
}

const PLAIN: &str = "This link no longer works. Ask the person who sent it.";

/// The plain page of a link that no longer works: its words, and no error code.
fn assert_plain(what: &str, (status, html): &(u16, String), want: u16, headline: &str) {
    assert_eq!(*status, want, "{what}: {html}");
    assert!(html.contains(PLAIN), "{what}: {html}");
    assert!(html.contains(headline), "{what}: {html}");
    assert!(!html.contains(&format!("Error {want}")), "{what}: {html}");
}

#[actix_web::test]
async fn limited_shares_say_what_is_left_and_dead_links_speak_plainly() {
    let app = TestApp::new().await;
    let a = app.upload_one("/", "a.txt", b"a").await;
    let b = app.upload_one("/", "b.txt", b"b").await;
    let limited = share_of(&app, &[&a, &b], json!({"max_downloads": 3})).await;
    let base = base_of(&limited);
    let (status, html) = public_page(&app, &base).await;
    assert_eq!(status, 200);
    assert!(html.contains("3 of 3 downloads left"), "{html}");
    let file = format!("{base}/files/{}", uuid(&a));
    assert_eq!(app.call(request("GET", &file)).await.status, 200);
    assert!(public_page(&app, &base)
        .await
        .1
        .contains("2 of 3 downloads left"));
    assert_eq!(
        app.call(request("GET", &format!("{base}/zip")))
            .await
            .status,
        200
    );
    assert!(public_page(&app, &base)
        .await
        .1
        .contains("1 of 3 downloads left"));
    // No limit, or nothing to download: nothing to say.
    let free = share_of(&app, &[&a], json!({})).await;
    assert!(!public_page(&app, &base_of(&free))
        .await
        .1
        .contains("downloads left"));
    let view = share_of(
        &app,
        &[&a],
        json!({"permissions": "READ", "max_downloads": 3}),
    )
    .await;
    assert!(!public_page(&app, &base_of(&view))
        .await
        .1
        .contains("downloads left"));

    // Out of downloads: the page and every route say so plainly, with no error code.
    assert_eq!(app.call(request("GET", &file)).await.status, 200);
    let limit = "This share has reached its download limit.";
    for path in [base.clone(), file.clone(), format!("{base}/zip")] {
        assert_plain(&path, &public_page(&app, &path).await, 410, limit);
    }

    // Expired.
    let expiring = share_of(&app, &[&a], json!({"expires_at": "2030-01-16T12:00:00Z"})).await;
    app.clock.advance(Duration::days(2));
    let ebase = base_of(&expiring);
    for path in [ebase.clone(), format!("{ebase}/files/{}", uuid(&a))] {
        assert_plain(
            &path,
            &public_page(&app, &path).await,
            410,
            "This share has expired.",
        );
    }

    // Revoked: the same page as a link that never was, so neither tells anything.
    let r = app
        .call(json_body(
            app.fr(
                "PUT",
                &format!("/v5/shares/{}", free["uuid"].as_str().unwrap()),
            ),
            &json!({"status": "revoked"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let fbase = base_of(&free);
    let revoked = public_page(&app, &fbase).await;
    assert_plain("revoked", &revoked, 404, "This share is not available.");
    let unknown = public_page(&app, "/s/nosuchshare0000000000/x").await;
    assert_eq!(unknown, revoked);
    let file = format!("{fbase}/files/{}", uuid(&a));
    assert_plain(
        "revoked file",
        &public_page(&app, &file).await,
        404,
        "not available",
    );
}
