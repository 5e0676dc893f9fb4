//! The body of `POST /tickets`, validated as cStar documents it: `title`
//! required, enums strict, `customerId` must exist, and every text, list
//! and map bounded (`crate::limits`, the numbers the create tool publishes).
//! A refused value is quoted, never echoed whole.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::dataset::{Dataset, TicketDraft};
use super::params::{PRIORITIES, TICKET_STATUSES};
use super::wire::ApiFailure;
use crate::limits::{
    MAX_ID, MAX_LONG, MAX_METADATA_KEY, MAX_METADATA_KEYS, MAX_METADATA_VALUE, MAX_SHORT, MAX_TAGS,
    QUOTED, exceeds, quote,
};

/// Parses a request body as a JSON object, or says why it is not one.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiFailure> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "The request body must be a JSON object.",
        )),
    }
}

/// Validates a create body the way cStar documents it.
pub fn ticket_draft(body: &[u8], data: &Dataset) -> Result<TicketDraft, ApiFailure> {
    let object = json_object(body)?;
    let title = title(&object)?;
    let customer = match text(&object, "customerId", MAX_ID)? {
        None => None,
        Some(raw) => {
            let customer = data.customer(raw).ok_or_else(|| {
                ApiFailure::invalid(
                    "customerId",
                    format!("No customer with id '{}'.", quote(raw, QUOTED)),
                )
            })?;
            Some((customer.id.clone(), customer.name.clone()))
        }
    };
    let owned = |name: &str, max: usize| -> Result<Option<String>, ApiFailure> {
        Ok(text(&object, name, max)?.map(str::to_owned))
    };
    Ok(TicketDraft {
        title,
        priority: one_of(&object, "priority", &PRIORITIES, "normal")?,
        status: one_of(&object, "status", &TICKET_STATUSES, "new")?,
        customer,
        customer_name: owned("customerName", MAX_SHORT)?,
        tags: tags(&object)?,
        notes: owned("notes", MAX_LONG)?,
        initial_message: owned("initialMessage", MAX_LONG)?,
        metadata: metadata(&object)?,
    })
}

/// `title`: required, not blank, at most `MAX_SHORT` characters.
fn title(object: &Map<String, Value>) -> Result<String, ApiFailure> {
    match object.get("title") {
        None | Some(Value::Null) => Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "parameter_missing",
            "The 'title' field is required.",
        )
        .with_param("title")),
        Some(Value::String(title)) if !title.trim().is_empty() && !exceeds(title, MAX_SHORT) => {
            Ok(title.trim().to_owned())
        }
        Some(_) => Err(ApiFailure::invalid(
            "title",
            format!("'title' must be a non-empty string of at most {MAX_SHORT} characters."),
        )),
    }
}

/// An optional string of at most `max` characters.
fn text<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, ApiFailure> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !exceeds(text, max) => Ok(Some(text)),
        Some(_) => Err(ApiFailure::invalid(
            name,
            format!("'{name}' must be a string of at most {max} characters."),
        )),
    }
}

/// An optional enum value, `default` when absent.
fn one_of(
    object: &Map<String, Value>,
    name: &str,
    allowed: &[&str],
    default: &str,
) -> Result<String, ApiFailure> {
    let invalid = |shown: &str| {
        ApiFailure::invalid(
            name,
            format!(
                "Invalid value '{shown}' for '{name}'. Expected one of: {}.",
                allowed.join(", ")
            ),
        )
    };
    match object.get(name) {
        None | Some(Value::Null) => Ok(default.to_owned()),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => Ok(value.clone()),
        Some(Value::String(value)) => Err(invalid(&quote(value, QUOTED))),
        Some(other) => Err(invalid(&quote(&other.to_string(), QUOTED))),
    }
}

/// `tags`: at most `MAX_TAGS` strings of at most `MAX_SHORT` characters.
fn tags(object: &Map<String, Value>) -> Result<Vec<String>, ApiFailure> {
    let invalid = || {
        ApiFailure::invalid(
            "tags",
            format!(
                "'tags' must be an array of at most {MAX_TAGS} strings of at most {MAX_SHORT} characters each."
            ),
        )
    };
    match object.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= MAX_TAGS => items
            .iter()
            .map(|item| match item {
                Value::String(tag) if !exceeds(tag, MAX_SHORT) => Some(tag.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// `metadata`: at most `MAX_METADATA_KEYS` keys of at most
/// `MAX_METADATA_KEY` characters, each holding a string of at most
/// `MAX_METADATA_VALUE` characters, a number, a boolean or null.
fn metadata(object: &Map<String, Value>) -> Result<Map<String, Value>, ApiFailure> {
    let invalid = || {
        ApiFailure::invalid(
            "metadata",
            format!(
                "'metadata' must be an object of at most {MAX_METADATA_KEYS} keys of at most \
                 {MAX_METADATA_KEY} characters, each a string of at most {MAX_METADATA_VALUE} \
                 characters, a number, true, false or null."
            ),
        )
    };
    let fits = |key: &String, value: &Value| {
        !exceeds(key, MAX_METADATA_KEY)
            && match value {
                Value::String(text) => !exceeds(text, MAX_METADATA_VALUE),
                Value::Null | Value::Bool(_) | Value::Number(_) => true,
                Value::Array(_) | Value::Object(_) => false,
            }
    };
    match object.get("metadata") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map))
            if map.len() <= MAX_METADATA_KEYS && map.iter().all(|(k, v)| fits(k, v)) =>
        {
            Ok(map.clone())
        }
        Some(_) => Err(invalid()),
    }
}
