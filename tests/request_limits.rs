//! Issue 20: a file request's limits hold atomically across parallel uploads (a slot and the
//! declared bytes are taken when a tus upload is created), an over-size upload stores nothing,
//! an abandoned upload's slot comes back when it expires, and the owner gets one batched mail
//! over real SMTP, not a second within 5 minutes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/output.rs"]
mod output;
#[path = "support/requests.rs"]
mod requests;
#[path = "support/smtp.rs"]
mod smtp;
#[path = "support/venv.rs"]
mod venv;

use chrono::Duration;
use common::*;
use futures_util::future::join_all;
use requests::*;
use serde_json::{json, Value};
use sharebox::mail::worker::deliver_due;
use smtp::{free_port, Smtp};

/// A new visitor's uploader cookie (`name=value`).
async fn visitor(app: &TestApp, r: &Value) -> String {
    visit(app, r).await.cookie
}

/// A tus creation as an uploader who leaves a name and a note.
fn create(
    puid: &str,
    cookie: &str,
    name: &str,
    length: usize,
    body: Option<&[u8]>,
) -> actix_web::test::TestRequest {
    let meta = [
        ("filename", name),
        ("name", "Ann Uploader"),
        ("note", "Q3 receipts"),
    ];
    tus_create(puid, Some(cookie), &meta, length, body)
}

async fn files_in(app: &TestApp, folder: &str) -> usize {
    app.call(app.fr("GET", &format!("/v4/files?folder_uuid={folder}&limit=1000")))
        .await
        .json()["files"]
        .as_array()
        .unwrap()
        .len()
}

/// Files under the data dir's uploads/ (tus uploads in progress).
fn partial_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Sends 20 whole files at once (each its own upload), from 4 uploaders; returns the statuses
/// and error codes.
async fn twenty_at_once(app: &TestApp, r: &Value, size: usize) -> Vec<(u16, String)> {
    let puid = r["puid"].as_str().unwrap();
    let mut cookies = Vec::new();
    for _ in 0..4 {
        cookies.push(visitor(app, r).await);
    }
    let body = vec![b'x'; size];
    let calls = (0..20).map(|i| {
        app.call(create(
            puid,
            &cookies[i % 4],
            &format!("part-{i}.bin"),
            size,
            Some(&body),
        ))
    });
    join_all(calls)
        .await
        .into_iter()
        .map(|r| {
            let code = if r.status.is_success() {
                String::new()
            } else {
                r.json()["code"].as_str().unwrap_or("").to_string()
            };
            (r.status.as_u16(), code)
        })
        .collect()
}

