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
    pub last_used_at: Option<i64>,
}

/// The keys of an org, or only those `made_by` made.
pub fn list_keys(
    c: &Connection,
    org_id: i64,
    made_by: Option<i64>,
) -> Result<Vec<KeyRow>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT k.id, k.name, k.prefix, u.email, k.created_at, k.last_used_at FROM api_keys k
         LEFT JOIN users u ON u.id = k.created_by
         WHERE k.org_id = ?1 AND (?2 IS NULL OR k.created_by = ?2) ORDER BY k.id",
    )?;
    let rows = stmt
        .query_map(params![org_id, made_by], |r| {
            Ok(KeyRow {
                id: r.get(0)?,
                name: r.get(1)?,
                prefix: r.get(2)?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
                last_used_at: r.get(5)?,
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

/// Revokes a key that `user_id` made; false if they made no such key.
pub fn delete_key_made_by(
    c: &Connection,
    org_id: i64,
    user_id: i64,
    id: i64,
) -> Result<bool, AppError> {
    Ok(c.execute(
        "DELETE FROM api_keys WHERE org_id = ?1 AND created_by = ?2 AND id = ?3",
        params![org_id, user_id, id],
    )? > 0)
}

/// Ends every API session of a user and every web session but `keep`.
pub fn end_other_sessions(c: &Connection, user_id: i64, keep: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM api_sessions WHERE user_id = ?1", [user_id])?;
    c.execute(
        "DELETE FROM web_sessions WHERE user_id = ?1 AND id != ?2",
        params![user_id, keep],
    )?;
    Ok(())
}

/// A user's password hash.
pub fn password_hash(c: &Connection, user_id: i64) -> Result<Option<String>, AppError> {
    Ok(c.query_row(
        "SELECT password_hash FROM users WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()?)
}

/// Records that the key with this hash authenticated at `at`.
pub fn touch_key(c: &Connection, key_hash: &str, at: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1",
        params![key_hash, at],
    )?;
    Ok(())
}

/// A user of an org, by uuid, as the admin page acts on it.
#[derive(Debug, Clone)]
pub struct OrgUser {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
}

pub fn user_in_org(c: &Connection, org_id: i64, uuid: &str) -> Result<Option<OrgUser>, AppError> {
    Ok(c.query_row(
        "SELECT id, email, is_admin, disabled FROM users WHERE org_id = ?1 AND uuid = ?2",
        params![org_id, uuid],
        |r| {
            Ok(OrgUser {
                id: r.get(0)?,
                email: r.get(1)?,
                is_admin: r.get(2)?,
                disabled: r.get(3)?,
            })
        },
    )
    .optional()?)
}

/// Whether a user is an admin who is not disabled.
pub fn is_active_admin(c: &Connection, user_id: i64) -> Result<bool, AppError> {
    Ok(c.query_row(
        "SELECT is_admin AND NOT disabled FROM users WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()?
    .unwrap_or(false))
}

/// How many admins of an org, other than `except`, are not disabled.
pub fn other_active_admins(c: &Connection, org_id: i64, except: i64) -> Result<i64, AppError> {
    Ok(c.query_row(
        "SELECT COUNT(*) FROM users
         WHERE org_id = ?1 AND id != ?2 AND is_admin = 1 AND disabled = 0",
        params![org_id, except],
        |r| r.get(0),
    )?)
}

pub fn set_admin(c: &Connection, user_id: i64, admin: bool) -> Result<(), AppError> {
    c.execute(
        "UPDATE users SET is_admin = ?2 WHERE id = ?1",
        params![user_id, admin],
    )?;
    Ok(())
}
