//! The body of `POST /{token}/v5/shares` and `PUT /{token}/v5/shares/{uuid}`: serde DTOs and
//! their one mapping to a `SharePatch`.
//!
//! A field of the wrong kind is the 400 every dialect gives ("must be true or false, not a
//! number"), named by its JSON path (`items[0].options.recursive`, which `api::parse_json` takes
//! from serde). Values that are of the right kind but wrong (a bad email, a missing `email`) are
//! refused by the mapping, with the path it knows, through the domain's constructors.

use super::kinds::{
    by_kind, flag, integer_or_null, only_string, present, string, string_or_none, string_or_null,
    ByKind, Deferred, List, Obj,
};
use crate::api::wire::{expect, Patch};
use crate::domain::shares::{
    Access, ItemKind, ItemSpec, Permission, RecipientSpec, SharePatch, StatusChange, TimeValue,
    UserSpec,
};
use crate::domain::types::{Email, FolderVisibility};
use crate::error::AppError;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Error, IgnoredAny, MapAccess, SeqAccess};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A share as `POST /{token}/v5/shares` creates it or `PUT /{token}/v5/shares/{uuid}` changes
/// it: on update, present fields replace and absent ones stay. Other fields are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ShareBody {
    /// The share's title; required on create.
    #[serde(default, deserialize_with = "string")]
    #[schema(value_type = String)]
    title: Option<String>,
    /// The share's description; null = "".
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    description: Patch<String>,
    /// The files and folders shared, none twice; required on create, replaces the list on update.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<ShareBodyItem>)]
    items: Option<List<Obj<ShareBodyItem>>>,
    /// With an offset or `Z`, that instant; without (`2031-08-18T18:29`), wall time in
    /// `starts_tz`. null or "" = no start.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    starts_at: Patch<String>,
    /// As `starts_at`, read in `expires_tz`; null or "" = no expiry.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    expires_at: Patch<String>,
    /// The IANA zone `starts_at` is read in; null = `UTC`.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>, example = "Europe/Sofia")]
    starts_tz: Patch<String>,
    /// The IANA zone `expires_at` is read in; null = `UTC`.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>, example = "Europe/Sofia")]
    expires_tz: Patch<String>,
    /// Whether the share's page shows the start (default true); null leaves it.
    #[serde(default, deserialize_with = "flag")]
    show_starts_at: Option<bool>,
    /// Whether the share's page shows the expiry (default true); null leaves it.
    #[serde(default, deserialize_with = "flag")]
    show_expires_at: Option<bool>,
    /// The password; null, `{}`, `[]` or an empty or null `pass` = none (on update: removes it).
    #[serde(default)]
    #[schema(value_type = Option<ShareBodyAuth>)]
    auth: Patch<ShareBodyAuth>,
    /// Whether visitors may download (default `READ+DOWNLOAD`); null leaves it.
    #[serde(default)]
    permissions: Option<ShareBodyPermissions>,
    /// How many downloads the share allows; null = no limit.
    #[serde(default, deserialize_with = "integer_or_null")]
    #[schema(value_type = Option<i64>)]
    max_downloads: Patch<i64>,
    /// Who may open the link (default `link`); null leaves it.
    #[serde(default)]
    access: Option<ShareBodyAccess>,
    /// Users of the org, mailed the link; with `access` `users`, the only ones let in. null = none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<ShareBodyUser>>)]
    users: Patch<List<ShareBodyUser>>,
    /// Addresses mailed the link; null = none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<ShareBodyRecipient>>)]
    recipients: Patch<List<ShareBodyRecipient>>,
    /// A note for the mail to users and recipients; null or "" = none.
    #[serde(default, deserialize_with = "string_or_null")]
    #[schema(value_type = Option<String>)]
    message: Patch<String>,
    /// Update only (a create ignores it): `revoked` revokes, `active` restores; null leaves it.
    #[serde(default)]
    #[schema(value_type = Option<ShareBodyStatus>)]
    status: Option<Deferred<ShareBodyStatus>>,
}

