//! One access-log line and one metric per HTTP request: method, path,
//! status, duration and, for MCP, the JSON-RPC method and tool. Never a key
//! or a body. Logged under the `cstar_mcp::http::access` target, which the
//! HTTP server shows at info level by default.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use super::gate::McpCall;

pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let call = response
        .extensions()
        .get::<McpCall>()
        .cloned()
        .unwrap_or_default();
    crate::metrics::global().http_response(status);
    tracing::info!(
        target: "cstar_mcp::http::access",
        method = %method,
        path = %crate::limits::quote(&path, 100),
        status,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        mcp_method = call.method.as_deref(),
        tool = call.tool.as_deref(),
        "request"
    );
    response
}
