//! Issue 17, the admin page (`/app/admin/users`): only admins (403 for anyone else); disable and
//! enable a user (their sessions, tokens and keys end at once); grant and revoke admin, never
//! the org's last; every key of the org, any of which an admin revokes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;

const OTHER_EMAIL: &str = "colleague@acme.test";
const OTHER_PASSWORD: &str = "another long password";

async fn admin(app: &TestApp) -> Session {
    let (r, s) = sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303, "{}", r.text());
    s.expect("session")
}

fn add_user(app: &TestApp) {
    use sharebox::domain::types::{Email, NewPassword};
    sharebox::domain::auth::create_user(
        &app.state.db,
        ORG,
        &Email::parse("e", OTHER_EMAIL).unwrap(),
        &NewPassword::parse("p", OTHER_PASSWORD).unwrap(),
        false,
        app.clock.now(),
    )
    .unwrap();
}

fn uuid_of(app: &TestApp, email: &str) -> String {
    sharebox::domain::accounts::list_users(&app.state.db, Some(ORG))
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .uuid
}

async fn get_with(app: &TestApp, path: &str, auth: &str) -> Resp {
    app.call(request("GET", path).insert_header(("Authorization", auth.to_string())))
        .await
}

/// Makes a key on the account page of `s`; returns it.
async fn make_key(app: &TestApp, s: &Session, name: &str) -> String {
    let r = post_form(
        app,
        Some(s),
        "/app/account/keys",
        &[("csrf_token", &s.csrf), ("name", name)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    let start = html.find("value=\"sbk_").unwrap() + "value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

#[actix_web::test]
async fn only_admins_reach_the_admin_page() {
    let app = TestApp::new().await;
    add_user(&app);
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let other = other.unwrap();
    let boss = uuid_of(&app, ADMIN_EMAIL);
    let r = get_as(&app, &other, "/app/admin/users").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("Only an admin"));
    assert!(!get_as(&app, &other, "/app/account")
        .await
        .text()
        .contains("/app/admin/users"));
    for path in [
        format!("/app/admin/users/{boss}/revoke-admin"),
        format!("/app/admin/users/{boss}/disable"),
        "/app/admin/keys/1/revoke".to_string(),
    ] {
        let r = post_form(&app, Some(&other), &path, &[("csrf_token", &other.csrf)]).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.status,
        200,
        "key 1 stays"
    );
    let s = admin(&app).await;
    let page = get_as(&app, &s, "/app/admin/users").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(OTHER_EMAIL) && page.text().contains(ADMIN_EMAIL));
    assert!(get_as(&app, &s, "/app/account")
        .await
        .text()
        .contains("/app/admin/users"));
}

#[actix_web::test]
async fn disabling_a_user_ends_their_session_tokens_and_keys_at_once() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    add_user(&app);
    let s = admin(&app).await;
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let other = other.unwrap();
    let token = app.login(OTHER_EMAIL, OTHER_PASSWORD).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let key = make_key(&app, &other, "theirs").await;
    let v4 = format!("/{ORG}/v4/files");
    let nomad = format!("/api/admin/asset/{}", lib.folder1);
    let (bearer, as_key) = (format!("Bearer {token}"), format!("ApiKey {key}"));
    assert_eq!(get_with(&app, &v4, &bearer).await.status, 200);
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 200);
    // The admin page lists their key, made by them.
    let page = get_as(&app, &s, "/app/admin/users").await.text();
    assert!(
        page.contains("theirs") && page.contains(&key[..12]),
        "{page}"
    );

    let who = uuid_of(&app, OTHER_EMAIL);
    let path = format!("/app/admin/users/{who}/disable");
    let r = post_form(&app, Some(&s), &path, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = get_as(&app, &other, "/app").await;
    assert_eq!(r.status, 303, "signed out");
    assert!(r.header("location").unwrap().starts_with("/login"));
    assert_eq!(get_with(&app, &v4, &bearer).await.status, 401);
    assert_eq!(get_with(&app, &nomad, &bearer).await.status, 403);
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 401);
    assert_eq!(get_with(&app, &nomad, &as_key).await.status, 401);
    let (_, again) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    assert!(again.is_none(), "a disabled user cannot sign in");
    let page = get_as(&app, &s, "/app/admin/users").await.text();
    assert!(
        page.contains("disabled") && !page.contains("theirs"),
        "{page}"
    );

    // Enabled again: they sign in; the revoked key stays revoked.
    let path = format!("/app/admin/users/{who}/enable");
    let r = post_form(&app, Some(&s), &path, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (_, again) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    assert!(again.is_some());
    assert_eq!(get_with(&app, &v4, &as_key).await.status, 401);
}

