//! The emulated cStar endpoints under `/api/v1`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::dataset::{ArticleFilter, CustomerFilter, Dataset, TicketDraft, TicketFilter};
use super::state::{Caller, SandboxState, StoredAnswer};
use super::wire::{self, ApiFailure, RequestId};
use crate::api::secret::KeyType;
use crate::events;
use crate::time::{iso8601, unix_now, unix_now_millis};

type Params = Query<HashMap<String, String>>;
type Outcome = Result<Response, ApiFailure>;

const TICKET_STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const CUSTOMER_STATUSES: [&str; 2] = ["active", "inactive"];
const SENTIMENTS: [&str; 6] = [
    "positive",
    "neutral",
    "negative",
    "happy",
    "frustrated",
    "angry",
];
const ARTICLE_STATUSES: [&str; 3] = ["draft", "published", "archived"];
const MAX_TITLE: usize = 500;
const MAX_TEXT: usize = 50_000;

fn finish(request_id: &RequestId, outcome: Outcome) -> Response {
    outcome.unwrap_or_else(|failure| failure.respond(request_id))
}

/// The path's team must be the key's own team (by id or slug).
fn check_team(team: &str, caller: &Caller) -> Result<(), ApiFailure> {
    if team == caller.key.team.id || team == caller.key.team.slug {
        Ok(())
    } else {
        Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "team_access_denied",
            "This API key does not belong to the team in the path.",
        ))
    }
}

fn require_secret(caller: &Caller, write: bool) -> Result<(), ApiFailure> {
    match (caller.key.key_type, write) {
        (KeyType::Secret, _) => Ok(()),
        (KeyType::Publishable, true) => Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "publishable_key_write",
            "Publishable keys are read-only. Use a secret key (sk_live_ or sk_test_) for writes.",
        )),
        (KeyType::Publishable, false) => Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "insufficient_permissions",
            "Secret key required for this endpoint",
        )),
    }
}

/// Reads an optional enum filter, refusing values outside `allowed`.
fn enum_param(
    params: &HashMap<String, String>,
    name: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiFailure> {
    match params.get(name) {
        None => Ok(None),
        Some(value) if allowed.contains(&value.as_str()) => Ok(Some(value.clone())),
        Some(value) => Err(ApiFailure::invalid(
            name,
            format!(
                "Invalid value '{value}' for '{name}'. Expected one of: {}.",
                allowed.join(", ")
            ),
        )),
    }
}

fn bool_param(params: &HashMap<String, String>, name: &str) -> Result<Option<bool>, ApiFailure> {
    match params.get(name).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiFailure::invalid(
            name,
            format!("Invalid value '{other}' for '{name}'. Expected true or false."),
        )),
    }
}

fn text_param(params: &HashMap<String, String>, name: &str) -> Option<String> {
    params.get(name).filter(|v| !v.trim().is_empty()).cloned()
}

/// `page` (>= 1, default 1) and `pageSize` (clamped to 1..=100, default 20).
fn paging(params: &HashMap<String, String>) -> Result<(u32, u32), ApiFailure> {
    let page = match params.get("page") {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(page) if page >= 1 => page,
            _ => {
                return Err(ApiFailure::invalid(
                    "page",
                    format!("'page' must be an integer of at least 1, not '{raw}'."),
                ));
            }
        },
    };
    let page_size = match params.get("pageSize") {
        None => 20,
        Some(raw) => match raw.parse::<i64>() {
            Ok(size) => size.clamp(1, 100) as u32,
            Err(_) => {
                return Err(ApiFailure::invalid(
                    "pageSize",
                    format!("'pageSize' must be an integer, not '{raw}'."),
                ));
            }
        },
    };
    Ok((page, page_size))
}

