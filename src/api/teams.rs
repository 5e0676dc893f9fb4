//! Which team each key belongs to, learned from `whoami` once and shared.
//!
//! Lookups are single-flight: while one `whoami` for a key is in flight,
//! every other caller with that key waits for its answer instead of
//! sending its own, and a failure reaches them all at once (nobody queues
//! behind a failing lookup to try again alone). If the caller that sends
//! the request goes away, a waiter takes over.
//!
//! One directory serves a whole process (over HTTP, many keys): entries are
//! found by a SHA-256 digest of the key, never the key itself. A key cStar
//! accepted is trusted for `ACCEPTED_FOR`, then checked again, so a revoked
//! key stops working; a key cStar rejected is remembered for
//! `REJECTED_FOR`, so a bad key cannot make every request cost a lookup.
//! Other failures (network, 5xx) are not remembered.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::error::ApiError;
use super::models::WhoAmI;

pub const ACCEPTED_FOR: Duration = Duration::from_secs(10 * 60);
pub const REJECTED_FOR: Duration = Duration::from_secs(60);
/// How many keys are remembered; past it, expired entries go first, then all.
pub const CAPACITY: usize = 10_000;

pub type KeyDigest = [u8; 32];
type Outcome = Result<WhoAmI, ApiError>;

#[derive(Debug, Default)]
pub struct TeamDirectory {
    entries: Mutex<HashMap<KeyDigest, Entry>>,
}

#[derive(Debug)]
enum Entry {
    Settled(Outcome, Instant),
    InFlight(watch::Receiver<Option<Outcome>>),
}

/// What a caller must do after looking in the directory.
enum Turn {
    Done(Outcome),
    Wait(watch::Receiver<Option<Outcome>>),
    Ask(watch::Sender<Option<Outcome>>),
}

impl TeamDirectory {
    /// The team of the key with `digest`, asking `whoami` at most once at a
    /// time for it.
    pub async fn resolve<F, Fut>(&self, digest: KeyDigest, whoami: F) -> Outcome
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        loop {
            match self.turn(digest) {
                Turn::Done(outcome) => return outcome,
                Turn::Wait(mut receiver) => {
                    let answered = receiver.wait_for(Option::is_some).await;
                    if let Ok(outcome) = answered
                        && let Some(outcome) = outcome.clone()
                    {
                        return outcome;
                    }
                    // The asking caller went away: look again.
                }
                Turn::Ask(sender) => {
                    let outcome = whoami().await;
                    self.settle(digest, &outcome);
                    let _ = sender.send(Some(outcome.clone()));
                    return outcome;
                }
            }
        }
    }

    /// Records a team learned elsewhere (a direct whoami).
    pub fn remember(&self, digest: KeyDigest, whoami: WhoAmI) {
        self.settle(digest, &Ok(whoami));
    }

    fn turn(&self, digest: KeyDigest) -> Turn {
        let Ok(mut entries) = self.entries.lock() else {
            let (sender, _) = watch::channel(None);
            return Turn::Ask(sender);
        };
        match entries.get(&digest) {
            Some(Entry::Settled(outcome, at)) if at.elapsed() < lifetime(outcome) => {
                return Turn::Done(outcome.clone());
            }
            Some(Entry::InFlight(receiver)) if receiver.has_changed().is_ok() => {
                return Turn::Wait(receiver.clone());
            }
            _ => {}
        }
        if entries.len() >= CAPACITY {
            entries.retain(|_, entry| match entry {
                Entry::Settled(outcome, at) => at.elapsed() < lifetime(outcome),
                Entry::InFlight(_) => true,
            });
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let (sender, receiver) = watch::channel(None);
        entries.insert(digest, Entry::InFlight(receiver));
        Turn::Ask(sender)
    }

    fn settle(&self, digest: KeyDigest, outcome: &Outcome) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if remembered(outcome) {
            entries.insert(digest, Entry::Settled(outcome.clone(), Instant::now()));
        } else {
            entries.remove(&digest);
        }
    }
}

/// Successes and rejections of the key are remembered; passing faults not.
fn remembered(outcome: &Outcome) -> bool {
    match outcome {
        Ok(_) => true,
        Err(error) => matches!(error.status(), Some(401 | 403)),
    }
}

fn lifetime(outcome: &Outcome) -> Duration {
    match outcome {
        Ok(_) => ACCEPTED_FOR,
        Err(_) => REJECTED_FOR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn team() -> WhoAmI {
        WhoAmI {
            team_id: "team".into(),
            team_name: None,
            team_slug: None,
            key_type: None,
            environment: None,
            sandbox: None,
        }
    }

    #[tokio::test]
    async fn concurrent_lookups_share_one_request() {
        let directory = Arc::new(TeamDirectory::default());
        let asked = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (directory, asked) = (directory.clone(), asked.clone());
            tasks.push(tokio::spawn(async move {
                directory
                    .resolve([1; 32], || async {
                        asked.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(team())
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().team_id, "team");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failure_reaches_every_waiter_and_is_not_remembered() {
        let directory = Arc::new(TeamDirectory::default());
        let asked = Arc::new(AtomicUsize::new(0));
        let lookup = |directory: Arc<TeamDirectory>, asked: Arc<AtomicUsize>| async move {
            directory
                .resolve([2; 32], || async {
                    asked.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(ApiError::Timeout { attempts: 3 })
                })
                .await
        };
        let tasks: Vec<_> = (0..10)
            .map(|_| tokio::spawn(lookup(directory.clone(), asked.clone())))
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().is_err());
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert!(lookup(directory, asked.clone()).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 2, "asked again next time");
    }

    #[tokio::test]
    async fn a_waiter_takes_over_when_the_asker_is_cancelled() {
        let directory = Arc::new(TeamDirectory::default());
        let slow = {
            let directory = directory.clone();
            tokio::spawn(async move {
                directory
                    .resolve([3; 32], || async {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Ok(team())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let waiter = {
            let directory = directory.clone();
            tokio::spawn(async move { directory.resolve([3; 32], || async { Ok(team()) }).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        slow.abort();
        let outcome = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(outcome.unwrap().unwrap().is_ok());
    }
}