/// Files or folders of the org, all of one type and options.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareBodyItem {
    /// `file_uuid` or `folder_uuid`.
    #[serde(rename = "type", default)]
    #[schema(value_type = ShareBodyItemType, required = true)]
    kind: Option<ShareBodyItemType>,
    /// Their uuids.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<String>, required = true, min_items = 1)]
    identifiers: Option<List<Identifier>>,
    /// Folders only (a file's are ignored, whatever they are).
    #[serde(default)]
    #[schema(value_type = Option<ShareBodyItemOptions>)]
    options: Option<Deferred<Obj<ShareBodyItemOptions>>>,
}

/// What an item names.
// Read by its own `Deserialize` (below); the `schema` attribute only spells it for the schema.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ShareBodyItemType {
    FileUuid,
    FolderUuid,
}

/// How a folder is shared.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ShareBodyItemOptions {
    /// Subfolders too (default false).
    #[serde(default, deserialize_with = "flag")]
    recursive: Option<bool>,
    /// Which of its files show, by their visibility: `PUB`, `ORG` or `PUB,ORG` (the default),
    /// in any letter case.
    #[serde(default, deserialize_with = "string_or_none")]
    #[schema(example = "PUB,ORG")]
    visibility: Option<String>,
}

/// `{"pass"}`, or `[{"pass","user"}]` whose first element counts (`user` is ignored).
// Read by its own `Deserialize` (below), as are the other enums here; `serde(untagged)` only
// shapes the schema (a oneOf of the variants).
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum ShareBodyAuth {
    Object(ShareBodyPass),
    List(Vec<ShareBodyPass>),
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareBodyPass {
    /// The password; "" or null = none.
    #[serde(default, deserialize_with = "string_or_none")]
    pass: Option<String>,
}

/// `"READ"` or `"READ+DOWNLOAD"`, or a non-empty list of `"view"` and `"download"` (download
/// with or without view = `READ+DOWNLOAD`); in any letter case.
#[derive(Debug, Clone, Copy)]
pub struct ShareBodyPermissions(Permission);

/// `link` (anyone with the link) or `users` (the listed users, signed in); in any letter case.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ShareBodyAccess {
    Link,
    Users,
}

/// A user of the org: its uuid or email as a string, or `{"uuid"}` or `{"email"}`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum ShareBodyUser {
    Key(String),
    Fields(ShareBodyUserFields),
}

/// `uuid` wins over `email`; a field that is not a string counts as absent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareBodyUserFields {
    #[serde(default, deserialize_with = "only_string")]
    uuid: Option<String>,
    #[serde(default, deserialize_with = "only_string")]
    email: Option<String>,
}

/// An email address, or `{"email","name"?}`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum ShareBodyRecipient {
    Address(String),
    Fields(ShareBodyRecipientFields),
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareBodyRecipientFields {
    /// Required (a value that is not a string counts as absent).
    #[serde(default, deserialize_with = "only_string")]
    #[schema(value_type = String, required = true)]
    email: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    name: Option<String>,
}

/// A status a `PUT` may set.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ShareBodyStatus {
    Revoked,
    Active,
}

/// An item's uuid.
#[derive(Debug)]
pub struct Identifier(String);

impl ShareBody {
    /// The write this body asks for; only an update (`update`) reads `status`.
    pub fn into_patch(self, update: bool) -> Result<SharePatch, AppError> {
        // A blank date is the domain's to refuse: only null means none.
        let time = |t: Patch<String>| t.into_option().map(|v| v.map(TimeValue::Raw));
        Ok(SharePatch {
            title: self.title,
            description: self
                .description
                .into_option()
                .map(Option::unwrap_or_default),
            items: self.items.map(|List(v)| items(v)).transpose()?,
            starts_at: time(self.starts_at),
            expires_at: time(self.expires_at),
            starts_tz: self.starts_tz.into_option(),
            expires_tz: self.expires_tz.into_option(),
            show_starts_at: self.show_starts_at,
            show_expires_at: self.show_expires_at,
            password: self
                .auth
                .into_option()
                .map(|a| a.and_then(ShareBodyAuth::pass)),
            permission: self.permissions.map(|p| p.0),
            max_downloads: self.max_downloads.into_option(),
            access: self.access.map(|a| match a {
                ShareBodyAccess::Link => Access::Link,
                ShareBodyAccess::Users => Access::Users,
            }),
            users: listed(self.users).map(users).transpose()?,
            recipients: listed(self.recipients).map(recipients).transpose()?,
            message: self.message.into_option(),
            status: match self.status {
                Some(s) if update => Some(match s.get("status")? {
                    ShareBodyStatus::Revoked => StatusChange::Revoke,
                    ShareBodyStatus::Active => StatusChange::Restore,
                }),
                _ => None,
            },
            ..SharePatch::default()
        })
    }
}

