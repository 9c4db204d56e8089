//! Issue 15, item 7: a newcomer's first hour in the owner UI, in a real browser. The real
//! `sharebox` binary with a small `--max-upload-bytes`, headless Chromium over WebDriver (see
//! tests/support/browser.rs). The admin from the first-start banner opens `/` and lands on the
//! sign-in page; signs in; picks a file over the limit and reads, before anything is sent, a
//! message that names the limit; raises the page's own limit by script (as if the server's had
//! been lowered after the page loaded) and reads the server's refusal on the page, which does
//! not reload it away; uploads a small file; submits a share form with three mistakes and sees
//! all three, each beside its field; fixes them; opens the share as a visitor would and
//! downloads the file; and finds the file's name on the share's activity page.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;

use binary::Server;
use browser::{connect, path_of, save_screenshot, wait_for_js, Chromedriver, Laps, WAIT};

const WIDTH: u32 = 1280;
/// The server's limit: 64 KiB.
const LIMIT: u64 = 64 * 1024;
const BIG: &str = "site survey raw.bin";
const SMALL: &str = "meeting notes.txt";

/// The admin's email and password from the first-start banner.
fn admin(srv: &Server) -> (String, String) {
    let value = |label: &str| {
        srv.value(label)
            .unwrap_or_else(|| panic!("no `{label}` line in {:#?}", srv.banner))
    };
    (value("admin:"), value("password:"))
}

/// How many files the org has, through the API.
fn file_count(srv: &Server) -> u64 {
    let url = format!("{}/{}/v4/files", srv.url, srv.org);
    let res = ureq::get(&url).set("X-Filerobot-Key", &srv.key).call();
    binary::json(res, "GET /v4/files", srv)["total"]
        .as_u64()
        .unwrap()
}

/// Picks `path` in the library's file input (emptied first) and submits the upload form.
async fn upload(c: &Client, path: &Path) {
    c.execute("document.getElementById('files').value = '';", vec![])
        .await
        .expect("empty the file input");
    c.find(Locator::Css("#files"))
        .await
        .expect("file input")
        .send_keys(&path.display().to_string())
        .await
        .expect("pick the file");
    c.find(Locator::Css("#upload button[type=submit]"))
        .await
        .expect("upload button")
        .click()
        .await
        .expect("upload");
}

/// The message of the `n`th upload in the list once it has failed (`null` until then).
const FAILED: &str = "const li = document.querySelectorAll('#progress li')[arguments[0]]; \
    return li && li.className === 'failed' ? li.querySelector('.pct').textContent : null;";

