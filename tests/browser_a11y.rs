//! Issue 19 (in part): accessibility in a real browser. The real `sharebox` binary and headless
//! Chromium (Debian `chromium` + `chromium-driver`) driven over WebDriver by fantoccini, at a
//! phone's width (375 px) and a laptop's (1280 px), each in the light and in the dark colour
//! scheme (`prefers-color-scheme` set through Blink's settings and checked with `matchMedia` on
//! every page, so the emulation cannot fail silently). One browser session per round visits the
//! login page, the library, the share form, the new share's panel, the list of shares, a share's
//! detail page, the public pages of a share: locked (the password form), open (files with image
//! thumbnails) and expired, and a file request's (issue 20): locked, open (the drop zone) and
//! closed. On every page:
//! - nothing scrolls sideways;
//! - a screenshot lands in `target/browser/a11y-<page>-<width>-<scheme>.png`;
//! - axe-core, injected by WebDriver (its source run in the page, then `axe.run()`), reports no
//!   violation of impact `serious` or `critical`.
//!
//! axe-core comes from the npm registry, pinned, test-only: `scripts/test.sh` installs it into
//! `target/npm/` (see [`AXE_VERSION`]); `SHAREBOX_AXE_JS` may name another copy of `axe.min.js`.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use futures_util::FutureExt;
use serde_json::{json, Value};

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;

use binary::Server;
use browser::{
    assert_no_horizontal_scroll, connect_with, path_of, png, save_screenshot, submit_password,
    wait_for_js, Chromedriver, Laps, WAIT,
};

/// The axe-core release `scripts/test.sh` installs (keep the two in step).
const AXE_VERSION: &str = "4.10.3";
const SHARE_PASSWORD: &str = "harbour lights";

/// `axe.min.js`: `$SHAREBOX_AXE_JS`, or where `scripts/test.sh` puts it.
fn axe_source() -> String {
    let path = std::env::var_os("SHAREBOX_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/npm/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing ({}: {e}): run scripts/test.sh, which installs it \
             (`npm install --prefix target/npm axe-core@{AXE_VERSION}`), or set SHAREBOX_AXE_JS \
             to an axe.min.js",
            path.display()
        )
    })
}

/// `POST {path}` with the API key: its JSON answer; panics with the server's log on failure.
fn post(srv: &Server, path: &str, content_type: &str, body: &[u8]) -> Value {
    let res = ureq::post(&format!("{}{path}", srv.url))
        .set("X-Filerobot-Key", &srv.key)
        .set("Content-Type", content_type)
        .send_bytes(body);
    binary::json(res, &format!("POST {path}"), srv)
}

/// One file uploaded through the API into `/a11y`; its uuid.
fn upload(srv: &Server, name: &str, ctype: &str, bytes: &[u8]) -> String {
    const BOUNDARY: &str = "----shareboxA11yTest7Qm";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let answer = post(
        srv,
        &format!("/{}/v4/upload?folder=/a11y", srv.org),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &body,
    );
    answer["file"]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no file uuid in {answer}"))
        .to_string()
}

/// A share made through the API: its uuid and link.
fn share(srv: &Server, body: Value) -> (String, String) {
    let answer = post(
        srv,
        &format!("/{}/v5/shares", srv.org),
        "application/json",
        body.to_string().as_bytes(),
    );
    let s = &answer["share"];
    (
        s["uuid"].as_str().expect("share uuid").to_string(),
        s["share_uri"].as_str().expect("share link").to_string(),
    )
}

/// What the rounds visit, made once through the API.
struct Fixture {
    /// A password-protected share of three files, two of them images: its uuid and link.
    locked: (String, String),
    /// A share that expires a few seconds after it is made, and when.
    expired_link: String,
    expires: Instant,
    /// The admin's email and password from the first-start banner.
    admin: (String, String),
    /// A password-protected file request's uuid and link, and a revoked one's link.
    request_uuid: String,
    request: String,
    closed_request: String,
}

