//! A share as every adapter reads it, built from its stored rows at the domain's edge.

use super::SLUG_MAX;
use crate::db::from_ts;
use crate::db::shares::{self as q, ItemRow, ShareRow};
use crate::domain::counters::Counters;
use crate::domain::types::FolderVisibility;
use crate::domain::window::{self, State, Window};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::Connection;

/// What a visitor may do with the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    View,
    /// View and download.
    Download,
}

impl Permission {
    pub fn can_download(self) -> bool {
        self == Permission::Download
    }
}

/// Who may open the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone with the link.
    Link,
    /// Only the users the share lists, signed in.
    Users,
}

/// How a shared folder is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderOptions {
    pub recursive: bool,
    pub visibility: FolderVisibility,
}

/// A shared file (`folder` None) or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub uuid: String,
    pub folder: Option<FolderOptions>,
}

/// A listed user and the state of the newest mail to them (pending, sent, failed).
#[derive(Debug, Clone)]
pub struct Member {
    pub uuid: String,
    pub email: String,
    pub delivery: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Recipient {
    pub email: String,
    pub name: Option<String>,
    pub delivery: Option<String>,
}

/// A share as every answer needs it.
#[derive(Debug, Clone)]
pub struct Share {
    pub uuid: String,
    pub puid: String,
    pub org_token: String,
    pub title: String,
    pub description: String,
    pub items: Vec<Item>,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub starts_tz: String,
    pub expires_tz: String,
    pub show_starts_at: bool,
    pub show_expires_at: bool,
    pub permission: Permission,
    pub max_downloads: Option<i64>,
    pub access: Access,
    pub users: Vec<Member>,
    pub recipients: Vec<Recipient>,
    pub message: Option<String>,
    pub owner_uuid: Option<String>,
    /// Who made it (None: an API key); public pages say who it is from.
    pub owner_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// At the moment of the read, with the exact totals below.
    pub state: State,
    pub views: i64,
    pub downloads: i64,
    pub slug: String,
    pub share_uri: String,
    /// The stored row: password hash and generation, ids, counts as flushed.
    pub(in crate::domain) row: ShareRow,
    /// The ids of `users`, for `open`.
    pub(in crate::domain) user_ids: Vec<i64>,
}

impl Share {
    pub fn password_protected(&self) -> bool {
        self.row.password_hash.is_some()
    }

    /// The dates the share shows, each in its own zone ("Available from …", "Available until
    /// …"): what its page and its mails say of when it can be opened.
    pub fn shown_dates(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let (Some(t), true) = (self.starts_at, self.show_starts_at) {
            out.push(format!(
                "Available from {}",
                window::display_in(t, &self.starts_tz)
            ));
        }
        if let (Some(t), true) = (self.expires_at, self.show_expires_at) {
            out.push(format!(
                "Available until {}",
                window::display_in(t, &self.expires_tz)
            ));
        }
        out
    }
}

/// The title transliterated to ASCII (`Отчёт` → `otchiot`), lower-cased, each run of characters
/// other than `a-z0-9` one `-`, trimmed, at most 80 characters, `share` if empty.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(title).to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut s: String = out.trim_matches('-').chars().take(SLUG_MAX).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        "share".into()
    } else {
        s
    }
}

pub fn share_uri(base_url: &str, puid: &str, title: &str) -> String {
    format!("{base_url}/s/{puid}/{}", slug(title))
}

pub(super) fn window_of(row: &ShareRow, downloads: i64) -> Window {
    Window {
        revoked: row.revoked,
        starts_at: row.starts_at.map(from_ts),
        expires_at: row.expires_at.map(from_ts),
        max_downloads: row.max_downloads,
        downloads,
    }
}

