//! Issue 5: the share service through Filerobot's v5 routes, the sharebox reader and the share
//! link, through the real app, with the fixtures real clients send.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/fixtures.rs"]
mod fixtures;

use chrono::Duration;
use common::*;
use common::{create_share as create_ok, share_count as count};
use fixtures::fixture;
use serde_json::{json, Value};

async fn create(app: &TestApp, body: &Value) -> Resp {
    app.call(json_body(app.fr("POST", "/v5/shares"), body))
        .await
}

/// The share's queued mails as (email, kind, status), oldest first.
fn outbox(app: &TestApp, share_uuid: &str) -> Vec<(String, String, String)> {
    share_outbox(app, share_uuid)
        .into_iter()
        .map(|o| (o.email, o.kind, o.status))
        .collect()
}

/// tests/fixtures/ holds every fixture the tests read, byte-identical to ../shared/fixtures/
/// when that is there.
#[test]
fn fixtures_are_here_and_match_the_shared_ones() {
    fixtures::check_copies();
}

#[actix_web::test]
async fn seed_fixture_whole_answer() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let body = fixture(
        "filerobot-create-seed.json",
        &[("file1", &lib.file1), ("file2", &lib.file2)],
    );
    let r = create(&app, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    assert!(
        !r.text().contains("\"auth\"") && !r.text().contains("\"pass\""),
        "{}",
        r.text()
    );
    let j = r.json();
    assert_eq!(j["status"], "success");
    assert_eq!(j["msg"], "Successfully added a new share");
    assert_eq!(j["info"]["api_version"], 5);
    assert!(j["info"]["duration"].is_number());
    let s = j["share"].clone();
    let puid = s["puid"].as_str().unwrap();
    assert!(
        puid.len() >= 21
            && puid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{puid}"
    );
    assert_eq!(
        s,
        json!({
            "uuid": s["uuid"], "puid": puid,
            "title": "My share link 08/17/2031 06:48 PM", "description": "Short description",
            "items": [{"type": "file_uuid", "identifiers": [lib.file1, lib.file2]}],
            "starts_at": "2031-08-18T15:29:00Z", "expires_at": "2031-08-24T15:29:00Z",
            "starts_tz": "Europe/Sofia", "expires_tz": "Europe/Sofia",
            "show_starts_at": true, "show_expires_at": true,
            "share_uri": format!("http://sharebox.test/s/{puid}/my-share-link-08-17-2031-06-48-pm"),
            "status": "scheduled", "password_protected": true, "permissions": "READ+DOWNLOAD",
            "max_downloads": null, "access": "link", "users": [], "recipients": [], "message": null,
            "owner_uuid": null, "views": 0, "downloads": 0,
            "created_at": "2030-01-15T12:00:00Z", "updated_at": "2030-01-15T12:00:00Z"
        })
    );
    // The same share reads back identically, and in the list.
    let r = app
        .call(app.fr(
            "GET",
            &format!("/v5/shares/{}", s["uuid"].as_str().unwrap()),
        ))
        .await;
    let g = r.json();
    assert_eq!(g["share"], s);
    assert!(g.get("msg").is_none());
    let r = app
        .call(app.fr("GET", &format!("/v5/share/{}", s["uuid"].as_str().unwrap())))
        .await;
    assert_eq!(r.json()["share"], s);
    let l = app.call(app.fr("GET", "/v5/shares")).await.json();
    assert_eq!(l["shares"], json!([s]));
    assert_eq!(l["total"], 1);
}

