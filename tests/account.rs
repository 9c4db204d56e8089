//! Issue 17, "Your account" (`/app/account`): change your own password, and the API keys you
//! made: list, create (shown once), revoke. Through the real app, as a browser signs in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;

async fn admin(app: &TestApp) -> Session {
    let (r, s) = sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303, "{}", r.text());
    s.expect("session")
}

/// `GET path` with `Authorization: <auth>`.
async fn get_with(app: &TestApp, path: &str, auth: &str) -> Resp {
    app.call(request("GET", path).insert_header(("Authorization", auth.to_string())))
        .await
}

#[actix_web::test]
async fn changing_your_password_ends_your_other_sessions_and_tokens() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let mine = admin(&app).await;
    let other = admin(&app).await;
    let (token, refresh) = app.admin_tokens().await;
    let v4 = format!("/{ORG}/v4/files");
    let nomad = format!("/api/admin/asset/{}", lib.folder1);
    let bearer = format!("Bearer {token}");
    assert_eq!(get_with(&app, &v4, &bearer).await.status, 200);
    assert_eq!(get_with(&app, &nomad, &bearer).await.status, 200);

    // The navigation links the page; the page has the form.
    let html = get_as(&app, &mine, "/app").await.text();
    assert!(html.contains("href=\"/app/account\""), "{html}");
    let page = get_as(&app, &mine, "/app/account").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("name=\"current_password\""));

    // A wrong current password: the page again (400), nothing changed, no password echoed.
    let new = "a brand new password";
    let r = post_form(
        &app,
        Some(&mine),
        "/app/account/password",
        &[
            ("csrf_token", &mine.csrf),
            ("current_password", "not the password"),
            ("new_password", new),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let text = r.text();
    assert!(text.contains("not your current password"), "{text}");
    assert!(
        !text.contains("not the password") && !text.contains(new),
        "{text}"
    );
    assert_eq!(get_as(&app, &other, "/app").await.status, 200);
    assert_eq!(get_with(&app, &v4, &bearer).await.status, 200);

    // The right one.
    let r = post_form(
        &app,
        Some(&mine),
        "/app/account/password",
        &[
            ("csrf_token", &mine.csrf),
            ("current_password", ADMIN_PASSWORD),
            ("new_password", new),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/app/account?done=password"));
    let done = get_as(&app, &mine, "/app/account?done=password").await;
    assert_eq!(done.status, 200, "this session stays");
    assert!(done.text().contains("Your password is changed"));
    // The other session is signed out; the API token and its refresh token end.
    let r = get_as(&app, &other, "/app").await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login"));
    assert_eq!(get_with(&app, &v4, &bearer).await.status, 401);
    assert_eq!(get_with(&app, &nomad, &bearer).await.status, 403);
    let r = app
        .call(
            request("POST", "/api/account/refresh-token")
                .insert_header(("content-type", "application/json"))
                .set_payload(serde_json::json!({ "refreshToken": refresh }).to_string()),
        )
        .await;
    assert!(
        r.status == 401 || r.status == 403,
        "{} {}",
        r.status,
        r.text()
    );
    // The new password signs in; the old one does not.
    let (r, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert!(s.is_none(), "{} {}", r.status, r.text());
    let (r, s) = sign_in(&app, ADMIN_EMAIL, new, "/app").await;
    assert_eq!(r.status, 303);
    assert!(s.is_some());
    assert_eq!(app.login(ADMIN_EMAIL, new).await.status, 200);
    assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 401);

    // A new password out of bounds is refused the same way.
    let r = post_form(
        &app,
        Some(&mine),
        "/app/account/password",
        &[
            ("csrf_token", &mine.csrf),
            ("current_password", new),
            ("new_password", "short"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(app.login(ADMIN_EMAIL, new).await.status, 200);
}

/// The key shown on the page after creating one.
fn shown_key(html: &str) -> String {
    let start = html.find("value=\"sbk_").expect("a new key") + "value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

#[actix_web::test]
async fn your_keys_are_listed_made_shown_once_and_revoked() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = admin(&app).await;
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(
        page.contains("You have made no key"),
        "the org's test key is not mine"
    );

    let r = post_form(
        &app,
        Some(&s),
        "/app/account/keys",
        &[("csrf_token", &s.csrf), ("name", "Laptop <script>")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let html = r.text();
    let key = shown_key(&html);
    assert!(html.contains("Laptop &#60;script&#62;") || html.contains("Laptop &lt;script&gt;"));
    assert!(!html.contains("Laptop <script>"));
    // Shown once: the page lists it by name and prefix, never the key again.
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(!page.contains(&key), "the key is shown only once");
    assert!(page.contains(&key[..12]), "its prefix is listed");
    assert!(page.contains("<td>never</td>"), "not used yet");

    // It is an org key: both dialects take it. Its use is recorded, at most once a minute.
    let v4 = format!("/{ORG}/v4/files");
    let nomad = format!("/api/admin/asset/{}", lib.folder1);
    let as_key = format!("ApiKey {key}");
    app.clock.advance(chrono::Duration::seconds(330)); // 12:05:30
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 200);
    assert_eq!(get_with(&app, &nomad, &as_key).await.status, 200);
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(!page.contains("<td>never</td>"), "used: {page}");
    assert!(page.contains("<td>15 Jan 2030, 12:05 UTC</td>"), "{page}");
    app.clock.advance(chrono::Duration::seconds(45)); // 12:06:15: not written
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 200);
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(page.contains("<td>15 Jan 2030, 12:05 UTC</td>"), "{page}");
    assert!(!page.contains("12:06 UTC"), "{page}");
    app.clock.advance(chrono::Duration::seconds(60)); // 12:07:15: written
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 200);
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(page.contains("<td>15 Jan 2030, 12:07 UTC</td>"), "{page}");

    let id = {
        let marker = "action=\"/app/account/keys/";
        let start = page.find(marker).unwrap() + marker.len();
        page[start..].split('/').next().unwrap().to_string()
    };
    let revoke = format!("/app/account/keys/{id}/revoke");
    let r = post_form(&app, Some(&s), &revoke, &[("csrf_token", "stale")]).await;
    assert_eq!(r.status, 403);
    // Another user of the org neither sees it nor revokes it from their account page.
    use sharebox::domain::types::{Email, NewPassword};
    sharebox::domain::auth::create_user(
        &app.state.db,
        ORG,
        &Email::parse("e", "colleague@acme.test").unwrap(),
        &NewPassword::parse("p", "another long password").unwrap(),
        false,
        app.clock.now(),
    )
    .unwrap();
    let (_, colleague) =
        sign_in(&app, "colleague@acme.test", "another long password", "/app").await;
    let colleague = colleague.unwrap();
    let theirs = get_as(&app, &colleague, "/app/account").await.text();
    assert!(theirs.contains("You have made no key"), "{theirs}");
    let r = post_form(
        &app,
        Some(&colleague),
        &revoke,
        &[("csrf_token", &colleague.csrf)],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 200);

    let r = post_form(&app, Some(&s), &revoke, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 401);
    assert_eq!(get_with(&app, &nomad, &as_key).await.status, 401);
    let r = app
        .call(request("GET", &v4).insert_header(("X-Filerobot-Key", key.clone())))
        .await;
    assert_eq!(r.status, 401);
    let page = get_as(&app, &s, "/app/account").await.text();
    assert!(page.contains("You have made no key"));
    // Revoking it again: 404. The org's other key still works.
    let r = post_form(&app, Some(&s), &revoke, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.call(app.fr("GET", "/v4/files")).await.status, 200);

    // A nameless key is refused.
    let r = post_form(
        &app,
        Some(&s),
        "/app/account/keys",
        &[("csrf_token", &s.csrf), ("name", "  ")],
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.text().contains("value=\"sbk_"));
}
