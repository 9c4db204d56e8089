//! Issue 16: a share of 20,000 files through the real app: folder pages of 200 with working
//! next and previous links and counts, a name filter, and the share's checks on one file
//! (visibility and recursion) answered without walking the share.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::json;
use std::collections::HashSet;

const N: usize = 20_000;

/// `/big` with N files (`f00000.txt`..; every 10th PUB, the rest ORG) on one blob, and
/// `/big/sub/inner.txt`. The rows are written in one transaction: uploading 20,000 files one by
/// one would test the upload, not the share.
async fn big_library(app: &TestApp) -> (String, String, String, String) {
    let big = app.mkdir("/big").await;
    let sub = app.mkdir("/big/sub").await;
    let inner = app.upload_one("/big/sub", "inner.txt", b"inside").await;
    let seed = app.upload_one("/big", "f00000.txt", b"0123456789").await;
    let folder_uuid = big["uuid"].as_str().unwrap().to_string();
    let seed_uuid = seed["uuid"].as_str().unwrap().to_string();
    let f = folder_uuid.clone();
    app.state
        .db
        .write_sync(move |tx| {
            let (folder_id, org_id, blob): (i64, i64, String) = tx.query_row(
                "SELECT d.id, d.org_id, x.blob_id FROM folders d JOIN files x ON x.folder_id = d.id
                 WHERE d.uuid = ?1",
                [&f],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            tx.execute(
                "UPDATE files SET visibility = 'PUB' WHERE folder_id = ?1",
                [folder_id],
            )?;
            let mut stmt = tx.prepare(
                "INSERT INTO files (uuid, org_id, folder_id, name, mime, visibility, blob_id,
                                    created_at, modified_at)
                 VALUES (?1, ?2, ?3, ?4, 'text/plain', ?5, ?6, 0, 0)",
            )?;
            for i in 1..N {
                let vis = if i % 10 == 0 { "PUB" } else { "ORG" };
                stmt.execute(r2d2_sqlite::rusqlite::params![
                    uuid::Uuid::new_v4().to_string(),
                    org_id,
                    folder_id,
                    format!("f{i:05}.txt"),
                    vis,
                    blob
                ])?;
            }
            Ok(())
        })
        .unwrap();
    (
        folder_uuid,
        sub["uuid"].as_str().unwrap().to_string(),
        inner["uuid"].as_str().unwrap().to_string(),
        seed_uuid,
    )
}

fn path_of(uri: &str) -> String {
    uri.trim_start_matches("http://sharebox.test").to_string()
}

/// The names on a page, and its next and previous links (hrefs as written, unescaped).
fn page_parts(html: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let names: Vec<String> = html
        .split("<li class=\"entry")
        .skip(1)
        .map(|li| {
            let start = li.find("class=\"name\"").unwrap();
            let rest = &li[start..];
            let open = rest.find('>').unwrap() + 1;
            let close = rest.find("</").unwrap();
            rest[open..close].to_string()
        })
        .collect();
    let link = |rel: &str| {
        let marker = format!("rel=\"{rel}\" href=\"");
        html.find(&marker).map(|i| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap()]
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
    };
    (names, link("next"), link("prev"))
}

