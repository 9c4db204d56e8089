//! Issue 8: the owner's web UI over HTTP, through the real app.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::json;

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

#[actix_web::test]
async fn sign_in_rules() {
    let app = TestApp::new().await;
    let r = app.call(request("GET", "/app/shares?x=1")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/login?next=%2Fapp%2Fshares%3Fx%3D1")
    );

    let form = app.call(request("GET", "/login?next=/app/shares")).await;
    assert_eq!(form.status, 200);
    let html = form.text();
    for field in ["name=\"email\"", "name=\"password\"", "name=\"csrf_token\""] {
        assert!(html.contains(field), "{field} missing");
    }
    assert_eq!(hidden(&html, "next"), "/app/shares");
    for evil in [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let enc: String =
            percent_encoding::utf8_percent_encode(evil, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let html = app
            .call(request("GET", &format!("/login?next={enc}")))
            .await
            .text();
        assert_eq!(hidden(&html, "next"), "/app", "{evil}");
    }
    // A posted next is checked again.
    let (r, _) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "//evil.example").await;
    assert_eq!(r.header("location"), Some("/app"));

    // Wrong password: the form again, 401, no session.
    let (r, s) = sign_in(&app, ADMIN_EMAIL, "wrong password", "/app").await;
    assert_eq!(r.status, 401);
    assert!(s.is_none());
    assert!(r.text().contains("The email or password is wrong."));
    assert!(
        r.text().contains(&format!("value=\"{ADMIN_EMAIL}\"")),
        "the email stays"
    );

    // A session cookie: HttpOnly, SameSite=Lax, Path=/, a new id at every sign-in.
    let (r, first) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app/shares").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/app/shares"));
    let set = set_cookie(&r, "sb_session").unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    let (_, second) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_ne!(first.cookie, second.cookie);
    assert_ne!(first.csrf, second.csrf);

    // A login form post without its pre-session token is refused.
    let r = post_form(
        &app,
        None,
        "/login",
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", "x"),
        ],
    )
    .await;
    assert_eq!(r.status, 403);

    // Logout needs the token, then ends the session.
    let r = post_form(&app, Some(&first), "/logout", &[("csrf_token", "nope")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(get_as(&app, &first, "/app").await.status, 200);
    let r = post_form(
        &app,
        Some(&first),
        "/logout",
        &[("csrf_token", &first.csrf)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(get_as(&app, &first, "/app").await.status, 303);
    assert_eq!(
        get_as(&app, &second, "/app").await.status,
        200,
        "other sessions live on"
    );
}

#[actix_web::test]
async fn web_and_api_login_share_one_throttle() {
    let app = TestApp::new().await;
    for _ in 0..10 {
        assert_eq!(app.login(ADMIN_EMAIL, "wrong password").await.status, 401);
    }
    let (r, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 429);
    assert!(s.is_none());
    assert!(r.header("retry-after").is_some());
}

#[actix_web::test]
async fn library_upload_and_folders() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    app.upload_one("/", "report <2030>.pdf", b"%PDF").await;
    let html = get_as(&app, &s, "/app").await.text();
    assert!(html.contains("report &#60;2030&#62;.pdf") && html.contains("application/pdf"));

    // Upload through the UI: the v4 answer with the token in a header; refused without it.
    let mp = multipart(&[
        ("file", Some("ui.txt"), None, b"from the ui"),
        ("file", Some("two.txt"), None, b"2"),
    ]);
    let r = app
        .call(
            request("POST", "/app/upload")
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(mp.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.call(app.fr("GET", "/v4/files")).await.json()["total"],
        1,
        "nothing stored"
    );
    let r = app
        .call(
            request("POST", "/app/upload")
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header(("x-csrf-token", s.csrf.clone()))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(mp.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["status"], "success");
    assert_eq!(j["files"][0]["name"], "ui.txt");
    assert_eq!(j["files"][0]["hash"]["sha256"], sha256_hex(b"from the ui"));
    // API credentials are not a session.
    let r = app
        .call(
            request("POST", "/app/upload")
                .insert_header(("X-Filerobot-Key", app.key.clone()))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(mp.clone()),
        )
        .await;
    assert_eq!(r.status, 303);
    // A plain form post (token in the action URL) goes back to the folder.
    let r = app
        .call(
            request("POST", &format!("/app/upload?csrf_token={}", s.csrf))
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(multipart(&[("file", Some("plain.txt"), None, b"p")])),
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(get_as(&app, &s, "/app").await.text().contains("plain.txt"));

    // New folder, rename, delete with a confirmation page.
    let root = hidden(&get_as(&app, &s, "/app").await.text(), "folder_uuid");
    let r = post_form(
        &app,
        Some(&s),
        "/app/folders",
        &[
            ("csrf_token", &s.csrf),
            ("folder_uuid", &root),
            ("name", "Reports"),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    let folder = app
        .call(app.fr("GET", "/v4/folders?folder=/Reports"))
        .await
        .json()["folder"]
        .clone();
    let fu = folder["uuid"].as_str().unwrap();
    let r = post_form(
        &app,
        Some(&s),
        &format!("/app/folders/{fu}/rename"),
        &[("csrf_token", &s.csrf), ("name", "Reports 2030")],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        app.call(app.fr("GET", &format!("/v4/folders/{fu}")))
            .await
            .json()["folder"]["name"],
        "Reports 2030"
    );
    let confirm = get_as(&app, &s, &format!("/app/folders/{fu}/delete")).await;
    assert!(confirm.text().contains("Delete the folder “/Reports 2030”"));
    let r = post_form(
        &app,
        Some(&s),
        &format!("/app/folders/{fu}/delete"),
        &[("csrf_token", "stale")],
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.call(app.fr("GET", &format!("/v4/folders/{fu}")))
            .await
            .status,
        200
    );
    let r = post_form(
        &app,
        Some(&s),
        &format!("/app/folders/{fu}/delete"),
        &[("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        app.call(app.fr("GET", &format!("/v4/folders/{fu}")))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn share_form_csrf_zones_and_dashboard() {
    let app = TestApp::new().await;
    add_user(&app);
    let s = admin(&app).await;
    let f = app.upload_one("/", "deck.pdf", b"%PDF-deck").await;
    let fu = f["uuid"].as_str().unwrap();
    let form = get_as(&app, &s, &format!("/app/shares/new?item=file:{fu}")).await;
    assert_eq!(form.status, 200);
    let html = form.text();
    assert!(html.contains("deck.pdf"));
    assert!(
        html.contains(&format!("value=\"file:{fu}\" checked")),
        "preselected from the library"
    );
    assert!(
        html.contains("<option value=\"Europe/Sofia\"")
            && html.contains("<option value=\"America/St_Johns\"")
    );

    let item = format!("file:{fu}");
    let fields = |csrf: &str| -> Vec<(String, String)> {
        vec![
            ("csrf_token".into(), csrf.into()),
            ("title".into(), "Board deck".into()),
            ("item".into(), item.clone()),
            ("expires_at".into(), "2031-08-24T18:29".into()),
            ("expires_tz".into(), "Europe/Sofia".into()),
            ("starts_tz".into(), "Europe/Sofia".into()),
            ("permissions".into(), "READ+DOWNLOAD".into()),
            ("access".into(), "link".into()),
            ("password".into(), "deck pass".into()),
            ("recipients".into(), "a@x.test\nb@x.test".into()),
            ("message".into(), "Please review".into()),
        ]
    };
    let as_refs = |v: &Vec<(String, String)>| {
        v.iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    let post = |fields: Vec<(String, String)>, sess: &Session| {
        let req = request("POST", "/app/shares")
            .insert_header(("cookie", sess.cookie.clone()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(serde_urlencoded::to_string(&fields).unwrap());
        let app = &app;
        async move { app.call(req).await }
    };
    // No token, and another session's token: 403, no share.
    let mut no_token = as_refs(&fields(""));
    no_token.remove(0);
    assert_eq!(post(no_token, &s).await.status, 403);
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let other = other.unwrap();
    assert_eq!(post(fields(&other.csrf), &s).await.status, 403);
    assert_eq!(share_count(&app).await, 0);

    // A bad zone: 400 beside the field, the values kept.
    let mut bad = fields(&s.csrf);
    bad.retain(|(k, _)| k != "expires_tz");
    bad.push(("expires_tz".into(), "Mars/Olympus".into()));
    let r = post(bad, &s).await;
    assert_eq!(r.status, 400);
    let html = r.text();
    assert!(
        html.contains("id=\"error-expires_tz\"")
            && html.contains("&#39;Mars/Olympus&#39; is not an IANA time zone"),
        "{html}"
    );
    assert!(
        html.contains("value=\"Board deck\"")
            && html.contains("Please review")
            && html.contains("a@x.test\nb@x.test")
    );
    assert!(!html.contains("deck pass"), "the password is never echoed");
    assert_eq!(share_count(&app).await, 0);

    // The right token: 303 and the share, its expiry converted from Sofia time.
    let r = post(fields(&s.csrf), &s).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let list = app.call(app.fr("GET", "/v5/shares")).await.json();
    let share = list["shares"][0].clone();
    assert_eq!(share["title"], "Board deck");
    assert_eq!(share["expires_at"], "2031-08-24T15:29:00Z");
    assert_eq!(share["expires_tz"], "Europe/Sofia");
    assert_eq!(share["password_protected"], true);
    assert_eq!(share["recipients"].as_array().unwrap().len(), 2);
    assert!(share["owner_uuid"].is_string());
    assert_eq!(
        r.header("location"),
        Some(
            format!(
                "/app/shares/{}?done=created",
                share["uuid"].as_str().unwrap()
            )
            .as_str()
        )
    );

    // The dashboard lists it with its link, expiry in its zone and delivery states.
    let html = get_as(&app, &s, "/app/shares").await.text();
    assert!(html.contains("Board deck") && html.contains(share["share_uri"].as_str().unwrap()));
    assert!(html.contains("24 Aug 2031, 18:29 Europe/Sofia") && html.contains("pending"));

    // Extend by a week in one click; revoke and restore.
    let uuid = share["uuid"].as_str().unwrap();
    let r = post_form(
        &app,
        Some(&s),
        &format!("/app/shares/{uuid}/extend"),
        &[("csrf_token", &s.csrf), ("by", "week")],
    )
    .await;
    assert_eq!(r.status, 303);
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json();
    assert_eq!(j["share"]["expires_at"], "2031-08-31T15:29:00Z");
    post_form(
        &app,
        Some(&s),
        &format!("/app/shares/{uuid}/revoke"),
        &[("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(
        app.call(app.fr("GET", &format!("/v5/shares/{uuid}")))
            .await
            .json()["share"]["status"],
        "revoked"
    );
    post_form(
        &app,
        Some(&s),
        &format!("/app/shares/{uuid}/restore"),
        &[("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(
        app.call(app.fr("GET", &format!("/v5/shares/{uuid}")))
            .await
            .json()["share"]["status"],
        "active"
    );

    // Edit keeps the password unless a new one is typed.
    let edit = get_as(&app, &s, &format!("/app/shares/{uuid}/edit"))
        .await
        .text();
    assert!(
        edit.contains("value=\"2031-08-31T18:29\""),
        "wall time in its zone"
    );
    let mut e = fields(&s.csrf);
    e.retain(|(k, _)| k != "password" && k != "title");
    e.push(("title".into(), "Board deck v2".into()));
    e.push(("keep_password".into(), "1".into()));
    let r = app
        .call(
            request("POST", &format!("/app/shares/{uuid}"))
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(serde_urlencoded::to_string(&e).unwrap()),
        )
        .await;
    assert_eq!(r.status, 303);
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json();
    assert_eq!(j["share"]["title"], "Board deck v2");
    assert_eq!(j["share"]["password_protected"], true);

    // Activity page and delete with confirmation.
    assert_eq!(
        get_as(&app, &s, &format!("/app/shares/{uuid}/activity"))
            .await
            .status,
        200
    );
    assert!(get_as(&app, &s, &format!("/app/shares/{uuid}/delete"))
        .await
        .text()
        .contains("Its link stops working"));
    let r = post_form(
        &app,
        Some(&s),
        &format!("/app/shares/{uuid}/delete"),
        &[("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(share_count(&app).await, 0);
}

#[actix_web::test]
async fn users_shares_let_in_their_users() {
    let app = TestApp::new().await;
    add_user(&app);
    let f = app.upload_one("/", "staff.txt", b"staff only").await;
    let r = app
        .call(json_body(
            app.fr("POST", "/v5/shares"),
            &json!({"title": "Staff", "access": "users", "users": [ADMIN_EMAIL],
            "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}]}),
        ))
        .await;
    let uri = r.json()["share"]["share_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string();

    // Anonymous: to the login page, and back after signing in.
    let r = app.call(request("GET", &uri)).await;
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap().to_string();
    let next = location.strip_prefix("/login?next=").unwrap();
    let (r, s) = sign_in(
        &app,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        &percent_encoding::percent_decode_str(next)
            .decode_utf8()
            .unwrap(),
    )
    .await;
    assert_eq!(r.header("location"), Some(uri.as_str()));
    let s = s.unwrap();
    let page = get_as(&app, &s, &uri).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("staff.txt"));
    let file = get_as(
        &app,
        &s,
        &format!("{uri}/files/{}", f["uuid"].as_str().unwrap()),
    )
    .await;
    assert_eq!(file.body.as_ref(), b"staff only");

    // Another signed-in user of the org: 403.
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let r = get_as(&app, &other.unwrap(), &uri).await;
    assert_eq!(r.status, 403);
}

/// What the org has, through the API: a refused write must leave all of it as it was.
async fn everything(app: &TestApp) -> serde_json::Value {
    let mut shares = app.call(app.fr("GET", "/v5/shares")).await.json();
    shares["info"].take(); // how long the answer took
    json!({
        "files": app.call(app.fr("GET", "/v4/files")).await.json(),
        "folders": app.call(app.fr("GET", "/v4/folders")).await.json(),
        "shares": shares,
        "outbox": outbox_total(app),
    })
}

#[actix_web::test]
async fn an_unknown_folder_visibility_gets_the_form_back_and_stores_nothing() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    let lib = library(&app).await;
    let folder = format!("folder:{}", lib.folder1);
    let visibility = format!("visibility_{}", lib.folder1);
    let post = |path: String, vis: &'static str| {
        let (app, s) = (&app, &s);
        let fields: Vec<(String, String)> = vec![
            ("csrf_token".into(), s.csrf.clone()),
            ("title".into(), "Campaign".into()),
            ("item".into(), folder.clone()),
            ("recursive".into(), lib.folder1.clone()),
            (visibility.clone(), vis.into()),
            ("permissions".into(), "READ+DOWNLOAD".into()),
            ("access".into(), "link".into()),
            ("recipients".into(), "a@x.test".into()),
        ];
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(app, Some(s), &path, &refs).await
        }
    };
    let before = everything(&app).await;

    // New share: the form again, 400, the error beside the items, the values kept.
    let r = post("/app/shares".into(), "EVERYONE").await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("id=\"error-items\"")
            && html.contains("must be &#34;PUB&#34;, &#34;ORG&#34; or &#34;PUB,ORG&#34;"),
        "{html}"
    );
    assert!(html.contains("<h1>New share</h1>") && html.contains("value=\"Campaign\""));
    assert!(html.contains(&format!("value=\"{folder}\" checked")));
    assert_eq!(share_count(&app).await, 0);
    assert_eq!(
        everything(&app).await,
        before,
        "nothing stored, no mail queued"
    );

    // Edit: the same, and the share stays as it was.
    let share = create_share(
        &app,
        &json!({"title": "Campaign", "items": [{"type": "folder_uuid",
            "identifiers": [lib.folder1], "recursive": true}]}),
    )
    .await;
    let uuid = share["uuid"].as_str().unwrap();
    let before = everything(&app).await;
    let r = post(format!("/app/shares/{uuid}"), "PUB,EVERYONE").await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"error-items\"") && html.contains("<h1>Edit share</h1>"));
    assert_eq!(everything(&app).await, before, "the share is unchanged");

    // A known filter in any letter case is taken.
    let r = post(format!("/app/shares/{uuid}"), "org").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json();
    assert_eq!(
        j["share"]["items"],
        json!([{"type": "folder_uuid", "identifiers": [lib.folder1],
            "options": {"recursive": true, "visibility": "ORG"}}])
    );
}

#[actix_web::test]
async fn every_owner_write_needs_the_sessions_csrf_token() {
    let app = TestApp::new().await;
    add_user(&app);
    let s = admin(&app).await;
    let (_, other) = sign_in(&app, OTHER_EMAIL, OTHER_PASSWORD, "/app").await;
    let other = other.unwrap();
    let lib = library(&app).await;
    let share = create_share(
        &app,
        &json!({"title": "Deck", "expires_at": "2031-01-01T00:00:00Z",
            "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]}),
    )
    .await;
    let sid = share["uuid"].as_str().unwrap().to_string();
    let root = hidden(&get_as(&app, &s, "/app").await.text(), "folder_uuid");
    let (f1, fo) = (lib.file1.clone(), lib.folder1.clone());
    let item = format!("file:{f1}");
    let writes: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/logout".into(), vec![]),
        (
            "/app/folders".into(),
            vec![("folder_uuid", &root), ("name", "New")],
        ),
        (
            "/app/shares".into(),
            vec![("title", "Another"), ("item", &item)],
        ),
        (
            format!("/app/shares/{sid}"),
            vec![("title", "Renamed"), ("item", &item)],
        ),
        (format!("/app/files/{f1}/rename"), vec![("name", "x.txt")]),
        (format!("/app/folders/{fo}/rename"), vec![("name", "x")]),
        (format!("/app/files/{f1}/delete"), vec![]),
        (format!("/app/folders/{fo}/delete"), vec![]),
        (format!("/app/shares/{sid}/delete"), vec![]),
        (format!("/app/shares/{sid}/revoke"), vec![]),
        (format!("/app/shares/{sid}/extend"), vec![("by", "week")]),
        (
            format!("/app/shares/{sid}/resend"),
            vec![("email", "someone@x.test")],
        ),
        (
            "/app/account/password".into(),
            vec![
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a brand new password"),
            ],
        ),
        ("/app/account/keys".into(), vec![("name", "k")]),
        ("/app/account/keys/1/revoke".into(), vec![]),
        (
            "/app/admin/users".into(),
            vec![("email", "newcomer@acme.test")],
        ),
        ("/app/admin/users/some-uuid/disable".into(), vec![]),
        ("/app/admin/users/some-uuid/reset-password".into(), vec![]),
        ("/app/admin/keys/1/revoke".into(), vec![]),
    ];
    let before = everything(&app).await;
    for (path, fields) in &writes {
        for token in [None, Some("stale"), Some(other.csrf.as_str())] {
            let mut body = fields.clone();
            if let Some(t) = token {
                body.push(("csrf_token", t));
            }
            let r = post_form(&app, Some(&s), path, &body).await;
            assert_eq!(r.status, 403, "{path} with {token:?}: {}", r.text());
            assert!(r.text().contains("did not come from this site"), "{path}");
            assert_eq!(everything(&app).await, before, "{path} with {token:?}");
        }
    }
    // Restore a revoked share: refused the same way.
    let r = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/shares/{sid}")),
            &json!({"status": "revoked"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let before = everything(&app).await;
    let path = format!("/app/shares/{sid}/restore");
    for token in ["", "stale", &other.csrf] {
        let r = post_form(&app, Some(&s), &path, &[("csrf_token", token)]).await;
        assert_eq!(r.status, 403);
        assert_eq!(everything(&app).await, before, "still revoked");
    }

    // The upload: the token in neither place, a wrong one in either, or a wrong header with
    // the right query (the header wins): 403 and no file.
    let upload = |query: String, header: Option<&str>| {
        let mut req = request("POST", &format!("/app/upload{query}"))
            .insert_header(("cookie", s.cookie.clone()))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(multipart(&[("file", Some("new.txt"), None, b"new")]));
        if let Some(h) = header {
            req = req.insert_header(("x-csrf-token", h.to_string()));
        }
        let app = &app;
        async move { app.call(req).await }
    };
    let cases = [
        (String::new(), None),
        ("?csrf_token=stale".to_string(), None),
        (format!("?csrf_token={}", other.csrf), None),
        (String::new(), Some("stale")),
        (String::new(), Some(other.csrf.as_str())),
        (format!("?csrf_token={}", s.csrf), Some("stale")),
    ];
    for (query, header) in cases {
        let r = upload(query.clone(), header).await;
        assert_eq!(r.status, 403, "{query} {header:?}");
        assert_eq!(everything(&app).await, before, "{query} {header:?}");
    }

    // The session lives on, and its own token does the work.
    assert_eq!(get_as(&app, &s, "/app").await.status, 200);
    let r = post_form(&app, Some(&s), &path, &[("csrf_token", &s.csrf)]).await;
    assert_eq!(r.status, 303);
    assert_ne!(everything(&app).await, before);
}