async fn failed_message(c: &Client, n: usize) -> String {
    let t0 = Instant::now();
    while t0.elapsed() < WAIT {
        if let Ok(Value::String(msg)) = c.execute(FAILED, vec![json!(n)]).await {
            return msg;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let list = c
        .execute(
            "return document.getElementById('progress').innerHTML;",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    panic!("upload {n} did not fail within {WAIT:?}: {list}");
}

async fn sign_in(c: &Client, srv: &Server, laps: &mut Laps) {
    let (email, password) = admin(srv);
    c.goto(&format!("{}/", srv.url)).await.expect("open /");
    assert_eq!(
        path_of(c).await,
        "/login",
        "/ leads a newcomer to the sign-in page"
    );
    c.find(Locator::Css("#email"))
        .await
        .expect("email")
        .send_keys(&email)
        .await
        .expect("type the email");
    c.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys(&password)
        .await
        .expect("type the password");
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form#upload"))
        .await
        .expect("the library after signing in");
    assert_eq!(path_of(c).await, "/app");
    laps.lap("open / and sign in");
}

async fn uploads(c: &Client, srv: &Server, dir: &Path, laps: &mut Laps) {
    let limit = c
        .find(Locator::Css("#upload-limit"))
        .await
        .expect("the limit on the page")
        .text()
        .await
        .expect("text");
    assert_eq!(limit, "Files up to 64 KiB each.");
    let big = dir.join(BIG);
    std::fs::write(&big, vec![b'x'; 100_000]).expect("write the big file");
    let small = dir.join(SMALL);
    std::fs::write(&small, b"Agenda: ship it.\n").expect("write the small file");

    // The page's own check: refused before a byte is sent, the limit named.
    c.execute("window.firstHour = 'still here';", vec![])
        .await
        .expect("mark the page");
    upload(c, &big).await;
    let msg = failed_message(c, 0).await;
    assert_eq!(
        msg,
        "Not sent: this file is 97.7 KiB, over the limit of 64 KiB per file."
    );
    assert_eq!(file_count(srv), 0);
    laps.lap("the browser's own size check");

    // The page thinks the limit is higher (as if the server's were lowered after it loaded):
    // the file goes out, and the server's refusal is what the page shows.
    c.execute(
        "document.getElementById('upload').dataset.maxBytes = '100000000';",
        vec![],
    )
    .await
    .expect("raise the page's limit");
    upload(c, &big).await;
    let msg = failed_message(c, 1).await;
    assert_eq!(
        msg,
        format!("The file is larger than the limit of {LIMIT} bytes.")
    );
    // Well past the 400 ms after which a finished batch reloads: the page is the same one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kept = c
        .execute(
            "return {mark: window.firstHour || null, \
                     msgs: [...document.querySelectorAll('#progress li.failed .pct')] \
                         .map(e => e.textContent)};",
            vec![],
        )
        .await
        .expect("the page after the refusal");
    assert_eq!(kept["mark"], "still here", "the page reloaded: {kept}");
    assert_eq!(kept["msgs"].as_array().map(Vec::len), Some(2), "{kept}");
    assert_eq!(file_count(srv), 0);
    save_screenshot(c, "first-hour-upload-refused.png").await;
    laps.lap("the server's refusal");

    // A file within the limit: uploaded, and the library reloads to list it.
    upload(c, &small).await;
    wait_for_js(
        c,
        "the small file in the reloaded library",
        "return window.firstHour === undefined \
             ? [...document.querySelectorAll('table.list td.fname')].map(e => e.textContent.trim()) \
             : null;",
        |v| v.as_array().is_some_and(|a| a.iter().any(|n| n == SMALL)),
    )
    .await;
    assert_eq!(file_count(srv), 1);
    laps.lap("an upload within the limit");
}

/// The texts of the share form's field errors, by id.
const FIELD_ERRORS: &str = "return Object.fromEntries([...document.querySelectorAll('.field-error')] \
    .map(e => [e.id, {text: e.textContent.trim(), \
                      beside: e.parentElement.querySelector('input, textarea, select') \
                          ? e.parentElement.querySelector('input, textarea, select').name : null}]));";

/// Sets the expiry input and zone as a script would, with the events a user makes.
async fn set_expiry(c: &Client, at: &str) {
    c.execute(
        "const input = document.getElementById('expires_at'); \
         input.value = arguments[0]; \
         const zone = document.querySelector('[name=expires_tz]'); \
         zone.value = 'UTC'; \
         for (const e of [input, zone]) { \
           e.dispatchEvent(new Event('input', {bubbles: true})); \
           e.dispatchEvent(new Event('change', {bubbles: true})); \
         }",
        vec![json!(at)],
    )
    .await
    .expect("set the expiry");
}

async fn submit_share_form(c: &Client) {
    c.find(Locator::Css("#share-form button[type=submit]"))
        .await
        .expect("create button")
        .click()
        .await
        .expect("submit the share form");
}

/// Returns the new share's uuid.
async fn share_form(c: &Client, srv: &Server, laps: &mut Laps) -> String {
    c.goto(&format!("{}/app/shares/new", srv.url))
        .await
        .expect("open the share form");
    c.find(Locator::Css("#title"))
        .await
        .expect("title")
        .send_keys("Notes for the board")
        .await
        .expect("type the title");
    // Three mistakes: no file picked, an address that is not one, an expiry already past.
    c.find(Locator::Css("#recipients"))
        .await
        .expect("recipients")
        .send_keys("board@example.com\nthe board")
        .await
        .expect("type the recipients");
    set_expiry(c, "2020-01-01T10:00").await;
    submit_share_form(c).await;
    let errors = wait_for_js(c, "the share form's errors", FIELD_ERRORS, |v| {
        v.as_object().is_some_and(|o| o.len() >= 3)
    })
    .await;
    save_screenshot(c, "first-hour-share-form-errors.png").await;
    let want = json!({
        "error-items": {"text": "Pick at least one file or folder.", "beside": "item"},
        "error-recipients": {
            "text": "'the board' is not an email address (like name@example.com, at most 254 characters)",
            "beside": "recipients"
        },
        "error-expires_at": {"text": "The expiry must be in the future.", "beside": "expires_at"},
    });
    assert_eq!(errors, want, "all three, each beside its field");
    laps.lap("three errors at once");

    // Fixed: the file picked, the address dropped, an expiry ahead.
    c.find(Locator::Css("#share-form input[name=item]"))
        .await
        .expect("the file's checkbox")
        .click()
        .await
        .expect("pick the file");
    let recipients = c
        .find(Locator::Css("#recipients"))
        .await
        .expect("recipients");
    recipients.clear().await.expect("clear the recipients");
    recipients
        .send_keys("board@example.com")
        .await
        .expect("type the recipient");
    set_expiry(c, "2031-01-01T10:00").await;
    submit_share_form(c).await;
    let created = wait_for_js(
        c,
        "the dashboard after creating the share",
        "return location.pathname + location.search;",
        |v| {
            v.as_str()
                .is_some_and(|p| p.starts_with("/app/shares/") && p.ends_with("?done=created"))
        },
    )
    .await;
    laps.lap("the share made");
    created
        .as_str()
        .unwrap()
        .trim_start_matches("/app/shares/")
        .trim_end_matches("?done=created")
        .to_string()
}

async fn activity(c: &Client, srv: &Server, uuid: &str, laps: &mut Laps) {
    // The share as a visitor sees it, and a download from its page.
    let link = c
        .find(Locator::Css(".share-detail input.share-link"))
        .await
        .expect("the share link")
        .prop("value")
        .await
        .expect("link value")
        .expect("a link");
    c.goto(&link).await.expect("open the share");
    let got = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const a = document.querySelector('.entry a[download]'); \
             if (!a) { done({error: 'no download link'}); return; } \
             fetch(a.href).then(r => r.text().then(t => done({status: r.status, text: t}))) \
               .catch(e => done({error: String(e)}));",
            vec![],
        )
        .await
        .expect("download from the share page");
    assert_eq!(
        got,
        json!({"status": 200, "text": "Agenda: ship it.\n"}),
        "the download"
    );
    laps.lap("a visitor's download");

    c.goto(&format!("{}/app/shares/{uuid}/activity", srv.url))
        .await
        .expect("open the activity page");
    let rows = wait_for_js(
        c,
        "the activity rows",
        "return [...document.querySelectorAll('table.list tbody tr')] \
             .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()));",
        |v| v.as_array().is_some_and(|a| a.len() >= 2),
    )
    .await;
    save_screenshot(c, "first-hour-activity.png").await;
    let rows = rows.as_array().unwrap();
    let download = rows
        .iter()
        .find(|r| r[1] == "Downloaded")
        .unwrap_or_else(|| panic!("no download in {rows:?}"));
    assert_eq!(download[2], SMALL, "the file's name: {download}");
    assert!(rows.iter().any(|r| r[1] == "Opened the share"), "{rows:?}");
    let page = c.source().await.expect("source");
    assert!(!page.contains("Mozilla/5.0"), "a raw user agent: {page}");
    laps.lap("the activity page");
}

async fn flow(srv: &Server, driver: &Chromedriver, dir: &Path, laps: &mut Laps) {
    let profile = tempfile::tempdir().unwrap();
    let c = connect(driver, profile.path(), WIDTH).await;
    laps.lap("browser");
    let result = std::panic::AssertUnwindSafe(async {
        sign_in(&c, srv, laps).await;
        uploads(&c, srv, dir, laps).await;
        let uuid = share_form(&c, srv, laps).await;
        activity(&c, srv, &uuid, laps).await;
    });
    let result = futures_util::FutureExt::catch_unwind(result).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), c.close()).await;
    result.unwrap_or_else(|p| std::panic::resume_unwind(p));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomers_first_hour() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(
        &dir.path().join("data"),
        &["--max-upload-bytes", &LIMIT.to_string()],
    );
    let driver = Chromedriver::start(dir.path());
    let mut laps = Laps::new();
    let result = browser::run_flow(flow(&srv, &driver, dir.path(), &mut laps)).await;
    let t_close = Instant::now();
    drop(driver);
    let server_log = srv.stderr();
    drop(srv);
    browser::finish(result, &laps, &server_log, t_close, t0);
}
