//! Cleans text before it reaches the model, in one place.
//!
//! Ticket titles, messages, customer fields, metadata and even cStar's own
//! error messages are written by people the agent's user does not control.
//! Text that a person cannot see but a model reads (zero-width characters,
//! bidirectional controls, tag characters, variation-selector runs) is a
//! known carrier for prompt injection and display spoofing. `clean_value`
//! walks a whole serialized result, so no field can escape it; the server
//! calls it on every tool result at the MCP boundary.
//!
//! What counts as hidden comes from Unicode properties (ICU4X's tables):
//! `Default_Ignorable_Code_Point`, `Bidi_Control`, general category `Cf`
//! (except the visible prepended concatenation marks), and controls other
//! than newline and tab. Some of those characters change how visible text
//! renders, and are kept where they do:
//! - ZWJ inside an emoji sequence (👨‍👩‍👧), and ZWJ or ZWNJ between the letters
//!   of a cursive-joining script (Persian می‌خواهم) or next to a virama
//!   (Indic conjuncts and half forms);
//! - one variation selector right after a base that takes it (❤️, 葛󠄀);
//! - the tag characters of the three subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
//!
//! Runs of selectors or joiners, and any that follow a character they
//! cannot modify, render nothing and are removed. Visible text is left
//! byte for byte as written.

use std::borrow::Cow;

use icu_properties::props::{
    BidiControl, CanonicalCombiningClass, DefaultIgnorableCodePoint, Emoji, EmojiModifier,
    ExtendedPictographic, GeneralCategory, GeneralCategoryGroup, Ideographic, JoiningType,
    PrependedConcatenationMark,
};
use icu_properties::{CodePointMapData, CodePointSetData};
use serde_json::Value;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';
/// The tag letters of the RGI subdivision flags: England, Scotland, Wales.
const SUBDIVISION_FLAGS: [&str; 3] = ["gbeng", "gbsct", "gbwls"];

/// `text` without hidden characters; borrowed when nothing was hidden.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_suspect) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    // The previous character of the input, when it was kept.
    let mut previous: Option<char> = None;
    // The last kept character that is not a combining mark (for joining).
    let mut base: Option<char> = None;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let next = chars.get(index + 1).copied();
        if c == BLACK_FLAG
            && let Some(length) = subdivision_flag_tags(&chars[index + 1..])
        {
            out.extend(&chars[index..=index + length]);
            previous = Some(CANCEL_TAG);
            base = Some(BLACK_FLAG);
            index += length + 1;
            continue;
        }
        if let Some(length) = escape_sequence(&chars[index..]) {
            // A terminal escape goes whole, not only its ESC.
            index += length;
            continue;
        }
        let keep = !is_suspect(c) || renders(c, previous, base, next);
        if keep {
            out.push(c);
            if !is_mark(c) {
                base = Some(c);
            }
        }
        previous = keep.then_some(c);
        index += 1;
    }
    Cow::Owned(out)
}

/// Clean `text` up to `end`, less what a cut there would leave hidden: a
/// joiner or the tag characters of a sequence it split.
pub fn whole_prefix(text: &str, end: usize) -> Cow<'_, str> {
    let head = &text[..end];
    // Only the end can change: clean from the last character that is kept
    // whatever precedes it (visible, not a mark), a few characters back.
    let start = head
        .char_indices()
        .rev()
        .take(64)
        .find(|(_, c)| !is_suspect(*c) && !is_mark(*c))
        .map(|(at, _)| at);
    let Some(start) = start else {
        return clean(head);
    };
    match clean(&head[start..]) {
        Cow::Borrowed(_) => Cow::Borrowed(head),
        Cow::Owned(tail) => Cow::Owned(format!("{}{tail}", &head[..start])),
    }
}

const ESC: char = '\u{1B}';
const BEL: char = '\u{7}';
/// The 8-bit string terminator.
const ST: char = '\u{9C}';
/// The longest escape sequence removed whole; past it, a sequence that
/// never ends loses only its introducer.
const MAX_ESCAPE_CHARS: usize = 4_096;

