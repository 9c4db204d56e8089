//! The one throttle, used by API login, web login, share unlock and the sharebox reader:
//! while a key has its limit or more failures in the last `WINDOW`, every attempt on it is
//! refused (the right password too) with 429 and `Retry-After`. Failures are kept in SQLite so
//! they hold across restarts and processes.
//!
//! Every key names the client address (`api::client`), so nobody elsewhere can lock a user
//! out: login counts per (email, address) and per address; unlock and the reader per (share,
//! address). No count is kept per email alone.

use crate::db::{self, orgs, Db};
use crate::error::AppError;
use chrono::{DateTime, Utc};

pub const LIMIT: usize = 10;
/// Login failures from one address across all emails.
pub const ADDR_LIMIT: usize = 50;
pub const WINDOW_SECS: i64 = 15 * 60;

/// A throttle key and how many failures in the window close it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub limit: usize,
}

/// Throttle keys: an email from an address, an address, a share from an address.
pub fn email_addr_key(email: &str, addr: &str) -> Key {
    Key {
        name: format!("email:{}|addr:{addr}", email.trim().to_lowercase()),
        limit: LIMIT,
    }
}
pub fn addr_key(addr: &str) -> Key {
    Key {
        name: format!("addr:{addr}"),
        limit: ADDR_LIMIT,
    }
}
/// A signed-in user's guesses at their own current password (changing it needs it): only they
/// can be slowed by them.
pub fn own_password_key(user_id: i64) -> Key {
    Key {
        name: format!("passwd:{user_id}"),
        limit: LIMIT,
    }
}
pub fn share_addr_key(share_id: &str, addr: &str) -> Key {
    Key {
        name: format!("share:{share_id}|addr:{addr}"),
        limit: LIMIT,
    }
}

/// Seconds until `failures` (unix seconds, oldest first, all within the window) drop below the
/// limit, or None if they already are below it.
pub fn retry_after(failures: &[i64], now: i64) -> Option<u64> {
    retry_after_limit(failures, now, LIMIT)
}

/// `retry_after` for a key closed by `limit` failures.
pub fn retry_after_limit(failures: &[i64], now: i64, limit: usize) -> Option<u64> {
    if limit == 0 || failures.len() < limit {
        return None;
    }
    // The attempt is allowed again once all but limit-1 of them have aged out.
    let deciding = failures[failures.len() - limit];
    Some((deciding + WINDOW_SECS - now).max(1) as u64)
}

/// Refuses with 429 if any of `keys` is throttled at `now`.
pub async fn check(db: &Db, keys: Vec<Key>, now: DateTime<Utc>) -> Result<(), AppError> {
    let now = db::ts(now);
    let wait = db
        .read(move |c| {
            let mut wait: Option<u64> = None;
            for key in &keys {
                let failures = orgs::failures_since(c, &key.name, now - WINDOW_SECS)?;
                if let Some(w) = retry_after_limit(&failures, now, key.limit) {
                    wait = Some(wait.map_or(w, |x| x.max(w)));
                }
            }
            Ok(wait)
        })
        .await?;
    match wait {
        Some(retry_after) => Err(AppError::TooManyAttempts { retry_after }),
        None => Ok(()),
    }
}

/// Counts one failure against each of `keys`.
pub async fn fail(db: &Db, keys: Vec<Key>, now: DateTime<Utc>) -> Result<(), AppError> {
    let now = db::ts(now);
    db.write(move |tx| {
        for key in &keys {
            orgs::record_failure(tx, &key.name, now, now - WINDOW_SECS)?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_retry_after() {
        let now = 10_000;
        let nine: Vec<i64> = (0..9).map(|i| now - 100 + i).collect();
        assert_eq!(retry_after(&nine, now), None);
        let ten: Vec<i64> = (0..10).map(|i| now - 100 + i).collect();
        // The oldest failure is 100 s old: 800 s until it is 15 minutes old.
        assert_eq!(retry_after(&ten, now), Some(800));
        let eleven: Vec<i64> = (0..11).map(|i| now - 100 + i).collect();
        assert_eq!(retry_after(&eleven, now), Some(801));
    }

    #[test]
    fn keys_name_the_address() {
        let a = email_addr_key(" Admin@X.test ", "10.0.0.1");
        assert_eq!(a, email_addr_key("admin@x.test", "10.0.0.1"));
        assert_ne!(a, email_addr_key("admin@x.test", "10.0.0.2"));
        assert_ne!(addr_key("10.0.0.1"), addr_key("10.0.0.2"));
        let fifty: Vec<i64> = (0..50).map(|i| 10_000 - 100 + i).collect();
        assert_eq!(retry_after_limit(&fifty[..49], 10_000, 50), None);
        assert_eq!(retry_after_limit(&fifty, 10_000, 50), Some(800));
    }
}
