//! Decoding cStar's response bodies, in every documented shape.
//!
//! Success: `{ success, data, meta }` (current), `{ data }` (older docs);
//! list pagination at top level or in `meta.pagination`, with or without
//! `hasMore`. Errors: `{ error: { type, code, message, param, request_id,
//! retryAfter } }` (current, Stripe-style), `{ error: { code, message,
//! retryAfter } }` (older), `{ error: "text" }` (oldest), or no JSON at all
//! (a proxy's HTML page).

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::StatusError;
use super::models::Page;

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
    #[serde(default)]
    pagination: Option<Pagination>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default, rename = "requestId", alias = "request_id")]
    request_id: Option<String>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize, Clone, Copy)]
struct Pagination {
    #[serde(default)]
    page: Option<u32>,
    #[serde(default, rename = "pageSize", alias = "page_size")]
    page_size: Option<u32>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default, rename = "hasMore", alias = "has_more")]
    has_more: Option<bool>,
}

/// Decodes a single-object response.
pub fn decode_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let envelope: Envelope<T> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(envelope.data)
}

/// Decodes a list response whose `data` is an array, with pagination when
/// cStar sent it.
pub fn decode_list<T: DeserializeOwned>(body: &[u8]) -> Result<Page<T>, String> {
    let envelope: Envelope<Vec<T>> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let pagination = envelope
        .pagination
        .or_else(|| envelope.meta.and_then(|meta| meta.pagination));
    let items = envelope.data;
    let count = items.len() as u64;
    let page = pagination.and_then(|p| p.page).unwrap_or(1).max(1);
    let given_page_size = pagination.and_then(|p| p.page_size);
    let page_size = given_page_size.unwrap_or(count.max(1) as u32).max(1);
    let total = pagination.and_then(|p| p.total).unwrap_or(count);
    // Without the flag or the page size, an empty page is the end.
    let has_more = pagination.and_then(|p| p.has_more).unwrap_or(
        (count > 0 || given_page_size.is_some()) && u64::from(page) * u64::from(page_size) < total,
    );
    Ok(Page {
        items,
        page,
        page_size,
        total,
        has_more,
    })
}