/// How many characters the terminal escape sequence at the start of
/// `chars` takes (ECMA-48: CSI, OSC and the other control strings, and
/// two-character escapes), if one starts there.
fn escape_sequence(chars: &[char]) -> Option<usize> {
    let (body, introducer) = match chars {
        [ESC, '[', ..] => (Body::Csi, 2),
        [ESC, ']' | 'P' | 'X' | '^' | '_', ..] => (Body::String, 2),
        [ESC, next, ..] if (' '..='~').contains(next) => (Body::Escape, 1),
        ['\u{9B}', ..] => (Body::Csi, 1),
        ['\u{90}' | '\u{98}' | '\u{9D}' | '\u{9E}' | '\u{9F}', ..] => (Body::String, 1),
        _ => return None,
    };
    let rest = chars.get(introducer..)?;
    let body_length = match body {
        // Parameters and intermediates, then one final byte.
        Body::Csi => rest
            .iter()
            .take(MAX_ESCAPE_CHARS)
            .position(|c| ('@'..='~').contains(c))
            .filter(|&end| rest[..end].iter().all(|c| (' '..='?').contains(c)))
            .map(|end| end + 1),
        // Intermediates, then one final byte.
        Body::Escape => rest
            .iter()
            .position(|c| !(' '..='/').contains(c))
            .filter(|&end| rest.get(end).is_some_and(|c| ('0'..='~').contains(c)))
            .map(|end| end + 1),
        // Any text up to BEL or ST (ESC \\).
        Body::String => {
            rest.iter()
                .take(MAX_ESCAPE_CHARS)
                .enumerate()
                .find_map(|(at, c)| match c {
                    &BEL | &ST => Some(at + 1),
                    &ESC if rest.get(at + 1) == Some(&'\\') => Some(at + 2),
                    _ => None,
                })
        }
    };
    Some(introducer + body_length.unwrap_or(0))
}

/// What follows an escape's introducer.
enum Body {
    Csi,
    Escape,
    String,
}

