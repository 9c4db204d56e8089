//! Opening a share: the public pages and the sharebox reader call `ShareService::open` on every
//! request. It alone decides whether a visitor gets in: state, users, password, throttle.

use super::cache::Cached;
use super::model::{load, refresh, Access};
use super::service::ShareService;
use super::tree::{top_in, Top};
use super::{Share, USER_AGENT_MAX};
use crate::db::shares::{self as q, ActivityRow};
use crate::db::ts;
use crate::domain::auth::{argon2_turn, verify_password};
use crate::domain::throttle;
use crate::domain::unlock::UnlockKey;
use crate::domain::window::{self, State};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Who is knocking, and with what.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    /// Passwords to try, in order (the reader tries a twice-decoded form too).
    pub passwords: Vec<String>,
    pub unlock_token: Option<String>,
    /// The signed-in web user or the Bearer's user.
    pub user_id: Option<i64>,
    pub addr: String,
    pub user_agent: String,
}

/// Why a share does not open, in the order the checks run.
#[derive(Debug, Clone)]
pub enum Denied {
    /// Unknown, deleted, revoked, or of another org.
    NotFound,
    NotStarted {
        starts_at: DateTime<Utc>,
        tz: String,
        shown: bool,
    },
    Expired,
    Exhausted,
    /// A `users` share and no signed-in user.
    NeedsLogin,
    /// A `users` share and a user not listed.
    NotListed,
    PasswordRequired,
    WrongPassword,
    Throttled(u64),
}

impl From<Denied> for AppError {
    /// API.md's mapping: 404 unknown/deleted/revoked, 403 not started or not a listed user, 410
    /// expired or exhausted, 401 password, 429 throttled.
    fn from(d: Denied) -> AppError {
        match d {
            Denied::NotFound => AppError::not_found("The share"),
            Denied::NotStarted {
                starts_at,
                tz,
                shown,
            } => AppError::NotStarted(if shown {
                format!(
                    "This share opens on {}.",
                    window::display_in(starts_at, &tz)
                )
            } else {
                "This share is not open yet.".into()
            }),
            Denied::Expired => AppError::ShareExpired("This share has expired.".into()),
            Denied::Exhausted => {
                AppError::ShareExpired("This share has reached its download limit.".into())
            }
            Denied::NeedsLogin | Denied::NotListed => {
                AppError::Forbidden("This share is only for the users it lists, signed in.".into())
            }
            Denied::PasswordRequired => AppError::PasswordRequired,
            Denied::WrongPassword => AppError::WrongPassword,
            Denied::Throttled(retry_after) => AppError::TooManyAttempts { retry_after },
        }
    }
}

/// An open share: what a visitor may see, and an unlock token when a password was given.
#[derive(Debug, Clone)]
pub struct Opened {
    pub share: Share,
    /// Its items, named: what the pages and the zip start from.
    pub top: Arc<Top>,
    pub unlock_token: Option<String>,
    pub ip_hash: String,
}

fn ip_hash(secret: &str, addr: &str) -> String {
    let digest = Sha256::digest(format!("{secret}|{addr}").as_bytes());
    hex::encode(&digest[..8])
}

pub(super) fn activity_row(
    share_id: i64,
    kind: &'static str,
    file_uuid: Option<String>,
    ip_hash: &str,
    user_agent: &str,
    now: DateTime<Utc>,
) -> ActivityRow {
    ActivityRow {
        share_id,
        at: ts(now),
        kind,
        file_uuid,
        ip_hash: ip_hash.to_string(),
        user_agent: user_agent.chars().take(USER_AGENT_MAX).collect(),
    }
}

