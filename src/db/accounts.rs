//! Users and API keys as the account commands see them: list, password, disable, revoke.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

/// A user as `user list` shows it.
#[derive(Debug, Clone)]
pub struct UserListRow {
    pub id: i64,
    pub uuid: String,
    pub org_token: String,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

/// Every user, or those of one org, by org then email.
pub fn list_users(c: &Connection, org_id: Option<i64>) -> Result<Vec<UserListRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT u.id, u.uuid, o.token, u.email, u.is_admin, u.disabled, u.created_at
         FROM users u JOIN orgs o ON o.id = u.org_id
         WHERE ?1 IS NULL OR u.org_id = ?1 ORDER BY o.token, u.email",
    )?;
    let rows = stmt
        .query_map([org_id], |r| {
            Ok(UserListRow {
                id: r.get(0)?,
                uuid: r.get(1)?,
                org_token: r.get(2)?,
                email: r.get(3)?,
                is_admin: r.get(4)?,
                disabled: r.get(5)?,
                created_at: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The id of the user with this email (any letter case).
pub fn user_id_by_email(c: &Connection, email: &str) -> Result<Option<i64>, AppError> {
    Ok(
        c.query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

pub fn set_password(c: &Connection, user_id: i64, hash: &str) -> Result<(), AppError> {
    c.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![user_id, hash],
    )?;
    Ok(())
}

pub fn set_disabled(c: &Connection, user_id: i64, disabled: bool) -> Result<(), AppError> {
    c.execute(
        "UPDATE users SET disabled = ?2 WHERE id = ?1",
        params![user_id, disabled],
    )?;
    Ok(())
}

/// Ends every API session (and so its access token) and web session of a user.
pub fn end_sessions(c: &Connection, user_id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM api_sessions WHERE user_id = ?1", [user_id])?;
    c.execute("DELETE FROM web_sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
}

/// Revokes the keys a user made.
pub fn delete_keys_made_by(c: &Connection, user_id: i64) -> Result<usize, AppError> {
    Ok(c.execute("DELETE FROM api_keys WHERE created_by = ?1", [user_id])?)
}

/// An API key as `key list` shows it: never the key itself.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

pub fn list_keys(c: &Connection, org_id: i64) -> Result<Vec<KeyRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT k.id, k.name, k.prefix, u.email, k.created_at FROM api_keys k
         LEFT JOIN users u ON u.id = k.created_by WHERE k.org_id = ?1 ORDER BY k.id",
    )?;
    let rows = stmt
        .query_map([org_id], |r| {
            Ok(KeyRow {
                id: r.get(0)?,
                name: r.get(1)?,
                prefix: r.get(2)?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Revokes a key of an org; false if the org has no such key.
pub fn delete_key(c: &Connection, org_id: i64, id: i64) -> Result<bool, AppError> {
    Ok(c.execute(
        "DELETE FROM api_keys WHERE org_id = ?1 AND id = ?2",
        params![org_id, id],
    )? > 0)
}
