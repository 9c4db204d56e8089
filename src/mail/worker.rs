//! The only sender: delivers due outbox rows through SMTP (`--smtp-url`) or, without one, as
//! `.eml` files under `<data>/outbox/`. A row is marked sent only once the server accepted it;
//! temporary failures retry with exponential backoff (capped at an hour), permanent ones (5xx)
//! or three days of trying mark it failed with the error kept.

use crate::db::outbox::{self as q, DueMail};
use crate::db::ts;
use crate::error::AppError;
use crate::mail::compose;
use crate::state::AppState;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub const FIRST_RETRY_SECS: i64 = 60;
pub const MAX_RETRY_SECS: i64 = 3600;
pub const GIVE_UP_SECS: i64 = 3 * 24 * 3600;
const BATCH: i64 = 50;

/// Seconds to wait after the `attempts`-th failure: 1 min, 2, 4... at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    let shift = attempts.clamp(1, 20) - 1;
    (FIRST_RETRY_SECS << shift).min(MAX_RETRY_SECS)
}

enum Outcome {
    Sent,
    Temporary(String),
    Permanent(String),
}

async fn send(state: &AppState, mail: lettre::Message) -> Outcome {
    match &state.config.smtp_url {
        Some(url) => {
            let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
                Ok(b) => b.build(),
                Err(e) => return Outcome::Permanent(format!("bad --smtp-url: {e}")),
            };
            match transport.send(mail).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Permanent(e.to_string()),
                Err(e) => Outcome::Temporary(e.to_string()),
            }
        }
        None => {
            let transport = AsyncFileTransport::<Tokio1Executor>::new(state.config.outbox_dir());
            match transport.send(mail).await {
                Ok(_) => Outcome::Sent,
                Err(e) => Outcome::Temporary(e.to_string()),
            }
        }
    }
}

/// A set-password link's mail: a fresh token for every attempt (see `domain::links`).
async fn link_outcome(state: &AppState, row: &DueMail, link: i64) -> Result<Outcome, AppError> {
    let now = state.clock.now();
    Ok(
        match state
            .accounts
            .arm_password_link(link, &row.kind, now)
            .await?
        {
            None => Outcome::Permanent("the link was used or replaced".into()),
            Some(mail) => {
                let link = format!("{}/password?token={}", state.config.base_url, mail.token);
                match compose::password_mail(
                    &state.config.mail_from,
                    &mail.email,
                    &mail.org,
                    &link,
                    mail.new_user,
                ) {
                    Ok(m) => send(state, m).await,
                    Err(e) => Outcome::Permanent(e.to_string()),
                }
            }
        },
    )
}

/// A file request's batched mail: the files that came since the last one.
async fn request_outcome(state: &AppState, row: &DueMail) -> Result<Outcome, AppError> {
    use crate::domain::requests::{deliver, MailOutcome};
    Ok(match deliver(&state.requests, row).await? {
        MailOutcome::Nothing(why) => Outcome::Permanent(why),
        MailOutcome::Send {
            title,
            files,
            folder_link,
            upto,
        } => match compose::request_mail(
            &state.config.mail_from,
            &row.email,
            &title,
            &files,
            &folder_link,
        ) {
            Ok(m) => {
                let outcome = send(state, m).await;
                if matches!(outcome, Outcome::Sent) {
                    state.requests.mail_sent(row, upto).await?;
                }
                outcome
            }
            Err(e) => Outcome::Permanent(e.to_string()),
        },
    })
}

async fn deliver_one(state: &AppState, row: &DueMail) -> Result<(), AppError> {
    let share_id = match (row.share_id, row.link_id, row.request_id) {
        (Some(id), _, _) => id,
        (None, Some(link), _) => {
            return record(state, row, link_outcome(state, row, link).await?).await
        }
        (None, None, Some(_)) => {
            return record(state, row, request_outcome(state, row).await?).await
        }
        (None, None, None) => {
            return record(state, row, Outcome::Permanent("about nothing".into())).await
        }
    };
    let outcome = match state.shares.mail_view(share_id).await? {
        // The share is gone (its rows go with it): nothing to send.
        None => Outcome::Permanent("the share no longer exists".into()),
        Some((share, sender)) => {
            match compose::share_mail(
                &share,
                &sender,
                &state.config.mail_from,
                &row.email,
                row.name.as_deref(),
            ) {
                Ok(mail) => send(state, mail).await,
                Err(e) => Outcome::Permanent(e.to_string()),
            }
        }
    };
    record(state, row, outcome).await
}

/// Records an attempt's outcome.
async fn record(state: &AppState, row: &DueMail, outcome: Outcome) -> Result<(), AppError> {
    let now = state.clock.now();
    let (id, t, created, attempts) = (row.id, ts(now), row.created_at, row.attempts + 1);
    state
        .db
        .write(move |tx| match outcome {
            Outcome::Sent => q::mark_sent(tx, id, t),
            Outcome::Permanent(e) => q::mark_failed(tx, id, &e),
            Outcome::Temporary(e) if t - created >= GIVE_UP_SECS => {
                q::mark_failed(tx, id, &format!("gave up after 3 days: {e}"))
            }
            Outcome::Temporary(e) => q::mark_retry(tx, id, t + backoff(attempts), &e),
        })
        .await
}

/// Delivers every row due now; returns how many were tried.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    let now = ts(state.clock.now());
    let rows = state.db.read(move |c| q::due(c, now, BATCH)).await?;
    for row in &rows {
        if let Err(e) = deliver_one(state, row).await {
            tracing::warn!(mail = row.id, error = %e, "mail not delivered yet");
        }
    }
    Ok(rows.len())
}

/// The background worker `serve` starts: rows owed at shutdown go out after the next start.
pub fn spawn(state: AppState) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            match deliver_due(&state).await {
                Ok(n) if n > 0 => tracing::info!(tried = n, "mail delivered"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail worker"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(6), 1920);
        assert_eq!(backoff(7), 3600);
        assert_eq!(backoff(500), 3600);
    }
}
