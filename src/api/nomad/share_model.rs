//! Nomad's ShareModel, as every share route answers it, and its lookups: the fixed
//! `{"id","description"}` values of `sharedType`, `sharedStatus`, `sharedPermissions` and
//! `sharedDuration`, and how a request names one (by id, description or name, in any case).

use crate::api::time;
use crate::domain::shares::{Access, Share};
use crate::domain::window::State;
use serde::Serialize;
use utoipa::ToSchema;

/// A lookup value: `{"id","description"}`.
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct Lookup {
    pub id: String,
    pub description: String,
}

/// (NN of the id `00000000-5b0c-4000-8000-0000000000NN`, description).
pub(super) type Table = &'static [(u8, &'static str)];

pub(super) const TYPES: Table = &[(1, "Link"), (2, "User")];
pub(super) const STATUSES: Table = &[
    (11, "Active"),
    (12, "Inactive"),
    (13, "Expired"),
    (14, "Scheduled"),
];
pub(super) const PERMISSIONS: Table = &[(21, "View"), (22, "Download")];
pub(super) const DURATIONS: Table = &[
    (31, "1 Hour"),
    (32, "1 Day"),
    (33, "1 Week"),
    (34, "1 Month"),
    (35, "Never"),
    (36, "Custom"),
];
/// The hours of the fixed durations.
pub(super) const DURATION_HOURS: &[(u8, i64)] = &[(31, 1), (32, 24), (33, 168), (34, 720)];

pub(super) const LINK: u8 = 1;
pub(super) const USER: u8 = 2;
pub(super) const ACTIVE: u8 = 11;
pub(super) const INACTIVE: u8 = 12;
pub(super) const EXPIRED: u8 = 13;
pub(super) const SCHEDULED: u8 = 14;
pub(super) const VIEW: u8 = 21;
pub(super) const DOWNLOAD: u8 = 22;
pub(super) const NEVER: u8 = 35;
pub(super) const CUSTOM: u8 = 36;

pub(super) fn lookup_id(nn: u8) -> String {
    format!("00000000-5b0c-4000-8000-0000000000{nn:02}")
}

pub(super) fn lookup(table: Table, nn: u8) -> Lookup {
    Lookup {
        id: lookup_id(nn),
        description: table
            .iter()
            .find(|(n, _)| *n == nn)
            .map(|(_, d)| d.to_string())
            .unwrap_or_default(),
    }
}

/// The entry of `table` whose id, or description, is `s` (trimmed, in any letter case).
pub(super) fn find_lookup(table: Table, s: &str) -> Option<u8> {
    let s = s.trim();
    table
        .iter()
        .find(|(nn, d)| lookup_id(*nn).eq_ignore_ascii_case(s) || d.eq_ignore_ascii_case(s))
        .map(|(nn, _)| *nn)
}

/// "use one of: View, Download": the 400 for a lookup not in `table`.
pub(super) fn lookup_choices(table: Table) -> String {
    let names: Vec<&str> = table.iter().map(|(_, d)| *d).collect();
    format!("use one of: {}", names.join(", "))
}

/// The ShareModel: every key always present, null where unset.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ShareModel {
    pub id: String,
    pub name: String,
    /// Every item's uuid, `assetId` first.
    pub shared_contents: Vec<String>,
    /// `1 Hour`, `1 Day`, `1 Week`, `1 Month` (exactly that many hours to the expiry), `Never`
    /// (no expiry) or `Custom`.
    pub shared_duration: Lookup,
    /// `[View]` or `[View, Download]`.
    pub shared_permissions: Vec<Lookup>,
    /// `Link` or `User`.
    pub shared_type: Lookup,
    /// `Active`, `Inactive` (revoked), `Expired` (or out of downloads), `Scheduled`.
    pub shared_status: Lookup,
    /// Hours from `createdDate` to the expiry, rounded up; null without expiry.
    pub shared_duration_in_hours: Option<i64>,
    pub shared_link: String,
    pub owner_id: Option<String>,
    pub expiration_date: Option<String>,
    /// The first item.
    pub asset_id: Option<String>,
    /// `[{"id": <user uuid>, "description": <email>}]`
    pub nomad_users: Vec<Lookup>,
    /// Emails.
    pub external_users: Vec<String>,
    pub password_protected: bool,
    pub max_downloads: Option<i64>,
    pub views: i64,
    pub downloads: i64,
    pub created_date: String,
    pub last_modified_date: String,
}

