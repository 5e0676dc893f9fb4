//! The webhook endpoints: create, list, read, update and delete webhooks
//! (the signing secret is returned by create only), `trigger-test`, and
//! `Call::emit`, which turns a write into a delivered event.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::call::Call;
use super::delivery::{DeliveryRecord, Endpoint, Event};
use super::draft::json_object;
use super::event_data;
use super::records::WebhookRecord;
use super::wire::ApiFailure;
use crate::events;
use crate::limits::{MAX_SHORT, MAX_URL, MAX_WEBHOOK_EVENTS, QUOTED, exceeds, quote};
use crate::time::{iso8601, unix_now};

/// How long `trigger-test` waits for first attempts before answering.
const TRIGGER_WAIT: Duration = Duration::from_secs(3);

type Team = Path<String>;
type TeamAnd = Path<(String, String)>;

impl Call {
    /// Delivers `event_type` with `data` to the caller's subscribed
    /// endpoints, in the background. The receivers give each endpoint's
    /// first attempt.
    pub fn emit(&self, event_type: &str, data: Value) -> Emitted {
        let endpoints: Vec<Endpoint> = self.read(|dataset| {
            dataset
                .webhooks
                .iter()
                .filter(|hook| hook.is_active && hook.subscribed_to(event_type))
                .map(|hook| Endpoint {
                    webhook_id: hook.id.clone(),
                    url: hook.url.clone(),
                    secret: hook.secret.clone(),
                })
                .collect()
        });
        let team = self.caller.key.team.id;
        let event = Event::new(event_type, team, data, &self.request_id.0);
        Emitted {
            event_id: event.id.clone(),
            first_attempts: self.state.deliverer.dispatch(event, endpoints),
        }
    }
}

/// An event on its way.
pub struct Emitted {
    pub event_id: String,
    /// Each endpoint's first attempt, when done.
    pub first_attempts: Vec<tokio::sync::oneshot::Receiver<DeliveryRecord>>,
}

pub async fn list_webhooks(call: Call, Path(team): Team) -> Response {
    call.finish(
        call.in_team(&team)
            .and_then(|()| call.require_secret(false))
            .map(|()| call.read(|data| call.list(&data.webhooks))),
    )
}

pub async fn get_webhook(call: Call, Path((team, id)): TeamAnd) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        call.require_secret(false)?;
        call.read(|data| data.webhooks.iter().find(|w| w.id == id).cloned())
            .map(|hook| call.object(StatusCode::OK, hook))
            .ok_or_else(|| ApiFailure::not_found("Webhook"))
    })())
}

/// `POST /webhooks`: `{ url, events, name?, isActive? }`; answers 201 with
/// the webhook and, this once, its `secret`.
pub async fn create_webhook(call: Call, Path(team): Team, body: Bytes) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        call.require_secret(true)?;
        let mut fields = json_object(&body)?;
        let url = required_text(&mut fields, "url", MAX_URL)?;
        check_url(&url)?;
        let events = match fields.remove("events") {
            None | Some(Value::Null) => {
                return Err(ApiFailure::new(
                    StatusCode::BAD_REQUEST,
                    "parameter_missing",
                    "The 'events' field is required: a list of event types, 'ticket.*' or '*'.",
                )
                .with_param("events"));
            }
            Some(events) => event_list(events)?,
        };
        let now = iso8601(unix_now());
        let secret = format!("whsec_{}", uuid::Uuid::new_v4().simple());
        let hook = WebhookRecord {
            id: format!("whk_{}", uuid::Uuid::new_v4().simple()),
            name: optional_text(&mut fields, "name", MAX_SHORT)?.unwrap_or_else(|| url.clone()),
            url,
            events,
            is_active: optional_bool(&mut fields, "isActive")?.unwrap_or(true),
            secret: secret.clone(),
            created_at: now.clone(),
            updated_at: now,
        };
        if !crate::loopback::is_loopback(&hook.url) {
            tracing::warn!(url = %hook.url, "webhook created; the sandbox delivers only to loopback URLs");
        }
        let mut answer = serde_json::to_value(&hook).unwrap_or_default();
        answer["secret"] = Value::String(secret);
        call.write(|data| data.webhooks.push(hook))?;
        Ok(call.object(StatusCode::CREATED, answer))
    })())
}

/// `PATCH /webhooks/{id}`: any of `url`, `events`, `name`, `isActive`.
pub async fn update_webhook(call: Call, Path((team, id)): TeamAnd, body: Bytes) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        call.require_secret(true)?;
        let mut fields = json_object(&body)?;
        let url = optional_text(&mut fields, "url", MAX_URL)?;
        if let Some(url) = &url {
            check_url(url)?;
        }
        let events = match fields.remove("events") {
            None | Some(Value::Null) => None,
            Some(events) => Some(event_list(events)?),
        };
        let name = optional_text(&mut fields, "name", MAX_SHORT)?;
        let is_active = optional_bool(&mut fields, "isActive")?;
        let updated = call.write(|data| {
            let hook = data.webhooks.iter_mut().find(|w| w.id == id)?;
            if let Some(url) = url {
                hook.url = url;
            }
            if let Some(events) = events {
                hook.events = events;
            }
            if let Some(name) = name {
                hook.name = name;
            }
            if let Some(is_active) = is_active {
                hook.is_active = is_active;
            }
            hook.updated_at = iso8601(unix_now());
            Some(hook.clone())
        })?;
        updated
            .map(|hook| call.object(StatusCode::OK, hook))
            .ok_or_else(|| ApiFailure::not_found("Webhook"))
    })())
}

