//! The control API under `/_sandbox/`, for tests and integrators: queue
//! faults, shrink the rate limit, reset the data (or switch between the
//! demo and hostile data), read the request log, read webhook deliveries
//! and set their retry schedule.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultRule;
use super::seed_data::SeedData;
use super::state::SandboxState;

/// `POST /_sandbox/faults`: one rule or an array of rules.
pub async fn add_faults(
    State(state): State<Arc<SandboxState>>,
    body: axum::body::Bytes,
) -> Response {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<FaultRule>),
        One(FaultRule),
    }
    let rules = match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(OneOrMany::Many(rules)) => rules,
        Ok(OneOrMany::One(rule)) => vec![rule],
        Err(error) => {
            let message = format!(
                "Expected a fault rule such as {{\"method\":\"GET\",\"path\":\"/api/v1/teams/*/tickets\",\"times\":2,\"fault\":\"status\",\"status\":503}}: {error}"
            );
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response();
        }
    };
    let mut inner = state.lock();
    inner.faults.extend(rules);
    Json(json!({ "faults": inner.faults })).into_response()
}

/// `GET /_sandbox/faults`: the rules still queued.
pub async fn list_faults(State(state): State<Arc<SandboxState>>) -> Response {
    Json(json!({ "faults": state.lock().faults })).into_response()
}

/// `DELETE /_sandbox/faults`: drops every queued rule.
pub async fn clear_faults(State(state): State<Arc<SandboxState>>) -> Response {
    state.lock().faults.clear();
    Json(json!({ "faults": [] })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitBody {
    limit: Option<u64>,
    window_seconds: Option<u64>,
}

/// `POST /_sandbox/rate-limit`: `{ "limit": 5, "windowSeconds": 60 }`;
/// `{}` restores cStar's limits. Every window starts afresh.
pub async fn set_rate_limit(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<RateLimitBody>,
) -> Response {
    let mut inner = state.lock();
    inner.rate_limit.limit = body.limit;
    inner.rate_limit.window_seconds = body.window_seconds;
    inner.clear_windows();
    Json(json!({ "limit": body.limit, "windowSeconds": body.window_seconds })).into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    data: Option<SeedData>,
}

/// `POST /_sandbox/reset`: seed data back, faults, log, limits, stored
/// idempotent answers, deliveries and the delivery schedule cleared. With
/// `{ "data": "hostile" }` (or `"demo"`) the data switches to that set;
/// without a body, or with `{}`, it stays the set in use. Answers
/// `{ "reset": true, "data": "<the set now served>" }`.
pub async fn reset(State(state): State<Arc<SandboxState>>, body: axum::body::Bytes) -> Response {
    let parsed = match body.iter().all(u8::is_ascii_whitespace) {
        true => Ok(ResetBody::default()),
        false => serde_json::from_slice::<ResetBody>(&body),
    };
    match parsed {
        Ok(ResetBody { data }) => {
            let data = state.reset(data);
            Json(json!({ "reset": true, "data": data })).into_response()
        }
        Err(error) => {
            let message = format!("Expected {{}} or {{\"data\":\"demo\"|\"hostile\"}}: {error}");
            (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
        }
    }
}

/// `GET /_sandbox/requests`: the request log, oldest first (the last
/// 10,000). It never holds the API key.
pub async fn requests(State(state): State<Arc<SandboxState>>) -> Response {
    Json(json!({ "requests": state.lock().log })).into_response()
}

/// `GET /_sandbox/deliveries`: every webhook delivery attempt, oldest first
/// (the last 10,000): event, webhook, URL, attempt, status or error, time.
/// Never the signing secret.
pub async fn deliveries(State(state): State<Arc<SandboxState>>) -> Response {
    Json(json!({
        "deliveries": state.deliverer.records(),
        "forwarding": state.forwards.iter().map(|f| json!({ "url": f.url, "webhookId": f.webhook_id })).collect::<Vec<_>>(),
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleBody {
    retry_delays_ms: Option<Vec<u64>>,
    response_budget_ms: Option<u64>,
}

/// `GET /_sandbox/webhook-schedule`: the retry delays and response budget.
pub async fn schedule(State(state): State<Arc<SandboxState>>) -> Response {
    Json(state.deliverer.schedule()).into_response()
}

/// `POST /_sandbox/webhook-schedule`: `{ "retryDelaysMs": [100, 200],
/// "responseBudgetMs": 500 }`; either may be left out. At most 10 retries.
pub async fn set_schedule(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<ScheduleBody>,
) -> Response {
    let mut schedule = state.deliverer.schedule();
    if let Some(delays) = body.retry_delays_ms {
        if delays.len() > 10 {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": "at most 10 retry delays" })),
            )
                .into_response();
        }
        schedule.retry_delays = delays.into_iter().map(Duration::from_millis).collect();
    }
    if let Some(budget) = body.response_budget_ms {
        schedule.response_budget = Duration::from_millis(budget.max(1));
    }
    state.deliverer.set_schedule(schedule.clone());
    Json(schedule).into_response()
}
