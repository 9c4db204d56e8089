//! `ShareService`: create, read, list, update, delete, notify, and what the mail worker and the
//! share link read. `open` (open.rs) is the one gate for visitors.

use super::cache::{PlanCache, ShareCache};
use super::model::{load, Share};
use super::patch::{
    apply_fields, first_item_name, hash_new_password, resolve_users, write_lists, SharePatch,
    UserSpec,
};
use super::{share_not_found, slug};
use crate::blob::BlobStore;
use crate::clock::Clock;
use crate::db::shares::{self as q, ShareRow};
use crate::db::{from_ts, ts, Db};
use crate::domain::assets::parse_id;
use crate::domain::counters::Counters;
use crate::domain::library::Page;
use crate::domain::types::Email;
use crate::domain::unlock::UnlockKey;
use crate::domain::window::{self, State, Window};
use crate::error::{AppError, Field};
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// One entry of a share's activity log.
#[derive(Debug, Clone)]
pub struct Activity {
    pub at: DateTime<Utc>,
    /// view, download, unlock_failed
    pub kind: String,
    pub file_uuid: Option<String>,
    pub ip_hash: String,
    pub user_agent: String,
}

/// The one share service every dialect and page calls.
/// One day of a share's activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub day: chrono::NaiveDate,
    pub views: i64,
    pub downloads: i64,
}

#[derive(Clone)]
pub struct ShareService {
    pub(super) db: Db,
    pub(super) counters: Counters,
    pub(super) cache: ShareCache,
    pub(super) plans: PlanCache,
    pub(super) blobs: BlobStore,
    pub(super) unlock: UnlockKey,
    pub(super) clock: Clock,
    /// Without a trailing slash; share links start with it.
    pub(super) base_url: Arc<str>,
}

impl ShareService {
    pub fn new(
        db: Db,
        blobs: BlobStore,
        unlock: UnlockKey,
        clock: Clock,
        base_url: &str,
    ) -> ShareService {
        ShareService {
            db,
            counters: Counters::default(),
            cache: ShareCache::default(),
            plans: PlanCache::default(),
            blobs,
            unlock,
            clock,
            base_url: base_url.into(),
        }
    }

    /// What a read that builds answer views needs, to move into its closure.
    fn view_kit(&self) -> (Counters, Arc<str>, DateTime<Utc>) {
        (
            self.counters.clone(),
            self.base_url.clone(),
            self.clock.now(),
        )
    }

    /// Writes the counts and activity not written yet (every 250 ms, and at shutdown).
    pub async fn flush_counts(&self) -> Result<(), AppError> {
        self.counters.flush(&self.db).await
    }

    pub async fn create(
        &self,
        org_id: i64,
        owner_user_id: Option<i64>,
        p: SharePatch,
    ) -> Result<Share, AppError> {
        if p.title.is_none() && !p.title_from_items {
            return Err(AppError::invalid(Field::Title, "`title` is required"));
        }
        if p.items.is_none() {
            return Err(AppError::invalid(Field::Items, "`items` is required"));
        }
        let now = self.clock.now();
        let password = hash_new_password(&p.password).await?;
        let t = ts(now);
        let mut row = ShareRow {
            uuid: Uuid::new_v4().to_string(),
            puid: nanoid::nanoid!(22),
            org_id,
            owner_user_id,
            starts_tz: "UTC".into(),
            expires_tz: "UTC".into(),
            show_starts_at: true,
            show_expires_at: true,
            can_download: true,
            created_at: t,
            ..Default::default()
        };
        apply_fields(&mut row, &p, password, now)?;
        let id = self
            .db
            .write(move |tx| {
                if p.title.is_none() {
                    let items = p.items.as_deref().unwrap_or_default();
                    row.title = first_item_name(tx, org_id, items)?;
                }
                row.id = q::insert_share(tx, &row)?;
                write_lists(tx, &row, &p, true, t)?;
                Ok(row.id)
            })
            .await?;
        // The answer is read after the commit: the one writer is held only for the write.
        self.view_of(move |c| q::find_share_by_id(c, id)).await
    }

    /// The answer view, read now, of the share `find` picks (404 when it picks none).
    async fn view_of(
        &self,
        find: impl FnOnce(&Connection) -> Result<Option<ShareRow>, AppError> + Send + 'static,
    ) -> Result<Share, AppError> {
        let (counters, base, now) = self.view_kit();
        self.db
            .read(move |c| {
                let row = find(c)?.ok_or_else(share_not_found)?;
                load(c, row, &counters, &base, now, true)
            })
            .await
    }

