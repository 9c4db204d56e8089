//! Issue 19 (in part), the owner's pages: every action on a share is followed by a one-line
//! confirmation on the list it returns to, made from a code and the share as it is now (never
//! text from the URL); the share form's expiry presets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::json;

fn notice(html: &str) -> Option<String> {
    let start = html.find("<p class=\"notice-ok\" role=\"status\">")?;
    let rest = &html[start..];
    let open = rest.find('>')? + 1;
    Some(rest[open..rest.find("</p>")?].to_string())
}

/// POSTs an action and follows its redirect; the confirmation shown there.
async fn act(app: &TestApp, s: &Session, path: &str, extra: &[(&str, &str)]) -> Option<String> {
    let mut fields = vec![("csrf_token", s.csrf.as_str())];
    fields.extend_from_slice(extra);
    let r = post_form(app, Some(s), path, &fields).await;
    assert_eq!(r.status, 303, "{path}: {}", r.text());
    let to = r.header("location").unwrap().to_string();
    notice(&get_as(app, s, &to).await.text())
}

#[actix_web::test]
async fn each_action_says_what_it_did() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();
    let f = app.upload_one("/", "deck.pdf", b"%PDF").await;
    let share = create_share(
        &app,
        &json!({"title": "Board <deck>", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}],
            "expires_at": "2031-08-24T18:29", "expires_tz": "Europe/Sofia",
            "recipients": ["ann@example.com"]}),
    )
    .await;
    let uuid = share["uuid"].as_str().unwrap();

    let created = get_as(&app, &s, &format!("/app/shares?created={uuid}")).await;
    assert_eq!(
        notice(&created.text()).as_deref(),
        Some("Share “Board &#60;deck&#62;” created.")
    );
    assert_eq!(
        act(
            &app,
            &s,
            &format!("/app/shares/{uuid}/extend"),
            &[("by", "week")]
        )
        .await
        .as_deref(),
        Some("Share “Board &#60;deck&#62;” now expires 31 Aug 2031, 18:29 Europe/Sofia.")
    );
    assert_eq!(
        act(&app, &s, &format!("/app/shares/{uuid}/revoke"), &[])
            .await
            .as_deref(),
        Some("Share “Board &#60;deck&#62;” revoked: its link no longer works.")
    );
    assert_eq!(
        act(&app, &s, &format!("/app/shares/{uuid}/restore"), &[])
            .await
            .as_deref(),
        Some("Share “Board &#60;deck&#62;” restored.")
    );
    assert_eq!(
        act(
            &app,
            &s,
            &format!("/app/shares/{uuid}/resend"),
            &[("email", "ann@example.com")]
        )
        .await
        .as_deref(),
        Some("The link to “Board &#60;deck&#62;” was mailed again.")
    );
    // Edit: the share form's fields as the edit page gives them, the title changed.
    let edit = get_as(&app, &s, &format!("/app/shares/{uuid}/edit"))
        .await
        .text();
    let form = [
        ("csrf_token", s.csrf.as_str()),
        ("title", "Board deck v2"),
        ("item", &format!("file:{}", f["uuid"].as_str().unwrap())),
        ("expires_at", "2031-08-31T18:29"),
        ("expires_tz", "Europe/Sofia"),
        ("permission", "download"),
        ("access", "link"),
        ("keep_password", "1"),
    ];
    assert!(edit.contains("Board &#60;deck&#62;"));
    assert_eq!(
        act(&app, &s, &format!("/app/shares/{uuid}"), &form[1..])
            .await
            .as_deref(),
        Some("Share “Board deck v2” saved.")
    );
    assert_eq!(
        act(&app, &s, &format!("/app/shares/{uuid}/delete"), &[])
            .await
            .as_deref(),
        Some("The share was deleted: its link no longer works.")
    );

    // Only codes make messages: an unknown one says nothing, another org's share no title.
    let page = get_as(&app, &s, "/app/shares?done=%3Cb%3Eowned&share=x")
        .await
        .text();
    assert_eq!(notice(&page), None);
    let other = get_as(&app, &s, "/app/shares?done=revoked&share=nope")
        .await
        .text();
    assert_eq!(
        notice(&other).as_deref(),
        Some("Share revoked: its link no longer works.")
    );
}

/// Expiry presets: "in 7 days" counts from now, to the minute; an unknown preset is refused
/// with the form back and nothing stored.
#[actix_web::test]
async fn expiry_presets_count_from_now() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();
    let f = app.upload_one("/", "deck.pdf", b"%PDF").await;
    let item = format!("file:{}", f["uuid"].as_str().unwrap());
    let form = |preset: &'static str| {
        vec![
            ("csrf_token", s.csrf.clone()),
            ("title", "Preset".to_string()),
            ("item", item.clone()),
            ("expires_in", preset.to_string()),
            ("expires_tz", "Europe/Sofia".to_string()),
            ("permissions", "READ+DOWNLOAD".to_string()),
            ("access", "link".to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let body = serde_urlencoded::to_string(&fields).unwrap();
        app.call(
            request("POST", "/app/shares")
                .insert_header(("cookie", s.cookie.clone()))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
    };
    let bad = post(form("9d")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("is not one of the choices"));
    assert_eq!(share_count(&app).await, 0);

    let r = post(form("7d")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    // Created: to the new share's panel, `/app/shares/<uuid>?done=created`.
    let uuid = r
        .header("location")
        .unwrap()
        .trim_start_matches("/app/shares/")
        .trim_end_matches("?done=created")
        .to_string();
    let j = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json();
    // The test clock stands at 2030-01-15 12:00 UTC.
    assert_eq!(j["share"]["expires_at"], "2030-01-22T12:00:00Z");
    assert_eq!(j["share"]["expires_tz"], "Europe/Sofia");
}
