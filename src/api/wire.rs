//! Building blocks for request DTOs: telling an absent field from a null one, and reading a
//! field of one expected JSON kind with the 400 message every dialect uses for a wrong type
//! ("must be a string, not a number"). The field's JSON path comes from `parse_json`.

use serde::de::{Deserialize, Deserializer, Error, MapAccess, Visitor};
use serde_json::Value;
use std::marker::PhantomData;

/// How a JSON value's kind is named in a 400's message.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The message for a value of the wrong kind: "must be `want`, not a number".
pub fn wrong_kind(want: &str, got: &Value) -> String {
    format!("must be {want}, not {}", kind_name(got))
}

/// Reads one value and keeps it if `pick` accepts it, else fails with `wrong_kind(want, ..)`.
/// For `deserialize_with` functions of DTO fields.
pub fn expect<'de, D, T>(
    d: D,
    want: &str,
    pick: impl FnOnce(Value) -> Result<T, Value>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Value::deserialize(d)?;
    pick(v).map_err(|v| D::Error::custom(wrong_kind(want, &v)))
}

/// A body that must be a JSON object: anything else is the 400 "must be a JSON object, not an
/// array" naming `body`. The object is read as `T` with its fields' paths kept for errors.
#[derive(Debug, Clone, Default)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Object<T>, A::Error> {
                Err(A::Error::custom(not_object("an array")))
            }
            fn visit_str<E: Error>(self, _: &str) -> Result<Object<T>, E> {
                Err(E::custom(not_object("a string")))
            }
            fn visit_bool<E: Error>(self, _: bool) -> Result<Object<T>, E> {
                Err(E::custom(not_object("a boolean")))
            }
            fn visit_i64<E: Error>(self, _: i64) -> Result<Object<T>, E> {
                Err(E::custom(not_object("a number")))
            }
            fn visit_u64<E: Error>(self, _: u64) -> Result<Object<T>, E> {
                Err(E::custom(not_object("a number")))
            }
            fn visit_f64<E: Error>(self, _: f64) -> Result<Object<T>, E> {
                Err(E::custom(not_object("a number")))
            }
            fn visit_unit<E: Error>(self) -> Result<Object<T>, E> {
                Err(E::custom(not_object("null")))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

fn not_object(got: &str) -> String {
    format!("must be a JSON object, not {got}")
}

/// A field that may be absent (leave as is), null, or a value. Use with `#[serde(default)]`
/// so a missing key stays `Absent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// None when absent; `Some(None)` when null.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }

    /// The value, if one was given (absent and null both give None).
    pub fn value(self) -> Option<T> {
        match self {
            Patch::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => Patch::Value(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Patch::Null, Patch::Value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse_json;
    use crate::error::AppError;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[serde(default)]
        a: Patch<String>,
        #[serde(default, deserialize_with = "flag")]
        b: Option<bool>,
    }

    fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        expect(d, "true or false", |v| match v {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(b)),
            other => Err(other),
        })
    }

    #[test]
    fn absent_null_value() {
        let b: Body = parse_json(br#"{}"#).unwrap();
        assert_eq!(b.a, Patch::Absent);
        let b: Body = parse_json(br#"{"a": null, "b": true}"#).unwrap();
        assert_eq!((b.a, b.b), (Patch::Null, Some(true)));
        let b: Body = parse_json(br#"{"a": "x"}"#).unwrap();
        assert_eq!(b.a.into_option(), Some(Some("x".to_string())));
    }

    #[test]
    fn a_body_must_be_an_object() {
        match parse_json::<Object<Body>>(br#"[1]"#).unwrap_err() {
            AppError::InvalidField { field, message } => {
                assert_eq!(field.to_string(), "body");
                assert_eq!(message, "must be a JSON object, not an array");
            }
            other => panic!("{other:?}"),
        }
        match parse_json::<Object<Body>>(br#"{"b": "x"}"#).unwrap_err() {
            AppError::InvalidField { field, .. } => assert_eq!(field.to_string(), "b"),
            other => panic!("{other:?}"),
        }
        let Object(b) = parse_json::<Object<Body>>(br#"{"a": "y"}"#).unwrap();
        assert_eq!(b.a, Patch::Value("y".to_string()));
    }

    #[test]
    fn wrong_kinds_name_the_field() {
        match parse_json::<Body>(br#"{"b": 3}"#).unwrap_err() {
            AppError::InvalidField { field, message } => {
                assert_eq!(field.to_string(), "b");
                assert_eq!(message, "must be true or false, not a number");
            }
            other => panic!("{other:?}"),
        }
    }
}
