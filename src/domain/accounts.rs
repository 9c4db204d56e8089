//! Accounts from the command line: list users, set a password, disable or enable a user, list
//! and revoke API keys. Each works whether or not a server runs on the same data dir (the CLI
//! writes through its own writer; SQLite's busy timeout orders it with the server's).

use crate::db::{self, accounts as q, Db};
use crate::domain::auth::{hash_password, org_by_token};
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
            .map(|u| UserInfo {
                uuid: u.uuid,
                org: u.org_token,
                email: u.email,
                admin: u.is_admin,
                disabled: u.disabled,
                created_at: db::from_ts(u.created_at),
            })
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
}

pub fn list_keys(db: &Db, org: &str) -> Result<Vec<KeyInfo>, AppError> {
    let org = org.to_string();
    db.read_sync(move |c| {
        let org = org_by_token(c, &org)?;
        Ok(q::list_keys(c, org.id)?
            .into_iter()
            .map(|k| KeyInfo {
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                created_by: k.created_by,
                created_at: db::from_ts(k.created_at),
            })
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
