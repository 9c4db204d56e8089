//! The test harness: the real app from `sharebox::app` over a real SQLite file in a temp dir,
//! with a clock the tests move. No part of sharebox is replaced.
//!
//! Include with `#[path = "support/common.rs"] mod common;`.
//!
//! Every module the test crates share lives in `tests/support/` and every crate includes it the
//! same one way, `#[path = "support/<name>.rs"] mod <name>;`, at its root: so each crate compiles
//! only the helpers it uses, and no module can clash with a crate of the same name (a
//! `tests/browser/mod.rs` beside `tests/browser.rs` would). A module that uses another one says
//! so in its header, and the crate includes both. Each helper lives in one of them:
//!
//! - `common`: this harness, the app in-process (`TestApp`, `Resp`, error-envelope asserts,
//!   uploads, shares, the outbox, the owner UI's sign-in);
//! - `nomad`: the Nomad dialect over `common`;
//! - `tus`: tus requests in-process over `common`;
//! - `fixtures`: tests/fixtures/, the request bodies real clients send;
//! - `binary`: the real binary (a server on a free port, one-shot subcommands, HTTP to it);
//! - `output`: what a finished process printed;
//! - `venv`: the Python venv and the scripts of tests/sdk/ (uses `output`);
//! - `generated`: large test data made as it is read;
//! - `browser`: headless Chromium over WebDriver;
//! - `moto`: a real S3 server (moto) on loopback, and its buckets;
//! - `tcp_proxy`: a TCP proxy a test can take down and bring back (a store that goes away).
//!
//! The suites over this harness run against the `fs` blob store, or, with
//! `SHAREBOX_TEST_BLOB_STORE=s3` (scripts/test.sh runs the public and upload suites a second
//! time so), against a fresh bucket of a moto server per app, downloads proxied.
#![allow(dead_code)]

// A crate may load it through both harnesses (each then starts its own moto when used).
#[allow(clippy::duplicate_mod)]
#[path = "moto.rs"]
pub mod moto;

use actix_http::Request;
use actix_service::boxed::{self, BoxService};
use actix_web::body::{self, BoxBody};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use sharebox::clock::Clock;
use sharebox::config::Config;
use sharebox::domain::auth;
use sharebox::domain::types::{Email, NewPassword, OrgToken};
use sharebox::AppState;
use std::net::SocketAddr;

pub const ORG: &str = "acme";
pub const OTHER_ORG: &str = "other";
pub const ADMIN_EMAIL: &str = "owner@acme.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery";
pub const PEER: &str = "203.0.113.7:40000";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: Clock,
    /// An API key of `ORG`.
    pub key: String,
    /// An API key of `OTHER_ORG`.
    pub other_key: String,
    srv: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: actix_web::web::Bytes,
    /// The body's declared length (what becomes Content-Length on the wire).
    pub size: Option<u64>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// The store the suites run against: None = `fs`; on s3 (`moto::on_s3`), a new
