//! A `ShareModelBody` as a `SharePatch`: each field is compared with what a GET answers *before* it
//! is read. A value equal to it (JSON equality: a lookup object is equal only with exactly the
//! keys `id` and `description`), null or absent changes nothing, so a whole GET answer sent
//! back never fails. Pure: an update runs it on the writer thread against the share as it is.

use super::share_body::{
    hours_message, AssetRef, EmailIn, Given, List, LookupIn, Member, Members, Named, Permissions,
    ShareModelBody, UserIn, DURATION_HOURS_MAX,
};
use super::share_model::{
    find_lookup, lookup_choices, Current, Lookup, Table, ACTIVE, DOWNLOAD, DURATIONS,
    DURATION_HOURS, EXPIRED, INACTIVE, NEVER, PERMISSIONS, STATUSES, TYPES, USER,
};
use crate::api::wire::Patch;
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, SharePatch, StatusChange, TimeValue,
    UserSpec,
};
use crate::domain::types::{Email, FolderVisibility};
use crate::domain::window::{self, State};
use crate::error::AppError;

/// JSON equality of a value as sent with the value a GET answers.
trait Same<C: ?Sized> {
    fn same(&self, current: &C) -> bool;
}

impl Same<Option<String>> for String {
    fn same(&self, current: &Option<String>) -> bool {
        current.as_ref() == Some(self)
    }
}

impl Same<Option<i64>> for i64 {
    fn same(&self, current: &Option<i64>) -> bool {
        *current == Some(*self)
    }
}

impl Same<bool> for bool {
    fn same(&self, current: &bool) -> bool {
        self == current
    }
}

/// A lookup answered as `{"id","description"}` equals only an object of exactly those.
fn same_lookup(n: &Named, l: &Lookup) -> bool {
    matches!(n, Named::Object(m) if m.is_lookup(&l.id, &l.description))
}

impl Same<Lookup> for LookupIn {
    fn same(&self, current: &Lookup) -> bool {
        same_lookup(&self.0, current)
    }
}

impl Same<Lookup> for UserIn {
    fn same(&self, current: &Lookup) -> bool {
        same_lookup(&self.0, current)
    }
}

impl Same<String> for AssetRef {
    fn same(&self, current: &String) -> bool {
        matches!(&self.0, Named::Text(s) if s == current)
    }
}

impl Same<Option<String>> for AssetRef {
    fn same(&self, current: &Option<String>) -> bool {
        current.as_ref().is_some_and(|c| self.same(c))
    }
}

impl Same<String> for EmailIn {
    fn same(&self, current: &String) -> bool {
        matches!(&self.0, Named::Text(s) if s == current)
    }
}

impl<T: Same<C>, C> Same<C> for Given<T> {
    fn same(&self, current: &C) -> bool {
        matches!(self, Given::Value(v) if v.same(current))
    }
}

impl<T: Same<C>, C> Same<Vec<C>> for Vec<T> {
    fn same(&self, current: &Vec<C>) -> bool {
        self.len() == current.len() && self.iter().zip(current).all(|(a, b)| a.same(b))
    }
}

impl<T, C> Same<Vec<C>> for List<T>
where
    Given<T>: Same<C>,
{
    fn same(&self, current: &Vec<C>) -> bool {
        self.0.same(current)
    }
}

impl Same<Vec<Lookup>> for Permissions {
    fn same(&self, current: &Vec<Lookup>) -> bool {
        match self {
            Permissions::List(list) => list.same(current),
            Permissions::One(_) => false,
        }
    }
}

/// The value of a field's kind, or its 400 naming `field`.
fn given<'a, T>(field: &str, g: &'a Given<T>) -> Result<&'a T, AppError> {
    match g {
        Given::Value(v) => Ok(v),
        Given::Wrong(message) => Err(AppError::invalid(field, message.clone())),
    }
}

/// The value sent for a field when it is there, not null, and not what a GET answers.
fn changed<'a, T: Same<C>, C>(sent: &'a Patch<T>, current: &C) -> Option<&'a T> {
    match sent {
        Patch::Value(v) if !v.same(current) => Some(v),
        _ => None,
    }
}