#[actix_web::test]
async fn the_last_admin_stays_and_an_admin_revokes_any_key() {
    let app = TestApp::new().await;
    add_user(&app);
    let s = admin(&app).await;
    let me = uuid_of(&app, ADMIN_EMAIL);
    let who = uuid_of(&app, OTHER_EMAIL);
    for action in ["revoke-admin", "disable"] {
        let path = format!("/app/admin/users/{me}/{action}");
        let r = post_form(&app, Some(&s), &path, &[("csrf_token", &s.csrf)]).await;
        assert_eq!(r.status, 400, "{action}: {}", r.text());
        assert!(r.text().contains("last admin"), "{}", r.text());
    }
    assert_eq!(
        get_as(&app, &s, "/app/admin/users").await.status,
        200,
        "still admin"
    );

    // With a second admin, the first may step down; the second is then the last.
    let grant = format!("/app/admin/users/{who}/grant-admin");
    let r = post_form(&app, Some(&s), &grant, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let other = other.unwrap();
    assert_eq!(get_as(&app, &other, "/app/admin/users").await.status, 200);

    // An admin revokes any key of the org: here the org's CLI key.
    let page = get_as(&app, &other, "/app/admin/users").await.text();
    assert!(page.contains("the command line"), "{page}");
    let marker = "action=\"/app/admin/keys/";
    let start = page.find(marker).unwrap() + marker.len();
    let id = page[start..].split('/').next().unwrap().to_string();
    let path = format!("/app/admin/keys/{id}/revoke");
    let r = post_form(&app, Some(&other), &path, &[("csrf_token", &other.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(app.call(app.fr("GET", "/v4/files")).await.status, 401);
    let r = app
        .call(
            request("GET", "/api/admin/asset/unknown")
                .insert_header(("Authorization", format!("ApiKey {}", app.key))),
        )
        .await;
    assert_eq!(r.status, 401);

    let step_down = format!("/app/admin/users/{me}/revoke-admin");
    let r = post_form(&app, Some(&s), &step_down, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        get_as(&app, &s, "/app/admin/users").await.status,
        403,
        "demoted at once"
    );
    let path = format!("/app/admin/users/{who}/revoke-admin");
    let r = post_form(&app, Some(&other), &path, &[("csrf_token", &other.csrf)]).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(get_as(&app, &other, "/app/admin/users").await.status, 200);
}

/// Every set-password token in the mails written so far (`.eml` files: no SMTP in tests).
fn link_tokens(app: &TestApp) -> Vec<String> {
    use base64::Engine;
    let dir = app.state.config.outbox_dir();
    let mut out = Vec::new();
    for file in TestApp::files_under(&dir) {
        let raw = std::fs::read_to_string(&file).unwrap();
        let text = if raw.contains("Content-Transfer-Encoding: base64") {
            let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        } else {
            raw.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        };
        let marker = "http://sharebox.test/password?token=";
        for part in text.split(marker).skip(1) {
            let token: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            out.push(token);
        }
    }
    out
}

/// Delivers the mail owed and returns the one new token.
async fn next_token(app: &TestApp, seen: &[String]) -> String {
    assert_eq!(
        sharebox::mail::worker::deliver_due(&app.state)
            .await
            .unwrap(),
        1
    );
    let fresh: Vec<String> = link_tokens(app)
        .into_iter()
        .filter(|t| !seen.contains(t))
        .collect();
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert!(
        fresh[0].starts_with("sbp_") && fresh[0].len() > 40,
        "{fresh:?}"
    );
    fresh[0].clone()
}

#[actix_web::test]
async fn a_new_user_sets_a_password_by_a_mailed_link_once_within_24_hours() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let new = "newcomer@acme.test";
    let before = outbox_total(&app);
    let r = post_form(
        &app,
        Some(&s),
        "/app/admin/users",
        &[("csrf_token", &s.csrf), ("email", new)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        outbox_total(&app),
        before + 1,
        "the mail is queued with the user"
    );
    let page = get_as(&app, &s, "/app/admin/users").await.text();
    assert!(page.contains(new) && page.contains("member"), "{page}");
    // The same email again: refused beside the form.
    let r = post_form(
        &app,
        Some(&s),
        "/app/admin/users",
        &[("csrf_token", &s.csrf), ("email", new)],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("exists already"));

    let token = next_token(&app, &[]).await;
    // The database keeps only the token's SHA-256.
    let stored: String = app
        .state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT token_hash FROM password_links", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(stored, sha256_hex(token.as_bytes()));
    // No password yet: nothing signs in.
    let (_, none) = sign_in(&app, new, "a password of theirs", "/app").await;
    assert!(none.is_none());

    let path = format!("/password?token={token}");
    let form = app.call(request("GET", &path)).await;
    assert_eq!(form.status, 200, "{}", form.text());
    assert!(form.text().contains(new));
    assert!(form.text().contains("action=\"/password\""));
    let set = |password: &'static str, token: &str| {
        [
            ("token", token.to_string()),
            ("password", password.to_string()),
        ]
    };
    let post = |fields: [(&'static str, String); 2]| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, None, "/password", &fields).await
        }
    };
    let r = post(set("short", &token)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!r.text().contains("short\""), "the password is not echoed");
    let r = post(set("a password of theirs", &token)).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (_, signed) = sign_in(&app, new, "a password of theirs", "/app").await;
    assert!(signed.is_some(), "the new password signs in");
    // Single use.
    let r = post(set("another password here", &token)).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(app.call(request("GET", &path)).await.status, 404);
    let (_, old) = sign_in(&app, new, "a password of theirs", "/app").await;
    assert!(old.is_some(), "the used link changed nothing");

    // A reset by the same kind of link; it fails after 24 hours, by the clock.
    let who = uuid_of(&app, new);
    let reset = format!("/app/admin/users/{who}/reset-password");
    let r = post_form(&app, Some(&s), &reset, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let late = next_token(&app, &[token]).await;
    let path = format!("/password?token={late}");
    app.clock.advance(chrono::Duration::hours(23));
    assert_eq!(app.call(request("GET", &path)).await.status, 200);
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(app.call(request("GET", &path)).await.status, 404);
    let r = post(set("too late a password", &late)).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let (_, still) = sign_in(&app, new, "a password of theirs", "/app").await;
    assert!(still.is_some(), "the expired link changed nothing");
}
