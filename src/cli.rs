//! The command line: every setting is a flag and an env variable; subcommands call the same
//! services the server uses, so they work with or without a server on the same data dir.

use crate::blob::s3::{S3Settings, S3Url};
use crate::blob::FS;
use crate::clock::Clock;
use crate::config::{normalize_base_url, Config, DEFAULT_MAX_UPLOAD_BYTES};
use crate::domain::types::{Email, NewPassword, OrgToken};
use crate::domain::{accounts, auth};
use crate::error::AppError;
use crate::net::TrustedProxies;
use crate::{app, AppState};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sharebox",
    version,
    about = "Self-hosted asset library with secure share links"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Where the database, blobs, uploads in progress and the mail outbox live.
    #[arg(
        long,
        env = "SHAREBOX_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "SHAREBOX_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Start of every absolute URL the server hands out [default: http://<listen>].
    #[arg(long, env = "SHAREBOX_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// SMTP server for mail, e.g. smtp://user:pass@host:587 [default: .eml files in <data-dir>/outbox/].
    #[arg(long, env = "SHAREBOX_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,
    /// Sender address of mail.
    #[arg(
        long,
        env = "SHAREBOX_MAIL_FROM",
        default_value = "sharebox@localhost",
        global = true
    )]
    pub mail_from: String,
    /// The largest file any upload route accepts, in bytes.
    #[arg(long, env = "SHAREBOX_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES, global = true)]
    pub max_upload_bytes: u64,
    /// Reverse proxies (IPs and CIDRs, comma-separated) whose Forwarded / X-Forwarded-For /
    /// X-Forwarded-Proto headers are believed [default: none].
    #[arg(long, env = "SHAREBOX_TRUSTED_PROXIES", default_value = "", hide_default_value = true,
          value_parser = TrustedProxies::parse, global = true)]
    pub trusted_proxies: TrustedProxies,
    /// Where new blob contents go: `fs` (blobs/ under the data dir) or `s3://bucket/prefix`
    /// (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "SHAREBOX_BLOB_STORE", default_value = "fs", value_parser = parse_store, global = true)]
    pub blob_store: StoreArg,
    /// S3 endpoint, e.g. http://127.0.0.1:9000 [default: AWS_ENDPOINT_URL, else AWS].
    #[arg(long, env = "SHAREBOX_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    /// S3 region [default: AWS_REGION, else us-east-1].
    #[arg(long, env = "SHAREBOX_S3_REGION", global = true)]
    pub s3_region: Option<String>,
    /// Path-style S3 URLs [default: true when an endpoint is set, else false].
    #[arg(long, env = "SHAREBOX_S3_PATH_STYLE", global = true, num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_path_style: Option<bool>,
    /// Public file downloads of S3 blobs answer 302 to a presigned GET (valid 60 s)
    /// [default: true].
    #[arg(long, env = "SHAREBOX_S3_REDIRECT", global = true, num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_redirect: Option<bool>,
}

/// `--blob-store`: None = `fs`.
#[derive(Debug, Clone)]
pub struct StoreArg(pub Option<S3Url>);

fn parse_store(raw: &str) -> Result<StoreArg, String> {
    if raw == FS {
        return Ok(StoreArg(None));
    }
    S3Url::parse(raw).map(|u| StoreArg(Some(u)))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage orgs.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Copy the database, blobs and unlock key into DIR (new or empty), consistently, even
    /// while a server runs and writes. Restore: start with `--data-dir DIR`.
    Backup {
        /// Where the backup goes: must not exist, or be an empty directory.
        dir: PathBuf,
    },
    /// Re-hash every blob against its size and SHA-256 in the database; exits non-zero naming
    /// each missing or corrupt blob. Orphaned blob files are reported, not failed on.
    Verify,
    /// Blob contents: move them between stores.
    #[command(subcommand)]
    Blobs(BlobsCommand),
}