/// A write as a patch, and the field that set the expiry (for the service's errors).
pub struct Parsed {
    pub patch: SharePatch,
    pub expiry_field: &'static str,
}

/// A lookup written as `{"id","description"}` or a string: matched by id, else by
/// description or name, in any letter case.
fn pick(field: &str, v: &LookupIn, table: Table) -> Result<u8, AppError> {
    let found = match &v.0 {
        Named::Text(s) => find_lookup(table, s),
        Named::Object(m) => [&m.id, &m.description, &m.name]
            .into_iter()
            .filter_map(Member::text)
            .find_map(|s| find_lookup(table, s)),
    };
    found.ok_or_else(|| AppError::invalid(field, lookup_choices(table)))
}

/// The string, or the first of `members` that is a string.
fn first<'a>(
    n: &'a Named,
    members: impl FnOnce(&'a Members) -> [&'a Member; 3],
) -> Option<&'a str> {
    match n {
        Named::Text(s) => Some(s),
        Named::Object(m) => members(m).into_iter().find_map(Member::text),
    }
}

/// An asset's uuid as a string (or `{"id"}`).
fn asset_id(field: &str, a: &AssetRef) -> Result<String, AppError> {
    match &a.0 {
        Named::Text(s) => Ok(s.clone()),
        Named::Object(m) => {
            m.id.text()
                .map(str::to_string)
                .ok_or_else(|| AppError::invalid(field, "give the asset's \"id\""))
        }
    }
}

/// The items, when `assetId` or `sharedContents` differs: the given (else current) `assetId`
/// followed by the given (else current) `sharedContents`.
fn items(b: &ShareModelBody, c: &Current) -> Result<Option<Vec<ItemSpec>>, AppError> {
    if changed(&b.asset_id, &c.asset_id).is_none()
        && changed(&b.shared_contents, &c.shared_contents).is_none()
    {
        return Ok(None);
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    match &b.asset_id {
        Patch::Value(a) => ids.push(("assetId".into(), asset_id("assetId", given("assetId", a)?)?)),
        _ => ids.extend(c.asset_id.iter().map(|id| ("assetId".into(), id.clone()))),
    }
    match &b.shared_contents {
        Patch::Value(list) => {
            for (i, x) in list.0.iter().enumerate() {
                let field = format!("sharedContents[{i}]");
                let id = asset_id(&field, given(&field, x)?)?;
                ids.push((field, id));
            }
        }
        _ => ids.extend(
            c.shared_contents
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("sharedContents[{i}]"), id.clone())),
        ),
    }
    Ok(Some(
        ids.into_iter()
            .map(|(field, id)| ItemSpec {
                kind: ItemKind::Any,
                id,
                field,
                recursive: true,
                visibility: FolderVisibility::All,
            })
            .collect(),
    ))
}

/// The users of `list`, each named `field[i]` in errors.
pub fn users(field: &str, list: &List<UserIn>) -> Result<Vec<UserSpec>, AppError> {
    list.0
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let field = format!("{field}[{i}]");
            let key = first(&given(&field, u)?.0, |m| [&m.id, &m.email, &m.description])
                .ok_or_else(|| AppError::invalid(&field, "give the user's \"id\" or \"email\""))?;
            Ok(UserSpec {
                key: key.to_string(),
                field,
            })
        })
        .collect()
}

/// The addresses of `list`, each named `field[i]` in errors.
pub fn emails(field: &str, list: &List<EmailIn>) -> Result<Vec<Email>, AppError> {
    list.0
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = format!("{field}[{i}]");
            let raw = first(&given(&field, e)?.0, |m| [&m.email, &m.id, &m.description])
                .ok_or_else(|| AppError::invalid(&field, "give the address as \"email\""))?;
            Email::parse(&field, raw)
        })
        .collect()
}

fn permission(v: &Permissions) -> Result<Permission, AppError> {
    let list: Vec<&Given<LookupIn>> = match v {
        Permissions::List(list) => list.iter().collect(),
        Permissions::One(one) => vec![one],
    };
    if list.is_empty() {
        return Err(AppError::invalid(
            "sharedPermissions",
            "give [View] or [View, Download]",
        ));
    }
    let mut download = false;
    for (i, x) in list.into_iter().enumerate() {
        let field = format!("sharedPermissions[{i}]");
        download |= pick(&field, given(&field, x)?, PERMISSIONS)? == DOWNLOAD;
    }
    Ok(if download {
        Permission::Download
    } else {
        Permission::View
    })
}

