//! Accounts from the command line: list users, set a password, disable or enable a user, list
//! and revoke API keys. Each works whether or not a server runs on the same data dir (the CLI
//! writes through its own writer; SQLite's busy timeout orders it with the server's).

use crate::db::{self, accounts as q, orgs, Db};
use crate::domain::auth::{
    argon2_turn, hash_password, hash_secret, key_prefix, new_secret, org_by_token, verify_password,
    WebUser,
};
use crate::domain::throttle;
use crate::domain::types::{Email, NewPassword};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    pub uuid: String,
    pub org: String,
    pub email: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<q::UserListRow> for UserInfo {
    fn from(u: q::UserListRow) -> UserInfo {
        UserInfo {
            uuid: u.uuid,
            org: u.org_token,
            email: u.email,
            admin: u.is_admin,
            disabled: u.disabled,
            created_at: db::from_ts(u.created_at),
        }
    }
}

/// Every user, or those of the org `org`.
pub fn list_users(db: &Db, org: Option<&str>) -> Result<Vec<UserInfo>, AppError> {
    let org = org.map(str::to_string);
    db.read_sync(move |c| {
        let org_id = match &org {
            Some(t) => Some(org_by_token(c, t)?.id),
            None => None,
        };
        Ok(q::list_users(c, org_id)?
            .into_iter()
            .map(UserInfo::from)
            .collect())
    })
}

fn user_id(c: &r2d2_sqlite::rusqlite::Connection, email: &Email) -> Result<i64, AppError> {
    q::user_id_by_email(c, email.as_str())?
        .ok_or_else(|| AppError::invalid("email", format!("there is no user '{email}'")))
}

/// Sets a user's password and ends every session and token they have. Blocking (argon2).
pub fn set_password(db: &Db, email: &Email, password: &NewPassword) -> Result<(), AppError> {
    let hash = hash_password(password.expose())?;
    let email = email.clone();
    db.write_sync(move |tx| {
        let id = user_id(tx, &email)?;
        q::set_password(tx, id, &hash)?;
        q::end_sessions(tx, id)
    })
}

