//! File requests over `common`'s in-process app: made through the API, visited as a stranger
//! (the uploader cookie and form token), and tus creations through `/r/{puid}/tus/`.
//!
//! Include with `#[path = "support/requests.rs"] mod requests;` beside `common` (it uses it).
#![allow(dead_code)]

use crate::common::*;
use base64::Engine;
use serde_json::Value;

/// `POST /{ORG}/v5/requests`; the request object.
pub async fn create_request(app: &TestApp, body: &Value) -> Value {
    let r = app
        .call(json_body(app.fr("POST", "/v5/requests"), body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["status"], "success");
    j["request"].clone()
}

/// `/r/<puid>/<slug>` of a request.
pub fn page_path(r: &Value) -> String {
    r["request_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sharebox.test")
        .to_string()
}

/// A visitor: their uploader cookie (`name=value`) and form token.
pub struct Visitor {
    pub cookie: String,
    pub csrf: String,
}

/// Opens the page as a new visitor (a request without a password gives the cookie).
pub async fn visit(app: &TestApp, r: &Value) -> Visitor {
    let page = app.call(request("GET", &page_path(r))).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let cookie = cookie_pair(set_cookie(&page, "sb_uploader").expect("uploader cookie"));
    let csrf = hidden(&page.text(), "csrf_token");
    Visitor { cookie, csrf }
}

/// `Upload-Metadata` of these pairs, values base64.
pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {}",
                base64::engine::general_purpose::STANDARD.encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A tus creation of `length` bytes through request `puid`: with `body`, the whole file at once
/// (creation-with-upload).
pub fn tus_create(
    puid: &str,
    cookie: Option<&str>,
    meta: &[(&str, &str)],
    length: usize,
    body: Option<&[u8]>,
) -> actix_web::test::TestRequest {
    let mut req = request("POST", &format!("/r/{puid}/tus/"))
        .insert_header(("Tus-Resumable", "1.0.0"))
        .insert_header(("Upload-Length", length.to_string()))
        .insert_header(("Upload-Metadata", metadata(meta)));
    if let Some(c) = cookie {
        req = req.insert_header(("cookie", c.to_string()));
    }
    match body {
        Some(b) => req
            .insert_header(("Content-Type", "application/offset+octet-stream"))
            .set_payload(b.to_vec()),
        None => req,
    }
}

/// A whole file named `name` in one tus creation.
pub fn tus_post(
    puid: &str,
    cookie: Option<&str>,
    name: &str,
    bytes: &[u8],
) -> actix_web::test::TestRequest {
    tus_create(
        puid,
        cookie,
        &[("filename", name)],
        bytes.len(),
        Some(bytes),
    )
}

/// The request's page as visitor `v` sees it.
pub async fn page_as(app: &TestApp, r: &Value, v: &Visitor) -> Resp {
    app.call(request("GET", &page_path(r)).insert_header(("cookie", v.cookie.clone())))
        .await
}
