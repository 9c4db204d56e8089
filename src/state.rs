//! `AppState`: built once at start, cloned into every worker. It holds the settings and one
//! service object per area; handlers call methods on the services and never touch storage.

use crate::blob::BlobStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::domain::accounts::AccountService;
use crate::domain::assets::AssetService;
use crate::domain::auth::AuthService;
use crate::domain::requests::RequestService;
use crate::domain::shares::ShareService;
use crate::domain::tus::{Policy, TusService};
use crate::domain::unlock::UnlockKey;
use crate::domain::uploads::UploadService;
use crate::error::AppError;
use crate::thumbs::Thumbs;
use std::sync::Arc;

/// Everything a request may need; nothing global.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub clock: Clock,
    pub shares: ShareService,
    pub assets: AssetService,
    pub uploads: UploadService,
    /// `/tus/`: resumable uploads into the library.
    pub tus: TusService,
    /// File requests: the owner's side and the public one.
    pub requests: RequestService,
    /// `/r/{puid}/tus/`: resumable uploads through file requests.
    pub request_tus: TusService,
    pub auth: AuthService,
    pub accounts: AccountService,
    /// Serves file contents (downloads, previews, zips).
    pub blobs: BlobStore,
    /// Thumbnails of images, made on demand.
    pub thumbs: Thumbs,
    /// For the background jobs (checkpoints, the mail worker), the CLI and tests.
    pub db: Db,
}

impl AppState {
    /// What `/healthz` checks: the database answers a read, the data dir takes a write and the
    /// configured bucket (with `s3`) answers. Any failing is 503 `UNAVAILABLE` saying which;
    /// the cause goes to the log.
    pub async fn check_health(&self) -> Result<(), AppError> {
        if let Err(e) = self.db.read(crate::db::probe).await {
            tracing::error!(error = ?e, "health: the database cannot be read");
            return Err(AppError::Unavailable("The database cannot be read.".into()));
        }
        let probe = self
            .config
            .tmp_dir()
            .join(format!(".healthz-{}", uuid::Uuid::new_v4().simple()));
        let written = crate::db::blocking(move || {
            std::fs::write(&probe, b"ok")?;
            std::fs::remove_file(&probe)
        })
        .await?;
        if let Err(e) = written {
            tracing::error!(error = %e, "health: the data dir is not writable");
            return Err(AppError::Unavailable(
                "The data dir is not writable.".into(),
            ));
        }
        if let Err(e) = self.blobs.ping().await {
            tracing::error!(error = %e, "health: the blob store is not answering");
            return Err(AppError::Unavailable(
                "The blob store is not answering.".into(),
            ));
        }
        Ok(())
    }

    /// Opens the data dir (creating its layout and schema) with the given clock.
    pub fn open(config: Config, clock: Clock) -> Result<AppState, AppError> {
        config.ensure_dirs()?;
        let db = Db::open(&config.db_path())?;
        let blobs = BlobStore::new(
            config.blobs_dir(),
            config.tmp_dir(),
            db.clone(),
            config.blob_store.as_ref(),
            config.s3.clone(),
        )?;
        let unlock = UnlockKey::load_or_create(&config.data_dir.join("unlock.key"))?;
        let assets = AssetService::new(db.clone(), blobs.clone(), clock.clone());
        Ok(AppState {
            shares: ShareService::new(
                db.clone(),
                blobs.clone(),
                unlock,
                clock.clone(),
                &config.base_url,
            ),
            uploads: UploadService::new(
                db.clone(),
                blobs.clone(),
                clock.clone(),
                assets.clone(),
                config.max_upload_bytes,
            ),
            tus: TusService::new(
                db.clone(),
                assets.clone(),
                clock.clone(),
                crate::partial::PartialDir::new(config.uploads_dir()),
                Policy::library(config.max_upload_bytes),
                blobs.clone(),
            ),
            request_tus: TusService::new(
                db.clone(),
                assets.clone(),
                clock.clone(),
                crate::partial::PartialDir::new(config.uploads_dir()),
                Policy::request(config.max_upload_bytes),
                blobs.clone(),
            ),
            requests: RequestService::new(db.clone(), clock.clone(), &config.base_url),
            auth: AuthService::new(db.clone(), clock.clone()),
            accounts: AccountService::new(db.clone()),
            assets,
            config: Arc::new(config),
            clock,
            thumbs: Thumbs::new(blobs.thumbs_dir()),
            blobs,
            db,
        })
    }
}
