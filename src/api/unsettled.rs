//! The memory of creates whose outcome is unknown, so that trying again
//! replays instead of duplicating.
//!
//! When no answer settles a `POST /tickets` (the connection broke, cStar
//! answered 5xx or 429 after an earlier attempt may have landed, the body
//! was unreadable), cStar may have created the ticket. The idempotency key
//! of that exact request is kept here, and the next create with the same
//! key, team and body reuses it, so cStar answers with the original ticket.
//!
//! One store serves the whole process: over HTTP each request gets its own
//! client, and a retry arrives on a later request. Entries are found by a
//! SHA-256 digest of (API key, team, body): the raw key is never stored,
//! and two callers never share an entry. The store is bounded in size and
//! in age, like cStar's own 24-hour memory of idempotency keys.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long cStar remembers an idempotency key.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// How many unsettled creates are remembered at once.
pub const CAPACITY: usize = 10_000;

/// A SHA-256 digest that names one create.
pub type Fingerprint = [u8; 32];

/// Idempotency keys of unsettled creates, by request fingerprint.
#[derive(Debug, Default)]
pub struct UnsettledCreates {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    keys: HashMap<Fingerprint, (String, Instant)>,
    /// Insertion order, for evicting the oldest first.
    order: VecDeque<Fingerprint>,
}

/// Which create a key belongs to: the caller's key, the team, the body
/// and the caller's own idempotency key, if it gave one.
pub fn fingerprint(
    api_key: &str,
    team_id: &str,
    body: &[u8],
    own_key: Option<&str>,
) -> Fingerprint {
    let mut hash = Sha256::new();
    // Own keys are never empty, so "" stands for none.
    let own_key = own_key.unwrap_or_default().as_bytes();
    for part in [api_key.as_bytes(), team_id.as_bytes(), body, own_key] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

impl UnsettledCreates {
    /// The key kept for this create, if it is younger than a day; it
    /// leaves the store until `keep` puts it back.
    pub fn take(&self, fingerprint: &Fingerprint) -> Option<String> {
        let mut entries = self.inner.lock().ok()?;
        let (key, since) = entries.keys.remove(fingerprint)?;
        (since.elapsed() < KEY_LIFETIME).then_some(key)
    }

    /// Remembers the key of a create whose outcome is unknown.
    pub fn keep(&self, fingerprint: Fingerprint, key: String) {
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        let entries = &mut *entries;
        while entries.keys.len() >= CAPACITY
            && let Some(oldest) = entries.order.pop_front()
        {
            entries.keys.remove(&oldest);
        }
        entries.order.retain(|kept| kept != &fingerprint);
        entries.order.push_back(fingerprint);
        entries.keys.insert(fingerprint, (key, Instant::now()));
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|e| e.keys.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_caller_team_and_body() {
        let base = fingerprint("sk_a", "team", b"{}", None);
        assert_ne!(base, fingerprint("sk_b", "team", b"{}", None));
        assert_ne!(base, fingerprint("sk_a", "other", b"{}", None));
        assert_ne!(base, fingerprint("sk_a", "team", b"{ }", None));
        assert_ne!(base, fingerprint("sk_a", "team", b"{}", Some("own")));
        assert_ne!(
            fingerprint("ab", "c", b"", None),
            fingerprint("a", "bc", b"", None)
        );
    }

    #[test]
    fn a_kept_key_is_taken_once() {
        let store = UnsettledCreates::default();
        let print = fingerprint("k", "t", b"body", None);
        store.keep(print, "idem-1".into());
        assert_eq!(store.take(&print).as_deref(), Some("idem-1"));
        assert_eq!(store.take(&print), None);
    }

    #[test]
    fn the_store_is_bounded() {
        let store = UnsettledCreates::default();
        for i in 0..CAPACITY + 10 {
            store.keep(
                fingerprint("k", "t", &i.to_be_bytes(), None),
                format!("idem-{i}"),
            );
        }
        assert_eq!(store.len(), CAPACITY);
        assert_eq!(
            store.take(&fingerprint("k", "t", &0usize.to_be_bytes(), None)),
            None
        );
        assert!(
            store
                .take(&fingerprint("k", "t", &(CAPACITY + 9).to_be_bytes(), None))
                .is_some()
        );
    }
}
