//! The public share page: the first 256 KiB of text files (plain text, Markdown, code)
//! escaped in the page, never rendered (API.md), binary files and bytes that are not UTF-8 get
//! no preview; who shared it and how big each download is (issue 19, in part).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::json;

#[actix_web::test]
async fn text_files_show_their_start_escaped() {
    let app = TestApp::new().await;
    let folder = app.mkdir("/docs").await;
    app.upload_one("/docs", "notes.txt", b"<script>alert(1)</script> & more")
        .await;
    app.upload_one("/docs", "readme.md", b"# Title\n\n*not* rendered")
        .await;
    app.upload_one("/docs", "main.rs", b"fn main() { println!(\"hi\"); }")
        .await;
    let mut big = "\u{e9}".repeat(200 * 1024).into_bytes(); // 400 KiB of 2-byte characters
    big.insert(0, b'x'); // so the cap at 256 KiB falls inside a character
    app.upload_one("/docs", "big.txt", &big).await;
    app.upload_one("/docs", "nul.txt", b"text\0with a NUL")
        .await;
    app.upload_one("/docs", "latin1.txt", b"caf\xe9").await;
    let s = create_share(
        &app,
        &json!({"title": "Docs", "permissions": "READ", "items": [{"type": "folder_uuid",
            "identifiers": [folder["uuid"]]}]}),
    )
    .await;
    let base = share_path(&s);
    let page = app
        .call(request(
            "GET",
            &format!("{base}?folder={}", folder["uuid"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; more"),
        "escaped"
    );
    assert!(!html.contains("<script>alert(1)"), "never rendered");
    assert!(html.contains("# Title"));
    assert!(!html.contains("<h1>Title"));
    assert!(html.contains("fn main()"));
    assert!(
        html.contains("<ul class=\"entries\">"),
        "no images, no grid"
    );
    assert_eq!(
        html.matches("class=\"text-preview\"").count(),
        4,
        "txt, md, rs, big"
    );
    assert!(html.contains("The first 256 KiB."));
    let start = html.find("x\u{e9}\u{e9}").expect("the big file's start");
    let end = html[start..].find("</pre>").unwrap();
    let shown = &html[start..start + end];
    assert!(
        shown.len() <= 256 * 1024 && shown.len() > 255 * 1024,
        "{}",
        shown.len()
    );
    assert!(!html.contains("with a NUL"));
    assert!(!html.contains("caf\u{fffd}"));
}

/// The page says who shared it (the owner and the org; the org alone for a key's share), and
/// each download button says how big the file is. The locked page says none of it.
#[actix_web::test]
async fn the_page_says_who_shared_it_and_how_big_each_file_is() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "report.pdf", &[7u8; 2048]).await;
    let s = create_share(
        &app,
        &json!({"title": "Report", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}]}),
    )
    .await;
    let base = share_path(&s);
    let html = app.call(request("GET", &base)).await.text();
    // Made with an API key: no owner, the org only.
    assert!(
        html.contains("<p class=\"muted from\">From acme</p>"),
        "{html}"
    );
    assert!(html.contains("download>Download <span class=\"muted\">2 KiB</span></a>"));

    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let session = session.unwrap();
    let fields = [
        ("csrf_token", session.csrf.clone()),
        ("title", "Locked report".to_string()),
        ("item", format!("file:{}", f["uuid"].as_str().unwrap())),
        ("password", "open sesame".to_string()),
        ("permissions", "READ+DOWNLOAD".to_string()),
        ("access", "link".to_string()),
    ];
    let r = app
        .call(
            request("POST", "/app/shares")
                .insert_header(("cookie", session.cookie.clone()))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(serde_urlencoded::to_string(fields).unwrap()),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    // Created: to the new share's panel, `/app/shares/<uuid>?done=created`.
    let uuid = r
        .header("location")
        .unwrap()
        .trim_start_matches("/app/shares/")
        .trim_end_matches("?done=created")
        .to_string();
    let locked = app
        .call(app.fr("GET", &format!("/v5/shares/{uuid}")))
        .await
        .json();
    let base = share_path(&locked["share"]);
    let form = app.call(request("GET", &base)).await.text();
    assert!(
        !form.contains(ADMIN_EMAIL) && !form.contains("From "),
        "the locked page tells"
    );
    let unlocked = app
        .call(
            request(
                "POST",
                &format!("/s/{}/unlock", locked["share"]["puid"].as_str().unwrap()),
            )
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("password=open+sesame"),
        )
        .await;
    let cookie = unlocked
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = app
        .call(request("GET", &base).insert_header(("cookie", cookie)))
        .await
        .text();
    assert!(
        page.contains(&format!("From {ADMIN_EMAIL} (acme)")),
        "{page}"
    );
}
