//! Tool arguments: parsing that names the argument at fault, and the checks
//! shared by the tools before any request (paging bounds, text lengths
//! against `crate::limits`, which the sandbox enforces too).
//! Enum values are checked by serde when the arguments are parsed.

use std::borrow::Cow;

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::errors::ToolError;
use crate::api::ids::{IdKind, is_prefixed_id, is_uuid, validate_id};
use crate::limits::{QUOTED, exceeds, quote};

pub use crate::limits::{
    MAX_EVENT, MAX_ID, MAX_IDEMPOTENCY_KEY, MAX_LONG, MAX_PAGE_SIZE, MAX_SEARCH, MAX_SHORT,
    MAX_TAGS,
};

/// Checks `page` (from 1) and `pageSize` (1 to 100).
pub fn paging(
    page: Option<u32>,
    page_size: Option<u32>,
) -> Result<(Option<u32>, Option<u32>), ToolError> {
    if page == Some(0) {
        return Err(ToolError::invalid_argument(
            "page",
            "pages count from 1",
            "Omit page for the first page.",
        ));
    }
    match page_size {
        Some(size) if size == 0 || size > MAX_PAGE_SIZE => Err(ToolError::invalid_argument(
            "pageSize",
            format!("{size} is outside 1..={MAX_PAGE_SIZE}"),
            format!(
                "Use at most {MAX_PAGE_SIZE} and page on with pagination.nextPage and nextPageSize."
            ),
        )),
        _ => Ok((page, page_size)),
    }
}

/// Checks the arguments against the limits their schema publishes
/// (`maxLength`, `maxItems`, `enum`) before anything else is done with
/// them, so an oversized argument costs no more than reading its length.
/// Errors quote at most a short prefix of the value.
pub fn check_limits(
    schema: &Map<String, Value>,
    arguments: Option<&Map<String, Value>>,
) -> Result<(), ToolError> {
    let (Some(Value::Object(properties)), Some(arguments)) = (schema.get("properties"), arguments)
    else {
        return Ok(());
    };
    for (name, value) in arguments {
        let Some(Value::Object(property)) = properties.get(name) else {
            let known: Vec<&str> = properties.keys().map(String::as_str).collect();
            return Err(ToolError::invalid_argument(
                &quote(name, QUOTED),
                "this tool has no such argument",
                match known.is_empty() {
                    true => "Call it with no arguments.".to_owned(),
                    false => format!("Its arguments are: {}.", known.join(", ")),
                },
            ));
        };
        check_value(name, property, value)?;
        if let (Value::Array(items), Some(Value::Object(item))) = (value, property.get("items")) {
            if let Some(max) = property.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                return Err(ToolError::invalid_argument(
                    name,
                    format!("{} items is more than the {max} allowed", items.len()),
                    "Send fewer and call again.",
                ));
            }
            for value in items {
                check_value(name, item, value)?;
            }
        }
    }
    Ok(())
}

fn check_value(name: &str, property: &Map<String, Value>, value: &Value) -> Result<(), ToolError> {
    let Value::String(text) = value else {
        return Ok(());
    };
    // An enum names its values, which also bound the length.
    if let Some(Value::Array(allowed)) = property.get("enum")
        && !allowed.iter().any(|v| v.as_str() == Some(text))
    {
        let allowed: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        return Err(ToolError::invalid_argument(
            name,
            format!("'{}' is not allowed", quote(text, QUOTED)),
            format!("Use one of: {}.", allowed.join(", ")),
        ));
    }
    if let Some(max) = property.get("maxLength").and_then(Value::as_u64) {
        let max = max as usize;
        if exceeds(text, max) {
            return Err(ToolError::invalid_argument(
                name,
                format!(
                    "'{}' is longer than the {max} characters allowed",
                    quote(text, QUOTED)
                ),
                "Shorten it and call again.",
            ));
        }
    }
    Ok(())
}