/// bucket of the process's moto server (downloads proxied, so every byte passes our checks).
pub fn test_store() -> Option<(sharebox::blob::s3::S3Url, sharebox::blob::s3::S3Settings)> {
    if !moto::on_s3() {
        return None;
    }
    let moto = moto::moto();
    let url = sharebox::blob::s3::S3Url::parse(&format!("s3://{}/t", moto.bucket())).unwrap();
    let settings = sharebox::blob::s3::S3Settings {
        endpoint: Some(moto.endpoint.clone()),
        region: "us-east-1".into(),
        path_style: true,
        redirect: false,
    };
    Some((url, settings))
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::for_data_dir(dir.path().join("data"));
        config.base_url = "http://sharebox.test".into();
        if let Some(s3) = test_store() {
            config.blob_store = Some(s3.0);
            config.s3 = s3.1;
        }
        tweak(&mut config);
        let clock = Clock::fixed(Utc.with_ymd_and_hms(2030, 1, 15, 12, 0, 0).unwrap());
        let state = AppState::open(config, clock.clone()).expect("open state");
        let now = clock.now();
        let (db, db2) = (state.db.clone(), state.db.clone());
        let (key, other_key) = actix_web::web::block(move || {
            auth::create_org(
                &db,
                &OrgToken::parse(ORG).unwrap(),
                Some((
                    &Email::parse("e", ADMIN_EMAIL).unwrap(),
                    &NewPassword::parse("p", ADMIN_PASSWORD).unwrap(),
                )),
                now,
            )
            .unwrap();
            auth::create_org(&db2, &OrgToken::parse(OTHER_ORG).unwrap(), None, now).unwrap();
            (
                auth::create_key(&db, ORG, "test", now).unwrap(),
                auth::create_key(&db2, OTHER_ORG, "test", now).unwrap(),
            )
        })
        .await
        .unwrap();
        let srv = Self::service(state.clone()).await;
        TestApp {
            dir,
            state,
            clock,
            key,
            other_key,
            srv,
        }
    }

    async fn service(
        state: AppState,
    ) -> BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error> {
        let srv = test::init_service(sharebox::app(state)).await;
        boxed::service(actix_service::ServiceExt::map(
            srv,
            |res: ServiceResponse<_>| res.map_into_boxed_body(),
        ))
    }

    /// A new process on the same data dir: state reopened from disk, same clock.
    pub async fn restart(&mut self) {
        let config = (*self.state.config).clone();
        self.state = AppState::open(config, self.clock.clone()).expect("reopen");
        self.srv = Self::service(self.state.clone()).await;
    }

    /// `req` from `PEER` through the app, its answer not read yet.
    async fn send(&self, req: TestRequest) -> ServiceResponse<BoxBody> {
        self.send_from(PEER, req).await
    }

    /// `req` from the TCP peer `peer` (`ip:port`), its answer not read yet.
    async fn send_from(&self, peer: &str, req: TestRequest) -> ServiceResponse<BoxBody> {
        let peer: SocketAddr = peer.parse().unwrap();
        self.srv
            .call(req.peer_addr(peer).to_request())
            .await
            .expect("service error")
    }

    pub async fn call(&self, req: TestRequest) -> Resp {
        self.call_from(PEER, req).await
    }

    /// `call` from another TCP peer than `PEER` (`ip:port`).
    pub async fn call_from(&self, peer: &str, req: TestRequest) -> Resp {
        let res = self.send_from(peer, req).await;
        let status = res.status();
        let headers = res.headers().clone();
        let size = match actix_web::body::MessageBody::size(res.response().body()) {
            actix_web::body::BodySize::Sized(n) => Some(n),
            _ => None,
        };
        let body = body::to_bytes(res.into_body()).await.unwrap_or_default();
        Resp {
            status,
            headers,
            body,
            size,
        }
    }

    /// Sends `req`, reads only the first chunk of the answer, then drops the connection.
    pub async fn call_aborted(&self, req: TestRequest) -> StatusCode {
        let res = self.send(req).await;
        let status = res.status();
        let mut body = res.into_body();
        let _first = std::future::poll_fn(|cx| {
            actix_web::body::MessageBody::poll_next(std::pin::Pin::new(&mut body), cx)
        })
        .await;
        status
    }

    /// A Filerobot route of `ORG` with the org's key.
    pub fn fr(&self, method: &str, path: &str) -> TestRequest {
        request(method, &format!("/{ORG}{path}"))
            .insert_header(("X-Filerobot-Key", self.key.clone()))
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.login_from(PEER, email, password).await
    }

    /// `login` from the TCP peer `peer` (`ip:port`).
    pub async fn login_from(&self, peer: &str, email: &str, password: &str) -> Resp {
        self.call_from(
            peer,
            request("POST", "/api/account/login")
                .insert_header(("content-type", "application/json"))
                .set_payload(
                    serde_json::json!({"username": email, "password": password}).to_string(),
                ),
        )
        .await
    }

    /// Logs the admin in and returns (access token, refresh token).
    pub async fn admin_tokens(&self) -> (String, String) {
        let r = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        (
            j["token"].as_str().unwrap().to_string(),
            j["refreshToken"].as_str().unwrap().to_string(),
        )
    }
}

