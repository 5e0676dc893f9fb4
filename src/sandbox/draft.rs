//! The body of `POST /tickets`, validated as cStar documents it: `title`
//! required, enums strict, `customerId` must exist, lengths bounded.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::dataset::{Dataset, TicketDraft};
use super::params::{PRIORITIES, TICKET_STATUSES};
use super::wire::ApiFailure;

/// The longest title cStar accepts, in characters.
pub const MAX_TITLE: usize = 500;
/// The longest other text field it accepts, in characters.
pub const MAX_TEXT: usize = 50_000;

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
    let title = match object.get("title") {
        None | Some(Value::Null) => {
            return Err(ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "parameter_missing",
                "The 'title' field is required.",
            )
            .with_param("title"));
        }
        Some(Value::String(title))
            if !title.trim().is_empty() && title.chars().count() <= MAX_TITLE =>
        {
            title.trim().to_owned()
        }
        Some(_) => {
            return Err(ApiFailure::invalid(
                "title",
                format!("'title' must be a non-empty string of at most {MAX_TITLE} characters."),
            ));
        }
    };
    let string_field = |name: &str| -> Result<Option<String>, ApiFailure> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.chars().count() <= MAX_TEXT => Ok(Some(text.clone())),
            Some(_) => Err(ApiFailure::invalid(
                name,
                format!("'{name}' must be a string of at most {MAX_TEXT} characters."),
            )),
        }
    };
    let enum_field = |name: &str, allowed: &[&str], default: &str| -> Result<String, ApiFailure> {
        match string_field(name)? {
            None => Ok(default.to_owned()),
            Some(value) if allowed.contains(&value.as_str()) => Ok(value),
            Some(value) => Err(ApiFailure::invalid(
                name,
                format!(
                    "Invalid value '{value}' for '{name}'. Expected one of: {}.",
                    allowed.join(", ")
                ),
            )),
        }
    };
    let customer = match string_field("customerId")? {
        None => None,
        Some(raw) => {
            let customer = data.customer(&raw).ok_or_else(|| {
                ApiFailure::invalid("customerId", format!("No customer with id '{raw}'."))
            })?;
            Some((customer.id.clone(), customer.name.clone()))
        }
    };
    let tags = match object.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiFailure::invalid("tags", "'tags' must be an array of strings."))?,
        Some(_) => {
            return Err(ApiFailure::invalid(
                "tags",
                "'tags' must be an array of strings.",
            ));
        }
    };
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(ApiFailure::invalid(
                "metadata",
                "'metadata' must be an object.",
            ));
        }
    };
    Ok(TicketDraft {
        title,
        priority: enum_field("priority", &PRIORITIES, "normal")?,
        status: enum_field("status", &TICKET_STATUSES, "new")?,
        customer,
        customer_name: string_field("customerName")?,
        tags,
        notes: string_field("notes")?,
        initial_message: string_field("initialMessage")?,
        metadata,
    })
}