/// An optional text, trimmed; `None` when blank. Its length was checked
/// against the schema by `check_limits`.
pub fn text(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// An optional id argument of `kind` (`cus_…` or a UUID), trimmed; a
/// value of another shape, such as a name, is refused with `hint`.
pub fn id(
    kind: IdKind,
    argument: &str,
    value: Option<String>,
    hint: &str,
) -> Result<Option<String>, ToolError> {
    let Some(id) = text(value) else {
        return Ok(None);
    };
    validate_id(kind, &id)
        .map(Some)
        .map_err(|invalid| ToolError::invalid_argument(argument, invalid.message, hint))
}

/// An optional agent id, trimmed: `mem_` and letters and digits, or a
/// UUID, as cStar's examples show them, so a name ("Alex"), "me" or
/// "unassigned" is refused instead of matching nothing.
pub fn agent_id(value: Option<String>) -> Result<Option<String>, ToolError> {
    let Some(id) = text(value) else {
        return Ok(None);
    };
    if is_prefixed_id("mem_", &id) || is_uuid(&id) {
        return Ok(Some(id));
    }
    Err(ToolError::invalid_argument(
        "assignedTo",
        format!("'{}' is not an agent id", quote(&id, QUOTED)),
        "Pass the assignedTo value cstar_get_ticket shows (mem_... or a UUID).",
    ))
}

/// Checks a caller's own idempotency key: 1-255 of A-Z a-z 0-9 - _ . :
pub fn idempotency_key(value: Option<String>) -> Result<Option<String>, ToolError> {
    let Some(key) = value else { return Ok(None) };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.chars().all(allowed) {
        return Err(ToolError::invalid_argument(
            "idempotencyKey",
            "it must be 1-255 characters of A-Z, a-z, 0-9, '-', '_', '.' or ':'",
            "Use a UUID, or leave it out: the server then makes one per call.",
        ));
    }
    Ok(Some(key))
}

/// A tag filter: as `text`, with hidden characters that results spelled
/// out (`vip<U+200B>`) turned back into the tag cStar stores.
pub fn tag(value: Option<String>) -> Option<String> {
    text(value).map(|tag| super::sanitize::unescape(&tag).into_owned())
}

/// Tool arguments, parsed so that an error names the argument at fault
/// ("argument 'pageSize': invalid type: string \"ten\", expected u32").
/// It stands in for rmcp's `Parameters`: the schema is `T`'s, and a parse
/// failure still becomes an `isError` result.
pub struct Parameters<T>(pub T);

impl<T: JsonSchema> JsonSchema for Parameters<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let arguments = Value::Object(context.arguments.take().unwrap_or_default());
        serde_path_to_error::deserialize(arguments)
            .map(Parameters)
            .map_err(|error| ErrorData::invalid_params(describe_parse_error(&error), None))
    }
}

/// rmcp turns an error that starts "failed to deserialize parameters:" into
/// an `isError` result, so the prefix stays; `ToolError::from_rmcp` adds
/// the hint.
fn describe_parse_error(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let problem = error.inner().to_string();
    if path == "." {
        format!("failed to deserialize parameters: {problem}")
    } else {
        format!("failed to deserialize parameters: argument '{path}': {problem}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_bounds() {
        assert!(paging(None, None).is_ok());
        assert!(paging(Some(3), Some(100)).is_ok());
        assert!(paging(Some(0), None).is_err());
        assert!(paging(None, Some(0)).is_err());
        let error = paging(None, Some(500)).unwrap_err();
        assert!(error.message.contains("pageSize"), "{}", error.message);
    }

    #[test]
    fn an_agent_id_is_mem_or_a_uuid_and_anything_else_is_refused() {
        for id in [
            "mem_1c3e5a7b9d0f2e4a6c8b0d1f3a5c7e9b",
            " 3f2a9c1e-7b5d-4e6f-8a0b-1c2d3e4f5a6b ",
        ] {
            assert_eq!(
                agent_id(Some(id.to_owned())).unwrap().as_deref(),
                Some(id.trim())
            );
        }
        assert_eq!(agent_id(Some("  ".to_owned())).unwrap(), None);
        for name in [
            "Alex",
            "me",
            "unassigned",
            "Alex Moreau",
            "cus_d95c8608",
            "mem_",
        ] {
            assert!(agent_id(Some(name.to_owned())).is_err(), "{name}");
        }
    }

    #[test]
    fn blank_text_is_absent() {
        assert_eq!(text(Some("  ".into())), None);
        assert_eq!(text(Some(" a ".into())), Some("a".into()));
    }

    #[test]
    fn limits_come_from_the_schema_and_quote_a_prefix() {
        let schema = serde_json::json!({ "properties": {
            "search": { "type": "string", "maxLength": 5 },
            "status": { "type": "string", "enum": ["open", "closed"], "maxLength": 6 },
            "tags": { "type": "array", "maxItems": 2, "items": { "type": "string", "maxLength": 3 } }
        }});
        let schema = schema.as_object().unwrap();
        let check = |args: Value| check_limits(schema, args.as_object());
        assert!(check(serde_json::json!({ "search": "ééééé", "tags": ["abc"] })).is_ok());
        let long = "x".repeat(1_000_000);
        let error = check(serde_json::json!({ "status": long })).unwrap_err();
        assert!(error.message.len() < 300, "{}", error.message);
        assert!(error.message.contains("'status'"));
        assert!(
            check(serde_json::json!({ "status": "opne" }))
                .unwrap_err()
                .message
                .contains("open, closed")
        );
        assert!(check(serde_json::json!({ "tags": ["a", "b", "c"] })).is_err());
        assert!(check(serde_json::json!({ "tags": ["abcd"] })).is_err());
        assert!(check(serde_json::json!({ "search": "abcdef" })).is_err());
    }

    #[test]
    fn an_overlong_enum_value_names_the_allowed_values() {
        let schema = serde_json::json!({ "properties": {
            "priority": { "type": "string", "enum": ["low", "urgent"], "maxLength": 6 }
        }});
        let error = check_limits(
            schema.as_object().unwrap(),
            serde_json::json!({ "priority": "whatever" }).as_object(),
        )
        .unwrap_err();
        assert!(error.message.contains("low, urgent"), "{}", error.message);
    }
}
