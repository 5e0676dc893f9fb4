//! The sandbox's mutable state: both environments' data, the demo keys,
//! rate-limit windows, stored idempotent answers, queued faults and the
//! request log. One mutex guards it all; no lock is held across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use super::dataset::Dataset;
use super::delivery::Deliverer;
use super::faults::FaultRule;
use super::records::WebhookRecord;
use super::seed::{self, ACME, GLOBEX, Team};
use super::seed_data::SeedData;
use crate::api::secret::{Environment, KEY_PREFIXES, KeyType};
use crate::time::{iso8601, unix_now, unix_now_millis};

/// A demo key the sandbox accepts.
#[derive(Debug, Clone, Copy)]
pub struct DemoKey {
    pub key: &'static str,
    pub team: Team,
    pub key_type: KeyType,
    pub environment: Environment,
    pub label: &'static str,
}

/// The keys printed at start and listed in the README.
pub const DEMO_KEYS: [DemoKey; 4] = [
    DemoKey {
        key: "sk_test_sandboxDemoSecretTestKey00000001",
        team: ACME,
        key_type: KeyType::Secret,
        environment: Environment::Test,
        label: "secret, test",
    },
    DemoKey {
        key: "pk_test_sandboxDemoPublishTestKey0000001",
        team: ACME,
        key_type: KeyType::Publishable,
        environment: Environment::Test,
        label: "publishable, test",
    },
    DemoKey {
        key: "sk_live_sandboxDemoSecretLiveKey00000001",
        team: ACME,
        key_type: KeyType::Secret,
        environment: Environment::Live,
        label: "secret, live",
    },
    DemoKey {
        key: "sk_test_sandboxDemoGlobexTestKey00000001",
        team: GLOBEX,
        key_type: KeyType::Secret,
        environment: Environment::Test,
        label: "secret, test, second team (Globex Help)",
    },
];

/// The demo secret test key, used by `--sandbox`.
pub const DEMO_SECRET_TEST_KEY: &str = DEMO_KEYS[0].key;

const LOG_CAPACITY: usize = 10_000;
const IDEMPOTENCY_CAPACITY: usize = 10_000;

/// Who is calling, once the key is accepted.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub key: &'static DemoKey,
}

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    BadFormat,
    Unknown,
}

/// Checks an `Authorization` header value.
pub fn authenticate(header: Option<&str>) -> Result<Caller, AuthFailure> {
    let header = header.ok_or(AuthFailure::Missing)?;
    let token = match header.trim().split_once(char::is_whitespace) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(AuthFailure::Missing),
    };
    if !KEY_PREFIXES
        .iter()
        .any(|(prefix, _, _)| token.starts_with(prefix))
    {
        return Err(AuthFailure::BadFormat);
    }
    DEMO_KEYS
        .iter()
        .find(|demo| demo.key == token)
        .map(|key| Caller { key })
        .ok_or(AuthFailure::Unknown)
}

/// One line of `GET /_sandbox/requests`. Never holds the API key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub sequence: u64,
    /// The id cStar's answer carries (`x-cstar-request-id`).
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub idempotency_key: Option<String>,
    /// The `CStar-Version` the caller asked for.
    pub cstar_version: Option<String>,
    pub user_agent: Option<String>,
    pub status: Option<u16>,
    pub fault: Option<String>,
}

/// A rate-limit window's counters. It starts at the caller's first
/// request, to the millisecond, so a one-second window lasts a second.
#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: u128,
    used: u64,
}

/// Rate-limit settings; `None` uses cStar's documented limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitOverride {
    pub limit: Option<u64>,
    pub window_seconds: Option<u64>,
}

/// The headers to send with one answer, and whether it is over the limit.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitVerdict {
    pub limit: u64,
    pub remaining: u64,
    pub reset: u64,
    pub window_seconds: u64,
    pub exceeded: bool,
}

/// A stored answer to an idempotent create.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub body: serde_json::Value,
}

pub struct Inner {
    /// Which data `environments` were built from.
    pub data: SeedData,
    /// Data by team and environment.
    pub environments: HashMap<(Team, Environment), Dataset>,
    pub faults: Vec<FaultRule>,
    pub log: VecDeque<LoggedRequest>,
    pub idempotency: HashMap<(&'static str, String), StoredAnswer>,
    idempotency_order: VecDeque<(&'static str, String)>,
    windows: HashMap<&'static str, Window>,
    pub rate_limit: RateLimitOverride,
    pub sequence: u64,
    /// Draws for probabilistic faults; reseeded by a reset.
    pub fault_rng: seed::Rng,
}

/// Shared sandbox state.
pub struct SandboxState {
    inner: Mutex<Inner>,
    /// Sends webhook deliveries and logs their attempts.
    pub deliverer: Arc<Deliverer>,
    /// Local endpoints subscribed to every event (`--forward-to`); they
    /// survive a reset.
    pub forwards: Vec<Forward>,
}

/// A `--forward-to` endpoint and its fixed signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward {
    pub url: String,
    pub secret: String,
    /// Its webhook id in every team's data.
    #[serde(rename = "webhookId")]
    pub webhook_id: String,
}

impl Forward {
    pub fn new(url: &str) -> Self {
        Forward {
            url: url.to_owned(),
            webhook_id: super::delivery::webhook_id_for(url),
            secret: super::delivery::secret_for(url),
        }
    }

