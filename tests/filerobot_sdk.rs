//! Acceptance: the published Filerobot Python SDK (PyPI `filerobot`, pinned in
//! tests/sdk/setup_venv.sh) drives the real binary through tests/sdk/filerobot_flow.py: 27 steps
//! over folders, uploads, renames, downloads, base64 uploads and deletes (see
//! tests/sdk/FILEROBOT_SDK_NOTES.md). Afterwards the library is as it was: empty.
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

use binary::{json, Server};
use output::text;
use std::time::Instant;

/// The JSON of `GET /{org}/v4{path_and_query}` with the API key.
fn get_json(srv: &Server, path_and_query: &str) -> serde_json::Value {
    let url = format!("{}/{}/v4{path_and_query}", srv.url, srv.org);
    json(
        ureq::get(&url).set("X-Filerobot-Key", &srv.key).call(),
        &format!("GET {url}"),
        srv,
    )
}

#[test]
fn filerobot_python_sdk_flow() {
    // The venv first: making it may take minutes, and the server is not needed for that.
    venv::sdk_venv();
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Server::start(&dir.path().join("data"), &[]);
    assert_eq!(srv.org, "default");

    let t0 = Instant::now();
    let o = venv::script("filerobot_flow.py")
        .env("SHAREBOX_BASE", &srv.url)
        .env("SHAREBOX_TOKEN", &srv.org)
        .env("SHAREBOX_KEY", &srv.key)
        .env_remove("SHAREBOX_SDK_TRACE")
        .output()
        .expect("run the SDK flow");
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && stdout.contains("27 steps passed"),
        "the Filerobot SDK flow failed\n{}\n--- server stderr ---\n{}",
        text(&o),
        srv.stderr()
    );
    println!("{}SDK flow took {:.1}s", stdout, took.as_secs_f64());
    srv.assert_alive();

    // What the SDK left: its folder is gone and the library holds no file.
    let root = get_json(&srv, "/folders?folder=/");
    assert_eq!(root["status"], "success", "{root}");
    assert_eq!(root["folder"]["path"], "/", "{root}");
    let folders = root["folders"].as_array().expect("folders");
    let left: Vec<&str> = folders
        .iter()
        .filter_map(|f| f["name"].as_str())
        .filter(|n| n.starts_with("sdk-flow-"))
        .collect();
    assert!(left.is_empty(), "the flow's folder is still there: {root}");
    assert_eq!(root["total"], folders.len(), "{root}");

    let files = get_json(&srv, "/files?folder=/&recursive=1");
    assert_eq!(files["status"], "success", "{files}");
    assert_eq!(files["total"], 0, "{files}");
    assert_eq!(files["files"], serde_json::json!([]), "{files}");

    // And on disk: the deleted files' blobs are gone, no upload is left half-way.
    for sub in ["blobs", "tmp"] {
        let d = srv.data.join(sub);
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.expect("dir entry").file_name())
            .collect();
        assert!(names.is_empty(), "{sub}/ not empty: {names:?}");
    }
}
