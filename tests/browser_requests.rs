//! Issue 20's browser acceptance: the real `sharebox` binary and headless Chromium (see
//! tests/browser_owner.rs). The owner signs in and makes a password-protected file request
//! through the owner UI. Someone else has already sent a file through it. A stranger (a fresh
//! browser profile, a phone's 375 px) opens the link, enters the password, types their name
//! and sends two files through the drop zone: each row's bar reaches 100% (tus, through
//! static/request.js), the page reloads with `?done=sent` and lists those two files only; they
//! remove one. The owner then finds the other in the request's folder in the library, and the
//! stranger's name in the request's activity, the removed file marked so. The public page has
//! nothing to scroll sideways at 375 px. Screenshots: `target/browser/request-<page>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;

use base64::Engine;
use browser::{
    assert_no_horizontal_scroll, connect, entry_names, path_of, png, run_flow, save_screenshot,
    wait_for_js, Chromedriver, Laps, WAIT,
};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PASSWORD: &str = "harbour lights";
const STRANGER: &str = "Ann Stranger";
const TITLE: &str = "Tax papers 2030";

async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Sends `bytes` as `name` through request `puid` as another uploader (their own cookie, one
/// tus creation-with-upload), over plain HTTP.
fn other_uploader_sends(base: &str, puid: &str, name: &str, bytes: &[u8]) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let res = agent
        .post(&format!("{base}/r/{puid}/unlock"))
        .send_form(&[("password", PASSWORD)]);
    let res = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("unlock: {e}"),
    };
    assert_eq!(res.status(), 303, "unlock");
    let set = res
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("sb_uploader="))
        .expect("the uploader cookie")
        .to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let meta = format!(
        "filename {},name {}",
        base64::engine::general_purpose::STANDARD.encode(name),
        base64::engine::general_purpose::STANDARD.encode("Bob Other")
    );
    let res = agent
        .post(&format!("{base}/r/{puid}/tus/"))
        .set("Cookie", &cookie)
        .set("Tus-Resumable", "1.0.0")
        .set("Upload-Length", &bytes.len().to_string())
        .set("Upload-Metadata", &meta)
        .set("Content-Type", "application/offset+octet-stream")
        .send_bytes(bytes)
        .unwrap_or_else(|e| panic!("tus upload: {e}"));
    assert_eq!(res.status(), 201, "tus creation-with-upload");
}

