//! Issue 8: the owner UI in a real browser. The real `sharebox` binary, headless Chromium
//! (Debian `chromium` + `chromium-driver`, which `scripts/test.sh` installs when missing) driven
//! over WebDriver by fantoccini. At a phone's width (375 px) and a laptop's (1280 px), the admin
//! from the first-start banner signs in, uploads two files through the library page (each
//! progress bar reaches 100%, the reloaded library lists them), creates a share with a password
//! and an expiry typed in Europe/Sofia, and reads its link on the dashboard. A fresh browser
//! (new session, new profile) opens the link, meets the password form, unlocks it, finds both
//! files in the DOM and downloads them, their SHA-256 computed in the page matching what was
//! uploaded. Over plain HTTP the API shows the expiry as the UTC instant of that Sofia wall
//! time. Every page has nothing to scroll sideways, and each is screenshotted to
//! `target/browser/owner-<page>-<width>.png`.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use fantoccini::{Client, Locator};
use futures_util::FutureExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;

use binary::Server;
use browser::{
    assert_no_horizontal_scroll, connect, entry_names, path_of, png, save_screenshot,
    submit_password, wait_for_js, Chromedriver, Laps, WAIT,
};

const SHARE_PASSWORD: &str = "plovdiv at dusk";
const ZONE: &str = "Europe/Sofia";

/// One pass of the flow at one viewport width.
struct Round {
    width: u32,
    /// The expiry as typed into the datetime-local input, a wall time in Europe/Sofia.
    expires_local: &'static str,
    /// The same instant in UTC, as the API gives it.
    expires_utc: &'static str,
    /// How the dashboard shows it (in its zone).
    expires_shown: &'static str,
    /// Name and bytes of the two files uploaded.
    files: Vec<(String, Vec<u8>)>,
}

fn rounds() -> Vec<Round> {
    let files = |w: u32| {
        vec![
            (
                format!("meeting notes {w}.txt"),
                format!("Meeting notes, {w} px\nAgenda: ship it.\n").into_bytes(),
            ),
            // ~1.6 MB, so the upload has progress to report, and a long name for the phone.
            (
                format!("quarterly-site-survey-{w}-panorama-final-v2.png"),
                png(900, 600 + w % 7),
            ),
        ]
    };
    vec![
        // Winter: Sofia is UTC+2 (EET).
        Round {
            width: 375,
            expires_local: "2031-01-15T21:45",
            expires_utc: "2031-01-15T19:45:00Z",
            expires_shown: "15 Jan 2031, 21:45 Europe/Sofia",
            files: files(375),
        },
        // Summer: UTC+3 (EEST).
        Round {
            width: 1280,
            expires_local: "2031-07-20T09:05",
            expires_utc: "2031-07-20T06:05:00Z",
            expires_shown: "20 Jul 2031, 09:05 Europe/Sofia",
            files: files(1280),
        },
    ]
}

