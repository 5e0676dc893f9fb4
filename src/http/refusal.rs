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
//! `text`: whole terminal escape sequences removed, then hidden characters
//! (`tools::sanitize`), then cut to a bound. A caller that quotes cStar
//! puts its own advice first, so the cut only ever shortens the quote.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::tools::{errors, sanitize};

/// The longest message, in characters (before the note of how long it was).
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

/// `raw` fit to show: no terminal escapes, no hidden characters, at most
/// `max` characters (and a note of the full length when cut).
pub fn text(raw: &str, max: usize) -> String {
    let visible = sanitize::clean(&without_escapes(raw)).into_owned();
    // The cut can leave a joiner or selector at the end with nothing left
    // to join; cleaning again drops it.
    sanitize::clean(&errors::shorten(&visible, max)).into_owned()
}

/// `raw` without terminal escape sequences: ESC or C1 introducers with
/// what they introduce (CSI parameters and final byte, OSC and other
/// strings up to their terminator, two- and three-character escapes). A
/// sequence cut off by the end of the text is dropped as far as it goes.
fn without_escapes(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.chars().any(introduces) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next_if(|c| matches!(c, ' '..='~')) {
                Some('[') => skip_control(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                Some(' '..='/') => {
                    // A designation such as `ESC ( B`: intermediates, final.
                    while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
                    chars.next_if(|c| matches!(c, '0'..='~'));
                }
                // A two-character escape (`ESC 7`, `ESC c`) or a lone ESC.
                _ => {}
            },
            '\u{9b}' => skip_control(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn introduces(c: char) -> bool {
    matches!(
        c,
        '\u{1b}' | '\u{90}' | '\u{98}' | '\u{9b}' | '\u{9d}' | '\u{9e}' | '\u{9f}'
    )
}

/// Skips a control sequence's parameters, intermediates and final byte.
fn skip_control(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| matches!(c, '0'..='?')).is_some() {}
    while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
    chars.next_if(|c| matches!(c, '@'..='~'));
}

/// Skips a string sequence up to and including BEL, `ESC \` or C1 ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_go_whole() {
        let cases = [
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}[1;38;5;196mbold\u{1b}[m", "bold"),
            ("a\u{1b}[2Jb\u{1b}[?25lc", "abc"),
            ("\u{1b}]0;title\u{7}after", "after"),
            (
                "\u{1b}]8;;http://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\",
                "link",
            ),
            ("\u{1b}P1$r0m\u{1b}\\x", "x"),
            ("\u{1b}(Bplain\u{1b}7\u{1b}c", "plain"),
            ("\u{9b}31mc1\u{9b}0m", "c1"),
            ("\u{9d}0;t\u{9c}ok", "ok"),
            ("cut off \u{1b}[38;5", "cut off "),
            ("lone \u{1b}", "lone "),
            ("no escapes, [31m stays text", "no escapes, [31m stays text"),
        ];
        for (raw, expected) in cases {
            assert_eq!(without_escapes(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn text_is_cleaned_then_bounded() {
        let raw = format!("\u{1b}[31mdenied\u{200b}\u{1b}[0m {}", "x".repeat(10_000));
        let shown = text(&raw, 20);
        assert!(shown.starts_with("denied xxxxxxxxxxxxx…"), "{shown}");
        assert!(shown.ends_with("(10007 characters)"), "{shown}");
        assert!(!shown.contains(['\u{1b}', '\u{200b}']));
        assert!(!shown.contains("[31m") && !shown.contains("[0m"));
        // A joiner that the cut leaves with nothing to join is dropped.
        let family = "\u{1f468}\u{200d}\u{1f469}";
        assert_eq!(text(family, 3), family);
        assert_eq!(text(family, 2), "\u{1f468}… (3 characters)");
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