/// Signs the owner in and makes the request through the form; returns its page's path.
async fn owner_creates(c: &Client, srv: &binary::Server) -> String {
    c.goto(&format!("{}/app/requests/new", srv.url))
        .await
        .unwrap();
    assert!(path_of(c).await.starts_with("/login"), "signed out first");
    type_into(c, "#email", &srv.value("admin:").unwrap()).await;
    type_into(c, "#password", &srv.value("password:").unwrap()).await;
    click(c, "form button[type=submit]").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form#request-form"))
        .await
        .expect("the request form after signing in");
    assert_eq!(path_of(c).await, "/app/requests/new");
    let current = c
        .find(Locator::Css("nav.appnav a[aria-current=page]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(current, "Requests");
    type_into(c, "#title", TITLE).await;
    type_into(
        c,
        "#message",
        "The receipts and the bank statements, please.",
    )
    .await;
    type_into(c, "#password", PASSWORD).await;
    type_into(c, "#max_files", "10").await;
    click(c, "#request-form button[type=submit]").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("section.request-detail"))
        .await
        .expect("the new request's page");
    let at = path_of(c).await;
    assert!(at.ends_with("?done=created"), "{at}");
    let notice = c
        .find(Locator::Css("p.notice-ok[role=status]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notice.contains("created"), "{notice}");
    at.trim_end_matches("?done=created").to_string()
}

/// Names in the stranger's "What you sent" list.
async fn sent_names(c: &Client) -> Vec<String> {
    let mut names = entry_names(c).await;
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_sends_files_through_a_request_and_the_owner_sees_them() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let srv = binary::Server::start(&dir.path().join("data"), &[]);
    let files = [
        ("receipts-march.png", png(800, 500)),
        (
            "bank statement Q1.txt",
            b"Opening balance 100\nClosing balance 250\n".repeat(5000),
        ),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in &files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p.display().to_string());
    }

    let driver = Chromedriver::start(dir.path());
    let owner = connect(&driver, &dir.path().join("owner"), 1280).await;
    let stranger = connect(&driver, &dir.path().join("stranger"), 375).await;
    let mut laps = Laps::new();
    let result = run_flow(async {
        let detail = owner_creates(&owner, &srv).await;
        let link = owner
            .find(Locator::Css("input.share-link"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .expect("the request link");
        save_screenshot(&owner, "request-created-1280.png").await;
        let folder_href = owner
            .find(Locator::Css("dl.settings a[href^=\"/app?folder_uuid=\"]"))
            .await
            .expect("the target folder's link")
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let path = link.trim_start_matches(&srv.url).to_string();
        assert!(path.starts_with("/r/"), "{link}");
        let puid = path.split('/').nth(2).unwrap().to_string();
        laps.lap("owner: sign in, create the request");

        // Someone else's file, which the stranger must never see.
        other_uploader_sends(&srv.url, &puid, "someone-else.txt", b"not yours");

        // The stranger: the link, the password, the page.
        stranger.goto(&link).await.unwrap();
        type_into(&stranger, "#password", PASSWORD).await;
        click(&stranger, "form button[type=submit]").await;
        stranger
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("form#request-form"))
            .await
            .expect("the request page after the password");
        assert_eq!(path_of(&stranger).await, path);
        let ready = stranger.execute("return !!(window.tus && window.tus.isSupported);", vec![]);
        assert_eq!(ready.await.unwrap(), json!(true), "tus-js-client loaded");
        assert!(
            sent_names(&stranger).await.is_empty(),
            "nothing of anyone else's"
        );
        stranger
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .unwrap();
        assert_no_horizontal_scroll(&stranger, "the request page", 375).await;
        save_screenshot(&stranger, "request-page-375.png").await;
        laps.lap("stranger: unlock");

        // Two files through the drop zone, with the stranger's name; every bar to 100%.
        type_into(&stranger, "#uploader-name", STRANGER).await;
        type_into(&stranger, "#uploader-note", "March and Q1, as asked.").await;
        type_into(&stranger, "#files", &paths.join("\n")).await;
        let bars = stranger
            .execute_async(
                "const [want, done] = [arguments[0], arguments[arguments.length - 1]]; \
                 const list = document.querySelector('#request-form .progress-list'); \
                 const seen = []; \
                 new MutationObserver(ms => ms.forEach(m => { \
                     if (m.target.tagName === 'PROGRESS') seen.push(m.target.value); \
                 })).observe(list, {attributes: true, subtree: true, attributeFilter: ['value']}); \
                 document.querySelector('#request-form button[type=submit]').click(); \
                 const t0 = Date.now(); \
                 (function poll() { \
                   const lis = [...list.querySelectorAll('li')]; \
                   const finished = lis.length === want && lis.every(li => \
                       li.classList.contains('done') || li.classList.contains('failed')); \
                   if (finished || Date.now() - t0 > 9000) { \
                     done({seen, bars: lis.map(li => ({ \
                       name: li.querySelector('span').textContent, \
                       value: li.querySelector('progress').value, \
                       pct: li.querySelector('.pct').textContent, \
                       cls: li.className}))}); \
                   } else { setTimeout(poll, 5); } \
                 })();",
                vec![json!(files.len())],
            )
            .await
            .expect("watch the uploads");
        let list = bars["bars"].as_array().expect("bars");
        assert_eq!(list.len(), files.len(), "one row per file: {bars}");
        for (name, _) in &files {
            let bar = list
                .iter()
                .find(|b| b["name"] == *name)
                .unwrap_or_else(|| panic!("no row for {name}: {bars}"));
            assert_eq!(bar["cls"], "done", "{name}: {bar}");
            assert_eq!(bar["value"], 100.0, "{name}: {bar}");
            assert_eq!(bar["pct"], "100%", "{name}: {bar}");
        }
        eprintln!("progress values seen: {}", bars["seen"]);
        wait_for_js(
            &stranger,
            "the page again with ?done=sent",
            "return location.search;",
            |v| v == "?done=sent",
        )
        .await;
        stranger
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("ul.sent"))
            .await
            .expect("the list of what was sent");
        let mut want: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
        want.sort();
        assert_eq!(
            sent_names(&stranger).await,
            want,
            "only their own two files"
        );
        stranger
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .unwrap();
        assert_no_horizontal_scroll(&stranger, "the request page with files", 375).await;
        save_screenshot(&stranger, "request-sent-375.png").await;
        laps.lap("stranger: send two files");

        // They remove the text file (a plain form post).
        let (removed, kept) = (files[1].0, files[0].0);
        let clicked = stranger
            .execute(
                "const li = [...document.querySelectorAll('ul.sent .entry')] \
                   .find(e => e.querySelector('.name').textContent.trim() === arguments[0]); \
                 if (!li) return false; li.querySelector('form button').click(); return true;",
                vec![json!(removed)],
            )
            .await
            .unwrap();
        assert_eq!(clicked, json!(true), "a Remove button for {removed}");
        wait_for_js(
            &stranger,
            "the page again with ?done=removed",
            "return location.search;",
            |v| v == "?done=removed",
        )
        .await;
        assert_eq!(sent_names(&stranger).await, vec![kept.to_string()]);
        laps.lap("stranger: remove one");

        // The owner: the kept file in the request's folder, not the removed one.
        owner
            .goto(&format!("{}{folder_href}", srv.url))
            .await
            .unwrap();
        let names = wait_for_js(
            &owner,
            "the request's folder in the library",
            "return [...document.querySelectorAll('table.list td.fname')] \
                .map(e => e.textContent.trim());",
            |v| v.as_array().is_some_and(|a| a.iter().any(|x| x == kept)),
        )
        .await;
        assert!(
            !names.as_array().unwrap().iter().any(|x| x == removed),
            "{removed} left the library: {names}"
        );
        save_screenshot(&owner, "request-folder-1280.png").await;

        // And the stranger by name in the request's activity; the removed file says so.
        owner.goto(&format!("{}{detail}", srv.url)).await.unwrap();
        let rows: Value = wait_for_js(
            &owner,
            "the request's activity",
            "return [...document.querySelectorAll('ul.sent-files li.entry')].map(li => ({ \
               name: li.querySelector('.name').textContent.trim(), \
               from: li.querySelector('.uploader').textContent.trim(), \
               removed: li.classList.contains('removed')}));",
            |v| v.as_array().is_some_and(|a| a.len() == 3),
        )
        .await;
        let row = |name: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
                .unwrap_or_else(|| panic!("no activity row for {name}: {rows}"))
                .clone()
        };
        assert_eq!(row(kept)["from"], STRANGER, "{rows}");
        assert_eq!(row(kept)["removed"], false, "{rows}");
        assert_eq!(row(removed)["from"], STRANGER, "{rows}");
        assert_eq!(row(removed)["removed"], true, "{rows}");
        assert_eq!(row("someone-else.txt")["from"], "Bob Other", "{rows}");
        let html = owner.source().await.unwrap();
        assert!(
            html.contains("March and Q1, as asked."),
            "the note is shown"
        );
        assert!(!html.contains(PASSWORD), "a password is never shown");
        owner
            .execute("document.getElementById('sent').scrollIntoView();", vec![])
            .await
            .unwrap();
        save_screenshot(&owner, "request-activity-1280.png").await;
        laps.lap("owner: folder and activity");

        // The owner's request pages at a phone's width (the stranger's browser, now signed in
        // as the owner): nothing to scroll sideways, the "More…" menu open too.
        stranger
            .goto(&format!("{}/app/requests", srv.url))
            .await
            .unwrap();
        type_into(&stranger, "#email", &srv.value("admin:").unwrap()).await;
        type_into(&stranger, "#password", &srv.value("password:").unwrap()).await;
        click(&stranger, "form button[type=submit]").await;
        stranger
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("ul.requests"))
            .await
            .expect("the requests list after signing in");
        for (page, path) in [
            ("list", "/app/requests".to_string()),
            ("form", "/app/requests/new".to_string()),
            ("detail", detail.clone()),
        ] {
            stranger.goto(&format!("{}{path}", srv.url)).await.unwrap();
            if page == "detail" {
                stranger
                    .execute(
                        "document.querySelector('details.menu').open = true;",
                        vec![],
                    )
                    .await
                    .unwrap();
            }
            assert_no_horizontal_scroll(&stranger, &format!("the owner's {page}"), 375).await;
            save_screenshot(&stranger, &format!("request-owner-{page}-375.png")).await;
        }
        laps.lap("owner's pages at 375 px");
    })
    .await;
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = stranger.close().await;
        let _ = owner.close().await;
        result
    })
    .await
    .unwrap_or_else(|_| panic!("the browsers did not close"));
    let t_close = Instant::now();
    drop(driver);
    browser::finish(result, &laps, &srv.stderr(), t_close, t0);
}