fn items(list: Vec<Obj<ShareBodyItem>>) -> Result<Vec<ItemSpec>, AppError> {
    let mut out = Vec::new();
    for (i, Obj(item)) in list.into_iter().enumerate() {
        let f = format!("items[{i}]");
        let kind = match item.kind {
            Some(ShareBodyItemType::FileUuid) => ItemKind::File,
            Some(ShareBodyItemType::FolderUuid) => ItemKind::Folder,
            None => return Err(AppError::invalid(format!("{f}.type"), ITEM_TYPES)),
        };
        let options = match item.options {
            Some(o) if kind == ItemKind::Folder => o.get(&format!("{f}.options"))?.0,
            _ => ShareBodyItemOptions::default(),
        };
        let visibility = match &options.visibility {
            Some(v) => FolderVisibility::parse(format!("{f}.options.visibility"), v)?,
            None => FolderVisibility::All,
        };
        let field = format!("{f}.identifiers");
        let List(ids) = item
            .identifiers
            .ok_or_else(|| AppError::invalid(&field, "`identifiers` is required"))?;
        if ids.is_empty() {
            return Err(AppError::invalid(&field, "needs at least one uuid"));
        }
        out.extend(
            ids.into_iter()
                .enumerate()
                .map(|(j, Identifier(id))| ItemSpec {
                    kind,
                    id,
                    field: format!("{field}[{j}]"),
                    recursive: options.recursive.unwrap_or(false),
                    visibility,
                }),
        );
    }
    Ok(out)
}

fn users(list: Vec<ShareBodyUser>) -> Result<Vec<UserSpec>, AppError> {
    let spec = |(i, user)| {
        let field = format!("users[{i}]");
        let key = match user {
            ShareBodyUser::Key(key) => key,
            ShareBodyUser::Fields(ShareBodyUserFields { uuid: Some(id), .. }) => id,
            ShareBodyUser::Fields(ShareBodyUserFields { email: Some(e), .. }) => e,
            ShareBodyUser::Fields(_) => {
                return Err(AppError::invalid(
                    field,
                    "give the user's \"uuid\" or \"email\"",
                ))
            }
        };
        Ok(UserSpec { key, field })
    };
    list.into_iter().enumerate().map(spec).collect()
}

fn recipients(list: Vec<ShareBodyRecipient>) -> Result<Vec<RecipientSpec>, AppError> {
    let spec = |(i, recipient)| match recipient {
        ShareBodyRecipient::Address(a) => Ok(RecipientSpec::new(Email::parse(
            &format!("recipients[{i}]"),
            &a,
        )?)),
        ShareBodyRecipient::Fields(ShareBodyRecipientFields { email, name }) => {
            let field = format!("recipients[{i}].email");
            let email = email.ok_or_else(|| AppError::invalid(&field, "`email` is required"))?;
            RecipientSpec::named(
                Email::parse(&field, &email)?,
                name,
                &format!("recipients[{i}].name"),
            )
        }
    };
    list.into_iter().enumerate().map(spec).collect()
}

/// A list field: absent leaves the list, null empties it.
fn listed<T>(list: Patch<List<T>>) -> Option<Vec<T>> {
    list.into_option()
        .map(|l| l.map_or_else(Vec::new, |List(v)| v))
}

impl ShareBodyAuth {
    /// The password it sets, if any.
    pub(super) fn pass(self) -> Option<String> {
        let first = match self {
            ShareBodyAuth::Object(p) => Some(p),
            ShareBodyAuth::List(list) => list.into_iter().next(),
        };
        first.and_then(|p| p.pass).filter(|p| !p.is_empty())
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        expect(d, "a uuid string", |v| match v {
            Value::String(s) => Ok(Identifier(s)),
            other => Err(other),
        })
    }
}

const ITEM_TYPES: &str = "must be \"file_uuid\" or \"folder_uuid\"";

