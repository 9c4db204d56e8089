//! The org admin's page (`/app/admin/...`). Whether the caller is an admin is read from the
//! database on every call, here in the domain, so a demotion or a disable bites at once and no
//! adapter can forget the check: anyone else gets 403.

use crate::db::{accounts as q, Db};
use crate::domain::accounts::{KeyInfo, UserInfo};
use crate::domain::auth::WebUser;
use crate::error::AppError;
use r2d2_sqlite::rusqlite::Connection;

fn require_admin(c: &Connection, user: &WebUser) -> Result<(), AppError> {
    if q::is_active_admin(c, user.user_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only an admin of the org can do this.".into(),
        ))
    }
}

/// Whether the signed-in user is an admin (to link the admin page).
pub async fn is_admin(db: &Db, user: &WebUser) -> Result<bool, AppError> {
    let uid = user.user_id;
    db.read(move |c| q::is_active_admin(c, uid)).await
}

/// The org's users and every key of the org.
pub async fn overview(db: &Db, user: &WebUser) -> Result<(Vec<UserInfo>, Vec<KeyInfo>), AppError> {
    let user = user.clone();
    db.read(move |c| {
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

/// Disables a user of the org (their sessions, tokens and the keys they made end at once) or
/// enables them again. The last admin cannot be disabled.
pub async fn set_disabled(
    db: &Db,
    user: &WebUser,
    uuid: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let (user, uuid) = (user.clone(), uuid.to_string());
    db.write(move |tx| {
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
pub async fn set_admin(db: &Db, user: &WebUser, uuid: &str, admin: bool) -> Result<(), AppError> {
    let (user, uuid) = (user.clone(), uuid.to_string());
    db.write(move |tx| {
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
pub async fn revoke_key(db: &Db, user: &WebUser, id: i64) -> Result<(), AppError> {
    let user = user.clone();
    db.write(move |tx| {
        require_admin(tx, &user)?;
        if q::delete_key(tx, user.org_id, id)? {
            Ok(())
        } else {
            Err(AppError::not_found(format!("The key {id}")))
        }
    })
    .await
}
