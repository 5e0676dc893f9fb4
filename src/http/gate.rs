//! What every `/mcp` request passes before rmcp sees it, in order:
//! 1. CORS: a preflight from an accepted origin is answered here.
//! 2. The key: `Authorization: Bearer` (scheme in any case), or the
//!    server's key with `--server-key`. A missing, malformed or rejected
//!    key gets a 401 with `WWW-Authenticate: Bearer` on any request, not
//!    only `initialize`. Keys are checked with `whoami` through the shared
//!    `TeamDirectory`, so a known key costs no request.
//! 3. A per-key limit on requests in progress (429 past it), so one
//!    caller cannot take the server from the others.
//! 4. The body, read within `--request-timeout` (408 past it) and
//!    `MAX_BODY_BYTES` (413), then checked to be a JSON-RPC message rmcp
//!    can serve (lone surrogates and bad UTF-8 are repaired first): if
//!    not, 400 with the JSON-RPC error `tools::jsonrpc` judges it to need
//!    (-32700 for text that is not JSON).
//! 5. `Accept: */*` (or none) is read as accepting both JSON and SSE.
//!
//! The key goes on to the tools in the request's extensions and is never
//! logged or kept past the request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::ClientJsonRpcMessage;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::origins::{AllowedHosts, expose_to, preflight};
use crate::api::Client;
use crate::api::lenient;
use crate::api::secret::ApiKey;
use crate::cli::HttpLimits;
use crate::tools::jsonrpc::{self, Fault};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a request asked of MCP, for the access log: the JSON-RPC method and,
/// for `tools/call`, the tool (both cut short: they are caller input).
#[derive(Clone, Debug, Default)]
pub struct McpCall {
    pub method: Option<String>,
    pub tool: Option<String>,
}

impl McpCall {
    fn of(body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Params<'a> {
            #[serde(borrow)]
            name: Option<std::borrow::Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Message<'a> {
            #[serde(borrow)]
            method: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow)]
            params: Option<Params<'a>>,
        }
        let short = |text: &str| crate::tools::errors::shorten(text, 64);
        match serde_json::from_slice::<Message>(body) {
            Ok(message) => McpCall {
                method: message.method.as_deref().map(short),
                tool: message.params.and_then(|p| p.name).as_deref().map(short),
            },
            Err(_) => McpCall::default(),
        }
    }
}

/// The key a request carried (or the server's), attached for the tools.
#[derive(Clone)]
pub struct RequestKey(pub ApiKey);

pub struct Gate {
    pub client: Arc<Client>,
    /// Serve requests without a bearer with this key (`--server-key`).
    pub server_key: Option<ApiKey>,
    pub hosts: AllowedHosts,
    pub limits: HttpLimits,
    pub in_flight: Arc<InFlight>,
}

/// Requests in progress per key digest.
#[derive(Debug, Default)]
pub struct InFlight {
    per_key: Mutex<HashMap<[u8; 32], Arc<Semaphore>>>,
}

impl InFlight {
    fn try_enter(&self, digest: [u8; 32], limit: usize) -> Option<OwnedSemaphorePermit> {
        let mut per_key = self.per_key.lock().ok()?;
        if per_key.len() > 10_000 {
            // Forget keys with nothing in progress.
            per_key.retain(|_, semaphore| semaphore.available_permits() < limit);
        }
        let semaphore = per_key
            .entry(digest)
            .or_insert_with(|| Arc::new(Semaphore::new(limit)))
            .clone();
        semaphore.try_acquire_owned().ok()
    }
}

/// The middleware: `gate` is shared, not copied, by every request.
pub async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|origin| origin.to_str().is_ok_and(|o| gate.hosts.allows_origin(o)))
        .cloned();
    let mut response = admit(&gate, origin.as_ref(), request, next).await;
    if let Some(origin) = &origin {
        expose_to(origin, response.headers_mut());
    }
    response
}

