//! How long one input may be: the numbers cStar's API holds values to,
//! owned here so that the tools (which publish them in their schemas and
//! check arguments before any request) and the sandbox (which refuses what
//! cStar would refuse) never disagree. Lengths count characters, not bytes.
//!
//! Also how a refused value is quoted: never whole, so an error about a
//! megabyte of text is a short error.

/// The most items one page may hold (cStar's own limit).
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest id: prefixed ids and UUIDs are 36 characters.
pub const MAX_ID: usize = 100;
/// Longest event type name.
pub const MAX_EVENT: usize = 64;
/// Most tags on a new ticket.
pub const MAX_TAGS: usize = 50;
/// Longest search text.
pub const MAX_SEARCH: usize = 200;
/// Longest short text: names, tags, titles, category names.
pub const MAX_SHORT: usize = 500;
/// Longest long text: notes and message bodies.
pub const MAX_LONG: usize = 20_000;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest webhook URL.
pub const MAX_URL: usize = 2_048;
/// Most event types (or `resource.*`, `*`) one webhook subscribes to.
pub const MAX_WEBHOOK_EVENTS: usize = 50;
/// Most metadata keys on a record (Stripe's limits: cStar's API is
/// Stripe-style and does not document its own).
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest metadata key.
pub const MAX_METADATA_KEY: usize = 40;
/// Longest metadata text value.
pub const MAX_METADATA_VALUE: usize = 500;

/// Whether `text` has more than `max` characters. Costs no more than
/// reading `max` characters, however long `text` is.
pub fn exceeds(text: &str, max: usize) -> bool {
    // A string of at most `max` bytes has at most `max` characters.
    text.len() > max && text.chars().nth(max).is_some()
}

/// The longest prefix of a refused value that an error quotes.
pub const QUOTED: usize = 40;

/// The one rule for a value shown inside a sentence (an error, a log
/// line): on one line, at most `max_chars` characters, `…` when cut.
/// Cleaning of hidden text happens at the egress.
pub fn quote(text: &str, max_chars: usize) -> String {
    let mut quoted: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        quoted.push('…');
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(!exceeds("ééé", 3));
        assert!(exceeds("éééé", 3));
        assert!(!exceeds("", 0));
        assert!(exceeds(&"x".repeat(1_000_000), 10));
    }

    #[test]
    fn a_quote_is_a_short_single_line_prefix() {
        assert_eq!(quote("a\nb", QUOTED), "a b");
        let long = quote(&"é".repeat(1_000), QUOTED);
        assert_eq!(long.chars().count(), QUOTED + 1);
        assert!(long.ends_with('…'));
    }
}