    pub async fn get(&self, org_id: i64, uuid: &str) -> Result<Share, AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        self.view_of(move |c| q::find_share(c, org_id, &id)).await
    }

    /// Newest first, optionally only those in `status`.
    pub async fn list(
        &self,
        org_id: i64,
        status: Option<State>,
        page: Page,
    ) -> Result<(Vec<Share>, i64), AppError> {
        let (counters, base, now) = self.view_kit();
        self.db
            .read(move |c| {
                let mut ids = Vec::new();
                for (id, revoked, starts, expires, max, downloads) in q::share_windows(c, org_id)? {
                    let downloads = counters.downloads(id, downloads);
                    let w = Window {
                        revoked,
                        starts_at: starts.map(from_ts),
                        expires_at: expires.map(from_ts),
                        max_downloads: max,
                        downloads,
                    };
                    if status.is_none_or(|s| window::state_at(&w, now) == s) {
                        ids.push(id);
                    }
                }
                let total = ids.len() as i64;
                let shares = ids
                    .into_iter()
                    .skip(page.offset.max(0) as usize)
                    .take(page.limit.max(0) as usize)
                    .map(|id| {
                        let row = q::find_share_by_id(c, id)?.ok_or_else(share_not_found)?;
                        load(c, row, &counters, &base, now, true)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((shares, total))
            })
            .await
    }

    pub async fn update(&self, org_id: i64, uuid: &str, p: SharePatch) -> Result<Share, AppError> {
        let password = hash_new_password(&p.password).await?;
        self.update_in_tx(org_id, uuid, password, move |_| Ok(p))
            .await
    }

    /// An update worked out from the share as it is inside the write transaction: `diff` gets
    /// the current share and returns the patch, so nothing can change between the read and the
    /// write. `password` is the plain new password the patch may set (hashed before the write,
    /// since argon2 never runs on the writer); a patch that sets another is refused.
    pub async fn update_with(
        &self,
        org_id: i64,
        uuid: &str,
        password: Option<String>,
        diff: impl FnOnce(&Share) -> Result<SharePatch, AppError> + Send + 'static,
    ) -> Result<Share, AppError> {
        let hashed = match &password {
            Some(pw) => hash_new_password(&Some(Some(pw.clone()))).await?.flatten(),
            None => None,
        };
        self.update_in_tx(org_id, uuid, None, move |current| {
            let mut p = diff(current)?;
            match (&p.password, &password, hashed) {
                (Some(Some(pw)), Some(given), Some(hash)) if pw == given => {
                    p.password = None;
                    Ok((p, Some(Some(hash))))
                }
                (Some(Some(_)), _, _) => Err(AppError::internal("a password not hashed first")),
                (change, _, _) => {
                    let change = change.clone();
                    p.password = None;
                    Ok((p, change))
                }
            }
        })
        .await
    }

    /// Reads the share in the write transaction, asks `make` for the patch (and the password
    /// hash to store, if any), applies it, and answers the share as committed.
    async fn update_in_tx<M, R>(
        &self,
        org_id: i64,
        uuid: &str,
        password: Option<Option<String>>,
        make: M,
    ) -> Result<Share, AppError>
    where
        M: FnOnce(&Share) -> Result<R, AppError> + Send + 'static,
        R: IntoPatch,
    {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        let now = self.clock.now();
        let (counters, base) = (self.counters.clone(), self.base_url.clone());
        let id = self
            .db
            .write(move |tx| {
                let mut row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
                let current = load(tx, row.clone(), &counters, &base, now, true)?;
                let (p, hash) = make(&current)?.into_patch(password);
                let before = row.clone();
                apply_fields(&mut row, &p, hash, now)?;
                // A write that changes nothing leaves the share as it is, updated_at included.
                let unchanged = ShareRow {
                    updated_at: before.updated_at,
                    ..row.clone()
                } == before;
                if !p.names_lists() && unchanged {
                    return Ok(before.id);
                }
                q::update_share(tx, &row)?;
                write_lists(tx, &row, &p, false, ts(now))?;
                Ok(row.id)
            })
            .await?;
        self.view_of(move |c| q::find_share_by_id(c, id)).await
    }

    pub async fn delete(&self, org_id: i64, uuid: &str) -> Result<String, AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        self.db
            .write(move |tx| {
                let row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
                q::delete_share(tx, row.id)?;
                Ok(row.uuid)
            })
            .await
    }

    /// Queues a mail to each address (or, with none given, to all users and recipients);
    /// returns the addresses mailed. Nothing is added to the share.
    pub async fn notify(
        &self,
        org_id: i64,
        uuid: &str,
        users: Vec<UserSpec>,
        emails: Vec<Email>,
    ) -> Result<Vec<String>, AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        let t = ts(self.clock.now());
        self.db
            .write(move |tx| {
                let row = q::find_share(tx, org_id, &id)?.ok_or_else(share_not_found)?;
                let mut to: Vec<(String, Option<String>)> = resolve_users(tx, org_id, &users)?
                    .into_iter()
                    .map(|u| (u.email, None))
                    .collect();
                to.extend(emails.iter().map(|e| (e.to_string(), None)));
                if to.is_empty() {
                    to.extend(
                        q::users_of(tx, row.id)?
                            .into_iter()
                            .map(|u| (u.email, None)),
                    );
                    to.extend(
                        q::recipients_of(tx, row.id)?
                            .into_iter()
                            .map(|r| (r.email, r.name)),
                    );
                }
                let mut seen = HashSet::new();
                to.retain(|(e, _)| seen.insert(e.to_lowercase()));
                for (email, name) in &to {
                    q::queue_mail(tx, row.id, email, name.as_deref(), "notification", t)?;
                }
                Ok(to.into_iter().map(|(e, _)| e).collect())
            })
            .await
    }

    /// Views and downloads on each of the last `days` UTC days, oldest first, today included
    /// (days without any count as zero).
    /// (files, bytes) the share shows in all, at any depth.
    pub async fn totals(&self, org_id: i64, uuid: &str) -> Result<(i64, i64), AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        self.db
            .read(move |c| {
                let row = q::find_share(c, org_id, &id)?.ok_or_else(share_not_found)?;
                crate::db::shared::share_totals(c, row.id)
            })
            .await
    }

    pub async fn per_day(
        &self,
        org_id: i64,
        uuid: &str,
        days: i64,
    ) -> Result<Vec<DayCount>, AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        self.flush_counts().await?;
        let today = self.clock.now().timestamp().div_euclid(86_400);
        let first = today - days + 1;
        let rows = self
            .db
            .read(move |c| {
                let row = q::find_share(c, org_id, &id)?.ok_or_else(share_not_found)?;
                q::activity_per_day(c, row.id, first * 86_400)
            })
            .await?;
        Ok((first..=today)
            .map(|day| {
                let (views, downloads) = rows
                    .iter()
                    .find(|r| r.0 == day)
                    .map_or((0, 0), |r| (r.1, r.2));
                DayCount {
                    day: from_ts(day * 86_400).date_naive(),
                    views,
                    downloads,
                }
            })
            .collect())
    }

    /// A page of the share's activity, newest first, and the count.
    pub async fn activity(
        &self,
        org_id: i64,
        uuid: &str,
        page: Page,
    ) -> Result<(Vec<Activity>, i64), AppError> {
        let id = parse_id(uuid).ok_or_else(share_not_found)?;
        // The log is exact: write what is pending first.
        self.flush_counts().await?;
        let (rows, total) = self
            .db
            .read(move |c| {
                let row = q::find_share(c, org_id, &id)?.ok_or_else(share_not_found)?;
                q::list_activity(c, row.id, page.limit, page.offset)
            })
            .await?;
        let rows = rows
            .into_iter()
            .map(|a| Activity {
                at: from_ts(a.at),
                kind: a.kind,
                file_uuid: a.file_uuid,
                ip_hash: a.ip_hash,
                user_agent: a.user_agent,
            })
            .collect();
        Ok((rows, total))
    }

    /// A share by its id with the sender's name, for the mail worker (None once deleted).
    pub async fn mail_view(&self, share_id: i64) -> Result<Option<(Share, String)>, AppError> {
        let (counters, base, now) = self.view_kit();
        self.db
            .read(move |c| {
                let Some(row) = q::find_share_by_id(c, share_id)? else {
                    return Ok(None);
                };
                let sender = match &row.owner_uuid {
                    Some(u) => q::find_org_user(c, row.org_id, u)?.map(|u| u.email),
                    None => None,
                };
                let view = load(c, row, &counters, &base, now, true)?;
                let sender = sender.unwrap_or_else(|| format!("Someone at {}", view.org_token));
                Ok(Some((view, sender)))
            })
            .await
    }

    /// The share link: (puid, slug) of a share of org `token` that is not deleted or revoked.
    pub async fn link_target(&self, token: &str, puid: &str) -> Result<(String, String), AppError> {
        let (token, puid) = (token.to_string(), puid.to_string());
        self.db
            .read(move |c| {
                let row = q::find_share_by_puid(c, &puid)?
                    .filter(|r| !r.revoked)
                    .ok_or_else(share_not_found)?;
                if q::org_token(c, row.org_id)? != token {
                    return Err(share_not_found());
                }
                Ok((row.puid, slug(&row.title)))
            })
            .await
    }
}

