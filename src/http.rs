//! MCP over streamable HTTP (`--http ADDR`): one shared server for many
//! agents. Stateless, so replicas need no shared state behind a load
//! balancer. Each request carries its own cStar key in `Authorization:
//! Bearer`, used for that request only; a server-wide key is used only with
//! `--server-key`. rmcp checks `Host` and `Origin` (loopback by default) and
//! the body size; this module adds authentication, `/healthz` and a graceful
//! shutdown that lets in-flight calls finish.

use std::sync::Arc;

use anyhow::Context as _;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::api::Client;
use crate::api::secret::ApiKey;
use crate::cli::ServeConfig;
use crate::serve::{client_config, shutdown_signal, write_stdout};
use crate::tools::CstarServer;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The key a request carried, attached to it for the tools.
#[derive(Clone)]
struct RequestKey(ApiKey);

#[derive(Clone)]
struct Gate {
    client: Arc<Client>,
    server_key: bool,
}

/// Serves until SIGINT or SIGTERM, then finishes the calls in flight.
pub async fn serve_http(config: ServeConfig) -> anyhow::Result<()> {
    let Some(addr) = config.http else {
        anyhow::bail!("serve_http needs --http ADDR");
    };
    let filter = config.filter.clone();
    let allowed_hosts = config.allowed_hosts.clone();
    let server_key = config.server_key || config.sandbox;
    if server_key && config.api_key.is_none() && !config.sandbox {
        anyhow::bail!("--server-key needs a key in CSTAR_API_KEY (or --api-key)");
    }
    let (_sandbox, client_config) = client_config(config).await?;
    let client = Arc::new(Client::new(client_config)?);
    let server = CstarServer::with_filter(client.clone(), &filter)
        .map_err(anyhow::Error::msg)?
        .with_per_request_keys(Arc::new(|request| {
            // rmcp hands the tools the HTTP request's parts.
            let parts = request.extensions.get::<axum::http::request::Parts>()?;
            parts
                .extensions
                .get::<RequestKey>()
                .map(|RequestKey(key)| key.clone())
        }));

    let stop = CancellationToken::new();
    let hosts: Vec<String> = LOOPBACK
        .iter()
        .map(|h| h.to_string())
        .chain(allowed_hosts)
        .collect();
    let origins: Vec<String> = hosts
        .iter()
        .flat_map(|host| {
            let host =
                if host.contains(':') && !host.starts_with('[') && host.matches(':').count() > 1 {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
            [format!("http://{host}:*"), format!("https://{host}:*")]
        })
        .collect();
    let mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_cancellation_token(stop.child_token());
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );
    let gate = Gate { client, server_key };
    let app = Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(gate, authenticate))
        .route("/healthz", get(healthz));

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    let bound = listener.local_addr()?;
    write_stdout(&format!("listening on http://{bound}/mcp\n"))?;
    tracing::info!(%bound, "serving MCP over streamable HTTP");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    stop.cancel();
    Ok(())
}

async fn healthz() -> Response {
    Json(json!({ "status": "ok", "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") })).into_response()
}

/// A readable 401: what is wrong and how to send a key.
fn unauthorized(code: &str, message: String) -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"cstar-mcp\""),
    );
    response
}

/// Takes the request's bearer key, refuses a missing or malformed one, and
/// on `initialize` asks cStar whether the key is valid, so a wrong key is a
/// 401 at connection time. The key goes to the tools through the request's
/// extensions and is never logged or kept.
async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .trim()
                .strip_prefix("Bearer ")
                .unwrap_or("")
                .trim()
                .to_owned()
        });
    let key = match bearer {
        None if gate.server_key => return next.run(request).await,
        None => {
            return unauthorized(
                "missing_api_key",
                "Send your cStar API key with each request: 'Authorization: Bearer sk_live_...' (or sk_test_, pk_live_, pk_test_).".into(),
            );
        }
        Some(raw) => ApiKey::new(raw),
    };
    if key.kind().is_none() {
        return unauthorized(
            "invalid_key_format",
            "The bearer token is not a cStar API key: keys start with sk_live_, sk_test_, pk_live_ or pk_test_ followed by 32 characters.".into(),
        );
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(json!({ "error": { "code": "body_too_large", "message": format!("Request bodies are limited to {MAX_BODY_BYTES} bytes.") } }))).into_response();
    };
    if is_initialize(&bytes)
        && let Err(error) = gate.client.with_key(Some(key.clone())).whoami().await
        && matches!(error.status(), Some(401 | 403))
    {
        return unauthorized(
            error.code(),
            format!(
                "cStar rejected this API key: {error}. Check the key in the Authorization header."
            ),
        );
    }
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(RequestKey(key));
    next.run(request).await
}

/// Whether a JSON-RPC body (one message or a batch) holds `initialize`.
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Method<'a> {
        #[serde(borrow)]
        method: Option<&'a str>,
    }
    match serde_json::from_slice::<Method>(body) {
        Ok(message) => message.method == Some("initialize"),
        Err(_) => serde_json::from_slice::<Vec<Method>>(body)
            .map(|batch| batch.iter().any(|m| m.method == Some("initialize")))
            .unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::is_initialize;

    #[test]
    fn finds_initialize() {
        assert!(is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(!is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        ));
        assert!(is_initialize(
            br#"[{"jsonrpc":"2.0","method":"initialize"}]"#
        ));
        assert!(!is_initialize(b"garbage"));
    }
}
