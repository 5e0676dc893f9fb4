//! How tool results are built: structured results with their text twin,
//! and every error with the same JSON error body in `_meta` (rmcp's own
//! argument errors are worded like ours here). Cleaning and bounding happen later,
//! at the egress, for every message alike.
//!
//! Tools return their structured results as `Json<T>`: like rmcp's, but the
//! text twin is written with serde_json's buffer writer, not through
//! `Display`, which cost three times as many instructions.

use rmcp::ErrorData;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use serde_json::Value;

use super::errors::{ERROR_META, ToolError};

/// A tool's structured result. rmcp's tool macro publishes the output
/// schema of `T` for any return type named `Json<T>`.
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoCallToolResult for Json<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(self.0).map_err(|error| {
            ErrorData::internal_error(format!("could not serialize the result: {error}"), None)
        })?;
        Ok(structured(value).into())
    }
}

/// A success result: `value` as structured content, and its text twin.
fn structured(value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text_twin(&value))]);
    result.structured_content = Some(value);
    result
}

fn text_twin(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Gives every error of a finished call its JSON body.
pub fn finish(response: CallToolResponse) -> CallToolResponse {
    match response {
        CallToolResponse::Complete(result)
            if result.is_error == Some(true) && error_body(&result).is_none() =>
        {
            // rmcp's own failure (arguments that did not parse): word it
            // like every other error, with the JSON body.
            let message = result.content.first().map(text_of).unwrap_or_default();
            ToolError::from_rmcp(&message).into_result().into()
        }
        other => other,
    }
}

/// The JSON error body of an error result, if it has one.
fn error_body(result: &CallToolResult) -> Option<&Value> {
    result.meta.as_ref()?.0.get(ERROR_META)
}

/// `ok`, or the error code of a failed call (for metrics).
pub fn outcome(response: &CallToolResponse) -> String {
    let CallToolResponse::Complete(result) = response else {
        return "ok".to_owned();
    };
    if result.is_error != Some(true) {
        return "ok".to_owned();
    }
    error_body(result)
        .and_then(|body| body["code"].as_str())
        // Codes come from cStar too: keep the label set small and plain.
        .filter(|code| {
            code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .map_or_else(|| "error".to_owned(), str::to_owned)
}

fn text_of(block: &ContentBlock) -> String {
    block
        .as_text()
        .map(|text| text.text.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_errors_get_one_sentence_and_the_json_body() {
        let result = CallToolResult::error(vec![ContentBlock::text(
            "failed to deserialize parameters: argument 'page': invalid type",
        )]);
        let CallToolResponse::Complete(done) = finish(result.into()) else {
            panic!("complete");
        };
        assert_eq!(done.content.len(), 1);
        assert!(text_of(&done.content[0]).contains("argument 'page'"));
        let body = error_body(&done).expect("a JSON body in _meta");
        assert_eq!(body["code"], "invalid_argument");
        assert_eq!(outcome(&done.into()), "invalid_argument");
    }
}