#[derive(Subcommand, Debug)]
pub enum BlobsCommand {
    /// Copy every blob into a store (`fs` or `s3://bucket/prefix`), check each copy by SHA-256,
    /// then switch the blob to it; a server on the data dir keeps serving, and a stopped run
    /// resumes. Point the server's --blob-store at the new store too, and run again.
    Migrate {
        #[arg(long, value_parser = parse_store)]
        to: StoreArg,
        /// Delete the copies left in the old stores, once the whole run went through.
        #[arg(long)]
        delete_source: bool,
        /// Seconds to wait before deleting source copies, so that downloads already under way
        /// (a presigned URL lives 60 s) finish from them.
        #[arg(long, default_value_t = 60)]
        grace_secs: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an org (and its first admin); prints JSON describing what it made.
    Create {
        /// ^[a-z0-9][a-z0-9-]{1,31}$, not a reserved word.
        token: String,
        #[arg(long, requires = "admin_password")]
        admin_email: Option<String>,
        #[arg(long, requires = "admin_email")]
        admin_password: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user in an org; prints JSON describing it.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        admin: bool,
    },
    /// List users (of one org, or all); prints JSON.
    List {
        #[arg(long)]
        org: Option<String>,
    },
    /// Set a user's password, read from stdin (or asked for on a terminal); every session and
    /// token of theirs ends.
    Passwd {
        #[arg(long)]
        email: String,
        /// The new password on the command line: visible to others in `ps`; prefer stdin.
        #[arg(long)]
        password: Option<String>,
    },
    /// Disable a user: no sign-in; their sessions, tokens and the keys they made end at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user again (revoked keys stay revoked).
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key; prints it alone on the last line.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an org's API keys (never the keys themselves); prints JSON.
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke an org's API key by the id `key list` shows: its next request fails.
    Revoke {
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
    },
}

impl Settings {
    /// The config for a server bound to `bound` (the real address when `--listen` had port 0).
    pub fn config(&self, bound: SocketAddr) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            listen: bound,
            base_url: self
                .base_url
                .as_deref()
                .map(normalize_base_url)
                .unwrap_or_else(|| format!("http://{bound}")),
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            max_upload_bytes: self.max_upload_bytes,
            trusted_proxies: self.trusted_proxies.clone(),
            blob_store: self.blob_store.0.clone(),
            s3: self.s3_settings(),
        }
    }

    /// API.md's defaults: endpoint from AWS_ENDPOINT_URL, region from AWS_REGION, path style
    /// when an endpoint is set, redirects on.
    pub fn s3_settings(&self) -> S3Settings {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = self
            .s3_endpoint
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| env("AWS_ENDPOINT_URL"));
        S3Settings {
            region: self
                .s3_region
                .clone()
                .filter(|v| !v.is_empty())
                .or_else(|| env("AWS_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            path_style: self.s3_path_style.unwrap_or(endpoint.is_some()),
            redirect: self.s3_redirect.unwrap_or(true),
            endpoint,
        }
    }
}

