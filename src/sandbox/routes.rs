//! The emulated cStar endpoints under `/api/v1`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::call::Call;
use super::dataset::{ArticleFilter, CustomerFilter, TicketFilter};
use super::draft::ticket_draft;
use super::event_data;
use super::params::{
    ARTICLE_STATUSES, CUSTOMER_STATUSES, PRIORITIES, SENTIMENTS, TICKET_STATUSES, bool_param,
    enum_param, paging, text_param,
};
use super::state::StoredAnswer;
use super::wire::{self, ApiFailure, RequestId};
use crate::limits::{MAX_ID, MAX_IDEMPOTENCY_KEY, MAX_SEARCH, MAX_SHORT, exceeds};
use crate::time::{iso8601, unix_now};

type Params = Query<HashMap<String, String>>;
type Team = Path<String>;
type TeamAnd = Path<(String, String)>;

pub async fn whoami(call: Call) -> Response {
    let key = call.caller.key;
    let (name, slug) = call.read(|data| (data.team_name.clone(), data.team_slug.clone()));
    call.object(
        StatusCode::OK,
        json!({
            "teamId": key.team.id,
            "teamName": name,
            "teamSlug": slug,
            "keyType": key.key_type.as_str(),
            "environment": key.environment.as_str(),
            // Not cStar's: tells a sandbox user where events are forwarded.
            "sandbox": { "forwarding": call.state.forwards.iter()
                .map(|f| json!({ "url": f.url, "signingSecret": f.secret }))
                .collect::<Vec<_>>() },
        }),
    )
}

pub async fn list_tickets(call: Call, Path(team): Team, Query(params): Params) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        let (page, page_size) = paging(&params)?;
        let filter = TicketFilter {
            status: enum_param(&params, "status", &TICKET_STATUSES)?,
            priority: enum_param(&params, "priority", &PRIORITIES)?,
            customer: text_param(&params, "customerId", MAX_ID)?,
            assigned_to: text_param(&params, "assignedTo", MAX_ID)?,
            search: text_param(&params, "search", MAX_SEARCH)?,
            tag: text_param(&params, "tag", MAX_SHORT)?,
        };
        Ok(call.read(|data| call.page(&data.tickets_matching(&filter), page, page_size)))
    })())
}

pub async fn get_ticket(call: Call, Path((team, ticket_id)): TeamAnd) -> Response {
    call.finish(call.in_team(&team).and_then(|()| {
        call.read(|data| {
            let ticket = data
                .ticket(&ticket_id)
                .ok_or_else(|| ApiFailure::not_found("Ticket"))?;
            let mut value = serde_json::to_value(ticket).unwrap_or(Value::Null);
            value["messages"] = serde_json::to_value(data.thread(ticket)).unwrap_or(Value::Null);
            Ok(call.object(StatusCode::OK, value))
        })
    }))
}

pub async fn list_messages(call: Call, Path((team, ticket_id)): TeamAnd) -> Response {
    call.finish(call.in_team(&team).and_then(|()| {
        call.read(|data| {
            let ticket = data
                .ticket(&ticket_id)
                .ok_or_else(|| ApiFailure::not_found("Ticket"))?;
            Ok(call.list(data.thread(ticket)))
        })
    }))
}