#[actix_web::test]
async fn widget_fixtures() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let body = fixture(
        "filerobot-create-widget-file.json",
        &[("file1", &lib.file1), ("token", ORG)],
    );
    let r = create(&app, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("secret"));
    let s = r.json()["share"].clone();
    assert_eq!(s["starts_at"], Value::Null);
    assert_eq!(s["starts_tz"], "UTC");
    assert_eq!(s["expires_at"], "2031-11-30T15:04:00Z");
    assert_eq!(s["expires_tz"], "Europe/Sofia");
    assert_eq!(s["status"], "active");
    assert_eq!(s["description"], "");
    assert_eq!(s["password_protected"], true);
    assert_eq!(
        s["items"],
        json!([{"type": "file_uuid", "identifiers": [lib.file1]}])
    );

    let body = fixture(
        "filerobot-create-widget-folder.json",
        &[("folder1", &lib.folder1), ("token", ORG)],
    );
    let s = create_ok(&app, &body).await;
    assert_eq!(s["permissions"], "READ");
    assert_eq!(s["password_protected"], false);
    assert_eq!(s["starts_at"], Value::Null);
    assert_eq!(s["expires_at"], Value::Null);
    assert_eq!(s["status"], "active");
    assert_eq!(
        s["items"],
        json!([{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": true, "visibility": "PUB,ORG"}}])
    );
    // Newest first.
    let l = app.call(app.fr("GET", "/v5/shares")).await.json();
    assert_eq!(l["shares"][0]["uuid"], s["uuid"]);
    assert_eq!(l["total"], 2);
}

#[actix_web::test]
async fn every_bad_field_is_a_400_naming_it_and_changes_nothing() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let other_file = {
        let r = app
            .call(
                request("POST", &format!("/{OTHER_ORG}/v4/upload"))
                    .insert_header(("X-Filerobot-Key", app.other_key.clone()))
                    .insert_header((
                        "content-type",
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    ))
                    .set_payload(multipart(&[("file", Some("o.txt"), None, b"o")])),
            )
            .await;
        r.json()["file"]["uuid"].as_str().unwrap().to_string()
    };
    let good = json!({"title": "T", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("title"), "title"),
        (with("title", json!(7)), "title"),
        (with("title", json!("")), "title"),
        (with("title", json!("x".repeat(201))), "title"),
        (with("description", json!("x".repeat(2001))), "description"),
        (without("items"), "items"),
        (with("items", json!([])), "items"),
        (with("items", json!("x")), "items"),
        (
            with(
                "items",
                json!([{"type": "url", "identifiers": [lib.file1]}]),
            ),
            "items[0].type",
        ),
        (
            with(
                "items",
                json!([{"type": "file_uuid", "identifiers": [lib.file1, "nope"]}]),
            ),
            "items[0].identifiers[1]",
        ),
        (
            with(
                "items",
                json!([{"type": "file_uuid", "identifiers": [lib.file1]}, {"type": "file_uuid", "identifiers": [other_file]}]),
            ),
            "items[1].identifiers[0]",
        ),
        (
            with(
                "items",
                json!([{"type": "folder_uuid", "identifiers": [lib.file1]}]),
            ),
            "items[0].identifiers[0]",
        ),
        (
            with(
                "items",
                json!([{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"visibility": "ALL"}}]),
            ),
            "items[0].options.visibility",
        ),
        (
            with("items", json!([{"type": "file_uuid", "identifiers": [1]}])),
            "items[0].identifiers[0]",
        ),
        (with("starts_at", json!("2031-08-18")), "starts_at"),
        (with("expires_at", json!("soon")), "expires_at"),
        (with("expires_tz", json!("Mars/Base")), "expires_tz"),
        (with("starts_tz", json!(3)), "starts_tz"),
        (with("auth", json!({"pass": "x".repeat(201)})), "auth.pass"),
        (with("auth", json!("secret")), "auth"),
        (with("auth", json!({"pass": 5})), "auth.pass"),
        (with("permissions", json!("WRITE")), "permissions"),
        (with("permissions", json!(["view", "edit"])), "permissions"),
        (with("permissions", json!([])), "permissions"),
        (with("max_downloads", json!(0)), "max_downloads"),
        (with("max_downloads", json!(1_000_001)), "max_downloads"),
        (with("max_downloads", json!("5")), "max_downloads"),
        (with("access", json!("public")), "access"),
        (with("access", json!("users")), "users"),
        (with("users", json!(["nobody@acme.test"])), "users[0]"),
        (with("users", json!([{"name": "x"}])), "users[0]"),
        (with("recipients", json!(["not-an-email"])), "recipients[0]"),
        (
            with("recipients", json!([{"name": "No mail"}])),
            "recipients[0].email",
        ),
        (
            with(
                "recipients",
                json!((0..51).map(|i| format!("r{i}@x.test")).collect::<Vec<_>>()),
            ),
            "recipients",
        ),
        (with("message", json!("x".repeat(2001))), "message"),
        (with("show_starts_at", json!("yes")), "show_starts_at"),
        // DST gap in Sofia; an expiry in the past; an expiry before the start.
        (
            with("expires_at", json!("2031-03-30T03:30"))
                .as_object()
                .cloned()
                .map(|mut o| {
                    o.insert("expires_tz".into(), json!("Europe/Sofia"));
                    Value::Object(o)
                })
                .unwrap(),
            "expires_at",
        ),
        (
            with("expires_at", json!("2020-01-01T00:00:00Z")),
            "expires_at",
        ),
        (
            with("expires_at", json!("2031-01-01T00:00:00Z"))
                .as_object()
                .cloned()
                .map(|mut o| {
                    o.insert("starts_at".into(), json!("2031-02-01T00:00:00Z"));
                    Value::Object(o)
                })
                .unwrap(),
            "expires_at",
        ),
    ];
    for (body, field) in cases {
        let r = create(&app, &body).await;
        let j = assert_fr_error(&r, 400, "INVALID_FIELD");
        let msg = j["msg"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("{field}: ")),
            "expected {field}, got {msg} for {body}"
        );
    }
    let r = app
        .call(
            app.fr("POST", "/v5/shares")
                .insert_header(("content-type", "application/json"))
                .set_payload("{"),
        )
        .await;
    assert_fr_error(&r, 400, "MALFORMED_JSON");
    let r = app
        .call(json_body(app.fr("POST", "/v5/shares"), &json!([1])))
        .await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    assert_eq!(count(&app).await, 0);
    assert_eq!(outbox_total(&app), 0, "a rejected request queued mail");
}

