//! Settings, built once from the CLI (flags or env) and carried in `AppState`.

use crate::blob::s3::{S3Settings, S3Url};
use crate::net::TrustedProxies;
use std::net::SocketAddr;
use std::path::PathBuf;

/// 10 GiB: the default largest file any upload route accepts.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Without a trailing slash; every absolute URL handed out starts with it.
    pub base_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub max_upload_bytes: u64,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed (none by default).
    pub trusted_proxies: TrustedProxies,
    /// Where new blobs go: None = `fs` (blobs/ under the data dir).
    pub blob_store: Option<S3Url>,
    /// Endpoint, region, addressing and redirects for every S3 store a blob names.
    pub s3: S3Settings,
}

impl Config {
    /// A config for `data_dir` with every other setting at its default (tests, CLI subcommands).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
        Config {
            data_dir: data_dir.into(),
            listen,
            base_url: format!("http://{listen}"),
            smtp_url: None,
            mail_from: "sharebox@localhost".into(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            trusted_proxies: TrustedProxies::default(),
            blob_store: None,
            s3: S3Settings::default(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("sharebox.db")
    }
    pub fn blobs_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }
    /// tus uploads in progress: kept across restarts, unlike tmp/.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Creates the data dir layout; safe to call on an existing one.
    pub fn ensure_dirs(&self) -> std::io::Result<()> {
        for dir in [
            self.data_dir.clone(),
            self.blobs_dir(),
            self.tmp_dir(),
            self.uploads_dir(),
            self.outbox_dir(),
        ] {
            std::fs::create_dir_all(&dir)?;
        }
        Ok(())
    }
}

/// `http://host:port` without a trailing slash, as handed out in answers.
pub fn normalize_base_url(raw: &str) -> String {
    raw.trim_end_matches('/').to_string()
}
