//! The shares list and its one-click actions.

use super::{see_other, state};
use crate::api::Params;
use crate::domain::auth::WebUser;
use crate::domain::library::Page;
use crate::domain::shares::{SharePatch, StatusChange, TimeValue};
use crate::domain::types::Email;
use crate::domain::window::{display_in, State};
use crate::error::AppError;
use crate::web::guard::{last, CsrfForm};
use crate::web::page;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// The fields of the one-click actions: `by` (`day` or `week`) to extend, `email` to resend.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionFields {
    #[serde(deserialize_with = "last")]
    by: String,
    #[serde(deserialize_with = "last")]
    email: String,
}

/// Revoke, restore, extend the expiry by a day or a week, or mail the link again: one click each.
pub async fn share_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    post: CsrfForm<ActionFields>,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let CsrfForm { user, form } = post;
    let (uuid, action) = path.into_inner();
    let patch = match action.as_str() {
        "revoke" => SharePatch {
            status: Some(StatusChange::Revoke),
            ..Default::default()
        },
        "restore" => SharePatch {
            status: Some(StatusChange::Restore),
            ..Default::default()
        },
        "extend" => {
            let by = match form.by.as_str() {
                "day" => chrono::Duration::days(1),
                "week" => chrono::Duration::weeks(1),
                other => {
                    return Err(AppError::invalid(
                        "by",
                        format!("'{other}' is not day or week"),
                    ))
                }
            };
            SharePatch {
                expires_at: Some(Some(TimeValue::Extend(by))),
                ..Default::default()
            }
        }
        "resend" => {
            let email = Email::parse("email", &form.email)?;
            state
                .shares
                .notify(user.org_id, &uuid, vec![], vec![email])
                .await?;
            return Ok(see_other("/app/shares"));
        }
        _ => return Err(AppError::not_found("This route")),
    };
    state.shares.update(user.org_id, &uuid, patch).await?;
    Ok(see_other("/app/shares"))
}

struct ShareCard {
    uuid: String,
    title: String,
    status: &'static str,
    link: String,
    expiry: String,
    views: i64,
    downloads: i64,
    recipients: Vec<(String, String)>,
    revoked: bool,
    created: bool,
}

#[derive(Template)]
#[template(path = "app/shares.html")]
struct SharesPage {
    email: String,
    csrf: String,
    shares: Vec<ShareCard>,
}

pub async fn list_shares(
    req: HttpRequest,
    user: WebUser,
    params: Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let (list, _) = state
        .shares
        .list(
            user.org_id,
            None,
            Page {
                limit: 1000,
                offset: 0,
            },
        )
        .await?;
    let created = params.get("created").unwrap_or("");
    let cards = list
        .iter()
        .map(|s| ShareCard {
            uuid: s.uuid.clone(),
            title: s.title.clone(),
            status: s.state.as_str(),
            link: s.share_uri.clone(),
            expiry: s
                .expires_at
                .map(|e| display_in(e, &s.expires_tz))
                .unwrap_or_else(|| "never".into()),
            views: s.views,
            downloads: s.downloads,
            recipients: s
                .users
                .iter()
                .map(|u| {
                    (
                        u.email.clone(),
                        u.delivery.clone().unwrap_or_else(|| "—".into()),
                    )
                })
                .chain(s.recipients.iter().map(|r| {
                    (
                        r.email.clone(),
                        r.delivery.clone().unwrap_or_else(|| "—".into()),
                    )
                }))
                .collect(),
            revoked: s.state == State::Revoked,
            created: s.uuid == created,
        })
        .collect();
    page(&SharesPage {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        shares: cards,
    })
}
