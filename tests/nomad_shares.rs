//! Issue 6: Nomad's share routes over the one share service, through the real app: the
//! fixtures real clients send, whole ShareModels, both dialects reading each other's shares,
//! GET -> PUT round trips, expiry precedence, lookups, password, limits, mail and errors.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/nomad.rs"]
mod nomad;

use chrono::Duration;
use common::*;
use fixtures::fixture;
use nomad::*;
use serde_json::{json, Value};

const USER_EMAIL: &str = "agency@acme.test";

fn lk(nn: u8, description: &str) -> Value {
    json!({"id": format!("00000000-5b0c-4000-8000-0000000000{nn:02}"), "description": description})
}

fn view() -> Value {
    lk(21, "View")
}
fn download() -> Value {
    lk(22, "Download")
}
fn link() -> Value {
    lk(1, "Link")
}
fn active() -> Value {
    lk(11, "Active")
}

struct Lib {
    file1: String,
    file2: String,
    folder1: String,
    user: String,
}

/// common's library, and a user of `ORG`.
async fn library(app: &TestApp) -> Lib {
    let common::Lib {
        file1,
        file2,
        folder1,
    } = common::library(app).await;
    Lib {
        file1,
        file2,
        folder1,
        user: add_user(app, USER_EMAIL).await,
    }
}

fn sid(share: &Value) -> &str {
    share["id"].as_str().unwrap()
}

fn puid(share: &Value) -> String {
    share["sharedLink"]
        .as_str()
        .unwrap()
        .split('/')
        .nth(4)
        .unwrap()
        .to_string()
}

async fn get_share(app: &TestApp, id: &str) -> Value {
    ok_json(app, "GET", &format!("/api/share/{id}"), None).await
}

async fn put_share(app: &TestApp, id: &str, body: &Value) -> Resp {
    call_json(app, "PUT", &format!("/api/share/{id}"), body).await
}

async fn put_ok(app: &TestApp, id: &str, body: &Value) -> Value {
    let r = put_share(app, id, body).await;
    assert_eq!(r.status, 200, "{body}: {}", r.text());
    r.json()
}

