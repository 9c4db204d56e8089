//! Credentials -> Principal; orgs, users and API keys; API login sessions.
//! Secrets: passwords are argon2id (on the blocking pool), API keys and tokens are 256 random
//! bits stored as SHA-256, looked up by that hash so no secret is ever compared byte by byte.

use crate::clock::Clock;
use crate::db::{self, assets, orgs, Db};
use crate::domain::throttle;
use crate::domain::types::{Email, NewPassword, OrgToken};
use crate::error::AppError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use uuid::Uuid;

/// Access tokens live an hour; the session (and its refresh token) at most 30 days.
pub const ACCESS_TOKEN_SECS: i64 = 3600;
pub const SESSION_SECS: i64 = 30 * 24 * 3600;

/// 32 random bytes, URL-safe, behind a prefix that says what the secret is.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Hex SHA-256: how keys and tokens are stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// At most one argon2 run a core at a time. Each holds a 19 MiB block, so 32 password checks
/// at once took the server to 570 MiB; more at once than cores are no faster anyway. Waiting
/// here is async, so no thread of the blocking pool (shared with the database and file reads)
/// sits idle in the queue.
static ARGON2_GATE: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
});

/// A turn at argon2. Hold it over the throttle check, the run and the failure count, so
/// parallel guesses cannot all pass the check before any failure is counted.
pub async fn argon2_turn() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    ARGON2_GATE
        .acquire()
        .await
        .map_err(|e| AppError::internal(format!("argon2 gate: {e}")))
}

/// Verified against when the email is unknown, so both cases cost one argon2 run.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no such user, no such password").unwrap_or_default());

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    ApiKey(String),
    Bearer(String),
}

/// API.md: an empty header is absent; `Authorization` wins over `X-Filerobot-Key`; schemes are
/// case-insensitive and other schemes count as none.
pub fn credential_from_headers(
    authorization: Option<&str>,
    filerobot_key: Option<&str>,
) -> Option<Credential> {
    let from_authorization = authorization.and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        let value = rest.trim();
        if value.is_empty() {
            return None;
        }
        match scheme.to_ascii_lowercase().as_str() {
            "apikey" => Some(Credential::ApiKey(value.to_string())),
            "bearer" => Some(Credential::Bearer(value.to_string())),
            _ => None,
        }
    });
    from_authorization.or_else(|| {
        filerobot_key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| Credential::ApiKey(k.to_string()))
    })
}

/// Who is calling: an org, and the user when the credential is a user's access token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: i64,
    pub org_token: String,
    pub user: Option<PrincipalUser>,
}

#[derive(Debug, Clone)]
pub struct PrincipalUser {
    pub id: i64,
    pub uuid: String,
    pub email: String,
    pub session_id: i64,
}

/// Who is calling: API keys, API sessions, web sessions.
#[derive(Clone)]
pub struct AuthService {
    db: Db,
    clock: Clock,
    /// When each key's use was last written (by its hash): `last_used_at` is written at most
    /// once a minute per key, not on every request.
    key_uses: Arc<Mutex<HashMap<String, i64>>>,
}

/// How often a key's `last_used_at` is written at most.
pub const KEY_USE_SECS: i64 = 60;

impl AuthService {
    pub fn new(db: Db, clock: Clock) -> AuthService {
        AuthService {
            db,
            clock,
            key_uses: Arc::default(),
        }
    }

    /// Records that the key `hash` authenticated at `now`, unless it was recorded less than
    /// a minute ago. A failed write is logged: it never fails the request.
    async fn note_key_use(&self, hash: String, now: i64) {
        {
            let Ok(mut seen) = self.key_uses.lock() else {
                return;
            };
            if seen
                .get(&hash)
                .is_some_and(|&t| (t..t + KEY_USE_SECS).contains(&now))
            {
                return;
            }
            seen.insert(hash.clone(), now);
        }
        let written = self
            .db
            .write(move |tx| crate::db::accounts::touch_key(tx, &hash, now))
            .await;
        if let Err(e) = written {
            tracing::warn!("recording a key's use: {e}");
        }
    }

