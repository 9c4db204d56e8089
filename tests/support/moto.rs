//! A real S3 server for the blob-store tests: `moto_server` (moto[server], pinned in
//! tests/sdk/setup_venv.sh) on a free loopback port, one per test process, ended when the
//! process ends (a watcher kills it once our pid is gone). Buckets are made per test with S3's
//! own CreateBucket (`PUT /<bucket>`; moto checks no signature), and inspected through S3's
//! ListObjectsV2 and ListMultipartUploads.
//!
//! Self-contained (common.rs includes it for the `SHAREBOX_TEST_BLOB_STORE=s3` runs): include
//! with `#[path = "support/moto.rs"] mod moto;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// Moto takes any key; Sharebox needs one to sign with.
pub const KEY_ID: &str = "testing";
pub const SECRET: &str = "testing";

pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// The watcher that ends moto after us (kept, never waited for: it outlives the tests).
    _watcher: std::sync::Mutex<std::process::Child>,
}

/// Whether this test process runs its suite on the `s3` store: `SHAREBOX_TEST_BLOB_STORE=s3`
/// (or `fs`) set by hand wins; else a test binary that Cargo.toml names `<suite>_on_s3` (the
/// same file as `<suite>`, run a second time in the one `cargo test`) does.
pub fn on_s3() -> bool {
    match std::env::var("SHAREBOX_TEST_BLOB_STORE").as_deref() {
        Ok("s3") => true,
        Ok("fs") => false,
        Ok(other) if !other.is_empty() => panic!("SHAREBOX_TEST_BLOB_STORE={other}: fs or s3"),
        _ => std::env::current_exe()
            .ok()
            .and_then(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().contains("_on_s3-"))
            })
            .unwrap_or(false),
    }
}

/// The process's moto server, started on first use; also sets AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY for this process (and so for the servers it spawns).
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
}

fn venv() -> PathBuf {
    let venv = match std::env::var_os("SHAREBOX_SDK_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(MANIFEST_DIR).join("target").join("sdk-venv"),
    };
    if venv.is_relative() {
        Path::new(MANIFEST_DIR).join(venv)
    } else {
        venv
    }
}

fn start() -> Moto {
    let venv = venv();
    let bin = venv.join("bin").join("moto_server");
    if !bin.exists() {
        let st = Command::new("bash")
            .arg(Path::new(MANIFEST_DIR).join("tests/sdk/setup_venv.sh"))
            .arg(&venv)
            .status()
            .expect("run setup_venv.sh");
        assert!(st.success(), "setup_venv.sh failed: moto_server is needed");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // moto runs until this test process is gone, whatever way it ends.
    let watch = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {me} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill $m",
        me = std::process::id()
    );
    let watcher = Command::new("bash")
        .arg("-c")
        .arg(watch)
        .arg(&bin)
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    loop {
        if ureq::get(&format!("{endpoint}/")).call().is_ok() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "moto_server did not answer on {endpoint}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", KEY_ID);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
    Moto {
        endpoint,
        _watcher: std::sync::Mutex::new(watcher),
    }
}

impl Moto {
    /// A new empty bucket; its name.
    pub fn bucket(&self) -> String {
        let name = format!("sb-{}", uuid::Uuid::new_v4().simple());
        ureq::put(&format!("{}/{name}", self.endpoint))
            .call()
            .unwrap_or_else(|e| panic!("create bucket {name}: {e}"));
        name
    }

    /// The keys in `bucket`.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let xml = ureq::get(&format!("{}/{bucket}?list-type=2", self.endpoint))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        tags(&xml, "Key")
    }

    /// The ids of the multipart uploads in progress in `bucket`.
    pub fn multipart_uploads(&self, bucket: &str) -> Vec<String> {
        let xml = ureq::get(&format!("{}/{bucket}?uploads", self.endpoint))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        tags(&xml, "UploadId")
    }

    /// Runs `code` with a boto3 client `s3` of this server (object writes must be signed).
    fn boto3(&self, code: &str) {
        let script = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='{KEY_ID}', aws_secret_access_key='{SECRET}')\n{code}\n",
            self.endpoint
        );
        let out = Command::new(venv().join("bin").join("python"))
            .arg("-c")
            .arg(script)
            .env("NO_PROXY", "*")
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Replaces the object `key` of `bucket` with `text` behind Sharebox's back.
    pub fn overwrite(&self, bucket: &str, key: &str, text: &str) {
        self.boto3(&format!(
            "s3.put_object(Bucket='{bucket}', Key='{key}', Body=b'{text}')"
        ));
    }

    /// Deletes the object `key` of `bucket` behind Sharebox's back.
    pub fn delete(&self, bucket: &str, key: &str) {
        self.boto3(&format!("s3.delete_object(Bucket='{bucket}', Key='{key}')"));
    }

    /// The flags that put a server's blobs in `bucket` (redirects as given).
    pub fn flags(&self, bucket: &str, redirect: bool) -> Vec<String> {
        vec![
            "--blob-store".into(),
            format!("s3://{bucket}/blobs"),
            "--s3-endpoint".into(),
            self.endpoint.clone(),
            "--s3-redirect".into(),
            redirect.to_string(),
        ]
    }
}

/// The texts of every `<tag>...</tag>` in `xml`.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|s| s.split(close.as_str()).next())
        .map(str::to_string)
        .collect()
}
