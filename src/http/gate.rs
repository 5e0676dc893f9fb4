//! What every `/mcp` request passes before rmcp sees it, in order:
//! 1. CORS: a preflight from an accepted origin is answered here.
//! 2. The key: `Authorization: Bearer` (scheme in any case), or the
//!    server's key with `--server-key`. A request is served only on a key
//!    cStar accepted. A missing, malformed or rejected key gets a 401 with
//!    `WWW-Authenticate: Bearer` on any request, not only `initialize`;
//!    while cStar cannot say (5xx, timeout, 429, unreadable answer) the
//!    answer is a 503 with `Retry-After`. Keys are checked with `whoami`
//!    through the shared `TeamDirectory`, so a known key costs no request
//!    and a failed check is never remembered.
//! 3. A per-key limit on requests in progress (429 past it), so one
//!    caller cannot take the server from the others. A request holds its
//!    slot until its answer is sent, SSE streams included.
//! 4. The body, read within `--request-timeout` (408 past it) and
//!    `MAX_BODY_BYTES` (413), then checked to be a JSON-RPC message rmcp
//!    can serve (lone surrogates and bad UTF-8 are repaired first): if
//!    not, 400 with the JSON-RPC error `tools::jsonrpc` judges it to need
//!    (-32700 for text that is not JSON).
//! 5. `Accept: */*` (or none) is read as accepting both JSON and SSE.
//!
//! Every refusal is written by `refusal`, rmcp's own (a foreign `Host`,
//! a GET or DELETE, ...) restated by it. The key goes on to the tools in
//! the request's extensions and is never logged or kept past the request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::ClientJsonRpcMessage;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::held;
use super::origins::{AllowedHosts, expose_to, preflight};
use super::refusal::{self, refusal, with_header};
use crate::api::lenient;
use crate::api::secret::ApiKey;
use crate::api::{ApiError, Client};
use crate::cli::HttpLimits;
use crate::tools::jsonrpc::{self, Fault};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Seconds to wait before trying again when a key could not be checked and
/// cStar named no wait of its own.
const KEY_CHECK_RETRY: u64 = 5;

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
        let short = |text: &str| crate::limits::quote(text, 64);
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
    let key = match accepted_key(gate, request.headers()).await {
        Ok(key) => key,
        Err(refused) => return refused,
    };
    let limit = gate.limits.max_per_key;
    let Some(slot) = gate.in_flight.try_enter(key.digest(), limit) else {
        return key_busy(limit);
    };
    normalize_accept(request.headers_mut());
    let (mut request, call) = match read_body(gate, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    request.extensions_mut().insert(RequestKey(key));
    let mut response = refusal::restated(next.run(request).await).await;
    response.extensions_mut().insert(call);
    // A call that reports progress is answered as a stream that lasts
    // until the call ends: its slot lasts as long.
    held::until_sent(response, slot)
}

/// The answer past `--max-per-key` requests in progress.
fn key_busy(limit: usize) -> Response {
    with_header(
        refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            &format!(
                "This key already has {limit} requests in progress on this server. Wait for some to finish."
            ),
        ),
        header::RETRY_AFTER,
        HeaderValue::from_static("1"),
    )
}

/// The request's key, once cStar accepted it; otherwise the answer: 401
/// for a missing, malformed or rejected key, 503 while cStar cannot say.
async fn accepted_key(gate: &Gate, headers: &HeaderMap) -> Result<ApiKey, Response> {
    let key = match bearer(headers) {
        Bearer::Key(raw) => ApiKey::new(raw),
        Bearer::Absent => match &gate.server_key {
            Some(key) => key.clone(),
            None => {
                return Err(unauthorized(
                    "missing_api_key",
                    "Send your cStar API key with each request: 'Authorization: Bearer sk_live_...' (or sk_test_, pk_live_, pk_test_).",
                ));
            }
        },
        Bearer::OtherScheme => {
            return Err(unauthorized(
                "invalid_authorization",
                "Use the Bearer scheme: 'Authorization: Bearer <cStar API key>'.",
            ));
        }
    };
    if key.kind().is_none() {
        return Err(unauthorized(
            "invalid_key_format",
            "The bearer token is not a cStar API key: keys start with sk_live_, sk_test_, pk_live_ or pk_test_ followed by 16-128 letters, digits, '-' or '_'. Check the key in the Authorization header.",
        ));
    }
    match gate.client.with_key(Some(key.clone())).team().await {
        Ok(_) => Ok(key),
        Err(error) if matches!(error.status(), Some(401 | 403)) => Err(unauthorized(
            error.code(),
            &format!(
                "cStar rejected this API key. Send a valid key in the Authorization header. {error}"
            ),
        )),
        Err(error) => Err(unverified(&error)),
    }
}