/// Decodes an error response. Never fails: an unreadable body still gives a
/// `StatusError` that says what status came back.
pub fn decode_error(
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
    header_retry_after: Option<Duration>,
) -> StatusError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let field = |name: &str| -> Option<String> {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let message = match error {
        Some(Value::String(text)) => Some(text.clone()),
        _ => field("message"),
    }
    .or_else(|| {
        parsed
            .as_ref()
            .and_then(|value| value.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .filter(|text| !text.trim().is_empty())
    .unwrap_or_else(|| default_message(status, parsed.is_some()));
    let body_request_id = field("request_id").or_else(|| {
        parsed
            .as_ref()
            .and_then(|value| value.pointer("/meta/requestId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let body_retry_after = error
        .and_then(|e| e.get("retryAfter").or_else(|| e.get("retry_after")))
        .and_then(Value::as_u64)
        .map(Duration::from_secs);
    StatusError {
        status,
        error_type: field("type"),
        code: field("code").map(|code| code.to_ascii_lowercase()),
        message,
        param: field("param").or_else(|| field("field")),
        request_id: body_request_id.or(header_request_id),
        retry_after: header_retry_after.or(body_retry_after),
        attempts: 1,
    }
}

/// The request id of a success body, if it names one.
pub fn request_id_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct MetaOnly {
        meta: Option<Meta>,
    }
    serde_json::from_slice::<MetaOnly>(body)
        .ok()?
        .meta?
        .request_id
}

fn default_message(status: u16, was_json: bool) -> String {
    let what = match status {
        400 | 422 => "the request was invalid",
        401 => "the API key was not accepted",
        403 => "the API key is not allowed to do this",
        404 => "not found",
        409 => "conflict",
        429 => "rate limit exceeded",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        500..=599 => "server error",
        _ => "unexpected status",
    };
    if was_json {
        what.to_owned()
    } else {
        format!("{what} (the response was not JSON)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::{Customer, Ticket};

    #[test]
    fn list_with_top_level_pagination() {
        let body = br#"{"success":true,"data":[{"id":"tkt_1","object":"ticket","title":"A","status":"open","priority":"high"}],
            "pagination":{"page":1,"pageSize":20,"total":42,"totalPages":3,"hasMore":true},
            "meta":{"requestId":"req_1","timestamp":"2026-03-30T10:31:00Z"}}"#;
        let page: Page<Ticket> = decode_list(body).unwrap();
        assert_eq!(
            (page.page, page.page_size, page.total, page.has_more),
            (1, 20, 42, true)
        );
        assert_eq!(
            page.items[0].extra.get("object"),
            Some(&Value::from("ticket"))
        );
    }

    #[test]
    fn an_empty_page_without_page_size_is_the_end() {
        let body = br#"{"success":true,"data":[],"pagination":{"page":5,"total":42}}"#;
        let page = decode_list::<Ticket>(body).unwrap();
        assert!(!page.has_more);
        assert_eq!(page.total, 42);
    }

    #[test]
    fn list_with_meta_pagination_and_computed_has_more() {
        let body = br#"{"success":true,"data":[],"meta":{"requestId":"r","pagination":{"page":2,"pageSize":20,"total":42,"totalPages":3}}}"#;
        let page: Page<Ticket> = decode_list(body).unwrap();
        assert_eq!((page.page, page.total, page.has_more), (2, 42, true));
        let body = br#"{"success":true,"data":[],"meta":{"pagination":{"page":3,"pageSize":20,"total":42}}}"#;
        assert!(!decode_list::<Ticket>(body).unwrap().has_more);
    }

    #[test]
    fn list_without_pagination_describes_itself() {
        let body = br#"{"success":true,"data":[{"id":"c","name":"n"},{"id":"d","name":"m"}]}"#;
        let page: Page<Customer> = decode_list(body).unwrap();
        assert_eq!(
            (page.page, page.page_size, page.total, page.has_more),
            (1, 2, 2, false)
        );
    }

    #[test]
    fn older_snake_case_objects() {
        let body = br#"{"data":{"id":"550e8400-e29b-41d4-a716-446655440000","title":"Old","status":"open","priority":"critical",
            "customer_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","message_count":3,"created_at":"2025-11-01T00:00:00Z","resolved_at":null}}"#;
        let ticket: Ticket = decode_object(body).unwrap();
        assert_eq!(
            ticket.customer_id.as_deref(),
            Some("7c9e6679-7425-40de-944b-e07fc1f90ae7")
        );
        assert_eq!(ticket.message_count, Some(3));
        assert_eq!(ticket.priority, "critical");
    }

    #[test]
    fn both_sentiment_vocabularies() {
        for sentiment in ["positive", "angry", "frustrated"] {
            let body =
                format!(r#"{{"data":{{"id":"cus_1","name":"N","sentiment":"{sentiment}"}}}}"#);
            let customer: Customer = decode_object(body.as_bytes()).unwrap();
            assert_eq!(customer.sentiment.as_deref(), Some(sentiment));
        }
    }

    #[test]
    fn current_error_body() {
        let body = br#"{"success":false,"error":{"type":"invalid_request_error","code":"parameter_missing","message":"The 'title' field is required.",
            "param":"title","doc_url":"https://www.cstar.help/developers/errors#parameter_missing","request_id":"req_a1"},"meta":{"requestId":"req_a1"}}"#;
        let error = decode_error(400, body, None, None);
        assert_eq!(error.code.as_deref(), Some("parameter_missing"));
        assert_eq!(error.param.as_deref(), Some("title"));
        assert_eq!(error.request_id.as_deref(), Some("req_a1"));
        assert_eq!(error.error_type.as_deref(), Some("invalid_request_error"));
    }

    #[test]
    fn older_error_bodies() {
        let error = decode_error(
            429,
            br#"{"error":{"code":"RATE_LIMITED","message":"Slow down","retryAfter":60}}"#,
            None,
            None,
        );
        assert_eq!(error.code.as_deref(), Some("rate_limited"));
        assert_eq!(error.retry_after, Some(Duration::from_secs(60)));
        let error = decode_error(
            401,
            br#"{"success":false,"error":"Invalid API key"}"#,
            Some("req_h".into()),
            None,
        );
        assert_eq!(error.message, "Invalid API key");
        assert_eq!(error.request_id.as_deref(), Some("req_h"));
        let error = decode_error(
            404,
            br#"{"error":{"code":"RESOURCE_MISSING","message":"Ticket not found"}}"#,
            None,
            None,
        );
        assert_eq!(error.code.as_deref(), Some("resource_missing"));
    }

    #[test]
    fn header_retry_after_wins_over_body() {
        let body = br#"{"success":false,"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"m","retryAfter":42}}"#;
        let error = decode_error(429, body, None, Some(Duration::from_secs(7)));
        assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn html_error_page() {
        let error = decode_error(
            502,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            None,
            None,
        );
        assert_eq!(error.message, "bad gateway (the response was not JSON)");
        assert_eq!(error.code, None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::api::models::{Article, Customer, Ticket};
    use proptest::prelude::*;

    /// Arbitrary JSON, biased towards cStar-like envelopes.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-zA-Z_ ]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            let keys = prop_oneof![
                Just("data".to_owned()),
                Just("error".to_owned()),
                Just("meta".to_owned()),
                Just("pagination".to_owned()),
                Just("id".to_owned()),
                Just("title".to_owned()),
                Just("page".to_owned()),
                Just("total".to_owned()),
                Just("message".to_owned()),
                "[a-z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn decoders_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
            let error = decode_error(status, &bytes, None, None);
            prop_assert_eq!(error.status, status);
            prop_assert!(!error.message.is_empty());
            let _ = decode_list::<Ticket>(&bytes);
            let _ = decode_object::<Customer>(&bytes);
            let _ = request_id_of(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_json(value in json(), status in 400u16..600) {
            let bytes = serde_json::to_vec(&value).unwrap();
            let error = decode_error(status, &bytes, Some("req_h".into()), None);
            prop_assert!(error.request_id.is_some());
            prop_assert!(!error.message.is_empty());
            if let Ok(page) = decode_list::<Article>(&bytes) {
                prop_assert!(page.page >= 1 && page.page_size >= 1);
            }
            let _ = decode_object::<Ticket>(&bytes);
        }
    }
}
