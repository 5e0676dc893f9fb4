//! The boundary every tool result crosses on its way to the client.
//!
//! Whatever a tool returns (a structured result, one of our worded errors,
//! or rmcp's own argument error) is finished here: every string is cleaned
//! of hidden text (`sanitize`), and every error carries the same JSON error
//! block. Tools therefore never clean fields one by one, and a field added
//! later cannot slip past.
//!
//! Tools return their structured results as `Json<T>`: like rmcp's, but the
//! text twin is written with serde_json's buffer writer, not through
//! `Display`, which cost three times as many instructions.

use rmcp::ErrorData;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use serde_json::Value;

use super::errors::ToolError;
use super::sanitize::{clean, clean_value};

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

/// Cleans a finished call's result and gives every error its JSON block.
pub fn finish(response: CallToolResponse) -> CallToolResponse {
    let CallToolResponse::Complete(result) = response else {
        return response;
    };
    CallToolResponse::Complete(finish_result(result))
}

fn finish_result(mut result: CallToolResult) -> CallToolResult {
    if result.is_error == Some(true) {
        if result.content.len() == 1 {
            // rmcp's own failure (arguments that did not parse): word it
            // like every other error, with the JSON block.
            let message = text_of(&result.content[0]);
            return finish_result(ToolError::from_rmcp(&message).into_result());
        }
        for block in &mut result.content {
            if let ContentBlock::Text(text) = block
                && let std::borrow::Cow::Owned(cleaned) = clean(&text.text)
            {
                text.text = cleaned;
            }
        }
        return result;
    }
    // The text twin is written again only when cleaning changed something.
    if let Some(value) = result.structured_content.as_mut()
        && clean_value(value)
    {
        result.content = vec![ContentBlock::text(text_twin(value))];
    }
    result
}

/// `ok`, or the error code of a failed call (for metrics).
pub fn outcome(response: &CallToolResponse) -> String {
    let CallToolResponse::Complete(result) = response else {
        return "ok".to_owned();
    };
    if result.is_error != Some(true) {
        return "ok".to_owned();
    }
    result
        .content
        .get(1)
        .and_then(|block| serde_json::from_str::<serde_json::Value>(&text_of(block)).ok())
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
        // Codes come from cStar too: keep the label set small and plain.
        .filter(|code| {
            code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .unwrap_or_else(|| "error".to_owned())
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
    use serde_json::json;

    #[test]
    fn structured_results_are_cleaned_in_both_forms() {
        let result = CallToolResult::structured(json!({"a": {"b": ["x\u{200B}y"]}}));
        let CallToolResponse::Complete(done) = finish(result.into()) else {
            panic!("complete");
        };
        assert_eq!(done.structured_content, Some(json!({"a": {"b": ["xy"]}})));
        assert_eq!(text_of(&done.content[0]), r#"{"a":{"b":["xy"]}}"#);
    }

    #[test]
    fn argument_errors_get_the_json_block() {
        let result = CallToolResult::error(vec![ContentBlock::text(
            "failed to deserialize parameters: argument 'page': invalid type",
        )]);
        let CallToolResponse::Complete(done) = finish(result.into()) else {
            panic!("complete");
        };
        assert_eq!(done.content.len(), 2);
        let body: serde_json::Value = serde_json::from_str(&text_of(&done.content[1])).unwrap();
        assert_eq!(body["error"]["code"], "invalid_argument");
        assert!(text_of(&done.content[0]).contains("argument 'page'"));
    }
}
