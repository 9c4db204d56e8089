//! Issue 15, item 2: HEAD on every GET route, through the real app: the same checks, status and
//! headers as GET, no body, nothing counted; a wrong password counts toward the throttle as a
//! GET's does. And once over the wire of the real binary.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};

/// What the routes' parameters are filled with.
struct World {
    share: String,
    puid: String,
    slug: String,
    /// A previewable file of the share.
    file: String,
    folder: String,
    session: Session,
    /// A file request: its uuid, public id and slug (for `/r/...` and `/v5/requests/...`).
    request: (String, String, String),
}

/// `path` with every `{param}` filled in with a real value, plus the query a route needs. A
/// route with a parameter this does not know fails the test, so a new route gets filled too.
/// A real 4 x 4 PNG: its thumbnail route answers 200.
fn tiny_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn fill(path: &str, w: &World, key: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let request_page = path.starts_with("/r/");
    let mut out = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        let prev = if i > 0 { segs[i - 1] } else { "" };
        out.push(match *seg {
            "{token}" => ORG,
            "{company}" => "acme-company",
            "{puid}" if request_page => w.request.1.as_str(),
            "{slug}" if request_page => w.request.2.as_str(),
            "{puid}" => w.puid.as_str(),
            "{slug}" => w.slug.as_str(),
            "{file}" => w.file.as_str(),
            "{name}" => "app.css",
            "{kind}" => "files",
            "{uuid}" => match prev {
                "folders" => w.folder.as_str(),
                "files" | "get" | "{kind}" => w.file.as_str(),
                "shares" | "share" => w.share.as_str(),
                "requests" => w.request.0.as_str(),
                _ => panic!("which uuid is {{uuid}} in {path}?"),
            },
            "{id}" if path.starts_with("/api/share/") => w.share.as_str(),
            "{id}" => w.file.as_str(),
            p if p.starts_with('{') => panic!("fill in {p} of {path}"),
            s => s,
        });
    }
    let mut filled = out.join("/");
    if path.ends_with("/key/info") {
        filled.push_str(&format!("?key={key}"));
    }
    filled
}

/// `method path` with every credential a route may want: the API key in the form its family
/// reads, and the owner's session cookie.
async fn call(app: &TestApp, w: &World, method: &str, path: &str) -> Resp {
    let req = request(method, path).insert_header(("cookie", w.session.cookie.clone()));
    let req = if path.starts_with("/api/") {
        req.insert_header(("Authorization", format!("ApiKey {}", app.key)))
    } else {
        req.insert_header(("X-Filerobot-Key", app.key.clone()))
    };
    app.call(req).await
}

/// The headers, sorted, with a cookie's value (random per answer) left out.
fn headers(r: &Resp) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|(k, v)| {
            let v = v.to_str().unwrap().to_string();
            let v = match (k.as_str(), v.split_once('=')) {
                ("set-cookie", Some((name, rest))) => {
                    format!("{name}=…{}", rest.find(';').map_or("", |i| &rest[i..]))
                }
                _ => v,
            };
            (k.to_string(), v)
        })
        .collect();
    out.sort();
    out
}

/// (views, downloads, activity entries) of a share.
async fn counters(app: &TestApp, share: &str) -> (i64, i64, i64) {
    let s = app
        .call(app.fr("GET", &format!("/v5/shares/{share}")))
        .await
        .json();
    let a = app
        .call(app.fr("GET", &format!("/v5/shares/{share}/activity")))
        .await
        .json();
    (
        s["share"]["views"].as_i64().unwrap(),
        s["share"]["downloads"].as_i64().unwrap(),
        a["total"].as_i64().unwrap(),
    )
}

/// HEAD answers as GET: status, headers, Content-Length (the body's declared size), no body.
fn assert_head_as_get(what: &str, get: &Resp, head: &Resp) {
    assert_eq!(head.status, get.status, "{what}: {}", head.text());
    assert_eq!(headers(head), headers(get), "{what}");
    assert!(head.body.is_empty(), "{what}: HEAD sent a body");
    // `info.duration` (the handling time) may be written with more or fewer digits.
    let slack = if get.text().contains("\"duration\":") {
        6
    } else {
        0
    };
    match (get.size, head.size) {
        (Some(g), Some(h)) => assert!(g.abs_diff(h) <= slack, "{what}: length {h}, GET {g}"),
        (g, h) => assert_eq!(h, g, "{what}: length"),
    }
}

