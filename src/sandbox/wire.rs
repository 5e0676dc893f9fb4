//! cStar's response envelope as the sandbox writes it: `{ success, data,
//! meta }`, lists with pagination both at top level and in `meta` (all five
//! keys), and Stripe-style error bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::time::{iso8601, unix_now};

/// The request id that every answer carries.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn meta(request_id: &RequestId) -> Value {
    json!({ "requestId": request_id.0, "timestamp": iso8601(unix_now()) })
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    // serde_json's buffer writer: a third of the cost of `Display`.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `{ success: true, data, meta }` as a JSON value.
pub fn object_body(request_id: &RequestId, data: impl Serialize) -> Value {
    json!({
        "success": true,
        "data": serde_json::to_value(data).unwrap_or(Value::Null),
        "meta": meta(request_id),
    })
}

pub fn object(status: StatusCode, request_id: &RequestId, data: impl Serialize) -> Response {
    json_response(status, &object_body(request_id, data))
}

/// A list without pagination (messages, categories, webhooks).
pub fn plain_list(request_id: &RequestId, items: Vec<Value>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "success": true, "data": items, "meta": meta(request_id) }),
    )
}

/// One page of a list, with pagination in both documented places.
pub fn page(
    request_id: &RequestId,
    items: Vec<Value>,
    page: u32,
    page_size: u32,
    total: usize,
) -> Response {
    let total = total as u64;
    let page_size_wide = u64::from(page_size);
    let pagination = json!({
        "page": page,
        "pageSize": page_size,
        "total": total,
        "totalPages": total.div_ceil(page_size_wide),
        "hasMore": u64::from(page) * page_size_wide < total,
    });
    let mut meta = meta(request_id);
    meta["pagination"] = pagination.clone();
    json_response(
        StatusCode::OK,
        &json!({ "success": true, "data": items, "pagination": pagination, "meta": meta }),
    )
}

/// An error in cStar's current shape.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub param: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            status,
            code: code.to_owned(),
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        ApiFailure::new(StatusCode::BAD_REQUEST, "parameter_invalid", message).with_param(param)
    }

    pub fn not_found(what: &str) -> Self {
        ApiFailure::new(
            StatusCode::NOT_FOUND,
            "resource_missing",
            format!("{what} not found"),
        )
    }

    fn error_type(&self) -> &'static str {
        match self.status.as_u16() {
            401 | 403 => "authentication_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            500..=599 => "api_error",
            _ => "invalid_request_error",
        }
    }

    pub fn body(&self, request_id: &RequestId) -> Value {
        let mut error = json!({
            "type": self.error_type(),
            "code": self.code,
            "message": self.message,
            "doc_url": format!("https://www.cstar.help/developers/errors#{}", self.code),
            "request_id": request_id.0,
        });
        if let Some(param) = &self.param {
            error["param"] = json!(param);
        }
        if let Some(seconds) = self.retry_after {
            error["retryAfter"] = json!(seconds);
        }
        json!({ "success": false, "error": error, "meta": meta(request_id) })
    }

    pub fn respond(&self, request_id: &RequestId) -> Response {
        let mut response = json_response(self.status, &self.body(request_id));
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The usual error code for a status, for injected faults.
pub fn default_code(status: u16) -> &'static str {
    match status {
        400 | 422 => "parameter_invalid",
        401 => "invalid_api_key",
        403 => "insufficient_permissions",
        404 => "resource_missing",
        409 => "idempotency_key_reused",
        429 => "rate_limit_exceeded",
        503 => "service_unavailable",
        _ => "internal_error",
    }
}