fn fixture(srv: &Server) -> Fixture {
    let files = [
        upload(srv, "harbour at dusk.png", "image/png", &png(640, 480)),
        upload(srv, "lighthouse.png", "image/png", &png(480, 640)),
        upload(
            srv,
            "trip notes.txt",
            "text/plain",
            b"Day 1: the harbour.\nDay 2: the lighthouse.\n",
        ),
    ];
    let locked = share(
        srv,
        json!({
            "title": "Harbour photos",
            "description": "Two photos and the notes from the trip.",
            "items": [{"type": "file_uuid", "identifiers": files}],
            "auth": {"pass": SHARE_PASSWORD},
        }),
    );
    // The API refuses an expiry in the past, and the binary runs on the system clock: this one
    // is over three seconds from now, long before the first round reaches it.
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let expires = Instant::now() + Duration::from_secs(4);
    let (_, expired_link) = share(
        srv,
        json!({
            "title": "Old drafts",
            "items": [{"type": "file_uuid", "identifiers": [files[2]]}],
            "expires_at": expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }),
    );
    let value = |label: &str| {
        srv.value(label)
            .unwrap_or_else(|| panic!("no `{label}` line in {:#?}", srv.banner))
    };
    let request = |body: Value| {
        let answer = post(
            srv,
            &format!("/{}/v5/requests", srv.org),
            "application/json",
            body.to_string().as_bytes(),
        );
        let r = &answer["request"];
        (
            r["uuid"].as_str().expect("request uuid").to_string(),
            r["request_uri"].as_str().expect("request link").to_string(),
        )
    };
    let (request_uuid, request_link) = request(json!({
        "title": "Receipts for the trip",
        "message": "Send the receipts as PDF or photos.",
        "max_files": 10, "max_file_bytes": 10_000_000, "extensions": ["pdf", "jpg", "png"],
        "auth": {"pass": SHARE_PASSWORD},
    }));
    let (closed_uuid, closed_request) = request(json!({"title": "Old receipts"}));
    post(
        srv,
        &format!("/{}/v5/requests/{closed_uuid}/revoke", srv.org),
        "application/json",
        b"",
    );
    Fixture {
        locked,
        expired_link,
        expires,
        admin: (value("admin:"), value("password:")),
        request_uuid,
        request: request_link,
        closed_request,
    }
}

/// One browser session: a viewport width and a colour scheme.
#[derive(Clone, Copy)]
struct Round {
    width: u32,
    dark: bool,
}

impl Round {
    fn scheme(self) -> &'static str {
        if self.dark {
            "dark"
        } else {
            "light"
        }
    }
}

/// Runs axe-core in the page: its violations as `{id, impact, help, nodes, targets}`.
const AXE_RUN: &str = "\
    const done = arguments[arguments.length - 1]; \
    axe.run(document, {resultTypes: ['violations']}) \
      .then(r => done({version: axe.version, passes: r.passes.map(p => p.id), \
          incomplete: r.incomplete.map(i => i.id + ' (' + i.nodes.length + ' nodes: ' \
              + i.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' \
                  + ((n.any[0] || n.all[0] || n.none[0] || {}).message || '?')).join('; ') \
              + ')'), \
          violations: r.violations.map(v => ({ \
          id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, \
          targets: v.nodes.slice(0, 4).map(n => n.target.join(' ')), \
          summary: v.nodes.length ? v.nodes[0].failureSummary : ''}))})) \
      .catch(e => done({error: String(e)}));";

/// axe-core injected into the page (its source run by WebDriver, which the page's CSP does not
/// govern) and run on the whole document.
async fn run_axe(c: &Client, axe: &str, what: &str) -> Value {
    c.execute(axe, vec![]).await.expect("inject axe-core");
    let result = c.execute_async(AXE_RUN, vec![]).await.expect("axe.run");
    assert!(
        result["error"].is_null(),
        "{what}: axe.run failed: {result}"
    );
    assert_eq!(result["version"], AXE_VERSION, "{what}: the axe-core run");
    result
}

/// axe really looks: an input without a label, added to the page, is reported as critical.
async fn axe_catches_a_missing_label(c: &Client, axe: &str) {
    c.execute(
        "const i = document.createElement('input'); i.type = 'text'; i.id = 'axe-canary'; \
         document.querySelector('main').append(i);",
        vec![],
    )
    .await
    .expect("add an unlabelled input");
    let result = run_axe(c, axe, "the canary").await;
    let hit = result["violations"].as_array().is_some_and(|v| {
        v.iter().any(|v| {
            v["id"] == "label"
                && v["impact"] == "critical"
                && v["targets"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("#axe-canary")))
        })
    });
    assert!(hit, "axe-core missed an unlabelled input: {result}");
}

