//! Creates in flight: once a `POST /tickets` is sent it runs to a settled
//! outcome, whatever happens to the call that started it, and an identical
//! create that arrives meanwhile joins it instead of sending again.
//!
//! A create that was sent may have made a ticket, so abandoning it halfway
//! (an MCP `notifications/cancelled`, a closed HTTP connection, a client
//! that gave up) would leave nobody knowing. Each create therefore runs in
//! a task of its own; callers wait on it and may go away. When it settles:
//! - every caller still waiting gets the outcome;
//! - its idempotency key is kept in `UnsettledCreates` when no answer
//!   settled it, or when it succeeded but no caller was left to hear it, so
//!   the next identical create replays the same ticket.
//!
//! Flights are found by the same kind of digest as unsettled creates (API
//! key, team, body and the caller's own idempotency key, if any): two
//! callers never share one. Both tables are bounded: past `MAX_FLIGHTS` a
//! new create, and past `MAX_WAITERS` a new joiner, is refused before
//! anything is sent, with an error that says to retry.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;

use super::error::ApiError;
use super::unsettled::{Fingerprint, UnsettledCreates};

/// How many creates may be in flight in one process.
pub const MAX_FLIGHTS: usize = 256;

/// How many callers may wait on one create.
pub const MAX_WAITERS: usize = 64;

/// What a create settled to.
pub type Settled<T> = Result<T, ApiError>;

/// Creates in flight, by fingerprint, and the tasks that run them. Shared
/// by the whole process behind an `Arc`.
#[derive(Debug)]
pub struct Flights<T> {
    table: Mutex<HashMap<Fingerprint, Flight<T>>>,
    tasks: TaskTracker,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            table: Mutex::default(),
            tasks: TaskTracker::new(),
        }
    }
}

#[derive(Debug)]
struct Flight<T> {
    idempotency_key: String,
    waiters: Vec<oneshot::Sender<Settled<T>>>,
}

/// How a caller takes part in a create.
#[derive(Debug)]
pub enum Boarding<T> {
    /// It started the create, or joined one in flight; the outcome arrives
    /// on `outcome`. The create is sent with `idempotency_key`.
    Waiting {
        idempotency_key: String,
        outcome: oneshot::Receiver<Settled<T>>,
    },
    /// Nothing was sent: too many creates are in flight, or too many
    /// callers wait on this one.
    Refused(ApiError),
}

/// What names a create, and where its key is kept.
pub struct Departure<'a> {
    pub fingerprint: Fingerprint,
    /// Where to keep an auto-made key whose create no caller heard settle;
    /// `None` for a caller's own key, which the caller already has.
    pub unsettled: Option<&'a Arc<UnsettledCreates>>,
}

