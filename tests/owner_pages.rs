//! Issue 16: the owner's library and share list come a page at a time, through the real app.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/nomad.rs"]
mod nomad;

use common::*;
use serde_json::json;

async fn admin(app: &TestApp) -> Session {
    let (r, s) = sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303, "{}", r.text());
    s.expect("session")
}

/// What a listing page shows: its rows' names, its label and its links.
#[derive(Debug)]
struct Shown {
    names: Vec<String>,
    folders: usize,
    label: String,
    prev: Option<String>,
    next: Option<String>,
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = html.find(start)? + start.len();
    let j = html[i..].find(end)?;
    Some(&html[i..i + j])
}

fn link(html: &str, rel: &str) -> Option<String> {
    between(html, &format!("rel=\"{rel}\" href=\""), "\"")
        .map(|h| h.replace("&#38;", "&").replace("&amp;", "&"))
}

fn shown(html: &str, row_start: &str, name_start: &str) -> Shown {
    let names = html
        .split(row_start)
        .skip(1)
        .map(|row| {
            let cell = between(row, name_start, "</").unwrap();
            cell.rsplit('>').next().unwrap().to_string()
        })
        .collect();
    Shown {
        names,
        folders: html.matches("<tr class=\"folder\">").count(),
        label: between(html, "class=\"pager-label\">", "<")
            .unwrap()
            .to_string(),
        prev: link(html, "prev"),
        next: link(html, "next"),
    }
}

