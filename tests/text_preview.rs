//! API.md "The public share": the page shows the first 256 KiB of text files (plain text,
//! Markdown, code) escaped in the page, never rendered; binary files and bytes that are not
//! UTF-8 get no preview.

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
    let base = s["share_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string();
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