    pub async fn authenticate(
        &self,
        credential: Option<Credential>,
    ) -> Result<Principal, AppError> {
        let now = self.clock.now();
        let now = db::ts(now);
        match credential {
            None => Err(AppError::Unauthenticated),
            Some(Credential::ApiKey(key)) => {
                let hash = hash_secret(&key);
                let found = hash.clone();
                let org = self.db.read(move |c| orgs::find_key_org(c, &found)).await?;
                let org = org.ok_or(AppError::InvalidKey)?;
                self.note_key_use(hash, now).await;
                Ok(Principal {
                    org_id: org.id,
                    org_token: org.token,
                    user: None,
                })
            }
            Some(Credential::Bearer(token)) => {
                let hash = hash_secret(&token);
                let row = self
                    .db
                    .read(move |c| orgs::find_access_token(c, &hash))
                    .await?;
                let row = row.ok_or(AppError::InvalidToken)?;
                if row.expires_at <= now {
                    return Err(AppError::KeyExpired);
                }
                Ok(Principal {
                    org_id: row.user.org_id,
                    org_token: row.user.org_token,
                    user: Some(PrincipalUser {
                        id: row.user.id,
                        uuid: row.user.uuid,
                        email: row.user.email,
                        session_id: row.session_id,
                    }),
                })
            }
        }
    }

    /// Whether `key` is an API key of the org `token` (`/v4/key/info`).
    pub async fn key_belongs_to(&self, key: &str, token: &str) -> Result<bool, AppError> {
        let hash = hash_secret(key);
        let token = token.to_string();
        let org = self.db.read(move |c| orgs::find_key_org(c, &hash)).await?;
        Ok(org.is_some_and(|o| o.token == token))
    }

    /// Checks an email and password, throttled per (email, client address) and per client
    /// address, never per email alone: the one counter that API and web login share.
    async fn check_credentials(
        &self,
        username: &str,
        password: &str,
        addr: &str,
    ) -> Result<orgs::UserRow, AppError> {
        let now = self.clock.now();
        let keys = vec![
            throttle::email_addr_key(username, addr),
            throttle::addr_key(addr),
        ];
        let _turn = argon2_turn().await?;
        throttle::check(&self.db, keys.clone(), now).await?;
        let email = username.trim().to_string();
        let user = self
            .db
            .read(move |c| orgs::find_user_by_email(c, &email))
            .await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_string();
        let ok = crate::db::blocking(move || {
            verify_password(stored.as_deref().unwrap_or(&DUMMY_HASH), &password)
        })
        .await?;
        // A disabled user signs in no more than a wrong password does, and learns nothing more.
        let user = match (user, ok) {
            (Some(u), true) if !u.disabled => u,
            _ => {
                throttle::fail(&self.db, keys, now).await?;
                return Err(AppError::InvalidCredentials);
            }
        };
        Ok(user)
    }

    /// API login: an API session with its access and refresh tokens.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        addr: &str,
    ) -> Result<Grant, AppError> {
        let now = self.clock.now();
        let user = self.check_credentials(username, password, addr).await?;
        let access = new_secret("sba_");
        let refresh = new_secret("sbr_");
        let (access_hash, refresh_hash) = (hash_secret(&access), hash_secret(&refresh));
        let t = db::ts(now);
        let user_id = user.id;
        self.db
            .write(move |tx| {
                let sid = orgs::insert_session(tx, user_id, &refresh_hash, t, t + SESSION_SECS)?;
                orgs::replace_access_token(tx, sid, &access_hash, t + ACCESS_TOKEN_SECS)
            })
            .await?;
        Ok(Grant {
            access_token: access,
            refresh_token: refresh,
            user_uuid: user.uuid,
            email: user.email,
            org_token: user.org_token,
        })
    }

    /// A new access token for the session of `refresh_token`; the previous one stops working.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Grant, AppError> {
        let now = self.clock.now();
        let refresh_hash = hash_secret(refresh_token);
        let access = new_secret("sba_");
        let access_hash = hash_secret(&access);
        let t = db::ts(now);
        let user = self
            .db
            .write(move |tx| {
                let (sid, user) = orgs::find_session_by_refresh(tx, &refresh_hash, t)?
                    .ok_or(AppError::InvalidRefreshToken)?;
                orgs::replace_access_token(tx, sid, &access_hash, t + ACCESS_TOKEN_SECS)?;
                Ok(user)
            })
            .await?;
        Ok(Grant {
            access_token: access,
            refresh_token: refresh_token.to_string(),
            user_uuid: user.uuid,
            email: user.email,
            org_token: user.org_token,
        })
    }

    /// Ends the Bearer's session (its access and refresh tokens); an API key has none to end.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AppError> {
        if let Some(user) = &principal.user {
            let sid = user.session_id;
            self.db
                .write(move |tx| orgs::delete_session(tx, sid))
                .await?;
        }
        Ok(())
    }

    /// Web sign-in: a new session (a new id at every sign-in); returns (cookie value, user).
    pub async fn web_login(
        &self,
        username: &str,
        password: &str,
        addr: &str,
    ) -> Result<String, AppError> {
        let now = self.clock.now();
        let user = self.check_credentials(username, password, addr).await?;
        let sid = new_secret("sbw_");
        let (hash, csrf, t) = (hash_secret(&sid), new_secret(""), db::ts(now));
        self.db
            .write(move |tx| {
                orgs::insert_web_session(tx, user.id, &hash, &csrf, t, t + WEB_SESSION_SECS)
            })
            .await?;
        Ok(sid)
    }

    /// The user of a live web session cookie.
    pub async fn web_session(&self, cookie: &str) -> Result<Option<WebUser>, AppError> {
        let now = self.clock.now();
        let hash = hash_secret(cookie);
        let t = db::ts(now);
        let row = self
            .db
            .read(move |c| orgs::find_web_session(c, &hash, t))
            .await?;
        Ok(row.map(|r| WebUser {
            session_id: r.session_id,
            user_id: r.user_id,
            uuid: r.uuid,
            email: r.email,
            org_id: r.org_id,
            org_token: r.org_token,
            csrf: r.csrf,
        }))
    }

    pub async fn web_logout(&self, session_id: i64) -> Result<(), AppError> {
        self.db
            .write(move |tx| orgs::delete_web_session(tx, session_id))
            .await
    }
}