#[actix_web::test]
async fn a_twenty_thousand_file_share_pages_filters_and_checks_files() {
    let app = TestApp::new().await;
    let (big, sub, inner, seed) = big_library(&app).await;
    let s = create_share(
        &app,
        &json!({"title": "Big", "permissions": "READ+DOWNLOAD", "items": [{"type": "folder_uuid",
            "identifiers": [big], "options": {"recursive": true, "visibility": "PUB,ORG"}}]}),
    )
    .await;
    let base = path_of(s["share_uri"].as_str().unwrap());

    // The top level: the one folder.
    let top = app.call(request("GET", &base)).await;
    assert_eq!(top.status, 200);
    assert!(top.text().contains("1\u{2013}1 of 1"), "{}", top.text());

    // Page 1 of the folder: the sub-folder first, then files by name.
    let first = app
        .call(request("GET", &format!("{base}?folder={big}")))
        .await;
    assert_eq!(first.status, 200);
    let html = first.text();
    assert!(html.contains("1\u{2013}200 of 20,001"), "no count label");
    let (names, next, prev) = page_parts(&html);
    assert_eq!(names.len(), 200);
    assert_eq!(names[0], "sub");
    assert_eq!(names[1], "f00000.txt");
    assert!(prev.is_none());

    // Every page forward: 20,001 entries, each once, in order; the last has no next.
    let mut seen: Vec<String> = names.clone();
    let mut next = next;
    let mut pages = vec![(format!("{base}?folder={big}"), names)];
    while let Some(n) = next {
        let url = format!("{base}{n}");
        let r = app.call(request("GET", &url)).await;
        assert_eq!(r.status, 200, "{url}");
        let (names, nx, pv) = page_parts(&r.text());
        assert!(
            pv.is_some(),
            "page {} ({url}) has no previous link: {}",
            pages.len() + 1,
            r.text()
        );
        assert!(names.len() == 200 || nx.is_none());
        seen.extend(names.iter().cloned());
        pages.push((url, names));
        next = nx;
    }
    assert_eq!(pages.len(), 101);
    assert_eq!(seen.len(), N + 1);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), N + 1);
    assert_eq!(seen.last().unwrap(), "f19999.txt");
    let last = app.call(request("GET", &pages[100].0)).await.text();
    assert!(
        last.contains("20,001\u{2013}20,001 of 20,001"),
        "last page label"
    );

    // Previous links walk back to the same pages.
    for i in [100, 50, 1] {
        let html = app.call(request("GET", &pages[i].0)).await.text();
        let (_, _, prev) = page_parts(&html);
        let back = app
            .call(request("GET", &format!("{base}{}", prev.unwrap())))
            .await;
        assert_eq!(
            page_parts(&back.text()).0,
            pages[i - 1].1,
            "back from page {i}"
        );
    }

    // The name filter finds one file among 20,000, by part of its name.
    let found = app
        .call(request("GET", &format!("{base}?folder={big}&q=12345")))
        .await
        .text();
    let (names, next, _) = page_parts(&found);
    assert_eq!(names, vec!["f12345.txt".to_string()]);
    assert!(next.is_none());
    assert!(found.contains("1\u{2013}1 of 1"));

    // Files: inside (even deep, the share being recursive) 200; the sub-folder's page opens.
    let file = |uuid: &str| format!("{base}/files/{uuid}");
    assert_eq!(app.call(request("GET", &file(&seed))).await.status, 200);
    assert_eq!(app.call(request("GET", &file(&inner))).await.status, 200);
    let sub_page = app
        .call(request("GET", &format!("{base}?folder={sub}")))
        .await;
    assert_eq!(sub_page.status, 200);
    assert_eq!(
        page_parts(&sub_page.text()).0,
        vec!["inner.txt".to_string()]
    );

    // The same folder shared without recursion and only PUB files.
    let narrow = create_share(
        &app,
        &json!({"title": "Narrow", "permissions": "READ+DOWNLOAD", "items": [{"type": "folder_uuid",
            "identifiers": [big], "options": {"recursive": false, "visibility": "PUB"}}]}),
    )
    .await;
    let nbase = path_of(narrow["share_uri"].as_str().unwrap());
    let nfile = |uuid: &str| format!("{nbase}/files/{uuid}");
    let org_file: String = app
        .state
        .db
        .read_sync(|c| {
            Ok(c.query_row(
                "SELECT uuid FROM files WHERE name = 'f00001.txt'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(app.call(request("GET", &nfile(&seed))).await.status, 200);
    assert_eq!(
        app.call(request("GET", &nfile(&org_file))).await.status,
        404
    );
    assert_eq!(app.call(request("GET", &nfile(&inner))).await.status, 404);
    assert_eq!(
        app.call(request("GET", &format!("{nbase}?folder={sub}")))
            .await
            .status,
        404
    );
    // Only the PUB tenth shows, and no sub-folder: 2,000 entries.
    let npage = app
        .call(request("GET", &format!("{nbase}?folder={big}")))
        .await
        .text();
    assert!(npage.contains("1\u{2013}200 of 2,000"), "narrow count");
    let (names, _, _) = page_parts(&npage);
    assert_eq!(names[0], "f00000.txt");
    assert_eq!(names[1], "f00010.txt");
}