pub fn request(method: &str, path: &str) -> TestRequest {
    let m = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
    TestRequest::default().method(m).uri(path)
}

pub fn json_body(req: TestRequest, body: &Value) -> TestRequest {
    req.insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
}

/// The Filerobot error envelope, asserted whole.
pub fn assert_fr_error(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let j = r.json();
    let obj = j.as_object().expect("object");
    assert_eq!(j["status"], "error");
    assert_eq!(j["code"], code);
    assert!(j["msg"].as_str().is_some_and(|m| !m.is_empty()), "{j}");
    for k in obj.keys() {
        assert!(
            ["status", "code", "msg", "hint"].contains(&k.as_str()),
            "unexpected key {k} in {j}"
        );
    }
    j
}

/// The Nomad problem+json envelope, asserted whole.
pub fn assert_problem(r: &Resp, status: u16, code: &str, instance: &str) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(r.content_type(), "application/problem+json");
    let j = r.json();
    assert_eq!(j["type"], format!("urn:sharebox:error:{code}"));
    assert_eq!(j["title"], r.status.canonical_reason().unwrap());
    assert_eq!(j["status"], status);
    assert_eq!(j["instance"], instance);
    assert_eq!(j["code"], code);
    assert!(j["detail"].as_str().is_some_and(|m| !m.is_empty()), "{j}");
    let allowed: &[&str] = if code == "INVALID_FIELD" {
        &[
            "type", "title", "status", "detail", "instance", "code", "errors",
        ]
    } else {
        &["type", "title", "status", "detail", "instance", "code"]
    };
    for k in j.as_object().unwrap().keys() {
        assert!(allowed.contains(&k.as_str()), "unexpected key {k} in {j}");
    }
    j
}

pub const BOUNDARY: &str = "----shareboxTestBoundary7MA4YWxk";

