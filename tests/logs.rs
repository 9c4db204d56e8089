//! The log on stderr: plain text when stderr is a file or pipe (a service manager, a log
//! collector), colour only at a terminal, and none there either when `NO_COLOR` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binary.rs"]
mod binary;

use binary::{command, BIN};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const ESC: char = '\u{1b}';

/// What the server writes on stdout until a line containing `marker`.
fn until(mut cmd: Command, marker: &str) -> String {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap() == 0 {
            break;
        }
        out.push_str(&line);
        if line.contains(marker) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    out
}

/// The server under a pseudo-terminal (util-linux `script`), so its stderr is a terminal.
fn at_terminal(data: &std::path::Path, no_color: Option<&str>) -> String {
    let line = format!(
        "{BIN} serve --listen 127.0.0.1:0 --data-dir {}",
        data.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &line, "/dev/null"])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    // `script` merges the server's stderr into what it prints: wait for the log line.
    until(cmd, "base_url")
}

#[test]
fn no_colour_unless_a_terminal_without_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // stderr a file: plain.
    let log = dir.path().join("stderr.log");
    let mut cmd = command();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stderr(std::fs::File::create(&log).unwrap());
    // The banner comes first on stdout; the log line follows at once on stderr.
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("listening on")));
    let mut text = String::new();
    for _ in 0..100 {
        text.clear();
        std::fs::File::open(&log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        if text.contains("base_url") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("listening"), "no log line in {text:?}");
    assert!(!text.contains(ESC), "colour codes in a file: {text:?}");

    // A terminal: colour, unless NO_COLOR is set (an empty NO_COLOR does not count).
    let tty = at_terminal(&data, None);
    assert!(tty.contains(ESC), "no colour at a terminal: {tty:?}");
    let tty = at_terminal(&data, Some(""));
    assert!(
        tty.contains(ESC),
        "an empty NO_COLOR turned colour off: {tty:?}"
    );
    let tty = at_terminal(&data, Some("1"));
    assert!(
        tty.contains("base_url"),
        "no log line at the terminal: {tty:?}"
    );
    assert!(!tty.contains(ESC), "colour despite NO_COLOR: {tty:?}");
}

/// The request log never holds a secret of a query: set-password tokens, reader passwords and
/// access tokens are hidden; other parameters stay.
#[test]
fn the_request_log_hides_secrets_in_queries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("stderr.log");
    let mut cmd = command();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .find_map(|l| {
            let l = l.unwrap();
            l.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .filter(|_| l.contains("listening on"))
                .map(str::to_string)
        })
        .unwrap();
    for path in [
        "/password?token=SETPASSWORDSECRET",
        "/acme/v4/share/abc?password=READERSECRET&access=ACCESSSECRET&limit=5",
        "/healthz?csrf_token=CSRFSECRET",
    ] {
        let _ = ureq::get(&format!("{url}{path}")).call();
    }
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap();
        if text.contains("/healthz") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        text.contains("/acme/v4/share/abc?"),
        "no request lines: {text}"
    );
    assert!(text.contains("limit=5"), "{text}");
    for secret in [
        "SETPASSWORDSECRET",
        "READERSECRET",
        "ACCESSSECRET",
        "CSRFSECRET",
    ] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
}
