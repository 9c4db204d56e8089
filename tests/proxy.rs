//! Issue 17, items 1-3: the client address behind a trusted proxy (through a real nginx on
//! loopback that includes deploy/nginx/sharebox-proxy.conf), login throttles that cannot lock a
//! user out, and https (Secure cookies and HSTS).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/common.rs"]
mod common;

use binary::{json, Server};
use common::{
    cookie_pair, create_share, hidden, library, request, set_cookie, sign_in, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};
use serde_json::{json as j, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---- login lockout (item 2) ----

/// A stranger's wrong passwords lock out only the stranger's address.
#[actix_web::test]
async fn wrong_passwords_from_one_address_do_not_lock_out_another() {
    let app = TestApp::new().await;
    let stranger = "198.51.100.20:5000";
    for i in 0..20 {
        let r = app
            .login_from(stranger, ADMIN_EMAIL, "wrong password")
            .await;
        assert!(
            [401, 429].contains(&r.status.as_u16()),
            "attempt {i}: {}",
            r.status
        );
    }
    let r = app
        .login_from("192.0.2.44:6000", ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app.login_from(stranger, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 429);
    // The web sign-in shares the counter: the user signs in there too.
    let (r, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(session.is_some());
}

// ---- https (item 3) ----

const TRUSTED_PEER: &str = "127.0.0.2:40000";
const DIRECT_PEER: &str = "127.0.0.9:40000";

fn is_secure(set_cookie: &str) -> bool {
    set_cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

/// GET /login, POST /login and a share's unlock from `peer` with `headers`: every Set-Cookie
/// (login CSRF, session, unlock) and whether each answer sent HSTS.
async fn cookies_and_hsts(
    app: &TestApp,
    peer: &str,
    headers: &[(&str, &str)],
) -> Vec<(String, bool)> {
    let with = |mut req: actix_web::test::TestRequest| {
        for h in headers {
            req = req.insert_header(*h);
        }
        req
    };
    let mut seen = Vec::new();
    let form = app.call_from(peer, with(request("GET", "/login"))).await;
    let pre = set_cookie(&form, "sb_login_csrf")
        .expect("login csrf cookie")
        .to_string();
    seen.push((
        pre.clone(),
        form.header("strict-transport-security").is_some(),
    ));
    let body = serde_urlencoded::to_string([
        ("csrf_token", hidden(&form.text(), "csrf_token").as_str()),
        ("next", "/app"),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ])
    .unwrap();
    let r = app
        .call_from(
            peer,
            with(request("POST", "/login"))
                .insert_header(("cookie", cookie_pair(&pre)))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let session = set_cookie(&r, "sb_session")
        .expect("session cookie")
        .to_string();
    seen.push((session, r.header("strict-transport-security").is_some()));
    let lib = library(app).await;
    let share = create_share(
        app,
        &j!({"title": "Locked", "auth": {"pass": "open sesame"},
             "items": [{"type": "file_uuid", "identifiers": [lib.file1]}]}),
    )
    .await;
    let puid = puid_of(&share);
    let r = app
        .call_from(
            peer,
            with(request("POST", &format!("/s/{puid}/unlock")))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("password=open+sesame"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let unlock = r.header("set-cookie").expect("unlock cookie").to_string();
    seen.push((unlock, r.header("strict-transport-security").is_some()));
    seen
}

fn puid_of(share: &Value) -> String {
    let uri = share["share_uri"].as_str().unwrap();
    uri.split("/s/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn https_base_url_makes_every_cookie_secure_and_sends_hsts() {
    let app = TestApp::with_config(|c| c.base_url = "https://sharebox.test".into()).await;
    for (cookie, hsts) in cookies_and_hsts(&app, DIRECT_PEER, &[]).await {
        assert!(is_secure(&cookie), "not Secure: {cookie}");
        assert!(hsts, "no HSTS with {cookie}");
    }
    let r = app.call(request("GET", "/login")).await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[actix_web::test]
async fn https_through_a_trusted_proxy_only() {
    let trusted = sharebox::net::TrustedProxies::parse("127.0.0.2").unwrap();
    let proto = [("x-forwarded-proto", "https")];
    let app = TestApp::with_config(|c| c.trusted_proxies = trusted.clone()).await;
    for (cookie, hsts) in cookies_and_hsts(&app, TRUSTED_PEER, &proto).await {
        assert!(is_secure(&cookie), "not Secure via the proxy: {cookie}");
        assert!(hsts, "no HSTS via the proxy with {cookie}");
    }
    // The same header from a peer that is not trusted counts for nothing.
    let app = TestApp::with_config(|c| c.trusted_proxies = trusted.clone()).await;
    for (cookie, hsts) in cookies_and_hsts(&app, DIRECT_PEER, &proto).await {
        assert!(
            !is_secure(&cookie),
            "Secure from an untrusted peer: {cookie}"
        );
        assert!(!hsts, "HSTS from an untrusted peer with {cookie}");
    }
}

// ---- a real nginx (items 1 and 8) ----

/// nginx from Debian, run as root in the foreground with everything in `dir`, proxying
/// 127.0.0.1:`port` to the server from 127.0.0.2 with deploy/nginx/sharebox-proxy.conf.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

fn nginx_binary() -> String {
    for cand in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(cand).exists() {
            return cand.into();
        }
    }
    panic!("nginx is not installed: scripts/test.sh installs it (apt-get install -y nginx)");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    fn start(dir: &Path, upstream: &str) -> Nginx {
        let include =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/sharebox-proxy.conf");
        assert!(include.exists(), "{}", include.display());
        let port = free_port();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nuser root;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
             proxy_pass {upstream};\n      proxy_bind 127.0.0.2;\n      include {};\n    }}\n  }}\n}}\n",
            include.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).unwrap(),
            ))
            .spawn()
            .expect("spawn nginx");
        let nginx = Nginx {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(nginx.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                nginx.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn logs(&self) -> String {
        ["stderr.log", "error.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM: the master stops its workers, then exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request from the local address `from` to `to`: (status, head, body).
fn http_from(
    from: [u8; 4],
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((from, 0)).into()).unwrap();
    socket.connect(&to.into()).unwrap();
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: sharebox.test\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), rest.to_string())
}

fn unlock_from(
    from: [u8; 4],
    to: SocketAddr,
    puid: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    let body = serde_urlencoded::to_string([("password", password)]).unwrap();
    http_from(from, to, "POST", &format!("/s/{puid}/unlock"), &all, &body).0
}

/// The `ip_hash` of every failed unlock of the share, oldest first.
fn failed_unlock_hashes(srv: &Server, uuid: &str) -> Vec<String> {
    let url = format!(
        "{}/{}/v5/shares/{uuid}/activity?limit=100",
        srv.url, srv.org
    );
    let list = json(
        ureq::get(&url).set("X-Filerobot-Key", &srv.key).call(),
        "activity",
        srv,
    );
    let mut hashes: Vec<String> = list["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "unlock_failed")
        .map(|a| a["ip_hash"].as_str().unwrap().to_string())
        .collect();
    hashes.reverse();
    hashes
}

#[test]
fn visitors_behind_a_real_nginx_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_logging(
        &dir.path().join("data"),
        &["--trusted-proxies", "127.0.0.2"],
        "info",
    );
    let base = format!("{}/{}", srv.url, srv.org);
    let folder = json(
        ureq::post(&format!("{base}/v4/folders"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(&j!({"name": "/locked"}).to_string()),
        "create folder",
        &srv,
    );
    let share = json(
        ureq::post(&format!("{base}/v5/shares"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &j!({"title": "Locked", "auth": {"pass": "open sesame"},
                     "items": [{"type": "folder_uuid", "identifiers": [folder["folder"]["uuid"]]}]})
                .to_string(),
            ),
        "create share",
        &srv,
    )["share"]
        .clone();
    let (puid, uuid) = (puid_of(&share), share["uuid"].as_str().unwrap().to_string());
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir(&nginx_dir).unwrap();
    let nginx = Nginx::start(&nginx_dir, &srv.url);
    let (a, b) = ([127, 0, 0, 3], [127, 0, 0, 4]);
    let to = nginx.addr;

    // Ten wrong passwords from one visitor close the form for that visitor only.
    for i in 0..10 {
        assert_eq!(
            unlock_from(a, to, &puid, "wrong", &[]),
            401,
            "attempt {i}: {}",
            nginx.logs()
        );
    }
    assert_eq!(unlock_from(a, to, &puid, "open sesame", &[]), 429);
    // Headers the visitor makes up do not give it another address through the proxy.
    let spoofs: [&[(&str, &str)]; 3] = [
        &[("X-Forwarded-For", "203.0.113.1")],
        &[("Forwarded", "for=203.0.113.2")],
        &[
            ("X-Forwarded-For", "127.0.0.4"),
            ("Forwarded", "for=127.0.0.4"),
        ],
    ];
    for spoof in spoofs {
        assert_eq!(
            unlock_from(a, to, &puid, "open sesame", spoof),
            429,
            "{spoof:?}"
        );
    }
    // Another visitor is not throttled by the first.
    assert_eq!(unlock_from(b, to, &puid, "wrong", &[]), 401);
    assert_eq!(unlock_from(b, to, &puid, "open sesame", &[]), 303);

    // The activity log tells them apart: ten failures with one hash, then one with another.
    let hashes = failed_unlock_hashes(&srv, &uuid);
    assert_eq!(hashes.len(), 11, "{hashes:?}");
    assert!(hashes[..10].iter().all(|h| h == &hashes[0]), "{hashes:?}");
    assert_ne!(hashes[10], hashes[0]);
    assert!(!hashes[0].is_empty());

    // A client straight to the server (peer 127.0.0.1, not trusted) cannot reset its throttle
    // by changing X-Forwarded-For or Forwarded.
    let direct: SocketAddr = srv.url.trim_start_matches("http://").parse().unwrap();
    for i in 0..10 {
        let xff = format!("198.51.100.{i}");
        let fwd = format!("for={xff}");
        let h = [
            ("X-Forwarded-For", xff.as_str()),
            ("Forwarded", fwd.as_str()),
        ];
        assert_eq!(
            unlock_from([127, 0, 0, 1], direct, &puid, "wrong", &h),
            401,
            "direct {i}"
        );
    }
    for xff in ["198.51.100.99", "127.0.0.4", "127.0.0.2"] {
        let h = [("X-Forwarded-For", xff)];
        assert_eq!(
            unlock_from([127, 0, 0, 1], direct, &puid, "open sesame", &h),
            429,
            "{xff}"
        );
    }
    // The visitors behind nginx are not the direct client either.
    assert_eq!(unlock_from(b, to, &puid, "open sesame", &[]), 303);

    // The request log names the visitor, never the proxy or a made-up address: 14 requests
    // from .3, 3 from .4, 13 straight from 127.0.0.1.
    let unlock_line = format!("\"POST /s/{puid}/unlock HTTP/1.1\"");
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = srv.stderr();
        let n = log.lines().filter(|l| l.contains(&unlock_line)).count();
        if n >= 30 || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let from = |ip: &str| {
        let field = format!(" {ip} {unlock_line}");
        log.lines().filter(|l| l.contains(&field)).count()
    };
    assert_eq!(from("127.0.0.3"), 14, "{log}");
    assert_eq!(from("127.0.0.4"), 3, "{log}");
    assert_eq!(from("127.0.0.1"), 13, "{log}");
    drop(nginx);
    srv.stop();
}

/// An entry of `--trusted-proxies` (or `SHAREBOX_TRUSTED_PROXIES`) that does not parse stops the
/// start, naming it: a typo must not silently trust nobody, or everybody.
#[test]
fn an_unreadable_trusted_proxy_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = binary::command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--trusted-proxies", "127.0.0.2,proxy.internal"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("'proxy.internal' is not an IP address"),
        "{err}"
    );
    let out = binary::command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("SHAREBOX_TRUSTED_PROXIES", "10.0.0.0/33")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("prefix length must be 0 to 32"), "{err}");
    assert!(!data.join("sharebox.db").exists());
}