#[actix_web::test]
async fn forms_of_permissions_auth_users_and_recipients() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let base =
        json!({"title": "Forms", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]});
    for (perm, expected) in [
        (json!("read"), "READ"),
        (json!(["view"]), "READ"),
        (json!(["view", "download"]), "READ+DOWNLOAD"),
        (json!(["Download"]), "READ+DOWNLOAD"),
        (json!("READ+DOWNLOAD"), "READ+DOWNLOAD"),
    ] {
        let mut b = base.clone();
        b["permissions"] = perm;
        assert_eq!(create_ok(&app, &b).await["permissions"], expected);
    }
    for (auth, protected) in [
        (json!({}), false),
        (json!([]), false),
        (Value::Null, false),
        (json!({"pass": ""}), false),
        (json!({"pass": null}), false),
        (json!([{"pass": "pw", "user": "ignored"}]), true),
    ] {
        let mut b = base.clone();
        b["auth"] = auth.clone();
        assert_eq!(
            create_ok(&app, &b).await["password_protected"],
            protected,
            "{auth}"
        );
    }
    let mut b = base.clone();
    b["access"] = json!("users");
    b["users"] = json!([{"email": ADMIN_EMAIL.to_uppercase()}, ADMIN_EMAIL]);
    b["recipients"] = json!(["a@x.test", {"email": "b@x.test", "name": "Bee"}, "A@X.test"]);
    b["message"] = json!("Hello");
    b["max_downloads"] = json!(3);
    b["ignored_field"] = json!(true);
    let s = create_ok(&app, &b).await;
    assert_eq!(s["access"], "users");
    assert_eq!(
        s["users"].as_array().unwrap().len(),
        1,
        "duplicates dropped"
    );
    assert_eq!(s["users"][0]["email"], ADMIN_EMAIL);
    assert_eq!(s["users"][0]["delivery"], "pending");
    assert_eq!(s["users"][0]["uuid"].as_str().unwrap().len(), 36);
    assert_eq!(
        s["recipients"],
        json!([{"email": "a@x.test", "name": null, "delivery": "pending"}, {"email": "b@x.test", "name": "Bee", "delivery": "pending"}])
    );
    assert_eq!(s["message"], "Hello");
    assert_eq!(s["max_downloads"], 3);
    let mails = outbox(&app, s["uuid"].as_str().unwrap());
    assert_eq!(
        mails,
        vec![
            (
                ADMIN_EMAIL.to_string(),
                "share".to_string(),
                "pending".to_string()
            ),
            ("a@x.test".into(), "share".into(), "pending".into()),
            ("b@x.test".into(), "share".into(), "pending".into())
        ]
    );
    // Duplicate items drop; owner is the Bearer's user.
    let (token, _) = app.admin_tokens().await;
    let r = app
        .call(json_body(
            request("POST", &format!("/{ORG}/v5/shares")).insert_header(("Authorization", format!("Bearer {token}"))),
            &json!({"title": "Mine", "items": [{"type": "file_uuid", "identifiers": [lib.file1, lib.file1]}, {"type": "file_uuid", "identifiers": [lib.file1]}]}),
        ))
        .await;
    let s = r.json()["share"].clone();
    assert_eq!(
        s["items"],
        json!([{"type": "file_uuid", "identifiers": [lib.file1]}])
    );
    assert!(s["owner_uuid"].as_str().is_some_and(|u| u.len() == 36));
}