/// Cleans every string in a serialized result, and drops `null`s, so
/// results match their published schemas. True when anything changed. A
/// tag or an object key that cleaning would change is shown with its
/// hidden characters spelled out (`vip<U+200B>`), which says so, stays
/// usable as a tag filter (see `unescape`), and never makes two keys one.
pub fn clean_value(value: &mut Value) -> bool {
    match value {
        Value::String(text) => match clean(text) {
            Cow::Owned(cleaned) => {
                *text = cleaned;
                true
            }
            Cow::Borrowed(_) => false,
        },
        Value::Array(items) => {
            let before = items.len();
            items.retain(|item| !item.is_null());
            let mut changed = items.len() != before;
            for item in items.iter_mut() {
                changed |= clean_value(item);
            }
            changed
        }
        Value::Object(map) => {
            let before = map.len();
            map.retain(|_, item| !item.is_null());
            let mut changed = map.len() != before;
            for (key, item) in map.iter_mut() {
                if key == "tags"
                    && let Value::Array(tags) = item
                {
                    for tag in tags.iter_mut() {
                        changed |= spell_out_hidden(tag);
                    }
                }
                changed |= clean_value(item);
            }
            let hidden_in_keys: Vec<String> = map
                .keys()
                .filter(|key| matches!(clean(key), Cow::Owned(_)))
                .cloned()
                .collect();
            for key in hidden_in_keys {
                // Spelled out like a tag, so it never takes the place of
                // the key it would otherwise read as.
                if let Some(item) = map.remove(&key) {
                    let mut spelled = Value::String(key);
                    spell_out_hidden(&mut spelled);
                    if let Value::String(spelled) = spelled {
                        super::fit::insert_unique(map, spelled, item);
                    }
                }
                changed = true;
            }
            changed
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A tag filter as the model wrote it, with the `<U+XXXX>` spellings that
/// `clean_value` showed turned back into the characters they stand for.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains("<U+") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<U+") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let decoded = after.find('>').and_then(|end| {
            let c = u32::from_str_radix(&after[..end], 16)
                .ok()
                .and_then(char::from_u32)?;
            (end <= 6 && is_suspect(c)).then_some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("<U+");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `text` with its hidden characters spelled out (`ti<U+200B>er`), as
/// keys and tags are shown: for a name that must stay told apart from the
/// one it would read as once cleaned.
pub fn spelled(text: &str) -> String {
    let mut value = Value::String(text.to_owned());
    spell_out_hidden(&mut value);
    match value {
        Value::String(spelled) => spelled,
        _ => text.to_owned(),
    }
}

/// Replaces a string's hidden characters with their `<U+XXXX>` spelling;
/// true when there were any.
fn spell_out_hidden(item: &mut Value) -> bool {
    let Value::String(text) = item else {
        return false;
    };
    if matches!(clean(text), Cow::Borrowed(_)) {
        return false;
    }
    let kept = clean(text).into_owned();
    let mut kept_chars = kept.chars().peekable();
    let mut out = String::new();
    for c in text.chars() {
        if kept_chars.peek() == Some(&c) {
            kept_chars.next();
            out.push(c);
        } else if is_suspect(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            // The visible body of an escape sequence whose ESC is spelled
            // out: kept as written, so `unescape` restores the whole.
            out.push(c);
        }
    }
    *text = out;
    true
}

/// Characters that may be hidden, depending on where they stand.
fn is_suspect(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control() && c != '\n' && c != '\t';
    }
    c.is_control()
        || (CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || CodePointSetData::new::<BidiControl>().contains(c)
            || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format)
            && !CodePointSetData::new::<PrependedConcatenationMark>().contains(c)
}

/// Whether a suspect character changes how its neighbours render here.
fn renders(c: char, previous: Option<char>, base: Option<char>, next: Option<char>) -> bool {
    let Some(previous) = previous else {
        return false;
    };
    match c {
        ZWJ => emoji_joins(previous, next) || script_joins(previous, base, next),
        ZWNJ => script_joins(previous, base, next),
        _ if is_variation_selector(c) => {
            // One selector, right after the base it modifies.
            !next.is_some_and(is_variation_selector) && takes_selector(previous, c)
        }
        _ => false,
    }
}

/// ZWJ between two pictographs (the first may carry a skin tone or VS16).
fn emoji_joins(previous: char, next: Option<char>) -> bool {
    let pictographic = |c: char| CodePointSetData::new::<ExtendedPictographic>().contains(c);
    let emoji_part = |c: char| {
        pictographic(c) || c == '\u{FE0F}' || CodePointSetData::new::<EmojiModifier>().contains(c)
    };
    emoji_part(previous) && next.is_some_and(pictographic)
}

/// ZWJ or ZWNJ after a virama (Indic conjuncts, half forms, chillus), or
/// between letters of a cursive-joining script, where they choose the
/// shapes that render.
fn script_joins(previous: char, base: Option<char>, next: Option<char>) -> bool {
    let virama = |c: char| {
        CodePointMapData::<CanonicalCombiningClass>::new().get(c) == CanonicalCombiningClass::Virama
    };
    if virama(previous) {
        return !next.is_some_and(is_suspect);
    }
    let Some(next) = next else {
        return false;
    };
    let letter_or_mark = |c: char| {
        let category = CodePointMapData::<GeneralCategory>::new().get(c);
        GeneralCategoryGroup::Letter.contains(category)
            || GeneralCategoryGroup::Mark.contains(category)
    };
    if !letter_or_mark(previous) || !letter_or_mark(next) {
        return false;
    }
    let joins = |c: char| {
        matches!(
            CodePointMapData::<JoiningType>::new().get(c),
            JoiningType::DualJoining
                | JoiningType::LeftJoining
                | JoiningType::RightJoining
                | JoiningType::JoinCausing
        )
    };
    virama(next) || base.is_some_and(joins) && joins(next)
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}' | '\u{180F}')
}

/// Whether `selector` right after `base` picks a defined variant: text or
/// emoji style for an emoji, an ideographic variant for a CJK ideograph, a
/// standardized variant of a math symbol, or a Mongolian letter form.
fn takes_selector(base: char, selector: char) -> bool {
    if is_variation_selector(base) {
        return false;
    }
    match selector {
        '\u{FE0E}' | '\u{FE0F}' => CodePointSetData::new::<Emoji>().contains(base),
        '\u{E0100}'..='\u{E01EF}' => CodePointSetData::new::<Ideographic>().contains(base),
        '\u{FE00}'..='\u{FE0D}' => {
            CodePointSetData::new::<Ideographic>().contains(base)
                || CodePointMapData::<GeneralCategory>::new().get(base)
                    == GeneralCategory::MathSymbol
        }
        _ => ('\u{1800}'..='\u{18AF}').contains(&base),
    }
}

fn is_mark(c: char) -> bool {
    GeneralCategoryGroup::Mark.contains(CodePointMapData::<GeneralCategory>::new().get(c))
}

/// The length of a subdivision flag's tag sequence after the black flag.
fn subdivision_flag_tags(rest: &[char]) -> Option<usize> {
    SUBDIVISION_FLAGS.iter().find_map(|letters| {
        let length = letters.len() + 1;
        let tags = rest.get(..length)?;
        let matches = letters
            .chars()
            .zip(tags)
            .all(|(letter, tag)| *tag as u32 == 0xE0000 + letter as u32)
            && tags[letters.len()] == CANCEL_TAG;
        matches.then_some(length)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_invisible_and_bidi_characters() {
        assert_eq!(clean("pay\u{200B}ment"), "payment");
        assert_eq!(clean("abc\u{202E}fed"), "abcfed");
        assert_eq!(clean("hi\u{E0049}\u{E0047}\u{E004E}"), "hi");
        assert_eq!(clean("a\u{2066}b\u{2069}c\u{FEFF}"), "abc");
        assert_eq!(clean("bell\u{7}"), "bell");
        assert_eq!(clean("\u{061C}x\u{115F}y\u{3164}"), "xy");
        assert_eq!(clean("pay\u{200D}ment"), "payment");
    }

    #[test]
    fn keeps_visible_text() {
        let text = "Hello, Zoë! 你好 👋\nLine two\tTabbed — “quotes” ؀١";
        assert!(matches!(clean(text), Cow::Borrowed(_)));
    }

    #[test]
    fn keeps_what_renders() {
        for text in [
            "👨\u{200D}👩\u{200D}👧",
            "🏳\u{FE0F}\u{200D}🌈",
            "👩🏽\u{200D}💻",
            "❤\u{FE0F}\u{200D}🔥",
            "#\u{FE0F}\u{20E3}",
            "می\u{200C}خواهم",
            "क\u{094D}\u{200D}ष",
            "ക\u{0D4D}\u{200D}",
            "葛\u{E0100}",
            "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        ] {
            assert_eq!(clean(text), text, "{text:?}");
        }
    }

    #[test]
    fn removes_selector_runs_and_stray_selectors() {
        let smuggled: String = "😀"
            .chars()
            .chain(('\u{E0100}'..='\u{E0120}').take(20))
            .collect();
        assert_eq!(clean(&smuggled), "😀");
        assert_eq!(clean("a\u{FE0F}"), "a");
        assert_eq!(clean("😀\u{FE0F}\u{FE0F}"), "😀");
        assert_eq!(clean("\u{1F3F4}\u{E0041}\u{E007F}"), "\u{1F3F4}");
        assert_eq!(clean("👨\u{200D}\u{200D}👩"), "👨👩");
    }

    /// The code points of a Unicode class, from regex-syntax's tables: an
    /// oracle independent of the ICU4X tables that `clean` uses.
    fn oracle(class: &str) -> Vec<(char, char)> {
        let hir = regex_syntax::Parser::new().parse(class).unwrap();
        match hir.kind() {
            regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(set)) => {
                set.ranges().iter().map(|r| (r.start(), r.end())).collect()
            }
            other => panic!("not a class: {other:?}"),
        }
    }

    #[test]
    fn hidden_means_what_the_unicode_tables_say() {
        let hidden = oracle(
            r"[[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\p{Cf}\p{Cc}]--[\n\t\p{Prepended_Concatenation_Mark}]]",
        );
        let is_hidden = |c: char| hidden.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c));
        let (mut removed, mut kept) = (0, 0);
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            // Between two Latin letters nothing hidden can render (the
            // second is not ASCII, so no escape sequence can take it).
            let text = format!("a{c}é");
            let cleaned = clean(&text);
            if is_hidden(c) {
                assert_eq!(cleaned, "aé", "U+{:04X} should be removed", c as u32);
                removed += 1;
            } else {
                assert_eq!(cleaned, text, "U+{:04X} should be kept", c as u32);
                kept += 1;
            }
        }
        assert!(
            removed > 4000 && kept > 1_000_000,
            "{removed} removed, {kept} kept"
        );
    }

    #[test]
    fn walks_every_string_and_spells_out_changed_tags() {
        let mut value = json!({
            "title": "a\u{200B}b",
            "metadata": {"k\u{202E}ey": ["x\u{2060}y", null], "gone": null},
            "tags": ["vip\u{200B}", "plain"]
        });
        assert!(clean_value(&mut value));
        assert_eq!(
            value,
            json!({"title": "ab", "metadata": {"k<U+202E>ey": ["xy"]}, "tags": ["vip<U+200B>", "plain"]})
        );
        assert_eq!(unescape("vip<U+200B>"), "vip\u{200B}");
        assert_eq!(unescape("a<U+0041>"), "a<U+0041>");
        assert_eq!(unescape("<U+"), "<U+");
    }
}

