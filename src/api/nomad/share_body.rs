//! The Nomad share request bodies as serde reads them: `ShareModelBody` (a ShareModel, every field
//! optional) and `NotificationBody`. No field holds a `serde_json::Value`.
//!
//! Each field keeps the form it was sent in, so the diff (share_diff.rs) can compare it with
//! what a GET answers before reading it. A field of a kind it never takes is a 400 here, named
//! by its JSON path with the message every dialect uses ("must be a string, not a number").
//! Four places keep that message to raise when they are read, so their errors come in the
//! order and under the names they always had: `id` (only `POST` reads it), `assetId` (the path
//! of `POST /api/asset/{assetId}/share` replaces it unread), the entries of a list (`List`: a
//! `[{"id": "x"}, 7]` is checked entry by entry, `sharedContents[1]`), and a single
//! `sharedPermissions` lookup (named `sharedPermissions[0]`).

use crate::api::wire::{expect, wrong_kind, Patch};
use serde::de::{self, Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// `sharedDurationInHours` may be 1 hour to 10 years.
pub const DURATION_HOURS_MAX: i64 = 87_600;

/// The 400 for `sharedDurationInHours` out of range or not a whole number.
pub fn hours_message() -> String {
    format!("must be a whole number of hours, 1 to {DURATION_HOURS_MAX}")
}

/// A ShareModel as a write sends it: null, absent or equal to what a GET answers leaves a
/// field as it is.
#[derive(Deserialize, ToSchema, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShareModelBody {
    /// In `POST`: null or absent creates a share, a share's id updates that share. Ignored by
    /// `PUT` (the path names the share), whatever it is.
    #[serde(default, deserialize_with = "share_id")]
    #[schema(value_type = Option<String>)]
    pub id: Option<Given<String>>,
    /// The share's title; a new share without one takes its first item's name.
    #[serde(default, deserialize_with = "string")]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// The first item (a file or folder uuid).
    #[serde(default)]
    #[schema(value_type = Option<AssetRef>)]
    pub asset_id: Patch<Given<AssetRef>>,
    /// The items after `assetId`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<AssetRef>>)]
    pub shared_contents: Patch<List<AssetRef>>,
    /// `1 Hour`, `1 Day`, `1 Week`, `1 Month`, `Never` (no expiry) or `Custom` (unchanged).
    #[serde(default)]
    #[schema(value_type = Option<LookupIn>)]
    pub shared_duration: Patch<LookupIn>,
    /// The expiry this many hours from now (1 to 87600); beats `sharedDuration`.
    #[serde(default, deserialize_with = "hours")]
    #[schema(value_type = Option<i64>)]
    pub shared_duration_in_hours: Patch<i64>,
    /// The expiry, ISO 8601 (no offset = UTC); beats `sharedDurationInHours`.
    #[serde(default, deserialize_with = "date")]
    #[schema(value_type = Option<String>)]
    pub expiration_date: Patch<String>,
    /// `[View]` or `[View, Download]`; `Download` alone means both.
    #[serde(default)]
    #[schema(value_type = Option<Permissions>)]
    pub shared_permissions: Patch<Permissions>,
    /// `Link` (anyone with the link) or `User` (the listed `nomadUsers`, signed in).
    #[serde(default)]
    #[schema(value_type = Option<LookupIn>)]
    pub shared_type: Patch<LookupIn>,
    /// `Active` lifts a revoke, `Inactive` revokes, `Expired` expires now; `Scheduled` cannot
    /// be set.
    #[serde(default)]
    #[schema(value_type = Option<LookupIn>)]
    pub shared_status: Patch<LookupIn>,
    /// Users of the org, each mailed when added.
    #[serde(default)]
    #[schema(value_type = Option<Vec<UserIn>>)]
    pub nomad_users: Patch<List<UserIn>>,
    /// Addresses outside the org, each mailed when added.
    #[serde(default)]
    #[schema(value_type = Option<Vec<EmailIn>>)]
    pub external_users: Patch<List<EmailIn>>,
    /// A new password; an empty string removes it. Always applied, never answered.
    #[serde(default, deserialize_with = "string")]
    #[schema(value_type = Option<String>)]
    pub password: Patch<String>,
    /// `false` removes the password; `true` needs a `password` beside it.
    #[serde(default, deserialize_with = "flag")]
    #[schema(value_type = Option<bool>)]
    pub password_protected: Patch<bool>,
    /// The download limit (1 to 1000000); `0` lifts it.
    #[serde(default, deserialize_with = "integer")]
    #[schema(value_type = Option<i64>)]
    pub max_downloads: Patch<i64>,
}

