//! Pseudonyms in and out: `text` and `value` put a pseudonym in place of
//! each value `detect` finds and each known customer name; `restore_text`
//! and `restore_value` put the values back into what the agent sends,
//! refusing a pseudonym this key was never given.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::detect::{self, Found, Kind};
use super::table::Table;

/// A pseudonym, as issued: `[email 3f9a]`, `[customer 81c2d0]`.
static PSEUDONYM: LazyLock<Regex> =
    LazyLock::new(|| pattern(&format!(r"\[({}) ([0-9a-f]{{4,}})\]", kind_tags())));

/// Every kind's tag as a regex alternation: `email|phone|...`.
fn kind_tags() -> String {
    Kind::ALL.map(Kind::tag).join("|")
}

/// A regex built here, from patterns known to be valid.
fn pattern(source: &str) -> Regex {
    Regex::new(source).unwrap_or_else(|error| unreachable!("{error}"))
}

/// Whether `text` is one pseudonym and nothing else.
pub fn is_pseudonym(text: &str) -> bool {
    PSEUDONYM
        .find(text)
        .is_some_and(|m| m.start() == 0 && m.end() == text.len())
}

/// A well-formed pseudonym that was not issued to this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown(pub String);

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is not a pseudonym this server gave your key: pseudonyms are issued per API key and \
             last while the server runs. Pass one from a result you received, or the real value.",
            self.0
        )
    }
}

/// `text` with every value found in it, and every known customer name,
/// replaced by its pseudonym; borrowed when there was none.
pub fn text<'a>(table: &Table, text: &'a str) -> Cow<'a, str> {
    let mut found = detect::find(text);
    if let Some(customers) = table.customers() {
        // Escapes (`\n` in JSON shown as text) count as spaces around a name.
        let scan = detect::blank_escapes(text);
        let inside_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let names: Vec<Found> = customers
            .find_iter(&scan)
            .filter(|m| {
                !inside_word(scan[..m.start()].chars().next_back())
                    && !inside_word(scan[m.end()..].chars().next())
            })
            .map(|m| Found {
                span: m.range(),
                kind: Kind::Customer,
                canonical: m.as_str().to_lowercase(),
            })
            .collect();
        // A name wins over the values inside it ("Jane Doe <jane@…>" as a
        // name is one customer), so no part of it is left in the open.
        found.retain(|f| {
            !names
                .iter()
                .any(|n| f.span.start < n.span.end && n.span.start < f.span.end)
        });
        found.extend(names);
        found.sort_by_key(|f| f.span.start);
    }
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for item in found {
        out.push_str(&text[at..item.span.start]);
        // What a pseudonym passed back becomes: the value as written, but
        // an email percent-encoded in a URL is the address itself.
        let written = &text[item.span.clone()];
        let value = match item.kind {
            Kind::Email => detect::email_address(written),
            _ => Cow::Borrowed(written),
        };
        out.push_str(&table.pseudonym(item.kind, &item.canonical, &value));
        at = item.span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Redacts every string in `value`, object keys included; true when
/// anything changed.
pub fn value(table: &Table, item: &mut Value) -> bool {
    match item {
        Value::String(string) => match text(table, string) {
            Cow::Owned(redacted) => {
                *string = redacted;
                true
            }
            Cow::Borrowed(_) => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| value(table, item) | changed),
        Value::Object(map) => object(table, map),
        _ => false,
    }
}

fn object(table: &Table, map: &mut Map<String, Value>) -> bool {
    let mut changed = false;
    for item in map.values_mut() {
        changed |= value(table, item);
    }
    let personal_keys: Vec<(String, String)> = map
        .keys()
        .filter_map(|key| match text(table, key) {
            Cow::Owned(redacted) => Some((key.clone(), redacted)),
            Cow::Borrowed(_) => None,
        })
        .collect();
    for (key, mut redacted) in personal_keys {
        if let Some(item) = map.remove(&key) {
            // Never in place of another key.
            let base = redacted.clone();
            let mut count = 1;
            while map.contains_key(&redacted) {
                count += 1;
                redacted = format!("{base} ({count})");
            }
            map.insert(redacted, item);
            changed = true;
        }
    }
    changed
}

/// `text` with each pseudonym issued to this key replaced by its value;
/// an error naming the first one that was not issued to it.
pub fn restore_text<'a>(table: &Table, text: &'a str) -> Result<Cow<'a, str>, Unknown> {
    if !text.contains('[') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in PSEUDONYM.find_iter(text) {
        let value = table
            .value_of(m.as_str())
            .ok_or_else(|| Unknown(m.as_str().to_owned()))?;
        out.push_str(&text[at..m.start()]);
        out.push_str(&value);
        at = m.end();
    }
    if at == 0 {
        return Ok(Cow::Borrowed(text));
    }
    out.push_str(&text[at..]);
    Ok(Cow::Owned(out))
}

