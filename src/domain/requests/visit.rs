//! The public side of a file request: its state, the password gate, the uploader cookie, an
//! uploader's own files, and uploads without tus (the plain form).
//!
//! Checks run in API.md's order: the request's state (404 unknown, revoked or deleted; 403
//! scheduled; 410 expired or full), then the uploader's cookie (401).

use super::model::{load, Request, RequestState};
use super::service::{not_found, RequestService};
use crate::db::requests::{self as q, SentFile, UploaderRow};
use crate::db::ts;
use crate::db::tus::RequestUpload;
use crate::domain::assets::{AssetService, FolderRef, Incoming};
use crate::domain::auth::{argon2_turn, verify_password};
use crate::domain::throttle::{self, Key};
use crate::domain::types::Visibility;
use crate::error::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// An uploader cookie lasts this long (API.md: at most 7 days).
pub const UPLOADER_DAYS: i64 = 7;
/// An uploader's page lists at most this many of their files.
const OWN_FILES_SHOWN: i64 = 200;

/// Why a request's page or routes answer without letting anyone in.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Unknown, deleted or revoked: 404.
    NotFound,
    /// Not started: 403.
    Scheduled(Box<Request>),
    /// Expired or full: 410.
    Closed(Box<Request>),
    /// Open, with a password, and no (valid) cookie: the form (401).
    Locked(Box<Request>),
    /// Too many wrong passwords from this address: 429 after this many seconds.
    Throttled(u64),
}

impl From<Gate> for AppError {
    fn from(g: Gate) -> AppError {
        match g {
            Gate::NotFound => not_found(),
            Gate::Scheduled(_) => AppError::NotStarted("This request is not open yet.".into()),
            Gate::Closed(r) if r.state == RequestState::Full => {
                AppError::ShareExpired("This request takes no more files.".into())
            }
            Gate::Closed(_) => AppError::ShareExpired("This request has closed.".into()),
            Gate::Locked(_) => AppError::PasswordRequired,
            Gate::Throttled(retry_after) => AppError::TooManyAttempts { retry_after },
        }
    }
}

/// Someone sending files through a request: the request and their uploader row.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub request: Request,
    pub row: UploaderRow,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn request_addr_key(request_uuid: &str, addr: &str) -> Key {
    Key {
        name: format!("request:{request_uuid}|addr:{addr}"),
        limit: throttle::LIMIT,
    }
}