/// What `update_in_tx`'s callback answers: a patch whose password (if any) is already hashed
/// by the caller, or a patch with the hash to store beside it.
trait IntoPatch {
    fn into_patch(self, hashed: Option<Option<String>>) -> (SharePatch, Option<Option<String>>);
}

impl IntoPatch for SharePatch {
    fn into_patch(self, hashed: Option<Option<String>>) -> (SharePatch, Option<Option<String>>) {
        (self, hashed)
    }
}

impl IntoPatch for (SharePatch, Option<Option<String>>) {
    fn into_patch(self, _: Option<Option<String>>) -> (SharePatch, Option<Option<String>>) {
        self
    }
}

/// The org listing's status filter.
pub fn parse_state(field: &str, raw: &str) -> Result<State, AppError> {
    State::parse(raw).ok_or_else(|| {
        AppError::invalid(
            field,
            format!(
                "'{raw}' is not a status: use active, scheduled, expired, exhausted or revoked"
            ),
        )
    })
}

/// A page of the owner's share list, newest first.
#[derive(Debug, Clone)]
pub struct SharePage {
    pub shares: Vec<Share>,
    /// (files, bytes) each share shows in all, in the order of `shares`.
    pub totals: Vec<(i64, i64)>,
    /// (created_at, id) of the first and last share shown: the previous and next pages' bounds.
    pub ends: Option<((i64, i64), (i64, i64))>,
    pub has_prev: bool,
    pub has_next: bool,
    /// The org's shares (matching the filter, if any).
    pub total: u64,
}