async fn v5(app: &TestApp, uuid: &str) -> Value {
    let r = app.call(app.fr("GET", &format!("/v5/shares/{uuid}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["share"].clone()
}

/// A rejected write: a 400 naming `field` with `msg`, and the share unchanged.
async fn rejected(app: &TestApp, id: &str, body: &Value, field: &str, msg: &str) {
    let before = get_share(app, id).await;
    let mails = outbox_total(app);
    let r = put_share(app, id, body).await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", &format!("/api/share/{id}"));
    assert_eq!(j["errors"], json!({field: [msg]}), "{body}");
    assert_eq!(get_share(app, id).await, before, "{body} changed the share");
    assert_eq!(outbox_total(app), mails, "{body} queued mail");
}

#[actix_web::test]
async fn asset_share_fixture_whole_answer_and_v5_view() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let body = fixture("nomad-asset-share.json", &[("file1", &lib.file1)]);
    let path = format!("/api/asset/{}/share", lib.file1);
    let r = call_json(&app, "POST", &path, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let s = r.json();
    let p = puid(&s);
    assert!(p.len() >= 21);
    assert_eq!(
        s,
        json!({"id": s["id"], "name": "one.txt", "sharedContents": [lib.file1],
               "sharedDuration": lk(32, "1 Day"), "sharedPermissions": [view(), download()],
               "sharedType": link(), "sharedStatus": active(), "sharedDurationInHours": 24,
               "sharedLink": format!("{BASE}/s/{p}/one-txt"), "ownerId": null,
               "expirationDate": "2030-01-16T12:00:00Z", "assetId": lib.file1, "nomadUsers": [],
               "externalUsers": ["client@example.com"], "passwordProtected": false, "maxDownloads": null,
               "views": 0, "downloads": 0, "createdDate": "2030-01-15T12:00:00Z",
               "lastModifiedDate": "2030-01-15T12:00:00Z"})
    );
    assert_eq!(get_share(&app, sid(&s)).await, s);
    assert_eq!(
        outbox(&app, sid(&s)),
        vec![("client@example.com".to_string(), "share".to_string())]
    );
    // The same share through Filerobot's dialect.
    let f = v5(&app, sid(&s)).await;
    assert_eq!(f["title"], "one.txt");
    assert_eq!(
        f["items"],
        json!([{"type": "file_uuid", "identifiers": [lib.file1]}])
    );
    assert_eq!(f["expires_at"], "2030-01-16T12:00:00Z");
    assert_eq!(f["permissions"], "READ+DOWNLOAD");
    assert_eq!(f["access"], "link");
    assert_eq!(f["users"], json!([]));
    assert_eq!(
        f["recipients"],
        json!([{"email": "client@example.com", "name": null, "delivery": "pending"}])
    );
    assert_eq!(f["share_uri"], s["sharedLink"]);
    assert_eq!(f["status"], "active");
}

#[actix_web::test]
async fn create_and_update_fixtures_then_round_trips() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let (token, _) = app.admin_tokens().await;
    let admin_uuid = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.json()["id"].clone();
    let fill = [
        ("file1", lib.file1.as_str()),
        ("file2", lib.file2.as_str()),
        ("user_email", USER_EMAIL),
    ];
    let body = fixture("nomad-share-create.json", &fill);
    let r = app
        .call(json_body(
            request("POST", "/api/share")
                .insert_header(("Authorization", format!("Bearer {token}"))),
            &body,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    let p = puid(&s);
    let user = json!({"id": lib.user, "description": USER_EMAIL});
    assert_eq!(
        s,
        json!({"id": s["id"], "name": "For the agency", "sharedContents": [lib.file1, lib.file2],
               "sharedDuration": lk(33, "1 Week"), "sharedPermissions": [view()],
               "sharedType": link(), "sharedStatus": active(), "sharedDurationInHours": 168,
               "sharedLink": format!("{BASE}/s/{p}/for-the-agency"), "ownerId": admin_uuid,
               "expirationDate": "2030-01-22T12:00:00Z", "assetId": lib.file1, "nomadUsers": [user],
               "externalUsers": [], "passwordProtected": false, "maxDownloads": null,
               "views": 0, "downloads": 0, "createdDate": "2030-01-15T12:00:00Z",
               "lastModifiedDate": "2030-01-15T12:00:00Z"})
    );
    assert_eq!(
        outbox(&app, sid(&s)),
        vec![(USER_EMAIL.to_string(), "share".to_string())]
    );
    let f = v5(&app, sid(&s)).await;
    assert_eq!(f["permissions"], "READ");
    assert_eq!(
        f["users"],
        json!([{"uuid": lib.user, "email": USER_EMAIL, "delivery": "pending"}])
    );
    assert_eq!(f["owner_uuid"], admin_uuid);
    // The update fixture (a GET answer echoed, `id` null, users by email): only the name moves.
    app.clock.advance(Duration::minutes(1));
    let body = fixture("nomad-share-update.json", &fill);
    let u = put_ok(&app, sid(&s), &body).await;
    let mut expected = s.clone();
    expected["name"] = json!("For the agency (v2)");
    expected["sharedLink"] = json!(format!("{BASE}/s/{p}/for-the-agency-v2"));
    expected["lastModifiedDate"] = json!("2030-01-15T12:01:00Z");
    assert_eq!(u, expected);
    assert_eq!(outbox(&app, sid(&s)).len(), 1, "no user was added: no mail");
    // A whole GET answer sent back changes nothing, lastModifiedDate included, as PUT and as
    // POST /api/share with the id; also after the clock moved and with the share expired.
    app.clock.advance(Duration::minutes(1));
    let g = get_share(&app, sid(&s)).await;
    assert_eq!(put_ok(&app, sid(&s), &g).await, g);
    assert_eq!(ok_json(&app, "POST", "/api/share", Some(&g)).await, g);
    let mut no_id = g.clone();
    no_id["id"] = Value::Null;
    assert_eq!(put_ok(&app, sid(&s), &no_id).await, g);
    app.clock.advance(Duration::days(8));
    let g = get_share(&app, sid(&s)).await;
    assert_eq!(g["sharedStatus"], lk(13, "Expired"));
    assert_eq!(put_ok(&app, sid(&s), &g).await, g);
    assert_eq!(outbox(&app, sid(&s)).len(), 1);
    // Null or absent fields are unchanged too.
    let nulls: serde_json::Map<String, Value> = g
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), Value::Null))
        .collect();
    assert_eq!(put_ok(&app, sid(&s), &Value::Object(nulls)).await, g);
    assert_eq!(put_ok(&app, sid(&s), &json!({})).await, g);
    let r = app
        .call(api(&app, "PUT", &format!("/api/share/{}", sid(&s))))
        .await;
    assert_eq!(r.json(), g, "an empty body changes nothing");
}

#[actix_web::test]
async fn v5_shares_read_and_write_through_nomad() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let r = app
        .call(json_body(
            app.fr("POST", "/v5/shares"),
            &json!({"title": "Made in v5", "items": [{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": false, "visibility": "ORG"}}],
                    "expires_at": "2030-01-20T18:29", "expires_tz": "Europe/Sofia", "permissions": "READ",
                    "access": "users", "users": [USER_EMAIL], "recipients": [{"email": "r@x.test", "name": "Arr"}],
                    "max_downloads": 7, "auth": {"pass": "pw"}}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let f = r.json()["share"].clone();
    let uuid = f["uuid"].as_str().unwrap();
    let g = get_share(&app, uuid).await;
    // 18:29 in Sofia is 16:29Z; 5 days 4 h 29 min after creation: 125 hours rounded up.
    assert_eq!(
        g,
        json!({"id": uuid, "name": "Made in v5", "sharedContents": [lib.folder1],
               "sharedDuration": lk(36, "Custom"), "sharedPermissions": [view()],
               "sharedType": lk(2, "User"), "sharedStatus": active(), "sharedDurationInHours": 125,
               "sharedLink": f["share_uri"], "ownerId": null, "expirationDate": "2030-01-20T16:29:00Z",
               "assetId": lib.folder1, "nomadUsers": [{"id": lib.user, "description": USER_EMAIL}],
               "externalUsers": ["r@x.test"], "passwordProtected": true, "maxDownloads": 7,
               "views": 0, "downloads": 0, "createdDate": f["created_at"], "lastModifiedDate": f["updated_at"]})
    );
    // Round trip through Nomad leaves the v5 share exactly as it was.
    app.clock.advance(Duration::minutes(5));
    assert_eq!(put_ok(&app, uuid, &g).await, g);
    assert_eq!(v5(&app, uuid).await, f);
    // Adding a file through Nomad: the folder keeps its options; the new folder is recursive.
    let folder2 = app.mkdir("/more").await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let u = put_ok(
        &app,
        uuid,
        &json!({"sharedContents": [lib.folder1, lib.file1, folder2]}),
    )
    .await;
    assert_eq!(
        u["sharedContents"],
        json!([lib.folder1, lib.file1, folder2])
    );
    let f2 = v5(&app, uuid).await;
    assert_eq!(
        f2["items"],
        json!([{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": false, "visibility": "ORG"}},
               {"type": "file_uuid", "identifiers": [lib.file1]},
               {"type": "folder_uuid", "identifiers": [folder2], "options": {"recursive": true, "visibility": "PUB,ORG"}}])
    );
    assert_eq!(f2["updated_at"], "2030-01-15T12:05:00Z");
    // And the other way: a Nomad share edited through v5 reads back in Nomad.
    let n = ok_json(
        &app,
        "POST",
        "/api/share",
        Some(&json!({"assetId": lib.file2, "sharedContents": [lib.folder1], "name": "Nomad made",
                     "sharedDurationInHours": 2, "externalUsers": ["e@x.test"], "nomadUsers": [lib.user]})),
    )
    .await;
    let fv = v5(&app, sid(&n)).await;
    assert_eq!(fv["title"], "Nomad made");
    assert_eq!(
        fv["items"],
        json!([{"type": "file_uuid", "identifiers": [lib.file2]},
               {"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": true, "visibility": "PUB,ORG"}}])
    );
    assert_eq!(fv["expires_at"], "2030-01-15T14:05:00Z");
    assert_eq!(fv["permissions"], "READ+DOWNLOAD");
    assert_eq!(
        fv["users"],
        json!([{"uuid": lib.user, "email": USER_EMAIL, "delivery": "pending"}])
    );
    assert_eq!(
        fv["recipients"],
        json!([{"email": "e@x.test", "name": null, "delivery": "pending"}])
    );
    let r = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/shares/{}", sid(&n))),
            &json!({"title": "Renamed in v5", "permissions": "READ", "access": "users", "recipients": [], "expires_at": null}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let g = get_share(&app, sid(&n)).await;
    assert_eq!(g["name"], "Renamed in v5");
    assert_eq!(g["sharedPermissions"], json!([view()]));
    assert_eq!(g["sharedType"], lk(2, "User"));
    assert_eq!(g["externalUsers"], json!([]));
    assert_eq!(g["expirationDate"], Value::Null);
    assert_eq!(g["sharedDuration"], lk(35, "Never"));
    assert_eq!(g["sharedDurationInHours"], Value::Null);
}

#[actix_web::test]
async fn expiry_precedence() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    // All three given: expirationDate (no offset = UTC) wins.
    let s = ok_json(
        &app,
        "POST",
        "/api/share",
        Some(&json!({"assetId": lib.file1, "expirationDate": "2030-02-01T00:00", "sharedDurationInHours": 5,
                     "sharedDuration": "1 Day"})),
    )
    .await;
    assert_eq!(s["expirationDate"], "2030-02-01T00:00:00Z");
    assert_eq!(s["sharedDurationInHours"], 396);
    assert_eq!(s["sharedDuration"], lk(36, "Custom"));
    let id = sid(&s).to_string();
    app.clock.advance(Duration::hours(1));
    // Echoed date (unchanged) and new hours: the hours apply, from now.
    let mut b = s.clone();
    b["sharedDurationInHours"] = json!(48);
    let u = put_ok(&app, &id, &b).await;
    assert_eq!(u["expirationDate"], "2030-01-17T13:00:00Z");
    assert_eq!(u["sharedDurationInHours"], 49);
    // Duration as a string or a lookup; Never removes the expiry, Custom does nothing.
    let u = put_ok(&app, &id, &json!({"sharedDuration": "1 hour"})).await;
    assert_eq!(u["expirationDate"], "2030-01-15T14:00:00Z");
    assert_eq!(
        u["sharedDuration"],
        lk(36, "Custom"),
        "2 hours after creation"
    );
    let u = put_ok(
        &app,
        &id,
        &json!({"sharedDuration": {"description": "Custom"}}),
    )
    .await;
    assert_eq!(u["expirationDate"], "2030-01-15T14:00:00Z");
    let u = put_ok(
        &app,
        &id,
        &json!({"sharedDuration": {"id": "00000000-5b0c-4000-8000-000000000035"}}),
    )
    .await;
    assert_eq!(
        (
            u["expirationDate"].clone(),
            u["sharedDuration"].clone(),
            u["sharedDurationInHours"].clone()
        ),
        (Value::Null, lk(35, "Never"), Value::Null)
    );
    // An offset is honoured.
    let u = put_ok(
        &app,
        &id,
        &json!({"expirationDate": "2030-03-01T10:00:00+02:00"}),
    )
    .await;
    assert_eq!(u["expirationDate"], "2030-03-01T08:00:00Z");
    // Bad values name their field and change nothing, also when a lower one would do.
    rejected(
        &app,
        &id,
        &json!({"expirationDate": "2030-01-01T00:00:00Z"}),
        "expirationDate",
        "the expiry must be in the future",
    )
    .await;
    rejected(&app, &id, &json!({"expirationDate": "tomorrow", "sharedDurationInHours": 5}), "expirationDate",
        "'tomorrow' is not a date and time: use ISO 8601 like 2031-08-18T18:29 (wall time in the zone) or 2031-08-18T15:29:00Z").await;
    rejected(
        &app,
        &id,
        &json!({"expirationDate": 5}),
        "expirationDate",
        "must be a date string, not a number",
    )
    .await;
    for h in [json!(0), json!(87_601), json!("5"), json!(1.5)] {
        rejected(
            &app,
            &id,
            &json!({"sharedDurationInHours": h}),
            "sharedDurationInHours",
            "must be a whole number of hours, 1 to 87600",
        )
        .await;
    }
    rejected(
        &app,
        &id,
        &json!({"sharedDuration": "2 Days"}),
        "sharedDuration",
        "use one of: 1 Hour, 1 Day, 1 Week, 1 Month, Never, Custom",
    )
    .await;
    // A start set in v5 after which the Nomad expiry falls short: named by the field that set it.
    let r = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/shares/{id}")),
            &json!({"starts_at": "2030-01-20T00:00:00Z"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    rejected(
        &app,
        &id,
        &json!({"sharedDurationInHours": 1}),
        "sharedDurationInHours",
        "the expiry must be after the start",
    )
    .await;
}

#[actix_web::test]
async fn status_writes_and_expire() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", lib.file1),
        Some(&json!({})),
    )
    .await;
    let id = sid(&s).to_string();
    let reader = format!("/{ORG}/v4/share/{}", puid(&s));
    assert_eq!(app.call(request("GET", &reader)).await.status, 200);
    let u = put_ok(&app, &id, &json!({"sharedStatus": "inactive"})).await;
    assert_eq!(u["sharedStatus"], lk(12, "Inactive"));
    assert_eq!(v5(&app, &id).await["status"], "revoked");
    assert_eq!(app.call(request("GET", &reader)).await.status, 404);
    let u = put_ok(
        &app,
        &id,
        &json!({"sharedStatus": {"id": "00000000-5b0c-4000-8000-000000000011"}}),
    )
    .await;
    assert_eq!(u["sharedStatus"], active());
    assert_eq!(app.call(request("GET", &reader)).await.status, 200);
    rejected(
        &app,
        &id,
        &json!({"sharedStatus": "Scheduled"}),
        "sharedStatus",
        "Scheduled cannot be set: use Active, Inactive or Expired",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"sharedStatus": "Paused"}),
        "sharedStatus",
        "use one of: Active, Inactive, Expired, Scheduled",
    )
    .await;
    // Expired: the expiry is now, exempt from the "future" rule.
    app.clock.advance(Duration::minutes(3));
    let u = put_ok(&app, &id, &json!({"sharedStatus": lk(13, "Expired")})).await;
    assert_eq!(u["sharedStatus"], lk(13, "Expired"));
    assert_eq!(u["expirationDate"], "2030-01-15T12:03:00Z");
    assert_eq!(u["sharedDurationInHours"], 1);
    assert_eq!(app.call(request("GET", &reader)).await.status, 410);
    // Active only lifts a revoke: an expired share needs a new expiry.
    let u = put_ok(&app, &id, &json!({"sharedStatus": "Active"})).await;
    assert_eq!(u["sharedStatus"], lk(13, "Expired"));
    let u = put_ok(
        &app,
        &id,
        &json!({"sharedStatus": "Active", "sharedDuration": "1 Day"}),
    )
    .await;
    assert_eq!(u["sharedStatus"], active());
    // The expire route, with the SDK's empty JSON-typed body.
    app.clock.advance(Duration::minutes(1));
    let path = format!("/api/share/expire/{id}");
    let r = app
        .call(api(&app, "POST", &path).insert_header(("content-type", "application/json")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let e = r.json();
    assert_eq!(e["expirationDate"], "2030-01-15T12:04:00Z");
    assert_eq!(e["sharedStatus"], lk(13, "Expired"));
    assert_eq!(v5(&app, &id).await["status"], "expired");
    for bad in ["00000000-0000-4000-8000-000000000000", "nope"] {
        let p = format!("/api/share/expire/{bad}");
        assert_problem(&app.call(api(&app, "POST", &p)).await, 404, "NOT_FOUND", &p);
    }
    // A share scheduled in v5 answers Scheduled; sending that back is fine.
    let r = app
        .call(json_body(
            app.fr("POST", "/v5/shares"),
            &json!({"title": "Later", "items": [{"type": "file_uuid", "identifiers": [lib.file2]}], "starts_at": "2030-06-01T00:00:00Z"}),
        ))
        .await;
    let later = r.json()["share"]["uuid"].as_str().unwrap().to_string();
    let g = get_share(&app, &later).await;
    assert_eq!(g["sharedStatus"], lk(14, "Scheduled"));
    assert_eq!(
        put_ok(&app, &later, &json!({"sharedStatus": "Scheduled"})).await,
        g
    );
}

#[actix_web::test]
async fn lookups_types_users_and_recipients() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", lib.file1),
        Some(&json!({"sharedPermissions": ["view"]})),
    )
    .await;
    assert_eq!(s["sharedPermissions"], json!([view()]));
    let id = sid(&s).to_string();
    let u = put_ok(&app, &id, &json!({"sharedPermissions": [{"name": "view"}, {"id": "00000000-5b0c-4000-8000-000000000022"}]})).await;
    assert_eq!(u["sharedPermissions"], json!([view(), download()]));
    assert_eq!(v5(&app, &id).await["permissions"], "READ+DOWNLOAD");
    rejected(
        &app,
        &id,
        &json!({"sharedPermissions": ["View", "Edit"]}),
        "sharedPermissions[1]",
        "use one of: View, Download",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"sharedPermissions": []}),
        "sharedPermissions",
        "give [View] or [View, Download]",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"sharedType": 2}),
        "sharedType",
        "must be a lookup object or a string, not a number",
    )
    .await;
    // User needs users; they may come as any of the forms.
    rejected(
        &app,
        &id,
        &json!({"sharedType": "User"}),
        "nomadUsers",
        "a share for listed users only needs at least one user",
    )
    .await;
    let u = put_ok(
        &app,
        &id,
        &json!({"sharedType": "user", "nomadUsers": [lib.user]}),
    )
    .await;
    assert_eq!(u["sharedType"], lk(2, "User"));
    assert_eq!(v5(&app, &id).await["access"], "users");
    assert_eq!(
        outbox(&app, &id),
        vec![(USER_EMAIL.to_string(), "share".to_string())]
    );
    for form in [
        json!({"id": lib.user}),
        json!({"email": USER_EMAIL.to_uppercase()}),
        json!({"id": lib.user, "description": "ignored@x.test"}),
        json!({"description": USER_EMAIL}),
        json!(USER_EMAIL),
    ] {
        let u = put_ok(&app, &id, &json!({"nomadUsers": [form.clone()]})).await;
        assert_eq!(
            u["nomadUsers"],
            json!([{"id": lib.user, "description": USER_EMAIL}]),
            "{form}"
        );
    }
    assert_eq!(
        outbox(&app, &id).len(),
        1,
        "the same user again is not mailed again"
    );
    rejected(
        &app,
        &id,
        &json!({"nomadUsers": ["nobody@acme.test"]}),
        "nomadUsers[0]",
        "'nobody@acme.test' is not a user of this org",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"nomadUsers": [{}]}),
        "nomadUsers[0]",
        "give the user's \"id\" or \"email\"",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"nomadUsers": "x"}),
        "nomadUsers",
        "must be an array, not a string",
    )
    .await;
    // External users: strings or objects (email, else id, else description); answered as strings.
    let u = put_ok(&app, &id, &json!({"externalUsers": [{"id": "a@x.test"}, {"description": "b@x.test"}, {"email": "c@x.test", "id": "no"}, "d@x.test", "A@x.test"]})).await;
    assert_eq!(
        u["externalUsers"],
        json!(["a@x.test", "b@x.test", "c@x.test", "d@x.test"])
    );
    assert_eq!(outbox(&app, &id).len(), 5);
    rejected(
        &app,
        &id,
        &json!({"externalUsers": ["a@x.test", "not an email"]}),
        "externalUsers[1]",
        "'not an email' is not an email address (like name@example.com, at most 254 characters)",
    )
    .await;
    let many: Vec<String> = (0..51).map(|i| format!("p{i}@x.test")).collect();
    rejected(
        &app,
        &id,
        &json!({"externalUsers": many}),
        "externalUsers",
        "at most 50 recipients",
    )
    .await;
    let u = put_ok(
        &app,
        &id,
        &json!({"externalUsers": [], "sharedType": "Link"}),
    )
    .await;
    assert_eq!(u["externalUsers"], json!([]));
    assert_eq!(u["sharedType"], link());
}

