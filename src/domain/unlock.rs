//! Unlock tokens: proof that a visitor gave a share's password. HMAC-SHA256 over the share's
//! public id, its password generation and an expiry, with a key kept in the data dir. A new
//! password or a revoke moves the generation, so older tokens stop working at once.

use crate::error::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// How long an unlock lasts.
pub const UNLOCK_SECS: i64 = 12 * 3600;

/// The HMAC keyed once at start; each token clones it.
#[derive(Clone)]
pub struct UnlockKey(Hmac<Sha256>);

impl std::fmt::Debug for UnlockKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockKey(..)")
    }
}

impl UnlockKey {
    /// Reads the key from `path`, creating it (0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<UnlockKey, AppError> {
        if let Ok(text) = std::fs::read_to_string(path) {
            let bytes = hex::decode(text.trim())
                .map_err(|e| AppError::internal(format!("unlock key: {e}")))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| AppError::internal("unlock key: not 32 bytes"))?;
            return UnlockKey::keyed(&key);
        }
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        write_private(path, &hex::encode(key))?;
        UnlockKey::keyed(&key)
    }

    fn keyed(key: &[u8; 32]) -> Result<UnlockKey, AppError> {
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map(UnlockKey)
            .map_err(|e| AppError::internal(format!("unlock key: {e}")))
    }

    fn mac(&self, puid: &str, generation: i64, expires: i64) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(format!("{puid}|{generation}|{expires}").as_bytes());
        mac
    }

    /// A token for `puid` at `generation`, valid `UNLOCK_SECS` from `now`.
    pub fn issue(&self, puid: &str, generation: i64, now: DateTime<Utc>) -> String {
        let expires = now.timestamp() + UNLOCK_SECS;
        let tag = self.mac(puid, generation, expires).finalize().into_bytes();
        format!("{expires}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Whether `token` unlocks `puid` at its current `generation` at `now` (constant-time).
    pub fn verify(&self, token: &str, puid: &str, generation: i64, now: DateTime<Utc>) -> bool {
        let Some((exp, tag)) = token.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(tag)) = (exp.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return false;
        };
        if expires <= now.timestamp() || expires > now.timestamp() + UNLOCK_SECS {
            return false;
        }
        self.mac(puid, generation, expires)
            .verify_slice(&tag)
            .is_ok()
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), AppError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_share_generation_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let key = UnlockKey::load_or_create(&dir.path().join("k")).unwrap();
        let again = UnlockKey::load_or_create(&dir.path().join("k")).unwrap();
        let now = DateTime::parse_from_rfc3339("2031-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t = key.issue("p1", 3, now);
        assert!(key.verify(&t, "p1", 3, now));
        assert!(again.verify(&t, "p1", 3, now), "the key survives a restart");
        assert!(!key.verify(&t, "p2", 3, now));
        assert!(!key.verify(&t, "p1", 4, now));
        assert!(key.verify(
            &t,
            "p1",
            3,
            now + chrono::Duration::seconds(UNLOCK_SECS - 1)
        ));
        assert!(!key.verify(&t, "p1", 3, now + chrono::Duration::seconds(UNLOCK_SECS)));
        let other = UnlockKey::load_or_create(&dir.path().join("k2")).unwrap();
        assert!(!other.verify(&t, "p1", 3, now));
        assert!(!key.verify("garbage", "p1", 3, now));
        assert!(!key.verify(&format!("{}x", t), "p1", 3, now));
    }
}
