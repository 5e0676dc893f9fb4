//! Fitting any text or JSON value into a byte budget, with a mark wherever
//! something was cut. The egress applies it to every message after
//! cleaning, so the budget holds on the bytes a client receives.
//!
//! A JSON value is fitted field by field: every string (object keys
//! included) longer than a common cap is cut to it, and the cap is the
//! largest that makes the whole fit, so short fields stay whole and the
//! longest give way first. Only when even short strings cannot make room
//! are the largest arrays and maps halved, from their end. One quoting rule (`quote`) serves
//! every value shown inside a sentence.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::budget::size_of;
use super::sanitize::whole_prefix;

/// A string is never cut below this many bytes of JSON (its mark fits).
const MIN_KEPT_BYTES: usize = 64;

/// What a cut string ends with: how much was left out.
fn cut_mark(left_out: usize) -> String {
    format!("… [cut: {left_out} more characters]")
}

/// Bytes the mark of a cut takes at most (quoted in JSON).
const MARK_BYTES: usize = 40;

/// Bytes `c` takes inside a JSON string.
fn json_bytes(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Bytes `text` takes as a JSON string, quotes included.
fn json_len(text: &str) -> usize {
    2 + text.chars().map(json_bytes).sum::<usize>()
}

/// `text` cut so that its JSON form (quotes and mark included) takes at
/// most `max_bytes`; whole when it fits.
fn cut_json_string(text: &str, max_bytes: usize) -> Option<String> {
    if json_len(text) <= max_bytes {
        return None;
    }
    let room = max_bytes.saturating_sub(2 + MARK_BYTES);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += json_bytes(c);
        if used > room {
            break;
        }
        end = at + c.len_utf8();
    }
    let kept = whole_prefix(text, end);
    let left_out = text.chars().count() - kept.chars().count();
    Some(format!("{kept}{}", cut_mark(left_out)))
}

/// `text` cut to at most `max_bytes` bytes of UTF-8, mark included, for
/// text blocks (resources, prompts, error sentences).
pub fn cut_text(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let mut end = max_bytes.saturating_sub(MARK_BYTES).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let kept = whole_prefix(text, end);
    let left_out = text.chars().count() - kept.chars().count();
    Cow::Owned(format!("{kept}\n{}", cut_mark(left_out)))
}

/// Fits `value` into `budget` bytes of compact JSON; true when anything
/// was cut.
pub fn fit_value(value: &mut Value, budget: usize) -> bool {
    let mut size = size_of(value);
    if size <= budget {
        return false;
    }
    let mut previous_cap = usize::MAX;
    loop {
        let mut lengths = Vec::new();
        string_lengths(value, &mut lengths);
        lengths.sort_unstable();
        let excess = size - budget;
        // Each round cuts deeper than the last, so the rounds end.
        let cap = common_cap(&lengths, excess).min(previous_cap.saturating_sub(excess.max(8)));
        let cap = cap.max(MIN_KEPT_BYTES);
        if cap == previous_cap {
            break;
        }
        cut_strings(value, cap);
        previous_cap = cap;
        size = size_of(value);
        if size <= budget {
            return true;
        }
    }
    while size > budget && halve_largest_container(value) {
        size = size_of(value);
    }
    true
}

