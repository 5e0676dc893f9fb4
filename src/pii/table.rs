//! One key's pseudonyms: which value each stands for, and the customer
//! names learned from its records. Bounded: past `MAX_VALUES` a new value
//! is still redacted, to its bare type (`[email]`), which stands for no
//! value and is never issued again with another meaning; past
//! `MAX_CUSTOMERS` names are no longer learned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use regex::Regex;
use ring::hmac;

use super::detect::Kind;
use super::names;

/// The most values one key's table maps.
pub const MAX_VALUES: usize = 50_000;

/// The most customer names one key's table learns.
pub const MAX_CUSTOMERS: usize = 10_000;

/// Hex digits of a pseudonym: 4, and more only when the shorter form is
/// taken by another value.
const SHORT: usize = 4;
const LONGEST: usize = 16;

/// The pseudonyms issued to one key, and the customers it has seen.
pub struct Table {
    /// Keyed with the process's secret and this key's id, so the same
    /// value has unrelated pseudonyms for two keys or two processes.
    mac: hmac::Key,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_value: HashMap<(Kind, String), String>,
    /// Each issued pseudonym and the value it stands for, as first seen.
    by_pseudonym: HashMap<String, String>,
    /// Known customer names, as written, and the matcher built from them.
    customers: Vec<String>,
    matcher: Option<Arc<Regex>>,
}

impl Table {
    /// A table for the key whose HMAC key is `mac`, holding up to
    /// `capacity` values (0: a table that maps nothing).
    pub fn new(mac: hmac::Key, capacity: usize) -> Self {
        Table {
            mac,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The pseudonym of `value` (`canonical` identifies it; `original` is
    /// what a pseudonym passed back becomes).
    pub fn pseudonym(&self, kind: Kind, canonical: &str, original: &str) -> String {
        let mut inner = self.lock();
        let id = (kind, canonical.to_owned());
        if let Some(known) = inner.by_value.get(&id) {
            return known.clone();
        }
        if inner.by_value.len() >= self.capacity {
            return format!("[{}]", kind.tag());
        }
        let tag = hmac::sign(&self.mac, format!("{}\0{canonical}", kind.tag()).as_bytes());
        let hex: String = tag.as_ref()[..LONGEST / 2]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let mut lengths = (SHORT..=LONGEST).step_by(2);
        let mut counter = 0_u64;
        let pseudonym = loop {
            let candidate = match lengths.next() {
                Some(length) => format!("[{} {}]", kind.tag(), &hex[..length]),
                None => {
                    counter += 1;
                    format!("[{} {hex}{counter:x}]", kind.tag())
                }
            };
            if !inner.by_pseudonym.contains_key(&candidate) {
                break candidate;
            }
        };
        inner
            .by_pseudonym
            .insert(pseudonym.clone(), original.to_owned());
        inner.by_value.insert(id, pseudonym.clone());
        pseudonym
    }

    /// The value `pseudonym` stands for, when it was issued here.
    pub fn value_of(&self, pseudonym: &str) -> Option<String> {
        self.lock().by_pseudonym.get(pseudonym).cloned()
    }

    /// Learns a customer's name, so that it is redacted wherever it
    /// appears from now on.
    pub fn learn_customer(&self, name: &str) {
        let name = name.trim();
        // A pseudonym (a name already redacted) is not a name to learn.
        if name.chars().count() < 2
            || !name.chars().any(char::is_alphabetic)
            || super::redact::is_pseudonym(name)
        {
            return;
        }
        let mut inner = self.lock();
        if inner.customers.len() >= MAX_CUSTOMERS || inner.customers.iter().any(|n| n == name) {
            return;
        }
        inner.customers.push(name.to_owned());
        inner.matcher = None;
    }

    /// A matcher of every known customer name (longest first, each with
    /// its case rule: `names::pattern`), or none before any is known.
    pub fn customers(&self) -> Option<Arc<Regex>> {
        let mut inner = self.lock();
        if inner.customers.is_empty() {
            return None;
        }
        if let Some(matcher) = &inner.matcher {
            return Some(matcher.clone());
        }
        let mut names: Vec<&String> = inner.customers.iter().collect();
        names.sort_by_key(|name| std::cmp::Reverse(name.len()));
        let alternatives: Vec<String> = names.iter().map(|name| names::pattern(name)).collect();
        let matcher = Regex::new(&format!("(?:{})", alternatives.join("|")))
            .ok()
            .map(Arc::new);
        inner.matcher.clone_from(&matcher);
        matcher
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(capacity: usize) -> Table {
        Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"test secret"), capacity)
    }

    #[test]
    fn the_same_value_keeps_its_pseudonym_and_others_get_their_own() {
        let table = table(10_000);
        let first = table.pseudonym(Kind::Email, "a@example.com", "A@example.com");
        assert_eq!(
            table.pseudonym(Kind::Email, "a@example.com", "a@EXAMPLE.com"),
            first
        );
        assert!(first.starts_with("[email ") && first.len() == "[email 1234]".len());
        assert_eq!(table.value_of(&first).as_deref(), Some("A@example.com"));
        let mut seen = std::collections::HashSet::new();
        for n in 0..2_000 {
            let value = format!("user{n}@example.com");
            assert!(seen.insert(table.pseudonym(Kind::Email, &value, &value)));
        }
        // 2,000 values in 65,536 short forms collide (birthday bound):
        // those got longer ones, and every pseudonym maps back to its own.
        assert!(seen.iter().any(|p| p.len() > "[email 1234]".len()));
        for n in 0..2_000 {
            let value = format!("user{n}@example.com");
            let pseudonym = table.pseudonym(Kind::Email, &value, &value);
            assert_eq!(table.value_of(&pseudonym), Some(value));
        }
    }

    #[test]
    fn kinds_and_keys_do_not_share_pseudonyms() {
        let one = table(10);
        let other = Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"other"), 10);
        let email = one.pseudonym(Kind::Email, "x", "x");
        assert_ne!(one.pseudonym(Kind::Phone, "x", "x")[7..], email[7..]);
        assert_ne!(other.pseudonym(Kind::Email, "x", "x"), email);
        assert_eq!(other.value_of(&email), None);
    }