#[actix_web::test]
async fn password_max_downloads_and_name() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = ok_json(
        &app,
        "POST",
        "/api/share",
        Some(&json!({"assetId": lib.file2, "password": "s3cret", "maxDownloads": 2})),
    )
    .await;
    assert_eq!(
        (s["passwordProtected"].clone(), s["maxDownloads"].clone()),
        (json!(true), json!(2))
    );
    assert!(!s.to_string().contains("s3cret"));
    let id = sid(&s).to_string();
    let reader = format!("/{ORG}/v4/share/{}", puid(&s));
    assert_eq!(app.call(request("GET", &reader)).await.status, 401);
    assert_eq!(
        app.call(request("GET", &format!("{reader}?password=s3cret")))
            .await
            .status,
        200
    );
    assert_eq!(v5(&app, &id).await["password_protected"], true);
    let u = put_ok(&app, &id, &json!({"password": ""})).await;
    assert_eq!(u["passwordProtected"], false);
    assert_eq!(app.call(request("GET", &reader)).await.status, 200);
    let u = put_ok(
        &app,
        &id,
        &json!({"password": "again", "passwordProtected": true}),
    )
    .await;
    assert_eq!(u["passwordProtected"], true);
    let u = put_ok(&app, &id, &json!({"passwordProtected": false})).await;
    assert_eq!(u["passwordProtected"], false);
    rejected(
        &app,
        &id,
        &json!({"passwordProtected": true}),
        "passwordProtected",
        "send a `password` to protect the share",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"password": 5}),
        "password",
        "must be a string, not a number",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"password": "x".repeat(201)}),
        "password",
        "needs 1 to 200 characters, got 201",
    )
    .await;
    // maxDownloads: 0 lifts the limit (null is "unchanged").
    let u = put_ok(&app, &id, &json!({"maxDownloads": 5})).await;
    assert_eq!(u["maxDownloads"], 5);
    assert_eq!(
        put_ok(&app, &id, &json!({"maxDownloads": null})).await["maxDownloads"],
        5
    );
    assert_eq!(
        put_ok(&app, &id, &json!({"maxDownloads": 0})).await["maxDownloads"],
        Value::Null
    );
    assert_eq!(v5(&app, &id).await["max_downloads"], Value::Null);
    rejected(
        &app,
        &id,
        &json!({"maxDownloads": 1_000_001}),
        "maxDownloads",
        "must be 1 to 1000000, or null for no limit",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"maxDownloads": "3"}),
        "maxDownloads",
        "must be an integer, not a string",
    )
    .await;
    // Names.
    rejected(
        &app,
        &id,
        &json!({"name": ""}),
        "name",
        "needs 1 to 200 characters, got 0",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"name": "n".repeat(201)}),
        "name",
        "needs 1 to 200 characters, got 201",
    )
    .await;
    rejected(
        &app,
        &id,
        &json!({"name": ["x"]}),
        "name",
        "must be a string, not an array",
    )
    .await;
    // Read-only fields are ignored.
    let g = get_share(&app, &id).await;
    let u = put_ok(&app, &id, &json!({"id": "00000000-0000-4000-8000-000000000000", "sharedLink": "http://evil/",
                                     "ownerId": lib.user, "views": 99, "downloads": 99, "createdDate": "2000-01-01T00:00:00Z",
                                     "lastModifiedDate": "2000-01-01T00:00:00Z"})).await;
    assert_eq!(u, g);
    // The default name is the asset's, cut to 200 characters.
    let long = format!("{}.txt", "L".repeat(250));
    let f = app.upload_one("/", &long, b"x").await;
    let s = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", f["uuid"].as_str().unwrap()),
        Some(&json!({})),
    )
    .await;
    assert_eq!(s["name"], "L".repeat(200));
}

