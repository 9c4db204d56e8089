//! Issue 6 acceptance: Nomad's published Python SDK (PyPI `nomad-media-pip` 0.1.9, pinned in
//! tests/sdk/setup_venv.sh) drives the real binary through tests/sdk/nomad_flow.py: login as admin
//! and as portal (`singleton: false`), a 9 MiB upload in two parts, reading the asset,
//! share_asset, share, get_share, update_share, share_notification, a stale access token that
//! the SDK refreshes after a 403, share_expire and delete_share. The SDK returns None on errors,
//! so the script checks the server over plain HTTP after every step; this test checks what is
//! left afterwards.
//!
//! The venv is support/venv.rs's: `$SHAREBOX_SDK_VENV`, default `target/sdk-venv`, made or
//! repaired with tests/sdk/setup_venv.sh unless it is ready; the test fails (never skips) if that
//! does not work.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/output.rs"]
mod output;
#[path = "support/venv.rs"]
mod venv;

use binary::{answer, Server};
use output::text;

const PORTAL_EMAIL: &str = "portal@example.test";
const PORTAL_PASSWORD: &str = "a portal password";

/// `(status, JSON)` of `GET {path}` with the API key, whatever the status.
fn get(srv: &Server, path: &str) -> (u16, serde_json::Value) {
    answer(
        ureq::get(&format!("{}{path}", srv.url))
            .set("Authorization", &format!("ApiKey {}", srv.key))
            .call(),
    )
}

#[test]
fn nomad_python_sdk_flow() {
    // The venv first: making it may take minutes, and the server is not needed for that.
    venv::sdk_venv();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut srv = Server::start(&data, &[]);
    let admin_password = srv
        .value("password:")
        .unwrap_or_else(|| panic!("no password in {:#?}", srv.banner));
    let admin_email = srv
        .value("admin:")
        .unwrap_or_else(|| panic!("no admin in {:#?}", srv.banner));
    // The portal user: a plain (not admin) user of the same org, made while the server runs.
    let o = binary::run(
        &data,
        &[
            "user",
            "create",
            "--org",
            &srv.org,
            "--email",
            PORTAL_EMAIL,
            "--password",
            PORTAL_PASSWORD,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = venv::script("nomad_flow.py")
        .env("SHAREBOX_BASE", &srv.url)
        .env("SHAREBOX_ORG", &srv.org)
        .env("SHAREBOX_KEY", &srv.key)
        .env("SHAREBOX_ADMIN_EMAIL", &admin_email)
        .env("SHAREBOX_ADMIN_PASSWORD", &admin_password)
        .env("SHAREBOX_PORTAL_EMAIL", PORTAL_EMAIL)
        .env("SHAREBOX_PORTAL_PASSWORD", PORTAL_PASSWORD)
        .output()
        .expect("run the SDK flow");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success() && stdout.contains("11 steps passed"),
        "the Nomad SDK flow failed\n{}\n--- server stderr ---\n{}",
        text(&o),
        srv.stderr()
    );
    println!("{stdout}");
    srv.assert_alive();

    // What the flow left: the asset (9 MiB, in its folder), no share, no upload half-way.
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("summary line")).expect("summary JSON");
    let asset = summary["asset"].as_str().expect("asset id");
    let (status, a) = get(&srv, &format!("/api/admin/asset/{asset}"));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["contentLength"], 9 * 1024 * 1024);
    assert_eq!(a["parentId"], summary["folder"]);
    let (status, v4) = get(&srv, &format!("/{}/v4/files/{asset}", srv.org));
    assert_eq!(status, 200, "{v4}");
    assert_eq!(v4["file"]["uuid"], asset, "the same uuid in both dialects");
    for share in summary["shares"].as_array().expect("shares") {
        let (status, j) = get(&srv, &format!("/api/share/{}", share.as_str().unwrap()));
        assert_eq!(
            (status, j["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{j}"
        );
    }
    let (_, list) = get(&srv, &format!("/{}/v5/shares", srv.org));
    assert_eq!(list["total"], 0, "{list}");
    let tmp: Vec<_> = std::fs::read_dir(data.join("tmp"))
        .expect("tmp/")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(tmp.is_empty(), "tmp/ holds {tmp:?}");
}
