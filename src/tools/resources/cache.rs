//! A short-lived cache of cStar reads, one shelf per API key, shared by
//! `resources/list` and `completion/complete`.
//!
//! Claude Code sends one `completion/complete` per keystroke while a person
//! types a mention: without this, every keystroke would be a request
//! against the key's hourly limit. A value is kept for `TTL`; two callers
//! that want the same missing value at once share one fetch (the second
//! waits on the first's `OnceCell`). A failed fetch is not kept, so the
//! next caller tries again.
//!
//! Bounded for a server that serves many keys over HTTP: at most
//! `MAX_KEYS` shelves (the least recently used goes first) and
//! `MAX_SLOTS` values on each (the oldest goes first). Keys are held only
//! as their SHA-256 digest.
//!
//! A shelf also remembers a digest of the last set of tickets and customers
//! `resources/list` showed for the key, so a refresh can tell whether the
//! listed set changed.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// How long a read stays fresh. Typing one mention takes seconds to tens
/// of seconds; two minutes covers it and a few more mentions, so a person
/// who mentions things all day spends at most 30 list requests an hour
/// per kind (3% of a secret key's 1,000, 30% of a publishable key's 100
/// only if they type mentions for the whole hour).
pub const TTL: Duration = Duration::from_secs(120);

/// How many keys have a shelf at once.
pub const MAX_KEYS: usize = 32;

/// How many values one shelf holds: ten list pages of each of three kinds
/// and a few single-record lookups.
pub const MAX_SLOTS: usize = 48;

/// An API key, as its SHA-256 digest.
pub type KeyDigest = [u8; 32];

/// Values of type `V`, by key and slot `S`.
pub struct KeyedCache<S, V> {
    ttl: Duration,
    shelves: Mutex<HashMap<KeyDigest, Shelf<S, V>>>,
}

struct Shelf<S, V> {
    used: Instant,
    slots: HashMap<S, Arc<Slot<V>>>,
    listed: Option<u64>,
}

struct Slot<V> {
    born: Instant,
    value: OnceCell<V>,
}

impl<V> Slot<V> {
    /// Still being fetched (callers join it), or fetched less than `ttl` ago.
    fn usable(&self, ttl: Duration) -> bool {
        !self.value.initialized() || self.born.elapsed() < ttl
    }
}

impl<S: Hash + Eq + Clone, V: Clone> KeyedCache<S, V> {
    pub fn new(ttl: Duration) -> Self {
        KeyedCache {
            ttl,
            shelves: Mutex::default(),
        }
    }

    /// The value in `slot` for `key`: the kept one while fresh, otherwise
    /// what `fetch` gives (shared with any caller that asks meanwhile).
    /// The flag is true when this call ran `fetch`.
    pub async fn get<E>(
        &self,
        key: &KeyDigest,
        slot: S,
        fetch: impl Future<Output = Result<V, E>>,
    ) -> Result<(V, bool), E> {
        let cell = self.slot(key, slot);
        let mut fetched = false;
        let value = cell
            .value
            .get_or_try_init(|| {
                fetched = true;
                fetch
            })
            .await?;
        Ok((value.clone(), fetched))
    }

    /// The fresh value in `slot` for `key`, if there is one; never fetches.
    pub fn peek(&self, key: &KeyDigest, slot: &S) -> Option<V> {
        let shelves = self.lock();
        let found = shelves.get(key)?.slots.get(slot)?;
        (found.born.elapsed() < self.ttl)
            .then(|| found.value.get().cloned())
            .flatten()
    }

    /// Drops the values kept for `key` whose slot `stale` picks (after a
    /// write that changed them).
    pub fn forget(&self, key: &KeyDigest, stale: impl Fn(&S) -> bool) {
        if let Some(shelf) = self.lock().get_mut(key) {
            shelf.slots.retain(|slot, _| !stale(slot));
        }
    }

    /// Records `digest` as what `key`'s listing now shows; returns what it
    /// showed before (`None` the first time).
    pub fn swap_listed(&self, key: &KeyDigest, digest: u64) -> Option<u64> {
        let mut shelves = self.lock();
        self.shelf(&mut shelves, key).listed.replace(digest)
    }

