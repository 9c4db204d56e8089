//! The one throttle, used by API login, web login, share unlock and the sharebox reader:
//! while a key has `LIMIT` or more failures in the last `WINDOW`, every attempt on it is refused
//! (the right password too) with 429 and `Retry-After`. Failures are kept in SQLite so they
//! hold across restarts and processes.

use crate::db::{self, orgs, Db};
use crate::error::AppError;
use chrono::{DateTime, Utc};

pub const LIMIT: usize = 10;
pub const WINDOW_SECS: i64 = 15 * 60;

/// Throttle keys: an email, an address, a share from an address.
pub fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}
pub fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}
pub fn share_addr_key(share_id: &str, addr: &str) -> String {
    format!("share:{share_id}|addr:{addr}")
}

/// Seconds until `failures` (unix seconds, oldest first, all within the window) drop below the
/// limit, or None if they already are below it.
pub fn retry_after(failures: &[i64], now: i64) -> Option<u64> {
    if failures.len() < LIMIT {
        return None;
    }
    // The attempt is allowed again once all but LIMIT-1 of them have aged out.
    let deciding = failures[failures.len() - LIMIT];
    Some((deciding + WINDOW_SECS - now).max(1) as u64)
}

/// Refuses with 429 if any of `keys` is throttled at `now`.
pub async fn check(db: &Db, keys: Vec<String>, now: DateTime<Utc>) -> Result<(), AppError> {
    let now = db::ts(now);
    let wait = db
        .read(move |c| {
            let mut wait: Option<u64> = None;
            for key in &keys {
                let failures = orgs::failures_since(c, key, now - WINDOW_SECS)?;
                if let Some(w) = retry_after(&failures, now) {
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
pub async fn fail(db: &Db, keys: Vec<String>, now: DateTime<Utc>) -> Result<(), AppError> {
    let now = db::ts(now);
    db.write(move |tx| {
        for key in &keys {
            orgs::record_failure(tx, key, now, now - WINDOW_SECS)?;
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
}