/// Disables a user (their sessions, tokens and the keys they made end at once), or enables
/// them again (the keys stay revoked). Returns how many keys were revoked.
pub fn set_disabled(db: &Db, email: &Email, disabled: bool) -> Result<usize, AppError> {
    let email = email.clone();
    db.write_sync(move |tx| {
        let id = user_id(tx, &email)?;
        q::set_disabled(tx, id, disabled)?;
        if !disabled {
            return Ok(0);
        }
        q::end_sessions(tx, id)?;
        q::delete_keys_made_by(tx, id)
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    /// The key's first characters; null for keys made before they were kept.
    pub prefix: Option<String>,
    /// The email of who made it; null for keys made with the CLI.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it last authenticated, to the minute; null: never since this was kept.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<q::KeyRow> for KeyInfo {
    fn from(k: q::KeyRow) -> KeyInfo {
        KeyInfo {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_by: k.created_by,
            created_at: db::from_ts(k.created_at),
            last_used_at: k.last_used_at.map(db::from_ts),
        }
    }
}

pub fn list_keys(db: &Db, org: &str) -> Result<Vec<KeyInfo>, AppError> {
    let org = org.to_string();
    db.read_sync(move |c| {
        let org = org_by_token(c, &org)?;
        Ok(q::list_keys(c, org.id, None)?
            .into_iter()
            .map(KeyInfo::from)
            .collect())
    })
}

/// Revokes the org's key `id`: its next request fails in both dialects.
pub fn revoke_key(db: &Db, org: &str, id: i64) -> Result<(), AppError> {
    let org = org.to_string();
    db.write_sync(move |tx| {
        let org = org_by_token(tx, &org)?;
        if q::delete_key(tx, org.id, id)? {
            Ok(())
        } else {
            Err(AppError::not_found(format!(
                "The key {id} of '{}'",
                org.token
            )))
        }
    })
}

/// A key's name: 1 to this many characters.
pub const KEY_NAME_MAX: usize = 100;

fn key_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > KEY_NAME_MAX {
        return Err(AppError::invalid(
            "name",
            format!("a key's name has 1 to {KEY_NAME_MAX} characters"),
        ));
    }
    Ok(name.to_string())
}

/// The signed-in user's own account, the org admin's page, and set-password links: the
/// async side of accounts (the CLI's side is the free functions above).
#[derive(Clone)]
pub struct AccountService {
    pub(in crate::domain) db: Db,
}

impl AccountService {
    pub fn new(db: Db) -> AccountService {
        AccountService { db }
    }

    /// The signed-in user changes their own password. The current one is required, its failures
    /// counted like a sign-in's (per user, so a stolen session cannot guess it fast). Every other
    /// session of theirs, web or API (and so its token), ends; this one stays.
    pub async fn change_own_password(
        &self,
        user: &WebUser,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let new = NewPassword::parse("new_password", new)?;
        let uid = user.user_id;
        let keys = vec![throttle::own_password_key(uid)];
        let _turn = argon2_turn().await?;
        throttle::check(&self.db, keys.clone(), now).await?;
        let stored = self
            .db
            .read(move |c| q::password_hash(c, uid))
            .await?
            .unwrap_or_default();
        let current = current.to_string();
        let ok = db::blocking(move || verify_password(&stored, &current)).await?;
        if !ok {
            throttle::fail(&self.db, keys, now).await?;
            return Err(AppError::invalid(
                "current_password",
                "that is not your current password",
            ));
        }
        let hash = db::blocking(move || hash_password(new.expose())).await??;
        let keep = user.session_id;
        self.db
            .write(move |tx| {
                q::set_password(tx, uid, &hash)?;
                q::end_other_sessions(tx, uid, keep)
            })
            .await
    }

    /// The keys the signed-in user made.
    pub async fn own_keys(&self, user: &WebUser) -> Result<Vec<KeyInfo>, AppError> {
        let (org, uid) = (user.org_id, user.user_id);
        let rows = self
            .db
            .read(move |c| q::list_keys(c, org, Some(uid)))
            .await?;
        Ok(rows.into_iter().map(KeyInfo::from).collect())
    }

    /// A new org key made by the signed-in user (`created_by`); returned once, stored as SHA-256.
    pub async fn create_own_key(
        &self,
        user: &WebUser,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let name = key_name(name)?;
        let key = new_secret("sbk_");
        let (hash, prefix) = (hash_secret(&key), key_prefix(&key));
        let (org, uid, t) = (user.org_id, user.user_id, db::ts(now));
        self.db
            .write(move |tx| orgs::insert_key(tx, org, &name, &hash, &prefix, Some(uid), t))
            .await?;
        Ok(key)
    }

    /// Revokes a key the signed-in user made: its next request fails in both dialects.
    pub async fn revoke_own_key(&self, user: &WebUser, id: i64) -> Result<(), AppError> {
        let (org, uid) = (user.org_id, user.user_id);
        if self
            .db
            .write(move |tx| q::delete_key_made_by(tx, org, uid, id))
            .await?
        {
            Ok(())
        } else {
            Err(AppError::not_found(format!("Your key {id}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::orgs;
    use crate::domain::types::OrgToken;

    /// Disabling a user revokes the keys they made, and only those.
    #[test]
    fn disabling_revokes_the_keys_the_user_made() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let now = Utc::now();
        let email = Email::parse("e", "dev@acme.example").unwrap();
        let password = NewPassword::parse("p", "a long password").unwrap();
        let token = OrgToken::parse("acme").unwrap();
        crate::domain::auth::create_org(&db, &token, Some((&email, &password)), now).unwrap();
        crate::domain::auth::create_key(&db, "acme", "cli", now).unwrap();
        db.write_sync(|tx| {
            let org = org_by_token(tx, "acme")?;
            let uid = q::user_id_by_email(tx, "dev@acme.example")?.unwrap_or_default();
            orgs::insert_key(tx, org.id, "mine", "hash-of-mine", "sbk_mine", Some(uid), 0)
        })
        .unwrap();
        let names = |db: &Db| -> Vec<String> {
            list_keys(db, "acme")
                .unwrap()
                .into_iter()
                .map(|k| k.name)
                .collect()
        };
        assert_eq!(names(&db), ["cli", "mine"]);
        assert_eq!(set_disabled(&db, &email, true).unwrap(), 1);
        assert_eq!(names(&db), ["cli"]);
        assert_eq!(set_disabled(&db, &email, false).unwrap(), 0);
        assert_eq!(names(&db), ["cli"]);
    }
}