    /// The slot to wait on: the usable one, or a new empty one in its place.
    fn slot(&self, key: &KeyDigest, slot: S) -> Arc<Slot<V>> {
        let mut shelves = self.lock();
        let ttl = self.ttl;
        let shelf = self.shelf(&mut shelves, key);
        if let Some(found) = shelf.slots.get(&slot).filter(|s| s.usable(ttl)) {
            return found.clone();
        }
        if shelf.slots.len() >= MAX_SLOTS && !shelf.slots.contains_key(&slot) {
            shelf.slots.retain(|_, kept| kept.usable(ttl));
            if shelf.slots.len() >= MAX_SLOTS
                && let Some(oldest) = shelf
                    .slots
                    .iter()
                    .min_by_key(|(_, kept)| kept.born)
                    .map(|(name, _)| name.clone())
            {
                shelf.slots.remove(&oldest);
            }
        }
        let fresh = Arc::new(Slot {
            born: Instant::now(),
            value: OnceCell::new(),
        });
        shelf.slots.insert(slot, fresh.clone());
        fresh
    }

    /// `key`'s shelf, made (evicting the least recently used) when missing.
    fn shelf<'a>(
        &self,
        shelves: &'a mut HashMap<KeyDigest, Shelf<S, V>>,
        key: &KeyDigest,
    ) -> &'a mut Shelf<S, V> {
        if !shelves.contains_key(key)
            && shelves.len() >= MAX_KEYS
            && let Some(oldest) = shelves
                .iter()
                .min_by_key(|(_, shelf)| shelf.used)
                .map(|(digest, _)| *digest)
        {
            shelves.remove(&oldest);
        }
        let shelf = shelves.entry(*key).or_insert_with(|| Shelf {
            used: Instant::now(),
            slots: HashMap::new(),
            listed: None,
        });
        shelf.used = Instant::now();
        shelf
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<KeyDigest, Shelf<S, V>>> {
        self.shelves
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn counted(count: &AtomicUsize, value: u32) -> Result<u32, ()> {
        count.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(value)
    }

    #[tokio::test]
    async fn a_fresh_value_is_fetched_once_and_shared_by_concurrent_callers() {
        let cache = KeyedCache::<&str, u32>::new(TTL);
        let count = AtomicUsize::new(0);
        let key = [1; 32];
        let (a, b) = tokio::join!(
            cache.get(&key, "page", counted(&count, 7)),
            cache.get(&key, "page", counted(&count, 8)),
        );
        assert_eq!((a.unwrap().0, b.unwrap().0), (7, 7));
        assert_eq!(
            cache.get(&key, "page", counted(&count, 9)).await,
            Ok((7, false))
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(cache.peek(&key, &"page"), Some(7));
        assert_eq!(cache.peek(&[2; 32], &"page"), None, "per key");
    }

    #[tokio::test]
    async fn a_stale_value_a_failure_and_a_forgotten_key_fetch_again() {
        let stale = KeyedCache::<&str, u32>::new(Duration::ZERO);
        let count = AtomicUsize::new(0);
        let key = [1; 32];
        stale.get(&key, "page", counted(&count, 1)).await.unwrap();
        assert_eq!(
            stale.get(&key, "page", counted(&count, 2)).await,
            Ok((2, true))
        );
        assert_eq!(stale.peek(&key, &"page"), None);

        let cache = KeyedCache::<&str, u32>::new(TTL);
        assert_eq!(
            cache
                .get(&key, "page", async { Err::<u32, _>("down") })
                .await,
            Err("down")
        );
        assert_eq!(
            cache.get(&key, "page", counted(&count, 3)).await,
            Ok((3, true))
        );
        cache.get(&key, "other", counted(&count, 5)).await.unwrap();
        cache.forget(&key, |slot| *slot == "page");
        assert_eq!(
            cache.get(&key, "page", counted(&count, 4)).await,
            Ok((4, true))
        );
        assert_eq!(
            cache.get(&key, "other", counted(&count, 6)).await,
            Ok((5, false))
        );
    }

    #[tokio::test]
    async fn keys_and_slots_stay_bounded() {
        let cache = KeyedCache::<usize, usize>::new(TTL);
        for key in 0..MAX_KEYS * 3 {
            let digest = [key as u8; 32];
            for slot in 0..MAX_SLOTS * 2 {
                cache
                    .get(&digest, slot, async { Ok::<_, ()>(slot) })
                    .await
                    .unwrap();
            }
        }
        let shelves = cache.lock();
        assert_eq!(shelves.len(), MAX_KEYS);
        assert!(shelves.values().all(|shelf| shelf.slots.len() == MAX_SLOTS));
    }

    #[test]
    fn the_listed_digest_reports_what_was_shown_before() {
        let cache = KeyedCache::<usize, usize>::new(TTL);
        assert_eq!(cache.swap_listed(&[1; 32], 5), None);
        assert_eq!(cache.swap_listed(&[1; 32], 6), Some(5));
        cache.forget(&[1; 32], |_| true);
        assert_eq!(
            cache.swap_listed(&[1; 32], 6),
            Some(6),
            "kept across forget"
        );
    }
}