/// The largest cap (in JSON bytes per string) that saves `excess` bytes,
/// given every string's length, sorted.
fn common_cap(sorted: &[usize], excess: usize) -> usize {
    let saved = |cap: usize| -> usize {
        sorted
            .iter()
            .rev()
            .take_while(|length| **length > cap)
            .map(|length| length - cap)
            .sum()
    };
    let (mut low, mut high) = (MIN_KEPT_BYTES, sorted.last().copied().unwrap_or(0));
    if saved(low) < excess {
        return low;
    }
    // The largest cap in [low, high] that still saves enough.
    while low < high {
        let middle = low + (high - low).div_ceil(2);
        if saved(middle) >= excess {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    low
}

fn string_lengths(value: &Value, lengths: &mut Vec<usize>) {
    match value {
        Value::String(text) => lengths.push(json_len(text)),
        Value::Array(items) => items.iter().for_each(|item| string_lengths(item, lengths)),
        Value::Object(map) => {
            for (key, item) in map {
                lengths.push(json_len(key));
                string_lengths(item, lengths);
            }
        }
        _ => {}
    }
}

fn cut_strings(value: &mut Value, cap: usize) {
    match value {
        Value::String(text) => {
            if let Some(cut) = cut_json_string(text, cap) {
                *text = cut;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| cut_strings(item, cap)),
        Value::Object(map) => {
            let long_keys: Vec<String> = map
                .keys()
                .filter(|key| json_len(key) > cap)
                .cloned()
                .collect();
            for key in long_keys {
                if let (Some(item), Some(cut)) = (map.remove(&key), cut_json_string(&key, cap)) {
                    insert_unique(map, cut, item);
                }
            }
            map.values_mut().for_each(|item| cut_strings(item, cap));
        }
        _ => {}
    }
}

/// Inserts under `key`, or under `key #2`, `key #3`… when taken, so that
/// no value ever replaces another.
pub fn insert_unique(map: &mut Map<String, Value>, key: String, item: Value) {
    if !map.contains_key(&key) {
        map.insert(key, item);
        return;
    }
    let free = (2..)
        .map(|n| format!("{key} #{n}"))
        .find(|candidate| !map.contains_key(candidate))
        .unwrap_or_default();
    map.insert(free, item);
}

/// The key under which a map that lost entries says how many.
const DROPPED_KEY: &str = "…";

/// A collection (a map, or a list of plain values) is halved before
/// anything else when it has more entries than this: records, whose
/// fields a model needs together, have fewer.
const COLLECTION_ITEMS: usize = 16;

/// What a halved map or list of plain values holds in place of what it
/// dropped.
fn dropped_mark(count: usize, what: &str) -> String {
    format!("[cut: {count} more {what}]")
}

/// The count a mark of `dropped_mark` says, if `text` is one.
fn dropped_count(text: &str, what: &str) -> Option<usize> {
    text.strip_prefix("[cut: ")?
        .strip_suffix(&format!(" more {what}]"))?
        .parse()
        .ok()
}

/// Drops the second half of a container (of more than one item), and
/// says so in it; false when there is none. The last resort, when even
/// short strings leave no room. The largest wide collection (a metadata
/// map, a list of tags) goes first, so records keep their fields and lists
/// of records their items; only when there is none is the largest
/// container halved (a list of records then loses its last ones without a
/// mark, which its items' schema has no room for).
fn halve_largest_container(value: &mut Value) -> bool {
    let Some(path) = container_to_halve(value) else {
        return false;
    };
    let mut node = value;
    for step in path {
        node = match (node, step) {
            (Value::Array(items), Step::Index(i)) => &mut items[i],
            (Value::Object(map), Step::Key(key)) => match map.get_mut(&key) {
                Some(item) => item,
                None => return false,
            },
            _ => return false,
        };
    }
    if entries(node) < 2 {
        return false;
    }
    match node {
        Value::Array(items) => {
            let plain = items.iter().all(is_plain);
            let mut dropped = match items.last().and_then(Value::as_str) {
                Some(last) if plain => dropped_count(last, "items"),
                _ => None,
            };
            if dropped.is_some() {
                items.pop();
            }
            let keep = (items.len() / 2).max(1);
            let count = items.len() - keep;
            items.truncate(keep);
            if plain {
                let total = dropped.take().unwrap_or(0) + count;
                items.push(Value::String(dropped_mark(total, "items")));
            }
            true
        }
        Value::Object(map) => {
            let earlier = map
                .get(DROPPED_KEY)
                .and_then(Value::as_str)
                .and_then(|mark| dropped_count(mark, "fields"));
            if earlier.is_some() {
                map.remove(DROPPED_KEY);
            }
            let keep = (map.len() / 2).max(1);
            let dropped: Vec<String> = map.keys().skip(keep).cloned().collect();
            for key in &dropped {
                map.remove(key);
            }
            let mark = dropped_mark(earlier.unwrap_or(0) + dropped.len(), "fields");
            insert_unique(map, DROPPED_KEY.to_owned(), Value::String(mark));
            true
        }
        _ => false,
    }
}

/// How many entries a container holds, a mark of dropped ones aside.
fn entries(value: &Value) -> usize {
    match value {
        Value::Array(items) => {
            let marked = items
                .last()
                .and_then(Value::as_str)
                .is_some_and(|last| dropped_count(last, "items").is_some());
            items.len() - usize::from(marked)
        }
        Value::Object(map) => {
            let marked = map
                .get(DROPPED_KEY)
                .and_then(Value::as_str)
                .is_some_and(|mark| dropped_count(mark, "fields").is_some());
            map.len() - usize::from(marked)
        }
        _ => 0,
    }
}

/// Not an array or an object.
fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// One step from a value to a child.
#[derive(Clone)]
enum Step {
    Index(usize),
    Key(String),
}

/// The path to the container `halve_largest_container` halves: the
/// largest wide collection, else the largest container.
fn container_to_halve(value: &Value) -> Option<Vec<Step>> {
    type Best = Option<(usize, Vec<Step>)>;
    fn walk(value: &Value, path: &mut Vec<Step>, collection: &mut Best, any: &mut Best) {
        let items = entries(value);
        // A map of many entries, or a list of many plain values, where a
        // mark of what was dropped fits.
        let wide = items > COLLECTION_ITEMS
            && match value {
                Value::Array(items) => items.iter().all(is_plain),
                _ => true,
            };
        if items > 1 {
            let size = size_of(value);
            for (best, eligible) in [(&mut *collection, wide), (&mut *any, true)] {
                if eligible && best.as_ref().is_none_or(|(seen, _)| size > *seen) {
                    *best = Some((size, path.clone()));
                }
            }
        }
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Step::Index(index));
                    walk(item, path, collection, any);
                    path.pop();
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    path.push(Step::Key(key.clone()));
                    walk(item, path, collection, any);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let (mut collection, mut any) = (None, None);
    walk(value, &mut Vec::new(), &mut collection, &mut any);
    collection.or(any).map(|(_, steps)| steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn the_longest_strings_give_way_and_short_ones_stay_whole() {
        let mut value = json!({
            "id": "tkt_1",
            "title": "x".repeat(100_000),
            "tags": ["vip", "🙂".repeat(5_000)],
            "metadata": { "k".repeat(10_000): "v" }
        });
        assert!(fit_value(&mut value, 2_000));
        assert!(size_of(&value) <= 2_000, "{}", size_of(&value));
        assert_eq!(value["id"], "tkt_1");
        assert_eq!(value["tags"][0], "vip");
        let title = value["title"].as_str().unwrap();
        assert!(title.ends_with("more characters]"), "{title}");
        assert!(
            value["metadata"]
                .as_object()
                .unwrap()
                .keys()
                .all(|k| k.len() < 1_000)
        );
    }

    #[test]
    fn many_small_items_shorten_the_array_last() {
        let mut value = json!({ "items": vec!["ab"; 10_000] });
        assert!(fit_value(&mut value, 1_000));
        let items = value["items"].as_array().unwrap();
        assert!(size_of(&value) <= 1_000 && !items.is_empty());
        let (mark, kept) = items.split_last().unwrap();
        assert!(kept.iter().all(|item| item == "ab"));
        assert_eq!(
            mark.as_str(),
            Some(dropped_mark(10_000 - kept.len(), "items").as_str())
        );
    }

    #[test]
    fn text_is_cut_on_a_character_boundary_with_a_mark() {
        let text = "é".repeat(1_000);
        let cut = cut_text(&text, 500);
        assert!(
            cut.len() <= 500 && cut.ends_with("more characters]"),
            "{cut}"
        );
        assert_eq!(cut_text("short", 500), "short");
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,300}".prop_map(Value::from),
            "[\"\\\\\n\u{1}]{0,200}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 200, 12, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,80}", inner, 0..12)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_fits_any_budget_of_a_few_hundred_bytes(mut value in any_json(), budget in 300usize..4_000) {
            let before = size_of(&value);
            let changed = fit_value(&mut value, budget);
            prop_assert!(size_of(&value) <= budget, "{} > {budget}", size_of(&value));
            prop_assert_eq!(changed, before > budget);
        }
    }
}