/// `POST /api/share/{id}/notification`.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct NotificationBody {
    /// Ignored: the path names the share.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub share_id: Option<IgnoredAny>,
    /// Users of the org to mail.
    #[serde(default)]
    #[schema(value_type = Option<Vec<UserIn>>)]
    pub nomad_users: Option<List<UserIn>>,
    /// Addresses to mail.
    #[serde(default)]
    #[schema(value_type = Option<Vec<EmailIn>>)]
    pub external_users: Option<List<EmailIn>>,
}

/// Reads a field that may be null; `pick` keeps the values of its kind.
fn patch<'de, D: Deserializer<'de>, T>(
    d: D,
    want: &str,
    pick: impl FnOnce(Value) -> Result<T, Value>,
) -> Result<Patch<T>, D::Error> {
    expect(d, want, |v| match v {
        Value::Null => Ok(Patch::Null),
        v => pick(v).map(Patch::Value),
    })
}

fn text(v: Value) -> Result<String, Value> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(other),
    }
}

/// Kept unread until a `POST` reads it: `PUT` ignores it.
fn share_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Given<String>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(Given::Value(s)),
        other => Some(Given::Wrong(wrong_kind("a share's id or null", &other))),
    })
}

fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<String>, D::Error> {
    patch(d, "a string", text)
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<String>, D::Error> {
    patch(d, "a date string", text)
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<bool>, D::Error> {
    patch(d, "true or false", |v| v.as_bool().ok_or(v))
}

fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<i64>, D::Error> {
    patch(d, "an integer", |v| v.as_i64().ok_or(v))
}

/// Whole hours; anything else is the range's message (the range is checked once the value is
/// known to differ from what a GET answers).
fn hours<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Patch::Null),
        v => v
            .as_i64()
            .map(Patch::Value)
            .ok_or_else(|| de::Error::custom(hours_message())),
    }
}

/// A string member of an object as sent: absent, a string, or a value of another kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Member {
    #[default]
    Absent,
    Text(String),
    Other,
}

impl Member {
    pub fn text(&self) -> Option<&str> {
        match self {
            Member::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn member<'de, D: Deserializer<'de>>(d: D) -> Result<Member, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Member::Text(s),
        _ => Member::Other,
    })
}

/// An object as the lookup, user, email and asset forms write it: the members read when they
/// are strings, and every other key (so equality with a `{"id","description"}` answer is exact).
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Members {
    #[serde(default, deserialize_with = "member")]
    pub id: Member,
    #[serde(default, deserialize_with = "member")]
    pub description: Member,
    #[serde(default, deserialize_with = "member")]
    pub name: Member,
    #[serde(default, deserialize_with = "member")]
    pub email: Member,
    #[serde(flatten)]
    pub extra: BTreeMap<String, IgnoredAny>,
}

impl Members {
    /// JSON equality with the lookup `{"id": id, "description": description}`: exactly those
    /// two keys, both those strings.
    pub fn is_lookup(&self, id: &str, description: &str) -> bool {
        self.extra.is_empty()
            && self.name == Member::Absent
            && self.email == Member::Absent
            && self.id.text() == Some(id)
            && self.description.text() == Some(description)
    }
}

/// A string, or an object read as `Members`.
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    Text(String),
    Object(Members),
}

