//! Issue 17, item 6: accounts from the command line, beside a running server: list users, set a
//! password (stdin; `--password` warns), disable and enable a user, list and revoke API keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/output.rs"]
mod output;

use binary::{command, run, Server};
use output::{stderr, stdout, text};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

/// `sharebox --data-dir <data> <args...>` with `input` on stdin (not a terminal).
fn run_with_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = command()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", text(o));
    stdout(o)
}

/// POST /api/account/login: (status, access token if any).
fn login(srv: &Server, email: &str, password: &str) -> (u16, Option<String>) {
    let body = serde_json::json!({"username": email, "password": password}).to_string();
    match ureq::post(&format!("{}/api/account/login", srv.url))
        .set("Content-Type", "application/json")
        .send_string(&body)
    {
        Ok(r) => {
            let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
            (200, v["token"].as_str().map(str::to_string))
        }
        Err(ureq::Error::Status(code, _)) => (code, None),
        Err(e) => panic!("{e}"),
    }
}

/// The status of an authenticated v4 read with this `Authorization` header.
fn v4(srv: &Server, authorization: &str) -> u16 {
    match ureq::get(&format!("{}/{}/v4/folders", srv.url, srv.org))
        .set("Authorization", authorization)
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

/// The status of a Nomad read with this API key.
fn nomad(srv: &Server, key: &str) -> u16 {
    let body = r#"{"searchCriteria": []}"#;
    match ureq::post(&format!("{}/api/admin/search", srv.url))
        .set("Authorization", &format!("ApiKey {key}"))
        .set("Content-Type", "application/json")
        .send_string(body)
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn users_and_keys_from_the_command_line_beside_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &[]);
    let org = srv.org.clone();
    let email = "dev@acme.example";
    ok(&run(
        &data,
        &[
            "user",
            "create",
            "--org",
            &org,
            "--email",
            email,
            "--password",
            "first password",
        ],
    ));

    // user list: both users, as JSON.
    let list: Value = serde_json::from_str(&ok(&run(&data, &["user", "list"]))).unwrap();
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&email), "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["disabled"] == false));

    // passwd from stdin: the old session ends, the old password fails, the new one works.
    let (status, token) = login(&srv, email, "first password");
    assert_eq!(status, 200);
    let bearer = format!("Bearer {}", token.unwrap());
    assert_eq!(v4(&srv, &bearer), 200);
    let o = run_with_stdin(
        &data,
        &["user", "passwd", "--email", email],
        "second password\n",
    );
    ok(&o);
    assert!(!stderr(&o).contains("warning"), "{}", text(&o));
    assert_eq!(
        v4(&srv, &bearer),
        401,
        "the old session's token still works"
    );
    assert_eq!(login(&srv, email, "first password").0, 401);
    assert_eq!(login(&srv, email, "second password").0, 200);
    // --password still works, with a warning.
    let o = run(
        &data,
        &[
            "user",
            "passwd",
            "--email",
            email,
            "--password",
            "third password",
        ],
    );
    ok(&o);
    assert!(
        stderr(&o).contains("warning: --password is visible"),
        "{}",
        text(&o)
    );
    assert_eq!(login(&srv, email, "third password").0, 200);

    // Keys: list (never the key), revoke; the revoked key fails in both dialects.
    let made = ok(&run(
        &data,
        &["key", "create", "--org", &org, "--name", "ci"],
    ));
    let key = made.lines().last().unwrap().trim().to_string();
    assert_eq!(v4(&srv, &format!("ApiKey {key}")), 200);
    assert_eq!(nomad(&srv, &key), 200);
    let keys: Value =
        serde_json::from_str(&ok(&run(&data, &["key", "list", "--org", &org]))).unwrap();
    let listed = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci")
        .unwrap_or_else(|| panic!("{keys}"));
    let prefix = listed["prefix"].as_str().unwrap();
    assert!(
        key.starts_with(prefix) && prefix.len() < key.len() / 3,
        "{listed}"
    );
    assert!(!keys.to_string().contains(&key), "a key list shows a key");
    let id = listed["id"].as_i64().unwrap().to_string();
    ok(&run(&data, &["key", "revoke", "--org", &org, "--id", &id]));
    assert_eq!(v4(&srv, &format!("ApiKey {key}")), 401);
    assert_eq!(nomad(&srv, &key), 401);
    let o = run(&data, &["key", "revoke", "--org", &org, "--id", &id]);
    assert!(!o.status.success(), "revoking twice: {}", text(&o));
    assert_eq!(
        v4(&srv, &format!("ApiKey {}", srv.key)),
        200,
        "other keys stay"
    );

    // disable: the open session ends and sign-in fails; enable: sign-in works again.
    let (_, token) = login(&srv, email, "third password");
    let bearer = format!("Bearer {}", token.unwrap());
    ok(&run(&data, &["user", "disable", "--email", email]));
    assert_eq!(v4(&srv, &bearer), 401);
    assert_eq!(login(&srv, email, "third password").0, 401);
    let list: Value =
        serde_json::from_str(&ok(&run(&data, &["user", "list", "--org", &org]))).unwrap();
    let dev = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap();
    assert_eq!(dev["disabled"], true);
    ok(&run(&data, &["user", "enable", "--email", email]));
    assert_eq!(login(&srv, email, "third password").0, 200);

    // An unknown user is a clear error that changes nothing.
    let o = run(
        &data,
        &["user", "disable", "--email", "nobody@acme.example"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nobody@acme.example"), "{}", text(&o));
    srv.stop();
}
