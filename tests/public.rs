//! Issue 7: the public share pages, through the real app.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

struct Shared {
    uuid: String,
    puid: String,
    base: String,
}

async fn share(app: &TestApp, body: Value) -> Shared {
    let s = create_share(app, &body).await;
    let uri = s["share_uri"].as_str().unwrap();
    Shared {
        uuid: s["uuid"].as_str().unwrap().into(),
        puid: s["puid"].as_str().unwrap().into(),
        base: uri.trim_start_matches("http://sharebox.test").to_string(),
    }
}

fn file_items(ids: &[&Value]) -> Value {
    json!([{"type": "file_uuid", "identifiers": ids.iter().map(|f| f["uuid"].clone()).collect::<Vec<_>>()}])
}

async fn get(app: &TestApp, path: &str) -> Resp {
    app.call(request("GET", path)).await
}

async fn get_with(app: &TestApp, path: &str, header: (&str, &str)) -> Resp {
    app.call(request("GET", path).insert_header((header.0.to_string(), header.1.to_string())))
        .await
}

async fn unlock(app: &TestApp, puid: &str, password: &str) -> Resp {
    app.call(
        request("POST", &format!("/s/{puid}/unlock"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!("password={}", password.replace(' ', "+"))),
    )
    .await
}

/// The cookie header a browser would send back after an unlock.
fn cookie_of(r: &Resp) -> String {
    let set = r.header("set-cookie").expect("set-cookie");
    set.split(';').next().unwrap().to_string()
}

async fn counts(app: &TestApp, s: &Shared) -> (i64, i64) {
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{}", s.uuid)))
        .await
        .json();
    (
        j["share"]["views"].as_i64().unwrap(),
        j["share"]["downloads"].as_i64().unwrap(),
    )
}

fn assert_page_headers(r: &Resp) {
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

#[actix_web::test]
async fn page_escapes_and_lists() {
    let app = TestApp::new().await;
    let f = app
        .upload_one("/", "<img src=x onerror=alert(1)>.png", b"\x89PNG")
        .await;
    let d = app.upload_one("/", "notes.txt", b"n").await;
    let s = share(
        &app,
        json!({"title": "<script>alert('t')</script> Q&A", "description": "<b>bold</b>\nline", "items": file_items(&[&f, &d]),
               "expires_at": "2031-08-24T18:29", "expires_tz": "Europe/Sofia"}),
    )
    .await;
    let r = get(&app, &s.base).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    assert_page_headers(&r);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let html = r.text();
    assert!(
        !html.contains("<script>alert")
            && html.contains("&#60;script&#62;alert(&#39;t&#39;)&#60;/script&#62; Q&#38;A"),
        "{html}"
    );
    assert!(!html.contains("<b>bold</b>") && html.contains("&#60;b&#62;bold&#60;/b&#62;"));
    assert!(
        !html.contains("<img src=x") && html.contains("&#60;img src=x onerror=alert(1)&#62;.png")
    );
    assert!(html.contains("Available until 24 Aug 2031, 18:29 Europe/Sofia"));
    assert!(html.contains(&format!("{}/files/{}", s.base, d["uuid"].as_str().unwrap())));
    assert!(html.contains(&format!("{}/zip", s.base)));
    // An image shows its thumbnail, which links to the full preview.
    assert!(html.contains(&format!(
        "<a class=\"thumb-link\" href=\"{0}/files/{1}/preview\"><img class=\"thumb\" src=\"{0}/files/{1}/thumb\"",
        s.base,
        f["uuid"].as_str().unwrap()
    )));
    assert_eq!(counts(&app, &s).await.0, 1, "a page view counts");

    // A wrong slug is a 301 to the right one; the bare puid too.
    let r = get(&app, &format!("/s/{}/wrong-slug?x=1", s.puid)).await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("{}?x=1", s.base).as_str())
    );
    assert_eq!(get(&app, &format!("/s/{}", s.puid)).await.status, 301);
    assert_eq!(counts(&app, &s).await.0, 1, "redirects are not views");
}