#[actix_web::test]
async fn head_answers_every_get_route_as_get_without_body_or_count() {
    let app = TestApp::new().await;
    let png = app.upload_one("/pics", "pic.png", &tiny_png()).await;
    let empty = app.upload_one("/", "empty.txt", b"").await;
    let share = create_share(
        &app,
        &json!({"title": "Head", "items": [{"type": "file_uuid", "identifiers": [png["uuid"], empty["uuid"]]}]}),
    )
    .await;
    let (_, session) = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/app").await;
    let req = app
        .call(json_body(
            app.fr("POST", "/v5/requests"),
            &json!({"title": "Head drop"}),
        ))
        .await
        .json()["request"]
        .clone();
    let w = World {
        request: (
            req["uuid"].as_str().unwrap().into(),
            req["puid"].as_str().unwrap().into(),
            "head-drop".into(),
        ),
        share: share["uuid"].as_str().unwrap().into(),
        puid: share["puid"].as_str().unwrap().into(),
        slug: share["share_uri"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .into(),
        file: png["uuid"].as_str().unwrap().into(),
        folder: png["folder"]["uuid"].as_str().unwrap().into(),
        session: session.expect("signed in"),
    };

    let routes: Vec<&str> = sharebox::route_list()
        .into_iter()
        .filter(|(m, _)| *m == "get")
        .map(|(_, p)| p)
        .collect();
    assert!(routes.len() >= 36, "{routes:?}");
    // A wrong method's 405 names HEAD beside GET.
    let r = app.call(request("POST", "/healthz")).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    for named in [
        "/healthz",
        "/s/{puid}/{slug}",
        "/s/{puid}/{slug}/files/{file}",
        "/s/{puid}/{slug}/files/{file}/preview",
        "/s/{puid}/{slug}/zip",
        "/{token}/v4/get/{uuid}/download",
        "/{token}/v4/share/{puid}",
        "/{company}/{token}/{puid}",
    ] {
        assert!(routes.contains(&named), "{named} is not a GET route");
    }
    for route in &routes {
        let path = fill(route, &w, &app.key);
        let get = call(&app, &w, "GET", &path).await;
        assert!(
            get.status.is_success() || get.status.is_redirection(),
            "GET {path}: {} {}",
            get.status,
            get.text()
        );
        let before = counters(&app, &w.share).await;
        let head = call(&app, &w, "HEAD", &path).await;
        assert_head_as_get(&format!("HEAD {path}"), &get, &head);
        assert_eq!(
            counters(&app, &w.share).await,
            before,
            "HEAD {path} moved a counter"
        );
    }

    // The GETs above counted: a view for the page and the reader each, a download for the file
    // and the zip.
    let (views, downloads, _) = counters(&app, &w.share).await;
    assert_eq!((views, downloads), (2, 2));
    // A range, and an empty file (complete as soon as it starts): HEAD as GET, never counted.
    let base = format!("/s/{}/{}", w.puid, w.slug);
    let file = format!("{base}/files/{}", w.file);
    let req = |m| request(m, &file).insert_header(("range", "bytes=2-5"));
    let (get, head) = (app.call(req("GET")).await, app.call(req("HEAD")).await);
    assert_eq!(head.status, 206);
    assert_head_as_get("HEAD with Range", &get, &head);
    let empty = format!("{base}/files/{}", empty["uuid"].as_str().unwrap());
    let before = counters(&app, &w.share).await;
    let head = app.call(request("HEAD", &empty)).await;
    assert_eq!((head.status.as_u16(), head.size), (200, Some(0)));
    assert_eq!(
        counters(&app, &w.share).await,
        before,
        "HEAD of an empty file"
    );
    let get = app.call(request("GET", &empty)).await;
    assert_head_as_get("HEAD of an empty file", &get, &head);
    assert_eq!(counters(&app, &w.share).await.1, before.1 + 1);
}

/// How many `unlock_failed` entries the share's activity has.
async fn unlock_failures(app: &TestApp, share: &str) -> usize {
    let a = app
        .call(app.fr("GET", &format!("/v5/shares/{share}/activity?limit=100")))
        .await
        .json();
    a["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "unlock_failed")
        .count()
}

#[actix_web::test]
async fn head_counts_toward_the_throttle_as_get_does() {
    let app = TestApp::new().await;
    let f = app.upload_one("/", "secret.txt", b"the secret").await;
    let share = create_share(
        &app,
        &json!({"title": "Locked", "items": [{"type": "file_uuid", "identifiers": [f["uuid"]]}],
                "auth": {"pass": "right password"}}),
    )
    .await;
    let (uuid, puid) = (
        share["uuid"].as_str().unwrap(),
        share["puid"].as_str().unwrap(),
    );
    let reader = format!("/{ORG}/v4/share/{puid}");
    let file = format!(
        "/s/{puid}/{}/files/{}",
        share["share_uri"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap(),
        f["uuid"].as_str().unwrap()
    );
    let send = |method: &'static str, path: String| {
        let app = &app;
        async move { app.call(request(method, &path)).await }
    };
    // The right password: 200 for both, only GET's answer counts a view.
    let ok = format!("{reader}?password=right%20password");
    let head = send("HEAD", ok.clone()).await;
    assert_eq!(counters(&app, uuid).await.0, 0, "HEAD counted a view");
    let get = send("GET", ok.clone()).await;
    assert_eq!(get.status, 200);
    assert_head_as_get("HEAD reader", &get, &head);
    assert_eq!(counters(&app, uuid).await.0, 1);

    // A wrong unlock token is no password attempt, for either method: 401, nothing recorded.
    for path in [
        format!("{file}?access=forged"),
        format!("{reader}?access=forged"),
    ] {
        let get = send("GET", path.clone()).await;
        let head = send("HEAD", path.clone()).await;
        assert_eq!(get.status, 401, "{path}");
        assert_head_as_get(&format!("HEAD {path}"), &get, &head);
    }
    assert_eq!(unlock_failures(&app, uuid).await, 0);

    // A wrong password: each HEAD is a failure as each GET is.
    let wrong = format!("{reader}?password=wrong");
    for i in 0..5 {
        let get = send("GET", wrong.clone()).await;
        let head = send("HEAD", wrong.clone()).await;
        assert_eq!(get.status, 401);
        assert_head_as_get("HEAD with a wrong password", &get, &head);
        assert_eq!(unlock_failures(&app, uuid).await, 2 * (i + 1));
    }
    // Ten failures: the right password waits now, on either method.
    let get = send("GET", ok.clone()).await;
    let head = send("HEAD", ok).await;
    assert_eq!(get.status, 429, "{}", get.text());
    assert!(get.header("retry-after").is_some());
    assert_head_as_get("HEAD while throttled", &get, &head);
}

/// One request to the real binary: (status, headers we compare, body).
fn wire(agent: &ureq::Agent, method: &str, url: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let r = match agent.request(method, url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let mut names = r.headers_names();
    names.retain(|n| n != "date");
    names.sort();
    let hs = names
        .iter()
        .map(|n| (n.clone(), r.header(n).unwrap_or("").to_string()))
        .collect();
    let status = r.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    (status, hs, body)
}

#[test]
fn head_over_the_wire_has_content_length_and_no_body() {
    let dir = tempfile::tempdir().unwrap();
    let srv = binary::Server::start(&dir.path().join("data"), &[]);
    let base = format!("{}/{}", srv.url, srv.org);
    let content = vec![7u8; 300_000];
    let up = binary::json(
        ureq::post(&format!("{base}/v4/upload?folder=/"))
            .set("X-Filerobot-Key", &srv.key)
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .send_bytes(&multipart(&[("file", Some("big.bin"), None, &content)])),
        "upload",
        &srv,
    );
    let share: Value = binary::json(
        ureq::post(&format!("{base}/v5/shares"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &json!({"title": "Wire", "items": [{"type": "file_uuid", "identifiers": [up["file"]["uuid"]]}]})
                    .to_string(),
            ),
        "share",
        &srv,
    );
    let page = share["share"]["share_uri"].as_str().unwrap().to_string();
    let file = format!("{page}/files/{}", up["file"]["uuid"].as_str().unwrap());
    // One agent, one kept-alive connection: a body sent after a HEAD would garble what follows.
    let agent = ureq::AgentBuilder::new().max_idle_connections(1).build();
    for url in [
        file.clone(),
        format!("{page}/zip"),
        page.clone(),
        format!("{}/healthz", srv.url),
    ] {
        let (hs, hh, hb) = wire(&agent, "HEAD", &url);
        let (gs, gh, gb) = wire(&agent, "GET", &url);
        assert_eq!((hs, &hh), (gs, &gh), "HEAD {url}");
        assert!(hb.is_empty(), "HEAD {url} sent a body");
        let len = hh.iter().find(|(n, _)| n == "content-length");
        assert_eq!(
            len.map(|(_, v)| v.as_str()),
            Some(gb.len().to_string().as_str()),
            "HEAD {url}: Content-Length"
        );
    }
    let s = binary::json(
        ureq::get(&format!(
            "{base}/v5/shares/{}",
            share["share"]["uuid"].as_str().unwrap()
        ))
        .set("X-Filerobot-Key", &srv.key)
        .call(),
        "get share",
        &srv,
    );
    assert_eq!(
        (&s["share"]["views"], &s["share"]["downloads"]),
        (&json!(1), &json!(2)),
        "only the GETs counted"
    );
}
