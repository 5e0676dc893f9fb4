//! What an operator of the shared server can watch, in the Prometheus text
//! format (`GET /metrics` over HTTP): tool calls by tool and outcome,
//! calls in flight, cStar request latency, retries, rate limits waited out
//! and reported, HTTP responses by status, open HTTP connections by
//! worker thread, and the bytes the @-mention cache keeps.
//!
//! Labels never carry keys, teams or anything a caller typed: tool names
//! are the nine known ones (others count as `unknown`), outcomes are error
//! codes this server defines or cStar's, and statuses are numbers.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolCall {
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpResponse {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerThread {
    worker: u32,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    tool_calls: Family<ToolCall, Counter>,
    in_flight: Gauge,
    upstream_seconds: Histogram,
    retries: Counter,
    rate_limit_waited: Counter,
    rate_limit_reported: Counter,
    http_responses: Family<HttpResponse, Counter>,
    http_connections: Family<WorkerThread, Gauge>,
    mention_cache_bytes: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("cstar_mcp");
        let tool_calls = Family::<ToolCall, Counter>::default();
        registry.register(
            "tool_calls",
            "Tool calls by tool and outcome (ok, or the error code)",
            tool_calls.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "tool_calls_in_flight",
            "Tool calls in progress",
            in_flight.clone(),
        );
        let upstream_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "upstream_request_seconds",
            "Time of one request to cStar, per attempt",
            upstream_seconds.clone(),
        );
        let retries = Counter::default();
        registry.register(
            "upstream_retries",
            "Requests to cStar sent again",
            retries.clone(),
        );
        let rate_limit_waited = Counter::default();
        registry.register(
            "rate_limit_waited",
            "429 answers whose Retry-After was waited out",
            rate_limit_waited.clone(),
        );
        let rate_limit_reported = Counter::default();
        registry.register(
            "rate_limit_reported",
            "429 answers reported to the caller",
            rate_limit_reported.clone(),
        );
        let http_responses = Family::<HttpResponse, Counter>::default();
        registry.register(
            "http_responses",
            "HTTP responses by status",
            http_responses.clone(),
        );
        let http_connections = Family::<WorkerThread, Gauge>::default();
        registry.register(
            "http_connections_open",
            "Open HTTP connections by worker thread",
            http_connections.clone(),
        );
        let mention_cache_bytes = Gauge::default();
        registry.register(
            "mention_cache_bytes",
            "Bytes the @-mention and completion cache keeps, over every key",
            mention_cache_bytes.clone(),
        );
        Metrics {
            registry,
            tool_calls,
            in_flight,
            upstream_seconds,
            retries,
            rate_limit_waited,
            rate_limit_reported,
            http_responses,
            http_connections,
            mention_cache_bytes,
        }
    }

    /// Counts a finished tool call; `tool` must be a tool this server has.
    pub fn tool_call(&self, tool: &str, outcome: &str) {
        self.tool_calls
            .get_or_create(&ToolCall {
                tool: tool.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a call in progress until the guard is dropped.
    pub fn call_in_flight(&'static self) -> InFlight {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub fn upstream_request(&self, seconds: f64) {
        self.upstream_seconds.observe(seconds);
    }

    pub fn retry(&self, rate_limited: bool) {
        self.retries.inc();
        if rate_limited {
            self.rate_limit_waited.inc();
        }
    }

    pub fn rate_limit_reported(&self) {
        self.rate_limit_reported.inc();
    }

    pub fn http_response(&self, status: u16) {
        self.http_responses
            .get_or_create(&HttpResponse { status })
            .inc();
    }

    /// The open-connection count of worker thread `worker`, shared: the
    /// accept loop also reads it to pick the least-loaded thread.
    pub fn http_connections(&self, worker: usize) -> Gauge {
        let worker = u32::try_from(worker).unwrap_or(u32::MAX);
        self.http_connections
            .get_or_create(&WorkerThread { worker })
            .clone()
    }

    /// Adds `change` (negative when values were dropped) to the bytes the
    /// mention cache keeps.
    pub fn mention_cache_bytes(&self, change: i64) {
        self.mention_cache_bytes.inc_by(change);
    }

    /// The Prometheus (OpenMetrics) text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Keeps a call counted as in flight.
pub struct InFlight(&'static Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