#[actix_web::test]
async fn password_gate() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "secret-plan.pdf", b"%PDF-1.4").await;
    let s = share(
        &app,
        json!({"title": "Locked", "items": file_items(&[&f]), "auth": {"pass": "open sesame"}}),
    )
    .await;
    let r = get(&app, &s.base).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let html = r.text();
    assert!(
        html.contains("name=\"password\"")
            && html.contains(&format!("action=\"/s/{}/unlock\"", s.puid))
    );
    assert!(
        !html.contains("secret-plan") && !html.contains("Locked"),
        "the form hides the share"
    );
    assert_eq!(counts(&app, &s).await.0, 0, "the form is not a view");
    let file = format!("{}/files/{}", s.base, f["uuid"].as_str().unwrap());
    assert_eq!(get(&app, &file).await.status, 401);
    assert_eq!(get(&app, &format!("{}/zip", s.base)).await.status, 401);

    let r = unlock(&app, &s.puid, "wrong").await;
    assert_eq!(r.status, 401);
    assert!(r.header("set-cookie").is_none());
    assert!(r.text().contains("That password is not right"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));

    let r = unlock(&app, &s.puid, "open sesame").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(s.base.as_str()));
    let set = r.header("set-cookie").unwrap().to_string();
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        &format!("Path=/s/{}", s.puid),
        "Max-Age=43200",
    ] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    let cookie = cookie_of(&r);
    let r = get_with(&app, &s.base, ("cookie", &cookie)).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("secret-plan.pdf"));
    let r = get_with(&app, &file, ("cookie", &cookie)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), b"%PDF-1.4");
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    // The token works as ?access= too.
    let token = cookie.split('=').nth(1).unwrap();
    assert_eq!(
        get(&app, &format!("{file}?access={token}")).await.status,
        200
    );

    // One share's cookie is useless on another.
    let other = share(
        &app,
        json!({"title": "Other", "items": file_items(&[&f]), "auth": {"pass": "open sesame"}}),
    )
    .await;
    let r = get_with(&app, &other.base, ("cookie", &cookie)).await;
    assert!(r.text().contains("name=\"password\""));
    assert_eq!(
        get(
            &app,
            &format!(
                "{}/files/{}?access={token}",
                other.base,
                f["uuid"].as_str().unwrap()
            )
        )
        .await
        .status,
        401
    );

    // A new password, a revoke, and a revoke then restore each lock the cookie out.
    let put = |body: Value| {
        let req = json_body(app.fr("PUT", &format!("/v5/shares/{}", s.uuid)), &body);
        let app = &app;
        async move { assert_eq!(app.call(req).await.status, 200) }
    };
    put(json!({"auth": {"pass": "new pass"}})).await;
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 401);
    let cookie = cookie_of(&unlock(&app, &s.puid, "new pass").await);
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 200);
    put(json!({"status": "revoked"})).await;
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 404);
    put(json!({"status": "active"})).await;
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 401);
    let cookie = cookie_of(&unlock(&app, &s.puid, "new pass").await);
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 200);
    // Tokens last 12 hours.
    app.clock.advance(Duration::hours(12));
    assert_eq!(get_with(&app, &file, ("cookie", &cookie)).await.status, 401);
}

#[actix_web::test]
async fn unlock_throttle_is_shared_with_the_reader() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "a.txt", b"a").await;
    let s = share(
        &app,
        json!({"title": "T", "items": file_items(&[&f]), "auth": {"pass": "right"}}),
    )
    .await;
    for i in 0..10 {
        let r = if i % 2 == 0 {
            unlock(&app, &s.puid, "bad").await
        } else {
            get(&app, &format!("/{ORG}/v4/share/{}?password=bad", s.puid)).await
        };
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = unlock(&app, &s.puid, "right").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("900"));
    assert!(r.header("set-cookie").is_none());
    assert!(r
        .text()
        .contains("Too many wrong passwords. Try again in 15 minutes."));
    assert_eq!(
        get(&app, &format!("/{ORG}/v4/share/{}?password=right", s.puid))
            .await
            .status,
        429
    );
    app.clock.advance(Duration::minutes(15));
    assert_eq!(unlock(&app, &s.puid, "right").await.status, 303);
    let a = app
        .call(app.fr("GET", &format!("/v5/shares/{}/activity", s.uuid)))
        .await
        .json();
    assert_eq!(a["total"], 10);
    assert!(a["activity"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["kind"] == "unlock_failed"));
}

