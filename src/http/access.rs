//! One access-log line and one metric per HTTP request: method, path,
//! status, duration and, for MCP, the JSON-RPC method and tool. Never a key
//! or a body. Logged under the `cstar_mcp::http::access` target, which the
//! HTTP server shows at info level by default.
//!
//! The status is counted when the headers go out; the line is written when
//! the body has been sent (or dropped, when the client went away), so the
//! duration of a call answered as an SSE stream covers the whole call.

use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::gate::McpCall;
use super::held;

pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = crate::limits::quote(request.uri().path(), 100);
    let response = next.run(request).await;
    let status = response.status().as_u16();
    crate::metrics::global().http_response(status);
    let call = response
        .extensions()
        .get::<McpCall>()
        .cloned()
        .unwrap_or_default();
    let line = Line {
        started,
        method,
        path,
        status,
        call,
    };
    held::until_sent(response, line)
}

/// A request's line, written when it is dropped with the response body.
struct Line {
    started: Instant,
    method: Method,
    path: String,
    status: u16,
    call: McpCall,
}

impl Drop for Line {
    fn drop(&mut self) {
        tracing::info!(
            target: "cstar_mcp::http::access",
            method = %self.method,
            path = %self.path,
            status = self.status,
            duration_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            mcp_method = self.call.method.as_deref(),
            tool = self.call.tool.as_deref(),
            "request"
        );
    }
}
