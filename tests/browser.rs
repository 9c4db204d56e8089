//! Issue 7: the public share in a real browser. The real `sharebox` binary serves a
//! password-protected share; headless Chromium (Debian `chromium` + `chromium-driver`, which
//! `scripts/test.sh` installs when missing), driven over WebDriver by fantoccini, opens it at a
//! phone's width (375 px), is refused a wrong password, unlocks it, finds the file list in the
//! DOM, has nothing to scroll sideways, and saves a screenshot to `target/browser/`.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;
use binary::Server;
use browser::{entry_names, png, save_screenshot, submit_password, Chromedriver, Laps, WAIT};

const PASSWORD: &str = "let me in";
const WIDTH: u32 = 375;

/// `POST {path}` with the API key: its JSON answer; panics with the server's log on failure.
fn post(srv: &Server, path: &str, content_type: &str, body: &[u8]) -> Value {
    let res = ureq::post(&format!("{}{path}", srv.url))
        .set("X-Filerobot-Key", &srv.key)
        .set("Content-Type", content_type)
        .send_bytes(body);
    binary::json(res, &format!("POST {path}"), srv)
}

/// `POST /default/v4/upload` of one file; returns its uuid.
fn upload(srv: &Server, name: &str, ctype: &str, bytes: &[u8]) -> String {
    const BOUNDARY: &str = "----shareboxBrowserTest5fXz";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let answer = post(
        srv,
        "/default/v4/upload?folder=/browser",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &body,
    );
    answer["file"]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no file uuid in {answer}"))
        .to_string()
}

struct Fixture {
    share_uri: String,
    names: Vec<String>,
}

fn fixture(srv: &Server) -> Fixture {
    let files: [(&str, &str, Vec<u8>); 3] = [
        ("notes.txt", "text/plain", b"Meeting notes\n".to_vec()),
        (
            "quarterly-report-2031-with-a-file-name-far-too-long-for-a-phone-screen-final-v2.csv",
            "text/csv",
            b"a,b\n1,2\n".to_vec(),
        ),
        ("wide banner.png", "image/png", png(1200, 240)),
    ];
    let uuids: Vec<String> = files
        .iter()
        .map(|(name, ctype, bytes)| upload(srv, name, ctype, bytes))
        .collect();
    let body = json!({
        "title": "Browser test",
        "items": [{"type": "file_uuid", "identifiers": uuids}],
        "auth": {"pass": PASSWORD},
    });
    let answer = post(
        srv,
        "/default/v5/shares",
        "application/json",
        body.to_string().as_bytes(),
    );
    let share_uri = answer["share"]["share_uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no share_uri in {answer}"))
        .to_string();
    assert!(share_uri.starts_with(&srv.url), "{share_uri}");
    let mut names: Vec<String> = files.iter().map(|f| f.0.to_string()).collect();
    names.sort();
    Fixture { share_uri, names }
}

async fn flow(c: &Client, fx: &Fixture, laps: &mut Laps) {
    // Locked: the form, and none of the files.
    c.goto(&fx.share_uri).await.expect("open the share");
    c.find(Locator::Css("form input[type=password]"))
        .await
        .expect("the locked share shows a password form");
    let html = c.source().await.expect("source");
    for name in &fx.names {
        assert!(!html.contains(name.as_str()), "locked page shows {name}");
    }
    assert!(entry_names(c).await.is_empty(), "locked page lists files");
    browser::assert_no_horizontal_scroll(c, "password form", WIDTH).await;
    save_screenshot(c, "locked-375.png").await;
    laps.lap("open locked share");

    // A wrong password: the form again, with the error, still no files.
    submit_password(c, "not the password").await;
    let error = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".error"))
        .await
        .expect("an error after a wrong password");
    let text = error.text().await.expect("error text");
    assert!(
        text.contains("That password is not right"),
        "error text: {text:?}"
    );
    assert!(
        entry_names(c).await.is_empty(),
        "wrong password lists files"
    );
    let html = c.source().await.expect("source");
    for name in &fx.names {
        assert!(!html.contains(name.as_str()), "refused page shows {name}");
    }
    laps.lap("wrong password");

    // The right one: redirected back to the share, which lists the files.
    submit_password(c, PASSWORD).await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".entry .name"))
        .await
        .expect("the file list after unlocking");
    let url = c.current_url().await.expect("url");
    assert_eq!(url.as_str(), fx.share_uri, "back on the share page");
    let mut names = entry_names(c).await;
    names.sort();
    assert_eq!(names, fx.names, "the file list in the DOM");
    let h1 = c.find(Locator::Css("h1")).await.expect("h1");
    assert_eq!(h1.text().await.expect("h1 text"), "Browser test");
    // The unlock cookie is HttpOnly: invisible to scripts.
    let cookies = c
        .execute("return document.cookie;", vec![])
        .await
        .expect("document.cookie");
    assert_eq!(cookies, json!(""), "a cookie is readable by scripts");
    laps.lap("unlock");

    // Wait for the image's thumbnail (made by the server, 320 px at most), so the measurement
    // and the screenshot see the final layout.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("img.thumb"))
        .await
        .expect("the image thumbnail");
    let loaded = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const img = document.querySelector('img.thumb'); \
             img.scrollIntoView(); \
             const report = () => done({complete: img.complete, width: img.naturalWidth, \
                                        shown: img.getBoundingClientRect().width}); \
             if (img.complete) { report(); } else { img.onload = report; img.onerror = report; }",
            vec![],
        )
        .await
        .expect("image load");
    assert_eq!(loaded["width"], 320, "the thumbnail loaded: {loaded}");
    assert!(
        loaded["shown"].as_f64().unwrap() <= WIDTH as f64,
        "the preview is wider than the screen: {loaded}"
    );
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    browser::assert_no_horizontal_scroll(c, "share page", WIDTH).await;
    // Short names stay whole on one line: the size and button must not squeeze them.
    let lines = c
        .execute(
            "return [...document.querySelectorAll('.entry .name')].map(e => ({ \
                 name: e.textContent.trim(), \
                 lines: Math.round(e.getBoundingClientRect().height \
                                   / parseFloat(getComputedStyle(e).lineHeight)) }));",
            vec![],
        )
        .await
        .expect("measure names");
    for entry in lines.as_array().expect("array") {
        let name = entry["name"].as_str().unwrap();
        if name.len() <= 20 {
            assert_eq!(entry["lines"], 1, "{name:?} is broken over lines: {lines}");
        }
    }
    let path = save_screenshot(c, "share-375.png").await;
    laps.lap("measure + screenshot");
    eprintln!("screenshot: {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_share_unlocks_and_fits_a_phone_screen() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data"), &[]);
    let fx = fixture(&srv);
    let t_server = t0.elapsed();

    let t1 = Instant::now();
    let profile = tempfile::tempdir().unwrap();
    let driver = Chromedriver::start(dir.path());
    let client = browser::connect(&driver, profile.path(), WIDTH).await;
    let t_browser = t1.elapsed();

    let mut laps = Laps::new();
    let result = browser::run_flow(flow(&client, &fx, &mut laps)).await;
    // Close the session (ends Chromium) whatever happened; the drops end the rest.
    let t_close = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    drop(profile);
    let server_log = srv.stderr();
    drop(srv);

    eprintln!("server + fixtures: {t_server:?}; chromedriver + browser session: {t_browser:?}");
    browser::finish(result, &laps, &server_log, t_close, t0);
}
