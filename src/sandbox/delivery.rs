//! Webhook deliveries as cStar makes them (contract §5): a signed POST of
//! the event to every active endpoint subscribed to it, retried with
//! backoff until an answer is 2xx or the schedule runs out.
//!
//! - Body: `{ id, type, created_at, team_id, data }` (snake_case).
//! - Headers: `Content-Type`, `User-Agent: cStar-Webhooks/1.0`,
//!   `X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`,
//!   `X-Event-Type`, `X-Event-ID`, `X-Webhook-ID`, `X-Timestamp`,
//!   `X-Delivery-Attempt` (from 1) and `x-cstar-request-id` (the API call
//!   that caused the event).
//! - A non-2xx answer, no answer within the response budget (10 s) or a
//!   connection error is retried; every attempt keeps the event id. cStar
//!   waits 30 s, 2 min, 10 min, 1 h, 6 h and 24 h; the sandbox scales that
//!   down 60 times, so a retry shows within seconds, and the control API
//!   can set it (`/_sandbox/webhook-schedule`).
//!
//! Only loopback URLs receive anything, and never through a proxy; an
//! endpoint elsewhere (the seeded placeholders) is logged as not
//! delivered, saying why. Deliveries run on
//! their own tasks: they never hold up the API call that caused them, and
//! a slow receiver slows nothing else. Every attempt is logged
//! (`/_sandbox/deliveries`), never with the secret. A reset stops the
//! deliveries under way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::loopback::is_loopback;
use crate::time::{iso8601, unix_now};

/// cStar's retry delays, scaled down 60 times.
pub const DEFAULT_RETRY_DELAYS: [Duration; 6] = [
    Duration::from_millis(500),
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(6 * 60),
    Duration::from_secs(24 * 60),
];
/// How long a receiver has to answer an attempt.
pub const DEFAULT_RESPONSE_BUDGET: Duration = Duration::from_secs(10);
const LOG_CAPACITY: usize = 10_000;
const USER_AGENT: &str = "cStar-Webhooks/1.0";

/// Where one event goes.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
}

/// An event ready to deliver.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub team_id: String,
    pub data: Value,
    /// The API request that caused it.
    pub request_id: String,
}

impl Event {
    /// A new event of `event_type`, with an id in cStar's documented form.
    pub fn new(event_type: &str, team_id: &str, data: Value, request_id: &str) -> Self {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let millis = crate::time::unix_now_millis();
        Event {
            id: format!("evt_{}_{millis}_{suffix}", event_type.replace('.', "_")),
            event_type: event_type.to_owned(),
            team_id: team_id.to_owned(),
            data,
            request_id: request_id.to_owned(),
        }
    }
}

/// One attempt, as `GET /_sandbox/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub event_id: String,
    pub event_type: String,
    pub webhook_id: String,
    pub url: String,
    /// From 1; 0 for an endpoint that was not tried.
    pub attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// True on the last failed attempt: no retry follows.
    pub gave_up: bool,
    pub at: String,
}

impl DeliveryRecord {
    /// Answered 2xx: delivered, and not retried.
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// The retry schedule and response budget in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    #[serde(serialize_with = "millis")]
    pub retry_delays: Vec<Duration>,
    #[serde(serialize_with = "one_millis")]
    pub response_budget: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            response_budget: DEFAULT_RESPONSE_BUDGET,
        }
    }
}

fn millis<S: serde::Serializer>(delays: &[Duration], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(delays.iter().map(|d| d.as_millis() as u64))
}

fn one_millis<S: serde::Serializer>(budget: &Duration, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_u64(budget.as_millis() as u64)
}

/// Sends events and remembers every attempt.
pub struct Deliverer {
    http: reqwest::Client,
    schedule: Mutex<Schedule>,
    log: Mutex<VecDeque<DeliveryRecord>>,
    /// Cancelled by a reset: deliveries under way stop there.
    epoch: Mutex<CancellationToken>,
}