/// The admin's email and password from the first-start banner.
fn admin(srv: &Server) -> (String, String) {
    let value = |label: &str| {
        srv.value(label)
            .unwrap_or_else(|| panic!("no `{label}` line in {:#?}", srv.banner))
    };
    (value("admin:"), value("password:"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Visible elements that stick out of the right edge of the `.card` they are in (those inside a
/// scrolling or clipping box are that box's business; closed `<details>` hide theirs), as `tag.class right=N card=M`.
const OUT_OF_CARD: &str = "\
    const out = []; \
    for (const card of document.querySelectorAll('.card')) { \
      const edge = card.getBoundingClientRect().right; \
      for (const e of card.querySelectorAll('*')) { \
        const r = e.getBoundingClientRect(); \
        if (r.width === 0 || r.right <= edge + 0.5 || !e.checkVisibility()) continue; \
        let clipped = false; \
        for (let p = e.parentElement; p && p !== card; p = p.parentElement) { \
          if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break; } \
        } \
        if (!clipped) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
          + (typeof e.className === 'string' && e.className.trim() \
             ? '.' + e.className.trim().split(/\\s+/).join('.') : '') \
          + (e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : '') \
          + ' right=' + Math.round(r.right) + ' card=' + Math.round(edge)); \
      } \
    } \
    return out;";

/// The page fits (no sideways scroll at `width`, nothing sticking out of its card) and its
/// screenshot is saved.
async fn check_page(c: &Client, page: &str, width: u32) {
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll to top");
    assert_no_horizontal_scroll(c, &format!("{page} at {width} px"), width).await;
    let out = c
        .execute(OUT_OF_CARD, vec![])
        .await
        .expect("measure the card");
    assert_eq!(
        out,
        json!([]),
        "{page} at {width} px: elements stick out of their card"
    );
    let path = save_screenshot(c, &format!("owner-{page}-{width}.png")).await;
    eprintln!("screenshot: {}", path.display());
}

/// Sign in → upload → share → dashboard; returns the share's uuid and link.
async fn owner_flow(
    c: &Client,
    srv: &Server,
    round: &Round,
    dir: &Path,
    laps: &mut Laps,
) -> (String, String) {
    let w = round.width;
    let (email, password) = admin(srv);

    // The library without a session: the login form, which comes back to the library.
    c.goto(&format!("{}/app", srv.url))
        .await
        .expect("open /app");
    let login = path_of(c).await;
    assert!(
        login.starts_with("/login"),
        "not sent to the login: {login}"
    );
    c.find(Locator::Css("form input[name=csrf_token]"))
        .await
        .expect("the login form's CSRF token");
    check_page(c, "login", w).await;
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
    assert_eq!(path_of(c).await, "/app", "back to the library");
    laps.lap(format!("{w}: sign in"));

    // Upload both files through the page's own form and script.
    let mut paths = Vec::new();
    for (name, bytes) in &round.files {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write the file to upload");
        paths.push(p.display().to_string());
    }
    c.find(Locator::Css("#files"))
        .await
        .expect("file input")
        .send_keys(&paths.join("\n"))
        .await
        .expect("pick the files");
    // Submit, then watch the list until every upload has finished: the page reloads 400 ms
    // after the last one, so the bars are read here, in the page, as soon as they are done.
    let bars = c
        .execute_async(
            "const [want, done] = [arguments[0], arguments[arguments.length - 1]]; \
             const list = document.getElementById('progress'); \
             const seen = []; \
             new MutationObserver(ms => ms.forEach(m => { \
                 if (m.target.tagName === 'PROGRESS') seen.push(m.target.value); \
             })).observe(list, {attributes: true, subtree: true, attributeFilter: ['value']}); \
             document.querySelector('#upload button[type=submit]').click(); \
             const t0 = Date.now(); \
             (function poll() { \
               const lis = [...list.querySelectorAll('li')]; \
               const finished = lis.length === want && lis.every(li => \
                   li.classList.contains('done') || li.classList.contains('failed')); \
               if (finished || Date.now() - t0 > 9000) { \
                 done({seen, bars: lis.map(li => ({ \
                   name: li.querySelector('span').textContent, \
                   value: li.querySelector('progress').value, \
                   max: li.querySelector('progress').max, \
                   pct: li.querySelector('.pct').textContent, \
                   cls: li.className}))}); \
               } else { setTimeout(poll, 5); } \
             })();",
            vec![json!(round.files.len())],
        )
        .await
        .expect("watch the uploads");
    let list = bars["bars"].as_array().expect("bars");
    assert_eq!(list.len(), round.files.len(), "one bar per file: {bars}");
    for (name, _) in &round.files {
        let bar = list
            .iter()
            .find(|b| b["name"] == name.as_str())
            .unwrap_or_else(|| panic!("no progress bar for {name}: {bars}"));
        assert_eq!(bar["cls"], "done", "{name} did not finish: {bar}");
        assert_eq!(bar["value"], 100.0, "{name}'s bar: {bar}");
        assert_eq!(bar["max"], 100.0, "{name}'s bar: {bar}");
        assert_eq!(bar["pct"], "100%", "{name}'s bar: {bar}");
    }
    eprintln!("{w} px: progress values seen: {}", bars["seen"]);
    laps.lap(format!("{w}: upload"));

    // The page reloads by itself and the library table lists both.
    let names = wait_for_js(
        c,
        "the uploaded files in the library",
        "return [...document.querySelectorAll('table.list td.fname')] \
            .map(e => e.textContent.trim());",
        |v| {
            round.files.iter().all(|(n, _)| {
                v.as_array()
                    .is_some_and(|a| a.iter().any(|x| x == n.as_str()))
            })
        },
    )
    .await;
    assert!(
        c.find_all(Locator::Css("#progress li"))
            .await
            .expect("find")
            .is_empty(),
        "the library did not reload: {names}"
    );
    let mut uuids = Vec::new();
    for (name, _) in &round.files {
        let boxes = c
            .find_all(Locator::Css(&format!(
                "input[name=item][aria-label=\"Select {name}\"]"
            )))
            .await
            .expect("find");
        assert_eq!(boxes.len(), 1, "one row for {name}");
        let value = boxes[0].attr("value").await.expect("attr").unwrap();
        uuids.push(
            value
                .strip_prefix("file:")
                .unwrap_or_else(|| panic!("{value}"))
                .to_string(),
        );
    }
    check_page(c, "library", w).await;
    // A row's "More" (rename, delete) opened: still inside the card.
    let opened = c
        .execute(
            "const d = document.querySelectorAll('table.list tr.file td.actions details'); \
             d.forEach(e => { e.open = true; }); \
             return d.length;",
            vec![],
        )
        .await
        .expect("open the rows' menus");
    assert!(
        opened.as_u64() >= Some(round.files.len() as u64),
        "a menu per file: {opened}"
    );
    check_page(c, "library-more", w).await;
    laps.lap(format!("{w}: library reloaded"));

    // The share form: title, both files, an expiry in Sofia, a password.
    c.goto(&format!("{}/app/shares/new", srv.url))
        .await
        .expect("open the share form");
    c.find(Locator::Css("#share-form"))
        .await
        .expect("the share form");
    // The users box shows only for "only these users".
    let shown =
        |js: &'static str| async move { c.execute(js, vec![]).await.expect("users box state") };
    assert_eq!(
        shown("return document.getElementById('users').offsetParent === null;").await,
        json!(true),
        "the users box shows for a link share"
    );
    let after = shown(
        "const a = document.getElementById('access'); a.value = 'users'; \
         a.dispatchEvent(new Event('change', {bubbles: true})); \
         const hidden = document.getElementById('users').offsetParent === null; \
         a.value = 'link'; a.dispatchEvent(new Event('change', {bubbles: true})); \
         return hidden;",
    )
    .await;
    assert_eq!(after, json!(false), "the users box stays hidden for users");
    let title = format!("Survey for the board ({w} px)");
    c.find(Locator::Css("#title"))
        .await
        .expect("title")
        .send_keys(&title)
        .await
        .expect("type the title");
    for uuid in &uuids {
        let pick = c
            .find(Locator::Css(&format!(
                "#share-form input[name=item][value=\"file:{uuid}\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("no checkbox for {uuid}: {e}"));
        pick.click().await.expect("check the file");
        assert_eq!(
            pick.prop("checked").await.expect("checked").as_deref(),
            Some("true"),
            "file:{uuid} is not checked"
        );
    }
    // datetime-local and the zone field: typing into them depends on the locale and the
    // platform's pickers, so they are set as a script would, with the events a user makes.
    let set = c
        .execute(
            "const [at, zone] = arguments; \
             const input = document.getElementById('expires_at'); \
             input.value = at; \
             const select = document.querySelector('[name=expires_tz]'); \
             select.value = zone; \
             for (const e of [input, select]) { \
               e.dispatchEvent(new Event('input', {bubbles: true})); \
               e.dispatchEvent(new Event('change', {bubbles: true})); \
             } \
             return {at: input.value, zone: select.value};",
            vec![json!(round.expires_local), json!(ZONE)],
        )
        .await
        .expect("set the expiry");
    assert_eq!(
        set,
        json!({"at": round.expires_local, "zone": ZONE}),
        "the form took the expiry"
    );
    c.find(Locator::Css("#share-form #password"))
        .await
        .expect("share password")
        .send_keys(SHARE_PASSWORD)
        .await
        .expect("type the share password");
    check_page(c, "share-form", w).await;
    c.find(Locator::Css("#share-form button[type=submit]"))
        .await
        .expect("create button")
        .click()
        .await
        .expect("create the share");
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
    let uuid = created
        .as_str()
        .unwrap()
        .trim_start_matches("/app/shares/")
        .trim_end_matches("?done=created")
        .to_string();
    laps.lap(format!("{w}: share form"));

    // The new share's panel: its link, a QR code and its expiry in Sofia time.
    let card = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".share-detail"))
        .await
        .expect("the new share's panel");
    let text = card.text().await.expect("card text");
    assert!(text.contains(&title), "card: {text}");
    assert!(
        text.contains(round.expires_shown),
        "the expiry in its zone, {:?}: {text}",
        round.expires_shown
    );
    let link = card
        .find(Locator::Css("input.share-link"))
        .await
        .expect("the share link")
        .prop("value")
        .await
        .expect("link value")
        .expect("a link");
    assert!(
        link.starts_with(&format!("{}/", srv.url)),
        "the link is on the server: {link}"
    );
    check_page(c, "share-panel", w).await;
    laps.lap(format!("{w}: share panel"));
    (uuid, link)
}

/// The API's view of the share: the expiry is the UTC instant of the Sofia wall time.
fn check_api(srv: &Server, round: &Round, uuid: &str, link: &str) {
    // What the round says, double-checked with the tz database.
    let local = chrono::NaiveDateTime::parse_from_str(round.expires_local, "%Y-%m-%dT%H:%M")
        .expect("local time");
    let utc = chrono_tz::Europe::Sofia
        .from_local_datetime(&local)
        .single()
        .expect("one instant")
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(utc, round.expires_utc, "the test's own arithmetic");

    let url = format!("{}/{}/v5/shares", srv.url, srv.org);
    let body = match ureq::get(&url).set("X-Filerobot-Key", &srv.key).call() {
        Ok(r) => r.into_string().expect("body"),
        Err(e) => panic!("GET {url}: {e}\n{}", srv.stderr()),
    };
    let list: Value = serde_json::from_str(&body).expect("JSON");
    let share = list["shares"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["uuid"] == uuid))
        .unwrap_or_else(|| panic!("share {uuid} not in {list}"));
    assert_eq!(share["expires_at"], round.expires_utc, "{share}");
    assert_eq!(share["expires_tz"], ZONE, "{share}");
    assert_eq!(share["password_protected"], true, "{share}");
    assert_eq!(share["share_uri"], link, "{share}");
}

/// A stranger's browser: the password form, the unlocked list, the downloaded bytes.
async fn visitor_flow(c: &Client, srv: &Server, round: &Round, link: &str, laps: &mut Laps) {
    let w = round.width;
    c.goto(link).await.expect("open the share link");
    c.find(Locator::Css("form input[type=password]"))
        .await
        .expect("the locked share shows a password form");
    let html = c.source().await.expect("source");
    for (name, _) in &round.files {
        assert!(
            !html.contains(name.as_str()),
            "the locked page shows {name}"
        );
    }
    assert!(
        entry_names(c).await.is_empty(),
        "the locked page lists files"
    );
    check_page(c, "locked", w).await;
    laps.lap(format!("{w}: fresh session, locked share"));

    submit_password(c, SHARE_PASSWORD).await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".entry .name"))
        .await
        .expect("the file list after unlocking");
    assert_eq!(
        c.current_url().await.expect("url").as_str(),
        link,
        "back on the share"
    );
    let mut names = entry_names(c).await;
    names.sort();
    let mut want: Vec<String> = round.files.iter().map(|f| f.0.clone()).collect();
    want.sort();
    assert_eq!(names, want, "the file list in the DOM");
    // The image's thumbnail (made by the server, 320 px wide at most, linking to the full
    // preview) is lazy: load it, so the measurement sees the final layout.
    let img = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const img = document.querySelector('a.thumb-link img.thumb'); \
             if (!img) { done(null); return; } \
             img.scrollIntoView(); \
             const report = () => done({width: img.naturalWidth, \
                                        shown: img.getBoundingClientRect().width}); \
             if (img.complete && img.naturalWidth) { report(); } \
             else { img.onload = report; img.onerror = report; }",
            vec![],
        )
        .await
        .expect("the preview");
    assert_eq!(img["width"], 320, "the thumbnail loaded: {img}");
    check_page(c, "share", w).await;
    laps.lap(format!("{w}: unlock"));

    // Download each file from the page, with the page's cookies, and hash it there.
    for (name, bytes) in &round.files {
        let got = c
            .execute_async(
                "const [name, done] = [arguments[0], arguments[arguments.length - 1]]; \
                 const entry = [...document.querySelectorAll('.entry')] \
                     .find(e => e.querySelector('.name').textContent.trim() === name); \
                 const a = entry && entry.querySelector('a[download]'); \
                 if (!a) { done({error: 'no download link'}); return; } \
                 fetch(a.href) \
                   .then(r => r.arrayBuffer().then(b => ({status: r.status, b}))) \
                   .then(({status, b}) => crypto.subtle.digest('SHA-256', b).then(h => done({ \
                     status, href: a.getAttribute('href'), len: b.byteLength, \
                     sha256: [...new Uint8Array(h)] \
                         .map(x => x.toString(16).padStart(2, '0')).join('')}))) \
                   .catch(e => done({error: String(e)}));",
                vec![json!(name)],
            )
            .await
            .expect("download in the page");
        assert_eq!(got["status"], 200, "{name}: {got}");
        assert_eq!(got["len"], bytes.len(), "{name}: {got}");
        assert_eq!(
            got["sha256"],
            sha256_hex(bytes),
            "{name}: the downloaded bytes differ from the uploaded ones: {got}"
        );
    }
    laps.lap(format!("{w}: downloads"));

    // A fresh session indeed: this browser is nobody in the owner UI.
    c.goto(&format!("{}/app", srv.url))
        .await
        .expect("open /app");
    let path = path_of(c).await;
    assert!(path.starts_with("/login"), "the visitor reached {path}");
}

