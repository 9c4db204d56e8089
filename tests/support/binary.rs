//! The real `sharebox` binary as a test fixture: a server spawned on a free port over a data
//! dir, its URL and first-start API key parsed from stdout, killed on drop (or stopped with
//! SIGTERM); and one-shot runs of its management subcommands. Every run starts from `command()`,
//! so no `SHAREBOX_*` setting of the caller's environment leaks in.
//!
//! Include with `#[path = "support/binary.rs"] mod binary;` (every shared module is included this
//! way; see support/common.rs).
//!
//! With `SHAREBOX_TEST_BLOB_STORE=s3`, servers keep their blobs in a bucket of the process's
//! moto server (one bucket per data dir, so a restart finds them), downloads proxied.
#![allow(dead_code)]

// A crate may load it through both harnesses (each then starts its own moto when used).
#[allow(clippy::duplicate_mod)]
#[path = "moto.rs"]
pub mod moto;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sharebox");

/// How long the server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The environment variables the binary reads its settings from.
const SETTINGS_ENV: &[&str] = &[
    "SHAREBOX_DATA_DIR",
    "SHAREBOX_LISTEN",
    "SHAREBOX_BASE_URL",
    "SHAREBOX_MAX_UPLOAD_BYTES",
    "SHAREBOX_SMTP_URL",
    "SHAREBOX_MAIL_FROM",
    "SHAREBOX_TRUSTED_PROXIES",
    "SHAREBOX_BLOB_STORE",
    "SHAREBOX_S3_ENDPOINT",
    "SHAREBOX_S3_REGION",
    "SHAREBOX_S3_PATH_STYLE",
    "SHAREBOX_S3_REDIRECT",
];

/// `sharebox` with none of its settings taken from the caller's environment.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in SETTINGS_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// `sharebox --data-dir <data> <args...>` run to its end: a management subcommand.
pub fn run(data: &Path, args: &[&str]) -> Output {
    command()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run sharebox")
}

/// An HTTP agent for transfers of hundreds of MiB: 10 s to connect, 5 minutes to read or write.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(Duration::from_secs(300))
        .timeout_write(Duration::from_secs(300))
        .build()
}

/// The JSON of a successful answer; anything else panics, naming `what`, with the server's
/// stderr.
pub fn json(
    res: Result<ureq::Response, ureq::Error>,
    what: &str,
    srv: &Server,
) -> serde_json::Value {
    let res = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => panic!(
            "{what}: {code} {}\nserver stderr:\n{}",
            r.into_string().unwrap_or_default(),
            srv.stderr()
        ),
        Err(e) => panic!("{what}: {e}\nserver stderr:\n{}", srv.stderr()),
    };
    serde_json::from_str(&res.into_string().expect("body")).expect("JSON answer")
}

/// `(status, JSON)` of an answer, whatever its status.
pub fn answer(res: Result<ureq::Response, ureq::Error>) -> (u16, serde_json::Value) {
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = r.status();
    (
        status,
        serde_json::from_str(&r.into_string().expect("body")).expect("JSON"),
    )
}

/// The blob-store flags of `SHAREBOX_TEST_BLOB_STORE=s3` (none for `fs`, or when the test
/// gives its own `--blob-store`).
fn test_store(data: &Path, extra: &[&str]) -> Vec<String> {
    if !moto::on_s3() || extra.contains(&"--blob-store") {
        return Vec::new();
    }
    let Some(name) = test_bucket(data) else {
        return Vec::new();
    };
    let m = moto::moto();
    // A bucket that exists already (a restart) answers 409 here: fine.
    let _ = ureq::put(&format!("{}/{name}", m.endpoint)).call();
    m.flags(&name, false)
}

/// With `SHAREBOX_TEST_BLOB_STORE=s3`, the bucket of servers on `data` (blobs under `blobs/`).
pub fn test_bucket(data: &Path) -> Option<String> {
    if !moto::on_s3() {
        return None;
    }
    use sha2::Digest;
    Some(format!(
        "sb-{}",
        &hex::encode(sha2::Sha256::digest(data.to_string_lossy().as_bytes()))[..24]
    ))
}

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    /// The API key printed at first start (`  API key:  <key>`).
    pub key: String,
    /// The org token printed at first start (`  org:      <token>`).
    pub org: String,
    pub data: PathBuf,
    /// Everything printed on stdout before `listening on`.
    pub banner: Vec<String>,
    /// Where the server's stderr goes (beside the data dir).
    pub log: PathBuf,
}

