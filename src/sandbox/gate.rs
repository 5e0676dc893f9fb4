//! What happens to every `/api` request before and after its handler:
//! a request id, the request log (each text cut to `MAX_LOGGED_BYTES`),
//! injected faults, authentication, the rate limit and its headers.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::Notify;

use super::faults::{FaultKind, take_matching};
use super::state::{AuthFailure, LoggedRequest, RateLimitVerdict, SandboxState, authenticate};
use super::wire::{ApiFailure, RequestId, default_code};

/// Closes the connection a request came in on, without an answer.
#[derive(Clone)]
pub struct ConnectionKiller(pub Arc<Notify>);

impl ConnectionKiller {
    async fn kill(&self) -> Response {
        self.0.notify_one();
        std::future::pending::<Response>().await
    }
}

const MAX_BODY: usize = 4 * 1024 * 1024;

pub async fn gate(
    State(state): State<Arc<SandboxState>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = RequestId(format!(
        "req_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    ));
    let killer = request.extensions().get::<ConnectionKiller>().cloned();
    let (sequence, fault) = {
        let mut inner = state.lock();
        let sequence = inner.next_sequence();
        let inner = &mut *inner;
        let fault = take_matching(
            &mut inner.faults,
            request.method().as_str(),
            request.uri().path(),
            || inner.fault_rng.unit(),
        );
        let logged_header = |name| header_text(request.headers(), name).map(|t| logged(&t));
        inner.record(LoggedRequest {
            sequence,
            request_id: request_id.0.clone(),
            method: request.method().to_string(),
            path: logged(request.uri().path()),
            query: request.uri().query().map(logged),
            idempotency_key: logged_header("idempotency-key"),
            cstar_version: logged_header("cstar-version"),
            user_agent: logged_header("user-agent"),
            status: None,
            fault: fault.as_ref().map(fault_name),
        });
        (sequence, fault)
    };

    let response = match fault {
        Some(FaultKind::Status {
            status,
            code,
            retry_after,
            message,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = code.unwrap_or_else(|| default_code(status.as_u16()).to_owned());
            let message = match message {
                Some(message) => message.replace(
                    "{authorization}",
                    &header_text(request.headers(), "authorization").unwrap_or_default(),
                ),
                None => format!("Injected fault: {status}"),
            };
            let mut failure = ApiFailure::new(status, &code, message);
            if matches!(status.as_u16(), 429 | 503) {
                failure.retry_after = Some(retry_after.unwrap_or(1));
            }
            failure.respond(&request_id)
        }
        Some(FaultKind::Html502) => html_502(),
        Some(FaultKind::MalformedJson) => malformed_json(),
        Some(FaultKind::Reset) => match killer {
            Some(killer) => killer.kill().await,
            None => html_502(),
        },
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            serve(&state, &request_id, request, next).await
        }
        Some(FaultKind::TruncatedBody) => {
            truncate(serve(&state, &request_id, request, next).await).await
        }
        Some(FaultKind::CommitThenDrop) => {
            let response = serve(&state, &request_id, request, next).await;
            // Let the handler's work settle, then drop the answer.
            drop(response);
            match killer {
                Some(killer) => killer.kill().await,
                None => html_502(),
            }
        }
        Some(FaultKind::HiddenText) => {
            let response = serve(&state, &request_id, request, next).await;
            rewrite_strings(response, |text| text.push_str(HIDDEN_PAYLOAD), |json| json).await
        }
        Some(FaultKind::LoneSurrogate) => {
            let response = serve(&state, &request_id, request, next).await;
            // A private-use placeholder, swapped for the escape once the
            // JSON is written (serde_json cannot write a lone surrogate).
            rewrite_strings(
                response,
                |text| text.push('\u{E000}'),
                |json| json.replace('\u{E000}', "\\ud83d"),
            )
            .await
        }
        Some(FaultKind::AppendText { text }) => {
            let response = serve(&state, &request_id, request, next).await;
            rewrite_strings(response, |value| value.push_str(&text), |json| json).await
        }
        None => serve(&state, &request_id, request, next).await,
    };

    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response.headers_mut().insert("x-cstar-request-id", value);
    }
    let mut inner = state.lock();
    if let Some(entry) = inner
        .log
        .iter_mut()
        .rev()
        .find(|entry| entry.sequence == sequence)
    {
        entry.status = Some(response.status().as_u16());
    }
    response
}

/// Authenticates, charges the rate limit and runs the handler.
async fn serve(
    state: &SandboxState,
    request_id: &RequestId,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = header_text(request.headers(), "authorization");
    let caller = match authenticate(authorization.as_deref()) {
        Ok(caller) => caller,
        Err(failure) => return auth_failure(failure).respond(request_id),
    };
    let verdict = state.lock().charge(caller);
    let mut response = if verdict.exceeded {
        let wait = verdict.reset.saturating_sub(crate::time::unix_now()).max(1);
        let mut failure = ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            format!("Rate limit exceeded. Try again in {wait} seconds."),
        );
        failure.retry_after = Some(wait);
        failure.respond(request_id)
    } else {
        request.extensions_mut().insert(caller);
        request.extensions_mut().insert(request_id.clone());
        next.run(request).await
    };
    add_rate_limit_headers(response.headers_mut(), verdict);
    response
}