pub async fn delete_webhook(call: Call, Path((team, id)): TeamAnd) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        call.require_secret(true)?;
        let removed = call.write(|data| {
            let before = data.webhooks.len();
            data.webhooks.retain(|w| w.id != id);
            data.webhooks.len() < before
        })?;
        match removed {
            true => Ok(call.object(StatusCode::OK, json!({ "deleted": true, "id": id }))),
            false => Err(ApiFailure::not_found("Webhook")),
        }
    })())
}

/// Fires a realistic event of the asked type at every active webhook
/// subscribed to it, waits briefly for the first attempts, and says how
/// many accepted it (`deliveredTo`: a 2xx answer, the only answer that is
/// not retried) and how each endpoint answered (`deliveries`, a sandbox
/// addition to cStar's `{ event, deliveredTo }`).
pub async fn trigger_test(call: Call, Path(team): Team, body: Bytes) -> Response {
    let event = match (|| {
        call.in_team(&team)?;
        call.require_secret(true)?;
        match json_object(&body)?.remove("event") {
            None | Some(Value::Null) => Err(ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "parameter_missing",
                "The 'event' field is required.",
            )
            .with_param("event")),
            Some(Value::String(event)) if events::find(&event).is_some() => Ok(event),
            Some(other) => Err(ApiFailure::invalid(
                "event",
                format!(
                    "Unknown event type '{}'. See the webhook event catalogue.",
                    quote_value(&other)
                ),
            )),
        }
    })() {
        Ok(event) => event,
        Err(failure) => return call.finish(Err(failure)),
    };
    let team = call.caller.key.team;
    let data =
        call.read(|dataset| event_data::synthetic(&event, dataset, &team, &iso8601(unix_now())));
    let emitted = call.emit(&event, data);
    let attempts = wait_for_first_attempts(emitted.first_attempts).await;
    let delivered_to = attempts
        .iter()
        .flatten()
        .filter(|attempt| attempt.succeeded())
        .count();
    let deliveries: Vec<Value> = attempts.into_iter().map(first_attempt).collect();
    call.finish(Ok(call.object(
        StatusCode::OK,
        json!({
            "event": event,
            "eventId": emitted.event_id,
            "deliveredTo": delivered_to,
            "environment": call.caller.key.environment.as_str(),
            "deliveries": deliveries,
        }),
    )))
}

/// Each endpoint's first attempt, or `None` for one still going when
/// `TRIGGER_WAIT` is over.
async fn wait_for_first_attempts(
    receivers: Vec<tokio::sync::oneshot::Receiver<DeliveryRecord>>,
) -> Vec<Option<DeliveryRecord>> {
    let deadline = tokio::time::Instant::now() + TRIGGER_WAIT;
    let mut records = Vec::with_capacity(receivers.len());
    for receiver in receivers {
        records.push(
            tokio::time::timeout_at(deadline, receiver)
                .await
                .ok()
                .and_then(Result::ok),
        );
    }
    records
}

fn first_attempt(record: Option<DeliveryRecord>) -> Value {
    match record {
        Some(record) => {
            let mut value = json!({ "webhookId": record.webhook_id, "url": record.url,
                "attempt": record.attempt, "durationMs": record.duration_ms });
            if let Some(status) = record.status {
                value["status"] = json!(status);
            }
            if let Some(error) = record.error {
                value["error"] = json!(error);
            }
            value
        }
        None => json!({ "pending": true }),
    }
}

fn required_text(
    fields: &mut Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<String, ApiFailure> {
    optional_text(fields, name, max)?.ok_or_else(|| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "parameter_missing",
            format!("The '{name}' field is required."),
        )
        .with_param(name)
    })
}

/// A text field, trimmed, of 1 to `max` characters.
fn optional_text(
    fields: &mut Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiFailure> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() && !exceeds(text.trim(), max) => {
            Ok(Some(text.trim().to_owned()))
        }
        Some(_) => Err(ApiFailure::invalid(
            name,
            format!("'{name}' must be a non-empty string of at most {max} characters."),
        )),
    }
}

fn optional_bool(fields: &mut Map<String, Value>, name: &str) -> Result<Option<bool>, ApiFailure> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(flag)),
        Some(_) => Err(ApiFailure::invalid(
            name,
            format!("'{name}' must be true or false."),
        )),
    }
}

/// An http(s) URL; its length was checked as it was read.
pub fn check_url(url: &str) -> Result<(), ApiFailure> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(ApiFailure::invalid(
            "url",
            format!("'url' must be an http(s) URL of at most {MAX_URL} characters."),
        )),
    }
}

/// A short prefix of any JSON value, for an error message.
fn quote_value(value: &Value) -> String {
    match value {
        Value::String(text) => quote(text, QUOTED),
        other => quote(&other.to_string(), QUOTED),
    }
}

/// At most `MAX_WEBHOOK_EVENTS` event types, `resource.*` or `*`, each
/// known to the catalogue.
fn event_list(value: Value) -> Result<Vec<String>, ApiFailure> {
    let invalid = || {
        ApiFailure::invalid(
            "events",
            format!(
                "'events' must be a non-empty list of at most {MAX_WEBHOOK_EVENTS} event types from the catalogue, 'resource.*' or '*'."
            ),
        )
    };
    let Value::Array(items) = value else {
        return Err(invalid());
    };
    if items.len() > MAX_WEBHOOK_EVENTS {
        return Err(invalid());
    }
    let mut events = Vec::new();
    for item in items {
        let Value::String(pattern) = item else {
            return Err(invalid());
        };
        let known = pattern == "*"
            || match pattern.strip_suffix(".*") {
                Some(resource) => events::CATALOGUE
                    .iter()
                    .any(|event| event.name.split('.').next() == Some(resource)),
                None => events::find(&pattern).is_some(),
            };
        if !known {
            return Err(invalid());
        }
        events.push(pattern);
    }
    if events.is_empty() {
        return Err(invalid());
    }
    Ok(events)
}