#[actix_web::test]
async fn put_semantics_one_by_one() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = create_ok(
        &app,
        &json!({"title": "Start", "description": "d", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}],
                "starts_at": "2031-01-01T10:00", "starts_tz": "Europe/Sofia", "expires_at": "2031-06-01T10:00", "expires_tz": "Europe/Sofia",
                "auth": {"pass": "first"}, "max_downloads": 5, "recipients": ["r1@x.test"]}),
    )
    .await;
    let uuid = s["uuid"].as_str().unwrap().to_string();
    let put = |body: Value| {
        let req = json_body(app.fr("PUT", &format!("/v5/shares/{uuid}")), &body);
        let app = &app;
        async move { app.call(req).await }
    };
    app.clock.advance(Duration::seconds(60));
    // Present fields replace; absent ones stay.
    let r = put(json!({"title": "Renamed", "uuid": "00000000-0000-4000-8000-000000000000"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["msg"], "Successfully updated the share");
    let t = j["share"].clone();
    assert_eq!(t["title"], "Renamed");
    assert_eq!(t["uuid"], uuid.as_str(), "a body uuid is ignored");
    assert_eq!(t["description"], "d");
    assert_eq!(t["starts_at"], s["starts_at"]);
    assert_eq!(
        t["share_uri"],
        format!(
            "http://sharebox.test/s/{}/renamed",
            s["puid"].as_str().unwrap()
        )
    );
    assert_eq!(t["updated_at"], "2030-01-15T12:01:00Z");
    assert_eq!(t["created_at"], s["created_at"]);
    // items replaces the list.
    let t = put(json!({"items": [{"type": "folder_uuid", "identifiers": [lib.folder1]}]}))
        .await
        .json()["share"]
        .clone();
    assert_eq!(
        t["items"],
        json!([{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": false, "visibility": "PUB,ORG"}}])
    );
    // A wall time without its zone is read in the share's zone.
    let t = put(json!({"expires_at": "2031-07-01T12:00"})).await.json()["share"].clone();
    assert_eq!(t["expires_at"], "2031-07-01T09:00:00Z");
    assert_eq!(t["expires_tz"], "Europe/Sofia");
    // A date set to null is removed; a zone set to null is UTC.
    let t = put(json!({"starts_at": null, "starts_tz": null}))
        .await
        .json()["share"]
        .clone();
    assert_eq!(
        (t["starts_at"].clone(), t["starts_tz"].clone()),
        (Value::Null, json!("UTC"))
    );
    assert_eq!(t["status"], "active");
    // auth: null removes the password; a new one sets it.
    assert_eq!(
        put(json!({"auth": null})).await.json()["share"]["password_protected"],
        false
    );
    assert_eq!(
        put(json!({"auth": {"pass": "second"}})).await.json()["share"]["password_protected"],
        true
    );
    assert_eq!(
        put(json!({"auth": {}})).await.json()["share"]["password_protected"],
        false
    );
    // max_downloads: null lifts the limit.
    assert_eq!(
        put(json!({"max_downloads": null})).await.json()["share"]["max_downloads"],
        Value::Null
    );
    // status: revoked / active; anything else is a 400.
    assert_eq!(
        put(json!({"status": "revoked"})).await.json()["share"]["status"],
        "revoked"
    );
    assert_eq!(
        put(json!({"status": "active"})).await.json()["share"]["status"],
        "active"
    );
    let r = put(json!({"status": "expired"})).await;
    assert_eq!(
        assert_fr_error(&r, 400, "INVALID_FIELD")["msg"],
        "status: only \"revoked\" (revoke) or \"active\" (restore) can be set"
    );
    // Bad values change nothing.
    let before = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json()["share"]
        .clone();
    let r = put(json!({"title": "Never", "expires_at": "2019-01-01T00:00:00Z"})).await;
    assert_fr_error(&r, 400, "INVALID_FIELD");
    assert_eq!(
        app.call(app.fr("GET", &format!("/v5/shares/{uuid}")))
            .await
            .json()["share"],
        before
    );
    // Recipients: only added ones get mail.
    let t = put(json!({"recipients": ["r1@x.test", "r2@x.test"]}))
        .await
        .json()["share"]
        .clone();
    assert_eq!(t["recipients"].as_array().unwrap().len(), 2);
    let mails: Vec<String> = outbox(&app, &uuid).into_iter().map(|m| m.0).collect();
    assert_eq!(mails, ["r1@x.test", "r2@x.test"]);
    // An empty PUT changes nothing but the update time.
    let r = app
        .call(
            app.fr("PUT", &format!("/v5/shares/{uuid}"))
                .insert_header(("content-type", "application/json")),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn other_org_delete_and_status_filter() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = create_ok(&app, &json!({"title": "Mine", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}], "expires_at": "2030-02-01T00:00:00Z"})).await;
    let uuid = s["uuid"].as_str().unwrap();
    for (m, body) in [
        ("GET", None),
        ("PUT", Some(json!({"title": "x"}))),
        ("DELETE", None),
        ("GET", None),
    ] {
        let mut req = request(m, &format!("/{OTHER_ORG}/v5/shares/{uuid}"))
            .insert_header(("X-Filerobot-Key", app.other_key.clone()));
        if let Some(b) = body {
            req = json_body(req, &b);
        }
        assert_fr_error(&app.call(req).await, 404, "NOT_FOUND");
    }
    let list = app
        .call(
            request("GET", &format!("/{OTHER_ORG}/v5/shares"))
                .insert_header(("X-Filerobot-Key", app.other_key.clone())),
        )
        .await;
    assert_eq!(list.json()["total"], 0);
    // The reader refuses it under the other org's token too.
    let r = app
        .call(request(
            "GET",
            &format!("/{OTHER_ORG}/v4/share/{}", s["puid"].as_str().unwrap()),
        ))
        .await;
    assert_fr_error(&r, 404, "NOT_FOUND");

    let revoked = create_ok(
        &app,
        &json!({"title": "Gone", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]}),
    )
    .await;
    app.call(json_body(
        app.fr(
            "PUT",
            &format!("/v5/shares/{}", revoked["uuid"].as_str().unwrap()),
        ),
        &json!({"status": "revoked"}),
    ))
    .await;
    let by = |status: &'static str| {
        let req = app.fr("GET", &format!("/v5/shares?status={status}"));
        let app = &app;
        async move { app.call(req).await.json() }
    };
    assert_eq!(by("active").await["total"], 1);
    assert_eq!(by("revoked").await["shares"][0]["uuid"], revoked["uuid"]);
    app.clock.advance(Duration::days(30));
    assert_eq!(by("expired").await["shares"][0]["uuid"], s["uuid"]);
    assert_eq!(by("active").await["total"], 0);
    assert_fr_error(
        &app.call(app.fr("GET", "/v5/shares?status=weird")).await,
        400,
        "INVALID_FIELD",
    );

    let r = app
        .call(app.fr("DELETE", &format!("/v5/shares/{uuid}")))
        .await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(
        j["msg"],
        format!("Successfully deleted the share with uuid={uuid}")
    );
    assert_eq!(j["info"]["api_version"], 5);
    assert_fr_error(
        &app.call(app.fr("GET", &format!("/v5/shares/{uuid}"))).await,
        404,
        "NOT_FOUND",
    );
    assert_fr_error(
        &app.call(app.fr("DELETE", &format!("/v5/share/{uuid}")))
            .await,
        404,
        "NOT_FOUND",
    );
    let r = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s["puid"].as_str().unwrap()),
        ))
        .await;
    assert_fr_error(&r, 404, "NOT_FOUND");
}

