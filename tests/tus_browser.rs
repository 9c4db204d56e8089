//! Issue 18: the owner UI uploads through tus (static/tus.min.js, tus-js-client). The real
//! binary behind a small TCP proxy of this test's own, headless Chromium in front: the owner
//! signs in and uploads 50 MiB through the library page's form; the proxy drops the connection
//! once, in the middle of a PATCH. tus-js-client retries from the server's offset, the upload
//! finishes, and the library file is byte-exact (its SHA-256 is the file's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/browser.rs"]
mod browser;
#[path = "support/generated.rs"]
mod generated;

use browser::{connect, path_of, run_flow, Chromedriver, Laps, WAIT};
use fantoccini::Locator;
use serde_json::json;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

/// Forwards loopback TCP to the server; once the browser has sent `cut_after` bytes in all,
/// the connection carrying them is dropped (both ways), once.
struct CuttingProxy {
    port: u16,
    cuts: Arc<AtomicU64>,
}

impl CuttingProxy {
    fn start(upstream: u16, cut_after: u64) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cuts = Arc::new(AtomicU64::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(AtomicBool::new(true));
        let counted = cuts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (sent, armed, cuts) = (sent.clone(), armed.clone(), counted.clone());
                std::thread::spawn(move || {
                    pipe(client, server, |n| {
                        let total = sent.fetch_add(n, Ordering::SeqCst) + n;
                        let cut = total >= cut_after && armed.swap(false, Ordering::SeqCst);
                        if cut {
                            cuts.fetch_add(1, Ordering::SeqCst);
                        }
                        cut
                    })
                });
                std::thread::spawn(move || pipe(s2, c2, |_| false));
            }
        });
        CuttingProxy { port, cuts }
    }
}

/// Copies `from` to `to` until either ends or `cut` says to drop the connection.
fn pipe(mut from: TcpStream, mut to: TcpStream, cut: impl Fn(u64) -> bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut(n as u64) || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_uploads_50_mib_through_tus_across_a_dropped_connection() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let server_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // 22 MiB of the browser's bytes: inside the fifth 5 MiB PATCH.
    let proxy = CuttingProxy::start(server_port, 22 * MIB);
    let base = format!("http://127.0.0.1:{}", proxy.port);
    let srv = binary::Server::start_on(
        &dir.path().join("data"),
        &format!("127.0.0.1:{server_port}"),
        &["--base-url", &base],
        "warn",
    );
    assert_eq!(srv.url, base);
    let email = srv.value("admin:").unwrap();
    let password = srv.value("password:").unwrap();
    let file = dir.path().join("fifty.bin");
    let sha = {
        let mut gen = generated::Generated::new(0x7e57_0b50, 50 * MIB);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        std::io::copy(&mut gen, &mut f).unwrap();
        gen.sha256()
    };

    let driver = Chromedriver::start(dir.path());
    let c = connect(&driver, &dir.path().join("profile"), 1280).await;
    let mut laps = Laps::new();
    let result = run_flow(async {
        c.goto(&format!("{base}/app")).await.unwrap();
        assert!(path_of(&c).await.starts_with("/login"));
        c.find(Locator::Css("#email"))
            .await
            .unwrap()
            .send_keys(&email)
            .await
            .unwrap();
        c.find(Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys(&password)
            .await
            .unwrap();
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("form#upload"))
            .await
            .unwrap();
        let has_tus = c.execute("return !!(window.tus && window.tus.isSupported);", vec![]);
        assert_eq!(
            has_tus.await.unwrap(),
            json!(true),
            "static/tus.min.js loaded"
        );
        laps.lap("sign in");
        c.find(Locator::Css("#files"))
            .await
            .unwrap()
            .send_keys(&file.display().to_string())
            .await
            .unwrap();
        let outcome = c
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 const list = document.getElementById('progress'); \
                 let paused = false; \
                 document.querySelector('#upload button[type=submit]').click(); \
                 const t0 = Date.now(); \
                 (function poll() { \
                   const li = list.querySelector('li'); \
                   if (li && !li.querySelector('button.pause').hidden) paused = true; \
                   if (li && (li.classList.contains('done') || li.classList.contains('failed'))) { \
                     done({cls: li.className, pct: li.querySelector('.pct').textContent, \
                           pausable: paused}); \
                   } else if (Date.now() - t0 > 100000) { \
                     done({cls: 'timeout', pct: li ? li.querySelector('.pct').textContent : ''}); \
                   } else { setTimeout(poll, 20); } \
                 })();",
                vec![],
            )
            .await
            .unwrap();
        laps.lap("upload 50 MiB");
        assert_eq!(outcome["cls"], "done", "{outcome}");
        assert_eq!(outcome["pct"], "100%", "{outcome}");
        assert_eq!(
            outcome["pausable"], true,
            "a pause button showed: {outcome}"
        );
    })
    .await;
    let result = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = c.close().await;
        result
    })
    .await
    .unwrap_or_else(|_| panic!("the browser did not close"));
    drop(driver);
    browser::finish(result, &laps, &srv.stderr(), Instant::now(), t0);

    assert_eq!(
        proxy.cuts.load(Ordering::SeqCst),
        1,
        "the connection was cut once"
    );
    let res = binary::agent()
        .get(&format!("{}/{}/v4/files?folder=/", srv.url, srv.org))
        .set("X-Filerobot-Key", &srv.key)
        .call();
    let files = binary::json(res, "list files", &srv);
    let f = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "fifty.bin")
        .unwrap_or_else(|| panic!("fifty.bin not in {files}"))
        .clone();
    assert_eq!(f["size"]["bytes"], 50 * MIB);
    assert_eq!(f["hash"]["sha256"], sha.as_str(), "byte-exact");
}