impl Server {
    /// `sharebox serve --listen 127.0.0.1:0 --data-dir <data> <extra...>` with `RUST_LOG=warn`.
    /// `data` must not exist yet or be empty: the first-start banner gives the key.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_logging(data, extra, "warn")
    }

    /// `start` with `RUST_LOG=<rust_log>` (`info` logs every request).
    pub fn start_logging(data: &Path, extra: &[&str], rust_log: &str) -> Server {
        Self::start_on(data, "127.0.0.1:0", extra, rust_log)
    }

    /// `start` listening on `listen` (a test that must know the port before the server runs,
    /// e.g. to give a proxy in front of it as `--base-url`).
    pub fn start_on(data: &Path, listen: &str, extra: &[&str], rust_log: &str) -> Server {
        let mut srv = Self::spawn(data, listen, extra, rust_log);
        srv.key = srv
            .value("API key:")
            .unwrap_or_else(|| panic!("no `API key:` line in {:#?}", srv.banner));
        srv.org = srv
            .value("org:")
            .unwrap_or_else(|| panic!("no `org:` line in {:#?}", srv.banner));
        srv
    }

    /// A later start on a data dir that has been started before. That banner prints no
    /// secrets, so `key` and `org` are empty.
    pub fn restart(data: &Path, extra: &[&str]) -> Server {
        Self::spawn(data, "127.0.0.1:0", extra, "warn")
    }

    fn spawn(data: &Path, listen: &str, extra: &[&str], rust_log: &str) -> Server {
        let log = data.with_file_name(format!(
            "{}.server.log",
            data.file_name().and_then(|n| n.to_str()).unwrap_or("data")
        ));
        // Appended to, so a restart's log follows the earlier run's.
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("create server log");
        let mut child = command()
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data)
            .args(test_store(data, extra))
            .args(extra)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn sharebox serve");

        // A reader thread hands lines over and keeps draining stdout for the server's whole life,
        // so a later print never meets a closed pipe.
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });

        let mut banner = Vec::new();
        let mut url = None;
        while url.is_none() {
            match rx.recv_timeout(START_TIMEOUT) {
                Ok(line) => match line.split("listening on ").nth(1) {
                    Some(u) => url = Some(u.trim().trim_end_matches('/').to_string()),
                    None => banner.push(line),
                },
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "server did not print `listening on` ({e}); exit {status:?}\n\
                         stdout so far: {banner:#?}\nstderr:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        }
        let srv = Server {
            child,
            url: url.unwrap(),
            key: String::new(),
            org: String::new(),
            data: data.to_path_buf(),
            banner,
            log,
        };
        assert!(
            srv.url.starts_with("http://127.0.0.1:"),
            "unexpected URL {:?}; stdout {:#?}",
            srv.url,
            srv.banner
        );
        srv
    }

    /// The value of a `label value` line of the banner (`org:`, `admin:`, `password:`,
    /// `API key:`), if it printed one.
    pub fn value(&self, label: &str) -> Option<String> {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
    }

    /// SIGTERM, and the process exits by itself, successfully (graceful shutdown).
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let t0 = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "server exited with {status}");
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`, ...) in bytes.
    pub fn proc_status_bytes(&self, field: &str) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field} in {path}:\n{status}"));
        let mut words = line.split_whitespace().skip(1);
        let n: u64 = words
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        assert_eq!(words.next(), Some("kB"), "bad line {line:?}");
        n * 1024
    }

    /// Resets the process's peak RSS (`VmHWM`) to its current RSS (Linux >= 4.0, writing `5` to
    /// `/proc/<pid>/clear_refs`), so a later `VmHWM` is the peak of what came after. False if the
    /// kernel refused.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// The server's stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics (with its stderr) if the server has exited.
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("server exited with {status}; stderr:\n{}", self.stderr());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
