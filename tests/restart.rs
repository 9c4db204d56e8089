//! Counts survive the process: views recorded before a clean stop (SIGTERM) or a `kill -9`
//! (after a flush interval) are in every answer of the next process, the org listing first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;

use binary::{json, Server};
use serde_json::{json as j, Value};
use std::time::Duration;

/// A share of a new folder, made with the API key; returns the share's JSON.
fn make_share(srv: &Server) -> Value {
    let base = format!("{}/{}", srv.url, srv.org);
    let folder = json(
        ureq::post(&format!("{base}/v4/folders"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(&j!({"name": "/counted"}).to_string()),
        "create folder",
        srv,
    );
    let uuid = folder["folder"]["uuid"].as_str().unwrap().to_string();
    json(
        ureq::post(&format!("{base}/v5/shares"))
            .set("X-Filerobot-Key", &srv.key)
            .set("Content-Type", "application/json")
            .send_string(
                &j!({
                    "title": "Counted",
                    "items": [{"type": "folder_uuid", "identifiers": [uuid]}],
                })
                .to_string(),
            ),
        "create share",
        srv,
    )["share"]
        .clone()
}

fn view(url: &str, share: &Value, times: usize) {
    for _ in 0..times {
        let r = ureq::get(share["share_uri"].as_str().unwrap()).call();
        assert_eq!(r.map(|r| r.status()).ok(), Some(200), "viewing {url}");
    }
}

/// (views in the listing, views in the share's own answer, Nomad's views) — the listing asked
/// first, as a fresh process's first request.
fn views(srv: &Server, key: &str, org: &str, uuid: &str) -> (i64, i64, i64) {
    let list = json(
        ureq::get(&format!("{}/{org}/v5/shares", srv.url))
            .set("X-Filerobot-Key", key)
            .call(),
        "list",
        srv,
    );
    let listed = list["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uuid"] == uuid)
        .map(|s| s["views"].as_i64().unwrap())
        .unwrap();
    let one = json(
        ureq::get(&format!("{}/{org}/v5/shares/{uuid}", srv.url))
            .set("X-Filerobot-Key", key)
            .call(),
        "get",
        srv,
    )["share"]["views"]
        .as_i64()
        .unwrap();
    let nomad = json(
        ureq::get(&format!("{}/api/share/{uuid}", srv.url))
            .set("Authorization", &format!("ApiKey {key}"))
            .call(),
        "nomad get",
        srv,
    )["views"]
        .as_i64()
        .unwrap();
    (listed, one, nomad)
}

#[test]
fn views_survive_a_clean_stop_and_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &[]);
    let (key, org) = (srv.key.clone(), srv.org.clone());
    let share = make_share(&srv);
    let uuid = share["uuid"].as_str().unwrap().to_string();
    view(&srv.url, &share, 3);
    srv.stop();

    let srv = Server::restart(&data, &[]);
    let share = j!({"share_uri": share["share_uri"].as_str().unwrap().replace(
        share["share_uri"].as_str().unwrap().split("/s/").next().unwrap(),
        &srv.url,
    )});
    assert_eq!(views(&srv, &key, &org, &uuid), (3, 3, 3), "after SIGTERM");

    // Counts are flushed every 250 ms: after a second, a kill loses none of them.
    view(&srv.url, &share, 2);
    std::thread::sleep(Duration::from_secs(1));
    drop(srv);

    let srv = Server::restart(&data, &[]);
    assert_eq!(views(&srv, &key, &org, &uuid), (5, 5, 5), "after kill -9");
    srv.stop();
}