#[actix_web::test]
async fn create_routes_and_their_errors() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    // {} shares the asset with the defaults; a folder is shared recursively.
    let s = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", lib.folder1),
        Some(&json!({})),
    )
    .await;
    assert_eq!(
        (
            s["name"].clone(),
            s["sharedContents"].clone(),
            s["sharedType"].clone(),
            s["sharedPermissions"].clone(),
            s["sharedDuration"].clone(),
            s["expirationDate"].clone(),
            s["externalUsers"].clone()
        ),
        (
            json!("campaign"),
            json!([lib.folder1]),
            link(),
            json!([view(), download()]),
            lk(35, "Never"),
            Value::Null,
            json!([])
        )
    );
    assert_eq!(
        v5(&app, sid(&s)).await["items"],
        json!([{"type": "folder_uuid", "identifiers": [lib.folder1], "options": {"recursive": true, "visibility": "PUB,ORG"}}])
    );
    assert_eq!(outbox(&app, sid(&s)), vec![]);
    // With a share's id it updates that share (the path's asset is the asset id).
    let u = ok_json(
        &app,
        "POST",
        &format!("/api/asset/{}/share", lib.file1),
        Some(&json!({"id": s["id"], "name": "Now a file"})),
    )
    .await;
    assert_eq!(
        (u["id"].clone(), u["name"].clone(), u["assetId"].clone()),
        (s["id"].clone(), json!("Now a file"), json!(lib.file1))
    );
    assert_eq!(u["sharedContents"], json!([lib.file1, lib.folder1]));
    assert_eq!(share_count(&app).await, 1);
    let count = share_count(&app).await;
    // A zero-length body is a 400; an unknown path asset a 404.
    let path = format!("/api/asset/{}/share", lib.file1);
    let r = app
        .call(api(&app, "POST", &path).insert_header(("content-type", "application/json")))
        .await;
    let j = assert_problem(&r, 400, "MALFORMED_JSON", &path);
    assert_eq!(
        j["detail"],
        "The body is empty; send a JSON object ({} shares the asset with the defaults)."
    );
    for bad in ["00000000-0000-4000-8000-000000000000", "nope"] {
        let p = format!("/api/asset/{bad}/share");
        let r = call_json(&app, "POST", &p, &json!({})).await;
        let j = assert_problem(&r, 404, "NOT_FOUND", &p);
        assert_eq!(j["detail"], "The asset was not found.");
    }
    // POST /api/share: needs an asset; an unknown id is a 404.
    for (body, field, msg) in [
        (
            json!({"id": null}),
            "assetId",
            "a new share needs `assetId` or `sharedContents`".to_string(),
        ),
        (
            json!({"sharedContents": []}),
            "assetId",
            "a new share needs `assetId` or `sharedContents`".into(),
        ),
        (
            json!({"id": 5}),
            "id",
            "must be a share's id or null, not a number".into(),
        ),
        (
            json!({"assetId": "00000000-0000-4000-8000-000000000000"}),
            "assetId",
            "'00000000-0000-4000-8000-000000000000' is not a file or folder of this org".into(),
        ),
        (
            json!({"assetId": lib.file1, "sharedContents": [lib.file2, "x"]}),
            "sharedContents[1]",
            "'x' is not a file or folder of this org".into(),
        ),
        (
            json!({"assetId": lib.file1, "sharedContents": [lib.file2, 7]}),
            "sharedContents[1]",
            "must be a uuid string, not a number".into(),
        ),
        (
            json!({"assetId": lib.file1, "sharedType": "User"}),
            "nomadUsers",
            "a share for listed users only needs at least one user".into(),
        ),
        (
            json!({"assetId": lib.file1, "externalUsers": ["bad"]}),
            "externalUsers[0]",
            "'bad' is not an email address (like name@example.com, at most 254 characters)".into(),
        ),
    ] {
        let r = call_json(&app, "POST", "/api/share", &body).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", "/api/share");
        assert_eq!(j["errors"], json!({field: [msg]}), "{body}");
    }
    for bad in ["00000000-0000-4000-8000-000000000000", "nope"] {
        let r = call_json(&app, "POST", "/api/share", &json!({"id": bad, "name": "x"})).await;
        assert_problem(&r, 404, "NOT_FOUND", "/api/share");
    }
    let r = app
        .call(
            api(&app, "POST", "/api/share")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"id\": "),
        )
        .await;
    assert_problem(&r, 400, "MALFORMED_JSON", "/api/share");
    let r = call_json(&app, "POST", "/api/share", &json!([1])).await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", "/api/share");
    assert_eq!(
        j["errors"],
        json!({"body": ["must be a JSON object, not an array"]})
    );
    assert_eq!(share_count(&app).await, count);
    assert_eq!(outbox_total(&app), 0);
    // Another org sees none of it.
    let p = format!("/api/share/{}", sid(&s));
    let r = app
        .call(request("GET", &p).insert_header(("X-Filerobot-Key", app.other_key.clone())))
        .await;
    assert_problem(&r, 404, "NOT_FOUND", &p);
    let r = app
        .call(json_body(
            request("POST", "/api/share").insert_header(("X-Filerobot-Key", app.other_key.clone())),
            &json!({"assetId": lib.file1}),
        ))
        .await;
    let j = assert_problem(&r, 400, "INVALID_FIELD", "/api/share");
    assert_eq!(
        j["errors"],
        json!({"assetId": [format!("'{}' is not a file or folder of this org", lib.file1)]})
    );
    assert_problem(
        &app.call(request("GET", &p)).await,
        401,
        "UNAUTHENTICATED",
        &p,
    );
}