/// A stored item; a visibility the schema's CHECK let through but this code does not know is
/// refused rather than guessed.
fn item_of(row: &ItemRow) -> Result<Item, AppError> {
    let folder = match row.folder_id {
        None => None,
        Some(_) => Some(FolderOptions {
            recursive: row.recursive,
            visibility: FolderVisibility::parse("visibility", &row.visibility)
                .map_err(|_| AppError::internal(format!("stored visibility {}", row.visibility)))?,
        }),
    };
    Ok(Item {
        uuid: row.uuid.clone(),
        folder,
    })
}

/// The share's items as stored now.
pub(super) fn items_in(c: &Connection, share_id: i64) -> Result<Vec<Item>, AppError> {
    q::items_of(c, share_id)?.iter().map(item_of).collect()
}

/// Assembles a share from its row. `full`: with recipients and delivery states (answers);
/// without, what `open` needs (the hot path of every public request): items, and users only
/// when the share is for users.
pub(super) fn load(
    c: &Connection,
    row: ShareRow,
    counters: &Counters,
    base_url: &str,
    now: DateTime<Utc>,
    full: bool,
) -> Result<Share, AppError> {
    let delivery = if full {
        q::delivery_of(c, row.id)?
    } else {
        Default::default()
    };
    let of = |email: &str| delivery.get(&email.to_lowercase()).cloned();
    let users = if full || row.users_only {
        q::users_of(c, row.id)?
    } else {
        vec![]
    };
    let recipients = if full {
        q::recipients_of(c, row.id)?
    } else {
        vec![]
    };
    let items = items_in(c, row.id)?;
    let mut share = Share {
        uuid: row.uuid.clone(),
        puid: row.puid.clone(),
        org_token: q::org_token(c, row.org_id)?,
        title: row.title.clone(),
        description: row.description.clone(),
        items,
        starts_at: row.starts_at.map(from_ts),
        expires_at: row.expires_at.map(from_ts),
        starts_tz: row.starts_tz.clone(),
        expires_tz: row.expires_tz.clone(),
        show_starts_at: row.show_starts_at,
        show_expires_at: row.show_expires_at,
        permission: if row.can_download {
            Permission::Download
        } else {
            Permission::View
        },
        max_downloads: row.max_downloads,
        access: if row.users_only {
            Access::Users
        } else {
            Access::Link
        },
        user_ids: users.iter().map(|u| u.user_id).collect(),
        users: users
            .into_iter()
            .map(|u| Member {
                delivery: of(&u.email),
                uuid: u.uuid,
                email: u.email,
            })
            .collect(),
        recipients: recipients
            .into_iter()
            .map(|r| Recipient {
                delivery: of(&r.email),
                email: r.email,
                name: r.name,
            })
            .collect(),
        message: row.message.clone(),
        owner_uuid: row.owner_uuid.clone(),
        owner_email: row.owner_email.clone(),
        created_at: from_ts(row.created_at),
        updated_at: from_ts(row.updated_at),
        // Set by `refresh` just below.
        state: State::Active,
        views: 0,
        downloads: 0,
        slug: slug(&row.title),
        share_uri: share_uri(base_url, &row.puid, &row.title),
        row,
    };
    refresh(&mut share, counters, now);
    Ok(share)
}

/// What depends on the moment, worked out on every read: the totals (flushed or not) and the
/// state at `now`.
pub(super) fn refresh(share: &mut Share, counters: &Counters, now: DateTime<Utc>) {
    let (views, downloads) = counters.totals(&share.row);
    share.views = views;
    share.downloads = downloads;
    share.state = window::state_at(&window_of(&share.row, downloads), now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("My share link 08/17/2031 06:48 PM"),
            "my-share-link-08-17-2031-06-48-pm"
        );
        assert_eq!(slug("  Ünïcode — Title!! "), "unicode-title");
        assert_eq!(slug("Отчёт за квартал"), "otchiot-za-kvartal");
        assert_eq!(slug("東京の写真"), "dong-jing-noxie-zhen");
        assert_eq!(slug("!!!"), "share");
        assert_eq!(slug(&"ab ".repeat(60)).len(), 80);
        assert!(!slug(&("a".repeat(79) + " b")).ends_with('-'));
    }
}
