//! Issue 3: the real binary: first start, restart, management subcommands with and without a
//! running server, bad arguments, SIGTERM.

// Cargo.toml's [lints] deny these in the server's code; in a test, a panic is how a failure
// is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/output.rs"]
mod output;

use binary::{command, run as sharebox, Server};
use output::{stderr, stdout};

fn get_fields(url: &str, org: &str, key: &str) -> u16 {
    match ureq::get(&format!("{url}/{org}/v4/meta/model/fields"))
        .set("X-Filerobot-Key", key)
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn first_start_prints_secrets_once_and_data_survives() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &[]);
    assert_eq!(srv.value("org:").as_deref(), Some("default"));
    assert_eq!(srv.value("admin:").as_deref(), Some("admin@localhost"));
    let password = srv.value("password:").expect("password printed");
    let key = srv.value("API key:").expect("key printed");
    assert!(password.len() >= 16 && key.len() >= 40);
    assert_eq!(get_fields(&srv.url, "default", &key), 200);
    let login = ureq::post(&format!("{}/api/account/login", srv.url))
        .set("Content-Type", "application/json")
        .send_string(
            &serde_json::json!({"username": "admin@localhost", "password": password}).to_string(),
        )
        .expect("login");
    assert_eq!(login.status(), 200);

    // Management commands work beside the running server.
    let o = sharebox(
        &data,
        &["key", "create", "--org", "default", "--name", "ci"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let second_key = stdout(&o).lines().last().unwrap().to_string();
    assert_eq!(get_fields(&srv.url, "default", &second_key), 200);
    let o = sharebox(&data, &["org", "create", "acme"]);
    assert!(o.status.success(), "{}", stderr(&o));
    srv.stop();

    // A new process on the same data dir: no secrets, same data.
    let srv = Server::restart(&data, &[]);
    assert_eq!(srv.value("password:"), None);
    assert_eq!(srv.value("API key:"), None);
    assert!(!srv.banner.join("\n").contains(&password));
    assert_eq!(get_fields(&srv.url, "default", &key), 200);
    assert_eq!(get_fields(&srv.url, "default", &second_key), 200);
    assert_eq!(get_fields(&srv.url, "acme", &key), 403);
    srv.stop();
}

#[test]
fn org_user_and_key_create() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = sharebox(
        &data,
        &[
            "org",
            "create",
            "acme",
            "--admin-email",
            "boss@acme.test",
            "--admin-password",
            "long enough pw",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let made: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(made["token"], "acme");
    assert_eq!(made["uuid"].as_str().unwrap().len(), 36);
    assert_eq!(made["admin"]["email"], "boss@acme.test");
    assert_eq!(made["admin"]["admin"], true);
    assert!(!stdout(&o).contains("long enough pw"), "password echoed");

    // The same token again, a reserved word, a malformed token: refused, non-zero.
    let o = sharebox(&data, &["org", "create", "acme"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("an org with the token 'acme' exists already"),
        "{}",
        stderr(&o)
    );
    for bad in ["api", "static", "healthz", "metrics", "login"] {
        let o = sharebox(&data, &["org", "create", bad]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("reserved word"),
            "{bad}: {}",
            stderr(&o)
        );
    }
    let o = sharebox(&data, &["org", "create", "Bad_Token"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is not a valid org token"),
        "{}",
        stderr(&o)
    );
    // --admin-email without --admin-password is a usage error.
    let o = sharebox(&data, &["org", "create", "beta", "--admin-email", "x@y.z"]);
    assert_eq!(o.status.code(), Some(2));

    let o = sharebox(
        &data,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--email",
            "worker@acme.test",
            "--password",
            "another long pw",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let user: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(user["email"], "worker@acme.test");
    assert_eq!(user["org"], "acme");
    assert_eq!(user["admin"], false);
    // Emails are unique in any letter case; unknown orgs, bad emails, short passwords refused.
    for args in [
        [
            "--org",
            "acme",
            "--email",
            "WORKER@acme.test",
            "--password",
            "another long pw",
        ],
        [
            "--org",
            "nosuch",
            "--email",
            "n@acme.test",
            "--password",
            "another long pw",
        ],
        [
            "--org",
            "acme",
            "--email",
            "not-an-email",
            "--password",
            "another long pw",
        ],
        [
            "--org",
            "acme",
            "--email",
            "short@acme.test",
            "--password",
            "short",
        ],
    ] {
        let mut full = vec!["user", "create"];
        full.extend(args);
        let o = sharebox(&data, &full);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
    let o = sharebox(
        &data,
        &[
            "user",
            "create",
            "--email",
            "a@b.c",
            "--password",
            "xxxxxxxxxx",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "missing --org is a usage error");

    let o = sharebox(&data, &["key", "create", "--org", "acme"]);
    assert!(o.status.success());
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert!(last.starts_with("sbk_") && !last.contains(' '), "{last}");
    let o = sharebox(&data, &["key", "create", "--org", "nosuch"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("there is no org with the token 'nosuch'"));
}

#[test]
fn version_and_bad_arguments() {
    let o = command().arg("--version").output().unwrap();
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("sharebox {}", env!("CARGO_PKG_VERSION"))
    );
    let o = command().arg("frobnicate").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = command()
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--listen"), "{}", stderr(&o));
    // Every setting has its env variable.
    let o = command().arg("--help").output().unwrap();
    let help = stdout(&o);
    for env in [
        "SHAREBOX_DATA_DIR",
        "SHAREBOX_LISTEN",
        "SHAREBOX_BASE_URL",
        "SHAREBOX_SMTP_URL",
        "SHAREBOX_MAIL_FROM",
        "SHAREBOX_MAX_UPLOAD_BYTES",
    ] {
        assert!(help.contains(env), "{env} missing from --help");
    }
    let o = command()
        .args(["org", "create", "x1"])
        .env("SHAREBOX_MAX_UPLOAD_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_start_says_where_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for first in [true, false] {
        let srv = if first {
            Server::start(&data, &[])
        } else {
            Server::restart(&data, &[])
        };
        let want = format!("Sign in at {}/login", srv.url);
        assert!(
            srv.banner.iter().any(|l| l.trim() == want),
            "first start {first}: no {want:?} in {:#?}",
            srv.banner
        );
        // And the page is there.
        let page = ureq::get(&format!("{}/login", srv.url))
            .call()
            .expect("GET /login");
        assert_eq!(page.status(), 200);
        srv.stop();
    }
}