/// Creates a ticket. With an `Idempotency-Key` (scoped to the API key, at
/// most `MAX_IDEMPOTENCY_KEY` characters), the same key and body replay the
/// first answer, and another body is a 409.
pub async fn create_ticket(
    call: Call,
    Path(team): Team,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The answer, and the new ticket's event data (none for a replay).
    let outcome = (|| {
        call.in_team(&team)?;
        call.require_secret(true)?;
        if idempotency_key
            .as_deref()
            .is_some_and(|key| exceeds(key, MAX_IDEMPOTENCY_KEY))
        {
            return Err(ApiFailure::invalid(
                "Idempotency-Key",
                format!("An Idempotency-Key is at most {MAX_IDEMPOTENCY_KEY} characters."),
            ));
        }
        let key = call.caller.key;
        let scope = idempotency_key.map(|idempotency_key| (key.key, idempotency_key));
        let mut inner = call.state.lock();
        if let Some(stored) = scope
            .as_ref()
            .and_then(|scope| inner.idempotency.get(scope))
        {
            if stored.fingerprint != body.as_ref() {
                return Err(ApiFailure::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used with a different request body.",
                ));
            }
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
            return Ok((wire::json_response(status, &stored.body), None));
        }
        let no_data = || {
            ApiFailure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "No data set",
            )
        };
        let dataset = inner
            .environments
            .get_mut(&(key.team, key.environment))
            .ok_or_else(no_data)?;
        let draft = ticket_draft(&body, dataset)?;
        let ticket =
            dataset.create_ticket(draft, uuid::Uuid::new_v4().as_u128(), iso8601(unix_now()));
        let answer = wire::object_body(&call.request_id, &ticket);
        let event = event_data::ticket(&ticket, dataset);
        if let Some(scope) = scope {
            let stored = StoredAnswer {
                fingerprint: body.to_vec(),
                status: StatusCode::CREATED.as_u16(),
                body: answer.clone(),
            };
            inner.store_answer(scope, stored);
        }
        Ok((
            wire::json_response(StatusCode::CREATED, &answer),
            Some(event),
        ))
    })();
    match outcome {
        Ok((response, event)) => {
            if let Some(data) = event {
                call.emit("ticket.created", data);
            }
            response
        }
        Err(failure) => call.finish(Err(failure)),
    }
}

pub async fn list_customers(call: Call, Path(team): Team, Query(params): Params) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        let (page, page_size) = paging(&params)?;
        // The two documented sentiment vocabularies map onto the stored one.
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
            search: text_param(&params, "search", MAX_SEARCH)?,
            tag: text_param(&params, "tag", MAX_SHORT)?,
        };
        Ok(call.read(|data| call.page(&data.customers_matching(&filter), page, page_size)))
    })())
}

pub async fn get_customer(call: Call, Path((team, customer_id)): TeamAnd) -> Response {
    call.finish(call.in_team(&team).and_then(|()| {
        call.read(|data| {
            let customer = data
                .customer(&customer_id)
                .ok_or_else(|| ApiFailure::not_found("Customer"))?;
            Ok(call.object(StatusCode::OK, customer))
        })
    }))
}

/// One article with its full body, by `art_` id or UUID.
pub async fn get_article(call: Call, Path((team, article_id)): TeamAnd) -> Response {
    let wanted = article_id
        .trim_start_matches("art_")
        .replace('-', "")
        .to_ascii_lowercase();
    call.finish(call.in_team(&team).and_then(|()| {
        call.read(|data| {
            let article = data
                .articles
                .iter()
                .find(|a| a.id.trim_start_matches("art_") == wanted)
                .ok_or_else(|| ApiFailure::not_found("Article"))?;
            Ok(call.object(StatusCode::OK, article))
        })
    }))
}

pub async fn list_articles(call: Call, Path(team): Team, Query(params): Params) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        let (page, page_size) = paging(&params)?;
        let filter = ArticleFilter {
            status: enum_param(&params, "status", &ARTICLE_STATUSES)?,
            category: text_param(&params, "category", MAX_SHORT)?,
            is_public: bool_param(&params, "isPublic")?,
            search: text_param(&params, "search", MAX_SEARCH)?,
            tag: text_param(&params, "tag", MAX_SHORT)?,
        };
        Ok(call.read(|data| call.page(&data.articles_matching(&filter), page, page_size)))
    })())
}

/// Categories in pages, with `meta.pagination` as the categories page
/// documents.
pub async fn list_categories(call: Call, Path(team): Team, Query(params): Params) -> Response {
    call.finish((|| {
        call.in_team(&team)?;
        let (page, page_size) = paging(&params)?;
        let is_public = bool_param(&params, "isPublic")?;
        Ok(call.read(|data| {
            let categories: Vec<_> = data
                .categories
                .iter()
                .filter(|c| is_public.is_none_or(|p| c.is_public == p))
                .collect();
            call.page(&categories, page, page_size)
        }))
    })())
}

pub async fn unknown_route(axum::Extension(request_id): axum::Extension<RequestId>) -> Response {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        "resource_missing",
        "No such endpoint.",
    )
    .respond(&request_id)
}