#[actix_web::test]
async fn notification_and_delete() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    let s = ok_json(
        &app,
        "POST",
        "/api/share",
        Some(&json!({"assetId": lib.file1, "nomadUsers": [{"id": lib.user}], "externalUsers": ["r@x.test"]})),
    )
    .await;
    let id = sid(&s).to_string();
    let path = format!("/api/share/{id}/notification");
    // Given addresses only: mailed, never added.
    let n = ok_json(&app, "POST", &path, Some(&json!({"shareId": "ignored", "nomadUsers": [{"id": ADMIN_EMAIL}], "externalUsers": [{"id": "new@x.test"}, "NEW@x.test"]}))).await;
    assert_eq!(
        n,
        json!({"id": id, "notified": [ADMIN_EMAIL, "new@x.test"]})
    );
    // Both empty (as the SDK sends them, null): everyone on the share.
    let n = ok_json(
        &app,
        "POST",
        &path,
        Some(&json!({"shareId": id, "nomadUsers": null, "externalUsers": null})),
    )
    .await;
    assert_eq!(n, json!({"id": id, "notified": [USER_EMAIL, "r@x.test"]}));
    let n = ok_json(
        &app,
        "POST",
        &path,
        Some(&json!({"nomadUsers": [], "externalUsers": []})),
    )
    .await;
    assert_eq!(n["notified"], json!([USER_EMAIL, "r@x.test"]));
    assert_eq!(
        outbox(&app, &id),
        vec![
            (USER_EMAIL.to_string(), "share".to_string()),
            ("r@x.test".into(), "share".into()),
            (ADMIN_EMAIL.into(), "notification".into()),
            ("new@x.test".into(), "notification".into()),
            (USER_EMAIL.into(), "notification".into()),
            ("r@x.test".into(), "notification".into()),
            (USER_EMAIL.into(), "notification".into()),
            ("r@x.test".into(), "notification".into()),
        ]
    );
    let g = get_share(&app, &id).await;
    assert_eq!(g["nomadUsers"], s["nomadUsers"]);
    assert_eq!(g["externalUsers"], json!(["r@x.test"]));
    let mails = outbox_total(&app);
    for (body, field, msg) in [
        (
            json!({"nomadUsers": ["nobody@x.test"]}),
            "nomadUsers[0]",
            "'nobody@x.test' is not a user of this org",
        ),
        (
            json!({"externalUsers": ["nope"]}),
            "externalUsers[0]",
            "'nope' is not an email address (like name@example.com, at most 254 characters)",
        ),
    ] {
        let r = call_json(&app, "POST", &path, &body).await;
        let j = assert_problem(&r, 400, "INVALID_FIELD", &path);
        assert_eq!(j["errors"], json!({field: [msg]}));
    }
    assert_eq!(outbox_total(&app), mails);
    let p = "/api/share/00000000-0000-4000-8000-000000000000/notification";
    assert_problem(
        &call_json(&app, "POST", p, &json!({})).await,
        404,
        "NOT_FOUND",
        p,
    );
    // Delete: the share and its link die in both dialects.
    let reader = format!("/{ORG}/v4/share/{}", puid(&s));
    assert_eq!(app.call(request("GET", &reader)).await.status, 200);
    let dp = format!("/api/share/{id}");
    assert_eq!(ok_json(&app, "DELETE", &dp, None).await, json!({"id": id}));
    for m in ["GET", "DELETE"] {
        assert_problem(&app.call(api(&app, m, &dp)).await, 404, "NOT_FOUND", &dp);
    }
    assert_problem(
        &put_share(&app, &id, &json!({})).await,
        404,
        "NOT_FOUND",
        &dp,
    );
    assert_eq!(
        app.call(app.fr("GET", &format!("/v5/shares/{id}")))
            .await
            .status,
        404
    );
    assert_eq!(app.call(request("GET", &reader)).await.status, 404);
    // A route of these paths with another method is a 405 in problem+json.
    let r = app.call(api(&app, "PATCH", &dp)).await;
    assert_problem(&r, 405, "METHOD_NOT_ALLOWED", &dp);
}