fn page_of<T: serde::Serialize>(
    request_id: &RequestId,
    items: &[&T],
    page: u32,
    page_size: u32,
) -> Response {
    let start = (page as usize - 1).saturating_mul(page_size as usize);
    let values = items
        .iter()
        .skip(start)
        .take(page_size as usize)
        .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
        .collect();
    wire::page(request_id, values, page, page_size, items.len())
}

fn with_data<R>(state: &SandboxState, caller: &Caller, read: impl FnOnce(&Dataset) -> R) -> R {
    let inner = state.lock();
    match inner
        .environments
        .get(&(caller.key.team, caller.key.environment))
    {
        Some(dataset) => read(dataset),
        None => read(&super::seed::dataset(caller.key.team, 0)),
    }
}

pub async fn whoami(
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
) -> Response {
    wire::object(
        StatusCode::OK,
        &request_id,
        json!({
            "teamId": caller.key.team.id,
            "teamName": caller.key.team.name,
            "teamSlug": caller.key.team.slug,
            "keyType": caller.key.key_type.as_str(),
            "environment": caller.key.environment.as_str(),
        }),
    )
}

pub async fn list_tickets(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    Query(params): Params,
) -> Response {
    let outcome = (|| {
        check_team(&team, &caller)?;
        let (page, page_size) = paging(&params)?;
        let filter = TicketFilter {
            status: enum_param(&params, "status", &TICKET_STATUSES)?,
            priority: enum_param(&params, "priority", &PRIORITIES)?,
            customer: text_param(&params, "customerId"),
            assigned_to: text_param(&params, "assignedTo"),
            search: text_param(&params, "search"),
            tag: text_param(&params, "tag"),
        };
        Ok(with_data(&state, &caller, |data| {
            page_of(
                &request_id,
                &data.tickets_matching(&filter),
                page,
                page_size,
            )
        }))
    })();
    finish(&request_id, outcome)
}

pub async fn get_ticket(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((team, ticket_id)): Path<(String, String)>,
) -> Response {
    let outcome = check_team(&team, &caller).and_then(|()| {
        with_data(&state, &caller, |data| {
            let ticket = data
                .ticket(&ticket_id)
                .ok_or_else(|| ApiFailure::not_found("Ticket"))?;
            let mut value = serde_json::to_value(ticket).unwrap_or(Value::Null);
            value["messages"] = serde_json::to_value(data.thread(ticket)).unwrap_or(Value::Null);
            Ok(wire::object(StatusCode::OK, &request_id, value))
        })
    });
    finish(&request_id, outcome)
}

pub async fn list_messages(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((team, ticket_id)): Path<(String, String)>,
) -> Response {
    let outcome = check_team(&team, &caller).and_then(|()| {
        with_data(&state, &caller, |data| {
            let ticket = data
                .ticket(&ticket_id)
                .ok_or_else(|| ApiFailure::not_found("Ticket"))?;
            let items = data
                .thread(ticket)
                .iter()
                .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
                .collect();
            Ok(wire::plain_list(&request_id, items))
        })
    });
    finish(&request_id, outcome)
}

pub async fn create_ticket(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let outcome = (|| {
        check_team(&team, &caller)?;
        require_secret(&caller, true)?;
        let scope = idempotency_key.clone().map(|key| (caller.key.key, key));
        let mut inner = state.lock();
        if let Some(scope) = &scope
            && let Some(stored) = inner.idempotency.get(scope)
        {
            if stored.fingerprint != body.as_ref() {
                return Err(ApiFailure::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used with a different request body.",
                ));
            }
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
            return Ok(wire::json_response(status, &stored.body));
        }
        let dataset = inner
            .environments
            .get(&(caller.key.team, caller.key.environment))
            .ok_or_else(|| {
                ApiFailure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "No data set",
                )
            })?;
        let draft = ticket_draft(&body, dataset)?;
        let bits = uuid::Uuid::new_v4().as_u128();
        let dataset = inner
            .environments
            .get_mut(&(caller.key.team, caller.key.environment))
            .ok_or_else(|| {
                ApiFailure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "No data set",
                )
            })?;
        let ticket = dataset.create_ticket(draft, bits, iso8601(unix_now()));
        let answer = wire::object_body(&request_id, &ticket);
        if let Some(scope) = scope {
            inner.store_answer(
                scope,
                StoredAnswer {
                    fingerprint: body.to_vec(),
                    status: StatusCode::CREATED.as_u16(),
                    body: answer.clone(),
                },
            );
        }
        Ok(wire::json_response(StatusCode::CREATED, &answer))
    })();
    finish(&request_id, outcome)
}