async fn admit(
    gate: &Gate,
    origin: Option<&HeaderValue>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return answer_preflight(request.headers(), origin);
    }
    let key = match bearer(request.headers()) {
        Bearer::Key(raw) => ApiKey::new(raw),
        Bearer::Absent => match &gate.server_key {
            Some(key) => key.clone(),
            None => {
                return unauthorized(
                    "missing_api_key",
                    "Send your cStar API key with each request: 'Authorization: Bearer sk_live_...' (or sk_test_, pk_live_, pk_test_).",
                );
            }
        },
        Bearer::OtherScheme => {
            return unauthorized(
                "invalid_authorization",
                "Use the Bearer scheme: 'Authorization: Bearer <cStar API key>'.",
            );
        }
    };
    if key.kind().is_none() {
        return unauthorized(
            "invalid_key_format",
            "The bearer token is not a cStar API key: keys start with sk_live_, sk_test_, pk_live_ or pk_test_ followed by 16-128 letters, digits, '-' or '_'. Check the key in the Authorization header.",
        );
    }
    if let Err(error) = gate.client.with_key(Some(key.clone())).team().await
        && matches!(error.status(), Some(401 | 403))
    {
        return unauthorized(
            error.code(),
            &format!(
                "cStar rejected this API key: {error}. Send a valid key in the Authorization header."
            ),
        );
    }
    let Some(_permit) = gate
        .in_flight
        .try_enter(key.digest(), gate.limits.max_per_key)
    else {
        return with_header(
            refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                &format!(
                    "This key already has {} requests in progress on this server. Wait for some to finish.",
                    gate.limits.max_per_key
                ),
            ),
            header::RETRY_AFTER,
            "1",
        );
    };
    normalize_accept(request.headers_mut());
    let mut call = McpCall::default();
    if request.method() == Method::POST {
        let (mut parts, body) = request.into_parts();
        let bytes =
            match tokio::time::timeout(gate.limits.body_timeout, to_bytes(body, MAX_BODY_BYTES))
                .await
            {
                Err(_) => {
                    return with_header(
                        refusal(
                            StatusCode::REQUEST_TIMEOUT,
                            "body_timeout",
                            &format!(
                                "The request body did not arrive within {:?}.",
                                gate.limits.body_timeout
                            ),
                        ),
                        header::CONNECTION,
                        "close",
                    );
                }
                Ok(Err(_)) => {
                    return refusal(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        &format!("Request bodies are limited to {MAX_BODY_BYTES} bytes."),
                    );
                }
                Ok(Ok(bytes)) => bytes,
            };
        call = McpCall::of(&bytes);
        let body = match message_body(bytes) {
            Ok(body) => body,
            Err(fault) => return refused(&fault),
        };
        if !parts.headers.contains_key(header::CONTENT_TYPE) {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        request = Request::from_parts(parts, body);
    }
    request.extensions_mut().insert(RequestKey(key));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(call);
    response
}

enum Bearer {
    Key(String),
    Absent,
    OtherScheme,
}

/// The bearer token; the scheme is matched in any case (RFC 7235).
fn bearer(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Absent;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::OtherScheme;
    };
    match value.trim().split_once(char::is_whitespace) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Bearer::Key(token.trim().to_owned())
        }
        _ => Bearer::OtherScheme,
    }
}

/// `Accept: */*` or no `Accept` at all takes whatever MCP sends.
fn normalize_accept(headers: &mut HeaderMap) {
    let takes_anything = match headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(accept) => accept.split(',').any(|media| {
            let essence = media.split(';').next().unwrap_or_default().trim();
            essence == "*/*"
        }),
    };
    if takes_anything {
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
}

fn answer_preflight(headers: &HeaderMap, origin: Option<&HeaderValue>) -> Response {
    match (headers.get(header::ORIGIN), origin) {
        (Some(_), None) => refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This origin may not call this server (see --allowed-hosts).",
        ),
        (_, origin) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            if let Some(origin) = origin {
                preflight(origin, response.headers_mut());
            }
            response
        }
    }
}

/// A readable 401 that says how to send a key.
fn unauthorized(code: &str, message: &str) -> Response {
    with_header(
        refusal(StatusCode::UNAUTHORIZED, code, message),
        header::WWW_AUTHENTICATE,
        "Bearer realm=\"cstar-mcp\"",
    )
}

fn with_header(mut response: Response, name: header::HeaderName, value: &'static str) -> Response {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    response
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// The body as rmcp will read it (repaired first when it may need it), or
/// the JSON-RPC error of a body that is not JSON or not a message rmcp can
/// serve.
fn message_body(bytes: Bytes) -> Result<Body, Fault> {
    // Skipping a string does not decode it: text that may need repair
    // (not UTF-8, or with \u escapes) goes through `lenient` first.
    let plain =
        std::str::from_utf8(&bytes).is_ok() && memchr::memmem::find(&bytes, b"\\u").is_none();
    let bytes = if plain {
        bytes
    } else {
        Bytes::from(lenient::clean_body(bytes.to_vec(), ""))
    };
    match serde_json::from_slice::<ClientJsonRpcMessage>(&bytes) {
        Ok(_) => Ok(Body::from(bytes)),
        Err(error) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(value) => Err(jsonrpc::judge(&value, &error.to_string())),
            Err(error) => Err(jsonrpc::parse_error(&error)),
        },
    }
}

/// JSON-RPC's answer to a body it refuses: 400, since HTTP owes every POST
/// a status, notifications and responses included.
fn refused(fault: &Fault) -> Response {
    (StatusCode::BAD_REQUEST, Json(fault.to_json())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer sk_1", "bearer sk_1", "BEARER   sk_1 "] {
            assert!(
                matches!(bearer(&headers(value)), Bearer::Key(k) if k == "sk_1"),
                "{value}"
            );
        }
        assert!(matches!(bearer(&headers("Basic abc")), Bearer::OtherScheme));
        assert!(matches!(bearer(&HeaderMap::new()), Bearer::Absent));
    }

    #[test]
    fn any_accept_becomes_json_and_sse() {
        let mut map = HeaderMap::new();
        map.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        normalize_accept(&mut map);
        assert_eq!(map[header::ACCEPT], "application/json, text/event-stream");
        map.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        normalize_accept(&mut map);
        assert_eq!(map[header::ACCEPT], "application/json");
    }
}
