//! Cleans customer-written text before it reaches the model.
//!
//! Ticket titles, messages and customer fields are written by anyone. Text
//! that a person cannot see but a model reads (zero-width characters,
//! bidirectional overrides, Unicode tag characters) is a known carrier for
//! prompt injection and display spoofing, so it is removed. Visible text is
//! left exactly as written.

/// `text` without invisible, bidi-control and tag characters, and without
/// control characters other than newline and tab.
pub fn clean(text: &str) -> String {
    if text.chars().any(is_hidden) {
        text.chars().filter(|c| !is_hidden(*c)).collect()
    } else {
        text.to_owned()
    }
}

/// `clean` for owned optional text, which is kept when already clean.
pub fn clean_opt(text: Option<String>) -> Option<String> {
    text.map(clean_owned)
}

/// `clean` for each of a list of owned strings.
pub fn clean_all(texts: Vec<String>) -> Vec<String> {
    texts.into_iter().map(clean_owned).collect()
}

fn clean_owned(text: String) -> String {
    if text.chars().any(is_hidden) {
        clean(&text)
    } else {
        text
    }
}

fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{FEFF}'              // zero-width no-break space
        | '\u{180E}'              // Mongolian vowel separator
        | '\u{00AD}'              // soft hyphen
        | '\u{E0000}'..='\u{E007F}' // tag characters
    ) || (c.is_control() && c != '\n' && c != '\t')
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn strips_invisible_and_bidi_characters() {
        assert_eq!(clean("pay\u{200B}ment"), "payment");
        assert_eq!(clean("abc\u{202E}fed"), "abcfed");
        assert_eq!(clean("hi\u{E0049}\u{E0047}\u{E004E}"), "hi");
        assert_eq!(clean("a\u{2066}b\u{2069}c\u{FEFF}"), "abc");
        assert_eq!(clean("bell\u{7}"), "bell");
    }

    #[test]
    fn keeps_visible_text() {
        let text = "Hello, Zoë! 你好 👋\nLine two\tTabbed — “quotes”";
        assert_eq!(clean(text), text);
    }
}
