//! Issue 9: the outbox worker against a real SMTP server (Python's aiosmtpd) on loopback, the
//! .eml fallback, backoff and the 3-day limit by moving the clock.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/output.rs"]
mod output;
#[path = "support/smtp.rs"]
mod smtp;
#[path = "support/venv.rs"]
mod venv;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use sharebox::mail::worker::deliver_due;
use smtp::{free_port, Smtp};
use std::path::PathBuf;

async fn smtp_app(port: u16) -> TestApp {
    TestApp::with_config(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await
}

async fn create(app: &TestApp, extra: Value) -> Value {
    let f = app.upload_one("/", "brief.pdf", b"%PDF").await;
    let mut body = json!({"title": "Quarterly brief", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}],
        "auth": {"pass": "s3cret-pass"}, "message": "See the brief before Friday.", "expires_at": "2031-08-24T18:29", "expires_tz": "Europe/Sofia"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    create_share(app, &body).await
}

async fn recipients(app: &TestApp, uuid: &str) -> Value {
    app.call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json()["share"]["recipients"]
        .clone()
}

fn outbox_rows(app: &TestApp) -> Vec<(i64, String, i64, Option<String>)> {
    app.state
        .db
        .read_sync(|c| {
            let mut st =
                c.prepare("SELECT id, status, attempts, last_error FROM outbox ORDER BY id")?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .unwrap()
}

#[actix_web::test]
async fn a_recipient_gets_one_mail_with_link_and_message_never_the_password() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    let app = smtp_app(port).await;
    let s = create(
        &app,
        json!({"recipients": [{"email": "ann@client.test", "name": "Ann Émile"}]}),
    )
    .await;
    assert_eq!(
        recipients(&app, s["uuid"].as_str().unwrap()).await[0]["delivery"],
        "pending"
    );
    assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0, "nothing left");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.contains("From: sharebox@localhost"), "{m}");
    assert!(
        m.contains("ann@client.test") && m.contains("=?utf-8?"),
        "the name is encoded: {m}"
    );
    assert!(
        m.contains("Subject:") && m.contains("Quarterly brief") || m.contains("=?utf-8?b?"),
        "{m}"
    );
    let decoded = decode_body(m);
    assert!(
        decoded.contains(s["share_uri"].as_str().unwrap()),
        "{decoded}"
    );
    assert!(decoded.contains("See the brief before Friday."));
    assert!(decoded.contains("Available until 24 Aug 2031, 18:29 Europe/Sofia"));
    assert!(decoded.contains("A password protects this share"));
    assert!(
        !m.contains("s3cret-pass") && !decoded.contains("s3cret-pass"),
        "the password is never mailed"
    );
    assert_eq!(
        recipients(&app, s["uuid"].as_str().unwrap()).await[0]["delivery"],
        "sent"
    );
}

/// Undoes quoted-printable soft breaks and escapes enough to search the text.
fn decode_body(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let b = joined.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_web::test]
async fn smtp_down_restart_then_up_delivers_exactly_once() {
    let port = free_port();
    let mut app = smtp_app(port).await;
    let s = create(&app, json!({"recipients": ["bob@client.test"]})).await;
    assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
    let rows = outbox_rows(&app);
    assert_eq!(rows[0].1, "pending");
    assert_eq!(rows[0].2, 1);
    assert!(rows[0].3.is_some(), "the error is kept");
    // Not due again before the backoff.
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
    app.restart().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    app.clock.advance(Duration::seconds(60));
    assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(
        recipients(&app, s["uuid"].as_str().unwrap()).await[0]["delivery"],
        "sent"
    );
}

#[actix_web::test]
async fn without_smtp_an_eml_file_appears() {
    let app = TestApp::new().await;
    let s = create(&app, json!({"recipients": ["carol@client.test"]})).await;
    deliver_due(&app.state).await.unwrap();
    let outbox = app.data_dir().join("outbox");
    let files: Vec<PathBuf> = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let text = decode_body(&std::fs::read_to_string(&files[0]).unwrap());
    assert!(text.contains(s["share_uri"].as_str().unwrap()));
    assert!(text.contains("carol@client.test"));
    assert_eq!(
        recipients(&app, s["uuid"].as_str().unwrap()).await[0]["delivery"],
        "sent"
    );
}

#[actix_web::test]
async fn crlf_in_a_name_adds_no_header() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    let app = smtp_app(port).await;
    create(&app, json!({"title": "Hi\r\nBcc: victim@evil.test", "recipients": [{"email": "dan@client.test", "name": "Dan\r\nBcc: victim@evil.test"}]})).await;
    deliver_due(&app.state).await.unwrap();
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    for line in mails[0].lines() {
        assert!(
            !line.to_ascii_lowercase().starts_with("bcc:"),
            "a header was injected: {}",
            mails[0]
        );
    }
}

