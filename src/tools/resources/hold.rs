//! While cStar says a key's rate limit is exhausted (429), `resources/list`
//! and completion ask it nothing for that key: Claude Code sends a
//! completion per keystroke, and each would be one more refused request.
//! The refusal is answered again until cStar's `Retry-After` has passed
//! (at most the cache's `TTL`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rmcp::ErrorData;

use super::cache::{KeyDigest, MAX_KEYS, TTL};
use crate::api::ApiError;

/// How long to hold when cStar gives no `Retry-After`.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The keys cStar refused for their rate limit, until when, with the
/// refusal to repeat.
#[derive(Default)]
pub struct Holds {
    keys: Mutex<HashMap<KeyDigest, (Instant, ErrorData)>>,
}

impl Holds {
    /// The refusal to answer with, while `key` is held.
    pub fn held(&self, key: &KeyDigest) -> Option<ErrorData> {
        let now = Instant::now();
        self.lock()
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, refusal)| refusal.clone())
    }

    /// Holds `key` for `wait` (at most `TTL`), answering with `refusal`.
    pub fn hold(&self, key: KeyDigest, wait: Duration, refusal: ErrorData) {
        let now = Instant::now();
        let mut keys = self.lock();
        keys.retain(|_, (until, _)| *until > now);
        if keys.len() >= MAX_KEYS
            && !keys.contains_key(&key)
            && let Some(soonest) = keys
                .iter()
                .min_by_key(|(_, (until, _))| *until)
                .map(|(digest, _)| *digest)
        {
            keys.remove(&soonest);
        }
        keys.insert(key, (now + wait.min(TTL), refusal));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<KeyDigest, (Instant, ErrorData)>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `call`, noting in `wait` how long cStar asked to wait when it answered
/// 429.
pub async fn noting_limit<T>(
    wait: &Mutex<Option<Duration>>,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let result = call.await;
    if let Err(ApiError::Status(status)) = &result
        && status.status == 429
    {
        *wait
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(status.retry_after.unwrap_or(DEFAULT_WAIT));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_for_its_wait_and_the_holds_stay_bounded() {
        let holds = Holds::default();
        let refusal = ErrorData::internal_error("limited", None);
        holds.hold([1; 32], Duration::from_secs(30), refusal.clone());
        holds.hold([2; 32], Duration::ZERO, refusal.clone());
        assert_eq!(holds.held(&[1; 32]), Some(refusal.clone()));
        assert_eq!(holds.held(&[2; 32]), None, "the wait has passed");
        for key in 0..MAX_KEYS * 2 {
            holds.hold([key as u8; 32], Duration::from_secs(30), refusal.clone());
        }
        assert_eq!(holds.lock().len(), MAX_KEYS);
    }
}