async fn library_page(app: &TestApp, s: &Session, path: &str) -> Shown {
    let r = get_as(app, s, path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    // Folder rows and file rows both hold their name in the second cell's link.
    shown(&r.text(), "<tr class=\"", "<a href=")
}

/// `/big`: folders sub-a (holding inner.txt, 5 bytes), sub-b, sub-c; 449 files `file-NNN.txt`
/// and `report 100%.txt`, 1 byte each. Returns its uuid.
async fn big_folder(app: &TestApp) -> String {
    let big = app.mkdir("/big").await;
    let big_uuid = big["uuid"].as_str().unwrap().to_string();
    for n in ["sub-a", "sub-b", "sub-c"] {
        app.mkdir(&format!("/big/{n}")).await;
    }
    app.upload_one("/big/sub-a", "inner.txt", b"12345").await;
    // 449 numbered files and one whose name holds a `%`, in three requests.
    let mut names: Vec<String> = (0..449).map(|i| format!("file-{i:03}.txt")).collect();
    names.push("report 100%.txt".into());
    for chunk in names.chunks(150) {
        let parts: Vec<Part> = chunk
            .iter()
            .map(|n| {
                (
                    "file",
                    Some(n.as_str()),
                    Some("text/plain"),
                    b"x".as_slice(),
                )
            })
            .collect();
        let r = app.upload("folder=/big", &parts).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    big_uuid
}

#[actix_web::test]
async fn a_big_folder_pages_by_200_both_ways_and_filters_by_name() {
    let app = TestApp::new().await;
    let big_uuid = big_folder(&app).await;
    let s = admin(&app).await;

    let first = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}")).await;
    assert_eq!(first.names.len(), 200);
    assert_eq!(first.folders, 3);
    assert_eq!(
        &first.names[..4],
        ["sub-a", "sub-b", "sub-c", "file-000.txt"]
    );
    assert_eq!(first.label, "1\u{2013}200 of 453");
    assert!(first.prev.is_none());
    let second = library_page(&app, &s, first.next.as_deref().unwrap()).await;
    assert_eq!(second.label, "201\u{2013}400 of 453");
    assert_eq!(second.folders, 0);
    assert_eq!(second.names[0], "file-197.txt");
    let third = library_page(&app, &s, second.next.as_deref().unwrap()).await;
    assert_eq!(third.label, "401\u{2013}453 of 453");
    assert_eq!(third.names.len(), 53);
    assert_eq!(third.names.last().unwrap(), "report 100%.txt");
    assert!(third.next.is_none());
    // Back, page by page.
    let back2 = library_page(&app, &s, third.prev.as_deref().unwrap()).await;
    assert_eq!(back2.names, second.names);
    assert_eq!(back2.label, second.label);
    let back1 = library_page(&app, &s, back2.prev.as_deref().unwrap()).await;
    assert_eq!(back1.names, first.names);
    assert_eq!(back1.label, first.label);
    assert!(back1.prev.is_none());

    // A subfolder's row says what sits directly in it.
    let html = get_as(&app, &s, &format!("/app?folder_uuid={big_uuid}"))
        .await
        .text();
    assert!(html.contains("1 file, 5 bytes"), "{html}");
    assert!(html.contains("0 files, 0 bytes"));

    // The filter: a part of a name; `%` and `_` mean themselves.
    let found = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&q=file-12")).await;
    assert_eq!(found.names.len(), 10, "{:?}", found.names);
    assert_eq!(found.label, "1\u{2013}10 of 10");
    let one = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&q=e-333")).await;
    assert_eq!(one.names, ["file-333.txt"]);
    let pct = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&q=%25")).await;
    assert_eq!(pct.names, ["report 100%.txt"]);
    let under = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&q=_")).await;
    assert_eq!(under.names.len(), 0);
    assert_eq!(under.label, "0 of 0");
    // A filtered page's links keep the filter.
    let many = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&q=file")).await;
    assert_eq!(many.label, "1\u{2013}200 of 449");
    let next = many.next.unwrap();
    assert!(next.contains("q=file"), "{next}");
    let many2 = library_page(&app, &s, &next).await;
    assert_eq!(many2.label, "201\u{2013}400 of 449");
    assert_eq!(many2.folders, 0);

    // An unreadable key is the first page; an over-long filter is a 400 naming `q`.
    let odd = library_page(&app, &s, &format!("/app?folder_uuid={big_uuid}&after=zz")).await;
    assert_eq!(odd.names, first.names);
    let r = get_as(
        &app,
        &s,
        &format!("/app?folder_uuid={big_uuid}&q={}", "x".repeat(300)),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains('q'));
}

#[actix_web::test]
async fn the_share_list_pages_newest_first() {
    let app = TestApp::new().await;
    let lib = library(&app).await;
    for i in 0..60 {
        create_share(
            &app,
            &json!({"title": format!("Share {i:02}"),
                "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]}),
        )
        .await;
    }
    let s = admin(&app).await;
    let page = |path: String| {
        let app = &app;
        let s = &s;
        async move {
            let r = get_as(app, s, &path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            shown(&r.text(), "<li class=\"share-card", "share-title\">")
        }
    };
    let first = page("/app/shares".into()).await;
    assert_eq!(first.names.len(), 50);
    assert_eq!(first.names[0], "Share 59");
    assert_eq!(first.label, "1\u{2013}50 of 60");
    assert!(first.prev.is_none());
    let second = page(first.next.clone().unwrap()).await;
    assert_eq!(second.label, "51\u{2013}60 of 60");
    assert_eq!(second.names.first().unwrap(), "Share 09");
    assert_eq!(second.names.last().unwrap(), "Share 00");
    assert!(second.next.is_none());
    let back = page(second.prev.clone().unwrap()).await;
    assert_eq!(back.names, first.names);
    assert_eq!(back.label, first.label);
    assert!(back.prev.is_none());

    let found = page("/app/shares?q=e+1".into()).await;
    assert_eq!(found.names.len(), 10);
    assert_eq!(found.label, "1\u{2013}10 of 10");
    let none = page("/app/shares?q=%25".into()).await;
    assert!(none.names.is_empty());
}

#[actix_web::test]
async fn api_listings_of_a_big_folder_page_by_offset_with_totals() {
    let app = TestApp::new().await;
    let big_uuid = big_folder(&app).await;
    let get = |path: String| {
        let app = &app;
        async move {
            let r = app.call(app.fr("GET", &path)).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            r.json()
        }
    };
    let names = |j: &serde_json::Value, key: &str| -> Vec<String> {
        j[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    let j = get("/v4/folders?folder=/big&limit=2&offset=1".into()).await;
    assert_eq!(j["total"], 3);
    assert_eq!(names(&j, "folders"), ["sub-b", "sub-c"]);
    assert_eq!(j["folders"][0]["path"], "/big/sub-b");
    let j = get(format!(
        "/v4/files?folder_uuid={big_uuid}&limit=3&offset=447"
    ))
    .await;
    assert_eq!(j["total"], 450);
    assert_eq!(
        names(&j, "files"),
        ["file-447.txt", "file-448.txt", "report 100%.txt"]
    );
    let j = get("/v4/files?folder=/big&limit=2&offset=0&order=name,desc".into()).await;
    assert_eq!(names(&j, "files"), ["report 100%.txt", "file-448.txt"]);
    // Recursive listings still count the subtree.
    let j = get("/v4/files?folder=/big&recursive=1&limit=1".into()).await;
    assert_eq!(j["total"], 451);

    // Nomad's children: folders first, the page crossing from folders into files.
    let base = format!("/api/admin/asset/{big_uuid}/getAssetChildNodes");
    let j = nomad::ok_json(&app, "GET", &format!("{base}?pageIndex=2&pageSize=2"), None).await;
    assert_eq!(j["totalItemCount"], 453);
    let shown: Vec<&str> = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["sub-c", "file-000.txt"]);
    let j = nomad::ok_json(
        &app,
        "GET",
        &format!("{base}?pageIndex=1&pageSize=2&isDesc=true"),
        None,
    )
    .await;
    let shown: Vec<&str> = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["sub-c", "sub-b"]);
}

/// The share form never lists the whole library: the items chosen (wherever they sit) and the
/// top of the library, at most a page of it.
#[actix_web::test]
async fn the_share_form_lists_the_chosen_items_and_the_top_of_the_library() {
    let app = TestApp::new().await;
    let s = admin(&app).await;
    app.mkdir("/a/b").await;
    let deep = app.upload_one("/a/b", "deep.txt", b"deep").await;
    let deep = deep["uuid"].as_str().unwrap().to_string();
    let names: Vec<String> = (0..240).map(|i| format!("t{i:03}.txt")).collect();
    let files: Vec<Part> = names
        .iter()
        .map(|n| ("file", Some(n.as_str()), None, &b"x"[..]))
        .collect();
    let r = app.upload("folder=/", &files).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let picks = |html: &str| html.matches("name=\"item\" value=").count();
    let new = get_as(&app, &s, "/app/shares/new").await;
    assert_eq!(new.status, 200);
    let html = new.text();
    assert_eq!(picks(&html), 200, "one page of the library's top");
    assert!(!html.contains("deep.txt"));
    assert!(html.contains("Share selected"));

    let chosen = get_as(&app, &s, &format!("/app/shares/new?item=file:{deep}")).await;
    let html = chosen.text();
    assert_eq!(picks(&html), 201);
    let at = html
        .find(&format!("value=\"file:{deep}\" checked"))
        .expect("the deep file, ticked");
    assert!(html[at..].contains("/a/b/deep.txt"));
}
