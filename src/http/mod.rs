//! MCP over streamable HTTP (`--http ADDR`): one shared server for many
//! agents. Stateless, so replicas need no shared state behind a load
//! balancer. Each request carries its own cStar key in `Authorization:
//! Bearer` and is served with it alone; a server-wide key is used only
//! with `--server-key`.
//!
//! - `gate`: what every `/mcp` request passes (CORS, key, per-key limit,
//!   body deadline and size, JSON check);
//! - `listener`: the accept loop of one worker thread (connection cap,
//!   header deadline, graceful stop);
//! - `origins`: accepted `Host` and `Origin` values;
//! - `access`: one log line and one metric per HTTP request;
//! - `held`: what must last until a response body is sent (a per-key
//!   slot, the access log's timing);
//! - `refusal`: every error answer written here, cleaned and bounded.
//!
//! rmcp's service checks `Host` and `Origin` and speaks MCP. `/healthz`,
//! `/readyz` and `/metrics` answer GETs without a key (405 otherwise); any
//! other path is a 404.

mod access;
mod gate;
mod held;
mod listener;
mod origins;
mod refusal;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::api::Client;
use crate::api::secret::ApiKey;
use crate::cli::{HttpConfig, HttpLimits, ServeConfig};
use crate::process::{shutdown_signal, write_stdout};
use crate::setup;
use crate::tools::CstarServer;
use crate::tools::egress::Egress;
pub use gate::MAX_BODY_BYTES;
use gate::{Gate, InFlight, RequestKey};
use origins::AllowedHosts;

/// Serves until SIGINT or SIGTERM, then finishes the calls in flight.
///
/// The server runs one single-threaded runtime per worker thread
/// (`--workers`, one per core by default). This thread accepts and hands
/// each connection to the least-loaded thread, which keeps the connection,
/// its requests, rmcp's per-request tasks and its own pool of upstream
/// connections: no request waits for a wake-up from another thread
/// (BENCHMARKS.md has what this changed). What the threads share is
/// process-wide: the per-key limit, the connection cap, team discovery,
/// unsettled creates and the metrics.
pub async fn serve(config: ServeConfig, http: HttpConfig) -> anyhow::Result<()> {
    let limits = http.limits;
    let use_server_key = http.server_key || config.sandbox;
    if use_server_key && config.api_key.is_none() && !config.sandbox {
        anyhow::bail!("--server-key needs a key in CSTAR_API_KEY (or --api-key)");
    }
    let connection = setup::connect(&config).await?;
    let client = &connection.client;
    let shared = Shared {
        server: connection
            .server(&config)?
            .with_per_request_keys(Arc::new(|request| {
                // rmcp hands the tools the HTTP request's parts.
                let parts = request.extensions.get::<axum::http::request::Parts>()?;
                parts
                    .extensions
                    .get::<RequestKey>()
                    .map(|RequestKey(key)| key.clone())
            })),
        server_key: use_server_key.then(|| client.api_key().cloned()).flatten(),
        hosts: AllowedHosts::new(&http.allowed_hosts),
        limits,
        in_flight: Arc::new(InFlight::default()),
        ready: Arc::new(AtomicBool::new(false)),
        mcp_stop: CancellationToken::new(),
    };

    let listener = tokio::net::TcpListener::bind(http.addr)
        .await
        .with_context(|| format!("could not listen on {}", http.addr))?;
    let bound = listener.local_addr()?;
    let threads = match limits.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        workers => workers,
    };
    // This thread accepts and serves its share; the others only serve.
    let (first, own_connections) = listener::worker(0);
    let mut acceptor_ends = vec![first];
    let mut threads_started = Vec::with_capacity(threads.saturating_sub(1));
    for index in 1..threads {
        let (worker, connections) = listener::worker(index);
        acceptor_ends.push(worker);
        let own_pool = Arc::new(client.with_own_pool()?);
        let app = shared.app(own_pool.clone());
        let thread = std::thread::Builder::new()
            .name(format!("cstar-http-{index}"))
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| {
                        runtime.block_on(async {
                            listener::serve(connections, app, limits).await;
                            // Creates run on the thread that sent them.
                            own_pool.settle_creates().await;
                        })
                    })
            })?;
        threads_started.push(thread);
    }
    let own_share = tokio::spawn(listener::serve(
        own_connections,
        shared.app(client.clone()),
        limits,
    ));

    write_stdout(&format!("listening on http://{bound}/mcp\n"))?;
    tracing::info!(%bound, threads, "serving MCP over streamable HTTP");
    shared.ready.store(true, Ordering::SeqCst);
    let draining = shared.ready.clone();
    let stop_signal = async move {
        shutdown_signal().await;
        draining.store(false, Ordering::SeqCst);
    };
    let accepted = listener::accept(listener, acceptor_ends, limits, stop_signal).await;
    let _ = own_share.await;
    client.settle_creates().await;
    for thread in threads_started {
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "an HTTP worker thread failed"),
            _ => tracing::warn!("an HTTP worker thread panicked"),
        }
    }
    shared.mcp_stop.cancel();
    accepted
}

/// What every worker thread's app is built from.
struct Shared {
    server: CstarServer,
    server_key: Option<ApiKey>,
    hosts: AllowedHosts,
    limits: HttpLimits,
    in_flight: Arc<InFlight>,
    ready: Arc<AtomicBool>,
    mcp_stop: CancellationToken,
}

impl Shared {
    /// The routes of one worker thread, calling cStar through `client`.
    fn app(&self, client: Arc<Client>) -> Router {
        let server = self.server.over_client(client.clone());
        let mcp_config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(self.hosts.hosts())
            .with_allowed_origins(self.hosts.origins())
            .with_max_request_body_bytes(MAX_BODY_BYTES)
            .with_cancellation_token(self.mcp_stop.child_token());
        let service = StreamableHttpService::new(
            move || Ok(Egress(server.clone())),
            Arc::new(NeverSessionManager::default()),
            mcp_config,
        );
        let gate = Arc::new(Gate {
            client,
            server_key: self.server_key.clone(),
            hosts: self.hosts.clone(),
            limits: self.limits,
            in_flight: self.in_flight.clone(),
        });
        Router::new()
            .route_service("/mcp", service)
            .route_layer(axum::middleware::from_fn_with_state(gate, gate::gate))
            .route("/healthz", get(healthz).fallback(get_only))
            .route(
                "/readyz",
                get(readyz)
                    .fallback(get_only)
                    .with_state(self.ready.clone()),
            )
            .route("/metrics", get(metrics).fallback(get_only))
            .fallback(not_found)
            .layer(axum::middleware::from_fn(access::log))
    }
}

async fn healthz() -> Response {
    Json(json!({ "status": "ok", "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") })).into_response()
}

/// Ready while accepting requests; 503 once a stop signal arrived.
async fn readyz(State(ready): State<Arc<AtomicBool>>) -> Response {
    if ready.load(Ordering::SeqCst) {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        refusal::refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "This server is stopping: it finishes the requests in progress and takes no new ones.",
        )
    }
}

async fn metrics() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::global().render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    refusal::refusal(
        StatusCode::NOT_FOUND,
        "not_found",
        "MCP is served at /mcp; /healthz reports health.",
    )
}

/// Any method but GET on `/healthz`, `/readyz` and `/metrics`.
async fn get_only() -> Response {
    refusal::with_header(
        refusal::refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Use GET here.",
        ),
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static("GET, HEAD"),
    )
}
