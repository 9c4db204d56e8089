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
