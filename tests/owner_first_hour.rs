//! Issue 15, item 7: a newcomer's first hour in the owner UI, through the real app. Where to
//! start, the upload limit, every share-form error at once, an activity log in plain words, the
//! owner's own downloads and previews, and sizes that say what they are.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;

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