pub(super) fn status_nn(state: State) -> u8 {
    match state {
        State::Active => ACTIVE,
        State::Revoked => INACTIVE,
        State::Expired | State::Exhausted => EXPIRED,
        State::Scheduled => SCHEDULED,
    }
}

impl From<&Share> for ShareModel {
    fn from(s: &Share) -> Self {
        let contents: Vec<String> = s.items.iter().map(|i| i.uuid.clone()).collect();
        let hours = s
            .expires_at
            .map(|e| ((e - s.created_at).num_seconds().max(0) + 3599) / 3600);
        let duration = match hours {
            None => NEVER,
            Some(h) => DURATION_HOURS
                .iter()
                .find(|(_, n)| *n == h)
                .map_or(CUSTOM, |(nn, _)| *nn),
        };
        let mut permissions = vec![lookup(PERMISSIONS, VIEW)];
        if s.permission.can_download() {
            permissions.push(lookup(PERMISSIONS, DOWNLOAD));
        }
        ShareModel {
            id: s.uuid.clone(),
            name: s.title.clone(),
            asset_id: contents.first().cloned(),
            shared_contents: contents,
            shared_duration: lookup(DURATIONS, duration),
            shared_permissions: permissions,
            shared_type: lookup(
                TYPES,
                match s.access {
                    Access::Users => USER,
                    Access::Link => LINK,
                },
            ),
            shared_status: lookup(STATUSES, status_nn(s.state)),
            shared_duration_in_hours: hours,
            shared_link: s.share_uri.clone(),
            owner_id: s.owner_uuid.clone(),
            expiration_date: s.expires_at.map(time),
            nomad_users: s
                .users
                .iter()
                .map(|u| Lookup {
                    id: u.uuid.clone(),
                    description: u.email.clone(),
                })
                .collect(),
            external_users: s.recipients.iter().map(|x| x.email.clone()).collect(),
            password_protected: s.password_protected(),
            max_downloads: s.max_downloads,
            views: s.views,
            downloads: s.downloads,
            created_date: time(s.created_at),
            last_modified_date: time(s.updated_at),
        }
    }
}

/// What a GET answers for the fields a write may set: a share's, or, for a create, what a
/// share made now with the defaults would answer.
#[derive(Debug, Clone)]
pub struct Current {
    /// None: a new share has no name until its first item gives it one.
    pub name: Option<String>,
    pub asset_id: Option<String>,
    pub shared_contents: Vec<String>,
    pub shared_duration: Lookup,
    pub shared_duration_in_hours: Option<i64>,
    pub expiration_date: Option<String>,
    pub shared_permissions: Vec<Lookup>,
    pub shared_type: Lookup,
    pub shared_status: Lookup,
    pub nomad_users: Vec<Lookup>,
    pub external_users: Vec<String>,
    pub password_protected: bool,
    pub max_downloads: Option<i64>,
    /// The share's state; None for a create.
    pub state: Option<State>,
}

impl Current {
    /// The create defaults.
    pub fn defaults() -> Current {
        Current {
            name: None,
            asset_id: None,
            shared_contents: vec![],
            shared_duration: lookup(DURATIONS, NEVER),
            shared_duration_in_hours: None,
            expiration_date: None,
            shared_permissions: vec![lookup(PERMISSIONS, VIEW), lookup(PERMISSIONS, DOWNLOAD)],
            shared_type: lookup(TYPES, LINK),
            shared_status: lookup(STATUSES, ACTIVE),
            nomad_users: vec![],
            external_users: vec![],
            password_protected: false,
            max_downloads: None,
            state: None,
        }
    }

    /// What a GET of `share` answers.
    pub fn of(share: &Share) -> Current {
        let m = ShareModel::from(share);
        Current {
            name: Some(m.name),
            asset_id: m.asset_id,
            shared_contents: m.shared_contents,
            shared_duration: m.shared_duration,
            shared_duration_in_hours: m.shared_duration_in_hours,
            expiration_date: m.expiration_date,
            shared_permissions: m.shared_permissions,
            shared_type: m.shared_type,
            shared_status: m.shared_status,
            nomad_users: m.nomad_users,
            external_users: m.external_users,
            password_protected: m.password_protected,
            max_downloads: m.max_downloads,
            state: Some(share.state),
        }
    }
}
