//! serde building blocks for the Filerobot request DTOs: fields read by JSON kind, so a wrong
//! one is the 400 every dialect gives ("must be an array, not a string") at its JSON path
//! (`users[2].name`, which `api::parse_json` takes from serde), and values whose problems wait
//! for the mapping that knows whether they count.

use crate::api::wire::{expect, wrong_kind, Patch};
use crate::error::AppError;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Error, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::marker::PhantomData;

// Single values, for `deserialize_with` (`wire::expect` names a wrong kind).

/// A string; anything else, null too, is wrong.
pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    expect(d, "a string", |v| match v {
        Value::String(s) => Ok(Some(s)),
        other => Err(other),
    })
}

/// A string or null (which differs from absent).
pub(super) fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<String>, D::Error> {
    expect(d, "a string or null", |v| match v {
        Value::Null => Ok(Patch::Null),
        Value::String(s) => Ok(Patch::Value(s)),
        other => Err(other),
    })
}

/// A string; null counts as absent.
pub(super) fn string_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    expect(d, "a string", |v| match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(other),
    })
}

/// A string; any other value counts as absent.
pub(super) fn only_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// true or false; null counts as absent.
pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    expect(d, "true or false", |v| match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        other => Err(other),
    })
}

/// An integer (in i64) or null.
pub(super) fn integer_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<i64>, D::Error> {
    expect(d, "an integer or null", |v| match v {
        Value::Null => Ok(Patch::Null),
        other => other.as_i64().map(Patch::Value).ok_or(other),
    })
}

/// Present means `T`, null included (for fields where null is as wrong as any other kind).
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

// Values read by their JSON kind in place, so that an error inside keeps its path
// (`users[2].name`); a kind a type does not take is "must be <WANT>, not <kind>".

pub(super) trait ByKind<'de>: Sized {
    /// What the value must be, as the 400 says it.
    const WANT: &'static str;

    fn string<E: Error>(_: &str) -> Result<Self, E> {
        Err(not::<E, Self>(&Value::String(String::new())))
    }

    fn array<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(not::<A::Error, Self>(&Value::Array(vec![])))
    }

    fn object<A: MapAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(not::<A::Error, Self>(&Value::Object(Default::default())))
    }
}

fn not<'de, E: Error, T: ByKind<'de>>(got: &Value) -> E {
    E::custom(wrong_kind(T::WANT, got))
}

pub(super) fn by_kind<'de, D: Deserializer<'de>, T: ByKind<'de>>(d: D) -> Result<T, D::Error> {
    struct Kinds<T>(PhantomData<T>);
    impl<'de, T: ByKind<'de>> Visitor<'de> for Kinds<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(T::WANT)
        }
        fn visit_unit<E: Error>(self) -> Result<T, E> {
            Err(not::<E, T>(&Value::Null))
        }
        fn visit_bool<E: Error>(self, _: bool) -> Result<T, E> {
            Err(not::<E, T>(&Value::Bool(false)))
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<T, E> {
            Err(not::<E, T>(&Value::from(0)))
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<T, E> {
            Err(not::<E, T>(&Value::from(0)))
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<T, E> {
            Err(not::<E, T>(&Value::from(0)))
        }
        fn visit_str<E: Error>(self, s: &str) -> Result<T, E> {
            T::string(s)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
            T::array(seq)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::object(map)
        }
    }
    d.deserialize_any(Kinds(PhantomData))
}

/// A JSON array.
#[derive(Debug)]
pub struct List<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> ByKind<'de> for List<T> {
    const WANT: &'static str = "an array";
    fn array<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(List(out))
    }
}

/// A JSON object read as `T` (a derived struct would also take an array of its fields).
#[derive(Debug)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> ByKind<'de> for Obj<T> {
    const WANT: &'static str = "an object";
    fn object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_kind(d)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_kind(d)
    }
}

/// A value read now and judged by the mapping, which alone knows whether it counts: a file
/// item's `options` and a create's `status` are ignored, whatever they hold. A problem keeps its
/// path inside the value (`recursive`; "." for the value itself) and its message.
#[derive(Debug)]
pub enum Deferred<T> {
    Read(T),
    Wrong { at: String, message: String },
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Deferred<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(match serde_path_to_error::deserialize(value) {
            Ok(v) => Deferred::Read(v),
            Err(e) => Deferred::Wrong {
                at: e.path().to_string(),
                message: e.into_inner().to_string(),
            },
        })
    }
}

impl<T> Deferred<T> {
    /// The value, or its problem as the 400 for `field` (the value's own path).
    pub(super) fn get(self, field: &str) -> Result<T, AppError> {
        match self {
            Deferred::Read(v) => Ok(v),
            Deferred::Wrong { at, message } => {
                let field = match at.as_str() {
                    "." => field.to_string(),
                    at if at.starts_with('[') => format!("{field}{at}"),
                    at => format!("{field}.{at}"),
                };
                Err(AppError::invalid(field, message))
            }
        }
    }
}