#[cfg(test)]
mod escapes_and_keys {
    use super::*;
    use serde_json::json;

    #[test]
    fn terminal_escape_sequences_go_whole() {
        let cases = [
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}[1;38;5;196mbold", "bold"),
            ("\u{9b}31mcsi8", "csi8"),
            (
                "\u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\",
                "link",
            ),
            ("\u{1b}]0;title\u{7}after", "after"),
            ("\u{1b}Pdcs data\u{1b}\\x", "x"),
            ("\u{1b}(Bcharset", "charset"),
            ("\u{1b}7save\u{1b}8", "save"),
            ("keep [31m as typed", "keep [31m as typed"),
            ("lone \u{1b}", "lone "),
        ];
        for (text, cleaned) in cases {
            assert_eq!(clean(text), cleaned, "{text:?}");
        }
    }

    #[test]
    fn a_tag_holding_an_escape_sequence_is_spelled_so_it_round_trips() {
        let mut tag = Value::String("\u{1b}[31mvip".into());
        assert!(spell_out_hidden(&mut tag));
        assert_eq!(tag, "<U+001B>[31mvip");
        assert_eq!(unescape(tag.as_str().unwrap()), "\u{1b}[31mvip");
    }

    #[test]
    fn names_that_read_alike_once_cleaned_are_spelled_apart() {
        assert_eq!(spelled("tier"), "tier");
        assert_eq!(spelled("ti\u{200b}er"), "ti<U+200B>er");
        assert_ne!(spelled("ti\u{200b}er"), spelled("tier"));
    }

    #[test]
    fn a_key_that_cleaning_changes_never_replaces_another() {
        let mut value = json!({ "tier": "free", "ti\u{200b}er": "vip", "ti\u{200c}er": "gold" });
        assert!(clean_value(&mut value));
        let map = value.as_object().unwrap();
        assert_eq!(map.len(), 3, "{value}");
        assert_eq!(map["tier"], "free");
        assert_eq!(map["ti<U+200B>er"], "vip");
        assert_eq!(map["ti<U+200C>er"], "gold");
    }
}