impl RequestService {
    /// The request `puid` names, if it is open to visitors now (state checked, not the cookie).
    pub async fn open(&self, puid: &str) -> Result<Request, Gate> {
        let puid = puid.to_string();
        let (base, now) = (self.base_url.clone(), ts(self.clock.now()));
        let r = self
            .db
            .read(move |c| match q::find_by_puid(c, &puid)? {
                Some(row) => load(c, row, &base, now).map(Some),
                None => Ok(None),
            })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "file request not read");
                Gate::NotFound
            })?
            .ok_or(Gate::NotFound)?;
        match r.state {
            RequestState::Revoked => Err(Gate::NotFound),
            RequestState::Scheduled => Err(Gate::Scheduled(Box::new(r))),
            RequestState::Expired | RequestState::Full => Err(Gate::Closed(Box::new(r))),
            RequestState::Active => Ok(r),
        }
    }

    /// The uploader the cookie `token` names for request `puid`, the request open; a request
    /// without a password makes a new uploader for a visitor without one (`None` in, a token
    /// out). With a password and no valid cookie: `Gate::Locked`.
    pub async fn visit(
        &self,
        puid: &str,
        token: Option<&str>,
    ) -> Result<(Uploader, Option<String>), Gate> {
        let r = self.open(puid).await?;
        if let Some(u) = self.uploader_of(&r, token).await {
            return Ok((Uploader { request: r, row: u }, None));
        }
        if r.password_protected {
            return Err(Gate::Locked(Box::new(r)));
        }
        let (row, token) = self.new_uploader(&r).await.map_err(|e| {
            tracing::warn!(error = %e, "uploader not recorded");
            Gate::NotFound
        })?;
        Ok((Uploader { request: r, row }, Some(token)))
    }

    /// The uploader behind `token` if it is this request's, current (the request's password
    /// has not changed since) and not past its 7 days.
    async fn uploader_of(&self, r: &Request, token: Option<&str>) -> Option<UploaderRow> {
        let hash = token_hash(token?);
        let row = self
            .db
            .read(move |c| q::uploader(c, &hash))
            .await
            .ok()
            .flatten()?;
        let current = row.request_id == r.row.id
            && row.password_gen == r.row.password_gen
            && row.expires_at > ts(self.clock.now());
        current.then_some(row)
    }

    /// The uploader a request's route needs: its cookie, else 401 (after the state checks).
    pub async fn uploader(&self, puid: &str, token: Option<&str>) -> Result<Uploader, AppError> {
        let r = self.open(puid).await?;
        self.uploader_in(r, token)
            .await
            .ok_or(AppError::Unauthenticated)
    }

    /// The uploader `token` names in the open request `r`, if any.
    pub async fn uploader_in(&self, r: Request, token: Option<&str>) -> Option<Uploader> {
        let row = self.uploader_of(&r, token).await?;
        Some(Uploader { request: r, row })
    }

    async fn new_uploader(&self, r: &Request) -> Result<(UploaderRow, String), AppError> {
        let mut raw = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let hash = token_hash(&token);
        let now = ts(self.clock.now());
        let expires = now + UPLOADER_DAYS * 86_400;
        let (request_id, generation) = (r.row.id, r.row.password_gen);
        let id = self
            .db
            .write(move |tx| q::insert_uploader(tx, request_id, &hash, generation, now, expires))
            .await?;
        let row = UploaderRow {
            id,
            request_id,
            password_gen: generation,
            name: None,
            email: None,
            expires_at: expires,
        };
        Ok((row, token))
    }

    /// `POST /r/{puid}/unlock`: the right password makes an uploader (its cookie token and the
    /// request's slug out);
    /// a wrong one counts against (request, address), throttled as share passwords are.
    pub async fn unlock(
        &self,
        puid: &str,
        password: &str,
        addr: &str,
    ) -> Result<(String, String), Gate> {
        let r = self.open(puid).await?;
        if let Some(hash) = r.row.password_hash.clone() {
            let key = vec![request_addr_key(&r.uuid, addr)];
            let now = self.clock.now();
            // One argon2 check at a time, as for shares: each holds 19 MiB.
            let _turn = argon2_turn().await.map_err(|e| self.throttled(e))?;
            throttle::check(&self.db, key.clone(), now)
                .await
                .map_err(|e| self.throttled(e))?;
            let candidate = password.to_string();
            let ok = crate::db::blocking(move || verify_password(&hash, &candidate))
                .await
                .unwrap_or(false);
            if !ok {
                throttle::fail(&self.db, key, now)
                    .await
                    .map_err(|e| self.throttled(e))?;
                return Err(Gate::Locked(Box::new(r)));
            }
        }
        let (_, token) = self.new_uploader(&r).await.map_err(|e| {
            tracing::warn!(error = %e, "uploader not recorded");
            Gate::NotFound
        })?;
        Ok((token, r.slug))
    }

    fn throttled(&self, e: AppError) -> Gate {
        match e {
            AppError::TooManyAttempts { retry_after } => Gate::Throttled(retry_after),
            other => {
                tracing::warn!(error = %other, "file request unlock");
                Gate::NotFound
            }
        }
    }

    /// What an uploader sent that is still in the library, newest first.
    pub async fn own_files(&self, u: &Uploader) -> Result<Vec<SentFile>, AppError> {
        let id = u.row.id;
        self.db
            .read(move |c| q::files_of(c, id, OWN_FILES_SHOWN))
            .await
    }

    /// Keeps the name and email an uploader gave.
    pub async fn set_contact(
        &self,
        u: &Uploader,
        name: Option<String>,
        email: Option<String>,
    ) -> Result<(), AppError> {
        if name.is_none() && email.is_none() {
            return Ok(());
        }
        let id = u.row.id;
        self.db
            .write(move |tx| q::set_uploader_contact(tx, id, name.as_deref(), email.as_deref()))
            .await
    }

    /// Removes one of the uploader's own files (the request still open): it leaves the
    /// library, and its slot comes back.
    pub async fn remove_own(
        &self,
        assets: &AssetService,
        u: &Uploader,
        file_uuid: &str,
    ) -> Result<(), AppError> {
        let (uploader_id, f) = (u.row.id, file_uuid.to_string());
        let (request_file, _) = self
            .db
            .read(move |c| q::uploader_file(c, uploader_id, &f))
            .await?
            .ok_or_else(|| AppError::not_found("The file"))?;
        assets
            .delete_file(u.request.row.org_id, file_uuid.to_string())
            .await?;
        let now = ts(self.clock.now());
        self.db
            .write(move |tx| q::mark_removed(tx, request_file, now))
            .await
    }

    /// Puts files sent by the plain form into the request's folder, within its limits (checked
    /// again in the transaction that records them: all or none).
    pub async fn store_form(
        &self,
        assets: &AssetService,
        u: &Uploader,
        files: Vec<Incoming>,
        note: Option<String>,
    ) -> Result<usize, AppError> {
        let folder = self.target_folder(&u.request).await?;
        let n = files.len();
        let then = super::landing(
            RequestUpload {
                request_id: u.request.row.id,
                uploader_id: u.row.id,
                note,
            },
            ts(self.clock.now()),
            true,
        );
        assets
            .store_upload_then(
                u.request.row.org_id,
                FolderRef::Uuid(folder),
                files,
                Visibility::Org,
                Some(then),
            )
            .await?;
        Ok(n)
    }
}