impl Default for Deliverer {
    fn default() -> Self {
        // Never through a proxy, whatever HTTP_PROXY and the like say:
        // deliveries go to this machine's loopback, which a proxy's is not.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        Deliverer {
            http,
            schedule: Mutex::default(),
            log: Mutex::default(),
            epoch: Mutex::default(),
        }
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Deliverer {
    pub fn schedule(&self) -> Schedule {
        locked(&self.schedule).clone()
    }

    pub fn set_schedule(&self, schedule: Schedule) {
        *locked(&self.schedule) = schedule;
    }

    /// Every attempt so far, oldest first.
    pub fn records(&self) -> Vec<DeliveryRecord> {
        locked(&self.log).iter().cloned().collect()
    }

    /// Stops deliveries under way, forgets the attempts and restores the
    /// default schedule.
    pub fn reset(&self) {
        std::mem::take(&mut *locked(&self.epoch)).cancel();
        locked(&self.log).clear();
        self.set_schedule(Schedule::default());
    }

    fn record(&self, record: DeliveryRecord) {
        let mut log = locked(&self.log);
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// Starts delivering `event` to each endpoint and returns at once. Each
    /// receiver yields that endpoint's first attempt when it is done.
    pub fn dispatch(
        self: &Arc<Self>,
        event: Event,
        endpoints: Vec<Endpoint>,
    ) -> Vec<oneshot::Receiver<DeliveryRecord>> {
        let body = json!({
            "id": event.id,
            "type": event.event_type,
            "created_at": iso8601(unix_now()),
            "team_id": event.team_id,
            "data": event.data,
        })
        .to_string();
        let body: Arc<[u8]> = Arc::from(body.into_bytes());
        let event = Arc::new(event);
        endpoints
            .into_iter()
            .map(|endpoint| {
                let (first, receiver) = oneshot::channel();
                if !is_loopback(&endpoint.url) {
                    let record = DeliveryRecord {
                        event_id: event.id.clone(),
                        event_type: event.event_type.clone(),
                        webhook_id: endpoint.webhook_id,
                        url: endpoint.url,
                        attempt: 0,
                        status: None,
                        error: Some(NOT_LOOPBACK.to_owned()),
                        duration_ms: 0,
                        gave_up: true,
                        at: iso8601(unix_now()),
                    };
                    self.record(record.clone());
                    let _ = first.send(record);
                } else {
                    let deliverer = self.clone();
                    let (event, body) = (event.clone(), body.clone());
                    let epoch = locked(&self.epoch).clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = epoch.cancelled() => {}
                            () = deliverer.deliver(&event, &endpoint, &body, first) => {}
                        }
                    });
                }
                receiver
            })
            .collect()
    }

    /// Attempts until one succeeds or the schedule runs out.
    async fn deliver(
        &self,
        event: &Event,
        endpoint: &Endpoint,
        body: &[u8],
        first: oneshot::Sender<DeliveryRecord>,
    ) {
        let mut first = Some(first);
        let mut attempt = 1;
        loop {
            let schedule = self.schedule();
            let mut record = self
                .attempt(event, endpoint, body, attempt, schedule.response_budget)
                .await;
            let retry_in = schedule.retry_delays.get(attempt as usize - 1).copied();
            record.gave_up = !record.succeeded() && retry_in.is_none();
            self.record(record.clone());
            if let Some(first) = first.take() {
                let _ = first.send(record.clone());
            }
            match retry_in {
                Some(delay) if !record.succeeded() => tokio::time::sleep(delay).await,
                _ => return,
            }
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        event: &Event,
        endpoint: &Endpoint,
        body: &[u8],
        attempt: u32,
        budget: Duration,
    ) -> DeliveryRecord {
        let sent_at = unix_now();
        let signature = format!("t={sent_at},v1={}", sign(&endpoint.secret, sent_at, body));
        let started = Instant::now();
        let outcome = self
            .http
            .post(&endpoint.url)
            .timeout(budget)
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .header("x-signature", signature)
            .header("x-event-type", &event.event_type)
            .header("x-event-id", &event.id)
            .header("x-webhook-id", &endpoint.webhook_id)
            .header("x-timestamp", iso8601(sent_at))
            .header("x-delivery-attempt", attempt.to_string())
            .header("x-cstar-request-id", &event.request_id)
            .body(body.to_vec())
            .send()
            .await;
        let (status, error) = match outcome {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) if error.is_timeout() => (
                None,
                Some(format!("no answer within {} ms", budget.as_millis())),
            ),
            Err(error) if error.is_connect() => (None, Some("connection refused".to_owned())),
            Err(error) => (None, Some(format!("connection failed: {error}"))),
        };
        DeliveryRecord {
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            webhook_id: endpoint.webhook_id.clone(),
            url: endpoint.url.clone(),
            attempt,
            status,
            error,
            duration_ms: started.elapsed().as_millis() as u64,
            gave_up: false,
            at: iso8601(sent_at),
        }
    }
}

const NOT_LOOPBACK: &str =
    "not delivered: the sandbox delivers only to loopback URLs (127.0.0.1, [::1], localhost)";

/// The `v1` signature: hex HMAC-SHA256 of `"{t}.{body}"` with the secret.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    context
        .sign()
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A signing secret that stays the same for a URL across restarts, so a
/// handler's configuration keeps working.
pub fn secret_for(url: &str) -> String {
    format!(
        "whsec_{}",
        fixed_hex(b"cstar-mcp sandbox forward-to secret", url)
    )
}

/// The webhook id of a forward endpoint, stable like its secret.
pub fn webhook_id_for(url: &str) -> String {
    format!("whk_{}", fixed_hex(b"cstar-mcp sandbox forward-to id", url))
}

/// 32 hex digits derived from `url`, different for each `label`.
fn fixed_hex(label: &[u8], url: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, label);
    let tag = ring::hmac::sign(&key, url.as_bytes());
    tag.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_secrets_are_stable_per_url() {
        assert_eq!(
            secret_for("http://127.0.0.1:3000/a"),
            secret_for("http://127.0.0.1:3000/a")
        );
        assert_ne!(
            secret_for("http://127.0.0.1:3000/a"),
            secret_for("http://127.0.0.1:3000/b")
        );
        assert!(secret_for("x").starts_with("whsec_"));
        assert_eq!(secret_for("x").len(), 6 + 32);
    }
}