/// What a login or refresh hands out.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
    pub user_uuid: String,
    pub email: String,
    pub org_token: String,
}

/// Web sessions last a week from sign-in.
pub const WEB_SESSION_SECS: i64 = 7 * 24 * 3600;

/// A signed-in web user, with the CSRF token bound to their session.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub session_id: i64,
    pub user_id: i64,
    pub uuid: String,
    pub email: String,
    pub org_id: i64,
    pub org_token: String,
    pub csrf: String,
}

/// Compares a submitted CSRF token with the session's, in constant time.
pub fn csrf_ok(user: &WebUser, submitted: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    submitted.is_some_and(|s| {
        s.len() == user.csrf.len() && bool::from(s.as_bytes().ct_eq(user.csrf.as_bytes()))
    })
}

/// What `org create` made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedOrg {
    pub uuid: String,
    pub token: String,
    pub admin: Option<CreatedUser>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedUser {
    pub uuid: String,
    pub email: String,
    pub org: String,
    pub admin: bool,
}

/// Creates an org with its root folder and, if given, its first admin. Blocking (argon2).
pub fn create_org(
    db: &Db,
    token: &OrgToken,
    admin: Option<(&Email, &NewPassword)>,
    now: DateTime<Utc>,
) -> Result<CreatedOrg, AppError> {
    let admin_hash = admin.map(|(_, p)| hash_password(p.expose())).transpose()?;
    let t = db::ts(now);
    let org_uuid = Uuid::new_v4().to_string();
    let user_uuid = Uuid::new_v4().to_string();
    // The write runs on the writer thread: it takes owned copies.
    let token = token.clone();
    let admin_email = admin.map(|(email, _)| email.clone());
    db.write_sync(move |tx| {
        if orgs::find_org_by_token(tx, token.as_str())?.is_some() {
            return Err(AppError::invalid(
                "token",
                format!("an org with the token '{token}' exists already"),
            ));
        }
        let secret = new_secret("");
        let org_id = orgs::insert_org(tx, &org_uuid, token.as_str(), &secret, t)?;
        assets::insert_root_folder(tx, org_id, &Uuid::new_v4().to_string(), t)?;
        let admin = match (admin_email, &admin_hash) {
            (Some(email), Some(hash)) => {
                ensure_email_free(tx, &email)?;
                orgs::insert_user(tx, &user_uuid, org_id, email.as_str(), hash, true, t)?;
                Some(CreatedUser {
                    uuid: user_uuid.clone(),
                    email: email.to_string(),
                    org: token.to_string(),
                    admin: true,
                })
            }
            _ => None,
        };
        Ok(CreatedOrg {
            uuid: org_uuid.clone(),
            token: token.to_string(),
            admin,
        })
    })
}

