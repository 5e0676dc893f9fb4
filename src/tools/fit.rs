//! Fitting any text or JSON value into a byte budget, with a mark wherever
//! something was cut. The egress applies it to every message after
//! cleaning, so the budget holds on the bytes a client receives.
//!
//! A JSON value is fitted field by field: every string (object keys
//! included) longer than a common cap is cut to it, and the cap is the
//! largest that makes the whole fit, so short fields stay whole and the
//! longest give way first. Only when even short strings cannot make room
//! are arrays and maps halved, from their end: the one where the bulk is
//! (`container_to_halve`), so a record's id and a page's pagination stay
//! beside a huge map that gives way. One quoting rule (`quote`) serves
//! every value shown inside a sentence.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::budget::size_of;

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
    let left_out = text[end..].chars().count();
    Some(format!("{}{}", &text[..end], cut_mark(left_out)))
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
    let left_out = text[end..].chars().count();
    Cow::Owned(format!("{}\n{}", &text[..end], cut_mark(left_out)))
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
    while size > budget && halve_a_container(value) {
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

/// Drops the second half of the array or object (of more than one item)
/// where the bulk is (`container_to_halve`); false when there is none.
/// The last resort, when even short strings leave no room.
fn halve_a_container(value: &mut Value) -> bool {
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
    match node {
        Value::Array(items) if items.len() > 1 => {
            items.truncate(items.len() / 2);
            true
        }
        Value::Object(map) if map.len() > 1 => {
            let keep = map.len() / 2;
            let dropped: Vec<String> = map.keys().skip(keep).cloned().collect();
            for key in dropped {
                map.remove(&key);
            }
            true
        }
        _ => false,
    }
}

/// One step from a value to a child.
#[derive(Clone)]
enum Step {
    Index(usize),
    Key(String),
}

/// The container to halve: from the top, into the child container that
/// takes more than half of its parent's bytes for as long as there is one
/// (through any container of one item); the last container on that way
/// with more than one item. So the bulk gives way where it is (a huge map
/// inside one record) and what sits beside it (the record's id, the
/// page's pagination) stays.
fn container_to_halve(value: &Value) -> Option<Vec<Step>> {
    let mut path = Vec::new();
    let mut node = value;
    let mut found = None;
    loop {
        let items = match node {
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => 0,
        };
        if items > 1 {
            found = Some(path.clone());
        }
        let Some((size, step)) = heaviest_child(node) else {
            break;
        };
        if items > 1 && size * 2 <= size_of(node) {
            break;
        }
        node = match (node, &step) {
            (Value::Array(items), Step::Index(index)) => &items[*index],
            (Value::Object(map), Step::Key(key)) => match map.get(key) {
                Some(item) => item,
                None => break,
            },
            _ => break,
        };
        path.push(step);
    }
    found
}

/// The child array or object of `value` that takes the most bytes, and
/// its size.
fn heaviest_child(value: &Value) -> Option<(usize, Step)> {
    let is_container = |item: &&Value| item.is_array() || item.is_object();
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter(|(_, item)| is_container(item))
            .map(|(index, item)| (size_of(item), index))
            .max_by_key(|(size, _)| *size)
            .map(|(size, index)| (size, Step::Index(index))),
        Value::Object(map) => map
            .iter()
            .filter(|(_, item)| is_container(item))
            .map(|(key, item)| (size_of(item), key))
            .max_by_key(|(size, _)| *size)
            .map(|(size, key)| (size, Step::Key(key.clone()))),
        _ => None,
    }
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
        assert!(items.iter().all(|item| item == "ab"));
    }

    #[test]
    fn the_bulk_gives_way_and_what_sits_beside_it_stays() {
        let fields: Map<String, Value> = (0..2_000)
            .map(|n| (format!("field {n}"), json!({ "nested": n })))
            .collect();
        let mut value = json!({
            "customers": [{ "id": "cus_1", "name": "Ada", "customFields": fields }],
            "pagination": { "page": 1, "hasMore": true }
        });
        assert!(fit_value(&mut value, 2_000));
        assert!(size_of(&value) <= 2_000, "{}", size_of(&value));
        let customer = &value["customers"][0];
        assert_eq!(
            (&customer["id"], &customer["name"]),
            (&json!("cus_1"), &json!("Ada"))
        );
        assert_eq!(value["pagination"]["hasMore"], true);
        assert!(!customer["customFields"].as_object().unwrap().is_empty());
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