#[actix_web::test]
async fn twenty_parallel_uploads_leave_exactly_max_files() {
    let app = TestApp::new().await;
    let r = create_request(&app, &json!({"title": "Five only", "max_files": 5})).await;
    let answers = twenty_at_once(&app, &r, 1000).await;
    let ok = answers.iter().filter(|(s, _)| *s == 201).count();
    let full = answers
        .iter()
        .filter(|(s, c)| *s == 409 && c == "REQUEST_FULL")
        .count();
    assert_eq!((ok, full), (5, 15), "{answers:?}");
    assert_eq!(files_in(&app, r["folder_uuid"].as_str().unwrap()).await, 5);
    assert_eq!(partial_files(&app), 0, "refused uploads stored nothing");
    // Full: the page is a 410, and so is the API's status.
    assert_eq!(app.call(request("GET", &page_path(&r))).await.status, 410);
    let got = app
        .call(app.fr(
            "GET",
            &format!("/v5/requests/{}", r["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(got["request"]["status"], "full");
    assert_eq!(got["request"]["files"], 5);
}

#[actix_web::test]
async fn twenty_parallel_uploads_never_pass_max_total_bytes() {
    let app = TestApp::new().await;
    let r = create_request(
        &app,
        &json!({"title": "5000 bytes", "max_total_bytes": 5000}),
    )
    .await;
    let answers = twenty_at_once(&app, &r, 1000).await;
    let ok = answers.iter().filter(|(s, _)| *s == 201).count();
    let big = answers
        .iter()
        .filter(|(s, c)| *s == 413 && c == "TOO_LARGE")
        .count();
    assert_eq!((ok, big), (5, 15), "{answers:?}");
    let got = app
        .call(app.fr(
            "GET",
            &format!("/v5/requests/{}", r["uuid"].as_str().unwrap()),
        ))
        .await
        .json();
    assert_eq!(got["request"]["bytes"], 5000);
    assert_eq!(partial_files(&app), 0);
}

#[actix_web::test]
async fn an_over_size_upload_stores_nothing_and_an_abandoned_slot_comes_back() {
    let app = TestApp::new().await;
    let r = create_request(
        &app,
        &json!({"title": "One small file", "max_files": 1, "max_file_bytes": 100}),
    )
    .await;
    let puid = r["puid"].as_str().unwrap();
    let cookie = visitor(&app, &r).await;
    let big = app
        .call(create(puid, &cookie, "big.bin", 101, Some(&[7u8; 101])))
        .await;
    assert_fr_error(&big, 413, "TOO_LARGE");
    assert_eq!(partial_files(&app), 0, "nothing stored");
    // Refused by type too, before anything is stored.
    let r2 = create_request(&app, &json!({"title": "PDFs", "extensions": ["pdf"]})).await;
    let c2 = visitor(&app, &r2).await;
    let wrong = app
        .call(create(
            r2["puid"].as_str().unwrap(),
            &c2,
            "x.exe",
            3,
            Some(b"abc"),
        ))
        .await;
    let e = assert_fr_error(&wrong, 400, "INVALID_FIELD");
    assert!(e["msg"].as_str().unwrap().contains("pdf"), "{e}");

    // An upload started and abandoned holds the one slot...
    let started = app.call(create(puid, &cookie, "a.bin", 50, None)).await;
    assert_eq!(started.status, 201, "{}", started.text());
    let second = app.call(create(puid, &cookie, "b.bin", 50, None)).await;
    assert_fr_error(&second, 409, "REQUEST_FULL");
    // ...until it expires, an hour after its last PATCH (by the test clock).
    app.clock.advance(Duration::minutes(59));
    let still = app.call(create(puid, &cookie, "b.bin", 50, None)).await;
    assert_fr_error(&still, 409, "REQUEST_FULL");
    app.clock.advance(Duration::minutes(2));
    let again = app
        .call(create(puid, &cookie, "b.bin", 50, Some(&[1u8; 50])))
        .await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert!(again.header("sharebox-file-uuid").is_some());
    // The expired one's bytes went with the sweep every creation runs first.
    assert_eq!(partial_files(&app), 0);
    // Visitors who never sent anything are forgotten after their cookie's 7 days; one who sent
    // a file stays (the activity names them).
    let uploaders = |app: &TestApp| {
        app.state
            .db
            .read_sync(|c| {
                Ok(
                    c.query_row("SELECT COUNT(*) FROM request_uploaders", [], |r| {
                        r.get::<_, i64>(0)
                    })?,
                )
            })
            .unwrap()
    };
    let _idle = visitor(&app, &r2).await;
    let before = uploaders(&app);
    app.clock.advance(Duration::days(8));
    assert_eq!(
        app.state.requests.sweep_uploaders().await.unwrap() as i64,
        before - 1
    );
    assert_eq!(uploaders(&app), 1, "the one who sent b.bin stays");
    app.clock.advance(-Duration::days(8));
    // Terminating an upload gives its slot back at once.
    let r3 = create_request(&app, &json!({"title": "One", "max_files": 1})).await;
    let (p3, c3) = (r3["puid"].as_str().unwrap(), visitor(&app, &r3).await);
    let first = app.call(create(p3, &c3, "a.bin", 10, None)).await;
    let at = first.header("location").unwrap().to_string();
    let path = &at[at.find("/r/").unwrap()..];
    let del = app
        .call(
            request("DELETE", path)
                .insert_header(("cookie", c3.clone()))
                .insert_header(("Tus-Resumable", "1.0.0")),
        )
        .await;
    assert_eq!(del.status, 204);
    let next = app.call(create(p3, &c3, "b.bin", 10, None)).await;
    assert_eq!(next.status, 201);
}

#[actix_web::test]
async fn the_owner_gets_one_batched_mail_and_not_a_second_within_five_minutes() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    let app = TestApp::with_config(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    // `notify_emails` names who hears of new files.
    let r = create_request(
        &app,
        &json!({"title": "Receipts", "notify_emails": ["books@acme.test"]}),
    )
    .await;
    let puid = r["puid"].as_str().unwrap();
    let cookie = visitor(&app, &r).await;
    for name in ["march.pdf", "april.pdf"] {
        let up = app
            .call(create(puid, &cookie, name, 4, Some(b"%PDF")))
            .await;
        assert_eq!(up.status, 201, "{}", up.text());
    }
    assert_eq!(
        deliver_due(&app.state).await.unwrap(),
        1,
        "one mail for both"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.contains("To: books@acme.test"), "{m}");
    assert!(m.contains("march.pdf") && m.contains("april.pdf"), "{m}");
    assert!(
        m.contains("Ann Uploader") && m.contains("Q3 receipts"),
        "{m}"
    );
    assert!(m.contains("2 new files"), "{m}");

    // A third file within 5 minutes: no second mail yet.
    app.clock.advance(Duration::minutes(2));
    app.call(create(puid, &cookie, "may.pdf", 4, Some(b"%PDF")))
        .await;
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
    assert_eq!(smtp.mails().len(), 1);
    // Five minutes after the first: the next one, with only the new file.
    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
    assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    let second = mails.iter().find(|m| m.contains("may.pdf")).unwrap();
    assert!(
        !second.contains("march.pdf") && second.contains("1 new file"),
        "{second}"
    );
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0, "nothing left");

    // Made with an API key and no list: the org's admins hear of it.
    let by_key = create_request(&app, &json!({"title": "No list"})).await;
    let c2 = visitor(&app, &by_key).await;
    app.call(create(
        by_key["puid"].as_str().unwrap(),
        &c2,
        "x.txt",
        1,
        Some(b"x"),
    ))
    .await;
    assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
    assert!(smtp
        .mails()
        .iter()
        .any(|m| m.contains(&format!("To: {ADMIN_EMAIL}")) && m.contains("x.txt")));
    // notify: false mails nobody.
    let quiet = create_request(&app, &json!({"title": "Quiet", "notify": false})).await;
    let c3 = visitor(&app, &quiet).await;
    app.call(create(
        quiet["puid"].as_str().unwrap(),
        &c3,
        "q.txt",
        1,
        Some(b"q"),
    ))
    .await;
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
}