/// Builds /deep/a/b/c with duplicate names at each level and returns the deep folder's uuid.
async fn deep_library(app: &TestApp) -> String {
    let top = app.mkdir("/deep/a/b/c").await;
    let _ = top;
    app.upload_one("/deep", "same.txt", b"1").await;
    app.clock.advance(Duration::seconds(1));
    app.upload_one("/deep", "a", b"file named like the folder")
        .await;
    app.upload_one("/deep/a", "x.txt", b"ax").await;
    app.upload_one("/deep/a/b", "y.txt", b"by").await;
    app.upload_one("/deep/a/b/c", "z.txt", b"cz").await;
    let pubf = app.upload_one("/deep/a/b/c", "public.txt", b"pub").await;
    app.call(json_body(
        app.fr(
            "PATCH",
            &format!("/v4/files/{}", pubf["uuid"].as_str().unwrap()),
        ),
        &json!({"visibility": "PUB"}),
    ))
    .await;
    app.call(app.fr("GET", "/v4/folders?folder=/deep"))
        .await
        .json()["folder"]["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn reader_tree_names_and_urls() {
    let app = TestApp::new().await;
    let deep = deep_library(&app).await;
    // A top-level file also named "same.txt" from elsewhere.
    let other_same = app.upload_one("/elsewhere", "same.txt", b"2").await;
    let s = create_ok(
        &app,
        &json!({"title": "Tree", "items": [
            {"type": "folder_uuid", "identifiers": [deep], "options": {"recursive": true, "visibility": "PUB,ORG"}},
            {"type": "file_uuid", "identifiers": [other_same["uuid"]]}],
            "show_expires_at": false, "expires_at": "2031-01-01T00:00:00Z"}),
    )
    .await;
    let puid = s["puid"].as_str().unwrap();
    let r = app
        .call(
            request("GET", &format!("/{ORG}/v4/share/{puid}"))
                .insert_header(("X-Filerobot-Key", "")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["status"], "success");
    assert_eq!(
        j["share"],
        json!({"puid": puid, "title": "Tree", "description": "", "starts_at": null, "expires_at": null,
               "starts_tz": "UTC", "expires_tz": "UTC", "permissions": "READ+DOWNLOAD", "password_protected": false,
               "share_uri": s["share_uri"]})
    );
    let base = s["share_uri"].as_str().unwrap();
    let top_file = &j["files"][0];
    assert_eq!(top_file["name"], "same.txt");
    assert_eq!(
        top_file["url"],
        json!({"download": format!("{base}/files/{}", other_same["uuid"].as_str().unwrap())})
    );
    let deep_entry = &j["folders"][0];
    assert_eq!(deep_entry["name"], "deep");
    // In /deep: folder "a" and file "a" share a name; the folder is older and keeps it.
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&deep_entry["folders"]), ["a"]);
    assert_eq!(names(&deep_entry["files"]), ["a (2)", "same.txt"]);
    let a = &deep_entry["folders"][0];
    assert_eq!(names(&a["files"]), ["x.txt"]);
    let b = &a["folders"][0];
    assert_eq!(names(&b["files"]), ["y.txt"]);
    let c = &b["folders"][0];
    assert_eq!(c["name"], "c");
    assert_eq!(names(&c["files"]), ["public.txt", "z.txt"]);
    assert_eq!(c["folders"], json!([]));
    let z = &c["files"][1];
    assert_eq!(z["type"], "text/plain");
    assert_eq!(z["extension"], "txt");
    assert_eq!(z["size"], json!({"bytes": 2, "pretty": "2 B"}));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));

    // Not recursive: no sub-folders; PUB: only PUB files.
    let s2 = create_ok(&app, &json!({"title": "Flat", "permissions": "READ", "items": [{"type": "folder_uuid", "identifiers": [deep]}]})).await;
    let j = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s2["puid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(j["folders"][0]["folders"], json!([]));
    assert_eq!(names(&j["folders"][0]["files"]), ["a", "same.txt"]);
    assert!(
        j["folders"][0]["files"][0].get("url").is_none(),
        "no url on a READ share"
    );
    let c_uuid = app
        .call(app.fr("GET", "/v4/folders?folder=/deep/a/b/c"))
        .await
        .json()["folder"]["uuid"]
        .clone();
    let s3 = create_ok(&app, &json!({"title": "Pub", "items": [{"type": "folder_uuid", "identifiers": [c_uuid], "options": {"visibility": "PUB"}}]})).await;
    let j = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s3["puid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(names(&j["folders"][0]["files"]), ["public.txt"]);
    // A file added later shows; a deleted one disappears.
    let later = app.upload_one("/deep/a/b/c", "later.txt", b"l").await;
    let j = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s3["puid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(
        names(&j["folders"][0]["files"]),
        ["public.txt"],
        "ORG file filtered"
    );
    app.call(json_body(
        app.fr(
            "PATCH",
            &format!("/v4/files/{}", later["uuid"].as_str().unwrap()),
        ),
        &json!({"visibility": "PUB"}),
    ))
    .await;
    let j = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s3["puid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(
        names(&j["folders"][0]["files"]),
        ["later.txt", "public.txt"]
    );
    app.call(app.fr(
        "DELETE",
        &format!("/v4/files/{}", later["uuid"].as_str().unwrap()),
    ))
    .await;
    let j = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{}", s3["puid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(names(&j["folders"][0]["files"]), ["public.txt"]);
    // Reads count as views, with activity.
    let g = app
        .call(app.fr(
            "GET",
            &format!("/v5/shares/{}", s3["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(g["share"]["views"], 4);
    let a = app
        .call(app.fr(
            "GET",
            &format!(
                "/v5/shares/{}/activity?limit=2",
                s3["uuid"].as_str().unwrap()
            ),
        ))
        .await
        .json();
    assert_eq!(a["total"], 4);
    assert_eq!(a["activity"].as_array().unwrap().len(), 2);
    let first = &a["activity"][0];
    assert_eq!(first["kind"], "view");
    assert_eq!(first["file_uuid"], Value::Null);
    assert_eq!(first["ip_hash"].as_str().unwrap().len(), 16);
    assert_eq!(first["at"], "2030-01-15T12:00:01Z");
}

#[actix_web::test]
async fn reader_passwords_and_throttle() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = create_ok(&app, &json!({"title": "Locked", "items": [{"type": "file_uuid", "identifiers": [lib.file2]}], "auth": {"pass": "p@ss word%"}})).await;
    let puid = s["puid"].as_str().unwrap();
    let read = |q: &str| {
        let req = request("GET", &format!("/{ORG}/v4/share/{puid}{q}"));
        let app = &app;
        async move { app.call(req).await }
    };
    let r = read("").await;
    assert_eq!(
        assert_fr_error(&r, 401, "PASSWORD_REQUIRED"),
        json!({"status":"error","code":"PASSWORD_REQUIRED","msg":"This share needs a password."})
    );
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let r = read("?password=wrong").await;
    assert_fr_error(&r, 401, "WRONG_PASSWORD");
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    // Encoded once, and encoded twice.
    let r = read("?password=p%40ss%20word%25").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["share"]["password_protected"], true);
    let url = &j["files"][0]["url"];
    let token = url["download"]
        .as_str()
        .unwrap()
        .split("?access=")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(url["preview"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/preview?access={token}")));
    assert_eq!(read("?password=p%2540ss%2520word%2525").await.status, 200);
    // The unlock token works as ?access= until the password changes.
    assert_eq!(read(&format!("?access={token}")).await.status, 200);
    app.call(json_body(
        app.fr(
            "PUT",
            &format!("/v5/shares/{}", s["uuid"].as_str().unwrap()),
        ),
        &json!({"auth": {"pass": "new one"}}),
    ))
    .await;
    assert_fr_error(
        &read(&format!("?access={token}")).await,
        401,
        "PASSWORD_REQUIRED",
    );

    // 8 more failures make 10 with the one above... count them from a fresh share.
    let s = create_ok(&app, &json!({"title": "Throttled", "items": [{"type": "file_uuid", "identifiers": [lib.file1]}], "auth": {"pass": "right"}})).await;
    let puid = s["puid"].as_str().unwrap().to_string();
    for _ in 0..10 {
        let r = app
            .call(request(
                "GET",
                &format!("/{ORG}/v4/share/{puid}?password=bad"),
            ))
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{puid}?password=right"),
        ))
        .await;
    assert_fr_error(&r, 429, "TOO_MANY_ATTEMPTS");
    assert_eq!(r.header("retry-after"), Some("900"));
    app.clock.advance(Duration::minutes(15));
    let r = app
        .call(request(
            "GET",
            &format!("/{ORG}/v4/share/{puid}?password=right"),
        ))
        .await;
    assert_eq!(r.status, 200);
    let a = app
        .call(app.fr(
            "GET",
            &format!("/v5/shares/{}/activity", s["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(a["total"], 11);
    assert_eq!(a["activity"][0]["kind"], "view");
    assert_eq!(a["activity"][1]["kind"], "unlock_failed");
}

#[actix_web::test]
async fn reader_states_users_and_share_link() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let items = json!([{"type": "file_uuid", "identifiers": [lib.file1]}]);
    let s = create_ok(&app, &json!({"title": "Later", "items": items, "starts_at": "2030-02-01T09:00", "starts_tz": "Europe/Sofia", "expires_at": "2030-03-01T00:00:00Z", "max_downloads": 1})).await;
    let puid = s["puid"].as_str().unwrap();
    let read = || {
        let req = request("GET", &format!("/{ORG}/v4/share/{puid}"));
        let app = &app;
        async move { app.call(req).await }
    };
    let j = assert_fr_error(&read().await, 403, "NOT_STARTED");
    assert_eq!(
        j["msg"],
        "This share opens on 1 Feb 2030, 09:00 Europe/Sofia."
    );
    app.clock.advance(Duration::days(20));
    assert_eq!(read().await.status, 200);
    app.clock.advance(Duration::days(30));
    let j = assert_fr_error(&read().await, 410, "SHARE_EXPIRED");
    assert_eq!(j["msg"], "This share has expired.");

    // The share link: 302 to the page while not revoked; the first segment is ignored.
    let r = app
        .call(request("GET", &format!("/anything/{ORG}/{puid}")))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some(format!("/s/{puid}/later").as_str())
    );
    assert_fr_error(
        &app.call(request("GET", &format!("/anything/{OTHER_ORG}/{puid}")))
            .await,
        404,
        "NOT_FOUND",
    );
    assert_fr_error(
        &app.call(request("GET", &format!("/anything/{ORG}/nope")))
            .await,
        404,
        "NOT_FOUND",
    );
    app.call(json_body(
        app.fr(
            "PUT",
            &format!("/v5/shares/{}", s["uuid"].as_str().unwrap()),
        ),
        &json!({"status": "revoked"}),
    ))
    .await;
    assert_fr_error(
        &app.call(request("GET", &format!("/x/{ORG}/{puid}"))).await,
        404,
        "NOT_FOUND",
    );
    assert_fr_error(&read().await, 404, "NOT_FOUND");

    // A users share: only a listed user's Bearer token gets in.
    let u = create_ok(
        &app,
        &json!({"title": "Users", "items": items, "access": "users", "users": [ADMIN_EMAIL]}),
    )
    .await;
    let upuid = u["puid"].as_str().unwrap();
    assert_fr_error(
        &app.call(request("GET", &format!("/{ORG}/v4/share/{upuid}")))
            .await,
        403,
        "FORBIDDEN",
    );
    let (token, _) = app.admin_tokens().await;
    let r = app
        .call(
            request("GET", &format!("/{ORG}/v4/share/{upuid}"))
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}
