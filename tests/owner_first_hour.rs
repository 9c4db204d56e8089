//! Issue 15, item 7: a newcomer's first hour in the owner UI, through the real app. Where to
//! start, the upload limit, every share-form error at once, an activity log in plain words, the
//! owner's own downloads and previews, and sizes that say what they are.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};

async fn admin(app: &TestApp) -> Session {
    let (r, s) = sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303, "{}", r.text());
    s.expect("session")
}

/// `POST /app/upload` as the page's script sends it (the token in a header).
async fn ui_upload(app: &TestApp, s: &Session, name: &str, bytes: &[u8]) -> Resp {
    app.call(
        request("POST", "/app/upload")
            .insert_header(("cookie", s.cookie.clone()))
            .insert_header(("x-csrf-token", s.csrf.clone()))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(multipart(&[("file", Some(name), None, bytes)])),
    )
    .await
}

/// The text of the element with this id (up to its closing tag), or "" when there is none.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let Some(start) = html.find(&marker) else {
        return String::new();
    };
    let rest = &html[start..];
    let open = rest.find('>').map_or(0, |i| i + 1);
    let end = rest[open..].find('<').map_or(rest.len(), |i| open + i);
    rest[open..end].to_string()
}

#[actix_web::test]
async fn the_front_door_leads_to_the_login_or_the_library() {
    let app = TestApp::new().await;
    let r = app.call(request("GET", "/")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/login"));
    // The page's security headers come along on the redirect too.
    assert_eq!(r.header("x-frame-options"), Some("DENY"));

    let s = admin(&app).await;
    let r = get_as(&app, &s, "/").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/app"));

    // A session that ended is nobody again.
    let r = post_form(&app, Some(&s), "/logout", &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        get_as(&app, &s, "/").await.header("location"),
        Some("/login")
    );
}

#[actix_web::test]
async fn the_library_shows_the_upload_limit_and_refusals_name_it() {
    let app = TestApp::with_config(|c| c.max_upload_bytes = 100 * 1024).await;
    let s = admin(&app).await;
    let html = get_as(&app, &s, "/app").await.text();
    // The page says the limit, and gives it to the script for its own check.
    assert!(html.contains("Files up to 100 KiB each"), "{html}");
    assert!(html.contains("data-max-bytes=\"102400\""), "{html}");
    assert!(html.contains("data-max-label=\"100 KiB\""), "{html}");

    // Over the limit: the script's JSON answer carries the message it shows on the page.
    let r = ui_upload(&app, &s, "big.bin", &vec![7u8; 100 * 1024 + 1]).await;
    let j = assert_fr_error(&r, 413, "TOO_LARGE");
    assert_eq!(
        j["msg"], "The file is larger than the limit of 102400 bytes.",
        "{j}"
    );
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.json()["total"],
        0,
        "nothing stored"
    );
    // Right at the limit is fine.
    assert_eq!(
        ui_upload(&app, &s, "fits.bin", &vec![7u8; 100 * 1024])
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn sizes_in_the_ui_say_kib_and_mib_and_the_api_keeps_its_pretty() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let f = app.upload_one("/", "notes.txt", &[b'n'; 1536]).await;
    assert_eq!(f["size"]["pretty"], "1.50 KB", "the API's contract stays");
    app.upload_one("/", "tiny.txt", b"12345").await;

    let html = get_as(&app, &s, "/app").await.text();
    assert!(html.contains(">1.5 KiB<"), "{html}");
    assert!(html.contains(">5 bytes<"), "{html}");
    assert!(
        !html.contains(" KB<") && !html.contains(" MB<"),
        "no decimal-looking units: {html}"
    );
    // The default limit, 10 GiB, as the page writes it.
    assert!(html.contains("Files up to 10 GiB each"), "{html}");

    let form = get_as(&app, &s, "/app/shares/new").await.text();
    assert!(form.contains("/notes.txt (1.5 KiB)"), "{form}");
}

#[actix_web::test]
async fn owners_open_preview_and_download_their_own_files() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let body: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let png = app.upload_one("/", "photo.png", &body).await;
    let html_file = app
        .upload_one("/", "page.html", b"<script>alert(1)</script>")
        .await;
    let svg = app.upload_one("/", "logo.svg", b"<svg/>").await;
    let id = |v: &Value| v["uuid"].as_str().unwrap().to_string();
    let (pu, hu, su) = (id(&png), id(&html_file), id(&svg));

    // The library links each file to its download, and a safe type to its preview.
    let lib = get_as(&app, &s, "/app").await.text();
    assert!(lib.contains(&format!("href=\"/app/files/{pu}\"")), "{lib}");
    assert!(
        lib.contains(&format!("href=\"/app/files/{pu}/preview\"")),
        "{lib}"
    );
    assert!(!lib.contains(&format!("/app/files/{hu}/preview")), "{lib}");

    // Download: the whole file as an attachment, with ETag and Range like the v4 download.
    let r = get_as(&app, &s, &format!("/app/files/{pu}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), &body[..]);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let etag = r.header("etag").unwrap().to_string();
    let v4 = app
        .call(app.fr("GET", &format!("/v4/get/{pu}/download")))
        .await;
    assert_eq!(v4.header("etag"), Some(etag.as_str()));
    let ranged = |path: String, range: &'static str| {
        request("GET", &path)
            .insert_header(("cookie", s.cookie.clone()))
            .insert_header(("range", range))
    };
    let r = app
        .call(ranged(format!("/app/files/{pu}"), "bytes=10-19"))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &body[10..20]);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/1000"));
    let r = app
        .call(ranged(format!("/app/files/{pu}"), "bytes=5000-"))
        .await;
    assert_eq!(r.status, 416);
    let r = app
        .call(
            request("GET", &format!("/app/files/{pu}"))
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header(("if-none-match", etag.clone())),
        )
        .await;
    assert_eq!(r.status, 304);

    // Preview: inline for a safe type, with Range too; never for HTML or SVG.
    let r = get_as(&app, &s, &format!("/app/files/{pu}/preview")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "image/png");
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("inline"));
    let r = app
        .call(ranged(format!("/app/files/{pu}/preview"), "bytes=0-3"))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body.as_ref(), &body[..4]);
    for u in [&hu, &su] {
        let r = get_as(&app, &s, &format!("/app/files/{u}/preview")).await;
        assert_eq!(r.status, 404, "{}", r.text());
        // Downloading them is fine: as an attachment, never as a page.
        let r = get_as(&app, &s, &format!("/app/files/{u}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type(), "application/octet-stream");
        assert!(r
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment"));
    }

    // No session: to the sign-in page. Another org's file, or no file at all: 404.
    let r = app.call(request("GET", &format!("/app/files/{pu}"))).await;
    assert_eq!(r.status, 303);
    let back = r.header("location").unwrap();
    assert_eq!(
        percent_encoding::percent_decode_str(back)
            .decode_utf8()
            .unwrap(),
        format!("/login?next=/app/files/{pu}")
    );
    let theirs = app
        .call(
            request("POST", &format!("/{OTHER_ORG}/v4/upload"))
                .insert_header(("X-Filerobot-Key", app.other_key.clone()))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(multipart(&[("file", Some("theirs.png"), None, b"x")])),
        )
        .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text());
    let tu = theirs.json()["file"]["uuid"].as_str().unwrap().to_string();
    for path in [
        format!("/app/files/{tu}"),
        format!("/app/files/{tu}/preview"),
        "/app/files/not-a-uuid".to_string(),
        "/app/files/00000000-0000-4000-8000-000000000000/preview".to_string(),
    ] {
        let r = get_as(&app, &s, &path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_ne!(r.body.as_ref(), b"x", "{path}");
    }
}

#[actix_web::test]
async fn the_share_form_shows_every_error_at_once_in_its_own_words() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    app.upload_one("/", "deck.pdf", b"%PDF-deck").await;
    let fields = [
        ("csrf_token", s.csrf.as_str()),
        ("title", "Board deck"),
        // No item ticked.
        ("starts_tz", "UTC"),
        ("expires_at", "2020-01-01T10:00"),
        ("expires_tz", "Europe/Sofia"),
        ("permissions", "READ+DOWNLOAD"),
        ("max_downloads", "0"),
        ("access", "link"),
        ("recipients", "a@x.test\nnot an email"),
        ("message", "Please review"),
    ];
    let r = post_form(&app, Some(&s), "/app/shares", &fields).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    let errors: Vec<(&str, String)> = ["items", "expires_at", "max_downloads", "recipients"]
        .into_iter()
        .map(|f| (f, element_text(&html, &format!("error-{f}"))))
        .collect();
    for (field, text) in &errors {
        assert!(!text.is_empty(), "no error beside {field}: {html}");
    }
    assert_eq!(errors[0].1, "Pick at least one file or folder.");
    assert_eq!(errors[1].1, "The expiry must be in the future.");
    assert_eq!(
        errors[2].1,
        "A whole number from 1 to 1000000, or empty for no limit."
    );
    assert!(
        errors[3]
            .1
            .contains("&#39;not an email&#39; is not an email address"),
        "{}",
        errors[3].1
    );
    assert!(!html.contains("null"), "API wording on the page: {html}");
    // The values stay as typed.
    assert!(html.contains("value=\"Board deck\"") && html.contains("a@x.test\nnot an email"));
    assert_eq!(share_count(&app).await, 0);
    assert_eq!(outbox_total(&app), 0);

    // A title too long and a password too long are found in the same pass.
    let long_title = "t".repeat(201);
    let long_password = "p".repeat(201);
    let fields = [
        ("csrf_token", s.csrf.as_str()),
        ("title", long_title.as_str()),
        ("password", long_password.as_str()),
        ("expires_at", "soon"),
        ("expires_tz", "UTC"),
    ];
    let html = post_form(&app, Some(&s), "/app/shares", &fields)
        .await
        .text();
    for field in ["title", "password", "items", "expires_at"] {
        assert!(
            !element_text(&html, &format!("error-{field}")).is_empty(),
            "no error beside {field}: {html}"
        );
    }
    assert!(
        !html.contains("ISO 8601"),
        "the date error is in the form's words: {html}"
    );
    assert!(
        !html.contains(&long_password),
        "the password is never echoed"
    );
    assert_eq!(share_count(&app).await, 0);
}

#[actix_web::test]
async fn a_services_error_beside_its_field_in_the_forms_words() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let f = app.upload_one("/", "deck.pdf", b"%PDF-deck").await;
    let item = format!("file:{}", f["uuid"].as_str().unwrap());
    // Only the service knows who the org's users are.
    let fields = [
        ("csrf_token", s.csrf.as_str()),
        ("title", "Staff deck"),
        ("item", item.as_str()),
        ("access", "users"),
        ("users", "nobody@x.test"),
    ];
    let r = post_form(&app, Some(&s), "/app/shares", &fields).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    assert!(
        element_text(&html, "error-users").contains("nobody@x.test"),
        "{html}"
    );
    assert_eq!(share_count(&app).await, 0);
}