/// The body as a patch against `c` (what a GET answers, or the create defaults).
pub fn diff(b: &ShareModelBody, c: &Current) -> Result<Parsed, AppError> {
    let mut p = SharePatch::default();
    if let Some(name) = changed(&b.name, &c.name) {
        p.title = Some(name.clone());
    }
    p.items = items(b, c)?;
    if let Some(v) = changed(&b.shared_permissions, &c.shared_permissions) {
        p.permission = Some(permission(v)?);
    }
    if let Some(v) = changed(&b.shared_type, &c.shared_type) {
        p.access = Some(if pick("sharedType", v, TYPES)? == USER {
            Access::Users
        } else {
            Access::Link
        });
    }
    if let Some(v) = changed(&b.shared_status, &c.shared_status) {
        p.status = match pick("sharedStatus", v, STATUSES)? {
            ACTIVE => Some(StatusChange::Restore),
            INACTIVE => Some(StatusChange::Revoke),
            EXPIRED => Some(StatusChange::ExpireNow),
            _ if c.state == Some(State::Scheduled) => None,
            _ => {
                return Err(AppError::invalid(
                    "sharedStatus",
                    "Scheduled cannot be set: use Active, Inactive or Expired",
                ))
            }
        };
    }
    // Expiry: expirationDate beats sharedDurationInHours beats sharedDuration.
    let date = changed(&b.expiration_date, &c.expiration_date)
        .map(|s| {
            window::parse_instant("expirationDate", s, chrono_tz::Tz::UTC).map(TimeValue::Instant)
        })
        .transpose()?;
    let hours = changed(&b.shared_duration_in_hours, &c.shared_duration_in_hours)
        .map(|h| {
            Some(*h)
                .filter(|h| (1..=DURATION_HOURS_MAX).contains(h))
                .map(|h| TimeValue::After(chrono::Duration::hours(h)))
                .ok_or_else(|| AppError::invalid("sharedDurationInHours", hours_message()))
        })
        .transpose()?;
    let duration = changed(&b.shared_duration, &c.shared_duration)
        .map(|v| pick("sharedDuration", v, DURATIONS))
        .transpose()?;
    let mut expiry_field = "expirationDate";
    if let Some(t) = date {
        p.expires_at = Some(Some(t));
    } else if let Some(t) = hours {
        p.expires_at = Some(Some(t));
        expiry_field = "sharedDurationInHours";
    } else if let Some(nn) = duration {
        expiry_field = "sharedDuration";
        if nn == NEVER {
            p.expires_at = Some(None);
        } else if let Some((_, h)) = DURATION_HOURS.iter().find(|(n, _)| *n == nn) {
            p.expires_at = Some(Some(TimeValue::After(chrono::Duration::hours(*h))));
        }
    }
    if let Some(v) = changed(&b.nomad_users, &c.nomad_users) {
        p.users = Some(users("nomadUsers", v)?);
    }
    if let Some(v) = changed(&b.external_users, &c.external_users) {
        p.recipients = Some(
            emails("externalUsers", v)?
                .into_iter()
                .map(RecipientSpec::new)
                .collect(),
        );
    }
    p.password = b.password.as_ref().value().map(|s| match s.as_str() {
        "" => None,
        s => Some(s.to_string()),
    });
    if let Some(protect) = changed(&b.password_protected, &c.password_protected) {
        match (*protect, &p.password) {
            (false, None) => p.password = Some(None),
            (false, Some(_)) | (true, Some(Some(_))) => {}
            (true, _) => {
                return Err(AppError::invalid(
                    "passwordProtected",
                    "send a `password` to protect the share",
                ))
            }
        }
    }
    if let Some(n) = changed(&b.max_downloads, &c.max_downloads) {
        p.max_downloads = Some(Some(*n).filter(|n| *n != 0));
    }
    Ok(Parsed {
        patch: p,
        expiry_field,
    })
}

#[cfg(test)]
mod tests;