/// The checks every page gets: the colour scheme asked for, no sideways scroll, a screenshot,
/// and no serious or critical axe violation. The first three fail at once; axe's findings are
/// added to `found`, so that one run lists those of every page.
async fn check_page(c: &Client, axe: &str, page: &str, round: Round, found: &mut Vec<String>) {
    let (w, scheme) = (round.width, round.scheme());
    let what = format!("{page} at {w} px, {scheme}");
    let dark = c
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .expect("matchMedia");
    assert_eq!(
        dark,
        json!(round.dark),
        "{what}: prefers-color-scheme is not {scheme}"
    );
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll to top");
    assert_no_horizontal_scroll(c, &what, w).await;
    save_screenshot(c, &format!("a11y-{page}-{w}-{scheme}.png")).await;

    // What a click shows (the rows' "More", the actions menu, the chart's numbers) is checked
    // too: axe skips what is hidden.
    c.execute(
        "document.querySelectorAll('details').forEach(d => { d.open = true; });",
        vec![],
    )
    .await
    .expect("open the details");
    let result = run_axe(c, axe, &what).await;
    eprintln!(
        "{what}: axe {}: {} rules passed; to review by hand (incomplete): {}",
        result["version"],
        result["passes"].as_array().map_or(0, Vec::len),
        result["incomplete"]
    );
    let violations = result["violations"].as_array().expect("violations");
    let mut bad = Vec::new();
    for v in violations {
        let line = format!(
            "{} ({}, {} nodes): {}; {}",
            v["id"].as_str().unwrap_or("?"),
            v["impact"].as_str().unwrap_or("?"),
            v["nodes"],
            v["help"].as_str().unwrap_or(""),
            v["targets"]
                .as_array()
                .map(|t| t
                    .iter()
                    .map(|s| s.as_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(" | "))
                .unwrap_or_default()
        );
        if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
            bad.push(format!(
                "{line}\n      {}",
                v["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n      ")
            ));
        } else {
            eprintln!("{what}: axe, not failing: {line}");
        }
    }
    if !bad.is_empty() {
        found.push(format!(
            "{what}: axe-core found {} serious or critical violation(s):\n  - {}",
            bad.len(),
            bad.join("\n  - ")
        ));
    }
}

/// Waits until every thumbnail on the page has loaded (they are lazy: each is scrolled to).
async fn load_thumbnails(c: &Client, what: &str) {
    let loaded = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const imgs = [...document.querySelectorAll('img.thumb')]; \
             Promise.all(imgs.map(img => { img.scrollIntoView(); \
               return img.complete && img.naturalWidth ? 0 : new Promise(ok => { \
                 img.addEventListener('load', ok); img.addEventListener('error', ok); }); })) \
               .then(() => done(imgs.map(i => i.naturalWidth)));",
            vec![],
        )
        .await
        .expect("load the thumbnails");
    let widths = loaded.as_array().expect("widths");
    assert!(
        !widths.is_empty() && widths.iter().all(|w| w.as_u64() > Some(0)),
        "{what}: thumbnails did not load: {loaded}"
    );
}

