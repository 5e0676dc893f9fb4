//! Every HTTP error answer this server writes itself (the gate's 401, 403,
//! 408, 413, 429 and 503, the listener's 503, the 404 and 405 of the
//! other routes, `/readyz` while draining): one JSON shape,
//! `{"error":{"code":..,"message":..}}`, built by `refusal`. rmcp's own
//! plain-text refusals on `/mcp` (403 for a foreign `Host`, 405 for a GET
//! or DELETE, 406, 415, ...) are `restated` in that shape; its JSON-RPC
//! errors stay as JSON-RPC has them.
//!
//! Some answers quote cStar (why it rejected a key, why the key could not
//! be checked), and cStar's text is not ours: it may be huge, or carry
//! hidden characters and terminal escapes meant for whoever reads a log or
//! a client's error dialog. So the code and the message always pass
//! `text`: cleaned as the egress cleans (whole terminal escape sequences
//! and hidden characters), then quoted to a bound. A caller that quotes cStar
//! puts its own advice first, so the cut only ever shortens the quote.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::limits::quote;
use crate::tools::sanitize;

/// The longest message, in characters.
const MAX_MESSAGE: usize = 500;
/// The longest error code, in characters.
const MAX_CODE: usize = 64;
/// The most of another layer's error body that is read to restate it.
const MAX_RESTATED_BYTES: usize = 64 * 1024;

/// An error answer with `status`, `code` and `message`, cleaned and bounded.
pub fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from(body(code, message)),
    )
        .into_response()
}

/// The JSON body of `refusal`, for answers written without an HTTP stack.
pub fn body(code: &str, message: &str) -> String {
    json!({ "error": { "code": text(code, MAX_CODE), "message": text(message, MAX_MESSAGE) } })
        .to_string()
}

/// `response` as it is, unless it is an error with a body that is not
/// JSON (rmcp's plain-text refusals): then the same status and headers
/// with the text as a `refusal`.
pub async fn restated(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .is_some_and(|kind| kind.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let reason = status.canonical_reason().unwrap_or("Error");
    let said = match to_bytes(body, MAX_RESTATED_BYTES).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => reason.to_owned(),
    };
    let code = reason.to_ascii_lowercase().replace(' ', "_");
    let mut ours = refusal(status, &code, &said);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            ours.headers_mut().append(name, value.clone());
        }
    }
    ours
}

/// `response` with one more header.
pub fn with_header(mut response: Response, name: HeaderName, value: HeaderValue) -> Response {
    response.headers_mut().insert(name, value);
    response
}

/// `raw` fit to show: no terminal escapes, no hidden characters
/// (`tools::sanitize`), at most `max` characters (`limits::quote`).
pub fn text(raw: &str, max: usize) -> String {
    let visible = sanitize::clean(raw);
    // The cut can leave a joiner or selector at the end with nothing left
    // to join; cleaning again drops it.
    sanitize::clean(&quote(&visible, max)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_then_bounded() {
        let raw = format!("\u{1b}[31mdenied\u{200b}\u{1b}[0m {}", "x".repeat(10_000));
        let shown = text(&raw, 20);
        assert_eq!(shown, "denied xxxxxxxxxxxxx…");
        assert!(!shown.contains(['\u{1b}', '\u{200b}']));
        assert!(!shown.contains("[31m") && !shown.contains("[0m"));
        // A joiner that the cut leaves with nothing to join is dropped.
        let family = "\u{1f468}\u{200d}\u{1f469}";
        assert_eq!(text(family, 3), family);
        assert_eq!(text(family, 2), "\u{1f468}…");
    }

    #[test]
    fn every_body_has_one_shape() {
        let body: serde_json::Value =
            serde_json::from_str(&body(&"c".repeat(100), "m\u{1b}[1m")).unwrap();
        assert_eq!(body["error"]["message"], "m");
        let code = body["error"]["code"].as_str().unwrap();
        assert!(
            code.starts_with(&"c".repeat(64)) && code.len() < 100,
            "{code}"
        );
    }
}