    /// The line that tells a user where events go and how to verify them.
    pub fn announcement(&self) -> String {
        format!(
            "forwarding webhooks to {} (signing secret {})\n",
            self.url, self.secret
        )
    }

    fn webhook(&self) -> WebhookRecord {
        WebhookRecord {
            id: self.webhook_id.clone(),
            name: format!("Forward to {}", self.url),
            url: self.url.clone(),
            events: vec!["*".to_owned()],
            is_active: true,
            secret: self.secret.clone(),
            created_at: iso8601(unix_now()),
            updated_at: iso8601(unix_now()),
        }
    }
}

impl SandboxState {
    pub fn new(forwards: Vec<Forward>, data: SeedData) -> Self {
        SandboxState {
            inner: Mutex::new(Inner::fresh(&forwards, data)),
            deliverer: Arc::default(),
            forwards,
        }
    }

    /// Back to fresh seed data (with the forward endpoints), with no
    /// faults, log, limits, stored answers or delivery log: `data`'s, or
    /// the data in use when `None`. Answers the data now served.
    pub fn reset(&self, data: Option<SeedData>) -> SeedData {
        let mut inner = self.lock();
        let data = data.unwrap_or(inner.data);
        *inner = Inner::fresh(&self.forwards, data);
        drop(inner);
        self.deliverer.reset();
        data
    }

    /// Locks the state; a poisoned lock is recovered, since every update
    /// leaves the state consistent.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn fresh(forwards: &[Forward], data: SeedData) -> Self {
        let mut environments = HashMap::from([
            ((ACME, Environment::Test), data.build(ACME, 0x7E57)),
            ((ACME, Environment::Live), data.build(ACME, 0x11FE)),
            ((GLOBEX, Environment::Test), data.build(GLOBEX, 0x6108)),
            ((GLOBEX, Environment::Live), data.build(GLOBEX, 0x610B)),
        ]);
        for dataset in environments.values_mut() {
            dataset
                .webhooks
                .extend(forwards.iter().map(Forward::webhook));
        }
        Inner {
            data,
            environments,
            faults: Vec::new(),
            log: VecDeque::new(),
            idempotency: HashMap::new(),
            idempotency_order: VecDeque::new(),
            windows: HashMap::new(),
            rate_limit: RateLimitOverride::default(),
            sequence: 0,
            fault_rng: seed::Rng::new(0xFA17),
        }
    }

    pub fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    pub fn record(&mut self, entry: LoggedRequest) -> usize {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(entry);
        self.log.len() - 1
    }

    pub fn store_answer(&mut self, key: (&'static str, String), answer: StoredAnswer) {
        if self.idempotency_order.len() == IDEMPOTENCY_CAPACITY
            && let Some(oldest) = self.idempotency_order.pop_front()
        {
            self.idempotency.remove(&oldest);
        }
        self.idempotency_order.push_back(key.clone());
        self.idempotency.insert(key, answer);
    }

    /// Counts one request against the caller's window.
    pub fn charge(&mut self, caller: Caller) -> RateLimitVerdict {
        let now_ms = unix_now_millis();
        let default_limit = match caller.key.key_type {
            KeyType::Secret => 1_000,
            KeyType::Publishable => 100,
        };
        let limit = self.rate_limit.limit.unwrap_or(default_limit);
        let window_seconds = self.rate_limit.window_seconds.unwrap_or(3_600).max(1);
        let window_ms = u128::from(window_seconds) * 1000;
        let window = self.windows.entry(caller.key.key).or_insert(Window {
            started_ms: now_ms,
            used: 0,
        });
        if now_ms >= window.started_ms + window_ms {
            *window = Window {
                started_ms: now_ms,
                used: 0,
            };
        }
        let exceeded = window.used >= limit;
        if !exceeded {
            window.used += 1;
        }
        RateLimitVerdict {
            limit,
            remaining: limit.saturating_sub(window.used),
            // A unix time in seconds, rounded up: never before the end.
            reset: u64::try_from((window.started_ms + window_ms).div_ceil(1000))
                .unwrap_or(u64::MAX),
            window_seconds,
            exceeded,
        }
    }

    /// Starts every caller's window afresh (after the limit changed).
    pub fn clear_windows(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticates_demo_keys_only() {
        assert!(authenticate(Some(&format!("Bearer {DEMO_SECRET_TEST_KEY}"))).is_ok());
        assert_eq!(authenticate(None).err(), Some(AuthFailure::Missing));
        assert_eq!(
            authenticate(Some("Basic abc")).err(),
            Some(AuthFailure::Missing)
        );
        assert_eq!(
            authenticate(Some("Bearer xx_live_abc")).err(),
            Some(AuthFailure::BadFormat)
        );
        assert_eq!(
            authenticate(Some("Bearer sk_live_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6")).err(),
            Some(AuthFailure::Unknown)
        );
    }

    #[test]
    fn demo_keys_have_the_documented_shape() {
        for demo in DEMO_KEYS {
            let kind = crate::api::secret::key_kind(demo.key).unwrap();
            assert_eq!(
                (kind.key_type, kind.environment),
                (demo.key_type, demo.environment)
            );
            assert_eq!(demo.key.len(), 8 + 32, "{}", demo.key);
        }
    }
}