/// A resource URI with this key's pseudonyms made values again, whether
/// written as issued or percent-encoded (`%5Bcustomer%2081c2%5D`, whose
/// value is put in encoded); the rest of the URI stays as sent.
pub fn restore_uri<'a>(table: &Table, uri: &'a str) -> Result<Cow<'a, str>, Unknown> {
    static IN_URI: LazyLock<Regex> = LazyLock::new(|| {
        pattern(&format!(
            r"(\[|%5[Bb])({})(?: |%20|\+)([0-9a-f]{{4,}})(?:\]|%5[Dd])",
            kind_tags()
        ))
    });
    if !IN_URI.is_match(uri) {
        return Ok(Cow::Borrowed(uri));
    }
    let mut out = String::with_capacity(uri.len());
    let mut at = 0;
    for captures in IN_URI.captures_iter(uri) {
        let (Some(whole), Some(open)) = (captures.get(0), captures.get(1)) else {
            continue;
        };
        let pseudonym = format!("[{} {}]", &captures[2], &captures[3]);
        let value = table.value_of(&pseudonym).ok_or(Unknown(pseudonym))?;
        out.push_str(&uri[at..whole.start()]);
        if open.as_str() == "[" {
            out.push_str(&value);
        } else {
            out.push_str(&percent_encode(&value));
        }
        at = whole.end();
    }
    out.push_str(&uri[at..]);
    Ok(Cow::Owned(out))
}