#[actix_web::test]
async fn downloads_previews_and_permissions() {
    let app = TestApp::new().await;
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
    let bin = app.upload_one("/", "data.bin", &bytes).await;
    let png = app
        .upload_one("/", "pic.png", b"\x89PNG\r\n\x1a\nrest")
        .await;
    let html = app
        .upload_one("/", "page.html", b"<script>alert(1)</script>")
        .await;
    let svg = app.upload_one("/", "x.svg", b"<svg/>").await;
    let outside = app.upload_one("/", "outside.txt", b"o").await;
    let s = share(
        &app,
        json!({"title": "Files", "items": file_items(&[&bin, &png, &html, &svg])}),
    )
    .await;
    let url = |f: &Value| format!("{}/files/{}", s.base, f["uuid"].as_str().unwrap());

    let r = get(&app, &url(&bin)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), bytes.as_slice());
    assert_eq!(r.size, Some(1000));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"data.bin\"; filename*=UTF-8''data.bin")
    );
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", sha256_hex(&bytes)).as_str())
    );
    assert_page_headers(&r);
    let r = get_with(&app, &url(&bin), ("range", "bytes=10-19")).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &bytes[10..20]);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/1000"));

    let r = get(&app, &format!("{}/preview", url(&png))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "image/png");
    assert_eq!(
        r.header("content-disposition"),
        Some("inline; filename=\"pic.png\"; filename*=UTF-8''pic.png")
    );
    // HTML and SVG: never inline, never as themselves.
    for f in [&html, &svg] {
        assert_eq!(get(&app, &format!("{}/preview", url(f))).await.status, 404);
        let r = get(&app, &url(f)).await;
        assert_eq!(r.content_type(), "application/octet-stream");
        assert!(r
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment"));
    }
    // A file outside the share, or unknown: 404.
    assert_eq!(get(&app, &url(&outside)).await.status, 404);
    assert_eq!(
        get(&app, &format!("{}/files/nope", s.base)).await.status,
        404
    );
    assert_eq!(
        get(&app, &format!("{}/preview", url(&outside)))
            .await
            .status,
        404
    );

    // View only: downloads and the zip are 403, previews stay.
    let ro = share(
        &app,
        json!({"title": "View", "permissions": "READ", "items": file_items(&[&png])}),
    )
    .await;
    let r = get(
        &app,
        &format!("{}/files/{}", ro.base, png["uuid"].as_str().unwrap()),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("viewing only"));
    assert_eq!(get(&app, &format!("{}/zip", ro.base)).await.status, 403);
    assert_eq!(
        get(
            &app,
            &format!(
                "{}/files/{}/preview",
                ro.base,
                png["uuid"].as_str().unwrap()
            )
        )
        .await
        .status,
        200
    );
    let page = get(&app, &ro.base).await.text();
    assert!(
        !page.contains("/zip") && !page.contains(" download>Download"),
        "no download links on a view-only share"
    );
}

#[actix_web::test]
async fn states_on_every_route() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "f.txt", b"f").await;
    let png = app.upload_one("/", "p.png", b"\x89PNG").await;
    let s = share(
        &app,
        json!({"title": "Window", "items": file_items(&[&f, &png]), "starts_at": "2030-02-01T10:00", "starts_tz": "Europe/Sofia", "expires_at": "2030-03-01T00:00:00Z"}),
    )
    .await;
    let routes = [
        s.base.clone(),
        format!("{}/files/{}", s.base, f["uuid"].as_str().unwrap()),
        format!("{}/files/{}/preview", s.base, png["uuid"].as_str().unwrap()),
        format!("{}/zip", s.base),
    ];
    for r in &routes {
        let resp = get(&app, r).await;
        assert_eq!(resp.status, 403, "{r}");
        assert!(
            resp.text()
                .contains("This share opens on 1 Feb 2030, 10:00 Europe/Sofia."),
            "{r}"
        );
        assert_page_headers(&resp);
    }
    app.clock.advance(Duration::days(20));
    for r in &routes {
        assert_eq!(get(&app, r).await.status, 200, "{r}");
    }
    app.clock.advance(Duration::days(30));
    for r in &routes {
        let resp = get(&app, r).await;
        assert_eq!(resp.status, 410, "{r}");
        assert!(resp.text().contains("This share has expired."));
    }
    // Exhausted: 410 everywhere too, and says why.
    let x = share(
        &app,
        json!({"title": "Limited", "items": file_items(&[&f, &png]), "max_downloads": 2}),
    )
    .await;
    let file = format!("{}/files/{}", x.base, f["uuid"].as_str().unwrap());
    assert_eq!(get(&app, &file).await.status, 200);
    assert_eq!(get(&app, &file).await.status, 200);
    let xr = [
        x.base.clone(),
        file.clone(),
        format!("{}/files/{}/preview", x.base, png["uuid"].as_str().unwrap()),
        format!("{}/zip", x.base),
    ];
    for r in &xr {
        let resp = get(&app, r).await;
        assert_eq!(resp.status, 410, "{r}");
        assert!(resp.text().contains("download limit"), "{r}");
    }
    // Revoked and deleted: 404.
    app.call(json_body(
        app.fr("PUT", &format!("/v5/shares/{}", x.uuid)),
        &json!({"status": "revoked", "max_downloads": null}),
    ))
    .await;
    for r in &xr {
        assert_eq!(get(&app, r).await.status, 404, "{r}");
    }
    app.call(app.fr("DELETE", &format!("/v5/shares/{}", x.uuid)))
        .await;
    for r in &xr {
        assert_eq!(get(&app, r).await.status, 404, "{r}");
    }
    assert_eq!(get(&app, "/s/nosuchshare/x").await.status, 404);
    // A users share sends the anonymous visitor to the login page, and back.
    let u = share(&app, json!({"title": "Staff", "items": file_items(&[&f]), "access": "users", "users": [ADMIN_EMAIL]})).await;
    let r = get(&app, &u.base).await;
    assert_eq!(r.status, 302);
    let next: String =
        percent_encoding::utf8_percent_encode(&u.base, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/login?next={next}").as_str())
    );
}