/// A field written as a string or an object, with the kind its 400 wants.
pub trait Form: Sized {
    const WANT: &'static str;
    fn wrap(n: Named) -> Self;

    /// Reads a string or an object; anything else is "must be `WANT`, not a number".
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Given::<Self>::of(Value::deserialize(d)?)? {
            Given::Value(x) => Ok(x),
            Given::Wrong(message) => Err(de::Error::custom(message)),
        }
    }
}

/// A string, or an object whose `keys` are strings.
fn text_or_object(description: &str, keys: &[&str]) -> RefOr<Schema> {
    let object = keys
        .iter()
        .fold(ObjectBuilder::new().schema_type(Type::Object), |o, k| {
            o.property(*k, ObjectBuilder::new().schema_type(Type::String))
        });
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(object)
        .description(Some(description))
        .into()
}

/// A `Form` type: a newtype of `Named`, read with `Form::read`, described as a string or an
/// object of `keys`.
macro_rules! form {
    ($ty:ident, $want:literal, [$($key:literal),+], $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $ty(pub Named);

        impl Form for $ty {
            const WANT: &'static str = $want;
            fn wrap(n: Named) -> Self {
                $ty(n)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::read(d)
            }
        }

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                text_or_object($doc, &[$($key),+])
            }
        }

        impl ToSchema for $ty {}
    };
}

form!(
    LookupIn,
    "a lookup object or a string",
    ["id", "description", "name"],
    "A lookup: its id, description or name as a string (any letter case), or an object matched by `id`, then `description` or `name`."
);
form!(
    AssetRef,
    "a uuid string",
    ["id"],
    "A file or folder: its uuid, or `{\"id\"}`."
);
form!(
    UserIn,
    "an object or a string",
    ["id", "email", "description"],
    "A user of the org: a uuid or an email, or an object giving one in `id`, else `email`, else `description`."
);
form!(
    EmailIn,
    "an email string or an object",
    ["email", "id", "description"],
    "An email address, or an object giving it in `email`, else `id`, else `description`."
);

/// A value of a field's kind, or the 400 message for a value of another kind, raised only when
/// the field is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Given<T> {
    Value(T),
    Wrong(String),
}

impl<T: Form> Given<T> {
    /// A string or an object as a `T`; any other value as its 400 message.
    fn of<E: de::Error>(v: Value) -> Result<Given<T>, E> {
        match v {
            Value::String(s) => Ok(Given::Value(T::wrap(Named::Text(s)))),
            v @ Value::Object(_) => Members::deserialize(v)
                .map(|m| Given::Value(T::wrap(Named::Object(m))))
                .map_err(E::custom),
            other => Ok(Given::Wrong(wrong_kind(T::WANT, &other))),
        }
    }
}

impl<'de, T: Form> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Given::of(Value::deserialize(d)?)
    }
}

/// A JSON array whose entries are each a `T` or the 400 message for a value of another kind
/// (raised in order when the list is read); anything but an array is "must be an array, not a
/// string".
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Vec<Given<T>>);

impl<'de, T: Form> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = expect(d, "an array", |v| match v {
            Value::Array(items) => Ok(items),
            other => Err(other),
        })?;
        items
            .into_iter()
            .map(Given::of)
            .collect::<Result<_, _>>()
            .map(List)
    }
}

/// `sharedPermissions`: a list of lookups, or one.
#[derive(Debug, Clone, PartialEq)]
pub enum Permissions {
    List(Vec<Given<LookupIn>>),
    One(Given<LookupIn>),
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(Given::of)
                .collect::<Result<_, _>>()
                .map(Permissions::List),
            one => Given::of(one).map(Permissions::One),
        }
    }
}

impl PartialSchema for Permissions {
    fn schema() -> RefOr<Schema> {
        let lookup = || Ref::from_schema_name(LookupIn::name());
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(lookup()))
            .item(lookup())
            .description(Some("A list of lookups, or one."))
            .into()
    }
}

impl ToSchema for Permissions {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((LookupIn::name().into(), LookupIn::schema()));
    }
}
