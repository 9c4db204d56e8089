//! The mail outbox: rows due for delivery and the outcome of each attempt.

use crate::error::AppError;
use r2d2_sqlite::rusqlite::{params, Connection};

#[derive(Debug, Clone)]
pub struct DueMail {
    pub id: i64,
    /// The share the mail is about, or the set-password link (one of the two).
    pub share_id: Option<i64>,
    pub link_id: Option<i64>,
    /// ...or the file request whose new files it lists, after this request file.
    pub request_id: Option<i64>,
    pub after_file: Option<i64>,
    pub email: String,
    pub name: Option<String>,
    pub kind: String,
    pub attempts: i64,
    pub created_at: i64,
}

/// Pending rows whose time has come, oldest first.
pub fn due(c: &Connection, now: i64, limit: i64) -> Result<Vec<DueMail>, AppError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, share_id, email, name, kind, attempts, created_at, link_id, request_id,
            after_file FROM outbox
         WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, limit], |r| {
            Ok(DueMail {
                id: r.get(0)?,
                share_id: r.get(1)?,
                email: r.get(2)?,
                name: r.get(3)?,
                kind: r.get(4)?,
                attempts: r.get(5)?,
                created_at: r.get(6)?,
                link_id: r.get(7)?,
                request_id: r.get(8)?,
                after_file: r.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn mark_sent(c: &Connection, id: i64, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

pub fn mark_retry(
    c: &Connection,
    id: i64,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
        params![id, next_attempt_at, error],
    )?;
    Ok(())
}

pub fn mark_failed(c: &Connection, id: i64, error: &str) -> Result<(), AppError> {
    c.execute(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        params![id, error],
    )?;
    Ok(())
}

/// (status, attempts, last_error) of a row: for the operator's eyes and the tests.
pub fn row_state(c: &Connection, id: i64) -> Result<(String, i64, Option<String>), AppError> {
    Ok(c.query_row(
        "SELECT status, attempts, last_error FROM outbox WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}