/// Every byte but RFC 3986's unreserved ones, percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `restore_text` on every string in `value`, object keys included (a
/// metadata key copied from a result is written back as its value, never
/// as the pseudonym).
pub fn restore_value(table: &Table, value: &mut Value) -> Result<(), Unknown> {
    match value {
        Value::String(string) => {
            if let Cow::Owned(restored) = restore_text(table, string)? {
                *string = restored;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| restore_value(table, item)),
        Value::Object(map) => {
            map.values_mut()
                .try_for_each(|item| restore_value(table, item))?;
            let mut renamed = Vec::new();
            for key in map.keys() {
                if let Cow::Owned(restored) = restore_text(table, key)? {
                    renamed.push((key.clone(), restored));
                }
            }
            for (key, restored) in renamed {
                if let Some(item) = map.remove(&key) {
                    map.insert(restored, item);
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::hmac;
    use serde_json::json;

    fn table() -> Table {
        Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"k"), 1_000)
    }

    #[test]
    fn text_gets_typed_pseudonyms_and_keeps_the_rest() {
        let table = table();
        let redacted = text(
            &table,
            "Jane (jane@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111 from 203.0.113.7 on tkt_42",
        );
        let shape = Regex::new(
            r"^Jane \(\[email [0-9a-f]{4}\], \[phone [0-9a-f]{4}\]\) paid with \[card [0-9a-f]{4}\] from \[ip [0-9a-f]{4}\] on tkt_42$",
        )
        .unwrap();
        assert!(shape.is_match(&redacted), "{redacted}");
        assert!(matches!(
            text(&table, "nothing here, v1.2.3"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_same_value_in_any_spelling_is_one_pseudonym() {
        let table = table();
        let a = text(&table, "+44 20 7946 0958").into_owned();
        let b = text(&table, "020 7946 0958").into_owned();
        let c = text(&table, "JANE@example.com").into_owned();
        let d = text(&table, "jane@example.com").into_owned();
        assert_eq!(a, b);
        assert_eq!(c, d);
        assert_ne!(a, c);
        assert_ne!(text(&table, "john@example.com"), d);
    }

    #[test]
    fn known_customers_become_customer_pseudonyms_in_any_text() {
        let table = table();
        assert_eq!(text(&table, "Hi Jane Doe"), "Hi Jane Doe");
        table.learn_customer("Jane Doe");
        let name = text(&table, "Jane Doe").into_owned();
        assert!(name.starts_with("[customer "), "{name}");
        assert_eq!(
            text(&table, "Hi jane doe, and Jane Does"),
            format!("Hi {name}, and Jane Does")
        );
        assert_eq!(restore_text(&table, &name).unwrap(), "Jane Doe");
    }

    #[test]
    fn a_name_that_is_a_common_word_is_redacted_only_as_written() {
        let table = table();
        table.learn_customer("Will");
        table.learn_customer("May Open");
        let will = text(&table, "Will").into_owned();
        let may_open = text(&table, "May Open").into_owned();
        assert!(will.starts_with("[customer "), "{will}");
        assert_eq!(
            text(&table, "Thanks, Will. I will check; we may open it in May."),
            format!("Thanks, {will}. I will check; we may open it in May.")
        );
        assert_eq!(
            text(&table, "May Open wrote: may open, Willow"),
            format!("{may_open} wrote: may open, Willow")
        );
    }

    #[test]
    fn a_pseudonym_is_never_learned_as_a_customer_name() {
        let table = table();
        table.learn_customer("[customer 3f9a]");
        assert!(table.customers().is_none());
        assert!(is_pseudonym("[email 3f9a]"));
        assert!(!is_pseudonym("Jane [email 3f9a]"));
    }

    #[test]
    fn a_customer_name_holding_an_email_is_one_customer_pseudonym() {
        let table = table();
        table.learn_customer("Jane Doe <jane@example.com>");
        let redacted = text(&table, "From: Jane Doe <jane@example.com> wrote").into_owned();
        assert!(
            Regex::new(r"^From: \[customer [0-9a-f]{4}\] wrote$")
                .unwrap()
                .is_match(&redacted),
            "{redacted}"
        );
    }

    #[test]
    fn values_are_redacted_in_strings_and_keys() {
        let table = table();
        let mut value = json!({
            "email": "a@b.example",
            "list": ["203.0.113.7", 7, null],
            "a@b.example": "key",
            "id": "cus_123",
        });
        assert!(super::value(&table, &mut value));
        let email = text(&table, "a@b.example").into_owned();
        assert_eq!(value["email"], json!(email));
        assert_eq!(value[&email], json!("key"));
        assert_eq!(value["id"], json!("cus_123"));
        let mut plain = json!({"id": "tkt_1", "n": 4});
        assert!(!super::value(&table, &mut plain));
    }

    #[test]
    fn resource_uris_get_values_back_as_issued_or_percent_encoded() {
        let table = table();
        let email = text(&table, "jane@example.com").into_owned();
        let encoded = email
            .replace('[', "%5B")
            .replace(']', "%5D")
            .replace(' ', "%20");
        assert_eq!(
            restore_uri(&table, &format!("cstar://customers/{email}")).unwrap(),
            "cstar://customers/jane@example.com"
        );
        assert_eq!(
            restore_uri(&table, &format!("cstar://customers/{encoded}")).unwrap(),
            "cstar://customers/jane%40example.com"
        );
        // The rest of a URI stays as sent.
        assert_eq!(
            restore_uri(&table, "cstar://tickets/tkt_1%5Bx%5D").unwrap(),
            "cstar://tickets/tkt_1%5Bx%5D"
        );
        let other = Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"other"), 10);
        assert_eq!(
            restore_uri(&other, &format!("cstar://customers/{encoded}")),
            Err(Unknown(email))
        );
    }

    #[test]
    fn an_email_first_seen_percent_encoded_comes_back_as_the_address() {
        let table = table();
        let redacted =
            text(&table, "https://x.example/u?email=jane%2Bx%40example.com").into_owned();
        let email = redacted.trim_start_matches("https://x.example/u?email=");
        assert_eq!(text(&table, "jane+x@example.com"), email);
        let mut args = json!({"initialMessage": format!("write to {email}")});
        restore_value(&table, &mut args).unwrap();
        assert_eq!(
            args,
            json!({"initialMessage": "write to jane+x@example.com"})
        );
        // In a resource URI, encoded where the pseudonym was encoded.
        let encoded = email
            .replace('[', "%5B")
            .replace(']', "%5D")
            .replace(' ', "%20");
        assert_eq!(
            restore_uri(&table, &format!("cstar://customers/{encoded}")).unwrap(),
            "cstar://customers/jane%2Bx%40example.com"
        );
        assert_eq!(
            restore_uri(&table, &format!("cstar://customers/{email}")).unwrap(),
            "cstar://customers/jane+x@example.com"
        );
    }

    #[test]
    fn pseudonyms_come_back_as_values_only_for_this_key() {
        let table = table();
        let email = text(&table, "Jane@Example.com").into_owned();
        let mut args = json!({"search": email, "tags": [format!("x {email} y")], "n": 1});
        restore_value(&table, &mut args).unwrap();
        assert_eq!(
            args,
            json!({"search": "Jane@Example.com", "tags": ["x Jane@Example.com y"], "n": 1})
        );
        let other = Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"other"), 10);
        let refused = restore_text(&other, &format!("about {email}")).unwrap_err();
        assert_eq!(refused, Unknown(email.clone()));
        assert!(
            refused
                .to_string()
                .contains("not a pseudonym this server gave your key")
        );
        // Text that only looks like one in part is sent as written.
        for plain in [
            "[email]",
            "[email 3f9]",
            "[mail 3f9a]",
            "[EMAIL 3F9A]",
            "a [b] c",
        ] {
            assert_eq!(restore_text(&other, plain).unwrap(), plain);
        }
    }
}

#[cfg(test)]
mod quoted {
    use super::*;
    use ring::hmac;

    #[test]
    fn a_pseudonym_in_a_metadata_key_goes_back_as_its_value() {
        let table = Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"k"), 100);
        let email = text(&table, "jane@example.com").into_owned();
        let mut args = serde_json::json!({"metadata": {(format!("contact {email}")): "x"}});
        restore_value(&table, &mut args).unwrap();
        assert_eq!(
            args,
            serde_json::json!({"metadata": {"contact jane@example.com": "x"}})
        );
    }

    #[test]
    fn a_customer_name_after_an_escaped_line_break_is_redacted() {
        let table = Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"k"), 100);
        table.learn_customer("Jane Doe");
        let redacted = text(&table, r#"{\"note\":\"hi\nJane Doe\"}"#);
        assert!(!redacted.contains("Jane"), "{redacted}");
    }
}