#[actix_web::test]
async fn folders_recursive_and_visibility() {
    let app = TestApp::new().await;
    app.upload_one("/top", "top.txt", b"t").await;
    let sub = app.upload_one("/top/sub", "deep.txt", b"d").await;
    let org = app.upload_one("/top", "org-only.txt", b"o").await;
    let pubf = app.upload_one("/top", "public.txt", b"p").await;
    app.call(json_body(
        app.fr(
            "PATCH",
            &format!("/v4/files/{}", pubf["uuid"].as_str().unwrap()),
        ),
        &json!({"visibility": "PUB"}),
    ))
    .await;
    let top = app
        .call(app.fr("GET", "/v4/folders?folder=/top"))
        .await
        .json()["folder"]["uuid"]
        .clone();
    let sub_folder = sub["folder"]["uuid"].as_str().unwrap().to_string();

    let flat = share(
        &app,
        json!({"title": "Flat", "items": [{"type": "folder_uuid", "identifiers": [top]}]}),
    )
    .await;
    let page = get(
        &app,
        &format!("{}?folder={}", flat.base, top.as_str().unwrap()),
    )
    .await
    .text();
    assert!(
        page.contains("top.txt") && !page.contains(">sub<"),
        "{page}"
    );
    assert_eq!(
        get(
            &app,
            &format!("{}/files/{}", flat.base, sub["uuid"].as_str().unwrap())
        )
        .await
        .status,
        404
    );
    assert_eq!(
        get(&app, &format!("{}?folder={sub_folder}", flat.base))
            .await
            .status,
        404
    );

    let deep = share(&app, json!({"title": "Deep", "items": [{"type": "folder_uuid", "identifiers": [top], "options": {"recursive": true}}]})).await;
    let page = get(
        &app,
        &format!("{}?folder={}", deep.base, top.as_str().unwrap()),
    )
    .await
    .text();
    assert!(page.contains(&format!("?folder={sub_folder}")));
    let page = get(&app, &format!("{}?folder={sub_folder}", deep.base))
        .await
        .text();
    assert!(page.contains("deep.txt") && page.contains("class=\"crumbs\""));
    assert_eq!(
        get(
            &app,
            &format!("{}/files/{}", deep.base, sub["uuid"].as_str().unwrap())
        )
        .await
        .status,
        200
    );
    assert_eq!(
        counts(&app, &deep).await.0,
        0,
        "?folder= pages are not views"
    );

    let pub_only = share(&app, json!({"title": "Pub", "items": [{"type": "folder_uuid", "identifiers": [top], "options": {"visibility": "PUB"}}]})).await;
    assert_eq!(
        get(
            &app,
            &format!("{}/files/{}", pub_only.base, org["uuid"].as_str().unwrap())
        )
        .await
        .status,
        404
    );
    assert_eq!(
        get(
            &app,
            &format!("{}/files/{}", pub_only.base, pubf["uuid"].as_str().unwrap())
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn counting_exactly() {
    let app = TestApp::new().await;
    let bytes = vec![5u8; 10_000];
    let f = app.upload_one("/", "count.bin", &bytes).await;
    let png = app.upload_one("/", "c.png", b"\x89PNG").await;
    let s = share(
        &app,
        json!({"title": "Count", "items": file_items(&[&f, &png])}),
    )
    .await;
    let file = format!("{}/files/{}", s.base, f["uuid"].as_str().unwrap());
    assert_eq!(counts(&app, &s).await, (0, 0));
    get(&app, &file).await;
    assert_eq!(counts(&app, &s).await.1, 1, "whole file");
    get_with(&app, &file, ("range", "bytes=100-199")).await;
    assert_eq!(counts(&app, &s).await.1, 1, "a range in the middle");
    get_with(&app, &file, ("range", "bytes=9000-")).await;
    assert_eq!(
        counts(&app, &s).await.1,
        2,
        "a range ending at the last byte"
    );
    get(
        &app,
        &format!("{}/files/{}/preview", s.base, png["uuid"].as_str().unwrap()),
    )
    .await;
    assert_eq!(counts(&app, &s).await.1, 2, "preview");
    get(&app, &format!("{}/zip", s.base)).await;
    assert_eq!(counts(&app, &s).await.1, 3, "zip");
    // A transfer dropped after its first chunk of 2 MB never reaches the last byte.
    let big = vec![1u8; 2_000_000];
    let bf = app.upload_one("/", "big.bin", &big).await;
    let s2 = share(&app, json!({"title": "Big", "items": file_items(&[&bf])})).await;
    let status = app
        .call_aborted(request(
            "GET",
            &format!("{}/files/{}", s2.base, bf["uuid"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(counts(&app, &s2).await.1, 0, "an aborted transfer");

    // 50 downloads at once add exactly 50, and the activity log has them all.
    let reqs = (0..50).map(|_| get(&app, &file));
    futures_util::future::join_all(reqs).await;
    assert_eq!(counts(&app, &s).await.1, 53);
    let a = app
        .call(app.fr("GET", &format!("/v5/shares/{}/activity?limit=1000", s.uuid)))
        .await
        .json();
    let downloads = a["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "download")
        .count();
    assert_eq!(downloads, 53);
    let zip_row = a["activity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "download" && x["file_uuid"].is_null());
    assert!(
        zip_row.is_some(),
        "the zip is a download with a null file_uuid"
    );

    // max_downloads 2: the third download gets 410.
    let l = share(
        &app,
        json!({"title": "Two", "items": file_items(&[&f]), "max_downloads": 2}),
    )
    .await;
    let lf = format!("{}/files/{}", l.base, f["uuid"].as_str().unwrap());
    assert_eq!(get(&app, &lf).await.status, 200);
    assert_eq!(get(&app, &lf).await.status, 200);
    assert_eq!(get(&app, &lf).await.status, 410);
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{}", l.uuid)))
        .await
        .json();
    assert_eq!(j["share"]["status"], "exhausted");
    assert_eq!(j["share"]["downloads"], 2);
    // Counts survive the flush and a restart.
    app.state.shares.flush_counts().await.unwrap();
    let mut app = app;
    app.restart().await;
    assert_eq!(counts(&app, &l).await.1, 2);
}

#[actix_web::test]
async fn zip_reads_back_with_standard_readers() {
    let app = TestApp::new().await;
    let a = app.upload_one("/a", "same.txt", b"from a").await;
    let b = app.upload_one("/b", "same.txt", b"from b, longer").await;
    let hostile = app.upload_one("/a", "plain.txt", b"hostile").await;
    app.call(json_body(
        app.fr(
            "PATCH",
            &format!("/v4/files/{}", hostile["uuid"].as_str().unwrap()),
        ),
        &json!({"name": "..\\..\\C:evil.txt"}),
    ))
    .await;
    let empty = app.upload_one("/a", "empty.dat", b"").await;
    let folder_a = a["folder"]["uuid"].clone();
    let s = share(
        &app,
        json!({"title": "Zip me", "items": [{"type": "file_uuid", "identifiers": [a["uuid"], b["uuid"]]},
                                             {"type": "folder_uuid", "identifiers": [folder_a], "options": {"recursive": true}}]}),
    )
    .await;
    let _ = empty;
    let r = get(&app, &format!("{}/zip", s.base)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/zip");
    assert_eq!(
        r.size,
        Some(r.body.len() as u64),
        "Content-Length equals the bytes sent"
    );
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"zip-me.zip\"; filename*=UTF-8''zip-me.zip")
    );
    let path = app.dir.path().join("out.zip");
    std::fs::write(&path, &r.body).unwrap();

    let out = std::process::Command::new("unzip")
        .arg("-t")
        .arg(&path)
        .output()
        .expect("unzip");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No errors detected"));

    let script = r#"
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
out = []
for i in z.infolist():
    out.append({"name": i.filename, "method": i.compress_type, "flags": i.flag_bits, "crc": i.CRC, "data": z.read(i).decode()})
print(json.dumps(out))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "same (2).txt",
            "same.txt",
            "a/.._.._C_evil.txt",
            "a/empty.dat",
            "a/same.txt"
        ]
    );
    assert!(
        names.iter().all(|n| !n.starts_with('/')
            && !n.split('/').any(|seg| seg == ".." || seg == ".")
            && !n.contains('\\')),
        "{names:?}"
    );
    for e in &entries {
        assert_eq!(e["method"], 0, "STORED");
        assert_eq!(e["flags"].as_u64().unwrap() & 0x8, 0, "no data descriptor");
    }
    let data: std::collections::HashMap<&str, &str> = entries
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["data"].as_str().unwrap()))
        .collect();
    assert_eq!(data.len(), 5);
    assert!(
        data.values().any(|d| *d == "from a")
            && data.values().any(|d| *d == "from b, longer")
            && data.values().any(|d| *d == "hostile")
    );
}

async fn page(app: &TestApp, base: &str) -> String {
    let r = get(app, base).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

/// `open` keeps what it read between requests (src/domain/share_cache.rs); every change made
/// after a page was served shows on the very next request.
#[actix_web::test]
async fn every_change_shows_on_the_next_request() {
    let app = TestApp::new().await;
    let a = app.upload_one("/box", "a.txt", b"a").await;
    let folder = app
        .call(app.fr("GET", "/v4/folders?folder=/box"))
        .await
        .json()["folder"]["uuid"]
        .clone();
    let s = share(
        &app,
        json!({"title": "Box", "items": [{"type": "folder_uuid", "identifiers": [folder]}]}),
    )
    .await;
    // The folder is the share's one entry; its files show inside it.
    let inside = format!("{}?folder={}", s.base, folder.as_str().unwrap());
    // Twice: the second answer comes from what the first read.
    assert!(page(&app, &inside).await.contains("a.txt"));
    assert!(page(&app, &inside).await.contains("a.txt"));

    // A file added to the folder.
    let b = app.upload_one("/box", "b.txt", b"b").await;
    assert!(page(&app, &inside).await.contains("b.txt"));
    let b_file = format!("{}/files/{}", s.base, b["uuid"].as_str().unwrap());
    assert_eq!(get(&app, &b_file).await.status, 200);

    // A file renamed.
    let r = app
        .call(json_body(
            app.fr(
                "PATCH",
                &format!("/v4/files/{}", a["uuid"].as_str().unwrap()),
            ),
            &json!({"name": "renamed.txt"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = page(&app, &inside).await;
    assert!(
        html.contains("renamed.txt") && !html.contains("a.txt"),
        "{html}"
    );

    // A file deleted: gone from the page, its route 404.
    let r = app
        .call(app.fr(
            "DELETE",
            &format!("/v4/files/{}", b["uuid"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!page(&app, &inside).await.contains("b.txt"));
    assert_eq!(get(&app, &b_file).await.status, 404);

    // The share's own fields: a new title moves the page to a new slug.
    let put = |body: Value| {
        let uuid = s.uuid.clone();
        let app = &app;
        async move {
            let r = app
                .call(json_body(
                    app.fr("PUT", &format!("/v5/shares/{uuid}")),
                    &body,
                ))
                .await;
            assert_eq!(r.status, 200, "{}", r.text());
        }
    };
    put(json!({"title": "New title"})).await;
    let r = get(&app, &s.base).await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("/s/{}/new-title", s.puid).as_str())
    );
    // A password: the page locks at once.
    put(json!({"auth": {"pass": "now locked"}})).await;
    let r = get(&app, &format!("/s/{}/new-title", s.puid)).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.text().contains("renamed.txt"),
        "a locked page lists nothing"
    );
    // Revoked: 404 on the next request.
    put(json!({"status": "revoked"})).await;
    assert_eq!(
        get(&app, &format!("/s/{}/new-title", s.puid)).await.status,
        404
    );
}
