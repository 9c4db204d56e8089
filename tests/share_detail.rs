//! Issue 19 (in part): one share in detail. Its QR code decodes to the share link (a real
//! decoder, `zbarimg`, on a PNG that Chromium rendered from the served SVG); its chart counts
//! views and downloads per day, checked through the table beside it; the panel says when the
//! share expires, who was mailed, and that a password goes another way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use chrono::Duration;
use common::*;
use serde_json::json;
use std::process::Command;

fn table_row(html: &str, day: &str) -> (String, String) {
    let at = html
        .find(&format!("<th scope=\"row\">{day}</th>"))
        .unwrap_or_else(|| panic!("no row for {day}"));
    let cells: Vec<&str> = html[at..]
        .split("<td>")
        .skip(1)
        .take(2)
        .map(|c| &c[..c.find("</td>").unwrap()])
        .collect();
    (cells[0].to_string(), cells[1].to_string())
}

#[actix_web::test]
async fn the_detail_page_charts_each_day_and_its_qr_code_opens_the_link() {
    let app = TestApp::new().await;
    let (_, s) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let s = s.unwrap();
    let f = app.upload_one("/", "deck.pdf", b"%PDF-1.4 deck").await;
    let share = create_share(
        &app,
        &json!({"title": "Board deck", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}],
            "expires_at": "2030-02-20T18:00", "expires_tz": "Europe/Sofia", "max_downloads": 10,
            "recipients": ["ann@example.com"]}),
    )
    .await;
    let uuid = share["uuid"].as_str().unwrap();
    let link = share["share_uri"].as_str().unwrap();
    let base = link.trim_start_matches("http://sharebox.test").to_string();
    let file = format!("{base}/files/{}", f["uuid"].as_str().unwrap());

    // Three days of activity (the test clock starts at 15 Jan 2030, 12:00 UTC).
    for _ in 0..2 {
        assert_eq!(app.call(request("GET", &file)).await.status, 200);
    }
    app.clock.advance(Duration::days(1));
    assert_eq!(app.call(request("GET", &base)).await.status, 200);
    assert_eq!(app.call(request("GET", &file)).await.status, 200);
    app.clock.advance(Duration::days(2));
    for _ in 0..3 {
        assert_eq!(app.call(request("GET", &base)).await.status, 200);
    }

    let page = get_as(&app, &s, &format!("/app/shares/{uuid}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(table_row(&html, "15 Jan"), ("0".into(), "2".into()));
    assert_eq!(table_row(&html, "16 Jan"), ("1".into(), "1".into()));
    assert_eq!(table_row(&html, "17 Jan"), ("0".into(), "0".into()));
    assert_eq!(table_row(&html, "18 Jan"), ("3".into(), "0".into()));
    assert!(html.contains("3 of 10 downloads used"));
    assert!(html.contains("Expires 20 Feb 2030, 18:00 Europe/Sofia."));
    assert!(html.contains("ann@example.com <span class=\"badge delivery\">"));
    assert!(html.contains("<li>/deck.pdf</li>"));
    assert!(!html.contains("It has a password"));
    assert!(
        html.contains("<details class=\"menu\">"),
        "destructive actions in a menu"
    );

    // After create, the form lands here and says so.
    let created = get_as(&app, &s, &format!("/app/shares/{uuid}?done=created"))
        .await
        .text();
    assert!(
        created.contains("<p class=\"notice-ok\" role=\"status\">Share “Board deck” created.</p>")
    );

    // The QR code, as the page serves it, rendered by Chromium and read by zbar.
    let start = html.find("<svg class=\"qr\"").expect("a QR code");
    let svg = &html[start..start + html[start..].find("</svg>").unwrap() + 6];
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("qr");
    std::fs::create_dir_all(&keep).unwrap();
    let dir = keep.as_path();
    let svg_path = dir.join("qr.svg");
    std::fs::write(&svg_path, svg).unwrap();
    let png = dir.join("qr.png");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=260,260",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", svg_path.display()),
        ])
        .output()
        .expect("chromium");
    assert!(png.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&png)
        .output()
        .expect("zbarimg");
    assert!(
        read.status.success(),
        "zbar read nothing in {}",
        png.display()
    );
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), link);
}