fn auth_failure(failure: AuthFailure) -> ApiFailure {
    match failure {
        AuthFailure::Missing => ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "authentication_required",
            "Authorization header missing or malformed. Send 'Authorization: Bearer <api key>'.",
        ),
        AuthFailure::BadFormat => ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "invalid_key_format",
            "API keys start with sk_live_, sk_test_, pk_live_ or pk_test_.",
        ),
        AuthFailure::Unknown => ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Invalid or expired API key.",
        ),
    }
}

fn add_rate_limit_headers(headers: &mut HeaderMap, verdict: RateLimitVerdict) {
    for (name, value) in [
        ("x-ratelimit-limit", verdict.limit),
        ("x-ratelimit-remaining", verdict.remaining),
        ("x-ratelimit-reset", verdict.reset),
        ("x-ratelimit-window", verdict.window_seconds),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

fn html_502() -> Response {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let mut response = (StatusCode::BAD_GATEWAY, page).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

fn malformed_json() -> Response {
    let mut response = (StatusCode::OK, r#"{"success":true,"data":{"id":"tkt_"#).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Sends the real headers and a Content-Length for the whole body, then
/// half of the body, then breaks the connection.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let cut = CutShort {
        full_length: bytes.len() as u64,
        half: Some(bytes.slice(..bytes.len() / 2)),
    };
    Response::from_parts(parts, Body::new(cut))
}

/// A body that announces its full length but ends with an error half way.
struct CutShort {
    full_length: u64,
    half: Option<Bytes>,
}

impl http_body::Body for CutShort {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.half.take() {
            Some(half) => Ok(Frame::data(half)),
            None => Err(std::io::Error::other("body cut short by a sandbox fault")),
        }))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.full_length)
    }
}

/// Invisible to a person, readable by a model: zero-width space, a bidi
/// override, tag characters spelling "IGNORE", a variation-selector run,
/// the Arabic letter mark and a bidi isolate.
const HIDDEN_PAYLOAD: &str = "\u{200B}\u{202E}\u{E0049}\u{E0047}\u{E004E}\u{E004F}\u{E0052}\u{E0045}\u{FE0F}\u{FE0F}\u{E0100}\u{061C}\u{2066}";

/// The answer with `change` applied to every string value of its JSON body
/// (keys and ids stay: people write text, not ids), and `finish` to the
/// JSON text written from it.
async fn rewrite_strings(
    response: Response,
    change: impl Fn(&mut String) + Copy,
    finish: impl FnOnce(String) -> String,
) -> Response {
    fn walk(value: &mut serde_json::Value, change: impl Fn(&mut String) + Copy) {
        match value {
            serde_json::Value::String(text) => change(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, change)),
            serde_json::Value::Object(map) => map
                .iter_mut()
                .filter(|(key, _)| !is_id(key))
                .for_each(|(_, v)| walk(v, change)),
            _ => {}
        }
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    walk(&mut json, change);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(finish(json.to_string())))
}

fn is_id(key: &str) -> bool {
    key == "id" || key.ends_with("Id") || key.ends_with("_id")
}

fn fault_name(kind: &FaultKind) -> String {
    match kind {
        FaultKind::Status { status, .. } => format!("status {status}"),
        FaultKind::Html502 => "html_502".into(),
        FaultKind::Delay { ms } => format!("delay {ms}ms"),
        FaultKind::MalformedJson => "malformed_json".into(),
        FaultKind::TruncatedBody => "truncated_body".into(),
        FaultKind::Reset => "reset".into(),
        FaultKind::CommitThenDrop => "commit_then_drop".into(),
        FaultKind::HiddenText => "hidden_text".into(),
        FaultKind::LoneSurrogate => "lone_surrogate".into(),
        FaultKind::AppendText { .. } => "append_text".into(),
    }
}

/// The most bytes of one text the request log keeps: 10,000 entries of
/// whatever a caller sends would otherwise hold gigabytes.
const MAX_LOGGED_BYTES: usize = 2_048;

/// `text` as the request log keeps it: whole, or cut to fit
/// `MAX_LOGGED_BYTES` with a closing `…`.
fn logged(text: &str) -> String {
    if text.len() <= MAX_LOGGED_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_LOGGED_BYTES - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