impl ShareService {
    /// What `open` needs of a share: from the cache while nothing was written since it was read,
    /// else from the database (and then kept). The moment's part is worked out afresh either way.
    async fn read_for_open(
        &self,
        puid: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Cached>, Denied> {
        // Read before the database: a write committed meanwhile makes this entry stale at once.
        let generation = self.db.generation();
        if let Some(mut hit) = self.cache.get(puid, generation) {
            refresh(&mut hit.share, &self.counters, now);
            return Ok(Some(hit));
        }
        let (counters, base, p) = (
            self.counters.clone(),
            self.base_url.clone(),
            puid.to_string(),
        );
        let found = self
            .db
            .read(move |c| {
                let Some(row) = q::find_share_by_puid(c, &p)? else {
                    return Ok(None);
                };
                let secret = q::org_secret(c, row.org_id)?;
                let share = load(c, row, &counters, &base, now, false)?;
                // Only an active share can open; a closed one's items are not needed.
                let top = if share.state == State::Active {
                    Some(Arc::new(top_in(c, &share)?))
                } else {
                    None
                };
                Ok(Some(Cached { share, secret, top }))
            })
            .await
            .map_err(open_failed)?;
        if let Some(found) = &found {
            self.cache.put(puid, generation, found.clone());
        }
        Ok(found)
    }

    /// The one gate: every public route and the reader call this on every request.
    /// `org_token`: the org the route names, if any (the reader's `{token}`).
    pub async fn open(
        &self,
        puid: &str,
        org_token: Option<&str>,
        v: &Visitor,
    ) -> Result<Opened, Denied> {
        let now = self.clock.now();
        let Some(Cached { share, secret, top }) = self.read_for_open(puid, now).await? else {
            return Err(Denied::NotFound);
        };
        if org_token.is_some_and(|t| t != share.org_token) {
            return Err(Denied::NotFound);
        }
        match share.state {
            State::Revoked => return Err(Denied::NotFound),
            State::Scheduled => {
                return Err(Denied::NotStarted {
                    starts_at: share.starts_at.unwrap_or(now),
                    tz: share.starts_tz.clone(),
                    shown: share.show_starts_at,
                })
            }
            State::Expired => return Err(Denied::Expired),
            State::Exhausted => return Err(Denied::Exhausted),
            State::Active => {}
        }
        // Read while the share was closed (it opened since, with nothing written): read now.
        let top = match top {
            Some(t) => t,
            None => {
                let s = share.clone();
                let top = self.db.read(move |c| top_in(c, &s)).await;
                Arc::new(top.map_err(open_failed)?)
            }
        };
        if share.access == Access::Users {
            match v.user_id {
                None => return Err(Denied::NeedsLogin),
                Some(uid) if !share.user_ids.contains(&uid) => return Err(Denied::NotListed),
                Some(_) => {}
            }
        }
        let ip = ip_hash(&secret, &v.addr);
        let Some(hash) = share.row.password_hash.clone() else {
            return Ok(Opened {
                share,
                top,
                unlock_token: None,
                ip_hash: ip,
            });
        };
        let key: &UnlockKey = &self.unlock;
        let generation = share.row.password_gen;
        if let Some(t) = &v.unlock_token {
            if key.verify(t, &share.row.puid, generation, now) {
                return Ok(Opened {
                    unlock_token: Some(t.clone()),
                    share,
                    top,
                    ip_hash: ip,
                });
            }
        }
        if v.passwords.is_empty() {
            return Err(Denied::PasswordRequired);
        }
        let throttle_key = vec![throttle::share_addr_key(&share.uuid, &v.addr)];
        let _turn = argon2_turn().await.map_err(open_failed)?;
        match throttle::check(&self.db, throttle_key.clone(), now).await {
            Err(AppError::TooManyAttempts { retry_after }) => {
                return Err(Denied::Throttled(retry_after))
            }
            Err(e) => return Err(open_failed(e)),
            Ok(()) => {}
        }
        let candidates = v.passwords.clone();
        let ok = crate::db::blocking(move || candidates.iter().any(|p| verify_password(&hash, p)))
            .await
            .unwrap_or(false);
        if !ok {
            throttle::fail(&self.db, throttle_key, now)
                .await
                .map_err(open_failed)?;
            self.counters.event(activity_row(
                share.row.id,
                "unlock_failed",
                None,
                &ip,
                &v.user_agent,
                now,
            ));
            return Err(Denied::WrongPassword);
        }
        let token = key.issue(&share.row.puid, generation, now);
        Ok(Opened {
            share,
            top,
            unlock_token: Some(token),
            ip_hash: ip,
        })
    }

    /// Counts a view of an opened share.
    pub fn count_view(&self, o: &Opened, user_agent: &str) {
        self.counters.view(
            &o.share.row,
            activity_row(
                o.share.row.id,
                "view",
                None,
                &o.ip_hash,
                user_agent,
                self.clock.now(),
            ),
        );
    }

    /// Counts a download (the zip when `file_uuid` is None).
    pub fn count_download(&self, o: &Opened, file_uuid: Option<String>, user_agent: &str) {
        self.counters.download(
            &o.share.row,
            activity_row(
                o.share.row.id,
                "download",
                file_uuid,
                &o.ip_hash,
                user_agent,
                self.clock.now(),
            ),
        );
    }
}

fn open_failed(e: AppError) -> Denied {
    tracing::error!(error = %e, "opening a share failed");
    Denied::NotFound
}
