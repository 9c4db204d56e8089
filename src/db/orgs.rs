//! Orgs, users, API keys, API sessions and access tokens, and the throttle's failure log.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{self, params, Connection, Row};

#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: i64,
    pub uuid: String,
    pub token: String,
    pub secret: String,
}

fn org_row(r: &Row) -> rusqlite::Result<OrgRow> {
    Ok(OrgRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        token: r.get(2)?,
        secret: r.get(3)?,
    })
}

pub fn count_orgs(c: &Connection) -> Result<i64, AppError> {
    Ok(c.query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))?)
}

pub fn find_org_by_token(c: &Connection, token: &str) -> Result<Option<OrgRow>, AppError> {
    Ok(c.query_row(
        "SELECT id, uuid, token, secret FROM orgs WHERE token = ?1",
        [token],
        org_row,
    )
    .optional()?)
}

pub fn insert_org(
    c: &Connection,
    uuid: &str,
    token: &str,
    secret: &str,
    now: i64,
) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO orgs (uuid, token, secret, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![uuid, token, secret, now],
    )?;
    Ok(c.last_insert_rowid())
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    pub org_token: String,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
}

const USER_COLS: &str =
    "u.id, u.uuid, u.org_id, o.token, u.email, u.password_hash, u.is_admin, u.disabled";

fn user_row(r: &Row) -> rusqlite::Result<UserRow> {
    user_row_at(r, 0)
}

/// A user whose `USER_COLS` start at column `at`.
fn user_row_at(r: &Row, at: usize) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(at)?,
        uuid: r.get(at + 1)?,
        org_id: r.get(at + 2)?,
        org_token: r.get(at + 3)?,
        email: r.get(at + 4)?,
        password_hash: r.get(at + 5)?,
        is_admin: r.get(at + 6)?,
        disabled: r.get(at + 7)?,
    })
}

pub fn find_user_by_email(c: &Connection, email: &str) -> Result<Option<UserRow>, AppError> {
    Ok(c.query_row(
        &format!(
            "SELECT {USER_COLS} FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email = ?1"
        ),
        [email],
        user_row,
    )
    .optional()?)
}

