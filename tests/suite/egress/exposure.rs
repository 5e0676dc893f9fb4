//! What personal data a walk let through: each string a client receives
//! is scanned by the independent finder (`personal`) and searched for the
//! names of the sandbox's customers, as written; the near misses seen are counted too,
//! to show they were on the wire and not reported.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use cstar_mcp::sandbox::PERSONAL_SAMPLES;

use super::personal::{Kind, personal_data};

/// Personal data seen on one transport.
#[derive(Default)]
pub(super) struct Exposure {
    /// The customers' names looked for.
    names: Vec<String>,
    /// Each value found, with the first place it was seen and how often.
    pub(super) found: BTreeMap<(Kind, String), (String, usize)>,
    /// The kinds found on each surface (the request's method).
    pub(super) surfaces: BTreeMap<Kind, BTreeSet<String>>,
    /// Each customer's name seen, with the first place.
    pub(super) names_seen: BTreeMap<String, String>,
    /// The near misses seen.
    pub(super) near_misses_seen: BTreeSet<&'static str>,
    /// Time spent scanning.
    pub(super) spent: Duration,
    /// The hashes of the texts scanned.
    scanned: HashSet<u64>,
}

impl Exposure {
    /// Looks for personal data and for the customers' `names`.
    pub(super) fn new(names: Vec<String>) -> Self {
        Exposure {
            names,
            ..Exposure::default()
        }
    }

    /// Records what `text` holds; `place` is "transport | scenario |
    /// request | path". The same text on the same surface (a tool result's
    /// JSON text and its structured content hold the same strings) is
    /// scanned once.
    pub(super) fn scan(&mut self, text: &str, place: &str) {
        let begun = Instant::now();
        let request = place.split(" | ").nth(2).unwrap_or_default();
        let method = request.trim_start_matches('"').split(' ').next();
        let method = method.unwrap_or_default();
        if self.scanned.insert(hash(method, text)) {
            self.scan_once(text, method, place);
        }
        self.spent += begun.elapsed();
    }

    fn scan_once(&mut self, text: &str, method: &str, place: &str) {
        for (kind, value) in personal_data(text) {
            self.surfaces
                .entry(kind)
                .or_default()
                .insert(method.to_owned());
            let (_, count) = self
                .found
                .entry((kind, value.clone()))
                .or_insert_with(|| (format!("{place}, in {}", around(text, &value)), 0));
            *count += 1;
        }
        for name in &self.names {
            if shows_name(text, name) && !self.names_seen.contains_key(name) {
                self.names_seen.insert(name.clone(), place.to_owned());
            }
        }
        for near in PERSONAL_SAMPLES.near_misses {
            if text.contains(near) {
                self.near_misses_seen.insert(near);
            }
        }
    }

    /// The kinds found.
    pub(super) fn kinds(&self) -> BTreeSet<Kind> {
        self.found.keys().map(|(kind, _)| *kind).collect()
    }

    /// Each value found (a few per kind), where first and how often; the
    /// names seen; for a failure message or the log.
    pub(super) fn report(&self) -> String {
        let mut out = format!("scan time {:?}\n", self.spent);
        for kind in Kind::ALL {
            let values: Vec<_> = self.found.iter().filter(|((k, _), _)| *k == kind).collect();
            let surfaces = self.surfaces.get(&kind).cloned().unwrap_or_default();
            out.push_str(&format!(
                "- {kind}: {} values, on {surfaces:?}\n",
                values.len()
            ));
            for ((_, value), (place, count)) in values.iter().take(8) {
                out.push_str(&format!("    {value:?} x{count}, first at [{place}]\n"));
            }
        }
        out.push_str(&format!(
            "- customers' names: {} seen\n",
            self.names_seen.len()
        ));
        for (name, place) in self.names_seen.iter().take(8) {
            out.push_str(&format!("    {name:?} at [{place}]\n"));
        }
        out
    }
}

/// Whether `text` shows the customer's `name` as written: a full name
/// anywhere, a name of one word as a whole word (in "Thanks, Grace" but
/// not in "the grace period" nor "Graceland"). Written otherwise it is a
/// word, not the name (README, "Personal data").
fn shows_name(text: &str, name: &str) -> bool {
    if name.contains(' ') {
        return text.contains(name);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(name).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + name.len()..].chars().next())
    })
}

fn hash(method: &str, text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (method, text).hash(&mut hasher);
    hasher.finish()
}

/// Up to 60 characters either side of the first `value` in `text`, escaped.
fn around(text: &str, value: &str) -> String {
    let Some(at) = text.find(value) else {
        return String::new();
    };
    let before: String = text[..at].chars().rev().take(60).collect();
    let before: String = before.chars().rev().collect();
    let after: String = text[at + value.len()..].chars().take(60).collect();
    format!("{:?}", format!("{before}{value}{after}"))
}
