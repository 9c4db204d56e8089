//! Set-password links and their mails in the outbox.

use super::OptionalExtension;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

/// A new link for a user, replacing (deleting, with any mail still owed for them) the older
/// links of that user; queues its mail (`kind`: `welcome` or `reset`) in the same transaction.
/// Returns the link's id.
pub fn insert_link_with_mail(
    c: &Connection,
    user_id: i64,
    email: &str,
    kind: &str,
    now: i64,
) -> Result<i64, AppError> {
    c.execute("DELETE FROM password_links WHERE user_id = ?1", [user_id])?;
    c.execute(
        "INSERT INTO password_links (user_id, created_at) VALUES (?1, ?2)",
        params![user_id, now],
    )?;
    let id = c.last_insert_rowid();
    c.execute(
        "INSERT INTO outbox (link_id, email, kind, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
        params![id, email, kind, now],
    )?;
    Ok(id)
}

/// Gives an unused link a (new) token hash and expiry; false if the link is gone or used.
pub fn arm_link(c: &Connection, id: i64, hash: &str, expires_at: i64) -> Result<bool, AppError> {
    Ok(c.execute(
        "UPDATE password_links SET token_hash = ?2, expires_at = ?3
         WHERE id = ?1 AND used_at IS NULL",
        params![id, hash, expires_at],
    )? > 0)
}

/// What the mail of a link says: the user's email and org.
#[derive(Debug, Clone)]
pub struct LinkMailRow {
    pub email: String,
    pub org_token: String,
}

pub fn link_mail(c: &Connection, id: i64) -> Result<Option<LinkMailRow>, AppError> {
    Ok(c.query_row(
        "SELECT u.email, o.token FROM password_links l
         JOIN users u ON u.id = l.user_id JOIN orgs o ON o.id = u.org_id WHERE l.id = ?1",
        [id],
        |r| {
            Ok(LinkMailRow {
                email: r.get(0)?,
                org_token: r.get(1)?,
            })
        },
    )
    .optional()?)
}

/// A link that works at `now`: (link id, user id, email).
pub fn live_link(
    c: &Connection,
    hash: &str,
    now: i64,
) -> Result<Option<(i64, i64, String)>, AppError> {
    Ok(c.query_row(
        "SELECT l.id, u.id, u.email FROM password_links l JOIN users u ON u.id = l.user_id
             WHERE l.token_hash = ?1 AND l.used_at IS NULL AND l.expires_at > ?2
               AND u.disabled = 0",
        params![hash, now],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?)
}

pub fn mark_used(c: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE password_links SET used_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