fn ensure_email_free(c: &r2d2_sqlite::rusqlite::Connection, email: &Email) -> Result<(), AppError> {
    if orgs::find_user_by_email(c, email.as_str())?.is_some() {
        return Err(AppError::invalid(
            "email",
            format!("a user with the email '{email}' exists already"),
        ));
    }
    Ok(())
}

pub(crate) fn org_by_token(
    c: &r2d2_sqlite::rusqlite::Connection,
    token: &str,
) -> Result<orgs::OrgRow, AppError> {
    orgs::find_org_by_token(c, token)?.ok_or_else(|| {
        AppError::invalid("org", format!("there is no org with the token '{token}'"))
    })
}

/// Creates a user in an existing org. Blocking (argon2).
pub fn create_user(
    db: &Db,
    org: &str,
    email: &Email,
    password: &NewPassword,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<CreatedUser, AppError> {
    let hash = hash_password(password.expose())?;
    let uuid = Uuid::new_v4().to_string();
    let t = db::ts(now);
    let (org, email) = (org.to_string(), email.clone());
    db.write_sync(move |tx| {
        let org = org_by_token(tx, &org)?;
        ensure_email_free(tx, &email)?;
        orgs::insert_user(tx, &uuid, org.id, email.as_str(), &hash, admin, t)?;
        Ok(CreatedUser {
            uuid: uuid.clone(),
            email: email.to_string(),
            org: org.token,
            admin,
        })
    })
}

/// The start of a key that tells it apart in lists (`sbk_` and 8 characters): 48 bits, far
/// too few to guess the key from.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(12).collect()
}

/// Creates an API key for an org and returns it: the only time it is ever seen.
pub fn create_key(db: &Db, org: &str, name: &str, now: DateTime<Utc>) -> Result<String, AppError> {
    let key = new_secret("sbk_");
    let hash = hash_secret(&key);
    let (org, name, key_shown) = (org.to_string(), name.to_string(), key.clone());
    db.write_sync(move |tx| {
        let org = org_by_token(tx, &org)?;
        orgs::insert_key(
            tx,
            org.id,
            &name,
            &hash,
            &key_prefix(&key_shown),
            None,
            db::ts(now),
        )
    })?;
    Ok(key)
}

/// What the first start on an empty data dir made, to print once.
pub struct Bootstrap {
    pub org: String,
    pub email: String,
    pub password: String,
    pub api_key: String,
}

pub const DEFAULT_ORG: &str = "default";
pub const DEFAULT_ADMIN: &str = "admin@localhost";

/// On a data dir without orgs: org `default`, admin `admin@localhost` with a random password,
/// and an API key. None when the data dir has an org already.
pub fn bootstrap_if_empty(db: &Db, now: DateTime<Utc>) -> Result<Option<Bootstrap>, AppError> {
    if db.read_sync(orgs::count_orgs)? > 0 {
        return Ok(None);
    }
    let token = OrgToken::parse(DEFAULT_ORG)?;
    let email = Email::parse("email", DEFAULT_ADMIN)?;
    let password = new_secret("")[..20].to_string();
    create_org(
        db,
        &token,
        Some((&email, &NewPassword::parse("password", &password)?)),
        now,
    )?;
    let api_key = create_key(db, DEFAULT_ORG, "default", now)?;
    Ok(Some(Bootstrap {
        org: DEFAULT_ORG.into(),
        email: DEFAULT_ADMIN.into(),
        password,
        api_key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_precedence() {
        use Credential::*;
        let c = credential_from_headers;
        assert_eq!(c(None, None), None);
        assert_eq!(c(Some(""), Some("")), None);
        assert_eq!(c(None, Some("k1")), Some(ApiKey("k1".into())));
        assert_eq!(c(Some("ApiKey k2"), Some("k1")), Some(ApiKey("k2".into())));
        assert_eq!(c(Some("apikey k2"), None), Some(ApiKey("k2".into())));
        assert_eq!(c(Some("BEARER t"), Some("k1")), Some(Bearer("t".into())));
        assert_eq!(c(Some("Basic abc"), Some("k1")), Some(ApiKey("k1".into())));
        assert_eq!(c(Some("Basic abc"), None), None);
        assert_eq!(c(Some("Bearer "), None), None);
    }

    #[test]
    fn secrets_are_long_and_hashed() {
        let a = new_secret("sbk_");
        assert!(a.starts_with("sbk_") && a.len() >= 4 + 43);
        assert_ne!(a, new_secret("sbk_"));
        assert_eq!(hash_secret(&a).len(), 64);
    }
}
