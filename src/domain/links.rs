//! Set-password links: a new user's first password, an admin's reset. Single use, 24 h. The
//! mail worker makes the token when it sends the mail (`arm`), so the database only ever holds
//! its SHA-256; a retried mail gets a new token and the undelivered one never works.

use crate::db::{self, accounts as q, links};
use crate::domain::accounts::AccountService;
use crate::domain::auth::{argon2_turn, hash_password, hash_secret, new_secret};
use crate::domain::types::NewPassword;
use crate::error::AppError;
use chrono::{DateTime, Utc};

/// A link works for 24 hours from its mail.
pub const LINK_SECS: i64 = 24 * 3600;

/// The outbox kinds of a link's mail: a new user's first password, or a reset.
pub const WELCOME: &str = "welcome";
pub const RESET: &str = "reset";

/// What a link's mail needs.
pub struct LinkMail {
    pub email: String,
    pub org: String,
    pub new_user: bool,
    /// The token, in memory only: it goes into the mail and nowhere else.
    pub token: String,
}

impl AccountService {
    /// Makes a fresh token for the link `id` (replacing any earlier one) and returns what its mail
    /// (of outbox kind `kind`) says; None if the link was used or replaced meanwhile.
    pub async fn arm_password_link(
        &self,
        id: i64,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkMail>, AppError> {
        let token = new_secret("sbp_");
        let (hash, expires) = (hash_secret(&token), db::ts(now) + LINK_SECS);
        let row = self
            .db
            .write(move |tx| {
                if !links::arm_link(tx, id, &hash, expires)? {
                    return Ok(None);
                }
                links::link_mail(tx, id)
            })
            .await?;
        Ok(row.map(|r| LinkMail {
            email: r.email,
            org: r.org_token,
            new_user: kind == WELCOME,
            token,
        }))
    }

    /// The email of a link that works at `now`.
    pub async fn password_link_email(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let (hash, t) = (hash_secret(token), db::ts(now));
        let row = self.db.read(move |c| links::live_link(c, &hash, t)).await?;
        row.map(|(_, _, email)| email).ok_or_else(dead_link)
    }

    /// Sets the password of the link's user and uses the link up; every session and token of the
    /// user ends.
    pub async fn set_password_by_link(
        &self,
        token: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let password = NewPassword::parse("password", password)?;
        self.password_link_email(token, now).await?;
        let hash = {
            let _turn = argon2_turn().await?;
            db::blocking(move || hash_password(password.expose())).await??
        };
        let (token_hash, t) = (hash_secret(token), db::ts(now));
        self.db
            .write(move |tx| {
                // Checked again inside the write: of two uses at once, one wins.
                let (id, user, _) = links::live_link(tx, &token_hash, t)?.ok_or_else(dead_link)?;
                links::mark_used(tx, id, t)?;
                q::set_password(tx, user, &hash)?;
                q::end_sessions(tx, user)
            })
            .await
    }
}

fn dead_link() -> AppError {
    AppError::NotFound(
        "This link does not work: it was used already, it expired (links last 24 hours) or a \
         newer one replaced it. Ask an admin of your org for a new one."
            .into(),
    )
}