/// The answer while a key cannot be checked (cStar failed, timed out or
/// asked us to slow down): nothing is served on it, and the caller hears
/// when to try again.
fn unverified(error: &ApiError) -> Response {
    let wait = retry_after_seconds(error);
    with_header(
        refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "key_check_unavailable",
            &format!(
                "cStar could not check this API key, so nothing is served on it yet. Try again in {wait} s. {error}"
            ),
        ),
        header::RETRY_AFTER,
        HeaderValue::from(wait),
    )
}

/// cStar's own `Retry-After` (a 429 or 503), in whole seconds rounded up;
/// `KEY_CHECK_RETRY` when it gave none.
fn retry_after_seconds(error: &ApiError) -> u64 {
    let given = match error {
        ApiError::Status(status) => status.retry_after,
        _ => None,
    };
    given.map_or(KEY_CHECK_RETRY, |wait| {
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    })
}

/// A POST with its body read within `--request-timeout` and
/// `MAX_BODY_BYTES` and checked to be a message rmcp can serve (repaired
/// first when it may need it), and what it asks of MCP; other requests as
/// they are.
async fn read_body(gate: &Gate, request: Request) -> Result<(Request, McpCall), Response> {
    if request.method() != Method::POST {
        return Ok((request, McpCall::default()));
    }
    let (mut parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(gate.limits.body_timeout, to_bytes(body, MAX_BODY_BYTES))
        .await
    {
        Err(_) => {
            return Err(with_header(
                refusal(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    &format!(
                        "The request body did not arrive within {:?}.",
                        gate.limits.body_timeout
                    ),
                ),
                header::CONNECTION,
                HeaderValue::from_static("close"),
            ));
        }
        Ok(Err(_)) => {
            return Err(refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!("Request bodies are limited to {MAX_BODY_BYTES} bytes."),
            ));
        }
        Ok(Ok(bytes)) => bytes,
    };
    let call = McpCall::of(&bytes);
    let body = message_body(bytes).map_err(|fault| refused(&fault))?;
    if !parts.headers.contains_key(header::CONTENT_TYPE) {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok((Request::from_parts(parts, body), call))
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
        HeaderValue::from_static("Bearer realm=\"cstar-mcp\""),
    )
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
    use std::time::Duration;

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
    fn the_wait_after_a_failed_key_check_is_cstars_own_rounded_up() {
        let answered = |status: u16, retry_after: Option<Duration>| {
            ApiError::Status(Box::new(crate::api::StatusError {
                status,
                error_type: None,
                code: None,
                message: "busy".into(),
                param: None,
                request_id: None,
                retry_after,
                attempts: 1,
            }))
        };
        let cases = [
            (answered(429, Some(Duration::from_secs(30))), 30),
            (answered(429, Some(Duration::from_millis(1200))), 2),
            (answered(503, Some(Duration::from_millis(300))), 1),
            (answered(429, Some(Duration::ZERO)), 1),
            (answered(500, None), KEY_CHECK_RETRY),
            (ApiError::Timeout { attempts: 3 }, KEY_CHECK_RETRY),
        ];
        for (error, expected) in cases {
            assert_eq!(retry_after_seconds(&error), expected, "{error:?}");
        }
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
