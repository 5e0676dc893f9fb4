//! Tool arguments: parsing that names the argument at fault, and the checks
//! shared by the tools before any request (paging bounds, text lengths).
//! Enum values are checked by serde when the arguments are parsed.

use std::borrow::Cow;

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::ToolError;

/// The most items one page may hold (cStar's own limit).
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest search text.
pub const MAX_SEARCH: usize = 200;
/// Longest short text: ids, names, tags, titles.
pub const MAX_SHORT: usize = 500;
/// Longest long text: notes and message bodies.
pub const MAX_LONG: usize = 20_000;

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
            format!("Use at most {MAX_PAGE_SIZE} and follow hasMore with the page argument."),
        )),
        _ => Ok((page, page_size)),
    }
}

/// Checks an optional text's length and drops it when blank.
pub fn text(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, ToolError> {
    match value {
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) if text.chars().count() > max => Err(ToolError::invalid_argument(
            name,
            format!(
                "{} characters is more than the {max} allowed",
                text.chars().count()
            ),
            "Shorten it and call again.",
        )),
        other => Ok(other.map(|t| t.trim().to_owned())),
    }
}

/// The longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

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
pub fn tag(value: Option<String>) -> Result<Option<String>, ToolError> {
    Ok(text("tag", value, MAX_SHORT)?.map(|tag| super::sanitize::unescape(&tag).into_owned()))
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
/// an `isError` result, so the prefix stays.
fn describe_parse_error(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let problem = error.inner().to_string();
    if path == "." {
        format!(
            "failed to deserialize parameters: {problem}. Check the tool's input schema and call again."
        )
    } else {
        format!(
            "failed to deserialize parameters: argument '{path}': {problem}. Check the tool's input schema and call again."
        )
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
    fn text_bounds() {
        assert_eq!(text("search", Some("  ".into()), 10).unwrap(), None);
        assert_eq!(
            text("search", Some(" a ".into()), 10).unwrap(),
            Some("a".into())
        );
        assert!(text("search", Some("x".repeat(11)), 10).is_err());
    }
}