async fn flow(srv: &Server, driver: &Chromedriver, dir: &Path, laps: &mut Laps) {
    for round in rounds() {
        let w = round.width;
        let owner_profile = tempfile::tempdir().unwrap();
        let owner = connect(driver, owner_profile.path(), w).await;
        laps.lap(format!("{w}: owner browser"));
        let result = std::panic::AssertUnwindSafe(owner_flow(&owner, srv, &round, dir, laps))
            .catch_unwind()
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), owner.close()).await;
        let (uuid, link) = result.unwrap_or_else(|p| std::panic::resume_unwind(p));

        check_api(srv, &round, &uuid, &link);

        // A new WebDriver session over a new profile: no cookie of the owner's.
        let visitor_profile = tempfile::tempdir().unwrap();
        let visitor = connect(driver, visitor_profile.path(), w).await;
        laps.lap(format!("{w}: visitor browser"));
        let result = std::panic::AssertUnwindSafe(visitor_flow(&visitor, srv, &round, &link, laps))
            .catch_unwind()
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(10), visitor.close()).await;
        result.unwrap_or_else(|p| std::panic::resume_unwind(p));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_signs_in_uploads_shares_and_a_stranger_downloads() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("data"), &[]);
    let t_server = t0.elapsed();
    let t1 = Instant::now();
    let driver = Chromedriver::start(dir.path());
    let t_driver = t1.elapsed();

    let mut laps = Laps::new();
    let result = browser::run_flow(flow(&srv, &driver, dir.path(), &mut laps)).await;
    let t_close = Instant::now();
    drop(driver);
    let server_log = srv.stderr();
    drop(srv);

    eprintln!("server: {t_server:?}; chromedriver: {t_driver:?}");
    browser::finish(result, &laps, &server_log, t_close, t0);
}
