//! Lenient field deserializers for the [`payload`](crate::payload) types.
//!
//! Meta adds fields and message types without notice, and a webhook that fails to parse is
//! redelivered for days. So every payload field goes through one of these functions: a value of
//! an unexpected shape becomes `None`, `false` or an empty list instead of failing the whole
//! payload, and a list keeps every element that fits and drops the ones that do not. Strings
//! that Meta sometimes sends as numbers (timestamps, ids) accept both.
//!
//! Each function first reads the field as a [`serde_json::Value`] (which cannot fail on valid
//! JSON) and then converts it, so the only errors left are JSON syntax errors, caught earlier.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::personal::Personal;

/// Any deserializable value; `None` when the JSON value does not fit `T`.
pub(crate) fn value<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
}

/// A list: the elements that fit `T`; empty when the value is not an array.
pub(crate) fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| T::deserialize(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// A string, or a number written as its decimal text; `None` otherwise.
pub(crate) fn text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(text_of(Value::deserialize(deserializer)?))
}

/// Like [`text`], wrapped as [`Personal`] data.
pub(crate) fn personal_text<'de, D>(deserializer: D) -> Result<Option<Personal>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(text(deserializer)?.map(Personal::new))
}

/// A finite number, or a string holding one, wrapped as [`Personal`] data (coordinates).
pub(crate) fn personal_number<'de, D>(deserializer: D) -> Result<Option<Personal<f64>>, D::Error>
where
    D: Deserializer<'de>,
{
    let number = match Value::deserialize(deserializer)? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    Ok(number
        .filter(|number| number.is_finite())
        .map(Personal::new))
}

/// An integer, or a string holding one; `None` otherwise (error codes).
pub(crate) fn integer<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    })
}

/// A flag: `true`, or the string `"true"`; anything else is `false`.
pub(crate) fn flag<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(flag) => flag,
        Value::String(text) => text.trim().eq_ignore_ascii_case("true"),
        _ => false,
    })
}

fn text_of(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "text")]
        text: Option<String>,
        #[serde(default, deserialize_with = "integer")]
        code: Option<i64>,
        #[serde(default, deserialize_with = "flag")]
        flag: bool,
        #[serde(default, deserialize_with = "personal_number")]
        latitude: Option<Personal<f64>>,
        #[serde(default, deserialize_with = "list")]
        items: Vec<Item>,
        #[serde(default, deserialize_with = "value")]
        item: Option<Item>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        #[serde(default, deserialize_with = "text")]
        id: Option<String>,
    }

    fn sample(json: &str) -> Sample {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn well_formed_values_are_read() {
        let parsed = sample(
            r#"{"text":"hola","code":131047,"flag":true,"latitude":40.5,
                "items":[{"id":"a"},{"id":2}],"item":{"id":"x"}}"#,
        );
        assert_eq!(parsed.text.as_deref(), Some("hola"));
        assert_eq!(parsed.code, Some(131047));
        assert!(parsed.flag);
        assert_eq!(parsed.latitude.map(Personal::into_inner), Some(40.5));
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[1].id.as_deref(), Some("2"));
        assert_eq!(
            parsed.item,
            Some(Item {
                id: Some("x".into())
            })
        );
    }

    #[test]
    fn numbers_written_as_strings_are_accepted() {
        let parsed =
            sample(r#"{"text":1697043223,"code":"131047","flag":"true","latitude":"-3.5"}"#);
        assert_eq!(parsed.text.as_deref(), Some("1697043223"));
        assert_eq!(parsed.code, Some(131047));
        assert!(parsed.flag);
        assert_eq!(parsed.latitude.map(Personal::into_inner), Some(-3.5));
    }

    #[test]
    fn unexpected_shapes_become_empty_instead_of_errors() {
        let parsed = sample(
            r#"{"text":{"a":1},"code":"x","flag":1,"latitude":"NaN",
                "items":[1,"two",{"id":"kept"},null],"item":[]}"#,
        );
        assert_eq!(parsed.text, None);
        assert_eq!(parsed.code, None);
        assert!(!parsed.flag);
        assert!(parsed.latitude.is_none());
        assert_eq!(
            parsed.items,
            vec![Item {
                id: Some("kept".into())
            }]
        );
        // An empty array deserializes into a struct of optional fields: harmless.
        assert!(parsed.item.is_none() || parsed.item == Some(Item { id: None }));
        let parsed = sample(r#"{"items":{"id":"not a list"},"text":null}"#);
        assert!(parsed.items.is_empty());
        assert_eq!(parsed.text, None);
    }
}