#[actix_web::test]
async fn the_activity_page_speaks_plain_words() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let f = app.upload_one("/", "board deck.pdf", b"%PDF-deck").await;
    let fu = f["uuid"].as_str().unwrap();
    let share = create_share(
        &app,
        &json!({"title": "Deck", "auth": {"pass": "open sesame"},
            "expires_at": "2031-01-01T00:00:00Z", "expires_tz": "Europe/Sofia",
            "items": [{"type": "file_uuid", "identifiers": [fu]}]}),
    )
    .await;
    let (uuid, puid) = (
        share["uuid"].as_str().unwrap(),
        share["puid"].as_str().unwrap(),
    );
    let page = share["share_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string();
    let firefox =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                  (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    let unlock = |password: &str, ua: &str| {
        request("POST", &format!("/s/{puid}/unlock"))
            .insert_header(("user-agent", ua.to_string()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!("password={}", password.replace(' ', "+")))
    };
    assert_eq!(app.call(unlock("wrong", firefox)).await.status, 401);
    let r = app.call(unlock("open sesame", chrome)).await;
    assert_eq!(r.status, 303);
    let cookie = cookie_pair(set_cookie(&r, "sb_unlock").unwrap());
    let visit = |path: String| {
        request("GET", &path)
            .insert_header(("cookie", cookie.clone()))
            .insert_header(("user-agent", chrome))
    };
    assert_eq!(app.call(visit(page.clone())).await.status, 200);
    let r = app.call(visit(format!("{page}/files/{fu}"))).await;
    assert_eq!(r.body.as_ref(), b"%PDF-deck");
    assert_eq!(app.call(visit(format!("{page}/zip"))).await.status, 200);

    let r = get_as(&app, &s, &format!("/app/shares/{uuid}/activity")).await;
    assert_eq!(r.status, 200);
    let html = r.text();
    for plain in [
        "Wrong password",
        "Opened the share",
        "Downloaded",
        "board deck.pdf",
        "all files (zip)",
        "Firefox on Windows 10",
        "Chrome on macOS",
        // The test clock's noon UTC, in the share's zone.
        "15 Jan 2030, 14:00 Europe/Sofia",
    ] {
        assert!(html.contains(plain), "no {plain:?} in {html}");
    }
    for raw in ["unlock_failed", "Mozilla/5.0", fu, " UTC<"] {
        assert!(!html.contains(raw), "{raw:?} on the page: {html}");
    }

    // A file deleted since is named as gone, not by its id.
    let r = app.call(app.fr("DELETE", &format!("/v4/files/{fu}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = get_as(&app, &s, &format!("/app/shares/{uuid}/activity"))
        .await
        .text();
    assert!(html.contains("a deleted file"), "{html}");
    assert!(!html.contains(fu), "{html}");
}