async fn round_flow(
    c: &Client,
    srv: &Server,
    fx: &Fixture,
    axe: &str,
    round: Round,
    laps: &mut Laps,
    found: &mut Vec<String>,
) {
    let tag = format!("{} px {}", round.width, round.scheme());

    // The login page (the library sends a stranger there), then sign in.
    c.goto(&format!("{}/app", srv.url))
        .await
        .expect("open /app");
    let login = path_of(c).await;
    assert!(
        login.starts_with("/login"),
        "not sent to the login: {login}"
    );
    check_page(c, axe, "login", round, found).await;
    if round.width == 375 && !round.dark {
        axe_catches_a_missing_label(c, axe).await;
        c.refresh().await.expect("reload the login page");
    }
    c.find(Locator::Css("#email"))
        .await
        .expect("email")
        .send_keys(&fx.admin.0)
        .await
        .expect("type the email");
    c.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys(&fx.admin.1)
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
    check_page(c, axe, "library", round, found).await;
    laps.lap(format!("{tag}: login, library"));

    // The share form, filled in and sent: the browser lands on the new share's panel.
    c.goto(&format!("{}/app/shares/new", srv.url))
        .await
        .expect("open the share form");
    c.find(Locator::Css("#share-form"))
        .await
        .expect("the share form");
    check_page(c, axe, "share-form", round, found).await;
    c.find(Locator::Css("#title"))
        .await
        .expect("title")
        .send_keys(&format!("For the neighbours ({tag})"))
        .await
        .expect("type the title");
    let picked = c
        .execute(
            "const boxes = [...document.querySelectorAll('#share-form input[name=item]')]; \
             boxes.forEach(b => { b.checked = true; }); return boxes.length;",
            vec![],
        )
        .await
        .expect("tick the items");
    assert!(picked.as_u64() >= Some(1), "nothing to share: {picked}");
    c.find(Locator::Css("#share-form button[type=submit]"))
        .await
        .expect("create button")
        .click()
        .await
        .expect("create the share");
    wait_for_js(
        c,
        "the new share's panel",
        "return location.pathname + location.search;",
        |v| {
            v.as_str()
                .is_some_and(|p| p.starts_with("/app/shares/") && p.ends_with("?done=created"))
        },
    )
    .await;
    c.find(Locator::Css(".share-detail .qr"))
        .await
        .expect("the panel's QR code");
    check_page(c, axe, "share-panel", round, found).await;

    // The list of shares, then the detail page of the password-protected one.
    c.goto(&format!("{}/app/shares", srv.url))
        .await
        .expect("open the shares");
    c.find(Locator::Css("ul.shares .share-card"))
        .await
        .expect("the share cards");
    check_page(c, axe, "shares", round, found).await;

    c.goto(&format!("{}/app/shares/{}", srv.url, fx.locked.0))
        .await
        .expect("open the share's page");
    c.find(Locator::Css(".share-detail"))
        .await
        .expect("the share's page");
    check_page(c, axe, "share-detail", round, found).await;
    laps.lap(format!("{tag}: share form, panel, shares, detail"));

    // The owner's file request pages: the list, the form, one request, its edit form.
    for (path, page) in [
        ("/app/requests".to_string(), "requests"),
        ("/app/requests/new".to_string(), "request-form"),
        (
            format!("/app/requests/{}", fx.request_uuid),
            "request-detail",
        ),
        (
            format!("/app/requests/{}/edit", fx.request_uuid),
            "request-edit",
        ),
    ] {
        c.goto(&format!("{}{path}", srv.url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        c.find(Locator::Css("main h1"))
            .await
            .unwrap_or_else(|e| panic!("{path}: no heading: {e}"));
        check_page(c, axe, page, round, found).await;
    }
    laps.lap(format!("{tag}: request list, form, detail"));

    // The public pages: locked, then open, then an expired share.
    c.goto(&fx.locked.1).await.expect("open the share link");
    c.find(Locator::Css("form input[type=password]"))
        .await
        .expect("the locked share's password form");
    check_page(c, axe, "share-locked", round, found).await;
    submit_password(c, SHARE_PASSWORD).await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".entry .name"))
        .await
        .expect("the file list after unlocking");
    load_thumbnails(c, &format!("share-open at {tag}")).await;
    check_page(c, axe, "share-open", round, found).await;

    let wait = fx.expires.saturating_duration_since(Instant::now());
    tokio::time::sleep(wait).await;
    c.goto(&fx.expired_link)
        .await
        .expect("open the expired link");
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .expect("the expired page's heading")
        .text()
        .await
        .expect("heading text");
    assert!(
        h1.to_lowercase().contains("expired"),
        "not the expired page: {h1:?}"
    );
    check_page(c, axe, "share-expired", round, found).await;
    laps.lap(format!("{tag}: public pages"));

    // A file request's pages: locked, open (after the password), and one that is closed.
    c.goto(&fx.request).await.expect("open the request link");
    check_page(c, axe, "request-locked", round, found).await;
    submit_password(c, SHARE_PASSWORD).await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#request-form"))
        .await
        .expect("the drop zone after unlocking");
    check_page(c, axe, "request-open", round, found).await;
    c.goto(&fx.closed_request)
        .await
        .expect("open the revoked request");
    check_page(c, axe, "request-closed", round, found).await;
    laps.lap(format!("{tag}: file request pages"));
}

async fn flow(srv: &Server, driver: &Chromedriver, fx: &Fixture, laps: &mut Laps) {
    let axe = axe_source();
    let mut found = Vec::new();
    for width in [375, 1280] {
        for dark in [false, true] {
            let round = Round { width, dark };
            let profile = tempfile::tempdir().unwrap();
            let c = connect_with(driver, profile.path(), width, dark).await;
            laps.lap(format!("{width} px {}: browser", round.scheme()));
            let result = std::panic::AssertUnwindSafe(round_flow(
                &c, srv, fx, &axe, round, laps, &mut found,
            ))
            .catch_unwind()
            .await;
            let _ = tokio::time::timeout(Duration::from_secs(10), c.close()).await;
            result.unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_accessible_at_both_widths_in_light_and_dark() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data"), &[]);
    let fx = fixture(&srv);
    let driver = Chromedriver::start(dir.path());

    let mut laps = Laps::new();
    let result = browser::run_flow(flow(&srv, &driver, &fx, &mut laps)).await;
    let t_close = Instant::now();
    drop(driver);
    let server_log = srv.stderr();
    drop(srv);
    browser::finish(result, &laps, &server_log, t_close, t0);
}
