//! How a customer's name is matched in text, always as a whole word (the
//! caller checks the neighbours):
//! - a name with a word that is not a common lower-case word (`Jane Doe`,
//!   `Will Smith`, `Okafor`) matches in any case (`JANE DOE`, `will smith`,
//!   `okafor`): such a sequence in text is that person;
//! - a single-word name that is a common word (`Will`, `May`, `Grace`)
//!   matches only as written, so a customer called Will is redacted in
//!   "Thanks, Will" but "I will check" stays;
//! - a name made only of common words (`Rose Hill`, `Grace Park`) matches as
//!   written or in capitals (`GRACE PARK`), so "a rose hill" stays.

use std::borrow::Cow;

/// The regex (no flags of its own: each part carries its case rule) that
/// matches `name` in text.
pub fn pattern(name: &str) -> String {
    let parts = parts(name);
    let words: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|part| part.starts_with(char::is_alphabetic))
        .collect();
    let common = !words.is_empty() && words.iter().all(|word| is_common_word(word));
    if !common {
        return format!("(?i:{})", regex::escape(name));
    }
    if words.len() == 1 {
        return regex::escape(name);
    }
    parts
        .iter()
        .map(|part| {
            let upper = part.to_uppercase();
            if part.starts_with(char::is_alphabetic) && upper != *part {
                format!("(?:{}|{})", regex::escape(part), regex::escape(&upper))
            } else {
                regex::escape(part)
            }
        })
        .collect()
}

/// `name` cut into runs of letters and runs of anything else, in order.
fn parts(name: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut letters = None;
    for (at, c) in name.char_indices() {
        let is_letter = c.is_alphabetic();
        if letters.is_some_and(|was| was != is_letter) {
            parts.push(&name[start..at]);
            start = at;
        }
        letters = Some(is_letter);
    }
    if start < name.len() {
        parts.push(&name[start..]);
    }
    parts
}

/// Whether `word`, in lower case, is a common English word that is also
/// someone's name or a company's (or could be): such a part of a name is
/// matched only as written.
fn is_common_word(word: &str) -> bool {
    let lower: Cow<'_, str> = if word.chars().any(char::is_uppercase) {
        Cow::Owned(word.to_lowercase())
    } else {
        Cow::Borrowed(word)
    };
    COMMON_WORDS.binary_search(&lower.as_ref()).is_ok()
}

/// Sorted, lower case (a test keeps it so): words people write in lower
/// case that are also given names, surnames or company names.
const COMMON_WORDS: [&str; 192] = [
    "able", "ace", "amber", "angel", "apple", "april", "art", "ash", "august", "autumn", "baker",
    "bank", "bay", "bell", "berry", "best", "bill", "bird", "black", "blue", "bob", "bolt", "box",
    "brand", "bright", "brown", "buck", "bush", "butler", "cash", "chance", "chase", "cherry",
    "clay", "cliff", "cloud", "coin", "cook", "cooper", "core", "crane", "crew", "crystal", "dale",
    "dash", "dawn", "day", "dean", "delta", "diamond", "dot", "dove", "drew", "duke", "early",
    "earnest", "east", "echo", "eve", "fair", "faith", "field", "fisher", "flash", "flow", "ford",
    "forest", "fox", "frank", "free", "gay", "gene", "glen", "gold", "good", "grace", "grant",
    "gray", "green", "grey", "guy", "hale", "hall", "happy", "harbor", "hardy", "hart", "hazel",
    "heath", "hill", "holly", "honey", "hope", "hunter", "iris", "ivy", "jack", "jade", "jay",
    "jewel", "joy", "june", "just", "king", "knight", "lake", "lane", "lark", "lee", "lily",
    "little", "long", "love", "lucky", "major", "march", "mark", "marsh", "mason", "may", "meadow",
    "mercy", "miles", "mint", "moon", "moss", "nova", "oak", "ocean", "olive", "open", "page",
    "park", "pat", "patience", "peak", "pearl", "penny", "pepper", "pine", "pink", "pixel",
    "porter", "price", "prime", "rain", "ray", "read", "reed", "rich", "river", "rob", "robin",
    "rock", "rose", "ruby", "rush", "sage", "sandy", "scout", "shell", "shine", "short", "silver",
    "sky", "slack", "smart", "snow", "spring", "square", "star", "stone", "storm", "stripe", "sue",
    "summer", "sunny", "swift", "target", "taylor", "true", "vale", "wade", "ward", "well", "west",
    "white", "will", "wolf", "wood", "young", "zoom",
];

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn matches<'a>(name: &str, text: &'a str) -> Vec<&'a str> {
        let regex = Regex::new(&pattern(name)).unwrap();
        regex.find_iter(text).map(|m| m.as_str()).collect()
    }

    #[test]
    fn the_common_words_are_sorted_lower_case_and_distinct() {
        assert!(COMMON_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(COMMON_WORDS.iter().all(|w| w.to_lowercase() == *w));
        for word in ["Will", "may", "OPEN", "Mark", "grace"] {
            assert!(is_common_word(word), "{word}");
        }
        for word in ["Jane", "doe", "Okafor", "Zoë"] {
            assert!(!is_common_word(word), "{word}");
        }
    }

    #[test]
    fn a_name_with_an_uncommon_word_matches_in_any_case() {
        assert_eq!(
            matches("Jane Doe", "jane doe, JANE DOE, Jane Doe"),
            ["jane doe", "JANE DOE", "Jane Doe"]
        );
        assert_eq!(
            matches("Will Smith", "will smith, WILL SMITH, Will Smith"),
            ["will smith", "WILL SMITH", "Will Smith"]
        );
        assert_eq!(
            matches("Okafor", "okafor OKAFOR Okafor"),
            ["okafor", "OKAFOR", "Okafor"]
        );
        assert_eq!(
            matches("O'Brien", "o'brien O'BRIEN"),
            ["o'brien", "O'BRIEN"]
        );
        assert_eq!(
            matches("Zoë O'Brien-Schmidt", "ZOË O'BRIEN-SCHMIDT"),
            ["ZOË O'BRIEN-SCHMIDT"]
        );
    }

    #[test]
    fn a_single_common_word_matches_only_as_written() {
        assert_eq!(matches("Will", "I will check, Will. WILL"), ["Will"]);
    }

    #[test]
    fn a_name_of_common_words_matches_as_written_or_in_capitals() {
        assert_eq!(
            matches("Rose Hill", "a rose hill, Rose Hill, ROSE HILL"),
            ["Rose Hill", "ROSE HILL"]
        );
        assert_eq!(
            matches("Grace Park", "grace park GRACE PARK Grace Park"),
            ["GRACE PARK", "Grace Park"]
        );
    }
}