/// Runs a management subcommand against the data dir and returns what to print.
pub fn run_admin(settings: &Settings, command: &Command) -> Result<String, AppError> {
    // These read the data dir as it is: no AppState, which would create or migrate it.
    match command {
        Command::Backup { dir } => {
            let made = crate::backup::backup(&settings.data_dir, dir, Clock::system().now())?;
            let c = made.counts;
            return Ok(format!(
                "Backup of {} written to {}: {} orgs, {} users, {} shares, {} files, {} blobs \
                 ({} bytes; {} hard-linked, {} copied). Restore: start with --data-dir {}",
                settings.data_dir.display(),
                dir.display(),
                c.orgs,
                c.users,
                c.shares,
                c.files,
                c.blobs,
                c.bytes,
                made.blobs_linked,
                made.blobs_copied,
                dir.display()
            ));
        }
        Command::Verify => {
            let mut buckets = Buckets {
                rt: runtime()?,
                remotes: crate::blob::Remotes::new(settings.s3_settings()),
            };
            let found = crate::backup::verify(&settings.data_dir, &mut buckets)?;
            return if found.ok() {
                Ok(found.render())
            } else {
                Err(AppError::internal(format!(
                    "verify failed for {}:\n{}",
                    settings.data_dir.display(),
                    found.render()
                )))
            };
        }
        Command::Blobs(BlobsCommand::Migrate {
            to,
            delete_source,
            grace_secs,
        }) => {
            let to = to.0.as_ref().map(|u| u.url()).unwrap_or_else(|| FS.into());
            let state = AppState::open(settings.config(settings.listen), Clock::system())?;
            let done = runtime()?.block_on(crate::blob::migrate::migrate(
                &state.db,
                &state.blobs,
                &to,
                delete_source.then(|| std::time::Duration::from_secs(*grace_secs)),
            ))?;
            return if done.failed.is_empty() {
                Ok(done.render(&to))
            } else {
                Err(AppError::internal(done.render(&to)))
            };
        }
        Command::Serve | Command::Org(_) | Command::User(_) | Command::Key(_) => {}
    }
    let state = AppState::open(settings.config(settings.listen), Clock::system())?;
    let now = state.clock.now();
    let db = &state.db;
    match command {
        Command::Serve => Err(AppError::internal("serve is not a management command")),
        // Answered above.
        Command::Backup { .. } | Command::Verify | Command::Blobs(_) => {
            Err(AppError::internal("unreachable"))
        }
        Command::Org(OrgCommand::Create {
            token,
            admin_email,
            admin_password,
        }) => {
            let token = OrgToken::parse(token)?;
            let admin = match (admin_email, admin_password) {
                (Some(e), Some(p)) => Some((
                    Email::parse("admin-email", e)?,
                    NewPassword::parse("admin-password", p)?,
                )),
                _ => None,
            };
            let made = auth::create_org(db, &token, admin.as_ref().map(|(e, p)| (e, p)), now)?;
            Ok(pretty(&made))
        }
        Command::User(UserCommand::Create {
            org,
            email,
            password,
            admin,
        }) => {
            let email = Email::parse("email", email)?;
            let password = NewPassword::parse("password", password)?;
            let made = auth::create_user(db, org, &email, &password, *admin, now)?;
            Ok(pretty(&made))
        }
        Command::Key(KeyCommand::Create { org, name }) => {
            let key = auth::create_key(db, org, name, now)?;
            Ok(format!(
                "Created API key '{name}' for org '{org}'. It is shown only now:\n{key}"
            ))
        }
        Command::User(UserCommand::List { org }) => {
            Ok(pretty(&accounts::list_users(db, org.as_deref())?))
        }
        Command::User(UserCommand::Passwd { email, password }) => {
            let email = Email::parse("email", email)?;
            let password = NewPassword::parse("password", &new_password(password.as_deref())?)?;
            accounts::set_password(db, &email, &password)?;
            Ok(format!(
                "Set the password of {email}; every session and token of theirs has ended."
            ))
        }
        Command::User(UserCommand::Disable { email }) => {
            let email = Email::parse("email", email)?;
            let keys = accounts::set_disabled(db, &email, true)?;
            Ok(format!(
                "Disabled {email}: their sessions and tokens have ended, {keys} key(s) they made are revoked."
            ))
        }
        Command::User(UserCommand::Enable { email }) => {
            let email = Email::parse("email", email)?;
            accounts::set_disabled(db, &email, false)?;
            Ok(format!("Enabled {email}."))
        }
        Command::Key(KeyCommand::List { org }) => Ok(pretty(&accounts::list_keys(db, org)?)),
        Command::Key(KeyCommand::Revoke { org, id }) => {
            accounts::revoke_key(db, org, *id)?;
            Ok(format!("Revoked key {id} of '{org}'."))
        }
    }
}