#[actix_web::test]
async fn a_451_is_retried_and_a_550_fails() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "451-then-ok:1");
    let app = smtp_app(port).await;
    let s = create(&app, json!({"recipients": ["eve@client.test"]})).await;
    let uuid = s["uuid"].as_str().unwrap();
    deliver_due(&app.state).await.unwrap();
    assert_eq!(recipients(&app, uuid).await[0]["delivery"], "pending");
    assert!(outbox_rows(&app)[0]
        .3
        .as_deref()
        .unwrap_or("")
        .contains("451"));
    app.clock.advance(Duration::seconds(60));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(recipients(&app, uuid).await[0]["delivery"], "sent");
    assert_eq!(smtp.mails().len(), 1);
    drop(smtp);

    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let _smtp = Smtp::start(port, dir.path(), "550");
    let app = smtp_app(port).await;
    let s = create(&app, json!({"recipients": ["nobody@client.test"]})).await;
    deliver_due(&app.state).await.unwrap();
    let rows = outbox_rows(&app);
    assert_eq!(rows[0].1, "failed");
    assert!(rows[0].3.as_deref().unwrap().contains("550"), "{rows:?}");
    assert_eq!(
        recipients(&app, s["uuid"].as_str().unwrap()).await[0]["delivery"],
        "failed"
    );
}

#[actix_web::test]
async fn backoff_and_the_three_day_limit_by_the_clock() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let _smtp = Smtp::start(port, dir.path(), "451");
    let app = smtp_app(port).await;
    create(&app, json!({"recipients": ["slow@client.test"]})).await;
    let mut waits = Vec::new();
    for attempt in 1..=8 {
        assert_eq!(
            deliver_due(&app.state).await.unwrap(),
            1,
            "attempt {attempt}"
        );
        let due: i64 = app
            .state
            .db
            .read_sync(|c| Ok(c.query_row("SELECT next_attempt_at FROM outbox", [], |r| r.get(0))?))
            .unwrap();
        let wait = due - app.clock.now().timestamp();
        waits.push(wait);
        // Not a second early.
        app.clock.advance(Duration::seconds(wait - 1));
        assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
        app.clock.advance(Duration::seconds(1));
    }
    assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    // Keep failing hourly until three days after the mail was queued: then failed.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2030-01-18T11:59:59Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    deliver_due(&app.state).await.unwrap();
    assert_eq!(outbox_rows(&app)[0].1, "pending");
    app.clock.advance(Duration::hours(1));
    deliver_due(&app.state).await.unwrap();
    let rows = outbox_rows(&app);
    assert_eq!(rows[0].1, "failed");
    assert!(rows[0]
        .3
        .as_deref()
        .unwrap()
        .starts_with("gave up after 3 days"));
}

#[actix_web::test]
async fn updates_mail_only_added_recipients_and_notification_mails_again() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    let app = smtp_app(port).await;
    let s = create(&app, json!({"recipients": ["first@client.test"]})).await;
    let uuid = s["uuid"].as_str().unwrap();
    deliver_due(&app.state).await.unwrap();
    let r = app
        .call(json_body(
            app.fr("PUT", &format!("/v5/shares/{uuid}")),
            &json!({"recipients": ["first@client.test", "second@client.test"]}),
        ))
        .await;
    assert_eq!(r.status, 200);
    deliver_due(&app.state).await.unwrap();
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].contains("second@client.test") && !mails[1].contains("first@client.test"));

    // Nomad's notification call mails everyone again.
    let (token, _) = app.admin_tokens().await;
    let r = app
        .call(json_body(
            request("POST", &format!("/api/share/{uuid}/notification"))
                .insert_header(("Authorization", format!("Bearer {token}"))),
            &json!({"shareId": uuid, "nomadUsers": [], "externalUsers": []}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    deliver_due(&app.state).await.unwrap();
    assert_eq!(smtp.mails().len(), 4);
}

#[actix_web::test]
async fn the_dashboard_shows_delivery_and_sends_again() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(port, dir.path(), "ok");
    let app = smtp_app(port).await;
    let s = create(&app, json!({"recipients": ["again@client.test"]})).await;
    deliver_due(&app.state).await.unwrap();
    // Sign in through the web form.
    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let session = session.expect("session");
    let page = get_as(&app, &session, "/app/shares").await.text();
    assert!(
        page.contains("again@client.test <span class=\"badge delivery\">sent</span>"),
        "{page}"
    );
    let token = hidden(&page, "csrf_token");
    let r = post_form(
        &app,
        Some(&session),
        &format!("/app/shares/{}/resend", s["uuid"].as_str().unwrap()),
        &[
            ("csrf_token", token.as_str()),
            ("email", "again@client.test"),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    let page = get_as(&app, &session, "/app/shares").await.text();
    assert!(page.contains("again@client.test <span class=\"badge delivery\">pending</span>"));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(smtp.mails().len(), 2);
}

#[actix_web::test]
async fn a_users_share_mail_says_to_sign_in() {
    let app = TestApp::new().await;
    create(
        &app,
        json!({"access": "users", "users": [ADMIN_EMAIL], "auth": null}),
    )
    .await;
    deliver_due(&app.state).await.unwrap();
    let outbox = app.data_dir().join("outbox");
    let files: Vec<PathBuf> = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = decode_body(&std::fs::read_to_string(&files[0]).unwrap());
    assert!(text.contains(ADMIN_EMAIL));
    assert!(text.contains("Sign in to Sharebox with your account to open it."));
    assert!(!text.contains("A password protects"));
}
