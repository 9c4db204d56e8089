//! Issue 20: file requests through the real app. The API (`/{token}/v5/requests`, Filerobot
//! envelope), the public page's states and password gate, uploaders kept apart by their
//! cookies, hostile names, and another org's key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/requests.rs"]
mod requests;

use chrono::Duration;
use common::*;
use requests::*;
use serde_json::{json, Value};

/// Sends a file through the plain form.
async fn form_upload(app: &TestApp, r: &Value, v: &Visitor, name: &str, bytes: &[u8]) -> Resp {
    let body = multipart(&[
        ("name", None, None, b"Ann Uploader"),
        ("note", None, None, b"for the audit"),
        ("file", Some(name), Some("text/plain"), bytes),
    ]);
    app.call(
        request(
            "POST",
            &format!(
                "/r/{}/upload?csrf_token={}",
                r["puid"].as_str().unwrap(),
                v.csrf
            ),
        )
        .insert_header(("cookie", v.cookie.clone()))
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body),
    )
    .await
}

/// Names of the files directly in folder `uuid`.
async fn names_in(app: &TestApp, folder_uuid: &str) -> Vec<String> {
    let r = app
        .call(app.fr(
            "GET",
            &format!("/v4/files?folder_uuid={folder_uuid}&limit=1000"),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut names: Vec<String> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[actix_web::test]
async fn the_api_creates_reads_lists_changes_and_deletes_requests() {
    let app = TestApp::new().await;
    let r = create_request(
        &app,
        &json!({"title": "Q3 / invoices", "message": "PDFs please", "max_files": 3,
            "max_file_bytes": 1000, "extensions": [".PDF", "jpg"], "expires_at": "2031-08-24T18:29",
            "expires_tz": "Europe/Sofia", "auth": {"pass": "open sesame"},
            "notify_emails": ["books@acme.test"]}),
    )
    .await;
    assert_eq!(r["status"], "active");
    assert_eq!(r["password_protected"], true);
    assert_eq!(r["extensions"], json!(["pdf", "jpg"]));
    assert_eq!(r["expires_at"], "2031-08-24T15:29:00Z");
    assert_eq!(
        (
            r["files"].as_i64(),
            r["bytes"].as_i64(),
            r["uploaders"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert!(r.to_string().find("open sesame").is_none(), "never echoed");
    let uri = r["request_uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!(
            "http://sharebox.test/r/{}/q3-invoices",
            r["puid"].as_str().unwrap()
        )),
        "{uri}"
    );
    // The default folder is new, under /Requests, named after the title.
    let folder = app
        .call(app.fr(
            "GET",
            &format!("/v4/folders/{}", r["folder_uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(
        folder["folder"]["path"], "/Requests/Q3 _ invoices",
        "{folder}"
    );
    let again = create_request(&app, &json!({"title": "Q3 / invoices"})).await;
    let folder2 = app
        .call(app.fr(
            "GET",
            &format!("/v4/folders/{}", again["folder_uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(folder2["folder"]["path"], "/Requests/Q3 _ invoices (2)");

    let uuid = r["uuid"].as_str().unwrap();
    let got = app
        .call(app.fr("GET", &format!("/v5/requests/{uuid}")))
        .await
        .json();
    assert_eq!(got["request"]["title"], "Q3 / invoices");
    let list = app.call(app.fr("GET", "/v5/requests?limit=1")).await.json();
    assert_eq!(
        (
            list["total"].as_i64(),
            list["requests"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );

    let changed = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/requests/{uuid}")),
            &json!({"max_files": null, "title": "Invoices"}),
        ))
        .await
        .json();
    assert_eq!(
        (
            changed["request"]["max_files"].clone(),
            changed["request"]["title"].clone()
        ),
        (Value::Null, json!("Invoices"))
    );
    assert_eq!(
        changed["request"]["extensions"],
        json!(["pdf", "jpg"]),
        "absent stays"
    );

    // Wrong values: a clear 400 naming the field, nothing changed.
    for (body, field) in [
        (json!({"max_files": 0}), "max_files"),
        (json!({"max_total_bytes": -5}), "max_total_bytes"),
        (json!({"extensions": ["p d f"]}), "extensions"),
        (json!({"notify_emails": ["not-an-email"]}), "notify_emails"),
        (
            json!({"folder_uuid": "7d3c4a9e-0000-4000-8000-000000000000"}),
            "folder_uuid",
        ),
        (json!({"expires_at": "2020-01-01T00:00Z"}), "expires_at"),
        (json!({"title": ""}), "title"),
        (json!({"max_files": "five"}), "max_files"),
    ] {
        let r = app
            .call(json_body(
                app.fr("PUT", &format!("/v5/requests/{uuid}")),
                &body,
            ))
            .await;
        let e = assert_fr_error(&r, 400, "INVALID_FIELD");
        assert!(e["msg"].as_str().unwrap().contains(field), "{body}: {e}");
    }
    let missing = app
        .call(json_body(
            app.fr("POST", "/v5/requests"),
            &json!({"message": "x"}),
        ))
        .await;
    assert_fr_error(&missing, 400, "INVALID_FIELD");
    let after = app
        .call(app.fr("GET", &format!("/v5/requests/{uuid}")))
        .await
        .json();
    assert_eq!(after["request"]["title"], "Invoices");

    // Revoke, restore, delete.
    let revoked = app
        .call(app.fr("POST", &format!("/v5/requests/{uuid}/revoke")))
        .await
        .json();
    assert_eq!(revoked["request"]["status"], "revoked");
    assert_eq!(app.call(request("GET", &page_path(&r))).await.status, 404);
    let restored = app
        .call(app.fr("POST", &format!("/v5/requests/{uuid}/restore")))
        .await
        .json();
    assert_eq!(restored["request"]["status"], "active");
    assert_eq!(
        app.call(request("GET", &page_path(&r))).await.status,
        401,
        "the password form"
    );
    let gone = app
        .call(app.fr("DELETE", &format!("/v5/requests/{uuid}")))
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text());
    assert_eq!(
        app.call(app.fr("GET", &format!("/v5/requests/{uuid}")))
            .await
            .status,
        404
    );
    assert_eq!(app.call(request("GET", &page_path(&r))).await.status, 404);

    // Another org's key sees none of it.
    let other = app
        .call(
            request(
                "GET",
                &format!(
                    "/{OTHER_ORG}/v5/requests/{}",
                    again["uuid"].as_str().unwrap()
                ),
            )
            .insert_header(("X-Filerobot-Key", app.other_key.clone())),
        )
        .await;
    assert_fr_error(&other, 404, "NOT_FOUND");
    let other_list = app
        .call(
            request("GET", &format!("/{OTHER_ORG}/v5/requests"))
                .insert_header(("X-Filerobot-Key", app.other_key.clone())),
        )
        .await
        .json();
    assert_eq!(other_list["total"], 0);
}

#[actix_web::test]
async fn not_started_expired_and_revoked_answer_on_page_tus_and_form() {
    let app = TestApp::new().await;
    let open = create_request(&app, &json!({"title": "Open"})).await;
    let v = visit(&app, &open).await;
    let scheduled = create_request(
        &app,
        &json!({"title": "Later", "starts_at": "2030-02-01T09:00", "starts_tz": "Europe/Sofia",
            "expires_at": "2030-03-01T09:00Z"}),
    )
    .await;
    assert_eq!(scheduled["status"], "scheduled");
    let puid = scheduled["puid"].as_str().unwrap();
    let page = app.call(request("GET", &page_path(&scheduled))).await;
    assert_eq!(page.status, 403);
    assert!(
        page.text().contains("opens 1 Feb 2030, 09:00 Europe/Sofia"),
        "{}",
        page.text()
    );
    assert_eq!(
        app.call(tus_post(puid, Some(&v.cookie), "a.txt", b"abc"))
            .await
            .status,
        403
    );
    let form = app
        .call(request("POST", &format!("/r/{puid}/upload?csrf_token=x")).set_payload("x"))
        .await;
    assert_eq!(form.status, 403);

    // Opened, then past its expiry: 410 everywhere.
    app.clock.advance(Duration::days(20));
    let v2 = visit(&app, &scheduled).await;
    assert_eq!(
        app.call(tus_post(puid, Some(&v2.cookie), "a.txt", b"abc"))
            .await
            .status,
        201
    );
    app.clock.advance(Duration::days(30));
    assert_eq!(
        app.call(request("GET", &page_path(&scheduled)))
            .await
            .status,
        410
    );
    let tus = app
        .call(tus_post(puid, Some(&v2.cookie), "b.txt", b"abc"))
        .await;
    assert_fr_error(&tus, 410, "SHARE_EXPIRED");
    assert_eq!(
        form_upload(&app, &scheduled, &v2, "c.txt", b"abc")
            .await
            .status,
        410
    );

    // Revoked: 404 everywhere, the page plain.
    let uuid = open["uuid"].as_str().unwrap();
    app.call(app.fr("POST", &format!("/v5/requests/{uuid}/revoke")))
        .await;
    let page = app.call(request("GET", &page_path(&open))).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("not available"));
    let opuid = open["puid"].as_str().unwrap();
    assert_eq!(
        app.call(tus_post(opuid, Some(&v.cookie), "a.txt", b"abc"))
            .await
            .status,
        404
    );
    assert_eq!(
        form_upload(&app, &open, &v, "a.txt", b"abc").await.status,
        404
    );
    // No cookie on an open request's tus endpoint: 401 after the state checks.
    let fresh = create_request(&app, &json!({"title": "Fresh"})).await;
    let r = app
        .call(tus_post(
            fresh["puid"].as_str().unwrap(),
            None,
            "a.txt",
            b"abc",
        ))
        .await;
    assert_fr_error(&r, 401, "UNAUTHENTICATED");
}

#[actix_web::test]
async fn the_password_gate_lets_in_with_the_right_password_and_throttles_guessing() {
    let app = TestApp::new().await;
    let r = create_request(
        &app,
        &json!({"title": "Locked", "auth": {"pass": "open sesame"}}),
    )
    .await;
    let puid = r["puid"].as_str().unwrap();
    let locked = app.call(request("GET", &page_path(&r))).await;
    assert_eq!(locked.status, 401);
    assert!(locked.text().contains("type=\"password\""));
    assert!(locked.text().contains("This file request is protected"));
    assert!(
        !locked.text().contains("Locked"),
        "the locked page shows only the form"
    );
    assert!(set_cookie(&locked, "sb_uploader").is_none());
    let unlock = |pw: &str| {
        request("POST", &format!("/r/{puid}/unlock"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!("password={}", pw.replace(' ', "+")))
    };
    let ok = app.call(unlock("open sesame")).await;
    assert_eq!(ok.status, 303);
    let set = set_cookie(&ok, "sb_uploader").unwrap().to_string();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains(&format!("Path=/r/{puid}")),
        "{set}"
    );
    let cookie = cookie_pair(&set);
    let page = app
        .call(request("GET", &page_path(&r)).insert_header(("cookie", cookie.clone())))
        .await;
    assert_eq!(page.status, 200);
    for _ in 0..10 {
        assert_eq!(app.call(unlock("wrong")).await.status, 401);
    }
    let throttled = app.call(unlock("open sesame")).await;
    assert_eq!(throttled.status, 429);
    assert!(
        throttled
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // A new password ends every uploader's cookie.
    app.call(json_body(
        app.fr(
            "PUT",
            &format!("/v5/requests/{}", r["uuid"].as_str().unwrap()),
        ),
        &json!({"auth": {"pass": "another one"}}),
    ))
    .await;
    let page = app
        .call(request("GET", &page_path(&r)).insert_header(("cookie", cookie)))
        .await;
    assert_eq!(page.status, 401);
}

#[actix_web::test]
async fn uploaders_see_and_remove_only_their_own_files() {
    let app = TestApp::new().await;
    let r = create_request(&app, &json!({"title": "Drop"})).await;
    let y = create_request(&app, &json!({"title": "Other drop"})).await;
    let (a, b) = (visit(&app, &r).await, visit(&app, &r).await);
    assert_ne!(a.cookie, b.cookie);
    assert_eq!(
        form_upload(&app, &r, &a, "from-a.txt", b"A's bytes")
            .await
            .status,
        303
    );
    let puid = r["puid"].as_str().unwrap();
    let up = app
        .call(tus_post(puid, Some(&b.cookie), "from-b.txt", b"B's bytes"))
        .await;
    assert_eq!(up.status, 201, "{}", up.text());
    let b_file = up.header("sharebox-file-uuid").unwrap().to_string();
    let a_page = page_as(&app, &r, &a).await.text();
    let b_page = page_as(&app, &r, &b).await.text();
    assert!(a_page.contains("from-a.txt") && !a_page.contains("from-b.txt"));
    assert!(b_page.contains("from-b.txt") && !b_page.contains("from-a.txt"));
    // A cannot remove B's file, nor with B's form token.
    let remove = |v: &Visitor, csrf: &str, file: &str| {
        request("POST", &format!("/r/{puid}/uploads/{file}/delete"))
            .insert_header(("cookie", v.cookie.clone()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!("csrf_token={csrf}"))
    };
    assert_eq!(app.call(remove(&a, &a.csrf, &b_file)).await.status, 404);
    assert_eq!(app.call(remove(&a, &b.csrf, &b_file)).await.status, 403);
    assert_eq!(app.call(remove(&b, &b.csrf, &b_file)).await.status, 303);
    assert!(!page_as(&app, &r, &b).await.text().contains("from-b.txt"));
    let folder = r["folder_uuid"].as_str().unwrap();
    assert_eq!(names_in(&app, folder).await, vec!["from-a.txt"]);
    // Request Y's cookie does not open request X.
    let yv = visit(&app, &y).await;
    let r2 = app
        .call(tus_post(puid, Some(&yv.cookie), "y.txt", b"y"))
        .await;
    assert_fr_error(&r2, 401, "UNAUTHENTICATED");
    let got = app
        .call(app.fr(
            "GET",
            &format!("/v5/requests/{}", r["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(
        (
            got["request"]["files"].as_i64(),
            got["request"]["uploaders"].as_i64()
        ),
        (Some(1), Some(1))
    );

    // Hostile names are made safe, never refused.
    let long = format!("{}.txt", "n".repeat(300));
    for name in ["../x", "a\0b.txt", "invoice\u{202e}fdp.exe", long.as_str()] {
        let up = app.call(tus_post(puid, Some(&a.cookie), name, b"z")).await;
        assert_eq!(up.status, 201, "{name:?}: {}", up.text());
    }
    let names = names_in(&app, folder).await;
    // A path keeps only its last part.
    assert!(names.contains(&"x".to_string()), "{names:?}");
    assert!(names.contains(&"a_b.txt".to_string()), "{names:?}");
    assert!(names.contains(&"invoice_fdp.exe".to_string()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.chars().count() == 255 && n.ends_with(".txt")),
        "{names:?}"
    );
    for n in &names {
        assert!(
            !n.contains('/') && !n.contains('\0') && !n.contains('\u{202e}'),
            "{n:?}"
        );
    }
    // The same name twice: de-duplicated.
    app.call(tus_post(puid, Some(&a.cookie), "report.pdf", b"1"))
        .await;
    app.call(tus_post(puid, Some(&a.cookie), "report.pdf", b"2"))
        .await;
    let names = names_in(&app, folder).await;
    assert!(
        names.contains(&"report.pdf".to_string()) && names.contains(&"report (2).pdf".to_string()),
        "{names:?}"
    );
}