impl ShareService {
    /// A page of the org's shares, `size` of them, newest first: those after the share at
    /// (created_at, id) `after`, else those before `before`, else the first; `contains` keeps
    /// the titles containing it. Reads that page's shares (and their lists) only.
    pub async fn list_page(
        &self,
        org_id: i64,
        after: Option<(i64, i64)>,
        before: Option<(i64, i64)>,
        contains: Option<String>,
        size: usize,
    ) -> Result<SharePage, AppError> {
        let seek = match (after, before) {
            (Some((a, i)), _) => q::ShareSeek::After(a, i),
            (None, Some((a, i))) => q::ShareSeek::Before(a, i),
            (None, None) => q::ShareSeek::First,
        };
        let (counters, base, now) = self.view_kit();
        self.db
            .read(move |c| {
                let pattern = contains
                    .as_deref()
                    .map(crate::db::listing::contains_pattern);
                let limit = i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1);
                let mut rows = q::share_page(c, org_id, seek, pattern.as_deref(), limit)?;
                // One more than shown tells whether a page follows in the reading direction.
                let more = rows.len() > size;
                rows.truncate(size);
                let (has_prev, has_next) = match seek {
                    q::ShareSeek::First => (false, more),
                    q::ShareSeek::After(..) => (true, more),
                    q::ShareSeek::Before(..) => {
                        rows.reverse();
                        (more, true)
                    }
                };
                let ends = rows
                    .first()
                    .zip(rows.last())
                    .map(|(a, b)| ((a.created_at, a.id), (b.created_at, b.id)));
                let total = q::count_shares(c, org_id, pattern.as_deref())?;
                let totals = rows
                    .iter()
                    .map(|row| crate::db::shared::share_totals(c, row.id))
                    .collect::<Result<Vec<_>, _>>()?;
                let shares = rows
                    .into_iter()
                    .map(|row| load(c, row, &counters, &base, now, true))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(SharePage {
                    shares,
                    totals,
                    ends,
                    has_prev,
                    has_next,
                    total: u64::try_from(total).unwrap_or(0),
                })
            })
            .await
    }
}