impl<'de> Deserialize<'de> for ShareBodyItemType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)?.as_str() {
            Some("file_uuid") => Ok(ShareBodyItemType::FileUuid),
            Some("folder_uuid") => Ok(ShareBodyItemType::FolderUuid),
            _ => Err(D::Error::custom(ITEM_TYPES)),
        }
    }
}

impl<'de> Deserialize<'de> for ShareBodyAccess {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = expect(d, "a string", |v| match v {
            Value::String(s) => Ok(s),
            other => Err(other),
        })?;
        match s.to_ascii_lowercase().as_str() {
            "link" => Ok(ShareBodyAccess::Link),
            "users" => Ok(ShareBodyAccess::Users),
            _ => Err(D::Error::custom("must be \"link\" or \"users\"")),
        }
    }
}

impl<'de> Deserialize<'de> for ShareBodyStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)?.as_str() {
            Some("revoked") => Ok(ShareBodyStatus::Revoked),
            Some("active") => Ok(ShareBodyStatus::Active),
            _ => Err(D::Error::custom(
                "only \"revoked\" (revoke) or \"active\" (restore) can be set",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for ShareBodyPermissions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let download =
            match Value::deserialize(d)? {
                Value::String(s) => match s.to_ascii_uppercase().as_str() {
                    "READ" => Some(false),
                    "READ+DOWNLOAD" => Some(true),
                    _ => None,
                },
                Value::Array(list) if !list.is_empty() => list.iter().try_fold(false, |dl, p| {
                    match p.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("view") => Some(dl),
                        Some("download") => Some(true),
                        _ => None,
                    }
                }),
                _ => None,
            };
        match download {
            Some(true) => Ok(ShareBodyPermissions(Permission::Download)),
            Some(false) => Ok(ShareBodyPermissions(Permission::View)),
            None => Err(D::Error::custom(
                "use \"READ\", \"READ+DOWNLOAD\", [\"view\"] or [\"view\",\"download\"]",
            )),
        }
    }
}

impl PartialSchema for ShareBodyPermissions {
    fn schema() -> RefOr<Schema> {
        let word = |words: [&str; 2]| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words))
        };
        OneOfBuilder::new()
            .item(word(["READ", "READ+DOWNLOAD"]))
            .item(
                ArrayBuilder::new()
                    .items(word(["view", "download"]))
                    .min_items(Some(1)),
            )
            .description(Some(
                "`READ` or `READ+DOWNLOAD`, or a list of `view` and `download` \
                 (`download` = `READ+DOWNLOAD`); in any letter case",
            ))
            .into()
    }
}

impl ToSchema for ShareBodyPermissions {}

impl<'de> ByKind<'de> for ShareBodyAuth {
    const WANT: &'static str = "an object or an array";
    fn object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        ShareBodyPass::deserialize(MapAccessDeserializer::new(map)).map(ShareBodyAuth::Object)
    }
    fn array<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let first = seq.next_element::<Obj<ShareBodyPass>>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ShareBodyAuth::List(
            first.map(|Obj(p)| p).into_iter().collect(),
        ))
    }
}

impl<'de> ByKind<'de> for ShareBodyUser {
    const WANT: &'static str = "an object or a string";
    fn string<E: Error>(s: &str) -> Result<Self, E> {
        Ok(ShareBodyUser::Key(s.to_string()))
    }
    fn object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Deserialize::deserialize(MapAccessDeserializer::new(map)).map(ShareBodyUser::Fields)
    }
}

impl<'de> ByKind<'de> for ShareBodyRecipient {
    const WANT: &'static str = "an object or an email string";
    fn string<E: Error>(s: &str) -> Result<Self, E> {
        Ok(ShareBodyRecipient::Address(s.to_string()))
    }
    fn object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Deserialize::deserialize(MapAccessDeserializer::new(map)).map(ShareBodyRecipient::Fields)
    }
}

impl<'de> Deserialize<'de> for ShareBodyAuth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_kind(d)
    }
}

impl<'de> Deserialize<'de> for ShareBodyUser {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_kind(d)
    }
}

impl<'de> Deserialize<'de> for ShareBodyRecipient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_kind(d)
    }
}

#[cfg(test)]
mod tests;