    #[test]
    fn past_the_cap_values_are_redacted_to_their_type_and_nothing_is_reused() {
        let table = table(2);
        let a = table.pseudonym(Kind::Ip, "1.1.1.1", "1.1.1.1");
        let b = table.pseudonym(Kind::Ip, "2.2.2.2", "2.2.2.2");
        assert_eq!(table.pseudonym(Kind::Ip, "3.3.3.3", "3.3.3.3"), "[ip]");
        assert_eq!(table.value_of("[ip]"), None);
        assert_eq!(table.pseudonym(Kind::Ip, "1.1.1.1", "1.1.1.1"), a);
        assert_eq!(table.value_of(&b).as_deref(), Some("2.2.2.2"));
    }

    #[test]
    fn customer_names_are_learned_once_and_matched_longest_first() {
        let table = table(10);
        assert!(table.customers().is_none());
        for name in ["Will", "Jane Doe", "Jane Doe", " ", "7"] {
            table.learn_customer(name);
        }
        assert_eq!(table.lock().customers, ["Will", "Jane Doe"]);
        let matcher = table.customers().unwrap();
        let found: Vec<&str> = matcher
            .find_iter("JANE DOE and Will, not will")
            .map(|m| m.as_str())
            .collect();
        assert_eq!(found, ["JANE DOE", "Will"]);
    }

    #[test]
    fn a_full_table_of_customer_names_still_matches_every_one() {
        let table = table(10);
        let name = |n: usize| format!("Zoë Müller-{}", n * 7919 % 100_003);
        for n in 0..MAX_CUSTOMERS + 5 {
            table.learn_customer(&name(n));
        }
        let matcher = table.customers().expect("a matcher of 10,000 names");
        for n in [0, 1, MAX_CUSTOMERS / 2, MAX_CUSTOMERS - 1] {
            assert!(matcher.is_match(&name(n).to_uppercase()), "{}", name(n));
        }
        // Past the cap, names are not learned.
        assert!(!matcher.is_match(&name(MAX_CUSTOMERS + 1)));
    }
}
