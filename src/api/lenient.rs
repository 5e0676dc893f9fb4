//! Makes an upstream body safe to decode and to show, before anything reads
//! it: the API key is redacted wherever cStar (or a proxy) echoed it, and
//! text no strict decoder accepts is repaired instead of failing the whole
//! page. Invalid UTF-8 and lone UTF-16 surrogate escapes (which JavaScript
//! writes when it cuts a string mid-emoji) become U+FFFD, so one broken
//! string never makes a page unreadable, and retrying would never help.

use memchr::memmem;

/// What replaces the key in upstream text.
pub const REDACTED: &str = "[redacted]";

/// `body` with every copy of `key` redacted and its text repaired; the
/// same buffer when nothing needed either.
pub fn clean_body(body: Vec<u8>, key: &str) -> Vec<u8> {
    let body = redact(body, key);
    let body = match String::from_utf8(body) {
        Ok(text) => text.into_bytes(),
        Err(error) => String::from_utf8_lossy(error.as_bytes())
            .into_owned()
            .into_bytes(),
    };
    repair_surrogates(&body).unwrap_or(body)
}

fn redact(body: Vec<u8>, key: &str) -> Vec<u8> {
    let key = key.as_bytes();
    if key.is_empty() {
        return body;
    }
    let finder = memmem::Finder::new(key);
    if finder.find(&body).is_none() {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    for at in finder.find_iter(&body) {
        out.extend_from_slice(&body[copied..at]);
        out.extend_from_slice(REDACTED.as_bytes());
        copied = at + key.len();
    }
    out.extend_from_slice(&body[copied..]);
    out
}

/// The JSON text with each unpaired `\uD800`-`\uDFFF` escape replaced by
/// `\uFFFD`, or `None` when there is none. Backslashes only occur inside
/// JSON strings; a `\u` starts an escape when an odd number of backslashes
/// ends there.
fn repair_surrogates(json: &[u8]) -> Option<Vec<u8>> {
    let unit_at = |i: usize| -> Option<u16> {
        let digits = json.get(i..i + 6)?;
        if &digits[..2] != b"\\u" {
            return None;
        }
        let hex = std::str::from_utf8(&digits[2..]).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let escapes = |i: usize| json[..=i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1;
    let high = |unit: u16| (0xD800..0xDC00).contains(&unit);
    let low = |unit: u16| (0xDC00..0xE000).contains(&unit);
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut skip_until = 0;
    for at in memmem::find_iter(json, b"\\u") {
        if at < skip_until || !escapes(at) {
            continue;
        }
        let Some(unit) = unit_at(at) else { continue };
        if high(unit) && unit_at(at + 6).is_some_and(low) {
            skip_until = at + 12;
            continue;
        }
        if high(unit) || low(unit) {
            let repaired = out.get_or_insert_with(|| Vec::with_capacity(json.len()));
            repaired.extend_from_slice(&json[copied..at]);
            repaired.extend_from_slice(b"\\uFFFD");
            copied = at + 6;
        }
    }
    out.map(|mut repaired| {
        repaired.extend_from_slice(&json[copied..]);
        repaired
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &[u8]) -> String {
        String::from_utf8(clean_body(body.to_vec(), "sk_test_secret")).unwrap()
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(text(br#"{"a":"x\ud83d"}"#), r#"{"a":"x\uFFFD"}"#);
        assert_eq!(text(br#"{"a":"\udc00y"}"#), r#"{"a":"\uFFFDy"}"#);
        assert_eq!(text(br#"["\ud83d\ude00"]"#), r#"["\ud83d\ude00"]"#);
        assert_eq!(text(br#"["\\ud83d"]"#), r#"["\\ud83d"]"#);
        assert_eq!(text(br#"["\\\ud83d"]"#), r#"["\\\uFFFD"]"#);
        assert_eq!(
            text(br#"["\ud83d\ud83d\ude00"]"#),
            r#"["\uFFFD\ud83d\ude00"]"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text(br#"{"a":"x\ud83d"}"#)).unwrap();
        assert_eq!(parsed["a"], "x\u{FFFD}");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(text(b"{\"a\":\"x\xff\"}"), "{\"a\":\"x\u{FFFD}\"}");
    }

    #[test]
    fn the_key_is_redacted() {
        assert_eq!(
            text(br#"{"message":"bad header Bearer sk_test_secret, sk_test_secret"}"#),
            r#"{"message":"bad header Bearer [redacted], [redacted]"}"#
        );
        assert_eq!(clean_body(b"{}".to_vec(), "k"), b"{}");
    }
}