/// One multipart part: (name, filename, content type, bytes).
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart/form-data body as browsers and SDKs build it.
pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, ctype, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disp = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disp.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disp.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = ctype {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

impl TestApp {
    /// `POST /{ORG}/v4/upload?{query}` with these parts.
    pub async fn upload(&self, query: &str, parts: &[Part<'_>]) -> Resp {
        self.call(
            self.fr("POST", &format!("/v4/upload?{query}"))
                .insert_header((
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                ))
                .set_payload(multipart(parts)),
        )
        .await
    }

    /// Uploads one file and returns its JSON.
    pub async fn upload_one(&self, folder: &str, name: &str, bytes: &[u8]) -> Value {
        let r = self
            .upload(
                &format!("folder={folder}"),
                &[("file", Some(name), None, bytes)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["file"].clone()
    }

    pub async fn mkdir(&self, path: &str) -> Value {
        let r = self
            .call(json_body(
                self.fr("POST", "/v4/folders"),
                &serde_json::json!({"name": path}),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["folder"].clone()
    }

    /// The names of the blobs stored now, in whichever store the app runs on (blobs/ files,
    /// or the keys under the bucket's prefix).
    pub fn stored_blobs(&self) -> Vec<String> {
        match &self.state.config.blob_store {
            Some(u) => moto::moto()
                .keys(&u.bucket)
                .into_iter()
                .filter_map(|k| {
                    k.strip_prefix(&format!("{}/", u.prefix))
                        .map(str::to_string)
                })
                .collect(),
            None => Self::files_under(&self.data_dir().join("blobs"))
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect(),
        }
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.state.config.data_dir.clone()
    }

    /// Every regular file under `dir`, recursively.
    pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    out.extend(Self::files_under(&p));
                } else {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// The files and folder that the fixtures' `{{file1}}`, `{{file2}}` and `{{folder1}}` name.
pub struct Lib {
    pub file1: String,
    pub file2: String,
    pub folder1: String,
}

/// /one.txt, /two.png and the folder /campaign.
pub async fn library(app: &TestApp) -> Lib {
    let f1 = app.upload_one("/", "one.txt", b"first file").await;
    let f2 = app.upload_one("/", "two.png", b"\x89PNG second").await;
    let folder = app.mkdir("/campaign").await;
    Lib {
        file1: f1["uuid"].as_str().unwrap().into(),
        file2: f2["uuid"].as_str().unwrap().into(),
        folder1: folder["uuid"].as_str().unwrap().into(),
    }
}

/// `POST /{ORG}/v5/shares` with this body, which must answer 200; returns the share.
pub async fn create_share(app: &TestApp, body: &Value) -> Value {
    let r = app
        .call(json_body(app.fr("POST", "/v5/shares"), body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["share"].clone()
}

/// The path of a share's link (`/s/<puid>/<slug>`), as the app in a test is called.
pub fn share_path(share: &Value) -> String {
    share["share_uri"]
        .as_str()
        .expect("share_uri")
        .trim_start_matches("http://sharebox.test")
        .to_string()
}

/// How many shares `ORG` has (`total` of `GET /v5/shares`).
pub async fn share_count(app: &TestApp) -> i64 {
    app.call(app.fr("GET", "/v5/shares")).await.json()["total"]
        .as_i64()
        .unwrap()
}

/// The mails queued for the share with this uuid, oldest first.
pub fn share_outbox(app: &TestApp, share_uuid: &str) -> Vec<sharebox::db::shares::OutboxRow> {
    let uuid = share_uuid.to_string();
    app.state
        .db
        .read_sync(move |c| {
            let id: i64 = c.query_row("SELECT id FROM shares WHERE uuid = ?1", [&uuid], |r| {
                r.get(0)
            })?;
            sharebox::db::shares::outbox_of(c, id)
        })
        .unwrap()
}

/// How many mails are queued, for all shares.
pub fn outbox_total(app: &TestApp) -> i64 {
    app.state
        .db
        .read_sync(|c| Ok(c.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?))
        .unwrap()
}

// The owner's web UI: signing in through the login form, and requests with its session.

/// The `Set-Cookie` header of the answer that sets cookie `name`.
pub fn set_cookie<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// `name=value` of a `Set-Cookie` header, as a `Cookie` header sends it back.
pub fn cookie_pair(set: &str) -> String {
    set.split(';').next().unwrap().to_string()
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A signed-in browser: its session cookie and the CSRF token of its forms.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Signs in through `/login` as a browser does (the form's CSRF token and cookie, then the
/// POST). Returns the POST's answer and, if it set a session cookie, the session.
pub async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    next: &str,
) -> (Resp, Option<Session>) {
    let form = app
        .call(request("GET", &format!("/login?next={next}")))
        .await;
    let html = form.text();
    let csrf = hidden(&html, "csrf_token");
    let pre = cookie_pair(set_cookie(&form, "sb_login_csrf").expect("login csrf cookie"));
    let body = serde_urlencoded::to_string([
        ("csrf_token", csrf.as_str()),
        ("next", next),
        ("email", email),
        ("password", password),
    ])
    .unwrap();
    let r = app
        .call(
            request("POST", "/login")
                .insert_header(("cookie", pre))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await;
    let session = set_cookie(&r, "sb_session").map(cookie_pair);
    let session = match session {
        Some(cookie) => {
            let lib = app
                .call(request("GET", "/app").insert_header(("cookie", cookie.clone())))
                .await;
            Some(Session {
                csrf: hidden(&lib.text(), "csrf_token"),
                cookie,
            })
        }
        None => None,
    };
    (r, session)
}

/// `GET path` with the session's cookie.
pub async fn get_as(app: &TestApp, s: &Session, path: &str) -> Resp {
    app.call(request("GET", path).insert_header(("cookie", s.cookie.clone())))
        .await
}

/// A form POST, with the session's cookie if there is one.
pub async fn post_form(
    app: &TestApp,
    s: Option<&Session>,
    path: &str,
    fields: &[(&str, &str)],
) -> Resp {
    let mut req = request("POST", path)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap());
    if let Some(s) = s {
        req = req.insert_header(("cookie", s.cookie.clone()));
    }
    app.call(req).await
}
