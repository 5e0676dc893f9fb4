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
//! Bounded for a server that serves many keys over HTTP, by count and by
//! bytes. At most `MAX_KEYS` shelves (the least recently used goes first)
//! and `MAX_SLOTS` values on each (the oldest goes first). Each value
//! kept has a size (`Weigh`: an estimate of its heap bytes), and what is
//! kept stays within `BUDGET`: past a key's share, that key's stale then
//! oldest values go; past the total, the least recently used keys' oldest
//! values go first. A value larger than a whole budget is served to its
//! callers but not kept. The bytes are counted once a fetch ends, so the
//! bound holds for what is kept; a fetch in progress holds its answer in
//! its caller meanwhile, and at most `MAX_FETCHES_PER_KEY` run at once for
//! one key and `MAX_FETCHES` over every key (others wait their turn, a
//! key's own queue first), so a burst of completions by whole id (each a
//! ticket with its whole thread) cannot hold more than that many answers
//! at a time, nor keep other keys waiting behind it. The total is the
//! `cstar_mcp_mention_cache_bytes` gauge on `/metrics`. Keys are held only
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

use tokio::sync::{OnceCell, Semaphore};

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

/// How many fetches for the cache run at once, over every key: each may
/// hold an answer of megabytes.
pub const MAX_FETCHES: usize = 8;

/// How many of one key's fetches run at once: a listing reads its kinds
/// two at a time, and a burst from one key queues behind itself.
pub const MAX_FETCHES_PER_KEY: usize = 2;

/// How many bytes the cache keeps, per key and over every key.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub per_key: usize,
    pub total: usize,
}

/// 4 MiB per key holds every page a key reads with ordinary records (a
/// page of 100 tickets is about 40 KB), and four pages of the largest
/// records cStar allows (about 1 MB each); 32 MiB over every key bounds
/// the server, where `MAX_KEYS` shelves of `MAX_SLOTS` such pages alone
/// would be about 1.2 GB.
pub const BUDGET: Budget = Budget {
    per_key: 4 << 20,
    total: 32 << 20,
};

/// An API key, as its SHA-256 digest.
pub type KeyDigest = [u8; 32];

/// A value that knows about how much memory it holds.
pub trait Weigh {
    /// An estimate of the bytes the value holds: its own size and what it
    /// points to on the heap.
    fn heap_bytes(&self) -> usize;
}

/// Values of type `V`, by key and slot `S`.
pub struct KeyedCache<S, V> {
    ttl: Duration,
    budget: Budget,
    /// Turns to fetch over every key: `MAX_FETCHES` at once.
    fetches: Semaphore,
    state: Mutex<State<S, V>>,
}

struct State<S, V> {
    shelves: HashMap<KeyDigest, Shelf<S, V>>,
    /// The total last added to the metrics gauge.
    reported: usize,
}

struct Shelf<S, V> {
    used: Instant,
    /// This key's turns to fetch: `MAX_FETCHES_PER_KEY` at once.
    turns: Arc<Semaphore>,
    slots: HashMap<S, Kept<V>>,
    /// The sum of the slots' bytes.
    bytes: usize,
    listed: Option<u64>,
}

/// A slot and, once its value is fetched and counted, its bytes.
struct Kept<V> {
    slot: Arc<Slot<V>>,
    bytes: usize,
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

impl<S: Hash + Eq + Clone, V> Shelf<S, V> {
    fn insert(&mut self, name: S, kept: Kept<V>) {
        let bytes = kept.bytes;
        if let Some(old) = self.slots.insert(name, kept) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
    }

    fn remove(&mut self, name: &S) {
        if let Some(old) = self.slots.remove(name) {
            self.bytes -= old.bytes;
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&S, &Kept<V>) -> bool) {
        let mut freed = 0;
        self.slots.retain(|name, kept| {
            let keeps = keep(name, kept);
            if !keeps {
                freed += kept.bytes;
            }
            keeps
        });
        self.bytes -= freed;
    }