pub fn insert_user(
    c: &Connection,
    uuid: &str,
    org_id: i64,
    email: &str,
    password_hash: &str,
    is_admin: bool,
    now: i64,
) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO users (uuid, org_id, email, password_hash, is_admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![uuid, org_id, email, password_hash, is_admin, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// A new API key: its hash, a short prefix to tell it by, and who made it (None: the CLI).
pub fn insert_key(
    c: &Connection,
    org_id: i64,
    name: &str,
    key_hash: &str,
    prefix: &str,
    created_by: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO api_keys (org_id, name, key_hash, prefix, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![org_id, name, key_hash, prefix, created_by, now],
    )?;
    Ok(())
}

/// The org an API key (by its hash) belongs to.
pub fn find_key_org(c: &Connection, key_hash: &str) -> Result<Option<OrgRow>, AppError> {
    Ok(c.prepare_cached(
        "SELECT o.id, o.uuid, o.token, o.secret FROM api_keys k JOIN orgs o ON o.id = k.org_id
             WHERE k.key_hash = ?1",
    )?
    .query_row([key_hash], org_row)
    .optional()?)
}

pub fn insert_session(
    c: &Connection,
    user_id: i64,
    refresh_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64, AppError> {
    c.execute(
        "INSERT INTO api_sessions (user_id, refresh_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![user_id, refresh_hash, now, expires_at],
    )?;
    Ok(c.last_insert_rowid())
}

/// A live session by its refresh token hash: (session id, user).
pub fn find_session_by_refresh(
    c: &Connection,
    refresh_hash: &str,
    now: i64,
) -> Result<Option<(i64, UserRow)>, AppError> {
    Ok(c.query_row(
        &format!(
            "SELECT s.id, {USER_COLS} FROM api_sessions s
             JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id
             WHERE s.refresh_hash = ?1 AND s.expires_at > ?2"
        ),
        params![refresh_hash, now],
        |r| Ok((r.get(0)?, user_row_at(r, 1)?)),
    )
    .optional()?)
}

pub fn delete_session(c: &Connection, session_id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM api_sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

/// Makes `token_hash` the session's only access token: the previous one stops working.
pub fn replace_access_token(
    c: &Connection,
    session_id: i64,
    token_hash: &str,
    expires_at: i64,
) -> Result<(), AppError> {
    c.execute(
        "DELETE FROM access_tokens WHERE session_id = ?1",
        [session_id],
    )?;
    c.execute(
        "INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![token_hash, session_id, expires_at],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AccessTokenRow {
    pub session_id: i64,
    pub expires_at: i64,
    pub user: UserRow,
}

pub fn find_access_token(
    c: &Connection,
    token_hash: &str,
) -> Result<Option<AccessTokenRow>, AppError> {
    Ok(c.query_row(
        &format!(
            "SELECT t.session_id, t.expires_at, {USER_COLS} FROM access_tokens t
             JOIN api_sessions s ON s.id = t.session_id
             JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id
             WHERE t.token_hash = ?1"
        ),
        [token_hash],
        |r| {
            Ok(AccessTokenRow {
                session_id: r.get(0)?,
                expires_at: r.get(1)?,
                user: user_row_at(r, 2)?,
            })
        },
    )
    .optional()?)
}

/// Failures of `key` at or after `since`, oldest first (unix seconds).
pub fn failures_since(c: &Connection, key: &str, since: i64) -> Result<Vec<i64>, AppError> {
    let mut stmt =
        c.prepare_cached("SELECT at FROM auth_failures WHERE key = ?1 AND at > ?2 ORDER BY at")?;
    let rows = stmt.query_map(params![key, since], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<i64>, _>>()?)
}

/// Records one failure and forgets those that can no longer count.
pub fn record_failure(
    c: &Connection,
    key: &str,
    at: i64,
    forget_before: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO auth_failures (key, at) VALUES (?1, ?2)",
        params![key, at],
    )?;
    c.execute("DELETE FROM auth_failures WHERE at <= ?1", [forget_before])?;
    Ok(())
}

pub fn insert_web_session(
    c: &Connection,
    user_id: i64,
    id_hash: &str,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), AppError> {
    c.execute(
        "INSERT INTO web_sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id_hash, user_id, csrf, now, expires_at],
    )?;
    Ok(())
}

/// A live web session with its user and org.
#[derive(Debug, Clone)]
pub struct WebSessionRow {
    pub session_id: i64,
    pub user_id: i64,
    pub uuid: String,
    pub email: String,
    pub org_id: i64,
    pub org_token: String,
    pub csrf: String,
}

pub fn find_web_session(
    c: &Connection,
    id_hash: &str,
    now: i64,
) -> Result<Option<WebSessionRow>, AppError> {
    Ok(c.query_row(
        "SELECT w.id, u.id, u.uuid, u.email, o.id, o.token, w.csrf FROM web_sessions w
         JOIN users u ON u.id = w.user_id JOIN orgs o ON o.id = u.org_id
         WHERE w.id_hash = ?1 AND w.expires_at > ?2",
        params![id_hash, now],
        |r| {
            Ok(WebSessionRow {
                session_id: r.get(0)?,
                user_id: r.get(1)?,
                uuid: r.get(2)?,
                email: r.get(3)?,
                org_id: r.get(4)?,
                org_token: r.get(5)?,
                csrf: r.get(6)?,
            })
        },
    )
    .optional()?)
}

pub fn delete_web_session(c: &Connection, id: i64) -> Result<(), AppError> {
    c.execute("DELETE FROM web_sessions WHERE id = ?1", [id])?;
    Ok(())
}
