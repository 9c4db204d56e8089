//! Issue 19 (in part): the navigation marks the current page, every page has our icon, and the
//! stylesheet carries a dark theme for `prefers-color-scheme: dark`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;

#[actix_web::test]
async fn the_navigation_marks_the_page_you_are_on() {
    let app = TestApp::new().await;
    let (r, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303);
    let s = s.unwrap();
    let links = [
        ("/app", "Library"),
        ("/app/shares", "Shares"),
        ("/app/shares/new", "New share"),
        ("/app/account", "Your account"),
    ];
    for (page, current) in [
        ("/app", "/app"),
        ("/app/shares", "/app/shares"),
        ("/app/shares/new", "/app/shares/new"),
        ("/app/account", "/app/account"),
    ] {
        let html = get_as(&app, &s, page).await.text();
        for (href, label) in links {
            let marked = format!("<a href=\"{href}\" aria-current=\"page\">{label}</a>");
            let plain = format!("<a href=\"{href}\">{label}</a>");
            if href == current {
                assert!(html.contains(&marked), "{page}: {label} not marked");
            } else {
                assert!(html.contains(&plain), "{page}: {label} marked or missing");
            }
        }
        assert!(html.contains("rel=\"icon\" href=\"/static/favicon.svg\""));
    }
}

#[actix_web::test]
async fn the_icon_and_the_dark_theme_are_served() {
    let app = TestApp::new().await;
    let icon = app.call(request("GET", "/static/favicon.svg")).await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.content_type(), "image/svg+xml");
    assert!(icon.text().starts_with("<svg"));
    let css = app.call(request("GET", "/static/app.css")).await.text();
    let dark = css
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark theme");
    // The dark block redefines the colours every rule reads.
    for var in [
        "--fg:",
        "--bg:",
        "--card:",
        "--accent:",
        "--line:",
        "--danger:",
    ] {
        assert!(css[dark..].contains(var), "{var} not in the dark theme");
    }
    // No rule outside the themes hard-codes a colour the dark theme could not change.
    let rules: String = css
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect();
    assert!(!rules.contains('#'), "a hard-coded colour: {rules}");
    let login = app.call(request("GET", "/login")).await.text();
    assert!(login.contains("name=\"color-scheme\" content=\"light dark\""));
}

/// Icons are inline SVG, never emoji (which a machine without an emoji font shows as boxes).
#[actix_web::test]
async fn pages_draw_icons_not_emoji() {
    let app = TestApp::new().await;
    let folder = app.mkdir("/pics").await;
    app.mkdir("/pics/old").await;
    for (name, bytes) in [
        ("a.png", &b"\x89PNG"[..]),
        ("b.mp4", b"...."),
        ("c.mp3", b"...."),
        ("d.pdf", b"%PDF"),
        ("e.txt", b"text"),
        ("f.bin", b"\x00\x01"),
    ] {
        app.upload_one("/pics", name, bytes).await;
    }
    let s = create_share(
        &app,
        &serde_json::json!({"title": "Pics", "items": [{"type": "folder_uuid",
            "identifiers": [folder["uuid"]], "options": {"recursive": true}}]}),
    )
    .await;
    let base = share_path(&s);
    let page = app
        .call(request(
            "GET",
            &format!("{base}?folder={}", folder["uuid"].as_str().unwrap()),
        ))
        .await
        .text();
    let (r, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303);
    let session = session.unwrap();
    let library = get_as(
        &app,
        &session,
        &format!("/app?folder_uuid={}", folder["uuid"].as_str().unwrap()),
    )
    .await
    .text();
    let form = get_as(&app, &session, "/app/shares/new").await.text();
    for (what, html, icons) in [
        ("share page", &page, 7),
        ("library", &library, 1),
        ("share form", &form, 1),
    ] {
        let emoji = html
            .chars()
            .find(|c| matches!(*c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF));
        assert_eq!(emoji, None, "{what} has an emoji");
        assert!(
            html.matches("<svg class=\"ico\"").count() >= icons,
            "{what}: too few icons"
        );
    }
}

/// The zone fields suggest one zone per place with its UTC offset, never deprecated aliases.
#[actix_web::test]
async fn the_zone_fields_offer_places_with_their_offsets() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let html = get_as(&app, &s.unwrap(), "/app/shares/new").await.text();
    let list = &html[html.find("<datalist id=\"zones\">").expect("a zone list")..];
    let list = &list[..list.find("</datalist>").unwrap()];
    let options = list.matches("<option ").count();
    assert!((400..500).contains(&options), "{options} zones");
    assert!(list.contains("<option value=\"Europe/Sofia\" label=\"UTC+02:00 Europe/Sofia\">"));
    assert!(list.contains("value=\"UTC\""));
    for alias in ["US/Pacific", "Asia/Calcutta", "Etc/GMT+5", "Europe/Kiev"] {
        assert!(!list.contains(&format!("\"{alias}\"")), "{alias} offered");
    }
    assert_eq!(html.matches("list=\"zones\"").count(), 2);
}