    /// The slot whose value was counted longest ago: the stale first,
    /// then the oldest. A slot still being fetched holds no counted bytes
    /// and is never picked.
    fn first_to_go(&self, ttl: Duration) -> Option<S> {
        self.slots
            .iter()
            .filter(|(_, kept)| kept.bytes > 0)
            .min_by_key(|(_, kept)| (kept.slot.usable(ttl), kept.slot.born))
            .map(|(name, _)| name.clone())
    }
}

impl<S: Hash + Eq + Clone, V: Clone + Weigh> KeyedCache<S, V> {
    pub fn new(ttl: Duration, budget: Budget) -> Self {
        KeyedCache {
            ttl,
            budget,
            fetches: Semaphore::new(MAX_FETCHES),
            state: Mutex::new(State {
                shelves: HashMap::new(),
                reported: 0,
            }),
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
        let (cell, key_turns) = self.slot(key, slot.clone());
        let mut fetched = false;
        let value = cell
            .value
            .get_or_try_init(|| {
                fetched = true;
                async {
                    // Neither is ever closed, so a permit always comes:
                    // the key's own turn first, so its queue holds no
                    // turn of the others'.
                    let _key_turn = key_turns.acquire().await.ok();
                    let _turn = self.fetches.acquire().await.ok();
                    fetch.await
                }
            })
            .await?;
        if fetched {
            self.count(key, &slot, &cell, value.heap_bytes());
        }
        Ok((value.clone(), fetched))
    }

    /// The fresh value in `slot` for `key`, if there is one; never fetches.
    pub fn peek(&self, key: &KeyDigest, slot: &S) -> Option<V> {
        let state = self.lock();
        let found = &state.shelves.get(key)?.slots.get(slot)?.slot;
        (found.born.elapsed() < self.ttl)
            .then(|| found.value.get().cloned())
            .flatten()
    }

    /// Drops the values kept for `key` whose slot `stale` picks (after a
    /// write that changed them).
    pub fn forget(&self, key: &KeyDigest, stale: impl Fn(&S) -> bool) {
        let mut state = self.lock();
        if let Some(shelf) = state.shelves.get_mut(key) {
            shelf.retain(|slot, _| !stale(slot));
        }
        state.report();
    }

    /// Records `digest` as what `key`'s listing now shows; returns what it
    /// showed before (`None` the first time).
    pub fn swap_listed(&self, key: &KeyDigest, digest: u64) -> Option<u64> {
        let mut state = self.lock();
        let listed = self.shelf(&mut state, key).listed.replace(digest);
        state.report();
        listed
    }

    /// The slot to wait on: the usable one, or a new empty one in its place.
    /// With it, the key's turns to fetch.
    fn slot(&self, key: &KeyDigest, slot: S) -> (Arc<Slot<V>>, Arc<Semaphore>) {
        let mut state = self.lock();
        let ttl = self.ttl;
        let shelf = self.shelf(&mut state, key);
        let turns = shelf.turns.clone();
        if let Some(found) = shelf.slots.get(&slot).filter(|s| s.slot.usable(ttl)) {
            return (found.slot.clone(), turns);
        }
        if shelf.slots.len() >= MAX_SLOTS && !shelf.slots.contains_key(&slot) {
            shelf.retain(|_, kept| kept.slot.usable(ttl));
            if shelf.slots.len() >= MAX_SLOTS
                && let Some(oldest) = shelf
                    .slots
                    .iter()
                    .min_by_key(|(_, kept)| kept.slot.born)
                    .map(|(name, _)| name.clone())
            {
                shelf.remove(&oldest);
            }
        }
        let fresh = Arc::new(Slot {
            born: Instant::now(),
            value: OnceCell::new(),
        });
        shelf.insert(
            slot,
            Kept {
                slot: fresh.clone(),
                bytes: 0,
            },
        );
        state.report();
        (fresh, turns)
    }

    /// Counts `bytes` for the value just fetched into `cell`, if the cache
    /// still holds that slot, then brings the key and the total within
    /// the budget. A value over either budget is dropped at once: its
    /// callers have it already.
    fn count(&self, key: &KeyDigest, slot: &S, cell: &Arc<Slot<V>>, bytes: usize) {
        let mut state = self.lock();
        let Some(shelf) = state.shelves.get_mut(key) else {
            return;
        };
        if !shelf
            .slots
            .get(slot)
            .is_some_and(|kept| Arc::ptr_eq(&kept.slot, cell))
        {
            return;
        }
        if bytes > self.budget.per_key || bytes > self.budget.total {
            shelf.remove(slot);
        } else {
            shelf.insert(
                slot.clone(),
                Kept {
                    slot: cell.clone(),
                    bytes,
                },
            );
            while shelf.bytes > self.budget.per_key
                && let Some(first) = shelf.first_to_go(self.ttl)
            {
                shelf.remove(&first);
            }
            self.within_total(&mut state);
        }
        state.report();
    }

    /// Drops values, the least recently used keys' stale then oldest
    /// first, until the total is within the budget.
    fn within_total(&self, state: &mut State<S, V>) {
        while state.bytes() > self.budget.total {
            let Some(shelf) = state
                .shelves
                .values_mut()
                .filter(|shelf| shelf.bytes > 0)
                .min_by_key(|shelf| shelf.used)
            else {
                return;
            };
            match shelf.first_to_go(self.ttl) {
                Some(first) => shelf.remove(&first),
                None => return,
            }
        }
    }

    /// `key`'s shelf, made (evicting the least recently used) when missing.
    fn shelf<'a>(&self, state: &'a mut State<S, V>, key: &KeyDigest) -> &'a mut Shelf<S, V> {
        let shelves = &mut state.shelves;
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
            turns: Arc::new(Semaphore::new(MAX_FETCHES_PER_KEY)),
            slots: HashMap::new(),
            bytes: 0,
            listed: None,
        });
        shelf.used = Instant::now();
        shelf
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<S, V>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<S, V> State<S, V> {
    /// The bytes kept over every key.
    fn bytes(&self) -> usize {
        self.shelves.values().map(|shelf| shelf.bytes).sum()
    }

    /// Brings the metrics gauge up to date with the total.
    fn report(&mut self) {
        let now = self.bytes();
        crate::metrics::global().mention_cache_bytes(as_i64(now) - as_i64(self.reported));
        self.reported = now;
    }
}