/// Validates a create body the way cStar documents it.
fn ticket_draft(body: &[u8], data: &Dataset) -> Result<TicketDraft, ApiFailure> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    let object = value.as_object().ok_or_else(|| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "The request body must be a JSON object.",
        )
    })?;
    let title = match object.get("title") {
        None | Some(Value::Null) => {
            return Err(ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "parameter_missing",
                "The 'title' field is required.",
            )
            .with_param("title"));
        }
        Some(Value::String(title))
            if !title.trim().is_empty() && title.chars().count() <= MAX_TITLE =>
        {
            title.trim().to_owned()
        }
        Some(_) => {
            return Err(ApiFailure::invalid(
                "title",
                format!("'title' must be a non-empty string of at most {MAX_TITLE} characters."),
            ));
        }
    };
    let string_field = |name: &str| -> Result<Option<String>, ApiFailure> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.chars().count() <= MAX_TEXT => Ok(Some(text.clone())),
            Some(_) => Err(ApiFailure::invalid(
                name,
                format!("'{name}' must be a string of at most {MAX_TEXT} characters."),
            )),
        }
    };
    let enum_field = |name: &str, allowed: &[&str], default: &str| -> Result<String, ApiFailure> {
        match string_field(name)? {
            None => Ok(default.to_owned()),
            Some(value) if allowed.contains(&value.as_str()) => Ok(value),
            Some(value) => Err(ApiFailure::invalid(
                name,
                format!(
                    "Invalid value '{value}' for '{name}'. Expected one of: {}.",
                    allowed.join(", ")
                ),
            )),
        }
    };
    let customer = match string_field("customerId")? {
        None => None,
        Some(raw) => {
            let customer = data.customer(&raw).ok_or_else(|| {
                ApiFailure::invalid("customerId", format!("No customer with id '{raw}'."))
            })?;
            Some((customer.id.clone(), customer.name.clone()))
        }
    };
    let tags = match object.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiFailure::invalid("tags", "'tags' must be an array of strings."))?,
        Some(_) => {
            return Err(ApiFailure::invalid(
                "tags",
                "'tags' must be an array of strings.",
            ));
        }
    };
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(ApiFailure::invalid(
                "metadata",
                "'metadata' must be an object.",
            ));
        }
    };
    Ok(TicketDraft {
        title,
        priority: enum_field("priority", &PRIORITIES, "normal")?,
        status: enum_field("status", &TICKET_STATUSES, "new")?,
        customer,
        customer_name: string_field("customerName")?,
        tags,
        notes: string_field("notes")?,
        initial_message: string_field("initialMessage")?,
        metadata,
    })
}

pub async fn list_customers(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    Query(params): Params,
) -> Response {
    let outcome = (|| {
        check_team(&team, &caller)?;
        let (page, page_size) = paging(&params)?;
        let sentiment = enum_param(&params, "sentiment", &SENTIMENTS)?.map(|s| {
            match s.as_str() {
                "happy" => "positive",
                "frustrated" | "angry" => "negative",
                other => other,
            }
            .to_owned()
        });
        let filter = CustomerFilter {
            status: enum_param(&params, "status", &CUSTOMER_STATUSES)?,
            sentiment,
            search: text_param(&params, "search"),
            tag: text_param(&params, "tag"),
        };
        Ok(with_data(&state, &caller, |data| {
            page_of(
                &request_id,
                &data.customers_matching(&filter),
                page,
                page_size,
            )
        }))
    })();
    finish(&request_id, outcome)
}

