//! The org admin's page (`/app/admin/...`). Whether the caller is an admin is read from the
//! database on every call, here in the domain, so a demotion or a disable bites at once and no
//! adapter can forget the check: anyone else gets 403.

use crate::db::{self, accounts as q, links, orgs};
use crate::domain::accounts::AccountService;
use crate::domain::accounts::{KeyInfo, UserInfo};
use crate::domain::auth::{argon2_turn, hash_password, new_secret, WebUser};
use crate::domain::links::{RESET, WELCOME};
use crate::domain::types::Email;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use uuid::Uuid;

fn require_admin(c: &Connection, user: &WebUser) -> Result<(), AppError> {
    if q::is_active_admin(c, user.user_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only an admin of the org can do this.".into(),
        ))
    }
}

impl AccountService {
    /// Whether the signed-in user is an admin (to link the admin page).
    pub async fn is_admin(&self, user: &WebUser) -> Result<bool, AppError> {
        let uid = user.user_id;
        self.db.read(move |c| q::is_active_admin(c, uid)).await
    }

    /// The org's users and every key of the org.
    pub async fn admin_overview(
        &self,
        user: &WebUser,
    ) -> Result<(Vec<UserInfo>, Vec<KeyInfo>), AppError> {
        let user = user.clone();
        self.db
            .read(move |c| {
                require_admin(c, &user)?;
                let users = q::list_users(c, Some(user.org_id))?
                    .into_iter()
                    .map(UserInfo::from)
                    .collect();
                let keys = q::list_keys(c, user.org_id, None)?
                    .into_iter()
                    .map(KeyInfo::from)
                    .collect();
                Ok((users, keys))
            })
            .await
    }

    /// Disables a user of the org (their sessions, tokens and the keys they made end at once) or
    /// enables them again. The last admin cannot be disabled.
    pub async fn admin_set_disabled(
        &self,
        user: &WebUser,
        uuid: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        let (user, uuid) = (user.clone(), uuid.to_string());
        self.db
            .write(move |tx| {
                require_admin(tx, &user)?;
                let who = target(tx, &user, &uuid)?;
                if disabled {
                    keep_an_admin(tx, &user, &who)?;
                }
                q::set_disabled(tx, who.id, disabled)?;
                if disabled {
                    q::end_sessions(tx, who.id)?;
                    q::delete_keys_made_by(tx, who.id)?;
                }
                Ok(())
            })
            .await
    }

    /// Grants or revokes admin. The org's last admin keeps it.
    pub async fn set_admin(&self, user: &WebUser, uuid: &str, admin: bool) -> Result<(), AppError> {
        let (user, uuid) = (user.clone(), uuid.to_string());
        self.db
            .write(move |tx| {
                require_admin(tx, &user)?;
                let who = target(tx, &user, &uuid)?;
                if !admin {
                    keep_an_admin(tx, &user, &who)?;
                }
                q::set_admin(tx, who.id, admin)
            })
            .await
    }

    /// Revokes any key of the org: its next request fails in both dialects.
    pub async fn admin_revoke_key(&self, user: &WebUser, id: i64) -> Result<(), AppError> {
        let user = user.clone();
        self.db
            .write(move |tx| {
                require_admin(tx, &user)?;
                if q::delete_key(tx, user.org_id, id)? {
                    Ok(())
                } else {
                    Err(AppError::not_found(format!("The key {id}")))
                }
            })
            .await
    }

    /// Adds a user to the org with a random password nobody knows (so signing in as them costs
    /// the same argon2 run as for anyone): a set-password link goes to them by mail, queued in the
    /// same transaction.
    pub async fn add_user(
        &self,
        user: &WebUser,
        email: &str,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let email = Email::parse("email", email)?;
        let hash = {
            let _turn = argon2_turn().await?;
            db::blocking(|| hash_password(&new_secret(""))).await??
        };
        let (user, uuid, t) = (user.clone(), Uuid::new_v4().to_string(), db::ts(now));
        self.db
            .write(move |tx| {
                require_admin(tx, &user)?;
                if orgs::find_user_by_email(tx, email.as_str())?.is_some() {
                    return Err(AppError::invalid(
                        "email",
                        format!("a user with the email '{email}' exists already"),
                    ));
                }
                let id =
                    orgs::insert_user(tx, &uuid, user.org_id, email.as_str(), &hash, admin, t)?;
                links::insert_link_with_mail(tx, id, email.as_str(), WELCOME, t).map(|_| ())
            })
            .await
    }

    /// Mails a user of the org a set-password link (replacing any earlier one). Their password
    /// keeps working until the link is used.
    pub async fn admin_reset_password(
        &self,
        user: &WebUser,
        uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let (user, uuid, t) = (user.clone(), uuid.to_string(), db::ts(now));
        self.db
            .write(move |tx| {
                require_admin(tx, &user)?;
                let who = target(tx, &user, &uuid)?;
                if who.disabled {
                    return Err(AppError::invalid(
                        "user",
                        format!("{} is disabled: enable them first", who.email),
                    ));
                }
                links::insert_link_with_mail(tx, who.id, &who.email, RESET, t).map(|_| ())
            })
            .await
    }
}

fn target(c: &Connection, user: &WebUser, uuid: &str) -> Result<q::OrgUser, AppError> {
    q::user_in_org(c, user.org_id, uuid)?
        .ok_or_else(|| AppError::not_found(format!("The user {uuid}")))
}

/// Refuses a change that would leave the org without an admin who can sign in.
fn keep_an_admin(c: &Connection, user: &WebUser, who: &q::OrgUser) -> Result<(), AppError> {
    if who.is_admin && !who.disabled && q::other_active_admins(c, user.org_id, who.id)? == 0 {
        return Err(AppError::invalid(
            "user",
            format!(
                "{} is the org's last admin: make another user admin first",
                who.email
            ),
        ));
    }
    Ok(())
}
