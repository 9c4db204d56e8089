//! Headless Chromium for the browser tests: `chromedriver` on a free port (killed with every
//! browser it started on drop), WebDriver sessions at a given viewport width, screenshots to
//! `target/browser/`, and the DOM checks the tests share.
//!
//! Chromium and its driver come from Debian (`chromium` + `chromium-driver`), which
//! `scripts/test.sh` installs when missing. Include with
//! `#[path = "support/browser.rs"] mod browser;` (every shared module is included this way; see
//! support/common.rs).
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a test waits for one element or one page.
pub const WAIT: Duration = Duration::from_secs(20);
/// The emulated viewport's height.
const HEIGHT: u32 = 800;
/// A test's whole browser flow; a hang fails the test instead of blocking the suite.
pub const FLOW_TIMEOUT: Duration = Duration::from_secs(120);

/// `chromedriver --port=N` in its own process group, so that dropping it also ends every
/// Chromium process it started, even when the test panics before the session is closed.
pub struct Chromedriver {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Chromedriver {
    pub fn start(dir: &Path) -> Chromedriver {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run scripts/test.sh (it installs them), or \
                 `apt-get install -y chromium chromium-driver`"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn chromedriver");
        let driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let t0 = Instant::now();
        loop {
            let ready = ureq::get(&format!("{}/status", driver.url))
                .timeout(Duration::from_secs(2))
                .call()
                .ok()
                .and_then(|r| r.into_string().ok())
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .is_some_and(|s| s["value"]["ready"] == true);
            if ready {
                return driver;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer on {}\n{}",
                driver.url,
                driver.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser processes it spawned.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new WebDriver session (a new Chromium with `profile` as its user-data-dir) whose viewport
/// is `width` CSS px wide.
///
/// Desktop Chromium will not make a window narrower than 500 px, headless or not: below that
/// the viewport is a phone's, from mobile emulation, which also honours `<meta viewport>` as a
/// phone does (without it the page would be laid out 980 px wide). From 500 px up it is a plain
/// desktop window.
pub async fn connect(driver: &Chromedriver, profile: &Path, width: u32) -> Client {
    connect_with(driver, profile, width, false).await
}

/// [`connect`], with `prefers-color-scheme` set to dark when `dark` (and to light otherwise):
/// Blink's `preferredColorScheme` setting (0 = dark, 1 = light), which the page's
/// `matchMedia('(prefers-color-scheme: dark)')` and CSS media queries follow. A test that
/// depends on it should check `matchMedia` itself, so the emulation cannot silently fail.
pub async fn connect_with(driver: &Chromedriver, profile: &Path, width: u32, dark: bool) -> Client {
    let args = [
        format!(
            "--blink-settings=preferredColorScheme={}",
            if dark { 0 } else { 1 }
        ),
        "--headless=new".to_string(),
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        "--disable-dev-shm-usage".to_string(),
        "--disable-background-networking".to_string(),
        "--disable-component-update".to_string(),
        "--disable-sync".to_string(),
        "--no-first-run".to_string(),
        format!("--window-size={width},{HEIGHT}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut chrome = json!({"binary": CHROMIUM, "args": args});
    if width < 500 {
        chrome["mobileEmulation"] = json!({"deviceMetrics": {
            "width": width, "height": HEIGHT, "pixelRatio": 2, "mobile": true, "touch": true,
        }});
    }
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
        "goog:chromeOptions": chrome,
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("WebDriver session: {e}\n{}", driver.log_tail()))
}

pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// `target/browser/`, created when missing.
pub fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).expect("create target/browser");
    dir
}

/// The viewport as a PNG in `target/browser/<name>`; checks that a PNG landed on disk.
pub async fn save_screenshot(c: &Client, name: &str) -> PathBuf {
    let shot = c.screenshot().await.expect("screenshot");
    assert!(
        shot.len() > 1000 && shot.starts_with(PNG_SIGNATURE),
        "not a PNG ({} bytes)",
        shot.len()
    );
    let path = screenshots_dir().join(name);
    std::fs::write(&path, &shot).expect("write screenshot");
    let mut head = [0u8; 8];
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut head))
        .expect("read screenshot back");
    assert_eq!(&head[..], PNG_SIGNATURE, "{} is not a PNG", path.display());
    path
}

/// The path (and query) of the page the browser is on.
pub async fn path_of(c: &Client) -> String {
    let url = c.current_url().await.expect("current url");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Polls `script` (which returns a JSON value) until `ok` accepts it; panics after [`WAIT`].
/// Errors while a page is being replaced count as "not yet".
pub async fn wait_for_js(
    c: &Client,
    what: &str,
    script: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let t0 = Instant::now();
    let mut last = Value::Null;
    while t0.elapsed() < WAIT {
        if let Ok(v) = c.execute(script, vec![]).await {
            if ok(&v) {
                return v;
            }
            last = v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: still not there after {WAIT:?}; last: {last}");
}

/// Types `password` into the page's password form (a share's or a file request's gate) and
/// sends it.
pub async fn submit_password(c: &Client, password: &str) {
    let input = c
        .find(Locator::Css("form input[name=password]"))
        .await
        .expect("password field");
    input.clear().await.expect("clear");
    input.send_keys(password).await.expect("type");
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("submit button")
        .click()
        .await
        .expect("submit");
}

/// Texts of every `.entry .name` element on the page.
pub async fn entry_names(c: &Client) -> Vec<String> {
    let mut names = Vec::new();
    for e in c
        .find_all(Locator::Css(".entry .name"))
        .await
        .expect("find")
    {
        names.push(e.text().await.expect("text").trim().to_string());
    }
    names
}

/// The page has nothing to scroll sideways, and the viewport really is `width` px wide.
pub async fn assert_no_horizontal_scroll(c: &Client, what: &str, width: u32) {
    let m = c
        .execute(
            "return {scroll: document.documentElement.scrollWidth, \
                     body: document.body.scrollWidth, \
                     inner: window.innerWidth};",
            vec![],
        )
        .await
        .expect("measure");
    let (scroll, body, inner) = (
        m["scroll"].as_u64().unwrap(),
        m["body"].as_u64().unwrap(),
        m["inner"].as_u64().unwrap(),
    );
    assert_eq!(
        inner, width as u64,
        "{what}: the viewport is not {width} px: {m}"
    );
    if scroll > inner || body > inner {
        // Name the culprits: elements whose right edge is past the viewport.
        let wide = c
            .execute(
                "return [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5) \
                   .slice(0, 10) \
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
                        + (e.className && typeof e.className === 'string' \
                           ? '.' + e.className.trim().split(/\\s+/).join('.') : '') \
                        + ' right=' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .unwrap_or(Value::Null);
        panic!("{what}: horizontal scroll at {inner} px: {m}; too wide: {wide}");
    }
}

/// A real PNG, `w`×`h`, a horizontal gradient: stored (uncompressed) deflate blocks.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut row = vec![0]; // filter: none
    for x in 0..w {
        let v = (x * 255 / w.max(1)) as u8;
        row.extend_from_slice(&[v, 120, 255 - v]);
    }
    let raw = row.repeat(h as usize);
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        z.extend_from_slice(&(b.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(b.len() as u16)).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut out = PNG_SIGNATURE.to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Laps of a flow, for the timing report.
pub struct Laps {
    t: Instant,
    pub times: Vec<(String, Duration)>,
}

impl Laps {
    pub fn new() -> Laps {
        Laps {
            t: Instant::now(),
            times: Vec::new(),
        }
    }

    /// The time since the previous lap (or the start), under `what`.
    pub fn lap(&mut self, what: impl Into<String>) {
        self.times.push((what.into(), self.t.elapsed()));
        self.t = Instant::now();
    }
}

/// How a flow ended: done, out of time, or a panic to pass on.
pub type Outcome = std::thread::Result<Result<(), tokio::time::error::Elapsed>>;

/// Runs a test's flow within `FLOW_TIMEOUT`, its panic caught so that the test tears down first.
pub async fn run_flow(flow: impl std::future::Future<Output = ()>) -> Outcome {
    std::panic::AssertUnwindSafe(tokio::time::timeout(FLOW_TIMEOUT, flow))
        .catch_unwind()
        .await
}

/// The end of a browser test, once the browser, the driver and the server are gone: prints the
/// laps, the teardown (from `t_close`) and the total (from `t0`), then fails as the flow did,
/// with the server's log.
pub fn finish(result: Outcome, laps: &Laps, server_log: &str, t_close: Instant, t0: Instant) {
    for (what, d) in &laps.times {
        eprintln!("{what}: {d:?}");
    }
    eprintln!(
        "teardown: {:?}; total: {:?}",
        t_close.elapsed(),
        t0.elapsed()
    );
    match result {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!("the browser flow took over {FLOW_TIMEOUT:?}\n{server_log}"),
        Err(panic) => {
            eprintln!("server stderr:\n{server_log}");
            std::panic::resume_unwind(panic)
        }
    }
}