/// A new password: from `--password` (with a warning: others see it in `ps`), else asked for
/// on a terminal, else the first line of stdin.
fn new_password(given: Option<&str>) -> Result<String, AppError> {
    use std::io::{BufRead, IsTerminal};
    if let Some(p) = given {
        eprintln!(
            "warning: --password is visible to other users of this machine (ps, shell history); \
             pipe the password on stdin instead"
        );
        return Ok(p.to_string());
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(AppError::invalid("password", "the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `verify`'s reads of buckets, on a runtime of its own.
struct Buckets {
    rt: tokio::runtime::Runtime,
    remotes: crate::blob::Remotes,
}

impl crate::backup::Remote for Buckets {
    fn hash(&mut self, store: &str, id: &str) -> Result<Option<(u64, String)>, AppError> {
        let s3 = self.remotes.get(store)?;
        self.rt.block_on(s3.hash(id))
    }

    fn ids(&mut self, store: &str) -> Result<Vec<String>, AppError> {
        let s3 = self.remotes.get(store)?;
        self.rt.block_on(s3.ids())
    }
}

/// For subcommands that talk to a store.
fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn pretty<T: serde::Serialize>(made: &T) -> String {
    serde_json::to_string_pretty(made).unwrap_or_default()
}

/// How often view and download counts are written.
const COUNTER_FLUSH: std::time::Duration = std::time::Duration::from_millis(250);

/// How often expired tus uploads (and their files) are removed, besides on every creation.
const TUS_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);

/// Clears uploads left in tmp/ by a previous run: nothing there can be finished.
fn clean_tmp(config: &Config) -> std::io::Result<()> {
    for entry in std::fs::read_dir(config.tmp_dir())? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// `sharebox serve`: bootstraps an empty data dir, then serves until SIGTERM/SIGINT.
pub async fn serve(settings: Settings) -> Result<(), AppError> {
    let listener = std::net::TcpListener::bind(settings.listen)
        .map_err(|e| AppError::internal(format!("cannot listen on {}: {e}", settings.listen)))?;
    let bound = listener.local_addr()?;
    let config = settings.config(bound);
    let state = AppState::open(config, Clock::system())?;
    // A wrong bucket, endpoint or key stops the start here, not the first upload.
    state.blobs.check().await?;
    tracing::info!(store = %state.blobs.default_store(), "blob store");
    clean_tmp(&state.config)?;
    // uploads/ is kept: tus uploads resume after a restart. Only files no row names go.
    let tus = state.tus.clone();
    let orphans = crate::db::blocking(move || tus.remove_orphans_sync()).await??;
    if orphans > 0 {
        tracing::info!(orphans, "removed tus upload files without an upload");
    }
    let base_url = state.config.base_url.clone();
    let db = state.db.clone();
    let now = state.clock.now();
    let first = crate::db::blocking(move || auth::bootstrap_if_empty(&db, now)).await??;
    if let Some(b) = first {
        println!(
            "Sharebox made a new data dir at {}.",
            state.config.data_dir.display()
        );
        println!("  org:      {}", b.org);
        println!("  admin:    {}", b.email);
        println!("  password: {}", b.password);
        println!("  API key:  {}", b.api_key);
        println!("These secrets are shown only now: keep them somewhere safe.");
    }
    // Every start, before the line that gives the URL (which the first start's secrets
    // precede too), says where a person begins.
    println!("Sign in at {base_url}/login");
    println!(
        "Sharebox {} listening on {base_url}",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!(%base_url, "listening");
    let app_state = state.clone();
    let flusher = {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(COUNTER_FLUSH);
            loop {
                tick.tick().await;
                if let Err(e) = state.shares.flush_counts().await {
                    tracing::warn!(error = %e, "counters not written yet; will retry");
                }
                if let Err(e) = state.blobs.refresh().await {
                    tracing::warn!(error = %e, "blob stores not looked at; will retry");
                }
                // Small, frequent checkpoints keep their fsyncs off the request path.
                if let Err(e) = state.db.checkpoint().await {
                    tracing::warn!(error = %e, "checkpoint failed; will retry");
                }
            }
        })
    };
    let mailer = crate::mail::worker::spawn(state.clone());
    let sweeper = {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(TUS_SWEEP);
            loop {
                tick.tick().await;
                for tus in [&state.tus, &state.request_tus] {
                    if let Err(e) = tus.sweep().await {
                        tracing::warn!(error = %e, "expired tus uploads not removed yet; will retry");
                    }
                }
                if let Err(e) = state.requests.sweep_uploaders().await {
                    tracing::warn!(error = %e, "idle file request uploaders not removed yet");
                }
            }
        })
    };
    actix_web::HttpServer::new(move || app(app_state.clone()))
        .tcp_nodelay(true)
        // Database calls and file reads share this pool; more threads than the pool has
        // connections only queue, and cost memory for their stacks.
        .worker_max_blocking_threads(32)
        .shutdown_timeout(10)
        .listen(listener)?
        .run()
        .await?;
    flusher.abort();
    sweeper.abort();
    mailer.abort();
    // Counts of the last moments are written before the process ends, and so are the tus
    // bytes written but not synced yet (a crash would make their clients send them again).
    state.shares.flush_counts().await?;
    state.tus.sync_all().await;
    state.request_tus.sync_all().await;
    tracing::info!("stopped");
    Ok(())
}