impl<S, V> Drop for KeyedCache<S, V> {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::metrics::global().mention_cache_bytes(-as_i64(state.reported));
    }
}

fn as_i64(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// In these tests a number weighs as many bytes as it says.
    impl Weigh for u32 {
        fn heap_bytes(&self) -> usize {
            *self as usize
        }
    }

    impl Weigh for usize {
        fn heap_bytes(&self) -> usize {
            *self
        }
    }

    impl<S, V> KeyedCache<S, V> {
        /// The bytes kept, over every key and for each.
        fn kept(&self) -> (usize, Vec<usize>) {
            let state = self.state.lock().unwrap();
            (
                state.bytes(),
                state.shelves.values().map(|shelf| shelf.bytes).collect(),
            )
        }
    }

    async fn counted(count: &AtomicUsize, value: u32) -> Result<u32, ()> {
        count.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(value)
    }

    #[tokio::test]
    async fn a_fresh_value_is_fetched_once_and_shared_by_concurrent_callers() {
        let cache = KeyedCache::<&str, u32>::new(TTL, BUDGET);
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
    async fn fetches_run_at_most_two_per_key_and_eight_in_all_and_the_others_wait() {
        const KEYS: usize = 6;
        let cache = Arc::new(KeyedCache::<u32, u32>::new(TTL, BUDGET));
        let running: Arc<[AtomicUsize; KEYS + 1]> = Arc::new(Default::default());
        let most: Arc<[AtomicUsize; KEYS + 1]> = Arc::new(Default::default());
        let mut reads = tokio::task::JoinSet::new();
        for n in 0..60u32 {
            let (cache, running, most) = (cache.clone(), running.clone(), most.clone());
            // Key 0 asks first, in a burst; the others after it.
            let key = if n < 20 { 0 } else { n as usize % KEYS };
            reads.spawn(async move {
                let fetch = async {
                    // Counted for the key, and over every key (the last).
                    for counter in [key, KEYS] {
                        let now = running[counter].fetch_add(1, Ordering::SeqCst) + 1;
                        most[counter].fetch_max(now, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    for counter in [key, KEYS] {
                        running[counter].fetch_sub(1, Ordering::SeqCst);
                    }
                    Ok::<u32, ()>(n)
                };
                let got = cache.get(&[key as u8; 32], n, fetch).await;
                (n, got.unwrap().0)
            });
        }
        let mut served = 0;
        while let Some(read) = reads.join_next().await {
            let (asked, got) = read.unwrap();
            assert_eq!(asked, got);
            served += 1;
        }
        assert_eq!(served, 60);
        let most: Vec<usize> = most.iter().map(|m| m.load(Ordering::SeqCst)).collect();
        assert_eq!(most[0], MAX_FETCHES_PER_KEY, "the burst: {most:?}");
        assert!(
            most[..KEYS].iter().all(|&m| m <= MAX_FETCHES_PER_KEY),
            "per key: {most:?}"
        );
        assert_eq!(most[KEYS], MAX_FETCHES, "in all");
    }

    #[tokio::test]
    async fn a_stale_value_a_failure_and_a_forgotten_key_fetch_again() {
        let stale = KeyedCache::<&str, u32>::new(Duration::ZERO, BUDGET);
        let count = AtomicUsize::new(0);
        let key = [1; 32];
        stale.get(&key, "page", counted(&count, 1)).await.unwrap();
        assert_eq!(
            stale.get(&key, "page", counted(&count, 2)).await,
            Ok((2, true))
        );
        assert_eq!(stale.peek(&key, &"page"), None);

        let cache = KeyedCache::<&str, u32>::new(TTL, BUDGET);
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
        assert_eq!(cache.kept().0, 5, "the forgotten value's bytes are freed");
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
        let cache = KeyedCache::<usize, usize>::new(TTL, BUDGET);
        for key in 0..MAX_KEYS * 3 {
            let digest = [key as u8; 32];
            for slot in 0..MAX_SLOTS * 2 {
                cache
                    .get(&digest, slot, async { Ok::<_, ()>(slot) })
                    .await
                    .unwrap();
            }
        }
        let state = cache.lock();
        assert_eq!(state.shelves.len(), MAX_KEYS);
        assert!(
            state
                .shelves
                .values()
                .all(|shelf| shelf.slots.len() == MAX_SLOTS)
        );
    }

    #[tokio::test]
    async fn bytes_stay_within_each_key_s_share_and_the_total_after_every_read() {
        let budget = Budget {
            per_key: 1_000,
            total: 5_000,
        };
        let cache = KeyedCache::<usize, usize>::new(TTL, budget);
        let mut kept_most = 0;
        for key in 0..MAX_KEYS * 2 {
            let digest = [key as u8; 32];
            for slot in 0..MAX_SLOTS {
                let size = 100 + (key * 37 + slot * 101) % 300;
                cache
                    .get(&digest, slot, async { Ok::<_, ()>(size) })
                    .await
                    .unwrap();
                let (total, per_key) = cache.kept();
                assert!(total <= budget.total, "{total} bytes kept");
                assert!(per_key.iter().all(|bytes| *bytes <= budget.per_key));
                kept_most = kept_most.max(total);
            }
        }
        assert!(kept_most > budget.total - 400, "the budget is used");
    }

    #[tokio::test]
    async fn past_the_total_the_least_recently_used_key_loses_values_first() {
        let budget = Budget {
            per_key: 300,
            total: 600,
        };
        let cache = KeyedCache::<usize, usize>::new(TTL, budget);
        let (old, recent, new) = ([1; 32], [2; 32], [3; 32]);
        for key in [&old, &recent] {
            cache.get(key, 0, async { Ok::<_, ()>(300) }).await.unwrap();
        }
        cache
            .get(&new, 0, async { Ok::<_, ()>(200) })
            .await
            .unwrap();
        assert_eq!(cache.peek(&old, &0), None);
        assert_eq!(cache.peek(&recent, &0), Some(300));
        assert_eq!(cache.peek(&new, &0), Some(200));
        cache
            .get(&new, 1, async { Ok::<_, ()>(100) })
            .await
            .unwrap();
        cache
            .get(&new, 2, async { Ok::<_, ()>(100) })
            .await
            .unwrap();
        assert_eq!(cache.peek(&new, &0), None, "the key's oldest goes");
        assert_eq!(cache.kept().0, 500);
    }

    #[tokio::test]
    async fn a_value_larger_than_a_budget_is_served_but_not_kept() {
        let budget = Budget {
            per_key: 100,
            total: 1_000,
        };
        let cache = KeyedCache::<&str, u32>::new(TTL, budget);
        let count = AtomicUsize::new(0);
        let key = [1; 32];
        cache.get(&key, "small", counted(&count, 60)).await.unwrap();
        assert_eq!(
            cache.get(&key, "big", counted(&count, 101)).await,
            Ok((101, true))
        );
        assert_eq!(cache.peek(&key, &"big"), None);
        assert_eq!(cache.peek(&key, &"small"), Some(60), "others stay");
        assert_eq!(
            cache.get(&key, "big", counted(&count, 101)).await,
            Ok((101, true))
        );
        assert_eq!(cache.kept().0, 60);
    }

    #[test]
    fn the_listed_digest_reports_what_was_shown_before() {
        let cache = KeyedCache::<usize, usize>::new(TTL, BUDGET);
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
