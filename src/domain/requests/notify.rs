//! The owner's mail about new files, batched: at most one mail per request and address every
//! `BATCH_SECS`, each listing what came since the previous one.
//!
//! A landing file queues a mail (in its transaction) unless one is already waiting; the mail
//! is due at once, or `BATCH_SECS` after the last one went. It lists the request's files after
//! the last one an earlier mail listed, up to the newest when it is composed; files that land
//! while it is being sent queue the next.

use super::service::RequestService;
use crate::db::outbox::DueMail;
use crate::db::requests::{self as q, RequestRow, SentFile};
use crate::db::ts;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;

/// At most one mail per request and address this often.
pub const BATCH_SECS: i64 = 300;

/// Who hears of new files: `notify_emails`, else the user who made the request, else (made
/// with an API key) the org's admins.
fn recipients(c: &Connection, row: &RequestRow) -> Result<Vec<String>, AppError> {
    let listed: Vec<String> = row
        .notify_emails
        .split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    if !listed.is_empty() {
        return Ok(listed);
    }
    if let Some(owner) = row.owner_user_id {
        if let Some(email) = q::user_email(c, owner)? {
            return Ok(vec![email]);
        }
    }
    q::admin_emails(c, row.org_id)
}

/// Queues the mail about new files of `row`, where none is waiting.
pub(super) fn queue(c: &Connection, row: &RequestRow, now: i64) -> Result<(), AppError> {
    if !row.notify {
        return Ok(());
    }
    for email in recipients(c, row)? {
        if q::mail_pending(c, row.id, &email)? {
            continue;
        }
        let (after, last_sent) = q::last_mailed(c, row.id, &email)?;
        let due = last_sent.map_or(now, |t| (t + BATCH_SECS).max(now));
        q::queue_mail(c, row.id, &email, after, due, now)?;
    }
    Ok(())
}

/// What a due request mail says, or why there is nothing to send.
pub enum MailOutcome {
    Send {
        title: String,
        files: Vec<SentFile>,
        folder_link: String,
        /// The newest request file it lists.
        upto: i64,
    },
    Nothing(String),
}

/// The content of due mail `m` (about a request).
pub async fn deliver(s: &RequestService, m: &DueMail) -> Result<MailOutcome, AppError> {
    let Some(request_id) = m.request_id else {
        return Ok(MailOutcome::Nothing("not about a request".into()));
    };
    let after = m.after_file.unwrap_or(0);
    let base = s.base_url.clone();
    s.db.read(move |c| {
        let Some(row) = q::by_id(c, request_id)? else {
            return Ok(MailOutcome::Nothing("the request no longer exists".into()));
        };
        let upto = q::last_file_id(c, request_id)?;
        let files = q::files_between(c, request_id, after, upto)?;
        if files.is_empty() {
            return Ok(MailOutcome::Nothing("no new files".into()));
        }
        let folder_link = match row.folder_id {
            Some(id) => match q::folder_uuid(c, id)? {
                Some(u) => format!("{base}/app?folder_uuid={u}"),
                None => format!("{base}/app"),
            },
            None => format!("{base}/app"),
        };
        Ok(MailOutcome::Send {
            title: row.title,
            files,
            folder_link,
            upto,
        })
    })
    .await
}

impl RequestService {
    /// After mail `m` went, listing files up to `upto`: remembers it, and queues the next
    /// when files landed since (they found this one waiting and queued nothing).
    pub async fn mail_sent(&self, m: &DueMail, upto: i64) -> Result<(), AppError> {
        let (id, email) = (m.id, m.email.clone());
        let Some(request_id) = m.request_id else {
            return Ok(());
        };
        let now = ts(self.clock.now());
        self.db
            .write(move |tx| {
                q::set_mail_upto(tx, id, upto)?;
                if q::last_file_id(tx, request_id)? > upto {
                    q::queue_mail(tx, request_id, &email, upto, now + BATCH_SECS, now)?;
                }
                Ok(())
            })
            .await
    }
}
