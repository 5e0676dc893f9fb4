//! When to try a request again, as a pure function.
//!
//! Reads are retried on transport failures, 502/503/504 and 429. A ticket
//! create carries an `Idempotency-Key` that stays the same across its
//! retries, so it is retried on the same failures. Anything else that
//! writes (trigger-test) is retried only when the connection was refused,
//! since then the request was never sent.

use std::time::Duration;

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Read,
    /// A write that carries an idempotency key.
    IdempotentWrite,
    /// A write with side effects that a retry could repeat.
    UnsafeWrite,
}

/// What went wrong on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened: nothing was sent.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke after the request may have been sent.
    Interrupted,
    /// An HTTP error status, with `Retry-After` when given.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
}

/// The verdict after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

/// Limits on retrying; the defaults bound a call's total waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` that is waited out; longer ones are
    /// reported to the caller instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Decides after attempt number `attempt` (1-based) failed. `jitter` is a
    /// number in `[0, 1)` supplied by the caller, which keeps this pure.
    pub fn decide(
        &self,
        kind: RequestKind,
        attempt: u32,
        failure: Failure,
        jitter: f64,
    ) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let repeatable = kind != RequestKind::UnsafeWrite;
        match failure {
            Failure::Connect => Decision::RetryAfter(self.backoff(attempt, jitter)),
            Failure::Timeout | Failure::Interrupted if repeatable => {
                Decision::RetryAfter(self.backoff(attempt, jitter))
            }
            Failure::Status {
                status: 429,
                retry_after,
            } if repeatable => match retry_after {
                Some(wait) if wait <= self.max_retry_after => Decision::RetryAfter(wait),
                Some(_) => Decision::GiveUp,
                None => Decision::RetryAfter(self.backoff(attempt, jitter)),
            },
            Failure::Status {
                status: 502..=504,
                retry_after,
            } if repeatable => match retry_after {
                Some(wait) if wait <= self.max_retry_after => Decision::RetryAfter(wait),
                Some(_) => Decision::GiveUp,
                None => Decision::RetryAfter(self.backoff(attempt, jitter)),
            },
            _ => Decision::GiveUp,
        }
    }

    /// Exponential backoff capped at `max_delay`, plus up to one base delay
    /// of jitter.
    fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let exponential = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        exponential + self.base_delay.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RequestKind::*;

    fn status(status: u16, retry_after: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn decision_table() {
        let policy = RetryPolicy::default();
        let ms = Duration::from_millis;
        let cases: Vec<(RequestKind, u32, Failure, Decision)> = vec![
            (Read, 1, Failure::Connect, RetryAfter(ms(250))),
            (Read, 2, Failure::Timeout, RetryAfter(ms(500))),
            (Read, 3, Failure::Timeout, GiveUp),
            (Read, 1, Failure::Interrupted, RetryAfter(ms(250))),
            (Read, 1, status(502, None), RetryAfter(ms(250))),
            (Read, 1, status(503, Some(2)), RetryAfter(ms(2000))),
            (Read, 1, status(504, None), RetryAfter(ms(250))),
            (Read, 1, status(500, None), GiveUp),
            (Read, 1, status(404, None), GiveUp),
            (Read, 1, status(401, None), GiveUp),
            (Read, 1, status(429, Some(3)), RetryAfter(ms(3000))),
            (Read, 1, status(429, Some(60)), GiveUp),
            (Read, 1, status(429, None), RetryAfter(ms(250))),
            (
                IdempotentWrite,
                1,
                Failure::Interrupted,
                RetryAfter(ms(250)),
            ),
            (IdempotentWrite, 2, status(503, None), RetryAfter(ms(500))),
            (IdempotentWrite, 1, status(409, None), GiveUp),
            (IdempotentWrite, 1, status(400, None), GiveUp),
            (UnsafeWrite, 1, Failure::Connect, RetryAfter(ms(250))),
            (UnsafeWrite, 1, Failure::Interrupted, GiveUp),
            (UnsafeWrite, 1, Failure::Timeout, GiveUp),
            (UnsafeWrite, 1, status(503, None), GiveUp),
            (UnsafeWrite, 1, status(429, Some(1)), GiveUp),
        ];
        for (kind, attempt, failure, expected) in cases {
            assert_eq!(
                policy.decide(kind, attempt, failure, 0.0),
                expected,
                "{kind:?} attempt {attempt} {failure:?}"
            );
        }
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 20,
            ..RetryPolicy::default()
        };
        let RetryAfter(wait) = policy.decide(Read, 10, Failure::Timeout, 0.5) else {
            unreachable!("a timeout on attempt 10 of 20 is retried");
        };
        assert_eq!(wait, Duration::from_millis(2125));
    }
}