impl<T: Clone + Send + 'static> Flights<T> {
    /// Joins the create of `departure.fingerprint` if one is in flight;
    /// otherwise starts `send(key)` in a task of its own, with the key
    /// `key_for` picks.
    pub fn board<Fut>(
        self: &Arc<Self>,
        departure: Departure<'_>,
        key_for: impl FnOnce() -> String,
        send: impl FnOnce(String) -> Fut,
    ) -> Boarding<T>
    where
        Fut: Future<Output = Settled<T>> + Send + 'static,
    {
        let (sender, outcome) = oneshot::channel();
        let Ok(mut table) = self.table.lock() else {
            return Boarding::Refused(busy("the table of creates in flight is unusable"));
        };
        if let Some(flight) = table.get_mut(&departure.fingerprint) {
            if flight.waiters.len() >= MAX_WAITERS {
                return Boarding::Refused(busy("too many identical creates are waiting"));
            }
            flight.waiters.push(sender);
            return Boarding::Waiting {
                idempotency_key: flight.idempotency_key.clone(),
                outcome,
            };
        }
        if table.len() >= MAX_FLIGHTS {
            return Boarding::Refused(busy("too many creates are in flight"));
        }
        let idempotency_key = key_for();
        table.insert(
            departure.fingerprint,
            Flight {
                idempotency_key: idempotency_key.clone(),
                waiters: vec![sender],
            },
        );
        drop(table);
        let request = send(idempotency_key.clone());
        let flights = Arc::clone(self);
        let fingerprint = departure.fingerprint;
        let unsettled = departure.unsettled.cloned();
        let kept_key = idempotency_key.clone();
        self.tasks.spawn(async move {
            let settled = request.await;
            flights.land(&fingerprint, settled, |heard, settled| {
                let replay_next = match settled {
                    Ok(_) => !heard,
                    Err(error) => error.leaves_outcome_unknown(),
                };
                if let Some(unsettled) = unsettled.filter(|_| replay_next) {
                    unsettled.keep(fingerprint, kept_key);
                }
            });
        });
        Boarding::Waiting {
            idempotency_key,
            outcome,
        }
    }

    /// Ends a flight: hands its outcome to every caller still waiting, and
    /// lets `then` keep its key (told whether a caller heard it) before the
    /// flight leaves the table, so an identical create never slips between
    /// the two and makes a new key.
    fn land(
        &self,
        fingerprint: &Fingerprint,
        settled: Settled<T>,
        then: impl FnOnce(bool, &Settled<T>),
    ) {
        let Ok(mut table) = self.table.lock() else {
            return;
        };
        let waiters = table
            .get_mut(fingerprint)
            .map(|flight| std::mem::take(&mut flight.waiters))
            .unwrap_or_default();
        let mut heard = false;
        for waiter in waiters {
            heard |= waiter.send(settled.clone()).is_ok();
        }
        then(heard, &settled);
        table.remove(fingerprint);
    }

    /// Waits, at most `limit`, for every create in flight to settle: for a
    /// stop, so that a create that was sent is not cut off with the
    /// process. Whether all settled.
    pub async fn settle_all(&self, limit: Duration) -> bool {
        // Closing only lets `wait` return once empty; creates may still
        // start (another thread of the HTTP server may be draining).
        self.tasks.close();
        tokio::time::timeout(limit, self.tasks.wait()).await.is_ok()
    }

    /// How many creates are in flight.
    pub fn len(&self) -> usize {
        self.table.lock().map(|table| table.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn busy(why: &str) -> ApiError {
    ApiError::Busy {
        detail: why.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::unsettled::fingerprint;
    use tokio_util::sync::CancellationToken;

    fn departure(n: usize) -> Departure<'static> {
        Departure {
            fingerprint: fingerprint("sk", "team", &n.to_be_bytes(), None),
            unsettled: None,
        }
    }

    /// A create that never settles until `release` fires.
    fn held(release: &CancellationToken) -> impl Future<Output = Settled<u32>> + use<> {
        let release = release.clone();
        async move {
            release.cancelled().await;
            Ok(7)
        }
    }

    #[tokio::test]
    async fn flights_and_their_waiters_are_bounded_and_refused_unsent() {
        let flights: Arc<Flights<u32>> = Arc::default();
        let release = CancellationToken::new();
        let mut sent = 0;
        for n in 0..MAX_FLIGHTS {
            sent += 1;
            let boarding = flights.board(departure(n), || format!("k{n}"), |_| held(&release));
            assert!(matches!(boarding, Boarding::Waiting { .. }));
        }
        let refused = flights.board(departure(MAX_FLIGHTS), || "new".into(), |_| held(&release));
        assert!(
            matches!(&refused, Boarding::Refused(ApiError::Busy { .. })),
            "{refused:?}"
        );
        assert!(!matches!(&refused, Boarding::Refused(e) if e.leaves_outcome_unknown()));
        for _ in 1..MAX_WAITERS {
            let joined = flights.board(departure(0), || unreachable!(), |_| held(&release));
            assert!(
                matches!(&joined, Boarding::Waiting { idempotency_key, .. } if idempotency_key == "k0")
            );
        }
        let crowded = flights.board(departure(0), || unreachable!(), |_| held(&release));
        assert!(matches!(crowded, Boarding::Refused(ApiError::Busy { .. })));
        assert_eq!((flights.len(), sent), (MAX_FLIGHTS, MAX_FLIGHTS));
        release.cancel();
        assert!(flights.settle_all(Duration::from_secs(5)).await);
        assert!(flights.is_empty());
    }

    #[tokio::test]
    async fn a_create_nobody_heard_keeps_its_key_and_a_heard_one_does_not() {
        let unsettled = Arc::new(UnsettledCreates::default());
        let flights: Arc<Flights<u32>> = Arc::default();
        for (n, wait) in [(1usize, false), (2, true)] {
            let print = fingerprint("sk", "team", &n.to_be_bytes(), None);
            let boarding = flights.board(
                Departure {
                    fingerprint: print,
                    unsettled: Some(&unsettled),
                },
                || format!("key-{n}"),
                |_| async { Ok(7) },
            );
            let Boarding::Waiting { outcome, .. } = boarding else {
                panic!("refused");
            };
            if wait {
                assert_eq!(outcome.await.unwrap().unwrap(), 7);
            } else {
                drop(outcome);
            }
            assert!(flights.settle_all(Duration::from_secs(5)).await);
            let kept = unsettled.take(&print);
            assert_eq!(kept, (!wait).then(|| format!("key-{n}")), "waited: {wait}");
        }
    }
}