pub async fn get_customer(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((team, customer_id)): Path<(String, String)>,
) -> Response {
    let outcome = check_team(&team, &caller).and_then(|()| {
        with_data(&state, &caller, |data| {
            let customer = data
                .customer(&customer_id)
                .ok_or_else(|| ApiFailure::not_found("Customer"))?;
            Ok(wire::object(StatusCode::OK, &request_id, customer))
        })
    });
    finish(&request_id, outcome)
}

pub async fn list_articles(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    Query(params): Params,
) -> Response {
    let outcome = (|| {
        check_team(&team, &caller)?;
        let (page, page_size) = paging(&params)?;
        let filter = ArticleFilter {
            status: enum_param(&params, "status", &ARTICLE_STATUSES)?,
            category: text_param(&params, "category"),
            is_public: bool_param(&params, "isPublic")?,
            search: text_param(&params, "search"),
            tag: text_param(&params, "tag"),
        };
        Ok(with_data(&state, &caller, |data| {
            page_of(
                &request_id,
                &data.articles_matching(&filter),
                page,
                page_size,
            )
        }))
    })();
    finish(&request_id, outcome)
}

pub async fn list_categories(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    Query(params): Params,
) -> Response {
    let outcome = (|| {
        check_team(&team, &caller)?;
        let is_public = bool_param(&params, "isPublic")?;
        Ok(with_data(&state, &caller, |data| {
            let items: Vec<Value> = data
                .categories
                .iter()
                .filter(|c| is_public.is_none_or(|p| c.is_public == p))
                .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
                .collect();
            let total = items.len();
            wire::page(&request_id, items, 1, total.max(1) as u32, total)
        }))
    })();
    finish(&request_id, outcome)
}

pub async fn list_webhooks(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
) -> Response {
    let outcome = check_team(&team, &caller)
        .and_then(|()| require_secret(&caller, false))
        .map(|()| {
            with_data(&state, &caller, |data| {
                let items = data
                    .webhooks
                    .iter()
                    .map(|w| serde_json::to_value(w).unwrap_or(Value::Null))
                    .collect();
                wire::plain_list(&request_id, items)
            })
        });
    finish(&request_id, outcome)
}

pub async fn trigger_test(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(team): Path<String>,
    body: Bytes,
) -> Response {
    let outcome = (|| {
        check_team(&team, &caller)?;
        require_secret(&caller, true)?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        let event = match value.get("event") {
            None | Some(Value::Null) => {
                return Err(ApiFailure::new(
                    StatusCode::BAD_REQUEST,
                    "parameter_missing",
                    "The 'event' field is required.",
                )
                .with_param("event"));
            }
            Some(Value::String(event)) if events::find(event).is_some() => event.clone(),
            Some(other) => {
                return Err(ApiFailure::invalid(
                    "event",
                    format!("Unknown event type {other}. See the webhook event catalogue."),
                ));
            }
        };
        let delivered_to = with_data(&state, &caller, |data| {
            data.webhooks
                .iter()
                .filter(|w| w.is_active && w.subscribed_to(&event))
                .count()
        });
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let event_id = format!(
            "evt_{}_{}_{suffix}",
            event.replace('.', "_"),
            unix_now_millis()
        );
        Ok(wire::object(
            StatusCode::OK,
            &request_id,
            json!({
                "event": event,
                "eventId": event_id,
                "deliveredTo": delivered_to,
                "environment": caller.key.environment.as_str(),
            }),
        ))
    })();
    finish(&request_id, outcome)
}

pub async fn unknown_route(Extension(request_id): Extension<RequestId>) -> Response {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        "resource_missing",
        "No such endpoint.",
    )
    .respond(&request_id)
}
